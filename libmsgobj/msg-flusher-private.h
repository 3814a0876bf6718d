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

/* What a thread does after a message. */
typedef enum
{
  MSG_FLUSH_GO_ON,
  MSG_FLUSH_STOP,         /* cancelled, or a failure about neither the message nor the relay */
  MSG_FLUSH_RELAY_FAILED, /* the connection failed: the relay is down, the message unsent */
} MsgFlushNext;

/* Called after a message is claimed, before it is sent; FALSE (when
 * cancelled) puts it back. */
typedef gboolean (*MsgFlushGate) (gpointer      data,
                                  GCancellable *cancellable);

/* Claims @item and makes it ready to send (its sending marked started):
 * its message, or NULL when it is dealt with already, with @outcome
 * (skipped: taken by another consumer or backing off; failed: not a
 * message; deferred: put back). Adds the size of the file to @bytes;
 * sets @next when the connection should take no more messages. */
MsgMessage *_msg_flusher_prepare_one (MsgDropDirectory *directory,
                                      MsgDropMessage   *item,
                                      MsgFlushGate      gate,
                                      gpointer          gate_data,
                                      GCancellable     *cancellable,
                                      guint64          *bytes,
                                      MsgFlushOutcome  *outcome,
                                      MsgFlushNext     *next);

/* Files a prepared @item by the result of its send (@report, else
 * @error): deleted, set aside or put back (see MsgFlusher); sets @next
 * as _msg_flusher_prepare_one() does. */
MsgFlushOutcome _msg_flusher_file_one (MsgDropDirectory *directory,
                                       MsgDropMessage   *item,
                                       MsgSendReport    *report,
                                       const GError     *error,
                                       MsgFlushNext     *next);

/* The relays of a flush (msg-flusher-relays.c). */
typedef struct _MsgFlushRelays MsgFlushRelays;

MsgFlushRelays *_msg_flush_relays_new (MsgConfiguration *configuration,
                                       double            rate_limit,
                                       gboolean          post);
void            _msg_flush_relays_free (MsgFlushRelays *self);
gint            _msg_flush_relays_pick (MsgFlushRelays *self,
                                        guint           index);
const char     *_msg_flush_relays_get_server (MsgFlushRelays *self,
                                              guint           relay);
void            _msg_flush_relays_mark_down (MsgFlushRelays *self,
                                             guint           relay);
gboolean        _msg_flush_relays_wait_turn (MsgFlushRelays *self,
                                             guint           relay,
                                             GCancellable   *cancellable);

G_END_DECLS
