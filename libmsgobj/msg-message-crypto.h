/* msg-message-crypto.h: signing, encrypting, verifying and decrypting
 * messages with OpenPGP (PGP/MIME) and S/MIME
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MSGOBJ_H_INSIDE__) && !defined(MSGOBJ_COMPILATION)
#error "Only <msgobj.h> can be included directly."
#endif

#include "msg-types.h"
#include "msg-enums.h"

G_BEGIN_DECLS

/**
 * MSG_CRYPTO_ERROR:
 *
 * The error domain of signing, encrypting, verifying and decrypting
 * messages.
 */
#define MSG_CRYPTO_ERROR (msg_crypto_error_quark ())

/**
 * MsgCryptoError:
 * @MSG_CRYPTO_ERROR_NO_KEY: no usable key or certificate for a signer or
 *   recipient (named in the message), or no secret key to decrypt
 * @MSG_CRYPTO_ERROR_NO_PASSPHRASE: a key needs a passphrase and no
 *   passphrase function was set, or it refused
 * @MSG_CRYPTO_ERROR_BAD_PASSPHRASE: the passphrase given was wrong
 * @MSG_CRYPTO_ERROR_NOT_SIGNED: the message is not signed (verify)
 * @MSG_CRYPTO_ERROR_NOT_ENCRYPTED: the message is not encrypted (decrypt)
 * @MSG_CRYPTO_ERROR_DECRYPT_FAILED: the content could not be decrypted
 * @MSG_CRYPTO_ERROR_ENGINE: `gpg` or `gpgsm` is missing or failed
 * @MSG_CRYPTO_ERROR_FAILED: another failure
 *
 * Errors of the crypto operations. A time-out is
 * %G_IO_ERROR_TIMED_OUT and a cancellation %G_IO_ERROR_CANCELLED.
 */
typedef enum
{
  MSG_CRYPTO_ERROR_NO_KEY,
  MSG_CRYPTO_ERROR_NO_PASSPHRASE,
  MSG_CRYPTO_ERROR_BAD_PASSPHRASE,
  MSG_CRYPTO_ERROR_NOT_SIGNED,
  MSG_CRYPTO_ERROR_NOT_ENCRYPTED,
  MSG_CRYPTO_ERROR_DECRYPT_FAILED,
  MSG_CRYPTO_ERROR_ENGINE,
  MSG_CRYPTO_ERROR_FAILED,
} MsgCryptoError;

MSG_AVAILABLE_IN_ALL
GQuark msg_crypto_error_quark (void);

/**
 * MsgPassphraseFunc:
 * @key_description: the key that needs the passphrase, as GnuPG names it
 *   (OpenPGP: key id and user id; S/MIME: fingerprint and address)
 * @previous_failed: whether the passphrase given before for this
 *   operation was wrong
 * @user_data: the data given to msg_configuration_set_passphrase_func()
 *
 * Gives the passphrase of a secret key. It is called in the thread that
 * made the call, never on a thread of the library: a sync call calls it
 * in its own thread while it waits; an `_async` call (and an async send
 * that signs or decrypts) in the thread-default main context of its
 * caller at the time of the call. The operation waits for it within its
 * deadline and cancellable: an answer that comes later is wiped and not
 * used, and an `_async` call completes without waiting for it. The
 * library wipes its copies of the passphrase once used.
 *
 * Returns: (transfer full) (nullable): the passphrase, or %NULL to refuse
 *   (the operation fails with %MSG_CRYPTO_ERROR_NO_PASSPHRASE)
 */
typedef char *(*MsgPassphraseFunc) (const char *key_description,
                                    gboolean    previous_failed,
                                    gpointer    user_data);

MSG_AVAILABLE_IN_ALL
void      msg_configuration_set_passphrase_func (MsgConfiguration  *self,
                                                 MsgPassphraseFunc  func,
                                                 gpointer           user_data,
                                                 GDestroyNotify     destroy);

MSG_AVAILABLE_IN_ALL
gboolean  msg_message_sign                      (MsgMessage         *self,
                                                 MsgCryptoProtocol   protocol,
                                                 const char         *signer,
                                                 GCancellable       *cancellable,
                                                 GError            **error);
MSG_AVAILABLE_IN_ALL
gboolean  msg_message_encrypt                   (MsgMessage         *self,
                                                 MsgCryptoProtocol   protocol,
                                                 const char *const  *recipients,
                                                 GCancellable       *cancellable,
                                                 GError            **error);
MSG_AVAILABLE_IN_ALL
gboolean  msg_message_sign_and_encrypt          (MsgMessage         *self,
                                                 MsgCryptoProtocol   protocol,
                                                 const char         *signer,
                                                 const char *const  *recipients,
                                                 GCancellable       *cancellable,
                                                 GError            **error);
MSG_AVAILABLE_IN_ALL
GList    *msg_message_verify                    (MsgMessage         *self,
                                                 GCancellable       *cancellable,
                                                 GError            **error);
MSG_AVAILABLE_IN_ALL
MsgMessage *msg_message_decrypt                 (MsgMessage         *self,
                                                 GList             **signatures,
                                                 GCancellable       *cancellable,
                                                 GError            **error);

MSG_AVAILABLE_IN_ALL
void      msg_message_sign_async                (MsgMessage         *self,
                                                 MsgCryptoProtocol   protocol,
                                                 const char         *signer,
                                                 GCancellable       *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer            user_data);
MSG_AVAILABLE_IN_ALL
gboolean  msg_message_sign_finish               (MsgMessage         *self,
                                                 GAsyncResult       *result,
                                                 GError            **error);
MSG_AVAILABLE_IN_ALL
void      msg_message_encrypt_async             (MsgMessage         *self,
                                                 MsgCryptoProtocol   protocol,
                                                 const char *const  *recipients,
                                                 GCancellable       *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer            user_data);
MSG_AVAILABLE_IN_ALL
gboolean  msg_message_encrypt_finish            (MsgMessage         *self,
                                                 GAsyncResult       *result,
                                                 GError            **error);
MSG_AVAILABLE_IN_ALL
void      msg_message_sign_and_encrypt_async    (MsgMessage         *self,
                                                 MsgCryptoProtocol   protocol,
                                                 const char         *signer,
                                                 const char *const  *recipients,
                                                 GCancellable       *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer            user_data);
MSG_AVAILABLE_IN_ALL
gboolean  msg_message_sign_and_encrypt_finish   (MsgMessage         *self,
                                                 GAsyncResult       *result,
                                                 GError            **error);
MSG_AVAILABLE_IN_ALL
void      msg_message_verify_async              (MsgMessage         *self,
                                                 GCancellable       *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer            user_data);
MSG_AVAILABLE_IN_ALL
GList    *msg_message_verify_finish             (MsgMessage         *self,
                                                 GAsyncResult       *result,
                                                 GError            **error);
MSG_AVAILABLE_IN_ALL
void      msg_message_decrypt_async             (MsgMessage         *self,
                                                 GCancellable       *cancellable,
                                                 GAsyncReadyCallback callback,
                                                 gpointer            user_data);
MSG_AVAILABLE_IN_ALL
MsgMessage *msg_message_decrypt_finish          (MsgMessage         *self,
                                                 GAsyncResult       *result,
                                                 GList             **signatures,
                                                 GError            **error);

G_END_DECLS
