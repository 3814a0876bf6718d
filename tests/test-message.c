/* test-message.c: MsgMessage, CDO's Message object: construction,
 * properties, fields and header checks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-message-utils.h"
#include "test-utils.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Construction and properties */

static void
test_new_defaults (void)
{
  g_autoptr (MsgMessage) message = msg_message_new ();
  g_autoptr (GDateTime) sent_on = NULL;
  g_autofree char *text = NULL;

  g_test_summary ("A new message: the CDO defaults, and an empty message still writes (headers "
                  "and an empty text part, no Date or Message-ID before sending).");

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

  g_test_summary ("A message keeps the configuration it is made with or given; NULL gives a "
                  "fresh one of defaults, never none.");

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

  g_test_summary ("Each address property: set, read back, notified once per change, written and "
                  "parsed back the same; NULL and the empty string remove the header.");

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

  g_test_summary ("Address rules: Sender is one mailbox, groups only where RFC 5322 puts "
                  "recipients, unparsable lists and overlong addresses refused with the value "
                  "kept.");

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

  g_test_summary ("Each text property is written and read back; non-ASCII text is RFC 2047 "
                  "encoded, so the header block stays ASCII.");

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

  g_test_summary ("A long subject of short words is folded within 998 octets; a word that no "
                  "folding can fit is refused, naming the field.");

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

  g_test_summary ("Newsgroups and Followup-To are normalised to a comma list; bad group names are"
                  " refused with the value kept.");

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

  g_test_summary ("sent-on is written as the Date header with its UTC offset and parsed back; the"
                  " Date field sets it; NULL removes it.");

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

  /* Set over a Date there is, and over two in a parsed message: one
   * Date, the new one, read back as it is written. */
  msg_message_set_sent_on (message, date);
  g_clear_pointer (&got, g_date_time_unref);
  got = msg_message_get_sent_on (message);
  g_assert_cmpint (g_date_time_to_unix (got), ==, g_date_time_to_unix (date));
  {
    g_autofree char *again = to_string (message);
    g_autoptr (MsgMessage) twice = parse_string ("Date: Mon, 1 Jan 2001 00:00:00 +0000\r\n"
                                                 "From: a@example.test\r\n"
                                                 "Date: Tue, 2 Jan 2001 00:00:00 +0000\r\n"
                                                 "\r\nbody\r\n");
    g_autofree char *written = NULL;
    g_autoptr (GDateTime) read_back = NULL;

    g_assert_nonnull (strstr (again, "Date: Thu, 29 Feb 2024 13:14:15 +0200\r\n"));
    g_assert_null (strstr (strstr (again, "Date:") + 1, "Date:"));
    msg_message_set_sent_on (twice, date);
    written = to_string (twice);
    g_assert_true (g_str_has_prefix (written, "Date: Thu, 29 Feb 2024 13:14:15 +0200\r\nFrom: a@example.test\r\n"));
    g_assert_null (strstr (written + 1, "Date:"));
    read_back = msg_message_get_sent_on (twice);
    g_assert_cmpint (g_date_time_to_unix (read_back), ==, g_date_time_to_unix (date));
  }

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

  g_test_summary ("Message-ID gets its angle brackets; ids without one @, with spaces or too long"
                  " are refused.");

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

  g_test_summary ("mdn-requested adds Disposition-Notification-To following From, not on news "
                  "articles; a parsed header or the field turns it on.");

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

  g_test_summary ("DSN options are flags read back and notified; NEVER combined with another "
                  "notification is refused with a warning.");

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

  g_test_summary ("Every property is set and read back through g_object_set() and g_object_get(),"
                  " as bindings do.");

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
  g_test_summary ("A bad value set through g_object_set() is a warning and changes nothing.");

  g_test_trap_subprocess ("/message/properties/gobject-invalid/subprocess", 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*Subject*carriage return*");
  /* It names the header, not the property's lower-case name, and the
   * call that returns the error. */
  g_test_trap_assert_stderr ("*Cannot set the To header of a message*msg_message_set_to() returns the error*");
  g_test_trap_assert_stderr_unmatched ("*Cannot set the to of a message*");
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

  g_test_summary ("CDO's Fields: headers by plain or urn: name; the ones a property owns go "
                  "through it; MIME structure headers are not fields; removal clears the owning "
                  "property.");

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
  g_clear_pointer (&text, g_free);
  /* A header of CDO's mailheader namespace, named there in lower case, is
   * written with its usual capitalisation; another keeps its spelling. */
  g_assert_true (msg_message_set_header (message, "urn:schemas:mailheader:comments", "hello", &error));
  g_assert_true (msg_message_set_header (message, "URN:Schemas:MailHeader:x-mailer", "test", &error));
  g_assert_true (msg_message_set_header (message, "urn:schemas:mailheader:x-unlisted", "as is", &error));
  g_assert_no_error (error);
  value = msg_message_get_header (message, "Comments");
  g_assert_cmpstr (value, ==, "hello");
  g_clear_pointer (&value, g_free);
  text = to_string (message);
  g_assert_cmpuint (count_lines_starting (text, "Comments: hello\r\n"), ==, 1);
  g_assert_cmpuint (count_lines_starting (text, "X-Mailer: test\r\n"), ==, 1);
  g_assert_cmpuint (count_lines_starting (text, "x-unlisted: as is\r\n"), ==, 1);

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
  g_test_summary ("Every header property refuses CR, LF and other control characters "
                  "(research/reliability.md 2.3), after a valid value and alone, and keeps "
                  "its value.");

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

  g_test_summary ("Header injection through address properties is refused, including GMime's raw "
                  "paths (research/reliability.md 4.c C-6).");

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

  g_test_summary ("Bad header names are refused, and injection payloads in the values of custom "
                  "and structured fields.");

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
  g_test_summary ("Attachment file names, content types, charsets and content ids refuse "
                  "injection (C-12, C-13); directory components are removed.");

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

  g_test_summary ("The body part setters refuse CR and LF in charsets, Content-IDs, file names "
                  "and part headers, so nothing written breaks a header line.");

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

/* TextBodyPart, HTMLBodyPart, Attachments */

static char *
media_type_of (MsgBodyPart *part)
{
  return part != NULL ? msg_body_part_get_content_media_type (part) : NULL;
}

static void
test_body_part_accessors (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *image = write_temp_file (dir, "logo.png", "\x89PNG", 4);

  g_test_summary ("get_text_body_part and get_html_body_part return the part holding each body"
                  " wherever it sits (root, alternative, related, mixed; parsed or built), or NULL"
                  " when there is no such body.");

  {
    g_autoptr (MsgMessage) message = make_message ();
    g_autoptr (MsgBodyPart) root = NULL;
    g_autoptr (MsgBodyPart) text = NULL;
    g_autoptr (MsgBodyPart) html = NULL;
    g_autofree char *content = NULL;

    msg_message_set_text_body (message, "only text");
    root = msg_message_get_body_part (message);
    text = msg_message_get_text_body_part (message);
    html = msg_message_get_html_body_part (message);
    g_assert_true (text == root);
    g_assert_null (html);
    content = decoded_string (text);
    g_assert_cmpstr (content, ==, "only text");
  }

  {
    g_autoptr (MsgMessage) message = make_message ();
    g_autoptr (MsgBodyPart) text = NULL;
    g_autoptr (MsgBodyPart) html = NULL;
    g_autoptr (GBytes) bytes = g_bytes_new_static ("a,b\n", 4);
    g_autofree char *text_type = NULL;
    g_autofree char *html_type = NULL;
    g_autofree char *text_content = NULL;
    g_autofree char *html_content = NULL;
    g_autofree char *tree = NULL;

    msg_message_set_html_body (message, "<p>Hi <img src=\"cid:logo\"></p>");
    g_assert_nonnull (msg_message_add_related_body_part (message, image, "cid:logo", &error));
    g_assert_nonnull (msg_message_add_attachment_bytes (message, bytes, "t.csv", "text/csv", &error));
    g_assert_no_error (error);
    tree = describe_tree (message);
    g_assert_cmpstr (tree, ==, "multipart/mixed(multipart/alternative(text/plain,multipart/related(text/html,"
                               "application/octet-stream)),text/csv)");
    text = msg_message_get_text_body_part (message);
    html = msg_message_get_html_body_part (message);
    text_type = media_type_of (text);
    html_type = media_type_of (html);
    g_assert_cmpstr (text_type, ==, "text/plain");
    g_assert_cmpstr (html_type, ==, "text/html");
    text_content = decoded_string (text);
    html_content = decoded_string (html);
    g_assert_cmpstr (text_content, ==, "Hi");
    g_assert_cmpstr (html_content, ==, "<p>Hi <img src=\"cid:logo\"></p>");
  }

  {
    g_autoptr (MsgMessage) message = make_message ();
    g_autoptr (MsgBodyPart) text = NULL;

    msg_message_set_auto_generate_text_body (message, FALSE);
    msg_message_set_html_body (message, "<p>html only</p>");
    text = msg_message_get_text_body_part (message);
    g_assert_null (text);
  }

  {
    g_autoptr (MsgMessage) parsed = parse_string (multipart_message);
    g_autoptr (MsgBodyPart) text = msg_message_get_text_body_part (parsed);
    g_autoptr (MsgBodyPart) html = msg_message_get_html_body_part (parsed);
    g_autofree char *text_content = decoded_string (text);
    g_autofree char *html_content = decoded_string (html);

    g_assert_cmpstr (text_content, ==, "Plain text");
    g_assert_cmpstr (html_content, ==, "<p>HTML text</p>");
  }

  msg_test_remove_tree (dir);
}

static void
items_changed_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  gpointer    user_data)
{
  guint *count = user_data;

  (*count)++;
}

static void
assert_model_matches (MsgMessage *message,
                      GListModel *model)
{
  guint n = msg_message_get_attachment_count (message);

  g_assert_cmpuint (g_list_model_get_n_items (model), ==, n);
  g_assert_true (g_list_model_get_item_type (model) == MSG_TYPE_BODY_PART);
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (MsgBodyPart) item = g_list_model_get_item (model, i);
      g_autoptr (MsgBodyPart) direct = msg_message_get_attachment (message, i);

      g_assert_true (item == direct);
    }
}

