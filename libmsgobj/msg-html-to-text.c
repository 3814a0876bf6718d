/* msg-html-to-text.c: the plain-text alternative of an HTML body
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * One pass over the HTML copies the text, decoding entities and
 * collapsing white space outside <pre>, and gives each tag the action the
 * tag table names for it. Tags not in the table, links among them, vanish
 * and leave their content. A last pass trims the lines, keeps at most one
 * blank line between two, and joins them with CRLF.
 */
#include "config.h"

#include "msg-html-to-text-private.h"

#include <string.h>

typedef enum
{
  /* The content up to the matching end tag is dropped. */
  TAG_SKIP_CONTENT,
  /* A line ends here, even an empty one. */
  TAG_LINE_BREAK,
  /* A blank line before and after. */
  TAG_BLOCK,
  /* A block whose white space is kept. */
  TAG_PRE,
  /* A new line before and after. */
  TAG_LINE,
  /* A space before each cell of a row. */
  TAG_CELL,
} TagAction;

typedef struct
{
  const char *name; /* lower case */
  TagAction   action;
} TagInfo;

static const TagInfo tags[] = {
  { "script", TAG_SKIP_CONTENT },
  { "style", TAG_SKIP_CONTENT },
  { "head", TAG_SKIP_CONTENT },
  { "title", TAG_SKIP_CONTENT },
  { "br", TAG_LINE_BREAK },
  { "p", TAG_BLOCK },
  { "table", TAG_BLOCK },
  { "blockquote", TAG_BLOCK },
  { "ul", TAG_BLOCK },
  { "ol", TAG_BLOCK },
  { "hr", TAG_BLOCK },
  { "h1", TAG_BLOCK },
  { "h2", TAG_BLOCK },
  { "h3", TAG_BLOCK },
  { "h4", TAG_BLOCK },
  { "h5", TAG_BLOCK },
  { "h6", TAG_BLOCK },
  { "pre", TAG_PRE },
  { "div", TAG_LINE },
  { "tr", TAG_LINE },
  { "li", TAG_LINE },
  { "dt", TAG_LINE },
  { "dd", TAG_LINE },
  { "td", TAG_CELL },
  { "th", TAG_CELL },
};

/* The longest entity, from its '&' up to its ';' exclusive. */
#define MAX_ENTITY_LENGTH 12

/* The entities decoded by name (case matters). */
static const struct
{
  const char *name;
  const char *text;
} entities[] = {
  { "amp", "&" },
  { "lt", "<" },
  { "gt", ">" },
  { "quot", "\"" },
  { "apos", "'" },
  { "nbsp", " " },
  { "copy", "©" },
  { "reg", "®" },
  { "trade", "™" },
  { "hellip", "…" },
  { "mdash", "—" },
  { "ndash", "–" },
  { "laquo", "«" },
  { "raquo", "»" },
  { "lsquo", "‘" },
  { "rsquo", "’" },
  { "ldquo", "“" },
  { "rdquo", "”" },
  { "bull", "•" },
  { "middot", "·" },
  { "euro", "€" },
  { "pound", "£" },
  { "yen", "¥" },
  { "cent", "¢" },
  { "sect", "§" },
  { "deg", "°" },
  { "times", "×" },
  { "divide", "÷" },
  { "eacute", "é" },
  { "egrave", "è" },
  { "agrave", "à" },
  { "auml", "ä" },
  { "ouml", "ö" },
  { "uuml", "ü" },
  { "szlig", "ß" },
  { "ccedil", "ç" },
};

/* A tag as written; the name is not nul-terminated. */
typedef struct
{
  const char *name;
  gsize       name_len;
  gboolean    closing;
} Tag;

typedef struct
{
  GString       *out;      /* (unowned) */
  const TagInfo *skipping; /* (nullable): the element whose content is dropped */
  int            pre;      /* the depth of <pre> elements */
} Converter;

/* Entities */

