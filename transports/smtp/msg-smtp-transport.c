/* msg-smtp-transport.c: the SMTP transport
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-smtp-transport.h"
#include "msg-smtp-bdat-stream.h"
#include "msg-smtp-private.h"
#include "msg-smtp-scan-stream.h"

#include <string.h>

/* The SMTP transport (RFC 5321 with SIZE, 8BITMIME, SMTPUTF8, DSN,
 * PIPELINING, STARTTLS and AUTH), written as plain sequential stages over
 * the deadline-aware primitives of MsgConnection. Every wait is bounded by
 * the connection's two clocks and the caller's cancellable; any failure of
 * a primitive has already aborted the connection. The transport keeps the
 * connection between messages and forgets it after any error that leaves
 * the session in doubt; a refused transaction is reset with RSET and the
 * connection kept. */

/* Commands per pipelined write (RFC 2920 section 3.1 asks for bounded
 * batches so that neither side fills its buffers and deadlocks). */
#define PIPELINE_BATCH 100

/* The time QUIT gets in msg_transport_close() at most. */
#define QUIT_TIMEOUT 5.0

/* The envelope of the next queued send, written behind the final dot of
 * the running one (RFC 2920 section 3.1, docs/design.md decision 14): the
 * replies are read when that send gets its turn. */
typedef struct
{
  MsgMessage *message; /* (owned) */
  gint64      start;   /* its operation's start: which call it is */
  guint       n_rcpt;
  gboolean    eight_bit;
  gboolean    data_sent; /* DATA went too (no CHUNKING) */
  char       *mail;      /* (owned) */
  char       *notify;    /* (owned) (nullable) */
} Prefetch;

static void
prefetch_free (Prefetch *p)
{
  g_object_unref (p->message);
  g_free (p->mail);
  g_free (p->notify);
  g_free (p);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Prefetch, prefetch_free)

struct _MsgSmtpTransport
{
  MsgTransport parent_instance;

  MsgConnection *connection;     /* (owned) (nullable): the kept connection */
  char          *connection_key; /* (owned) (nullable): what shaped it */
  Capabilities   caps;
  gint64         send_start;    /* the last send's operation start */
  gint64         send_deadline; /* and its total deadline */
  Prefetch      *next;          /* (owned) (nullable): see prefetch_envelope() */
  /* The settings last read and the snapshot they came from (see
   * settings_lookup()); only the send's thread touches them. */
  MsgConfiguration *settings_source; /* (owned) (nullable) */
  Settings          settings;
  char             *settings_key; /* (owned) (nullable) */
};

G_DEFINE_DYNAMIC_TYPE_EXTENDED (MsgSmtpTransport, msg_smtp_transport, MSG_TYPE_TRANSPORT, G_TYPE_FLAG_FINAL, {})

/* How every message goes to an SMTP server: without Bcc, and with no line
 * over 998 octets (RFC 5321 4.5.3.1.6), which no extension lifts. */
#define SMTP_WRITE_FLAGS (MSG_WRITE_FLAGS_OMIT_BCC | MSG_WRITE_FLAGS_LINE_LIMIT)

/* The settings of @config, and their connection key: read once for a run
 * of sends with equal snapshots (docs/design.md, decision 20), which
 * spares each send some twenty field reads and a relay list. */
static const Settings *
settings_lookup (MsgSmtpTransport *self,
                 MsgConfiguration *config,
                 const char      **key)
{
  if (self->settings_source == NULL || !msg_configuration_equal (self->settings_source, config))
    {
      _msg_smtp_settings_clear (&self->settings);
      g_free (self->settings_key);
      _msg_smtp_settings_load (&self->settings, config);
      self->settings_key = _msg_smtp_settings_connection_key (&self->settings);
      g_set_object (&self->settings_source, config);
    }
  *key = self->settings_key;
  return &self->settings;
}

/* Errors. */

static void
capabilities_clear (Capabilities *caps)
{
  g_strfreev (caps->auth);
  memset (caps, 0, sizeof *caps);
}

/* Sets @error from a refusing @reply at @stage: 4xx is a temporary
 * failure, 5xx is @permanent_code, anything else a protocol error. */
void
_msg_smtp_set_reply_error (GError          **error,
                           MsgConnection    *connection,
                           MsgTransportError permanent_code,
                           const char       *stage,
                           const MsgReply   *reply)
{
  unsigned          code = msg_reply_get_code (reply);
  MsgTransportError error_code;

  if (msg_reply_is_transient_failure (reply))
    error_code = MSG_TRANSPORT_ERROR_TEMPORARY_FAILURE;
  else if (msg_reply_is_permanent_failure (reply))
    error_code = permanent_code;
  else
    error_code = MSG_TRANSPORT_ERROR_PROTOCOL;

  g_set_error (error, MSG_TRANSPORT_ERROR, error_code,
               "SMTP server %s:%u %s %s: %u %s",
               msg_connection_get_host (connection), msg_connection_get_port (connection),
               error_code == MSG_TRANSPORT_ERROR_PROTOCOL ? "answered unexpectedly" : "refused",
               stage, code, msg_reply_get_text (reply));
}

/* 421 means the server is closing the connection (RFC 5321 section
 * 3.8): the replies still owed will never come, so this reply is the
 * outcome, not the closed connection that reading them would report. */
gboolean
_msg_smtp_reply_is_closing (GError        **error,
                            MsgConnection  *connection,
                            const char     *stage,
                            const MsgReply *reply)
{
  if (msg_reply_get_code (reply) != 421)
    return FALSE;
  _msg_smtp_set_reply_error (error, connection, MSG_TRANSPORT_ERROR_TEMPORARY_FAILURE, stage, reply);
  return TRUE;
}

/* Adds the stage to an error from the connection layer, keeping its code. */
void
_msg_smtp_prefix_stage (GError    **error,
                        const char *stage)
{
  g_prefix_error (error, "SMTP %s: ", stage);
}

/* Commands. */

/* The one place that checks the final bytes of a command (reliability.md
 * 2.4): no CR, LF, NUL or other control character, and a bounded length.
 * Fails with %G_IO_ERROR_INVALID_ARGUMENT and aborts the connection. */
gboolean
_msg_smtp_check_command (MsgConnection *connection,
                         const char    *command,
                         gsize          max_length,
                         GError       **error)
{
  gsize length = strlen (command);

  for (const guchar *p = (const guchar *) command; *p != '\0'; p++)
    {
      if (*p < 0x20 || *p == 0x7f)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       "Refusing to send an SMTP command with a control character "
                       "(0x%02x) to %s:%u",
                       *p, msg_connection_get_host (connection),
                       msg_connection_get_port (connection));
          msg_connection_abort (connection);
          return FALSE;
        }
    }
  if (length + 2 > max_length)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "Refusing to send an SMTP command of %" G_GSIZE_FORMAT " bytes to %s:%u "
                   "(the limit is %" G_GSIZE_FORMAT ")",
                   length + 2, msg_connection_get_host (connection),
                   msg_connection_get_port (connection), max_length);
      msg_connection_abort (connection);
      return FALSE;
    }
  return TRUE;
}

gboolean
_msg_smtp_queue_command (MsgConnection *connection,
                         GError       **error,
                         const char    *format,
                         ...)
{
  g_autofree char *command = NULL;
  va_list          args;

  va_start (args, format);
  command = g_strdup_vprintf (format, args);
  va_end (args);
  return _msg_smtp_check_command (connection, command, MAX_COMMAND, error) &&
         msg_connection_queue_command (connection, command, error);
}

