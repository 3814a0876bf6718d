/* msg-html-links.c: the resources an HTML page or a style sheet refers to
 *
 * A small tolerant scanner, in the manner of msg-html-to-text.c: it looks
 * for tags and their attributes, comments and raw-text elements, not for
 * a document tree, so broken markup costs at most a missed reference.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-html-links-private.h"

#include <string.h>

typedef struct
{
  const char *text;
  gsize       length;
  gsize       pos;
} Scanner;

typedef struct
{
  char    *name; /* lower case */
  gsize    start;
  gsize    end;
  gboolean has_value;
} Attribute;

static void
link_free (gpointer data)
{
  MsgLink *link = data;

  g_free (link->value);
  g_free (link->replacement);
  g_free (link);
}

static gboolean
starts_with_ci (const Scanner *s,
                gsize          pos,
                const char    *prefix)
{
  gsize n = strlen (prefix);

  return pos + n <= s->length && g_ascii_strncasecmp (s->text + pos, prefix, n) == 0;
}

/* Moves past @needle (case-insensitive), or to the end. */
static void
skip_past (Scanner    *s,
           const char *needle)
{
  while (s->pos < s->length && !starts_with_ci (s, s->pos, needle))
    s->pos++;
  s->pos = MIN (s->length, s->pos + strlen (needle));
}

static void
skip_blanks (Scanner *s)
{
  while (s->pos < s->length && g_ascii_isspace (s->text[s->pos]))
    s->pos++;
}

/* The common character references, enough for URLs in attributes. */
static char *
decode_entities (const char *text,
                 gsize       length)
{
  GString *out = g_string_sized_new (length);

  for (gsize i = 0; i < length; i++)
    {
      if (text[i] == '&')
        {
          static const struct
          {
            const char *name;
            char        c;
          } names[] = { { "amp;", '&' }, { "lt;", '<' }, { "gt;", '>' }, { "quot;", '"' }, { "apos;", '\'' } };
          gboolean done = FALSE;

          for (guint k = 0; k < G_N_ELEMENTS (names) && !done; k++)
            {
              gsize n = strlen (names[k].name);

              if (i + 1 + n <= length && g_ascii_strncasecmp (text + i + 1, names[k].name, n) == 0)
                {
                  g_string_append_c (out, names[k].c);
                  i += n;
                  done = TRUE;
                }
            }
          if (!done && i + 2 < length && text[i + 1] == '#')
            {
              g_autofree char *digits = g_strndup (text + i + 2, MIN (length - i - 2, 10));
              gboolean         hex = digits[0] == 'x' || digits[0] == 'X';
              char            *end = NULL;
              guint64          c = g_ascii_strtoull (digits + (hex ? 1 : 0), &end, hex ? 16 : 10);

              if (end != digits + (hex ? 1 : 0) && c > 0 && c < 0x110000)
                {
                  g_string_append_unichar (out, (gunichar) c);
                  i += 1 + (end - digits) + (*end == ';' ? 1 : 0);
                  done = TRUE;
                }
            }
          if (done)
            continue;
        }
      g_string_append_c (out, text[i]);
    }
  return g_string_free (out, FALSE);
}

static void
add_link (GPtrArray  *links,
          MsgLinkKind kind,
          gsize       start,
          gsize       end,
          gboolean    css,
          gboolean    in_attribute,
          char       *value)
{
  MsgLink *link;
  char    *stripped = g_strstrip (value);

  if (stripped[0] == '\0')
    {
      g_free (value);
      return;
    }
  link = g_new0 (MsgLink, 1);
  link->kind = kind;
  link->start = start;
  link->end = end;
  link->css = css;
  link->in_attribute = in_attribute;
  link->value = g_strdup (stripped);
  g_free (value);
  g_ptr_array_add (links, link);
}

/* A value of CSS inside an HTML attribute: its character references
 * decoded, and the quotes that were written as references removed. */
static char *
css_value (const char *value,
           gboolean    in_attribute)
{
  char *decoded;
  gsize n;

  if (!in_attribute)
    return g_strdup (value);
  decoded = g_strstrip (decode_entities (value, strlen (value)));
  n = strlen (decoded);
  if (n >= 2 && (decoded[0] == '"' || decoded[0] == '\'') && decoded[n - 1] == decoded[0])
    {
      memmove (decoded, decoded + 1, n - 2);
      decoded[n - 2] = '\0';
    }
  return decoded;
}