static void
test_attachments_collection (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = g_bytes_new_static ("x", 1);

  g_test_summary ("Attachments as CDO's collection: count, item by index, remove one (the rest move"
                  " down), remove all, out-of-range errors; the GListModel follows every change with"
                  " items-changed; parsed messages and forwards too.");

  {
    g_autoptr (MsgMessage) message = make_message ();
    g_autoptr (GListModel) model = msg_message_get_attachments_model (message);
    g_autoptr (GListModel) again = msg_message_get_attachments_model (message);
    g_autoptr (MsgBodyPart) item = NULL;
    g_autofree char *name = NULL;
    g_autofree char *tree = NULL;
    guint            changes = 0;

    g_assert_true (model == again);
    g_signal_connect (model, "items-changed", G_CALLBACK (items_changed_cb), &changes);
    msg_message_set_text_body (message, "body");
    g_assert_cmpuint (msg_message_get_attachment_count (message), ==, 0);
    g_assert_null (msg_message_get_attachment (message, 0));
    g_assert_nonnull (msg_message_add_attachment_bytes (message, bytes, "a.txt", "text/plain", &error));
    g_assert_nonnull (msg_message_add_attachment_bytes (message, bytes, "b.bin", NULL, &error));
    g_assert_nonnull (msg_message_add_attachment_bytes (message, bytes, "c.txt", "text/plain", &error));
    g_assert_no_error (error);
    g_assert_cmpuint (changes, ==, 3);
    g_assert_cmpuint (msg_message_get_attachment_count (message), ==, 3);
    assert_model_matches (message, model);

    g_assert_true (msg_message_remove_attachment (message, 1, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (changes, ==, 4);
    g_assert_cmpuint (msg_message_get_attachment_count (message), ==, 2);
    item = msg_message_get_attachment (message, 1);
    name = msg_body_part_get_filename (item);
    g_assert_cmpstr (name, ==, "c.txt");
    assert_model_matches (message, model);
    tree = describe_written (message);
    g_assert_cmpstr (tree, ==, "multipart/mixed(text/plain,text/plain,text/plain)");

    g_assert_false (msg_message_remove_attachment (message, 2, &error));
    g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED);
    g_assert_nonnull (strstr (error->message, "2"));
    g_clear_error (&error);
    g_assert_cmpuint (changes, ==, 4);

    msg_message_remove_all_attachments (message);
    g_assert_cmpuint (changes, ==, 5);
    g_assert_cmpuint (msg_message_get_attachment_count (message), ==, 0);
    g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);
    msg_message_remove_all_attachments (message);
    g_assert_cmpuint (changes, ==, 5);
    g_clear_pointer (&tree, g_free);
    tree = describe_written (message);
    g_assert_cmpstr (tree, ==, "text/plain");
  }

  {
    /* A forward: then remove the attachments it carried. */
    g_autoptr (MsgMessage) parsed = parse_string (multipart_message);
    g_autoptr (GListModel) model = msg_message_get_attachments_model (parsed);
    g_autoptr (MsgMessage) forward = NULL;
    g_autofree char *tree = NULL;
    g_autofree char *text = NULL;

    g_assert_cmpuint (msg_message_get_attachment_count (parsed), ==, 2);
    assert_model_matches (parsed, model);
    forward = msg_message_create_forward (parsed);
    g_assert_no_error (error);
    g_assert_cmpuint (msg_message_get_attachment_count (forward), ==, 2);
    msg_message_remove_all_attachments (forward);
    g_assert_cmpuint (msg_message_get_attachment_count (forward), ==, 0);
    g_assert_cmpuint (msg_message_get_attachment_count (parsed), ==, 2);

    g_assert_true (msg_message_remove_attachment (parsed, 0, &error));
    g_assert_no_error (error);
    assert_model_matches (parsed, model);
    tree = describe_written (parsed);
    g_assert_cmpstr (tree, ==, "multipart/mixed(multipart/alternative(text/plain,text/html),message/rfc822)");
    text = msg_message_get_text_body (parsed);
    g_assert_cmpstr (text, ==, "Plain text");
  }
}

