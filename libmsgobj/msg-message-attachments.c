/* msg-message-attachments.c: attachments and related parts of a message
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-message-private.h"

#include "msg-body-part-private.h"
#include "msg-header-utils-private.h"

#include <glib/gstdio.h>

static char *
resolve_local_path (const char *path_or_uri,
                    GError    **error)
{
  g_autofree char *scheme = g_uri_parse_scheme (path_or_uri);
  g_autofree char *path = NULL;
  GStatBuf         st;

  if (scheme != NULL && g_ascii_strcasecmp (scheme, "file") != 0)
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT,
                   "Attachments from “%s:” URIs are not supported (only local files, file:, http: and https: URLs)",
                   scheme);
      return NULL;
    }

  if (scheme != NULL)
    {
      path = g_filename_from_uri (path_or_uri, NULL, NULL);
      if (path == NULL)
        {
          g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT,
                       "“%s” is not a local file URI", path_or_uri);
          return NULL;
        }
    }
  else
    path = g_strdup (path_or_uri);

  if (!g_path_is_absolute (path))
    {
      g_autofree char *cwd = g_get_current_dir ();
      char            *absolute = g_build_filename (cwd, path, NULL);

      g_free (path);
      path = absolute;
    }

  if (g_stat (path, &st) != 0)
    {
      int              errsv = errno;
      g_autofree char *display = g_filename_display_name (path);

      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT,
                   "Cannot attach “%s”: %s", display, g_strerror (errsv));
      return NULL;
    }

  if (!S_ISREG (st.st_mode))
    {
      g_autofree char *display = g_filename_display_name (path);

      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT,
                   "Cannot attach “%s”: it is not a regular file", display);
      return NULL;
    }

  if (g_access (path, R_OK) != 0)
    {
      int              errsv = errno;
      g_autofree char *display = g_filename_display_name (path);

      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT,
                   "Cannot attach “%s”: %s", display, g_strerror (errsv));
      return NULL;
    }

  return g_steal_pointer (&path);
}

static gboolean
is_web_url (const char *path_or_uri)
{
  g_autofree char *scheme = g_uri_parse_scheme (path_or_uri);

  return scheme != NULL &&
         (g_ascii_strcasecmp (scheme, "http") == 0 || g_ascii_strcasecmp (scheme, "https") == 0);
}

/* A local file, or an http: or https: URL fetched now (with @user and
 * @password for a server that asks). */
static MsgBodyPart *
new_file_part (MsgMessage   *self,
               const char   *path_or_uri,
               const char   *user,
               const char   *password,
               GCancellable *cancellable,
               GError      **error)
{
  g_autofree char *path = NULL;
  g_autofree char *base = NULL;
  g_autofree char *name = NULL;

  if (is_web_url (path_or_uri))
    return _msg_message_fetch_part (self, path_or_uri, user, password, cancellable, error);

  path = resolve_local_path (path_or_uri, error);
  if (path == NULL)
    return NULL;

  base = g_path_get_basename (path);
  name = g_filename_display_name (base);

  return _msg_body_part_new_for_file (path, NULL, name, error);
}

/**
 * msg_message_add_attachment:
 * @self: a message
 * @path_or_uri: a local path, a `file://` URI, or an `http:` or `https:` URL
 * @error: return location for an error
 *
 * Attaches a file. Its name and media type come from the path; its
 * content is read only when the message is written, so a large file never
 * sits in memory. A missing or unreadable file, or one that is not a
 * regular file, is %MSG_MESSAGE_ERROR_INVALID_ATTACHMENT; other URI schemes
 * are not supported.
 *
 * An `http:` or `https:` URL is fetched now, as CDO did, under the rules
 * of [method@Message.create_mhtml_body] (this call blocks; for credentials
 * or a cancellable use [method@Message.add_attachment_url]); its name and
 * media type come from the URL and the server.
 *
 * Returns: (transfer none): the attachment's body part, or %NULL on error
 */
MsgBodyPart *
msg_message_add_attachment (MsgMessage *self,
                            const char *path_or_uri,
                            GError    **error)
{
  MsgBodyPart *part;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);
  g_return_val_if_fail (path_or_uri != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  part = new_file_part (self, path_or_uri, NULL, NULL, NULL, error);
  if (part == NULL)
    return NULL;

  if (_msg_message_add_attachment_in_place (self, part))
    g_object_unref (part);
  else
    {
      _msg_message_materialise (self);
      g_ptr_array_add (self->attachments, part);
      self->dirty = TRUE;
    }
  _msg_message_attachments_changed (self);
  return part;
}

