/* msg-mime-utils.c: GMime set-up and the choice of transfer encodings
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-mime-utils-private.h"

#include "msg-message.h"

#include <string.h>

/* GMime set-up */

void
_msg_gmime_ensure_init (void)
{
  static gsize initialised = 0;

  if (g_once_init_enter (&initialised))
    {
      g_mime_init ();
      g_once_init_leave (&initialised, 1);
    }
}

GMimeParserOptions *
_msg_parser_options (void)
{
  static GMimeParserOptions *options = NULL;

  if (g_once_init_enter (&options))
    {
      GMimeParserOptions *o;

      _msg_gmime_ensure_init ();
      o = g_mime_parser_options_new ();
      g_mime_parser_options_set_address_compliance_mode (o, GMIME_RFC_COMPLIANCE_STRICT);
      g_once_init_leave (&options, o);
    }

  return options;
}

/* Options for parsing whole messages: GMime's default (loose) address
 * compliance. Its strict address parser leaks memory on input such as a
 * stray ">" (GMime 3.2), which any received message may hold; values set
 * through the API are checked by _msg_parse_address_list() instead. */
GMimeParserOptions *
_msg_message_parser_options (void)
{
  static GMimeParserOptions *options = NULL;

  if (g_once_init_enter (&options))
    {
      GMimeParserOptions *o;

      _msg_gmime_ensure_init ();
      o = g_mime_parser_options_new ();
      g_mime_parser_options_set_address_compliance_mode (o, GMIME_RFC_COMPLIANCE_LOOSE);
      g_once_init_leave (&options, o);
    }

  return options;
}

