/* msg-message-mime.c: the MIME tree of a message, parsing and serialisation
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-message-private.h"

#include "msg-body-part-private.h"
#include "msg-charset-private.h"
#include "msg-concat-stream-private.h"
#include "msg-configuration.h"
#include "msg-file-utils-private.h"
#include "msg-header-utils-private.h"
#include "msg-html-to-text-private.h"
#include "msg-mime-sink-private.h"
#include "msg-mime-utils-private.h"

#include <string.h>

/* Text helpers */

/* @text with every CRLF and lone CR turned into LF. */
static char *
normalise_newlines (const char *text)
{
  const char *cr = strchr (text, '\r');
  GString    *out;

  if (cr == NULL)
    return g_strdup (text);

  /* The bytes between CRs are copied in bulk. */
  out = g_string_sized_new (strlen (text));
  for (const char *p = text;; cr = strchr (p, '\r'))
    {
      if (cr == NULL)
        {
          g_string_append (out, p);
          break;
        }
      g_string_append_len (out, p, cr - p);
      g_string_append_c (out, '\n');
      p = cr[1] == '\n' ? cr + 2 : cr + 1;
    }

  return g_string_free (out, FALSE);
}

char *
_msg_make_valid_text (const char *text)
{
  if (text == NULL)
    return NULL;

  if (!g_utf8_validate (text, -1, NULL))
    {
      g_warning ("Message text is not valid UTF-8; invalid bytes are replaced");
      return g_utf8_make_valid (text, -1);
    }

  return g_strdup (text);
}

GMimeObject *
_msg_make_text_part (const char *subtype,
                     const char *text)
{
  g_autofree char     *normal = normalise_newlines (text != NULL ? text : "");
  gsize                len = strlen (normal);
  GMimeContentEncoding encoding = _msg_choose_encoding ((const guint8 *) normal, len, TRUE);
  GMimeTextPart       *part = g_mime_text_part_new_with_subtype (subtype);
  g_autoptr (GMimeStream) stream = NULL;
  g_autoptr (GMimeDataWrapper) wrapper = NULL;

  /* Line ends are canonicalised on the wire, but base64 hides them from
   * that: text is encoded with CRLF line ends (RFC 2045, section 6.8). */
  if (encoding == GMIME_CONTENT_ENCODING_BASE64)
    {
      g_auto (GStrv) lines = g_strsplit (normal, "\n", -1);

      g_free (normal);
      normal = g_strjoinv ("\r\n", lines);
      len = strlen (normal);
    }

  stream = g_mime_stream_mem_new_with_buffer (normal, len);
  wrapper = g_mime_data_wrapper_new_with_stream (stream, GMIME_CONTENT_ENCODING_DEFAULT);
  g_mime_object_set_content_type_parameter (GMIME_OBJECT (part), "charset", "utf-8");
  g_mime_part_set_content (GMIME_PART (part), wrapper);
  g_mime_part_set_content_encoding (GMIME_PART (part), encoding);
  /* Checked above: a write need not scan it for long lines again. */
  if (encoding == GMIME_CONTENT_ENCODING_7BIT)
    _msg_mime_part_mark_short_7bit (GMIME_PART (part));

  return GMIME_OBJECT (part);
}

/* The tree of a parsed message */

static gboolean
is_attachment_disposition (GMimeObject *object)
{
  const char *disposition = g_mime_object_get_disposition (object);

  return disposition != NULL && g_ascii_strcasecmp (disposition, "attachment") == 0;
}

GMimeObject *
_msg_find_text_object (GMimeObject *object,
                       const char  *subtype)
{
  if (GMIME_IS_MULTIPART (object))
    {
      GMimeMultipart *multipart = GMIME_MULTIPART (object);

      for (int i = 0; i < g_mime_multipart_get_count (multipart); i++)
        {
          GMimeObject *found = _msg_find_text_object (g_mime_multipart_get_part (multipart, i), subtype);

          if (found != NULL)
            return found;
        }
      return NULL;
    }

  if (GMIME_IS_TEXT_PART (object) && !is_attachment_disposition (object) &&
      g_mime_content_type_is_type (g_mime_object_get_content_type (object), "text", subtype))
    return object;

  return NULL;
}

