/* msg-smtp-auth.c: SMTP authentication (RFC 4954)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-smtp-private.h"

#include <string.h>

/* AUTH. */

typedef enum
{
  MECH_NONE,
  MECH_CRAM_MD5,
  MECH_PLAIN,
  MECH_LOGIN,
  MECH_XOAUTH2,
} Mechanism;

static Mechanism
mechanism_from_name (const char *name)
{
  if (g_str_equal (name, "CRAM-MD5"))
    return MECH_CRAM_MD5;
  if (g_str_equal (name, "PLAIN"))
    return MECH_PLAIN;
  if (g_str_equal (name, "LOGIN"))
    return MECH_LOGIN;
  if (g_str_equal (name, "XOAUTH2"))
    return MECH_XOAUTH2;
  return MECH_NONE;
}

static gboolean
strv_contains_ci (const char *const *strv,
                  const char        *name)
{
  for (guint i = 0; strv != NULL && strv[i] != NULL; i++)
    if (g_ascii_strcasecmp (strv[i], name) == 0)
      return TRUE;
  return FALSE;
}

/* The mechanisms chosen automatically, in the order of preference; over
 * a connection without TLS only those that do not send the password in
 * the clear, so that a man in the middle who strips CRAM-MD5 from the
 * EHLO reply does not get PLAIN (issue 14, item 8). */
static const char *const automatic_tls[] = { "CRAM-MD5", "PLAIN", "LOGIN", NULL };
static const char *const automatic_clear[] = { "CRAM-MD5", NULL };

static const char *const *
wanted_mechanisms (const Settings *s,
                   gboolean        tls)
{
  if (s->mechanisms != NULL && s->mechanisms[0] != NULL)
    return (const char *const *) s->mechanisms;
  return tls ? automatic_tls : automatic_clear;
}

/* The first mechanism, in the order of preference, that the server offers
 * and this transport implements. XOAUTH2 only when asked for by name: its
 * "password" is an OAuth 2 token. */
static const char *
choose_mechanism (const Settings     *s,
                  const Capabilities *caps,
                  gboolean            tls)
{
  const char *const *wanted = wanted_mechanisms (s, tls);

  for (guint i = 0; wanted[i] != NULL; i++)
    if (mechanism_from_name (wanted[i]) != MECH_NONE &&
        strv_contains_ci ((const char *const *) caps->auth, wanted[i]))
      return wanted[i];
  return NULL;
}

static char *
base64_string (const char *text,
               gsize       length)
{
  return g_base64_encode ((const guchar *) text, length);
}

/* The response to a server challenge (round @round, 0-based), or NULL when
 * the mechanism has nothing more to say. */
static char *
auth_response (Mechanism       mechanism,
               const Settings *s,
               guint           round,
               const char     *challenge_b64)
{
  const char *password = s->password != NULL ? s->password : "";

  switch (mechanism)
    {
    case MECH_LOGIN:
      if (round == 0)
        return base64_string (s->username, strlen (s->username));
      if (round == 1)
        return base64_string (password, strlen (password));
      return NULL;
    case MECH_CRAM_MD5:
      if (round == 0)
        {
          gsize              length = 0;
          g_autofree guchar *challenge = g_base64_decode (challenge_b64, &length);
          g_autofree char   *digest = g_compute_hmac_for_data (G_CHECKSUM_MD5,
                                                               (const guchar *) password,
                                                               strlen (password),
                                                               challenge, length);
          g_autofree char   *response = g_strdup_printf ("%s %s", s->username, digest);

          return base64_string (response, strlen (response));
        }
      return NULL;
    case MECH_XOAUTH2:
      /* A 334 carries the error details; an empty line ends the exchange
       * and the server sends its final 5xx. */
      if (round == 0)
        return g_strdup ("");
      return NULL;
    case MECH_PLAIN:
      /* The initial response was sent with the command; some servers ask
       * for it with an empty challenge instead. */
      if (round == 0 && (challenge_b64 == NULL || *challenge_b64 == '\0'))
        {
          gsize            length = 2 + strlen (s->username) + strlen (password);
          g_autofree char *plain = g_strdup_printf ("%c%s%c%s", 0, s->username, 0, password);
          char            *response = base64_string (plain, length);

          explicit_bzero (plain, length);
          return response;
        }
      return NULL;
    case MECH_NONE:
    default:
      return NULL;
    }
}

/* The mechanism to use, or NULL with @error set and the connection
 * aborted: credentials go only over TLS unless allowed in the clear,
 * and only with a mechanism both sides know. */
