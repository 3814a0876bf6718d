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

gint64
msg_test_ms_scaled (double ms)
{
  return (gint64) (ms * msg_test_time_scale ());
}

char *
msg_test_seconds_text (double ms)
{
  char buffer[G_ASCII_DTOSTR_BUF_SIZE];

  return g_strdup (g_ascii_dtostr (buffer, sizeof buffer, ms * msg_test_time_scale () / 1000));
}

unsigned
msg_test_wait_sockets (unsigned expected,
                       gint64   timeout_ms)
{
  gint64   until = g_get_monotonic_time () + timeout_ms * 1000;
  unsigned n;

  while ((n = msg_test_count_sockets ()) != expected && g_get_monotonic_time () < until)
    g_usleep (1000);
  return n;
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

gboolean
msg_test_is_mapped (const char *name)
{
  g_autofree char *maps = NULL;

  g_assert_true (g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL));
  return strstr (maps, name) != NULL;
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

void
msg_test_run_openssl (const char        *dir,
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

    msg_test_run_openssl (dir, ca_args);
    msg_test_run_openssl (dir, csr_args);
    msg_test_run_openssl (dir, sign_args);
  }

  cert_path = g_build_filename (dir, "server.pem", NULL);
  key_path = g_build_filename (dir, "server.key", NULL);
  certificate = g_tls_certificate_new_from_files (cert_path, key_path, &error);
  g_assert_no_error (error);
  if (ca_file != NULL)
    *ca_file = g_build_filename (dir, "ca.pem", NULL);
  return certificate;
}

void
msg_test_count_notify_cb (GObject    *object,
                          GParamSpec *pspec,
                          gpointer    counts)
{
  const char *name = g_param_spec_get_name (pspec);

  g_hash_table_insert (counts, (gpointer) name,
                       GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (counts, name)) + 1));
}

guint
msg_test_notified (GHashTable *counts,
                   const char *name)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (counts, name));
}

/* How long the warm-up may take, in seconds, before the scale of
 * msg_test_time_scale(). The first handshake of a process is slow: both
 * sides load glib-networking and GnuTLS, and the client its trust store.
 * Under valgrind (which runs one thread at a time) on a loaded two-core
 * machine it took 4 to 6 s, and failed against the 5 s limit it once had
 * ("Timed out in the TLS handshake"). Nothing is measured here, so the
 * bound is only there to end a hang: half of meson's 60 s for a whole
 * test program, which valgrind's setup multiplies by 10 (30 s x 8 =
 * 240 s of its 600 s). */
#define WARM_UP_TIMEOUT_S 30

void
msg_test_warm_up_tls (GTlsCertificate *certificate,
                      const char      *ca_file)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgTestServer) server = msg_test_server_new ("starttls\nline 220 hi\n");
  g_autoptr (MsgConnection) connection = msg_connection_new ("127.0.0.1", msg_test_server_get_port (server));
  g_autoptr (MsgReply) reply = NULL;
  g_autofree char *server_error = NULL;
  double           timeout = WARM_UP_TIMEOUT_S * msg_test_time_scale ();

  /* The server listens before its thread starts: the connect lands in
   * the backlog whatever the thread is doing, and the handshake waits for
   * it. Done when the greeting came through TLS and the server saw the
   * close: both sides have shaken hands and let go. */
  msg_test_server_set_tls (server, certificate);
  msg_connection_set_tls_ca_file (connection, ca_file);
  msg_connection_set_timeout (connection, timeout);
  msg_connection_connect (connection, TRUE, NULL, &error);
  g_assert_no_error (error);
  reply = msg_connection_read_reply (connection, MSG_REPLY_STYLE_SMTP, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (msg_reply_get_code (reply), ==, 220);
  msg_connection_abort (connection);
  g_assert_true (msg_test_server_wait_closed (server, (unsigned) (timeout * 1000)));
  server_error = msg_test_server_get_error (server);
  g_assert_cmpstr (server_error, ==, NULL);
}

static GTlsCertificate *fixture_certificate;
static char            *fixture_ca_file;
static unsigned         fixture_baseline_fds;

void
msg_test_fixture_init (void)
{
  fixture_certificate = msg_test_make_tls_certificate (NULL, &fixture_ca_file);
  msg_test_warm_up_tls (fixture_certificate, fixture_ca_file);
  fixture_baseline_fds = msg_test_wait_fds (0, 200);
}

void
msg_test_fixture_cleanup (void)
{
  g_clear_object (&fixture_certificate);
  g_clear_pointer (&fixture_ca_file, g_free);
}

GTlsCertificate *
msg_test_fixture_get_certificate (void)
{
  return fixture_certificate;
}

const char *
msg_test_fixture_get_ca_file (void)
{
  return fixture_ca_file;
}

void
msg_test_fixture_setup (MsgTestFixture *f,
                        gconstpointer   data)
{
  f->n_fds = msg_test_wait_fds (fixture_baseline_fds, 1000);
  g_free (msg_test_steal_log ());
}

void
msg_test_fixture_teardown (MsgTestFixture *f,
                           gconstpointer   data)
{
  g_clear_object (&f->transport);
  g_clear_object (&f->config);
  if (f->server != NULL)
    {
      g_autofree char *server_error = NULL;

      g_assert_true (msg_test_server_wait_idle (f->server, 2000));
      server_error = msg_test_server_get_error (f->server);
      g_assert_cmpstr (server_error, ==, NULL);
      g_clear_pointer (&f->server, msg_test_server_free);
    }
  /* Not more than at the start; fewer when a descriptor of an earlier
   * test (a thread's, closing late on a loaded machine) was still open
   * then. */
  g_assert_cmpuint (msg_test_wait_fds (f->n_fds, 1000), <=, f->n_fds);
}

