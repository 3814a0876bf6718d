/* msg-recipient-status.h: what the server said about one recipient
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MSGOBJ_H_INSIDE__) && !defined(MSGOBJ_COMPILATION)
#error "Only <msgobj.h> can be included directly."
#endif

#include "msg-types.h"

G_BEGIN_DECLS

#define MSG_TYPE_RECIPIENT_STATUS (msg_recipient_status_get_type ())

MSG_AVAILABLE_IN_ALL
GType               msg_recipient_status_get_type          (void);
MSG_AVAILABLE_IN_ALL
MsgRecipientStatus *msg_recipient_status_new               (const char               *address,
                                                            unsigned                  code,
                                                            const char               *enhanced_status,
                                                            const char               *text);
MSG_AVAILABLE_IN_ALL
MsgRecipientStatus *msg_recipient_status_copy              (const MsgRecipientStatus *self);
MSG_AVAILABLE_IN_ALL
void                msg_recipient_status_free              (MsgRecipientStatus       *self);
MSG_AVAILABLE_IN_ALL
const char         *msg_recipient_status_get_address       (const MsgRecipientStatus *self);
MSG_AVAILABLE_IN_ALL
unsigned            msg_recipient_status_get_code          (const MsgRecipientStatus *self);
MSG_AVAILABLE_IN_ALL
const char         *msg_recipient_status_get_enhanced_status (const MsgRecipientStatus *self);
MSG_AVAILABLE_IN_ALL
const char         *msg_recipient_status_get_text          (const MsgRecipientStatus *self);
MSG_AVAILABLE_IN_ALL
gboolean            msg_recipient_status_is_accepted       (const MsgRecipientStatus *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgRecipientStatus, msg_recipient_status_free)

G_END_DECLS
