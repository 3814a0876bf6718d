/* msg-message-parts.c: CDO's TextBodyPart, HTMLBodyPart and Attachments
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-message-private.h"

#include "msg-body-part-private.h"
#include "msg-mime-sink-private.h"

/* The body parts of a message as CDO's porting users know them: the part
 * holding each body wherever it sits in the tree, and the attachments as
 * a collection (count, item, delete) and as a GListModel that follows
 * the message. */

/* Text and HTML body parts */

static MsgBodyPart *
body_part_for (MsgMessage *self,
               const char *subtype)
{
  GMimeObject *root;
  GMimeObject *found;

  _msg_message_ensure_tree (self);
  root = g_mime_message_get_mime_part (self->mime);
  found = root != NULL ? _msg_find_text_object (root, subtype) : NULL;
  return found != NULL ? _msg_body_part_wrap (found) : NULL;
}

/**
 * msg_message_get_text_body_part:
 * @self: a message
 *
 * Gets the part that holds the plain-text body, wherever it sits in the
 * MIME tree (CDO's `TextBodyPart`): the first `text/plain` part that is
 * not an attachment. Set its charset with [method@BodyPart.set_charset] to
 * write the text in that charset; the charset is kept when the message
 * builds its tree again (after an attachment is added or the body
 * changes). If the body is later changed to text that the charset cannot
 * hold, it is written in UTF-8 and a warning names the character.
 *
 * Returns: (transfer full) (nullable): the text body part, or %NULL if the
 *   message has no plain-text body
 */
MsgBodyPart *
msg_message_get_text_body_part (MsgMessage *self)
{
  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);

  return body_part_for (self, "plain");
}

/**
 * msg_message_get_html_body_part:
 * @self: a message
 *
 * Gets the part that holds the HTML body, wherever it sits in the MIME
 * tree (CDO's `HTMLBodyPart`): the first `text/html` part that is not an
 * attachment. Its charset is kept as for
 * [method@Message.get_text_body_part].
 *
 * Returns: (transfer full) (nullable): the HTML body part, or %NULL if the
 *   message has no HTML body
 */
MsgBodyPart *
msg_message_get_html_body_part (MsgMessage *self)
{
  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);

  return body_part_for (self, "html");
}

/* Attachments */

/* The attachments now, in order (element-type MsgBodyPart). */
static GPtrArray *
current_attachments (MsgMessage *self)
{
  GPtrArray *found = g_ptr_array_new_with_free_func (g_object_unref);

  if (self->parsed)
    {
      GMimeObject *root = g_mime_message_get_mime_part (self->mime);

      _msg_message_link_tree (self);

      if (root != NULL)
        _msg_collect_attachments (root, _msg_find_text_object (root, "plain"),
                                  _msg_find_text_object (root, "html"), FALSE, found);
      return found;
    }

  for (guint i = 0; i < self->attachments->len; i++)
    g_ptr_array_add (found, g_object_ref (g_ptr_array_index (self->attachments, i)));
  return found;
}

void
_msg_message_attachments_changed (MsgMessage *self)
{
  g_autoptr (GPtrArray) items = NULL;

  if (self->attachments_model == NULL)
    return;

  items = current_attachments (self);
  g_list_store_splice (self->attachments_model, 0,
                       g_list_model_get_n_items (G_LIST_MODEL (self->attachments_model)),
                       items->pdata, items->len);
}

/**
 * msg_message_get_attachment_count:
 * @self: a message
 *
 * Gets the number of attachments (CDO's `Attachments.Count`), as
 * [method@Message.get_attachments] lists them.
 *
 * Returns: the number of attachments
 */
guint
msg_message_get_attachment_count (MsgMessage *self)
{
  g_autoptr (GPtrArray) items = NULL;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), 0);

  items = current_attachments (self);
  return items->len;
}

/**
 * msg_message_get_attachment:
 * @self: a message
 * @index: the position of the attachment, from 0 (CDO counts from 1)
 *
 * Gets one attachment (CDO's `Attachments.Item`).
 *
 * Returns: (transfer full) (nullable): the attachment, or %NULL if @index
 *   is not less than the count
 */
MsgBodyPart *
msg_message_get_attachment (MsgMessage *self,
                            guint       index)
{
  g_autoptr (GPtrArray) items = NULL;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);

  items = current_attachments (self);
  return index < items->len ? g_object_ref (g_ptr_array_index (items, index)) : NULL;
}

/**
 * msg_message_remove_attachment:
 * @self: a message
 * @index: the position of the attachment, from 0 (CDO counts from 1)
 * @error: return location for an error
 *
 * Removes one attachment from the message (CDO's `Attachments.Delete`).
 * The attachments after it move down by one. A parsed message is rebuilt
 * from its bodies and remaining attachments, as when its body changes.
 *
 * Returns: %TRUE on success; %FALSE with %MSG_MESSAGE_ERROR_FAILED if
 *   @index is out of range
 */
