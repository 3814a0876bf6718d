/* test-sasl.c: the SASL mechanisms of the SMTP and NNTP transports
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The scripted server plays GNU SASL's server side ("sasl" step) for the
 * SCRAM exchanges: GNU SASL's client draws its own nonce, so instead of
 * comparing with the fixed messages of RFC 7677 and RFC 5802 the server
 * checks the proof computed from their user ("user"), password ("pencil"),
 * salt and iteration count. NTLM is played by hand: a type 2 message with
 * a known challenge, and the type 3 answer taken apart.
 */
#include "config.h"

#include "msg-test-server.h"
#include "test-utils.h"

#include <string.h>

typedef MsgTestFixture Fixture;

#define GREETING "line 220 mx.example.test ESMTP\n"
#define TRANSACTION_ONE                     \
  "expect MAIL FROM:<alice@example.test>\n" \
  "line 250 2.1.0 Ok\n"                     \
  "expect RCPT TO:<bob@example.test>\n"     \
  "line 250 2.1.5 Ok\n"                     \
  "expect DATA\n"                           \
  "line 354 go\n"                           \
  "data\n"                                  \
  "line 250 2.0.0 Ok: queued\n"
#define NNTP_CAPS(mechs) \
  "line 200 ready\nexpect CAPABILITIES\nsend 101 caps\\r\\nVERSION 2\\r\\nREADER\\r\\nAUTHINFO SASL\\r\\nSASL " mechs "\\r\\n.\\r\\n\n"
#define POST_OK "expect POST\nline 340 send it\ndata\nline 240 Article received OK\n"
#define QUIT "expect QUIT\nline 205 bye\n"

/* The SCRAM steps of the scripted server, per protocol. */
#define SCRAM_SMTP(mech, pass) "sasl " mech " user " pass " 334 235 535\n"
#define SCRAM_NNTP(mech, pass) "sasl " mech " user " pass " 383 281 481\n"

static void
start (Fixture    *f,
       const char *protocol,
       const char *script)
{
  const char *const scripts[] = { script, NULL };

  msg_test_fixture_start_server (f, protocol, scripts, "10");
  if (g_str_equal (protocol, "smtp"))
    msg_test_set_field (f, "smtpehloname", "client.example.test");
  msg_test_fixture_make_transport (f, protocol);
}

static void
set_smtp_auth (Fixture    *f,
               const char *mode,
               const char *user,
               const char *password)
{
  msg_test_set_field (f, "smtpauthenticate", mode);
  msg_test_set_field (f, "sendusername", user);
  msg_test_set_field (f, "sendpassword", password);
}

static void
set_nntp_auth (Fixture    *f,
               const char *mode,
               const char *user,
               const char *password)
{
  msg_test_set_field (f, "nntpauthenticate", mode);
  msg_test_set_field (f, "postusername", user);
  msg_test_set_field (f, "postpassword", password);
}

static MsgMessage *
make_message (gboolean news)
{
  g_autoptr (GError) error = NULL;
  MsgMessage *message = msg_message_new ();

  g_assert_true (msg_message_set_from (message, "Alice <alice@example.test>", &error));
  if (news)
    g_assert_true (msg_message_set_newsgroups (message, "local.test", &error));
  else
    g_assert_true (msg_message_set_to (message, "bob@example.test", &error));
  g_assert_true (msg_message_set_subject (message, "Hello", &error));
  g_assert_no_error (error);
  msg_message_set_text_body (message, "Hi.\n");
  return message;
}

/* Sends (or posts) and returns the error, or NULL on success. */
static GError *
transfer (Fixture *f,
          gboolean news)
{
  g_autoptr (MsgMessage) message = make_message (news);
  g_autoptr (MsgSendReport) report = NULL;
  GError *error = NULL;

  if (news)
    report = msg_transport_post_message (f->transport, message, NULL, &error);
  else
    report = msg_transport_send_message (f->transport, message, NULL, &error);
  g_assert_true ((report == NULL) == (error != NULL));
  return error;
}

static void
transfer_ok (Fixture *f,
             gboolean news)
{
  g_autoptr (GError) error = transfer (f, news);

  g_assert_no_error (error);
  /* The news scripts end with QUIT. */
  if (news)
    g_assert_true (msg_transport_close (f->transport, NULL, &error));
  g_assert_no_error (error);
}

static char *
received (Fixture *f)
{
  g_autoptr (GBytes) bytes = msg_test_server_get_received (f->server, 0);
  gsize size = bytes != NULL ? g_bytes_get_size (bytes) : 0;

  return g_strndup (size > 0 ? g_bytes_get_data (bytes, NULL) : "", size);
}

