/* msg-smtp-transport.h: the SMTP transport
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <msgobj.h>

G_BEGIN_DECLS

#define MSG_TYPE_SMTP_TRANSPORT (msg_smtp_transport_get_type ())
G_DECLARE_FINAL_TYPE (MsgSmtpTransport, msg_smtp_transport, MSG, SMTP_TRANSPORT, MsgTransport)

void msg_smtp_transport_register (GTypeModule *module);

G_END_DECLS
