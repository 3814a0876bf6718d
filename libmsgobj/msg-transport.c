/* msg-transport.c: the transport plugin base class and registry
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-transport.h"
#include "msg-transport-private.h"
#include "msg-transport-operation-private.h"

#include "msg-caller-request-private.h"
#include "msg-configuration.h"
#include "msg-dkim-signer-private.h"
#include "msg-message-crypto-private.h"
#include "msg-message-private.h"
#include "msg-modules-private.h"
#include "msg-send-report.h"
#include "msg-thread-private.h"

#include <string.h>
#include <unistd.h>

/**
 * MsgTransport:
 *
 * The base class of every transport: the built-in `pickup`, and the `smtp`
 * and `nntp` plugins, or any third-party module.
 *
 * A transport carries messages: [method@Transport.send_message] for mail,
 * [method@Transport.post_message] for news. It keeps its connection between
 * messages and reuses it. After any error, time-out or cancellation its
 * connection has already been closed and freed when the call returns, and
 * the next call connects afresh.
 *
 * One operation runs at a time on a transport. Operations started while one
 * runs, from any thread, sync or async, wait their turn in the order they
 * were called, each under its own cancellable and its own total deadline,
 * which counts from the call: a queued operation that is cancelled, or
 * whose deadline passes while it waits, leaves the queue at once with
 * %G_IO_ERROR_CANCELLED or %G_IO_ERROR_TIMED_OUT, without touching the
 * connection or the running operation. [method@Transport.close] waits its
 * turn like any other operation, so the sends queued before it are sent
 * first. Sending or posting a message that another operation, on any
 * transport, is sending or has queued fails with %G_IO_ERROR_PENDING: to
 * send the same message through several transports at once, send copies.
 *
 * ## Writing a transport
 *
 * Subclass `MsgTransport` in a GIO module named `libmsgobj-NAME.so`, whose
 * `g_io_msgobj_NAME_load()` registers the type at the extension point
 * %MSG_TRANSPORT_EXTENSION_POINT_NAME under its name. Implement the
 * sequential, blocking virtual functions; the base class checks the message
 * before any I/O, snapshots the configuration
 * ([method@Transport.get_operation_configuration]), and runs the same
 * function in a worker thread for the asynchronous API. Do all network I/O
 * through [class@Connection].
 *
 * [method@Message.send] and [method@Message.post] end their transport's
 * connection by calling `close_sync` within the send's operation, with the
 * caller's cancellable: [method@Transport.get_operation_start_time] then
 * still returns the send's start, and the polite goodbye (QUIT) must get
 * only what is left of the send's deadline.
 *
 * A transport written in Python, JavaScript or Vala, or built into an
 * application, overrides the same virtual functions and registers its type
 * with [func@Transport.register_type].
 */

/**
 * msg_transport_error_quark:
 *
 * Gets the error domain of transport errors, %MSG_TRANSPORT_ERROR.
 *
 * Returns: the #GQuark of the domain
 */
/* clang-format off */
G_DEFINE_QUARK (msg-transport-error-quark, msg_transport_error)
/* clang-format on */
G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (MsgTransport, msg_transport, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_CONFIGURATION,
  PROP_NAME,
  PROP_RUN_IN_CALLER_CONTEXT,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];
static guint       signals[MSG_TRANSPORT_N_SIGNALS];

static void
msg_transport_constructed (GObject *object)
{
  MsgTransport        *self = MSG_TRANSPORT (object);
  MsgTransportPrivate *priv = msg_transport_get_instance_private (self);

  G_OBJECT_CLASS (msg_transport_parent_class)->constructed (object);

  if (priv->configuration == NULL)
    priv->configuration = msg_configuration_new ();

  /* A transport made with g_object_new() finds its registered name. */
  if (priv->name == NULL)
    {
      priv->name = _msg_modules_find_transport_name (G_OBJECT_TYPE (object));
      if (priv->name == NULL)
        priv->name = g_strdup (G_OBJECT_TYPE_NAME (object));
    }
}

static void
msg_transport_finalize (GObject *object)
{
  MsgTransport        *self = MSG_TRANSPORT (object);
  MsgTransportPrivate *priv = msg_transport_get_instance_private (self);

  /* Every operation holds a reference until it ends. */
  g_assert (priv->running == NULL && g_queue_is_empty (&priv->waiting));
  g_clear_object (&priv->configuration);
  g_clear_pointer (&priv->dkim, _msg_dkim_signer_unref);
  g_clear_pointer (&priv->caller_context, g_main_context_unref);
  g_free (priv->name);
  g_mutex_clear (&priv->lock);

  G_OBJECT_CLASS (msg_transport_parent_class)->finalize (object);
}

static void
msg_transport_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  MsgTransport        *self = MSG_TRANSPORT (object);
  MsgTransportPrivate *priv = msg_transport_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_CONFIGURATION:
      g_value_set_object (value, msg_transport_get_configuration (self));
      break;
    case PROP_NAME:
      g_value_set_string (value, msg_transport_get_name (self));
      break;
    case PROP_RUN_IN_CALLER_CONTEXT:
      g_value_set_boolean (value, g_atomic_int_get (&priv->in_caller));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
