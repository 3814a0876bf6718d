/* msg-connection.c: the deadline-aware connection layer for transports
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-connection-private.h"

#include "msg-connection-output-stream-private.h"
#include "msg-deadline-private.h"
#include "msg-reply-private.h"
#include "msg-transport.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#ifdef __linux__
#include <linux/sockios.h>
#endif

/**
 * MsgConnection:
 *
 * One connection to a mail or news server, for transport plugins.
 *
 * Every primitive blocks the calling thread, but every wait is bounded by
 * two clocks and the caller's [class@Gio.Cancellable]:
 *
 * - the inactivity limit ([method@Connection.set_timeout]): a connect, a
 *   TLS handshake and a whole reply must each be complete within it,
 *   counted from the moment the command was sent (a server dripping one
 *   byte at a time cannot stretch it); each write must make progress
 *   within it;
 * - the total deadline ([method@Connection.set_deadline]), a monotonic
 *   time that caps every wait.
 *
 * A time-out fails with %G_IO_ERROR_TIMED_OUT, a cancellation with
 * %G_IO_ERROR_CANCELLED. On any error (I/O error, time-out, cancellation,
 * protocol violation, a reply over the size limits, bad arguments) the
 * primitive has already aborted the connection before it returns: the
 * socket is closed at once, without any network wait (no TLS close_notify)
 * and [method@Connection.is_connected] returns %FALSE.
 *
 * Replies are counted strictly: when the first write after a read finds
 * that the server sent more than the replies read so far (a reply out of
 * step, an unasked line), the write fails with
 * %MSG_TRANSPORT_ERROR_PROTOCOL instead of letting that data pass for the
 * reply to the next command.
 *
 * One thread at a time uses a connection; other threads may only cancel
 * the cancellable of the running call.
 *
 * The protocol trace goes to g_debug() in the `msgobj` log domain (visible
 * with `G_MESSAGES_DEBUG=msgobj`): `C:` lines for commands, `S:` lines for
 * what the server sent.
 */

