/* msg-reply.c: a parsed SMTP or NNTP server reply
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-reply-private.h"

#include "msg-transport.h"

#include <string.h>

/**
 * MsgReply:
 *
 * A server reply: a three-digit code, an optional RFC 3463 enhanced status
 * code and the text of its lines.
 *
 * [method@Connection.read_reply] returns one; [func@Reply.parse] parses
 * one from text. The text is always valid UTF-8: invalid bytes are
 * replaced with U+FFFD and control characters with `?`, so it can go into
 * an error message or a log as it is.
 */
struct _MsgReply
{
  gatomicrefcount ref_count;
  unsigned        code;
  char           *enhanced_status; /* (nullable) */
  char           *text;
  char          **lines;
};

struct _MsgReplyParser
{
  MsgReplyGrammar grammar;
  unsigned        code;
  gsize           n_bytes;
  GPtrArray      *lines; /* (element-type utf8) */
  gboolean        done;
};

G_DEFINE_BOXED_TYPE (MsgReply, msg_reply, msg_reply_ref, msg_reply_unref)

/**
 * msg_reply_parse:
 * @data: (array length=length) (element-type guint8): the reply's text
 * @length: the length of @data in bytes, or -1 if it is nul-terminated
 * @error: return location for a #GError
 *
 * Parses a whole server reply: one or more lines, each ending in CRLF or
 * a bare LF (the last line may lack its line end), `250-...`
 * continuation lines before a final `250 ...` line. Codes 100 to 599 are
 * accepted.
 *
 * Fails with %MSG_TRANSPORT_ERROR_PROTOCOL on an invalid code, codes that
 * differ between lines, a missing final line, text after the final line,
 * a NUL byte, a line longer than %MSG_REPLY_MAX_LINE_LENGTH, a reply
 * longer than %MSG_REPLY_MAX_LENGTH or more than 1000 lines. Other
 * control characters and invalid UTF-8 in the text are replaced.
 *
 * Returns: (transfer full): the reply, or %NULL on error
 */
MsgReply *
msg_reply_parse (const char *data,
                 gssize      length,
                 GError    **error)
{
  g_autoptr (MsgReplyParser) parser = NULL;
  const char *p;
  const char *end;
  gboolean    done = FALSE;

  g_return_val_if_fail (data != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (length < 0)
    length = (gssize) strlen (data);
  parser = _msg_reply_parser_new (MSG_REPLY_GRAMMAR_ANY);
  p = data;
  end = data + length;
  while (p < end && !done)
    {
      const char *lf = memchr (p, '\n', (gsize) (end - p));
      gsize       line_length = (gsize) ((lf != NULL ? lf : end) - p);

      if (line_length + 1 > MSG_REPLY_MAX_LINE_LENGTH)
        {
          g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL,
                       "Reply line longer than %d bytes", MSG_REPLY_MAX_LINE_LENGTH);
          return NULL;
        }
      if (!_msg_reply_parser_feed_line (parser, p, line_length, &done, error))
        return NULL;
      p = lf != NULL ? lf + 1 : end;
    }
  if (!done)
    {
      g_set_error_literal (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL,
                           p == data ? "Empty reply" : "Reply ends with a continuation line and no final line");
      return NULL;
    }
  if (p < end)
    {
      g_set_error_literal (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL,
                           "Text after the final line of the reply");
      return NULL;
    }
  return _msg_reply_parser_finish (parser);
}

/**
 * msg_reply_ref:
 * @self: a reply
 *
 * Takes a reference.
 *
 * Returns: (transfer full): @self
 */
MsgReply *
msg_reply_ref (MsgReply *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);
  return self;
}

/**
 * msg_reply_unref:
 * @self: (transfer full): a reply
 *
 * Drops a reference; frees the reply when it was the last.
 */
void
msg_reply_unref (MsgReply *self)
{
  g_return_if_fail (self != NULL);

  if (g_atomic_ref_count_dec (&self->ref_count))
    {
      g_free (self->enhanced_status);
      g_free (self->text);
      g_strfreev (self->lines);
      g_free (self);
    }
}

/**
 * msg_reply_get_code:
 * @self: a reply
 *
 * Gets the three-digit reply code, such as 250.
 *
 * Returns: the code, 100 to 599
 */
