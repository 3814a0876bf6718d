/* msg-optional-module.c: the library's own modules, loaded on first use
 *
 * What needs libsoup, GPGME or libopendkim is built as a module of its
 * own: linked into the library, those and the libraries they need (about
 * twenty, Kerberos and OpenSSL among them, all bound at load) cost every
 * process that uses the library some 10 ms before main(), most of a
 * one-message `msgobj send`; few programs fetch web pages, sign or
 * encrypt (docs/design.md, decision 24).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-optional-module-private.h"

#include "msg-file-utils-private.h"

#include <dlfcn.h>
#include <errno.h>
#include <gio/gio.h>
#include <glib/gstdio.h>
#include <gmodule.h>

typedef struct
{
  char         *name;
  gconstpointer table;
} LoadedModule;

static GMutex  modules_lock;
static GSList *modules; /* (element-type LoadedModule) (owned): never freed, as the modules */

/* The directory of the file this library was loaded from. */
static char *
library_directory (void)
{
  Dl_info info = { 0 };

  if (dladdr ((void *) _msg_optional_module_load, &info) == 0 || info.dli_fname == NULL)
    return NULL;
  return g_path_get_dirname (info.dli_fname);
}

static char *
find_module (const char *file,
             GError    **error)
{
  g_autofree char *directory = library_directory ();
  g_autofree char *built = NULL;
  g_autofree char *installed = NULL;

  if (directory == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "Cannot load the module “%s”: the library does not know where it was loaded from", file);
      return NULL;
    }
  built = g_build_filename (directory, "modules", file, NULL);
  if (g_file_test (built, G_FILE_TEST_IS_REGULAR))
    return g_steal_pointer (&built);
  installed = g_build_filename (directory, MSGOBJ_MODULE_SUBDIR, file, NULL);
  if (g_file_test (installed, G_FILE_TEST_IS_REGULAR))
    return g_steal_pointer (&installed);
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
               "The library's module “%s” is not installed (looked for %s and %s)", file, built, installed);
  return NULL;
}

/* As for transports: loading a module runs its code. */
static gboolean
check_trusted (const char *path,
               const char *module,
               GError    **error)
{
  GStatBuf st;

  if (g_stat (path, &st) != 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved), "Cannot load the library's module “%s”: %s",
                   module, g_strerror (saved));
      return FALSE;
    }
  if (!_msg_file_check_trusted (path, &st, error))
    {
      g_prefix_error (error, "Not loading the library's module “%s”: ", module);
      return FALSE;
    }
  return TRUE;
}

static gconstpointer
open_module (const char   *name,
             gconstpointer host,
             GError      **error)
{
  g_autofree char       *file = g_strdup_printf ("msgobj-%s.so", name);
  g_autofree char       *path = find_module (file, error);
  g_autofree char       *directory = NULL;
  MsgOptionalModuleEntry entry = NULL;
  gconstpointer          table;
  GModule               *module;

  if (path == NULL)
    return NULL;
  directory = g_path_get_dirname (path);
  if (!check_trusted (directory, path, error) || !check_trusted (path, path, error))
    return NULL;
  module = g_module_open (path, G_MODULE_BIND_LOCAL);
  if (module == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "Cannot load the library's module “%s”: %s", path,
                   g_module_error ());
      return NULL;
    }
  if (!g_module_symbol (module, MSG_OPTIONAL_MODULE_ENTRY, (gpointer *) &entry) || entry == NULL ||
      (table = entry (PACKAGE_VERSION, host)) == NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "The library's module “%s” is not from this version of the library (%s)", path,
                   PACKAGE_VERSION);
      g_module_close (module);
      return NULL;
    }
  /* It registers types, which stay. */
  g_module_make_resident (module);
  return table;
}

gconstpointer
_msg_optional_module_load (const char   *name,
                           gconstpointer host,
                           GError      **error)
{
  gconstpointer table = NULL;

  g_mutex_lock (&modules_lock);
  for (GSList *l = modules; l != NULL && table == NULL; l = l->next)
    {
      LoadedModule *loaded = l->data;

      if (g_str_equal (loaded->name, name))
        table = loaded->table;
    }
  if (table == NULL)
    {
      table = open_module (name, host, error);
      if (table != NULL)
        {
          LoadedModule *loaded = g_new (LoadedModule, 1);

          loaded->name = g_strdup (name);
          loaded->table = table;
          modules = g_slist_prepend (modules, loaded);
        }
    }
  g_mutex_unlock (&modules_lock);
  return table;
}
