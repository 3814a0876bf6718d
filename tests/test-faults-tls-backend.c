/* test-faults-tls-backend.c: a TLS backend that ignores cancellation
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The promise must not depend on the TLS backend heeding its
 * GCancellable. This process registers a GTlsBackend of its own on the
 * "gio-tls-backend" extension point, above glib-networking, before
 * anything uses TLS; its client connection's handshake blocks, ignoring
 * the cancellable, until the test releases it. A send with implicit TLS
 * then proves (issue 13, item 4):
 *
 * - the call returns at its deadline (the connection clock, or at once on
 *   a cancel), not up to 2 s later;
 * - the server sees the close at once: the socket is shut down while the
 *   handshake thread still blocks;
 * - the descriptor stays open, the same socket, as long as the handshake
 *   thread may use it: no new socket gets its number (no fd-reuse
 *   window), and the thread finds it unchanged when it is released;
 * - once the thread lets go, the descriptor and the TLS connection are
 *   freed (the sockets are back at the baseline, no fake connection is
 *   alive; valgrind and ASan see the rest), and the next send works.
 *
 * Timing: the connection clock is 500 ms, the slack 250 ms (a loaded
 * two-core machine); both are multiplied by MSGOBJ_TEST_TIME_SCALE for
 * slow runs. The 2 s the slack must stay below is what the library used
 * to wait past the deadline for such a backend.
 */
#include "config.h"

#include "test-faults-utils.h"
#include "test-utils.h"
#include "msg-test-server.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#define UNIT_MS 500  /* the connection time-out */
#define LONG_MS 8000 /* a limit that must not be what ends the call */
#define SLACK_MS 250 /* ε */

/* What the blocked handshake shares with the test. */
static GMutex   block_mutex;
static GCond    block_cond;
static gboolean block_released; /* the test lets the handshake go on */
static guint    n_entered;      /* handshakes that started blocking */
static guint    n_left;         /* handshakes that returned */
static int      blocked_fd = -1;
static dev_t    blocked_dev;
static ino_t    blocked_ino;
static gboolean fd_unchanged_after; /* the thread found its socket again */
static gint     n_alive;            /* fake connections not finalized */

/* The fake client connection. */

typedef struct
{
  GTlsConnection parent_instance;
  GHashTable    *values; /* (owned) property name → GValue */
} FakeTlsConnection;

typedef GTlsConnectionClass FakeTlsConnectionClass;

static GType fake_tls_connection_get_type (void);
static void  fake_client_iface_init (GTlsClientConnectionInterface *iface);
static void  fake_initable_iface_init (GInitableIface *iface);

G_DEFINE_TYPE_WITH_CODE (FakeTlsConnection, fake_tls_connection, G_TYPE_TLS_CONNECTION, G_IMPLEMENT_INTERFACE (G_TYPE_TLS_CLIENT_CONNECTION, fake_client_iface_init) G_IMPLEMENT_INTERFACE (G_TYPE_INITABLE, fake_initable_iface_init))

static void
fake_client_iface_init (GTlsClientConnectionInterface *iface)
{
}

static gboolean
fake_initable_init (GInitable    *initable,
                    GCancellable *cancellable,
                    GError      **error)
{
  return TRUE;
}

static void
fake_initable_iface_init (GInitableIface *iface)
{
  iface->init = fake_initable_init;
}

static void
value_free (gpointer data)
{
  g_value_unset (data);
  g_free (data);
}

/* Every property is kept as it was set; unset ones read as the default. */
static void
fake_set_property (GObject      *object,
                   guint         prop_id,
                   const GValue *value,
                   GParamSpec   *pspec)
{
  FakeTlsConnection *self = (FakeTlsConnection *) object;
  GValue            *copy = g_new0 (GValue, 1);

  g_value_init (copy, G_PARAM_SPEC_VALUE_TYPE (pspec));
  g_value_copy (value, copy);
  g_hash_table_replace (self->values, g_strdup (pspec->name), copy);
}

static void
fake_get_property (GObject    *object,
                   guint       prop_id,
                   GValue     *value,
                   GParamSpec *pspec)
{
  FakeTlsConnection *self = (FakeTlsConnection *) object;
  const GValue      *stored = g_hash_table_lookup (self->values, pspec->name);

  if (stored != NULL)
    g_value_copy (stored, value);
  else
    g_param_value_set_default (pspec, value);
}

