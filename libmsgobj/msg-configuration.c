/* msg-configuration.c: CDO's Configuration object
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "msgobj.h"
#include "msg-transport-private.h"

/**
 * MsgConfiguration:
 *
 * The settings of messages and transports: CDO's `Configuration` object.
 *
 * A configuration is a set of named fields. Every field of CDOSYS exists,
 * with CDO's names and defaults (`smtpserver`, `smtpserverport` = 25,
 * `smtpconnectiontimeout` = 30, …), plus the fields of libmsgobj
 * (`smtpstarttls`, `smtpoperationtimeout`, `tlsverify`, …) and those that
 * transport plugins register with [func@Configuration.register_field].
 *
 * A field is named by its short name (`smtpserver`) or by its CDO URN
 * ([const@CONFIGURATION_NAMESPACE] followed by the short name, and
 * `urn:schemas:calendar:timezoneid` for `timezoneid`); names are
 * case-insensitive. Values are strings, as in CDO, validated when they are
 * set and typed when they are read:
 *
 * ```c
 * g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();
 *
 * if (!msg_configuration_set_field (cfg, "smtpserver", "mail.example.org", error) ||
 *     !msg_configuration_set_field (cfg, "sendusing", "2", error))
 *   return FALSE;
 * port = msg_configuration_get_int (cfg, "smtpserverport");   // 25
 * ```
 *
 * Unlike CDO, an unknown field name is an error
 * (%MSG_CONFIGURATION_ERROR_UNKNOWN_FIELD), so that a typo such as
 * `smtpusetls` does not go unnoticed. Passwords (`sendpassword`,
 * `postpassword`) are write-only: [method@Configuration.get_field] never
 * returns them and no error message quotes them; transports read them with
 * [method@Configuration.get_secret].
 *
 * Settings can be loaded from a key file with a `[configuration]` group
 * whose keys are short field names ([method@Configuration.load_from_file]);
 * [ctor@Configuration.new_default] loads the user's file.
 *
 * A configuration may be read from one thread while another thread sets
 * fields; transports work on a snapshot made with
 * [method@Configuration.copy].
 */

/* The largest number of seconds a time field accepts (about 31 years). */
#define MAX_SECONDS 1e9

/* Configuration files larger than this are refused. */
#define MAX_FILE_SIZE (1024 * 1024)

/* How many characters of a value an error message quotes. */
#define MAX_QUOTED_CHARS 64

#define TIMEZONE_URN "urn:schemas:calendar:timezoneid"

typedef enum
{
  CHECK_BY_TYPE,
  CHECK_PORT,
  CHECK_SEND_USING,
  CHECK_POST_USING,
  CHECK_HOST,
  CHECK_MECHANISMS,
  CHECK_EHLO_NAME,
  CHECK_TIMEZONE,
} FieldCheck;

typedef struct
{
  const char  *name;
  MsgFieldType type;
  FieldCheck   check;
  /* The canonical default value, or NULL */
  const char *default_value;
  /* MSG_FIELD_TYPE_ENUM: the names, the index of each is its number. */
  const char *const *choices;
  gboolean           builtin;
} FieldDef;

static const char *const authenticate_choices[] = { "anonymous", "basic", "ntlm", NULL };
static const char *const starttls_choices[] = { "never", "opportunistic", "required", NULL };

