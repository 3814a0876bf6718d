/* test-flusher.c: sending a drop directory over several connections
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-utils.h"

#include "msg-test-sink.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <sys/wait.h>

static void
write_message_full (const char *dir,
                    const char *subject,
                    const char *extra_headers)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *name = g_strdup_printf ("%s.eml", subject);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *contents = g_strdup_printf ("From: alice@example.test\r\n"
                                               "To: bob@example.test\r\n%s"
                                               "Subject: %s\r\n\r\nbody of %s\r\n",
                                               extra_headers, subject, subject);

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

static void
write_messages (const char *dir,
                const char *prefix,
                guint       n)
{
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *subject = g_strdup_printf ("%s%04u", prefix, i);

      write_message_full (dir, subject, "");
    }
}

static MsgConfiguration *
sink_configuration (MsgTestSink *sink)
{
  g_autoptr (GError) error = NULL;
  g_autofree char  *port = g_strdup_printf ("%u", msg_test_sink_get_port (sink));
  MsgConfiguration *configuration = msg_configuration_new ();

  msg_configuration_set_field (configuration, "sendusing", "smtp", &error);
  g_assert_no_error (error);
  msg_configuration_set_field (configuration, "smtpserver", "127.0.0.1", &error);
  g_assert_no_error (error);
  msg_configuration_set_field (configuration, "smtpserverport", port, &error);
  g_assert_no_error (error);
  return configuration;
}

static gboolean
exists (const char *dir,
        const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  return g_file_test (path, G_FILE_TEST_EXISTS);
}

/* The names in @dir ending in @suffix (or starting with "." when
 * @suffix is "."). */
static guint
count_names (const char *dir,
             const char *suffix)
{
  g_autoptr (GDir) handle = g_dir_open (dir, 0, NULL);
  const char *name;
  guint       n = 0;

  while (handle != NULL && (name = g_dir_read_name (handle)) != NULL)
    n += g_str_equal (suffix, ".") ? name[0] == '.' : g_str_has_suffix (name, suffix);
  return n;
}

static void
progress_cb (MsgFlusher *flusher,
             guint       done,
             guint       total,
             guint64     bytes,
             gpointer    user_data)
{
  guint *last = user_data;

  g_assert_cmpuint (done, <=, total);
  g_assert_cmpuint (done, >=, last[0]);
  last[0] = done;
  last[1] = total;
}

static void
test_all_sent (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgTestSink) sink = msg_test_sink_new ();
  g_autoptr (MsgConfiguration) configuration = sink_configuration (sink);
  g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (dir);
  g_autoptr (MsgFlusher) flusher = msg_flusher_new (configuration, directory);
  g_autofree char *bcc_message = NULL;
  g_autofree char *bcc_recipients = NULL;
  guint            progress[2] = { 0, 0 };

  g_test_summary ("Every message is sent once over at most N connections, with its "
                  "envelope from its headers and Bcc left out, then deleted.");

  write_messages (dir, "m", 60);
  write_message_full (dir, "with-bcc", "Bcc: hidden@example.test\r\n");
  g_assert_cmpuint (msg_flusher_get_connections (flusher), ==, 4);
  msg_flusher_set_connections (flusher, 3);
  g_signal_connect (flusher, "progress", G_CALLBACK (progress_cb), progress);

  g_assert_true (msg_flusher_run (flusher, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg_flusher_get_n_sent (flusher), ==, 61);
  g_assert_cmpuint (msg_flusher_get_n_failed (flusher) + msg_flusher_get_n_deferred (flusher) +
                        msg_flusher_get_n_unknown (flusher) + msg_flusher_get_n_skipped (flusher),
                    ==, 0);
  g_assert_cmpuint (progress[0], ==, 61);
  g_assert_cmpuint (progress[1], ==, 61);
  g_assert_cmpuint (msg_test_sink_get_n_accepted (sink), ==, 61);
  g_assert_cmpuint (msg_test_sink_get_n_connections (sink), <=, 3);
  for (guint i = 0; i < 60; i++)
    {
      g_autofree char *subject = g_strdup_printf ("m%04u", i);

      g_assert_cmpuint (msg_test_sink_count (sink, subject), ==, 1);
    }
  bcc_message = msg_test_sink_get_message (sink, "with-bcc", &bcc_recipients);
  g_assert_cmpstr (bcc_recipients, ==, "bob@example.test hidden@example.test");
  g_assert_null (strstr (bcc_message, "hidden@"));
  g_assert_cmpuint (count_names (dir, ""), ==, 0);

  msg_test_remove_tree (dir);
}

