/* msg-mime-sink.c: GMime streams between GMime and GIO
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-mime-sink-private.h"

#include "msgobj.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_LINE_OCTETS 998
#define SINK_BUFFER_SIZE 16384

/* The first error of this thread's current write (see
 * _msg_stream_error_take()). */
static GPrivate stream_error = G_PRIVATE_INIT ((GDestroyNotify) g_error_free);

static void
stream_error_set (GError *error)
{
  if (g_private_get (&stream_error) == NULL)
    g_private_set (&stream_error, error);
  else
    g_error_free (error);
}

void
_msg_stream_error_clear (void)
{
  g_private_replace (&stream_error, NULL);
}

GError *
_msg_stream_error_take (void)
{
  GError *error = g_private_get (&stream_error);

  g_private_set (&stream_error, NULL);
  return error;
}

/* MsgMimeSink */

typedef enum
{
  HEADER_LINE_START,
  HEADER_LINE_NAME,
  HEADER_LINE_VALUE,
  HEADER_LINE_CONTINUATION,
} HeaderLineState;

struct _MsgMimeSink
{
  GMimeStream parent_instance;

  GOutputStream *output;      /* (owned) */
  GCancellable  *cancellable; /* (owned) (nullable) */
  GError        *error;       /* (owned) (nullable) */
  guint64        bytes_written;

  gboolean        prev_cr;
  gboolean        in_headers;
  gboolean        seen_header;
  HeaderLineState line_state;
  gsize           line_len;
  char            field[64];
  gsize           field_len;

  /* On the heap: inline, GObject would zero all of it for every
   * message written. */
  gsize buf_len;
  char *buf; /* (owned) SINK_BUFFER_SIZE bytes */
};

G_DEFINE_FINAL_TYPE (MsgMimeSink, _msg_mime_sink, GMIME_TYPE_STREAM)

static void
sink_fail (MsgMimeSink *self,
           GError      *error)
{
  if (self->error == NULL)
    {
      self->error = g_error_copy (error);
      stream_error_set (error);
    }
  else
    g_error_free (error);
}

static gboolean
sink_push (MsgMimeSink *self)
{
  GError *error = NULL;

  if (self->buf_len == 0)
    return TRUE;

  if (!g_output_stream_write_all (self->output, self->buf, self->buf_len,
                                  NULL, self->cancellable, &error))
    {
      sink_fail (self, error);
      return FALSE;
    }

  self->bytes_written += self->buf_len;
  self->buf_len = 0;
  return TRUE;
}

static gboolean
is_ftext (guchar c)
{
  return c >= 33 && c <= 126 && c != ':';
}

static void
header_fail (MsgMimeSink *self,
             const char  *why)
{
  GError *error;

  self->field[MIN (self->field_len, sizeof self->field - 1)] = '\0';
  error = g_error_new (MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                       "The header block is malformed near “%s”: %s",
                       self->field, why);
  sink_fail (self, error);
}

static gboolean
header_char (MsgMimeSink *self,
             guchar       c)
{
  switch (self->line_state)
    {
    case HEADER_LINE_START:
      if (c == ' ' || c == '\t')
        {
          if (!self->seen_header)
            {
              header_fail (self, "the first line is a continuation");
              return FALSE;
            }
          self->line_state = HEADER_LINE_CONTINUATION;
        }
      else if (is_ftext (c))
        {
          self->line_state = HEADER_LINE_NAME;
          self->field_len = 0;
          self->field[self->field_len++] = c;
        }
      else
        {
          header_fail (self, "a line starts with neither a field name nor white space");
          return FALSE;
        }
      break;

    case HEADER_LINE_NAME:
      if (c == ':')
        {
          self->line_state = HEADER_LINE_VALUE;
          self->seen_header = TRUE;
        }
      else if (is_ftext (c))
        {
          if (self->field_len < sizeof self->field - 1)
            self->field[self->field_len++] = c;
        }
      else
        {
          header_fail (self, "a field name contains a character that is not allowed");
          return FALSE;
        }
      break;

    case HEADER_LINE_VALUE:
    case HEADER_LINE_CONTINUATION:
    default:
      break;
    }

  if (++self->line_len > MAX_LINE_OCTETS)
    {
      header_fail (self, "a header line is longer than 998 octets");
      return FALSE;
    }

  return TRUE;
}

