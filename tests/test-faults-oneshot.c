/* test-faults-oneshot.c: the promise on the one-shot path, and DNS errors
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * msg_message_send() and msg_message_post() (CDO's Message.Send and
 * Message.Post) make a transport for the call, send, and end the
 * connection with QUIT. The server has accepted the message by then, so
 * the call succeeds; but the promise holds here too: against a server
 * that goes silent after QUIT the call returns within its total deadline,
 * a cancel during that wait ends it at once, the server sees the close,
 * no descriptor is left, and the next one-shot send works. Each case is
 * /faults-oneshot/PROTO/PROFILE/MODE.
 *
 * The resolver cases install a GResolver of the test's with
 * g_resolver_set_default(), so no real DNS is needed: a name that does
 * not exist and a temporary failure keep GLib's resolver codes.
 *
 * Timing: the total deadline (Tt) is 1 s where a case is about it, the
 * slack 250 ms (a loaded two-core machine, shared with other builds,
 * needs more than the 100 ms of tests/test-faults.c once TLS is in the
 * dialogue; it stays below the 1 s by which NNTP's QUIT limit of 2 s,
 * what used to end the call, exceeds Tt). Every limit and the slack are
 * multiplied by MSGOBJ_TEST_TIME_SCALE for slow runs.
 */
#include "config.h"

#include "test-faults-utils.h"
#include "test-utils.h"
#include "msg-test-server.h"

#include <signal.h>
#include <string.h>

/* Clocks, in ms, before scaling. */
#define TOTAL_MS 1000 /* Tt: the operation deadline of the deadline cases */
#define LONG_MS 8000  /* a limit that must not be what ends the call */
#define SLACK_MS 250  /* ε */

/* Dialogues. */

typedef enum
{
  PROTO_SMTP,
  PROTO_NNTP,
} Proto;

static const char *const proto_names[] = { "smtp", "nntp" };

typedef enum
{
  PROFILE_PLAIN,
  PROFILE_STARTTLS,
  PROFILE_IMPLICIT_TLS,
  N_PROFILES
} Profile;

static const char *const profile_names[] = { "plain", "starttls", "implicit-tls" };

static const char smtp_greeting[] = "line 220 test.invalid ESMTP ready\n";

static const char smtp_starttls[] =
    "expect EHLO\n"
    "line 250-test.invalid greets you\n"
    "line 250 STARTTLS\n"
    "expect STARTTLS\n"
    "line 220 2.0.0 Ready to start TLS\n"
    "starttls\n";

static const char smtp_transaction[] =
    "expect EHLO\n"
    "line 250-test.invalid greets you\n"
    "line 250 8BITMIME\n"
    "expect MAIL FROM:\n"
    "line 250 2.1.0 Sender ok\n"
    "expect RCPT TO:\n"
    "line 250 2.1.5 Recipient ok\n"
    "expect DATA\n"
    "line 354 End data with <CR><LF>.<CR><LF>\n"
    "data\n"
    "line 250 2.0.0 Ok: queued as 4711\n"
    "expect QUIT\n";

static const char nntp_greeting[] = "line 200 news.test.invalid ready, posting allowed\n";

static const char nntp_starttls[] =
    "expect CAPABILITIES\n"
    "line 101 Capability list:\n"
    "line VERSION 2\n"
    "line READER\n"
    "line POST\n"
    "line STARTTLS\n"
    "line .\n"
    "expect STARTTLS\n"
    "line 382 Continue with TLS negotiation\n"
    "starttls\n";

static const char nntp_transaction[] =
    "expect CAPABILITIES\n"
    "line 101 Capability list:\n"
    "line VERSION 2\n"
    "line READER\n"
    "line POST\n"
    "line .\n"
    "expect POST\n"
    "line 340 Send article to be posted\n"
    "data\n"
    "line 240 Article received OK\n"
    "expect QUIT\n";

/* The dialogue up to the server reading QUIT, then @ending. */
static char *
make_script (Proto       proto,
             Profile     profile,
             const char *ending)
{
  GString *script = g_string_new (NULL);

  if (profile == PROFILE_IMPLICIT_TLS)
    g_string_append (script, "starttls\n");
  g_string_append (script, proto == PROTO_SMTP ? smtp_greeting : nntp_greeting);
  if (profile == PROFILE_STARTTLS)
    g_string_append (script, proto == PROTO_SMTP ? smtp_starttls : nntp_starttls);
  g_string_append (script, proto == PROTO_SMTP ? smtp_transaction : nntp_transaction);
  g_string_append (script, ending);
  return g_string_free (script, FALSE);
}

