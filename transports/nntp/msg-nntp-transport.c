/* msg-nntp-transport.c: the NNTP transport
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-nntp-transport.h"

#include "msg-password-tag.h"
#include "msg-sasl-client.h"

#include <string.h>

/* Posting news over NNTP (RFC 3977), with STARTTLS (RFC 4642) and
 * AUTHINFO USER/PASS and SASL PLAIN (RFC 4643).
 *
 * The session is set up in the order the RFCs require of a mode-switching
 * server such as INN: greeting, CAPABILITIES, MODE READER when the server
 * is in transit mode, STARTTLS, AUTHINFO; CAPABILITIES is asked again after
 * each of the last three, since what a server offers changes with them and
 * must not be carried over (RFC 3977 section 12.6). The connection is then
 * kept for the next post and reused only under the same settings, after a
 * zero-wait check that the server has not closed it. When the next post
 * is already queued, its POST follows the article's terminating line
 * (RFC 3977 section 3.5), so each article costs one round trip.
 *
 * Every wait goes through MsgConnection's clocks; on any error the
 * connection is aborted (socket closed at once) and forgotten. */

#define NNTP_PORT 119
#define NNTPS_PORT 563
#define QUIT_TIMEOUT 2.0       /* seconds, at most, for QUIT on close */
#define MAX_CAPABILITIES 512   /* lines */
#define MAX_COMMAND_LENGTH 510 /* octets before CRLF (RFC 3977 3.1) */
#define MAX_AUTH_ROUNDS 5      /* docs/design.md, decision 4 */
#define MAX_POST_ATTEMPTS 3    /* POST again after MODE READER or AUTHINFO */

enum
{
  AUTH_ANONYMOUS,
  AUTH_BASIC,
  AUTH_NTLM,
};

/* The settings of one post, read from the operation's snapshot. */
typedef struct
{
  char           *host;
  guint16         port;
  gboolean        implicit_tls;
  MsgStartTlsMode starttls;
  int             auth;
  char           *user;
  char           *password;
  gboolean        allow_plaintext_auth;
  GStrv           mechanisms; /* (nullable) nntpauthmechanisms */
  MsgTransport   *transport;  /* (unowned) for MsgTransport::need-token */
  char           *ca_file;
  gboolean        tls_verify;
  double          timeout;
  double          operation_timeout;
} Settings;

struct _MsgNntpTransport
{
  MsgTransport parent_instance;

  /* The kept connection and what was learnt on it. */
  MsgConnection *connection;        /* (owned) (nullable) */
  char          *shape;             /* (owned) (nullable): settings it was made with */
  GStrv          capabilities;      /* (owned) (nullable): NULL if none were given */
  char          *no_posting_reason; /* (owned) (nullable) */
  gboolean       posting_allowed;
  gboolean       mode_reader_sent;
  gboolean       authenticated;
  gint64         post_start;      /* the last post's operation start */
  gint64         post_deadline;   /* and its total deadline */
  MsgMessage    *pipelined;       /* (owned) (nullable): whose POST went behind the last article */
  gint64         pipelined_start; /* and that post's operation start */
  /* The settings last read and the snapshot they came from (see
   * settings_lookup()); only the post's thread touches them. */
  MsgConfiguration *settings_source; /* (owned) (nullable): NULL until read */
  Settings          settings;
  char             *settings_shape_str; /* (owned) (nullable): their shape */
};

G_DEFINE_DYNAMIC_TYPE_EXTENDED (MsgNntpTransport, msg_nntp_transport, MSG_TYPE_TRANSPORT, G_TYPE_FLAG_FINAL, {})

static void
settings_clear (Settings *s)
{
  g_free (s->host);
  g_free (s->user);
  if (s->password != NULL)
    {
      explicit_bzero (s->password, strlen (s->password));
      g_free (s->password);
    }
  g_free (s->ca_file);
  g_strfreev (s->mechanisms);
}

static void
settings_load (Settings         *s,
               MsgConfiguration *configuration)
{
  g_autofree char *mechanisms = NULL;

  s->host = msg_configuration_get_field (configuration, "nntpserver");
  s->implicit_tls = msg_configuration_get_boolean (configuration, "nntpusessl");
  if (msg_configuration_is_field_set (configuration, "nntpserverport") || !s->implicit_tls)
    s->port = msg_configuration_get_int (configuration, "nntpserverport");
  else
    s->port = NNTPS_PORT;
  if (s->port == 0)
    s->port = s->implicit_tls ? NNTPS_PORT : NNTP_PORT;
  s->starttls = msg_configuration_get_int (configuration, "nntpstarttls");
  s->auth = msg_configuration_get_int (configuration, "nntpauthenticate");
  s->user = msg_configuration_get_field (configuration, "postusername");
  s->password = msg_configuration_get_secret (configuration, "postpassword");
  s->allow_plaintext_auth = msg_configuration_get_boolean (configuration, "nntpallowplaintextauth");
  mechanisms = msg_configuration_get_field (configuration, "nntpauthmechanisms");
  if (mechanisms != NULL && *mechanisms != '\0')
    {
      g_autofree char *upper = g_ascii_strup (mechanisms, -1);

      s->mechanisms = g_strsplit_set (g_strstrip (upper), " ,", -1);
    }
  s->ca_file = msg_configuration_get_field (configuration, "tlscafile");
  s->tls_verify = msg_configuration_get_boolean (configuration, "tlsverify");
  s->timeout = msg_configuration_get_seconds (configuration, "nntpconnectiontimeout");
  s->operation_timeout = msg_configuration_get_seconds (configuration, "nntpoperationtimeout");
}

