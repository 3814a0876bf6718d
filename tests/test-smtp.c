/* test-smtp.c: the SMTP transport against scripted servers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-test-server.h"
#include "test-utils.h"

#include <glib/gstdio.h>
#include <string.h>

typedef MsgTestFixture Fixture;

/* A server playing @scripts (one per connection) and a transport pointed
 * at it. */
static void
start_multi (Fixture           *f,
             const char *const *scripts)
{
  msg_test_fixture_start (f, "smtp", scripts);
}

static void
start (Fixture    *f,
       const char *script)
{
  const char *const scripts[] = { script, NULL };

  start_multi (f, scripts);
}

/* Basic authentication (smtpauthenticate 1) as @user with @password. */
static void
set_basic_auth (Fixture    *f,
                const char *user,
                const char *password)
{
  msg_test_set_field (f, "smtpauthenticate", "1");
  msg_test_set_field (f, "sendusername", user);
  msg_test_set_field (f, "sendpassword", password);
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
  return msg_test_server_get_received_text (f->server, index);
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
test_relays_failover (Fixture      *f,
                      gconstpointer data)
{
  const char *const scripts[] = { GREETING EHLO_BASIC TRANSACTION_ONE, GREETING EHLO_BASIC TRANSACTION_ONE, NULL };
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (MsgSendReport) report2 = NULL;
  g_autofree char *relays = NULL;
  g_autofree char *dead = NULL;
  g_autofree char *text = NULL;
  GPtrArray       *hole;
  guint16          hole_port;
  guint16          dead_port;
  guint16          dead_port2;
  g_autoptr (GSocket) refuser = msg_test_dead_port_new (&dead_port);
  g_autoptr (GSocket) refuser2 = msg_test_dead_port_new (&dead_port2);
  gint64 start_time;

  g_test_summary ("With a list of relays, a send that finds the first refusing the "
                  "connection, or not answering it (a black hole), goes through the next; "
                  "when every relay refuses, the error names each.");
  start_multi (f, scripts);
  relays = g_strdup_printf ("127.0.0.1:%u, 127.0.0.1:%u", dead_port, msg_test_server_get_port (f->server));
  msg_test_set_field (f, "smtpserver", relays);
  report = send_ok (f, message);
  g_assert_cmpuint (msg_send_report_get_server_code (report), ==, 250);

  /* The black hole holds the connect until its time-out (0.3 s), which
   * then moves on; the connection kept to the first relay is not reused
   * since the list changed. */
  hole = msg_test_black_hole_new (&hole_port);
  g_clear_pointer (&relays, g_free);
  relays = g_strdup_printf ("127.0.0.1:%u, 127.0.0.1:%u", hole_port, msg_test_server_get_port (f->server));
  msg_test_set_field (f, "smtpserver", relays);
  msg_test_set_field (f, "smtpconnectiontimeout", "0.3");
  start_time = g_get_monotonic_time ();
  report2 = send_ok (f, message);
  /* Generous: the time-out and a loaded machine's connect and session. */
  msg_test_assert_elapsed_below (start_time, 5000);
  msg_transport_close (f->transport, NULL, NULL);
  msg_test_black_hole_free (hole);

  dead = g_strdup_printf ("127.0.0.1:%u,127.0.0.1:%u", dead_port, dead_port2);
  msg_test_set_field (f, "smtpserver", dead);
  text = send_fails (f, message, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_clear_pointer (&dead, g_free);
  dead = g_strdup_printf ("%u", dead_port);
  g_assert_true (contains (text, dead));
  g_clear_pointer (&dead, g_free);
  dead = g_strdup_printf ("%u", dead_port2);
  g_assert_true (contains (text, dead));
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
  g_assert_cmpstr (msg_send_report_get_server_response (report), ==, "250 2.0.0 Ok: queued as 4ABC");
  g_assert_cmpuint (msg_send_report_get_server_code (report), ==, 250);
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

static void
test_send_final_reply_multiline (Fixture      *f,
                                 gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;

  g_test_summary ("The report keeps the whole final reply, each line with its code as the server wrote it.");
  start (f, GREETING EHLO_BASIC
         "expect MAIL FROM:<alice@example.test>\n"
         "line 250 2.1.0 Ok\n"
         "expect RCPT TO:<bob@example.test>\n"
         "line 250 2.1.5 Ok\n"
         "expect DATA\n"
         "line 354 go\n"
         "data\n"
         "line 250-2.0.0 Ok: queued as 5DEF\n"
         "line 250 2.0.0 Thank you\n");
  report = send_ok (f, message);
  g_assert_cmpstr (msg_send_report_get_server_response (report), ==,
                   "250-2.0.0 Ok: queued as 5DEF\n250 2.0.0 Thank you");
  g_assert_cmpuint (msg_send_report_get_server_code (report), ==, 250);
}

static void
test_server_without_sendusing (Fixture      *f,
                               gconstpointer data)
{
  const char *const scripts[] = { GREETING EHLO_BASIC TRANSACTION_ONE, NULL };
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *server = NULL;

  g_test_summary ("With smtpserver set (here as host:port) and sendusing never set, "
                  "msg_message_send sends by SMTP, not to the pickup directory.");
  msg_test_fixture_start_server (f, "smtp", scripts, "10");
  server = g_strdup_printf ("127.0.0.1:%u", msg_test_server_get_port (f->server));
  msg_test_set_field (f, "smtpserverport", NULL);
  msg_test_set_field (f, "smtpserver", server);
  g_assert_false (msg_configuration_is_field_set (f->config, "sendusing"));
  msg_message_set_configuration (message, f->config);

  report = msg_message_send (message, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (msg_send_report_get_transport_name (report), ==, "smtp");
  g_assert_null (msg_send_report_get_pickup_file (report));
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 1);
}

static char *
b64 (const char *text,
     gsize       length)
{
  return g_base64_encode ((const guchar *) text, length);
}

static void
test_validate_injection (Fixture      *f,
                         gconstpointer data)
{
  static const char *const senders[] = {
    "\"a>b\"@example.test",
    "\"a<b\"@example.test",
    "a b@example.test",
  };

  g_test_summary ("Envelope addresses that could break out of a command are refused "
                  "before any I/O (sendemailaddress bypasses the header setters).");
  start (f, GREETING);
  for (guint i = 0; i < G_N_ELEMENTS (senders); i++)
    {
      g_autoptr (MsgMessage) message = msg_message_new_with_configuration (f->config);
      g_autoptr (GError) error = NULL;
      g_autoptr (MsgSendReport) report = NULL;

      g_assert_true (msg_message_set_to (message, "bob@example.test", &error));
      msg_test_set_field (f, "sendemailaddress", senders[i]);
      report = msg_transport_send_message (f->transport, message, NULL, &error);
      g_assert_null (report);
      g_assert_true (g_error_matches (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ADDRESS) ||
                     g_error_matches (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_NO_SENDER));
    }
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 0);
}

static void
test_helo_fallback (Fixture      *f,
                    gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autofree char *wire = NULL;

  g_test_summary ("A server that refuses EHLO gets HELO and plain MAIL without extensions.");
  start (f, GREETING
         "expect EHLO client.example.test\n"
         "line 502 5.5.2 Error: command not recognized\n"
         "expect HELO client.example.test\n"
         "line 250 mx.example.test\n" TRANSACTION_ONE);
  report = send_ok (f, message);
  g_clear_object (&f->transport);
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  wire = received (f, 0);
  g_assert_true (contains (wire, "MAIL FROM:<alice@example.test>\r\n"));
}

static void
test_ehlo_automatic_name (Fixture      *f,
                          gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *wire = NULL;
  const char      *host = g_get_host_name ();
  gboolean         fqdn = strchr (host, '.') != NULL && strspn (host, "abcdefghijklmnopqrstuvwxyz"
                                                                              "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                                                              "0123456789-.") == strlen (host);
  g_autofree char *expected = g_strdup_printf ("EHLO %s\r\n", fqdn ? host : "[127.0.0.1]");

  g_test_summary ("Without smtpehloname, EHLO gives the host's FQDN, else the address "
                  "literal of the connection.");
  start (f, GREETING EHLO_BASIC TRANSACTION_ONE);
  g_assert_true (msg_configuration_reset_field (f->config, "smtpehloname", &error));
  g_assert_no_error (error);
  report = send_ok (f, message);
  wire = received (f, 0);
  g_assert_true (g_str_has_prefix (wire, expected));
}

static void
test_pipelining (Fixture      *f,
                 gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *wire = NULL;

  g_test_summary ("With PIPELINING (smtp-sink's EHLO, ending with an empty 250 line), "
                  "MAIL, every RCPT and DATA are sent before any reply is read.");
  /* The server reads the whole batch before it answers anything: a client
   * waiting for the MAIL reply would time out. */
  start (f, GREETING
         "expect EHLO\n"
         "send 250-mx.example.test\\r\\n250-PIPELINING\\r\\n250-8BITMIME\\r\\n250 \\r\\n\n"
         "expect MAIL FROM:<alice@example.test>\n"
         "expect RCPT TO:<bob@example.test>\n"
         "expect RCPT TO:<carol@example.test>\n"
         "expect RCPT TO:<dave@example.test>\n"
         "expect DATA\n"
         "send 250 Ok\\r\\n250 Ok\\r\\n250 Ok\\r\\n250 Ok\\r\\n354 go\\r\\n\n"
         "data\n"
         "line 250 Ok queued\n");
  g_assert_true (msg_message_set_cc (message, "carol@example.test, Bob <bob@example.test>", &error));
  g_assert_true (msg_message_set_bcc (message, "dave@example.test", &error));
  g_assert_no_error (error);
  report = send_ok (f, message);
  g_clear_object (&f->transport);
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  wire = received (f, 0);
  g_assert_true (contains (wire, "\r\nMAIL FROM:<alice@example.test>\r\n"
                                 "RCPT TO:<bob@example.test>\r\n"
                                 "RCPT TO:<carol@example.test>\r\n"
                                 "RCPT TO:<dave@example.test>\r\n"
                                 "DATA\r\n"));
  g_assert_false (contains (wire, "dave@example.test>\r\nBcc"));
  g_assert_false (contains (wire, "\r\nBcc:"));
}

static void
test_pipelining_batches (Fixture      *f,
                         gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GString) script = g_string_new (GREETING "expect EHLO\nline 250-mx\nline 250 PIPELINING\n"
                                                      "expect MAIL\n");
  g_autoptr (GString) to = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) accepted = NULL;
  g_autofree char *log = NULL;
  const char      *first_reply;

  g_test_summary ("250 recipients go in bounded pipelined batches (MAIL + 99 RCPT, "
                  "100 RCPT, 51 RCPT + DATA), each answered before the next is written.");
  for (guint i = 0; i < 250; i++)
    {
      g_string_append_printf (to, "%su%u@example.test", i > 0 ? ", " : "", i);
      g_string_append_printf (script, "expect RCPT TO:<u%u@example.test>\n", i);
      if (i == 98)
        {
          g_string_append (script, "line 250 mail ok\n");
          for (guint j = 0; j < 99; j++)
            g_string_append (script, "line 250 ok\n");
        }
      else if (i == 198)
        {
          for (guint j = 0; j < 100; j++)
            g_string_append (script, "line 250 ok\n");
        }
    }
  g_string_append (script, "expect DATA\n");
  for (guint j = 0; j < 51; j++)
    g_string_append (script, "line 250 ok\n");
  g_string_append (script, "line 354 go\ndata\nline 250 queued\n");
  start (f, script->str);
  g_assert_true (msg_message_set_to (message, to->str, &error));
  g_assert_no_error (error);
  g_free (msg_test_steal_log ());
  report = send_ok (f, message);
  accepted = msg_send_report_get_accepted_recipients (report);
  g_assert_cmpuint (g_strv_length (accepted), ==, 250);

  /* The trace shows each command when it is queued: the second batch only
   * after the replies to the first. */
  log = msg_test_steal_log ();
  first_reply = strstr (log, "S: 250 mail ok");
  g_assert_nonnull (first_reply);
  g_assert_true (strstr (log, "C: RCPT TO:<u98@example.test>") < first_reply);
  g_assert_true (strstr (log, "C: RCPT TO:<u99@example.test>") > first_reply);
}

static const char *const rcpt_rejected_scripts[] = {
  GREETING EHLO_BASIC
  "expect MAIL FROM:<alice@example.test>\n"
  "line 250 2.1.0 Ok\n"
  "expect RCPT TO:<bob@example.test>\n"
  "line 250 2.1.5 Ok\n"
  "expect RCPT TO:<nobody@example.test>\n"
  "line 550 5.1.1 <nobody@example.test>: Recipient address rejected: User unknown\n"
  "expect RSET\n"
  "line 250 2.0.0 Ok\n"
  /* The kept connection sends the next message. */
  TRANSACTION_ONE,
  NULL
};

static void
test_rcpt_rejected (Fixture      *f,
                    gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgMessage) second = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *wire = NULL;

  g_test_summary ("A rejected recipient fails the whole send with RECIPIENTS_REJECTED "
                  "naming it; no DATA; RSET; the connection serves the next message.");
  start_multi (f, rcpt_rejected_scripts);
  g_assert_true (msg_message_set_to (message, "bob@example.test, nobody@example.test", &error));
  text = send_fails (f, message, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_RECIPIENTS_REJECTED);
  g_assert_true (contains (text, "nobody@example.test: 550 5.1.1"));
  g_assert_true (contains (text, "User unknown"));
  g_assert_true (contains (text, "127.0.0.1"));
  g_assert_false (contains (text, "bob@example.test:"));

  report = send_ok (f, second);
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 1);
  wire = received (f, 0);
  g_assert_true (contains (wire, "RCPT TO:<nobody@example.test>\r\nRSET\r\nMAIL FROM:"));
}

