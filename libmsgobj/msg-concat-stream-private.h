/* msg-concat-stream-private.h: a GMime stream that reads its sources in turn
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include <gmime/gmime.h>

/* For the GMime autoptr cleanups. */
#include "msg-mime-sink-private.h"

G_BEGIN_DECLS

/* MsgConcatStream: a read-only GMimeStream that reads its sources one
 * after the other, to their ends. Unlike GMimeStreamCat it never seeks in
 * a source, so sources may be filter streams over files (the uuencoded
 * attachments of a message that is not MIME-formatted); resetting it
 * resets every source, which releases their files. */
#define MSG_TYPE_CONCAT_STREAM (_msg_concat_stream_get_type ())
G_DECLARE_FINAL_TYPE (MsgConcatStream, _msg_concat_stream, MSG, CONCAT_STREAM, GMimeStream)

GMimeStream *_msg_concat_stream_new (void);
void         _msg_concat_stream_add (MsgConcatStream *self,
                                     GMimeStream     *source);

G_END_DECLS
