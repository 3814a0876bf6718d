/* msg-worker.c: work on threads the library owns
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-worker-private.h"

#include "msg-deadline-private.h"

#include <netdb.h>
#include <string.h>
#include <sys/socket.h>

typedef enum
{
  JOB_RESOLVE,
  JOB_HANDSHAKE,
} JobKind;

struct _MsgWorkerJob
{
  gatomicrefcount ref_count; /* the caller's and the thread's */
  int             done;      /* atomic: set by the thread */
  int             abandoned; /* atomic: set by the caller */
  JobKind         kind;
  GMutex          mutex;     /* guards context */
  GMainContext   *context;   /* (owned) (nullable) woken up when done;
                              * dropped when abandoned, so a stuck job
                              * holds no descriptor of the caller's */
  GCancellable *cancellable; /* (owned) cancelled when abandoned */

  GResolver *resolver;  /* (owned) (nullable) */
  char      *host;      /* (owned) (nullable) */
  GList     *addresses; /* (owned) (element-type GInetAddress) */

  GTlsConnection *tls; /* (owned) (nullable) */
  gboolean        ok;

  GError *error; /* (owned) (nullable) */
};

static void
job_unref (MsgWorkerJob *job)
{
  if (!g_atomic_ref_count_dec (&job->ref_count))
    return;
  g_clear_object (&job->resolver);
  g_free (job->host);
  g_list_free_full (job->addresses, g_object_unref);
  /* When the job was abandoned, this drops the last reference to the TLS
   * connection and so to its socket: the descriptor is closed only now
   * that nothing uses it any more. */
  g_clear_object (&job->tls);
  g_clear_error (&job->error);
  g_object_unref (job->cancellable);
  g_clear_pointer (&job->context, g_main_context_unref);
  g_mutex_clear (&job->mutex);
  g_free (job);
}

/* getaddrinfo() with the hints of GLib's GThreadedResolver, and its
 * errors. GThreadedResolver itself runs every lookup, the synchronous
 * one too, in GLib's shared worker pool (GLib 2.74), where a lookup that
 * never returns would hold a thread other operations need. */
static GList *
lookup_getaddrinfo (const char *host,
                    GError    **error)
{
  struct addrinfo  hints = { 0 };
  struct addrinfo *result = NULL;
  g_autofree char *ascii = g_hostname_to_ascii (host);
  GList           *addresses = NULL;
  int              status;

  if (ascii == NULL)
    {
      g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
                   "Invalid host name “%s”", host);
      return NULL;
    }
  hints.ai_flags = AI_ADDRCONFIG;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  status = getaddrinfo (ascii, NULL, &hints, &result);
  if (status != 0)
    {
      GResolverError code = G_RESOLVER_ERROR_INTERNAL;

      if (status == EAI_NONAME || status == EAI_FAIL
#ifdef EAI_NODATA
          || status == EAI_NODATA
#endif
      )
        code = G_RESOLVER_ERROR_NOT_FOUND;
      else if (status == EAI_AGAIN)
        code = G_RESOLVER_ERROR_TEMPORARY_FAILURE;
      g_set_error (error, G_RESOLVER_ERROR, code, "Error resolving “%s”: %s",
                   host, gai_strerror (status));
      return NULL;
    }
  for (struct addrinfo *ai = result; ai != NULL; ai = ai->ai_next)
    {
      g_autoptr (GSocketAddress) socket_address = g_socket_address_new_from_native (ai->ai_addr, ai->ai_addrlen);
      GInetAddress *address;
      gboolean      seen = FALSE;

      if (socket_address == NULL || !G_IS_INET_SOCKET_ADDRESS (socket_address))
        continue;
      address = g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (socket_address));
      for (GList *l = addresses; l != NULL && !seen; l = l->next)
        seen = g_inet_address_equal (l->data, address);
      if (!seen)
        addresses = g_list_prepend (addresses, g_object_ref (address));
    }
  freeaddrinfo (result);
  if (addresses == NULL)
    g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND,
                 "Error resolving “%s”: no address", host);
  return g_list_reverse (addresses);
}

static GList *
lookup (MsgWorkerJob *job)
{
  GType threaded = g_type_from_name ("GThreadedResolver");

  if (threaded != 0 && G_OBJECT_TYPE (job->resolver) == threaded)
    return lookup_getaddrinfo (job->host, &job->error);
  /* Another resolver (a test's, an application's): its synchronous
   * lookup, on this thread. */
  return g_resolver_lookup_by_name (job->resolver, job->host, job->cancellable, &job->error);
}

