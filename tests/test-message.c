/* test-message.c: MsgMessage, CDO's Message object
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-utils.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Helpers */

static MsgMessage *
make_message (void)
{
  g_autoptr (GError) error = NULL;
  MsgMessage *message = msg_message_new ();

  msg_message_set_from (message, "Ann Example <ann@example.com>", &error);
  g_assert_no_error (error);
  msg_message_set_to (message, "bob@example.org", &error);
  g_assert_no_error (error);
  msg_message_set_subject (message, "Hello", &error);
  g_assert_no_error (error);
  return message;
}

/* Every line ends with CRLF (no lone CR or LF) and holds at most 998
 * octets. */
static void
assert_wire_format (const char *data,
                    gsize       len)
{
  gsize line = 0;

  for (gsize i = 0; i < len; i++)
    {
      if (data[i] == '\r')
        {
          g_assert_true (i + 1 < len && data[i + 1] == '\n');
          continue;
        }
      if (data[i] == '\n')
        {
          g_assert_true (i > 0 && data[i - 1] == '\r');
          g_assert_cmpuint (line, <=, 998);
          line = 0;
          continue;
        }
      line++;
    }
  g_assert_cmpuint (line, <=, 998);
}

/* The message as a string, checked for CRLF and line lengths. */
static char *
write_message (MsgMessage   *message,
               MsgWriteFlags flags)
{
  g_autoptr (GOutputStream) mem = g_memory_output_stream_new_resizable ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  gsize       len;
  const char *data;

  g_assert_true (msg_message_write_to_stream_full (message, mem, flags, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_output_stream_close (mem, NULL, NULL));
  bytes = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (mem));
  data = g_bytes_get_data (bytes, &len);
  g_assert_null (memchr (data, '\0', len));
  assert_wire_format (data, len);
  return g_strndup (data, len);
}

static char *
to_string (MsgMessage *message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = msg_message_to_bytes (message, &error);
  g_autofree char *streamed = NULL;
  gsize            len;
  const char      *data;

  g_assert_no_error (error);
  g_assert_nonnull (bytes);
  data = g_bytes_get_data (bytes, &len);
  g_assert_null (memchr (data, '\0', len));
  assert_wire_format (data, len);

  /* to_bytes() and write_to_stream() give the same bytes. */
  streamed = write_message (message, MSG_WRITE_FLAGS_NONE);
  g_assert_cmpmem (streamed, strlen (streamed), data, len);
  return g_steal_pointer (&streamed);
}

/* The header block of @text, up to and including its last CRLF. */
static char *
header_block (const char *text)
{
  const char *end = strstr (text, "\r\n\r\n");

  g_assert_nonnull (end);
  return g_strndup (text, end - text + 2);
}

/* The unfolded value of the first header @name in the header block of
 * @text, or NULL. */
static char *
find_header (const char *text,
             const char *name)
{
  g_autofree char *headers = header_block (text);
  gsize            name_len = strlen (name);

  for (const char *line = headers; *line != '\0';)
    {
      const char *eol = strstr (line, "\r\n");

      if (g_ascii_strncasecmp (line, name, name_len) == 0 && line[name_len] == ':')
        {
          GString *value = g_string_new_len (line + name_len + 1, eol - line - name_len - 1);

          for (line = eol + 2; *line == ' ' || *line == '\t'; line = eol + 2)
            {
              eol = strstr (line, "\r\n");
              g_string_append_len (value, line, eol - line);
            }
          return g_strstrip (g_string_free (value, FALSE));
        }
      line = eol + 2;
    }

  return NULL;
}

/* Whether a line of the header block of @text starts with @name: . */
static gboolean
has_header_line (const char *text,
                 const char *name)
{
  g_autofree char *value = find_header (text, name);

  return value != NULL;
}

static MsgMessage *
parse_string (const char *text)
{
  g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));
  g_autoptr (GError) error = NULL;
  MsgMessage *message = msg_message_new_from_bytes (bytes, &error);

  g_assert_no_error (error);
  g_assert_nonnull (message);
  return message;
}

/* A compact description of a MIME tree: "multipart/mixed(text/plain,
 * image/png)". */
static void
describe_part (MsgBodyPart *part,
               GString     *out)
{
  g_autofree char *type = msg_body_part_get_content_media_type (part);
  GList           *children = msg_body_part_get_body_parts (part);

  g_string_append (out, type);
  if (g_str_has_prefix (type, "multipart/"))
    {
      g_string_append_c (out, '(');
      for (GList *l = children; l != NULL; l = l->next)
        {
          describe_part (l->data, out);
          if (l->next != NULL)
            g_string_append_c (out, ',');
        }
      g_string_append_c (out, ')');
    }
  else
    g_assert_null (children);
  g_list_free_full (children, g_object_unref);
}

static char *
describe_tree (MsgMessage *message)
{
  g_autoptr (MsgBodyPart) root = msg_message_get_body_part (message);
  GString *out = g_string_new (NULL);

  describe_part (root, out);
  return g_string_free (out, FALSE);
}

/* The structure of @message as written, read back by the parser. */
static char *
describe_written (MsgMessage *message)
{
  g_autofree char *text = to_string (message);
  g_autoptr (MsgMessage) parsed = parse_string (text);

  return describe_tree (parsed);
}

static MsgBodyPart *
nth_child (MsgBodyPart *part,
           guint        n)
{
  GList       *children = msg_body_part_get_body_parts (part);
  MsgBodyPart *child = g_list_nth_data (children, n);

  g_assert_nonnull (child);
  g_object_ref (child);
  g_list_free_full (children, g_object_unref);
  return child;
}

static char *
decoded_string (MsgBodyPart *part)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = msg_body_part_get_decoded_content (part, &error);
  gsize       len;
  const char *data;

  g_assert_no_error (error);
  data = g_bytes_get_data (bytes, &len);
  return g_strndup (data, len);
}

static char *
write_temp_file (const char *dir,
                 const char *name,
                 const char *contents,
                 gssize      len)
{
  g_autoptr (GError) error = NULL;
  char *path = g_build_filename (dir, name, NULL);

  g_file_set_contents (path, contents, len, &error);
  g_assert_no_error (error);
  return path;
}

/* The media type the library guesses for @name (and @data): GIO's guess,
 * which depends on the MIME database installed, so tests ask GIO too. */
static char *
guessed_type (const char *name,
              const char *data)
{
  g_autofree char *type = g_content_type_guess (name, (const guchar *) data, data != NULL ? strlen (data) : 0, NULL);
  char            *mime = type != NULL ? g_content_type_get_mime_type (type) : NULL;

  return mime != NULL ? mime : g_strdup ("application/octet-stream");
}

static guint
count_lines_starting (const char *text,
                      const char *prefix)
{
  guint n = 0;

  if (g_str_has_prefix (text, prefix))
    n++;
  for (const char *p = strstr (text, "\r\n"); p != NULL; p = strstr (p + 2, "\r\n"))
    if (g_str_has_prefix (p + 2, prefix))
      n++;
  return n;
}

/* Construction and properties */

static void
test_new_defaults (void)
{
  g_autoptr (MsgMessage) message = msg_message_new ();
  g_autoptr (GDateTime) sent_on = NULL;
  g_autofree char *text = NULL;

  g_assert_nonnull (msg_message_get_configuration (message));
  g_assert_true (msg_configuration_get_boolean (msg_message_get_configuration (message),
                                                "autopromotebodyparts"));
  g_assert_null (msg_message_get_from (message));
  g_assert_null (msg_message_get_sender (message));
  g_assert_null (msg_message_get_reply_to (message));
  g_assert_null (msg_message_get_to (message));
  g_assert_null (msg_message_get_cc (message));
  g_assert_null (msg_message_get_bcc (message));
  g_assert_null (msg_message_get_subject (message));
  g_assert_null (msg_message_get_text_body (message));
  g_assert_null (msg_message_get_html_body (message));
  g_assert_null (msg_message_get_newsgroups (message));
  g_assert_null (msg_message_get_followup_to (message));
  g_assert_null (msg_message_get_keywords (message));
  g_assert_null (msg_message_get_organization (message));
  g_assert_null (msg_message_get_message_id (message));
  sent_on = msg_message_get_sent_on (message);
  g_assert_null (sent_on);
  g_assert_false (msg_message_get_mdn_requested (message));
  g_assert_cmpint (msg_message_get_dsn_options (message), ==, MSG_DSN_DEFAULT);
  /* CDO: true on new messages. */
  g_assert_true (msg_message_get_auto_generate_text_body (message));
  g_assert_true (msg_message_get_mime_formatted (message));
  g_assert_null (msg_message_get_attachments (message));

  /* An empty message still writes: headers and an empty text part, and
   * no Date or Message-ID before sending (CDO's GetStream). */
  text = to_string (message);
  g_assert_true (has_header_line (text, "MIME-Version"));
  g_assert_false (has_header_line (text, "Date"));
  g_assert_false (has_header_line (text, "Message-ID"));
}

static void
test_new_with_configuration (void)
{
  g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();
  g_autoptr (MsgConfiguration) other = msg_configuration_new ();
  g_autoptr (MsgMessage) message = msg_message_new_with_configuration (configuration);
  g_autoptr (MsgMessage) defaults = msg_message_new_with_configuration (NULL);
  MsgConfiguration *got = NULL;

  g_assert_true (msg_message_get_configuration (message) == configuration);
  g_assert_nonnull (msg_message_get_configuration (defaults));
  g_assert_true (msg_message_get_configuration (defaults) != configuration);

  g_object_get (message, "configuration", &got, NULL);
  g_assert_true (got == configuration);
  g_object_unref (got);

  msg_message_set_configuration (message, other);
  g_assert_true (msg_message_get_configuration (message) == other);
  /* NULL gives a fresh configuration of defaults, never none. */
  msg_message_set_configuration (message, NULL);
  g_assert_nonnull (msg_message_get_configuration (message));
  g_assert_true (msg_message_get_configuration (message) != other);
}

typedef struct
{
  const char *property;
  gboolean (*set) (MsgMessage *, const char *, GError **);
  char *(*get) (MsgMessage *);
  const char *value;    /* set this */
  const char *expected; /* and read this back */
} AddressCase;

static const AddressCase address_cases[] = {
  { "from", msg_message_set_from, msg_message_get_from, "Ann Example <ann@example.com>", "Ann Example <ann@example.com>" },
  { "from", msg_message_set_from, msg_message_get_from, "ann@example.com", "ann@example.com" },
  { "from", msg_message_set_from, msg_message_get_from, "a@example.com, b@example.com", "a@example.com, b@example.com" },
  { "sender", msg_message_set_sender, msg_message_get_sender, "Sec <sec@example.com>", "Sec <sec@example.com>" },
  { "reply-to", msg_message_set_reply_to, msg_message_get_reply_to, "list@example.com", "list@example.com" },
  { "to", msg_message_set_to, msg_message_get_to, "Bob <bob@example.org>, carol@example.net", "Bob <bob@example.org>, carol@example.net" },
  { "to", msg_message_set_to, msg_message_get_to, "\"Doe, John\" <john@example.org>", "\"Doe, John\" <john@example.org>" },
  { "to", msg_message_set_to, msg_message_get_to, "team: x@example.org, y@example.org;", "team: x@example.org, y@example.org;" },
  { "cc", msg_message_set_cc, msg_message_get_cc, "cc@example.org", "cc@example.org" },
  { "bcc", msg_message_set_bcc, msg_message_get_bcc, "hidden@example.org", "hidden@example.org" },
  { "to", msg_message_set_to, msg_message_get_to, "Zoë <zoe@example.org>", "Zoë <zoe@example.org>" },
};

static void
test_addresses (gconstpointer data)
{
  const AddressCase *c = data;
  g_autoptr (MsgMessage) message = msg_message_new ();
  g_autoptr (GHashTable) counts = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GError) error = NULL;
  g_autofree char *got = NULL;
  g_autofree char *through_gobject = NULL;
  g_autofree char *text = NULL;

  g_signal_connect (message, "notify", G_CALLBACK (msg_test_count_notify_cb), counts);
  g_assert_true (c->set (message, c->value, &error));
  g_assert_no_error (error);
  got = c->get (message);
  g_assert_cmpstr (got, ==, c->expected);
  g_assert_cmpuint (msg_test_notified (counts, c->property), ==, 1);

  /* The same value again: no notification. */
  g_assert_true (c->set (message, c->value, &error));
  g_assert_cmpuint (msg_test_notified (counts, c->property), ==, 1);

  g_object_get (message, c->property, &through_gobject, NULL);
  g_assert_cmpstr (through_gobject, ==, c->expected);

  /* Written and parsed back, the value is the same. */
  text = to_string (message);
  {
    g_autoptr (MsgMessage) parsed = parse_string (text);
    g_autofree char *reparsed = c->get (parsed);

    g_assert_cmpstr (reparsed, ==, c->expected);
  }

  /* NULL and the empty string remove the header. */
  g_assert_true (c->set (message, NULL, &error));
  g_assert_null (c->get (message));
  g_assert_cmpuint (msg_test_notified (counts, c->property), ==, 2);
  g_assert_true (c->set (message, c->value, &error));
  g_assert_true (c->set (message, "  ", &error));
  g_assert_no_error (error);
  g_assert_null (c->get (message));
}

static void
test_address_rules (void)
{
  g_autoptr (MsgMessage) message = msg_message_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *to = NULL;

  /* Sender is a single mailbox. */
  g_assert_false (msg_message_set_sender (message, "a@example.com, b@example.com", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ADDRESS);
  g_assert_nonnull (strstr (error->message, "Sender"));
  g_clear_error (&error);

  /* Groups are allowed where RFC 5322 puts recipients, not in From. */
  g_assert_false (msg_message_set_from (message, "undisclosed:;", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ADDRESS);
  g_assert_nonnull (strstr (error->message, "From"));
  g_clear_error (&error);
  g_assert_true (msg_message_set_to (message, "undisclosed-recipients:;", &error));
  g_assert_no_error (error);

  /* Unparsable lists are refused and the property keeps its value. */
  g_assert_true (msg_message_set_to (message, "bob@example.org", &error));
  for (guint i = 0; i < 6; i++)
    {
      static const char *const bad[] = {
        "bob",
        "@example.org",
        "bob@",
        "a b@c.example",
        "<bob@example.org",
        "bob@example.org,,<>",
      };

      g_assert_false (msg_message_set_to (message, bad[i], &error));
      g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ADDRESS);
      g_assert_nonnull (strstr (error->message, "To"));
      g_clear_error (&error);
    }
  to = msg_message_get_to (message);
  g_assert_cmpstr (to, ==, "bob@example.org");

  /* Overlong local part (65), domain (256) and address. */
  {
    g_autofree char *local = g_strnfill (65, 'a');
    g_autofree char *label = g_strnfill (63, 'b');
    g_autofree char *long_local = g_strdup_printf ("%s@example.org", local);
    g_autofree char *long_domain = g_strdup_printf ("x@%s.%s.%s.%s.com", label, label, label, label);
    g_autofree char *ok_local = g_strdup_printf ("%.*s@example.org", 64, local);

    g_assert_false (msg_message_set_to (message, long_local, &error));
    g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ADDRESS);
    g_clear_error (&error);
    g_assert_false (msg_message_set_to (message, long_domain, &error));
    g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ADDRESS);
    g_clear_error (&error);
    g_assert_true (msg_message_set_to (message, ok_local, &error));
    g_assert_no_error (error);
  }
}

