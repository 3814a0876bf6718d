/* test-security.c: a hostile message cannot put on the wire or in a file
 * what the object model does not see (issue 14, items 1 to 4)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each test reads what reached a file or a scripted SMTP server.
 */
#include "config.h"

#include "msg-test-server.h"
#include "test-utils.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

typedef MsgTestFixture Fixture;

/* A lone CR inside the Subject: GMime reads it as part of the value. */
#define BARE_CR_MESSAGE                       \
  "From: alice@example.test\r\n"              \
  "To: bob@example.test\r\n"                  \
  "Subject: hello\rBcc: evil@example.net\r\n" \
  "Message-ID: <bare-cr@example.test>\r\n"    \
  "\r\n"                                      \
  "Hi.\r\n"

/* A file name that decodes to a path and a line break, in a part. */
#define PARAMETER_MESSAGE                                                         \
  "From: alice@example.test\r\n"                                                  \
  "To: bob@example.test\r\n"                                                      \
  "Subject: parameters\r\n"                                                       \
  "Message-ID: <parameter@example.test>\r\n"                                      \
  "MIME-Version: 1.0\r\n"                                                         \
  "Content-Type: multipart/mixed; boundary=XX\r\n"                                \
  "\r\n"                                                                          \
  "--XX\r\n"                                                                      \
  "Content-Type: text/plain\r\n"                                                  \
  "\r\n"                                                                          \
  "Hi.\r\n"                                                                       \
  "--XX\r\n"                                                                      \
  "Content-Type: application/octet-stream; name*=utf-8''a%0D%0AX-Evil%3A%201\r\n" \
  "Content-Disposition: attachment;\r\n"                                          \
  " filename*=utf-8''..%2F..%2Fx%0D%0ABcc%3A%20evil2@example.net\r\n"             \
  "Content-Transfer-Encoding: base64\r\n"                                         \
  "\r\n"                                                                          \
  "aGk=\r\n"                                                                      \
  "--XX--\r\n"

/* The same file name on a message that is one part: its header is the
 * message's own. */
#define SINGLE_PART_MESSAGE                                           \
  "From: alice@example.test\r\n"                                      \
  "To: bob@example.test\r\n"                                          \
  "Subject: one part\r\n"                                             \
  "Message-ID: <single@example.test>\r\n"                             \
  "MIME-Version: 1.0\r\n"                                             \
  "Content-Type: application/octet-stream\r\n"                        \
  "Content-Disposition: attachment;\r\n"                              \
  " filename*=utf-8''..%2F..%2Fx%0D%0ABcc%3A%20evil2@example.net\r\n" \
  "Content-Transfer-Encoding: base64\r\n"                             \
  "\r\n"                                                              \
  "aGk=\r\n"

static MsgMessage *
parse (const char *text)
{
  g_autoptr (GBytes) bytes = g_bytes_new_static (text, strlen (text));
  g_autoptr (GError) error = NULL;
  MsgMessage *message = msg_message_new_from_bytes (bytes, &error);

  g_assert_no_error (error);
  g_assert_nonnull (message);
  return message;
}

/* The header block of @text (CRLF line ends), up to the empty line. */
static char *
header_block (const char *text)
{
  const char *end = strstr (text, "\r\n\r\n");

  return g_strndup (text, end != NULL ? (gsize) (end - text) + 2 : strlen (text));
}

/* Whether any line of @text starts with @field (e.g. "Bcc:"),
 * case-insensitively: a header line, or one that reads as one. */
static gboolean
has_line (const char *text,
          const char *field)
{
  gsize n = strlen (field);

  if (g_ascii_strncasecmp (text, field, n) == 0)
    return TRUE;
  for (const char *p = strchr (text, '\n'); p != NULL; p = strchr (p + 1, '\n'))
    if (g_ascii_strncasecmp (p + 1, field, n) == 0)
      return TRUE;
  return FALSE;
}

static char *
write_with_flags (MsgMessage   *message,
                  MsgWriteFlags flags)
{
  g_autoptr (GOutputStream) mem = g_memory_output_stream_new_resizable ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;

  g_assert_true (msg_message_write_to_stream_full (message, mem, flags, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_output_stream_close (mem, NULL, NULL));
  bytes = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (mem));
  return g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
}

