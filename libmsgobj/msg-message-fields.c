/* msg-message-fields.c: CDO's Fields beyond urn:schemas:mailheader
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-message-private.h"

#include "msg-body-part.h"

#include <string.h>

/* CDO's Message.Fields addresses a header as urn:schemas:mailheader:NAME
 * (msg-message-headers.c handles those) and the same data, decoded, as
 * urn:schemas:httpmail:NAME. This file maps the httpmail fields CDO
 * documents (and the Exchange sensitivity and Office keywords URNs) to
 * what they mean here, refuses the ones that mean nothing here with
 * MSG_MESSAGE_ERROR_NOT_SUPPORTED naming them, and enumerates a message's
 * fields. */

#define HTTPMAIL_PREFIX "urn:schemas:httpmail:"
#define SENSITIVITY_URN "http://schemas.microsoft.com/exchange/sensitivity"
#define OFFICE_KEYWORDS "urn:schemas-microsoft-com:office:office#Keywords"

typedef enum
{
  FIELD_HEADER,         /* the header of the same meaning */
  FIELD_TEXT_BODY,      /* textdescription */
  FIELD_HTML_BODY,      /* htmldescription */
  FIELD_IMPORTANCE,     /* 0 low, 1 normal, 2 high */
  FIELD_PRIORITY,       /* -1 non-urgent, 0 normal, 1 urgent */
  FIELD_SENSITIVITY,    /* 0 none, 1 personal, 2 private, 3 company-confidential */
  FIELD_DATE_RECEIVED,  /* read-only: the newest Received header */
  FIELD_NORMALIZED,     /* read-only: the subject without Re:/Fw: */
  FIELD_HAS_ATTACHMENT, /* read-only */
  FIELD_ROOT_PART,      /* read-only here: a property of the root body part */
} FieldKind;

typedef struct
{
  const char *name; /* after the httpmail prefix */
  FieldKind   kind;
  const char *header; /* FIELD_HEADER: the header; FIELD_ROOT_PART: the body-part property */
} HttpmailField;

static const HttpmailField httpmail_fields[] = {
  { "subject", FIELD_HEADER, "Subject" },
  { "from", FIELD_HEADER, "From" },
  { "to", FIELD_HEADER, "To" },
  { "cc", FIELD_HEADER, "Cc" },
  { "bcc", FIELD_HEADER, "Bcc" },
  { "reply-to", FIELD_HEADER, "Reply-To" },
  { "sender", FIELD_HEADER, "Sender" },
  { "date", FIELD_HEADER, "Date" },
  { "thread-topic", FIELD_HEADER, "Thread-Topic" },
  { "textdescription", FIELD_TEXT_BODY, NULL },
  { "htmldescription", FIELD_HTML_BODY, NULL },
  { "importance", FIELD_IMPORTANCE, NULL },
  { "priority", FIELD_PRIORITY, NULL },
  { "sensitivity", FIELD_SENSITIVITY, NULL },
  { "datereceived", FIELD_DATE_RECEIVED, NULL },
  { "normalizedsubject", FIELD_NORMALIZED, NULL },
  { "hasattachment", FIELD_HAS_ATTACHMENT, NULL },
  { "content-media-type", FIELD_ROOT_PART, "content-media-type" },
  { "content-disposition-type", FIELD_ROOT_PART, "content-disposition" },
  { "attachmentfilename", FIELD_ROOT_PART, "filename" },
};

static const char *const importance_values[] = { "low", "normal", "high" };
static const char *const priority_values[] = { "non-urgent", "normal", "urgent" };
static const char *const sensitivity_values[] = { NULL, "Personal", "Private", "Company-Confidential" };

gboolean
_msg_is_urn_field (const char *name)
{
  return g_ascii_strncasecmp (name, "urn:", 4) == 0 || g_ascii_strncasecmp (name, "http://", 7) == 0 ||
         g_ascii_strncasecmp (name, "https://", 8) == 0;
}

