/* fuzz-message.c: parsing arbitrary messages and writing them back
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The oracle: for any input that parses, what is written is what the
 * object model saw. "A header" is defined on the output alone, as a
 * receiving MTA reads it: the top-level header block is everything up to
 * the first empty line; a line starting with white space continues the
 * previous field, any other line is a field "name:value". A line further
 * down cannot be a top-level header, so a body line that merely looks like
 * one ("Bcc: x" in a quoted message) is never a false positive; what is
 * compared is the header set a re-parse would see:
 *
 * - every field name written is one the parsed message reports
 *   (msg_message_get_header), and MSG_WRITE_FLAGS_OMIT_BCC / _NEWS write
 *   exactly the same fields minus the hidden ones;
 * - parsing the output and writing it again gives the same fields, and
 *   From, To, Cc, Bcc, Subject and Message-ID read the same from both,
 *   and so do the attachments' file names (a part's
 *   header is compared through what the model reads of it);
 * - after each mutating call (set a header, change a part's disposition,
 *   add an attachment), the fields outside the MIME ones (Content-*,
 *   MIME-Version) are exactly the ones before plus the header set.
 */
#include "config.h"

#include <msgobj.h>
#include <string.h>

#include "fuzz-targets.h"

#define ORACLE_HEADER "X-Fuzz-Oracle"

/* Every line of @bytes ends in CRLF: no bare CR, no bare LF. */
static void
assert_crlf (GBytes *bytes)
{
  gsize         size;
  const guint8 *p = g_bytes_get_data (bytes, &size);

  for (gsize i = 0; i < size; i++)
    {
      if (p[i] == '\r')
        g_assert_true (i + 1 < size && p[i + 1] == '\n');
      else if (p[i] == '\n')
        g_assert_true (i > 0 && p[i - 1] == '\r');
    }
}

static gboolean
is_ftext (guchar c)
{
  return c >= 33 && c <= 126 && c != ':';
}

/* The top-level fields of @bytes (CRLF only), each "lower-case-name:value"
 * with the value unfolded (CRLFs removed), in order. */
static GPtrArray *
top_level_fields (GBytes *bytes)
{
  gsize       size;
  const char *p = g_bytes_get_data (bytes, &size);
  const char *end = p + size;
  GPtrArray  *fields = g_ptr_array_new_with_free_func (g_free);

  while (p < end)
    {
      const char *eol = g_strstr_len (p, end - p, "\r\n");
      gsize       len = eol != NULL ? (gsize) (eol - p) : (gsize) (end - p);

      if (len == 0)
        break;

      if (*p == ' ' || *p == '\t')
        {
          char *last;

          g_assert_cmpuint (fields->len, >, 0);
          last = g_ptr_array_index (fields, fields->len - 1);
          fields->pdata[fields->len - 1] = g_strdup_printf ("%s%.*s", last, (int) len, p);
          g_free (last);
        }
      else
        {
          const char      *colon = memchr (p, ':', len);
          g_autofree char *name = NULL;

          /* A line in the header block that is not a field: the block
           * cannot be read as the model wrote it. */
          g_assert_nonnull (colon);
          g_assert_true (colon > p);
          for (const char *q = p; q < colon; q++)
            g_assert_true (is_ftext ((guchar) *q));
          name = g_ascii_strdown (p, colon - p);
          g_ptr_array_add (fields, g_strdup_printf ("%s:%.*s", name, (int) (len - (colon - p) - 1), colon + 1));
        }

      p = eol != NULL ? eol + 2 : end;
    }

  return fields;
}

static char *
field_name (const char *field)
{
  return g_strndup (field, strchr (field, ':') - field);
}

