/* msg-mime-utils-private.h: GMime set-up and the choice of transfer encodings
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

/* The longest line RFC 5322 allows, CRLF excluded. */
#define MSG_MAX_LINE_OCTETS 998

/* Initialises GMime once per process (thread-safe). */
void _msg_gmime_ensure_init (void);

/* Parser options used for every parse of ours (addresses, messages). */
GMimeParserOptions *_msg_parser_options (void);

/* Options for parsing whole messages: GMime's loose address compliance. */
GMimeParserOptions *_msg_message_parser_options (void);

/* Whether @c may not appear in a header or in 7bit text (tab aside). */
gboolean _msg_is_forbidden_control (guchar c);

/* The transfer encoding that fits @data (see docs/message.md). */
GMimeContentEncoding _msg_choose_encoding (const guint8 *data,
                                           gsize         len,
                                           gboolean      is_text);

/* Notes that @part's content, as it is now, was checked by
 * _msg_choose_encoding() and is 7-bit with lines of at most 998 octets;
 * _msg_mime_part_is_short_7bit() tells whether that still holds (the same
 * content and stream, 7bit), so that a write need not scan it again. */
void     _msg_mime_part_mark_short_7bit (GMimePart *part);
gboolean _msg_mime_part_is_short_7bit (GMimePart *part);

/* Makes a parsed tree safe to write back, in place: a lone CR in a header
 * value (of the message or of any part) becomes a space, and so does a
 * control character in a decoded Content-Type or Content-Disposition
 * parameter, before anything can regenerate the header. */
void _msg_mime_object_repair_parsed (GMimeObject *object);
void _msg_mime_message_set_root (GMimeMessage *message,
                                 GMimeObject  *root);

/* Checks that every header of @object and of its parts is written as one
 * header: %MSG_MESSAGE_ERROR_INVALID_HEADER otherwise. */
gboolean _msg_mime_object_check_headers (GMimeObject *object,
                                         GError     **error);

/* Sets the header @name of @object to @value as g_mime_object_set_header()
 * does. When @object has one such header already, its value is set
 * directly: g_mime_header_list_set() signals the change twice, and a
 * GMimeMessage parses the value back each time (for Date, 14 k
 * instructions each). */
void _msg_mime_object_set_header (GMimeObject *object,
                                  const char  *name,
                                  const char  *value);

/* Writes @message as g_mime_object_write_to_stream() does with @options
 * (whose newline format must be DOS), but writes the header block of the
 * message and of its root part from the raw values GMime formatted when
 * each header was set, instead of formatting every header again for each
 * write: with options that differ from the defaults only in newlines and
 * hidden headers the bytes are the same (docs/design.md, decision 23).
 * The parts below the root are written by GMime. */
ssize_t _msg_mime_message_write (GMimeMessage       *message,
                                 GMimeFormatOptions *options,
                                 GMimeStream        *stream);

G_END_DECLS
