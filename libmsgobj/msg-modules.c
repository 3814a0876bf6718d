/* msg-modules.c: loads the transport modules, once per process
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-modules-private.h"

#include "msg-file-utils-private.h"

#include "msg-pickup-transport-private.h"
#include "msg-transport.h"

#include <glib/gstdio.h>
#include <gmodule.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* GIO's loader (g_io_modules_load_all_in_directory_with_scope) loads every
 * lib*.so it finds. This one loads a module only from a directory that no
 * other user can write to (a root-owned sticky directory such as /tmp
 * aside, where each file is checked), only a file owned by the effective
 * user or root that no other user can write to, and only if the module
 * states the interface version it was built for
 * (MSG_TRANSPORT_DEFINE_ABI_VERSION): a stale or planted module is refused
 * with a warning that names the file (issue 14, item 11). */

static GList *loaded_modules; /* (owned) (element-type GIOModule): kept for the process */

#define ABI_SYMBOL "msgobj_transport_abi_version"

static gboolean
is_module_name (const char *name)
{
  return g_str_has_prefix (name, "lib") && g_str_has_suffix (name, "." G_MODULE_SUFFIX);
}

static gboolean
directory_is_safe (const char *dir)
{
  g_autoptr (GError) error = NULL;
  GStatBuf st;

  if (g_stat (dir, &st) != 0 || !S_ISDIR (st.st_mode))
    return FALSE;
  if (!_msg_file_check_trusted (dir, &st, &error))
    {
      g_warning ("Not loading transport modules from %s", error->message);
      return FALSE;
    }
  return TRUE;
}

static gboolean
file_is_safe (const char *path)
{
  g_autoptr (GError) error = NULL;
  GStatBuf st;

  if (g_stat (path, &st) != 0 || !S_ISREG (st.st_mode))
    return FALSE;
  if (!_msg_file_check_trusted (path, &st, &error))
    {
      g_warning ("Not loading the transport module %s", error->message);
      return FALSE;
    }
  return TRUE;
}

/* The module at @path, opened, if it states this library's interface
 * version; else NULL. The caller keeps it open while GIO loads the module
 * again: closed in between, the module and every library it needs (GNU
 * SASL's Kerberos, for one) would be unloaded and loaded a second time,
 * which was half of a one-message `msgobj send`'s time in the dynamic
 * loader. */
static GModule *
open_if_abi_matches (const char *path)
{
  GModule *module = g_module_open (path, G_MODULE_BIND_LAZY | G_MODULE_BIND_LOCAL);
  gpointer symbol = NULL;
  gboolean ok = FALSE;

  if (module == NULL)
    {
      g_warning ("Cannot load the transport module “%s”: %s", path, g_module_error ());
      return NULL;
    }
  if (!g_module_symbol (module, ABI_SYMBOL, &symbol) || symbol == NULL)
    g_warning ("Not loading the transport module “%s”: it does not state the interface "
               "version it was built for (" ABI_SYMBOL ", see MSG_TRANSPORT_DEFINE_ABI_VERSION)",
               path);
  else if (*(const unsigned *) symbol != MSG_TRANSPORT_ABI_VERSION)
    g_warning ("Not loading the transport module “%s”: it was built for interface version %u, "
               "this library has version %u",
               path, *(const unsigned *) symbol, (unsigned) MSG_TRANSPORT_ABI_VERSION);
  else
    ok = TRUE;
  if (ok)
    return module;
  g_module_close (module);
  return NULL;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/* Loads the modules in @dir whose base name is not in @seen yet, in the
 * order of their names. */
static void
load_directory (const char *dir,
                GHashTable *seen)
{
  g_autoptr (GDir) handle = NULL;
  g_autoptr (GPtrArray) names = NULL;
  const char *name;

  if (dir == NULL || *dir == '\0' || !g_file_test (dir, G_FILE_TEST_IS_DIR) || !directory_is_safe (dir))
    return;
  handle = g_dir_open (dir, 0, NULL);
  if (handle == NULL)
    return;
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (handle)) != NULL)
    if (is_module_name (name))
      g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_names);

  for (guint i = 0; i < names->len; i++)
    {
      const char      *base = g_ptr_array_index (names, i);
      g_autofree char *path = NULL;
      GIOModule       *module;
      GModule         *probe;

      /* The first directory of the search path wins, as with GIO's
       * G_IO_MODULE_SCOPE_BLOCK_DUPLICATES. */
      if (g_hash_table_contains (seen, base))
        continue;
      path = g_build_filename (dir, base, NULL);
      if (!file_is_safe (path) || (probe = open_if_abi_matches (path)) == NULL)
        continue;
      module = g_io_module_new (path);
      if (!g_type_module_use (G_TYPE_MODULE (module)))
        {
          g_warning ("Cannot load the transport module “%s”", path);
          g_object_unref (module);
          g_module_close (probe);
          continue;
        }
      /* GIO's handle keeps it loaded now. */
      g_module_close (probe);
      g_hash_table_add (seen, g_strdup (base));
      loaded_modules = g_list_append (loaded_modules, module);
    }
}

static const char *
transport_path_env (void)
{
#ifdef HAVE_SECURE_GETENV
  /* Ignored in setuid processes, as GIO does with GIO_EXTRA_MODULES. */
  return secure_getenv ("MSGOBJ_TRANSPORT_PATH");
#else
  return g_getenv ("MSGOBJ_TRANSPORT_PATH");
#endif
}

void
_msg_modules_ensure_loaded (void)
{
  static gsize loaded = 0;

  if (g_once_init_enter (&loaded))
    {
      g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      GIOExtensionPoint *point;
      const char        *path;

      point = g_io_extension_point_register (MSG_TRANSPORT_EXTENSION_POINT_NAME);
      g_io_extension_point_set_required_type (point, MSG_TYPE_TRANSPORT);
      g_type_ensure (_msg_pickup_transport_get_type ());

      path = transport_path_env ();
      if (path != NULL)
        {
          g_auto (GStrv) dirs = g_strsplit (path, G_SEARCHPATH_SEPARATOR_S, -1);

          for (guint i = 0; dirs[i] != NULL; i++)
            load_directory (dirs[i], seen);
        }
      load_directory (MSGOBJ_TRANSPORT_DIR, seen);

      g_once_init_leave (&loaded, 1);
    }
}
