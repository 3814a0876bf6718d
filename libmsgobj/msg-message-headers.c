/* msg-message-headers.c: a message's headers by name, and the headers
 * its properties own
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-message-private.h"

#include "msg-address-utils-private.h"
#include "msg-header-utils-private.h"

#include <string.h>

/* The headers a property owns: msg_message_set_header() sets them through
 * the property and msg_message_remove_header() clears the property. */
typedef struct
{
  const char     *name;
  unsigned        prop_id;
  MsgStringSetter setter;       /* (nullable): Date and Disposition-Notification-To are set apart */
  int             address_type; /* a GMimeAddressType, or -1 */
} OwnedHeader;

static const OwnedHeader owned_headers[] = {
  { "From", MSG_MESSAGE_PROP_FROM, msg_message_set_from, GMIME_ADDRESS_TYPE_FROM },
  { "Sender", MSG_MESSAGE_PROP_SENDER, msg_message_set_sender, GMIME_ADDRESS_TYPE_SENDER },
  { "Reply-To", MSG_MESSAGE_PROP_REPLY_TO, msg_message_set_reply_to, GMIME_ADDRESS_TYPE_REPLY_TO },
  { "To", MSG_MESSAGE_PROP_TO, msg_message_set_to, GMIME_ADDRESS_TYPE_TO },
  { "Cc", MSG_MESSAGE_PROP_CC, msg_message_set_cc, GMIME_ADDRESS_TYPE_CC },
  { "Bcc", MSG_MESSAGE_PROP_BCC, msg_message_set_bcc, GMIME_ADDRESS_TYPE_BCC },
  { "Subject", MSG_MESSAGE_PROP_SUBJECT, msg_message_set_subject, -1 },
  { "Newsgroups", MSG_MESSAGE_PROP_NEWSGROUPS, msg_message_set_newsgroups, -1 },
  { "Followup-To", MSG_MESSAGE_PROP_FOLLOWUP_TO, msg_message_set_followup_to, -1 },
  { "Keywords", MSG_MESSAGE_PROP_KEYWORDS, msg_message_set_keywords, -1 },
  { "Organization", MSG_MESSAGE_PROP_ORGANIZATION, msg_message_set_organization, -1 },
  { "Message-ID", MSG_MESSAGE_PROP_MESSAGE_ID, msg_message_set_message_id, -1 },
  { "Date", MSG_MESSAGE_PROP_SENT_ON, NULL, -1 },
  { "Disposition-Notification-To", MSG_MESSAGE_PROP_MDN_REQUESTED, NULL, -1 },
  /* Set and removed as headers, notified as properties. */
  { "Importance", MSG_MESSAGE_PROP_IMPORTANCE, NULL, -1 },
  { "Priority", MSG_MESSAGE_PROP_PRIORITY, NULL, -1 },
  { "X-Priority", MSG_MESSAGE_PROP_PRIORITY, NULL, -1 },
  { "Sensitivity", MSG_MESSAGE_PROP_SENSITIVITY, NULL, -1 },
};

static gboolean
is_enum_property (unsigned prop_id)
{
  return prop_id == MSG_MESSAGE_PROP_IMPORTANCE || prop_id == MSG_MESSAGE_PROP_PRIORITY || prop_id == MSG_MESSAGE_PROP_SENSITIVITY;
}

static const OwnedHeader *
find_owned_header (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (owned_headers); i++)
    {
      if (g_ascii_strcasecmp (name, owned_headers[i].name) == 0)
        return &owned_headers[i];
    }

  return NULL;
}

const char *
_msg_message_setter_header_name (MsgStringSetter setter)
{
  for (gsize i = 0; i < G_N_ELEMENTS (owned_headers); i++)
    {
      if (owned_headers[i].setter == setter)
        return owned_headers[i].name;
    }

  return NULL;
}

const char *
_msg_message_address_header_name (GMimeAddressType type)
{
  for (gsize i = 0; i < G_N_ELEMENTS (owned_headers); i++)
    {
      if (owned_headers[i].address_type == (int) type)
        return owned_headers[i].name;
    }

  g_assert_not_reached ();
}

/* Fields */

static gboolean
is_body_managed (const char *name)
{
  return g_ascii_strncasecmp (name, "Content-", 8) == 0 ||
         g_ascii_strcasecmp (name, "MIME-Version") == 0;
}

/**
 * msg_message_set_header:
 * @self: a message
 * @name: a header name, or `urn:schemas:mailheader:NAME` (CDO `Fields`)
 * @value: (nullable): the value, or %NULL to remove the header
 * @error: return location for an error
 *
 * Sets a header, replacing one of the same name. Headers that a property
 * owns (`From`, `To`, `Subject`, `Message-ID`, `Date`, `Newsgroups`…) go
 * through that property's validation and update it. `Content-*` headers
 * and `MIME-Version` belong to the MIME tree (use
 * [method@Message.get_body_part]) and are refused here.
 *
 * A `urn:schemas:mailheader:` name, which CDO writes in lower case, is
 * written with the header's usual capitalisation when CDO lists it
 * (`urn:schemas:mailheader:comments` sets `Comments`); another name keeps
 * its spelling.
 *
 * Returns: %TRUE on success; %FALSE with %MSG_MESSAGE_ERROR_INVALID_HEADER
 *   or %MSG_MESSAGE_ERROR_INVALID_ADDRESS
 */
