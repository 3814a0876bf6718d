/* msg-deadline.c: a wait bounded by two clocks and a cancellable
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-deadline-private.h"

#include <errno.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/eventfd.h>
#endif

typedef struct
{
  gboolean ready;
  gboolean timed_out;
  int      cancelled; /* atomic: set by the cancelling thread */
  int     *flag;      /* (nullable) atomic: set by another thread */
} Waiter;

static gboolean
waiter_done (Waiter *waiter)
{
  return waiter->ready || waiter->timed_out || g_atomic_int_get (&waiter->cancelled) ||
         (waiter->flag != NULL && g_atomic_int_get (waiter->flag));
}

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

  while (!waiter_done (waiter))
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
  Waiter            waiter = { FALSE, FALSE, FALSE, NULL };
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
  Waiter   waiter = { FALSE, FALSE, FALSE, NULL };
  GSource *source = g_socket_create_source (socket, condition, NULL);

  g_source_set_callback (source, G_SOURCE_FUNC (socket_ready_cb), &waiter, NULL);
  wait_on_context (context, &waiter, source, until, cancellable);
  if (waiter.ready)
    return MSG_DEADLINE_READY;
  return g_cancellable_is_cancelled (cancellable) ? MSG_DEADLINE_CANCELLED : MSG_DEADLINE_TIMED_OUT;
}

/* One socket of _msg_deadline_wait_for_sockets(). */
typedef struct
{
  Waiter *waiter;
  guint   index;
  guint  *ready_index;
} SocketWake;

static gboolean
any_socket_ready_cb (GSocket     *socket,
                     GIOCondition condition,
                     gpointer     user_data)
{
  SocketWake *wake = user_data;

  if (!wake->waiter->ready)
    {
      wake->waiter->ready = TRUE;
      *wake->ready_index = wake->index;
    }
  return G_SOURCE_REMOVE;
}

/* Waits on @context for @condition on any of @sockets (its index goes to
 * @ready_index), until @until (monotonic µs) or @cancellable fires. */
MsgDeadlineResult
_msg_deadline_wait_for_sockets (GMainContext   *context,
                                GSocket *const *sockets,
                                guint           n_sockets,
                                GIOCondition    condition,
                                gint64          until,
                                GCancellable   *cancellable,
                                guint          *ready_index)
{
  Waiter      waiter = { FALSE, FALSE, FALSE, NULL };
  SocketWake *wakes = g_new (SocketWake, n_sockets);
  GSource   **sources = g_new (GSource *, n_sockets);

  for (guint i = 0; i < n_sockets; i++)
    {
      wakes[i] = (SocketWake){ &waiter, i, ready_index };
      sources[i] = g_socket_create_source (sockets[i], condition, NULL);
      g_source_set_callback (sources[i], G_SOURCE_FUNC (any_socket_ready_cb), &wakes[i], NULL);
      g_source_attach (sources[i], context);
    }
  wait_on_context (context, &waiter, NULL, until, cancellable);
  for (guint i = 0; i < n_sockets; i++)
    {
      g_source_destroy (sources[i]);
      g_source_unref (sources[i]);
    }
  g_free (sources);
  g_free (wakes);
  if (waiter.ready)
    return MSG_DEADLINE_READY;
  return g_cancellable_is_cancelled (cancellable) ? MSG_DEADLINE_CANCELLED : MSG_DEADLINE_TIMED_OUT;
}

/* Waits on @context until another thread sets *@flag (atomically, then
 * calls g_main_context_wakeup() on @context), until @until (monotonic
 * µs) or @cancellable fires. */
