/* msg-smtp-private.h: what the files of the SMTP transport share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <msgobj.h>

#include <string.h>

G_BEGIN_DECLS

/* A string that held a secret: overwritten before it is freed (issue 14,
 * item 9), with explicit_bzero() so that the compiler cannot drop it. */
typedef char SecretString;

static inline void
_msg_smtp_secret_free (SecretString *text)
{
  if (text == NULL)
    return;
  explicit_bzero (text, strlen (text));
  g_free (text);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (SecretString, _msg_smtp_secret_free)

/* RFC 5321 section 4.5.3.1. */
#define MAX_LOCAL_PART 64
#define MAX_DOMAIN 255
#define MAX_PATH 256
#define MAX_COMMAND 512
#define MAX_ENVID 100       /* RFC 3461 section 4.4 */
#define MAX_AUTH_LINE 12288 /* RFC 4954 section 4 */
#define MAX_AUTH_ROUNDS 5   /* docs/design.md, decision 4 */

typedef enum
{
  STARTTLS_NEVER,
  STARTTLS_OPPORTUNISTIC,
  STARTTLS_REQUIRED,
} StartTlsMode;

/* What the operation needs from the configuration snapshot. */
typedef struct
{
  char         *server; /* the smtpserver field: one server, or relays "a, b:587" */
  GPtrArray    *relays; /* (element-type GNetworkAddress): in order */
  char         *host;   /* the relay being tried, or connected to */
  guint16       port;
  gboolean      implicit_tls;
  StartTlsMode  starttls;
  int           authenticate; /* 0 anonymous, 1 basic, 2 NTLM or Kerberos */
  char         *username;
  char         *password; /* a secret: never logged */
  GStrv         mechanisms;
  gboolean      allow_plaintext_auth;
  char         *ca_file;
  gboolean      tls_verify;
  char         *ehlo_name;
  gboolean      send_partial;
  gboolean      use_chunking;
  double        timeout;
  double        operation_timeout;
  MsgTransport *transport; /* (unowned) for MsgTransport::need-token */
} Settings;

/* msg-smtp-settings.c */
void  _msg_smtp_settings_load (Settings         *s,
                               MsgConfiguration *config);
void  _msg_smtp_settings_copy (Settings       *dst,
                               const Settings *src);
void  _msg_smtp_settings_clear (Settings *s);
char *_msg_smtp_settings_connection_key (const Settings *s);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Settings, _msg_smtp_settings_clear)

/* What the server said in its EHLO reply. */
typedef struct
{
  gboolean esmtp;
  gboolean pipelining;
  gboolean eightbitmime;
  gboolean smtputf8;
  gboolean dsn;
  gboolean starttls;
  gboolean size;
  gboolean chunking;   /* RFC 3030 */
  gboolean binarymime; /* RFC 3030 */
  guint64  size_max;
  GStrv    auth; /* (nullable) mechanisms, upper case */
} Capabilities;

/* Errors. */

void     _msg_smtp_set_reply_error (GError          **error,
                                    MsgConnection    *connection,
                                    MsgTransportError permanent_code,
                                    const char       *stage,
                                    const MsgReply   *reply);
gboolean _msg_smtp_reply_is_closing (GError        **error,
                                     MsgConnection  *connection,
                                     const char     *stage,
                                     const MsgReply *reply);
void     _msg_smtp_prefix_stage (GError    **error,
                                 const char *stage);

/* Commands. */

gboolean  _msg_smtp_check_command (MsgConnection *connection,
                                   const char    *command,
                                   gsize          max_length,
                                   GError       **error);
gboolean  _msg_smtp_queue_command (MsgConnection *connection,
                                   GError       **error,
                                   const char    *format,
                                   ...) G_GNUC_PRINTF (3, 4);
gboolean  _msg_smtp_queue_secret (MsgConnection *connection,
                                  const char    *command,
                                  const char    *trace_text,
                                  GError       **error);
MsgReply *_msg_smtp_read_reply (MsgConnection *connection,
                                const char    *stage,
                                GCancellable  *cancellable,
                                GError       **error);
MsgReply *_msg_smtp_exchange (MsgConnection *connection,
                              const char    *command,
                              const char    *stage,
                              GCancellable  *cancellable,
                              GError       **error);

/* AUTH. */

gboolean _msg_smtp_auth (MsgConnection      *connection,
                         const Settings     *s,
                         const Capabilities *caps,
                         GCancellable       *cancellable,
                         GError            **error);

/* The envelope. */

typedef struct
{
  char    *address; /* as given (the report names it so) */
  char    *wire;    /* as sent: domain in A-labels */
  gboolean utf8;    /* the local part needs SMTPUTF8 */
} Mailbox;

typedef struct
{
  Mailbox  sender;
  GArray  *recipients; /* of Mailbox */
  gboolean utf8;
} Envelope;

void     _msg_smtp_envelope_clear (Envelope *e);
gboolean _msg_smtp_envelope_init (Envelope   *e,
                                  MsgMessage *message,
                                  GError    **error);
char    *_msg_smtp_xtext_encode (const char *text);
char    *_msg_smtp_envid (MsgMessage *message);
gboolean _msg_smtp_envelope_check_lengths (const Envelope *e,
                                           MsgMessage     *message,
                                           GError        **error);
char    *_msg_smtp_dsn_notify (MsgDsnOptions options);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Envelope, _msg_smtp_envelope_clear)

G_END_DECLS
