/* msg-file-stream.c: a GMime stream that reads a file, opened lazily
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-file-stream-private.h"

#include "msg-mime-sink-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <sys/stat.h>
#include <unistd.h>

struct _MsgFileStream
{
  GMimeStream parent_instance;

  char    *path; /* (owned) */
  int      fd;   /* -1 when closed */
  gint64   size; /* size when opened */
  gboolean eos;
};

G_DEFINE_FINAL_TYPE (MsgFileStream, _msg_file_stream, GMIME_TYPE_STREAM)

static void
file_fail (MsgFileStream *self,
           int            errsv,
           const char    *what)
{
  g_autofree char *display = g_filename_display_name (self->path);

  _msg_stream_error_set (g_error_new (G_IO_ERROR, g_io_error_from_errno (errsv),
                                      "Cannot read attachment “%s”: %s",
                                      display, what != NULL ? what : g_strerror (errsv)));
  errno = errsv;
}

static void
file_close (MsgFileStream *self)
{
  if (self->fd >= 0)
    {
      g_close (self->fd, NULL);
      self->fd = -1;
    }
}

static gboolean
file_open (MsgFileStream *self)
{
  GMimeStream *stream = GMIME_STREAM (self);
  struct stat  st;
  int          fd;

  fd = g_open (self->path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0);
  if (fd < 0)
    {
      file_fail (self, errno, NULL);
      return FALSE;
    }

  if (fstat (fd, &st) != 0)
    {
      int errsv = errno;

      g_close (fd, NULL);
      file_fail (self, errsv, NULL);
      return FALSE;
    }

  if (!S_ISREG (st.st_mode))
    {
      g_close (fd, NULL);
      file_fail (self, EINVAL, "it is not a regular file");
      return FALSE;
    }

  if (stream->position > 0 && lseek (fd, stream->position, SEEK_SET) < 0)
    {
      int errsv = errno;

      g_close (fd, NULL);
      file_fail (self, errsv, NULL);
      return FALSE;
    }

  self->fd = fd;
  self->size = st.st_size;
  return TRUE;
}

static ssize_t
file_read (GMimeStream *stream,
           char        *buf,
           size_t       len)
{
  MsgFileStream *self = MSG_FILE_STREAM (stream);
  ssize_t        n;

  if (self->eos)
    return 0;

  if (stream->bound_end != -1)
    {
      if (stream->position >= stream->bound_end)
        {
          self->eos = TRUE;
          file_close (self);
          return 0;
        }
      len = (size_t) MIN ((gint64) len, stream->bound_end - stream->position);
    }

  if (self->fd < 0 && !file_open (self))
    return -1;

  do
    n = read (self->fd, buf, len);
  while (n < 0 && errno == EINTR);

  if (n < 0)
    {
      int errsv = errno;

      file_close (self);
      file_fail (self, errsv, NULL);
      return -1;
    }

  if (n == 0)
    {
      gint64 expected = stream->bound_end != -1 ? MIN (stream->bound_end, self->size) : self->size;

      file_close (self);
      if (len > 0 && stream->position < expected)
        {
          file_fail (self, EIO, "the file became shorter while it was being read");
          return -1;
        }
      self->eos = TRUE;
      return 0;
    }

  stream->position += n;
  return n;
}

static ssize_t
file_write (GMimeStream *stream,
            const char  *buf,
            size_t       len)
{
  errno = EBADF;
  return -1;
}

static int
file_flush (GMimeStream *stream)
{
  return 0;
}

static int
file_close_vfunc (GMimeStream *stream)
{
  _msg_file_stream_release (MSG_FILE_STREAM (stream));
  return 0;
}

static gboolean
file_eos (GMimeStream *stream)
{
  return MSG_FILE_STREAM (stream)->eos;
}

static int
file_reset (GMimeStream *stream)
{
  _msg_file_stream_release (MSG_FILE_STREAM (stream));
  return 0;
}

static gint64
file_seek (GMimeStream    *stream,
           gint64          offset,
           GMimeSeekWhence whence)
{
  MsgFileStream *self = MSG_FILE_STREAM (stream);
  gint64         target;

  switch (whence)
    {
    case GMIME_STREAM_SEEK_SET:
      target = offset;
      break;
    case GMIME_STREAM_SEEK_CUR:
      target = stream->position + offset;
      break;
    case GMIME_STREAM_SEEK_END:
    default:
      {
        gint64 length = g_mime_stream_length (stream);

        if (length < 0)
          return -1;
        target = stream->bound_start + length + offset;
      }
      break;
    }

  if (target < stream->bound_start || (stream->bound_end != -1 && target > stream->bound_end))
    {
      errno = EINVAL;
      return -1;
    }

  file_close (self);
  stream->position = target;
  self->eos = FALSE;
  return target;
}

static gint64
file_tell (GMimeStream *stream)
{
  return stream->position;
}

static gint64
file_length (GMimeStream *stream)
{
  MsgFileStream *self = MSG_FILE_STREAM (stream);
  GStatBuf       st;
  gint64         end;

  if (stream->bound_end != -1)
    return stream->bound_end - stream->bound_start;

  if (g_stat (self->path, &st) != 0)
    return -1;

  end = st.st_size;
  return MAX (end - stream->bound_start, 0);
}

static GMimeStream *
file_substream (GMimeStream *stream,
                gint64       start,
                gint64       end)
{
  MsgFileStream *self = MSG_FILE_STREAM (stream);
  MsgFileStream *sub;

  sub = g_object_new (MSG_TYPE_FILE_STREAM, NULL);
  g_mime_stream_construct (GMIME_STREAM (sub), start, end);
  sub->path = g_strdup (self->path);

  return GMIME_STREAM (sub);
}

static void
_msg_file_stream_finalize (GObject *object)
{
  MsgFileStream *self = MSG_FILE_STREAM (object);

  file_close (self);
  g_free (self->path);

  G_OBJECT_CLASS (_msg_file_stream_parent_class)->finalize (object);
}

static void
_msg_file_stream_class_init (MsgFileStreamClass *klass)
{
  GObjectClass     *object_class = G_OBJECT_CLASS (klass);
  GMimeStreamClass *stream_class = GMIME_STREAM_CLASS (klass);

  object_class->finalize = _msg_file_stream_finalize;

  stream_class->read = file_read;
  stream_class->write = file_write;
  stream_class->flush = file_flush;
  stream_class->close = file_close_vfunc;
  stream_class->eos = file_eos;
  stream_class->reset = file_reset;
  stream_class->seek = file_seek;
  stream_class->tell = file_tell;
  stream_class->length = file_length;
  stream_class->substream = file_substream;
}

static void
_msg_file_stream_init (MsgFileStream *self)
{
  self->fd = -1;
}

GMimeStream *
_msg_file_stream_new (const char *path)
{
  MsgFileStream *self;

  g_return_val_if_fail (path != NULL, NULL);

  self = g_object_new (MSG_TYPE_FILE_STREAM, NULL);
  g_mime_stream_construct (GMIME_STREAM (self), 0, -1);
  self->path = g_strdup (path);

  return GMIME_STREAM (self);
}

const char *
_msg_file_stream_get_path (MsgFileStream *self)
{
  g_return_val_if_fail (MSG_IS_FILE_STREAM (self), NULL);

  return self->path;
}

void
_msg_file_stream_release (MsgFileStream *self)
{
  g_return_if_fail (MSG_IS_FILE_STREAM (self));

  file_close (self);
  GMIME_STREAM (self)->position = GMIME_STREAM (self)->bound_start;
  self->eos = FALSE;
}