void
_msg_collect_attachments (GMimeObject *object,
                          GMimeObject *text,
                          GMimeObject *html,
                          gboolean     in_related,
                          GPtrArray   *out)
{
  if (GMIME_IS_MULTIPART (object))
    {
      GMimeMultipart   *multipart = GMIME_MULTIPART (object);
      GMimeContentType *ct = g_mime_object_get_content_type (object);
      /* The parts of a multipart/alternative are forms of the body (a
       * text/calendar invitation), of a multipart/related resources of
       * the HTML: attachments only when they say so. */
      gboolean inner = g_mime_content_type_is_type (ct, "multipart", "related") ||
                       g_mime_content_type_is_type (ct, "multipart", "alternative");

      for (int i = 0; i < g_mime_multipart_get_count (multipart); i++)
        _msg_collect_attachments (g_mime_multipart_get_part (multipart, i), text, html,
                                  inner, out);
      return;
    }

  if (object == text || object == html)
    return;

  if (in_related && !is_attachment_disposition (object))
    return;

  g_ptr_array_add (out, _msg_body_part_wrap (object));
}

static void
collect_related (GMimeObject *object,
                 GMimeObject *html,
                 GPtrArray   *out)
{
  if (!GMIME_IS_MULTIPART (object))
    return;

  if (g_mime_content_type_is_type (g_mime_object_get_content_type (object), "multipart", "related"))
    {
      GMimeMultipart *multipart = GMIME_MULTIPART (object);

      for (int i = 0; i < g_mime_multipart_get_count (multipart); i++)
        {
          GMimeObject *child = g_mime_multipart_get_part (multipart, i);

          if (child != html && !GMIME_IS_MULTIPART (child) && !is_attachment_disposition (child))
            g_ptr_array_add (out, _msg_body_part_wrap (child));
        }
      return;
    }

  for (int i = 0; i < g_mime_multipart_get_count (GMIME_MULTIPART (object)); i++)
    collect_related (g_mime_multipart_get_part (GMIME_MULTIPART (object), i), html, out);
}

static gboolean
array_has_object (GPtrArray   *parts,
                  GMimeObject *object)
{
  for (guint i = 0; i < parts->len; i++)
    if (_msg_body_part_get_object (g_ptr_array_index (parts, i)) == object)
      return TRUE;
  return FALSE;
}

/* Calls @func on each leaf below @object that is neither @text nor @html
 * nor in @attachments or @related: a part the library would not put back
 * when it builds the tree. Returns whether there was one. */
static gboolean
find_leftovers (GMimeObject *object,
                GMimeObject *text,
                GMimeObject *html,
                GPtrArray   *attachments,
                GPtrArray   *related,
                GPtrArray   *out)
{
  gboolean found = FALSE;

  if (GMIME_IS_MULTIPART (object))
    {
      for (int i = 0; i < g_mime_multipart_get_count (GMIME_MULTIPART (object)); i++)
        found |= find_leftovers (g_mime_multipart_get_part (GMIME_MULTIPART (object), i), text, html, attachments,
                                 related, out);
      return found;
    }

  if (object == text || object == html || array_has_object (attachments, object) ||
      array_has_object (related, object))
    return FALSE;

  if (out != NULL)
    g_ptr_array_add (out, _msg_body_part_wrap (object));
  return TRUE;
}

/* Whether the tree of a parsed message holds parts that the library
 * would not build again (a text/calendar alternative, a delivery
 * status): then it is edited in place, as one the caller built. */
