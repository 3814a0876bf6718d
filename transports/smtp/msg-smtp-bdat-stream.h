/* msg-smtp-bdat-stream.h: a message framed in BDAT chunks (RFC 3030)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <msgobj.h>

G_BEGIN_DECLS

/* A stream that frames the bytes written to it in BDAT chunks (RFC
 * 3030): each full chunk goes as "BDAT n" and its bytes; with PIPELINING
 * BDAT_WINDOW chunks go before their replies are read (so a large
 * message is not slowed to a chunk per round trip), else one. A refusal
 * ends the message once every reply sent for is read, the connection
 * still in step. _msg_smtp_bdat_stream_send() with @last sends the rest
 * as the LAST chunk, whose reply (after those of the chunks still
 * unanswered) is the message's. */
#define BDAT_CHUNK (256 * 1024)
#define BDAT_WINDOW 32

G_DECLARE_FINAL_TYPE (BdatStream, bdat_stream, BDAT, STREAM, GOutputStream)

struct _BdatStream
{
  GOutputStream  parent_instance;
  MsgConnection *connection; /* (owned) */
  GByteArray    *chunk;      /* (owned) */
  guint          window;     /* chunks sent before a reply is awaited */
  guint          unanswered; /* chunks sent whose reply is not read */
  MsgReply      *refusal;    /* (owned) (nullable): the first refusal */
};

gboolean _msg_smtp_bdat_stream_send (BdatStream   *self,
                                     gboolean      last,
                                     GCancellable *cancellable,
                                     GError      **error);
gboolean _msg_smtp_bdat_stream_read_reply (BdatStream   *self,
                                           GCancellable *cancellable,
                                           GError      **error);
void     _msg_smtp_bdat_stream_set_refused (BdatStream *self,
                                            GError    **error);

G_END_DECLS
