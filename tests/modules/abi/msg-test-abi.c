/* msg-test-abi.c: modules for the loader's checks (test-security-config):
 * built with no interface version (MSG_TEST_ABI 0), with another one, and
 * with the right one. A module that is loaded counts itself in the
 * environment variable MSGOBJ_TEST_ABI_LOADED_<variant>.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <gmodule.h>
#include <msgobj.h>
#include <stdlib.h>

#if MSG_TEST_ABI == 1
MSG_TRANSPORT_DEFINE_ABI_VERSION;
#elif MSG_TEST_ABI != 0
G_MODULE_EXPORT extern const unsigned msgobj_transport_abi_version;
G_MODULE_EXPORT const unsigned        msgobj_transport_abi_version = MSG_TEST_ABI;
#endif

/* GIO names the entry points after the file name. */
#define ENTRY_(variant, what) g_io_msgobj_test_abi_##variant##_##what
#define ENTRY(variant, what) ENTRY_ (variant, what)
#define STRINGIFY_(x) #x
#define STRINGIFY(x) STRINGIFY_ (x)

G_MODULE_EXPORT void ENTRY (MSG_TEST_VARIANT, load) (GIOModule *module);
G_MODULE_EXPORT void ENTRY (MSG_TEST_VARIANT, unload) (GIOModule *module);

G_MODULE_EXPORT void
ENTRY (MSG_TEST_VARIANT, load) (GIOModule *module)
{
  const char      *name = "MSGOBJ_TEST_ABI_LOADED_" STRINGIFY (MSG_TEST_VARIANT);
  const char      *before = g_getenv (name);
  g_autofree char *count = g_strdup_printf ("%d", before != NULL ? atoi (before) + 1 : 1);

  g_setenv (name, count, TRUE);
}

G_MODULE_EXPORT void
ENTRY (MSG_TEST_VARIANT, unload) (GIOModule *module)
{
}
