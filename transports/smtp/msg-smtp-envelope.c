/* msg-smtp-envelope.c: the envelope of an SMTP transaction
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-smtp-private.h"

#include <string.h>

/* The envelope. */

static void
mailbox_clear (Mailbox *m)
{
  g_free (m->address);
  g_free (m->wire);
}

static gboolean
is_ascii (const char *text)
{
  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    if (*p >= 0x80)
      return FALSE;
  return TRUE;
}

/* Checks an envelope address (RFC 5321 4.1.2 and 4.5.3.1) and converts its
 * domain to A-labels; refuses anything that could break out of the
 * command (reliability.md 2.4). */
static gboolean
mailbox_init (Mailbox    *m,
              const char *address,
              GError    **error)
{
  const char      *at = strrchr (address, '@');
  g_autofree char *local = NULL;
  g_autofree char *domain = NULL;
  gboolean         quoted = FALSE;

  memset (m, 0, sizeof *m);
  if (at == NULL || at == address || at[1] == '\0')
    goto invalid;
  local = g_strndup (address, (gsize) (at - address));
  for (const guchar *p = (const guchar *) address; *p != '\0'; p++)
    {
      if (*p < 0x20 || *p == 0x7f || *p == '<' || *p == '>')
        goto invalid;
      if (*p == '"')
        quoted = !quoted;
      else if (!quoted && *p == ' ')
        goto invalid;
    }
  if (quoted)
    goto invalid;

  if (at[1] == '[' || is_ascii (at + 1))
    domain = g_strdup (at + 1);
  else
    {
      domain = g_hostname_to_ascii (at + 1);
      if (domain == NULL)
        goto invalid;
    }
  if (strlen (local) > MAX_LOCAL_PART || strlen (domain) > MAX_DOMAIN ||
      strlen (local) + 1 + strlen (domain) > MAX_PATH)
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ADDRESS,
                   "The address “%s” is too long for SMTP (RFC 5321 4.5.3.1)", address);
      return FALSE;
    }
  m->address = g_strdup (address);
  m->wire = g_strconcat (local, "@", domain, NULL);
  m->utf8 = !is_ascii (local);
  return TRUE;

invalid:
  {
    g_autofree char *shown = g_strescape (address, NULL);

    g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ADDRESS,
                 "The address “%s” cannot be used in an SMTP envelope", shown);
  }
  return FALSE;
}

void
_msg_smtp_envelope_clear (Envelope *e)
{
  mailbox_clear (&e->sender);
  if (e->recipients != NULL)
    g_array_unref (e->recipients);
  memset (e, 0, sizeof *e);
}

gboolean
_msg_smtp_envelope_init (Envelope   *e,
                         MsgMessage *message,
                         GError    **error)
{
  g_autofree char *sender = NULL;
  g_auto (GStrv) recipients = NULL;

  memset (e, 0, sizeof *e);
  e->recipients = g_array_new (FALSE, TRUE, sizeof (Mailbox));
  g_array_set_clear_func (e->recipients, (GDestroyNotify) mailbox_clear);

  sender = msg_message_get_envelope_sender (message, error);
  if (sender == NULL || !mailbox_init (&e->sender, sender, error))
    return FALSE;
  e->utf8 = e->sender.utf8;
  recipients = msg_message_get_envelope_recipients (message, error);
  if (recipients == NULL)
    return FALSE;
  for (guint i = 0; recipients[i] != NULL; i++)
    {
      Mailbox m;

      if (!mailbox_init (&m, recipients[i], error))
        return FALSE;
      e->utf8 |= m.utf8;
      g_array_append_val (e->recipients, m);
    }
  return TRUE;
}

/* RFC 3461 section 4: xtext. */
char *
_msg_smtp_xtext_encode (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const guchar *p = (const guchar *) text; *p != '\0'; p++)
    {
      if (*p < 33 || *p > 126 || *p == '+' || *p == '=')
        g_string_append_printf (out, "+%02X", *p);
      else
        g_string_append_c (out, (char) *p);
    }
  return g_string_free (out, FALSE);
}

