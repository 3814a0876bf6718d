/* msg-message.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msgobj.h"

struct _MsgMessage
{
  GObject parent_instance;
};

G_DEFINE_QUARK (msg - message - error - quark, msg_message_error)
G_DEFINE_FINAL_TYPE (MsgMessage, msg_message, G_TYPE_OBJECT)

static void
msg_message_class_init (MsgMessageClass *klass)
{
}

static void
msg_message_init (MsgMessage *self)
{
}
