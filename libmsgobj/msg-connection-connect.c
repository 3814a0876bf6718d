/* msg-connection-connect.c: MsgConnection's connect and STARTTLS:
 * resolving, connecting and the TLS handshake, each bounded by the clocks
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-connection-private.h"

#include "msg-connect-race-private.h"
#include "msg-deadline-private.h"
#include "msg-tls-utils-private.h"
#include "msg-worker-private.h"
#include "msg-transport.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

/* Fails at once when cancelled or past @until. */
static gboolean
check_clocks (MsgConnection *self,
              gint64         until,
              const char    *what,
              GCancellable  *cancellable,
              GError       **error)
{
  return _msg_connection_wait_result (self, _msg_deadline_check (until, cancellable), until, what, cancellable, error);
}

/* Waits for @job, run on the library's threads; FALSE with the error when
 * a clock or the cancellable won (the job is then to be abandoned). */
static gboolean
wait_for_job (MsgConnection *self,
              MsgWorkerJob  *job,
              gint64         until,
              const char    *what,
              GCancellable  *cancellable,
              GError       **error)
{
  return _msg_connection_wait_result (self, _msg_worker_job_wait (job, until, cancellable), until, what, cancellable, error);
}

static GList *
resolve (MsgConnection *self,
         gint64         until,
         GCancellable  *cancellable,
         GError       **error)
{
  g_autoptr (GInetAddress) literal = g_inet_address_new_from_string (self->host);
  g_autoptr (GResolver) resolver = NULL;
  g_autoptr (MsgWorkerJob) job = NULL;
  g_autoptr (GError) local_error = NULL;
  GList *addresses;

  if (literal != NULL)
    return g_list_prepend (NULL, g_steal_pointer (&literal));

  /* On a resolver thread of the library's: a lookup that never returns
   * is abandoned there when a clock or the cancellable wins, and holds no
   * thread of GLib's shared pool (where TLS handshakes run). */
  resolver = g_resolver_get_default ();
  job = _msg_worker_resolve (self->context, resolver, self->host);
  if (!wait_for_job (self, job, until, "resolving the name of", cancellable, error))
    return NULL;
  addresses = _msg_worker_resolve_finish (job, &local_error);
  if (addresses == NULL)
    {
      /* GLib's resolver codes, as GSocketClient reports them: not found
       * (NXDOMAIN) is final, a temporary failure may pass. */
      const char *meaning = "";

      if (g_error_matches (local_error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND))
        meaning = " (host not found)";
      else if (g_error_matches (local_error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_TEMPORARY_FAILURE))
        meaning = " (temporary failure; a later retry may succeed)";
      g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "Could not resolve %s%s: ",
                                  self->host, meaning);
      return NULL;
    }
  return addresses;
}

/* The connected socket, for the blocking primitives. */
static void
setup_socket (GSocket *socket)
{
  g_socket_set_blocking (socket, TRUE);
  g_socket_set_timeout (socket, 0);
  /* Writes are coalesced here (a pipelined batch, 64 KiB data blocks), so
   * Nagle's algorithm only adds the peer's delayed-ACK wait (~40 ms) to
   * a small write that follows another one. */
  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);
}

/* Connects to one of @addresses (see _msg_connect_race()): the race has
 * the connect clock, one for all the addresses. */
static gboolean
connect_addresses (MsgConnection *self,
                   GList         *addresses,
                   gint64         until,
                   GCancellable  *cancellable,
                   GError       **error)
{
  g_autoptr (GError) last_error = NULL;
  MsgDeadlineResult result;

  self->socket = _msg_connect_race (self->context, addresses, self->port, until, cancellable,
                                    &result, &last_error);
  if (self->socket != NULL)
    {
      setup_socket (self->socket);
      return TRUE;
    }
  if (result != MSG_DEADLINE_READY)
    return _msg_connection_wait_result (self, result, until, "connecting to", cancellable, error);
  g_set_error (error, G_IO_ERROR, last_error->domain == G_IO_ERROR ? last_error->code : G_IO_ERROR_FAILED,
               "Could not connect to %s:%u: %s", self->host, self->port, last_error->message);
  return FALSE;
}

