/* test-nntp.c: the NNTP transport against the scripted test server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-utils.h"
#include "msg-test-server.h"

#include <string.h>

typedef MsgTestFixture Fixture;

static void
set (Fixture    *f,
     const char *name,
     const char *value)
{
  msg_test_set_field (f, name, value);
}

static void
make_transport (Fixture *f)
{
  msg_test_fixture_make_transport (f, "nntp");
}

/* A server playing @scripts (NULL-terminated, one per connection) and a
 * transport configured for it, with a 10 s inactivity limit. */
static void
start_multi (Fixture           *f,
             const char *const *scripts)
{
  /* Generous (msg_test_fixture_start): under valgrind on a loaded two-core
   * machine a STARTTLS handshake took 1.6 s and more, and failed against
   * the 2 s this once was. */
  msg_test_fixture_start (f, "nntp", scripts);
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
  return msg_test_server_get_received_text (f->server, index);
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
test_server_without_postusing (Fixture      *f,
                               gconstpointer data)
{
  const char *const scripts[] = { plain_script, NULL };
  g_autoptr (MsgMessage) message = make_article ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;

  g_test_summary ("With nntpserver set and postusing never set, msg_message_post posts "
                  "by NNTP, not to the pickup directory.");
  msg_test_fixture_start_server (f, "nntp", scripts, "10");
  g_assert_false (msg_configuration_is_field_set (f->config, "postusing"));
  msg_message_set_configuration (message, f->config);

  report = msg_message_post (message, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (msg_send_report_get_transport_name (report), ==, "nntp");
  g_assert_null (msg_send_report_get_pickup_file (report));
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 1);
}

static void
test_plain_post (Fixture      *f,
                 gconstpointer data)
{
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (MsgMessage) message = make_article ();
  g_autoptr (GError) error = NULL;
  g_autofree char *wire = NULL;
  g_autofree char *body = NULL;
  const char      *article;

  g_test_summary ("A plain post: CAPABILITIES, POST, the article dot-stuffed with CRLF, 240, QUIT.");
  start (f, plain_script);
  g_assert_true (msg_message_set_followup_to (message, "local.talk", &error));
  g_assert_true (msg_message_set_organization (message, "Example Org", &error));
  g_assert_true (msg_message_set_keywords (message, "test, news", &error));
  g_assert_true (msg_message_set_header (message, "Disposition-Notification-To", "alice@example.test", &error));
  g_assert_no_error (error);
  report = msg_transport_post_message (f->transport, message, NULL, &error);
  g_assert_no_error (error);
  close_ok (f);

  g_assert_cmpstr (msg_send_report_get_transport_name (report), ==, "nntp");
  g_assert_cmpstr (msg_send_report_get_server_response (report), ==, "240 Article received OK");
  g_assert_cmpuint (msg_send_report_get_server_code (report), ==, 240);
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
  g_assert_true (has_header (article, "Followup-To: local.talk"));
  g_assert_true (has_header (article, "Organization: Example Org"));
  g_assert_true (has_header (article, "Keywords: test, news"));
  g_assert_null (strstr (article, "Disposition-Notification-To"));
  {
    g_autofree char *message_id = msg_message_get_message_id (message);

    g_assert_cmpstr (msg_send_report_get_message_id (report), ==, message_id);
  }
  g_assert_null (strstr (article, "\r\nBcc:"));
  g_assert_null (strstr (article, "hidden@example.test"));
  /* Dot-stuffing. */
  body = g_strdup (strstr (article, "\r\n\r\n"));
  g_assert_nonnull (strstr (body, "\r\nFirst line\r\n..dot line\r\n...two dots\r\n..\r\nlast\r\n.\r\n"));
}

static void
assert_received (Fixture    *f,
                 unsigned    index,
                 const char *expected)
{
  g_autofree char *wire = received (f, index);

  g_assert_cmpstr (wire, ==, expected);
}

/* Posts, expecting @domain/@code, and returns the message. */
static char *
post_fails (Fixture *f,
            GQuark   domain,
            int      code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgSendReport) report = post (f, &error);

  g_assert_null (report);
  g_assert_error (error, domain, code);
  return g_strdup (error->message);
}

static void
test_reuse (Fixture      *f,
            gconstpointer data)
{
  g_autoptr (MsgSendReport) first = NULL;
  g_autoptr (MsgSendReport) second = NULL;

  g_test_summary ("Two posts share one connection; the session is set up once.");
  start (f, GREETING "expect CAPABILITIES\n" CAPS_READER POST_OK POST_OK QUIT);
  first = post_ok (f);
  second = post_ok (f);
  close_ok (f);
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 1);
  g_assert_cmpstr (msg_send_report_get_message_id (first), !=,
                   msg_send_report_get_message_id (second));
}