msg_transport_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  MsgTransport        *self = MSG_TRANSPORT (object);
  MsgTransportPrivate *priv = msg_transport_get_instance_private (self);

  switch (prop_id)
    {
    case PROP_CONFIGURATION:
      msg_transport_set_configuration (self, g_value_get_object (value));
      break;
    case PROP_NAME:
      g_free (priv->name);
      priv->name = g_value_dup_string (value);
      break;
    case PROP_RUN_IN_CALLER_CONTEXT:
      g_atomic_int_set (&priv->in_caller, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
msg_transport_class_init (MsgTransportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = msg_transport_constructed;
  object_class->finalize = msg_transport_finalize;
  object_class->get_property = msg_transport_get_property;
  object_class->set_property = msg_transport_set_property;

  /**
   * MsgTransport:configuration: (getter get_configuration) (setter set_configuration)
   *
   * The settings the transport uses. An operation uses the snapshot taken
   * when it was called, also while it waits for its turn.
   */
  properties[PROP_CONFIGURATION] =
      g_param_spec_object ("configuration", NULL, NULL, MSG_TYPE_CONFIGURATION,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MsgTransport:name: (getter get_name)
   *
   * The name the transport is registered under, such as "smtp".
   */
  properties[PROP_NAME] =
      g_param_spec_string ("name", NULL, NULL, NULL,
                           G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * MsgTransport:run-in-caller-context:
   *
   * Whether the asynchronous API calls the virtual functions in the
   * caller's thread-default main context instead of a worker thread, for
   * implementations in a language that runs in one thread only (gjs). The
   * blocking function then blocks that context while it runs; a
   * synchronous call made from that context while an asynchronous one is
   * queued on the same transport would wait for it forever. Off by
   * default; a transport sets it when it is constructed.
   */
  properties[PROP_RUN_IN_CALLER_CONTEXT] =
      g_param_spec_boolean ("run-in-caller-context", NULL, NULL, FALSE,
                            G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * MsgTransport::progress:
   * @self: the transport
   * @sent: bytes of the message written so far
   * @total: bytes in the whole message (0 if unknown)
   *
   * Emitted while a message is written, at most ten times a second and once
   * at the end. For an asynchronous call it is emitted in the thread-default
   * main context of the caller.
   */
  signals[MSG_TRANSPORT_SIGNAL_PROGRESS] =
      g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                    NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_UINT64, G_TYPE_UINT64);

  /**
   * MsgTransport::need-token:
   * @self: the transport
   * @mechanism: the SASL mechanism, `OAUTHBEARER` or `XOAUTH2`
   * @user: (nullable): the configured user name
   * @server_error: (nullable): what the server said about the refused
   *   token (the decoded OAuth 2 error, e.g. `{"status":"invalid_token"}`)
   *
   * Emitted when a server refuses an OAuth 2 access token (the configured
   * `sendpassword` or `postpassword`): a handler that returns a fresh token
   * makes the transport authenticate once more with it, on the same
   * connection. The first handler that returns a string wins; %NULL (or no
   * handler) lets the operation fail with
   * %MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED. For an asynchronous call
   * it is emitted in the thread-default main context of the caller, and the
   * operation waits for the handler, at most until its deadline or its
   * cancellation; keep it short, since the clocks run.
   *
   * Returns: (transfer full) (nullable): a fresh access token, or %NULL
   */
  signals[MSG_TRANSPORT_SIGNAL_NEED_TOKEN] =
      g_signal_new ("need-token", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                    g_signal_accumulator_first_wins, NULL, NULL, G_TYPE_STRING, 3,
                    G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
}

static void
msg_transport_init (MsgTransport *self)
{
  MsgTransportPrivate *priv = msg_transport_get_instance_private (self);

  g_mutex_init (&priv->lock);
}

/* Registry. */

/**
 * msg_transport_new_for_name:
 * @name: a transport's name: "pickup", "smtp", "nntp", or any loaded
 *   plugin's
 * @configuration: (nullable): the settings to use, or %NULL for the defaults
 * @error: return location for a #GError
 *
 * Creates the transport registered under @name. Plugins are loaded from the
 * directories in `$MSGOBJ_TRANSPORT_PATH` (a search path, ignored in setuid
 * processes) and from the installed transport directory, the first time
 * any transport is asked for.
 *
 * Returns: (transfer full): a new transport, or %NULL with
 *   %MSG_CONFIGURATION_ERROR_UNKNOWN_TRANSPORT
 */
MsgTransport *
msg_transport_new_for_name (const char       *name,
                            MsgConfiguration *configuration,
                            GError          **error)
{
  GType type;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (configuration == NULL || MSG_IS_CONFIGURATION (configuration), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* A send through pickup loads no module, one through SMTP only that one
   * (docs/design.md, decision 25). */
  type = _msg_modules_find_transport (name);
  if (type == G_TYPE_INVALID)
    {
      g_auto (GStrv) names = msg_transport_list_names ();
      g_autofree char *list = g_strjoinv (", ", names);

      g_set_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_UNKNOWN_TRANSPORT,
                   "No transport is named “%s” (available: %s)", name, list);
      return NULL;
    }

  return g_object_new (type,
                       "name", name,
                       "configuration", configuration,
                       NULL);
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

/**
 * msg_transport_list_names:
 *
 * Lists the registered transports.
 *
 * Returns: (transfer full) (array zero-terminated=1): the names of every
 *   registered transport, sorted
 */
GStrv
msg_transport_list_names (void)
{
  GPtrArray *names = _msg_modules_list_transports ();

  g_ptr_array_sort (names, compare_strings);
  g_ptr_array_add (names, NULL);
  return (GStrv) g_ptr_array_free (names, FALSE);
}

/**
 * msg_transport_register_type:
 * @name: the name to register the transport under, as `sendusing` and
 *   `postusing` and [ctor@Transport.new_for_name] will name it
 * @type: a non-abstract subclass of #MsgTransport
 * @error: return location for a #GError
 *
 * Registers a transport type that no module provides: one written in
 * Python, JavaScript or Vala, or one built into the application. From then
 * on @name finds it like a loaded plugin, for the rest of the process.
 *
 * Returns: %TRUE if @type was registered; %FALSE with
 *   %G_IO_ERROR_INVALID_ARGUMENT if @type is not a concrete transport or
 *   @name is empty, or %G_IO_ERROR_EXISTS if @name is taken
 */
gboolean
msg_transport_register_type (const char *name,
                             GType       type,
                             GError    **error)
{
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (*name == '\0')
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "A transport name must not be empty");
      return FALSE;
    }
  if (!g_type_is_a (type, MSG_TYPE_TRANSPORT) || G_TYPE_IS_ABSTRACT (type))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Cannot register “%s” as transport “%s”: not a concrete subclass of MsgTransport",
                   g_type_name (type), name);
      return FALSE;
    }

  if (!_msg_modules_register_transport (name, type))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   "A transport named “%s” is already registered", name);
      return FALSE;
    }
  return TRUE;
}

