/* test-security-config.c: what an attacker controlling a server, a
 * configuration file or a plugin directory can do (docs/security.md)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-test-server.h"
#include "msg-user-dirs-private.h"
#include "test-utils.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

typedef MsgTestFixture Fixture;

/* Memory. */

/* Complements @length bytes of @data in place. */
static void
complement (guint8 *data,
            gsize   length)
{
  for (gsize i = 0; i < length; i++)
    data[i] = (guint8) ~data[i];
}

/* Counts the copies of the bytes whose complement is @inverted in
 * [@start, @end) of the process's memory (@fd is /proc/self/mem), read in
 * pieces through @chunk. */
static guint
count_in_range (int           fd,
                guint8       *chunk,
                gsize         chunk_size,
                guint64       start,
                guint64       end,
                const guint8 *inverted,
                gsize         length)
{
  guint8 first = (guint8) ~inverted[0];
  guint  count = 0;

  for (guint64 at = start; at < end; at += chunk_size)
    {
      gsize  want = (gsize) MIN ((guint64) chunk_size + length - 1, end - at);
      gssize n = pread (fd, chunk, want, (off_t) at);

      if (n < (gssize) length)
        break;
      for (gsize i = 0; i + length <= (gsize) n && i < chunk_size; i++)
        {
          const guint8 *hit = memchr (chunk + i, first, MIN ((gsize) n - length + 1, chunk_size) - i);
          gsize         k;

          if (hit == NULL)
            break;
          i = (gsize) (hit - chunk);
          for (k = 1; k < length; k++)
            {
              guint8 expected = (guint8) (inverted[k] ^ 0xffu);

              if (hit[k] != expected)
                break;
            }
          if (k == length)
            count++;
        }
    }
  return count;
}

/* Counts the places in this process's writable memory that hold the bytes
 * whose complement is @inverted. The needle is kept complemented so that
 * the test's own copy of it is not found. The scan's own buffer is left out
 * of the scan: it still holds what the previous region read into it (a copy
 * found there a moment ago, counted again whenever no later, longer read had
 * overwritten it), and reading it into itself copies it in place. */
static guint
count_in_memory (const guint8 *inverted,
                 gsize         length)
{
  enum
  {
    CHUNK = 1 << 20
  };
  g_autofree char   *maps = NULL;
  g_autofree guint8 *chunk = g_malloc (CHUNK + length);
  g_auto (GStrv) lines = NULL;
  guint64 own_start = (guint64) (guintptr) chunk;
  guint64 own_end = own_start + CHUNK + length;
  guint   count = 0;
  int     fd;

  g_assert_true (g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL));
  fd = open ("/proc/self/mem", O_RDONLY);
  g_assert_cmpint (fd, >=, 0);
  lines = g_strsplit (maps, "\n", -1);
  for (guint l = 0; lines[l] != NULL; l++)
    {
      guint64 start, end;
      char    perms[5] = { 0 };

      if (sscanf (lines[l], "%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x %4s", &start, &end, perms) != 3 ||
          perms[0] != 'r' || perms[1] != 'w' || strstr (lines[l], "[v") != NULL)
        continue;
      /* Terabytes of sanitizer shadow memory, reserved and untouched, hold
       * no copy of anything. */
      if (end - start > G_GUINT64_CONSTANT (4) << 30)
        continue;
      if (own_end <= start || own_start >= end)
        count += count_in_range (fd, chunk, CHUNK, start, end, inverted, length);
      else
        {
          /* A copy straddling the buffer's edge would need the secret to be
           * written right next to a 1 MiB block: left out like the block. */
          if (start < own_start)
            count += count_in_range (fd, chunk, CHUNK, start, own_start, inverted, length);
          if (own_end < end)
            count += count_in_range (fd, chunk, CHUNK, own_end, end, inverted, length);
        }
    }
  close (fd);
  explicit_bzero (chunk, CHUNK + length);
  return count;
}

/* Makes a random text of @length characters, kept complemented. */
static guint8 *
random_inverted_text (const char *prefix,
                      gsize       length)
{
  guint8 *text = g_malloc (length + 1);
  gsize   prefix_length = strlen (prefix);

  memcpy (text, prefix, prefix_length);
  for (gsize i = prefix_length; i < length; i++)
    text[i] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"[g_random_int_range (0, 62)];
  complement (text, length);
  text[length] = (guint8) ~'\0';
  return text;
}

