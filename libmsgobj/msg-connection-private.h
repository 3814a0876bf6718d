/* msg-connection-private.h: MsgConnection internals shared with the
 * transport base class
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "msg-connection.h"

G_BEGIN_DECLS

/* Size of the read-ahead buffer; at least twice MSG_REPLY_MAX_LINE_LENGTH. */
#define MSG_CONNECTION_READ_BUFFER_SIZE (16 * 1024)

/* Before the end of a message: fails, without waiting, when the server
 * has closed the connection or already answered; does not abort. */
gboolean _msg_connection_check_still_listening (MsgConnection *self,
                                                GError       **error);

G_END_DECLS