gboolean
_msg_is_forbidden_control (guchar c)
{
  return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* Encodings */

/* What _msg_mime_part_mark_short_7bit() saw: the content and its stream,
 * held so that their addresses cannot be reused by others. */
typedef struct
{
  GMimeDataWrapper *content; /* (owned) */
  GMimeStream      *stream;  /* (owned) */
} ShortSevenBit;

static void
short_7bit_free (gpointer data)
{
  ShortSevenBit *mark = data;

  g_object_unref (mark->content);
  g_object_unref (mark->stream);
  g_free (mark);
}

static GQuark
short_7bit_quark (void)
{
  return g_quark_from_static_string ("msgobj-short-7bit");
}

void
_msg_mime_part_mark_short_7bit (GMimePart *part)
{
  GMimeDataWrapper *content = g_mime_part_get_content (part);
  ShortSevenBit    *mark;

  if (content == NULL || g_mime_data_wrapper_get_stream (content) == NULL)
    return;
  mark = g_new0 (ShortSevenBit, 1);
  mark->content = g_object_ref (content);
  mark->stream = g_object_ref (g_mime_data_wrapper_get_stream (content));
  g_object_set_qdata_full (G_OBJECT (part), short_7bit_quark (), mark, short_7bit_free);
}

gboolean
_msg_mime_part_is_short_7bit (GMimePart *part)
{
  ShortSevenBit    *mark = g_object_get_qdata (G_OBJECT (part), short_7bit_quark ());
  GMimeDataWrapper *content = g_mime_part_get_content (part);

  return mark != NULL && content == mark->content &&
         g_mime_data_wrapper_get_stream (content) == mark->stream &&
         g_mime_data_wrapper_get_encoding (content) == GMIME_CONTENT_ENCODING_DEFAULT &&
         g_mime_part_get_content_encoding (part) == GMIME_CONTENT_ENCODING_7BIT;
}

GMimeContentEncoding
_msg_choose_encoding (const guint8 *data,
                      gsize         len,
                      gboolean      is_text)
{
  gsize    n_8bit = 0;
  gsize    line = 0;
  gsize    max_line = 0;
  gboolean controls = FALSE;
  gboolean nul = FALSE;

  if (!is_text)
    return GMIME_CONTENT_ENCODING_BASE64;

  for (gsize i = 0; i < len; i++)
    {
      guchar c = data[i];

      /* Printable ASCII, most text, first. */
      if (c >= 0x20 && c < 0x7f)
        {
          line++;
          continue;
        }

      if (c == '\n')
        {
          max_line = MAX (max_line, line);
          line = 0;
          continue;
        }

      if (c == '\r')
        {
          if (i + 1 < len && data[i + 1] == '\n')
            continue;
          /* A lone CR. */
          controls = TRUE;
        }
      else if (c == '\0')
        nul = TRUE;
      else if (c >= 0x80)
        n_8bit++;
      else if (_msg_is_forbidden_control (c))
        controls = TRUE;

      line++;
    }
  max_line = MAX (max_line, line);

  if (nul)
    return GMIME_CONTENT_ENCODING_BASE64;

  if (n_8bit == 0 && !controls && max_line <= MSG_MAX_LINE_OCTETS)
    return GMIME_CONTENT_ENCODING_7BIT;

  /* Mostly ASCII: quoted-printable stays readable; otherwise base64 is
   * shorter. */
  if (n_8bit * 100 <= len * 17)
    return GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;

  return GMIME_CONTENT_ENCODING_BASE64;
}

/* Parsed input */

static gboolean
has_lone_cr (const char *raw)
{
  for (const char *p = raw; *p != '\0'; p++)
    if (p[0] == '\r' && p[1] != '\n')
      return TRUE;
  return FALSE;
}

/* A bare CR inside a header value is kept by GMime's parser as part of the
 * value, but every lone CR becomes CRLF on output (docs/design.md,
 * decision 3): it would start a header line that nobody parsed. It is made
 * a space, as the header's parsed value already treats it. */
static void
repair_header_list (GMimeHeaderList *headers)
{
  int count = g_mime_header_list_get_count (headers);

  for (int i = 0; i < count; i++)
    {
      GMimeHeader     *header = g_mime_header_list_get_header_at (headers, i);
      const char      *raw = g_mime_header_get_raw_value (header);
      g_autofree char *fixed = NULL;

      gboolean unterminated;

      if (raw == NULL)
        continue;
      /* The last header of an input that ends inside it has no line end:
       * a header added after it would be written on the same line. */
      unterminated = *raw == '\0' || raw[strlen (raw) - 1] != '\n';
      if (!unterminated && !has_lone_cr (raw))
        continue;

      fixed = g_strconcat (raw, unterminated ? "\n" : "", NULL);
      for (char *p = fixed; *p != '\0'; p++)
        if (p[0] == '\r' && p[1] != '\n')
          *p = ' ';
      g_mime_header_set_raw_value (header, fixed);
    }
}

/* A parameter whose decoded value holds a control character (RFC 2231
 * "%0D%0A", a quoted CR) would be written back raw the moment GMime
 * regenerates its header: the controls are made spaces now, and a
 * duplicate parameter is dropped. Changing a value regenerates the
 * header, so only a hostile or malformed one is touched.
 *
 * Linear in the number of parameters: a hostile header may hold tens of
 * thousands (one per four octets). Looking each name up among the earlier
 * ones, and setting each bad value (every set regenerates the whole
 * header), made a 44 KB message take over a second to parse and a
 * 180 KB one over ten (found profiling fuzz-message, issue 14). */

/* GMime writes an empty value as `name=`, which its parser then takes
 * for the end of the list: the parameters after it would be lost. */
static gboolean
is_empty_parameter (GMimeParam *param)
{
  const char *value = g_mime_param_get_value (param);

  return value == NULL || *value == '\0';
}

/* GMime 3.2 regenerates a parameter whose name is around 72 octets,
 * and a value long enough to be folded, as endless RFC 2231
 * continuations: the header grows until memory runs out (found by
 * fuzz-message, issue 14); names with 8-bit bytes do it at other lengths.
 * Parameter names are RFC 2045 tokens and short in practice (the longest
 * registered is `modification-date`): anything else is dropped. */
#define MAX_PARAMETER_NAME 40

static gboolean
is_writable_parameter_name (const char *name)
{
  gsize len = name != NULL ? strlen (name) : 0;

  if (len == 0 || len > MAX_PARAMETER_NAME)
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if ((guchar) *p <= ' ' || (guchar) *p >= 0x7f || strchr ("()<>@,;:\\\"/[]?=", *p) != NULL)
      return FALSE;
  return TRUE;
}

/* Removes the parameters given twice (read from their first occurrence;
 * GMime regenerates the duplicates as clashing RFC 2231 continuations
 * that read back as another value), the empty ones and those GMime cannot
 * write back (see above). Removing one does not regenerate the header
 * (GMime 3.2). Returns whether any was. */
static gboolean
remove_duplicate_parameters (GMimeParamList *params)
{
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GArray) drop = g_array_new (FALSE, FALSE, sizeof (int));
  int count = g_mime_param_list_length (params);

  for (int i = 0; i < count; i++)
    {
      GMimeParam *param = g_mime_param_list_get_parameter_at (params, i);
      const char *name = g_mime_param_get_name (param);

      if (!is_writable_parameter_name (name) || !g_hash_table_add (seen, g_ascii_strdown (name, -1)) ||
          is_empty_parameter (param))
        g_array_append_val (drop, i);
    }

  /* From the end: each removal moves only the parameters after it. */
  for (guint k = drop->len; k > 0; k--)
    g_mime_param_list_remove_at (params, g_array_index (drop, int, k - 1));

  return drop->len > 0;
}