/* The server goes silent after QUIT; "mark" tells the test it got there. */
static char *
silent_script (Proto   proto,
               Profile profile)
{
  return make_script (proto, profile, "mark\nstall\n");
}

static char *
healthy_script (Proto   proto,
                Profile profile)
{
  return make_script (proto, profile, proto == PROTO_SMTP ? "line 221 2.0.0 Bye\n" : "line 205 Bye\n");
}

/* The fixture's server (@scripts) and a configuration for the one-shot
 * call: `sendusing`/`postusing` the protocol, TLS as @profile, the
 * inactivity limit long and the total deadline @total_ms. */
static void
start_server (MsgTestFixture    *f,
              Proto              proto,
              Profile            profile,
              const char *const *scripts,
              double             total_ms)
{
  const char      *p = proto_names[proto];
  g_autofree char *unit = msg_test_seconds_text (LONG_MS);
  g_autofree char *total = msg_test_seconds_text (total_ms);
  g_autofree char *operation_timeout = g_strconcat (p, "operationtimeout", NULL);
  g_autofree char *starttls = g_strconcat (p, "starttls", NULL);
  g_autofree char *usessl = g_strconcat (p, "usessl", NULL);

  msg_test_fixture_start_server (f, p, scripts, unit);
  msg_test_config_set (f->config, proto == PROTO_SMTP ? "sendusing" : "postusing", p);
  msg_test_config_set (f->config, operation_timeout, total);
  msg_test_config_set (f->config, starttls, profile == PROFILE_STARTTLS ? "required" : "never");
  msg_test_config_set (f->config, usessl, profile == PROFILE_IMPLICIT_TLS ? "true" : "false");
}

static MsgMessage *
make_message (MsgConfiguration *configuration)
{
  MsgMessage *message = msg_test_fault_message_new ("One-shot", "test.oneshot", NULL);

  if (configuration != NULL)
    msg_message_set_configuration (message, configuration);
  return message;
}

/* The one-shot cases. */

typedef struct
{
  Proto       proto;
  Profile     profile;
  MsgTestMode mode;
} Case;

/* Every protocol × profile × mode; the test cases point into it. */
static Case cases[2 * N_PROFILES * MSG_TEST_N_MODES];

static void
test_silent_after_quit (MsgTestFixture *f,
                        gconstpointer   data)
{
  const Case      *c = data;
  g_autofree char *silent = silent_script (c->proto, c->profile);
  g_autofree char *healthy = healthy_script (c->proto, c->profile);
  const char      *scripts[] = { silent, healthy, NULL };
  unsigned         base_sockets;
  g_autoptr (MsgMessage) message = NULL;
  g_autoptr (MsgMessage) next = NULL;
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  MsgTestRun run = { 0 };

  /* A cancel case has a deadline far away: only the cancel may end the
   * wait for the answer to QUIT. */
  start_server (f, c->proto, c->profile, scripts, msg_test_mode_is_cancel (c->mode) ? LONG_MS : TOTAL_MS);
  message = make_message (f->config);
  /* The server's listening socket is in the count. */
  base_sockets = msg_test_count_sockets ();

  run.message = message;
  run.op = c->proto == PROTO_NNTP ? MSG_TEST_OP_MESSAGE_POST : MSG_TEST_OP_MESSAGE_SEND;
  run.mode = c->mode;
  run.server = f->server;
  msg_test_run_call (&run);

  /* The message was accepted: the call succeeds, whatever QUIT met. */
  g_assert_no_error (run.error);
  g_assert_true (run.ok);
  g_test_message ("elapsed %" G_GINT64_FORMAT " ms from the call", (run.end - run.start) / 1000);
  if (msg_test_mode_is_cancel (c->mode))
    {
      g_assert_true (run.trigger_seen);
      g_assert_cmpint (run.cancelled_at, >, 0);
      g_assert_cmpint ((run.end - run.cancelled_at) / 1000, <=, msg_test_ms_scaled (SLACK_MS));
      /* The library never resets the caller's cancellable. */
      g_assert_true (g_cancellable_is_cancelled (run.cancellable));
    }
  else
    {
      /* The server got QUIT and said nothing: the total deadline, not
       * QUIT's own limit (5 s SMTP, 2 s NNTP), ended the wait. */
      g_assert_true (msg_test_server_wait_mark (f->server, 1, 0));
      g_assert_cmpint ((run.end - run.start) / 1000, <=, msg_test_ms_scaled (TOTAL_MS + SLACK_MS));
    }
  /* The socket was closed when the call returned. */
  g_assert_true (msg_test_server_wait_closed (f->server, (unsigned) msg_test_ms_scaled (SLACK_MS)));
  g_assert_cmpuint (msg_test_wait_sockets (base_sockets, msg_test_ms_scaled (SLACK_MS)), ==, base_sockets);
  msg_test_run_clear (&run);

  /* The next one-shot call works, on a fresh connection. */
  next = make_message (f->config);
  if (c->proto == PROTO_NNTP)
    report = msg_message_post (next, NULL, &error);
  else
    report = msg_message_send (next, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (report);
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 2);
}