/* What shaped a connection (docs/design.md, decision 7). The password
 * enters only as a keyed digest, so the transport does not keep it. */
static char *
settings_shape (const Settings *s)
{
  g_autofree char *digest = NULL;
  /* A connection authenticated with one mechanism is not reused for a
   * caller who pinned another (as SMTP's key does). */
  g_autofree char *mechanisms = s->mechanisms != NULL ? g_strjoinv (" ", s->mechanisms) : NULL;

  if (s->auth != AUTH_ANONYMOUS && s->password != NULL)
    digest = _msg_password_tag (s->password);
  return g_strdup_printf ("%s\n%u\n%d\n%d\n%d\n%s\n%s\n%s\n%d\n%d\n%s",
                          s->host, s->port, s->implicit_tls, s->starttls, s->auth,
                          s->auth != AUTH_ANONYMOUS && s->user != NULL ? s->user : "",
                          digest != NULL ? digest : "",
                          s->ca_file != NULL ? s->ca_file : "",
                          s->tls_verify, s->allow_plaintext_auth,
                          s->auth != AUTH_ANONYMOUS && mechanisms != NULL ? mechanisms : "");
}

/* The settings of @config: read once for a run of posts with equal
 * snapshots (docs/design.md, decision 20). Valid until the next call. */
static const Settings *
settings_lookup (MsgNntpTransport *self,
                 MsgConfiguration *config)
{
  if (self->settings_source == NULL || !msg_configuration_equal (self->settings_source, config))
    {
      settings_clear (&self->settings);
      memset (&self->settings, 0, sizeof self->settings);
      settings_load (&self->settings, config);
      self->settings.transport = MSG_TRANSPORT (self);
      g_free (self->settings_shape_str);
      self->settings_shape_str = settings_shape (&self->settings);
      g_set_object (&self->settings_source, config);
    }
  return &self->settings;
}

static void
drop_connection (MsgNntpTransport *self)
{
  if (self->connection != NULL)
    msg_connection_abort (self->connection);
  g_clear_object (&self->connection);
  g_clear_pointer (&self->shape, g_free);
  g_clear_pointer (&self->capabilities, g_strfreev);
  g_clear_pointer (&self->no_posting_reason, g_free);
  self->posting_allowed = FALSE;
  self->mode_reader_sent = FALSE;
  self->authenticated = FALSE;
  g_clear_object (&self->pipelined);
}

static const char *
host_of (MsgNntpTransport *self)
{
  return msg_connection_get_host (self->connection);
}

static guint
port_of (MsgNntpTransport *self)
{
  return msg_connection_get_port (self->connection);
}

/* "200 text" */
static char *
reply_line (const MsgReply *reply)
{
  return g_strdup_printf ("%03u %s", msg_reply_get_code (reply), msg_reply_get_text (reply));
}

/* An error naming the server, the stage and the server's reply. */
static void
set_reply_error (MsgNntpTransport *self,
                 GError          **error,
                 int               code,
                 const char       *stage,
                 const MsgReply   *reply)
{
  g_autofree char *line = reply_line (reply);

  g_set_error (error, MSG_TRANSPORT_ERROR, code, "%s:%u %s: %s",
               host_of (self), port_of (self), stage, line);
}

static MsgReply *
command (MsgNntpTransport *self,
         const char       *line,
         GCancellable     *cancellable,
         GError          **error)
{
  if (!msg_connection_send_command (self->connection, line, cancellable, error))
    return NULL;
  return msg_connection_read_reply (self->connection, MSG_REPLY_STYLE_NNTP, cancellable, error);
}

/* Capabilities. */

/* The words of the capability line @name, or NULL if it is not listed. */
static GStrv
capability (MsgNntpTransport *self,
            const char       *name)
{
  if (self->capabilities == NULL)
    return NULL;
  for (guint i = 0; self->capabilities[i] != NULL; i++)
    {
      g_auto (GStrv) words = g_strsplit_set (self->capabilities[i], " \t", -1);

      if (words[0] != NULL && g_ascii_strcasecmp (words[0], name) == 0)
        return g_steal_pointer (&words);
    }
  return NULL;
}

static gboolean
has_capability (MsgNntpTransport *self,
                const char       *name)
{
  g_auto (GStrv) words = capability (self, name);

  return words != NULL;
}

static gboolean
capability_has_argument (MsgNntpTransport *self,
                         const char       *name,
                         const char       *argument)
{
  g_auto (GStrv) words = capability (self, name);

  for (guint i = 1; words != NULL && words[i] != NULL; i++)
    if (g_ascii_strcasecmp (words[i], argument) == 0)
      return TRUE;
  return FALSE;
}

static gboolean
read_capabilities (MsgNntpTransport *self,
                   GCancellable     *cancellable,
                   GError          **error)
{
  g_autoptr (MsgReply) reply = NULL;

  g_clear_pointer (&self->capabilities, g_strfreev);
  reply = command (self, "CAPABILITIES", cancellable, error);
  if (reply == NULL)
    return FALSE;
  if (msg_reply_get_code (reply) == 101)
    {
      self->capabilities = msg_connection_read_dot_lines (self->connection, MAX_CAPABILITIES,
                                                          cancellable, error);
      if (self->capabilities == NULL)
        return FALSE;
      /* A reader lists POST exactly when posting is allowed now. */
      if (has_capability (self, "READER"))
        {
          self->posting_allowed = has_capability (self, "POST");
          if (!self->posting_allowed && self->no_posting_reason == NULL)
            self->no_posting_reason = g_strdup ("its capabilities do not list POST");
          else if (self->posting_allowed)
            g_clear_pointer (&self->no_posting_reason, g_free);
        }
      return TRUE;
    }
  if (msg_reply_get_code (reply) >= 400)
    return TRUE; /* An RFC 977 server: no capabilities, use the greeting. */

  set_reply_error (self, error, MSG_TRANSPORT_ERROR_PROTOCOL,
                   "answered CAPABILITIES unexpectedly", reply);
  return FALSE;
}