gboolean
_msg_smtp_queue_secret (MsgConnection *connection,
                        const char    *command,
                        const char    *trace_text,
                        GError       **error)
{
  return _msg_smtp_check_command (connection, command, MAX_AUTH_LINE, error) &&
         msg_connection_queue_secret_command (connection, command, trace_text, error);
}

MsgReply *
_msg_smtp_read_reply (MsgConnection *connection,
                      const char    *stage,
                      GCancellable  *cancellable,
                      GError       **error)
{
  MsgReply *reply = msg_connection_read_reply (connection, MSG_REPLY_STYLE_SMTP, cancellable, error);

  if (reply == NULL)
    _msg_smtp_prefix_stage (error, stage);
  return reply;
}

/* Sends @command and reads its reply. */
MsgReply *
_msg_smtp_exchange (MsgConnection *connection,
                    const char    *command,
                    const char    *stage,
                    GCancellable  *cancellable,
                    GError       **error)
{
  if (!_msg_smtp_check_command (connection, command, MAX_COMMAND, error) ||
      !msg_connection_queue_command (connection, command, error))
    return NULL;
  return _msg_smtp_read_reply (connection, stage, cancellable, error);
}

/* Session set-up. */

static void
parse_capabilities (Capabilities   *caps,
                    const MsgReply *reply)
{
  const char *const *lines = msg_reply_get_lines (reply);
  g_autoptr (GPtrArray) auth = g_ptr_array_new_with_free_func (g_free);

  capabilities_clear (caps);
  caps->esmtp = TRUE;
  /* The first line is the server's name and greeting. Empty lines (Postfix
   * smtp-sink ends with "250 ") and unknown keywords are skipped. */
  for (guint i = 1; lines[i] != NULL; i++)
    {
      g_autofree char *copy = g_strstrip (g_strdup (lines[i]));
      g_auto (GStrv) words = NULL;
      g_autofree char *keyword = NULL;

      if (*copy == '\0')
        continue;
      words = g_strsplit (copy, " ", -1);
      keyword = g_ascii_strup (words[0], -1);

      if (g_str_equal (keyword, "PIPELINING"))
        caps->pipelining = TRUE;
      else if (g_str_equal (keyword, "8BITMIME"))
        caps->eightbitmime = TRUE;
      else if (g_str_equal (keyword, "SMTPUTF8"))
        caps->smtputf8 = TRUE;
      else if (g_str_equal (keyword, "DSN"))
        caps->dsn = TRUE;
      else if (g_str_equal (keyword, "CHUNKING"))
        caps->chunking = TRUE;
      else if (g_str_equal (keyword, "BINARYMIME"))
        caps->binarymime = TRUE;
      else if (g_str_equal (keyword, "STARTTLS"))
        caps->starttls = TRUE;
      else if (g_str_equal (keyword, "SIZE"))
        {
          caps->size = TRUE;
          if (words[1] != NULL)
            caps->size_max = g_ascii_strtoull (words[1], NULL, 10);
        }
      else if (g_str_equal (keyword, "AUTH") || g_str_has_prefix (keyword, "AUTH="))
        {
          /* "AUTH=LOGIN PLAIN" is the pre-standard form some servers send. */
          if (keyword[4] == '=')
            g_ptr_array_add (auth, g_strdup (keyword + 5));
          for (guint j = 1; words[j] != NULL; j++)
            if (words[j][0] != '\0')
              g_ptr_array_add (auth, g_ascii_strup (words[j], -1));
        }
    }
  if (auth->len > 0)
    {
      g_ptr_array_add (auth, NULL);
      caps->auth = (GStrv) g_ptr_array_free (g_steal_pointer (&auth), FALSE);
    }
}

/* The configured or fully-qualified host name, else the address literal
 * of this end of the connection (RFC 5321 4.1.4): servers may refuse a
 * name that is not fully qualified, such as "localhost". */
static char *
ehlo_name (MsgConnection  *connection,
           const Settings *s)
{
  g_autoptr (GInetAddress) address = NULL;
  g_autofree char *text = NULL;

  if (s->ehlo_name != NULL)
    return g_strdup (s->ehlo_name);
  address = msg_connection_get_local_address (connection);
  if (address == NULL)
    return g_strdup ("localhost");
  text = g_inet_address_to_string (address);
  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6)
    return g_strdup_printf ("[IPv6:%s]", text);
  return g_strdup_printf ("[%s]", text);
}

/* EHLO, or HELO when the server does not know EHLO. */
static gboolean
smtp_ehlo (MsgConnection  *connection,
           const Settings *s,
           Capabilities   *caps,
           GCancellable   *cancellable,
           GError        **error)
{
  g_autofree char *name = ehlo_name (connection, s);
  g_autofree char *command = g_strdup_printf ("EHLO %s", name);
  g_autoptr (MsgReply) reply = NULL;

  capabilities_clear (caps);
  reply = _msg_smtp_exchange (connection, command, "EHLO", cancellable, error);
  if (reply == NULL)
    return FALSE;
  if (msg_reply_get_code (reply) == 250)
    {
      parse_capabilities (caps, reply);
      return TRUE;
    }
  if (!msg_reply_is_permanent_failure (reply))
    {
      _msg_smtp_set_reply_error (error, connection, MSG_TRANSPORT_ERROR_FAILED, "EHLO", reply);
      msg_connection_abort (connection);
      return FALSE;
    }

  /* An old server (RFC 821): HELO, no extensions. */
  g_clear_pointer (&reply, msg_reply_unref);
  g_free (command);
  command = g_strdup_printf ("HELO %s", name);
  reply = _msg_smtp_exchange (connection, command, "HELO", cancellable, error);
  if (reply == NULL)
    return FALSE;
  if (msg_reply_get_code (reply) != 250)
    {
      _msg_smtp_set_reply_error (error, connection, MSG_TRANSPORT_ERROR_FAILED, "HELO", reply);
      msg_connection_abort (connection);
      return FALSE;
    }
  return TRUE;
}

static gboolean
smtp_starttls (MsgConnection  *connection,
               const Settings *s,
               Capabilities   *caps,
               GCancellable   *cancellable,
               GError        **error)
{
  g_autoptr (MsgReply) reply = NULL;

  if (s->implicit_tls || s->starttls == STARTTLS_NEVER)
    return TRUE; /* RFC 3207 4.2: never a second TLS session */

  if (!caps->starttls)
    {
      if (s->starttls == STARTTLS_OPPORTUNISTIC)
        return TRUE;
      g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_TLS_UNAVAILABLE,
                   "SMTP server %s:%u does not offer STARTTLS, and smtpstarttls is required",
                   s->host, s->port);
      msg_connection_abort (connection);
      return FALSE;
    }

  reply = _msg_smtp_exchange (connection, "STARTTLS", "STARTTLS", cancellable, error);
  if (reply == NULL)
    return FALSE;
  if (msg_reply_get_code (reply) != 220)
    {
      if (s->starttls == STARTTLS_OPPORTUNISTIC && msg_reply_get_code (reply) >= 400)
        return TRUE; /* carry on in the clear, as the mode allows */
      g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_TLS_UNAVAILABLE,
                   "SMTP server %s:%u refused STARTTLS: %u %s",
                   s->host, s->port, msg_reply_get_code (reply), msg_reply_get_text (reply));
      msg_connection_abort (connection);
      return FALSE;
    }
  if (!msg_connection_starttls (connection, cancellable, error))
    {
      _msg_smtp_prefix_stage (error, "STARTTLS");
      return FALSE;
    }
  /* What the server said in the clear is forgotten (RFC 3207 4.2). */
  return smtp_ehlo (connection, s, caps, cancellable, error);
}