static const char *const rcpt_rejected_pipelined_scripts[] = {
  GREETING
  "expect EHLO\n"
  "line 250-mx\n"
  "line 250 PIPELINING\n"
  "expect MAIL\n"
  "expect RCPT TO:<bob@example.test>\n"
  "expect RCPT TO:<nobody@example.test>\n"
  "expect DATA\n"
  "send 250 ok\\r\\n250 ok\\r\\n550 5.1.1 unknown user\\r\\n354 go ahead\\r\\n\n",
  GREETING
  "expect EHLO\n"
  "line 250-mx\n"
  "line 250 PIPELINING\n"
  "expect MAIL\n"
  "expect RCPT TO:<bob@example.test>\n"
  "expect DATA\n"
  "send 250 ok\\r\\n250 ok\\r\\n354 go ahead\\r\\n\n"
  "data\n"
  "line 250 queued\n",
  NULL
};

static void
test_rcpt_rejected_pipelined (Fixture      *f,
                              gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgMessage) second = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *wire = NULL;

  g_test_summary ("With PIPELINING, a rejected recipient after DATA's 354 drops the "
                  "connection rather than sending an empty message; the next send "
                  "connects afresh.");
  start_multi (f, rcpt_rejected_pipelined_scripts);
  g_assert_true (msg_message_set_to (message, "bob@example.test, nobody@example.test", &error));
  text = send_fails (f, message, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_RECIPIENTS_REJECTED);
  g_assert_true (contains (text, "nobody@example.test: 550 5.1.1 unknown user"));
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  wire = received (f, 0);
  g_assert_true (g_str_has_suffix (wire, "DATA\r\n"));

  report = send_ok (f, second);
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 2);
}

static void
test_partial (Fixture      *f,
              gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) accepted = NULL;
  g_auto (GStrv) rejected = NULL;
  const MsgRecipientStatus *status;

  g_test_summary ("smtpsendpartial delivers to the accepted recipients and reports the rest.");
  start (f, GREETING EHLO_BASIC
         "expect MAIL\n"
         "line 250 ok\n"
         "expect RCPT TO:<bob@example.test>\n"
         "line 250 2.1.5 ok\n"
         "expect RCPT TO:<nobody@example.test>\n"
         "line 550 5.1.1 no such user\n"
         "expect RCPT TO:<later@example.test>\n"
         "line 450 4.2.1 mailbox busy\n"
         "expect DATA\n"
         "line 354 go\n"
         "data\n"
         "line 250 2.0.0 queued as XYZ\n");
  msg_test_set_field (f, "smtpsendpartial", "true");
  g_assert_true (msg_message_set_to (message, "bob@example.test, nobody@example.test, later@example.test", &error));
  report = send_ok (f, message);
  accepted = msg_send_report_get_accepted_recipients (report);
  rejected = msg_send_report_get_rejected_recipients (report);
  g_assert_cmpuint (g_strv_length (accepted), ==, 1);
  g_assert_cmpuint (g_strv_length (rejected), ==, 2);
  status = msg_send_report_get_recipient_status (report, "nobody@example.test");
  g_assert_cmpuint (msg_recipient_status_get_code (status), ==, 550);
  g_assert_cmpstr (msg_recipient_status_get_enhanced_status (status), ==, "5.1.1");
  g_assert_cmpstr (msg_recipient_status_get_text (status), ==, "5.1.1 no such user");
  status = msg_send_report_get_recipient_status (report, "later@example.test");
  g_assert_cmpuint (msg_recipient_status_get_code (status), ==, 450);
  g_assert_cmpstr (msg_send_report_get_server_response (report), ==, "250 2.0.0 queued as XYZ");
}

typedef struct
{
  const char *name;
  const char *script;
  int         code;
  const char *text;
} ReplyCase;

static const ReplyCase reply_cases[] = {
  { "greeting-554", "line 554 5.3.2 go away\n", MSG_TRANSPORT_ERROR_FAILED, "554 5.3.2 go away" },
  { "greeting-421", "line 421 4.3.2 busy\n", MSG_TRANSPORT_ERROR_TEMPORARY_FAILURE, "421 4.3.2 busy" },
  { "mail-550",
    GREETING EHLO_BASIC "expect MAIL\nline 550 5.7.1 sender refused\nexpect RSET\nline 250 ok\n",
    MSG_TRANSPORT_ERROR_SENDER_REJECTED, "MAIL FROM): 550 5.7.1 sender refused" },
  { "mail-451",
    GREETING EHLO_BASIC "expect MAIL\nline 451 4.3.0 try later\nexpect RSET\nline 250 ok\n",
    MSG_TRANSPORT_ERROR_TEMPORARY_FAILURE, "451 4.3.0 try later" },
  { "rcpt-all-450",
    GREETING EHLO_BASIC "expect MAIL\nline 250 ok\nexpect RCPT\nline 450 4.2.0 greylisted\n"
                        "expect RSET\nline 250 ok\n",
    MSG_TRANSPORT_ERROR_RECIPIENTS_DEFERRED, "bob@example.test: 450 4.2.0 greylisted" },
  { "data-554",
    GREETING EHLO_BASIC "expect MAIL\nline 250 ok\nexpect RCPT\nline 250 ok\nexpect DATA\n"
                        "line 554 5.5.1 no valid recipients\nexpect RSET\nline 250 ok\n",
    MSG_TRANSPORT_ERROR_MESSAGE_REJECTED, "(DATA): 554 5.5.1 no valid recipients" },
  { "final-552",
    GREETING EHLO_BASIC "expect MAIL\nline 250 ok\nexpect RCPT\nline 250 ok\nexpect DATA\n"
                        "line 354 go\ndata\nline 552 5.3.4 message too big\nexpect RSET\nline 250 ok\n",
    MSG_TRANSPORT_ERROR_MESSAGE_REJECTED, "(end of DATA): 552 5.3.4 message too big" },
  { "final-451",
    GREETING EHLO_BASIC "expect MAIL\nline 250 ok\nexpect RCPT\nline 250 ok\nexpect DATA\n"
                        "line 354 go\ndata\nline 451 4.3.0 local error\nexpect RSET\nline 250 ok\n",
    MSG_TRANSPORT_ERROR_TEMPORARY_FAILURE, "451 4.3.0 local error" },
  { "ehlo-421", GREETING "expect EHLO\nline 421 4.3.2 shutting down\n",
    MSG_TRANSPORT_ERROR_TEMPORARY_FAILURE, "421 4.3.2 shutting down" },
  { "helo-refused", GREETING "expect EHLO\nline 500 what\nexpect HELO\nline 550 no\n",
    MSG_TRANSPORT_ERROR_FAILED, "HELO: 550 no" },
  { "size-over-limit",
    GREETING "expect EHLO\nline 250-mx\nline 250 SIZE 10\n",
    MSG_TRANSPORT_ERROR_MESSAGE_REJECTED, "larger than" },
  { "mail-unexpected-354",
    GREETING EHLO_BASIC "expect MAIL\nline 354 what\n",
    MSG_TRANSPORT_ERROR_PROTOCOL, "354 what" },
};

static void
test_reply (Fixture      *f,
            gconstpointer data)
{
  const ReplyCase *c = data;
  g_autoptr (MsgMessage) message = make_message ();
  g_autofree char *text = NULL;

  g_test_summary ("Each refusing reply gives its error code and a message naming the "
                  "server, the stage and the reply.");
  start (f, c->script);
  text = send_fails (f, message, MSG_TRANSPORT_ERROR, c->code);
  if (!contains (text, c->text))
    g_error ("“%s” does not contain “%s”", text, c->text);
  g_assert_true (contains (text, "127.0.0.1"));
}

static void
test_outcome_unknown_timeout (Fixture      *f,
                              gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autofree char *text = NULL;
  gint64           start_time;

  g_test_summary ("No reply after the final dot within the limit is OUTCOME_UNKNOWN.");
  start (f, GREETING EHLO_BASIC
         "expect MAIL\nline 250 ok\nexpect RCPT\nline 250 ok\nexpect DATA\nline 354 go\n"
         "data\nstall\n");
  msg_test_set_field (f, "smtpconnectiontimeout", "0.3");
  msg_test_set_field (f, "smtpoperationtimeout", "2");
  start_time = g_get_monotonic_time ();
  text = send_fails (f, message, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_OUTCOME_UNKNOWN);
  msg_test_assert_elapsed_below (start_time, 2000 + 100);
  g_assert_true (contains (text, "may or may not"));
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
}

static void
test_outcome_unknown_closed (Fixture      *f,
                             gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autofree char *text = NULL;

  g_test_summary ("A connection lost after the final dot is OUTCOME_UNKNOWN.");
  start (f, GREETING EHLO_BASIC
         "expect MAIL\nline 250 ok\nexpect RCPT\nline 250 ok\nexpect DATA\nline 354 go\n"
         "data\nclose\n");
  text = send_fails (f, message, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_OUTCOME_UNKNOWN);
}

typedef struct
{
  MsgTestServer *server;
  GCancellable  *cancellable;
} CancelData;

/* Cancels once the server has received the final dot: polled, so that the
 * cancel lands while the client waits for the reply. */
static gpointer
cancel_after_dot (gpointer user_data)
{
  CancelData *cd = user_data;

  for (guint i = 0; i < 5000; i++)
    {
      g_autoptr (GBytes) bytes = msg_test_server_get_received (cd->server, 0);
      gsize size = bytes != NULL ? g_bytes_get_size (bytes) : 0;

      if (size >= 5 && memcmp ((const char *) g_bytes_get_data (bytes, NULL) + size - 5, "\r\n.\r\n", 5) == 0)
        break;
      g_usleep (1000);
    }
  g_cancellable_cancel (cd->cancellable);
  return NULL;
}

static void
test_outcome_unknown_cancel (Fixture      *f,
                             gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgSendReport) report = NULL;
  CancelData cd;
  GThread   *thread;

  g_test_summary ("A cancellation after the final dot is OUTCOME_UNKNOWN, not CANCELLED.");
  start (f, GREETING EHLO_BASIC
         "expect MAIL\nline 250 ok\nexpect RCPT\nline 250 ok\nexpect DATA\nline 354 go\n"
         "data\nstall\n");
  msg_test_set_field (f, "smtpconnectiontimeout", "5");
  cd.server = f->server;
  cd.cancellable = cancellable;
  thread = g_thread_new ("cancel", cancel_after_dot, &cd);
  report = msg_transport_send_message (f->transport, message, cancellable, &error);
  g_thread_join (thread);
  g_assert_null (report);
  g_assert_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_OUTCOME_UNKNOWN);
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
}

static void
cancel_on_progress (MsgTransport *transport,
                    guint64       sent,
                    guint64       total,
                    gpointer      user_data)
{
  g_cancellable_cancel (user_data);
}