gboolean
_msg_message_keeps_tree (MsgMessage *self)
{
  GMimeObject *root;
  GMimeObject *text;
  GMimeObject *html;
  g_autoptr (GPtrArray) attachments = NULL;
  g_autoptr (GPtrArray) related = NULL;

  _msg_message_unseal (self);
  if (self->hand_built || !self->parsed)
    return self->hand_built;

  root = g_mime_message_get_mime_part (self->mime);
  if (root == NULL)
    return FALSE;

  text = _msg_find_text_object (root, "plain");
  html = _msg_find_text_object (root, "html");
  attachments = g_ptr_array_new_with_free_func (g_object_unref);
  related = g_ptr_array_new_with_free_func (g_object_unref);
  _msg_collect_attachments (root, text, html, FALSE, attachments);
  collect_related (root, html, related);
  if (find_leftovers (root, text, html, attachments, related, NULL))
    {
      self->hand_built = TRUE;
      _msg_message_link_tree (self);
    }
  return self->hand_built;
}

/* Turns a parsed message into a built one, keeping its content, before
 * its body is changed. */
void
_msg_message_materialise (MsgMessage *self)
{
  GMimeObject *root;
  GMimeObject *text;
  GMimeObject *html;

  _msg_message_unseal (self);
  if (!self->parsed)
    return;

  root = g_mime_message_get_mime_part (self->mime);
  text = root != NULL ? _msg_find_text_object (root, "plain") : NULL;
  html = root != NULL ? _msg_find_text_object (root, "html") : NULL;

  g_clear_pointer (&self->text_body, g_free);
  g_clear_pointer (&self->html_body, g_free);
  g_ptr_array_set_size (self->attachments, 0);
  g_ptr_array_set_size (self->related, 0);

  if (text != NULL)
    self->text_body = _msg_body_part_get_text (text);
  if (html != NULL)
    self->html_body = _msg_body_part_get_text (html);
  if (root != NULL)
    {
      _msg_collect_attachments (root, text, html, FALSE, self->attachments);
      collect_related (root, html, self->related);
      /* Nothing is dropped: the other parts become attachments. */
      find_leftovers (root, text, html, self->attachments, self->related, self->attachments);
    }

  self->parsed = FALSE;
  self->hand_built = FALSE;
  self->dirty = TRUE;
}

/* Building the tree */

static gboolean
autopromote (MsgMessage *self)
{
  return msg_configuration_get_boolean (self->configuration, "autopromotebodyparts");
}

static GMimeObject *
wrap_multipart (MsgMessage  *self,
                const char  *subtype,
                GMimeObject *first,
                GPtrArray   *more)
{
  GMimeMultipart *multipart;
  guint           n = (first != NULL ? 1 : 0) + (more != NULL ? more->len : 0);

  if (n == 1 && first != NULL && autopromote (self))
    return g_object_ref (first);

  multipart = g_mime_multipart_new_with_subtype (subtype);
  if (first != NULL)
    g_mime_multipart_add (multipart, first);
  for (guint i = 0; more != NULL && i < more->len; i++)
    g_mime_multipart_add (multipart, _msg_body_part_get_object (g_ptr_array_index (more, i)));

  return GMIME_OBJECT (multipart);
}

