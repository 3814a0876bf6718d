/* msg-message.h: CDO's Message object
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MSGOBJ_H_INSIDE__) && !defined(MSGOBJ_COMPILATION)
#error "Only <msgobj.h> can be included directly."
#endif

#include "msg-types.h"
#include "msg-enums.h"

G_BEGIN_DECLS

/**
 * MSG_MESSAGE_ERROR:
 *
 * The error domain of message errors.
 */
#define MSG_MESSAGE_ERROR (msg_message_error_quark ())

/**
 * MsgMessageError:
 * @MSG_MESSAGE_ERROR_INVALID_HEADER: a header name or value is not allowed
 *   (control characters, CR or LF, an empty name)
 * @MSG_MESSAGE_ERROR_INVALID_ADDRESS: an address list could not be parsed
 * @MSG_MESSAGE_ERROR_NO_SENDER: neither From nor Sender is set
 * @MSG_MESSAGE_ERROR_NO_RECIPIENTS: no To, Cc or Bcc recipient
 * @MSG_MESSAGE_ERROR_NO_NEWSGROUPS: a post without Newsgroups
 * @MSG_MESSAGE_ERROR_PARSE: the input is not a message
 * @MSG_MESSAGE_ERROR_NO_SUBJECT: a post without a Subject
 * @MSG_MESSAGE_ERROR_INVALID_ATTACHMENT: an attachment cannot be read, or its
 *   name or type is not allowed
 * @MSG_MESSAGE_ERROR_FAILED: another failure
 * @MSG_MESSAGE_ERROR_CHARSET: text cannot be converted to or from a charset
 *   (an unknown charset, or a character the charset cannot hold)
 * @MSG_MESSAGE_ERROR_NOT_SUPPORTED: a CDO field or feature that has no
 *   meaning in libmsgobj
 * @MSG_MESSAGE_ERROR_MULTIPART_NO_DATA: content was asked of a multipart,
 *   which has none of its own (CDO's `CDO_E_MULTIPART_NO_DATA`)
 * @MSG_MESSAGE_ERROR_HTTP_NOT_FOUND: a URL to fetch does not exist (HTTP
 *   404 or 410, or a missing file; CDO's `CDO_E_HTTP_NOT_FOUND`)
 * @MSG_MESSAGE_ERROR_HTTP_FORBIDDEN: fetching a URL was refused (HTTP 401,
 *   403 or 407, an unreadable file, or a `file:` URL in a web page; CDO's
 *   `CDO_E_HTTP_FORBIDDEN`)
 * @MSG_MESSAGE_ERROR_HTTP_FAILED: fetching a URL failed otherwise (another
 *   HTTP status, too many redirects, an invalid URL; CDO's
 *   `CDO_E_HTTP_FAILED`)
 * @MSG_MESSAGE_ERROR_TOO_LARGE: a fetched resource, or all the resources of
 *   a page, exceed `urlmaxresourcesize` or `urlmaxpagesize`
 *
 * Error codes of %MSG_MESSAGE_ERROR.
 */
typedef enum
{
  MSG_MESSAGE_ERROR_INVALID_HEADER,
  MSG_MESSAGE_ERROR_INVALID_ADDRESS,
  MSG_MESSAGE_ERROR_NO_SENDER,
  MSG_MESSAGE_ERROR_NO_RECIPIENTS,
  MSG_MESSAGE_ERROR_NO_NEWSGROUPS,
  MSG_MESSAGE_ERROR_PARSE,
  MSG_MESSAGE_ERROR_NO_SUBJECT,
  MSG_MESSAGE_ERROR_INVALID_ATTACHMENT,
  MSG_MESSAGE_ERROR_FAILED,
  MSG_MESSAGE_ERROR_CHARSET,
  MSG_MESSAGE_ERROR_NOT_SUPPORTED,
  MSG_MESSAGE_ERROR_MULTIPART_NO_DATA,
  MSG_MESSAGE_ERROR_HTTP_NOT_FOUND,
  MSG_MESSAGE_ERROR_HTTP_FORBIDDEN,
  MSG_MESSAGE_ERROR_HTTP_FAILED,
  MSG_MESSAGE_ERROR_TOO_LARGE,
} MsgMessageError;

