/* test-body-part.c: MsgBodyPart, CDO's BodyPart object
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-utils.h"

#include <glib/gstdio.h>
#include <string.h>

static MsgMessage *
make_message (void)
{
  g_autoptr (GError) error = NULL;
  MsgMessage *message = msg_message_new ();

  g_assert_true (msg_message_set_from (message, "ann@example.com", &error));
  g_assert_true (msg_message_set_to (message, "bob@example.org", &error));
  g_assert_true (msg_message_set_subject (message, "Parts", &error));
  g_assert_no_error (error);
  return message;
}

static char *
to_string (MsgMessage *message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = msg_message_to_bytes (message, &error);
  gsize       len;
  const char *data;

  g_assert_no_error (error);
  data = g_bytes_get_data (bytes, &len);
  for (gsize i = 0; i < len; i++)
    {
      if (data[i] == '\n')
        g_assert_true (i > 0 && data[i - 1] == '\r');
      if (data[i] == '\r')
        g_assert_true (i + 1 < len && data[i + 1] == '\n');
    }
  return g_strndup (data, len);
}

static MsgMessage *
reparse (MsgMessage *message)
{
  g_autofree char *text = to_string (message);
  g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));
  g_autoptr (GError) error = NULL;
  MsgMessage *parsed = msg_message_new_from_bytes (bytes, &error);

  g_assert_no_error (error);
  return parsed;
}

static MsgBodyPart *
first_attachment (MsgMessage *message)
{
  GList       *list = msg_message_get_attachments (message);
  MsgBodyPart *part;

  g_assert_nonnull (list);
  part = g_object_ref (list->data);
  g_list_free_full (list, g_object_unref);
  return part;
}

static void
test_standalone (void)
{
  g_autoptr (MsgBodyPart) part = g_object_new (MSG_TYPE_BODY_PART, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *type = msg_body_part_get_content_media_type (part);
  g_autofree char *charset = msg_body_part_get_charset (part);
  g_autoptr (GBytes) content = msg_body_part_get_decoded_content (part, &error);

  g_test_summary ("A body part made by a binding with g_object_new() is an empty text/plain leaf.");

  g_assert_cmpstr (type, ==, "text/plain");
  g_assert_cmpstr (charset, ==, "utf-8");
  g_assert_no_error (error);
  g_assert_cmpuint (g_bytes_get_size (content), ==, 0);
  g_assert_null (msg_body_part_get_body_parts (part));
}

static void
test_properties (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GBytes) bytes = g_bytes_new_static ("hello world\n", 12);
  g_autoptr (GError) error = NULL;
  g_autoptr (GHashTable) counts = g_hash_table_new (g_str_hash, g_str_equal);
  MsgBodyPart     *part;
  g_autofree char *type = NULL, *encoding = NULL, *charset = NULL, *filename = NULL;
  g_autofree char *content_id = NULL, *disposition = NULL;
  g_autofree char *text = NULL;

  g_test_summary ("Each property reads back what was set and notifies once per change (not for "
                  "the same value); what was set is written and parsed back; NULL removes the "
                  "optional ones.");

  part = msg_message_add_attachment_bytes (message, bytes, "hello.txt", "text/plain", &error);
  g_assert_no_error (error);
  g_signal_connect (part, "notify", G_CALLBACK (msg_test_count_notify_cb), counts);

  g_object_get (part,
                "content-media-type", &type,
                "content-transfer-encoding", &encoding,
                "charset", &charset,
                "filename", &filename,
                "content-id", &content_id,
                "content-disposition", &disposition,
                NULL);
  g_assert_cmpstr (type, ==, "text/plain");
  g_assert_cmpstr (encoding, ==, "7bit");
  g_assert_cmpstr (charset, ==, "utf-8");
  g_assert_cmpstr (filename, ==, "hello.txt");
  g_assert_null (content_id);
  g_assert_cmpstr (disposition, ==, "attachment");

  g_assert_true (msg_body_part_set_content_media_type (part, "text/x-log", &error));
  g_assert_true (msg_body_part_set_content_transfer_encoding (part, "quoted-printable", &error));
  g_assert_true (msg_body_part_set_charset (part, "iso-8859-1", &error));
  g_assert_true (msg_body_part_set_filename (part, "renamed.log", &error));
  g_assert_true (msg_body_part_set_content_id (part, "<part1@example.com>", &error));
  g_assert_true (msg_body_part_set_content_disposition (part, "inline", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg_test_notified (counts, "content-media-type"), ==, 1);
  g_assert_cmpuint (msg_test_notified (counts, "content-transfer-encoding"), ==, 1);
  g_assert_cmpuint (msg_test_notified (counts, "charset"), ==, 1);
  g_assert_cmpuint (msg_test_notified (counts, "filename"), ==, 1);
  g_assert_cmpuint (msg_test_notified (counts, "content-id"), ==, 1);
  g_assert_cmpuint (msg_test_notified (counts, "content-disposition"), ==, 1);

  /* The same values again: no notification. */
  g_assert_true (msg_body_part_set_content_media_type (part, "text/x-log", &error));
  g_assert_true (msg_body_part_set_filename (part, "renamed.log", &error));
  g_assert_cmpuint (msg_test_notified (counts, "content-media-type"), ==, 1);
  g_assert_cmpuint (msg_test_notified (counts, "filename"), ==, 1);

  g_clear_pointer (&content_id, g_free);
  content_id = msg_body_part_get_content_id (part);
  /* Without brackets, as in cid: URLs. */
  g_assert_cmpstr (content_id, ==, "part1@example.com");

  /* What was set is what is written and parsed back. */
  text = to_string (message);
  g_assert_nonnull (strstr (text, "Content-Transfer-Encoding: quoted-printable\r\n"));
  {
    g_autoptr (MsgMessage) parsed = reparse (message);
    g_autoptr (MsgBodyPart) got = first_attachment (parsed);
    g_autofree char *t = msg_body_part_get_content_media_type (got);
    g_autofree char *e = msg_body_part_get_content_transfer_encoding (got);
    g_autofree char *c = msg_body_part_get_charset (got);
    g_autofree char *f = msg_body_part_get_filename (got);
    g_autofree char *i = msg_body_part_get_content_id (got);
    g_autofree char *d = msg_body_part_get_content_disposition (got);

    g_assert_cmpstr (t, ==, "text/x-log");
    g_assert_cmpstr (e, ==, "quoted-printable");
    g_assert_cmpstr (c, ==, "iso-8859-1");
    g_assert_cmpstr (f, ==, "renamed.log");
    g_assert_cmpstr (i, ==, "part1@example.com");
    g_assert_cmpstr (d, ==, "inline");
  }

  /* NULL removes what can be removed. */
  g_assert_true (msg_body_part_set_content_id (part, NULL, &error));
  g_assert_true (msg_body_part_set_charset (part, NULL, &error));
  g_assert_true (msg_body_part_set_content_disposition (part, NULL, &error));
  g_clear_pointer (&content_id, g_free);
  g_clear_pointer (&charset, g_free);
  g_clear_pointer (&disposition, g_free);
  content_id = msg_body_part_get_content_id (part);
  charset = msg_body_part_get_charset (part);
  disposition = msg_body_part_get_content_disposition (part);
  g_assert_null (content_id);
  g_assert_null (charset);
  g_assert_null (disposition);
}