static char *
read_file (const char *path)
{
  g_autoptr (GError) error = NULL;
  char *contents = NULL;

  g_assert_true (g_file_get_contents (path, &contents, NULL, &error));
  g_assert_no_error (error);
  return contents;
}

/* Sends @message through the pickup transport into a new directory and
 * returns the file's contents. */
static char *
through_pickup (MsgMessage *message,
                gboolean    post)
{
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  char *contents;

  msg_configuration_set_field (configuration, post ? "nntpserverpickupdirectory" : "smtpserverpickupdirectory",
                               dir, &error);
  g_assert_no_error (error);
  msg_message_set_configuration (message, configuration);
  report = post ? msg_message_post (message, NULL, &error) : msg_message_send (message, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (report);
  contents = read_file (msg_send_report_get_pickup_file (report));
  msg_test_remove_tree (dir);
  return contents;
}

#define GREETING "line 220 mx.example.test ESMTP\n"
#define EHLO_BASIC             \
  "expect EHLO\n"              \
  "line 250-mx.example.test\n" \
  "line 250 8BITMIME\n"
/* Only bob: an envelope holding the hostile address fails the script. */
#define TRANSACTION_BOB                        \
  "expect MAIL FROM:<alice@example.test>\n"    \
  "line 250 2.1.0 Ok\n"                        \
  "expect RCPT TO:<bob@example.test>\n"        \
  "line 250 2.1.5 Ok\n"                        \
  "expect DATA\n"                              \
  "line 354 End data with <CR><LF>.<CR><LF>\n" \
  "data\n"                                     \
  "line 250 2.0.0 Ok: queued as 4ABC\n"

/* Sends @message to a scripted SMTP server that accepts bob only, and
 * returns the header block of what it received after DATA. */
static char *
through_smtp (Fixture    *f,
              MsgMessage *message)
{
  const char *const scripts[] = { GREETING EHLO_BASIC TRANSACTION_BOB, NULL };
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgSendReport) report = NULL;
  g_autofree char *wire = NULL;
  const char      *data;

  msg_test_fixture_start (f, "smtp", scripts);
  report = msg_transport_send_message (f->transport, message, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (report);
  g_clear_object (&f->transport);
  g_assert_true (msg_test_server_wait_closed (f->server, 5000));

  wire = msg_test_server_get_received_text (f->server, 0);
  data = strstr (wire, "DATA\r\n");
  g_assert_nonnull (data);
  return header_block (data + strlen ("DATA\r\n"));
}

/* Item 1 */

static void
test_bare_cr_model (void)
{
  g_autoptr (MsgMessage) message = parse (BARE_CR_MESSAGE);
  g_autofree char *bcc = msg_message_get_bcc (message);
  g_autofree char *subject = msg_message_get_subject (message);
  g_auto (GStrv) recipients = msg_message_get_envelope_recipients (message, NULL);

  g_test_summary ("A lone CR in a parsed header is a space: no Bcc in the model or the envelope.");
  g_assert_null (bcc);
  g_assert_cmpstr (subject, ==, "hello Bcc: evil@example.net");
  g_assert_nonnull (recipients);
  g_assert_cmpstr (recipients[0], ==, "bob@example.test");
  g_assert_null (recipients[1]);
}

static void
test_bare_cr_written (void)
{
  g_autoptr (MsgMessage) message = parse (BARE_CR_MESSAGE);
  const MsgWriteFlags flags[] = { MSG_WRITE_FLAGS_NONE, MSG_WRITE_FLAGS_OMIT_BCC, MSG_WRITE_FLAGS_NEWS };

  g_test_summary ("A lone CR in a parsed header never becomes a header line, whatever the flags.");
  for (guint i = 0; i < G_N_ELEMENTS (flags); i++)
    {
      g_autofree char *text = write_with_flags (message, flags[i]);
      g_autofree char *headers = header_block (text);

      g_assert_false (has_line (headers, "Bcc:"));
      g_assert_nonnull (strstr (headers, "\r\nSubject: hello Bcc: evil@example.net\r\n"));
    }
}

static void
test_bare_cr_pickup (void)
{
  g_autoptr (MsgMessage) message = parse (BARE_CR_MESSAGE);
  g_autofree char *contents = through_pickup (message, FALSE);
  g_autofree char *headers = header_block (contents);

  g_test_summary ("The pickup file of a parsed message with a lone CR holds no Bcc line.");
  g_assert_false (has_line (headers, "Bcc:"));
  g_assert_nonnull (strstr (headers, "Subject: hello Bcc: evil@example.net\r\n"));
}

static void
test_bare_cr_smtp (Fixture      *f,
                   gconstpointer data)
{
  g_autoptr (MsgMessage) message = parse (BARE_CR_MESSAGE);
  g_autofree char *headers = NULL;

  g_test_summary ("SMTP: a lone CR in a parsed header reaches neither the envelope nor DATA as Bcc.");
  headers = through_smtp (f, message);
  g_assert_false (has_line (headers, "Bcc:"));
  g_assert_nonnull (strstr (headers, "Subject: hello Bcc: evil@example.net\r\n"));
}

static void
test_bare_cr_part_header (void)
{
  g_autoptr (MsgMessage) message = parse ("From: alice@example.test\r\n"
                                          "To: bob@example.test\r\n"
                                          "Subject: parts\r\n"
                                          "Content-Type: multipart/mixed; boundary=XX\r\n"
                                          "\r\n"
                                          "--XX\r\n"
                                          "Content-Type: text/plain\r\n"
                                          "\r\n"
                                          "one\r--XX\rContent-Type: text/html\r\r<b>two</b>\r\n"
                                          "--XX--\r\n");
  g_autofree char *text = write_with_flags (message, MSG_WRITE_FLAGS_NONE);
  g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));
  g_autoptr (MsgMessage) again = msg_message_new_from_bytes (bytes, NULL);
  g_autofree char *html = msg_message_get_html_body (message);
  g_autofree char *html_again = NULL;

  g_test_summary ("Outside the header block a lone CR is read as the line break it is written as: "
                  "the parts a recipient sees are the parts the model saw.");
  g_assert_nonnull (again);
  html_again = msg_message_get_html_body (again);
  g_assert_cmpstr (html, ==, html_again);
  g_assert_nonnull (html);
}

