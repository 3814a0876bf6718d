/* msg-transport.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msgobj.h"
#include "msg-transport-private.h"

typedef struct
{
  MsgConfiguration *configuration;
} MsgTransportPrivate;

G_DEFINE_QUARK (msg-transport-error-quark, msg_transport_error)
G_DEFINE_ABSTRACT_TYPE_WITH_PRIVATE (MsgTransport, msg_transport, G_TYPE_OBJECT)

static void
msg_transport_class_init (MsgTransportClass *klass)
{
}

static void
msg_transport_init (MsgTransport *self)
{
}

void
_msg_transports_ensure_loaded (void)
{
}