static void
test_cancel_mid_data (Fixture      *f,
                      gconstpointer data)
{
  static const char *const scripts[] = {
    GREETING EHLO_BASIC
    "expect MAIL\nline 250 ok\nexpect RCPT\nline 250 ok\nexpect DATA\nline 354 go\nwait-close\n",
    GREETING EHLO_BASIC TRANSACTION_ONE,
    NULL
  };
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgMessage) second = make_message ();
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GBytes) attachment = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgSendReport) report = NULL;
  g_autofree guint8 *blob = g_malloc0 (512 * 1024);
  g_autofree char   *wire = NULL;
  gulong             handler;

  g_test_summary ("A cancellation while the message is written fails with CANCELLED, the "
                  "server never sees the final dot, and the next send connects afresh.");
  attachment = g_bytes_new_take (g_steal_pointer (&blob), 512 * 1024);
  g_assert_nonnull (msg_message_add_attachment_bytes (message, attachment, "zeros.bin",
                                                      "application/octet-stream", &error));
  start_multi (f, scripts);
  handler = g_signal_connect (f->transport, "progress", G_CALLBACK (cancel_on_progress), cancellable);
  report = msg_transport_send_message (f->transport, message, cancellable, &error);
  g_assert_null (report);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_signal_handler_disconnect (f->transport, handler);
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  wire = received (f, 0);
  g_assert_true (contains (wire, "DATA\r\n"));
  g_assert_false (g_str_has_suffix (wire, "\r\n.\r\n"));

  g_clear_object (&report);
  report = send_ok (f, second);
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 2);
}

