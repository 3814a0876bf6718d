/* msg-nntp-count-stream.c: an output stream that counts what passes
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-nntp-count-stream.h"

/* Without a base stream it only counts: the size of an article is known
 * before connecting (for the automatic total deadline and the progress
 * total) without holding the article in memory. With one, it forwards
 * every write and reports progress. Closing it never closes the base:
 * the data stream's own finish ends the article. */

struct _MsgNntpCountStream
{
  GOutputStream    parent_instance;
  GOutputStream   *base; /* (owned) (nullable) */
  guint64          count;
  MsgNntpCountFunc func;
  gpointer         user_data;
};

/* Dynamic: the type lives in the module, which GIO may unload and reload. */
G_DEFINE_DYNAMIC_TYPE_EXTENDED (MsgNntpCountStream, msg_nntp_count_stream, G_TYPE_OUTPUT_STREAM, G_TYPE_FLAG_FINAL, {})

static gssize
msg_nntp_count_stream_write (GOutputStream *stream,
                             const void    *buffer,
                             gsize          count,
                             GCancellable  *cancellable,
                             GError       **error)
{
  MsgNntpCountStream *self = MSG_NNTP_COUNT_STREAM (stream);
  gsize               written = count;

  if (self->base != NULL &&
      !g_output_stream_write_all (self->base, buffer, count, &written, cancellable, error))
    return -1;
  self->count += written;
  if (self->func != NULL)
    self->func (self->count, self->user_data);
  return written;
}

static gboolean
msg_nntp_count_stream_flush (GOutputStream *stream,
                             GCancellable  *cancellable,
                             GError       **error)
{
  MsgNntpCountStream *self = MSG_NNTP_COUNT_STREAM (stream);

  return self->base == NULL || g_output_stream_flush (self->base, cancellable, error);
}

static gboolean
msg_nntp_count_stream_close (GOutputStream *stream,
                             GCancellable  *cancellable,
                             GError       **error)
{
  return TRUE;
}

static void
msg_nntp_count_stream_finalize (GObject *object)
{
  MsgNntpCountStream *self = MSG_NNTP_COUNT_STREAM (object);

  G_OBJECT_CLASS (msg_nntp_count_stream_parent_class)->finalize (object);
  g_clear_object (&self->base);
}

static void
msg_nntp_count_stream_class_init (MsgNntpCountStreamClass *klass)
{
  GObjectClass       *object_class = G_OBJECT_CLASS (klass);
  GOutputStreamClass *stream_class = G_OUTPUT_STREAM_CLASS (klass);

  object_class->finalize = msg_nntp_count_stream_finalize;
  stream_class->write_fn = msg_nntp_count_stream_write;
  stream_class->flush = msg_nntp_count_stream_flush;
  stream_class->close_fn = msg_nntp_count_stream_close;
}

static void
msg_nntp_count_stream_class_finalize (MsgNntpCountStreamClass *klass)
{
}

static void
msg_nntp_count_stream_init (MsgNntpCountStream *self)
{
}

GOutputStream *
msg_nntp_count_stream_new (GOutputStream   *base_stream,
                           MsgNntpCountFunc func,
                           gpointer         user_data)
{
  MsgNntpCountStream *self = g_object_new (MSG_TYPE_NNTP_COUNT_STREAM, NULL);

  self->base = base_stream != NULL ? g_object_ref (base_stream) : NULL;
  self->func = func;
  self->user_data = user_data;
  return G_OUTPUT_STREAM (self);
}

guint64
msg_nntp_count_stream_get_count (MsgNntpCountStream *self)
{
  g_return_val_if_fail (MSG_IS_NNTP_COUNT_STREAM (self), 0);

  return self->count;
}

void
msg_nntp_count_stream_register (GTypeModule *module)
{
  msg_nntp_count_stream_register_type (module);
}