/* The DSN envelope identifier (RFC 3461 section 4.4): the Message-ID
 * without its angle brackets, as xtext, or NULL when there is none or when
 * its xtext is longer than the 100 characters the RFC allows (a long but
 * valid Message-ID would otherwise push MAIL past 512 octets). */
char *
_msg_smtp_envid (MsgMessage *message)
{
  g_autofree char *message_id = msg_message_get_message_id (message);
  g_autofree char *bare = NULL;
  g_autofree char *envid = NULL;
  gsize            length;

  if (message_id == NULL || *message_id == '\0')
    return NULL;
  length = strlen (message_id);
  if (message_id[0] == '<')
    length--;
  if (length > 0 && g_str_has_suffix (message_id, ">"))
    length--;
  bare = g_strndup (message_id + (message_id[0] == '<'), length);
  envid = _msg_smtp_xtext_encode (bare);
  if (*envid == '\0' || strlen (envid) > MAX_ENVID)
    return NULL;
  return g_steal_pointer (&envid);
}

/* The longest MAIL and RCPT commands this envelope can give, with every
 * parameter the transport may add, are checked against RFC 5321's 512
 * octets before any I/O: a send must not fail after connecting on
 * something known beforehand. */
gboolean
_msg_smtp_envelope_check_lengths (const Envelope *e,
                                  MsgMessage     *message,
                                  GError        **error)
{
  g_autofree char *envid = _msg_smtp_envid (message);
  gsize            mail_length;

  /* The longest commands the envelope can make, CRLF included: MAIL with
   * SIZE as the largest 64-bit number, BODY, SMTPUTF8, RET and ENVID;
   * RCPT with every NOTIFY word. */
  mail_length = strlen ("MAIL FROM:<") + strlen (e->sender.wire) +
                strlen ("> SIZE=18446744073709551615 BODY=8BITMIME SMTPUTF8 RET=HDRS") +
                (envid != NULL ? strlen (" ENVID=") + strlen (envid) : 0) + 2;
  if (mail_length > MAX_COMMAND)
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ADDRESS,
                   "The sender “%s” makes the SMTP MAIL command longer than %d octets "
                   "(RFC 5321 4.5.3.1.4)",
                   e->sender.address, MAX_COMMAND);
      return FALSE;
    }
  for (guint i = 0; i < e->recipients->len; i++)
    {
      const Mailbox *m = &g_array_index (e->recipients, Mailbox, i);

      if (strlen ("RCPT TO:<") + strlen (m->wire) + strlen ("> NOTIFY=SUCCESS,FAILURE,DELAY") + 2 > MAX_COMMAND)
        {
          g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ADDRESS,
                       "The recipient “%s” makes the SMTP RCPT command longer than %d octets "
                       "(RFC 5321 4.5.3.1.4)",
                       m->address, MAX_COMMAND);
          return FALSE;
        }
    }
  return TRUE;
}

char *
_msg_smtp_dsn_notify (MsgDsnOptions options)
{
  GPtrArray *words;

  if (options & MSG_DSN_NEVER)
    return g_strdup ("NEVER");
  words = g_ptr_array_new ();
  if (options & MSG_DSN_SUCCESS)
    g_ptr_array_add (words, (char *) "SUCCESS");
  if (options & MSG_DSN_FAILURE)
    g_ptr_array_add (words, (char *) "FAILURE");
  if (options & MSG_DSN_DELAY)
    g_ptr_array_add (words, (char *) "DELAY");
  g_ptr_array_add (words, NULL);
  {
    char *joined = words->len > 1 ? g_strjoinv (",", (GStrv) words->pdata) : NULL;

    g_ptr_array_free (words, TRUE);
    return joined;
  }
}
