/* test-message-envelope.c: MsgMessage's generated headers, envelope
 * and measure
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-message-utils.h"
#include "test-utils.h"

#include <errno.h>
#include <gmime/gmime.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

  g_test_summary ("prepare_for_sending adds Date and a Message-ID (kept once there, unique per "
                  "message), its domain from Sender, From, sendemailaddress or this host, in that"
                  " order; existing values are kept.");

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

  g_test_summary ("CDO's GetStream keeps Bcc, what SMTP and NNTP send does not; Bcc recipients "
                  "are envelope recipients, without duplicates.");

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

  g_test_summary ("The envelope sender is Sender, else From; the recipients are every address of "
                  "To, Cc and Bcc, groups expanded; without them, NO_SENDER and NO_RECIPIENTS.");

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

/* The names of the headers of @text, in order, separated by spaces. */
static char *
header_names (const char *text)
{
  g_autofree char *headers = header_block (text);
  g_autoptr (GString) names = g_string_new (NULL);

  for (const char *line = headers; *line != '\0';)
    {
      const char *eol = strstr (line, "\r\n");
      const char *colon = strchr (line, ':');

      if (*line != ' ' && *line != '\t' && colon != NULL && colon < eol)
        g_string_append_printf (names, "%s%.*s", names->len > 0 ? " " : "", (int) (colon - line), line);
      line = eol + 2;
    }
  return g_strdup (names->str);
}

static char *
read_pickup_file (MsgSendReport *report)
{
  g_autoptr (GError) error = NULL;
  char *text = NULL;

  g_assert_nonnull (report);
  g_assert_true (g_file_get_contents (msg_send_report_get_pickup_file (report), &text, NULL, &error));
  g_assert_no_error (error);
  return text;
}

static MsgConfiguration *
configured_addresses (const char *dir)
{
  g_autoptr (GError) error = NULL;
  MsgConfiguration *configuration = msg_configuration_new ();

  g_assert_true (msg_configuration_set_field (configuration, "smtpserverpickupdirectory", dir, &error));
  g_assert_true (msg_configuration_set_field (configuration, "nntpserverpickupdirectory", dir, &error));
  g_assert_true (msg_configuration_set_field (configuration, "sendemailaddress", "Me <me@example.com>", &error));
  g_assert_true (msg_configuration_set_field (configuration, "senduserreplyemailaddress", "replies@example.com", &error));
  g_assert_true (msg_configuration_set_field (configuration, "postemailaddress", "poster@example.org", &error));
  g_assert_true (msg_configuration_set_field (configuration, "postuserreplyemailaddress", "followups@example.org", &error));
  g_assert_no_error (error);
  return configuration;
}