static const HttpmailField *
find_field (const char *name,
            GError    **error)
{
  const char *short_name = NULL;

  if (g_ascii_strncasecmp (name, HTTPMAIL_PREFIX, strlen (HTTPMAIL_PREFIX)) == 0)
    short_name = name + strlen (HTTPMAIL_PREFIX);
  else if (g_ascii_strcasecmp (name, SENSITIVITY_URN) == 0)
    short_name = "sensitivity";

  for (gsize i = 0; short_name != NULL && i < G_N_ELEMENTS (httpmail_fields); i++)
    if (g_ascii_strcasecmp (short_name, httpmail_fields[i].name) == 0)
      return &httpmail_fields[i];

  g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_NOT_SUPPORTED,
               "The field “%s” has no meaning in libmsgobj (supported: urn:schemas:mailheader:NAME for any "
               "header, and the urn:schemas:httpmail: fields listed in docs/porting.md)",
               name);
  return NULL;
}

/* The index of @value in @values (names, case-insensitive, or the CDO
 * number @value - @offset), or -1. */
static int
parse_enum (const char        *value,
            const char *const *values,
            int                n_values,
            int                offset)
{
  char  *end = NULL;
  gint64 number;

  for (int i = 0; i < n_values; i++)
    if (values[i] != NULL && g_ascii_strcasecmp (value, values[i]) == 0)
      return i;

  number = g_ascii_strtoll (value, &end, 10);
  if (end != value && *end == '\0' && number + offset >= 0 && number + offset < n_values)
    return (int) (number + offset);
  return -1;
}

static gboolean
set_enum_field (MsgMessage          *self,
                const HttpmailField *field,
                const char          *value,
                GError             **error)
{
  int index;

  switch (field->kind)
    {
    case FIELD_IMPORTANCE:
      index = parse_enum (value, importance_values, 3, 0);
      if (index >= 0)
        {
          msg_message_set_importance (self, (MsgImportance) index);
          return TRUE;
        }
      break;
    case FIELD_PRIORITY:
      index = parse_enum (value, priority_values, 3, 1);
      if (index >= 0)
        {
          msg_message_set_priority (self, (MsgPriority) (index - 1));
          return TRUE;
        }
      break;
    case FIELD_SENSITIVITY:
      index = parse_enum (value, sensitivity_values, 4, 0);
      if (index >= 0)
        {
          msg_message_set_sensitivity (self, (MsgSensitivity) index);
          return TRUE;
        }
      break;
    default:
      g_assert_not_reached ();
    }

  g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
               "“%s” is not a value of urn:schemas:httpmail:%s", value, field->name);
  return FALSE;
}

gboolean
_msg_message_set_urn_field (MsgMessage *self,
                            const char *name,
                            const char *value,
                            GError    **error)
{
  const HttpmailField *field;

  if (g_ascii_strcasecmp (name, OFFICE_KEYWORDS) == 0)
    return msg_message_set_keywords (self, value, error);

  field = find_field (name, error);
  if (field == NULL)
    return FALSE;

  switch (field->kind)
    {
    case FIELD_HEADER:
      return msg_message_set_header (self, field->header, value, error);
    case FIELD_TEXT_BODY:
      msg_message_set_text_body (self, value);
      return TRUE;
    case FIELD_HTML_BODY:
      msg_message_set_html_body (self, value);
      return TRUE;
    case FIELD_IMPORTANCE:
    case FIELD_PRIORITY:
    case FIELD_SENSITIVITY:
      if (value == NULL)
        {
          _msg_message_remove_urn_field (self, name);
          return TRUE;
        }
      return set_enum_field (self, field, value, error);
    case FIELD_ROOT_PART:
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_NOT_SUPPORTED,
                   "urn:schemas:httpmail:%s is read-only on a message: set the %s of a body part",
                   field->name, field->header);
      return FALSE;
    default:
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_NOT_SUPPORTED,
                   "urn:schemas:httpmail:%s is read-only: it is computed from the message", field->name);
      return FALSE;
    }
}

