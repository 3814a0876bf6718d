/* msg-reply-private.h: the incremental reply parser used by MsgConnection
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "msg-reply.h"

G_BEGIN_DECLS

/* The most lines accepted in one reply. */
#define MSG_REPLY_MAX_LINES 1000

typedef enum
{
  /* RFC 5321: codes 200..599, "-" continuation lines, enhanced codes. */
  MSG_REPLY_GRAMMAR_SMTP,
  /* RFC 3977: codes 100..599, one line. */
  MSG_REPLY_GRAMMAR_NNTP,
  /* msg_reply_parse(): codes 100..599, "-" continuation lines, enhanced
   * codes. */
  MSG_REPLY_GRAMMAR_ANY,
} MsgReplyGrammar;

typedef struct _MsgReplyParser MsgReplyParser;

MsgReplyParser *_msg_reply_parser_new (MsgReplyGrammar grammar);
void            _msg_reply_parser_free (MsgReplyParser *parser);

/* Feeds one line of the reply, without its line end (a trailing CR is
 * removed if present). Sets *done when this was the final line; then
 * _msg_reply_parser_finish() returns the reply. On a protocol violation or a
 * cap overflow returns FALSE with MSG_TRANSPORT_ERROR_PROTOCOL. */
gboolean _msg_reply_parser_feed_line (MsgReplyParser *parser,
                                      const char     *line,
                                      gsize           length,
                                      gboolean       *done,
                                      GError        **error);

/* Transfer full; resets the parser for the next reply. Only after *done. */
MsgReply *_msg_reply_parser_finish (MsgReplyParser *parser);

/* Makes @data (of @length bytes) printable for a trace or an error
 * message: invalid UTF-8 replaced, control characters as '?'. */
char *_msg_reply_sanitize_text (const char *data,
                                gsize       length);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgReplyParser, _msg_reply_parser_free)

G_END_DECLS
