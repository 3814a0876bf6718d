/* msg-deadline.c: a wait bounded by two clocks and a cancellable
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-deadline-private.h"

typedef struct
{
  gboolean ready;
  gboolean timed_out;
  int      cancelled; /* atomic: set by the cancelling thread */
} Waiter;

static gboolean
pollable_ready_cb (GObject *stream,
                   gpointer user_data)
{
  ((Waiter *) user_data)->ready = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
socket_ready_cb (GSocket     *socket,
                 GIOCondition condition,
                 gpointer     user_data)
{
  ((Waiter *) user_data)->ready = TRUE;
  return G_SOURCE_REMOVE;
}

typedef struct
{
  Waiter       *waiter;
  GMainContext *context;
} CancelWake;

/* Runs in the cancelling thread. */
static void
cancelled_cb (GCancellable *cancellable,
              gpointer      user_data)
{
  CancelWake *wake = user_data;

  g_atomic_int_set (&wake->waiter->cancelled, TRUE);
  g_main_context_wakeup (wake->context);
}

static gboolean
timer_cb (gpointer user_data)
{
  ((Waiter *) user_data)->timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

static gboolean
timer_dispatch (GSource    *source,
                GSourceFunc callback,
                gpointer    user_data)
{
  return callback (user_data);
}

static GSourceFuncs timer_funcs = {
  NULL, NULL, timer_dispatch, NULL, NULL, NULL
};

/* Iterates the private context until @waiter is ready, @until (monotonic
 * µs) passes or @cancellable fires. @ready_source, when given, already has
 * its callback set to mark @waiter ready; it is consumed. */
static void
wait_on_context (GMainContext *context,
                 Waiter       *waiter,
                 GSource      *ready_source,
                 gint64        until,
                 GCancellable *cancellable)
{
  GSource   *timer = NULL;
  CancelWake wake = { waiter, context };
  gulong     cancel_handler = 0;

  if (ready_source != NULL)
    g_source_attach (ready_source, context);
  if (until != G_MAXINT64)
    {
      timer = g_source_new (&timer_funcs, sizeof (GSource));
      g_source_set_callback (timer, timer_cb, waiter, NULL);
      g_source_set_ready_time (timer, until);
      g_source_attach (timer, context);
    }
  /* A signal handler rather than g_cancellable_source_new(): on GLib 2.74
   * a GCancellableSource dropped while another thread is still inside
   * g_cancellable_cancel() is resurrected and leaked. Disconnecting waits
   * for a running handler, so @wake is never used after this returns. */
  if (cancellable != NULL)
    cancel_handler = g_cancellable_connect (cancellable, G_CALLBACK (cancelled_cb), &wake, NULL);

  while (!waiter->ready && !waiter->timed_out && !g_atomic_int_get (&waiter->cancelled))
    g_main_context_iteration (context, TRUE);

  if (ready_source != NULL)
    {
      g_source_destroy (ready_source);
      g_source_unref (ready_source);
    }
  if (timer != NULL)
    {
      g_source_destroy (timer);
      g_source_unref (timer);
    }
  if (cancellable != NULL)
    g_cancellable_disconnect (cancellable, cancel_handler);
}

/* Says whether @cancellable fired or @until passed, without waiting:
 * READY when neither did. */
MsgDeadlineResult
_msg_deadline_check (gint64        until,
                     GCancellable *cancellable)
{
  if (g_cancellable_is_cancelled (cancellable))
    return MSG_DEADLINE_CANCELLED;
  if (g_get_monotonic_time () >= until)
    return MSG_DEADLINE_TIMED_OUT;
  return MSG_DEADLINE_READY;
}

/* Waits on @context for @ready_source (consumed), the source of a pollable
 * stream, until @until (monotonic µs) or @cancellable fires. */
MsgDeadlineResult
_msg_deadline_wait_for_source (GMainContext *context,
                               GSource      *ready_source,
                               gint64        until,
                               GCancellable *cancellable)
{
  Waiter            waiter = { FALSE, FALSE, FALSE };
  MsgDeadlineResult result = _msg_deadline_check (until, cancellable);

  if (result != MSG_DEADLINE_READY)
    {
      g_source_unref (ready_source);
      return result;
    }
  g_source_set_callback (ready_source, G_SOURCE_FUNC (pollable_ready_cb), &waiter, NULL);
  wait_on_context (context, &waiter, ready_source, until, cancellable);
  if (waiter.cancelled)
    return MSG_DEADLINE_CANCELLED;
  if (waiter.ready)
    return MSG_DEADLINE_READY;
  return MSG_DEADLINE_TIMED_OUT;
}

/* Waits on @context for @condition on @socket, until @until (monotonic µs)
 * or @cancellable fires. */
MsgDeadlineResult
_msg_deadline_wait_for_socket (GMainContext *context,
                               GSocket      *socket,
                               GIOCondition  condition,
                               gint64        until,
                               GCancellable *cancellable)
{
  Waiter   waiter = { FALSE, FALSE, FALSE };
  GSource *source = g_socket_create_source (socket, condition, NULL);

  g_source_set_callback (source, G_SOURCE_FUNC (socket_ready_cb), &waiter, NULL);
  wait_on_context (context, &waiter, source, until, cancellable);
  if (waiter.ready)
    return MSG_DEADLINE_READY;
  return g_cancellable_is_cancelled (cancellable) ? MSG_DEADLINE_CANCELLED : MSG_DEADLINE_TIMED_OUT;
}

/* An asynchronous GIO operation raced against the clocks. */
struct _DeadlineOp
{
  gatomicrefcount ref_count;
  Waiter          waiter;
  GAsyncResult   *result;
  GCancellable   *cancellable; /* the operation's child cancellable */
};

DeadlineOp *
_msg_deadline_op_new (void)
{
  DeadlineOp *op = g_new0 (DeadlineOp, 1);

  g_atomic_ref_count_init (&op->ref_count);
  op->cancellable = g_cancellable_new ();
  return op;
}

DeadlineOp *
_msg_deadline_op_ref (DeadlineOp *op)
{
  g_atomic_ref_count_inc (&op->ref_count);
  return op;
}

void
_msg_deadline_op_unref (DeadlineOp *op)
{
  if (g_atomic_ref_count_dec (&op->ref_count))
    {
      g_clear_object (&op->result);
      g_object_unref (op->cancellable);
      g_free (op);
    }
}

/* The child cancellable to give the operation. */
GCancellable *
_msg_deadline_op_get_cancellable (DeadlineOp *op)
{
  return op->cancellable;
}

/* The operation's result, once the wait returned READY. */
GAsyncResult *
_msg_deadline_op_get_result (DeadlineOp *op)
{
  return op->result;
}

void
_msg_deadline_op_done_cb (GObject      *source,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  DeadlineOp *op = user_data;

  op->result = g_object_ref (result);
  op->waiter.ready = TRUE;
  _msg_deadline_op_unref (op);
}

/* Waits for @op, started on @context with _msg_deadline_op_done_cb and a
 * new reference; when a clock or the caller's cancellable wins, cancels
 * the operation, waits for it to unwind (GIO operations on the 2.74 floor
 * return promptly once cancelled) and says which one won. */
MsgDeadlineResult
_msg_deadline_wait_for_async (GMainContext *context,
                              DeadlineOp   *op,
                              gint64        until,
                              GCancellable *cancellable)
{
  if (g_cancellable_is_cancelled (cancellable) || g_get_monotonic_time () >= until)
    op->waiter.timed_out = TRUE;
  else
    wait_on_context (context, &op->waiter, NULL, until, cancellable);

  if (op->waiter.ready)
    return MSG_DEADLINE_READY;

  g_cancellable_cancel (op->cancellable);
  {
    Waiter   grace = { FALSE, FALSE, FALSE };
    gint64   grace_until = g_get_monotonic_time () + 2 * G_USEC_PER_SEC;
    GSource *timer = g_source_new (&timer_funcs, sizeof (GSource));

    /* Usually the callback comes in the next iteration; the grace timer
     * only guards against a misbehaving backend. */
    g_source_set_callback (timer, timer_cb, &grace, NULL);
    g_source_set_ready_time (timer, grace_until);
    g_source_attach (timer, context);
    while (!op->waiter.ready && !grace.timed_out)
      g_main_context_iteration (context, TRUE);
    g_source_destroy (timer);
    g_source_unref (timer);
  }

  return g_cancellable_is_cancelled (cancellable) ? MSG_DEADLINE_CANCELLED : MSG_DEADLINE_TIMED_OUT;
}