MSG_AVAILABLE_IN_ALL
GQuark msg_message_error_quark (void);

/**
 * MsgWriteFlags:
 * @MSG_WRITE_FLAGS_NONE: the message as it is (CDO `GetStream`), Bcc included
 * @MSG_WRITE_FLAGS_OMIT_BCC: leave the Bcc header out, as on the SMTP path
 * @MSG_WRITE_FLAGS_NEWS: leave out the headers that do not belong in a news
 *   article (Bcc and other mail-only headers)
 * @MSG_WRITE_FLAGS_LINE_LIMIT: for this write, re-encode (quoted-printable
 *   or base64) every body part whose content has a line over 998 octets
 *   or a NUL byte, as SMTP requires of every message (RFC 5321 4.5.3.1.6)
 * @MSG_WRITE_FLAGS_ENCODE_8BIT: for this write, re-encode every body part
 *   whose content is 8-bit too (as for a server without 8BITMIME);
 *   implies %MSG_WRITE_FLAGS_LINE_LIMIT
 *
 * With %MSG_WRITE_FLAGS_LINE_LIMIT or %MSG_WRITE_FLAGS_ENCODE_8BIT, a part
 * that needs re-encoding inside a `multipart/signed` cannot be changed
 * without breaking its signature: the write fails with
 * %MSG_MESSAGE_ERROR_FAILED. The message itself is left as it was.
 *
 * How [method@Message.write_to_stream_full] writes a message.
 */
typedef enum /*< flags >*/
{
  MSG_WRITE_FLAGS_NONE = 0,
  MSG_WRITE_FLAGS_OMIT_BCC = 1 << 0,
  MSG_WRITE_FLAGS_NEWS = 1 << 1,
  MSG_WRITE_FLAGS_LINE_LIMIT = 1 << 2,
  MSG_WRITE_FLAGS_ENCODE_8BIT = 1 << 3,
} MsgWriteFlags;

#define MSG_TYPE_MESSAGE (msg_message_get_type ())
MSG_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MsgMessage, msg_message, MSG, MESSAGE, GObject)