/* The decoded word after @prefix in what the server received. */
static GBytes *
received_b64_after (Fixture    *f,
                    const char *prefix)
{
  g_autofree char *wire = received (f);
  const char      *at = strstr (wire, prefix);
  g_autofree char *word = NULL;
  gsize            length = 0;
  guchar          *data;

  g_assert_nonnull (at);
  /* A prefix starting with CRLF names the start of a line, kept. */
  at += g_str_has_prefix (prefix, "\r\n") ? 2 : strlen (prefix);
  word = g_strndup (at, strcspn (at, "\r\n"));
  data = g_base64_decode (word, &length);
  return g_bytes_new_take (data, length);
}

/* The log holds neither @secret nor a line without redaction. */
static void
assert_not_traced (const char *secret)
{
  g_autofree char *log = msg_test_steal_log ();

  g_assert_null (strstr (log, secret));
  g_assert_nonnull (strstr (log, "<redacted>"));
}

/* SCRAM. */

static void
test_smtp_scram_sha_256 (Fixture      *f,
                         gconstpointer data)
{
  g_autoptr (GBytes) first = NULL;
  g_autofree char *first_text = NULL;

  g_test_summary ("Automatic choice: SCRAM-SHA-256 before SCRAM-SHA-1, CRAM-MD5 and PLAIN; "
                  "the server checks the proof of RFC 7677's user and password.");
  start (f, "smtp",
         GREETING "expect EHLO\nline 250-mx\nline 250 AUTH PLAIN LOGIN CRAM-MD5 SCRAM-SHA-1 SCRAM-SHA-256\n" SCRAM_SMTP (
             "SCRAM-SHA-256", "pencil") TRANSACTION_ONE);
  set_smtp_auth (f, "basic", "user", "pencil");
  msg_test_set_field (f, "smtpallowplaintextauth", "true");
  transfer_ok (f, FALSE);
  first = received_b64_after (f, "AUTH SCRAM-SHA-256 ");
  first_text = g_strndup (g_bytes_get_data (first, NULL), g_bytes_get_size (first));
  /* No channel binding without TLS. */
  g_assert_true (g_str_has_prefix (first_text, "n,,n=user,r="));
  assert_not_traced ("pencil");
}

static void
test_smtp_scram_sha_1 (Fixture      *f,
                       gconstpointer data)
{
  g_test_summary ("SCRAM-SHA-1 (RFC 5802's user and password) when pinned.");
  start (f, "smtp",
         GREETING "expect EHLO\nline 250-mx\nline 250 AUTH SCRAM-SHA-1 SCRAM-SHA-256\n" SCRAM_SMTP (
             "SCRAM-SHA-1", "pencil") TRANSACTION_ONE);
  set_smtp_auth (f, "basic", "user", "pencil");
  msg_test_set_field (f, "smtpallowplaintextauth", "true");
  msg_test_set_field (f, "smtpauthmechanisms", "SCRAM-SHA-1");
  transfer_ok (f, FALSE);
}

static void
test_smtp_scram_wrong_password (Fixture      *f,
                                gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A wrong password: the server's 535 is AUTHENTICATION_FAILED, without "
                  "the password in the message or the trace.");
  start (f, "smtp",
         GREETING "expect EHLO\nline 250-mx\nline 250 AUTH SCRAM-SHA-256\n" SCRAM_SMTP ("SCRAM-SHA-256", "pencil"));
  set_smtp_auth (f, "basic", "user", "Wr0ng-crayon");
  msg_test_set_field (f, "smtpallowplaintextauth", "true");
  error = transfer (f, FALSE);
  g_assert_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED);
  g_assert_nonnull (strstr (error->message, "SCRAM-SHA-256"));
  g_assert_null (strstr (error->message, "Wr0ng-crayon"));
  assert_not_traced ("Wr0ng-crayon");
}

static void
test_smtp_scram_error (Fixture      *f,
                       gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *wire = NULL;

  g_test_summary ("A SCRAM server-final message \"e=...\" is a clear error naming the "
                  "server's reason; the exchange is cancelled with \"*\".");
  start (f, "smtp",
         GREETING "expect EHLO\nline 250-mx\nline 250 AUTH SCRAM-SHA-256\n"
                  "sasl SCRAM-SHA-256 user pencil 334 235 535 other-error\n");
  set_smtp_auth (f, "basic", "user", "pencil");
  msg_test_set_field (f, "smtpallowplaintextauth", "true");
  error = transfer (f, FALSE);
  g_assert_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED);
  g_assert_nonnull (strstr (error->message, "the server said other-error"));
  g_assert_null (strstr (error->message, "pencil"));
  g_assert_true (msg_test_server_wait_closed (f->server, 10000));
  wire = received (f);
  g_assert_true (g_str_has_suffix (wire, "\r\n*\r\n"));
}

