/* msg-user-dirs-private.h: the per-user directories, safe in setuid programs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef enum
{
  MSG_USER_DIR_CONFIG, /* $XDG_CONFIG_HOME */
  MSG_USER_DIR_DATA,   /* $XDG_DATA_HOME */
} MsgUserDir;

/* Whether the process runs with privileges its caller does not have
 * (setuid, setgid, file capabilities: the kernel's AT_SECURE). */
gboolean _msg_is_secure_process (void);

/* The user's configuration or data directory: GLib's (which honours
 * $XDG_CONFIG_HOME, $XDG_DATA_HOME and $HOME) in an ordinary process; in a
 * secure one (@secure) the environment is the caller's and is ignored, as
 * for $MSGOBJ_CONFIG: the effective user's home directory from the password
 * database, with XDG's default names. */
char *_msg_get_user_dir_for (MsgUserDir which,
                             gboolean   secure);
char *_msg_get_user_dir (MsgUserDir which);

G_END_DECLS
