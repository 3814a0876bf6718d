/* msg-thread.c: worker threads for asynchronous operations
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-thread-private.h"

/* How long an idle worker waits for its next task before it ends. */
#define IDLE_TIMEOUT (2 * G_USEC_PER_SEC)

typedef enum
{
  RETURN_NONE,
  RETURN_POINTER,
  RETURN_BOOLEAN,
  RETURN_ERROR,
} ReturnKind;

/* The source that completes a task of _msg_task_run_in_own_thread_returning()
 * in the task's context: attached at the start, in the caller's thread,
 * ready once the worker has set the result. The worker never takes the
 * context's lock for it (g_task_return_*() from another thread attaches
 * an idle source under that lock, and then takes it again to drop it,
 * while the woken caller's thread waits for it: up to four more context
 * switches a task). */
struct _MsgTaskReturn
{
  GSource        source;
  GTask         *task; /* (owned) */
  gint64         created;
  GSourceFunc    on_deadline; /* (nullable): called at the ready time if not ready */
  gpointer       deadline_data;
  gint           ready; /* atomic: the fields below are set */
  ReturnKind     kind;
  gpointer       result;
  GDestroyNotify result_destroy;
  gboolean       boolean;
  GError        *error;
};
typedef struct _MsgTaskReturn ReturnSource;

/* A worker thread, running one task or idle. */
typedef struct
{
  gint            ref_count; /* atomic: the thread's, and a caller's signalling it */
  GCond           cond;      /* signalled when it gets a task */
  GTask          *task;      /* (owned) (nullable): under pool_lock */
  GTaskThreadFunc func;
  ReturnSource   *ret; /* (nullable): until the task returns; under pool_lock, then the worker's */
  /* The worker's own, set by its task: _msg_task_run_prepared_next(). */
  GTask          *next_task; /* (owned) (nullable) */
  GTaskThreadFunc next_func;
  ReturnSource   *next_ret;
} Worker;

static GMutex pool_lock;
/* (element-type Worker): the idle workers, the last to become idle first
 * (its stack and caches are warm). */
static GQueue idle_workers = G_QUEUE_INIT;
/* The worker running in this thread. */
static GPrivate current_worker = G_PRIVATE_INIT (NULL);

static void
worker_unref (Worker *worker)
{
  if (!g_atomic_int_dec_and_test (&worker->ref_count))
    return;
  g_cond_clear (&worker->cond);
  g_free (worker);
}

static gboolean
return_source_prepare (GSource *source,
                       int     *timeout)
{
  ReturnSource *ret = (ReturnSource *) source;

  *timeout = -1;
  return g_atomic_int_get (&ret->ready);
}

static gboolean
return_source_check (GSource *source)
{
  ReturnSource *ret = (ReturnSource *) source;

  return g_atomic_int_get (&ret->ready);
}

static gboolean
return_source_dispatch (GSource    *source,
                        GSourceFunc callback,
                        gpointer    user_data)
{
  ReturnSource *ret = (ReturnSource *) source;

  if (!g_atomic_int_get (&ret->ready))
    {
      /* The ready time, not the result: the deadline passed first. */
      g_source_set_ready_time (source, -1);
      if (ret->on_deadline != NULL)
        ret->on_deadline (ret->deadline_data);
      return G_SOURCE_CONTINUE;
    }
  /* g_task_return_*() calls back at once only in a later iteration than
   * the one that made the task (else through one more idle source, which
   * could come after a later task's): wait for the clock to move. */
  if (g_source_get_time (source) <= ret->created)
    return G_SOURCE_CONTINUE;
  switch (ret->kind)
    {
    case RETURN_POINTER:
      g_task_return_pointer (ret->task, g_steal_pointer (&ret->result), ret->result_destroy);
      break;
    case RETURN_BOOLEAN:
      g_task_return_boolean (ret->task, ret->boolean);
      break;
    case RETURN_ERROR:
      g_task_return_error (ret->task, g_steal_pointer (&ret->error));
      break;
    default:
      g_assert_not_reached ();
    }
  return G_SOURCE_REMOVE;
}

static void
return_source_finalize (GSource *source)
{
  ReturnSource *ret = (ReturnSource *) source;

  /* Set but never delivered: its context went away first. */
  if (ret->result != NULL && ret->result_destroy != NULL)
    ret->result_destroy (ret->result);
  g_clear_error (&ret->error);
  g_clear_object (&ret->task);
}

