/* msg-recipient-status.c: what the server said about one recipient
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-recipient-status.h"

/**
 * MsgRecipientStatus:
 *
 * The server's answer to one envelope recipient: the reply code (for
 * example 250 or 550), the RFC 3463 enhanced status code when the server
 * sent one, and the reply text.
 */
struct _MsgRecipientStatus
{
  char    *address; /* (owned) */
  unsigned code;
  char    *enhanced_status; /* (owned) (nullable) */
  char    *text;            /* (owned) */
};

G_DEFINE_BOXED_TYPE (MsgRecipientStatus, msg_recipient_status, msg_recipient_status_copy, msg_recipient_status_free)

/**
 * msg_recipient_status_new:
 * @address: the recipient's address
 * @code: the server's reply code
 * @enhanced_status: (nullable): the enhanced status code, such as "5.1.1"
 * @text: (nullable): the reply text
 *
 * Creates a recipient status. For transport implementations.
 *
 * Returns: (transfer full): a new status
 */
MsgRecipientStatus *
msg_recipient_status_new (const char *address,
                          unsigned    code,
                          const char *enhanced_status,
                          const char *text)
{
  MsgRecipientStatus *self;

  g_return_val_if_fail (address != NULL, NULL);

  self = g_new0 (MsgRecipientStatus, 1);
  self->address = g_strdup (address);
  self->code = code;
  self->enhanced_status = g_strdup (enhanced_status);
  self->text = g_strdup (text != NULL ? text : "");
  return self;
}

/**
 * msg_recipient_status_copy:
 * @self: a status
 *
 * Copies a recipient status.
 *
 * Returns: (transfer full): a copy of @self
 */
MsgRecipientStatus *
msg_recipient_status_copy (const MsgRecipientStatus *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return msg_recipient_status_new (self->address, self->code,
                                   self->enhanced_status, self->text);
}

/**
 * msg_recipient_status_free:
 * @self: (transfer full): a status
 *
 * Frees @self.
 */
void
msg_recipient_status_free (MsgRecipientStatus *self)
{
  if (self == NULL)
    return;
  g_free (self->address);
  g_free (self->enhanced_status);
  g_free (self->text);
  g_free (self);
}

/**
 * msg_recipient_status_get_address:
 * @self: a status
 *
 * Gets the recipient's address.
 *
 * Returns: the recipient's address
 */
const char *
msg_recipient_status_get_address (const MsgRecipientStatus *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->address;
}

/**
 * msg_recipient_status_get_code:
 * @self: a status
 *
 * Gets the server's reply code for the recipient.
 *
 * Returns: the server's reply code, such as 250 or 550
 */
unsigned
msg_recipient_status_get_code (const MsgRecipientStatus *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->code;
}

/**
 * msg_recipient_status_get_enhanced_status:
 * @self: a status
 *
 * Gets the enhanced status code of the server's reply.
 *
 * Returns: (nullable): the RFC 3463 enhanced status code, such as "5.1.1",
 *   or %NULL if the server sent none
 */
const char *
msg_recipient_status_get_enhanced_status (const MsgRecipientStatus *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->enhanced_status;
}

/**
 * msg_recipient_status_get_text:
 * @self: a status
 *
 * Gets the text of the server's reply.
 *
 * Returns: the reply text, without code
 */
const char *
msg_recipient_status_get_text (const MsgRecipientStatus *self)
{
  g_return_val_if_fail (self != NULL, NULL);
  return self->text;
}

/**
 * msg_recipient_status_is_accepted:
 * @self: a status
 *
 * Tells whether the server accepted the recipient.
 *
 * Returns: whether the server accepted the recipient (a 2xx reply)
 */
gboolean
msg_recipient_status_is_accepted (const MsgRecipientStatus *self)
{
  g_return_val_if_fail (self != NULL, FALSE);
  return self->code >= 200 && self->code < 300;
}
