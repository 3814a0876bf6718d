/* msg-signature.c: one signature of a signed message, as checked
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "msg-signature-private.h"
#include "msg-enum-types.h"

/**
 * MsgSignature:
 *
 * One signature of a signed or signed and encrypted message, as
 * msg_message_verify() or msg_message_decrypt() found it: who signed
 * (as the signer's key names them), the key's fingerprint, when it was
 * signed and what checking it found.
 *
 * Only a signature whose [property@Signature:status] is
 * %MSG_SIGNATURE_STATUS_GOOD says that the content is what the owner of
 * the key signed; whether that key belongs to the person named in the
 * From field is the keyring's business (its trust), not the signature's.
 */
struct _MsgSignature
{
  GObject parent_instance;

  MsgCryptoProtocol  protocol;
  MsgSignatureStatus status;
  char              *user_id;     /* (owned) */
  char              *address;     /* (owned) */
  char              *fingerprint; /* (owned) */
  gint64             created;
  char              *detail; /* (owned) */
};

G_DEFINE_FINAL_TYPE (MsgSignature, msg_signature, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_STATUS,
  PROP_PROTOCOL,
  PROP_USER_ID,
  PROP_ADDRESS,
  PROP_FINGERPRINT,
  PROP_CREATED,
  PROP_DETAIL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void
msg_signature_finalize (GObject *object)
{
  MsgSignature *self = MSG_SIGNATURE (object);

  g_free (self->user_id);
  g_free (self->address);
  g_free (self->fingerprint);
  g_free (self->detail);
  G_OBJECT_CLASS (msg_signature_parent_class)->finalize (object);
}

static void
msg_signature_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  MsgSignature *self = MSG_SIGNATURE (object);

  switch (prop_id)
    {
    case PROP_STATUS:
      g_value_set_enum (value, self->status);
      break;
    case PROP_PROTOCOL:
      g_value_set_enum (value, self->protocol);
      break;
    case PROP_USER_ID:
      g_value_set_string (value, self->user_id);
      break;
    case PROP_ADDRESS:
      g_value_set_string (value, self->address);
      break;
    case PROP_FINGERPRINT:
      g_value_set_string (value, self->fingerprint);
      break;
    case PROP_CREATED:
      g_value_set_int64 (value, self->created);
      break;
    case PROP_DETAIL:
      g_value_set_string (value, self->detail);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
msg_signature_class_init (MsgSignatureClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = msg_signature_finalize;
  object_class->get_property = msg_signature_get_property;

  /**
   * MsgSignature:status:
   *
   * What checking the signature found.
   */
  properties[PROP_STATUS] =
      g_param_spec_enum ("status", NULL, NULL, MSG_TYPE_SIGNATURE_STATUS, MSG_SIGNATURE_STATUS_ERROR,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * MsgSignature:protocol:
   *
   * OpenPGP or S/MIME.
   */
  properties[PROP_PROTOCOL] =
      g_param_spec_enum ("protocol", NULL, NULL, MSG_TYPE_CRYPTO_PROTOCOL, MSG_CRYPTO_PROTOCOL_OPENPGP,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * MsgSignature:user-id:
   *
   * The signer as the key names them: an OpenPGP user id such as
   * `Ann <ann@example.org>`, or an S/MIME certificate's subject; empty
   * when the key is not in the keyring.
   */
  properties[PROP_USER_ID] =
      g_param_spec_string ("user-id", NULL, NULL, "", G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * MsgSignature:address:
   *
   * The signer's mail address from the key, or empty.
   */
  properties[PROP_ADDRESS] =
      g_param_spec_string ("address", NULL, NULL, "", G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * MsgSignature:fingerprint:
   *
   * The fingerprint of the signing key (hexadecimal), or its key id when
   * the key is unknown.
   */
  properties[PROP_FINGERPRINT] =
      g_param_spec_string ("fingerprint", NULL, NULL, "", G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * MsgSignature:created:
   *
   * When the signature was made, in seconds since 1970 (UTC), or 0 if
   * unknown.
   */
  properties[PROP_CREATED] =
      g_param_spec_int64 ("created", NULL, NULL, 0, G_MAXINT64, 0, G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  /**
   * MsgSignature:detail:
   *
   * What GnuPG said about the signature, in words (for
   * %MSG_SIGNATURE_STATUS_ERROR in particular), or empty.
   */
  properties[PROP_DETAIL] =
      g_param_spec_string ("detail", NULL, NULL, "", G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
msg_signature_init (MsgSignature *self)
{
}

MsgSignature *
_msg_signature_new (MsgCryptoProtocol  protocol,
                    MsgSignatureStatus status,
                    const char        *user_id,
                    const char        *address,
                    const char        *fingerprint,
                    gint64             created,
                    const char        *detail)
{
  MsgSignature *self = g_object_new (MSG_TYPE_SIGNATURE, NULL);

  self->protocol = protocol;
  self->status = status;
  self->user_id = g_strdup (user_id != NULL ? user_id : "");
  self->address = g_strdup (address != NULL ? address : "");
  self->fingerprint = g_strdup (fingerprint != NULL ? fingerprint : "");
  self->created = MAX (created, 0);
  self->detail = g_strdup (detail != NULL ? detail : "");
  return self;
}

/**
 * msg_signature_get_status:
 * @self: a signature
 *
 * Gets what checking the signature found.
 *
 * Returns: what checking the signature found
 */
MsgSignatureStatus
msg_signature_get_status (MsgSignature *self)
{
  g_return_val_if_fail (MSG_IS_SIGNATURE (self), MSG_SIGNATURE_STATUS_ERROR);

  return self->status;
}

/**
 * msg_signature_get_protocol:
 * @self: a signature
 *
 * Gets the protocol of the signature.
 *
 * Returns: OpenPGP or S/MIME
 */
MsgCryptoProtocol
msg_signature_get_protocol (MsgSignature *self)
{
  g_return_val_if_fail (MSG_IS_SIGNATURE (self), MSG_CRYPTO_PROTOCOL_OPENPGP);

  return self->protocol;
}

/**
 * msg_signature_get_user_id:
 * @self: a signature
 *
 * Gets the signer as the signing key names them.
 *
 * Returns: the signer as the key names them, or an empty string
 */
const char *
msg_signature_get_user_id (MsgSignature *self)
{
  g_return_val_if_fail (MSG_IS_SIGNATURE (self), NULL);

  return self->user_id;
}

/**
 * msg_signature_get_address:
 * @self: a signature
 *
 * Gets the signer's mail address from the signing key.
 *
 * Returns: the signer's mail address from the key, or an empty string
 */
const char *
msg_signature_get_address (MsgSignature *self)
{
  g_return_val_if_fail (MSG_IS_SIGNATURE (self), NULL);

  return self->address;
}

/**
 * msg_signature_get_fingerprint:
 * @self: a signature
 *
 * Gets the fingerprint of the signing key.
 *
 * Returns: the fingerprint (or key id) of the signing key
 */
const char *
msg_signature_get_fingerprint (MsgSignature *self)
{
  g_return_val_if_fail (MSG_IS_SIGNATURE (self), NULL);

  return self->fingerprint;
}

/**
 * msg_signature_get_created:
 * @self: a signature
 *
 * Gets when the signature was made.
 *
 * Returns: when the signature was made (seconds since 1970, UTC), or 0
 */
gint64
msg_signature_get_created (MsgSignature *self)
{
  g_return_val_if_fail (MSG_IS_SIGNATURE (self), 0);

  return self->created;
}

/**
 * msg_signature_get_detail:
 * @self: a signature
 *
 * Gets what GnuPG said about the signature.
 *
 * Returns: what GnuPG said about the signature, or an empty string
 */
const char *
msg_signature_get_detail (MsgSignature *self)
{
  g_return_val_if_fail (MSG_IS_SIGNATURE (self), NULL);

  return self->detail;
}
