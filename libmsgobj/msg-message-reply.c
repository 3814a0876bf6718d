/* msg-message-reply.c: replies and forwards
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-message-private.h"

#include "msg-address-utils-private.h"
#include "msg-body-part-private.h"
#include "msg-configuration.h"
#include "msg-language-private.h"

#include <string.h>

/* Reply and forward */

static gboolean
has_prefix_ci (const char *subject,
               const char *prefix)
{
  return g_ascii_strncasecmp (subject, prefix, strlen (prefix)) == 0;
}

static char *
prefixed_subject (const char        *subject,
                  const char        *prefix,
                  const char *const *known)
{
  const char *s = subject != NULL ? subject : "";

  while (*s == ' ')
    s++;

  for (guint i = 0; known[i] != NULL; i++)
    if (has_prefix_ci (s, known[i]))
      return g_strdup (s);

  return g_strconcat (prefix, s, NULL);
}

static char *
format_sent (MsgMessage        *self,
             const MsgLanguage *language)
{
  g_autoptr (GDateTime) date = msg_message_get_sent_on (self);

  if (date == NULL)
    return NULL;

  return _msg_language_format_date (language, date);
}

static void
append_field (GString    *text,
              GString    *html,
              const char *label,
              const char *value)
{
  g_autofree char *escaped = NULL;

  if (value == NULL || *value == '\0')
    return;

  g_string_append_printf (text, "%s %s\r\n", label, value);
  escaped = g_markup_escape_text (value, -1);
  g_string_append_printf (html, "<b>%s</b> %s<br>\r\n", label, escaped);
}

/* The quote of a reply or forward, kept on it so that
 * msg_message_set_response_text() can put an answer above it. */
typedef struct
{
  char *text; /* (owned) */
  char *html; /* (owned) (nullable): only for an HTML original */
} Quote;

static void
quote_free (gpointer data)
{
  Quote *quote = data;

  g_free (quote->text);
  g_free (quote->html);
  g_free (quote);
}

static GQuark
quote_quark (void)
{
  return g_quark_from_static_string ("msg-message-response-quote");
}

/* Finds the tag <@name ...> (or </@name ...> when @closing) at or after
 * @from, in any case; returns its '<' or NULL. */
static const char *
find_tag (const char *from,
          const char *name,
          gboolean    closing)
{
  gsize len = strlen (name);

  for (const char *p = strchr (from, '<'); p != NULL; p = strchr (p + 1, '<'))
    {
      const char *q = p + 1;

      if (closing && *q++ != '/')
        continue;
      if (g_ascii_strncasecmp (q, name, len) == 0 &&
          (q[len] == '>' || q[len] == '/' || g_ascii_isspace (q[len])))
        return p;
    }
  return NULL;
}

/* Just after the '>' that ends the tag at @tag (the end of the text if
 * there is none). */
static const char *
after_tag (const char *tag)
{
  const char *end = strchr (tag, '>');

  return end != NULL ? end + 1 : tag + strlen (tag);
}

/* The content of an HTML document's body: what a quote may nest inside
 * another document. A fragment without <html>, <head> or <body> is
 * returned whole. */
static char *
html_body_content (const char *html)
{
  const char *start = html;
  const char *end;
  const char *tag;

  if ((tag = find_tag (html, "body", FALSE)) != NULL)
    {
      start = after_tag (tag);
      end = find_tag (start, "body", TRUE);
    }
  else
    {
      if ((tag = find_tag (html, "head", TRUE)) != NULL ||
          (tag = find_tag (html, "html", FALSE)) != NULL)
        start = after_tag (tag);
      end = find_tag (start, "html", TRUE);
    }
  if (end == NULL)
    end = start + strlen (start);
  return g_strndup (start, end - start);
}

/* The response's bodies: @answer (nullable) above the quote, escaped in
 * the HTML, which is one document around the original's body content. */
static void
set_response_bodies (MsgMessage  *response,
                     const Quote *quote,
                     const char  *answer)
{
  g_autoptr (GString) text = g_string_new (answer);

  if (quote->html != NULL)
    {
      g_autoptr (GString) html = g_string_new ("<html><body>\r\n");

      if (answer != NULL && *answer != '\0')
        {
          g_autofree char *escaped = g_markup_escape_text (answer, -1);

          g_string_append (html, "<div>");
          for (const char *p = escaped; *p != '\0'; p++)
            {
              if (*p == '\r' && p[1] == '\n')
                continue;
              if (*p == '\n' || *p == '\r')
                g_string_append (html, "<br>\r\n");
              else
                g_string_append_c (html, *p);
            }
          g_string_append (html, "</div>\r\n");
        }
      g_string_append (html, quote->html);
      g_string_append (html, "</body></html>\r\n");
      msg_message_set_html_body (response, html->str);
    }

  g_string_append (text, quote->text);
  msg_message_set_text_body (response, text->str);
}

