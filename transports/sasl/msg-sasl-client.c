/* msg-sasl-client.c: the SASL client both network transports share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * GNU SASL computes every mechanism it knows (SCRAM with and without
 * channel binding, NTLM, GSSAPI, CRAM-MD5, DIGEST-MD5, PLAIN, LOGIN); the
 * two OAuth 2 mechanisms, which are one formatted line each, are written
 * here. docs/security.md, "Authentication", has the rules of the choice.
 */
#include "config.h"

#include "msg-sasl-client.h"

#include <gsasl.h>
#include <string.h>

typedef enum
{
  KIND_GSASL,
  KIND_XOAUTH2,
  KIND_OAUTHBEARER,
} Kind;

struct _MsgSaslClient
{
  const MsgSaslSettings *s;
  char                  *password; /* (owned) a secret: wiped */
  char                  *mechanism;
  Kind                   kind;
  Gsasl                 *context;
  Gsasl_session         *session; /* (nullable) */
  char                  *initial; /* (nullable) base64; "" is empty; a secret */
  gboolean               stepped; /* a challenge was answered */
  gboolean               done;
  char                  *server_error; /* (nullable) printable */
};

/* The automatic choices, best first (docs/security.md, "Authentication").
 * Over TLS anything; without TLS only what does not send the password in
 * the clear, so that a man in the middle who strips the others does not
 * get it (issue 14, item 8). Windows authentication (smtpauthenticate=2)
 * is Kerberos when a ticket exists, else NTLM. */
static const char *const automatic_tls[] = {
  "SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-1",
  "CRAM-MD5", "PLAIN", "LOGIN", NULL
};
static const char *const automatic_clear[] = { "SCRAM-SHA-256", "SCRAM-SHA-1", "CRAM-MD5", NULL };
/* NNTP (plaintext_clear) never chose CRAM-MD5 or LOGIN, obsolete both:
 * SCRAM, else PLAIN as before, with or without TLS. */
static const char *const automatic_nntp_tls[] = {
  "SCRAM-SHA-256-PLUS", "SCRAM-SHA-256", "SCRAM-SHA-1-PLUS", "SCRAM-SHA-1", "PLAIN", NULL
};
static const char *const automatic_nntp_clear[] = { "SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", NULL };
static const char *const automatic_windows[] = { "GSSAPI", "NTLM", NULL };

/* Mechanisms whose first message is the client's. */
static const char *const client_first[] = {
  "PLAIN", "NTLM", "GSSAPI", "GS2-KRB5", "EXTERNAL", "ANONYMOUS", "XOAUTH2", "OAUTHBEARER", NULL
};