/**
 * msg_message_add_attachment_bytes:
 * @self: a message
 * @bytes: the content
 * @filename: the file name shown to the recipient (directory components
 *   are removed)
 * @content_type: (nullable): the media type, or %NULL to guess it from
 *   the name and content
 * @error: return location for an error
 *
 * Attaches content from memory.
 *
 * Returns: (transfer none): the attachment's body part, or %NULL on error
 */
MsgBodyPart *
msg_message_add_attachment_bytes (MsgMessage *self,
                                  GBytes     *bytes,
                                  const char *filename,
                                  const char *content_type,
                                  GError    **error)
{
  MsgBodyPart *part;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);
  g_return_val_if_fail (bytes != NULL, NULL);
  g_return_val_if_fail (filename != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  part = _msg_body_part_new_for_bytes (bytes, content_type, filename, error);
  if (part == NULL)
    return NULL;

  if (_msg_message_add_attachment_in_place (self, part))
    g_object_unref (part);
  else
    {
      _msg_message_materialise (self);
      g_ptr_array_add (self->attachments, part);
      self->dirty = TRUE;
    }
  _msg_message_attachments_changed (self);
  return part;
}

/**
 * msg_message_add_attachment_url:
 * @self: a message
 * @url: an `http:`, `https:` or `file:` URL, or a local path
 * @user: (nullable): the user name for a server that asks for one (HTTP
 *   authentication, sent to the URL's host only)
 * @password: (nullable): its password
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * CDO's `AddAttachment URL, UserName, Password`: attaches the resource at
 * @url, fetched now under the rules of [method@Message.create_mhtml_body]
 * (proxy, cookies, clocks, size limits; a large body is kept in a
 * temporary file). Errors are those of [method@Message.create_mhtml_body];
 * a local path or `file:` URL is as for [method@Message.add_attachment].
 *
 * Returns: (transfer none): the attachment's body part, or %NULL on error
 */
MsgBodyPart *
msg_message_add_attachment_url (MsgMessage   *self,
                                const char   *url,
                                const char   *user,
                                const char   *password,
                                GCancellable *cancellable,
                                GError      **error)
{
  MsgBodyPart *part;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);
  g_return_val_if_fail (url != NULL, NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  part = new_file_part (self, url, user, password, cancellable, error);
  if (part == NULL)
    return NULL;
  if (!msg_body_part_set_content_disposition (part, "attachment", error))
    {
      g_object_unref (part);
      return NULL;
    }

  _msg_message_materialise (self);
  g_ptr_array_add (self->attachments, part);
  self->dirty = TRUE;
  _msg_message_attachments_changed (self);
  return part;
}

/**
 * msg_message_add_related_body_part:
 * @self: a message
 * @path_or_uri: a local path, a `file://` URI, or an `http:` or `https:`
 *   URL (fetched now, as by [method@Message.add_attachment])
 * @reference: the id the HTML body refers to, as `cid:ID` or `ID`
 * @error: return location for an error
 *
 * Adds a resource of the HTML body, such as an image shown with
 * `<img src="cid:logo@example.com">`. The message becomes
 * `multipart/related` around the HTML; the part gets `Content-ID:
 * <logo@example.com>` and an inline disposition. For a `Content-Location`
 * reference (CDO's `cdoRefTypeLocation`), credentials or a cancellable,
 * see [method@Message.add_related_body_part_full].
 *
 * Returns: (transfer none): the related body part, or %NULL on error
 */
MsgBodyPart *
msg_message_add_related_body_part (MsgMessage *self,
                                   const char *path_or_uri,
                                   const char *reference,
                                   GError    **error)
{
  return msg_message_add_related_body_part_full (self, path_or_uri, reference,
                                                 MSG_REFERENCE_TYPE_ID, NULL, NULL, NULL, error);
}

/* @reference as a Content-Location: a URL, or a relative reference
 * without blanks or control characters (RFC 2557). */
