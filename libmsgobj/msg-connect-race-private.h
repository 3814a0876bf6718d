/* msg-connect-race-private.h: connecting to the first of several
 * addresses that answers (RFC 8305, Happy Eyeballs v2)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "msg-deadline-private.h"

#include <gio/gio.h>

G_BEGIN_DECLS

/* The delay after which the next address is tried while earlier attempts
 * are still pending (RFC 8305's "Connection Attempt Delay"). */
#define MSG_CONNECT_ATTEMPT_DELAY_MS 250

/* Connects to one of @addresses (a list of GInetAddress) on @port without
 * blocking, waiting on @context. Returns the connected socket (still
 * non-blocking), or NULL: *@result says whether every address failed
 * (MSG_DEADLINE_READY, @error set to the last failure), @until passed or
 * @cancellable fired (@error not set). */
GSocket *_msg_connect_race (GMainContext      *context,
                            GList             *addresses,
                            guint16            port,
                            gint64             until,
                            GCancellable      *cancellable,
                            MsgDeadlineResult *result,
                            GError           **error);

G_END_DECLS