static gboolean
is_mime_field (const char *field)
{
  return g_str_has_prefix (field, "content-") || g_str_has_prefix (field, "mime-version:");
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static gboolean
has_name (const char        *field,
          const char *const *names)
{
  g_autofree char *name = field_name (field);

  return names != NULL && g_strv_contains (names, name);
}

/* @a without the fields named in @hidden equals @b, in order. With
 * @mime_by_name, MIME fields are compared by name only: a parsed header
 * GMime regenerates is regenerated again from the re-parse, and a
 * malformed RFC 2231 value with 8-bit text does not always come out the
 * same twice (GMime 3.2); the fields themselves must still match. */
static void
assert_fields_minus (GPtrArray         *a,
                     GPtrArray         *b,
                     const char *const *hidden,
                     gboolean           mime_by_name)
{
  guint j = 0;

  for (guint i = 0; i < a->len; i++)
    {
      const char *fa = g_ptr_array_index (a, i);

      if (has_name (fa, hidden))
        continue;
      g_assert_cmpuint (j, <, b->len);
      if (mime_by_name && is_mime_field (fa))
        {
          g_autofree char *na = field_name (fa);
          g_autofree char *nb = field_name (g_ptr_array_index (b, j));

          g_assert_cmpstr (na, ==, nb);
        }
      else
        g_assert_cmpstr (fa, ==, g_ptr_array_index (b, j));
      j++;
    }
  g_assert_cmpuint (j, ==, b->len);
}

/* The names of the fields of @fields that are not MIME fields, sorted,
 * with @extra set: setting a field replaces every field of that name
 * (an input may hold the oracle's own field twice). */
static GPtrArray *
non_mime_names (GPtrArray  *fields,
                const char *extra)
{
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < fields->len; i++)
    if (!is_mime_field (g_ptr_array_index (fields, i)))
      {
        char *name = field_name (g_ptr_array_index (fields, i));

        if (extra != NULL && g_str_equal (name, extra))
          g_free (name);
        else
          g_ptr_array_add (names, name);
      }
  if (extra != NULL)
    g_ptr_array_add (names, g_strdup (extra));
  g_ptr_array_sort (names, compare_strings);
  return names;
}

static void
assert_same_names (GPtrArray *a,
                   GPtrArray *b)
{
  g_assert_cmpuint (a->len, ==, b->len);
  for (guint i = 0; i < a->len; i++)
    g_assert_cmpstr (g_ptr_array_index (a, i), ==, g_ptr_array_index (b, i));
}

static GBytes *
write_message (MsgMessage   *message,
               MsgWriteFlags flags)
{
  g_autoptr (GOutputStream) mem = g_memory_output_stream_new_resizable ();
  g_autoptr (GError) error = NULL;

  if (!msg_message_write_to_stream_full (message, mem, flags, NULL, &error))
    {
      /* Refusing to write a hostile parsed header is allowed; crashing
       * or writing it is not. */
      g_assert_nonnull (error);
      return NULL;
    }
  g_assert_true (g_output_stream_close (mem, NULL, NULL));
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (mem));
}

static void
assert_same_field (MsgMessage *a,
                   MsgMessage *b,
                   char *(*get) (MsgMessage *) )
{
  g_autofree char *va = get (a);
  g_autofree char *vb = get (b);

  /* GMime keeps the line ends of a folded value: LF as read, CRLF as
   * written. Compared unfolded. */
  if (va != NULL && vb != NULL)
    {
      g_autoptr (GString) ua = g_string_new (va);
      g_autoptr (GString) ub = g_string_new (vb);

      g_string_replace (ua, "\r", "", 0);
      g_string_replace (ua, "\n", "", 0);
      g_string_replace (ub, "\r", "", 0);
      g_string_replace (ub, "\n", "", 0);
      g_assert_cmpstr (ua->str, ==, ub->str);
      return;
    }
  g_assert_cmpstr (va, ==, vb);
}

static gboolean
is_printable_ascii (const char *s)
{
  for (; *s != '\0'; s++)
    if ((guchar) *s < 0x20 || (guchar) *s > 0x7e)
      return FALSE;
  return TRUE;
}