static char *
read_key (const char *path,
          const char *group,
          const char *key)
{
  g_autoptr (GKeyFile) key_file = g_key_file_new ();
  g_autoptr (GError) error = NULL;

  g_key_file_load_from_file (key_file, path, G_KEY_FILE_NONE, &error);
  g_assert_no_error (error);
  return g_key_file_get_string (key_file, group, key, NULL);
}

static void
test_refusals (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *failed = g_build_filename (dir, "failed", NULL);
  g_autofree char *report = g_build_filename (failed, "reject-1.eml.report", NULL);
  g_autofree char *retry = g_build_filename (dir, ".tempfail-1.eml.retry", NULL);
  g_autoptr (MsgTestSink) sink = msg_test_sink_new ();
  g_autoptr (MsgConfiguration) configuration = sink_configuration (sink);
  g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (dir);
  g_autoptr (MsgFlusher) flusher = msg_flusher_new (configuration, directory);
  g_autofree char *outcome = NULL;
  g_autofree char *message = NULL;
  g_autofree char *attempts = NULL;

  g_test_summary ("A 5xx moves the message to failed/ with a report; a 4xx leaves it "
                  "with a retry sidecar, and the next run waits for its back-off.");

  write_messages (dir, "ok", 5);
  write_message_full (dir, "reject-1", "");
  write_message_full (dir, "tempfail-1", "");
  write_message_full (dir, "not-a-message", "");
  write_message_full (dir, "greylisted", "Cc: greylist@example.test\r\n");
  write_message_full (dir, "no-such-user", "Cc: nosuchuser@example.test, greylist@example.test\r\n");
  {
    g_autofree char *path = g_build_filename (dir, "not-a-message.eml", NULL);

    g_file_set_contents (path, "", 0, &error);
    g_assert_no_error (error);
  }

  g_assert_true (msg_flusher_run (flusher, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg_flusher_get_n_sent (flusher), ==, 5);
  g_assert_cmpuint (msg_flusher_get_n_failed (flusher), ==, 3);
  g_assert_cmpuint (msg_flusher_get_n_deferred (flusher), ==, 2);

  g_assert_true (exists (failed, "reject-1.eml"));
  g_assert_true (exists (failed, "not-a-message.eml"));
  /* A 550 among the refused recipients is for good; only 4xx is for now. */
  g_assert_true (exists (failed, "no-such-user.eml"));
  g_assert_true (exists (dir, "greylisted.eml"));
  g_assert_true (exists (dir, ".greylisted.eml.retry"));
  outcome = read_key (report, "report", "outcome");
  g_assert_cmpstr (outcome, ==, "failed");
  message = read_key (report, "report", "error");
  g_assert_nonnull (strstr (message, "554"));
  g_assert_true (exists (dir, "tempfail-1.eml"));
  attempts = read_key (retry, "retry", "attempts");
  g_assert_cmpstr (attempts, ==, "1");
  g_assert_cmpuint (count_names (dir, ".eml"), ==, 2);

  /* The next run leaves them alone until their back-off (a minute) ends. */
  g_assert_true (msg_flusher_run (flusher, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg_flusher_get_n_skipped (flusher), ==, 2);
  g_assert_cmpuint (msg_flusher_get_n_deferred (flusher), ==, 0);
  g_assert_true (exists (dir, "tempfail-1.eml"));
  msg_test_remove_tree (dir);
}

static void
test_failed_unwritable (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *failed = g_build_filename (dir, "failed", NULL);
  g_autofree char *retry = g_build_filename (dir, ".reject-1.eml.retry", NULL);
  g_autoptr (MsgTestSink) sink = msg_test_sink_new ();
  g_autoptr (MsgConfiguration) configuration = sink_configuration (sink);
  g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (dir);
  g_autoptr (MsgFlusher) flusher = msg_flusher_new (configuration, directory);
  g_autofree char *last_error = NULL;

  g_test_summary ("When failed/ cannot take a refused message (here: it is a file, as "
                  "a full disk would refuse it), the message stays in the queue, "
                  "with the reason in its retry sidecar; nothing is lost.");

  g_file_set_contents (failed, "not a directory", -1, &error);
  g_assert_no_error (error);
  write_message_full (dir, "reject-1", "");
  write_messages (dir, "ok", 2);

  g_assert_true (msg_flusher_run (flusher, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg_flusher_get_n_sent (flusher), ==, 2);
  g_assert_cmpuint (msg_flusher_get_n_deferred (flusher), ==, 1);
  g_assert_true (exists (dir, "reject-1.eml"));
  last_error = read_key (retry, "retry", "last-error");
  g_assert_nonnull (strstr (last_error, "failed"));
  msg_test_remove_tree (dir);
}

static void
test_blackhole (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *unknown = g_build_filename (dir, "unknown", NULL);
  g_autoptr (MsgTestSink) sink = msg_test_sink_new ();
  g_autoptr (MsgConfiguration) configuration = sink_configuration (sink);
  g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (dir);
  g_autoptr (MsgFlusher) flusher = msg_flusher_new (configuration, directory);
  g_autofree char *report = g_build_filename (unknown, "blackhole-1.eml.report", NULL);
  g_autofree char *outcome = NULL;

  g_test_summary ("No answer after the final dot: the message goes to unknown/ and is "
                  "never sent again.");

  msg_configuration_set_field (configuration, "smtpconnectiontimeout", "0.5", &error);
  g_assert_no_error (error);
  write_message_full (dir, "blackhole-1", "");
  write_messages (dir, "ok", 3);
  msg_flusher_set_connections (flusher, 1);

  g_assert_true (msg_flusher_run (flusher, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg_flusher_get_n_unknown (flusher), ==, 1);
  g_assert_cmpuint (msg_flusher_get_n_sent (flusher), ==, 3);
  g_assert_true (exists (unknown, "blackhole-1.eml"));
  outcome = read_key (report, "report", "outcome");
  g_assert_cmpstr (outcome, ==, "unknown");

  g_assert_true (msg_flusher_run (flusher, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg_flusher_get_n_unknown (flusher) + msg_flusher_get_n_sent (flusher), ==, 0);
  msg_test_remove_tree (dir);
}

/* Each message was accepted once, or (if set aside in unknown/) at most
 * once; none is left in the queue. */
static void
assert_exactly_once (const char  *dir,
                     const char  *prefix,
                     guint        n,
                     MsgTestSink *first,
                     MsgTestSink *second)
{
  g_autofree char *unknown = g_build_filename (dir, "unknown", NULL);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *subject = g_strdup_printf ("%s%04u", prefix, i);
      g_autofree char *name = g_strdup_printf ("%s.eml", subject);
      guint            count = msg_test_sink_count (first, subject) + (second != NULL ? msg_test_sink_count (second, subject) : 0);

      g_assert_false (exists (dir, name));
      if (exists (unknown, name))
        g_assert_cmpuint (count, <=, 1);
      else
        g_assert_cmpuint (count, ==, 1);
    }
  g_assert_cmpuint (count_names (dir, "."), ==, 0); /* no claim, no sidecar left */
}

static void
test_server_dies (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgTestSink) sink = msg_test_sink_new ();
  g_autoptr (MsgTestSink) sink2 = NULL;
  g_autoptr (MsgConfiguration) configuration = sink_configuration (sink);
  g_autoptr (MsgConfiguration) configuration2 = NULL;
  g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (dir);
  g_autoptr (MsgFlusher) flusher = msg_flusher_new (configuration, directory);
  g_autoptr (MsgFlusher) flusher2 = NULL;
  guint n_left;

  g_test_summary ("A server that dies after accepting half: what it accepted is gone, "
                  "the rest is sent once by the next run to a live server.");

  write_messages (dir, "m", 40);
  msg_test_sink_set_die_after (sink, 20);
  g_assert_true (msg_flusher_run (flusher, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg_flusher_get_n_sent (flusher), ==, 20);
  g_assert_cmpuint (msg_test_sink_get_n_accepted (sink), ==, 20);
  n_left = count_names (dir, ".eml");
  g_assert_cmpuint (n_left + msg_flusher_get_n_unknown (flusher), ==, 20);
  /* A failed connection is the server's fault: no back-off for the
   * messages. */
  g_assert_cmpuint (count_names (dir, "."), ==, 0);

  sink2 = msg_test_sink_new ();
  configuration2 = sink_configuration (sink2);
  flusher2 = msg_flusher_new (configuration2, directory);
  g_assert_true (msg_flusher_run (flusher2, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg_flusher_get_n_sent (flusher2), ==, n_left);
  assert_exactly_once (dir, "m", 40, sink, sink2);
  msg_test_remove_tree (dir);
}

static gpointer
run_thread (gpointer data)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (msg_flusher_run (data, NULL, &error));
  g_assert_no_error (error);
  return NULL;
}

static void
test_two_flushers (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgTestSink) sink = msg_test_sink_new ();
  g_autoptr (MsgConfiguration) configuration = sink_configuration (sink);
  g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (dir);
  g_autoptr (MsgDropDirectory) directory2 = msg_drop_directory_new (dir);
  g_autoptr (MsgFlusher) flusher = msg_flusher_new (configuration, directory);
  g_autoptr (MsgFlusher) flusher2 = msg_flusher_new (configuration, directory2);
  GThread *threads[2];

  g_test_summary ("Two flushers on one directory at once send each message once.");

  write_messages (dir, "m", 200);
  threads[0] = g_thread_new ("flusher-1", run_thread, flusher);
  threads[1] = g_thread_new ("flusher-2", run_thread, flusher2);
  g_thread_join (threads[0]);
  g_thread_join (threads[1]);

  g_assert_cmpuint (msg_flusher_get_n_sent (flusher) + msg_flusher_get_n_sent (flusher2), ==, 200);
  g_assert_cmpuint (msg_test_sink_get_n_accepted (sink), ==, 200);
  assert_exactly_once (dir, "m", 200, sink, NULL);
  msg_test_remove_tree (dir);
}

typedef struct
{
  GError  *error;
  gboolean ok;
  gboolean done;
} AsyncResult;

static void
run_done_cb (GObject      *source,
             GAsyncResult *result,
             gpointer      user_data)
{
  AsyncResult *async = user_data;

  async->ok = msg_flusher_run_finish (MSG_FLUSHER (source), result, &async->error);
  async->done = TRUE;
}

static void
test_async (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgTestSink) sink = msg_test_sink_new ();
  g_autoptr (MsgConfiguration) configuration = sink_configuration (sink);
  g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (dir);
  g_autoptr (MsgFlusher) flusher = msg_flusher_new (configuration, directory);
  guint       progress[2] = { 0, 0 };
  AsyncResult async = { NULL, FALSE, FALSE };

  g_test_summary ("run_async emits progress in the caller's context; a second run at "
                  "once is refused.");

  write_messages (dir, "m", 20);
  g_signal_connect (flusher, "progress", G_CALLBACK (progress_cb), progress);
  msg_flusher_run_async (flusher, NULL, run_done_cb, &async);
  g_assert_false (msg_flusher_run (flusher, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PENDING);
  g_clear_error (&error);
  while (!async.done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_no_error (async.error);
  g_assert_true (async.ok);
  /* The last progress was queued before the callback. */
  g_assert_cmpuint (progress[0], ==, 20);
  g_assert_cmpuint (msg_flusher_get_n_sent (flusher), ==, 20);
  g_assert_cmpuint (msg_test_sink_get_n_accepted (sink), ==, 20);
  msg_test_remove_tree (dir);
}

static GSubprocess *
spawn_flush (MsgTestSink *sink,
             const char  *dir,
             GError     **error)
{
  g_autofree char *port = g_strdup_printf ("smtpserverport=%u", msg_test_sink_get_port (sink));

  return g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, error,
                           g_getenv ("MSGOBJ_TEST_TOOL"), "flush", "--connections", "4",
                           "--set", "sendusing=smtp", "--set", "smtpserver=127.0.0.1", "--set", port,
                           dir, NULL);
}

static void
test_sigkill (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgTestSink) sink = msg_test_sink_new ();
  g_autoptr (GSubprocess) first = NULL;
  g_autoptr (GSubprocess) second = NULL;
  int status;

  g_test_summary ("msgobj flush killed (SIGKILL) mid-run, then run again: every message "
                  "delivered exactly once, except those set aside in unknown/.");

  write_messages (dir, "m", 300);
  first = spawn_flush (sink, dir, &error);
  g_assert_no_error (error);
  /* Generous: 50 messages take a few milliseconds here. */
  g_assert_true (msg_test_sink_wait_accepted (sink, 50, (guint) (20000 * msg_test_time_scale ())));
  g_subprocess_send_signal (first, SIGKILL);
  g_subprocess_wait (first, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_signaled (first));

  second = spawn_flush (sink, dir, &error);
  g_assert_no_error (error);
  g_subprocess_wait (second, NULL, &error);
  g_assert_no_error (error);
  status = g_subprocess_get_exit_status (second);
  /* 7 when the kill left a message being sent (set aside in unknown/). */
  g_assert_true (status == 0 || status == 7);
  g_assert_true ((status == 7) == exists (dir, "unknown"));
  assert_exactly_once (dir, "m", 300, sink, NULL);
  msg_test_remove_tree (dir);
}

static void
test_tool_exit_codes (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgTestSink) sink = msg_test_sink_new ();
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GSubprocess) usage = NULL;

  g_test_summary ("msgobj flush exits as send: 4 when a message was refused, 2 on bad usage.");

  write_message_full (dir, "reject-1", "");
  write_messages (dir, "m", 3);
  process = spawn_flush (sink, dir, &error);
  g_assert_no_error (error);
  g_subprocess_wait (process, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 4);
  g_assert_cmpuint (msg_test_sink_get_n_accepted (sink), ==, 3);

  usage = g_subprocess_new (G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error, g_getenv ("MSGOBJ_TEST_TOOL"),
                            "flush", "--connections", "65", dir, NULL);
  g_assert_no_error (error);
  g_subprocess_wait (usage, NULL, &error);
  g_assert_cmpint (g_subprocess_get_exit_status (usage), ==, 2);
  msg_test_remove_tree (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/flusher/all-sent", test_all_sent);
  g_test_add_func ("/flusher/refusals", test_refusals);
  g_test_add_func ("/flusher/failed-unwritable", test_failed_unwritable);
  g_test_add_func ("/flusher/blackhole", test_blackhole);
  g_test_add_func ("/flusher/server-dies", test_server_dies);
  g_test_add_func ("/flusher/two-flushers", test_two_flushers);
  g_test_add_func ("/flusher/async", test_async);
  g_test_add_func ("/flusher/sigkill", test_sigkill);
  g_test_add_func ("/flusher/tool-exit-codes", test_tool_exit_codes);

  return g_test_run ();
}