static void
test_reuse_settings_changed (Fixture      *f,
                             gconstpointer data)
{
  const char *const scripts[] = {
    GREETING "expect CAPABILITIES\n" CAPS_READER         POST_OK "wait-close\n",
    GREETING "expect CAPABILITIES\n" CAPS_READER POST_OK QUIT,
    NULL,
  };
  g_autoptr (MsgSendReport) first = NULL;
  g_autoptr (MsgSendReport) second = NULL;
  g_autoptr (MsgConfiguration) changed = NULL;
  g_autoptr (GError) error = NULL;

  g_test_summary ("A kept connection is not reused once the settings that shaped it change.");
  start_multi (f, scripts);
  first = post_ok (f);
  changed = msg_configuration_copy (f->config);
  g_assert_true (msg_configuration_set_field (changed, "nntpstarttls", "never", &error));
  g_assert_no_error (error);
  msg_transport_set_configuration (f->transport, changed);
  second = post_ok (f);
  close_ok (f);
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 2);
}

static void
test_reuse_setting_changed (Fixture      *f,
                            gconstpointer data)
{
  g_autoptr (MsgSendReport) first = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgSendReport) second = NULL;
  gint64 start_time;

  g_test_summary ("A setting that does not shape the connection (nntpoperationtimeout), "
                  "changed between two posts, keeps the connection and bounds the next "
                  "post: the kept settings are read again (docs/design.md, decision 20).");
  start (f, GREETING "expect CAPABILITIES\n" CAPS_READER POST_OK "expect POST\nstall\n");
  first = post_ok (f);
  set (f, "nntpoperationtimeout", "0.3");
  start_time = g_get_monotonic_time ();
  second = post (f, &error);
  g_assert_null (second);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  /* The 0.3 s, not the 30 s inactivity limit; slack as the other
   * deadline tests (scaled). */
  msg_test_assert_elapsed_below (start_time, 300 + 200);
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 1);
}

static void
test_reuse_after_server_closed (Fixture      *f,
                                gconstpointer data)
{
  const char *const scripts[] = {
    GREETING "expect CAPABILITIES\n" CAPS_READER         POST_OK "close\n",
    GREETING "expect CAPABILITIES\n" CAPS_READER POST_OK QUIT,
    NULL,
  };
  g_autoptr (MsgSendReport) first = NULL;
  g_autoptr (MsgSendReport) second = NULL;

  g_test_summary ("A kept connection that the server closed (autologout) is replaced, "
                  "whether the idle check or the POST notices.");
  start_multi (f, scripts);
  first = post_ok (f);
  second = post_ok (f);
  close_ok (f);
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 2);
}

/* A server refusing the post: it fails with @code, the message has the
 * server's text (and @hint), and the client sent @received. */
typedef struct
{
  const char *path;
  const char *summary;
  const char *script;
  int         code;     /* in MSG_TRANSPORT_ERROR */
  const char *text;     /* in the error message */
  const char *hint;     /* (nullable): in the error message too */
  const char *received; /* (nullable): all the server got, if checked */
} RefusalCase;

static const RefusalCase refusal_cases[] = {
  {
      .path = "/nntp/greeting/201",
      .summary = "A 201 greeting fails with POSTING_NOT_ALLOWED before POST is sent.",
      .script = "line 201 news.example.test ready (no posting)\nexpect CAPABILITIES\n"
                "send 101 caps\\r\\nVERSION 2\\r\\nREADER\\r\\n.\\r\\n\nwait-close\n",
      .code = MSG_TRANSPORT_ERROR_POSTING_NOT_ALLOWED,
      .text = "201 news.example.test ready (no posting)",
      .received = "CAPABILITIES\r\n",
  },
  {
      .path = "/nntp/greeting/400",
      .summary = "A 400 greeting is a temporary failure naming the server's text.",
      .script = "line 400 too busy, try later\nwait-close\n",
      .code = MSG_TRANSPORT_ERROR_TEMPORARY_FAILURE,
      .text = "400 too busy, try later",
      .received = "",
  },
  {
      .path = "/nntp/post/440",
      .summary = "440 to POST is POSTING_NOT_ALLOWED with the server's text; no article is sent.",
      .script = GREETING "expect CAPABILITIES\n" CAPS_READER "expect POST\nline 440 Posting not permitted\nwait-close\n",
      .code = MSG_TRANSPORT_ERROR_POSTING_NOT_ALLOWED,
      .text = "440 Posting not permitted",
      .received = "CAPABILITIES\r\nPOST\r\n",
  },
  {
      .path = "/nntp/post/441",
      .summary = "441 after the article is MESSAGE_REJECTED with the server's text.",
      .script = GREETING "expect CAPABILITIES\n" CAPS_READER
                         "expect POST\nline 340 go\ndata\nline 441 437 Unwanted newsgroup \"local.test\"\nwait-close\n",
      .code = MSG_TRANSPORT_ERROR_MESSAGE_REJECTED,
      .text = "441 437 Unwanted newsgroup \"local.test\"",
  },
  {
      .path = "/nntp/auth/480-without-credentials",
      .summary = "480 to POST without credentials is a clear AUTHENTICATION_FAILED.",
      .script = GREETING "expect CAPABILITIES\n" CAPS_READER "expect POST\nline 480 Authentication required\nwait-close\n",
      .code = MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED,
      .text = "480 Authentication required",
      .hint = "postusername",
      .received = "CAPABILITIES\r\nPOST\r\n",
  },
};