gboolean
msg_message_remove_attachment (MsgMessage *self,
                               guint       index,
                               GError    **error)
{
  g_autoptr (GPtrArray) items = NULL;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  items = current_attachments (self);
  if (index >= items->len)
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED,
                   "There is no attachment %u: the message has %u (counted from 0)", index, items->len);
      return FALSE;
    }

  if (!_msg_message_remove_attachments_in_place (self, (int) index))
    {
      _msg_message_materialise (self);
      g_ptr_array_remove_index (self->attachments, index);
      self->dirty = TRUE;
    }
  _msg_message_attachments_changed (self);
  return TRUE;
}

/**
 * msg_message_remove_all_attachments:
 * @self: a message
 *
 * Removes every attachment from the message (CDO's
 * `Attachments.DeleteAll`), for instance from a forward. The bodies and
 * the related parts of the HTML body stay.
 */
void
msg_message_remove_all_attachments (MsgMessage *self)
{
  g_autoptr (GPtrArray) items = NULL;

  g_return_if_fail (MSG_IS_MESSAGE (self));

  items = current_attachments (self);
  if (items->len == 0)
    return;

  if (!_msg_message_remove_attachments_in_place (self, -1))
    {
      _msg_message_materialise (self);
      g_ptr_array_set_size (self->attachments, 0);
      self->dirty = TRUE;
    }
  _msg_message_attachments_changed (self);
}

/**
 * msg_message_get_attachments_model:
 * @self: a message
 *
 * Gets the attachments as a list model of [class@BodyPart] items, the
 * GNOME idiom to bind to a list view. The model follows the message: it
 * emits [signal@Gio.ListModel::items-changed] when an attachment is added
 * or removed. The same model is returned while it is referenced.
 *
 * Returns: (transfer full): the attachments
 */
GListModel *
msg_message_get_attachments_model (MsgMessage *self)
{
  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);

  if (self->attachments_model != NULL)
    return g_object_ref (G_LIST_MODEL (self->attachments_model));

  self->attachments_model = g_list_store_new (MSG_TYPE_BODY_PART);
  g_object_add_weak_pointer (G_OBJECT (self->attachments_model), (gpointer *) &self->attachments_model);
  _msg_message_attachments_changed (self);
  return G_LIST_MODEL (self->attachments_model);
}

/* The children of a body part */

static GQuark
children_model_quark (void)
{
  return g_quark_from_static_string ("msg-children-model");
}

static GPtrArray *
current_children (GMimeObject *object)
{
  GPtrArray *found = g_ptr_array_new_with_free_func (g_object_unref);

  _msg_mime_link_children (object);
  if (GMIME_IS_MULTIPART (object))
    for (int i = 0; i < g_mime_multipart_get_count (GMIME_MULTIPART (object)); i++)
      g_ptr_array_add (found, _msg_body_part_wrap (g_mime_multipart_get_part (GMIME_MULTIPART (object), i)));
  return found;
}

void
_msg_mime_object_children_changed (GMimeObject *object)
{
  GListStore *model = g_object_get_qdata (G_OBJECT (object), children_model_quark ());
  g_autoptr (GPtrArray) items = NULL;

  if (model == NULL)
    return;

  items = current_children (object);
  g_list_store_splice (model, 0, g_list_model_get_n_items (G_LIST_MODEL (model)), items->pdata, items->len);
}

void
_msg_mime_object_child_inserted (GMimeObject *object,
                                 int          index)
{
  GListStore *model = g_object_get_qdata (G_OBJECT (object), children_model_quark ());
  g_autoptr (MsgBodyPart) child = NULL;

  if (model == NULL)
    return;

  child = _msg_body_part_wrap (g_mime_multipart_get_part (GMIME_MULTIPART (object), index));
  g_list_store_insert (model, (guint) index, child);
}

void
_msg_mime_object_child_removed (GMimeObject *object,
                                int          index)
{
  GListStore *model = g_object_get_qdata (G_OBJECT (object), children_model_quark ());

  if (model != NULL && (guint) index < g_list_model_get_n_items (G_LIST_MODEL (model)))
    g_list_store_remove (model, (guint) index);
}

static void
children_model_gone_cb (gpointer data,
                        GObject *model)
{
  g_object_set_qdata (G_OBJECT (data), children_model_quark (), NULL);
}