/* Construction and DataSource. */
MSG_AVAILABLE_IN_ALL
MsgMessage       *msg_message_new                    (void);
MSG_AVAILABLE_IN_ALL
MsgMessage       *msg_message_new_with_configuration (MsgConfiguration *configuration);
MSG_AVAILABLE_IN_ALL
MsgMessage       *msg_message_new_from_bytes         (GBytes           *bytes,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
MsgMessage       *msg_message_new_from_stream        (GInputStream     *stream,
                                                      GCancellable     *cancellable,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
MsgMessage       *msg_message_new_from_file          (const char       *path,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
MsgMessage       *msg_message_new_from_body_part     (MsgBodyPart      *part,
                                                      GError          **error);

/* Properties. */
MSG_AVAILABLE_IN_ALL
MsgConfiguration *msg_message_get_configuration      (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
void              msg_message_set_configuration      (MsgMessage       *self,
                                                      MsgConfiguration *configuration);
MSG_AVAILABLE_IN_ALL
char             *msg_message_get_from               (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_set_from               (MsgMessage       *self,
                                                      const char       *from,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
char             *msg_message_get_sender             (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_set_sender             (MsgMessage       *self,
                                                      const char       *sender,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
char             *msg_message_get_reply_to           (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_set_reply_to           (MsgMessage       *self,
                                                      const char       *reply_to,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
char             *msg_message_get_to                 (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_set_to                 (MsgMessage       *self,
                                                      const char       *to,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
char             *msg_message_get_cc                 (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_set_cc                 (MsgMessage       *self,
                                                      const char       *cc,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
char             *msg_message_get_bcc                (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_set_bcc                (MsgMessage       *self,
                                                      const char       *bcc,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
char             *msg_message_get_subject            (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_set_subject            (MsgMessage       *self,
                                                      const char       *subject,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
char             *msg_message_get_text_body          (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
void              msg_message_set_text_body          (MsgMessage       *self,
                                                      const char       *text_body);
MSG_AVAILABLE_IN_ALL
char             *msg_message_get_html_body          (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
void              msg_message_set_html_body          (MsgMessage       *self,
                                                      const char       *html_body);
MSG_AVAILABLE_IN_ALL
char             *msg_message_get_newsgroups         (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_set_newsgroups         (MsgMessage       *self,
                                                      const char       *newsgroups,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
char             *msg_message_get_followup_to        (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_set_followup_to        (MsgMessage       *self,
                                                      const char       *followup_to,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
char             *msg_message_get_keywords           (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_set_keywords           (MsgMessage       *self,
                                                      const char       *keywords,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
char             *msg_message_get_organization       (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_set_organization       (MsgMessage       *self,
                                                      const char       *organization,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
GDateTime        *msg_message_get_sent_on            (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
void              msg_message_set_sent_on            (MsgMessage       *self,
                                                      GDateTime        *sent_on);
MSG_AVAILABLE_IN_ALL
char             *msg_message_get_message_id         (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_set_message_id         (MsgMessage       *self,
                                                      const char       *message_id,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_get_mdn_requested      (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
void              msg_message_set_mdn_requested      (MsgMessage       *self,
                                                      gboolean          mdn_requested);
MSG_AVAILABLE_IN_ALL
MsgDsnOptions     msg_message_get_dsn_options        (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
void              msg_message_set_dsn_options        (MsgMessage       *self,
                                                      MsgDsnOptions     dsn_options);
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_get_auto_generate_text_body (MsgMessage  *self);
MSG_AVAILABLE_IN_ALL
void              msg_message_set_auto_generate_text_body (MsgMessage  *self,
                                                           gboolean     auto_generate);
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_get_mime_formatted     (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
void              msg_message_set_mime_formatted     (MsgMessage       *self,
                                                      gboolean          mime_formatted);

/* Body parts. */
MSG_AVAILABLE_IN_ALL
MsgBodyPart      *msg_message_add_attachment         (MsgMessage       *self,
                                                      const char       *path_or_uri,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
MsgBodyPart      *msg_message_add_attachment_bytes   (MsgMessage       *self,
                                                      GBytes           *bytes,
                                                      const char       *filename,
                                                      const char       *content_type,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
MsgBodyPart      *msg_message_add_related_body_part  (MsgMessage       *self,
                                                      const char       *path_or_uri,
                                                      const char       *reference,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
MsgBodyPart      *msg_message_add_attachment_url     (MsgMessage       *self,
                                                      const char       *url,
                                                      const char       *user,
                                                      const char       *password,
                                                      GCancellable     *cancellable,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
MsgBodyPart      *msg_message_add_related_body_part_full (MsgMessage   *self,
                                                          const char   *path_or_url,
                                                          const char   *reference,
                                                          MsgReferenceType reference_type,
                                                          const char   *user,
                                                          const char   *password,
                                                          GCancellable *cancellable,
                                                          GError      **error);
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_create_mhtml_body      (MsgMessage       *self,
                                                      const char       *url,
                                                      MsgMHTMLFlags     flags,
                                                      const char       *user,
                                                      const char       *password,
                                                      GCancellable     *cancellable,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
void              msg_message_create_mhtml_body_async (MsgMessage         *self,
                                                       const char         *url,
                                                       MsgMHTMLFlags       flags,
                                                       const char         *user,
                                                       const char         *password,
                                                       GCancellable       *cancellable,
                                                       GAsyncReadyCallback callback,
                                                       gpointer            user_data);
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_create_mhtml_body_finish (MsgMessage     *self,
                                                        GAsyncResult   *result,
                                                        GError        **error);
MSG_AVAILABLE_IN_ALL
GList            *msg_message_get_attachments        (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
MsgBodyPart      *msg_message_get_body_part          (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
MsgBodyPart      *msg_message_get_text_body_part     (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
MsgBodyPart      *msg_message_get_html_body_part     (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
guint             msg_message_get_attachment_count   (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
MsgBodyPart      *msg_message_get_attachment         (MsgMessage       *self,
                                                      guint             index);
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_remove_attachment      (MsgMessage       *self,
                                                      guint             index,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
void              msg_message_remove_all_attachments (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
GListModel       *msg_message_get_attachments_model  (MsgMessage       *self);

/* Fields (headers). */
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_set_header             (MsgMessage       *self,
                                                      const char       *name,
                                                      const char       *value,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
char             *msg_message_get_header             (MsgMessage       *self,
                                                      const char       *name);
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_remove_header          (MsgMessage       *self,
                                                      const char       *name);

MSG_AVAILABLE_IN_ALL
char             *msg_message_get_field              (MsgMessage       *self,
                                                      const char       *name,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
guint             msg_message_get_field_count        (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_get_field_at           (MsgMessage       *self,
                                                      guint             index,
                                                      char            **name,
                                                      char            **value);
MSG_AVAILABLE_IN_ALL
GStrv             msg_message_list_field_names       (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
GDateTime        *msg_message_get_received_time      (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
MsgImportance     msg_message_get_importance         (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
void              msg_message_set_importance         (MsgMessage       *self,
                                                      MsgImportance     importance);
MSG_AVAILABLE_IN_ALL
MsgPriority       msg_message_get_priority           (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
void              msg_message_set_priority           (MsgMessage       *self,
                                                      MsgPriority       priority);
MSG_AVAILABLE_IN_ALL
MsgSensitivity    msg_message_get_sensitivity        (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
void              msg_message_set_sensitivity        (MsgMessage       *self,
                                                      MsgSensitivity    sensitivity);

/* Serialisation. */
MSG_AVAILABLE_IN_ALL
GBytes           *msg_message_to_bytes               (MsgMessage       *self,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_write_to_stream        (MsgMessage       *self,
                                                      GOutputStream    *stream,
                                                      GCancellable     *cancellable,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_write_to_stream_full   (MsgMessage       *self,
                                                      GOutputStream    *stream,
                                                      MsgWriteFlags     flags,
                                                      GCancellable     *cancellable,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_save_to_file           (MsgMessage       *self,
                                                      const char       *path,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_save                   (MsgMessage       *self,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_get_is_dirty           (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
char             *msg_message_get_source_file        (MsgMessage       *self);

/* For transports. */
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_prepare_for_sending    (MsgMessage       *self,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
char             *msg_message_get_envelope_sender    (MsgMessage       *self,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
GStrv             msg_message_get_envelope_recipients (MsgMessage      *self,
                                                       GError         **error);
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_has_8bit_content       (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
gboolean          msg_message_measure                (MsgMessage       *self,
                                                      MsgWriteFlags     flags,
                                                      guint64          *size,
                                                      GCancellable     *cancellable,
                                                      GError          **error);

/* Sending. */
MSG_AVAILABLE_IN_ALL
MsgSendReport    *msg_message_send                   (MsgMessage       *self,
                                                      GCancellable     *cancellable,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
void              msg_message_send_async             (MsgMessage         *self,
                                                      GCancellable       *cancellable,
                                                      GAsyncReadyCallback callback,
                                                      gpointer            user_data);
MSG_AVAILABLE_IN_ALL
MsgSendReport    *msg_message_send_finish            (MsgMessage       *self,
                                                      GAsyncResult     *result,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
MsgSendReport    *msg_message_post                   (MsgMessage       *self,
                                                      GCancellable     *cancellable,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
void              msg_message_post_async             (MsgMessage         *self,
                                                      GCancellable       *cancellable,
                                                      GAsyncReadyCallback callback,
                                                      gpointer            user_data);
MSG_AVAILABLE_IN_ALL
MsgSendReport    *msg_message_post_finish            (MsgMessage       *self,
                                                      GAsyncResult     *result,
                                                      GError          **error);

/* Reply and forward. */
MSG_AVAILABLE_IN_ALL
MsgMessage       *msg_message_create_reply           (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
MsgMessage       *msg_message_create_reply_all       (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
MsgMessage       *msg_message_create_forward         (MsgMessage       *self);
MSG_AVAILABLE_IN_ALL
MsgMessage       *msg_message_create_post_reply      (MsgMessage       *self,
                                                      GError          **error);
MSG_AVAILABLE_IN_ALL
void              msg_message_set_response_text      (MsgMessage       *self,
                                                      const char       *text);

G_END_DECLS