/* Connects, reads the greeting, and runs EHLO, STARTTLS and AUTH. */
static MsgConnection *
smtp_open (const Settings *s,
           gint64          deadline,
           Capabilities   *caps,
           GCancellable   *cancellable,
           GError        **error)
{
  g_autoptr (MsgConnection) connection = msg_connection_new (s->host, s->port);
  g_autoptr (MsgReply) greeting = NULL;

  msg_connection_set_timeout (connection, s->timeout);
  msg_connection_set_deadline (connection, deadline);
  msg_connection_set_tls_ca_file (connection, s->ca_file);
  msg_connection_set_tls_verify (connection, s->tls_verify);

  if (!msg_connection_connect (connection, s->implicit_tls, cancellable, error))
    {
      _msg_smtp_prefix_stage (error, "connect");
      return NULL;
    }
  greeting = _msg_smtp_read_reply (connection, "greeting", cancellable, error);
  if (greeting == NULL)
    return NULL;
  if (msg_reply_get_code (greeting) != 220)
    {
      _msg_smtp_set_reply_error (error, connection, MSG_TRANSPORT_ERROR_FAILED, "the session (greeting)",
                                 greeting);
      msg_connection_abort (connection);
      return NULL;
    }
  if (!smtp_ehlo (connection, s, caps, cancellable, error) ||
      !smtp_starttls (connection, s, caps, cancellable, error) ||
      !_msg_smtp_auth (connection, s, caps, cancellable, error))
    return NULL;
  return g_steal_pointer (&connection);
}

/* Whether a failure to open a session says that the relay cannot be
 * reached (nothing was sent), so that the next relay may be tried. */
static gboolean
relay_unreachable (const GError *error)
{
  return error->domain == G_RESOLVER_ERROR ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_HOST_UNREACHABLE) ||
         g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NETWORK_UNREACHABLE);
}

/* smtp_open() on each relay in order (smtprelaymode is about a flusher's
 * many connections; one connection always fails over in order), moving
 * on when one cannot be reached, all under the one @deadline. @s names
 * the relay connected to (or the last tried). */
static MsgConnection *
smtp_open_relays (Settings     *s,
                  gint64        deadline,
                  Capabilities *caps,
                  GCancellable *cancellable,
                  GError      **error)
{
  g_autoptr (GString) earlier = g_string_new (NULL);

  for (guint i = 0;; i++)
    {
      g_autoptr (GError) local_error = NULL;
      MsgConnection *connection;

      if (i < s->relays->len)
        {
          g_free (s->host);
          s->host = g_strdup (g_network_address_get_hostname (s->relays->pdata[i]));
          s->port = g_network_address_get_port (s->relays->pdata[i]);
        }
      capabilities_clear (caps);
      connection = smtp_open (s, deadline, caps, cancellable, &local_error);
      if (connection != NULL)
        return connection;
      if (i + 1 < s->relays->len && relay_unreachable (local_error) &&
          !g_cancellable_is_cancelled (cancellable) && g_get_monotonic_time () < deadline)
        {
          g_string_append_printf (earlier, "%s%s", local_error->message, "; then ");
          continue;
        }
      if (earlier->len > 0)
        g_propagate_prefixed_error (error, g_steal_pointer (&local_error), "%s", earlier->str);
      else
        g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }
}

/* RSET after a failed transaction keeps the connection; if RSET fails the
 * connection is dropped. */
static void
smtp_rset (MsgConnection *connection,
           GCancellable  *cancellable)
{
  g_autoptr (GError) local_error = NULL;
  g_autoptr (MsgReply) reply = NULL;

  if (!msg_connection_is_connected (connection))
    return;
  reply = _msg_smtp_exchange (connection, "RSET", "RSET", cancellable, &local_error);
  if (reply != NULL && msg_reply_get_code (reply) != 250)
    msg_connection_abort (connection);
}

typedef struct
{
  MsgReply *reply;    /* (owned) (nullable): the latest RCPT reply */
  gboolean  deferred; /* the server's recipient limit: next transaction */
} RcptResult;

static void
rcpt_result_clear (RcptResult *r)
{
  g_clear_pointer (&r->reply, msg_reply_unref);
}

static char *
describe_rejections (const Envelope *e,
                     GArray         *results)
{
  GString *text = g_string_new (NULL);

  for (guint i = 0; i < results->len; i++)
    {
      const RcptResult *r = &g_array_index (results, RcptResult, i);
      MsgReply         *reply = r->reply;

      if (reply == NULL || r->deferred || msg_reply_get_code (reply) / 100 == 2)
        continue;
      if (text->len > 0)
        g_string_append (text, "; ");
      g_string_append_printf (text, "%s: %u %s", g_array_index (e->recipients, Mailbox, i).address,
                              msg_reply_get_code (reply), msg_reply_get_text (reply));
    }
  return g_string_free (text, FALSE);
}

static MsgRecipientStatus *
status_from_reply (const char     *address,
                   const MsgReply *reply)
{
  return msg_recipient_status_new (address, msg_reply_get_code (reply),
                                   msg_reply_get_enhanced_status (reply),
                                   msg_reply_get_text (reply));
}

/* Whether @reply to a RCPT is the server's recipient limit (RFC 5321
 * section 4.5.3.1.10) rather than a refusal of this recipient: a 452 with
 * the enhanced code 4.5.3 or with none, after at least one recipient was
 * accepted in this transaction (@accepted_before). A 452 with another
 * enhanced code (4.2.2 mailbox full, 4.3.1 out of storage) is a refusal.
 * Without any accepted recipient a limit is no limit (the next
 * transaction would meet it again), so the 452 is a refusal too: this
 * keeps the loop of transactions finite. */
static gboolean
reply_is_recipient_limit (const MsgReply *reply,
                          guint           accepted_before)
{
  const char *enhanced;

  if (accepted_before == 0 || msg_reply_get_code (reply) != 452)
    return FALSE;
  enhanced = msg_reply_get_enhanced_status (reply);
  return enhanced == NULL || *enhanced == '\0' || g_str_equal (enhanced, "4.5.3");
}

/* The addresses of the recipients among @in (indices) whose latest reply
 * accepted them. */
static char *
describe_recipients (const Envelope *e,
                     GArray         *results,
                     GArray         *in)
{
  GString *text = g_string_new (NULL);

  for (guint k = 0; k < in->len; k++)
    {
      guint     i = g_array_index (in, guint, k);
      MsgReply *reply = g_array_index (results, RcptResult, i).reply;

      if (reply == NULL || msg_reply_get_code (reply) / 100 != 2)
        continue;
      if (text->len > 0)
        g_string_append (text, ", ");
      g_string_append (text, g_array_index (e->recipients, Mailbox, i).address);
    }
  return g_string_free (text, FALSE);
}

/* Why the transaction ended; whether the caller may keep the connection
 * (after RSET) is decided from it. */
typedef enum
{
  TX_OK,
  TX_NOT_STARTED, /* refused before MAIL: the connection is idle */
  TX_REFUSED,     /* a clean refusal: RSET and keep */
  TX_BROKEN,      /* the connection is already aborted or must be */
} TxResult;

/* One message on its way to its recipients: the parts that stay the same
 * from one transaction to the next, the recipients' outcome, and the
 * state of the current transaction (RFC 5321 section 3.3), which
 * transaction_start() resets. */