/* Stages. */

static gboolean
greeting_or_mode_reply (MsgNntpTransport *self,
                        MsgReply         *reply,
                        const char       *stage,
                        GError          **error)
{
  switch (msg_reply_get_code (reply))
    {
    case 200:
      self->posting_allowed = TRUE;
      g_clear_pointer (&self->no_posting_reason, g_free);
      return TRUE;
    case 201:
      self->posting_allowed = FALSE;
      g_free (self->no_posting_reason);
      self->no_posting_reason = reply_line (reply);
      return TRUE;
    case 400:
      set_reply_error (self, error, MSG_TRANSPORT_ERROR_TEMPORARY_FAILURE, stage, reply);
      return FALSE;
    case 502:
      set_reply_error (self, error, MSG_TRANSPORT_ERROR_FAILED, stage, reply);
      return FALSE;
    default:
      set_reply_error (self, error, MSG_TRANSPORT_ERROR_PROTOCOL, stage, reply);
      return FALSE;
    }
}

static gboolean
mode_reader (MsgNntpTransport *self,
             GCancellable     *cancellable,
             GError          **error)
{
  g_autoptr (MsgReply) reply = NULL;

  self->mode_reader_sent = TRUE;
  reply = command (self, "MODE READER", cancellable, error);
  if (reply == NULL ||
      !greeting_or_mode_reply (self, reply, "refused MODE READER", error))
    return FALSE;
  /* A mode-switching server is another server now (RFC 3977 5.3). */
  self->authenticated = FALSE;
  return read_capabilities (self, cancellable, error);
}

static gboolean
needs_mode_reader (MsgNntpTransport *self)
{
  return !self->mode_reader_sent && has_capability (self, "MODE-READER") &&
         !has_capability (self, "READER");
}

static gboolean
starttls (MsgNntpTransport *self,
          const Settings   *s,
          GCancellable     *cancellable,
          GError          **error)
{
  g_autoptr (MsgReply) reply = NULL;

  if (msg_connection_is_tls (self->connection) || s->starttls == MSG_STARTTLS_NEVER)
    return TRUE;

  if (!has_capability (self, "STARTTLS"))
    {
      if (s->starttls != MSG_STARTTLS_REQUIRED)
        return TRUE;
      g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_TLS_UNAVAILABLE,
                   "%s:%u does not offer STARTTLS, and nntpstarttls is required",
                   host_of (self), port_of (self));
      return FALSE;
    }

  reply = command (self, "STARTTLS", cancellable, error);
  if (reply == NULL)
    return FALSE;
  if (msg_reply_get_code (reply) != 382)
    {
      if (s->starttls != MSG_STARTTLS_REQUIRED && msg_reply_get_code (reply) >= 400)
        return TRUE; /* Opportunistic: the connection stays as it was. */
      set_reply_error (self, error,
                       msg_reply_get_code (reply) >= 400 ? MSG_TRANSPORT_ERROR_TLS_UNAVAILABLE
                                                         : MSG_TRANSPORT_ERROR_PROTOCOL,
                       "refused STARTTLS", reply);
      return FALSE;
    }
  if (!msg_connection_starttls (self->connection, cancellable, error))
    return FALSE;
  /* Nothing learnt in plaintext is trusted (RFC 4642 2.2.2). */
  return read_capabilities (self, cancellable, error);
}

static gboolean
auth_reply (MsgNntpTransport *self,
            const Settings   *s,
            MsgReply         *reply,
            GError          **error)
{
  g_autofree char *stage = g_strdup_printf ("refused AUTHINFO for “%s”", s->user);

  switch (msg_reply_get_code (reply))
    {
    case 281:
      return TRUE;
    case 483:
      set_reply_error (self, error, MSG_TRANSPORT_ERROR_TLS_UNAVAILABLE, stage, reply);
      return FALSE;
    default:
      set_reply_error (self, error,
                       msg_reply_get_code (reply) >= 400 ? MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED
                                                         : MSG_TRANSPORT_ERROR_PROTOCOL,
                       stage, reply);
      return FALSE;
    }
}

static gboolean
auth_user_pass (MsgNntpTransport *self,
                const Settings   *s,
                GCancellable     *cancellable,
                GError          **error)
{
  g_autoptr (MsgReply) reply = NULL;
  g_autofree char *user_command = g_strdup_printf ("AUTHINFO USER %s", s->user);
  char            *pass_command;
  gboolean         ok;

  reply = command (self, user_command, cancellable, error);
  if (reply == NULL)
    return FALSE;
  if (msg_reply_get_code (reply) != 381)
    return auth_reply (self, s, reply, error);
  g_clear_pointer (&reply, msg_reply_unref);

  pass_command = g_strdup_printf ("AUTHINFO PASS %s", s->password != NULL ? s->password : "");
  ok = msg_connection_queue_secret_command (self->connection, pass_command,
                                            "AUTHINFO PASS <redacted>", error);
  explicit_bzero (pass_command, strlen (pass_command));
  g_free (pass_command);
  if (!ok)
    return FALSE;
  reply = msg_connection_read_reply (self->connection, MSG_REPLY_STYLE_NNTP, cancellable, error);
  return reply != NULL && auth_reply (self, s, reply, error);
}

