/* msgobj.c: the msgobj command
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <msgobj.h>

int
main (int argc, char *argv[])
{
  return 0;
}