static void
test_smtp_scram_plus (Fixture      *f,
                      gconstpointer data)
{
  g_autoptr (GBytes) first = NULL;
  g_autofree char *first_text = NULL;

  g_test_summary ("Over TLS SCRAM-SHA-256-PLUS is preferred and binds the exchange to "
                  "the TLS channel (tls-exporter or tls-unique), checked by the server.");
  start (f, "smtp",
         GREETING "expect EHLO\nline 250-mx\nline 250 STARTTLS\n"
                  "expect STARTTLS\nline 220 go\nstarttls\n"
                  "expect EHLO\nline 250-mx\nline 250 AUTH PLAIN SCRAM-SHA-256 SCRAM-SHA-256-PLUS\n" SCRAM_SMTP (
                      "SCRAM-SHA-256-PLUS", "pencil") TRANSACTION_ONE);
  set_smtp_auth (f, "basic", "user", "pencil");
  transfer_ok (f, FALSE);
  first = received_b64_after (f, "AUTH SCRAM-SHA-256-PLUS ");
  first_text = g_strndup (g_bytes_get_data (first, NULL), g_bytes_get_size (first));
  g_assert_true (g_str_has_prefix (first_text, "p=tls-exporter,,n=user,r=") ||
                 g_str_has_prefix (first_text, "p=tls-unique,,n=user,r="));
}

static void
test_smtp_initial_response_asked_again (Fixture      *f,
                                        gconstpointer data)
{
  g_autofree char *plain = g_base64_encode ((const guchar *) "\0user\0pencil", 12);
  g_autofree char *script = g_strdup_printf (GREETING "expect EHLO\nline 250-mx\nline 250 AUTH PLAIN\n"
                                                      "expect AUTH PLAIN %s\nline 334 \n"
                                                      "expect %s\nline 235 2.7.0 ok\n" TRANSACTION_ONE,
                                             plain, plain);

  g_test_summary ("A server that answers the initial response with an empty challenge "
                  "gets it again as the response (RFC 4422 section 5).");
  start (f, "smtp", script);
  set_smtp_auth (f, "basic", "user", "pencil");
  msg_test_set_field (f, "smtpallowplaintextauth", "true");
  msg_test_set_field (f, "smtpauthmechanisms", "PLAIN");
  transfer_ok (f, FALSE);
  assert_not_traced ("pencil");
}

static void
test_smtp_pinned_not_offered (Fixture      *f,
                              gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *wire = NULL;

  g_test_summary ("A pinned mechanism the server does not offer: a clear error naming "
                  "both lists and the field, and no credential sent.");
  start (f, "smtp", GREETING "expect EHLO\nline 250-mx\nline 250 AUTH PLAIN LOGIN\n");
  set_smtp_auth (f, "basic", "user", "pencil");
  msg_test_set_field (f, "smtpallowplaintextauth", "true");
  msg_test_set_field (f, "smtpauthmechanisms", "SCRAM-SHA-256");
  error = transfer (f, FALSE);
  g_assert_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED);
  g_assert_nonnull (strstr (error->message, "offers PLAIN LOGIN"));
  g_assert_nonnull (strstr (error->message, "allowed are SCRAM-SHA-256 (pinned by smtpauthmechanisms)"));
  g_assert_true (msg_test_server_wait_closed (f->server, 10000));
  wire = received (f);
  g_assert_cmpstr (wire, ==, "EHLO client.example.test\r\n");
}

static void
test_smtp_scram_needs_tls (Fixture      *f,
                           gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *wire = NULL;

  g_test_summary ("Without TLS and without smtpallowplaintextauth no mechanism is tried, "
                  "not even SCRAM: TLS_UNAVAILABLE.");
  start (f, "smtp", GREETING "expect EHLO\nline 250-mx\nline 250 AUTH SCRAM-SHA-256 PLAIN\n");
  set_smtp_auth (f, "basic", "user", "pencil");
  error = transfer (f, FALSE);
  g_assert_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_TLS_UNAVAILABLE);
  g_assert_true (msg_test_server_wait_closed (f->server, 10000));
  wire = received (f);
  g_assert_cmpstr (wire, ==, "EHLO client.example.test\r\n");
}

/* NTLM. */

/* A type 2 message (MS-NLMP 2.2.1.2) with the challenge 0123456789abcdef,
 * Unicode and NTLM flags, no target name or information. */
static char *
ntlm_type2 (void)
{
  static const guint8 message[48] = {
    'N', 'T', 'L', 'M', 'S', 'S', 'P', 0, 2, 0, 0, 0, /* signature, type */
    0, 0, 0, 0, 48, 0, 0, 0,                          /* target name */
    0x05, 0x02, 0, 0,                                 /* flags */
    0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,   /* challenge */
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 48, 0, 0, 0,  /* context, target info */
  };

  return g_base64_encode (message, sizeof message);
}

