/* msg-address-utils.c: mailbox checks and address-list parsing
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-address-utils-private.h"

#include "msg-header-utils-private.h"
#include "msg-message.h"
#include "msg-mime-utils-private.h"

#include <string.h>

/* Addresses */

static gboolean
check_mailbox (const char             *field,
               InternetAddressMailbox *mailbox,
               GError                **error)
{
  const char *addr = internet_address_mailbox_get_addr (mailbox);
  const char *name = internet_address_get_name (INTERNET_ADDRESS (mailbox));
  const char *at;
  gsize       local_len;

  if (name != NULL && !_msg_check_header_value (field, name, NULL))
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ADDRESS,
                   "A display name in %s contains control characters", field);
      return FALSE;
    }

  at = addr != NULL ? strrchr (addr, '@') : NULL;
  if (at == NULL || at == addr || at[1] == '\0')
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ADDRESS,
                   "“%s” in %s is not an address of the form local@domain",
                   addr != NULL ? addr : "", field);
      return FALSE;
    }

  for (const guchar *p = (const guchar *) addr; *p != '\0'; p++)
    {
      if (*p <= ' ' || *p == 0x7f || *p == '<' || *p == '>' || *p == '(' || *p == ')' ||
          *p == ',' || *p == ';' || *p == '\\' || *p == '"')
        {
          g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ADDRESS,
                       "The address “%s” in %s contains a character that is not allowed",
                       addr, field);
          return FALSE;
        }
    }

  local_len = at - addr;
  if (local_len > 64 || strlen (at + 1) > 255 || strlen (addr) > 254)
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ADDRESS,
                   "The address “%s” in %s is too long", addr, field);
      return FALSE;
    }

  if (!g_utf8_validate (addr, -1, NULL))
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ADDRESS,
                   "An address in %s is not valid UTF-8", field);
      return FALSE;
    }

  return TRUE;
}

/* Splits an address list at its top-level commas: commas inside quoted
 * strings, comments, angle brackets and groups do not split. */
static GPtrArray *
split_address_list (const char *value)
{
  GPtrArray  *items = g_ptr_array_new_with_free_func (g_free);
  const char *start = value;
  gboolean    in_quote = FALSE;
  gboolean    in_group = FALSE;
  int         comment = 0;
  int         angle = 0;

  for (const char *p = value;; p++)
    {
      char c = *p;

      if (c == '\0' || (c == ',' && !in_quote && comment == 0 && angle == 0 && !in_group))
        {
          g_autofree char *item = g_strndup (start, p - start);

          g_strstrip (item);
          if (*item != '\0')
            g_ptr_array_add (items, g_steal_pointer (&item));
          if (c == '\0')
            break;
          start = p + 1;
          continue;
        }

      if (in_quote)
        {
          if (c == '\\' && p[1] != '\0')
            p++;
          else if (c == '"')
            in_quote = FALSE;
          continue;
        }

      if (comment > 0)
        {
          if (c == '\\' && p[1] != '\0')
            p++;
          else if (c == '(')
            comment++;
          else if (c == ')')
            comment--;
          continue;
        }

      switch (c)
        {
        case '"':
          in_quote = TRUE;
          break;
        case '(':
          comment++;
          break;
        case '<':
          angle++;
          break;
        case '>':
          if (angle > 0)
            angle--;
          break;
        case ':':
          if (angle == 0)
            in_group = TRUE;
          break;
        case ';':
          if (angle == 0)
            in_group = FALSE;
          break;
        default:
          break;
        }
    }

  return items;
}

/* Whether the angle brackets of @item pair up (outside quoted strings and
 * comments). GMime 3.2 leaks memory parsing a stray ">", and no valid
 * address has one. */
static gboolean
angles_balanced (const char *item)
{
  gboolean in_quote = FALSE;
  int      comment = 0;
  int      angle = 0;

  for (const char *p = item; *p != '\0'; p++)
    {
      if ((in_quote || comment > 0) && *p == '\\' && p[1] != '\0')
        p++;
      else if (in_quote)
        in_quote = *p != '"';
      else if (*p == '(')
        comment++;
      else if (comment > 0)
        comment -= *p == ')';
      else if (*p == '"')
        in_quote = TRUE;
      else if (*p == '<')
        angle++;
      else if (*p == '>' && --angle < 0)
        return FALSE;
    }

  return angle == 0;
}

/* Whether @domain is letters, digits, hyphens and dots only, with no
 * "xn--" label: IDNA maps such a name to itself up to case (or rejects it,
 * a too long label say), and GMime then writes the domain unchanged. */