static void
test_refusal (Fixture      *f,
              gconstpointer data)
{
  const RefusalCase *c = data;
  g_autofree char   *message = NULL;

  g_test_summary (c->summary);
  start (f, c->script);
  message = post_fails (f, MSG_TRANSPORT_ERROR, c->code);
  g_assert_nonnull (strstr (message, c->text));
  if (c->hint != NULL)
    g_assert_nonnull (strstr (message, c->hint));
  if (c->received != NULL)
    assert_received (f, 0, c->received);
}

static void
test_no_capabilities (Fixture      *f,
                      gconstpointer data)
{
  g_autoptr (MsgSendReport) report = NULL;

  g_test_summary ("A server without CAPABILITIES (500) is posted to on its greeting's word.");
  start (f, GREETING "expect CAPABILITIES\nline 500 What?\n" POST_OK QUIT);
  report = post_ok (f);
  close_ok (f);
}

#define CAPS_TRANSIT "send 101 caps\\r\\nVERSION 2\\r\\nIHAVE\\r\\nSTREAMING\\r\\nMODE-READER\\r\\n.\\r\\n\n"

static void
test_mode_reader_capabilities (Fixture      *f,
                               gconstpointer data)
{
  g_autoptr (MsgSendReport) report = NULL;

  g_test_summary ("A transit-mode server (MODE-READER without READER) gets MODE READER first.");
  start (f, "line 200 news.example.test InterNetNews server INN 2.7.1 ready (transit mode)\n"
            "expect CAPABILITIES\n" CAPS_TRANSIT
            "expect MODE READER\nline 200 reader ready (posting ok)\n"
            "expect CAPABILITIES\n" CAPS_READER POST_OK QUIT);
  report = post_ok (f);
  close_ok (f);
}

static void
test_mode_reader_401 (Fixture      *f,
                      gconstpointer data)
{
  g_autoptr (MsgSendReport) report = NULL;
  g_autofree char *wire = NULL;

  g_test_summary ("POST answered with 401 MODE-READER: MODE READER, CAPABILITIES, POST again.");
  start (f, GREETING "expect CAPABILITIES\nline 500 What?\n"
                     "expect POST\nline 401 MODE-READER\n"
                     "expect MODE READER\nline 200 reader ready (posting ok)\n"
                     "expect CAPABILITIES\n" CAPS_READER POST_OK QUIT);
  report = post_ok (f);
  close_ok (f);
  wire = received (f, 0);
  g_assert_true (g_str_has_prefix (wire, "CAPABILITIES\r\nPOST\r\nMODE READER\r\nCAPABILITIES\r\nPOST\r\n"));
}

static void
test_after_dot (Fixture      *f,
                gconstpointer data)
{
  const char       *fault = data;
  g_autofree char  *first = g_strconcat (GREETING "expect CAPABILITIES\n" CAPS_READER "expect POST\nline 340 go\ndata\n",
                                         fault, NULL);
  const char *const scripts[] = {
    first,
    GREETING "expect CAPABILITIES\n" CAPS_READER POST_OK QUIT,
    NULL,
  };
  g_autofree char *message = NULL;
  g_autoptr (MsgSendReport) report = NULL;
  gint64 start_time;

  g_test_summary ("A time-out or lost connection after the terminator is OUTCOME_UNKNOWN; "
                  "the next post connects afresh.");
  start_multi (f, scripts);
  set (f, "nntpconnectiontimeout", "0.3");
  start_time = g_get_monotonic_time ();
  message = post_fails (f, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_OUTCOME_UNKNOWN);
  msg_test_assert_elapsed_below (start_time, 300 + 1000);
  g_assert_nonnull (strstr (message, "may have been posted"));
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));

  report = post_ok (f);
  close_ok (f);
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 2);
}

typedef struct
{
  MsgTestServer *server;
  GCancellable  *cancellable;
} CancelAtMark;

/* Cancels once the server has the whole article (its script's mark, after
 * the "data" step): the client then waits for the reply. */
