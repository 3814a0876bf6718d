/* msg-configuration-fields.c: the configuration fields: table, registry, validation
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-configuration-private.h"

#include "msg-language-private.h"
#include "msg-modules-private.h"
#include "msg-timezone-private.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The largest number of seconds a time field accepts (about 31 years). */
#define MAX_SECONDS 1e9

/* How many characters of a value an error message quotes. */
#define MAX_QUOTED_CHARS 64

#define TIMEZONE_URN "urn:schemas:calendar:timezoneid"

static const char *const authenticate_choices[] = { "anonymous", "basic", "ntlm", NULL };
static const char *const starttls_choices[] = { "never", "opportunistic", "required", NULL };
static const char *const relay_mode_choices[] = { "failover", "spread", NULL };
static const char *const dkim_algorithm_choices[] = { "rsa-sha256", "ed25519-sha256", NULL };
static const char *const dkim_canon_choices[] = { "relaxed/relaxed", "relaxed/simple", "simple/relaxed", "simple/simple", NULL };
/* In the order of MsgCryptoProtocol. */
static const char *const crypto_protocol_choices[] = { "openpgp", "smime", NULL };

/* The headers a DKIM signature covers by default (RFC 6376 section 5.4.1
 * and what the large providers expect). */
#define DKIM_DEFAULT_HEADERS                                               \
  "From:To:Cc:Subject:Date:Message-ID:MIME-Version:Content-Type:Reply-To:" \
  "In-Reply-To:References:List-Unsubscribe"