/* clang-format off */
static const FieldDef builtin_fields[] = {
  /* CDOSYS, in the order of cdosysstr.h */
  { "sendusing", MSG_FIELD_TYPE_ENUM, CHECK_SEND_USING, "pickup", NULL, TRUE },
  { "smtpserver", MSG_FIELD_TYPE_STRING, CHECK_HOST, NULL, NULL, TRUE },
  { "smtpserverport", MSG_FIELD_TYPE_INT, CHECK_PORT, "25", NULL, TRUE },
  { "smtpusessl", MSG_FIELD_TYPE_BOOLEAN, CHECK_BY_TYPE, "false", NULL, TRUE },
  { "smtpauthenticate", MSG_FIELD_TYPE_ENUM, CHECK_BY_TYPE, "anonymous", authenticate_choices, TRUE },
  { "sendusername", MSG_FIELD_TYPE_STRING, CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "sendpassword", MSG_FIELD_TYPE_SECRET, CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "smtpconnectiontimeout", MSG_FIELD_TYPE_SECONDS, CHECK_BY_TYPE, "30", NULL, TRUE },
  { "smtpaccountname", MSG_FIELD_TYPE_STRING, CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "sendemailaddress", MSG_FIELD_TYPE_STRING, CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "senduserreplyemailaddress", MSG_FIELD_TYPE_STRING, CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "smtpserverpickupdirectory", MSG_FIELD_TYPE_PATH, CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "flushbuffersonwrite", MSG_FIELD_TYPE_BOOLEAN, CHECK_BY_TYPE, "true", NULL, TRUE },
  { "postusing", MSG_FIELD_TYPE_ENUM, CHECK_POST_USING, "pickup", NULL, TRUE },
  { "nntpserver", MSG_FIELD_TYPE_STRING, CHECK_HOST, NULL, NULL, TRUE },
  { "nntpserverport", MSG_FIELD_TYPE_INT, CHECK_PORT, "119", NULL, TRUE },
  { "nntpusessl", MSG_FIELD_TYPE_BOOLEAN, CHECK_BY_TYPE, "false", NULL, TRUE },
  { "nntpauthenticate", MSG_FIELD_TYPE_ENUM, CHECK_BY_TYPE, "anonymous", authenticate_choices, TRUE },
  { "postusername", MSG_FIELD_TYPE_STRING, CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "postpassword", MSG_FIELD_TYPE_SECRET, CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "nntpconnectiontimeout", MSG_FIELD_TYPE_SECONDS, CHECK_BY_TYPE, "30", NULL, TRUE },
  { "nntpaccountname", MSG_FIELD_TYPE_STRING, CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "postemailaddress", MSG_FIELD_TYPE_STRING, CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "postuserreplyemailaddress", MSG_FIELD_TYPE_STRING, CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "nntpserverpickupdirectory", MSG_FIELD_TYPE_PATH, CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "autopromotebodyparts", MSG_FIELD_TYPE_BOOLEAN, CHECK_BY_TYPE, "true", NULL, TRUE },
  { "httpcookies", MSG_FIELD_TYPE_STRING, CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "languagecode", MSG_FIELD_TYPE_STRING, CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "usemessageresponsetext", MSG_FIELD_TYPE_BOOLEAN, CHECK_BY_TYPE, "true", NULL, TRUE },
  { "urlgetlatestversion", MSG_FIELD_TYPE_BOOLEAN, CHECK_BY_TYPE, "false", NULL, TRUE },
  { "urlproxyserver", MSG_FIELD_TYPE_STRING, CHECK_HOST, NULL, NULL, TRUE },
  { "urlproxybypass", MSG_FIELD_TYPE_STRING, CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "savesentitems", MSG_FIELD_TYPE_BOOLEAN, CHECK_BY_TYPE, "false", NULL, TRUE },
  { "timezoneid", MSG_FIELD_TYPE_STRING, CHECK_TIMEZONE, NULL, NULL, TRUE },
  /* libmsgobj's own */
  { "smtpstarttls", MSG_FIELD_TYPE_ENUM, CHECK_BY_TYPE, "opportunistic", starttls_choices, TRUE },
  { "nntpstarttls", MSG_FIELD_TYPE_ENUM, CHECK_BY_TYPE, "opportunistic", starttls_choices, TRUE },
  { "smtpoperationtimeout", MSG_FIELD_TYPE_SECONDS, CHECK_BY_TYPE, "0", NULL, TRUE },
  { "nntpoperationtimeout", MSG_FIELD_TYPE_SECONDS, CHECK_BY_TYPE, "0", NULL, TRUE },
  { "smtpauthmechanisms", MSG_FIELD_TYPE_STRING, CHECK_MECHANISMS, "", NULL, TRUE },
  { "smtpallowplaintextauth", MSG_FIELD_TYPE_BOOLEAN, CHECK_BY_TYPE, "false", NULL, TRUE },
  { "nntpallowplaintextauth", MSG_FIELD_TYPE_BOOLEAN, CHECK_BY_TYPE, "false", NULL, TRUE },
  { "tlscafile", MSG_FIELD_TYPE_PATH, CHECK_BY_TYPE, NULL, NULL, TRUE },
  { "tlsverify", MSG_FIELD_TYPE_BOOLEAN, CHECK_BY_TYPE, "true", NULL, TRUE },
  { "smtpsendpartial", MSG_FIELD_TYPE_BOOLEAN, CHECK_BY_TYPE, "false", NULL, TRUE },
  { "smtpehloname", MSG_FIELD_TYPE_STRING, CHECK_EHLO_NAME, "", NULL, TRUE },
};
/* clang-format on */

/* The process-wide table of fields: short name → FieldDef. Entries are
 * never removed nor changed, so a FieldDef pointer stays valid without the
 * lock. */
static GMutex      registry_lock;
static GHashTable *registry;

struct _MsgConfiguration
{
  GObject parent_instance;

  GMutex      lock;
  GHashTable *values; /* (owned): short name → canonical value, set fields only */
};

/**
 * msg_configuration_error_quark:
 *
 * Gets the error domain of configuration errors, %MSG_CONFIGURATION_ERROR.
 *
 * Returns: the quark of the domain
 */
/* clang-format off */
G_DEFINE_QUARK (msg-configuration-error-quark, msg_configuration_error)
/* clang-format on */
G_DEFINE_FINAL_TYPE (MsgConfiguration, msg_configuration, G_TYPE_OBJECT)

/* Overwrites a string before freeing it, so that passwords do not linger
 * in freed memory. */
static void
wipe_free (gpointer data)
{
  volatile char *p = data;

  if (p == NULL)
    return;
  while (*p != '\0')
    *p++ = '\0';
  g_free (data);
}

static GHashTable *
values_table_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, wipe_free);
}

/* Must be called with registry_lock held. */
static void
registry_init_locked (void)
{
  if (registry != NULL)
    return;
  registry = g_hash_table_new (g_str_hash, g_str_equal);
  for (gsize i = 0; i < G_N_ELEMENTS (builtin_fields); i++)
    g_hash_table_insert (registry, (gpointer) builtin_fields[i].name,
                         (gpointer) &builtin_fields[i]);
}

static const FieldDef *
registry_lookup (const char *short_name)
{
  const FieldDef *def;

  g_mutex_lock (&registry_lock);
  registry_init_locked ();
  def = g_hash_table_lookup (registry, short_name);
  g_mutex_unlock (&registry_lock);
  return def;
}

