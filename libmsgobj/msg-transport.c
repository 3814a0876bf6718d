/* msg-transport.c: the transport plugin base class and registry
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-transport.h"

#include "msg-configuration.h"
#include "msg-connection-private.h"
#include "msg-counting-stream-private.h"
#include "msg-data-output-stream.h"
#include "msg-message-private.h"
#include "msg-modules-private.h"
#include "msg-send-report.h"
#include "msg-thread-private.h"

#include <errno.h>
#include <sys/eventfd.h>
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
 * One operation runs at a time on a transport; starting a second while one
 * is running fails with %G_IO_ERROR_PENDING. So does sending or posting a
 * message that another operation, on any transport, is sending: to send
 * the same message through several transports at once, send copies.
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
 */

typedef struct
{
  GMutex            lock;
  MsgConfiguration *configuration;    /* (owned) */
  char             *name;             /* (owned) (nullable) */
  int               pending;          /* atomic */
  MsgConfiguration *op_configuration; /* (owned) (nullable): snapshot */
  MsgMessage       *op_message;       /* (owned) (nullable): claimed while sending */
  gint64            op_start;
  GMainContext     *op_context; /* (owned) (nullable): async caller */
  gint64            last_progress;
} MsgTransportPrivate;

/* clang-format off */
G_DEFINE_QUARK (msg-transport-error-quark, msg_transport_error)
/* clang-format on */
G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (MsgTransport, msg_transport, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_CONFIGURATION,
  PROP_NAME,
  N_PROPS,
};

enum
{
  SIGNAL_PROGRESS,
  N_SIGNALS,
};

static GParamSpec *properties[N_PROPS];
static guint       signals[N_SIGNALS];

/* Progress is emitted at most this often (µs), plus the final emission. */
#define PROGRESS_INTERVAL (100 * 1000)

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
      GIOExtensionPoint *point;

      _msg_modules_ensure_loaded ();
      point = g_io_extension_point_lookup (MSG_TRANSPORT_EXTENSION_POINT_NAME);
      for (GList *l = g_io_extension_point_get_extensions (point); l != NULL; l = l->next)
        {
          if (g_io_extension_get_type (l->data) == G_OBJECT_TYPE (object))
            {
              priv->name = g_strdup (g_io_extension_get_name (l->data));
              break;
            }
        }
      if (priv->name == NULL)
        priv->name = g_strdup (G_OBJECT_TYPE_NAME (object));
    }
}

static void
msg_transport_finalize (GObject *object)
{
  MsgTransport        *self = MSG_TRANSPORT (object);
  MsgTransportPrivate *priv = msg_transport_get_instance_private (self);

  g_clear_object (&priv->configuration);
  g_clear_object (&priv->op_configuration);
  g_clear_pointer (&priv->op_context, g_main_context_unref);
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
  MsgTransport *self = MSG_TRANSPORT (object);

  switch (prop_id)
    {
    case PROP_CONFIGURATION:
      g_value_set_object (value, msg_transport_get_configuration (self));
      break;
    case PROP_NAME:
      g_value_set_string (value, msg_transport_get_name (self));
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
   * The settings the transport uses. A running operation uses the snapshot
   * taken when it started.
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
  signals[SIGNAL_PROGRESS] =
      g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                    NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_UINT64, G_TYPE_UINT64);
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
  GIOExtensionPoint *point;
  GIOExtension      *extension;

  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (configuration == NULL || MSG_IS_CONFIGURATION (configuration), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  _msg_modules_ensure_loaded ();
  point = g_io_extension_point_lookup (MSG_TRANSPORT_EXTENSION_POINT_NAME);
  extension = g_io_extension_point_get_extension_by_name (point, name);
  if (extension == NULL)
    {
      g_auto (GStrv) names = msg_transport_list_names ();
      g_autofree char *list = g_strjoinv (", ", names);

      g_set_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_UNKNOWN_TRANSPORT,
                   "No transport is named “%s” (available: %s)", name, list);
      return NULL;
    }

  return g_object_new (g_io_extension_get_type (extension),
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
  GIOExtensionPoint *point;
  GPtrArray         *names = g_ptr_array_new ();

  _msg_modules_ensure_loaded ();
  point = g_io_extension_point_lookup (MSG_TRANSPORT_EXTENSION_POINT_NAME);
  for (GList *l = g_io_extension_point_get_extensions (point); l != NULL; l = l->next)
    g_ptr_array_add (names, g_strdup (g_io_extension_get_name (l->data)));
  g_ptr_array_sort (names, compare_strings);
  g_ptr_array_add (names, NULL);
  return (GStrv) g_ptr_array_free (names, FALSE);
}

/* Properties. */

/**
 * msg_transport_get_name:
 * @self: a transport
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
 * Replaces the transport's settings. An operation already running keeps
 * using the snapshot it took; a kept connection is reused only if the
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

typedef enum
{
  OP_SEND,
  OP_POST,
  OP_CLOSE,
} OpKind;

static const char *
op_verb (OpKind kind)
{
  return kind == OP_POST ? "post" : "send";
}

/* Checks the message in CDO's order, before any I/O. */
static gboolean
check_message (MsgMessage *message,
               OpKind      kind,
               GError    **error)
{
  if (kind == OP_SEND)
    {
      g_auto (GStrv) recipients = NULL;
      g_autofree char *sender = NULL;

      recipients = msg_message_get_envelope_recipients (message, error);
      if (recipients == NULL)
        return FALSE;
      sender = msg_message_get_envelope_sender (message, error);
      if (sender == NULL)
        return FALSE;
    }
  else if (kind == OP_POST)
    {
      g_autofree char *newsgroups = msg_message_get_newsgroups (message);
      g_autofree char *subject = msg_message_get_subject (message);
      g_autofree char *from = msg_message_get_from (message);

      if (newsgroups == NULL || *newsgroups == '\0')
        {
          g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_NO_NEWSGROUPS,
                               "A news article needs Newsgroups");
          return FALSE;
        }
      if (from == NULL || *from == '\0')
        {
          g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_NO_SENDER,
                               "A news article needs a From address");
          return FALSE;
        }
      if (subject == NULL || *subject == '\0')
        {
          g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_NO_SUBJECT,
                               "A news article needs a Subject");
          return FALSE;
        }
    }
  return TRUE;
}