/**
 * msg_body_part_get_body_parts_model:
 * @self: a body part
 *
 * Gets the children of a multipart as a list model of [class@BodyPart]
 * items (empty for a leaf), the GNOME idiom to bind to a list view. The
 * model follows the part: it emits
 * [signal@Gio.ListModel::items-changed] when
 * [method@BodyPart.insert_body_part] adds a child or
 * [method@BodyPart.remove_body_part] removes one (one item at its
 * position). The same model is returned
 * while it is referenced.
 *
 * Returns: (transfer full): the children
 */
GListModel *
msg_body_part_get_body_parts_model (MsgBodyPart *self)
{
  GMimeObject *object;
  GListStore  *model;

  g_return_val_if_fail (MSG_IS_BODY_PART (self), NULL);

  object = _msg_body_part_get_object (self);
  model = g_object_get_qdata (G_OBJECT (object), children_model_quark ());
  if (model != NULL)
    return g_object_ref (G_LIST_MODEL (model));

  model = g_list_store_new (MSG_TYPE_BODY_PART);
  /* The model keeps the node alive, so the node can point at it until the
   * model goes. */
  g_object_set_data_full (G_OBJECT (model), "msg-node", g_object_ref (object), g_object_unref);
  g_object_set_qdata (G_OBJECT (object), children_model_quark (), model);
  g_object_weak_ref (G_OBJECT (model), children_model_gone_cb, object);
  _msg_mime_object_children_changed (object);
  return G_LIST_MODEL (model);
}

/* Embedded messages */

/**
 * msg_message_new_from_body_part:
 * @part: a `message/rfc822` body part
 * @error: return location for an error
 *
 * Opens the message embedded in a `message/rfc822` part (a forwarded
 * message, a bounce's original) as a message of its own: CDO's
 * `DataSource.OpenObject` on such a part. The new message is a copy: its
 * changes do not reach @part.
 *
 * Returns: (transfer full): the embedded message, or %NULL with
 *   %MSG_MESSAGE_ERROR_FAILED if @part holds no message
 */
MsgMessage *
msg_message_new_from_body_part (MsgBodyPart *part,
                                GError     **error)
{
  GMimeObject  *object;
  GMimeMessage *inner;
  g_autoptr (GMimeStream) mem = NULL;
  g_autoptr (GBytes) bytes = NULL;
  GByteArray *array;

  g_return_val_if_fail (MSG_IS_BODY_PART (part), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  object = _msg_body_part_get_object (part);
  inner = GMIME_IS_MESSAGE_PART (object) ? g_mime_message_part_get_message (GMIME_MESSAGE_PART (object)) : NULL;
  if (inner == NULL)
    {
      g_autofree char *type = msg_body_part_get_content_media_type (part);

      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED,
                   "A %s part holds no message (only message/rfc822 parts do)", type);
      return NULL;
    }

  mem = g_mime_stream_mem_new ();
  if (g_mime_object_write_to_stream (GMIME_OBJECT (inner), NULL, mem) < 0)
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED,
                           "Cannot read the embedded message");
      return NULL;
    }
  array = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (mem));
  bytes = g_bytes_new (array->data, array->len);
  return msg_message_new_from_bytes (bytes, error);
}

/* A body part's own stream */

/**
 * msg_body_part_to_bytes:
 * @self: a body part
 * @error: return location for an error
 *
 * Gets the part as it is written in its message, its headers followed by
 * its encoded content (children included, for a multipart), with CRLF line
 * ends: CDO's `BodyPart.GetStream`. For a file attachment, this reads the
 * file.
 *
 * Returns: (transfer full): the part, or %NULL if a file it holds cannot
 *   be read
 */
GBytes *
msg_body_part_to_bytes (MsgBodyPart *self,
                        GError     **error)
{
  g_autoptr (GOutputStream) mem = NULL;
  g_autoptr (GMimeStream) sink = NULL;
  g_autoptr (GMimeFormatOptions) options = NULL;
  GMimeObject *object;
  ssize_t      written;

  g_return_val_if_fail (MSG_IS_BODY_PART (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  object = _msg_body_part_get_object (self);
  options = g_mime_format_options_new ();
  g_mime_format_options_set_newline_format (options, GMIME_NEWLINE_FORMAT_DOS);
  mem = g_memory_output_stream_new_resizable ();
  _msg_stream_error_clear ();
  sink = _msg_mime_sink_new (mem, NULL, FALSE);
  written = g_mime_object_write_to_stream (object, options, sink);
  _msg_mime_object_release_files (object);
  if (!_msg_mime_sink_finish (MSG_MIME_SINK (sink), error))
    return NULL;
  if (written < 0)
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED, "The body part could not be written");
      return NULL;
    }
  if (!g_output_stream_close (mem, NULL, error))
    return NULL;
  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (mem));
}
