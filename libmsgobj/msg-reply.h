/* msg-reply.h: a parsed SMTP or NNTP server reply
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MSGOBJ_H_INSIDE__) && !defined(MSGOBJ_COMPILATION)
#error "Only <msgobj.h> can be included directly."
#endif

#include "msg-types.h"

G_BEGIN_DECLS

/**
 * MSG_REPLY_MAX_LINE_LENGTH:
 *
 * The longest reply line accepted from a server, line end included.
 */
#define MSG_REPLY_MAX_LINE_LENGTH (8 * 1024)

/**
 * MSG_REPLY_MAX_LENGTH:
 *
 * The most bytes accepted in one whole (multi-line) reply.
 */
#define MSG_REPLY_MAX_LENGTH (64 * 1024)

#define MSG_TYPE_REPLY (msg_reply_get_type ())

MSG_AVAILABLE_IN_ALL
GType               msg_reply_get_type            (void);
MSG_AVAILABLE_IN_ALL
MsgReply           *msg_reply_parse               (const char     *data,
                                                   gssize          length,
                                                   GError        **error);
MSG_AVAILABLE_IN_ALL
MsgReply           *msg_reply_ref                 (MsgReply       *self);
MSG_AVAILABLE_IN_ALL
void                msg_reply_unref               (MsgReply       *self);
MSG_AVAILABLE_IN_ALL
unsigned            msg_reply_get_code            (const MsgReply *self);
MSG_AVAILABLE_IN_ALL
const char         *msg_reply_get_enhanced_status (const MsgReply *self);
MSG_AVAILABLE_IN_ALL
const char         *msg_reply_get_text            (const MsgReply *self);
MSG_AVAILABLE_IN_ALL
const char *const  *msg_reply_get_lines           (const MsgReply *self);
MSG_AVAILABLE_IN_ALL
gboolean            msg_reply_is_positive         (const MsgReply *self);
MSG_AVAILABLE_IN_ALL
gboolean            msg_reply_is_intermediate     (const MsgReply *self);
MSG_AVAILABLE_IN_ALL
gboolean            msg_reply_is_transient_failure (const MsgReply *self);
MSG_AVAILABLE_IN_ALL
gboolean            msg_reply_is_permanent_failure (const MsgReply *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgReply, msg_reply_unref)

G_END_DECLS
