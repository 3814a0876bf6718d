/* test-message-mime.c: MsgMessage's MIME tree, encodings, attachments,
 * parsing and saving
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-message-utils.h"
#include "test-utils.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* Helpers */

static MsgBodyPart *
nth_child (MsgBodyPart *part,
           guint        n)
{
  GList       *children = msg_body_part_get_body_parts (part);
  MsgBodyPart *child = g_list_nth_data (children, n);

  g_assert_nonnull (child);
  g_object_ref (child);
  g_list_free_full (children, g_object_unref);
  return child;
}

/* The media type the library guesses for @name (and @data): GIO's guess,
 * which depends on the MIME database installed, so tests ask GIO too. */
static char *
guessed_type (const char *name,
              const char *data)
{
  g_autofree char *type = g_content_type_guess (name, (const guchar *) data, data != NULL ? strlen (data) : 0, NULL);
  char            *mime = type != NULL ? g_content_type_get_mime_type (type) : NULL;

  return mime != NULL ? mime : g_strdup ("application/octet-stream");
}

/* MIME structure */

static void
test_mime_text_only (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autofree char *text = NULL;
  g_autofree char *tree = NULL;
  g_autofree char *ct = NULL;
  g_autofree char *body = NULL;
  g_autoptr (MsgBodyPart) root = NULL;
  g_autofree char *charset = NULL;

  g_test_summary ("A text body alone is one text/plain part in UTF-8 with MIME-Version, its line "
                  "ends CRLF.");

  msg_message_set_text_body (message, "Hello Bob.\nSecond line.\n");
  g_assert_false (msg_message_get_auto_generate_text_body (message));
  tree = describe_tree (message);
  g_assert_cmpstr (tree, ==, "text/plain");

  text = to_string (message);
  ct = find_header (text, "Content-Type");
  g_assert_nonnull (ct);
  g_assert_true (g_str_has_prefix (ct, "text/plain"));
  g_assert_nonnull (strstr (ct, "utf-8"));
  g_assert_true (has_header_line (text, "MIME-Version"));
  body = g_strdup (strstr (text, "\r\n\r\n") + 4);
  g_assert_cmpstr (body, ==, "Hello Bob.\r\nSecond line.\r\n");

  root = msg_message_get_body_part (message);
  charset = msg_body_part_get_charset (root);
  g_assert_cmpstr (charset, ==, "utf-8");
  g_clear_pointer (&tree, g_free);
  tree = describe_written (message);
  g_assert_cmpstr (tree, ==, "text/plain");
}

static void
test_mime_html (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgMessage) parsed = NULL;
  g_autoptr (MsgBodyPart) root = NULL;
  g_autoptr (MsgBodyPart) plain = NULL;
  g_autoptr (MsgBodyPart) html = NULL;
  g_autofree char *tree = NULL;
  g_autofree char *text = NULL;
  g_autofree char *generated = NULL;
  g_autofree char *plain_text = NULL;
  g_autofree char *html_text = NULL;
  const char      *source = "<html><head><title>T</title><style>p{}</style></head><body>"
                            "<p>Hello &amp; welcome,<br>Bob</p><p>Second&nbsp;para</p>"
                            "<script>alert(1)</script></body></html>";

  g_test_summary ("An HTML body with AutoGenerateTextBody gives multipart/alternative with a text"
                  " part made from the HTML (no tags, scripts or styles); a new HTML body "
                  "regenerates it.");

  g_assert_true (msg_message_get_auto_generate_text_body (message));
  msg_message_set_html_body (message, source);
  generated = msg_message_get_text_body (message);
  g_assert_nonnull (generated);
  g_assert_nonnull (strstr (generated, "Hello & welcome,"));
  g_assert_nonnull (strstr (generated, "Bob"));
  g_assert_nonnull (strstr (generated, "Second para"));
  g_assert_null (strchr (generated, '<'));
  g_assert_null (strstr (generated, "alert"));
  g_assert_null (strstr (generated, "p{}"));

  tree = describe_written (message);
  g_assert_cmpstr (tree, ==, "multipart/alternative(text/plain,text/html)");

  text = to_string (message);
  parsed = parse_string (text);
  root = msg_message_get_body_part (parsed);
  plain = nth_child (root, 0);
  html = nth_child (root, 1);
  plain_text = decoded_string (plain);
  html_text = decoded_string (html);
  g_assert_nonnull (strstr (plain_text, "Hello & welcome,"));
  g_assert_cmpstr (html_text, ==, source);
  g_clear_pointer (&html_text, g_free);
  html_text = msg_message_get_html_body (parsed);
  g_assert_cmpstr (html_text, ==, source);

  /* A new HTML body regenerates the text while the flag holds. */
  msg_message_set_html_body (message, "<p>Other</p>");
  g_clear_pointer (&generated, g_free);
  generated = msg_message_get_text_body (message);
  g_assert_nonnull (strstr (generated, "Other"));
  g_assert_null (strstr (generated, "welcome"));
}

static void
test_mime_html_text_set (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GHashTable) counts = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *tree = NULL;
  g_autofree char *text = NULL;
  g_autofree char *written = NULL;

  g_test_summary ("Setting the text body turns AutoGenerateTextBody off (CDO) and keeps both "
                  "bodies; turning it on again regenerates the text from the HTML.");

  g_signal_connect (message, "notify", G_CALLBACK (msg_test_count_notify_cb), counts);
  msg_message_set_html_body (message, "<p>The HTML</p>");
  /* CDO: setting TextBody turns AutoGenerateTextBody off. */
  msg_message_set_text_body (message, "My own text");
  g_assert_false (msg_message_get_auto_generate_text_body (message));
  g_assert_cmpuint (msg_test_notified (counts, "auto-generate-text-body"), ==, 1);
  msg_message_set_html_body (message, "<p>New HTML</p>");
  text = msg_message_get_text_body (message);
  g_assert_cmpstr (text, ==, "My own text");

  tree = describe_written (message);
  g_assert_cmpstr (tree, ==, "multipart/alternative(text/plain,text/html)");
  written = to_string (message);
  g_assert_nonnull (strstr (written, "My own text"));
  g_assert_null (strstr (written, "\r\nNew HTML"));

  /* Turning the flag on again regenerates the text from the HTML. */
  msg_message_set_auto_generate_text_body (message, TRUE);
  g_clear_pointer (&text, g_free);
  text = msg_message_get_text_body (message);
  g_assert_nonnull (strstr (text, "New HTML"));
  g_assert_null (strstr (text, "My own text"));
}

static void
test_mime_html_only (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *tree = NULL;
  g_autofree char *text = NULL;

  g_test_summary ("Without generated text, HTML alone is one part, promoted; with "
                  "autopromotebodyparts off the multipart keeps its single child.");

  /* Without generated text, HTML alone is one part, promoted. */
  msg_message_set_auto_generate_text_body (message, FALSE);
  msg_message_set_html_body (message, "<p>Only HTML</p>");
  text = msg_message_get_text_body (message);
  g_assert_null (text);
  tree = describe_written (message);
  g_assert_cmpstr (tree, ==, "text/html");

  /* With autopromotebodyparts off, the multipart keeps its single child. */
  g_assert_true (msg_configuration_set_field (configuration, "autopromotebodyparts", "false", &error));
  g_assert_no_error (error);
  msg_message_set_configuration (message, configuration);
  g_clear_pointer (&tree, g_free);
  tree = describe_written (message);
  g_assert_cmpstr (tree, ==, "multipart/alternative(text/html)");
}

