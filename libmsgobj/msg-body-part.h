/* msg-body-part.h: CDO's BodyPart object, one node of the MIME tree
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MSGOBJ_H_INSIDE__) && !defined(MSGOBJ_COMPILATION)
#error "Only <msgobj.h> can be included directly."
#endif

#include "msg-types.h"

G_BEGIN_DECLS

#define MSG_TYPE_BODY_PART (msg_body_part_get_type ())
MSG_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MsgBodyPart, msg_body_part, MSG, BODY_PART, GObject)

MSG_AVAILABLE_IN_ALL
char        *msg_body_part_get_content_media_type        (MsgBodyPart  *self);
MSG_AVAILABLE_IN_ALL
gboolean     msg_body_part_set_content_media_type        (MsgBodyPart  *self,
                                                          const char   *media_type,
                                                          GError      **error);
MSG_AVAILABLE_IN_ALL
char        *msg_body_part_get_content_transfer_encoding (MsgBodyPart  *self);
MSG_AVAILABLE_IN_ALL
gboolean     msg_body_part_set_content_transfer_encoding (MsgBodyPart  *self,
                                                          const char   *encoding,
                                                          GError      **error);
MSG_AVAILABLE_IN_ALL
char        *msg_body_part_get_charset                   (MsgBodyPart  *self);
MSG_AVAILABLE_IN_ALL
gboolean     msg_body_part_set_charset                   (MsgBodyPart  *self,
                                                          const char   *charset,
                                                          GError      **error);
MSG_AVAILABLE_IN_ALL
char        *msg_body_part_get_filename                  (MsgBodyPart  *self);
MSG_AVAILABLE_IN_ALL
char        *msg_body_part_get_raw_filename              (MsgBodyPart  *self);
MSG_AVAILABLE_IN_ALL
gboolean     msg_body_part_set_filename                  (MsgBodyPart  *self,
                                                          const char   *filename,
                                                          GError      **error);
MSG_AVAILABLE_IN_ALL
char        *msg_body_part_get_content_id                (MsgBodyPart  *self);
MSG_AVAILABLE_IN_ALL
gboolean     msg_body_part_set_content_id                (MsgBodyPart  *self,
                                                          const char   *content_id,
                                                          GError      **error);
MSG_AVAILABLE_IN_ALL
char        *msg_body_part_get_content_disposition       (MsgBodyPart  *self);
MSG_AVAILABLE_IN_ALL
gboolean     msg_body_part_set_content_disposition       (MsgBodyPart  *self,
                                                          const char   *disposition,
                                                          GError      **error);

MSG_AVAILABLE_IN_ALL
GList       *msg_body_part_get_body_parts                (MsgBodyPart  *self);
MSG_AVAILABLE_IN_ALL
GListModel  *msg_body_part_get_body_parts_model          (MsgBodyPart  *self);
MSG_AVAILABLE_IN_ALL
MsgBodyPart *msg_body_part_add_body_part                 (MsgBodyPart  *self,
                                                          const char   *content_type,
                                                          GError      **error);

MSG_AVAILABLE_IN_ALL
MsgBodyPart *msg_body_part_insert_body_part              (MsgBodyPart  *self,
                                                          int           index,
                                                          const char   *content_type,
                                                          GError      **error);
MSG_AVAILABLE_IN_ALL
gboolean     msg_body_part_remove_body_part              (MsgBodyPart  *self,
                                                          guint         index,
                                                          GError      **error);
MSG_AVAILABLE_IN_ALL
gboolean     msg_body_part_remove_child                  (MsgBodyPart  *self,
                                                          MsgBodyPart  *child,
                                                          GError      **error);
MSG_AVAILABLE_IN_ALL
void         msg_body_part_remove_all_body_parts         (MsgBodyPart  *self);
MSG_AVAILABLE_IN_ALL
MsgBodyPart *msg_body_part_get_parent                    (MsgBodyPart  *self);
MSG_AVAILABLE_IN_ALL
char        *msg_body_part_get_field_parameter           (MsgBodyPart  *self,
                                                          const char   *field,
                                                          const char   *parameter);
MSG_AVAILABLE_IN_ALL
gboolean     msg_body_part_set_field_parameter           (MsgBodyPart  *self,
                                                          const char   *field,
                                                          const char   *parameter,
                                                          const char   *value,
                                                          GError      **error);
MSG_AVAILABLE_IN_ALL
GInputStream *msg_body_part_get_stream                   (MsgBodyPart  *self,
                                                          GError      **error);

MSG_AVAILABLE_IN_ALL
GBytes      *msg_body_part_get_decoded_content           (MsgBodyPart  *self,
                                                          GError      **error);
MSG_AVAILABLE_IN_ALL
GBytes      *msg_body_part_get_encoded_content           (MsgBodyPart  *self,
                                                          GError      **error);
MSG_AVAILABLE_IN_ALL
gboolean     msg_body_part_set_content                   (MsgBodyPart  *self,
                                                          GBytes       *content,
                                                          GError      **error);
MSG_AVAILABLE_IN_ALL
GBytes      *msg_body_part_to_bytes                      (MsgBodyPart  *self,
                                                          GError      **error);
MSG_AVAILABLE_IN_ALL
char        *msg_body_part_get_text                      (MsgBodyPart  *self,
                                                          GError      **error);
MSG_AVAILABLE_IN_ALL
gboolean     msg_body_part_set_text                      (MsgBodyPart  *self,
                                                          const char   *text,
                                                          GError      **error);
MSG_AVAILABLE_IN_ALL
gboolean     msg_body_part_save_to_file                  (MsgBodyPart  *self,
                                                          const char   *path,
                                                          GError      **error);

MSG_AVAILABLE_IN_ALL
char        *msg_body_part_get_header                    (MsgBodyPart  *self,
                                                          const char   *name);
MSG_AVAILABLE_IN_ALL
gboolean     msg_body_part_set_header                    (MsgBodyPart  *self,
                                                          const char   *name,
                                                          const char   *value,
                                                          GError      **error);

G_END_DECLS
