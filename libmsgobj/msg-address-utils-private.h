/* msg-address-utils-private.h: mailbox checks and address-list parsing
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gmime/gmime.h>

G_BEGIN_DECLS

/* Parses @value completely, or fails with MSG_MESSAGE_ERROR_INVALID_ADDRESS
 * naming @field. */
InternetAddressList *_msg_parse_address_list (const char *field,
                                              const char *value,
                                              gboolean    allow_groups,
                                              GError    **error);

/* Fills the IDNA form GMime caches for @mailbox with its address when its
 * domain is plain ASCII (IDNA would leave it as it is); returns whether it
 * did. Saves GMime a call of libidn2 when it encodes the address. */
gboolean _msg_mailbox_skip_idna (InternetAddressMailbox *mailbox);

/* The address of the first mailbox of @list (groups skipped), or NULL. */
const char *_msg_first_mailbox (InternetAddressList *list);

G_END_DECLS