/* The short ASCII file names of the attachments of @message, sorted.
 * GMime writes an empty file name as none (the part's name then comes
 * from its Content-Type), and a name long enough to be split into RFC 2231
 * continuations, or holding 8-bit text that GMime encodes per RFC 2231,
 * does not always read back the same (GMime 3.2) with no header added:
 * only short ASCII names, which GMime writes as quoted strings, are
 * compared. */
static GPtrArray *
attachment_names (MsgMessage *message,
                  gboolean    check_breaks)
{
  GList     *list = msg_message_get_attachments (message);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);

  for (GList *p = list; p != NULL; p = p->next)
    {
      char *name = msg_body_part_get_raw_filename (p->data);

      /* No name read back holds a line break. */
      if (check_breaks)
        g_assert_true (name == NULL || strpbrk (name, "\r\n") == NULL);
      if (name != NULL && *name != '\0' && strlen (name) < 60 && is_printable_ascii (name))
        g_ptr_array_add (names, name);
      else
        g_free (name);
    }
  g_list_free_full (list, g_object_unref);
  g_ptr_array_sort (names, compare_strings);
  return names;
}

/* The named parts a re-parse finds are the ones the model wrote: a
 * parameter written raw would end a part's header early (the name read
 * back is cut) or add a header to it. Which unnamed text part is the body
 * and which an attachment is the model's reading of a malformed tree, and
 * is not compared. */
static void
assert_same_attachments (MsgMessage *a,
                         MsgMessage *b)
{
  g_autoptr (GPtrArray) na = attachment_names (a, FALSE);
  g_autoptr (GPtrArray) nb = attachment_names (b, TRUE);

  assert_same_names (na, nb);
}

/* Writes @message every way and checks the oracle; returns its fields
 * (NULL if writing was refused). */
static GPtrArray *
check_output (MsgMessage *message,
              gboolean    parsed,
              gboolean    compare_parts)
{
  static const char *const bcc[] = { "bcc", NULL };
  static const char *const news[] = { "bcc", "disposition-notification-to", "return-receipt-to", NULL };
  g_autoptr (GBytes) output = write_message (message, MSG_WRITE_FLAGS_NONE);
  g_autoptr (GBytes) omit = NULL;
  g_autoptr (GBytes) posted = NULL;
  g_autoptr (GBytes) output2 = NULL;
  g_autoptr (GPtrArray) fields = NULL;
  g_autoptr (GPtrArray) fields2 = NULL;
  g_autoptr (GPtrArray) omit_fields = NULL;
  g_autoptr (GPtrArray) news_fields = NULL;
  g_autoptr (MsgMessage) again = NULL;
  g_autoptr (GError) error = NULL;

  if (output == NULL)
    return NULL;
  assert_crlf (output);
  fields = top_level_fields (output);

  /* Every field written is one the model knows. GMime adds MIME-Version
   * to a message that had none. */
  if (parsed)
    for (guint i = 0; i < fields->len; i++)
      {
        g_autofree char *name = field_name (g_ptr_array_index (fields, i));
        g_autofree char *value = msg_message_get_header (message, name);

        if (!g_str_equal (name, "mime-version"))
          g_assert_nonnull (value);
      }

  omit = write_message (message, MSG_WRITE_FLAGS_OMIT_BCC);
  g_assert_nonnull (omit);
  omit_fields = top_level_fields (omit);
  assert_fields_minus (fields, omit_fields, bcc, FALSE);
  posted = write_message (message, MSG_WRITE_FLAGS_NEWS);
  g_assert_nonnull (posted);
  news_fields = top_level_fields (posted);
  assert_fields_minus (fields, news_fields, news, FALSE);

  /* What we write, we read again as the same message. */
  again = msg_message_new_from_bytes (output, &error);
  g_assert_no_error (error);
  g_assert_nonnull (again);
  output2 = write_message (again, MSG_WRITE_FLAGS_NONE);
  g_assert_nonnull (output2);
  fields2 = top_level_fields (output2);
  assert_fields_minus (fields, fields2, NULL, TRUE);
  assert_same_field (message, again, msg_message_get_from);
  assert_same_field (message, again, msg_message_get_to);
  assert_same_field (message, again, msg_message_get_cc);
  assert_same_field (message, again, msg_message_get_bcc);
  assert_same_field (message, again, msg_message_get_subject);
  assert_same_field (message, again, msg_message_get_message_id);
  if (compare_parts)
    assert_same_attachments (message, again);

  return g_steal_pointer (&fields);
}