static GIOStream *
fake_base (GIOStream *stream)
{
  const GValue *base = g_hash_table_lookup (((FakeTlsConnection *) stream)->values, "base-io-stream");

  return base != NULL ? g_value_get_object (base) : NULL;
}

static GInputStream *
fake_get_input_stream (GIOStream *stream)
{
  return g_io_stream_get_input_stream (fake_base (stream));
}

static GOutputStream *
fake_get_output_stream (GIOStream *stream)
{
  return g_io_stream_get_output_stream (fake_base (stream));
}

/* Blocks until the test releases it, ignoring any cancellable, as a
 * backend stuck in a read might; it holds the socket's descriptor and
 * checks, when released, that it is still the same socket. */
static void
blocking_handshake (GIOStream *base)
{
  GSocket    *socket = g_socket_connection_get_socket (G_SOCKET_CONNECTION (base));
  int         fd = g_socket_get_fd (socket);
  struct stat before, after;

  g_assert_cmpint (fstat (fd, &before), ==, 0);
  g_mutex_lock (&block_mutex);
  blocked_fd = fd;
  blocked_dev = before.st_dev;
  blocked_ino = before.st_ino;
  n_entered++;
  g_cond_broadcast (&block_cond);
  while (!block_released)
    g_cond_wait (&block_cond, &block_mutex);
  fd_unchanged_after = fstat (fd, &after) == 0 && after.st_dev == before.st_dev &&
                       after.st_ino == before.st_ino;
  n_left++;
  g_cond_broadcast (&block_cond);
  g_mutex_unlock (&block_mutex);
}

static gboolean
fake_handshake (GTlsConnection *connection,
                GCancellable   *cancellable,
                GError        **error)
{
  blocking_handshake (fake_base (G_IO_STREAM (connection)));
  g_set_error_literal (error, G_TLS_ERROR, G_TLS_ERROR_MISC, "the fake handshake was released");
  return FALSE;
}

static void
fake_handshake_async (GTlsConnection     *connection,
                      int                 io_priority,
                      GCancellable       *cancellable,
                      GAsyncReadyCallback callback,
                      gpointer            user_data)
{
  g_autoptr (GTask) task = g_task_new (connection, NULL, callback, user_data);

  /* In the caller's thread, as a backend that does not run its handshake
   * elsewhere would. */
  blocking_handshake (fake_base (G_IO_STREAM (connection)));
  g_task_return_new_error (task, G_TLS_ERROR, G_TLS_ERROR_MISC, "the fake handshake was released");
}

static gboolean
fake_handshake_finish (GTlsConnection *connection,
                       GAsyncResult   *result,
                       GError        **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
fake_tls_connection_finalize (GObject *object)
{
  g_hash_table_unref (((FakeTlsConnection *) object)->values);
  g_atomic_int_add (&n_alive, -1);
  G_OBJECT_CLASS (fake_tls_connection_parent_class)->finalize (object);
}

static void
fake_tls_connection_class_init (FakeTlsConnectionClass *klass)
{
  GObjectClass           *object_class = G_OBJECT_CLASS (klass);
  GIOStreamClass         *stream_class = G_IO_STREAM_CLASS (klass);
  GTlsConnectionClass    *tls_class = G_TLS_CONNECTION_CLASS (klass);
  GTypeClass             *parent = g_type_class_ref (G_TYPE_TLS_CONNECTION);
  gpointer                iface = g_type_default_interface_ref (G_TYPE_TLS_CLIENT_CONNECTION);
  g_autofree GParamSpec **own = NULL, **client = NULL;
  guint                   n_own, n_client, id = 1;

  object_class->set_property = fake_set_property;
  object_class->get_property = fake_get_property;
  object_class->finalize = fake_tls_connection_finalize;
  stream_class->get_input_stream = fake_get_input_stream;
  stream_class->get_output_stream = fake_get_output_stream;
  tls_class->handshake = fake_handshake;
  tls_class->handshake_async = fake_handshake_async;
  tls_class->handshake_finish = fake_handshake_finish;
  /* GTlsConnection leaves its properties, and GTlsClientConnection its
   * own, to the implementation. */
  own = g_object_class_list_properties (G_OBJECT_CLASS (parent), &n_own);
  for (guint i = 0; i < n_own; i++)
    if (own[i]->owner_type == G_TYPE_TLS_CONNECTION)
      g_object_class_override_property (object_class, id++, own[i]->name);
  client = g_object_interface_list_properties (iface, &n_client);
  for (guint i = 0; i < n_client; i++)
    g_object_class_override_property (object_class, id++, client[i]->name);
  g_type_default_interface_unref (iface);
  g_type_class_unref (parent);
}

static void
fake_tls_connection_init (FakeTlsConnection *self)
{
  self->values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, value_free);
  g_atomic_int_inc (&n_alive);
}

