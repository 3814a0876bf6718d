/* msg-drop-message.c: one message file of a drop directory
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-drop-message-private.h"

#include "msg-drop-directory.h"
#include "msg-drop-utils-private.h"
#include "msg-message.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixinputstream.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/**
 * MsgDropMessage:
 *
 * One `.eml` file of a [class@DropDirectory] (an item of CDO's `IMessages`
 * collection).
 *
 * Listing makes items without opening their files; the message is read and
 * parsed the first time [method@DropMessage.get_message] asks for it, and
 * the result (the message, or the error) is kept.
 *
 * An item can be **claimed** ([method@DropMessage.claim]): the file is
 * renamed, atomically, to a hidden name (`.NAME.claimed-PID-RANDOM`) that
 * no listing shows, while this process holds an exclusive `flock()` on
 * it. Of several consumers (threads or processes) that claim one file, one
 * succeeds and the others fail with %G_IO_ERROR_NOT_FOUND or
 * %G_IO_ERROR_BUSY. A claimed item is then deleted, moved to a
 * subdirectory, or released (put back). A claim whose process died is
 * stale: its lock is gone, and [method@DropDirectory.recover_claims] puts
 * it back.
 *
 * The methods of one item may be called from any thread, one at a time.
 */
struct _MsgDropMessage
{
  GObject parent_instance;

  MsgDropDirectory *directory;   /* (owned) */
  MsgDropFd        *dir_fd;      /* (owned): the directory's descriptor */
  char             *name;        /* (owned): the listed name */
  char             *claim_name;  /* (owned) (nullable): the hidden name while claimed */
  char             *moved_to;    /* (owned) (nullable): "SUBDIR/NAME" once moved */
  int               claim_fd;    /* the locked file while claimed, else -1 */
  gboolean          gone;        /* deleted or moved */
  GMutex            lock;        /* guards the parse cache */
  gboolean          parsed;      /* the file was read (successfully or not) */
  MsgMessage       *message;     /* (owned) (nullable) */
  GError           *parse_error; /* (owned) (nullable) */
};

G_DEFINE_FINAL_TYPE (MsgDropMessage, msg_drop_message, G_TYPE_OBJECT)

static void
msg_drop_message_finalize (GObject *object)
{
  MsgDropMessage *self = MSG_DROP_MESSAGE (object);

  /* A claim dropped without delete, move or release stays on disk with
   * its lock gone: a stale claim that recover_claims() puts back. */
  if (self->claim_fd >= 0)
    close (self->claim_fd);
  g_clear_object (&self->message);
  g_clear_error (&self->parse_error);
  g_mutex_clear (&self->lock);
  g_free (self->claim_name);
  g_free (self->moved_to);
  g_free (self->name);
  g_clear_object (&self->directory);
  g_clear_pointer (&self->dir_fd, _msg_drop_fd_unref);

  G_OBJECT_CLASS (msg_drop_message_parent_class)->finalize (object);
}

static void
msg_drop_message_class_init (MsgDropMessageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = msg_drop_message_finalize;
}

static void
msg_drop_message_init (MsgDropMessage *self)
{
  self->claim_fd = -1;
  g_mutex_init (&self->lock);
}

MsgDropMessage *
_msg_drop_message_new (MsgDropDirectory *directory,
                       MsgDropFd        *dir_fd,
                       const char       *name)
{
  MsgDropMessage *self = g_object_new (MSG_TYPE_DROP_MESSAGE, NULL);

  self->directory = g_object_ref (directory);
  self->dir_fd = _msg_drop_fd_ref (dir_fd);
  self->name = g_strdup (name);
  return self;
}

/* The name the file has now in the directory. */
static const char *
current_name (MsgDropMessage *self)
{
  return self->claim_name != NULL ? self->claim_name : self->name;
}

static gboolean
check_not_gone (MsgDropMessage *self,
                GError        **error)
{
  if (!self->gone)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
               "Message file “%s” was already deleted or moved", self->name);
  return FALSE;
}

/* The file left the directory: so does the parsed message (a flush of
 * 100,000 files keeps every item, but not every message). */
static void
set_gone (MsgDropMessage *self)
{
  g_mutex_lock (&self->lock);
  self->gone = TRUE;
  self->parsed = FALSE;
  g_clear_object (&self->message);
  g_clear_error (&self->parse_error);
  g_mutex_unlock (&self->lock);
}

