/* test-tool.c: the msgobj command's output and exit codes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-utils.h"
#include "msg-test-server.h"

#include <glib/gstdio.h>
#include <pty.h>
#include <signal.h>
#include <unistd.h>

typedef struct
{
  char *out;
  char *err;
  int   status;
} Run;

static void
run_clear (Run *run)
{
  g_clear_pointer (&run->out, g_free);
  g_clear_pointer (&run->err, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Run, run_clear)

/* Runs the tool with @args (NULL-terminated) and @input on stdin. */
static void
run_tool (Run               *run,
          const char        *input,
          const char *const *args)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  const char      *tool = g_getenv ("MSGOBJ_TEST_TOOL");
  g_autofree char *input_path = NULL;
  int              input_fd;

  g_assert_nonnull (tool);
  g_ptr_array_add (argv, (char *) tool);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  /* Standard input from a file, not a pipe: a run that exits without
   * reading it (a usage error) must not fail the test with a broken pipe. */
  input_fd = g_file_open_tmp ("msgobj-tool-input-XXXXXX", &input_path, &error);
  g_assert_no_error (error);
  g_close (input_fd, NULL);
  g_assert_true (g_file_set_contents (input_path, input != NULL ? input : "", -1, &error));
  g_assert_no_error (error);
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_set_stdin_file_path (launcher, input_path);
  g_subprocess_launcher_unsetenv (launcher, "MSGOBJ_CONFIG");
  /* The isolated directories of this test, for the tool too. */
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", g_get_user_data_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", g_get_user_config_dir (), TRUE);
  process = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_unlink (input_path);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &run->out, &run->err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  run->status = g_subprocess_get_exit_status (process);
}

static char *
b64_plain (const char *user,
           const char *password)
{
  g_autofree char *plain = g_strdup_printf ("%c%s%c%s", 0, user, 0, password);

  return g_base64_encode ((const guchar *) plain, 2 + strlen (user) + strlen (password));
}

static void
test_send_pickup (void)
{
  g_auto (Run) run = { 0 };
  g_autofree char *path = NULL;
  g_autofree char *contents = NULL;

  g_test_summary ("With no configuration, msgobj send writes through pickup and prints the path.");
  run_tool (&run, "Body from stdin.\n",
            (const char *const[]){ "send", "--from", "alice@example.test", "--to", "bob@example.test",
                                   "--subject", "Hello", NULL });
  g_assert_cmpstr (run.err, ==, "");
  g_assert_cmpint (run.status, ==, 0);
  path = g_strstrip (g_strdup (run.out));
  g_assert_true (g_str_has_suffix (path, ".eml"));
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_nonnull (strstr (contents, "Subject: Hello\r\n"));
  g_assert_nonnull (strstr (contents, "Body from stdin."));
}

/* GnuTLS is opened by dkim-keygen, not linked (docs/design.md, decision
 * 26): a send loads neither it nor a transport module; making a key loads
 * it. The dynamic loader's LD_DEBUG=libs names each library it starts. */
static void
test_libraries_loaded (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_auto (Run) send = { 0 };
  g_auto (Run) keygen = { 0 };

  g_test_summary ("msgobj send through pickup loads neither GnuTLS nor a transport module; "
                  "msgobj dkim-keygen loads GnuTLS and makes a key.");
  g_setenv ("LD_DEBUG", "libs", TRUE);
  run_tool (&send, "Body.\n",
            (const char *const[]){ "send", "--from", "alice@example.test", "--to", "bob@example.test", NULL });
  run_tool (&keygen, NULL,
            (const char *const[]){ "dkim-keygen", "--domain", "example.test", "--selector", "s",
                                   "--algorithm", "ed25519-sha256", "--output-dir", dir, NULL });
  g_unsetenv ("LD_DEBUG");
  g_assert_cmpint (send.status, ==, 0);
  g_assert_nonnull (strstr (send.err, "calling init:"));
  g_assert_nonnull (strstr (send.err, "libgmime"));
  g_assert_null (strstr (send.err, "libgnutls"));
  g_assert_null (strstr (send.err, "libmsgobj-smtp"));
  g_assert_null (strstr (send.err, "libmsgobj-nntp"));
  g_assert_cmpint (keygen.status, ==, 0);
  g_assert_nonnull (strstr (keygen.err, "libgnutls"));
  g_assert_nonnull (strstr (keygen.out, "k=ed25519"));
  msg_test_remove_tree (dir);
}

static void
test_send_server_only (void)
{
  g_autoptr (MsgTestServer) server = msg_test_server_new (
      "line 220 mx.example.test ESMTP\n"
      "expect EHLO\nline 250 mx.example.test\n"
      "expect MAIL\nline 250 2.1.0 Ok\n"
      "expect RCPT\nline 250 2.1.5 Ok\n"
      "expect DATA\nline 354 go\ndata\nline 250 2.0.0 Ok: queued\n"
      "expect QUIT\nline 221 bye\n");
  g_autofree char *set_server = g_strdup_printf ("smtpserver=127.0.0.1:%u", msg_test_server_get_port (server));
  g_autofree char *pickup = g_build_filename (g_get_user_data_dir (), "msgobj", "pickup", NULL);
  g_autofree char *error = NULL;
  g_auto (Run) run = { 0 };

  g_test_summary ("msgobj send --set smtpserver=HOST:PORT, without sendusing, sends by SMTP "
                  "and writes nothing to the pickup directory.");
  run_tool (&run, "hi\n",
            (const char *const[]){ "send", "--set", set_server, "--from", "a@example.org",
                                   "--to", "b@example.org", "--subject", "t", NULL });
  g_assert_cmpstr (run.err, ==, "");
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "Ok: queued"));
  g_assert_true (msg_test_server_wait_closed (server, 5000));
  g_assert_cmpuint (msg_test_server_get_n_connections (server), ==, 1);
  error = msg_test_server_get_error (server);
  g_assert_null (error);
  g_assert_false (g_file_test (pickup, G_FILE_TEST_EXISTS));
}

