/* msg-mime-sink-private.h: GMime streams between GMime and GIO
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include <gmime/gmime.h>

G_BEGIN_DECLS

/* GMime 3.2 declares no autoptr cleanups; these are ours. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeObject, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimePart, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeTextPart, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeMultipart, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeMessage, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeDataWrapper, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeFilter, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeContentType, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (InternetAddressList, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (InternetAddress, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeFormatOptions, g_mime_format_options_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeParserOptions, g_mime_parser_options_free)

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

/* MsgFileStream: a read-only GMimeStream over a regular file that is
 * opened at the first read and closed at its end, on reset and on
 * _msg_file_stream_release(), so that a message holding a large
 * attachment holds neither its content nor a descriptor between writes.
 * A file that is no longer a regular file, or that ends before the size
 * it had when it was opened, is an error. */
#define MSG_TYPE_FILE_STREAM (_msg_file_stream_get_type ())
G_DECLARE_FINAL_TYPE (MsgFileStream, _msg_file_stream, MSG, FILE_STREAM, GMimeStream)

GMimeStream *_msg_file_stream_new (const char *path);
const char  *_msg_file_stream_get_path (MsgFileStream *self);
void         _msg_file_stream_release (MsgFileStream *self);

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

/* The first error met by a MsgMimeSink or MsgFileStream of this thread
 * since the last call of _msg_stream_error_clear(). */
void    _msg_stream_error_clear (void);
GError *_msg_stream_error_take (void);

G_END_DECLS