G_DEFINE_FINAL_TYPE (MsgConnection, msg_connection, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_HOST,
  PROP_PORT,
  PROP_TIMEOUT,
  PROP_DEADLINE,
  PROP_TLS_CA_FILE,
  PROP_TLS_VERIFY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* GObject. */

static void
msg_connection_dispose (GObject *object)
{
  MsgConnection *self = MSG_CONNECTION (object);

  msg_connection_abort (self);
  if (self->output_stream != NULL)
    {
      _msg_connection_output_stream_detach (self->output_stream);
      g_clear_object (&self->output_stream);
    }
  G_OBJECT_CLASS (msg_connection_parent_class)->dispose (object);
}

/* Empties the command queue, overwriting what it held first: it may have
 * held a secret (an AUTH payload) that must not linger in freed or reused
 * memory (issue 14, item 9). */
void
_msg_connection_clear_queue (GByteArray *queue)
{
  if (queue->len > 0)
    explicit_bzero (queue->data, queue->len);
  g_byte_array_set_size (queue, 0);
}

static void
msg_connection_finalize (GObject *object)
{
  MsgConnection *self = MSG_CONNECTION (object);

  g_free (self->host);
  g_free (self->tls_ca_file);
  g_free (self->trace_name);
  _msg_connection_clear_queue (self->queue);
  g_byte_array_unref (self->queue);
  g_free (self->read_buffer);
  g_atomic_rc_box_release (self->tls_warned);
  g_clear_pointer (&self->context, g_main_context_unref);
  G_OBJECT_CLASS (msg_connection_parent_class)->finalize (object);
}

static void
msg_connection_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  MsgConnection *self = MSG_CONNECTION (object);

  switch (prop_id)
    {
    case PROP_HOST:
      g_value_set_string (value, self->host);
      break;
    case PROP_PORT:
      g_value_set_uint (value, self->port);
      break;
    case PROP_TIMEOUT:
      g_value_set_double (value, self->timeout);
      break;
    case PROP_DEADLINE:
      g_value_set_int64 (value, self->deadline);
      break;
    case PROP_TLS_CA_FILE:
      g_value_set_string (value, self->tls_ca_file);
      break;
    case PROP_TLS_VERIFY:
      g_value_set_boolean (value, self->tls_verify);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
msg_connection_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  MsgConnection *self = MSG_CONNECTION (object);

  switch (prop_id)
    {
    case PROP_HOST:
      g_free (self->host);
      self->host = g_value_dup_string (value);
      break;
    case PROP_PORT:
      self->port = (guint16) g_value_get_uint (value);
      break;
    case PROP_TIMEOUT:
      msg_connection_set_timeout (self, g_value_get_double (value));
      break;
    case PROP_DEADLINE:
      msg_connection_set_deadline (self, g_value_get_int64 (value));
      break;
    case PROP_TLS_CA_FILE:
      msg_connection_set_tls_ca_file (self, g_value_get_string (value));
      break;
    case PROP_TLS_VERIFY:
      msg_connection_set_tls_verify (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
msg_connection_class_init (MsgConnectionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = msg_connection_dispose;
  object_class->finalize = msg_connection_finalize;
  object_class->get_property = msg_connection_get_property;
  object_class->set_property = msg_connection_set_property;

  /**
   * MsgConnection:host:
   *
   * The server's host name or address.
   */
  properties[PROP_HOST] =
      g_param_spec_string ("host", NULL, NULL, "localhost",
                           G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * MsgConnection:port:
   *
   * The server's port.
   */
  properties[PROP_PORT] =
      g_param_spec_uint ("port", NULL, NULL, 0, G_MAXUINT16, 0,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * MsgConnection:timeout: (getter get_timeout) (setter set_timeout)
   *
   * The inactivity limit of each exchange, in seconds; 0 for none.
   */
  properties[PROP_TIMEOUT] =
      g_param_spec_double ("timeout", NULL, NULL, 0, G_MAXDOUBLE, 0,
                           G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * MsgConnection:deadline: (getter get_deadline) (setter set_deadline)
   *
   * The total deadline, a monotonic time in µs; 0 for none.
   */
  properties[PROP_DEADLINE] =
      g_param_spec_int64 ("deadline", NULL, NULL, 0, G_MAXINT64, 0,
                          G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * MsgConnection:tls-ca-file:
   *
   * A PEM file of trusted CA certificates; %NULL for the system's store.
   */
  properties[PROP_TLS_CA_FILE] =
      g_param_spec_string ("tls-ca-file", NULL, NULL, NULL,
                           G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /**
   * MsgConnection:tls-verify:
   *
   * Whether the server's certificate is verified.
   */
  properties[PROP_TLS_VERIFY] =
      g_param_spec_boolean ("tls-verify", NULL, NULL, TRUE,
                            G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
msg_connection_init (MsgConnection *self)
{
  self->tls_verify = TRUE;
  self->queue = g_byte_array_new ();
  self->read_buffer = g_malloc (MSG_CONNECTION_READ_BUFFER_SIZE);
  self->tls_warned = g_atomic_rc_box_new0 (int);
  self->wake_fd = -1;
}

/* Settings. */

/**
 * msg_connection_new:
 * @host: the server's host name or address
 * @port: the server's port
 *
 * Creates an unconnected connection with no inactivity limit and no
 * deadline; TLS certificates are verified against the system's store.
 *
 * Returns: (transfer full): a new connection
 */
MsgConnection *
msg_connection_new (const char *host,
                    guint16     port)
{
  g_return_val_if_fail (host != NULL, NULL);

  return g_object_new (MSG_TYPE_CONNECTION, "host", host, "port", (guint) port, NULL);
}

/**
 * msg_connection_get_host:
 * @self: a connection
 *
 * Gets the host the connection was made for.
 *
 * Returns: the server's host name or address
 */
const char *
msg_connection_get_host (MsgConnection *self)
{
  g_return_val_if_fail (MSG_IS_CONNECTION (self), NULL);

  return self->host;
}

/**
 * msg_connection_get_port:
 * @self: a connection
 *
 * Gets the port the connection was made for.
 *
 * Returns: the server's port
 */
guint16
msg_connection_get_port (MsgConnection *self)
{
  g_return_val_if_fail (MSG_IS_CONNECTION (self), 0);

  return self->port;
}

/**
 * msg_connection_set_timeout:
 * @self: a connection
 * @seconds: the inactivity limit in seconds (fractions allowed; 0 for none)
 *
 * Sets the limit for each exchange: a connect, a TLS handshake, and each
 * whole reply from when its command was sent; and for each write to make
 * progress. Millisecond precision.
 */
void
msg_connection_set_timeout (MsgConnection *self,
                            double         seconds)
{
  g_return_if_fail (MSG_IS_CONNECTION (self));
  g_return_if_fail (seconds >= 0);

  if (self->timeout == seconds)
    return;
  self->timeout = seconds;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TIMEOUT]);
}

/**
 * msg_connection_get_timeout:
 * @self: a connection
 *
 * Gets the inactivity limit of each read and write.
 *
 * Returns: the inactivity limit in seconds, 0 for none
 */
double
msg_connection_get_timeout (MsgConnection *self)
{
  g_return_val_if_fail (MSG_IS_CONNECTION (self), 0);

  return self->timeout;
}

/**
 * msg_connection_set_deadline:
 * @self: a connection
 * @deadline: a g_get_monotonic_time() value, or 0 for none
 *
 * Sets the total deadline that caps every wait, typically the start of a
 * send plus the operation time-out.
 */
void
msg_connection_set_deadline (MsgConnection *self,
                             gint64         deadline)
{
  g_return_if_fail (MSG_IS_CONNECTION (self));
  g_return_if_fail (deadline >= 0);

  if (self->deadline == deadline)
    return;
  self->deadline = deadline;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DEADLINE]);
}

/**
 * msg_connection_get_deadline:
 * @self: a connection
 *
 * Gets the total deadline of the operation the connection serves.
 *
 * Returns: the total deadline (monotonic µs), 0 for none
 */
gint64
msg_connection_get_deadline (MsgConnection *self)
{
  g_return_val_if_fail (MSG_IS_CONNECTION (self), 0);

  return self->deadline;
}

/**
 * msg_connection_set_tls_ca_file:
 * @self: a connection
 * @path: (nullable) (type filename): a PEM file of trusted CA
 *   certificates, or %NULL (or empty) for the system's store
 *
 * Sets the certificates trusted for TLS, for the next handshake. A
 * relative @path is taken relative to the current directory now.
 */
void
msg_connection_set_tls_ca_file (MsgConnection *self,
                                const char    *path)
{
  g_autofree char *absolute = NULL;

  g_return_if_fail (MSG_IS_CONNECTION (self));

  /* GTlsFileDatabase takes absolute paths only (a relative one finds no
   * anchor and fails every handshake): resolve it against the current
   * directory now. */
  if (path != NULL && *path != '\0' && !g_path_is_absolute (path))
    absolute = g_canonicalize_filename (path, NULL);
  if (absolute != NULL)
    path = absolute;
  if (g_strcmp0 (self->tls_ca_file, path) == 0)
    return;
  g_free (self->tls_ca_file);
  self->tls_ca_file = g_strdup (path);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TLS_CA_FILE]);
}

/**
 * msg_connection_set_tls_verify:
 * @self: a connection
 * @verify: whether to verify the server's certificate (the default)
 *
 * With @verify %FALSE any certificate is accepted, with a warning in the
 * log: the connection is then encrypted but not authenticated.
 */
void
msg_connection_set_tls_verify (MsgConnection *self,
                               gboolean       verify)
{
  g_return_if_fail (MSG_IS_CONNECTION (self));

  verify = !!verify;
  if (self->tls_verify == verify)
    return;
  self->tls_verify = verify;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TLS_VERIFY]);
}

/**
 * msg_connection_is_tls:
 * @self: a connection
 *
 * Tells whether the connection is encrypted.
 *
 * Returns: whether the open connection uses TLS
 */
gboolean
msg_connection_is_tls (MsgConnection *self)
{
  g_return_val_if_fail (MSG_IS_CONNECTION (self), FALSE);

  return self->tls != NULL;
}

/**
 * msg_connection_get_channel_binding:
 * @self: a connection
 * @type: the kind of channel binding (RFC 5056)
 * @error: return location for a #GError
 *
 * Gets the channel binding data of the open TLS connection, for SASL
 * mechanisms that bind the authentication to the TLS channel (the
 * SCRAM `-PLUS` family of RFC 5802 and RFC 9266).
 *
 * Returns: (transfer full) (nullable): the data, or %NULL with @error set
 *   when the connection is not encrypted or the TLS backend cannot give
 *   this kind of binding
 */
GBytes *
msg_connection_get_channel_binding (MsgConnection         *self,
                                    GTlsChannelBindingType type,
                                    GError               **error)
{
  g_autoptr (GByteArray) data = NULL;

  g_return_val_if_fail (MSG_IS_CONNECTION (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (self->tls == NULL)
    {
      g_set_error_literal (error, G_TLS_CHANNEL_BINDING_ERROR,
                           G_TLS_CHANNEL_BINDING_ERROR_INVALID_STATE,
                           "The connection does not use TLS");
      return NULL;
    }
  data = g_byte_array_new ();
  if (!g_tls_connection_get_channel_binding_data (G_TLS_CONNECTION (self->tls), type, data, error))
    return NULL;
  return g_byte_array_free_to_bytes (g_steal_pointer (&data));
}

/**
 * msg_connection_get_local_address:
 * @self: a connection
 *
 * Gets the address of this end of the open connection, for example for
 * an SMTP EHLO address literal when the host has no domain name.
 *
 * Returns: (transfer full) (nullable): the local address, or %NULL when
 *   not connected
 */
GInetAddress *
msg_connection_get_local_address (MsgConnection *self)
{
  g_autoptr (GSocketAddress) address = NULL;

  g_return_val_if_fail (MSG_IS_CONNECTION (self), NULL);

  if (self->socket == NULL)
    return NULL;
  address = g_socket_get_local_address (self->socket, NULL);
  if (address == NULL || !G_IS_INET_SOCKET_ADDRESS (address))
    return NULL;
  return g_object_ref (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address)));
}

/**
 * msg_connection_set_trace_name:
 * @self: a connection
 * @name: (nullable): the prefix of the trace lines, or %NULL for
 *   "host:port"
 *
 * Sets the prefix of this connection's protocol trace lines.
 */
void
msg_connection_set_trace_name (MsgConnection *self,
                               const char    *name)
{
  g_return_if_fail (MSG_IS_CONNECTION (self));

  g_free (self->trace_name);
  self->trace_name = g_strdup (name);
}

/**
 * msg_connection_set_quick_ack:
 * @self: a connection
 * @quick_ack: whether to acknowledge what the server sends at once
 *
 * While @quick_ack is set, every read of a reply asks the system to
 * acknowledge received data at once instead of delaying the ACK (TCP
 * quick-ack mode, on Linux; elsewhere this does nothing). For a client
 * that pipelines a command behind another against a server that writes
 * two replies in two small writes without `TCP_NODELAY` (INN's nnrpd
 * answers a pipelined POST so): Nagle's algorithm holds the second reply
 * until the first is acknowledged, and a delayed ACK makes that wait up
 * to 40 ms. Each read then costs one more system call.
 */
void
msg_connection_set_quick_ack (MsgConnection *self,
                              gboolean       quick_ack)
{
  g_return_if_fail (MSG_IS_CONNECTION (self));

  self->quick_ack = !!quick_ack;
}

/* Tracing. */

static const char *
trace_prefix (MsgConnection *self,
              char          *buffer,
              gsize          size)
{
  if (self->trace_name != NULL)
    return self->trace_name;
  g_snprintf (buffer, size, "%s:%u", self->host, self->port);
  return buffer;
}

static gboolean
trace_enabled (void)
{
  return !g_log_writer_default_would_drop (G_LOG_LEVEL_DEBUG, G_LOG_DOMAIN);
}

static void
trace_line (MsgConnection *self,
            char           direction,
            const char    *text,
            gsize          length)
{
  char             prefix[300];
  g_autofree char *clean = NULL;

  if (!trace_enabled ())
    return;
  clean = _msg_reply_sanitize_text (text, length);
  g_debug ("%s %c: %s", trace_prefix (self, prefix, sizeof prefix), direction, clean);
}

void
_msg_connection_trace_note (MsgConnection *self,
                            const char    *format,
                            ...)
{
  char             prefix[300];
  g_autofree char *text = NULL;
  va_list          args;

  if (!trace_enabled ())
    return;
  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_debug ("%s %s", trace_prefix (self, prefix, sizeof prefix), text);
}

/* Clocks and waiting. */

gint64
_msg_connection_exchange_until (MsgConnection *self,
                                gint64         start)
{
  gint64 until = G_MAXINT64;

  if (self->timeout > 0)
    until = start + (gint64) (self->timeout * G_USEC_PER_SEC + 0.5);
  if (self->deadline > 0)
    until = MIN (until, self->deadline);
  return until;
}

static void
set_timed_out (MsgConnection *self,
               gint64         until,
               const char    *what,
               GError       **error)
{
  if (self->deadline > 0 && until == self->deadline)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                 "Timed out %s %s:%u (the operation's total time limit was reached)",
                 what, self->host, self->port);
  else
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                 "Timed out %s %s:%u (limit %g s)",
                 what, self->host, self->port, self->timeout);
}

/* TRUE for READY; otherwise FALSE with the error of the clock or the
 * cancellation that ended the wait for @what. */
gboolean
_msg_connection_wait_result (MsgConnection    *self,
                             MsgDeadlineResult result,
                             gint64            until,
                             const char       *what,
                             GCancellable     *cancellable,
                             GError          **error)
{
  switch (result)
    {
    case MSG_DEADLINE_READY:
      return TRUE;
    case MSG_DEADLINE_CANCELLED:
      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      break;
    case MSG_DEADLINE_TIMED_OUT:
      break;
    }
  set_timed_out (self, until, what, error);
  return FALSE;
}

/* Waits for @ready_source (consumed); FALSE with the error when a clock or
 * the cancellable won. */
static gboolean
wait_for_source (MsgConnection *self,
                 GSource       *ready_source,
                 gint64         until,
                 const char    *what,
                 GCancellable  *cancellable,
                 GError       **error)
{
  return _msg_connection_wait_result (self, _msg_deadline_wait_for_source (self->context, ready_source, until, cancellable),
                                      until, what, cancellable, error);
}

/* How long a wait through TLS polls the socket before it hands over to
 * the TLS stream's own source (decision 22). */
#define TLS_POLL_SLICE_US (50 * G_TIME_SPAN_MILLISECOND)

/* Waits until the stream may be read (G_IO_IN) or written (G_IO_OUT)
 * without blocking. On a plain socket with poll() (decisions 19, 21).
 * Through TLS, what the stream waits for is the TLS backend's to say: it
 * is the socket in the same direction unless a handshake is under way,
 * so poll() serves for a short slice, and the stream's own source for
 * whatever is left (decision 22). */
static gboolean
wait_socket (MsgConnection *self,
             GIOCondition   condition,
             gint64         until,
             const char    *what,
             GCancellable  *cancellable,
             GError       **error)
{
  GSource *source;

  if (self->wake_fd < 0)
    self->wake_fd = _msg_deadline_wake_fd_new ();
  if (self->wake_fd >= 0)
    {
      gint64            slice_until = self->tls == NULL ? until : MIN (until, g_get_monotonic_time () + TLS_POLL_SLICE_US);
      MsgDeadlineResult result =
          _msg_deadline_poll_fd (g_socket_get_fd (self->socket), condition, self->wake_fd, slice_until, cancellable);

      if (self->tls == NULL || result != MSG_DEADLINE_TIMED_OUT || slice_until >= until)
        return _msg_connection_wait_result (self, result, until, what, cancellable, error);
    }
  if (condition == G_IO_OUT)
    source = g_pollable_output_stream_create_source (self->output, NULL);
  else
    source = g_pollable_input_stream_create_source (self->input, NULL);
  return wait_for_source (self, source, until, what, cancellable, error);
}

/**
 * msg_connection_is_connected:
 * @self: a connection
 *
 * Tells whether the connection is still open.
 *
 * Returns: whether the connection is open (it has not failed or been
 *   aborted)
 */
gboolean
msg_connection_is_connected (MsgConnection *self)
{
  g_return_val_if_fail (MSG_IS_CONNECTION (self), FALSE);

  return self->socket != NULL;
}

/**
 * msg_connection_check_idle:
 * @self: a connection
 *
 * Checks, without waiting, that a kept connection can be reused: it is
 * open, the server has not closed it and has sent nothing unasked (such as
 * a 421 before closing). Otherwise the connection is aborted.
 *
 * Returns: whether the connection can be reused
 */
gboolean
msg_connection_check_idle (MsgConnection *self)
{
  g_autoptr (GError) local_error = NULL;
  gssize n;

  g_return_val_if_fail (MSG_IS_CONNECTION (self), FALSE);

  if (self->socket == NULL)
    return FALSE;
  if (self->read_end > self->read_start)
    {
      trace_line (self, 'S', self->read_buffer + self->read_start,
                  MIN (self->read_end - self->read_start, 512));
      _msg_connection_trace_note (self, "unasked data from the server: dropping the connection");
      msg_connection_abort (self);
      return FALSE;
    }

  self->read_start = self->read_end = 0;
  n = g_pollable_input_stream_read_nonblocking (self->input, self->read_buffer,
                                                MSG_CONNECTION_READ_BUFFER_SIZE, NULL, &local_error);
  if (n < 0 && g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
    {
      /* The check the next write would make (check_in_step()), just made. */
      self->replies_read = FALSE;
      return TRUE;
    }

  if (n > 0)
    {
      trace_line (self, 'S', self->read_buffer, MIN ((gsize) n, 512));
      _msg_connection_trace_note (self, "unasked data from the server: dropping the connection");
    }
  else if (n == 0)
    _msg_connection_trace_note (self, "the server closed the idle connection");
  else
    _msg_connection_trace_note (self, "idle connection failed: %s", local_error->message);
  msg_connection_abort (self);
  return FALSE;
}

/**
 * msg_connection_abort:
 * @self: a connection
 *
 * Closes the connection at once: the socket is closed first (with a reset
 * if unsent data is stuck in it, so the server sees the close even when it
 * stopped reading), then the TLS and stream objects are dropped. Nothing
 * waits on the network: no TLS close_notify, no QUIT. Queued commands and
 * read-ahead data are discarded.
 *
 * Calling it on a closed connection does nothing.
 */
void
msg_connection_abort (MsgConnection *self)
{
  g_return_if_fail (MSG_IS_CONNECTION (self));

  if (self->socket != NULL)
    {
#ifdef SIOCOUTQ
      int fd = g_socket_get_fd (self->socket);
      int unsent = 0;

      if (ioctl (fd, SIOCOUTQ, &unsent) == 0 && unsent > 0)
        {
          struct linger linger = { 1, 0 };

          setsockopt (fd, SOL_SOCKET, SO_LINGER, &linger, sizeof linger);
        }
#endif
      g_socket_close (self->socket, NULL);
      _msg_connection_trace_note (self, "connection closed");
    }
  self->input = NULL;
  self->output = NULL;
  g_clear_object (&self->tls);
  g_clear_object (&self->tcp);
  g_clear_object (&self->socket);
  if (self->wake_fd >= 0)
    {
      close (self->wake_fd);
      self->wake_fd = -1;
    }
  _msg_connection_clear_queue (self->queue);
  self->read_start = self->read_end = 0;
  self->replies_read = FALSE;
  self->wrote = FALSE;
}

/* Writing. */

static gboolean
require_connected (MsgConnection *self,
                   GError       **error)
{
  if (self->socket != NULL)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
               "Not connected to %s:%u", self->host, self->port);
  return FALSE;
}

/* Before the first write after replies were read: every reply asked for
 * so far has been read, so anything more the server sent (read ahead, or
 * waiting on the socket) is out of step. Read as the reply to the next
 * command, it would shift every later reply by one (Postfix smtp_chat.c:
 * the QUIT reply taken for the end-of-data reply loses mail). */
static gboolean
check_in_step (MsgConnection *self,
               GError       **error)
{
  if (self->read_end == self->read_start)
    {
      gssize n;

      self->read_start = self->read_end = 0;
      n = g_pollable_input_stream_read_nonblocking (self->input, self->read_buffer,
                                                    MSG_CONNECTION_READ_BUFFER_SIZE, NULL, NULL);
      /* An EOF or an error shows in the next read. */
      if (n > 0)
        self->read_end = (gsize) n;
    }
  if (self->read_end == self->read_start)
    return TRUE;
  trace_line (self, 'S', self->read_buffer + self->read_start,
              MIN (self->read_end - self->read_start, 512));
  g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL,
               "%s:%u sent data that no command asked for (a reply out of step)",
               self->host, self->port);
  return FALSE;
}

