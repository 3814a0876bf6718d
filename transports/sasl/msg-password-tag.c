/* msg-password-tag.c: the password's share of a kept connection's key
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-password-tag.h"

#include <unistd.h>

char *
_msg_password_tag (const char *password)
{
  static guint8 key[32];
  static gsize  key_ready = 0;

  if (g_once_init_enter (&key_ready))
    {
      if (getentropy (key, sizeof key) != 0)
        {
          /* No kernel entropy (a very old kernel): GLib's generator,
           * seeded from /dev/urandom, is still not guessable offline. */
          for (gsize i = 0; i < sizeof key; i++)
            key[i] = (guint8) g_random_int ();
        }
      g_once_init_leave (&key_ready, 1);
    }
  return g_compute_hmac_for_string (G_CHECKSUM_SHA256, key, sizeof key, password, -1);
}
