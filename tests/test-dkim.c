/* test-dkim.c: DKIM signing (issue 19): fields, keys, what is signed
 *
 * The message shapes and dkimpy's verdicts are in python/test_dkim.py;
 * this suite runs under valgrind and checks the signatures with
 * OpenDKIM's own verifier (dkim-verify.c).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-crypto-utils.h"
#include "test-utils.h"

#include "msg-test-server.h"

#include <dlfcn.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

typedef struct
{
  char *dir;        /* (owned): the test's directory */
  char *pickup;     /* (owned): the pickup directory in it */
  char *key;        /* (owned): the private key file */
  char *query_file; /* (owned): libopendkim's key-query file */
} Fixture;

/* Makes a key pair with `msgobj dkim-keygen` and the verifier's key file
 * from the record it prints. */
static void
make_key (Fixture    *f,
          const char *algorithm)
{
  const char      *tool = g_getenv ("MSGOBJ_TEST_TOOL");
  const char      *argv[] = { tool, "dkim-keygen", "--domain", "example.test", "--selector", "sel",
                              "--algorithm", algorithm, "--output-dir", f->dir, NULL };
  g_autofree char *out = NULL;
  g_autoptr (GString) record = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *keys = NULL;
  int              status = 0;

  g_assert_nonnull (tool);
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  /* The record is the quoted strings of the zone-file line, joined. */
  for (const char *p = strchr (out, '"'); p != NULL; p = strchr (p, '"'))
    {
      const char *end = strchr (p + 1, '"');

      g_assert_nonnull (end);
      g_string_append_len (record, p + 1, end - p - 1);
      p = end + 1;
    }
  g_assert_true (g_str_has_prefix (record->str, "v=DKIM1; "));
  f->key = g_build_filename (f->dir, "sel.private", NULL);
  f->query_file = g_build_filename (f->dir, "keys", NULL);
  keys = g_strdup_printf ("sel._domainkey.example.test %s\n", record->str);
  g_assert_true (g_file_set_contents (f->query_file, keys, -1, NULL));
}

static void
fixture_setup (Fixture      *f,
               gconstpointer data)
{
  f->dir = msg_test_make_temp_dir ();
  f->pickup = g_build_filename (f->dir, "pickup", NULL);
  g_assert_cmpint (g_mkdir (f->pickup, 0700), ==, 0);
  make_key (f, data != NULL ? data : "rsa-sha256");
}

static void
fixture_teardown (Fixture      *f,
                  gconstpointer data)
{
  msg_test_remove_tree (f->dir);
  g_free (f->dir);
  g_free (f->pickup);
  g_free (f->key);
  g_free (f->query_file);
}

static MsgConfiguration *
signing_configuration (Fixture    *f,
                       const char *algorithm)
{
  MsgConfiguration *configuration = msg_configuration_new ();

  msg_test_config_set (configuration, "smtpserverpickupdirectory", f->pickup);
  msg_test_config_set (configuration, "nntpserverpickupdirectory", f->pickup);
  msg_test_config_set (configuration, "dkimsign", "true");
  msg_test_config_set (configuration, "dkimdomain", "example.test");
  msg_test_config_set (configuration, "dkimselector", "sel");
  msg_test_config_set (configuration, "dkimprivatekeyfile", f->key);
  msg_test_config_set (configuration, "dkimalgorithm", algorithm);
  return configuration;
}

static MsgMessage *
make_message (MsgConfiguration *configuration)
{
  MsgMessage *message = msg_message_new_with_configuration (configuration);

  g_assert_true (msg_message_set_from (message, "Alice <alice@example.test>", NULL));
  g_assert_true (msg_message_set_to (message, "bob@example.test", NULL));
  g_assert_true (msg_message_set_bcc (message, "hidden@example.test", NULL));
  g_assert_true (msg_message_set_subject (message, "Grüße, signed", NULL));
  g_assert_true (msg_message_set_newsgroups (message, "comp.test", NULL));
  msg_message_set_text_body (message, "line one\nline two\r\n.leading dot\n\n\n");
  return message;
}

