/* msg-body-part.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msgobj.h"

struct _MsgBodyPart
{
  GObject parent_instance;
};

G_DEFINE_FINAL_TYPE (MsgBodyPart, msg_body_part, G_TYPE_OBJECT)

static void
msg_body_part_class_init (MsgBodyPartClass *klass)
{
}

static void
msg_body_part_init (MsgBodyPart *self)
{
}
