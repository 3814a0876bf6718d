/* msgobj-dkim.c: msgobj dkim-keygen, a DKIM key pair and its DNS record
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msgobj-tool.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <gmodule.h>
#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <string.h>
#include <unistd.h>

/* A TXT record holds strings of at most 255 octets each (RFC 1035
 * section 3.3.14); the zone file line splits the key into them. */
#define TXT_CHUNK 250

static gboolean
check_label_list (const char *option,
                  const char *value,
                  GError    **error)
{
  gsize label = 0;

  if (value == NULL || *value == '\0')
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE, "dkim-keygen needs %s", option);
      return FALSE;
    }
  for (const char *p = value;; p++)
    {
      if (*p == '.' || *p == '\0')
        {
          if (label == 0 || label > 63)
            break;
          if (*p == '\0')
            return TRUE;
          label = 0;
          continue;
        }
      if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
        break;
      label++;
    }
  g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
               "%s wants a DNS name (ASCII letters, digits and hyphens, labels separated by dots)",
               option);
  return FALSE;
}

/* The GnuTLS functions dkim-keygen calls. GnuTLS is opened by its soname
 * when a key is made, not linked: its constructor and the relocation of
 * it and its libraries were about a third of every msgobj process's
 * start-up (docs/design.md, decision 26). */
typedef struct
{
  __typeof__ (gnutls_strerror)                   *strerror;
  __typeof__ (gnutls_x509_privkey_init)          *x509_privkey_init;
  __typeof__ (gnutls_x509_privkey_generate)      *x509_privkey_generate;
  __typeof__ (gnutls_x509_privkey_export2_pkcs8) *x509_privkey_export2_pkcs8;
  __typeof__ (gnutls_x509_privkey_deinit)        *x509_privkey_deinit;
  __typeof__ (gnutls_privkey_init)               *privkey_init;
  __typeof__ (gnutls_privkey_import_x509)        *privkey_import_x509;
  __typeof__ (gnutls_privkey_deinit)             *privkey_deinit;
  __typeof__ (gnutls_pubkey_init)                *pubkey_init;
  __typeof__ (gnutls_pubkey_import_privkey)      *pubkey_import_privkey;
  __typeof__ (gnutls_pubkey_export_ecc_raw2)     *pubkey_export_ecc_raw2;
  __typeof__ (gnutls_pubkey_export2)             *pubkey_export2;
  __typeof__ (gnutls_pubkey_deinit)              *pubkey_deinit;
  __typeof__ (gnutls_memset)                     *memset;
  gnutls_free_function                           *free; /* the variable gnutls_free */
} Gnutls;

static const Gnutls *
gnutls_get (GError **error)
{
  static Gnutls gnutls;
#ifdef MSGOBJ_GNUTLS_SONAME
  static const struct
  {
    const char *name;
    gsize       offset;
  } symbols[] = {
#define SYMBOL(field) { "gnutls_" #field, G_STRUCT_OFFSET (Gnutls, field) }
    SYMBOL (strerror),
    SYMBOL (x509_privkey_init),
    SYMBOL (x509_privkey_generate),
    SYMBOL (x509_privkey_export2_pkcs8),
    SYMBOL (x509_privkey_deinit),
    SYMBOL (privkey_init),
    SYMBOL (privkey_import_x509),
    SYMBOL (privkey_deinit),
    SYMBOL (pubkey_init),
    SYMBOL (pubkey_import_privkey),
    SYMBOL (pubkey_export_ecc_raw2),
    SYMBOL (pubkey_export2),
    SYMBOL (pubkey_deinit),
    SYMBOL (memset),
    SYMBOL (free),
#undef SYMBOL
  };
  /* Kept open: the process ends after one key. */
  GModule *module = g_module_open (MSGOBJ_GNUTLS_SONAME, G_MODULE_BIND_LOCAL);

  if (module == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "Cannot load GnuTLS (%s) to make the key: %s",
                   MSGOBJ_GNUTLS_SONAME, g_module_error ());
      return NULL;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (symbols); i++)
    {
      gpointer address = NULL;

      if (!g_module_symbol (module, symbols[i].name, &address) || address == NULL)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, "GnuTLS (%s) has no %s: %s", MSGOBJ_GNUTLS_SONAME,
                       symbols[i].name, g_module_error ());
          return NULL;
        }
      G_STRUCT_MEMBER (gpointer, &gnutls, symbols[i].offset) = address;
    }