unsigned
msg_reply_get_code (const MsgReply *self)
{
  g_return_val_if_fail (self != NULL, 0);

  return self->code;
}

/**
 * msg_reply_get_enhanced_status:
 * @self: a reply
 *
 * Gets the RFC 3463 enhanced status code that starts the text of the
 * reply's first line, such as `"2.1.5"`.
 *
 * It is only recognised when its class (its first digit: 2, 4 or 5)
 * matches the class of the reply code. It stays part of the text.
 *
 * Returns: (nullable): the enhanced status code, or %NULL when the reply
 *   has none
 */
const char *
msg_reply_get_enhanced_status (const MsgReply *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->enhanced_status;
}

/**
 * msg_reply_get_text:
 * @self: a reply
 *
 * Gets the reply's text: the text of every line, without the code and the
 * separator after it, joined with `"\n"`.
 *
 * Returns: the text, valid UTF-8 (possibly empty)
 */
const char *
msg_reply_get_text (const MsgReply *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return self->text;
}

/**
 * msg_reply_get_lines:
 * @self: a reply
 *
 * Gets the text of each line of the reply, without the code and the
 * separator after it.
 *
 * Returns: (array zero-terminated=1) (transfer none): the lines
 */
const char *const *
msg_reply_get_lines (const MsgReply *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return (const char *const *) self->lines;
}

/**
 * msg_reply_is_positive:
 * @self: a reply
 *
 * Tells whether the reply is a completion (2xx).
 *
 * Returns: whether the code is 2xx (completed)
 */
gboolean
msg_reply_is_positive (const MsgReply *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->code / 100 == 2;
}

/**
 * msg_reply_is_intermediate:
 * @self: a reply
 *
 * Tells whether the reply asks for more (3xx).
 *
 * Returns: whether the code is 3xx (go on, such as 354 after DATA)
 */
gboolean
msg_reply_is_intermediate (const MsgReply *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->code / 100 == 3;
}

/**
 * msg_reply_is_transient_failure:
 * @self: a reply
 *
 * Tells whether the reply is a transient failure (4xx).
 *
 * Returns: whether the code is 4xx (failed; a later retry may succeed)
 */
gboolean
msg_reply_is_transient_failure (const MsgReply *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->code / 100 == 4;
}

/**
 * msg_reply_is_permanent_failure:
 * @self: a reply
 *
 * Tells whether the reply is a permanent failure (5xx).
 *
 * Returns: whether the code is 5xx (failed for good)
 */
gboolean
msg_reply_is_permanent_failure (const MsgReply *self)
{
  g_return_val_if_fail (self != NULL, FALSE);

  return self->code / 100 == 5;
}

/* The incremental parser (msg-reply-private.h). */

char *
_msg_reply_sanitize_text (const char *data,
                          gsize       length)
{
  g_autofree char *copy = g_malloc (length + 1);

  for (gsize i = 0; i < length; i++)
    {
      guchar c = (guchar) data[i];

      copy[i] = (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char) c;
    }
  copy[length] = '\0';
  return g_utf8_make_valid (copy, (gssize) length);
}

/* A shortened printable copy of @line for an error message. */
static char *
describe_line (const char *line,
               gsize       length)
{
  if (length > 80)
    {
      g_autofree char *head = _msg_reply_sanitize_text (line, 80);

      return g_strdup_printf ("\"%s…\"", head);
    }
  else
    {
      g_autofree char *all = _msg_reply_sanitize_text (line, length);

      return g_strdup_printf ("\"%s\"", all);
    }
}

/* "x.y.z" per RFC 3463: class 2, 4 or 5, subject and detail of 1 to 3
 * digits, followed by a space or the end of the text. */
static char *
parse_enhanced_status (const char *text,
                       unsigned    code)
{
  const char *p = text;
  int         part_digits;

  if (*p != '2' && *p != '4' && *p != '5')
    return NULL;
  if ((unsigned) (*p - '0') != code / 100)
    return NULL;
  p++;
  for (int part = 0; part < 2; part++)
    {
      if (*p != '.')
        return NULL;
      p++;
      for (part_digits = 0; g_ascii_isdigit (*p) && part_digits < 4; part_digits++)
        p++;
      if (part_digits < 1 || part_digits > 3)
        return NULL;
    }
  if (*p != '\0' && *p != ' ' && *p != '\t')
    return NULL;
  return g_strndup (text, (gsize) (p - text));
}

