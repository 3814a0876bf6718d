/* msg-message-body-tree.c: editing the MIME tree by hand, body part side
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-body-part-private.h"

#include "msg-header-utils-private.h"
#include "msg-message-private.h"
#include "msg-mime-utils-private.h"

#include <string.h>

/* Links: each node has a weak reference to its parent, a root one to its
 * message. They are set when the message hands out its tree and when a
 * part is inserted, and checked on use (the parent must still hold the
 * node, the message must still have the root). */

static GQuark
parent_quark (void)
{
  return g_quark_from_static_string ("msg-parent");
}

static GQuark
owner_quark (void)
{
  return g_quark_from_static_string ("msg-owner");
}

static void
weak_ref_free (gpointer data)
{
  g_weak_ref_clear (data);
  g_free (data);
}

static void
set_weak_qdata (GObject *object,
                GQuark   quark,
                GObject *target)
{
  GWeakRef *ref = g_object_get_qdata (object, quark);

  if (ref != NULL)
    {
      GObject *now = g_weak_ref_get (ref);

      if (now != NULL)
        g_object_unref (now);
      if (now == target)
        return;
    }
  else if (target == NULL)
    return;

  if (target == NULL)
    {
      g_object_set_qdata (object, quark, NULL);
      return;
    }

  ref = g_new0 (GWeakRef, 1);
  g_weak_ref_init (ref, target);
  g_object_set_qdata_full (object, quark, ref, weak_ref_free);
}

static gpointer
get_weak_qdata (GObject *object,
                GQuark   quark)
{
  GWeakRef *ref = g_object_get_qdata (object, quark);

  return ref != NULL ? g_weak_ref_get (ref) : NULL;
}

void
_msg_mime_link_children (GMimeObject *object)
{
  if (!GMIME_IS_MULTIPART (object))
    return;

  for (int i = 0; i < g_mime_multipart_get_count (GMIME_MULTIPART (object)); i++)
    {
      GMimeObject *child = g_mime_multipart_get_part (GMIME_MULTIPART (object), i);

      set_weak_qdata (G_OBJECT (child), parent_quark (), G_OBJECT (object));
      set_weak_qdata (G_OBJECT (child), owner_quark (), NULL);
      _msg_mime_link_children (child);
    }
}

void
_msg_mime_link_tree (GMimeObject *root,
                     GObject     *owner)
{
  set_weak_qdata (G_OBJECT (root), parent_quark (), NULL);
  set_weak_qdata (G_OBJECT (root), owner_quark (), owner);
  _msg_mime_link_children (root);
}

GMimeObject *
_msg_mime_object_get_parent (GMimeObject *object)
{
  g_autoptr (GObject) parent = get_weak_qdata (G_OBJECT (object), parent_quark ());

  /* The reference is weak and may be stale: the parent must still hold
   * the node. The tree holds the parent while the node is in it. */
  if (parent == NULL || !GMIME_IS_MULTIPART (parent) ||
      g_mime_multipart_index_of (GMIME_MULTIPART (parent), object) < 0)
    return NULL;

  return GMIME_OBJECT (parent);
}

GObject *
_msg_mime_object_get_owner (GMimeObject *object)
{
  g_autoptr (MsgMessage) owner = NULL;
  GMimeObject *root = object;
  GMimeObject *parent;

  while ((parent = _msg_mime_object_get_parent (root)) != NULL)
    root = parent;

  owner = get_weak_qdata (G_OBJECT (root), owner_quark ());
  if (owner == NULL || g_mime_message_get_mime_part (owner->mime) != root)
    return NULL;

  return G_OBJECT (g_steal_pointer (&owner));
}

static GMimeObject *
root_of (GMimeObject *object)
{
  GMimeObject *parent;

  while ((parent = _msg_mime_object_get_parent (object)) != NULL)
    object = parent;
  return object;
}

/* Before an edit of the tree that holds @object: the message builds a
 * pending tree first (which may take @object out of it). Returns the
 * message that still holds @object (transfer full), or NULL. */
