/* msg-test-server.h: scripted fake SMTP/NNTP servers for tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A server listens on 127.0.0.1, port 0 (the kernel picks a free port), and
 * runs in its own thread with its own GMainContext. Each accepted
 * connection plays one script: scripts[i] for the i-th connection, the last
 * script again for any later one.
 *
 * A script is text, one step per line (blank lines and lines starting with
 * '#' are ignored); in arguments, the escapes \r \n \t \\ \xHH are decoded:
 *
 *   send TEXT            write TEXT (write "\r\n" yourself)
 *   line TEXT            write TEXT followed by CRLF
 *   expect PREFIX        read one line; fail the script unless it starts
 *                        with PREFIX (case-insensitive)
 *   read N               read and discard N lines
 *   data                 read lines until the lone "." that ends DATA/POST
 *   bdat                 read one "BDAT N [LAST]" command and its N bytes
 *   sleep MS             sleep MS milliseconds (still noticing a close)
 *   drip N MS TEXT       write TEXT N bytes at a time, MS ms apart
 *   stall                wait (reading nothing) until the client closes
 *   stop-reading         never read again; wait until the client closes
 *   close                close the connection (FIN)
 *   reset                close with RST (SO_LINGER 0)
 *   starttls             start the TLS handshake as server
 *   tls-attempt          the same, for a client that is expected to refuse
 *                        the server's certificate: a failed handshake is
 *                        not the script's error, and the script goes on
 *                        (with the connection closed)
 *   tls-stall            accept TCP but never answer the TLS handshake
 *   wait-close           wait until the client closes (EOF or error)
 *   sasl MECH USER PASSWORD CONT OK FAIL [E]
 *                        read the command starting SASL mechanism MECH
 *                        and play GNU SASL's server side (SCRAM salts and
 *                        iterations of RFC 5802 and 7677), writing "CONT challenge"
 *                        lines and then "OK ..." when USER authenticated
 *                        with PASSWORD, else "FAIL ..."; with E the SCRAM
 *                        server-final message is "e=E" and the end FAIL;
 *                        with OK "283" (NNTP) the server's last data goes
 *                        in the 283 line
 *   mark                 count a mark (msg_test_server_wait_mark): the
 *                        test learns that the script reached this point
 *   gate                 wait until the test calls
 *                        msg_test_server_open_gate() (once open, every
 *                        gate passes)
 *   repeat N TEXT        write TEXT N times (0: until the client closes)
 *   read-slowly N MS     read N bytes every MS ms, until the client closes
 *   small-rcvbuf         nothing when played; a server with this step (or
 *                        stop-reading, read-slowly) in a script gets a
 *                        small receive buffer, so a client's large write
 *                        blocks soon
 *
 * When a script ends, the server waits for the client to close.
 *
 * Special server modes: msg_test_server_new_no_accept() listens with a
 * backlog that is never accepted (connect stage faults).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _MsgTestServer MsgTestServer;

MsgTestServer *msg_test_server_new (const char *script);
MsgTestServer *msg_test_server_new_multi (const char *const *scripts);
MsgTestServer *msg_test_server_new_no_accept (void);
void           msg_test_server_free (MsgTestServer *self);

/* TLS: a certificate made at test time (see test-utils); call before any
 * connection arrives. */
void msg_test_server_set_tls (MsgTestServer   *self,
                              GTlsCertificate *certificate);

guint16 msg_test_server_get_port (MsgTestServer *self);

/* Waits up to @timeout_ms until a connection has been accepted and every
 * accepted connection's script has ended with the client's close observed;
 * returns whether that happened. */
gboolean msg_test_server_wait_closed (MsgTestServer *self,
                                      unsigned       timeout_ms);
/* The same, but TRUE at once when no connection was ever made (teardown). */
gboolean msg_test_server_wait_idle (MsgTestServer *self,
                                    unsigned       timeout_ms);
/* Waits up to @timeout_ms until the scripts have played @n "mark" steps
 * in all; returns whether they have. */
gboolean msg_test_server_wait_mark (MsgTestServer *self,
                                    unsigned       n,
                                    unsigned       timeout_ms);
/* Lets every script waiting at (or later reaching) a "gate" step go on. */
void msg_test_server_open_gate (MsgTestServer *self);
/* When the last "mark" step was played (g_get_monotonic_time), or 0. */
gint64 msg_test_server_get_mark_time (MsgTestServer *self);
/* Number of connections accepted so far. */
unsigned msg_test_server_get_n_connections (MsgTestServer *self);
/* Every byte received on connection @index (0-based), TLS decrypted. */
GBytes *msg_test_server_get_received (MsgTestServer *self,
                                      unsigned       index);
/* The same as a string (the wire is text; "" for none); free with g_free(). */
char *msg_test_server_get_received_text (MsgTestServer *self,
                                         unsigned       index);
/* NULL, or why a script failed (an expect that did not match, ...). */
char *msg_test_server_get_error (MsgTestServer *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgTestServer, msg_test_server_free)

G_END_DECLS