static void
test_show (void)
{
  g_auto (Run) run = { 0 };
  g_auto (Run) show = { 0 };
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *attachment = g_build_filename (dir, "notes.txt", NULL);
  g_autofree char *path = NULL;

  g_assert_true (g_file_set_contents (attachment, "some notes\n", -1, NULL));
  run_tool (&run, NULL,
            (const char *const[]){ "send", "--from", "alice@example.test", "--to", "bob@example.test",
                                   "--subject", "With attachment", "--text", "See attached.",
                                   "--attach", attachment, "--set", "smtpserverpickupdirectory=", NULL });
  g_assert_cmpint (run.status, ==, 0);
  path = g_strstrip (g_strdup (run.out));

  run_tool (&show, NULL, (const char *const[]){ "show", path, NULL });
  g_assert_cmpint (show.status, ==, 0);
  g_assert_nonnull (strstr (show.out, "Subject: With attachment\n"));
  g_assert_nonnull (strstr (show.out, "multipart/mixed"));
  g_assert_nonnull (strstr (show.out, "notes.txt"));
  msg_test_remove_tree (dir);
}

/* Whether @text has a control character other than the line ends. */
static gboolean
has_control (const char *text)
{
  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    if ((*p < 0x20 && *p != '\n') || *p == 0x7f)
      return TRUE;
  return strstr (text, "\xc2\x9b") != NULL; /* CSI, a C1 control */
}

static void
test_show_escapes (void)
{
  static const char eml[] =
      "From: =?utf-8?q?Mallory_=1B]0;owned=07?= <m@example.test>\r\n"
      "To: bob@example.test\r\n"
      "Subject: =?utf-8?q?a=0Db=1B[2Jc=C2=9B1m?=\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=b\r\n"
      "\r\n"
      "--b\r\n"
      "Content-Type: text/plain\r\n"
      "\r\n"
      "hi\r\n"
      "--b\r\n"
      "Content-Type: application/octet-stream\r\n"
      "Content-Disposition: attachment; filename*=utf-8''evil%1B%5B31m.txt\r\n"
      "\r\n"
      "x\r\n"
      "--b--\r\n";
  g_auto (Run) run = { 0 };
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "hostile.eml", NULL);

  g_test_summary ("msgobj show escapes the control characters (ESC, BEL, CR, C1) of a hostile "
                  "message's headers and file names: none reaches the terminal.");
  g_assert_true (g_file_set_contents (path, eml, sizeof eml - 1, NULL));
  run_tool (&run, NULL, (const char *const[]){ "show", path, NULL });
  g_assert_cmpint (run.status, ==, 0);
  g_assert_false (has_control (run.out));
  g_assert_false (has_control (run.err));
  g_assert_nonnull (strstr (run.out, "Subject: a\\rb\\x1b[2Jc\\u009b1m\n"));
  g_assert_nonnull (strstr (run.out, "\\x1b]0;owned\\x07"));
  /* The parser already made the parameter's ESC harmless (docs/security.md);
   * what is left of the name is shown. */
  g_assert_nonnull (strstr (run.out, "[31m.txt"));
  msg_test_remove_tree (dir);
}

static const char attachments_eml[] =
    "From: m@example.test\r\n"
    "To: bob@example.test\r\n"
    "Subject: =?utf-8?q?say_=22hi=22=5C_=1B[2J?=\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=b\r\n"
    "\r\n"
    "--b\r\n"
    "Content-Type: text/plain\r\n"
    "\r\n"
    "hi\r\n"
    "--b\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Disposition: attachment; filename=\"../../escaped.txt\"\r\n"
    "\r\n"
    "one\r\n"
    "--b\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Disposition: attachment; filename=\"/tmp/absolute.txt\"\r\n"
    "\r\n"
    "two\r\n"
    "--b\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Disposition: attachment; filename=\"..\"\r\n"
    "\r\n"
    "three\r\n"
    "--b\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Disposition: attachment; filename*=utf-8''a%1B%5B31m%5Cb.txt\r\n"
    "\r\n"
    "four\r\n"
    "--b\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Disposition: attachment; filename=\"same.txt\"\r\n"
    "\r\n"
    "five\r\n"
    "--b\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Disposition: attachment; filename=\"same.txt\"\r\n"
    "\r\n"
    "six\r\n"
    "--b\r\n"
    "Content-Type: application/octet-stream\r\n"
    "Content-Disposition: attachment; filename*=utf-8''c%07d.txt\r\n"
    "\r\n"
    "seven\r\n"
    "--b--\r\n";

static void
assert_file (const char *dir,
             const char *name,
             const char *expected)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *contents = NULL;

  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, expected);
}

