/* msg-dkim-signer.c: the library's side of the DKIM module
 *
 * libopendkim, and OpenSSL and Berkeley DB with it, are loaded with the
 * module msgobj-dkim.so (msg-dkim-module.c) by the first send that is to
 * be signed, not by every process that uses the library.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-dkim-signer-private.h"
#include "msg-optional-module-private.h"

#include <string.h>

/* Set once the module is loaded; a signer exists only after that. */
static const MsgDkimModule *dkim_module;

gboolean
_msg_dkim_signer_new_for_configuration (MsgConfiguration *configuration,
                                        MsgDkimSigner    *previous,
                                        MsgDkimSigner   **out,
                                        GError          **error)
{
  const MsgDkimModule *module;

  *out = NULL;
  if (!msg_configuration_get_boolean (configuration, "dkimsign"))
    return TRUE;
  module = _msg_optional_module_load ("dkim", NULL, error);
  if (module == NULL)
    {
      g_prefix_error (error, "DKIM signing is on (dkimsign) but cannot be done: ");
      return FALSE;
    }
  g_atomic_pointer_set (&dkim_module, module);
  return module->new_for_configuration (configuration, previous, out, error);
}

MsgDkimSigner *
_msg_dkim_signer_ref (MsgDkimSigner *self)
{
  const MsgDkimModule *module = g_atomic_pointer_get (&dkim_module);

  return module->ref (self);
}

void
_msg_dkim_signer_unref (MsgDkimSigner *self)
{
  const MsgDkimModule *module;

  if (self == NULL)
    return;
  module = g_atomic_pointer_get (&dkim_module);
  module->unref (self);
}

char *
_msg_dkim_signer_sign (MsgDkimSigner *self,
                       MsgMessage    *message,
                       MsgWriteFlags  flags,
                       GCancellable  *cancellable,
                       GError       **error)
{
  const MsgDkimModule *module = g_atomic_pointer_get (&dkim_module);

  return module->sign (self, message, flags, cancellable, error);
}

gboolean
_msg_dkim_signer_write_signature (MsgDkimSigner *self,
                                  MsgMessage    *message,
                                  MsgWriteFlags  flags,
                                  GOutputStream *stream,
                                  GCancellable  *cancellable,
                                  GError       **error)
{
  g_autofree char *header = NULL;

  if (self == NULL)
    return TRUE;
  header = _msg_dkim_signer_sign (self, message, flags, cancellable, error);
  if (header == NULL)
    return FALSE;
  return g_output_stream_write_all (stream, header, strlen (header), NULL, cancellable, error);
}