static void
repair_parameters (GMimeParamList *params)
{
  GMimeParam      *changed = NULL;
  g_autofree char *value = NULL;
  gboolean         removed;
  int              count;

  if (params == NULL)
    return;

  removed = remove_duplicate_parameters (params);
  count = g_mime_param_list_length (params);

  /* The values are fixed in place (the field is public) and the header
   * is regenerated once, by setting the last value changed again. */
  for (int i = 0; i < count; i++)
    {
      GMimeParam *param = g_mime_param_list_get_parameter_at (params, i);

      for (char *p = param->value; p != NULL && *p != '\0'; p++)
        if (_msg_is_forbidden_control ((guchar) *p))
          {
            *p = ' ';
            changed = param;
          }
    }
  if (changed == NULL && removed && count > 0)
    changed = g_mime_param_list_get_parameter_at (params, 0);
  if (changed == NULL)
    return;

  value = g_strdup (g_mime_param_get_value (changed));
  g_mime_param_set_value (changed, value);
}

/* Whether @boundary is an enclosing multipart's (in @ancestors), or one
 * is a prefix of the other: RFC 2046 section 5.1.1 forbids both, since
 * a delimiter line would then belong to either multipart. */
static gboolean
boundary_conflicts (const char *boundary,
                    GPtrArray  *ancestors)
{
  for (guint i = 0; i < ancestors->len; i++)
    {
      const char *outer = g_ptr_array_index (ancestors, i);

      if (g_str_has_prefix (outer, boundary) || g_str_has_prefix (boundary, outer))
        return TRUE;
    }
  return FALSE;
}

/* A multipart's parameters are repaired like any others, but a boundary
 * they change (a control made a space, a duplicate or empty one dropped)
 * would no longer be the one the parts were found with: text of the
 * preamble or of a part that held the new value would read back as
 * delimiters, and parts the model never saw would appear (found by
 * fuzz-message, issue 14). So would a boundary that an enclosing
 * multipart's delimiters match: GMime writes no close delimiter for a
 * multipart that had none, and a re-parse then gives the enclosing
 * multipart's next delimiter to this one. Such a multipart gets a fresh
 * random boundary, which no content can hold by chance. */
static void
repair_boundary (GMimeMultipart *multipart,
                 GPtrArray      *ancestors)
{
  GMimeContentType *type = g_mime_object_get_content_type (GMIME_OBJECT (multipart));
  g_autofree char  *before = g_strdup (g_mime_content_type_get_parameter (type, "boundary"));
  const char       *after;

  repair_parameters (g_mime_content_type_get_parameters (type));
  after = g_mime_content_type_get_parameter (type, "boundary");
  if (before != NULL && (g_strcmp0 (before, after) != 0 || boundary_conflicts (before, ancestors)))
    g_mime_multipart_set_boundary (multipart, NULL);
}

static void repair_parsed (GMimeObject *object,
                           GPtrArray   *ancestors);

/* The parts of @multipart, under its boundary. */
static void
repair_children (GMimeMultipart *multipart,
                 GPtrArray      *ancestors)
{
  const char *boundary = g_mime_multipart_get_boundary (multipart);

  if (boundary != NULL)
    g_ptr_array_add (ancestors, (gpointer) boundary);
  for (int i = 0; i < g_mime_multipart_get_count (multipart); i++)
    repair_parsed (g_mime_multipart_get_part (multipart, i), ancestors);
  if (boundary != NULL)
    g_ptr_array_set_size (ancestors, ancestors->len - 1);
}

void
_msg_mime_object_repair_parsed (GMimeObject *object)
{
  g_autoptr (GPtrArray) ancestors = g_ptr_array_new ();

  repair_parsed (object, ancestors);
}

/* @ancestors: the boundaries of the enclosing multiparts, an embedded
 * message's included (its text lies inside their parts). */
