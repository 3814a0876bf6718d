/* msg-connection-output-stream.c: the stream of msg_connection_get_output_stream()
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-connection-output-stream-private.h"

/* The stream of get_output_stream(). */

struct _MsgConnectionOutputStream
{
  GOutputStream  parent_instance;
  MsgConnection *connection; /* (nullable) (unowned) */
};

G_DEFINE_FINAL_TYPE (MsgConnectionOutputStream, msg_connection_output_stream, G_TYPE_OUTPUT_STREAM)

static gssize
msg_connection_output_stream_write (GOutputStream *stream,
                                    const void    *buffer,
                                    gsize          count,
                                    GCancellable  *cancellable,
                                    GError       **error)
{
  MsgConnectionOutputStream *self = MSG_CONNECTION_OUTPUT_STREAM (stream);

  if (self->connection == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                           "The connection is gone");
      return -1;
    }
  if (!msg_connection_flush (self->connection, cancellable, error))
    return -1;
  if (!_msg_connection_write_internal (self->connection, buffer, count, cancellable, error))
    {
      msg_connection_abort (self->connection);
      return -1;
    }
  return (gssize) count;
}

static gboolean
msg_connection_output_stream_close (GOutputStream *stream,
                                    GCancellable  *cancellable,
                                    GError       **error)
{
  /* Closing this stream leaves the connection alone. */
  return TRUE;
}

static void
msg_connection_output_stream_class_init (MsgConnectionOutputStreamClass *klass)
{
  GOutputStreamClass *stream_class = G_OUTPUT_STREAM_CLASS (klass);

  stream_class->write_fn = msg_connection_output_stream_write;
  stream_class->close_fn = msg_connection_output_stream_close;
}

static void
msg_connection_output_stream_init (MsgConnectionOutputStream *self)
{
}

/* A stream writing to @connection, which must call
 * _msg_connection_output_stream_detach() before it goes. */
MsgConnectionOutputStream *
_msg_connection_output_stream_new (MsgConnection *connection)
{
  MsgConnectionOutputStream *self = g_object_new (MSG_TYPE_CONNECTION_OUTPUT_STREAM, NULL);

  self->connection = connection;
  return self;
}

/* From now on the writes of @self fail with G_IO_ERROR_CLOSED. */
void
_msg_connection_output_stream_detach (MsgConnectionOutputStream *self)
{
  self->connection = NULL;
}
