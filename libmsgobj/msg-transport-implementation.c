/* msg-transport-implementation.c: what a transport implementation calls
 * during an operation (its snapshot, start and deadline, the next queued
 * send, progress, tokens)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-transport.h"
#include "msg-transport-operation-private.h"

#include "msg-caller-request-private.h"
#include "msg-configuration.h"
#include "msg-message.h"

/* Progress is emitted at most this often (µs), plus the final emission. */
#define PROGRESS_INTERVAL (100 * 1000)

/* The running send's signer, or NULL when it is not to be signed. */
MsgDkimSigner *
_msg_transport_get_dkim_signer (MsgTransport *self)
{
  Operation *op = _msg_transport_current_operation (self);

  return op != NULL ? op->dkim : NULL;
}

/**
 * msg_transport_get_operation_configuration:
 * @self: a transport
 *
 * Returns the snapshot of the settings taken when the running operation
 * was called (before it waited for its turn, if it was queued); outside
 * an operation, the transport's settings. For transport implementations:
 * the snapshot is safe to read from the worker thread while the caller
 * changes the transport's configuration.
 *
 * Returns: (transfer none): the settings of the running operation
 */
MsgConfiguration *
msg_transport_get_operation_configuration (MsgTransport *self)
{
  MsgTransportPrivate *priv = _msg_transport_get_private (self);
  Operation           *op;
  MsgConfiguration    *configuration;

  g_return_val_if_fail (MSG_IS_TRANSPORT (self), NULL);

  op = _msg_transport_current_operation (self);
  if (op != NULL)
    return op->configuration;
  g_mutex_lock (&priv->lock);
  configuration = priv->running != NULL ? priv->running->configuration : priv->configuration;
  g_mutex_unlock (&priv->lock);
  return configuration;
}

/**
 * msg_transport_get_operation_start_time:
 * @self: a transport
 *
 * Returns when the running operation was called, in g_get_monotonic_time()
 * microseconds: the total deadline of the operation counts from it, also
 * for asynchronous calls whose worker starts later. For transport
 * implementations.
 *
 * Returns: the start of the running operation, or 0 outside one
 */
gint64
msg_transport_get_operation_start_time (MsgTransport *self)
{
  MsgTransportPrivate *priv = _msg_transport_get_private (self);
  Operation           *op;
  gint64               start;

  g_return_val_if_fail (MSG_IS_TRANSPORT (self), 0);

  op = _msg_transport_current_operation (self);
  if (op != NULL)
    return op->start;
  g_mutex_lock (&priv->lock);
  start = priv->running != NULL ? priv->running->start : 0;
  g_mutex_unlock (&priv->lock);
  return start;
}

/**
 * msg_transport_peek_queued_send:
 * @self: a transport
 * @message: (out) (transfer full) (optional) (nullable): the message of
 *   the send queued next
 * @configuration: (out) (transfer full) (optional) (nullable): its
 *   configuration snapshot
 * @start_time: (out) (optional): when it was called, on the
 *   g_get_monotonic_time() clock
 *
 * Looks at the operation queued right after the running one, for a
 * transport that pipelines across messages (RFC 2920 section 3.1, RFC 3977
 * section 3.5, docs/design.md decision 14): while it waits for the reply
 * to a message, it may write the next message's envelope (or POST), then,
 * when that send gets its turn (its message and start time match), read
 * the replies instead of writing the envelope again. The queue is in call
 * order and only the running operation ends, so the send looked at here
 * runs next unless it is cancelled or times out first; the transport must
 * then notice, when the following operation runs, that the connection
 * holds an envelope for a message that is not its own, and close it.
 *
 * For transport implementations, from within a running operation. The
 * message is claimed by its send: read it, never modify it.
 *
 * Within a post ([method@Transport.post_message]) the operation looked
 * for is the next post; within a send, the next send.
 *
 * Returns: %TRUE if the next queued operation is a send (a post, within a
 *   post) that is neither cancelled nor past its deadline, nor to be
 *   signed or encrypted when its turn comes (the `cryptosign` and
 *   `cryptoencrypt` fields)
 */