static void
test_timeout_greeting (Fixture      *f,
                       gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autofree char *text = NULL;
  gint64           start_time;

  g_test_summary ("A server that never greets times out within the exchange limit, "
                  "the stage named.");
  start (f, "stall\n");
  msg_test_set_field (f, "smtpconnectiontimeout", "0.2");
  msg_test_set_field (f, "smtpoperationtimeout", "0.5");
  start_time = g_get_monotonic_time ();
  text = send_fails (f, message, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  msg_test_assert_elapsed_below (start_time, 500 + 100);
  g_assert_true (contains (text, "greeting"));
}

static void
test_operation_timeout (Fixture      *f,
                        gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autofree char *text = NULL;
  gint64           start_time;

  g_test_summary ("smtpoperationtimeout bounds the whole send against a slow drip.");
  start (f, GREETING "expect EHLO\ndrip 1 50 250-mx.example.test\\r\\n250-PIPELINING\\r\\n250 8BITMIME\\r\\n\n");
  msg_test_set_field (f, "smtpconnectiontimeout", "10");
  msg_test_set_field (f, "smtpoperationtimeout", "0.3");
  start_time = g_get_monotonic_time ();
  text = send_fails (f, message, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  msg_test_assert_elapsed_below (start_time, 300 + 100);
  g_assert_true (contains (text, "total time limit"));
}

/* AUTH. */

static void
test_auth_plain (Fixture      *f,
                 gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autofree char *payload = b64 ("\0alice\0s3cret pass", 18);
  g_autofree char *script = g_strdup_printf (GREETING
                                             "expect EHLO\nline 250-mx\nline 250 AUTH LOGIN PLAIN\n"
                                             "expect AUTH PLAIN %s\nline 235 2.7.0 ok\n" TRANSACTION_ONE,
                                             payload);
  g_autofree char *log = NULL;

  g_test_summary ("AUTH PLAIN with an initial response; the trace redacts it.");
  start (f, script);
  msg_test_set_field (f, "smtpauthenticate", "basic");
  msg_test_set_field (f, "sendusername", "alice");
  msg_test_set_field (f, "sendpassword", "s3cret pass");
  msg_test_set_field (f, "smtpallowplaintextauth", "true");
  msg_test_set_field (f, "smtpauthmechanisms", "PLAIN");
  report = send_ok (f, message);
  log = msg_test_steal_log ();
  g_assert_true (contains (log, "AUTH PLAIN <redacted>"));
  g_assert_false (contains (log, payload));
  g_assert_false (contains (log, "s3cret"));
}

static void
test_auth_login (Fixture      *f,
                 gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autofree char *user = b64 ("alice", 5);
  g_autofree char *pass = b64 ("s3cret pass", 11);
  g_autofree char *script = g_strdup_printf (GREETING
                                             "expect EHLO\nline 250-mx\nline 250 AUTH LOGIN\n"
                                             "expect AUTH LOGIN\nline 334 VXNlcm5hbWU6\n"
                                             "expect %s\nline 334 UGFzc3dvcmQ6\n"
                                             "expect %s\nline 235 ok\n" TRANSACTION_ONE,
                                             user, pass);
  g_autofree char *log = NULL;

  g_test_summary ("AUTH LOGIN; the trace shows neither the user nor the password lines.");
  start (f, script);
  set_basic_auth (f, "alice", "s3cret pass");
  msg_test_set_field (f, "smtpallowplaintextauth", "true");
  msg_test_set_field (f, "smtpauthmechanisms", "LOGIN");
  report = send_ok (f, message);
  log = msg_test_steal_log ();
  g_assert_false (contains (log, pass));
  g_assert_false (contains (log, user));
  g_assert_false (contains (log, "s3cret"));
}

static void
test_auth_cram_md5 (Fixture      *f,
                    gconstpointer data)
{
  const char *challenge = "<1896.697170952@postoffice.reston.mci.net>";
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autofree char *challenge64 = b64 (challenge, strlen (challenge));
  g_autofree char *digest = g_compute_hmac_for_string (G_CHECKSUM_MD5, (const guchar *) "tanstaaftanstaaf", 16,
                                                       challenge, -1);
  g_autofree char *response = g_strdup_printf ("tim %s", digest);
  g_autofree char *response64 = b64 (response, strlen (response));
  g_autofree char *script = g_strdup_printf (GREETING
                                             "expect EHLO\nline 250-mx\nline 250 AUTH LOGIN PLAIN CRAM-MD5\n"
                                             "expect AUTH CRAM-MD5\nline 334 %s\n"
                                             "expect %s\nline 235 ok\n" TRANSACTION_ONE,
                                             challenge64, response64);

  g_test_summary ("CRAM-MD5 is preferred when offered, with RFC 2195's example digest.");
  g_assert_cmpstr (digest, ==, "b913a602c7eda7a495b4e6e7334d3890");
  start (f, script);
  set_basic_auth (f, "tim", "tanstaaftanstaaf");
  msg_test_set_field (f, "smtpallowplaintextauth", "true");
  report = send_ok (f, message);
}

static void
test_auth_xoauth2 (Fixture      *f,
                   gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autofree char *token = b64 ("user=alice@example.test\001auth=Bearer ya29.token\001\001", 48);
  g_autofree char *script = g_strdup_printf (GREETING
                                             "expect EHLO\nline 250-mx\nline 250 AUTH PLAIN XOAUTH2\n"
                                             "expect AUTH XOAUTH2 %s\n"
                                             "line 334 eyJzdGF0dXMiOiI0MDEifQ==\n"
                                             "read 1\n"
                                             "line 535 5.7.8 Username and Password not accepted\n",
                                             token);
  g_autofree char *text = NULL;
  g_autofree char *log = NULL;

  g_test_summary ("XOAUTH2 with a token when asked for by name; a refused token gets the "
                  "empty response and AUTHENTICATION_FAILED with the server's text.");
  start (f, script);
  set_basic_auth (f, "alice@example.test", "ya29.token");
  msg_test_set_field (f, "smtpauthmechanisms", "XOAUTH2");
  msg_test_set_field (f, "smtpallowplaintextauth", "true");
  text = send_fails (f, message, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED);
  g_assert_true (contains (text, "535 5.7.8 Username and Password not accepted"));
  g_assert_false (contains (text, "ya29"));
  log = msg_test_steal_log ();
  g_assert_false (contains (log, token));
  g_assert_false (contains (log, "ya29"));
}

static void
test_auth_xoauth2_ok (Fixture      *f,
                      gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autofree char *token = b64 ("user=alice@example.test\001auth=Bearer ya29.token\001\001", 48);
  g_autofree char *script = g_strdup_printf (GREETING
                                             "expect EHLO\nline 250-mx\nline 250 AUTH PLAIN XOAUTH2\n"
                                             "expect AUTH XOAUTH2 %s\nline 235 2.7.0 Accepted\n" TRANSACTION_ONE,
                                             token);

  g_test_summary ("XOAUTH2 with a valid token sends the message.");
  start (f, script);
  set_basic_auth (f, "alice@example.test", "ya29.token");
  msg_test_set_field (f, "smtpauthmechanisms", "XOAUTH2 PLAIN");
  msg_test_set_field (f, "smtpallowplaintextauth", "true");
  report = send_ok (f, message);
}

static void
test_auth_not_offered (Fixture      *f,
                       gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autofree char *text = NULL;

  g_test_summary ("Credentials configured but no AUTH offered: AUTHENTICATION_FAILED, "
                  "nothing sent after EHLO.");
  start (f, GREETING EHLO_BASIC);
  set_basic_auth (f, "alice", "hunter2");
  msg_test_set_field (f, "smtpallowplaintextauth", "true");
  text = send_fails (f, message, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED);
  g_assert_true (contains (text, "does not offer authentication"));
}

static void
test_auth_failed (Fixture      *f,
                  gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autofree char *text = NULL;

  g_test_summary ("535 is AUTHENTICATION_FAILED with the server's text, never the password.");
  start (f, GREETING "expect EHLO\nline 250-mx\nline 250 AUTH PLAIN\n"
                     "expect AUTH PLAIN\nline 535 5.7.8 Error: authentication failed\n");
  set_basic_auth (f, "alice", "hunter2");
  msg_test_set_field (f, "smtpallowplaintextauth", "true");
  msg_test_set_field (f, "smtpauthmechanisms", "PLAIN");
  text = send_fails (f, message, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED);
  g_assert_true (contains (text, "5.7.8 Error: authentication failed"));
  g_assert_false (contains (text, "hunter2"));
}

static void
test_auth_rounds (Fixture      *f,
                  gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autofree char *text = NULL;

  g_test_summary ("A server that keeps asking 334 gets at most 5 responses, then PROTOCOL.");
  start (f, GREETING "expect EHLO\nline 250-mx\nline 250 AUTH LOGIN\n"
                     "expect AUTH LOGIN\nline 334 VXNlcm5hbWU6\n"
                     "read 1\nline 334 UGFzc3dvcmQ6\n"
                     "read 1\nline 334 more\n"
                     "expect *\nline 334 more\n"
                     "expect *\nline 334 more\n"
                     "expect *\nline 334 more\n");
  set_basic_auth (f, "alice", "hunter2");
  msg_test_set_field (f, "smtpallowplaintextauth", "true");
  msg_test_set_field (f, "smtpauthmechanisms", "LOGIN");
  text = send_fails (f, message, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL);
  g_assert_true (contains (text, "AUTH"));
}

static void
test_auth_needs_tls (Fixture      *f,
                     gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autofree char *text = NULL;
  g_autofree char *wire = NULL;

  g_test_summary ("Without TLS and without smtpallowplaintextauth, no credential byte is "
                  "sent: TLS_UNAVAILABLE.");
  start (f, GREETING "expect EHLO\nline 250-mx\nline 250 AUTH PLAIN LOGIN\n");
  set_basic_auth (f, "alice", "hunter2");
  text = send_fails (f, message, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_TLS_UNAVAILABLE);
  g_assert_true (contains (text, "smtpallowplaintextauth"));
  g_assert_true (contains (text, "does not offer STARTTLS"));
  g_assert_false (contains (text, "hunter2"));
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  wire = received (f, 0);
  g_assert_cmpstr (wire, ==, "EHLO client.example.test\r\n");
}

static void
test_auth_no_plaintext_downgrade (Fixture      *f,
                                  gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autofree char *text = NULL;
  g_autofree char *wire = NULL;

  g_test_summary ("smtpallowplaintextauth without TLS: a server (or a man in the middle "
                  "who stripped CRAM-MD5) offering only PLAIN and LOGIN gets no credential "
                  "unless the caller names the mechanism.");
  start (f, GREETING "expect EHLO\nline 250-mx\nline 250 AUTH PLAIN LOGIN\n");
  set_basic_auth (f, "alice", "hunter2");
  msg_test_set_field (f, "smtpallowplaintextauth", "true");
  text = send_fails (f, message, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED);
  g_assert_true (contains (text, "smtpauthmechanisms"));
  g_assert_true (contains (text, "allowed are SCRAM-SHA-256 SCRAM-SHA-1 CRAM-MD5"));
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  wire = received (f, 0);
  g_assert_cmpstr (wire, ==, "EHLO client.example.test\r\n");
}

static void
test_auth_mechanism_setting (Fixture      *f,
                             gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autofree char *user = b64 ("alice", 5);
  g_autofree char *script = g_strdup_printf (GREETING
                                             "expect EHLO\nline 250-mx\nline 250 AUTH CRAM-MD5 PLAIN LOGIN\n"
                                             "expect AUTH LOGIN\nline 334 VXNlcm5hbWU6\n"
                                             "expect %s\nline 334 UGFzc3dvcmQ6\n"
                                             "read 1\nline 235 ok\n" TRANSACTION_ONE,
                                             user);

  g_test_summary ("smtpauthmechanisms restricts and orders the mechanisms.");
  start (f, script);
  set_basic_auth (f, "alice", "hunter2");
  msg_test_set_field (f, "smtpauthmechanisms", "LOGIN, PLAIN");
  msg_test_set_field (f, "smtpallowplaintextauth", "true");
  report = send_ok (f, message);
}

/* TLS. */

static void
test_starttls (Fixture      *f,
               gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autofree char *payload = b64 ("\0alice\0hunter2", 14);
  g_autofree char *script = g_strdup_printf (GREETING
                                             "expect EHLO\nline 250-mx\nline 250-STARTTLS\nline 250 SIZE\n"
                                             "expect STARTTLS\nline 220 2.0.0 Ready to start TLS\n"
                                             "starttls\n"
                                             "expect EHLO client.example.test\nline 250-mx\nline 250 AUTH PLAIN\n"
                                             "expect AUTH PLAIN %s\nline 235 ok\n"
                                             "expect MAIL FROM:<alice@example.test>\nline 250 ok\n"
                                             "expect RCPT\nline 250 ok\nexpect DATA\nline 354 go\ndata\n"
                                             "line 250 queued\n",
                                             payload);
  g_autofree char *wire = NULL;

  g_test_summary ("STARTTLS (opportunistic by default), EHLO again, capabilities "
                  "forgotten (no SIZE after TLS), then AUTH over TLS.");
  start (f, script);
  set_basic_auth (f, "alice", "hunter2");
  report = send_ok (f, message);
  g_clear_object (&f->transport);
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  wire = received (f, 0);
  g_assert_true (contains (wire, "MAIL FROM:<alice@example.test>\r\n"));
}

static void
test_starttls_new_capabilities (Fixture      *f,
                                gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autofree char *text = NULL;

  g_test_summary ("AUTH mechanisms offered before TLS are not used after it.");
  start (f, GREETING
         "expect EHLO\nline 250-mx\nline 250-STARTTLS\nline 250 AUTH PLAIN LOGIN\n"
         "expect STARTTLS\nline 220 go ahead\nstarttls\n"
         "expect EHLO\nline 250-mx\nline 250 AUTH XOAUTH2\n");
  set_basic_auth (f, "alice", "hunter2");
  text = send_fails (f, message, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED);
  g_assert_true (contains (text, "offers XOAUTH2"));
}

static void
test_starttls_injection (Fixture      *f,
                         gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autofree char *wire = NULL;

  g_test_summary ("Bytes after the STARTTLS go-ahead, before the handshake, are refused.");
  start (f, GREETING
         "expect EHLO\nline 250-mx\nline 250 STARTTLS\n"
         "expect STARTTLS\nsend 220 go ahead\\r\\n250-injected\\r\\n250 AUTH PLAIN\\r\\n\n");
  g_free (send_fails (f, message, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL));
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  wire = received (f, 0);
  g_assert_cmpstr (wire, ==, "EHLO client.example.test\r\nSTARTTLS\r\n");
}

static void
test_starttls_required (Fixture      *f,
                        gconstpointer data)
{
  static const char *const scripts[] = {
    GREETING "expect EHLO\nline 250-mx\nline 250 AUTH PLAIN\n",
    GREETING "expect EHLO\nline 250-mx\nline 250 STARTTLS\nexpect STARTTLS\nline 454 4.7.0 TLS not available\n",
    NULL
  };
  g_autoptr (MsgMessage) message = make_message ();
  g_autofree char *wire = NULL;

  g_test_summary ("smtpstarttls=required fails with TLS_UNAVAILABLE when the server lacks or "
                  "refuses STARTTLS; nothing more is sent.");
  start_multi (f, scripts);
  msg_test_set_field (f, "smtpstarttls", "required");
  g_free (send_fails (f, message, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_TLS_UNAVAILABLE));
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  wire = received (f, 0);
  g_assert_cmpstr (wire, ==, "EHLO client.example.test\r\n");
  g_free (send_fails (f, message, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_TLS_UNAVAILABLE));
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  g_free (wire);
  wire = received (f, 1);
  g_assert_cmpstr (wire, ==, "EHLO client.example.test\r\nSTARTTLS\r\n");
}

static void
test_starttls_never (Fixture      *f,
                     gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;

  g_test_summary ("smtpstarttls=never ignores an offered STARTTLS.");
  start (f, GREETING "expect EHLO\nline 250-mx\nline 250 STARTTLS\n" TRANSACTION_ONE);
  msg_test_set_field (f, "smtpstarttls", "never");
  report = send_ok (f, message);
}

static void
test_implicit_tls (Fixture      *f,
                   gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;

  g_test_summary ("smtpusessl connects with TLS at once and never sends STARTTLS, even "
                  "when offered.");
  start (f, "starttls\n" GREETING "expect EHLO\nline 250-mx\nline 250 STARTTLS\n" TRANSACTION_ONE);
  msg_test_set_field (f, "smtpusessl", "true");
  report = send_ok (f, message);
}

static void
test_tls_untrusted (Fixture      *f,
                    gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autofree char *text = NULL;
  g_autofree char *log = NULL;

  g_test_summary ("A certificate the client does not trust fails the handshake, with the "
                  "reason and the fix in words.");
  start (f, "starttls\n");
  msg_configuration_reset_field (f->config, "tlscafile", NULL);
  msg_test_set_field (f, "smtpusessl", "true");
  text = send_fails (f, message, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  /* The reason and the fixes, in words, in the error and in the trace. */
  g_assert_true (contains (text, "unknown issuer"));
  g_assert_true (contains (text, "tlscafile=FILE"));
  g_assert_true (contains (text, "tlsverify=false"));
  g_assert_false (contains (text, "0x"));
  log = msg_test_steal_log ();
  g_assert_true (contains (log, "unknown issuer"));
  /* The server's side of the handshake failed too, as it should. */
  msg_test_fixture_expect_server_error (f, "starttls: handshake failed");
}

static void
test_tls_wrong_name (Fixture      *f,
                     gconstpointer data)
{
  const char *const names[] = { "mail.example.test", NULL };
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GTlsCertificate) certificate = NULL;
  g_autofree char *ca_file = NULL;
  g_autofree char *text = NULL;

  g_test_summary ("A trusted certificate for another name fails with “host name mismatch” "
                  "and what to do, not only “unacceptable certificate”.");
  certificate = msg_test_make_tls_certificate (names, &ca_file);
  start (f, "starttls\n");
  msg_test_server_set_tls (f->server, certificate);
  msg_test_set_field (f, "tlscafile", ca_file);
  msg_test_set_field (f, "smtpusessl", "true");
  text = send_fails (f, message, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_test_message ("%s", text);
  g_assert_true (contains (text, "host name mismatch"));
  g_assert_false (contains (text, "unknown issuer"));
  g_assert_true (contains (text, "name the certificate was issued for"));
  g_assert_true (contains (text, "tlsverify=false"));
  msg_test_fixture_expect_server_error (f, "starttls: handshake failed");
}

static void
test_tls_no_verify (Fixture      *f,
                    gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autofree char *log = NULL;

  g_test_summary ("tlsverify=false accepts an untrusted certificate, with a warning.");
  start (f, "starttls\n" GREETING EHLO_BASIC TRANSACTION_ONE);
  msg_configuration_reset_field (f->config, "tlscafile", NULL);
  msg_test_set_field (f, "smtpusessl", "true");
  msg_test_set_field (f, "tlsverify", "false");
  report = send_ok (f, message);
  log = msg_test_steal_log ();
  g_assert_true (contains (log, "tlsverify is off"));
  g_assert_true (contains (log, "(unknown issuer)"));
  g_assert_false (contains (log, "flags 0x"));
}

static void
test_tls_relative_ca (Fixture      *f,
                      gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *dir = g_path_get_dirname (msg_test_fixture_get_ca_file ());
  g_autofree char *base = g_path_get_basename (msg_test_fixture_get_ca_file ());

  g_test_summary ("A relative tlscafile is found from the current directory (GIO's file "
                  "database takes absolute paths only).");
  start (f, "starttls\n" GREETING EHLO_BASIC TRANSACTION_ONE);
  msg_test_set_field (f, "smtpusessl", "true");
  msg_test_set_field (f, "tlscafile", base);
  g_assert_cmpint (g_chdir (dir), ==, 0);
  report = send_ok (f, message);
  g_assert_cmpint (g_chdir (cwd), ==, 0);
}

/* The kept connection. */

static void
test_reuse (Fixture      *f,
            gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) first = NULL;
  g_autoptr (MsgSendReport) second = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *wire = NULL;

  g_test_summary ("Two messages over one kept connection, no RSET after a success; "
                  "close sends QUIT.");
  start (f, GREETING EHLO_BASIC TRANSACTION_ONE TRANSACTION_ONE "expect QUIT\nline 221 bye\n");
  first = send_ok (f, message);
  second = send_ok (f, message);
  g_assert_true (msg_transport_close (f->transport, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 1);
  wire = received (f, 0);
  g_assert_false (contains (wire, "RSET"));
  g_assert_true (g_str_has_suffix (wire, "QUIT\r\n"));
  /* Closing again with nothing open does nothing. */
  g_assert_true (msg_transport_close (f->transport, NULL, &error));
}

static void
test_reuse_settings_changed (Fixture      *f,
                             gconstpointer data)
{
  static const char *const scripts[] = {
    GREETING EHLO_BASIC TRANSACTION_ONE,
    GREETING "expect EHLO other.example.test\nline 250 mx\n" TRANSACTION_ONE,
    NULL
  };
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) first = NULL;
  g_autoptr (MsgSendReport) second = NULL;

  g_test_summary ("A kept connection is not reused once the settings that shaped it change.");
  start_multi (f, scripts);
  first = send_ok (f, message);
  msg_test_set_field (f, "smtpehloname", "other.example.test");
  second = send_ok (f, message);
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 2);
}

static void
test_reuse_setting_changed (Fixture      *f,
                            gconstpointer data)
{
  static const char *const scripts[] = {
    GREETING EHLO_BASIC
    "expect MAIL\nline 250 ok\n"
    "expect RCPT TO:<bob@example.test>\nline 250 ok\n"
    "expect RCPT TO:<nobody@example.test>\nline 550 5.1.1 no such user\n"
    "expect RSET\nline 250 ok\n"
    /* The same connection, now with smtpsendpartial. */
    "expect MAIL\nline 250 ok\n"
    "expect RCPT TO:<bob@example.test>\nline 250 ok\n"
    "expect RCPT TO:<nobody@example.test>\nline 550 5.1.1 no such user\n"
    "expect DATA\nline 354 go\ndata\nline 250 queued\n",
    NULL
  };
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_auto (GStrv) accepted = NULL;

  g_test_summary ("A setting that does not shape the connection (smtpsendpartial), changed "
                  "between two sends, keeps the connection and applies to the next send: "
                  "the transport's kept settings are read again (docs/design.md, decision 20).");
  start_multi (f, scripts);
  g_assert_true (msg_message_set_to (message, "bob@example.test, nobody@example.test", &error));
  text = send_fails (f, message, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_RECIPIENTS_REJECTED);
  msg_test_set_field (f, "smtpsendpartial", "true");
  report = send_ok (f, message);
  accepted = msg_send_report_get_accepted_recipients (report);
  g_assert_cmpuint (g_strv_length (accepted), ==, 1);
  g_assert_cmpstr (accepted[0], ==, "bob@example.test");
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 1);
}