typedef struct
{
  const char *property;
  gboolean (*set) (MsgMessage *, const char *, GError **);
  char *(*get) (MsgMessage *);
  const char *header;
} TextCase;

static const TextCase text_cases[] = {
  { "subject", msg_message_set_subject, msg_message_get_subject, "Subject" },
  { "keywords", msg_message_set_keywords, msg_message_get_keywords, "Keywords" },
  { "organization", msg_message_set_organization, msg_message_get_organization, "Organization" },
};

static void
test_text_headers (gconstpointer data)
{
  const TextCase *c = data;
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GHashTable) counts = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GError) error = NULL;
  g_autofree char *got = NULL;
  g_autofree char *text = NULL;
  g_autofree char *header = NULL;
  g_autofree char *via_header = NULL;
  const char      *value = "Grüße aus Köln, 日本語 too";

  g_signal_connect (message, "notify", G_CALLBACK (msg_test_count_notify_cb), counts);
  g_assert_true (c->set (message, "plain ascii\twith a tab", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg_test_notified (counts, c->property), ==, 1);
  got = c->get (message);
  g_assert_cmpstr (got, ==, "plain ascii\twith a tab");
  g_clear_pointer (&got, g_free);

  g_assert_true (c->set (message, value, &error));
  g_assert_no_error (error);
  got = c->get (message);
  g_assert_cmpstr (got, ==, value);
  via_header = msg_message_get_header (message, c->header);
  g_assert_cmpstr (via_header, ==, value);

  /* Non-ASCII text is RFC 2047 encoded: the header block is ASCII. */
  text = to_string (message);
  header = find_header (text, c->header);
  g_assert_nonnull (header);
  g_assert_nonnull (strcasestr (header, "=?utf-8?"));
  for (const char *p = header; *p != '\0'; p++)
    g_assert_cmpuint ((guchar) *p, <, 0x80);
  {
    g_autoptr (MsgMessage) parsed = parse_string (text);
    g_autofree char *reparsed = c->get (parsed);

    g_assert_cmpstr (reparsed, ==, value);
  }

  g_assert_true (c->set (message, NULL, &error));
  g_clear_pointer (&got, g_free);
  got = c->get (message);
  g_assert_null (got);
  g_clear_pointer (&text, g_free);
  text = to_string (message);
  g_assert_false (has_header_line (text, c->header));
}