static MsgMessage *
begin_edit (GMimeObject *object)
{
  g_autoptr (GObject) owner = _msg_mime_object_get_owner (object);

  if (owner == NULL || !_msg_message_prepare_tree_edit (MSG_MESSAGE (owner), root_of (object)))
    return NULL;

  return MSG_MESSAGE (g_steal_pointer (&owner));
}

static void
end_edit (MsgMessage *message)
{
  if (message == NULL)
    return;

  _msg_message_tree_edited (message);
  g_object_unref (message);
}

void
_msg_body_part_insert_object (MsgBodyPart *self,
                              int          index,
                              GMimeObject *child)
{
  GMimeObject *object = _msg_body_part_get_object (self);
  MsgMessage  *message = begin_edit (object);

  g_mime_multipart_insert (GMIME_MULTIPART (object), index, child);
  set_weak_qdata (G_OBJECT (child), parent_quark (), G_OBJECT (object));
  set_weak_qdata (G_OBJECT (child), owner_quark (), NULL);
  _msg_mime_link_children (child);
  _msg_mime_object_child_inserted (object, index);
  end_edit (message);
}

static gboolean
has_content (GMimeObject *object)
{
  GMimeDataWrapper *wrapper;
  GMimeStream      *stream;

  if (GMIME_IS_MESSAGE_PART (object))
    return g_mime_message_part_get_message (GMIME_MESSAGE_PART (object)) != NULL;
  if (!GMIME_IS_PART (object))
    return TRUE;

  wrapper = g_mime_part_get_content (GMIME_PART (object));
  stream = wrapper != NULL ? g_mime_data_wrapper_get_stream (wrapper) : NULL;
  return stream != NULL && g_mime_stream_length (stream) != 0;
}

gboolean
_msg_body_part_become_multipart (MsgBodyPart *self,
                                 const char  *subtype,
                                 GError     **error)
{
  g_autoptr (GMimeObject) leaf = g_object_ref (_msg_body_part_get_object (self));
  g_autoptr (GMimeObject) multipart = NULL;
  g_autoptr (MsgMessage) message = begin_edit (leaf);
  GMimeObject *parent = _msg_mime_object_get_parent (leaf);

  if (parent == NULL && message == NULL)
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                   "Content-Type “multipart/%s” does not fit a leaf part that is in no message", subtype);
      return FALSE;
    }

  multipart = GMIME_OBJECT (g_mime_multipart_new_with_subtype (subtype));
  if (parent != NULL)
    {
      int index = g_mime_multipart_index_of (GMIME_MULTIPART (parent), leaf);

      g_object_unref (g_mime_multipart_replace (GMIME_MULTIPART (parent), index, multipart));
      set_weak_qdata (G_OBJECT (multipart), parent_quark (), G_OBJECT (parent));
    }
  else
    {
      _msg_mime_message_set_root (message->mime, multipart);
      _msg_mime_link_tree (multipart, G_OBJECT (message));
    }

  /* The wrapper follows its node: the caller's object is now the
   * multipart; the content it had, if any, is its first child. */
  _msg_body_part_set_object (self, multipart);
  set_weak_qdata (G_OBJECT (leaf), owner_quark (), NULL);
  set_weak_qdata (G_OBJECT (leaf), parent_quark (), NULL);
  if (has_content (leaf))
    {
      g_mime_multipart_add (GMIME_MULTIPART (multipart), leaf);
      _msg_mime_link_children (multipart);
    }

  if (message != NULL)
    _msg_message_tree_edited (message);
  return TRUE;
}

/* Parents */

/**
 * msg_body_part_get_parent:
 * @self: a body part
 *
 * Gets the multipart that holds the part: CDO's `Parent`. The link is
 * weak: a part removed from its multipart, the root of a message, or a
 * part of a tree the message has since built again has none.
 *
 * Returns: (transfer full) (nullable): the parent, or %NULL
 */