MsgReplyParser *
_msg_reply_parser_new (MsgReplyGrammar grammar)
{
  MsgReplyParser *parser = g_new0 (MsgReplyParser, 1);

  parser->grammar = grammar;
  parser->lines = g_ptr_array_new_with_free_func (g_free);
  return parser;
}

void
_msg_reply_parser_free (MsgReplyParser *parser)
{
  if (parser == NULL)
    return;
  g_ptr_array_unref (parser->lines);
  g_free (parser);
}

static void
msg_reply_parser_reset (MsgReplyParser *parser)
{
  g_ptr_array_set_size (parser->lines, 0);
  parser->code = 0;
  parser->n_bytes = 0;
  parser->done = FALSE;
}

gboolean
_msg_reply_parser_feed_line (MsgReplyParser *parser,
                             const char     *line,
                             gsize           length,
                             gboolean       *done,
                             GError        **error)
{
  unsigned code;
  char     separator;
  unsigned min_class = parser->grammar == MSG_REPLY_GRAMMAR_SMTP ? 2 : 1;

  g_return_val_if_fail (!parser->done, FALSE);

  *done = FALSE;
  if (length > 0 && line[length - 1] == '\r')
    length--;

  /* Each line counts as if it ended in CRLF. */
  if (length + 2 > MSG_REPLY_MAX_LINE_LENGTH)
    {
      g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL,
                   "Reply line longer than %d bytes", MSG_REPLY_MAX_LINE_LENGTH);
      return FALSE;
    }
  parser->n_bytes += length + 2;
  if (parser->n_bytes > MSG_REPLY_MAX_LENGTH)
    {
      g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL,
                   "Reply longer than %d bytes", MSG_REPLY_MAX_LENGTH);
      return FALSE;
    }
  if (parser->lines->len >= MSG_REPLY_MAX_LINES)
    {
      g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL,
                   "Reply with more than %d lines", MSG_REPLY_MAX_LINES);
      return FALSE;
    }
  if (memchr (line, '\0', length) != NULL)
    {
      g_set_error_literal (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL,
                           "NUL byte in a reply line");
      return FALSE;
    }

  if (length < 3 ||
      !g_ascii_isdigit (line[0]) || !g_ascii_isdigit (line[1]) || !g_ascii_isdigit (line[2]) ||
      (unsigned) (line[0] - '0') < min_class || line[0] > '5')
    {
      g_autofree char *what = describe_line (line, length);

      g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL,
                   "Invalid reply code in %s", what);
      return FALSE;
    }
  code = (unsigned) ((line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0'));
  separator = length > 3 ? line[3] : ' ';
  if (separator != ' ' && !(separator == '-' && parser->grammar != MSG_REPLY_GRAMMAR_NNTP))
    {
      g_autofree char *what = describe_line (line, length);

      g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL,
                   "Invalid separator after the reply code in %s", what);
      return FALSE;
    }
  if (parser->lines->len > 0 && code != parser->code)
    {
      g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL,
                   "Reply code changed from %u to %u within a multi-line reply",
                   parser->code, code);
      return FALSE;
    }

  parser->code = code;
  g_ptr_array_add (parser->lines,
                   length > 4 ? _msg_reply_sanitize_text (line + 4, length - 4) : g_strdup (""));
  if (separator == ' ')
    {
      parser->done = TRUE;
      *done = TRUE;
    }
  return TRUE;
}

MsgReply *
_msg_reply_parser_finish (MsgReplyParser *parser)
{
  MsgReply *reply;

  g_return_val_if_fail (parser->done, NULL);

  reply = g_new0 (MsgReply, 1);
  g_atomic_ref_count_init (&reply->ref_count);
  reply->code = parser->code;
  g_ptr_array_add (parser->lines, NULL);
  reply->lines = g_strdupv ((char **) parser->lines->pdata);
  reply->text = g_strjoinv ("\n", reply->lines);
  if (parser->grammar != MSG_REPLY_GRAMMAR_NNTP)
    reply->enhanced_status = parse_enhanced_status (reply->lines[0], reply->code);
  msg_reply_parser_reset (parser);
  return reply;
}
