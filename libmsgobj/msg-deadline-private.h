/* msg-deadline-private.h: a wait bounded by two clocks and a cancellable
 *
 * Every wait of MsgConnection runs on its private GMainContext, where the
 * awaited source, a timer set to the earlier of the two clocks (the
 * inactivity limit and the total deadline: @until, monotonic µs) and the
 * caller's cancellable race.
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

/* An asynchronous GIO operation raced against the clocks: start it on
 * @context with _msg_deadline_op_get_cancellable(),
 * _msg_deadline_op_done_cb and a new reference, then wait with
 * _msg_deadline_wait_for_async(). */
typedef struct _DeadlineOp DeadlineOp;

DeadlineOp   *_msg_deadline_op_new (void);
DeadlineOp   *_msg_deadline_op_ref (DeadlineOp *op);
void          _msg_deadline_op_unref (DeadlineOp *op);
GCancellable *_msg_deadline_op_get_cancellable (DeadlineOp *op);
GAsyncResult *_msg_deadline_op_get_result (DeadlineOp *op);
void          _msg_deadline_op_done_cb (GObject      *source,
                                        GAsyncResult *result,
                                        gpointer      user_data);

MsgDeadlineResult _msg_deadline_wait_for_async (GMainContext *context,
                                                DeadlineOp   *op,
                                                gint64        until,
                                                GCancellable *cancellable);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (DeadlineOp, _msg_deadline_op_unref)

G_END_DECLS
