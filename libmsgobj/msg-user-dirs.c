/* msg-user-dirs.c: the per-user directories, safe in setuid programs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-user-dirs-private.h"

#include <pwd.h>
#include <unistd.h>
#if defined(__has_include)
#if __has_include(<sys/auxv.h>)
#include <sys/auxv.h>
#define HAVE_AT_SECURE 1
#endif
#endif

gboolean
_msg_is_secure_process (void)
{
#if defined(HAVE_AT_SECURE) && defined(AT_SECURE)
  return getauxval (AT_SECURE) != 0;
#else
  return getuid () != geteuid () || getgid () != getegid ();
#endif
}

/* The effective user's home directory from the password database, not
 * from $HOME. */
static char *
effective_home (void)
{
  struct passwd    pw;
  struct passwd   *result = NULL;
  g_autofree char *buffer = NULL;
  long             size = sysconf (_SC_GETPW_R_SIZE_MAX);

  if (size <= 0)
    size = 16384;
  buffer = g_malloc ((gsize) size);
  if (getpwuid_r (geteuid (), &pw, buffer, (size_t) size, &result) != 0 || result == NULL ||
      pw.pw_dir == NULL || !g_path_is_absolute (pw.pw_dir))
    return g_strdup ("/");
  return g_strdup (pw.pw_dir);
}

char *
_msg_get_user_dir_for (MsgUserDir which,
                       gboolean   secure)
{
  g_autofree char *home = NULL;

  if (!secure)
    return g_strdup (which == MSG_USER_DIR_CONFIG ? g_get_user_config_dir () : g_get_user_data_dir ());
  home = effective_home ();
  if (which == MSG_USER_DIR_CONFIG)
    return g_build_filename (home, ".config", NULL);
  return g_build_filename (home, ".local", "share", NULL);
}

char *
_msg_get_user_dir (MsgUserDir which)
{
  return _msg_get_user_dir_for (which, _msg_is_secure_process ());
}
