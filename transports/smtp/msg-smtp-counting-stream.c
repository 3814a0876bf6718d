/* msg-smtp-counting-stream.c: an output stream that counts what passes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-smtp-counting-stream.h"

/* Counts the bytes written to it and passes them on to an optional base
 * stream. Without a base it discards them: the SMTP transport writes a
 * message through it once to learn its size (for SIZE= and the automatic
 * deadline) without holding the message in memory. With a base, it
 * reports progress. Closing or flushing it leaves the base stream alone. */

struct _MsgSmtpCountingStream
{
  GOutputStream parent_instance;

  GOutputStream      *base; /* (owned) (nullable) */
  MsgSmtpCountingFunc func;
  gpointer            user_data;
  guint64             count;
};

G_DEFINE_DYNAMIC_TYPE_EXTENDED (MsgSmtpCountingStream, msg_smtp_counting_stream, G_TYPE_OUTPUT_STREAM, G_TYPE_FLAG_FINAL, {})

static gssize
msg_smtp_counting_stream_write (GOutputStream *stream,
                                const void    *buffer,
                                gsize          count,
                                GCancellable  *cancellable,
                                GError       **error)
{
  MsgSmtpCountingStream *self = MSG_SMTP_COUNTING_STREAM (stream);
  gssize                 n = (gssize) count;

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

/* A flush is not passed on: the writer of the message flushes when it is
 * done, and passing that on would send the last block of data apart from
 * the final dot that msg_data_output_stream_finish() writes; the small
 * second write then waits for the server's delayed ACK (about 40 ms per
 * message, Nagle's algorithm). The transport finishes the data itself. */
static gboolean
msg_smtp_counting_stream_flush (GOutputStream *stream,
                                GCancellable  *cancellable,
                                GError       **error)
{
  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

static gboolean
msg_smtp_counting_stream_close (GOutputStream *stream,
                                GCancellable  *cancellable,
                                GError       **error)
{
  return TRUE;
}

static void
msg_smtp_counting_stream_finalize (GObject *object)
{
  MsgSmtpCountingStream *self = MSG_SMTP_COUNTING_STREAM (object);

  g_clear_object (&self->base);
  G_OBJECT_CLASS (msg_smtp_counting_stream_parent_class)->finalize (object);
}

static void
msg_smtp_counting_stream_class_init (MsgSmtpCountingStreamClass *klass)
{
  GObjectClass       *object_class = G_OBJECT_CLASS (klass);
  GOutputStreamClass *stream_class = G_OUTPUT_STREAM_CLASS (klass);

  object_class->finalize = msg_smtp_counting_stream_finalize;
  stream_class->write_fn = msg_smtp_counting_stream_write;
  stream_class->flush = msg_smtp_counting_stream_flush;
  stream_class->close_fn = msg_smtp_counting_stream_close;
}

static void
msg_smtp_counting_stream_class_finalize (MsgSmtpCountingStreamClass *klass)
{
}

static void
msg_smtp_counting_stream_init (MsgSmtpCountingStream *self)
{
}

/* Returns a stream that counts and, with @base, passes the bytes on;
 * @func (nullable) is called after each write. */
GOutputStream *
msg_smtp_counting_stream_new (GOutputStream      *base,
                              MsgSmtpCountingFunc func,
                              gpointer            user_data)
{
  MsgSmtpCountingStream *self = g_object_new (MSG_TYPE_SMTP_COUNTING_STREAM, NULL);

  self->base = base != NULL ? g_object_ref (base) : NULL;
  self->func = func;
  self->user_data = user_data;
  return G_OUTPUT_STREAM (self);
}

guint64
msg_smtp_counting_stream_get_count (MsgSmtpCountingStream *self)
{
  g_return_val_if_fail (MSG_IS_SMTP_COUNTING_STREAM (self), 0);

  return self->count;
}

void
msg_smtp_counting_stream_register (GTypeModule *module)
{
  msg_smtp_counting_stream_register_type (module);
}