/* A CSS string or url( ) argument at s->pos; returns the value. */
static char *
css_read_string (Scanner *s)
{
  char     quote = s->text[s->pos];
  GString *out = g_string_new (NULL);

  s->pos++;
  while (s->pos < s->length && s->text[s->pos] != quote && s->text[s->pos] != '\n')
    {
      if (s->text[s->pos] == '\\' && s->pos + 1 < s->length)
        s->pos++;
      g_string_append_c (out, s->text[s->pos]);
      s->pos++;
    }
  if (s->pos < s->length && s->text[s->pos] == quote)
    s->pos++;
  return g_string_free (out, FALSE);
}

/* At "url(": the token's value, s->pos moved past its ')'. */
static char *
css_read_url (Scanner *s)
{
  char *value;

  s->pos += 4;
  skip_blanks (s);
  if (s->pos < s->length && (s->text[s->pos] == '"' || s->text[s->pos] == '\''))
    value = css_read_string (s);
  else
    {
      gsize start = s->pos;

      while (s->pos < s->length && s->text[s->pos] != ')' && !g_ascii_isspace (s->text[s->pos]))
        s->pos++;
      value = g_strndup (s->text + start, s->pos - start);
    }
  while (s->pos < s->length && s->text[s->pos] != ')')
    s->pos++;
  if (s->pos < s->length)
    s->pos++;
  return value;
}

static gboolean
is_ident_char (char c)
{
  return g_ascii_isalnum (c) || c == '-' || c == '_';
}

/* Finds the references in CSS text[base, base + length); positions are
 * in @text's terms. */
static void
scan_css (const char *text,
          gsize       base,
          gsize       length,
          gboolean    in_attribute,
          GPtrArray  *links)
{
  Scanner s = { text, base + length, base };

  while (s.pos < s.length)
    {
      char  c = text[s.pos];
      gsize start = s.pos;

      if (c == '/' && starts_with_ci (&s, s.pos, "/*"))
        skip_past (&s, "*/");
      else if (c == '@' && starts_with_ci (&s, s.pos, "@import"))
        {
          s.pos += 7;
          skip_blanks (&s);
          start = s.pos;
          if (s.pos < s.length && (text[s.pos] == '"' || text[s.pos] == '\''))
            {
              char *value = css_read_string (&s);

              add_link (links, MSG_LINK_STYLE_SHEET, start, s.pos, TRUE, in_attribute,
                        css_value (value, in_attribute));
              g_free (value);
            }
          else if (starts_with_ci (&s, s.pos, "url("))
            {
              char *value = css_read_url (&s);

              add_link (links, MSG_LINK_STYLE_SHEET, start, s.pos, TRUE, in_attribute,
                        css_value (value, in_attribute));
              g_free (value);
            }
        }
      else if ((c == 'u' || c == 'U') && starts_with_ci (&s, s.pos, "url(") &&
               (s.pos == base || !is_ident_char (text[s.pos - 1])))
        {
          char *value = css_read_url (&s);

          add_link (links, MSG_LINK_IMAGE, start, s.pos, TRUE, in_attribute,
                    css_value (value, in_attribute));
          g_free (value);
        }
      else if (c == '"' || c == '\'')
        g_free (css_read_string (&s));
      else
        s.pos++;
    }
}

GPtrArray *
_msg_css_find_links (const char *css,
                     gsize       length)
{
  GPtrArray *links = g_ptr_array_new_with_free_func (link_free);

  scan_css (css, 0, length, FALSE, links);
  return links;
}

static void
attribute_clear (gpointer data)
{
  g_free (((Attribute *) data)->name);
}

