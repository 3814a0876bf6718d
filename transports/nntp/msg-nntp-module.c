/* msg-nntp-module.c: entry points of the NNTP transport module
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <gmodule.h>

#include "msg-nntp-transport.h"

MSG_TRANSPORT_DEFINE_ABI_VERSION;

G_MODULE_EXPORT void   g_io_msgobj_nntp_load (GIOModule *module);
G_MODULE_EXPORT void   g_io_msgobj_nntp_unload (GIOModule *module);
G_MODULE_EXPORT char **g_io_msgobj_nntp_query (void);

G_MODULE_EXPORT void
g_io_msgobj_nntp_load (GIOModule *module)
{
  msg_nntp_transport_register (G_TYPE_MODULE (module));
  g_io_extension_point_implement (MSG_TRANSPORT_EXTENSION_POINT_NAME,
                                  MSG_TYPE_NNTP_TRANSPORT, "nntp", 0);
}

G_MODULE_EXPORT void
g_io_msgobj_nntp_unload (GIOModule *module)
{
}

G_MODULE_EXPORT char **
g_io_msgobj_nntp_query (void)
{
  char *eps[] = { (char *) MSG_TRANSPORT_EXTENSION_POINT_NAME, NULL };

  return g_strdupv (eps);
}