static gboolean
header_line_end (MsgMimeSink *self)
{
  if (self->line_len == 0)
    {
      self->in_headers = FALSE;
      return TRUE;
    }

  if (self->line_state == HEADER_LINE_NAME)
    {
      header_fail (self, "a line has no colon");
      return FALSE;
    }

  self->line_state = HEADER_LINE_START;
  self->line_len = 0;
  return TRUE;
}

static gboolean
sink_line_end (MsgMimeSink *self)
{
  if (self->in_headers && !header_line_end (self))
    return FALSE;

  if (self->buf_len + 2 > SINK_BUFFER_SIZE && !sink_push (self))
    return FALSE;

  self->buf[self->buf_len++] = '\r';
  self->buf[self->buf_len++] = '\n';
  return TRUE;
}

/* The number of bytes before the first CR or LF of @buf. */
static size_t
body_run_length (const char *buf,
                 size_t      len)
{
  const char *lf = memchr (buf, '\n', len);
  size_t      run = lf != NULL ? (size_t) (lf - buf) : len;
  const char *cr = memchr (buf, '\r', run);

  return cr != NULL ? (size_t) (cr - buf) : run;
}

static ssize_t
sink_write (GMimeStream *stream,
            const char  *buf,
            size_t       len)
{
  MsgMimeSink *self = MSG_MIME_SINK (stream);
  GError      *error = NULL;

  if (self->error != NULL)
    {
      errno = EIO;
      return -1;
    }

  if (g_cancellable_set_error_if_cancelled (self->cancellable, &error))
    {
      sink_fail (self, error);
      errno = ECANCELED;
      return -1;
    }

  for (size_t i = 0; i < len; i++)
    {
      guchar c;

      /* In the body, the bytes up to the next line end need no check:
       * copy them in bulk (this loop was a third of the CPU time of a
       * large attachment's send, byte by byte). */
      if (!self->in_headers && !self->prev_cr)
        {
          size_t run = body_run_length (buf + i, len - i);

          while (run > 0)
            {
              size_t n = MIN (run, SINK_BUFFER_SIZE - self->buf_len);

              if (n == 0)
                {
                  if (!sink_push (self))
                    goto failed;
                  continue;
                }
              memcpy (self->buf + self->buf_len, buf + i, n);
              self->buf_len += n;
              i += n;
              run -= n;
            }
          if (i == len)
            break;
        }

      c = (guchar) buf[i];

      if (c == '\r')
        {
          if (self->prev_cr && !sink_line_end (self))
            goto failed;
          self->prev_cr = TRUE;
          continue;
        }

      if (c == '\n')
        {
          self->prev_cr = FALSE;
          if (!sink_line_end (self))
            goto failed;
          continue;
        }

      if (self->prev_cr)
        {
          self->prev_cr = FALSE;
          if (!sink_line_end (self))
            goto failed;
        }

      if (self->in_headers && !header_char (self, c))
        goto failed;

      if (self->buf_len + 1 > SINK_BUFFER_SIZE && !sink_push (self))
        goto failed;
      self->buf[self->buf_len++] = (char) c;
    }

  stream->position += len;
  return (ssize_t) len;

failed:
  errno = EIO;
  return -1;
}

static ssize_t
sink_read (GMimeStream *stream,
           char        *buf,
           size_t       len)
{
  errno = EBADF;
  return -1;
}

static int
sink_flush (GMimeStream *stream)
{
  MsgMimeSink *self = MSG_MIME_SINK (stream);

  if (self->error != NULL || !sink_push (self))
    {
      errno = EIO;
      return -1;
    }

  return 0;
}

static int
sink_close (GMimeStream *stream)
{
  return sink_flush (stream);
}

static gboolean
sink_eos (GMimeStream *stream)
{
  return FALSE;
}

static int
sink_reset (GMimeStream *stream)
{
  errno = ESPIPE;
  return -1;
}

static gint64
sink_seek (GMimeStream    *stream,
           gint64          offset,
           GMimeSeekWhence whence)
{
  errno = ESPIPE;
  return -1;
}

