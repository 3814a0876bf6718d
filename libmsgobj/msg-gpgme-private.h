/* msg-gpgme-private.h: GPGME operations under a deadline and a cancellable
 *
 * GPGME's calls block until gpg or gpgsm is done and take no
 * cancellable. Each operation runs on a thread of its own; the caller
 * waits for it with its deadline and cancellable, and when either ends
 * the wait it calls gpgme_cancel_async(): GPGME's wait loop (which polls
 * with a 1 s timeout) then closes its pipes to the engine, which ends
 * the child, and the thread finishes in the background with its result
 * dropped (docs/design.md, decision 18). The caller's passphrase
 * function runs in the caller's thread: the thread waiting in
 * _msg_gpgme_run() serves the operation's questions while it waits, or
 * for an _async call they go to the caller's main context.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "msg-message-crypto.h"

#include <gio/gio.h>

G_BEGIN_DECLS

typedef enum
{
  MSG_GPGME_SIGN,
  MSG_GPGME_ENCRYPT,
  MSG_GPGME_SIGN_ENCRYPT,
  MSG_GPGME_VERIFY,
  MSG_GPGME_DECRYPT,
} MsgGpgmeOperation;

/* A passphrase function with its data, shared by reference between a
 * configuration and the operations that use it. */
typedef struct _MsgPassphraseHandler MsgPassphraseHandler;

MsgPassphraseHandler *_msg_passphrase_handler_new (MsgPassphraseFunc func,
                                                   gpointer          user_data,
                                                   GDestroyNotify    destroy);
MsgPassphraseHandler *_msg_passphrase_handler_ref (MsgPassphraseHandler *self);
void                  _msg_passphrase_handler_unref (MsgPassphraseHandler *self);

typedef struct
{
  MsgGpgmeOperation     operation;
  MsgCryptoProtocol     protocol;
  GBytes               *input;      /* (owned): to sign or encrypt; signed content; ciphertext */
  GBytes               *signature;  /* (owned) (nullable): VERIFY, a detached signature */
  char                 *signer;     /* (owned) (nullable): address or fingerprint */
  GStrv                 recipients; /* (owned) (nullable) */
  MsgPassphraseHandler *passphrase; /* (owned) (nullable) */

  /* Results. */
  GBytes    *output;     /* (owned) (nullable): signature, ciphertext or plaintext */
  char      *micalg;     /* (owned) (nullable): SIGN, e.g. "pgp-sha256" */
  GPtrArray *signatures; /* (owned) (nullable) (element-type MsgSignature) */
} MsgGpgmeRequest;

void _msg_gpgme_request_clear (MsgGpgmeRequest *request);

/* Until called again with NULL, the operations this thread runs (the
 * worker of an _async call) call their passphrase function in @context,
 * the caller's thread-default main context at the call, rather than in
 * this thread. @context is not referenced: keep it alive meanwhile. */
void _msg_gpgme_set_caller_context (GMainContext *context);

/* Runs @request until @until (monotonic µs) or @cancellable; fills its
 * results or sets @error. */
gboolean _msg_gpgme_run (MsgGpgmeRequest *request,
                         gint64           until,
                         GCancellable    *cancellable,
                         GError         **error);

G_END_DECLS