/* Returns the lower-case short name that @name designates, or NULL if
 * @name is neither a short name nor a URN of a configuration field. */
static char *
normalize_name (const char *name)
{
  g_autofree char *lower = g_ascii_strdown (name, -1);
  const char      *short_name = lower;

  if (g_str_has_prefix (lower, MSG_CONFIGURATION_NAMESPACE))
    short_name = lower + strlen (MSG_CONFIGURATION_NAMESPACE);
  else if (strcmp (lower, TIMEZONE_URN) == 0)
    short_name = "timezoneid";

  if (*short_name == '\0')
    return NULL;
  for (const char *p = short_name; *p != '\0'; p++)
    {
      if (!g_ascii_isalnum (*p) && *p != '_' && *p != '-')
        return NULL;
    }
  return g_strdup (short_name);
}

/* Looks a field up by short name or URN, loading the transport plugins (which
 * register their fields) before deciding that a name is unknown. */
static const FieldDef *
lookup_field (const char *name)
{
  g_autofree char *short_name = NULL;
  const FieldDef  *def;

  if (name == NULL)
    return NULL;
  short_name = normalize_name (name);
  if (short_name == NULL)
    return NULL;
  def = registry_lookup (short_name);
  if (def == NULL)
    {
      _msg_transports_ensure_loaded ();
      def = registry_lookup (short_name);
    }
  return def;
}

/* Quotes @value for an error message: valid UTF-8 with control characters
 * escaped, cut after MAX_QUOTED_CHARS characters. */
static char *
quote_value (const char *value)
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

static void
set_unknown_field_error (GError    **error,
                         const char *name)
{
  g_autofree char *quoted = quote_value (name);
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
invalid_value (GError        **error,
               const FieldDef *def,
               const char     *value,
               const char     *reason)
{
  if (def->type == MSG_FIELD_TYPE_SECRET)
    {
      g_set_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE,
                   "Invalid value for configuration field “%s”: %s",
                   def->name, reason);
    }
  else
    {
      g_autofree char *quoted = quote_value (value);

      g_set_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE,
                   "Invalid value “%s” for configuration field “%s”: %s",
                   quoted, def->name, reason);
    }
  return FALSE;
}

/* Checks that @value is UTF-8 without control characters. */
static gboolean
check_text (const FieldDef *def,
            const char     *value,
            GError        **error)
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