/* Field @offset (a security buffer) of an NTLM message, in UTF-8. */
static char *
ntlm_field (GBytes *message,
            gsize   offset)
{
  gsize         size = 0;
  const guint8 *data = g_bytes_get_data (message, &size);
  guint         length, start;

  g_assert_cmpuint (size, >=, offset + 8);
  length = data[offset] | data[offset + 1] << 8;
  start = data[offset + 4] | data[offset + 5] << 8 | data[offset + 6] << 16 | (guint) data[offset + 7] << 24;
  g_assert_cmpuint (start + length, <=, size);
  /* Unicode (UTF-16LE) as negotiated, or OEM. */
  if (length >= 2 && data[start + 1] == 0)
    return g_utf16_to_utf8 ((const gunichar2 *) (data + start), length / 2, NULL, NULL, NULL);
  return g_strndup ((const char *) data + start, length);
}

static void
check_ntlm_type3 (Fixture *f)
{
  g_autoptr (GBytes) type3 = received_b64_after (f, "\r\n" /* then the type 3 line */ "TlRMTVNTUAADAAAA");
  g_autofree char *domain = ntlm_field (type3, 28);
  g_autofree char *user = ntlm_field (type3, 36);
  gsize            size = 0;
  const guint8    *data = g_bytes_get_data (type3, &size);

  g_assert_cmpuint (size, >=, 64);
  g_assert_cmpmem (data, 12, "NTLMSSP\0\3\0\0\0", 12);
  g_assert_cmpstr (domain, ==, "EXAMPLE");
  g_assert_cmpstr (user, ==, "alice");
  /* The NT response is 24 bytes (NTLMv1) or longer (NTLMv2). */
  g_assert_cmpuint (data[20] | data[21] << 8, >=, 24);
}

static void
test_smtp_ntlm (Fixture      *f,
                gconstpointer data)
{
  g_autofree char *type2 = ntlm_type2 ();
  g_autofree char *script = g_strdup_printf (GREETING "expect EHLO\nline 250-mx\nline 250 AUTH NTLM\n"
                                                      "expect AUTH NTLM TlRMTVNTUAABAAAA\nline 334 %s\n"
                                                      "expect TlRMTVNTUAADAAAA\nline 235 ok\n" TRANSACTION_ONE,
                                             type2);

  g_test_summary ("smtpauthenticate=ntlm against a server that offers only NTLM: type 1, "
                  "the type 2 challenge, type 3 with the domain and user of DOMAIN\\user.");
  start (f, "smtp", script);
  set_smtp_auth (f, "ntlm", "EXAMPLE\\alice", "Ntlm-pass");
  msg_test_set_field (f, "smtpallowplaintextauth", "true");
  transfer_ok (f, FALSE);
  check_ntlm_type3 (f);
  assert_not_traced ("Ntlm-pass");
}

static void
test_smtp_ntlm_without_kerberos (Fixture      *f,
                                 gconstpointer data)
{
  g_autofree char *type2 = ntlm_type2 ();
  g_autofree char *script = g_strdup_printf (GREETING "expect EHLO\nline 250-mx\nline 250 AUTH GSSAPI NTLM\n"
                                                      "expect AUTH NTLM TlRMTVNTUAABAAAA\nline 334 %s\n"
                                                      "expect TlRMTVNTUAADAAAA\nline 235 ok\n" TRANSACTION_ONE,
                                             type2);
  g_autofree char *cache = g_build_filename (g_get_tmp_dir (), "no-such-krb5-cache", NULL);
  g_autofree char *cache_name = g_strconcat ("FILE:", cache, NULL);

  g_test_summary ("Windows authentication prefers GSSAPI, but without a Kerberos ticket "
                  "it sends nothing of it and uses NTLM.");
  g_setenv ("KRB5CCNAME", cache_name, TRUE);
  start (f, "smtp", script);
  set_smtp_auth (f, "ntlm", "EXAMPLE\\alice", "Ntlm-pass");
  msg_test_set_field (f, "smtpallowplaintextauth", "true");
  transfer_ok (f, FALSE);
  g_unsetenv ("KRB5CCNAME");
}

/* OAuth 2. */

static char *
oauthbearer (Fixture    *f,
             const char *token)
{
  g_autofree char *port = g_strdup_printf ("%u", msg_test_server_get_port (f->server));
  g_autofree char *line = g_strdup_printf ("n,a=alice@example.test,\001host=127.0.0.1\001port=%s\001"
                                           "auth=Bearer %s\001\001",
                                           port, token);

  return g_base64_encode ((const guchar *) line, strlen (line));
}

typedef struct
{
  guint n_calls;
  char *mechanism;
  char *server_error;
} TokenCalls;

