/* test-threads.c: a process that may make no more threads (a container's
 * pids.max, ulimit -u) gets errors, not an abort, and works again once it
 * may
 *
 * RLIMIT_NPROC does not bind root and address-space limits do not mix
 * with ASan, so this executable defines pthread_create() itself: the
 * libraries' calls reach it before libc's (or ASan's), and it refuses
 * while refuse_threads is set. Each test runs in a subprocess, which no
 * earlier test left an idle worker thread in: a worker is reused before a
 * thread is made.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-utils.h"

#include "msg-test-server.h"
#include "msg-test-sink.h"
#include "test-queued-calls.h"
#include "test-smtp-scripts.h"

#include <dlfcn.h>
#include <errno.h>
#include <glib/gstdio.h>
#include <pthread.h>
#include <string.h>

typedef int (*PthreadCreateFunc) (pthread_t *,
                                  const pthread_attr_t *,
                                  void *(*) (void *),
                                  void *);

static gint refuse_threads;  /* atomic */
static gint threads_allowed; /* atomic: made while refusing, before the refusals start */
static gint threads_refused; /* atomic */

int
pthread_create (pthread_t            *thread,
                const pthread_attr_t *attr,
                void *(*start) (void *),
                void *arg)
{
  static PthreadCreateFunc real;

  if (g_atomic_int_get (&refuse_threads) && g_atomic_int_add (&threads_allowed, -1) <= 0)
    {
      g_atomic_int_inc (&threads_refused);
      return EAGAIN;
    }
  if (g_atomic_pointer_get (&real) == NULL)
    g_atomic_pointer_set (&real, (PthreadCreateFunc) dlsym (RTLD_NEXT, "pthread_create"));
  return real (thread, attr, start, arg);
}

/* From now on, every thread after the first @allowed is refused. */
static void
refuse_after (gint allowed)
{
  g_atomic_int_set (&threads_allowed, allowed);
  g_atomic_int_set (&refuse_threads, TRUE);
}

static void
refuse (gboolean on)
{
  g_atomic_int_set (&threads_allowed, 0);
  g_atomic_int_set (&refuse_threads, on);
}

/* Runs the calling test in a subprocess and asserts that it passed. */
#define IN_SUBPROCESS()                                                     \
  G_STMT_START                                                              \
  {                                                                         \
    if (!g_test_subprocess ())                                              \
      {                                                                     \
        g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR); \
        g_test_trap_assert_passed ();                                       \
        return;                                                             \
      }                                                                     \
  }                                                                         \
  G_STMT_END

static gpointer
nothing_thread (gpointer data)
{
  return data;
}

static void
test_interposed (void)
{
  g_autoptr (GError) error = NULL;
  GThread *thread;

  g_test_summary ("The test's pthread_create() is the one GLib calls: refused, then made again.");
  refuse (TRUE);
  thread = g_thread_try_new ("refused", nothing_thread, NULL, &error);
  refuse (FALSE);
  g_assert_null (thread);
  g_assert_error (error, G_THREAD_ERROR, G_THREAD_ERROR_AGAIN);
  g_assert_cmpint (g_atomic_int_get (&threads_refused), >=, 1);
  g_clear_error (&error);
  thread = g_thread_try_new ("made", nothing_thread, &error, &error);
  g_assert_no_error (error);
  g_assert_true (g_thread_join (thread) == &error);
}

/* --- the calls of a transport ------------------------------------------------ */

#define QUIT             \
  "expect QUIT\n"        \
  "line 221 2.0.0 Bye\n" \
  "close\n"

static void
assert_not_on_wire (MsgTestFixture *f,
                    guint           n)
{
  g_autofree char *wire = msg_test_server_get_received_text (f->server, 0);
  g_autofree char *subject = g_strdup_printf ("Subject: Message %u\r\n", n);

  g_assert_null (strstr (wire, subject));
}

