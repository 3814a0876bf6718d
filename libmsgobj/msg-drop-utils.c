/* msg-drop-utils.c: file operations shared by the drop directory and its
 * items
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-drop-utils-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

struct _MsgDropFd
{
  gatomicrefcount ref_count;
  GMutex          lock;
  char           *path; /* (owned) */
  int             fd;   /* -1 until first use */
};

MsgDropFd *
_msg_drop_fd_new (const char *path)
{
  MsgDropFd *self = g_new0 (MsgDropFd, 1);

  g_atomic_ref_count_init (&self->ref_count);
  g_mutex_init (&self->lock);
  self->path = g_strdup (path);
  self->fd = -1;
  return self;
}

MsgDropFd *
_msg_drop_fd_ref (MsgDropFd *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

void
_msg_drop_fd_unref (MsgDropFd *self)
{
  if (!g_atomic_ref_count_dec (&self->ref_count))
    return;
  if (self->fd >= 0)
    close (self->fd);
  g_mutex_clear (&self->lock);
  g_free (self->path);
  g_free (self);
}

const char *
_msg_drop_fd_get_path (MsgDropFd *self)
{
  return self->path;
}

int
_msg_drop_fd_get (MsgDropFd *self,
                  GError   **error)
{
  int fd;

  g_mutex_lock (&self->lock);
  if (self->fd < 0)
    {
      self->fd = open (self->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (self->fd < 0)
        {
          int saved_errno = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "Cannot open the drop directory “%s”: %s", self->path, g_strerror (saved_errno));
        }
    }
  fd = self->fd;
  g_mutex_unlock (&self->lock);
  return fd;
}

gboolean
_msg_drop_is_message_name (const char *name)
{
  gsize length = strlen (name);

  return name[0] != '.' && length > 4 && g_ascii_strcasecmp (name + length - 4, ".eml") == 0;
}

int
_msg_drop_open_regular (int         dir_fd,
                        const char *name,
                        GError    **error)
{
  struct stat st;
  int         fd;

  /* O_NONBLOCK: opening a FIFO for reading must not wait for a writer. */
  fd = openat (dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0)
    {
      int saved_errno = errno;

      if (saved_errno == ELOOP)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                     "“%s” is a symbolic link, which a drop directory never follows", name);
      else
        g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                     "Cannot open “%s”: %s", name, g_strerror (saved_errno));
      return -1;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                   "“%s” is not a regular file", name);
      return -1;
    }
  /* Regular files ignore O_NONBLOCK, but clear it for whoever reads. */
  fcntl (fd, F_SETFL, fcntl (fd, F_GETFL) & ~O_NONBLOCK);
  return fd;
}

gboolean
_msg_drop_rename_noreplace (int         from_fd,
                            const char *from,
                            int         to_fd,
                            const char *to,
                            GError    **error)
{
  int saved_errno;

  if (renameat2 (from_fd, from, to_fd, to, RENAME_NOREPLACE) == 0)
    return TRUE;
  saved_errno = errno;
  if (saved_errno == EINVAL || saved_errno == ENOSYS)
    {
      /* No RENAME_NOREPLACE on this file system: a hard link refuses to
       * replace, and of two consumers linking one name, only one
       * unlinks it. */
      if (linkat (from_fd, from, to_fd, to, 0) == 0)
        {
          if (unlinkat (from_fd, from, 0) == 0)
            return TRUE;
          saved_errno = errno;
          unlinkat (to_fd, to, 0);
        }
      else
        saved_errno = errno;
    }
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
               "Cannot rename “%s” to “%s”: %s", from, to, g_strerror (saved_errno));
  return FALSE;
}

/* A plain subdirectory name: one component, not hidden. */
gboolean
_msg_drop_check_subdir (const char *subdir,
                        GError    **error)
{
  if (subdir[0] != '\0' && subdir[0] != '.' && strchr (subdir, '/') == NULL)
    return TRUE;
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               "“%s” is not a subdirectory name (one component, not starting with a dot)", subdir);
  return FALSE;
}

/* Opens (making it, 0700, if missing) the subdirectory @subdir of @dir_fd,
 * refusing a symbolic link. */
int
_msg_drop_open_subdir (int         dir_fd,
                       const char *subdir,
                       GError    **error)
{
  int fd;

  if (mkdirat (dir_fd, subdir, 0700) != 0 && errno != EEXIST)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot make subdirectory “%s”: %s", subdir, g_strerror (saved_errno));
      return -1;
    }
  fd = openat (dir_fd, subdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot open subdirectory “%s”: %s", subdir, g_strerror (saved_errno));
    }
  return fd;
}

/* Renames @from into @sub_fd as @name, or NAME-RANDOM.eml when @name is
 * taken there; returns the name given, or NULL. */
char *
_msg_drop_rename_into (int         dir_fd,
                       const char *from,
                       int         sub_fd,
                       const char *name,
                       GError    **error)
{
  g_autofree char *stem = g_strndup (name, strlen (name) - (g_str_has_suffix (name, ".eml") ? 4 : 0));

  for (unsigned attempt = 0; attempt < 8; attempt++)
    {
      g_autoptr (GError) local_error = NULL;
      g_autofree char *target = attempt == 0 ? g_strdup (name) : g_strdup_printf ("%s-%08x.eml", stem, g_random_int ());

      if (_msg_drop_rename_noreplace (dir_fd, from, sub_fd, target, &local_error))
        return g_steal_pointer (&target);
      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_EXISTS))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
    }
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "No free name for “%s”", name);
  return NULL;
}