static void
test_body_parts_model (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = g_bytes_new_static ("x", 1);
  g_autoptr (MsgBodyPart) root = NULL;
  g_autoptr (GListModel) children = NULL;
  g_autoptr (GListModel) leaf_children = NULL;
  g_autoptr (MsgBodyPart) added = NULL;
  g_autoptr (MsgBodyPart) last = NULL;
  guint changes = 0;

  g_test_summary ("A part's children as a GListModel: the same items as get_body_parts, empty for a"
                  " leaf, and items-changed when add_body_part adds one.");

  msg_message_set_text_body (message, "body");
  g_assert_nonnull (msg_message_add_attachment_bytes (message, bytes, "a.bin", NULL, &error));
  root = msg_message_get_body_part (message);
  children = msg_body_part_get_body_parts_model (root);
  g_assert_cmpuint (g_list_model_get_n_items (children), ==, 2);
  g_signal_connect (children, "items-changed", G_CALLBACK (items_changed_cb), &changes);

  added = msg_body_part_add_body_part (root, "text/calendar", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (changes, ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (children), ==, 3);
  last = g_list_model_get_item (children, 2);
  g_assert_true (last == added);

  {
    g_autoptr (GListModel) again = msg_body_part_get_body_parts_model (root);

    g_assert_true (again == children);
  }

  leaf_children = msg_body_part_get_body_parts_model (added);
  g_assert_cmpuint (g_list_model_get_n_items (leaf_children), ==, 0);
}

/* Fields by URN, enumeration, Importance/Priority/Sensitivity */

static void
assert_field (MsgMessage *message,
              const char *name,
              const char *expected)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *value = msg_message_get_field (message, name, &error);
  g_autofree char *header = msg_message_get_header (message, name);

  g_assert_no_error (error);
  g_assert_cmpstr (value, ==, expected);
  g_assert_cmpstr (header, ==, expected);
}