static void
test_mime_related (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *image = write_temp_file (dir, "logo.png", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
  g_autofree char *tree = NULL;
  g_autofree char *text = NULL;
  g_autofree char *content_id = NULL;
  g_autofree char *disposition = NULL;
  g_autofree char *media = NULL;
  g_autofree char *png_type = NULL;
  g_autofree char *expected = NULL;
  MsgBodyPart     *part;

  g_test_summary ("A related part (a cid: reference from the HTML) goes inline in "
                  "multipart/related with its Content-ID, not as an attachment; a bare reference "
                  "works, a bad one is refused.");

  msg_message_set_html_body (message, "<p><img src=\"cid:logo@example.com\"></p>");
  part = msg_message_add_related_body_part (message, image, "cid:logo@example.com", &error);
  g_assert_no_error (error);
  g_assert_nonnull (part);
  content_id = msg_body_part_get_content_id (part);
  g_assert_cmpstr (content_id, ==, "logo@example.com");
  disposition = msg_body_part_get_content_disposition (part);
  g_assert_cmpstr (disposition, ==, "inline");
  media = msg_body_part_get_content_media_type (part);
  png_type = guessed_type ("logo.png", NULL);
  g_assert_cmpstr (media, ==, png_type);
  /* A related part is not an attachment. */
  g_assert_null (msg_message_get_attachments (message));

  tree = describe_written (message);
  expected = g_strdup_printf ("multipart/alternative(text/plain,multipart/related(text/html,%s))", png_type);
  g_assert_cmpstr (tree, ==, expected);

  text = to_string (message);
  g_assert_nonnull (strcasestr (text, "\r\nContent-Id: <logo@example.com>\r\n"));
  {
    g_autoptr (MsgMessage) parsed = parse_string (text);
    g_autoptr (MsgBodyPart) root = msg_message_get_body_part (parsed);
    g_autoptr (MsgBodyPart) related = nth_child (root, 1);
    g_autoptr (MsgBodyPart) png = nth_child (related, 1);
    g_autofree char *type = msg_body_part_get_header (related, "Content-Type");
    g_autoptr (GBytes) content = msg_body_part_get_decoded_content (png, &error);

    g_assert_nonnull (strstr (type, "type=\"text/html\""));
    g_assert_no_error (error);
    g_assert_cmpuint (g_bytes_get_size (content), ==, 16);
    g_assert_cmpmem (g_bytes_get_data (content, NULL), 16, "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16);
  }

  /* A bare reference works too; bad ones are refused. */
  g_assert_nonnull (msg_message_add_related_body_part (message, image, "second@example.com", &error));
  g_assert_no_error (error);
  g_assert_null (msg_message_add_related_body_part (message, image, "cid:bad\r\nX-Cid-Inj: 1", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
  g_assert_nonnull (strstr (error->message, "Content-ID"));
  g_clear_error (&error);
  g_clear_pointer (&tree, g_free);
  tree = describe_written (message);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("multipart/alternative(text/plain,multipart/related(text/html,%s,%s))", png_type, png_type);
  g_assert_cmpstr (tree, ==, expected);

  msg_test_remove_tree (dir);
}

static void
test_mime_attachments (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *pdf = write_temp_file (dir, "report.pdf", "%PDF-1.4 fake", -1);
  g_autoptr (GBytes) csv = g_bytes_new_static ("a,b\n1,2\n", 8);
  g_autofree char *tree = NULL;
  g_autofree char *text = NULL;
  g_autofree char *pdf_type = guessed_type ("report.pdf", NULL);
  g_autofree char *expected = NULL;
  GList           *attachments;
  MsgBodyPart     *first;
  MsgBodyPart     *second;

  g_test_summary ("Attachments make multipart/mixed with file names and base64, read back the "
                  "same, text ones in CRLF; with HTML and related parts the tree nests as CDO "
                  "lays it out.");

  msg_message_set_text_body (message, "See attached.");
  first = msg_message_add_attachment (message, pdf, &error);
  g_assert_no_error (error);
  second = msg_message_add_attachment_bytes (message, csv, "data.csv", "text/csv", &error);
  g_assert_no_error (error);

  attachments = msg_message_get_attachments (message);
  g_assert_cmpuint (g_list_length (attachments), ==, 2);
  g_assert_true (attachments->data == first);
  g_assert_true (attachments->next->data == second);
  g_list_free_full (attachments, g_object_unref);

  tree = describe_written (message);
  expected = g_strdup_printf ("multipart/mixed(text/plain,%s,text/csv)", pdf_type);
  g_assert_cmpstr (tree, ==, expected);

  text = to_string (message);
  g_assert_nonnull (strstr (text, "Content-Disposition: attachment; filename=report.pdf\r\n"));
  g_assert_nonnull (strstr (text, "name=report.pdf"));
  g_assert_nonnull (strstr (text, "Content-Transfer-Encoding: base64\r\n"));
  {
    g_autoptr (MsgMessage) parsed = parse_string (text);
    GList           *got = msg_message_get_attachments (parsed);
    g_autofree char *name0 = NULL;
    g_autofree char *name1 = NULL;
    g_autofree char *content0 = NULL;
    g_autofree char *content1 = NULL;
    g_autofree char *body = msg_message_get_text_body (parsed);

    g_assert_cmpuint (g_list_length (got), ==, 2);
    name0 = msg_body_part_get_filename (got->data);
    name1 = msg_body_part_get_filename (got->next->data);
    g_assert_cmpstr (name0, ==, "report.pdf");
    g_assert_cmpstr (name1, ==, "data.csv");
    content0 = decoded_string (got->data);
    content1 = decoded_string (got->next->data);
    g_assert_cmpstr (content0, ==, "%PDF-1.4 fake");
    /* Text attachments are canonicalised to CRLF on the wire. */
    g_assert_cmpstr (content1, ==, "a,b\r\n1,2\r\n");
    g_assert_cmpstr (body, ==, "See attached.");
    g_list_free_full (got, g_object_unref);
  }

  /* HTML, related parts and attachments all at once. */
  {
    g_autofree char *image = write_temp_file (dir, "i.gif", "GIF89a", -1);

    g_autofree char *gif_type = guessed_type ("i.gif", NULL);

    msg_message_set_html_body (message, "<img src=\"cid:i@x\">");
    g_assert_nonnull (msg_message_add_related_body_part (message, image, "i@x", &error));
    g_clear_pointer (&expected, g_free);
    expected = g_strdup_printf ("multipart/mixed(multipart/alternative(text/plain,multipart/related(text/html,%s)),"
                                "%s,text/csv)",
                                gif_type, pdf_type);
    g_clear_pointer (&tree, g_free);
    tree = describe_written (message);
    g_assert_cmpstr (tree, ==,
                     expected);
  }

  msg_test_remove_tree (dir);
}

static void
test_mime_attachment_guess (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *path = write_temp_file (dir, "no-extension", "\x01\x02\x03", 3);
  g_autofree char *uri = NULL;
  g_autoptr (GBytes) bytes = g_bytes_new_static ("<html></html>", 13);
  MsgBodyPart     *part;
  g_autofree char *type = NULL;
  g_autofree char *expected = NULL;

  g_test_summary ("Attachment media types are GIO's guess from name and content; file:// URIs "
                  "name local files, other schemes are not fetched, multipart and bad types are "
                  "refused.");

  part = msg_message_add_attachment (message, path, &error);
  g_assert_no_error (error);
  type = msg_body_part_get_content_media_type (part);
  expected = guessed_type ("no-extension", NULL);
  g_assert_cmpstr (type, ==, expected);
  g_clear_pointer (&type, g_free);
  g_clear_pointer (&expected, g_free);

  /* file:// URIs name local files. */
  g_clear_pointer (&path, g_free);
  path = write_temp_file (dir, "page with space.html", "<p>x</p>", -1);
  uri = g_filename_to_uri (path, NULL, NULL);
  part = msg_message_add_attachment (message, uri, &error);
  g_assert_no_error (error);
  type = msg_body_part_get_content_media_type (part);
  expected = guessed_type ("page with space.html", NULL);
  g_assert_cmpstr (type, ==, expected);
  g_clear_pointer (&type, g_free);
  g_clear_pointer (&expected, g_free);
  type = msg_body_part_get_filename (part);
  g_assert_cmpstr (type, ==, "page with space.html");
  g_clear_pointer (&type, g_free);

  /* Schemes other than file:, http: and https: (test-mhtml.c) are refused. */
  g_assert_null (msg_message_add_attachment (message, "ftp://example.com/x.pdf", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT);
  g_clear_error (&error);

  /* In-memory content: guessed from name and content; no multipart. */
  part = msg_message_add_attachment_bytes (message, bytes, "dir/../page.html", NULL, &error);
  g_assert_no_error (error);
  type = msg_body_part_get_filename (part);
  g_assert_cmpstr (type, ==, "page.html");
  g_clear_pointer (&type, g_free);
  type = msg_body_part_get_content_media_type (part);
  expected = guessed_type ("page.html", "<html></html>");
  g_assert_cmpstr (type, ==, expected);
  g_assert_null (msg_message_add_attachment_bytes (message, bytes, "x.eml", "multipart/mixed", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT);
  g_clear_error (&error);
  g_assert_null (msg_message_add_attachment_bytes (message, bytes, "x", "not a type", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
  g_clear_error (&error);

  msg_test_remove_tree (dir);
}

/* Decodes uuencoded lines from @text (between "begin" and "end"). */
static GBytes *
uudecode (const char *text,
          const char *begin_line)
{
  const char *p = strstr (text, begin_line);
  GByteArray *out = g_byte_array_new ();

  g_assert_nonnull (p);
  p = strstr (p, "\r\n") + 2;
  while (!g_str_has_prefix (p, "end\r\n"))
    {
      const char *eol = strstr (p, "\r\n");
      int         n = (p[0] - ' ') & 0x3f;
      const char *q = p + 1;

      g_assert_nonnull (eol);
      while (n > 0)
        {
          guint8 c[4];
          guint8 b[3];

          for (int k = 0; k < 4; k++)
            c[k] = (q < eol ? (q[k] - ' ') : 0) & 0x3f;
          b[0] = (c[0] << 2) | (c[1] >> 4);
          b[1] = (c[1] << 4) | (c[2] >> 2);
          b[2] = (c[2] << 6) | c[3];
          g_byte_array_append (out, b, MIN (n, 3));
          n -= 3;
          q += 4;
        }
      p = eol + 2;
    }

  return g_byte_array_free_to_bytes (out);
}

static void
test_mime_uuencode (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) counts = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *dir = msg_test_make_temp_dir ();
  guint8           binary[300];
  g_autofree char *path = NULL;
  g_autoptr (GBytes) decoded = NULL;
  g_autoptr (GBytes) decoded2 = NULL;
  g_autofree char *text = NULL;
  g_autofree char *html = NULL;
  g_autofree char *body = NULL;

  g_test_summary ("MimeFormatted off (CDO) writes RFC 822 with uuencoded attachments and drops "
                  "the HTML; non-ASCII text adds MIME headers only; setting HTML turns MIME back "
                  "on.");

  for (guint i = 0; i < sizeof binary; i++)
    binary[i] = (guint8) (i * 7);
  path = write_temp_file (dir, "bin.dat", (const char *) binary, sizeof binary);

  msg_message_set_html_body (message, "<p>Plain words</p>");
  g_signal_connect (message, "notify", G_CALLBACK (msg_test_count_notify_cb), counts);
  /* CDO: MimeFormatted False drops the HTML and AutoGenerateTextBody. */
  msg_message_set_mime_formatted (message, FALSE);
  g_assert_false (msg_message_get_mime_formatted (message));
  g_assert_false (msg_message_get_auto_generate_text_body (message));
  html = msg_message_get_html_body (message);
  g_assert_null (html);
  g_assert_cmpuint (msg_test_notified (counts, "html-body"), ==, 1);
  g_assert_cmpuint (msg_test_notified (counts, "mime-formatted"), ==, 1);

  msg_message_set_text_body (message, "Plain words");
  g_assert_nonnull (msg_message_add_attachment (message, path, &error));
  g_assert_no_error (error);
  {
    g_autoptr (GBytes) small = g_bytes_new_static ("hi\n", 3);

    g_assert_nonnull (msg_message_add_attachment_bytes (message, small, "hi.txt", "text/plain", &error));
  }

  text = to_string (message);
  /* An ASCII message without MIME: RFC 822 and uuencode. */
  g_assert_false (has_header_line (text, "MIME-Version"));
  g_assert_false (has_header_line (text, "Content-Type"));
  g_assert_false (has_header_line (text, "Content-Transfer-Encoding"));
  body = g_strdup (strstr (text, "\r\n\r\n") + 4);
  g_assert_true (g_str_has_prefix (body, "Plain words\r\nbegin 644 bin.dat\r\n"));
  g_assert_nonnull (strstr (body, "\r\nend\r\n\r\nbegin 644 hi.txt\r\n"));
  g_assert_true (g_str_has_suffix (body, "end\r\n"));
  decoded = uudecode (body, "begin 644 bin.dat\r\n");
  g_assert_cmpmem (g_bytes_get_data (decoded, NULL), g_bytes_get_size (decoded), binary, sizeof binary);
  decoded2 = uudecode (body, "begin 644 hi.txt\r\n");
  g_assert_cmpmem (g_bytes_get_data (decoded2, NULL), g_bytes_get_size (decoded2), "hi\n", 3);

  /* Non-ASCII text needs a charset label: then MIME headers appear, the
   * attachments stay uuencoded in the text. */
  msg_message_set_text_body (message, "Grüße");
  g_clear_pointer (&text, g_free);
  text = to_string (message);
  g_assert_true (has_header_line (text, "Content-Type"));
  g_assert_nonnull (strstr (text, "charset=utf-8"));
  g_assert_nonnull (strstr (text, "Content-Transfer-Encoding: quoted-printable"));
  g_assert_nonnull (strstr (text, "begin 644 bin.dat"));

  /* Setting HTML turns MIME back on. */
  msg_message_set_html_body (message, "<p>x</p>");
  g_assert_true (msg_message_get_mime_formatted (message));
  g_clear_pointer (&body, g_free);
  body = describe_written (message);
  g_clear_pointer (&html, g_free);
  html = guessed_type ("bin.dat", NULL);
  g_clear_pointer (&text, g_free);
  text = g_strdup_printf ("multipart/mixed(multipart/alternative(text/plain,text/html),%s,text/plain)", html);
  g_assert_cmpstr (body, ==, text);

  msg_test_remove_tree (dir);
}

/* Encodings and line ends */

static void
test_encoding_bodies (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GString) long_line = g_string_new (NULL);
  g_autofree char *text = NULL;
  g_autofree char *cte = NULL;
  g_autoptr (MsgBodyPart) root = NULL;
  g_autofree char *encoding = NULL;

  g_test_summary ("Each body gets the encoding that fits: 7bit, quoted-printable for long lines "
                  "and mostly ASCII UTF-8, base64 for mostly non-ASCII; never a raw 8-bit byte or"
                  " control character.");

  /* 7bit when it fits. */
  msg_message_set_text_body (message, "short ascii\n");
  text = to_string (message);
  cte = find_header (text, "Content-Transfer-Encoding");
  g_assert_true (cte == NULL || g_strcmp0 (cte, "7bit") == 0);
  g_assert_false (msg_message_has_8bit_content (message));

  /* A line over 998 octets: quoted-printable, soft breaks. */
  for (guint i = 0; i < 5000; i++)
    g_string_append_c (long_line, 'a' + i % 26);
  msg_message_set_text_body (message, long_line->str);
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&cte, g_free);
  text = to_string (message);
  cte = find_header (text, "Content-Transfer-Encoding");
  g_assert_cmpstr (cte, ==, "quoted-printable");
  {
    g_autoptr (MsgMessage) parsed = parse_string (text);
    g_autofree char *body = msg_message_get_text_body (parsed);
    g_autofree char *with_crlf = g_strconcat (long_line->str, "\r\n", NULL);

    /* The quoted-printable encoder ends the text with a line end. */
    g_assert_true (g_strcmp0 (body, long_line->str) == 0 || g_strcmp0 (body, with_crlf) == 0);
  }

  /* Mostly ASCII UTF-8: quoted-printable; no 8-bit byte on the wire. */
  msg_message_set_text_body (message, "Grüße aus Köln, and a longer line of mostly plain ASCII text.\n");
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&cte, g_free);
  text = to_string (message);
  cte = find_header (text, "Content-Transfer-Encoding");
  g_assert_cmpstr (cte, ==, "quoted-printable");
  for (const char *p = text; *p != '\0'; p++)
    g_assert_cmpuint ((guchar) *p, <, 0x80);
  g_assert_false (msg_message_has_8bit_content (message));

  /* Mostly non-ASCII: base64. */
  msg_message_set_text_body (message, "日本語のテキストです。日本語のテキストです。\n");
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&cte, g_free);
  text = to_string (message);
  cte = find_header (text, "Content-Transfer-Encoding");
  g_assert_cmpstr (cte, ==, "base64");
  root = msg_message_get_body_part (message);
  encoding = msg_body_part_get_content_transfer_encoding (root);
  g_assert_cmpstr (encoding, ==, "base64");
  {
    g_autoptr (MsgMessage) parsed = parse_string (text);
    g_autofree char *body = msg_message_get_text_body (parsed);

    g_assert_cmpstr (body, ==, "日本語のテキストです。日本語のテキストです。\r\n");
  }

  /* Control characters in text are encoded, never raw. */
  msg_message_set_text_body (message, "bell\a and escape\x1b and lone\rCR\n");
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&cte, g_free);
  text = to_string (message);
  cte = find_header (text, "Content-Transfer-Encoding");
  g_assert_true (g_strcmp0 (cte, "quoted-printable") == 0 || g_strcmp0 (cte, "base64") == 0);
  g_assert_null (strchr (text, '\a'));
  g_assert_null (strchr (text, '\x1b'));
}

static void
test_encoding_line_ends (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) lf_text = g_bytes_new_static ("one\ntwo\rthree\r\nfour", 19);
  g_autoptr (GBytes) binary = g_bytes_new_static ("\0\r\n\n\r\xff", 6);
  g_autofree char *text = NULL;
  g_autofree char *body = NULL;

  g_test_summary ("Mixed line ends in bodies and text attachments all become CRLF; binary content"
                  " is base64 and comes back byte for byte.");

  /* Mixed line ends everywhere: every one becomes CRLF (to_string checks
   * the whole message). */
  msg_message_set_text_body (message, "a\nb\rc\r\nd\n\n.\n..\n");
  g_assert_nonnull (msg_message_add_attachment_bytes (message, lf_text, "t.txt", "text/plain", &error));
  g_assert_nonnull (msg_message_add_attachment_bytes (message, binary, "b.bin", "application/octet-stream", &error));
  g_assert_no_error (error);
  text = to_string (message);
  {
    g_autoptr (MsgMessage) parsed = parse_string (text);
    GList *attachments = msg_message_get_attachments (parsed);
    g_autoptr (GBytes) content = msg_body_part_get_decoded_content (attachments->next->data, &error);

    body = msg_message_get_text_body (parsed);
    g_assert_cmpstr (body, ==, "a\r\nb\r\nc\r\nd\r\n\r\n.\r\n..\r\n");
    /* Binary content is base64 and comes back byte for byte. */
    g_assert_no_error (error);
    g_assert_cmpmem (g_bytes_get_data (content, NULL), g_bytes_get_size (content), "\0\r\n\n\r\xff", 6);
    g_list_free_full (attachments, g_object_unref);
  }
}

/* Attachments are streamed */

static void
test_attachment_read_at_write (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *path = write_temp_file (dir, "live.txt", "first version", -1);
  g_autofree char *text = NULL;
  unsigned         fds = msg_test_count_fds ();
  MsgBodyPart     *part;

  g_test_summary ("A file attachment is read when the message is written, not when added, and "
                  "leaves no descriptor open; a file gone by then is an error, never a short "
                  "message.");

  part = msg_message_add_attachment (message, path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (part);
  /* Adding opens nothing that stays open. */
  g_assert_cmpuint (msg_test_count_fds (), ==, fds);

  /* The file is read when the message is written, not when added. */
  g_assert_true (g_file_set_contents (path, "second version", -1, NULL));
  text = to_string (message);
  g_assert_cmpuint (msg_test_count_fds (), ==, fds);
  {
    g_autoptr (MsgMessage) parsed = parse_string (text);
    GList           *attachments = msg_message_get_attachments (parsed);
    g_autofree char *content = decoded_string (attachments->data);

    g_assert_cmpstr (content, ==, "second version");
    g_list_free_full (attachments, g_object_unref);
  }
  {
    g_autofree char *content = decoded_string (part);

    g_assert_cmpstr (content, ==, "second version");
    g_assert_cmpuint (msg_test_count_fds (), ==, fds);
  }

  /* A file gone by then is an error when writing, never a short
   * message. */
  g_assert_cmpint (g_unlink (path), ==, 0);
  {
    g_autoptr (GBytes) bytes = msg_message_to_bytes (message, &error);

    g_assert_null (bytes);
    g_assert_nonnull (error);
    g_assert_nonnull (strstr (error->message, "live.txt"));
    g_clear_error (&error);
  }
  g_assert_cmpuint (msg_test_count_fds (), ==, fds);

  msg_test_remove_tree (dir);
}

static void
assert_unreadable_refused (const char *path)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;

  g_assert_null (msg_message_add_attachment (message, path, &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT);
  g_assert_nonnull (strstr (error->message, "secret.txt"));
  g_assert_nonnull (strstr (error->message, g_strerror (EACCES)));
}

static void
test_attachment_bad_files (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *missing = g_build_filename (dir, "missing.pdf", NULL);
  g_autofree char *fifo = g_build_filename (dir, "fifo", NULL);
  g_autofree char *secret = write_temp_file (dir, "secret.txt", "x", -1);

  g_test_summary ("Missing, directory, FIFO, device and unreadable files are refused when added, "
                  "as attachments or related parts.");

  g_assert_null (msg_message_add_attachment (message, missing, &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT);
  g_assert_nonnull (strstr (error->message, "missing.pdf"));
  g_clear_error (&error);

  g_assert_null (msg_message_add_attachment (message, dir, &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT);
  g_assert_nonnull (strstr (error->message, "not a regular file"));
  g_clear_error (&error);

  g_assert_cmpint (mkfifo (fifo, 0600), ==, 0);
  g_assert_null (msg_message_add_attachment (message, fifo, &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT);
  g_clear_error (&error);

  g_assert_null (msg_message_add_attachment (message, "/dev/zero", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT);
  g_clear_error (&error);

  g_assert_null (msg_message_add_related_body_part (message, missing, "cid:x@y", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT);
  g_clear_error (&error);

  g_assert_null (msg_message_get_attachments (message));

  /* Unreadable. Root reads everything: then the check runs in a child
   * that has become an ordinary user. */
  g_assert_cmpint (g_chmod (dir, 0755), ==, 0);
  g_assert_cmpint (g_chmod (secret, 0), ==, 0);
  if (geteuid () != 0)
    assert_unreadable_refused (secret);
  else
    {
      /* The child reports through a pipe: its exit status is also
       * valgrind's verdict on a process that never cleans up. */
      int   fds[2];
      char  verdict[3] = "";
      pid_t pid;
      int   status = 0;

      g_assert_cmpint (pipe (fds), ==, 0);
      pid = fork ();
      g_assert_cmpint (pid, >=, 0);
      if (pid == 0)
        {
          close (fds[0]);
          if (setgid (65534) != 0 || setuid (65534) != 0)
            _exit (2);
          assert_unreadable_refused (secret);
          if (write (fds[1], "ok", 2) != 2)
            _exit (3);
          _exit (0);
        }
      close (fds[1]);
      g_assert_cmpint (read (fds[0], verdict, 2), ==, 2);
      close (fds[0]);
      g_assert_cmpstr (verdict, ==, "ok");
      g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
      g_assert_true (WIFEXITED (status));
    }

  msg_test_remove_tree (dir);
}

/* A stream that counts what it gets, checks the wire format as it goes
 * and samples the resident memory of the process. */
typedef struct
{
  GOutputStream parent_instance;
  guint64       bytes;
  guint64       line;
  guint64       max_line;
  gboolean      last_cr;
  gboolean      bad_line_end;
  guint64       next_sample;
  gsize         max_rss;
  /* Called once when @hook_at bytes have been written. */
  guint64 hook_at;
  void (*hook) (gpointer data);
  gpointer hook_data;
} CountingStream;

typedef struct
{
  GOutputStreamClass parent_class;
} CountingStreamClass;

static GType counting_stream_get_type (void);
G_DEFINE_TYPE (CountingStream, counting_stream, G_TYPE_OUTPUT_STREAM)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (CountingStream, g_object_unref)

static gsize
current_rss (void)
{
  g_autofree char *statm = NULL;
  unsigned long    size = 0;
  unsigned long    resident = 0;

  if (!g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL) ||
      sscanf (statm, "%lu %lu", &size, &resident) != 2)
    g_assert_not_reached ();
  return resident * (gsize) sysconf (_SC_PAGESIZE);
}

static gssize
counting_stream_write (GOutputStream *stream,
                       const void    *buffer,
                       gsize          count,
                       GCancellable  *cancellable,
                       GError       **error)
{
  CountingStream *self = (CountingStream *) stream;
  const guint8   *data = buffer;

  for (gsize i = 0; i < count; i++)
    {
      if (data[i] == '\n')
        {
          if (!self->last_cr)
            self->bad_line_end = TRUE;
          self->max_line = MAX (self->max_line, self->line);
          self->line = 0;
        }
      else if (self->last_cr)
        self->bad_line_end = TRUE;
      else if (data[i] != '\r')
        self->line++;
      self->last_cr = data[i] == '\r';
    }

  self->bytes += count;
  if (self->bytes >= self->next_sample)
    {
      self->max_rss = MAX (self->max_rss, current_rss ());
      self->next_sample = self->bytes + 8 * 1024 * 1024;
    }
  if (self->hook != NULL && self->bytes >= self->hook_at)
    {
      self->hook (self->hook_data);
      self->hook = NULL;
    }
  return count;
}

static void
counting_stream_class_init (CountingStreamClass *klass)
{
  G_OUTPUT_STREAM_CLASS (klass)->write_fn = counting_stream_write;
}

static void
counting_stream_init (CountingStream *self)
{
}

static gboolean
running_on_valgrind (void)
{
  const char *preload = g_getenv ("LD_PRELOAD");

  return preload != NULL && strstr (preload, "vgpreload") != NULL;
}

static void
test_attachment_large (void)
{
  g_test_summary ("A 1 GiB attachment (8 MiB under valgrind) is streamed: resident memory grows "
                  "by less than 32 MiB, base64 lines end in CRLF within 998 octets.");

#if defined(__SANITIZE_ADDRESS__)
  const gboolean check_rss = FALSE; /* ASan's quarantine holds freed memory */
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  const gboolean check_rss = FALSE;
#else
  const gboolean check_rss = TRUE;
#endif
#else
  const gboolean check_rss = TRUE;
#endif
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "big.bin", NULL);
  g_autoptr (CountingStream) counter = g_object_new (counting_stream_get_type (), NULL);
  /* Under valgrind the point is memory errors, and 1 GiB would take an
   * hour: a smaller file goes through the same code. */
  guint64 size = running_on_valgrind () ? (guint64) 8 << 20 : (guint64) 1 << 30;
  guint64 encoded;
  gsize   before;
  int     fd;

  fd = g_open (path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, (off_t) size), ==, 0);
  g_close (fd, NULL);

  msg_message_set_text_body (message, "A large file.");
  g_assert_nonnull (msg_message_add_attachment (message, path, &error));
  g_assert_no_error (error);

  before = current_rss ();
  counter->max_rss = before;
  g_assert_true (msg_message_write_to_stream (message, G_OUTPUT_STREAM (counter), NULL, &error));
  g_assert_no_error (error);

  /* base64: 4 characters per 3 bytes, 76 per line plus CRLF. */
  encoded = (size + 2) / 3 * 4;
  encoded += (encoded + 75) / 76 * 2;
  g_assert_cmpuint (counter->bytes, >, encoded);
  g_assert_cmpuint (counter->bytes, <, encoded + 4096);
  g_assert_false (counter->bad_line_end);
  g_assert_cmpuint (counter->max_line, <=, 998);
  g_test_message ("wrote %" G_GUINT64_FORMAT " bytes; resident memory grew by %" G_GSIZE_FORMAT " KiB",
                  counter->bytes, (counter->max_rss - before) / 1024);
  if (check_rss)
    g_assert_cmpuint (counter->max_rss - before, <, 32 * 1024 * 1024);

  msg_test_remove_tree (dir);
}

static void
truncate_file (gpointer data)
{
  g_assert_cmpint (truncate (data, 1024 * 1024), ==, 0);
}

static void
test_attachment_interrupted (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "data.bin", NULL);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  unsigned fds;
  int      fd;

  g_test_summary ("A write cancelled mid-attachment fails with CANCELLED and closes the file, the"
                  " next starts again; a file that shrinks while read is an error, never a short "
                  "message.");

  fd = g_open (path, O_CREAT | O_WRONLY | O_TRUNC, 0600);
  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, 8 * 1024 * 1024), ==, 0);
  g_close (fd, NULL);
  g_assert_nonnull (msg_message_add_attachment (message, path, &error));
  fds = msg_test_count_fds ();

  /* Cancelled mid-way: G_IO_ERROR_CANCELLED and the file is closed. */
  {
    g_autoptr (CountingStream) counter = g_object_new (counting_stream_get_type (), NULL);

    counter->hook_at = 1024 * 1024;
    counter->hook = (void (*) (gpointer)) g_cancellable_cancel;
    counter->hook_data = cancellable;
    g_assert_false (msg_message_write_to_stream (message, G_OUTPUT_STREAM (counter), cancellable, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&error);
    g_assert_cmpuint (counter->bytes, <, 4 * 1024 * 1024);
    g_assert_cmpuint (msg_test_count_fds (), ==, fds);
  }

  /* The next write starts again from the beginning. */
  {
    g_autoptr (CountingStream) counter = g_object_new (counting_stream_get_type (), NULL);

    g_assert_true (msg_message_write_to_stream (message, G_OUTPUT_STREAM (counter), NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (counter->bytes, >, 8 * 1024 * 1024 / 3 * 4);
    g_assert_cmpuint (msg_test_count_fds (), ==, fds);
  }

  /* A file that shrinks while it is read is an error, never a short
   * message. */
  {
    g_autoptr (CountingStream) counter = g_object_new (counting_stream_get_type (), NULL);

    counter->hook_at = 2 * 1024 * 1024;
    counter->hook = truncate_file;
    counter->hook_data = path;
    g_assert_false (msg_message_write_to_stream (message, G_OUTPUT_STREAM (counter), NULL, &error));
    g_assert_nonnull (error);
    g_assert_nonnull (strstr (error->message, "data.bin"));
    g_clear_error (&error);
    g_assert_cmpuint (msg_test_count_fds (), ==, fds);
  }

  msg_test_remove_tree (dir);
}

/* Parsing and round trips */

static const char simple_message[] =
    "From: Ann Example <ann@example.com>\n"
    "To: Bob <bob@example.org>, carol@example.net\n"
    "Cc: dave@example.net\n"
    "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= from Ann\n"
    "Date: Tue, 05 Mar 2024 10:11:12 +0100\n"
    "Message-ID: <orig.1@example.com>\n"
    "References: <a@example.com> <b@example.com>\n"
    "X-Custom: kept as it is\n"
    "MIME-Version: 1.0\n"
    "Content-Type: text/plain; charset=iso-8859-1\n"
    "Content-Transfer-Encoding: 8bit\n"
    "\n"
    "Caf\xe9 line one\n"
    "line two\n";

static char *
lf_to_crlf (const char *text)
{
  GString *out = g_string_new (NULL);

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == '\n')
        g_string_append_c (out, '\r');
      g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

static void
test_parse_simple (void)
{
  g_autoptr (MsgMessage) message = parse_string (simple_message);
  g_autofree char *from = msg_message_get_from (message);
  g_autofree char *to = msg_message_get_to (message);
  g_autofree char *cc = msg_message_get_cc (message);
  g_autofree char *subject = msg_message_get_subject (message);
  g_autofree char *id = msg_message_get_message_id (message);
  g_autofree char *custom = msg_message_get_header (message, "X-Custom");
  g_autofree char *body = msg_message_get_text_body (message);
  g_autofree char *expected = lf_to_crlf (simple_message);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GDateTime) date = msg_message_get_sent_on (message);
  g_autoptr (GError) error = NULL;

  g_test_summary ("A parsed message: addresses, the subject decoded, the body converted from its "
                  "charset, AutoGenerateTextBody false (CDO); written back byte for byte with "
                  "CRLF; its 8-bit body is reported.");

  g_assert_cmpstr (from, ==, "Ann Example <ann@example.com>");
  g_assert_cmpstr (to, ==, "Bob <bob@example.org>, carol@example.net");
  g_assert_cmpstr (cc, ==, "dave@example.net");
  g_assert_cmpstr (subject, ==, "Grüße from Ann");
  g_assert_cmpstr (id, ==, "<orig.1@example.com>");
  g_assert_cmpstr (custom, ==, "kept as it is");
  /* Converted from the declared charset. */
  g_assert_cmpstr (body, ==, "Café line one\nline two\n");
  g_assert_cmpint (g_date_time_to_unix (date), ==, 1709629872);
  /* CDO: False on loaded messages. */
  g_assert_false (msg_message_get_auto_generate_text_body (message));
  g_assert_null (msg_message_get_attachments (message));

  /* Written back unchanged: the same bytes, with CRLF line ends. */
  bytes = msg_message_to_bytes (message, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), expected, strlen (expected));
  /* The 8-bit body is reported to transports. */
  g_assert_true (msg_message_has_8bit_content (message));
}

/* The header block is written from the raw values GMime keeps, not by
 * GMime's writer: a parsed root part's header lines among the message's
 * keep their places, folded lines keep their folds, a hidden header goes
 * with its continuation lines, and a header changed through the API is
 * written as GMime formats it. */
static const char interleaved_message[] =
    "Received: from a.example.net by b.example.org; Tue, 05 Mar 2024 10:11:12 +0100\n"
    "From: Ann Example <ann@example.com>\n"
    "Content-Type: text/plain;\n"
    "\tcharset=us-ascii\n"
    "To: Bob <bob@example.org>,\n"
    " carol@example.net\n"
    "Bcc: hidden@example.net,\n"
    " also-hidden@example.net\n"
    "MIME-Version: 1.0\n"
    "Subject: kept\n"
    "Content-Transfer-Encoding: 7bit\n"
    "X-Last: last\n"
    "\n"
    "Body line\n";

static void
test_parse_interleaved_headers (void)
{
  g_autoptr (MsgMessage) message = parse_string (interleaved_message);
  g_autofree char *expected = lf_to_crlf (interleaved_message);
  g_autoptr (GOutputStream) out = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GBytes) smtp = NULL;
  g_autoptr (GString) without_bcc = NULL;
  g_autoptr (GError) error = NULL;

  g_test_summary ("A parsed message whose Content-* lines sit among its other headers, some "
                  "folded, is written back byte for byte; Bcc (folded) is left out for SMTP and "
                  "nothing else moves; a subject set afterwards takes the old one's place.");

  bytes = msg_message_to_bytes (message, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), expected, strlen (expected));

  out = g_memory_output_stream_new_resizable ();
  g_assert_true (msg_message_write_to_stream_full (message, out, MSG_WRITE_FLAGS_OMIT_BCC, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_output_stream_close (out, NULL, &error));
  smtp = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
  without_bcc = g_string_new (expected);
  g_string_replace (without_bcc, "Bcc: hidden@example.net,\r\n also-hidden@example.net\r\n", "", 1);
  g_assert_cmpmem (g_bytes_get_data (smtp, NULL), g_bytes_get_size (smtp), without_bcc->str, without_bcc->len);

  g_assert_true (msg_message_set_subject (message, "Grüße", &error));
  g_assert_no_error (error);
  g_clear_pointer (&bytes, g_bytes_unref);
  bytes = msg_message_to_bytes (message, &error);
  g_assert_no_error (error);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes),
                                  "MIME-Version: 1.0\r\nSubject: =?UTF-8?B?R3LDvMOfZQ==?=\r\n"
                                  "Content-Transfer-Encoding: 7bit\r\n"));
}