/* clang-format off */
static const MsgFieldDef builtin_fields[] = {
  /* CDOSYS, in the order of cdosysstr.h */
  { "sendusing", MSG_FIELD_TYPE_ENUM, MSG_FIELD_CHECK_SEND_USING, "pickup", NULL, TRUE },
  { "smtpserver", MSG_FIELD_TYPE_STRING, MSG_FIELD_CHECK_HOST_LIST, NULL, NULL, TRUE },
  { "smtpserverport", MSG_FIELD_TYPE_INT, MSG_FIELD_CHECK_PORT, "25", NULL, TRUE },
  { "smtpusessl", MSG_FIELD_TYPE_BOOLEAN, MSG_FIELD_CHECK_BY_TYPE, "false", NULL, TRUE },
  { "smtpauthenticate", MSG_FIELD_TYPE_ENUM, MSG_FIELD_CHECK_BY_TYPE, "anonymous", authenticate_choices, TRUE },
  { "sendusername", MSG_FIELD_TYPE_STRING, MSG_FIELD_CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "sendpassword", MSG_FIELD_TYPE_SECRET, MSG_FIELD_CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "smtpconnectiontimeout", MSG_FIELD_TYPE_SECONDS, MSG_FIELD_CHECK_BY_TYPE, "30", NULL, TRUE },
  { "smtpaccountname", MSG_FIELD_TYPE_STRING, MSG_FIELD_CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "sendemailaddress", MSG_FIELD_TYPE_STRING, MSG_FIELD_CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "senduserreplyemailaddress", MSG_FIELD_TYPE_STRING, MSG_FIELD_CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "smtpserverpickupdirectory", MSG_FIELD_TYPE_PATH, MSG_FIELD_CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "flushbuffersonwrite", MSG_FIELD_TYPE_BOOLEAN, MSG_FIELD_CHECK_BY_TYPE, "true", NULL, TRUE },
  { "postusing", MSG_FIELD_TYPE_ENUM, MSG_FIELD_CHECK_POST_USING, "pickup", NULL, TRUE },
  { "nntpserver", MSG_FIELD_TYPE_STRING, MSG_FIELD_CHECK_HOST, NULL, NULL, TRUE },
  { "nntpserverport", MSG_FIELD_TYPE_INT, MSG_FIELD_CHECK_PORT, "119", NULL, TRUE },
  { "nntpusessl", MSG_FIELD_TYPE_BOOLEAN, MSG_FIELD_CHECK_BY_TYPE, "false", NULL, TRUE },
  { "nntpauthenticate", MSG_FIELD_TYPE_ENUM, MSG_FIELD_CHECK_BY_TYPE, "anonymous", authenticate_choices, TRUE },
  { "postusername", MSG_FIELD_TYPE_STRING, MSG_FIELD_CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "postpassword", MSG_FIELD_TYPE_SECRET, MSG_FIELD_CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "nntpconnectiontimeout", MSG_FIELD_TYPE_SECONDS, MSG_FIELD_CHECK_BY_TYPE, "30", NULL, TRUE },
  { "nntpaccountname", MSG_FIELD_TYPE_STRING, MSG_FIELD_CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "postemailaddress", MSG_FIELD_TYPE_STRING, MSG_FIELD_CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "postuserreplyemailaddress", MSG_FIELD_TYPE_STRING, MSG_FIELD_CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "nntpserverpickupdirectory", MSG_FIELD_TYPE_PATH, MSG_FIELD_CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "autopromotebodyparts", MSG_FIELD_TYPE_BOOLEAN, MSG_FIELD_CHECK_BY_TYPE, "true", NULL, TRUE },
  { "httpcookies", MSG_FIELD_TYPE_STRING, MSG_FIELD_CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "languagecode", MSG_FIELD_TYPE_STRING, MSG_FIELD_CHECK_LANGUAGE, NULL, NULL, TRUE },
  { "usemessageresponsetext", MSG_FIELD_TYPE_BOOLEAN, MSG_FIELD_CHECK_BY_TYPE, "true", NULL, TRUE },
  { "urlgetlatestversion", MSG_FIELD_TYPE_BOOLEAN, MSG_FIELD_CHECK_BY_TYPE, "false", NULL, TRUE },
  { "urlproxyserver", MSG_FIELD_TYPE_STRING, MSG_FIELD_CHECK_HOST, NULL, NULL, TRUE },
  { "urlproxybypass", MSG_FIELD_TYPE_STRING, MSG_FIELD_CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "savesentitems", MSG_FIELD_TYPE_BOOLEAN, MSG_FIELD_CHECK_UNSUPPORTED, "false", NULL, TRUE },
  { "timezoneid", MSG_FIELD_TYPE_STRING, MSG_FIELD_CHECK_TIMEZONE, NULL, NULL, TRUE },
  /* libmsgobj's own */
  { "smtpstarttls", MSG_FIELD_TYPE_ENUM, MSG_FIELD_CHECK_BY_TYPE, "opportunistic", starttls_choices, TRUE },
  { "nntpstarttls", MSG_FIELD_TYPE_ENUM, MSG_FIELD_CHECK_BY_TYPE, "opportunistic", starttls_choices, TRUE },
  { "smtpoperationtimeout", MSG_FIELD_TYPE_SECONDS, MSG_FIELD_CHECK_BY_TYPE, "0", NULL, TRUE },
  { "nntpoperationtimeout", MSG_FIELD_TYPE_SECONDS, MSG_FIELD_CHECK_BY_TYPE, "0", NULL, TRUE },
  { "smtpauthmechanisms", MSG_FIELD_TYPE_STRING, MSG_FIELD_CHECK_MECHANISMS, "", NULL, TRUE },
  { "smtpallowplaintextauth", MSG_FIELD_TYPE_BOOLEAN, MSG_FIELD_CHECK_BY_TYPE, "false", NULL, TRUE },
  { "nntpallowplaintextauth", MSG_FIELD_TYPE_BOOLEAN, MSG_FIELD_CHECK_BY_TYPE, "false", NULL, TRUE },
  { "nntpauthmechanisms", MSG_FIELD_TYPE_STRING, MSG_FIELD_CHECK_MECHANISMS, "", NULL, TRUE },
  { "nntpallowcontrolheaders", MSG_FIELD_TYPE_BOOLEAN, MSG_FIELD_CHECK_BY_TYPE, "false", NULL, TRUE },
  { "tlscafile", MSG_FIELD_TYPE_PATH, MSG_FIELD_CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "tlsverify", MSG_FIELD_TYPE_BOOLEAN, MSG_FIELD_CHECK_BY_TYPE, "true", NULL, TRUE },
  { "smtpsendpartial", MSG_FIELD_TYPE_BOOLEAN, MSG_FIELD_CHECK_BY_TYPE, "false", NULL, TRUE },
  { "smtpehloname", MSG_FIELD_TYPE_STRING, MSG_FIELD_CHECK_EHLO_NAME, "", NULL, TRUE },
  { "smtpusechunking", MSG_FIELD_TYPE_BOOLEAN, MSG_FIELD_CHECK_BY_TYPE, "true", NULL, TRUE },
  { "smtprelaymode", MSG_FIELD_TYPE_ENUM, MSG_FIELD_CHECK_BY_TYPE, "failover", relay_mode_choices, TRUE },
  { "dkimsign", MSG_FIELD_TYPE_BOOLEAN, MSG_FIELD_CHECK_BY_TYPE, "false", NULL, TRUE },
  { "dkimdomain", MSG_FIELD_TYPE_STRING, MSG_FIELD_CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "dkimselector", MSG_FIELD_TYPE_STRING, MSG_FIELD_CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "dkimprivatekeyfile", MSG_FIELD_TYPE_PATH, MSG_FIELD_CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "dkimalgorithm", MSG_FIELD_TYPE_ENUM, MSG_FIELD_CHECK_BY_TYPE, "rsa-sha256", dkim_algorithm_choices, TRUE },
  { "dkimcanonicalization", MSG_FIELD_TYPE_ENUM, MSG_FIELD_CHECK_BY_TYPE, "relaxed/relaxed", dkim_canon_choices, TRUE },
  { "dkimheaders", MSG_FIELD_TYPE_STRING, MSG_FIELD_CHECK_DKIM_HEADERS, DKIM_DEFAULT_HEADERS, NULL, TRUE },
  { "dkimoversignfrom", MSG_FIELD_TYPE_BOOLEAN, MSG_FIELD_CHECK_BY_TYPE, "true", NULL, TRUE },
  { "dkimexpiry", MSG_FIELD_TYPE_SECONDS, MSG_FIELD_CHECK_BY_TYPE, "0", NULL, TRUE },
  { "cryptooperationtimeout", MSG_FIELD_TYPE_SECONDS, MSG_FIELD_CHECK_BY_TYPE, "0", NULL, TRUE },
  { "cryptoprotocol", MSG_FIELD_TYPE_ENUM, MSG_FIELD_CHECK_BY_TYPE, "openpgp", crypto_protocol_choices, TRUE },
  { "cryptosign", MSG_FIELD_TYPE_STRING, MSG_FIELD_CHECK_CRYPTO_KEY, "", NULL, TRUE },
  { "cryptoencrypt", MSG_FIELD_TYPE_BOOLEAN, MSG_FIELD_CHECK_BY_TYPE, "false", NULL, TRUE },
  { "urlconnectiontimeout", MSG_FIELD_TYPE_SECONDS, MSG_FIELD_CHECK_BY_TYPE, "30", NULL, TRUE },
  { "urloperationtimeout", MSG_FIELD_TYPE_SECONDS, MSG_FIELD_CHECK_BY_TYPE, "0", NULL, TRUE },
  { "urlmaxresourcesize", MSG_FIELD_TYPE_INT, MSG_FIELD_CHECK_BY_TYPE, "104857600", NULL, TRUE },
  { "urlmaxpagesize", MSG_FIELD_TYPE_INT, MSG_FIELD_CHECK_BY_TYPE, "262144000", NULL, TRUE },
};
/* clang-format on */

/* The process-wide table of fields: short name → MsgFieldDef. Entries are
 * never removed nor changed, so a MsgFieldDef pointer stays valid without the
 * lock. */
static GMutex      registry_lock;
static GHashTable *registry;

/* Field names are case-insensitive: the registry's keys are lower-case
 * and looked up in any case without a lower-cased copy. */
static guint
ascii_case_hash (gconstpointer key)
{
  guint h = 5381;

  /* Every field read hashes its name: the ASCII lower-casing inline. */
  for (const guchar *p = key; *p != '\0'; p++)
    h = (h << 5) + h + (guint) (*p >= 'A' && *p <= 'Z' ? *p + ('a' - 'A') : *p);
  return h;
}