static char *
need_token_cb (MsgTransport *transport,
               const char   *mechanism,
               const char   *user,
               const char   *server_error,
               gpointer      user_data)
{
  TokenCalls *calls = user_data;

  calls->n_calls++;
  g_assert_cmpstr (user, ==, "alice@example.test");
  g_free (calls->mechanism);
  calls->mechanism = g_strdup (mechanism);
  g_free (calls->server_error);
  calls->server_error = g_strdup (server_error);
  return g_strdup ("fresh-token");
}

#define OAUTH_ERROR_JSON "{\"status\":\"invalid_token\",\"scope\":\"mail\"}"

/* A server (SMTP or NNTP by @news) that refuses the first token with the
 * RFC 7628 error JSON, then (if @accept_fresh) takes the next one; the
 * tokens are checked afterwards (check_oauth_lines), as the lines hold
 * the server's port. */
static char *
oauth_refresh_script (gboolean news,
                      gboolean accept_fresh)
{
  g_autofree char *json = g_base64_encode ((const guchar *) OAUTH_ERROR_JSON, strlen (OAUTH_ERROR_JSON));
  const char      *command = news ? "AUTHINFO SASL" : "AUTH";
  const char      *cont = news ? "383" : "334";
  const char      *refused = news ? "481 refused" : "535 5.7.8 refused";
  const char      *accepted = news ? "281 ok" : "235 2.7.0 ok";

  if (!accept_fresh)
    return g_strdup_printf ("expect %s OAUTHBEARER \nline %s %s\nexpect AQ==\nline %s\n", command, cont, json,
                            refused);
  return g_strdup_printf ("expect %s OAUTHBEARER \nline %s %s\nexpect AQ==\nline %s\n"
                          "expect %s OAUTHBEARER \nline %s\n",
                          command, cont, json, refused, command, accepted);
}

/* The OAUTHBEARER lines the server received carry @tokens in turn. */
static void
check_oauth_lines (Fixture           *f,
                   const char        *command,
                   const char *const *tokens)
{
  g_autofree char *wire = received (f);
  g_autofree char *marker = g_strdup_printf ("%s OAUTHBEARER ", command);
  const char      *at = wire;
  guint            i;

  for (i = 0; tokens[i] != NULL; i++)
    {
      g_autofree char *expected = oauthbearer (f, tokens[i]);

      at = strstr (at, marker);
      g_assert_nonnull (at);
      at += strlen (marker);
      g_assert_true (g_str_has_prefix (at, expected));
    }
  g_assert_null (strstr (at, marker));
}

static void
test_smtp_oauthbearer (Fixture      *f,
                       gconstpointer data)
{
  static const char *const tokens[] = { "stale-token", NULL };
  TokenCalls               calls = { 0 };

  g_test_summary ("OAUTHBEARER (RFC 7628) with a valid token: one line, with the user, "
                  "host and port, and no need-token.");
  start (f, "smtp",
         GREETING "expect EHLO\nline 250-mx\nline 250 AUTH PLAIN OAUTHBEARER\n"
                  "expect AUTH OAUTHBEARER \nline 235 2.7.0 ok\n" TRANSACTION_ONE);
  set_smtp_auth (f, "basic", "alice@example.test", "stale-token");
  msg_test_set_field (f, "smtpallowplaintextauth", "true");
  msg_test_set_field (f, "smtpauthmechanisms", "OAUTHBEARER");
  g_signal_connect (f->transport, "need-token", G_CALLBACK (need_token_cb), &calls);
  transfer_ok (f, FALSE);
  g_assert_cmpuint (calls.n_calls, ==, 0);
  check_oauth_lines (f, "AUTH", tokens);
}

static void
test_smtp_oauthbearer_refresh (Fixture      *f,
                               gconstpointer data)
{
  static const char *const tokens[] = { "stale-token", "fresh-token", NULL };
  TokenCalls               calls = { 0 };
  g_autofree char         *exchange = NULL;
  g_autofree char         *script = NULL;

  g_test_summary ("OAUTHBEARER: a refused token (334 with the error JSON, then 535) emits "
                  "need-token with the server's error, and the fresh token is used.");
  exchange = oauth_refresh_script (FALSE, TRUE);
  script = g_strconcat (GREETING "expect EHLO\nline 250-mx\nline 250 AUTH PLAIN OAUTHBEARER\n", exchange,
                        TRANSACTION_ONE, NULL);
  start (f, "smtp", script);
  set_smtp_auth (f, "basic", "alice@example.test", "stale-token");
  msg_test_set_field (f, "smtpallowplaintextauth", "true");
  msg_test_set_field (f, "smtpauthmechanisms", "OAUTHBEARER");
  g_signal_connect (f->transport, "need-token", G_CALLBACK (need_token_cb), &calls);
  transfer_ok (f, FALSE);
  g_assert_cmpuint (calls.n_calls, ==, 1);
  g_assert_cmpstr (calls.mechanism, ==, "OAUTHBEARER");
  g_assert_cmpstr (calls.server_error, ==, OAUTH_ERROR_JSON);
  check_oauth_lines (f, "AUTH", tokens);
  assert_not_traced ("stale-token");
  g_free (calls.mechanism);
  g_free (calls.server_error);
}