static void
set_streams (MsgConnection *self,
             GIOStream     *top)
{
  self->input = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (top));
  self->output = G_POLLABLE_OUTPUT_STREAM (g_io_stream_get_output_stream (top));
}

/* A TLS client connection over the TCP connection, set up from the TLS
 * settings. With tlscafile, the database is given at construction, as
 * g_tls_client_connection_new() cannot: glib-networking otherwise loads
 * the system's trust store (about 140 certificates) for the connection's
 * first credentials, and again for every later connection, only for
 * g_tls_connection_set_database() to replace them (tens of ms, 10 MiB). */
static GIOStream *
tls_client_new (MsgConnection *self,
                GError       **error)
{
  g_autoptr (GSocketConnectable) identity = NULL;
  g_autoptr (GTlsDatabase) database = NULL;
  g_autoptr (GIOStream) tls = NULL;
  g_autoptr (GError) local_error = NULL;

  if (self->tls_ca_file != NULL && self->tls_ca_file[0] != '\0')
    {
      database = g_tls_file_database_new (self->tls_ca_file, &local_error);
      if (database == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "Could not load the TLS CA file %s: %s",
                       self->tls_ca_file, local_error->message);
          return NULL;
        }
    }
  identity = g_network_address_new (self->host, self->port);
  if (database != NULL)
    tls = g_initable_new (g_tls_backend_get_client_connection_type (g_tls_backend_get_default ()), NULL,
                          &local_error, "base-io-stream", self->tcp, "server-identity", identity,
                          "database", database, NULL);
  else
    tls = g_tls_client_connection_new (self->tcp, identity, &local_error);
  if (tls == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   "TLS is not available (is glib-networking installed?): %s",
                   local_error->message);
      return NULL;
    }
  g_tls_connection_set_require_close_notify (G_TLS_CONNECTION (tls), FALSE);
  if (!self->tls_verify)
    _msg_tls_accept_any_certificate (G_TLS_CONNECTION (tls), self->host, self->port, self->tls_warned);
  return g_steal_pointer (&tls);
}

/* The certificate failed verification: the reasons and the fixes, in the
 * error and in the trace. */
static gboolean
certificate_error (MsgConnection       *self,
                   GTlsCertificateFlags flags,
                   GError             **error)
{
  GError *local_error = NULL;

  _msg_tls_set_certificate_error (&local_error, self->host, self->port, flags);
  _msg_connection_trace_note (self, "%s", local_error->message);
  g_propagate_error (error, local_error);
  return FALSE;
}

/* Shuts the socket down (the peer sees the close at once, and a thread
 * blocked on it wakes up) and drops the connection's references without
 * closing the descriptor: a handshake thread may still use it, and it is
 * closed when the last reference goes (decision 10 otherwise). */
static void
shutdown_in_use (MsgConnection *self)
{
  g_socket_shutdown (self->socket, TRUE, TRUE, NULL);
  _msg_connection_trace_note (self, "connection shut down (closed when the handshake thread lets go)");
  self->input = NULL;
  self->output = NULL;
  g_clear_object (&self->tls);
  g_clear_object (&self->tcp);
  g_clear_object (&self->socket);
}

/* Runs the handshake of @tls on a handshake thread, raced against the
 * clocks; when a clock or the cancellable wins, returns at once, whether
 * or not the TLS backend heeds the cancellation. */
static gboolean
tls_handshake (MsgConnection *self,
               GIOStream     *tls,
               gint64         until,
               GCancellable  *cancellable,
               GError       **error)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (MsgWorkerJob) job = NULL;

  _msg_connection_trace_note (self, "TLS handshake");
  job = _msg_worker_handshake (self->context, G_TLS_CONNECTION (tls));
  if (!wait_for_job (self, job, until, "in the TLS handshake with", cancellable, error))
    {
      /* The job is abandoned (cancelled) when it goes. */
      shutdown_in_use (self);
      return FALSE;
    }
  if (!_msg_worker_handshake_finish (job, &local_error))
    {
      GTlsCertificateFlags flags = g_tls_connection_get_peer_certificate_errors (G_TLS_CONNECTION (tls));

      if (g_error_matches (local_error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE) && flags != 0)
        return certificate_error (self, flags, error);
      g_set_error (error, local_error->domain, local_error->code,
                   "TLS handshake with %s:%u failed: %s",
                   self->host, self->port, local_error->message);
      return FALSE;
    }
  return TRUE;
}