void
_msg_sasl_secret_free (char *text)
{
  if (text == NULL)
    return;
  explicit_bzero (text, strlen (text));
  g_free (text);
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

static gboolean
is_client_first (const char *mechanism)
{
  return strv_contains_ci (client_first, mechanism) || g_str_has_prefix (mechanism, "SCRAM-");
}

static const char *const *
wanted_mechanisms (const MsgSaslSettings *s)
{
  gboolean tls = msg_connection_is_tls (s->connection);

  if (s->mechanisms != NULL && s->mechanisms[0] != NULL)
    return s->mechanisms;
  if (s->authenticate == 2)
    return automatic_windows;
  if (s->plaintext_clear)
    return tls ? automatic_nntp_tls : automatic_nntp_clear;
  return tls ? automatic_tls : automatic_clear;
}

/* Printable ASCII only and short: the server's words go into a GError. */
static char *
printable (const guchar *data,
           gsize         length)
{
  GString *text = g_string_new (NULL);

  for (gsize i = 0; i < length && text->len < 200; i++)
    g_string_append_c (text, data[i] >= 0x20 && data[i] < 0x7f ? (char) data[i] : '?');
  return g_string_free (text, FALSE);
}

static void
wipe_session (MsgSaslClient *self)
{
  static const Gsasl_property secrets[] = { GSASL_PASSWORD, GSASL_SCRAM_SALTED_PASSWORD,
                                            GSASL_SCRAM_SERVERKEY, GSASL_SCRAM_STOREDKEY };

  if (self->session == NULL)
    return;
  /* GNU SASL keeps copies of the secrets and frees them unwiped. */
  for (gsize i = 0; i < G_N_ELEMENTS (secrets); i++)
    {
      char *value = (char *) gsasl_property_fast (self->session, secrets[i]);

      if (value != NULL)
        explicit_bzero (value, strlen (value));
    }
  g_clear_pointer (&self->session, gsasl_finish);
}

void
_msg_sasl_client_free (MsgSaslClient *self)
{
  if (self == NULL)
    return;
  wipe_session (self);
  if (self->context != NULL)
    gsasl_done (self->context);
  _msg_sasl_secret_free (self->password);
  _msg_sasl_secret_free (self->initial);
  g_free (self->mechanism);
  g_free (self->server_error);
  g_free (self);
}

/* Binds SCRAM-*-PLUS to the TLS channel: tls-exporter (RFC 9266) where
 * the TLS library gives it, else tls-unique (RFC 5929, TLS 1.2). */
static gboolean
set_channel_binding (MsgSaslClient *self,
                     GError       **error)
{
  static const struct
  {
    GTlsChannelBindingType type;
    Gsasl_property         property;
  } kinds[] = {
    { G_TLS_CHANNEL_BINDING_TLS_EXPORTER, GSASL_CB_TLS_EXPORTER },
    { G_TLS_CHANNEL_BINDING_TLS_UNIQUE, GSASL_CB_TLS_UNIQUE },
  };
  g_autoptr (GError) last = NULL;

  for (gsize i = 0; i < G_N_ELEMENTS (kinds); i++)
    {
      g_autoptr (GBytes) data = NULL;
      g_autofree char *b64 = NULL;

      g_clear_error (&last);
      data = msg_connection_get_channel_binding (self->s->connection, kinds[i].type, &last);
      if (data == NULL)
        continue;
      b64 = g_base64_encode (g_bytes_get_data (data, NULL), g_bytes_get_size (data));
      gsasl_property_set (self->session, kinds[i].property, b64);
      return TRUE;
    }
  g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED,
               "%s needs the TLS channel binding, which this connection cannot give (%s)",
               self->mechanism, last->message);
  return FALSE;
}

static gboolean
start_gsasl (MsgSaslClient *self,
             GError       **error)
{
  const MsgSaslSettings *s = self->s;
  const char            *user = s->username != NULL ? s->username : "";
  const char            *slash = strchr (user, '\\');
  int                    rc;

  rc = gsasl_client_start (self->context, self->mechanism, &self->session);
  if (rc != GSASL_OK)
    {
      g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED,
                   "Cannot start %s: %s", self->mechanism, gsasl_strerror (rc));
      return FALSE;
    }
  /* "DOMAIN\user", as Windows writes it, is the NTLM domain and user;
   * libntlm takes the domain of the response from "user@DOMAIN". */
  if (slash != NULL && g_ascii_strcasecmp (self->mechanism, "NTLM") == 0)
    {
      g_autofree char *domain = g_strndup (user, slash - user);
      g_autofree char *authid = g_strconcat (slash + 1, "@", domain, NULL);

      gsasl_property_set (self->session, GSASL_REALM, domain);
      gsasl_property_set (self->session, GSASL_AUTHID, authid);
    }
  else
    gsasl_property_set (self->session, GSASL_AUTHID, user);
  gsasl_property_set (self->session, GSASL_PASSWORD, self->password);
  gsasl_property_set (self->session, GSASL_SERVICE, s->service);
  gsasl_property_set (self->session, GSASL_HOSTNAME, s->host);
  if (g_str_has_suffix (self->mechanism, "-PLUS") && !set_channel_binding (self, error))
    return FALSE;
  if (is_client_first (self->mechanism))
    {
      char *out = NULL;

      rc = gsasl_step64 (self->session, NULL, &out);
      if (rc != GSASL_OK && rc != GSASL_NEEDS_MORE)
        {
          g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED,
                       "%s cannot start: %s", self->mechanism, gsasl_strerror (rc));
          return FALSE;
        }
      self->initial = g_strdup (out != NULL ? out : "");
      self->done = rc == GSASL_OK;
      if (out != NULL)
        explicit_bzero (out, strlen (out));
      gsasl_free (out);
    }
  return TRUE;
}

/* The one line of XOAUTH2 (Google's) or OAUTHBEARER (RFC 7628). */
static void
start_oauth (MsgSaslClient *self)
{
  const char *user = self->s->username != NULL ? self->s->username : "";
  char       *line;

  if (self->kind == KIND_XOAUTH2)
    line = g_strdup_printf ("user=%s\001auth=Bearer %s\001\001", user, self->password);
  else
    line = g_strdup_printf ("n,a=%s,\001host=%s\001port=%u\001auth=Bearer %s\001\001", user,
                            self->s->host, self->s->port, self->password);
  self->initial = g_base64_encode ((const guchar *) line, strlen (line));
  self->done = TRUE;
  _msg_sasl_secret_free (line);
}

