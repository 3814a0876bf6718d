/* msg-test-server.c: scripted fake SMTP/NNTP servers for tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One thread per server, with plain blocking GIO calls; every wait is
 * interruptible through the server's stop cancellable. Connections are
 * played one after the other: a second connection waits in the listen
 * backlog until the first one's script has ended.
 *
 * "stall", "tls-stall" and "stop-reading" read nothing: they poll the
 * socket for the client's FIN or RST only (POLLRDHUP), so the client's
 * writes fill the socket buffers. A server whose scripts use
 * "stop-reading", "read-slowly" or "small-rcvbuf" gets a small receive buffer (set on the listener, so
 * accepted sockets inherit it) to make that happen sooner.
 *
 * msg_test_server_new_no_accept(): Linux completes the TCP handshake of
 * connections waiting in the listen backlog, so a listener that only
 * never accepts would not make a connect stall. The server therefore
 * fills its own backlog (listen backlog 1) with connections it makes
 * itself; once the backlog is full the kernel drops further SYNs and a
 * client's connect stays pending. What such a server tests is the
 * client's connect clock, not any server behaviour.
 */
#include "config.h"

#include "msg-test-server.h"

#include <errno.h>
#include <gsasl.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>

struct _MsgTestServer
{
  GSocket         *listener;
  guint16          port;
  char           **scripts;
  gboolean         no_accept;
  GPtrArray       *fillers; /* (element-type GSocket) */
  GTlsCertificate *certificate;
  GThread         *thread;
  GCancellable    *stop;
  GPollFD          stop_fd;

  GMutex     mutex;
  GCond      cond;
  unsigned   n_accepted;
  unsigned   n_finished;
  unsigned   n_marks;
  gint64     mark_time;
  gboolean   gate_open;
  GPtrArray *received; /* (element-type GByteArray) */
  char      *error;
};

typedef struct
{
  MsgTestServer     *server;
  unsigned           index;
  GSocket           *socket;
  GSocketConnection *tcp;
  GIOStream         *tls; /* (nullable) */
  GIOStream         *stream;
  GByteArray        *input;
  gboolean           closed; /* the client closed, or the connection failed */
} Conn;

static void
server_set_error (MsgTestServer *self,
                  const char    *format,
                  ...) G_GNUC_PRINTF (2, 3);

static void
server_set_error (MsgTestServer *self,
                  const char    *format,
                  ...)
{
  va_list args;
  char   *message;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_mutex_lock (&self->mutex);
  if (self->error == NULL)
    self->error = message;
  else
    g_free (message);
  g_mutex_unlock (&self->mutex);
}

static void
conn_record (Conn         *c,
             const guint8 *data,
             gsize         length)
{
  g_mutex_lock (&c->server->mutex);
  g_byte_array_append (c->server->received->pdata[c->index], data, (guint) length);
  g_mutex_unlock (&c->server->mutex);
}

/* Reads what is available, waiting up to @timeout_us (-1: forever).
 * Returns 1 when data arrived, 0 when the client closed (or an error),
 * -1 when the time is up. */
