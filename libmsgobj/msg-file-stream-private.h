/* msg-file-stream-private.h: a GMime stream over a file, opened lazily
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include <gmime/gmime.h>

/* For the GMime autoptr cleanups. */
#include "msg-mime-sink-private.h"

G_BEGIN_DECLS

/* MsgFileStream: a read-only GMimeStream over a regular file that is
 * opened at the first read and closed at its end, on reset and on
 * _msg_file_stream_release(), so that a message holding a large
 * attachment holds neither its content nor a descriptor between writes.
 * A file that is no longer a regular file, or that ends before the size
 * it had when it was opened, is an error. */
#define MSG_TYPE_FILE_STREAM (_msg_file_stream_get_type ())
G_DECLARE_FINAL_TYPE (MsgFileStream, _msg_file_stream, MSG, FILE_STREAM, GMimeStream)

GMimeStream *_msg_file_stream_new (const char *path);
const char  *_msg_file_stream_get_path (MsgFileStream *self);
void         _msg_file_stream_release (MsgFileStream *self);

G_END_DECLS