static void
test_parse_multipart (void)
{
  g_autoptr (MsgMessage) message = parse_string (multipart_message);
  g_autofree char *tree = describe_tree (message);
  g_autofree char *text = msg_message_get_text_body (message);
  g_autofree char *html = msg_message_get_html_body (message);
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  GList           *attachments = msg_message_get_attachments (message);
  g_autofree char *name = NULL;
  g_autoptr (GBytes) content = NULL;
  g_autofree char *inner = NULL;

  g_test_summary ("A parsed multipart gives its text, HTML, attachment and message/rfc822 part; "
                  "it is written back byte for byte but for the blank line GMime adds, then "
                  "stable.");

  g_assert_cmpstr (tree, ==, "multipart/mixed(multipart/alternative(text/plain,text/html),application/octet-stream,message/rfc822)");
  g_assert_cmpstr (text, ==, "Plain text");
  g_assert_cmpstr (html, ==, "<p>HTML text</p>");
  g_assert_cmpuint (g_list_length (attachments), ==, 2);
  name = msg_body_part_get_filename (attachments->data);
  g_assert_cmpstr (name, ==, "data.bin");
  content = msg_body_part_get_decoded_content (attachments->data, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (content, NULL), g_bytes_get_size (content), "\0\1\2\3\4", 5);
  inner = decoded_string (attachments->next->data);
  g_assert_nonnull (strstr (inner, "Subject: Inner"));
  g_assert_nonnull (strstr (inner, "Inner body"));
  g_list_free_full (attachments, g_object_unref);

  /* Round trip: byte for byte but for the empty line GMime writes after
   * the closing boundary of the nested multipart; stable from then on. */
  bytes = msg_message_to_bytes (message, &error);
  g_assert_no_error (error);
  {
    g_autoptr (GString) expected = g_string_new (multipart_message);
    g_autoptr (MsgMessage) again = NULL;
    g_autoptr (GBytes) bytes2 = NULL;

    g_string_replace (expected, "--inner--\r\n", "--inner--\r\n\r\n", 1);
    g_assert_cmpmem (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), expected->str, expected->len);
    again = msg_message_new_from_bytes (bytes, &error);
    g_assert_no_error (error);
    bytes2 = msg_message_to_bytes (again, &error);
    g_assert_no_error (error);
    g_assert_true (g_bytes_equal (bytes, bytes2));
  }
}