static void
test_show_attachments (void)
{
  g_autofree char *top = msg_test_make_temp_dir ();
  g_autofree char *dir = g_build_filename (top, "a", "b", NULL);
  g_autofree char *path = g_build_filename (top, "message.eml", NULL);
  g_autoptr (GDir) listing = NULL;
  g_auto (Run) run = { 0 };
  g_auto (Run) bad = { 0 };
  guint n = 0;

  g_test_summary ("msgobj show --attachments DIR saves each attachment under a safe name: "
                  "nothing outside DIR, no hidden file, no control character, no file overwritten.");
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, attachments_eml, -1, NULL));
  run_tool (&run, NULL, (const char *const[]){ "show", "--attachments", dir, path, NULL });
  g_assert_cmpstr (run.err, ==, "");
  g_assert_cmpint (run.status, ==, 0);
  g_assert_false (has_control (run.out));
  assert_file (dir, "escaped.txt", "one");
  assert_file (dir, "absolute.txt", "two");
  assert_file (dir, "attachment-3", "three");
  /* A backslash separates too (a Windows path). */
  assert_file (dir, "b.txt", "four");
  /* The parser turns a parameter's control characters into spaces. */
  assert_file (dir, "c d.txt", "seven");
  assert_file (dir, "same.txt", "five");
  assert_file (dir, "same-2.txt", "six");
  listing = g_dir_open (dir, 0, NULL);
  while (g_dir_read_name (listing) != NULL)
    n++;
  g_assert_cmpuint (n, ==, 7);
  /* Nothing next to DIR or above it: only a/ and the message in top. */
  g_clear_pointer (&listing, g_dir_close);
  listing = g_dir_open (top, 0, NULL);
  n = 0;
  while (g_dir_read_name (listing) != NULL)
    n++;
  g_assert_cmpuint (n, ==, 2);

  run_tool (&bad, NULL, (const char *const[]){ "show", "--attachments", path, path, NULL });
  g_assert_cmpint (bad.status, ==, 1);
  g_assert_nonnull (strstr (bad.err, "not a directory"));
  msg_test_remove_tree (top);
}

static void
test_show_json_raw (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "message.eml", NULL);
  g_auto (Run) json = { 0 };
  g_auto (Run) raw = { 0 };
  g_auto (Run) both = { 0 };

  g_test_summary ("msgobj show --json prints the headers and MIME tree as JSON, every quote, "
                  "backslash and control character escaped; --raw prints the file as it is.");
  g_assert_true (g_file_set_contents (path, attachments_eml, -1, NULL));
  run_tool (&json, NULL, (const char *const[]){ "show", "--json", path, NULL });
  g_assert_cmpint (json.status, ==, 0);
  g_assert_cmpstr (json.err, ==, "");
  g_assert_false (has_control (json.out));
  g_assert_true (g_str_has_prefix (json.out, "{\"headers\":[[\"From\",\"m@example.test\"],"));
  g_assert_nonnull (strstr (json.out, "[\"Subject\",\"say \\\"hi\\\"\\\\ \\u001b[2J\"]"));
  g_assert_nonnull (strstr (json.out, "\"body\":{\"type\":\"multipart/mixed\""));
  /* The safe name (msg_body_part_get_filename()): no directory, no control. */
  g_assert_nonnull (strstr (json.out, "\"filename\":\"b.txt\""));
  g_assert_nonnull (strstr (json.out, "\"size\":3}"));
  g_assert_true (g_str_has_suffix (json.out, "]}}\n"));

  run_tool (&raw, NULL, (const char *const[]){ "show", "--raw", path, NULL });
  g_assert_cmpint (raw.status, ==, 0);
  g_assert_cmpstr (raw.out, ==, attachments_eml);

  run_tool (&both, NULL, (const char *const[]){ "show", "--raw", "--json", path, NULL });
  g_assert_cmpint (both.status, ==, 2);
  msg_test_remove_tree (dir);
}

static void
test_password_file (void)
{
  g_autofree char  *plain1 = b64_plain ("alice", "from file");
  g_autofree char  *plain2 = b64_plain ("alice", "from stdin");
  g_autofree char  *script1 = g_strdup_printf ("line 220 mx\nexpect EHLO\nline 250-mx\nline 250 AUTH PLAIN\n"
                                                "expect AUTH PLAIN %s\nline 235 ok\n"
                                                "expect MAIL\nline 250 ok\nexpect RCPT\nline 250 ok\n"
                                                "expect DATA\nline 354 go\ndata\nline 250 queued\n"
                                                "expect QUIT\nline 221 bye\n",
                                               plain1);
  g_autofree char  *script2 = g_strdup_printf ("line 220 mx\nexpect EHLO\nline 250-mx\nline 250 AUTH PLAIN\n"
                                                "expect AUTH PLAIN %s\nline 235 ok\n"
                                                "expect MAIL\nline 250 ok\nexpect RCPT\nline 250 ok\n"
                                                "expect DATA\nline 354 go\ndata\nline 250 queued\n"
                                                "expect QUIT\nline 221 bye\n",
                                               plain2);
  const char *const scripts[] = { script1, script2, NULL };
  g_autoptr (MsgTestServer) server = msg_test_server_new_multi (scripts);
  g_autofree char *port = g_strdup_printf ("smtpserverport=%u", msg_test_server_get_port (server));
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *file = g_build_filename (dir, "password", NULL);
  g_auto (Run) run = { 0 };
  g_auto (Run) run2 = { 0 };
  g_auto (Run) run3 = { 0 };
  g_autofree char  *help = NULL;
  const char *const base[] = { "send", "--set", "sendusing=smtp", "--set", "smtpserver=127.0.0.1",
                               "--set", port, "--set", "smtpauthenticate=1",
                               "--set", "sendusername=alice", "--set", "smtpallowplaintextauth=true",
                               "--set", "smtpauthmechanisms=PLAIN", "--from", "a@example.test",
                               "--to", "b@example.test", "--subject", "S", "--text", "body",
                               "--password-file", NULL };

  g_test_summary ("--password-file FILE and --password-file - set sendpassword from the first "
                  "line, so that the password is never on the command line.");
  g_assert_true (g_file_set_contents (file, "from file\nsecond line ignored\n", -1, NULL));
  {
    g_autoptr (GPtrArray) args = g_ptr_array_new ();

    for (guint i = 0; base[i] != NULL; i++)
      g_ptr_array_add (args, (char *) base[i]);
    g_ptr_array_add (args, file);
    g_ptr_array_add (args, NULL);
    run_tool (&run, NULL, (const char *const *) args->pdata);
    g_assert_cmpstr (run.err, ==, "");
    g_assert_cmpint (run.status, ==, 0);
    g_assert_true (msg_test_server_wait_closed (server, 5000));

    args->pdata[args->len - 2] = (char *) "-";
    run_tool (&run2, "from stdin\n", (const char *const *) args->pdata);
    g_assert_cmpstr (run2.err, ==, "");
    g_assert_cmpint (run2.status, ==, 0);
    g_assert_true (msg_test_server_wait_closed (server, 5000));
  }
  g_assert_null (msg_test_server_get_error (server));

  run_tool (&run3, NULL, (const char *const[]){ "--help", NULL });
  help = g_strconcat (run3.out, run3.err, NULL);
  g_assert_nonnull (strstr (help, "--password-file"));
  msg_test_remove_tree (dir);
}

