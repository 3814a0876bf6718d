/* msg-message-post-reply.c: CDO's Message.PostReply
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-message-private.h"

#include "msg-configuration.h"

/* A followup article (RFC 5536, section 3.2.6 and 3.2.10): the reply
 * machinery of msg-message-reply.c (subject, threading, response text),
 * then the news rules for where it goes. */

/**
 * msg_message_create_post_reply:
 * @self: a news article
 * @error: return location for an error
 *
 * Creates a followup article (CDO `PostReply`): as
 * [method@Message.create_reply] (subject, `References` and `In-Reply-To`,
 * the response text), but with no mail recipients and posted to the
 * original's `Followup-To` if it has one, else to its `Newsgroups`
 * (RFC 5536). Its `From` is the configuration's `postemailaddress` if set.
 * When `Followup-To` is `poster`, the author asked for replies by mail
 * (RFC 5536, section 3.2.6): the result is then the reply of
 * [method@Message.create_reply], addressed to the author, with no
 * newsgroups.
 *
 * Returns: (transfer full): the followup, or %NULL with
 *   %MSG_MESSAGE_ERROR_NO_NEWSGROUPS if @self has no `Newsgroups`
 */
MsgMessage *
msg_message_create_post_reply (MsgMessage *self,
                               GError    **error)
{
  g_autofree char *newsgroups = NULL;
  g_autofree char *followup_to = NULL;
  g_autofree char *poster = NULL;
  MsgMessage      *response;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  newsgroups = msg_message_get_newsgroups (self);
  if (newsgroups == NULL || *newsgroups == '\0')
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_NO_NEWSGROUPS,
                           "Only a news article (with Newsgroups) can be followed up");
      return NULL;
    }

  response = msg_message_create_reply (self);
  followup_to = msg_message_get_followup_to (self);
  if (followup_to != NULL && g_ascii_strcasecmp (g_strstrip (followup_to), "poster") == 0)
    return response;

  msg_message_set_to (response, NULL, NULL);
  msg_message_set_cc (response, NULL, NULL);
  if (!msg_message_set_newsgroups (response,
                                   followup_to != NULL && *followup_to != '\0' ? followup_to : newsgroups,
                                   error))
    {
      g_object_unref (response);
      return NULL;
    }

  poster = msg_configuration_get_field (self->configuration, "postemailaddress");
  if (poster != NULL && *poster != '\0' && !msg_message_set_from (response, poster, error))
    {
      g_object_unref (response);
      return NULL;
    }
  return response;
}
