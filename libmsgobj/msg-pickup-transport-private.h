/* msg-pickup-transport-private.h: the built-in pickup-directory transport
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "msg-transport.h"

G_BEGIN_DECLS

#define MSG_TYPE_PICKUP_TRANSPORT (_msg_pickup_transport_get_type ())
G_DECLARE_FINAL_TYPE (MsgPickupTransport, _msg_pickup_transport, MSG, PICKUP_TRANSPORT, MsgTransport)

G_END_DECLS
