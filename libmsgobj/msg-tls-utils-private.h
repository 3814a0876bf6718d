/* msg-tls-utils-private.h: certificate verification failures in words,
 * and the TLS checks of a connection
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

char    *_msg_tls_describe_certificate_flags (GTlsCertificateFlags flags);
void     _msg_tls_set_certificate_error (GError             **error,
                                         const char          *host,
                                         unsigned             port,
                                         GTlsCertificateFlags flags);
void     _msg_tls_accept_any_certificate (GTlsConnection *tls,
                                          const char     *host,
                                          unsigned        port,
                                          int            *warned);
gboolean _msg_tls_check_protocol_version (GTlsConnection *tls,
                                          const char     *host,
                                          unsigned        port,
                                          GError        **error);

G_END_DECLS