#else
  gnutls = (Gnutls){ gnutls_strerror, gnutls_x509_privkey_init, gnutls_x509_privkey_generate,
                     gnutls_x509_privkey_export2_pkcs8, gnutls_x509_privkey_deinit, gnutls_privkey_init,
                     gnutls_privkey_import_x509, gnutls_privkey_deinit, gnutls_pubkey_init,
                     gnutls_pubkey_import_privkey, gnutls_pubkey_export_ecc_raw2, gnutls_pubkey_export2,
                     gnutls_pubkey_deinit, gnutls_memset, &gnutls_free };
#endif
  return &gnutls;
}

static gboolean
gnutls_failed (const Gnutls *gnutls,
               int           ret,
               const char   *what,
               GError      **error)
{
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot %s: %s", what, gnutls->strerror (ret));
  return FALSE;
}

/* The private key as PKCS #8 PEM without a passphrase, and the public key
 * as DKIM's p= wants it: the DER SubjectPublicKeyInfo for RSA, the 32
 * raw octets for Ed25519 (RFC 8463 section 4). */
static gboolean
generate (const Gnutls   *gnutls,
          gboolean        ed25519,
          unsigned        bits,
          gnutls_datum_t *private_pem,
          char          **public_b64,
          GError        **error)
{
  gnutls_x509_privkey_t x509 = NULL;
  gnutls_privkey_t      privkey = NULL;
  gnutls_pubkey_t       pubkey = NULL;
  gnutls_datum_t        pub = { NULL, 0 };
  gboolean              ok = FALSE;
  int                   ret;

  if ((ret = gnutls->x509_privkey_init (&x509)) < 0 ||
      (ret = gnutls->x509_privkey_generate (x509, ed25519 ? GNUTLS_PK_EDDSA_ED25519 : GNUTLS_PK_RSA,
                                            ed25519 ? GNUTLS_CURVE_TO_BITS (GNUTLS_ECC_CURVE_ED25519) : bits, 0)) < 0)
    {
      gnutls_failed (gnutls, ret, "generate the key", error);
      goto out;
    }
  if ((ret = gnutls->x509_privkey_export2_pkcs8 (x509, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN, private_pem)) < 0)
    {
      gnutls_failed (gnutls, ret, "export the private key", error);
      goto out;
    }
  if ((ret = gnutls->privkey_init (&privkey)) < 0 || (ret = gnutls->privkey_import_x509 (privkey, x509, 0)) < 0 ||
      (ret = gnutls->pubkey_init (&pubkey)) < 0 || (ret = gnutls->pubkey_import_privkey (pubkey, privkey, 0, 0)) < 0)
    {
      gnutls_failed (gnutls, ret, "derive the public key", error);
      goto out;
    }
  if (ed25519)
    ret = gnutls->pubkey_export_ecc_raw2 (pubkey, NULL, &pub, NULL, 0);
  else
    ret = gnutls->pubkey_export2 (pubkey, GNUTLS_X509_FMT_DER, &pub);
  if (ret < 0)
    {
      gnutls_failed (gnutls, ret, "export the public key", error);
      goto out;
    }
  *public_b64 = g_base64_encode (pub.data, pub.size);
  ok = TRUE;

out:
  (*gnutls->free) (pub.data);
  if (pubkey != NULL)
    gnutls->pubkey_deinit (pubkey);
  if (privkey != NULL)
    gnutls->privkey_deinit (privkey);
  if (x509 != NULL)
    gnutls->x509_privkey_deinit (x509);
  return ok;
}

/* The record in zone-file syntax, as opendkim-genkey writes it. */
static char *
format_record (const char *domain,
               const char *selector,
               gboolean    ed25519,
               const char *public_b64)
{
  GString         *out = g_string_new (NULL);
  g_autofree char *p = g_strconcat ("p=", public_b64, NULL);
  gsize            len = strlen (p);

  g_string_append_printf (out, "%s._domainkey\tIN\tTXT\t( \"v=DKIM1; %s\"", selector,
                          ed25519 ? "k=ed25519; " : "h=sha256; k=rsa; ");
  for (gsize i = 0; i < len; i += TXT_CHUNK)
    g_string_append_printf (out, "\n\t  \"%.*s\"", (int) MIN (TXT_CHUNK, len - i), p + i);
  g_string_append_printf (out, " )  ; ----- DKIM key %s for %s\n", selector, domain);
  return g_string_free (out, FALSE);
}

