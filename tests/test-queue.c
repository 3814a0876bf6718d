/* test-queue.c: operations queued on one transport, against a scripted
 * SMTP server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-test-server.h"
#include "test-queued-calls.h"
#include "test-smtp-scripts.h"
#include "test-utils.h"

#include <string.h>

typedef MsgTestFixture Fixture;

#define N_SENDS 5

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

static char *
received (Fixture *f,
          unsigned index)
{
  return msg_test_server_get_received_text (f->server, index);
}

/* Asserts that the subjects of messages @first to @last appear in @wire
 * in that order. */
static void
assert_subjects_in_order (const char *wire,
                          unsigned    first,
                          unsigned    last)
{
  const char *at = wire;

  for (unsigned n = first; n <= last; n++)
    {
      g_autofree char *subject = g_strdup_printf ("Subject: Message %u\r\n", n);

      at = strstr (at, subject);
      g_assert_nonnull (at);
    }
}

/* The outcome of one asynchronous call. */
typedef struct
{
  struct Calls  *calls;
  unsigned       index;
  gboolean       close;
  gboolean       done;
  unsigned       done_rank; /* 1 for the first to complete */
  gint64         done_time;
  MsgSendReport *report;
  GError        *error;
} Call;

typedef struct Calls
{
  Call       call[N_SENDS + 1];
  unsigned   n_done;
  unsigned   n_expected;
  GMainLoop *loop;
} Calls;

static void
call_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  Call  *call = user_data;
  Calls *calls = call->calls;

  if (call->close)
    g_assert_true (msg_transport_close_finish (MSG_TRANSPORT (source), result, &call->error) ||
                   call->error != NULL);
  else
    call->report = msg_transport_send_message_finish (MSG_TRANSPORT (source), result, &call->error);
  call->done = TRUE;
  call->done_rank = ++calls->n_done;
  call->done_time = g_get_monotonic_time ();
  if (calls->n_done == calls->n_expected)
    g_main_loop_quit (calls->loop);
}

static void
calls_init (Calls   *calls,
            unsigned n_expected)
{
  memset (calls, 0, sizeof *calls);
  calls->loop = g_main_loop_new (NULL, FALSE);
  calls->n_expected = n_expected;
  for (unsigned i = 0; i < G_N_ELEMENTS (calls->call); i++)
    {
      calls->call[i].calls = calls;
      calls->call[i].index = i;
    }
}

static void
calls_clear (Calls *calls)
{
  for (unsigned i = 0; i < G_N_ELEMENTS (calls->call); i++)
    {
      g_clear_object (&calls->call[i].report);
      g_clear_error (&calls->call[i].error);
    }
  g_main_loop_unref (calls->loop);
}

static void
send_async (Fixture      *f,
            Calls        *calls,
            unsigned      i,
            MsgMessage   *message,
            GCancellable *cancellable)
{
  msg_transport_send_message_async (f->transport, message, cancellable, call_done_cb, &calls->call[i]);
}

static void
assert_sent (Call       *call,
             const char *queue_id)
{
  g_assert_no_error (call->error);
  g_assert_nonnull (call->report);
  g_assert_true (g_str_has_suffix (msg_send_report_get_server_response (call->report), queue_id));
}

static void
test_five_in_order (Fixture      *f,
                    gconstpointer data)
{
  MsgMessage      *messages[N_SENDS];
  Calls            calls;
  g_autofree char *wire = NULL;

  g_test_summary ("Five async sends on one kept transport wait their turn and all succeed, "
                  "in call order, over one connection.");
  start (f, GREETING EHLO_BASIC TRANSACTION ("Q1") TRANSACTION ("Q2") TRANSACTION ("Q3")
                TRANSACTION ("Q4") TRANSACTION ("Q5"));
  calls_init (&calls, N_SENDS);
  for (unsigned i = 0; i < N_SENDS; i++)
    {
      messages[i] = msg_test_make_numbered_message (i + 1);
      send_async (f, &calls, i, messages[i], NULL);
    }
  g_main_loop_run (calls.loop);

  for (unsigned i = 0; i < N_SENDS; i++)
    {
      g_autofree char *id = g_strdup_printf ("Q%u", i + 1);

      assert_sent (&calls.call[i], id);
      g_assert_cmpuint (calls.call[i].done_rank, ==, i + 1);
      g_object_unref (messages[i]);
    }
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 1);
  wire = received (f, 0);
  assert_subjects_in_order (wire, 1, N_SENDS);
  calls_clear (&calls);
}