static void
test_configured_from (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgConfiguration) configuration = configured_addresses (dir);
  g_autoptr (GError) error = NULL;

  g_test_summary ("A message with no From sent with only sendemailaddress configured gets it as its"
                  " From (postemailaddress for a post), and senduserreplyemailaddress"
                  " (postuserreplyemailaddress) as its Reply-To; the written headers are complete;"
                  " values the caller set are kept; a bad configured address names the field.");

  {
    g_autoptr (MsgMessage) message = msg_message_new_with_configuration (configuration);
    g_autoptr (MsgSendReport) report = NULL;
    g_autofree char *text = NULL;
    g_autofree char *names = NULL;
    g_autofree char *value = NULL;
    g_autofree char *id = NULL;
    g_autoptr (GDateTime) date = NULL;

    g_assert_true (msg_message_set_to (message, "b@example.com", &error));
    g_assert_true (msg_message_set_subject (message, "s", &error));
    msg_message_set_text_body (message, "x");
    report = msg_message_send (message, NULL, &error);
    g_assert_no_error (error);
    text = read_pickup_file (report);

    names = header_names (text);
    g_assert_cmpstr (names, ==,
                     "Date From Reply-To Subject To X-Mailer MIME-Version Message-Id"
                     " Content-Type Content-Transfer-Encoding");
    value = find_header (text, "From");
    g_assert_cmpstr (value, ==, "Me <me@example.com>");
    g_clear_pointer (&value, g_free);
    value = find_header (text, "Reply-To");
    g_assert_cmpstr (value, ==, "replies@example.com");
    g_clear_pointer (&value, g_free);
    value = find_header (text, "To");
    g_assert_cmpstr (value, ==, "b@example.com");
    g_clear_pointer (&value, g_free);
    value = find_header (text, "Subject");
    g_assert_cmpstr (value, ==, "s");
    g_clear_pointer (&value, g_free);
    value = find_header (text, "MIME-Version");
    g_assert_cmpstr (value, ==, "1.0");
    g_clear_pointer (&value, g_free);
    value = find_header (text, "Content-Type");
    g_assert_cmpstr (value, ==, "text/plain; charset=utf-8");
    g_clear_pointer (&value, g_free);
    value = find_header (text, "Content-Transfer-Encoding");
    g_assert_cmpstr (value, ==, "7bit");
    g_clear_pointer (&value, g_free);
    value = find_header (text, "X-Mailer");
    g_assert_true (g_str_has_prefix (value, "libmsgobj"));
    g_clear_pointer (&value, g_free);
    value = find_header (text, "Message-Id");
    g_assert_true (g_str_has_suffix (value, "@example.com>"));
    g_clear_pointer (&value, g_free);
    g_assert_nonnull (strstr (text, "\r\n\r\nx"));

    /* The message keeps them, as it keeps Date and Message-ID. */
    value = msg_message_get_from (message);
    g_assert_cmpstr (value, ==, "Me <me@example.com>");
    g_clear_pointer (&value, g_free);
    date = msg_message_get_sent_on (message);
    g_assert_nonnull (date);
    id = msg_message_get_message_id (message);
    g_assert_nonnull (id);
  }

  {
    /* What the caller set wins. */
    g_autoptr (MsgMessage) message = msg_message_new_with_configuration (configuration);
    g_autoptr (MsgSendReport) report = NULL;
    g_autofree char *text = NULL;
    g_autofree char *value = NULL;

    g_assert_true (msg_message_set_from (message, "own@example.net", &error));
    g_assert_true (msg_message_set_reply_to (message, "own-replies@example.net", &error));
    g_assert_true (msg_message_set_to (message, "b@example.com", &error));
    report = msg_message_send (message, NULL, &error);
    g_assert_no_error (error);
    text = read_pickup_file (report);
    value = find_header (text, "From");
    g_assert_cmpstr (value, ==, "own@example.net");
    g_clear_pointer (&value, g_free);
    value = find_header (text, "Reply-To");
    g_assert_cmpstr (value, ==, "own-replies@example.net");
  }

  {
    g_autoptr (MsgMessage) message = msg_message_new_with_configuration (configuration);
    g_autoptr (MsgSendReport) report = NULL;
    g_autofree char *text = NULL;
    g_autofree char *value = NULL;

    g_assert_true (msg_message_set_newsgroups (message, "local.test", &error));
    g_assert_true (msg_message_set_subject (message, "post", &error));
    msg_message_set_text_body (message, "x");
    report = msg_message_post (message, NULL, &error);
    g_assert_no_error (error);
    text = read_pickup_file (report);
    value = find_header (text, "From");
    g_assert_cmpstr (value, ==, "poster@example.org");
    g_clear_pointer (&value, g_free);
    value = find_header (text, "Reply-To");
    g_assert_cmpstr (value, ==, "followups@example.org");
  }

  {
    g_autoptr (MsgMessage) message = msg_message_new_with_configuration (configuration);
    g_autoptr (MsgSendReport) report = NULL;

    g_assert_true (msg_configuration_set_field (configuration, "sendemailaddress", "not an address <<", &error));
    g_assert_true (msg_message_set_to (message, "b@example.com", &error));
    report = msg_message_send (message, NULL, &error);
    g_assert_null (report);
    g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ADDRESS);
    g_assert_nonnull (strstr (error->message, "sendemailaddress"));
  }

  msg_test_remove_tree (dir);
}

