/* test-flusher.c: sending a drop directory over several connections
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-utils.h"

#include "msg-test-server.h"
#include "msg-test-sink.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static void
write_message_to (const char *dir,
                  const char *subject,
                  const char *to,
                  const char *extra_headers)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *name = g_strdup_printf ("%s.eml", subject);
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *contents = g_strdup_printf ("From: alice@example.test\r\n"
                                               "To: %s\r\n%s"
                                               "Subject: %s\r\n\r\nbody of %s\r\n",
                                               to, extra_headers, subject, subject);

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

static void
write_message_full (const char *dir,
                    const char *subject,
                    const char *extra_headers)
{
  write_message_to (dir, subject, "bob@example.test", extra_headers);
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
  g_assert_null (msg_flusher_dup_deferral_error (flusher));
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

/* EMFILE: with descriptors for two of its contexts and not the others, a
 * run fails before it starts a thread (GLib aborts the process when it
 * cannot make a context's wake-up descriptor); in a subprocess, as the
 * limit is the process's. */
static void
test_emfile (void)
{
  g_test_summary ("A run that cannot make its connections' main contexts (EMFILE) fails with a "
                  "clear error before it sends anything, not an abort; the next run sends every "
                  "message once.");
  if (g_test_subprocess ())
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *dir = msg_test_make_temp_dir ();
      g_autoptr (MsgTestSink) sink = msg_test_sink_new ();
      g_autoptr (MsgConfiguration) configuration = sink_configuration (sink);
      g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (dir);
      g_autoptr (MsgFlusher) flusher = msg_flusher_new (configuration, directory);
      g_autoptr (MsgTransport) warm = NULL;
      struct rlimit saved;
      struct rlimit limit;
      gboolean      reached = FALSE;
      gboolean      ok;
      int           lowest;

      write_messages (dir, "m", 4);
      msg_flusher_set_connections (flusher, 4);
      /* The plugin loaded first: dlopen() needs descriptors too. */
      warm = msg_transport_new_for_name ("smtp", configuration, &error);
      g_assert_no_error (error);
      lowest = dup (0);
      g_assert_cmpint (lowest, >=, 0);
      close (lowest);
      g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &saved), ==, 0);
      /* From no descriptor free upwards: the steps before the contexts
       * (the claims, the listing) need a few, how many depends on the
       * machine, and each fails cleanly; the first limit at which the
       * run gets as far as its contexts must fail there, cleanly too. */
      for (guint spare = 0; !reached && spare < 32; spare++)
        {
          limit = saved;
          limit.rlim_cur = (rlim_t) lowest + spare;
          g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &limit), ==, 0);
          ok = msg_flusher_run (flusher, NULL, &error);
          g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &saved), ==, 0);
          g_assert_false (ok);
          g_assert_nonnull (error);
          reached = strstr (error->message, "No file descriptor is available") != NULL;
          if (reached)
            g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES);
          g_clear_error (&error);
        }
      g_assert_true (reached);
      g_assert_cmpuint (count_names (dir, ".eml"), ==, 4);
      g_assert_cmpuint (msg_test_sink_get_n_connections (sink), ==, 0);

      g_assert_true (msg_flusher_run (flusher, NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (msg_flusher_get_n_sent (flusher), ==, 4);
      g_assert_cmpuint (msg_test_sink_get_n_accepted (sink), ==, 4);
      g_assert_cmpuint (count_names (dir, ".eml"), ==, 0);
      msg_test_remove_tree (dir);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
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

static guint64
sum_sizes (const char *dir)
{
  g_autoptr (GDir) handle = g_dir_open (dir, 0, NULL);
  const char *name;
  guint64     total = 0;

  while (handle != NULL && (name = g_dir_read_name (handle)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      GStatBuf         buf;

      if (g_str_has_suffix (name, ".eml") && g_stat (path, &buf) == 0)
        total += (guint64) buf.st_size;
    }
  return total;
}

static void
bytes_cb (MsgFlusher *flusher,
          guint       done,
          guint       total,
          guint64     bytes,
          gpointer    user_data)
{
  *(guint64 *) user_data = bytes;
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
  guint64          bytes = 0;
  guint64          total_bytes;

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

  total_bytes = sum_sizes (dir);
  g_signal_connect (flusher, "progress", G_CALLBACK (bytes_cb), &bytes);
  g_assert_true (msg_flusher_run (flusher, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg_flusher_get_n_sent (flusher), ==, 5);
  g_assert_cmpuint (msg_flusher_get_n_failed (flusher), ==, 3);
  g_assert_cmpuint (msg_flusher_get_n_deferred (flusher), ==, 2);
  /* Progress counts the bytes of every message dealt with, sent or not. */
  g_assert_cmpuint (bytes, ==, total_bytes);

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

/* Runs msgobj flush on a drop directory holding a copy of @staging's
 * messages, on a tmpfs of its own so small that it is full (no inode
 * left): in a new mount namespace, so that nothing outside the flush sees
 * it. As root (the CI), a mount namespace; else a user namespace too,
 * where the user may mount a tmpfs. Copies the directory's contents to
 * @out afterwards. Returns the exit status of the flush, or -1 when
 * neither namespace could mount (the reason in @skip). */
static int
flush_on_full_disk (MsgTestSink *sink,
                    const char  *staging,
                    const char  *mount_point,
                    const char  *out,
                    gboolean     with_failed_dir,
                    char       **output,
                    char       **skip)
{
  /* 77: the mount failed, before anything else was done. */
  static const char script[] =
      "mount -t tmpfs -o size=1m,nr_inodes=16,mode=0700 msgobj-test \"$1\" || exit 77\n"
      "set -e\n"
      "cp \"$2\"/*.eml \"$1\"/\n"
      "if [ \"$6\" = yes ]; then mkdir \"$1/failed\"; fi\n"
      "mkdir \"$1/fill\"\n"
      "i=0; while true 2>/dev/null > \"$1/fill/$i\"; do i=$((i+1)); done\n"
      "set +e\n"
      "\"$3\" flush --connections 1 --set sendusing=smtp --set smtpserver=127.0.0.1 \\\n"
      "  --set smtpserverport=\"$4\" \"$1\"\n"
      "code=$?\n"
      "rm -rf \"$1/fill\" && cp -a \"$1/.\" \"$5/\" || exit 78\n"
      "exit $code\n";
  const char *const prefixes[][4] = {
    { "unshare", "-m", NULL },
    { "unshare", "-r", "-m", NULL },
  };
  g_autofree char *port = g_strdup_printf ("%u", msg_test_sink_get_port (sink));
  g_autoptr (GString) reasons = g_string_new (NULL);

  for (guint i = geteuid () == 0 ? 0 : 1; i < G_N_ELEMENTS (prefixes); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) argv = g_ptr_array_new ();
      g_autoptr (GSubprocess) process = NULL;
      g_autofree char *stdout_text = NULL;
      g_autofree char *stderr_text = NULL;
      int              status;

      for (guint k = 0; prefixes[i][k] != NULL; k++)
        g_ptr_array_add (argv, (gpointer) prefixes[i][k]);
      g_ptr_array_add (argv, (gpointer) "sh");
      g_ptr_array_add (argv, (gpointer) "-c");
      g_ptr_array_add (argv, (gpointer) script);
      g_ptr_array_add (argv, (gpointer) "sh");
      g_ptr_array_add (argv, (gpointer) mount_point);
      g_ptr_array_add (argv, (gpointer) staging);
      g_ptr_array_add (argv, (gpointer) g_getenv ("MSGOBJ_TEST_TOOL"));
      g_ptr_array_add (argv, port);
      g_ptr_array_add (argv, (gpointer) out);
      g_ptr_array_add (argv, (gpointer) (with_failed_dir ? "yes" : "no"));
      g_ptr_array_add (argv, NULL);
      process = g_subprocess_newv ((const char *const *) argv->pdata,
                                   G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error);
      if (process == NULL)
        {
          g_string_append_printf (reasons, "%s%s", reasons->len > 0 ? "; " : "", error->message);
          continue;
        }
      g_subprocess_communicate_utf8 (process, NULL, NULL, &stdout_text, &stderr_text, &error);
      g_assert_no_error (error);
      status = g_subprocess_get_if_exited (process) ? g_subprocess_get_exit_status (process) : -1;
      if (status == 77 || (status == 1 && strstr (stderr_text, "unshare") != NULL))
        {
          g_autofree char *command = g_strjoinv (" ", (char **) prefixes[i]);

          g_string_append_printf (reasons, "%s%s: %s", reasons->len > 0 ? "; " : "", command,
                                  g_strstrip (stderr_text));
          continue;
        }
      g_assert_cmpint (status, !=, 78);
      *output = g_strconcat (stdout_text, stderr_text, NULL);
      return status;
    }
  *skip = g_strdup_printf ("cannot mount a small tmpfs in a new mount namespace (not root, or "
                           "no CAP_SYS_ADMIN, and no user namespaces): %s",
                           reasons->str);
  return -1;
}

static void
test_failed_disk_full (gconstpointer data)
{
  gboolean with_failed_dir = GPOINTER_TO_INT (data);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *staging = g_build_filename (dir, "staging", NULL);
  g_autofree char *mount_point = g_build_filename (dir, "queue", NULL);
  g_autofree char *out = g_build_filename (dir, "after", NULL);
  g_autofree char *failed = g_build_filename (out, "failed", NULL);
  g_autofree char *sent_path = NULL;
  g_autofree char *original = NULL;
  g_autofree char *after = NULL;
  g_autofree char *output = NULL;
  g_autofree char *skip = NULL;
  g_autoptr (MsgTestSink) sink = msg_test_sink_new ();
  int status;

  g_test_summary ("A refused message when the disk of the drop directory is full (a tmpfs "
                  "with no inode left, mounted in a mount namespace of its own): it is "
                  "neither lost nor duplicated, and the flush says why (No space left on "
                  "device). Without failed/ (it cannot be made), the message stays in the "
                  "queue; with failed/ it goes there (a rename needs no space), without "
                  "its report.");

  g_assert_cmpint (g_mkdir (staging, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (mount_point, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (out, 0700), ==, 0);
  write_message_full (staging, "reject-1", "");

  status = flush_on_full_disk (sink, staging, mount_point, out, with_failed_dir, &output, &skip);
  if (status < 0)
    {
      g_test_skip (skip);
      msg_test_remove_tree (dir);
      return;
    }
  g_test_message ("msgobj flush said: %s", output);
  /* 4: refused, or left for later. */
  g_assert_cmpint (status, ==, 4);
  g_assert_nonnull (strstr (output, "No space left on device"));
  g_assert_cmpuint (msg_test_sink_get_n_accepted (sink), ==, 0);
  g_assert_true (exists (out, "reject-1.eml") != exists (failed, "reject-1.eml"));
  if (with_failed_dir)
    {
      g_assert_true (exists (failed, "reject-1.eml"));
      g_assert_nonnull (strstr (output, "report or retry file"));
    }
  else
    {
      g_assert_true (exists (out, "reject-1.eml"));
      g_assert_false (exists (out, "failed"));
      g_assert_nonnull (strstr (output, "failed"));
    }
  /* No claim, no half-written sidecar or report left. */
  g_assert_cmpuint (count_names (out, "."), ==, 0);
  g_assert_cmpuint (count_names (failed, "."), ==, 0);
  g_assert_cmpuint (count_names (failed, ".report"), ==, 0);
  /* Intact. */
  sent_path = g_build_filename (staging, "reject-1.eml", NULL);
  g_file_get_contents (sent_path, &original, NULL, &error);
  g_assert_no_error (error);
  {
    g_autofree char *path = g_build_filename (with_failed_dir ? failed : out, "reject-1.eml", NULL);

    g_file_get_contents (path, &after, NULL, &error);
    g_assert_no_error (error);
  }
  g_assert_cmpstr (after, ==, original);
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

/* How long the sink holds each final reply waiting for the next
 * envelope: the last message of a connection waits it out, so short; if
 * a loaded machine writes an envelope later than this, it only goes
 * uncounted (the checks ask for at least one pipelined envelope). */
#define HOLD_MS 100

static void
test_pipelined_refused_envelope (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *failed = g_build_filename (dir, "failed", NULL);
  g_autofree char *report = g_build_filename (failed, "m0001.eml.report", NULL);
  g_autoptr (MsgTestSink) sink = msg_test_sink_new ();
  g_autoptr (MsgConfiguration) configuration = sink_configuration (sink);
  g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (dir);
  g_autoptr (MsgFlusher) flusher = msg_flusher_new (configuration, directory);
  g_autofree char *message = NULL;

  g_test_summary ("One connection pipelines each message's envelope behind the final dot "
                  "of the one before (RFC 2920 section 3.1); the second envelope refused "
                  "fails that message alone, the others are sent once over the same "
                  "connection.");

  msg_test_sink_set_hold (sink, HOLD_MS);
  write_messages (dir, "m", 12);
  write_message_to (dir, "m0001", "nosuchuser@example.test", "");
  msg_flusher_set_connections (flusher, 1);
  g_assert_true (msg_flusher_run (flusher, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg_flusher_get_n_sent (flusher), ==, 11);
  g_assert_cmpuint (msg_flusher_get_n_failed (flusher), ==, 1);
  g_assert_cmpuint (msg_flusher_get_n_deferred (flusher) + msg_flusher_get_n_unknown (flusher), ==, 0);
  g_assert_true (exists (failed, "m0001.eml"));
  message = read_key (report, "report", "error");
  g_assert_nonnull (strstr (message, "nosuchuser"));
  g_assert_cmpuint (msg_test_sink_count (sink, "m0001"), ==, 0);
  g_assert_cmpuint (msg_test_sink_get_n_accepted (sink), ==, 11);
  g_assert_cmpuint (msg_test_sink_get_n_pipelined (sink), >, 0);
  /* Only a refused message with an envelope behind it costs the
   * connection (RSET would meet those replies): one new one at most. */
  g_assert_cmpuint (msg_test_sink_get_n_connections (sink), <=, 2);
  for (guint i = 0; i < 12; i++)
    {
      g_autofree char *subject = g_strdup_printf ("m%04u", i);

      g_assert_cmpuint (msg_test_sink_count (sink, subject), ==, i == 1 ? 0 : 1);
    }
  g_assert_cmpuint (count_names (dir, "."), ==, 0);
  msg_test_remove_tree (dir);
}

static void
test_pipelined_dropped (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgTestSink) sink = msg_test_sink_new ();
  g_autoptr (MsgConfiguration) configuration = sink_configuration (sink);
  g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (dir);
  g_autoptr (MsgFlusher) flusher = msg_flusher_new (configuration, directory);

  g_test_summary ("A server that drops the connection right after the first 250, with the "
                  "next envelope pipelined behind it unanswered: the first message is "
                  "sent, the next goes again on a new connection, each exactly once, none "
                  "unknown.");

  msg_test_sink_set_hold (sink, HOLD_MS);
  msg_test_sink_set_drop_after (sink, 1);
  write_messages (dir, "m", 10);
  msg_flusher_set_connections (flusher, 1);
  g_assert_true (msg_flusher_run (flusher, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg_flusher_get_n_sent (flusher), ==, 10);
  g_assert_cmpuint (msg_flusher_get_n_unknown (flusher) + msg_flusher_get_n_deferred (flusher), ==, 0);
  g_assert_cmpuint (msg_test_sink_get_n_accepted (sink), ==, 10);
  g_assert_cmpuint (msg_test_sink_get_n_connections (sink), ==, 2);
  g_assert_cmpuint (msg_test_sink_get_n_pipelined (sink), >, 0);
  assert_exactly_once (dir, "m", 10, sink, NULL);
  msg_test_remove_tree (dir);
}

/* A configuration for relays on 127.0.0.1 at @ports (0 ends), used by
 * @mode. */
static MsgConfiguration *
relays_configuration (const char    *mode,
                      const guint16 *ports)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) list = g_string_new (NULL);
  MsgConfiguration *configuration = msg_configuration_new ();

  for (guint i = 0; ports[i] != 0; i++)
    g_string_append_printf (list, "%s127.0.0.1:%u", i > 0 ? ", " : "", ports[i]);
  msg_configuration_set_field (configuration, "smtpserver", list->str, &error);
  g_assert_no_error (error);
  msg_configuration_set_field (configuration, "smtprelaymode", mode, &error);
  g_assert_no_error (error);
  /* Short, for the black holes; scaled, for a loaded machine. */
  {
    g_autofree char *timeout = g_strdup_printf ("%g", 0.3 * msg_test_time_scale ());

    msg_configuration_set_field (configuration, "smtpconnectiontimeout", timeout, &error);
    g_assert_no_error (error);
  }
  return configuration;
}

static void
test_relays_spread (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgTestSink) first = msg_test_sink_new ();
  g_autoptr (MsgTestSink) second = msg_test_sink_new ();
  const guint16 ports[] = { msg_test_sink_get_port (first), msg_test_sink_get_port (second), 0 };
  g_autoptr (MsgConfiguration) configuration = relays_configuration ("spread", ports);
  g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (dir);
  g_autoptr (MsgFlusher) flusher = msg_flusher_new (configuration, directory);

  g_test_summary ("With smtprelaymode spread, the connections are shared among the relays: "
                  "each gets messages, and each message is sent once.");

  /* Each connection takes its first message as its thread starts, long
   * before two connections could send all 200: both relays get some. */
  write_messages (dir, "m", 200);
  g_assert_true (msg_flusher_run (flusher, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg_flusher_get_n_sent (flusher), ==, 200);
  g_assert_cmpuint (msg_test_sink_get_n_accepted (first), >, 0);
  g_assert_cmpuint (msg_test_sink_get_n_accepted (second), >, 0);
  g_assert_cmpuint (msg_test_sink_get_n_accepted (first) + msg_test_sink_get_n_accepted (second), ==, 200);
  /* Two connections each (one of them if its thread came too late). */
  g_assert_cmpuint (msg_test_sink_get_n_connections (first), <=, 2);
  g_assert_cmpuint (msg_test_sink_get_n_connections (second), <=, 2);
  assert_exactly_once (dir, "m", 200, first, second);
  msg_test_remove_tree (dir);
}

static void
test_relays_failover (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgTestSink) first = msg_test_sink_new ();
  g_autoptr (MsgTestSink) second = msg_test_sink_new ();
  const guint16 ports[] = { msg_test_sink_get_port (first), msg_test_sink_get_port (second), 0 };
  g_autoptr (MsgConfiguration) configuration = relays_configuration ("failover", ports);
  g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (dir);
  g_autoptr (MsgFlusher) flusher = msg_flusher_new (configuration, directory);

  g_test_summary ("With smtprelaymode failover, every connection goes to the first relay "
                  "while it is up.");

  write_messages (dir, "m", 60);
  g_assert_true (msg_flusher_run (flusher, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg_flusher_get_n_sent (flusher), ==, 60);
  g_assert_cmpuint (msg_test_sink_get_n_accepted (first), ==, 60);
  g_assert_cmpuint (msg_test_sink_get_n_connections (second), ==, 0);
  assert_exactly_once (dir, "m", 60, first, NULL);
  msg_test_remove_tree (dir);
}

typedef struct
{
  const char *name;
  const char *mode;
  gboolean    black_hole; /* else a port that refuses connections */
  gboolean    dead_first;
} DeadRelayCase;

static const DeadRelayCase dead_relay_cases[] = {
  { "spread-refused", "spread", FALSE, TRUE },
  { "spread-black-holed", "spread", TRUE, FALSE },
  { "failover-refused", "failover", FALSE, TRUE },
  { "failover-black-holed", "failover", TRUE, TRUE },
};

static void
test_relays_dead (gconstpointer data)
{
  const DeadRelayCase *c = data;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgTestSink) live = msg_test_sink_new ();
  g_autoptr (GSocket) dead = NULL;
  GPtrArray *hole = NULL;
  guint16    dead_port;
  guint16    ports[3] = { 0, 0, 0 };
  g_autoptr (MsgConfiguration) configuration = NULL;
  g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (dir);
  g_autoptr (MsgFlusher) flusher = NULL;
  gint64 start_time;

  g_test_summary ("A relay that refuses connections, or a black hole, is marked down and "
                  "its messages go to the live one: each is delivered exactly once.");

  if (c->black_hole)
    hole = msg_test_black_hole_new (&dead_port);
  else
    dead = msg_test_dead_port_new (&dead_port);
  ports[c->dead_first ? 0 : 1] = dead_port;
  ports[c->dead_first ? 1 : 0] = msg_test_sink_get_port (live);
  configuration = relays_configuration (c->mode, ports);
  flusher = msg_flusher_new (configuration, directory);

  write_messages (dir, "m", 40);
  start_time = g_get_monotonic_time ();
  g_assert_true (msg_flusher_run (flusher, NULL, &error));
  g_assert_no_error (error);
  /* Generous: the dead relay costs each connection that tried it one
   * connect time-out (0.3 s) at most, once, since it is then down for
   * the whole run. */
  msg_test_assert_elapsed_below (start_time, 10000);
  g_assert_cmpuint (msg_flusher_get_n_sent (flusher), ==, 40);
  g_assert_cmpuint (msg_flusher_get_n_deferred (flusher) + msg_flusher_get_n_skipped (flusher), ==, 0);
  g_assert_cmpuint (msg_test_sink_get_n_accepted (live), ==, 40);
  assert_exactly_once (dir, "m", 40, live, NULL);
  if (hole != NULL)
    msg_test_black_hole_free (hole);
  msg_test_remove_tree (dir);
}

static void
test_relays_all_down (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  guint16          hole_port;
  guint16          dead_port;
  GPtrArray       *hole = msg_test_black_hole_new (&hole_port);
  g_autoptr (GSocket) refuser = msg_test_dead_port_new (&dead_port);
  const guint16 ports[] = { dead_port, hole_port, 0 };
  g_autoptr (MsgConfiguration) configuration = relays_configuration ("spread", ports);
  g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (dir);
  g_autoptr (MsgFlusher) flusher = msg_flusher_new (configuration, directory);

  g_autoptr (GError) deferral = NULL;
  g_autofree char *dead = g_strdup_printf ("127.0.0.1:%u", ports[0]);
  g_autofree char *holed = g_strdup_printf ("127.0.0.1:%u", ports[1]);

  g_test_summary ("When every relay is down the messages stay queued, with no back-off: "
                  "put back, not failed; the run says why (the first relay's failure).");

  write_messages (dir, "m", 10);
  g_assert_true (msg_flusher_run (flusher, NULL, &error));
  g_assert_no_error (error);
  deferral = msg_flusher_dup_deferral_error (flusher);
  g_assert_nonnull (deferral);
  g_assert_true (g_error_matches (deferral, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
                 g_error_matches (deferral, G_IO_ERROR, G_IO_ERROR_TIMED_OUT));
  g_assert_true (strstr (deferral->message, dead) != NULL || strstr (deferral->message, holed) != NULL);
  g_assert_cmpuint (msg_flusher_get_n_sent (flusher) + msg_flusher_get_n_failed (flusher) +
                        msg_flusher_get_n_unknown (flusher),
                    ==, 0);
  g_assert_cmpuint (msg_flusher_get_n_deferred (flusher), >, 0);
  g_assert_cmpuint (msg_flusher_get_n_deferred (flusher) + msg_flusher_get_n_skipped (flusher), ==, 10);
  g_assert_cmpuint (count_names (dir, ".eml"), ==, 10);
  g_assert_cmpuint (count_names (dir, "."), ==, 0); /* no claim, no retry sidecar */
  g_assert_false (exists (dir, "failed"));
  msg_test_black_hole_free (hole);
  msg_test_remove_tree (dir);
}

static void
test_rate_limit (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgTestSink) sink = msg_test_sink_new ();
  g_autoptr (MsgConfiguration) configuration = sink_configuration (sink);
  g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (dir);
  g_autoptr (MsgFlusher) flusher = msg_flusher_new (configuration, directory);
  gint64 start_time;
  double elapsed;

  g_test_summary ("With a rate limit of 20 a second to the relay, 40 messages over 4 "
                  "connections are sent no faster than the limit.");

  g_assert_cmpfloat (msg_flusher_get_rate_limit (flusher), ==, 0);
  msg_flusher_set_rate_limit (flusher, 20);
  g_assert_cmpfloat (msg_flusher_get_rate_limit (flusher), ==, 20);
  write_messages (dir, "m", 40);
  start_time = g_get_monotonic_time ();
  g_assert_true (msg_flusher_run (flusher, NULL, &error));
  g_assert_no_error (error);
  elapsed = (g_get_monotonic_time () - start_time) / (double) G_USEC_PER_SEC;
  g_assert_cmpuint (msg_flusher_get_n_sent (flusher), ==, 40);
  /* A lower bound on the time is sound here, unlike most timing checks:
   * load only ever slows a run down, and the limit guarantees that the
   * 40 messages start at least 1/20 s apart, so 39/20 s at least. */
  g_assert_cmpfloat (elapsed, >=, 39.0 / 20);
  g_assert_cmpfloat (40 / elapsed, <=, 20 * (1 + 0.05));
  /* The upper bound only catches a hang: generous. */
  g_assert_cmpfloat (elapsed, <=, 30 * msg_test_time_scale ());
  msg_test_remove_tree (dir);
}

/* Cancels the run once the first message is dealt with (progress is
 * emitted in the thread of a synchronous run, after each outcome). */
static void
cancel_on_progress_cb (MsgFlusher *flusher,
                       guint       done,
                       guint       total,
                       guint64     bytes,
                       gpointer    user_data)
{
  if (done >= 1)
    g_cancellable_cancel (user_data);
}

static void
test_rate_limit_cancel (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgTestSink) sink = msg_test_sink_new ();
  g_autoptr (MsgConfiguration) configuration = sink_configuration (sink);
  g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (dir);
  g_autoptr (MsgFlusher) flusher = msg_flusher_new (configuration, directory);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  gint64 start_time;

  g_test_summary ("Cancelling a run that waits for its rate limit (a message every 10 s) "
                  "ends it at once; the waiting messages stay queued.");

  msg_flusher_set_rate_limit (flusher, 0.1);
  write_messages (dir, "m", 5);
  g_signal_connect (flusher, "progress", G_CALLBACK (cancel_on_progress_cb), cancellable);
  start_time = g_get_monotonic_time ();
  g_assert_false (msg_flusher_run (flusher, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* Well below the 10 s the second message waits for, but generous. */
  msg_test_assert_elapsed_below (start_time, 5000);
  g_assert_cmpuint (msg_flusher_get_n_sent (flusher), ==, 1);
  g_assert_cmpuint (count_names (dir, ".eml"), ==, 4);
  g_assert_cmpuint (count_names (dir, "."), ==, 0);
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

/* Records the flusher's listing batches (its debug messages). */
static GLogWriterOutput
count_batches_writer (GLogLevelFlags   level,
                      const GLogField *fields,
                      gsize            n_fields,
                      gpointer         data)
{
  GArray *batches = data;

  for (gsize i = 0; i < n_fields; i++)
    {
      const char *text = fields[i].value;
      guint       n;

      if (g_str_equal (fields[i].key, "MESSAGE") && g_str_has_prefix (text, "Flush listing: ") &&
          sscanf (text, "Flush listing: %u", &n) == 1)
        g_array_append_val (batches, n);
    }
  if (level & G_LOG_LEVEL_DEBUG)
    return G_LOG_WRITER_HANDLED;
  return g_log_writer_default (level, fields, n_fields, NULL);
}

/* In a subprocess, for the log writer. */
static void
test_batches (void)
{
  enum
  {
    N = 400
  };

  if (g_test_subprocess ())
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *dir = msg_test_make_temp_dir ();
      g_autoptr (MsgTestSink) sink = msg_test_sink_new ();
      g_autoptr (MsgConfiguration) configuration = sink_configuration (sink);
      g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (dir);
      g_autoptr (MsgFlusher) flusher = msg_flusher_new (configuration, directory);
      g_autoptr (GArray) batches = g_array_new (FALSE, FALSE, sizeof (guint));
      guint    progress[2] = { 0, 0 };
      guint    listed = 0;
      gboolean ok;

      g_log_set_writer_func (count_batches_writer, batches, NULL);
      write_messages (dir, "m", N);
      msg_flusher_set_connections (flusher, 2);
      g_signal_connect (flusher, "progress", G_CALLBACK (progress_cb), progress);
      ok = msg_flusher_run (flusher, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (ok);

      g_assert_cmpuint (msg_flusher_get_n_sent (flusher), ==, N);
      g_assert_cmpuint (progress[0], ==, N);
      g_assert_cmpuint (progress[1], ==, N);
      g_assert_cmpuint (msg_test_sink_get_n_accepted (sink), ==, N);
      for (guint i = 0; i < N; i++)
        {
          g_autofree char *subject = g_strdup_printf ("m%04u", i);

          g_assert_cmpuint (msg_test_sink_count (sink, subject), ==, 1);
        }
      g_assert_cmpuint (count_names (dir, ""), ==, 0);
      /* Read in parts (a run that lists it all at once holds every
       * item): none larger than a quarter of the directory, together all
       * of it. */
      g_assert_cmpuint (batches->len, >=, 4);
      for (guint i = 0; i < batches->len; i++)
        {
          g_assert_cmpuint (g_array_index (batches, guint, i), <=, N / 4);
          listed += g_array_index (batches, guint, i);
        }
      g_assert_cmpuint (listed, ==, N);
      msg_test_remove_tree (dir);
      return;
    }
  g_test_summary ("A run reads a large directory in batches, never all of it at once, and "
                  "sends every message once.");
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

static void
write_late_cb (MsgFlusher *flusher,
               guint       done,
               guint       total,
               guint64     bytes,
               gpointer    user_data)
{
  if (done == 1)
    write_message_full (user_data, "zz-late", "");
}

static void
test_written_during_run (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgTestSink) sink = msg_test_sink_new ();
  g_autoptr (MsgConfiguration) configuration = sink_configuration (sink);
  g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (dir);
  g_autoptr (MsgFlusher) flusher = msg_flusher_new (configuration, directory);
  gulong   handler;
  gboolean ok;

  g_test_summary ("A message written during a run with a later name (as the pickup transport "
                  "names them) waits for the next run: a run ends even while files keep coming.");

  /* More than the first batch: the later ones are listed after the late
   * file is written. */
  write_messages (dir, "m", 100);
  msg_flusher_set_connections (flusher, 1);
  handler = g_signal_connect (flusher, "progress", G_CALLBACK (write_late_cb), dir);
  ok = msg_flusher_run (flusher, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_signal_handler_disconnect (flusher, handler);
  g_assert_cmpuint (msg_flusher_get_n_sent (flusher), ==, 100);
  g_assert_cmpuint (msg_flusher_get_n_skipped (flusher), ==, 0);
  g_assert_true (exists (dir, "zz-late.eml"));
  g_assert_cmpuint (msg_test_sink_count (sink, "zz-late"), ==, 0);

  g_assert_true (msg_flusher_run (flusher, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg_flusher_get_n_sent (flusher), ==, 1);
  g_assert_cmpuint (msg_test_sink_count (sink, "zz-late"), ==, 1);
  g_assert_cmpuint (count_names (dir, ""), ==, 0);
  msg_test_remove_tree (dir);
}

typedef struct
{
  guint         calls;
  GThread      *thread;
  gboolean      in_context; /* in the context below, when set */
  GMainContext *context;
} TokenAsked;

static char *
need_token_cb (MsgFlusher *flusher,
               const char *mechanism,
               const char *user,
               const char *server_error,
               gpointer    user_data)
{
  TokenAsked *asked = user_data;

  asked->calls++;
  asked->thread = g_thread_self ();
  asked->in_context = asked->context != NULL && g_main_context_is_owner (asked->context);
  g_assert_cmpstr (mechanism, ==, "OAUTHBEARER");
  g_assert_cmpstr (user, ==, "alice@example.test");
  g_assert_cmpstr (server_error, ==, "{\"status\":\"invalid_token\"}");
  return g_strdup ("fresh-token");
}

/* The bearer tokens of the AUTH OAUTHBEARER lines the server got, in
 * order, joined by spaces. */
static char *
bearer_tokens (MsgTestServer *server)
{
  g_autofree char *wire = msg_test_server_get_received_text (server, 0);
  g_auto (GStrv) lines = g_strsplit (wire, "\r\n", -1);
  GString *tokens = g_string_new (NULL);

  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "AUTH OAUTHBEARER "))
      {
        gsize            length;
        g_autofree char *decoded = (char *) g_base64_decode (lines[i] + 17, &length);
        const char      *bearer = strstr (decoded, "auth=Bearer ");

        g_assert_nonnull (bearer);
        g_string_append_printf (tokens, "%s%.*s", tokens->len > 0 ? " " : "", (int) strcspn (bearer + 12, "\001"),
                                bearer + 12);
      }
  return g_string_free (tokens, FALSE);
}

static void
run_need_token (gboolean async)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *json = g_base64_encode ((const guchar *) "{\"status\":\"invalid_token\"}", 26);
  g_autofree char *script = g_strdup_printf (
      "line 220 mx.example.test ESMTP\nexpect EHLO\nline 250-mx.example.test\nline 250 AUTH OAUTHBEARER\n"
      "expect AUTH OAUTHBEARER \nline 334 %s\nexpect AQ==\nline 535 5.7.8 refused\n"
      "expect AUTH OAUTHBEARER \nline 235 2.7.0 ok\n"
      "expect MAIL\nline 250 ok\nexpect RCPT\nline 250 ok\nexpect DATA\nline 354 go\ndata\nline 250 ok\n"
      "expect QUIT\nline 221 bye\n",
      json);
  MsgTestServer   *server = msg_test_server_new (script);
  g_autofree char *port = g_strdup_printf ("%u", msg_test_server_get_port (server));
  g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();
  g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (dir);
  g_autoptr (MsgFlusher) flusher = NULL;
  g_autofree char         *tokens = NULL;
  g_autofree char         *server_error = NULL;
  TokenAsked               asked = { 0 };
  static const char *const fields[][2] = {
    { "sendusing", "smtp" },
    { "smtpserver", "127.0.0.1" },
    { "smtpauthenticate", "basic" },
    { "sendusername", "alice@example.test" },
    { "sendpassword", "stale-token" },
    { "smtpallowplaintextauth", "true" },
    { "smtpauthmechanisms", "OAUTHBEARER" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      msg_configuration_set_field (configuration, fields[i][0], fields[i][1], &error);
      g_assert_no_error (error);
    }
  msg_configuration_set_field (configuration, "smtpserverport", port, &error);
  g_assert_no_error (error);
  write_messages (dir, "m", 1);
  flusher = msg_flusher_new (configuration, directory);
  msg_flusher_set_connections (flusher, 1);
  g_signal_connect (flusher, "need-token", G_CALLBACK (need_token_cb), &asked);
  if (async)
    {
      AsyncResult result = { NULL, FALSE, FALSE };

      asked.context = g_main_context_new ();
      g_main_context_push_thread_default (asked.context);
      msg_flusher_run_async (flusher, NULL, run_done_cb, &result);
      while (!result.done)
        g_main_context_iteration (asked.context, TRUE);
      g_main_context_pop_thread_default (asked.context);
      g_main_context_unref (asked.context);
      g_assert_no_error (result.error);
      g_assert_true (result.ok);
      g_assert_true (asked.in_context);
    }
  else
    g_assert_true (msg_flusher_run (flusher, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg_flusher_get_n_sent (flusher), ==, 1);
  g_assert_cmpuint (asked.calls, ==, 1);
  g_assert_true (asked.thread == g_thread_self ());
  g_assert_true (msg_test_server_wait_closed (server, 5000));
  tokens = bearer_tokens (server);
  g_assert_cmpstr (tokens, ==, "stale-token fresh-token");
  server_error = msg_test_server_get_error (server);
  g_assert_null (server_error);
  msg_test_server_free (server);
  msg_test_remove_tree (dir);
}

static void
test_need_token (void)
{
  g_test_summary ("A connection's refused OAuth token emits the flusher's need-token in the caller's thread "
                  "(run) or main context (run_async), and the fresh token is used.");
  run_need_token (FALSE);
  run_need_token (TRUE);
}

static GSubprocess *
spawn_flush_over (MsgTestSink *sink,
                  const char  *dir,
                  const char  *connections,
                  GError     **error)
{
  g_autofree char *port = g_strdup_printf ("smtpserverport=%u", msg_test_sink_get_port (sink));

  return g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, error,
                           g_getenv ("MSGOBJ_TEST_TOOL"), "flush", "--connections", connections,
                           "--set", "sendusing=smtp", "--set", "smtpserver=127.0.0.1", "--set", port,
                           dir, NULL);
}

static GSubprocess *
spawn_flush (MsgTestSink *sink,
             const char  *dir,
             GError     **error)
{
  return spawn_flush_over (sink, dir, "4", error);
}

/* @data: the number of connections, as a string. */
static void
test_sigkill (gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgTestSink) sink = msg_test_sink_new ();
  g_autoptr (GSubprocess) first = NULL;
  g_autoptr (GSubprocess) second = NULL;
  int status;

  g_test_summary ("msgobj flush killed (SIGKILL) mid-run, then run again: every message "
                  "delivered exactly once, except those set aside in unknown/ (with sends "
                  "queued on each connection, those claimed and queued too).");

  write_messages (dir, "m", 300);
  first = spawn_flush_over (sink, dir, data, &error);
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

  g_autoptr (GSubprocess) down = NULL;
  guint16 dead_port;
  g_autoptr (GSocket) dead = msg_test_dead_port_new (&dead_port);
  g_autofree char *dead_field = g_strdup_printf ("smtpserverport=%u", dead_port);
  g_autofree char *said = NULL;

  g_test_summary ("msgobj flush exits as send: 4 when a message was refused, or left for later "
                  "with the reason on stderr, 2 on bad usage (connections out of range, a rate "
                  "limit that is no positive number).");

  write_message_full (dir, "reject-1", "");
  write_messages (dir, "m", 3);
  process = spawn_flush (sink, dir, &error);
  g_assert_no_error (error);
  g_subprocess_wait (process, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 4);
  g_assert_cmpuint (msg_test_sink_get_n_accepted (sink), ==, 3);

  /* Its relay refuses the connection: the message stays, and the tool
   * says why. */
  write_messages (dir, "d", 1);
  down = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE, &error,
                           g_getenv ("MSGOBJ_TEST_TOOL"), "flush", "--set", "sendusing=smtp", "--set",
                           "smtpserver=127.0.0.1", "--set", dead_field, dir, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (down, NULL, NULL, NULL, &said, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (down), ==, 4);
  g_assert_nonnull (strstr (said, "messages left for a later run"));
  g_assert_nonnull (strstr (said, "Connection refused"));
  g_assert_true (exists (dir, "d0000.eml"));

  usage = g_subprocess_new (G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error, g_getenv ("MSGOBJ_TEST_TOOL"),
                            "flush", "--connections", "65", dir, NULL);
  g_assert_no_error (error);
  g_subprocess_wait (usage, NULL, &error);
  g_assert_cmpint (g_subprocess_get_exit_status (usage), ==, 2);
  for (guint i = 0; i < 3; i++)
    {
      const char *const bad[] = { "0", "fast", "nan" };
      g_autoptr (GSubprocess) limit = g_subprocess_new (G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                                                        g_getenv ("MSGOBJ_TEST_TOOL"), "flush", "--limit",
                                                        bad[i], dir, NULL);

      g_assert_no_error (error);
      g_subprocess_wait (limit, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (g_subprocess_get_exit_status (limit), ==, 2);
    }
  msg_test_remove_tree (dir);
}

/* Post mode: news articles to the scripted NNTP server. */

#define NNTP_GREETING "line 200 news.example.test InterNetNews NNRP server ready (posting ok)\n"
#define NNTP_CAPS         \
  "expect CAPABILITIES\n" \
  "send 101 Capability list:\\r\\nVERSION 2\\r\\nREADER\\r\\nPOST\\r\\n.\\r\\n\n"
#define NNTP_POST_OK "expect POST\nline 340 send it\ndata\nline 240 Article received OK\n"
#define NNTP_QUIT "expect QUIT\nline 205 bye\n"
#define NNTP_POST_REFUSED "expect POST\nline 340 send it\ndata\nline 441 437 Unwanted newsgroup\n"

/* An article NAME.eml (Subject NAME), in @groups (NULL: no Newsgroups). */
static void
write_article (const char *dir,
               const char *name,
               const char *groups)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *file = g_strdup_printf ("%s.eml", name);
  g_autofree char *path = g_build_filename (dir, file, NULL);
  g_autofree char *newsgroups = groups != NULL ? g_strdup_printf ("Newsgroups: %s\r\n", groups) : g_strdup ("");
  g_autofree char *contents = g_strdup_printf ("From: alice@example.test\r\n%s"
                                               "Subject: %s\r\n"
                                               "Message-ID: <%s@example.test>\r\n\r\nbody of %s\r\n",
                                               newsgroups, name, name, name);

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

static MsgConfiguration *
news_configuration (MsgTestServer *server)
{
  g_autofree char  *port = g_strdup_printf ("%u", msg_test_server_get_port (server));
  MsgConfiguration *configuration = msg_configuration_new ();

  /* sendusing and smtpserver point nowhere: post mode must not read them. */
  msg_test_config_set (configuration, "sendusing", "smtp");
  msg_test_config_set (configuration, "smtpserver", "127.0.0.1:1,127.0.0.1:2");
  msg_test_config_set (configuration, "postusing", "nntp");
  msg_test_config_set (configuration, "nntpserver", "127.0.0.1");
  msg_test_config_set (configuration, "nntpserverport", port);
  msg_test_config_set (configuration, "nntpconnectiontimeout", "10");
  return configuration;
}

/* A flusher in post mode over one connection to @server. */
static MsgFlusher *
news_flusher (MsgTestServer *server,
              const char    *dir)
{
  g_autoptr (MsgConfiguration) configuration = news_configuration (server);
  g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (dir);
  MsgFlusher *flusher = msg_flusher_new (configuration, directory);

  g_assert_false (msg_flusher_get_post (flusher));
  msg_flusher_set_post (flusher, TRUE);
  g_assert_true (msg_flusher_get_post (flusher));
  msg_flusher_set_connections (flusher, 1);
  return flusher;
}

/* How many times the server received the article with Subject @name. */
static guint
count_received (MsgTestServer *server,
                const char    *name)
{
  g_autofree char *needle = g_strdup_printf ("\r\nSubject: %s\r\n", name);
  guint            n = 0;

  for (unsigned i = 0; i < msg_test_server_get_n_connections (server); i++)
    {
      g_autofree char *text = msg_test_server_get_received_text (server, i);

      for (const char *at = strstr (text, needle); at != NULL; at = strstr (at + 1, needle))
        n++;
    }
  return n;
}

static void
test_post_all (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgTestServer) server =
      msg_test_server_new (NNTP_GREETING NNTP_CAPS NNTP_POST_OK NNTP_POST_OK NNTP_POST_OK NNTP_QUIT);
  g_autoptr (MsgFlusher) flusher = news_flusher (server, dir);

  g_test_summary ("Post mode: every article is posted once (POST, 340, the article, 240) "
                  "through postusing's transport, then deleted; smtpserver is not used.");

  write_article (dir, "a1", "local.test");
  write_article (dir, "a2", "local.test");
  write_article (dir, "a3", "local.test");
  g_assert_true (msg_flusher_run (flusher, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg_flusher_get_n_sent (flusher), ==, 3);
  g_assert_cmpuint (msg_flusher_get_n_failed (flusher) + msg_flusher_get_n_deferred (flusher) +
                        msg_flusher_get_n_unknown (flusher) + msg_flusher_get_n_skipped (flusher),
                    ==, 0);
  g_assert_true (msg_test_server_wait_closed (server, 5000));
  g_assert_cmpstr (msg_test_server_get_error (server), ==, NULL);
  g_assert_cmpuint (msg_test_server_get_n_connections (server), ==, 1);
  g_assert_cmpuint (count_received (server, "a1"), ==, 1);
  g_assert_cmpuint (count_received (server, "a2"), ==, 1);
  g_assert_cmpuint (count_received (server, "a3"), ==, 1);
  g_assert_cmpuint (count_names (dir, ""), ==, 0);
  msg_test_remove_tree (dir);
}

static void
test_post_rejected (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *failed = g_build_filename (dir, "failed", NULL);
  /* After a 441 the server waits for the next command (RFC 3977 6.3.1):
   * the third article goes on the same connection. */
  g_autoptr (MsgTestServer) server =
      msg_test_server_new (NNTP_GREETING NNTP_CAPS NNTP_POST_OK NNTP_POST_REFUSED NNTP_POST_OK NNTP_QUIT);
  g_autoptr (MsgFlusher) flusher = news_flusher (server, dir);
  g_autoptr (GDir) handle = NULL;
  g_autofree char *report = NULL;
  g_autofree char *message = NULL;
  g_autofree char *code = NULL;
  g_autofree char *expected_code = g_strdup_printf ("%d", MSG_TRANSPORT_ERROR_MESSAGE_REJECTED);
  const char      *name;

  g_test_summary ("Post mode: an article answered 441 goes to failed/ with its report; "
                  "the others are posted and deleted.");

  write_article (dir, "a1", "local.test");
  write_article (dir, "a2", "local.test");
  write_article (dir, "a3", "local.test");
  g_assert_true (msg_flusher_run (flusher, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg_flusher_get_n_sent (flusher), ==, 2);
  g_assert_cmpuint (msg_flusher_get_n_failed (flusher), ==, 1);
  g_assert_cmpuint (msg_flusher_get_n_deferred (flusher) + msg_flusher_get_n_unknown (flusher), ==, 0);
  g_assert_true (msg_test_server_wait_closed (server, 5000));
  g_assert_cmpstr (msg_test_server_get_error (server), ==, NULL);
  g_assert_cmpuint (msg_test_server_get_n_connections (server), ==, 1);
  g_assert_cmpuint (count_names (dir, ".eml"), ==, 0);
  g_assert_cmpuint (count_names (failed, ".eml"), ==, 1);

  /* Whichever it was (the script refuses the second article posted). */
  handle = g_dir_open (failed, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (handle)) != NULL && !g_str_has_suffix (name, ".eml"))
    ;
  g_assert_nonnull (name);
  report = g_strconcat (failed, G_DIR_SEPARATOR_S, name, ".report", NULL);
  message = read_key (report, "report", "error");
  g_assert_nonnull (strstr (message, "441"));
  code = read_key (report, "report", "error-code");
  g_assert_cmpstr (code, ==, expected_code);
  msg_test_remove_tree (dir);
}

static void
test_post_no_newsgroups (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *failed = g_build_filename (dir, "failed", NULL);
  g_autofree char *report = g_build_filename (failed, "nogroups.eml.report", NULL);
  g_autoptr (MsgTestServer) server = msg_test_server_new (NNTP_GREETING NNTP_CAPS NNTP_POST_OK NNTP_QUIT);
  g_autoptr (MsgFlusher) flusher = news_flusher (server, dir);
  g_autofree char *domain = NULL;

  g_test_summary ("Post mode: an article without Newsgroups goes to failed/ with a report "
                  "(a MSG_MESSAGE_ERROR at the call) and never reaches the server.");

  write_article (dir, "good", "local.test");
  write_article (dir, "nogroups", NULL);
  g_assert_true (msg_flusher_run (flusher, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg_flusher_get_n_sent (flusher), ==, 1);
  g_assert_cmpuint (msg_flusher_get_n_failed (flusher), ==, 1);
  g_assert_true (msg_test_server_wait_closed (server, 5000));
  g_assert_cmpstr (msg_test_server_get_error (server), ==, NULL);
  g_assert_cmpuint (count_received (server, "good"), ==, 1);
  g_assert_cmpuint (count_received (server, "nogroups"), ==, 0);
  g_assert_true (exists (failed, "nogroups.eml"));
  domain = read_key (report, "report", "error-domain");
  g_assert_cmpstr (domain, ==, g_quark_to_string (MSG_MESSAGE_ERROR));
  g_assert_cmpuint (count_names (dir, ".eml"), ==, 0);
  msg_test_remove_tree (dir);
}

static void
test_post_not_allowed (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *failed = g_build_filename (dir, "failed", NULL);
  /* The transport drops its connection after the 440; a send queued
   * behind may start a second one before the flusher cancels it: that one
   * waits at the greeting until it is. */
  const char *const scripts[] = {
    NNTP_GREETING NNTP_CAPS "expect POST\nline 440 Posting not permitted\n",
    "stall\n",
    NULL,
  };
  g_autoptr (MsgTestServer) server = msg_test_server_new_multi (scripts);
  g_autoptr (MsgFlusher) flusher = news_flusher (server, dir);

  g_test_summary ("Post mode: 440 to POST is about the server, not the article: every "
                  "article stays where it is, none in failed/, no back-off.");

  write_article (dir, "a1", "local.test");
  write_article (dir, "a2", "local.test");
  write_article (dir, "a3", "local.test");
  g_assert_true (msg_flusher_run (flusher, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg_flusher_get_n_sent (flusher), ==, 0);
  g_assert_cmpuint (msg_flusher_get_n_failed (flusher), ==, 0);
  g_assert_cmpuint (msg_flusher_get_n_unknown (flusher), ==, 0);
  g_assert_cmpuint (msg_flusher_get_n_deferred (flusher), ==, 3);
  g_assert_true (msg_test_server_wait_closed (server, 5000));
  g_assert_cmpstr (msg_test_server_get_error (server), ==, NULL);
  g_assert_true (exists (dir, "a1.eml"));
  g_assert_true (exists (dir, "a2.eml"));
  g_assert_true (exists (dir, "a3.eml"));
  g_assert_false (exists (dir, "failed"));
  g_assert_false (exists (dir, "unknown"));
  /* Neither claims nor retry sidecars. */
  g_assert_cmpuint (count_names (dir, "."), ==, 0);
  g_assert_cmpuint (count_names (failed, ""), ==, 0);
  msg_test_remove_tree (dir);
}

static gint
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* The sorted names in @dir, hidden ones and subdirectories included. */
static char *
list_names (const char *dir)
{
  g_autoptr (GDir) handle = g_dir_open (dir, 0, NULL);
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (handle != NULL && (name = g_dir_read_name (handle)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);
  g_ptr_array_add (names, NULL);
  return g_strjoinv (" ", (char **) names->pdata);
}

/* Asserts that a run of @flusher fails at its start with NOT_SUPPORTED
 * naming @what, touching none of the files @names of @dir and no server. */
static void
assert_run_not_supported (MsgFlusher    *flusher,
                          MsgTestServer *server,
                          const char    *dir,
                          const char    *names,
                          const char    *what)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *before = list_names (dir);
  g_autofree char *after = NULL;

  g_assert_cmpstr (before, ==, names);
  g_assert_false (msg_flusher_run (flusher, NULL, &error));
  g_assert_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_NOT_SUPPORTED);
  g_assert_nonnull (strstr (error->message, what));
  after = list_names (dir);
  g_assert_cmpstr (after, ==, names);
  g_assert_cmpuint (msg_test_server_get_n_connections (server), ==, 0);
  g_assert_cmpuint (msg_flusher_get_n_sent (flusher) + msg_flusher_get_n_deferred (flusher) +
                        msg_flusher_get_n_skipped (flusher),
                    ==, 0);
}

static void
test_post_cannot_post (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgTestServer) server = msg_test_server_new (NNTP_GREETING NNTP_CAPS NNTP_POST_OK NNTP_QUIT);
  g_autoptr (MsgFlusher) flusher = news_flusher (server, dir);

  g_test_summary ("Post mode with postusing naming a transport that cannot post (smtp) "
                  "fails the run at its start with NOT_SUPPORTED, and touches no file.");

  write_article (dir, "a1", "local.test");
  write_article (dir, "a2", "local.test");
  msg_configuration_set_field (msg_flusher_get_configuration (flusher), "postusing", "smtp", &error);
  g_assert_no_error (error);
  assert_run_not_supported (flusher, server, dir, "a1.eml a2.eml", "“smtp” cannot post");
  msg_test_remove_tree (dir);
}

static void
test_send_cannot_send (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgTestServer) server = msg_test_server_new (NNTP_GREETING NNTP_CAPS NNTP_QUIT);
  g_autoptr (MsgConfiguration) configuration = news_configuration (server);
  g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (dir);
  g_autoptr (MsgFlusher) flusher = msg_flusher_new (configuration, directory);
  g_autofree char *stale = NULL;

  g_test_summary ("A mail flush whose sendusing names a transport that cannot send (nntp) fails "
                  "the run at its start with NOT_SUPPORTED, and touches no file, not even "
                  "a dead flusher's claim.");

  write_message_full (dir, "m1", "");
  write_message_full (dir, "m2", "");
  /* Started by a flusher that died (no lock held): a run that can send
   * sets it aside in unknown/. */
  stale = g_build_filename (dir, ".m3.eml.started-1-0000abcd", NULL);
  g_assert_true (g_file_set_contents (stale, "Subject: m3\r\n\r\nm3\r\n", -1, &error));
  g_assert_no_error (error);
  msg_configuration_set_field (configuration, "sendusing", "nntp", &error);
  g_assert_no_error (error);
  assert_run_not_supported (flusher, server, dir, ".m3.eml.started-1-0000abcd m1.eml m2.eml",
                            "“nntp” cannot send");
  msg_test_remove_tree (dir);
}

static void
test_post_tool (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgTestServer) server =
      msg_test_server_new (NNTP_GREETING NNTP_CAPS NNTP_POST_OK NNTP_POST_OK NNTP_QUIT);
  g_autofree char *port = g_strdup_printf ("nntpserverport=%u", msg_test_server_get_port (server));
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GSubprocess) help = NULL;
  g_autofree char *out = NULL;
  g_autofree char *help_out = NULL;

  g_test_summary ("msgobj flush --post drains a directory of articles to the news server "
                  "that postusing and nntpserver name, and exits 0; --help mentions --post.");

  write_article (dir, "a1", "local.test");
  write_article (dir, "a2", "local.test");
  process = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                              g_getenv ("MSGOBJ_TEST_TOOL"), "flush", "--post", "--connections", "1", "--set",
                              "postusing=nntp", "--set", "nntpserver=127.0.0.1", "--set", port, dir, NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
  g_assert_cmpstr (out, ==, "sent 2, failed 0, deferred 0, unknown 0, skipped 0\n");
  g_assert_true (msg_test_server_wait_closed (server, 5000));
  g_assert_cmpstr (msg_test_server_get_error (server), ==, NULL);
  g_assert_cmpuint (count_received (server, "a1"), ==, 1);
  g_assert_cmpuint (count_received (server, "a2"), ==, 1);
  g_assert_cmpuint (count_names (dir, ""), ==, 0);

  help = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error,
                           g_getenv ("MSGOBJ_TEST_TOOL"), "--help", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (help, NULL, NULL, &help_out, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (help_out, "--post"));
  msg_test_remove_tree (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/flusher/all-sent", test_all_sent);
  g_test_add_func ("/flusher/emfile", test_emfile);
  g_test_add_func ("/flusher/refusals", test_refusals);
  g_test_add_func ("/flusher/failed-unwritable", test_failed_unwritable);
  g_test_add_data_func ("/flusher/failed-disk-full/no-failed-dir", GINT_TO_POINTER (FALSE), test_failed_disk_full);
  g_test_add_data_func ("/flusher/failed-disk-full/failed-dir", GINT_TO_POINTER (TRUE), test_failed_disk_full);
  g_test_add_func ("/flusher/blackhole", test_blackhole);
  g_test_add_func ("/flusher/server-dies", test_server_dies);
  g_test_add_func ("/flusher/pipelined/refused-envelope", test_pipelined_refused_envelope);
  g_test_add_func ("/flusher/pipelined/dropped", test_pipelined_dropped);
  g_test_add_func ("/flusher/two-flushers", test_two_flushers);
  g_test_add_func ("/flusher/async", test_async);
  g_test_add_func ("/flusher/batches", test_batches);
  g_test_add_func ("/flusher/written-during-run", test_written_during_run);
  g_test_add_data_func ("/flusher/sigkill", "4", test_sigkill);
  g_test_add_data_func ("/flusher/sigkill-one-connection", "1", test_sigkill);
  g_test_add_func ("/flusher/tool-exit-codes", test_tool_exit_codes);
  g_test_add_func ("/flusher/relays/spread", test_relays_spread);
  g_test_add_func ("/flusher/relays/failover", test_relays_failover);
  for (gsize i = 0; i < G_N_ELEMENTS (dead_relay_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/flusher/relays/dead/%s", dead_relay_cases[i].name);

      g_test_add_data_func (path, &dead_relay_cases[i], test_relays_dead);
    }
  g_test_add_func ("/flusher/relays/all-down", test_relays_all_down);
  g_test_add_func ("/flusher/rate-limit", test_rate_limit);
  g_test_add_func ("/flusher/rate-limit-cancel", test_rate_limit_cancel);
  g_test_add_func ("/flusher/need-token", test_need_token);
  g_test_add_func ("/flusher/post/all", test_post_all);
  g_test_add_func ("/flusher/post/rejected", test_post_rejected);
  g_test_add_func ("/flusher/post/no-newsgroups", test_post_no_newsgroups);
  g_test_add_func ("/flusher/post/not-allowed", test_post_not_allowed);
  g_test_add_func ("/flusher/post/cannot-post", test_post_cannot_post);
  g_test_add_func ("/flusher/send/cannot-send", test_send_cannot_send);
  g_test_add_func ("/flusher/post/tool", test_post_tool);

  return g_test_run ();
}
