/* msg-concat-stream.c: a GMime stream that reads its sources in turn
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-concat-stream-private.h"

#include <errno.h>

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