static GMimeObject *
build_uuencoded_body (MsgMessage *self)
{
  g_autofree char *text = normalise_newlines (self->text_body != NULL ? self->text_body : "");
  g_autoptr (GMimeStream) cat = _msg_concat_stream_new ();
  g_autoptr (GMimeDataWrapper) wrapper = NULL;
  GMimeContentEncoding encoding;
  GMimeTextPart       *part;
  gsize                len = strlen (text);

  encoding = _msg_choose_encoding ((const guint8 *) text, len, TRUE);
  if (encoding == GMIME_CONTENT_ENCODING_BASE64)
    encoding = GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;

  {
    g_autoptr (GMimeStream) mem = g_mime_stream_mem_new_with_buffer (text, len);

    _msg_concat_stream_add (MSG_CONCAT_STREAM (cat), mem);
  }

  for (guint i = 0; i < self->attachments->len; i++)
    {
      MsgBodyPart     *attachment = g_ptr_array_index (self->attachments, i);
      g_autofree char *filename = msg_body_part_get_filename (attachment);
      g_autofree char *begin = NULL;
      g_autoptr (GMimeStream) head = NULL;
      g_autoptr (GMimeStream) tail = NULL;
      g_autoptr (GMimeStream) decoded = NULL;
      g_autoptr (GMimeStream) filtered = NULL;
      g_autoptr (GMimeFilter) filter = NULL;

      decoded = _msg_body_part_open_decoded (attachment);
      if (decoded == NULL)
        continue;

      begin = g_strdup_printf ("%sbegin 644 %s\n",
                               (len > 0 && text[len - 1] != '\n') || i > 0 ? "\n" : "",
                               filename != NULL ? filename : "attachment");
      head = g_mime_stream_mem_new_with_buffer (begin, strlen (begin));
      filtered = g_mime_stream_filter_new (decoded);
      filter = g_mime_filter_basic_new (GMIME_CONTENT_ENCODING_UUENCODE, TRUE);
      g_mime_stream_filter_add (GMIME_STREAM_FILTER (filtered), filter);
      tail = g_mime_stream_mem_new_with_buffer ("end\n", 4);

      _msg_concat_stream_add (MSG_CONCAT_STREAM (cat), head);
      _msg_concat_stream_add (MSG_CONCAT_STREAM (cat), filtered);
      _msg_concat_stream_add (MSG_CONCAT_STREAM (cat), tail);
    }

  part = g_mime_text_part_new_with_subtype ("plain");
  g_mime_object_set_content_type_parameter (GMIME_OBJECT (part), "charset",
                                            encoding == GMIME_CONTENT_ENCODING_7BIT ? "us-ascii" : "utf-8");
  wrapper = g_mime_data_wrapper_new_with_stream (cat, GMIME_CONTENT_ENCODING_DEFAULT);
  g_mime_part_set_content (GMIME_PART (part), wrapper);
  g_mime_part_set_content_encoding (GMIME_PART (part), encoding);
  self->plain_rfc822 = encoding == GMIME_CONTENT_ENCODING_7BIT;

  return GMIME_OBJECT (part);
}

/* A text part of @text in @charset (the charset its caller set on the
 * part of the previous build), else in UTF-8. */
static GMimeObject *
make_text_part_in (const char *subtype,
                   const char *text,
                   const char *charset)
{
  g_autoptr (GMimeObject) part = _msg_make_text_part (subtype, text);
  g_autoptr (GError) error = NULL;

  if (_msg_charset_is_utf8 (charset))
    return g_steal_pointer (&part);

  g_mime_object_set_content_type_parameter (part, "charset", charset);
  if (_msg_text_part_set_text (GMIME_PART (part), text != NULL ? text : "", &error))
    return g_steal_pointer (&part);

  /* The body changed after its charset was set, to text the charset
   * cannot hold: UTF-8 holds everything. */
  g_warning ("The %s body is written in UTF-8 instead of its charset: %s", subtype, error->message);
  return _msg_make_text_part (subtype, text);
}

static char *
charset_of (GMimeObject *part)
{
  return part != NULL ? g_strdup (g_mime_object_get_content_type_parameter (part, "charset")) : NULL;
}

