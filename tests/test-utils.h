/* test-utils.h: helpers shared by the C test suites
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <msgobj.h>

#include "msg-test-server.h"

G_BEGIN_DECLS

/* Installs a log writer that keeps every message (the protocol trace
 * with G_MESSAGES_DEBUG=msgobj) for msg_test_steal_log(). A warning or
 * critical fails the test, except the warning that tlsverify=false must
 * give (tests check it). Call once, before g_test_run(). */
void msg_test_capture_log (void);

/* Returns what was logged since the last call, and forgets it. */
char *msg_test_steal_log (void);

/* Number of open file descriptors of this process. */
unsigned msg_test_count_fds (void);

/* Waits up to @timeout_ms for the number of open descriptors to come down
 * to @expected (threads of GIO's pool may drop their last reference to a
 * stream a moment after the call that used it returned); returns the
 * count at the end. */
unsigned msg_test_wait_fds (unsigned expected,
                            unsigned timeout_ms);

/* Number of open socket descriptors of this process. */
unsigned msg_test_count_sockets (void);

/* The factor by which timing tests scale their limits and slack: the
 * environment variable MSGOBJ_TEST_TIME_SCALE (a number >= 1, for slow
 * runs such as valgrind's), else 1. */
double msg_test_time_scale (void);

/* @ms milliseconds scaled by msg_test_time_scale(), as a whole number. */
gint64 msg_test_ms_scaled (double ms);

/* @ms milliseconds scaled by msg_test_time_scale(), in seconds as a
 * configuration field takes them ("1.5"). */
char *msg_test_seconds_text (double ms);

/* Waits up to @timeout_ms for the number of open sockets to be
 * @expected; returns the count at the end. */
unsigned msg_test_wait_sockets (unsigned expected,
                                gint64   timeout_ms);

/* Asserts that @start_us (from g_get_monotonic_time) is at most
 * @limit_ms milliseconds ago, @limit_ms scaled by msg_test_time_scale()
 * (under valgrind the work around a time-out runs many times slower). */
#define msg_test_assert_elapsed_below(start_us, limit_ms)             \
  g_assert_cmpint ((g_get_monotonic_time () - (start_us)) / 1000, <=, \
                   (gint64) ((limit_ms) *msg_test_time_scale ()))

/* Whether a file whose path contains @name is mapped into this process
 * (a library or module loaded). */
gboolean msg_test_is_mapped (const char *name);

/* A fresh temporary directory under the test's isolated tmp; free with
 * msg_test_remove_tree(). */
char *msg_test_make_temp_dir (void);

/* A port on 127.0.0.1 where nothing listens: connecting is refused. The
 * socket that holds it (bound, never listening) is returned: keep it
 * while the port is used, so that no other process (a parallel test's
 * server) can take the port meanwhile. */
GSocket *msg_test_dead_port_new (guint16 *port);
/* A black hole on 127.0.0.1 (its port in @port): a listener whose backlog
 * is full of the test's own connections, so that the kernel drops further
 * SYNs and a client's connect stays pending until its time-out. Free with
 * msg_test_black_hole_free(). */
GPtrArray *msg_test_black_hole_new (guint16 *port);
/* The same on @address (an IPv4 or IPv6 literal) and @port (0: any free
 * one), for a test that needs the black hole at a given place. */
GPtrArray *msg_test_black_hole_new_at (const char *address,
                                       guint16     port);
void       msg_test_black_hole_free (GPtrArray *sockets);
void       msg_test_remove_tree (const char *path);

/* Makes, at test time, a test CA and a server certificate signed by it
 * for @names (IP addresses or DNS names; NULL for "127.0.0.1" and
 * "localhost"), with the openssl command, in a fresh directory under the
 * test's temporary directory. Returns the server certificate with its
 * private key; *ca_file (optional) gets the path of the CA's PEM file
 * (free it). No key is ever committed. */
GTlsCertificate *msg_test_make_tls_certificate (const char *const *names,
                                                char             **ca_file);

/* Runs the openssl command with @args (NULL-terminated, without the
 * program's name) in @dir, asserting that it succeeds. */
void msg_test_run_openssl (const char        *dir,
                           const char *const *args);

/* Counts "notify" emissions by property name into @counts (a GHashTable
 * of g_str_hash/g_str_equal): connect it to an object's "notify" signal
 * with the table as data. */
void msg_test_count_notify_cb (GObject    *object,
                               GParamSpec *pspec,
                               gpointer    counts);

/* How many times @name was notified into @counts. */
guint msg_test_notified (GHashTable *counts,
                         const char *name);

/* The first TLS handshake in a process makes GLib and glib-networking
 * open descriptors they keep for good; this makes one (implicit TLS
 * against a scripted server with @certificate, trusting @ca_file) before
 * the tests count descriptors. */
void msg_test_warm_up_tls (GTlsCertificate *certificate,
                           const char      *ca_file);

/* The protocol suites (SMTP, NNTP): a scripted server and a transport
 * configured for it. */

typedef struct
{
  unsigned          n_fds;
  MsgTestServer    *server;
  MsgConfiguration *config;
  MsgTransport     *transport;
} MsgTestFixture;

/* Makes the test certificate, warms TLS up (msg_test_warm_up_tls()) and
 * takes the baseline of open descriptors. Call after g_test_init(). */
void msg_test_fixture_init (void);
/* Frees what msg_test_fixture_init() made. */
void msg_test_fixture_cleanup (void);
/* The server certificate and the CA file that trusts it. */
GTlsCertificate *msg_test_fixture_get_certificate (void);
const char      *msg_test_fixture_get_ca_file (void);

/* Setup and teardown for g_test_add(). The teardown drops the transport,
 * waits for the server to see the connection closed, asserts that its
 * scripts ran without an error, and that no descriptor leaked. */
void msg_test_fixture_setup (MsgTestFixture *f,
                             gconstpointer   data);
void msg_test_fixture_teardown (MsgTestFixture *f,
                                gconstpointer   data);

/* For a test whose server must fail (the client refuses its TLS
 * certificate, say): waits for the server to see the close, asserts that
 * its error contains @expected, and frees it, so the teardown does not
 * take that error for a failed script. */
void msg_test_fixture_expect_server_error (MsgTestFixture *f,
                                           const char     *expected);

/* Sets a field of @configuration, asserting that it is accepted. */
void msg_test_config_set (MsgConfiguration *configuration,
                          const char       *name,
                          const char       *value);

/* Sets a configuration field, asserting that it is accepted. */
void msg_test_set_field (MsgTestFixture *f,
                         const char     *name,
                         const char     *value);

/* A server playing @scripts (NULL-terminated, one per connection) with
 * the test certificate, and a configuration for the transport @protocol
 * ("smtp", "nntp") pointed at it: <protocol>server, <protocol>serverport,
 * <protocol>connectiontimeout @timeout (seconds) and tlscafile. */
void msg_test_fixture_start_server (MsgTestFixture    *f,
                                    const char        *protocol,
                                    const char *const *scripts,
                                    const char        *timeout);

/* The transport @protocol for f->config. */
void msg_test_fixture_make_transport (MsgTestFixture *f,
                                      const char     *protocol);

/* msg_test_fixture_start_server() with a 10 s connection timeout (generous:
 * TLS handshakes under valgrind on a loaded machine are slow; tests of the
 * clocks set their own limits), for SMTP a fixed EHLO name
 * (client.example.test), then the transport. */
void msg_test_fixture_start (MsgTestFixture    *f,
                             const char        *protocol,
                             const char *const *scripts);

G_END_DECLS
