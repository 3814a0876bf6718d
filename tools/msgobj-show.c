/* msgobj-show.c: the msgobj command: show
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msgobj-tool.h"

#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void
print_tree (MsgBodyPart *part,
            int          depth)
{
  g_autofree char *type = msg_body_part_get_content_media_type (part);
  g_autofree char *charset = msg_body_part_get_charset (part);
  g_autofree char *encoding = msg_body_part_get_content_transfer_encoding (part);
  g_autofree char *filename = msg_body_part_get_filename (part);
  g_autofree char *disposition = msg_body_part_get_content_disposition (part);
  GList           *children = msg_body_part_get_body_parts (part);
  GString         *line = g_string_new (NULL);

  g_string_append_printf (line, "%*s%s", depth * 2, "", type != NULL ? type : "text/plain");
  if (charset != NULL)
    g_string_append_printf (line, "; charset=%s", charset);
  if (encoding != NULL)
    g_string_append_printf (line, " (%s)", encoding);
  if (disposition != NULL)
    g_string_append_printf (line, " %s", disposition);
  if (filename != NULL)
    g_string_append_printf (line, " “%s”", filename);
  /* Everything but the indentation came from the message. */
  if (children == NULL)
    {
      g_autoptr (GBytes) content = msg_body_part_get_decoded_content (part, NULL);

      if (content != NULL)
        g_string_append_printf (line, ", %" G_GSIZE_FORMAT " bytes", g_bytes_get_size (content));
    }
  {
    g_autofree char *shown = escape_controls (line->str);

    g_print ("%s\n", shown);
  }
  g_string_free (line, TRUE);

  for (GList *l = children; l != NULL; l = l->next)
    print_tree (l->data, depth + 1);
  g_list_free_full (children, g_object_unref);
}

/* @text as a JSON string: quotes, backslashes and every control character
 * (C0, DEL, C1) escaped, bytes that are not UTF-8 as U+FFFD. */
static void
append_json_string (GString    *out,
                    const char *text)
{
  g_autofree char *valid = g_utf8_make_valid (text != NULL ? text : "", -1);

  g_string_append_c (out, '"');
  for (const char *p = valid; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c == '"' || c == '\\')
        g_string_append_printf (out, "\\%c", (char) c);
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\r')
        g_string_append (out, "\\r");
      else if (c == '\t')
        g_string_append (out, "\\t");
      else if (c < 0x20 || (c >= 0x7f && c < 0xa0))
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_len (out, p, g_utf8_next_char (p) - p);
    }
  g_string_append_c (out, '"');
}

static void
append_json_member (GString    *out,
                    const char *name,
                    const char *value)
{
  if (value == NULL)
    return;
  g_string_append_c (out, ',');
  append_json_string (out, name);
  g_string_append_c (out, ':');
  append_json_string (out, value);
}

static void
append_json_part (GString     *out,
                  MsgBodyPart *part)
{
  g_autofree char *type = msg_body_part_get_content_media_type (part);
  g_autofree char *charset = msg_body_part_get_charset (part);
  g_autofree char *encoding = msg_body_part_get_content_transfer_encoding (part);
  g_autofree char *filename = msg_body_part_get_filename (part);
  g_autofree char *disposition = msg_body_part_get_content_disposition (part);
  g_autofree char *content_id = msg_body_part_get_content_id (part);
  GList           *children = msg_body_part_get_body_parts (part);

  g_string_append (out, "{\"type\":");
  append_json_string (out, type != NULL ? type : "text/plain");
  append_json_member (out, "charset", charset);
  append_json_member (out, "encoding", encoding);
  append_json_member (out, "disposition", disposition);
  append_json_member (out, "filename", filename);
  append_json_member (out, "content_id", content_id);
  if (children == NULL)
    {
      g_autoptr (GBytes) content = msg_body_part_get_decoded_content (part, NULL);

      if (content != NULL)
        g_string_append_printf (out, ",\"size\":%" G_GSIZE_FORMAT, g_bytes_get_size (content));
    }
  else
    {
      g_string_append (out, ",\"parts\":[");
      for (GList *l = children; l != NULL; l = l->next)
        {
          append_json_part (out, l->data);
          if (l->next != NULL)
            g_string_append_c (out, ',');
        }
      g_string_append_c (out, ']');
    }
  g_string_append_c (out, '}');
  g_list_free_full (children, g_object_unref);
}

/* {"headers":[[name,value]…],"body":{part}}: every header in order
 * (names repeat), values decoded. */