MsgBodyPart *
msg_body_part_get_parent (MsgBodyPart *self)
{
  GMimeObject *parent;

  g_return_val_if_fail (MSG_IS_BODY_PART (self), NULL);

  parent = _msg_mime_object_get_parent (_msg_body_part_get_object (self));
  return parent != NULL ? _msg_body_part_wrap (parent) : NULL;
}

/* Removing children */

static gboolean
check_multipart (MsgBodyPart *self,
                 GError     **error)
{
  if (GMIME_IS_MULTIPART (_msg_body_part_get_object (self)))
    return TRUE;

  g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED,
                       "Only a multipart body part has children");
  return FALSE;
}

static void
remove_at (GMimeObject *object,
           int          index)
{
  g_autoptr (GMimeObject) child = g_mime_multipart_remove_at (GMIME_MULTIPART (object), index);

  set_weak_qdata (G_OBJECT (child), parent_quark (), NULL);
  _msg_mime_object_child_removed (object, index);
}

/**
 * msg_body_part_remove_body_part:
 * @self: a multipart body part
 * @index: the position of the child, from 0 (CDO counts from 1)
 * @error: return location for an error
 *
 * Removes one child of a multipart: CDO's `BodyParts.Delete` with an
 * index. The children after it move down by one. The message keeps its
 * tree as the caller left it (see "Building the tree by hand" in
 * message.md).
 *
 * Returns: %TRUE on success; %FALSE with %MSG_MESSAGE_ERROR_FAILED if
 *   @self is not a multipart or @index is out of range
 */
gboolean
msg_body_part_remove_body_part (MsgBodyPart *self,
                                guint        index,
                                GError     **error)
{
  GMimeObject *object;
  MsgMessage  *message;
  int          count;

  g_return_val_if_fail (MSG_IS_BODY_PART (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_multipart (self, error))
    return FALSE;

  object = _msg_body_part_get_object (self);
  count = g_mime_multipart_get_count (GMIME_MULTIPART (object));
  if (index >= (guint) count)
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED,
                   "There is no body part %u: the multipart has %d (counted from 0)", index, count);
      return FALSE;
    }

  message = begin_edit (object);
  remove_at (object, (int) index);
  end_edit (message);
  return TRUE;
}

/**
 * msg_body_part_remove_child:
 * @self: a multipart body part
 * @child: one of its children
 * @error: return location for an error
 *
 * Removes @child from @self: CDO's `BodyParts.Delete` with a body part.
 *
 * Returns: %TRUE on success; %FALSE with %MSG_MESSAGE_ERROR_FAILED if
 *   @child is not a child of @self
 */
gboolean
msg_body_part_remove_child (MsgBodyPart *self,
                            MsgBodyPart *child,
                            GError     **error)
{
  GMimeObject *object;
  int          index;

  g_return_val_if_fail (MSG_IS_BODY_PART (self), FALSE);
  g_return_val_if_fail (MSG_IS_BODY_PART (child), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_multipart (self, error))
    return FALSE;

  object = _msg_body_part_get_object (self);
  index = g_mime_multipart_index_of (GMIME_MULTIPART (object), _msg_body_part_get_object (child));
  if (index < 0)
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED,
                           "The body part is not a child of this multipart");
      return FALSE;
    }

  return msg_body_part_remove_body_part (self, (guint) index, error);
}

/**
 * msg_body_part_remove_all_body_parts:
 * @self: a body part
 *
 * Removes every child of a multipart: CDO's `BodyParts.DeleteAll`. A leaf
 * has none: nothing happens.
 */
void
msg_body_part_remove_all_body_parts (MsgBodyPart *self)
{
  GMimeObject *object;
  MsgMessage  *message;

  g_return_if_fail (MSG_IS_BODY_PART (self));

  object = _msg_body_part_get_object (self);
  if (!GMIME_IS_MULTIPART (object) || g_mime_multipart_get_count (GMIME_MULTIPART (object)) == 0)
    return;

  message = begin_edit (object);
  while (g_mime_multipart_get_count (GMIME_MULTIPART (object)) > 0)
    remove_at (object, g_mime_multipart_get_count (GMIME_MULTIPART (object)) - 1);
  end_edit (message);
}