static gboolean
start (MsgSaslClient *self,
       GError       **error)
{
  wipe_session (self);
  g_clear_pointer (&self->initial, _msg_sasl_secret_free);
  g_clear_pointer (&self->server_error, g_free);
  self->done = FALSE;
  self->stepped = FALSE;
  if (self->kind != KIND_GSASL)
    {
      start_oauth (self);
      return TRUE;
    }
  return start_gsasl (self, error);
}

static gboolean
is_supported (Gsasl      *context,
              const char *mechanism)
{
  return g_ascii_strcasecmp (mechanism, "XOAUTH2") == 0 ||
         g_ascii_strcasecmp (mechanism, "OAUTHBEARER") == 0 ||
         gsasl_client_support_p (context, mechanism);
}

static void
set_no_mechanism_error (const MsgSaslSettings *s,
                        const char *const     *offered,
                        GError               **error)
{
  gboolean         tls = msg_connection_is_tls (s->connection);
  gboolean         automatic = s->mechanisms == NULL || s->mechanisms[0] == NULL;
  g_autofree char *offered_text = g_strjoinv (" ", (GStrv) offered);
  g_autofree char *allowed = g_strjoinv (" ", (GStrv) wanted_mechanisms (s));
  g_autofree char *why = NULL;

  if (!automatic)
    why = g_strdup_printf (" (pinned by %s)", s->mechanisms_field);
  else if (!tls && s->authenticate != 2 && !s->plaintext_clear)
    why = g_strdup_printf (" (without TLS only mechanisms that do not send the password in "
                           "the clear are chosen automatically; name PLAIN or LOGIN in %s "
                           "to allow them)",
                           s->mechanisms_field);
  g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED,
               "No usable authentication mechanism for %s:%u: the server offers %s, "
               "allowed are %s%s",
               s->host, s->port, offered_text, allowed, why != NULL ? why : "");
}

/* Chooses the first wanted mechanism the server offers and GNU SASL
 * knows, and starts it; one that cannot start (GSSAPI without a Kerberos
 * ticket, -PLUS without channel binding) gives way to the next. */
MsgSaslClient *
_msg_sasl_client_new (const MsgSaslSettings *s,
                      const char *const     *offered,
                      GError               **error)
{
  g_autoptr (MsgSaslClient) self = g_new0 (MsgSaslClient, 1);
  const char *const *wanted = wanted_mechanisms (s);
  g_autoptr (GError) failure = NULL;
  int rc;

  self->s = s;
  self->password = g_strdup (s->password != NULL ? s->password : "");
  rc = gsasl_init (&self->context);
  if (rc != GSASL_OK)
    {
      g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_FAILED,
                   "Cannot initialise GNU SASL: %s", gsasl_strerror (rc));
      return NULL;
    }
  for (guint i = 0; wanted[i] != NULL; i++)
    {
      if (!strv_contains_ci (offered, wanted[i]) || !is_supported (self->context, wanted[i]))
        continue;
      g_free (self->mechanism);
      self->mechanism = g_ascii_strup (wanted[i], -1);
      self->kind = g_str_equal (self->mechanism, "XOAUTH2")       ? KIND_XOAUTH2
                   : g_str_equal (self->mechanism, "OAUTHBEARER") ? KIND_OAUTHBEARER
                                                                  : KIND_GSASL;
      g_clear_error (&failure);
      if (start (self, &failure))
        return g_steal_pointer (&self);
      g_debug ("sasl: %s", failure->message);
    }
  if (failure != NULL)
    {
      g_propagate_prefixed_error (error, g_steal_pointer (&failure),
                                  "No usable authentication mechanism for %s:%u: ", s->host, s->port);
    }
  else
    set_no_mechanism_error (s, offered, error);
  return NULL;
}

const char *
_msg_sasl_client_get_mechanism (MsgSaslClient *self)
{
  return self->mechanism;
}

gboolean
_msg_sasl_client_is_oauth (MsgSaslClient *self)
{
  return self->kind != KIND_GSASL;
}

/* The initial response in base64 ("" for an empty one), or NULL when the
 * server speaks first; free it with _msg_sasl_secret_free(). */