static void
repair_parsed (GMimeObject *object,
               GPtrArray   *ancestors)
{
  GMimeContentDisposition *disposition;

  if (object == NULL)
    return;

  repair_header_list (g_mime_object_get_header_list (object));
  if (GMIME_IS_MULTIPART (object))
    repair_boundary (GMIME_MULTIPART (object), ancestors);
  else if (!GMIME_IS_MESSAGE (object))
    repair_parameters (g_mime_content_type_get_parameters (g_mime_object_get_content_type (object)));
  disposition = g_mime_object_get_content_disposition (object);
  if (disposition != NULL)
    repair_parameters (g_mime_content_disposition_get_parameters (disposition));

  if (GMIME_IS_MESSAGE (object))
    repair_parsed (g_mime_message_get_mime_part (GMIME_MESSAGE (object)), ancestors);
  else if (GMIME_IS_MESSAGE_PART (object))
    repair_parsed (GMIME_OBJECT (g_mime_message_part_get_message (GMIME_MESSAGE_PART (object))), ancestors);
  else if (GMIME_IS_MULTIPART (object))
    repair_children (GMIME_MULTIPART (object), ancestors);
}

/* Serialisation */

/* Whether @raw, a header's raw value, is one header: every line break is
 * CRLF or LF, followed by white space (a folded line) or ending it, and
 * it ends with one (else the next header would continue its line). */
static gboolean
raw_value_is_one_header (const char *raw)
{
  if (*raw == '\0' || raw[strlen (raw) - 1] != '\n')
    return FALSE;

  for (const char *p = raw; *p != '\0'; p++)
    {
      if (*p == '\r')
        {
          if (p[1] != '\n')
            return FALSE;
          continue;
        }
      if (*p == '\n' && p[1] != '\0' && p[1] != ' ' && p[1] != '\t')
        return FALSE;
    }
  return TRUE;
}

gboolean
_msg_mime_object_check_headers (GMimeObject *object,
                                GError     **error)
{
  GMimeHeaderList *headers;
  int              count;

  if (object == NULL)
    return TRUE;

  headers = g_mime_object_get_header_list (object);
  count = g_mime_header_list_get_count (headers);
  for (int i = 0; i < count; i++)
    {
      GMimeHeader *header = g_mime_header_list_get_header_at (headers, i);
      const char  *raw = g_mime_header_get_raw_value (header);

      if (raw != NULL && !raw_value_is_one_header (raw))
        {
          g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                       "The header “%s” holds a line break that would start a header of its own",
                       g_mime_header_get_name (header));
          return FALSE;
        }
    }

  if (GMIME_IS_MESSAGE (object))
    return _msg_mime_object_check_headers (g_mime_message_get_mime_part (GMIME_MESSAGE (object)), error);
  if (GMIME_IS_MESSAGE_PART (object))
    return _msg_mime_object_check_headers (GMIME_OBJECT (g_mime_message_part_get_message (GMIME_MESSAGE_PART (object))), error);
  if (GMIME_IS_MULTIPART (object))
    for (int i = 0; i < g_mime_multipart_get_count (GMIME_MULTIPART (object)); i++)
      if (!_msg_mime_object_check_headers (g_mime_multipart_get_part (GMIME_MULTIPART (object), i), error))
        return FALSE;

  return TRUE;
}

/* GMime writes the headers of a message's root part in the message's own
 * header block. A parsed root holds only Content-* fields, but a nested
 * part promoted to the root (the signed content of a multipart/signed
 * whose signature is dropped, the one part left after a removal, a text
 * part rebuilt into the body) keeps whatever its own header block held:
 * a From, Date or Bcc there would become a header of the message that the
 * model never reads and that the envelope never sees (found by
 * fuzz-message, issue 14). Outside the root, only Content-* fields mean
 * anything in a part (RFC 2045), so the others are dropped here. */
void
_msg_mime_message_set_root (GMimeMessage *message,
                            GMimeObject  *root)
{
  if (root != NULL)
    {
      GMimeHeaderList *headers = g_mime_object_get_header_list (root);

      for (int i = g_mime_header_list_get_count (headers) - 1; i >= 0; i--)
        {
          GMimeHeader *header = g_mime_header_list_get_header_at (headers, i);

          if (g_ascii_strncasecmp (g_mime_header_get_name (header), "Content-", 8) != 0)
            g_mime_header_list_remove_at (headers, i);
        }
    }
  g_mime_message_set_mime_part (message, root);
}

