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

/* Modules are loaded by name when a transport is asked for by name
 * (msg_transport_new_for_name(): libmsgobj-NAME.so, as
 * docs/writing-a-transport.md names them), and all of them when every
 * transport or field must be known (docs/design.md, decision 25). The
 * lock is recursive: a module's load function registers its type and
 * fields, which may look the registry up again. */
static GRecMutex   modules_lock;
static GHashTable *loaded_names;   /* (owned): base names of the loaded modules, under modules_lock */
static GList      *loaded_modules; /* (owned) (element-type GIOModule): kept for the process */
static int         all_loaded;     /* atomic; set under modules_lock */

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

/* Loads the module at @path (file name @base in its directory) unless a
 * module of that name was loaded already; called with modules_lock held.
 * Returns whether it is loaded now. */
static gboolean
load_module (const char *path,
             const char *base)
{
  GIOModule *module;
  GModule   *probe;

  /* The first directory of the search path wins, as with GIO's
   * G_IO_MODULE_SCOPE_BLOCK_DUPLICATES. */
  if (g_hash_table_contains (loaded_names, base))
    return TRUE;
  if (!file_is_safe (path) || (probe = open_if_abi_matches (path)) == NULL)
    return FALSE;
  module = g_io_module_new (path);
  if (!g_type_module_use (G_TYPE_MODULE (module)))
    {
      g_warning ("Cannot load the transport module “%s”", path);
      g_object_unref (module);
      g_module_close (probe);
      return FALSE;
    }
  /* GIO's handle keeps it loaded now. */
  g_module_close (probe);
  g_hash_table_add (loaded_names, g_strdup (base));
  loaded_modules = g_list_append (loaded_modules, module);
  return TRUE;
}

static gboolean
directory_is_usable (const char *dir)
{
  return dir != NULL && *dir != '\0' && g_file_test (dir, G_FILE_TEST_IS_DIR) && directory_is_safe (dir);
}

/* Loads the modules in @dir not loaded yet, in the order of their names;
 * called with modules_lock held. */
static void
load_directory (const char *dir)
{
  g_autoptr (GDir) handle = NULL;
  g_autoptr (GPtrArray) names = NULL;
  const char *name;

  if (!directory_is_usable (dir))
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
      g_autofree char *path = g_build_filename (dir, base, NULL);

      load_module (path, base);
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

/* The directories searched, in order: $MSGOBJ_TRANSPORT_PATH's, then the
 * installed transport directory. */
static GStrv
search_path (void)
{
  const char *path = transport_path_env ();
  g_autoptr (GStrvBuilder) dirs = g_strv_builder_new ();

  if (path != NULL)
    {
      g_auto (GStrv) split = g_strsplit (path, G_SEARCHPATH_SEPARATOR_S, -1);

      g_strv_builder_addv (dirs, (const char **) split);
    }
  g_strv_builder_add (dirs, MSGOBJ_TRANSPORT_DIR);
  return g_strv_builder_end (dirs);
}

void
_msg_modules_ensure_registered (void)
{
  static gsize registered = 0;

  if (g_once_init_enter (&registered))
    {
      GIOExtensionPoint *point = g_io_extension_point_register (MSG_TRANSPORT_EXTENSION_POINT_NAME);

      g_io_extension_point_set_required_type (point, MSG_TYPE_TRANSPORT);
      g_type_ensure (_msg_pickup_transport_get_type ());
      loaded_names = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      g_once_init_leave (&registered, 1);
    }
}

/* Loads the module of transport @name (libmsgobj-@name.so) from the first
 * directory of the search path that has one the trust rule accepts;
 * called with modules_lock held. */
static void
load_named (const char *name)
{
  g_autofree char *base = NULL;
  g_auto (GStrv) dirs = NULL;

  /* A name that could not be a file's leaves it to the full scan. */
  if (all_loaded || *name == '\0' || strchr (name, G_DIR_SEPARATOR) != NULL)
    return;
  base = g_strconcat ("libmsgobj-", name, "." G_MODULE_SUFFIX, NULL);
  dirs = search_path ();
  for (guint i = 0; dirs[i] != NULL; i++)
    {
      g_autofree char *path = g_build_filename (dirs[i], base, NULL);

      /* The file first: a directory is checked (and warned about) only if
       * it has one. */
      if (*dirs[i] != '\0' && g_file_test (path, G_FILE_TEST_EXISTS) && directory_is_usable (dirs[i]) &&
          load_module (path, base))
        return;
    }
}

static GIOExtension *
find_extension (const char *name)
{
  return g_io_extension_point_get_extension_by_name (g_io_extension_point_lookup (MSG_TRANSPORT_EXTENSION_POINT_NAME),
                                                     name);
}

GType
_msg_modules_find_transport (const char *name)
{
  GIOExtension *extension;

  _msg_modules_ensure_registered ();
  /* Under the lock: a module being loaded in another thread adds to the
   * extension point's list. */
  g_rec_mutex_lock (&modules_lock);
  extension = find_extension (name);
  if (extension == NULL)
    {
      load_named (name);
      extension = find_extension (name);
    }
  if (extension == NULL)
    {
      _msg_modules_ensure_loaded ();
      extension = find_extension (name);
    }
  g_rec_mutex_unlock (&modules_lock);
  return extension != NULL ? g_io_extension_get_type (extension) : G_TYPE_INVALID;
}

char *
_msg_modules_find_transport_name (GType type)
{
  char *name = NULL;

  _msg_modules_ensure_loaded ();
  g_rec_mutex_lock (&modules_lock);
  for (GList *l = g_io_extension_point_get_extensions (g_io_extension_point_lookup (MSG_TRANSPORT_EXTENSION_POINT_NAME));
       l != NULL && name == NULL; l = l->next)
    if (g_io_extension_get_type (l->data) == type)
      name = g_strdup (g_io_extension_get_name (l->data));
  g_rec_mutex_unlock (&modules_lock);
  return name;
}

GPtrArray *
_msg_modules_list_transports (void)
{
  GPtrArray *names = g_ptr_array_new ();

  _msg_modules_ensure_loaded ();
  g_rec_mutex_lock (&modules_lock);
  for (GList *l = g_io_extension_point_get_extensions (g_io_extension_point_lookup (MSG_TRANSPORT_EXTENSION_POINT_NAME));
       l != NULL; l = l->next)
    g_ptr_array_add (names, g_strdup (g_io_extension_get_name (l->data)));
  g_rec_mutex_unlock (&modules_lock);
  return names;
}

gboolean
_msg_modules_register_transport (const char *name,
                                 GType       type)
{
  gboolean registered = FALSE;

  _msg_modules_ensure_loaded ();
  g_rec_mutex_lock (&modules_lock);
  if (find_extension (name) == NULL)
    {
      g_io_extension_point_implement (MSG_TRANSPORT_EXTENSION_POINT_NAME, type, name, 0);
      registered = TRUE;
    }
  g_rec_mutex_unlock (&modules_lock);
  return registered;
}

void
_msg_modules_ensure_loaded (void)
{
  _msg_modules_ensure_registered ();
  if (g_atomic_int_get (&all_loaded))
    return;
  g_rec_mutex_lock (&modules_lock);
  if (!all_loaded)
    {
      g_auto (GStrv) dirs = search_path ();

      for (guint i = 0; dirs[i] != NULL; i++)
        load_directory (dirs[i]);
      g_atomic_int_set (&all_loaded, TRUE);
    }
  g_rec_mutex_unlock (&modules_lock);
}