/* Properties. */

/**
 * msg_transport_get_name:
 * @self: a transport
 *
 * Gets the name the transport is registered under.
 *
 * Returns: the name the transport is registered under
 */
const char *
msg_transport_get_name (MsgTransport *self)
{
  MsgTransportPrivate *priv = msg_transport_get_instance_private (self);

  g_return_val_if_fail (MSG_IS_TRANSPORT (self), NULL);
  return priv->name;
}

/**
 * msg_transport_get_configuration:
 * @self: a transport
 *
 * Gets the settings the transport uses.
 *
 * Returns: (transfer none): the transport's settings
 */
MsgConfiguration *
msg_transport_get_configuration (MsgTransport *self)
{
  MsgTransportPrivate *priv = msg_transport_get_instance_private (self);
  MsgConfiguration    *configuration;

  g_return_val_if_fail (MSG_IS_TRANSPORT (self), NULL);

  g_mutex_lock (&priv->lock);
  configuration = priv->configuration;
  g_mutex_unlock (&priv->lock);
  return configuration;
}

/**
 * msg_transport_set_configuration:
 * @self: a transport
 * @configuration: (nullable): new settings, or %NULL for the defaults
 *
 * Replaces the transport's settings. An operation already running or
 * queued keeps using the snapshot it took when it was called; a kept
 * connection is reused only if the
 * settings that shaped it are unchanged.
 */
void
msg_transport_set_configuration (MsgTransport     *self,
                                 MsgConfiguration *configuration)
{
  MsgTransportPrivate *priv = msg_transport_get_instance_private (self);
  MsgConfiguration    *old;

  g_return_if_fail (MSG_IS_TRANSPORT (self));
  g_return_if_fail (configuration == NULL || MSG_IS_CONFIGURATION (configuration));

  if (configuration == NULL)
    configuration = msg_configuration_new ();
  else
    g_object_ref (configuration);

  g_mutex_lock (&priv->lock);
  old = priv->configuration;
  priv->configuration = configuration;
  g_mutex_unlock (&priv->lock);

  if (old != configuration)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONFIGURATION]);
  g_clear_object (&old);
}

/* Operations. */

/* The operation running in this thread, for the implementation's calls
 * (the snapshot, the start, progress): a queued call's validation runs in
 * the caller's thread while another operation runs in its own. */
static GPrivate current_operation_key = G_PRIVATE_INIT (NULL);

static const char *
op_verb (OpKind kind)
{
  switch (kind)
    {
    case OP_POST:
      return "post";
    case OP_CLOSE:
      return "close";
    default:
      return "send";
    }
}

static Operation *
current_operation (MsgTransport *self)
{
  Operation *op = g_private_get (&current_operation_key);

  return op != NULL && op->self == self ? op : NULL;
}

/* Gives the message back to its caller, who may send it again: its body
 * unsealed, its claim released. The reference is kept until the operation
 * is freed: an async call's in the caller's thread, as its task ends, so
 * that the worker does not also finalize a message the caller dropped at
 * the call (about a fifth of a small send's CPU, freeing GMime's objects). */
static void
release_message (Operation *op)
{
  if (!op->claimed)
    return;
  op->claimed = FALSE;
  _msg_message_unseal_after_send (op->message, g_steal_pointer (&op->sealed));
  _msg_message_release (op->message);
}

static void
operation_free (Operation *op)
{
  /* Still connected if no thread could be made to run it; never called
   * from the handler (the operation lives until its task has returned). */
  if (op->cancel_handler != 0)
    g_cancellable_disconnect (op->cancellable, op->cancel_handler);
  release_message (op);
  g_clear_object (&op->message);
  g_clear_object (&op->configuration);
  g_clear_pointer (&op->dkim, _msg_dkim_signer_unref);
  g_clear_pointer (&op->context, g_main_context_unref);
  g_clear_pointer (&op->caller, g_main_context_unref);
  g_clear_object (&op->cancellable);
  g_cond_clear (&op->cond);
  g_object_unref (op->self);
  g_free (op);
}

static gboolean
validate_operation (Operation *op,
                    GError   **error)
{
  MsgTransportClass *klass = MSG_TRANSPORT_GET_CLASS (op->self);
  Operation         *outer = g_private_get (&current_operation_key);
  gboolean           ok;

  if (op->kind == OP_CLOSE || klass->validate == NULL)
    return TRUE;
  g_private_set (&current_operation_key, op);
  ok = klass->validate (op->self, op->message, op->kind == OP_POST, error);
  g_private_set (&current_operation_key, outer);
  return ok;
}

/* The send's DKIM signer (none when the snapshot does not ask for one):
 * the previous send's while the fields and the key file are unchanged, so
 * that a stream of sends reads, checks and loads the key once (the
 * libopendkim handle with it). A send that does not sign, or cannot,
 * drops the kept one: the key stays in memory no longer than it is used. */
static gboolean
make_dkim_signer (Operation *op,
                  GError   **error)
{
  MsgTransportPrivate *priv = msg_transport_get_instance_private (op->self);
  g_autoptr (MsgDkimSigner) previous = NULL;
  gboolean ok;

  g_mutex_lock (&priv->lock);
  if (priv->dkim != NULL)
    previous = _msg_dkim_signer_ref (priv->dkim);
  g_mutex_unlock (&priv->lock);

  ok = _msg_dkim_signer_new_for_configuration (op->configuration, previous, &op->dkim, error);
  if (op->dkim != previous)
    {
      g_mutex_lock (&priv->lock);
      g_clear_pointer (&priv->dkim, _msg_dkim_signer_unref);
      if (op->dkim != NULL)
        priv->dkim = _msg_dkim_signer_ref (op->dkim);
      g_mutex_unlock (&priv->lock);
    }
  return ok;
}