/* The date of the newest Received header (the first one), after its last
 * ';' (RFC 5321, section 4.4). */
static GDateTime *
parse_received (MsgMessage *self)
{
  const char *received = g_mime_object_get_header (GMIME_OBJECT (self->mime), "Received");
  const char *semicolon = received != NULL ? strrchr (received, ';') : NULL;

  return semicolon != NULL ? g_mime_utils_header_decode_date (semicolon + 1) : NULL;
}

static char *
date_received (MsgMessage *self)
{
  g_autoptr (GDateTime) date = parse_received (self);

  return date != NULL ? g_mime_utils_header_format_date (date) : NULL;
}

/**
 * msg_message_get_received_time:
 * @self: a message
 *
 * Gets when the message was received (CDO's `ReceivedTime`): the date of
 * its newest `Received` header (the first one), in the configuration's
 * `timezoneid` when it is set, else in the zone the header gives.
 *
 * Returns: (transfer full) (nullable): the date, or %NULL if the message
 *   has no `Received` header with a date
 */
GDateTime *
msg_message_get_received_time (MsgMessage *self)
{
  g_autoptr (GDateTime) date = NULL;
  g_autoptr (GTimeZone) tz = NULL;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);

  date = parse_received (self);
  if (date == NULL)
    return NULL;
  tz = _msg_message_get_timezone (self);
  return tz != NULL ? g_date_time_to_timezone (date, tz) : g_steal_pointer (&date);
}

static char *
normalized_subject (MsgMessage *self)
{
  g_autofree char *subject = msg_message_get_subject (self);
  const char      *p = subject;
  gboolean         again = TRUE;

  if (subject == NULL)
    return NULL;

  while (again)
    {
      static const char *const prefixes[] = { "re:", "fw:", "fwd:", "aw:", "sv:", "wg:" };

      again = FALSE;
      while (*p == ' ' || *p == '\t')
        p++;
      for (gsize i = 0; i < G_N_ELEMENTS (prefixes); i++)
        if (g_ascii_strncasecmp (p, prefixes[i], strlen (prefixes[i])) == 0)
          {
            p += strlen (prefixes[i]);
            again = TRUE;
          }
    }
  return g_strdup (p);
}

static char *
root_part_property (MsgMessage *self,
                    const char *property)
{
  g_autoptr (MsgBodyPart) root = msg_message_get_body_part (self);
  char *value = NULL;

  g_object_get (root, property, &value, NULL);
  return value;
}

char *
_msg_message_get_urn_field (MsgMessage *self,
                            const char *name,
                            GError    **error)
{
  const HttpmailField *field;

  if (g_ascii_strcasecmp (name, OFFICE_KEYWORDS) == 0)
    return msg_message_get_keywords (self);

  field = find_field (name, error);
  if (field == NULL)
    return NULL;

  switch (field->kind)
    {
    case FIELD_HEADER:
      return msg_message_get_header (self, field->header);
    case FIELD_TEXT_BODY:
      return msg_message_get_text_body (self);
    case FIELD_HTML_BODY:
      return msg_message_get_html_body (self);
    case FIELD_IMPORTANCE:
      return g_strdup_printf ("%d", (int) msg_message_get_importance (self));
    case FIELD_PRIORITY:
      return g_strdup_printf ("%d", (int) msg_message_get_priority (self));
    case FIELD_SENSITIVITY:
      return g_strdup_printf ("%d", (int) msg_message_get_sensitivity (self));
    case FIELD_DATE_RECEIVED:
      return date_received (self);
    case FIELD_NORMALIZED:
      return normalized_subject (self);
    case FIELD_HAS_ATTACHMENT:
      return g_strdup (msg_message_get_attachment_count (self) > 0 ? "true" : "false");
    case FIELD_ROOT_PART:
      return root_part_property (self, field->header);
    default:
      g_assert_not_reached ();
    }
}