/* OpenDKIM's verdict on @contents. */
static gboolean
opendkim_verifies (Fixture    *f,
                   const char *contents,
                   gsize       length)
{
  g_autofree char *path = g_build_filename (f->dir, "verify.eml", NULL);
  const char      *argv[] = { g_getenv ("MSGOBJ_TEST_DKIM_VERIFY"), f->query_file, path, NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *out = NULL;
  int              status = 0;

  g_assert_nonnull (argv[0]);
  g_assert_true (g_file_set_contents (path, contents, (gssize) length, NULL));
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, NULL, &status, &error);
  g_assert_no_error (error);
  g_test_message ("dkim-verify: %s", out);
  return g_spawn_check_wait_status (status, NULL);
}

static char *
send_and_read (MsgMessage *message,
               gboolean    post,
               gsize      *length)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgSendReport) report = NULL;
  char *contents = NULL;

  report = post ? msg_message_post (message, NULL, &error) : msg_message_send (message, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (msg_send_report_get_pickup_file (report), &contents, length, NULL));
  return contents;
}

/* Every signature verifies; a changed body byte or header fails. */
static void
test_pickup_verifies (Fixture      *f,
                      gconstpointer data)
{
  g_autoptr (MsgConfiguration) configuration = signing_configuration (f, data);
  g_autoptr (MsgMessage) message = make_message (configuration);
  g_autofree char *contents = NULL;
  gsize            length = 0;
  char            *p;

  contents = send_and_read (message, FALSE, &length);
  g_assert_true (g_str_has_prefix (contents, "DKIM-Signature: v=1; a="));
  g_assert_nonnull (strstr (contents, (const char *) data));
  g_assert_true (opendkim_verifies (f, contents, length));

  p = strstr (contents, "line two");
  g_assert_nonnull (p);
  p[0] = 'L';
  g_assert_false (opendkim_verifies (f, contents, length));
  p[0] = 'l';
  p = strstr (contents, "\r\nTo: bob@");
  g_assert_nonnull (p);
  p[6] = 'B';
  g_assert_false (opendkim_verifies (f, contents, length));
}

/* A server without 8BITMIME gets the 8-bit part re-encoded, and the
 * signature covers that form, without Bcc, before dot-stuffing. */
static void
test_smtp_downgrade (Fixture      *f,
                     gconstpointer data)
{
  g_autoptr (MsgConfiguration) configuration = signing_configuration (f, data);
  g_autoptr (MsgMessage) message = make_message (configuration);
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) signed_message = NULL;
  g_autofree char *wire = NULL;
  g_autofree char *port = NULL;
  MsgTestServer   *server;

  server = msg_test_server_new ("line 220 mx.example.test ESMTP\n"
                                "expect EHLO\nline 250-mx.example.test\nline 250 SIZE 1000000\n"
                                "expect MAIL\nline 250 ok\nexpect RCPT\nline 250 ok\n"
                                "expect RCPT\nline 250 ok\nexpect DATA\nline 354 go\ndata\n"
                                "line 250 queued\nexpect QUIT\nline 221 bye\n");
  port = g_strdup_printf ("%u", msg_test_server_get_port (server));
  msg_test_config_set (configuration, "sendusing", "smtp");
  msg_test_config_set (configuration, "smtpserver", "127.0.0.1");
  msg_test_config_set (configuration, "smtpserverport", port);
  msg_test_config_set (configuration, "smtpstarttls", "never");
  msg_message_set_text_body (message, "Grüße aus Köln\n");
  {
    g_autoptr (GBytes) dot = g_bytes_new_static (".leading dot\r\n", 14);
    MsgBodyPart *part = msg_message_add_attachment_bytes (message, dot, "dot.txt", "text/plain", &error);

    g_assert_no_error (error);
    g_assert_nonnull (part);
  }
  report = msg_message_send (message, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (msg_test_server_wait_closed (server, 5000));
  wire = msg_test_server_get_received_text (server, 0);
  msg_test_server_free (server);

  g_assert_null (strstr (wire, "BODY=8BITMIME"));
  g_assert_nonnull (strstr (wire, "\r\n..leading dot\r\n"));
  signed_message = msg_test_undo_data (wire);
  g_assert_true (g_str_has_prefix (signed_message->str, "DKIM-Signature: "));
  /* No Bcc field and no trace of its address. Not "Bcc" anywhere: the
   * signature's base64 holds those three letters about once in 500 runs. */
  g_assert_null (strstr (signed_message->str, "\r\nBcc:"));
  g_assert_null (strstr (signed_message->str, "hidden@example.test"));
  g_assert_true (strstr (signed_message->str, "Content-Transfer-Encoding: quoted-printable") != NULL ||
                 strstr (signed_message->str, "Content-Transfer-Encoding: base64") != NULL);
  for (gsize i = 0; i < signed_message->len; i++)
    g_assert_cmpuint ((guchar) signed_message->str[i], <, 128);
  g_assert_true (opendkim_verifies (f, signed_message->str, signed_message->len));
  /* The DATA stream itself (dot-stuffed) does not verify. */
  {
    const char *p = strstr (wire, "\r\nDATA\r\n") + 8;

    g_assert_false (opendkim_verifies (f, p, strlen (p)));
  }
}

