/* msg-drop-utils-private.h: file operations shared by the drop directory
 * and its items
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The marks a claimed file's name carries: ".NAME.claimed-PID-RANDOM" is
 * claimed, ".NAME.started-PID-RANDOM" is being processed. Both have one
 * length. */
#define MSG_DROP_CLAIMED_MARK ".claimed-"
#define MSG_DROP_STARTED_MARK ".started-"

/* A drop directory's descriptor, opened on first use and shared
 * (refcounted, thread-safe) by the directory object and its items. */
typedef struct _MsgDropFd MsgDropFd;

MsgDropFd  *_msg_drop_fd_new (const char *path);
MsgDropFd  *_msg_drop_fd_ref (MsgDropFd *self);
void        _msg_drop_fd_unref (MsgDropFd *self);
const char *_msg_drop_fd_get_path (MsgDropFd *self);
/* The descriptor (owned by @self), or -1 with @error set. */
int _msg_drop_fd_get (MsgDropFd *self,
                      GError   **error);

/* Whether @name is one that the directory lists: a visible ".eml" file. */
gboolean _msg_drop_is_message_name (const char *name);

/* Opens @name (relative to @dir_fd) for reading without following a
 * symbolic link or blocking on a FIFO; fails unless it is a regular
 * file. */
int _msg_drop_open_regular (int         dir_fd,
                            const char *name,
                            GError    **error);

/* Renames @from to @to (both relative to the descriptors) without ever
 * replacing an existing @to. */
gboolean _msg_drop_rename_noreplace (int         from_fd,
                                     const char *from,
                                     int         to_fd,
                                     const char *to,
                                     GError    **error);

/* Whether @subdir is one visible name; sets @error if not. */
gboolean _msg_drop_check_subdir (const char *subdir,
                                 GError    **error);

/* Opens (making it, 0700, if missing) the subdirectory @subdir of
 * @dir_fd, refusing a symbolic link. */
int _msg_drop_open_subdir (int         dir_fd,
                           const char *subdir,
                           GError    **error);

/* Renames @from into @sub_fd as @name, or as a free variant of it when
 * @name is taken there; returns the name given, or NULL. */
char *_msg_drop_rename_into (int         dir_fd,
                             const char *from,
                             int         sub_fd,
                             const char *name,
                             GError    **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgDropFd, _msg_drop_fd_unref)

G_END_DECLS
