/* msg-smtp-bdat-stream.c: a message framed in BDAT chunks (RFC 3030)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-smtp-bdat-stream.h"
#include "msg-smtp-private.h"

G_DEFINE_FINAL_TYPE (BdatStream, bdat_stream, G_TYPE_OUTPUT_STREAM)

gboolean
_msg_smtp_bdat_stream_send (BdatStream   *self,
                            gboolean      last,
                            GCancellable *cancellable,
                            GError      **error)
{
  char command[64];
  int  length;

  /* The command and its chunk in one write (the trace shows the
   * command; the connection traces no message data). */
  length = g_snprintf (command, sizeof command, last ? "BDAT %u LAST\r\n" : "BDAT %u\r\n", self->chunk->len);
  g_debug ("C: %.*s", length - 2, command);
  g_byte_array_prepend (self->chunk, (const guint8 *) command, (guint) length);
  if (!msg_connection_flush (self->connection, cancellable, error) ||
      !g_output_stream_write_all (msg_connection_get_output_stream (self->connection), self->chunk->data,
                                  self->chunk->len, NULL, cancellable, error))
    return FALSE;
  g_byte_array_set_size (self->chunk, 0);
  return TRUE;
}

/* Reads the reply to the oldest unanswered chunk. */
gboolean
_msg_smtp_bdat_stream_read_reply (BdatStream   *self,
                                  GCancellable *cancellable,
                                  GError      **error)
{
  MsgReply *reply = _msg_smtp_read_reply (self->connection, "BDAT", cancellable, error);

  if (reply == NULL)
    return FALSE;
  self->unanswered--;
  if (msg_reply_get_code (reply) / 100 != 2 && self->refusal == NULL)
    self->refusal = reply;
  else
    msg_reply_unref (reply);
  return TRUE;
}

void
_msg_smtp_bdat_stream_set_refused (BdatStream *self,
                                   GError    **error)
{
  _msg_smtp_set_reply_error (error, self->connection, MSG_TRANSPORT_ERROR_MESSAGE_REJECTED,
                             "a chunk of the message (BDAT)", self->refusal);
}

static gssize
bdat_stream_write (GOutputStream *stream,
                   const void    *buffer,
                   gsize          count,
                   GCancellable  *cancellable,
                   GError       **error)
{
  BdatStream *self = BDAT_STREAM (stream);
  gsize       n = MIN (count, BDAT_CHUNK - self->chunk->len);

  g_byte_array_append (self->chunk, buffer, (guint) n);
  if (self->chunk->len < BDAT_CHUNK)
    return (gssize) n;
  if (!_msg_smtp_bdat_stream_send (self, FALSE, cancellable, error))
    return -1;
  /* A window's replies are all read before the next write: the
   * connection takes any reply waiting then for one out of step. */
  if (++self->unanswered >= self->window)
    while (self->unanswered > 0)
      if (!_msg_smtp_bdat_stream_read_reply (self, cancellable, error))
        return -1;
  if (self->refusal != NULL)
    {
      _msg_smtp_bdat_stream_set_refused (self, error);
      return -1;
    }
  return (gssize) n;
}

static void
bdat_stream_finalize (GObject *object)
{
  BdatStream *self = BDAT_STREAM (object);

  g_clear_object (&self->connection);
  g_clear_pointer (&self->refusal, msg_reply_unref);
  g_byte_array_unref (self->chunk);
  G_OBJECT_CLASS (bdat_stream_parent_class)->finalize (object);
}

static void
bdat_stream_class_init (BdatStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = bdat_stream_finalize;
  G_OUTPUT_STREAM_CLASS (klass)->write_fn = bdat_stream_write;
}

static void
bdat_stream_init (BdatStream *self)
{
  /* Grown as needed: most messages are far smaller than a chunk. */
  self->chunk = g_byte_array_new ();
  self->window = 1;
}