gboolean
_msg_message_remove_urn_field (MsgMessage *self,
                               const char *name)
{
  const HttpmailField *field;

  if (g_ascii_strcasecmp (name, OFFICE_KEYWORDS) == 0)
    return msg_message_remove_header (self, "Keywords");

  field = find_field (name, NULL);
  if (field == NULL)
    return FALSE;
  switch (field->kind)
    {
    case FIELD_HEADER:
      return msg_message_remove_header (self, field->header);
    case FIELD_IMPORTANCE:
      return msg_message_remove_header (self, "Importance");
    case FIELD_PRIORITY:
      return msg_message_remove_header (self, "Priority") | msg_message_remove_header (self, "X-Priority");
    case FIELD_SENSITIVITY:
      return msg_message_remove_header (self, "Sensitivity");
    default:
      return FALSE;
    }
}

/* Importance, Priority, Sensitivity */

static int
header_enum (MsgMessage        *self,
             const char        *header,
             const char *const *values,
             int                n_values)
{
  const char      *raw = g_mime_object_get_header (GMIME_OBJECT (self->mime), header);
  g_autofree char *value = raw != NULL ? g_strstrip (g_strdup (raw)) : NULL;

  for (int i = 0; value != NULL && i < n_values; i++)
    if (values[i] != NULL && g_ascii_strcasecmp (value, values[i]) == 0)
      return i;
  return -1;
}

/**
 * msg_message_get_importance: (get-property importance)
 * @self: a message
 *
 * Gets the importance from the `Importance` header (RFC 2156): CDO's
 * `urn:schemas:httpmail:importance`.
 *
 * Returns: the importance; %MSG_IMPORTANCE_NORMAL without the header or
 *   with a value it does not know
 */
MsgImportance
msg_message_get_importance (MsgMessage *self)
{
  int index;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), MSG_IMPORTANCE_NORMAL);

  index = header_enum (self, "Importance", importance_values, G_N_ELEMENTS (importance_values));
  return index >= 0 ? (MsgImportance) index : MSG_IMPORTANCE_NORMAL;
}

/**
 * msg_message_set_importance: (set-property importance)
 * @self: a message
 * @importance: the importance
 *
 * Sets the `Importance` header to `low`, `normal` or `high`.
 */
void
msg_message_set_importance (MsgMessage   *self,
                            MsgImportance importance)
{
  MsgImportance old;

  g_return_if_fail (MSG_IS_MESSAGE (self));
  g_return_if_fail (importance >= MSG_IMPORTANCE_LOW && importance <= MSG_IMPORTANCE_HIGH);

  old = msg_message_get_importance (self);
  g_mime_object_set_header (GMIME_OBJECT (self->mime), "Importance", importance_values[importance], NULL);
  if (old != importance)
    g_object_notify (G_OBJECT (self), "importance");
}

/**
 * msg_message_get_priority: (get-property priority)
 * @self: a message
 *
 * Gets the priority from the `Priority` header (RFC 2156), else from
 * `X-Priority` (1 and 2 are urgent, 3 normal, 4 and 5 non-urgent): CDO's
 * `urn:schemas:httpmail:priority`.
 *
 * Returns: the priority; %MSG_PRIORITY_NORMAL without either header
 */
MsgPriority
msg_message_get_priority (MsgMessage *self)
{
  const char *x_priority;
  int         index;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), MSG_PRIORITY_NORMAL);

  index = header_enum (self, "Priority", priority_values, G_N_ELEMENTS (priority_values));
  if (index >= 0)
    return (MsgPriority) (index - 1);

  x_priority = g_mime_object_get_header (GMIME_OBJECT (self->mime), "X-Priority");
  if (x_priority != NULL)
    {
      while (*x_priority == ' ' || *x_priority == '\t')
        x_priority++;
      if (*x_priority == '1' || *x_priority == '2')
        return MSG_PRIORITY_URGENT;
      if (*x_priority == '4' || *x_priority == '5')
        return MSG_PRIORITY_NON_URGENT;
    }
  return MSG_PRIORITY_NORMAL;
}

