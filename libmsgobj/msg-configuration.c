/* msg-configuration.c: CDO's Configuration object
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "msg-configuration-private.h"

#include "msg-user-dirs-private.h"

#include <stdlib.h>
#include <string.h>

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
void
_msg_configuration_wipe_free (gpointer data)
{
  volatile char *p = data;

  if (p == NULL)
    return;
  while (*p != '\0')
    *p++ = '\0';
  g_free (data);
}

GHashTable *
_msg_configuration_values_table_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, _msg_configuration_wipe_free);
}

/* The values table, made this configuration's own first if a copy shares
 * it. Must be called with the lock held. */
GHashTable *
_msg_configuration_values_for_write_locked (MsgConfiguration *self)
{
  GHashTable    *own;
  GHashTableIter iter;
  gpointer       key, value;

  if (!self->shared)
    return self->values;
  own = _msg_configuration_values_table_new ();
  g_hash_table_iter_init (&iter, self->values);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (own, g_strdup (key), g_strdup (value));
  g_hash_table_unref (self->values);
  self->values = own;
  self->shared = FALSE;
  return own;
}

/* The fields whose effective value depends on the server field: a
 * "host:port" server gives the port, and a server set while the transport
 * was never chosen chooses the network transport (docs/configuration.md,
 * "Differences from CDO"). */
typedef struct
{
  const char *server;
  const char *port;
  const char *using;
  const char *network;
} ServerFields;

static const ServerFields server_fields[] = {
  { "smtpserver", "smtpserverport", "sendusing", "smtp" },
  { "nntpserver", "nntpserverport", "postusing", "nntp" },
};

/* Looks up @name in the server fields; @role is set to the member of the
 * returned entry that @name is. */
static const ServerFields *
find_server_fields (const char  *name,
                    const char **role)
{
  for (gsize i = 0; i < G_N_ELEMENTS (server_fields); i++)
    {
      const ServerFields *f = &server_fields[i];
      const char *const   members[] = { f->server, f->port, f->using };

      for (gsize j = 0; j < G_N_ELEMENTS (members); j++)
        {
          if (strcmp (name, members[j]) == 0)
            {
              *role = members[j];
              return f;
            }
        }
    }
  return NULL;
}

/* The value of a field that derives from its server field, or NULL.
 * Must be called with the lock held. */
static char *
derived_value_locked (MsgConfiguration  *self,
                      const MsgFieldDef *def,
                      const char        *stored)
{
  const char         *role = NULL;
  const ServerFields *f;
  const char         *server;
  g_autofree char    *host = NULL;
  const char         *reason;
  guint16             port = 0;

  /* Only the server, port and sendusing/postusing fields derive. */
  if (def->check != MSG_FIELD_CHECK_HOST_LIST && def->check != MSG_FIELD_CHECK_HOST &&
      def->check != MSG_FIELD_CHECK_PORT && def->check != MSG_FIELD_CHECK_SEND_USING &&
      def->check != MSG_FIELD_CHECK_POST_USING)
    return NULL;
  f = find_server_fields (def->name, &role);
  if (f == NULL)
    return NULL;
  server = g_hash_table_lookup (self->values, f->server);
  if (server == NULL || server[0] == '\0')
    return NULL;
  if (role == f->using)
    return stored == NULL ? g_strdup (f->network) : NULL;
  if (!_msg_configuration_split_server (server, &host, &port, &reason))
    return NULL;
  if (role == f->server)
    return g_steal_pointer (&host);
  return port != 0 ? g_strdup_printf ("%u", port) : NULL;
}

/* The effective value of a field, secrets included, valid while the lock
 * is held; *@derived is what to free after (a value computed from the
 * server field). Must be called with the lock held. */
static const char *
peek_value_locked (MsgConfiguration  *self,
                   const MsgFieldDef *def,
                   char             **derived)
{
  const char *value = g_hash_table_lookup (self->values, def->name);

  *derived = derived_value_locked (self, def, value);
  if (*derived != NULL)
    return *derived;
  return value != NULL ? value : def->default_value;
}

