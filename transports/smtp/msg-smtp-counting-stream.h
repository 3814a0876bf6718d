/* msg-smtp-counting-stream.h: an output stream that counts what passes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <msgobj.h>

G_BEGIN_DECLS

#define MSG_TYPE_SMTP_COUNTING_STREAM (msg_smtp_counting_stream_get_type ())
G_DECLARE_FINAL_TYPE (MsgSmtpCountingStream, msg_smtp_counting_stream, MSG, SMTP_COUNTING_STREAM, GOutputStream)

/* Called after each write with the count so far. */
typedef void (*MsgSmtpCountingFunc) (guint64  count,
                                     gpointer user_data);

GOutputStream *msg_smtp_counting_stream_new (GOutputStream      *base,
                                             MsgSmtpCountingFunc func,
                                             gpointer            user_data);
guint64        msg_smtp_counting_stream_get_count (MsgSmtpCountingStream *self);

void msg_smtp_counting_stream_register (GTypeModule *module);

G_END_DECLS