/* Makes one call's operation: the start of its total clock, the claim on
 * the message, the checks and the configuration snapshot, all at the call,
 * whether it runs at once or waits its turn. */
static Operation *
operation_new (MsgTransport *self,
               MsgMessage   *message,
               OpKind        kind,
               GMainContext *context,
               GError      **error)
{
  MsgTransportPrivate *priv = msg_transport_get_instance_private (self);
  MsgTransportClass   *klass = MSG_TRANSPORT_GET_CLASS (self);
  Operation           *op = g_new0 (Operation, 1);

  op->self = g_object_ref (self);
  op->kind = kind;
  op->start = g_get_monotonic_time ();
  g_cond_init (&op->cond);
  if (context != NULL)
    op->context = g_main_context_ref (context);
  g_mutex_lock (&priv->lock);
  if (priv->caller_context != NULL)
    op->caller = g_main_context_ref (priv->caller_context);
  else if (context != NULL)
    op->caller = g_main_context_ref (context);
  g_mutex_unlock (&priv->lock);

  if (kind != OP_CLOSE)
    {
      if (!_msg_message_claim (message, error))
        goto fail;
      op->message = g_object_ref (message);
      op->claimed = TRUE;
      if ((kind == OP_SEND && klass->send_message_sync == NULL) ||
          (kind == OP_POST && klass->post_message_sync == NULL))
        {
          g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_NOT_SUPPORTED,
                       "Transport “%s” cannot %s messages", priv->name, op_verb (kind));
          goto fail;
        }
      if (!_msg_message_apply_configured_addresses (message, kind == OP_POST, error) ||
          !_msg_message_check_for_transport (message, kind == OP_POST, error))
        goto fail;
    }

  g_mutex_lock (&priv->lock);
  op->configuration = msg_configuration_copy (priv->configuration);
  _msg_configuration_copy_passphrase_func (priv->configuration, op->configuration);
  g_mutex_unlock (&priv->lock);
  op->seal = kind == OP_SEND && _msg_configuration_wants_crypto (op->configuration);

  if (kind == OP_POST && !_msg_message_check_control_headers (message, op->configuration, error))
    goto fail;
  /* The key is read and checked at the call: a send that asked for a
   * signature fails before it connects, never goes unsigned. */
  if (kind == OP_SEND && !make_dkim_signer (op, error))
    goto fail;
  if (!validate_operation (op, error))
    goto fail;
  /* Date and Message-ID at the call (RFC 5322 section 3.6.1: the time
   * the message was complete and ready to enter the mail system), and
   * the MIME tree built: in the caller's thread, so that a queued async
   * send's worker has less to do (issue 18). The transport's own call
   * finds them there. */
  if (kind != OP_CLOSE && !msg_message_prepare_for_sending (message, error))
    goto fail;
  return op;

fail:
  operation_free (op);
  return NULL;
}

/* Takes the operation's place in the queue, in call order (so at the call,
 * in the caller's thread): the turn at once if nothing runs. */
static gboolean
operation_enqueue_task (Operation    *op,
                        GCancellable *cancellable,
                        GTask        *task)
{
  MsgTransportPrivate *priv = msg_transport_get_instance_private (op->self);
  gboolean             turn;

  g_mutex_lock (&priv->lock);
  g_set_object (&op->cancellable, cancellable);
  turn = priv->running == NULL;
  if (turn)
    {
      priv->running = op;
      op->turn = TRUE;
    }
  else
    {
      g_queue_push_tail (&priv->waiting, op);
      if (task != NULL)
        op->task = g_object_ref (task);
    }
  g_mutex_unlock (&priv->lock);
  return turn;
}

static void
operation_enqueue (Operation    *op,
                   GCancellable *cancellable)
{
  operation_enqueue_task (op, cancellable, NULL);
}

static void operation_thread (GTask        *task,
                              gpointer      source_object,
                              gpointer      task_data,
                              GCancellable *cancellable);
static void set_queue_timed_out (Operation *op,
                                 GError   **error);

/* Completes an async operation that no thread could be made for, as its
 * thread would have: its message released, @error (taken) its result. */
static void
operation_return_unstarted (Operation *op,
                            GError    *error)
{
  release_message (op);
  _msg_task_return_prepared_error (op->ret, error);
}

/* Ends the running operation: releases its message and hands the turn to
 * the next in the queue. An async one waiting without a thread is run in
 * this thread after the task that ends here returns if @here (the end of
 * operation_thread()), else in another. One that gets no thread fails,
 * and the turn goes on: in a loop, not a recursion as deep as the queue. */
static void
operation_pass_turn (Operation *op,
                     gboolean   here)
{
  MsgTransportPrivate *priv = msg_transport_get_instance_private (op->self);

  release_message (op);
  for (;;)
    {
      g_autoptr (GTask) task = NULL;
      GError    *error = NULL;
      Operation *next;
      gboolean   started;

      g_mutex_lock (&priv->lock);
      g_assert (priv->running == op);
      next = g_queue_pop_head (&priv->waiting);
      priv->running = next;
      if (next != NULL)
        {
          next->turn = TRUE;
          g_cond_signal (&next->cond);
          task = g_steal_pointer (&next->task);
        }
      g_mutex_unlock (&priv->lock);
      /* The task holds @next. */
      if (task == NULL)
        return;
      if (here)
        started = _msg_task_run_prepared_next (task, operation_thread, next->ret, &error);
      else
        started = _msg_task_run_prepared (task, operation_thread, next->ret, &error);
      if (started)
        return;
      operation_return_unstarted (next, error);
      op = next;
      here = FALSE;
    }
}

static void
operation_end (Operation *op)
{
  operation_pass_turn (op, FALSE);
}

/* Gives a queued async operation its thread if it has none yet: when its
 * turn comes (operation_pass_turn()), or first its cancellation or its
 * deadline, which that thread then reports (operation_wait_queue()). */