/* Fills the body of @response with CDO's "Original Message" block followed
 * by the original text and HTML (the content of its body only). */
static void
fill_response_body (MsgMessage *response,
                    MsgMessage *original)
{
  g_autofree char *code = msg_configuration_get_field (original->configuration, "languagecode");
  /* The field accepts only the languages of the table: English is a
   * fallback that is not expected to be needed. */
  const MsgLanguage *language = _msg_language_find (code) != NULL ? _msg_language_find (code) : _msg_language_find ("en");
  g_autofree char   *from = msg_message_get_from (original);
  g_autofree char   *sent = format_sent (original, language);
  g_autofree char   *to = msg_message_get_to (original);
  g_autofree char   *cc = msg_message_get_cc (original);
  g_autofree char   *subject = msg_message_get_subject (original);
  g_autofree char   *orig_text = msg_message_get_text_body (original);
  g_autofree char   *orig_html = msg_message_get_html_body (original);
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (GString) html = g_string_new (NULL);
  Quote *quote;

  if (!msg_configuration_get_boolean (original->configuration, "usemessageresponsetext"))
    return;

  g_string_append_printf (text, "\r\n\r\n%s\r\n", _msg_language_separator (language));
  g_string_append_printf (html, "<br>\r\n<div>%s<br>\r\n", _msg_language_separator (language));
  append_field (text, html, _msg_language_label (language, "From"), from);
  append_field (text, html, _msg_language_label (language, "Sent"), sent);
  append_field (text, html, _msg_language_label (language, "To"), to);
  append_field (text, html, _msg_language_label (language, "Cc"), cc);
  append_field (text, html, _msg_language_label (language, "Subject"), subject);
  g_string_append (text, "\r\n");
  g_string_append (html, "</div>\r\n<br>\r\n");

  if (orig_text != NULL)
    g_string_append (text, orig_text);

  quote = g_new0 (Quote, 1);
  quote->text = g_string_free (g_steal_pointer (&text), FALSE);
  if (orig_html != NULL)
    {
      g_autofree char *content = html_body_content (orig_html);

      g_string_append (html, content);
      quote->html = g_string_free (g_steal_pointer (&html), FALSE);
    }
  set_response_bodies (response, quote, NULL);
  g_object_set_qdata_full (G_OBJECT (response), quote_quark (), quote, quote_free);
}

static MsgMessage *
new_response (MsgMessage        *self,
              const char        *prefix,
              const char *const *known)
{
  MsgMessage      *response = msg_message_new_with_configuration (self->configuration);
  g_autofree char *subject = msg_message_get_subject (self);
  g_autofree char *new_subject = prefixed_subject (subject, prefix, known);
  g_autofree char *from = msg_configuration_get_field (self->configuration, "sendemailaddress");

  msg_message_set_subject (response, new_subject, NULL);
  if (from != NULL && *from != '\0')
    msg_message_set_from (response, from, NULL);

  return response;
}

static void
set_threading (MsgMessage *response,
               MsgMessage *original)
{
  g_autofree char *id = msg_message_get_message_id (original);
  const char      *refs;
  g_autofree char *references = NULL;

  if (id == NULL)
    return;

  refs = g_mime_object_get_header (GMIME_OBJECT (original->mime), "References");
  if (refs == NULL)
    refs = g_mime_object_get_header (GMIME_OBJECT (original->mime), "In-Reply-To");

  references = refs != NULL ? g_strdup_printf ("%s %s", refs, id) : g_strdup (id);
  if (!msg_message_set_header (response, "In-Reply-To", id, NULL))
    return;
  if (!msg_message_set_header (response, "References", references, NULL))
    msg_message_set_header (response, "References", id, NULL);
}

static void
append_list (InternetAddressList *dest,
             InternetAddressList *src,
             GHashTable          *seen)
{
  for (int i = 0; src != NULL && i < internet_address_list_length (src); i++)
    {
      InternetAddress *address = internet_address_list_get_address (src, i);

      if (INTERNET_ADDRESS_IS_GROUP (address))
        append_list (dest, internet_address_group_get_members (INTERNET_ADDRESS_GROUP (address)), seen);
      else
        {
          const char *addr = internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (address));

          if (addr != NULL && g_hash_table_add (seen, g_utf8_casefold (addr, -1)))
            internet_address_list_add (dest, address);
        }
    }
}

static char *
list_to_string (InternetAddressList *list)
{
  if (internet_address_list_length (list) == 0)
    return NULL;

  return internet_address_list_to_string (list, NULL, FALSE);
}