/* The effective value of a field, secrets included. */
static char *
dup_value (MsgConfiguration  *self,
           const MsgFieldDef *def)
{
  char       *derived;
  const char *value;
  char       *copy;

  g_mutex_lock (&self->lock);
  value = peek_value_locked (self, def, &derived);
  copy = derived != NULL ? g_steal_pointer (&derived) : g_strdup (value);
  g_mutex_unlock (&self->lock);
  return copy;
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
  self->values = _msg_configuration_values_table_new ();
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
 * Programs running with elevated privileges (setuid, setgid: the kernel's
 * `AT_SECURE`) ignore `MSGOBJ_CONFIG` and `XDG_CONFIG_HOME`, and look in
 * `.config` under the effective user's home directory.
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
      g_autofree char *dir = _msg_get_user_dir (MSG_USER_DIR_CONFIG);
      g_autofree char *path = g_build_filename (dir, "msgobj", "msgobj.conf", NULL);

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

  g_return_val_if_fail (MSG_IS_CONFIGURATION (self), NULL);

  copy = msg_configuration_new ();
  /* Copied on the first change of either (a snapshot per operation costs
   * no copy of the values). */
  g_mutex_lock (&self->lock);
  g_hash_table_unref (copy->values);
  copy->values = g_hash_table_ref (self->values);
  copy->shared = TRUE;
  self->shared = TRUE;
  g_mutex_unlock (&self->lock);
  return copy;
}

/* @self's values, frozen: marked shared, so that a later change of @self
 * copies them first and the returned table never changes. */
static GHashTable *
ref_frozen_values (MsgConfiguration *self)
{
  GHashTable *values;

  g_mutex_lock (&self->lock);
  self->shared = TRUE;
  values = g_hash_table_ref (self->values);
  g_mutex_unlock (&self->lock);
  return values;
}

/**
 * msg_configuration_equal:
 * @self: a configuration
 * @other: another configuration
 *
 * Tells whether two configurations give every field the same value: the
 * same fields set, to the same values once checked and written in their
 * canonical form (`True` and `1` are the same boolean; numbers of seconds
 * are compared as written). A field set to its default value is not the
 * same as one left unset. A copy equals its
 * original until either changes, and telling so costs no comparison of
 * values. Transports use it to keep what they read from the settings of
 * one operation for the next (see
 * [method@Transport.get_operation_configuration]).
 *
 * Returns: %TRUE if @self and @other hold the same values
 */
gboolean
msg_configuration_equal (MsgConfiguration *self,
                         MsgConfiguration *other)
{
  g_autoptr (GHashTable) a = NULL;
  g_autoptr (GHashTable) b = NULL;
  GHashTableIter iter;
  gpointer       key, value;

  g_return_val_if_fail (MSG_IS_CONFIGURATION (self), FALSE);
  g_return_val_if_fail (MSG_IS_CONFIGURATION (other), FALSE);

  if (self == other)
    return TRUE;
  /* One lock at a time: no order between two configurations' locks. */
  a = ref_frozen_values (self);
  b = ref_frozen_values (other);
  if (a == b)
    return TRUE;
  if (g_hash_table_size (a) != g_hash_table_size (b))
    return FALSE;
  g_hash_table_iter_init (&iter, a);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (g_strcmp0 (value, g_hash_table_lookup (b, key)) != 0)
      return FALSE;
  return TRUE;
}

