/* msg-send-report.c: the outcome of one send or post
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-send-report.h"

#include "msg-recipient-status.h"

/**
 * MsgSendReport:
 *
 * What one send or post did: the transport that carried the message, the
 * Message-ID, what the server said about each recipient, the server's final
 * reply (often the queue id), and, for the pickup transport, the file that
 * was written.
 *
 * Transports fill a report with the setters; callers read it.
 */
struct _MsgSendReport
{
  GObject parent_instance;

  char      *transport_name;  /* (owned) */
  char      *message_id;      /* (owned) (nullable) */
  char      *server_response; /* (owned) (nullable) */
  unsigned   server_code;
  char      *pickup_file; /* (owned) (nullable) */
  GPtrArray *recipients;  /* (owned) (element-type MsgRecipientStatus) */
};

G_DEFINE_FINAL_TYPE (MsgSendReport, msg_send_report, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_TRANSPORT_NAME,
  PROP_MESSAGE_ID,
  PROP_SERVER_RESPONSE,
  PROP_SERVER_CODE,
  PROP_PICKUP_FILE,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];

static void
msg_send_report_finalize (GObject *object)
{
  MsgSendReport *self = MSG_SEND_REPORT (object);

  g_free (self->transport_name);
  g_free (self->message_id);
  g_free (self->server_response);
  g_free (self->pickup_file);
  g_ptr_array_unref (self->recipients);

  G_OBJECT_CLASS (msg_send_report_parent_class)->finalize (object);
}

