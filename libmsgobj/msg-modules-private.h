/* msg-modules-private.h: the transport module loader, for the library
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Registers the extension point and the built-in pickup transport, once
 * per process. Thread-safe. */
void _msg_modules_ensure_registered (void);

/* Registers as above, then loads the module of transport @name
 * (libmsgobj-@name.so, from the first directory of $MSGOBJ_TRANSPORT_PATH
 * and the installed transport directory that has one the trust rule
 * accepts), if it is not loaded. Thread-safe. */
void _msg_modules_load_named (const char *name);

/* Registers as above, then loads every module from $MSGOBJ_TRANSPORT_PATH
 * and the installed transport directory not loaded yet, once per process.
 * Thread-safe. */
void _msg_modules_ensure_loaded (void);

G_END_DECLS