/* A server that closes (FIN) while it still reads DATA, or answers (a
 * 554) before the final dot, can no longer accept the message: seen
 * before the terminator is written, that is a sure failure, not an
 * unknown outcome (docs/design.md, decision 2). Zero wait: a close that
 * comes later is still found when the reply is read. */
gboolean
_msg_connection_check_still_listening (MsgConnection *self,
                                       GError       **error)
{
  g_autoptr (GError) local_error = NULL;
  const char *text;
  gsize       length;
  gssize      n;

  if (!require_connected (self, error))
    return FALSE;
  if (self->read_end == self->read_start)
    {
      self->read_start = self->read_end = 0;
      n = g_pollable_input_stream_read_nonblocking (self->input, self->read_buffer,
                                                    MSG_CONNECTION_READ_BUFFER_SIZE, NULL, &local_error);
      if (n < 0 && g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          /* The check the next write would make (check_in_step()), just
           * made: a small message's one write need not read again. */
          self->replies_read = FALSE;
          return TRUE;
        }
      if (n == 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                       "%s:%u closed the connection before the end of the message was sent",
                       self->host, self->port);
          return FALSE;
        }
      if (n < 0)
        {
          g_set_error (error, local_error->domain, local_error->code,
                       "Error reading from %s:%u before the end of the message was sent: %s",
                       self->host, self->port, local_error->message);
          return FALSE;
        }
      self->read_end = (gsize) n;
    }
  /* The buffer is not NUL-terminated: the first line, at most 512 bytes. */
  text = self->read_buffer + self->read_start;
  for (length = 0; length < MIN (self->read_end - self->read_start, 512); length++)
    if (text[length] == '\r' || text[length] == '\n')
      break;
  trace_line (self, 'S', text, length);
  if (length >= 3 && (text[0] == '4' || text[0] == '5') && g_ascii_isdigit (text[1]) &&
      g_ascii_isdigit (text[2]))
    {
      g_autofree char *line = g_utf8_make_valid (text, (gssize) length);

      g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_MESSAGE_REJECTED,
                   "%s:%u refused the message before its end was sent: %s", self->host, self->port, line);
      return FALSE;
    }
  g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL,
               "%s:%u sent data that no command asked for while the message was being sent",
               self->host, self->port);
  return FALSE;
}