/* Runs `msgobj ARGS…` that writes through pickup; returns the file written. */
static char *
send_to_pickup (const char        *input,
                const char *const *args)
{
  g_auto (Run) run = { 0 };
  g_autofree char *path = NULL;
  char            *contents = NULL;

  run_tool (&run, input, args);
  if (run.status != 0)
    g_test_message ("stderr: %s", run.err);
  g_assert_cmpint (run.status, ==, 0);
  g_assert_cmpstr (run.err, ==, "");
  path = g_strstrip (g_strdup (run.out));
  g_assert_true (g_str_has_suffix (path, ".eml"));
  g_assert_true (g_file_get_contents (path, &contents, NULL, NULL));
  g_assert_no_errno (g_unlink (path));
  return contents;
}

static void
test_send_headers (void)
{
  g_autofree char *eml = NULL;

  g_test_summary ("--reply-to, --sender, --header (by name and by URN), --importance, "
                  "--keywords and --mdn reach the message written.");
  eml = send_to_pickup (NULL, (const char *const[]){ "send", "--from", "alice@example.test", "--to", "bob@example.test",
                                                     "--subject", "Headers", "--text", "body",
                                                     "--reply-to", "replies@example.test",
                                                     "--sender", "secretary@example.test",
                                                     "--header", "X-Ticket: 42",
                                                     "-H", "urn:schemas:mailheader:x-colour:blue",
                                                     "-H", "urn:schemas:mailheader:comments:hello",
                                                     "--importance", "high", "--keywords", "one, two",
                                                     "--mdn", NULL });
  g_assert_nonnull (strstr (eml, "\r\nReply-To: replies@example.test\r\n"));
  g_assert_nonnull (strstr (eml, "\r\nSender: secretary@example.test\r\n"));
  g_assert_nonnull (strstr (eml, "\r\nX-Ticket: 42\r\n"));
  g_assert_nonnull (strstr (eml, "\r\nx-colour: blue\r\n"));
  /* A header CDO's URN names in lower case is written as mail spells it. */
  g_assert_nonnull (strstr (eml, "\r\nComments: hello\r\n"));
  g_assert_nonnull (strstr (eml, "\r\nImportance: high\r\n"));
  g_assert_nonnull (strstr (eml, "\r\nKeywords: one, two\r\n"));
  g_assert_nonnull (strstr (eml, "\r\nDisposition-Notification-To: alice@example.test\r\n"));
}

static void
test_send_charset_related (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *html = g_build_filename (dir, "page.html", NULL);
  g_autofree char *logo = g_build_filename (dir, "logo.png", NULL);
  g_autofree char *icon = g_build_filename (dir, "icon.png", NULL);
  g_autofree char *logo_cid = g_strconcat (logo, ":logo@example.test", NULL);
  g_autofree char *eml = NULL;

  g_test_summary ("--charset writes the bodies in that charset; --related FILE[:CID] adds a "
                  "resource of the HTML body with that Content-ID (by default its file name).");
  g_assert_true (g_file_set_contents (html, "<p>caf\xc3\xa9 <img src=\"cid:logo@example.test\"></p>", -1, NULL));
  g_assert_true (g_file_set_contents (logo, "PNG1", -1, NULL));
  g_assert_true (g_file_set_contents (icon, "PNG2", -1, NULL));
  eml = send_to_pickup (NULL, (const char *const[]){ "send", "--from", "a@example.test", "--to", "b@example.test",
                                                     "--subject", "Related", "--text", "caf\xc3\xa9",
                                                     "--html-file", html, "--charset", "iso-8859-1",
                                                     "--related", logo_cid, "--related", icon, NULL });
  g_assert_nonnull (strstr (eml, "Content-Type: text/plain; charset=iso-8859-1"));
  g_assert_nonnull (strstr (eml, "Content-Type: text/html; charset=iso-8859-1"));
  g_assert_nonnull (strstr (eml, "multipart/related"));
  g_assert_nonnull (strstr (eml, "Content-Id: <logo@example.test>"));
  g_assert_nonnull (strstr (eml, "Content-Id: <icon.png>"));
  g_assert_null (strstr (eml, "caf\xc3\xa9"));
  msg_test_remove_tree (dir);
}

static void
test_send_dsn (void)
{
  g_autoptr (MsgTestServer) server = msg_test_server_new (
      "line 220 mx.example.test ESMTP\n"
      "expect EHLO\nline 250-mx.example.test\nline 250 DSN\n"
      "expect MAIL FROM:<a@example.org> RET=HDRS\nline 250 2.1.0 Ok\n"
      "expect RCPT TO:<b@example.org> NOTIFY=FAILURE,DELAY\nline 250 2.1.5 Ok\n"
      "expect DATA\nline 354 go\ndata\nline 250 2.0.0 Ok: queued\n"
      "expect QUIT\nline 221 bye\n");
  g_autofree char *set_server = g_strdup_printf ("smtpserver=127.0.0.1:%u", msg_test_server_get_port (server));
  g_auto (Run) run = { 0 };

  g_test_summary ("--dsn failure,delay,hdrs becomes NOTIFY and RET on the SMTP envelope.");
  run_tool (&run, NULL,
            (const char *const[]){ "send", "--set", set_server, "--from", "a@example.org", "--to", "b@example.org",
                                   "--subject", "t", "--text", "hi", "--dsn", "failure, delay,hdrs", NULL });
  g_assert_cmpstr (run.err, ==, "");
  g_assert_cmpint (run.status, ==, 0);
  g_assert_true (msg_test_server_wait_closed (server, 5000));
  g_assert_null (msg_test_server_get_error (server));
}