static gpointer
cancel_at_mark (gpointer user_data)
{
  CancelAtMark *cm = user_data;

  g_assert_true (msg_test_server_wait_mark (cm->server, 1, msg_test_ms_scaled (10000)));
  g_cancellable_cancel (cm->cancellable);
  return NULL;
}

static void
test_cancel_after_dot (Fixture      *f,
                       gconstpointer data)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (MsgMessage) message = make_article ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  CancelAtMark cm = { NULL, cancellable };
  GThread     *thread;
  gint64       start_time;

  g_test_summary ("A cancellation after the terminator, before the reply, is OUTCOME_UNKNOWN, at once.");
  start (f, GREETING "expect CAPABILITIES\n" CAPS_READER "expect POST\nline 340 go\ndata\nmark\nstall\n");
  /* Only the cancellation can end the stall in time: a time-out after
   * the terminator is OUTCOME_UNKNOWN too. */
  set (f, "nntpconnectiontimeout", "60");
  cm.server = f->server;
  thread = g_thread_new ("cancel", cancel_at_mark, &cm);
  start_time = g_get_monotonic_time ();
  report = msg_transport_post_message (f->transport, message, cancellable, &error);
  g_thread_join (thread);
  g_assert_null (report);
  g_assert_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_OUTCOME_UNKNOWN);
  g_assert_true (g_cancellable_is_cancelled (cancellable));
  /* The post and the cancellation, with a second of slack (scaled). */
  msg_test_assert_elapsed_below (start_time, 1000);
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
}

static void
test_inactivity_before_post (Fixture      *f,
                             gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgSendReport) report = NULL;
  gint64 start_time;

  g_test_summary ("A server that never answers CAPABILITIES times out within the inactivity limit.");
  start (f, GREETING "expect CAPABILITIES\nstall\n");
  set (f, "nntpconnectiontimeout", "0.2");
  start_time = g_get_monotonic_time ();
  report = post (f, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  msg_test_assert_elapsed_below (start_time, 200 + 100);
}

static void
test_operation_deadline (Fixture      *f,
                         gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgSendReport) report = NULL;
  gint64 start_time;

  g_test_summary ("nntpoperationtimeout bounds a post that a dripping server would stretch.");
  start (f, "drip 1 50 200 a greeting dripped one byte every 50 ms\\r\\n\nwait-close\n");
  set (f, "nntpoperationtimeout", "0.3");
  start_time = g_get_monotonic_time ();
  report = post (f, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  msg_test_assert_elapsed_below (start_time, 300 + 100);
}

/* Authentication. */

static void
set_credentials (Fixture *f)
{
  set (f, "nntpauthenticate", "basic");
  set (f, "postusername", "bob");
  set (f, "postpassword", "s3cret pw");
}

static void
assert_password_not_traced (void)
{
  g_autofree char *log = msg_test_steal_log ();

  g_assert_null (strstr (log, "s3cret"));
  g_assert_null (strstr (log, "AGJvYgBzM2NyZXQgcHc="));
  g_assert_nonnull (strstr (log, "<redacted>"));
}

#define CAPS_USER "send 101 caps\\r\\nVERSION 2\\r\\nREADER\\r\\nAUTHINFO USER\\r\\n.\\r\\n\n"

static void
test_auth_user_pass (Fixture      *f,
                     gconstpointer data)
{
  g_autoptr (MsgSendReport) report = NULL;

  g_test_summary ("AUTHINFO USER/PASS (plaintext allowed), then POST at once; "
                  "the password is not traced.");
  start (f, "line 201 ready (no posting)\nexpect CAPABILITIES\n" CAPS_USER
            "expect AUTHINFO USER bob\nline 381 password please\n"
            "expect AUTHINFO PASS s3cret pw\nline 281 Authentication accepted\n" POST_OK QUIT);
  set_credentials (f);
  set (f, "nntpallowplaintextauth", "true");
  report = post_ok (f);
  close_ok (f);
  {
    g_autofree char *wire = received (f, 0);

    g_assert_true (g_str_has_prefix (wire, "CAPABILITIES\r\nAUTHINFO USER bob\r\nAUTHINFO PASS s3cret pw\r\n"
                                           "POST\r\n"));
  }
  assert_password_not_traced ();
}

#define CAPS_SASL "send 101 caps\\r\\nVERSION 2\\r\\nREADER\\r\\nAUTHINFO USER SASL\\r\\nSASL CRAM-MD5 PLAIN\\r\\n.\\r\\n\n"