/* The length of the entity at @p (pointing at '&') including its ';', or
 * 0 if no ';' ends it within MAX_ENTITY_LENGTH bytes. */
static gsize
entity_length (const char *p)
{
  for (gsize i = 1; i <= MAX_ENTITY_LENGTH && p[i] != '\0'; i++)
    {
      if (p[i] == ';')
        return i >= 2 ? i + 1 : 0;
    }

  return 0;
}

/* "&#NNN;" or "&#xHHH;": a character other than NUL or a control
 * character (tab and newline aside); no-break space becomes a space. */
static gboolean
append_numeric_entity (const char *p,
                       const char *semi,
                       GString    *out)
{
  gunichar c;
  char    *end = NULL;

  if (p[2] == 'x' || p[2] == 'X')
    c = (gunichar) g_ascii_strtoull (p + 3, &end, 16);
  else
    c = (gunichar) g_ascii_strtoull (p + 2, &end, 10);

  if (end != semi || !g_unichar_validate (c) || c == 0)
    return FALSE;
  if (c == 0xa0)
    c = ' ';
  if (c < 0x20 && c != '\t' && c != '\n')
    return FALSE;

  g_string_append_unichar (out, c);
  return TRUE;
}

static gboolean
append_named_entity (const char *name,
                     gsize       name_len,
                     GString    *out)
{
  for (gsize i = 0; i < G_N_ELEMENTS (entities); i++)
    {
      if (strlen (entities[i].name) == name_len && strncmp (name, entities[i].name, name_len) == 0)
        {
          g_string_append (out, entities[i].text);
          return TRUE;
        }
    }

  return FALSE;
}

/* Decodes the entity at @p (pointing at '&'); returns the number of bytes
 * consumed, 0 if it is not an entity. */
static gsize
decode_entity (const char *p,
               GString    *out)
{
  gsize    len = entity_length (p);
  gboolean ok;

  if (len == 0)
    return 0;

  if (p[1] == '#')
    ok = append_numeric_entity (p, p + len - 1, out);
  else
    ok = append_named_entity (p + 1, len - 2, out);

  return ok ? len : 0;
}

/* Line breaks */

static void
trim_trailing_spaces (GString *out)
{
  gsize len = out->len;

  while (len > 0 && out->str[len - 1] == ' ')
    len--;
  g_string_truncate (out, len);
}

/* Ends the text so far with at least @n_newlines newlines, unless it is
 * empty. */
static void
append_break (GString *out,
              guint    n_newlines)
{
  guint have = 0;

  /* Trailing spaces go before a line break. */
  trim_trailing_spaces (out);
  if (out->len == 0)
    return;

  while (have < out->len && out->str[out->len - 1 - have] == '\n')
    have++;
  for (; have < n_newlines; have++)
    g_string_append_c (out, '\n');
}

/* Tags */

static const TagInfo *
lookup_tag (const Tag *tag)
{
  for (gsize i = 0; i < G_N_ELEMENTS (tags); i++)
    {
      if (strlen (tags[i].name) == tag->name_len &&
          g_ascii_strncasecmp (tag->name, tags[i].name, tag->name_len) == 0)
        return &tags[i];
    }

  return NULL;
}

/* Reads the tag at @p (pointing at '<'); returns the position after it, or
 * NULL if this '<' starts no tag and is text. */
static const char *
scan_tag (const char *p,
          Tag        *tag)
{
  const char *end;
  char        quote = 0;

  tag->name = p + 1;
  tag->closing = *tag->name == '/';
  if (tag->closing)
    tag->name++;

  tag->name_len = 0;
  while (g_ascii_isalnum (tag->name[tag->name_len]))
    tag->name_len++;

  /* "<!DOCTYPE …>", "<?xml …?>" and "</>" are tags without a name. */
  if (tag->name_len == 0 && !tag->closing && tag->name[0] != '!' && tag->name[0] != '?')
    return NULL;

  /* The tag ends at the first '>' outside quoted attribute values. */
  for (end = tag->name + tag->name_len; *end != '\0' && (quote != 0 || *end != '>'); end++)
    {
      if (quote != 0 && *end == quote)
        quote = 0;
      else if (quote == 0 && (*end == '"' || *end == '\''))
        quote = *end;
    }

  return *end == '>' ? end + 1 : end;
}