static const char original_eml[] = "From: Carol <carol@example.test>\r\n"
                                   "To: dave@example.test, erin@example.test\r\n"
                                   "Cc: frank@example.test\r\n"
                                   "Subject: Plans\r\n"
                                   "Message-ID: <plans@example.test>\r\n"
                                   "\r\n"
                                   "Shall we meet?\r\n";

static void
test_send_file (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "original.eml", NULL);
  g_autofree char *eml = NULL;
  g_autofree char *eml2 = NULL;

  g_test_summary ("msgobj send FILE.eml and send - send an existing message as it is, "
                  "with the options given changing it.");
  g_assert_true (g_file_set_contents (path, original_eml, -1, NULL));
  eml = send_to_pickup (NULL, (const char *const[]){ "send", path, NULL });
  g_assert_nonnull (strstr (eml, "Subject: Plans\r\n"));
  g_assert_nonnull (strstr (eml, "Message-ID: <plans@example.test>\r\n"));
  g_assert_nonnull (strstr (eml, "Shall we meet?"));

  eml2 = send_to_pickup (original_eml, (const char *const[]){ "send", "-", "--to", "grace@example.test",
                                                              "-H", "X-Resent: yes", NULL });
  g_assert_nonnull (strstr (eml2, "\r\nTo: grace@example.test\r\n"));
  g_assert_nonnull (strstr (eml2, "\r\nX-Resent: yes\r\n"));
  g_assert_nonnull (strstr (eml2, "Shall we meet?"));
  msg_test_remove_tree (dir);
}

static void
test_reply_forward (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "original.eml", NULL);
  g_autofree char *reply = NULL;
  g_autofree char *all = NULL;
  g_autofree char *forward = NULL;

  g_test_summary ("msgobj reply, reply-all and forward FILE send a response to the message "
                  "in FILE, the text given above the quoted original.");
  g_assert_true (g_file_set_contents (path, original_eml, -1, NULL));
  reply = send_to_pickup ("Yes, at noon.\n", (const char *const[]){ "reply", path, "--from", "dave@example.test", NULL });
  g_assert_nonnull (strstr (reply, "\r\nTo: Carol <carol@example.test>\r\n"));
  g_assert_nonnull (strstr (reply, "Subject: RE: Plans\r\n"));
  g_assert_nonnull (strstr (reply, "In-Reply-To: <plans@example.test>\r\n"));
  g_assert_nonnull (strstr (reply, "Yes, at noon."));
  g_assert_nonnull (strstr (reply, "Shall we meet?"));
  g_assert_true (strstr (reply, "Yes, at noon.") < strstr (reply, "Shall we meet?"));
  /* Only the original's sender, not its other recipients. */
  *strstr (reply, "\r\n\r\n") = '\0';
  g_assert_null (strstr (reply, "frank@example.test"));

  all = send_to_pickup (NULL, (const char *const[]){ "reply-all", path, "--from", "dave@example.test",
                                                     "--text", "Noon.", NULL });
  g_assert_nonnull (strstr (all, "erin@example.test"));
  g_assert_nonnull (strstr (all, "\r\nCc: frank@example.test\r\n"));

  forward = send_to_pickup (NULL, (const char *const[]){ "forward", path, "--from", "dave@example.test",
                                                         "--to", "heidi@example.test", "--text", "FYI", NULL });
  g_assert_nonnull (strstr (forward, "\r\nTo: heidi@example.test\r\n"));
  g_assert_nonnull (strstr (forward, "Subject: FW: Plans\r\n"));
  g_assert_nonnull (strstr (forward, "Shall we meet?"));
  msg_test_remove_tree (dir);
}

static void
test_fields (void)
{
  g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();
  g_auto (GStrv) names = msg_configuration_list_fields (configuration);
  g_auto (Run) run = { 0 };
  g_auto (GStrv) lines = NULL;

  g_test_summary ("msgobj fields lists every configuration field with its type, default and "
                  "meaning (from docs/configuration.md), tab-separated.");
  run_tool (&run, NULL, (const char *const[]){ "fields", NULL });
  g_assert_cmpint (run.status, ==, 0);
  g_assert_cmpstr (run.err, ==, "");
  lines = g_strsplit (run.out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, g_strv_length (names) + 1);
  for (guint i = 0; names[i] != NULL; i++)
    {
      g_auto (GStrv) columns = g_strsplit (lines[i], "\t", -1);

      g_assert_cmpuint (g_strv_length (columns), ==, 4);
      g_assert_cmpstr (columns[0], ==, names[i]);
      /* Every field but the test module's is described in the manual. */
      if (!g_str_equal (names[i], "testbehaviour"))
        g_assert_cmpstr (columns[3], !=, "");
    }
  g_assert_nonnull (strstr (run.out, "\nsmtpserverport\tinteger\t25\tSMTP port"));
  g_assert_nonnull (strstr (run.out, "\nsendpassword\tpassword\t(none)\t"));
  g_assert_nonnull (strstr (run.out, "\nsmtpstarttls\tenumeration\topportunistic\t"));
  g_assert_nonnull (strstr (run.out, "\nsmtpconnectiontimeout\tseconds\t30\t"));
}