/* Writes all of @buffer; each write must make progress within the
 * inactivity limit; the total deadline caps it. Does not abort. */
static gboolean
write_internal (MsgConnection *self,
                const void    *buffer,
                gsize          length,
                GCancellable  *cancellable,
                GError       **error)
{
  const guint8 *p = buffer;
  gint64        until;

  if (!require_connected (self, error))
    return FALSE;
  if (self->replies_read)
    {
      if (!check_in_step (self, error))
        return FALSE;
      self->replies_read = FALSE;
    }

  until = _msg_connection_exchange_until (self, g_get_monotonic_time ());
  while (length > 0)
    {
      g_autoptr (GError) local_error = NULL;
      gssize n;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return FALSE;
      n = g_pollable_output_stream_write_nonblocking (self->output, p, length, NULL, &local_error);
      if (n > 0)
        {
          p += n;
          length -= (gsize) n;
          until = _msg_connection_exchange_until (self, g_get_monotonic_time ());
          continue;
        }
      if (n < 0 && !g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          g_set_error (error, local_error->domain, local_error->code,
                       "Error writing to %s:%u: %s", self->host, self->port,
                       local_error->message);
          return FALSE;
        }
      if (!wait_socket (self, G_IO_OUT, until, "writing to", cancellable, error))
        return FALSE;
    }
  self->exchange_start = g_get_monotonic_time ();
  self->wrote = TRUE;
  return TRUE;
}

