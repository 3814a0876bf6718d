/* msg-mime-sink-private.h: a GMime stream that writes into a GOutputStream
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "msg-mime-utils-private.h"

#include <gio/gio.h>
#include <gmime/gmime.h>

G_BEGIN_DECLS

/* MsgMimeSink: a write-only GMimeStream that writes into a GOutputStream.
 *
 * Every write checks the cancellable. Line ends are canonicalised to CRLF
 * (a lone CR and a lone LF each become CRLF). When @check_headers is set,
 * the first header block (up to the first empty line) is verified: every
 * line is either "name:" with an RFC 5322 ftext name or a folded
 * continuation, and at most 998 octets long. The first error is kept and
 * returned by _msg_mime_sink_finish(). */
#define MSG_TYPE_MIME_SINK (_msg_mime_sink_get_type ())
G_DECLARE_FINAL_TYPE (MsgMimeSink, _msg_mime_sink, MSG, MIME_SINK, GMimeStream)

GMimeStream *_msg_mime_sink_new (GOutputStream *output,
                                 GCancellable  *cancellable,
                                 gboolean       check_headers);
/* Flushes what is buffered and returns FALSE with the first error met by
 * the sink or by a MsgFileStream read during the write. */
gboolean _msg_mime_sink_finish (MsgMimeSink *self,
                                GError     **error);
guint64  _msg_mime_sink_get_bytes_written (MsgMimeSink *self);

/* The first error met by a MsgMimeSink or MsgFileStream of this thread
 * since the last call of _msg_stream_error_clear(). */
void    _msg_stream_error_set (GError *error);
void    _msg_stream_error_clear (void);
GError *_msg_stream_error_take (void);

G_END_DECLS