/* Without timezoneid the Date is in local time, and a change of TZ shows
 * in the next message at once (the local zone is otherwise read at most
 * once a second). */
static void
test_timezone_local (void)
{
  static const struct
  {
    const char *tz;
    const char *suffix;
  } zones[] = { { "Asia/Tokyo", " +0900" }, { "Asia/Kolkata", " +0530" }, { "UTC", " +0000" } };
  g_autofree char *saved = g_strdup (g_getenv ("TZ"));

  g_test_summary ("With no timezoneid, Date is in the local zone, and follows TZ from one message to the next.");

  for (gsize i = 0; i < G_N_ELEMENTS (zones); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (MsgMessage) message = make_message ();
      g_autofree char *text = NULL;
      g_autofree char *header = NULL;

      g_setenv ("TZ", zones[i].tz, TRUE);
      g_assert_true (msg_message_prepare_for_sending (message, &error));
      g_assert_no_error (error);
      text = to_string (message);
      header = find_header (text, "Date");
      if (!g_str_has_suffix (header, zones[i].suffix))
        g_error ("TZ=%s: Date: %s, expected the offset%s", zones[i].tz, header, zones[i].suffix);
    }
  if (saved != NULL)
    g_setenv ("TZ", saved, TRUE);
  else
    g_unsetenv ("TZ");
}

static void
test_timezone (void)
{
  g_autoptr (GError) error = NULL;
  static const char *const ids[] = { "Asia/Tokyo", "20" };

  g_test_summary ("timezoneid (a zone name or CDO's number) is the zone of the generated Date, and"
                  " SentOn reads back in it, the same instant.");

  for (gsize i = 0; i < G_N_ELEMENTS (ids); i++)
    {
      g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();
      g_autoptr (MsgMessage) message = NULL;
      g_autoptr (GDateTime) date = NULL;
      g_autofree char *text = NULL;
      g_autofree char *header = NULL;

      g_assert_true (msg_configuration_set_field (configuration, "timezoneid", ids[i], &error));
      g_assert_no_error (error);
      message = make_message ();
      msg_message_set_configuration (message, configuration);
      g_assert_true (msg_message_prepare_for_sending (message, &error));
      text = to_string (message);
      header = find_header (text, "Date");
      g_assert_true (g_str_has_suffix (header, " +0900"));
      date = msg_message_get_sent_on (message);
      g_assert_cmpint (g_date_time_get_utc_offset (date), ==, 9 * G_TIME_SPAN_HOUR);
    }

  {
    g_autoptr (MsgMessage) parsed = parse_string ("From: a@example.com\r\n"
                                                  "Date: Mon, 23 Jun 2008 01:49:17 +0000\r\n"
                                                  "\r\n"
                                                  "x\r\n");
    g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();
    g_autoptr (GDateTime) date = NULL;

    date = msg_message_get_sent_on (parsed);
    g_assert_cmpint (g_date_time_get_utc_offset (date), ==, 0);
    g_clear_pointer (&date, g_date_time_unref);
    g_assert_true (msg_configuration_set_field (configuration, "timezoneid", "Asia/Kolkata", &error));
    msg_message_set_configuration (parsed, configuration);
    date = msg_message_get_sent_on (parsed);
    g_assert_cmpint (g_date_time_get_utc_offset (date), ==, 5 * G_TIME_SPAN_HOUR + 30 * G_TIME_SPAN_MINUTE);
    g_assert_cmpint (g_date_time_get_hour (date), ==, 7);
    g_assert_cmpint (g_date_time_get_minute (date), ==, 19);
  }
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

  g_test_summary ("measure counts exactly the bytes a write gives, per write flags, and honours a"
                  " cancel.");
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

/* Issue 18 (docs/design.md, decision 13): a base64 part whose content is
 * a file or a buffer is measured from its length, not encoded. The
 * measure must still be the written length exactly: every remainder of
 * a line (57 octets) and of a quartet (3), each set of write flags, the
 * part at the root (GMime then ensures a final newline) or deep in
 * multiparts, next to a message/rfc822 part, in a parsed message. */

static const gsize measure_sizes[] = {
  0,
  1,
  2,
  3,
  4,
  56,
  57,
  58,
  75,
  76,
  77,
  113,
  114,
  115,
  1083,
  1084,
  4096,
  100 * 1024,
  1024 * 1024 - 1,
  1024 * 1024,
  1024 * 1024 + 1,
};

static const MsgWriteFlags measure_flags[] = {
  MSG_WRITE_FLAGS_NONE,
  MSG_WRITE_FLAGS_OMIT_BCC,
  MSG_WRITE_FLAGS_NEWS,
  MSG_WRITE_FLAGS_OMIT_BCC | MSG_WRITE_FLAGS_LINE_LIMIT,
  MSG_WRITE_FLAGS_OMIT_BCC | MSG_WRITE_FLAGS_LINE_LIMIT | MSG_WRITE_FLAGS_ENCODE_8BIT,
};

/* @size octets of every value, CR, LF and NUL among them. */
static GBytes *
pattern_bytes (gsize size)
{
  guint8 *data = g_malloc (MAX (size, 1));
  guint32 state = (guint32) size * 2654435761u + 1;

  for (gsize i = 0; i < size; i++)
    {
      state = state * 1103515245u + 12345u;
      data[i] = (guint8) (state >> 16);
    }
  return g_bytes_new_take (data, size);
}

static GBytes *
write_bytes (MsgMessage   *message,
             MsgWriteFlags flags)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();

  g_assert_true (msg_message_write_to_stream_full (message, out, flags, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_output_stream_close (out, NULL, &error));
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
}

/* For every flag set: the measure equals the written length, and the
 * message writes the same bytes after it (its content put back). */
static void
assert_measure_exact (MsgMessage *message,
                      const char *what,
                      gsize       size)
{
  for (guint i = 0; i < G_N_ELEMENTS (measure_flags); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GBytes) before = write_bytes (message, measure_flags[i]);
      g_autoptr (GBytes) after = NULL;
      guint64 measured = 0;

      g_assert_true (msg_message_measure (message, measure_flags[i], &measured, NULL, &error));
      g_assert_no_error (error);
      if (measured != g_bytes_get_size (before))
        g_error ("%s, %" G_GSIZE_FORMAT " octets, flags 0x%x: measured %" G_GUINT64_FORMAT
                 ", written %" G_GSIZE_FORMAT,
                 what, size, measure_flags[i], measured, g_bytes_get_size (before));
      after = write_bytes (message, measure_flags[i]);
      g_assert_true (g_bytes_equal (before, after));
    }
}

