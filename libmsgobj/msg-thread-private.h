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
 * make a thread per message (issue 18). */
void _msg_task_run_in_own_thread (GTask          *task,
                                  GTaskThreadFunc func);

G_END_DECLS
