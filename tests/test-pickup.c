/* test-pickup.c: the built-in pickup-directory transport
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-utils.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static MsgMessage *
make_message (MsgConfiguration *configuration)
{
  MsgMessage *message = msg_message_new_with_configuration (configuration);

  g_assert_true (msg_message_set_from (message, "Alice <alice@example.test>", NULL));
  g_assert_true (msg_message_set_to (message, "bob@example.test", NULL));
  g_assert_true (msg_message_set_bcc (message, "hidden@example.test", NULL));
  g_assert_true (msg_message_set_subject (message, "Pickup", NULL));
  msg_message_set_text_body (message, "line one\nline two\r\n.leading dot\n");
  return message;
}

static MsgConfiguration *
configuration_for_dir (const char *dir)
{
  g_autoptr (GError) error = NULL;
  MsgConfiguration *configuration = msg_configuration_new ();

  msg_configuration_set_field (configuration, "smtpserverpickupdirectory", dir, &error);
  g_assert_no_error (error);
  msg_configuration_set_field (configuration, "nntpserverpickupdirectory", dir, &error);
  g_assert_no_error (error);
  return configuration;
}

/* Names in @dir, sorted; the test asserts on leftovers with it. */
static GPtrArray *
list_dir (const char *dir)
{
  g_autoptr (GDir) handle = g_dir_open (dir, 0, NULL);
  GPtrArray  *names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (handle == NULL)
    return names;
  while ((name = g_dir_read_name (handle)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  return names;
}

static void
assert_crlf_only (const char *data,
                  gsize       length)
{
  for (gsize i = 0; i < length; i++)
    {
      if (data[i] == '\n')
        g_assert_true (i > 0 && data[i - 1] == '\r');
      if (data[i] == '\r')
        g_assert_true (i + 1 < length && data[i + 1] == '\n');
    }
}

static void
test_default_directory (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgMessage) message = make_message (NULL);
  g_autoptr (MsgSendReport) report = NULL;
  g_autofree char *dir = g_build_filename (g_get_user_data_dir (), "msgobj", "pickup", NULL);
  g_autofree char *contents = NULL;
  g_autoptr (GPtrArray) names = NULL;
  g_autofree char *message_id = NULL;
  gsize            length;
  GStatBuf         st;

  g_test_summary ("With no configuration, send writes a 0600 .eml into a 0700 per-user directory.");
  report = msg_message_send (message, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (msg_send_report_get_transport_name (report), ==, "pickup");
  g_assert_true (g_str_has_prefix (msg_send_report_get_pickup_file (report), dir));
  g_assert_true (g_str_has_suffix (msg_send_report_get_pickup_file (report), ".eml"));

  g_assert_cmpint (g_stat (dir, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0700);
  g_assert_cmpint (g_stat (msg_send_report_get_pickup_file (report), &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  names = list_dir (dir);
  g_assert_cmpuint (names->len, ==, 1);

  g_assert_true (g_file_get_contents (msg_send_report_get_pickup_file (report), &contents, &length, &error));
  assert_crlf_only (contents, length);
  /* Bcc is kept for the consuming MTA; the file is not dot-stuffed. */
  g_assert_nonnull (strstr (contents, "Bcc: hidden@example.test\r\n"));
  g_assert_nonnull (strstr (contents, "\r\n.leading dot\r\n"));
  g_assert_null (strstr (contents, "\r\n..leading dot"));

  message_id = msg_message_get_message_id (message);
  g_assert_nonnull (message_id);
  g_assert_cmpstr (msg_send_report_get_message_id (report), ==, message_id);
  g_assert_nonnull (strstr (contents, message_id));
  g_assert_nonnull (msg_send_report_get_recipient_status (report, "hidden@example.test"));
}

static void
test_post (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgConfiguration) configuration = configuration_for_dir (dir);
  g_autoptr (MsgMessage) message = make_message (configuration);
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (msg_message_set_newsgroups (message, "local.test", NULL));
  report = msg_message_post (message, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (msg_send_report_get_pickup_file (report), dir));
  g_assert_true (g_file_test (msg_send_report_get_pickup_file (report), G_FILE_TEST_IS_REGULAR));
  msg_test_remove_tree (dir);
}

static void
test_missing_directory (void)
{
  g_autofree char *parent = msg_test_make_temp_dir ();
  g_autofree char *dir = g_build_filename (parent, "gone", NULL);
  g_autoptr (MsgConfiguration) configuration = configuration_for_dir (dir);
  g_autoptr (MsgMessage) message = make_message (configuration);
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;

  g_test_summary ("A configured pickup directory that does not exist is an error naming it; nothing is created.");
  report = msg_message_send (message, NULL, &error);
  g_assert_null (report);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, dir));
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  msg_test_remove_tree (parent);
}

static void
test_directory_is_file (void)
{
  g_autofree char *parent = msg_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (parent, "file", NULL);
  g_autoptr (MsgConfiguration) configuration = configuration_for_dir (path);
  g_autoptr (MsgMessage) message = make_message (configuration);
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_true (g_file_set_contents (path, "x", 1, NULL));
  report = msg_message_send (message, NULL, &error);
  g_assert_null (report);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY);
  msg_test_remove_tree (parent);
}

static void
test_cancelled_before (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgConfiguration) configuration = configuration_for_dir (dir);
  g_autoptr (MsgMessage) message = make_message (configuration);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) names = NULL;

  g_cancellable_cancel (cancellable);
  report = msg_message_send (message, cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  names = list_dir (dir);
  g_assert_cmpuint (names->len, ==, 0);
  msg_test_remove_tree (dir);
}