static GMimeObject *
build_body (MsgMessage *self)
{
  g_autofree char *text_charset = charset_of (self->built_text);
  g_autofree char *html_charset = charset_of (self->built_html);
  g_autoptr (GMimeObject) text = NULL;
  g_autoptr (GMimeObject) html = NULL;
  g_autoptr (GMimeObject) alternative = NULL;
  GMimeObject *body;

  self->plain_rfc822 = FALSE;
  g_clear_object (&self->built_text);
  g_clear_object (&self->built_html);
  if (!self->mime_formatted)
    return build_uuencoded_body (self);

  if (self->html_body != NULL)
    {
      html = make_text_part_in ("html", self->html_body, html_charset);
      if (self->text_body == NULL && self->auto_generate_text_body)
        self->text_body = _msg_html_to_text (self->html_body);
    }

  if (self->text_body != NULL || html == NULL)
    text = make_text_part_in ("plain", self->text_body, text_charset);

  g_set_object (&self->built_text, text);
  g_set_object (&self->built_html, html);

  if (self->related->len > 0)
    {
      GMimeObject    **main = html != NULL ? &html : &text;
      g_autofree char *type = g_mime_content_type_get_mime_type (g_mime_object_get_content_type (*main));
      GMimeObject     *related = wrap_multipart (self, "related", *main, self->related);

      if (GMIME_IS_MULTIPART (related))
        g_mime_object_set_content_type_parameter (related, "type", type);
      g_object_unref (*main);
      *main = related;
    }

  if (text != NULL && html != NULL)
    {
      GMimeMultipart *multipart = g_mime_multipart_new_with_subtype ("alternative");

      g_mime_multipart_add (multipart, text);
      g_mime_multipart_add (multipart, html);
      alternative = GMIME_OBJECT (multipart);
    }
  else if (html != NULL)
    alternative = wrap_multipart (self, "alternative", html, NULL);
  else
    alternative = g_object_ref (text);

  if (self->attachments->len > 0)
    body = wrap_multipart (self, "mixed", alternative, self->attachments);
  else
    body = g_object_ref (alternative);

  return body;
}

void
_msg_message_ensure_tree (MsgMessage *self)
{
  g_autoptr (GMimeObject) body = NULL;

  if (!self->parsed && self->dirty)
    {
      body = build_body (self);
      _msg_mime_message_set_root (self->mime, body);
      self->dirty = FALSE;
    }
  _msg_message_link_tree (self);
}

void
_msg_message_link_tree (MsgMessage *self)
{
  GMimeObject *root = g_mime_message_get_mime_part (self->mime);

  if (root != NULL)
    _msg_mime_link_tree (root, G_OBJECT (self));
}

/* Parsing */

static gboolean
headers_look_valid (GMimeHeaderList *headers)
{
  int count = g_mime_header_list_get_count (headers);

  if (count == 0)
    return FALSE;

  for (int i = 0; i < count; i++)
    {
      GMimeHeader *header = g_mime_header_list_get_header_at (headers, i);

      if (!_msg_check_header_name (g_mime_header_get_raw_name (header), NULL))
        return FALSE;
    }

  return TRUE;
}

/* The length of the header block of @data: up to its first empty line
 * (LF or CRLF line ends), or all of it. */
static gsize
header_block_length (const guint8 *data,
                     gsize         len)
{
  gboolean line_start = TRUE;

  for (gsize i = 0; i < len; i++)
    {
      if (line_start && (data[i] == '\n' || (data[i] == '\r' && i + 1 < len && data[i + 1] == '\n')))
        return i;
      line_start = data[i] == '\n';
    }
  return len;
}

/* Whether @data has a lone CR (not followed by LF). */
static gboolean
has_lone_cr (const guint8 *data,
             gsize         len)
{
  const guint8 *p = data;
  const guint8 *end = data + len;

  while ((p = memchr (p, '\r', end - p)) != NULL)
    {
      if (p + 1 == end || p[1] != '\n')
        return TRUE;
      p++;
    }
  return FALSE;
}

/* A copy of @data made safe to parse and write back, or %NULL if it
 * already is. Every lone CR becomes CRLF on output (docs/design.md,
 * decision 3), but GMime's parser takes it for an ordinary character: the
 * parser must see the lines the writer will write. In the header block
 * (@header_len bytes) a lone CR is made a space (`Subject: a\rBcc: x`
 * would otherwise be written as a Bcc header that nobody parsed; GMime's
 * decoded value already drops the CR); everywhere else, where it would be
 * a line break on output, it is made one (LF) now, so a part's headers,
 * its boundaries and its body are parsed as they will be written. An
 * input that ends inside its header block gets a final line end, else a
 * header added later would continue its line. */
