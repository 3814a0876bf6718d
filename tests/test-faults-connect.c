/* test-faults-connect.c: the promise while resolving and connecting
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Name lookups go through a GResolver of the test's (installed with
 * g_resolver_set_default()), so no real DNS is needed; like GLib's
 * threaded resolver on 2.74, its asynchronous lookup runs the blocking
 * one in GLib's shared worker pool, and a stalled lookup ignores
 * cancellation (as getaddrinfo() does). Host names:
 *
 *   stall.test     never answers, until the test releases it
 *   slow.test      answers 127.0.0.1 after SLOW_MS
 *   tempfail.test  fails with a temporary failure at once
 *   multi.test     answers the addresses the test set (multi_addresses)
 *   anything else  127.0.0.1
 *
 * Several addresses share the server's port: the healthy server listens
 * on 127.0.0.1, a black hole (a listener whose backlog is full: Linux
 * drops further SYNs) or nothing (refused) on 127.0.0.2 or ::1. Only
 * loopback traffic.
 *
 * Each case asserts the error and the elapsed time (limit + slack, both
 * scaled by MSGOBJ_TEST_TIME_SCALE), that the sockets and descriptors
 * are back to their baseline, that the server saw the close, and that
 * the same transport sends the next message.
 */
#include "config.h"

#include "test-faults-utils.h"
#include "test-utils.h"
#include "msg-test-server.h"

#include <signal.h>
#include <string.h>

/* Clocks, in ms, before scaling. */
#define UNIT_MS 300     /* the connection time-out of a case about it */
#define SLOW_MS 900     /* when slow.test answers: well after UNIT_MS */
#define HEALTHY_MS 1000 /* the bound of a send that must succeed */
#define LONG_MS 8000    /* a limit that must not be what ends the call */
#define SLACK_MS 250    /* ε: a loaded two-core machine, as the other fault suites */
#define N_STALLED 40

/* The test's resolver. */

static GMutex resolver_mutex;
static GCond  resolver_cond;
static guint  release_generation; /* a stalled lookup ends when it changes */
static guint  n_lookups;          /* started so far */
static guint  n_stalled;          /* stalled now */
static GList *multi_addresses;    /* (element-type GInetAddress) */

static void
release_stalled (void)
{
  g_mutex_lock (&resolver_mutex);
  release_generation++;
  g_cond_broadcast (&resolver_cond);
  while (n_stalled > 0)
    g_cond_wait (&resolver_cond, &resolver_mutex);
  g_mutex_unlock (&resolver_mutex);
}

/* Waits until @n lookups stall (a thread of the library's for each). */
static gboolean
wait_stalled (guint n)
{
  gint64   until = g_get_monotonic_time () + msg_test_ms_scaled (LONG_MS) * 1000;
  gboolean reached;

  g_mutex_lock (&resolver_mutex);
  while (n_stalled < n && g_cond_wait_until (&resolver_cond, &resolver_mutex, until))
    ;
  reached = n_stalled >= n;
  g_mutex_unlock (&resolver_mutex);
  return reached;
}

static guint
get_n_lookups (void)
{
  guint n;

  g_mutex_lock (&resolver_mutex);
  n = n_lookups;
  g_mutex_unlock (&resolver_mutex);
  return n;
}

static GList *
loopback_list (void)
{
  return g_list_prepend (NULL, g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4));
}

