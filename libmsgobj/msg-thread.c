/* msg-thread.c: worker threads for asynchronous operations
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-thread-private.h"

/* How long an idle worker waits for its next task before it ends. */
#define IDLE_TIMEOUT (2 * G_USEC_PER_SEC)

/* A worker thread, running one task or idle. */
typedef struct
{
  GCond           cond; /* signalled when it gets a task */
  GTask          *task; /* (owned) (nullable): under pool_lock */
  GTaskThreadFunc func;
} Worker;

static GMutex pool_lock;
/* (element-type Worker): the idle workers, the last to become idle first
 * (its stack and caches are warm). */
static GQueue idle_workers = G_QUEUE_INIT;

static gpointer
thread_main (gpointer user_data)
{
  Worker *worker = user_data;

  g_mutex_lock (&pool_lock);
  while (worker->task != NULL)
    {
      GTask          *task = g_steal_pointer (&worker->task);
      GTaskThreadFunc func = worker->func;
      gint64          until;

      g_mutex_unlock (&pool_lock);
      func (task, g_task_get_source_object (task), g_task_get_task_data (task), g_task_get_cancellable (task));
      g_object_unref (task);

      g_mutex_lock (&pool_lock);
      until = g_get_monotonic_time () + IDLE_TIMEOUT;
      g_queue_push_head (&idle_workers, worker);
      while (worker->task == NULL && g_cond_wait_until (&worker->cond, &pool_lock, until))
        ;
      /* Given a task (and taken off the queue) even as the wait ended. */
      if (worker->task == NULL)
        g_queue_remove (&idle_workers, worker);
    }
  g_mutex_unlock (&pool_lock);
  g_cond_clear (&worker->cond);
  g_free (worker);
  return NULL;
}

void
_msg_task_run_in_own_thread (GTask          *task,
                             GTaskThreadFunc func)
{
  Worker *worker;

  g_mutex_lock (&pool_lock);
  worker = g_queue_pop_head (&idle_workers);
  if (worker != NULL)
    {
      worker->task = g_object_ref (task);
      worker->func = func;
      g_cond_signal (&worker->cond);
      g_mutex_unlock (&pool_lock);
      return;
    }
  g_mutex_unlock (&pool_lock);

  worker = g_new0 (Worker, 1);
  g_cond_init (&worker->cond);
  worker->task = g_object_ref (task);
  worker->func = func;
  g_thread_unref (g_thread_new ("msgobj-worker", thread_main, worker));
}
