/* msg-sasl-scram-y.c: SCRAM with the GS2 "y" flag (downgrade detection)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * See the header. The arithmetic is RFC 5802 section 3 with GNU SASL's
 * key derivation (gsasl_scram_secrets_from_salted_password) and GLib's
 * HMAC; GNU SASL still draws the nonce, prepares the user name, checks
 * the server's nonce and salts the password.
 */
#include "config.h"

#include "msg-sasl-scram-y.h"

#include <gsasl.h>
#include <string.h>

struct _MsgSaslScramY
{
  Gsasl_hash    hash;
  GChecksumType checksum;
  gsize         length;
  char         *client_first_bare;
  char         *server_signature; /* (nullable) base64, once computed */
};

MsgSaslScramY *
_msg_sasl_scram_y_new (const char *mechanism)
{
  MsgSaslScramY *self;

  if (g_ascii_strcasecmp (mechanism, "SCRAM-SHA-1") != 0 && g_ascii_strcasecmp (mechanism, "SCRAM-SHA-256") != 0)
    return NULL;
  self = g_new0 (MsgSaslScramY, 1);
  self->hash = g_ascii_strcasecmp (mechanism, "SCRAM-SHA-1") == 0 ? GSASL_HASH_SHA1 : GSASL_HASH_SHA256;
  self->checksum = self->hash == GSASL_HASH_SHA1 ? G_CHECKSUM_SHA1 : G_CHECKSUM_SHA256;
  self->length = gsasl_hash_length (self->hash);
  return self;
}

void
_msg_sasl_scram_y_free (MsgSaslScramY *self)
{
  if (self == NULL)
    return;
  g_free (self->client_first_bare);
  g_free (self->server_signature);
  g_free (self);
}

static char *
decode_text (const char *b64)
{
  gsize   length = 0;
  guchar *data = g_base64_decode (b64, &length);
  char   *text = g_strndup ((const char *) data, length);

  explicit_bzero (data, length);
  g_free (data);
  return text;
}

static char *
encode_text (const char *text)
{
  return g_base64_encode ((const guchar *) text, strlen (text));
}

/* "n,,n=user,r=nonce" (base64) becomes "y,,n=user,r=nonce"; NULL if GNU
 * SASL's message does not have the expected "n" header. */
char *
_msg_sasl_scram_y_rewrite_first (MsgSaslScramY *self,
                                 const char    *first)
{
  g_autofree char *text = decode_text (first);
  const char      *bare;

  if (!g_str_has_prefix (text, "n,") || (bare = strchr (text + 2, ',')) == NULL)
    return NULL;
  g_free (self->client_first_bare);
  self->client_first_bare = g_strdup (bare + 1);
  text[0] = 'y';
  return encode_text (text);
}

static void
hmac (MsgSaslScramY *self,
      const char    *key,
      const char    *text,
      guint8        *digest)
{
  g_autoptr (GHmac) h = g_hmac_new (self->checksum, (const guchar *) key, self->length);
  gsize length = self->length;

  g_hmac_update (h, (const guchar *) text, -1);
  g_hmac_get_digest (h, digest, &length);
}

static gboolean
decode_hex (const char *hex,
            char       *out,
            gsize       length)
{
  if (hex == NULL || strlen (hex) != 2 * length)
    return FALSE;
  for (gsize i = 0; i < length; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]);
      int lo = g_ascii_xdigit_value (hex[2 * i + 1]);

      if (hi < 0 || lo < 0)
        return FALSE;
      out[i] = (char) (hi << 4 | lo);
    }
  return TRUE;
}

/* GNU SASL's "c=biws,r=nonce,p=proof" (base64) with c= naming "y,,"
 * instead, and the proof and server signature for that message. */
char *
_msg_sasl_scram_y_rewrite_final (MsgSaslScramY *self,
                                 const char    *server_first,
                                 const char    *final,
                                 const char    *salted_password)
{
  g_autofree char *server_text = decode_text (server_first);
  g_autofree char *final_text = decode_text (final);
  g_autofree char *without_proof = NULL;
  g_autofree char *auth_message = NULL;
  g_autofree char *proof = NULL;
  g_autofree char *message = NULL;
  const char      *nonce = strstr (final_text, ",r=");
  const char      *end = nonce != NULL ? strstr (nonce + 1, ",p=") : NULL;
  char             salted[GSASL_HASH_MAX_SIZE], client_key[GSASL_HASH_MAX_SIZE];
  char             server_key[GSASL_HASH_MAX_SIZE], stored_key[GSASL_HASH_MAX_SIZE];
  guint8           signature[GSASL_HASH_MAX_SIZE];
  char            *result;

  if (self->client_first_bare == NULL || !g_str_has_prefix (final_text, "c=biws,") || end == NULL ||
      !decode_hex (salted_password, salted, self->length) ||
      gsasl_scram_secrets_from_salted_password (self->hash, salted, client_key, server_key, stored_key) !=
          GSASL_OK)
    return NULL;
  /* c= is base64 of the GS2 header "y,,". */
  without_proof = g_strdup_printf ("c=eSws%.*s", (int) (end - nonce), nonce);
  auth_message = g_strjoin (",", self->client_first_bare, server_text, without_proof, NULL);
  /* ClientProof := ClientKey XOR HMAC(StoredKey, AuthMessage) */
  hmac (self, stored_key, auth_message, signature);
  for (gsize i = 0; i < self->length; i++)
    signature[i] ^= (guint8) client_key[i];
  proof = g_base64_encode (signature, self->length);
  /* ServerSignature := HMAC(ServerKey, AuthMessage) */
  hmac (self, server_key, auth_message, signature);
  g_free (self->server_signature);
  self->server_signature = g_base64_encode (signature, self->length);
  message = g_strdup_printf ("%s,p=%s", without_proof, proof);
  result = encode_text (message);
  explicit_bzero (salted, sizeof salted);
  explicit_bzero (client_key, sizeof client_key);
  explicit_bzero (server_key, sizeof server_key);
  explicit_bzero (stored_key, sizeof stored_key);
  return result;
}

/* Whether the server-final message "v=..." carries the signature
 * computed for the rewritten exchange. */
gboolean
_msg_sasl_scram_y_verify (MsgSaslScramY *self,
                          const guchar  *server_final,
                          gsize          length)
{
  gsize expected;

  if (self->server_signature == NULL || length < 2 || memcmp (server_final, "v=", 2) != 0)
    return FALSE;
  expected = strlen (self->server_signature);
  /* The server-final message may carry extensions after a comma. */
  return length - 2 >= expected && memcmp (server_final + 2, self->server_signature, expected) == 0 &&
         (length - 2 == expected || server_final[2 + expected] == ',');
}