static void
test_parse_then_modify (void)
{
  g_autoptr (MsgMessage) message = parse_string (multipart_message);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *tree = NULL;
  GList           *attachments;

  g_test_summary ("After parsing, a header change keeps the body as it was; a body change "
                  "rebuilds the tree with the content kept.");

  /* A header change keeps the body as it was. */
  g_assert_true (msg_message_set_subject (message, "Changed", &error));
  text = to_string (message);
  g_assert_nonnull (strstr (text, "\r\nSubject: Changed\r\n"));
  g_assert_nonnull (strstr (text, "--outer\r\n"));

  /* A body change rebuilds the tree with the content kept. */
  msg_message_set_text_body (message, "New text");
  tree = describe_written (message);
  g_assert_cmpstr (tree, ==, "multipart/mixed(multipart/alternative(text/plain,text/html),application/octet-stream,message/rfc822)");
  g_clear_pointer (&text, g_free);
  text = to_string (message);
  g_assert_nonnull (strstr (text, "New text"));
  g_assert_nonnull (strstr (text, "<p>HTML text</p>"));
  attachments = msg_message_get_attachments (message);
  g_assert_cmpuint (g_list_length (attachments), ==, 2);
  g_list_free_full (attachments, g_object_unref);
}

static void
test_parse_sources (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *path = write_temp_file (dir, "m.eml", simple_message, -1);
  g_autofree char *missing = g_build_filename (dir, "none.eml", NULL);
  g_autoptr (MsgMessage) from_file = NULL;
  g_autoptr (MsgMessage) from_stream = NULL;
  g_autoptr (GInputStream) input = g_memory_input_stream_new_from_data (simple_message, strlen (simple_message), NULL);
  g_autofree char *subject = NULL;
  g_autofree char *subject2 = NULL;

  g_test_summary ("Messages are parsed from a file and from a stream; a missing file is NOENT, a "
                  "cancelled stream CANCELLED.");

  from_file = msg_message_new_from_file (path, &error);
  g_assert_no_error (error);
  subject = msg_message_get_subject (from_file);
  g_assert_cmpstr (subject, ==, "Grüße from Ann");

  from_stream = msg_message_new_from_stream (input, NULL, &error);
  g_assert_no_error (error);
  subject2 = msg_message_get_subject (from_stream);
  g_assert_cmpstr (subject2, ==, "Grüße from Ann");

  g_assert_null (msg_message_new_from_file (missing, &error));
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error (&error);

  {
    g_autoptr (GCancellable) cancellable = g_cancellable_new ();
    g_autoptr (GInputStream) again = g_memory_input_stream_new_from_data (simple_message, strlen (simple_message), NULL);

    g_cancellable_cancel (cancellable);
    g_assert_null (msg_message_new_from_stream (again, cancellable, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    g_clear_error (&error);
  }

  msg_test_remove_tree (dir);
}

static void
test_parse_errors (void)
{
  static const struct
  {
    const char *data;
    gsize       len;
  } bad[] = {
    { "", 0 },
    { "\n\n\n", 3 },
    { "\x89PNG\r\n\x1a\n\0\0", 10 },
    { "just some words without any header\n", 36 },
    { "Bad Header Name: x\n\nbody\n", 25 },
    { "From: a@example.com\nSubject: a\0b\n\nbody\n", 39 },
  };

  g_test_summary ("Empty, binary and header-less input, bad header names and NUL bytes are "
                  "refused with PARSE.");

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GBytes) bytes = g_bytes_new (bad[i].data, bad[i].len);
      g_autoptr (GError) error = NULL;
      g_autoptr (MsgMessage) message = msg_message_new_from_bytes (bytes, &error);

      g_test_message ("input %u", i);
      g_assert_null (message);
      g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_PARSE);
    }
}

