/* msg-file-utils-private.h: writing a file atomically
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>
#include <glib/gstdio.h>

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

/* Whether code may be loaded from @path, a directory or a file whose
 * stat() is @st: not writable by group or others (a root-owned sticky
 * directory aside) and owned by this user or root. FALSE with an error
 * naming @path and why otherwise. For transports (msg-modules.c) and
 * the library's own modules (msg-optional-module.c). */
gboolean _msg_file_check_trusted (const char     *path,
                                  const GStatBuf *st,
                                  GError        **error);

G_END_DECLS
