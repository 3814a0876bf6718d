/* test-faults-stress.c: hundreds of random cancels over TLS
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The fault matrix (test-faults*.c) cancels at one chosen point of each
 * stage; this suite cancels at random instants. Each round draws a stage
 * (connect, TLS handshake, EHLO, AUTH, MAIL/RCPT, DATA, the final reply,
 * QUIT), implicit TLS or STARTTLS, a synchronous call (cancelled from
 * another thread) or an asynchronous one (cancelled from its main loop),
 * and a delay of 0 to 20 ms. A scripted server stalls at that stage and
 * marks it; the cancel comes the delay after the mark (for the connect
 * stage, the delay after the call started, the server healthy). Each round
 * asserts:
 *
 * - the call returns within the slack of the cancel, with
 *   G_IO_ERROR_CANCELLED (MSG_TRANSPORT_ERROR_OUTCOME_UNKNOWN while
 *   waiting for the final reply; success for the connect stage and QUIT
 *   when the cancel came too late to matter);
 * - the server sees the close;
 * - the next send on the same transport works (the server's second
 *   script is healthy), and after it the descriptors are at the
 *   baseline.
 *
 * The rounds come from g_test_rand_*(): GLib prints the seed ("# random
 * seed: ...") and --seed replays a run. There are 300 rounds, divided by
 * MSGOBJ_TEST_TIME_SCALE (valgrind's 8: 37 rounds, a few minutes; the
 * ASan pass's 3: 100). The slack, 250 ms, is for a loaded two-core
 * machine, and is multiplied by MSGOBJ_TEST_TIME_SCALE for slow runs.
 */
#include "config.h"

#include "test-utils.h"
#include "msg-test-server.h"

#include <signal.h>
#include <string.h>

#define ROUNDS 300
#define MIN_ROUNDS 20
#define LONG_MS 8000 /* the clocks: never what ends a round */
#define SLACK_MS 250 /* ε: from the cancel to the return */
#define MAX_DELAY_US 20000

typedef enum
{
  STAGE_CONNECT,
  STAGE_TLS,
  STAGE_EHLO,
  STAGE_AUTH,
  STAGE_MAIL_RCPT,
  STAGE_DATA,
  STAGE_FINAL_REPLY,
  STAGE_QUIT,
  N_STAGES
} Stage;

static const char *const stage_names[] = {
  "connect",
  "tls-handshake",
  "ehlo",
  "auth",
  "mail-rcpt",
  "data",
  "final-reply",
  "quit",
};

/* The script of a round: the dialogue up to @stalled, where the server
 * marks and stalls (N_STAGES: the whole healthy dialogue). */
