/* msg-tls-utils.c: certificate verification failures in words
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-tls-utils-private.h"

/* What each flag means and what to do about it. A user meets these with a
 * self-signed test server, a certificate for another name or an expired
 * one; "Unacceptable TLS certificate" alone says neither why nor what to
 * do. */
typedef struct
{
  GTlsCertificateFlags flag;
  const char          *reason;
  const char          *fix;
} FlagText;

static const FlagText flag_texts[] = {
  { G_TLS_CERTIFICATE_UNKNOWN_CA, "unknown issuer",
    "If you trust this server, set tlscafile=FILE to a PEM file of the authority "
    "that signed its certificate (or of the self-signed certificate itself)" },
  { G_TLS_CERTIFICATE_BAD_IDENTITY, "host name mismatch",
    "Connect by a name the certificate was issued for (the server field must "
    "match the certificate, not an address or an alias)" },
  { G_TLS_CERTIFICATE_NOT_ACTIVATED, "not activated yet",
    "Check this machine's clock, or ask the server's administrator" },
  { G_TLS_CERTIFICATE_EXPIRED, "expired",
    "The server's administrator must renew the certificate (or check this "
    "machine's clock)" },
  { G_TLS_CERTIFICATE_REVOKED, "revoked",
    "The server's administrator must replace the certificate" },
  { G_TLS_CERTIFICATE_INSECURE, "insecure algorithm",
    "The server's administrator must replace the certificate with one that uses "
    "a secure algorithm" },
  { G_TLS_CERTIFICATE_GENERIC_ERROR, "could not be verified",
    "Check tlscafile and the server's certificate chain" },
};

/* "unknown issuer, host name mismatch": the flags in words, in the order
 * of the table; unknown bits as a number. */
char *
_msg_tls_describe_certificate_flags (GTlsCertificateFlags flags)
{
  GString *out = g_string_new (NULL);
  unsigned rest = flags;

  for (gsize i = 0; i < G_N_ELEMENTS (flag_texts); i++)
    {
      if ((flags & flag_texts[i].flag) == 0)
        continue;
      g_string_append_printf (out, "%s%s", out->len > 0 ? ", " : "", flag_texts[i].reason);
      rest &= ~(unsigned) flag_texts[i].flag;
    }
  if (rest != 0 || out->len == 0)
    g_string_append_printf (out, "%sflags 0x%x", out->len > 0 ? ", " : "", rest);
  return g_string_free (out, FALSE);
}

/* Sets G_TLS_ERROR_BAD_CERTIFICATE naming the reasons and the fixes. */
void
_msg_tls_set_certificate_error (GError             **error,
                                const char          *host,
                                unsigned             port,
                                GTlsCertificateFlags flags)
{
  g_autofree char *reasons = _msg_tls_describe_certificate_flags (flags);
  GString         *fixes = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (flag_texts); i++)
    {
      if ((flags & flag_texts[i].flag) != 0)
        g_string_append_printf (fixes, "%s%s", fixes->len > 0 ? ". " : "", flag_texts[i].fix);
    }
  if (fixes->len > 0)
    g_string_append (fixes, ". ");
  g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE,
               "TLS handshake with %s:%u failed: unacceptable TLS certificate (%s). "
               "%sOnly for tests: tlsverify=false accepts any certificate, but then "
               "anyone on the network path can pose as the server",
               host, port, reasons, fixes->str);
  g_string_free (fixes, TRUE);
}
