/* msg-test-sink.c: a small SMTP sink for tests of many messages
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One accepting thread and one thread per connection, with blocking GIO
 * calls that the sink's cancellable interrupts. Replies are written in
 * the order of the commands, so a pipelining client is served too.
 */
#include "config.h"

#include "msg-test-sink.h"

#include <poll.h>
#include <string.h>

struct _MsgTestSink
{
  GSocketListener *listener;
  GCancellable    *stop;    /* cancels every wait */
  GPollFD          stop_fd; /* held while the sink lives */
  GThread         *acceptor;
  guint16          port;
  GMutex           lock;
  GCond            cond;
  GPtrArray       *connections; /* live GSocketConnection */
  guint            n_threads;   /* connection threads running */
  guint            n_connections;
  guint            n_accepted;
  guint            die_after; /* 0: never */
  gboolean         dead;
  guint            drop_after; /* 0: never */
  gint64           hold_us;    /* 0: no hold */
  guint            n_pipelined;
  GHashTable      *counts;     /* subject → count */
  GHashTable      *messages;   /* subject → last message */
  GHashTable      *recipients; /* subject → recipients */
};

typedef struct
{
  MsgTestSink       *sink;
  GSocketConnection *connection;
} Session;

/* What answer_message() tells the session to do next. */
typedef enum
{
  GO_ON,
  HANG_UP,
  BLACK_HOLE,
} Next;

static gboolean
reply (GOutputStream *out,
       const char    *text)
{
  return g_output_stream_write_all (out, text, strlen (text), NULL, NULL, NULL);
}

static char *
subject_of (const char *message)
{
  const char *p = message;

  while (*p != '\0' && !(p[0] == '\r' && p[1] == '\n'))
    {
      const char *end = strstr (p, "\r\n");

      if (g_ascii_strncasecmp (p, "Subject:", 8) == 0)
        return g_strstrip (g_strndup (p + 8, (end != NULL ? end : p + strlen (p)) - p - 8));
      if (end == NULL)
        break;
      p = end + 2;
    }
  return g_strdup ("");
}

/* Reads the message after DATA; NULL if the connection ended first. */
static char *
read_data (GDataInputStream *in,
           GCancellable     *stop)
{
  g_autoptr (GString) message = g_string_new (NULL);

  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line (in, NULL, stop, NULL);

      if (line == NULL)
        return NULL;
      if (g_str_equal (line, "."))
        return g_string_free (g_steal_pointer (&message), FALSE);
      g_string_append (message, line[0] == '.' ? line + 1 : line);
      g_string_append (message, "\r\n");
    }
}

/* Records an accepted message; FALSE if the sink died instead. Sets
 * @drop when this connection is to be cut after the answer. */
static gboolean
accept_message (MsgTestSink *sink,
                const char  *subject,
                char        *message,
                const char  *recipients,
                gboolean    *drop)
{
  gboolean alive;

  g_mutex_lock (&sink->lock);
  alive = !sink->dead;
  if (alive)
    {
      guint count = GPOINTER_TO_UINT (g_hash_table_lookup (sink->counts, subject));

      g_hash_table_replace (sink->counts, g_strdup (subject), GUINT_TO_POINTER (count + 1));
      g_hash_table_replace (sink->messages, g_strdup (subject), message);
      g_hash_table_replace (sink->recipients, g_strdup (subject), g_strdup (recipients));
      sink->n_accepted++;
      if (sink->die_after > 0 && sink->n_accepted >= sink->die_after)
        sink->dead = TRUE;
      *drop = sink->drop_after > 0 && sink->n_accepted == sink->drop_after;
      g_cond_broadcast (&sink->cond);
    }
  else
    g_free (message);
  g_mutex_unlock (&sink->lock);
  return alive;
}

static void
cut_all (MsgTestSink *sink)
{
  g_mutex_lock (&sink->lock);
  for (guint i = 0; i < sink->connections->len; i++)
    g_socket_shutdown (g_socket_connection_get_socket (sink->connections->pdata[i]), TRUE, TRUE, NULL);
  g_mutex_unlock (&sink->lock);
}

/* With a hold, waits until the client wrote more (the next envelope,
 * pipelined behind the dot) or the hold ends, and counts the first. */
static void
hold_answer (MsgTestSink      *sink,
             GDataInputStream *in,
             GSocket          *socket)
{
  gboolean more;

  if (sink->hold_us == 0)
    return;
  more = g_buffered_input_stream_get_available (G_BUFFERED_INPUT_STREAM (in)) > 0 ||
         g_socket_condition_timed_wait (socket, G_IO_IN, sink->hold_us, sink->stop, NULL);
  if (more)
    {
      g_mutex_lock (&sink->lock);
      sink->n_pipelined++;
      g_mutex_unlock (&sink->lock);
    }
}

