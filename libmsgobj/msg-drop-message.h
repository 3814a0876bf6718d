/* msg-drop-message.h: one message file of a drop directory
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MSGOBJ_H_INSIDE__) && !defined(MSGOBJ_COMPILATION)
#error "Only <msgobj.h> can be included directly."
#endif

#include "msg-types.h"

G_BEGIN_DECLS

#define MSG_TYPE_DROP_MESSAGE (msg_drop_message_get_type ())
MSG_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MsgDropMessage, msg_drop_message, MSG, DROP_MESSAGE, GObject)

MSG_AVAILABLE_IN_ALL
const char       *msg_drop_message_get_name        (MsgDropMessage  *self);
MSG_AVAILABLE_IN_ALL
MsgDropDirectory *msg_drop_message_get_directory   (MsgDropMessage  *self);
MSG_AVAILABLE_IN_ALL
GFile            *msg_drop_message_get_file        (MsgDropMessage  *self) G_GNUC_WARN_UNUSED_RESULT;
MSG_AVAILABLE_IN_ALL
MsgMessage       *msg_drop_message_get_message     (MsgDropMessage  *self,
                                                    GError         **error) G_GNUC_WARN_UNUSED_RESULT;
MSG_AVAILABLE_IN_ALL
gboolean          msg_drop_message_is_parsed       (MsgDropMessage  *self);
MSG_AVAILABLE_IN_ALL
gboolean          msg_drop_message_is_claimed      (MsgDropMessage  *self);
MSG_AVAILABLE_IN_ALL
gboolean          msg_drop_message_claim           (MsgDropMessage  *self,
                                                    GError         **error);
MSG_AVAILABLE_IN_ALL
gboolean          msg_drop_message_mark_started    (MsgDropMessage  *self,
                                                    GError         **error);
MSG_AVAILABLE_IN_ALL
gboolean          msg_drop_message_release         (MsgDropMessage  *self,
                                                    GError         **error);
MSG_AVAILABLE_IN_ALL
GFile            *msg_drop_message_move_to         (MsgDropMessage  *self,
                                                    const char      *subdir,
                                                    GError         **error) G_GNUC_WARN_UNUSED_RESULT;
MSG_AVAILABLE_IN_ALL
gboolean          msg_drop_message_delete          (MsgDropMessage  *self,
                                                    GError         **error);

G_END_DECLS