static gboolean
ascii_case_equal (gconstpointer a,
                  gconstpointer b)
{
  /* Names are mostly written as registered: strcmp() first. */
  return strcmp (a, b) == 0 || g_ascii_strcasecmp (a, b) == 0;
}

/* Must be called with registry_lock held. */
static void
registry_init_locked (void)
{
  if (registry != NULL)
    return;
  registry = g_hash_table_new (ascii_case_hash, ascii_case_equal);
  for (gsize i = 0; i < G_N_ELEMENTS (builtin_fields); i++)
    g_hash_table_insert (registry, (gpointer) builtin_fields[i].name,
                         (gpointer) &builtin_fields[i]);
}

static const MsgFieldDef *
registry_lookup (const char *short_name)
{
  const MsgFieldDef *def;

  g_mutex_lock (&registry_lock);
  registry_init_locked ();
  def = g_hash_table_lookup (registry, short_name);
  g_mutex_unlock (&registry_lock);
  return def;
}

/* Returns the short name that @name designates, in @name's case (a
 * pointer into @name, or a static string), or NULL if @name is neither a
 * short name nor a URN of a configuration field. */
static const char *
short_name_of (const char *name)
{
  const char *short_name = name;
  gsize       prefix = strlen (MSG_CONFIGURATION_NAMESPACE);

  if (g_ascii_strncasecmp (name, MSG_CONFIGURATION_NAMESPACE, prefix) == 0)
    short_name = name + prefix;
  else if (g_ascii_strcasecmp (name, TIMEZONE_URN) == 0)
    short_name = "timezoneid";

  if (*short_name == '\0')
    return NULL;
  for (const char *p = short_name; *p != '\0'; p++)
    {
      if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-')
        return NULL;
    }
  return short_name;
}

/* Looks a field up by short name or URN, loading the transport plugins (which
 * register their fields) before deciding that a name is unknown. */
const MsgFieldDef *
_msg_configuration_lookup_field (const char *name)
{
  const char        *short_name;
  const MsgFieldDef *def;

  /* Called for every field read: no allocation. */
  if (name == NULL)
    return NULL;
  short_name = short_name_of (name);
  if (short_name == NULL)
    return NULL;
  def = registry_lookup (short_name);
  if (def == NULL)
    {
      _msg_modules_ensure_loaded ();
      def = registry_lookup (short_name);
    }
  return def;
}

/* Quotes @value for an error message: valid UTF-8 with control characters
 * escaped, cut after MAX_QUOTED_CHARS characters. */
char *
_msg_configuration_quote_value (const char *value)
{
  GString    *out = g_string_new (NULL);
  const char *p = value;
  const char *end = value + strlen (value);
  unsigned    n = 0;

  while (p < end)
    {
      gunichar c = g_utf8_get_char_validated (p, end - p);

      if (n == MAX_QUOTED_CHARS)
        {
          g_string_append (out, "…");
          break;
        }
      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          g_string_append_printf (out, "\\x%02x", (guchar) *p);
          p++;
        }
      else
        {
          if (c == '\r')
            g_string_append (out, "\\r");
          else if (c == '\n')
            g_string_append (out, "\\n");
          else if (c == '\t')
            g_string_append (out, "\\t");
          else if (g_unichar_iscntrl (c))
            g_string_append_printf (out, "\\u%04x", c);
          else
            g_string_append_unichar (out, c);
          p = g_utf8_next_char (p);
        }
      n++;
    }
  return g_string_free (out, FALSE);
}

void
_msg_configuration_set_unknown_field_error (GError    **error,
                                            const char *name)
{
  g_autofree char *quoted = _msg_configuration_quote_value (name);
  g_autofree char *lower = g_ascii_strdown (name, -1);
  const char      *hint = "";

  if (g_str_has_prefix (lower, "https://schemas.microsoft.com/cdo/configuration/"))
    hint = " (CDO's namespace begins with “http://”, not “https://”)";
  else if (g_str_has_suffix (lower, "smtpusetls"))
    hint = " (CDO has no such field; for STARTTLS set “smtpstarttls”)";
  g_set_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_UNKNOWN_FIELD,
               "Unknown configuration field “%s”%s", quoted, hint);
}

static gboolean
invalid_value (GError           **error,
               const MsgFieldDef *def,
               const char        *value,
               const char        *reason)
{
  if (def->type == MSG_FIELD_TYPE_SECRET)
    {
      g_set_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE,
                   "Invalid value for configuration field “%s”: %s",
                   def->name, reason);
    }
  else
    {
      g_autofree char *quoted = _msg_configuration_quote_value (value);

      g_set_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE,
                   "Invalid value “%s” for configuration field “%s”: %s",
                   quoted, def->name, reason);
    }
  return FALSE;
}

/* Checks that @value is UTF-8 without control characters. */
static gboolean
check_text (const MsgFieldDef *def,
            const char        *value,
            GError           **error)
{
  if (!g_utf8_validate (value, -1, NULL))
    return invalid_value (error, def, value, "not valid UTF-8");
  for (const char *p = value; *p != '\0'; p = g_utf8_next_char (p))
    {
      if (g_unichar_iscntrl (g_utf8_get_char (p)))
        return invalid_value (error, def, value,
                              "control characters (such as CR, LF or TAB) are not allowed");
    }
  return TRUE;
}

static char *
strip_dup (const char *value)
{
  return g_strstrip (g_strdup (value));
}

gboolean
_msg_configuration_parse_boolean (const char *value,
                                  gboolean   *out)
{
  static const char *const true_words[] = { "true", "1", "yes", NULL };
  static const char *const false_words[] = { "false", "0", "no", NULL };

  for (gsize i = 0; true_words[i] != NULL; i++)
    {
      if (g_ascii_strcasecmp (value, true_words[i]) == 0)
        {
          *out = TRUE;
          return TRUE;
        }
      if (g_ascii_strcasecmp (value, false_words[i]) == 0)
        {
          *out = FALSE;
          return TRUE;
        }
    }
  return FALSE;
}

