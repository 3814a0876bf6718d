/* msg-tls-utils.c: certificate verification failures in words, and the
 * TLS checks of a connection
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

/* The data of the accept-certificate handler: the handshake runs on
 * another thread, which may outlive the connection object. */
typedef struct
{
  char *where;  /* (owned) "host:port" */
  int  *warned; /* (owned) an rc box of the connection's */
} CertWarning;

static void
cert_warning_free (gpointer  data,
                   GClosure *closure)
{
  CertWarning *warning = data;

  g_free (warning->where);
  g_atomic_rc_box_release (warning->warned);
  g_free (warning);
}

static gboolean
accept_any_certificate_cb (GTlsConnection      *connection,
                           GTlsCertificate     *peer_cert,
                           GTlsCertificateFlags errors,
                           gpointer             user_data)
{
  CertWarning *warning = user_data;

  if (g_atomic_int_compare_and_exchange (warning->warned, 0, 1))
    {
      g_autofree char *reasons = _msg_tls_describe_certificate_flags (errors);

      g_warning ("%s: accepting a TLS certificate that failed verification "
                 "(%s) because tlsverify is off: the connection is not "
                 "protected against impostors",
                 warning->where, reasons);
    }
  return TRUE;
}

/* Accepts any certificate on @tls (tlsverify off), warning once per
 * @warned box (an int in a g_atomic_rc_box, owned by the caller) that
 * the connection is not protected against impostors. */
void
_msg_tls_accept_any_certificate (GTlsConnection *tls,
                                 const char     *host,
                                 unsigned        port,
                                 int            *warned)
{
  CertWarning *warning = g_new0 (CertWarning, 1);

  warning->where = g_strdup_printf ("%s:%u", host, port);
  warning->warned = g_atomic_rc_box_acquire (warned);
  g_signal_connect_data (tls, "accept-certificate", G_CALLBACK (accept_any_certificate_cb), warning,
                         cert_warning_free, 0);
}

/* TLS 1.0 and 1.1 are deprecated (RFC 8996): a session below 1.2 is
 * refused with @error set. */
gboolean
_msg_tls_check_protocol_version (GTlsConnection *tls,
                                 const char     *host,
                                 unsigned        port,
                                 GError        **error)
{
  GTlsProtocolVersion version = g_tls_connection_get_protocol_version (tls);

  if (version != G_TLS_PROTOCOL_VERSION_SSL_3_0 && version != G_TLS_PROTOCOL_VERSION_TLS_1_0 &&
      version != G_TLS_PROTOCOL_VERSION_TLS_1_1)
    return TRUE;
  g_set_error (error, G_TLS_ERROR, G_TLS_ERROR_HANDSHAKE,
               "TLS handshake with %s:%u failed: the server offers only %s; "
               "TLS 1.2 or newer is required (RFC 8996)",
               host, port,
               version == G_TLS_PROTOCOL_VERSION_SSL_3_0   ? "SSL 3.0"
               : version == G_TLS_PROTOCOL_VERSION_TLS_1_0 ? "TLS 1.0"
                                                           : "TLS 1.1");
  return FALSE;
}