static void
test_unterminated_header (void)
{
  g_autoptr (MsgMessage) message = parse ("From: alice@example.test\r\nSubject: x");
  g_autofree char *text = NULL;
  g_autoptr (GError) error = NULL;

  g_test_summary ("A header added to a message that ended inside its last header is a header of its own.");
  g_assert_true (msg_message_set_header (message, "X-Added", "yes", &error));
  g_assert_no_error (error);
  text = write_with_flags (message, MSG_WRITE_FLAGS_NONE);
  g_assert_nonnull (strstr (text, "\r\nSubject: x\r\nX-Added: yes\r\n"));
}

/* Item 2 */

static MsgBodyPart *
first_attachment (MsgMessage *message)
{
  GList       *attachments = msg_message_get_attachments (message);
  MsgBodyPart *part;

  g_assert_nonnull (attachments);
  part = g_object_ref (attachments->data);
  g_list_free_full (attachments, g_object_unref);
  return part;
}

static void
assert_no_injection (const char *headers)
{
  g_assert_false (has_line (headers, "Bcc:"));
  g_assert_false (has_line (headers, "X-Evil:"));
}

static void
test_parameter_regenerated (void)
{
  const char *const inputs[] = { PARAMETER_MESSAGE, SINGLE_PART_MESSAGE };

  g_test_summary ("A parameter decoding to CRLF is written without it once its header is regenerated.");
  for (guint i = 0; i < G_N_ELEMENTS (inputs); i++)
    {
      g_autoptr (MsgMessage) message = parse (inputs[i]);
      g_autoptr (MsgBodyPart) part = first_attachment (message);
      g_autoptr (GError) error = NULL;
      g_autofree char *text = NULL;

      g_assert_true (msg_body_part_set_content_disposition (part, "inline", &error));
      g_assert_no_error (error);
      text = write_with_flags (message, MSG_WRITE_FLAGS_NONE);
      /* Every line of the message, the parts' headers included. */
      assert_no_injection (text);
      g_assert_nonnull (strstr (text, "inline"));
    }
}

