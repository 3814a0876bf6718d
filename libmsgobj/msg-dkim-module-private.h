/* msg-dkim-module-private.h: the table of the DKIM module (msgobj-dkim.so)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "msg-configuration.h"
#include "msg-message.h"

G_BEGIN_DECLS

typedef struct _MsgDkimSigner MsgDkimSigner;

/* What msg-dkim-module.c, built as the module, gives the library
 * (msg-dkim-signer.c); the functions are those of
 * msg-dkim-signer-private.h, minus its checks of NULL. */
typedef struct
{
  gboolean (*new_for_configuration) (MsgConfiguration *configuration,
                                     MsgDkimSigner    *previous,
                                     MsgDkimSigner   **out,
                                     GError          **error);
  MsgDkimSigner *(*ref) (MsgDkimSigner *self);
  void (*unref) (MsgDkimSigner *self);
  char *(*sign) (MsgDkimSigner *self,
                 MsgMessage    *message,
                 MsgWriteFlags  flags,
                 GCancellable  *cancellable,
                 GError       **error);
} MsgDkimModule;

G_END_DECLS