static int
conn_read_some_max (Conn  *c,
                    gsize  max,
                    gint64 timeout_us)
{
  GPollableInputStream *input = G_POLLABLE_INPUT_STREAM (g_io_stream_get_input_stream (c->stream));
  gint64                until = timeout_us < 0 ? -1 : g_get_monotonic_time () + timeout_us;

  if (c->closed)
    return 0;
  for (;;)
    {
      g_autoptr (GError) error = NULL;
      guint8 buffer[4096];
      gssize n = g_pollable_input_stream_read_nonblocking (input, buffer, MIN (max, sizeof buffer), NULL, &error);
      gint64 wait_us;

      if (n > 0)
        {
          g_byte_array_append (c->input, buffer, (guint) n);
          conn_record (c, buffer, (gsize) n);
          return 1;
        }
      if (n == 0 || !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        {
          c->closed = TRUE;
          return 0;
        }
      g_clear_error (&error);
      wait_us = until < 0 ? -1 : MAX (until - g_get_monotonic_time (), 0);
      if (until >= 0 && wait_us == 0)
        return -1;
      if (!g_socket_condition_timed_wait (c->socket, G_IO_IN, wait_us, c->server->stop, &error))
        {
          if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
            return -1;
          c->closed = TRUE;
          return 0;
        }
    }
}

static int
conn_read_some (Conn  *c,
                gint64 timeout_us)
{
  return conn_read_some_max (c, 4096, timeout_us);
}

/* One line without its line end; FALSE when the client closed first. */
static char *
conn_read_line (Conn *c)
{
  for (;;)
    {
      guint8 *lf = c->input->len > 0 ? memchr (c->input->data, '\n', c->input->len) : NULL;

      if (lf != NULL)
        {
          gsize length = (gsize) (lf - c->input->data);
          char *line = g_strndup ((const char *) c->input->data, length);

          g_byte_array_remove_range (c->input, 0, (guint) length + 1);
          if (length > 0 && line[length - 1] == '\r')
            line[length - 1] = '\0';
          return line;
        }
      if (conn_read_some (c, -1) == 0)
        return NULL;
    }
}

static gboolean
conn_write (Conn       *c,
            const char *data,
            gsize       length)
{
  g_autoptr (GError) error = NULL;
  GOutputStream *output = g_io_stream_get_output_stream (c->stream);

  if (c->closed)
    return FALSE;
  if (!g_output_stream_write_all (output, data, length, NULL, c->server->stop, &error) ||
      !g_output_stream_flush (output, c->server->stop, &error))
    {
      c->closed = TRUE;
      return FALSE;
    }
  return TRUE;
}

/* Waits @ms milliseconds, still reading (and recording) what comes, so a
 * close is noticed. FALSE when the client closed. */
static gboolean
conn_sleep (Conn    *c,
            unsigned ms)
{
  gint64 until = g_get_monotonic_time () + (gint64) ms * 1000;

  for (;;)
    {
      gint64 left = until - g_get_monotonic_time ();

      if (left <= 0)
        return TRUE;
      if (conn_read_some (c, left) == 0)
        return FALSE;
    }
}

/* Reads until the client closes (EOF or error). */
static void
conn_wait_close (Conn *c)
{
  while (conn_read_some (c, -1) != 0)
    g_byte_array_set_size (c->input, 0);
}

/* Waits, reading nothing, until the client closes (FIN or RST). */
static void
conn_wait_hangup (Conn *c)
{
  GPollFD cancel_fd;

  if (!g_cancellable_make_pollfd (c->server->stop, &cancel_fd))
    return;
  while (!c->closed && !g_cancellable_is_cancelled (c->server->stop))
    {
      struct pollfd fds[2] = {
        { g_socket_get_fd (c->socket), POLLRDHUP, 0 },
        { cancel_fd.fd, POLLIN, 0 },
      };

      if (poll (fds, 2, -1) < 0 && errno != EINTR)
        break;
      if (fds[0].revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL))
        c->closed = TRUE;
    }
  g_cancellable_release_fd (c->server->stop);
}

/* @may_fail: the client is expected to refuse the handshake (a bad
 * certificate): a failure is not the script's error, and the script goes
 * on (its next steps see the closed connection). */
static gboolean
conn_starttls (Conn    *c,
               gboolean may_fail)
{
  g_autoptr (GError) error = NULL;
  GIOStream *tls;

  if (c->server->certificate == NULL)
    {
      server_set_error (c->server, "starttls: no certificate (msg_test_server_set_tls)");
      return FALSE;
    }
  /* Plaintext the client sent before the handshake is not TLS. */
  g_byte_array_set_size (c->input, 0);
  tls = g_tls_server_connection_new (G_IO_STREAM (c->tcp), c->server->certificate, &error);
  if (tls == NULL)
    {
      server_set_error (c->server, "starttls: %s", error->message);
      return FALSE;
    }
  if (!g_tls_connection_handshake (G_TLS_CONNECTION (tls), c->server->stop, &error))
    {
      if (!may_fail)
        server_set_error (c->server, "starttls: handshake failed: %s", error->message);
      g_object_unref (tls);
      c->closed = TRUE;
      return may_fail;
    }
  c->tls = tls;
  c->stream = tls;
  return TRUE;
}