static GSourceFuncs return_source_funcs = {
  return_source_prepare,
  return_source_check,
  return_source_dispatch,
  return_source_finalize,
  NULL,
  NULL,
};

static ReturnSource *
return_source_new (GTask      *task,
                   gint64      deadline,
                   GSourceFunc on_deadline,
                   gpointer    data)
{
  ReturnSource *ret;

  ret = (ReturnSource *) g_source_new (&return_source_funcs, sizeof (ReturnSource));
  ret->task = g_object_ref (task);
  ret->created = g_get_monotonic_time ();
  ret->on_deadline = on_deadline;
  ret->deadline_data = data;
  /* Before it is attached: no lock of the context taken for it. */
  if (on_deadline != NULL && deadline >= 0)
    g_source_set_ready_time (&ret->source, deadline);
  /* One below the task's: attached at the call, it would otherwise come
   * before the sources attached later at the task's priority that must
   * come first: the progress the worker sent before the result, and the
   * idle through which g_task_return_*() completes an earlier task that
   * was cancelled. A source of lower priority waits while one of higher
   * priority is ready. */
  g_source_set_priority (&ret->source, g_task_get_priority (task) + 1);
  g_source_set_static_name (&ret->source, "[msgobj] task return");
  g_source_attach (&ret->source, g_task_get_context (task));
  /* The context's reference only, dropped in its thread: with GLib
   * before 2.76 g_source_unref() takes the context's lock, which the
   * worker must not. The task holds the context, the worker the task,
   * and the source stays attached until it has run. */
  g_source_unref (&ret->source);
  return ret;
}

/* The worker's return source for @task, which the worker fills once: it
 * is the context's from then on, not to be touched after it is ready. */
static ReturnSource *
take_return (GTask *task)
{
  Worker       *worker = g_private_get (&current_worker);
  ReturnSource *ret;

  g_assert (worker != NULL && worker->ret != NULL && worker->ret->task == task);
  ret = g_steal_pointer (&worker->ret);
  g_assert (ret->kind == RETURN_NONE);
  return ret;
}

void
_msg_task_return_pointer_later (GTask         *task,
                                gpointer       result,
                                GDestroyNotify result_destroy)
{
  ReturnSource *ret = take_return (task);

  ret->result = result;
  ret->result_destroy = result_destroy;
  ret->kind = RETURN_POINTER;
  g_atomic_int_set (&ret->ready, TRUE);
}

void
_msg_task_return_boolean_later (GTask   *task,
                                gboolean result)
{
  ReturnSource *ret = take_return (task);

  ret->boolean = result;
  ret->kind = RETURN_BOOLEAN;
  g_atomic_int_set (&ret->ready, TRUE);
}

void
_msg_task_return_error_later (GTask  *task,
                              GError *error)
{
  ReturnSource *ret = take_return (task);

  ret->error = error;
  ret->kind = RETURN_ERROR;
  g_atomic_int_set (&ret->ready, TRUE);
}

/* Runs the worker's task; with a return source, returns the context to
 * wake once this worker is idle again (the source is the caller's from
 * the moment it is ready). */
static GMainContext *
run_task (Worker *worker,
          GTask  *task)
{
  GMainContext *wake = NULL;

  if (worker->ret != NULL)
    wake = g_main_context_ref (g_task_get_context (task));
  worker->func (task, g_task_get_source_object (task), g_task_get_task_data (task), g_task_get_cancellable (task));
  if (worker->ret != NULL)
    g_error ("A task of _msg_task_run_in_own_thread_returning() returned nothing");
  g_object_unref (task);
  return wake;
}

static gpointer
thread_main (gpointer user_data)
{
  Worker *worker = user_data;

  g_private_set (&current_worker, worker);
  g_mutex_lock (&pool_lock);
  while (worker->task != NULL)
    {
      GTask        *task = g_steal_pointer (&worker->task);
      GMainContext *wake;
      gint64        until;

      g_mutex_unlock (&pool_lock);
      wake = run_task (worker, task);

      if (worker->next_task != NULL)
        {
          /* The task passed the turn to one queued behind it: run that
           * here, after waking the context of the one that ended. */
          if (wake != NULL)
            {
              g_main_context_wakeup (wake);
              g_main_context_unref (wake);
            }
          g_mutex_lock (&pool_lock);
          worker->task = g_steal_pointer (&worker->next_task);
          worker->func = worker->next_func;
          worker->ret = g_steal_pointer (&worker->next_ret);
          continue;
        }
      g_mutex_lock (&pool_lock);
      until = g_get_monotonic_time () + IDLE_TIMEOUT;
      g_queue_push_head (&idle_workers, worker);
      if (wake != NULL)
        {
          /* Idle first, so that a caller that sends again from its
           * callback finds this thread free, and the turn too. */
          g_mutex_unlock (&pool_lock);
          g_main_context_wakeup (wake);
          g_main_context_unref (wake);
          g_mutex_lock (&pool_lock);
        }
      while (worker->task == NULL && g_cond_wait_until (&worker->cond, &pool_lock, until))
        ;
      /* Given a task (and taken off the queue) even as the wait ended. */
      if (worker->task == NULL)
        g_queue_remove (&idle_workers, worker);
    }
  g_mutex_unlock (&pool_lock);
  worker_unref (worker);
  return NULL;
}

