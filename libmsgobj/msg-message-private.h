/* msg-message-private.h: what the library shares about messages
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "msg-message.h"
#include "msg-body-part.h"
#include "msg-configuration.h"
#include "msg-mime-utils-private.h"

#include <gmime/gmime.h>

G_BEGIN_DECLS

struct _MsgMessage
{
  GObject parent_instance;

  int sending; /* (atomic): a transport operation holds the message */
  /* While an operation holds it: the message as msg_message_measure()
   * wrote it with spool_flags, if it was at most MSG_MESSAGE_SPOOL_LIMIT
   * bytes, so that the write that follows is a copy (docs/design.md,
   * decision 13). Dropped when the operation releases the message. */
  GBytes       *spool; /* (owned) (nullable) */
  MsgWriteFlags spool_flags;

  MsgConfiguration *configuration; /* (owned) (not nullable) after construction */
  GMimeMessage     *mime;          /* (owned): headers and the MIME tree */

  /* The CDO-level content of a built message. */
  char      *text_body;   /* (owned) (nullable) */
  char      *html_body;   /* (owned) (nullable) */
  GPtrArray *attachments; /* (owned) (element-type MsgBodyPart) */
  GPtrArray *related;     /* (owned) (element-type MsgBodyPart) */
  /* The text and HTML parts of the last build: their charset is kept
   * when the tree is built again. */
  GMimeObject *built_text;        /* (owned) (nullable) */
  GMimeObject *built_html;        /* (owned) (nullable) */
  GListStore  *attachments_model; /* (nullable): weak, follows the attachments */

  MsgDsnOptions dsn_options;
  guint         parsed : 1; /* the tree came from a parser, or the
                             * caller built it by hand: keep it */
  guint hand_built : 1;     /* the caller changed the tree's
                             * structure: edit it in place */
  guint dirty : 1;          /* built message: tree must be rebuilt */
  guint plain_rfc822 : 1;   /* last build has no MIME headers */
  guint auto_generate_text_body : 1;
  guint mime_formatted : 1;
  guint mdn_requested : 1;

  /* The tree before msg_message_sign() or _encrypt() replaced it, with
   * its flags: put back (dropping the signature) before the body is
   * changed (msg-message-crypto.c, docs/design.md decision 18). */
  GMimeObject *unsealed; /* (owned) (nullable) */
  guint        unsealed_parsed : 1;
  guint        unsealed_hand_built : 1;
};

/* The largest message held in memory between its measure and its write. */
#define MSG_MESSAGE_SPOOL_LIMIT (256 * 1024)

/* MsgMessage's properties (msg-message.c), for the files of the class. */
typedef enum
{
  MSG_MESSAGE_PROP_0,
  MSG_MESSAGE_PROP_FROM,
  MSG_MESSAGE_PROP_SENDER,
  MSG_MESSAGE_PROP_REPLY_TO,
  MSG_MESSAGE_PROP_TO,
  MSG_MESSAGE_PROP_CC,
  MSG_MESSAGE_PROP_BCC,
  MSG_MESSAGE_PROP_SUBJECT,
  MSG_MESSAGE_PROP_TEXT_BODY,
  MSG_MESSAGE_PROP_HTML_BODY,
  MSG_MESSAGE_PROP_NEWSGROUPS,
  MSG_MESSAGE_PROP_FOLLOWUP_TO,
  MSG_MESSAGE_PROP_KEYWORDS,
  MSG_MESSAGE_PROP_ORGANIZATION,
  MSG_MESSAGE_PROP_SENT_ON,
  MSG_MESSAGE_PROP_MESSAGE_ID,
  MSG_MESSAGE_PROP_MDN_REQUESTED,
  MSG_MESSAGE_PROP_DSN_OPTIONS,
  MSG_MESSAGE_PROP_AUTO_GENERATE_TEXT_BODY,
  MSG_MESSAGE_PROP_MIME_FORMATTED,
  MSG_MESSAGE_PROP_CONFIGURATION,
  MSG_MESSAGE_PROP_IMPORTANCE,
  MSG_MESSAGE_PROP_PRIORITY,
  MSG_MESSAGE_PROP_SENSITIVITY,
  MSG_MESSAGE_N_PROPS,
} MsgMessageProp;

void _msg_message_notify (MsgMessage    *self,
                          MsgMessageProp prop);

/* The setter of a string property that owns a header. */
typedef gboolean (*MsgStringSetter) (MsgMessage *self,
                                     const char *value,
                                     GError    **error);

/* The headers properties own (msg-message-headers.c). */
const char *_msg_message_setter_header_name (MsgStringSetter setter);
const char *_msg_message_address_header_name (GMimeAddressType type);

/* A message whose MIME tree is @mime (a reference is taken), made
 * without the empty tree msg_message_new() starts with. */
MsgMessage *_msg_message_new_for_mime (GMimeMessage *mime);

/* Checks, before any I/O and in CDO's order, that a message has what a
 * send (recipients, a sender) or a post (Newsgroups, From, Subject)
 * needs. */
gboolean _msg_message_check_for_transport (MsgMessage *message,
                                           gboolean    post,
                                           GError    **error);
/* Refuses an article whose headers act on the news server (Control,
 * Approved, Supersedes) unless the configuration allows them. */
gboolean _msg_message_check_control_headers (MsgMessage       *message,
                                             MsgConfiguration *configuration,
                                             GError          **error);
/* One send or post of a message at a time: GMime's writes are not safe
 * from two threads (headers are formatted lazily, content streams are
 * shared). A second operation fails with G_IO_ERROR_PENDING. */
gboolean _msg_message_claim (MsgMessage *self,
                             GError    **error);