static MsgMessage *
create_reply (MsgMessage *self,
              gboolean    all)
{
  static const char *const known[] = { "RE:", "AW:", "SV:", NULL };
  MsgMessage              *response = new_response (self, "RE: ", known);
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr (InternetAddressList) to = internet_address_list_new ();
  g_autoptr (InternetAddressList) cc = internet_address_list_new ();
  InternetAddressList *target;
  g_autofree char     *own = msg_configuration_get_field (self->configuration, "sendemailaddress");
  g_autofree char     *to_text = NULL;
  g_autofree char     *cc_text = NULL;

  target = g_mime_message_get_addresses (self->mime, GMIME_ADDRESS_TYPE_REPLY_TO);
  if (internet_address_list_length (target) == 0)
    target = g_mime_message_get_addresses (self->mime, GMIME_ADDRESS_TYPE_FROM);

  if (all && own != NULL && *own != '\0')
    {
      g_autoptr (InternetAddressList) own_list = _msg_parse_address_list ("sendemailaddress", own, FALSE, NULL);
      const char *addr = _msg_first_mailbox (own_list);

      if (addr != NULL)
        g_hash_table_add (seen, g_utf8_casefold (addr, -1));
    }

  append_list (to, target, seen);
  if (all)
    {
      append_list (to, g_mime_message_get_addresses (self->mime, GMIME_ADDRESS_TYPE_TO), seen);
      append_list (cc, g_mime_message_get_addresses (self->mime, GMIME_ADDRESS_TYPE_CC), seen);
    }

  to_text = list_to_string (to);
  cc_text = list_to_string (cc);
  if (to_text != NULL)
    msg_message_set_to (response, to_text, NULL);
  if (cc_text != NULL)
    msg_message_set_cc (response, cc_text, NULL);

  set_threading (response, self);
  fill_response_body (response, self);
  return response;
}

/**
 * msg_message_create_reply:
 * @self: a message
 *
 * Creates a reply (CDO `Reply`): addressed to `Reply-To`, else `From`;
 * subject prefixed with `RE: ` unless it already is; `In-Reply-To` and
 * `References` set; no attachments. While the configuration's
 * `usemessageresponsetext` holds, the body quotes the original after an
 * "-----Original Message-----" block (From, Sent, To, Cc, Subject), in
 * the configuration's `languagecode` (`de`: "-----Ursprüngliche
 * Nachricht-----", Von, Gesendet…; see message.md). The
 * reply shares the configuration of @self (CDO reset it: a known CDO bug),
 * and its `From` is the configuration's `sendemailaddress` if set.
 *
 * Returns: (transfer full): the reply
 */
MsgMessage *
msg_message_create_reply (MsgMessage *self)
{
  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);

  return create_reply (self, FALSE);
}

/**
 * msg_message_create_reply_all:
 * @self: a message
 *
 * Creates a reply to all (CDO `ReplyAll`): as
 * [method@Message.create_reply], with the original `To` added to the
 * reply's `To` and the original `Cc` kept, without duplicates and without
 * the configuration's own `sendemailaddress`.
 *
 * Returns: (transfer full): the reply
 */
MsgMessage *
msg_message_create_reply_all (MsgMessage *self)
{
  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);

  return create_reply (self, TRUE);
}

/**
 * msg_message_create_forward:
 * @self: a message
 *
 * Creates a forward (CDO `Forward`): no recipients; subject prefixed with
 * `FW: ` unless it already is; every attachment kept (file attachments
 * still refer to their files); the response text as for a reply.
 *
 * Returns: (transfer full): the forward
 */
MsgMessage *
msg_message_create_forward (MsgMessage *self)
{
  static const char *const known[] = { "FW:", "FWD:", NULL };
  MsgMessage              *response;
  GList                   *attachments;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);

  response = new_response (self, "FW: ", known);
  fill_response_body (response, self);

  attachments = msg_message_get_attachments (self);
  for (GList *l = attachments; l != NULL; l = l->next)
    g_ptr_array_add (response->attachments, _msg_body_part_copy (l->data));
  g_list_free_full (attachments, g_object_unref);
  response->dirty = TRUE;

  return response;
}

/**
 * msg_message_set_response_text:
 * @self: a reply or forward made by [method@Message.create_reply],
 *   [method@Message.create_reply_all] or [method@Message.create_forward]
 * @text: (nullable): the answer, plain text
 *
 * Puts @text above the quote of the original, as mail clients do: at the
 * top of the text body, and, when the original had an HTML body (so the
 * response has one, the part most mail clients show), at the top of the
 * HTML body too, escaped, its line ends as `<br>`. Calling it again
 * replaces the answer; it replaces any other change made to the bodies.
 * On a message that quotes nothing (not a response, or made while
 * `usemessageresponsetext` was false) it sets the text body.
 */
void
msg_message_set_response_text (MsgMessage *self,
                               const char *text)
{
  Quote *quote;

  g_return_if_fail (MSG_IS_MESSAGE (self));

  quote = g_object_get_qdata (G_OBJECT (self), quote_quark ());
  if (quote == NULL)
    {
      msg_message_set_text_body (self, text);
      return;
    }
  set_response_bodies (self, quote, text);
}