/* Appends @header unless @options hides it: its raw name, a colon and
 * its raw value, every LF not after a CR made CRLF (GMime's unix2dos
 * filter; the character before the value is the colon). */
static void
append_header (GString            *block,
               GMimeHeader        *header,
               GMimeFormatOptions *options)
{
  const char *raw = g_mime_header_get_raw_value (header);

  if (raw == NULL || g_mime_format_options_is_hidden_header (options, g_mime_header_get_name (header)))
    return;
  g_string_append (block, g_mime_header_get_raw_name (header));
  g_string_append_c (block, ':');
  for (const char *p = raw, *lf; *p != '\0'; p = lf + 1)
    {
      lf = strchr (p, '\n');
      if (lf == NULL)
        {
          g_string_append (block, p);
          break;
        }
      g_string_append_len (block, p, lf - p);
      if (lf == raw || lf[-1] != '\r')
        g_string_append_c (block, '\r');
      g_string_append_c (block, '\n');
    }
}

/* The header block GMime's message writer makes: the message's headers
 * and its root part's, in the order of their offsets while the root's
 * were parsed with the message, then the rest of each list. */
static void
append_header_block (GString            *block,
                     GMimeHeaderList    *headers,
                     GMimeHeaderList    *root_headers,
                     GMimeFormatOptions *options)
{
  int count = g_mime_header_list_get_count (headers);
  int root_count = root_headers != NULL ? g_mime_header_list_get_count (root_headers) : 0;
  int i = 0;
  int j = 0;

  while (i < count && j < root_count)
    {
      GMimeHeader *root_header = g_mime_header_list_get_header_at (root_headers, j);
      GMimeHeader *header = g_mime_header_list_get_header_at (headers, i);
      gint64       root_offset = g_mime_header_get_offset (root_header);

      if (root_offset < 0)
        break;
      if (g_mime_header_get_offset (header) < root_offset)
        {
          append_header (block, header, options);
          i++;
        }
      else
        {
          append_header (block, root_header, options);
          j++;
        }
    }
  for (; i < count; i++)
    append_header (block, g_mime_header_list_get_header_at (headers, i), options);
  for (; j < root_count; j++)
    append_header (block, g_mime_header_list_get_header_at (root_headers, j), options);
}

ssize_t
_msg_mime_message_write (GMimeMessage       *message,
                         GMimeFormatOptions *options,
                         GMimeStream        *stream)
{
  g_autoptr (GString) block = NULL;
  GMimeObject *root = g_mime_message_get_mime_part (message);
  ssize_t      written;
  ssize_t      content;

  g_return_val_if_fail (g_mime_format_options_get_newline_format (options) == GMIME_NEWLINE_FORMAT_DOS, -1);

  block = g_string_sized_new (1024);
  append_header_block (block, g_mime_object_get_header_list (GMIME_OBJECT (message)),
                       root != NULL ? g_mime_object_get_header_list (root) : NULL, options);
  g_string_append (block, "\r\n");
  written = g_mime_stream_write (stream, block->str, block->len);
  if (written < 0 || root == NULL)
    return written;
  /* As GMime's message writer does: a message's last line ends with a
   * newline (the field is in GMime's public struct, marked private). */
  root->ensure_newline = GMIME_OBJECT (message)->ensure_newline;
  content = g_mime_object_write_content_to_stream (root, options, stream);
  root->ensure_newline = FALSE;
  return content < 0 ? -1 : written + content;
}

void
_msg_mime_object_set_header (GMimeObject *object,
                             const char  *name,
                             const char  *value)
{
  GMimeHeaderList *headers = g_mime_object_get_header_list (object);
  GMimeHeader     *found = NULL;
  int              count = g_mime_header_list_get_count (headers);

  for (int i = 0; i < count; i++)
    {
      GMimeHeader *header = g_mime_header_list_get_header_at (headers, i);

      if (g_ascii_strcasecmp (g_mime_header_get_name (header), name) != 0)
        continue;
      if (found != NULL)
        {
          /* Several: GMime's setter keeps the first and removes the rest. */
          g_mime_object_set_header (object, name, value, NULL);
          return;
        }
      found = header;
    }
  if (found != NULL)
    g_mime_header_set_value (found, NULL, value, NULL);
  else
    g_mime_object_set_header (object, name, value, NULL);
}
