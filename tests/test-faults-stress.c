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

#include "test-faults-utils.h"
#include "test-utils.h"
#include "msg-test-server.h"

#include <signal.h>
#include <string.h>

#define ROUNDS 300
#define MIN_ROUNDS 20
#define LONG_MS 8000 /* the clocks: never what ends a round */
/* ε: from the cancel to the return. 500 ms, 16 times less than the clocks,
 * so a call that waited for a clock still fails; not tighter because
 * valgrind runs one thread at a time and a handshake thread in the middle
 * of its crypto kept a cancel waiting 2.2 s (at scale 8, load 10). */
#define SLACK_MS 500
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
  g_autoptr (MsgConfiguration) configuration =
      msg_test_fault_configuration_new ("smtp", "127.0.0.1", msg_test_server_get_port (server), LONG_MS, 0);

  msg_test_config_set (configuration, "smtpusessl", implicit_tls ? "true" : "false");
  msg_test_config_set (configuration, "smtpstarttls", implicit_tls ? "never" : "required");
  msg_test_config_set (configuration, "tlscafile", msg_test_fixture_get_ca_file ());
  msg_test_config_set (configuration, "smtpauthenticate", "1");
  msg_test_config_set (configuration, "sendusername", "alice");
  msg_test_config_set (configuration, "sendpassword", "s3cret");
  return msg_test_fault_transport_new ("smtp", configuration);
}

/* @big: 1 MiB of text, often more than the socket buffers take. */
static MsgMessage *
make_message (gboolean big)
{
  g_autofree char *line = NULL;
  g_autoptr (GString) body = NULL;

  if (!big)
    return msg_test_fault_message_new ("Stress", NULL, NULL);
  line = g_strnfill (78, 'x');
  body = g_string_new (NULL);
  while (body->len < 1024 * 1024)
    g_string_append_printf (body, "%s\n", line);
  return msg_test_fault_message_new ("Stress", NULL, body->str);
}

/* The connect stage has no mark: its delay runs from the call's start. */
static gboolean
no_trigger (MsgTestRun *run)
{
  return TRUE;
}

static void
run_round (unsigned round,
           unsigned base_fds)
{
  Stage             stage = g_test_rand_int_range (0, N_STAGES);
  gboolean          implicit_tls = g_test_rand_bit ();
  MsgTestRun        call = { 0 };
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
  call.op = MSG_TEST_OP_SEND;
  call.mode = g_test_rand_bit () ? MSG_TEST_MODE_CANCEL_LOOP : MSG_TEST_MODE_CANCEL_THREAD;
  if (stage != STAGE_CONNECT)
    call.server = server;
  else
    call.wait_trigger = no_trigger;
  call.delay_us = (gulong) g_test_rand_int_range (0, stage == STAGE_CONNECT ? 2000 : MAX_DELAY_US);
  g_test_message ("round %u: %s, %s, %s, cancel %lu us after the %s", round, stage_names[stage],
                  implicit_tls ? "implicit TLS" : "STARTTLS",
                  call.mode == MSG_TEST_MODE_CANCEL_LOOP ? "async" : "sync", call.delay_us,
                  call.server != NULL ? "mark" : "start");

  if (stage == STAGE_QUIT)
    {
      /* The message goes; the cancel hits the close (QUIT). */
      msg_test_fault_assert_sent (transport, message, FALSE);
      call.op = MSG_TEST_OP_CLOSE;
    }
  msg_test_run_call (&call);
  g_assert_true (call.trigger_seen);

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
  if (!call.ok || call.op == MSG_TEST_OP_CLOSE)
    {
      /* The server saw the close (of a connection it accepted: a cancel
       * while connecting may leave it none). */
      g_assert_true (msg_test_server_wait_idle (server, (unsigned) msg_test_ms_scaled (SLACK_MS)));
    }
  msg_test_run_clear (&call);

  /* The next send works: on a new connection, when the first is gone. */
  g_clear_object (&message);
  message = make_message (FALSE);
  msg_test_fault_assert_sent (transport, message, FALSE);
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
