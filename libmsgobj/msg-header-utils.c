/* msg-header-utils.c: validation of header values before GMime sees them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-header-utils-private.h"

#include "msg-message.h"
#include "msg-mime-utils-private.h"

#include <string.h>

/* Validation */

static const char *
describe_control (guchar c)
{
  switch (c)
    {
    case '\r':
      return "a carriage return (CR)";
    case '\n':
      return "a line feed (LF)";
    case '\0':
      return "a NUL byte";
    default:
      return "a control character";
    }
}

gboolean
_msg_check_header_name (const char *name,
                        GError    **error)
{
  if (name == NULL || *name == '\0')
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                           "A header name is empty");
      return FALSE;
    }

  for (const guchar *p = (const guchar *) name; *p != '\0'; p++)
    {
      if (*p < 33 || *p > 126 || *p == ':')
        {
          g_autofree char *shown = g_strescape (name, NULL);

          g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                       "The header name “%s” may only hold printable ASCII characters other than “:”",
                       shown);
          return FALSE;
        }
    }

  if (strlen (name) > 76)
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                   "The header name “%.20s…” is too long", name);
      return FALSE;
    }

  return TRUE;
}

gboolean
_msg_check_header_value (const char *field,
                         const char *value,
                         GError    **error)
{
  gsize run = 0;

  if (value == NULL)
    return TRUE;

  if (!g_utf8_validate (value, -1, NULL))
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                   "The value of %s is not valid UTF-8", field);
      return FALSE;
    }

  for (const guchar *p = (const guchar *) value; *p != '\0'; p++)
    {
      if (_msg_is_forbidden_control (*p))
        {
          g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                       "The value of %s contains %s", field, describe_control (*p));
          return FALSE;
        }

      /* A run of ASCII without white space cannot be folded: keep the
       * line within 998 octets. */
      if (*p == ' ' || *p == '\t' || *p >= 0x80)
        run = 0;
      else if (++run + strlen (field) + 2 > MSG_MAX_LINE_OCTETS - 8)
        {
          g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                       "The value of %s holds a word too long to fit a 998-octet line", field);
          return FALSE;
        }
    }

  /* Text that looks like an RFC 2047 encoded word may be written as it
   * is, and a reader decodes it: it must not decode to a line break
   * (the pattern of CVE-2024-6923). */
  if (strstr (value, "=?") != NULL)
    {
      g_autofree char *decoded = g_mime_utils_header_decode_text (_msg_parser_options (), value);

      for (const guchar *p = (const guchar *) decoded; p != NULL && *p != '\0'; p++)
        {
          if (_msg_is_forbidden_control (*p))
            {
              g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                           "The value of %s holds an encoded word that decodes to %s",
                           field, describe_control (*p));
              return FALSE;
            }
        }
    }

  return TRUE;
}

gboolean
_msg_check_msg_id (const char *field,
                   const char *value,
                   GError    **error)
{
  gsize       len;
  const char *start;
  const char *end;
  const char *at;

  if (!_msg_check_header_value (field, value, error))
    return FALSE;

  len = strlen (value);
  start = value;
  end = value + len;
  if (len >= 2 && value[0] == '<' && value[len - 1] == '>')
    {
      start++;
      end--;
    }

  if (start == end)
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                   "%s is empty", field);
      return FALSE;
    }

  if (end - start > 900)
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                   "%s is longer than 900 characters", field);
      return FALSE;
    }

  for (const char *p = start; p < end; p++)
    {
      guchar c = (guchar) *p;

      if (c <= ' ' || c >= 0x7f || c == '<' || c == '>' || c == '"' || c == '\\' ||
          c == '(' || c == ')' || c == ',' || c == ';' || c == ':' || c == '[' || c == ']')
        {
          g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                       "%s “%s” holds a character that is not allowed in an id", field, value);
          return FALSE;
        }
    }

  /* A Content-ID may be a bare token (CDO references such as "logo");
   * message ids are left@right (RFC 5322 msg-id). */
  at = memchr (start, '@', end - start);
  if (g_ascii_strcasecmp (field, "Content-ID") != 0 &&
      (at == NULL || at == start || at + 1 == end || memchr (at + 1, '@', end - at - 1) != NULL))
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                   "%s “%s” is not of the form left@right", field, value);
      return FALSE;
    }

  return TRUE;
}

gboolean
_msg_check_parameter (const char *field,
                      const char *value,
                      GError    **error)
{
  if (value == NULL)
    return TRUE;

  if (!_msg_check_header_value (field, value, error))
    return FALSE;

  for (const guchar *p = (const guchar *) value; *p != '\0'; p++)
    {
      if (*p == '"' || *p == '\\' || *p == ';' || *p == '\t')
        {
          g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                       "The value of %s contains “%c”, which is not allowed here", field, *p == '\t' ? ' ' : *p);
          return FALSE;
        }
    }

  return TRUE;
}

static gboolean
is_token_char (guchar c)
{
  return c > ' ' && c < 0x7f && strchr ("()<>@,;:\\\"/[]?=", c) == NULL;
}

gboolean
_msg_check_media_type (const char *value,
                       GError    **error)
{
  const char *slash;
  gsize       n_slash = 0;

  if (value == NULL || *value == '\0')
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                           "The content type is empty");
      return FALSE;
    }

  if (!_msg_check_header_value ("Content-Type", value, error))
    return FALSE;

  slash = strchr (value, '/');
  for (const guchar *p = (const guchar *) value; *p != '\0'; p++)
    {
      if (*p == '/')
        n_slash++;
      else if (!is_token_char (*p))
        {
          g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                       "The content type “%s” is not of the form type/subtype", value);
          return FALSE;
        }
    }

  if (n_slash != 1 || slash == value || slash[1] == '\0')
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                   "The content type “%s” is not of the form type/subtype", value);
      return FALSE;
    }

  return TRUE;
}