static void
test_queue_wiped (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                               G_SOCKET_PROTOCOL_TCP, &error);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (MsgConnection) connection = NULL;
  g_autofree guint8 *inverted = random_inverted_text ("AUTH PLAIN ", 48);
  char              *command;

  g_test_summary ("A secret command (AUTH PLAIN) is overwritten in the connection's queue "
                  "once it is written: no copy is left in the process's memory.");
  g_assert_no_error (error);
  /* A listener that never accepts: the kernel takes the bytes. */
  g_assert_true (g_socket_bind (listener, any, TRUE, &error));
  g_assert_true (g_socket_listen (listener, &error));
  bound = g_socket_get_local_address (listener, &error);
  g_assert_no_error (error);
  connection = msg_connection_new ("127.0.0.1", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  msg_connection_set_timeout (connection, 10);
  g_assert_true (msg_connection_connect (connection, FALSE, NULL, &error));
  g_assert_no_error (error);

  command = g_malloc (48 + 1);
  memcpy (command, inverted, 48 + 1);
  complement ((guint8 *) command, 48 + 1);
  g_assert_true (msg_connection_queue_secret_command (connection, command, "AUTH PLAIN <redacted>", &error));
  g_assert_no_error (error);
  explicit_bzero (command, 48);
  g_free (command);
  /* The scan finds what is there: the queued command. */
  g_assert_cmpuint (count_in_memory (inverted, 48), ==, 1);

  g_assert_true (msg_connection_flush (connection, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_in_memory (inverted, 48), ==, 0);
  msg_connection_abort (connection);
}

static void
test_reuse_key_keyed (Fixture      *f,
                      gconstpointer data)
{
  g_autoptr (MsgMessage) message = msg_message_new ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  const char *const scripts[] = {
    "line 220 mx\nexpect EHLO\nline 250-mx\nline 250 AUTH CRAM-MD5\n"
    "expect AUTH CRAM-MD5\nline 334 PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\n"
    "read 1\nline 235 ok\n"
    "expect MAIL\nline 250 ok\nexpect RCPT\nline 250 ok\nexpect DATA\nline 354 go\ndata\nline 250 ok\n",
    NULL
  };
  guint8 digest[32];
  gsize  digest_length = sizeof digest;
  guint8 inverted_hex[64];

  g_test_summary ("The key under which a kept SMTP connection is reused holds no unsalted "
                  "SHA-256 of the password (a dictionary would reverse it).");
  msg_test_fixture_start_server (f, "smtp", scripts, "10");
  msg_test_set_field (f, "smtpehloname", "client.example.test");
  msg_test_set_field (f, "smtpauthenticate", "1");
  msg_test_set_field (f, "sendusername", "tim");
  msg_test_set_field (f, "sendpassword", "tanstaaftanstaaf");
  msg_test_set_field (f, "smtpallowplaintextauth", "true");
  msg_test_fixture_make_transport (f, "smtp");
  g_assert_true (msg_message_set_from (message, "alice@example.test", &error));
  g_assert_true (msg_message_set_to (message, "bob@example.test", &error));
  g_assert_no_error (error);
  msg_message_set_text_body (message, "Hi.\n");
  report = msg_transport_send_message (f->transport, message, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (report);

  /* The connection is kept, with its key. */
  g_checksum_update (checksum, (const guchar *) "tanstaaftanstaaf", 16);
  g_checksum_get_digest (checksum, digest, &digest_length);
  /* GChecksum keeps the hexadecimal form too: overwrite it. */
  {
    char *kept = (char *) g_checksum_get_string (checksum);

    explicit_bzero (kept, strlen (kept));
  }
  for (gsize i = 0; i < sizeof digest; i++)
    {
      inverted_hex[2 * i] = (guint8) ~"0123456789abcdef"[digest[i] >> 4];
      inverted_hex[2 * i + 1] = (guint8) ~"0123456789abcdef"[digest[i] & 0xf];
    }
  g_assert_cmpuint (count_in_memory (inverted_hex, sizeof inverted_hex), ==, 0);
}

/* A configuration file. */

static void
test_secret_file_mode (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "msgobj.conf", NULL);
  g_autofree char *plain = g_build_filename (dir, "plain.conf", NULL);
  g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();
  g_autoptr (GError) error = NULL;
  static const char *const fields[] = { "sendpassword", "postpassword" };

  g_test_summary ("A configuration file with a password that others can read (or write) is "
                  "refused, naming the file and the fix; at 0600 it loads; without a secret "
                  "the mode does not matter.");
  for (guint i = 0; i < G_N_ELEMENTS (fields); i++)
    {
      g_autofree char *text = g_strdup_printf ("[configuration]\nsmtpserver = mx.example.test\n"
                                               "%s = hunter2\n",
                                               fields[i]);
      static const int modes[] = { 0644, 0604, 0640, 0620, 0666 };

      g_assert_true (g_file_set_contents (path, text, -1, NULL));
      for (guint m = 0; m < G_N_ELEMENTS (modes); m++)
        {
          g_assert_cmpint (g_chmod (path, modes[m]), ==, 0);
          g_assert_false (msg_configuration_load_from_file (configuration, path, &error));
          g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_PARSE);
          g_assert_nonnull (strstr (error->message, path));
          g_assert_nonnull (strstr (error->message, "chmod 600"));
          g_assert_nonnull (strstr (error->message, fields[i]));
          g_assert_null (strstr (error->message, "hunter2"));
          g_clear_error (&error);
          /* All or nothing. */
          g_assert_false (msg_configuration_is_field_set (configuration, "smtpserver"));
        }
      g_assert_cmpint (g_chmod (path, 0600), ==, 0);
      g_assert_true (msg_configuration_load_from_file (configuration, path, &error));
      g_assert_no_error (error);
      g_assert_true (msg_configuration_is_field_set (configuration, fields[i]));
      g_assert_true (msg_configuration_reset_field (configuration, "smtpserver", NULL));
    }

  g_assert_true (g_file_set_contents (plain, "[configuration]\nsmtpserver = mx.example.test\n", -1, NULL));
  g_assert_cmpint (g_chmod (plain, 0644), ==, 0);
  g_assert_true (msg_configuration_load_from_file (configuration, plain, &error));
  g_assert_no_error (error);
  msg_test_remove_tree (dir);
}