/* After the final dot: the answer, or none. */
static Next
answer_message (MsgTestSink      *sink,
                GDataInputStream *in,
                GSocket          *socket,
                GOutputStream    *out,
                char             *message,
                GString          *recipients)
{
  g_autofree char *subject = subject_of (message);
  gboolean         drop = FALSE;

  hold_answer (sink, in, socket);
  if (strstr (subject, "blackhole") != NULL)
    {
      g_free (message);
      return BLACK_HOLE; /* no answer, now or later: the client times out */
    }
  if (strstr (subject, "reject") != NULL)
    {
      g_free (message);
      return reply (out, "554 5.7.1 Rejected by the test\r\n") ? GO_ON : HANG_UP;
    }
  if (strstr (subject, "tempfail") != NULL)
    {
      g_free (message);
      return reply (out, "451 4.3.0 Try again later\r\n") ? GO_ON : HANG_UP;
    }
  if (!accept_message (sink, subject, message, recipients->str, &drop))
    {
      cut_all (sink);
      return HANG_UP;
    }
  return reply (out, "250 2.0.0 Ok: queued\r\n") && !drop ? GO_ON : HANG_UP;
}

static Next
serve_command (MsgTestSink      *sink,
               GDataInputStream *in,
               GSocket          *socket,
               GOutputStream    *out,
               const char       *line,
               GString          *recipients)
{
  if (g_ascii_strncasecmp (line, "EHLO", 4) == 0)
    return reply (out, "250-sink.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SIZE 100000000\r\n") ? GO_ON : HANG_UP;
  if (g_ascii_strncasecmp (line, "HELO", 4) == 0)
    return reply (out, "250 sink.test\r\n") ? GO_ON : HANG_UP;
  if (g_ascii_strncasecmp (line, "MAIL", 4) == 0)
    {
      g_string_truncate (recipients, 0);
      return reply (out, "250 2.1.0 Ok\r\n") ? GO_ON : HANG_UP;
    }
  if (g_ascii_strncasecmp (line, "RCPT TO:", 8) == 0)
    {
      const char *start = strchr (line, '<');
      const char *end = start != NULL ? strchr (start, '>') : NULL;

      if (strstr (line, "greylist") != NULL)
        return reply (out, "450 4.2.0 Greylisted, try again later\r\n") ? GO_ON : HANG_UP;
      if (strstr (line, "nosuchuser") != NULL)
        return reply (out, "550 5.1.1 No such user\r\n") ? GO_ON : HANG_UP;
      if (start != NULL && end != NULL)
        g_string_append_printf (recipients, "%s%.*s", recipients->len > 0 ? " " : "", (int) (end - start - 1), start + 1);
      return reply (out, "250 2.1.5 Ok\r\n") ? GO_ON : HANG_UP;
    }
  if (g_ascii_strncasecmp (line, "DATA", 4) == 0)
    {
      char *message;

      /* As real servers do (RFC 2920 section 3.1): a pipelined DATA
       * after every RCPT was refused. */
      if (recipients->len == 0)
        return reply (out, "554 5.5.1 No valid recipients\r\n") ? GO_ON : HANG_UP;

      if (!reply (out, "354 End data with <CR><LF>.<CR><LF>\r\n"))
        return HANG_UP;
      message = read_data (in, sink->stop);
      return message != NULL ? answer_message (sink, in, socket, out, message, recipients) : HANG_UP;
    }
  if (g_ascii_strncasecmp (line, "QUIT", 4) == 0)
    {
      reply (out, "221 2.0.0 Bye\r\n");
      return HANG_UP;
    }
  return reply (out, "250 2.0.0 Ok\r\n") ? GO_ON : HANG_UP; /* RSET, NOOP */
}

static gpointer
session_thread (gpointer data)
{
  Session     *session = data;
  MsgTestSink *sink = session->sink;
  g_autoptr (GDataInputStream) in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (session->connection)));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (session->connection));
  g_autoptr (GString) recipients = g_string_new (NULL);
  GSocket *socket = g_socket_connection_get_socket (session->connection);
  Next     next;

  g_data_input_stream_set_newline_type (in, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
  next = reply (out, "220 sink.test ESMTP\r\n") ? GO_ON : HANG_UP;
  while (next != HANG_UP)
    {
      g_autofree char *line = g_data_input_stream_read_line (in, NULL, sink->stop, NULL);

      if (line == NULL)
        break;
      if (next == GO_ON)
        next = serve_command (sink, in, socket, out, line, recipients);
    }
  g_socket_close (g_socket_connection_get_socket (session->connection), NULL);

  g_mutex_lock (&sink->lock);
  g_ptr_array_remove (sink->connections, session->connection);
  sink->n_threads--;
  g_cond_broadcast (&sink->cond);
  g_mutex_unlock (&sink->lock);
  g_object_unref (session->connection);
  g_free (session);
  return NULL;
}