char *
_msg_safe_filename (const char *value)
{
  g_autofree char *valid = NULL;
  const char      *base;
  GString         *out;

  if (value == NULL)
    return NULL;

  valid = g_utf8_make_valid (value, -1);
  base = valid;
  for (const char *p = valid; *p != '\0'; p++)
    if (*p == '/' || *p == '\\')
      base = p + 1;

  out = g_string_sized_new (strlen (base));
  for (const char *p = base; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c < 0x20 || (c >= 0x7f && c < 0xa0))
        g_string_append_c (out, '_');
      else
        g_string_append_len (out, p, g_utf8_next_char (p) - p);
    }

  if (out->len == 0 || strcmp (out->str, ".") == 0 || strcmp (out->str, "..") == 0)
    {
      g_string_free (out, TRUE);
      return NULL;
    }

  return g_string_free (out, FALSE);
}

char *
_msg_check_filename (const char *value,
                     GError    **error)
{
  const char *base;
  g_autoptr (GError) local_error = NULL;

  if (value == NULL || *value == '\0')
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT,
                           "The file name is empty");
      return NULL;
    }

  if (!_msg_check_header_value ("the file name", value, &local_error))
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT,
                           local_error->message);
      return NULL;
    }

  /* Keep the last component of a Unix or Windows path. */
  base = value;
  for (const char *p = value; *p != '\0'; p++)
    if (*p == '/' || *p == '\\')
      base = p + 1;

  if (!_msg_check_parameter ("the file name", base, &local_error))
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT,
                           local_error->message);
      return NULL;
    }

  if (*base == '\0' || strcmp (base, ".") == 0 || strcmp (base, "..") == 0)
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT,
                   "“%s” does not name a file", value);
      return NULL;
    }

  return g_strdup (base);
}

gboolean
_msg_check_newsgroups (const char *field,
                       const char *value,
                       char      **normalised,
                       GError    **error)
{
  g_auto (GStrv) names = NULL;
  g_autoptr (GString) out = g_string_new (NULL);

  if (!_msg_check_header_value (field, value, error))
    return FALSE;

  names = g_strsplit (value, ",", -1);
  for (guint i = 0; names[i] != NULL; i++)
    {
      char *name = g_strstrip (names[i]);

      if (*name == '\0')
        {
          g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                       "%s “%s” has an empty newsgroup name", field, value);
          return FALSE;
        }

      for (const char *p = name; *p != '\0'; p++)
        {
          if (!g_ascii_isalnum (*p) && strchr (".+_-", *p) == NULL)
            {
              g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                           "The newsgroup name “%s” in %s may only hold letters, digits and “.+_-”",
                           name, field);
              return FALSE;
            }
        }

      if (name[0] == '.' || name[strlen (name) - 1] == '.' || strstr (name, "..") != NULL)
        {
          g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                       "The newsgroup name “%s” in %s has an empty component", name, field);
          return FALSE;
        }

      if (out->len > 0)
        g_string_append_c (out, ',');
      g_string_append (out, name);
    }

  *normalised = g_string_free (g_steal_pointer (&out), FALSE);
  return TRUE;
}

#define MAILHEADER_PREFIX "urn:schemas:mailheader:"

/* The headers of CDO's urn:schemas:mailheader namespace, spelled as mail
 * spells them: the URN names them in lower case. */
static const char *const mailheader_names[] = {
  "Approved",
  "Bcc",
  "Cc",
  "Comments",
  "Content-Base",
  "Content-Description",
  "Content-Disposition",
  "Content-ID",
  "Content-Language",
  "Content-Location",
  "Content-Transfer-Encoding",
  "Content-Type",
  "Control",
  "Date",
  "Disposition",
  "Disposition-Notification-To",
  "Distribution",
  "Expires",
  "Expiry-Date",
  "Followup-To",
  "From",
  "Importance",
  "In-Reply-To",
  "Keywords",
  "Lines",
  "Message-ID",
  "MIME-Version",
  "Newsgroups",
  "Organization",
  "Original-Recipient",
  "Path",
  "Post-Info",
  "Posting-Version",
  "Priority",
  "Received",
  "References",
  "Relay-Version",
  "Reply-By",
  "Reply-To",
  "Return-Path",
  "Return-Receipt-To",
  "Sender",
  "Sensitivity",
  "Subject",
  "Summary",
  "Thread-Index",
  "Thread-Topic",
  "To",
  "X-Mailer",
  "X-Message-Completed",
  "X-Message-Flag",
  "X-Newsreader",
  "X-Priority",
  "X-Unsent",
  "Xref",
};

const char *
_msg_strip_mailheader_urn (const char *name)
{
  if (g_ascii_strncasecmp (name, MAILHEADER_PREFIX, strlen (MAILHEADER_PREFIX)) != 0)
    return name;
  name += strlen (MAILHEADER_PREFIX);
  for (gsize i = 0; i < G_N_ELEMENTS (mailheader_names); i++)
    if (g_ascii_strcasecmp (name, mailheader_names[i]) == 0)
      return mailheader_names[i];
  return name;
}