/* The first AUTHINFO SASL line, with the initial response when the
 * mechanism has one and it fits (RFC 4643 section 2.4.2); when it does
 * not, the server's empty challenge asks for it. */
static gboolean
sasl_queue_command (MsgNntpTransport *self,
                    MsgSaslClient    *client,
                    GError          **error)
{
  const char      *name = _msg_sasl_client_get_mechanism (client);
  char            *initial = _msg_sasl_client_dup_initial (client);
  g_autofree char *bare = g_strdup_printf ("AUTHINFO SASL %s", name);
  g_autofree char *trace = g_strdup_printf ("AUTHINFO SASL %s <redacted>", name);
  char            *line;
  gboolean         ok;

  if (initial == NULL)
    return msg_connection_queue_command (self->connection, bare, error);
  line = g_strdup_printf ("%s %s", bare, *initial != '\0' ? initial : "=");
  if (strlen (line) <= MAX_COMMAND_LENGTH)
    ok = msg_connection_queue_secret_command (self->connection, line, trace, error);
  else
    ok = msg_connection_queue_command (self->connection, bare, error);
  _msg_sasl_secret_free (line);
  _msg_sasl_secret_free (initial);
  return ok;
}

/* Answers 383 challenges until the server's verdict, which is returned. */
static MsgReply *
sasl_rounds (MsgNntpTransport *self,
             MsgSaslClient    *client,
             GCancellable     *cancellable,
             GError          **error)
{
  g_autoptr (MsgReply) reply = NULL;

  for (guint round = 0;; round++)
    {
      char    *response = NULL;
      GError  *step_error = NULL;
      gboolean ok;

      g_clear_pointer (&reply, msg_reply_unref);
      reply = msg_connection_read_reply (self->connection, MSG_REPLY_STYLE_NNTP, cancellable, error);
      if (reply == NULL || msg_reply_get_code (reply) != 383)
        break;
      if (round >= MAX_AUTH_ROUNDS)
        {
          set_reply_error (self, error, MSG_TRANSPORT_ERROR_PROTOCOL,
                           "asked for too many AUTHINFO SASL rounds", reply);
          g_clear_pointer (&reply, msg_reply_unref);
          break;
        }
      if (!_msg_sasl_client_step (client, msg_reply_get_text (reply), &response, &step_error))
        {
          /* Cancel the exchange, then report why. */
          g_clear_pointer (&reply, msg_reply_unref);
          if (msg_connection_queue_command (self->connection, "*", NULL))
            reply = msg_connection_read_reply (self->connection, MSG_REPLY_STYLE_NNTP, cancellable, NULL);
          g_clear_pointer (&reply, msg_reply_unref);
          g_propagate_error (error, step_error);
          break;
        }
      ok = msg_connection_queue_secret_command (self->connection, response, "<redacted>", error);
      _msg_sasl_secret_free (response);
      if (!ok)
        {
          g_clear_pointer (&reply, msg_reply_unref);
          break;
        }
    }
  return g_steal_pointer (&reply);
}

/* AUTHINFO SASL (RFC 4643 section 2.4) with the shared SASL client, and
 * one more try with a fresh OAuth 2 token (MsgTransport::need-token). */
static gboolean
auth_sasl (MsgNntpTransport *self,
           const Settings   *s,
           MsgSaslClient    *client,
           GCancellable     *cancellable,
           GError          **error)
{
  for (guint attempt = 0;; attempt++)
    {
      g_autoptr (MsgReply) reply = NULL;
      g_autofree char *token = NULL;
      const char      *server_error;

      if (!sasl_queue_command (self, client, error))
        return FALSE;
      reply = sasl_rounds (self, client, cancellable, error);
      if (reply == NULL)
        return FALSE;
      /* 283 carries the server's last SASL data (RFC 4643 section 2.4.1). */
      if (msg_reply_get_code (reply) == 281 || msg_reply_get_code (reply) == 283)
        return _msg_sasl_client_finish (client,
                                        msg_reply_get_code (reply) == 283 ? msg_reply_get_text (reply) : NULL,
                                        error);
      server_error = _msg_sasl_client_get_server_error (client);
      if (attempt == 0 && _msg_sasl_client_is_oauth (client) && msg_reply_get_code (reply) == 481 &&
          s->transport != NULL &&
          (token = msg_transport_request_token (s->transport, _msg_sasl_client_get_mechanism (client),
                                                s->user, server_error, msg_connection_get_deadline (self->connection),
                                                cancellable)) != NULL)
        {
          gboolean restarted = _msg_sasl_client_restart (client, token, error);

          explicit_bzero (token, strlen (token));
          if (!restarted)
            return FALSE;
          continue;
        }
      if (!auth_reply (self, s, reply, error))
        {
          if (server_error != NULL)
            g_prefix_error (error, "%s: the server said %s; ", _msg_sasl_client_get_mechanism (client),
                            server_error);
          return FALSE;
        }
      return TRUE;
    }
}

