/* msg-message-crypto.c: signing, encrypting, verifying and decrypting
 * messages with OpenPGP (PGP/MIME, RFC 3156) and S/MIME (RFC 8551)
 *
 * The MIME structure is GMime's (GMimeMultipartSigned,
 * GMimeMultipartEncrypted, GMimeApplicationPkcs7Mime), built the way
 * g_mime_multipart_signed_sign() builds it; the cryptography is GPGME's,
 * run under the call's deadline and cancellable (msg-gpgme.c,
 * docs/design.md decision 18).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "msg-message-crypto.h"
#include "msg-message-crypto-private.h"
#include "msg-configuration.h"
#include "msg-gpgme-private.h"
#include "msg-message-private.h"
#include "msg-mime-utils-private.h"
#include "msg-signature.h"
#include "msg-thread-private.h"

#include <gmime/gmime.h>
#include <string.h>

/* cryptooperationtimeout = 0: the limit of one call. */
#define DEFAULT_CRYPTO_SECONDS 60.0

/**
 * msg_crypto_error_quark:
 *
 * Gets the error domain of the crypto operations, %MSG_CRYPTO_ERROR.
 *
 * Returns: the #GQuark of the domain
 */
/* The quark's name must keep its dashes. */
/* clang-format off */
G_DEFINE_QUARK (msg-crypto-error-quark, msg_crypto_error)
/* clang-format on */

static GQuark
passphrase_quark (void)
{
  return g_quark_from_static_string ("msg-passphrase-handler");
}

/**
 * msg_configuration_set_passphrase_func:
 * @self: a configuration
 * @func: (nullable) (scope notified) (closure user_data) (destroy destroy):
 *   the function that gives passphrases, or %NULL for none
 * @user_data: data for @func
 * @destroy: (nullable): frees @user_data when @func is replaced or the
 *   configuration finalized and no operation uses it any more; called in
 *   the thread that called this function (if the last operation ends on
 *   another thread, queued in the thread-default main context of this
 *   call)
 *
 * Sets how the messages of this configuration get the passphrase of a
 * secret key that needs one to sign or decrypt. No person is ever asked
 * by the library (no pinentry): without a function, such a key makes the
 * operation fail at once with %MSG_CRYPTO_ERROR_NO_PASSPHRASE.
 *
 * The function runs in the caller's thread (for an `_async` call, in the
 * caller's thread-default main context at the call), while the
 * operation waits for it within its deadline and cancellable (see
 * #MsgPassphraseFunc); it may be called again with @previous_failed set
 * when the passphrase was wrong.
 *
 * An S/MIME key is unlocked in gpg-agent with the passphrase before
 * `gpgsm` runs (GPGME cannot give `gpgsm` one), so the agent keeps it
 * for its `default-cache-ttl`; an agent that caches nothing makes the
 * operation fail at once with %MSG_CRYPTO_ERROR_NO_PASSPHRASE. S/MIME
 * decryption may ask for every protected S/MIME key not yet unlocked.
 */
void
msg_configuration_set_passphrase_func (MsgConfiguration *self,
                                       MsgPassphraseFunc func,
                                       gpointer          user_data,
                                       GDestroyNotify    destroy)
{
  g_return_if_fail (MSG_IS_CONFIGURATION (self));

  if (func == NULL)
    {
      if (destroy != NULL)
        destroy (user_data);
      g_object_set_qdata (G_OBJECT (self), passphrase_quark (), NULL);
      return;
    }
  g_object_set_qdata_full (G_OBJECT (self), passphrase_quark (),
                           _msg_passphrase_handler_new (func, user_data, destroy),
                           (GDestroyNotify) _msg_passphrase_handler_unref);
}

static gpointer
ref_handler_cb (gpointer data,
                gpointer user_data)
{
  return data != NULL ? _msg_passphrase_handler_ref (data) : NULL;
}

static gint64
crypto_deadline (MsgConfiguration *configuration)
{
  double seconds = msg_configuration_get_seconds (configuration, "cryptooperationtimeout");

  if (seconds <= 0)
    seconds = DEFAULT_CRYPTO_SECONDS;
  return g_get_monotonic_time () + (gint64) (seconds * G_USEC_PER_SEC);
}

/* The passphrase function of @configuration, else of @fallback. */
static MsgPassphraseHandler *
dup_handler (MsgConfiguration *configuration,
             MsgConfiguration *fallback)
{
  MsgPassphraseHandler *handler = g_object_dup_qdata (G_OBJECT (configuration), passphrase_quark (),
                                                      ref_handler_cb, NULL);

  if (handler == NULL && fallback != NULL && fallback != configuration)
    handler = g_object_dup_qdata (G_OBJECT (fallback), passphrase_quark (), ref_handler_cb, NULL);
  return handler;
}

static void
init_request (MsgMessage       *self,
              MsgConfiguration *configuration,
              MsgGpgmeRequest  *request,
              MsgGpgmeOperation operation,
              MsgCryptoProtocol protocol)
{
  memset (request, 0, sizeof *request);
  request->operation = operation;
  request->protocol = protocol;
  request->passphrase = dup_handler (configuration, self->configuration);
}

/* @object as the bytes that are signed or encrypted: canonical CRLF line
 * ends (RFC 3156 §5), and "From " at a line start quoted-printable
 * encoded away for OpenPGP (§3, second note), as GMime does. */
static GBytes *
write_canonical (GMimeObject *object,
                 gboolean     armor_from)
{
  g_autoptr (GMimeStream) mem = g_mime_stream_mem_new ();
  g_autoptr (GMimeStream) filtered = g_mime_stream_filter_new (mem);
  g_autoptr (GMimeFilter) unix2dos = g_mime_filter_unix2dos_new (FALSE);
  GByteArray *array;

  if (armor_from)
    {
      g_autoptr (GMimeFilter) from = g_mime_filter_from_new (GMIME_FILTER_FROM_MODE_ARMOR);

      g_mime_stream_filter_add (GMIME_STREAM_FILTER (filtered), from);
    }
  g_mime_stream_filter_add (GMIME_STREAM_FILTER (filtered), unix2dos);
  g_mime_object_write_to_stream (object, NULL, filtered);
  g_mime_stream_flush (filtered);
  array = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (mem));
  return g_bytes_new (array->data, array->len);
}