typedef struct
{
  const char   *dir;
  GCancellable *cancellable;
  gboolean      done;    /* atomic: the send returned */
  gboolean      started; /* atomic: the temporary file had data when cancelled */
} MidWrite;

/* Cancels once the temporary file has data, so that the cancel comes in
 * the middle of the write however slow the machine (valgrind, load): a
 * fixed delay may come before the write or, with a thread starved, after
 * it. */
static gpointer
cancel_mid_write_thread (gpointer user_data)
{
  MidWrite *mid = user_data;

  while (!g_atomic_int_get (&mid->done))
    {
      g_autoptr (GPtrArray) names = list_dir (mid->dir);

      for (guint i = 0; i < names->len; i++)
        {
          const char      *name = g_ptr_array_index (names, i);
          g_autofree char *path = g_build_filename (mid->dir, name, NULL);
          GStatBuf         st;

          if (g_str_has_suffix (name, ".tmp") && g_stat (path, &st) == 0 && st.st_size > 0)
            {
              g_atomic_int_set (&mid->started, TRUE);
              g_cancellable_cancel (mid->cancellable);
              return NULL;
            }
        }
      g_usleep (1000);
    }
  return NULL;
}

static void
test_cancelled_mid_write (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *big_dir = msg_test_make_temp_dir ();
  g_autofree char *big = g_build_filename (big_dir, "big.bin", NULL);
  g_autoptr (MsgConfiguration) configuration = configuration_for_dir (dir);
  g_autoptr (MsgMessage) message = make_message (configuration);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) names = NULL;
  MidWrite mid = { dir, cancellable, FALSE, FALSE };
  GThread *thread;
  int      fd;

  g_test_summary ("A cancel while a large message is written leaves neither a .eml nor a temporary file.");
  /* 1 GiB of zeros costs no disk (sparse), and its 1.4 GB of base64 take
   * far longer to write than the thread takes to see the file begin. */
  fd = g_open (big, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, (off_t) 1 << 30), ==, 0);
  g_close (fd, NULL);
  g_assert_nonnull (msg_message_add_attachment (message, big, &error));
  g_assert_no_error (error);

  thread = g_thread_new ("cancel", cancel_mid_write_thread, &mid);
  report = msg_message_send (message, cancellable, &error);
  g_atomic_int_set (&mid.done, TRUE);
  g_thread_join (thread);
  g_assert_null (report);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_true (g_atomic_int_get (&mid.started));

  names = list_dir (dir);
  g_assert_cmpuint (names->len, ==, 0);
  msg_test_remove_tree (dir);
  msg_test_remove_tree (big_dir);
}

static void
test_disk_full (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();

  g_test_summary ("A write that fails (file size limit, as on a full disk) leaves no file behind.");
  if (g_test_subprocess ())
    {
      g_autoptr (MsgConfiguration) configuration = configuration_for_dir (g_getenv ("PICKUP_DIR"));
      g_autoptr (MsgMessage) message = make_message (configuration);
      g_autoptr (MsgSendReport) report = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) names = NULL;
      g_autoptr (GString) body = g_string_new (NULL);
      struct rlimit limit = { 4096, 4096 };

      for (guint i = 0; i < 2000; i++)
        g_string_append (body, "a line of text that makes the message big enough\n");
      msg_message_set_text_body (message, body->str);

      signal (SIGXFSZ, SIG_IGN);
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);
      report = msg_message_send (message, NULL, &error);
      g_assert_null (report);
      g_assert_nonnull (error);
      g_assert_true (error->domain == G_IO_ERROR);
      names = list_dir (g_getenv ("PICKUP_DIR"));
      g_assert_cmpuint (names->len, ==, 0);
      return;
    }

  g_setenv ("PICKUP_DIR", dir, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  msg_test_remove_tree (dir);
}

