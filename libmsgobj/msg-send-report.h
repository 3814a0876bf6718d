/* msg-send-report.h: the outcome of one send or post
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MSGOBJ_H_INSIDE__) && !defined(MSGOBJ_COMPILATION)
#error "Only <msgobj.h> can be included directly."
#endif

#include "msg-types.h"
#include "msg-recipient-status.h"

G_BEGIN_DECLS

#define MSG_TYPE_SEND_REPORT (msg_send_report_get_type ())
MSG_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MsgSendReport, msg_send_report, MSG, SEND_REPORT, GObject)

MSG_AVAILABLE_IN_ALL
MsgSendReport      *msg_send_report_new                     (const char         *transport_name);
MSG_AVAILABLE_IN_ALL
const char         *msg_send_report_get_transport_name      (MsgSendReport      *self);
MSG_AVAILABLE_IN_ALL
const char         *msg_send_report_get_message_id          (MsgSendReport      *self);
MSG_AVAILABLE_IN_ALL
void                msg_send_report_set_message_id          (MsgSendReport      *self,
                                                             const char         *message_id);
MSG_AVAILABLE_IN_ALL
GStrv               msg_send_report_get_accepted_recipients (MsgSendReport      *self) G_GNUC_WARN_UNUSED_RESULT;
MSG_AVAILABLE_IN_ALL
GStrv               msg_send_report_get_rejected_recipients (MsgSendReport      *self) G_GNUC_WARN_UNUSED_RESULT;
MSG_AVAILABLE_IN_ALL
MsgRecipientStatus *msg_send_report_get_recipient_status    (MsgSendReport      *self,
                                                             const char         *address);
MSG_AVAILABLE_IN_ALL
void                msg_send_report_add_recipient_status    (MsgSendReport      *self,
                                                             MsgRecipientStatus *status);
MSG_AVAILABLE_IN_ALL
const char         *msg_send_report_get_server_response     (MsgSendReport      *self);
MSG_AVAILABLE_IN_ALL
void                msg_send_report_set_server_response     (MsgSendReport      *self,
                                                             const char         *response);
MSG_AVAILABLE_IN_ALL
unsigned            msg_send_report_get_server_code         (MsgSendReport      *self);
MSG_AVAILABLE_IN_ALL
void                msg_send_report_set_server_code         (MsgSendReport      *self,
                                                             unsigned            code);
MSG_AVAILABLE_IN_ALL
const char         *msg_send_report_get_pickup_file         (MsgSendReport      *self);
MSG_AVAILABLE_IN_ALL
void                msg_send_report_set_pickup_file         (MsgSendReport      *self,
                                                             const char         *path);

G_END_DECLS
