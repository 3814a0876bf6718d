/* msg-dkim-module.c: DKIM signatures (RFC 6376, RFC 8463) with libopendkim
 *
 * Built as the module msgobj-dkim.so, loaded on first use
 * (msg-dkim-signer.c); it calls only the library's public functions.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-dkim-module-private.h"

#include <gmodule.h>

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <opendkim/dkim.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A DKIM key is a few KiB at most (an RSA-4096 PEM is 3.3 KiB). */
#define MAX_KEY_FILE_SIZE (64 * 1024)

/* RFC 8301 section 3.2: verifiers refuse RSA keys under 1024 bits. */
#define MIN_RSA_BITS 1024

/* The header block is held while it is read, so that each field goes to
 * the canonicalizer whole; GMime writes no header line over 998 octets,
 * and a header block over 1 MiB is not a message anyone sends. */
#define MAX_HEADER_BLOCK (1024 * 1024)

struct _MsgDkimSigner
{
  gatomicrefcount ref_count;
  char           *identity; /* (owned): the fields and the key file's stat, see signer_identity() */
  DKIM_LIB       *lib;      /* (owned) */
  char           *domain;   /* (owned) */
  char           *selector; /* (owned) */
  char           *key_path; /* (owned) */
  char           *key;      /* (owned): the PEM text, wiped when freed */
  gsize           key_len;
  dkim_alg_t      algorithm;
  dkim_canon_t    header_canon;
  dkim_canon_t    body_canon;
  GStrv           headers; /* (owned): for DKIM_OPTS_SIGNHDRS */
};

/* The output stream the message is written to once: its header fields go
 * to dkim_header() one by one (folded lines and all, as on the wire), the
 * body to dkim_body() in the chunks that come, never held whole. */
#define DKIM_TYPE_SINK (dkim_sink_get_type ())
G_DECLARE_FINAL_TYPE (DkimSink, dkim_sink, DKIM, SINK, GOutputStream)

struct _DkimSink
{
  GOutputStream parent_instance;

  DKIM    *dkim;    /* (unowned) */
  GString *pending; /* (owned): the header block read so far, not yet given */
  gsize    line_start;
  gboolean in_body;
  gsize    header_bytes;
};

G_DEFINE_FINAL_TYPE (DkimSink, dkim_sink, G_TYPE_OUTPUT_STREAM)

static gboolean
dkim_failed (DKIM       *dkim,
             DKIM_STAT   status,
             const char *stage,
             GError    **error)
{
  const char *detail = dkim != NULL ? dkim_geterror (dkim) : NULL;

  if (detail == NULL || *detail == '\0')
    detail = dkim_getresultstr (status);
  g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED,
               "Cannot sign the message with DKIM (%s): %s", stage,
               detail != NULL ? detail : "unknown error");
  return FALSE;
}

/* Gives the header fields complete in @pending to the canonicalizer (a
 * field ends where a line that does not begin with a space or a tab
 * begins), up to the empty line that ends the block, and what follows it
 * to the body. @pending always begins with the field being read;
 * line_start is where the first line not yet looked at begins. */
static gboolean
dkim_sink_feed_headers (DkimSink *self,
                        GError  **error)
{
  GString  *p = self->pending;
  gsize     line = self->line_start;
  DKIM_STAT status;

  for (;;)
    {
      gsize eol = line;

      while (eol + 1 < p->len && !(p->str[eol] == '\r' && p->str[eol + 1] == '\n'))
        eol++;
      if (eol + 1 >= p->len)
        break;
      if (eol == line || (line > 0 && p->str[line] != ' ' && p->str[line] != '\t'))
        {
          /* The field before this line is complete. */
          if (line > 0)
            {
              status = dkim_header (self->dkim, (u_char *) p->str, line - 2);
              if (status != DKIM_STAT_OK)
                return dkim_failed (self->dkim, status, "header", error);
            }
          g_string_erase (p, 0, (gssize) line);
          eol -= line;
          line = 0;
        }
      if (eol == 0 && line == 0 && p->len >= 2 && p->str[0] == '\r')
        {
          /* The empty line: the header block is over. */
          status = dkim_eoh (self->dkim);
          if (status != DKIM_STAT_OK)
            return dkim_failed (self->dkim, status, "end of the header", error);
          self->in_body = TRUE;
          if (p->len > 2)
            {
              status = dkim_body (self->dkim, (u_char *) p->str + 2, p->len - 2);
              if (status != DKIM_STAT_OK)
                return dkim_failed (self->dkim, status, "body", error);
            }
          g_string_truncate (p, 0);
          return TRUE;
        }
      line = eol + 2;
    }
  self->line_start = line;
  return TRUE;
}