static void
test_cancel_queued (Fixture      *f,
                    gconstpointer data)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  MsgMessage      *messages[N_SENDS];
  Calls            calls;
  g_autofree char *wire = NULL;

  g_test_summary ("Cancelling the third queued send while the first runs ends only it, at once, "
                  "without touching the connection; the others are sent on it.");
  /* The first reply is held back long enough for the cancelled send's
   * callback to come first even on a loaded machine; no timing is
   * asserted. */
  start (f, GREETING EHLO_BASIC SLOW_TRANSACTION ("Q1", "2000") TRANSACTION ("Q2")
                TRANSACTION ("Q4") TRANSACTION ("Q5"));
  calls_init (&calls, N_SENDS);
  for (unsigned i = 0; i < N_SENDS; i++)
    {
      messages[i] = msg_test_make_numbered_message (i + 1);
      send_async (f, &calls, i, messages[i], i == 2 ? cancellable : NULL);
    }
  /* The first message is in: the first send is running. */
  g_assert_true (msg_test_server_wait_mark (f->server, 1, 10000));
  g_cancellable_cancel (cancellable);
  g_main_loop_run (calls.loop);

  g_assert_error (calls.call[2].error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (calls.call[2].report);
  g_assert_cmpuint (calls.call[2].done_rank, ==, 1);
  assert_sent (&calls.call[0], "Q1");
  assert_sent (&calls.call[1], "Q2");
  assert_sent (&calls.call[3], "Q4");
  assert_sent (&calls.call[4], "Q5");
  g_assert_cmpuint (calls.call[0].done_rank, ==, 2);
  g_assert_cmpuint (calls.call[4].done_rank, ==, 5);
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 1);
  wire = received (f, 0);
  g_assert_null (strstr (wire, "Subject: Message 3\r\n"));
  assert_subjects_in_order (wire, 4, 5);
  for (unsigned i = 0; i < N_SENDS; i++)
    g_object_unref (messages[i]);
  calls_clear (&calls);
}

static void
test_queued_deadline (Fixture      *f,
                      gconstpointer data)
{
  g_autoptr (MsgMessage) first = msg_test_make_numbered_message (1);
  g_autoptr (MsgMessage) second = msg_test_make_numbered_message (2);
  g_autoptr (MsgMessage) third = msg_test_make_numbered_message (3);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgSendReport) report = NULL;
  double           scale = msg_test_time_scale ();
  g_autofree char *script = NULL;
  g_autofree char *hold = g_strdup_printf ("%u", (unsigned) (3000 * scale));
  g_autofree char *timeout = g_strdup_printf ("%g", 0.5 * scale);
  g_autofree char *limit = g_strdup_printf ("%u", (unsigned) (6 * scale));
  gint64           start_time;
  Calls            calls;

  g_test_summary ("A queued send's total clock counts from its call: past its deadline it fails "
                  "with TIMED_OUT while the running send completes on the same connection.");
  /* The first reply is held back 3 s, well past the second send's 0.5 s
   * deadline (both scaled for slow runs). */
  script = g_strconcat (GREETING EHLO_BASIC "expect MAIL FROM:<alice@example.test>\n"
                                            "line 250 2.1.0 Ok\n"
                                            "expect RCPT TO:<bob@example.test>\n"
                                            "line 250 2.1.5 Ok\n"
                                            "expect DATA\n"
                                            "line 354 go\n"
                                            "data\n"
                                            "sleep ",
                        hold, "\nline 250 2.0.0 Ok: queued as Q1\n", TRANSACTION ("Q3"), NULL);
  start (f, script);
  /* The fixture's 10 s inactivity limit is not scaled: under valgrind
   * (scale 8) the held reply (24 s) would time the first send out. */
  msg_test_set_field (f, "smtpconnectiontimeout", limit);
  calls_init (&calls, 2);
  send_async (f, &calls, 0, first, NULL);
  /* The second call's snapshot has the short deadline; the first's not. */
  msg_test_set_field (f, "smtpoperationtimeout", timeout);
  start_time = g_get_monotonic_time ();
  send_async (f, &calls, 1, second, NULL);
  g_main_loop_run (calls.loop);

  g_assert_error (calls.call[1].error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (calls.call[1].error->message, "smtpoperationtimeout"));
  g_assert_cmpuint (calls.call[1].done_rank, ==, 1);
  /* Not before its deadline, and not long after: the documented limit plus
   * a second of slack for a loaded machine. */
  g_assert_cmpint (calls.call[1].done_time - start_time, >=, (gint64) (0.5 * scale * G_USEC_PER_SEC));
  g_assert_cmpint (calls.call[1].done_time - start_time, <=, (gint64) ((0.5 + 1.0) * scale * G_USEC_PER_SEC));
  assert_sent (&calls.call[0], "Q1");

  /* The connection was not touched: the next send reuses it. */
  msg_test_set_field (f, "smtpoperationtimeout", "0");
  report = msg_transport_send_message (f->transport, third, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (msg_send_report_get_server_response (report), "Q3"));
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 1);
  calls_clear (&calls);
}

