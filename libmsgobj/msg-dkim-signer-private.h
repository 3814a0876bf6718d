/* msg-dkim-signer-private.h: DKIM signatures (RFC 6376, RFC 8463), for the library
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "msg-dkim-module-private.h"
#include "msg-transport.h"

G_BEGIN_DECLS

/* Reads the `dkim*` fields of @configuration and the private key they
 * name. Returns TRUE with *@out NULL when `dkimsign` is false; FALSE with
 * an error naming the field or the key file when signing was asked for
 * and cannot be done. With @previous (nullable) made from the same field
 * values and its key file unchanged (same inode, size, times, mode and
 * owner), *@out is a new reference to @previous: the key is then read,
 * checked and handed to libopendkim once for many sends. Loads the DKIM
 * module (msg-dkim-signer.c) when signing is on, not before. */
gboolean       _msg_dkim_signer_new_for_configuration (MsgConfiguration *configuration,
                                                       MsgDkimSigner    *previous,
                                                       MsgDkimSigner   **out,
                                                       GError          **error);
MsgDkimSigner *_msg_dkim_signer_ref (MsgDkimSigner *self);
void           _msg_dkim_signer_unref (MsgDkimSigner *self);

/* Writes @message once, with @flags, through the canonicalizer and
 * returns the complete `DKIM-Signature` header field to put before it,
 * CRLF line ends, the last one included. */
char *_msg_dkim_signer_sign (MsgDkimSigner *self,
                             MsgMessage    *message,
                             MsgWriteFlags  flags,
                             GCancellable  *cancellable,
                             GError       **error);

/* Signs @message as _msg_dkim_signer_sign() does and writes the header to
 * @stream; with @self NULL, does nothing. */
gboolean _msg_dkim_signer_write_signature (MsgDkimSigner *self,
                                           MsgMessage    *message,
                                           MsgWriteFlags  flags,
                                           GOutputStream *stream,
                                           GCancellable  *cancellable,
                                           GError       **error);

/* The running send's signer (msg-transport-implementation.c), or NULL when it is not to
 * be signed. */
MsgDkimSigner *_msg_transport_get_dkim_signer (MsgTransport *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgDkimSigner, _msg_dkim_signer_unref)

G_END_DECLS
