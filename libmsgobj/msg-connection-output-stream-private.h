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

typedef gboolean (*MsgConnectionOutputStreamWriteFunc) (MsgConnection *connection,
                                                        const void    *buffer,
                                                        gsize          count,
                                                        GCancellable  *cancellable,
                                                        GError       **error);

MsgConnectionOutputStream *_msg_connection_output_stream_new (MsgConnection                     *connection,
                                                              MsgConnectionOutputStreamWriteFunc write_func);
void                       _msg_connection_output_stream_detach (MsgConnectionOutputStream *self);

G_END_DECLS