/* Decodes \r \n \t \\ \xHH. */
static GString *
unescape (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p != '\\' || p[1] == '\0')
        {
          g_string_append_c (out, *p);
          continue;
        }
      p++;
      switch (*p)
        {
        case 'r':
          g_string_append_c (out, '\r');
          break;
        case 'n':
          g_string_append_c (out, '\n');
          break;
        case 't':
          g_string_append_c (out, '\t');
          break;
        case 'x':
          if (g_ascii_isxdigit (p[1]) && g_ascii_isxdigit (p[2]))
            {
              g_string_append_c (out, (char) (g_ascii_xdigit_value (p[1]) * 16 + g_ascii_xdigit_value (p[2])));
              p += 2;
            }
          else
            g_string_append (out, "\\x");
          break;
        default:
          g_string_append_c (out, *p);
        }
    }
  return out;
}

/* The channel bindings of the server's end, for SCRAM-*-PLUS. */
static void
sasl_set_channel_binding (Conn          *c,
                          Gsasl_session *session)
{
  static const struct
  {
    GTlsChannelBindingType type;
    Gsasl_property         property;
  } kinds[] = {
    { G_TLS_CHANNEL_BINDING_TLS_EXPORTER, GSASL_CB_TLS_EXPORTER },
    { G_TLS_CHANNEL_BINDING_TLS_UNIQUE, GSASL_CB_TLS_UNIQUE },
  };

  for (gsize i = 0; c->tls != NULL && i < G_N_ELEMENTS (kinds); i++)
    {
      g_autoptr (GByteArray) data = g_byte_array_new ();
      g_autofree char *b64 = NULL;

      if (!g_tls_connection_get_channel_binding_data (G_TLS_CONNECTION (c->tls), kinds[i].type, data, NULL))
        continue;
      b64 = g_base64_encode (data->data, data->len);
      gsasl_property_set (session, kinds[i].property, b64);
    }
}

/* The initial response in the command line "AUTH MECH [IR]" or
 * "AUTHINFO SASL MECH [IR]": NULL when there is none. */
static char *
sasl_initial_response (const char *line,
                       const char *mechanism)
{
  g_auto (GStrv) words = g_strsplit (line, " ", -1);

  for (guint i = 0; words[i] != NULL; i++)
    if (g_ascii_strcasecmp (words[i], mechanism) == 0 && words[i + 1] != NULL)
      return g_strdup (g_str_equal (words[i + 1], "=") ? "" : words[i + 1]);
  return NULL;
}

/* "sasl MECH USER PASSWORD CONT OK FAIL [E]": reads the command that
 * starts MECH and plays GNU SASL's server side with USER and PASSWORD,
 * writing "CONT challenge" lines and at the end "OK ..." or "FAIL ...";
 * with E, a SCRAM server-final message becomes "e=E" and the end FAIL.
 * Over TLS the server knows the channel binding (so it refuses a SCRAM
 * client's GS2 "y"), except with "sasl-nocb": a server without it. */