static gboolean
queue_internal (MsgConnection *self,
                const char    *command,
                const char    *trace_text,
                GError       **error)
{
  if (!require_connected (self, error))
    return FALSE;
  if (strpbrk (command, "\r\n") != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "A command for %s:%u contains a line break", self->host, self->port);
      msg_connection_abort (self);
      return FALSE;
    }
  if (trace_text != NULL)
    trace_line (self, 'C', trace_text, strlen (trace_text));
  else
    trace_line (self, 'C', command, strlen (command));
  {
    gsize length = strlen (command);
    guint start = self->queue->len;

    /* Grown before the copy, so that a reallocation never leaves a copy of
     * this command behind in freed memory. */
    g_byte_array_set_size (self->queue, start + (guint) length + 2);
    memcpy (self->queue->data + start, command, length);
    memcpy (self->queue->data + start + length, "\r\n", 2);
  }
  return TRUE;
}

/**
 * msg_connection_queue_command:
 * @self: a connection
 * @command: a command line, without its line end
 * @error: return location for a #GError
 *
 * Appends @command and CRLF to the output buffer, without writing. The
 * buffer is written by [method@Connection.flush] or before any read, so a
 * pipelined batch goes out in one write.
 *
 * A command containing CR or LF is refused with
 * %G_IO_ERROR_INVALID_ARGUMENT (and, as on any error, the connection is
 * aborted): it would inject another command.
 *
 * Returns: whether the command was queued
 */