static GMimeObject *
parse_object (GBytes *bytes)
{
  g_autoptr (GMimeStream) stream = g_mime_stream_mem_new_with_buffer (g_bytes_get_data (bytes, NULL),
                                                                      g_bytes_get_size (bytes));
  g_autoptr (GMimeParser) parser = g_mime_parser_new_with_stream (stream);

  return g_mime_parser_construct_part (parser, _msg_parser_options ());
}

/* A leaf part with @content, written as is (@encoding says how). */
static GMimeObject *
new_leaf (const char          *type,
          GBytes              *content,
          GMimeContentEncoding encoding,
          const char          *filename,
          const char          *disposition,
          const char          *description)
{
  g_autoptr (GMimeContentType) content_type = g_mime_content_type_parse (_msg_parser_options (), type);
  /* The subclass registered for the type (GMimeApplicationPkcs7Mime),
   * with all the type's parameters. */
  GMimePart *part = GMIME_PART (g_mime_object_new (_msg_parser_options (), content_type));
  g_autoptr (GMimeStream) stream = g_mime_stream_mem_new_with_buffer (g_bytes_get_data (content, NULL),
                                                                      g_bytes_get_size (content));
  g_autoptr (GMimeDataWrapper) wrapper = g_mime_data_wrapper_new_with_stream (stream, GMIME_CONTENT_ENCODING_DEFAULT);

  g_mime_part_set_content (part, wrapper);
  g_mime_part_set_content_encoding (part, encoding);
  if (filename != NULL)
    {
      g_mime_object_set_disposition (GMIME_OBJECT (part), disposition);
      g_mime_part_set_filename (part, filename);
    }
  if (description != NULL)
    g_mime_part_set_content_description (part, description);
  return GMIME_OBJECT (part);
}

static GMimeObject *
build_signed (MsgCryptoProtocol protocol,
              GMimeObject      *content,
              GBytes           *signature,
              const char       *micalg)
{
  gboolean              pgp = protocol == MSG_CRYPTO_PROTOCOL_OPENPGP;
  const char           *sig_type = pgp ? "application/pgp-signature" : "application/pkcs7-signature";
  GMimeMultipartSigned *mps = g_mime_multipart_signed_new ();
  g_autoptr (GMimeObject) sig_part = NULL;

  g_mime_multipart_set_boundary (GMIME_MULTIPART (mps), NULL);
  g_mime_object_set_content_type_parameter (GMIME_OBJECT (mps), "protocol", sig_type);
  g_mime_object_set_content_type_parameter (GMIME_OBJECT (mps), "micalg", micalg);
  if (pgp)
    sig_part = new_leaf ("application/pgp-signature; name=signature.asc", signature, GMIME_CONTENT_ENCODING_7BIT,
                         "signature.asc", "attachment", "OpenPGP digital signature");
  else
    sig_part = new_leaf ("application/pkcs7-signature; name=smime.p7s", signature, GMIME_CONTENT_ENCODING_BASE64,
                         "smime.p7s", "attachment", "S/MIME Cryptographic Signature");
  g_mime_multipart_add (GMIME_MULTIPART (mps), content);
  g_mime_multipart_add (GMIME_MULTIPART (mps), sig_part);
  return GMIME_OBJECT (mps);
}

static GMimeObject *
build_encrypted (MsgCryptoProtocol protocol,
                 GBytes           *ciphertext)
{
  GMimeMultipartEncrypted *mpe;
  g_autoptr (GBytes) version = NULL;
  g_autoptr (GMimeObject) version_part = NULL;
  g_autoptr (GMimeObject) data_part = NULL;

  if (protocol == MSG_CRYPTO_PROTOCOL_SMIME)
    return new_leaf ("application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m", ciphertext,
                     GMIME_CONTENT_ENCODING_BASE64, "smime.p7m", "attachment", NULL);
  mpe = g_mime_multipart_encrypted_new ();
  g_mime_multipart_set_boundary (GMIME_MULTIPART (mpe), NULL);
  g_mime_object_set_content_type_parameter (GMIME_OBJECT (mpe), "protocol", "application/pgp-encrypted");
  version = g_bytes_new_static ("Version: 1\n", 11);
  version_part = new_leaf ("application/pgp-encrypted", version, GMIME_CONTENT_ENCODING_7BIT, NULL, NULL,
                           "PGP/MIME version identification");
  data_part = new_leaf ("application/octet-stream; name=encrypted.asc", ciphertext, GMIME_CONTENT_ENCODING_7BIT,
                        "encrypted.asc", "inline", "OpenPGP encrypted message");
  g_mime_multipart_add (GMIME_MULTIPART (mpe), version_part);
  g_mime_multipart_add (GMIME_MULTIPART (mpe), data_part);
  return GMIME_OBJECT (mpe);
}

