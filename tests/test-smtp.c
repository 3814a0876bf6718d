/* test-smtp.c: the SMTP transport against scripted servers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-test-server.h"
#include "test-utils.h"

#include <string.h>

/* The protocol trace and warnings, as the log writer saw them. */
static GMutex   log_mutex;
static GString *log_text;

static GLogWriterOutput
log_writer (GLogLevelFlags   level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         user_data)
{
  const char *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal (fields[i].key, "MESSAGE"))
      message = fields[i].value;

  g_mutex_lock (&log_mutex);
  g_string_append_printf (log_text, "%s\n", message != NULL ? message : "");
  g_mutex_unlock (&log_mutex);

  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    {
      g_log_writer_default (level, fields, n_fields, user_data);
      g_test_fail ();
    }
  return G_LOG_WRITER_HANDLED;
}

static char *
steal_log (void)
{
  char *text;

  g_mutex_lock (&log_mutex);
  text = g_strdup (log_text->str);
  g_string_truncate (log_text, 0);
  g_mutex_unlock (&log_mutex);
  return text;
}

static unsigned         baseline_fds;
static GTlsCertificate *certificate;
static char            *ca_file;

typedef struct
{
  unsigned          n_fds;
  MsgTestServer    *server;
  MsgConfiguration *config;
  MsgTransport     *transport;
} Fixture;

static void
setup (Fixture      *f,
       gconstpointer data)
{
  f->n_fds = msg_test_wait_fds (baseline_fds, 1000);
  g_free (steal_log ());
}

static void
teardown (Fixture      *f,
          gconstpointer data)
{
  g_clear_object (&f->transport);
  g_clear_object (&f->config);
  if (f->server != NULL)
    {
      g_autofree char *server_error = NULL;

      g_assert_true (msg_test_server_wait_closed (f->server, 2000));
      server_error = msg_test_server_get_error (f->server);
      g_assert_null (server_error);
      g_clear_pointer (&f->server, msg_test_server_free);
    }
  g_assert_cmpuint (msg_test_wait_fds (f->n_fds, 1000), ==, f->n_fds);
}

static void
set_field (Fixture    *f,
           const char *name,
           const char *value)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (msg_configuration_set_field (f->config, name, value, &error));
  g_assert_no_error (error);
}

/* A server playing @scripts (one per connection) and a transport pointed
 * at it with a 2 s exchange limit. */
static void
start_multi (Fixture           *f,
             const char *const *scripts)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *port = NULL;

  f->server = msg_test_server_new_multi (scripts);
  if (certificate != NULL)
    msg_test_server_set_tls (f->server, certificate);
  port = g_strdup_printf ("%u", msg_test_server_get_port (f->server));
  f->config = msg_configuration_new ();
  set_field (f, "smtpserver", "127.0.0.1");
  set_field (f, "smtpserverport", port);
  set_field (f, "smtpconnectiontimeout", "2");
  set_field (f, "smtpehloname", "client.example.test");
  set_field (f, "tlscafile", ca_file);
  f->transport = msg_transport_new_for_name ("smtp", f->config, &error);
  g_assert_no_error (error);
}

static void
start (Fixture    *f,
       const char *script)
{
  const char *const scripts[] = { script, NULL };

  start_multi (f, scripts);
}

static MsgMessage *
make_message (void)
{
  g_autoptr (GError) error = NULL;
  MsgMessage *message = msg_message_new ();

  g_assert_true (msg_message_set_from (message, "Alice <alice@example.test>", &error));
  g_assert_true (msg_message_set_to (message, "bob@example.test", &error));
  g_assert_true (msg_message_set_subject (message, "Hello", &error));
  g_assert_no_error (error);
  msg_message_set_text_body (message, "Hi Bob.\n.\nA dot line above.\n");
  return message;
}

static MsgSendReport *
send_ok (Fixture    *f,
         MsgMessage *message)
{
  g_autoptr (GError) error = NULL;
  MsgSendReport *report = msg_transport_send_message (f->transport, message, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (report);
  return report;
}

/* Sends and expects @domain/@code; returns the error message. */
static char *
send_fails (Fixture    *f,
            MsgMessage *message,
            GQuark      domain,
            int         code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgSendReport) report = msg_transport_send_message (f->transport, message, NULL, &error);

  g_assert_null (report);
  g_assert_error (error, domain, code);
  return g_strdup (error->message);
}

