/* msg-body-part-private.h: the GMime side of MsgBodyPart
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "msg-body-part.h"

#include <gmime/gmime.h>

G_BEGIN_DECLS

/* The wrapper of @object (one per GMimeObject while it lives). */
MsgBodyPart *_msg_body_part_wrap (GMimeObject *object);
GMimeObject *_msg_body_part_get_object (MsgBodyPart *self);

/* A new leaf part whose content is the file at @path, read only when
 * the part is written. */
MsgBodyPart *_msg_body_part_new_for_file (const char *path,
                                          const char *content_type,
                                          const char *filename,
                                          GError    **error);
MsgBodyPart *_msg_body_part_new_for_bytes (GBytes     *bytes,
                                           const char *content_type,
                                           const char *filename,
                                           GError    **error);
/* A copy of a leaf part sharing its (immutable) content. */
MsgBodyPart *_msg_body_part_copy (MsgBodyPart *self);

/* A new stream of the part's decoded content (transfer full), or NULL for
 * a multipart. */
GMimeStream *_msg_body_part_open_decoded (MsgBodyPart *self);

/* Whether the content of a leaf part is text/TYPE and its decoded text
 * in UTF-8. */
char *_msg_body_part_get_text (GMimeObject *object);

/* Closes the descriptors of file-backed contents below @object. */
void _msg_mime_object_release_files (GMimeObject *object);

/* Updates the children model of @object, if there is one, after its
 * children changed (msg-message-parts.c). */
void _msg_mime_object_children_changed (GMimeObject *object);

/* Makes @self wrap @object instead of its current node. */
void _msg_body_part_set_object (MsgBodyPart *self,
                                GMimeObject *object);

/* The tree (msg-message-body-tree.c). Each node knows its parent and a root
 * its message, by weak references checked on use: a node taken out of a
 * tree, or a tree the message replaced, has neither. */
void         _msg_mime_link_tree (GMimeObject *root,
                                  GObject     *owner);
void         _msg_mime_link_children (GMimeObject *object);
GMimeObject *_msg_mime_object_get_parent (GMimeObject *object);
/* The message whose current tree holds @object (transfer full), or NULL. */
GObject *_msg_mime_object_get_owner (GMimeObject *object);
/* Puts @child at @index among the children of the multipart @self, for
 * the caller: the message keeps its tree from then on. */
void     _msg_body_part_insert_object (MsgBodyPart *self,
                                       int          index,
                                       GMimeObject *child);
gboolean _msg_body_part_become_multipart (MsgBodyPart *self,
                                          const char  *subtype,
                                          GError     **error);
gboolean _msg_check_field_parameter (const char *field,
                                     const char *name,
                                     const char *value,
                                     GError    **error);

/* Updates the children model of @object, if there is one, after one child
 * came or went (msg-message-parts.c). */
void _msg_mime_object_child_inserted (GMimeObject *object,
                                      int          index);
void _msg_mime_object_child_removed (GMimeObject *object,
                                     int          index);

G_END_DECLS