static gboolean
authenticate (MsgNntpTransport *self,
              const Settings   *s,
              GCancellable     *cancellable,
              GError          **error)
{
  gboolean ok;

  if (!msg_connection_is_tls (self->connection) && !s->allow_plaintext_auth)
    {
      g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_TLS_UNAVAILABLE,
                   "Not sending the password for “%s” to %s:%u without TLS: set nntpusessl "
                   "or nntpstarttls (the server must offer STARTTLS), or allow it with "
                   "nntpallowplaintextauth",
                   s->user, host_of (self), port_of (self));
      return FALSE;
    }

  /* SASL when offered (RFC 4643's preferred way), with the best
   * mechanism both sides know, else USER/PASS, which a server that does
   * not list AUTHINFO (none before a 480, or no CAPABILITIES at all) may
   * still know. */
  if (capability_has_argument (self, "AUTHINFO", "SASL") && has_capability (self, "SASL"))
    {
      g_autoptr (GError) sasl_error = NULL;
      g_auto (GStrv) offered = capability (self, "SASL");
      g_autoptr (MsgSaslClient) client = NULL;
      MsgSaslSettings sasl = {
        .protocol = "NNTP",
        .service = "nntp",
        .host = host_of (self),
        .port = port_of (self),
        .username = s->user,
        .password = s->password,
        .authenticate = s->auth,
        .mechanisms = (const char *const *) s->mechanisms,
        .mechanisms_field = "nntpauthmechanisms",
        .plaintext_clear = TRUE, /* nntpallowplaintextauth: nothing to strip */
        .connection = self->connection,
      };

      client = _msg_sasl_client_new (&sasl, (const char *const *) offered, &sasl_error);
      ok = client != NULL && auth_sasl (self, s, client, cancellable, &sasl_error);
      /* INN checks SASL against Cyrus SASL's users but USER/PASS against
       * readers.conf (ckpasswd): a refusal of one says nothing about the
       * other, so try USER/PASS too when it is offered. */
      if (!ok && s->auth == AUTH_BASIC && s->mechanisms == NULL &&
          capability_has_argument (self, "AUTHINFO", "USER") &&
          msg_connection_is_connected (self->connection) &&
          g_error_matches (sasl_error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED))
        {
          g_debug ("nntp: %s; trying AUTHINFO USER", sasl_error->message);
          ok = auth_user_pass (self, s, cancellable, error);
        }
      else if (!ok)
        g_propagate_error (error, g_steal_pointer (&sasl_error));
    }
  else if (s->auth == AUTH_BASIC && s->mechanisms == NULL &&
           (!has_capability (self, "AUTHINFO") || capability_has_argument (self, "AUTHINFO", "USER")))
    ok = auth_user_pass (self, s, cancellable, error);
  else
    {
      g_auto (GStrv) words = capability (self, "AUTHINFO");
      g_autofree char *offered = words != NULL ? g_strjoinv (" ", words) : g_strdup ("nothing");

      g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED,
                   "%s:%u offers no authentication that the transport can use "
                   "(%s); it offers AUTHINFO %s",
                   host_of (self), port_of (self),
                   s->auth == AUTH_NTLM    ? "nntpauthenticate=ntlm needs AUTHINFO SASL"
                   : s->mechanisms != NULL ? "nntpauthmechanisms needs AUTHINFO SASL"
                                           : "AUTHINFO USER or SASL",
                   offered);
      return FALSE;
    }
  if (!ok)
    return FALSE;

  /* RFC 4643 2.2: what the server said before no longer holds. Nothing
   * later needs its capabilities, so instead of asking again (a round
   * trip), let POST tell whether posting is allowed now. */
  self->authenticated = TRUE;
  g_clear_pointer (&self->capabilities, g_strfreev);
  g_clear_pointer (&self->no_posting_reason, g_free);
  self->posting_allowed = TRUE;
  return TRUE;
}

/* MODE READER if needed, STARTTLS, AUTHINFO: what follows the first
 * CAPABILITIES, and what a 401 MODE-READER answer to POST asks again. */
static gboolean
prepare_reader (MsgNntpTransport *self,
                const Settings   *s,
                GCancellable     *cancellable,
                GError          **error)
{
  if (needs_mode_reader (self) && !mode_reader (self, cancellable, error))
    return FALSE;
  if (!starttls (self, s, cancellable, error))
    return FALSE;
  /* Servers that do not advertise AUTHINFO are asked only if POST asks. */
  if (s->auth != AUTH_ANONYMOUS && !self->authenticated &&
      (self->capabilities == NULL || has_capability (self, "AUTHINFO")) &&
      !authenticate (self, s, cancellable, error))
    return FALSE;
  return TRUE;
}

static gboolean
open_session (MsgNntpTransport *self,
              const Settings   *s,
              GCancellable     *cancellable,
              GError          **error)
{
  g_autoptr (MsgReply) reply = NULL;

  if (!msg_connection_connect (self->connection, s->implicit_tls, cancellable, error))
    return FALSE;
  reply = msg_connection_read_reply (self->connection, MSG_REPLY_STYLE_NNTP, cancellable, error);
  if (reply == NULL || !greeting_or_mode_reply (self, reply, "refused the connection", error))
    return FALSE;
  if (!read_capabilities (self, cancellable, error))
    return FALSE;
  return prepare_reader (self, s, cancellable, error);
}

/* Reuses the kept connection if it was made with the same settings and is
 * still idle, else connects afresh. */