static gint64
sink_tell (GMimeStream *stream)
{
  return stream->position;
}

static gint64
sink_length (GMimeStream *stream)
{
  errno = ESPIPE;
  return -1;
}

static GMimeStream *
sink_substream (GMimeStream *stream,
                gint64       start,
                gint64       end)
{
  return NULL;
}

static void
_msg_mime_sink_finalize (GObject *object)
{
  MsgMimeSink *self = MSG_MIME_SINK (object);

  g_clear_object (&self->output);
  g_clear_object (&self->cancellable);
  g_clear_error (&self->error);
  g_free (self->buf);

  G_OBJECT_CLASS (_msg_mime_sink_parent_class)->finalize (object);
}

static void
_msg_mime_sink_class_init (MsgMimeSinkClass *klass)
{
  GObjectClass     *object_class = G_OBJECT_CLASS (klass);
  GMimeStreamClass *stream_class = GMIME_STREAM_CLASS (klass);

  object_class->finalize = _msg_mime_sink_finalize;

  stream_class->read = sink_read;
  stream_class->write = sink_write;
  stream_class->flush = sink_flush;
  stream_class->close = sink_close;
  stream_class->eos = sink_eos;
  stream_class->reset = sink_reset;
  stream_class->seek = sink_seek;
  stream_class->tell = sink_tell;
  stream_class->length = sink_length;
  stream_class->substream = sink_substream;
}

static void
_msg_mime_sink_init (MsgMimeSink *self)
{
}

GMimeStream *
_msg_mime_sink_new (GOutputStream *output,
                    GCancellable  *cancellable,
                    gboolean       check_headers)
{
  MsgMimeSink *self;

  g_return_val_if_fail (G_IS_OUTPUT_STREAM (output), NULL);

  self = g_object_new (MSG_TYPE_MIME_SINK, NULL);
  g_mime_stream_construct (GMIME_STREAM (self), 0, -1);
  self->output = g_object_ref (output);
  self->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  self->buf = g_malloc (SINK_BUFFER_SIZE);
  self->in_headers = check_headers;
  self->line_state = HEADER_LINE_START;

  return GMIME_STREAM (self);
}

gboolean
_msg_mime_sink_finish (MsgMimeSink *self,
                       GError     **error)
{
  GError *stream_err;

  g_return_val_if_fail (MSG_IS_MIME_SINK (self), FALSE);

  if (self->error == NULL)
    {
      if (self->prev_cr)
        {
          self->prev_cr = FALSE;
          sink_line_end (self);
        }
      /* A last line without a line end is checked too. */
      if (self->error == NULL && self->in_headers && self->line_len > 0)
        header_line_end (self);
      if (self->error == NULL)
        sink_push (self);
    }

  stream_err = _msg_stream_error_take ();
  if (self->error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->error));
      g_clear_error (&stream_err);
      return FALSE;
    }

  if (stream_err != NULL)
    {
      g_propagate_error (error, stream_err);
      return FALSE;
    }

  return TRUE;
}

guint64
_msg_mime_sink_get_bytes_written (MsgMimeSink *self)
{
  g_return_val_if_fail (MSG_IS_MIME_SINK (self), 0);

  return self->bytes_written + self->buf_len;
}