/* The fake backend. */

typedef GObject      FakeTlsBackend;
typedef GObjectClass FakeTlsBackendClass;

static GType fake_tls_backend_get_type (void);
static void  fake_backend_iface_init (GTlsBackendInterface *iface);

G_DEFINE_TYPE_WITH_CODE (FakeTlsBackend, fake_tls_backend, G_TYPE_OBJECT, G_IMPLEMENT_INTERFACE (G_TYPE_TLS_BACKEND, fake_backend_iface_init))

static GType
fake_get_client_connection_type (void)
{
  return fake_tls_connection_get_type ();
}

static void
fake_backend_iface_init (GTlsBackendInterface *iface)
{
  iface->get_client_connection_type = fake_get_client_connection_type;
}

static void
fake_tls_backend_class_init (FakeTlsBackendClass *klass)
{
}

static void
fake_tls_backend_init (FakeTlsBackend *self)
{
}

/* Before anything uses TLS: GIO picks the default backend once, the
 * highest priority on the extension point (glib-networking's is 100). */
static void
install_fake_backend (void)
{
  GIOExtensionPoint *point = g_io_extension_point_register (G_TLS_BACKEND_EXTENSION_POINT_NAME);

  g_io_extension_point_set_required_type (point, G_TYPE_TLS_BACKEND);
  g_io_extension_point_implement (G_TLS_BACKEND_EXTENSION_POINT_NAME, fake_tls_backend_get_type (),
                                  "msgobj-test-ignores-cancel", 1000);
}

/* The cases. */

static void
reset_block (void)
{
  g_mutex_lock (&block_mutex);
  block_released = FALSE;
  n_entered = 0;
  n_left = 0;
  blocked_fd = -1;
  fd_unchanged_after = FALSE;
  g_mutex_unlock (&block_mutex);
}

static gboolean
wait_entered (gint64 timeout_ms)
{
  gint64   until = g_get_monotonic_time () + timeout_ms * 1000;
  gboolean entered;

  g_mutex_lock (&block_mutex);
  while (n_entered == 0 && g_cond_wait_until (&block_cond, &block_mutex, until))
    ;
  entered = n_entered > 0;
  g_mutex_unlock (&block_mutex);
  return entered;
}

static void
release_and_wait (void)
{
  gint64 until = g_get_monotonic_time () + msg_test_ms_scaled (LONG_MS) * 1000;

  g_mutex_lock (&block_mutex);
  block_released = TRUE;
  g_cond_broadcast (&block_cond);
  while (n_left < n_entered && g_cond_wait_until (&block_cond, &block_mutex, until))
    ;
  g_assert_cmpuint (n_left, ==, n_entered);
  g_mutex_unlock (&block_mutex);
}

static MsgTransport *
make_transport (MsgTestServer *server,
                gboolean       tls,
                double         unit_ms)
{
  g_autoptr (MsgConfiguration) configuration =
      msg_test_fault_configuration_new ("smtp", "127.0.0.1", msg_test_server_get_port (server), unit_ms, 0);

  msg_test_config_set (configuration, "smtpstarttls", "never");
  msg_test_config_set (configuration, "smtpusessl", tls ? "true" : "false");
  return msg_test_fault_transport_new ("smtp", configuration);
}

static gpointer
cancel_when_blocked (gpointer cancellable)
{
  if (wait_entered (msg_test_ms_scaled (LONG_MS)))
    g_cancellable_cancel (cancellable);
  return NULL;
}

/* No new socket gets the number of the descriptor the blocked thread
 * holds, and that descriptor is still the same socket. */