static gboolean
check_location (const char *reference,
                GError    **error)
{
  if (reference[0] == '\0' || !g_utf8_validate (reference, -1, NULL))
    goto invalid;
  for (const char *p = reference; *p != '\0'; p++)
    {
      if ((guchar) *p <= ' ' || *p == 0x7f)
        goto invalid;
    }
  return TRUE;

invalid:
  g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
               "Invalid Content-Location “%s”: expected a URL without blanks", reference);
  return FALSE;
}

/**
 * msg_message_add_related_body_part_full:
 * @self: a message
 * @path_or_url: a local path, or an `http:`, `https:` or `file:` URL
 * @reference: with %MSG_REFERENCE_TYPE_ID the id the HTML refers to, as
 *   `cid:ID` or `ID`; with %MSG_REFERENCE_TYPE_LOCATION the URL the HTML
 *   refers to, which becomes the part's `Content-Location`
 * @reference_type: how the HTML refers to the part (CDO's
 *   `CdoReferenceType`)
 * @user: (nullable): the user name for a server that asks for one
 * @password: (nullable): its password
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * CDO's `AddRelatedBodyPart URL, Reference, ReferenceType, UserName,
 * Password`: as [method@Message.add_related_body_part], with a
 * `Content-Location` reference if asked, and URLs fetched under the rules
 * of [method@Message.create_mhtml_body].
 *
 * Returns: (transfer none): the related body part, or %NULL on error
 */
MsgBodyPart *
msg_message_add_related_body_part_full (MsgMessage      *self,
                                        const char      *path_or_url,
                                        const char      *reference,
                                        MsgReferenceType reference_type,
                                        const char      *user,
                                        const char      *password,
                                        GCancellable    *cancellable,
                                        GError         **error)
{
  g_autoptr (MsgBodyPart) part = NULL;
  const char *id = NULL;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);
  g_return_val_if_fail (path_or_url != NULL, NULL);
  g_return_val_if_fail (reference != NULL, NULL);
  g_return_val_if_fail (reference_type == MSG_REFERENCE_TYPE_ID ||
                            reference_type == MSG_REFERENCE_TYPE_LOCATION,
                        NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (reference_type == MSG_REFERENCE_TYPE_ID)
    {
      id = g_ascii_strncasecmp (reference, "cid:", 4) == 0 ? reference + 4 : reference;
      if (!_msg_check_msg_id ("Content-ID", id, error))
        return NULL;
    }
  else if (!check_location (reference, error))
    return NULL;

  part = new_file_part (self, path_or_url, user, password, cancellable, error);
  if (part == NULL)
    return NULL;

  if (id != NULL && !msg_body_part_set_content_id (part, id, error))
    return NULL;
  if (id == NULL)
    g_mime_part_set_content_location (GMIME_PART (_msg_body_part_get_object (part)), reference);
  if (!msg_body_part_set_content_disposition (part, "inline", error))
    return NULL;

  _msg_message_materialise (self);
  g_ptr_array_add (self->related, g_object_ref (part));
  self->dirty = TRUE;

  if (!self->mime_formatted)
    {
      self->mime_formatted = TRUE;
      g_object_notify (G_OBJECT (self), "mime-formatted");
    }

  return part;
}

/**
 * msg_message_get_attachments:
 * @self: a message
 *
 * Gets the attachments: for a parsed message, every leaf part that is
 * neither the text nor the HTML body nor a resource of the HTML.
 *
 * Returns: (element-type MsgBodyPart) (transfer full): the attachments
 */
GList *
msg_message_get_attachments (MsgMessage *self)
{
  GList *list = NULL;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);

  if (self->parsed)
    {
      g_autoptr (GPtrArray) found = g_ptr_array_new_with_free_func (g_object_unref);
      GMimeObject *root = g_mime_message_get_mime_part (self->mime);

      if (root != NULL)
        _msg_collect_attachments (root, _msg_find_text_object (root, "plain"),
                                  _msg_find_text_object (root, "html"), FALSE, found);
      for (guint i = found->len; i > 0; i--)
        list = g_list_prepend (list, g_object_ref (g_ptr_array_index (found, i - 1)));
      return list;
    }

  for (guint i = self->attachments->len; i > 0; i--)
    list = g_list_prepend (list, g_object_ref (g_ptr_array_index (self->attachments, i - 1)));

  return list;
}