static gboolean
conn_sasl (Conn       *c,
           const char *arg,
           gboolean    bind)
{
  g_auto (GStrv) args = g_strsplit (arg, " ", 7);
  g_autofree char *line = NULL;
  g_autofree char *input = NULL;
  Gsasl           *context = NULL;
  Gsasl_session   *session = NULL;
  gboolean         ok = FALSE;
  int              rc;

  if (g_strv_length (args) < 6)
    {
      server_set_error (c->server, "sasl: needs MECH USER PASSWORD CONT OK FAIL");
      return FALSE;
    }
  line = conn_read_line (c);
  if (line == NULL || strstr (line, args[0]) == NULL)
    {
      server_set_error (c->server, "sasl %s: got \"%s\"", args[0], line != NULL ? line : "(closed)");
      return FALSE;
    }
  input = sasl_initial_response (line, args[0]);
  if (gsasl_init (&context) != GSASL_OK || gsasl_server_start (context, args[0], &session) != GSASL_OK)
    {
      server_set_error (c->server, "sasl %s: GNU SASL cannot start it", args[0]);
      gsasl_done (context);
      return FALSE;
    }
  gsasl_property_set (session, GSASL_PASSWORD, args[2]);
  gsasl_property_set (session, GSASL_SCRAM_ITER, "4096");
  /* The salts of RFC 5802's (SHA-1) and RFC 7677's (SHA-256) examples. */
  gsasl_property_set (session, GSASL_SCRAM_SALT,
                      g_str_has_prefix (args[0], "SCRAM-SHA-1") ? "QSXCR+Q6sek8bf92" : "W22ZaJ0SNY7soEsUEjb6gQ==");
  if (bind)
    sasl_set_channel_binding (c, session);
  for (;;)
    {
      char            *out = NULL;
      g_autofree char *challenge = NULL;

      rc = gsasl_step64 (session, input != NULL ? input : "", &out);
      challenge = g_strdup (out != NULL ? out : "");
      gsasl_free (out);
      if (rc == GSASL_OK && args[6] != NULL)
        {
          g_autofree char *e = g_strdup_printf ("e=%s", args[6]);

          g_free (challenge);
          challenge = g_base64_encode ((const guchar *) e, strlen (e));
          rc = GSASL_AUTHENTICATION_ERROR;
        }
      if (rc != GSASL_OK && rc != GSASL_NEEDS_MORE && *challenge == '\0')
        break;
      if (rc == GSASL_OK && *challenge != '\0' && g_str_equal (args[4], "283"))
        {
          /* NNTP's success with the server's last data. */
          g_autofree char *text = g_strdup_printf ("283 %s\r\n", challenge);
          const char      *authid = gsasl_property_fast (session, GSASL_AUTHID);

          if (g_strcmp0 (authid, args[1]) == 0)
            {
              gsasl_finish (session);
              gsasl_done (context);
              return conn_write (c, text, strlen (text));
            }
          break;
        }
      if (rc == GSASL_NEEDS_MORE || *challenge != '\0')
        {
          g_autofree char *text = g_strdup_printf ("%s %s\r\n", args[3], challenge);

          g_free (input);
          if (!conn_write (c, text, strlen (text)) || (input = conn_read_line (c)) == NULL)
            break;
          if (g_str_equal (input, "*"))
            break;
        }
      if (rc != GSASL_NEEDS_MORE)
        {
          const char *authid = gsasl_property_fast (session, GSASL_AUTHID);

          ok = rc == GSASL_OK && g_strcmp0 (authid, args[1]) == 0;
          break;
        }
    }
  gsasl_finish (session);
  gsasl_done (context);
  {
    g_autofree char *verdict = g_strdup_printf ("%s %s\r\n", ok ? args[4] : args[5],
                                                ok ? "Authentication successful" : "Authentication failed");
    return conn_write (c, verdict, strlen (verdict));
  }
}

/* One BDAT command (RFC 3030) and the bytes of its chunk. */
static gboolean
conn_bdat (Conn *c)
{
  g_autofree char *line = conn_read_line (c);
  guint64          size;
  char            *end = NULL;

  if (line == NULL || g_ascii_strncasecmp (line, "BDAT ", 5) != 0)
    {
      server_set_error (c->server, "bdat: got \"%s\"", line != NULL ? line : "(closed)");
      return FALSE;
    }
  size = g_ascii_strtoull (line + 5, &end, 10);
  if (end == line + 5 || (*end != '\0' && g_ascii_strcasecmp (end, " LAST") != 0))
    {
      server_set_error (c->server, "bdat: bad command \"%s\"", line);
      return FALSE;
    }
  while (c->input->len < size)
    if (conn_read_some_max (c, 65536, -1) == 0)
      {
        server_set_error (c->server, "bdat: the client closed within the chunk");
        return FALSE;
      }
  g_byte_array_remove_range (c->input, 0, (guint) size);
  return TRUE;
}