static void
drop_claim (MsgDropMessage *self)
{
  if (self->claim_fd >= 0)
    close (self->claim_fd);
  self->claim_fd = -1;
  g_clear_pointer (&self->claim_name, g_free);
}

/**
 * msg_drop_message_get_name:
 * @self: an item
 *
 * Gives the name the file was listed under.
 *
 * Returns: (type filename): the file's name in the directory as listed
 *   (such as `1a2b-77-0-deadbeef.eml`), also while it is claimed
 */
const char *
msg_drop_message_get_name (MsgDropMessage *self)
{
  g_return_val_if_fail (MSG_IS_DROP_MESSAGE (self), NULL);

  return self->name;
}

/**
 * msg_drop_message_get_directory:
 * @self: an item
 *
 * Gives the directory the item belongs to.
 *
 * Returns: (transfer none): the directory that listed @self
 */
MsgDropDirectory *
msg_drop_message_get_directory (MsgDropMessage *self)
{
  g_return_val_if_fail (MSG_IS_DROP_MESSAGE (self), NULL);

  return self->directory;
}

/**
 * msg_drop_message_get_file:
 * @self: an item
 *
 * The file where the message is now: its listed name, its hidden name while
 * claimed, or its place in a subdirectory once moved.
 *
 * Returns: (transfer full): the file
 */
GFile *
msg_drop_message_get_file (MsgDropMessage *self)
{
  const char *path;

  g_return_val_if_fail (MSG_IS_DROP_MESSAGE (self), NULL);

  path = _msg_drop_fd_get_path (self->dir_fd);
  if (self->moved_to != NULL)
    return g_file_new_build_filename (path, self->moved_to, NULL);
  return g_file_new_build_filename (path, current_name (self), NULL);
}

static MsgMessage *
parse_file (MsgDropMessage *self,
            GError        **error)
{
  g_autoptr (GInputStream) stream = NULL;
  int dir_fd;
  int fd;

  dir_fd = _msg_drop_fd_get (self->dir_fd, error);
  if (dir_fd < 0)
    return NULL;
  fd = _msg_drop_open_regular (dir_fd, current_name (self), error);
  if (fd < 0)
    return NULL;
  stream = g_unix_input_stream_new (fd, TRUE);
  return msg_message_new_from_stream (stream, NULL, error);
}

/**
 * msg_drop_message_get_message:
 * @self: an item
 * @error: return location for an error
 *
 * The message in the file, read and parsed on the first call; later calls
 * return the same message (or the same error) without reading the file
 * again, until the item is deleted or moved, which drops the message.
 *
 * A file that cannot be read (a symbolic link, which is never followed; a
 * FIFO or other special file; a file without read permission) or is not a
 * message gives an error naming the file; the other items are not
 * affected.
 *
 * Returns: (transfer full): the message, or %NULL with
 *   %MSG_MESSAGE_ERROR_PARSE or a %G_IO_ERROR
 */