static void
handshake_done_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* The asynchronous handshake, on a context of this thread's own: the
 * backend emits accept-certificate there, and this thread dispatches it
 * (a synchronous handshake would use the global default context, which
 * the application's main loop may own). */
static gboolean
handshake (MsgWorkerJob *job)
{
  GMainContext *context = _msg_main_context_try_new (&job->error);
  GAsyncResult *result = NULL;
  gboolean      ok;

  if (context == NULL)
    return FALSE;
  g_main_context_push_thread_default (context);
  g_tls_connection_handshake_async (job->tls, G_PRIORITY_DEFAULT, job->cancellable, handshake_done_cb, &result);
  while (result == NULL)
    g_main_context_iteration (context, TRUE);
  ok = g_tls_connection_handshake_finish (job->tls, result, &job->error);
  g_object_unref (result);
  g_main_context_pop_thread_default (context);
  g_main_context_unref (context);
  return ok;
}

static void
job_run (gpointer data,
         gpointer pool_data)
{
  MsgWorkerJob *job = data;

  if (!g_atomic_int_get (&job->abandoned))
    {
      if (job->kind == JOB_RESOLVE)
        job->addresses = lookup (job);
      else
        job->ok = handshake (job);
    }
  g_atomic_int_set (&job->done, TRUE);
  g_mutex_lock (&job->mutex);
  if (job->context != NULL)
    g_main_context_wakeup (job->context);
  g_mutex_unlock (&job->mutex);
  job_unref (job);
}

/* The pools: resolver threads bounded (a lookup may never return), and
 * handshake threads, one per handshake in progress (an abandoned one ends
 * as soon as its socket is shut down). Not exclusive: idle threads go
 * back to GLib's set of unused threads. */
static GThreadPool *
get_pool (JobKind kind)
{
  static GThreadPool *pools[2];
  static gsize        initialized;

  if (g_once_init_enter (&initialized))
    {
      pools[JOB_RESOLVE] = g_thread_pool_new (job_run, NULL, MSG_WORKER_MAX_RESOLVERS, FALSE, NULL);
      pools[JOB_HANDSHAKE] = g_thread_pool_new (job_run, NULL, -1, FALSE, NULL);
      g_once_init_leave (&initialized, 1);
    }
  return pools[kind];
}

static MsgWorkerJob *
job_new (JobKind       kind,
         GMainContext *context)
{
  MsgWorkerJob *job = g_new0 (MsgWorkerJob, 1);

  g_atomic_ref_count_init (&job->ref_count);
  job->kind = kind;
  g_mutex_init (&job->mutex);
  job->context = g_main_context_ref (context);
  job->cancellable = g_cancellable_new ();
  return job;
}

static void
job_push (MsgWorkerJob *job)
{
  g_autoptr (GError) error = NULL;

  g_atomic_ref_count_inc (&job->ref_count);
  if (!g_thread_pool_push (get_pool (job->kind), job, &error))
    {
      /* No thread could be made: the job fails, on this thread. */
      job->error = g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED, "Could not start a thread: %s",
                                error->message);
      g_atomic_int_set (&job->abandoned, TRUE);
      job_run (job, NULL);
    }
}

MsgWorkerJob *
_msg_worker_resolve (GMainContext *context,
                     GResolver    *resolver,
                     const char   *host)
{
  MsgWorkerJob *job = job_new (JOB_RESOLVE, context);

  job->resolver = g_object_ref (resolver);
  job->host = g_strdup (host);
  job_push (job);
  return job;
}

GList *
_msg_worker_resolve_finish (MsgWorkerJob *job,
                            GError      **error)
{
  g_return_val_if_fail (g_atomic_int_get (&job->done), NULL);

  if (job->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&job->error));
      return NULL;
    }
  return g_steal_pointer (&job->addresses);
}

MsgWorkerJob *
_msg_worker_handshake (GMainContext   *context,
                       GTlsConnection *tls)
{
  MsgWorkerJob *job = job_new (JOB_HANDSHAKE, context);

  job->tls = g_object_ref (tls);
  job_push (job);
  return job;
}

gboolean
_msg_worker_handshake_finish (MsgWorkerJob *job,
                              GError      **error)
{
  g_return_val_if_fail (g_atomic_int_get (&job->done), FALSE);

  if (job->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&job->error));
      return FALSE;
    }
  return job->ok;
}

MsgDeadlineResult
_msg_worker_job_wait (MsgWorkerJob *job,
                      gint64        until,
                      GCancellable *cancellable)
{
  return _msg_deadline_wait_for_flag (job->context, &job->done, until, cancellable);
}

void
_msg_worker_job_unref (MsgWorkerJob *job)
{
  if (!g_atomic_int_get (&job->done))
    {
      GMainContext *context;

      g_atomic_int_set (&job->abandoned, TRUE);
      g_cancellable_cancel (job->cancellable);
      g_mutex_lock (&job->mutex);
      context = g_steal_pointer (&job->context);
      g_mutex_unlock (&job->mutex);
      g_main_context_unref (context);
    }
  job_unref (job);
}