static gboolean
parse_boolean (const char *value,
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
static gboolean
parse_seconds (const char *value,
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

static gboolean
parse_int (const char *value,
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
validate_using (const FieldDef *def,
                const char     *value,
                char          **canonical,
                GError        **error)
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
      const char *network = def->check == CHECK_SEND_USING ? "smtp" : "nntp";

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
validate_mechanisms (const FieldDef *def,
                     const char     *value,
                     char          **canonical,
                     GError        **error)
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
validate_ehlo_name (const FieldDef *def,
                    const char     *value,
                    GError        **error)
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
validate_timezone (const FieldDef *def,
                   const char     *value,
                   char          **canonical,
                   GError        **error)
{
  g_autofree char *v = strip_dup (value);
  gint64           n;
  GTimeZone       *tz;

  if (g_ascii_isdigit (v[0]))
    {
      /* CdoTimeZoneId: cdoUTC = 0 up to the last zone of the latest DLL. */
      if (!parse_int (v, 0, 81, &n))
        return invalid_value (error, def, value,
                              "expected a CDO time zone number (0 to 81) or a zone name such as “Europe/Paris”");
      *canonical = g_strdup_printf ("%" G_GINT64_FORMAT, n);
      return TRUE;
    }
  if (v[0] == '\0' || strstr (v, "..") != NULL || v[0] == '/')
    return invalid_value (error, def, value, "expected a zone name such as “Europe/Paris”");
  for (const char *p = v; *p != '\0'; p++)
    {
      if (!g_ascii_isalnum (*p) && strchr ("_+-/:.", *p) == NULL)
        return invalid_value (error, def, value, "expected a zone name such as “Europe/Paris”");
    }
  tz = g_time_zone_new_identifier (v);
  if (tz == NULL)
    return invalid_value (error, def, value, "no such time zone");
  g_time_zone_unref (tz);
  *canonical = g_steal_pointer (&v);
  return TRUE;
}

/* Validates @value for the field @def and returns its canonical form in
 * @canonical. */
static gboolean
validate_value (const FieldDef *def,
                const char     *value,
                char          **canonical,
                GError        **error)
{
  g_autofree char *stripped = NULL;

  *canonical = NULL;
  if (!check_text (def, value, error))
    return FALSE;

  switch (def->check)
    {
    case CHECK_PORT:
      {
        gint64 n;

        stripped = strip_dup (value);
        if (!parse_int (stripped, 1, 65535, &n))
          return invalid_value (error, def, value, "expected a port number from 1 to 65535");
        *canonical = g_strdup_printf ("%" G_GINT64_FORMAT, n);
        return TRUE;
      }
    case CHECK_SEND_USING:
    case CHECK_POST_USING:
      return validate_using (def, value, canonical, error);
    case CHECK_HOST:
      stripped = strip_dup (value);
      for (const char *p = stripped; *p != '\0'; p++)
        {
          if (g_ascii_isspace (*p))
            return invalid_value (error, def, value, "a host name cannot contain spaces");
        }
      *canonical = g_steal_pointer (&stripped);
      return TRUE;
    case CHECK_MECHANISMS:
      return validate_mechanisms (def, value, canonical, error);
    case CHECK_EHLO_NAME:
      stripped = strip_dup (value);
      if (!validate_ehlo_name (def, stripped, error))
        return FALSE;
      *canonical = g_steal_pointer (&stripped);
      return TRUE;
    case CHECK_TIMEZONE:
      return validate_timezone (def, value, canonical, error);
    case CHECK_BY_TYPE:
    default:
      break;
    }

  switch (def->type)
    {
    case MSG_FIELD_TYPE_INT:
      {
        gint64 n;

        stripped = strip_dup (value);
        if (!parse_int (stripped, G_MININT, G_MAXINT, &n))
          return invalid_value (error, def, value, "expected an integer");
        *canonical = g_strdup_printf ("%" G_GINT64_FORMAT, n);
        return TRUE;
      }
    case MSG_FIELD_TYPE_BOOLEAN:
      {
        gboolean b;

        stripped = strip_dup (value);
        if (!parse_boolean (stripped, &b))
          return invalid_value (error, def, value,
                                "expected a boolean (true or false, 1 or 0, yes or no)");
        *canonical = g_strdup (b ? "true" : "false");
        return TRUE;
      }
    case MSG_FIELD_TYPE_SECONDS:
      {
        double d;

        stripped = strip_dup (value);
        if (!parse_seconds (stripped, &d))
          return invalid_value (error, def, value,
                                "expected a non-negative number of seconds, such as 30 or 0.25");
        if (d > MAX_SECONDS)
          return invalid_value (error, def, value, "more than 1000000000 seconds");
        *canonical = g_steal_pointer (&stripped);
        return TRUE;
      }
    case MSG_FIELD_TYPE_ENUM:
      {
        g_autofree char *list = choices_list (def->choices);

        stripped = strip_dup (value);
        if (g_ascii_isdigit (stripped[0]))
          {
            gint64 n;

            if (parse_int (stripped, 0, g_strv_length ((char **) def->choices) - 1, &n))
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
        {
          g_autofree char *reason = g_strdup_printf ("expected one of %s", list);

          return invalid_value (error, def, value, reason);
        }
      }
    case MSG_FIELD_TYPE_STRING:
    case MSG_FIELD_TYPE_SECRET:
    case MSG_FIELD_TYPE_PATH:
    default:
      *canonical = g_strdup (value);
      return TRUE;
    }
}

static char *
default_value (const FieldDef *def)
{
  return g_strdup (def->default_value);
}

/* The effective value of a field, secrets included. */
static char *
dup_value (MsgConfiguration *self,
           const FieldDef   *def)
{
  char *value;

  g_mutex_lock (&self->lock);
  value = g_strdup (g_hash_table_lookup (self->values, def->name));
  g_mutex_unlock (&self->lock);
  if (value == NULL)
    value = default_value (def);
  return value;
}

static const FieldDef *
lookup_field_for_read (const char *name)
{
  const FieldDef *def = lookup_field (name);

  if (def == NULL)
    {
      g_autofree char *quoted = quote_value (name);

      g_warning ("Unknown configuration field “%s”", quoted);
    }
  return def;
}

static void
msg_configuration_finalize (GObject *object)
{
  MsgConfiguration *self = MSG_CONFIGURATION (object);

  g_clear_pointer (&self->values, g_hash_table_unref);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (msg_configuration_parent_class)->finalize (object);
}

static void
msg_configuration_class_init (MsgConfigurationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = msg_configuration_finalize;
}

static void
msg_configuration_init (MsgConfiguration *self)
{
  g_mutex_init (&self->lock);
  self->values = values_table_new ();
}

/**
 * msg_configuration_new:
 *
 * Creates a configuration where every field has its default value.
 *
 * Returns: (transfer full): a new configuration
 */
MsgConfiguration *
msg_configuration_new (void)
{
  return g_object_new (MSG_TYPE_CONFIGURATION, NULL);
}

/**
 * msg_configuration_new_default:
 * @error: return location for a #GError
 *
 * Creates a configuration with the defaults, then loads the user's
 * configuration file into it: the file named by the environment variable
 * `MSGOBJ_CONFIG` if it is set (a missing file is then an error), otherwise
 * `msgobj/msgobj.conf` in the user's configuration directory
 * (`$XDG_CONFIG_HOME`, see g_get_user_config_dir()) if that file exists.
 *
 * Programs running with elevated privileges (setuid) ignore `MSGOBJ_CONFIG`.
 *
 * Returns: (transfer full): a new configuration, or %NULL if the file could
 *   not be loaded
 */
MsgConfiguration *
msg_configuration_new_default (GError **error)
{
  g_autoptr (MsgConfiguration) self = msg_configuration_new ();
  const char *env;

  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

#ifdef HAVE_SECURE_GETENV
  env = secure_getenv ("MSGOBJ_CONFIG");
#else
  env = g_getenv ("MSGOBJ_CONFIG");
#endif
  if (env != NULL && *env != '\0')
    {
      if (!msg_configuration_load_from_file (self, env, error))
        return NULL;
    }
  else
    {
      g_autofree char *path = g_build_filename (g_get_user_config_dir (),
                                                "msgobj", "msgobj.conf", NULL);

      if (g_file_test (path, G_FILE_TEST_EXISTS) &&
          !msg_configuration_load_from_file (self, path, error))
        return NULL;
    }
  return g_steal_pointer (&self);
}

/**
 * msg_configuration_copy:
 * @self: a configuration
 *
 * Makes an independent copy of @self: later changes to either do not show
 * in the other. Transports use it to take a snapshot of the settings for
 * one operation.
 *
 * Returns: (transfer full): a new configuration with the same field values
 */
MsgConfiguration *
msg_configuration_copy (MsgConfiguration *self)
{
  MsgConfiguration *copy;
  GHashTableIter    iter;
  gpointer          key, value;

  g_return_val_if_fail (MSG_IS_CONFIGURATION (self), NULL);

  copy = msg_configuration_new ();
  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&iter, self->values);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (copy->values, g_strdup (key), g_strdup (value));
  g_mutex_unlock (&self->lock);
  return copy;
}

/* Key files */

typedef struct
{
  char *key;
  int   line;
} KeyLine;

static void
key_line_free (gpointer data)
{
  KeyLine *kl = data;

  g_free (kl->key);
  g_free (kl);
}

/* Formats the location of an error: "FILE:LINE: " or "line LINE: ". */
static char *
location_prefix (const char *display_name,
                 int         line)
{
  if (display_name != NULL && line > 0)
    return g_strdup_printf ("%s:%d: ", display_name, line);
  if (display_name != NULL)
    return g_strdup_printf ("%s: ", display_name);
  if (line > 0)
    return g_strdup_printf ("line %d: ", line);
  return g_strdup ("");
}

static gboolean
parse_error (GError    **error,
             const char *display_name,
             int         line,
             const char *message)
{
  g_autofree char *where = location_prefix (display_name, line);

  g_set_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_PARSE,
               "%s%s", where, message);
  return FALSE;
}

/* Goes through the lines as GKeyFile does, to find the line of each key
 * (GKeyFile does not tell) and report syntax errors with their line. Fills
 * @key_lines with the keys of the [configuration] group in order, and
 * @last_lines with the line of the last occurrence of each key. */
static gboolean
scan_key_file (const char *data,
               gsize       length,
               const char *display_name,
               GPtrArray  *key_lines,
               GHashTable *last_lines,
               GError    **error)
{
  const char      *p = data;
  const char      *end = data + length;
  int              line = 0;
  g_autofree char *group = NULL;

  if (memchr (data, '\0', length) != NULL)
    {
      const char *nul = memchr (data, '\0', length);
      int         nul_line = 1;

      for (const char *q = data; q < nul; q++)
        if (*q == '\n')
          nul_line++;
      return parse_error (error, display_name, nul_line, "the file contains a NUL byte");
    }

  while (p < end)
    {
      const char      *eol = memchr (p, '\n', end - p);
      const char      *next = eol != NULL ? eol + 1 : end;
      g_autofree char *text = g_strndup (p, (eol != NULL ? eol : end) - p);
      const char      *start;
      const char      *eq;

      line++;
      p = next;

      if (!g_utf8_validate (text, -1, NULL))
        return parse_error (error, display_name, line, "the line is not valid UTF-8");

      start = text;
      while (g_ascii_isspace (*start))
        start++;
      g_strchomp (text);

      if (*start == '\0' || *start == '#')
        continue;

      if (*start == '[')
        {
          const char      *close = strchr (start, ']');
          g_autofree char *name = NULL;

          if (close == NULL || close[1] != '\0' || close == start + 1)
            return parse_error (error, display_name, line,
                                "invalid group header (expected “[configuration]”)");
          name = g_strndup (start + 1, close - start - 1);
          if (strcmp (name, "configuration") != 0)
            {
              g_autofree char *quoted = quote_value (name);
              g_autofree char *message = g_strdup_printf (
                  "unknown group “[%s]” (settings go in the group “[configuration]”)", quoted);

              return parse_error (error, display_name, line, message);
            }
          g_free (group);
          group = g_steal_pointer (&name);
          continue;
        }

      eq = strchr (start, '=');
      if (eq == NULL)
        {
          /* The line is not quoted: it may hold a password. */
          return parse_error (error, display_name, line,
                              "not a “field = value” line, a group header or a comment");
        }
      if (group == NULL)
        return parse_error (error, display_name, line,
                            "a setting before the group header “[configuration]”");

      {
        g_autofree char *key = g_strndup (start, eq - start);

        g_strchomp (key);
        if (*key == '\0')
          return parse_error (error, display_name, line, "a line with a value but no field name");
        KeyLine *kl = g_new0 (KeyLine, 1);

        kl->key = g_strdup (key);
        kl->line = line;
        g_ptr_array_add (key_lines, kl);
        g_hash_table_insert (last_lines, g_steal_pointer (&key), GINT_TO_POINTER (line));
      }
    }
  return TRUE;
}

static gboolean
load_key_file (MsgConfiguration *self,
               const char       *data,
               gsize             length,
               const char       *display_name,
               GError          **error)
{
  g_autoptr (GPtrArray) key_lines = g_ptr_array_new_with_free_func (key_line_free);
  g_autoptr (GHashTable) last_lines = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (GKeyFile) key_file = g_key_file_new ();
  g_autoptr (GHashTable) pending = NULL;
  g_autoptr (GError) local_error = NULL;
  GHashTableIter iter;
  gpointer       key, value;

  if (!scan_key_file (data, length, display_name, key_lines, last_lines, error))
    return FALSE;
  if (key_lines->len == 0)
    return TRUE;

  if (!g_key_file_load_from_data (key_file, data, length, G_KEY_FILE_NONE, &local_error))
    return parse_error (error, display_name, 0, local_error->message);

  pending = values_table_new ();
  for (guint i = 0; i < key_lines->len; i++)
    {
      const KeyLine   *kl = g_ptr_array_index (key_lines, i);
      const FieldDef  *def = lookup_field (kl->key);
      g_autofree char *where = location_prefix (display_name, kl->line);
      g_autofree char *canonical = NULL;
      char            *raw;

      if (def == NULL)
        {
          set_unknown_field_error (error, kl->key);
          g_prefix_error (error, "%s", where);
          return FALSE;
        }
      /* GKeyFile keeps the last value of a repeated key. */
      if (GPOINTER_TO_INT (g_hash_table_lookup (last_lines, kl->key)) != kl->line)
        continue;

      raw = g_key_file_get_string (key_file, "configuration", kl->key, &local_error);
      if (local_error != NULL)
        {
          /* GKeyFile's message is not quoted: it may hold a password. */
          wipe_free (raw);
          g_set_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_PARSE,
                       "%sfield “%s”: the value has an invalid escape sequence "
                       "(the escapes are \\s, \\n, \\t, \\r and \\\\)",
                       where, def->name);
          return FALSE;
        }
      if (!validate_value (def, raw, &canonical, error))
        {
          wipe_free (raw);
          g_prefix_error (error, "%s", where);
          return FALSE;
        }
      wipe_free (raw);
      g_hash_table_replace (pending, g_strdup (def->name), g_steal_pointer (&canonical));
    }

  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&iter, pending);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_hash_table_iter_steal (&iter);
      g_hash_table_replace (self->values, key, value);
    }
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/**
 * msg_configuration_load_from_file:
 * @self: a configuration
 * @path: (type filename): the path of a configuration file
 * @error: return location for a #GError
 *
 * Sets the fields that the key file at @path sets.
 *
 * The file has one group, `[configuration]`, whose keys are field names
 * and whose values are field values, as for
 * [method@Configuration.set_field]:
 *
 * ```ini
 * [configuration]
 * sendusing = smtp
 * smtpserver = mail.example.org
 * smtpconnectiontimeout = 2.5
 * ```
 *
 * Loading is all or nothing: if any line is wrong, no field changes and
 * @error names the file, the line and the field: a syntax error or a file
 * that cannot be read is %MSG_CONFIGURATION_ERROR_PARSE, an unknown field
 * %MSG_CONFIGURATION_ERROR_UNKNOWN_FIELD and a bad value
 * %MSG_CONFIGURATION_ERROR_INVALID_VALUE.
 *
 * Returns: %TRUE if the file was loaded
 */