/* Parameters */

static const char *
strip_urn (const char *field)
{
  return _msg_strip_mailheader_urn (field);
}

static gboolean
is_token (const char *name)
{
  if (name == NULL || *name == '\0')
    return FALSE;
  for (const guchar *p = (const guchar *) name; *p != '\0'; p++)
    if (*p <= ' ' || *p >= 0x7f || strchr ("()<>@,;:\\\"/[]?=*'%", *p) != NULL)
      return FALSE;
  return TRUE;
}

gboolean
_msg_check_field_parameter (const char *field,
                            const char *name,
                            const char *value,
                            GError    **error)
{
  g_autofree char *what = NULL;

  if (!is_token (name))
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                   "“%s” is not a parameter name of %s: a name is printable ASCII without spaces or "
                   "()<>@,;:\\\"/[]?=*'%%",
                   name != NULL ? name : "", field);
      return FALSE;
    }

  what = g_strdup_printf ("the %s parameter of %s", name, field);
  return value == NULL || _msg_check_header_value (what, value, error);
}

static gboolean
check_field (const char *field,
             GError    **error)
{
  if (g_ascii_strcasecmp (field, "Content-Type") == 0 || g_ascii_strcasecmp (field, "Content-Disposition") == 0)
    return TRUE;

  g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_NOT_SUPPORTED,
               "“%s” has no parameters here: only Content-Type and Content-Disposition do", field);
  return FALSE;
}

/**
 * msg_body_part_get_field_parameter:
 * @self: a body part
 * @field: `Content-Type` or `Content-Disposition` (or their
 *   `urn:schemas:mailheader:` names)
 * @parameter: the parameter name, such as `charset` or `filename`
 *
 * Gets one parameter of a header of the part, decoded (RFC 2231): CDO's
 * `GetFieldParameter`.
 *
 * Returns: (transfer full) (nullable): the value, or %NULL if the header
 *   or the parameter is not there
 */
char *
msg_body_part_get_field_parameter (MsgBodyPart *self,
                                   const char  *field,
                                   const char  *parameter)
{
  GMimeObject *object;

  g_return_val_if_fail (MSG_IS_BODY_PART (self), NULL);
  g_return_val_if_fail (field != NULL, NULL);
  g_return_val_if_fail (parameter != NULL, NULL);

  object = _msg_body_part_get_object (self);
  field = strip_urn (field);
  if (g_ascii_strcasecmp (field, "Content-Type") == 0)
    return g_strdup (g_mime_object_get_content_type_parameter (object, parameter));
  if (g_ascii_strcasecmp (field, "Content-Disposition") == 0)
    {
      GMimeContentDisposition *disposition = g_mime_object_get_content_disposition (object);

      return disposition != NULL ? g_strdup (g_mime_content_disposition_get_parameter (disposition, parameter))
                                 : NULL;
    }

  return NULL;
}

/* Copies the parameters of @from but @name into @to. */
static void
copy_parameters (GMimeParamList *from,
                 const char     *name,
                 GMimeParamList *to)
{
  for (int i = 0; i < g_mime_param_list_length (from); i++)
    {
      GMimeParam *param = g_mime_param_list_get_parameter_at (from, i);

      if (g_ascii_strcasecmp (g_mime_param_get_name (param), name) != 0)
        g_mime_param_list_set_parameter (to, g_mime_param_get_name (param), g_mime_param_get_value (param));
    }
}

/* GMime formats the header again only when the whole value is set: build
 * the value without @name. */