static gssize
dkim_sink_write (GOutputStream *stream,
                 const void    *buffer,
                 gsize          count,
                 GCancellable  *cancellable,
                 GError       **error)
{
  DkimSink *self = DKIM_SINK (stream);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return -1;
  if (self->in_body)
    {
      DKIM_STAT status = dkim_body (self->dkim, (u_char *) buffer, count);

      if (status != DKIM_STAT_OK)
        {
          dkim_failed (self->dkim, status, "body", error);
          return -1;
        }
      return (gssize) count;
    }

  self->header_bytes += count;
  if (self->header_bytes > MAX_HEADER_BLOCK)
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                           "Cannot sign the message with DKIM: its header is over 1 MiB");
      return -1;
    }
  g_string_append_len (self->pending, buffer, (gssize) count);
  if (!dkim_sink_feed_headers (self, error))
    return -1;
  return (gssize) count;
}

/* After the whole message: a message without a body still ends its
 * header block. */
static gboolean
dkim_sink_finish (DkimSink *self,
                  GError  **error)
{
  if (self->in_body)
    return TRUE;
  if (self->pending->len > 0 && !g_str_has_suffix (self->pending->str, "\r\n"))
    g_string_append (self->pending, "\r\n");
  g_string_append (self->pending, "\r\n");
  return dkim_sink_feed_headers (self, error);
}

static void
dkim_sink_finalize (GObject *object)
{
  DkimSink *self = DKIM_SINK (object);

  g_string_free (self->pending, TRUE);
  G_OBJECT_CLASS (dkim_sink_parent_class)->finalize (object);
}

static void
dkim_sink_class_init (DkimSinkClass *klass)
{
  GObjectClass       *object_class = G_OBJECT_CLASS (klass);
  GOutputStreamClass *stream_class = G_OUTPUT_STREAM_CLASS (klass);

  object_class->finalize = dkim_sink_finalize;
  stream_class->write_fn = dkim_sink_write;
}

static void
dkim_sink_init (DkimSink *self)
{
  self->pending = g_string_new (NULL);
}

/* The signer */

static void
wipe_key (MsgDkimSigner *self)
{
  if (self->key != NULL)
    {
      explicit_bzero (self->key, self->key_len);
      g_free (self->key);
      self->key = NULL;
    }
}

static MsgDkimSigner *
signer_ref (MsgDkimSigner *self)
{
  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

static void
signer_unref (MsgDkimSigner *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref_count))
    return;
  g_free (self->identity);
  if (self->lib != NULL)
    dkim_close (self->lib);
  g_free (self->domain);
  g_free (self->selector);
  g_free (self->key_path);
  wipe_key (self);
  g_strfreev (self->headers);
  g_free (self);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgDkimSigner, signer_unref)

static gboolean
set_invalid (GError    **error,
             const char *format,
             ...) G_GNUC_PRINTF (2, 3);

static gboolean
set_invalid (GError    **error,
             const char *format,
             ...)
{
  g_autofree char *message = NULL;
  va_list          args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error_literal (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE, message);
  return FALSE;
}

/* A domain or selector: dot-separated labels of ASCII letters, digits and
 * hyphens (an internationalized domain is written as A-labels). */
static gboolean
check_dns_name (const char *field,
                const char *value,
                GError    **error)
{
  gsize label = 0;

  if (value == NULL || *value == '\0')
    return set_invalid (error, "DKIM signing is on (dkimsign) but %s is not set", field);
  for (const char *p = value;; p++)
    {
      if (*p == '.' || *p == '\0')
        {
          if (label == 0 || label > 63)
            break;
          if (*p == '\0' && p - value <= 253)
            return TRUE;
          if (*p == '\0')
            break;
          label = 0;
          continue;
        }
      if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
        break;
      label++;
    }
  {
    g_autofree char *shown = g_strescape (value, NULL);

    return set_invalid (error,
                        "The value “%s” of %s is not a DNS name (labels of ASCII letters, digits "
                        "and hyphens separated by dots; write an internationalized domain as "
                        "xn-- A-labels)",
                        shown, field);
  }
}