static void
test_smtp_oauthbearer_refused (Fixture      *f,
                               gconstpointer data)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *exchange = NULL;
  g_autofree char *script = NULL;

  static const char *const stale[] = { "stale-token", NULL };

  g_test_summary ("OAUTHBEARER without a need-token handler: AUTHENTICATION_FAILED naming "
                  "the server's JSON status, never the token.");
  exchange = oauth_refresh_script (FALSE, FALSE);
  script = g_strconcat (GREETING "expect EHLO\nline 250-mx\nline 250 AUTH OAUTHBEARER\n", exchange, NULL);
  start (f, "smtp", script);
  set_smtp_auth (f, "basic", "alice@example.test", "stale-token");
  msg_test_set_field (f, "smtpallowplaintextauth", "true");
  msg_test_set_field (f, "smtpauthmechanisms", "OAUTHBEARER");
  error = transfer (f, FALSE);
  g_assert_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED);
  g_assert_nonnull (strstr (error->message, "invalid_token"));
  g_assert_null (strstr (error->message, "stale-token"));
  g_assert_true (msg_test_server_wait_closed (f->server, 10000));
  check_oauth_lines (f, "AUTH", stale);
}

static void
test_smtp_xoauth2_refresh (Fixture      *f,
                           gconstpointer data)
{
  static const char *const lines[] = { "user=alice@example.test\001auth=Bearer stale-token\001\001",
                                       "user=alice@example.test\001auth=Bearer fresh-token\001\001", NULL };
  TokenCalls               calls = { 0 };
  g_autofree char         *wire = NULL;
  const char              *at;

  g_test_summary ("XOAUTH2 refused at once with 535 (no error challenge): need-token "
                  "without a server error, then the fresh token.");
  start (f, "smtp",
         GREETING "expect EHLO\nline 250-mx\nline 250 AUTH XOAUTH2\n"
                  "expect AUTH XOAUTH2 \nline 535 5.7.8 expired\n"
                  "expect AUTH XOAUTH2 \nline 235 2.7.0 ok\n" TRANSACTION_ONE);
  set_smtp_auth (f, "basic", "alice@example.test", "stale-token");
  msg_test_set_field (f, "smtpallowplaintextauth", "true");
  msg_test_set_field (f, "smtpauthmechanisms", "XOAUTH2");
  g_signal_connect (f->transport, "need-token", G_CALLBACK (need_token_cb), &calls);
  transfer_ok (f, FALSE);
  g_assert_cmpuint (calls.n_calls, ==, 1);
  g_assert_cmpstr (calls.mechanism, ==, "XOAUTH2");
  g_assert_null (calls.server_error);
  wire = received (f);
  at = wire;
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *expected = g_base64_encode ((const guchar *) lines[i], strlen (lines[i]));

      at = strstr (at, "AUTH XOAUTH2 ");
      g_assert_nonnull (at);
      at += strlen ("AUTH XOAUTH2 ");
      g_assert_true (g_str_has_prefix (at, expected));
    }
  g_free (calls.mechanism);
}

static void
send_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      user_data)
{
  GError **error = user_data;
  g_autoptr (MsgSendReport) report = msg_transport_send_message_finish (MSG_TRANSPORT (source), result, error);

  g_assert_true ((report == NULL) == (*error != NULL));
  if (*error == NULL)
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "unexpected success");
}

static void
test_smtp_need_token_bounded (Fixture      *f,
                              gconstpointer data)
{
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (MsgMessage) message = make_message (FALSE);
  g_autoptr (GError) error = NULL;
  g_autofree char *exchange = oauth_refresh_script (FALSE, FALSE);
  g_autofree char *script = g_strconcat (GREETING "expect EHLO\nline 250-mx\nline 250 AUTH OAUTHBEARER\n",
                                         exchange, "mark\n", NULL);
  /* The send's whole deadline; generous, scaled for valgrind. */
  g_autofree char *deadline = g_strdup_printf ("%g", 3 * msg_test_time_scale ());
  TokenCalls       calls = { 0 };

  g_test_summary ("An async send whose caller's main context does not run: the wait for "
                  "need-token ends at the send's deadline, the connection is closed, and "
                  "the handler is not run for the abandoned request.");
  start (f, "smtp", script);
  set_smtp_auth (f, "basic", "alice@example.test", "stale-token");
  msg_test_set_field (f, "smtpallowplaintextauth", "true");
  msg_test_set_field (f, "smtpauthmechanisms", "OAUTHBEARER");
  msg_test_set_field (f, "smtpoperationtimeout", deadline);
  g_signal_connect (f->transport, "need-token", G_CALLBACK (need_token_cb), &calls);
  g_main_context_push_thread_default (context);
  msg_transport_send_message_async (f->transport, message, NULL, send_done_cb, &error);
  g_main_context_pop_thread_default (context);
  /* Without iterating @context: the send gives up on its own. The bound
   * is the deadline with a wide margin. The mark (the 535 was sent) comes
   * first: wait_closed alone may return before the connection exists. */
  g_assert_true (msg_test_server_wait_mark (f->server, 1, (unsigned) (20000 * msg_test_time_scale ())));
  g_assert_true (msg_test_server_wait_closed (f->server, (unsigned) (20000 * msg_test_time_scale ())));
  while (error == NULL)
    g_main_context_iteration (context, TRUE);
  g_assert_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED);
  while (g_main_context_iteration (context, FALSE))
    ;
  g_assert_cmpuint (calls.n_calls, ==, 0);
}