static GList *
lookup (const char *hostname,
        gpointer    data,
        GError    **error)
{
  g_mutex_lock (&resolver_mutex);
  n_lookups++;
  if (g_str_equal (hostname, "stall.test"))
    {
      guint generation = release_generation;

      n_stalled++;
      g_cond_broadcast (&resolver_cond);
      while (generation == release_generation)
        g_cond_wait (&resolver_cond, &resolver_mutex);
      n_stalled--;
      g_cond_broadcast (&resolver_cond);
      g_mutex_unlock (&resolver_mutex);
      g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_NOT_FOUND, "stall.test released");
      return NULL;
    }
  if (g_str_equal (hostname, "multi.test"))
    {
      GList *copy = g_list_copy_deep (multi_addresses, (GCopyFunc) g_object_ref, NULL);

      g_mutex_unlock (&resolver_mutex);
      return copy;
    }
  g_mutex_unlock (&resolver_mutex);

  if (g_str_equal (hostname, "slow.test"))
    {
      g_usleep (msg_test_ms_scaled (SLOW_MS) * 1000);
      return loopback_list ();
    }
  if (g_str_equal (hostname, "tempfail.test"))
    {
      g_set_error (error, G_RESOLVER_ERROR, G_RESOLVER_ERROR_TEMPORARY_FAILURE,
                   "Temporary failure in name resolution");
      return NULL;
    }
  return loopback_list ();
}

static void
set_multi_addresses (const char *const *texts)
{
  g_mutex_lock (&resolver_mutex);
  g_list_free_full (multi_addresses, g_object_unref);
  multi_addresses = NULL;
  for (guint i = 0; texts[i] != NULL; i++)
    multi_addresses = g_list_append (multi_addresses, g_inet_address_new_from_string (texts[i]));
  g_mutex_unlock (&resolver_mutex);
}

/* Servers, configurations, messages. */

static GTlsCertificate *tls_certificate;
static char            *tls_ca_file;

static MsgTestServer *
healthy_server (gboolean tls)
{
  MsgTestServer *server = msg_test_server_new (tls ? "starttls\n" MSG_TEST_SMTP_HEALTHY_SCRIPT : MSG_TEST_SMTP_HEALTHY_SCRIPT);

  if (tls)
    msg_test_server_set_tls (server, tls_certificate);
  return server;
}

/* @unit_ms: the connection time-out; @total_ms: the operation time-out
 * (0: automatic). */
static MsgTransport *
make_transport (const char *host,
                guint16     port,
                gboolean    tls,
                double      unit_ms,
                double      total_ms)
{
  g_autoptr (MsgConfiguration) configuration = msg_test_fault_configuration_new ("smtp", host, port, unit_ms, total_ms);

  msg_test_config_set (configuration, "smtpstarttls", "never");
  if (tls)
    {
      msg_test_config_set (configuration, "smtpusessl", "true");
      msg_test_config_set (configuration, "tlscafile", tls_ca_file);
    }
  return msg_test_fault_transport_new ("smtp", configuration);
}

/* Points @transport at a healthy server, through the test's resolver,
 * with clocks a healthy dialogue cannot miss. */
static void
retarget (MsgTransport  *transport,
          MsgTestServer *server)
{
  g_autoptr (MsgConfiguration) next = msg_configuration_copy (msg_transport_get_configuration (transport));
  g_autofree char *port = g_strdup_printf ("%u", msg_test_server_get_port (server));
  g_autofree char *unit = msg_test_seconds_text (LONG_MS);

  msg_test_config_set (next, "smtpserver", "healthy.test");
  msg_test_config_set (next, "smtpserverport", port);
  msg_test_config_set (next, "smtpconnectiontimeout", unit);
  msg_test_config_set (next, "smtpoperationtimeout", "0");
  msg_test_config_set (next, "smtpusessl", "false");
  msg_transport_set_configuration (transport, next);
}

static MsgMessage *
make_message (void)
{
  return msg_test_fault_message_new ("Connect faults", NULL, NULL);
}

static void
assert_send_ok (MsgTransport *transport)
{
  g_autoptr (MsgMessage) message = make_message ();

  msg_test_fault_assert_sent (transport, message, FALSE);
}

/* Running one send in a mode. */

/* The cancel trigger of a case: a lookup started above *@run->data, or
 * (data NULL) a socket above @run->sockets; then 50 ms more, well inside
 * the operation. */
