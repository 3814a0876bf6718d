/* msg-thread.c: worker threads for asynchronous operations
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-thread-private.h"

typedef struct
{
  GTask          *task; /* (owned) */
  GTaskThreadFunc func;
} ThreadData;

static gpointer
thread_main (gpointer user_data)
{
  ThreadData *data = user_data;

  data->func (data->task,
              g_task_get_source_object (data->task),
              g_task_get_task_data (data->task),
              g_task_get_cancellable (data->task));
  g_object_unref (data->task);
  g_free (data);
  return NULL;
}

void
_msg_task_run_in_own_thread (GTask          *task,
                             GTaskThreadFunc func)
{
  ThreadData *data = g_new0 (ThreadData, 1);

  data->task = g_object_ref (task);
  data->func = func;
  g_thread_unref (g_thread_new ("msgobj-worker", thread_main, data));
}