static char *
make_script (gboolean implicit_tls,
             Stage    stalled)
{
  GString *s = g_string_new (NULL);

#define STALL_AT(stage, before)                      \
  G_STMT_START                                       \
  {                                                  \
    if (stalled == (stage))                          \
      {                                              \
        g_string_append (s, before "mark\nstall\n"); \
        return g_string_free (s, FALSE);             \
      }                                              \
  }                                                  \
  G_STMT_END

  if (implicit_tls)
    {
      if (stalled == STAGE_TLS)
        {
          g_string_append (s, "mark\ntls-stall\n");
          return g_string_free (s, FALSE);
        }
      g_string_append (s, "starttls\n");
    }
  g_string_append (s, "line 220 test.invalid ESMTP ready\n");
  if (!implicit_tls)
    {
      g_string_append (s, "expect EHLO\n"
                          "line 250-test.invalid greets you\n"
                          "line 250 STARTTLS\n"
                          "expect STARTTLS\n"
                          "line 220 2.0.0 Ready to start TLS\n");
      if (stalled == STAGE_TLS)
        {
          g_string_append (s, "mark\ntls-stall\n");
          return g_string_free (s, FALSE);
        }
      g_string_append (s, "starttls\n");
    }
  STALL_AT (STAGE_EHLO, "expect EHLO\n");
  g_string_append (s, "expect EHLO\n"
                      "line 250-test.invalid greets you\n"
                      "line 250 AUTH PLAIN\n");
  STALL_AT (STAGE_AUTH, "expect AUTH PLAIN\n");
  g_string_append (s, "expect AUTH PLAIN\n"
                      "line 235 2.7.0 Authentication successful\n"
                      "expect MAIL FROM:\n"
                      "line 250 2.1.0 Sender ok\n");
  STALL_AT (STAGE_MAIL_RCPT, "expect RCPT TO:\n");
  g_string_append (s, "expect RCPT TO:\n"
                      "line 250 2.1.5 Recipient ok\n"
                      "expect DATA\n"
                      "line 354 End data with <CR><LF>.<CR><LF>\n");
  if (stalled == STAGE_DATA)
    {
      /* The message is big: the client is still writing it. */
      g_string_append (s, "read 1\nmark\nstop-reading\n");
      return g_string_free (s, FALSE);
    }
  STALL_AT (STAGE_FINAL_REPLY, "data\n");
  g_string_append (s, "data\n"
                      "line 250 2.0.0 Ok: queued as 4711\n");
  STALL_AT (STAGE_QUIT, "expect QUIT\n");
  g_string_append (s, "expect QUIT\n"
                      "line 221 2.0.0 Bye\n");
  return g_string_free (s, FALSE);
#undef STALL_AT
}

static MsgTransport *
make_transport (MsgTestServer *server,
                gboolean       implicit_tls)
{
  g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();
  g_autofree char *port = g_strdup_printf ("%u", msg_test_server_get_port (server));
  g_autofree char *unit = msg_test_seconds_text (LONG_MS);
  g_autoptr (GError) error = NULL;
  MsgTransport *transport;

  msg_test_config_set (configuration, "smtpserver", "127.0.0.1");
  msg_test_config_set (configuration, "smtpserverport", port);
  msg_test_config_set (configuration, "smtpconnectiontimeout", unit);
  msg_test_config_set (configuration, "smtpoperationtimeout", "0");
  msg_test_config_set (configuration, "smtpusessl", implicit_tls ? "true" : "false");
  msg_test_config_set (configuration, "smtpstarttls", implicit_tls ? "never" : "required");
  msg_test_config_set (configuration, "tlscafile", msg_test_fixture_get_ca_file ());
  msg_test_config_set (configuration, "smtpauthenticate", "1");
  msg_test_config_set (configuration, "sendusername", "alice");
  msg_test_config_set (configuration, "sendpassword", "s3cret");
  transport = msg_transport_new_for_name ("smtp", configuration, &error);
  g_assert_no_error (error);
  return transport;
}

/* @big: 1 MiB of text, often more than the socket buffers take. */
static MsgMessage *
make_message (gboolean big)
{
  MsgMessage *message = msg_message_new ();

  g_assert_true (msg_message_set_from (message, "Alice <alice@example.test>", NULL));
  g_assert_true (msg_message_set_to (message, "bob@example.test", NULL));
  g_assert_true (msg_message_set_subject (message, "Stress", NULL));
  if (big)
    {
      g_autofree char *line = g_strnfill (78, 'x');
      g_autoptr (GString) body = g_string_new (NULL);

      while (body->len < 1024 * 1024)
        g_string_append_printf (body, "%s\n", line);
      msg_message_set_text_body (message, body->str);
    }
  else
    msg_message_set_text_body (message, "A small message.\n");
  return message;
}

/* One call of a round. */

typedef struct
{
  /* In. */
  MsgTransport  *transport;
  MsgMessage    *message;
  MsgTestServer *server;
  gboolean       close; /* msg_transport_close(), else a send */
  gboolean       async;
  gboolean       after_mark; /* the delay runs from the mark */
  gulong         delay_us;
  /* Out. */
  GMainContext *context;
  GCancellable *cancellable;
  gboolean      ok;
  GError       *error;
  unsigned      n_callbacks;
  gint64        end;
  gint64        cancelled_at;
  gboolean      mark_seen;
} Call;

