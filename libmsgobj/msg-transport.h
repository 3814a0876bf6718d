/* msg-transport.h: the transport plugin base class and registry
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MSGOBJ_H_INSIDE__) && !defined(MSGOBJ_COMPILATION)
#error "Only <msgobj.h> can be included directly."
#endif

#include "msg-types.h"
#include "msg-configuration.h"
#include "msg-message.h"
#include "msg-send-report.h"
#include "msg-connection.h"

G_BEGIN_DECLS

/**
 * MSG_TRANSPORT_EXTENSION_POINT_NAME:
 *
 * The GIO extension point at which transports register, each under its
 * name ("pickup", "smtp", "nntp", ...).
 */
#define MSG_TRANSPORT_EXTENSION_POINT_NAME "msgobj-transport"

/**
 * MSG_TRANSPORT_ABI_VERSION:
 *
 * The version of the interface between the library and its transport
 * modules. A module states the version it was built for with
 * %MSG_TRANSPORT_DEFINE_ABI_VERSION; the library refuses, with a warning
 * naming the file, a module that does not state it or states another
 * version.
 */
#define MSG_TRANSPORT_ABI_VERSION 1

/**
 * MSG_TRANSPORT_DEFINE_ABI_VERSION:
 *
 * Defines, once in a transport module, the exported constant
 * `msgobj_transport_abi_version` with the value of
 * %MSG_TRANSPORT_ABI_VERSION; the module must include `<gmodule.h>`, and
 * export the symbol if it restricts its exports (a linker version
 * script):
 *
 * ```c
 * #include <gmodule.h>
 * #include <msgobj.h>
 *
 * MSG_TRANSPORT_DEFINE_ABI_VERSION;
 * ```
 */
#define MSG_TRANSPORT_DEFINE_ABI_VERSION                              \
  G_MODULE_EXPORT extern const unsigned msgobj_transport_abi_version; \
  G_MODULE_EXPORT const unsigned msgobj_transport_abi_version = MSG_TRANSPORT_ABI_VERSION

/**
 * MSG_TRANSPORT_ERROR:
 *
 * The error domain of transport errors.
 */
#define MSG_TRANSPORT_ERROR (msg_transport_error_quark ())

/**
 * MsgTransportError:
 * @MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED: the server refused the
 *   credentials, or no usable mechanism was offered
 * @MSG_TRANSPORT_ERROR_TLS_UNAVAILABLE: TLS was required and the server does
 *   not offer it
 * @MSG_TRANSPORT_ERROR_SENDER_REJECTED: the server refused the envelope sender
 * @MSG_TRANSPORT_ERROR_RECIPIENTS_REJECTED: the server refused one or more
 *   recipients
 * @MSG_TRANSPORT_ERROR_MESSAGE_REJECTED: the server refused the message itself
 * @MSG_TRANSPORT_ERROR_POSTING_NOT_ALLOWED: the news server does not allow
 *   posting
 * @MSG_TRANSPORT_ERROR_PROTOCOL: the server broke the protocol (unexpected or
 *   malformed reply, a reply over the size limits)
 * @MSG_TRANSPORT_ERROR_NOT_SUPPORTED: the transport or server cannot do what
 *   was asked
 * @MSG_TRANSPORT_ERROR_TEMPORARY_FAILURE: the server answered with a
 *   transient (4xx) failure; a later retry may succeed
 * @MSG_TRANSPORT_ERROR_OUTCOME_UNKNOWN: the whole message was sent but no
 *   answer came (time-out, lost connection or cancellation): the server may
 *   have accepted it, so a blind retry could deliver it twice
 * @MSG_TRANSPORT_ERROR_NO_SERVER: no server is configured for a network
 *   transport
 * @MSG_TRANSPORT_ERROR_FAILED: another failure
 * @MSG_TRANSPORT_ERROR_RECIPIENTS_DEFERRED: the server refused one or more
 *   recipients, every refusal a transient (4xx) one (greylisting, a full
 *   mailbox), and nothing was delivered: the same message may be sent
 *   again later. A refusal among them that is permanent (5xx) gives
 *   %MSG_TRANSPORT_ERROR_RECIPIENTS_REJECTED instead
 *
 * Error codes of %MSG_TRANSPORT_ERROR. Time-outs, cancellation and refused
 * connections use GLib's own %G_IO_ERROR_TIMED_OUT, %G_IO_ERROR_CANCELLED and
 * %G_IO_ERROR_CONNECTION_REFUSED.
 */
