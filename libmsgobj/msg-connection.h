/* msg-connection.h: the deadline-aware connection layer for transports
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MSGOBJ_H_INSIDE__) && !defined(MSGOBJ_COMPILATION)
#error "Only <msgobj.h> can be included directly."
#endif

#include "msg-types.h"
#include "msg-reply.h"

G_BEGIN_DECLS

/**
 * MsgReplyStyle:
 * @MSG_REPLY_STYLE_SMTP: RFC 5321 replies: `250-...` continuation lines,
 *   optional RFC 3463 enhanced status codes
 * @MSG_REPLY_STYLE_NNTP: RFC 3977 replies: one status line
 *
 * How [method@Connection.read_reply] reads a reply.
 */
typedef enum
{
  MSG_REPLY_STYLE_SMTP,
  MSG_REPLY_STYLE_NNTP,
} MsgReplyStyle;

/**
 * MSG_CONNECTION_MAX_DOT_BLOCK_LENGTH:
 *
 * The most bytes [method@Connection.read_dot_lines] accepts in one block,
 * counting each line with a CRLF line end.
 */
#define MSG_CONNECTION_MAX_DOT_BLOCK_LENGTH (1024 * 1024)

#define MSG_TYPE_CONNECTION (msg_connection_get_type ())
MSG_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MsgConnection, msg_connection, MSG, CONNECTION, GObject)

MSG_AVAILABLE_IN_ALL
MsgConnection *msg_connection_new                (const char     *host,
                                                  guint16         port);
MSG_AVAILABLE_IN_ALL
const char    *msg_connection_get_host           (MsgConnection  *self);
MSG_AVAILABLE_IN_ALL
guint16        msg_connection_get_port           (MsgConnection  *self);

/* Clocks. */
MSG_AVAILABLE_IN_ALL
void           msg_connection_set_timeout        (MsgConnection  *self,
                                                  double          seconds);
MSG_AVAILABLE_IN_ALL
double         msg_connection_get_timeout        (MsgConnection  *self);
MSG_AVAILABLE_IN_ALL
void           msg_connection_set_deadline       (MsgConnection  *self,
                                                  gint64          deadline);
MSG_AVAILABLE_IN_ALL
gint64         msg_connection_get_deadline       (MsgConnection  *self);

/* TLS settings. */
MSG_AVAILABLE_IN_ALL
void           msg_connection_set_tls_ca_file    (MsgConnection  *self,
                                                  const char     *path);
MSG_AVAILABLE_IN_ALL
void           msg_connection_set_tls_verify     (MsgConnection  *self,
                                                  gboolean        verify);
MSG_AVAILABLE_IN_ALL
gboolean       msg_connection_is_tls             (MsgConnection  *self);
MSG_AVAILABLE_IN_ALL
GInetAddress  *msg_connection_get_local_address  (MsgConnection  *self);
MSG_AVAILABLE_IN_ALL
GBytes        *msg_connection_get_channel_binding (MsgConnection          *self,
                                                   GTlsChannelBindingType  type,
                                                   GError                **error);

/* Trace. */
MSG_AVAILABLE_IN_ALL
void           msg_connection_set_trace_name     (MsgConnection  *self,
                                                  const char     *name);
MSG_AVAILABLE_IN_ALL
void           msg_connection_set_quick_ack      (MsgConnection  *self,
                                                  gboolean        quick_ack);

/* Life cycle. */
MSG_AVAILABLE_IN_ALL
gboolean       msg_connection_connect            (MsgConnection  *self,
                                                  gboolean        implicit_tls,
                                                  GCancellable   *cancellable,
                                                  GError        **error);
MSG_AVAILABLE_IN_ALL
gboolean       msg_connection_starttls           (MsgConnection  *self,
                                                  GCancellable   *cancellable,
                                                  GError        **error);
MSG_AVAILABLE_IN_ALL
gboolean       msg_connection_is_connected       (MsgConnection  *self);
MSG_AVAILABLE_IN_ALL
gboolean       msg_connection_check_idle         (MsgConnection  *self);
MSG_AVAILABLE_IN_ALL
void           msg_connection_abort              (MsgConnection  *self);

/* Writing. */
MSG_AVAILABLE_IN_ALL
gboolean       msg_connection_queue_command      (MsgConnection  *self,
                                                  const char     *command,
                                                  GError        **error);
MSG_AVAILABLE_IN_ALL
gboolean       msg_connection_queue_secret_command (MsgConnection *self,
                                                    const char    *command,
                                                    const char    *trace_text,
                                                    GError       **error);
MSG_AVAILABLE_IN_ALL
gboolean       msg_connection_flush              (MsgConnection  *self,
                                                  GCancellable   *cancellable,
                                                  GError        **error);
MSG_AVAILABLE_IN_ALL
gboolean       msg_connection_send_command       (MsgConnection  *self,
                                                  const char     *command,
                                                  GCancellable   *cancellable,
                                                  GError        **error);
MSG_AVAILABLE_IN_ALL
gboolean       msg_connection_write_all          (MsgConnection  *self,
                                                  const void     *buffer,
                                                  gsize           length,
                                                  GCancellable   *cancellable,
                                                  GError        **error);
MSG_AVAILABLE_IN_ALL
GOutputStream *msg_connection_get_output_stream  (MsgConnection  *self);

/* Reading. */
MSG_AVAILABLE_IN_ALL
char          *msg_connection_read_line          (MsgConnection  *self,
                                                  gsize          *length,
                                                  GCancellable   *cancellable,
                                                  GError        **error);
MSG_AVAILABLE_IN_ALL
MsgReply      *msg_connection_read_reply         (MsgConnection  *self,
                                                  MsgReplyStyle   style,
                                                  GCancellable   *cancellable,
                                                  GError        **error);
MSG_AVAILABLE_IN_ALL
GStrv          msg_connection_read_dot_lines     (MsgConnection  *self,
                                                  unsigned        max_lines,
                                                  GCancellable   *cancellable,
                                                  GError        **error);

G_END_DECLS