static gboolean
cancel_in_loop_cb (gpointer data)
{
  Call *call = data;

  call->cancelled_at = g_get_monotonic_time ();
  g_cancellable_cancel (call->cancellable);
  return G_SOURCE_REMOVE;
}

static gpointer
cancel_thread (gpointer data)
{
  Call *call = data;

  if (call->after_mark)
    call->mark_seen = msg_test_server_wait_mark (call->server, 1, (unsigned) msg_test_ms_scaled (LONG_MS));
  g_usleep (call->delay_us);
  if (call->async)
    {
      g_main_context_invoke (call->context, cancel_in_loop_cb, call);
    }
  else
    {
      call->cancelled_at = g_get_monotonic_time ();
      g_cancellable_cancel (call->cancellable);
    }
  return NULL;
}

static void
call_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      data)
{
  Call *call = data;

  call->end = g_get_monotonic_time ();
  call->n_callbacks++;
  if (call->close)
    {
      call->ok = msg_transport_close_finish (MSG_TRANSPORT (source), result, &call->error);
    }
  else
    {
      g_autoptr (MsgSendReport) report = msg_transport_send_message_finish (MSG_TRANSPORT (source), result,
                                                                            &call->error);

      call->ok = report != NULL;
    }
}

static void
run_call (Call *call)
{
  GThread *thread;

  call->cancellable = g_cancellable_new ();
  call->context = g_main_context_new ();
  g_main_context_push_thread_default (call->context);
  thread = g_thread_new ("canceller", cancel_thread, call);
  if (call->async)
    {
      if (call->close)
        msg_transport_close_async (call->transport, call->cancellable, call_done_cb, call);
      else
        msg_transport_send_message_async (call->transport, call->message, call->cancellable, call_done_cb,
                                          call);
      while (call->n_callbacks == 0)
        g_main_context_iteration (call->context, TRUE);
    }
  else if (call->close)
    {
      call->ok = msg_transport_close (call->transport, call->cancellable, &call->error);
      call->end = g_get_monotonic_time ();
    }
  else
    {
      g_autoptr (MsgSendReport) report = msg_transport_send_message (call->transport, call->message,
                                                                     call->cancellable, &call->error);

      call->ok = report != NULL;
      call->end = g_get_monotonic_time ();
    }
  /* The cancel may still be on its way (a call that ended first). */
  g_thread_join (thread);
  while (g_main_context_iteration (call->context, FALSE))
    ;
  g_main_context_pop_thread_default (call->context);
  if (call->async)
    g_assert_cmpuint (call->n_callbacks, ==, 1);
}

static void
call_clear (Call *call)
{
  g_clear_error (&call->error);
  g_clear_object (&call->cancellable);
  g_clear_pointer (&call->context, g_main_context_unref);
}