static void
test_fields_httpmail (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = g_bytes_new_static ("x", 1);
  g_autofree char *text = NULL;
  g_autofree char *value = NULL;

  g_test_summary ("urn:schemas:httpmail: fields map to what CDO documents (addresses, subject, date,"
                  " bodies, importance, priority, sensitivity, normalizedsubject, hasattachment,"
                  " datereceived, root part properties); read-only ones and unknown ones are"
                  " NOT_SUPPORTED naming the field.");

  g_assert_true (msg_message_set_header (message, "urn:schemas:httpmail:subject", "RE: Fwd: caf\xc3\xa9", &error));
  g_assert_true (msg_message_set_header (message, "urn:schemas:httpmail:from", "Ann <ann@example.com>", &error));
  g_assert_true (msg_message_set_header (message, "urn:schemas:httpmail:to", "x@example.org, y@example.org", &error));
  g_assert_true (msg_message_set_header (message, "urn:schemas:httpmail:cc", "c@example.org", &error));
  g_assert_true (msg_message_set_header (message, "urn:schemas:httpmail:bcc", "d@example.org", &error));
  g_assert_true (msg_message_set_header (message, "urn:schemas:httpmail:reply-to", "r@example.org", &error));
  g_assert_true (msg_message_set_header (message, "urn:schemas:httpmail:sender", "s@example.org", &error));
  g_assert_true (msg_message_set_header (message, "urn:schemas:httpmail:date", "Mon, 23 Jun 2008 01:49:17 +0900", &error));
  g_assert_true (msg_message_set_header (message, "urn:schemas:httpmail:textdescription", "plain", &error));
  g_assert_true (msg_message_set_header (message, "urn:schemas:httpmail:htmldescription", "<p>html</p>", &error));
  g_assert_true (msg_message_set_header (message, "urn:schemas:httpmail:importance", "2", &error));
  g_assert_true (msg_message_set_header (message, "urn:schemas:httpmail:priority", "-1", &error));
  g_assert_true (msg_message_set_header (message, "http://schemas.microsoft.com/exchange/sensitivity", "3", &error));
  g_assert_true (msg_message_set_header (message, "urn:schemas:httpmail:thread-topic", "topic", &error));
  g_assert_true (msg_message_set_header (message, "urn:schemas-microsoft-com:office:office#Keywords", "k1, k2", &error));
  g_assert_no_error (error);

  assert_field (message, "urn:schemas:httpmail:subject", "RE: Fwd: caf\xc3\xa9");
  assert_field (message, "urn:schemas:httpmail:normalizedsubject", "caf\xc3\xa9");
  assert_field (message, "urn:schemas:httpmail:from", "Ann <ann@example.com>");
  assert_field (message, "urn:schemas:httpmail:to", "x@example.org, y@example.org");
  assert_field (message, "urn:schemas:httpmail:cc", "c@example.org");
  assert_field (message, "urn:schemas:httpmail:bcc", "d@example.org");
  assert_field (message, "urn:schemas:httpmail:reply-to", "r@example.org");
  assert_field (message, "urn:schemas:httpmail:sender", "s@example.org");
  assert_field (message, "urn:schemas:httpmail:date", "Mon, 23 Jun 2008 01:49:17 +0900");
  assert_field (message, "urn:schemas:httpmail:textdescription", "plain");
  assert_field (message, "urn:schemas:httpmail:htmldescription", "<p>html</p>");
  assert_field (message, "urn:schemas:httpmail:importance", "2");
  assert_field (message, "urn:schemas:httpmail:priority", "-1");
  assert_field (message, "urn:schemas:httpmail:sensitivity", "3");
  assert_field (message, "urn:schemas:httpmail:thread-topic", "topic");
  assert_field (message, "urn:schemas-microsoft-com:office:office#Keywords", "k1, k2");
  assert_field (message, "urn:schemas:httpmail:hasattachment", "false");
  assert_field (message, "urn:schemas:httpmail:content-media-type", "multipart/alternative");
  assert_field (message, "urn:schemas:httpmail:datereceived", NULL);
  g_assert_nonnull (msg_message_add_attachment_bytes (message, bytes, "a.bin", NULL, &error));
  assert_field (message, "urn:schemas:httpmail:hasattachment", "true");
  assert_field (message, "urn:schemas:httpmail:content-media-type", "multipart/mixed");

  g_assert_cmpint (msg_message_get_importance (message), ==, MSG_IMPORTANCE_HIGH);
  g_assert_cmpint (msg_message_get_priority (message), ==, MSG_PRIORITY_NON_URGENT);
  g_assert_cmpint (msg_message_get_sensitivity (message), ==, MSG_SENSITIVITY_COMPANY_CONFIDENTIAL);

  text = to_string (message);
  value = find_header (text, "Importance");
  g_assert_cmpstr (value, ==, "high");
  g_clear_pointer (&value, g_free);
  value = find_header (text, "Priority");
  g_assert_cmpstr (value, ==, "non-urgent");
  g_clear_pointer (&value, g_free);
  value = find_header (text, "X-Priority");
  g_assert_cmpstr (value, ==, "5 (Lowest)");
  g_clear_pointer (&value, g_free);
  value = find_header (text, "Sensitivity");
  g_assert_cmpstr (value, ==, "Company-Confidential");
  g_clear_pointer (&value, g_free);
  value = find_header (text, "Subject");
  g_assert_cmpstr (value, ==, "RE: Fwd: =?UTF-8?B?Y2Fmw6k=?=");
  g_clear_pointer (&value, g_free);

  /* Names as well as CDO's numbers; a bad value names the field. */
  g_assert_true (msg_message_set_header (message, "urn:schemas:httpmail:importance", "low", &error));
  g_assert_cmpint (msg_message_get_importance (message), ==, MSG_IMPORTANCE_LOW);
  g_assert_false (msg_message_set_header (message, "urn:schemas:httpmail:importance", "7", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
  g_assert_nonnull (strstr (error->message, "importance"));
  g_clear_error (&error);

  /* Removing through the URN. */
  g_assert_true (msg_message_remove_header (message, "urn:schemas:httpmail:priority"));
  g_assert_cmpint (msg_message_get_priority (message), ==, MSG_PRIORITY_NORMAL);
  g_assert_true (msg_message_set_header (message, "urn:schemas:httpmail:cc", NULL, &error));
  assert_field (message, "urn:schemas:httpmail:cc", NULL);

  /* Read-only and meaningless fields. */
  static const char *const refused[] = {
    "urn:schemas:httpmail:normalizedsubject",
    "urn:schemas:httpmail:hasattachment",
    "urn:schemas:httpmail:datereceived",
    "urn:schemas:httpmail:content-media-type",
    "urn:schemas:httpmail:read",
    "urn:schemas:httpmail:messageflag",
    "http://schemas.microsoft.com/exchange/nosuch",
    "urn:schemas:calendar:dtstart",
  };
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      const char *short_name = strrchr (refused[i], ':') + 1;

      g_assert_false (msg_message_set_header (message, refused[i], "1", &error));
      g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_NOT_SUPPORTED);
      g_assert_nonnull (strstr (error->message, strchr (short_name, '/') != NULL ? "nosuch" : short_name));
      g_clear_error (&error);
    }
  value = msg_message_get_field (message, "urn:schemas:httpmail:read", &error);
  g_assert_null (value);
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, "urn:schemas:httpmail:read"));
  g_clear_error (&error);
  value = msg_message_get_header (message, "urn:schemas:httpmail:read");
  g_assert_null (value);
}