static void
operation_start_queued (Operation *op)
{
  MsgTransportPrivate *priv = msg_transport_get_instance_private (op->self);
  g_autoptr (GTask) task = NULL;
  GError  *error = NULL;
  gboolean turn;

  g_mutex_lock (&priv->lock);
  task = g_steal_pointer (&op->task);
  g_mutex_unlock (&priv->lock);
  if (task == NULL || _msg_task_run_prepared (task, operation_thread, op->ret, &error))
    return;
  /* No thread to report it: it leaves the queue here, or passes on the
   * turn that came meanwhile, with what its thread would have said (only
   * its cancellation or its deadline starts it). */
  g_clear_error (&error);
  if (!g_cancellable_set_error_if_cancelled (op->cancellable, &error))
    set_queue_timed_out (op, &error);
  g_mutex_lock (&priv->lock);
  turn = op->turn;
  if (!turn)
    g_queue_remove (&priv->waiting, op);
  g_mutex_unlock (&priv->lock);
  operation_return_unstarted (op, error);
  if (turn)
    operation_pass_turn (op, FALSE);
}

static void
operation_cancelled_cb (GCancellable *cancellable,
                        gpointer      user_data)
{
  operation_start_queued (user_data);
}

static gboolean
operation_deadline_cb (gpointer user_data)
{
  operation_start_queued (user_data);
  return G_SOURCE_REMOVE;
}

static void
wake_cb (GCancellable *cancellable,
         gpointer      user_data)
{
  Operation           *op = user_data;
  MsgTransportPrivate *priv = msg_transport_get_instance_private (op->self);

  g_mutex_lock (&priv->lock);
  g_cond_signal (&op->cond);
  g_mutex_unlock (&priv->lock);
}

/* The total deadline of a queued send or post, as
 * msg_transport_get_operation_deadline() will compute it when it runs. The
 * automatic one adds a second per 64 KiB of message: the message is
 * measured only if the wait lasts that long. */
static gint64
queued_deadline (Operation *op,
                 gboolean  *automatic)
{
  double timeout;

  *automatic = FALSE;
  if (op->kind == OP_CLOSE)
    return G_MAXINT64; /* bounded by the operations ahead of it */
  timeout = msg_configuration_get_seconds (op->configuration,
                                           op->kind == OP_POST ? "nntpoperationtimeout"
                                                               : "smtpoperationtimeout");
  if (timeout <= 0)
    {
      *automatic = TRUE;
      timeout = 300.0;
    }
  return op->start + (gint64) (timeout * G_USEC_PER_SEC + 0.5);
}

static gint64
extend_automatic_deadline (Operation *op,
                           gint64     deadline)
{
  guint64 size = 0;

  if (!msg_message_measure (op->message,
                            op->kind == OP_POST ? MSG_WRITE_FLAGS_NEWS : MSG_WRITE_FLAGS_OMIT_BCC,
                            &size, NULL, NULL))
    return deadline;
  return deadline + (gint64) (size / (64 * 1024)) * G_USEC_PER_SEC;
}

/* Waits until the operation's turn, its cancellable or its total deadline,
 * whichever comes first. A queued operation that is cancelled or times out
 * leaves the queue at once and never touches the connection. */
static void
set_queue_timed_out (Operation *op,
                     GError   **error)
{
  MsgTransportPrivate *priv = msg_transport_get_instance_private (op->self);

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
               "Transport “%s”: the %s timed out waiting for the operations queued before it (%s)",
               priv->name, op_verb (op->kind),
               op->kind == OP_POST ? "nntpoperationtimeout" : "smtpoperationtimeout");
}

static gboolean
operation_wait_queue (Operation    *op,
                      GCancellable *cancellable,
                      GError      **error)
{
  MsgTransportPrivate *priv = msg_transport_get_instance_private (op->self);
  gboolean             turn;
  gboolean             automatic;
  gulong               handler = 0;
  gint64               deadline;

  /* Even when the turn has already come (a worker thread scheduled late
   * on a busy machine), a call cancelled meanwhile must not run. */
  deadline = queued_deadline (op, &automatic);
  g_mutex_lock (&priv->lock);
  turn = op->turn;
  g_mutex_unlock (&priv->lock);
  if (turn && !g_cancellable_is_cancelled (cancellable) && (automatic || g_get_monotonic_time () < deadline))
    return TRUE;

  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (wake_cb), op, NULL);
  g_mutex_lock (&priv->lock);
  while (!op->turn && !g_cancellable_is_cancelled (cancellable))
    {
      if (g_get_monotonic_time () < deadline)
        g_cond_wait_until (&op->cond, &priv->lock, deadline);
      else if (automatic)
        {
          automatic = FALSE;
          /* The running send may be writing this message's envelope
           * (it looked while this clock ran): it is not measured
           * under it, and the wait keeps its unextended clock. */
          if (op->peeked)
            continue;
          op->measuring = TRUE;
          g_mutex_unlock (&priv->lock);
          deadline = extend_automatic_deadline (op, deadline);
          g_mutex_lock (&priv->lock);
          op->measuring = FALSE;
        }
      else
        break;
    }
  turn = op->turn;
  if (!turn)
    g_queue_remove (&priv->waiting, op);
  g_mutex_unlock (&priv->lock);
  if (handler != 0)
    g_cancellable_disconnect (cancellable, handler);

  if (!g_cancellable_set_error_if_cancelled (cancellable, error))
    {
      /* A turn that came after the deadline (an async call waits without
       * a thread, woken by its context, which may not have run) fails
       * as a wait that timed out would have: the connection untouched. */
      if (turn && (automatic || g_get_monotonic_time () < deadline))
        return TRUE;
      set_queue_timed_out (op, error);
    }
  /* Cancelled as its turn came: it passes the turn on without running. */
  if (turn)
    operation_end (op);
  return FALSE;
}

/* Waits for the turn, then signs or encrypts a send's message as the
 * configuration's crypto* fields ask, in the turn (a queued send is not
 * sealed before it may run), under the send's deadline and cancellable
 * and before the implementation writes a byte; release_message() puts
 * the caller's body back. DKIM signs afterwards, the bytes on the wire. */
