/* msg-smtp-auth.c: SMTP authentication (RFC 4954)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The mechanisms are computed by the SASL client the NNTP transport
 * shares (transports/sasl, GNU SASL); this file speaks AUTH.
 */
#include "config.h"

#include "msg-smtp-private.h"

#include "msg-sasl-client.h"

#include <string.h>

/* Credentials go only over TLS unless allowed in the clear; FALSE with
 * @error set and the connection aborted. */
static gboolean
check_auth_allowed (MsgConnection      *connection,
                    const Settings     *s,
                    const Capabilities *caps,
                    GError            **error)
{
  if (!msg_connection_is_tls (connection) && !s->allow_plaintext_auth)
    {
      const char *why = s->starttls == STARTTLS_NEVER ? "smtpstarttls is never"
                        : caps->starttls              ? "the server refused STARTTLS"
                                                      : "the server does not offer STARTTLS";

      g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_TLS_UNAVAILABLE,
                   "Refusing to send credentials to %s:%u without TLS (%s; use "
                   "smtpusessl or smtpstarttls, or set smtpallowplaintextauth to allow it)",
                   s->host, s->port, why);
      msg_connection_abort (connection);
      return FALSE;
    }
  if (caps->auth == NULL)
    {
      g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED,
                   "SMTP server %s:%u does not offer authentication (no AUTH in its EHLO reply)",
                   s->host, s->port);
      msg_connection_abort (connection);
      return FALSE;
    }
  return TRUE;
}

/* The AUTH command, with the initial response when the mechanism has one
 * (RFC 4954 section 4), which the trace shows redacted. */
static gboolean
queue_auth_command (MsgConnection *connection,
                    MsgSaslClient *client,
                    GError       **error)
{
  const char *name = _msg_sasl_client_get_mechanism (client);
  g_autoptr (SecretString) initial = _msg_sasl_client_dup_initial (client);
  g_autoptr (SecretString) command = NULL;
  g_autofree char *trace = NULL;

  if (initial == NULL)
    return _msg_smtp_queue_command (connection, error, "AUTH %s", name);
  command = g_strdup_printf ("AUTH %s %s", name, *initial != '\0' ? initial : "=");
  trace = g_strdup_printf ("AUTH %s <redacted>", name);
  return _msg_smtp_queue_secret (connection, command, trace, error);
}

/* A mechanism that fails on the server's challenge cancels the exchange
 * (RFC 4954 section 4) and reports why, after the server's answer. */
static MsgReply *
cancel_exchange (MsgConnection *connection,
                 GError        *step_error,
                 GCancellable  *cancellable,
                 GError       **error)
{
  g_autoptr (MsgReply) reply = NULL;

  if (_msg_smtp_queue_command (connection, error, "*"))
    reply = _msg_smtp_read_reply (connection, "AUTH", cancellable, NULL);
  if (error != NULL && *error == NULL)
    g_propagate_error (error, step_error);
  else
    g_error_free (step_error);
  msg_connection_abort (connection);
  return NULL;
}

/* Answers the server's challenges (334) until it gives its verdict,
 * which is returned; NULL with @error set on a failure. */
static MsgReply *
auth_rounds (MsgConnection  *connection,
             const Settings *s,
             MsgSaslClient  *client,
             GCancellable   *cancellable,
             GError        **error)
{
  g_autoptr (MsgReply) reply = NULL;
  const char *name = _msg_sasl_client_get_mechanism (client);

  for (guint round = 0;; round++)
    {
      g_autoptr (SecretString) response = NULL;
      GError *step_error = NULL;

      g_clear_pointer (&reply, msg_reply_unref);
      reply = _msg_smtp_read_reply (connection, "AUTH", cancellable, error);
      if (reply == NULL)
        return NULL;
      if (msg_reply_get_code (reply) != 334)
        break;
      if (round >= MAX_AUTH_ROUNDS)
        {
          g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL,
                       "SMTP server %s:%u asked for more than %d AUTH %s rounds",
                       s->host, s->port, MAX_AUTH_ROUNDS, name);
          msg_connection_abort (connection);
          return NULL;
        }
      if (!_msg_sasl_client_step (client, msg_reply_get_text (reply), &response, &step_error))
        return cancel_exchange (connection, step_error, cancellable, error);
      if (!_msg_smtp_queue_secret (connection, response, "<redacted>", error))
        return NULL;
    }
  return g_steal_pointer (&reply);
}