static gboolean
wait_trigger (MsgTestRun *run)
{
  const guint *lookups = run->data;
  gint64       until = g_get_monotonic_time () + msg_test_ms_scaled (LONG_MS) * 1000;

  while (g_get_monotonic_time () < until)
    {
      if (lookups != NULL ? get_n_lookups () > *lookups : msg_test_count_sockets () > run->sockets)
        break;
      g_usleep (1000);
    }
  /* Past the trigger, well inside the operation. */
  g_usleep (msg_test_ms_scaled (50) * 1000);
  return TRUE;
}

/* A send of a new message on @run->transport in @run->mode, cancelled
 * (in a cancel mode) after the trigger of @lookups (nullable). */
static void
run_send (MsgTestRun  *run,
          const guint *lookups)
{
  g_autoptr (MsgMessage) message = make_message ();

  run->message = message;
  run->op = MSG_TEST_OP_SEND;
  run->wait_trigger = wait_trigger;
  run->data = (gpointer) lookups;
  msg_test_run_call (run);
  run->message = NULL;
  run->data = NULL;
  if (run->error != NULL)
    g_test_message ("error: %s", run->error->message);
  g_test_message ("elapsed %" G_GINT64_FORMAT " ms", (run->end - run->start) / 1000);
}

/* A failed call: cancelled within the slack of the cancel, or timed out
 * within the slack of @limit_ms after the call. */
