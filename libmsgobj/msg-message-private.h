/* msg-message-private.h: what the library shares about messages
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "msg-message.h"
#include "msg-body-part.h"

#include "msg-concat-stream-private.h"
#include "msg-file-stream-private.h"
#include "msg-mime-sink-private.h"

#include <gmime/gmime.h>

G_BEGIN_DECLS

/* One send or post of a message at a time: GMime's writes are not safe
 * from two threads (headers are formatted lazily, content streams are
 * shared). A second operation fails with G_IO_ERROR_PENDING. */
gboolean _msg_message_claim (MsgMessage *self,
                             GError    **error);
void     _msg_message_release (MsgMessage *self);

typedef gboolean (*MsgWriteFunc) (GOutputStream *output,
                                  gpointer       user_data,
                                  GCancellable  *cancellable,
                                  GError       **error);

/* Writes @path atomically: a temporary file in the same directory,
 * fsync, rename. On error nothing is left behind. */
gboolean _msg_write_file_atomically (const char  *path,
                                     MsgWriteFunc func,
                                     gpointer     user_data,
                                     GError     **error);

G_END_DECLS