MsgDeadlineResult
_msg_deadline_wait_for_flag (GMainContext *context,
                             int          *flag,
                             gint64        until,
                             GCancellable *cancellable)
{
  Waiter            waiter = { FALSE, FALSE, FALSE, flag };
  MsgDeadlineResult result;

  if (g_atomic_int_get (flag))
    return MSG_DEADLINE_READY;
  result = _msg_deadline_check (until, cancellable);
  if (result != MSG_DEADLINE_READY)
    return result;
  wait_on_context (context, &waiter, NULL, until, cancellable);
  if (g_atomic_int_get (flag))
    return MSG_DEADLINE_READY;
  return g_cancellable_is_cancelled (cancellable) ? MSG_DEADLINE_CANCELLED : MSG_DEADLINE_TIMED_OUT;
}

/* The poll() path (docs/design.md, decision 19). A wait on the private
 * context costs about nine system calls more than the poll itself: GLib
 * signals the context's wake-up descriptor whenever a descriptor joins or
 * leaves its poll set, which attaching, dispatching (the source is blocked
 * and unblocked) and destroying the ready source all do. A reply that is
 * not there yet is the common case for an _async call's worker, twice a
 * message. */

/* A descriptor for _msg_deadline_poll_fd() to be woken by, or -1 where
 * there is none (the caller then waits on its context). */
int
_msg_deadline_wake_fd_new (void)
{
#ifdef __linux__
  return eventfd (0, EFD_CLOEXEC | EFD_NONBLOCK);
#else
  return -1;
#endif
}

/* Runs in the cancelling thread, or at once in the waiting one when the
 * cancellable fired already. */
static void
wake_fd_cb (GCancellable *cancellable,
            gpointer      user_data)
{
  guint64 one = 1;

  /* It cannot fail short of 2^64 - 2 unread wake-ups. */
  while (write (GPOINTER_TO_INT (user_data), &one, sizeof one) < 0 && errno == EINTR)
    ;
}

static void
drain_wake_fd (int wake_fd)
{
  guint64 count;

  while (read (wake_fd, &count, sizeof count) < 0 && errno == EINTR)
    ;
}

/* Waits with poll() for @condition on the descriptor @fd, until @until
 * (monotonic µs) or @cancellable fires, which writes to @wake_fd (from
 * _msg_deadline_wake_fd_new(), left empty on return). An error or hang-up
 * on @fd counts as ready: the read or write that follows reports it. */
MsgDeadlineResult
_msg_deadline_poll_fd (int           fd,
                       GIOCondition  condition,
                       int           wake_fd,
                       gint64        until,
                       GCancellable *cancellable)
{
  GPollFD           fds[2] = { { fd, condition, 0 }, { wake_fd, G_IO_IN, 0 } };
  gulong            handler = 0;
  MsgDeadlineResult result;

  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (wake_fd_cb), GINT_TO_POINTER (wake_fd), NULL);
  for (;;)
    {
      gint64 now;
      gint64 timeout_ms = -1;

      result = _msg_deadline_check (until, cancellable);
      if (result != MSG_DEADLINE_READY)
        break;
      now = g_get_monotonic_time ();
      /* Rounded up: a wake-up before @until would only poll again. */
      if (until != G_MAXINT64)
        timeout_ms = MIN ((until - now + 999) / 1000, G_MAXINT);
      if (g_poll (fds, G_N_ELEMENTS (fds), (int) timeout_ms) < 0 && errno != EINTR)
        break; /* READY: the read or write that follows fails with the cause */
      if (fds[0].revents != 0)
        break;
      if (fds[1].revents != 0)
        drain_wake_fd (wake_fd); /* the loop's check says why */
    }
  if (cancellable != NULL)
    g_cancellable_disconnect (cancellable, handler);
  /* Disconnected: the handler has run, if it ever will. */
  if (g_cancellable_is_cancelled (cancellable))
    drain_wake_fd (wake_fd);
  return result;
}

GMainContext *
_msg_main_context_try_new (GError **error)
{
  int fd = eventfd (0, EFD_CLOEXEC);
  int saved_errno = errno;

  if (fd < 0)
    {
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "No file descriptor is available: %s", g_strerror (saved_errno));
      return NULL;
    }
  close (fd);
  return g_main_context_new ();
}