/* Reads the attributes of a tag up to its '>' (s->pos after it). */
static void
read_attributes (Scanner *s,
                 GArray  *attributes)
{
  while (s->pos < s->length)
    {
      Attribute attribute = { 0 };
      gsize     name_start;

      while (s->pos < s->length && (g_ascii_isspace (s->text[s->pos]) || s->text[s->pos] == '/'))
        s->pos++;
      if (s->pos >= s->length)
        return;
      if (s->text[s->pos] == '>')
        {
          s->pos++;
          return;
        }
      name_start = s->pos;
      while (s->pos < s->length && !g_ascii_isspace (s->text[s->pos]) &&
             strchr ("=>/", s->text[s->pos]) == NULL)
        s->pos++;
      if (s->pos == name_start)
        {
          s->pos++; /* a stray '=' */
          continue;
        }
      attribute.name = g_ascii_strdown (s->text + name_start, s->pos - name_start);
      skip_blanks (s);
      if (s->pos < s->length && s->text[s->pos] == '=')
        {
          s->pos++;
          skip_blanks (s);
          attribute.has_value = TRUE;
          if (s->pos < s->length && (s->text[s->pos] == '"' || s->text[s->pos] == '\''))
            {
              char        quote = s->text[s->pos];
              const char *end;

              attribute.start = ++s->pos;
              end = memchr (s->text + s->pos, quote, s->length - s->pos);
              attribute.end = end != NULL ? (gsize) (end - s->text) : s->length;
              s->pos = MIN (s->length, attribute.end + 1);
            }
          else
            {
              attribute.start = s->pos;
              while (s->pos < s->length && !g_ascii_isspace (s->text[s->pos]) &&
                     s->text[s->pos] != '>')
                s->pos++;
              attribute.end = s->pos;
            }
        }
      g_array_append_val (attributes, attribute);
    }
}

static const Attribute *
find_attribute (GArray     *attributes,
                const char *name)
{
  for (guint i = 0; i < attributes->len; i++)
    {
      const Attribute *a = &g_array_index (attributes, Attribute, i);

      if (a->has_value && strcmp (a->name, name) == 0)
        return a;
    }
  return NULL;
}

static char *
attribute_value (const Scanner   *s,
                 const Attribute *a)
{
  return decode_entities (s->text + a->start, a->end - a->start);
}

static gboolean
has_token (const char *list,
           const char *token)
{
  g_auto (GStrv) tokens = g_strsplit_set (list, " \t\r\n\f", -1);

  for (guint i = 0; tokens[i] != NULL; i++)
    {
      if (g_ascii_strcasecmp (tokens[i], token) == 0)
        return TRUE;
    }
  return FALSE;
}

