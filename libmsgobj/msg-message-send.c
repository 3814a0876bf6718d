/* msg-message-send.c: CDO's Message.Send and Message.Post
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-message.h"

#include "msg-configuration.h"
#include "msg-message-private.h"
#include "msg-thread-private.h"
#include "msg-transport.h"

/* Sending is kept apart from msg-message.c: it is the one place where the
 * object model meets the transports. */

/* What an _async call's thread needs. */
typedef struct
{
  gboolean      post;
  gint64        start;     /* when the _async call was made */
  MsgTransport *transport; /* (owned): made in the caller's thread */
  GMainContext *context;   /* (owned): the caller's */
} SendData;

static void
send_data_free (SendData *data)
{
  g_object_unref (data->transport);
  g_main_context_unref (data->context);
  g_free (data);
}

static MsgTransport *
transport_for (MsgMessage *self,
               gboolean    post,
               GError    **error)
{
  MsgConfiguration *configuration = msg_message_get_configuration (self);
  g_autofree char  *name = msg_configuration_get_field (configuration, post ? "postusing" : "sendusing");

  if (name == NULL || *name == '\0')
    name = g_strdup ("pickup");
  return msg_transport_new_for_name (name, configuration, error);
}

static MsgSendReport *
send_or_post (MsgMessage   *self,
              gboolean      post,
              GCancellable *cancellable,
              GError      **error)
{
  g_autoptr (MsgTransport) transport = NULL;

  transport = transport_for (self, post, error);
  if (transport == NULL)
    return NULL;
  /* The transport lives for this call only: its connection ends within
   * the send's deadline and on the caller's cancellable, whatever the
   * server does after accepting the message. */
  return _msg_transport_send_once (transport, self, post, 0, NULL, cancellable, error);
}

/**
 * msg_message_send:
 * @self: a message
 * @cancellable: (nullable): a cancellable
 * @error: return location for a #GError
 *
 * Sends the message with the transport that the configuration's `sendusing`
 * field names (CDO's `1` is "pickup", the default; `2` is "smtp"), as CDO's
 * `Message.Send` does. See [method@Transport.send_message] for the checks,
 * clocks and errors. To send several messages over one connection, use a
 * [class@Transport] directly.
 *
 * The connection ends before the call returns, under the same clocks:
 * QUIT gets only what is left of the operation's deadline (and at most the
 * transport's QUIT limit) and ends at once when @cancellable is
 * cancelled; then the connection is closed regardless. The server has
 * accepted the message by then, so the call succeeds whatever it does.
 *
 * Returns: (transfer full): a report of what happened, or %NULL on error
 */
MsgSendReport *
msg_message_send (MsgMessage   *self,
                  GCancellable *cancellable,
                  GError      **error)
{
  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return send_or_post (self, FALSE, cancellable, error);
}

/**
 * msg_message_post:
 * @self: a message
 * @cancellable: (nullable): a cancellable
 * @error: return location for a #GError
 *
 * Posts the message as a news article with the transport that the
 * configuration's `postusing` field names (CDO's `1` is "pickup", the
 * default; `2` is "nntp"), as CDO's `Message.Post` does. Clocks, errors
 * and the end of the connection are as for [method@Message.send].
 *
 * Returns: (transfer full): a report of what happened, or %NULL on error
 */
MsgSendReport *
msg_message_post (MsgMessage   *self,
                  GCancellable *cancellable,
                  GError      **error)
{
  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return send_or_post (self, TRUE, cancellable, error);
}

static void
send_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  SendData      *data = task_data;
  GError        *error = NULL;
  MsgSendReport *report;

  report = _msg_transport_send_once (data->transport, source_object, data->post, data->start,
                                     data->context, cancellable, &error);
  if (report == NULL)
    _msg_task_return_error_later (task, error);
  else
    _msg_task_return_pointer_later (task, report, g_object_unref);
}

static void
start_async (MsgMessage         *self,
             gboolean            post,
             gpointer            source_tag,
             GCancellable       *cancellable,
             GAsyncReadyCallback callback,
             gpointer            user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);
  g_autoptr (MsgTransport) transport = NULL;
  gint64    start = g_get_monotonic_time ();
  GError   *error = NULL;
  SendData *data;

  g_task_set_source_tag (task, source_tag);
  /* Made here, not in the worker: a transport written in gjs can be made
   * in no other thread. */
  transport = transport_for (self, post, &error);
  if (transport == NULL)
    {
      g_task_return_error (task, error);
      return;
    }
  data = g_new0 (SendData, 1);
  data->post = post;
  data->start = start;
  data->transport = g_steal_pointer (&transport);
  data->context = g_main_context_ref_thread_default ();
  g_task_set_task_data (task, data, (GDestroyNotify) send_data_free);
  g_task_set_check_cancellable (task, FALSE);
  g_task_set_return_on_cancel (task, FALSE);
  _msg_task_run_in_own_thread_returning (task, send_thread);
}

/**
 * msg_message_send_async:
 * @self: a message
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called when the message is sent or has failed
 * @user_data: data for @callback
 *
 * Sends the message without blocking; see [method@Message.send].
 */
void
msg_message_send_async (MsgMessage         *self,
                        GCancellable       *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer            user_data)
{
  g_return_if_fail (MSG_IS_MESSAGE (self));

  start_async (self, FALSE, msg_message_send_async, cancellable, callback, user_data);
}

/**
 * msg_message_send_finish:
 * @self: a message
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Message.send_async].
 *
 * Returns: (transfer full): a report of what happened, or %NULL on error
 */
MsgSendReport *
msg_message_send_finish (MsgMessage   *self,
                         GAsyncResult *result,
                         GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, msg_message_send_async), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * msg_message_post_async:
 * @self: a message
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called when the article is posted or has failed
 * @user_data: data for @callback
 *
 * Posts the message without blocking; see [method@Message.post].
 */
void
msg_message_post_async (MsgMessage         *self,
                        GCancellable       *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer            user_data)
{
  g_return_if_fail (MSG_IS_MESSAGE (self));

  start_async (self, TRUE, msg_message_post_async, cancellable, callback, user_data);
}

/**
 * msg_message_post_finish:
 * @self: a message
 * @result: the result passed to the callback
 * @error: return location for a #GError
 *
 * Finishes [method@Message.post_async].
 *
 * Returns: (transfer full): a report of what happened, or %NULL on error
 */
MsgSendReport *
msg_message_post_finish (MsgMessage   *self,
                         GAsyncResult *result,
                         GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, msg_message_post_async), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