/* Before the repair was made linear, this took 23 s here (8,000
 * parameters to fix, each fix regenerating the whole header) plus a
 * quadratic search for duplicates; it now takes milliseconds. */
#define MANY_PARAMETERS 8000
#define MANY_PARAMETERS_SECONDS 3

static void
test_parameter_many (void)
{
  g_autoptr (GString) text = g_string_new ("From: a@example.test\r\n"
                                           "Content-Type: application/octet-stream\r\n"
                                           "Content-Disposition: attachment;\r\n"
                                           " filename*=utf-8''a%0D%0AX-Evil%3A%20b");
  g_autoptr (MsgMessage) message = NULL;
  g_autoptr (MsgBodyPart) part = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *raw = NULL;
  g_autofree char *written = NULL;
  g_autofree char *last = g_strdup_printf ("x%u=", MANY_PARAMETERS - 1);
  gint64           start;
  double           elapsed;

  g_test_summary ("Repairing a header with thousands of hostile parameters takes time linear in "
                  "their number, and each is fixed or dropped.");
  /* Each parameter decodes to a CR, and each is given twice. */
  for (guint i = 0; i < MANY_PARAMETERS; i++)
    g_string_append_printf (text, ";\r\n x%u*=utf-8''v%%0Dw; x%u=dup", i, i);
  g_string_append (text, "\r\n\r\nx\r\n");

  start = g_get_monotonic_time ();
  message = parse (text->str);
  elapsed = (g_get_monotonic_time () - start) / (double) G_USEC_PER_SEC;
  /* A generous bound, scaled for valgrind and ASan: the quadratic repair
   * took several times longer on any machine. */
  g_assert_cmpfloat (elapsed, <, MANY_PARAMETERS_SECONDS * msg_test_time_scale ());

  part = first_attachment (message);
  raw = msg_body_part_get_raw_filename (part);
  g_assert_cmpstr (raw, ==, "a  X-Evil: b");
  g_assert_true (msg_body_part_set_content_disposition (part, "inline", &error));
  g_assert_no_error (error);
  written = write_with_flags (message, MSG_WRITE_FLAGS_NONE);
  assert_no_injection (written);
  /* Every parameter is written once, with its first value, fixed. */
  g_assert_null (strstr (written, "dup"));
  g_assert_null (strstr (written, "v\rw"));
  g_assert_nonnull (strstr (written, "x0=\"v w\""));
  g_assert_nonnull (strstr (written, last));
}

static void
test_parameter_unwritable_name (void)
{
  /* GMime 3.2 regenerates such a parameter as endless RFC 2231
   * continuations: without the repair the parse runs out of memory. */
  static const char *const names[] = {
    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn",
    "na\xed\xed\xed\xed\xed\xed\xed\xed\xed\xed\xed\xed\xed\xed\xed\xed\xed\xed"
    "\xed\xed\xed\xed\xed\xed\xed\xed\xed\xed\xed\xed\xed\xed\xed\xedme*",
  };

  g_test_summary ("A parameter whose name GMime cannot write back (too long, not a token) is "
                  "dropped before its header is regenerated.");
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *value = g_strnfill (100, 'v');
      g_autofree char *text = g_strdup_printf ("From: a@example.test\r\n"
                                               "Content-Type: application/octet-stream;\r\n"
                                               " %s=%s;\r\n"
                                               " name*=utf-8''a%%0Db\r\n"
                                               "\r\n"
                                               "x\r\n",
                                               names[i], value);
      g_autoptr (MsgMessage) message = parse (text);
      g_autofree char *written = write_with_flags (message, MSG_WRITE_FLAGS_NONE);

      g_assert_null (strstr (written, value));
      g_assert_nonnull (strstr (written, "name=\"a b\""));
      g_assert_cmpuint (strlen (written), <, 1000);
    }
}

static void
test_parameter_smtp (Fixture      *f,
                     gconstpointer data)
{
  g_autoptr (MsgMessage) message = parse (SINGLE_PART_MESSAGE);
  g_autoptr (MsgBodyPart) part = first_attachment (message);
  g_autofree char *headers = NULL;

  g_test_summary ("SMTP: a regenerated Content-Disposition puts no Bcc line in DATA.");
  g_assert_true (msg_body_part_set_content_disposition (part, "inline", NULL));
  headers = through_smtp (f, message);
  assert_no_injection (headers);
  g_assert_true (has_line (headers, "Content-Disposition: inline"));
}