static void
test_reuse_server_closed (Fixture      *f,
                          gconstpointer data)
{
  static const char *const scripts[] = {
    GREETING EHLO_BASIC
    "expect MAIL\nline 250 ok\nexpect RCPT\nline 250 ok\nexpect DATA\nline 354 go\ndata\n"
    /* The 421 comes in the same write as the final reply. */
    "send 250 queued\\r\\n421 4.4.2 idle timeout\\r\\n\nclose\n",
    GREETING EHLO_BASIC TRANSACTION_ONE,
    NULL
  };
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) first = NULL;
  g_autoptr (MsgSendReport) second = NULL;
  g_autofree char *log = NULL;

  g_test_summary ("A kept connection on which the server sent something unasked (421) is "
                  "dropped; the next send connects afresh.");
  start_multi (f, scripts);
  first = send_ok (f, message);
  second = send_ok (f, message);
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 2);
  log = msg_test_steal_log ();
  g_assert_true (contains (log, "unasked data"));
}

static void
test_reuse_dropped_before_mail (Fixture      *f,
                                gconstpointer data)
{
  static const char *const scripts[] = {
    /* The kept connection dies at the next MAIL without an answer. */
    GREETING EHLO_BASIC TRANSACTION_ONE "expect MAIL\nclose\n",
    /* This one says 421 to the next MAIL. */
    GREETING EHLO_BASIC TRANSACTION_ONE "expect MAIL\nline 421 4.4.2 mx idle timeout\nclose\n",
    GREETING EHLO_BASIC TRANSACTION_ONE,
    /* Once more: a fresh connection that fails is not retried. */
    GREETING EHLO_BASIC "expect MAIL\nclose\n",
    NULL
  };
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) first = NULL;
  g_autoptr (MsgSendReport) second = NULL;
  g_autofree char *text = NULL;

  g_test_summary ("A kept connection that closes (silently or with 421) before answering "
                  "MAIL is replaced once, transparently; a new connection that does the "
                  "same fails.");
  start_multi (f, scripts);
  first = send_ok (f, message);
  second = send_ok (f, message);
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 2);
  g_clear_object (&second);
  second = send_ok (f, message);
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 3);
  g_clear_object (&f->transport);
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  f->transport = msg_transport_new_for_name ("smtp", f->config, NULL);
  text = send_fails (f, message, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
  g_assert_true (contains (text, "MAIL FROM"));
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 4);
}

static void
test_dispose_no_wait (Fixture      *f,
                      gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  gint64 start_time;

  g_test_summary ("Disposing of a transport with a kept connection closes it at once, "
                  "without QUIT, even when the server has stopped reading.");
  start (f, GREETING EHLO_BASIC TRANSACTION_ONE "stop-reading\n");
  report = send_ok (f, message);
  start_time = g_get_monotonic_time ();
  g_clear_object (&f->transport);
  msg_test_assert_elapsed_below (start_time, 100);
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  {
    g_autofree char *wire = received (f, 0);

    g_assert_false (contains (wire, "QUIT"));
  }
}

static void
test_close_quit_stall (Fixture      *f,
                       gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  gint64 start_time;

  g_test_summary ("close() with a server that never answers QUIT returns within the limit "
                  "with the connection closed.");
  start (f, GREETING EHLO_BASIC TRANSACTION_ONE "expect QUIT\nstall\n");
  msg_test_set_field (f, "smtpconnectiontimeout", "0.3");
  report = send_ok (f, message);
  start_time = g_get_monotonic_time ();
  g_assert_false (msg_transport_close (f->transport, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  msg_test_assert_elapsed_below (start_time, 300 + 100);
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
}

/* Extensions. */

static void
test_dsn (Fixture      *f,
          gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;

  g_test_summary ("dsn-options become NOTIFY, RET and an xtext ENVID when DSN is offered.");
  start (f, GREETING "expect EHLO\nline 250-mx\nline 250 DSN\n"
                     "expect MAIL FROM:<alice@example.test> RET=HDRS ENVID=a+2Bb+3Dc@example.test\n"
                     "line 250 ok\n"
                     "expect RCPT TO:<bob@example.test> NOTIFY=SUCCESS,FAILURE\nline 250 ok\n"
                     "expect DATA\nline 354 go\ndata\nline 250 ok\n");
  g_assert_true (msg_message_set_message_id (message, "a+b=c@example.test", &error));
  g_assert_no_error (error);
  msg_message_set_dsn_options (message, MSG_DSN_SUCCESS | MSG_DSN_FAILURE | MSG_DSN_RETURN_HEADERS);
  report = send_ok (f, message);
}

static void
test_dsn_long_envid (Fixture      *f,
                     gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *local = g_strnfill (400, 'a');
  g_autofree char *id = g_strdup_printf ("%s@example.test", local);
  g_autofree char *wire = NULL;
  g_autofree char *fits = NULL;

  g_test_summary ("A long but valid Message-ID: the ENVID is left out past RFC 3461's 100 "
                  "characters, so MAIL stays within 512 octets and the send works; an "
                  "ENVID of exactly 100 characters is sent.");
  start (f, GREETING "expect EHLO\nline 250-mx\nline 250 DSN\n"
                     "expect MAIL FROM:<alice@example.test> RET=HDRS\nline 250 ok\n"
                     "expect RCPT TO:<bob@example.test> NOTIFY=FAILURE\nline 250 ok\n"
                     "expect DATA\nline 354 go\ndata\nline 250 ok\n"
                     "expect MAIL FROM:<alice@example.test> RET=HDRS ENVID=\nline 250 ok\n"
                     "expect RCPT\nline 250 ok\n"
                     "expect DATA\nline 354 go\ndata\nline 250 ok\n");
  g_assert_true (msg_message_set_message_id (message, id, &error));
  g_assert_no_error (error);
  msg_message_set_dsn_options (message, MSG_DSN_FAILURE | MSG_DSN_RETURN_HEADERS);
  report = send_ok (f, message);
  g_clear_object (&report);

  /* 88 + "@example.test" = 100 characters of xtext. */
  g_free (local);
  local = g_strnfill (87, 'b');
  fits = g_strdup_printf ("%s@example.test", local);
  g_assert_cmpuint (strlen (fits), ==, 100);
  g_assert_true (msg_message_set_message_id (message, fits, &error));
  g_assert_no_error (error);
  report = send_ok (f, message);

  g_clear_object (&f->transport);
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  wire = received (f, 0);
  g_assert_true (contains (wire, "RET=HDRS\r\n"));
  g_assert_false (contains (wire, "ENVID=aaaa"));
  {
    g_autofree char *expected = g_strdup_printf (" ENVID=%s\r\n", fits);

    g_assert_true (contains (wire, expected));
  }
  for (const char *line = wire; line != NULL && *line != '\0';)
    {
      const char *end = strstr (line, "\r\n");

      if (g_str_has_prefix (line, "MAIL") || g_str_has_prefix (line, "RCPT"))
        g_assert_cmpint (end - line + 2, <=, 512);
      line = end != NULL ? end + 2 : NULL;
    }
}

static void
test_8bitmime (Fixture      *f,
               gconstpointer data)
{
  static const char        raw[] = "From: alice@example.test\r\n"
                                   "To: bob@example.test\r\n"
                                   "Subject: 8bit\r\n"
                                   "MIME-Version: 1.0\r\n"
                                   "Content-Type: text/plain; charset=utf-8\r\n"
                                   "Content-Transfer-Encoding: 8bit\r\n"
                                   "\r\n"
                                   "Gr\xc3\xbc\xc3\x9f"
                                   "e aus K\xc3\xb6ln\r\n";
  static const char *const scripts[] = {
    GREETING EHLO_BASIC
    "expect MAIL FROM:<alice@example.test> SIZE=\n"
    "line 250 ok\nexpect RCPT\nline 250 ok\nexpect DATA\nline 354 go\ndata\nline 250 ok\n",
    GREETING "expect EHLO\nline 250 mx\n"
             "expect MAIL FROM:<alice@example.test>\n"
             "line 250 ok\nexpect RCPT\nline 250 ok\nexpect DATA\nline 354 go\ndata\nline 250 ok\n",
    NULL
  };
  g_autoptr (GBytes) bytes = g_bytes_new_static (raw, sizeof raw - 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgMessage) message = msg_message_new_from_bytes (bytes, &error);
  g_autoptr (MsgSendReport) report = NULL;
  g_autofree char *wire = NULL;
  g_autofree char *wire2 = NULL;

  g_test_summary ("8-bit content is announced with BODY=8BITMIME; a server without 8BITMIME "
                  "gets it re-encoded (base64 or quoted-printable), and the message is left as it "
                  "was.");
  g_assert_no_error (error);
  g_assert_true (msg_message_has_8bit_content (message));
  start_multi (f, scripts);
  report = send_ok (f, message);
  wire = received (f, 0);
  g_assert_true (contains (wire, " BODY=8BITMIME\r\n"));
  g_assert_true (contains (wire, "Gr\xc3\xbc\xc3\x9f"));
  g_clear_object (&report);

  msg_test_set_field (f, "smtpehloname", "other.example.test");
  report = send_ok (f, message);
  g_clear_object (&f->transport);
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  wire2 = received (f, 1);
  g_assert_false (contains (wire2, "BODY=8BITMIME"));
  /* Mostly 8-bit, so GMime chooses base64 over quoted-printable. */
  g_assert_true (contains (wire2, "Content-Transfer-Encoding: base64\r\n"));
  for (const char *p = wire2; *p != '\0'; p++)
    g_assert_cmpint ((guchar) *p, <, 0x80);
  g_assert_true (msg_message_has_8bit_content (message));
}

/* Asserts that the DATA in @wire has no byte above 127 (unless
 * @eight_bit_ok) and no line over 998 octets, and returns the SIZE
 * parameter of its MAIL command (0 if none). */
static guint64
check_data (const char *wire,
            gboolean    eight_bit_ok)
{
  const char *data = strstr (wire, "\r\nDATA\r\n");
  const char *size = strstr (wire, " SIZE=");
  const char *line;

  g_assert_nonnull (data);
  for (line = data + 8; *line != '\0';)
    {
      const char *end = strstr (line, "\r\n");

      g_assert_nonnull (end);
      g_assert_cmpint (end - line, <=, 998);
      for (const char *p = line; p < end; p++)
        if (!eight_bit_ok)
          g_assert_cmpint ((guchar) *p, <, 0x80);
      line = end + 2;
    }
  return size != NULL ? g_ascii_strtoull (size + 6, NULL, 10) : 0;
}

static void
test_8bit_smtputf8_only (Fixture      *f,
                         gconstpointer data)
{
  g_autoptr (GString) raw = g_string_new ("From: alice@example.test\r\n"
                                          "To: bob@example.test\r\n"
                                          "Subject: 8bit\r\n"
                                          "MIME-Version: 1.0\r\n"
                                          "Content-Type: text/plain; charset=utf-8\r\n"
                                          "Content-Transfer-Encoding: 8bit\r\n"
                                          "\r\n"
                                          "K\xc3\xb6ln ");
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgMessage) message = NULL;
  g_autoptr (MsgSendReport) report = NULL;
  g_autofree char *wire = NULL;
  const char      *data_start;
  guint64          size;

  g_test_summary ("Issue 14 item 7: a server offering SMTPUTF8 but not 8BITMIME gets a parsed "
                  "8-bit body with a 3,008-octet line re-encoded: no BODY=8BITMIME, no 8-bit "
                  "byte, no line over 998 octets, and a SIZE that matches.");
  for (int i = 0; i < 3000; i++)
    g_string_append_c (raw, "abcdefgh"[i % 8]);
  g_string_append (raw, "\r\n");
  bytes = g_bytes_new (raw->str, raw->len);
  message = msg_message_new_from_bytes (bytes, &error);
  g_assert_no_error (error);
  start (f, GREETING "expect EHLO\nline 250-mx\nline 250-SIZE 1000000\nline 250 SMTPUTF8\n"
                     "expect MAIL FROM:<alice@example.test> SIZE=\nline 250 ok\n"
                     "expect RCPT\nline 250 ok\nexpect DATA\nline 354 go\ndata\nline 250 ok\n");
  report = send_ok (f, message);
  g_clear_object (&f->transport);
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  wire = received (f, 0);
  g_assert_false (contains (wire, "BODY=8BITMIME"));
  size = check_data (wire, FALSE);
  data_start = strstr (wire, "\r\nDATA\r\n") + 8;
  /* SIZE counts the message, not the dot-stuffing and the final dot. */
  g_assert_cmpuint (size, ==, strlen (data_start) - 3);
  g_assert_true (contains (wire, "K=C3=B6ln abcdefgh"));
}

static void
test_long_lines (Fixture      *f,
                 gconstpointer data)
{
  g_autoptr (GString) raw = g_string_new ("From: alice@example.test\r\n"
                                          "To: bob@example.test\r\n"
                                          "Subject: long\r\n"
                                          "\r\n");
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgMessage) message = NULL;
  g_autoptr (MsgSendReport) report = NULL;
  g_autofree char *wire = NULL;

  g_test_summary ("A line over 998 octets is re-encoded even for a server with 8BITMIME: "
                  "no extension lifts RFC 5321's limit.");
  for (int i = 0; i < 3000; i++)
    g_string_append_c (raw, "0123456789"[i % 10]);
  g_string_append (raw, "\r\n");
  bytes = g_bytes_new (raw->str, raw->len);
  message = msg_message_new_from_bytes (bytes, &error);
  g_assert_no_error (error);
  start (f, GREETING EHLO_BASIC TRANSACTION_ONE);
  report = send_ok (f, message);
  g_clear_object (&f->transport);
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  wire = received (f, 0);
  check_data (wire, TRUE);
  g_assert_true (contains (wire, "Content-Transfer-Encoding: quoted-printable\r\n"));
}