static void
test_async_call (MsgTestFixture *f,
                 gconstpointer   data)
{
  const char *const scripts[] = { GREETING EHLO_BASIC TRANSACTION ("S1") TRANSACTION ("A2") QUIT, NULL };
  g_autoptr (MsgMessage) message = msg_test_make_numbered_message (1);
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  MsgTestQueued queued = { 0 };

  g_test_summary ("An async send that gets no thread fails with G_THREAD_ERROR_AGAIN in its "
                  "callback, its message free again: a sync send of it (no thread needed) and, "
                  "once threads may be made, an async one go out on one connection.");
  IN_SUBPROCESS ();
  msg_test_fixture_start (f, "smtp", scripts);

  refuse (TRUE);
  msg_transport_send_message_async (f->transport, message, NULL, msg_test_send_done_cb, &queued.results[0]);
  msg_test_call_wait (&queued.results[0]);
  g_assert_error (queued.results[0].error, G_THREAD_ERROR, G_THREAD_ERROR_AGAIN);
  g_assert_nonnull (strstr (queued.results[0].error->message, "No thread"));
  g_assert_null (queued.results[0].report);
  g_assert_cmpint (g_atomic_int_get (&threads_refused), >=, 1);

  report = msg_transport_send_message (f->transport, message, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (report);
  refuse (FALSE);

  msg_test_call_clear (&queued.results[0]);
  msg_transport_send_message_async (f->transport, message, NULL, msg_test_send_done_cb, &queued.results[0]);
  msg_test_call_wait (&queued.results[0]);
  msg_test_queued_assert_done (&queued, 0, 250, "A2");
  g_assert_true (msg_transport_close (f->transport, NULL, &error));
  g_assert_no_error (error);
  msg_test_queued_clear (&queued);
}

static void
test_queued_behind_sync (MsgTestFixture *f,
                         gconstpointer   data)
{
  const char *const scripts[] = { GREETING EHLO_BASIC GATED_TRANSACTION ("S1") TRANSACTION ("A5") QUIT, NULL };
  g_autoptr (MsgMessage) first = msg_test_make_numbered_message (1);
  g_autoptr (GError) error = NULL;
  MsgTestQueued   queued = { 0 };
  MsgTestSyncSend send = { 0 };
  GThread        *thread;

  g_test_summary ("Async sends queued behind a sync one that ends when no thread can be made "
                  "each fail with G_THREAD_ERROR_AGAIN, in call order, none on the wire, the "
                  "turn passed down the queue; then the next async send goes out on the same "
                  "connection.");
  IN_SUBPROCESS ();
  msg_test_fixture_start (f, "smtp", scripts);
  send.transport = f->transport;
  send.message = first;
  thread = g_thread_new ("sync-send", msg_test_sync_send_thread, &send);
  /* The sync send has the turn, waiting at the gate for its final reply. */
  g_assert_true (msg_test_server_wait_mark (f->server, 1, 10000));
  for (guint i = 0; i < MSG_TEST_N_QUEUED; i++)
    {
      queued.messages[i] = msg_test_make_numbered_message (i + 2);
      msg_transport_send_message_async (f->transport, queued.messages[i], NULL, msg_test_send_done_cb,
                                        &queued.results[i]);
    }
  refuse (TRUE);
  msg_test_server_open_gate (f->server);
  g_thread_join (thread);
  g_assert_no_error (send.error);
  g_assert_nonnull (send.report);
  g_clear_object (&send.report);
  msg_test_queued_wait (&queued, MSG_TEST_N_QUEUED);
  refuse (FALSE);

  for (guint i = 0; i < MSG_TEST_N_QUEUED; i++)
    {
      g_assert_error (queued.results[i].error, G_THREAD_ERROR, G_THREAD_ERROR_AGAIN);
      if (i > 0)
        g_assert_cmpuint (queued.results[i - 1].rank, <, queued.results[i].rank);
    }
  /* Each had its try: no call waited on another's failure. */
  g_assert_cmpint (g_atomic_int_get (&threads_refused), >=, MSG_TEST_N_QUEUED);

  msg_test_call_clear (&queued.results[2]);
  msg_transport_send_message_async (f->transport, queued.messages[2], NULL, msg_test_send_done_cb,
                                    &queued.results[2]);
  msg_test_call_wait (&queued.results[2]);
  msg_test_queued_assert_done (&queued, 2, 250, "A5");
  g_assert_true (msg_transport_close (f->transport, NULL, &error));
  g_assert_no_error (error);
  assert_not_on_wire (f, 2);
  assert_not_on_wire (f, 3);
  msg_test_queued_clear (&queued);
}

/* A queued async send whose cancellation (@deadline FALSE) or deadline
 * (TRUE) comes while no thread can be made to report it. */
static void
check_queued_ending (MsgTestFixture *f,
                     gboolean        deadline)
{
  const char *const scripts[] = { GREETING EHLO_BASIC GATED_TRANSACTION ("A1") TRANSACTION ("A3") QUIT, NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *timeout = msg_test_seconds_text (200);
  MsgTestQueued    queued = { 0 };

  msg_test_fixture_start (f, "smtp", scripts);
  for (guint i = 0; i < MSG_TEST_N_QUEUED; i++)
    {
      queued.messages[i] = msg_test_make_numbered_message (i + 1);
      queued.cancellables[i] = g_cancellable_new ();
    }
  /* The first has a worker thread, made while threads may be. */
  msg_transport_send_message_async (f->transport, queued.messages[0], NULL, msg_test_send_done_cb,
                                    &queued.results[0]);
  g_assert_true (msg_test_server_wait_mark (f->server, 1, 10000));
  if (deadline)
    msg_test_set_field (f, "smtpoperationtimeout", timeout);
  msg_transport_send_message_async (f->transport, queued.messages[1], queued.cancellables[1],
                                    msg_test_send_done_cb, &queued.results[1]);
  msg_test_set_field (f, "smtpoperationtimeout", "0");
  msg_transport_send_message_async (f->transport, queued.messages[2], NULL, msg_test_send_done_cb,
                                    &queued.results[2]);

  refuse (TRUE);
  if (!deadline)
    g_cancellable_cancel (queued.cancellables[1]);
  msg_test_call_wait (&queued.results[1]);
  g_assert_cmpint (g_atomic_int_get (&threads_refused), >=, 1);
  g_assert_false (queued.results[0].done);
  if (deadline)
    g_assert_error (queued.results[1].error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  else
    g_assert_error (queued.results[1].error, G_IO_ERROR, G_IO_ERROR_CANCELLED);

  /* It left the queue: the first ends, and its worker runs the third
   * (no thread to make). */
  msg_test_server_open_gate (f->server);
  msg_test_queued_wait (&queued, MSG_TEST_N_QUEUED);
  refuse (FALSE);
  msg_test_queued_assert_done (&queued, 0, 250, "A1");
  msg_test_queued_assert_done (&queued, 2, 250, "A3");
  g_assert_true (msg_transport_close (f->transport, NULL, &error));
  g_assert_no_error (error);
  assert_not_on_wire (f, 2);
  msg_test_queued_clear (&queued);
}

static void
test_queued_cancelled (MsgTestFixture *f,
                       gconstpointer   data)
{
  g_test_summary ("A queued async send cancelled while no thread can be made fails with "
                  "CANCELLED at once and leaves the queue; the sends around it go out.");
  IN_SUBPROCESS ();
  check_queued_ending (f, FALSE);
}

static void
test_queued_deadline (MsgTestFixture *f,
                      gconstpointer   data)
{
  g_test_summary ("A queued async send whose deadline passes while no thread can be made fails "
                  "with TIMED_OUT and leaves the queue; the sends around it go out.");
  IN_SUBPROCESS ();
  check_queued_ending (f, TRUE);
}

/* --- the one-shot send, the flusher, the web fetcher, crypto ---------------- */

static void
oneshot_done_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  MsgTestCallResult *r = user_data;

  r->report = msg_message_send_finish (MSG_MESSAGE (source), result, &r->error);
  r->done = TRUE;
}

static void
test_oneshot (void)
{
  g_autofree char *dir = NULL;
  g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();
  g_autoptr (MsgMessage) message = NULL;
  MsgTestCallResult r = { 0 };

  g_test_summary ("msg_message_send_async() without a thread fails with G_THREAD_ERROR_AGAIN; "
                  "then it sends.");
  IN_SUBPROCESS ();
  dir = msg_test_make_temp_dir ();
  msg_test_config_set (configuration, "smtpserverpickupdirectory", dir);
  message = msg_test_make_numbered_message (1);
  msg_message_set_configuration (message, configuration);

  refuse (TRUE);
  msg_message_send_async (message, NULL, oneshot_done_cb, &r);
  msg_test_call_wait (&r);
  refuse (FALSE);
  g_assert_error (r.error, G_THREAD_ERROR, G_THREAD_ERROR_AGAIN);
  g_assert_null (r.report);

  msg_test_call_clear (&r);
  msg_message_send_async (message, NULL, oneshot_done_cb, &r);
  msg_test_call_wait (&r);
  g_assert_no_error (r.error);
  g_assert_nonnull (r.report);
  msg_test_call_clear (&r);
  msg_test_remove_tree (dir);
}

static void
signed_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  MsgTestCallResult *r = user_data;

  msg_message_sign_finish (MSG_MESSAGE (source), result, &r->error);
  r->done = TRUE;
}

static void
test_crypto (void)
{
  g_autoptr (MsgMessage) message = msg_test_make_numbered_message (1);
  MsgTestCallResult r = { 0 };

  g_test_summary ("msg_message_sign_async() without a thread fails with G_THREAD_ERROR_AGAIN.");
  IN_SUBPROCESS ();
  refuse (TRUE);
  msg_message_sign_async (message, MSG_CRYPTO_PROTOCOL_OPENPGP, "alice@example.test", NULL, signed_cb, &r);
  msg_test_call_wait (&r);
  refuse (FALSE);
  g_assert_error (r.error, G_THREAD_ERROR, G_THREAD_ERROR_AGAIN);
  msg_test_call_clear (&r);
}

static guint
count_eml (const char *dir)
{
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  const char *name;
  guint       n = 0;

  g_assert_nonnull (listing);
  while ((name = g_dir_read_name (listing)) != NULL)
    n += g_str_has_suffix (name, ".eml");
  return n;
}

static void
write_messages (const char *dir,
                guint       n)
{
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *path = g_strdup_printf ("%s/m%u.eml", dir, i);
      g_autofree char *contents = g_strdup_printf ("From: alice@example.test\r\nTo: bob@example.test\r\n"
                                                   "Subject: m%u\r\n\r\nbody\r\n",
                                                   i);

      g_file_set_contents (path, contents, -1, &error);
      g_assert_no_error (error);
    }
}

