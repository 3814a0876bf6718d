/* test-drop-directory.c: reading, claiming and watching a drop directory
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-utils.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <malloc.h>
#include <sys/stat.h>
#include <unistd.h>

static void
write_file (const char *dir,
            const char *name,
            const char *contents)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = g_build_filename (dir, name, NULL);

  g_file_set_contents (path, contents, -1, &error);
  g_assert_no_error (error);
}

static void
write_message (const char *dir,
               const char *name)
{
  g_autofree char *contents = g_strdup_printf ("From: alice@example.test\r\n"
                                               "To: bob@example.test\r\n"
                                               "Subject: %s\r\n\r\nbody\r\n",
                                               name);

  write_file (dir, name, contents);
}

static gboolean
exists (const char *dir,
        const char *name)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  return g_file_test (path, G_FILE_TEST_EXISTS | G_FILE_TEST_IS_SYMLINK);
}

/* The listed names, joined with spaces. */
static char *
list_names (MsgDropDirectory *directory)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GListModel) list = msg_drop_directory_get_messages (directory, NULL, &error);
  g_autoptr (GString) names = g_string_new (NULL);

  g_assert_no_error (error);
  for (guint i = 0; i < g_list_model_get_n_items (list); i++)
    {
      g_autoptr (MsgDropMessage) item = g_list_model_get_item (list, i);

      g_string_append_printf (names, "%s%s", i > 0 ? " " : "", msg_drop_message_get_name (item));
    }
  return g_string_free (g_steal_pointer (&names), FALSE);
}

/* The names of the entries of @dir that start with @prefix. */
static guint
count_prefixed (const char *dir,
                const char *prefix)
{
  g_autoptr (GDir) handle = g_dir_open (dir, 0, NULL);
  const char *name;
  guint       n = 0;

  while (handle != NULL && (name = g_dir_read_name (handle)) != NULL)
    n += g_str_has_prefix (name, prefix);
  return n;
}

static void
test_list (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *sub = g_build_filename (dir, "failed", NULL);
  g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (dir);
  g_autofree char *names = NULL;

  g_test_summary ("Only visible regular .eml files are listed, in name order.");

  write_message (dir, "b.eml");
  write_message (dir, "a.eml");
  write_message (dir, "C.EML");
  write_file (dir, ".1234-1-0-deadbeef.tmp", "partial");
  write_file (dir, ".x.eml", "hidden");
  write_file (dir, ".a0.eml.claimed-1-0000abcd", "claimed");
  write_file (dir, "notes.txt", "not a message");
  g_assert_cmpint (g_mkdir (sub, 0700), ==, 0);
  write_message (sub, "d.eml");

  names = list_names (directory);
  g_assert_cmpstr (names, ==, "C.EML a.eml b.eml");
  g_assert_cmpstr (msg_drop_directory_get_path (directory), ==, dir);

  msg_test_remove_tree (dir);
}

static void
test_lazy_parse (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgDropDirectory) directory = NULL;
  g_autoptr (GListModel) list = NULL;
  g_autoptr (MsgDropMessage) item = NULL;
  g_autoptr (MsgMessage) first = NULL;
  g_autoptr (MsgMessage) again = NULL;
  g_autoptr (GFile) file = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *path = NULL;

  g_test_summary ("Listing parses nothing; a message is parsed once, on first request.");

  for (guint i = 0; i < 50; i++)
    {
      g_autofree char *name = g_strdup_printf ("%02u.eml", i);

      write_message (dir, name);
    }
  directory = msg_drop_directory_new (dir);
  list = msg_drop_directory_get_messages (directory, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_model_get_n_items (list), ==, 50);
  g_assert_true (g_list_model_get_item_type (list) == MSG_TYPE_DROP_MESSAGE);
  for (guint i = 0; i < 50; i++)
    {
      g_autoptr (MsgDropMessage) each = g_list_model_get_item (list, i);

      g_assert_false (msg_drop_message_is_parsed (each));
    }

  item = g_list_model_get_item (list, 7);
  g_assert_true (msg_drop_message_get_directory (item) == directory);
  file = msg_drop_message_get_file (item);
  path = g_build_filename (dir, "07.eml", NULL);
  g_assert_cmpstr (g_file_peek_path (file), ==, path);
  first = msg_drop_message_get_message (item, &error);
  g_assert_no_error (error);
  subject = msg_message_get_subject (first);
  g_assert_cmpstr (subject, ==, "07.eml");
  g_assert_true (msg_drop_message_is_parsed (item));

  /* The second request reads nothing: it works with the file gone. */
  g_assert_cmpint (g_unlink (path), ==, 0);
  again = msg_drop_message_get_message (item, &error);
  g_assert_no_error (error);
  g_assert_true (again == first);

  for (guint i = 0; i < 50; i++)
    {
      g_autoptr (MsgDropMessage) each = g_list_model_get_item (list, i);

      g_assert_true (msg_drop_message_is_parsed (each) == (i == 7));
    }
  msg_test_remove_tree (dir);
}