typedef struct
{
  MsgSmtpTransport *self;
  MsgConnection    *connection;
  const Settings   *s;
  MsgMessage       *message;
  const Envelope   *e;
  guint64           size;
  GCancellable     *cancellable;

  GArray  *pending;  /* (owned): indices of the recipients to try */
  GArray  *results;  /* (owned): RcptResult for every recipient */
  GArray  *deferred; /* (owned): indices for the next transaction */
  gboolean later;    /* an earlier transaction delivered */
  gboolean answered; /* a MAIL got a reply, not 421 */

  /* The current transaction. */
  gboolean      eight_bit;   /* the message as written has 8-bit content */
  MsgWriteFlags write_flags; /* how the message is written */
  char         *mail;        /* (owned) (nullable): the MAIL command */
  char         *notify;      /* (owned) (nullable): the DSN NOTIFY parameter */
  MsgReply     *mail_reply;  /* (owned) (nullable) */
  MsgReply     *data_reply;  /* (owned) (nullable) */
  gboolean      data_sent;   /* DATA went out pipelined behind the RCPTs */
  gboolean      chunking;    /* BDAT instead of DATA (RFC 3030) */
  guint         ok;          /* RCPTs accepted so far */
  gboolean      limited;     /* a RCPT met the server's recipient limit */
  MsgReply     *final;       /* (owned) (nullable): the reply to the final dot */
  Prefetch     *prefetch;    /* (nullable): this send's envelope, already written */
  BdatStream   *bdat;        /* (owned) (nullable): the chunks of the message */
} Transaction;

static void
transaction_init (Transaction      *tx,
                  MsgSmtpTransport *self,
                  MsgConnection    *connection,
                  const Settings   *s,
                  MsgMessage       *message,
                  const Envelope   *e,
                  guint64           size,
                  GCancellable     *cancellable)
{
  memset (tx, 0, sizeof *tx);
  tx->self = self;
  tx->connection = connection;
  tx->s = s;
  tx->message = message;
  tx->e = e;
  tx->size = size;
  tx->cancellable = cancellable;
  tx->results = g_array_sized_new (FALSE, TRUE, sizeof (RcptResult), e->recipients->len);
  tx->pending = g_array_sized_new (FALSE, FALSE, sizeof (guint), e->recipients->len);
  tx->deferred = g_array_new (FALSE, FALSE, sizeof (guint));
  g_array_set_clear_func (tx->results, (GDestroyNotify) rcpt_result_clear);
  g_array_set_size (tx->results, e->recipients->len);
  for (guint i = 0; i < e->recipients->len; i++)
    g_array_append_val (tx->pending, i);
}

/* Forgets what the previous transaction left. */
static void
transaction_start (Transaction *tx)
{
  g_clear_pointer (&tx->mail, g_free);
  g_clear_pointer (&tx->notify, g_free);
  g_clear_pointer (&tx->mail_reply, msg_reply_unref);
  g_clear_pointer (&tx->data_reply, msg_reply_unref);
  g_clear_pointer (&tx->final, msg_reply_unref);
  g_clear_object (&tx->bdat);
  tx->eight_bit = FALSE;
  tx->write_flags = SMTP_WRITE_FLAGS;
  tx->data_sent = FALSE;
  tx->chunking = FALSE;
  tx->ok = 0;
  tx->limited = FALSE;
}

static void
transaction_clear (Transaction *tx)
{
  transaction_start (tx);
  g_clear_pointer (&tx->results, g_array_unref);
  g_clear_pointer (&tx->pending, g_array_unref);
  g_clear_pointer (&tx->deferred, g_array_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Transaction, transaction_clear)

static RcptResult *
pending_result (Transaction *tx,
                guint        k)
{
  return &g_array_index (tx->results, RcptResult, g_array_index (tx->pending, guint, k));
}

/* A server without 8BITMIME gets no 8-bit byte in a body (issue 14, item
 * 7; SMTPUTF8 is about addresses and headers, and does not say the server
 * takes 8-bit bodies): the parts with 8-bit content go re-encoded to
 * quoted-printable or base64, and the message is measured again as it
 * will be written. What stays 8-bit is in the headers, which only
 * SMTPUTF8 allows; a signed part cannot be re-encoded. */
static gboolean
check_7bit (Transaction *tx,
            GError     **error)
{
  const Capabilities *caps = &tx->self->caps;
  const Settings     *s = tx->s;
  g_autoptr (ScanStream) scan = g_object_new (SCAN_TYPE_STREAM, NULL);
  g_autoptr (GError) local_error = NULL;

  tx->write_flags = SMTP_WRITE_FLAGS | MSG_WRITE_FLAGS_ENCODE_8BIT;
  if (!msg_message_write_to_stream_full (tx->message, G_OUTPUT_STREAM (scan), tx->write_flags,
                                         tx->cancellable, &local_error))
    {
      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return FALSE;
        }
      g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_NOT_SUPPORTED,
                   "The message has 8-bit content but SMTP server %s:%u does not support "
                   "8BITMIME, and it cannot be re-encoded: %s",
                   s->host, s->port, local_error->message);
      return FALSE;
    }
  tx->size = scan->count;
  tx->eight_bit = scan->eight_bit;
  if (tx->eight_bit && !caps->smtputf8)
    {
      g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_NOT_SUPPORTED,
                   "The message has 8-bit headers but SMTP server %s:%u supports neither "
                   "8BITMIME nor SMTPUTF8",
                   s->host, s->port);
      return FALSE;
    }
  return TRUE;
}

/* Checks that need the server's capabilities, before MAIL. */
static gboolean
check_capabilities (Transaction *tx,
                    GError     **error)
{
  const Capabilities *caps = &tx->self->caps;
  const Settings     *s = tx->s;

  if (tx->e->utf8 && !caps->smtputf8)
    {
      g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_NOT_SUPPORTED,
                   "An address has a non-ASCII local part but SMTP server %s:%u does not "
                   "support SMTPUTF8",
                   s->host, s->port);
      return FALSE;
    }
  tx->eight_bit = msg_message_has_8bit_content (tx->message);
  /* BINARYMIME (RFC 3030) takes any body, but only in BDAT chunks. */
  if (tx->eight_bit && !caps->eightbitmime && !(tx->chunking && caps->binarymime) && !check_7bit (tx, error))
    return FALSE;
  if (caps->size && caps->size_max > 0 && tx->size > caps->size_max)
    {
      g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_MESSAGE_REJECTED,
                   "The message (%" G_GUINT64_FORMAT " bytes) is larger than SMTP server "
                   "%s:%u accepts (%" G_GUINT64_FORMAT " bytes)",
                   tx->size, s->host, s->port, caps->size_max);
      return FALSE;
    }
  return TRUE;
}

/* The MAIL command with its parameters (RFC 1870, 6152, 6531, 3461),
 * and the NOTIFY parameter of the RCPTs. */
static void
build_mail_command (Transaction *tx)
{
  const Capabilities *caps = &tx->self->caps;
  MsgDsnOptions       dsn = msg_message_get_dsn_options (tx->message);
  GString            *mail = g_string_new (NULL);

  g_string_append_printf (mail, "MAIL FROM:<%s>", tx->e->sender.wire);
  if (caps->size)
    g_string_append_printf (mail, " SIZE=%" G_GUINT64_FORMAT, tx->size);
  if (tx->eight_bit && caps->eightbitmime)
    g_string_append (mail, " BODY=8BITMIME");
  else if (tx->eight_bit && tx->chunking && caps->binarymime)
    g_string_append (mail, " BODY=BINARYMIME");
  if (tx->e->utf8)
    g_string_append (mail, " SMTPUTF8");
  if (caps->dsn && dsn != MSG_DSN_DEFAULT)
    {
      g_autofree char *envid = _msg_smtp_envid (tx->message);

      if (dsn & MSG_DSN_RETURN_FULL)
        g_string_append (mail, " RET=FULL");
      else if (dsn & MSG_DSN_RETURN_HEADERS)
        g_string_append (mail, " RET=HDRS");
      /* The Message-ID identifies the envelope in the DSNs that come back;
       * without it when too long (RFC 3461 4.4). */
      if (envid != NULL)
        g_string_append_printf (mail, " ENVID=%s", envid);
      tx->notify = _msg_smtp_dsn_notify (dsn);
    }
  tx->mail = g_string_free (mail, FALSE);
}