/* News is not signed: DKIM is a mail signature. */
static void
test_post_not_signed (Fixture      *f,
                      gconstpointer data)
{
  g_autoptr (MsgConfiguration) configuration = signing_configuration (f, "rsa-sha256");
  g_autoptr (MsgMessage) message = make_message (configuration);
  g_autofree char *contents = NULL;
  gsize            length = 0;

  contents = send_and_read (message, TRUE, &length);
  g_assert_null (strstr (contents, "DKIM-Signature"));
}

static guint
count_files (const char *dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  while (g_dir_read_name (d) != NULL)
    n++;
  return n;
}

/* A refused key fails the send with an error naming the file, and nothing
 * is written. */
static void
expect_refused (Fixture          *f,
                MsgConfiguration *configuration,
                GQuark            domain,
                int               code,
                const char       *file,
                const char       *words)
{
  g_autoptr (MsgMessage) message = make_message (configuration);
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;

  report = msg_message_send (message, NULL, &error);
  g_assert_null (report);
  g_assert_error (error, domain, code);
  g_test_message ("%s", error->message);
  if (file != NULL)
    g_assert_nonnull (strstr (error->message, file));
  g_assert_nonnull (strstr (error->message, words));
  g_assert_cmpuint (count_files (f->pickup), ==, 0);
}

static void
test_key_mode (Fixture      *f,
               gconstpointer data)
{
  g_autoptr (MsgConfiguration) configuration = signing_configuration (f, "rsa-sha256");

  g_assert_cmpint (g_chmod (f->key, 0640), ==, 0);
  expect_refused (f, configuration, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE, f->key,
                  "mode 0640");
  g_assert_cmpint (g_chmod (f->key, 0604), ==, 0);
  expect_refused (f, configuration, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE, f->key,
                  "chmod 600");
}

