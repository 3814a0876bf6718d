/* msg-message-tree.c: a message whose tree the caller built by hand
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-message-private.h"

#include "msg-body-part-private.h"
#include "msg-charset-private.h"
#include "msg-html-to-text-private.h"
#include "msg-mime-utils-private.h"

/* The library builds a message's tree from its text body, HTML body,
 * attachments and related parts, and builds it again whenever one of
 * them changes. Once the caller changes the tree's structure through a
 * body part, the tree is the caller's: it is kept, like a parsed one, and
 * the body and attachment calls edit it in place, so that no part the
 * caller added is dropped. */

gboolean
_msg_message_prepare_tree_edit (MsgMessage  *self,
                                GMimeObject *root)
{
  _msg_message_ensure_tree (self);
  return g_mime_message_get_mime_part (self->mime) == root;
}

void
_msg_message_tree_edited (MsgMessage *self)
{
  self->parsed = TRUE;
  self->hand_built = TRUE;
  _msg_message_link_tree (self);
  _msg_message_attachments_changed (self);
}

/* Puts @object first in the tree: at the start of the root multipart, or
 * with the root leaf in a new multipart/mixed. */
static void
insert_first (MsgMessage  *self,
              GMimeObject *object)
{
  GMimeObject *root = g_mime_message_get_mime_part (self->mime);

  if (root == NULL)
    _msg_mime_message_set_root (self->mime, object);
  else if (GMIME_IS_MULTIPART (root))
    {
      g_mime_multipart_insert (GMIME_MULTIPART (root), 0, object);
      _msg_mime_object_child_inserted (root, 0);
    }
  else
    {
      g_autoptr (GMimeMultipart) mixed = g_mime_multipart_new_with_subtype ("mixed");

      g_mime_multipart_add (mixed, object);
      g_mime_multipart_add (mixed, root);
      _msg_mime_message_set_root (self->mime, GMIME_OBJECT (mixed));
    }
  _msg_message_link_tree (self);
}

static void
remove_object (MsgMessage  *self,
               GMimeObject *object)
{
  GMimeObject *parent = _msg_mime_object_get_parent (object);

  if (parent != NULL)
    {
      int index = g_mime_multipart_index_of (GMIME_MULTIPART (parent), object);

      g_object_unref (g_mime_multipart_remove_at (GMIME_MULTIPART (parent), index));
      _msg_mime_object_child_removed (parent, index);
    }
  else if (g_mime_message_get_mime_part (self->mime) == object)
    {
      g_autoptr (GMimeObject) empty = _msg_make_text_part ("plain", "");

      _msg_mime_message_set_root (self->mime, empty);
    }
  _msg_message_link_tree (self);
}

static void
set_text (GMimeObject *object,
          const char  *subtype,
          const char  *text)
{
  g_autoptr (GError) error = NULL;

  if (_msg_text_part_set_text (GMIME_PART (object), text, &error))
    return;

  /* As when the library builds the part: UTF-8 holds everything. */
  g_warning ("The %s body is written in UTF-8 instead of its charset: %s", subtype, error->message);
  g_mime_object_set_content_type_parameter (object, "charset", "utf-8");
  _msg_text_part_set_text (GMIME_PART (object), text, NULL);
}

static void
set_body (MsgMessage *self,
          const char *subtype,
          const char *text)
{
  GMimeObject *root = g_mime_message_get_mime_part (self->mime);
  GMimeObject *found = root != NULL ? _msg_find_text_object (root, subtype) : NULL;

  if (found != NULL && text != NULL)
    set_text (found, subtype, text);
  else if (found != NULL)
    remove_object (self, found);
  else if (text != NULL)
    {
      g_autoptr (GMimeObject) part = _msg_make_text_part (subtype, text);

      insert_first (self, part);
    }
}

gboolean
_msg_message_set_body_in_place (MsgMessage *self,
                                const char *subtype,
                                const char *text)
{
  if (!_msg_message_keeps_tree (self))
    return FALSE;

  set_body (self, subtype, text);
  if (g_str_equal (subtype, "html") && text != NULL && self->auto_generate_text_body)
    {
      g_autofree char *plain = _msg_html_to_text (text);

      set_body (self, "plain", plain);
    }
  _msg_message_attachments_changed (self);
  return TRUE;
}

gboolean
_msg_message_add_attachment_in_place (MsgMessage  *self,
                                      MsgBodyPart *part)
{
  GMimeObject *root;
  GMimeObject *object = _msg_body_part_get_object (part);

  if (!_msg_message_keeps_tree (self))
    return FALSE;

  root = g_mime_message_get_mime_part (self->mime);
  if (root != NULL && GMIME_IS_MULTIPART (root) &&
      g_mime_content_type_is_type (g_mime_object_get_content_type (root), "multipart", "mixed"))
    {
      int index = g_mime_multipart_get_count (GMIME_MULTIPART (root));

      g_mime_multipart_add (GMIME_MULTIPART (root), object);
      _msg_mime_object_child_inserted (root, index);
    }
  else if (root == NULL)
    _msg_mime_message_set_root (self->mime, object);
  else
    {
      g_autoptr (GMimeMultipart) mixed = g_mime_multipart_new_with_subtype ("mixed");

      g_mime_multipart_add (mixed, root);
      g_mime_multipart_add (mixed, object);
      _msg_mime_message_set_root (self->mime, GMIME_OBJECT (mixed));
    }

  /* The message holds the wrapper it returned (transfer none). */
  g_ptr_array_add (self->attachments, g_object_ref (part));
  _msg_message_link_tree (self);
  return TRUE;
}

gboolean
_msg_message_remove_attachments_in_place (MsgMessage *self,
                                          int         index)
{
  GMimeObject *root;
  g_autoptr (GPtrArray) found = NULL;

  if (!_msg_message_keeps_tree (self))
    return FALSE;

  root = g_mime_message_get_mime_part (self->mime);
  found = g_ptr_array_new_with_free_func (g_object_unref);
  if (root != NULL)
    _msg_collect_attachments (root, _msg_find_text_object (root, "plain"), _msg_find_text_object (root, "html"),
                              FALSE, found);
  _msg_message_link_tree (self);

  for (guint i = 0; i < found->len; i++)
    if (index < 0 || (guint) index == i)
      remove_object (self, _msg_body_part_get_object (g_ptr_array_index (found, i)));

  return TRUE;
}