static void
test_parse_odd_addresses (void)
{
  /* Received mail may hold anything in its address headers; parsing it
   * must neither fail nor leak (GMime's strict address parser leaks on a
   * stray ">"), and it is written back as it came. */
  static const char raw[] = "From: a@b.example> SIZE=1\r\n"
                            "To: x <y@example.org>>, a>b@c.example\r\n"
                            "Cc: undisclosed-recipients:;\r\n"
                            "Subject: odd\r\n"
                            "\r\n"
                            "body\r\n";
  g_autoptr (MsgMessage) message = parse_string (raw);
  g_autofree char *text = to_string (message);

  g_test_summary ("Odd address headers of received mail parse and are written back as they came.");

  g_assert_cmpstr (text, ==, raw);
}

static void
test_parse_unwritable (void)
{
  g_test_summary ("A parsed header that cannot be folded within 998 octets makes writing fail, "
                  "naming the field (research/reliability.md 2.3 rule 2); a reply still refers to"
                  " the message.");

  /* research/reliability.md 2.3 rule 2: what is parsed is written only
   * if every header line fits; an unfoldable 3,000-octet References is an
   * error naming the field, not a line over 998 octets. */
  g_autoptr (GString) raw = g_string_new ("From: ann@example.com\r\nReferences: <");
  g_autoptr (MsgMessage) message = NULL;
  g_autoptr (MsgMessage) reply = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;

  for (guint i = 0; i < 3000; i++)
    g_string_append_c (raw, 'a');
  g_string_append (raw, "@example.com>\r\nMessage-ID: <m@example.com>\r\nSubject: x\r\n\r\nbody\r\n");
  message = parse_string (raw->str);
  bytes = msg_message_to_bytes (message, &error);
  g_assert_null (bytes);
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
  g_assert_nonnull (strstr (error->message, "References"));

  /* A reply cannot carry the chain; it still refers to the message. */
  reply = msg_message_create_reply (message);
  text = to_string (reply);
  g_assert_nonnull (strstr (text, "\r\nIn-Reply-To: <m@example.com>\r\n"));
}

