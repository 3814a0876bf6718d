/* fuzz-html.c: _msg_html_to_text() on arbitrary HTML
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The text alternative the library writes for an HTML body has CRLF line
 * ends only, is valid UTF-8 whenever the HTML is, and only shrinks or
 * grows within bounds; text without markup comes out with its white space
 * collapsed and nothing else changed.
 */
#include "config.h"

#include <string.h>

#include "msg-html-to-text-private.h"

#include "fuzz-targets.h"

/* Every CR starts a CRLF and every LF ends one; no line ends in white
 * space unless it may come from <pre>. */
static void
assert_crlf_lines (const char *text,
                   gboolean    may_have_pre)
{
  g_assert_false (g_str_has_prefix (text, "\r\n"));
  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '\r')
        g_assert_cmpint (p[1], ==, '\n');
      else if (*p == '\n')
        g_assert_true (p > text && p[-1] == '\r');

      if (!may_have_pre && (p[1] == '\0' || p[1] == '\r'))
        g_assert_false (*p == ' ' || *p == '\t');
    }
}

/* @html has no markup, no entity and no white space other than the kind
 * that collapses: @text is its words joined by single spaces. */
static void
assert_words (const char *html,
              const char *text)
{
  g_auto (GStrv) words = g_strsplit_set (html, " \t\r\n", -1);
  g_autoptr (GString) expected = g_string_new (NULL);

  for (guint i = 0; words[i] != NULL; i++)
    {
      if (*words[i] == '\0')
        continue;
      if (expected->len > 0)
        g_string_append_c (expected, ' ');
      g_string_append (expected, words[i]);
    }
  g_assert_cmpstr (text, ==, expected->str);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autofree char *html = g_malloc (size + 1);
  g_autofree char *text = NULL;
  g_autofree char *again = NULL;

  /* The converter takes a string: it ends at the first NUL. */
  if (size > 0)
    memcpy (html, data, size);
  html[size] = '\0';

  text = _msg_html_to_text (html);
  g_assert_nonnull (text);
  again = _msg_html_to_text (html);
  g_assert_cmpstr (text, ==, again);

  if (g_utf8_validate (html, -1, NULL))
    g_assert_true (g_utf8_validate (text, -1, NULL));
  /* At most two bytes out for every byte in: LF becomes CRLF. */
  g_assert_cmpuint (strlen (text), <=, 2 * strlen (html));
  assert_crlf_lines (text, strchr (html, '<') != NULL);
  if (strpbrk (html, "<&\v\f") == NULL)
    assert_words (html, text);
  return 0;
}