/* A non-negative decimal number: digits, an optional fraction and an
 * optional exponent; no sign, no hexadecimal, no "inf" or "nan". */
gboolean
_msg_configuration_parse_seconds (const char *value,
                                  double     *out)
{
  const char *p = value;
  unsigned    digits = 0;
  double      d;
  char       *end = NULL;

  while (g_ascii_isdigit (*p))
    p++, digits++;
  if (*p == '.')
    {
      p++;
      while (g_ascii_isdigit (*p))
        p++, digits++;
    }
  if (digits == 0)
    return FALSE;
  if (*p == 'e' || *p == 'E')
    {
      p++;
      if (*p == '+' || *p == '-')
        p++;
      if (!g_ascii_isdigit (*p))
        return FALSE;
      while (g_ascii_isdigit (*p))
        p++;
    }
  if (*p != '\0')
    return FALSE;

  errno = 0;
  d = g_ascii_strtod (value, &end);
  if (end == NULL || *end != '\0' || !isfinite (d) || d < 0)
    return FALSE;
  *out = d;
  return TRUE;
}

gboolean
_msg_configuration_parse_int (const char *value,
                              gint64      min,
                              gint64      max,
                              gint64     *out)
{
  guint64 u;

  /* Only an optional '-' and decimal digits. */
  if (*value == '-')
    {
      gint64 n;

      if (!g_ascii_isdigit (value[1]) ||
          !g_ascii_string_to_signed (value, 10, min, max, &n, NULL))
        return FALSE;
      *out = n;
      return TRUE;
    }
  if (!g_ascii_isdigit (*value) ||
      !g_ascii_string_to_unsigned (value, 10, 0, G_MAXINT64, &u, NULL) ||
      (gint64) u < min || (gint64) u > max)
    return FALSE;
  *out = (gint64) u;
  return TRUE;
}

static char *
choices_list (const char *const *choices)
{
  GString *out = g_string_new (NULL);

  for (gsize i = 0; choices[i] != NULL; i++)
    g_string_append_printf (out, "%s%s (%" G_GSIZE_FORMAT ")",
                            i == 0 ? "" : ", ", choices[i], i);
  return g_string_free (out, FALSE);
}

static gboolean
validate_using (const MsgFieldDef *def,
                const char        *value,
                char             **canonical,
                GError           **error)
{
  g_autofree char *v = g_ascii_strdown (value, -1);
  gboolean         all_digits = TRUE;
  gsize            len;

  g_strstrip (v);
  len = strlen (v);
  if (len == 0 || len > 64)
    return invalid_value (error, def, value, "expected 1 (pickup), 2 or a transport name");
  for (const char *p = v; *p != '\0'; p++)
    {
      if (!g_ascii_isdigit (*p))
        all_digits = FALSE;
      if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-')
        return invalid_value (error, def, value,
                              "a transport name has only the characters a-z, 0-9, “_” and “-”");
    }
  if (!all_digits && !g_ascii_islower (v[0]))
    return invalid_value (error, def, value, "a transport name begins with a letter");
  if (all_digits)
    {
      const char *network = def->check == MSG_FIELD_CHECK_SEND_USING ? "smtp" : "nntp";

      if (strcmp (v, "1") == 0)
        *canonical = g_strdup ("pickup");
      else if (strcmp (v, "2") == 0)
        *canonical = g_strdup (network);
      else if (strcmp (v, "3") == 0)
        return invalid_value (error, def, value,
                              "3 (Exchange) is not supported; use 1 (pickup) or 2 (network)");
      else
        return invalid_value (error, def, value, "expected 1 (pickup), 2 or a transport name");
      return TRUE;
    }
  *canonical = g_steal_pointer (&v);
  return TRUE;
}

static gboolean
validate_mechanisms (const MsgFieldDef *def,
                     const char        *value,
                     char             **canonical,
                     GError           **error)
{
  g_auto (GStrv) tokens = g_strsplit_set (value, " ,", -1);
  GString *out = g_string_new (NULL);

  for (gsize i = 0; tokens[i] != NULL; i++)
    {
      const char *t = tokens[i];
      gsize       len = strlen (t);

      if (len == 0)
        continue;
      for (const char *p = t; *p != '\0'; p++)
        {
          if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-')
            {
              g_string_free (out, TRUE);
              return invalid_value (error, def, value,
                                    "expected SASL mechanism names (such as “PLAIN LOGIN”) separated by spaces or commas");
            }
        }
      if (len > 20)
        {
          g_string_free (out, TRUE);
          return invalid_value (error, def, value,
                                "a SASL mechanism name has at most 20 characters");
        }
      if (out->len > 0)
        g_string_append_c (out, ' ');
      for (const char *p = t; *p != '\0'; p++)
        g_string_append_c (out, g_ascii_toupper (*p));
    }
  *canonical = g_string_free (out, FALSE);
  return TRUE;
}

static gboolean
check_ehlo_name (const MsgFieldDef *def,
                 const char        *value,
                 GError           **error)
{
  gsize len = strlen (value);

  if (len == 0)
    return TRUE;
  if (len > 255)
    return invalid_value (error, def, value, "longer than 255 characters");
  if (value[0] == '[')
    {
      if (len < 3 || value[len - 1] != ']')
        return invalid_value (error, def, value, "an address literal ends with “]”");
      for (gsize i = 1; i < len - 1; i++)
        {
          if (!g_ascii_isxdigit (value[i]) && value[i] != '.' && value[i] != ':' &&
              strchr ("IPvVp6", value[i]) == NULL)
            return invalid_value (error, def, value,
                                  "expected a host name or an address literal such as “[192.0.2.1]”");
        }
      return TRUE;
    }
  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isalnum (value[i]) && value[i] != '-' && value[i] != '.' && value[i] != '_')
        return invalid_value (error, def, value,
                              "expected a host name or an address literal such as “[192.0.2.1]”");
    }
  return TRUE;
}

