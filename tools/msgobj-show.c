/* msgobj-show.c: the msgobj command: show
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msgobj-tool.h"

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

int
command_show (const char *path)
{
  static const char *const headers[] = {
    "From", "Sender", "Reply-To", "To", "Cc", "Bcc", "Newsgroups", "Followup-To",
    "Subject", "Date", "Message-ID", NULL
  };
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgMessage) message = msg_message_new_from_file (path, &error);
  g_autoptr (MsgBodyPart) root = NULL;

  if (message == NULL)
    {
      print_error (error->message);
      return error->domain == MSG_MESSAGE_ERROR ? EXIT_INVALID : EXIT_FAILED;
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
  g_print ("\n");
  root = msg_message_get_body_part (message);
  if (root != NULL)
    print_tree (root, 0);
  return EXIT_OK;
}
