/* msg-sasl-client.h: the SASL client both network transports share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * A static helper library of the SMTP and NNTP modules (docs/design.md,
 * decision 16): it chooses a mechanism among those the server offers and
 * computes each response with GNU SASL (libgsasl), plus the two OAuth 2
 * mechanisms GNU SASL lacks (XOAUTH2, OAUTHBEARER). It knows nothing of
 * the protocol: the transport sends the lines.
 */
#pragma once

#include <msgobj.h>

G_BEGIN_DECLS

/* What the client needs; the strings are borrowed for the client's life. */
typedef struct
{
  const char        *protocol; /* "SMTP" or "NNTP", for messages */
  const char        *service;  /* GSSAPI service: "smtp", "nntp" */
  const char        *host;
  guint16            port;
  const char        *username;         /* DOMAIN\user accepted for NTLM */
  const char        *password;         /* a secret; the token for OAuth 2 */
  int                authenticate;     /* 1 basic, 2 Windows (NTLM, GSSAPI) */
  const char *const *mechanisms;       /* (nullable) the pinned list */
  const char        *mechanisms_field; /* "smtpauthmechanisms", ... */
  gboolean           plaintext_clear;  /* NNTP's rules: SCRAM, else PLAIN,
                                        * with or without TLS */
  MsgConnection *connection;           /* TLS state, channel binding */
} MsgSaslSettings;

typedef struct _MsgSaslClient MsgSaslClient;

MsgSaslClient *_msg_sasl_client_new (const MsgSaslSettings *settings,
                                     const char *const     *offered,
                                     GError               **error);
void           _msg_sasl_client_free (MsgSaslClient *self);
const char    *_msg_sasl_client_get_mechanism (MsgSaslClient *self);
gboolean       _msg_sasl_client_is_oauth (MsgSaslClient *self);
char          *_msg_sasl_client_dup_initial (MsgSaslClient *self);
gboolean       _msg_sasl_client_step (MsgSaslClient *self,
                                      const char    *challenge,
                                      char         **response,
                                      GError       **error);
gboolean       _msg_sasl_client_is_done (MsgSaslClient *self);
gboolean       _msg_sasl_client_finish (MsgSaslClient *self,
                                        const char    *final_data,
                                        GError       **error);
const char    *_msg_sasl_client_get_server_error (MsgSaslClient *self);
gboolean       _msg_sasl_client_restart (MsgSaslClient *self,
                                         const char    *token,
                                         GError       **error);
void           _msg_sasl_secret_free (char *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgSaslClient, _msg_sasl_client_free)

G_END_DECLS
