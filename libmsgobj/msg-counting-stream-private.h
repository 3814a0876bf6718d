/* msg-counting-stream-private.h: an output stream that counts what passes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Called after each write with the bytes counted so far. */
typedef void (*MsgCountingFunc) (guint64  count,
                                 gpointer user_data);

/* Counts the bytes written to it and passes them on to an optional base
 * stream; without a base it discards them (a message written once to
 * nowhere gives its size without being held in memory). Flushing and
 * closing it leave the base alone: the data stream's finish writes the
 * last block together with the terminator, in one write. */
#define MSG_TYPE_COUNTING_STREAM (_msg_counting_stream_get_type ())
G_DECLARE_FINAL_TYPE (MsgCountingStream, _msg_counting_stream, MSG, COUNTING_STREAM, GOutputStream)

GOutputStream *_msg_counting_stream_new (GOutputStream  *base,
                                         MsgCountingFunc func,
                                         gpointer        user_data);
guint64        _msg_counting_stream_get_count (MsgCountingStream *self);

/* Keeps a copy of what is written, as long as the count stays within
 * @limit bytes (a message serialised once, then sent from memory: docs/
 * design.md, decision 13); beyond it the copy is dropped. */
void _msg_counting_stream_keep (MsgCountingStream *self,
                                gsize              limit);
/* The copy, if every byte written was kept; NULL otherwise. */
GBytes *_msg_counting_stream_steal_kept (MsgCountingStream *self);

G_END_DECLS
