/* msg-signature.h: one signature of a signed message, as checked
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MSGOBJ_H_INSIDE__) && !defined(MSGOBJ_COMPILATION)
#error "Only <msgobj.h> can be included directly."
#endif

#include "msg-types.h"
#include "msg-enums.h"

G_BEGIN_DECLS

#define MSG_TYPE_SIGNATURE (msg_signature_get_type ())

MSG_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MsgSignature, msg_signature, MSG, SIGNATURE, GObject)

MSG_AVAILABLE_IN_ALL
MsgSignatureStatus msg_signature_get_status      (MsgSignature *self);
MSG_AVAILABLE_IN_ALL
MsgCryptoProtocol  msg_signature_get_protocol    (MsgSignature *self);
MSG_AVAILABLE_IN_ALL
const char        *msg_signature_get_user_id     (MsgSignature *self);
MSG_AVAILABLE_IN_ALL
const char        *msg_signature_get_address     (MsgSignature *self);
MSG_AVAILABLE_IN_ALL
const char        *msg_signature_get_fingerprint (MsgSignature *self);
MSG_AVAILABLE_IN_ALL
gint64             msg_signature_get_created     (MsgSignature *self);
MSG_AVAILABLE_IN_ALL
const char        *msg_signature_get_detail      (MsgSignature *self);

G_END_DECLS