static void
test_8bit_signed (Fixture      *f,
                  gconstpointer data)
{
  static const char raw[] = "From: alice@example.test\r\n"
                            "To: bob@example.test\r\n"
                            "Subject: signed\r\n"
                            "MIME-Version: 1.0\r\n"
                            "Content-Type: multipart/signed; boundary=s; "
                            "protocol=\"application/pgp-signature\"; micalg=pgp-sha256\r\n"
                            "\r\n"
                            "--s\r\n"
                            "Content-Type: text/plain; charset=utf-8\r\n"
                            "Content-Transfer-Encoding: 8bit\r\n"
                            "\r\n"
                            "K\xc3\xb6ln\r\n"
                            "--s\r\n"
                            "Content-Type: application/pgp-signature\r\n"
                            "\r\n"
                            "-----BEGIN PGP SIGNATURE-----\r\n"
                            "-----END PGP SIGNATURE-----\r\n"
                            "--s--\r\n";
  g_autoptr (GBytes) bytes = g_bytes_new_static (raw, sizeof raw - 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgMessage) message = msg_message_new_from_bytes (bytes, &error);
  g_autofree char *text = NULL;
  g_autofree char *wire = NULL;

  g_test_summary ("An 8-bit part inside multipart/signed cannot be re-encoded: a server "
                  "without 8BITMIME gets nothing, and the error says why.");
  g_assert_no_error (error);
  start (f, GREETING "expect EHLO\nline 250-mx\nline 250 SMTPUTF8\n");
  text = send_fails (f, message, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_NOT_SUPPORTED);
  g_assert_true (contains (text, "8BITMIME"));
  g_assert_true (contains (text, "multipart/signed"));
  g_assert_true (contains (text, "signature"));
  g_clear_object (&f->transport);
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  wire = received (f, 0);
  g_assert_false (contains (wire, "MAIL"));
}

static void
test_smtputf8 (Fixture      *f,
               gconstpointer data)
{
  static const char *const scripts[] = {
    GREETING EHLO_BASIC,
    GREETING "expect EHLO\nline 250-mx\nline 250-SMTPUTF8\nline 250 8BITMIME\n"
             "expect MAIL FROM:<alice@example.test>\nline 250 ok\n"
             "expect RCPT TO:<j\\xc3\\xb6rg@xn--4cab6c.se>\nline 250 ok\n"
             "expect DATA\nline 354 go\ndata\nline 250 ok\n",
    NULL
  };
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *wire = NULL;

  g_test_summary ("A non-ASCII local part needs SMTPUTF8: an error before MAIL without it, "
                  "MAIL ... SMTPUTF8 with it; IDN domains go as A-labels.");
  start_multi (f, scripts);
  g_assert_true (msg_message_set_to (message, "jörg@åäö.se", &error));
  g_assert_no_error (error);
  text = send_fails (f, message, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_NOT_SUPPORTED);
  g_assert_true (contains (text, "SMTPUTF8"));
  wire = received (f, 0);
  g_assert_cmpstr (wire, ==, "EHLO client.example.test\r\n");

  /* The refused message was reset; force a new connection for the second
   * script. */
  msg_test_set_field (f, "smtpehloname", "other.example.test");
  report = send_ok (f, message);
  g_free (wire);
  wire = received (f, 1);
  g_assert_true (contains (wire, "MAIL FROM:<alice@example.test>"));
  g_assert_true (contains (wire, " SMTPUTF8\r\nRCPT TO:<j\xc3\xb6rg@xn--4cab6c.se>\r\n"));
}

/* Async and progress. */

typedef struct
{
  GMainLoop     *loop;
  MsgSendReport *report;
  GError        *error;
  guint64        last_sent;
  guint64        last_total;
  guint          n_progress;
  GThread       *progress_thread;
  guint64        sent_at_callback;
} AsyncData;

static void
on_sent (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  AsyncData *ad = user_data;

  ad->report = msg_transport_send_message_finish (MSG_TRANSPORT (source), result, &ad->error);
  ad->sent_at_callback = ad->last_sent;
  g_main_loop_quit (ad->loop);
}

static void
on_progress (MsgTransport *transport,
             guint64       sent,
             guint64       total,
             gpointer      user_data)
{
  AsyncData *ad = user_data;

  g_assert_cmpuint (sent, >=, ad->last_sent);
  ad->last_sent = sent;
  ad->last_total = total;
  ad->n_progress++;
  ad->progress_thread = g_thread_self ();
}

static void
test_async_progress (Fixture      *f,
                     gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GBytes) attachment = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *blob = g_malloc (300 * 1024);
  AsyncData          ad = { 0 };

  g_test_summary ("An async send runs the same protocol; progress arrives in the caller's "
                  "context and ends at the total, all of it before the callback.");
  for (gsize i = 0; i < 300 * 1024; i++)
    blob[i] = (guint8) g_random_int ();
  attachment = g_bytes_new (blob, 300 * 1024);
  g_assert_nonnull (msg_message_add_attachment_bytes (message, attachment, "random.bin",
                                                      "application/octet-stream", &error));
  g_assert_no_error (error);
  start (f, GREETING EHLO_BASIC TRANSACTION_ONE);
  g_signal_connect (f->transport, "progress", G_CALLBACK (on_progress), &ad);
  ad.loop = g_main_loop_new (NULL, FALSE);
  msg_transport_send_message_async (f->transport, message, NULL, on_sent, &ad);
  g_main_loop_run (ad.loop);
  g_assert_no_error (ad.error);
  g_assert_nonnull (ad.report);
  /* Progress emissions queued before the callback have run by now. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (ad.n_progress, >=, 1);
  g_assert_cmpuint (ad.last_total, >, 300 * 1024);
  g_assert_cmpuint (ad.last_sent, ==, ad.last_total);
  /* The worker queues the last emission before the result. */
  g_assert_cmpuint (ad.sent_at_callback, ==, ad.last_total);
  g_assert_true (ad.progress_thread == g_thread_self ());
  g_clear_object (&ad.report);
  g_main_loop_unref (ad.loop);
}

/* The server's recipient limit (RFC 5321 section 4.5.3.1.10). */
#define EHLO_NO_SIZE "expect EHLO\nline 250-mx.example.test\nline 250 8BITMIME\n"
#define EHLO_PIPELINING "expect EHLO\nline 250-mx.example.test\nline 250 PIPELINING\n"
#define FIVE_RECIPIENTS \
  "r1@example.test, r2@example.test, r3@example.test, r4@example.test, r5@example.test"

/* @wire with each message's data (after "DATA\r\n" up to its terminator)
 * replaced by "<data>\r\n"; every data block must equal the first. */
static char *
envelope_of (const char *wire)
{
  GString    *out = g_string_new (NULL);
  const char *p = wire;
  char       *first = NULL;

  for (;;)
    {
      const char *data = strstr (p, "DATA\r\n");
      const char *end;

      if (data == NULL)
        break;
      data += strlen ("DATA\r\n");
      end = strstr (data, "\r\n.\r\n");
      g_assert_nonnull (end);
      end += strlen ("\r\n.\r\n");
      g_string_append_len (out, p, data - p);
      g_string_append (out, "<data>\r\n");
      if (first == NULL)
        first = g_strndup (data, end - data);
      else
        g_assert_true (strlen (first) == (gsize) (end - data) && strncmp (first, data, end - data) == 0);
      p = end;
    }
  g_string_append (out, p);
  g_free (first);
  return g_string_free (out, FALSE);
}

static void
assert_all_accepted (MsgSendReport *report)
{
  g_auto (GStrv) accepted = msg_send_report_get_accepted_recipients (report);
  g_auto (GStrv) rejected = msg_send_report_get_rejected_recipients (report);

  g_assert_cmpuint (g_strv_length (accepted), ==, 5);
  g_assert_cmpuint (g_strv_length (rejected), ==, 0);
  for (guint i = 1; i <= 5; i++)
    {
      g_autofree char          *address = g_strdup_printf ("r%u@example.test", i);
      const MsgRecipientStatus *status = msg_send_report_get_recipient_status (report, address);

      g_assert_nonnull (status);
      g_assert_cmpuint (msg_recipient_status_get_code (status), ==, 250);
      g_assert_cmpstr (msg_recipient_status_get_enhanced_status (status), ==, "2.1.5");
    }
}

/* A server limiting transactions to 2 recipients, and 5 recipients to
 * send: the same three transactions, unpipelined and pipelined. */
typedef struct
{
  const char *path;
  const char *summary;
  const char *script;
  const char *envelope; /* what the client sends, data as in envelope_of() */
} LimitCase;

static const LimitCase limit_cases[] = {
  {
      .path = "/smtp/rcpt/limit",
      .summary = "A server limiting transactions to 2 recipients: 5 recipients go in "
                 "three transactions on one connection, the RCPTs stopping at each "
                 "452 (with 4.5.3, or with no enhanced code); the report has every "
                 "recipient accepted and each transaction's final reply.",
      .script = GREETING EHLO_NO_SIZE
      "expect MAIL FROM:<alice@example.test>\nline 250 2.1.0 Ok\n"
      "expect RCPT TO:<r1@example.test>\nline 250 2.1.5 Ok\n"
      "expect RCPT TO:<r2@example.test>\nline 250 2.1.5 Ok\n"
      "expect RCPT TO:<r3@example.test>\nline 452 4.5.3 Error: too many recipients\n"
      "expect DATA\nline 354 go\ndata\nline 250 2.0.0 Ok: queued as A1\n"
      "expect MAIL FROM:<alice@example.test>\nline 250 2.1.0 Ok\n"
      "expect RCPT TO:<r3@example.test>\nline 250 2.1.5 Ok\n"
      "expect RCPT TO:<r4@example.test>\nline 250 2.1.5 Ok\n"
      "expect RCPT TO:<r5@example.test>\nline 452 Too many recipients\n"
      "expect DATA\nline 354 go\ndata\nline 250 2.0.0 Ok: queued as B2\n"
      "expect MAIL FROM:<alice@example.test>\nline 250 2.1.0 Ok\n"
      "expect RCPT TO:<r5@example.test>\nline 250 2.1.5 Ok\n"
      "expect DATA\nline 354 go\ndata\nline 250 2.0.0 Ok: queued as C3\n",
      .envelope = "EHLO client.example.test\r\n"
                  "MAIL FROM:<alice@example.test>\r\n"
                  "RCPT TO:<r1@example.test>\r\n"
                  "RCPT TO:<r2@example.test>\r\n"
                  "RCPT TO:<r3@example.test>\r\n"
                  "DATA\r\n<data>\r\n"
                  "MAIL FROM:<alice@example.test>\r\n"
                  "RCPT TO:<r3@example.test>\r\n"
                  "RCPT TO:<r4@example.test>\r\n"
                  "RCPT TO:<r5@example.test>\r\n"
                  "DATA\r\n<data>\r\n"
                  "MAIL FROM:<alice@example.test>\r\n"
                  "RCPT TO:<r5@example.test>\r\n"
                  "DATA\r\n<data>\r\n",
  },
  {
      .path = "/smtp/rcpt/limit-pipelined",
      .summary = "With PIPELINING and a limit of 2 recipients, every RCPT past the "
                 "limit gets its 452 in the same batch; each is deferred, not refused, "
                 "and goes in the next transaction: three transactions.",
      .script = GREETING EHLO_PIPELINING
      "expect MAIL FROM:<alice@example.test>\n"
      "expect RCPT TO:<r1@example.test>\nexpect RCPT TO:<r2@example.test>\n"
      "expect RCPT TO:<r3@example.test>\nexpect RCPT TO:<r4@example.test>\n"
      "expect RCPT TO:<r5@example.test>\nexpect DATA\n"
      "send 250 2.1.0 Ok\\r\\n250 2.1.5 Ok\\r\\n250 2.1.5 Ok\\r\\n"
      "452 4.5.3 Error: too many recipients\\r\\n452 4.5.3 Error: too many recipients\\r\\n"
      "452 4.5.3 Error: too many recipients\\r\\n354 go\\r\\n\n"
      "data\nline 250 2.0.0 Ok: queued as A1\n"
      "expect MAIL FROM:<alice@example.test>\n"
      "expect RCPT TO:<r3@example.test>\nexpect RCPT TO:<r4@example.test>\n"
      "expect RCPT TO:<r5@example.test>\nexpect DATA\n"
      "send 250 2.1.0 Ok\\r\\n250 2.1.5 Ok\\r\\n250 2.1.5 Ok\\r\\n"
      "452 4.5.3 Error: too many recipients\\r\\n354 go\\r\\n\n"
      "data\nline 250 2.0.0 Ok: queued as B2\n"
      "expect MAIL FROM:<alice@example.test>\n"
      "expect RCPT TO:<r5@example.test>\nexpect DATA\n"
      "send 250 2.1.0 Ok\\r\\n250 2.1.5 Ok\\r\\n354 go\\r\\n\n"
      "data\nline 250 2.0.0 Ok: queued as C3\n",
      .envelope = "EHLO client.example.test\r\n"
                  "MAIL FROM:<alice@example.test>\r\n"
                  "RCPT TO:<r1@example.test>\r\n"
                  "RCPT TO:<r2@example.test>\r\n"
                  "RCPT TO:<r3@example.test>\r\n"
                  "RCPT TO:<r4@example.test>\r\n"
                  "RCPT TO:<r5@example.test>\r\n"
                  "DATA\r\n<data>\r\n"
                  "MAIL FROM:<alice@example.test>\r\n"
                  "RCPT TO:<r3@example.test>\r\n"
                  "RCPT TO:<r4@example.test>\r\n"
                  "RCPT TO:<r5@example.test>\r\n"
                  "DATA\r\n<data>\r\n"
                  "MAIL FROM:<alice@example.test>\r\n"
                  "RCPT TO:<r5@example.test>\r\n"
                  "DATA\r\n<data>\r\n",
  },
};