static void
test_parse_encoded_crlf (void)
{
  g_test_summary ("An encoded word that decodes to CRLF never becomes a line break, parsed or set"
                  " (C-10, C-11); a harmless one is kept.");

  /* C-10/C-11: an encoded word that decodes to CRLF is never turned into
   * a line break, whether parsed or set. */
  g_autoptr (MsgMessage) message = parse_string ("From: ann@example.com\r\n"
                                                 "To: bob@example.org\r\n"
                                                 "Subject: =?utf-8?q?a=0D=0ABcc:_x@evil.example?=\r\n"
                                                 "\r\n"
                                                 "body\r\n");
  g_autoptr (GError) error = NULL;
  g_autofree char *subject = msg_message_get_subject (message);
  g_autofree char *text = NULL;
  g_autofree char *text2 = NULL;

  g_assert_true (msg_message_set_header (message, "X-Other", "y", &error));
  text = to_string (message);
  g_assert_false (has_header_line (text, "Bcc"));
  g_assert_cmpuint (count_lines_starting (text, "Bcc"), ==, 0);

  /* Re-setting the decoded subject is refused, naming the field. */
  if (subject != NULL && strpbrk (subject, "\r\n") != NULL)
    {
      g_assert_false (msg_message_set_subject (message, subject, &error));
      g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
      g_assert_nonnull (strstr (error->message, "Subject"));
      g_clear_error (&error);
    }

  /* Set as raw text, an encoded word that a reader would decode to a line
   * break is refused; a harmless one is kept. */
  g_assert_false (msg_message_set_subject (message, "=?utf-8?q?a=0D=0ABcc:_x@evil.example?=", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
  g_assert_nonnull (strstr (error->message, "Subject"));
  g_clear_error (&error);
  g_assert_false (msg_message_set_header (message, "X-Other", "=?us-ascii?b?eA0KQmNjOiB5QGV2aWwuZXhhbXBsZQ==?=", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
  g_clear_error (&error);
  g_assert_true (msg_message_set_subject (message, "=?utf-8?q?caf=C3=A9?= and a=?b", &error));
  g_assert_no_error (error);
  text2 = to_string (message);
  g_assert_cmpuint (count_lines_starting (text2, "Bcc"), ==, 0);
  {
    g_autoptr (MsgMessage) parsed = parse_string (text2);
    g_autofree char *reparsed = msg_message_get_subject (parsed);

    g_assert_null (strpbrk (reparsed, "\r\n"));
  }
}

/* save_to_file */

static GPtrArray *
list_dir (const char *dir)
{
  g_autoptr (GDir) handle = g_dir_open (dir, 0, NULL);
  GPtrArray  *names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  g_assert_nonnull (handle);
  while ((name = g_dir_read_name (handle)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  return names;
}

static void
test_save_to_file (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "out.eml", NULL);
  g_autofree char *attachment = write_temp_file (dir, "a.txt", "attached", -1);
  g_autofree char *expected = NULL;
  g_autofree char *contents = NULL;
  g_autoptr (GPtrArray) names = NULL;
  gsize len;

  g_test_summary ("save_to_file writes the message atomically and it reads back the same; on "
                  "error the old file stays with no temporary file left; a directory or missing "
                  "directory is an error.");

  msg_message_set_text_body (message, "Saved.");
  g_assert_nonnull (msg_message_add_attachment (message, attachment, &error));
  g_assert_true (msg_message_save_to_file (message, path, &error));
  g_assert_no_error (error);
  expected = to_string (message);
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpmem (contents, len, expected, strlen (expected));

  /* It reads back as the same message. */
  {
    g_autoptr (MsgMessage) loaded = msg_message_new_from_file (path, &error);
    g_autofree char *again = NULL;

    g_assert_no_error (error);
    again = to_string (loaded);
    g_assert_cmpstr (again, ==, expected);
  }

  /* On error the old file stays and no temporary file is left. */
  g_assert_cmpint (g_unlink (attachment), ==, 0);
  g_assert_false (msg_message_save_to_file (message, path, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_clear_pointer (&contents, g_free);
  g_assert_true (g_file_get_contents (path, &contents, &len, NULL));
  g_assert_cmpmem (contents, len, expected, strlen (expected));
  names = list_dir (dir);
  g_assert_cmpuint (names->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (names, 0), ==, "out.eml");

  /* A directory or a missing directory is an error. */
  g_assert_false (msg_message_save_to_file (message, dir, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY);
  g_clear_error (&error);
  {
    g_autofree char *nowhere = g_build_filename (dir, "no", "such", "x.eml", NULL);
    g_autoptr (MsgMessage) plain = make_message ();

    g_assert_false (msg_message_save_to_file (plain, nowhere, &error));
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
    g_clear_error (&error);
  }
  g_clear_pointer (&names, g_ptr_array_unref);
  names = list_dir (dir);
  g_assert_cmpuint (names->len, ==, 1);

  msg_test_remove_tree (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/message/mime/text-only", test_mime_text_only);
  g_test_add_func ("/message/mime/html", test_mime_html);
  g_test_add_func ("/message/mime/html-text-set", test_mime_html_text_set);
  g_test_add_func ("/message/mime/html-only", test_mime_html_only);
  g_test_add_func ("/message/mime/related", test_mime_related);
  g_test_add_func ("/message/mime/attachments", test_mime_attachments);
  g_test_add_func ("/message/mime/attachment-types", test_mime_attachment_guess);
  g_test_add_func ("/message/mime/uuencode", test_mime_uuencode);
  g_test_add_func ("/message/encoding/bodies", test_encoding_bodies);
  g_test_add_func ("/message/encoding/line-ends", test_encoding_line_ends);
  g_test_add_func ("/message/attachment/read-at-write", test_attachment_read_at_write);
  g_test_add_func ("/message/attachment/bad-files", test_attachment_bad_files);
  g_test_add_func ("/message/attachment/large", test_attachment_large);
  g_test_add_func ("/message/attachment/interrupted", test_attachment_interrupted);
  g_test_add_func ("/message/parse/simple", test_parse_simple);
  g_test_add_func ("/message/parse/multipart", test_parse_multipart);
  g_test_add_func ("/message/parse/interleaved-headers", test_parse_interleaved_headers);
  g_test_add_func ("/message/parse/modify", test_parse_then_modify);
  g_test_add_func ("/message/parse/sources", test_parse_sources);
  g_test_add_func ("/message/parse/errors", test_parse_errors);
  g_test_add_func ("/message/parse/encoded-crlf", test_parse_encoded_crlf);
  g_test_add_func ("/message/parse/unwritable", test_parse_unwritable);
  g_test_add_func ("/message/parse/odd-addresses", test_parse_odd_addresses);
  g_test_add_func ("/message/save-to-file", test_save_to_file);

  return g_test_run ();
}