static gboolean
queue_rcpt (Transaction *tx,
            guint        k,
            GError     **error)
{
  const Mailbox *m = &g_array_index (tx->e->recipients, Mailbox, g_array_index (tx->pending, guint, k));

  if (tx->notify != NULL)
    return _msg_smtp_queue_command (tx->connection, error, "RCPT TO:<%s> NOTIFY=%s", m->wire, tx->notify);
  return _msg_smtp_queue_command (tx->connection, error, "RCPT TO:<%s>", m->wire);
}

static gboolean
read_mail_reply (Transaction *tx,
                 GError     **error)
{
  tx->mail_reply = _msg_smtp_read_reply (tx->connection, "MAIL FROM", tx->cancellable, error);
  if (tx->mail_reply == NULL ||
      _msg_smtp_reply_is_closing (error, tx->connection, "the sender (MAIL FROM)", tx->mail_reply))
    return FALSE;
  tx->answered = TRUE;
  return TRUE;
}

/* Reads the reply to the RCPT of the pending recipient @k, and notes
 * whether it met the server's recipient limit. */
static gboolean
read_rcpt_reply (Transaction *tx,
                 guint        k,
                 GError     **error)
{
  RcptResult *r = pending_result (tx, k);

  r->reply = _msg_smtp_read_reply (tx->connection, "RCPT TO", tx->cancellable, error);
  if (r->reply == NULL ||
      _msg_smtp_reply_is_closing (error, tx->connection, "a recipient (RCPT TO)", r->reply))
    return FALSE;
  if (msg_reply_get_code (r->reply) / 100 == 2)
    tx->ok++;
  else if (reply_is_recipient_limit (r->reply, tx->ok))
    tx->limited = TRUE;
  return TRUE;
}

/* Reads the replies to a pipelined batch: MAIL's if not read yet, the
 * RCPTs' of pending recipients @start to @end, and DATA's if it went. */
static gboolean
read_batch_replies (Transaction *tx,
                    guint        start,
                    guint        end,
                    GError     **error)
{
  if (tx->mail_reply == NULL && !read_mail_reply (tx, error))
    return FALSE;
  for (guint k = start; k < end; k++)
    if (!read_rcpt_reply (tx, k, error))
      return FALSE;
  if (tx->data_sent)
    {
      tx->data_reply = _msg_smtp_read_reply (tx->connection, "DATA", tx->cancellable, error);
      if (tx->data_reply == NULL)
        return FALSE;
    }
  return TRUE;
}

/* With PIPELINING, MAIL, the RCPTs and DATA go in batches of at most
 * PIPELINE_BATCH commands, each in one write; every reply of a batch is
 * read before deciding anything (RFC 2920 section 3.1). */
static gboolean
mail_rcpt_pipelined (Transaction *tx,
                     GError     **error)
{
  guint    next = 0;
  gboolean done = FALSE;

  while (!done)
    {
      guint batch_start = next;
      guint queued = tx->mail_reply == NULL ? 1 : 0;

      for (; next < tx->pending->len && queued < PIPELINE_BATCH; next++, queued++)
        if (!queue_rcpt (tx, next, error))
          return FALSE;
      if (next == tx->pending->len && queued < PIPELINE_BATCH)
        {
          /* With CHUNKING, the first BDAT goes with the message. */
          if (!tx->chunking && !_msg_smtp_queue_command (tx->connection, error, "DATA"))
            return FALSE;
          tx->data_sent = !tx->chunking;
          done = TRUE;
        }

      if (!read_batch_replies (tx, batch_start, next, error))
        return FALSE;
      /* At the server's recipient limit, the batches not yet written
       * wait for the next transaction; DATA then goes alone. */
      if (msg_reply_get_code (tx->mail_reply) / 100 != 2 || tx->limited)
        break;
    }
  return TRUE;
}

/* Without PIPELINING, one command at a time, up to the server's
 * recipient limit: the RCPTs not sent then wait for the next transaction
 * with those deferred. */
static gboolean
mail_rcpt_serial (Transaction *tx,
                  GError     **error)
{
  if (!read_mail_reply (tx, error))
    return FALSE;
  for (guint k = 0; k < tx->pending->len && msg_reply_get_code (tx->mail_reply) / 100 == 2 && !tx->limited; k++)
    if (!queue_rcpt (tx, k, error) || !read_rcpt_reply (tx, k, error))
      return FALSE;
  return TRUE;
}

/* Sorts the replies in order: accepted, deferred by the server's
 * recipient limit (with PIPELINING every RCPT after the limit gets its
 * 452), or refused. */
static void
sort_rcpt_replies (Transaction *tx,
                   guint       *accepted,
                   guint       *rejected)
{
  for (guint k = 0; k < tx->pending->len; k++)
    {
      guint       i = g_array_index (tx->pending, guint, k);
      RcptResult *r = &g_array_index (tx->results, RcptResult, i);

      if (r->reply != NULL && msg_reply_get_code (r->reply) / 100 == 2)
        (*accepted)++;
      else if (r->reply == NULL || reply_is_recipient_limit (r->reply, *accepted))
        {
          r->deferred = TRUE;
          g_array_append_val (tx->deferred, i);
        }
      else
        (*rejected)++;
    }
}

/* RECIPIENTS_DEFERRED when every refusal of this transaction is a 4xx
 * and no earlier transaction delivered (a retry of the whole message then
 * delivers nothing twice); else RECIPIENTS_REJECTED. */
static MsgTransportError
refusal_code (const Transaction *tx)
{
  if (tx->later)
    return MSG_TRANSPORT_ERROR_RECIPIENTS_REJECTED;
  for (guint k = 0; k < tx->pending->len; k++)
    {
      guint             i = g_array_index (tx->pending, guint, k);
      const RcptResult *r = &g_array_index (tx->results, RcptResult, i);

      if (r->reply != NULL && !r->deferred && msg_reply_get_code (r->reply) / 100 != 2 &&
          msg_reply_get_code (r->reply) / 100 != 4)
        return MSG_TRANSPORT_ERROR_RECIPIENTS_REJECTED;
    }
  return MSG_TRANSPORT_ERROR_RECIPIENTS_DEFERRED;
}

/* A refusal before the message: with DATA already accepted only dropping
 * the connection avoids delivering an empty message (the peer sees no
 * final dot). */
static TxResult
refused_before_data (Transaction *tx)
{
  if (tx->data_reply != NULL && msg_reply_get_code (tx->data_reply) == 354)
    return TX_BROKEN;
  return TX_REFUSED;
}

/* The commands of a prefetched envelope, or NULL if one cannot go. */
static GPtrArray *
prefetch_commands (Transaction *next)
{
  g_autoptr (GPtrArray) commands = g_ptr_array_new_with_free_func (g_free);

  g_ptr_array_add (commands, g_strdup (next->mail));
  for (guint k = 0; k < next->pending->len; k++)
    {
      const Mailbox *m = &g_array_index (next->e->recipients, Mailbox, k);

      if (next->notify != NULL)
        g_ptr_array_add (commands, g_strdup_printf ("RCPT TO:<%s> NOTIFY=%s", m->wire, next->notify));
      else
        g_ptr_array_add (commands, g_strdup_printf ("RCPT TO:<%s>", m->wire));
    }
  if (!next->chunking)
    g_ptr_array_add (commands, g_strdup ("DATA"));
  for (guint i = 0; i < commands->len; i++)
    if (!_msg_smtp_check_command (next->connection, commands->pdata[i], MAX_COMMAND, NULL))
      return NULL;
  return g_steal_pointer (&commands);
}

