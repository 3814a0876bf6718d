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
  GByteArray     *kept; /* (owned) (nullable): see _msg_counting_stream_keep() */
  gsize           keep_limit;
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
  if (self->kept != NULL)
    {
      if (self->count > self->keep_limit)
        g_clear_pointer (&self->kept, g_byte_array_unref);
      else
        g_byte_array_append (self->kept, buffer, (guint) n);
    }
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
  g_clear_pointer (&self->kept, g_byte_array_unref);
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

void
_msg_counting_stream_keep (MsgCountingStream *self,
                           gsize              limit)
{
  g_return_if_fail (MSG_IS_COUNTING_STREAM (self));
  g_return_if_fail (self->count == 0 && self->kept == NULL);

  /* Most messages are a few KiB: no reallocation for them. */
  self->kept = g_byte_array_sized_new ((guint) MIN (limit, 8192));
  self->keep_limit = limit;
}

GBytes *
_msg_counting_stream_steal_kept (MsgCountingStream *self)
{
  g_return_val_if_fail (MSG_IS_COUNTING_STREAM (self), NULL);

  if (self->kept == NULL)
    return NULL;
  return g_byte_array_free_to_bytes (g_steal_pointer (&self->kept));
}
