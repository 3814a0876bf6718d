/* msg-counting-stream.c: an output stream that counts what passes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-counting-stream-private.h"

struct _MsgCountingStream
{
  GOutputStream parent_instance;

  GOutputStream  *base; /* (owned) (nullable) */
  MsgCountingFunc func;
  gpointer        user_data;
  guint64         count;
};

G_DEFINE_FINAL_TYPE (MsgCountingStream, _msg_counting_stream, G_TYPE_OUTPUT_STREAM)

static gssize
msg_counting_stream_write (GOutputStream *stream,
                           const void    *buffer,
                           gsize          count,
                           GCancellable  *cancellable,
                           GError       **error)
{
  MsgCountingStream *self = MSG_COUNTING_STREAM (stream);
  gssize             n = (gssize) count;

  if (self->base != NULL)
    {
      n = g_output_stream_write (self->base, buffer, count, cancellable, error);
      if (n < 0)
        return -1;
    }
  else if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return -1;
  self->count += (guint64) n;
  if (self->func != NULL)
    self->func (self->count, self->user_data);
  return n;
}

/* Not passed on: passing on the message writer's final flush would send
 * the last block of data apart from the terminator, and the small second
 * write would wait for the server's delayed ACK (about 40 ms a message). */
static gboolean
msg_counting_stream_flush (GOutputStream *stream,
                           GCancellable  *cancellable,
                           GError       **error)
{
  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

static gboolean
msg_counting_stream_close (GOutputStream *stream,
                           GCancellable  *cancellable,
                           GError       **error)
{
  return TRUE;
}

static void
msg_counting_stream_finalize (GObject *object)
{
  MsgCountingStream *self = MSG_COUNTING_STREAM (object);

  g_clear_object (&self->base);
  G_OBJECT_CLASS (_msg_counting_stream_parent_class)->finalize (object);
}

static void
_msg_counting_stream_class_init (MsgCountingStreamClass *klass)
{
  GObjectClass       *object_class = G_OBJECT_CLASS (klass);
  GOutputStreamClass *stream_class = G_OUTPUT_STREAM_CLASS (klass);

  object_class->finalize = msg_counting_stream_finalize;
  stream_class->write_fn = msg_counting_stream_write;
  stream_class->flush = msg_counting_stream_flush;
  stream_class->close_fn = msg_counting_stream_close;
}

static void
_msg_counting_stream_init (MsgCountingStream *self)
{
}

GOutputStream *
_msg_counting_stream_new (GOutputStream  *base,
                          MsgCountingFunc func,
                          gpointer        user_data)
{
  MsgCountingStream *self = g_object_new (MSG_TYPE_COUNTING_STREAM, NULL);

  self->base = base != NULL ? g_object_ref (base) : NULL;
  self->func = func;
  self->user_data = user_data;
  return G_OUTPUT_STREAM (self);
}

guint64
_msg_counting_stream_get_count (MsgCountingStream *self)
{
  g_return_val_if_fail (MSG_IS_COUNTING_STREAM (self), 0);

  return self->count;
}
