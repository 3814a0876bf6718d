/* msg-caller-request.c: a question to the caller's main context
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-caller-request-private.h"

#include <string.h>

/* Where the question is. */
typedef enum
{
  REQUEST_PENDING,   /* queued in the caller's context */
  REQUEST_RUNNING,   /* the function runs */
  REQUEST_ANSWERED,  /* answer holds what it gave */
  REQUEST_ABANDONED, /* the waiter has stopped waiting */
} RequestState;

/* Shared by the waiting thread and the caller's context: the last of
 * the two to let go frees it. */
struct _MsgCallerRequest
{
  gatomicrefcount      ref;
  MsgCallerRequestFunc func;
  gpointer             user_data;
  GDestroyNotify       destroy;
  GMutex               lock;
  GCond                cond;   /* state changed, or the cancellable fired */
  RequestState         state;  /* under lock */
  char                *answer; /* (owned) (nullable) under lock: a secret */
};

void
_msg_secret_free (char *text)
{
  if (text == NULL)
    return;
  explicit_bzero (text, strlen (text));
  g_free (text);
}

MsgCallerRequest *
_msg_caller_request_new (MsgCallerRequestFunc func,
                         gpointer             user_data,
                         GDestroyNotify       destroy)
{
  MsgCallerRequest *self = g_new0 (MsgCallerRequest, 1);

  g_atomic_ref_count_init (&self->ref);
  self->func = func;
  self->user_data = user_data;
  self->destroy = destroy;
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->state = REQUEST_PENDING;
  return self;
}

MsgCallerRequest *
_msg_caller_request_ref (MsgCallerRequest *self)
{
  g_atomic_ref_count_inc (&self->ref);
  return self;
}

void
_msg_caller_request_unref (MsgCallerRequest *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref))
    return;
  if (self->destroy != NULL)
    self->destroy (self->user_data);
  _msg_secret_free (self->answer);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self);
}

/* Runs in the caller's context. */
static gboolean
dispatch_cb (gpointer data)
{
  MsgCallerRequest *self = data;
  char             *answer;
  gboolean          wanted;

  g_mutex_lock (&self->lock);
  wanted = self->state == REQUEST_PENDING;
  if (wanted)
    self->state = REQUEST_RUNNING;
  g_mutex_unlock (&self->lock);
  if (!wanted)
    return G_SOURCE_REMOVE;
  answer = self->func (self->user_data);
  g_mutex_lock (&self->lock);
  if (self->state == REQUEST_RUNNING)
    {
      self->answer = g_steal_pointer (&answer);
      self->state = REQUEST_ANSWERED;
      g_cond_broadcast (&self->cond);
    }
  g_mutex_unlock (&self->lock);
  /* Too late: the waiter gave up on it. */
  _msg_secret_free (answer);
  return G_SOURCE_REMOVE;
}

/* Runs in the cancelling thread. */
static void
cancelled_cb (GCancellable *cancellable,
              gpointer      data)
{
  MsgCallerRequest *self = data;

  g_mutex_lock (&self->lock);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

void
_msg_caller_request_abandon (MsgCallerRequest *self)
{
  g_mutex_lock (&self->lock);
  if (self->state == REQUEST_PENDING || self->state == REQUEST_RUNNING)
    self->state = REQUEST_ABANDONED;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

char *
_msg_caller_request_run (MsgCallerRequest *self,
                         GMainContext     *context,
                         int               priority,
                         const char       *name,
                         gint64            deadline,
                         GCancellable     *cancellable,
                         gboolean         *timed_out)
{
  g_autoptr (GSource) source = NULL;
  char    *answer = NULL;
  gulong   handler = 0;
  gboolean in_time = TRUE;

  /* Always through a source, even in the caller's own thread. */
  source = g_idle_source_new ();
  g_source_set_priority (source, priority);
  g_source_set_callback (source, dispatch_cb, _msg_caller_request_ref (self),
                         (GDestroyNotify) _msg_caller_request_unref);
  g_source_set_static_name (source, name);
  g_source_attach (source, context);
  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (cancelled_cb), self, NULL);

  g_mutex_lock (&self->lock);
  while ((self->state == REQUEST_PENDING || self->state == REQUEST_RUNNING) &&
         !g_cancellable_is_cancelled (cancellable) && in_time)
    {
      if (deadline <= 0)
        g_cond_wait (&self->cond, &self->lock);
      else
        in_time = g_cond_wait_until (&self->cond, &self->lock, deadline);
    }
  if (self->state == REQUEST_ANSWERED)
    answer = g_steal_pointer (&self->answer);
  /* A function still running keeps its answer: it is dropped. */
  self->state = REQUEST_ABANDONED;
  g_mutex_unlock (&self->lock);

  g_cancellable_disconnect (cancellable, handler);
  g_source_destroy (source);
  if (timed_out != NULL)
    *timed_out = !in_time;
  return answer;
}

void
_msg_caller_home_init (MsgCallerHome *home)
{
  home->thread = g_thread_self ();
  home->context = g_main_context_ref_thread_default ();
}

typedef struct
{
  GDestroyNotify destroy;
  gpointer       data;
} HomeCall;

static gboolean
home_destroy_cb (gpointer user_data)
{
  HomeCall *call = user_data;

  call->destroy (call->data);
  return G_SOURCE_REMOVE;
}

void
_msg_caller_home_destroy (MsgCallerHome *home,
                          GDestroyNotify destroy,
                          gpointer       data)
{
  if (destroy != NULL && home->thread == g_thread_self ())
    destroy (data);
  else if (destroy != NULL)
    {
      GSource  *source = g_idle_source_new ();
      HomeCall *call = g_new0 (HomeCall, 1);

      call->destroy = destroy;
      call->data = data;
      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_static_name (source, "[msgobj] caller's destroy notify");
      g_source_set_callback (source, home_destroy_cb, call, g_free);
      g_source_attach (source, home->context);
      g_source_unref (source);
    }
  g_clear_pointer (&home->context, g_main_context_unref);
  home->thread = NULL;
}