static gboolean
ensure_session (MsgNntpTransport *self,
                const Settings   *s,
                MsgMessage       *message,
                gint64            deadline,
                gboolean         *reused,
                gboolean         *post_sent,
                GCancellable     *cancellable,
                GError          **error)
{
  /* @s is the kept settings (settings_lookup()): their shape is kept. */
  const char *shape = self->settings_shape_str;

  g_assert (s == &self->settings);
  *reused = FALSE;
  *post_sent = FALSE;
  if (self->pipelined != NULL)
    {
      /* A POST went behind the last article: it is this post's if this is
       * the post that was queued next, else the connection is out of step
       * (that post was cancelled or timed out in the queue). */
      *post_sent = self->pipelined == message && self->connection != NULL &&
                   self->pipelined_start == msg_transport_get_operation_start_time (MSG_TRANSPORT (self)) &&
                   g_strcmp0 (shape, self->shape) == 0;
      g_clear_object (&self->pipelined);
      if (!*post_sent)
        drop_connection (self);
    }
  if (self->connection != NULL && g_strcmp0 (shape, self->shape) == 0 &&
      (*post_sent || msg_connection_check_idle (self->connection)))
    {
      msg_connection_set_timeout (self->connection, s->timeout);
      msg_connection_set_deadline (self->connection, deadline);
      *reused = TRUE;
      return TRUE;
    }

  drop_connection (self);
  self->connection = msg_connection_new (s->host, s->port);
  self->shape = g_strdup (shape);
  msg_connection_set_trace_name (self->connection, "nntp");
  msg_connection_set_tls_ca_file (self->connection,
                                  s->ca_file != NULL && *s->ca_file != '\0' ? s->ca_file : NULL);
  msg_connection_set_tls_verify (self->connection, s->tls_verify);
  msg_connection_set_timeout (self->connection, s->timeout);
  msg_connection_set_deadline (self->connection, deadline);
  return open_session (self, s, cancellable, error);
}

/* POST until the server says 340, doing what a 401 MODE-READER or a 480
 * asks for on the way. */
static gboolean
start_post (MsgNntpTransport *self,
            const Settings   *s,
            gboolean          post_sent,
            GCancellable     *cancellable,
            GError          **error)
{
  for (unsigned attempt = 0; attempt < MAX_POST_ATTEMPTS; attempt++)
    {
      g_autoptr (MsgReply) reply = NULL;
      unsigned code;

      if (!self->posting_allowed)
        {
          gboolean hint = !self->authenticated && has_capability (self, "AUTHINFO");

          g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_POSTING_NOT_ALLOWED,
                       "%s:%u does not allow posting%s%s%s%s", host_of (self), port_of (self),
                       self->no_posting_reason != NULL ? " (" : "",
                       self->no_posting_reason != NULL ? self->no_posting_reason : "",
                       self->no_posting_reason != NULL ? ")" : "",
                       hint ? "; it offers AUTHINFO: set nntpauthenticate, postusername and "
                              "postpassword if posting needs an account"
                            : "");
          return FALSE;
        }

      if (post_sent && attempt == 0)
        reply = msg_connection_read_reply (self->connection, MSG_REPLY_STYLE_NNTP, cancellable, error);
      else
        reply = command (self, "POST", cancellable, error);
      if (reply == NULL)
        return FALSE;
      code = msg_reply_get_code (reply);
      if (code == 340)
        return TRUE;

      if (code == 401 && !self->mode_reader_sent &&
          g_str_has_prefix (msg_reply_get_text (reply), "MODE-READER"))
        {
          /* INN in transit mode: switch to the reader and ask again. */
          if (!mode_reader (self, cancellable, error) ||
              !prepare_reader (self, s, cancellable, error))
            return FALSE;
          continue;
        }
      if (code == 480)
        {
          if (s->auth != AUTH_ANONYMOUS && !self->authenticated)
            {
              if (!authenticate (self, s, cancellable, error))
                return FALSE;
              continue;
            }
          if (self->authenticated)
            set_reply_error (self, error, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED,
                             "still asks for authentication after AUTHINFO", reply);
          else
            set_reply_error (self, error, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED,
                             "requires authentication, and no credentials are configured "
                             "(nntpauthenticate, postusername, postpassword)",
                             reply);
          return FALSE;
        }
      if (code == 483)
        set_reply_error (self, error, MSG_TRANSPORT_ERROR_TLS_UNAVAILABLE,
                         "requires TLS for POST (see nntpstarttls, nntpusessl)", reply);
      else if (code == 440)
        set_reply_error (self, error, MSG_TRANSPORT_ERROR_POSTING_NOT_ALLOWED,
                         "refused POST", reply);
      else if (code >= 400 && code < 500)
        set_reply_error (self, error, MSG_TRANSPORT_ERROR_TEMPORARY_FAILURE,
                         "refused POST", reply);
      else if (code >= 500)
        set_reply_error (self, error, MSG_TRANSPORT_ERROR_FAILED, "refused POST", reply);
      else
        set_reply_error (self, error, MSG_TRANSPORT_ERROR_PROTOCOL,
                         "answered POST unexpectedly", reply);
      return FALSE;
    }

  g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL,
               "%s:%u kept refusing POST after MODE READER and AUTHINFO",
               host_of (self), port_of (self));
  return FALSE;
}

/* Cross-article pipelining (RFC 3977 section 3.5: a client may send the
 * next command without waiting for the reply to the last one, and POST is
 * only to wait for 340 before its article): when the post queued next
 * goes to this connection, its POST is written right behind the article's
 * terminating line, and that post reads the 340 instead of sending POST.
 * Nothing here fails the running post: a doubt means no pipelining. */
