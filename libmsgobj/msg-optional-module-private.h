/* msg-optional-module-private.h: the library's own modules, loaded on first use
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The function each optional module exports (G_MODULE_EXPORT): given the
 * library's version and the table of library functions it needs (@host,
 * nullable), it returns its own table of functions, or NULL when it was
 * built from another version of the library. */
#define MSG_OPTIONAL_MODULE_ENTRY "msg_optional_module_get_table"

typedef gconstpointer (*MsgOptionalModuleEntry) (const char   *version,
                                                 gconstpointer host);

/* Loads the module `msgobj-@name.so` once per process (kept loaded) and
 * returns its table. It is looked for beside the library: in `modules/`
 * (the build tree) then in `msgobj-API/modules/` (installed). Thread-safe.
 * NULL with an error naming the file when it is missing, cannot be loaded
 * or is of another version. */
gconstpointer _msg_optional_module_load (const char   *name,
                                         gconstpointer host,
                                         GError      **error);

G_END_DECLS
