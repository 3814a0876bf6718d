/* msg-charset.c: converting text between UTF-8 and a part's charset
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-charset-private.h"

#include "msg-message.h"
#include "msg-mime-utils-private.h"

#include <string.h>

/* Strings are UTF-8 in the API; a text part's bytes are in its charset.
 * Setting a charset converts the bytes (CDO's BodyPart.Charset), so a
 * reader never sees UTF-8 bytes labelled iso-8859-1. Conversions go
 * through iconv (g_convert) with GMime's names for MIME charsets. */

gboolean
_msg_charset_is_utf8 (const char *charset)
{
  const char *canon;

  if (charset == NULL)
    return TRUE;
  canon = g_mime_charset_canon_name (charset);
  return g_ascii_strcasecmp (canon, "utf-8") == 0 || g_ascii_strcasecmp (canon, "us-ascii") == 0;
}

static void
set_unknown_charset (const char *charset,
                     GError    **error)
{
  g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_CHARSET,
               "Unknown charset “%s”: the system cannot convert text to or from it", charset);
}

GBytes *
_msg_charset_encode (const char *text,
                     gsize       len,
                     const char *charset,
                     GError    **error)
{
  g_autoptr (GError) local_error = NULL;
  gsize read = 0;
  gsize written = 0;
  char *out;

  if (_msg_charset_is_utf8 (charset) && g_ascii_strcasecmp (g_mime_charset_canon_name (charset != NULL ? charset : "utf-8"), "us-ascii") != 0)
    return g_bytes_new (text, len);

  out = g_convert (text, len, g_mime_charset_iconv_name (charset), "UTF-8", &read, &written, &local_error);
  if (out != NULL)
    return g_bytes_new_take (out, written);

  if (g_error_matches (local_error, G_CONVERT_ERROR, G_CONVERT_ERROR_ILLEGAL_SEQUENCE) && read < len)
    {
      gunichar c = g_utf8_get_char_validated (text + read, len - read);
      char     utf8[8] = { 0 };

      if (c != (gunichar) -1 && c != (gunichar) -2)
        {
          g_unichar_to_utf8 (c, utf8);
          g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_CHARSET,
                       "The character “%s” (U+%04X) at byte %" G_GSIZE_FORMAT " cannot be written in %s",
                       utf8, c, read, charset);
          return NULL;
        }
    }
  if (g_error_matches (local_error, G_CONVERT_ERROR, G_CONVERT_ERROR_NO_CONVERSION))
    set_unknown_charset (charset, error);
  else
    g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_CHARSET,
                 "Cannot convert the text to %s: %s", charset, local_error->message);
  return NULL;
}

char *
_msg_charset_decode (const guint8 *data,
                     gsize         len,
                     const char   *charset,
                     GError      **error)
{
  g_autoptr (GError) local_error = NULL;
  const char *end = NULL;
  gsize       read = 0;
  char       *out;

  if (_msg_charset_is_utf8 (charset))
    {
      if (g_utf8_validate ((const char *) data, len, &end))
        return g_strndup ((const char *) data, len);
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_CHARSET,
                   "The content is not valid %s (byte %" G_GSIZE_FORMAT " is not)",
                   charset != NULL ? charset : "UTF-8", (gsize) (end - (const char *) data));
      return NULL;
    }

  out = g_convert ((const char *) data, len, "UTF-8", g_mime_charset_iconv_name (charset), &read, NULL,
                   &local_error);
  if (out != NULL)
    return out;

  if (g_error_matches (local_error, G_CONVERT_ERROR, G_CONVERT_ERROR_NO_CONVERSION))
    set_unknown_charset (charset, error);
  else
    g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_CHARSET,
                 "The content is not valid %s (byte %" G_GSIZE_FORMAT " is not)", charset, read);
  return NULL;
}

/* The decoded bytes of @part, in memory. */
static GByteArray *
read_content (GMimePart *part)
{
  GMimeDataWrapper *wrapper = g_mime_part_get_content (part);
  g_autoptr (GMimeStream) mem = g_mime_stream_mem_new ();
  GByteArray *array;

  if (wrapper != NULL)
    g_mime_data_wrapper_write_to_stream (wrapper, mem);
  array = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (mem));
  g_mime_stream_mem_set_owner (GMIME_STREAM_MEM (mem), FALSE);
  return array;
}

/* @text with every CRLF and lone CR turned into LF, or into CRLF if
 * @crlf (base64 hides line ends from the wire's canonicalisation: text is
 * encoded with CRLF, RFC 2045 section 6.8). */
static char *
canonical_newlines (const char *text,
                    gboolean    crlf)
{
  GString *out = g_string_sized_new (strlen (text));

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '\r' || *p == '\n')
        {
          g_string_append (out, crlf ? "\r\n" : "\n");
          if (*p == '\r' && p[1] == '\n')
            p++;
        }
      else
        g_string_append_c (out, *p);
    }

  return g_string_free (out, FALSE);
}

/* Sets @text (UTF-8) written in @charset as the content of @part, with
 * the transfer encoding that fits it, or with @keep if that is one that
 * carries any content (the caller chose it). */
static gboolean
set_text_in (GMimePart           *part,
             const char          *text,
             const char          *charset,
             GMimeContentEncoding keep,
             GError             **error)
{
  g_autofree char *lf = canonical_newlines (text, FALSE);
  g_autoptr (GBytes) encoded = NULL;
  g_autoptr (GMimeStream) stream = NULL;
  g_autoptr (GMimeDataWrapper) wrapper = NULL;
  GMimeContentEncoding encoding;
  gsize                len = 0;
  const guint8        *data;

  encoded = _msg_charset_encode (lf, strlen (lf), charset, error);
  if (encoded == NULL)
    return FALSE;
  data = g_bytes_get_data (encoded, &len);
  if (keep == GMIME_CONTENT_ENCODING_BASE64 || keep == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE)
    encoding = keep;
  else
    encoding = _msg_choose_encoding (data, len, TRUE);
  if (encoding == GMIME_CONTENT_ENCODING_BASE64)
    {
      g_autofree char *crlf = canonical_newlines (lf, TRUE);

      g_clear_pointer (&encoded, g_bytes_unref);
      encoded = _msg_charset_encode (crlf, strlen (crlf), charset, error);
      if (encoded == NULL)
        return FALSE;
      data = g_bytes_get_data (encoded, &len);
    }

  stream = len > 0 ? g_mime_stream_mem_new_with_buffer ((const char *) data, len) : g_mime_stream_mem_new ();
  wrapper = g_mime_data_wrapper_new_with_stream (stream, GMIME_CONTENT_ENCODING_DEFAULT);
  g_mime_part_set_content (part, wrapper);
  g_mime_part_set_content_encoding (part, encoding);
  return TRUE;
}

gboolean
_msg_text_part_recode (GMimePart  *part,
                       const char *from,
                       const char *to,
                       GError    **error)
{
  g_autoptr (GByteArray) content = read_content (part);
  g_autofree char *text = NULL;

  text = _msg_charset_decode (content->data, content->len, from, error);
  if (text == NULL)
    return FALSE;
  return set_text_in (part, text, to, g_mime_part_get_content_encoding (part), error);
}

gboolean
_msg_text_part_set_text (GMimePart  *part,
                         const char *text,
                         GError    **error)
{
  const char *charset = g_mime_object_get_content_type_parameter (GMIME_OBJECT (part), "charset");

  return set_text_in (part, text, charset, GMIME_CONTENT_ENCODING_DEFAULT, error);
}