/* A healthy server: QUIT answered, the call returns at once. Guards the
 * cases above against passing for a dialogue that never reached QUIT. */
static void
test_healthy (MsgTestFixture *f,
              gconstpointer   data)
{
  const Case      *c = data;
  g_autofree char *healthy = healthy_script (c->proto, c->profile);
  const char      *scripts[] = { healthy, NULL };
  g_autoptr (MsgMessage) message = NULL;
  MsgTestRun run = { 0 };

  start_server (f, c->proto, c->profile, scripts, LONG_MS);
  message = make_message (f->config);
  run.message = message;
  run.op = c->proto == PROTO_NNTP ? MSG_TEST_OP_MESSAGE_POST : MSG_TEST_OP_MESSAGE_SEND;
  run.mode = c->mode;
  msg_test_run_call (&run);
  g_assert_no_error (run.error);
  g_assert_true (run.ok);
  g_assert_true (msg_test_server_wait_closed (f->server, (unsigned) msg_test_ms_scaled (LONG_MS)));
  msg_test_run_clear (&run);
}

/* The resolver cases. */

/* The errors GLib's threaded resolver gives for EAI_NONAME and EAI_AGAIN
 * (@data: the GResolverError). */
static GList *
failing_lookup (const char *hostname,
                gpointer    data,
                GError    **error)
{
  GResolverError code = GPOINTER_TO_INT (data);

  if (code == G_RESOLVER_ERROR_TEMPORARY_FAILURE)
    g_set_error (error, G_RESOLVER_ERROR, code, "Temporary failure in name resolution");
  else
    g_set_error (error, G_RESOLVER_ERROR, code, "Error resolving “%s”: Name or service not known", hostname);
  return NULL;
}

static void
assert_resolver_error (const GError *error,
                       int           code,
                       const char   *host,
                       const char   *meaning)
{
  g_assert_error (error, G_RESOLVER_ERROR, code);
  g_test_message ("error: %s", error->message);
  g_assert_nonnull (strstr (error->message, host));
  g_assert_nonnull (strstr (error->message, meaning));
}

/* A name that does not exist is G_RESOLVER_ERROR_NOT_FOUND, a temporary
 * failure G_RESOLVER_ERROR_TEMPORARY_FAILURE (GLib's codes, as
 * GSocketClient reports them), each naming the host and what it means,
 * from a connection and through msg_message_send() and _post(). */
static void
test_resolver_error_kept (MsgTestFixture *f,
                          gconstpointer   data)
{
  GResolverError code = GPOINTER_TO_INT (data);
  const char    *meaning = code == G_RESOLVER_ERROR_NOT_FOUND ? "host not found" : "temporary failure";
  const char    *host = "no-such-host.example.test";
  g_autoptr (GResolver) original = g_resolver_get_default ();
  g_autoptr (GResolver) resolver = msg_test_resolver_new (failing_lookup, GINT_TO_POINTER (code));
  g_autoptr (MsgConnection) connection = msg_connection_new (host, 25);
  g_autoptr (GError) error = NULL;

  g_resolver_set_default (resolver);

  msg_connection_set_timeout (connection, msg_test_ms_scaled (LONG_MS) / 1000.0);
  g_assert_false (msg_connection_connect (connection, FALSE, NULL, &error));
  assert_resolver_error (error, code, host, meaning);
  g_clear_error (&error);

  for (Proto proto = PROTO_SMTP; proto <= PROTO_NNTP; proto++)
    {
      g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();
      g_autoptr (MsgMessage) message = NULL;
      g_autoptr (MsgSendReport) report = NULL;
      g_autofree char *server = g_strconcat (proto_names[proto], "server", NULL);

      msg_test_config_set (configuration, proto == PROTO_SMTP ? "sendusing" : "postusing", proto_names[proto]);
      msg_test_config_set (configuration, server, host);
      message = make_message (configuration);
      if (proto == PROTO_NNTP)
        report = msg_message_post (message, NULL, &error);
      else
        report = msg_message_send (message, NULL, &error);
      g_assert_null (report);
      assert_resolver_error (error, code, host, meaning);
      g_clear_error (&error);
    }

  g_resolver_set_default (original);
}