static void
test_sync_threads (Fixture      *f,
                   gconstpointer data)
{
  MsgTestSyncSend  calls[2] = { { 0 } };
  GThread         *threads[2];
  g_autofree char *wire = NULL;

  g_test_summary ("Sync sends from two threads on one transport block until their turn and both "
                  "succeed over one connection.");
  start (f, GREETING EHLO_BASIC TRANSACTION ("S") TRANSACTION ("S"));
  for (unsigned i = 0; i < 2; i++)
    {
      calls[i].transport = f->transport;
      calls[i].message = msg_test_make_numbered_message (i + 1);
      threads[i] = g_thread_new ("sync-send", msg_test_sync_send_thread, &calls[i]);
    }
  for (unsigned i = 0; i < 2; i++)
    {
      g_thread_join (threads[i]);
      g_assert_no_error (calls[i].error);
      g_assert_nonnull (calls[i].report);
      g_clear_object (&calls[i].report);
      g_clear_object (&calls[i].message);
    }
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 1);
  wire = received (f, 0);
  g_assert_nonnull (strstr (wire, "Subject: Message 1\r\n"));
  g_assert_nonnull (strstr (wire, "Subject: Message 2\r\n"));
}

static void
test_close_queued (Fixture      *f,
                   gconstpointer data)
{
  const char *const scripts[] = {
    GREETING EHLO_BASIC TRANSACTION ("Q1") TRANSACTION ("Q2") "expect QUIT\nline 221 bye\n",
    GREETING EHLO_BASIC TRANSACTION ("Q3"),
    NULL
  };
  MsgMessage      *messages[3];
  Calls            calls;
  g_autofree char *wire = NULL;

  g_test_summary ("close() waits its turn: the sends queued before it are sent first, then QUIT; "
                  "a send queued after it connects afresh.");
  start_multi (f, scripts);
  calls_init (&calls, 4);
  for (unsigned i = 0; i < 3; i++)
    messages[i] = msg_test_make_numbered_message (i + 1);
  send_async (f, &calls, 0, messages[0], NULL);
  send_async (f, &calls, 1, messages[1], NULL);
  calls.call[2].close = TRUE;
  msg_transport_close_async (f->transport, NULL, call_done_cb, &calls.call[2]);
  send_async (f, &calls, 3, messages[2], NULL);
  g_main_loop_run (calls.loop);

  assert_sent (&calls.call[0], "Q1");
  assert_sent (&calls.call[1], "Q2");
  g_assert_no_error (calls.call[2].error);
  assert_sent (&calls.call[3], "Q3");
  for (unsigned i = 0; i < 4; i++)
    g_assert_cmpuint (calls.call[i].done_rank, ==, i + 1);
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 2);
  wire = received (f, 0);
  assert_subjects_in_order (wire, 1, 2);
  g_assert_true (g_str_has_suffix (wire, "QUIT\r\n"));
  for (unsigned i = 0; i < 3; i++)
    g_object_unref (messages[i]);
  calls_clear (&calls);
}

static void
test_same_message_queued (Fixture      *f,
                          gconstpointer data)
{
  g_autoptr (MsgMessage) message = msg_test_make_numbered_message (1);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgSendReport) report = NULL;
  Calls calls;

  g_test_summary ("A message queued on a transport is claimed from the call: sending it again "
                  "meanwhile is G_IO_ERROR_PENDING, as documented.");
  start (f, GREETING EHLO_BASIC TRANSACTION ("Q1"));
  calls_init (&calls, 1);
  send_async (f, &calls, 0, message, NULL);
  report = msg_transport_send_message (f->transport, message, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PENDING);
  g_assert_null (report);
  g_main_loop_run (calls.loop);
  assert_sent (&calls.call[0], "Q1");
  calls_clear (&calls);
}

