/* test-connection.c: MsgConnection against the scripted test server
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-utils.h"
#include "msg-test-server.h"

#include <string.h>

/* Open descriptors once the process is warmed up. */
static unsigned baseline_fds;

typedef struct
{
  unsigned       n_fds;
  MsgTestServer *server;
  MsgConnection *connection;
} Fixture;

static void
setup (Fixture      *f,
       gconstpointer data)
{
  f->n_fds = msg_test_wait_fds (baseline_fds, 1000);
  g_free (msg_test_steal_log ());
}

static void
teardown (Fixture      *f,
          gconstpointer data)
{
  if (f->connection != NULL)
    {
      msg_connection_abort (f->connection);
      g_clear_object (&f->connection);
    }
  if (f->server != NULL)
    {
      g_assert_true (msg_test_server_wait_closed (f->server, 2000));
      g_clear_pointer (&f->server, msg_test_server_free);
    }
  /* A thread's main context (an eventfd) may go a moment after the
   * server saw the close: the socket itself is already gone. Not more
   * than at the start; fewer if an earlier test's was still closing
   * then (as in test-utils.c). */
  g_assert_cmpuint (msg_test_wait_fds (f->n_fds, 1000), <=, f->n_fds);
}

static void
start (Fixture    *f,
       const char *script,
       double      timeout)
{
  f->server = msg_test_server_new (script);
  f->connection = msg_connection_new ("127.0.0.1", msg_test_server_get_port (f->server));
  msg_connection_set_timeout (f->connection, timeout * msg_test_time_scale ());
}