char *
_msg_sasl_client_dup_initial (MsgSaslClient *self)
{
  return g_strdup (self->initial);
}

gboolean
_msg_sasl_client_is_done (MsgSaslClient *self)
{
  return self->done;
}

/* What the server said in a refusal carried by a challenge (SCRAM's
 * "e=", the OAuth 2 error JSON), or NULL. */
const char *
_msg_sasl_client_get_server_error (MsgSaslClient *self)
{
  return self->server_error;
}

/* A challenge after an OAuth 2 line is the error JSON (RFC 7628 section
 * 3.2.2): answer with the dummy response, and the server then refuses. */
static gboolean
step_oauth (MsgSaslClient *self,
            const guchar  *challenge,
            gsize          length,
            char         **response)
{
  g_free (self->server_error);
  self->server_error = printable (challenge, length);
  *response = g_strdup (self->kind == KIND_OAUTHBEARER ? "AQ==" : "");
  return TRUE;
}

/* The response (base64, possibly "") to @challenge (base64). */
gboolean
_msg_sasl_client_step (MsgSaslClient *self,
                       const char    *challenge,
                       char         **response,
                       GError       **error)
{
  gsize              length = 0;
  g_autofree guchar *decoded = g_base64_decode (challenge != NULL ? challenge : "", &length);
  char              *out = NULL;
  int                rc;

  *response = NULL;
  /* An empty first challenge asks for the initial response: the server
   * did not take it with the command (RFC 4422 section 5), or it was too
   * long for the command line. */
  if (!self->stepped && self->initial != NULL && length == 0)
    {
      self->stepped = TRUE;
      *response = g_steal_pointer (&self->initial);
      return TRUE;
    }
  self->stepped = TRUE;
  g_clear_pointer (&self->initial, _msg_sasl_secret_free);
  if (self->kind != KIND_GSASL)
    return step_oauth (self, decoded, length, response);
  /* The mechanism is done but the server asks for more: cancel. */
  if (self->done)
    {
      *response = g_strdup ("*");
      return TRUE;
    }
  if (length > 2 && g_str_has_prefix (self->mechanism, "SCRAM-") && decoded[0] == 'e' &&
      decoded[1] == '=')
    {
      g_free (self->server_error);
      self->server_error = printable (decoded + 2, length - 2);
    }
  rc = gsasl_step64 (self->session, challenge != NULL ? challenge : "", &out);
  if (rc == GSASL_OK || rc == GSASL_NEEDS_MORE)
    {
      *response = g_strdup (out != NULL ? out : "");
      self->done = rc == GSASL_OK;
      if (out != NULL)
        explicit_bzero (out, strlen (out));
      gsasl_free (out);
      return TRUE;
    }
  gsasl_free (out);
  g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED,
               "%s server %s:%u: %s failed: %s%s%s", self->s->protocol, self->s->host,
               self->s->port, self->mechanism,
               self->server_error != NULL ? "the server said " : "",
               self->server_error != NULL ? self->server_error : gsasl_strerror (rc),
               rc == GSASL_AUTHENTICATION_ERROR && self->server_error == NULL
                   ? " (the server did not prove that it knows the password)"
                   : "");
  return FALSE;
}

/* After the server's success reply, with the additional data it carried
 * (NNTP's 283), if any: a SCRAM server must have proved that it knows
 * the password (its signature, RFC 5802 section 3), else whoever answered
 * may be a man in the middle who merely said yes. */
gboolean
_msg_sasl_client_finish (MsgSaslClient *self,
                         const char    *final_data,
                         GError       **error)
{
  if (final_data != NULL && !self->done)
    {
      char    *response = NULL;
      gboolean ok = _msg_sasl_client_step (self, final_data, &response, error);

      _msg_sasl_secret_free (response);
      if (!ok)
        return FALSE;
    }
  if (self->kind == KIND_GSASL && g_str_has_prefix (self->mechanism, "SCRAM-") && !self->done)
    {
      g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED,
                   "%s server %s:%u accepted %s without proving that it knows the password "
                   "(no server signature); not trusting the connection",
                   self->s->protocol, self->s->host, self->s->port, self->mechanism);
      return FALSE;
    }
  return TRUE;
}

/* Starts over with a fresh OAuth 2 token. */
gboolean
_msg_sasl_client_restart (MsgSaslClient *self,
                          const char    *token,
                          GError       **error)
{
  _msg_sasl_secret_free (self->password);
  self->password = g_strdup (token);
  return start (self, error);
}