/* NNTP. */

static void
test_nntp_scram_sha_256 (Fixture      *f,
                         gconstpointer data)
{
  g_test_summary ("AUTHINFO SASL SCRAM-SHA-256, preferred to PLAIN, with the proof checked "
                  "by the server.");
  start (f, "nntp", NNTP_CAPS ("PLAIN SCRAM-SHA-256") SCRAM_NNTP ("SCRAM-SHA-256", "pencil") POST_OK QUIT);
  set_nntp_auth (f, "basic", "user", "pencil");
  msg_test_set_field (f, "nntpallowplaintextauth", "true");
  transfer_ok (f, TRUE);
  assert_not_traced ("pencil");
}

static void
test_nntp_scram_283 (Fixture      *f,
                     gconstpointer data)
{
  g_test_summary ("A 283 success carries SCRAM's server signature, which is checked.");
  start (f, "nntp", NNTP_CAPS ("SCRAM-SHA-1") "sasl SCRAM-SHA-1 user pencil 383 283 481\n" POST_OK QUIT);
  set_nntp_auth (f, "basic", "user", "pencil");
  msg_test_set_field (f, "nntpallowplaintextauth", "true");
  transfer_ok (f, TRUE);
}

static void
test_smtp_scram_no_signature (Fixture      *f,
                              gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("A server that accepts SCRAM without its signature (a man in the middle "
                  "who says yes) is not trusted: AUTHENTICATION_FAILED, nothing sent.");
  start (f, "smtp",
         GREETING "expect EHLO\nline 250-mx\nline 250 AUTH SCRAM-SHA-256\nexpect AUTH SCRAM-SHA-256 \n"
                  "line 235 2.7.0 ok\n");
  set_smtp_auth (f, "basic", "user", "pencil");
  msg_test_set_field (f, "smtpallowplaintextauth", "true");
  error = transfer (f, FALSE);
  g_assert_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED);
  g_assert_nonnull (strstr (error->message, "without proving that it knows the password"));
  g_assert_true (msg_test_server_wait_closed (f->server, 10000));
}

static void
test_nntp_ntlm (Fixture      *f,
                gconstpointer data)
{
  g_autofree char *type2 = ntlm_type2 ();
  g_autofree char *script = g_strdup_printf (NNTP_CAPS ("NTLM") "expect AUTHINFO SASL NTLM TlRMTVNTUAABAAAA\n"
                                                                "line 383 %s\nexpect TlRMTVNTUAADAAAA\n"
                                                                "line 281 ok\n" POST_OK QUIT,
                                             type2);

  g_test_summary ("nntpauthenticate=ntlm: AUTHINFO SASL NTLM with DOMAIN\\user.");
  start (f, "nntp", script);
  set_nntp_auth (f, "ntlm", "EXAMPLE\\alice", "Ntlm-pass");
  msg_test_set_field (f, "nntpallowplaintextauth", "true");
  transfer_ok (f, TRUE);
  check_ntlm_type3 (f);
  assert_not_traced ("Ntlm-pass");
}

static void
test_nntp_oauthbearer_refresh (Fixture      *f,
                               gconstpointer data)
{
  static const char *const tokens[] = { "stale-token", "fresh-token", NULL };
  TokenCalls               calls = { 0 };
  g_autofree char         *exchange = NULL;
  g_autofree char         *script = NULL;

  g_test_summary ("AUTHINFO SASL OAUTHBEARER: 383 with the error JSON, 481, need-token, "
                  "then the fresh token.");
  exchange = oauth_refresh_script (TRUE, TRUE);
  script = g_strconcat (NNTP_CAPS ("OAUTHBEARER"), exchange, POST_OK QUIT, NULL);
  start (f, "nntp", script);
  set_nntp_auth (f, "basic", "alice@example.test", "stale-token");
  msg_test_set_field (f, "nntpallowplaintextauth", "true");
  msg_test_set_field (f, "nntpauthmechanisms", "OAUTHBEARER");
  g_signal_connect (f->transport, "need-token", G_CALLBACK (need_token_cb), &calls);
  transfer_ok (f, TRUE);
  g_assert_cmpuint (calls.n_calls, ==, 1);
  g_assert_cmpstr (calls.server_error, ==, OAUTH_ERROR_JSON);
  check_oauth_lines (f, "AUTHINFO SASL", tokens);
  g_free (calls.mechanism);
  g_free (calls.server_error);
}

