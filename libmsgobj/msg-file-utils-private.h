/* msg-file-utils-private.h: writing a file atomically
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef gboolean (*MsgWriteFunc) (GOutputStream *output,
                                  gpointer       user_data,
                                  GCancellable  *cancellable,
                                  GError       **error);

/* Writes @path atomically: a temporary file in the same directory,
 * fsync, rename. On error nothing is left behind. A new file is mode
 * 0600; a regular file it replaces keeps its mode. */
gboolean _msg_write_file_atomically (const char  *path,
                                     MsgWriteFunc func,
                                     gpointer     user_data,
                                     GError     **error);

G_END_DECLS
