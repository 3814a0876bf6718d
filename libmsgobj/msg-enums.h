/* msg-enums.h: public enumerations and flags
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MSGOBJ_H_INSIDE__) && !defined(MSGOBJ_COMPILATION)
#error "Only <msgobj.h> can be included directly."
#endif

#include "msg-types.h"

G_BEGIN_DECLS

/**
 * MsgDsnOptions:
 * @MSG_DSN_DEFAULT: no DSN parameters are sent (CDO `cdoDSNDefault`)
 * @MSG_DSN_NEVER: `NOTIFY=NEVER` (CDO `cdoDSNNever`)
 * @MSG_DSN_FAILURE: notify on failure (CDO `cdoDSNFailure`)
 * @MSG_DSN_SUCCESS: notify on success (CDO `cdoDSNSuccess`)
 * @MSG_DSN_DELAY: notify on delay (CDO `cdoDSNDelay`)
 * @MSG_DSN_RETURN_HEADERS: ask for headers only in a DSN (`RET=HDRS`; ours)
 * @MSG_DSN_RETURN_FULL: ask for the full message in a DSN (`RET=FULL`; ours)
 *
 * Delivery status notification requests (RFC 3461), with CDO's
 * `CdoDSNOptions` values.
 */
typedef enum /*< flags >*/
{
  MSG_DSN_DEFAULT = 0,
  MSG_DSN_NEVER = 1 << 0,
  MSG_DSN_FAILURE = 1 << 1,
  MSG_DSN_SUCCESS = 1 << 2,
  MSG_DSN_DELAY = 1 << 3,
  MSG_DSN_RETURN_HEADERS = 1 << 4,
  MSG_DSN_RETURN_FULL = 1 << 5,
} MsgDsnOptions;

/**
 * MsgFieldType:
 * @MSG_FIELD_TYPE_STRING: any string without control characters
 * @MSG_FIELD_TYPE_INT: an integer (ports, enumerations given as numbers)
 * @MSG_FIELD_TYPE_BOOLEAN: `true`/`false`/`1`/`0` (CDO's `True`/`False` too)
 * @MSG_FIELD_TYPE_SECONDS: a non-negative number of seconds, fractions allowed
 * @MSG_FIELD_TYPE_ENUM: one of a list of names (or its CDO number)
 * @MSG_FIELD_TYPE_SECRET: a write-only string such as a password
 * @MSG_FIELD_TYPE_PATH: a file system path
 *
 * The type of a configuration field, which decides how values are validated.
 */
typedef enum
{
  MSG_FIELD_TYPE_STRING,
  MSG_FIELD_TYPE_INT,
  MSG_FIELD_TYPE_BOOLEAN,
  MSG_FIELD_TYPE_SECONDS,
  MSG_FIELD_TYPE_ENUM,
  MSG_FIELD_TYPE_SECRET,
  MSG_FIELD_TYPE_PATH,
} MsgFieldType;

/**
 * MsgStartTlsMode:
 * @MSG_STARTTLS_NEVER: never upgrade a plain connection
 * @MSG_STARTTLS_OPPORTUNISTIC: upgrade when the server offers it
 * @MSG_STARTTLS_REQUIRED: fail with %MSG_TRANSPORT_ERROR_TLS_UNAVAILABLE
 *   unless the connection can be upgraded
 *
 * What to do about STARTTLS on a connection that did not start with TLS.
 */
typedef enum
{
  MSG_STARTTLS_NEVER,
  MSG_STARTTLS_OPPORTUNISTIC,
  MSG_STARTTLS_REQUIRED,
} MsgStartTlsMode;

/**
 * MsgImportance:
 * @MSG_IMPORTANCE_LOW: `Importance: low` (CDO `cdoLow`)
 * @MSG_IMPORTANCE_NORMAL: `Importance: normal` (CDO `cdoNormal`)
 * @MSG_IMPORTANCE_HIGH: `Importance: high` (CDO `cdoHigh`)
 *
 * The importance of a message, with CDO's `cdoImportanceValues`.
 */
