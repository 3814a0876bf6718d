/* msg-connection.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msgobj.h"

struct _MsgConnection
{
  GObject parent_instance;
};

G_DEFINE_FINAL_TYPE (MsgConnection, msg_connection, G_TYPE_OBJECT)

static void
msg_connection_class_init (MsgConnectionClass *klass)
{
}

static void
msg_connection_init (MsgConnection *self)
{
}