/* Setup. */

static void
warm_up_done_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      data)
{
  g_autoptr (MsgSendReport) report = NULL;

  if (GPOINTER_TO_INT (g_object_get_data (source, "post")))
    report = msg_message_post_finish (MSG_MESSAGE (source), result, NULL);
  else
    report = msg_message_send_finish (MSG_MESSAGE (source), result, NULL);
  *(gboolean *) data = TRUE;
}

/* One healthy asynchronous one-shot call per protocol and profile, so
 * that descriptors that GLib, the modules and TLS keep for the process's
 * life are there before any case counts them. Nothing is asserted here:
 * the /healthy cases do. */
static void
warm_up (void)
{
  for (Proto proto = PROTO_SMTP; proto <= PROTO_NNTP; proto++)
    for (Profile profile = PROFILE_PLAIN; profile < N_PROFILES; profile++)
      {
        g_autofree char *healthy = healthy_script (proto, profile);
        const char      *scripts[] = { healthy, NULL };
        MsgTestFixture   f = { 0 };
        g_autoptr (MsgMessage) message = NULL;
        gboolean done = FALSE;

        start_server (&f, proto, profile, scripts, LONG_MS);
        message = make_message (f.config);
        g_object_set_data (G_OBJECT (message), "post", GINT_TO_POINTER (proto == PROTO_NNTP));
        if (proto == PROTO_NNTP)
          msg_message_post_async (message, NULL, warm_up_done_cb, &done);
        else
          msg_message_send_async (message, NULL, warm_up_done_cb, &done);
        while (!done)
          g_main_context_iteration (NULL, TRUE);
        msg_test_server_wait_closed (f.server, (unsigned) msg_test_ms_scaled (LONG_MS));
        g_clear_object (&f.config);
        g_clear_pointer (&f.server, msg_test_server_free);
      }
}

int
main (int   argc,
      char *argv[])
{
  msg_test_capture_log ();
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  /* GLib makes it (and its descriptor) for the process's life on first
   * use, which may come in the middle of a case. */
  (void) g_main_context_default ();
  /* A write to a socket the server reset must fail, not kill us. */
  signal (SIGPIPE, SIG_IGN);

  msg_test_fixture_init ();
  warm_up ();

  for (Proto proto = PROTO_SMTP; proto <= PROTO_NNTP; proto++)
    for (Profile profile = PROFILE_PLAIN; profile < N_PROFILES; profile++)
      for (MsgTestMode mode = MSG_TEST_MODE_SYNC; mode < MSG_TEST_N_MODES; mode++)
        {
          Case            *c = &cases[(proto * N_PROFILES + profile) * MSG_TEST_N_MODES + mode];
          g_autofree char *path = NULL;
          g_autofree char *healthy_path = NULL;

          c->proto = proto;
          c->profile = profile;
          c->mode = mode;
          if (!msg_test_mode_is_cancel (mode))
            {
              healthy_path = g_strdup_printf ("/faults-oneshot/%s/%s/healthy/%s", proto_names[proto],
                                              profile_names[profile], msg_test_mode_names[mode]);
              g_test_add (healthy_path, MsgTestFixture, c, msg_test_fixture_setup, test_healthy,
                          msg_test_fixture_teardown);
            }
          path = g_strdup_printf ("/faults-oneshot/%s/%s/silent-after-quit/%s", proto_names[proto],
                                  profile_names[profile], msg_test_mode_names[mode]);
          g_test_add (path, MsgTestFixture, c, msg_test_fixture_setup, test_silent_after_quit,
                      msg_test_fixture_teardown);
        }
  g_test_add ("/faults-oneshot/resolver/not-found", MsgTestFixture, GINT_TO_POINTER (G_RESOLVER_ERROR_NOT_FOUND),
              msg_test_fixture_setup, test_resolver_error_kept, msg_test_fixture_teardown);
  g_test_add ("/faults-oneshot/resolver/temporary-failure", MsgTestFixture,
              GINT_TO_POINTER (G_RESOLVER_ERROR_TEMPORARY_FAILURE), msg_test_fixture_setup,
              test_resolver_error_kept, msg_test_fixture_teardown);

  return g_test_run ();
}