static void
assert_item_error (GListModel *list,
                   guint       position,
                   const char *name,
                   GQuark      domain,
                   int         code)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgDropMessage) item = g_list_model_get_item (list, position);
  g_autoptr (MsgMessage) message = NULL;
  gint64 start = g_get_monotonic_time ();

  g_assert_cmpstr (msg_drop_message_get_name (item), ==, name);
  message = msg_drop_message_get_message (item, &error);
  g_assert_error (error, domain, code);
  g_assert_null (message);
  g_assert_nonnull (strstr (error->message, name));
  /* A FIFO must not block the open: generous for a loaded machine. */
  msg_test_assert_elapsed_below (start, 2000);
  g_clear_error (&error);
  /* A file that cannot be opened cannot be claimed either; one that is not
   * a message can (to be moved aside). */
  if (domain == G_IO_ERROR)
    {
      g_assert_false (msg_drop_message_claim (item, &error));
      g_assert_error (error, G_IO_ERROR, code);
    }
  else
    {
      g_assert_true (msg_drop_message_claim (item, &error));
      g_assert_no_error (error);
      g_assert_true (msg_drop_message_release (item, &error));
      g_assert_no_error (error);
    }
}

static void
test_hostile (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *outside = msg_test_make_temp_dir ();
  g_autofree char *target = g_build_filename (outside, "secret.eml", NULL);
  g_autofree char *link_path = g_build_filename (dir, "link.eml", NULL);
  g_autofree char *fifo_path = g_build_filename (dir, "fifo.eml", NULL);
  g_autofree char *names = NULL;
  g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (dir);
  g_autoptr (GListModel) list = NULL;

  g_test_summary ("Symbolic links and FIFOs are skipped and never followed or opened "
                  "for blocking; a file that is not a message or cannot be read is "
                  "an error of its item only.");

  write_message (outside, "secret.eml");
  g_assert_cmpint (symlink (target, link_path), ==, 0);
  g_assert_cmpint (mkfifo (fifo_path, 0600), ==, 0);
  write_file (dir, "garbage.eml", "");
  write_message (dir, "good.eml");
  write_message (dir, "swapped-fifo.eml");
  write_message (dir, "swapped-link.eml");
  write_message (dir, "unreadable.eml");

  names = list_names (directory);
  g_assert_cmpstr (names, ==, "garbage.eml good.eml swapped-fifo.eml swapped-link.eml unreadable.eml");

  list = msg_drop_directory_get_messages (directory, NULL, &error);
  g_assert_no_error (error);

  /* Swapped for a FIFO and a symbolic link after the listing. */
  g_clear_pointer (&fifo_path, g_free);
  fifo_path = g_build_filename (dir, "swapped-fifo.eml", NULL);
  g_assert_cmpint (g_unlink (fifo_path), ==, 0);
  g_assert_cmpint (mkfifo (fifo_path, 0600), ==, 0);
  g_clear_pointer (&link_path, g_free);
  link_path = g_build_filename (dir, "swapped-link.eml", NULL);
  g_assert_cmpint (g_unlink (link_path), ==, 0);
  g_assert_cmpint (symlink (target, link_path), ==, 0);

  assert_item_error (list, 0, "garbage.eml", MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_PARSE);
  assert_item_error (list, 2, "swapped-fifo.eml", G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE);
  assert_item_error (list, 3, "swapped-link.eml", G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE);

  if (geteuid () != 0)
    {
      g_autofree char *path = g_build_filename (dir, "unreadable.eml", NULL);

      g_assert_cmpint (g_chmod (path, 0), ==, 0);
      assert_item_error (list, 4, "unreadable.eml", G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
    }

  /* The good one is not affected, and the link's target is untouched. */
  {
    g_autoptr (MsgDropMessage) item = g_list_model_get_item (list, 1);
    g_autoptr (MsgMessage) message = msg_drop_message_get_message (item, &error);

    g_assert_no_error (error);
    g_assert_nonnull (message);
    g_assert_true (msg_drop_message_claim (item, &error));
    g_assert_no_error (error);
    g_assert_true (msg_drop_message_delete (item, &error));
    g_assert_no_error (error);
  }
  g_assert_true (exists (outside, "secret.eml"));
  g_assert_true (exists (dir, "swapped-link.eml"));

  msg_test_remove_tree (dir);
  msg_test_remove_tree (outside);
}

static void
test_delete (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (dir);
  g_autoptr (GListModel) list = NULL;
  g_autoptr (MsgDropMessage) item = NULL;
  g_autoptr (MsgMessage) message = NULL;
  g_autofree char *names = NULL;
  guint            n_deleted = 0;

  g_test_summary ("delete removes one file, delete_all every listed file and nothing else.");

  write_message (dir, "a.eml");
  write_message (dir, "b.eml");
  write_message (dir, "c.eml");
  write_file (dir, ".w.tmp", "partial");
  list = msg_drop_directory_get_messages (directory, NULL, &error);
  g_assert_no_error (error);
  item = g_list_model_get_item (list, 1);
  message = msg_drop_message_get_message (item, &error);
  g_assert_no_error (error);
  g_assert_true (msg_drop_message_delete (item, &error));
  g_assert_no_error (error);
  /* A deleted item lets its parsed message go. */
  g_assert_false (msg_drop_message_is_parsed (item));
  g_assert_null (msg_drop_message_get_message (item, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_assert_false (exists (dir, "b.eml"));
  g_assert_false (msg_drop_message_delete (item, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (msg_drop_directory_delete_all (directory, &n_deleted, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_deleted, ==, 2);
  names = list_names (directory);
  g_assert_cmpstr (names, ==, "");
  g_assert_true (exists (dir, ".w.tmp"));
  msg_test_remove_tree (dir);
}

static void
test_claim (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *failed = g_build_filename (dir, "failed", NULL);
  g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (dir);
  g_autoptr (MsgDropDirectory) other = msg_drop_directory_new (dir);
  g_autoptr (GListModel) list = NULL;
  g_autoptr (GListModel) other_list = NULL;
  g_autoptr (MsgDropMessage) item = NULL;
  g_autoptr (MsgDropMessage) rival = NULL;
  g_autoptr (MsgMessage) message = NULL;
  g_autoptr (GFile) moved = NULL;
  g_autoptr (GFile) file = NULL;
  g_autofree char *names = NULL;
  g_autofree char *basename = NULL;

  g_test_summary ("A claim hides the file from every other consumer until it is released, "
                  "deleted or moved.");

  write_message (dir, "a.eml");
  write_message (dir, "b.eml");
  list = msg_drop_directory_get_messages (directory, NULL, &error);
  g_assert_no_error (error);
  other_list = msg_drop_directory_get_messages (other, NULL, &error);
  g_assert_no_error (error);
  item = g_list_model_get_item (list, 0);
  rival = g_list_model_get_item (other_list, 0);

  g_assert_true (msg_drop_message_claim (item, &error));
  g_assert_no_error (error);
  g_assert_true (msg_drop_message_is_claimed (item));
  g_assert_false (exists (dir, "a.eml"));
  g_assert_cmpuint (count_prefixed (dir, ".a.eml.claimed-"), ==, 1);
  file = msg_drop_message_get_file (item);
  basename = g_file_get_basename (file);
  g_assert_true (g_str_has_prefix (basename, ".a.eml.claimed-"));
  names = list_names (other);
  g_assert_cmpstr (names, ==, "b.eml");

  /* The item still reads its (renamed) file. */
  message = msg_drop_message_get_message (item, &error);
  g_assert_no_error (error);

  g_assert_false (msg_drop_message_claim (rival, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (msg_drop_message_release (item, &error));
  g_assert_no_error (error);
  g_assert_false (msg_drop_message_is_claimed (item));
  g_assert_true (exists (dir, "a.eml"));

  /* Now the rival gets it, and moves it aside; a same-named file there
   * is not replaced. */
  g_assert_cmpint (g_mkdir (failed, 0700), ==, 0);
  write_message (failed, "a.eml");
  g_assert_true (msg_drop_message_claim (rival, &error));
  g_assert_no_error (error);
  moved = msg_drop_message_move_to (rival, "failed", &error);
  g_assert_no_error (error);
  g_assert_nonnull (moved);
  g_assert_true (g_file_query_exists (moved, NULL));
  g_assert_cmpuint (count_prefixed (failed, "a"), ==, 2);
  g_assert_false (exists (dir, "a.eml"));
  g_assert_false (msg_drop_message_is_claimed (rival));
  g_assert_null (msg_drop_message_move_to (rival, "failed", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* Bad subdirectory names. */
  {
    g_autoptr (MsgDropMessage) b = g_list_model_get_item (list, 1);

    g_assert_null (msg_drop_message_move_to (b, "../x", &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_null (msg_drop_message_move_to (b, ".hidden", &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_false (msg_drop_message_release (b, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_FAILED);
    g_clear_error (&error);
  }
  msg_test_remove_tree (dir);
}

typedef struct
{
  const char *dir;
  guint       n_files;
  gint       *claims; /* per file: how many claims succeeded */
  gint        total;
} Race;

static gpointer
claimer_thread (gpointer data)
{
  Race *race = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (race->dir);
  g_autoptr (GListModel) list = msg_drop_directory_get_messages (directory, NULL, &error);

  g_assert_no_error (error);
  for (guint i = 0; i < g_list_model_get_n_items (list); i++)
    {
      g_autoptr (MsgDropMessage) item = g_list_model_get_item (list, i);

      if (msg_drop_message_claim (item, &error))
        {
          g_atomic_int_inc (&race->claims[atoi (msg_drop_message_get_name (item))]);
          g_atomic_int_inc (&race->total);
          g_assert_true (msg_drop_message_delete (item, &error));
          g_assert_no_error (error);
        }
      else
        {
          g_assert_true (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BUSY));
          g_clear_error (&error);
        }
    }
  return NULL;
}

static void
test_claim_threads (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();
  GThread         *threads[4];
  Race             race = { dir, 300, NULL, 0 };

  g_test_summary ("Four threads claiming the same 300 files: each file is claimed exactly once.");

  race.claims = g_new0 (gint, race.n_files);
  for (guint i = 0; i < race.n_files; i++)
    {
      g_autofree char *name = g_strdup_printf ("%04u.eml", i);

      write_message (dir, name);
    }
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("claimer", claimer_thread, &race);
  for (guint i = 0; i < G_N_ELEMENTS (threads); i++)
    g_thread_join (threads[i]);

  /* Files the loser saw BUSY were still claimed by the winner. */
  for (guint i = 0; i < race.n_files; i++)
    g_assert_cmpint (race.claims[i], ==, 1);
  g_assert_cmpint (race.total, ==, race.n_files);
  g_assert_cmpuint (count_prefixed (dir, ""), ==, 0);
  g_free (race.claims);
  msg_test_remove_tree (dir);
}

/* Run in a subprocess: claims a.eml and b.eml (b marked started) and
 * dies without giving them up. */
static void
die_with_claims (const char *dir)
{
  g_autoptr (GError) error = NULL;
  MsgDropDirectory *directory = msg_drop_directory_new (dir);
  GListModel       *list = msg_drop_directory_get_messages (directory, NULL, &error);
  MsgDropMessage   *a = g_list_model_get_item (list, 0);
  MsgDropMessage   *b = g_list_model_get_item (list, 1);

  g_assert_no_error (error);
  g_assert_true (msg_drop_message_claim (a, &error));
  g_assert_true (msg_drop_message_claim (b, &error));
  g_assert_true (msg_drop_message_mark_started (b, &error));
  g_assert_no_error (error);
  _exit (0);
}

static void
test_stale_claims (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *unknown = NULL;
  g_autoptr (MsgDropDirectory) directory = NULL;
  g_autoptr (GListModel) list = NULL;
  g_autoptr (MsgDropMessage) live = NULL;
  g_autofree char *names = NULL;
  guint            n = 0, n_aside = 0;

  if (g_test_subprocess ())
    {
      die_with_claims (g_getenv ("DROP_TEST_DIR"));
      return;
    }
  g_test_summary ("The claims of a dead process are put back, or set aside when marked "
                  "started; a live claim is left alone.");

  dir = msg_test_make_temp_dir ();
  unknown = g_build_filename (dir, "unknown", NULL);
  write_message (dir, "a.eml");
  write_message (dir, "b.eml");
  write_message (dir, "c.eml");
  g_setenv ("DROP_TEST_DIR", dir, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_unsetenv ("DROP_TEST_DIR");
  g_assert_cmpuint (count_prefixed (dir, ".a.eml.claimed-"), ==, 1);
  g_assert_cmpuint (count_prefixed (dir, ".b.eml.started-"), ==, 1);

  directory = msg_drop_directory_new (dir);
  list = msg_drop_directory_get_messages (directory, NULL, &error);
  g_assert_no_error (error);
  live = g_list_model_get_item (list, 0);
  g_assert_cmpstr (msg_drop_message_get_name (live), ==, "c.eml");
  g_assert_true (msg_drop_message_claim (live, &error));
  g_assert_no_error (error);

  g_assert_true (msg_drop_directory_recover_claims (directory, "unknown", &n, &n_aside, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n, ==, 1);
  g_assert_cmpuint (n_aside, ==, 1);
  names = list_names (directory);
  g_assert_cmpstr (names, ==, "a.eml");
  g_assert_true (exists (unknown, "b.eml"));
  g_assert_cmpuint (count_prefixed (dir, ".c.eml.claimed-"), ==, 1);

  g_assert_false (msg_drop_directory_recover_claims (directory, "../x", &n, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_true (msg_drop_message_release (live, &error));
  g_assert_no_error (error);
  msg_test_remove_tree (dir);
}

static void
test_many (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (dir);
  g_autoptr (GListModel) list = NULL;
  g_autoptr (MsgDropMessage) last = NULL;
  struct mallinfo2 before, after;
  const guint      n_files = 100000;
  gint64           start;
  int              dir_fd;

  g_test_summary ("100,000 files list in bounded time and memory, nothing opened.");

  dir_fd = open (dir, O_RDONLY | O_DIRECTORY);
  g_assert_cmpint (dir_fd, >=, 0);
  for (guint i = 0; i < n_files; i++)
    {
      char name[32];
      int  fd;

      g_snprintf (name, sizeof name, "%06u-0123456789abcdef.eml", i);
      fd = openat (dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
      g_assert_cmpint (fd, >=, 0);
      close (fd);
    }
  close (dir_fd);

  before = mallinfo2 ();
  start = g_get_monotonic_time ();
  list = msg_drop_directory_get_messages (directory, NULL, &error);
  /* About 0.2 s here; 20 s leaves room for a loaded machine, valgrind
   * (slower by 50x) and a slow file system. */
  msg_test_assert_elapsed_below (start, 20000);
  after = mallinfo2 ();
  g_assert_no_error (error);
  g_test_message ("Listed %u files in %.3f s, %.0f bytes each", n_files,
                  (g_get_monotonic_time () - start) / 1e6,
                  ((double) after.uordblks - (double) before.uordblks) / n_files);
  g_assert_cmpuint (g_list_model_get_n_items (list), ==, n_files);
  /* About 150 bytes per file here (item, name, list node); mallinfo2 reads
   * zero under valgrind and ASan, which then check only the time. */
  g_assert_cmpint ((gint64) after.uordblks - (gint64) before.uordblks, <, (gint64) n_files * 400);
  last = g_list_model_get_item (list, n_files - 1);
  g_assert_cmpstr (msg_drop_message_get_name (last), ==, "099999-0123456789abcdef.eml");
  g_assert_false (msg_drop_message_is_parsed (last));

  g_clear_object (&list);
  g_assert_true (msg_drop_directory_delete_all (directory, NULL, NULL, &error));
  g_assert_no_error (error);
  msg_test_remove_tree (dir);
}

static void
changed_cb (MsgDropDirectory *directory,
            const char       *name,
            gpointer          user_data)
{
  g_ptr_array_add (user_data, g_strdup (name));
}

static gboolean
timeout_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
test_watch (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (dir);
  g_autoptr (GListModel) list = NULL;
  g_autoptr (GPtrArray) seen = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();
  g_autoptr (MsgMessage) message = NULL;
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (MsgDropMessage) added = NULL;
  g_autofree char *written = NULL;
  gboolean         timed_out = FALSE;
  guint            timeout_id;

  g_test_summary ("A file the pickup transport writes is signalled and added to a live list.");

  write_message (dir, "m.eml");
  list = msg_drop_directory_get_messages (directory, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (msg_drop_directory_watch (directory, &error));
  g_assert_no_error (error);
  g_assert_true (msg_drop_directory_watch (directory, &error));
  g_signal_connect (directory, "changed", G_CALLBACK (changed_cb), seen);

  msg_configuration_set_field (configuration, "sendusing", "1", &error);
  g_assert_no_error (error);
  msg_configuration_set_field (configuration, "smtpserverpickupdirectory", dir, &error);
  g_assert_no_error (error);
  message = msg_message_new_with_configuration (configuration);
  g_assert_true (msg_message_set_from (message, "alice@example.test", NULL));
  g_assert_true (msg_message_set_to (message, "bob@example.test", NULL));
  msg_message_set_text_body (message, "watched\n");
  report = msg_message_send (message, NULL, &error);
  g_assert_no_error (error);
  written = g_path_get_basename (msg_send_report_get_pickup_file (report));

  /* Inotify delivers in milliseconds; 10 s for a loaded machine. */
  timeout_id = g_timeout_add ((guint) (10000 * msg_test_time_scale ()), timeout_cb, &timed_out);
  while (seen->len == 0 && !timed_out)
    g_main_context_iteration (NULL, TRUE);
  if (!timed_out)
    g_source_remove (timeout_id);
  g_assert_cmpuint (seen->len, >=, 1);
  g_assert_cmpstr (seen->pdata[0], ==, written);
  g_assert_cmpuint (g_list_model_get_n_items (list), ==, 2);
  added = g_list_model_get_item (list, strcmp (written, "m.eml") < 0 ? 0 : 1);
  g_assert_cmpstr (msg_drop_message_get_name (added), ==, written);

  g_clear_object (&directory);
  msg_test_remove_tree (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/drop-directory/list", test_list);
  g_test_add_func ("/drop-directory/lazy-parse", test_lazy_parse);
  g_test_add_func ("/drop-directory/hostile", test_hostile);
  g_test_add_func ("/drop-directory/delete", test_delete);
  g_test_add_func ("/drop-directory/claim", test_claim);
  g_test_add_func ("/drop-directory/claim/threads", test_claim_threads);
  g_test_add_func ("/drop-directory/claim/stale", test_stale_claims);
  g_test_add_func ("/drop-directory/many", test_many);
  g_test_add_func ("/drop-directory/watch", test_watch);

  return g_test_run ();
}