static void
test_auth_sasl_plain (Fixture      *f,
                      gconstpointer data)
{
  g_autoptr (MsgSendReport) report = NULL;
  g_autofree char *wire = NULL;

  g_test_summary ("AUTHINFO SASL PLAIN with an initial response is preferred when offered.");
  start (f, "line 201 ready (no posting)\nexpect CAPABILITIES\n" CAPS_SASL
            "expect AUTHINFO SASL PLAIN AGJvYgBzM2NyZXQgcHc=\nline 281 Authentication accepted\n" POST_OK QUIT);
  set_credentials (f);
  set (f, "nntpallowplaintextauth", "true");
  report = post_ok (f);
  close_ok (f);
  wire = received (f, 0);
  g_assert_true (g_str_has_prefix (wire, "CAPABILITIES\r\nAUTHINFO SASL PLAIN AGJvYgBzM2NyZXQgcHc=\r\n"
                                         "POST\r\n"));
  assert_password_not_traced ();
}

static void
test_reuse_mechanisms_changed (Fixture      *f,
                               gconstpointer data)
{
#define SASL_PLAIN_LOGIN                                         \
  "line 201 ready (no posting)\nexpect CAPABILITIES\n" CAPS_SASL \
  "expect AUTHINFO SASL PLAIN AGJvYgBzM2NyZXQgcHc=\nline 281 Authentication accepted\n" POST_OK
  const char *const scripts[] = {
    SASL_PLAIN_LOGIN "wait-close\n",
    SASL_PLAIN_LOGIN QUIT,
    NULL,
  };
#undef SASL_PLAIN_LOGIN
  g_autoptr (MsgSendReport) first = NULL;
  g_autoptr (MsgSendReport) second = NULL;
  g_autoptr (MsgConfiguration) changed = NULL;
  g_autoptr (GError) error = NULL;

  g_test_summary ("A connection authenticated under one nntpauthmechanisms is not reused once "
                  "the caller pins others: the key of reuse includes them, as SMTP's does.");
  start_multi (f, scripts);
  set_credentials (f);
  set (f, "nntpallowplaintextauth", "true");
  first = post_ok (f);
  changed = msg_configuration_copy (f->config);
  g_assert_true (msg_configuration_set_field (changed, "nntpauthmechanisms", "PLAIN", &error));
  g_assert_no_error (error);
  msg_transport_set_configuration (f->transport, changed);
  second = post_ok (f);
  close_ok (f);
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 2);
}

static void
test_auth_sasl_then_user (Fixture      *f,
                          gconstpointer data)
{
  g_autoptr (MsgSendReport) report = NULL;
  g_autofree char *wire = NULL;

  g_test_summary ("SASL PLAIN refused (INN checks it against other users): USER/PASS is tried next.");
  start (f, "line 201 ready (no posting)\nexpect CAPABILITIES\n" CAPS_SASL
            "expect AUTHINFO SASL PLAIN AGJvYgBzM2NyZXQgcHc=\nline 481 user not found\n"
            "expect AUTHINFO USER bob\nline 381 password please\n"
            "expect AUTHINFO PASS s3cret pw\nline 281 ok\n" POST_OK QUIT);
  set_credentials (f);
  set (f, "nntpallowplaintextauth", "true");
  report = post_ok (f);
  close_ok (f);
  wire = received (f, 0);
  g_assert_true (g_str_has_prefix (wire, "CAPABILITIES\r\nAUTHINFO SASL PLAIN AGJvYgBzM2NyZXQgcHc=\r\n"
                                         "AUTHINFO USER bob\r\nAUTHINFO PASS s3cret pw\r\nPOST\r\n"));
  assert_password_not_traced ();
}

static void
test_auth_481 (Fixture      *f,
               gconstpointer data)
{
  g_autofree char *message = NULL;

  g_test_summary ("481 is AUTHENTICATION_FAILED with the server's text.");
  start (f, "line 201 ready (no posting)\nexpect CAPABILITIES\n" CAPS_USER
            "expect AUTHINFO USER bob\nline 381 password please\n"
            "expect AUTHINFO PASS\nline 481 Authentication failed\nwait-close\n");
  set_credentials (f);
  set (f, "nntpallowplaintextauth", "true");
  message = post_fails (f, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED);
  g_assert_nonnull (strstr (message, "481 Authentication failed"));
  g_assert_nonnull (strstr (message, "bob"));
  g_assert_null (strstr (message, "s3cret"));
}

static void
test_auth_after_480 (Fixture      *f,
                     gconstpointer data)
{
  g_autoptr (MsgSendReport) report = NULL;

  g_test_summary ("A 480 to POST from a server that did not list AUTHINFO: USER/PASS, then POST again.");
  start (f, GREETING "expect CAPABILITIES\n" CAPS_READER
                     "expect POST\nline 480 Authentication required\n"
                     "expect AUTHINFO USER bob\nline 381 password please\n"
                     "expect AUTHINFO PASS s3cret pw\nline 281 ok\n" POST_OK QUIT);
  set_credentials (f);
  set (f, "nntpallowplaintextauth", "true");
  report = post_ok (f);
  close_ok (f);
}