static gboolean
is_plain_ascii_domain (const char *domain)
{
  gboolean label_start = TRUE;

  for (const char *p = domain; *p != '\0'; p++)
    {
      if (label_start && g_ascii_strncasecmp (p, "xn--", 4) == 0)
        return FALSE;
      label_start = *p == '.';
      if (!g_ascii_isalnum (*p) && *p != '-' && *p != '.')
        return FALSE;
    }

  return TRUE;
}

gboolean
_msg_mailbox_skip_idna (InternetAddressMailbox *mailbox)
{
  const char *addr = internet_address_mailbox_get_addr (mailbox);

  /* The domain as GMime takes it: after the "@" that ends the local part. */
  if (addr == NULL || mailbox->at <= 0 || mailbox->idn_addr != NULL ||
      !is_plain_ascii_domain (addr + mailbox->at + 1))
    return FALSE;

  /* GMime encodes a mailbox as its cached idn_addr (a public field, freed
   * and reset by GMime when the address changes), which it otherwise fills
   * with libidn2: some 27 k instructions an address, the most costly step
   * of building a message, for a result equal to the address here. */
  mailbox->idn_addr = g_strdup (addr);
  return TRUE;
}

/* Sets the charset GMime encodes display names in and skips IDNA where it
 * cannot change the address. */
static void
prepare_addresses (InternetAddressList *list)
{
  for (int i = 0; i < internet_address_list_length (list); i++)
    {
      InternetAddress *address = internet_address_list_get_address (list, i);

      internet_address_set_charset (address, "utf-8");
      if (INTERNET_ADDRESS_IS_GROUP (address))
        prepare_addresses (internet_address_group_get_members (INTERNET_ADDRESS_GROUP (address)));
      else
        _msg_mailbox_skip_idna (INTERNET_ADDRESS_MAILBOX (address));
    }
}

InternetAddressList *
_msg_parse_address_list (const char *field,
                         const char *value,
                         gboolean    allow_groups,
                         GError    **error)
{
  g_autoptr (InternetAddressList) result = NULL;
  g_autoptr (GPtrArray) items = NULL;
  g_autoptr (GError) local_error = NULL;

  if (!_msg_check_header_value (field, value, &local_error))
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ADDRESS,
                           local_error->message);
      return NULL;
    }

  items = split_address_list (value);

  for (guint i = 0; i < items->len; i++)
    {
      const char *item = g_ptr_array_index (items, i);
      g_autoptr (InternetAddressList) parsed = NULL;
      InternetAddress *address;

      if (angles_balanced (item))
        parsed = internet_address_list_parse (_msg_parser_options (), item);
      if (parsed == NULL || internet_address_list_length (parsed) != 1)
        {
          g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ADDRESS,
                       "Cannot parse “%s” in %s as one address", item, field);
          return NULL;
        }

      address = internet_address_list_get_address (parsed, 0);
      if (INTERNET_ADDRESS_IS_GROUP (address))
        {
          InternetAddressList *members = internet_address_group_get_members (INTERNET_ADDRESS_GROUP (address));
          const char          *name = internet_address_get_name (address);

          if (!allow_groups)
            {
              g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ADDRESS,
                           "%s does not accept a group (“%s”)", field, item);
              return NULL;
            }

          if (name == NULL || *name == '\0' || !_msg_check_header_value (field, name, NULL))
            {
              g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ADDRESS,
                           "The group “%s” in %s has no valid name", item, field);
              return NULL;
            }

          for (int k = 0; k < internet_address_list_length (members); k++)
            {
              InternetAddress *member = internet_address_list_get_address (members, k);

              if (!INTERNET_ADDRESS_IS_MAILBOX (member))
                {
                  g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ADDRESS,
                               "The group “%s” in %s contains a group", item, field);
                  return NULL;
                }
              if (!check_mailbox (field, INTERNET_ADDRESS_MAILBOX (member), error))
                return NULL;
            }
        }
      else if (!check_mailbox (field, INTERNET_ADDRESS_MAILBOX (address), error))
        return NULL;

      /* The first item's list becomes the result: one list fewer to make
       * and free for the usual single address. */
      if (result == NULL)
        result = g_steal_pointer (&parsed);
      else
        internet_address_list_add (result, address);
    }

  if (result == NULL || internet_address_list_length (result) == 0)
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ADDRESS,
                   "%s holds no address", field);
      return NULL;
    }

  prepare_addresses (result);
  return g_steal_pointer (&result);
}

const char *
_msg_first_mailbox (InternetAddressList *list)
{
  for (int i = 0; list != NULL && i < internet_address_list_length (list); i++)
    {
      InternetAddress *address = internet_address_list_get_address (list, i);

      if (INTERNET_ADDRESS_IS_MAILBOX (address))
        return internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (address));
    }

  return NULL;
}
