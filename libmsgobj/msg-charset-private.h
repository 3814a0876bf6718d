/* msg-charset-private.h: converting text between UTF-8 and a part's charset
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include <gmime/gmime.h>

G_BEGIN_DECLS

/* Whether @charset (NULL: none) means UTF-8, or text that UTF-8 holds
 * byte for byte (us-ascii). */
gboolean _msg_charset_is_utf8 (const char *charset);

/* @text (UTF-8, @len bytes) written in @charset; fails with
 * MSG_MESSAGE_ERROR_CHARSET naming an unknown charset or the first
 * character @charset cannot hold. */
GBytes *_msg_charset_encode (const char *text,
                             gsize       len,
                             const char *charset,
                             GError    **error);

/* @data in @charset (NULL: UTF-8) as UTF-8; fails with
 * MSG_MESSAGE_ERROR_CHARSET naming the charset and the offset of the first
 * byte that is not valid in it. */
char *_msg_charset_decode (const guint8 *data,
                           gsize         len,
                           const char   *charset,
                           GError      **error);

/* Converts the content of the text leaf @part, now in @from (NULL:
 * UTF-8), to @to, and chooses its transfer encoding again. The part is
 * unchanged on error. */
gboolean _msg_text_part_recode (GMimePart  *part,
                                const char *from,
                                const char *to,
                                GError    **error);

/* Sets the content of the text leaf @part to @text (UTF-8) written in the
 * part's charset (UTF-8 if it has none), with the transfer encoding that
 * fits. */
gboolean _msg_text_part_set_text (GMimePart  *part,
                                  const char *text,
                                  GError    **error);

G_END_DECLS