static gpointer
acceptor_thread (gpointer data)
{
  MsgTestSink *sink = data;

  for (;;)
    {
      g_autoptr (GError) error = NULL;
      GSocketConnection *connection = g_socket_listener_accept (sink->listener, NULL, sink->stop, &error);
      Session           *session;
      gboolean           dead;

      /* A connection that arrives while a test holds RLIMIT_NOFILE down
       * stays in the backlog until descriptors are back (the limit is
       * the client's test, not the sink's). */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES))
        {
          poll (NULL, 0, 10);
          continue;
        }
      if (connection == NULL)
        break;
      g_mutex_lock (&sink->lock);
      dead = sink->dead;
      if (!dead)
        {
          sink->n_connections++;
          sink->n_threads++;
          g_ptr_array_add (sink->connections, connection);
        }
      g_mutex_unlock (&sink->lock);
      if (dead)
        {
          /* Refused: closed at once, before the greeting. */
          g_socket_close (g_socket_connection_get_socket (connection), NULL);
          g_object_unref (connection);
          continue;
        }
      session = g_new0 (Session, 1);
      session->sink = sink;
      session->connection = connection;
      g_thread_unref (g_thread_new ("sink-session", session_thread, session));
    }
  return NULL;
}

MsgTestSink *
msg_test_sink_new (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) effective = NULL;
  MsgTestSink *self = g_new0 (MsgTestSink, 1);

  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->connections = g_ptr_array_new ();
  self->counts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->messages = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->recipients = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->stop = g_cancellable_new ();
  self->listener = g_socket_listener_new ();
  g_socket_listener_set_backlog (self->listener, 64);
  g_socket_listener_add_address (self->listener, address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                 NULL, &effective, &error);
  g_assert_no_error (error);
  self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  /* The descriptor the acceptor's blocking accept polls to be stopped,
   * made here: made by the thread when it first runs, it could come after
   * a test lowered RLIMIT_NOFILE (/flusher/emfile), and GLib aborts when
   * it cannot make it. */
  g_assert_true (g_cancellable_make_pollfd (self->stop, &self->stop_fd));
  self->acceptor = g_thread_new ("sink-accept", acceptor_thread, self);
  return self;
}

void
msg_test_sink_free (MsgTestSink *self)
{
  g_cancellable_cancel (self->stop);
  g_thread_join (self->acceptor);
  g_cancellable_release_fd (self->stop);
  g_socket_listener_close (self->listener);
  cut_all (self);
  g_mutex_lock (&self->lock);
  while (self->n_threads > 0)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);

  g_object_unref (self->listener);
  g_object_unref (self->stop);
  g_ptr_array_unref (self->connections);
  g_hash_table_unref (self->counts);
  g_hash_table_unref (self->messages);
  g_hash_table_unref (self->recipients);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  g_free (self);
}

guint16
msg_test_sink_get_port (MsgTestSink *self)
{
  return self->port;
}

void
msg_test_sink_set_die_after (MsgTestSink *self,
                             guint        n)
{
  g_mutex_lock (&self->lock);
  self->die_after = n;
  g_mutex_unlock (&self->lock);
}

gboolean
msg_test_sink_wait_accepted (MsgTestSink *self,
                             guint        n,
                             guint        timeout_ms)
{
  gint64   end = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gboolean reached;

  g_mutex_lock (&self->lock);
  while (self->n_accepted < n && g_cond_wait_until (&self->cond, &self->lock, end))
    ;
  reached = self->n_accepted >= n;
  g_mutex_unlock (&self->lock);
  return reached;
}

void
msg_test_sink_set_drop_after (MsgTestSink *self,
                              guint        n)
{
  g_mutex_lock (&self->lock);
  self->drop_after = n;
  g_mutex_unlock (&self->lock);
}

void
msg_test_sink_set_hold (MsgTestSink *self,
                        guint        hold_ms)
{
  g_mutex_lock (&self->lock);
  self->hold_us = (gint64) hold_ms * 1000;
  g_mutex_unlock (&self->lock);
}

guint
msg_test_sink_get_n_pipelined (MsgTestSink *self)
{
  guint n;

  g_mutex_lock (&self->lock);
  n = self->n_pipelined;
  g_mutex_unlock (&self->lock);
  return n;
}

guint
msg_test_sink_get_n_accepted (MsgTestSink *self)
{
  guint n;

  g_mutex_lock (&self->lock);
  n = self->n_accepted;
  g_mutex_unlock (&self->lock);
  return n;
}

guint
msg_test_sink_get_n_connections (MsgTestSink *self)
{
  guint n;

  g_mutex_lock (&self->lock);
  n = self->n_connections;
  g_mutex_unlock (&self->lock);
  return n;
}

guint
msg_test_sink_count (MsgTestSink *self,
                     const char  *subject)
{
  guint n;

  g_mutex_lock (&self->lock);
  n = GPOINTER_TO_UINT (g_hash_table_lookup (self->counts, subject));
  g_mutex_unlock (&self->lock);
  return n;
}

char *
msg_test_sink_get_message (MsgTestSink *self,
                           const char  *subject,
                           char       **recipients)
{
  char *message;

  g_mutex_lock (&self->lock);
  message = g_strdup (g_hash_table_lookup (self->messages, subject));
  if (recipients != NULL)
    *recipients = g_strdup (g_hash_table_lookup (self->recipients, subject));
  g_mutex_unlock (&self->lock);
  return message;
}
