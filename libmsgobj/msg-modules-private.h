/* msg-modules-private.h: the transport module loader, for the library
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib-object.h>

G_BEGIN_DECLS

/* Registers the extension point and the built-in pickup transport, once
 * per process. Thread-safe. */
void _msg_modules_ensure_registered (void);

/* The type registered as transport @name, or G_TYPE_INVALID: the built-in
 * or an already registered one, else from the module of that file name
 * (libmsgobj-@name.so, from the first directory of $MSGOBJ_TRANSPORT_PATH
 * and the installed transport directory that has one the trust rule
 * accepts), else from every module. Thread-safe. */
GType _msg_modules_find_transport (const char *name);

/* The name @type is registered under (the first), or NULL; after loading
 * every module. Thread-safe. */
char *_msg_modules_find_transport_name (GType type);

/* The names of the registered transports, unsorted (each owned by the
 * caller; the array has no free function); after loading every module.
 * Thread-safe. */
GPtrArray *_msg_modules_list_transports (void);

/* Loads every module, then registers @type as transport @name unless that
 * name is taken (FALSE). Thread-safe. */
gboolean _msg_modules_register_transport (const char *name,
                                          GType       type);

/* Registers as above, then loads every module from $MSGOBJ_TRANSPORT_PATH
 * and the installed transport directory not loaded yet, once per process.
 * Thread-safe. */
void _msg_modules_ensure_loaded (void);

G_END_DECLS