static void
apply_tag (Converter     *conv,
           const TagInfo *info,
           gboolean       closing)
{
  GString *out = conv->out;

  switch (info->action)
    {
    case TAG_SKIP_CONTENT:
      if (!closing)
        conv->skipping = info;
      break;
    case TAG_LINE_BREAK:
      trim_trailing_spaces (out);
      g_string_append_c (out, '\n');
      break;
    case TAG_BLOCK:
      append_break (out, 2);
      break;
    case TAG_PRE:
      append_break (out, 2);
      conv->pre = closing ? MAX (conv->pre - 1, 0) : conv->pre + 1;
      break;
    case TAG_LINE:
      append_break (out, 1);
      break;
    case TAG_CELL:
      if (!closing && out->len > 0 && out->str[out->len - 1] != '\n' &&
          out->str[out->len - 1] != ' ')
        g_string_append_c (out, ' ');
      break;
    default:
      g_assert_not_reached ();
    }
}

/* Handles the comment, tag or lone '<' at @p; returns the position after
 * it. */
static const char *
convert_markup (Converter  *conv,
                const char *p)
{
  const TagInfo *info;
  const char    *next;
  Tag            tag;

  if (strncmp (p, "<!--", 4) == 0)
    {
      const char *end = strstr (p + 4, "-->");

      return end != NULL ? end + 3 : p + strlen (p);
    }

  next = scan_tag (p, &tag);
  if (next == NULL)
    {
      if (conv->skipping == NULL)
        g_string_append_c (conv->out, '<');
      return p + 1;
    }

  info = lookup_tag (&tag);
  if (conv->skipping != NULL)
    {
      if (tag.closing && info == conv->skipping)
        conv->skipping = NULL;
    }
  else if (info != NULL)
    apply_tag (conv, info, tag.closing);

  return next;
}

/* Text */

/* Handles the text at @p; returns the position after what it used. */
static const char *
convert_text (Converter  *conv,
              const char *p)
{
  GString *out = conv->out;

  if (*p == '&')
    {
      gsize n = decode_entity (p, out);

      if (n > 0)
        return p + n;
      g_string_append_c (out, '&');
    }
  else if (conv->pre == 0 && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
    {
      if (out->len > 0 && out->str[out->len - 1] != ' ' && out->str[out->len - 1] != '\n')
        g_string_append_c (out, ' ');
    }
  else if (*p != '\r')
    g_string_append_c (out, *p);

  return p + 1;
}

/* Trims the lines of @text (at the end only when @keep_spaces is FALSE),
 * keeps at most one blank line between two, and ends them with CRLF as
 * CDO does. */
static char *
write_lines (const char *text,
             gboolean    keep_spaces)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  GString *out = g_string_new (NULL);
  guint    blank = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = keep_spaces ? lines[i] : g_strchomp (lines[i]);

      if (*line == '\0')
        {
          blank++;
          continue;
        }

      if (out->len > 0)
        g_string_append (out, blank > 0 ? "\r\n\r\n" : "\r\n");
      blank = 0;
      g_string_append (out, line[0] == ' ' ? line + 1 : line);
    }

  return g_string_free (out, FALSE);
}

char *
_msg_html_to_text (const char *html)
{
  g_autoptr (GString) out = g_string_new (NULL);
  Converter   conv = { out, NULL, 0 };
  const char *p = html;

  while (*p != '\0')
    {
      if (*p == '<')
        p = convert_markup (&conv, p);
      else if (conv.skipping != NULL)
        p++;
      else
        p = convert_text (&conv, p);
    }

  return write_lines (out->str, conv.pre > 0);
}