static void
assert_fd_held (void)
{
  int         fds[16];
  struct stat now;

  g_assert_cmpint (blocked_fd, >=, 0);
  for (guint i = 0; i < G_N_ELEMENTS (fds); i++)
    {
      fds[i] = socket (AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      g_assert_cmpint (fds[i], >=, 0);
      g_assert_cmpint (fds[i], !=, blocked_fd);
    }
  for (guint i = 0; i < G_N_ELEMENTS (fds); i++)
    close (fds[i]);
  g_assert_cmpint (fstat (blocked_fd, &now), ==, 0);
  g_assert_true (now.st_dev == blocked_dev && now.st_ino == blocked_ino);
}

static void
test_ignores_cancel (gconstpointer data)
{
  gboolean cancel = GPOINTER_TO_INT (data);
  unsigned base_sockets = msg_test_count_sockets ();
  g_autoptr (MsgTestServer) server = msg_test_server_new ("stall\n");
  g_autoptr (MsgTestServer) healthy = msg_test_server_new (MSG_TEST_SMTP_HEALTHY_SCRIPT);
  g_autoptr (MsgTransport) transport = NULL;
  g_autoptr (MsgMessage) message = msg_test_fault_message_new ("Fake TLS backend", NULL, NULL);
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *server_error = NULL;
  GThread         *canceller = NULL;
  gint64           start, elapsed_ms;

  reset_block ();
  transport = make_transport (server, TRUE, cancel ? LONG_MS : UNIT_MS);
  if (cancel)
    canceller = g_thread_new ("cancel", cancel_when_blocked, cancellable);
  start = g_get_monotonic_time ();
  report = msg_transport_send_message (transport, message, cancellable, &error);
  elapsed_ms = (g_get_monotonic_time () - start) / 1000;
  g_assert_null (report);
  if (cancel)
    {
      g_thread_join (canceller);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      /* The cancel comes as soon as the handshake blocks, well before the
       * connection clock (LONG_MS). */
      g_assert_cmpint (elapsed_ms, <=, msg_test_ms_scaled (UNIT_MS + SLACK_MS));
    }
  else
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
      g_assert_nonnull (strstr (error->message, "TLS handshake"));
      g_assert_cmpint (elapsed_ms, >=, UNIT_MS - 10);
      g_assert_cmpint (elapsed_ms, <=, msg_test_ms_scaled (UNIT_MS + SLACK_MS));
    }
  g_assert_cmpuint (n_entered, ==, 1);

  /* The handshake thread still blocks; the peer has seen the close. */
  g_assert_true (msg_test_server_wait_closed (server, msg_test_ms_scaled (SLACK_MS)));
  g_assert_cmpuint (n_left, ==, 0);
  assert_fd_held ();

  release_and_wait ();
  g_assert_true (fd_unchanged_after);
  /* The thread's last reference closes the descriptor and frees the
   * fake connection a moment after the handshake returned. */
  g_assert_cmpuint (msg_test_wait_sockets (base_sockets + 2, msg_test_ms_scaled (LONG_MS)), ==,
                    base_sockets + 2);
  for (gint64 until = g_get_monotonic_time () + msg_test_ms_scaled (LONG_MS) * 1000;
       g_atomic_int_get (&n_alive) > 0 && g_get_monotonic_time () < until;)
    g_usleep (1000);
  g_assert_cmpint (g_atomic_int_get (&n_alive), ==, 0);
  server_error = msg_test_server_get_error (server);
  g_assert_null (server_error);

  /* The next send works (without TLS: this process has only the fake). */
  g_clear_object (&transport);
  g_clear_object (&report);
  g_clear_error (&error);
  transport = make_transport (healthy, FALSE, LONG_MS);
  report = msg_transport_send_message (transport, message, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (report);
  g_assert_true (msg_transport_close (transport, NULL, &error));
  g_assert_no_error (error);
  g_clear_object (&transport);
  g_assert_true (msg_test_server_wait_closed (healthy, msg_test_ms_scaled (LONG_MS)));
  server_error = msg_test_server_get_error (healthy);
  g_assert_cmpstr (server_error, ==, NULL);
  g_clear_pointer (&server, msg_test_server_free);
  g_clear_pointer (&healthy, msg_test_server_free);
  g_assert_cmpuint (msg_test_wait_sockets (base_sockets, msg_test_ms_scaled (LONG_MS)), ==, base_sockets);
}

int
main (int   argc,
      char *argv[])
{
  install_fake_backend ();
  msg_test_capture_log ();
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  signal (SIGPIPE, SIG_IGN);
  (void) g_main_context_default ();
  g_assert_true (G_TYPE_CHECK_INSTANCE_TYPE (g_tls_backend_get_default (), fake_tls_backend_get_type ()));

  g_test_add_data_func ("/faults-tls-backend/ignores-cancel/deadline", GINT_TO_POINTER (FALSE),
                        test_ignores_cancel);
  g_test_add_data_func ("/faults-tls-backend/ignores-cancel/cancel", GINT_TO_POINTER (TRUE),
                        test_ignores_cancel);
  return g_test_run ();
}