static gboolean
validate_timezone (const MsgFieldDef *def,
                   const char        *value,
                   char             **canonical,
                   GError           **error)
{
  g_autofree char *v = strip_dup (value);
  const char      *reason = NULL;
  GTimeZone       *tz;

  if (!g_ascii_isdigit (v[0]))
    {
      if (v[0] == '\0' || strstr (v, "..") != NULL || v[0] == '/')
        return invalid_value (error, def, value, "expected a zone name such as “Europe/Paris”");
      for (const char *p = v; *p != '\0'; p++)
        {
          if (!g_ascii_isalnum (*p) && strchr ("_+-/:.", *p) == NULL)
            return invalid_value (error, def, value, "expected a zone name such as “Europe/Paris”");
        }
    }
  tz = _msg_timezone_new_for_id (v, &reason);
  if (tz == NULL)
    return invalid_value (error, def, value, reason);
  g_time_zone_unref (tz);
  if (g_ascii_isdigit (v[0]))
    *canonical = g_strdup_printf ("%d", atoi (v));
  else
    *canonical = g_steal_pointer (&v);
  return TRUE;
}

/* The language of the reply and forward header blocks: one that has a
 * translation, else refused rather than stored and ignored. */
static gboolean
validate_language (const MsgFieldDef *def,
                   const char        *value,
                   char             **canonical,
                   GError           **error)
{
  g_autofree char *v = strip_dup (value);

  if (_msg_language_find (v) == NULL)
    {
      g_autofree char *reason = g_strdup_printf ("the reply and forward header blocks have no “%s” "
                                                 "translation; the languages are %s",
                                                 v, _msg_language_list ());

      return invalid_value (error, def, value, reason);
    }
  *canonical = g_ascii_strdown (v, -1);
  return TRUE;
}

/* Fields of CDO features libmsgobj does not have (fetching URLs, saving
 * sent items in Exchange): only the value that asks for nothing is
 * accepted, so no setting is stored and silently ignored. */
static gboolean
validate_unsupported (const MsgFieldDef *def,
                      const char        *value,
                      char             **canonical,
                      GError           **error)
{
  g_autofree char *v = strip_dup (value);
  gboolean         b = FALSE;
  const char      *reason;

  if (g_str_equal (def->name, "savesentitems"))
    reason = "libmsgobj does not save sent items (CDO did only with Exchange); only false is accepted";
  else
    reason = "not supported; only an empty value (or false) is accepted";

  if (def->type == MSG_FIELD_TYPE_BOOLEAN)
    {
      if (!_msg_configuration_parse_boolean (v, &b))
        return invalid_value (error, def, value, "expected a boolean (true or false, 1 or 0, yes or no)");
      if (b)
        return invalid_value (error, def, value, reason);
      *canonical = g_strdup ("false");
      return TRUE;
    }
  if (v[0] != '\0')
    return invalid_value (error, def, value, reason);
  *canonical = g_strdup ("");
  return TRUE;
}

static gboolean
validate_port (const MsgFieldDef *def,
               const char        *value,
               char             **canonical,
               GError           **error)
{
  g_autofree char *stripped = strip_dup (value);
  gint64           n;

  if (!_msg_configuration_parse_int (stripped, 1, 65535, &n))
    return invalid_value (error, def, value, "expected a port number from 1 to 65535");
  *canonical = g_strdup_printf ("%" G_GINT64_FORMAT, n);
  return TRUE;
}

/* A host name: dot-separated labels of letters, digits, "-" and "_" (or
 * non-ASCII letters, which the resolver converts to IDNA), at most 253
 * characters, an optional final dot. */
static gboolean
is_host_name (const char *host)
{
  g_autofree char *ascii = NULL;
  gsize            label = 0;

  if (g_hostname_is_non_ascii (host))
    {
      ascii = g_hostname_to_ascii (host);
      if (ascii == NULL)
        return FALSE;
      host = ascii;
    }
  if (host[0] == '\0' || host[0] == '.' || strlen (host) > 253)
    return FALSE;
  for (const char *p = host; *p != '\0'; p++)
    {
      if (*p == '.')
        {
          if (label == 0)
            return FALSE;
          label = 0;
          continue;
        }
      if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
        return FALSE;
      if (++label > 63)
        return FALSE;
    }
  return TRUE;
}

/* Splits a server value ("host", "host:port", "[IPv6]", "[IPv6]:port", or a
 * bare IPv6 address) into the host (without brackets) and the port (0 if
 * none). On failure, @reason says why. */
gboolean
_msg_configuration_split_server (const char  *value,
                                 char       **host,
                                 guint16     *port,
                                 const char **reason)
{
  g_autofree char *h = NULL;
  const char      *port_text = NULL;
  const char      *colon;
  gint64           n = 0;

  *reason = "expected a host name, an IPv4 address or a bracketed IPv6 address "
            "such as “[2001:db8::1]”, optionally followed by “:PORT”";
  if (value[0] == '[')
    {
      const char *close = strchr (value, ']');
      g_autoptr (GInetAddress) address = NULL;

      if (close == NULL)
        {
          *reason = "an address in brackets ends with “]”";
          return FALSE;
        }
      h = g_strndup (value + 1, close - value - 1);
      address = g_inet_address_new_from_string (h);
      if (address == NULL)
        {
          *reason = "the text in brackets is not an IP address";
          return FALSE;
        }
      if (close[1] == ':')
        port_text = close + 2;
      else if (close[1] != '\0')
        return FALSE;
    }
  else if ((colon = strchr (value, ':')) != NULL && strchr (colon + 1, ':') != NULL)
    {
      /* Several colons: an IPv6 address without a port. */
      g_autoptr (GInetAddress) address = g_inet_address_new_from_string (value);

      if (address == NULL)
        {
          *reason = "an IPv6 address with a port is written in brackets, such as “[2001:db8::1]:2525”";
          return FALSE;
        }
      h = g_strdup (value);
    }
  else
    {
      h = colon != NULL ? g_strndup (value, colon - value) : g_strdup (value);
      if (colon != NULL)
        port_text = colon + 1;
      if (!is_host_name (h))
        return FALSE;
    }
  if (port_text != NULL && !_msg_configuration_parse_int (port_text, 1, 65535, &n))
    {
      *reason = "the port after “:” is a number from 1 to 65535";
      return FALSE;
    }
  if (host != NULL)
    *host = g_steal_pointer (&h);
  if (port != NULL)
    *port = (guint16) n;
  return TRUE;
}