static void
release_message (MsgTransport *self)
{
  MsgTransportPrivate *priv = msg_transport_get_instance_private (self);

  if (priv->op_message != NULL)
    _msg_message_release (priv->op_message);
  g_clear_object (&priv->op_message);
}

/* GLib aborts the process when it cannot make a main context's wakeup
 * descriptor (g_wakeup_new), and a connection makes its context before its
 * socket: with no descriptor left (EMFILE, ENFILE), fail here with a clear
 * error instead. A probe only: another thread may take the descriptor
 * first. */
static gboolean
check_descriptor_available (MsgTransport *self,
                            GError      **error)
{
  MsgTransportPrivate *priv = msg_transport_get_instance_private (self);
  int                  fd = eventfd (0, EFD_CLOEXEC);
  int                  saved_errno = errno;

  if (fd >= 0)
    {
      close (fd);
      return TRUE;
    }
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
               "Transport “%s” cannot start: no file descriptor is available: %s", priv->name,
               g_strerror (saved_errno));
  return FALSE;
}

/* Claims the transport for one operation: the pending flag, the start of
 * the total clock, the checks and the configuration snapshot. */
static gboolean
begin_operation (MsgTransport *self,
                 MsgMessage   *message,
                 OpKind        kind,
                 GMainContext *context,
                 GError      **error)
{
  MsgTransportPrivate *priv = msg_transport_get_instance_private (self);
  MsgTransportClass   *klass = MSG_TRANSPORT_GET_CLASS (self);
  gint64               start = g_get_monotonic_time ();

  if (!g_atomic_int_compare_and_exchange (&priv->pending, FALSE, TRUE))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PENDING,
                   "Transport “%s” already has an operation running", priv->name);
      return FALSE;
    }

  if (kind != OP_CLOSE)
    {
      if (!_msg_message_claim (message, error))
        {
          g_atomic_int_set (&priv->pending, FALSE);
          return FALSE;
        }
      priv->op_message = g_object_ref (message);
      if ((kind == OP_SEND && klass->send_message_sync == NULL) ||
          (kind == OP_POST && klass->post_message_sync == NULL))
        {
          g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_NOT_SUPPORTED,
                       "Transport “%s” cannot %s messages", priv->name, op_verb (kind));
          goto fail;
        }
      if (!check_message (message, kind, error))
        goto fail;
      if (!check_descriptor_available (self, error))
        goto fail;
    }

  g_mutex_lock (&priv->lock);
  g_clear_object (&priv->op_configuration);
  priv->op_configuration = msg_configuration_copy (priv->configuration);
  g_mutex_unlock (&priv->lock);
  priv->op_start = start;
  priv->last_progress = 0;
  g_clear_pointer (&priv->op_context, g_main_context_unref);
  if (context != NULL)
    priv->op_context = g_main_context_ref (context);

  if (kind != OP_CLOSE && klass->validate != NULL &&
      !klass->validate (self, message, kind == OP_POST, error))
    goto fail;

  return TRUE;