/* Reads the key file, refusing one that other users can read or write
 * (whoever reads it can sign as the domain). */
static gboolean
read_key_file (MsgDkimSigner *self,
               struct stat   *out_st,
               GError       **error)
{
  struct stat st;
  gssize      n;
  int         fd;

  fd = g_open (self->key_path, O_RDONLY | O_CLOEXEC | O_NOCTTY, 0);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot open the DKIM private key file “%s” (dkimprivatekeyfile): %s",
                   self->key_path, g_strerror (saved_errno));
      return FALSE;
    }
  if (fstat (fd, &st) != 0 || !S_ISREG (st.st_mode))
    {
      close (fd);
      return set_invalid (error, "The DKIM private key file “%s” (dkimprivatekeyfile) is not a regular file",
                          self->key_path);
    }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    {
      close (fd);
      return set_invalid (error,
                          "The DKIM private key file “%s” (dkimprivatekeyfile) is open to other "
                          "users (mode %04o): anyone who reads it can sign mail as the domain; "
                          "make it readable by its owner only (chmod 600)",
                          self->key_path, (unsigned) (st.st_mode & 07777));
    }
  if (st.st_size > MAX_KEY_FILE_SIZE)
    {
      close (fd);
      return set_invalid (error, "The DKIM private key file “%s” (dkimprivatekeyfile) is too large to be a key",
                          self->key_path);
    }
  self->key = g_malloc0 ((gsize) st.st_size + 1);
  do
    n = read (fd, self->key + self->key_len, (gsize) st.st_size - self->key_len);
  while ((n > 0 && (self->key_len += (gsize) n) < (gsize) st.st_size) || (n < 0 && errno == EINTR));
  close (fd);
  if (n < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot read the DKIM private key file “%s” (dkimprivatekeyfile): %s",
                   self->key_path, g_strerror (saved_errno));
      return FALSE;
    }
  self->key[self->key_len] = '\0';
  *out_st = st;
  return TRUE;
}

/* Checks that the key is a PEM private key of the configured algorithm
 * (GnuTLS parses it; libopendkim would say so only when signing). */
static gboolean
check_key (MsgDkimSigner *self,
           GError       **error)
{
  gnutls_x509_privkey_t key = NULL;
  gnutls_datum_t        datum = { (unsigned char *) self->key, (unsigned) self->key_len };
  unsigned              bits = 0;
  int                   ret;
  int                   pk;
  gboolean              ok = FALSE;

  if (gnutls_x509_privkey_init (&key) < 0)
    return set_invalid (error, "Cannot check the DKIM private key file “%s”", self->key_path);
  ret = gnutls_x509_privkey_import2 (key, &datum, GNUTLS_X509_FMT_PEM, NULL, GNUTLS_PKCS_PLAIN);
  if (ret < 0 || memchr (self->key, '\0', self->key_len) != NULL)
    {
      set_invalid (error,
                   "The DKIM private key file “%s” (dkimprivatekeyfile) does not hold a PEM private "
                   "key without a passphrase (%s)",
                   self->key_path, ret < 0 ? gnutls_strerror (ret) : "it holds a NUL byte");
      goto out;
    }
  pk = gnutls_x509_privkey_get_pk_algorithm2 (key, &bits);
  if (self->algorithm == DKIM_SIGN_RSASHA256 && pk != GNUTLS_PK_RSA)
    set_invalid (error, "The DKIM private key file “%s” holds a key of type %s, but dkimalgorithm is rsa-sha256",
                 self->key_path, pk >= 0 ? gnutls_pk_algorithm_get_name (pk) : "unknown");
  else if (self->algorithm == DKIM_SIGN_ED25519SHA256 && pk != GNUTLS_PK_EDDSA_ED25519)
    set_invalid (error, "The DKIM private key file “%s” holds a key of type %s, but dkimalgorithm is ed25519-sha256",
                 self->key_path, pk >= 0 ? gnutls_pk_algorithm_get_name (pk) : "unknown");
  else if (pk == GNUTLS_PK_RSA && bits < MIN_RSA_BITS)
    set_invalid (error,
                 "The DKIM private key file “%s” holds an RSA key of %u bits; verifiers refuse "
                 "keys under %u bits (RFC 8301)",
                 self->key_path, bits, MIN_RSA_BITS);
  else
    ok = TRUE;

out:
  gnutls_x509_privkey_deinit (key);
  return ok;
}

