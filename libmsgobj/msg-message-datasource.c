/* msg-message-datasource.c: CDO's DataSource.IsDirty and Save
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-message-private.h"

/* A message opened from a file (or saved to one) is bound to it, as CDO's
 * DataSource is: Save writes it back there, and IsDirty says whether the
 * message would now be written differently from what the file holds. The
 * comparison is of digests of the written message, so every change
 * counts, through a property, a field or a body part. */

typedef struct
{
  char *path;   /* (owned) */
  char *digest; /* (owned) (nullable): of the message as last read or saved */
} Source;

static void
source_free (gpointer data)
{
  Source *source = data;

  g_free (source->path);
  g_free (source->digest);
  g_free (source);
}

static GQuark
source_quark (void)
{
  return g_quark_from_static_string ("msg-message-source");
}

/* The SHA-256 of the message as written, or NULL if it cannot be written. */
static char *
written_digest (MsgMessage *self)
{
  g_autoptr (GBytes) bytes = msg_message_to_bytes (self, NULL);

  return bytes != NULL ? g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes) : NULL;
}

void
_msg_message_bind_source (MsgMessage *self,
                          const char *path)
{
  Source *source = g_new0 (Source, 1);

  source->path = g_canonicalize_filename (path, NULL);
  source->digest = written_digest (self);
  g_object_set_qdata_full (G_OBJECT (self), source_quark (), source, source_free);
}

/**
 * msg_message_get_source_file:
 * @self: a message
 *
 * Gets the file the message is bound to: the one it was opened from
 * ([ctor@Message.new_from_file]) or last saved to
 * ([method@Message.save_to_file]).
 *
 * Returns: (transfer full) (nullable) (type filename): the absolute path,
 *   or %NULL if the message is bound to no file
 */
char *
msg_message_get_source_file (MsgMessage *self)
{
  Source *source;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);

  source = g_object_get_qdata (G_OBJECT (self), source_quark ());
  return source != NULL ? g_strdup (source->path) : NULL;
}

/**
 * msg_message_get_is_dirty:
 * @self: a message
 *
 * Gets whether the message changed since it was opened from or saved to
 * its file (CDO's `DataSource.IsDirty`): whether it would now be written
 * differently. A message bound to no file is dirty. This writes the
 * message once to memory, reading its file attachments.
 *
 * Returns: %TRUE if the message has unsaved changes
 */
gboolean
msg_message_get_is_dirty (MsgMessage *self)
{
  Source          *source;
  g_autofree char *digest = NULL;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), TRUE);

  source = g_object_get_qdata (G_OBJECT (self), source_quark ());
  if (source == NULL || source->digest == NULL)
    return TRUE;
  digest = written_digest (self);
  return g_strcmp0 (digest, source->digest) != 0;
}

/**
 * msg_message_save:
 * @self: a message
 * @error: return location for an error
 *
 * Writes the message back to the file it is bound to (CDO's
 * `DataSource.Save`), atomically, as [method@Message.save_to_file] does.
 *
 * Returns: %TRUE on success; %FALSE with %MSG_MESSAGE_ERROR_FAILED if the
 *   message is bound to no file (CDO's `CDO_E_NOT_OPENED`), or the write
 *   error
 */
gboolean
msg_message_save (MsgMessage *self,
                  GError    **error)
{
  g_autofree char *path = NULL;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  path = msg_message_get_source_file (self);
  if (path == NULL)
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED,
                           "The message was not opened from a file: save it with "
                           "msg_message_save_to_file()");
      return FALSE;
    }
  return msg_message_save_to_file (self, path, error);
}