typedef enum
{
  MSG_IMPORTANCE_LOW = 0,
  MSG_IMPORTANCE_NORMAL = 1,
  MSG_IMPORTANCE_HIGH = 2,
} MsgImportance;

/**
 * MsgPriority:
 * @MSG_PRIORITY_NON_URGENT: `Priority: non-urgent`, `X-Priority: 5` (CDO
 *   `cdoPriorityNonUrgent`)
 * @MSG_PRIORITY_NORMAL: `Priority: normal`, `X-Priority: 3` (CDO
 *   `cdoPriorityNormal`)
 * @MSG_PRIORITY_URGENT: `Priority: urgent`, `X-Priority: 1` (CDO
 *   `cdoPriorityUrgent`)
 *
 * The priority of a message, with CDO's `cdoPriorityValues`.
 */
typedef enum
{
  MSG_PRIORITY_NON_URGENT = -1,
  MSG_PRIORITY_NORMAL = 0,
  MSG_PRIORITY_URGENT = 1,
} MsgPriority;

/**
 * MsgSensitivity:
 * @MSG_SENSITIVITY_NONE: no `Sensitivity` header (CDO `cdoSensitivityNone`)
 * @MSG_SENSITIVITY_PERSONAL: `Sensitivity: Personal` (CDO `cdoPersonal`)
 * @MSG_SENSITIVITY_PRIVATE: `Sensitivity: Private` (CDO `cdoPrivate`)
 * @MSG_SENSITIVITY_COMPANY_CONFIDENTIAL: `Sensitivity: Company-Confidential`
 *   (CDO `cdoCompanyConfidential`)
 *
 * The sensitivity of a message, with CDO's `cdoSensitivityValues`.
 */
typedef enum
{
  MSG_SENSITIVITY_NONE = 0,
  MSG_SENSITIVITY_PERSONAL = 1,
  MSG_SENSITIVITY_PRIVATE = 2,
  MSG_SENSITIVITY_COMPANY_CONFIDENTIAL = 3,
} MsgSensitivity;

/**
 * MsgMHTMLFlags:
 * @MSG_MHTML_SUPPRESS_NONE: fetch every resource (CDO `cdoSuppressNone`)
 * @MSG_MHTML_SUPPRESS_IMAGES: leave images (`img`, `input type=image`,
 *   `background` attributes, CSS `url()` other than `@import`) as links
 *   (CDO `cdoSuppressImages`)
 * @MSG_MHTML_SUPPRESS_BG_SOUNDS: leave `bgsound` as links (CDO
 *   `cdoSuppressBGSounds`)
 * @MSG_MHTML_SUPPRESS_FRAMES: leave `frame` and `iframe` as links (CDO
 *   `cdoSuppressFrames`)
 * @MSG_MHTML_SUPPRESS_OBJECTS: leave `script`, `object`, `embed` and
 *   `applet` as links (CDO `cdoSuppressObjects`)
 * @MSG_MHTML_SUPPRESS_STYLE_SHEETS: leave style sheets (`link
 *   rel=stylesheet`, CSS `@import`) as links (CDO `cdoSuppressStyleSheets`)
 * @MSG_MHTML_SUPPRESS_ALL: fetch the page only (CDO `cdoSuppressAll`)
 * @MSG_MHTML_USE_CONTENT_LOCATION: *(ours)* identify the parts by
 *   `Content-Location` (their absolute URL, which the references are
 *   rewritten to) instead of `Content-ID` and `cid:` references
 * @MSG_MHTML_SKIP_MISSING: *(ours)* a resource that cannot be fetched
 *   (%MSG_MESSAGE_ERROR_HTTP_NOT_FOUND, %MSG_MESSAGE_ERROR_HTTP_FORBIDDEN,
 *   %MSG_MESSAGE_ERROR_HTTP_FAILED) is left as a link instead of failing
 *   the whole operation (CDO fails)
 *
 * What [method@Message.create_mhtml_body] leaves out, with CDO's
 * `CdoMHTMLFlags` values, and two flags of libmsgobj's own.
 */