static void
send_ok (MsgTransport *transport,
         MsgMessage   *message)
{
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;

  report = msg_transport_send_message (transport, message, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (report);
}

static void
run_round (unsigned round,
           unsigned base_fds)
{
  Stage             stage = g_test_rand_int_range (0, N_STAGES);
  gboolean          implicit_tls = g_test_rand_bit ();
  Call              call = { 0 };
  g_autofree char  *stalled = make_script (implicit_tls, stage == STAGE_CONNECT ? N_STAGES : stage);
  g_autofree char  *healthy = make_script (implicit_tls, N_STAGES);
  const char *const scripts[] = { stalled, healthy, NULL };
  g_autoptr (MsgTestServer) server = msg_test_server_new_multi (scripts);
  g_autoptr (MsgTransport) transport = NULL;
  g_autoptr (MsgMessage) message = make_message (stage == STAGE_DATA);
  g_autoptr (GError) error = NULL;
  g_autofree char *server_error = NULL;
  gboolean         may_succeed = stage == STAGE_CONNECT || stage == STAGE_QUIT;

  msg_test_server_set_tls (server, msg_test_fixture_get_certificate ());
  transport = make_transport (server, implicit_tls);
  call.transport = transport;
  call.message = message;
  call.server = server;
  call.async = g_test_rand_bit ();
  call.after_mark = stage != STAGE_CONNECT;
  call.delay_us = (gulong) g_test_rand_int_range (0, stage == STAGE_CONNECT ? 2000 : MAX_DELAY_US);
  g_test_message ("round %u: %s, %s, %s, cancel %lu us after the %s", round, stage_names[stage],
                  implicit_tls ? "implicit TLS" : "STARTTLS", call.async ? "async" : "sync", call.delay_us,
                  call.after_mark ? "mark" : "start");

  if (stage == STAGE_QUIT)
    {
      /* The message goes; the cancel hits the close (QUIT). */
      send_ok (transport, message);
      call.close = TRUE;
    }
  run_call (&call);
  if (call.after_mark)
    g_assert_true (call.mark_seen);

  if (call.ok)
    {
      g_assert_true (may_succeed);
      g_assert_no_error (call.error);
    }
  else
    {
      /* After the final dot the outcome is unknown, and the error says so
       * (naming the cancel); before it, a plain cancel. In DATA, the
       * kernel may have taken the whole message into its buffers, the
       * server not reading: then too the dot went out. */
      if (stage == STAGE_FINAL_REPLY ||
          (stage == STAGE_DATA && g_error_matches (call.error, MSG_TRANSPORT_ERROR,
                                                   MSG_TRANSPORT_ERROR_OUTCOME_UNKNOWN)))
        {
          g_assert_error (call.error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_OUTCOME_UNKNOWN);
          g_assert_nonnull (strstr (call.error->message, "cancelled"));
        }
      else
        g_assert_error (call.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpint (call.end, >=, call.cancelled_at);
      g_assert_cmpint ((call.end - call.cancelled_at) / 1000, <=, msg_test_ms_scaled (SLACK_MS));
    }
  if (!call.ok || call.close)
    {
      /* The server saw the close (of a connection it accepted: a cancel
       * while connecting may leave it none). */
      g_assert_true (msg_test_server_wait_idle (server, (unsigned) msg_test_ms_scaled (SLACK_MS)));
    }
  call_clear (&call);

  /* The next send works: on a new connection, when the first is gone. */
  g_clear_object (&message);
  message = make_message (FALSE);
  send_ok (transport, message);
  g_assert_true (msg_transport_close (transport, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (msg_test_server_wait_closed (server, (unsigned) msg_test_ms_scaled (LONG_MS)));
  server_error = msg_test_server_get_error (server);
  /* A stalled script ends with the client's close, not an error; a
   * healthy one cancelled in the middle (connect) may fail an expect. */
  if (!may_succeed)
    g_assert_cmpstr (server_error, ==, NULL);
  g_clear_object (&transport);
  g_clear_pointer (&server, msg_test_server_free);
  g_assert_cmpuint (msg_test_wait_fds (base_fds, (unsigned) msg_test_ms_scaled (1000)), ==, base_fds);
}

static void
test_random_cancels (void)
{
  unsigned base_fds = msg_test_wait_fds (0, 200);
  unsigned rounds = MAX (MIN_ROUNDS, (unsigned) (ROUNDS / msg_test_time_scale ()));

  g_test_summary ("Random cancels across every stage of a send over TLS: each returns at once, "
                  "the server sees the close, nothing leaks, the next send works.");
  g_test_message ("%u rounds", rounds);
  for (unsigned i = 0; i < rounds; i++)
    run_round (i, base_fds);
}

int
main (int   argc,
      char *argv[])
{
  int status;

  msg_test_capture_log ();
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  (void) g_main_context_default ();
  signal (SIGPIPE, SIG_IGN);
  msg_test_fixture_init ();

  g_test_add_func ("/faults-stress/random-cancels", test_random_cancels);
  status = g_test_run ();
  msg_test_fixture_cleanup ();
  return status;
}