static void
test_bad_keys (Fixture      *f,
               gconstpointer data)
{
  g_autoptr (MsgConfiguration) configuration = signing_configuration (f, "ed25519-sha256");
  g_autofree char *missing = g_build_filename (f->dir, "missing.private", NULL);
  g_autofree char *garbage = g_build_filename (f->dir, "garbage.private", NULL);

  /* An RSA key for an Ed25519 signature. */
  expect_refused (f, configuration, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE, f->key,
                  "ed25519-sha256");

  g_assert_true (g_file_set_contents (garbage, "-----BEGIN PRIVATE KEY-----\nbm90IGEga2V5\n-----END PRIVATE KEY-----\n", -1, NULL));
  g_assert_cmpint (g_chmod (garbage, 0600), ==, 0);
  msg_test_config_set (configuration, "dkimalgorithm", "rsa-sha256");
  msg_test_config_set (configuration, "dkimprivatekeyfile", garbage);
  expect_refused (f, configuration, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE, garbage,
                  "does not hold a PEM private key");

  msg_test_config_set (configuration, "dkimprivatekeyfile", missing);
  expect_refused (f, configuration, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, missing, "dkimprivatekeyfile");

  msg_test_config_set (configuration, "dkimprivatekeyfile", f->key);
  msg_test_config_set (configuration, "dkimdomain", "exa mple.test");
  expect_refused (f, configuration, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE, NULL,
                  "dkimdomain");
  g_assert_true (msg_configuration_reset_field (configuration, "dkimdomain", NULL));
  expect_refused (f, configuration, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE, NULL,
                  "dkimdomain is not set");
}

/* Sends @message with @transport, returning the pickup file's contents. */
static char *
transport_send_and_read (MsgTransport *transport,
                         MsgMessage   *message,
                         gsize        *length)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgSendReport) report = NULL;
  char *contents = NULL;

  report = msg_transport_send_message (transport, message, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (msg_send_report_get_pickup_file (report), &contents, length, NULL));
  g_assert_cmpint (g_unlink (msg_send_report_get_pickup_file (report)), ==, 0);
  return contents;
}

/* One transport reads, checks and loads the key once for many sends, but
 * sees a change of the file at the next send: a chmod that opens it to
 * others is refused, a key put in its place (a rotation, by rename) is the
 * one that signs. */
static void
test_key_reused_until_changed (Fixture      *f,
                               gconstpointer data)
{
  g_autoptr (MsgConfiguration) configuration = signing_configuration (f, data);
  g_autoptr (MsgMessage) message = make_message (configuration);
  g_autoptr (MsgTransport) transport = NULL;
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  Fixture rotated = { g_build_filename (f->dir, "rotated", NULL), NULL, NULL, NULL };
  char   *contents;
  gsize   length = 0;

  transport = msg_transport_new_for_name ("pickup", configuration, &error);
  g_assert_no_error (error);
  for (int i = 0; i < 3; i++)
    {
      contents = transport_send_and_read (transport, message, &length);
      g_assert_true (opendkim_verifies (f, contents, length));
      g_free (contents);
    }

  g_assert_cmpint (g_chmod (f->key, 0644), ==, 0);
  report = msg_transport_send_message (transport, message, NULL, &error);
  g_assert_null (report);
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE);
  g_assert_nonnull (strstr (error->message, "mode 0644"));
  g_clear_error (&error);
  g_assert_cmpuint (count_files (f->pickup), ==, 0);
  g_assert_cmpint (g_chmod (f->key, 0600), ==, 0);
  contents = transport_send_and_read (transport, message, &length);
  g_assert_true (opendkim_verifies (f, contents, length));
  g_free (contents);

  g_assert_cmpint (g_mkdir (rotated.dir, 0700), ==, 0);
  make_key (&rotated, data);
  g_assert_cmpint (g_rename (rotated.key, f->key), ==, 0);
  contents = transport_send_and_read (transport, message, &length);
  g_assert_true (opendkim_verifies (&rotated, contents, length));
  g_assert_false (opendkim_verifies (f, contents, length));
  g_free (contents);

  g_free (rotated.dir);
  g_free (rotated.key);
  g_free (rotated.query_file);
}

/* The traditional PEM form of an RSA key ("BEGIN RSA PRIVATE KEY", as
 * `openssl genrsa` and `opendkim-genkey` write it) signs as the PKCS#8 one
 * `msgobj dkim-keygen` writes does. (An Ed25519 key has only the PKCS#8
 * form, tested in /dkim/pickup/ed25519.) */
