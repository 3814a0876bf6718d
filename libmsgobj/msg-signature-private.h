/* msg-signature-private.h: making signatures
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "msg-signature.h"

G_BEGIN_DECLS

/* All strings are copied; NULL becomes "". */
MsgSignature *_msg_signature_new (MsgCryptoProtocol  protocol,
                                  MsgSignatureStatus status,
                                  const char        *user_id,
                                  const char        *address,
                                  const char        *fingerprint,
                                  gint64             created,
                                  const char        *detail);

G_END_DECLS