/* Cross-message pipelining (RFC 2920 section 3.1: the message content may
 * be the first command of a group): when the send queued next goes to the
 * same connection, its MAIL, RCPTs and DATA are written right behind this
 * message's final dot, so that each message costs one round trip. Only a
 * plain case is taken (one batch of recipients, no re-encoding); anything
 * else is left for that send's own turn. Nothing here fails the running
 * send: a doubt means no prefetch. */
static void
prefetch_envelope (Transaction *tx)
{
  MsgSmtpTransport *self = tx->self;
  g_autoptr (MsgMessage) message = NULL;
  g_autoptr (MsgConfiguration) config = NULL;
  g_auto (Settings) s = { 0 };
  g_auto (Envelope) e = { 0 };
  g_auto (Transaction) next = { 0 };
  g_autoptr (GPtrArray) commands = NULL;
  const char *key;
  guint64     size = 0;
  gint64      start = 0;
  Prefetch   *p;

  if (!self->caps.pipelining || self->next != NULL ||
      !msg_transport_peek_queued_send (MSG_TRANSPORT (self), &message, &config, &start))
    return;
  _msg_smtp_settings_copy (&s, settings_lookup (self, config, &key));
  if (g_strcmp0 (key, self->connection_key) != 0 || !_msg_smtp_envelope_init (&e, message, NULL) || e.recipients->len + 2 > PIPELINE_BATCH ||
      !msg_message_measure (message, SMTP_WRITE_FLAGS, &size, tx->cancellable, NULL))
    return;
  transaction_init (&next, self, tx->connection, &s, message, &e, size, tx->cancellable);
  transaction_start (&next);
  next.chunking = s.use_chunking && self->caps.chunking;
  if (!check_capabilities (&next, NULL) || next.write_flags != SMTP_WRITE_FLAGS)
    return;
  build_mail_command (&next);
  commands = prefetch_commands (&next);
  if (commands == NULL)
    return;
  for (guint i = 0; i < commands->len; i++)
    if (!msg_connection_queue_command (tx->connection, commands->pdata[i], NULL))
      {
        /* Half an envelope is on its way: the next send must not take
         * this connection. */
        self->next = g_new0 (Prefetch, 1);
        self->next->message = g_object_ref (message);
        self->next->start = -1;
        return;
      }
  /* A server that answers the dot and the pipelined envelope in two small
   * writes without TCP_NODELAY (Postfix's smtp-sink does) holds the second
   * until the first is acknowledged: acknowledge at once, not after a
   * delayed ACK's 40 ms, until this envelope's replies are read. */
  msg_connection_set_quick_ack (tx->connection, TRUE);
  p = g_new0 (Prefetch, 1);
  p->message = g_steal_pointer (&message);
  p->start = start;
  p->n_rcpt = e.recipients->len;
  p->eight_bit = next.eight_bit;
  p->data_sent = !next.chunking;
  p->mail = g_steal_pointer (&next.mail);
  p->notify = g_steal_pointer (&next.notify);
  self->next = p;
}

/* The message in BDAT chunks (RFC 3030), the last one included: no
 * dot-stuffing, and no scan for a line that would end it. */
static TxResult
smtp_bdat (Transaction *tx,
           GError     **error)
{
  BdatStream *bdat = g_object_new (bdat_stream_get_type (), NULL);

  tx->bdat = bdat;
  bdat->connection = g_object_ref (tx->connection);
  if (tx->self->caps.pipelining)
    bdat->window = BDAT_WINDOW;
  if (!msg_transport_write_message_to_stream (MSG_TRANSPORT (tx->self), tx->message, tx->write_flags,
                                              G_OUTPUT_STREAM (bdat), tx->size, tx->cancellable, error) ||
      !_msg_smtp_bdat_stream_send (bdat, TRUE, tx->cancellable, error))
    {
      if (bdat->refusal != NULL && bdat->unanswered == 0)
        return TX_REFUSED;
      /* Cancelled or failed within a chunk: the server would take what
       * follows as the chunk's bytes. */
      msg_connection_abort (tx->connection);
      _msg_smtp_prefix_stage (error, "message data");
      return TX_BROKEN;
    }
  return TX_OK;
}

/* DATA, unless it went pipelined, the message, and its final reply. */
static TxResult
smtp_data (Transaction *tx,
           GError     **error)
{
  const Settings *s = tx->s;

  if (tx->chunking)
    {
      TxResult result = smtp_bdat (tx, error);

      if (result != TX_OK)
        return result;
    }
  else if (!tx->data_sent)
    {
      tx->data_reply = _msg_smtp_exchange (tx->connection, "DATA", "DATA", tx->cancellable, error);
      if (tx->data_reply == NULL)
        return TX_BROKEN;
    }
  if (!tx->chunking && msg_reply_get_code (tx->data_reply) != 354)
    {
      _msg_smtp_set_reply_error (error, tx->connection, MSG_TRANSPORT_ERROR_MESSAGE_REJECTED,
                                 "the message (DATA)", tx->data_reply);
      return msg_reply_get_code (tx->data_reply) / 100 == 2 ? TX_BROKEN : TX_REFUSED;
    }

  /* The message, streamed: canonical CRLF, dot-stuffed, in large writes. */
  if (!tx->chunking && !msg_transport_write_message_data (MSG_TRANSPORT (tx->self), tx->message, tx->write_flags,
                                                          tx->connection, tx->size, tx->cancellable, error))
    {
      _msg_smtp_prefix_stage (error, "message data");
      return TX_BROKEN;
    }

  /* The next queued message's envelope goes right behind the dot, when
   * this is the last transaction of this message. */
  if (tx->deferred->len == 0)
    prefetch_envelope (tx);

  /* The final dot is out: from here a failure leaves the outcome unknown
   * (docs/design.md, decision 2). */
  {
    g_autoptr (GError) local_error = NULL;

    /* With BDAT, the replies to the chunks still unanswered come first. */
    while (tx->bdat != NULL && tx->bdat->unanswered > 0)
      if (!_msg_smtp_bdat_stream_read_reply (tx->bdat, tx->cancellable, &local_error))
        break;
    if (local_error == NULL)
      tx->final = msg_connection_read_reply (tx->connection, MSG_REPLY_STYLE_SMTP, tx->cancellable,
                                             &local_error);
    if (tx->final == NULL)
      {
        g_autofree char *uncertain = describe_recipients (tx->e, tx->results, tx->pending);

        g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_OUTCOME_UNKNOWN,
                     "The whole message was sent to SMTP server %s:%u for %s but its "
                     "answer did not come, so it may or may not have been accepted: %s",
                     s->host, s->port, uncertain, local_error->message);
        return TX_BROKEN;
      }
  }
  if (tx->bdat != NULL && tx->bdat->refusal != NULL)
    {
      /* A chunk was refused: the message is, whatever LAST got. */
      _msg_smtp_bdat_stream_set_refused (tx->bdat, error);
      return TX_REFUSED;
    }
  if (msg_reply_get_code (tx->final) / 100 != 2)
    {
      _msg_smtp_set_reply_error (error, tx->connection, MSG_TRANSPORT_ERROR_MESSAGE_REJECTED,
                                 tx->chunking ? "the message (BDAT LAST)" : "the message (end of DATA)",
                                 tx->final);
      return msg_reply_is_transient_failure (tx->final) ||
                     msg_reply_is_permanent_failure (tx->final)
                 ? TX_REFUSED
                 : TX_BROKEN;
    }
  msg_transport_emit_progress (MSG_TRANSPORT (tx->self), tx->size, tx->size);
  return TX_OK;
}