static void
test_auth_needs_tls (Fixture      *f,
                     gconstpointer data)
{
  g_autofree char *message = NULL;

  g_test_summary ("Credentials are never sent without TLS unless nntpallowplaintextauth says so.");
  start (f, "line 201 ready (no posting)\nexpect CAPABILITIES\n" CAPS_SASL "wait-close\n");
  set_credentials (f);
  message = post_fails (f, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_TLS_UNAVAILABLE);
  g_assert_nonnull (strstr (message, "nntpallowplaintextauth"));
  assert_received (f, 0, "CAPABILITIES\r\n");
}

/* TLS. */

#define CAPS_STARTTLS "send 101 caps\\r\\nVERSION 2\\r\\nREADER\\r\\nPOST\\r\\nSTARTTLS\\r\\n.\\r\\n\n"
#define STARTTLS_OK "expect STARTTLS\nline 382 Continue with TLS negotiation\nstarttls\n"

static void
test_starttls (Fixture      *f,
               gconstpointer data)
{
  g_autoptr (MsgSendReport) report = NULL;

  g_test_summary ("Opportunistic STARTTLS (RFC 4642): 382, handshake, CAPABILITIES again, SASL PLAIN over TLS.");
  start (f, GREETING "expect CAPABILITIES\n" CAPS_STARTTLS STARTTLS_OK
                     "expect CAPABILITIES\n" CAPS_SASL
                     "expect AUTHINFO SASL PLAIN AGJvYgBzM2NyZXQgcHc=\nline 281 ok\n" POST_OK QUIT);
  set_credentials (f);
  report = post_ok (f);
  close_ok (f);
  {
    g_autofree char *wire = received (f, 0);

    g_assert_true (g_str_has_prefix (wire, "CAPABILITIES\r\nSTARTTLS\r\nCAPABILITIES\r\nAUTHINFO SASL PLAIN "));
  }
}

static void
test_starttls_injection (Fixture      *f,
                         gconstpointer data)
{
  g_autofree char *message = NULL;

  g_test_summary ("Bytes after the 382 go-ahead and before the handshake are refused.");
  start (f, GREETING "expect CAPABILITIES\n" CAPS_STARTTLS
                     "expect STARTTLS\nsend 382 go ahead\\r\\n101 injected\\r\\nAUTHINFO USER\\r\\n.\\r\\n\n"
                     "wait-close\n");
  message = post_fails (f, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (message, "injection"));
  assert_received (f, 0, "CAPABILITIES\r\nSTARTTLS\r\n");
}

static void
test_starttls_required (Fixture      *f,
                        gconstpointer data)
{
  g_test_summary ("nntpstarttls=required fails with TLS_UNAVAILABLE when STARTTLS is not offered.");
  start (f, GREETING "expect CAPABILITIES\n" CAPS_READER "wait-close\n");
  set (f, "nntpstarttls", "required");
  g_free (post_fails (f, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_TLS_UNAVAILABLE));
  assert_received (f, 0, "CAPABILITIES\r\n");
}

static void
test_starttls_never (Fixture      *f,
                     gconstpointer data)
{
  g_autoptr (MsgSendReport) report = NULL;

  g_test_summary ("nntpstarttls=never posts in plain even when STARTTLS is offered.");
  start (f, GREETING "expect CAPABILITIES\n" CAPS_STARTTLS POST_OK QUIT);
  set (f, "nntpstarttls", "never");
  report = post_ok (f);
  close_ok (f);
}

static void
test_starttls_bad_certificate (Fixture      *f,
                               gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgSendReport) report = NULL;

  g_test_summary ("An untrusted certificate fails the post; it never falls back to plain.");
  start (f, GREETING "expect CAPABILITIES\n" CAPS_STARTTLS STARTTLS_OK "wait-close\n");
  set (f, "tlscafile", "");
  report = post (f, &error);
  g_assert_nonnull (error);
  g_test_message ("error: %s", error->message);
  g_assert_cmpstr (g_quark_to_string (error->domain), ==, g_quark_to_string (G_TLS_ERROR));
  assert_received (f, 0, "CAPABILITIES\r\nSTARTTLS\r\n");
  msg_test_fixture_expect_server_error (f, "starttls: handshake failed");
}