fail:
  release_message (self);
  g_clear_object (&priv->op_configuration);
  g_clear_pointer (&priv->op_context, g_main_context_unref);
  g_atomic_int_set (&priv->pending, FALSE);
  return FALSE;
}

static void
end_operation (MsgTransport *self)
{
  MsgTransportPrivate *priv = msg_transport_get_instance_private (self);

  release_message (self);
  g_clear_object (&priv->op_configuration);
  g_clear_pointer (&priv->op_context, g_main_context_unref);
  g_atomic_int_set (&priv->pending, FALSE);
}

/* Runs the operation's virtual function; the caller has claimed it. */
static gpointer
run_operation (MsgTransport *self,
               MsgMessage   *message,
               OpKind        kind,
               GCancellable *cancellable,
               GError      **error)
{
  MsgTransportClass *klass = MSG_TRANSPORT_GET_CLASS (self);

  switch (kind)
    {
    case OP_SEND:
      return klass->send_message_sync (self, message, cancellable, error);
    case OP_POST:
      return klass->post_message_sync (self, message, cancellable, error);
    case OP_CLOSE:
      if (klass->close_sync == NULL)
        return GINT_TO_POINTER (TRUE);
      return GINT_TO_POINTER (klass->close_sync (self, cancellable, error));
    default:
      g_assert_not_reached ();
    }
}

static gpointer
run_sync (MsgTransport *self,
          MsgMessage   *message,
          OpKind        kind,
          GCancellable *cancellable,
          GError      **error)
{
  gpointer result;

  if (!begin_operation (self, message, kind, NULL, error))
    return NULL;
  result = run_operation (self, message, kind, cancellable, error);
  end_operation (self);
  return result;
}

typedef struct
{
  MsgMessage         *message; /* (owned) (nullable) */
  OpKind              kind;
  GAsyncReadyCallback callback;
  gpointer            user_data;
} AsyncOp;

static void
async_op_free (AsyncOp *op)
{
  g_clear_object (&op->message);
  g_free (op);
}

static void
operation_thread (GTask        *task,
                  gpointer      source_object,
                  gpointer      task_data,
                  GCancellable *cancellable)
{
  MsgTransport *self = source_object;
  AsyncOp      *op = task_data;
  GError       *error = NULL;
  gpointer      result;

  result = run_operation (self, op->message, op->kind, cancellable, &error);
  if (op->kind == OP_CLOSE)
    {
      if (error != NULL)
        g_task_return_error (task, error);
      else
        g_task_return_boolean (task, TRUE);
    }
  else if (result == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, result, g_object_unref);
}

/* Clears the pending flag before the caller's callback runs, so that the
 * callback can start the next operation (as GInputStream does). */
static void
async_ready_wrapper_cb (GObject      *source_object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  MsgTransport *self = MSG_TRANSPORT (source_object);
  AsyncOp      *op = g_task_get_task_data (G_TASK (result));

  end_operation (self);
  if (op->callback != NULL)
    op->callback (source_object, result, op->user_data);
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
  GError  *error = NULL;
  AsyncOp *op;

  op = g_new0 (AsyncOp, 1);
  op->message = message != NULL ? g_object_ref (message) : NULL;
  op->kind = kind;
  op->callback = callback;
  op->user_data = user_data;

  /* The caller's context, the global default one included (for which
   * g_main_context_get_thread_default() returns NULL): progress must not
   * be emitted in the worker thread. */
  context = g_main_context_ref_thread_default ();
  if (!begin_operation (self, message, kind, context, &error))
    {
      /* Not ours to clear: report through the caller's callback directly. */
      task = g_task_new (self, cancellable, callback, user_data);
      g_task_set_source_tag (task, source_tag);
      g_task_set_task_data (task, op, (GDestroyNotify) async_op_free);
      g_task_return_error (task, error);
      return;
    }

  task = g_task_new (self, cancellable, async_ready_wrapper_cb, NULL);
  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, op, (GDestroyNotify) async_op_free);
  /* The worker decides the outcome; the callback runs only after it has
   * closed the connection. */
  g_task_set_check_cancellable (task, FALSE);
  g_task_set_return_on_cancel (task, FALSE);
  _msg_task_run_in_own_thread (task, operation_thread);
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
 * Do not modify @message while it is being sent.
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
 * starts now. @callback runs in the thread-default main context of the
 * caller, and only after the connection has been closed if the send
 * failed. A cancellation that lands after the server accepted the message
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
 * nothing.
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

  if (!begin_operation (self, NULL, OP_CLOSE, NULL, error))
    return FALSE;
  {
    gboolean ok = GPOINTER_TO_INT (run_operation (self, NULL, OP_CLOSE, cancellable, error));

    end_operation (self);
    return ok;
  }
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

