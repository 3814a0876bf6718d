/* msg-mime-sink.c: a GMime stream that writes into a GOutputStream
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-mime-sink-private.h"

#include "msg-message.h"

#include <errno.h>
#include <string.h>

#define MAX_LINE_OCTETS 998
#define SINK_BUFFER_SIZE 16384

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
      _msg_stream_error_set (error);
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

/* The first error of this thread's current write (see
 * _msg_stream_error_take()). */
static GPrivate stream_error = G_PRIVATE_INIT ((GDestroyNotify) g_error_free);

void
_msg_stream_error_set (GError *error)
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
