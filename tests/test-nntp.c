/* test-nntp.c: the NNTP transport against the scripted test server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-utils.h"
#include "msg-test-server.h"

#include <string.h>

/* The protocol trace, as the log writer saw it. */
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
      g_assert_true (msg_test_server_wait_closed (f->server, 2000));
      g_clear_pointer (&f->server, msg_test_server_free);
    }
  g_assert_cmpuint (msg_test_wait_fds (f->n_fds, 1000), ==, f->n_fds);
}

static void
set (Fixture    *f,
     const char *name,
     const char *value)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (msg_configuration_set_field (f->config, name, value, &error));
  g_assert_no_error (error);
}

static void
make_transport (Fixture *f)
{
  g_autoptr (GError) error = NULL;

  f->transport = msg_transport_new_for_name ("nntp", f->config, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->transport);
}

/* A server playing @scripts (NULL-terminated, one per connection) and a
 * transport configured for it, with a 2 s inactivity limit. */
static void
start_multi (Fixture           *f,
             const char *const *scripts)
{
  g_autofree char *port = NULL;

  f->server = msg_test_server_new_multi (scripts);
  msg_test_server_set_tls (f->server, certificate);
  port = g_strdup_printf ("%u", msg_test_server_get_port (f->server));
  f->config = msg_configuration_new ();
  set (f, "nntpserver", "127.0.0.1");
  set (f, "nntpserverport", port);
  set (f, "nntpconnectiontimeout", "2");
  set (f, "tlscafile", ca_file);
  make_transport (f);
}

static void
start (Fixture    *f,
       const char *script)
{
  const char *const scripts[] = { script, NULL };

  start_multi (f, scripts);
}

static MsgMessage *
make_article (void)
{
  g_autoptr (GError) error = NULL;
  MsgMessage *message = msg_message_new ();

  g_assert_true (msg_message_set_from (message, "Alice <alice@example.test>", &error));
  g_assert_true (msg_message_set_newsgroups (message, "local.test", &error));
  g_assert_true (msg_message_set_subject (message, "Hello news", &error));
  g_assert_true (msg_message_set_bcc (message, "hidden@example.test", &error));
  g_assert_no_error (error);
  msg_message_set_text_body (message, "First line\n.dot line\n..two dots\n.\nlast\n");
  return message;
}

static MsgSendReport *
post (Fixture *f,
      GError **error)
{
  g_autoptr (MsgMessage) message = make_article ();

  return msg_transport_post_message (f->transport, message, NULL, error);
}

static MsgSendReport *
post_ok (Fixture *f)
{
  g_autoptr (GError) error = NULL;
  MsgSendReport *report = post (f, &error);

  g_assert_no_error (error);
  g_assert_nonnull (report);
  return report;
}

static void
close_ok (Fixture *f)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (msg_transport_close (f->transport, NULL, &error));
  g_assert_no_error (error);
}

static char *
received (Fixture *f,
          unsigned index)
{
  g_autoptr (GBytes) bytes = msg_test_server_get_received (f->server, index);
  gsize size = g_bytes_get_size (bytes);

  return g_strndup (size > 0 ? g_bytes_get_data (bytes, NULL) : "", size);
}

static void
assert_no_server_error (Fixture *f)
{
  g_autofree char *error = msg_test_server_get_error (f->server);

  g_assert_null (error);
}

/* Whether a line of @article's header starts with @prefix. */
static gboolean
has_header (const char *article,
            const char *prefix)
{
  g_autofree char *with_crlf = g_strconcat ("\r\n", prefix, NULL);
  const char      *end = strstr (article, "\r\n\r\n");
  const char      *found = strstr (article, with_crlf);

  return g_str_has_prefix (article, prefix) || (found != NULL && found < end);
}

/* Scripts. */

#define CAPS_READER "send 101 Capability list:\\r\\nVERSION 2\\r\\nREADER\\r\\nPOST\\r\\n.\\r\\n\n"
#define GREETING "line 200 news.example.test InterNetNews NNRP server ready (posting ok)\n"
#define POST_OK "expect POST\nline 340 Ok, recommended Message-ID <x@y>\ndata\nline 240 Article received OK\n"
#define QUIT "expect QUIT\nline 205 bye\n"

static const char plain_script[] = GREETING "expect CAPABILITIES\n" CAPS_READER POST_OK QUIT;

static void
test_plain_post (Fixture      *f,
                 gconstpointer data)
{
  g_autoptr (MsgSendReport) report = NULL;
  g_autofree char *wire = NULL;
  g_autofree char *body = NULL;
  const char      *article;

  g_test_summary ("A plain post: CAPABILITIES, POST, the article dot-stuffed with CRLF, 240, QUIT.");
  start (f, plain_script);
  report = post_ok (f);
  close_ok (f);
  assert_no_server_error (f);

  g_assert_cmpstr (msg_send_report_get_transport_name (report), ==, "nntp");
  g_assert_cmpstr (msg_send_report_get_server_response (report), ==, "240 Article received OK");
  g_assert_nonnull (msg_send_report_get_message_id (report));
  g_assert_true (g_str_has_prefix (msg_send_report_get_message_id (report), "<") ||
                 strchr (msg_send_report_get_message_id (report), '@') != NULL);

  wire = received (f, 0);
  g_assert_true (g_str_has_prefix (wire, "CAPABILITIES\r\nPOST\r\n"));
  g_assert_true (g_str_has_suffix (wire, "\r\nlast\r\n.\r\nQUIT\r\n"));
  article = wire + strlen ("CAPABILITIES\r\nPOST\r\n");
  /* Every line end is CRLF. */
  for (const char *p = wire; *p != '\0'; p++)
    if (*p == '\n')
      g_assert_cmpint (p[-1], ==, '\r');
  g_assert_nonnull (strstr (article, "Newsgroups: local.test\r\n"));
  g_assert_nonnull (strstr (article, "Subject: Hello news\r\n"));
  g_assert_nonnull (strstr (article, "From: Alice <alice@example.test>\r\n"));
  g_assert_true (has_header (article, "Date: "));
  g_assert_true (has_header (article, "Message-Id: <"));
  g_assert_null (strstr (article, "Bcc"));
  g_assert_null (strstr (article, "hidden@example.test"));
  /* Dot-stuffing. */
  body = g_strdup (strstr (article, "\r\n\r\n"));
  g_assert_nonnull (strstr (body, "\r\nFirst line\r\n..dot line\r\n...two dots\r\n..\r\nlast\r\n.\r\n"));
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
  ADD ("/nntp/post/plain", test_plain_post);
#undef ADD

  {
    int result = g_test_run ();

    g_clear_object (&certificate);
    g_free (ca_file);
    g_string_free (log_text, TRUE);
    return result;
  }
}