/**
 * msg_message_set_priority: (set-property priority)
 * @self: a message
 * @priority: the priority
 *
 * Sets the `Priority` header (`non-urgent`, `normal`, `urgent`) and, for
 * the mail readers that only know it, `X-Priority` (`5`, `3`, `1`).
 */
void
msg_message_set_priority (MsgMessage *self,
                          MsgPriority priority)
{
  static const char *const x_priority[] = { "5 (Lowest)", "3 (Normal)", "1 (Highest)" };
  MsgPriority              old;

  g_return_if_fail (MSG_IS_MESSAGE (self));
  g_return_if_fail (priority >= MSG_PRIORITY_NON_URGENT && priority <= MSG_PRIORITY_URGENT);

  old = msg_message_get_priority (self);
  g_mime_object_set_header (GMIME_OBJECT (self->mime), "Priority", priority_values[priority + 1], NULL);
  g_mime_object_set_header (GMIME_OBJECT (self->mime), "X-Priority", x_priority[priority + 1], NULL);
  if (old != priority)
    g_object_notify (G_OBJECT (self), "priority");
}

/**
 * msg_message_get_sensitivity: (get-property sensitivity)
 * @self: a message
 *
 * Gets the sensitivity from the `Sensitivity` header (RFC 2156): CDO's
 * `http://schemas.microsoft.com/exchange/sensitivity`.
 *
 * Returns: the sensitivity; %MSG_SENSITIVITY_NONE without the header
 */
MsgSensitivity
msg_message_get_sensitivity (MsgMessage *self)
{
  int index;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), MSG_SENSITIVITY_NONE);

  index = header_enum (self, "Sensitivity", sensitivity_values, G_N_ELEMENTS (sensitivity_values));
  return index >= 0 ? (MsgSensitivity) index : MSG_SENSITIVITY_NONE;
}

/**
 * msg_message_set_sensitivity: (set-property sensitivity)
 * @self: a message
 * @sensitivity: the sensitivity
 *
 * Sets the `Sensitivity` header to `Personal`, `Private` or
 * `Company-Confidential`; %MSG_SENSITIVITY_NONE removes it.
 */
void
msg_message_set_sensitivity (MsgMessage    *self,
                             MsgSensitivity sensitivity)
{
  MsgSensitivity old;

  g_return_if_fail (MSG_IS_MESSAGE (self));
  g_return_if_fail (sensitivity >= MSG_SENSITIVITY_NONE && sensitivity <= MSG_SENSITIVITY_COMPANY_CONFIDENTIAL);

  old = msg_message_get_sensitivity (self);
  if (sensitivity == MSG_SENSITIVITY_NONE)
    while (g_mime_object_remove_header (GMIME_OBJECT (self->mime), "Sensitivity"))
      ;
  else
    g_mime_object_set_header (GMIME_OBJECT (self->mime), "Sensitivity", sensitivity_values[sensitivity], NULL);
  if (old != sensitivity)
    g_object_notify (G_OBJECT (self), "sensitivity");
}

/* Enumeration */

/* The headers of the message as written, in order: the message's own,
 * then those of the root of the MIME tree (Content-Type…). */
static void
add_written (GPtrArray       *headers,
             GMimeHeaderList *list)
{
  for (int i = 0; i < g_mime_header_list_get_count (list); i++)
    {
      GMimeHeader *header = g_mime_header_list_get_header_at (list, i);
      const char  *raw = g_mime_header_get_raw_value (header);

      /* GMime keeps empty slots for the address headers: not written. */
      if (raw != NULL && *raw != '\0')
        g_ptr_array_add (headers, header);
    }
}

