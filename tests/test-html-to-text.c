/* test-html-to-text.c: the plain-text alternative of an HTML body
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The expected texts are what the converter gave before it moved out of
 * msg-message.c, quirks included: the cases pin its behaviour.
 */
#include "config.h"

#include "msg-html-to-text-private.h"

#include <string.h>

typedef struct
{
  const char *name;
  const char *html;
  const char *text;
} Case;

static const Case cases[] = {
  /* Paragraphs, headings and other blocks: a blank line around each. */
  { "paragraphs/two", "<p>One</p><p>Two</p>",
    "One\r\n\r\nTwo" },
  { "paragraphs/text-between", "before<p>inside</p>after",
    "before\r\n\r\ninside\r\n\r\nafter" },
  { "paragraphs/headings", "<h1>Title</h1>text<H6>end</H6>",
    "Title\r\n\r\ntext\r\n\r\nend" },
  { "paragraphs/not-headings", "a<h0>b<h7>c<h12>d",
    "abcd" },
  { "paragraphs/hr", "above<hr>below",
    "above\r\n\r\nbelow" },
  { "paragraphs/blockquote", "<blockquote>quoted<blockquote>deeper</blockquote></blockquote>tail",
    "quoted\r\n\r\ndeeper\r\n\r\ntail" },
  { "paragraphs/nested", "<p><p><p>a</p></p></p>b",
    "a\r\n\r\nb" },
  { "paragraphs/leading-and-trailing", "<p><p>a</p></p>",
    "a" },
  { "paragraphs/div", "<div>a</div><div><div>b</div></div>c",
    "a\r\nb\r\nc" },
  /* Line breaks: one new line each, trailing spaces removed. */
  { "br/one", "a<br>b",
    "a\r\nb" },
  { "br/repeated", "a<br><br><br><br>b",
    "a\r\n\r\nb" },
  { "br/forms", "a<BR/>b<br >c</br>d<br clear=\"all\">e",
    "a\r\nb\r\nc\r\nd\r\ne" },
  { "br/trims-spaces", "a   <br>   b",
    "a\r\nb" },
  { "br/leading", "<br><br>a",
    "a" },
  /* Lists, definitions and tables: a line per item or row. */
  { "lists/ul", "<ul><li>one</li><li>two</li></ul>after",
    "one\r\ntwo\r\n\r\nafter" },
  { "lists/ol-nested", "<ol><li>one<ol><li>inner</li></ol></li><li>two</li></ol>",
    "one\r\n\r\ninner\r\n\r\ntwo" },
  { "lists/unclosed-items", "<ul><li>one<li>two<li>three</ul>",
    "one\r\ntwo\r\nthree" },
  { "lists/dl", "<dl><dt>term</dt><dd>definition</dd></dl>",
    "term\r\ndefinition" },
  { "lists/table", "<table><tr><th>A</th><th>B</th></tr><tr><td>1</td><td>2</td></tr></table>after",
    "A B\r\n1 2\r\n\r\nafter" },
  { "lists/cells-after-space", "<tr><td>a </td><td> b</td><td></td><td>c</td></tr>",
    "a b c" },
  /* Preformatted text keeps its white space. */
  { "pre/spaces", "<pre>  a   b\n  c</pre>",
    " a   b\r\n c" },
  { "pre/crlf", "<pre>a\r\nb\r\n\r\n\r\nc</pre>",
    "a\r\nb\r\n\r\nc" },
  { "pre/tabs", "<pre>\ta\tb</pre>",
    "\ta\tb" },
  { "pre/text-around", "x  y<pre> k  </pre>  z   w",
    "x y\r\n\r\nk\r\n\r\nz w" },
  { "pre/nested", "<pre><pre>a  b</pre>c  d</pre>e  f",
    "a  b\r\n\r\nc  d\r\n\r\ne f" },
  { "pre/unclosed", "<pre>a  \n b  ",
    "a  \r\nb  " },
  { "pre/extra-close", "</pre></pre>a  b",
    "a b" },
  /* Links and other unknown tags vanish; their text stays. */
  { "links/href", "See <a href=\"https://example.org/\">the site</a>.",
    "See the site." },
  { "links/quoted-gt", "<a title=\"a > b\" href='x>y'>text</a>",
    "text" },
  { "links/mailto", "<A HREF=mailto:a@example.org>mail</A> me",
    "mail me" },
  { "links/entity-in-href", "<a href=\"?a=1&amp;b=2\">x</a>",
    "x" },
  { "links/img", "a<img src=\"x.png\" alt=\"picture\">b",
    "ab" },
  { "links/inline", "<b>bold</b> <i>it</i><span>al</span>ic",
    "bold italic" },
  /* Character references. */
  { "entities/markup", "&amp; &lt;p&gt; &quot;q&quot; &apos;a&apos;",
    "& <p> \"q\" 'a'" },
  { "entities/typographic", "&hellip;&mdash;&ndash;&laquo;&raquo;&lsquo;&rsquo;&ldquo;&rdquo;&bull;&middot;",
    "…—–«»‘’“”•·" },
  { "entities/symbols", "&copy;&reg;&trade;&euro;&pound;&yen;&cent;&sect;&deg;&times;&divide;",
    "©®™€£¥¢§°×÷" },
  { "entities/letters", "&eacute;&egrave;&agrave;&auml;&ouml;&uuml;&szlig;&ccedil;",
    "éèàäöüßç" },
  { "entities/nbsp", "a&nbsp;&nbsp;b",
    "a  b" },
  { "entities/decimal", "&#65;&#233;&#8364;&#128512;",
    "Aé€😀" },
  { "entities/hex", "&#x41;&#X42;&#x20AC;",
    "AB€" },
  { "entities/numeric-nbsp", "a&#160;b&#xa0;c",
    "a b c" },
  { "entities/numeric-newline", "a&#10;b&#9;c",
    "a\r\nb\tc" },
  { "entities/numeric-control", "a&#13;b&#0;c&#1;d",
    "a&#13;b&#0;c&#1;d" },
  { "entities/surrogate", "&#xD800;",
    "&#xD800;" },
  { "entities/out-of-range", "&#x110000;&#99999999;",
    "&#x110000;&#99999999;" },
  { "entities/unknown", "&unknown; &AMP; &Eacute;",
    "&unknown; &AMP; &Eacute;" },
  { "entities/unterminated", "&amp &lt",
    "&amp &lt" },
  { "entities/bare-ampersand", "a & b && c &",
    "a & b && c &" },
  { "entities/too-long", "&averylongname; &#0000000065;",
    "&averylongname; A" },
  { "entities/empty", "&; &#; &#x;",
    "&; &#; &#x;" },
  /* The content of script, style, head and title is dropped. */
  { "skipped/script", "a<script>var x = '<p>';</script>b",
    "ab" },
  { "skipped/style", "<style>p { color: red }</style>text",
    "text" },
  { "skipped/head", "<html><head><title>T</title><meta charset=\"utf-8\"></head><body>body</body></html>",
    "body" },
  { "skipped/title", "<title>Title</title>text",
    "text" },
  { "skipped/uppercase", "<SCRIPT type=\"text/javascript\">x</Script>y",
    "y" },
  { "skipped/unclosed", "a<script>never closed",
    "a" },
  { "skipped/end-tag-only", "a</script>b</style>c",
    "abc" },
  { "skipped/other-end-tag", "<style>a</script>b</style>c",
    "c" },
  { "skipped/comment", "a<!-- <p>x</p> -->b",
    "ab" },
  { "skipped/comment-in-script", "<script><!-- </script> --></script>b",
    "b" },
  /* Runs of white space collapse to one space. */
  { "whitespace/collapse", "  a \t\r\n b  ",
    "a b" },
  { "whitespace/newlines", "one\ntwo\r\nthree",
    "one two three" },
  { "whitespace/around-blocks", "a <p> b </p> c",
    "a\r\n\r\nb\r\n\r\nc" },
  { "whitespace/empty", "",
    "" },
  { "whitespace/only-space", "   \n\t ",
    "" },
  { "whitespace/vertical-tab", "a\013b\014",
    "a\013b" },
  /* Broken markup. */
  { "malformed/lone-lt", "a < b <3 c<",
    "a < b" },
  { "malformed/unterminated-tag", "a<p",
    "a" },
  { "malformed/unterminated-quote", "a<p class=\"x>b</p>c",
    "a" },
  { "malformed/doctype", "<!DOCTYPE html>a",
    "a" },
  { "malformed/processing-instruction", "<?xml version=\"1.0\"?>a",
    "a" },
  { "malformed/empty-end-tag", "a</>b",
    "ab" },
  { "malformed/unclosed-comment", "a<!-- b",
    "a" },
  { "malformed/unknown-tags", "<foo>a</foo><h7>b</h7>",
    "ab" },
  { "malformed/invalid-utf8", "caf\351 <p>\377</p>",
    "caf\351\r\n\r\n\377" },
  { "malformed/utf8", "<p>Grüße, €</p>",
    "Grüße, €" },
};

static void
test_convert (gconstpointer data)
{
  const Case      *c = data;
  g_autofree char *text = _msg_html_to_text (c->html);

  g_assert_cmpstr (text, ==, c->text);
}

/* A text full of '&', or a tag that never ends, takes linear time. */
static void
test_long_input (void)
{
  gsize            n = 1 << 20;
  g_autofree char *html = g_malloc (n + 1);
  g_autofree char *text = NULL;

  memset (html, '&', n);
  html[n] = '\0';
  text = _msg_html_to_text (html);
  g_assert_cmpuint (strlen (text), ==, n);
  g_clear_pointer (&text, g_free);

  for (gsize i = 0; i < n; i += 2)
    memcpy (html + i, "<p", 2);
  text = _msg_html_to_text (html);
  g_assert_cmpstr (text, ==, "");
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/html-to-text/%s", cases[i].name);

      g_test_add_data_func (path, &cases[i], test_convert);
    }
  g_test_add_func ("/html-to-text/long-input", test_long_input);
  return g_test_run ();
}