static void
test_secret_file_owner (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "msgobj.conf", NULL);
  g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();
  g_autoptr (GError) error = NULL;

  g_test_summary ("A configuration file with a password owned by another user is refused.");
  g_assert_true (g_file_set_contents (path, "[configuration]\nsendpassword = hunter2\n", -1, NULL));
  g_assert_cmpint (g_chmod (path, 0600), ==, 0);
  if (chown (path, 65534, (gid_t) -1) != 0)
    {
      g_test_skip ("cannot give a file to another user (not root)");
      msg_test_remove_tree (dir);
      return;
    }
  g_assert_false (msg_configuration_load_from_file (configuration, path, &error));
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_PARSE);
  g_assert_nonnull (strstr (error->message, path));
  g_assert_nonnull (strstr (error->message, "owned by another user"));
  g_assert_false (msg_configuration_is_field_set (configuration, "sendpassword"));
  msg_test_remove_tree (dir);
}

static void
test_secure_user_dirs (void)
{
  g_autofree char *config = _msg_get_user_dir_for (MSG_USER_DIR_CONFIG, TRUE);
  g_autofree char *data = _msg_get_user_dir_for (MSG_USER_DIR_DATA, TRUE);
  g_autofree char *plain_config = _msg_get_user_dir_for (MSG_USER_DIR_CONFIG, FALSE);
  g_autofree char *plain_data = _msg_get_user_dir_for (MSG_USER_DIR_DATA, FALSE);

  g_test_summary ("In a setuid/setgid process (AT_SECURE) the configuration and data "
                  "directories come from the password database, not from XDG_CONFIG_HOME, "
                  "XDG_DATA_HOME or HOME; an ordinary process uses GLib's.");
  /* G_TEST_OPTION_ISOLATE_DIRS points XDG_* and HOME into the test's tmp. */
  g_assert_cmpstr (plain_config, ==, g_get_user_config_dir ());
  g_assert_cmpstr (plain_data, ==, g_get_user_data_dir ());
  g_assert_false (g_str_has_prefix (config, g_get_user_config_dir ()));
  g_assert_false (g_str_has_prefix (data, g_get_user_data_dir ()));
  g_assert_false (g_str_has_prefix (config, g_get_home_dir ()));
  g_assert_true (g_str_has_suffix (config, "/.config"));
  g_assert_true (g_str_has_suffix (data, "/.local/share"));
  /* This test does not run setuid. */
  g_assert_false (_msg_is_secure_process ());
}