static GPtrArray *
all_headers (MsgMessage *self)
{
  GPtrArray   *headers = g_ptr_array_new ();
  GMimeObject *root;

  _msg_message_ensure_tree (self);
  add_written (headers, g_mime_object_get_header_list (GMIME_OBJECT (self->mime)));

  root = g_mime_message_get_mime_part (self->mime);
  if (root != NULL)
    {
      add_written (headers, g_mime_object_get_header_list (root));
    }
  return headers;
}

/**
 * msg_message_get_field_count:
 * @self: a message
 *
 * Gets the number of the message's fields (CDO's `Fields.Count`): its
 * headers, in the order they are written, including those of the root of
 * the MIME tree (`MIME-Version`, `Content-Type`…). A header that occurs
 * twice (`Received`) counts twice.
 *
 * Returns: the number of fields
 */
guint
msg_message_get_field_count (MsgMessage *self)
{
  g_autoptr (GPtrArray) headers = NULL;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), 0);

  headers = all_headers (self);
  return headers->len;
}

/**
 * msg_message_get_field_at:
 * @self: a message
 * @index: the position of the field, from 0
 * @name: (out) (optional) (transfer full): return location for the
 *   header name, as written
 * @value: (out) (optional) (transfer full): return location for the
 *   decoded value
 *
 * Gets one field of the message, in the order of
 * [method@Message.get_field_count]: `For Each f In Message.Fields`.
 *
 * Returns: %TRUE if @index is less than the count
 */
gboolean
msg_message_get_field_at (MsgMessage *self,
                          guint       index,
                          char      **name,
                          char      **value)
{
  g_autoptr (GPtrArray) headers = NULL;
  GMimeHeader *header;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), FALSE);

  headers = all_headers (self);
  if (index >= headers->len)
    return FALSE;

  header = g_ptr_array_index (headers, index);
  if (name != NULL)
    *name = g_strdup (g_mime_header_get_name (header));
  if (value != NULL)
    *value = g_strdup (g_mime_header_get_value (header));
  return TRUE;
}

/**
 * msg_message_list_field_names:
 * @self: a message
 *
 * Gets the names of the message's fields, in order, as
 * [method@Message.get_field_at] gives them (a repeated header appears
 * as often as it occurs).
 *
 * Returns: (transfer full): the names
 */
GStrv
msg_message_list_field_names (MsgMessage *self)
{
  g_autoptr (GPtrArray) headers = NULL;
  GStrvBuilder *builder;
  GStrv         names;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);

  headers = all_headers (self);
  builder = g_strv_builder_new ();
  for (guint i = 0; i < headers->len; i++)
    g_strv_builder_add (builder, g_mime_header_get_name (g_ptr_array_index (headers, i)));
  names = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);
  return names;
}

/**
 * msg_message_get_field:
 * @self: a message
 * @name: a header name, `urn:schemas:mailheader:NAME`, or a CDO field such
 *   as `urn:schemas:httpmail:normalizedsubject`
 * @error: return location for an error
 *
 * Gets a field of the message as CDO's `Fields(name)` does. The
 * `urn:schemas:httpmail:` fields CDO documents are mapped to what they
 * mean (docs/porting.md lists them); a field that has no meaning here is
 * %MSG_MESSAGE_ERROR_NOT_SUPPORTED naming it, where
 * [method@Message.get_header] only returns %NULL.
 *
 * Returns: (transfer full) (nullable): the value, or %NULL if the message
 *   has none (@error unset) or on error
 */
char *
msg_message_get_field (MsgMessage *self,
                       const char *name,
                       GError    **error)
{
  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (_msg_is_urn_field (name) &&
      g_ascii_strncasecmp (name, "urn:schemas:mailheader:", strlen ("urn:schemas:mailheader:")) != 0)
    return _msg_message_get_urn_field (self, name, error);
  return msg_message_get_header (self, name);
}