/* Stores @canonical (owned; NULL resets). Must be called with the lock held. */
static void
store_locked (MsgConfiguration  *self,
              const MsgFieldDef *def,
              char              *canonical)
{
  GHashTable *values = _msg_configuration_values_for_write_locked (self);

  if (canonical != NULL)
    g_hash_table_replace (values, g_strdup (def->name), canonical);
  else
    g_hash_table_remove (values, def->name);
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
 * - `smtpserver` and `nntpserver`: a host name, an IPv4 address or a
 *   bracketed IPv6 address, optionally followed by `:PORT`, which then
 *   overrides the port field; setting one while `sendusing` (`postusing`)
 *   was never set makes `smtp` (`nntp`) that field's default.
 *
 * From bindings, [method@Configuration.set_field_value] and
 * [method@Configuration.set_fields] take typed values (integers,
 * booleans, numbers).
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
  const MsgFieldDef *def;
  char              *canonical = NULL;

  g_return_val_if_fail (MSG_IS_CONFIGURATION (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  def = _msg_configuration_lookup_field (name);
  if (def == NULL)
    {
      _msg_configuration_set_unknown_field_error (error, name);
      return FALSE;
    }
  if (value != NULL && !_msg_configuration_validate_value (def, value, &canonical, error))
    return FALSE;

  g_mutex_lock (&self->lock);
  store_locked (self, def, canonical);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/* The string form of a typed value for the field @def, before the usual
 * validation: a string as it is; a boolean for a boolean field; an integer
 * for a number, an enumeration (CDO's number), a time, a boolean (0 or 1)
 * or sendusing/postusing; a floating-point number for a time. */
static gboolean
typed_value_to_string (const MsgFieldDef *def,
                       const GValue      *value,
                       char             **out,
                       GError           **error)
{
  GValue      as_int64 = G_VALUE_INIT;
  const char *expected;
  gboolean    numeric = def->type == MSG_FIELD_TYPE_INT || def->type == MSG_FIELD_TYPE_ENUM ||
                     def->type == MSG_FIELD_TYPE_SECONDS || def->type == MSG_FIELD_TYPE_BOOLEAN;

  *out = NULL;
  if (G_VALUE_HOLDS_STRING (value))
    {
      *out = g_value_dup_string (value);
      return TRUE;
    }
  if (G_VALUE_HOLDS_BOOLEAN (value) && def->type == MSG_FIELD_TYPE_BOOLEAN)
    {
      *out = g_strdup (g_value_get_boolean (value) ? "true" : "false");
      return TRUE;
    }
  if ((G_VALUE_HOLDS_DOUBLE (value) || G_VALUE_HOLDS_FLOAT (value)) &&
      def->type == MSG_FIELD_TYPE_SECONDS)
    {
      char   buffer[G_ASCII_DTOSTR_BUF_SIZE];
      double d = G_VALUE_HOLDS_DOUBLE (value) ? g_value_get_double (value) : g_value_get_float (value);

      /* The validator refuses what is negative, NaN or infinite. */
      *out = g_strdup (g_ascii_dtostr (buffer, sizeof buffer, d));
      return TRUE;
    }
  if (numeric && !G_VALUE_HOLDS_BOOLEAN (value) && !G_VALUE_HOLDS_DOUBLE (value) &&
      !G_VALUE_HOLDS_FLOAT (value) && g_value_type_transformable (G_VALUE_TYPE (value), G_TYPE_INT64))
    {
      g_value_init (&as_int64, G_TYPE_INT64);
      g_value_transform (value, &as_int64);
      *out = g_strdup_printf ("%" G_GINT64_FORMAT, g_value_get_int64 (&as_int64));
      g_value_unset (&as_int64);
      return TRUE;
    }

  switch (def->type)
    {
    case MSG_FIELD_TYPE_INT:
      expected = "an integer or a string";
      break;
    case MSG_FIELD_TYPE_BOOLEAN:
      expected = "a boolean, 0, 1 or a string";
      break;
    case MSG_FIELD_TYPE_SECONDS:
      expected = "a number of seconds or a string";
      break;
    case MSG_FIELD_TYPE_ENUM:
      expected = "an integer (CDO's number) or a string";
      break;
    case MSG_FIELD_TYPE_STRING:
    case MSG_FIELD_TYPE_SECRET:
    case MSG_FIELD_TYPE_PATH:
    default:
      expected = "a string";
      break;
    }
  g_set_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE,
               "Invalid value for configuration field “%s”: expected %s, not a value of type %s",
               def->name, expected, G_VALUE_TYPE_NAME (value));
  return FALSE;
}

/* Checks a typed value (NULL: reset) for the field @name; on success
 * *def is the field and *canonical the value to store (NULL: reset). */
static gboolean
check_typed_value (const char         *name,
                   const GValue       *value,
                   const MsgFieldDef **def,
                   char              **canonical,
                   GError            **error)
{
  g_autofree char *text = NULL;
  gboolean         ok;

  *canonical = NULL;
  *def = _msg_configuration_lookup_field (name);
  if (*def == NULL)
    {
      _msg_configuration_set_unknown_field_error (error, name);
      return FALSE;
    }
  if (value == NULL || !G_IS_VALUE (value))
    return TRUE;
  if (!typed_value_to_string (*def, value, &text, error))
    return FALSE;
  if (text == NULL)
    return TRUE;
  ok = _msg_configuration_validate_value (*def, text, canonical, error);
  if ((*def)->type == MSG_FIELD_TYPE_SECRET)
    _msg_configuration_wipe_free (g_steal_pointer (&text));
  return ok;
}

/**
 * msg_configuration_set_field_value:
 * @self: a configuration
 * @name: a field name: a short name such as `smtpserverport` or a CDO URN
 * @value: (nullable): the new value, or %NULL to reset the field to its
 *   default
 * @error: return location for a #GError
 *
 * Sets a field from a typed value, as bindings pass it: Python's
 * `cfg.set_field_value("smtpserverport", 2525)` or
 * `cfg.set_field_value("tlsverify", False)`, JavaScript's
 * `cfg.set_field_value('smtpconnectiontimeout', 2.5)`.
 *
 * The value is converted by the field's type, then checked as
 * [method@Configuration.set_field] checks a string:
 *
 * - a string: as [method@Configuration.set_field];
 * - a boolean: for a boolean field;
 * - an integer (of any integer or enumeration type): for a port, a number,
 *   a boolean field (0 or 1), a time, an enumeration (CDO's number, such
 *   as a #MsgStartTlsMode for `smtpstarttls`), `sendusing` and `postusing`
 *   (1 or 2);
 * - a floating-point number: for a time.
 *
 * Any other type, or a value the field refuses, is
 * %MSG_CONFIGURATION_ERROR_INVALID_VALUE (a `GLib.Error` in Python and
 * JavaScript); the field keeps its value.
 *
 * Returns: %TRUE if the field was set
 */
gboolean
msg_configuration_set_field_value (MsgConfiguration *self,
                                   const char       *name,
                                   const GValue     *value,
                                   GError          **error)
{
  const MsgFieldDef *def;
  char              *canonical;

  g_return_val_if_fail (MSG_IS_CONFIGURATION (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!check_typed_value (name, value, &def, &canonical, error))
    return FALSE;
  g_mutex_lock (&self->lock);
  store_locked (self, def, canonical);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/**
 * msg_configuration_set_fields:
 * @self: a configuration
 * @fields: (element-type utf8 GValue): field names and their typed values,
 *   as for [method@Configuration.set_field_value]
 * @error: return location for a #GError
 *
 * Sets several fields at once, from a dictionary in bindings:
 *
 * ```python
 * cfg.set_fields({"smtpserver": "127.0.0.1", "smtpserverport": 2525,
 *                 "smtpusessl": False, "smtpconnectiontimeout": 2.5})
 * ```
 *
 * All or nothing: every value is checked first, and if one is refused
 * (an unknown name, a bad value), no field changes and the error names
 * that field.
 *
 * Returns: %TRUE if every field was set
 */
gboolean
msg_configuration_set_fields (MsgConfiguration *self,
                              GHashTable       *fields,
                              GError          **error)
{
  g_autoptr (GPtrArray) defs = g_ptr_array_new ();
  g_autoptr (GPtrArray) values = g_ptr_array_new_with_free_func (_msg_configuration_wipe_free);
  GHashTableIter iter;
  gpointer       key, value;

  g_return_val_if_fail (MSG_IS_CONFIGURATION (self), FALSE);
  g_return_val_if_fail (fields != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  g_hash_table_iter_init (&iter, fields);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      const MsgFieldDef *def;
      char              *canonical;

      if (!check_typed_value (key, value, &def, &canonical, error))
        return FALSE;
      g_ptr_array_add (defs, (gpointer) def);
      g_ptr_array_add (values, canonical);
    }

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < defs->len; i++)
    store_locked (self, defs->pdata[i], g_steal_pointer (&values->pdata[i]));
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
  const MsgFieldDef *def;

  g_return_val_if_fail (MSG_IS_CONFIGURATION (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  def = _msg_configuration_lookup_field_for_read (name);
  if (def == NULL || def->type == MSG_FIELD_TYPE_SECRET)
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
  const MsgFieldDef *def;
  gboolean           set;

  g_return_val_if_fail (MSG_IS_CONFIGURATION (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  def = _msg_configuration_lookup_field_for_read (name);
  if (def == NULL)
    return FALSE;
  g_mutex_lock (&self->lock);
  set = g_hash_table_contains (self->values, def->name);
  if (!set)
    {
      g_autofree char    *derived = derived_value_locked (self, def, NULL);
      const char         *role = NULL;
      const ServerFields *f = find_server_fields (def->name, &role);

      /* A port given in the server field counts as set; a transport chosen
       * by setting the server does not (it is a default). */
      set = derived != NULL && f != NULL && role == f->port;
    }
  g_mutex_unlock (&self->lock);
  return set;
}

static gint64
value_to_int (const MsgFieldDef *def,
              const char        *value)
{
  gint64   n = 0;
  gboolean b;
  double   d;

  switch (def->type)
    {
    case MSG_FIELD_TYPE_BOOLEAN:
      return _msg_configuration_parse_boolean (value, &b) && b ? 1 : 0;
    case MSG_FIELD_TYPE_SECONDS:
      if (!_msg_configuration_parse_seconds (value, &d))
        return 0;
      return (gint64) MIN (d, (double) G_MAXINT);
    case MSG_FIELD_TYPE_ENUM:
      if (def->check == MSG_FIELD_CHECK_SEND_USING || def->check == MSG_FIELD_CHECK_POST_USING)
        {
          if (strcmp (value, "pickup") == 0)
            return 1;
          if (strcmp (value, def->check == MSG_FIELD_CHECK_SEND_USING ? "smtp" : "nntp") == 0)
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
      return _msg_configuration_parse_int (value, G_MININT, G_MAXINT, &n) ? n : 0;
    }
}

static gboolean
value_to_boolean (const MsgFieldDef *def,
                  const char        *value)
{
  gboolean b = FALSE;
  double   d;

  switch (def->type)
    {
    case MSG_FIELD_TYPE_INT:
    case MSG_FIELD_TYPE_ENUM:
      return value_to_int (def, value) != 0;
    case MSG_FIELD_TYPE_SECONDS:
      return _msg_configuration_parse_seconds (value, &d) && d != 0;
    case MSG_FIELD_TYPE_BOOLEAN:
    case MSG_FIELD_TYPE_STRING:
    case MSG_FIELD_TYPE_SECRET:
    case MSG_FIELD_TYPE_PATH:
    default:
      return _msg_configuration_parse_boolean (value, &b) && b;
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
  const MsgFieldDef *def;
  g_autofree char   *derived = NULL;
  const char        *value;
  int                n = 0;

  g_return_val_if_fail (MSG_IS_CONFIGURATION (self), 0);
  g_return_val_if_fail (name != NULL, 0);

  def = _msg_configuration_lookup_field_for_read (name);
  if (def == NULL)
    return 0;
  g_mutex_lock (&self->lock);
  value = peek_value_locked (self, def, &derived);
  if (value != NULL)
    n = (int) value_to_int (def, value);
  g_mutex_unlock (&self->lock);
  return n;
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
  const MsgFieldDef *def;
  g_autofree char   *derived = NULL;
  const char        *value;
  gboolean           b = FALSE;

  g_return_val_if_fail (MSG_IS_CONFIGURATION (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  def = _msg_configuration_lookup_field_for_read (name);
  if (def == NULL)
    return FALSE;
  g_mutex_lock (&self->lock);
  value = peek_value_locked (self, def, &derived);
  if (value != NULL)
    b = value_to_boolean (def, value);
  g_mutex_unlock (&self->lock);
  return b;
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
  const MsgFieldDef *def;
  g_autofree char   *derived = NULL;
  const char        *value;
  double             d = 0;

  g_return_val_if_fail (MSG_IS_CONFIGURATION (self), 0);
  g_return_val_if_fail (name != NULL, 0);

  def = _msg_configuration_lookup_field_for_read (name);
  if (def == NULL)
    return 0;
  g_mutex_lock (&self->lock);
  value = peek_value_locked (self, def, &derived);
  if (value != NULL && def->type == MSG_FIELD_TYPE_SECONDS)
    {
      if (!_msg_configuration_parse_seconds (value, &d))
        d = 0;
    }
  else if (value != NULL)
    d = (double) value_to_int (def, value);
  g_mutex_unlock (&self->lock);
  return d;
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
  const MsgFieldDef *def;

  g_return_val_if_fail (MSG_IS_CONFIGURATION (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  def = _msg_configuration_lookup_field_for_read (name);
  if (def == NULL)
    return NULL;
  return dup_value (self, def);
}