typedef enum /*< flags >*/
{
  MSG_MHTML_SUPPRESS_NONE = 0,
  MSG_MHTML_SUPPRESS_IMAGES = 1 << 0,
  MSG_MHTML_SUPPRESS_BG_SOUNDS = 1 << 1,
  MSG_MHTML_SUPPRESS_FRAMES = 1 << 2,
  MSG_MHTML_SUPPRESS_OBJECTS = 1 << 3,
  MSG_MHTML_SUPPRESS_STYLE_SHEETS = 1 << 4,
  MSG_MHTML_SUPPRESS_ALL = 31,
  MSG_MHTML_USE_CONTENT_LOCATION = 1 << 5,
  MSG_MHTML_SKIP_MISSING = 1 << 6,
} MsgMHTMLFlags;

/**
 * MsgReferenceType:
 * @MSG_REFERENCE_TYPE_ID: the reference is a `Content-ID`, used in the
 *   HTML as `cid:ID` (CDO `cdoRefTypeId`)
 * @MSG_REFERENCE_TYPE_LOCATION: the reference is a `Content-Location`, a URL
 *   used as it is in the HTML (CDO `cdoRefTypeLocation`)
 *
 * How the HTML body refers to a related body part, with CDO's
 * `CdoReferenceType` values.
 */
typedef enum
{
  MSG_REFERENCE_TYPE_ID = 0,
  MSG_REFERENCE_TYPE_LOCATION = 1,
} MsgReferenceType;

/**
 * MsgCryptoProtocol:
 * @MSG_CRYPTO_PROTOCOL_OPENPGP: OpenPGP (PGP/MIME, RFC 3156) with `gpg`
 * @MSG_CRYPTO_PROTOCOL_SMIME: S/MIME (RFC 8551) with `gpgsm`
 * @MSG_CRYPTO_PROTOCOL_DEFAULT: the protocol of the configuration's
 *   `cryptoprotocol` field (OpenPGP unless set); only as an argument, a
 *   signature never reports it
 *
 * The protocol of a signature or an encryption.
 */
typedef enum
{
  MSG_CRYPTO_PROTOCOL_OPENPGP,
  MSG_CRYPTO_PROTOCOL_SMIME,
  MSG_CRYPTO_PROTOCOL_DEFAULT,
} MsgCryptoProtocol;

/**
 * MsgSignatureStatus:
 * @MSG_SIGNATURE_STATUS_GOOD: the signature is valid and made by the key
 * @MSG_SIGNATURE_STATUS_BAD: the content or the signature was changed
 * @MSG_SIGNATURE_STATUS_EXPIRED_KEY: valid, but the signer's key has expired
 * @MSG_SIGNATURE_STATUS_EXPIRED_SIGNATURE: valid, but the signature has expired
 * @MSG_SIGNATURE_STATUS_REVOKED_KEY: valid, but the signer's key was revoked
 * @MSG_SIGNATURE_STATUS_NO_PUBLIC_KEY: the signer's key is not in the keyring,
 *   so the signature could not be checked
 * @MSG_SIGNATURE_STATUS_ERROR: the signature could not be checked otherwise
 *
 * What checking one signature found. Only %MSG_SIGNATURE_STATUS_GOOD
 * means the content is what the key's owner signed.
 */
typedef enum
{
  MSG_SIGNATURE_STATUS_GOOD,
  MSG_SIGNATURE_STATUS_BAD,
  MSG_SIGNATURE_STATUS_EXPIRED_KEY,
  MSG_SIGNATURE_STATUS_EXPIRED_SIGNATURE,
  MSG_SIGNATURE_STATUS_REVOKED_KEY,
  MSG_SIGNATURE_STATUS_NO_PUBLIC_KEY,
  MSG_SIGNATURE_STATUS_ERROR,
} MsgSignatureStatus;

G_END_DECLS