/* "signatures": one object per signature of a signed message; nothing
 * for a message that is not signed. */
static void
append_json_signatures (GString    *out,
                        MsgMessage *message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GEnumClass) klass = g_type_class_ref (MSG_TYPE_SIGNATURE_STATUS);
  GList *signatures = msg_message_verify (message, NULL, &error);

  if (g_error_matches (error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NOT_SIGNED))
    return;
  g_string_append (out, ",\"signatures\":[");
  for (GList *l = signatures; l != NULL; l = l->next)
    {
      MsgSignature *signature = l->data;
      GEnumValue   *value = g_enum_get_value (klass, msg_signature_get_status (signature));

      g_string_append (out, l != signatures ? ",{\"status\":" : "{\"status\":");
      append_json_string (out, value->value_nick);
      g_string_append (out, ",\"user_id\":");
      append_json_string (out, msg_signature_get_user_id (signature));
      g_string_append (out, ",\"address\":");
      append_json_string (out, msg_signature_get_address (signature));
      g_string_append (out, ",\"fingerprint\":");
      append_json_string (out, msg_signature_get_fingerprint (signature));
      g_string_append_printf (out, ",\"created\":%" G_GINT64_FORMAT "}", msg_signature_get_created (signature));
    }
  g_string_append_c (out, ']');
  if (error != NULL)
    {
      g_string_append (out, ",\"signatures_error\":");
      append_json_string (out, error->message);
    }
  g_list_free_full (signatures, g_object_unref);
}

static void
print_json (MsgMessage *message)
{
  g_autoptr (GString) out = g_string_new ("{\"headers\":[");
  g_autoptr (MsgBodyPart) root = msg_message_get_body_part (message);
  guint count = msg_message_get_field_count (message);

  for (guint i = 0; i < count; i++)
    {
      g_autofree char *name = NULL;
      g_autofree char *value = NULL;

      if (!msg_message_get_field_at (message, i, &name, &value))
        break;
      g_string_append (out, i > 0 ? ",[" : "[");
      append_json_string (out, name);
      g_string_append_c (out, ',');
      append_json_string (out, value);
      g_string_append_c (out, ']');
    }
  g_string_append (out, "],\"body\":");
  if (root != NULL)
    append_json_part (out, root);
  else
    g_string_append (out, "null");
  append_json_signatures (out, message);
  g_string_append (out, "}\n");
  fwrite (out->str, 1, out->len, stdout);
}

/* A file name for an attachment that stays inside the directory: its last
 * path component, controls and separators replaced, no leading dot. */
static char *
safe_name (const char *filename,
           guint       index)
{
  g_autofree char *valid = g_utf8_make_valid (filename != NULL ? filename : "", -1);
  const char      *base = valid;
  GString         *name = g_string_new (NULL);

  for (const char *p = valid; *p != '\0'; p++)
    if (*p == '/' || *p == '\\')
      base = p + 1;
  while (*base == '.' || *base == ' ')
    base++;
  for (const char *p = base; *p != '\0' && name->len < 200; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c < 0x20 || (c >= 0x7f && c < 0xa0) || c == ':')
        g_string_append_c (name, '_');
      else
        g_string_append_len (name, p, g_utf8_next_char (p) - p);
    }
  if (name->len == 0)
    g_string_printf (name, "attachment-%u", index + 1);
  return g_string_free (name, FALSE);
}

/* @dir/@name, or @dir/NAME-2.EXT… if that exists (a link included). */
static char *
unused_path (const char *dir,
             const char *name)
{
  const char      *dot = strrchr (name, '.');
  g_autofree char *stem = dot != NULL && dot != name ? g_strndup (name, dot - name) : g_strdup (name);
  const char      *ext = dot != NULL && dot != name ? dot : "";
  char            *path = g_build_filename (dir, name, NULL);
  GStatBuf         st;

  for (guint n = 2; g_lstat (path, &st) == 0; n++)
    {
      g_autofree char *numbered = g_strdup_printf ("%s-%u%s", stem, n, ext);

      g_free (path);
      path = g_build_filename (dir, numbered, NULL);
    }
  return path;
}