static gboolean
operation_wait_turn (Operation    *op,
                     GCancellable *cancellable,
                     GError      **error)
{
  gboolean automatic;

  if (!operation_wait_queue (op, cancellable, error))
    return FALSE;
  if (!op->seal ||
      _msg_message_seal_for_send (op->message, op->configuration, queued_deadline (op, &automatic), op->caller,
                                  cancellable, &op->sealed, error))
    return TRUE;
  operation_end (op);
  return FALSE;
}

/* Runs the operation's virtual function in this thread; its turn has
 * come. */
static gpointer
operation_run (Operation    *op,
               GCancellable *cancellable,
               GError      **error)
{
  MsgTransportClass *klass = MSG_TRANSPORT_GET_CLASS (op->self);
  Operation         *outer = g_private_get (&current_operation_key);
  gpointer           result;

  g_private_set (&current_operation_key, op);
  switch (op->kind)
    {
    case OP_SEND:
      result = klass->send_message_sync (op->self, op->message, cancellable, error);
      break;
    case OP_POST:
      result = klass->post_message_sync (op->self, op->message, cancellable, error);
      break;
    case OP_CLOSE:
      if (klass->close_sync == NULL)
        result = GINT_TO_POINTER (TRUE);
      else
        result = GINT_TO_POINTER (klass->close_sync (op->self, cancellable, error));
      break;
    default:
      g_assert_not_reached ();
    }
  g_private_set (&current_operation_key, outer);
  /* A binding's implementation that fails to run (gjs refuses calls from
   * other threads) or returns nothing must still fail with an error. */
  if (result == NULL && error != NULL && *error == NULL)
    g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_FAILED,
                 "Transport “%s” failed to %s without an error", msg_transport_get_name (op->self),
                 op_verb (op->kind));
  return result;
}

static gpointer
run_sync (MsgTransport *self,
          MsgMessage   *message,
          OpKind        kind,
          GCancellable *cancellable,
          GError      **error)
{
  Operation *op;
  gpointer   result;

  op = operation_new (self, message, kind, NULL, error);
  if (op == NULL)
    return NULL;
  operation_enqueue (op, cancellable);
  if (operation_wait_turn (op, cancellable, error))
    {
      result = operation_run (op, cancellable, error);
      operation_end (op);
    }
  else
    result = NULL;
  operation_free (op);
  return result;
}

typedef gpointer (*OperationRunFunc) (Operation    *op,
                                      GCancellable *cancellable,
                                      GError      **error);

typedef struct
{
  OperationRunFunc func;
  Operation       *op;
  GCancellable    *cancellable;
  GError          *error;
  gpointer         result;
  gboolean         done; /* under lock */
  GMutex           lock;
  GCond            cond;
} CallerRun;

static gboolean
run_in_caller_context_cb (gpointer data)
{
  CallerRun *run = data;
  GError    *error = NULL;
  gpointer   result;

  result = run->func (run->op, run->cancellable, &error);
  g_mutex_lock (&run->lock);
  run->result = result;
  run->error = error;
  run->done = TRUE;
  g_cond_signal (&run->cond);
  g_mutex_unlock (&run->lock);
  return G_SOURCE_REMOVE;
}

/* Runs @func, which calls the virtual functions, in the async caller's
 * context and waits for it there: MsgTransport:run-in-caller-context. */
static gpointer
operation_run_in_caller_context (OperationRunFunc func,
                                 Operation       *op,
                                 GCancellable    *cancellable,
                                 GError         **error)
{
  CallerRun run = { func, op, cancellable, NULL, NULL, FALSE };
  g_autoptr (GSource) source = g_idle_source_new ();

  g_mutex_init (&run.lock);
  g_cond_init (&run.cond);
  /* Through a source, as for progress: never in this thread. */
  g_source_set_callback (source, run_in_caller_context_cb, &run, NULL);
  g_source_set_static_name (source, "[msgobj] run in caller context");
  g_source_attach (source, op->context);
  g_mutex_lock (&run.lock);
  while (!run.done)
    g_cond_wait (&run.cond, &run.lock);
  g_mutex_unlock (&run.lock);
  g_mutex_clear (&run.lock);
  g_cond_clear (&run.cond);
  if (run.error != NULL)
    g_propagate_error (error, run.error);
  return run.result;
}

static void
operation_thread (GTask        *task,
                  gpointer      source_object,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  Operation           *op = task_data;
  MsgTransportPrivate *priv = msg_transport_get_instance_private (op->self);
  GError              *error = NULL;
  gpointer             result = NULL;
  gboolean             ran;

  if (op->cancel_handler != 0)
    g_cancellable_disconnect (op->cancellable, op->cancel_handler);
  op->cancel_handler = 0;
  ran = operation_wait_turn (op, cancellable, &error);
  if (ran && g_atomic_int_get (&priv->in_caller))
    result = operation_run_in_caller_context (operation_run, op, cancellable, &error);
  else if (ran)
    result = operation_run (op, cancellable, &error);
  /* The message is free again when the callback runs (it may send it
   * again), and the result is queued in the caller's context before the
   * next operation can run: callbacks come in call order. */
  release_message (op);
  if (error != NULL)
    _msg_task_return_error_later (task, error);
  else if (op->kind == OP_CLOSE)
    _msg_task_return_boolean_later (task, TRUE);
  else
    _msg_task_return_pointer_later (task, result, g_object_unref);
  if (ran)
    operation_pass_turn (op, TRUE);
}

