/* msg-configuration-keyfile.c: loads configuration files
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-configuration-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Configuration files larger than this are refused. */
#define MAX_FILE_SIZE (1024 * 1024)

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
              g_autofree char *quoted = _msg_configuration_quote_value (name);
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

/* A file that holds a secret must be readable by its owner only, and
 * owned by the effective user (or root): otherwise other users can read
 * the password, or whoever owns the file chooses the server it goes to
 * (issue 14, item 5). @st is NULL for data that came from no file. */
static gboolean
check_secret_file (const GStatBuf *st,
                   const char     *display_name,
                   const char     *field,
                   GError        **error)
{
  if (st == NULL)
    return TRUE;
  if (st->st_uid != geteuid () && st->st_uid != 0)
    {
      g_set_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_PARSE,
                   "The configuration file “%s” holds the secret “%s” but is owned by another "
                   "user (uid %u): refusing to use it (the file must be yours: chown it, or "
                   "keep the secret elsewhere)",
                   display_name, field, (unsigned) st->st_uid);
      return FALSE;
    }
  if ((st->st_mode & (S_IRWXG | S_IRWXO)) != 0)
    {
      g_set_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_PARSE,
                   "The configuration file “%s” holds the secret “%s” but other users have "
                   "access to it (mode %04o): refusing to use it; run chmod 600 on it",
                   display_name, field, (unsigned) (st->st_mode & 07777));
      return FALSE;
    }
  return TRUE;
}

static gboolean
load_key_file (MsgConfiguration *self,
               const char       *data,
               gsize             length,
               const char       *display_name,
               const GStatBuf   *st,
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

  pending = _msg_configuration_values_table_new ();
  for (guint i = 0; i < key_lines->len; i++)
    {
      const KeyLine     *kl = g_ptr_array_index (key_lines, i);
      const MsgFieldDef *def = _msg_configuration_lookup_field (kl->key);
      g_autofree char   *where = location_prefix (display_name, kl->line);
      g_autofree char   *canonical = NULL;
      char              *raw;

      if (def == NULL)
        {
          _msg_configuration_set_unknown_field_error (error, kl->key);
          g_prefix_error (error, "%s", where);
          return FALSE;
        }
      if (def->type == MSG_FIELD_TYPE_SECRET && !check_secret_file (st, display_name, def->name, error))
        return FALSE;
      /* GKeyFile keeps the last value of a repeated key. */
      if (GPOINTER_TO_INT (g_hash_table_lookup (last_lines, kl->key)) != kl->line)
        continue;

      raw = g_key_file_get_string (key_file, "configuration", kl->key, &local_error);
      if (local_error != NULL)
        {
          /* GKeyFile's message is not quoted: it may hold a password. */
          _msg_configuration_wipe_free (raw);
          g_set_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_PARSE,
                       "%sfield “%s”: the value has an invalid escape sequence "
                       "(the escapes are \\s, \\n, \\t, \\r and \\\\)",
                       where, def->name);
          return FALSE;
        }
      if (!_msg_configuration_validate_value (def, raw, &canonical, error))
        {
          _msg_configuration_wipe_free (raw);
          g_prefix_error (error, "%s", where);
          return FALSE;
        }
      _msg_configuration_wipe_free (raw);
      g_hash_table_replace (pending, g_strdup (def->name), g_steal_pointer (&canonical));
    }

  g_mutex_lock (&self->lock);
  g_hash_table_iter_init (&iter, pending);
  while (g_hash_table_iter_next (&iter, &key, &value))
    {
      g_hash_table_iter_steal (&iter);
      g_hash_table_replace (_msg_configuration_values_for_write_locked (self), key, value);
    }
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/* Reads the regular file @fd up to MAX_FILE_SIZE bytes (@size is what
 * fstat said; the file may have changed since); NULL with errno set on an
 * error. */
static char *
read_all (int    fd,
          gsize  size,
          gsize *length)
{
  gsize  capacity = MIN (size, (gsize) MAX_FILE_SIZE) + 1;
  char  *buffer = g_malloc (capacity + 1);
  gsize  used = 0;
  gssize n;

  for (;;)
    {
      if (used == capacity)
        {
          if (capacity > MAX_FILE_SIZE)
            {
              g_free (buffer);
              errno = EFBIG;
              return NULL;
            }
          capacity = MIN (capacity * 2, (gsize) MAX_FILE_SIZE + 1);
          buffer = g_realloc (buffer, capacity + 1);
        }
      n = read (fd, buffer + used, capacity - used);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;

          g_free (buffer);
          errno = saved_errno;
          return NULL;
        }
      if (n == 0)
        break;
      used += (gsize) n;
    }
  buffer[used] = '\0';
  *length = used;
  return buffer;
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
 * A file that sets a secret field (`sendpassword`, `postpassword`) must be
 * owned by the effective user (or root) and give no access to group or
 * others (`chmod 600`); otherwise loading fails with
 * %MSG_CONFIGURATION_ERROR_PARSE naming the file and the fix.
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
  GStatBuf         st;
  gsize            length = 0;
  gboolean         ok;
  int              fd;

  g_return_val_if_fail (MSG_IS_CONFIGURATION (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  display_name = g_filename_display_name (path);
  /* One descriptor for the checks and the read, so that the file checked
   * is the file read. */
  fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0);
  if (fd < 0 || fstat (fd, &st) != 0)
    {
      int saved_errno = errno;

      if (fd >= 0)
        close (fd);
      g_set_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_PARSE,
                   "Cannot read the configuration file “%s”: %s",
                   display_name, g_strerror (saved_errno));
      return FALSE;
    }
  if (!S_ISREG (st.st_mode))
    {
      close (fd);
      g_set_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_PARSE,
                   "Cannot read the configuration file “%s”: not a regular file",
                   display_name);
      return FALSE;
    }
  if (st.st_size > MAX_FILE_SIZE)
    {
      close (fd);
      g_set_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_PARSE,
                   "The configuration file “%s” is larger than %d bytes",
                   display_name, MAX_FILE_SIZE);
      return FALSE;
    }
  contents = read_all (fd, (gsize) st.st_size, &length);
  if (contents == NULL)
    {
      int saved_errno = errno;

      close (fd);
      g_set_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_PARSE,
                   "Cannot read the configuration file “%s”: %s",
                   display_name, g_strerror (saved_errno));
      return FALSE;
    }
  close (fd);
  ok = load_key_file (self, contents, length, display_name, &st, error);
  explicit_bzero (contents, length);
  return ok;
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
  return load_key_file (self, data, length, NULL, NULL, error);
}