static void
remove_parameter (GMimeObject *object,
                  gboolean     content_type,
                  const char  *name)
{
  if (content_type)
    {
      GMimeContentType *ct = g_mime_object_get_content_type (object);
      g_autoptr (GMimeContentType) copy =
          g_mime_content_type_new (g_mime_content_type_get_media_type (ct), g_mime_content_type_get_media_subtype (ct));

      copy_parameters (g_mime_content_type_get_parameters (ct), name, g_mime_content_type_get_parameters (copy));
      g_mime_object_set_content_type (object, copy);
    }
  else
    {
      GMimeContentDisposition *disposition = g_mime_object_get_content_disposition (object);
      GMimeContentDisposition *copy = g_mime_content_disposition_new ();

      g_mime_content_disposition_set_disposition (copy, g_mime_content_disposition_get_disposition (disposition));
      copy_parameters (g_mime_content_disposition_get_parameters (disposition), name,
                       g_mime_content_disposition_get_parameters (copy));
      g_mime_object_set_content_disposition (object, copy);
      g_object_unref (copy);
    }
}

/**
 * msg_body_part_set_field_parameter:
 * @self: a body part
 * @field: `Content-Type` or `Content-Disposition` (or their
 *   `urn:schemas:mailheader:` names)
 * @parameter: the parameter name, such as `method` or `format`
 * @value: (nullable): the value (written with RFC 2231 encoding when it
 *   needs it), or %NULL to remove the parameter
 * @error: return location for an error
 *
 * Sets one parameter of a header of the part, such as `method=REQUEST`
 * on a `text/calendar` part. Setting `charset` on a text part converts its
 * text, as [method@BodyPart.set_charset] does.
 *
 * Returns: %TRUE on success; %FALSE with %MSG_MESSAGE_ERROR_INVALID_HEADER
 *   for a name that is not a token or a value with a control character
 *   (CR, LF), %MSG_MESSAGE_ERROR_NOT_SUPPORTED for another header, or
 *   %MSG_MESSAGE_ERROR_FAILED when the part has no `Content-Disposition`
 */
gboolean
msg_body_part_set_field_parameter (MsgBodyPart *self,
                                   const char  *field,
                                   const char  *parameter,
                                   const char  *value,
                                   GError     **error)
{
  GMimeObject *object;
  gboolean     content_type;
  MsgMessage  *message;

  g_return_val_if_fail (MSG_IS_BODY_PART (self), FALSE);
  g_return_val_if_fail (field != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  field = strip_urn (field);
  if (!check_field (field, error) || !_msg_check_field_parameter (field, parameter, value, error))
    return FALSE;

  object = _msg_body_part_get_object (self);
  content_type = g_ascii_strcasecmp (field, "Content-Type") == 0;
  if (content_type && value != NULL && g_ascii_strcasecmp (parameter, "charset") == 0 &&
      g_mime_content_type_is_type (g_mime_object_get_content_type (object), "text", "*"))
    return msg_body_part_set_charset (self, value, error);
  if (content_type && g_ascii_strcasecmp (parameter, "boundary") == 0)
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_NOT_SUPPORTED,
                           "The boundary of a multipart is chosen when it is written");
      return FALSE;
    }
  if (!content_type && g_mime_object_get_content_disposition (object) == NULL)
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED,
                           "The part has no Content-Disposition: set one first");
      return FALSE;
    }

  /* A parameter the caller set is the caller's: the message keeps it. */
  message = begin_edit (object);
  if (value == NULL)
    remove_parameter (object, content_type, parameter);
  else if (content_type)
    g_mime_object_set_content_type_parameter (object, parameter, value);
  else
    g_mime_object_set_content_disposition_parameter (object, parameter, value);
  end_edit (message);
  return TRUE;
}

/**
 * msg_body_part_get_stream:
 * @self: a body part
 * @error: return location for an error
 *
 * Gets the part as [method@BodyPart.to_bytes] does, as a stream to read:
 * CDO's `GetStream`.
 *
 * Returns: (transfer full): a stream of the part's headers and encoded
 *   content, or %NULL if a file it holds cannot be read
 */
GInputStream *
msg_body_part_get_stream (MsgBodyPart *self,
                          GError     **error)
{
  g_autoptr (GBytes) bytes = NULL;

  g_return_val_if_fail (MSG_IS_BODY_PART (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  bytes = msg_body_part_to_bytes (self, error);
  return bytes != NULL ? g_memory_input_stream_new_from_bytes (bytes) : NULL;
}