static void
start_async (MsgTransport       *self,
             MsgMessage         *message,
             OpKind              kind,
             gpointer            source_tag,
             GCancellable       *cancellable,
             GAsyncReadyCallback callback,
             gpointer            user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GMainContext) context = NULL;
  GError    *error = NULL;
  Operation *op;
  gboolean   automatic;
  gint64     deadline;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);

  /* The caller's context, the global default one included (for which
   * g_main_context_get_thread_default() returns NULL): progress must not
   * be emitted in the worker thread. */
  context = g_main_context_ref_thread_default ();
  op = operation_new (self, message, kind, context, &error);
  if (op == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  g_task_set_task_data (task, op, (GDestroyNotify) operation_free);
  /* The worker decides the outcome; the callback runs only after it has
   * closed the connection. */
  g_task_set_check_cancellable (task, FALSE);
  g_task_set_return_on_cancel (task, FALSE);
  deadline = queued_deadline (op, &automatic);
  op->ret = _msg_task_prepare_return (task, deadline == G_MAXINT64 ? -1 : deadline, operation_deadline_cb, op);
  /* Before it is queued: its thread, once it has one, disconnects it. */
  if (cancellable != NULL)
    op->cancel_handler = g_cancellable_connect (cancellable, G_CALLBACK (operation_cancelled_cb), op, NULL);
  /* A thread now if it runs now; queued, it waits without one (a
   * thousand queued sends are not a thousand threads), and the operation
   * that ends before it runs it in its own thread. */
  if (!operation_enqueue_task (op, cancellable, task))
    {
      if (g_cancellable_is_cancelled (cancellable))
        operation_start_queued (op);
      return;
    }
  if (!_msg_task_run_prepared (task, operation_thread, op->ret, &error))
    {
      operation_return_unstarted (op, error);
      operation_pass_turn (op, FALSE);
    }
}

static gpointer
finish_async (MsgTransport *self,
              GAsyncResult *result,
              gpointer      source_tag,
              GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, source_tag), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * msg_transport_send_message:
 * @self: a transport
 * @message: the message to send
 * @cancellable: (nullable): a cancellable
 * @error: return location for a #GError
 *
 * Sends @message and blocks until it is sent or has failed.
 *
 * Before any I/O, the message is checked in CDO's order: a recipient
 * (%MSG_MESSAGE_ERROR_NO_RECIPIENTS), a sender
 * (%MSG_MESSAGE_ERROR_NO_SENDER), then the transport's own settings (such as
 * %MSG_TRANSPORT_ERROR_NO_SERVER).
 *
 * Network transports bound the call with two clocks: each exchange with the
 * server must complete within the `*connectiontimeout` field's seconds, and
 * the whole call within `*operationtimeout` (by default 300 s plus one
 * second per 64 KiB of message). A time-out is %G_IO_ERROR_TIMED_OUT,
 * cancellation %G_IO_ERROR_CANCELLED; after either, and after any other
 * error, the connection is already closed when the call returns. A time-out,
 * lost connection or cancellation after the whole message was sent and
 * before the server answered is %MSG_TRANSPORT_ERROR_OUTCOME_UNKNOWN.
 *
 * If another operation is running on the transport, the call blocks until
 * its turn comes (see [class@Transport]); the total clock counts from the
 * call, and the message gets its `Date` and `Message-ID`, when it has
 * none, at the call too ([method@Message.prepare_for_sending]). Do not
 * modify @message while it is being sent.
 *
 * Returns: (transfer full): a report of what happened, or %NULL on error
 */