static void
test_parameter_pickup (void)
{
  g_autoptr (MsgMessage) message = parse (PARAMETER_MESSAGE);
  g_autoptr (MsgBodyPart) part = first_attachment (message);
  g_autofree char *contents = NULL;

  g_test_summary ("Pickup: a regenerated part header puts no header line of its own in the file.");
  g_assert_true (msg_body_part_set_content_disposition (part, "inline", NULL));
  contents = through_pickup (message, FALSE);
  assert_no_injection (contents);
}

/* A signed message whose signed part carries fields of its own: they
 * mean nothing in a part (RFC 2045), and must not become the message's
 * once the signature is dropped and that part is the root. The calendar
 * part makes the library edit the tree in place rather than rebuild it. */
#define SIGNED_PART_FIELDS_MESSAGE                                                         \
  "From: alice@example.test\r\n"                                                           \
  "To: bob@example.test\r\n"                                                               \
  "Subject: signed\r\n"                                                                    \
  "MIME-Version: 1.0\r\n"                                                                  \
  "Content-Type: multipart/signed; boundary=S; protocol=\"application/pgp-signature\"\r\n" \
  "\r\n"                                                                                   \
  "--S\r\n"                                                                                \
  "Content-Type: multipart/mixed; boundary=M\r\n"                                          \
  "Bcc: evil@example.net\r\n"                                                              \
  "Return-Path: <evil@example.net>\r\n"                                                    \
  "\r\n"                                                                                   \
  "--M\r\n"                                                                                \
  "Content-Type: multipart/alternative; boundary=A\r\n"                                    \
  "\r\n"                                                                                   \
  "--A\r\n"                                                                                \
  "Content-Type: text/plain\r\n"                                                           \
  "\r\n"                                                                                   \
  "Signed text.\r\n"                                                                       \
  "--A\r\n"                                                                                \
  "Content-Type: text/calendar; method=REQUEST\r\n"                                        \
  "\r\n"                                                                                   \
  "BEGIN:VCALENDAR\r\n"                                                                    \
  "END:VCALENDAR\r\n"                                                                      \
  "--A--\r\n"                                                                              \
  "--M--\r\n"                                                                              \
  "--S\r\n"                                                                                \
  "Content-Type: application/pgp-signature\r\n"                                            \
  "\r\n"                                                                                   \
  "not really\r\n"                                                                         \
  "--S--\r\n"

static void
test_promoted_part_fields (void)
{
  g_autoptr (MsgMessage) message = parse (SIGNED_PART_FIELDS_MESSAGE);
  g_autoptr (GBytes) content = g_bytes_new_static ("x\n", 2);
  g_autoptr (GError) error = NULL;
  g_autofree char *bcc = NULL;
  g_autofree char *text = NULL;
  g_autofree char *headers = NULL;

  g_test_summary ("Fields of a nested part (here the signed content of a multipart/signed) do "
                  "not become the message's when that part is made its root (fuzz-message).");
  g_assert_nonnull (msg_message_add_attachment_bytes (message, content, "x.txt", "text/plain", &error));
  g_assert_no_error (error);
  bcc = msg_message_get_bcc (message);
  g_assert_null (bcc);
  text = write_with_flags (message, MSG_WRITE_FLAGS_NONE);
  headers = header_block (text);
  g_assert_false (has_line (headers, "Bcc:"));
  g_assert_false (has_line (headers, "Return-Path:"));
  g_assert_nonnull (strstr (text, "Signed text."));
}

/* A multipart whose boundary holds a control character: its parts were
 * found with that boundary; the text after it holds the same boundary
 * with a space, which must stay text. */