/* The threads of this process, from /proc. */
static guint
count_threads (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

#define N_MANY 40

static void
test_queued_without_threads (Fixture      *f,
                             gconstpointer data)
{
  g_autoptr (GString) script = g_string_new (GREETING EHLO_BASIC);
  MsgMessage *messages[N_MANY];
  Call        call[N_MANY] = { { 0 } };
  Calls       calls;
  guint       before;

  g_test_summary ("Async sends queued behind a running one wait without a thread of their own: "
                  "queuing forty makes no thread, and all are sent in call order on one "
                  "connection.");
  /* The first transaction stops at a gate until every send is queued. */
  g_string_append (script, GATED_TRANSACTION ("Q1"));
  for (unsigned i = 1; i < N_MANY; i++)
    g_string_append (script, TRANSACTION ("Q"));
  start (f, script->str);
  calls_init (&calls, N_MANY);
  for (unsigned i = 0; i < N_MANY; i++)
    {
      messages[i] = msg_test_make_numbered_message (i + 1);
      call[i].calls = &calls;
      call[i].index = i;
    }
  msg_transport_send_message_async (f->transport, messages[0], NULL, call_done_cb, &call[0]);
  /* The first send runs (in its worker thread) and waits at the gate. */
  g_assert_true (msg_test_server_wait_mark (f->server, 1, 10000));
  before = count_threads ();
  for (unsigned i = 1; i < N_MANY; i++)
    msg_transport_send_message_async (f->transport, messages[i], NULL, call_done_cb, &call[i]);
  /* None of the queued sends has a thread (each had one before: 39
   * more); nothing else in the process starts one meanwhile, and an idle
   * worker of an earlier test may end (after 2 s idle). */
  g_assert_cmpuint (count_threads (), <=, before);
  msg_test_server_open_gate (f->server);
  g_main_loop_run (calls.loop);

  assert_sent (&call[0], "Q1");
  for (unsigned i = 0; i < N_MANY; i++)
    {
      g_assert_no_error (call[i].error);
      g_assert_cmpuint (call[i].done_rank, ==, i + 1);
      g_clear_object (&call[i].report);
      g_object_unref (messages[i]);
    }
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 1);
  calls_clear (&calls);
}

static void
test_queued_deadline_unpolled (Fixture      *f,
                               gconstpointer data)
{
  g_autoptr (MsgMessage) first = msg_test_make_numbered_message (1);
  g_autoptr (MsgMessage) second = msg_test_make_numbered_message (2);
  g_autoptr (MsgMessage) third = msg_test_make_numbered_message (3);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgSendReport) report = NULL;
  double           scale = msg_test_time_scale ();
  g_autofree char *timeout = g_strdup_printf ("%g", 0.2 * scale);
  gint64           queued;
  Calls            calls;

  g_test_summary ("A queued async send whose context is not iterated past its deadline fails "
                  "with TIMED_OUT when its turn comes, without touching the connection.");
  start (f, GREETING EHLO_BASIC
                GATED_TRANSACTION ("Q1") TRANSACTION ("Q3"));
  calls_init (&calls, 2);
  send_async (f, &calls, 0, first, NULL);
  msg_test_set_field (f, "smtpoperationtimeout", timeout);
  send_async (f, &calls, 1, second, NULL);
  /* The second send's clock started before this. */
  queued = g_get_monotonic_time ();
  msg_test_set_field (f, "smtpoperationtimeout", "0");
  /* Its deadline passes while the first holds the turn (the server's
   * gate opens only after it), and this thread's context is not iterated
   * meanwhile: nothing but the turn can end the second send. */
  while (g_get_monotonic_time () <= queued + (gint64) (0.2 * scale * G_USEC_PER_SEC))
    g_usleep (1000);
  msg_test_server_open_gate (f->server);
  /* Queued behind both, in this thread: it returns once the first is
   * sent and the second has failed, on the same connection. */
  report = msg_transport_send_message (f->transport, third, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_suffix (msg_send_report_get_server_response (report), "Q3"));
  g_main_loop_run (calls.loop);

  assert_sent (&calls.call[0], "Q1");
  g_assert_error (calls.call[1].error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (calls.call[1].error->message, "smtpoperationtimeout"));
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 1);
  calls_clear (&calls);
}