static void
test_man_completion (void)
{
  g_auto (Run) help = { 0 };
  g_auto (Run) man = { 0 };
  g_auto (Run) completion = { 0 };
  g_autoptr (GRegex) regex = g_regex_new ("^  (?:-[a-zA-Z], )?--([a-z-]+)", G_REGEX_MULTILINE, 0, NULL);
  g_autoptr (GMatchInfo) match = NULL;
  g_autofree char *bash_path = g_find_program_in_path ("bash");
  guint            n = 0;

  g_test_summary ("The man page (--help-man) and the bash completion (--help-completion) are "
                  "generated from the option table --help prints: every option is in both.");
  run_tool (&help, NULL, (const char *const[]){ "--help", NULL });
  run_tool (&man, NULL, (const char *const[]){ "--help-man", NULL });
  run_tool (&completion, NULL, (const char *const[]){ "--help-completion", NULL });
  g_assert_cmpint (help.status, ==, 0);
  g_assert_cmpint (man.status, ==, 0);
  g_assert_cmpint (completion.status, ==, 0);
  g_assert_true (g_str_has_prefix (man.out, ".TH MSGOBJ 1 "));
  g_assert_nonnull (strstr (man.out, "Exit codes: 0 done"));
  g_assert_nonnull (strstr (completion.out, "complete -F _msgobj msgobj"));
  g_assert_nonnull (strstr (completion.out, "reply-all forward show fields transports"));
  g_assert_null (strstr (help.out, "--help-man"));
  for (g_regex_match (regex, help.out, 0, &match); g_match_info_matches (match); g_match_info_next (match, NULL))
    {
      g_autofree char *name = g_match_info_fetch (match, 1);
      g_autofree char *in_man = NULL;
      g_autofree char *in_completion = g_strdup_printf (" --%s", name);
      g_auto (GStrv) parts = g_strsplit (name, "-", -1);
      g_autofree char *troff = g_strjoinv ("\\-", parts);

      if (g_str_equal (name, "help") || g_str_has_prefix (name, "help-"))
        continue;
      in_man = g_strdup_printf ("\\fB\\-\\-%s\\fR", troff);
      if (strstr (man.out, in_man) == NULL || strstr (completion.out, in_completion) == NULL)
        g_error ("--%s is missing from the man page or the completion", name);
      n++;
    }
  /* The options are found at all. */
  g_assert_cmpuint (n, >=, 25);

  if (bash_path != NULL)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GSubprocess) bash = g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE, &error, bash_path, "-n", NULL);

      g_assert_no_error (error);
      g_subprocess_communicate_utf8 (bash, completion.out, NULL, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (g_subprocess_get_exit_status (bash), ==, 0);
    }
}

static void
test_post_file_reply_stdin (void)
{
  static const char article[] = "From: a@example.test\r\n"
                                "Newsgroups: comp.test\r\n"
                                "Subject: Article\r\n"
                                "\r\n"
                                "Posted from a file.\r\n";
  g_autofree char  *dir = msg_test_make_temp_dir ();
  g_autofree char  *path = g_build_filename (dir, "article.eml", NULL);
  g_autofree char  *posted = NULL;
  g_autofree char  *reply = NULL;
  g_auto (Run) both = { 0 };

  g_test_summary ("msgobj post FILE posts an existing article; reply - reads the original from "
                  "standard input; - cannot be both the message and the password.");
  g_assert_true (g_file_set_contents (path, article, -1, NULL));
  posted = send_to_pickup (NULL, (const char *const[]){ "post", path, NULL });
  g_assert_nonnull (strstr (posted, "Newsgroups: comp.test\r\n"));
  g_assert_nonnull (strstr (posted, "Posted from a file."));

  reply = send_to_pickup (original_eml, (const char *const[]){ "reply", "-", "--from", "dave@example.test", NULL });
  g_assert_nonnull (strstr (reply, "In-Reply-To: <plans@example.test>\r\n"));
  g_assert_nonnull (strstr (reply, "Shall we meet?"));

  run_tool (&both, original_eml, (const char *const[]){ "send", "-", "--password-file", "-", NULL });
  g_assert_cmpint (both.status, ==, 2);
  g_assert_nonnull (strstr (both.err, "standard input"));
  msg_test_remove_tree (dir);
}

static void
test_verbose_redacts (void)
{
  g_autofree char *plain = b64_plain ("alice", "s3cret");
  g_autofree char *script = g_strdup_printf ("line 220 mx\nexpect EHLO\nline 250-mx\nline 250 AUTH PLAIN\n"
                                             "expect AUTH PLAIN %s\nline 235 ok\n"
                                             "expect MAIL\nline 250 ok\nexpect RCPT\nline 250 ok\n"
                                             "expect DATA\nline 354 go\ndata\nline 250 queued\n"
                                             "expect QUIT\nline 221 bye\n",
                                             plain);
  g_autoptr (MsgTestServer) server = msg_test_server_new (script);
  g_autofree char *port = g_strdup_printf ("smtpserverport=%u", msg_test_server_get_port (server));
  g_auto (Run) run = { 0 };

  g_test_summary ("msgobj --verbose prints the protocol trace with the credentials redacted.");
  run_tool (&run, "s3cret\n",
            (const char *const[]){ "send", "--verbose", "--set", "sendusing=smtp", "--set", "smtpserver=127.0.0.1",
                                   "--set", port, "--set", "smtpauthenticate=1", "--set", "sendusername=alice",
                                   "--set", "smtpallowplaintextauth=true", "--set", "smtpauthmechanisms=PLAIN",
                                   "--from", "a@example.test", "--to", "b@example.test", "--subject", "S",
                                   "--text", "body", "--password-file", "-", NULL });
  g_assert_cmpint (run.status, ==, 0);
  g_assert_true (msg_test_server_wait_closed (server, 5000));
  g_assert_null (msg_test_server_get_error (server));
  g_assert_nonnull (strstr (run.err, "C: EHLO"));
  g_assert_nonnull (strstr (run.err, "AUTH PLAIN"));
  g_assert_null (strstr (run.err, plain));
  g_assert_null (strstr (run.err, "s3cret"));
}