#define CONTROL_BOUNDARY_MESSAGE                             \
  "From: alice@example.test\r\n"                             \
  "To: bob@example.test\r\n"                                 \
  "Subject: boundary\r\n"                                    \
  "MIME-Version: 1.0\r\n"                                    \
  "Content-Type: multipart/mixed; boundary=\"B\x17"          \
  "B\"\r\n"                                                  \
  "\r\n"                                                     \
  "--B\x17"                                                  \
  "B\r\n"                                                    \
  "Content-Type: text/plain\r\n"                             \
  "\r\n"                                                     \
  "Hi.\r\n"                                                  \
  "--B B\r\n"                                                \
  "Content-Type: application/octet-stream\r\n"               \
  "Content-Disposition: attachment; filename=hidden.exe\r\n" \
  "\r\n"                                                     \
  "MZ\r\n"                                                   \
  "--B\x17"                                                  \
  "B--\r\n"

/* @text, written and read back, has the attachments it had, none named
 * @hidden; the written text does not hold @absent (nullable). */
static void
assert_parts_read_back (const char *text,
                        const char *hidden,
                        const char *absent)
{
  g_autoptr (MsgMessage) message = parse (text);
  g_autoptr (MsgMessage) again = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *written = NULL;
  GList           *before;
  GList           *after;

  before = msg_message_get_attachments (message);
  written = write_with_flags (message, MSG_WRITE_FLAGS_NONE);
  if (absent != NULL)
    g_assert_null (strstr (written, absent));
  bytes = g_bytes_new (written, strlen (written));
  again = msg_message_new_from_bytes (bytes, &error);
  g_assert_no_error (error);
  after = msg_message_get_attachments (again);
  g_assert_cmpuint (g_list_length (after), ==, g_list_length (before));
  for (GList *p = after; p != NULL; p = p->next)
    {
      g_autofree char *name = msg_body_part_get_raw_filename (p->data);

      g_assert_cmpstr (name, !=, hidden);
    }
  g_list_free_full (before, g_object_unref);
  g_list_free_full (after, g_object_unref);
}

static void
test_control_boundary (void)
{
  g_test_summary ("A boundary holding a control character is replaced by a fresh one, not made "
                  "a space: text that held the spaced form would read back as parts the "
                  "model never saw (fuzz-message).");
  assert_parts_read_back (CONTROL_BOUNDARY_MESSAGE, "hidden.exe", "boundary=\"B B\"");
}

/* A multipart inside a part of one with the same boundary, reached
 * through bare CRs, which GMime takes as line ends after a delimiter:
 * fuzz-message's finding of 2026-12-06, minimized (corpus input
 * nested-same-boundary). */
#define NESTED_SAME_BOUNDARY_MESSAGE                                      \
  "F:\nContent-Type:multipart/i;boundary=\"BOUNDARY\"\n\n--BOUNDARY\n"    \
  "Content-Type:multipart/i;boundary=S\n\n--S\rContent-Type:multipart/d;" \
  "boundary=\"BOUNDARY\"\r--S\n--BOUNDARY\r\r--S\rContent-Type:/s;name=u"

static void
test_nested_same_boundary (void)
{
  g_test_summary ("A nested multipart whose boundary is an enclosing one's gets a fresh boundary: "
                  "written as parsed, the enclosing multipart's next delimiter read back as its "
                  "own, and an attachment the model never listed appeared (fuzz-message).");
  assert_parts_read_back (NESTED_SAME_BOUNDARY_MESSAGE, "u", NULL);
}

static void
test_filename_safe (void)
{
  g_autoptr (MsgMessage) message = parse (PARAMETER_MESSAGE);
  g_autoptr (MsgBodyPart) part = first_attachment (message);
  g_autofree char *name = msg_body_part_get_filename (part);
  g_autofree char *raw = msg_body_part_get_raw_filename (part);
  g_autofree char *property = NULL;

  g_test_summary ("get_filename is a base name without controls; get_raw_filename the value as stated.");
  g_assert_cmpstr (name, ==, "x  Bcc: evil2@example.net");
  g_assert_cmpstr (raw, ==, "../../x  Bcc: evil2@example.net");
  g_object_get (part, "filename", &property, NULL);
  g_assert_cmpstr (property, ==, name);
}