/* Plays one step; FALSE ends the script. */
static gboolean
conn_step (Conn       *c,
           const char *step)
{
  const char      *space = strchr (step, ' ');
  g_autofree char *verb = space != NULL ? g_strndup (step, (gsize) (space - step)) : g_strdup (step);
  const char      *arg = space != NULL ? space + 1 : "";

  if (g_str_equal (verb, "send") || g_str_equal (verb, "line"))
    {
      g_autoptr (GString) text = unescape (arg);

      if (g_str_equal (verb, "line"))
        g_string_append (text, "\r\n");
      return conn_write (c, text->str, text->len);
    }
  else if (g_str_equal (verb, "expect"))
    {
      g_autoptr (GString) prefix = unescape (arg);
      g_autofree char *line = conn_read_line (c);

      if (line == NULL)
        {
          server_set_error (c->server, "expect \"%s\": the client closed the connection", prefix->str);
          return FALSE;
        }
      if (g_ascii_strncasecmp (line, prefix->str, prefix->len) != 0)
        {
          server_set_error (c->server, "expect \"%s\": got \"%s\"", prefix->str, line);
          return FALSE;
        }
      return TRUE;
    }
  else if (g_str_equal (verb, "sasl"))
    return conn_sasl (c, arg, TRUE);
  else if (g_str_equal (verb, "sasl-nocb"))
    return conn_sasl (c, arg, FALSE);
  else if (g_str_equal (verb, "read"))
    {
      unsigned n = (unsigned) g_ascii_strtoull (arg, NULL, 10);

      for (unsigned i = 0; i < n; i++)
        {
          g_autofree char *line = conn_read_line (c);

          if (line == NULL)
            return FALSE;
        }
      return TRUE;
    }
  else if (g_str_equal (verb, "data"))
    {
      for (;;)
        {
          g_autofree char *line = conn_read_line (c);

          if (line == NULL)
            {
              server_set_error (c->server, "data: the client closed before the final \".\"");
              return FALSE;
            }
          if (g_str_equal (line, "."))
            return TRUE;
        }
    }
  else if (g_str_equal (verb, "bdat"))
    return conn_bdat (c);
  else if (g_str_equal (verb, "sleep"))
    return conn_sleep (c, (unsigned) g_ascii_strtoull (arg, NULL, 10));
  else if (g_str_equal (verb, "drip"))
    {
      char    *rest = NULL;
      gsize    n = (gsize) g_ascii_strtoull (arg, &rest, 10);
      unsigned ms = (unsigned) g_ascii_strtoull (rest, &rest, 10);
      g_autoptr (GString) text = unescape (*rest == ' ' ? rest + 1 : rest);

      if (n == 0)
        n = 1;
      for (gsize i = 0; i < text->len; i += n)
        {
          if (!conn_write (c, text->str + i, MIN (n, text->len - i)))
            return FALSE;
          if (i + n < text->len && !conn_sleep (c, ms))
            return FALSE;
        }
      return TRUE;
    }
  else if (g_str_equal (verb, "stall") || g_str_equal (verb, "stop-reading") ||
           g_str_equal (verb, "tls-stall"))
    {
      conn_wait_hangup (c);
      return FALSE;
    }
  else if (g_str_equal (verb, "close"))
    {
      g_socket_shutdown (c->socket, FALSE, TRUE, NULL);
      conn_wait_close (c);
      return FALSE;
    }
  else if (g_str_equal (verb, "reset"))
    {
      struct linger linger = { 1, 0 };

      setsockopt (g_socket_get_fd (c->socket), SOL_SOCKET, SO_LINGER, &linger, sizeof linger);
      g_socket_close (c->socket, NULL);
      c->closed = TRUE;
      return FALSE;
    }
  else if (g_str_equal (verb, "starttls"))
    return conn_starttls (c, FALSE);
  else if (g_str_equal (verb, "tls-attempt"))
    return conn_starttls (c, TRUE);
  else if (g_str_equal (verb, "small-rcvbuf"))
    return TRUE; /* acted on when the server was made */
  else if (g_str_equal (verb, "mark"))
    {
      g_mutex_lock (&c->server->mutex);
      c->server->n_marks++;
      c->server->mark_time = g_get_monotonic_time ();
      g_cond_broadcast (&c->server->cond);
      g_mutex_unlock (&c->server->mutex);
      return TRUE;
    }
  else if (g_str_equal (verb, "gate"))
    {
      g_mutex_lock (&c->server->mutex);
      while (!c->server->gate_open && !g_cancellable_is_cancelled (c->server->stop))
        g_cond_wait (&c->server->cond, &c->server->mutex);
      g_mutex_unlock (&c->server->mutex);
      return !g_cancellable_is_cancelled (c->server->stop);
    }
  else if (g_str_equal (verb, "repeat"))
    {
      char   *rest = NULL;
      guint64 n = g_ascii_strtoull (arg, &rest, 10);
      g_autoptr (GString) text = unescape (*rest == ' ' ? rest + 1 : rest);

      for (guint64 i = 0; n == 0 || i < n; i++)
        if (!conn_write (c, text->str, text->len))
          return FALSE;
      return TRUE;
    }
  else if (g_str_equal (verb, "read-slowly"))
    {
      char    *rest = NULL;
      gsize    n = (gsize) g_ascii_strtoull (arg, &rest, 10);
      unsigned ms = (unsigned) g_ascii_strtoull (rest, NULL, 10);

      /* Input already buffered counts as read: a slow reader throttles
       * what the socket accepts. */
      g_byte_array_set_size (c->input, 0);
      for (;;)
        {
          gint64 until = g_get_monotonic_time () + (gint64) ms * 1000;
          gint64 left;

          if (conn_read_some_max (c, MAX (n, 1), -1) == 0)
            return FALSE;
          g_byte_array_set_size (c->input, 0);
          /* Sleep without reading, still noticing a hang-up. */
          while ((left = until - g_get_monotonic_time ()) > 0)
            {
              struct pollfd fd = { g_socket_get_fd (c->socket), POLLRDHUP, 0 };

              if (poll (&fd, 1, (int) ((left + 999) / 1000)) > 0 &&
                  (fd.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0)
                {
                  c->closed = TRUE;
                  return FALSE;
                }
            }
        }
    }
  else if (g_str_equal (verb, "wait-close"))
    {
      conn_wait_close (c);
      return FALSE;
    }

  server_set_error (c->server, "unknown script step \"%s\"", step);
  return FALSE;
}

static void
play (MsgTestServer *self,
      GSocket       *socket,
      unsigned       index)
{
  Conn        c = { 0 };
  const char *script;
  g_auto (GStrv) steps = NULL;
  gboolean ended_early = FALSE;

  c.server = self;
  c.index = index;
  c.socket = socket;
  c.tcp = g_socket_connection_factory_create_connection (socket);
  c.stream = G_IO_STREAM (c.tcp);
  c.input = g_byte_array_new ();

  script = self->scripts[MIN (index, g_strv_length (self->scripts) - 1)];
  steps = g_strsplit (script, "\n", -1);
  for (unsigned i = 0; steps[i] != NULL && !ended_early; i++)
    {
      char *step = g_strchug (steps[i]);
      gsize length = strlen (step);

      if (length > 0 && step[length - 1] == '\r')
        step[length - 1] = '\0';
      if (step[0] == '\0' || step[0] == '#')
        continue;
      ended_early = !conn_step (&c, step);
    }
  if (!ended_early)
    conn_wait_close (&c);

  /* Drop the streams without a TLS close_notify. */
  g_socket_close (socket, NULL);
  g_clear_object (&c.tls);
  g_clear_object (&c.tcp);
  g_byte_array_unref (c.input);
}

/* Accepts the next connection; NULL once stopped or on a real error.
 * The kernel takes a descriptor before it looks at the backlog, so an
 * accept() made while a test holds RLIMIT_NOFILE down fails with EMFILE
 * even with nothing to accept. The server therefore waits for a
 * connection first, and when one arrives while descriptors are short it
 * leaves it in the backlog and tries again a little later: the limit is
 * the client's test, not the server's. */
static GSocket *
server_accept (MsgTestServer *self,
               GError       **error)
{
  for (;;)
    {
      g_autoptr (GError) local_error = NULL;
      GSocket *socket;

      if (!g_socket_condition_wait (self->listener, G_IO_IN, self->stop, error))
        return NULL;
      socket = g_socket_accept (self->listener, self->stop, &local_error);
      if (socket != NULL)
        return socket;
      if (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      poll (NULL, 0, 10);
    }
}

static gpointer
server_thread (gpointer data)
{
  MsgTestServer *self = data;

  while (!g_cancellable_is_cancelled (self->stop))
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (GSocket) socket = server_accept (self, &error);
      unsigned index;

      if (socket == NULL)
        {
          if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            server_set_error (self, "accept: %s", error->message);
          break;
        }
      g_mutex_lock (&self->mutex);
      index = self->n_accepted++;
      g_ptr_array_add (self->received, g_byte_array_new ());
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->mutex);

      play (self, socket, index);

      g_mutex_lock (&self->mutex);
      self->n_finished++;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->mutex);
    }
  return NULL;
}