/* A URL such as "smtp://user@mail.example.org:2525/": says what to write. */
static gboolean
url_error (const MsgFieldDef *def,
           const char        *value,
           const char        *url,
           const char        *scheme_end,
           GError           **error)
{
  g_autofree char *scheme = g_ascii_strdown (url, scheme_end - url);
  g_autofree char *authority = NULL;
  g_autofree char *reason = NULL;
  const char      *start = scheme_end + 3;
  const char      *at;
  const char      *tls_hint = "";

  authority = g_strndup (start, strcspn (start, "/?#"));
  at = strrchr (authority, '@');
  if (at != NULL)
    memmove (authority, at + 1, strlen (at + 1) + 1);
  if (g_str_equal (scheme, "smtps") || g_str_equal (scheme, "nntps"))
    tls_hint = g_str_has_prefix (def->name, "nntp") ? ", and set “nntpusessl” to true"
                                                    : ", and set “smtpusessl” to true";
  reason = g_strdup_printf ("a server is not a URL: write the host, optionally with "
                            "a port, such as “%s”%s",
                            authority[0] != '\0' ? authority : "mail.example.org:587", tls_hint);
  return invalid_value (error, def, value, reason);
}

static gboolean
validate_host (const MsgFieldDef *def,
               const char        *value,
               char             **canonical,
               GError           **error)
{
  g_autofree char *stripped = strip_dup (value);
  const char      *scheme_end = strstr (stripped, "://");
  const char      *reason = NULL;

  for (const char *p = stripped; *p != '\0'; p++)
    {
      if (g_ascii_isspace (*p))
        return invalid_value (error, def, value, "a host name cannot contain spaces");
    }
  if (scheme_end != NULL)
    return url_error (def, value, stripped, scheme_end, error);
  /* Empty means no server, as CDO allows. */
  if (stripped[0] != '\0' &&
      !_msg_configuration_split_server (stripped, NULL, NULL, &reason))
    return invalid_value (error, def, value, reason);
  *canonical = g_steal_pointer (&stripped);
  return TRUE;
}

/* smtpserver: one server as validate_host() takes it, or several
 * separated by commas (relays, tried in order or spread: smtprelaymode);
 * stored as "a, b:587". */
static gboolean
validate_host_list (const MsgFieldDef *def,
                    const char        *value,
                    char             **canonical,
                    GError           **error)
{
  g_auto (GStrv) entries = NULL;
  g_autoptr (GPtrArray) valid = NULL;

  if (strchr (value, ',') == NULL)
    return validate_host (def, value, canonical, error);
  entries = g_strsplit (value, ",", -1);
  valid = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; entries[i] != NULL; i++)
    {
      char *entry = NULL;

      g_strstrip (entries[i]);
      if (entries[i][0] == '\0')
        return invalid_value (error, def, value,
                              "a list of servers has an empty entry (two commas in a row, "
                              "or a comma at an end)");
      if (!validate_host (def, entries[i], &entry, error))
        return FALSE;
      g_ptr_array_add (valid, entry);
    }
  g_ptr_array_add (valid, NULL);
  *canonical = g_strjoinv (", ", (char **) valid->pdata);
  return TRUE;
}

static gboolean
validate_ehlo_name (const MsgFieldDef *def,
                    const char        *value,
                    char             **canonical,
                    GError           **error)
{
  g_autofree char *stripped = strip_dup (value);

  if (!check_ehlo_name (def, stripped, error))
    return FALSE;
  *canonical = g_steal_pointer (&stripped);
  return TRUE;
}

/* The headers a DKIM signature covers: names separated by colons, commas
 * or spaces, stored separated by colons. From must be among them (RFC
 * 6376 section 5.4); Bcc never is (it is not sent), nor the signature. */
static gboolean
validate_dkim_headers (const MsgFieldDef *def,
                       const char        *value,
                       char             **canonical,
                       GError           **error)
{
  g_auto (GStrv) names = g_strsplit_set (value, ":, \t", -1);
  g_autoptr (GString) out = g_string_new (NULL);
  gboolean from = FALSE;

  for (guint i = 0; names[i] != NULL; i++)
    {
      const char *name = names[i];

      if (*name == '\0')
        continue;
      for (const char *p = name; *p != '\0'; p++)
        if ((guchar) *p < 33 || (guchar) *p > 126)
          return invalid_value (error, def, value, "a header name holds a character other than printable ASCII");
      if (g_ascii_strcasecmp (name, "Bcc") == 0)
        return invalid_value (error, def, value, "Bcc is never sent, so it cannot be signed");
      if (g_ascii_strcasecmp (name, "DKIM-Signature") == 0)
        return invalid_value (error, def, value, "the signature does not sign itself");
      from = from || g_ascii_strcasecmp (name, "From") == 0;
      if (out->len > 0)
        g_string_append_c (out, ':');
      g_string_append (out, name);
    }
  if (!from)
    return invalid_value (error, def, value, "From must be signed (RFC 6376 section 5.4)");
  *canonical = g_string_free (g_steal_pointer (&out), FALSE);
  return TRUE;
}

/* One signing key (cryptosign): an address, a fingerprint or a key id,
 * as gpg and gpgsm take it; empty for none. */
static gboolean
validate_crypto_key (const MsgFieldDef *def,
                     const char        *value,
                     char             **canonical,
                     GError           **error)
{
  g_autofree char *stripped = strip_dup (value);

  if (strpbrk (stripped, ",;") != NULL)
    return invalid_value (error, def, value,
                          "one signing key is wanted: a mail address or a fingerprint, not a list");
  *canonical = g_steal_pointer (&stripped);
  return TRUE;
}

