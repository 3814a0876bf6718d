/* msg-drop-message-private.h: making drop-directory items
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "msg-drop-message.h"

#include "msg-drop-utils-private.h"

G_BEGIN_DECLS

MsgDropMessage *_msg_drop_message_new (MsgDropDirectory *directory,
                                       MsgDropFd        *dir_fd,
                                       const char       *name);

G_END_DECLS