gboolean
msg_configuration_load_from_file (MsgConfiguration *self,
                                  const char       *path,
                                  GError          **error)
{
  g_autofree char *display_name = NULL;
  g_autofree char *contents = NULL;
  g_autoptr (GError) local_error = NULL;
  GStatBuf st;
  gsize    length = 0;

  g_return_val_if_fail (MSG_IS_CONFIGURATION (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  display_name = g_filename_display_name (path);
  if (g_stat (path, &st) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_PARSE,
                   "Cannot read the configuration file “%s”: %s",
                   display_name, g_strerror (saved_errno));
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_PARSE,
                   "Cannot read the configuration file “%s”: not a regular file",
                   display_name);
      return FALSE;
    }
  if (st.st_size > MAX_FILE_SIZE)
    {
      g_set_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_PARSE,
                   "The configuration file “%s” is larger than %d bytes",
                   display_name, MAX_FILE_SIZE);
      return FALSE;
    }
  if (!g_file_get_contents (path, &contents, &length, &local_error))
    {
      g_set_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_PARSE,
                   "%s", local_error->message);
      return FALSE;
    }
  return load_key_file (self, contents, length, display_name, error);
}

/**
 * msg_configuration_load_from_data:
 * @self: a configuration
 * @data: the contents of a configuration file
 * @length: the length of @data in bytes, or -1 if it ends with a NUL byte
 * @error: return location for a #GError
 *
 * Sets the fields that @data sets, as
 * [method@Configuration.load_from_file] does with a file; errors name the
 * line.
 *
 * Returns: %TRUE if @data was loaded
 */