/* Five messages in a drop directory, a flusher of three connections to
 * an SMTP sink. */
typedef struct
{
  char        *dir;
  MsgTestSink *sink;
  MsgFlusher  *flusher;
} FlushRun;

static void
flush_run_init (FlushRun *run)
{
  g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();
  g_autoptr (MsgDropDirectory) directory = NULL;
  g_autofree char *port = NULL;

  run->dir = msg_test_make_temp_dir ();
  run->sink = msg_test_sink_new ();
  port = g_strdup_printf ("%u", msg_test_sink_get_port (run->sink));
  msg_test_config_set (configuration, "sendusing", "smtp");
  msg_test_config_set (configuration, "smtpserver", "127.0.0.1");
  msg_test_config_set (configuration, "smtpserverport", port);
  directory = msg_drop_directory_new (run->dir);
  run->flusher = msg_flusher_new (configuration, directory);
  msg_flusher_set_connections (run->flusher, 3);
  write_messages (run->dir, 5);
}

/* Asserts that nothing was sent or lost, then that a run with threads
 * sends each message once. */
static void
flush_run_finish (FlushRun *run)
{
  g_autoptr (GError) error = NULL;

  g_assert_cmpuint (msg_test_sink_get_n_accepted (run->sink), ==, 0);
  g_assert_cmpuint (count_eml (run->dir), ==, 5);
  g_assert_true (msg_flusher_run (run->flusher, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg_flusher_get_n_sent (run->flusher), ==, 5);
  g_assert_cmpuint (msg_test_sink_get_n_accepted (run->sink), ==, 5);
  g_assert_cmpuint (count_eml (run->dir), ==, 0);
  msg_test_remove_tree (run->dir);
  g_free (run->dir);
  g_object_unref (run->flusher);
  msg_test_sink_free (run->sink);
}

static void
test_flusher (void)
{
  g_autoptr (GError) error = NULL;
  FlushRun run;

  g_test_summary ("A flush run that can make no connection thread fails with "
                  "G_THREAD_ERROR_AGAIN, every message left in place and none sent; the next "
                  "run sends each once.");
  IN_SUBPROCESS ();
  flush_run_init (&run);
  refuse (TRUE);
  g_assert_false (msg_flusher_run (run.flusher, NULL, &error));
  refuse (FALSE);
  g_assert_error (error, G_THREAD_ERROR, G_THREAD_ERROR_AGAIN);
  g_assert_nonnull (strstr (error->message, "No thread"));
  g_assert_cmpuint (msg_test_sink_get_n_connections (run.sink), ==, 0);
  flush_run_finish (&run);
}

static void
test_flusher_short (void)
{
  g_autoptr (GError) error = NULL;
  FlushRun run;

  g_test_summary ("A flush run that gets one connection thread of three, and then no worker "
                  "thread for its sends, ends without an abort: every message is put back, "
                  "none sent or lost; the next run sends each once.");
  IN_SUBPROCESS ();
  flush_run_init (&run);
  refuse_after (1);
  g_assert_true (msg_flusher_run (run.flusher, NULL, &error));
  refuse (FALSE);
  g_assert_no_error (error);
  g_assert_cmpint (g_atomic_int_get (&threads_refused), >=, 2);
  g_assert_cmpuint (msg_flusher_get_n_sent (run.flusher), ==, 0);
  flush_run_finish (&run);
}

static void
test_web_fetch (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "page.html", NULL);
  g_autofree char *uri = g_filename_to_uri (path, NULL, NULL);
  g_autoptr (MsgMessage) message = msg_test_make_numbered_message (1);

  g_test_summary ("CreateMHTMLBody, whose fetch is bounded by a watchdog thread, fails with "
                  "G_THREAD_ERROR_AGAIN when it cannot make one; then it works.");
  IN_SUBPROCESS ();
  g_assert_true (g_file_set_contents (path, "<html><body><p>Hello</p></body></html>", -1, NULL));
  refuse (TRUE);
  g_assert_false (msg_message_create_mhtml_body (message, uri, MSG_MHTML_SUPPRESS_NONE, NULL, NULL, NULL, &error));
  refuse (FALSE);
  g_assert_error (error, G_THREAD_ERROR, G_THREAD_ERROR_AGAIN);
  g_assert_nonnull (strstr (error->message, "No thread"));
  g_clear_error (&error);

  g_assert_true (msg_message_create_mhtml_body (message, uri, MSG_MHTML_SUPPRESS_NONE, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  msg_test_remove_tree (dir);
}

int
main (int   argc,
      char *argv[])
{
  int ret;

  msg_test_capture_log ();
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  msg_test_fixture_init ();

  g_test_add_func ("/threads/interposed", test_interposed);
#define ADD(path, func) \
  g_test_add (path, MsgTestFixture, NULL, msg_test_fixture_setup, func, msg_test_fixture_teardown)
  ADD ("/threads/transport/async-call", test_async_call);
  ADD ("/threads/transport/queued-behind-sync", test_queued_behind_sync);
  ADD ("/threads/transport/queued-cancelled", test_queued_cancelled);
  ADD ("/threads/transport/queued-deadline", test_queued_deadline);
#undef ADD
  g_test_add_func ("/threads/oneshot", test_oneshot);
  g_test_add_func ("/threads/crypto", test_crypto);
  g_test_add_func ("/threads/flusher", test_flusher);
  g_test_add_func ("/threads/flusher-short", test_flusher_short);
  g_test_add_func ("/threads/web-fetch", test_web_fetch);

  ret = g_test_run ();
  msg_test_fixture_cleanup ();
  return ret;
}