gboolean
msg_message_set_header (MsgMessage *self,
                        const char *name,
                        const char *value,
                        GError    **error)
{
  const OwnedHeader *header;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  name = _msg_strip_mailheader_urn (name);
  if (_msg_is_urn_field (name))
    return _msg_message_set_urn_field (self, name, value, error);
  if (!_msg_check_header_name (name, error))
    return FALSE;

  if (value == NULL)
    {
      msg_message_remove_header (self, name);
      return TRUE;
    }

  header = find_owned_header (name);
  if (header != NULL && header->setter != NULL)
    return header->setter (self, value, error);

  if (header != NULL && header->prop_id == MSG_MESSAGE_PROP_SENT_ON)
    {
      g_autoptr (GDateTime) date = NULL;

      if (!_msg_check_header_value (name, value, error))
        return FALSE;
      date = g_mime_utils_header_decode_date (value);
      if (date == NULL)
        {
          g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                       "“%s” is not an RFC 5322 date", value);
          return FALSE;
        }
      msg_message_set_sent_on (self, date);
      return TRUE;
    }

  if (is_body_managed (name))
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                   "%s belongs to the MIME structure; set it on a body part", name);
      return FALSE;
    }

  if (g_ascii_strcasecmp (name, "In-Reply-To") == 0 || g_ascii_strcasecmp (name, "References") == 0)
    {
      g_auto (GStrv) ids = NULL;

      if (!_msg_check_header_value (name, value, error))
        return FALSE;
      ids = g_strsplit_set (value, " \t", -1);
      for (guint i = 0; ids[i] != NULL; i++)
        {
          gsize len = strlen (ids[i]);

          if (len == 0)
            continue;
          if (!_msg_check_msg_id (name, ids[i], error))
            return FALSE;
          /* Written as given: the brackets must be there. */
          if (ids[i][0] != '<' || ids[i][len - 1] != '>')
            {
              g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                           "%s “%s” is not a message id in angle brackets", name, ids[i]);
              return FALSE;
            }
        }
    }

  if (header != NULL && header->prop_id == MSG_MESSAGE_PROP_MDN_REQUESTED)
    {
      g_autoptr (InternetAddressList) list = _msg_parse_address_list (name, value, FALSE, error);
      g_autofree char *text = NULL;

      if (list == NULL)
        return FALSE;
      text = internet_address_list_to_string (list, NULL, FALSE);
      g_mime_object_set_header (GMIME_OBJECT (self->mime), name, text, "utf-8");
      if (!self->mdn_requested)
        {
          self->mdn_requested = TRUE;
          _msg_message_notify (self, MSG_MESSAGE_PROP_MDN_REQUESTED);
        }
      return TRUE;
    }

  if (!_msg_check_header_value (name, value, error))
    return FALSE;

  g_mime_object_set_header (GMIME_OBJECT (self->mime), name, value, "utf-8");
  if (header != NULL && is_enum_property (header->prop_id))
    _msg_message_notify (self, header->prop_id);
  return TRUE;
}

/**
 * msg_message_get_header:
 * @self: a message
 * @name: a header name, or `urn:schemas:mailheader:NAME`
 *
 * Gets the decoded value of a header (the first one of that name).
 * `Content-*` headers are read from the root of the MIME tree.
 *
 * Returns: (transfer full) (nullable): the value
 */
char *
msg_message_get_header (MsgMessage *self,
                        const char *name)
{
  const char  *value;
  GMimeObject *root;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  name = _msg_strip_mailheader_urn (name);
  if (_msg_is_urn_field (name))
    return _msg_message_get_urn_field (self, name, NULL);
  value = g_mime_object_get_header (GMIME_OBJECT (self->mime), name);
  if (value != NULL)
    return g_strdup (value);

  if (is_body_managed (name))
    {
      _msg_message_ensure_tree (self);
      root = g_mime_message_get_mime_part (self->mime);
      if (root != NULL)
        return g_strdup (g_mime_object_get_header (root, name));
    }

  return NULL;
}

/**
 * msg_message_remove_header:
 * @self: a message
 * @name: a header name, or `urn:schemas:mailheader:NAME`
 *
 * Removes every header of that name (and clears the property that owns
 * it). `Content-*` headers and `MIME-Version` are not removed.
 *
 * Returns: %TRUE if a header was removed
 */
gboolean
msg_message_remove_header (MsgMessage *self,
                           const char *name)
{
  const OwnedHeader *header;
  GMimeObject       *object;
  gboolean           found;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  name = _msg_strip_mailheader_urn (name);
  if (_msg_is_urn_field (name))
    return _msg_message_remove_urn_field (self, name);
  object = GMIME_OBJECT (self->mime);
  found = g_mime_object_get_header (object, name) != NULL;
  if (!found || is_body_managed (name))
    return FALSE;

  /* An address property is cleared through its setter, which removes the
   * header; the other string properties are notified once it is gone. */
  header = find_owned_header (name);
  if (header != NULL && header->address_type >= 0)
    header->setter (self, NULL, NULL);
  else if (header != NULL && header->prop_id == MSG_MESSAGE_PROP_SENT_ON)
    msg_message_set_sent_on (self, NULL);
  else if (header != NULL && header->prop_id == MSG_MESSAGE_PROP_MDN_REQUESTED && self->mdn_requested)
    msg_message_set_mdn_requested (self, FALSE);

  while (g_mime_object_remove_header (object, name))
    ;

  if (header != NULL && (header->setter != NULL || is_enum_property (header->prop_id)) && header->address_type < 0)
    _msg_message_notify (self, header->prop_id);

  return TRUE;
}