/* The addresses of To, Cc and Bcc (groups' members included). */
static GStrv
message_recipients (MsgMessage *self)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  GMimeAddressType types[] = { GMIME_ADDRESS_TYPE_TO, GMIME_ADDRESS_TYPE_CC, GMIME_ADDRESS_TYPE_BCC };

  for (gsize t = 0; t < G_N_ELEMENTS (types); t++)
    {
      InternetAddressList *list = g_mime_message_get_addresses (self->mime, types[t]);

      for (int i = 0; list != NULL && i < internet_address_list_length (list); i++)
        {
          InternetAddress *address = internet_address_list_get_address (list, i);

          if (INTERNET_ADDRESS_IS_MAILBOX (address))
            g_strv_builder_add (builder, internet_address_mailbox_get_idn_addr (INTERNET_ADDRESS_MAILBOX (address)));
          else if (INTERNET_ADDRESS_IS_GROUP (address))
            {
              InternetAddressList *members = internet_address_group_get_members (INTERNET_ADDRESS_GROUP (address));

              for (int j = 0; j < internet_address_list_length (members); j++)
                {
                  InternetAddress *member = internet_address_list_get_address (members, j);

                  if (INTERNET_ADDRESS_IS_MAILBOX (member))
                    g_strv_builder_add (builder, internet_address_mailbox_get_idn_addr (INTERNET_ADDRESS_MAILBOX (member)));
                }
            }
        }
    }
  return g_strv_builder_end (builder);
}

/* Signs @content (7-bit safe already) into a multipart/signed. */
static GMimeObject *
sign_object (MsgMessage       *self,
             MsgConfiguration *configuration,
             MsgCryptoProtocol protocol,
             GMimeObject      *content,
             const char       *signer,
             gint64            until,
             GCancellable     *cancellable,
             GError          **error)
{
  MsgGpgmeRequest request;
  g_autoptr (GBytes) bytes = write_canonical (content, protocol == MSG_CRYPTO_PROTOCOL_OPENPGP);
  g_autoptr (GMimeObject) reparsed = parse_object (bytes);
  GMimeObject *result = NULL;

  /* The signed part is the parse of the bytes signed, so that it writes
   * back exactly those bytes. */
  if (reparsed == NULL)
    {
      g_set_error_literal (error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_FAILED,
                           "The content to sign could not be read back as MIME");
      return NULL;
    }
  init_request (self, configuration, &request, MSG_GPGME_SIGN, protocol);
  request.input = g_bytes_ref (bytes);
  request.signer = g_strdup (signer);
  if (_msg_gpgme_run (&request, until, cancellable, error))
    result = build_signed (protocol, reparsed, request.output, request.micalg);
  _msg_gpgme_request_clear (&request);
  return result;
}

static GMimeObject *
encrypt_object (MsgMessage        *self,
                MsgConfiguration  *configuration,
                MsgCryptoProtocol  protocol,
                GMimeObject       *content,
                const char        *signer,
                const char *const *recipients,
                gint64             until,
                GCancellable      *cancellable,
                GError           **error)
{
  MsgGpgmeRequest request;
  GMimeObject    *result = NULL;

  init_request (self, configuration, &request, signer != NULL ? MSG_GPGME_SIGN_ENCRYPT : MSG_GPGME_ENCRYPT, protocol);
  request.input = write_canonical (content, FALSE);
  request.signer = g_strdup (signer);
  request.recipients = g_strdupv ((GStrv) recipients);
  if (_msg_gpgme_run (&request, until, cancellable, error))
    result = build_encrypted (protocol, request.output);
  _msg_gpgme_request_clear (&request);
  return result;
}

static gboolean
seal (MsgMessage        *self,
      MsgConfiguration  *configuration,
      MsgCryptoProtocol  protocol,
      const char        *signer,
      gboolean           encrypt,
      const char *const *recipients,
      gint64             until,
      GCancellable      *cancellable,
      GError           **error)
{
  g_auto (GStrv) from_message = NULL;
  g_autoptr (GMimeObject) sealed = NULL;
  GMimeObject *root;

  if (encrypt && recipients == NULL)
    recipients = (const char *const *) (from_message = message_recipients (self));
  if (encrypt && recipients[0] == NULL)
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_NO_RECIPIENTS,
                           "There is nobody to encrypt the message to: it has no To, Cc or Bcc "
                           "recipient and no recipients were given");
      return FALSE;
    }
  _msg_message_ensure_tree (self);
  root = g_mime_message_get_mime_part (self->mime);
  if (root == NULL)
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED,
                           "The message has no body to sign or encrypt");
      return FALSE;
    }
  /* Nothing may re-encode a signed part later (an SMTP server without
   * 8BITMIME): make every part 7-bit now. */
  g_mime_object_encode (root, GMIME_ENCODING_CONSTRAINT_7BIT);

  if (signer != NULL && (!encrypt || protocol == MSG_CRYPTO_PROTOCOL_SMIME))
    {
      sealed = sign_object (self, configuration, protocol, root, signer, until, cancellable, error);
      if (sealed == NULL)
        return FALSE;
      signer = NULL;
    }
  if (encrypt)
    {
      GMimeObject *encrypted = encrypt_object (self, configuration, protocol, sealed != NULL ? sealed : root,
                                               signer, recipients, until, cancellable, error);

      if (encrypted == NULL)
        return FALSE;
      g_clear_object (&sealed);
      sealed = encrypted;
    }

  if (self->unsealed == NULL)
    {
      self->unsealed = g_object_ref (root);
      self->unsealed_parsed = self->parsed;
      self->unsealed_hand_built = self->hand_built;
    }
  _msg_mime_message_set_root (self->mime, sealed);
  /* The tree is kept as it is from now on. */
  self->parsed = TRUE;
  self->hand_built = FALSE;
  self->dirty = FALSE;
  _msg_message_link_tree (self);
  return TRUE;
}

void
_msg_message_unseal (MsgMessage *self)
{
  g_autoptr (GMimeObject) unsealed = NULL;
  GMimeObject *root = g_mime_message_get_mime_part (self->mime);

  /* A parsed signed message: its signed content, without the signature
   * (a change would break it). */
  if (self->unsealed == NULL && self->parsed && GMIME_IS_MULTIPART_SIGNED (root) &&
      g_mime_multipart_get_count (GMIME_MULTIPART (root)) == 2)
    {
      self->unsealed = g_object_ref (g_mime_multipart_get_part (GMIME_MULTIPART (root), GMIME_MULTIPART_SIGNED_CONTENT));
      self->unsealed_parsed = TRUE;
      self->unsealed_hand_built = self->hand_built;
    }
  if (self->unsealed == NULL)
    return;
  unsealed = g_steal_pointer (&self->unsealed);
  _msg_mime_message_set_root (self->mime, unsealed);
  self->parsed = self->unsealed_parsed;
  self->hand_built = self->unsealed_hand_built;
  _msg_message_link_tree (self);
}