static gboolean
validate_int (const MsgFieldDef *def,
              const char        *value,
              char             **canonical,
              GError           **error)
{
  g_autofree char *stripped = strip_dup (value);
  gint64           n;

  if (!_msg_configuration_parse_int (stripped, G_MININT, G_MAXINT, &n))
    return invalid_value (error, def, value, "expected an integer");
  *canonical = g_strdup_printf ("%" G_GINT64_FORMAT, n);
  return TRUE;
}

static gboolean
validate_boolean (const MsgFieldDef *def,
                  const char        *value,
                  char             **canonical,
                  GError           **error)
{
  g_autofree char *stripped = strip_dup (value);
  gboolean         b;

  if (!_msg_configuration_parse_boolean (stripped, &b))
    return invalid_value (error, def, value,
                          "expected a boolean (true or false, 1 or 0, yes or no)");
  *canonical = g_strdup (b ? "true" : "false");
  return TRUE;
}

static gboolean
validate_seconds (const MsgFieldDef *def,
                  const char        *value,
                  char             **canonical,
                  GError           **error)
{
  g_autofree char *stripped = strip_dup (value);
  double           d;

  if (!_msg_configuration_parse_seconds (stripped, &d))
    return invalid_value (error, def, value,
                          "expected a non-negative number of seconds, such as 30 or 0.25");
  if (d > MAX_SECONDS)
    return invalid_value (error, def, value, "more than 1000000000 seconds");
  *canonical = g_steal_pointer (&stripped);
  return TRUE;
}

/* Accepts a choice by name, in any case, or by number. */
static gboolean
validate_enum (const MsgFieldDef *def,
               const char        *value,
               char             **canonical,
               GError           **error)
{
  g_autofree char *stripped = strip_dup (value);
  g_autofree char *list = NULL;
  g_autofree char *reason = NULL;

  if (g_ascii_isdigit (stripped[0]))
    {
      gint64 n;

      if (_msg_configuration_parse_int (stripped, 0, g_strv_length ((char **) def->choices) - 1, &n))
        {
          *canonical = g_strdup (def->choices[n]);
          return TRUE;
        }
    }
  else
    {
      for (gsize i = 0; def->choices[i] != NULL; i++)
        {
          if (g_ascii_strcasecmp (stripped, def->choices[i]) == 0)
            {
              *canonical = g_strdup (def->choices[i]);
              return TRUE;
            }
        }
    }

  list = choices_list (def->choices);
  reason = g_strdup_printf ("expected one of %s", list);
  return invalid_value (error, def, value, reason);
}

/* Validates @value for the field @def and returns its canonical form in
 * @canonical: first by the field's own check, if it has one, else by its
 * type. */
gboolean
_msg_configuration_validate_value (const MsgFieldDef *def,
                                   const char        *value,
                                   char             **canonical,
                                   GError           **error)
{
  *canonical = NULL;
  if (!check_text (def, value, error))
    return FALSE;

  switch (def->check)
    {
    case MSG_FIELD_CHECK_PORT:
      return validate_port (def, value, canonical, error);
    case MSG_FIELD_CHECK_SEND_USING:
    case MSG_FIELD_CHECK_POST_USING:
      return validate_using (def, value, canonical, error);
    case MSG_FIELD_CHECK_HOST:
      return validate_host (def, value, canonical, error);
    case MSG_FIELD_CHECK_HOST_LIST:
      return validate_host_list (def, value, canonical, error);
    case MSG_FIELD_CHECK_MECHANISMS:
      return validate_mechanisms (def, value, canonical, error);
    case MSG_FIELD_CHECK_EHLO_NAME:
      return validate_ehlo_name (def, value, canonical, error);
    case MSG_FIELD_CHECK_TIMEZONE:
      return validate_timezone (def, value, canonical, error);
    case MSG_FIELD_CHECK_LANGUAGE:
      return validate_language (def, value, canonical, error);
    case MSG_FIELD_CHECK_UNSUPPORTED:
      return validate_unsupported (def, value, canonical, error);
    case MSG_FIELD_CHECK_DKIM_HEADERS:
      return validate_dkim_headers (def, value, canonical, error);
    case MSG_FIELD_CHECK_CRYPTO_KEY:
      return validate_crypto_key (def, value, canonical, error);
    case MSG_FIELD_CHECK_BY_TYPE:
    default:
      break;
    }

  switch (def->type)
    {
    case MSG_FIELD_TYPE_INT:
      return validate_int (def, value, canonical, error);
    case MSG_FIELD_TYPE_BOOLEAN:
      return validate_boolean (def, value, canonical, error);
    case MSG_FIELD_TYPE_SECONDS:
      return validate_seconds (def, value, canonical, error);
    case MSG_FIELD_TYPE_ENUM:
      return validate_enum (def, value, canonical, error);
    case MSG_FIELD_TYPE_STRING:
    case MSG_FIELD_TYPE_SECRET:
    case MSG_FIELD_TYPE_PATH:
    default:
      *canonical = g_strdup (value);
      return TRUE;
    }
}

const MsgFieldDef *
_msg_configuration_lookup_field_for_read (const char *name)
{
  const MsgFieldDef *def = _msg_configuration_lookup_field (name);

  if (def == NULL)
    {
      g_autofree char *quoted = _msg_configuration_quote_value (name);

      g_warning ("Unknown configuration field “%s”", quoted);
    }
  return def;
}

static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/**
 * msg_configuration_list_fields:
 * @self: a configuration
 *
 * Lists every known field: CDO's, libmsgobj's and those registered by
 * transport plugins.
 *
 * Returns: (transfer full): the short names of the fields, sorted
 */
GStrv
msg_configuration_list_fields (MsgConfiguration *self)
{
  GPtrArray     *names;
  GHashTableIter iter;
  gpointer       key;

  g_return_val_if_fail (MSG_IS_CONFIGURATION (self), NULL);

  _msg_modules_ensure_loaded ();

  names = g_ptr_array_new ();
  g_mutex_lock (&registry_lock);
  registry_init_locked ();
  g_hash_table_iter_init (&iter, registry);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (names, g_strdup (key));
  g_mutex_unlock (&registry_lock);

  g_ptr_array_sort (names, compare_strings);
  g_ptr_array_add (names, NULL);
  return (GStrv) g_ptr_array_free (names, FALSE);
}