/* One transaction to the pending recipients, in RFC 5321's sequence;
 * tx->deferred gets those that the server's recipient limit leaves for
 * the next one, and on success tx->final the reply to the message. */
static TxResult
smtp_transaction (Transaction *tx,
                  GError     **error)
{
  const Settings *s = tx->s;
  guint           accepted = 0;
  guint           rejected = 0;

  transaction_start (tx);
  tx->chunking = s->use_chunking && tx->self->caps.chunking;
  if (tx->prefetch == NULL)
    {
      if (!check_capabilities (tx, error))
        return TX_NOT_STARTED;
      build_mail_command (tx);
    }

  g_array_set_size (tx->deferred, 0);
  for (guint k = 0; k < tx->pending->len; k++)
    {
      RcptResult *r = pending_result (tx, k);

      rcpt_result_clear (r);
      r->deferred = FALSE;
    }

  if (tx->prefetch != NULL)
    {
      /* MAIL, the RCPTs and DATA went behind the previous message. */
      tx->mail = g_strdup (tx->prefetch->mail);
      tx->notify = g_strdup (tx->prefetch->notify);
      tx->eight_bit = tx->prefetch->eight_bit;
      tx->data_sent = tx->prefetch->data_sent;
      tx->chunking = !tx->data_sent;
      tx->prefetch = NULL;
      if (!read_batch_replies (tx, 0, tx->pending->len, error))
        return TX_BROKEN;
      /* Every reply to the prefetched envelope is in, refused or not
       * (see prefetch_envelope()). */
      msg_connection_set_quick_ack (tx->connection, FALSE);
    }
  else if (!_msg_smtp_queue_command (tx->connection, error, "%s", tx->mail) ||
           (tx->self->caps.pipelining ? !mail_rcpt_pipelined (tx, error) : !mail_rcpt_serial (tx, error)))
    return TX_BROKEN;

  if (msg_reply_get_code (tx->mail_reply) / 100 != 2)
    {
      _msg_smtp_set_reply_error (error, tx->connection, MSG_TRANSPORT_ERROR_SENDER_REJECTED,
                                 "the sender (MAIL FROM)", tx->mail_reply);
      return refused_before_data (tx); /* must not send an empty message */
    }
  sort_rcpt_replies (tx, &accepted, &rejected);

  /* Decide on the recipients, with every reply read. */
  if (accepted == 0 || (!s->send_partial && rejected > 0))
    {
      g_autofree char *refused = describe_rejections (tx->e, tx->results);

      g_array_set_size (tx->deferred, 0);
      g_set_error (error, MSG_TRANSPORT_ERROR, refusal_code (tx),
                   "SMTP server %s:%u refused %s (RCPT TO), so the message was sent to "
                   "%s: %s",
                   s->host, s->port,
                   accepted == 0 ? "every recipient" : "some recipients",
                   tx->later ? "none of this transaction's recipients" : "nobody", refused);
      return refused_before_data (tx);
    }
  return smtp_data (tx, error);
}

/* The message to every recipient: one transaction, or several when the
 * server limits the recipients per transaction (RFC 5321 section
 * 4.5.3.1.10), each to the recipients the previous one deferred, over
 * the same connection and under the same deadline. The transactions
 * are separate deliveries: when a later one fails, the error names the
 * recipients that earlier ones delivered to. */
static TxResult
smtp_deliver (MsgSmtpTransport *self,
              MsgConnection    *connection,
              const Settings   *s,
              MsgMessage       *message,
              const Envelope   *e,
              guint64           size,
              Prefetch         *prefetch,
              gboolean         *answered,
              MsgSendReport   **report_out,
              GCancellable     *cancellable,
              GError          **error)
{
  g_auto (Transaction) tx = { 0 };
  g_autoptr (GArray) delivered = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr (GString) responses = g_string_new (NULL);
  unsigned code = 0;
  g_autoptr (MsgSendReport) report = NULL;
  guint    n_transactions = 0;
  TxResult result = TX_OK;

  transaction_init (&tx, self, connection, s, message, e, size, cancellable);
  tx.prefetch = prefetch;
  while (tx.pending->len > 0)
    {
      g_autoptr (GError) local_error = NULL;

      tx.later = delivered->len > 0;
      result = smtp_transaction (&tx, &local_error);
      *answered = tx.answered;
      if (result != TX_OK)
        {
          g_autofree char *earlier = NULL;

          if (delivered->len == 0)
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return result;
            }
          /* A later transaction whose recipients were all refused ends a
           * partial send like a refusal in a single transaction would. */
          if (s->send_partial &&
              (g_error_matches (local_error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_RECIPIENTS_REJECTED) ||
               g_error_matches (local_error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_RECIPIENTS_DEFERRED)))
            break;
          earlier = describe_recipients (e, tx.results, delivered);
          g_propagate_prefixed_error (error, g_steal_pointer (&local_error),
                                      "SMTP server %s:%u accepted the message for %s in %u "
                                      "earlier transaction%s (its recipient limit split the "
                                      "send), then: ",
                                      s->host, s->port, earlier, n_transactions,
                                      n_transactions == 1 ? "" : "s");
          return result;
        }

      n_transactions++;
      for (guint k = 0; k < tx.pending->len; k++)
        {
          guint     i = g_array_index (tx.pending, guint, k);
          MsgReply *reply = g_array_index (tx.results, RcptResult, i).reply;

          if (reply != NULL && msg_reply_get_code (reply) / 100 == 2)
            g_array_append_val (delivered, i);
        }
      /* The whole reply as the server wrote it, code first (as NNTP's). */
      code = msg_reply_get_code (tx.final);
      for (const char *const *line = msg_reply_get_lines (tx.final); *line != NULL; line++)
        g_string_append_printf (responses, "%s%03u%c%s", responses->len > 0 ? "\n" : "",
                                code, line[1] != NULL ? '-' : ' ', *line);
      g_array_set_size (tx.pending, 0);
      g_array_append_vals (tx.pending, tx.deferred->data, tx.deferred->len);
    }

  report = msg_send_report_new (msg_transport_get_name (MSG_TRANSPORT (self)));
  {
    g_autofree char *message_id = msg_message_get_message_id (message);

    msg_send_report_set_message_id (report, message_id);
  }
  msg_send_report_set_server_response (report, responses->str);
  msg_send_report_set_server_code (report, code);
  for (guint i = 0; i < e->recipients->len; i++)
    msg_send_report_add_recipient_status (report,
                                          status_from_reply (g_array_index (e->recipients, Mailbox, i).address,
                                                             g_array_index (tx.results, RcptResult, i).reply));
  *report_out = g_steal_pointer (&report);
  return result;
}

/* The transport. */

static void
drop_connection (MsgSmtpTransport *self)
{
  if (self->connection != NULL)
    msg_connection_abort (self->connection);
  g_clear_object (&self->connection);
  g_clear_pointer (&self->connection_key, g_free);
  g_clear_pointer (&self->next, prefetch_free);
  capabilities_clear (&self->caps);
}