static void
test_long_headers (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) words = g_string_new (NULL);
  g_autofree char *long_word = g_strnfill (3000, 'x');
  g_autofree char *text = NULL;
  g_autofree char *subject = NULL;

  /* A long subject of short words is folded within 998 octets
   * (to_string checks every line). */
  for (guint i = 0; i < 400; i++)
    g_string_append_printf (words, "word%u ", i);
  g_string_truncate (words, words->len - 1);
  g_assert_true (msg_message_set_subject (message, words->str, &error));
  text = to_string (message);
  {
    g_autoptr (MsgMessage) parsed = parse_string (text);

    subject = msg_message_get_subject (parsed);
    g_assert_cmpstr (subject, ==, words->str);
  }

  /* A word that no folding can fit is refused, naming the field. */
  g_assert_false (msg_message_set_subject (message, long_word, &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
  g_assert_nonnull (strstr (error->message, "Subject"));
  g_clear_error (&error);
  g_assert_false (msg_message_set_header (message, "X-Long", long_word, &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
  g_assert_nonnull (strstr (error->message, "X-Long"));
  g_clear_error (&error);
  {
    g_autofree char *refs = g_strdup_printf ("<%s@example.org>", long_word);

    g_assert_false (msg_message_set_header (message, "References", refs, &error));
    g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
    g_clear_error (&error);
  }
}

static void
test_newsgroups (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *groups = NULL;
  g_autofree char *followup = NULL;
  g_autofree char *text = NULL;

  g_assert_true (msg_message_set_newsgroups (message, " comp.lang.c ,  alt.test,local.a+b_c-d ", &error));
  g_assert_no_error (error);
  groups = msg_message_get_newsgroups (message);
  g_assert_cmpstr (groups, ==, "comp.lang.c,alt.test,local.a+b_c-d");
  g_assert_true (msg_message_set_followup_to (message, "comp.lang.c", &error));
  followup = msg_message_get_followup_to (message);
  g_assert_cmpstr (followup, ==, "comp.lang.c");

  text = to_string (message);
  g_clear_pointer (&groups, g_free);
  groups = find_header (text, "Newsgroups");
  g_assert_cmpstr (groups, ==, "comp.lang.c,alt.test,local.a+b_c-d");

  for (guint i = 0; i < 6; i++)
    {
      static const char *const bad[] = {
        "comp.test, bad group",
        "a..b",
        ".a",
        "a.",
        "a,,b",
        "comp.tést",
      };

      g_assert_false (msg_message_set_newsgroups (message, bad[i], &error));
      g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
      g_assert_nonnull (strstr (error->message, "Newsgroups"));
      g_clear_error (&error);
      g_assert_false (msg_message_set_followup_to (message, bad[i], &error));
      g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
      g_assert_nonnull (strstr (error->message, "Followup-To"));
      g_clear_error (&error);
    }

  g_clear_pointer (&groups, g_free);
  groups = msg_message_get_newsgroups (message);
  g_assert_cmpstr (groups, ==, "comp.lang.c,alt.test,local.a+b_c-d");

  g_assert_true (msg_message_set_newsgroups (message, NULL, &error));
  g_clear_pointer (&groups, g_free);
  groups = msg_message_get_newsgroups (message);
  g_assert_null (groups);
}

static void
test_sent_on (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GTimeZone) zone = g_time_zone_new_offset (2 * 3600);
  g_autoptr (GDateTime) date = g_date_time_new (zone, 2024, 2, 29, 13, 14, 15);
  g_autoptr (GDateTime) got = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *header = NULL;

  msg_message_set_sent_on (message, date);
  got = msg_message_get_sent_on (message);
  g_assert_nonnull (got);
  g_assert_cmpint (g_date_time_to_unix (got), ==, g_date_time_to_unix (date));

  text = to_string (message);
  header = find_header (text, "Date");
  g_assert_cmpstr (header, ==, "Thu, 29 Feb 2024 13:14:15 +0200");
  {
    g_autoptr (MsgMessage) parsed = parse_string (text);
    g_autoptr (GDateTime) reparsed = msg_message_get_sent_on (parsed);

    g_assert_cmpint (g_date_time_to_unix (reparsed), ==, g_date_time_to_unix (date));
    g_assert_cmpint (g_date_time_get_utc_offset (reparsed), ==, 2 * G_TIME_SPAN_HOUR);
  }

  /* Through the Date field. */
  g_assert_true (msg_message_set_header (message, "Date", "Mon, 1 Jan 2001 00:00:00 +0000", &error));
  g_assert_no_error (error);
  g_clear_pointer (&got, g_date_time_unref);
  got = msg_message_get_sent_on (message);
  g_assert_cmpint (g_date_time_to_unix (got), ==, 978307200);
  g_assert_false (msg_message_set_header (message, "Date", "yesterday-ish", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
  g_clear_error (&error);

  msg_message_set_sent_on (message, NULL);
  g_clear_pointer (&got, g_date_time_unref);
  got = msg_message_get_sent_on (message);
  g_assert_null (got);
}

static void
test_message_id (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *text = NULL;
  g_autofree char *header = NULL;

  g_assert_true (msg_message_set_message_id (message, "abc.123@example.com", &error));
  g_assert_no_error (error);
  id = msg_message_get_message_id (message);
  g_assert_cmpstr (id, ==, "<abc.123@example.com>");
  g_clear_pointer (&id, g_free);

  g_assert_true (msg_message_set_message_id (message, "<def@example.com>", &error));
  id = msg_message_get_message_id (message);
  g_assert_cmpstr (id, ==, "<def@example.com>");

  text = to_string (message);
  header = find_header (text, "Message-ID");
  g_assert_cmpstr (header, ==, "<def@example.com>");

  for (guint i = 0; i < 7; i++)
    {
      static const char *const bad[] = {
        "",
        "<>",
        "no-at-sign",
        "@example.com",
        "a@",
        "a@b@c",
        "a b@example.com",
      };

      g_assert_false (msg_message_set_message_id (message, bad[i], &error));
      g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
      g_assert_nonnull (strstr (error->message, "Message-ID"));
      g_clear_error (&error);
    }
  {
    g_autofree char *left = g_strnfill (950, 'a');
    g_autofree char *long_id = g_strdup_printf ("%s@example.com", left);

    g_assert_false (msg_message_set_message_id (message, long_id, &error));
    g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
    g_clear_error (&error);
  }

  g_clear_pointer (&id, g_free);
  id = msg_message_get_message_id (message);
  g_assert_cmpstr (id, ==, "<def@example.com>");

  g_assert_true (msg_message_set_message_id (message, NULL, &error));
  g_clear_pointer (&id, g_free);
  id = msg_message_get_message_id (message);
  g_assert_null (id);
}

static void
test_mdn (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *header = NULL;
  g_autofree char *news = NULL;

  msg_message_set_mdn_requested (message, TRUE);
  g_assert_true (msg_message_get_mdn_requested (message));
  text = to_string (message);
  header = find_header (text, "Disposition-Notification-To");
  g_assert_cmpstr (header, ==, "Ann Example <ann@example.com>");

  /* It follows From. */
  g_assert_true (msg_message_set_from (message, "zed@example.com", &error));
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&header, g_free);
  text = to_string (message);
  header = find_header (text, "Disposition-Notification-To");
  g_assert_cmpstr (header, ==, "zed@example.com");

  /* News articles leave it out. */
  news = write_message (message, MSG_WRITE_FLAGS_NEWS);
  g_assert_false (has_header_line (news, "Disposition-Notification-To"));

  /* A parsed message with the header has it requested. */
  {
    g_autoptr (MsgMessage) parsed = parse_string (text);

    g_assert_true (msg_message_get_mdn_requested (parsed));
  }

  msg_message_set_mdn_requested (message, FALSE);
  g_clear_pointer (&text, g_free);
  text = to_string (message);
  g_assert_false (has_header_line (text, "Disposition-Notification-To"));

  /* Setting the field turns it on. */
  g_assert_true (msg_message_set_header (message, "Disposition-Notification-To", "r@example.com", &error));
  g_assert_no_error (error);
  g_assert_true (msg_message_get_mdn_requested (message));
  g_assert_false (msg_message_set_header (message, "Disposition-Notification-To", "r@example.com\r\nBcc: y@evil.example", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ADDRESS);
}

static void
test_dsn_options_subprocess (void)
{
  g_autoptr (MsgMessage) message = msg_message_new ();

  g_log_set_always_fatal (G_LOG_FATAL_MASK);
  msg_message_set_dsn_options (message, MSG_DSN_FAILURE);
  msg_message_set_dsn_options (message, MSG_DSN_NEVER | MSG_DSN_SUCCESS);
  g_assert_cmpint (msg_message_get_dsn_options (message), ==, MSG_DSN_FAILURE);
}

static void
test_dsn_options (void)
{
  g_autoptr (MsgMessage) message = msg_message_new ();
  g_autoptr (GHashTable) counts = g_hash_table_new (g_str_hash, g_str_equal);
  MsgDsnOptions options = 0;

  g_signal_connect (message, "notify", G_CALLBACK (msg_test_count_notify_cb), counts);
  msg_message_set_dsn_options (message, MSG_DSN_FAILURE | MSG_DSN_DELAY | MSG_DSN_RETURN_HEADERS);
  g_assert_cmpint (msg_message_get_dsn_options (message), ==, MSG_DSN_FAILURE | MSG_DSN_DELAY | MSG_DSN_RETURN_HEADERS);
  g_object_get (message, "dsn-options", &options, NULL);
  g_assert_cmpint (options, ==, MSG_DSN_FAILURE | MSG_DSN_DELAY | MSG_DSN_RETURN_HEADERS);
  msg_message_set_dsn_options (message, MSG_DSN_NEVER);
  g_assert_cmpint (msg_message_get_dsn_options (message), ==, MSG_DSN_NEVER);
  g_assert_cmpuint (msg_test_notified (counts, "dsn-options"), ==, 2);
  g_assert_true (G_TYPE_IS_FLAGS (MSG_TYPE_DSN_OPTIONS));

  /* NEVER with other notifications is refused with a warning. */
  g_test_trap_subprocess ("/message/properties/dsn-options/subprocess", 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*MSG_DSN_NEVER cannot be combined*");
}

static void
test_gobject_properties (void)
{
  g_autoptr (MsgMessage) message = msg_message_new ();
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr (GDateTime) date = g_date_time_new (utc, 2020, 5, 6, 7, 8, 9);
  g_autofree char *from = NULL, *sender = NULL, *reply_to = NULL, *to = NULL, *cc = NULL;
  g_autofree char *bcc = NULL, *subject = NULL, *text = NULL, *html = NULL, *groups = NULL;
  g_autofree char *followup = NULL, *keywords = NULL, *org = NULL, *id = NULL;
  g_autoptr (GDateTime) got_date = NULL;
  gboolean mdn, autogen, mime;

  g_object_set (message,
                "from", "f@example.com",
                "sender", "s@example.com",
                "reply-to", "r@example.com",
                "to", "t@example.com",
                "cc", "c@example.com",
                "bcc", "b@example.com",
                "subject", "Subject",
                "html-body", "<p>hi</p>",
                "newsgroups", "alt.test",
                "followup-to", "alt.test2",
                "keywords", "k1, k2",
                "organization", "Org",
                "sent-on", date,
                "message-id", "<id@example.com>",
                "mdn-requested", TRUE,
                NULL);
  g_object_get (message,
                "from", &from, "sender", &sender, "reply-to", &reply_to, "to", &to,
                "cc", &cc, "bcc", &bcc, "subject", &subject, "text-body", &text,
                "html-body", &html, "newsgroups", &groups, "followup-to", &followup,
                "keywords", &keywords, "organization", &org, "sent-on", &got_date,
                "message-id", &id, "mdn-requested", &mdn,
                "auto-generate-text-body", &autogen, "mime-formatted", &mime,
                NULL);
  g_assert_cmpstr (from, ==, "f@example.com");
  g_assert_cmpstr (sender, ==, "s@example.com");
  g_assert_cmpstr (reply_to, ==, "r@example.com");
  g_assert_cmpstr (to, ==, "t@example.com");
  g_assert_cmpstr (cc, ==, "c@example.com");
  g_assert_cmpstr (bcc, ==, "b@example.com");
  g_assert_cmpstr (subject, ==, "Subject");
  g_assert_cmpstr (html, ==, "<p>hi</p>");
  g_assert_nonnull (text);
  g_assert_nonnull (strstr (text, "hi"));
  g_assert_cmpstr (groups, ==, "alt.test");
  g_assert_cmpstr (followup, ==, "alt.test2");
  g_assert_cmpstr (keywords, ==, "k1, k2");
  g_assert_cmpstr (org, ==, "Org");
  g_assert_true (g_date_time_equal (got_date, date));
  g_assert_cmpstr (id, ==, "<id@example.com>");
  g_assert_true (mdn);
  g_assert_true (autogen);
  g_assert_true (mime);
}

static void
test_gobject_invalid_subprocess (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autofree char *subject = NULL;
  g_autofree char *to = NULL;

  g_log_set_always_fatal (G_LOG_FATAL_MASK);
  g_object_set (message, "subject", "a\r\nBcc: y@evil.example", NULL);
  g_object_set (message, "to", "a@b\r\nBcc: y@evil.example", NULL);
  subject = msg_message_get_subject (message);
  to = msg_message_get_to (message);
  g_assert_cmpstr (subject, ==, "Hello");
  g_assert_cmpstr (to, ==, "bob@example.org");
}

static void
test_gobject_invalid (void)
{
  /* Through g_object_set() a bad value is a warning and changes nothing. */
  g_test_trap_subprocess ("/message/properties/gobject-invalid/subprocess", 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*Subject*carriage return*");
}

/* Fields */

static void
test_fields (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *value = NULL;
  g_autofree char *to = NULL;
  g_autofree char *text = NULL;

  g_assert_true (msg_message_set_header (message, "X-Custom", "one", &error));
  g_assert_no_error (error);
  value = msg_message_get_header (message, "x-custom");
  g_assert_cmpstr (value, ==, "one");
  g_clear_pointer (&value, g_free);

  /* CDO's Fields name. */
  g_assert_true (msg_message_set_header (message, "urn:schemas:mailheader:X-Custom", "two", &error));
  value = msg_message_get_header (message, "urn:schemas:mailheader:x-custom");
  g_assert_cmpstr (value, ==, "two");
  g_clear_pointer (&value, g_free);
  text = to_string (message);
  g_assert_cmpuint (count_lines_starting (text, "X-Custom: two\r\n"), ==, 1);
  g_assert_cmpuint (count_lines_starting (text, "X-Custom:"), ==, 1);

  /* Headers owned by a property go through it. */
  g_assert_true (msg_message_set_header (message, "To", "Carol <carol@example.net>", &error));
  to = msg_message_get_to (message);
  g_assert_cmpstr (to, ==, "Carol <carol@example.net>");
  g_assert_false (msg_message_set_header (message, "To", "not an address", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ADDRESS);
  g_clear_error (&error);
  g_assert_true (msg_message_set_header (message, "urn:schemas:mailheader:subject", "Via field", &error));
  value = msg_message_get_subject (message);
  g_assert_cmpstr (value, ==, "Via field");
  g_clear_pointer (&value, g_free);

  /* The MIME structure's headers are not fields of the message. */
  g_assert_false (msg_message_set_header (message, "Content-Type", "text/html", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
  g_clear_error (&error);
  g_assert_false (msg_message_set_header (message, "MIME-Version", "2.0", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
  g_clear_error (&error);
  msg_message_set_text_body (message, "x");
  value = msg_message_get_header (message, "Content-Type");
  g_assert_nonnull (value);
  g_assert_true (g_str_has_prefix (value, "text/plain"));
  g_clear_pointer (&value, g_free);
  g_assert_false (msg_message_remove_header (message, "Content-Type"));

  /* In-Reply-To and References hold message ids. */
  g_assert_true (msg_message_set_header (message, "References", "<a@example.com> <b@example.com>", &error));
  g_assert_no_error (error);
  g_assert_false (msg_message_set_header (message, "In-Reply-To", "not-an-id", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
  g_assert_nonnull (strstr (error->message, "In-Reply-To"));
  g_clear_error (&error);

  /* Removal, with the property that owns the header. */
  g_assert_true (msg_message_remove_header (message, "X-Custom"));
  g_assert_false (msg_message_remove_header (message, "X-Custom"));
  value = msg_message_get_header (message, "X-Custom");
  g_assert_null (value);
  g_assert_true (msg_message_remove_header (message, "urn:schemas:mailheader:to"));
  g_clear_pointer (&to, g_free);
  to = msg_message_get_to (message);
  g_assert_null (to);
  g_assert_true (msg_message_set_header (message, "Subject", NULL, &error));
  value = msg_message_get_subject (message);
  g_assert_null (value);
}

/* MIME structure */

static void
test_mime_text_only (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autofree char *text = NULL;
  g_autofree char *tree = NULL;
  g_autofree char *ct = NULL;
  g_autofree char *body = NULL;
  g_autoptr (MsgBodyPart) root = NULL;
  g_autofree char *charset = NULL;

  msg_message_set_text_body (message, "Hello Bob.\nSecond line.\n");
  g_assert_false (msg_message_get_auto_generate_text_body (message));
  tree = describe_tree (message);
  g_assert_cmpstr (tree, ==, "text/plain");

  text = to_string (message);
  ct = find_header (text, "Content-Type");
  g_assert_nonnull (ct);
  g_assert_true (g_str_has_prefix (ct, "text/plain"));
  g_assert_nonnull (strstr (ct, "utf-8"));
  g_assert_true (has_header_line (text, "MIME-Version"));
  body = g_strdup (strstr (text, "\r\n\r\n") + 4);
  g_assert_cmpstr (body, ==, "Hello Bob.\r\nSecond line.\r\n");

  root = msg_message_get_body_part (message);
  charset = msg_body_part_get_charset (root);
  g_assert_cmpstr (charset, ==, "utf-8");
  g_clear_pointer (&tree, g_free);
  tree = describe_written (message);
  g_assert_cmpstr (tree, ==, "text/plain");
}

static void
test_mime_html (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgMessage) parsed = NULL;
  g_autoptr (MsgBodyPart) root = NULL;
  g_autoptr (MsgBodyPart) plain = NULL;
  g_autoptr (MsgBodyPart) html = NULL;
  g_autofree char *tree = NULL;
  g_autofree char *text = NULL;
  g_autofree char *generated = NULL;
  g_autofree char *plain_text = NULL;
  g_autofree char *html_text = NULL;
  const char      *source = "<html><head><title>T</title><style>p{}</style></head><body>"
                            "<p>Hello &amp; welcome,<br>Bob</p><p>Second&nbsp;para</p>"
                            "<script>alert(1)</script></body></html>";

  g_assert_true (msg_message_get_auto_generate_text_body (message));
  msg_message_set_html_body (message, source);
  generated = msg_message_get_text_body (message);
  g_assert_nonnull (generated);
  g_assert_nonnull (strstr (generated, "Hello & welcome,"));
  g_assert_nonnull (strstr (generated, "Bob"));
  g_assert_nonnull (strstr (generated, "Second para"));
  g_assert_null (strchr (generated, '<'));
  g_assert_null (strstr (generated, "alert"));
  g_assert_null (strstr (generated, "p{}"));

  tree = describe_written (message);
  g_assert_cmpstr (tree, ==, "multipart/alternative(text/plain,text/html)");

  text = to_string (message);
  parsed = parse_string (text);
  root = msg_message_get_body_part (parsed);
  plain = nth_child (root, 0);
  html = nth_child (root, 1);
  plain_text = decoded_string (plain);
  html_text = decoded_string (html);
  g_assert_nonnull (strstr (plain_text, "Hello & welcome,"));
  g_assert_cmpstr (html_text, ==, source);
  g_clear_pointer (&html_text, g_free);
  html_text = msg_message_get_html_body (parsed);
  g_assert_cmpstr (html_text, ==, source);

  /* A new HTML body regenerates the text while the flag holds. */
  msg_message_set_html_body (message, "<p>Other</p>");
  g_clear_pointer (&generated, g_free);
  generated = msg_message_get_text_body (message);
  g_assert_nonnull (strstr (generated, "Other"));
  g_assert_null (strstr (generated, "welcome"));
}

static void
test_mime_html_text_set (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GHashTable) counts = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *tree = NULL;
  g_autofree char *text = NULL;
  g_autofree char *written = NULL;

  g_signal_connect (message, "notify", G_CALLBACK (msg_test_count_notify_cb), counts);
  msg_message_set_html_body (message, "<p>The HTML</p>");
  /* CDO: setting TextBody turns AutoGenerateTextBody off. */
  msg_message_set_text_body (message, "My own text");
  g_assert_false (msg_message_get_auto_generate_text_body (message));
  g_assert_cmpuint (msg_test_notified (counts, "auto-generate-text-body"), ==, 1);
  msg_message_set_html_body (message, "<p>New HTML</p>");
  text = msg_message_get_text_body (message);
  g_assert_cmpstr (text, ==, "My own text");

  tree = describe_written (message);
  g_assert_cmpstr (tree, ==, "multipart/alternative(text/plain,text/html)");
  written = to_string (message);
  g_assert_nonnull (strstr (written, "My own text"));
  g_assert_null (strstr (written, "\r\nNew HTML"));

  /* Turning the flag on again regenerates the text from the HTML. */
  msg_message_set_auto_generate_text_body (message, TRUE);
  g_clear_pointer (&text, g_free);
  text = msg_message_get_text_body (message);
  g_assert_nonnull (strstr (text, "New HTML"));
  g_assert_null (strstr (text, "My own text"));
}

static void
test_mime_html_only (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *tree = NULL;
  g_autofree char *text = NULL;

  /* Without generated text, HTML alone is one part, promoted. */
  msg_message_set_auto_generate_text_body (message, FALSE);
  msg_message_set_html_body (message, "<p>Only HTML</p>");
  text = msg_message_get_text_body (message);
  g_assert_null (text);
  tree = describe_written (message);
  g_assert_cmpstr (tree, ==, "text/html");

  /* With autopromotebodyparts off, the multipart keeps its single child. */
  g_assert_true (msg_configuration_set_field (configuration, "autopromotebodyparts", "false", &error));
  g_assert_no_error (error);
  msg_message_set_configuration (message, configuration);
  g_clear_pointer (&tree, g_free);
  tree = describe_written (message);
  g_assert_cmpstr (tree, ==, "multipart/alternative(text/html)");
}

static void
test_mime_related (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *image = write_temp_file (dir, "logo.png", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
  g_autofree char *tree = NULL;
  g_autofree char *text = NULL;
  g_autofree char *content_id = NULL;
  g_autofree char *disposition = NULL;
  g_autofree char *media = NULL;
  g_autofree char *png_type = NULL;
  g_autofree char *expected = NULL;
  MsgBodyPart     *part;

  msg_message_set_html_body (message, "<p><img src=\"cid:logo@example.com\"></p>");
  part = msg_message_add_related_body_part (message, image, "cid:logo@example.com", &error);
  g_assert_no_error (error);
  g_assert_nonnull (part);
  content_id = msg_body_part_get_content_id (part);
  g_assert_cmpstr (content_id, ==, "logo@example.com");
  disposition = msg_body_part_get_content_disposition (part);
  g_assert_cmpstr (disposition, ==, "inline");
  media = msg_body_part_get_content_media_type (part);
  png_type = guessed_type ("logo.png", NULL);
  g_assert_cmpstr (media, ==, png_type);
  /* A related part is not an attachment. */
  g_assert_null (msg_message_get_attachments (message));

  tree = describe_written (message);
  expected = g_strdup_printf ("multipart/alternative(text/plain,multipart/related(text/html,%s))", png_type);
  g_assert_cmpstr (tree, ==, expected);

  text = to_string (message);
  g_assert_nonnull (strcasestr (text, "\r\nContent-Id: <logo@example.com>\r\n"));
  {
    g_autoptr (MsgMessage) parsed = parse_string (text);
    g_autoptr (MsgBodyPart) root = msg_message_get_body_part (parsed);
    g_autoptr (MsgBodyPart) related = nth_child (root, 1);
    g_autoptr (MsgBodyPart) png = nth_child (related, 1);
    g_autofree char *type = msg_body_part_get_header (related, "Content-Type");
    g_autoptr (GBytes) content = msg_body_part_get_decoded_content (png, &error);

    g_assert_nonnull (strstr (type, "type=\"text/html\""));
    g_assert_no_error (error);
    g_assert_cmpuint (g_bytes_get_size (content), ==, 16);
    g_assert_cmpmem (g_bytes_get_data (content, NULL), 16, "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
  }

  /* A bare reference works too; bad ones are refused. */
  g_assert_nonnull (msg_message_add_related_body_part (message, image, "second@example.com", &error));
  g_assert_no_error (error);
  g_assert_null (msg_message_add_related_body_part (message, image, "cid:bad\r\nX-Cid-Inj: 1", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
  g_assert_nonnull (strstr (error->message, "Content-ID"));
  g_clear_error (&error);
  g_clear_pointer (&tree, g_free);
  tree = describe_written (message);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("multipart/alternative(text/plain,multipart/related(text/html,%s,%s))", png_type, png_type);
  g_assert_cmpstr (tree, ==, expected);

  msg_test_remove_tree (dir);
}

static void
test_mime_attachments (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *pdf = write_temp_file (dir, "report.pdf", "%PDF-1.4 fake", -1);
  g_autoptr (GBytes) csv = g_bytes_new_static ("a,b\n1,2\n", 8);
  g_autofree char *tree = NULL;
  g_autofree char *text = NULL;
  g_autofree char *pdf_type = guessed_type ("report.pdf", NULL);
  g_autofree char *expected = NULL;
  GList           *attachments;
  MsgBodyPart     *first;
  MsgBodyPart     *second;

  msg_message_set_text_body (message, "See attached.");
  first = msg_message_add_attachment (message, pdf, &error);
  g_assert_no_error (error);
  second = msg_message_add_attachment_bytes (message, csv, "data.csv", "text/csv", &error);
  g_assert_no_error (error);

  attachments = msg_message_get_attachments (message);
  g_assert_cmpuint (g_list_length (attachments), ==, 2);
  g_assert_true (attachments->data == first);
  g_assert_true (attachments->next->data == second);
  g_list_free_full (attachments, g_object_unref);

  tree = describe_written (message);
  expected = g_strdup_printf ("multipart/mixed(text/plain,%s,text/csv)", pdf_type);
  g_assert_cmpstr (tree, ==, expected);

  text = to_string (message);
  g_assert_nonnull (strstr (text, "Content-Disposition: attachment; filename=report.pdf\r\n"));
  g_assert_nonnull (strstr (text, "name=report.pdf"));
  g_assert_nonnull (strstr (text, "Content-Transfer-Encoding: base64\r\n"));
  {
    g_autoptr (MsgMessage) parsed = parse_string (text);
    GList           *got = msg_message_get_attachments (parsed);
    g_autofree char *name0 = NULL;
    g_autofree char *name1 = NULL;
    g_autofree char *content0 = NULL;
    g_autofree char *content1 = NULL;
    g_autofree char *body = msg_message_get_text_body (parsed);

    g_assert_cmpuint (g_list_length (got), ==, 2);
    name0 = msg_body_part_get_filename (got->data);
    name1 = msg_body_part_get_filename (got->next->data);
    g_assert_cmpstr (name0, ==, "report.pdf");
    g_assert_cmpstr (name1, ==, "data.csv");
    content0 = decoded_string (got->data);
    content1 = decoded_string (got->next->data);
    g_assert_cmpstr (content0, ==, "%PDF-1.4 fake");
    /* Text attachments are canonicalised to CRLF on the wire. */
    g_assert_cmpstr (content1, ==, "a,b\r\n1,2\r\n");
    g_assert_cmpstr (body, ==, "See attached.");
    g_list_free_full (got, g_object_unref);
  }

  /* HTML, related parts and attachments all at once. */
  {
    g_autofree char *image = write_temp_file (dir, "i.gif", "GIF89a", -1);

    g_autofree char *gif_type = guessed_type ("i.gif", NULL);

    msg_message_set_html_body (message, "<img src=\"cid:i@x\">");
    g_assert_nonnull (msg_message_add_related_body_part (message, image, "i@x", &error));
    g_clear_pointer (&expected, g_free);
    expected = g_strdup_printf ("multipart/mixed(multipart/alternative(text/plain,multipart/related(text/html,%s)),"
                                "%s,text/csv)",
                                gif_type, pdf_type);
    g_clear_pointer (&tree, g_free);
    tree = describe_written (message);
    g_assert_cmpstr (tree, ==,
                     expected);
  }

  msg_test_remove_tree (dir);
}

static void
test_mime_attachment_guess (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *path = write_temp_file (dir, "no-extension", "\x01\x02\x03", 3);
  g_autofree char *uri = NULL;
  g_autoptr (GBytes) bytes = g_bytes_new_static ("<html></html>", 13);
  MsgBodyPart     *part;
  g_autofree char *type = NULL;
  g_autofree char *expected = NULL;

  part = msg_message_add_attachment (message, path, &error);
  g_assert_no_error (error);
  type = msg_body_part_get_content_media_type (part);
  expected = guessed_type ("no-extension", NULL);
  g_assert_cmpstr (type, ==, expected);
  g_clear_pointer (&type, g_free);
  g_clear_pointer (&expected, g_free);

  /* file:// URIs name local files. */
  g_clear_pointer (&path, g_free);
  path = write_temp_file (dir, "page with space.html", "<p>x</p>", -1);
  uri = g_filename_to_uri (path, NULL, NULL);
  part = msg_message_add_attachment (message, uri, &error);
  g_assert_no_error (error);
  type = msg_body_part_get_content_media_type (part);
  expected = guessed_type ("page with space.html", NULL);
  g_assert_cmpstr (type, ==, expected);
  g_clear_pointer (&type, g_free);
  g_clear_pointer (&expected, g_free);
  type = msg_body_part_get_filename (part);
  g_assert_cmpstr (type, ==, "page with space.html");
  g_clear_pointer (&type, g_free);

  /* Other schemes are not fetched. */
  g_assert_null (msg_message_add_attachment (message, "http://example.com/x.pdf", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT);
  g_clear_error (&error);

  /* In-memory content: guessed from name and content; no multipart. */
  part = msg_message_add_attachment_bytes (message, bytes, "dir/../page.html", NULL, &error);
  g_assert_no_error (error);
  type = msg_body_part_get_filename (part);
  g_assert_cmpstr (type, ==, "page.html");
  g_clear_pointer (&type, g_free);
  type = msg_body_part_get_content_media_type (part);
  expected = guessed_type ("page.html", "<html></html>");
  g_assert_cmpstr (type, ==, expected);
  g_assert_null (msg_message_add_attachment_bytes (message, bytes, "x.eml", "multipart/mixed", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT);
  g_clear_error (&error);
  g_assert_null (msg_message_add_attachment_bytes (message, bytes, "x", "not a type", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
  g_clear_error (&error);

  msg_test_remove_tree (dir);
}

/* Decodes uuencoded lines from @text (between "begin" and "end"). */
static GBytes *
uudecode (const char *text,
          const char *begin_line)
{
  const char *p = strstr (text, begin_line);
  GByteArray *out = g_byte_array_new ();

  g_assert_nonnull (p);
  p = strstr (p, "\r\n") + 2;
  while (!g_str_has_prefix (p, "end\r\n"))
    {
      const char *eol = strstr (p, "\r\n");
      int         n = (p[0] - ' ') & 0x3f;
      const char *q = p + 1;

      g_assert_nonnull (eol);
      while (n > 0)
        {
          guint8 c[4];
          guint8 b[3];

          for (int k = 0; k < 4; k++)
            c[k] = (q < eol ? (q[k] - ' ') : 0) & 0x3f;
          b[0] = (c[0] << 2) | (c[1] >> 4);
          b[1] = (c[1] << 4) | (c[2] >> 2);
          b[2] = (c[2] << 6) | c[3];
          g_byte_array_append (out, b, MIN (n, 3));
          n -= 3;
          q += 4;
        }
      p = eol + 2;
    }

  return g_byte_array_free_to_bytes (out);
}

static void
test_mime_uuencode (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) counts = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *dir = msg_test_make_temp_dir ();
  guint8           binary[300];
  g_autofree char *path = NULL;
  g_autoptr (GBytes) decoded = NULL;
  g_autoptr (GBytes) decoded2 = NULL;
  g_autofree char *text = NULL;
  g_autofree char *html = NULL;
  g_autofree char *body = NULL;

  for (guint i = 0; i < sizeof binary; i++)
    binary[i] = (guint8) (i * 7);
  path = write_temp_file (dir, "bin.dat", (const char *) binary, sizeof binary);

  msg_message_set_html_body (message, "<p>Plain words</p>");
  g_signal_connect (message, "notify", G_CALLBACK (msg_test_count_notify_cb), counts);
  /* CDO: MimeFormatted False drops the HTML and AutoGenerateTextBody. */
  msg_message_set_mime_formatted (message, FALSE);
  g_assert_false (msg_message_get_mime_formatted (message));
  g_assert_false (msg_message_get_auto_generate_text_body (message));
  html = msg_message_get_html_body (message);
  g_assert_null (html);
  g_assert_cmpuint (msg_test_notified (counts, "html-body"), ==, 1);
  g_assert_cmpuint (msg_test_notified (counts, "mime-formatted"), ==, 1);

  msg_message_set_text_body (message, "Plain words");
  g_assert_nonnull (msg_message_add_attachment (message, path, &error));
  g_assert_no_error (error);
  {
    g_autoptr (GBytes) small = g_bytes_new_static ("hi\n", 3);

    g_assert_nonnull (msg_message_add_attachment_bytes (message, small, "hi.txt", "text/plain", &error));
  }

  text = to_string (message);
  /* An ASCII message without MIME: RFC 822 and uuencode. */
  g_assert_false (has_header_line (text, "MIME-Version"));
  g_assert_false (has_header_line (text, "Content-Type"));
  g_assert_false (has_header_line (text, "Content-Transfer-Encoding"));
  body = g_strdup (strstr (text, "\r\n\r\n") + 4);
  g_assert_true (g_str_has_prefix (body, "Plain words\r\nbegin 644 bin.dat\r\n"));
  g_assert_nonnull (strstr (body, "\r\nend\r\n\r\nbegin 644 hi.txt\r\n"));
  g_assert_true (g_str_has_suffix (body, "end\r\n"));
  decoded = uudecode (body, "begin 644 bin.dat\r\n");
  g_assert_cmpmem (g_bytes_get_data (decoded, NULL), g_bytes_get_size (decoded), binary, sizeof binary);
  decoded2 = uudecode (body, "begin 644 hi.txt\r\n");
  g_assert_cmpmem (g_bytes_get_data (decoded2, NULL), g_bytes_get_size (decoded2), "hi\n", 3);

  /* Non-ASCII text needs a charset label: then MIME headers appear, the
   * attachments stay uuencoded in the text. */
  msg_message_set_text_body (message, "Grüße");
  g_clear_pointer (&text, g_free);
  text = to_string (message);
  g_assert_true (has_header_line (text, "Content-Type"));
  g_assert_nonnull (strstr (text, "charset=utf-8"));
  g_assert_nonnull (strstr (text, "Content-Transfer-Encoding: quoted-printable"));
  g_assert_nonnull (strstr (text, "begin 644 bin.dat"));

  /* Setting HTML turns MIME back on. */
  msg_message_set_html_body (message, "<p>x</p>");
  g_assert_true (msg_message_get_mime_formatted (message));
  g_clear_pointer (&body, g_free);
  body = describe_written (message);
  g_clear_pointer (&html, g_free);
  html = guessed_type ("bin.dat", NULL);
  g_clear_pointer (&text, g_free);
  text = g_strdup_printf ("multipart/mixed(multipart/alternative(text/plain,text/html),%s,text/plain)", html);
  g_assert_cmpstr (body, ==, text);

  msg_test_remove_tree (dir);
}

/* Encodings and line ends */

static void
test_encoding_bodies (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GString) long_line = g_string_new (NULL);
  g_autofree char *text = NULL;
  g_autofree char *cte = NULL;
  g_autoptr (MsgBodyPart) root = NULL;
  g_autofree char *encoding = NULL;

  /* 7bit when it fits. */
  msg_message_set_text_body (message, "short ascii\n");
  text = to_string (message);
  cte = find_header (text, "Content-Transfer-Encoding");
  g_assert_true (cte == NULL || g_strcmp0 (cte, "7bit") == 0);
  g_assert_false (msg_message_has_8bit_content (message));

  /* A line over 998 octets: quoted-printable, soft breaks. */
  for (guint i = 0; i < 5000; i++)
    g_string_append_c (long_line, 'a' + i % 26);
  msg_message_set_text_body (message, long_line->str);
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&cte, g_free);
  text = to_string (message);
  cte = find_header (text, "Content-Transfer-Encoding");
  g_assert_cmpstr (cte, ==, "quoted-printable");
  {
    g_autoptr (MsgMessage) parsed = parse_string (text);
    g_autofree char *body = msg_message_get_text_body (parsed);
    g_autofree char *with_crlf = g_strconcat (long_line->str, "\r\n", NULL);

    /* The quoted-printable encoder ends the text with a line end. */
    g_assert_true (g_strcmp0 (body, long_line->str) == 0 || g_strcmp0 (body, with_crlf) == 0);
  }

  /* Mostly ASCII UTF-8: quoted-printable; no 8-bit byte on the wire. */
  msg_message_set_text_body (message, "Grüße aus Köln, and a longer line of mostly plain ASCII text.\n");
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&cte, g_free);
  text = to_string (message);
  cte = find_header (text, "Content-Transfer-Encoding");
  g_assert_cmpstr (cte, ==, "quoted-printable");
  for (const char *p = text; *p != '\0'; p++)
    g_assert_cmpuint ((guchar) *p, <, 0x80);
  g_assert_false (msg_message_has_8bit_content (message));

  /* Mostly non-ASCII: base64. */
  msg_message_set_text_body (message, "日本語のテキストです。日本語のテキストです。\n");
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&cte, g_free);
  text = to_string (message);
  cte = find_header (text, "Content-Transfer-Encoding");
  g_assert_cmpstr (cte, ==, "base64");
  root = msg_message_get_body_part (message);
  encoding = msg_body_part_get_content_transfer_encoding (root);
  g_assert_cmpstr (encoding, ==, "base64");
  {
    g_autoptr (MsgMessage) parsed = parse_string (text);
    g_autofree char *body = msg_message_get_text_body (parsed);

    g_assert_cmpstr (body, ==, "日本語のテキストです。日本語のテキストです。\r\n");
  }

  /* Control characters in text are encoded, never raw. */
  msg_message_set_text_body (message, "bell\a and escape\x1b and lone\rCR\n");
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&cte, g_free);
  text = to_string (message);
  cte = find_header (text, "Content-Transfer-Encoding");
  g_assert_true (g_strcmp0 (cte, "quoted-printable") == 0 || g_strcmp0 (cte, "base64") == 0);
  g_assert_null (strchr (text, '\a'));
  g_assert_null (strchr (text, '\x1b'));
}

static void
test_encoding_line_ends (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) lf_text = g_bytes_new_static ("one\ntwo\rthree\r\nfour", 19);
  g_autoptr (GBytes) binary = g_bytes_new_static ("\0\r\n\n\r\xff", 6);
  g_autofree char *text = NULL;
  g_autofree char *body = NULL;

  /* Mixed line ends everywhere: every one becomes CRLF (to_string checks
   * the whole message). */
  msg_message_set_text_body (message, "a\nb\rc\r\nd\n\n.\n..\n");
  g_assert_nonnull (msg_message_add_attachment_bytes (message, lf_text, "t.txt", "text/plain", &error));
  g_assert_nonnull (msg_message_add_attachment_bytes (message, binary, "b.bin", "application/octet-stream", &error));
  g_assert_no_error (error);
  text = to_string (message);
  {
    g_autoptr (MsgMessage) parsed = parse_string (text);
    GList *attachments = msg_message_get_attachments (parsed);
    g_autoptr (GBytes) content = msg_body_part_get_decoded_content (attachments->next->data, &error);

    body = msg_message_get_text_body (parsed);
    g_assert_cmpstr (body, ==, "a\r\nb\r\nc\r\nd\r\n\r\n.\r\n..\r\n");
    /* Binary content is base64 and comes back byte for byte. */
    g_assert_no_error (error);
    g_assert_cmpmem (g_bytes_get_data (content, NULL), g_bytes_get_size (content), "\0\r\n\n\r\xff", 6);
    g_list_free_full (attachments, g_object_unref);
  }
}

/* Generated headers */

static void
assert_generated (MsgMessage *message,
                  const char *domain)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *id = NULL;
  g_autofree char *suffix = g_strdup_printf ("@%s>", domain);
  g_autoptr (GDateTime) date = NULL;
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *text = NULL;

  g_assert_true (msg_message_prepare_for_sending (message, &error));
  g_assert_no_error (error);
  id = msg_message_get_message_id (message);
  g_assert_nonnull (id);
  g_assert_true (g_str_has_prefix (id, "<"));
  g_assert_true (g_str_has_suffix (id, suffix));
  date = msg_message_get_sent_on (message);
  g_assert_nonnull (date);
  g_assert_cmpint (ABS (g_date_time_difference (now, date)), <, 60 * G_TIME_SPAN_SECOND);

  text = to_string (message);
  g_assert_true (has_header_line (text, "Date"));
  g_assert_true (has_header_line (text, "Message-ID"));
}

static void
test_generated_headers (void)
{
  g_autoptr (GError) error = NULL;

  {
    g_autoptr (MsgMessage) message = make_message ();
    g_autofree char *first = NULL;
    g_autofree char *again = NULL;
    g_autoptr (MsgMessage) other = make_message ();
    g_autofree char *other_id = NULL;

    assert_generated (message, "example.com");
    /* Kept once there; unique per message. */
    first = msg_message_get_message_id (message);
    g_assert_true (msg_message_prepare_for_sending (message, &error));
    again = msg_message_get_message_id (message);
    g_assert_cmpstr (first, ==, again);
    assert_generated (other, "example.com");
    other_id = msg_message_get_message_id (other);
    g_assert_cmpstr (first, !=, other_id);
  }

  {
    /* Sender's domain before From's. */
    g_autoptr (MsgMessage) message = make_message ();

    g_assert_true (msg_message_set_sender (message, "sec@sender.example", &error));
    assert_generated (message, "sender.example");
  }

  {
    /* The configured sendemailaddress without From or Sender. */
    g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();
    g_autoptr (MsgMessage) message = msg_message_new_with_configuration (configuration);

    g_assert_true (msg_configuration_set_field (configuration, "sendemailaddress", "me@configured.example", &error));
    assert_generated (message, "configured.example");
  }

  {
    /* No address at all: this host's name (or localhost if it is not a
     * valid domain). */
    g_autoptr (MsgMessage) message = msg_message_new ();
    const char *host = g_get_host_name ();
    gboolean    valid = *host != '\0' && host[0] != '.' && host[0] != '-';

    for (const char *p = host; *p != '\0'; p++)
      if (!g_ascii_isalnum (*p) && *p != '-' && *p != '.')
        valid = FALSE;
    assert_generated (message, valid ? host : "localhost");
  }

  {
    /* Existing values are kept. */
    g_autoptr (MsgMessage) message = make_message ();
    g_autoptr (GDateTime) date = g_date_time_new_from_unix_utc (1000000000);
    g_autoptr (GDateTime) got = NULL;
    g_autofree char *id = NULL;

    msg_message_set_sent_on (message, date);
    g_assert_true (msg_message_set_message_id (message, "<mine@example.com>", &error));
    g_assert_true (msg_message_prepare_for_sending (message, &error));
    got = msg_message_get_sent_on (message);
    g_assert_cmpint (g_date_time_to_unix (got), ==, 1000000000);
    id = msg_message_get_message_id (message);
    g_assert_cmpstr (id, ==, "<mine@example.com>");
  }
}

/* Bcc */

static void
test_bcc (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *full = NULL;
  g_autofree char *smtp = NULL;
  g_autofree char *news = NULL;
  g_auto (GStrv) recipients = NULL;

  g_assert_true (msg_message_set_cc (message, "cc@example.org", &error));
  g_assert_true (msg_message_set_bcc (message, "Hidden <hidden@example.org>, BOB@example.org", &error));
  msg_message_set_text_body (message, "body");

  /* CDO's GetStream keeps Bcc. */
  full = to_string (message);
  g_assert_true (has_header_line (full, "Bcc"));
  g_assert_nonnull (strstr (full, "hidden@example.org"));

  /* What SMTP and NNTP send does not. */
  smtp = write_message (message, MSG_WRITE_FLAGS_OMIT_BCC);
  g_assert_false (has_header_line (smtp, "Bcc"));
  g_assert_null (strstr (smtp, "hidden@example.org"));
  g_assert_true (has_header_line (smtp, "Cc"));
  news = write_message (message, MSG_WRITE_FLAGS_NEWS);
  g_assert_false (has_header_line (news, "Bcc"));
  g_assert_null (strstr (news, "hidden@example.org"));

  /* Bcc recipients are envelope recipients; duplicates go. */
  recipients = msg_message_get_envelope_recipients (message, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (recipients), ==, 3);
  g_assert_cmpstr (recipients[0], ==, "bob@example.org");
  g_assert_cmpstr (recipients[1], ==, "cc@example.org");
  g_assert_cmpstr (recipients[2], ==, "hidden@example.org");
}

static void
test_envelope (void)
{
  g_autoptr (MsgMessage) message = msg_message_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *sender = NULL;
  g_auto (GStrv) recipients = NULL;

  sender = msg_message_get_envelope_sender (message, &error);
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_NO_SENDER);
  g_clear_error (&error);
  recipients = msg_message_get_envelope_recipients (message, &error);
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_NO_RECIPIENTS);
  g_assert_null (recipients);
  g_clear_error (&error);

  g_assert_true (msg_message_set_from (message, "Ann <ann@example.com>", &error));
  sender = msg_message_get_envelope_sender (message, &error);
  g_assert_cmpstr (sender, ==, "ann@example.com");
  g_clear_pointer (&sender, g_free);
  g_assert_true (msg_message_set_sender (message, "sec@example.com", &error));
  sender = msg_message_get_envelope_sender (message, &error);
  g_assert_cmpstr (sender, ==, "sec@example.com");

  g_assert_true (msg_message_set_to (message, "team: x@example.org, y@example.org;, z@example.org", &error));
  recipients = msg_message_get_envelope_recipients (message, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (recipients), ==, 3);
  g_assert_cmpstr (recipients[0], ==, "x@example.org");
  g_assert_cmpstr (recipients[2], ==, "z@example.org");
}

/* Attachments are streamed */

static void
test_attachment_read_at_write (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *path = write_temp_file (dir, "live.txt", "first version", -1);
  g_autofree char *text = NULL;
  unsigned         fds = msg_test_count_fds ();
  MsgBodyPart     *part;

  part = msg_message_add_attachment (message, path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (part);
  /* Adding opens nothing that stays open. */
  g_assert_cmpuint (msg_test_count_fds (), ==, fds);

  /* The file is read when the message is written, not when added. */
  g_assert_true (g_file_set_contents (path, "second version", -1, NULL));
  text = to_string (message);
  g_assert_cmpuint (msg_test_count_fds (), ==, fds);
  {
    g_autoptr (MsgMessage) parsed = parse_string (text);
    GList           *attachments = msg_message_get_attachments (parsed);
    g_autofree char *content = decoded_string (attachments->data);

    g_assert_cmpstr (content, ==, "second version");
    g_list_free_full (attachments, g_object_unref);
  }
  {
    g_autofree char *content = decoded_string (part);

    g_assert_cmpstr (content, ==, "second version");
    g_assert_cmpuint (msg_test_count_fds (), ==, fds);
  }

  /* A file gone by then is an error when writing, never a short
   * message. */
  g_assert_cmpint (g_unlink (path), ==, 0);
  {
    g_autoptr (GBytes) bytes = msg_message_to_bytes (message, &error);

    g_assert_null (bytes);
    g_assert_nonnull (error);
    g_assert_nonnull (strstr (error->message, "live.txt"));
    g_clear_error (&error);
  }
  g_assert_cmpuint (msg_test_count_fds (), ==, fds);

  msg_test_remove_tree (dir);
}

static void
assert_unreadable_refused (const char *path)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;

  g_assert_null (msg_message_add_attachment (message, path, &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT);
  g_assert_nonnull (strstr (error->message, "secret.txt"));
  g_assert_nonnull (strstr (error->message, g_strerror (EACCES)));
}

static void
test_attachment_bad_files (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *missing = g_build_filename (dir, "missing.pdf", NULL);
  g_autofree char *fifo = g_build_filename (dir, "fifo", NULL);
  g_autofree char *secret = write_temp_file (dir, "secret.txt", "x", -1);

  g_assert_null (msg_message_add_attachment (message, missing, &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT);
  g_assert_nonnull (strstr (error->message, "missing.pdf"));
  g_clear_error (&error);

  g_assert_null (msg_message_add_attachment (message, dir, &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT);
  g_assert_nonnull (strstr (error->message, "not a regular file"));
  g_clear_error (&error);

  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  g_assert_null (msg_message_add_attachment (message, fifo, &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT);
  g_clear_error (&error);

  g_assert_null (msg_message_add_attachment (message, "/dev/zero", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT);
  g_clear_error (&error);

  g_assert_null (msg_message_add_related_body_part (message, missing, "cid:x@y", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT);
  g_clear_error (&error);

  g_assert_null (msg_message_get_attachments (message));

  /* Unreadable. Root reads everything: then the check runs in a child
   * that has become an ordinary user. */
  g_assert_cmpint (g_chmod (dir, 0755), ==, 0);
  g_assert_cmpint (g_chmod (secret, 0), ==, 0);
  if (geteuid () != 0)
    assert_unreadable_refused (secret);
  else
    {
      /* The child reports through a pipe: its exit status is also
       * valgrind's verdict on a process that never cleans up. */
      int   fds[2];
      char  verdict[3] = "";
      pid_t pid;
      int   status = 0;

      g_assert_cmpint (pipe (fds), ==, 0);
      pid = fork ();
      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        {
          close (fds[0]);
          if (setgid (65534) != 0 || setuid (65534) != 0)
            _exit (2);
          assert_unreadable_refused (secret);
          if (write (fds[1], "ok", 2) != 2)
            _exit (3);
          _exit (0);
        }
      close (fds[1]);
      g_assert_cmpint (read (fds[0], verdict, 2), ==, 2);
      close (fds[0]);
      g_assert_cmpstr (verdict, ==, "ok");
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_assert_true (WIFEXITED (status));
    }

  msg_test_remove_tree (dir);
}

/* A stream that counts what it gets, checks the wire format as it goes
 * and samples the resident memory of the process. */
typedef struct
{
  GOutputStream parent_instance;
  guint64       bytes;
  guint64       line;
  guint64       max_line;
  gboolean      last_cr;
  gboolean      bad_line_end;
  guint64       next_sample;
  gsize         max_rss;
  /* Called once when @hook_at bytes have been written. */
  guint64 hook_at;
  void (*hook) (gpointer data);
  gpointer hook_data;
} CountingStream;

typedef struct
{
  GOutputStreamClass parent_class;
} CountingStreamClass;

static GType counting_stream_get_type (void);
G_DEFINE_TYPE (CountingStream, counting_stream, G_TYPE_OUTPUT_STREAM)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CountingStream, g_object_unref)

static gsize
current_rss (void)
{
  g_autofree char *statm = NULL;
  unsigned long    size = 0;
  unsigned long    resident = 0;

  if (!g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL) ||
      sscanf (statm, "%lu %lu", &size, &resident) != 2)
    g_assert_not_reached ();
  return resident * (gsize) sysconf (_SC_PAGESIZE);
}

static gssize
counting_stream_write (GOutputStream *stream,
                       const void    *buffer,
                       gsize          count,
                       GCancellable  *cancellable,
                       GError       **error)
{
  CountingStream *self = (CountingStream *) stream;
  const guint8   *data = buffer;

  for (gsize i = 0; i < count; i++)
    {
      if (data[i] == '\n')
        {
          if (!self->last_cr)
            self->bad_line_end = TRUE;
          self->max_line = MAX (self->max_line, self->line);
          self->line = 0;
        }
      else if (self->last_cr)
        self->bad_line_end = TRUE;
      else if (data[i] != '\r')
        self->line++;
      self->last_cr = data[i] == '\r';
    }

  self->bytes += count;
  if (self->bytes >= self->next_sample)
    {
      self->max_rss = MAX (self->max_rss, current_rss ());
      self->next_sample = self->bytes + 8 * 1024 * 1024;
    }
  if (self->hook != NULL && self->bytes >= self->hook_at)
    {
      self->hook (self->hook_data);
      self->hook = NULL;
    }
  return count;
}

static void
counting_stream_class_init (CountingStreamClass *klass)
{
  G_OUTPUT_STREAM_CLASS (klass)->write_fn = counting_stream_write;
}

static void
counting_stream_init (CountingStream *self)
{
}

static gboolean
running_on_valgrind (void)
{
  const char *preload = g_getenv ("LD_PRELOAD");

  return preload != NULL && strstr (preload, "vgpreload") != NULL;
}

static void
test_attachment_large (void)
{
#if defined(__SANITIZE_ADDRESS__)
  const gboolean check_rss = FALSE; /* ASan's quarantine holds freed memory */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  const gboolean check_rss = FALSE;
#else
  const gboolean check_rss = TRUE;
#endif
#else
  const gboolean check_rss = TRUE;
#endif
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "big.bin", NULL);
  g_autoptr (CountingStream) counter = g_object_new (counting_stream_get_type (), NULL);
  /* Under valgrind the point is memory errors, and 1 GiB would take an
   * hour: a smaller file goes through the same code. */
  guint64 size = running_on_valgrind () ? (guint64) 8 << 20 : (guint64) 1 << 30;
  guint64 encoded;
  gsize   before;
  int     fd;

  fd = g_open (path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, (off_t) size), ==, 0);
  g_close (fd, NULL);

  msg_message_set_text_body (message, "A large file.");
  g_assert_nonnull (msg_message_add_attachment (message, path, &error));
  g_assert_no_error (error);

  before = current_rss ();
  counter->max_rss = before;
  g_assert_true (msg_message_write_to_stream (message, G_OUTPUT_STREAM (counter), NULL, &error));
  g_assert_no_error (error);

  /* base64: 4 characters per 3 bytes, 76 per line plus CRLF. */
  encoded = (size + 2) / 3 * 4;
  encoded += (encoded + 75) / 76 * 2;
  g_assert_cmpuint (counter->bytes, >, encoded);
  g_assert_cmpuint (counter->bytes, <, encoded + 4096);
  g_assert_false (counter->bad_line_end);
  g_assert_cmpuint (counter->max_line, <=, 998);
  g_test_message ("wrote %" G_GUINT64_FORMAT " bytes; resident memory grew by %" G_GSIZE_FORMAT " KiB",
                  counter->bytes, (counter->max_rss - before) / 1024);
  if (check_rss)
    g_assert_cmpuint (counter->max_rss - before, <, 32 * 1024 * 1024);

  msg_test_remove_tree (dir);
}

static void
truncate_file (gpointer data)
{
  g_assert_cmpint (truncate (data, 1024 * 1024), ==, 0);
}

static void
test_attachment_interrupted (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "data.bin", NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  unsigned fds;
  int      fd;

  fd = g_open (path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, 8 * 1024 * 1024), ==, 0);
  g_close (fd, NULL);
  g_assert_nonnull (msg_message_add_attachment (message, path, &error));
  fds = msg_test_count_fds ();

  /* Cancelled mid-way: G_IO_ERROR_CANCELLED and the file is closed. */
  {
    g_autoptr (CountingStream) counter = g_object_new (counting_stream_get_type (), NULL);

    counter->hook_at = 1024 * 1024;
    counter->hook = (void (*) (gpointer)) g_cancellable_cancel;
    counter->hook_data = cancellable;
    g_assert_false (msg_message_write_to_stream (message, G_OUTPUT_STREAM (counter), cancellable, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&error);
    g_assert_cmpuint (counter->bytes, <, 4 * 1024 * 1024);
    g_assert_cmpuint (msg_test_count_fds (), ==, fds);
  }

  /* The next write starts again from the beginning. */
  {
    g_autoptr (CountingStream) counter = g_object_new (counting_stream_get_type (), NULL);

    g_assert_true (msg_message_write_to_stream (message, G_OUTPUT_STREAM (counter), NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (counter->bytes, >, 8 * 1024 * 1024 / 3 * 4);
    g_assert_cmpuint (msg_test_count_fds (), ==, fds);
  }

  /* A file that shrinks while it is read is an error, never a short
   * message. */
  {
    g_autoptr (CountingStream) counter = g_object_new (counting_stream_get_type (), NULL);

    counter->hook_at = 2 * 1024 * 1024;
    counter->hook = truncate_file;
    counter->hook_data = path;
    g_assert_false (msg_message_write_to_stream (message, G_OUTPUT_STREAM (counter), NULL, &error));
    g_assert_nonnull (error);
    g_assert_nonnull (strstr (error->message, "data.bin"));
    g_clear_error (&error);
    g_assert_cmpuint (msg_test_count_fds (), ==, fds);
  }

  msg_test_remove_tree (dir);
}

/* Parsing and round trips */

static const char simple_message[] =
    "From: Ann Example <ann@example.com>\n"
    "To: Bob <bob@example.org>, carol@example.net\n"
    "Cc: dave@example.net\n"
    "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= from Ann\n"
    "Date: Tue, 05 Mar 2024 10:11:12 +0100\n"
    "Message-ID: <orig.1@example.com>\n"
    "References: <a@example.com> <b@example.com>\n"
    "X-Custom: kept as it is\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=iso-8859-1\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "Caf\xe9 line one\n"
    "line two\n";

static char *
lf_to_crlf (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '\n')
        g_string_append_c (out, '\r');
      g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

static void
test_parse_simple (void)
{
  g_autoptr (MsgMessage) message = parse_string (simple_message);
  g_autofree char *from = msg_message_get_from (message);
  g_autofree char *to = msg_message_get_to (message);
  g_autofree char *cc = msg_message_get_cc (message);
  g_autofree char *subject = msg_message_get_subject (message);
  g_autofree char *id = msg_message_get_message_id (message);
  g_autofree char *custom = msg_message_get_header (message, "X-Custom");
  g_autofree char *body = msg_message_get_text_body (message);
  g_autofree char *expected = lf_to_crlf (simple_message);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GDateTime) date = msg_message_get_sent_on (message);
  g_autoptr (GError) error = NULL;

  g_assert_cmpstr (from, ==, "Ann Example <ann@example.com>");
  g_assert_cmpstr (to, ==, "Bob <bob@example.org>, carol@example.net");
  g_assert_cmpstr (cc, ==, "dave@example.net");
  g_assert_cmpstr (subject, ==, "Grüße from Ann");
  g_assert_cmpstr (id, ==, "<orig.1@example.com>");
  g_assert_cmpstr (custom, ==, "kept as it is");
  /* Converted from the declared charset. */
  g_assert_cmpstr (body, ==, "Café line one\nline two\n");
  g_assert_cmpint (g_date_time_to_unix (date), ==, 1709629872);
  /* CDO: False on loaded messages. */
  g_assert_false (msg_message_get_auto_generate_text_body (message));
  g_assert_null (msg_message_get_attachments (message));

  /* Written back unchanged: the same bytes, with CRLF line ends. */
  bytes = msg_message_to_bytes (message, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), expected, strlen (expected));
  /* The 8-bit body is reported to transports. */
  g_assert_true (msg_message_has_8bit_content (message));
}

static const char multipart_message[] =
    "From: ann@example.com\r\n"
    "To: bob@example.org\r\n"
    "Subject: Parts\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
    "\r\n"
    "This is a multi-part message in MIME format.\r\n"
    "--outer\r\n"
    "Content-Type: multipart/alternative; boundary=\"inner\"\r\n"
    "\r\n"
    "--inner\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Plain text\r\n"
    "--inner\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "\r\n"
    "<p>HTML text</p>\r\n"
    "--inner--\r\n"
    "--outer\r\n"
    "Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
    "Content-Disposition: attachment; filename=\"data.bin\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "AAECAwQ=\r\n"
    "--outer\r\n"
    "Content-Type: message/rfc822\r\n"
    "Content-Disposition: attachment\r\n"
    "\r\n"
    "From: inner@example.com\r\n"
    "Subject: Inner\r\n"
    "\r\n"
    "Inner body\r\n"
    "--outer--\r\n";

static void
test_parse_multipart (void)
{
  g_autoptr (MsgMessage) message = parse_string (multipart_message);
  g_autofree char *tree = describe_tree (message);
  g_autofree char *text = msg_message_get_text_body (message);
  g_autofree char *html = msg_message_get_html_body (message);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  GList           *attachments = msg_message_get_attachments (message);
  g_autofree char *name = NULL;
  g_autoptr (GBytes) content = NULL;
  g_autofree char *inner = NULL;

  g_assert_cmpstr (tree, ==, "multipart/mixed(multipart/alternative(text/plain,text/html),application/octet-stream,message/rfc822)");
  g_assert_cmpstr (text, ==, "Plain text");
  g_assert_cmpstr (html, ==, "<p>HTML text</p>");
  g_assert_cmpuint (g_list_length (attachments), ==, 2);
  name = msg_body_part_get_filename (attachments->data);
  g_assert_cmpstr (name, ==, "data.bin");
  content = msg_body_part_get_decoded_content (attachments->data, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (content, NULL), g_bytes_get_size (content), "\0\1\2\3\4", 5);
  inner = decoded_string (attachments->next->data);
  g_assert_nonnull (strstr (inner, "Subject: Inner"));
  g_assert_nonnull (strstr (inner, "Inner body"));
  g_list_free_full (attachments, g_object_unref);

  /* Round trip: byte for byte but for the empty line GMime writes after
   * the closing boundary of the nested multipart; stable from then on. */
  bytes = msg_message_to_bytes (message, &error);
  g_assert_no_error (error);
  {
    g_autoptr (GString) expected = g_string_new (multipart_message);
    g_autoptr (MsgMessage) again = NULL;
    g_autoptr (GBytes) bytes2 = NULL;

    g_string_replace (expected, "--inner--\r\n", "--inner--\r\n\r\n", 1);
    g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), expected->str, expected->len);
    again = msg_message_new_from_bytes (bytes, &error);
    g_assert_no_error (error);
    bytes2 = msg_message_to_bytes (again, &error);
    g_assert_no_error (error);
    g_assert_true (g_bytes_equal (bytes, bytes2));
  }
}

static void
test_parse_then_modify (void)
{
  g_autoptr (MsgMessage) message = parse_string (multipart_message);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *tree = NULL;
  GList           *attachments;

  /* A header change keeps the body as it was. */
  g_assert_true (msg_message_set_subject (message, "Changed", &error));
  text = to_string (message);
  g_assert_nonnull (strstr (text, "\r\nSubject: Changed\r\n"));
  g_assert_nonnull (strstr (text, "--outer\r\n"));

  /* A body change rebuilds the tree with the content kept. */
  msg_message_set_text_body (message, "New text");
  tree = describe_written (message);
  g_assert_cmpstr (tree, ==, "multipart/mixed(multipart/alternative(text/plain,text/html),application/octet-stream,message/rfc822)");
  g_clear_pointer (&text, g_free);
  text = to_string (message);
  g_assert_nonnull (strstr (text, "New text"));
  g_assert_nonnull (strstr (text, "<p>HTML text</p>"));
  attachments = msg_message_get_attachments (message);
  g_assert_cmpuint (g_list_length (attachments), ==, 2);
  g_list_free_full (attachments, g_object_unref);
}

static void
test_parse_sources (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *path = write_temp_file (dir, "m.eml", simple_message, -1);
  g_autofree char *missing = g_build_filename (dir, "none.eml", NULL);
  g_autoptr (MsgMessage) from_file = NULL;
  g_autoptr (MsgMessage) from_stream = NULL;
  g_autoptr (GInputStream) input = g_memory_input_stream_new_from_data (simple_message, strlen (simple_message), NULL);
  g_autofree char *subject = NULL;
  g_autofree char *subject2 = NULL;

  from_file = msg_message_new_from_file (path, &error);
  g_assert_no_error (error);
  subject = msg_message_get_subject (from_file);
  g_assert_cmpstr (subject, ==, "Grüße from Ann");

  from_stream = msg_message_new_from_stream (input, NULL, &error);
  g_assert_no_error (error);
  subject2 = msg_message_get_subject (from_stream);
  g_assert_cmpstr (subject2, ==, "Grüße from Ann");

  g_assert_null (msg_message_new_from_file (missing, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error (&error);

  {
    g_autoptr (GCancellable) cancellable = g_cancellable_new ();
    g_autoptr (GInputStream) again = g_memory_input_stream_new_from_data (simple_message, strlen (simple_message), NULL);

    g_cancellable_cancel (cancellable);
    g_assert_null (msg_message_new_from_stream (again, cancellable, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&error);
  }

  msg_test_remove_tree (dir);
}

static void
test_parse_errors (void)
{
  static const struct
  {
    const char *data;
    gsize       len;
  } bad[] = {
    { "", 0 },
    { "\n\n\n", 3 },
    { "\x89PNG\r\n\x1a\n\0\0", 10 },
    { "just some words without any header\n", 36 },
    { "Bad Header Name: x\n\nbody\n", 25 },
    { "From: a@example.com\nSubject: a\0b\n\nbody\n", 39 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GBytes) bytes = g_bytes_new (bad[i].data, bad[i].len);
      g_autoptr (GError) error = NULL;
      g_autoptr (MsgMessage) message = msg_message_new_from_bytes (bytes, &error);

      g_test_message ("input %u", i);
      g_assert_null (message);
      g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_PARSE);
    }
}

static void
test_parse_odd_addresses (void)
{
  /* Received mail may hold anything in its address headers; parsing it
   * must neither fail nor leak (GMime's strict address parser leaks on a
   * stray ">"), and it is written back as it came. */
  static const char raw[] = "From: a@b.example> SIZE=1\r\n"
                            "To: x <y@example.org>>, a>b@c.example\r\n"
                            "Cc: undisclosed-recipients:;\r\n"
                            "Subject: odd\r\n"
                            "\r\n"
                            "body\r\n";
  g_autoptr (MsgMessage) message = parse_string (raw);
  g_autofree char *text = to_string (message);

  g_assert_cmpstr (text, ==, raw);
}

static void
test_parse_unwritable (void)
{
  /* research/reliability.md 2.3 rule 2: what is parsed is written only
   * if every header line fits; an unfoldable 3,000-octet References is an
   * error naming the field, not a line over 998 octets. */
  g_autoptr (GString) raw = g_string_new ("From: ann@example.com\r\nReferences: <");
  g_autoptr (MsgMessage) message = NULL;
  g_autoptr (MsgMessage) reply = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;

  for (guint i = 0; i < 3000; i++)
    g_string_append_c (raw, 'a');
  g_string_append (raw, "@example.com>\r\nMessage-ID: <m@example.com>\r\nSubject: x\r\n\r\nbody\r\n");
  message = parse_string (raw->str);
  bytes = msg_message_to_bytes (message, &error);
  g_assert_null (bytes);
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
  g_assert_nonnull (strstr (error->message, "References"));

  /* A reply cannot carry the chain; it still refers to the message. */
  reply = msg_message_create_reply (message);
  text = to_string (reply);
  g_assert_nonnull (strstr (text, "\r\nIn-Reply-To: <m@example.com>\r\n"));
}

static void
test_parse_encoded_crlf (void)
{
  /* C-10/C-11: an encoded word that decodes to CRLF is never turned into
   * a line break, whether parsed or set. */
  g_autoptr (MsgMessage) message = parse_string ("From: ann@example.com\r\n"
                                                 "To: bob@example.org\r\n"
                                                 "Subject: =?utf-8?q?a=0D=0ABcc:_x@evil.example?=\r\n"
                                                 "\r\n"
                                                 "body\r\n");
  g_autoptr (GError) error = NULL;
  g_autofree char *subject = msg_message_get_subject (message);
  g_autofree char *text = NULL;
  g_autofree char *text2 = NULL;

  g_assert_true (msg_message_set_header (message, "X-Other", "y", &error));
  text = to_string (message);
  g_assert_false (has_header_line (text, "Bcc"));
  g_assert_cmpuint (count_lines_starting (text, "Bcc"), ==, 0);

  /* Re-setting the decoded subject is refused, naming the field. */
  if (subject != NULL && strpbrk (subject, "\r\n") != NULL)
    {
      g_assert_false (msg_message_set_subject (message, subject, &error));
      g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
      g_assert_nonnull (strstr (error->message, "Subject"));
      g_clear_error (&error);
    }

  /* Set as raw text, an encoded word that a reader would decode to a line
   * break is refused; a harmless one is kept. */
  g_assert_false (msg_message_set_subject (message, "=?utf-8?q?a=0D=0ABcc:_x@evil.example?=", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
  g_assert_nonnull (strstr (error->message, "Subject"));
  g_clear_error (&error);
  g_assert_false (msg_message_set_header (message, "X-Other", "=?us-ascii?b?eA0KQmNjOiB5QGV2aWwuZXhhbXBsZQ==?=", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
  g_clear_error (&error);
  g_assert_true (msg_message_set_subject (message, "=?utf-8?q?caf=C3=A9?= and a=?b", &error));
  g_assert_no_error (error);
  text2 = to_string (message);
  g_assert_cmpuint (count_lines_starting (text2, "Bcc"), ==, 0);
  {
    g_autoptr (MsgMessage) parsed = parse_string (text2);
    g_autofree char *reparsed = msg_message_get_subject (parsed);

    g_assert_null (strpbrk (reparsed, "\r\n"));
  }
}

/* save_to_file */

static GPtrArray *
list_dir (const char *dir)
{
  g_autoptr (GDir) handle = g_dir_open (dir, 0, NULL);
  GPtrArray  *names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (handle);
  while ((name = g_dir_read_name (handle)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  return names;
}

static void
test_save_to_file (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "out.eml", NULL);
  g_autofree char *attachment = write_temp_file (dir, "a.txt", "attached", -1);
  g_autofree char *expected = NULL;
  g_autofree char *contents = NULL;
  g_autoptr (GPtrArray) names = NULL;
  gsize len;

  msg_message_set_text_body (message, "Saved.");
  g_assert_nonnull (msg_message_add_attachment (message, attachment, &error));
  g_assert_true (msg_message_save_to_file (message, path, &error));
  g_assert_no_error (error);
  expected = to_string (message);
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpmem (contents, len, expected, strlen (expected));

  /* It reads back as the same message. */
  {
    g_autoptr (MsgMessage) loaded = msg_message_new_from_file (path, &error);
    g_autofree char *again = NULL;

    g_assert_no_error (error);
    again = to_string (loaded);
    g_assert_cmpstr (again, ==, expected);
  }

  /* On error the old file stays and no temporary file is left. */
  g_assert_cmpint (g_unlink (attachment), ==, 0);
  g_assert_false (msg_message_save_to_file (message, path, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_clear_pointer (&contents, g_free);
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpmem (contents, len, expected, strlen (expected));
  names = list_dir (dir);
  g_assert_cmpuint (names->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (names, 0), ==, "out.eml");

  /* A directory or a missing directory is an error. */
  g_assert_false (msg_message_save_to_file (message, dir, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY);
  g_clear_error (&error);
  {
    g_autofree char *nowhere = g_build_filename (dir, "no", "such", "x.eml", NULL);
    g_autoptr (MsgMessage) plain = make_message ();

    g_assert_false (msg_message_save_to_file (plain, nowhere, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
    g_clear_error (&error);
  }
  g_clear_pointer (&names, g_ptr_array_unref);
  names = list_dir (dir);
  g_assert_cmpuint (names->len, ==, 1);

  msg_test_remove_tree (dir);
}

/* Reply and forward */

static MsgMessage *
make_original (MsgConfiguration *configuration)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = g_bytes_new_static ("PDF", 3);
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr (GDateTime) date = g_date_time_new (utc, 2024, 3, 5, 10, 11, 0);
  MsgMessage *message = msg_message_new_with_configuration (configuration);

  g_assert_true (msg_message_set_from (message, "Ann <ann@example.com>", &error));
  g_assert_true (msg_message_set_to (message, "Me <me@example.net>, Bob <bob@example.org>", &error));
  g_assert_true (msg_message_set_cc (message, "carol@example.org, ann@example.com", &error));
  g_assert_true (msg_message_set_bcc (message, "secret@example.org", &error));
  g_assert_true (msg_message_set_subject (message, "Plans", &error));
  g_assert_true (msg_message_set_message_id (message, "<orig@example.com>", &error));
  g_assert_true (msg_message_set_header (message, "References", "<root@example.com>", &error));
  msg_message_set_sent_on (message, date);
  msg_message_set_text_body (message, "Original text.");
  g_assert_nonnull (msg_message_add_attachment_bytes (message, bytes, "plan.pdf", "application/pdf", &error));
  g_assert_no_error (error);
  return message;
}

static void
test_reply (void)
{
  g_autoptr (MsgMessage) original = make_original (NULL);
  g_autoptr (MsgMessage) reply = msg_message_create_reply (original);
  g_autofree char *to = msg_message_get_to (reply);
  g_autofree char *cc = msg_message_get_cc (reply);
  g_autofree char *bcc = msg_message_get_bcc (reply);
  g_autofree char *subject = msg_message_get_subject (reply);
  g_autofree char *in_reply_to = msg_message_get_header (reply, "In-Reply-To");
  g_autofree char *references = msg_message_get_header (reply, "References");
  g_autofree char *body = msg_message_get_text_body (reply);
  g_autofree char *html = msg_message_get_html_body (reply);
  g_autofree char *text = NULL;

  g_assert_cmpstr (to, ==, "Ann <ann@example.com>");
  g_assert_null (cc);
  g_assert_null (bcc);
  g_assert_cmpstr (subject, ==, "RE: Plans");
  g_assert_cmpstr (in_reply_to, ==, "<orig@example.com>");
  g_assert_cmpstr (references, ==, "<root@example.com> <orig@example.com>");
  g_assert_null (msg_message_get_attachments (reply));
  g_assert_null (html);
  g_assert_true (msg_message_get_configuration (reply) == msg_message_get_configuration (original));

  /* CDO's response text. */
  g_assert_nonnull (body);
  g_assert_nonnull (strstr (body, "-----Original Message-----"));
  g_assert_nonnull (strstr (body, "From: Ann <ann@example.com>"));
  g_assert_nonnull (strstr (body, "Sent: "));
  g_assert_nonnull (strstr (body, "To: Me <me@example.net>, Bob <bob@example.org>"));
  g_assert_nonnull (strstr (body, "Cc: carol@example.org, ann@example.com"));
  g_assert_nonnull (strstr (body, "Subject: Plans"));
  g_assert_nonnull (strstr (body, "Original text."));
  g_assert_null (strstr (body, "secret@example.org"));

  text = to_string (reply);
  g_assert_null (strstr (text, "secret@example.org"));

  /* The original is unchanged. */
  {
    GList *attachments = msg_message_get_attachments (original);

    g_assert_cmpuint (g_list_length (attachments), ==, 1);
    g_list_free_full (attachments, g_object_unref);
  }
}

static void
test_reply_rules (void)
{
  g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();
  g_autoptr (GError) error = NULL;

  {
    /* Reply-To wins over From. */
    g_autoptr (MsgMessage) original = make_original (configuration);
    g_autoptr (MsgMessage) reply = NULL;
    g_autofree char *to = NULL;

    g_assert_true (msg_message_set_reply_to (original, "list@example.org", &error));
    reply = msg_message_create_reply (original);
    to = msg_message_get_to (reply);
    g_assert_cmpstr (to, ==, "list@example.org");
  }

  {
    /* Prefixes are not doubled, whatever their case or language. */
    static const char *const subjects[][2] = {
      { "RE: Plans", "RE: Plans" },
      { "re: Plans", "re: Plans" },
      { "Re: Plans", "Re: Plans" },
      { "AW: Pläne", "AW: Pläne" },
      { "Replan", "RE: Replan" },
      { "", "RE:" }, /* the header value loses its trailing space */
    };

    for (guint i = 0; i < G_N_ELEMENTS (subjects); i++)
      {
        g_autoptr (MsgMessage) original = make_original (configuration);
        g_autoptr (MsgMessage) reply = NULL;
        g_autofree char *subject = NULL;

        g_assert_true (msg_message_set_subject (original, subjects[i][0], &error));
        reply = msg_message_create_reply (original);
        subject = msg_message_get_subject (reply);
        g_assert_cmpstr (subject, ==, subjects[i][1]);
      }
  }

  {
    /* Without References, In-Reply-To of the original starts the chain;
     * without a Message-ID there is nothing to refer to. */
    g_autoptr (MsgMessage) original = make_original (configuration);
    g_autoptr (MsgMessage) reply = NULL;
    g_autoptr (MsgMessage) reply2 = NULL;
    g_autofree char *references = NULL;
    g_autofree char *in_reply_to = NULL;

    g_assert_true (msg_message_remove_header (original, "References"));
    g_assert_true (msg_message_set_header (original, "In-Reply-To", "<parent@example.com>", &error));
    reply = msg_message_create_reply (original);
    references = msg_message_get_header (reply, "References");
    g_assert_cmpstr (references, ==, "<parent@example.com> <orig@example.com>");

    g_assert_true (msg_message_set_message_id (original, NULL, &error));
    reply2 = msg_message_create_reply (original);
    in_reply_to = msg_message_get_header (reply2, "In-Reply-To");
    g_assert_null (in_reply_to);
  }

  {
    /* usemessageresponsetext off: no quoted text; sendemailaddress
     * becomes the From of the reply. */
    g_autoptr (MsgMessage) original = NULL;
    g_autoptr (MsgMessage) reply = NULL;
    g_autofree char *body = NULL;
    g_autofree char *from = NULL;

    g_assert_true (msg_configuration_set_field (configuration, "usemessageresponsetext", "false", &error));
    g_assert_true (msg_configuration_set_field (configuration, "sendemailaddress", "me@example.net", &error));
    g_assert_no_error (error);
    original = make_original (configuration);
    reply = msg_message_create_reply (original);
    body = msg_message_get_text_body (reply);
    g_assert_true (body == NULL || strstr (body, "Original Message") == NULL);
    from = msg_message_get_from (reply);
    g_assert_cmpstr (from, ==, "me@example.net");
  }

  {
    /* An HTML original gives an HTML reply quoting it. */
    g_autoptr (MsgMessage) original = make_original (NULL);
    g_autoptr (MsgMessage) reply = NULL;
    g_autofree char *html = NULL;
    g_autofree char *tree = NULL;

    msg_message_set_html_body (original, "<p>Original &lt;HTML&gt;</p>");
    reply = msg_message_create_reply (original);
    html = msg_message_get_html_body (reply);
    g_assert_nonnull (html);
    g_assert_nonnull (strstr (html, "-----Original Message-----"));
    g_assert_nonnull (strstr (html, "<p>Original &lt;HTML&gt;</p>"));
    g_assert_nonnull (strstr (html, "Ann &lt;ann@example.com&gt;"));
    tree = describe_written (reply);
    g_assert_cmpstr (tree, ==, "multipart/alternative(text/plain,text/html)");
  }
}

static void
test_reply_all (void)
{
  g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgMessage) original = NULL;
  g_autoptr (MsgMessage) reply = NULL;
  g_autofree char *to = NULL;
  g_autofree char *cc = NULL;
  g_autofree char *bcc = NULL;
  g_autofree char *subject = NULL;

  g_assert_true (msg_configuration_set_field (configuration, "sendemailaddress", "ME@example.net", &error));
  original = make_original (configuration);
  reply = msg_message_create_reply_all (original);
  to = msg_message_get_to (reply);
  cc = msg_message_get_cc (reply);
  bcc = msg_message_get_bcc (reply);
  subject = msg_message_get_subject (reply);

  /* The sender, then the other recipients; not ourselves, no duplicate
   * (ann is in From and Cc), never the Bcc. */
  g_assert_cmpstr (to, ==, "Ann <ann@example.com>, Bob <bob@example.org>");
  g_assert_cmpstr (cc, ==, "carol@example.org");
  g_assert_null (bcc);
  g_assert_cmpstr (subject, ==, "RE: Plans");
  g_assert_null (msg_message_get_attachments (reply));
}

static void
test_forward (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *path = write_temp_file (dir, "notes.txt", "file content", -1);
  g_autoptr (MsgMessage) original = make_original (NULL);
  g_autoptr (MsgMessage) forward = NULL;
  g_autofree char *to = NULL;
  g_autofree char *cc = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *body = NULL;
  g_autofree char *in_reply_to = NULL;
  GList           *attachments;

  g_assert_nonnull (msg_message_add_attachment (original, path, &error));
  forward = msg_message_create_forward (original);
  to = msg_message_get_to (forward);
  cc = msg_message_get_cc (forward);
  subject = msg_message_get_subject (forward);
  body = msg_message_get_text_body (forward);
  in_reply_to = msg_message_get_header (forward, "In-Reply-To");

  g_assert_null (to);
  g_assert_null (cc);
  g_assert_cmpstr (subject, ==, "FW: Plans");
  g_assert_nonnull (strstr (body, "-----Original Message-----"));
  g_assert_nonnull (strstr (body, "Original text."));
  g_assert_null (in_reply_to);

  /* Every attachment is kept; file attachments still refer to the file. */
  attachments = msg_message_get_attachments (forward);
  g_assert_cmpuint (g_list_length (attachments), ==, 2);
  {
    g_autofree char *name0 = msg_body_part_get_filename (attachments->data);
    g_autofree char *name1 = msg_body_part_get_filename (attachments->next->data);
    g_autofree char *content0 = decoded_string (attachments->data);
    g_autofree char *content1 = NULL;

    g_assert_cmpstr (name0, ==, "plan.pdf");
    g_assert_cmpstr (name1, ==, "notes.txt");
    g_assert_cmpstr (content0, ==, "PDF");
    g_assert_true (g_file_set_contents (path, "changed later", -1, NULL));
    content1 = decoded_string (attachments->next->data);
    g_assert_cmpstr (content1, ==, "changed later");
  }
  g_list_free_full (attachments, g_object_unref);
  {
    g_autofree char *tree = describe_written (forward);
    GList           *kept = msg_message_get_attachments (original);
    /* The type of a .txt file depends on the MIME database available. */
    g_autofree char *type = msg_body_part_get_content_media_type (kept->next->data);
    g_autofree char *expected = g_strdup_printf ("multipart/mixed(text/plain,application/pdf,%s)", type);

    g_assert_cmpstr (tree, ==, expected);
    g_list_free_full (kept, g_object_unref);
  }

  /* Prefixes are not doubled. */
  {
    g_autoptr (MsgMessage) again = msg_message_create_forward (forward);
    g_autofree char *subject2 = msg_message_get_subject (again);

    g_assert_cmpstr (subject2, ==, "FW: Plans");
  }

  /* Forwarding a parsed message keeps its attachments too. */
  {
    g_autoptr (MsgMessage) parsed = parse_string (multipart_message);
    g_autoptr (MsgMessage) parsed_forward = msg_message_create_forward (parsed);
    GList           *got = msg_message_get_attachments (parsed_forward);
    g_autofree char *tree = NULL;

    g_assert_cmpuint (g_list_length (got), ==, 2);
    g_list_free_full (got, g_object_unref);
    tree = describe_written (parsed_forward);
    g_assert_true (g_str_has_prefix (tree, "multipart/mixed("));
  }

  msg_test_remove_tree (dir);
}

/* Injection (research/reliability.md 2.3 and 4.c) */

static const char *const payloads[] = {
  "x\r\nBcc: y@evil.example",
  "x\r\n",
  "x\n",
  "x\r",
  "x\r\n folded",
  "x\nBcc: y@evil.example",
  "x\x0by",
  "x\x0cy",
  "x\x1by",
  "x\x7fy",
  "x\x01y",
};

typedef struct
{
  const char *name; /* the field the error must name */
  gboolean (*set) (MsgMessage *, const char *, GError **);
  const char *valid; /* a valid value the payload is appended to */
} InjectionCase;

static const InjectionCase injection_cases[] = {
  { "From", msg_message_set_from, "a@example.com" },
  { "Sender", msg_message_set_sender, "a@example.com" },
  { "Reply-To", msg_message_set_reply_to, "a@example.com" },
  { "To", msg_message_set_to, "a@example.com" },
  { "Cc", msg_message_set_cc, "a@example.com" },
  { "Bcc", msg_message_set_bcc, "a@example.com" },
  { "Subject", msg_message_set_subject, "Hello" },
  { "Keywords", msg_message_set_keywords, "kw" },
  { "Organization", msg_message_set_organization, "Org" },
  { "Newsgroups", msg_message_set_newsgroups, "comp.test" },
  { "Followup-To", msg_message_set_followup_to, "comp.test" },
  { "Message-ID", msg_message_set_message_id, "id@example.com" },
};

static void
assert_refused (GError     *error,
                const char *field,
                const char *what)
{
  g_assert_nonnull (error);
  if (!g_error_matches (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER) &&
      !g_error_matches (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ADDRESS) &&
      !g_error_matches (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT))
    g_error ("%s: unexpected error %s:%d: %s", what, g_quark_to_string (error->domain), error->code, error->message);
  if (strstr (error->message, field) == NULL)
    g_error ("%s: the error “%s” does not name %s", what, error->message, field);
}

static void
assert_no_injection (MsgMessage *message)
{
  g_autofree char *text = to_string (message);
  g_autofree char *headers = header_block (text);

  /* At most the Bcc a case set on purpose; nothing from the payloads. */
  g_assert_cmpuint (count_lines_starting (headers, "Bcc"), <=, 1);
  g_assert_null (strstr (text, "evil"));
  g_assert_null (strstr (headers, "X-Injected"));
}

static void
test_injection_properties (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (injection_cases); i++)
    for (guint k = 0; k < G_N_ELEMENTS (payloads); k++)
      {
        const InjectionCase *c = &injection_cases[i];
        g_autoptr (MsgMessage) message = make_message ();
        g_autoptr (GError) error = NULL;
        g_autofree char *value = NULL;
        g_autofree char *what = NULL;
        g_autofree char *shown = NULL;

        /* The payload after a valid value and alone, where it can be. */
        value = g_strdup_printf ("%s%s", c->valid, payloads[k] + 1);
        shown = g_strescape (value, NULL);
        what = g_strdup_printf ("%s = \"%s\"", c->name, shown);
        g_assert_false (c->set (message, value, &error));
        assert_refused (error, c->name, what);
        g_clear_error (&error);

        g_assert_true (c->set (message, c->valid, &error));
        g_assert_no_error (error);
        g_assert_false (c->set (message, value, &error));
        assert_refused (error, c->name, what);
        assert_no_injection (message);
      }
}

static void
test_injection_addresses (void)
{
  /* research/reliability.md 4.c C-6 and the GMime raw paths of 2.3. */
  static const char *const bad[] = {
    "a@b.example\r\nBcc: y@evil.example",
    "c@d.example\r\nBcc: y@evil.example",
    "a@b.example>\r\nDATA",
    "<a@b.example> SIZE=1",
    "a@b.example> SIZE=1",
    "\"a\r\nRCPT TO:<x@evil.example>\"@b.example",
    "\"a\\\r\nRCPT TO:<x@evil.example>\"@b.example",
    "Name\r\nBcc: evil2@evil.example <ok@example.com>",
    "\"Name\r\nBcc: evil2@evil.example\" <ok@example.com>",
    "N2 <bad\r\nRCPT TO:<evil3@evil.example>@example.com>",
    "a b@c.example",
    "\"a\\\"b\"@example.com",
    "x@evil.example\x0b",
  };

  for (guint i = 0; i < G_N_ELEMENTS (injection_cases) && i < 6; i++)
    for (guint k = 0; k < G_N_ELEMENTS (bad); k++)
      {
        const InjectionCase *c = &injection_cases[i];
        g_autoptr (MsgMessage) message = make_message ();
        g_autoptr (GError) error = NULL;
        g_autofree char *shown = g_strescape (bad[k], NULL);
        g_autofree char *what = g_strdup_printf ("%s = \"%s\"", c->name, shown);

        g_assert_false (c->set (message, bad[k], &error));
        assert_refused (error, c->name, what);
        g_assert_true (g_error_matches (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ADDRESS));
        assert_no_injection (message);
        {
          g_auto (GStrv) recipients = msg_message_get_envelope_recipients (message, NULL);

          for (guint r = 0; recipients != NULL && recipients[r] != NULL; r++)
            g_assert_null (strstr (recipients[r], "evil"));
        }
      }
}

static void
test_injection_fields (void)
{
  static const char *const bad_names[] = {
    "X-A\r\nBcc",
    "X-A\nBcc",
    "Bad:Name",
    "Bad Name",
    "",
    "X-Caf\xc3\xa9",
    "X-\x7f",
    "X-A\tB",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad_names); i++)
    {
      g_autoptr (MsgMessage) message = make_message ();
      g_autoptr (GError) error = NULL;
      g_autofree char *shown = g_strescape (bad_names[i], NULL);

      g_assert_false (msg_message_set_header (message, bad_names[i], "v", &error));
      g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
      g_assert_nonnull (strstr (error->message, "header name"));
      g_assert_null (msg_message_get_header (message, bad_names[i]));
      assert_no_injection (message);
      g_test_message ("name \"%s\" refused: %s", shown, error->message);
    }

  for (guint k = 0; k < G_N_ELEMENTS (payloads); k++)
    {
      static const char *const names[] = {
        "X-Custom",
        "urn:schemas:mailheader:X-Custom",
        "References",
        "In-Reply-To",
        "Comments",
        "Date",
      };

      for (guint n = 0; n < G_N_ELEMENTS (names); n++)
        {
          g_autoptr (MsgMessage) message = make_message ();
          g_autoptr (GError) error = NULL;
          g_autofree char *value = g_strdup_printf ("<v@example.com>%s", payloads[k] + 1);
          g_autofree char *shown = g_strescape (value, NULL);
          g_autofree char *what = g_strdup_printf ("%s = \"%s\"", names[n], shown);
          const char      *field = g_str_has_prefix (names[n], "urn:") ? "X-Custom" : names[n];

          g_assert_false (msg_message_set_header (message, names[n], value, &error));
          assert_refused (error, field, what);
          assert_no_injection (message);
        }
    }
}

static void
test_injection_attachments (void)
{
  /* C-12, C-13: file names, content types, charsets, content ids. */
  static const char *const bad_names[] = {
    "a\r\nX-Injected: 1.txt",
    "a\nb",
    "a\rb",
    "a\"b.txt",
    "a\x01.txt",
    "",
  };
  g_autoptr (GBytes) bytes = g_bytes_new_static ("x", 1);
  g_autoptr (GError) error = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (bad_names); i++)
    {
      g_autoptr (MsgMessage) message = make_message ();
      g_autofree char *shown = g_strescape (bad_names[i], NULL);

      g_assert_null (msg_message_add_attachment_bytes (message, bytes, bad_names[i], "text/plain", &error));
      assert_refused (error, "file name", shown);
      g_clear_error (&error);
      g_assert_null (msg_message_get_attachments (message));
      assert_no_injection (message);
    }

  {
    g_autoptr (MsgMessage) message = make_message ();

    g_assert_null (msg_message_add_attachment_bytes (message, bytes, "a.txt", "text/plain\r\nX-Injected: 1", &error));
    assert_refused (error, "Content-Type", "content type");
    g_clear_error (&error);
    g_assert_null (msg_message_add_attachment_bytes (message, bytes, "a.txt", "text/plain; charset=\"utf-8\r\nX-Injected: 1\"", &error));
    g_assert_nonnull (error);
    g_clear_error (&error);
    assert_no_injection (message);
  }

  {
    /* Directory components go; the name shown is the last one. */
    static const char *const paths[][2] = {
      { "../../etc/passwd", "passwd" },
      { "C:\\x\\y.exe", "y.exe" },
      { "/abs/olute.txt", "olute.txt" },
    };
    g_autoptr (MsgMessage) message = make_message ();

    for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
      {
        MsgBodyPart     *part = msg_message_add_attachment_bytes (message, bytes, paths[i][0], NULL, &error);
        g_autofree char *name = NULL;

        g_assert_no_error (error);
        name = msg_body_part_get_filename (part);
        g_assert_cmpstr (name, ==, paths[i][1]);
      }
    g_assert_null (msg_message_add_attachment_bytes (message, bytes, "dir/", NULL, &error));
    g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT);
    g_clear_error (&error);
    g_assert_null (msg_message_add_attachment_bytes (message, bytes, "..", NULL, &error));
    g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT);
    g_clear_error (&error);
  }
}

static void
test_injection_written (void)
{
  /* Rule 2 of 2.3: whatever reaches the header block is one header per
   * line: a parsed message with a bad header line is refused as input, and
   * GMime's raw paths (Message-Id, Content-Id, parameters, file names) are
   * closed by the setters. */
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgBodyPart) root = NULL;

  msg_message_set_text_body (message, "x");
  root = msg_message_get_body_part (message);
  g_assert_false (msg_body_part_set_charset (root, "utf-8\r\nX-Charset-Inj: 1", &error));
  assert_refused (error, "charset", "charset");
  g_clear_error (&error);
  g_assert_false (msg_body_part_set_content_id (root, "cid@x\r\nX-Cid-Inj: 1", &error));
  assert_refused (error, "Content-ID", "content id");
  g_clear_error (&error);
  g_assert_false (msg_body_part_set_filename (root, "a\r\nX-Injected: 1.txt", &error));
  assert_refused (error, "file name", "file name");
  g_clear_error (&error);
  g_assert_false (msg_body_part_set_header (root, "X-A\r\nBcc", "v", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
  g_clear_error (&error);
  g_assert_false (msg_body_part_set_header (root, "X-B", "v\r\nBcc: y@evil.example", &error));
  assert_refused (error, "X-B", "part header");
  g_clear_error (&error);
  assert_no_injection (message);
}

static void
test_measure (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  guint64 size = 0;
  guint64 without_bcc = 0;

  g_test_summary ("measure counts exactly the bytes a write gives, per write flags, and honours a cancel.");
  g_assert_true (msg_message_set_bcc (message, "hidden@example.net", &error));
  msg_message_set_text_body (message, "line one\nline two\n.leading dot\n");
  g_assert_true (msg_message_prepare_for_sending (message, &error));
  g_assert_no_error (error);

  bytes = msg_message_to_bytes (message, &error);
  g_assert_no_error (error);
  g_assert_true (msg_message_measure (message, MSG_WRITE_FLAGS_NONE, &size, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (size, ==, g_bytes_get_size (bytes));

  g_assert_true (msg_message_measure (message, MSG_WRITE_FLAGS_OMIT_BCC, &without_bcc, NULL, &error));
  g_assert_cmpuint (without_bcc, ==, size - strlen ("Bcc: hidden@example.net\r\n"));

  g_cancellable_cancel (cancellable);
  g_assert_false (msg_message_measure (message, MSG_WRITE_FLAGS_NONE, &size, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/message/new/defaults", test_new_defaults);
  g_test_add_func ("/message/measure", test_measure);
  g_test_add_func ("/message/new/with-configuration", test_new_with_configuration);
  for (guint i = 0; i < G_N_ELEMENTS (address_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/message/properties/addresses/%s/%u", address_cases[i].property, i);

      g_test_add_data_func (path, &address_cases[i], test_addresses);
    }
  g_test_add_func ("/message/properties/address-rules", test_address_rules);
  for (guint i = 0; i < G_N_ELEMENTS (text_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/message/properties/text/%s", text_cases[i].property);

      g_test_add_data_func (path, &text_cases[i], test_text_headers);
    }
  g_test_add_func ("/message/properties/long-headers", test_long_headers);
  g_test_add_func ("/message/properties/newsgroups", test_newsgroups);
  g_test_add_func ("/message/properties/sent-on", test_sent_on);
  g_test_add_func ("/message/properties/message-id", test_message_id);
  g_test_add_func ("/message/properties/mdn-requested", test_mdn);
  g_test_add_func ("/message/properties/dsn-options", test_dsn_options);
  g_test_add_func ("/message/properties/dsn-options/subprocess", test_dsn_options_subprocess);
  g_test_add_func ("/message/properties/gobject", test_gobject_properties);
  g_test_add_func ("/message/properties/gobject-invalid", test_gobject_invalid);
  g_test_add_func ("/message/properties/gobject-invalid/subprocess", test_gobject_invalid_subprocess);
  g_test_add_func ("/message/fields", test_fields);
  g_test_add_func ("/message/mime/text-only", test_mime_text_only);
  g_test_add_func ("/message/mime/html", test_mime_html);
  g_test_add_func ("/message/mime/html-text-set", test_mime_html_text_set);
  g_test_add_func ("/message/mime/html-only", test_mime_html_only);
  g_test_add_func ("/message/mime/related", test_mime_related);
  g_test_add_func ("/message/mime/attachments", test_mime_attachments);
  g_test_add_func ("/message/mime/attachment-types", test_mime_attachment_guess);
  g_test_add_func ("/message/mime/uuencode", test_mime_uuencode);
  g_test_add_func ("/message/encoding/bodies", test_encoding_bodies);
  g_test_add_func ("/message/encoding/line-ends", test_encoding_line_ends);
  g_test_add_func ("/message/generated-headers", test_generated_headers);
  g_test_add_func ("/message/bcc", test_bcc);
  g_test_add_func ("/message/envelope", test_envelope);
  g_test_add_func ("/message/attachment/read-at-write", test_attachment_read_at_write);
  g_test_add_func ("/message/attachment/bad-files", test_attachment_bad_files);
  g_test_add_func ("/message/attachment/large", test_attachment_large);
  g_test_add_func ("/message/attachment/interrupted", test_attachment_interrupted);
  g_test_add_func ("/message/parse/simple", test_parse_simple);
  g_test_add_func ("/message/parse/multipart", test_parse_multipart);
  g_test_add_func ("/message/parse/modify", test_parse_then_modify);
  g_test_add_func ("/message/parse/sources", test_parse_sources);
  g_test_add_func ("/message/parse/errors", test_parse_errors);
  g_test_add_func ("/message/parse/encoded-crlf", test_parse_encoded_crlf);
  g_test_add_func ("/message/parse/unwritable", test_parse_unwritable);
  g_test_add_func ("/message/parse/odd-addresses", test_parse_odd_addresses);
  g_test_add_func ("/message/save-to-file", test_save_to_file);
  g_test_add_func ("/message/reply/basic", test_reply);
  g_test_add_func ("/message/reply/rules", test_reply_rules);
  g_test_add_func ("/message/reply/all", test_reply_all);
  g_test_add_func ("/message/forward", test_forward);
  g_test_add_func ("/message/injection/properties", test_injection_properties);
  g_test_add_func ("/message/injection/addresses", test_injection_addresses);
  g_test_add_func ("/message/injection/fields", test_injection_fields);
  g_test_add_func ("/message/injection/attachments", test_injection_attachments);
  g_test_add_func ("/message/injection/body-part", test_injection_written);

  return g_test_run ();
}