MsgMessage *
msg_drop_message_get_message (MsgDropMessage *self,
                              GError        **error)
{
  MsgMessage *result = NULL;

  g_return_val_if_fail (MSG_IS_DROP_MESSAGE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  g_mutex_lock (&self->lock);
  if (!self->parsed)
    {
      if (check_not_gone (self, error))
        {
          self->message = parse_file (self, &self->parse_error);
          if (self->parse_error != NULL)
            g_prefix_error (&self->parse_error, "Message file “%s”: ", self->name);
          self->parsed = TRUE;
        }
      else
        {
          g_mutex_unlock (&self->lock);
          return NULL;
        }
    }
  if (self->message != NULL)
    result = g_object_ref (self->message);
  else if (error != NULL)
    *error = g_error_copy (self->parse_error);
  g_mutex_unlock (&self->lock);
  return result;
}

/**
 * msg_drop_message_is_parsed:
 * @self: an item
 *
 * Tells whether the message was read, which listing never does.
 *
 * Returns: whether the file was already read by
 *   [method@DropMessage.get_message]
 */
gboolean
msg_drop_message_is_parsed (MsgDropMessage *self)
{
  gboolean parsed;

  g_return_val_if_fail (MSG_IS_DROP_MESSAGE (self), FALSE);

  g_mutex_lock (&self->lock);
  parsed = self->parsed;
  g_mutex_unlock (&self->lock);
  return parsed;
}

/**
 * msg_drop_message_is_claimed:
 * @self: an item
 *
 * Tells whether this item holds a claim ([method@DropMessage.claim]).
 *
 * Returns: whether this item holds a claim on its file
 */
gboolean
msg_drop_message_is_claimed (MsgDropMessage *self)
{
  g_return_val_if_fail (MSG_IS_DROP_MESSAGE (self), FALSE);

  return self->claim_name != NULL;
}

/* After the rename, the claimed name must still be the file we locked: if
 * the listed name was taken and reused in between, we renamed another
 * file, which goes back. */
static gboolean
claimed_same_file (int         dir_fd,
                   int         fd,
                   const char *claim_name)
{
  struct stat ours, there;

  return fstat (fd, &ours) == 0 && fstatat (dir_fd, claim_name, &there, AT_SYMLINK_NOFOLLOW) == 0 && ours.st_dev == there.st_dev && ours.st_ino == there.st_ino;
}

/**
 * msg_drop_message_claim:
 * @self: an item
 * @error: return location for an error
 *
 * Takes the file for this consumer alone: locks it, then renames it,
 * atomically and without replacing anything, to a hidden name
 * (`.NAME.claimed-PID-RANDOM`) that listings skip. Of several threads or
 * processes that claim one file at once, exactly one succeeds.
 *
 * Returns: %TRUE if @self is now claimed; %FALSE with
 *   %G_IO_ERROR_NOT_FOUND if another consumer took (or deleted) the file,
 *   %G_IO_ERROR_BUSY if another consumer holds it, or another error
 */
gboolean
msg_drop_message_claim (MsgDropMessage *self,
                        GError        **error)
{
  g_autofree char *claim_name = NULL;
  int              dir_fd;
  int              fd;

  g_return_val_if_fail (MSG_IS_DROP_MESSAGE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->claim_name != NULL)
    return TRUE;
  if (!check_not_gone (self, error))
    return FALSE;
  dir_fd = _msg_drop_fd_get (self->dir_fd, error);
  if (dir_fd < 0)
    return FALSE;
  fd = _msg_drop_open_regular (dir_fd, self->name, error);
  if (fd < 0)
    return FALSE;
  if (flock (fd, LOCK_EX | LOCK_NB) != 0)
    {
      close (fd);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_BUSY,
                   "Message file “%s” is claimed by another consumer", self->name);
      return FALSE;
    }

  claim_name = g_strdup_printf (".%s" MSG_DROP_CLAIMED_MARK "%d-%08x", self->name, (int) getpid (), g_random_int ());
  if (!_msg_drop_rename_noreplace (dir_fd, self->name, dir_fd, claim_name, error))
    {
      close (fd);
      g_prefix_error (error, "Cannot claim message file “%s”: ", self->name);
      return FALSE;
    }
  if (!claimed_same_file (dir_fd, fd, claim_name))
    {
      _msg_drop_rename_noreplace (dir_fd, claim_name, dir_fd, self->name, NULL);
      close (fd);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "Message file “%s” was taken by another consumer", self->name);
      return FALSE;
    }

  self->claim_fd = fd;
  self->claim_name = g_steal_pointer (&claim_name);
  return TRUE;
}

static gboolean
check_claimed (MsgDropMessage *self,
               GError        **error)
{
  if (!check_not_gone (self, error))
    return FALSE;
  if (self->claim_name != NULL)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
               "Message file “%s” is not claimed", self->name);
  return FALSE;
}

/**
 * msg_drop_message_mark_started:
 * @self: a claimed item
 * @error: return location for an error
 *
 * Records in the claimed file's name (`.NAME.started-PID-RANDOM`) that
 * processing has begun, such as the first byte sent to a server. If the
 * process then dies, [method@DropDirectory.recover_claims] can set the
 * message aside instead of putting it back, so that it is never processed
 * twice.
 *
 * Returns: %TRUE on success
 */
