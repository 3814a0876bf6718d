/* msg-transport-operation-private.h: a transport's state and its
 * operations, shared by msg-transport.c (the queue) and
 * msg-transport-implementation.c (what implementations call during one)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "msg-dkim-signer-private.h"
#include "msg-message-crypto-private.h"
#include "msg-thread-private.h"
#include "msg-transport.h"

G_BEGIN_DECLS

typedef struct _Operation Operation;

typedef struct
{
  GMutex            lock;
  MsgConfiguration *configuration;  /* (owned) */
  char             *name;           /* (owned) (nullable) */
  Operation        *running;        /* (nullable): under the lock */
  GQueue            waiting;        /* (element-type Operation): under the lock, in call order */
  gboolean          in_caller;      /* atomic: run-in-caller-context */
  MsgDkimSigner    *dkim;           /* (owned) (nullable): the last send's signer, under the lock */
  GMainContext     *caller_context; /* (owned) (nullable): under the lock; _msg_transport_set_caller_context() */
} MsgTransportPrivate;

typedef enum
{
  OP_SEND,
  OP_POST,
  OP_CLOSE,
} OpKind;

/* One call: made at the call, in the queue until its turn, then run in the
 * caller's thread (sync) or its worker thread (async). docs/design.md,
 * decision 12. */
struct _Operation
{
  MsgTransport     *self; /* (owned) */
  OpKind            kind;
  MsgMessage       *message;       /* (owned) (nullable): claimed until it ends */
  MsgConfiguration *configuration; /* (owned): the snapshot taken at the call */
  GMainContext     *context;       /* (owned) (nullable): the async caller's */
  GMainContext     *caller;        /* (owned) (nullable): where the caller's functions run */
  gint64            start;         /* the call, on the monotonic clock */
  gint64            last_progress;
  MsgDkimSigner    *dkim;        /* (owned) (nullable): when a send is to be signed */
  gboolean          seal;        /* a send signed or encrypted as crypto* ask */
  MsgSealedSend    *sealed;      /* (owned) (nullable): the body to put back */
  GCancellable     *cancellable; /* (owned) (nullable): the call's */
  GCond             cond;        /* signalled when its turn comes */
  /* An async call waits in the queue without a thread: its task until
   * a thread runs it (at its turn, cancellation or deadline; under the
   * transport's lock), its return prepared at the call, and the handler
   * that starts it when cancelled (disconnected by that thread). */
  GTask         *task; /* (owned) (nullable) */
  MsgTaskReturn *ret;
  gulong         cancel_handler;
  gboolean       turn; /* under the transport's lock */
  /* Under the transport's lock: one thread at a time reads the message
   * of a queued send, either its own (measuring it for the automatic
   * deadline) or the running send's (pipelining its envelope). */
  gboolean measuring;
  gboolean peeked;
  gboolean claimed; /* the message, until release_message() */
};

typedef enum
{
  MSG_TRANSPORT_SIGNAL_PROGRESS,
  MSG_TRANSPORT_SIGNAL_NEED_TOKEN,
  MSG_TRANSPORT_N_SIGNALS,
} MsgTransportSignal;

MsgTransportPrivate *_msg_transport_get_private (MsgTransport *self);

/* The operation of @self running in this thread, or NULL. */
Operation *_msg_transport_current_operation (MsgTransport *self);

/* The total deadline of a queued send or post, as
 * msg_transport_get_operation_deadline() will compute it when it runs;
 * @automatic: whether it is the automatic one. */
gint64 _msg_transport_queued_deadline (Operation *op,
                                       gboolean  *automatic);

guint _msg_transport_get_signal (MsgTransportSignal which);

G_END_DECLS