static MsgSendReport *
msg_smtp_transport_send_message_sync (MsgTransport *transport,
                                      MsgMessage   *message,
                                      GCancellable *cancellable,
                                      GError      **error)
{
  MsgSmtpTransport *self = MSG_SMTP_TRANSPORT (transport);
  g_auto (Settings) s = { 0 };
  g_auto (Envelope) e = { 0 };
  g_autofree char *key = NULL;
  g_autoptr (Prefetch) prefetch = NULL;
  MsgSendReport *report = NULL;
  const char    *cached_key;
  guint64        size = 0;
  gint64         deadline;
  TxResult       result;

  _msg_smtp_settings_copy (&s, settings_lookup (self, msg_transport_get_operation_configuration (transport), &cached_key));
  /* A copy: a prefetch during this send may read other settings. */
  key = g_strdup (cached_key);
  s.transport = transport;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    {
      drop_connection (self);
      return NULL;
    }
  if (!_msg_smtp_envelope_init (&e, message, error) ||
      !msg_message_measure (message, SMTP_WRITE_FLAGS, &size, cancellable, error))
    {
      drop_connection (self);
      return NULL;
    }
  deadline = msg_transport_get_operation_deadline (transport, s.operation_timeout, size);
  self->send_start = msg_transport_get_operation_start_time (transport);
  self->send_deadline = deadline;

  /* An envelope written behind the previous message is this send's only if
   * it was looked at for this very call; otherwise (that send was
   * cancelled or timed out in the queue) the connection holds replies and
   * perhaps a 354 for a message that will not come: close it. */
  if (self->next != NULL)
    {
      if (self->next->message == message && self->next->start == self->send_start &&
          self->next->n_rcpt == e.recipients->len)
        prefetch = g_steal_pointer (&self->next);
      else
        drop_connection (self);
    }

  /* Reuse the kept connection only if it was made with the same settings
   * and the server has neither closed it nor sent anything unasked. */
  if (prefetch == NULL && self->connection != NULL &&
      (g_strcmp0 (key, self->connection_key) != 0 || !msg_connection_check_idle (self->connection)))
    drop_connection (self);

  for (guint attempt = 0;; attempt++)
    {
      g_autoptr (GError) local_error = NULL;
      gboolean reused = self->connection != NULL;
      gboolean answered = FALSE;

      if (reused)
        {
          msg_connection_set_timeout (self->connection, s.timeout);
          msg_connection_set_deadline (self->connection, deadline);
        }
      else
        {
          self->connection = smtp_open_relays (&s, deadline, &self->caps, cancellable, error);
          if (self->connection == NULL)
            {
              drop_connection (self);
              return NULL;
            }
          g_free (self->connection_key);
          self->connection_key = g_strdup (key);
        }

      result = smtp_deliver (self, self->connection, &s, message, &e, size,
                             attempt == 0 && reused ? prefetch : NULL, &answered, &report,
                             cancellable, &local_error);
      /* The next send's envelope is behind a refused message: its replies
       * would meet the RSET; that send starts afresh. */
      if (result != TX_OK && self->next != NULL)
        drop_connection (self);
      if (result == TX_REFUSED && self->connection != NULL)
        smtp_rset (self->connection, cancellable);
      if (result == TX_BROKEN || (self->connection != NULL && !msg_connection_is_connected (self->connection)))
        drop_connection (self);

      /* A kept connection that the server dropped just before MAIL (its
       * idle time-out racing our check), closing it silently or with 421:
       * MAIL got no answer of substance, nothing can have been delivered,
       * so the message goes once more on a new connection. */
      if (result == TX_BROKEN && reused && !answered && attempt == 0 &&
          (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
           g_error_matches (local_error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_TEMPORARY_FAILURE)))
        continue;
      if (local_error != NULL)
        g_propagate_error (error, g_steal_pointer (&local_error));
      break;
    }
  return report;
}

static gboolean
msg_smtp_transport_close_sync (MsgTransport *transport,
                               GCancellable *cancellable,
                               GError      **error)
{
  MsgSmtpTransport *self = MSG_SMTP_TRANSPORT (transport);
  g_autoptr (MsgReply) reply = NULL;
  MsgConfiguration *configuration;
  double            timeout;
  gint64            until;
  gboolean          ok;

  if (self->connection == NULL)
    return TRUE;
  if (self->next != NULL || !msg_connection_check_idle (self->connection))
    {
      drop_connection (self);
      return TRUE;
    }
  /* The configuration at the close, not the one of the last send: a
   * caller who changed the clock since expects QUIT to keep to it. */
  configuration = msg_transport_get_operation_configuration (transport);
  timeout = configuration != NULL ? msg_configuration_get_seconds (configuration, "smtpconnectiontimeout") : 0;
  if (timeout <= 0)
    timeout = msg_connection_get_timeout (self->connection);
  if (timeout <= 0 || timeout > QUIT_TIMEOUT)
    timeout = QUIT_TIMEOUT;
  until = g_get_monotonic_time () + (gint64) (timeout * G_USEC_PER_SEC);
  /* Called by msg_message_send() within the send's operation: QUIT gets
   * only what is left of its deadline. */
  if (self->send_start != 0 && self->send_start == msg_transport_get_operation_start_time (transport))
    until = MIN (until, self->send_deadline);
  msg_connection_set_timeout (self->connection, timeout);
  msg_connection_set_deadline (self->connection, until);
  reply = _msg_smtp_exchange (self->connection, "QUIT", "QUIT", cancellable, error);
  ok = reply != NULL;
  if (reply != NULL && msg_reply_get_code (reply) != 221)
    {
      _msg_smtp_set_reply_error (error, self->connection, MSG_TRANSPORT_ERROR_PROTOCOL, "QUIT", reply);
      ok = FALSE;
    }
  drop_connection (self);
  return ok;
}

static gboolean
msg_smtp_transport_validate (MsgTransport *transport,
                             MsgMessage   *message,
                             gboolean      post,
                             GError      **error)
{
  MsgConfiguration *config = msg_transport_get_operation_configuration (transport);
  g_autofree char  *server = msg_configuration_get_field (config, "smtpserver");
  g_auto (Envelope) e = { 0 };
  int authenticate;

  if (server == NULL || *server == '\0')
    {
      g_set_error_literal (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_NO_SERVER,
                           "No SMTP server is configured (set the smtpserver field)");
      return FALSE;
    }
  /* Windows authentication (2) may be Kerberos, which needs no name. */
  authenticate = msg_configuration_get_int (config, "smtpauthenticate");
  if (authenticate == 1)
    {
      g_autofree char *username = msg_configuration_get_field (config, "sendusername");

      if (username == NULL || *username == '\0')
        {
          g_set_error_literal (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED,
                               "smtpauthenticate is basic (1) but sendusername is not set");
          return FALSE;
        }
    }
  /* Addresses that cannot go into a command, and commands too long, are
   * refused before any I/O. */
  return _msg_smtp_envelope_init (&e, message, error) &&
         _msg_smtp_envelope_check_lengths (&e, message, error);
}

static void
msg_smtp_transport_dispose (GObject *object)
{
  MsgSmtpTransport *self = MSG_SMTP_TRANSPORT (object);

  /* No network wait: the socket is closed, no QUIT. */
  drop_connection (self);
  g_clear_object (&self->settings_source);
  _msg_smtp_settings_clear (&self->settings);
  g_clear_pointer (&self->settings_key, g_free);
  G_OBJECT_CLASS (msg_smtp_transport_parent_class)->dispose (object);
}

static void
msg_smtp_transport_class_init (MsgSmtpTransportClass *klass)
{
  GObjectClass      *object_class = G_OBJECT_CLASS (klass);
  MsgTransportClass *transport_class = MSG_TRANSPORT_CLASS (klass);

  object_class->dispose = msg_smtp_transport_dispose;
  transport_class->send_message_sync = msg_smtp_transport_send_message_sync;
  transport_class->close_sync = msg_smtp_transport_close_sync;
  transport_class->validate = msg_smtp_transport_validate;
}

static void
msg_smtp_transport_class_finalize (MsgSmtpTransportClass *klass)
{
}

static void
msg_smtp_transport_init (MsgSmtpTransport *self)
{
}

void
msg_smtp_transport_register (GTypeModule *module)
{
  msg_smtp_transport_register_type (module);
}
