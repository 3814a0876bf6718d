/* msg-html-to-text.c: the text alternative of an HTML body
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-html-to-text-private.h"

#include <string.h>

/* HTML to text */

static const struct
{
  const char *name;
  const char *text;
} html_entities[] = {
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

/* Decodes the entity at @p (pointing at '&'); returns the number of bytes
 * consumed, 0 if it is not an entity. */
static gsize
decode_entity (const char *p,
               GString    *out)
{
  const char *semi = strchr (p, ';');
  gsize       len;

  if (semi == NULL || semi - p > 12 || semi - p < 2)
    return 0;

  len = semi - p - 1;
  if (p[1] == '#')
    {
      gunichar c;
      char    *end = NULL;

      if (p[2] == 'x' || p[2] == 'X')
        c = (gunichar) g_ascii_strtoull (p + 3, &end, 16);
      else
        c = (gunichar) g_ascii_strtoull (p + 2, &end, 10);

      if (end != semi || !g_unichar_validate (c) || c == 0)
        return 0;
      if (c == 0xa0)
        c = ' ';
      if (c < 0x20 && c != '\t' && c != '\n')
        return 0;
      g_string_append_unichar (out, c);
      return semi - p + 1;
    }

  for (gsize i = 0; i < G_N_ELEMENTS (html_entities); i++)
    {
      if (strlen (html_entities[i].name) == len && strncmp (p + 1, html_entities[i].name, len) == 0)
        {
          g_string_append (out, html_entities[i].text);
          return semi - p + 1;
        }
    }

  return 0;
}

static void
append_break (GString *out,
              guint    n_newlines)
{
  guint have = 0;

  /* Trailing spaces go before a line break. */
  while (out->len > 0 && out->str[out->len - 1] == ' ')
    g_string_truncate (out, out->len - 1);

  for (gssize i = (gssize) out->len - 1; i >= 0 && out->str[i] == '\n'; i--)
    have++;

  if (out->len == 0)
    return;

  while (have < n_newlines)
    {
      g_string_append_c (out, '\n');
      have++;
    }
}

char *
_msg_html_to_text (const char *html)
{
  g_autoptr (GString) out = g_string_new (NULL);
  const char *skip_until = NULL;
  int         pre = 0;

  for (const char *p = html; *p != '\0';)
    {
      if (*p == '<')
        {
          const char      *name_start;
          const char      *end;
          gboolean         closing = FALSE;
          g_autofree char *name = NULL;
          gsize            name_len;

          if (strncmp (p, "<!--", 4) == 0)
            {
              end = strstr (p + 4, "-->");
              p = end != NULL ? end + 3 : p + strlen (p);
              continue;
            }

          name_start = p + 1;
          if (*name_start == '/')
            {
              closing = TRUE;
              name_start++;
            }

          name_len = 0;
          while (g_ascii_isalnum (name_start[name_len]))
            name_len++;

          if (name_len == 0 && !closing && name_start[0] != '!' && name_start[0] != '?')
            {
              /* A lone '<' in text. */
              if (skip_until == NULL)
                g_string_append_c (out, '<');
              p++;
              continue;
            }

          /* Find the end of the tag, outside quoted attribute values. */
          end = name_start + name_len;
          {
            char quote = 0;

            while (*end != '\0' && (quote != 0 || *end != '>'))
              {
                if (quote != 0 && *end == quote)
                  quote = 0;
                else if (quote == 0 && (*end == '"' || *end == '\''))
                  quote = *end;
                end++;
              }
          }

          name = g_ascii_strdown (name_start, name_len);
          p = *end == '>' ? end + 1 : end;

          if (skip_until != NULL)
            {
              if (closing && strcmp (name, skip_until) == 0)
                skip_until = NULL;
              continue;
            }

          if (!closing && (strcmp (name, "script") == 0 || strcmp (name, "style") == 0 ||
                           strcmp (name, "head") == 0 || strcmp (name, "title") == 0))
            {
              skip_until = strcmp (name, "script") == 0 ? "script" : strcmp (name, "style") == 0 ? "style"
                                                                 : strcmp (name, "head") == 0    ? "head"
                                                                                                 : "title";
              continue;
            }

          if (strcmp (name, "br") == 0)
            {
              while (out->len > 0 && out->str[out->len - 1] == ' ')
                g_string_truncate (out, out->len - 1);
              g_string_append_c (out, '\n');
            }
          else if (strcmp (name, "p") == 0 || strcmp (name, "table") == 0 ||
                   strcmp (name, "blockquote") == 0 || strcmp (name, "ul") == 0 ||
                   strcmp (name, "ol") == 0 || strcmp (name, "hr") == 0 ||
                   (name[0] == 'h' && name[1] >= '1' && name[1] <= '6' && name[2] == '\0'))
            append_break (out, 2);
          else if (strcmp (name, "pre") == 0)
            {
              append_break (out, 2);
              pre += closing ? -1 : 1;
              pre = MAX (pre, 0);
            }
          else if (strcmp (name, "div") == 0 || strcmp (name, "tr") == 0 ||
                   strcmp (name, "li") == 0 || strcmp (name, "dt") == 0 ||
                   strcmp (name, "dd") == 0)
            append_break (out, 1);
          else if (strcmp (name, "td") == 0 || strcmp (name, "th") == 0)
            {
              if (!closing && out->len > 0 && out->str[out->len - 1] != '\n' &&
                  out->str[out->len - 1] != ' ')
                g_string_append_c (out, ' ');
            }
          continue;
        }

      if (skip_until != NULL)
        {
          p++;
          continue;
        }

      if (*p == '&')
        {
          gsize n = decode_entity (p, out);

          if (n > 0)
            {
              p += n;
              continue;
            }
          g_string_append_c (out, '&');
          p++;
          continue;
        }

      if (pre == 0 && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
        {
          if (out->len > 0 && out->str[out->len - 1] != ' ' && out->str[out->len - 1] != '\n')
            g_string_append_c (out, ' ');
          p++;
          continue;
        }

      if (*p == '\r')
        {
          p++;
          continue;
        }

      g_string_append_c (out, *p);
      p++;
    }

  /* Trim, then write CRLF line ends as CDO does. */
  {
    g_auto (GStrv) lines = NULL;
    g_autoptr (GString) text = g_string_new (NULL);
    guint blank = 0;

    lines = g_strsplit (out->str, "\n", -1);
    for (guint i = 0; lines[i] != NULL; i++)
      {
        char *line = pre > 0 ? lines[i] : g_strchomp (lines[i]);

        if (*line == '\0')
          {
            blank++;
            continue;
          }

        if (text->len > 0)
          g_string_append (text, blank > 0 ? "\r\n\r\n" : "\r\n");
        blank = 0;
        g_string_append (text, line[0] == ' ' ? line + 1 : line);
      }

    return g_string_free (g_steal_pointer (&text), FALSE);
  }
}
