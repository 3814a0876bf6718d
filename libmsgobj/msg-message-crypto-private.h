/* msg-message-crypto-private.h: signing and encrypting at send time, as
 * the configuration's crypto* fields ask (msg-message-crypto.c)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "msg-message-crypto.h"
#include "msg-types.h"

#include <gio/gio.h>

G_BEGIN_DECLS

/* The body a send replaced with its sealed one, put back after it. */
typedef struct _MsgSealedSend MsgSealedSend;

/* Whether @configuration asks for messages sent to be signed
 * (`cryptosign`) or encrypted (`cryptoencrypt`). */
gboolean _msg_configuration_wants_crypto (MsgConfiguration *configuration);

/* Gives @to the passphrase function of @from (a snapshot of it). */
void _msg_configuration_copy_passphrase_func (MsgConfiguration *from,
                                              MsgConfiguration *to);

/* Signs and/or encrypts the body of @self, claimed by a send, as
 * @configuration's crypto* fields ask, until @until (monotonic µs, and
 * `cryptooperationtimeout`) or @cancellable. A body signed or encrypted
 * by the caller already is not signed again, nor encrypted again. The
 * passphrase function runs in @caller_context (an _async send's caller's
 * main context), or in this thread when it is NULL. On
 * success *@sealed (nullable) gets what
 * _msg_message_unseal_after_send() puts back when the send is over. */
gboolean _msg_message_seal_for_send (MsgMessage       *self,
                                     MsgConfiguration *configuration,
                                     gint64            until,
                                     GMainContext     *caller_context,
                                     GCancellable     *cancellable,
                                     MsgSealedSend   **sealed,
                                     GError          **error);
void     _msg_message_unseal_after_send (MsgMessage    *self,
                                         MsgSealedSend *sealed);

G_END_DECLS