static void
test_starttls_refused (Fixture      *f,
                       gconstpointer data)
{
  gboolean required = GPOINTER_TO_INT (data);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgSendReport) report = NULL;

  g_test_summary ("A 580 to STARTTLS: opportunistic posts in plain, required fails with TLS_UNAVAILABLE.");
  start (f, required ? GREETING "expect CAPABILITIES\n" CAPS_STARTTLS "expect STARTTLS\nline 580 Can not initiate TLS negotiation\nwait-close\n"
                     : GREETING "expect CAPABILITIES\n" CAPS_STARTTLS "expect STARTTLS\nline 580 Can not initiate TLS negotiation\n" POST_OK QUIT);
  set (f, "nntpstarttls", required ? "required" : "opportunistic");
  report = post (f, &error);
  if (required)
    {
      g_assert_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_TLS_UNAVAILABLE);
      g_assert_nonnull (strstr (error->message, "580 Can not initiate TLS negotiation"));
    }
  else
    {
      g_assert_no_error (error);
      close_ok (f);
    }
}

static void
test_close_stalled (Fixture      *f,
                    gconstpointer data)
{
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  gint64 start_time;

  g_test_summary ("A QUIT that gets no answer: close fails within the limit and the socket is closed.");
  start (f, GREETING "expect CAPABILITIES\n" CAPS_READER POST_OK "expect QUIT\nstall\n");
  set (f, "nntpconnectiontimeout", "0.2");
  report = post_ok (f);
  start_time = g_get_monotonic_time ();
  g_assert_false (msg_transport_close (f->transport, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  msg_test_assert_elapsed_below (start_time, 200 + 100);
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  g_clear_error (&error);
  /* Nothing is left to close. */
  g_assert_true (msg_transport_close (f->transport, NULL, &error));
  g_assert_no_error (error);
}

static void
test_implicit_tls (Fixture      *f,
                   gconstpointer data)
{
  g_autoptr (MsgSendReport) report = NULL;

  g_test_summary ("nntpusessl: TLS from the first byte, no STARTTLS even if listed.");
  start (f, "starttls\n" GREETING "expect CAPABILITIES\n" CAPS_STARTTLS POST_OK QUIT);
  set (f, "nntpusessl", "true");
  report = post_ok (f);
  close_ok (f);
  {
    g_autofree char *wire = received (f, 0);

    g_assert_true (g_str_has_prefix (wire, "CAPABILITIES\r\nPOST\r\n"));
  }
}

/* Validation, dispatch, async. */

static void
test_no_server (Fixture      *f,
                gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgMessage) message = make_article ();
  g_autoptr (MsgSendReport) report = NULL;

  g_test_summary ("Without nntpserver a post fails with NO_SERVER before any I/O.");
  f->config = msg_configuration_new ();
  make_transport (f);
  report = msg_transport_post_message (f->transport, message, NULL, &error);
  g_assert_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_NO_SERVER);
}

static void
test_checks_before_io (Fixture      *f,
                       gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgMessage) message = msg_message_new ();
  g_autoptr (MsgSendReport) report = NULL;

  g_test_summary ("Newsgroups, From and Subject are checked before connecting.");
  start (f, GREETING "wait-close\n");
  report = msg_transport_post_message (f->transport, message, NULL, &error);
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_NO_NEWSGROUPS);
  g_clear_error (&error);
  msg_message_set_newsgroups (message, "local.test", NULL);
  report = msg_transport_post_message (f->transport, message, NULL, &error);
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_NO_SENDER);
  g_clear_error (&error);
  msg_message_set_from (message, "alice@example.test", NULL);
  report = msg_transport_post_message (f->transport, message, NULL, &error);
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_NO_SUBJECT);
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 0);
  g_clear_pointer (&f->server, msg_test_server_free);
}

static void
test_send_not_supported (Fixture      *f,
                         gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgMessage) message = make_article ();
  g_autoptr (MsgSendReport) report = NULL;

  g_test_summary ("The nntp transport posts; sending mail with it is NOT_SUPPORTED.");
  f->config = msg_configuration_new ();
  make_transport (f);
  msg_message_set_to (message, "bob@example.test", NULL);
  report = msg_transport_send_message (f->transport, message, NULL, &error);
  g_assert_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_NOT_SUPPORTED);
}

static void
test_message_post (Fixture      *f,
                   gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgMessage) message = make_article ();
  g_autoptr (MsgSendReport) report = NULL;

  g_test_summary ("msg_message_post with postusing=2 posts over NNTP and ends with QUIT.");
  start (f, plain_script);
  set (f, "postusing", "2");
  msg_message_set_configuration (message, f->config);
  report = msg_message_post (message, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (msg_send_report_get_transport_name (report), ==, "nntp");
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
}

static void
progress_cb (MsgTransport *transport,
             guint64       sent,
             guint64       total,
             gpointer      user_data)
{
  guint64 *last = user_data;

  g_assert_cmpuint (sent, <=, total);
  g_assert_cmpuint (sent, >=, last[0]);
  last[0] = sent;
  last[1] = total;
}

