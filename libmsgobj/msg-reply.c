/* msg-reply.c: a parsed SMTP or NNTP server reply
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msgobj.h"

struct _MsgReply
{
  gatomicrefcount ref_count;
};

G_DEFINE_BOXED_TYPE (MsgReply, msg_reply, msg_reply_ref, msg_reply_unref)

MsgReply *
msg_reply_ref (MsgReply *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
msg_reply_unref (MsgReply *self)
{
  if (g_atomic_ref_count_dec (&self->ref_count))
    g_free (self);
}