static MsgTestServer *
server_new (const char *const *scripts,
            gboolean           no_accept)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  MsgTestServer *self = g_new0 (MsgTestServer, 1);

  g_mutex_init (&self->mutex);
  g_cond_init (&self->cond);
  self->scripts = g_strdupv ((char **) scripts);
  self->no_accept = no_accept;
  self->received = g_ptr_array_new_with_free_func ((GDestroyNotify) g_byte_array_unref);
  self->stop = g_cancellable_new ();
  /* Hold the stop cancellable's descriptor for the server's lifetime, so
   * the process's descriptor count does not change with where the server
   * thread is waiting. */
  g_cancellable_make_pollfd (self->stop, &self->stop_fd);

  self->listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  for (unsigned i = 0; self->scripts[i] != NULL; i++)
    if (strstr (self->scripts[i], "stop-reading") != NULL ||
        strstr (self->scripts[i], "read-slowly") != NULL ||
        strstr (self->scripts[i], "small-rcvbuf") != NULL)
      {
        g_socket_set_option (self->listener, SOL_SOCKET, SO_RCVBUF, 4096, &error);
        g_assert_no_error (error);
        break;
      }
  g_socket_bind (self->listener, address, TRUE, &error);
  g_assert_no_error (error);
  g_socket_set_listen_backlog (self->listener, no_accept ? 1 : 16);
  g_socket_listen (self->listener, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (self->listener, &error);
  g_assert_no_error (error);
  self->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));

  if (no_accept)
    {
      self->fillers = g_ptr_array_new_with_free_func (g_object_unref);
      for (unsigned i = 0; i < 16; i++)
        {
          g_autoptr (GSocketAddress) target = g_inet_socket_address_new (loopback, self->port);
          GSocket *filler = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
          g_autoptr (GError) connect_error = NULL;
          gboolean connected;

          g_assert_no_error (error);
          g_socket_set_blocking (filler, FALSE);
          g_ptr_array_add (self->fillers, filler);
          connected = g_socket_connect (filler, target, NULL, &connect_error);
          if (!connected && g_error_matches (connect_error, G_IO_ERROR, G_IO_ERROR_PENDING))
            connected = g_socket_condition_timed_wait (filler, G_IO_OUT, 200000, NULL, NULL) &&
                        g_socket_check_connect_result (filler, NULL);
          if (!connected)
            break; /* the backlog is full */
        }
    }
  else
    self->thread = g_thread_new ("msg-test-server", server_thread, self);
  return self;
}