/**
 * msg_configuration_get_field_type:
 * @name: a field name: a short name or a CDO URN
 *
 * Gets the type of a field, which decides which values it accepts.
 * `sendusing` and `postusing` are enumerations whose values may be any
 * transport name.
 *
 * Asking for an unknown field logs a warning and returns
 * %MSG_FIELD_TYPE_STRING; see [func@Configuration.has_field].
 *
 * Returns: the type of the field
 */
MsgFieldType
msg_configuration_get_field_type (const char *name)
{
  const MsgFieldDef *def;

  g_return_val_if_fail (name != NULL, MSG_FIELD_TYPE_STRING);

  def = _msg_configuration_lookup_field_for_read (name);
  if (def == NULL)
    return MSG_FIELD_TYPE_STRING;
  return def->type;
}

/**
 * msg_configuration_has_field:
 * @name: a field name: a short name or a CDO URN
 *
 * Tells whether a field of that name exists (built in or registered by a
 * transport plugin).
 *
 * Returns: %TRUE if the field exists
 */
gboolean
msg_configuration_has_field (const char *name)
{
  g_return_val_if_fail (name != NULL, FALSE);

  return _msg_configuration_lookup_field (name) != NULL;
}

static gboolean
registration_error (GError    **error,
                    const char *name,
                    const char *reason)
{
  g_autofree char *quoted = _msg_configuration_quote_value (name);

  g_set_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_FAILED,
               "Cannot register the configuration field “%s”: %s", quoted, reason);
  return FALSE;
}

static gboolean
same_choices (const char *const *a,
              const char *const *b)
{
  if (a == NULL || b == NULL)
    return a == b;
  return g_strv_equal ((const char *const *) a, (const char *const *) b);
}

/**
 * msg_configuration_register_field:
 * @name: the short name of the new field: lower-case letters, digits and `_`,
 *   beginning with a letter
 * @type: the type of the field
 * @default_value: (nullable): the default value, or %NULL for none
 * @choices: (array zero-terminated=1) (nullable): for
 *   %MSG_FIELD_TYPE_ENUM, the names of the values, in the order of their
 *   numbers (the first is 0); %NULL for the other types
 * @error: return location for a #GError
 *
 * Adds a field to every configuration of the process. This is for
 * transport plugins, which call it when they are loaded; the field is
 * then named like CDO's, by short name or with
 * [const@CONFIGURATION_NAMESPACE].
 *
 * Registering a name again with the same type (and choices) does nothing
 * and succeeds; the first definition stays. Registering it with another
 * type, or invalid choices or default value, fails with
 * %MSG_CONFIGURATION_ERROR_FAILED (or %MSG_CONFIGURATION_ERROR_INVALID_VALUE
 * for the default value). Thread-safe.
 *
 * Returns: %TRUE if the field exists with that type after the call
 */
gboolean
msg_configuration_register_field (const char        *name,
                                  MsgFieldType       type,
                                  const char        *default_value,
                                  const char *const *choices,
                                  GError           **error)
{
  MsgFieldDef       *def;
  const MsgFieldDef *existing;
  g_autofree char   *canonical = NULL;
  MsgFieldDef        probe = { 0 };

  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!g_ascii_islower (name[0]) || strlen (name) > 64)
    return registration_error (error, name,
                               "a name begins with a lower-case letter and has at most 64 characters");
  for (const char *p = name; *p != '\0'; p++)
    {
      if (!g_ascii_islower (*p) && !g_ascii_isdigit (*p) && *p != '_')
        return registration_error (error, name,
                                   "a name has only lower-case letters, digits and “_”");
    }
  if ((int) type < (int) MSG_FIELD_TYPE_STRING || (int) type > (int) MSG_FIELD_TYPE_PATH)
    return registration_error (error, name, "unknown field type");
  if (type == MSG_FIELD_TYPE_ENUM)
    {
      if (choices == NULL || choices[0] == NULL)
        return registration_error (error, name, "an enumeration needs a list of choices");
      for (gsize i = 0; choices[i] != NULL; i++)
        {
          const char *c = choices[i];

          if (c[0] == '\0' || g_ascii_isdigit (c[0]))
            return registration_error (error, name,
                                       "a choice is a non-empty name that does not begin with a digit");
          for (const char *p = c; *p != '\0'; p++)
            {
              if (!g_ascii_islower (*p) && !g_ascii_isdigit (*p) && *p != '_' && *p != '-')
                return registration_error (error, name,
                                           "a choice has only lower-case letters, digits, “_” and “-”");
            }
          for (gsize j = 0; j < i; j++)
            {
              if (strcmp (choices[j], c) == 0)
                return registration_error (error, name, "the choices are not unique");
            }
        }
    }
  else if (choices != NULL)
    return registration_error (error, name, "only an enumeration has choices");

  probe.name = name;
  probe.type = type;
  probe.choices = choices;
  if (default_value != NULL && !_msg_configuration_validate_value (&probe, default_value, &canonical, error))
    return FALSE;

  g_mutex_lock (&registry_lock);
  registry_init_locked ();
  existing = g_hash_table_lookup (registry, name);
  if (existing != NULL)
    {
      gboolean same = existing->type == type &&
                      (existing->builtin || same_choices (existing->choices, choices));

      g_mutex_unlock (&registry_lock);
      if (!same)
        return registration_error (error, name, "a field of that name but another type exists");
      return TRUE;
    }

  def = g_new0 (MsgFieldDef, 1);
  def->name = g_strdup (name);
  def->type = type;
  def->check = MSG_FIELD_CHECK_BY_TYPE;
  def->default_value = g_steal_pointer (&canonical);
  def->choices = (const char *const *) g_strdupv ((char **) choices);
  def->builtin = FALSE;
  g_hash_table_insert (registry, (gpointer) def->name, def);
  g_mutex_unlock (&registry_lock);
  return TRUE;
}