static void
connect_ok (Fixture *f)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (msg_connection_connect (f->connection, FALSE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (msg_connection_is_connected (f->connection));
}

static MsgReply *
reply_ok (Fixture *f,
          unsigned code)
{
  g_autoptr (GError) error = NULL;
  MsgReply *reply = msg_connection_read_reply (f->connection, MSG_REPLY_STYLE_SMTP, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (reply);
  g_assert_cmpuint (msg_reply_get_code (reply), ==, code);
  return reply;
}

static void
assert_received (Fixture    *f,
                 const char *expected)
{
  g_autofree char *text = msg_test_server_get_received_text (f->server, 0);

  g_assert_cmpstr (text, ==, expected);
}

static void
assert_no_server_error (Fixture *f)
{
  g_autofree char *error = msg_test_server_get_error (f->server);

  g_assert_null (error);
}

static void
test_connect_refused (Fixture      *f,
                      gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                             G_SOCKET_PROTOCOL_TCP, &error);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  guint16 port;

  g_test_summary ("A refused connection fails with CONNECTION_REFUSED naming the server.");

  /* A port that was free a moment ago, with nothing listening. */
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (socket, address, TRUE, &error));
  bound = g_socket_get_local_address (socket, &error);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_socket_close (socket, NULL);

  f->connection = msg_connection_new ("127.0.0.1", port);
  msg_connection_set_timeout (f->connection, 2);
  g_assert_false (msg_connection_connect (f->connection, FALSE, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_assert_nonnull (strstr (error->message, "127.0.0.1"));
  g_assert_false (msg_connection_is_connected (f->connection));
}

static void
test_connect_stall (Fixture      *f,
                    gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 start_time;

  g_test_summary ("A connect that never completes times out on the inactivity clock.");

  f->server = msg_test_server_new_no_accept ();
  f->connection = msg_connection_new ("127.0.0.1", msg_test_server_get_port (f->server));
  msg_connection_set_timeout (f->connection, 0.2 * msg_test_time_scale ());
  start_time = g_get_monotonic_time ();
  g_assert_false (msg_connection_connect (f->connection, FALSE, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "connecting"));
  msg_test_assert_elapsed_below (start_time, 300);
  g_assert_cmpint ((g_get_monotonic_time () - start_time) / 1000, >=, 190);
}

static void
test_local_address (Fixture      *f,
                    gconstpointer data)
{
  g_autoptr (GInetAddress) address = NULL;
  g_autofree char *text = NULL;

  g_test_summary ("The local address is known while connected, NULL after an abort.");
  start (f, "line 220 hi\n", 2);
  g_assert_null (msg_connection_get_local_address (f->connection));
  connect_ok (f);
  address = msg_connection_get_local_address (f->connection);
  g_assert_nonnull (address);
  text = g_inet_address_to_string (address);
  g_assert_cmpstr (text, ==, "127.0.0.1");
  msg_connection_abort (f->connection);
  g_assert_null (msg_connection_get_local_address (f->connection));
}

static void
test_greeting (Fixture      *f,
               gconstpointer data)
{
  g_autoptr (MsgReply) greeting = NULL;
  g_autoptr (MsgReply) bye = NULL;
  g_autoptr (GError) error = NULL;

  g_test_summary ("Connect, read the greeting, send a command and read its reply.");

  start (f, "line 220 mail.example.test ESMTP ready\n"
            "expect QUIT\n"
            "line 221 2.0.0 Bye\n",
         2);
  connect_ok (f);
  greeting = reply_ok (f, 220);
  g_assert_cmpstr (msg_reply_get_text (greeting), ==, "mail.example.test ESMTP ready");
  g_assert_true (msg_connection_send_command (f->connection, "QUIT", NULL, &error));
  g_assert_no_error (error);
  bye = reply_ok (f, 221);
  g_assert_cmpstr (msg_reply_get_enhanced_status (bye), ==, "2.0.0");
  msg_connection_abort (f->connection);
  g_assert_false (msg_connection_is_connected (f->connection));
  msg_connection_abort (f->connection);
  g_assert_true (msg_test_server_wait_closed (f->server, 1000));
  assert_received (f, "QUIT\r\n");
  assert_no_server_error (f);
}

static void
test_reply_bare_lf (Fixture      *f,
                    gconstpointer data)
{
  g_autoptr (MsgReply) reply = NULL;

  g_test_summary ("Replies with bare LF line ends are read like CRLF ones.");

  start (f, "send 250-first\\n250-second\\r\\n250 third\\n\n", 2);
  connect_ok (f);
  reply = reply_ok (f, 250);
  g_assert_cmpstr (msg_reply_get_text (reply), ==, "first\nsecond\nthird");
  g_assert_cmpuint (g_strv_length ((char **) msg_reply_get_lines (reply)), ==, 3);
}

static void
test_pipelining (Fixture      *f,
                 gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("Queued commands go out in one write before the first read; replies are read in order.");

  start (f, "line 220 ready\n"
            "expect MAIL FROM:<a@example.test>\n"
            "expect RCPT TO:<b@example.test>\n"
            "expect DATA\n"
            "send 250 2.1.0 ok\\r\\n550 5.1.1 no\\r\\n354 go\\r\\n\n",
         2);
  connect_ok (f);
  g_clear_pointer (&(MsgReply *){ reply_ok (f, 220) }, msg_reply_unref);
  g_assert_true (msg_connection_queue_command (f->connection, "MAIL FROM:<a@example.test>", &error));
  g_assert_true (msg_connection_queue_command (f->connection, "RCPT TO:<b@example.test>", &error));
  g_assert_true (msg_connection_queue_command (f->connection, "DATA", &error));
  g_assert_no_error (error);
  {
    g_autoptr (MsgReply) mail = reply_ok (f, 250);
    g_autoptr (MsgReply) rcpt = reply_ok (f, 550);
    g_autoptr (MsgReply) data_reply = reply_ok (f, 354);

    g_assert_cmpstr (msg_reply_get_enhanced_status (rcpt), ==, "5.1.1");
    g_assert_true (msg_reply_is_permanent_failure (rcpt));
    g_assert_true (msg_reply_is_intermediate (data_reply));
  }
  assert_received (f, "MAIL FROM:<a@example.test>\r\nRCPT TO:<b@example.test>\r\nDATA\r\n");
}

static void
test_command_injection (Fixture      *f,
                        gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A command with a line break is refused and nothing is written.");

  start (f, "line 220 ready\nstall\n", 2);
  connect_ok (f);
  g_assert_false (msg_connection_queue_command (f->connection, "RCPT TO:<a@b>\r\nDATA", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_false (msg_connection_is_connected (f->connection));
  g_assert_true (msg_test_server_wait_closed (f->server, 1000));
  assert_received (f, "");
}

static void
test_drip_within (Fixture      *f,
                  gconstpointer data)
{
  g_autoptr (MsgReply) reply = NULL;

  g_test_summary ("A reply dripped slowly but complete within the inactivity limit is read.");

  start (f, "drip 4 10 250 dripped but in time\\r\\n\n", 2);
  connect_ok (f);
  reply = reply_ok (f, 250);
  g_assert_cmpstr (msg_reply_get_text (reply), ==, "dripped but in time");
}

static void
test_drip_beyond_timeout (Fixture      *f,
                          gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 start_time;

  g_test_summary ("A server dripping a byte every 50 ms cannot stretch a 0.3 s reply limit.");

  start (f, "drip 1 50 220 this greeting takes far longer than the limit\\r\\n\n", 0.3);
  start_time = g_get_monotonic_time ();
  connect_ok (f);
  g_assert_null (msg_connection_read_reply (f->connection, MSG_REPLY_STYLE_SMTP, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "reply"));
  msg_test_assert_elapsed_below (start_time, 300 + 100);
  g_assert_false (msg_connection_is_connected (f->connection));
  g_assert_true (msg_test_server_wait_closed (f->server, 1000));
}

static void
test_drip_beyond_deadline (Fixture      *f,
                           gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 start_time = g_get_monotonic_time ();

  g_test_summary ("The total deadline caps a wait even with a long inactivity limit.");

  start (f, "drip 1 50 220 this greeting takes far longer than the deadline\\r\\n\n", 30);
  msg_connection_set_deadline (f->connection, start_time + 250 * 1000);
  connect_ok (f);
  g_assert_null (msg_connection_read_reply (f->connection, MSG_REPLY_STYLE_SMTP, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "total time limit"));
  msg_test_assert_elapsed_below (start_time, 250 + 100);
}

static void
test_inactivity (Fixture      *f,
                 gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 start_time;

  g_test_summary ("A server that never answers a command times out after the limit; the server sees the close.");

  start (f, "line 220 ready\nexpect NOOP\nstall\n", 0.2);
  connect_ok (f);
  g_clear_pointer (&(MsgReply *){ reply_ok (f, 220) }, msg_reply_unref);
  start_time = g_get_monotonic_time ();
  g_assert_true (msg_connection_send_command (f->connection, "NOOP", NULL, &error));
  g_assert_null (msg_connection_read_reply (f->connection, MSG_REPLY_STYLE_SMTP, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "127.0.0.1"));
  msg_test_assert_elapsed_below (start_time, 200 + 100);
  g_assert_cmpint ((g_get_monotonic_time () - start_time) / 1000, >=, 190);
  g_assert_false (msg_connection_is_connected (f->connection));
  start_time = g_get_monotonic_time ();
  g_assert_true (msg_test_server_wait_closed (f->server, 1000));
  msg_test_assert_elapsed_below (start_time, 100);
}

typedef struct
{
  GCancellable *cancellable;
  unsigned      delay_ms;
  gint64        cancelled_at;
} Canceller;

static gpointer
cancel_thread (gpointer data)
{
  Canceller *c = data;

  g_usleep (c->delay_ms * 1000);
  c->cancelled_at = g_get_monotonic_time ();
  g_cancellable_cancel (c->cancellable);
  return NULL;
}

static void
test_cancel_other_thread (Fixture      *f,
                          gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Canceller c = { cancellable, 100, 0 };
  GThread  *thread;

  g_test_summary ("A cancel from another thread ends a wait at once with CANCELLED and closes the socket.");

  start (f, "line 220 ready\nexpect NOOP\nstall\n", 0);
  connect_ok (f);
  g_clear_pointer (&(MsgReply *){ reply_ok (f, 220) }, msg_reply_unref);
  g_assert_true (msg_connection_send_command (f->connection, "NOOP", NULL, &error));
  thread = g_thread_new ("canceller", cancel_thread, &c);
  g_assert_null (msg_connection_read_reply (f->connection, MSG_REPLY_STYLE_SMTP, cancellable, &error));
  g_thread_join (thread);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  msg_test_assert_elapsed_below (c.cancelled_at, 100);
  g_assert_false (msg_connection_is_connected (f->connection));
  g_assert_true (msg_test_server_wait_closed (f->server, 1000));
}

static void
test_cancel_connect (Fixture      *f,
                     gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  Canceller c = { cancellable, 100, 0 };
  GThread  *thread;

  g_test_summary ("A cancel during a stalled connect ends it at once.");

  f->server = msg_test_server_new_no_accept ();
  f->connection = msg_connection_new ("127.0.0.1", msg_test_server_get_port (f->server));
  thread = g_thread_new ("canceller", cancel_thread, &c);
  g_assert_false (msg_connection_connect (f->connection, FALSE, cancellable, &error));
  g_thread_join (thread);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  msg_test_assert_elapsed_below (c.cancelled_at, 100);

  /* Already cancelled: fails before connecting. */
  g_clear_error (&error);
  g_assert_false (msg_connection_connect (f->connection, FALSE, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

static void
test_abort_seen (Fixture      *f,
                 gconstpointer data)
{
  gint64 start_time;

  g_test_summary ("abort() closes at once: the server sees the close promptly, descriptors are freed.");

  unsigned before;

  start (f, "line 220 ready\nstall\n", 2);
  before = msg_test_count_fds ();
  connect_ok (f);
  g_clear_pointer (&(MsgReply *){ reply_ok (f, 220) }, msg_reply_unref);
  g_assert_cmpuint (msg_test_count_fds (), >, before);
  start_time = g_get_monotonic_time ();
  msg_connection_abort (f->connection);
  g_assert_true (msg_test_server_wait_closed (f->server, 1000));
  msg_test_assert_elapsed_below (start_time, 100);
  /* Both ends closed: the server's descriptors are gone too. The one
   * left is the wake-up of the connection's main context, made by its
   * first connect and kept with the connection. */
  g_assert_cmpuint (msg_test_wait_fds (before + 1, 1000), ==, before + 1);
  g_clear_object (&f->connection);
  g_assert_cmpuint (msg_test_count_fds (), ==, before);
}

static void
test_reconnect (Fixture      *f,
                gconstpointer data)
{
  const char *scripts[] = { "line 220 first\nstall\n", "line 220 second\nexpect QUIT\nline 221 bye\n", NULL };

  g_test_summary ("After an error the same connection object connects again.");

  f->server = msg_test_server_new_multi (scripts);
  f->connection = msg_connection_new ("127.0.0.1", msg_test_server_get_port (f->server));
  msg_connection_set_timeout (f->connection, 0.2 * msg_test_time_scale ());
  connect_ok (f);
  g_clear_pointer (&(MsgReply *){ reply_ok (f, 220) }, msg_reply_unref);
  {
    g_autoptr (GError) error = NULL;

    g_assert_null (msg_connection_read_reply (f->connection, MSG_REPLY_STYLE_SMTP, NULL, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  }
  connect_ok (f);
  {
    g_autoptr (MsgReply) greeting = reply_ok (f, 220);
    g_autoptr (GError) error = NULL;

    g_assert_cmpstr (msg_reply_get_text (greeting), ==, "second");
    g_assert_true (msg_connection_send_command (f->connection, "QUIT", NULL, &error));
    g_clear_pointer (&(MsgReply *){ reply_ok (f, 221) }, msg_reply_unref);
  }
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 2);
}

static void
test_hostile_replies (Fixture      *f,
                      gconstpointer data)
{
  const char *script = data;
  g_autoptr (GError) error = NULL;

  g_test_summary ("Malformed or oversized replies fail with PROTOCOL and abort.");

  start (f, script, 2);
  connect_ok (f);
  g_assert_null (msg_connection_read_reply (f->connection, MSG_REPLY_STYLE_SMTP, NULL, &error));
  g_assert_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL);
  g_assert_false (msg_connection_is_connected (f->connection));
  g_assert_true (msg_test_server_wait_closed (f->server, 1000));
}

static void
test_closed_mid_reply (Fixture      *f,
                       gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A server closing in the middle of a reply gives CONNECTION_CLOSED.");

  start (f, "send 250-partial\\r\\n250 no line end\nclose\n", 2);
  connect_ok (f);
  g_assert_null (msg_connection_read_reply (f->connection, MSG_REPLY_STYLE_SMTP, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
  g_assert_false (msg_connection_is_connected (f->connection));
}

static void
test_reset (Fixture      *f,
            gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A reset by the server fails the read and leaves the connection closed.");

  start (f, "line 220 ready\nexpect NOOP\nreset\n", 2);
  connect_ok (f);
  g_clear_pointer (&(MsgReply *){ reply_ok (f, 220) }, msg_reply_unref);
  g_assert_true (msg_connection_send_command (f->connection, "NOOP", NULL, &error));
  g_assert_null (msg_connection_read_reply (f->connection, MSG_REPLY_STYLE_SMTP, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
  g_assert_false (msg_connection_is_connected (f->connection));
}

static void
test_nntp_reply_and_dot_lines (Fixture      *f,
                               gconstpointer data)
{
  g_autoptr (MsgReply) greeting = NULL;
  g_autoptr (MsgReply) caps = NULL;
  g_auto (GStrv) lines = NULL;
  g_autoptr (GError) error = NULL;

  g_test_summary ("NNTP status lines (1xx allowed) and dot-unstuffed multi-line blocks.");

  start (f, "line 200 news.example.test ready\n"
            "expect CAPABILITIES\n"
            "line 101 Capability list:\n"
            "line VERSION 2\n"
            "line ..dotted\n"
            "send POST\\n.\\r\\n\n",
         2);
  g_assert_true (msg_connection_connect (f->connection, FALSE, NULL, &error));
  greeting = msg_connection_read_reply (f->connection, MSG_REPLY_STYLE_NNTP, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (msg_reply_get_code (greeting), ==, 200);
  g_assert_true (msg_connection_send_command (f->connection, "CAPABILITIES", NULL, &error));
  caps = msg_connection_read_reply (f->connection, MSG_REPLY_STYLE_NNTP, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (msg_reply_get_code (caps), ==, 101);
  lines = msg_connection_read_dot_lines (f->connection, 10, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (lines), ==, 3);
  g_assert_cmpstr (lines[0], ==, "VERSION 2");
  g_assert_cmpstr (lines[1], ==, ".dotted");
  g_assert_cmpstr (lines[2], ==, "POST");
}

static void
test_dot_lines_cap (Fixture      *f,
                    gconstpointer data)
{
  g_auto (GStrv) lines = NULL;
  g_autoptr (GError) error = NULL;

  g_test_summary ("A data block with more lines than allowed fails with PROTOCOL.");

  start (f, "send a\\r\\nb\\r\\nc\\r\\nd\\r\\n.\\r\\n\n", 2);
  connect_ok (f);
  lines = msg_connection_read_dot_lines (f->connection, 3, NULL, &error);
  g_assert_null (lines);
  g_assert_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL);
  g_assert_false (msg_connection_is_connected (f->connection));
}

static void
test_read_line (Fixture      *f,
                gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *line1 = NULL;
  g_autofree char *line2 = NULL;
  gsize            length = 0;

  g_test_summary ("read_line returns lines without CRLF or LF.");

  start (f, "send one\\r\\ntwo\\n\n", 2);
  connect_ok (f);
  line1 = msg_connection_read_line (f->connection, &length, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (line1, ==, "one");
  g_assert_cmpuint (length, ==, 3);
  line2 = msg_connection_read_line (f->connection, NULL, NULL, &error);
  g_assert_cmpstr (line2, ==, "two");
}

static void
test_trace_secret (Fixture      *f,
                   gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *log = NULL;

  g_test_summary ("The trace shows commands and replies, but never a secret command's payload.");

  start (f, "line 220 ready\nexpect AUTH PLAIN\nline 235 2.7.0 ok\n", 2);
  connect_ok (f);
  g_clear_pointer (&(MsgReply *){ reply_ok (f, 220) }, msg_reply_unref);
  g_assert_true (msg_connection_queue_secret_command (f->connection, "AUTH PLAIN AHVzZXIAc2VjcmV0",
                                                      "AUTH PLAIN <redacted>", &error));
  g_clear_pointer (&(MsgReply *){ reply_ok (f, 235) }, msg_reply_unref);
  log = msg_test_steal_log ();
  g_assert_nonnull (strstr (log, "C: AUTH PLAIN <redacted>"));
  g_assert_nonnull (strstr (log, "S: 235 2.7.0 ok"));
  g_assert_null (strstr (log, "AHVzZXIAc2VjcmV0"));
  assert_received (f, "AUTH PLAIN AHVzZXIAc2VjcmV0\r\n");
}

static void
test_check_idle_421 (Fixture      *f,
                     gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 start_time;
  gint64 read_at;

  g_test_summary ("check_idle() sees a 421 the server sent while idle, and drops the connection.");

  start (f, "line 220 ready\nexpect NOOP\nline 250 ok\nsleep 300\nline 421 4.4.2 idle too long\nwait-close\n", 2);
  connect_ok (f);
  g_clear_pointer (&(MsgReply *){ reply_ok (f, 220) }, msg_reply_unref);
  g_assert_true (msg_connection_send_command (f->connection, "NOOP", NULL, &error));
  g_clear_pointer (&(MsgReply *){ reply_ok (f, 250) }, msg_reply_unref);
  read_at = g_get_monotonic_time ();
  if (msg_connection_check_idle (f->connection))
    g_assert_true (msg_connection_is_connected (f->connection));
  else
    /* Only a very slow machine gets here before the 421 was sent. */
    g_assert_cmpint ((g_get_monotonic_time () - read_at) / 1000, >=, 250);

  start_time = g_get_monotonic_time ();
  while (msg_connection_check_idle (f->connection))
    {
      g_assert_cmpint ((g_get_monotonic_time () - start_time) / 1000, <, 3000);
      g_usleep (5000);
    }
  g_assert_false (msg_connection_is_connected (f->connection));
  g_assert_true (msg_test_server_wait_closed (f->server, 1000));
}

static void
test_check_idle_eof (Fixture      *f,
                     gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 start_time;

  g_test_summary ("check_idle() sees that the server closed the idle connection.");

  start (f, "line 220 ready\nexpect NOOP\nline 250 ok\nclose\n", 2);
  connect_ok (f);
  g_clear_pointer (&(MsgReply *){ reply_ok (f, 220) }, msg_reply_unref);
  g_assert_true (msg_connection_send_command (f->connection, "NOOP", NULL, &error));
  g_clear_pointer (&(MsgReply *){ reply_ok (f, 250) }, msg_reply_unref);
  start_time = g_get_monotonic_time ();
  while (msg_connection_check_idle (f->connection))
    {
      g_assert_cmpint ((g_get_monotonic_time () - start_time) / 1000, <, 3000);
      g_usleep (5000);
    }
  g_assert_false (msg_connection_is_connected (f->connection));
  g_assert_false (msg_connection_check_idle (f->connection));
}

static void
test_stop_reading (Fixture      *f,
                   gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GOutputStream) data_stream = NULL;
  g_autofree guint8 *chunk = g_malloc (1024 * 1024);
  gint64             write_start = 0;
  gsize              total = 0;
  gboolean           ok = TRUE;

  g_test_summary ("A server that stops reading our message data makes the stream write time out within the limit.");

  start (f, "line 220 ready\nexpect DATA\nline 354 go ahead\nstop-reading\n", 0.2);
  connect_ok (f);
  g_clear_pointer (&(MsgReply *){ reply_ok (f, 220) }, msg_reply_unref);
  g_assert_true (msg_connection_send_command (f->connection, "DATA", NULL, &error));
  g_clear_pointer (&(MsgReply *){ reply_ok (f, 354) }, msg_reply_unref);

  memset (chunk, 'x', 1024 * 1024);
  for (gsize i = 0; i < 1024 * 1024; i += 100)
    chunk[i] = '\n';
  data_stream = msg_data_output_stream_new (msg_connection_get_output_stream (f->connection), TRUE);
  while (ok && total < 512u * 1024 * 1024)
    {
      write_start = g_get_monotonic_time ();
      ok = g_output_stream_write_all (data_stream, chunk, 1024 * 1024, NULL, NULL, &error);
      total += 1024 * 1024;
    }
  g_assert_false (ok);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "writing"));
  msg_test_assert_elapsed_below (write_start, 200 + 100);
  g_assert_false (msg_connection_is_connected (f->connection));
  g_assert_true (msg_test_server_wait_closed (f->server, 1000));
  g_clear_object (&data_stream);
}

static void
test_data_stream (Fixture      *f,
                  gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GOutputStream) data_stream = NULL;
  const char *body = "Subject: t\n\n.dot\r\nlast";

  g_test_summary ("Message data through get_output_stream() arrives canonicalised and dot-stuffed.");

  start (f, "line 354 go ahead\ndata\nline 250 2.0.0 queued\n", 2);
  connect_ok (f);
  g_clear_pointer (&(MsgReply *){ reply_ok (f, 354) }, msg_reply_unref);
  data_stream = msg_data_output_stream_new (msg_connection_get_output_stream (f->connection), TRUE);
  g_assert_true (g_output_stream_write_all (data_stream, body, strlen (body), NULL, NULL, &error));
  g_assert_true (msg_data_output_stream_finish (MSG_DATA_OUTPUT_STREAM (data_stream), NULL, &error));
  g_assert_no_error (error);
  g_clear_pointer (&(MsgReply *){ reply_ok (f, 250) }, msg_reply_unref);
  assert_received (f, "Subject: t\r\n\r\n..dot\r\nlast\r\n.\r\n");
}

/* TLS. */

static GTlsCertificate *good_certificate;
static char            *good_ca_file;
static GTlsCertificate *other_name_certificate;
static GTlsCertificate *other_ca_certificate;

static const char starttls_script[] =
    "line 220 ready\n"
    "expect STARTTLS\n"
    "line 220 2.0.0 go ahead\n"
    "starttls\n"
    "expect EHLO\n"
    "line 250 secure\n";

static gboolean
starttls_until_handshake (Fixture         *f,
                          GTlsCertificate *certificate,
                          const char      *ca_file,
                          gboolean         verify,
                          GError         **error)
{
  start (f, starttls_script, 2);
  msg_test_server_set_tls (f->server, certificate);
  msg_connection_set_tls_ca_file (f->connection, ca_file);
  msg_connection_set_tls_verify (f->connection, verify);
  connect_ok (f);
  g_clear_pointer (&(MsgReply *){ reply_ok (f, 220) }, msg_reply_unref);
  g_assert_true (msg_connection_send_command (f->connection, "STARTTLS", NULL, error));
  g_clear_pointer (&(MsgReply *){ reply_ok (f, 220) }, msg_reply_unref);
  return msg_connection_starttls (f->connection, NULL, error);
}

static void
test_starttls (Fixture      *f,
               gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("STARTTLS with the test CA: the rest of the session is encrypted.");

  g_assert_true (starttls_until_handshake (f, good_certificate, good_ca_file, TRUE, &error));
  g_assert_no_error (error);
  g_assert_true (msg_connection_is_tls (f->connection));
  g_assert_true (msg_connection_send_command (f->connection, "EHLO client.example.test", NULL, &error));
  g_clear_pointer (&(MsgReply *){ reply_ok (f, 250) }, msg_reply_unref);
  assert_received (f, "STARTTLS\r\nEHLO client.example.test\r\n");
  assert_no_server_error (f);
}

static void
test_starttls_bad_certificate (Fixture      *f,
                               gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  GTlsCertificate *certificate = g_str_equal (data, "name") ? other_name_certificate : other_ca_certificate;

  g_test_summary ("STARTTLS fails on a host name mismatch or an untrusted CA, and aborts.");

  g_assert_false (starttls_until_handshake (f, certificate, good_ca_file, TRUE, &error));
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_assert_nonnull (strstr (error->message, "127.0.0.1"));
  g_assert_false (msg_connection_is_connected (f->connection));
  g_assert_false (msg_connection_is_tls (f->connection));
}

static void
test_starttls_no_verify (Fixture      *f,
                         gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *log = NULL;

  g_test_summary ("With tls_verify off an untrusted certificate is accepted, with a warning.");

  g_assert_true (starttls_until_handshake (f, other_ca_certificate, good_ca_file, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (msg_connection_is_tls (f->connection));
  log = msg_test_steal_log ();
  g_assert_nonnull (strstr (log, "tlsverify is off"));
}

static void
test_starttls_injection (Fixture      *f,
                         gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("Bytes after the STARTTLS go-ahead (plaintext injection) are refused before the handshake.");

  start (f, "line 220 ready\n"
            "expect STARTTLS\n"
            "send 220 go ahead\\r\\n250-injected\\r\\n250 AUTH PLAIN\\r\\n\n"
            "stall\n",
         2);
  msg_test_server_set_tls (f->server, good_certificate);
  msg_connection_set_tls_ca_file (f->connection, good_ca_file);
  connect_ok (f);
  g_clear_pointer (&(MsgReply *){ reply_ok (f, 220) }, msg_reply_unref);
  g_assert_true (msg_connection_send_command (f->connection, "STARTTLS", NULL, &error));
  g_clear_pointer (&(MsgReply *){ reply_ok (f, 220) }, msg_reply_unref);
  g_assert_false (msg_connection_starttls (f->connection, NULL, &error));
  g_assert_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "after the STARTTLS go-ahead"));
  g_assert_false (msg_connection_is_connected (f->connection));
}

static void
test_tls_stall (Fixture      *f,
                gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  gint64 start_time;

  g_test_summary ("A TLS handshake the server never answers times out within the limit.");

  start (f, "tls-stall\n", 0.2);
  msg_connection_set_tls_ca_file (f->connection, good_ca_file);
  start_time = g_get_monotonic_time ();
  g_assert_false (msg_connection_connect (f->connection, TRUE, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "TLS handshake"));
  msg_test_assert_elapsed_below (start_time, 200 + 100);
  g_assert_false (msg_connection_is_connected (f->connection));
}

static void
test_implicit_tls (Fixture      *f,
                   gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("Implicit TLS: the greeting already comes encrypted.");

  start (f, "starttls\nline 220 secure ready\nexpect QUIT\nline 221 bye\n", 2);
  msg_test_server_set_tls (f->server, good_certificate);
  msg_connection_set_tls_ca_file (f->connection, good_ca_file);
  g_assert_true (msg_connection_connect (f->connection, TRUE, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (msg_connection_is_tls (f->connection));
  g_clear_pointer (&(MsgReply *){ reply_ok (f, 220) }, msg_reply_unref);
  g_assert_true (msg_connection_send_command (f->connection, "QUIT", NULL, &error));
  g_clear_pointer (&(MsgReply *){ reply_ok (f, 221) }, msg_reply_unref);
  assert_received (f, "QUIT\r\n");
}

static void
test_tls_stop_reading (Fixture      *f,
                       gconstpointer data)
{
  const gsize size = 16 * 1024; /* a TLS record's most plaintext */
  g_autoptr (GError) error = NULL;
  g_autofree guint8 *chunk = g_malloc0 (size);
  GOutputStream     *stream;
  gint64             write_start = 0;
  gboolean           ok = TRUE;

  g_test_summary ("Over TLS, a server that stops reading cannot block a write past the limit; abort does not wait for close_notify.");

  /* The handshake is not what is timed here, and under valgrind it takes
   * seconds (its crypto runs about 40x slower): connect with a limit of
   * 10 s, then set the 0.2 s one under test. */
  start (f, "starttls\nline 220 secure ready\nstop-reading\n", 10);
  msg_test_server_set_tls (f->server, good_certificate);
  msg_connection_set_tls_ca_file (f->connection, good_ca_file);
  msg_connection_connect (f->connection, TRUE, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&(MsgReply *){ reply_ok (f, 220) }, msg_reply_unref);
  msg_connection_set_timeout (f->connection, 0.2 * msg_test_time_scale ());
  stream = msg_connection_get_output_stream (f->connection);
  /* One TLS record per write: the failing write spends at most one
   * record's encryption before it waits, so it ends within the limit and
   * ε of its start (512 MiB at most: more than any socket buffers). */
  for (unsigned i = 0; ok && i < 512 * 1024 * 1024 / size; i++)
    {
      write_start = g_get_monotonic_time ();
      ok = g_output_stream_write_all (stream, chunk, size, NULL, NULL, &error);
    }
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_test_message ("the last write failed after %" G_GINT64_FORMAT " ms",
                  (g_get_monotonic_time () - write_start) / 1000);
  msg_test_assert_elapsed_below (write_start, 200 + 100);
  g_assert_false (msg_connection_is_connected (f->connection));
}

static void
make_certificates (void)
{
  const char *const other_names[] = { "mail.example.test", NULL };

  good_certificate = msg_test_make_tls_certificate (NULL, &good_ca_file);
  other_name_certificate = msg_test_make_tls_certificate (other_names, NULL);
  /* Signed by a CA of its own that the client does not trust; the name
   * matches. */
  other_ca_certificate = msg_test_make_tls_certificate (NULL, NULL);
}

int
main (int    argc,
      char **argv)
{
  static const char *const hostile[][2] = {
    { "invalid-code", "line 2x0 nope\n" },
    { "no-code", "line hello\n" },
    { "class-1-in-smtp", "line 150 nope\n" },
    { "class-6", "line 650 nope\n" },
    { "mixed-codes", "send 250-one\\r\\n251 two\\r\\n\n" },
    { "bad-separator", "line 250+x\n" },
    { "nul-byte", "send 250 a\\x00b\\r\\n\n" },
    { "8bit-code", "line \\xc3\\xa9250 x\n" },
    { "line-too-long", NULL },
    { "too-many-lines", NULL },
    { "too-many-bytes", NULL },
  };
  int result;

  g_setenv ("G_MESSAGES_DEBUG", "msgobj", TRUE);
  msg_test_capture_log ();
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  make_certificates ();
  msg_test_warm_up_tls (good_certificate, good_ca_file);
  baseline_fds = msg_test_wait_fds (0, 200);

#define ADD(path, func) g_test_add (path, Fixture, NULL, setup, func, teardown)
  ADD ("/connection/connect/refused", test_connect_refused);
  ADD ("/connection/connect/stall", test_connect_stall);
  ADD ("/connection/connect/cancel", test_cancel_connect);
  ADD ("/connection/greeting", test_greeting);
  ADD ("/connection/local-address", test_local_address);
  ADD ("/connection/reconnect", test_reconnect);
  ADD ("/connection/reply/bare-lf", test_reply_bare_lf);
  ADD ("/connection/reply/pipelining", test_pipelining);
  ADD ("/connection/reply/closed-mid-reply", test_closed_mid_reply);
  ADD ("/connection/reply/reset", test_reset);
  ADD ("/connection/reply/nntp-dot-lines", test_nntp_reply_and_dot_lines);
  ADD ("/connection/reply/dot-lines-cap", test_dot_lines_cap);
  ADD ("/connection/read-line", test_read_line);
  ADD ("/connection/command-injection", test_command_injection);
  ADD ("/connection/trace/secret", test_trace_secret);
  ADD ("/connection/clock/drip-within", test_drip_within);
  ADD ("/connection/clock/drip-beyond-timeout", test_drip_beyond_timeout);
  ADD ("/connection/clock/drip-beyond-deadline", test_drip_beyond_deadline);
  ADD ("/connection/clock/inactivity", test_inactivity);
  ADD ("/connection/cancel/other-thread", test_cancel_other_thread);
  ADD ("/connection/abort/seen-by-server", test_abort_seen);
  ADD ("/connection/check-idle/421", test_check_idle_421);
  ADD ("/connection/check-idle/eof", test_check_idle_eof);
  ADD ("/connection/data/stream", test_data_stream);
  ADD ("/connection/data/stop-reading", test_stop_reading);
  ADD ("/connection/tls/starttls", test_starttls);
  ADD ("/connection/tls/starttls-injection", test_starttls_injection);
  ADD ("/connection/tls/no-verify", test_starttls_no_verify);
  ADD ("/connection/tls/implicit", test_implicit_tls);
  ADD ("/connection/tls/stall", test_tls_stall);
  ADD ("/connection/tls/stop-reading", test_tls_stop_reading);
  g_test_add ("/connection/tls/name-mismatch", Fixture, "name", setup, test_starttls_bad_certificate, teardown);
  g_test_add ("/connection/tls/untrusted-ca", Fixture, "ca", setup, test_starttls_bad_certificate, teardown);
#undef ADD

  {
    g_autoptr (GString) long_line = g_string_new ("line 250 ");
    g_autoptr (GString) many_lines = g_string_new ("send ");
    g_autoptr (GString) many_bytes = g_string_new ("send ");
    static char *scripts[3];

    for (unsigned i = 0; i < MSG_REPLY_MAX_LINE_LENGTH; i++)
      g_string_append_c (long_line, 'x');
    for (unsigned i = 0; i < 1001; i++)
      g_string_append (many_lines, "250-x\\r\\n");
    g_string_append (many_lines, "250 x\\r\\n");
    for (unsigned i = 0; i < 20; i++)
      {
        g_string_append (many_bytes, "250-");
        for (unsigned j = 0; j < 4000; j++)
          g_string_append_c (many_bytes, 'y');
        g_string_append (many_bytes, "\\r\\n");
      }
    g_string_append (many_bytes, "250 y\\r\\n");
    scripts[0] = g_string_free (g_steal_pointer (&long_line), FALSE);
    scripts[1] = g_string_free (g_steal_pointer (&many_lines), FALSE);
    scripts[2] = g_string_free (g_steal_pointer (&many_bytes), FALSE);
    for (unsigned i = 0; i < G_N_ELEMENTS (hostile); i++)
      {
        g_autofree char *path = g_strdup_printf ("/connection/hostile/%s", hostile[i][0]);
        const char      *script = hostile[i][1] != NULL ? hostile[i][1] : scripts[i - 8];

        g_test_add (path, Fixture, script, setup, test_hostile_replies, teardown);
      }
    result = g_test_run ();
    for (unsigned i = 0; i < 3; i++)
      g_free (scripts[i]);
  }

  g_clear_object (&good_certificate);
  g_clear_object (&other_name_certificate);
  g_clear_object (&other_ca_certificate);
  g_free (good_ca_file);
  return result;
}