/* Gives @task to an idle worker, else to a new one. Fails only when no
 * thread can be made (a container's pids.max, ulimit -u): g_thread_new()
 * would abort the process, and a send must fail with an error instead. */
static gboolean
run_in_own_thread (GTask          *task,
                   GTaskThreadFunc func,
                   ReturnSource   *ret,
                   GError        **error)
{
  Worker  *worker;
  GThread *thread;

  g_mutex_lock (&pool_lock);
  worker = g_queue_pop_head (&idle_workers);
  if (worker != NULL)
    {
      worker->task = g_object_ref (task);
      worker->func = func;
      worker->ret = ret;
      g_atomic_int_inc (&worker->ref_count);
      g_mutex_unlock (&pool_lock);
      /* Signalled after the unlock, or the woken thread waits for the lock
       * at once (two more futex calls a task); the reference keeps it if
       * it ran the task and ended meanwhile. */
      g_cond_signal (&worker->cond);
      worker_unref (worker);
      return TRUE;
    }
  g_mutex_unlock (&pool_lock);

  worker = g_new0 (Worker, 1);
  worker->ref_count = 1;
  g_cond_init (&worker->cond);
  worker->task = g_object_ref (task);
  worker->func = func;
  worker->ret = ret;
  thread = g_thread_try_new ("msgobj-worker", thread_main, worker, error);
  if (thread == NULL)
    {
      g_object_unref (worker->task);
      worker_unref (worker);
      g_prefix_error (error, "No thread to run the operation in: ");
      return FALSE;
    }
  g_thread_unref (thread);
  return TRUE;
}

void
_msg_task_run_in_own_thread (GTask          *task,
                             GTaskThreadFunc func)
{
  GError *error = NULL;

  if (!run_in_own_thread (task, func, NULL, &error))
    g_task_return_error (task, error);
}

void
_msg_task_run_in_own_thread_returning (GTask          *task,
                                       GTaskThreadFunc func)
{
  ReturnSource *ret = return_source_new (task, -1, NULL, NULL);
  GError       *error = NULL;

  if (!run_in_own_thread (task, func, ret, &error))
    _msg_task_return_prepared_error (ret, error);
}

MsgTaskReturn *
_msg_task_prepare_return (GTask      *task,
                          gint64      deadline,
                          GSourceFunc on_deadline,
                          gpointer    data)
{
  return return_source_new (task, deadline, on_deadline, data);
}

gboolean
_msg_task_run_prepared (GTask          *task,
                        GTaskThreadFunc func,
                        MsgTaskReturn  *ret,
                        GError        **error)
{
  return run_in_own_thread (task, func, ret, error);
}

gboolean
_msg_task_run_prepared_next (GTask          *task,
                             GTaskThreadFunc func,
                             MsgTaskReturn  *ret,
                             GError        **error)
{
  Worker *worker = g_private_get (&current_worker);

  if (worker == NULL || worker->next_task != NULL)
    return run_in_own_thread (task, func, ret, error);
  worker->next_task = g_object_ref (task);
  worker->next_func = func;
  worker->next_ret = ret;
  return TRUE;
}

void
_msg_task_return_prepared_error (MsgTaskReturn *ret,
                                 GError        *error)
{
  g_autoptr (GMainContext) context = g_main_context_ref (g_task_get_context (ret->task));

  g_assert (ret->kind == RETURN_NONE);
  ret->error = error;
  ret->kind = RETURN_ERROR;
  /* The source is the context's once ready: @context is held for the
   * wake-up, as the worker holds it in run_task(). */
  g_atomic_int_set (&ret->ready, TRUE);
  g_main_context_wakeup (context);
}