static void
test_read_only_directory (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();

  g_test_summary ("A pickup directory the process may not write to gives a clear error and no file.");
  if (g_test_subprocess ())
    {
      g_autoptr (MsgConfiguration) configuration = configuration_for_dir (g_getenv ("PICKUP_DIR"));
      g_autoptr (MsgMessage) message = make_message (configuration);
      g_autoptr (MsgSendReport) report = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) names = NULL;

      /* root writes anywhere: run as nobody so that the mode counts. */
      if (geteuid () == 0)
        {
          g_assert_cmpint (setresgid (65534, 65534, 65534), ==, 0);
          g_assert_cmpint (setresuid (65534, 65534, 65534), ==, 0);
        }
      report = msg_message_send (message, NULL, &error);
      g_assert_null (report);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
      g_assert_nonnull (strstr (error->message, g_getenv ("PICKUP_DIR")));
      names = list_dir (g_getenv ("PICKUP_DIR"));
      g_assert_cmpuint (names->len, ==, 0);
      return;
    }

  g_assert_cmpint (g_chmod (dir, 0555), ==, 0);
  g_setenv ("PICKUP_DIR", dir, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  g_assert_cmpint (g_chmod (dir, 0700), ==, 0);
  msg_test_remove_tree (dir);
}

typedef struct
{
  MsgConfiguration *configuration;
  GPtrArray        *paths; /* guarded by lock */
  GMutex            lock;
} ConcurrentData;

static gpointer
send_many_thread (gpointer user_data)
{
  ConcurrentData *data = user_data;

  for (guint i = 0; i < 10; i++)
    {
      g_autoptr (MsgMessage) message = make_message (data->configuration);
      g_autoptr (MsgSendReport) report = NULL;
      g_autoptr (GError) error = NULL;

      report = msg_message_send (message, NULL, &error);
      g_assert_no_error (error);
      g_mutex_lock (&data->lock);
      g_ptr_array_add (data->paths, g_strdup (msg_send_report_get_pickup_file (report)));
      g_mutex_unlock (&data->lock);
    }
  return NULL;
}

static void
test_concurrent_unique (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgConfiguration) configuration = configuration_for_dir (dir);
  g_autoptr (GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GPtrArray) names = NULL;
  ConcurrentData data = { 0 };
  GThread       *threads[8];

  g_test_summary ("Concurrent sends into one directory each get a file of their own.");
  /* fsync of 80 files would only measure the disk. */
  g_assert_true (msg_configuration_set_field (configuration, "flushbuffersonwrite", "false", NULL));
  data.configuration = configuration;
  data.paths = g_ptr_array_new_with_free_func (g_free);
  g_mutex_init (&data.lock);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("send", send_many_thread, &data);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);

  g_assert_cmpuint (data.paths->len, ==, 80);
  for (guint i = 0; i < data.paths->len; i++)
    g_assert_true (g_hash_table_add (seen, g_ptr_array_index (data.paths, i)));
  names = list_dir (dir);
  g_assert_cmpuint (names->len, ==, 80);
  for (guint i = 0; i < names->len; i++)
    g_assert_true (g_str_has_suffix (g_ptr_array_index (names, i), ".eml"));

  g_ptr_array_unref (data.paths);
  g_mutex_clear (&data.lock);
  msg_test_remove_tree (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/pickup/default-directory", test_default_directory);
  g_test_add_func ("/pickup/post", test_post);
  g_test_add_func ("/pickup/missing-directory", test_missing_directory);
  g_test_add_func ("/pickup/directory-is-file", test_directory_is_file);
  g_test_add_func ("/pickup/cancelled-before", test_cancelled_before);
  g_test_add_func ("/pickup/cancelled-mid-write", test_cancelled_mid_write);
  g_test_add_func ("/pickup/disk-full", test_disk_full);
  g_test_add_func ("/pickup/read-only-directory", test_read_only_directory);
  g_test_add_func ("/pickup/concurrent-unique", test_concurrent_unique);

  return g_test_run ();
}