static guint8 *
repair_input (const guint8 *data,
              gsize         len,
              gsize         header_len,
              gsize        *out_len)
{
  gboolean unterminated = header_len == len && data[len - 1] != '\n';
  guint8  *copy;

  if (!unterminated && !has_lone_cr (data, len))
    return NULL;

  *out_len = len + (unterminated ? 1 : 0);
  copy = g_malloc (*out_len);
  memcpy (copy, data, len);
  for (gsize i = 0; i < len; i++)
    if (copy[i] == '\r' && (i + 1 == len || copy[i + 1] != '\n'))
      copy[i] = i < header_len ? ' ' : '\n';
  if (unterminated)
    copy[len] = '\n';

  return copy;
}

/**
 * msg_message_new_from_bytes:
 * @bytes: an RFC 5322 message
 * @error: return location for an error
 *
 * Parses a message (CDO `DataSource.OpenObject`). Its headers are
 * available through the properties, its MIME tree through
 * [method@Message.get_body_part]; written back unchanged, it gives the same
 * bytes with CRLF line ends, except that GMime writes an empty line after
 * the closing boundary of a nested multipart that had none.
 *
 * The input is untrusted, and what is written back is only what the
 * object model sees: a lone CR (not followed by LF) in the message's
 * header block is read and written as a space; anywhere else it is read as
 * the line break it becomes on output (it was already written as CRLF), so
 * a part is parsed as it will be written; a control
 * character in a decoded `Content-Type` or `Content-Disposition` parameter
 * (such as `filename*=utf-8''a%0D%0ABcc%3A%20x`) is made a space before
 * anything can regenerate the header; an input that ends inside its
 * header block is given a final line end.
 *
 * Returns: (transfer full): the message, or %NULL with
 *   %MSG_MESSAGE_ERROR_PARSE if the input is not a message
 */
MsgMessage *
msg_message_new_from_bytes (GBytes  *bytes,
                            GError **error)
{
  g_autoptr (GMimeStream) stream = NULL;
  g_autoptr (GMimeParser) parser = NULL;
  g_autoptr (GMimeMessage) mime = NULL;
  g_autofree guint8 *repaired = NULL;
  MsgMessage        *self;
  gsize              len = 0;
  const guint8      *data;

  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  _msg_gmime_ensure_init ();

  data = g_bytes_get_data (bytes, &len);
  if (len == 0)
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_PARSE,
                           "The input is empty, not a message");
      return NULL;
    }

  /* RFC 5322 forbids NUL; GMime stops a header at one and may then take
   * the body for headers on output. */
  if (memchr (data, '\0', header_block_length (data, len)) != NULL)
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_PARSE,
                           "The input is not a message: its header contains a NUL byte");
      return NULL;
    }

  repaired = repair_input (data, len, header_block_length (data, len), &len);
  if (repaired != NULL)
    data = repaired;

  stream = g_mime_stream_mem_new_with_buffer ((const char *) data, len);
  parser = g_mime_parser_new_with_stream (stream);
  g_mime_parser_set_format (parser, GMIME_FORMAT_MESSAGE);
  mime = g_mime_parser_construct_message (parser, _msg_message_parser_options ());

  if (mime == NULL || !headers_look_valid (g_mime_object_get_header_list (GMIME_OBJECT (mime))))
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_PARSE,
                           "The input is not a message: it does not start with a header");
      return NULL;
    }

  /* Nothing the object model does not see may reach the output. */
  _msg_mime_object_repair_parsed (GMIME_OBJECT (mime));

  self = _msg_message_new_for_mime (mime);
  self->parsed = TRUE;
  self->dirty = FALSE;
  self->auto_generate_text_body = FALSE;
  self->mdn_requested = g_mime_object_get_header (GMIME_OBJECT (mime), "Disposition-Notification-To") != NULL;

  return self;
}

/**
 * msg_message_new_from_stream:
 * @stream: a stream holding an RFC 5322 message
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Reads @stream to its end and parses it as with
 * [ctor@Message.new_from_bytes].
 *
 * Returns: (transfer full): the message, or %NULL on error
 */