gboolean
msg_transport_peek_queued_send (MsgTransport      *self,
                                MsgMessage       **message,
                                MsgConfiguration **configuration,
                                gint64            *start_time)
{
  MsgTransportPrivate *priv = _msg_transport_get_private (self);
  Operation           *running = _msg_transport_current_operation (self);
  Operation           *next;
  OpKind               kind = running != NULL ? running->kind : OP_SEND;
  gboolean             automatic;
  gboolean             found = FALSE;

  g_return_val_if_fail (MSG_IS_TRANSPORT (self), FALSE);

  if (message != NULL)
    *message = NULL;
  if (configuration != NULL)
    *configuration = NULL;
  if (start_time != NULL)
    *start_time = 0;
  g_mutex_lock (&priv->lock);
  next = g_queue_peek_head (&priv->waiting);
  /* A send to seal is not: its message changes when its turn comes. */
  /* Nor one whose own thread is reading its message (measuring it after
   * a long wait): GMime's objects are not for two threads at once. */
  if (next != NULL && next->kind == kind && kind != OP_CLOSE && !next->seal && !next->measuring &&
      !g_cancellable_is_cancelled (next->cancellable) && _msg_transport_queued_deadline (next, &automatic) > g_get_monotonic_time ())
    {
      found = TRUE;
      next->peeked = TRUE;
      if (message != NULL)
        *message = g_object_ref (next->message);
      if (configuration != NULL)
        *configuration = g_object_ref (next->configuration);
      if (start_time != NULL)
        *start_time = next->start;
    }
  g_mutex_unlock (&priv->lock);
  return found;
}

typedef struct
{
  MsgTransport *self; /* (owned) */
  guint64       sent;
  guint64       total;
} ProgressData;

static gboolean
emit_progress_cb (gpointer user_data)
{
  ProgressData *data = user_data;

  g_signal_emit (data->self, _msg_transport_get_signal (MSG_TRANSPORT_SIGNAL_PROGRESS), 0, data->sent, data->total);
  return G_SOURCE_REMOVE;
}

static void
progress_data_free (gpointer user_data)
{
  ProgressData *data = user_data;

  g_object_unref (data->self);
  g_free (data);
}

/* A request for a token, asked in the caller's main context: the
 * operation may stop waiting (its deadline, its cancellable) before the
 * handler has run. */
typedef struct
{
  MsgTransport *self; /* (owned) */
  char         *mechanism;
  char         *user;         /* (nullable) */
  char         *server_error; /* (nullable) */
} TokenRequest;

static void
token_request_free (gpointer data)
{
  TokenRequest *request = data;

  g_object_unref (request->self);
  g_free (request->mechanism);
  g_free (request->user);
  g_free (request->server_error);
  g_free (request);
}

/* Runs in the caller's main context. */
static char *
emit_need_token_cb (gpointer user_data)
{
  TokenRequest *request = user_data;
  char         *token = NULL;

  g_signal_emit (request->self, _msg_transport_get_signal (MSG_TRANSPORT_SIGNAL_NEED_TOKEN), 0, request->mechanism, request->user,
                 request->server_error, &token);
  return token;
}

/**
 * msg_transport_request_token:
 * @self: a transport
 * @mechanism: the SASL mechanism that needs the token
 * @user: (nullable): the user name
 * @server_error: (nullable): what the server said about the refused token
 * @deadline: the monotonic time (g_get_monotonic_time()) after which to
 *   stop waiting, or 0 for none
 * @cancellable: (nullable): stops the wait when cancelled
 *
 * Asks for a fresh OAuth 2 access token by emitting
 * [signal@Transport::need-token]: in the caller's main context for an
 * asynchronous call, waiting for the handler until @deadline or
 * @cancellable. For transport implementations; call it from the
 * operation's thread.
 *
 * Returns: (transfer full) (nullable): the token, or %NULL if no handler
 *   gave one in time
 */
