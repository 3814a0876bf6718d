/* send-async.c: a text + HTML message with an attachment, sent through
 * SMTP with STARTTLS and authentication, asynchronously, printing the
 * progress. The same program is in send-async.py, send-async.js and
 * send-async.vala; the test suite runs all four against one scripted
 * server and checks that they send the same message.
 *
 *   cc send-async.c $(pkg-config --cflags --libs msgobj-1.0) -o send-async
 *   SMTP_PASSWORD=secret ./send-async mail.example.org:587 alice report.pdf
 *
 * Arguments: SERVER[:PORT] USER ATTACHMENT. The password comes from the
 * environment (SMTP_PASSWORD), so that it is not on the command line;
 * SMTP_CAFILE, when set, names a PEM file of the certificate authorities
 * to trust instead of the system's (a test server's own CA).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <msgobj.h>

static const char *const TEXT = "Hello Bob,\n\nthe report is attached.\n\nAlice\n";
static const char *const HTML = "<p>Hello Bob,</p>\n<p>the report is <b>attached</b>.</p>\n<p>Alice</p>\n";

typedef struct
{
  GMainLoop *loop;
  int        status;
} Sending;

static void
progress_cb (MsgTransport *transport G_GNUC_UNUSED,
             guint64                 sent,
             guint64                 total,
             gpointer user_data      G_GNUC_UNUSED)
{
  g_print ("progress: %" G_GUINT64_FORMAT "/%" G_GUINT64_FORMAT " bytes\n", sent, total);
}

static void
sent_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  Sending *sending = user_data;
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgSendReport) report = NULL;

  report = msg_transport_send_message_finish (MSG_TRANSPORT (source), result, &error);
  if (report == NULL)
    {
      /* Errors have a domain and a code: a refused recipient, a failed
       * authentication and a time-out can each be told apart. */
      if (g_error_matches (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED))
        g_printerr ("send-async: the server refused the user name or password\n");
      g_printerr ("send-async: not sent: %s\n", error->message);
    }
  else
    {
      g_print ("sent: %s\n", msg_send_report_get_server_response (report));
      sending->status = 0;
    }
  g_main_loop_quit (sending->loop);
}

static MsgMessage *
build_message (MsgConfiguration *config,
               const char       *attachment,
               GError          **error)
{
  g_autoptr (MsgMessage) message = msg_message_new_with_configuration (config);

  if (!msg_message_set_from (message, "Alice <alice@example.org>", error) ||
      !msg_message_set_to (message, "Bob <bob@example.org>", error) ||
      !msg_message_set_subject (message, "The report", error))
    return NULL;
  /* HTML first: with auto-generate-text-body on, setting it would
   * replace the text body. */
  msg_message_set_html_body (message, HTML);
  msg_message_set_text_body (message, TEXT);
  /* Streamed from the file when the message is sent; the part returned
   * belongs to the message. */
  if (msg_message_add_attachment (message, attachment, error) == NULL)
    return NULL;
  return g_steal_pointer (&message);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgConfiguration) config = msg_configuration_new ();
  g_autoptr (MsgMessage) message = NULL;
  g_autoptr (MsgTransport) transport = NULL;
  const char *password = g_getenv ("SMTP_PASSWORD");
  const char *ca_file = g_getenv ("SMTP_CAFILE");
  Sending     sending = { NULL, 1 };

  if (argc != 4 || password == NULL)
    {
      g_printerr ("usage: SMTP_PASSWORD=… [SMTP_CAFILE=ca.pem] %s SERVER[:PORT] USER ATTACHMENT\n",
                  argv[0]);
      return 2;
    }

  /* STARTTLS is required: the password never goes over plain text. */
  if (!msg_configuration_set_field (config, "smtpserver", argv[1], &error) ||
      !msg_configuration_set_field (config, "smtpstarttls", "required", &error) ||
      !msg_configuration_set_field (config, "smtpauthenticate", "basic", &error) ||
      !msg_configuration_set_field (config, "sendusername", argv[2], &error) ||
      !msg_configuration_set_field (config, "sendpassword", password, &error) ||
      !msg_configuration_set_field (config, "smtpconnectiontimeout", "30", &error) ||
      (ca_file != NULL && *ca_file != '\0' &&
       !msg_configuration_set_field (config, "tlscafile", ca_file, &error)))
    goto failed;

  message = build_message (config, argv[3], &error);
  if (message == NULL)
    goto failed;

  transport = msg_transport_new_for_name ("smtp", config, &error);
  if (transport == NULL)
    goto failed;
  g_signal_connect (transport, "progress", G_CALLBACK (progress_cb), NULL);

  sending.loop = g_main_loop_new (NULL, FALSE);
  msg_transport_send_message_async (transport, message, NULL, sent_cb, &sending);
  g_main_loop_run (sending.loop);
  g_main_loop_unref (sending.loop);
  /* QUIT; a failure to say goodbye does not unsend the message. */
  msg_transport_close (transport, NULL, NULL);
  return sending.status;

failed:
  g_printerr ("send-async: %s\n", error->message);
  return 1;
}
