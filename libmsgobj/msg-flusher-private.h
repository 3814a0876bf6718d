/* msg-flusher-private.h: one message of a flush
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "msg-flusher.h"

G_BEGIN_DECLS

/* The subdirectories of the drop directory that a flush fills. */
#define MSG_FLUSH_FAILED_DIR "failed"
#define MSG_FLUSH_UNKNOWN_DIR "unknown"
#define MSG_FLUSH_PARTIAL_DIR "partial"

typedef enum
{
  MSG_FLUSH_SENT,
  MSG_FLUSH_FAILED,
  MSG_FLUSH_DEFERRED,
  MSG_FLUSH_UNKNOWN,
  MSG_FLUSH_SKIPPED,
  MSG_FLUSH_N_OUTCOMES,
} MsgFlushOutcome;

/* Claims, sends and files one message (see MsgFlusher); adds the bytes
 * sent to @bytes; sets @stop when the connection failed and the thread
 * should take no more messages. */
MsgFlushOutcome _msg_flusher_flush_one (MsgDropDirectory *directory,
                                        MsgTransport     *transport,
                                        MsgDropMessage   *item,
                                        GCancellable     *cancellable,
                                        guint64          *bytes,
                                        gboolean         *stop);

G_END_DECLS