static MsgCryptoProtocol
configured_protocol (MsgConfiguration *configuration)
{
  return msg_configuration_get_int (configuration, "cryptoprotocol") == MSG_CRYPTO_PROTOCOL_SMIME
             ? MSG_CRYPTO_PROTOCOL_SMIME
             : MSG_CRYPTO_PROTOCOL_OPENPGP;
}

/* Signing and encrypting at send time (the crypto* fields). */

struct _MsgSealedSend
{
  GMimeObject *root;     /* (owned): the body before the send sealed it */
  GMimeObject *unsealed; /* (owned) (nullable): self->unsealed before */
  guint        parsed : 1;
  guint        hand_built : 1;
  guint        unsealed_parsed : 1;
  guint        unsealed_hand_built : 1;
};

gboolean
_msg_configuration_wants_crypto (MsgConfiguration *configuration)
{
  g_autofree char *signer = msg_configuration_get_field (configuration, "cryptosign");

  return (signer != NULL && *signer != '\0') || msg_configuration_get_boolean (configuration, "cryptoencrypt");
}

void
_msg_configuration_copy_passphrase_func (MsgConfiguration *from,
                                         MsgConfiguration *to)
{
  MsgPassphraseHandler *handler = g_object_dup_qdata (G_OBJECT (from), passphrase_quark (), ref_handler_cb, NULL);

  if (handler != NULL)
    g_object_set_qdata_full (G_OBJECT (to), passphrase_quark (), handler,
                             (GDestroyNotify) _msg_passphrase_handler_unref);
}

gboolean
_msg_message_seal_for_send (MsgMessage       *self,
                            MsgConfiguration *configuration,
                            gint64            until,
                            GMainContext     *caller_context,
                            GCancellable     *cancellable,
                            MsgSealedSend   **sealed,
                            GError          **error)
{
  g_autofree char *signer = msg_configuration_get_field (configuration, "cryptosign");
  gboolean         encrypt = msg_configuration_get_boolean (configuration, "cryptoencrypt");
  MsgSealedSend   *saved;
  GMimeObject     *root;
  gboolean         ok;

  *sealed = NULL;
  if (signer != NULL && *signer == '\0')
    g_clear_pointer (&signer, g_free);
  _msg_message_ensure_tree (self);
  root = g_mime_message_get_mime_part (self->mime);
  /* What the caller sealed already is not sealed again, but a signed
   * body is still encrypted when encryption is asked for. */
  if (root != NULL && (GMIME_IS_MULTIPART_ENCRYPTED (root) || GMIME_IS_APPLICATION_PKCS7_MIME (root)))
    return TRUE;
  if (root != NULL && GMIME_IS_MULTIPART_SIGNED (root))
    g_clear_pointer (&signer, g_free);
  if (signer == NULL && !encrypt)
    return TRUE;
  if (root == NULL)
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED,
                           "The message has no body to sign or encrypt");
      return FALSE;
    }

  saved = g_new0 (MsgSealedSend, 1);
  saved->root = g_object_ref (root);
  saved->unsealed = self->unsealed != NULL ? g_object_ref (self->unsealed) : NULL;
  saved->parsed = self->parsed;
  saved->hand_built = self->hand_built;
  saved->unsealed_parsed = self->unsealed_parsed;
  saved->unsealed_hand_built = self->unsealed_hand_built;
  _msg_gpgme_set_caller_context (caller_context);
  ok = seal (self, configuration, configured_protocol (configuration), signer, encrypt, NULL,
             MIN (until, crypto_deadline (configuration)), cancellable, error);
  _msg_gpgme_set_caller_context (NULL);
  if (!ok)
    {
      _msg_message_unseal_after_send (self, saved);
      return FALSE;
    }
  *sealed = saved;
  return TRUE;
}

void
_msg_message_unseal_after_send (MsgMessage    *self,
                                MsgSealedSend *sealed)
{
  if (sealed == NULL)
    return;
  _msg_mime_message_set_root (self->mime, sealed->root);
  g_clear_object (&self->unsealed);
  self->unsealed = g_steal_pointer (&sealed->unsealed);
  self->parsed = sealed->parsed;
  self->hand_built = sealed->hand_built;
  self->unsealed_parsed = sealed->unsealed_parsed;
  self->unsealed_hand_built = sealed->unsealed_hand_built;
  self->dirty = FALSE;
  _msg_message_link_tree (self);
  g_object_unref (sealed->root);
  g_free (sealed);
}

static gboolean
sealing_call (MsgMessage        *self,
              MsgCryptoProtocol  protocol,
              gboolean           sign,
              const char        *signer,
              gboolean           encrypt,
              const char *const *recipients,
              GCancellable      *cancellable,
              GError           **error)
{
  g_autofree char *configured_signer = NULL;
  gboolean         ok;

  if (protocol == MSG_CRYPTO_PROTOCOL_DEFAULT)
    protocol = configured_protocol (self->configuration);
  if (sign && signer == NULL)
    {
      configured_signer = msg_configuration_get_field (self->configuration, "cryptosign");
      if (configured_signer == NULL || *configured_signer == '\0')
        {
          g_set_error_literal (error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NO_KEY,
                               "No signing key: none was given and the configuration's cryptosign is empty");
          return FALSE;
        }
      signer = configured_signer;
    }
  if (!_msg_message_claim (self, error))
    return FALSE;
  ok = seal (self, self->configuration, protocol, signer, encrypt, recipients, crypto_deadline (self->configuration),
             cancellable, error);
  _msg_message_release (self);
  return ok;
}