static void
pipeline_next_post (MsgNntpTransport *self,
                    GCancellable     *cancellable)
{
  g_autoptr (MsgMessage) message = NULL;
  g_autoptr (MsgConfiguration) config = NULL;
  g_autofree char *shape = NULL;
  Settings         s = { 0 };
  gint64           start = 0;
  guint64          size = 0;

  if (!self->posting_allowed ||
      !msg_transport_peek_queued_send (MSG_TRANSPORT (self), &message, &config, &start))
    return;
  /* The kept settings are the running post's: not replaced here. */
  if (msg_configuration_equal (config, self->settings_source))
    shape = g_strdup (self->settings_shape_str);
  else
    {
      settings_load (&s, config);
      shape = settings_shape (&s);
      settings_clear (&s);
    }
  if (g_strcmp0 (shape, self->shape) != 0)
    return;
  /* A failed write has aborted the connection: the article's reply then
   * cannot be read either, and that post ends as for any lost reply. */
  if (!msg_connection_send_command (self->connection, "POST", cancellable, NULL))
    return;
  self->pipelined = g_object_ref (message);
  self->pipelined_start = start;
  /* INN's nnrpd writes 240 and the 340 for the pipelined POST in two
   * writes without TCP_NODELAY: the 340 waits until the 240 is
   * acknowledged, so it must not wait for a delayed ACK (40 ms). */
  msg_connection_set_quick_ack (self->connection, TRUE);
  /* While the server files this article: the next one's bytes, which the
   * message keeps for its post's measure and write (written once). */
  msg_message_measure (message, MSG_WRITE_FLAGS_NEWS, &size, cancellable, NULL);
}

/* Sets @keep when the article was refused with 441, after which the
 * server waits for the next command (RFC 3977 6.3.1): the connection, and
 * a POST pipelined behind the article, stay. */
static MsgSendReport *
post_article (MsgNntpTransport *self,
              MsgMessage       *message,
              guint64           total,
              gboolean         *keep,
              GCancellable     *cancellable,
              GError          **error)
{
  g_autoptr (MsgReply) reply = NULL;
  g_autoptr (GError) local_error = NULL;
  g_autofree char *line = NULL;
  g_autofree char *message_id = NULL;
  MsgSendReport   *report;

  if (!msg_transport_write_message_data (MSG_TRANSPORT (self), message, MSG_WRITE_FLAGS_NEWS,
                                         self->connection, total, cancellable, error))
    return NULL;

  pipeline_next_post (self, cancellable);
  reply = msg_connection_read_reply (self->connection, MSG_REPLY_STYLE_NNTP, cancellable, &local_error);
  if (self->connection != NULL)
    msg_connection_set_quick_ack (self->connection, FALSE);
  if (reply == NULL)
    {
      /* The server has the whole article: it may have taken it, whatever
       * went wrong with its answer (docs/design.md, decision 2). */
      g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_OUTCOME_UNKNOWN,
                   "%s:%u gave no valid answer after the whole article was sent; it "
                   "may have been posted (%s)",
                   host_of (self), port_of (self), local_error->message);
      return NULL;
    }

  switch (msg_reply_get_code (reply))
    {
    case 240:
      msg_transport_emit_progress (MSG_TRANSPORT (self), total, total);
      break;
    case 440:
      set_reply_error (self, error, MSG_TRANSPORT_ERROR_POSTING_NOT_ALLOWED,
                       "refused the article", reply);
      return NULL;
    default:
      *keep = msg_reply_get_code (reply) == 441;
      set_reply_error (self, error,
                       msg_reply_get_code (reply) >= 400 ? MSG_TRANSPORT_ERROR_MESSAGE_REJECTED
                                                         : MSG_TRANSPORT_ERROR_PROTOCOL,
                       msg_reply_get_code (reply) >= 400 ? "rejected the article"
                                                         : "answered the article unexpectedly",
                       reply);
      return NULL;
    }

  report = msg_send_report_new (msg_transport_get_name (MSG_TRANSPORT (self)));
  message_id = msg_message_get_message_id (message);
  msg_send_report_set_message_id (report, message_id);
  line = reply_line (reply);
  msg_send_report_set_server_response (report, line);
  msg_send_report_set_server_code (report, msg_reply_get_code (reply));
  return report;
}

/* The total deadline: the configured time, or 300 s plus 1 s per 64 KiB. */
static MsgSendReport *
msg_nntp_transport_post_message_sync (MsgTransport *transport,
                                      MsgMessage   *message,
                                      GCancellable *cancellable,
                                      GError      **error)
{
  MsgNntpTransport *self = MSG_NNTP_TRANSPORT (transport);
  const Settings   *s = settings_lookup (self, msg_transport_get_operation_configuration (transport));
  MsgSendReport    *report = NULL;
  gboolean          keep = FALSE;
  guint64           size;
  gint64            deadline;

  /* Before any I/O: the article written once for its size (which also
   * checks every header), kept by the message for the write when small;
   * a pipelined post's was written while the server filed the article
   * before. */
  if (!msg_message_measure (message, MSG_WRITE_FLAGS_NEWS, &size, cancellable, error))
    goto out;
  deadline = msg_transport_get_operation_deadline (transport, s->operation_timeout, size);
  self->post_start = msg_transport_get_operation_start_time (transport);
  self->post_deadline = deadline;

  for (unsigned attempt = 0; attempt < 2 && report == NULL; attempt++)
    {
      g_autoptr (GError) local_error = NULL;
      gboolean reused = FALSE;
      gboolean post_sent = FALSE;

      if (ensure_session (self, s, message, deadline, &reused, &post_sent, cancellable, &local_error) &&
          start_post (self, s, post_sent, cancellable, &local_error))
        {
          report = post_article (self, message, size, &keep, cancellable, error);
          break;
        }
      drop_connection (self);
      /* A kept connection that the server closed (its autologout, RFC
       * 3977 3.1) just after the idle check: no article was sent, so
       * connect afresh once. */
      if (!reused || (!g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) &&
                      !g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE)))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          break;
        }
    }

  if (report == NULL && !keep)
    drop_connection (self);