/* Plugins. */

static void
copy_module (const char *variant,
             const char *dir,
             int         mode)
{
  g_autofree char *name = g_strdup_printf ("libmsgobj-test-abi-%s.so", variant);
  g_autofree char *from = g_test_build_filename (G_TEST_BUILT, "modules", "abi", name, NULL);
  g_autofree char *to = g_build_filename (dir, name, NULL);
  g_autofree char *contents = NULL;
  gsize            length;

  g_assert_true (g_file_get_contents (from, &contents, &length, NULL));
  g_assert_true (g_file_set_contents (to, contents, (gssize) length, NULL));
  g_assert_cmpint (g_chmod (to, mode), ==, 0);
}

static void
test_plugins (void)
{
  g_autofree char *root = NULL;
  g_autofree char *stale = NULL;
  g_autofree char *open_dir = NULL;
  g_autofree char *open_file = NULL;
  g_autofree char *good = NULL;
  g_autofree char *search = NULL;

  if (g_test_subprocess ())
    {
      g_auto (GStrv) names = NULL;

      /* The warnings are the point here: not fatal in this process. */
      g_log_set_always_fatal (G_LOG_FATAL_MASK);
      names = msg_transport_list_names ();
      g_print ("none=%s wrong=%s ok=%s\n",
               g_getenv ("MSGOBJ_TEST_ABI_LOADED_none") ? g_getenv ("MSGOBJ_TEST_ABI_LOADED_none") : "0",
               g_getenv ("MSGOBJ_TEST_ABI_LOADED_wrong") ? g_getenv ("MSGOBJ_TEST_ABI_LOADED_wrong") : "0",
               g_getenv ("MSGOBJ_TEST_ABI_LOADED_ok") ? g_getenv ("MSGOBJ_TEST_ABI_LOADED_ok") : "0");
      return;
    }

  g_test_summary ("Transport modules without the interface version symbol or with another "
                  "version, in a directory others can write to, or writable by others "
                  "themselves, are refused with a warning naming the file; a good module in "
                  "a safe directory is loaded.");
  root = msg_test_make_temp_dir ();
  stale = g_build_filename (root, "stale", NULL);
  open_dir = g_build_filename (root, "open-dir", NULL);
  open_file = g_build_filename (root, "open-file", NULL);
  good = g_build_filename (root, "good", NULL);
  g_assert_cmpint (g_mkdir (stale, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (open_dir, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (open_file, 0755), ==, 0);
  g_assert_cmpint (g_mkdir (good, 0755), ==, 0);
  copy_module ("none", stale, 0755);
  copy_module ("wrong", stale, 0755);
  copy_module ("ok", open_dir, 0755);
  copy_module ("ok", open_file, 0777);
  copy_module ("ok", good, 0755);
  /* Not sticky, so not like /tmp: anyone may replace the modules. */
  g_assert_cmpint (g_chmod (open_dir, 0777), ==, 0);

  search = g_strjoin (":", stale, open_dir, open_file, good, NULL);
  g_setenv ("MSGOBJ_TRANSPORT_PATH", search, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDIN);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stdout ("none=0 wrong=0 ok=1\n");
  g_test_trap_assert_stderr ("*libmsgobj-test-abi-none.so* does not state the interface version*");
  g_test_trap_assert_stderr ("*libmsgobj-test-abi-wrong.so* built for interface version 999*");
  g_test_trap_assert_stderr ("*open-dir* other users can write to it (mode 0777)*");
  g_test_trap_assert_stderr ("*open-file/libmsgobj-test-abi-ok.so* other users can write to it*");
  msg_test_remove_tree (root);
}

/* Posting. */

static guint
count_files (const char *dir)
{
  g_autoptr (GDir) handle = g_dir_open (dir, 0, NULL);
  guint n = 0;

  while (handle != NULL && g_dir_read_name (handle) != NULL)
    n++;
  return n;
}

static void
test_control_headers (void)
{
  static const char *const names[] = { "Control", "Approved", "Supersedes" };
  static const char *const values[] = { "cancel <victim@example.test>", "moderator@example.test",
                                        "<victim@example.test>" };
  static const char        parsed[] = "From: alice@example.test\r\n"
                                      "Newsgroups: local.test\r\n"
                                      "Subject: forwarded\r\n"
                                      "control: cancel <victim@example.test>\r\n"
                                      "\r\n"
                                      "body\r\n";
  g_autofree char         *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();
  g_autoptr (GError) error = NULL;

  g_test_summary ("Control, Approved and Supersedes (set with set_header or parsed) are "
                  "refused on a post unless nntpallowcontrolheaders is set; nothing is "
                  "written. Mail is not affected.");
  g_assert_true (msg_configuration_set_field (configuration, "nntpserverpickupdirectory", dir, &error));
  g_assert_true (msg_configuration_set_field (configuration, "smtpserverpickupdirectory", dir, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autoptr (MsgMessage) message = msg_message_new_with_configuration (configuration);
      g_autoptr (MsgSendReport) report = NULL;
      g_autofree char *contents = NULL;
      g_autofree char *expected = g_strdup_printf ("%s: %s\r\n", names[i], values[i]);

      g_assert_true (msg_message_set_from (message, "alice@example.test", NULL));
      g_assert_true (msg_message_set_to (message, "bob@example.test", NULL));
      g_assert_true (msg_message_set_newsgroups (message, "local.test", NULL));
      g_assert_true (msg_message_set_subject (message, "Hello", NULL));
      g_assert_true (msg_message_set_header (message, names[i], values[i], &error));
      g_assert_no_error (error);
      msg_message_set_text_body (message, "body\n");

      report = msg_message_post (message, NULL, &error);
      g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
      g_assert_nonnull (strstr (error->message, names[i]));
      g_assert_nonnull (strstr (error->message, "nntpallowcontrolheaders"));
      g_assert_null (report);
      g_clear_error (&error);
      g_assert_cmpuint (count_files (dir), ==, 2 * i);

      /* Mail is not news: the header goes as it is. */
      report = msg_message_send (message, NULL, &error);
      g_assert_no_error (error);
      g_clear_object (&report);

      /* A moderator's tool allows them. */
      g_assert_true (msg_configuration_set_field (configuration, "nntpallowcontrolheaders", "true", &error));
      report = msg_message_post (message, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (g_file_get_contents (msg_send_report_get_pickup_file (report), &contents, NULL, NULL));
      g_assert_nonnull (strstr (contents, expected));
      g_assert_true (msg_configuration_set_field (configuration, "nntpallowcontrolheaders", "false", &error));
    }

  {
    g_autoptr (GBytes) bytes = g_bytes_new_static (parsed, sizeof parsed - 1);
    g_autoptr (MsgMessage) message = msg_message_new_from_bytes (bytes, &error);
    g_autoptr (MsgSendReport) report = NULL;

    g_assert_no_error (error);
    msg_message_set_configuration (message, configuration);
    report = msg_message_post (message, NULL, &error);
    g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
    g_assert_null (report);
  }
  msg_test_remove_tree (dir);
}

int
main (int    argc,
      char **argv)
{
  /* G_DEBUG=gc-friendly (set for every test) makes GLib clear what a
   * GArray drops, which would hide a queue that the library forgot to
   * wipe: run without it, as applications do. */
  if (g_getenv ("G_DEBUG") != NULL && strstr (g_getenv ("G_DEBUG"), "gc-friendly") != NULL)
    {
      g_unsetenv ("G_DEBUG");
      /* argv[0], not /proc/self/exe: under valgrind that is valgrind. */
      execv (strchr (argv[0], '/') != NULL ? argv[0] : "/proc/self/exe", argv);
      g_error ("Cannot run again without G_DEBUG: %s", g_strerror (errno));
    }
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  /* The plugin test's subprocess expects warnings. */
  if (!g_test_subprocess ())
    msg_test_capture_log ();
  msg_test_fixture_init ();

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, msg_test_fixture_setup, func, msg_test_fixture_teardown)
  g_test_add_func ("/security/secrets/queue-wiped", test_queue_wiped);
  ADD ("/security/secrets/reuse-key-keyed", test_reuse_key_keyed);
  g_test_add_func ("/security/config/secret-file-mode", test_secret_file_mode);
  g_test_add_func ("/security/config/secret-file-owner", test_secret_file_owner);
  g_test_add_func ("/security/config/secure-user-dirs", test_secure_user_dirs);
  g_test_add_func ("/security/post/control-headers", test_control_headers);
  g_test_add_func ("/security/plugins/refused", test_plugins);

  {
    int result = g_test_run ();

    msg_test_fixture_cleanup ();
    return result;
  }
}