static void
test_limit (Fixture      *f,
            gconstpointer data)
{
  const LimitCase *c = data;
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *wire = NULL;
  g_autofree char *envelope = NULL;

  g_test_summary (c->summary);
  start (f, c->script);
  g_assert_true (msg_message_set_to (message, FIVE_RECIPIENTS, &error));
  g_assert_no_error (error);
  report = send_ok (f, message);
  assert_all_accepted (report);
  g_assert_cmpstr (msg_send_report_get_server_response (report), ==,
                   "250 2.0.0 Ok: queued as A1\n250 2.0.0 Ok: queued as B2\n250 2.0.0 Ok: queued as C3");

  g_clear_object (&f->transport);
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 1);
  wire = received (f, 0);
  envelope = envelope_of (wire);
  g_assert_cmpstr (envelope, ==, c->envelope);
}

static void
test_limit_pipelined_batches (Fixture      *f,
                              gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GString) script = g_string_new (GREETING EHLO_PIPELINING);
  g_autoptr (GString) to = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) accepted = NULL;
  g_autofree char *wire = NULL;

  g_test_summary ("150 recipients, a limit of 50 and pipelined batches of 100 commands: "
                  "a batch that meets the limit ends the RCPTs of its transaction, the "
                  "batches not written wait, DATA goes alone; three transactions.");
  for (guint i = 0; i < 150; i++)
    g_string_append_printf (to, "%su%u@example.test", i > 0 ? ", " : "", i);
  /* Two transactions of MAIL + 99 RCPT (50 accepted), then DATA alone. */
  for (guint t = 0; t < 2; t++)
    {
      g_string_append (script, "expect MAIL\n");
      for (guint i = 50 * t; i < 50 * t + 99; i++)
        g_string_append_printf (script, "expect RCPT TO:<u%u@example.test>\n", i);
      g_string_append (script, "line 250 ok\n");
      for (guint j = 0; j < 99; j++)
        g_string_append (script, j < 50 ? "line 250 ok\n" : "line 452 4.5.3 Too many recipients\n");
      g_string_append (script, "expect DATA\nline 354 go\ndata\nline 250 queued\n");
    }
  /* The last 50 with DATA in one batch. */
  g_string_append (script, "expect MAIL\n");
  for (guint i = 100; i < 150; i++)
    g_string_append_printf (script, "expect RCPT TO:<u%u@example.test>\n", i);
  g_string_append (script, "expect DATA\nline 250 ok\n");
  for (guint j = 0; j < 50; j++)
    g_string_append (script, "line 250 ok\n");
  g_string_append (script, "line 354 go\ndata\nline 250 queued\n");
  start (f, script->str);
  g_assert_true (msg_message_set_to (message, to->str, &error));
  g_assert_no_error (error);
  report = send_ok (f, message);
  accepted = msg_send_report_get_accepted_recipients (report);
  g_assert_cmpuint (g_strv_length (accepted), ==, 150);
  g_assert_cmpstr (msg_send_report_get_server_response (report), ==, "250 queued\n250 queued\n250 queued");

  g_clear_object (&f->transport);
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 1);
  wire = received (f, 0);
  /* u99 was never sent in the first transaction: the batch with it
   * waited; the second transaction starts again at u50. */
  g_assert_true (contains (wire, "RCPT TO:<u98@example.test>\r\nDATA\r\n"));
  g_assert_true (contains (wire, "MAIL FROM:<alice@example.test>\r\nRCPT TO:<u50@example.test>\r\n"));
  g_assert_true (contains (wire, "RCPT TO:<u148@example.test>\r\nDATA\r\n"));
  g_assert_true (contains (wire, "MAIL FROM:<alice@example.test>\r\nRCPT TO:<u100@example.test>\r\n"));
}

static void
test_limit_mailbox_full (Fixture      *f,
                         gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *wire = NULL;

  g_test_summary ("A 452 with another enhanced code (4.2.2, mailbox full) is a refusal, "
                  "not the recipient limit: RECIPIENTS_DEFERRED (its only refusal is "
                  "temporary) naming it, no DATA, RSET.");
  start (f, GREETING EHLO_NO_SIZE
         "expect MAIL\nline 250 2.1.0 Ok\n"
         "expect RCPT TO:<r1@example.test>\nline 250 2.1.5 Ok\n"
         "expect RCPT TO:<r2@example.test>\nline 452 4.2.2 Mailbox full\n"
         "expect RCPT TO:<r3@example.test>\nline 250 2.1.5 Ok\n"
         "expect RSET\nline 250 2.0.0 Ok\n");
  g_assert_true (msg_message_set_to (message, "r1@example.test, r2@example.test, r3@example.test", &error));
  g_assert_no_error (error);
  text = send_fails (f, message, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_RECIPIENTS_DEFERRED);
  g_assert_true (contains (text, "r2@example.test: 452 4.2.2 Mailbox full"));
  g_assert_true (contains (text, "sent to nobody"));
  g_assert_false (contains (text, "r1@example.test:"));
  wire = received (f, 0);
  g_assert_false (contains (wire, "DATA"));
}

static void
test_rcpt_temporary_and_permanent (Fixture      *f,
                                   gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;

  g_test_summary ("Recipients refused with 4xx and 5xx: RECIPIENTS_REJECTED (the 5xx is "
                  "for good); with 4xx only (two different ones): RECIPIENTS_DEFERRED.");
  start (f, GREETING EHLO_NO_SIZE
         "expect MAIL\nline 250 2.1.0 Ok\n"
         "expect RCPT TO:<r1@example.test>\nline 450 4.2.0 Greylisted\n"
         "expect RCPT TO:<r2@example.test>\nline 550 5.1.1 No such user\n"
         "expect RSET\nline 250 2.0.0 Ok\n"
         "expect MAIL\nline 250 2.1.0 Ok\n"
         "expect RCPT TO:<r1@example.test>\nline 450 4.2.0 Greylisted\n"
         "expect RCPT TO:<r2@example.test>\nline 452 4.2.2 Mailbox full\n"
         "expect RSET\nline 250 2.0.0 Ok\n");
  g_assert_true (msg_message_set_to (message, "r1@example.test, r2@example.test", &error));
  g_assert_no_error (error);
  text = send_fails (f, message, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_RECIPIENTS_REJECTED);
  g_assert_true (contains (text, "r2@example.test: 550 5.1.1 No such user"));
  g_clear_pointer (&text, g_free);
  text = send_fails (f, message, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_RECIPIENTS_DEFERRED);
  g_assert_true (contains (text, "r1@example.test: 450 4.2.0 Greylisted"));
  g_assert_true (contains (text, "r2@example.test: 452 4.2.2 Mailbox full"));
}

static void
test_limit_mailbox_full_partial (Fixture      *f,
                                 gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) accepted = NULL;
  g_auto (GStrv) rejected = NULL;
  const MsgRecipientStatus *status;
  g_autofree char          *wire = NULL;
  g_autofree char          *envelope = NULL;

  g_test_summary ("With smtpsendpartial, a mailbox-full 452 is reported as refused while "
                  "a limit 452 in the same transaction is deferred and delivered in the "
                  "next; the report has each recipient's final reply.");
  start (f, GREETING EHLO_NO_SIZE
         "expect MAIL\nline 250 2.1.0 Ok\n"
         "expect RCPT TO:<r1@example.test>\nline 250 2.1.5 Ok\n"
         "expect RCPT TO:<r2@example.test>\nline 452 4.2.2 Mailbox full\n"
         "expect RCPT TO:<r3@example.test>\nline 550 5.1.1 No such user\n"
         "expect RCPT TO:<r4@example.test>\nline 452 4.5.3 Too many recipients\n"
         "expect DATA\nline 354 go\ndata\nline 250 2.0.0 queued as A1\n"
         "expect MAIL\nline 250 2.1.0 Ok\n"
         "expect RCPT TO:<r4@example.test>\nline 250 2.1.5 Ok\n"
         "expect RCPT TO:<r5@example.test>\nline 250 2.1.5 Ok\n"
         "expect DATA\nline 354 go\ndata\nline 250 2.0.0 queued as B2\n");
  msg_test_set_field (f, "smtpsendpartial", "true");
  g_assert_true (msg_message_set_to (message, FIVE_RECIPIENTS, &error));
  g_assert_no_error (error);
  report = send_ok (f, message);
  accepted = msg_send_report_get_accepted_recipients (report);
  rejected = msg_send_report_get_rejected_recipients (report);
  g_assert_cmpuint (g_strv_length (accepted), ==, 3);
  g_assert_cmpuint (g_strv_length (rejected), ==, 2);
  g_assert_cmpstr (rejected[0], ==, "r2@example.test");
  g_assert_cmpstr (rejected[1], ==, "r3@example.test");
  status = msg_send_report_get_recipient_status (report, "r2@example.test");
  g_assert_cmpuint (msg_recipient_status_get_code (status), ==, 452);
  g_assert_cmpstr (msg_recipient_status_get_enhanced_status (status), ==, "4.2.2");
  status = msg_send_report_get_recipient_status (report, "r3@example.test");
  g_assert_cmpuint (msg_recipient_status_get_code (status), ==, 550);
  status = msg_send_report_get_recipient_status (report, "r4@example.test");
  g_assert_cmpuint (msg_recipient_status_get_code (status), ==, 250);
  g_assert_cmpstr (msg_recipient_status_get_enhanced_status (status), ==, "2.1.5");
  g_assert_cmpstr (msg_send_report_get_server_response (report), ==,
                   "250 2.0.0 queued as A1\n250 2.0.0 queued as B2");

  g_clear_object (&f->transport);
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  wire = received (f, 0);
  envelope = envelope_of (wire);
  g_assert_true (contains (envelope, "DATA\r\n<data>\r\nMAIL FROM:<alice@example.test>\r\n"
                                     "RCPT TO:<r4@example.test>\r\n"
                                     "RCPT TO:<r5@example.test>\r\nDATA\r\n<data>\r\n"));
}

