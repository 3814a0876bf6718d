/* msg-deadline-private.h: a wait bounded by two clocks and a cancellable
 *
 * The waits of MsgConnection run on its private GMainContext, where the
 * awaited source, a timer set to the earlier of the two clocks (the
 * inactivity limit and the total deadline: @until, monotonic µs) and the
 * caller's cancellable race; a read on a plain socket polls instead
 * (docs/design.md, decision 19).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* How a wait ended. */
typedef enum
{
  MSG_DEADLINE_READY,
  MSG_DEADLINE_TIMED_OUT,
  MSG_DEADLINE_CANCELLED,
} MsgDeadlineResult;

MsgDeadlineResult _msg_deadline_check (gint64        until,
                                       GCancellable *cancellable);

/* @ready_source is the source of a pollable stream; it is consumed. */
MsgDeadlineResult _msg_deadline_wait_for_source (GMainContext *context,
                                                 GSource      *ready_source,
                                                 gint64        until,
                                                 GCancellable *cancellable);

MsgDeadlineResult _msg_deadline_wait_for_socket (GMainContext *context,
                                                 GSocket      *socket,
                                                 GIOCondition  condition,
                                                 gint64        until,
                                                 GCancellable *cancellable);

/* @condition on any of @sockets; its index goes to @ready_index. */
MsgDeadlineResult _msg_deadline_wait_for_sockets (GMainContext   *context,
                                                  GSocket *const *sockets,
                                                  guint           n_sockets,
                                                  GIOCondition    condition,
                                                  gint64          until,
                                                  GCancellable   *cancellable,
                                                  guint          *ready_index);

/* Another thread sets *@flag atomically, then wakes @context up. */
MsgDeadlineResult _msg_deadline_wait_for_flag (GMainContext *context,
                                               int          *flag,
                                               gint64        until,
                                               GCancellable *cancellable);

/* A new main context, or %NULL with an error when no descriptor is left
 * for its wake-up (EMFILE, ENFILE), where g_main_context_new() would
 * abort the process. A probe only: another thread may take the descriptor
 * first. Call it where an operation makes its first context. */
GMainContext *_msg_main_context_try_new (GError **error);

/* Without a main context, for a plain socket: see msg-deadline.c. */
int               _msg_deadline_wake_fd_new (void);
MsgDeadlineResult _msg_deadline_poll_fd (int           fd,
                                         GIOCondition  condition,
                                         int           wake_fd,
                                         gint64        until,
                                         GCancellable *cancellable);

G_END_DECLS