/* For implementations. */

/**
 * msg_transport_get_operation_configuration:
 * @self: a transport
 *
 * Returns the snapshot of the settings taken when the running operation
 * started; outside an operation, the transport's settings. For transport
 * implementations: the snapshot is safe to read from the worker thread
 * while the caller changes the transport's configuration.
 *
 * Returns: (transfer none): the settings of the running operation
 */
MsgConfiguration *
msg_transport_get_operation_configuration (MsgTransport *self)
{
  MsgTransportPrivate *priv = msg_transport_get_instance_private (self);

  g_return_val_if_fail (MSG_IS_TRANSPORT (self), NULL);

  if (priv->op_configuration != NULL)
    return priv->op_configuration;
  return msg_transport_get_configuration (self);
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
  MsgTransportPrivate *priv = msg_transport_get_instance_private (self);

  g_return_val_if_fail (MSG_IS_TRANSPORT (self), 0);
  return g_atomic_int_get (&priv->pending) ? priv->op_start : 0;
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

  g_signal_emit (data->self, signals[SIGNAL_PROGRESS], 0, data->sent, data->total);
  return G_SOURCE_REMOVE;
}

static void
progress_data_free (gpointer user_data)
{
  ProgressData *data = user_data;

  g_object_unref (data->self);
  g_free (data);
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
  MsgTransportPrivate *priv = msg_transport_get_instance_private (self);
  gint64               now = g_get_monotonic_time ();
  ProgressData        *data;
  g_autoptr (GSource) source = NULL;

  g_return_if_fail (MSG_IS_TRANSPORT (self));

  if (sent != total && now - priv->last_progress < PROGRESS_INTERVAL)
    return;
  priv->last_progress = now;

  if (priv->op_context == NULL)
    {
      g_signal_emit (self, signals[SIGNAL_PROGRESS], 0, sent, total);
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
  g_source_attach (source, priv->op_context);
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

typedef struct
{
  MsgTransport *transport;
  guint64       total;
} WriteProgress;

static void
write_progress_cb (guint64  count,
                   gpointer user_data)
{
  WriteProgress *progress = user_data;

  /* The final emission is the transport's, once the server has it. */
  if (count < progress->total)
    msg_transport_emit_progress (progress->transport, count, progress->total);
}

/**
 * msg_transport_write_message_data:
 * @self: a transport
 * @message: the message
 * @flags: how to write it (%MSG_WRITE_FLAGS_OMIT_BCC for mail,
 *   %MSG_WRITE_FLAGS_NEWS for news)
 * @connection: the connection, after the server's go-ahead (SMTP 354,
 *   NNTP 340)
 * @total: the message's size from [method@Message.measure], for progress
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Streams @message as SMTP `DATA` or an NNTP article: every line end
 * CRLF, every leading dot doubled, then the terminating dot line; in
 * large writes, the last block and the terminator in one. The `progress`
 * signal reports the bytes written, short of @total: emit the final
 * progress once the server has accepted the message. On failure the
 * connection has been aborted, before any buffered data could be written
 * after a cancellation. For transport implementations.
 *
 * Returns: whether the whole message and the terminator were written
 */
gboolean
msg_transport_write_message_data (MsgTransport  *self,
                                  MsgMessage    *message,
                                  MsgWriteFlags  flags,
                                  MsgConnection *connection,
                                  guint64        total,
                                  GCancellable  *cancellable,
                                  GError       **error)
{
  g_autoptr (GOutputStream) data = NULL;
  g_autoptr (GOutputStream) counter = NULL;
  WriteProgress progress = { self, total };

  g_return_val_if_fail (MSG_IS_TRANSPORT (self), FALSE);
  g_return_val_if_fail (MSG_IS_MESSAGE (message), FALSE);
  g_return_val_if_fail (MSG_IS_CONNECTION (connection), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  data = msg_data_output_stream_new (msg_connection_get_output_stream (connection), TRUE);
  counter = _msg_counting_stream_new (data, write_progress_cb, &progress);
  if (!msg_message_write_to_stream_full (message, counter, flags, cancellable, error) ||
      !_msg_connection_check_still_listening (connection, error) ||
      !msg_data_output_stream_finish (MSG_DATA_OUTPUT_STREAM (data), cancellable, error))
    {
      /* Before the streams go: closing them would flush buffered data. */
      msg_connection_abort (connection);
      return FALSE;
    }
  return TRUE;
}