gboolean
msg_configuration_load_from_data (MsgConfiguration *self,
                                  const char       *data,
                                  gssize            length,
                                  GError          **error)
{
  g_return_val_if_fail (MSG_IS_CONFIGURATION (self), FALSE);
  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (data == NULL)
    return TRUE;
  if (length < 0)
    length = strlen (data);
  return load_key_file (self, data, length, NULL, error);
}

/**
 * msg_configuration_set_field:
 * @self: a configuration
 * @name: a field name: a short name such as `smtpserver` or a CDO URN
 * @value: (nullable): the new value, or %NULL to reset the field to its
 *   default
 * @error: return location for a #GError
 *
 * Sets a field after checking its value.
 *
 * Values are strings, as in CDO:
 *
 * - ports: a number from 1 to 65535;
 * - booleans: `true` or `false`, `1` or `0`, `yes` or `no`, in any case
 *   (CDO's `True` and `False` included);
 * - enumerations: the name (in any case) or CDO's number, e.g.
 *   `smtpauthenticate` is `anonymous` (0), `basic` (1) or `ntlm` (2);
 *   `smtpstarttls` is `never` (0), `opportunistic` (1) or `required` (2);
 * - `sendusing` and `postusing`: CDO's 1 (`pickup`), 2 (`smtp` for
 *   `sendusing`, `nntp` for `postusing`) or the name of any transport;
 * - times: a non-negative number of seconds, fractions allowed (`0.25`);
 * - strings: anything without control characters (CR, LF, TAB, NUL…).
 *
 * An unknown field name is %MSG_CONFIGURATION_ERROR_UNKNOWN_FIELD (CDO
 * silently ignored such names); a bad value is
 * %MSG_CONFIGURATION_ERROR_INVALID_VALUE, whose message quotes the value
 * unless the field is a password.
 *
 * Returns: %TRUE if the field was set
 */