static void
test_traditional_rsa_key (Fixture      *f,
                          gconstpointer data)
{
  g_autoptr (MsgConfiguration) configuration = signing_configuration (f, "rsa-sha256");
  g_autoptr (MsgMessage) message = NULL;
  g_autofree char *traditional = g_build_filename (f->dir, "traditional.private", NULL);
  const char      *argv[] = { "openssl", "rsa", "-traditional", "-in", f->key, "-out", traditional, NULL };
  g_autoptr (GError) error = NULL;
  g_autofree char *pem = NULL;
  g_autofree char *contents = NULL;
  gsize            length = 0;
  int              status = 0;

  g_assert_true (g_file_get_contents (f->key, &pem, NULL, NULL));
  g_assert_true (g_str_has_prefix (pem, "-----BEGIN PRIVATE KEY-----\n"));
  g_clear_pointer (&pem, g_free);
  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL,
                NULL, &status, &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  g_assert_cmpint (g_chmod (traditional, 0600), ==, 0);
  g_assert_true (g_file_get_contents (traditional, &pem, NULL, NULL));
  g_assert_true (g_str_has_prefix (pem, "-----BEGIN RSA PRIVATE KEY-----\n"));

  msg_test_config_set (configuration, "dkimprivatekeyfile", traditional);
  message = make_message (configuration);
  contents = send_and_read (message, FALSE, &length);
  g_assert_true (opendkim_verifies (f, contents, length));
}

static void
test_fields (void)
{
  g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *headers = msg_configuration_get_field (configuration, "dkimheaders");
  g_autofree char *canon = msg_configuration_get_field (configuration, "dkimcanonicalization");
  g_autofree char *algorithm = NULL;
  g_autofree char *value = NULL;

  g_assert_false (msg_configuration_get_boolean (configuration, "dkimsign"));
  g_assert_true (msg_configuration_get_boolean (configuration, "dkimoversignfrom"));
  g_assert_cmpstr (headers, ==, "From:To:Cc:Subject:Date:Message-ID:MIME-Version:Content-Type:Reply-To:"
                                "In-Reply-To:References:List-Unsubscribe");
  g_assert_cmpstr (canon, ==, "relaxed/relaxed");
  algorithm = msg_configuration_get_field (configuration, MSG_CONFIGURATION_NAMESPACE "dkimalgorithm");
  g_assert_cmpstr (algorithm, ==, "rsa-sha256");

  msg_test_config_set (configuration, "dkimheaders", "from, subject date");
  value = msg_configuration_get_field (configuration, "dkimheaders");
  g_assert_cmpstr (value, ==, "from:subject:date");

  g_assert_false (msg_configuration_set_field (configuration, "dkimheaders", "From:Bcc", &error));
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE);
  g_assert_nonnull (strstr (error->message, "Bcc"));
  g_clear_error (&error);
  g_assert_false (msg_configuration_set_field (configuration, "dkimheaders", "To:Subject", &error));
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE);
  g_assert_nonnull (strstr (error->message, "From must be signed"));
  g_clear_error (&error);
  g_assert_false (msg_configuration_set_field (configuration, "dkimalgorithm", "rsa-sha1", &error));
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE);
  g_clear_error (&error);
  g_assert_false (msg_configuration_set_field (configuration, "dkimcanonicalization", "loose", &error));
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE);
}

/* Whether a file whose name contains @name is mapped in this process. */
/* libopendkim comes with the DKIM module, loaded by the first send that
 * is signed: a process that only sends unsigned mail never loads it, nor
 * libsoup (docs/design.md, decision 24). In a subprocess: this one may
 * have signed already. */
