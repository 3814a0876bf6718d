/* test-message-utils.c: helpers shared by the MsgMessage suites
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-message-utils.h"

#include <string.h>

MsgMessage *
make_message (void)
{
  g_autoptr (GError) error = NULL;
  MsgMessage *message = msg_message_new ();

  msg_message_set_from (message, "Ann Example <ann@example.com>", &error);
  g_assert_no_error (error);
  msg_message_set_to (message, "bob@example.org", &error);
  g_assert_no_error (error);
  msg_message_set_subject (message, "Hello", &error);
  g_assert_no_error (error);
  return message;
}

/* Every line ends with CRLF (no lone CR or LF) and holds at most 998
 * octets. */
void
assert_wire_format (const char *data,
                    gsize       len)
{
  gsize line = 0;

  for (gsize i = 0; i < len; i++)
    {
      if (data[i] == '\r')
        {
          g_assert_true (i + 1 < len && data[i + 1] == '\n');
          continue;
        }
      if (data[i] == '\n')
        {
          g_assert_true (i > 0 && data[i - 1] == '\r');
          g_assert_cmpuint (line, <=, 998);
          line = 0;
          continue;
        }
      line++;
    }
  g_assert_cmpuint (line, <=, 998);
}

/* The message as a string, checked for CRLF and line lengths. */
char *
write_message (MsgMessage   *message,
               MsgWriteFlags flags)
{
  g_autoptr (GOutputStream) mem = g_memory_output_stream_new_resizable ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  gsize       len;
  const char *data;

  g_assert_true (msg_message_write_to_stream_full (message, mem, flags, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_output_stream_close (mem, NULL, NULL));
  bytes = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (mem));
  data = g_bytes_get_data (bytes, &len);
  g_assert_null (memchr (data, '\0', len));
  assert_wire_format (data, len);
  return g_strndup (data, len);
}

char *
to_string (MsgMessage *message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = msg_message_to_bytes (message, &error);
  g_autofree char *streamed = NULL;
  gsize            len;
  const char      *data;

  g_assert_no_error (error);
  g_assert_nonnull (bytes);
  data = g_bytes_get_data (bytes, &len);
  g_assert_null (memchr (data, '\0', len));
  assert_wire_format (data, len);

  /* to_bytes() and write_to_stream() give the same bytes. */
  streamed = write_message (message, MSG_WRITE_FLAGS_NONE);
  g_assert_cmpmem (streamed, strlen (streamed), data, len);
  return g_steal_pointer (&streamed);
}

/* The header block of @text, up to and including its last CRLF. */
char *
header_block (const char *text)
{
  const char *end = strstr (text, "\r\n\r\n");

  g_assert_nonnull (end);
  return g_strndup (text, end - text + 2);
}

/* The unfolded value of the first header @name in the header block of
 * @text, or NULL. */
char *
find_header (const char *text,
             const char *name)
{
  g_autofree char *headers = header_block (text);
  gsize            name_len = strlen (name);

  for (const char *line = headers; *line != '\0';)
    {
      const char *eol = strstr (line, "\r\n");

      if (g_ascii_strncasecmp (line, name, name_len) == 0 && line[name_len] == ':')
        {
          GString *value = g_string_new_len (line + name_len + 1, eol - line - name_len - 1);

          for (line = eol + 2; *line == ' ' || *line == '\t'; line = eol + 2)
            {
              eol = strstr (line, "\r\n");
              g_string_append_len (value, line, eol - line);
            }
          return g_strstrip (g_string_free (value, FALSE));
        }
      line = eol + 2;
    }

  return NULL;
}

/* Whether a line of the header block of @text starts with @name: . */
gboolean
has_header_line (const char *text,
                 const char *name)
{
  g_autofree char *value = find_header (text, name);

  return value != NULL;
}

MsgMessage *
parse_string (const char *text)
{
  g_autoptr (GBytes) bytes = g_bytes_new (text, strlen (text));
  g_autoptr (GError) error = NULL;
  MsgMessage *message = msg_message_new_from_bytes (bytes, &error);

  g_assert_no_error (error);
  g_assert_nonnull (message);
  return message;
}

/* A compact description of a MIME tree: "multipart/mixed(text/plain,
 * image/png)". */
void
describe_part (MsgBodyPart *part,
               GString     *out)
{
  g_autofree char *type = msg_body_part_get_content_media_type (part);
  GList           *children = msg_body_part_get_body_parts (part);

  g_string_append (out, type);
  if (g_str_has_prefix (type, "multipart/"))
    {
      g_string_append_c (out, '(');
      for (GList *l = children; l != NULL; l = l->next)
        {
          describe_part (l->data, out);
          if (l->next != NULL)
            g_string_append_c (out, ',');
        }
      g_string_append_c (out, ')');
    }
  else
    g_assert_null (children);
  g_list_free_full (children, g_object_unref);
}

char *
describe_tree (MsgMessage *message)
{
  g_autoptr (MsgBodyPart) root = msg_message_get_body_part (message);
  GString *out = g_string_new (NULL);

  describe_part (root, out);
  return g_string_free (out, FALSE);
}

/* The structure of @message as written, read back by the parser. */
char *
describe_written (MsgMessage *message)
{
  g_autofree char *text = to_string (message);
  g_autoptr (MsgMessage) parsed = parse_string (text);

  return describe_tree (parsed);
}

char *
decoded_string (MsgBodyPart *part)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = msg_body_part_get_decoded_content (part, &error);
  gsize       len;
  const char *data;

  g_assert_no_error (error);
  data = g_bytes_get_data (bytes, &len);
  return g_strndup (data, len);
}

char *
write_temp_file (const char *dir,
                 const char *name,
                 const char *contents,
                 gssize      len)
{
  g_autoptr (GError) error = NULL;
  char *path = g_build_filename (dir, name, NULL);

  g_file_set_contents (path, contents, len, &error);
  g_assert_no_error (error);
  return path;
}

guint
count_lines_starting (const char *text,
                      const char *prefix)
{
  guint n = 0;

  if (g_str_has_prefix (text, prefix))
    n++;
  for (const char *p = strstr (text, "\r\n"); p != NULL; p = strstr (p + 2, "\r\n"))
    if (g_str_has_prefix (p + 2, prefix))
      n++;
  return n;
}

const char multipart_message[] =
    "From: ann@example.com\r\n"
    "To: bob@example.org\r\n"
    "Subject: Parts\r\n"
    "MIME-Version: 1.0\r\n"
    "Content-Type: multipart/mixed; boundary=\"outer\"\r\n"
    "\r\n"
    "This is a multi-part message in MIME format.\r\n"
    "--outer\r\n"
    "Content-Type: multipart/alternative; boundary=\"inner\"\r\n"
    "\r\n"
    "--inner\r\n"
    "Content-Type: text/plain; charset=utf-8\r\n"
    "\r\n"
    "Plain text\r\n"
    "--inner\r\n"
    "Content-Type: text/html; charset=utf-8\r\n"
    "\r\n"
    "<p>HTML text</p>\r\n"
    "--inner--\r\n"
    "--outer\r\n"
    "Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
    "Content-Disposition: attachment; filename=\"data.bin\"\r\n"
    "Content-Transfer-Encoding: base64\r\n"
    "\r\n"
    "AAECAwQ=\r\n"
    "--outer\r\n"
    "Content-Type: message/rfc822\r\n"
    "Content-Disposition: attachment\r\n"
    "\r\n"
    "From: inner@example.com\r\n"
    "Subject: Inner\r\n"
    "\r\n"
    "Inner body\r\n"
    "--outer--\r\n";