gboolean
msg_connection_queue_command (MsgConnection *self,
                              const char    *command,
                              GError       **error)
{
  g_return_val_if_fail (MSG_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (command != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return queue_internal (self, command, NULL, error);
}

/**
 * msg_connection_queue_secret_command:
 * @self: a connection
 * @command: a command line with a secret (an AUTH payload), without its
 *   line end
 * @trace_text: what the protocol trace shows instead of @command
 * @error: return location for a #GError
 *
 * Like [method@Connection.queue_command], but the trace shows @trace_text
 * (for example `"AUTH PLAIN <redacted>"`) instead of @command.
 *
 * Returns: whether the command was queued
 */
gboolean
msg_connection_queue_secret_command (MsgConnection *self,
                                     const char    *command,
                                     const char    *trace_text,
                                     GError       **error)
{
  g_return_val_if_fail (MSG_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (command != NULL, FALSE);
  g_return_val_if_fail (trace_text != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return queue_internal (self, command, trace_text, error);
}

/**
 * msg_connection_flush:
 * @self: a connection
 * @cancellable: (nullable): a cancellable
 * @error: return location for a #GError
 *
 * Writes the queued commands in one write. The clock of the next reply
 * starts when this write is complete.
 *
 * Returns: whether everything queued was written
 */
gboolean
msg_connection_flush (MsgConnection *self,
                      GCancellable  *cancellable,
                      GError       **error)
{
  gboolean ok;

  g_return_val_if_fail (MSG_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!require_connected (self, error))
    return FALSE;
  if (self->queue->len == 0)
    return TRUE;
  ok = write_internal (self, self->queue->data, self->queue->len, cancellable, error);
  if (!ok)
    {
      msg_connection_abort (self);
      return FALSE;
    }
  _msg_connection_clear_queue (self->queue);
  return TRUE;
}

/**
 * msg_connection_send_command:
 * @self: a connection
 * @command: a command line, without its line end
 * @cancellable: (nullable): a cancellable
 * @error: return location for a #GError
 *
 * Queues @command (see [method@Connection.queue_command]) and flushes.
 *
 * Returns: whether the command was written
 */
gboolean
msg_connection_send_command (MsgConnection *self,
                             const char    *command,
                             GCancellable  *cancellable,
                             GError       **error)
{
  return msg_connection_queue_command (self, command, error) &&
         msg_connection_flush (self, cancellable, error);
}

/**
 * msg_connection_write_all:
 * @self: a connection
 * @buffer: (array length=length) (element-type guint8): the bytes to write
 * @length: the length of @buffer
 * @cancellable: (nullable): a cancellable
 * @error: return location for a #GError
 *
 * Flushes queued commands, then writes @buffer as it is. Each write must
 * make progress within the inactivity limit; the total deadline caps the
 * whole call. Nothing is traced but the length.
 *
 * Returns: whether everything was written
 */
gboolean
msg_connection_write_all (MsgConnection *self,
                          const void    *buffer,
                          gsize          length,
                          GCancellable  *cancellable,
                          GError       **error)
{
  g_return_val_if_fail (MSG_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (buffer != NULL || length == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!msg_connection_flush (self, cancellable, error))
    return FALSE;
  _msg_connection_trace_note (self, "C: (%" G_GSIZE_FORMAT " bytes)", length);
  if (!write_internal (self, buffer, length, cancellable, error))
    {
      msg_connection_abort (self);
      return FALSE;
    }
  return TRUE;
}

/* The writes of the output stream: as msg_connection_write_all(), but
 * untraced (the caller writes message data a piece at a time). */
static gboolean
write_untraced (MsgConnection *self,
                const void    *buffer,
                gsize          length,
                GCancellable  *cancellable,
                GError       **error)
{
  if (!msg_connection_flush (self, cancellable, error))
    return FALSE;
  if (!write_internal (self, buffer, length, cancellable, error))
    {
      msg_connection_abort (self);
      return FALSE;
    }
  return TRUE;
}

/**
 * msg_connection_get_output_stream:
 * @self: a connection
 *
 * Gets a stream that writes to the connection, for message data. Its
 * writes flush queued commands first, then obey the clocks like
 * [method@Connection.write_all]; a failed write aborts the connection.
 * Closing the stream leaves the connection open.
 *
 * For SMTP DATA or NNTP POST wrap it with
 * `msg_data_output_stream_new (stream, TRUE)` and end the data with
 * [method@DataOutputStream.finish].
 *
 * Returns: (transfer none): the stream, valid as long as @self
 */
GOutputStream *
msg_connection_get_output_stream (MsgConnection *self)
{
  g_return_val_if_fail (MSG_IS_CONNECTION (self), NULL);

  if (self->output_stream != NULL &&
      g_output_stream_is_closed (G_OUTPUT_STREAM (self->output_stream)))
    {
      _msg_connection_output_stream_detach (self->output_stream);
      g_clear_object (&self->output_stream);
    }
  if (self->output_stream == NULL)
    self->output_stream = _msg_connection_output_stream_new (self, write_untraced);
  return G_OUTPUT_STREAM (self->output_stream);
}

/* Reading. */

/* Reads more into the buffer: > 0 bytes read, 0 at EOF, -1 on error. */
static gssize
fill_buffer (MsgConnection *self,
             gint64         until,
             const char    *what,
             GCancellable  *cancellable,
             GError       **error)
{
  if (self->read_start > 0)
    {
      memmove (self->read_buffer, self->read_buffer + self->read_start,
               self->read_end - self->read_start);
      self->read_end -= self->read_start;
      self->read_start = 0;
    }
#ifdef TCP_QUICKACK
  /* Also sends at once an ACK that is already pending. */
  if (self->quick_ack && self->socket != NULL)
    g_socket_set_option (self->socket, IPPROTO_TCP, TCP_QUICKACK, TRUE, NULL);
#endif

  /* Just after a write on a plain socket, the reply is rarely there yet
   * (the server has to run first): wait before reading, and save a read
   * that would find nothing. poll() returns at once when it is there. */
  if (self->wrote && self->tls == NULL && self->read_end == 0)
    {
      if (g_cancellable_set_error_if_cancelled (cancellable, error) ||
          !wait_socket (self, G_IO_IN, until, what, cancellable, error))
        return -1;
    }

  for (;;)
    {
      g_autoptr (GError) local_error = NULL;
      gssize n;

      if (g_cancellable_set_error_if_cancelled (cancellable, error))
        return -1;
      n = g_pollable_input_stream_read_nonblocking (self->input, self->read_buffer + self->read_end,
                                                    MSG_CONNECTION_READ_BUFFER_SIZE - self->read_end,
                                                    NULL, &local_error);
      if (n >= 0)
        {
          self->read_end += (gsize) n;
          self->wrote = FALSE;
          return n;
        }
      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          g_set_error (error, local_error->domain, local_error->code,
                       "Error reading from %s:%u: %s", self->host, self->port,
                       local_error->message);
          return -1;
        }
      if (!wait_socket (self, G_IO_IN, until, what, cancellable, error))
        return -1;
    }
}

/* One line without its line end (CRLF or LF) into *line (not
 * nul-terminated, valid until the next read). Does not abort. */
static gboolean
read_line_internal (MsgConnection *self,
                    gint64         until,
                    const char    *what,
                    const char   **line,
                    gsize         *length,
                    GCancellable  *cancellable,
                    GError       **error)
{
  if (!require_connected (self, error))
    return FALSE;

  for (;;)
    {
      gsize       available = self->read_end - self->read_start;
      const char *start = self->read_buffer + self->read_start;
      const char *lf = memchr (start, '\n', MIN (available, MSG_REPLY_MAX_LINE_LENGTH));
      gssize      n;

      if (lf != NULL)
        {
          gsize line_length = (gsize) (lf - start);

          self->read_start += line_length + 1;
          if (line_length > 0 && start[line_length - 1] == '\r')
            line_length--;
          *line = start;
          *length = line_length;
          return TRUE;
        }
      if (available >= MSG_REPLY_MAX_LINE_LENGTH)
        {
          g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL,
                       "%s:%u sent a line longer than %d bytes",
                       self->host, self->port, MSG_REPLY_MAX_LINE_LENGTH);
          return FALSE;
        }
      n = fill_buffer (self, until, what, cancellable, error);
      if (n < 0)
        return FALSE;
      if (n == 0)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                       "%s:%u closed the connection %s",
                       self->host, self->port,
                       self->read_end > self->read_start ? "in the middle of a line"
                                                         : "while we waited for its reply");
          return FALSE;
        }
    }
}

static gboolean
begin_read (MsgConnection *self,
            gint64        *until,
            GCancellable  *cancellable,
            GError       **error)
{
  if (!msg_connection_flush (self, cancellable, error))
    return FALSE;
  *until = _msg_connection_exchange_until (self, self->exchange_start);
  return TRUE;
}

/**
 * msg_connection_read_line:
 * @self: a connection
 * @length: (out) (optional): return location for the length of the line
 * @cancellable: (nullable): a cancellable
 * @error: return location for a #GError
 *
 * Flushes queued commands, then reads one line ending in CRLF or a bare LF
 * and returns it without its line end. A line longer than
 * %MSG_REPLY_MAX_LINE_LENGTH (line end included) fails with
 * %MSG_TRANSPORT_ERROR_PROTOCOL. The line must be complete within the
 * inactivity limit from when the last command was sent (or the last reply
 * read). An EOF fails with %G_IO_ERROR_CONNECTION_CLOSED.
 *
 * Returns: (transfer full): the line (it may contain NUL bytes; see
 *   @length), or %NULL on error
 */
char *
msg_connection_read_line (MsgConnection *self,
                          gsize         *length,
                          GCancellable  *cancellable,
                          GError       **error)
{
  const char *line;
  gsize       line_length;
  gint64      until;

  g_return_val_if_fail (MSG_IS_CONNECTION (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!begin_read (self, &until, cancellable, error))
    return NULL;
  if (!read_line_internal (self, until, "waiting for a line from", &line, &line_length,
                           cancellable, error))
    {
      msg_connection_abort (self);
      return NULL;
    }
  trace_line (self, 'S', line, line_length);
  self->exchange_start = g_get_monotonic_time ();
  self->replies_read = TRUE;
  if (length != NULL)
    *length = line_length;
  return g_strndup (line, line_length);
}

/**
 * msg_connection_read_reply:
 * @self: a connection
 * @style: how the reply is read
 * @cancellable: (nullable): a cancellable
 * @error: return location for a #GError
 *
 * Flushes queued commands, then reads one whole reply: for
 * %MSG_REPLY_STYLE_SMTP continuation lines up to the final line (codes 200
 * to 599), for %MSG_REPLY_STYLE_NNTP one status line (codes 100 to 599).
 *
 * The whole reply must be complete within the inactivity limit from when
 * the last command was sent (or the previous reply was read, or the
 * connection made); the total deadline caps it. An invalid reply, or one
 * over %MSG_REPLY_MAX_LINE_LENGTH per line, %MSG_REPLY_MAX_LENGTH in all
 * or 1000 lines, fails with %MSG_TRANSPORT_ERROR_PROTOCOL; an EOF with
 * %G_IO_ERROR_CONNECTION_CLOSED.
 *
 * Returns: (transfer full): the reply, or %NULL on error
 */
MsgReply *
msg_connection_read_reply (MsgConnection *self,
                           MsgReplyStyle  style,
                           GCancellable  *cancellable,
                           GError       **error)
{
  g_autoptr (MsgReplyParser) parser = NULL;
  gboolean done = FALSE;
  gint64   until;

  g_return_val_if_fail (MSG_IS_CONNECTION (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!begin_read (self, &until, cancellable, error))
    return NULL;
  parser = _msg_reply_parser_new (style == MSG_REPLY_STYLE_NNTP ? MSG_REPLY_GRAMMAR_NNTP
                                                                : MSG_REPLY_GRAMMAR_SMTP);
  while (!done)
    {
      g_autoptr (GError) local_error = NULL;
      const char *line;
      gsize       length;

      if (!read_line_internal (self, until, "waiting for a reply from", &line, &length,
                               cancellable, error))
        {
          msg_connection_abort (self);
          return NULL;
        }
      trace_line (self, 'S', line, length);
      if (!_msg_reply_parser_feed_line (parser, line, length, &done, &local_error))
        {
          g_set_error (error, local_error->domain, local_error->code,
                       "Invalid reply from %s:%u: %s", self->host, self->port,
                       local_error->message);
          msg_connection_abort (self);
          return NULL;
        }
    }
  self->exchange_start = g_get_monotonic_time ();
  self->replies_read = TRUE;
  return _msg_reply_parser_finish (parser);
}

/**
 * msg_connection_read_dot_lines:
 * @self: a connection
 * @max_lines: the most lines accepted, or 0 for no limit but the size cap
 * @cancellable: (nullable): a cancellable
 * @error: return location for a #GError
 *
 * Flushes queued commands, then reads an NNTP multi-line data block: lines
 * up to the lone `"."` that ends it, with the leading dot of dot-stuffed
 * lines removed. The whole block must be complete within the inactivity
 * limit from when the last command was sent (or the last reply read).
 *
 * More than @max_lines lines, more than
 * %MSG_CONNECTION_MAX_DOT_BLOCK_LENGTH bytes, a line longer than
 * %MSG_REPLY_MAX_LINE_LENGTH or a NUL byte fail with
 * %MSG_TRANSPORT_ERROR_PROTOCOL.
 *
 * Returns: (transfer full): the lines, or %NULL on error
 */
GStrv
msg_connection_read_dot_lines (MsgConnection *self,
                               unsigned       max_lines,
                               GCancellable  *cancellable,
                               GError       **error)
{
  g_autoptr (GPtrArray) lines = NULL;
  gsize  total = 0;
  gint64 until;

  g_return_val_if_fail (MSG_IS_CONNECTION (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!begin_read (self, &until, cancellable, error))
    return NULL;
  lines = g_ptr_array_new_with_free_func (g_free);
  for (;;)
    {
      const char *line;
      gsize       length;

      if (!read_line_internal (self, until, "waiting for data from", &line, &length,
                               cancellable, error))
        {
          msg_connection_abort (self);
          return NULL;
        }
      trace_line (self, 'S', line, length);
      if (length == 1 && line[0] == '.')
        break;
      if (length > 0 && line[0] == '.')
        {
          line++;
          length--;
        }
      total += length + 2;
      if (total > MSG_CONNECTION_MAX_DOT_BLOCK_LENGTH ||
          (max_lines > 0 && lines->len >= max_lines) ||
          memchr (line, '\0', length) != NULL)
        {
          g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL,
                       "%s:%u sent %s", self->host, self->port,
                       total > MSG_CONNECTION_MAX_DOT_BLOCK_LENGTH ? "a data block over the size limit"
                       : memchr (line, '\0', length) != NULL       ? "a NUL byte in a data block"
                                                                   : "more lines than expected in a data block");
          msg_connection_abort (self);
          return NULL;
        }
      g_ptr_array_add (lines, g_strndup (line, length));
    }
  self->exchange_start = g_get_monotonic_time ();
  self->replies_read = TRUE;
  g_ptr_array_add (lines, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&lines), FALSE);
}