static void
set_refused_error (GError        **error,
                   MsgConnection  *connection,
                   const Settings *s,
                   MsgSaslClient  *client,
                   MsgReply       *reply)
{
  const char *server_error = _msg_sasl_client_get_server_error (client);

  /* 4xx is a temporary failure; anything else that is not a 5xx refusal
   * (smtp-sink's fake AUTH answers 250) breaks the protocol. */
  if (!msg_reply_is_permanent_failure (reply))
    _msg_smtp_set_reply_error (error, connection, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED,
                               "the authentication (AUTH)", reply);
  else
    g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED,
                 "SMTP server %s:%u refused the credentials of “%s” (AUTH %s): %u %s%s%s",
                 s->host, s->port, s->username != NULL ? s->username : "",
                 _msg_sasl_client_get_mechanism (client), msg_reply_get_code (reply),
                 msg_reply_get_text (reply), server_error != NULL ? "; the server said " : "",
                 server_error != NULL ? server_error : "");
}

/* After an OAuth 2 token was refused: a fresh one from
 * MsgTransport::need-token, if a handler gives one. */
static gboolean
refresh_token (MsgConnection  *connection,
               const Settings *s,
               MsgSaslClient  *client,
               GCancellable   *cancellable,
               GError        **error)
{
  g_autoptr (SecretString) token = NULL;

  if (s->transport == NULL)
    return FALSE;
  token = msg_transport_request_token (s->transport, _msg_sasl_client_get_mechanism (client),
                                       s->username, _msg_sasl_client_get_server_error (client),
                                       msg_connection_get_deadline (connection), cancellable);
  return token != NULL && _msg_sasl_client_restart (client, token, error);
}

gboolean
_msg_smtp_auth (MsgConnection      *connection,
                const Settings     *s,
                const Capabilities *caps,
                GCancellable       *cancellable,
                GError            **error)
{
  g_autoptr (MsgSaslClient) client = NULL;
  MsgSaslSettings sasl = {
    .protocol = "SMTP",
    .service = "smtp",
    .host = s->host,
    .port = s->port,
    .username = s->username,
    .password = s->password,
    .authenticate = s->authenticate,
    .mechanisms = (const char *const *) s->mechanisms,
    .mechanisms_field = "smtpauthmechanisms",
    .plaintext_clear = FALSE,
    .connection = connection,
  };

  if (s->authenticate == 0)
    return TRUE;
  if (!check_auth_allowed (connection, s, caps, error))
    return FALSE;
  client = _msg_sasl_client_new (&sasl, (const char *const *) caps->auth, error);
  if (client == NULL)
    {
      msg_connection_abort (connection);
      return FALSE;
    }

  for (guint attempt = 0;; attempt++)
    {
      g_autoptr (MsgReply) reply = NULL;

      if (!queue_auth_command (connection, client, error))
        return FALSE;
      reply = auth_rounds (connection, s, client, cancellable, error);
      if (reply == NULL)
        return FALSE;
      if (msg_reply_get_code (reply) == 235)
        {
          if (_msg_sasl_client_finish (client, NULL, error))
            return TRUE;
          msg_connection_abort (connection);
          return FALSE;
        }
      /* One more try with a fresh OAuth 2 token (RFC 7628 section 3.2.3). */
      if (attempt == 0 && _msg_sasl_client_is_oauth (client) &&
          msg_reply_is_permanent_failure (reply) && refresh_token (connection, s, client, cancellable, error))
        continue;
      if (error == NULL || *error == NULL)
        set_refused_error (error, connection, s, client, reply);
      msg_connection_abort (connection);
      return FALSE;
    }
}
