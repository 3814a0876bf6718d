/* test-utils.c: helpers shared by the C test suites
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-utils.h"

#include <glib/gstdio.h>
#include <string.h>

static GMutex   log_mutex;
static GString *log_text;

static GLogWriterOutput
log_writer (GLogLevelFlags   level,
            const GLogField *fields,
            gsize            n_fields,
            gpointer         user_data)
{
  const char *message = NULL;

  for (gsize i = 0; i < n_fields; i++)
    if (g_str_equal (fields[i].key, "MESSAGE"))
      message = fields[i].value;

  g_mutex_lock (&log_mutex);
  g_string_append_printf (log_text, "%s\n", message != NULL ? message : "");
  g_mutex_unlock (&log_mutex);

  /* The warning that tlsverify=false must give is expected (and checked). */
  if ((level & G_LOG_LEVEL_MASK) == G_LOG_LEVEL_WARNING &&
      message != NULL && strstr (message, "tlsverify is off") != NULL)
    return G_LOG_WRITER_HANDLED;
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    {
      g_log_writer_default (level, fields, n_fields, user_data);
      g_test_fail ();
    }
  return G_LOG_WRITER_HANDLED;
}

void
msg_test_capture_log (void)
{
  g_mutex_lock (&log_mutex);
  if (log_text == NULL)
    log_text = g_string_new (NULL);
  g_mutex_unlock (&log_mutex);
  g_log_set_writer_func (log_writer, NULL, NULL);
}

char *
msg_test_steal_log (void)
{
  char *text;

  g_mutex_lock (&log_mutex);
  text = g_strdup (log_text != NULL ? log_text->str : "");
  if (log_text != NULL)
    g_string_truncate (log_text, 0);
  g_mutex_unlock (&log_mutex);
  return text;
}

unsigned
msg_test_count_fds (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  unsigned n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  /* The directory listing itself holds one descriptor. */
  return n - 1;
}

unsigned
msg_test_count_sockets (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  const char *name;
  unsigned    n = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/fd", name, NULL);
      g_autofree char *target = g_file_read_link (path, NULL);

      if (target != NULL && g_str_has_prefix (target, "socket:"))
        n++;
    }
  return n;
}

double
msg_test_time_scale (void)
{
  const char *text = g_getenv ("MSGOBJ_TEST_TIME_SCALE");
  double      scale = text != NULL ? g_ascii_strtod (text, NULL) : 1;

  return scale >= 1 ? scale : 1;
}

unsigned
msg_test_wait_fds (unsigned expected,
                   unsigned timeout_ms)
{
  gint64   until = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  unsigned n;

  while ((n = msg_test_count_fds ()) > expected && g_get_monotonic_time () < until)
    g_usleep (1000);
  return n;
}

char *
msg_test_make_temp_dir (void)
{
  g_autoptr (GError) error = NULL;
  char *path = g_dir_make_tmp ("msgobj-test-XXXXXX", &error);

  g_assert_no_error (error);
  return path;
}

void
msg_test_remove_tree (const char *path)
{
  g_autoptr (GDir) dir = NULL;
  const char *name;

  if (path == NULL)
    return;
  dir = g_dir_open (path, 0, NULL);
  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR) &&
              !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            msg_test_remove_tree (child);
          else
            g_unlink (child);
        }
    }
  g_rmdir (path);
}

static void
run_openssl (const char        *dir,
             const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *err_text = NULL;
  int              status = 0;

  g_ptr_array_add (argv, (gpointer) "openssl");
  for (unsigned i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (dir, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL,
                NULL, NULL, NULL, &err_text, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, &error))
    g_printerr ("openssl: %s\n", err_text);
  g_assert_no_error (error);
}

GTlsCertificate *
msg_test_make_tls_certificate (const char *const *names,
                               char             **ca_file)
{
  static const char *const default_names[] = { "127.0.0.1", "localhost", NULL };
  const char              *base = g_getenv ("G_TEST_TMPDIR");
  g_autofree char *template = g_build_filename (base != NULL ? base : g_get_tmp_dir (),
                                                "msgobj-tls-XXXXXX", NULL);
  g_autoptr (GString) extensions = g_string_new ("basicConstraints=CA:FALSE\n"
                                                 "keyUsage=critical,digitalSignature\n"
                                                 "extendedKeyUsage=serverAuth\n"
                                                 "subjectAltName=");
  g_autofree char *ext_path = NULL;
  g_autofree char *cert_path = NULL;
  g_autofree char *key_path = NULL;
  g_autofree char *serial = g_strdup_printf ("0x%08x%08x", g_random_int (), g_random_int ());
  g_autoptr (GError) error = NULL;
  GTlsCertificate *certificate;
  char            *dir = g_mkdtemp (template);

  g_assert_nonnull (dir);
  if (names == NULL)
    names = default_names;
  for (unsigned i = 0; names[i] != NULL; i++)
    g_string_append_printf (extensions, "%s%s:%s", i > 0 ? "," : "",
                            g_hostname_is_ip_address (names[i]) ? "IP" : "DNS", names[i]);
  g_string_append_c (extensions, '\n');
  ext_path = g_build_filename (dir, "server.ext", NULL);
  g_file_set_contents (ext_path, extensions->str, -1, &error);
  g_assert_no_error (error);

  {
    const char *const ca_args[] = {
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
      "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
      "-subj", "/CN=msgobj test CA",
      "-addext", "basicConstraints=critical,CA:TRUE",
      "-addext", "keyUsage=critical,keyCertSign,cRLSign", NULL
    };
    const char *const csr_args[] = {
      "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
      "-nodes", "-keyout", "server.key", "-out", "server.csr",
      "-subj", "/CN=msgobj test server", NULL
    };
    const char *const sign_args[] = {
      "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
      "-set_serial", serial, "-days", "2", "-extfile", "server.ext",
      "-out", "server.pem", NULL
    };

    run_openssl (dir, ca_args);
    run_openssl (dir, csr_args);
    run_openssl (dir, sign_args);
  }

  cert_path = g_build_filename (dir, "server.pem", NULL);
  key_path = g_build_filename (dir, "server.key", NULL);
  certificate = g_tls_certificate_new_from_files (cert_path, key_path, &error);
  g_assert_no_error (error);
  if (ca_file != NULL)
    *ca_file = g_build_filename (dir, "ca.pem", NULL);
  return certificate;
}
