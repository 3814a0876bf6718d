/* msg-thread-private.h: worker threads for asynchronous operations
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Like g_task_run_in_thread(), but in a thread of its own rather than
 * GTask's pool: the pool starts at ten threads and adds one only every
 * 100 ms or more, so many stalled sends would start late and miss their
 * deadlines. The deadline is bounded, so the task always ends. The thread
 * is an idle one of an earlier task if there is one (it waits 2 s for
 * another before it ends), else a new one: a task never waits for
 * another, and a program that sends one message after the other does not
 * make a thread per message (issue 18). When no thread can be made, the
 * task returns that error (in a later iteration of its context) without
 * running. */
void _msg_task_run_in_own_thread (GTask          *task,
                                  GTaskThreadFunc func);

/* As _msg_task_run_in_own_thread(), for a @func that returns the result
 * with one of the _msg_task_return_*_later() below, in the worker thread,
 * and never with g_task_return_*(). The task is completed (its callback
 * called) in its context by a source attached here, in the caller's
 * thread, so the results of tasks started in one context come in the
 * order of their starts once set; the worker wakes the context only
 * after it is idle again, without taking the context's lock: two context
 * switches a task rather than up to eight (issue 18). */
void _msg_task_run_in_own_thread_returning (GTask          *task,
                                            GTaskThreadFunc func);

/* A task's return source made ahead of its thread: for an operation that
 * waits in a queue without a thread of its own until its turn (issue 18:
 * a thread each made a thousand queued sends a thousand threads). */
typedef struct _MsgTaskReturn MsgTaskReturn;

/* Attaches @task's return source to its context now, in the caller's
 * thread, as _msg_task_run_in_own_thread_returning() does. If @deadline
 * (on the monotonic clock; -1 for none) passes before the task has
 * returned, @on_deadline is called once with @data, in the context's
 * thread: the source's ready time, no timer of its own. The source holds
 * the task, the task its context: @data lives as long as the task. */
MsgTaskReturn *_msg_task_prepare_return (GTask      *task,
                                         gint64      deadline,
                                         GSourceFunc on_deadline,
                                         gpointer    data);

/* Runs @task, whose return @ret was prepared, in a worker thread: an idle
 * one or a new one, never the calling thread. Fails, touching neither
 * @task nor @ret, only when no thread can be made (then
 * _msg_task_return_prepared_error() completes the task). */
gboolean _msg_task_run_prepared (GTask          *task,
                                 GTaskThreadFunc func,
                                 MsgTaskReturn  *ret,
                                 GError        **error);

/* As _msg_task_run_prepared(), but from within a worker's task that
 * returns right after: this worker runs @task next, once it has woken the
 * context of the task it ends (no hand-off to another thread). Elsewhere
 * it is _msg_task_run_prepared(). */
gboolean _msg_task_run_prepared_next (GTask          *task,
                                      GTaskThreadFunc func,
                                      MsgTaskReturn  *ret,
                                      GError        **error);

/* Completes a task that never ran with @error (taken): from any thread,
 * in place of its worker's _msg_task_return_error_later(). */
void _msg_task_return_prepared_error (MsgTaskReturn *ret,
                                      GError        *error);

void _msg_task_return_pointer_later (GTask         *task,
                                     gpointer       result,
                                     GDestroyNotify result_destroy);
void _msg_task_return_boolean_later (GTask   *task,
                                     gboolean result);
void _msg_task_return_error_later (GTask  *task,
                                   GError *error);

G_END_DECLS