char *
msg_transport_request_token (MsgTransport *self,
                             const char   *mechanism,
                             const char   *user,
                             const char   *server_error,
                             gint64        deadline,
                             GCancellable *cancellable)
{
  TokenRequest *request;
  Operation    *op;
  char         *token;
  g_autoptr (MsgCallerRequest) caller_request = NULL;

  g_return_val_if_fail (MSG_IS_TRANSPORT (self), NULL);
  g_return_val_if_fail (mechanism != NULL, NULL);

  op = _msg_transport_current_operation (self);
  if (op == NULL || op->caller == NULL || g_main_context_is_owner (op->caller))
    {
      token = NULL;
      g_signal_emit (self, _msg_transport_get_signal (MSG_TRANSPORT_SIGNAL_NEED_TOKEN), 0, mechanism, user, server_error, &token);
      return token;
    }
  request = g_new0 (TokenRequest, 1);
  request->self = g_object_ref (self);
  request->mechanism = g_strdup (mechanism);
  request->user = g_strdup (user);
  request->server_error = g_strdup (server_error);
  caller_request = _msg_caller_request_new (emit_need_token_cb, request, token_request_free);
  token = _msg_caller_request_run (caller_request, op->caller, G_PRIORITY_DEFAULT_IDLE, "[msgobj] need-token",
                                   deadline, cancellable, NULL);
  return token;
}

/**
 * msg_transport_emit_progress:
 * @self: a transport
 * @sent: bytes written so far
 * @total: bytes in the whole message, or 0 if unknown
 *
 * Reports progress while a message is written. Emissions are rate-limited
 * (the last one, where @sent equals @total, always passes) and, for
 * asynchronous calls, delivered in the caller's main context. For
 * transport implementations; call it from the operation's thread.
 */
void
msg_transport_emit_progress (MsgTransport *self,
                             guint64       sent,
                             guint64       total)
{
  gint64        now = g_get_monotonic_time ();
  Operation    *op;
  ProgressData *data;
  g_autoptr (GSource) source = NULL;

  g_return_if_fail (MSG_IS_TRANSPORT (self));

  /* Nobody listens: no emission, and for an _async call no wake-up of
   * the caller's main context (issue 18: one more hand-off per message). */
  if (!g_signal_has_handler_pending (self, _msg_transport_get_signal (MSG_TRANSPORT_SIGNAL_PROGRESS), 0, FALSE))
    return;
  op = _msg_transport_current_operation (self);
  if (op != NULL)
    {
      if (sent != total && now - op->last_progress < PROGRESS_INTERVAL)
        return;
      op->last_progress = now;
    }

  if (op == NULL || op->context == NULL)
    {
      g_signal_emit (self, _msg_transport_get_signal (MSG_TRANSPORT_SIGNAL_PROGRESS), 0, sent, total);
      return;
    }

  data = g_new0 (ProgressData, 1);
  data->self = g_object_ref (self);
  data->sent = sent;
  data->total = total;
  /* Always through a source: g_main_context_invoke_full() would run the
   * handler right here, in the worker, whenever it can acquire the caller's
   * context (e.g. before the caller's main loop runs). */
  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_callback (source, emit_progress_cb, data, progress_data_free);
  g_source_set_static_name (source, "[msgobj] progress");
  g_source_attach (source, op->context);
}

/**
 * msg_transport_get_operation_deadline:
 * @self: a transport
 * @timeout: the operation time-out in seconds (the transport's
 *   `*operationtimeout` field); 0 or less for the automatic one
 * @message_size: the size of the message, for the automatic time-out
 *
 * Computes the total deadline of the running operation: its start (when
 * the call was made, for asynchronous calls too) plus @timeout, or plus
 * the automatic time-out of 300 s and one second per 64 KiB of message.
 * For transport implementations; pass the result to
 * [method@Connection.set_deadline].
 *
 * Returns: the deadline on the g_get_monotonic_time() clock
 */
gint64
msg_transport_get_operation_deadline (MsgTransport *self,
                                      double        timeout,
                                      guint64       message_size)
{
  gint64 start;

  g_return_val_if_fail (MSG_IS_TRANSPORT (self), 0);

  start = msg_transport_get_operation_start_time (self);
  if (start == 0)
    start = g_get_monotonic_time ();
  if (timeout <= 0)
    timeout = 300.0 + (double) (message_size / (64 * 1024));
  return start + (gint64) (timeout * G_USEC_PER_SEC + 0.5);
}
