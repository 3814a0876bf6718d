/* msg-message.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-message-private.h"

#include "msg-address-utils-private.h"
#include "msg-body-part-private.h"
#include "msg-configuration.h"
#include "msg-enum-types.h"
#include "msg-header-utils-private.h"
#include "msg-html-to-text-private.h"
#include "msg-mime-utils-private.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

/**
 * MsgMessage:
 *
 * A mail message or news article: CDO's `Message`.
 *
 * Set its headers through properties ([property@Message:from],
 * [property@Message:to], [property@Message:subject]…) or
 * [method@Message.set_header]; give it a [property@Message:text-body], an
 * [property@Message:html-body], attachments and related parts; write it
 * with [method@Message.to_bytes], [method@Message.write_to_stream] or
 * [method@Message.save_to_file]. A message can also be parsed from any
 * RFC 5322 input with [ctor@Message.new_from_bytes] and friends.
 *
 * The MIME structure follows CDO: text alone is a single `text/plain`
 * part; an HTML body gives `multipart/alternative` with a text part made
 * from the HTML while [property@Message:auto-generate-text-body] holds;
 * related parts give `multipart/related` around the HTML; attachments give
 * `multipart/mixed`. Output is UTF-8, non-ASCII headers are RFC 2047
 * encoded, bodies get the transfer encoding that fits (no line exceeds 998
 * octets) and every line ends with CRLF.
 *
 * Every value that becomes a header is validated before it is stored:
 * control characters (CR and LF above all) are refused, addresses must
 * parse completely. The setters return %FALSE with
 * %MSG_MESSAGE_ERROR_INVALID_HEADER or %MSG_MESSAGE_ERROR_INVALID_ADDRESS;
 * through g_object_set() an invalid value is logged with a warning and the
 * property keeps its value. The setters with a #GError
 * ([method@Message.set_to] and the others) are therefore the checked path:
 * use them for any value that comes from a user or a file.
 *
 * A message is used from one thread at a time. A transport may write it
 * from a worker thread while its caller waits: do not modify a message
 * while it is being sent.
 */

/**
 * msg_message_error_quark:
 *
 * Gets the error domain of message errors, %MSG_MESSAGE_ERROR.
 *
 * Returns: the #GQuark of the domain
 */
/* The quark's name must keep its dashes. */
/* clang-format off */
G_DEFINE_QUARK (msg-message-error-quark, msg_message_error)
/* clang-format on */
G_DEFINE_FINAL_TYPE (MsgMessage, msg_message, G_TYPE_OBJECT)

static GParamSpec *properties[MSG_MESSAGE_N_PROPS];

void
_msg_message_notify (MsgMessage    *self,
                     MsgMessageProp prop)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

/* GObject */

static void
msg_message_dispose (GObject *object)
{
  MsgMessage *self = MSG_MESSAGE (object);

  g_clear_object (&self->configuration);
  if (self->attachments != NULL)
    g_ptr_array_set_size (self->attachments, 0);
  if (self->related != NULL)
    g_ptr_array_set_size (self->related, 0);

  G_OBJECT_CLASS (msg_message_parent_class)->dispose (object);
}

static void
msg_message_finalize (GObject *object)
{
  MsgMessage *self = MSG_MESSAGE (object);

  g_clear_object (&self->mime);
  g_clear_pointer (&self->spool, g_bytes_unref);
  g_clear_pointer (&self->text_body, g_free);
  g_clear_pointer (&self->html_body, g_free);
  g_clear_pointer (&self->attachments, g_ptr_array_unref);
  g_clear_pointer (&self->related, g_ptr_array_unref);
  g_clear_object (&self->built_text);
  g_clear_object (&self->built_html);
  g_clear_object (&self->unsealed);
  if (self->attachments_model != NULL)
    g_object_remove_weak_pointer (G_OBJECT (self->attachments_model), (gpointer *) &self->attachments_model);

  G_OBJECT_CLASS (msg_message_parent_class)->finalize (object);
}