/* The non-MIME fields after a mutation are those before plus @added. */
static gboolean
check_mutation (MsgMessage *message,
                GPtrArray  *before,
                const char *added,
                gboolean    compare_parts)
{
  g_autoptr (GPtrArray) after = check_output (message, FALSE, compare_parts);
  g_autoptr (GPtrArray) want = NULL;
  g_autoptr (GPtrArray) got = NULL;

  if (after == NULL)
    return FALSE;
  want = non_mime_names (before, added);
  got = non_mime_names (after, NULL);
  assert_same_names (want, got);
  g_ptr_array_set_size (before, 0);
  for (guint i = 0; i < after->len; i++)
    g_ptr_array_add (before, g_strdup (g_ptr_array_index (after, i)));
  return TRUE;
}

static void
mutate_and_check (MsgMessage *message,
                  GPtrArray  *fields,
                  gboolean    compare_parts)
{
  g_autoptr (GBytes) content = g_bytes_new_static ("oracle\n", 7);
  GList *attachments;
  char  *oracle = g_ascii_strdown (ORACLE_HEADER, -1);

  if (!msg_message_set_header (message, ORACLE_HEADER, "set by the oracle", NULL) ||
      !check_mutation (message, fields, oracle, compare_parts))
    goto out;

  /* A part's header is regenerated from its parsed parameters. */
  attachments = msg_message_get_attachments (message);
  if (attachments != NULL)
    {
      gboolean ok = msg_body_part_set_content_disposition (attachments->data, "inline", NULL);

      g_list_free_full (attachments, g_object_unref);
      if (ok && !check_mutation (message, fields, NULL, compare_parts))
        goto out;
    }

  /* The parsed tree is rebuilt around the new part. Which text part of
   * the rebuilt tree is the body, and so which parts are listed as
   * attachments, is the model's choice (the first text/plain), not the
   * parser's: only the header fields are compared. */
  if (msg_message_add_attachment_bytes (message, content, "oracle.txt", "text/plain", NULL) != NULL)
    check_mutation (message, fields, NULL, FALSE);

out:
  g_free (oracle);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr (GBytes) input = g_bytes_new (data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgMessage) message = msg_message_new_from_bytes (input, &error);
  g_autoptr (GPtrArray) fields = NULL;
  /* GMime ends a part's header at a NUL byte, and the writer writes the
   * rest as it was (a NUL in the message's own header block is refused):
   * parts are compared only for inputs without one. */
  gboolean compare_parts = memchr (data, '\0', size) == NULL;

  if (message == NULL)
    {
      g_assert_nonnull (error);
      return 0;
    }
  g_assert_no_error (error);
  /* The object model reads whatever was parsed without crashing. */
  g_free (msg_message_get_from (message));
  g_free (msg_message_get_to (message));
  g_free (msg_message_get_subject (message));
  g_free (msg_message_get_text_body (message));
  g_free (msg_message_get_html_body (message));
  g_list_free_full (msg_message_get_attachments (message), g_object_unref); /* (transfer full) */

  fields = check_output (message, TRUE, compare_parts);
  if (fields != NULL)
    mutate_and_check (message, fields, compare_parts);
  return 0;
}