static void
test_filename_cases (void)
{
  static const struct
  {
    const char *disposition;
    const char *safe;
  } cases[] = {
    { "attachment; filename=\"..\\\\..\\\\win.ini\"", "win.ini" },
    { "attachment; filename=\"/etc/passwd\"", "passwd" },
    { "attachment; filename=\"..\"", NULL },
    { "attachment; filename=\"a/\"", NULL },
    /* C0 controls in a parameter are already spaces once parsed. */
    { "attachment; filename*=utf-8''%1B%5B31mred%07", " [31mred " },
    { "attachment; filename*=utf-8''%C2%9Bx", "_x" },
    { "attachment; filename=\"report.pdf\"", "report.pdf" },
  };

  g_test_summary ("get_filename keeps the last component and replaces C0, DEL and C1 controls.");
  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = g_strdup_printf ("From: a@example.test\r\n"
                                               "Content-Type: application/octet-stream\r\n"
                                               "Content-Disposition: %s\r\n"
                                               "\r\n"
                                               "x\r\n",
                                               cases[i].disposition);
      g_autoptr (MsgMessage) message = parse (text);
      g_autoptr (MsgBodyPart) part = first_attachment (message);
      g_autofree char *name = msg_body_part_get_filename (part);

      g_assert_cmpstr (name, ==, cases[i].safe);
    }
}

static void
test_save_into_directory (void)
{
  g_autofree char *parent = msg_test_make_temp_dir ();
  g_autofree char *dir = g_build_filename (parent, "in", "deep", NULL);
  g_autoptr (MsgMessage) message = parse (PARAMETER_MESSAGE);
  g_autoptr (MsgBodyPart) part = first_attachment (message);
  g_autoptr (GError) error = NULL;
  g_autofree char *saved = NULL;
  g_autofree char *contents = NULL;
  g_autoptr (GDir) handle = NULL;
  const char *entry;
  guint       n = 0;

  g_test_summary ("save_to_file into a directory writes the safe name inside it, never outside.");
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (msg_body_part_save_to_file (part, dir, &error));
  g_assert_no_error (error);
  saved = g_build_filename (dir, "x  Bcc: evil2@example.net", NULL);
  contents = read_file (saved);
  g_assert_cmpstr (contents, ==, "hi");

  /* Nothing else appeared, here or above. */
  handle = g_dir_open (dir, 0, NULL);
  while ((entry = g_dir_read_name (handle)) != NULL)
    n++;
  g_assert_cmpuint (n, ==, 1);
  g_clear_pointer (&handle, g_dir_close);
  n = 0;
  handle = g_dir_open (parent, 0, NULL);
  while ((entry = g_dir_read_name (handle)) != NULL)
    {
      g_assert_cmpstr (entry, ==, "in");
      n++;
    }
  g_assert_cmpuint (n, ==, 1);
  msg_test_remove_tree (parent);
}

static void
test_save_into_directory_no_name (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgMessage) message = parse ("From: a@example.test\r\n"
                                          "Content-Type: application/octet-stream\r\n"
                                          "Content-Disposition: attachment; filename=\"..\"\r\n"
                                          "\r\n"
                                          "x\r\n");
  g_autoptr (MsgBodyPart) part = first_attachment (message);
  g_autoptr (GError) error = NULL;

  g_test_summary ("A part without a usable name is not saved into a directory: a clear error.");
  g_assert_false (msg_body_part_save_to_file (part, dir, &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT);
  g_assert_nonnull (strstr (error->message, "file name"));
  msg_test_remove_tree (dir);
}

/* Item 3 */

static void
test_news_pickup (void)
{
  g_autoptr (MsgMessage) message = msg_message_new ();
  g_autofree char *contents = NULL;
  g_autofree char *headers = NULL;

  g_test_summary ("A post in the news pickup directory carries no Bcc and no receipt requests.");
  g_assert_true (msg_message_set_from (message, "alice@example.test", NULL));
  g_assert_true (msg_message_set_bcc (message, "hidden@example.test", NULL));
  g_assert_true (msg_message_set_newsgroups (message, "local.test", NULL));
  g_assert_true (msg_message_set_subject (message, "Post", NULL));
  g_assert_true (msg_message_set_header (message, "Return-Receipt-To", "alice@example.test", NULL));
  msg_message_set_mdn_requested (message, TRUE);
  msg_message_set_text_body (message, "Hello group.\n");

  contents = through_pickup (message, TRUE);
  headers = header_block (contents);
  g_assert_true (has_line (headers, "Newsgroups: local.test"));
  g_assert_false (has_line (headers, "Bcc:"));
  g_assert_false (has_line (headers, "Disposition-Notification-To:"));
  g_assert_false (has_line (headers, "Return-Receipt-To:"));
  g_assert_null (strstr (contents, "hidden@example.test"));
}

