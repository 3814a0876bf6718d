/* msg-nntp-transport.c: the NNTP transport
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-nntp-transport.h"

struct _MsgNntpTransport
{
  MsgTransport parent_instance;
};

G_DEFINE_DYNAMIC_TYPE_EXTENDED (MsgNntpTransport, msg_nntp_transport, MSG_TYPE_TRANSPORT, G_TYPE_FLAG_FINAL, {})

static void
msg_nntp_transport_class_init (MsgNntpTransportClass *klass)
{
}

static void
msg_nntp_transport_class_finalize (MsgNntpTransportClass *klass)
{
}

static void
msg_nntp_transport_init (MsgNntpTransport *self)
{
}

void
msg_nntp_transport_register (GTypeModule *module)
{
  msg_nntp_transport_register_type (module);
}