void
msg_test_fixture_expect_server_error (MsgTestFixture *f,
                                      const char     *expected)
{
  g_autofree char *server_error = NULL;

  g_assert_nonnull (f->server);
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  server_error = msg_test_server_get_error (f->server);
  g_assert_nonnull (server_error);
  g_assert_nonnull (strstr (server_error, expected));
  g_clear_pointer (&f->server, msg_test_server_free);
}

void
msg_test_config_set (MsgConfiguration *configuration,
                     const char       *name,
                     const char       *value)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (msg_configuration_set_field (configuration, name, value, &error));
  g_assert_no_error (error);
}

void
msg_test_set_field (MsgTestFixture *f,
                    const char     *name,
                    const char     *value)
{
  msg_test_config_set (f->config, name, value);
}

void
msg_test_fixture_start_server (MsgTestFixture    *f,
                               const char        *protocol,
                               const char *const *scripts,
                               const char        *timeout)
{
  g_autofree char *port = NULL;
  g_autofree char *server_field = g_strconcat (protocol, "server", NULL);
  g_autofree char *port_field = g_strconcat (protocol, "serverport", NULL);
  g_autofree char *timeout_field = g_strconcat (protocol, "connectiontimeout", NULL);

  f->server = msg_test_server_new_multi (scripts);
  msg_test_server_set_tls (f->server, fixture_certificate);
  port = g_strdup_printf ("%u", msg_test_server_get_port (f->server));
  f->config = msg_configuration_new ();
  msg_test_set_field (f, server_field, "127.0.0.1");
  msg_test_set_field (f, port_field, port);
  msg_test_set_field (f, timeout_field, timeout);
  msg_test_set_field (f, "tlscafile", fixture_ca_file);
}

void
msg_test_fixture_make_transport (MsgTestFixture *f,
                                 const char     *protocol)
{
  g_autoptr (GError) error = NULL;

  f->transport = msg_transport_new_for_name (protocol, f->config, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->transport);
}

GSocket *
msg_test_dead_port_new (guint16 *port)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocket) socket =
      g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_autoptr (GSocketAddress) bound = NULL;

  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, address, FALSE, &error));
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);
  /* Bound, never listening: the port refuses connections, and while the
   * socket is open no other socket can be bound to it. (Closed at once,
   * as before, a parallel test's server took the port under CI.) */
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  return g_steal_pointer (&socket);
}

GPtrArray *
msg_test_black_hole_new_at (const char *address_text,
                            guint16     port)
{
  g_autoptr (GInetAddress) inet = g_inet_address_new_from_string (address_text);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (inet, port);
  GSocketFamily family = g_inet_address_get_family (inet);
  GPtrArray    *sockets = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GError) error = NULL;
  GSocket *listener;

  listener = g_socket_new (family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_ptr_array_add (sockets, listener);
  g_assert_true (g_socket_bind (listener, address, FALSE, &error));
  g_assert_no_error (error);
  g_socket_set_listen_backlog (listener, 1);
  g_assert_true (g_socket_listen (listener, &error));
  g_assert_no_error (error);
  if (port == 0)
    {
      /* Bound to any free port: the fillers connect to the one taken. */
      g_clear_object (&address);
      address = g_socket_get_local_address (listener, &error);
      g_assert_no_error (error);
    }
  for (unsigned i = 0; i < 16; i++)
    {
      GSocket *filler = g_socket_new (family, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
      g_autoptr (GError) connect_error = NULL;
      gboolean connected;

      g_assert_no_error (error);
      g_socket_set_blocking (filler, FALSE);
      g_ptr_array_add (sockets, filler);
      connected = g_socket_connect (filler, address, NULL, &connect_error);
      if (!connected && g_error_matches (connect_error, G_IO_ERROR, G_IO_ERROR_PENDING))
        connected = g_socket_condition_timed_wait (filler, G_IO_OUT, 200000, NULL, NULL) &&
                    g_socket_check_connect_result (filler, NULL);
      if (!connected)
        return sockets; /* the backlog is full */
    }
  g_assert_not_reached ();
}

GPtrArray *
msg_test_black_hole_new (guint16 *port)
{
  GPtrArray *sockets = msg_test_black_hole_new_at ("127.0.0.1", 0);
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocketAddress) address = g_socket_get_local_address (sockets->pdata[0], &error);

  g_assert_no_error (error);
  *port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (address));
  return sockets;
}

void
msg_test_black_hole_free (GPtrArray *sockets)
{
  for (guint i = 0; i < sockets->len; i++)
    g_socket_close (sockets->pdata[i], NULL);
  g_ptr_array_unref (sockets);
}

void
msg_test_fixture_start (MsgTestFixture    *f,
                        const char        *protocol,
                        const char *const *scripts)
{
  msg_test_fixture_start_server (f, protocol, scripts, "10");
  if (g_str_equal (protocol, "smtp"))
    msg_test_set_field (f, "smtpehloname", "client.example.test");
  msg_test_fixture_make_transport (f, protocol);
}