static void
test_limit_first_refused (Fixture      *f,
                          gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;

  g_test_summary ("A 452 4.5.3 with no recipient accepted before it is a refusal (another "
                  "transaction would meet it again), not an endless loop.");
  start (f, GREETING EHLO_PIPELINING
         "expect MAIL\nexpect RCPT TO:<r1@example.test>\nexpect RCPT TO:<r2@example.test>\n"
         "expect DATA\n"
         "send 250 Ok\\r\\n452 4.5.3 Too many recipients\\r\\n"
         "452 4.5.3 Too many recipients\\r\\n554 5.5.1 No valid recipients\\r\\n\n"
         "expect RSET\nline 250 2.0.0 Ok\n");
  g_assert_true (msg_message_set_to (message, "r1@example.test, r2@example.test", &error));
  g_assert_no_error (error);
  text = send_fails (f, message, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_RECIPIENTS_DEFERRED);
  g_assert_true (contains (text, "every recipient"));
  g_assert_true (contains (text, "r1@example.test: 452 4.5.3 Too many recipients"));
  g_assert_true (contains (text, "r2@example.test: 452 4.5.3 Too many recipients"));
}

static void
test_limit_later_rejected (Fixture      *f,
                           gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *wire = NULL;

  g_test_summary ("By default a recipient refused in a later transaction fails the send "
                  "(no DATA in that transaction, RSET) and the error names the recipients "
                  "the earlier transaction delivered to.");
  start (f, GREETING EHLO_NO_SIZE
         "expect MAIL\nline 250 2.1.0 Ok\n"
         "expect RCPT TO:<r1@example.test>\nline 250 2.1.5 Ok\n"
         "expect RCPT TO:<r2@example.test>\nline 250 2.1.5 Ok\n"
         "expect RCPT TO:<r3@example.test>\nline 452 4.5.3 Too many recipients\n"
         "expect DATA\nline 354 go\ndata\nline 250 2.0.0 queued as A1\n"
         "expect MAIL\nline 250 2.1.0 Ok\n"
         "expect RCPT TO:<r3@example.test>\nline 250 2.1.5 Ok\n"
         "expect RCPT TO:<r4@example.test>\nline 550 5.1.1 No such user\n"
         "expect RCPT TO:<r5@example.test>\nline 452 4.5.3 Too many recipients\n"
         "expect RSET\nline 250 2.0.0 Ok\n");
  g_assert_true (msg_message_set_to (message, FIVE_RECIPIENTS, &error));
  g_assert_no_error (error);
  text = send_fails (f, message, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_RECIPIENTS_REJECTED);
  g_assert_true (contains (text, "accepted the message for r1@example.test, r2@example.test in 1 earlier transaction"));
  g_assert_true (contains (text, "r4@example.test: 550 5.1.1 No such user"));
  g_assert_false (contains (text, "r5@example.test:"));
  g_assert_true (contains (text, "none of this transaction's recipients"));
  wire = received (f, 0);
  g_assert_true (g_str_has_suffix (wire, "RCPT TO:<r5@example.test>\r\nRSET\r\n"));
}

static void
test_limit_later_all_refused_partial (Fixture      *f,
                                      gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) accepted = NULL;
  g_auto (GStrv) rejected = NULL;
  const MsgRecipientStatus *status;

  g_test_summary ("With smtpsendpartial, a later transaction whose recipients are all "
                  "refused is reset and the send succeeds with them in the report.");
  start (f, GREETING EHLO_NO_SIZE
         "expect MAIL\nline 250 2.1.0 Ok\n"
         "expect RCPT TO:<r1@example.test>\nline 250 2.1.5 Ok\n"
         "expect RCPT TO:<r2@example.test>\nline 452 4.5.3 Too many recipients\n"
         "expect DATA\nline 354 go\ndata\nline 250 2.0.0 queued as A1\n"
         "expect MAIL\nline 250 2.1.0 Ok\n"
         "expect RCPT TO:<r2@example.test>\nline 550 5.1.1 No such user\n"
         "expect RSET\nline 250 2.0.0 Ok\n");
  msg_test_set_field (f, "smtpsendpartial", "true");
  g_assert_true (msg_message_set_to (message, "r1@example.test, r2@example.test", &error));
  g_assert_no_error (error);
  report = send_ok (f, message);
  accepted = msg_send_report_get_accepted_recipients (report);
  rejected = msg_send_report_get_rejected_recipients (report);
  g_assert_cmpuint (g_strv_length (accepted), ==, 1);
  g_assert_cmpstr (accepted[0], ==, "r1@example.test");
  g_assert_cmpuint (g_strv_length (rejected), ==, 1);
  status = msg_send_report_get_recipient_status (report, "r2@example.test");
  g_assert_cmpuint (msg_recipient_status_get_code (status), ==, 550);
  g_assert_cmpstr (msg_send_report_get_server_response (report), ==, "250 2.0.0 queued as A1");
}

static void
test_limit_outcome_unknown (Fixture      *f,
                            gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgMessage) second = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char  *text = NULL;
  const char *const scripts[] = {
    GREETING EHLO_NO_SIZE
    "expect MAIL\nline 250 2.1.0 Ok\n"
    "expect RCPT TO:<r1@example.test>\nline 250 2.1.5 Ok\n"
    "expect RCPT TO:<r2@example.test>\nline 250 2.1.5 Ok\n"
    "expect RCPT TO:<r3@example.test>\nline 452 4.5.3 Too many recipients\n"
    "expect DATA\nline 354 go\ndata\nline 250 2.0.0 queued as A1\n"
    "expect MAIL\nline 250 2.1.0 Ok\n"
    "expect RCPT TO:<r3@example.test>\nline 250 2.1.5 Ok\n"
    "expect DATA\nline 354 go\ndata\nclose\n",
    GREETING EHLO_NO_SIZE TRANSACTION_ONE,
    NULL
  };

  g_test_summary ("A lost answer after a later transaction's final dot is OUTCOME_UNKNOWN "
                  "naming the recipients already delivered and those in doubt; the next "
                  "send connects afresh.");
  start_multi (f, scripts);
  g_assert_true (msg_message_set_to (message, "r1@example.test, r2@example.test, r3@example.test", &error));
  g_assert_no_error (error);
  text = send_fails (f, message, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_OUTCOME_UNKNOWN);
  g_assert_true (contains (text, "accepted the message for r1@example.test, r2@example.test in 1 earlier transaction"));
  g_assert_true (contains (text, "for r3@example.test but its answer did not come"));
  g_assert_true (contains (text, "may or may not"));

  report = send_ok (f, second);
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 2);
}

int
main (int    argc,
      char **argv)
{
  g_setenv ("G_MESSAGES_DEBUG", "msgobj", TRUE);
  msg_test_capture_log ();
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  msg_test_fixture_init ();

#define ADD_DATA(path, data, func) \
  g_test_add (path, Fixture, data, msg_test_fixture_setup, func, msg_test_fixture_teardown)
#define ADD(path, func) ADD_DATA (path, NULL, func)
  ADD ("/smtp/validate/no-server", test_no_server);
  ADD ("/smtp/send/plain", test_send_plain);
  ADD ("/smtp/send/final-reply-multiline", test_send_final_reply_multiline);
  ADD ("/smtp/send/server-without-sendusing", test_server_without_sendusing);
  ADD ("/smtp/validate/injection", test_validate_injection);
  ADD ("/smtp/ehlo/helo-fallback", test_helo_fallback);
  ADD ("/smtp/ehlo/automatic-name", test_ehlo_automatic_name);
  ADD ("/smtp/pipelining/one-batch", test_pipelining);
  ADD ("/smtp/pipelining/batches", test_pipelining_batches);
  ADD ("/smtp/rcpt/rejected", test_rcpt_rejected);
  ADD ("/smtp/rcpt/rejected-pipelined", test_rcpt_rejected_pipelined);
  ADD ("/smtp/rcpt/partial", test_partial);
  for (guint i = 0; i < G_N_ELEMENTS (limit_cases); i++)
    ADD_DATA (limit_cases[i].path, &limit_cases[i], test_limit);
  ADD ("/smtp/rcpt/limit-pipelined-batches", test_limit_pipelined_batches);
  ADD ("/smtp/rcpt/limit-mailbox-full", test_limit_mailbox_full);
  ADD ("/smtp/relays/failover", test_relays_failover);
  ADD ("/smtp/rcpt/temporary-and-permanent", test_rcpt_temporary_and_permanent);
  ADD ("/smtp/rcpt/limit-mailbox-full-partial", test_limit_mailbox_full_partial);
  ADD ("/smtp/rcpt/limit-first-refused", test_limit_first_refused);
  ADD ("/smtp/rcpt/limit-later-rejected", test_limit_later_rejected);
  ADD ("/smtp/rcpt/limit-later-all-refused-partial", test_limit_later_all_refused_partial);
  ADD ("/smtp/rcpt/limit-outcome-unknown", test_limit_outcome_unknown);
  for (guint i = 0; i < G_N_ELEMENTS (reply_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/smtp/reply/%s", reply_cases[i].name);

      ADD_DATA (path, &reply_cases[i], test_reply);
    }
  ADD ("/smtp/outcome-unknown/timeout", test_outcome_unknown_timeout);
  ADD ("/smtp/outcome-unknown/closed", test_outcome_unknown_closed);
  ADD ("/smtp/outcome-unknown/cancel", test_outcome_unknown_cancel);
  ADD ("/smtp/cancel/mid-data", test_cancel_mid_data);
  ADD ("/smtp/clock/greeting", test_timeout_greeting);
  ADD ("/smtp/clock/operation", test_operation_timeout);
  ADD ("/smtp/auth/plain", test_auth_plain);
  ADD ("/smtp/auth/login", test_auth_login);
  ADD ("/smtp/auth/cram-md5", test_auth_cram_md5);
  ADD ("/smtp/auth/xoauth2", test_auth_xoauth2);
  ADD ("/smtp/auth/xoauth2-ok", test_auth_xoauth2_ok);
  ADD ("/smtp/auth/not-offered", test_auth_not_offered);
  ADD ("/smtp/auth/failed", test_auth_failed);
  ADD ("/smtp/auth/rounds", test_auth_rounds);
  ADD ("/smtp/auth/needs-tls", test_auth_needs_tls);
  ADD ("/smtp/auth/no-plaintext-downgrade", test_auth_no_plaintext_downgrade);
  ADD ("/smtp/auth/mechanism-setting", test_auth_mechanism_setting);
  ADD ("/smtp/tls/starttls", test_starttls);
  ADD ("/smtp/tls/starttls-new-capabilities", test_starttls_new_capabilities);
  ADD ("/smtp/tls/starttls-injection", test_starttls_injection);
  ADD ("/smtp/tls/starttls-required", test_starttls_required);
  ADD ("/smtp/tls/starttls-never", test_starttls_never);
  ADD ("/smtp/tls/implicit", test_implicit_tls);
  ADD ("/smtp/tls/untrusted", test_tls_untrusted);
  ADD ("/smtp/tls/relative-ca", test_tls_relative_ca);
  ADD ("/smtp/tls/no-verify", test_tls_no_verify);
  ADD ("/smtp/tls/wrong-name", test_tls_wrong_name);
  ADD ("/smtp/reuse/kept", test_reuse);
  ADD ("/smtp/reuse/settings-changed", test_reuse_settings_changed);
  ADD ("/smtp/reuse/setting-changed-kept", test_reuse_setting_changed);
  ADD ("/smtp/reuse/server-closed", test_reuse_server_closed);
  ADD ("/smtp/reuse/dropped-before-mail", test_reuse_dropped_before_mail);
  ADD ("/smtp/close/quit-stall", test_close_quit_stall);
  ADD ("/smtp/close/dispose", test_dispose_no_wait);
  ADD ("/smtp/extensions/dsn", test_dsn);
  ADD ("/smtp/extensions/dsn-long-envid", test_dsn_long_envid);
  ADD ("/smtp/extensions/8bitmime", test_8bitmime);
  ADD ("/smtp/extensions/8bit-smtputf8-only", test_8bit_smtputf8_only);
  ADD ("/smtp/extensions/long-lines", test_long_lines);
  ADD ("/smtp/extensions/8bit-signed", test_8bit_signed);
  ADD ("/smtp/extensions/smtputf8", test_smtputf8);
  ADD ("/smtp/async/progress", test_async_progress);

  {
    int result = g_test_run ();

    msg_test_fixture_cleanup ();
    return result;
  }
}
