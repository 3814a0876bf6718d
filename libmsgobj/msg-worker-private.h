/* msg-worker-private.h: work on threads the library owns
 *
 * Name lookups and TLS handshakes may block for longer than any clock of
 * an operation (a DNS server that never answers, a TLS backend that
 * ignores cancellation). They run as jobs on threads of the library's
 * own, never in GLib's shared worker pool, and the operation waits for a
 * job with its two clocks and its cancellable. A job the operation gave
 * up on is abandoned: it runs to its end on its thread, nobody waits for
 * it, and its result is dropped there.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "msg-deadline-private.h"

#include <gio/gio.h>

G_BEGIN_DECLS

/* At most this many name lookups run at once, stuck ones included;
 * further lookups wait for a thread, under their own clocks. */
#define MSG_WORKER_MAX_RESOLVERS 64

typedef struct _MsgWorkerJob MsgWorkerJob;

/* Looks @host up with @resolver on a resolver thread. */
MsgWorkerJob *_msg_worker_resolve (GMainContext *context,
                                   GResolver    *resolver,
                                   const char   *host);
/* The addresses (transfer full), or NULL with @error set. */
GList *_msg_worker_resolve_finish (MsgWorkerJob *job,
                                   GError      **error);

/* Performs the handshake of @tls on a handshake thread. */
MsgWorkerJob *_msg_worker_handshake (GMainContext   *context,
                                     GTlsConnection *tls);
gboolean      _msg_worker_handshake_finish (MsgWorkerJob *job,
                                            GError      **error);

/* Waits on the job's context until the job is done, @until passes or
 * @cancellable fires. */
MsgDeadlineResult _msg_worker_job_wait (MsgWorkerJob *job,
                                        gint64        until,
                                        GCancellable *cancellable);

/* Drops the caller's reference; a job not done is abandoned (its own
 * cancellable is cancelled). */
void _msg_worker_job_unref (MsgWorkerJob *job);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgWorkerJob, _msg_worker_job_unref)

G_END_DECLS
