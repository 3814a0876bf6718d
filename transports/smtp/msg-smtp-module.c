/* msg-smtp-module.c: entry points of the SMTP transport module
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <gmodule.h>

#include "msg-smtp-transport.h"

MSG_TRANSPORT_DEFINE_ABI_VERSION;

G_MODULE_EXPORT void   g_io_msgobj_smtp_load (GIOModule *module);
G_MODULE_EXPORT void   g_io_msgobj_smtp_unload (GIOModule *module);
G_MODULE_EXPORT char **g_io_msgobj_smtp_query (void);

G_MODULE_EXPORT void
g_io_msgobj_smtp_load (GIOModule *module)
{
  msg_smtp_transport_register (G_TYPE_MODULE (module));
  g_io_extension_point_implement (MSG_TRANSPORT_EXTENSION_POINT_NAME,
                                  MSG_TYPE_SMTP_TRANSPORT, "smtp", 0);
}

G_MODULE_EXPORT void
g_io_msgobj_smtp_unload (GIOModule *module)
{
}

G_MODULE_EXPORT char **
g_io_msgobj_smtp_query (void)
{
  char *eps[] = { (char *) MSG_TRANSPORT_EXTENSION_POINT_NAME, NULL };

  return g_strdupv (eps);
}
