/* msg-smtp-transport.c: the SMTP transport
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-smtp-transport.h"

struct _MsgSmtpTransport
{
  MsgTransport parent_instance;
};

G_DEFINE_DYNAMIC_TYPE_EXTENDED (MsgSmtpTransport, msg_smtp_transport, MSG_TYPE_TRANSPORT, G_TYPE_FLAG_FINAL, {})

static void
msg_smtp_transport_class_init (MsgSmtpTransportClass *klass)
{
}

static void
msg_smtp_transport_class_finalize (MsgSmtpTransportClass *klass)
{
}

static void
msg_smtp_transport_init (MsgSmtpTransport *self)
{
}

void
msg_smtp_transport_register (GTypeModule *module)
{
  msg_smtp_transport_register_type (module);
}