static const char *
choose_usable_mechanism (MsgConnection      *connection,
                         const Settings     *s,
                         const Capabilities *caps,
                         GError            **error)
{
  const char *name;

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
      return NULL;
    }
  if (caps->auth == NULL)
    {
      g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED,
                   "SMTP server %s:%u does not offer authentication (no AUTH in its EHLO reply)",
                   s->host, s->port);
      msg_connection_abort (connection);
      return NULL;
    }
  name = choose_mechanism (s, caps, msg_connection_is_tls (connection));
  if (name == NULL)
    {
      gboolean         tls = msg_connection_is_tls (connection);
      g_autofree char *offered = g_strjoinv (" ", caps->auth);
      g_autofree char *allowed = g_strjoinv (" ", (GStrv) wanted_mechanisms (s, tls));
      gboolean         automatic = s->mechanisms == NULL || s->mechanisms[0] == NULL;

      g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED,
                   "No usable authentication mechanism for %s:%u: the server offers %s, "
                   "allowed are %s%s",
                   s->host, s->port, offered, allowed,
                   automatic && !tls ? " (without TLS only mechanisms that do not send the "
                                       "password in the clear are chosen automatically; name "
                                       "PLAIN or LOGIN in smtpauthmechanisms to allow them)"
                                     : "");
      msg_connection_abort (connection);
      return NULL;
    }
  return name;
}

/* The AUTH command, with the initial response of PLAIN and XOAUTH2
 * (RFC 4954 section 4), which the trace shows redacted. */
static gboolean
queue_auth_command (MsgConnection  *connection,
                    const Settings *s,
                    const char     *name,
                    Mechanism       mechanism,
                    GError        **error)
{
  g_autoptr (SecretString) command = NULL;
  g_autofree char *trace = NULL;
  const char      *password = s->password != NULL ? s->password : "";

  if (mechanism == MECH_PLAIN)
    {
      gsize            length = 2 + strlen (s->username) + strlen (password);
      g_autofree char *plain = g_strdup_printf ("%c%s%c%s", 0, s->username, 0, password);
      g_autoptr (SecretString) b64 = base64_string (plain, length);

      command = g_strdup_printf ("AUTH PLAIN %s", b64);
      explicit_bzero (plain, length);
      trace = g_strdup ("AUTH PLAIN <redacted>");
    }
  else if (mechanism == MECH_XOAUTH2)
    {
      g_autoptr (SecretString) token = g_strdup_printf ("user=%s\001auth=Bearer %s\001\001",
                                                        s->username, password);
      g_autoptr (SecretString) b64 = base64_string (token, strlen (token));

      command = g_strdup_printf ("AUTH XOAUTH2 %s", b64);
      trace = g_strdup ("AUTH XOAUTH2 <redacted>");
    }
  else
    command = g_strdup_printf ("AUTH %s", name);

  if (trace != NULL ? !_msg_smtp_queue_secret (connection, command, trace, error)
                    : !(_msg_smtp_check_command (connection, command, MAX_COMMAND, error) &&
                        msg_connection_queue_command (connection, command, error)))
    return FALSE;
  return TRUE;
}

/* Answers the server's challenges (334) until it gives its verdict,
 * which is returned; NULL with @error set on a failure. */
static MsgReply *
auth_rounds (MsgConnection  *connection,
             const Settings *s,
             const char     *name,
             Mechanism       mechanism,
             GCancellable   *cancellable,
             GError        **error)
{
  g_autoptr (MsgReply) reply = NULL;

  for (guint round = 0;; round++)
    {
      g_autoptr (SecretString) response = NULL;

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
      response = auth_response (mechanism, s, round, msg_reply_get_text (reply));
      if (response == NULL)
        {
          /* The mechanism is done but the server asks for more: cancel the
           * exchange (RFC 4954 section 4) and fail on its answer. */
          if (!_msg_smtp_queue_command (connection, error, "*"))
            return NULL;
          continue;
        }
      if (!_msg_smtp_queue_secret (connection, response, "<redacted>", error))
        return NULL;
    }
  return g_steal_pointer (&reply);
}

gboolean
_msg_smtp_auth (MsgConnection      *connection,
                const Settings     *s,
                const Capabilities *caps,
                GCancellable       *cancellable,
                GError            **error)
{
  g_autoptr (MsgReply) reply = NULL;
  const char *name;
  Mechanism   mechanism;

  if (s->authenticate == 0)
    return TRUE;

  name = choose_usable_mechanism (connection, s, caps, error);
  if (name == NULL)
    return FALSE;
  mechanism = mechanism_from_name (name);
  if (!queue_auth_command (connection, s, name, mechanism, error))
    return FALSE;
  reply = auth_rounds (connection, s, name, mechanism, cancellable, error);
  if (reply == NULL)
    return FALSE;

  if (msg_reply_get_code (reply) == 235)
    return TRUE;
  /* 4xx is a temporary failure; anything else that is not a 5xx refusal
   * (smtp-sink's fake AUTH answers 250) breaks the protocol. */
  if (!msg_reply_is_permanent_failure (reply))
    _msg_smtp_set_reply_error (error, connection, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED,
                               "the authentication (AUTH)", reply);
  else
    g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED,
                 "SMTP server %s:%u refused the credentials of “%s” (AUTH %s): %u %s",
                 s->host, s->port, s->username, name, msg_reply_get_code (reply),
                 msg_reply_get_text (reply));
  msg_connection_abort (connection);
  return FALSE;
}