static void
test_transports (void)
{
  g_auto (Run) run = { 0 };

  run_tool (&run, NULL, (const char *const[]){ "transports", NULL });
  g_assert_cmpint (run.status, ==, 0);
  g_assert_nonnull (strstr (run.out, "pickup\n"));
  g_assert_nonnull (strstr (run.out, "smtp\n"));
  g_assert_nonnull (strstr (run.out, "nntp\n"));
}

static void
test_exit_codes (void)
{
  struct
  {
    const char *args[12];
    int         status;
  } cases[] = {
    { { "frobnicate", NULL }, 2 },
    { { "send", "--no-such-option", NULL }, 2 },
    { { "send", "--from", "alice@example.test", "--to", "bob@example.test\r\nBcc: evil@example.test", NULL }, 3 },
    { { "send", "--from", "alice@example.test", NULL }, 3 },
    { { "send", "--set", "smtpusetls=true", NULL }, 3 },
    { { "send", "--set", "sendusing=carrier-pigeon", "--from", "a@example.test", "--to", "b@example.test", NULL }, 3 },
    { { "send", "--set", "sendusing=2", "--from", "a@example.test", "--to", "b@example.test", NULL }, 3 },
    { { "send", "--set", "sendusing=2", "--set", "smtpserver=127.0.0.1", "--set", "smtpserverport=1",
        "--from", "a@example.test", "--to", "b@example.test", NULL },
      4 },
    { { "show", "/nonexistent/file.eml", NULL }, 1 },
    { { "send", "--from", "a@example.test", "--to", "b@example.test", "--text", "x", "--importance", "urgent", NULL }, 3 },
    { { "send", "--from", "a@example.test", "--to", "b@example.test", "--text", "x", "--dsn", "sometimes", NULL }, 3 },
    { { "send", "--from", "a@example.test", "--to", "b@example.test", "--text", "x", "--dsn", "never,failure", NULL }, 3 },
    { { "send", "--from", "a@example.test", "--to", "b@example.test", "--text", "x", "--header", "NoColon", NULL }, 3 },
    { { "send", "--from", "a@example.test", "--to", "b@example.test", "--text", "x", "--header", "Content-Type: x/y", NULL }, 3 },
    { { "send", "--from", "a@example.test", "--to", "b@example.test", "--text", "x", "--reply-to", "not an address <", NULL }, 3 },
    { { "send", "--from", "a@example.test", "--to", "b@example.test", "--text", "x", "--charset", "no-such-charset", NULL }, 3 },
    { { "send", "--from", "a@example.test", "--to", "b@example.test", "--text", "x", "--related", "/nonexistent.png:x", NULL }, 3 },
    { { "send", "/nonexistent/file.eml", NULL }, 1 },
    { { "reply", NULL }, 2 },
    { { "forward", "a.eml", "b.eml", NULL }, 2 },
    { { "send", "a.eml", "b.eml", NULL }, 2 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto (Run) run = { 0 };

      run_tool (&run, NULL, cases[i].args);
      if (run.status != cases[i].status)
        g_test_message ("case %u: stderr: %s", i, run.err);
      g_assert_cmpint (run.status, ==, cases[i].status);
      g_assert_cmpstr (run.out, ==, "");
      g_assert_true (g_str_has_prefix (run.err, "msgobj: ") || cases[i].status == 2);
    }
}

static GSubprocessLauncher *
tool_launcher (GSubprocessFlags flags)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (flags);

  g_subprocess_launcher_unsetenv (launcher, "MSGOBJ_CONFIG");
  g_subprocess_launcher_setenv (launcher, "XDG_DATA_HOME", g_get_user_data_dir (), TRUE);
  g_subprocess_launcher_setenv (launcher, "XDG_CONFIG_HOME", g_get_user_config_dir (), TRUE);
  return launcher;
}

static void
test_interrupt (void)
{
  g_autoptr (MsgTestServer) server = msg_test_server_new ("line 220 stalls after this\nstall\n");
  g_autoptr (GSubprocessLauncher) launcher = tool_launcher (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                            G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *port = g_strdup_printf ("smtpserverport=%u", msg_test_server_get_port (server));
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  gint64           until = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  gint64           start;

  g_test_summary ("Ctrl-C during a send cancels it: exit code 6, and the server sees the close.");
  process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("MSGOBJ_TEST_TOOL"), "send",
                                         "--set", "sendusing=smtp", "--set", "smtpserver=127.0.0.1",
                                         "--set", port, "--set", "smtpconnectiontimeout=60",
                                         "--from", "a@example.test", "--to", "b@example.test",
                                         "--subject", "Never sent", "--text", "body", NULL);
  g_assert_no_error (error);
  /* The tool is connected and waits for the EHLO reply that never comes. */
  while (msg_test_server_get_n_connections (server) == 0 && g_get_monotonic_time () < until)
    g_usleep (10 * 1000);
  g_assert_cmpuint (msg_test_server_get_n_connections (server), ==, 1);

  start = g_get_monotonic_time ();
  g_subprocess_send_signal (process, SIGINT);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  msg_test_assert_elapsed_below (start, 2000);
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 6);
  g_assert_cmpstr (out, ==, "");
  g_assert_true (g_str_has_prefix (err, "msgobj: "));
  g_assert_true (msg_test_server_wait_closed (server, 1000));
}

