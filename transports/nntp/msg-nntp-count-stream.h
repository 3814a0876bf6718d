/* msg-nntp-count-stream.h: an output stream that counts what passes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <msgobj.h>

G_BEGIN_DECLS

/* Called after each write with the bytes counted so far. */
typedef void (*MsgNntpCountFunc) (guint64  count,
                                  gpointer user_data);

#define MSG_TYPE_NNTP_COUNT_STREAM (msg_nntp_count_stream_get_type ())
G_DECLARE_FINAL_TYPE (MsgNntpCountStream, msg_nntp_count_stream, MSG, NNTP_COUNT_STREAM, GOutputStream)

GOutputStream *msg_nntp_count_stream_new (GOutputStream   *base_stream,
                                          MsgNntpCountFunc func,
                                          gpointer         user_data);
guint64        msg_nntp_count_stream_get_count (MsgNntpCountStream *self);
void           msg_nntp_count_stream_register (GTypeModule *module);

G_END_DECLS