/* glib-networking (2.74) resumes a TLS session from its process-wide
 * cache, keyed by the server's address and name but not by the trust
 * settings, without rejecting a certificate that fails verification: a
 * session made with tlsverify off, or against another tlscafile, would
 * pass for a verified one. The errors are still computed; act on them. */
static gboolean
check_peer_certificate (MsgConnection *self,
                        GIOStream     *tls,
                        GError       **error)
{
  GTlsCertificateFlags errors;

  if (!self->tls_verify)
    return TRUE;
  errors = g_tls_connection_get_peer_certificate_errors (G_TLS_CONNECTION (tls));
  if (errors == 0)
    return TRUE;

  /* The socket first: dropping the TLS stream must not write. */
  g_socket_close (self->socket, NULL);
  return certificate_error (self, errors, error);
}

/* TLS 1.0 and 1.1 are deprecated (RFC 8996), yet GnuTLS's default
 * priority on Debian 12 still offers them: refuse a session below 1.2. */
static gboolean
check_protocol_version (MsgConnection *self,
                        GIOStream     *tls,
                        GError       **error)
{
  if (_msg_tls_check_protocol_version (G_TLS_CONNECTION (tls), self->host, self->port, error))
    return TRUE;
  /* The socket first: dropping the TLS stream must not write. */
  g_socket_close (self->socket, NULL);
  return FALSE;
}

/* Wraps the TCP connection in TLS and performs the handshake, with its own
 * exchange clock. */
static gboolean
handshake (MsgConnection *self,
           GCancellable  *cancellable,
           GError       **error)
{
  g_autoptr (GIOStream) tls = NULL;
  gint64 until = _msg_connection_exchange_until (self, g_get_monotonic_time ());

  tls = tls_client_new (self, error);
  if (tls == NULL)
    return FALSE;
  if (!tls_handshake (self, tls, until, cancellable, error) ||
      !check_peer_certificate (self, tls, error) ||
      !check_protocol_version (self, tls, error))
    return FALSE;

  self->tls = g_steal_pointer (&tls);
  set_streams (self, self->tls);
  self->exchange_start = g_get_monotonic_time ();
  _msg_connection_trace_note (self, "TLS established");
  return TRUE;
}

/**
 * msg_connection_connect:
 * @self: a connection
 * @implicit_tls: whether to start TLS at once (SMTPS on 465, NNTPS on 563)
 * @cancellable: (nullable): a cancellable
 * @error: return location for a #GError
 *
 * Resolves the host, connects to the first address that answers and, with
 * @implicit_tls, performs the TLS handshake (server name sent with SNI and
 * checked against the certificate; see [method@Connection.set_tls_ca_file]
 * and [method@Connection.set_tls_verify]).
 *
 * Several addresses are raced as RFC 8305 (Happy Eyeballs v2) says: IPv6
 * first, the families interleaved, the next attempt 250 ms after the last
 * one (at once when it failed) while the earlier ones go on; the first to
 * connect wins and the others are closed. Name lookups and handshakes run
 * on threads of the library's, never in GLib's shared worker pool, and
 * are abandoned when a clock or @cancellable wins.
 *
 * The connect (name resolution and every address together) and the
 * handshake each have the inactivity limit, and both the total deadline. The server's greeting is
 * then read with [method@Connection.read_reply], whose clock starts when
 * the connection is made. A connection that was connected is aborted
 * first.
 *
 * Errors: %G_IO_ERROR_CONNECTION_REFUSED, %G_IO_ERROR_TIMED_OUT,
 * %G_IO_ERROR_CANCELLED, resolver errors, TLS errors (%G_TLS_ERROR).
 *
 * Returns: whether the connection is open
 */