static void
msg_send_report_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  MsgSendReport *self = MSG_SEND_REPORT (object);

  switch (prop_id)
    {
    case PROP_TRANSPORT_NAME:
      g_value_set_string (value, self->transport_name);
      break;
    case PROP_MESSAGE_ID:
      g_value_set_string (value, self->message_id);
      break;
    case PROP_SERVER_RESPONSE:
      g_value_set_string (value, self->server_response);
      break;
    case PROP_SERVER_CODE:
      g_value_set_uint (value, self->server_code);
      break;
    case PROP_PICKUP_FILE:
      g_value_set_string (value, self->pickup_file);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
msg_send_report_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  MsgSendReport *self = MSG_SEND_REPORT (object);

  switch (prop_id)
    {
    case PROP_TRANSPORT_NAME:
      g_free (self->transport_name);
      self->transport_name = g_value_dup_string (value);
      break;
    case PROP_MESSAGE_ID:
      msg_send_report_set_message_id (self, g_value_get_string (value));
      break;
    case PROP_SERVER_RESPONSE:
      msg_send_report_set_server_response (self, g_value_get_string (value));
      break;
    case PROP_SERVER_CODE:
      msg_send_report_set_server_code (self, g_value_get_uint (value));
      break;
    case PROP_PICKUP_FILE:
      msg_send_report_set_pickup_file (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
msg_send_report_class_init (MsgSendReportClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = msg_send_report_finalize;
  object_class->get_property = msg_send_report_get_property;
  object_class->set_property = msg_send_report_set_property;

  /**
   * MsgSendReport:transport-name:
   *
   * The name of the transport that made this report.
   */
  properties[PROP_TRANSPORT_NAME] =
      g_param_spec_string ("transport-name", NULL, NULL, NULL,
                           G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * MsgSendReport:message-id: (getter get_message_id) (setter set_message_id)
   *
   * The Message-ID of the message that was sent.
   */
  properties[PROP_MESSAGE_ID] =
      g_param_spec_string ("message-id", NULL, NULL, NULL,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MsgSendReport:server-response: (getter get_server_response) (setter set_server_response)
   *
   * The server's whole final reply: its code, enhanced status code and
   * text, such as `250 2.0.0 Ok: queued as 4ABC` or `240 article posted`.
   */
  properties[PROP_SERVER_RESPONSE] =
      g_param_spec_string ("server-response", NULL, NULL, NULL,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MsgSendReport:server-code: (getter get_server_code) (setter set_server_code)
   *
   * The code of the server's final reply, such as 250 (SMTP) or 240
   * (NNTP); 0 when no server answered (the pickup transport).
   */
  properties[PROP_SERVER_CODE] =
      g_param_spec_uint ("server-code", NULL, NULL, 0, 999, 0,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MsgSendReport:pickup-file: (getter get_pickup_file) (setter set_pickup_file)
   *
   * The file the pickup transport wrote.
   */
  properties[PROP_PICKUP_FILE] =
      g_param_spec_string ("pickup-file", NULL, NULL, NULL,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
msg_send_report_init (MsgSendReport *self)
{
  self->recipients = g_ptr_array_new_with_free_func ((GDestroyNotify) msg_recipient_status_free);
}

/**
 * msg_send_report_new:
 * @transport_name: the name of the transport making the report
 *
 * Creates an empty report. For transport implementations.
 *
 * Returns: (transfer full): a new report
 */
MsgSendReport *
msg_send_report_new (const char *transport_name)
{
  return g_object_new (MSG_TYPE_SEND_REPORT, "transport-name", transport_name, NULL);
}

/**
 * msg_send_report_get_transport_name:
 * @self: a report
 *
 * Gets the name of the transport that sent the message.
 *
 * Returns: (nullable): the name of the transport that made the report
 */
const char *
msg_send_report_get_transport_name (MsgSendReport *self)
{
  g_return_val_if_fail (MSG_IS_SEND_REPORT (self), NULL);
  return self->transport_name;
}

/**
 * msg_send_report_get_message_id:
 * @self: a report
 *
 * Gets the Message-ID of the message sent.
 *
 * Returns: (nullable): the Message-ID of the message, with angle brackets
 */
const char *
msg_send_report_get_message_id (MsgSendReport *self)
{
  g_return_val_if_fail (MSG_IS_SEND_REPORT (self), NULL);
  return self->message_id;
}

/**
 * msg_send_report_set_message_id:
 * @self: a report
 * @message_id: (nullable): the Message-ID
 *
 * Records the Message-ID. For transport implementations.
 */
void
msg_send_report_set_message_id (MsgSendReport *self,
                                const char    *message_id)
{
  g_return_if_fail (MSG_IS_SEND_REPORT (self));

  if (g_strcmp0 (self->message_id, message_id) == 0)
    return;
  g_free (self->message_id);
  self->message_id = g_strdup (message_id);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MESSAGE_ID]);
}

static GStrv
collect_recipients (MsgSendReport *self,
                    gboolean       accepted)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();

  for (guint i = 0; i < self->recipients->len; i++)
    {
      MsgRecipientStatus *status = g_ptr_array_index (self->recipients, i);

      if (msg_recipient_status_is_accepted (status) == accepted)
        g_strv_builder_add (builder, msg_recipient_status_get_address (status));
    }
  return g_strv_builder_end (builder);
}

/**
 * msg_send_report_get_accepted_recipients:
 * @self: a report
 *
 * Lists the recipients the server accepted.
 *
 * Returns: (transfer full) (array zero-terminated=1): the recipients the
 *   server accepted, in envelope order
 */
GStrv
msg_send_report_get_accepted_recipients (MsgSendReport *self)
{
  g_return_val_if_fail (MSG_IS_SEND_REPORT (self), NULL);
  return collect_recipients (self, TRUE);
}

/**
 * msg_send_report_get_rejected_recipients:
 * @self: a report
 *
 * Lists the recipients the server refused.
 *
 * Returns: (transfer full) (array zero-terminated=1): the recipients the
 *   server refused, in envelope order
 */
GStrv
msg_send_report_get_rejected_recipients (MsgSendReport *self)
{
  g_return_val_if_fail (MSG_IS_SEND_REPORT (self), NULL);
  return collect_recipients (self, FALSE);
}

/**
 * msg_send_report_get_recipient_status:
 * @self: a report
 * @address: a recipient's address (compared without regard to case)
 *
 * Looks up what the server said about one recipient.
 *
 * Returns: (transfer none) (nullable): what the server said about @address,
 *   or %NULL if it was not a recipient
 */
MsgRecipientStatus *
msg_send_report_get_recipient_status (MsgSendReport *self,
                                      const char    *address)
{
  g_return_val_if_fail (MSG_IS_SEND_REPORT (self), NULL);
  g_return_val_if_fail (address != NULL, NULL);

  for (guint i = 0; i < self->recipients->len; i++)
    {
      MsgRecipientStatus *status = g_ptr_array_index (self->recipients, i);

      if (g_ascii_strcasecmp (msg_recipient_status_get_address (status), address) == 0)
        return status;
    }
  return NULL;
}

/**
 * msg_send_report_add_recipient_status:
 * @self: a report
 * @status: (transfer full): what the server said about one recipient
 *
 * Records a recipient's status, replacing an earlier one for the same
 * address. For transport implementations.
 */
void
msg_send_report_add_recipient_status (MsgSendReport      *self,
                                      MsgRecipientStatus *status)
{
  g_return_if_fail (MSG_IS_SEND_REPORT (self));
  g_return_if_fail (status != NULL);

  for (guint i = 0; i < self->recipients->len; i++)
    {
      MsgRecipientStatus *old = g_ptr_array_index (self->recipients, i);

      if (g_ascii_strcasecmp (msg_recipient_status_get_address (old),
                              msg_recipient_status_get_address (status)) == 0)
        {
          msg_recipient_status_free (old);
          g_ptr_array_index (self->recipients, i) = status;
          return;
        }
    }
  g_ptr_array_add (self->recipients, status);
}

/**
 * msg_send_report_get_server_response:
 * @self: a report
 *
 * Gets the server's whole final reply, as the server wrote it: the code,
 * the enhanced status code and the text, such as
 * `250 2.0.0 Ok: queued as 4ABC` (SMTP) or `240 article posted` (NNTP).
 * The lines of a multi-line reply, and the final replies of several SMTP
 * transactions (when a recipient limit split the send), are joined with
 * `"\n"`, each line with its code. The code alone is
 * [method@SendReport.get_server_code].
 *
 * Returns: (nullable): the server's final reply, or %NULL if there was none
 */
const char *
msg_send_report_get_server_response (MsgSendReport *self)
{
  g_return_val_if_fail (MSG_IS_SEND_REPORT (self), NULL);
  return self->server_response;
}

/**
 * msg_send_report_set_server_response:
 * @self: a report
 * @response: (nullable): the server's final reply, code first
 *
 * Records the final reply as [method@SendReport.get_server_response]
 * returns it. For transport implementations.
 */
void
msg_send_report_set_server_response (MsgSendReport *self,
                                     const char    *response)
{
  g_return_if_fail (MSG_IS_SEND_REPORT (self));

  if (g_strcmp0 (self->server_response, response) == 0)
    return;
  g_free (self->server_response);
  self->server_response = g_strdup (response);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SERVER_RESPONSE]);
}

/**
 * msg_send_report_get_server_code:
 * @self: a report
 *
 * Gets the code of the server's final reply as a number: 250 when an SMTP
 * server accepted the message, 240 when an NNTP server accepted the
 * article. Several SMTP transactions give the code of the last one.
 *
 * Returns: the reply code, or 0 when no server answered (the pickup
 *   transport)
 */
unsigned
msg_send_report_get_server_code (MsgSendReport *self)
{
  g_return_val_if_fail (MSG_IS_SEND_REPORT (self), 0);
  return self->server_code;
}

/**
 * msg_send_report_set_server_code:
 * @self: a report
 * @code: the code of the server's final reply, or 0 for none
 *
 * Records the code of the final reply. For transport implementations.
 */
void
msg_send_report_set_server_code (MsgSendReport *self,
                                 unsigned       code)
{
  g_return_if_fail (MSG_IS_SEND_REPORT (self));
  g_return_if_fail (code <= 999);

  if (self->server_code == code)
    return;
  self->server_code = code;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SERVER_CODE]);
}

/**
 * msg_send_report_get_pickup_file:
 * @self: a report
 *
 * Gets the file a pickup transport wrote the message to.
 *
 * Returns: (nullable) (type filename): the file the pickup transport wrote
 */
const char *
msg_send_report_get_pickup_file (MsgSendReport *self)
{
  g_return_val_if_fail (MSG_IS_SEND_REPORT (self), NULL);
  return self->pickup_file;
}

/**
 * msg_send_report_set_pickup_file:
 * @self: a report
 * @path: (nullable) (type filename): the file written
 *
 * Records the pickup file. For transport implementations.
 */
void
msg_send_report_set_pickup_file (MsgSendReport *self,
                                 const char    *path)
{
  g_return_if_fail (MSG_IS_SEND_REPORT (self));

  if (g_strcmp0 (self->pickup_file, path) == 0)
    return;
  g_free (self->pickup_file);
  self->pickup_file = g_strdup (path);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PICKUP_FILE]);
}
