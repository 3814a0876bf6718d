/* msg-nntp-transport.h: the NNTP transport
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <msgobj.h>

G_BEGIN_DECLS

#define MSG_TYPE_NNTP_TRANSPORT (msg_nntp_transport_get_type ())
G_DECLARE_FINAL_TYPE (MsgNntpTransport, msg_nntp_transport, MSG, NNTP_TRANSPORT, MsgTransport)

void msg_nntp_transport_register (GTypeModule *module);

G_END_DECLS