gboolean
msg_drop_message_mark_started (MsgDropMessage *self,
                               GError        **error)
{
  g_autofree char *started = NULL;
  const char      *mark;
  int              dir_fd;

  g_return_val_if_fail (MSG_IS_DROP_MESSAGE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_claimed (self, error))
    return FALSE;
  mark = g_strrstr (self->claim_name, MSG_DROP_CLAIMED_MARK);
  if (mark == NULL)
    return TRUE; /* already started */
  dir_fd = _msg_drop_fd_get (self->dir_fd, error);
  if (dir_fd < 0)
    return FALSE;
  started = g_strdup_printf ("%.*s" MSG_DROP_STARTED_MARK "%s", (int) (mark - self->claim_name),
                             self->claim_name, mark + strlen (MSG_DROP_CLAIMED_MARK));
  if (!_msg_drop_rename_noreplace (dir_fd, self->claim_name, dir_fd, started, error))
    return FALSE;
  g_free (self->claim_name);
  self->claim_name = g_steal_pointer (&started);
  return TRUE;
}

/**
 * msg_drop_message_release:
 * @self: a claimed item
 * @error: return location for an error
 *
 * Puts the claimed file back under its listed name, for a later consumer,
 * and gives up the claim.
 *
 * Returns: %TRUE on success; %FALSE with %G_IO_ERROR_EXISTS if another
 *   file now has the listed name (the claim is kept)
 */
gboolean
msg_drop_message_release (MsgDropMessage *self,
                          GError        **error)
{
  int dir_fd;

  g_return_val_if_fail (MSG_IS_DROP_MESSAGE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_claimed (self, error))
    return FALSE;
  dir_fd = _msg_drop_fd_get (self->dir_fd, error);
  if (dir_fd < 0)
    return FALSE;
  if (!_msg_drop_rename_noreplace (dir_fd, self->claim_name, dir_fd, self->name, error))
    {
      g_prefix_error (error, "Cannot put back message file “%s”: ", self->name);
      return FALSE;
    }
  drop_claim (self);
  return TRUE;
}

/**
 * msg_drop_message_move_to:
 * @self: an item, claimed or not
 * @subdir: (type filename): a subdirectory of the drop directory, such as
 *   `failed`: one name, not hidden; made (mode 0700) if missing
 * @error: return location for an error
 *
 * Moves the file, atomically, to @subdir under its listed name (with a
 * random suffix when that name is taken there), and gives up any claim.
 * The subdirectory is not listed, so the message leaves the queue.
 *
 * Returns: (transfer full): the file's new location, or %NULL on error
 */
GFile *
msg_drop_message_move_to (MsgDropMessage *self,
                          const char     *subdir,
                          GError        **error)
{
  g_autofree char *given = NULL;
  int              dir_fd;
  int              sub_fd;

  g_return_val_if_fail (MSG_IS_DROP_MESSAGE (self), NULL);
  g_return_val_if_fail (subdir != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!check_not_gone (self, error) || !_msg_drop_check_subdir (subdir, error))
    return NULL;
  dir_fd = _msg_drop_fd_get (self->dir_fd, error);
  if (dir_fd < 0)
    return NULL;
  sub_fd = _msg_drop_open_subdir (dir_fd, subdir, error);
  if (sub_fd < 0)
    return NULL;
  given = _msg_drop_rename_into (dir_fd, current_name (self), sub_fd, self->name, error);
  close (sub_fd);
  if (given == NULL)
    {
      g_prefix_error (error, "Cannot move message file “%s” to “%s”: ", self->name, subdir);
      return NULL;
    }
  drop_claim (self);
  set_gone (self);
  self->moved_to = g_build_filename (subdir, given, NULL);
  return msg_drop_message_get_file (self);
}

/**
 * msg_drop_message_delete:
 * @self: an item, claimed or not
 * @error: return location for an error
 *
 * Deletes the file (CDO `IMessages.Delete`) and gives up any claim.
 *
 * Returns: %TRUE on success; %FALSE with %G_IO_ERROR_NOT_FOUND if the file
 *   is gone (another consumer took it)
 */
gboolean
msg_drop_message_delete (MsgDropMessage *self,
                         GError        **error)
{
  int dir_fd;

  g_return_val_if_fail (MSG_IS_DROP_MESSAGE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_not_gone (self, error))
    return FALSE;
  dir_fd = _msg_drop_fd_get (self->dir_fd, error);
  if (dir_fd < 0)
    return FALSE;
  if (unlinkat (dir_fd, current_name (self), 0) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot delete message file “%s”: %s", self->name, g_strerror (saved_errno));
      return FALSE;
    }
  drop_claim (self);
  set_gone (self);
  return TRUE;
}