static gboolean
set_options (MsgDkimSigner    *self,
             MsgConfiguration *configuration,
             GError          **error)
{
  const char *oversign[] = { "From", NULL };
  double      expiry = msg_configuration_get_seconds (configuration, "dkimexpiry");
  DKIM_STAT   status;

  status = dkim_options (self->lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNHDRS, self->headers, sizeof (self->headers));
  if (status == DKIM_STAT_OK && msg_configuration_get_boolean (configuration, "dkimoversignfrom"))
    status = dkim_options (self->lib, DKIM_OP_SETOPT, DKIM_OPTS_OVERSIGNHDRS, (void *) oversign, sizeof (char **));
  if (status == DKIM_STAT_OK && expiry > 0)
    {
      uint64_t ttl = (uint64_t) expiry + (expiry > (double) (uint64_t) expiry ? 1 : 0);

      status = dkim_options (self->lib, DKIM_OP_SETOPT, DKIM_OPTS_SIGNATURETTL, &ttl, sizeof ttl);
    }
  if (status != DKIM_STAT_OK)
    return dkim_failed (NULL, status, "options", error);
  return TRUE;
}

/* The values of every field a signer is made from, one a line. */
static char *
configured_fields (MsgConfiguration *configuration)
{
  static const char *const names[] = { "dkimdomain", "dkimselector", "dkimprivatekeyfile",
                                       "dkimalgorithm", "dkimcanonicalization", "dkimheaders",
                                       "dkimoversignfrom", "dkimexpiry" };
  GString                 *fields = g_string_new (NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *value = msg_configuration_get_field (configuration, names[i]);

      g_string_append_printf (fields, "%s\n", value != NULL ? value : "");
    }
  return g_string_free (fields, FALSE);
}

/* What makes a signer reusable for another send: the same fields and the
 * same key file as stat() sees it (a replaced, rewritten or chmod-ed file
 * differs in its inode, size, times or mode). */
static char *
signer_identity (const char        *fields,
                 const struct stat *st)
{
  return g_strdup_printf ("%s%ju %ju %jd %jd.%09ld %jd.%09ld %o %ju", fields, (uintmax_t) st->st_dev,
                          (uintmax_t) st->st_ino, (intmax_t) st->st_size, (intmax_t) st->st_mtim.tv_sec,
                          st->st_mtim.tv_nsec, (intmax_t) st->st_ctim.tv_sec, st->st_ctim.tv_nsec,
                          (unsigned) st->st_mode, (uintmax_t) st->st_uid);
}

/* @previous, when the configuration and the key file are still those it
 * was made from: reading and checking the key and starting libopendkim
 * are then done once for many sends. */
static gboolean
can_reuse (MsgDkimSigner *previous,
           const char    *fields,
           const char    *key_path)
{
  g_autofree char *identity = NULL;
  struct stat      st = { 0 };

  if (previous == NULL || key_path == NULL || *key_path == '\0' || g_stat (key_path, &st) != 0)
    return FALSE;
  identity = signer_identity (fields, &st);
  return g_str_equal (identity, previous->identity);
}