static void
msg_message_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  MsgMessage *self = MSG_MESSAGE (object);

  switch (prop_id)
    {
    case MSG_MESSAGE_PROP_FROM:
      g_value_take_string (value, msg_message_get_from (self));
      break;
    case MSG_MESSAGE_PROP_SENDER:
      g_value_take_string (value, msg_message_get_sender (self));
      break;
    case MSG_MESSAGE_PROP_REPLY_TO:
      g_value_take_string (value, msg_message_get_reply_to (self));
      break;
    case MSG_MESSAGE_PROP_TO:
      g_value_take_string (value, msg_message_get_to (self));
      break;
    case MSG_MESSAGE_PROP_CC:
      g_value_take_string (value, msg_message_get_cc (self));
      break;
    case MSG_MESSAGE_PROP_BCC:
      g_value_take_string (value, msg_message_get_bcc (self));
      break;
    case MSG_MESSAGE_PROP_SUBJECT:
      g_value_take_string (value, msg_message_get_subject (self));
      break;
    case MSG_MESSAGE_PROP_TEXT_BODY:
      g_value_take_string (value, msg_message_get_text_body (self));
      break;
    case MSG_MESSAGE_PROP_HTML_BODY:
      g_value_take_string (value, msg_message_get_html_body (self));
      break;
    case MSG_MESSAGE_PROP_NEWSGROUPS:
      g_value_take_string (value, msg_message_get_newsgroups (self));
      break;
    case MSG_MESSAGE_PROP_FOLLOWUP_TO:
      g_value_take_string (value, msg_message_get_followup_to (self));
      break;
    case MSG_MESSAGE_PROP_KEYWORDS:
      g_value_take_string (value, msg_message_get_keywords (self));
      break;
    case MSG_MESSAGE_PROP_ORGANIZATION:
      g_value_take_string (value, msg_message_get_organization (self));
      break;
    case MSG_MESSAGE_PROP_SENT_ON:
      g_value_take_boxed (value, msg_message_get_sent_on (self));
      break;
    case MSG_MESSAGE_PROP_MESSAGE_ID:
      g_value_take_string (value, msg_message_get_message_id (self));
      break;
    case MSG_MESSAGE_PROP_MDN_REQUESTED:
      g_value_set_boolean (value, msg_message_get_mdn_requested (self));
      break;
    case MSG_MESSAGE_PROP_DSN_OPTIONS:
      g_value_set_flags (value, msg_message_get_dsn_options (self));
      break;
    case MSG_MESSAGE_PROP_IMPORTANCE:
      g_value_set_enum (value, msg_message_get_importance (self));
      break;
    case MSG_MESSAGE_PROP_PRIORITY:
      g_value_set_enum (value, msg_message_get_priority (self));
      break;
    case MSG_MESSAGE_PROP_SENSITIVITY:
      g_value_set_enum (value, msg_message_get_sensitivity (self));
      break;
    case MSG_MESSAGE_PROP_AUTO_GENERATE_TEXT_BODY:
      g_value_set_boolean (value, msg_message_get_auto_generate_text_body (self));
      break;
    case MSG_MESSAGE_PROP_MIME_FORMATTED:
      g_value_set_boolean (value, msg_message_get_mime_formatted (self));
      break;
    case MSG_MESSAGE_PROP_CONFIGURATION:
      g_value_set_object (value, msg_message_get_configuration (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
set_with_warning (MsgMessage     *self,
                  MsgStringSetter setter,
                  const char     *value,
                  GParamSpec     *pspec)
{
  g_autoptr (GError) error = NULL;

  const char      *header;
  g_autofree char *function = NULL;

  if (setter (self, value, &error))
    return;
  function = g_strdelimit (g_strdup (pspec->name), "-", '_');
  header = _msg_message_setter_header_name (setter);
  if (header == NULL)
    header = pspec->name;
  /* A property cannot report an error: say which call can. */
  g_warning ("Cannot set the %s header of a message (property “%s”): %s; "
             "msg_message_set_%s() returns the error",
             header, pspec->name, error->message, function);
}

static void
msg_message_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  MsgMessage *self = MSG_MESSAGE (object);

  switch (prop_id)
    {
    case MSG_MESSAGE_PROP_FROM:
      set_with_warning (self, msg_message_set_from, g_value_get_string (value), pspec);
      break;
    case MSG_MESSAGE_PROP_SENDER:
      set_with_warning (self, msg_message_set_sender, g_value_get_string (value), pspec);
      break;
    case MSG_MESSAGE_PROP_REPLY_TO:
      set_with_warning (self, msg_message_set_reply_to, g_value_get_string (value), pspec);
      break;
    case MSG_MESSAGE_PROP_TO:
      set_with_warning (self, msg_message_set_to, g_value_get_string (value), pspec);
      break;
    case MSG_MESSAGE_PROP_CC:
      set_with_warning (self, msg_message_set_cc, g_value_get_string (value), pspec);
      break;
    case MSG_MESSAGE_PROP_BCC:
      set_with_warning (self, msg_message_set_bcc, g_value_get_string (value), pspec);
      break;
    case MSG_MESSAGE_PROP_SUBJECT:
      set_with_warning (self, msg_message_set_subject, g_value_get_string (value), pspec);
      break;
    case MSG_MESSAGE_PROP_TEXT_BODY:
      msg_message_set_text_body (self, g_value_get_string (value));
      break;
    case MSG_MESSAGE_PROP_HTML_BODY:
      msg_message_set_html_body (self, g_value_get_string (value));
      break;
    case MSG_MESSAGE_PROP_NEWSGROUPS:
      set_with_warning (self, msg_message_set_newsgroups, g_value_get_string (value), pspec);
      break;
    case MSG_MESSAGE_PROP_FOLLOWUP_TO:
      set_with_warning (self, msg_message_set_followup_to, g_value_get_string (value), pspec);
      break;
    case MSG_MESSAGE_PROP_KEYWORDS:
      set_with_warning (self, msg_message_set_keywords, g_value_get_string (value), pspec);
      break;
    case MSG_MESSAGE_PROP_ORGANIZATION:
      set_with_warning (self, msg_message_set_organization, g_value_get_string (value), pspec);
      break;
    case MSG_MESSAGE_PROP_SENT_ON:
      msg_message_set_sent_on (self, g_value_get_boxed (value));
      break;
    case MSG_MESSAGE_PROP_MESSAGE_ID:
      set_with_warning (self, msg_message_set_message_id, g_value_get_string (value), pspec);
      break;
    case MSG_MESSAGE_PROP_MDN_REQUESTED:
      msg_message_set_mdn_requested (self, g_value_get_boolean (value));
      break;
    case MSG_MESSAGE_PROP_DSN_OPTIONS:
      msg_message_set_dsn_options (self, g_value_get_flags (value));
      break;
    case MSG_MESSAGE_PROP_IMPORTANCE:
      msg_message_set_importance (self, g_value_get_enum (value));
      break;
    case MSG_MESSAGE_PROP_PRIORITY:
      msg_message_set_priority (self, g_value_get_enum (value));
      break;
    case MSG_MESSAGE_PROP_SENSITIVITY:
      msg_message_set_sensitivity (self, g_value_get_enum (value));
      break;
    case MSG_MESSAGE_PROP_AUTO_GENERATE_TEXT_BODY:
      msg_message_set_auto_generate_text_body (self, g_value_get_boolean (value));
      break;
    case MSG_MESSAGE_PROP_MIME_FORMATTED:
      msg_message_set_mime_formatted (self, g_value_get_boolean (value));
      break;
    case MSG_MESSAGE_PROP_CONFIGURATION:
      msg_message_set_configuration (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
msg_message_constructed (GObject *object)
{
  MsgMessage *self = MSG_MESSAGE (object);

  G_OBJECT_CLASS (msg_message_parent_class)->constructed (object);

  if (self->configuration == NULL)
    self->configuration = msg_configuration_new ();
}

static GParamSpec *
string_property (const char *name)
{
  return g_param_spec_string (name, NULL, NULL, NULL,
                              G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
}

static GParamSpec *
boolean_property (const char *name,
                  gboolean    default_value)
{
  return g_param_spec_boolean (name, NULL, NULL, default_value,
                               G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
}

static void
msg_message_class_init (MsgMessageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  _msg_gmime_ensure_init ();

  object_class->dispose = msg_message_dispose;
  object_class->finalize = msg_message_finalize;
  object_class->get_property = msg_message_get_property;
  object_class->set_property = msg_message_set_property;
  object_class->constructed = msg_message_constructed;

  /**
   * MsgMessage:from: (getter get_from) (setter set_from)
   *
   * The `From` header: one or more mailboxes (no groups), as an RFC 5322
   * string.
   */
  properties[MSG_MESSAGE_PROP_FROM] = string_property ("from");

  /**
   * MsgMessage:sender: (getter get_sender) (setter set_sender)
   *
   * The `Sender` header: the single mailbox that submitted the message.
   */
  properties[MSG_MESSAGE_PROP_SENDER] = string_property ("sender");

  /**
   * MsgMessage:reply-to: (getter get_reply_to) (setter set_reply_to)
   *
   * The `Reply-To` header: where replies go.
   */
  properties[MSG_MESSAGE_PROP_REPLY_TO] = string_property ("reply-to");

  /**
   * MsgMessage:to: (getter get_to) (setter set_to)
   *
   * The `To` header: an RFC 5322 address list; groups such as
   * `undisclosed-recipients:;` are allowed.
   */
  properties[MSG_MESSAGE_PROP_TO] = string_property ("to");

  /**
   * MsgMessage:cc: (getter get_cc) (setter set_cc)
   *
   * The `Cc` header: an RFC 5322 address list.
   */
  properties[MSG_MESSAGE_PROP_CC] = string_property ("cc");

  /**
   * MsgMessage:bcc: (getter get_bcc) (setter set_bcc)
   *
   * The `Bcc` header: envelope recipients that are kept out of the
   * message sent by SMTP or NNTP.
   */
  properties[MSG_MESSAGE_PROP_BCC] = string_property ("bcc");

  /**
   * MsgMessage:subject: (getter get_subject) (setter set_subject)
   *
   * The `Subject` header.
   */
  properties[MSG_MESSAGE_PROP_SUBJECT] = string_property ("subject");

  /**
   * MsgMessage:text-body: (getter get_text_body) (setter set_text_body)
   *
   * The plain-text body. Setting it turns
   * [property@Message:auto-generate-text-body] off, as in CDO.
   */
  properties[MSG_MESSAGE_PROP_TEXT_BODY] = string_property ("text-body");

  /**
   * MsgMessage:html-body: (getter get_html_body) (setter set_html_body)
   *
   * The HTML body. Setting it turns [property@Message:mime-formatted] on
   * and, while [property@Message:auto-generate-text-body] holds, replaces
   * the text body by a plain-text rendering of the HTML.
   */
  properties[MSG_MESSAGE_PROP_HTML_BODY] = string_property ("html-body");

  /**
   * MsgMessage:newsgroups: (getter get_newsgroups) (setter set_newsgroups)
   *
   * The `Newsgroups` header: comma-separated newsgroup names.
   */
  properties[MSG_MESSAGE_PROP_NEWSGROUPS] = string_property ("newsgroups");

  /**
   * MsgMessage:followup-to: (getter get_followup_to) (setter set_followup_to)
   *
   * The `Followup-To` header: comma-separated newsgroup names (or
   * `poster`).
   */
  properties[MSG_MESSAGE_PROP_FOLLOWUP_TO] = string_property ("followup-to");

  /**
   * MsgMessage:keywords: (getter get_keywords) (setter set_keywords)
   *
   * The `Keywords` header.
   */
  properties[MSG_MESSAGE_PROP_KEYWORDS] = string_property ("keywords");

  /**
   * MsgMessage:organization: (getter get_organization) (setter set_organization)
   *
   * The `Organization` header.
   */
  properties[MSG_MESSAGE_PROP_ORGANIZATION] = string_property ("organization");

  /**
   * MsgMessage:sent-on: (getter get_sent_on) (setter set_sent_on)
   *
   * The `Date` header. It is set when the message is sent if it is unset.
   */
  properties[MSG_MESSAGE_PROP_SENT_ON] =
      g_param_spec_boxed ("sent-on", NULL, NULL, G_TYPE_DATE_TIME,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MsgMessage:message-id: (getter get_message_id) (setter set_message_id)
   *
   * The `Message-ID` header, with its angle brackets. It is generated when
   * the message is sent if it is unset.
   */
  properties[MSG_MESSAGE_PROP_MESSAGE_ID] = string_property ("message-id");

  /**
   * MsgMessage:mdn-requested: (getter get_mdn_requested) (setter set_mdn_requested)
   *
   * Whether a message disposition notification (RFC 8098) is requested:
   * the `Disposition-Notification-To` header, set to the `From` addresses.
   */
  properties[MSG_MESSAGE_PROP_MDN_REQUESTED] = boolean_property ("mdn-requested", FALSE);

  /**
   * MsgMessage:dsn-options: (getter get_dsn_options) (setter set_dsn_options)
   *
   * Delivery status notifications requested from SMTP servers (RFC 3461).
   */
  properties[MSG_MESSAGE_PROP_DSN_OPTIONS] =
      g_param_spec_flags ("dsn-options", NULL, NULL, MSG_TYPE_DSN_OPTIONS, MSG_DSN_DEFAULT,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MsgMessage:auto-generate-text-body: (getter get_auto_generate_text_body) (setter set_auto_generate_text_body)
   *
   * Whether the text body is made from the HTML body. %TRUE on new
   * messages, %FALSE on parsed ones; setting the text body turns it off.
   */
  properties[MSG_MESSAGE_PROP_AUTO_GENERATE_TEXT_BODY] = boolean_property ("auto-generate-text-body", TRUE);

  /**
   * MsgMessage:mime-formatted: (getter get_mime_formatted) (setter set_mime_formatted)
   *
   * Whether the message is written as MIME. When %FALSE the HTML body is
   * dropped and attachments are appended to the text uuencoded, as CDO
   * does.
   */
  properties[MSG_MESSAGE_PROP_MIME_FORMATTED] = boolean_property ("mime-formatted", TRUE);

  /**
   * MsgMessage:configuration: (getter get_configuration) (setter set_configuration)
   *
   * The configuration used to send or post the message; a fresh one with
   * the built-in defaults when none is given.
   */
  properties[MSG_MESSAGE_PROP_CONFIGURATION] =
      g_param_spec_object ("configuration", NULL, NULL, MSG_TYPE_CONFIGURATION,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MsgMessage:importance: (getter get_importance) (setter set_importance)
   *
   * The `Importance` header (CDO's `urn:schemas:httpmail:importance`).
   */
  properties[MSG_MESSAGE_PROP_IMPORTANCE] =
      g_param_spec_enum ("importance", NULL, NULL, MSG_TYPE_IMPORTANCE, MSG_IMPORTANCE_NORMAL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MsgMessage:priority: (getter get_priority) (setter set_priority)
   *
   * The `Priority` and `X-Priority` headers (CDO's
   * `urn:schemas:httpmail:priority`).
   */
  properties[MSG_MESSAGE_PROP_PRIORITY] =
      g_param_spec_enum ("priority", NULL, NULL, MSG_TYPE_PRIORITY, MSG_PRIORITY_NORMAL,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MsgMessage:sensitivity: (getter get_sensitivity) (setter set_sensitivity)
   *
   * The `Sensitivity` header (CDO's
   * `http://schemas.microsoft.com/exchange/sensitivity`).
   */
  properties[MSG_MESSAGE_PROP_SENSITIVITY] =
      g_param_spec_enum ("sensitivity", NULL, NULL, MSG_TYPE_SENSITIVITY, MSG_SENSITIVITY_NONE,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, MSG_MESSAGE_N_PROPS, properties);
}

/* The parsed message _msg_message_new_for_mime() gives the instance it is
 * making on this thread: an empty GMimeMessage with its standard headers
 * and X-Mailer, made only to be replaced, was a fifth of the instructions
 * of parsing a 1 KiB message. */
static _Thread_local GMimeMessage *adopted_mime;

static void
msg_message_init (MsgMessage *self)
{
  if (adopted_mime != NULL)
    self->mime = g_steal_pointer (&adopted_mime);
  else
    {
      self->mime = g_mime_message_new (TRUE);
      g_mime_object_set_header (GMIME_OBJECT (self->mime), "X-Mailer",
                                "libmsgobj " PACKAGE_VERSION, NULL);
    }
  self->attachments = g_ptr_array_new_with_free_func (g_object_unref);
  self->related = g_ptr_array_new_with_free_func (g_object_unref);
  self->auto_generate_text_body = TRUE;
  self->mime_formatted = TRUE;
  self->dirty = TRUE;
}

/* Construction */

MsgMessage *
_msg_message_new_for_mime (GMimeMessage *mime)
{
  g_return_val_if_fail (GMIME_IS_MESSAGE (mime), NULL);

  adopted_mime = g_object_ref (mime);
  return g_object_new (MSG_TYPE_MESSAGE, NULL);
}

/**
 * msg_message_new:
 *
 * Creates an empty message with a configuration of built-in defaults.
 *
 * Returns: (transfer full): a new message
 */
MsgMessage *
msg_message_new (void)
{
  return g_object_new (MSG_TYPE_MESSAGE, NULL);
}

/**
 * msg_message_new_with_configuration:
 * @configuration: (nullable): the configuration to send with, or %NULL for
 *   the defaults
 *
 * Creates an empty message that uses @configuration.
 *
 * Returns: (transfer full): a new message
 */
MsgMessage *
msg_message_new_with_configuration (MsgConfiguration *configuration)
{
  g_return_val_if_fail (configuration == NULL || MSG_IS_CONFIGURATION (configuration), NULL);

  return g_object_new (MSG_TYPE_MESSAGE, "configuration", configuration, NULL);
}

/* Properties */

/**
 * msg_message_get_configuration: (get-property configuration)
 * @self: a message
 *
 * Gets the configuration used to send the message.
 *
 * Returns: (transfer none): the configuration
 */
MsgConfiguration *
msg_message_get_configuration (MsgMessage *self)
{
  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);

  return self->configuration;
}

/**
 * msg_message_set_configuration: (set-property configuration)
 * @self: a message
 * @configuration: (nullable): a configuration, or %NULL for a fresh one
 *   with built-in defaults
 *
 * Sets the configuration used to send the message.
 */
void
msg_message_set_configuration (MsgMessage       *self,
                               MsgConfiguration *configuration)
{
  g_return_if_fail (MSG_IS_MESSAGE (self));
  g_return_if_fail (configuration == NULL || MSG_IS_CONFIGURATION (configuration));

  if (configuration != NULL && configuration == self->configuration)
    return;

  g_clear_object (&self->configuration);
  self->configuration = configuration != NULL ? g_object_ref (configuration) : msg_configuration_new ();
  self->dirty = TRUE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[MSG_MESSAGE_PROP_CONFIGURATION]);
}

static char *
get_addresses (MsgMessage      *self,
               GMimeAddressType type)
{
  InternetAddressList *list;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);

  list = g_mime_message_get_addresses (self->mime, type);
  if (list == NULL || internet_address_list_length (list) == 0)
    return NULL;

  return internet_address_list_to_string (list, NULL, FALSE);
}

static void sync_mdn (MsgMessage *self);

static gboolean
set_addresses (MsgMessage      *self,
               GMimeAddressType type,
               guint            prop_id,
               const char      *value,
               GError         **error)
{
  const char *field = _msg_message_address_header_name (type);
  g_autoptr (InternetAddressList) parsed = NULL;
  g_autofree char     *before = NULL;
  g_autofree char     *after = NULL;
  InternetAddressList *list;
  gboolean             allow_groups;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  allow_groups = type == GMIME_ADDRESS_TYPE_TO || type == GMIME_ADDRESS_TYPE_CC ||
                 type == GMIME_ADDRESS_TYPE_BCC || type == GMIME_ADDRESS_TYPE_REPLY_TO;

  if (value != NULL)
    {
      g_autofree char *stripped = g_strstrip (g_strdup (value));

      if (*stripped != '\0')
        {
          parsed = _msg_parse_address_list (field, value, allow_groups, error);
          if (parsed == NULL)
            return FALSE;

          if (type == GMIME_ADDRESS_TYPE_SENDER && internet_address_list_length (parsed) != 1)
            {
              g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ADDRESS,
                           "Sender must be a single mailbox, not “%s”", value);
              return FALSE;
            }
        }
    }

  before = get_addresses (self, type);
  list = g_mime_message_get_addresses (self->mime, type);
  /* Clearing an empty list still makes GMime re-encode the header. */
  if (parsed == NULL || internet_address_list_length (list) > 0)
    internet_address_list_clear (list);
  if (parsed != NULL)
    internet_address_list_append (list, parsed);
  else
    g_mime_header_list_remove (g_mime_object_get_header_list (GMIME_OBJECT (self->mime)), field);
  after = get_addresses (self, type);

  if (type == GMIME_ADDRESS_TYPE_FROM)
    sync_mdn (self);

  if (g_strcmp0 (before, after) != 0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);

  return TRUE;
}

/**
 * msg_message_get_from: (get-property from)
 * @self: a message
 *
 * Gets the `From` addresses.
 *
 * Returns: (transfer full) (nullable): the addresses as an RFC 5322 string
 */
char *
msg_message_get_from (MsgMessage *self)
{
  return get_addresses (self, GMIME_ADDRESS_TYPE_FROM);
}

/**
 * msg_message_set_from: (set-property from)
 * @self: a message
 * @from: (nullable): one or more mailboxes such as
 *   `Ann <ann@example.com>`, or %NULL to remove the header
 * @error: return location for an error
 *
 * Sets the `From` addresses.
 *
 * Returns: %TRUE on success; %FALSE with %MSG_MESSAGE_ERROR_INVALID_ADDRESS
 *   for an address list that does not parse completely
 */
gboolean
msg_message_set_from (MsgMessage *self,
                      const char *from,
                      GError    **error)
{
  return set_addresses (self, GMIME_ADDRESS_TYPE_FROM, MSG_MESSAGE_PROP_FROM, from, error);
}

/**
 * msg_message_get_sender: (get-property sender)
 * @self: a message
 *
 * Gets the `Sender` address.
 *
 * Returns: (transfer full) (nullable): the address
 */
char *
msg_message_get_sender (MsgMessage *self)
{
  return get_addresses (self, GMIME_ADDRESS_TYPE_SENDER);
}

/**
 * msg_message_set_sender: (set-property sender)
 * @self: a message
 * @sender: (nullable): a single mailbox, or %NULL to remove the header
 * @error: return location for an error
 *
 * Sets the `Sender` address. The envelope sender of SMTP is the Sender
 * when it is set, else the first From address.
 *
 * Returns: %TRUE on success
 */
gboolean
msg_message_set_sender (MsgMessage *self,
                        const char *sender,
                        GError    **error)
{
  return set_addresses (self, GMIME_ADDRESS_TYPE_SENDER, MSG_MESSAGE_PROP_SENDER, sender, error);
}

/**
 * msg_message_get_reply_to: (get-property reply-to)
 * @self: a message
 *
 * Gets the `Reply-To` addresses.
 *
 * Returns: (transfer full) (nullable): the addresses
 */
char *
msg_message_get_reply_to (MsgMessage *self)
{
  return get_addresses (self, GMIME_ADDRESS_TYPE_REPLY_TO);
}

/**
 * msg_message_set_reply_to: (set-property reply-to)
 * @self: a message
 * @reply_to: (nullable): an address list, or %NULL to remove the header
 * @error: return location for an error
 *
 * Sets the `Reply-To` addresses.
 *
 * Returns: %TRUE on success
 */
gboolean
msg_message_set_reply_to (MsgMessage *self,
                          const char *reply_to,
                          GError    **error)
{
  return set_addresses (self, GMIME_ADDRESS_TYPE_REPLY_TO, MSG_MESSAGE_PROP_REPLY_TO, reply_to, error);
}

/**
 * msg_message_get_to: (get-property to)
 * @self: a message
 *
 * Gets the `To` addresses.
 *
 * Returns: (transfer full) (nullable): the addresses
 */
char *
msg_message_get_to (MsgMessage *self)
{
  return get_addresses (self, GMIME_ADDRESS_TYPE_TO);
}

/**
 * msg_message_set_to: (set-property to)
 * @self: a message
 * @to: (nullable): an address list such as
 *   `Ann <ann@example.com>, bob@example.org`, or %NULL to remove the header
 * @error: return location for an error
 *
 * Sets the `To` addresses. Groups are allowed; their members are envelope
 * recipients.
 *
 * Returns: %TRUE on success
 */
gboolean
msg_message_set_to (MsgMessage *self,
                    const char *to,
                    GError    **error)
{
  return set_addresses (self, GMIME_ADDRESS_TYPE_TO, MSG_MESSAGE_PROP_TO, to, error);
}

/**
 * msg_message_get_cc: (get-property cc)
 * @self: a message
 *
 * Gets the `Cc` addresses.
 *
 * Returns: (transfer full) (nullable): the addresses
 */
char *
msg_message_get_cc (MsgMessage *self)
{
  return get_addresses (self, GMIME_ADDRESS_TYPE_CC);
}

/**
 * msg_message_set_cc: (set-property cc)
 * @self: a message
 * @cc: (nullable): an address list, or %NULL to remove the header
 * @error: return location for an error
 *
 * Sets the `Cc` addresses.
 *
 * Returns: %TRUE on success
 */
gboolean
msg_message_set_cc (MsgMessage *self,
                    const char *cc,
                    GError    **error)
{
  return set_addresses (self, GMIME_ADDRESS_TYPE_CC, MSG_MESSAGE_PROP_CC, cc, error);
}

/**
 * msg_message_get_bcc: (get-property bcc)
 * @self: a message
 *
 * Gets the `Bcc` addresses.
 *
 * Returns: (transfer full) (nullable): the addresses
 */
char *
msg_message_get_bcc (MsgMessage *self)
{
  return get_addresses (self, GMIME_ADDRESS_TYPE_BCC);
}

/**
 * msg_message_set_bcc: (set-property bcc)
 * @self: a message
 * @bcc: (nullable): an address list, or %NULL to remove the header
 * @error: return location for an error
 *
 * Sets the `Bcc` addresses. They are envelope recipients; the header is
 * kept by [method@Message.to_bytes] (as CDO's `GetStream` does) and left
 * out of what SMTP and NNTP send.
 *
 * Returns: %TRUE on success
 */
gboolean
msg_message_set_bcc (MsgMessage *self,
                     const char *bcc,
                     GError    **error)
{
  return set_addresses (self, GMIME_ADDRESS_TYPE_BCC, MSG_MESSAGE_PROP_BCC, bcc, error);
}

/**
 * msg_message_get_subject: (get-property subject)
 * @self: a message
 *
 * Gets the decoded `Subject`.
 *
 * Returns: (transfer full) (nullable): the subject
 */
char *
msg_message_get_subject (MsgMessage *self)
{
  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);

  return g_strdup (g_mime_message_get_subject (self->mime));
}

/**
 * msg_message_set_subject: (set-property subject)
 * @self: a message
 * @subject: (nullable): the subject, or %NULL to remove it
 * @error: return location for an error
 *
 * Sets the `Subject`. Non-ASCII text is RFC 2047 encoded when written.
 *
 * Returns: %TRUE on success; %FALSE with %MSG_MESSAGE_ERROR_INVALID_HEADER
 *   for control characters such as CR and LF
 */
gboolean
msg_message_set_subject (MsgMessage *self,
                         const char *subject,
                         GError    **error)
{
  g_return_val_if_fail (MSG_IS_MESSAGE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!_msg_check_header_value ("Subject", subject, error))
    return FALSE;

  if (g_strcmp0 (subject, g_mime_message_get_subject (self->mime)) == 0)
    return TRUE;

  if (subject != NULL)
    g_mime_message_set_subject (self->mime, subject, "utf-8");
  else
    g_mime_object_remove_header (GMIME_OBJECT (self->mime), "Subject");

  g_object_notify_by_pspec (G_OBJECT (self), properties[MSG_MESSAGE_PROP_SUBJECT]);
  return TRUE;
}

/**
 * msg_message_get_text_body: (get-property text-body)
 * @self: a message
 *
 * Gets the plain-text body; for a parsed message, the first text/plain
 * part that is not an attachment, converted to UTF-8.
 *
 * Returns: (transfer full) (nullable): the text
 */
char *
msg_message_get_text_body (MsgMessage *self)
{
  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);

  if (self->parsed)
    {
      GMimeObject *root = g_mime_message_get_mime_part (self->mime);
      GMimeObject *text = root != NULL ? _msg_find_text_object (root, "plain") : NULL;

      return text != NULL ? _msg_body_part_get_text (text) : NULL;
    }

  if (self->text_body == NULL && self->html_body != NULL && self->auto_generate_text_body)
    return _msg_html_to_text (self->html_body);

  return g_strdup (self->text_body);
}

/**
 * msg_message_set_text_body: (set-property text-body)
 * @self: a message
 * @text_body: (nullable): the text
 *
 * Sets the plain-text body and turns
 * [property@Message:auto-generate-text-body] off (CDO's rule).
 */
void
msg_message_set_text_body (MsgMessage *self,
                           const char *text_body)
{
  g_return_if_fail (MSG_IS_MESSAGE (self));

  g_free (self->text_body);
  self->text_body = _msg_make_valid_text (text_body);
  if (!_msg_message_set_body_in_place (self, "plain", self->text_body))
    {
      g_autofree char *text = g_steal_pointer (&self->text_body);

      _msg_message_materialise (self);
      g_free (self->text_body);
      self->text_body = g_steal_pointer (&text);
      self->dirty = TRUE;
    }

  if (self->auto_generate_text_body)
    {
      self->auto_generate_text_body = FALSE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[MSG_MESSAGE_PROP_AUTO_GENERATE_TEXT_BODY]);
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[MSG_MESSAGE_PROP_TEXT_BODY]);
}

/**
 * msg_message_get_html_body: (get-property html-body)
 * @self: a message
 *
 * Gets the HTML body; for a parsed message, the first text/html part that
 * is not an attachment.
 *
 * Returns: (transfer full) (nullable): the HTML
 */
char *
msg_message_get_html_body (MsgMessage *self)
{
  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);

  if (self->parsed)
    {
      GMimeObject *root = g_mime_message_get_mime_part (self->mime);
      GMimeObject *html = root != NULL ? _msg_find_text_object (root, "html") : NULL;

      return html != NULL ? _msg_body_part_get_text (html) : NULL;
    }

  return g_strdup (self->html_body);
}

/**
 * msg_message_set_html_body: (set-property html-body)
 * @self: a message
 * @html_body: (nullable): the HTML
 *
 * Sets the HTML body. This turns [property@Message:mime-formatted] on and,
 * while [property@Message:auto-generate-text-body] holds, sets the text
 * body to a plain-text rendering of the HTML (tags stripped, entities
 * decoded, paragraphs and line breaks kept).
 */
void
msg_message_set_html_body (MsgMessage *self,
                           const char *html_body)
{
  g_return_if_fail (MSG_IS_MESSAGE (self));

  g_free (self->html_body);
  self->html_body = _msg_make_valid_text (html_body);
  if (!_msg_message_set_body_in_place (self, "html", self->html_body))
    {
      g_autofree char *html = g_steal_pointer (&self->html_body);

      _msg_message_materialise (self);
      g_free (self->html_body);
      self->html_body = g_steal_pointer (&html);
      self->dirty = TRUE;
    }

  if (self->html_body != NULL && !self->mime_formatted)
    {
      self->mime_formatted = TRUE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[MSG_MESSAGE_PROP_MIME_FORMATTED]);
    }

  if (self->auto_generate_text_body)
    {
      g_free (self->text_body);
      self->text_body = self->html_body != NULL ? _msg_html_to_text (self->html_body) : NULL;
      g_object_notify_by_pspec (G_OBJECT (self), properties[MSG_MESSAGE_PROP_TEXT_BODY]);
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[MSG_MESSAGE_PROP_HTML_BODY]);
}

static char *
get_unstructured (MsgMessage *self,
                  const char *name)
{
  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);

  return g_strdup (g_mime_object_get_header (GMIME_OBJECT (self->mime), name));
}

static void
store_unstructured (MsgMessage *self,
                    const char *name,
                    const char *value,
                    guint       prop_id)
{
  if (g_strcmp0 (value, g_mime_object_get_header (GMIME_OBJECT (self->mime), name)) == 0)
    return;

  if (value != NULL)
    g_mime_object_set_header (GMIME_OBJECT (self->mime), name, value, "utf-8");
  else
    g_mime_object_remove_header (GMIME_OBJECT (self->mime), name);

  if (prop_id != MSG_MESSAGE_PROP_0)
    g_object_notify_by_pspec (G_OBJECT (self), properties[prop_id]);
}

static gboolean
set_unstructured (MsgMessage *self,
                  const char *name,
                  const char *value,
                  guint       prop_id,
                  GError    **error)
{
  g_return_val_if_fail (MSG_IS_MESSAGE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!_msg_check_header_value (name, value, error))
    return FALSE;

  store_unstructured (self, name, value, prop_id);
  return TRUE;
}

static gboolean
set_newsgroups_header (MsgMessage *self,
                       const char *name,
                       const char *value,
                       guint       prop_id,
                       GError    **error)
{
  g_autofree char *normalised = NULL;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (value != NULL && !_msg_check_newsgroups (name, value, &normalised, error))
    return FALSE;

  store_unstructured (self, name, normalised, prop_id);
  return TRUE;
}

/**
 * msg_message_get_newsgroups: (get-property newsgroups)
 * @self: a message
 *
 * Gets the `Newsgroups` header.
 *
 * Returns: (transfer full) (nullable): comma-separated newsgroup names
 */
char *
msg_message_get_newsgroups (MsgMessage *self)
{
  return get_unstructured (self, "Newsgroups");
}

/**
 * msg_message_set_newsgroups: (set-property newsgroups)
 * @self: a message
 * @newsgroups: (nullable): comma-separated newsgroup names (letters,
 *   digits and `.+_-`), or %NULL to remove the header
 * @error: return location for an error
 *
 * Sets the newsgroups a post goes to. White space around the commas is
 * removed.
 *
 * Returns: %TRUE on success
 */
gboolean
msg_message_set_newsgroups (MsgMessage *self,
                            const char *newsgroups,
                            GError    **error)
{
  return set_newsgroups_header (self, "Newsgroups", newsgroups, MSG_MESSAGE_PROP_NEWSGROUPS, error);
}

/**
 * msg_message_get_followup_to: (get-property followup-to)
 * @self: a message
 *
 * Gets the `Followup-To` header.
 *
 * Returns: (transfer full) (nullable): comma-separated newsgroup names
 */
char *
msg_message_get_followup_to (MsgMessage *self)
{
  return get_unstructured (self, "Followup-To");
}

/**
 * msg_message_set_followup_to: (set-property followup-to)
 * @self: a message
 * @followup_to: (nullable): comma-separated newsgroup names, or %NULL to
 *   remove the header
 * @error: return location for an error
 *
 * Sets where follow-ups to a post go.
 *
 * Returns: %TRUE on success
 */
gboolean
msg_message_set_followup_to (MsgMessage *self,
                             const char *followup_to,
                             GError    **error)
{
  return set_newsgroups_header (self, "Followup-To", followup_to, MSG_MESSAGE_PROP_FOLLOWUP_TO, error);
}

/**
 * msg_message_get_keywords: (get-property keywords)
 * @self: a message
 *
 * Gets the `Keywords` header.
 *
 * Returns: (transfer full) (nullable): the keywords
 */
char *
msg_message_get_keywords (MsgMessage *self)
{
  return get_unstructured (self, "Keywords");
}

/**
 * msg_message_set_keywords: (set-property keywords)
 * @self: a message
 * @keywords: (nullable): comma-separated keywords, or %NULL to remove the
 *   header
 * @error: return location for an error
 *
 * Sets the `Keywords` header.
 *
 * Returns: %TRUE on success
 */
gboolean
msg_message_set_keywords (MsgMessage *self,
                          const char *keywords,
                          GError    **error)
{
  return set_unstructured (self, "Keywords", keywords, MSG_MESSAGE_PROP_KEYWORDS, error);
}

/**
 * msg_message_get_organization: (get-property organization)
 * @self: a message
 *
 * Gets the `Organization` header.
 *
 * Returns: (transfer full) (nullable): the organisation
 */
char *
msg_message_get_organization (MsgMessage *self)
{
  return get_unstructured (self, "Organization");
}

/**
 * msg_message_set_organization: (set-property organization)
 * @self: a message
 * @organization: (nullable): the organisation, or %NULL to remove the
 *   header
 * @error: return location for an error
 *
 * Sets the `Organization` header.
 *
 * Returns: %TRUE on success
 */
gboolean
msg_message_set_organization (MsgMessage *self,
                              const char *organization,
                              GError    **error)
{
  return set_unstructured (self, "Organization", organization, MSG_MESSAGE_PROP_ORGANIZATION, error);
}

/**
 * msg_message_get_sent_on: (get-property sent-on)
 * @self: a message
 *
 * Gets the `Date` of the message, in the configuration's `timezoneid` when
 * it is set (as CDO's `SentOn`), else in the zone the header gives.
 *
 * Returns: (transfer full) (nullable): the date
 */
GDateTime *
msg_message_get_sent_on (MsgMessage *self)
{
  GDateTime *date;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);

  if (g_mime_object_get_header (GMIME_OBJECT (self->mime), "Date") == NULL)
    return NULL;

  date = g_mime_message_get_date (self->mime);
  if (date != NULL)
    {
      g_autoptr (GTimeZone) tz = _msg_message_get_timezone (self);

      if (tz != NULL)
        return g_date_time_to_timezone (date, tz);
    }
  return date != NULL ? g_date_time_ref (date) : NULL;
}

/**
 * msg_message_set_sent_on: (set-property sent-on)
 * @self: a message
 * @sent_on: (nullable): the date, or %NULL to remove it
 *
 * Sets the `Date` of the message.
 */
void
msg_message_set_sent_on (MsgMessage *self,
                         GDateTime  *sent_on)
{
  g_return_if_fail (MSG_IS_MESSAGE (self));

  if (sent_on != NULL)
    {
      g_autofree char *value = g_mime_utils_header_format_date (sent_on);

      /* g_mime_message_set_date() without its second parse of the date. */
      _msg_mime_object_set_header (GMIME_OBJECT (self->mime), "Date", value);
    }
  else
    g_mime_object_remove_header (GMIME_OBJECT (self->mime), "Date");

  g_object_notify_by_pspec (G_OBJECT (self), properties[MSG_MESSAGE_PROP_SENT_ON]);
}

/**
 * msg_message_get_message_id: (get-property message-id)
 * @self: a message
 *
 * Gets the `Message-ID`, including its angle brackets.
 *
 * Returns: (transfer full) (nullable): the id, such as `<x@example.com>`
 */
char *
msg_message_get_message_id (MsgMessage *self)
{
  const char *id;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);

  if (g_mime_object_get_header (GMIME_OBJECT (self->mime), "Message-Id") == NULL)
    return NULL;

  id = g_mime_message_get_message_id (self->mime);
  if (id == NULL || *id == '\0')
    return NULL;

  return g_strdup_printf ("<%s>", id);
}

/**
 * msg_message_set_message_id: (set-property message-id)
 * @self: a message
 * @message_id: (nullable): an id of the form `left@right`, with or without
 *   angle brackets, or %NULL to remove it
 * @error: return location for an error
 *
 * Sets the `Message-ID`.
 *
 * Returns: %TRUE on success
 */
gboolean
msg_message_set_message_id (MsgMessage *self,
                            const char *message_id,
                            GError    **error)
{
  g_autofree char *bare = NULL;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (message_id != NULL)
    {
      if (!_msg_check_msg_id ("Message-ID", message_id, error))
        return FALSE;
      if (message_id[0] == '<')
        bare = g_strndup (message_id + 1, strlen (message_id) - 2);
      else
        bare = g_strdup (message_id);
      g_mime_message_set_message_id (self->mime, bare);
    }
  else
    g_mime_object_remove_header (GMIME_OBJECT (self->mime), "Message-Id");

  g_object_notify_by_pspec (G_OBJECT (self), properties[MSG_MESSAGE_PROP_MESSAGE_ID]);
  return TRUE;
}

static void
sync_mdn (MsgMessage *self)
{
  GMimeObject     *object = GMIME_OBJECT (self->mime);
  g_autofree char *from = NULL;

  if (!self->mdn_requested)
    {
      g_mime_object_remove_header (object, "Disposition-Notification-To");
      return;
    }

  from = msg_message_get_from (self);
  if (from != NULL)
    g_mime_object_set_header (object, "Disposition-Notification-To", from, "utf-8");
  else
    g_mime_object_remove_header (object, "Disposition-Notification-To");
}

/**
 * msg_message_get_mdn_requested: (get-property mdn-requested)
 * @self: a message
 *
 * Gets whether a disposition notification is requested.
 *
 * Returns: %TRUE if requested
 */
gboolean
msg_message_get_mdn_requested (MsgMessage *self)
{
  g_return_val_if_fail (MSG_IS_MESSAGE (self), FALSE);

  return self->mdn_requested;
}

/**
 * msg_message_set_mdn_requested: (set-property mdn-requested)
 * @self: a message
 * @mdn_requested: whether to request a disposition notification
 *
 * Requests a message disposition notification: sets
 * `Disposition-Notification-To` to the `From` addresses (and keeps it in
 * step with them), or removes it.
 */
void
msg_message_set_mdn_requested (MsgMessage *self,
                               gboolean    mdn_requested)
{
  g_return_if_fail (MSG_IS_MESSAGE (self));

  mdn_requested = !!mdn_requested;
  if (self->mdn_requested == (guint) mdn_requested)
    return;

  self->mdn_requested = mdn_requested;
  sync_mdn (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[MSG_MESSAGE_PROP_MDN_REQUESTED]);
}

/**
 * msg_message_get_dsn_options: (get-property dsn-options)
 * @self: a message
 *
 * Gets the delivery status notifications requested.
 *
 * Returns: the options
 */
MsgDsnOptions
msg_message_get_dsn_options (MsgMessage *self)
{
  g_return_val_if_fail (MSG_IS_MESSAGE (self), MSG_DSN_DEFAULT);

  return self->dsn_options;
}

/**
 * msg_message_set_dsn_options: (set-property dsn-options)
 * @self: a message
 * @dsn_options: the options
 *
 * Sets the delivery status notifications requested from SMTP servers.
 * %MSG_DSN_NEVER cannot be combined with the other notifications.
 */
void
msg_message_set_dsn_options (MsgMessage   *self,
                             MsgDsnOptions dsn_options)
{
  g_return_if_fail (MSG_IS_MESSAGE (self));

  if ((dsn_options & MSG_DSN_NEVER) &&
      (dsn_options & (MSG_DSN_FAILURE | MSG_DSN_SUCCESS | MSG_DSN_DELAY)))
    {
      g_warning ("MSG_DSN_NEVER cannot be combined with other notifications; dsn-options unchanged");
      return;
    }

  if (self->dsn_options == dsn_options)
    return;

  self->dsn_options = dsn_options;
  g_object_notify_by_pspec (G_OBJECT (self), properties[MSG_MESSAGE_PROP_DSN_OPTIONS]);
}

/**
 * msg_message_get_auto_generate_text_body: (get-property auto-generate-text-body)
 * @self: a message
 *
 * Gets whether the text body is made from the HTML body.
 *
 * Returns: %TRUE if it is
 */
gboolean
msg_message_get_auto_generate_text_body (MsgMessage *self)
{
  g_return_val_if_fail (MSG_IS_MESSAGE (self), FALSE);

  return self->auto_generate_text_body;
}

/**
 * msg_message_set_auto_generate_text_body: (set-property auto-generate-text-body)
 * @self: a message
 * @auto_generate: whether to make the text body from the HTML body
 *
 * Sets whether the text body is made from the HTML body. Turning it on
 * with an HTML body present replaces the text body now.
 */
void
msg_message_set_auto_generate_text_body (MsgMessage *self,
                                         gboolean    auto_generate)
{
  g_return_if_fail (MSG_IS_MESSAGE (self));

  auto_generate = !!auto_generate;
  if (self->auto_generate_text_body == (guint) auto_generate)
    return;

  self->auto_generate_text_body = auto_generate;
  g_object_notify_by_pspec (G_OBJECT (self), properties[MSG_MESSAGE_PROP_AUTO_GENERATE_TEXT_BODY]);

  if (auto_generate)
    {
      g_autofree char *html = msg_message_get_html_body (self);

      if (html != NULL)
        {
          _msg_message_materialise (self);
          g_free (self->text_body);
          self->text_body = _msg_html_to_text (html);
          self->dirty = TRUE;
          g_object_notify_by_pspec (G_OBJECT (self), properties[MSG_MESSAGE_PROP_TEXT_BODY]);
        }
    }
}

/**
 * msg_message_get_mime_formatted: (get-property mime-formatted)
 * @self: a message
 *
 * Gets whether the message is written as MIME.
 *
 * Returns: %TRUE if it is
 */
gboolean
msg_message_get_mime_formatted (MsgMessage *self)
{
  g_return_val_if_fail (MSG_IS_MESSAGE (self), FALSE);

  return self->mime_formatted;
}

/**
 * msg_message_set_mime_formatted: (set-property mime-formatted)
 * @self: a message
 * @mime_formatted: whether to write MIME
 *
 * Sets whether the message is written as MIME. Turning it off drops the
 * HTML body and turns [property@Message:auto-generate-text-body] off; the
 * text is then written as a plain RFC 5322 body (with a MIME charset label
 * only when it is not ASCII) followed by the attachments, uuencoded
 * (`begin 644 NAME` … `end`).
 */
void
msg_message_set_mime_formatted (MsgMessage *self,
                                gboolean    mime_formatted)
{
  g_return_if_fail (MSG_IS_MESSAGE (self));

  mime_formatted = !!mime_formatted;
  if (self->mime_formatted == (guint) mime_formatted)
    return;

  _msg_message_materialise (self);
  self->mime_formatted = mime_formatted;
  self->dirty = TRUE;

  if (!mime_formatted)
    {
      if (self->text_body == NULL && self->html_body != NULL && self->auto_generate_text_body)
        self->text_body = _msg_html_to_text (self->html_body);
      if (self->html_body != NULL)
        {
          g_clear_pointer (&self->html_body, g_free);
          g_object_notify_by_pspec (G_OBJECT (self), properties[MSG_MESSAGE_PROP_HTML_BODY]);
        }
      if (self->auto_generate_text_body)
        {
          self->auto_generate_text_body = FALSE;
          g_object_notify_by_pspec (G_OBJECT (self), properties[MSG_MESSAGE_PROP_AUTO_GENERATE_TEXT_BODY]);
        }
    }

  g_object_notify_by_pspec (G_OBJECT (self), properties[MSG_MESSAGE_PROP_MIME_FORMATTED]);
}

/* Body parts */
/**
 * msg_message_get_body_part:
 * @self: a message
 *
 * Gets the root of the message's MIME tree. For a built message, the tree
 * is made from the body properties now. Changes to the headers and content
 * of the library's parts are kept until a body property changes or an
 * attachment is added; once the caller changes the tree's structure
 * (inserts or removes a part, makes a leaf multipart, sets a parameter),
 * the message keeps the tree and edits it in place: see "Building the tree
 * by hand" in message.md.
 *
 * Returns: (transfer full): the root body part
 */
MsgBodyPart *
msg_message_get_body_part (MsgMessage *self)
{
  GMimeObject *root;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);

  _msg_message_ensure_tree (self);
  root = g_mime_message_get_mime_part (self->mime);
  if (root == NULL)
    {
      g_autoptr (GMimeObject) text = _msg_make_text_part ("plain", "");

      _msg_mime_message_set_root (self->mime, text);
      root = text;
      _msg_message_link_tree (self);
    }

  return _msg_body_part_wrap (root);
}