MsgMessage *
msg_message_new_from_stream (GInputStream *stream,
                             GCancellable *cancellable,
                             GError      **error)
{
  g_autoptr (GOutputStream) mem = NULL;
  g_autoptr (GBytes) bytes = NULL;

  g_return_val_if_fail (G_IS_INPUT_STREAM (stream), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* Memory and other local streams do not look at the cancellable. */
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  mem = g_memory_output_stream_new_resizable ();
  if (g_output_stream_splice (mem, stream, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET,
                              cancellable, error) < 0)
    return NULL;

  bytes = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (mem));
  return msg_message_new_from_bytes (bytes, error);
}

/**
 * msg_message_new_from_file:
 * @path: (type filename): an `.eml` file
 * @error: return location for an error
 *
 * Reads and parses a message file as with [ctor@Message.new_from_bytes].
 *
 * Returns: (transfer full): the message, or %NULL on error
 */
MsgMessage *
msg_message_new_from_file (const char *path,
                           GError    **error)
{
  g_autofree char *contents = NULL;
  g_autoptr (GBytes) bytes = NULL;
  gsize       length = 0;
  MsgMessage *message;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!g_file_get_contents (path, &contents, &length, error))
    return NULL;

  bytes = g_bytes_new_take (g_steal_pointer (&contents), length);
  message = msg_message_new_from_bytes (bytes, error);
  if (message != NULL)
    _msg_message_bind_source (message, path);
  return message;
}

/* Serialisation */

/**
 * msg_message_to_bytes:
 * @self: a message
 * @error: return location for an error
 *
 * Serialises the message as RFC 5322 with CRLF line ends (CDO
 * `GetStream`), `Bcc` included. File attachments are read now.
 *
 * Returns: (transfer full): the message, or %NULL on error (an attachment
 *   that cannot be read)
 */
GBytes *
msg_message_to_bytes (MsgMessage *self,
                      GError    **error)
{
  g_autoptr (GOutputStream) mem = NULL;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  mem = g_memory_output_stream_new_resizable ();
  if (!msg_message_write_to_stream_full (self, mem, MSG_WRITE_FLAGS_NONE, NULL, error))
    return NULL;
  if (!g_output_stream_close (mem, NULL, error))
    return NULL;

  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (mem));
}

/**
 * msg_message_write_to_stream:
 * @self: a message
 * @stream: where to write
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Writes the message as [method@Message.to_bytes] does, streamed: file
 * attachments are read piece by piece while they are written.
 *
 * Returns: %TRUE on success
 */
gboolean
msg_message_write_to_stream (MsgMessage    *self,
                             GOutputStream *stream,
                             GCancellable  *cancellable,
                             GError       **error)
{
  return msg_message_write_to_stream_full (self, stream, MSG_WRITE_FLAGS_NONE, cancellable, error);
}

/**
 * msg_message_write_to_stream_full:
 * @self: a message
 * @stream: where to write
 * @flags: what to leave out
 * @cancellable: (nullable): a cancellable, checked before every write
 * @error: return location for an error
 *
 * Writes the message as RFC 5322 with CRLF line ends (every lone CR or LF
 * becomes CRLF), streaming file attachments. With
 * %MSG_WRITE_FLAGS_OMIT_BCC the `Bcc` header is left out (SMTP); with
 * %MSG_WRITE_FLAGS_NEWS, `Bcc`, `Disposition-Notification-To` and
 * `Return-Receipt-To` are left out (NNTP). The header block is checked
 * once more as it is written: a line that is not a header or longer than
 * 998 octets is %MSG_MESSAGE_ERROR_INVALID_HEADER. @stream is flushed, not
 * closed.
 *
 * Returns: %TRUE on success
 */