/**
 * msg_message_sign:
 * @self: a message
 * @protocol: OpenPGP, S/MIME, or %MSG_CRYPTO_PROTOCOL_DEFAULT for the
 *   configuration's `cryptoprotocol`
 * @signer: (nullable): the signing key: a mail address (its first usable
 *   secret key) or a fingerprint, from the keyring of `$GNUPGHOME`; %NULL
 *   for the configuration's `cryptosign`
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Signs the body of the message: it becomes a `multipart/signed` (RFC
 * 3156 or RFC 8551) holding the body and a detached signature. Every
 * part is first made 7-bit safe (quoted-printable or base64), so that no
 * transport re-encodes anything inside the signature.
 *
 * The call takes at most `cryptooperationtimeout` (60 s by default),
 * and a cancellation or time-out returns at once and ends the `gpg` or
 * `gpgsm` process. A key that needs a passphrase gets it from the
 * function set with msg_configuration_set_passphrase_func(); there is
 * never a prompt.
 *
 * Changing the body afterwards (text, HTML, attachments) drops the
 * signature: the message goes back to its content from before signing,
 * then the change is made. Headers may change freely (they are not
 * signed).
 *
 * Returns: %TRUE if the message was signed
 */
gboolean
msg_message_sign (MsgMessage       *self,
                  MsgCryptoProtocol protocol,
                  const char       *signer,
                  GCancellable     *cancellable,
                  GError          **error)
{
  g_return_val_if_fail (MSG_IS_MESSAGE (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return sealing_call (self, protocol, TRUE, signer, FALSE, NULL, cancellable, error);
}

/**
 * msg_message_encrypt:
 * @self: a message
 * @protocol: OpenPGP, S/MIME, or %MSG_CRYPTO_PROTOCOL_DEFAULT for the
 *   configuration's `cryptoprotocol`
 * @recipients: (array zero-terminated=1) (nullable): the recipients'
 *   addresses or fingerprints, or %NULL for the message's To, Cc and Bcc
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Encrypts the body of the message to the recipients' public keys: it
 * becomes a `multipart/encrypted` (OpenPGP) or an
 * `application/pkcs7-mime` enveloped-data part (S/MIME). A recipient
 * without a usable key fails the call with %MSG_CRYPTO_ERROR_NO_KEY
 * naming it. The sender is not added: give their address too to be able
 * to read the message. Clocks, cancellation and later changes of the body
 * are as for msg_message_sign().
 *
 * Returns: %TRUE if the message was encrypted
 */
gboolean
msg_message_encrypt (MsgMessage        *self,
                     MsgCryptoProtocol  protocol,
                     const char *const *recipients,
                     GCancellable      *cancellable,
                     GError           **error)
{
  g_return_val_if_fail (MSG_IS_MESSAGE (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return sealing_call (self, protocol, FALSE, NULL, TRUE, recipients, cancellable, error);
}

/**
 * msg_message_sign_and_encrypt:
 * @self: a message
 * @protocol: OpenPGP, S/MIME, or %MSG_CRYPTO_PROTOCOL_DEFAULT for the
 *   configuration's `cryptoprotocol`
 * @signer: (nullable): the signing key (see msg_message_sign())
 * @recipients: (array zero-terminated=1) (nullable): the recipients'
 *   addresses or fingerprints, or %NULL for the message's To, Cc and Bcc
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Signs and encrypts the body: for OpenPGP one encrypted and signed
 * OpenPGP message in a `multipart/encrypted` (RFC 3156 §6.2), for S/MIME
 * a `multipart/signed` enveloped in `application/pkcs7-mime`. Within one
 * `cryptooperationtimeout` for the whole call.
 *
 * Returns: %TRUE if the message was signed and encrypted
 */
gboolean
msg_message_sign_and_encrypt (MsgMessage        *self,
                              MsgCryptoProtocol  protocol,
                              const char        *signer,
                              const char *const *recipients,
                              GCancellable      *cancellable,
                              GError           **error)
{
  g_return_val_if_fail (MSG_IS_MESSAGE (self), FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  return sealing_call (self, protocol, TRUE, signer, TRUE, recipients, cancellable, error);
}

static GBytes *
decoded_content (GMimeObject *object)
{
  GMimeDataWrapper *wrapper = GMIME_IS_PART (object) ? g_mime_part_get_content (GMIME_PART (object)) : NULL;
  g_autoptr (GMimeStream) mem = g_mime_stream_mem_new ();
  GByteArray *array;

  if (wrapper != NULL)
    g_mime_data_wrapper_write_to_stream (wrapper, mem);
  array = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (mem));
  return g_bytes_new (array->data, array->len);
}

static gboolean
protocol_of (GMimeObject       *object,
             const char        *openpgp,
             const char        *smime,
             MsgCryptoProtocol *protocol)
{
  const char *value = g_mime_object_get_content_type_parameter (object, "protocol");

  if (value != NULL && g_ascii_strcasecmp (value, openpgp) == 0)
    *protocol = MSG_CRYPTO_PROTOCOL_OPENPGP;
  else if (value != NULL && (g_ascii_strcasecmp (value, smime) == 0 ||
                             g_ascii_strcasecmp (value, "application/x-pkcs7-signature") == 0))
    *protocol = MSG_CRYPTO_PROTOCOL_SMIME;
  else
    return FALSE;
  return TRUE;
}

static GList *
to_list (GPtrArray *signatures)
{
  GList *list = NULL;

  for (guint i = signatures != NULL ? signatures->len : 0; i > 0; i--)
    list = g_list_prepend (list, g_object_ref (g_ptr_array_index (signatures, i - 1)));
  return list;
}

static char *
mime_type_of (GMimeObject *object)
{
  return object != NULL ? g_mime_content_type_get_mime_type (g_mime_object_get_content_type (object))
                        : g_strdup ("empty");
}

static GList *verify_until (MsgMessage   *self,
                            gint64        until,
                            GCancellable *cancellable,
                            GError      **error);

/**
 * msg_message_verify:
 * @self: a message
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Checks the signatures of a signed message (`multipart/signed`, OpenPGP
 * or S/MIME, or S/MIME `application/pkcs7-mime` signed-data) against the
 * keys of `$GNUPGHOME`. A bad signature or an unknown signer is a
 * [class@Signature] status, not an error; an error means the message is
 * not signed (%MSG_CRYPTO_ERROR_NOT_SIGNED) or checking could not run.
 * To check a signed and encrypted message, decrypt it with
 * msg_message_decrypt(), which returns its signatures.
 *
 * Returns: (transfer full) (element-type MsgSignature): the signatures,
 *   or %NULL with @error set
 */
GList *
msg_message_verify (MsgMessage   *self,
                    GCancellable *cancellable,
                    GError      **error)
{
  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  return verify_until (self, crypto_deadline (self->configuration), cancellable, error);
}

/* msg_message_verify() until @until (monotonic µs): a decryption that
 * finds a signature inside verifies it under its own deadline. */
static GList *
verify_until (MsgMessage   *self,
              gint64        until,
              GCancellable *cancellable,
              GError      **error)
{
  GMimeObject      *root;
  MsgCryptoProtocol protocol = MSG_CRYPTO_PROTOCOL_OPENPGP;
  MsgGpgmeRequest   request;
  GList            *list = NULL;

  _msg_message_ensure_tree (self);
  root = g_mime_message_get_mime_part (self->mime);
  if (GMIME_IS_MULTIPART_SIGNED (root) && g_mime_multipart_get_count (GMIME_MULTIPART (root)) == 2 &&
      protocol_of (root, "application/pgp-signature", "application/pkcs7-signature", &protocol))
    {
      GMimeObject *content = g_mime_multipart_get_part (GMIME_MULTIPART (root), GMIME_MULTIPART_SIGNED_CONTENT);
      GMimeObject *signature = g_mime_multipart_get_part (GMIME_MULTIPART (root), GMIME_MULTIPART_SIGNED_SIGNATURE);

      init_request (self, self->configuration, &request, MSG_GPGME_VERIFY, protocol);
      request.input = write_canonical (content, FALSE);
      request.signature = decoded_content (signature);
    }
  else if (GMIME_IS_APPLICATION_PKCS7_MIME (root) &&
           g_mime_application_pkcs7_mime_get_smime_type (GMIME_APPLICATION_PKCS7_MIME (root)) == GMIME_SECURE_MIME_TYPE_SIGNED_DATA)
    {
      init_request (self, self->configuration, &request, MSG_GPGME_VERIFY, MSG_CRYPTO_PROTOCOL_SMIME);
      request.input = decoded_content (root);
    }
  else
    {
      g_autofree char *type = mime_type_of (root);

      g_set_error (error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NOT_SIGNED,
                   "The message is not signed: its body is %s, not multipart/signed with an "
                   "OpenPGP or S/MIME signature",
                   type);
      return NULL;
    }
  if (_msg_gpgme_run (&request, until, cancellable, error))
    list = to_list (request.signatures);
  _msg_gpgme_request_clear (&request);
  return list;
}

/* The decrypted entity under the headers of @self that are not about
 * the content. */
static MsgMessage *
message_with_body (MsgMessage *self,
                   GBytes     *entity,
                   GError    **error)
{
  GMimeHeaderList *headers = g_mime_object_get_header_list (GMIME_OBJECT (self->mime));
  g_autoptr (GMimeStream) mem = g_mime_stream_mem_new ();
  g_autoptr (GBytes) bytes = NULL;
  GByteArray *array;
  MsgMessage *message;

  for (int i = 0; i < g_mime_header_list_get_count (headers); i++)
    {
      GMimeHeader *header = g_mime_header_list_get_header_at (headers, i);
      const char  *name = g_mime_header_get_name (header);

      if (g_ascii_strncasecmp (name, "Content-", 8) != 0 && g_ascii_strcasecmp (name, "MIME-Version") != 0)
        g_mime_header_write_to_stream (header, NULL, mem);
    }
  g_mime_stream_write_string (mem, "MIME-Version: 1.0\n");
  g_mime_stream_write (mem, g_bytes_get_data (entity, NULL), g_bytes_get_size (entity));
  array = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (mem));
  bytes = g_bytes_new (array->data, array->len);
  message = msg_message_new_from_bytes (bytes, error);
  if (message != NULL)
    msg_message_set_configuration (message, self->configuration);
  return message;
}

/**
 * msg_message_decrypt:
 * @self: an encrypted message
 * @signatures: (out) (optional) (transfer full) (element-type MsgSignature):
 *   the signatures of a signed and encrypted message (empty if it was
 *   only encrypted)
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Decrypts an OpenPGP `multipart/encrypted` or an S/MIME
 * `application/pkcs7-mime` enveloped-data message with the secret keys
 * of `$GNUPGHOME`. The result is a new message with the headers of
 * @self and the decrypted body, read as any parsed message; @self is
 * left as it was. Clocks and passphrases are as for msg_message_sign().
 *
 * Returns: (transfer full): the decrypted message, or %NULL with @error
 *   set (%MSG_CRYPTO_ERROR_NOT_ENCRYPTED, %MSG_CRYPTO_ERROR_NO_KEY,
 *   %MSG_CRYPTO_ERROR_DECRYPT_FAILED, …)
 */
MsgMessage *
msg_message_decrypt (MsgMessage   *self,
                     GList       **signatures,
                     GCancellable *cancellable,
                     GError      **error)
{
  gint64            until;
  GMimeObject      *root;
  MsgCryptoProtocol protocol = MSG_CRYPTO_PROTOCOL_OPENPGP;
  MsgGpgmeRequest   request;
  MsgMessage       *message = NULL;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  until = crypto_deadline (self->configuration);
  _msg_message_ensure_tree (self);
  root = g_mime_message_get_mime_part (self->mime);
  if (GMIME_IS_MULTIPART_ENCRYPTED (root) && g_mime_multipart_get_count (GMIME_MULTIPART (root)) == 2 &&
      protocol_of (root, "application/pgp-encrypted", "application/pkcs7-mime", &protocol) &&
      protocol == MSG_CRYPTO_PROTOCOL_OPENPGP)
    {
      GMimeObject *data = g_mime_multipart_get_part (GMIME_MULTIPART (root), GMIME_MULTIPART_ENCRYPTED_CONTENT);

      init_request (self, self->configuration, &request, MSG_GPGME_DECRYPT, protocol);
      request.input = decoded_content (data);
    }
  else if (GMIME_IS_APPLICATION_PKCS7_MIME (root) &&
           g_mime_application_pkcs7_mime_get_smime_type (GMIME_APPLICATION_PKCS7_MIME (root)) == GMIME_SECURE_MIME_TYPE_ENVELOPED_DATA)
    {
      init_request (self, self->configuration, &request, MSG_GPGME_DECRYPT, MSG_CRYPTO_PROTOCOL_SMIME);
      request.input = decoded_content (root);
    }
  else
    {
      g_autofree char *type = mime_type_of (root);

      g_set_error (error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NOT_ENCRYPTED,
                   "The message is not encrypted: its body is %s, not multipart/encrypted "
                   "(OpenPGP) or application/pkcs7-mime enveloped-data (S/MIME)",
                   type);
      return NULL;
    }
  if (_msg_gpgme_run (&request, until, cancellable, error))
    {
      message = message_with_body (self, request.output, error);
      if (message != NULL && signatures != NULL)
        {
          *signatures = to_list (request.signatures);
          /* S/MIME signs, then envelopes: the signature is inside. */
          if (*signatures == NULL && GMIME_IS_MULTIPART_SIGNED (g_mime_message_get_mime_part (message->mime)))
            {
              g_autoptr (GError) verify_error = NULL;

              /* The same deadline: the verification is part of this
               * call. Running out of time or being cancelled fails the
               * call; any other error leaves the list empty. */
              *signatures = verify_until (message, until, cancellable, &verify_error);
              if (g_error_matches (verify_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT) ||
                  g_error_matches (verify_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
                {
                  g_propagate_error (error, g_steal_pointer (&verify_error));
                  g_clear_object (&message);
                }
            }
        }
    }
  _msg_gpgme_request_clear (&request);
  return message;
}

/* The _async calls: the sync code in a thread of its own (decision 11). */

typedef enum
{
  ASYNC_SEAL,
  ASYNC_VERIFY,
  ASYNC_DECRYPT,
} AsyncKind;

typedef struct
{
  AsyncKind         kind;
  MsgCryptoProtocol protocol;
  gboolean          sign;
  char             *signer;     /* (owned) (nullable) */
  GStrv             recipients; /* (owned) (nullable) */
  gboolean          encrypt;
  GList            *signatures; /* (owned) (element-type MsgSignature): DECRYPT */
} AsyncData;

static void
async_data_free (gpointer data)
{
  AsyncData *async = data;

  g_free (async->signer);
  g_strfreev (async->recipients);
  g_list_free_full (async->signatures, g_object_unref);
  g_free (async);
}

static void
free_signature_list (gpointer list)
{
  g_list_free_full (list, g_object_unref);
}

static void
crypto_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  MsgMessage *self = source_object;
  AsyncData  *async = task_data;
  GError     *error = NULL;
  gpointer    result;

  /* The passphrase function runs in the caller's context, as the
   * callback does (decision 18). */
  _msg_gpgme_set_caller_context (g_task_get_context (task));
  switch (async->kind)
    {
    case ASYNC_SEAL:
      if (sealing_call (self, async->protocol, async->sign, async->signer, async->encrypt,
                        (const char *const *) async->recipients, cancellable, &error))
        g_task_return_boolean (task, TRUE);
      else
        g_task_return_error (task, error);
      break;
    case ASYNC_VERIFY:
      result = msg_message_verify (self, cancellable, &error);
      if (error != NULL)
        g_task_return_error (task, error);
      else
        g_task_return_pointer (task, result, free_signature_list);
      break;
    case ASYNC_DECRYPT:
      result = msg_message_decrypt (self, &async->signatures, cancellable, &error);
      if (result == NULL)
        g_task_return_error (task, error);
      else
        g_task_return_pointer (task, result, g_object_unref);
      break;
    default:
      g_assert_not_reached ();
    }
  _msg_gpgme_set_caller_context (NULL);
}

static void
start_async (MsgMessage         *self,
             AsyncData          *async,
             gpointer            source_tag,
             GCancellable       *cancellable,
             GAsyncReadyCallback callback,
             gpointer            user_data)
{
  g_autoptr (GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, async, async_data_free);
  _msg_task_run_in_own_thread (task, crypto_thread);
}

static AsyncData *
seal_data (MsgCryptoProtocol  protocol,
           gboolean           sign,
           const char        *signer,
           gboolean           encrypt,
           const char *const *recipients)
{
  AsyncData *async = g_new0 (AsyncData, 1);

  async->kind = ASYNC_SEAL;
  async->protocol = protocol;
  async->sign = sign;
  async->signer = g_strdup (signer);
  async->encrypt = encrypt;
  async->recipients = g_strdupv ((GStrv) recipients);
  return async;
}

/**
 * msg_message_sign_async:
 * @self: a message
 * @protocol: OpenPGP, S/MIME, or %MSG_CRYPTO_PROTOCOL_DEFAULT for the
 *   configuration's `cryptoprotocol`
 * @signer: (nullable): the signing key (see [method@Message.sign])
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called when the message is signed
 * @user_data: data for @callback
 *
 * Starts [method@Message.sign] in a thread. Leave the message alone
 * until @callback runs (in the caller's thread-default main context).
 */
void
msg_message_sign_async (MsgMessage         *self,
                        MsgCryptoProtocol   protocol,
                        const char         *signer,
                        GCancellable       *cancellable,
                        GAsyncReadyCallback callback,
                        gpointer            user_data)
{
  g_return_if_fail (MSG_IS_MESSAGE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  start_async (self, seal_data (protocol, TRUE, signer, FALSE, NULL), msg_message_sign_async, cancellable, callback,
               user_data);
}

/**
 * msg_message_sign_finish:
 * @self: a message
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Finishes [method@Message.sign_async].
 *
 * Returns: %TRUE if the message was signed
 */
gboolean
msg_message_sign_finish (MsgMessage   *self,
                         GAsyncResult *result,
                         GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * msg_message_encrypt_async:
 * @self: a message
 * @protocol: OpenPGP, S/MIME, or %MSG_CRYPTO_PROTOCOL_DEFAULT for the
 *   configuration's `cryptoprotocol`
 * @recipients: (array zero-terminated=1) (nullable): the recipients, or
 *   %NULL for the message's To, Cc and Bcc
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called when the message is encrypted
 * @user_data: data for @callback
 *
 * Starts [method@Message.encrypt] in a thread. Leave the message alone
 * until @callback runs.
 */
void
msg_message_encrypt_async (MsgMessage         *self,
                           MsgCryptoProtocol   protocol,
                           const char *const  *recipients,
                           GCancellable       *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer            user_data)
{
  g_return_if_fail (MSG_IS_MESSAGE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  start_async (self, seal_data (protocol, FALSE, NULL, TRUE, recipients), msg_message_encrypt_async, cancellable,
               callback, user_data);
}

/**
 * msg_message_encrypt_finish:
 * @self: a message
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Finishes [method@Message.encrypt_async].
 *
 * Returns: %TRUE if the message was encrypted
 */
gboolean
msg_message_encrypt_finish (MsgMessage   *self,
                            GAsyncResult *result,
                            GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * msg_message_sign_and_encrypt_async:
 * @self: a message
 * @protocol: OpenPGP, S/MIME, or %MSG_CRYPTO_PROTOCOL_DEFAULT for the
 *   configuration's `cryptoprotocol`
 * @signer: (nullable): the signing key
 * @recipients: (array zero-terminated=1) (nullable): the recipients, or
 *   %NULL for the message's To, Cc and Bcc
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called when the message is signed and
 *   encrypted
 * @user_data: data for @callback
 *
 * Starts [method@Message.sign_and_encrypt] in a thread. Leave the
 * message alone until @callback runs.
 */
void
msg_message_sign_and_encrypt_async (MsgMessage         *self,
                                    MsgCryptoProtocol   protocol,
                                    const char         *signer,
                                    const char *const  *recipients,
                                    GCancellable       *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer            user_data)
{
  g_return_if_fail (MSG_IS_MESSAGE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  start_async (self, seal_data (protocol, TRUE, signer, TRUE, recipients), msg_message_sign_and_encrypt_async,
               cancellable, callback, user_data);
}

/**
 * msg_message_sign_and_encrypt_finish:
 * @self: a message
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Finishes [method@Message.sign_and_encrypt_async].
 *
 * Returns: %TRUE if the message was signed and encrypted
 */
gboolean
msg_message_sign_and_encrypt_finish (MsgMessage   *self,
                                     GAsyncResult *result,
                                     GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * msg_message_verify_async:
 * @self: a message
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called when the signatures are checked
 * @user_data: data for @callback
 *
 * Starts [method@Message.verify] in a thread.
 */
void
msg_message_verify_async (MsgMessage         *self,
                          GCancellable       *cancellable,
                          GAsyncReadyCallback callback,
                          gpointer            user_data)
{
  AsyncData *async;

  g_return_if_fail (MSG_IS_MESSAGE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  async = g_new0 (AsyncData, 1);
  async->kind = ASYNC_VERIFY;
  start_async (self, async, msg_message_verify_async, cancellable, callback, user_data);
}

/**
 * msg_message_verify_finish:
 * @self: a message
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Finishes [method@Message.verify_async].
 *
 * Returns: (transfer full) (element-type MsgSignature): the signatures,
 *   or %NULL with @error set
 */
GList *
msg_message_verify_finish (MsgMessage   *self,
                           GAsyncResult *result,
                           GError      **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/**
 * msg_message_decrypt_async:
 * @self: an encrypted message
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called when the message is decrypted
 * @user_data: data for @callback
 *
 * Starts [method@Message.decrypt] in a thread.
 */
void
msg_message_decrypt_async (MsgMessage         *self,
                           GCancellable       *cancellable,
                           GAsyncReadyCallback callback,
                           gpointer            user_data)
{
  AsyncData *async;

  g_return_if_fail (MSG_IS_MESSAGE (self));
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  async = g_new0 (AsyncData, 1);
  async->kind = ASYNC_DECRYPT;
  start_async (self, async, msg_message_decrypt_async, cancellable, callback, user_data);
}

/**
 * msg_message_decrypt_finish:
 * @self: a message
 * @result: the result given to the callback
 * @signatures: (out) (optional) (transfer full) (element-type MsgSignature):
 *   the signatures of a signed and encrypted message
 * @error: return location for an error
 *
 * Finishes [method@Message.decrypt_async].
 *
 * Returns: (transfer full): the decrypted message, or %NULL with @error
 *   set
 */
MsgMessage *
msg_message_decrypt_finish (MsgMessage   *self,
                            GAsyncResult *result,
                            GList       **signatures,
                            GError      **error)
{
  AsyncData  *async;
  MsgMessage *message;

  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  async = g_task_get_task_data (G_TASK (result));
  message = g_task_propagate_pointer (G_TASK (result), error);
  if (message != NULL && signatures != NULL)
    *signatures = g_steal_pointer (&async->signatures);
  return message;
}
