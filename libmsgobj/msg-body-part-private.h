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

G_END_DECLS
