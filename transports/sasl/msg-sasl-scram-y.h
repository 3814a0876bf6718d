/* msg-sasl-scram-y.h: SCRAM with the GS2 "y" flag (downgrade detection)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Over TLS, a client that can bind SCRAM to the channel but sees no
 * "-PLUS" mechanism offered must say so with the GS2 flag "y" (RFC 5802
 * section 6), so that a server which does offer -PLUS (and had it
 * stripped by a man in the middle) refuses. GNU SASL 2.2.0 tries to send
 * "y" when given channel binding data for a non-PLUS mechanism but fails
 * its own check of the message (it names the binding type with "y") and
 * returns GSASL_AUTHENTICATION_ERROR. So GNU SASL runs the exchange with
 * "n" and this helper rewrites the header and recomputes the proof and
 * the expected server signature from GNU SASL's salted password.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _MsgSaslScramY MsgSaslScramY;

MsgSaslScramY *_msg_sasl_scram_y_new (const char *mechanism);
void           _msg_sasl_scram_y_free (MsgSaslScramY *self);
char          *_msg_sasl_scram_y_rewrite_first (MsgSaslScramY *self,
                                                const char    *first);
char          *_msg_sasl_scram_y_rewrite_final (MsgSaslScramY *self,
                                                const char    *server_first,
                                                const char    *final,
                                                const char    *salted_password);
gboolean       _msg_sasl_scram_y_verify (MsgSaslScramY *self,
                                         const guchar  *server_final,
                                         gsize          length);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgSaslScramY, _msg_sasl_scram_y_free)

G_END_DECLS