static void
test_trace_on_stderr (void)
{
  const char *const script = "line 220 mx.example.test ESMTP\n"
                             "expect EHLO\nline 250 mx.example.test\n"
                             "expect MAIL\nline 250 2.1.0 Ok\n"
                             "expect RCPT\nline 250 2.1.5 Ok\n"
                             "expect DATA\nline 354 go\ndata\nline 250 2.0.0 Ok: queued\n"
                             "expect QUIT\nline 221 bye\n";
  const char *const envs[] = { NULL, "msgobj" };

  g_test_summary ("msgobj --verbose (or G_MESSAGES_DEBUG=msgobj) writes the protocol "
                  "trace to stderr; stdout has only the result line.");
  for (gsize i = 0; i < G_N_ELEMENTS (envs); i++)
    {
      g_autoptr (MsgTestServer) server = msg_test_server_new (script);
      g_autoptr (GSubprocessLauncher) launcher = tool_launcher (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                                                G_SUBPROCESS_FLAGS_STDERR_PIPE);
      g_autoptr (GSubprocess) process = NULL;
      g_autoptr (GError) error = NULL;
      g_autofree char *set_server = g_strdup_printf ("smtpserver=127.0.0.1:%u", msg_test_server_get_port (server));
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;

      if (envs[i] != NULL)
        g_subprocess_launcher_setenv (launcher, "G_MESSAGES_DEBUG", envs[i], TRUE);
      else
        g_subprocess_launcher_unsetenv (launcher, "G_MESSAGES_DEBUG");
      process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("MSGOBJ_TEST_TOOL"), "send",
                                             envs[i] == NULL ? "--verbose" : "--quiet",
                                             "--set", "sendusing=smtp", "--set", set_server,
                                             "--from", "a@example.test", "--to", "b@example.test",
                                             "--subject", "Traced", "--text", "body", NULL);
      g_assert_no_error (error);
      g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
      g_assert_no_error (error);
      g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
      g_assert_nonnull (strstr (err, "C: EHLO"));
      g_assert_nonnull (strstr (err, "S: 250 2.0.0 Ok: queued"));
      g_assert_null (strstr (out, "C: "));
      g_assert_null (strstr (out, "S: "));
      if (envs[i] == NULL)
        {
          g_auto (GStrv) lines = g_strsplit (out, "\n", -1);

          /* One line: the Message-ID and the server's reply. */
          g_assert_true (g_str_has_prefix (out, "<"));
          g_assert_nonnull (strstr (out, "Ok: queued\n"));
          g_assert_cmpuint (g_strv_length (lines), ==, 2);
        }
      else
        g_assert_cmpstr (out, ==, "");
    }
}

static void
test_progress_bar (void)
{
  g_autoptr (GSubprocessLauncher) launcher = tool_launcher (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) tty = g_string_new (NULL);
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *big = g_build_filename (dir, "big.bin", NULL);
  g_autofree char *contents = g_malloc0 (2 * 1024 * 1024);
  int              master;
  int              slave;
  char             buffer[4096];
  gssize           n;

  g_test_summary ("When stderr is a terminal, a large send draws a progress bar there.");
  g_assert_true (g_file_set_contents (big, contents, 2 * 1024 * 1024, NULL));
  g_assert_cmpint (openpty (&master, &slave, NULL, NULL, NULL), ==, 0);
  g_subprocess_launcher_take_stderr_fd (launcher, slave);
  process = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("MSGOBJ_TEST_TOOL"), "send",
                                         "--from", "a@example.test", "--to", "b@example.test",
                                         "--subject", "Big", "--text", "see attached",
                                         "--attach", big, NULL);
  g_assert_no_error (error);
  /* The launcher keeps its copy of the slave until it is freed. */
  g_clear_object (&launcher);
  /* Read the terminal until the tool has gone (EIO once no slave is open). */
  while ((n = read (master, buffer, sizeof buffer)) > 0)
    g_string_append_len (tty, buffer, n);
  close (master);
  g_subprocess_wait (process, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
  g_assert_nonnull (strstr (tty->str, "100%"));
  g_assert_nonnull (strstr (tty->str, "] "));
  msg_test_remove_tree (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/tool/send-pickup", test_send_pickup);
  g_test_add_func ("/tool/send-server-only", test_send_server_only);
  g_test_add_func ("/tool/libraries-loaded", test_libraries_loaded);
  g_test_add_func ("/tool/show", test_show);
  g_test_add_func ("/tool/show-escapes", test_show_escapes);
  g_test_add_func ("/tool/show-attachments", test_show_attachments);
  g_test_add_func ("/tool/show-json-raw", test_show_json_raw);
  g_test_add_func ("/tool/password-file", test_password_file);
  g_test_add_func ("/tool/send-headers", test_send_headers);
  g_test_add_func ("/tool/send-charset-related", test_send_charset_related);
  g_test_add_func ("/tool/send-dsn", test_send_dsn);
  g_test_add_func ("/tool/send-file", test_send_file);
  g_test_add_func ("/tool/reply-forward", test_reply_forward);
  g_test_add_func ("/tool/fields", test_fields);
  g_test_add_func ("/tool/post-file-reply-stdin", test_post_file_reply_stdin);
  g_test_add_func ("/tool/verbose-redacts", test_verbose_redacts);
  g_test_add_func ("/tool/man-completion", test_man_completion);
  g_test_add_func ("/tool/transports", test_transports);
  g_test_add_func ("/tool/exit-codes", test_exit_codes);
  g_test_add_func ("/tool/interrupt", test_interrupt);
  g_test_add_func ("/tool/progress-bar", test_progress_bar);
  g_test_add_func ("/tool/trace-on-stderr", test_trace_on_stderr);

  return g_test_run ();
}