out:
  return report;
}

static gboolean
msg_nntp_transport_close_sync (MsgTransport *transport,
                               GCancellable *cancellable,
                               GError      **error)
{
  MsgNntpTransport *self = MSG_NNTP_TRANSPORT (transport);
  g_autoptr (MsgReply) reply = NULL;
  MsgConfiguration *configuration;
  double            timeout;
  gint64            until;
  gboolean          ok = TRUE;

  /* A connection the server already closed has nothing to say goodbye to;
   * one with a POST in flight is waiting for an article. */
  if (self->connection == NULL || self->pipelined != NULL ||
      !msg_connection_check_idle (self->connection))
    {
      drop_connection (self);
      return TRUE;
    }

  /* The configuration at the close, not the one of the last send: a
   * caller who changed the clock since expects QUIT to keep to it. */
  configuration = msg_transport_get_operation_configuration (transport);
  timeout = configuration != NULL ? msg_configuration_get_seconds (configuration, "nntpconnectiontimeout") : 0;
  if (timeout <= 0)
    timeout = msg_connection_get_timeout (self->connection);
  if (timeout <= 0 || timeout > QUIT_TIMEOUT)
    timeout = QUIT_TIMEOUT;
  until = g_get_monotonic_time () + (gint64) (timeout * G_USEC_PER_SEC);
  /* Called by msg_message_post() within the post's operation: QUIT gets
   * only what is left of its deadline. */
  if (self->post_start != 0 && self->post_start == msg_transport_get_operation_start_time (transport))
    until = MIN (until, self->post_deadline);
  msg_connection_set_timeout (self->connection, timeout);
  msg_connection_set_deadline (self->connection, until);
  reply = command (self, "QUIT", cancellable, error);
  if (reply == NULL)
    ok = FALSE;
  else if (msg_reply_get_code (reply) != 205)
    {
      set_reply_error (self, error, MSG_TRANSPORT_ERROR_PROTOCOL, "answered QUIT unexpectedly", reply);
      ok = FALSE;
    }
  drop_connection (self);
  return ok;
}

static gboolean
msg_nntp_transport_validate (MsgTransport *transport,
                             MsgMessage   *message,
                             gboolean      post,
                             GError      **error)
{
  MsgConfiguration *configuration = msg_transport_get_operation_configuration (transport);
  g_autofree char  *server = msg_configuration_get_field (configuration, "nntpserver");
  g_autofree char  *user = NULL;
  int               auth;

  if (server == NULL || *server == '\0')
    {
      g_set_error_literal (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_NO_SERVER,
                           "No news server is configured (set nntpserver)");
      return FALSE;
    }

  auth = msg_configuration_get_int (configuration, "nntpauthenticate");
  if (auth == AUTH_BASIC)
    {
      g_autofree char *password = msg_configuration_get_secret (configuration, "postpassword");
      gboolean         bad_password = password != NULL && strpbrk (password, "\r\n") != NULL;

      if (password != NULL)
        explicit_bzero (password, strlen (password));
      if (bad_password)
        {
          g_set_error_literal (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE,
                               "postpassword contains a line break, which AUTHINFO cannot carry");
          return FALSE;
        }
      user = msg_configuration_get_field (configuration, "postusername");
      if (user == NULL || *user == '\0' || strpbrk (user, " \t\r\n") != NULL)
        {
          g_set_error_literal (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE,
                               user == NULL || *user == '\0'
                                   ? "nntpauthenticate is basic but postusername is not set"
                                   : "postusername contains white space, which AUTHINFO cannot carry");
          return FALSE;
        }
    }
  return TRUE;
}

static void
msg_nntp_transport_dispose (GObject *object)
{
  MsgNntpTransport *self = MSG_NNTP_TRANSPORT (object);

  /* Never waits on the network: the socket is just closed. */
  drop_connection (self);
  g_clear_object (&self->settings_source);
  settings_clear (&self->settings);
  memset (&self->settings, 0, sizeof self->settings);
  g_clear_pointer (&self->settings_shape_str, g_free);

  G_OBJECT_CLASS (msg_nntp_transport_parent_class)->dispose (object);
}

static void
msg_nntp_transport_class_init (MsgNntpTransportClass *klass)
{
  GObjectClass      *object_class = G_OBJECT_CLASS (klass);
  MsgTransportClass *transport_class = MSG_TRANSPORT_CLASS (klass);

  object_class->dispose = msg_nntp_transport_dispose;
  transport_class->post_message_sync = msg_nntp_transport_post_message_sync;
  transport_class->close_sync = msg_nntp_transport_close_sync;
  transport_class->validate = msg_nntp_transport_validate;
}

static void
msg_nntp_transport_class_finalize (MsgNntpTransportClass *klass)
{
}

static void
msg_nntp_transport_init (MsgNntpTransport *self)
{
}

void
msg_nntp_transport_register (GTypeModule *module)
{
  msg_nntp_transport_register_type (module);
}