static char *
received (Fixture *f,
          unsigned index)
{
  g_autoptr (GBytes) bytes = msg_test_server_get_received (f->server, index);
  gsize size = bytes != NULL ? g_bytes_get_size (bytes) : 0;

  return g_strndup (size > 0 ? g_bytes_get_data (bytes, NULL) : "", size);
}

static gboolean
contains (const char *haystack,
          const char *needle)
{
  return strstr (haystack, needle) != NULL;
}

/* Script pieces. */
#define GREETING "line 220 mx.example.test ESMTP\n"
#define EHLO_BASIC             \
  "expect EHLO\n"              \
  "line 250-mx.example.test\n" \
  "line 250-SIZE 1000000\n"    \
  "line 250 8BITMIME\n"
#define TRANSACTION_ONE                        \
  "expect MAIL FROM:<alice@example.test>\n"    \
  "line 250 2.1.0 Ok\n"                        \
  "expect RCPT TO:<bob@example.test>\n"        \
  "line 250 2.1.5 Ok\n"                        \
  "expect DATA\n"                              \
  "line 354 End data with <CR><LF>.<CR><LF>\n" \
  "data\n"                                     \
  "line 250 2.0.0 Ok: queued as 4ABC\n"

static void
test_no_server (Fixture      *f,
                gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgMessage) message = make_message ();
  g_autofree char *text = NULL;

  g_test_summary ("Without smtpserver the send fails with NO_SERVER before any I/O.");
  f->transport = msg_transport_new_for_name ("smtp", NULL, &error);
  g_assert_no_error (error);
  text = send_fails (f, message, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_NO_SERVER);
  g_assert_true (contains (text, "smtpserver"));
}

static void
test_send_plain (Fixture      *f,
                 gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autofree char *wire = NULL;
  g_auto (GStrv) accepted = NULL;
  const MsgRecipientStatus *status;

  g_test_summary ("A plain send: EHLO, MAIL with SIZE, RCPT, DATA dot-stuffed, the report.");
  start (f, GREETING EHLO_BASIC TRANSACTION_ONE);
  report = send_ok (f, message);

  g_assert_cmpstr (msg_send_report_get_transport_name (report), ==, "smtp");
  g_assert_cmpstr (msg_send_report_get_server_response (report), ==, "2.0.0 Ok: queued as 4ABC");
  g_assert_nonnull (msg_send_report_get_message_id (report));
  accepted = msg_send_report_get_accepted_recipients (report);
  g_assert_cmpuint (g_strv_length (accepted), ==, 1);
  g_assert_cmpstr (accepted[0], ==, "bob@example.test");
  status = msg_send_report_get_recipient_status (report, "bob@example.test");
  g_assert_nonnull (status);
  g_assert_cmpuint (msg_recipient_status_get_code (status), ==, 250);
  g_assert_cmpstr (msg_recipient_status_get_enhanced_status (status), ==, "2.1.5");

  g_clear_object (&f->transport);
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  wire = received (f, 0);
  g_assert_true (g_str_has_prefix (wire, "EHLO client.example.test\r\nMAIL FROM:<alice@example.test> SIZE="));
  g_assert_true (contains (wire, "\r\nRCPT TO:<bob@example.test>\r\nDATA\r\n"));
  g_assert_true (contains (wire, "\r\n\r\nHi Bob.\r\n..\r\nA dot line above.\r\n.\r\n"));
  g_assert_true (g_str_has_suffix (wire, "\r\n.\r\n"));
  g_assert_false (contains (wire, "Bcc"));
}

int
main (int    argc,
      char **argv)
{
  g_setenv ("G_MESSAGES_DEBUG", "msgobj", TRUE);
  log_text = g_string_new (NULL);
  g_log_set_writer_func (log_writer, NULL, NULL);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  certificate = msg_test_make_tls_certificate (NULL, &ca_file);
  baseline_fds = msg_test_wait_fds (0, 200);

#define ADD(path, func) g_test_add (path, Fixture, NULL, setup, func, teardown)
  ADD ("/smtp/validate/no-server", test_no_server);
  ADD ("/smtp/send/plain", test_send_plain);

  {
    int result = g_test_run ();

    g_clear_object (&certificate);
    g_free (ca_file);
    g_string_free (log_text, TRUE);
    return result;
  }
}