static void
test_mail_pickup_keeps_bcc (void)
{
  g_autoptr (MsgMessage) message = msg_message_new ();
  g_autofree char *contents = NULL;

  g_test_summary ("A mail pickup file keeps Bcc for the consuming MTA.");
  g_assert_true (msg_message_set_from (message, "alice@example.test", NULL));
  g_assert_true (msg_message_set_to (message, "bob@example.test", NULL));
  g_assert_true (msg_message_set_bcc (message, "hidden@example.test", NULL));
  msg_message_set_text_body (message, "Hi.\n");
  contents = through_pickup (message, FALSE);
  g_assert_true (has_line (contents, "Bcc: hidden@example.test"));
}

/* Item 4 */

static guint
mode_of (const char *path)
{
  GStatBuf st;

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  return st.st_mode & 07777;
}

static void
test_save_mode (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "m.eml", NULL);
  g_autoptr (MsgMessage) message = parse (BARE_CR_MESSAGE);
  g_autoptr (MsgBodyPart) part = NULL;
  g_autofree char *part_path = g_build_filename (dir, "part.bin", NULL);
  g_autoptr (GError) error = NULL;
  mode_t old_umask = umask (022);

  g_test_summary ("save_to_file creates 0600 files whatever the umask and keeps a replaced file's mode.");
  g_assert_true (msg_message_save_to_file (message, path, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (mode_of (path), ==, 0600);

  /* Replacing keeps the mode: a private file stays private, a shared one
   * stays shared. */
  g_assert_true (msg_message_save_to_file (message, path, &error));
  g_assert_cmpuint (mode_of (path), ==, 0600);
  g_assert_cmpint (g_chmod (path, 0640), ==, 0);
  g_assert_true (msg_message_save_to_file (message, path, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (mode_of (path), ==, 0640);

  /* Attachments saved by a part too. */
  message = (g_object_unref (message), parse (PARAMETER_MESSAGE));
  part = first_attachment (message);
  g_assert_true (msg_body_part_save_to_file (part, part_path, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (mode_of (part_path), ==, 0600);

  umask (old_umask);
  msg_test_remove_tree (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  msg_test_fixture_init ();

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, msg_test_fixture_setup, func, msg_test_fixture_teardown)
  g_test_add_func ("/security/bare-cr/model", test_bare_cr_model);
  g_test_add_func ("/security/bare-cr/written", test_bare_cr_written);
  g_test_add_func ("/security/bare-cr/pickup", test_bare_cr_pickup);
  ADD ("/security/bare-cr/smtp", test_bare_cr_smtp);
  g_test_add_func ("/security/bare-cr/part-header", test_bare_cr_part_header);
  g_test_add_func ("/security/unterminated-header", test_unterminated_header);
  g_test_add_func ("/security/parameter/regenerated", test_parameter_regenerated);
  g_test_add_func ("/security/promoted-part-fields", test_promoted_part_fields);
  g_test_add_func ("/security/parameter/control-boundary", test_control_boundary);
  g_test_add_func ("/security/parsed/nested-same-boundary", test_nested_same_boundary);
  g_test_add_func ("/security/parameter/many", test_parameter_many);
  g_test_add_func ("/security/parameter/unwritable-name", test_parameter_unwritable_name);
  ADD ("/security/parameter/smtp", test_parameter_smtp);
  g_test_add_func ("/security/parameter/pickup", test_parameter_pickup);
  g_test_add_func ("/security/filename/safe", test_filename_safe);
  g_test_add_func ("/security/filename/cases", test_filename_cases);
  g_test_add_func ("/security/filename/save-into-directory", test_save_into_directory);
  g_test_add_func ("/security/filename/save-into-directory-no-name", test_save_into_directory_no_name);
  g_test_add_func ("/security/news-pickup", test_news_pickup);
  g_test_add_func ("/security/mail-pickup-keeps-bcc", test_mail_pickup_keeps_bcc);
  g_test_add_func ("/security/save-mode", test_save_mode);

  return g_test_run ();
}
