/* msg-configuration.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msgobj.h"

struct _MsgConfiguration
{
  GObject parent_instance;
};

G_DEFINE_QUARK (msg - configuration - error - quark, msg_configuration_error)
G_DEFINE_FINAL_TYPE (MsgConfiguration, msg_configuration, G_TYPE_OBJECT)

static void
msg_configuration_class_init (MsgConfigurationClass *klass)
{
}

static void
msg_configuration_init (MsgConfiguration *self)
{
}