static void
test_fields_received (void)
{
  g_autoptr (MsgMessage) message = parse_string ("Received: from b by c; Tue, 24 Jun 2008 10:00:00 +0000\r\n"
                                                 "Received: from a by b; Tue, 24 Jun 2008 09:59:00 +0000\r\n"
                                                 "From: a@example.com\r\n"
                                                 "Subject: Re: hello\r\n"
                                                 "X-Priority: 1\r\n"
                                                 "\r\n"
                                                 "body\r\n");
  g_autofree char *name = NULL;
  g_autofree char *value = NULL;
  g_auto (GStrv) names = NULL;

  g_test_summary ("datereceived is the date of the newest Received header; X-Priority alone gives the"
                  " priority; a message's fields enumerate in written order with a count.");

  assert_field (message, "urn:schemas:httpmail:datereceived", "Tue, 24 Jun 2008 10:00:00 +0000");
  assert_field (message, "urn:schemas:httpmail:normalizedsubject", "hello");
  g_assert_cmpint (msg_message_get_priority (message), ==, MSG_PRIORITY_URGENT);
  g_assert_cmpint (msg_message_get_importance (message), ==, MSG_IMPORTANCE_NORMAL);
  g_assert_cmpint (msg_message_get_sensitivity (message), ==, MSG_SENSITIVITY_NONE);

  names = msg_message_list_field_names (message);
  g_assert_cmpuint (g_strv_length (names), ==, msg_message_get_field_count (message));
  g_assert_cmpstr (names[0], ==, "Received");
  g_assert_cmpstr (names[1], ==, "Received");
  g_assert_cmpstr (names[2], ==, "From");
  g_assert_cmpstr (names[3], ==, "Subject");
  g_assert_cmpstr (names[4], ==, "X-Priority");
  g_assert_true (msg_message_get_field_at (message, 1, &name, &value));
  g_assert_cmpstr (name, ==, "Received");
  g_assert_cmpstr (value, ==, "from a by b; Tue, 24 Jun 2008 09:59:00 +0000");
  g_assert_false (msg_message_get_field_at (message, msg_message_get_field_count (message), NULL, NULL));
}

