/* msg-file-utils.c: writing a file atomically
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-file-utils-private.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixoutputstream.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

static gboolean
set_file_error (GError    **error,
                int         errsv,
                const char *what,
                const char *path)
{
  g_autofree char *display = g_filename_display_name (path);

  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (errsv),
               "Cannot %s “%s”: %s", what, display, g_strerror (errsv));
  return FALSE;
}

gboolean
_msg_write_file_atomically (const char  *path,
                            MsgWriteFunc func,
                            gpointer     user_data,
                            GError     **error)
{
  g_autofree char *dir = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *tmpl = NULL;
  g_autofree char *tmpl_name = NULL;
  g_autoptr (GOutputStream) out = NULL;
  gboolean ok;
  int      fd;
  GStatBuf old;
  mode_t   mode = 0600;

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    return set_file_error (error, EISDIR, "write", path);

  /* A message file may hold Bcc recipients and private content: a new
   * file is readable by its owner only, a replaced one keeps its mode (the
   * rename replaces a symlink itself, so only a regular file counts). */
  if (g_lstat (path, &old) == 0 && S_ISREG (old.st_mode))
    mode = old.st_mode & 0777;

  tmpl_name = g_strdup_printf (".%s.XXXXXX", base);
  tmpl = g_build_filename (dir, tmpl_name, NULL);
  fd = g_mkstemp_full (tmpl, O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0)
    return set_file_error (error, errno, "create a temporary file next to", path);

  /* The umask does not apply to fchmod: the mode is exactly the one
   * chosen above. */
  if (fchmod (fd, mode) != 0)
    {
      int errsv = errno;

      close (fd);
      g_unlink (tmpl);
      return set_file_error (error, errsv, "set the mode of", tmpl);
    }

  /* The descriptor stays ours: it is synced before it is closed. */
  out = g_unix_output_stream_new (fd, FALSE);

  ok = func (out, user_data, NULL, error);
  if (ok)
    ok = g_output_stream_close (out, NULL, error);

  if (ok && fsync (fd) != 0)
    ok = set_file_error (error, errno, "sync", tmpl);

  if (close (fd) != 0 && ok)
    ok = set_file_error (error, errno, "close", tmpl);

  if (ok && g_rename (tmpl, path) != 0)
    ok = set_file_error (error, errno, "rename a temporary file to", path);

  if (!ok)
    {
      g_unlink (tmpl);
      return FALSE;
    }

  /* Make the rename durable too. */
  fd = g_open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
  if (fd >= 0)
    {
      fsync (fd);
      close (fd);
    }

  return TRUE;
}

gboolean
_msg_file_check_trusted (const char     *path,
                         const GStatBuf *st,
                         GError        **error)
{
  /* A root-owned sticky directory such as /tmp: anyone may add files,
   * and each file is then checked. */
  gboolean sticky = S_ISDIR (st->st_mode) && st->st_uid == 0 && (st->st_mode & S_ISVTX) != 0;

  if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0 && !sticky)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_PERM,
                   "“%s”: other users can write to it (mode %04o); make it writable by its owner only", path,
                   (unsigned) (st->st_mode & 07777));
      return FALSE;
    }
  if (st->st_uid != geteuid () && st->st_uid != 0)
    {
      g_set_error (error, G_FILE_ERROR, G_FILE_ERROR_PERM, "“%s”: it belongs to another user (uid %u)", path,
                   (unsigned) st->st_uid);
      return FALSE;
    }
  return TRUE;
}