static void
test_invalid_values (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GBytes) bytes = g_bytes_new_static ("x", 1);
  g_autoptr (GError) error = NULL;
  MsgBodyPart *part;
  g_autoptr (MsgBodyPart) root = NULL;
  g_autofree char *value = NULL;

  g_test_summary ("Bad media types, encodings, charsets, Content-IDs, dispositions and file names"
                  " are refused and the old value kept; a multipart stays a multipart and has no "
                  "file name or content.");

  part = msg_message_add_attachment_bytes (message, bytes, "x.bin", "application/octet-stream", &error);
  g_assert_no_error (error);

  static const char *const bad_types[] = {
    "",
    "text",
    "text/",
    "/plain",
    "text/plain/x",
    "text plain",
    "text/pl@in",
    "multipart/mixed",
    "text/plain\r\nX-Injected: 1",
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad_types); i++)
    {
      g_assert_false (msg_body_part_set_content_media_type (part, bad_types[i], &error));
      g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
      g_clear_error (&error);
    }
  value = msg_body_part_get_content_media_type (part);
  g_assert_cmpstr (value, ==, "application/octet-stream");
  g_clear_pointer (&value, g_free);

  static const char *const bad_encodings[] = { "", "x-unknown", "base64\r\nX: 1" };
  for (guint i = 0; i < G_N_ELEMENTS (bad_encodings); i++)
    {
      g_assert_false (msg_body_part_set_content_transfer_encoding (part, bad_encodings[i], &error));
      g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
      g_assert_nonnull (strstr (error->message, "Content-Transfer-Encoding"));
      g_clear_error (&error);
    }

  static const char *const bad_charsets[] = { "utf-8\r\nX-Charset-Inj: 1", "a\"b", "a;b", "a\nb" };
  for (guint i = 0; i < G_N_ELEMENTS (bad_charsets); i++)
    {
      g_assert_false (msg_body_part_set_charset (part, bad_charsets[i], &error));
      g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
      g_assert_nonnull (strstr (error->message, "charset"));
      g_clear_error (&error);
    }

  static const char *const bad_ids[] = {
    "cid@x\r\nX-Cid-Inj: 1",
    "a b@c",
    "<a@b",
    "<>",
    "",
    "a\n@b",
  };
  for (guint i = 0; i < G_N_ELEMENTS (bad_ids); i++)
    {
      g_assert_false (msg_body_part_set_content_id (part, bad_ids[i], &error));
      g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
      g_assert_nonnull (strstr (error->message, "Content-ID"));
      g_clear_error (&error);
    }

  static const char *const bad_dispositions[] = { "", "attach ment", "inline; x=y", "inline\r\nX: 1" };
  for (guint i = 0; i < G_N_ELEMENTS (bad_dispositions); i++)
    {
      g_assert_false (msg_body_part_set_content_disposition (part, bad_dispositions[i], &error));
      g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
      g_assert_nonnull (strstr (error->message, "Content-Disposition"));
      g_clear_error (&error);
    }

  static const char *const bad_names[] = { "a\r\nX-Injected: 1.txt", "a\nb", "a\rb", "", "..", "dir/" };
  for (guint i = 0; i < G_N_ELEMENTS (bad_names); i++)
    {
      g_assert_false (msg_body_part_set_filename (part, bad_names[i], &error));
      g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT);
      g_clear_error (&error);
    }
  value = msg_body_part_get_filename (part);
  g_assert_cmpstr (value, ==, "x.bin");
  g_clear_pointer (&value, g_free);

  /* A multipart stays a multipart and has no file name or content. */
  msg_message_set_html_body (message, "<p>x</p>");
  root = msg_message_get_body_part (message);
  value = msg_body_part_get_content_media_type (root);
  g_assert_cmpstr (value, ==, "multipart/mixed");
  g_assert_false (msg_body_part_set_content_media_type (root, "text/plain", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
  g_clear_error (&error);
  g_assert_true (msg_body_part_set_content_media_type (root, "multipart/related", &error));
  g_assert_false (msg_body_part_set_content_transfer_encoding (root, "base64", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
  g_clear_error (&error);
  g_assert_true (msg_body_part_set_content_transfer_encoding (root, "7bit", &error));
  g_assert_false (msg_body_part_set_filename (root, "x.txt", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT);
  g_clear_error (&error);
  g_assert_null (msg_body_part_get_filename (root));
  g_assert_null (msg_body_part_get_decoded_content (root, &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_MULTIPART_NO_DATA);
  g_clear_error (&error);
  g_assert_null (msg_body_part_get_encoded_content (root, &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_MULTIPART_NO_DATA);
  g_clear_error (&error);
}

static void
test_gobject_invalid_subprocess (void)
{
  g_autoptr (MsgBodyPart) part = g_object_new (MSG_TYPE_BODY_PART, NULL);
  g_autofree char *charset = NULL;

  g_log_set_always_fatal (G_LOG_FATAL_MASK);
  g_object_set (part, "charset", "utf-8\r\nX-Injected: 1", NULL);
  charset = msg_body_part_get_charset (part);
  g_assert_cmpstr (charset, ==, "utf-8");
}

static void
test_gobject_invalid (void)
{
  g_test_summary ("A bad value set through g_object_set() is refused with a warning, and the old "
                  "value kept.");

  g_test_trap_subprocess ("/body-part/gobject-invalid/subprocess", 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*Cannot set the *charset* property of a body part*"
                             "msg_body_part_set_charset() returns the error*");
}

static void
test_filenames (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GBytes) bytes = g_bytes_new_static ("data", 4);
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) long_name = g_string_new (NULL);
  const char      *utf8_name = "Überweisung März 日本.pdf";
  MsgBodyPart     *part;
  g_autofree char *name = NULL;
  g_autofree char *text = NULL;

  g_test_summary ("File names lose their directory components; non-ASCII and long names are RFC "
                  "2231 encoded in short ASCII lines and read back intact.");

  for (guint i = 0; i < 30; i++)
    g_string_append (long_name, "long name ");
  g_string_append (long_name, "end.txt");

  /* Directory components are removed (research/reliability.md C-12). */
  part = msg_message_add_attachment_bytes (message, bytes, "x.txt", "text/plain", &error);
  g_assert_true (msg_body_part_set_filename (part, "../../etc/passwd", &error));
  name = msg_body_part_get_filename (part);
  g_assert_cmpstr (name, ==, "passwd");
  g_clear_pointer (&name, g_free);
  g_assert_true (msg_body_part_set_filename (part, "C:\\Users\\x\\y.exe", &error));
  name = msg_body_part_get_filename (part);
  g_assert_cmpstr (name, ==, "y.exe");
  g_clear_pointer (&name, g_free);

  /* Non-ASCII and long names are RFC 2231 encoded; lines stay short. */
  g_assert_true (msg_body_part_set_filename (part, utf8_name, &error));
  g_assert_no_error (error);
  g_assert_nonnull (msg_message_add_attachment_bytes (message, bytes, long_name->str, "text/plain", &error));
  g_assert_no_error (error);
  text = to_string (message);
  for (const char *p = text; *p != '\0'; p++)
    g_assert_cmpuint ((guchar) *p, <, 0x80);
  for (const char *line = text, *eol; (eol = strstr (line, "\r\n")) != NULL; line = eol + 2)
    g_assert_cmpint (eol - line, <=, 998);
  {
    g_autoptr (MsgMessage) parsed = reparse (message);
    GList           *got = msg_message_get_attachments (parsed);
    g_autofree char *name0 = msg_body_part_get_filename (got->data);
    g_autofree char *name1 = msg_body_part_get_filename (got->next->data);

    g_assert_cmpstr (name0, ==, utf8_name);
    g_assert_cmpstr (name1, ==, long_name->str);
    g_list_free_full (got, g_object_unref);
  }
}

static void
test_tree (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GBytes) bytes = g_bytes_new_static ("PNG", 3);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgBodyPart) root = NULL;
  g_autoptr (MsgBodyPart) again = NULL;
  GList       *children;
  MsgBodyPart *attachment;

  g_test_summary ("A built message's tree: one wrapper per node while it lives, the children in "
                  "order, leaves that have and take no children.");

  msg_message_set_text_body (message, "text");
  attachment = msg_message_add_attachment_bytes (message, bytes, "i.png", "image/png", &error);
  g_assert_no_error (error);

  root = msg_message_get_body_part (message);
  again = msg_message_get_body_part (message);
  /* One wrapper per node while it lives. */
  g_assert_true (root == again);

  children = msg_body_part_get_body_parts (root);
  g_assert_cmpuint (g_list_length (children), ==, 2);
  g_assert_true (children->next->data == attachment);
  {
    g_autofree char *type = msg_body_part_get_content_media_type (children->data);
    g_autoptr (GBytes) content = msg_body_part_get_decoded_content (children->data, &error);

    g_assert_cmpstr (type, ==, "text/plain");
    g_assert_no_error (error);
    g_assert_cmpmem (g_bytes_get_data (content, NULL), g_bytes_get_size (content), "text", 4);
  }
  g_list_free_full (children, g_object_unref);

  /* Leaves have no children and take none. */
  g_assert_null (msg_body_part_get_body_parts (attachment));
  g_assert_null (msg_body_part_add_body_part (attachment, "text/plain", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED);
  g_clear_error (&error);
}

static void
test_add_body_part (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GBytes) bytes = g_bytes_new_static ("PNG", 3);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgBodyPart) root = NULL;
  g_autoptr (MsgBodyPart) child = NULL;
  g_autoptr (MsgBodyPart) nested = NULL;
  g_autoptr (MsgBodyPart) leaf = NULL;
  g_autoptr (GBytes) content = g_bytes_new_static ("Added by hand.\n", 15);
  g_autofree char *charset = NULL;
  g_autofree char *text = NULL;

  g_test_summary ("Parts added through the tree are written, and kept when a body property "
                  "changes.");

  msg_message_set_text_body (message, "text");
  g_assert_nonnull (msg_message_add_attachment_bytes (message, bytes, "i.png", "image/png", &error));
  root = msg_message_get_body_part (message);

  child = msg_body_part_add_body_part (root, "text/plain", &error);
  g_assert_no_error (error);
  charset = msg_body_part_get_charset (child);
  g_assert_cmpstr (charset, ==, "utf-8");
  g_assert_true (msg_body_part_set_content (child, content, &error));
  g_assert_true (msg_body_part_set_header (child, "Content-Description", "by hand", &error));
  g_assert_no_error (error);

  nested = msg_body_part_add_body_part (root, "multipart/alternative", &error);
  g_assert_no_error (error);
  leaf = msg_body_part_add_body_part (nested, "text/html", &error);
  g_assert_no_error (error);

  g_assert_null (msg_body_part_add_body_part (root, "text\r\nX: 1", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
  g_clear_error (&error);

  /* Changes through the tree are written... */
  text = to_string (message);
  g_assert_nonnull (strstr (text, "Added by hand.\r\n"));
  g_assert_nonnull (strstr (text, "Content-Description: by hand\r\n"));
  {
    g_autoptr (MsgMessage) parsed = reparse (message);
    g_autoptr (MsgBodyPart) parsed_root = msg_message_get_body_part (parsed);
    GList *children = msg_body_part_get_body_parts (parsed_root);

    g_assert_cmpuint (g_list_length (children), ==, 4);
    g_list_free_full (children, g_object_unref);
  }

  /* ... and kept when a body property changes: the tree is the caller's
   * now, edited in place (issue 15). */
  msg_message_set_text_body (message, "new text");
  g_clear_pointer (&text, g_free);
  text = to_string (message);
  g_assert_nonnull (strstr (text, "Added by hand."));
  g_assert_nonnull (strstr (text, "new text"));
  g_assert_null (strstr (text, "\r\ntext\r\n"));
}

static void
test_content (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  guint8 binary[256];
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) decoded = NULL;
  g_autoptr (GBytes) encoded = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *encoding = NULL;
  MsgBodyPart     *part;

  g_test_summary ("Decoded and encoded views of content: base64 in 76-character CRLF lines, new "
                  "content picks the encoding that fits, empty content, a parsed quoted-printable"
                  " part.");

  for (guint i = 0; i < sizeof binary; i++)
    binary[i] = (guint8) i;
  bytes = g_bytes_new (binary, sizeof binary);
  part = msg_message_add_attachment_bytes (message, bytes, "all.bin", NULL, &error);
  g_assert_no_error (error);

  encoding = msg_body_part_get_content_transfer_encoding (part);
  g_assert_cmpstr (encoding, ==, "base64");
  decoded = msg_body_part_get_decoded_content (part, &error);
  g_assert_no_error (error);
  g_assert_true (g_bytes_equal (decoded, bytes));

  /* Base64 in 76-character lines, CRLF line ends. */
  encoded = msg_body_part_get_encoded_content (part, &error);
  g_assert_no_error (error);
  {
    g_autofree char *b64 = g_base64_encode (binary, sizeof binary);
    GString         *lines = g_string_new (NULL);

    for (gsize i = 0; i < strlen (b64); i += 76)
      {
        g_string_append_len (lines, b64 + i, MIN (76, strlen (b64) - i));
        g_string_append (lines, "\r\n");
      }
    expected = g_string_free (lines, FALSE);
  }
  g_assert_cmpmem (g_bytes_get_data (encoded, NULL), g_bytes_get_size (encoded), expected, strlen (expected));

  /* New content picks the encoding that fits. */
  {
    g_autoptr (GBytes) text = g_bytes_new_static ("plain text\n", 11);
    g_autofree char *enc = NULL;
    g_autoptr (GBytes) got = NULL;

    g_assert_true (msg_body_part_set_content_media_type (part, "text/plain", &error));
    g_assert_true (msg_body_part_set_content (part, text, &error));
    enc = msg_body_part_get_content_transfer_encoding (part);
    g_assert_cmpstr (enc, ==, "7bit");
    got = msg_body_part_get_decoded_content (part, &error);
    g_assert_true (g_bytes_equal (got, text));
  }

  /* Empty content is content too. */
  {
    g_autoptr (GBytes) empty = g_bytes_new (NULL, 0);
    MsgBodyPart *empty_part = msg_message_add_attachment_bytes (message, empty, "empty.txt", "text/plain", &error);
    g_autoptr (GBytes) got = NULL;

    g_assert_no_error (error);
    got = msg_body_part_get_decoded_content (empty_part, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (g_bytes_get_size (got), ==, 0);
    g_assert_true (msg_body_part_set_content (empty_part, empty, &error));
    g_free (to_string (message));
  }

  /* A parsed quoted-printable part: encoded and decoded views. */
  {
    static const char raw[] =
        "From: a@example.com\r\n"
        "MIME-Version: 1.0\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: quoted-printable\r\n"
        "\r\n"
        "caf=C3=A9 =3D ok\r\n";
    g_autoptr (GBytes) input = g_bytes_new_static (raw, strlen (raw));
    g_autoptr (MsgMessage) parsed = msg_message_new_from_bytes (input, &error);
    g_autoptr (MsgBodyPart) root = msg_message_get_body_part (parsed);
    g_autoptr (GBytes) dec = msg_body_part_get_decoded_content (root, &error);
    g_autoptr (GBytes) enc = msg_body_part_get_encoded_content (root, &error);

    g_assert_no_error (error);
    g_assert_cmpmem (g_bytes_get_data (dec, NULL), g_bytes_get_size (dec), "caf\xc3\xa9 = ok\r\n", 12);
    g_assert_cmpmem (g_bytes_get_data (enc, NULL), g_bytes_get_size (enc), "caf=C3=A9 =3D ok\r\n", 18);
  }
}

static void
test_file_content (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "in.dat", NULL);
  g_autofree char *out = g_build_filename (dir, "out.dat", NULL);
  g_autofree char *contents = NULL;
  g_autoptr (GBytes) decoded = NULL;
  g_autoptr (GBytes) encoded = NULL;
  unsigned     fds;
  gsize        len;
  MsgBodyPart *part;

  g_test_summary ("A file attachment's content is read without leaving a descriptor open; "
                  "SaveToFile writes the decoded content atomically and keeps the old output when"
                  " the file is gone.");

  g_assert_true (g_file_set_contents (path, "file\0data", 9, NULL));
  fds = msg_test_count_fds ();
  part = msg_message_add_attachment (message, path, &error);
  g_assert_no_error (error);

  decoded = msg_body_part_get_decoded_content (part, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (decoded, NULL), g_bytes_get_size (decoded), "file\0data", 9);
  encoded = msg_body_part_get_encoded_content (part, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (g_bytes_get_data (encoded, NULL), g_bytes_get_size (encoded), "ZmlsZQBkYXRh\r\n", 14);
  /* Reading the content leaves no descriptor open. */
  g_assert_cmpuint (msg_test_count_fds (), ==, fds);

  /* CDO's SaveToFile: the decoded content, atomically. */
  g_assert_true (msg_body_part_save_to_file (part, out, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (out, &contents, &len, NULL));
  g_assert_cmpmem (contents, len, "file\0data", 9);
  g_assert_cmpuint (msg_test_count_fds (), ==, fds);

  /* The attachment gone: an error, the old output kept, no temp file. */
  g_assert_cmpint (g_unlink (path), ==, 0);
  g_assert_false (msg_body_part_save_to_file (part, out, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "in.dat"));
  g_clear_error (&error);
  g_clear_pointer (&contents, g_free);
  g_assert_true (g_file_get_contents (out, &contents, &len, NULL));
  g_assert_cmpmem (contents, len, "file\0data", 9);
  {
    g_autoptr (GDir) handle = g_dir_open (dir, 0, NULL);
    guint n = 0;

    while (g_dir_read_name (handle) != NULL)
      n++;
    g_assert_cmpuint (n, ==, 1);
  }
  g_assert_null (msg_body_part_get_decoded_content (part, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_cmpuint (msg_test_count_fds (), ==, fds);

  /* A multipart has nothing to save. */
  {
    g_autoptr (MsgBodyPart) root = NULL;

    msg_message_set_text_body (message, "x");
    root = msg_message_get_body_part (message);
    g_assert_false (msg_body_part_save_to_file (root, out, &error));
    g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_MULTIPART_NO_DATA);
    g_clear_error (&error);
  }

  msg_test_remove_tree (dir);
}

static void
test_headers (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GBytes) bytes = g_bytes_new_static ("x", 1);
  g_autoptr (GError) error = NULL;
  MsgBodyPart     *part;
  g_autofree char *value = NULL;
  g_autofree char *text = NULL;

  g_test_summary ("Part headers by plain or urn: name; headers the properties own go through "
                  "them; injection through header names or values is refused.");

  part = msg_message_add_attachment_bytes (message, bytes, "x.txt", "text/plain", &error);
  g_assert_true (msg_body_part_set_header (part, "X-Part", "Grüße", &error));
  g_assert_no_error (error);
  value = msg_body_part_get_header (part, "x-part");
  g_assert_cmpstr (value, ==, "Grüße");
  g_clear_pointer (&value, g_free);
  value = msg_body_part_get_header (part, "urn:schemas:mailheader:X-Part");
  g_assert_cmpstr (value, ==, "Grüße");
  g_clear_pointer (&value, g_free);

  /* Headers the properties own go through them. */
  g_assert_true (msg_body_part_set_header (part, "Content-ID", "<h@example.com>", &error));
  value = msg_body_part_get_content_id (part);
  g_assert_cmpstr (value, ==, "h@example.com");
  g_clear_pointer (&value, g_free);
  g_assert_true (msg_body_part_set_header (part, "Content-Transfer-Encoding", "base64", &error));
  value = msg_body_part_get_content_transfer_encoding (part);
  g_assert_cmpstr (value, ==, "base64");
  g_clear_pointer (&value, g_free);
  g_assert_false (msg_body_part_set_header (part, "Content-Type", "multipart/mixed", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
  g_clear_error (&error);
  g_assert_false (msg_body_part_set_header (part, "Content-Type", "not a type", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
  g_clear_error (&error);

  /* Injection through names and values. */
  static const char *const bad_names[] = { "X-A\r\nBcc", "Bad:Name", "Bad Name", "", "X-\xc3\xa9" };
  for (guint i = 0; i < G_N_ELEMENTS (bad_names); i++)
    {
      g_assert_false (msg_body_part_set_header (part, bad_names[i], "v", &error));
      g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
      g_assert_nonnull (strstr (error->message, "header name"));
      g_clear_error (&error);
    }
  static const char *const bad_values[] = { "v\r\nBcc: y@evil.example", "v\n", "v\r", "v\x01", "=?utf-8?q?v=0D=0AX:_evil?=" };
  for (guint i = 0; i < G_N_ELEMENTS (bad_values); i++)
    {
      g_assert_false (msg_body_part_set_header (part, "X-Part", bad_values[i], &error));
      g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
      g_assert_nonnull (strstr (error->message, "X-Part"));
      g_clear_error (&error);
    }

  g_assert_true (msg_body_part_set_header (part, "X-Part", NULL, &error));
  value = msg_body_part_get_header (part, "X-Part");
  g_assert_null (value);

  text = to_string (message);
  g_assert_null (strstr (text, "evil"));
  g_assert_null (strstr (text, "\r\nBcc"));
}

static void
test_parsed_tree (void)
{
  static const char raw[] =
      "From: a@example.com\r\n"
      "MIME-Version: 1.0\r\n"
      "Content-Type: multipart/mixed; boundary=b\r\n"
      "\r\n"
      "--b\r\n"
      "Content-Type: text/plain\r\n"
      "\r\n"
      "body\r\n"
      "--b\r\n"
      "Content-Type: message/rfc822\r\n"
      "\r\n"
      "From: inner@example.com\r\n"
      "Subject: inner\r\n"
      "\r\n"
      "inner body\r\n"
      "--b\r\n"
      "Content-Type: application/x-thing; name=\"t.bin\"\r\n"
      "Content-Transfer-Encoding: x-uuencode\r\n"
      "Content-Disposition: attachment; filename=\"t.bin\"\r\n"
      "\r\n"
      "begin 644 t.bin\r\n"
      "#86)C\r\n"
      "`\r\n"
      "end\r\n"
      "--b--\r\n";
  g_autoptr (GBytes) input = g_bytes_new_static (raw, strlen (raw));
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgMessage) message = msg_message_new_from_bytes (input, &error);
  g_autoptr (MsgBodyPart) root = NULL;
  GList *children;

  g_test_summary ("A parsed multipart: the message/rfc822 part decodes to the inner message, the "
                  "x-uuencode part to its data.");

  g_assert_no_error (error);
  root = msg_message_get_body_part (message);
  children = msg_body_part_get_body_parts (root);
  g_assert_cmpuint (g_list_length (children), ==, 3);
  {
    g_autofree char *type = msg_body_part_get_content_media_type (children->next->data);
    g_autoptr (GBytes) inner = msg_body_part_get_decoded_content (children->next->data, &error);
    g_autofree char *text = NULL;

    g_assert_cmpstr (type, ==, "message/rfc822");
    g_assert_no_error (error);
    text = g_strndup (g_bytes_get_data (inner, NULL), g_bytes_get_size (inner));
    g_assert_nonnull (strstr (text, "Subject: inner"));
  }
  {
    g_autoptr (GBytes) thing = msg_body_part_get_decoded_content (children->next->next->data, &error);
    g_autofree char *encoding = msg_body_part_get_content_transfer_encoding (children->next->next->data);

    g_assert_no_error (error);
    g_assert_cmpstr (encoding, ==, "x-uuencode");
    g_assert_cmpmem (g_bytes_get_data (thing, NULL), g_bytes_get_size (thing), "abc", 3);
  }
  g_list_free_full (children, g_object_unref);
}

/* Charsets */

static char *
decoded_bytes (MsgBodyPart *part)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = msg_body_part_get_decoded_content (part, &error);
  gsize       len = 0;
  const char *data;

  g_assert_no_error (error);
  data = g_bytes_get_data (bytes, &len);
  return g_strndup (data, len);
}

static void
assert_charset (MsgBodyPart *part,
                const char  *expected)
{
  g_autofree char *charset = msg_body_part_get_charset (part);

  g_assert_cmpstr (charset, ==, expected);
}

static void
test_charset_convert (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgBodyPart) text = NULL;
  g_autoptr (MsgBodyPart) html = NULL;
  g_autoptr (MsgBodyPart) attachment = NULL;
  g_autoptr (MsgMessage) parsed = NULL;
  g_autoptr (GBytes) bytes = g_bytes_new_static ("na\xc3\xafve \xe2\x82\xac", 10);
  g_autoptr (GError) error = NULL;
  g_autofree char *written = NULL;
  g_autofree char *got = NULL;

  g_test_summary ("Setting a text part's charset converts its content (text body, HTML body, text"
                  " attachment from bytes): the written bytes are in that charset and read back as"
                  " the same UTF-8 text; the charset survives a rebuild of the tree.");

  msg_message_set_text_body (message, "caf\xc3\xa9");
  msg_message_set_html_body (message, "<p>\xe2\x82\xac 5</p>");
  msg_message_set_text_body (message, "caf\xc3\xa9");
  text = msg_message_get_text_body_part (message);
  html = msg_message_get_html_body_part (message);
  g_assert_nonnull (text);
  g_assert_nonnull (html);

  g_assert_true (msg_body_part_set_charset (text, "iso-8859-1", &error));
  g_assert_no_error (error);
  assert_charset (text, "iso-8859-1");
  got = decoded_bytes (text);
  g_assert_cmpstr (got, ==, "caf\xe9");
  g_clear_pointer (&got, g_free);
  got = msg_body_part_get_text (text, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (got, ==, "caf\xc3\xa9");
  g_clear_pointer (&got, g_free);

  g_assert_true (msg_body_part_set_charset (html, "windows-1252", &error));
  g_assert_no_error (error);
  got = decoded_bytes (html);
  g_assert_cmpstr (got, ==, "<p>\x80 5</p>");
  g_clear_pointer (&got, g_free);

  attachment = g_object_ref (msg_message_add_attachment_bytes (message, bytes, "n.txt", "text/plain", &error));
  g_assert_no_error (error);
  g_assert_true (msg_body_part_set_charset (attachment, "iso-8859-15", &error));
  g_assert_no_error (error);
  got = decoded_bytes (attachment);
  g_assert_cmpstr (got, ==, "na\xefve \xa4");
  g_clear_pointer (&got, g_free);

  /* Adding the attachment rebuilt the tree: the bodies kept their charset. */
  written = to_string (message);
  g_assert_nonnull (strstr (written, "text/plain; charset=iso-8859-1"));
  g_assert_nonnull (strstr (written, "text/html; charset=windows-1252"));
  g_assert_null (strstr (written, "caf\xc3\xa9"));

  parsed = reparse (message);
  got = msg_message_get_text_body (parsed);
  g_assert_cmpstr (got, ==, "caf\xc3\xa9");
  g_clear_pointer (&got, g_free);
  got = msg_message_get_html_body (parsed);
  g_assert_cmpstr (got, ==, "<p>\xe2\x82\xac 5</p>");
  g_clear_pointer (&got, g_free);
  {
    g_autoptr (MsgBodyPart) back = first_attachment (parsed);

    assert_charset (back, "iso-8859-15");
    got = msg_body_part_get_text (back, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (got, ==, "na\xc3\xafve \xe2\x82\xac");
    g_clear_pointer (&got, g_free);
  }

  /* Back to UTF-8 converts again; set_text writes in the part's charset. */
  g_assert_true (msg_body_part_set_charset (text, "utf-8", &error));
  got = decoded_bytes (text);
  g_assert_cmpstr (got, ==, "caf\xc3\xa9");
  g_clear_pointer (&got, g_free);
  g_assert_true (msg_body_part_set_charset (text, "iso-8859-1", &error));
  g_assert_true (msg_body_part_set_text (text, "d\xc3\xa9j\xc3\xa0", &error));
  g_assert_no_error (error);
  got = decoded_bytes (text);
  g_assert_cmpstr (got, ==, "d\xe9j\xe0");
}

static void
test_charset_errors_subprocess (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgBodyPart) text = NULL;
  g_autoptr (GError) error = NULL;

  g_log_set_always_fatal (G_LOG_FATAL_MASK);
  msg_message_set_text_body (message, "abc");
  text = msg_message_get_text_body_part (message);
  g_assert_true (msg_body_part_set_charset (text, "iso-8859-1", &error));
  g_clear_object (&text);
  msg_message_set_text_body (message, "\xe2\x82\xac");
  text = msg_message_get_text_body_part (message);
  assert_charset (text, "utf-8");
}

static void
test_charset_errors (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgBodyPart) text = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "notes.txt", NULL);
  g_autofree char *got = NULL;
  MsgBodyPart     *file_part;

  g_test_summary ("A character the charset cannot hold, or an unknown charset, is a CHARSET error"
                  " naming it, and the part is unchanged; a body changed later to text its charset"
                  " cannot hold is written in UTF-8 with a warning; a file attachment is relabelled"
                  " (its bytes are the file's).");

  msg_message_set_text_body (message, "price: 5 \xe2\x82\xac, \xe6\x97\xa5\xe6\x9c\xac");
  text = msg_message_get_text_body_part (message);

  g_assert_false (msg_body_part_set_charset (text, "iso-8859-1", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_CHARSET);
  g_assert_nonnull (strstr (error->message, "\xe2\x82\xac"));
  g_assert_nonnull (strstr (error->message, "U+20AC"));
  g_assert_nonnull (strstr (error->message, "iso-8859-1"));
  g_clear_error (&error);
  assert_charset (text, "utf-8");
  got = decoded_bytes (text);
  g_assert_cmpstr (got, ==, "price: 5 \xe2\x82\xac, \xe6\x97\xa5\xe6\x9c\xac");
  g_clear_pointer (&got, g_free);

  g_assert_false (msg_body_part_set_charset (text, "iso-8859-15", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_CHARSET);
  g_assert_nonnull (strstr (error->message, "U+65E5"));
  g_clear_error (&error);

  g_assert_false (msg_body_part_set_charset (text, "x-no-such-charset", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_CHARSET);
  g_assert_nonnull (strstr (error->message, "x-no-such-charset"));
  g_clear_error (&error);
  assert_charset (text, "utf-8");

  g_assert_true (msg_body_part_set_charset (text, "iso-2022-jp", &error) == FALSE);
  g_clear_error (&error);
  g_assert_true (msg_body_part_set_charset (text, "gb18030", &error));
  g_assert_no_error (error);
  g_clear_object (&text);

  /* A later body the kept charset holds is written in it; one it cannot
   * hold falls back to UTF-8, with a warning. */
  msg_message_set_text_body (message, "\xe4\xb8\xad\xe6\x96\x87");
  text = msg_message_get_text_body_part (message);
  assert_charset (text, "gb18030");
  got = decoded_bytes (text);
  g_assert_cmpstr (got, ==, "\xd6\xd0\xce\xc4");
  g_clear_pointer (&got, g_free);
  g_assert_true (msg_body_part_set_charset (text, "us-ascii", &error) == FALSE);
  g_clear_error (&error);
  g_assert_true (msg_body_part_set_charset (text, "iso-8859-1", &error) == FALSE);
  g_clear_error (&error);
  g_clear_object (&text);
  g_test_trap_subprocess ("/body-part/charset/errors/subprocess", 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
  g_test_trap_assert_stderr ("*The plain body is written in UTF-8 instead of its charset*U+20AC*iso-8859-1*");

  /* A file attachment is sent as the file holds it. */
  g_assert_true (g_file_set_contents (path, "caf\xc3\xa9\n", -1, &error));
  file_part = msg_message_add_attachment (message, path, &error);
  g_assert_no_error (error);
  g_assert_true (msg_body_part_set_charset (file_part, "iso-8859-1", &error));
  g_assert_no_error (error);
  got = decoded_bytes (file_part);
  g_assert_cmpstr (got, ==, "caf\xc3\xa9\n");
  assert_charset (file_part, "iso-8859-1");

  /* Not text. */
  {
    g_autoptr (GBytes) bytes = g_bytes_new_static ("\x89PNG", 4);
    MsgBodyPart     *image = msg_message_add_attachment_bytes (message, bytes, "i.png", "image/png", &error);
    g_autofree char *none = NULL;

    g_assert_no_error (error);
    none = msg_body_part_get_text (image, &error);
    g_assert_null (none);
    g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED);
    g_assert_nonnull (strstr (error->message, "image/png"));
    g_clear_error (&error);
  }
  msg_test_remove_tree (dir);
}

static const char charset_message[] =
    "From: a@example.com\r\n"
    "To: b@example.com\r\n"
    "Subject: charsets\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
    "\r\n"
    "--b1\r\n"
    "Content-Type: multipart/alternative; boundary=\"b2\"\r\n"
    "\r\n"
    "--b2\r\n"
    "Content-Type: text/plain; charset=iso-8859-1\r\n"
    "Content-Transfer-Encoding: quoted-printable\r\n"
    "\r\n"
    "caf=E9\r\n"
    "--b2\r\n"
    "Content-Type: text/html; charset=iso-2022-jp\r\n"
    "Content-Transfer-Encoding: 7bit\r\n"
    "\r\n"
    "\x1b$BF|K\\\x1b(B\r\n"
    "--b2--\r\n"
    "--b1\r\n"
    "Content-Type: text/plain; charset=koi8-r\r\n"
    "Content-Disposition: attachment; filename=\"r.txt\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "0NLJ18XU\r\n"
    "--b1--\r\n";

static void
test_charset_parsed (void)
{
  g_autoptr (GBytes) bytes = g_bytes_new_static (charset_message, sizeof charset_message - 1);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgMessage) message = msg_message_new_from_bytes (bytes, &error);
  g_autoptr (MsgBodyPart) attachment = NULL;
  g_autoptr (MsgBodyPart) text = NULL;
  g_autofree char *got = NULL;

  g_test_summary ("Parsed text parts read as UTF-8 whatever their charset (iso-8859-1, iso-2022-jp,"
                  " koi8-r), and converting a parsed part writes the new charset.");

  g_assert_no_error (error);
  got = msg_message_get_text_body (message);
  g_assert_cmpstr (got, ==, "caf\xc3\xa9");
  g_clear_pointer (&got, g_free);
  got = msg_message_get_html_body (message);
  g_assert_cmpstr (got, ==, "\xe6\x97\xa5\xe6\x9c\xac");
  g_clear_pointer (&got, g_free);

  attachment = first_attachment (message);
  got = msg_body_part_get_text (attachment, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (got, ==, "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82");
  g_clear_pointer (&got, g_free);

  text = msg_message_get_text_body_part (message);
  g_assert_true (msg_body_part_set_charset (text, "utf-8", &error));
  g_assert_no_error (error);
  got = decoded_bytes (text);
  g_assert_cmpstr (got, ==, "caf\xc3\xa9");
}

static void
test_to_bytes (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GBytes) bytes = g_bytes_new_static ("line one\nline two\n", 18);
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "data.bin", NULL);
  g_autofree char *written = NULL;
  g_autoptr (MsgBodyPart) root = NULL;
  MsgBodyPart *attachment;
  MsgBodyPart *file_part;

  g_test_summary ("A part's own stream (CDO GetStream) is its headers and encoded content exactly"
                  " as written in the message, with CRLF; the root's is the tail of the message;"
                  " a missing file is an error.");

  msg_message_set_text_body (message, "body");
  attachment = msg_message_add_attachment_bytes (message, bytes, "notes.txt", "text/plain", &error);
  g_assert_true (g_file_set_contents (path, "\x01\x02\x03", 3, &error));
  file_part = msg_message_add_attachment (message, path, &error);
  g_assert_no_error (error);
  written = to_string (message);

  {
    g_autoptr (GBytes) part = msg_body_part_to_bytes (attachment, &error);
    g_autofree char *text = NULL;
    gsize            len;

    g_assert_no_error (error);
    text = g_strndup (g_bytes_get_data (part, &len), g_bytes_get_size (part));
    g_assert_true (g_str_has_prefix (text, "Content-Type: text/plain"));
    g_assert_nonnull (strstr (text, "\r\n\r\nline one\r\nline two\r\n"));
    g_assert_nonnull (strstr (written, text));
  }
  {
    g_autoptr (GBytes) part = msg_body_part_to_bytes (file_part, &error);
    g_autofree char *text = g_strndup (g_bytes_get_data (part, NULL), g_bytes_get_size (part));

    g_assert_no_error (error);
    g_assert_nonnull (strstr (text, "AQID"));
    g_assert_nonnull (strstr (written, text));
  }
  {
    g_autoptr (GBytes) part = NULL;
    g_autofree char *text = NULL;

    root = msg_message_get_body_part (message);
    part = msg_body_part_to_bytes (root, &error);
    g_assert_no_error (error);
    text = g_strndup (g_bytes_get_data (part, NULL), g_bytes_get_size (part));
    g_assert_true (g_str_has_prefix (text, "Content-Type: multipart/mixed"));
    g_assert_true (g_str_has_suffix (written, text));
  }

  g_assert_cmpint (g_unlink (path), ==, 0);
  {
    g_autoptr (GBytes) part = msg_body_part_to_bytes (file_part, &error);

    g_assert_null (part);
    g_assert_nonnull (error);
    g_assert_nonnull (strstr (error->message, "data.bin"));
  }
  msg_test_remove_tree (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/body-part/standalone", test_standalone);
  g_test_add_func ("/body-part/properties", test_properties);
  g_test_add_func ("/body-part/invalid-values", test_invalid_values);
  g_test_add_func ("/body-part/gobject-invalid", test_gobject_invalid);
  g_test_add_func ("/body-part/gobject-invalid/subprocess", test_gobject_invalid_subprocess);
  g_test_add_func ("/body-part/filenames", test_filenames);
  g_test_add_func ("/body-part/tree", test_tree);
  g_test_add_func ("/body-part/add-body-part", test_add_body_part);
  g_test_add_func ("/body-part/content", test_content);
  g_test_add_func ("/body-part/file-content", test_file_content);
  g_test_add_func ("/body-part/headers", test_headers);
  g_test_add_func ("/body-part/parsed-tree", test_parsed_tree);
  g_test_add_func ("/body-part/charset/convert", test_charset_convert);
  g_test_add_func ("/body-part/charset/errors", test_charset_errors);
  g_test_add_func ("/body-part/charset/errors/subprocess", test_charset_errors_subprocess);
  g_test_add_func ("/body-part/charset/parsed", test_charset_parsed);
  g_test_add_func ("/body-part/to-bytes", test_to_bytes);

  return g_test_run ();
}