static void
test_fields_enumerate (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) written = g_string_new (NULL);
  g_autoptr (GString) enumerated = g_string_new (NULL);
  g_autofree char *text = NULL;
  g_autofree char *headers = NULL;
  guint            n;

  g_test_summary ("Enumerating a built message's fields gives every header as written, in order,"
                  " Content-Type and MIME-Version included.");

  msg_message_set_text_body (message, "x");
  g_assert_true (msg_message_set_header (message, "X-Custom", "1", &error));
  msg_message_set_importance (message, MSG_IMPORTANCE_HIGH);
  text = to_string (message);
  headers = header_block (text);
  for (const char *line = headers; *line != '\0';)
    {
      const char *colon = strchr (line, ':');

      if (*line != ' ' && *line != '\t')
        g_string_append_printf (written, "%.*s,", (int) (colon - line), line);
      line = strstr (line, "\r\n") + 2;
    }

  n = msg_message_get_field_count (message);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *name = NULL;

      g_assert_true (msg_message_get_field_at (message, i, &name, NULL));
      g_string_append_printf (enumerated, "%s,", name);
    }
  g_assert_cmpstr (enumerated->str, ==, written->str);
  g_assert_nonnull (strstr (enumerated->str, "Importance,"));
  g_assert_nonnull (strstr (enumerated->str, "Content-Type,"));
}

