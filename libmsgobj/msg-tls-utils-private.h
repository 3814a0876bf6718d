/* msg-tls-utils-private.h: certificate verification failures in words
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

char *_msg_tls_describe_certificate_flags (GTlsCertificateFlags flags);
void  _msg_tls_set_certificate_error (GError             **error,
                                      const char          *host,
                                      unsigned             port,
                                      GTlsCertificateFlags flags);

G_END_DECLS