static MsgMessage *
make_measured_message (void)
{
  g_autoptr (GError) error = NULL;
  MsgMessage *message = make_message ();

  g_assert_true (msg_message_set_bcc (message, "hidden@example.net", &error));
  g_assert_true (msg_message_set_header (message, "Disposition-Notification-To", "ann@example.com", &error));
  g_assert_no_error (error);
  return message;
}

/* A file attachment next to the text body, in multipart/mixed. */
static void
measure_file_attachment (const char *dir,
                         gsize       size,
                         GBytes     *content)
{
  g_autoptr (MsgMessage) message = make_measured_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = write_temp_file (dir, "attachment.bin", g_bytes_get_data (content, NULL), (gssize) size);
  MsgBodyPart     *part;

  msg_message_set_text_body (message, "See the attachment.\nline two\r\n");
  part = msg_message_add_attachment (message, path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (part);
  assert_measure_exact (message, "file attachment", size);
  g_unlink (path);
}

/* The whole body one base64 leaf whose content is a buffer. */
static void
measure_root_leaf (gsize   size,
                   GBytes *content)
{
  g_autoptr (MsgMessage) message = make_measured_message ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgBodyPart) root = msg_message_get_body_part (message);

  g_assert_true (msg_body_part_set_content_media_type (root, "application/octet-stream", &error));
  g_assert_true (msg_body_part_set_content (root, content, &error));
  g_assert_true (msg_body_part_set_content_transfer_encoding (root, "base64", &error));
  g_assert_no_error (error);
  assert_measure_exact (message, "root leaf", size);
}