gboolean
msg_configuration_set_field (MsgConfiguration *self,
                             const char       *name,
                             const char       *value,
                             GError          **error)
{
  const FieldDef *def;
  char           *canonical = NULL;

  g_return_val_if_fail (MSG_IS_CONFIGURATION (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  def = lookup_field (name);
  if (def == NULL)
    {
      set_unknown_field_error (error, name);
      return FALSE;
    }
  if (value != NULL && !validate_value (def, value, &canonical, error))
    return FALSE;

  g_mutex_lock (&self->lock);
  if (canonical != NULL)
    g_hash_table_replace (self->values, g_strdup (def->name), canonical);
  else
    g_hash_table_remove (self->values, def->name);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/**
 * msg_configuration_reset_field:
 * @self: a configuration
 * @name: a field name
 * @error: return location for a #GError
 *
 * Gives a field back its default value, as setting it to %NULL does.
 *
 * Returns: %TRUE if the field exists
 */
gboolean
msg_configuration_reset_field (MsgConfiguration *self,
                               const char       *name,
                               GError          **error)
{
  return msg_configuration_set_field (self, name, NULL, error);
}

/**
 * msg_configuration_get_field:
 * @self: a configuration
 * @name: a field name
 *
 * Gets the effective value of a field: the value set, else the default.
 *
 * Values come back in their canonical form: booleans as `true` or `false`,
 * enumerations as names (`basic`, `required`, `smtp`), numbers in decimal.
 * Passwords are write-only: for them this returns %NULL; transports use
 * [method@Configuration.get_secret].
 *
 * Asking for an unknown field logs a warning and returns %NULL.
 *
 * Returns: (transfer full) (nullable): the value, or %NULL if the field
 *   is unset and has no default
 */
char *
msg_configuration_get_field (MsgConfiguration *self,
                             const char       *name)
{
  const FieldDef *def;

  g_return_val_if_fail (MSG_IS_CONFIGURATION (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  def = lookup_field_for_read (name);
  if (def == NULL || def->type == MSG_FIELD_TYPE_SECRET)
    return NULL;
  return dup_value (self, def);
}

/**
 * msg_configuration_get_secret:
 * @self: a configuration
 * @name: a field name, such as `sendpassword`
 *
 * Gets the value of a field, even a write-only one such as a password.
 *
 * This is for transport implementations, which need the password to
 * authenticate; never log or display what it returns.
 *
 * Returns: (transfer full) (nullable): the value, or %NULL if the field
 *   is unset and has no default
 */
char *
msg_configuration_get_secret (MsgConfiguration *self,
                              const char       *name)
{
  const FieldDef *def;

  g_return_val_if_fail (MSG_IS_CONFIGURATION (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  def = lookup_field_for_read (name);
  if (def == NULL)
    return NULL;
  return dup_value (self, def);
}

/**
 * msg_configuration_is_field_set:
 * @self: a configuration
 * @name: a field name
 *
 * Tells whether a field was set (by [method@Configuration.set_field] or a
 * configuration file), as opposed to having its default value.
 *
 * Returns: %TRUE if the field has a value of its own
 */
gboolean
msg_configuration_is_field_set (MsgConfiguration *self,
                                const char       *name)
{
  const FieldDef *def;
  gboolean        set;

  g_return_val_if_fail (MSG_IS_CONFIGURATION (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  def = lookup_field_for_read (name);
  if (def == NULL)
    return FALSE;
  g_mutex_lock (&self->lock);
  set = g_hash_table_contains (self->values, def->name);
  g_mutex_unlock (&self->lock);
  return set;
}

static gint64
value_to_int (const FieldDef *def,
              const char     *value)
{
  gint64   n = 0;
  gboolean b;
  double   d;

  switch (def->type)
    {
    case MSG_FIELD_TYPE_BOOLEAN:
      return parse_boolean (value, &b) && b ? 1 : 0;
    case MSG_FIELD_TYPE_SECONDS:
      if (!parse_seconds (value, &d))
        return 0;
      return (gint64) MIN (d, (double) G_MAXINT);
    case MSG_FIELD_TYPE_ENUM:
      if (def->check == CHECK_SEND_USING || def->check == CHECK_POST_USING)
        {
          if (strcmp (value, "pickup") == 0)
            return 1;
          if (strcmp (value, def->check == CHECK_SEND_USING ? "smtp" : "nntp") == 0)
            return 2;
          return 0;
        }
      for (gsize i = 0; def->choices[i] != NULL; i++)
        if (strcmp (value, def->choices[i]) == 0)
          return (gint64) i;
      return 0;
    case MSG_FIELD_TYPE_INT:
    case MSG_FIELD_TYPE_STRING:
    case MSG_FIELD_TYPE_SECRET:
    case MSG_FIELD_TYPE_PATH:
    default:
      return parse_int (value, G_MININT, G_MAXINT, &n) ? n : 0;
    }
}

/**
 * msg_configuration_get_int:
 * @self: a configuration
 * @name: a field name
 *
 * Gets the effective value of a field as an integer.
 *
 * For a port or another number, the number; for an enumeration, CDO's
 * number (`smtpauthenticate`: 0 anonymous, 1 basic, 2 NTLM;
 * `smtpstarttls` and `nntpstarttls`: a #MsgStartTlsMode); for `sendusing`
 * and `postusing`, 1 for `pickup`, 2 for `smtp` (or `nntp` for
 * `postusing`) and 0 for another transport; for a boolean, 1 or 0; for a
 * time, the whole seconds.
 *
 * Returns: the value, or 0 if the field is unset and has no default or is
 *   not a number
 */
int
msg_configuration_get_int (MsgConfiguration *self,
                           const char       *name)
{
  const FieldDef  *def;
  g_autofree char *value = NULL;

  g_return_val_if_fail (MSG_IS_CONFIGURATION (self), 0);
  g_return_val_if_fail (name != NULL, 0);

  def = lookup_field_for_read (name);
  if (def == NULL)
    return 0;
  value = dup_value (self, def);
  if (value == NULL)
    return 0;
  return (int) value_to_int (def, value);
}

/**
 * msg_configuration_get_boolean:
 * @self: a configuration
 * @name: a field name
 *
 * Gets the effective value of a boolean field. For a numeric field,
 * %TRUE if the value is not zero.
 *
 * Returns: the value, or %FALSE if the field is unset and has no default
 */
gboolean
msg_configuration_get_boolean (MsgConfiguration *self,
                               const char       *name)
{
  const FieldDef  *def;
  g_autofree char *value = NULL;
  gboolean         b = FALSE;

  g_return_val_if_fail (MSG_IS_CONFIGURATION (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  def = lookup_field_for_read (name);
  if (def == NULL)
    return FALSE;
  value = dup_value (self, def);
  if (value == NULL)
    return FALSE;
  switch (def->type)
    {
    case MSG_FIELD_TYPE_INT:
    case MSG_FIELD_TYPE_ENUM:
      return value_to_int (def, value) != 0;
    case MSG_FIELD_TYPE_SECONDS:
      {
        double d;

        return parse_seconds (value, &d) && d != 0;
      }
    case MSG_FIELD_TYPE_BOOLEAN:
    case MSG_FIELD_TYPE_STRING:
    case MSG_FIELD_TYPE_SECRET:
    case MSG_FIELD_TYPE_PATH:
    default:
      return parse_boolean (value, &b) && b;
    }
}

/**
 * msg_configuration_get_seconds:
 * @self: a configuration
 * @name: a field name, such as `smtpconnectiontimeout`
 *
 * Gets the effective value of a time field, in seconds, fractions
 * included (0.25 is a quarter of a second). For an integer field, its
 * value.
 *
 * Returns: the number of seconds, or 0 if the field is unset and has no
 *   default
 */
double
msg_configuration_get_seconds (MsgConfiguration *self,
                               const char       *name)
{
  const FieldDef  *def;
  g_autofree char *value = NULL;
  double           d = 0;

  g_return_val_if_fail (MSG_IS_CONFIGURATION (self), 0);
  g_return_val_if_fail (name != NULL, 0);

  def = lookup_field_for_read (name);
  if (def == NULL)
    return 0;
  value = dup_value (self, def);
  if (value == NULL)
    return 0;
  if (def->type == MSG_FIELD_TYPE_SECONDS)
    return parse_seconds (value, &d) ? d : 0;
  return (double) value_to_int (def, value);
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

  _msg_transports_ensure_loaded ();

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

  return lookup_field (name) != NULL;
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
  const FieldDef *def;

  g_return_val_if_fail (name != NULL, MSG_FIELD_TYPE_STRING);

  def = lookup_field_for_read (name);
  if (def == NULL)
    return MSG_FIELD_TYPE_STRING;
  return def->type;
}

static gboolean
registration_error (GError    **error,
                    const char *name,
                    const char *reason)
{
  g_autofree char *quoted = quote_value (name);

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
  FieldDef        *def;
  const FieldDef  *existing;
  g_autofree char *canonical = NULL;
  FieldDef         probe = { 0 };

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
  if (default_value != NULL && !validate_value (&probe, default_value, &canonical, error))
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

  def = g_new0 (FieldDef, 1);
  def->name = g_strdup (name);
  def->type = type;
  def->check = CHECK_BY_TYPE;
  def->default_value = g_steal_pointer (&canonical);
  def->choices = (const char *const *) g_strdupv ((char **) choices);
  def->builtin = FALSE;
  g_hash_table_insert (registry, (gpointer) def->name, def);
  g_mutex_unlock (&registry_lock);
  return TRUE;
}