static void
test_module_loaded_on_first_use (Fixture      *f,
                                 gconstpointer data)
{
  if (g_test_subprocess ())
    {
      g_autoptr (MsgConfiguration) plain = msg_configuration_new ();
      g_autoptr (MsgConfiguration) signing = signing_configuration (f, "rsa-sha256");
      g_autoptr (MsgMessage) unsigned_message = NULL;
      g_autoptr (MsgMessage) signed_message = NULL;
      g_autofree char *contents = NULL;
      gsize            length = 0;

      g_assert_false (msg_test_is_mapped ("libopendkim"));
      g_assert_false (msg_test_is_mapped ("msgobj-dkim.so"));
      msg_test_config_set (plain, "smtpserverpickupdirectory", f->pickup);
      unsigned_message = make_message (plain);
      contents = send_and_read (unsigned_message, FALSE, &length);
      g_assert_null (strstr (contents, "DKIM-Signature:"));
      g_assert_false (msg_test_is_mapped ("libopendkim"));
      g_assert_false (msg_test_is_mapped ("msgobj-dkim.so"));
      g_clear_pointer (&contents, g_free);

      signed_message = make_message (signing);
      contents = send_and_read (signed_message, FALSE, &length);
      g_assert_true (g_str_has_prefix (contents, "DKIM-Signature:"));
      g_assert_true (msg_test_is_mapped ("msgobj-dkim.so"));
      g_assert_true (msg_test_is_mapped ("libopendkim"));
      g_assert_false (msg_test_is_mapped ("libsoup-3.0"));
      g_assert_false (msg_test_is_mapped ("msgobj-web.so"));
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* Runs `msgobj send` of a signed message to the pickup directory with
 * the library through a symbolic link in @lib_dir, first on
 * LD_LIBRARY_PATH: the library looks for its modules beside that link.
 * The send must fail; returns its standard error. Nothing may be in the
 * pickup directory. */
static char *
send_with_library_in (Fixture    *f,
                      const char *lib_dir)
{
  g_autofree char *link = g_build_filename (lib_dir, "libmsgobj-1.0.so.0", NULL);
  g_autofree char *library_path = NULL;
  g_autofree char *message_path = g_build_filename (f->dir, "message.eml", NULL);
  g_autofree char *pickup_set = g_strdup_printf ("smtpserverpickupdirectory=%s", f->pickup);
  g_autofree char *key_set = g_strdup_printf ("dkimprivatekeyfile=%s", f->key);
  g_autofree char *out = NULL;
  char            *err = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) pickup = NULL;
  g_auto (GStrv) envp = g_get_environ ();
  const char *argv[] = { g_getenv ("MSGOBJ_TEST_TOOL"), "--set", "sendusing=1", "--set", pickup_set,
                         "--set", "dkimsign=true", "--set", "dkimdomain=example.test",
                         "--set", "dkimselector=sel", "--set", key_set, "send", message_path, NULL };
  Dl_info     info = { 0 };
  int         status = 0;

  g_assert_nonnull (argv[0]);
  g_assert_cmpint (dladdr ((void *) msg_message_new, &info), !=, 0);
  g_assert_nonnull (info.dli_fname);
  g_assert_cmpint (symlink (info.dli_fname, link), ==, 0);
  g_assert_true (g_file_set_contents (message_path,
                                      "From: alice@example.test\r\nTo: bob@example.test\r\n"
                                      "Subject: signed\r\n\r\nbody\r\n",
                                      -1, NULL));
  library_path = g_strjoin (":", lib_dir, g_environ_getenv (envp, "LD_LIBRARY_PATH"), NULL);
  envp = g_environ_setenv (envp, "LD_LIBRARY_PATH", library_path, TRUE);
  envp = g_environ_setenv (envp, "HOME", f->dir, TRUE);

  g_spawn_sync (NULL, (char **) argv, envp, G_SPAWN_DEFAULT, NULL, NULL, &out, &err, &status, &error);
  g_assert_no_error (error);
  g_test_message ("msgobj send: %s", err);
  g_assert_false (g_spawn_check_wait_status (status, NULL));
  g_assert_nonnull (strstr (err, "DKIM signing is on (dkimsign) but cannot be done"));
  pickup = g_dir_open (f->pickup, 0, NULL);
  g_assert_nonnull (pickup);
  g_assert_null (g_dir_read_name (pickup));
  return err;
}

/* A library whose DKIM module is not where it looks (beside the library
 * file, as loaded) fails a signed send with an error naming the module,
 * and writes nothing. */
static void
test_module_missing (Fixture      *f,
                     gconstpointer data)
{
  g_autofree char *lib_dir = g_build_filename (f->dir, "lib", NULL);
  g_autofree char *err = NULL;

  g_assert_cmpint (g_mkdir (lib_dir, 0700), ==, 0);
  err = send_with_library_in (f, lib_dir);
  g_assert_nonnull (strstr (err, "msgobj-dkim.so"));
  g_assert_nonnull (strstr (err, "is not installed"));
}

/* A module that others can write to is not loaded, as for transports:
 * loading it would run their code. */
static void
test_module_writable (Fixture      *f,
                      gconstpointer data)
{
  g_autofree char *lib_dir = g_build_filename (f->dir, "lib", NULL);
  g_autofree char *modules = g_build_filename (lib_dir, "modules", NULL);
  g_autofree char *copy = g_build_filename (modules, "msgobj-dkim.so", NULL);
  g_autofree char *library_dir = NULL;
  g_autofree char *real = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *err = NULL;
  Dl_info          info = { 0 };
  gsize            length = 0;

  g_assert_cmpint (dladdr ((void *) msg_message_new, &info), !=, 0);
  /* The module of the build tree, beside the library. */
  library_dir = g_path_get_dirname (info.dli_fname);
  real = g_build_filename (library_dir, "modules", "msgobj-dkim.so", NULL);
  g_assert_true (g_file_get_contents (real, &contents, &length, NULL));
  g_assert_cmpint (g_mkdir_with_parents (modules, 0700), ==, 0);
  g_assert_true (g_file_set_contents (copy, contents, (gssize) length, NULL));
  g_assert_cmpint (g_chmod (copy, 0666), ==, 0);
  err = send_with_library_in (f, lib_dir);
  g_assert_nonnull (strstr (err, "Not loading the library's module"));
  g_assert_nonnull (strstr (err, "other users can write"));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/dkim/fields", test_fields);
  g_test_add ("/dkim/pickup/rsa", Fixture, "rsa-sha256", fixture_setup, test_pickup_verifies, fixture_teardown);
  g_test_add ("/dkim/pickup/ed25519", Fixture, "ed25519-sha256", fixture_setup, test_pickup_verifies,
              fixture_teardown);
  g_test_add ("/dkim/smtp-downgrade/rsa", Fixture, "rsa-sha256", fixture_setup, test_smtp_downgrade,
              fixture_teardown);
  g_test_add ("/dkim/smtp-downgrade/ed25519", Fixture, "ed25519-sha256", fixture_setup, test_smtp_downgrade,
              fixture_teardown);
  g_test_add ("/dkim/key-reused/rsa", Fixture, "rsa-sha256", fixture_setup, test_key_reused_until_changed,
              fixture_teardown);
  g_test_add ("/dkim/key-reused/ed25519", Fixture, "ed25519-sha256", fixture_setup, test_key_reused_until_changed,
              fixture_teardown);
  g_test_add ("/dkim/traditional-rsa-key", Fixture, NULL, fixture_setup, test_traditional_rsa_key, fixture_teardown);
  g_test_add ("/dkim/post-not-signed", Fixture, NULL, fixture_setup, test_post_not_signed, fixture_teardown);
  g_test_add ("/dkim/key-mode", Fixture, NULL, fixture_setup, test_key_mode, fixture_teardown);
  g_test_add ("/dkim/bad-keys", Fixture, NULL, fixture_setup, test_bad_keys, fixture_teardown);
  g_test_add ("/dkim/module/loaded-on-first-use", Fixture, NULL, fixture_setup, test_module_loaded_on_first_use,
              fixture_teardown);
  g_test_add ("/dkim/module/missing", Fixture, NULL, fixture_setup, test_module_missing, fixture_teardown);
  g_test_add ("/dkim/module/writable", Fixture, NULL, fixture_setup, test_module_writable, fixture_teardown);

  return g_test_run ();
}