static gboolean
save_attachments (MsgMessage *message,
                  const char *dir,
                  GError    **error)
{
  GList   *attachments = msg_message_get_attachments (message);
  gboolean ok = TRUE;
  guint    index = 0;

  if (!g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY, "--attachments: “%s” is not a directory", dir);
      ok = FALSE;
    }
  for (GList *l = attachments; ok && l != NULL; l = l->next, index++)
    {
      g_autofree char *filename = msg_body_part_get_filename (l->data);
      g_autofree char *name = safe_name (filename, index);
      g_autofree char *path = unused_path (dir, name);
      g_autofree char *shown = NULL;

      ok = msg_body_part_save_to_file (l->data, path, error);
      if (ok && !opts.quiet)
        {
          shown = escape_controls (path);
          g_print ("%s\n", shown);
        }
    }
  g_list_free_full (attachments, g_object_unref);
  return ok;
}

/* The message as it is; on a terminal, its control characters escaped. */
static int
print_raw (const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize            length;

  if (!g_file_get_contents (path, &contents, &length, &error))
    return fail (error);
  if (isatty (STDOUT_FILENO))
    {
      g_auto (GStrv) lines = g_strsplit (contents, "\n", -1);

      for (guint i = 0; lines[i] != NULL; i++)
        {
          g_autofree char *shown = NULL;
          gsize            len = strlen (lines[i]);

          if (len > 0 && lines[i][len - 1] == '\r')
            lines[i][len - 1] = '\0';
          shown = escape_controls (lines[i]);
          g_print (lines[i + 1] != NULL ? "%s\n" : "%s", shown);
        }
    }
  else if (fwrite (contents, 1, length, stdout) != length)
    {
      g_printerr ("msgobj: cannot write: %s\n", g_strerror (errno));
      return EXIT_FAILED;
    }
  return EXIT_OK;
}

/* A "Signature:" line for each signature of a signed message. */
static void
print_signatures (MsgMessage *message)
{
  g_autoptr (GError) error = NULL;
  GList *signatures = msg_message_verify (message, NULL, &error);

  if (error != NULL && !g_error_matches (error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NOT_SIGNED))
    {
      g_autofree char *shown = escape_controls (error->message);

      g_print ("Signature: not checked: %s\n", shown);
    }
  for (GList *l = signatures; l != NULL; l = l->next)
    {
      MsgSignature *signature = l->data;
      g_autoptr (GEnumClass) klass = g_type_class_ref (MSG_TYPE_SIGNATURE_STATUS);
      GEnumValue      *value = g_enum_get_value (klass, msg_signature_get_status (signature));
      const char      *status = value->value_nick;
      g_autofree char *user_id = escape_controls (msg_signature_get_user_id (signature));
      g_autoptr (GDateTime) created = g_date_time_new_from_unix_utc (msg_signature_get_created (signature));
      g_autofree char *when = created != NULL ? g_date_time_format_iso8601 (created) : g_strdup ("?");

      g_print ("Signature: %s%s%s, key %s, made %s\n", status, user_id[0] != '\0' ? " by " : "", user_id,
               msg_signature_get_fingerprint (signature), when);
    }
  g_list_free_full (signatures, g_object_unref);
}

int
command_show (const char *path)
{
  static const char *const headers[] = {
    "From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Newsgroups", "Followup-To",
    "Subject", "Date", "Message-ID", NULL
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgMessage) message = NULL;
  g_autoptr (MsgBodyPart) root = NULL;

  if (opts.raw && (opts.json || opts.attachments_dir != NULL))
    {
      g_printerr ("msgobj: --raw cannot be combined with --json or --attachments\n");
      return EXIT_USAGE;
    }
  if (opts.raw)
    return print_raw (path);
  message = msg_message_new_from_file (path, &error);
  if (message == NULL)
    {
      print_error (error->message);
      return error->domain == MSG_MESSAGE_ERROR ? EXIT_INVALID : EXIT_FAILED;
    }
  if (opts.attachments_dir != NULL)
    {
      /* Like an unreadable FILE, a file that cannot be written is exit 1. */
      if (!save_attachments (message, opts.attachments_dir, &error))
        {
          print_error (error->message);
          return EXIT_FAILED;
        }
      return EXIT_OK;
    }
  if (opts.json)
    {
      print_json (message);
      return EXIT_OK;
    }

  for (guint i = 0; headers[i] != NULL; i++)
    {
      g_autofree char *value = msg_message_get_header (message, headers[i]);

      if (value != NULL)
        {
          g_autofree char *shown = escape_controls (value);

          g_print ("%s: %s\n", headers[i], shown);
        }
    }
  print_signatures (message);
  g_print ("\n");
  root = msg_message_get_body_part (message);
  if (root != NULL)
    print_tree (root, 0);
  return EXIT_OK;
}
