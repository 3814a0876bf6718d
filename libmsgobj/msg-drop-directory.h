/* msg-drop-directory.h: reading a directory of dropped messages
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MSGOBJ_H_INSIDE__) && !defined(MSGOBJ_COMPILATION)
#error "Only <msgobj.h> can be included directly."
#endif

#include "msg-types.h"

G_BEGIN_DECLS

#define MSG_TYPE_DROP_DIRECTORY (msg_drop_directory_get_type ())
MSG_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MsgDropDirectory, msg_drop_directory, MSG, DROP_DIRECTORY, GObject)

MSG_AVAILABLE_IN_ALL
MsgDropDirectory *msg_drop_directory_new            (const char        *path);
MSG_AVAILABLE_IN_ALL
MsgDropDirectory *msg_drop_directory_new_for_file   (GFile             *file);
MSG_AVAILABLE_IN_ALL
const char       *msg_drop_directory_get_path       (MsgDropDirectory  *self);
MSG_AVAILABLE_IN_ALL
GFile            *msg_drop_directory_get_file       (MsgDropDirectory  *self) G_GNUC_WARN_UNUSED_RESULT;
MSG_AVAILABLE_IN_ALL
GListModel       *msg_drop_directory_get_messages   (MsgDropDirectory  *self,
                                                     GCancellable      *cancellable,
                                                     GError           **error) G_GNUC_WARN_UNUSED_RESULT;
MSG_AVAILABLE_IN_ALL
gboolean          msg_drop_directory_delete_all     (MsgDropDirectory  *self,
                                                     guint             *n_deleted,
                                                     GCancellable      *cancellable,
                                                     GError           **error);
MSG_AVAILABLE_IN_ALL
gboolean          msg_drop_directory_recover_claims (MsgDropDirectory  *self,
                                                     const char        *started_subdir,
                                                     guint             *n_put_back,
                                                     guint             *n_set_aside,
                                                     GCancellable      *cancellable,
                                                     GError           **error);
MSG_AVAILABLE_IN_ALL
gboolean          msg_drop_directory_watch          (MsgDropDirectory  *self,
                                                     GError           **error);

G_END_DECLS