static void
test_cancelled_before_queued (Fixture      *f,
                              gconstpointer data)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (MsgMessage) first = msg_test_make_numbered_message (1);
  g_autoptr (MsgMessage) second = msg_test_make_numbered_message (2);
  Calls calls;

  g_test_summary ("An async send queued with a cancellable already cancelled fails with CANCELLED "
                  "at once, while the send ahead of it still holds the turn.");
  start (f, GREETING EHLO_BASIC
                GATED_TRANSACTION ("Q1"));
  calls_init (&calls, 1);
  send_async (f, &calls, 0, first, NULL);
  g_cancellable_cancel (cancellable);
  send_async (f, &calls, 1, second, cancellable);
  /* Only the second can complete while the gate is shut. */
  g_main_loop_run (calls.loop);
  g_assert_true (calls.call[1].done);
  g_assert_false (calls.call[0].done);
  g_assert_error (calls.call[1].error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  calls.n_expected = 2;
  msg_test_server_open_gate (f->server);
  g_main_loop_run (calls.loop);
  assert_sent (&calls.call[0], "Q1");
  calls_clear (&calls);
}

static void
test_dated_at_call (Fixture      *f,
                    gconstpointer data)
{
  g_autoptr (MsgMessage) first = msg_test_make_numbered_message (1);
  g_autoptr (MsgMessage) second = msg_test_make_numbered_message (2);
  g_autofree char *date = NULL;
  g_autofree char *id = NULL;
  g_autofree char *wire = NULL;
  g_autofree char *date_line = NULL;
  g_autofree char *id_line = NULL;
  const char      *second_data;
  Calls            calls;

  g_test_summary ("A send gets its Date and Message-ID at the call, while it waits in the queue, "
                  "and they are the ones written when its turn comes (RFC 5322 3.6.1).");
  start (f, GREETING EHLO_BASIC
                GATED_TRANSACTION ("Q1") TRANSACTION ("Q2"));
  calls_init (&calls, 2);
  g_assert_null (msg_message_get_header (second, "Date"));
  g_assert_null (msg_message_get_header (second, "Message-ID"));
  send_async (f, &calls, 0, first, NULL);
  g_assert_true (msg_test_server_wait_mark (f->server, 1, 10000));
  send_async (f, &calls, 1, second, NULL);
  /* Queued behind the first, which waits at the gate: not yet sent. */
  date = msg_message_get_header (second, "Date");
  id = msg_message_get_header (second, "Message-ID");
  g_assert_nonnull (date);
  g_assert_nonnull (id);
  g_assert_false (calls.call[1].done);
  msg_test_server_open_gate (f->server);
  g_main_loop_run (calls.loop);

  assert_sent (&calls.call[0], "Q1");
  assert_sent (&calls.call[1], "Q2");
  /* The second message: what follows the second DATA. */
  wire = received (f, 0);
  second_data = strstr (wire, "\r\nDATA\r\n");
  g_assert_nonnull (second_data);
  second_data = strstr (second_data + 1, "\r\nDATA\r\n");
  g_assert_nonnull (second_data);
  date_line = g_strdup_printf ("\r\nDate: %s\r\n", date);
  id_line = g_strdup_printf ("\r\nMessage-Id: %s\r\n", id);
  g_assert_nonnull (strstr (second_data, date_line));
  g_assert_nonnull (strstr (second_data, id_line));
  calls_clear (&calls);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  msg_test_capture_log ();
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  msg_test_fixture_init ();

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, msg_test_fixture_setup, func, msg_test_fixture_teardown)
  ADD ("/queue/smtp/five-in-order", test_five_in_order);
  ADD ("/queue/smtp/cancel-queued", test_cancel_queued);
  ADD ("/queue/smtp/queued-deadline", test_queued_deadline);
  ADD ("/queue/smtp/sync-threads", test_sync_threads);
  ADD ("/queue/smtp/close-queued", test_close_queued);
  ADD ("/queue/smtp/same-message", test_same_message_queued);
  ADD ("/queue/smtp/queued-without-threads", test_queued_without_threads);
  ADD ("/queue/smtp/queued-deadline-unpolled", test_queued_deadline_unpolled);
  ADD ("/queue/smtp/cancelled-before-queued", test_cancelled_before_queued);
  ADD ("/queue/smtp/dated-at-call", test_dated_at_call);
#undef ADD

  ret = g_test_run ();
  msg_test_fixture_cleanup ();
  return ret;
}