typedef enum
{
  MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED,
  MSG_TRANSPORT_ERROR_TLS_UNAVAILABLE,
  MSG_TRANSPORT_ERROR_SENDER_REJECTED,
  MSG_TRANSPORT_ERROR_RECIPIENTS_REJECTED,
  MSG_TRANSPORT_ERROR_MESSAGE_REJECTED,
  MSG_TRANSPORT_ERROR_POSTING_NOT_ALLOWED,
  MSG_TRANSPORT_ERROR_PROTOCOL,
  MSG_TRANSPORT_ERROR_NOT_SUPPORTED,
  MSG_TRANSPORT_ERROR_TEMPORARY_FAILURE,
  MSG_TRANSPORT_ERROR_OUTCOME_UNKNOWN,
  MSG_TRANSPORT_ERROR_NO_SERVER,
  MSG_TRANSPORT_ERROR_FAILED,
  MSG_TRANSPORT_ERROR_RECIPIENTS_DEFERRED,
} MsgTransportError;

MSG_AVAILABLE_IN_ALL
GQuark msg_transport_error_quark (void);

#define MSG_TYPE_TRANSPORT (msg_transport_get_type ())
MSG_AVAILABLE_IN_ALL
G_DECLARE_DERIVABLE_TYPE (MsgTransport, msg_transport, MSG, TRANSPORT, GObject)

/**
 * MsgTransportClass:
 * @parent_class: the parent class
 * @send_message_sync: sends one message; runs in the caller's thread for the
 *   sync API and in a worker thread for the async API; must leave no
 *   connection open after an error
 * @post_message_sync: posts one news article, like @send_message_sync
 * @close_sync: ends a kept connection politely, then closes it regardless
 * @validate: checks a message and the configuration before any I/O; it
 *   runs at the call, in the caller's thread, possibly while another
 *   operation runs, so it reads only
 *   [method@Transport.get_operation_configuration], never the connection
 *
 * The virtual functions of a transport. Implementations are sequential and
 * blocking; the base class provides the asynchronous API.
 */
/**
 * MsgTransportClass::send_message_sync:
 * @self: the transport
 * @message: the message to send, already validated and ready: its MIME
 *   tree built and its `Date` and `Message-ID` set at the call
 *   ([method@Message.prepare_for_sending])
 * @cancellable: (nullable): the operation's cancellable
 * @error: return location for a #GError
 *
 * Sends one message, blocking: in the caller's thread for
 * [method@Transport.send_message], in a worker thread for
 * [method@Transport.send_message_async]. Read the settings from
 * [method@Transport.get_operation_configuration] and honour @cancellable.
 *
 * Returns: (transfer full): the report, or %NULL with @error set
 */

/**
 * MsgTransportClass::post_message_sync:
 * @self: the transport
 * @message: the news article to post, already validated and ready, as
 *   for [vfunc@Transport.send_message_sync]
 * @cancellable: (nullable): the operation's cancellable
 * @error: return location for a #GError
 *
 * Posts one news article, like [vfunc@Transport.send_message_sync].
 *
 * Returns: (transfer full): the report, or %NULL with @error set
 */

/**
 * MsgTransportClass::close_sync:
 * @self: the transport
 * @cancellable: (nullable): the operation's cancellable
 * @error: return location for a #GError
 *
 * Ends a kept connection politely, then closes it regardless. A transport
 * that keeps no connection need not implement it.
 *
 * Returns: %TRUE if the connection was ended cleanly
 */

/**
 * MsgTransportClass::validate:
 * @self: the transport
 * @message: the message about to be sent or posted
 * @post: %TRUE for a post, %FALSE for a send
 * @error: return location for a #GError
 *
 * Checks @message and the operation's configuration before any I/O, after
 * the base class's own checks (recipients, sender, newsgroups). It runs at
 * the call, in the caller's thread, and reads only
 * [method@Transport.get_operation_configuration]. Optional.
 *
 * Returns: %TRUE if the operation may go ahead
 */
struct _MsgTransportClass
{
  GObjectClass parent_class;

  MsgSendReport *(*send_message_sync) (MsgTransport *self,
                                       MsgMessage   *message,
                                       GCancellable *cancellable,
                                       GError      **error);
  MsgSendReport *(*post_message_sync) (MsgTransport *self,
                                       MsgMessage   *message,
                                       GCancellable *cancellable,
                                       GError      **error);
  gboolean       (*close_sync)        (MsgTransport *self,
                                       GCancellable *cancellable,
                                       GError      **error);
  gboolean       (*validate)          (MsgTransport *self,
                                       MsgMessage   *message,
                                       gboolean      post,
                                       GError      **error);