static void
test_received_time (void)
{
  g_autoptr (MsgMessage) message = parse_string ("Received: from b by c; Tue, 24 Jun 2008 10:00:00 +0000\r\n"
                                                 "Received: from a by b; Tue, 24 Jun 2008 09:59:00 +0000\r\n"
                                                 "From: a@example.com\r\n"
                                                 "\r\n"
                                                 "body\r\n");
  g_autoptr (MsgMessage) none = parse_string ("From: a@example.com\r\n\r\nbody\r\n");
  g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();
  g_autoptr (GDateTime) date = NULL;
  g_autoptr (GError) error = NULL;

  g_test_summary ("ReceivedTime is the date of the newest Received header, in timezoneid when set;"
                  " NULL without one.");

  date = msg_message_get_received_time (message);
  g_assert_nonnull (date);
  g_assert_cmpint (g_date_time_get_hour (date), ==, 10);
  g_assert_cmpint (g_date_time_get_minute (date), ==, 0);
  g_assert_cmpint (g_date_time_get_utc_offset (date), ==, 0);
  g_clear_pointer (&date, g_date_time_unref);

  g_assert_true (msg_configuration_set_field (configuration, "timezoneid", "Asia/Tokyo", &error));
  msg_message_set_configuration (message, configuration);
  date = msg_message_get_received_time (message);
  g_assert_cmpint (g_date_time_get_hour (date), ==, 19);
  g_assert_cmpint (g_date_time_get_utc_offset (date), ==, 9 * G_TIME_SPAN_HOUR);

  g_assert_null (msg_message_get_received_time (none));
}

