/* msg-data-output-stream.h: CRLF canonicalisation and dot-stuffing
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MSGOBJ_H_INSIDE__) && !defined(MSGOBJ_COMPILATION)
#error "Only <msgobj.h> can be included directly."
#endif

#include "msg-types.h"

G_BEGIN_DECLS

#define MSG_TYPE_DATA_OUTPUT_STREAM (msg_data_output_stream_get_type ())
MSG_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MsgDataOutputStream, msg_data_output_stream, MSG, DATA_OUTPUT_STREAM, GFilterOutputStream)

MSG_AVAILABLE_IN_ALL
GOutputStream *msg_data_output_stream_new               (GOutputStream       *base_stream,
                                                         gboolean             dot_stuff);
MSG_AVAILABLE_IN_ALL
gboolean       msg_data_output_stream_finish            (MsgDataOutputStream *self,
                                                         GCancellable        *cancellable,
                                                         GError             **error);
MSG_AVAILABLE_IN_ALL
guint64        msg_data_output_stream_get_bytes_in      (MsgDataOutputStream *self);
MSG_AVAILABLE_IN_ALL
guint64        msg_data_output_stream_get_bytes_out     (MsgDataOutputStream *self);

G_END_DECLS
