/* msg-connection-output-stream-private.h: the stream of
 * msg_connection_get_output_stream()
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "msg-connection.h"

G_BEGIN_DECLS

#define MSG_TYPE_CONNECTION_OUTPUT_STREAM (msg_connection_output_stream_get_type ())
G_DECLARE_FINAL_TYPE (MsgConnectionOutputStream, msg_connection_output_stream, MSG, CONNECTION_OUTPUT_STREAM, GOutputStream)

MsgConnectionOutputStream *_msg_connection_output_stream_new (MsgConnection *connection);
void                       _msg_connection_output_stream_detach (MsgConnectionOutputStream *self);

/* Defined in msg-connection.c: writes all of @buffer under the clocks;
 * does not abort. Declared here so that the stream and the connection do
 * not include each other's private headers. */
gboolean _msg_connection_write_internal (MsgConnection *self,
                                         const void    *buffer,
                                         gsize          length,
                                         GCancellable  *cancellable,
                                         GError       **error);

G_END_DECLS
