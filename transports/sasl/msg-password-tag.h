/* msg-password-tag.h: the password's share of a kept connection's key
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Part of the static helper library of the SMTP and NNTP modules
 * (docs/design.md, decision 16).
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A tag of @password for the key under which a connection is kept
 * (docs/design.md, decision 7): an HMAC-SHA256 under a random key made
 * once per process, so that the key is no unsalted digest that a
 * dictionary reverses (issue 14, item 9). Hexadecimal; free with g_free(). */
char *_msg_password_tag (const char *password);

G_END_DECLS