void     _msg_message_release (MsgMessage *self);
/* Writes the spool to @stream if it holds the message as @flags write
 * it; *@written says whether it did. */
gboolean _msg_message_write_spool (MsgMessage    *self,
                                   GOutputStream *stream,
                                   MsgWriteFlags  flags,
                                   gboolean      *written,
                                   GCancellable  *cancellable,
                                   GError       **error);

/* Sends (or, with @post, posts) @message through the transport @self,
 * then ends its connection, in one operation: msg_message_send() and
 * msg_message_post(), whose transport lives for the call only. @start is
 * when the caller was called (g_get_monotonic_time()), so that an _async
 * call's clock starts there; 0 for now. @context is an _async caller's
 * thread-default context, NULL for a sync call (for progress and
 * MsgTransport:run-in-caller-context). Implemented by the transport base
 * class (msg-transport.c), which owns operations; declared here because
 * the transport module depends on this header, not the other way round. */
MsgSendReport *_msg_transport_send_once (MsgTransport *self,
                                         MsgMessage   *message,
                                         gboolean      post,
                                         gint64        start,
                                         GMainContext *context,
                                         GCancellable *cancellable,
                                         GError      **error);

/* For MSG_WRITE_FLAGS_LINE_LIMIT and MSG_WRITE_FLAGS_ENCODE_8BIT
 * (msg-message-envelope.c): re-encodes the body parts that need it for one
 * write, after _msg_message_ensure_tree(); *saved gets what
 * _msg_message_restore_encodings() puts back after the write (call it even
 * on failure). */
gboolean _msg_message_encode_for_write (MsgMessage   *self,
                                        MsgWriteFlags flags,
                                        GPtrArray   **saved,
                                        GError      **error);
void     _msg_message_restore_encodings (GPtrArray *saved);

/* Fills From and Reply-To from the configuration when they are empty
 * (msg-message-envelope.c). */
gboolean _msg_message_apply_configured_addresses (MsgMessage *self,
                                                  gboolean    post,
                                                  GError    **error);

/* Updates the attachments model, if there is one, after the attachments
 * changed (msg-message-parts.c). */
void _msg_message_attachments_changed (MsgMessage *self);

/* CDO fields other than urn:schemas:mailheader (msg-message-fields.c). */
gboolean _msg_is_urn_field (const char *name);
gboolean _msg_message_set_urn_field (MsgMessage *self,
                                     const char *name,
                                     const char *value,
                                     GError    **error);
char    *_msg_message_get_urn_field (MsgMessage *self,
                                     const char *name,
                                     GError    **error);
gboolean _msg_message_remove_urn_field (MsgMessage *self,
                                        const char *name);

/* Binds the message to @path for msg_message_save() and is-dirty
 * (msg-message-datasource.c). */
void _msg_message_bind_source (MsgMessage *self,
                               const char *path);

/* The zone of the configuration's timezoneid, or NULL if it has none
 * (msg-message-envelope.c). */
GTimeZone *_msg_message_get_timezone (MsgMessage *self);

/* The tree of a built message, built again if its content changed. */
void _msg_message_ensure_tree (MsgMessage *self);
/* Turns a parsed message into a built one, keeping its content, before
 * its body is changed. */
void _msg_message_materialise (MsgMessage *self);

/* Sets the parent and owner links of the current tree (msg-message-mime.c). */
void _msg_message_link_tree (MsgMessage *self);

/* The tree the caller builds by hand (msg-message-tree.c). Before an edit
 * of the tree whose root is @root: builds a pending tree and tells whether
 * @root is still the message's. */
gboolean _msg_message_prepare_tree_edit (MsgMessage  *self,
                                         GMimeObject *root);
/* Whether the tree is edited in place: the caller built it, or it was
 * parsed and holds parts the library would not build (msg-message-mime.c). */
gboolean _msg_message_keeps_tree (MsgMessage *self);
/* After the caller changed the structure of the tree: keep it. */
void _msg_message_tree_edited (MsgMessage *self);
/* The body and attachment calls on a tree the caller built by hand: they
 * edit it in place and return TRUE, or return FALSE (the tree is the
 * library's: rebuild it). */
gboolean _msg_message_set_body_in_place (MsgMessage *self,
                                         const char *subtype,
                                         const char *text);
gboolean _msg_message_add_attachment_in_place (MsgMessage  *self,
                                               MsgBodyPart *part);
gboolean _msg_message_remove_attachments_in_place (MsgMessage *self,
                                                   int         index);

/* Text helpers (msg-message-mime.c). */
char        *_msg_make_valid_text (const char *text);
GMimeObject *_msg_make_text_part (const char *subtype,
                                  const char *text);
GMimeObject *_msg_find_text_object (GMimeObject *object,
                                    const char  *subtype);
/* Wraps the leaves below @object that are neither @text nor @html (nor
 * related parts, unless marked as attachments) into @out. */
void _msg_collect_attachments (GMimeObject *object,
                               GMimeObject *text,
                               GMimeObject *html,
                               gboolean     in_related,
                               GPtrArray   *out);

/* A new leaf part (transfer full) with the content of an http:, https: or
 * file: URL, fetched under the configuration's rules
 * (msg-message-mhtml.c). */
MsgBodyPart *_msg_message_fetch_part (MsgMessage   *self,
                                      const char   *url,
                                      const char   *user,
                                      const char   *password,
                                      GCancellable *cancellable,
                                      GError      **error);

/* Puts back the tree from before signing or encrypting, if any, before a
 * change of the body (msg-message-crypto.c). */
void _msg_message_unseal (MsgMessage *self);

G_END_DECLS