static void
test_embedded_message (void)
{
  g_autoptr (MsgMessage) parsed = parse_string (multipart_message);
  g_autoptr (MsgBodyPart) embedded = msg_message_get_attachment (parsed, 1);
  g_autoptr (MsgBodyPart) binary = msg_message_get_attachment (parsed, 0);
  g_autoptr (MsgMessage) inner = NULL;
  g_autoptr (MsgMessage) none = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *from = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *body = NULL;
  g_autofree char *text = NULL;

  g_test_summary ("A message/rfc822 part opens as a message of its own (CDO's OpenObject on the"
                  " part), written with CRLF; another part is a clear error.");

  inner = msg_message_new_from_body_part (embedded, &error);
  g_assert_no_error (error);
  from = msg_message_get_from (inner);
  subject = msg_message_get_subject (inner);
  body = msg_message_get_text_body (inner);
  g_assert_cmpstr (from, ==, "inner@example.com");
  g_assert_cmpstr (subject, ==, "Inner");
  g_assert_cmpstr (body, ==, "Inner body");
  text = to_string (inner); /* checks CRLF line ends */

  none = msg_message_new_from_body_part (binary, &error);
  g_assert_null (none);
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "application/octet-stream"));
}

static void
test_datasource (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *path = write_temp_file (dir, "in.eml",
                                           "From: a@example.com\r\nTo: b@example.com\r\nSubject: s\r\n\r\nbody\r\n", -1);
  g_autofree char *copy = g_build_filename (dir, "copy.eml", NULL);
  g_autoptr (MsgMessage) message = NULL;
  g_autoptr (MsgMessage) fresh = make_message ();
  g_autoptr (MsgMessage) reread = NULL;
  g_autoptr (MsgBodyPart) text = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *source = NULL;
  g_autofree char *subject = NULL;

  g_test_summary ("A message opened from a file is bound to it: clean until changed (through a"
                  " property, a field or a body part), Save writes it back and makes it clean;"
                  " save_to_file binds to the new file; an unbound message is dirty and Save"
                  " refuses it.");

  message = msg_message_new_from_file (path, &error);
  g_assert_no_error (error);
  source = msg_message_get_source_file (message);
  g_assert_cmpstr (source, ==, path);
  g_assert_false (msg_message_get_is_dirty (message));

  g_assert_true (msg_message_set_subject (message, "changed", &error));
  g_assert_true (msg_message_get_is_dirty (message));
  g_assert_true (msg_message_save (message, &error));
  g_assert_no_error (error);
  g_assert_false (msg_message_get_is_dirty (message));
  reread = msg_message_new_from_file (path, &error);
  subject = msg_message_get_subject (reread);
  g_assert_cmpstr (subject, ==, "changed");

  g_assert_true (msg_message_set_header (message, "X-Note", "1", &error));
  g_assert_true (msg_message_get_is_dirty (message));
  g_assert_true (msg_message_remove_header (message, "X-Note"));
  g_assert_false (msg_message_get_is_dirty (message));

  text = msg_message_get_text_body_part (message);
  g_assert_true (msg_body_part_set_charset (text, "iso-8859-1", &error));
  g_assert_true (msg_message_get_is_dirty (message));
  g_assert_true (msg_message_save_to_file (message, copy, &error));
  g_clear_pointer (&source, g_free);
  source = msg_message_get_source_file (message);
  g_assert_cmpstr (source, ==, copy);
  g_assert_false (msg_message_get_is_dirty (message));

  g_assert_true (msg_message_get_is_dirty (fresh));
  g_assert_null (msg_message_get_source_file (fresh));
  g_assert_false (msg_message_save (fresh, &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "save_to_file"));

  msg_test_remove_tree (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/message/new/defaults", test_new_defaults);
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
  g_test_add_func ("/message/fields/httpmail", test_fields_httpmail);
  g_test_add_func ("/message/fields/received", test_fields_received);
  g_test_add_func ("/message/fields/enumerate", test_fields_enumerate);
  g_test_add_func ("/message/received-time", test_received_time);
  g_test_add_func ("/message/embedded-message", test_embedded_message);
  g_test_add_func ("/message/datasource", test_datasource);
  g_test_add_func ("/message/body-part-accessors", test_body_part_accessors);
  g_test_add_func ("/message/attachments-collection", test_attachments_collection);
  g_test_add_func ("/message/body-parts-model", test_body_parts_model);
  g_test_add_func ("/message/injection/properties", test_injection_properties);
  g_test_add_func ("/message/injection/addresses", test_injection_addresses);
  g_test_add_func ("/message/injection/fields", test_injection_fields);
  g_test_add_func ("/message/injection/attachments", test_injection_attachments);
  g_test_add_func ("/message/injection/body-part", test_injection_written);

  return g_test_run ();
}
