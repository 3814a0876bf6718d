/* msg-data-output-stream.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msgobj.h"

struct _MsgDataOutputStream
{
  GFilterOutputStream parent_instance;
};

G_DEFINE_FINAL_TYPE (MsgDataOutputStream, msg_data_output_stream, G_TYPE_FILTER_OUTPUT_STREAM)

static void
msg_data_output_stream_class_init (MsgDataOutputStreamClass *klass)
{
}

static void
msg_data_output_stream_init (MsgDataOutputStream *self)
{
}