/* MsgFileStream */

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

  stream_error_set (g_error_new (G_IO_ERROR, g_io_error_from_errno (errsv),
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

/* MsgConcatStream */

struct _MsgConcatStream
{
  GMimeStream parent_instance;

  GPtrArray *sources; /* (owned) (element-type GMimeStream) */
  guint      current;
};

G_DEFINE_FINAL_TYPE (MsgConcatStream, _msg_concat_stream, GMIME_TYPE_STREAM)

static ssize_t
concat_read (GMimeStream *stream,
             char        *buf,
             size_t       len)
{
  MsgConcatStream *self = MSG_CONCAT_STREAM (stream);

  while (self->current < self->sources->len)
    {
      GMimeStream *source = g_ptr_array_index (self->sources, self->current);
      ssize_t      n = g_mime_stream_read (source, buf, len);

      if (n < 0)
        return -1;
      if (n > 0)
        {
          stream->position += n;
          return n;
        }
      /* A filter may return nothing while it holds back input: only the
       * end of the source moves on to the next one. */
      if (g_mime_stream_eos (source))
        self->current++;
    }

  return 0;
}

static ssize_t
concat_write (GMimeStream *stream,
              const char  *buf,
              size_t       len)
{
  errno = EBADF;
  return -1;
}

static int
concat_flush (GMimeStream *stream)
{
  return 0;
}

static int
concat_reset (GMimeStream *stream)
{
  MsgConcatStream *self = MSG_CONCAT_STREAM (stream);
  int              result = 0;

  for (guint i = 0; i < self->sources->len; i++)
    if (g_mime_stream_reset (g_ptr_array_index (self->sources, i)) < 0)
      result = -1;

  self->current = 0;
  stream->position = stream->bound_start;
  return result;
}

static int
concat_close (GMimeStream *stream)
{
  return concat_reset (stream);
}

static gboolean
concat_eos (GMimeStream *stream)
{
  MsgConcatStream *self = MSG_CONCAT_STREAM (stream);

  return self->current >= self->sources->len;
}

static gint64
concat_seek (GMimeStream    *stream,
             gint64          offset,
             GMimeSeekWhence whence)
{
  /* Sequential only: the start is the one position it can go back to. */
  if (whence == GMIME_STREAM_SEEK_SET && offset == stream->bound_start)
    return concat_reset (stream) == 0 ? offset : -1;
  if (whence == GMIME_STREAM_SEEK_CUR && offset == 0)
    return stream->position;

  errno = ESPIPE;
  return -1;
}

static gint64
concat_tell (GMimeStream *stream)
{
  return stream->position;
}

static gint64
concat_length (GMimeStream *stream)
{
  errno = ESPIPE;
  return -1;
}

static GMimeStream *
concat_substream (GMimeStream *stream,
                  gint64       start,
                  gint64       end)
{
  /* Only the whole stream, read again from its start. */
  if (start == stream->bound_start && end == stream->bound_end)
    {
      MsgConcatStream *self = MSG_CONCAT_STREAM (stream);
      GMimeStream     *copy = _msg_concat_stream_new ();

      for (guint i = 0; i < self->sources->len; i++)
        _msg_concat_stream_add (MSG_CONCAT_STREAM (copy), g_ptr_array_index (self->sources, i));
      return copy;
    }

  return NULL;
}

static void
_msg_concat_stream_finalize (GObject *object)
{
  MsgConcatStream *self = MSG_CONCAT_STREAM (object);

  g_ptr_array_unref (self->sources);

  G_OBJECT_CLASS (_msg_concat_stream_parent_class)->finalize (object);
}

static void
_msg_concat_stream_class_init (MsgConcatStreamClass *klass)
{
  GObjectClass     *object_class = G_OBJECT_CLASS (klass);
  GMimeStreamClass *stream_class = GMIME_STREAM_CLASS (klass);

  object_class->finalize = _msg_concat_stream_finalize;

  stream_class->read = concat_read;
  stream_class->write = concat_write;
  stream_class->flush = concat_flush;
  stream_class->close = concat_close;
  stream_class->eos = concat_eos;
  stream_class->reset = concat_reset;
  stream_class->seek = concat_seek;
  stream_class->tell = concat_tell;
  stream_class->length = concat_length;
  stream_class->substream = concat_substream;
}

static void
_msg_concat_stream_init (MsgConcatStream *self)
{
  self->sources = g_ptr_array_new_with_free_func (g_object_unref);
}

GMimeStream *
_msg_concat_stream_new (void)
{
  MsgConcatStream *self = g_object_new (MSG_TYPE_CONCAT_STREAM, NULL);

  g_mime_stream_construct (GMIME_STREAM (self), 0, -1);
  return GMIME_STREAM (self);
}

void
_msg_concat_stream_add (MsgConcatStream *self,
                        GMimeStream     *source)
{
  g_return_if_fail (MSG_IS_CONCAT_STREAM (self));
  g_return_if_fail (GMIME_IS_STREAM (source));

  g_ptr_array_add (self->sources, g_object_ref (source));
}