MsgTestServer *
msg_test_server_new (const char *script)
{
  const char *scripts[] = { script, NULL };

  return server_new (scripts, FALSE);
}

MsgTestServer *
msg_test_server_new_multi (const char *const *scripts)
{
  g_assert_nonnull (scripts);
  g_assert_nonnull (scripts[0]);
  return server_new (scripts, FALSE);
}

MsgTestServer *
msg_test_server_new_no_accept (void)
{
  const char *scripts[] = { "", NULL };

  return server_new (scripts, TRUE);
}

void
msg_test_server_free (MsgTestServer *self)
{
  if (self == NULL)
    return;
  g_cancellable_cancel (self->stop);
  /* Wakes a script waiting at a gate. */
  g_mutex_lock (&self->mutex);
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->mutex);
  if (self->thread != NULL)
    g_thread_join (self->thread);
  g_socket_close (self->listener, NULL);
  g_object_unref (self->listener);
  g_clear_pointer (&self->fillers, g_ptr_array_unref);
  g_clear_object (&self->certificate);
  g_cancellable_release_fd (self->stop);
  g_object_unref (self->stop);
  g_ptr_array_unref (self->received);
  g_strfreev (self->scripts);
  g_free (self->error);
  g_mutex_clear (&self->mutex);
  g_cond_clear (&self->cond);
  g_free (self);
}

void
msg_test_server_set_tls (MsgTestServer   *self,
                         GTlsCertificate *certificate)
{
  g_mutex_lock (&self->mutex);
  g_set_object (&self->certificate, certificate);
  g_mutex_unlock (&self->mutex);
}