static void
assert_failed_in_time (const MsgTestRun *run,
                       double            limit_ms)
{
  g_assert_false (run->ok);
  if (msg_test_mode_is_cancel (run->mode))
    {
      g_assert_error (run->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      g_assert_cmpint (run->cancelled_at, >, 0);
      g_assert_cmpint ((run->end - run->cancelled_at) / 1000, <=, msg_test_ms_scaled (SLACK_MS));
    }
  else
    {
      g_assert_error (run->error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
      g_assert_cmpint ((run->end - run->start) / 1000, >=, msg_test_ms_scaled (limit_ms) - 1);
      g_assert_cmpint ((run->end - run->start) / 1000, <=, msg_test_ms_scaled (limit_ms + SLACK_MS));
    }
}

/* The same transport sends the next message, to a healthy server; every
 * socket and descriptor is back once everything is gone. */
static void
assert_next_send_and_baseline (MsgTransport *transport,
                               unsigned      base_fds,
                               unsigned      base_sockets)
{
  /* (transfer full) @transport */
  g_autoptr (MsgTestServer) healthy = healthy_server (FALSE);
  g_autoptr (GError) error = NULL;

  retarget (transport, healthy);
  assert_send_ok (transport);
  g_assert_true (msg_transport_close (transport, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (msg_test_server_wait_closed (healthy, (unsigned) msg_test_ms_scaled (LONG_MS)));
  g_assert_null (msg_test_server_get_error (healthy));
  g_clear_pointer (&healthy, msg_test_server_free);
  g_object_unref (transport);
  g_assert_cmpuint (msg_test_wait_sockets (base_sockets, msg_test_ms_scaled (1000)), ==, base_sockets);
  g_assert_cmpuint (msg_test_wait_fds (base_fds, (unsigned) msg_test_ms_scaled (1000)), ==, base_fds);
}

/* DNS. */

typedef enum
{
  DNS_STALLED,
  DNS_SLOW,
  DNS_TEMPORARY_FAILURE,
} DnsFault;

typedef struct
{
  DnsFault    fault;
  MsgTestMode mode;
} DnsCase;

static void
test_dns (gconstpointer data)
{
  const DnsCase           *c = data;
  static const char *const hosts[] = { "stall.test", "slow.test", "tempfail.test" };
  unsigned                 base_fds = msg_test_count_fds ();
  unsigned                 base_sockets = msg_test_count_sockets ();
  g_autoptr (MsgTestServer) server = healthy_server (FALSE);
  g_autoptr (MsgTransport) transport = NULL;
  double     unit_ms = msg_test_mode_is_cancel (c->mode) ? LONG_MS : UNIT_MS;
  guint      lookups;
  MsgTestRun run = { 0 };

  transport = make_transport (hosts[c->fault], msg_test_server_get_port (server), FALSE, unit_ms, 0);
  run.transport = transport;
  run.mode = c->mode;
  lookups = get_n_lookups ();
  run_send (&run, &lookups);

  if (c->fault == DNS_TEMPORARY_FAILURE)
    {
      /* At once, naming the host; not a clock's error. */
      g_assert_false (run.ok);
      g_assert_nonnull (run.error);
      g_assert_nonnull (strstr (run.error->message, "tempfail.test"));
      g_assert_false (g_error_matches (run.error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT));
      g_assert_false (g_error_matches (run.error, G_IO_ERROR, G_IO_ERROR_CANCELLED));
      g_assert_cmpint ((run.end - run.start) / 1000, <=, msg_test_ms_scaled (SLACK_MS));
    }
  else
    {
      assert_failed_in_time (&run, UNIT_MS);
      if (!msg_test_mode_is_cancel (c->mode))
        g_assert_nonnull (strstr (run.error->message, "resolving the name of"));
    }

  if (c->fault == DNS_SLOW)
    {
      /* The late answer is dropped: nobody connects to it. */
      g_usleep (msg_test_ms_scaled (SLOW_MS + SLACK_MS) * 1000);
      g_assert_cmpuint (msg_test_server_get_n_connections (server), ==, 0);
    }
  release_stalled ();
  g_clear_pointer (&server, msg_test_server_free);

  msg_test_run_clear (&run);
  assert_next_send_and_baseline (g_steal_pointer (&transport), base_fds, base_sockets);
}

/* Several addresses. */

typedef enum
{
  ADDR_HEALTHY,
  ADDR_BLACK_HOLE,
  ADDR_REFUSED,
} AddressKind;

typedef struct
{
  const char *name;
  const char *addresses[4]; /* the resolver's answer, in its order */
  AddressKind kinds[4];
  gboolean    succeeds; /* else every address fails: the connect clock */
} MultiCase;

static const MultiCase multi_cases[] = {
  { "first-black-holed", { "127.0.0.2", "127.0.0.1" }, { ADDR_BLACK_HOLE, ADDR_HEALTHY }, TRUE },
  { "first-refused", { "127.0.0.2", "127.0.0.1" }, { ADDR_REFUSED, ADDR_HEALTHY }, TRUE },
  { "ipv6-black-holed", { "127.0.0.1", "::1" }, { ADDR_HEALTHY, ADDR_BLACK_HOLE }, TRUE },
  { "ipv6-refused", { "::1", "127.0.0.1" }, { ADDR_REFUSED, ADDR_HEALTHY }, TRUE },
  { "two-black-holed-first", { "127.0.0.2", "127.0.0.3", "127.0.0.1" }, { ADDR_BLACK_HOLE, ADDR_BLACK_HOLE, ADDR_HEALTHY }, TRUE },
  { "all-black-holed", { "127.0.0.2", "::1", "127.0.0.3" }, { ADDR_BLACK_HOLE, ADDR_BLACK_HOLE, ADDR_BLACK_HOLE }, FALSE },
};

typedef struct
{
  const MultiCase *multi;
  MsgTestMode      mode;
} MultiRun;

static void
test_multi (gconstpointer data)
{
  const MultiRun  *m = data;
  const MultiCase *c = m->multi;
  unsigned         base_fds = msg_test_count_fds ();
  unsigned         base_sockets = msg_test_count_sockets ();
  g_autoptr (MsgTestServer) server = healthy_server (FALSE);
  g_autoptr (MsgTransport) transport = NULL;
  g_autoptr (GPtrArray) holes = g_ptr_array_new_with_free_func ((GDestroyNotify) msg_test_black_hole_free);
  guint16    port = msg_test_server_get_port (server);
  unsigned   sockets;
  double     unit_ms;
  MsgTestRun run = { 0 };

  for (guint i = 0; c->addresses[i] != NULL; i++)
    if (c->kinds[i] == ADDR_BLACK_HOLE)
      {
        g_ptr_array_add (holes, msg_test_black_hole_new_at (c->addresses[i], port));
      }
  set_multi_addresses (c->addresses);
  sockets = msg_test_count_sockets ();

  /* A send that must get through has the clocks of the issue: 1 s for
   * the connect (one clock for every address) and for the whole send. */
  unit_ms = c->succeeds ? HEALTHY_MS : UNIT_MS;
  if (msg_test_mode_is_cancel (m->mode))
    unit_ms = LONG_MS;
  transport = make_transport ("multi.test", port, FALSE, unit_ms, c->succeeds ? HEALTHY_MS : 0);
  run.transport = transport;
  run.mode = m->mode;
  run.sockets = sockets;
  run_send (&run, NULL);

  if (c->succeeds && !msg_test_mode_is_cancel (m->mode))
    {
      g_assert_no_error (run.error);
      g_assert_true (run.ok);
      g_assert_cmpint ((run.end - run.start) / 1000, <=, msg_test_ms_scaled (HEALTHY_MS));
      /* The losers were closed at once: the kept connection is ours and
       * the server's socket, nothing more. */
      g_assert_cmpuint (msg_test_count_sockets (), ==, sockets + 2);
      g_assert_cmpuint (msg_test_server_get_n_connections (server), ==, 1);
    }
  else
    {
      assert_failed_in_time (&run, UNIT_MS);
      if (!msg_test_mode_is_cancel (m->mode))
        {
          g_autofree char *where = g_strdup_printf ("multi.test:%u", port);

          g_assert_nonnull (strstr (run.error->message, where));
        }
      g_assert_cmpuint (msg_test_wait_sockets (sockets, msg_test_ms_scaled (SLACK_MS)), ==, sockets);
    }

  g_clear_pointer (&holes, g_ptr_array_unref);
  if (run.ok)
    {
      g_autoptr (GError) error = NULL;

      g_assert_true (msg_transport_close (transport, NULL, &error));
      g_assert_no_error (error);
    }
  if (msg_test_server_get_n_connections (server) > 0)
    g_assert_true (msg_test_server_wait_closed (server, (unsigned) msg_test_ms_scaled (LONG_MS)));
  g_assert_null (msg_test_server_get_error (server));
  g_clear_pointer (&server, msg_test_server_free);
  msg_test_run_clear (&run);
  assert_next_send_and_baseline (g_steal_pointer (&transport), base_fds, base_sockets);
}

/* Pool starvation: stalled lookups must not hold the threads another
 * operation's TLS handshake needs. */

static void
stalled_done (GObject      *source,
              GAsyncResult *result,
              gpointer      data)
{
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;

  report = msg_transport_send_message_finish (MSG_TRANSPORT (source), result, &error);
  g_assert_null (report);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  (*(unsigned *) data)--;
}

static void
test_pool_starvation (void)
{
  unsigned base_fds = msg_test_count_fds ();
  unsigned base_sockets = msg_test_count_sockets ();
  g_autoptr (MsgTestServer) server = healthy_server (TRUE);
  g_autoptr (GPtrArray) transports = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) messages = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (MsgTransport) transport = NULL;
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  unsigned pending = N_STALLED;
  gint64   start;

  /* Each send gives up on its lookup once all of them stall (a lookup
   * given up before its thread started would never run). */
  for (unsigned i = 0; i < N_STALLED; i++)
    {
      MsgTransport *stalled = make_transport ("stall.test", 25, FALSE, LONG_MS, 0);
      MsgMessage   *stalled_message = make_message ();

      g_ptr_array_add (transports, stalled);
      g_ptr_array_add (messages, stalled_message);
      msg_transport_send_message_async (stalled, stalled_message, cancellable, stalled_done, &pending);
    }
  g_assert_true (wait_stalled (N_STALLED));
  g_cancellable_cancel (cancellable);
  while (pending > 0)
    g_main_context_iteration (NULL, TRUE);

  /* The lookups still stall; a healthy implicit-TLS send to a name meets
   * its 1 s limit. */
  transport = make_transport ("localhost", msg_test_server_get_port (server), TRUE, HEALTHY_MS, HEALTHY_MS);
  start = g_get_monotonic_time ();
  report = msg_transport_send_message (transport, message, NULL, &error);
  g_test_message ("elapsed %" G_GINT64_FORMAT " ms", (g_get_monotonic_time () - start) / 1000);
  g_assert_no_error (error);
  g_assert_nonnull (report);
  g_assert_cmpint ((g_get_monotonic_time () - start) / 1000, <=, msg_test_ms_scaled (HEALTHY_MS));
  g_assert_true (msg_transport_close (transport, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (msg_test_server_wait_closed (server, (unsigned) msg_test_ms_scaled (LONG_MS)));
  g_assert_null (msg_test_server_get_error (server));
  g_clear_pointer (&server, msg_test_server_free);

  release_stalled ();
  g_clear_pointer (&transports, g_ptr_array_unref);
  assert_next_send_and_baseline (g_steal_pointer (&transport), base_fds, base_sockets);
}

/* A TLS backend that does not heed cancellation: the handshake of
 * glib-networking runs in GLib's shared worker pool, here full of the
 * application's blocked tasks, so it never even starts. The call must
 * still return at its clock, the server see the close at once, and the
 * descriptor be closed only once the handshake let go of it. */

#define N_BLOCKERS 16 /* more than the pool's 10 threads (GLib 2.74) */

static gboolean blockers_released;
static guint    n_blocking;
static guint    n_blockers_done;

static void
blocker_thread (GTask        *task,
                gpointer      source,
                gpointer      task_data,
                GCancellable *cancellable)
{
  g_mutex_lock (&resolver_mutex);
  n_blocking++;
  g_cond_broadcast (&resolver_cond);
  while (!blockers_released)
    g_cond_wait (&resolver_cond, &resolver_mutex);
  n_blockers_done++;
  g_cond_broadcast (&resolver_cond);
  g_mutex_unlock (&resolver_mutex);
  g_task_return_boolean (task, TRUE);
}

static void
block_pool (void)
{
  gint64 until = g_get_monotonic_time () + msg_test_ms_scaled (LONG_MS) * 1000;

  blockers_released = FALSE;
  n_blocking = n_blockers_done = 0;
  for (unsigned i = 0; i < N_BLOCKERS; i++)
    {
      g_autoptr (GTask) task = g_task_new (NULL, NULL, NULL, NULL);

      g_task_run_in_thread (task, blocker_thread);
    }
  /* Every thread of the pool is blocked. */
  g_mutex_lock (&resolver_mutex);
  while (n_blocking < 10 && g_cond_wait_until (&resolver_cond, &resolver_mutex, until))
    ;
  g_assert_cmpuint (n_blocking, >=, 10);
  g_mutex_unlock (&resolver_mutex);
}

static void
unblock_pool (void)
{
  g_mutex_lock (&resolver_mutex);
  blockers_released = TRUE;
  g_cond_broadcast (&resolver_cond);
  while (n_blockers_done < N_BLOCKERS)
    g_cond_wait (&resolver_cond, &resolver_mutex);
  g_mutex_unlock (&resolver_mutex);
}

static void
test_handshake_starved (gconstpointer data)
{
  MsgTestMode mode = GPOINTER_TO_INT (data);
  unsigned    base_fds = msg_test_count_fds ();
  unsigned    base_sockets = msg_test_count_sockets ();
  g_autoptr (MsgTestServer) server = msg_test_server_new ("tls-stall\n");
  g_autoptr (MsgTransport) transport = NULL;
  MsgTestRun run = { 0 };

  transport = make_transport ("127.0.0.1", msg_test_server_get_port (server), TRUE,
                              msg_test_mode_is_cancel (mode) ? LONG_MS : UNIT_MS, 0);
  block_pool ();
  run.transport = transport;
  run.mode = mode;
  run.sockets = msg_test_count_sockets ();
  run_send (&run, NULL);
  assert_failed_in_time (&run, UNIT_MS);
  /* Shut down at once: the server saw the close while the handshake
   * still holds the socket. */
  g_assert_true (msg_test_server_wait_closed (server, (unsigned) msg_test_ms_scaled (SLACK_MS)));
  g_assert_null (msg_test_server_get_error (server));

  unblock_pool ();
  g_clear_pointer (&server, msg_test_server_free);
  msg_test_run_clear (&run);
  assert_next_send_and_baseline (g_steal_pointer (&transport), base_fds, base_sockets);
}

/* Setup. */

static void
warm_up_done (GObject      *source,
              GAsyncResult *result,
              gpointer      data)
{
  g_autoptr (MsgSendReport) report = msg_transport_send_message_finish (MSG_TRANSPORT (source), result, NULL);

  g_assert_nonnull (report);
  *(gboolean *) data = TRUE;
}

/* The first TLS handshake, the first asynchronous send and the first
 * lookup make descriptors GLib keeps for the process's life: make them
 * before any baseline. */
static void
warm_up (void)
{
  g_autoptr (MsgTestServer) server = healthy_server (FALSE);
  g_autoptr (MsgTransport) transport = make_transport ("healthy.test", msg_test_server_get_port (server),
                                                       FALSE, LONG_MS, 0);
  g_autoptr (MsgMessage) message = make_message ();
  gboolean done = FALSE;

  msg_test_warm_up_tls (tls_certificate, tls_ca_file);
  msg_transport_send_message_async (transport, message, NULL, warm_up_done, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (msg_transport_close (transport, NULL, NULL));
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr (GResolver) resolver = NULL;

  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  (void) g_main_context_default ();
  signal (SIGPIPE, SIG_IGN);
  resolver = msg_test_resolver_new (lookup, NULL);
  g_resolver_set_default (resolver);
  tls_certificate = msg_test_make_tls_certificate (NULL, &tls_ca_file);

  {
    static const char *const dns_names[] = { "stalled", "slow", "temporary-failure" };
    static DnsCase           dns_cases[3][4];

    for (DnsFault f = DNS_STALLED; f <= DNS_TEMPORARY_FAILURE; f++)
      for (MsgTestMode mode = MSG_TEST_MODE_SYNC; mode <= MSG_TEST_MODE_CANCEL_LOOP; mode++)
        {
          g_autofree char *path = NULL;

          if (f == DNS_TEMPORARY_FAILURE && msg_test_mode_is_cancel (mode))
            continue;
          dns_cases[f][mode] = (DnsCase){ f, mode };
          path = g_strdup_printf ("/faults/connect/dns/%s/%s", dns_names[f], msg_test_mode_names[mode]);
          g_test_add_data_func (path, &dns_cases[f][mode], test_dns);
        }
  }
  {
    static MultiRun multi_runs[G_N_ELEMENTS (multi_cases)][4];

    for (guint i = 0; i < G_N_ELEMENTS (multi_cases); i++)
      for (MsgTestMode mode = MSG_TEST_MODE_SYNC; mode <= MSG_TEST_MODE_CANCEL_LOOP; mode++)
        {
          g_autofree char *path = NULL;

          /* A cancel during the race: where every address stalls. */
          if (msg_test_mode_is_cancel (mode) && multi_cases[i].succeeds)
            continue;
          multi_runs[i][mode] = (MultiRun){ &multi_cases[i], mode };
          path = g_strdup_printf ("/faults/connect/addresses/%s/%s", multi_cases[i].name, msg_test_mode_names[mode]);
          g_test_add_data_func (path, &multi_runs[i][mode], test_multi);
        }
  }
  g_test_add_func ("/faults/connect/pool-starvation/tls", test_pool_starvation);
  for (MsgTestMode mode = MSG_TEST_MODE_SYNC; mode <= MSG_TEST_MODE_CANCEL_LOOP; mode++)
    {
      g_autofree char *path = g_strdup_printf ("/faults/connect/tls/handshake-starved/%s", msg_test_mode_names[mode]);

      g_test_add_data_func (path, GINT_TO_POINTER (mode), test_handshake_starved);
    }

  warm_up ();
  return g_test_run ();
}
