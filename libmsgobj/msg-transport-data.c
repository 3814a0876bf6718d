/* msg-transport-data.c: writing a message for a transport implementation
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-transport.h"

#include "msg-connection-private.h"
#include "msg-counting-stream-private.h"
#include "msg-data-output-stream.h"
#include "msg-dkim-signer-private.h"
#include "msg-message.h"

typedef struct
{
  MsgTransport *transport;
  guint64       total;
} WriteProgress;

static void
write_progress_cb (guint64  count,
                   gpointer user_data)
{
  WriteProgress *progress = user_data;

  /* The final emission is the transport's, once the server has it. */
  if (count < progress->total)
    msg_transport_emit_progress (progress->transport, count, progress->total);
}

/* Writes @message into @data (dot-stuffing or not), its DKIM signature
 * first when the transport signs, counting for progress: what both
 * writers share. The caller finishes @data. */
static gboolean
write_through (MsgTransport  *self,
               MsgMessage    *message,
               MsgWriteFlags  flags,
               GOutputStream *data,
               guint64        total,
               GCancellable  *cancellable,
               GError       **error)
{
  WriteProgress progress = { self, total };
  g_autoptr (GOutputStream) counter = _msg_counting_stream_new (data, write_progress_cb, &progress);

  /* The signature covers the bytes written next, with the same flags (so
   * after any re-encoding), before dot-stuffing. */
  return _msg_dkim_signer_write_signature ((flags & MSG_WRITE_FLAGS_NEWS) ? NULL : _msg_transport_get_dkim_signer (self),
                                           message, flags, counter, cancellable, error) &&
         msg_message_write_to_stream_full (message, counter, flags, cancellable, error);
}

/**
 * msg_transport_write_message_data:
 * @self: a transport
 * @message: the message
 * @flags: how to write it (%MSG_WRITE_FLAGS_OMIT_BCC for mail,
 *   %MSG_WRITE_FLAGS_NEWS for news)
 * @connection: the connection, after the server's go-ahead (SMTP 354,
 *   NNTP 340)
 * @total: the message's size from [method@Message.measure], for progress
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Streams @message as SMTP `DATA` or an NNTP article: every line end
 * CRLF, every leading dot doubled, then the terminating dot line; in
 * large writes, the last block and the terminator in one. The `progress`
 * signal reports the bytes written, short of @total: emit the final
 * progress once the server has accepted the message. On failure the
 * connection has been aborted, before any buffered data could be written
 * after a cancellation. When the configuration asks for a DKIM signature
 * (`dkimsign`) and @flags do not make a news article, the message is
 * first written once through the signer, with the same @flags, and its
 * `DKIM-Signature` field goes out before it: a transport gets signed mail
 * without doing anything. For transport implementations.
 *
 * Returns: whether the whole message and the terminator were written
 */
gboolean
msg_transport_write_message_data (MsgTransport  *self,
                                  MsgMessage    *message,
                                  MsgWriteFlags  flags,
                                  MsgConnection *connection,
                                  guint64        total,
                                  GCancellable  *cancellable,
                                  GError       **error)
{
  g_autoptr (GOutputStream) data = NULL;

  g_return_val_if_fail (MSG_IS_TRANSPORT (self), FALSE);
  g_return_val_if_fail (MSG_IS_MESSAGE (message), FALSE);
  g_return_val_if_fail (MSG_IS_CONNECTION (connection), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  data = msg_data_output_stream_new (msg_connection_get_output_stream (connection), TRUE);
  if (!write_through (self, message, flags, data, total, cancellable, error) ||
      !_msg_connection_check_still_listening (connection, error) ||
      !msg_data_output_stream_finish (MSG_DATA_OUTPUT_STREAM (data), cancellable, error))
    {
      /* Before the streams go: closing them would flush buffered data. */
      msg_connection_abort (connection);
      return FALSE;
    }
  return TRUE;
}

/**
 * msg_transport_write_message_to_stream:
 * @self: a transport
 * @message: the message
 * @flags: how to write it (%MSG_WRITE_FLAGS_OMIT_BCC for mail)
 * @stream: where to write it, such as a stream of the transport's that
 *   frames the bytes in SMTP `BDAT` chunks (RFC 3030)
 * @total: the message's size from [method@Message.measure], for progress
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Writes @message as [method@Transport.write_message_data] does, every
 * line end CRLF, with its `DKIM-Signature` first when the configuration
 * asks for one and with the `progress` signal, but without dot-stuffing
 * and without a terminator: for protocols that send the message's length
 * instead. The bytes are written to @stream, which is neither flushed
 * nor closed. For transport implementations.
 *
 * Returns: whether the whole message was written to @stream
 */
gboolean
msg_transport_write_message_to_stream (MsgTransport  *self,
                                       MsgMessage    *message,
                                       MsgWriteFlags  flags,
                                       GOutputStream *stream,
                                       guint64        total,
                                       GCancellable  *cancellable,
                                       GError       **error)
{
  g_autoptr (GOutputStream) data = NULL;

  g_return_val_if_fail (MSG_IS_TRANSPORT (self), FALSE);
  g_return_val_if_fail (MSG_IS_MESSAGE (message), FALSE);
  g_return_val_if_fail (G_IS_OUTPUT_STREAM (stream), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  data = msg_data_output_stream_new (stream, FALSE);
  g_filter_output_stream_set_close_base_stream (G_FILTER_OUTPUT_STREAM (data), FALSE);
  return write_through (self, message, flags, data, total, cancellable, error) &&
         msg_data_output_stream_finish (MSG_DATA_OUTPUT_STREAM (data), cancellable, error);
}
