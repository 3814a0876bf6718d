/* msg-modules.c: loads the transport modules, once per process
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-modules-private.h"

#include "msg-pickup-transport-private.h"
#include "msg-transport.h"

#include <stdlib.h>

static GList *loaded_modules; /* (owned) (element-type GIOModule): kept for the process */

static void
load_directory (const char     *dir,
                GIOModuleScope *scope)
{
  GList *modules;

  if (dir == NULL || *dir == '\0' || !g_file_test (dir, G_FILE_TEST_IS_DIR))
    return;
  modules = g_io_modules_load_all_in_directory_with_scope (dir, scope);
  loaded_modules = g_list_concat (loaded_modules, modules);
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
      GIOExtensionPoint *point;
      GIOModuleScope    *scope;
      const char        *path;

      point = g_io_extension_point_register (MSG_TRANSPORT_EXTENSION_POINT_NAME);
      g_io_extension_point_set_required_type (point, MSG_TYPE_TRANSPORT);
      g_type_ensure (_msg_pickup_transport_get_type ());

      scope = g_io_module_scope_new (G_IO_MODULE_SCOPE_BLOCK_DUPLICATES);
      path = transport_path_env ();
      if (path != NULL)
        {
          g_auto (GStrv) dirs = g_strsplit (path, G_SEARCHPATH_SEPARATOR_S, -1);

          for (guint i = 0; dirs[i] != NULL; i++)
            load_directory (dirs[i], scope);
        }
      load_directory (MSGOBJ_TRANSPORT_DIR, scope);
      g_io_module_scope_free (scope);

      g_once_init_leave (&loaded, 1);
    }
}