/* Writes @data to a new file @path (never over an existing one) with
 * @mode, whatever the umask; removes it again on failure. */
static gboolean
write_new_file (const char *path,
                const void *data,
                gsize       length,
                int         mode,
                GError    **error)
{
  gsize written = 0;
  int   fd = g_open (path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
  int   saved_errno;

  if (fd < 0)
    {
      saved_errno = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno), "Cannot create “%s”: %s%s",
                   path, g_strerror (saved_errno),
                   saved_errno == EEXIST ? " (an existing key is never overwritten)" : "");
      return FALSE;
    }
  while (written < length)
    {
      gssize n = write (fd, (const char *) data + written, length - written);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        break;
      written += (gsize) n;
    }
  saved_errno = errno;
  if (written == length && fchmod (fd, (mode_t) mode) == 0 && fsync (fd) == 0 && close (fd) == 0)
    return TRUE;
  if (written == length)
    saved_errno = errno;
  g_unlink (path);
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno), "Cannot write “%s”: %s", path,
               g_strerror (saved_errno));
  return FALSE;
}

static gboolean
keygen (GError **error)
{
  const char      *dir = opts.output_dir != NULL ? opts.output_dir : ".";
  gnutls_datum_t   private_pem = { NULL, 0 };
  g_autofree char *public_b64 = NULL;
  g_autofree char *record = NULL;
  g_autofree char *private_name = NULL;
  g_autofree char *private_path = NULL;
  g_autofree char *txt_name = NULL;
  g_autofree char *txt_path = NULL;
  gboolean         ed25519 = FALSE;
  unsigned         bits = opts.bits > 0 ? (unsigned) opts.bits : 2048;
  const Gnutls    *gnutls;
  gboolean         ok;

  if (!check_label_list ("--domain", opts.domain, error) || !check_label_list ("--selector", opts.selector, error))
    return FALSE;
  if (opts.algorithm != NULL && g_ascii_strcasecmp (opts.algorithm, "ed25519-sha256") == 0)
    ed25519 = TRUE;
  else if (opts.algorithm != NULL && g_ascii_strcasecmp (opts.algorithm, "rsa-sha256") != 0)
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   "--algorithm wants rsa-sha256 or ed25519-sha256, not “%s”", opts.algorithm);
      return FALSE;
    }
  if (ed25519 ? opts.bits != 0 : (bits < 1024 || bits > 8192))
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           ed25519 ? "--bits is for RSA keys (an Ed25519 key has no size to choose)"
                                   : "--bits wants 1024 to 8192 (RFC 8301: 1024 at least, 2048 advised)");
      return FALSE;
    }

  gnutls = gnutls_get (error);
  if (gnutls == NULL || !generate (gnutls, ed25519, bits, &private_pem, &public_b64, error))
    return FALSE;
  record = format_record (opts.domain, opts.selector, ed25519, public_b64);
  private_name = g_strconcat (opts.selector, ".private", NULL);
  private_path = g_build_filename (dir, private_name, NULL);
  txt_name = g_strconcat (opts.selector, ".txt", NULL);
  txt_path = g_build_filename (dir, txt_name, NULL);

  ok = write_new_file (private_path, private_pem.data, private_pem.size, 0600, error);
  if (ok && !write_new_file (txt_path, record, strlen (record), 0644, error))
    {
      g_unlink (private_path);
      ok = FALSE;
    }
  gnutls->memset (private_pem.data, 0, private_pem.size);
  (*gnutls->free) (private_pem.data);
  if (ok)
    g_print ("%s", record);
  return ok;
}

int
command_dkim_keygen (void)
{
  g_autoptr (GError) error = NULL;

  if (keygen (&error))
    return EXIT_OK;
  if (error->domain == G_OPTION_ERROR)
    {
      print_error (error->message);
      return EXIT_USAGE;
    }
  return fail (error);
}