/* Text and HTML (multipart/alternative), a hand-made multipart/mixed
 * holding a buffer in base64, a message/rfc822 part and a
 * multipart/related, and a file attachment, all under multipart/mixed. */
static void
measure_nested (const char *dir,
                gsize       size,
                GBytes     *content)
{
  g_autoptr (MsgMessage) message = make_measured_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *path = write_temp_file (dir, "nested.dat", g_bytes_get_data (content, NULL), (gssize) size);
  g_autoptr (GBytes) inner = g_bytes_new_static ("From: c@example.com\r\nSubject: Inner\r\n\r\nInner body\r\n", 49);
  g_autoptr (MsgBodyPart) root = NULL;
  g_autoptr (MsgBodyPart) mixed = NULL;
  g_autoptr (MsgBodyPart) leaf = NULL;
  g_autoptr (MsgBodyPart) related = NULL;
  g_autoptr (MsgBodyPart) related_leaf = NULL;
  g_autoptr (MsgBodyPart) rfc822 = NULL;
  MsgBodyPart *file;

  msg_message_set_text_body (message, "Plain text.\n");
  msg_message_set_html_body (message, "<p>HTML</p>\n");
  file = msg_message_add_attachment (message, path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (file);
  root = msg_message_get_body_part (message);
  mixed = msg_body_part_add_body_part (root, "multipart/mixed", &error);
  g_assert_no_error (error);
  leaf = msg_body_part_add_body_part (mixed, "application/octet-stream", &error);
  g_assert_true (msg_body_part_set_content (leaf, content, &error));
  g_assert_true (msg_body_part_set_content_transfer_encoding (leaf, "base64", &error));
  rfc822 = msg_body_part_add_body_part (mixed, "message/rfc822", &error);
  g_assert_true (msg_body_part_set_content (rfc822, inner, &error));
  related = msg_body_part_add_body_part (mixed, "multipart/related", &error);
  related_leaf = msg_body_part_add_body_part (related, "image/png", &error);
  g_assert_true (msg_body_part_set_content (related_leaf, content, &error));
  g_assert_true (msg_body_part_set_content_transfer_encoding (related_leaf, "base64", &error));
  g_assert_no_error (error);
  assert_measure_exact (message, "nested", size);
  g_unlink (path);
}

/* A parsed message whose 7bit part is switched to base64: its content
 * is a bounded piece of the parser's buffer. */
static void
measure_parsed (gsize size)
{
  g_autoptr (GString) text = g_string_new ("From: a@example.com\r\nTo: b@example.org\r\nBcc: c@example.net\r\n"
                                           "Subject: Parsed\r\nMIME-Version: 1.0\r\n"
                                           "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n"
                                           "--b1\r\nContent-Type: text/plain\r\n\r\nHello\r\n"
                                           "--b1\r\nContent-Type: application/octet-stream\r\n"
                                           "Content-Transfer-Encoding: 7bit\r\n\r\n");
  g_autoptr (MsgMessage) message = NULL;
  g_autoptr (MsgBodyPart) root = NULL;
  g_autoptr (MsgBodyPart) part = NULL;
  g_autoptr (GError) error = NULL;

  for (gsize i = 0; i < size; i++)
    g_string_append_c (text, (i + 1) % 60 == 0 ? '\n' : (char) ('a' + i % 26));
  g_string_append (text, "\r\n--b1--\r\n");
  message = parse_string (text->str);
  root = msg_message_get_body_part (message);
  {
    g_autoptr (GListModel) children = msg_body_part_get_body_parts_model (root);

    part = g_list_model_get_item (children, 1);
  }
  g_assert_true (msg_body_part_set_content_transfer_encoding (part, "base64", &error));
  g_assert_no_error (error);
  assert_measure_exact (message, "parsed", size);
}

static void
test_measure_computed (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();

  g_test_summary ("A base64 part of a file or buffer is measured from its length: the measure "
                  "equals the written length for every size, flag set and position in the tree.");
  for (guint i = 0; i < G_N_ELEMENTS (measure_sizes); i++)
    {
      gsize size = measure_sizes[i];
      g_autoptr (GBytes) content = pattern_bytes (size);

      measure_file_attachment (dir, size, content);
      measure_root_leaf (size, content);
      /* The large ones once are enough (and keep valgrind's run short). */
      if (size <= 100 * 1024)
        {
          measure_nested (dir, size, content);
          measure_parsed (size);
        }
    }
  msg_test_remove_tree (dir);
}

/* How many times @path was opened since the last call. */
static guint
count_opens (int fd,
             int watch)
{
  char   buffer[4096] __attribute__ ((aligned (__alignof__(struct inotify_event))));
  guint  opens = 0;
  gssize length;

  while ((length = read (fd, buffer, sizeof buffer)) > 0)
    for (char *p = buffer; p < buffer + length;)
      {
        const struct inotify_event *event = (const struct inotify_event *) p;

        if (event->wd == watch && (event->mask & IN_OPEN))
          opens++;
        p += sizeof *event + event->len;
      }
  return opens;
}

static void
test_measure_reads_nothing (void)
{
  g_autoptr (MsgMessage) message = make_measured_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (GBytes) content = pattern_bytes (300 * 1024);
  g_autofree char *path = write_temp_file (dir, "big.bin", g_bytes_get_data (content, NULL), 300 * 1024);
  MsgBodyPart     *part;
  g_autoptr (GBytes) written = NULL;
  int     fd = inotify_init1 (IN_NONBLOCK | IN_CLOEXEC);
  int     watch;
  guint64 size = 0;

  g_test_summary ("Measuring a message does not read its file attachment; one that cannot be read "
                  "still fails the measure, as the write would.");
  g_assert_cmpint (fd, >=, 0);
  part = msg_message_add_attachment (message, path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (part);
  /* With the closes: inotify merges an event with the same one queued
   * right before it. */
  watch = inotify_add_watch (fd, path, IN_OPEN | IN_CLOSE_NOWRITE);
  g_assert_cmpint (watch, >=, 0);

  g_assert_true (msg_message_measure (message, MSG_WRITE_FLAGS_OMIT_BCC, &size, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_opens (fd, watch), ==, 0);
  written = write_bytes (message, MSG_WRITE_FLAGS_OMIT_BCC);
  g_assert_cmpuint (count_opens (fd, watch), ==, 1);
  g_assert_cmpuint (size, ==, g_bytes_get_size (written));

  /* Unreadable: left to the write, which fails the measure as before. */
  g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_false (msg_message_measure (message, MSG_WRITE_FLAGS_OMIT_BCC, &size, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  close (fd);
  msg_test_remove_tree (dir);
}

/* The longest line of @text, CRLF or LF ends. */
static gsize
longest_line (const char *text)
{
  gsize longest = 0;

  for (const char *p = text; *p != '\0';)
    {
      const char *end = strchr (p, '\n');
      gsize       n = end != NULL ? (gsize) (end - p) : strlen (p);

      longest = MAX (longest, n);
      p += n + (end != NULL ? 1 : 0);
    }
  return longest;
}

static char *
write_with_line_limit (MsgMessage *message)
{
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;

  g_assert_true (msg_message_write_to_stream_full (message, out, MSG_WRITE_FLAGS_LINE_LIMIT, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_output_stream_close (out, NULL, NULL));
  bytes = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
  return g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

static void
test_line_limit_after_change (void)
{
  g_autoptr (MsgMessage) message = msg_message_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) content = NULL;
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *long_line = g_strnfill (2000, 'a');
  MsgBodyPart     *part;

  g_test_summary ("A built text part skips the long-line scan on a write (issue 18) only "
                  "while its content is the one checked: content set later is scanned.");

  g_assert_true (msg_message_set_from (message, "a@example.test", &error));
  g_assert_true (msg_message_set_to (message, "b@example.test", &error));
  msg_message_set_text_body (message, "Short lines.\n");
  first = write_with_line_limit (message);
  g_assert_nonnull (strstr (first, "Content-Transfer-Encoding: 7bit"));

  /* The same part, a 7bit content with a 2000-octet line. */
  part = msg_message_get_text_body_part (message);
  g_assert_nonnull (part);
  content = g_bytes_new (long_line, strlen (long_line));
  g_assert_true (msg_body_part_set_content (part, content, &error));
  g_assert_no_error (error);
  g_assert_true (msg_body_part_set_content_transfer_encoding (part, "7bit", &error));
  g_assert_no_error (error);
  second = write_with_line_limit (message);
  g_assert_cmpuint (longest_line (second), <=, 998);
  g_assert_null (strstr (second, long_line));
  g_object_unref (part);
}

/* An address set with the setters is written as GMime writes it with its
 * IDNA step (libidn2), which the library skips for a plain ASCII domain
 * (msg-address-utils.c): case kept, non-ASCII and "xn--" domains still
 * go through IDNA. */
static void
test_address_idna (void)
{
  const char *addresses[] = {
    "rcpt@Example.TEST",
    "a@example.test",
    "b@b\xc3\xbc"
    "cher.example",
    "c@xn--bcher-kva.example",
    "d@XN--BCHER-KVA.example",
    "e@a-b.c-d.example",
    "f@localhost",
    "g@label-of-sixty-four-octets-which-is-one-more-than-idna-allows-x.example",
    "j@[127.0.0.1]",
    "k@under_score.example",
  };

  for (gsize i = 0; i < G_N_ELEMENTS (addresses); i++)
    {
      g_autoptr (MsgMessage) message = msg_message_new ();
      InternetAddressList *list;
      g_autoptr (GError) error = NULL;
      g_autofree char *text = NULL;
      g_autofree char *to = NULL;
      g_autofree char *from = NULL;
      const char      *expected;

      g_test_message ("%s", addresses[i]);
      g_assert_true (msg_message_set_to (message, addresses[i], &error));
      g_assert_no_error (error);
      g_assert_true (msg_message_set_from (message, addresses[i], &error));
      g_assert_no_error (error);
      text = to_string (message);
      to = find_header (text, "To");
      from = find_header (text, "From");

      /* GMime's own encoding of a newly parsed mailbox, through libidn2. */
      list = internet_address_list_parse (NULL, addresses[i]);
      g_assert_cmpint (internet_address_list_length (list), ==, 1);
      expected = internet_address_mailbox_get_idn_addr (
          INTERNET_ADDRESS_MAILBOX (internet_address_list_get_address (list, 0)));
      g_assert_cmpstr (g_strstrip (to), ==, expected);
      g_assert_cmpstr (g_strstrip (from), ==, expected);
      g_object_unref (list);
    }

  /* What IDNA does with the domains above, as a check of the test. */
  {
    g_autoptr (MsgMessage) message = msg_message_new ();
    g_autofree char *text = NULL;
    g_autofree char *to = NULL;

    g_assert_true (msg_message_set_to (message, "Rcpt <r@Example.TEST>, b@b\xc3\xbc"
                                                "cher.example",
                                       NULL));
    text = to_string (message);
    to = find_header (text, "To");
    g_assert_cmpstr (g_strstrip (to), ==, "Rcpt <r@Example.TEST>, b@xn--bcher-kva.example");
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/message/measure", test_measure);
  g_test_add_func ("/message/measure-computed", test_measure_computed);
  g_test_add_func ("/message/measure-reads-nothing", test_measure_reads_nothing);
  g_test_add_func ("/message/generated-headers", test_generated_headers);
  g_test_add_func ("/message/bcc", test_bcc);
  g_test_add_func ("/message/address-idna", test_address_idna);
  g_test_add_func ("/message/envelope", test_envelope);
  g_test_add_func ("/message/configured-from", test_configured_from);
  g_test_add_func ("/message/timezone", test_timezone);
  g_test_add_func ("/message/timezone/local", test_timezone_local);
  g_test_add_func ("/message/line-limit-after-change", test_line_limit_after_change);

  return g_test_run ();
}