static void
post_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  MsgSendReport **report = user_data;
  g_autoptr (GError) error = NULL;

  *report = msg_transport_post_message_finish (MSG_TRANSPORT (source), result, &error);
  g_assert_no_error (error);
}

static void
test_async_progress (Fixture      *f,
                     gconstpointer data)
{
  g_autoptr (MsgMessage) message = make_article ();
  g_autoptr (MsgSendReport) report = NULL;
  guint64 last[2] = { 0, 0 };

  g_test_summary ("An async post reports progress in the caller's context, ending at the total.");
  start (f, plain_script);
  g_signal_connect (f->transport, "progress", G_CALLBACK (progress_cb), last);
  msg_transport_post_message_async (f->transport, message, NULL, post_done_cb, &report);
  while (report == NULL)
    g_main_context_iteration (NULL, TRUE);
  /* The final emission may be queued just before the callback's. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (last[1], >, 0);
  g_assert_cmpuint (last[0], ==, last[1]);
  close_ok (f);
}

static void
test_close_idle_closed (Fixture      *f,
                        gconstpointer data)
{
  g_test_summary ("Closing a transport without a connection does nothing and succeeds.");
  f->config = msg_configuration_new ();
  make_transport (f);
  close_ok (f);
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
  ADD ("/nntp/post/plain", test_plain_post);
  ADD ("/nntp/post/server-without-postusing", test_server_without_postusing);
  ADD ("/nntp/post/reuse", test_reuse);
  ADD ("/nntp/post/reuse-settings-changed", test_reuse_settings_changed);
  ADD ("/nntp/post/reuse-setting-changed-kept", test_reuse_setting_changed);
  ADD ("/nntp/post/reuse-after-server-closed", test_reuse_after_server_closed);
  ADD ("/nntp/post/reuse-mechanisms-changed", test_reuse_mechanisms_changed);
  ADD ("/nntp/post/no-capabilities", test_no_capabilities);
  ADD_DATA ("/nntp/post/timeout-after-dot", "stall\n", test_after_dot);
  ADD_DATA ("/nntp/post/closed-after-dot", "close\n", test_after_dot);
  ADD_DATA ("/nntp/post/reset-after-dot", "reset\n", test_after_dot);
  ADD ("/nntp/post/cancel-after-dot", test_cancel_after_dot);
  ADD ("/nntp/post/async-progress", test_async_progress);
  ADD ("/nntp/clock/inactivity", test_inactivity_before_post);
  ADD ("/nntp/clock/operation-deadline", test_operation_deadline);
  for (guint i = 0; i < G_N_ELEMENTS (refusal_cases); i++)
    ADD_DATA (refusal_cases[i].path, &refusal_cases[i], test_refusal);
  ADD ("/nntp/mode-reader/capabilities", test_mode_reader_capabilities);
  ADD ("/nntp/mode-reader/401", test_mode_reader_401);
  ADD ("/nntp/auth/user-pass", test_auth_user_pass);
  ADD ("/nntp/auth/sasl-plain", test_auth_sasl_plain);
  ADD ("/nntp/auth/sasl-then-user", test_auth_sasl_then_user);
  ADD ("/nntp/auth/481", test_auth_481);
  ADD ("/nntp/auth/after-480", test_auth_after_480);
  ADD ("/nntp/auth/needs-tls", test_auth_needs_tls);
  ADD ("/nntp/tls/starttls", test_starttls);
  ADD ("/nntp/tls/starttls-injection", test_starttls_injection);
  ADD ("/nntp/tls/starttls-required", test_starttls_required);
  ADD ("/nntp/tls/starttls-never", test_starttls_never);
  ADD ("/nntp/tls/bad-certificate", test_starttls_bad_certificate);
  ADD ("/nntp/tls/implicit", test_implicit_tls);
  ADD_DATA ("/nntp/tls/starttls-refused/opportunistic", GINT_TO_POINTER (FALSE), test_starttls_refused);
  ADD_DATA ("/nntp/tls/starttls-refused/required", GINT_TO_POINTER (TRUE), test_starttls_refused);
  ADD ("/nntp/validate/no-server", test_no_server);
  ADD ("/nntp/validate/before-io", test_checks_before_io);
  ADD ("/nntp/validate/send-not-supported", test_send_not_supported);
  ADD ("/nntp/close/nothing", test_close_idle_closed);
  ADD ("/nntp/close/stalled", test_close_stalled);
  ADD ("/nntp/dispatch/message-post", test_message_post);
#undef ADD
#undef ADD_DATA

  {
    int result = g_test_run ();

    msg_test_fixture_cleanup ();
    return result;
  }
}