static gboolean
signer_new_for_configuration (MsgConfiguration *configuration,
                              MsgDkimSigner    *previous,
                              MsgDkimSigner   **out,
                              GError          **error)
{
  g_autoptr (MsgDkimSigner) self = NULL;
  g_autofree char *algorithm = NULL;
  g_autofree char *canon = NULL;
  g_autofree char *headers = NULL;
  g_autofree char *fields = NULL;
  struct stat      st = { 0 };

  *out = NULL;
  if (!msg_configuration_get_boolean (configuration, "dkimsign"))
    return TRUE;

  fields = configured_fields (configuration);
  self = g_new0 (MsgDkimSigner, 1);
  g_atomic_ref_count_init (&self->ref_count);

  self->domain = msg_configuration_get_field (configuration, "dkimdomain");
  self->selector = msg_configuration_get_field (configuration, "dkimselector");
  self->key_path = msg_configuration_get_field (configuration, "dkimprivatekeyfile");
  if (!check_dns_name ("dkimdomain", self->domain, error) ||
      !check_dns_name ("dkimselector", self->selector, error))
    return FALSE;
  if (self->key_path == NULL || *self->key_path == '\0')
    return set_invalid (error, "DKIM signing is on (dkimsign) but dkimprivatekeyfile is not set");
  if (can_reuse (previous, fields, self->key_path))
    {
      *out = signer_ref (previous);
      return TRUE;
    }

  algorithm = msg_configuration_get_field (configuration, "dkimalgorithm");
  self->algorithm = g_str_equal (algorithm, "ed25519-sha256") ? DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256;
  canon = msg_configuration_get_field (configuration, "dkimcanonicalization");
  self->header_canon = g_str_has_prefix (canon, "simple/") ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;
  self->body_canon = g_str_has_suffix (canon, "/simple") ? DKIM_CANON_SIMPLE : DKIM_CANON_RELAXED;
  headers = msg_configuration_get_field (configuration, "dkimheaders");
  self->headers = g_strsplit (headers, ":", -1);

  if (!read_key_file (self, &st, error) || !check_key (self, error))
    return FALSE;
  self->identity = signer_identity (fields, &st);

  self->lib = dkim_init (NULL, NULL);
  if (self->lib == NULL)
    return set_invalid (error, "Cannot start libopendkim");
  if (!set_options (self, configuration, error))
    return FALSE;

  *out = g_steal_pointer (&self);
  return TRUE;
}

/* The value libopendkim gives, folded with LF, as a header field with
 * CRLF line ends. */
static char *
format_header (const u_char *value,
               gsize         length)
{
  GString *header = g_string_sized_new (length + 32);

  g_string_append (header, DKIM_SIGNHEADER ": ");
  for (gsize i = 0; i < length; i++)
    {
      if (value[i] == '\r')
        continue;
      if (value[i] == '\n')
        g_string_append_c (header, '\r');
      g_string_append_c (header, (char) value[i]);
    }
  g_string_append (header, "\r\n");
  return g_string_free (header, FALSE);
}

static char *
signer_sign (MsgDkimSigner *self,
             MsgMessage    *message,
             MsgWriteFlags  flags,
             GCancellable  *cancellable,
             GError       **error)
{
  g_autoptr (DkimSink) sink = NULL;
  DKIM_STAT status = DKIM_STAT_OK;
  u_char   *value = NULL;
  size_t    length = 0;
  char     *header = NULL;
  DKIM     *dkim;

  dkim = dkim_sign (self->lib, (const u_char *) "msgobj", NULL, (dkim_sigkey_t) self->key,
                    (const u_char *) self->selector, (const u_char *) self->domain,
                    self->header_canon, self->body_canon, self->algorithm, -1, &status);
  if (dkim == NULL)
    {
      dkim_failed (NULL, status, "start", error);
      return NULL;
    }

  sink = g_object_new (DKIM_TYPE_SINK, NULL);
  sink->dkim = dkim;
  if (!msg_message_write_to_stream_full (message, G_OUTPUT_STREAM (sink), flags, cancellable, error) ||
      !dkim_sink_finish (sink, error))
    goto out;

  status = dkim_eom (dkim, NULL);
  if (status != DKIM_STAT_OK)
    {
      dkim_failed (dkim, status, "signature", error);
      g_prefix_error (error, "DKIM private key file “%s”: ", self->key_path);
      goto out;
    }
  status = dkim_getsighdr_d (dkim, strlen (DKIM_SIGNHEADER) + 2, &value, &length);
  if (status != DKIM_STAT_OK)
    {
      dkim_failed (dkim, status, "header", error);
      goto out;
    }
  header = format_header (value, length);

out:
  dkim_free (dkim);
  return header;
}

G_MODULE_EXPORT gconstpointer msg_optional_module_get_table (const char   *version,
                                                             gconstpointer host);

gconstpointer
msg_optional_module_get_table (const char   *version,
                               gconstpointer host)
{
  static const MsgDkimModule table = {
    signer_new_for_configuration,
    signer_ref,
    signer_unref,
    signer_sign,
  };

  return g_str_equal (version, PACKAGE_VERSION) ? &table : NULL;
}
