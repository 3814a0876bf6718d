/* msg-transport-private.h: what the library's own users of a transport
 * (the flusher) set on it beyond the public API
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "msg-transport.h"

G_BEGIN_DECLS

/* Where the caller's functions run for @self's operations from now on:
 * the configuration's passphrase function and the need-token handlers, in
 * @context (nullable: unset) instead of the thread-default main context
 * of each call. For a transport whose calls are made on a library thread
 * on behalf of a caller elsewhere (the flusher's connections): gjs runs
 * JavaScript only in its own thread, and a GNOME library calls an
 * application back where the application called it. Progress and
 * completion still go to each call's context. */
void _msg_transport_set_caller_context (MsgTransport *self,
                                        GMainContext *context);

G_END_DECLS