MsgSendReport *
msg_transport_send_message (MsgTransport *self,
                            MsgMessage   *message,
                            GCancellable *cancellable,
                            GError      **error)
{
  g_return_val_if_fail (MSG_IS_TRANSPORT (self), NULL);
  g_return_val_if_fail (MSG_IS_MESSAGE (message), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return run_sync (self, message, OP_SEND, cancellable, error);
}

/**
 * msg_transport_send_message_async:
 * @self: a transport
 * @message: the message to send
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called when the message is sent or has failed
 * @user_data: data for @callback
 *
 * Sends @message without blocking, in a worker thread. The same clocks and
 * checks apply as for [method@Transport.send_message]; the total clock
 * starts now, also when the send has to wait for operations started before
 * it (see [class@Transport]). @callback runs in the thread-default main
 * context of the caller, and only after the connection has been closed if
 * the send failed. A cancellation that lands after the server accepted the message
 * changes nothing: the send succeeds.
 */
void
msg_transport_send_message_async (MsgTransport       *self,
                                  MsgMessage         *message,
                                  GCancellable       *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer            user_data)
{
  g_return_if_fail (MSG_IS_TRANSPORT (self));
  g_return_if_fail (MSG_IS_MESSAGE (message));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  start_async (self, message, OP_SEND, msg_transport_send_message_async,
               cancellable, callback, user_data);
}

/**
 * msg_transport_send_message_finish:
 * @self: a transport
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Transport.send_message_async].
 *
 * Returns: (transfer full): a report of what happened, or %NULL on error
 */
MsgSendReport *
msg_transport_send_message_finish (MsgTransport *self,
                                   GAsyncResult *result,
                                   GError      **error)
{
  return finish_async (self, result, msg_transport_send_message_async, error);
}

/**
 * msg_transport_post_message:
 * @self: a transport
 * @message: the article to post
 * @cancellable: (nullable): a cancellable
 * @error: return location for a #GError
 *
 * Posts @message as a news article and blocks until it is posted or has
 * failed. Before any I/O the article must have Newsgroups
 * (%MSG_MESSAGE_ERROR_NO_NEWSGROUPS), From (%MSG_MESSAGE_ERROR_NO_SENDER) and
 * Subject (%MSG_MESSAGE_ERROR_NO_SUBJECT). Clocks and errors are as for
 * [method@Transport.send_message], with the `nntp*` fields.
 *
 * Returns: (transfer full): a report of what happened, or %NULL on error
 */
MsgSendReport *
msg_transport_post_message (MsgTransport *self,
                            MsgMessage   *message,
                            GCancellable *cancellable,
                            GError      **error)
{
  g_return_val_if_fail (MSG_IS_TRANSPORT (self), NULL);
  g_return_val_if_fail (MSG_IS_MESSAGE (message), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return run_sync (self, message, OP_POST, cancellable, error);
}

/**
 * msg_transport_post_message_async:
 * @self: a transport
 * @message: the article to post
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called when the article is posted or has failed
 * @user_data: data for @callback
 *
 * Posts @message without blocking; see
 * [method@Transport.send_message_async].
 */
void
msg_transport_post_message_async (MsgTransport       *self,
                                  MsgMessage         *message,
                                  GCancellable       *cancellable,
                                  GAsyncReadyCallback callback,
                                  gpointer            user_data)
{
  g_return_if_fail (MSG_IS_TRANSPORT (self));
  g_return_if_fail (MSG_IS_MESSAGE (message));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  start_async (self, message, OP_POST, msg_transport_post_message_async,
               cancellable, callback, user_data);
}

/**
 * msg_transport_post_message_finish:
 * @self: a transport
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Transport.post_message_async].
 *
 * Returns: (transfer full): a report of what happened, or %NULL on error
 */
MsgSendReport *
msg_transport_post_message_finish (MsgTransport *self,
                                   GAsyncResult *result,
                                   GError      **error)
{
  return finish_async (self, result, msg_transport_post_message_async, error);
}

/**
 * msg_transport_close:
 * @self: a transport
 * @cancellable: (nullable): a cancellable
 * @error: return location for a #GError
 *
 * Ends a kept connection politely (QUIT, under a short time limit), then
 * closes it whatever the server does. The connection is closed when the call
 * returns, even if it fails. A transport with no open connection does
 * nothing. Like any operation it waits for the operations queued before
 * it, which are sent first; one queued after it connects afresh.
 *
 * Returns: %TRUE if the server acknowledged the end, or there was nothing
 *   to close
 */
gboolean
msg_transport_close (MsgTransport *self,
                     GCancellable *cancellable,
                     GError      **error)
{
  g_return_val_if_fail (MSG_IS_TRANSPORT (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return GPOINTER_TO_INT (run_sync (self, NULL, OP_CLOSE, cancellable, error));
}

/**
 * msg_transport_close_async:
 * @self: a transport
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called when the connection is closed
 * @user_data: data for @callback
 *
 * Closes a kept connection without blocking; see [method@Transport.close].
 */
void
msg_transport_close_async (MsgTransport       *self,
                           GCancellable       *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer            user_data)
{
  g_return_if_fail (MSG_IS_TRANSPORT (self));

  start_async (self, NULL, OP_CLOSE, msg_transport_close_async,
               cancellable, callback, user_data);
}

/**
 * msg_transport_close_finish:
 * @self: a transport
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Transport.close_async].
 *
 * Returns: %TRUE if the server acknowledged the end, or there was nothing
 *   to close
 */
gboolean
msg_transport_close_finish (MsgTransport *self,
                            GAsyncResult *result,
                            GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (result, msg_transport_close_async), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* For msg_message_send(). */

/* The close runs inside the send's operation, with the caller's
 * cancellable: msg_transport_get_operation_start_time() is still the
 * send's, so a transport can tell and give QUIT only what is left of the
 * send's deadline (the network transports do). The message is accepted by
 * then: whatever the close does, the call succeeds, and the close has
 * aborted the connection when it returns. */
static gpointer
operation_run_once (Operation    *op,
                    GCancellable *cancellable,
                    GError      **error)
{
  MsgTransportPrivate *priv = msg_transport_get_instance_private (op->self);
  MsgTransportClass   *klass = MSG_TRANSPORT_GET_CLASS (op->self);
  MsgSendReport       *report;

  report = operation_run (op, cancellable, error);
  if (report != NULL && klass->close_sync != NULL)
    {
      Operation *outer = g_private_get (&current_operation_key);
      g_autoptr (GError) close_error = NULL;

      g_private_set (&current_operation_key, op);
      if (!klass->close_sync (op->self, cancellable, &close_error))
        g_debug ("%s: closing after the message was accepted: %s", priv->name,
                 close_error != NULL ? close_error->message : "failed");
      g_private_set (&current_operation_key, outer);
    }
  return report;
}

MsgSendReport *
_msg_transport_send_once (MsgTransport *self,
                          MsgMessage   *message,
                          gboolean      post,
                          gint64        start,
                          GMainContext *context,
                          GCancellable *cancellable,
                          GError      **error)
{
  MsgTransportPrivate *priv = msg_transport_get_instance_private (self);
  MsgSendReport       *report = NULL;
  Operation           *op;

  op = operation_new (self, message, post ? OP_POST : OP_SEND, context, error);
  if (op == NULL)
    return NULL;
  if (start != 0)
    op->start = start;
  operation_enqueue (op, cancellable);
  if (operation_wait_turn (op, cancellable, error))
    {
      if (context != NULL && g_atomic_int_get (&priv->in_caller))
        report = operation_run_in_caller_context (operation_run_once, op, cancellable, error);
      else
        report = operation_run_once (op, cancellable, error);
      operation_end (op);
    }
  operation_free (op);
  return report;
}

/* For msg-transport-implementation.c: the services of a running operation. */

MsgTransportPrivate *
_msg_transport_get_private (MsgTransport *self)
{
  return msg_transport_get_instance_private (self);
}

Operation *
_msg_transport_current_operation (MsgTransport *self)
{
  return current_operation (self);
}

gint64
_msg_transport_queued_deadline (Operation *op,
                                gboolean  *automatic)
{
  return queued_deadline (op, automatic);
}

guint
_msg_transport_get_signal (MsgTransportSignal which)
{
  return signals[which];
}

void
_msg_transport_set_caller_context (MsgTransport *self,
                                   GMainContext *context)
{
  MsgTransportPrivate *priv = msg_transport_get_instance_private (self);

  g_return_if_fail (MSG_IS_TRANSPORT (self));

  g_mutex_lock (&priv->lock);
  g_clear_pointer (&priv->caller_context, g_main_context_unref);
  if (context != NULL)
    priv->caller_context = g_main_context_ref (context);
  g_mutex_unlock (&priv->lock);
}