gboolean
msg_connection_connect (MsgConnection *self,
                        gboolean       implicit_tls,
                        GCancellable  *cancellable,
                        GError       **error)
{
  GList   *addresses;
  gint64   until;
  gboolean connected;

  g_return_val_if_fail (MSG_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  msg_connection_abort (self);
  /* Made before the socket, so that the socket is what finds no
   * descriptor left, not GLib (which would abort). */
  if (self->context == NULL)
    {
      g_autoptr (GError) local_error = NULL;

      self->context = _msg_main_context_try_new (&local_error);
      if (self->context == NULL)
        {
          g_set_error (error, local_error->domain, local_error->code, "Could not connect to %s:%u: %s",
                       self->host, self->port, local_error->message);
          return FALSE;
        }
    }
  until = _msg_connection_exchange_until (self, g_get_monotonic_time ());
  _msg_connection_trace_note (self, "connecting to %s:%u%s", self->host, self->port,
                              implicit_tls ? " (TLS)" : "");

  if (!check_clocks (self, until, "resolving the name of", cancellable, error))
    return FALSE;
  addresses = resolve (self, until, cancellable, error);
  if (addresses == NULL)
    return FALSE;

  connected = connect_addresses (self, addresses, until, cancellable, error);
  g_list_free_full (addresses, g_object_unref);
  if (!connected)
    return FALSE;

  self->tcp = G_IO_STREAM (g_socket_connection_factory_create_connection (self->socket));
  set_streams (self, self->tcp);
  self->read_start = self->read_end = 0;
  self->replies_read = FALSE;
  _msg_connection_clear_queue (self->queue);
  self->exchange_start = g_get_monotonic_time ();
  _msg_connection_trace_note (self, "connected");

  if (implicit_tls && !handshake (self, cancellable, error))
    {
      msg_connection_abort (self);
      return FALSE;
    }
  return TRUE;
}

/**
 * msg_connection_starttls:
 * @self: a connection
 * @cancellable: (nullable): a cancellable
 * @error: return location for a #GError
 *
 * Upgrades a plain connection to TLS, after the caller has read the
 * server's go-ahead reply to STARTTLS (SMTP 220, NNTP 382).
 *
 * If the server sent anything after its go-ahead (bytes already read ahead
 * or waiting on the socket), the connection is aborted and the call fails
 * with %MSG_TRANSPORT_ERROR_PROTOCOL: such bytes would be plaintext that an
 * attacker could inject (RFC 3207 section 4.2). The handshake has the
 * inactivity limit and the total deadline.
 *
 * Returns: whether the connection now uses TLS
 */
gboolean
msg_connection_starttls (MsgConnection *self,
                         GCancellable  *cancellable,
                         GError       **error)
{
  gboolean injected;

  g_return_val_if_fail (MSG_IS_CONNECTION (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->socket == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                   "Not connected to %s:%u", self->host, self->port);
      return FALSE;
    }
  if (self->tls != NULL || self->queue->len > 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   self->tls != NULL ? "The connection to %s:%u already uses TLS"
                                     : "Commands queued for %s:%u before STARTTLS",
                   self->host, self->port);
      msg_connection_abort (self);
      return FALSE;
    }
  injected = self->read_end > self->read_start;
  if (!injected)
    {
      /* One look: a close or reset is readable too, but it is no
       * injection, and a second look (a poll) could find a close that
       * arrived after the first and take it for data. */
      char   byte;
      gssize n = recv (g_socket_get_fd (self->socket), &byte, 1, MSG_PEEK | MSG_DONTWAIT);

      if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR))
        {
          int saved_errno = n == 0 ? ECONNRESET : errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "%s:%u closed the connection after the STARTTLS go-ahead%s%s",
                       self->host, self->port, n == 0 ? "" : ": ",
                       n == 0 ? "" : g_strerror (saved_errno));
          msg_connection_abort (self);
          return FALSE;
        }
      injected = n > 0;
    }
  if (injected)
    {
      g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL,
                   "%s:%u sent data after the STARTTLS go-ahead, before the TLS "
                   "handshake (possible plaintext injection)",
                   self->host, self->port);
      msg_connection_abort (self);
      return FALSE;
    }
  if (!handshake (self, cancellable, error))
    {
      msg_connection_abort (self);
      return FALSE;
    }
  return TRUE;
}
