/* msg-modules-private.h: the transport module loader, for the library
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Registers the extension point and the built-in pickup transport, then
 * loads the modules from $MSGOBJ_TRANSPORT_PATH and the installed transport
 * directory, once per process. Thread-safe. */
void _msg_modules_ensure_loaded (void);

G_END_DECLS