gboolean
msg_message_write_to_stream_full (MsgMessage    *self,
                                  GOutputStream *stream,
                                  MsgWriteFlags  flags,
                                  GCancellable  *cancellable,
                                  GError       **error)
{
  g_autoptr (GMimeFormatOptions) options = NULL;
  g_autoptr (GMimeStream) sink = NULL;
  GPtrArray *saved = NULL;
  ssize_t    written;
  gboolean   ok;
  gboolean   spooled;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), FALSE);
  g_return_val_if_fail (G_IS_OUTPUT_STREAM (stream), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  /* Measured in this operation: the same bytes again (decision 13). */
  ok = _msg_message_write_spool (self, stream, flags, &spooled, cancellable, error);
  if (spooled)
    return ok;

  _msg_message_ensure_tree (self);

  /* The last line of defence: a header whose value would be written as
   * more than one header line is refused, whatever put it there. */
  if (!_msg_mime_object_check_headers (GMIME_OBJECT (self->mime), error))
    return FALSE;

  options = g_mime_format_options_new ();
  g_mime_format_options_set_newline_format (options, GMIME_NEWLINE_FORMAT_DOS);
  if (flags & (MSG_WRITE_FLAGS_OMIT_BCC | MSG_WRITE_FLAGS_NEWS))
    g_mime_format_options_add_hidden_header (options, "Bcc");
  if (flags & MSG_WRITE_FLAGS_NEWS)
    {
      g_mime_format_options_add_hidden_header (options, "Disposition-Notification-To");
      g_mime_format_options_add_hidden_header (options, "Return-Receipt-To");
    }
  if (!self->parsed && !self->mime_formatted && self->plain_rfc822)
    {
      g_mime_format_options_add_hidden_header (options, "MIME-Version");
      g_mime_format_options_add_hidden_header (options, "Content-Type");
      g_mime_format_options_add_hidden_header (options, "Content-Transfer-Encoding");
    }

  /* MSG_WRITE_FLAGS_LINE_LIMIT, _7BIT: for this write only. */
  if (!_msg_message_encode_for_write (self, flags, &saved, error))
    {
      _msg_message_restore_encodings (saved);
      return FALSE;
    }
  _msg_stream_error_clear ();
  sink = _msg_mime_sink_new (stream, cancellable, TRUE);
  written = _msg_mime_message_write (self->mime, options, sink);
  _msg_message_restore_encodings (saved);
  ok = _msg_mime_sink_finish (MSG_MIME_SINK (sink), error);
  if (ok && written < 0)
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED,
                           "The message could not be written");
      ok = FALSE;
    }

  _msg_mime_object_release_files (g_mime_message_get_mime_part (self->mime));
  for (guint i = 0; i < self->attachments->len; i++)
    _msg_mime_object_release_files (_msg_body_part_get_object (g_ptr_array_index (self->attachments, i)));

  if (ok)
    ok = g_output_stream_flush (stream, cancellable, error);

  return ok;
}

static gboolean
write_message_cb (GOutputStream *output,
                  gpointer       user_data,
                  GCancellable  *cancellable,
                  GError       **error)
{
  return msg_message_write_to_stream_full (MSG_MESSAGE (user_data), output,
                                           MSG_WRITE_FLAGS_NONE, cancellable, error);
}

/**
 * msg_message_save_to_file:
 * @self: a message
 * @path: (type filename): the file to write
 * @error: return location for an error
 *
 * Writes the message to @path as [method@Message.to_bytes] does (CDO
 * `DataSource.SaveToFile`). The write is atomic: a temporary file in the
 * same directory is synced and renamed over @path, so @path is either the
 * complete message or left as it was; no partial file remains on error.
 * A new file is mode 0600, whatever the umask (the message may hold Bcc
 * recipients); a file it replaces keeps its mode.
 *
 * Returns: %TRUE on success, and the message is then bound to @path
 *   ([method@Message.save], [method@Message.get_is_dirty])
 */
gboolean
msg_message_save_to_file (MsgMessage *self,
                          const char *path,
                          GError    **error)
{
  g_return_val_if_fail (MSG_IS_MESSAGE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!_msg_write_file_atomically (path, write_message_cb, self, error))
    return FALSE;
  _msg_message_bind_source (self, path);
  return TRUE;
}