static void
test_nntp_pinned_not_offered (Fixture      *f,
                              gconstpointer data)
{
  g_autoptr (GError) error = NULL;

  g_test_summary ("nntpauthmechanisms names a mechanism the server lacks: a clear error.");
  start (f, "nntp", NNTP_CAPS ("PLAIN"));
  set_nntp_auth (f, "basic", "user", "pencil");
  msg_test_set_field (f, "nntpallowplaintextauth", "true");
  msg_test_set_field (f, "nntpauthmechanisms", "SCRAM-SHA-256");
  error = transfer (f, TRUE);
  g_assert_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED);
  g_assert_nonnull (strstr (error->message, "pinned by nntpauthmechanisms"));
}

/* The channel binding of the connection. */

static void
test_channel_binding_without_tls (Fixture      *f,
                                  gconstpointer data)
{
  g_autoptr (MsgConnection) connection = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) binding = NULL;

  g_test_summary ("msg_connection_get_channel_binding() on a connection without TLS: NULL "
                  "and G_TLS_CHANNEL_BINDING_ERROR_INVALID_STATE.");
  start (f, "smtp", "wait-close\n");
  connection = msg_connection_new ("127.0.0.1", msg_test_server_get_port (f->server));
  msg_connection_set_timeout (connection, 10);
  g_assert_true (msg_connection_connect (connection, FALSE, NULL, &error));
  g_assert_no_error (error);
  binding = msg_connection_get_channel_binding (connection, G_TLS_CHANNEL_BINDING_TLS_EXPORTER, &error);
  g_assert_null (binding);
  g_assert_error (error, G_TLS_CHANNEL_BINDING_ERROR, G_TLS_CHANNEL_BINDING_ERROR_INVALID_STATE);
  msg_connection_abort (connection);
}

int
main (int    argc,
      char **argv)
{
  g_setenv ("G_MESSAGES_DEBUG", "msgobj", TRUE);
  msg_test_capture_log ();
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  msg_test_fixture_init ();

#define ADD(path, func) g_test_add (path, Fixture, NULL, msg_test_fixture_setup, func, msg_test_fixture_teardown)
  ADD ("/sasl/smtp/scram-sha-256", test_smtp_scram_sha_256);
  ADD ("/sasl/smtp/scram-sha-1", test_smtp_scram_sha_1);
  ADD ("/sasl/smtp/scram-wrong-password", test_smtp_scram_wrong_password);
  ADD ("/sasl/smtp/scram-error", test_smtp_scram_error);
  ADD ("/sasl/smtp/scram-plus", test_smtp_scram_plus);
  ADD ("/sasl/smtp/scram-needs-tls", test_smtp_scram_needs_tls);
  ADD ("/sasl/smtp/pinned-not-offered", test_smtp_pinned_not_offered);
  ADD ("/sasl/smtp/initial-response-asked-again", test_smtp_initial_response_asked_again);
  ADD ("/sasl/smtp/ntlm", test_smtp_ntlm);
  ADD ("/sasl/smtp/ntlm-without-kerberos", test_smtp_ntlm_without_kerberos);
  ADD ("/sasl/smtp/oauthbearer", test_smtp_oauthbearer);
  ADD ("/sasl/smtp/oauthbearer-refresh", test_smtp_oauthbearer_refresh);
  ADD ("/sasl/smtp/oauthbearer-refused", test_smtp_oauthbearer_refused);
  ADD ("/sasl/nntp/scram-sha-256", test_nntp_scram_sha_256);
  ADD ("/sasl/nntp/scram-283", test_nntp_scram_283);
  ADD ("/sasl/smtp/scram-no-signature", test_smtp_scram_no_signature);
  ADD ("/sasl/smtp/need-token-bounded", test_smtp_need_token_bounded);
  ADD ("/sasl/smtp/xoauth2-refresh", test_smtp_xoauth2_refresh);
  ADD ("/sasl/nntp/ntlm", test_nntp_ntlm);
  ADD ("/sasl/nntp/oauthbearer-refresh", test_nntp_oauthbearer_refresh);
  ADD ("/sasl/nntp/pinned-not-offered", test_nntp_pinned_not_offered);
  ADD ("/sasl/connection/channel-binding-without-tls", test_channel_binding_without_tls);

  return g_test_run ();
}