  /*< private >*/
  gpointer padding[12];
};

/* Registry. */
MSG_AVAILABLE_IN_ALL
MsgTransport     *msg_transport_new_for_name        (const char          *name,
                                                     MsgConfiguration    *configuration,
                                                     GError             **error);
MSG_AVAILABLE_IN_ALL
GStrv             msg_transport_list_names          (void);
MSG_AVAILABLE_IN_ALL
gboolean          msg_transport_register_type       (const char          *name,
                                                     GType                type,
                                                     GError             **error);

/* Properties. */
MSG_AVAILABLE_IN_ALL
const char       *msg_transport_get_name            (MsgTransport        *self);
MSG_AVAILABLE_IN_ALL
MsgConfiguration *msg_transport_get_configuration   (MsgTransport        *self);
MSG_AVAILABLE_IN_ALL
void              msg_transport_set_configuration   (MsgTransport        *self,
                                                     MsgConfiguration    *configuration);

/* Sending. */
MSG_AVAILABLE_IN_ALL
MsgSendReport    *msg_transport_send_message        (MsgTransport        *self,
                                                     MsgMessage          *message,
                                                     GCancellable        *cancellable,
                                                     GError             **error);
MSG_AVAILABLE_IN_ALL
void              msg_transport_send_message_async  (MsgTransport        *self,
                                                     MsgMessage          *message,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
MSG_AVAILABLE_IN_ALL
MsgSendReport    *msg_transport_send_message_finish (MsgTransport        *self,
                                                     GAsyncResult        *result,
                                                     GError             **error);
MSG_AVAILABLE_IN_ALL
MsgSendReport    *msg_transport_post_message        (MsgTransport        *self,
                                                     MsgMessage          *message,
                                                     GCancellable        *cancellable,
                                                     GError             **error);
MSG_AVAILABLE_IN_ALL
void              msg_transport_post_message_async  (MsgTransport        *self,
                                                     MsgMessage          *message,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
MSG_AVAILABLE_IN_ALL
MsgSendReport    *msg_transport_post_message_finish (MsgTransport        *self,
                                                     GAsyncResult        *result,
                                                     GError             **error);
MSG_AVAILABLE_IN_ALL
gboolean          msg_transport_close               (MsgTransport        *self,
                                                     GCancellable        *cancellable,
                                                     GError             **error);
MSG_AVAILABLE_IN_ALL
void              msg_transport_close_async         (MsgTransport        *self,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
MSG_AVAILABLE_IN_ALL
gboolean          msg_transport_close_finish        (MsgTransport        *self,
                                                     GAsyncResult        *result,
                                                     GError             **error);

/* For transport implementations. */
MSG_AVAILABLE_IN_ALL
MsgConfiguration *msg_transport_get_operation_configuration (MsgTransport *self);
MSG_AVAILABLE_IN_ALL
gint64            msg_transport_get_operation_start_time    (MsgTransport *self);
MSG_AVAILABLE_IN_ALL
gboolean          msg_transport_peek_queued_send            (MsgTransport      *self,
                                                             MsgMessage       **message,
                                                             MsgConfiguration **configuration,
                                                             gint64            *start_time);
MSG_AVAILABLE_IN_ALL
void              msg_transport_emit_progress       (MsgTransport        *self,
                                                     guint64              sent,
                                                     guint64              total);
MSG_AVAILABLE_IN_ALL
char             *msg_transport_request_token       (MsgTransport        *self,
                                                     const char          *mechanism,
                                                     const char          *user,
                                                     const char          *server_error,
                                                     gint64               deadline,
                                                     GCancellable        *cancellable);
MSG_AVAILABLE_IN_ALL
gint64            msg_transport_get_operation_deadline (MsgTransport     *self,
                                                        double            timeout,
                                                        guint64           message_size);
MSG_AVAILABLE_IN_ALL
gboolean          msg_transport_write_message_data  (MsgTransport        *self,
                                                     MsgMessage          *message,
                                                     MsgWriteFlags        flags,
                                                     MsgConnection       *connection,
                                                     guint64              total,
                                                     GCancellable        *cancellable,
                                                     GError             **error);
MSG_AVAILABLE_IN_ALL
gboolean          msg_transport_write_message_to_stream (MsgTransport    *self,
                                                         MsgMessage      *message,
                                                         MsgWriteFlags    flags,
                                                         GOutputStream   *stream,
                                                         guint64          total,
                                                         GCancellable    *cancellable,
                                                         GError         **error);

G_END_DECLS