/* Which attribute of element @tag loads what, or NULL. */
static const char *
resource_attribute (const Scanner *s,
                    const char    *tag,
                    GArray        *attributes,
                    MsgLinkKind   *kind)
{
  static const struct
  {
    const char *tag;
    const char *attribute;
    MsgLinkKind kind;
  } table[] = {
    { "img", "src", MSG_LINK_IMAGE },
    { "body", "background", MSG_LINK_IMAGE },
    { "table", "background", MSG_LINK_IMAGE },
    { "td", "background", MSG_LINK_IMAGE },
    { "th", "background", MSG_LINK_IMAGE },
    { "tr", "background", MSG_LINK_IMAGE },
    { "script", "src", MSG_LINK_OBJECT },
    { "embed", "src", MSG_LINK_OBJECT },
    { "object", "data", MSG_LINK_OBJECT },
    { "frame", "src", MSG_LINK_FRAME },
    { "iframe", "src", MSG_LINK_FRAME },
    { "bgsound", "src", MSG_LINK_BG_SOUND },
    { "base", "href", MSG_LINK_BASE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    {
      if (strcmp (tag, table[i].tag) == 0)
        {
          *kind = table[i].kind;
          return table[i].attribute;
        }
    }
  if (strcmp (tag, "input") == 0)
    {
      const Attribute *type = find_attribute (attributes, "type");
      g_autofree char *value = type != NULL ? attribute_value (s, type) : NULL;

      *kind = MSG_LINK_IMAGE;
      return value != NULL && g_ascii_strcasecmp (g_strstrip (value), "image") == 0 ? "src" : NULL;
    }
  if (strcmp (tag, "link") == 0)
    {
      const Attribute *rel = find_attribute (attributes, "rel");
      g_autofree char *value = rel != NULL ? attribute_value (s, rel) : NULL;

      *kind = MSG_LINK_STYLE_SHEET;
      return value != NULL && has_token (value, "stylesheet") ? "href" : NULL;
    }
  return NULL;
}

static void
handle_tag (Scanner    *s,
            const char *tag,
            GArray     *attributes,
            GPtrArray  *links)
{
  MsgLinkKind      kind;
  const char      *name = resource_attribute (s, tag, attributes, &kind);
  const Attribute *a = name != NULL ? find_attribute (attributes, name) : NULL;
  const Attribute *style = find_attribute (attributes, "style");

  if (a != NULL)
    add_link (links, kind, a->start, a->end, FALSE, TRUE, attribute_value (s, a));
  if (style != NULL)
    scan_css (s->text, style->start, style->end - style->start, TRUE, links);
}

/* At '<' of a start tag: reads it, then the raw text of script and style. */
static void
read_tag (Scanner   *s,
          GPtrArray *links)
{
  g_autoptr (GArray) attributes = g_array_new (FALSE, TRUE, sizeof (Attribute));
  g_autofree char *tag = NULL;
  gsize            start = ++s->pos;

  g_array_set_clear_func (attributes, attribute_clear);
  while (s->pos < s->length && g_ascii_isalnum (s->text[s->pos]))
    s->pos++;
  tag = g_ascii_strdown (s->text + start, s->pos - start);
  read_attributes (s, attributes);
  handle_tag (s, tag, attributes, links);

  if (strcmp (tag, "script") == 0 || strcmp (tag, "style") == 0 ||
      strcmp (tag, "textarea") == 0 || strcmp (tag, "title") == 0 || strcmp (tag, "xmp") == 0)
    {
      g_autofree char *close = g_strconcat ("</", tag, NULL);
      gsize            body = s->pos;

      while (s->pos < s->length && !starts_with_ci (s, s->pos, close))
        s->pos++;
      if (strcmp (tag, "style") == 0)
        scan_css (s->text, body, s->pos - body, FALSE, links);
    }
}

static int
compare_links (gconstpointer a,
               gconstpointer b)
{
  const MsgLink *la = *(MsgLink *const *) a;
  const MsgLink *lb = *(MsgLink *const *) b;

  return la->start < lb->start ? -1 : la->start > lb->start;
}

GPtrArray *
_msg_html_find_links (const char *html,
                      gsize       length)
{
  GPtrArray *links = g_ptr_array_new_with_free_func (link_free);
  Scanner    s = { html, length, 0 };

  while (s.pos < s.length)
    {
      if (html[s.pos] != '<')
        s.pos++;
      else if (starts_with_ci (&s, s.pos, "<!--"))
        skip_past (&s, "-->");
      else if (s.pos + 1 < s.length && g_ascii_isalpha (html[s.pos + 1]))
        read_tag (&s, links);
      else if (s.pos + 1 < s.length && strchr ("!?/", html[s.pos + 1]) != NULL)
        skip_past (&s, ">");
      else
        s.pos++;
    }
  g_ptr_array_sort (links, compare_links);
  return links;
}

/* @value for its context: a URL with the characters CSS's url( ) and
 * HTML attributes give a meaning to escaped. */
static void
append_escaped (GString       *out,
                const MsgLink *link)
{
  for (const char *p = link->replacement; *p != '\0'; p++)
    {
      guchar c = *p;

      if (c <= ' ' || (link->css && strchr ("()'\"\\", c) != NULL) || (c == '"' || c == '\''))
        g_string_append_printf (out, "%%%02X", c);
      else if (link->in_attribute && c == '&')
        g_string_append (out, "&amp;");
      else if (link->in_attribute && (c == '<' || c == '>'))
        g_string_append_printf (out, "%%%02X", c);
      else
        g_string_append_c (out, c);
    }
}

char *
_msg_links_rewrite (const char *text,
                    gsize       length,
                    GPtrArray  *links,
                    gsize      *out_length)
{
  GString *out = g_string_sized_new (length + 64);
  gsize    pos = 0;

  for (guint i = 0; i < links->len; i++)
    {
      const MsgLink *link = g_ptr_array_index (links, i);

      if (link->replacement == NULL || link->start < pos)
        continue;
      g_string_append_len (out, text + pos, link->start - pos);
      if (link->css)
        g_string_append (out, "url(");
      append_escaped (out, link);
      if (link->css)
        g_string_append (out, ")");
      pos = link->end;
    }
  g_string_append_len (out, text + pos, length - pos);
  if (out_length != NULL)
    *out_length = out->len;
  return g_string_free (out, FALSE);
}