guint16
msg_test_server_get_port (MsgTestServer *self)
{
  return self->port;
}

/* Waits until every accepted connection's script has ended with the
 * client's close observed and no connection waits in the backlog; with
 * @need_one, until at least one connection has been accepted, too. */
static gboolean
server_wait_finished (MsgTestServer *self,
                      gboolean       need_one,
                      unsigned       timeout_ms)
{
  gint64   until = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gboolean done = FALSE;

  if (self->no_accept)
    return TRUE;

  g_mutex_lock (&self->mutex);
  for (;;)
    {
      gboolean pending = (g_socket_condition_check (self->listener, G_IO_IN) & G_IO_IN) != 0;

      done = !pending && self->n_finished == self->n_accepted && (!need_one || self->n_accepted > 0);
      if (done || g_get_monotonic_time () >= until)
        break;
      /* Short waits: a backlog connection is only seen by polling. */
      g_cond_wait_until (&self->cond, &self->mutex, MIN (until, g_get_monotonic_time () + 10000));
    }
  g_mutex_unlock (&self->mutex);
  return done;
}

/* Returns TRUE once a connection has been accepted and every accepted
 * connection's script has ended with the client's close observed, with no
 * connection waiting in the backlog. Before the first connection it waits
 * for one (returning TRUE there made it useless as a sync point: a client
 * still connecting looked finished). A no-accept server has nothing to
 * observe and returns TRUE. */
gboolean
msg_test_server_wait_closed (MsgTestServer *self,
                             unsigned       timeout_ms)
{
  return server_wait_finished (self, TRUE, timeout_ms);
}

/* Like msg_test_server_wait_closed(), but TRUE at once when no connection
 * was ever made: for a teardown after a test that may never connect. */
gboolean
msg_test_server_wait_idle (MsgTestServer *self,
                           unsigned       timeout_ms)
{
  return server_wait_finished (self, FALSE, timeout_ms);
}

gboolean
msg_test_server_wait_mark (MsgTestServer *self,
                           unsigned       n,
                           unsigned       timeout_ms)
{
  gint64   until = g_get_monotonic_time () + (gint64) timeout_ms * 1000;
  gboolean reached;

  g_mutex_lock (&self->mutex);
  while (self->n_marks < n && g_cond_wait_until (&self->cond, &self->mutex, until))
    ;
  reached = self->n_marks >= n;
  g_mutex_unlock (&self->mutex);
  return reached;
}

void
msg_test_server_open_gate (MsgTestServer *self)
{
  g_mutex_lock (&self->mutex);
  self->gate_open = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->mutex);
}

gint64
msg_test_server_get_mark_time (MsgTestServer *self)
{
  gint64 time;

  g_mutex_lock (&self->mutex);
  time = self->mark_time;
  g_mutex_unlock (&self->mutex);
  return time;
}

unsigned
msg_test_server_get_n_connections (MsgTestServer *self)
{
  unsigned n;

  g_mutex_lock (&self->mutex);
  n = self->n_accepted;
  g_mutex_unlock (&self->mutex);
  return n;
}

GBytes *
msg_test_server_get_received (MsgTestServer *self,
                              unsigned       index)
{
  GBytes *bytes = NULL;

  g_mutex_lock (&self->mutex);
  if (index < self->received->len)
    {
      GByteArray *array = self->received->pdata[index];

      bytes = g_bytes_new (array->data, array->len);
    }
  g_mutex_unlock (&self->mutex);
  return bytes != NULL ? bytes : g_bytes_new (NULL, 0);
}

char *
msg_test_server_get_received_text (MsgTestServer *self,
                                   unsigned       index)
{
  g_autoptr (GBytes) bytes = msg_test_server_get_received (self, index);
  gsize size = g_bytes_get_size (bytes);

  return g_strndup (size > 0 ? g_bytes_get_data (bytes, NULL) : "", size);
}

char *
msg_test_server_get_error (MsgTestServer *self)
{
  char *error;

  g_mutex_lock (&self->mutex);
  error = g_strdup (self->error);
  g_mutex_unlock (&self->mutex);
  return error;
}
