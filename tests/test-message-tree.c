/* test-message-tree.c: building and editing the MIME tree by hand
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-message-utils.h"

#include <string.h>

#define CALENDAR                                                                              \
  "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:1@example.com\r\n" \
  "SUMMARY:Planning\r\nDTSTART:20270101T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"

static GBytes *
part_bytes (MsgBodyPart *part)
{
  g_autoptr (GError) error = NULL;
  GBytes *bytes = msg_body_part_to_bytes (part, &error);

  g_assert_no_error (error);
  g_assert_nonnull (bytes);
  return bytes;
}

static MsgBodyPart *
child_at (MsgBodyPart *part,
          guint        index)
{
  g_autoptr (GListModel) model = msg_body_part_get_body_parts_model (part);

  return g_list_model_get_item (model, index);
}

/* A calendar invitation as CDO scripts build it: the root becomes
 * multipart/alternative, with the text and a text/calendar part. */
static MsgBodyPart *
build_invitation (MsgMessage *message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgBodyPart) root = msg_message_get_body_part (message);
  g_autoptr (MsgBodyPart) text = NULL;
  MsgBodyPart *calendar;

  g_assert_true (msg_body_part_set_content_media_type (root, "multipart/alternative", &error));
  g_assert_no_error (error);
  text = msg_body_part_add_body_part (root, "text/plain", &error);
  g_assert_no_error (error);
  g_assert_true (msg_body_part_set_text (text, "You are invited.", &error));
  calendar = msg_body_part_insert_body_part (root, -1, "text/calendar; method=REQUEST", &error);
  g_assert_no_error (error);
  g_assert_true (msg_body_part_set_text (calendar, CALENDAR, &error));
  g_assert_no_error (error);
  return calendar;
}

static void
test_invitation_survives (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgBodyPart) calendar = build_invitation (message);
  g_autoptr (GBytes) before = part_bytes (calendar);
  g_autoptr (GBytes) after = NULL;
  g_autoptr (GBytes) pdf = g_bytes_new_static ("%PDF-1.4\n", 9);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgBodyPart) found = NULL;
  g_autoptr (MsgBodyPart) text_part = NULL;
  g_autofree char *method = NULL;
  g_autofree char *tree = NULL;
  g_autofree char *written = NULL;
  g_autofree char *text = NULL;
  MsgBodyPart     *attachment;

  tree = describe_tree (message);
  g_assert_cmpstr (tree, ==, "multipart/alternative(text/plain,text/calendar)");
  method = msg_body_part_get_field_parameter (calendar, "Content-Type", "method");
  g_assert_cmpstr (method, ==, "REQUEST");

  attachment = msg_message_add_attachment_bytes (message, pdf, "agenda.pdf", "application/pdf", &error);
  g_assert_no_error (error);
  g_assert_nonnull (attachment);
  g_clear_pointer (&tree, g_free);
  tree = describe_tree (message);
  g_assert_cmpstr (tree, ==, "multipart/mixed(multipart/alternative(text/plain,text/calendar),application/pdf)");
  g_assert_cmpuint (msg_message_get_attachment_count (message), ==, 1);

  msg_message_set_text_body (message, "You are invited, again.");
  g_clear_pointer (&tree, g_free);
  tree = describe_tree (message);
  g_assert_cmpstr (tree, ==, "multipart/mixed(multipart/alternative(text/plain,text/calendar),application/pdf)");
  text = msg_message_get_text_body (message);
  g_assert_cmpstr (text, ==, "You are invited, again.");
  text_part = msg_message_get_text_body_part (message);
  g_assert_nonnull (text_part);

  /* The calendar part is the caller's: byte for byte what it was. */
  after = part_bytes (calendar);
  g_assert_true (g_bytes_equal (before, after));
  written = describe_written (message);
  g_assert_cmpstr (written, ==, "multipart/mixed(multipart/alternative(text/plain,text/calendar),application/pdf)");

  /* An HTML body goes in too, next to the caller's parts. */
  msg_message_set_html_body (message, "<p>Invited</p>");
  g_clear_pointer (&tree, g_free);
  tree = describe_tree (message);
  g_assert_nonnull (strstr (tree, "text/calendar"));
  g_assert_nonnull (strstr (tree, "text/html"));

  /* Removing the attachment keeps the invitation. */
  g_assert_true (msg_message_remove_attachment (message, 0, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg_message_get_attachment_count (message), ==, 0);
  g_clear_pointer (&after, g_bytes_unref);
  after = part_bytes (calendar);
  g_assert_true (g_bytes_equal (before, after));
  found = msg_body_part_get_parent (calendar);
  g_assert_nonnull (found);
}

/* A root with text becomes a multipart keeping its text as first child. */
static void
test_root_becomes_multipart (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgBodyPart) root = NULL;
  g_autoptr (MsgBodyPart) first = NULL;
  g_autoptr (MsgBodyPart) parent = NULL;
  g_autoptr (MsgBodyPart) again = NULL;
  g_autoptr (MsgBodyPart) cal = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *tree = NULL;
  g_autofree char *text = NULL;

  msg_message_set_text_body (message, "Hello");
  root = msg_message_get_body_part (message);
  g_assert_null (msg_body_part_get_parent (root));
  g_assert_true (msg_body_part_set_content_media_type (root, "multipart/mixed", &error));
  g_assert_no_error (error);

  /* The same object is now the multipart root. */
  again = msg_message_get_body_part (message);
  g_assert_true (again == root);
  tree = describe_tree (message);
  g_assert_cmpstr (tree, ==, "multipart/mixed(text/plain)");
  first = child_at (root, 0);
  parent = msg_body_part_get_parent (first);
  g_assert_true (parent == root);
  text = msg_message_get_text_body (message);
  g_assert_cmpstr (text, ==, "Hello");

  cal = msg_body_part_insert_body_part (root, 0, "text/calendar", &error);
  g_assert_no_error (error);
  g_clear_pointer (&tree, g_free);
  tree = describe_tree (message);
  g_assert_cmpstr (tree, ==, "multipart/mixed(text/calendar,text/plain)");

  /* A detached leaf cannot become a multipart; a multipart not a leaf. */
  {
    g_autoptr (MsgBodyPart) loose = g_object_new (MSG_TYPE_BODY_PART, NULL);

    g_assert_false (msg_body_part_set_content_media_type (loose, "multipart/mixed", &error));
    g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
    g_clear_error (&error);
  }
  g_assert_false (msg_body_part_set_content_media_type (root, "text/plain", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
}

static void
add_child (MsgBodyPart *parent,
           const char  *type,
           const char  *content)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgBodyPart) child = msg_body_part_add_body_part (parent, type, &error);
  g_autoptr (GBytes) bytes = g_bytes_new (content, strlen (content));

  g_assert_no_error (error);
  g_assert_true (msg_body_part_set_content (child, bytes, &error));
  g_assert_no_error (error);
}

/* A delivery report (RFC 6522) built by hand survives the body calls. */
static void
test_report_survives (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgBodyPart) root = msg_message_get_body_part (message);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) before = NULL;
  g_autoptr (GBytes) after = NULL;
  g_autoptr (GBytes) doc = g_bytes_new_static ("x", 1);
  g_autoptr (MsgBodyPart) original = NULL;
  g_autoptr (MsgMessage) inner = NULL;
  g_autofree char *tree = NULL;
  g_autofree char *written = NULL;
  g_autofree char *subject = NULL;

  g_assert_true (msg_body_part_set_content_media_type (root, "multipart/report", &error));
  g_assert_true (msg_body_part_set_field_parameter (root, "Content-Type", "report-type", "delivery-status", &error));
  g_assert_no_error (error);
  add_child (root, "text/plain", "Your message could not be delivered.\r\n");
  add_child (root, "message/delivery-status",
             "Reporting-MTA: dns; mx.example.org\r\n\r\nFinal-Recipient: rfc822; bob@example.org\r\n"
             "Action: failed\r\nStatus: 5.1.1\r\n");
  add_child (root, "message/rfc822", "From: ann@example.com\r\nSubject: Lost\r\n\r\nHello\r\n");
  before = part_bytes (root);

  tree = describe_tree (message);
  g_assert_cmpstr (tree, ==, "multipart/report(text/plain,message/delivery-status,message/rfc822)");
  original = child_at (root, 2);
  inner = msg_message_new_from_body_part (original, &error);
  g_assert_no_error (error);
  subject = msg_message_get_subject (inner);
  g_assert_cmpstr (subject, ==, "Lost");

  /* The message changes around it: subject, then an attachment. */
  g_assert_true (msg_message_set_subject (message, "Undeliverable", &error));
  after = part_bytes (root);
  g_assert_true (g_bytes_equal (before, after));
  g_assert_nonnull (msg_message_add_attachment_bytes (message, doc, "x.bin", "application/octet-stream", &error));
  g_assert_no_error (error);
  g_clear_pointer (&tree, g_free);
  tree = describe_tree (message);
  g_assert_cmpstr (tree, ==,
                   "multipart/mixed(multipart/report(text/plain,message/delivery-status,message/rfc822),"
                   "application/octet-stream)");
  written = describe_written (message);
  g_assert_cmpstr (written, ==, tree);
  {
    g_autofree char *report_type = msg_body_part_get_field_parameter (root, "Content-Type", "report-type");

    g_assert_cmpstr (report_type, ==, "delivery-status");
  }
}

typedef struct
{
  guint position;
  guint removed;
  guint added;
  guint count;
} Changed;

static void
items_changed_cb (GListModel *model,
                  guint       position,
                  guint       removed,
                  guint       added,
                  gpointer    user_data)
{
  Changed *changed = user_data;

  changed->position = position;
  changed->removed = removed;
  changed->added = added;
  changed->count++;
}

static void
test_delete (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgBodyPart) root = msg_message_get_body_part (message);
  g_autoptr (GListModel) model = NULL;
  g_autoptr (MsgBodyPart) a = NULL;
  g_autoptr (MsgBodyPart) b = NULL;
  g_autoptr (MsgBodyPart) c = NULL;
  g_autoptr (MsgBodyPart) item = NULL;
  g_autoptr (MsgBodyPart) parent = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *tree = NULL;
  Changed          changed = { 0 };

  g_assert_true (msg_body_part_set_content_media_type (root, "multipart/mixed", &error));
  model = msg_body_part_get_body_parts_model (root);
  g_signal_connect (model, "items-changed", G_CALLBACK (items_changed_cb), &changed);

  a = msg_body_part_add_body_part (root, "text/plain", &error);
  g_assert_cmpuint (changed.count, ==, 1);
  g_assert_cmpuint (changed.position, ==, 0);
  g_assert_cmpuint (changed.added, ==, 1);
  c = msg_body_part_add_body_part (root, "image/png", &error);
  b = msg_body_part_insert_body_part (root, 1, "text/html", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (changed.count, ==, 3);
  g_assert_cmpuint (changed.position, ==, 1);
  g_assert_cmpuint (changed.removed, ==, 0);
  g_assert_cmpuint (changed.added, ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 3);
  item = g_list_model_get_item (model, 1);
  g_assert_true (item == b);
  parent = msg_body_part_get_parent (b);
  g_assert_true (parent == root);
  g_clear_object (&parent);

  /* Out of range. */
  g_assert_null (msg_body_part_insert_body_part (root, 4, "text/plain", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_false (msg_body_part_remove_body_part (root, 3, &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED);
  g_clear_error (&error);

  /* By index: the one item at its position. */
  g_assert_true (msg_body_part_remove_body_part (root, 1, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (changed.count, ==, 4);
  g_assert_cmpuint (changed.position, ==, 1);
  g_assert_cmpuint (changed.removed, ==, 1);
  g_assert_cmpuint (changed.added, ==, 0);
  g_assert_null (msg_body_part_get_parent (b));
  tree = describe_tree (message);
  g_assert_cmpstr (tree, ==, "multipart/mixed(text/plain,image/png)");

  /* By part. */
  g_assert_false (msg_body_part_remove_child (root, b, &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_true (msg_body_part_remove_child (root, a, &error));
  g_assert_cmpuint (changed.position, ==, 0);
  g_assert_cmpuint (changed.removed, ==, 1);
  g_assert_null (msg_body_part_get_parent (a));
  parent = msg_body_part_get_parent (c);
  g_assert_true (parent == root);

  msg_body_part_remove_all_body_parts (root);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, 0);
  g_assert_null (msg_body_part_get_parent (c));

  /* A leaf has no children to remove. */
  g_assert_false (msg_body_part_remove_body_part (a, 0, &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED);
  g_signal_handlers_disconnect_by_func (model, items_changed_cb, &changed);
}

/* Parents of the library's own tree, and after it is built again. */
static void
test_parents (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgBodyPart) text = NULL;
  g_autoptr (MsgBodyPart) parent = NULL;
  g_autoptr (MsgBodyPart) root = NULL;
  g_autoptr (MsgBodyPart) html = NULL;

  msg_message_set_text_body (message, "t");
  msg_message_set_html_body (message, "<p>h</p>");
  text = msg_message_get_text_body_part (message);
  root = msg_message_get_body_part (message);
  parent = msg_body_part_get_parent (text);
  g_assert_true (parent == root);
  g_assert_null (msg_body_part_get_parent (root));

  /* The library builds its tree again: the old parts are out of it. */
  msg_message_set_html_body (message, "<p>h2</p>");
  html = msg_message_get_html_body_part (message);
  g_clear_object (&parent);
  parent = msg_body_part_get_parent (html);
  g_assert_nonnull (parent);
  g_assert_false (parent == root);
}

static void
test_parameters (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgBodyPart) calendar = build_invitation (message);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char         *value = NULL;
  g_autofree char         *text = NULL;
  static const char *const bad_values[] = { "a\r\nX-Evil: 1", "a\nb", "a\rb", "a\x01" };
  static const char *const bad_names[] = { "", "me thod", "a=b", "a;b", "a\r\nb", "caf\xc3\xa9", "a\"" };

  g_assert_true (msg_body_part_set_field_parameter (calendar, "Content-Type", "method", "CANCEL", &error));
  g_assert_no_error (error);
  value = msg_body_part_get_field_parameter (calendar, "urn:schemas:mailheader:content-type", "METHOD");
  g_assert_cmpstr (value, ==, "CANCEL");

  for (guint i = 0; i < G_N_ELEMENTS (bad_values); i++)
    {
      g_assert_false (msg_body_part_set_field_parameter (calendar, "Content-Type", "method", bad_values[i], &error));
      g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
      g_assert_nonnull (strstr (error->message, "method"));
      g_clear_error (&error);
    }
  for (guint i = 0; i < G_N_ELEMENTS (bad_names); i++)
    {
      g_assert_false (msg_body_part_set_field_parameter (calendar, "Content-Type", bad_names[i], "x", &error));
      g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
      g_clear_error (&error);
    }
  g_assert_null (msg_body_part_insert_body_part (calendar, 0, "text/plain", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED);
  g_clear_error (&error);
  {
    g_autoptr (MsgBodyPart) root = msg_message_get_body_part (message);

    g_assert_null (msg_body_part_add_body_part (root, "text/plain; a=\"x\r\nB: c\"", &error));
    g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
    g_clear_error (&error);
  }
  g_assert_false (msg_body_part_set_field_parameter (calendar, "X-Other", "a", "b", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);
  g_assert_false (msg_body_part_set_field_parameter (calendar, "Content-Disposition", "a", "b", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED);
  g_clear_error (&error);

  /* Non-ASCII values are written with RFC 2231 and read back. */
  g_assert_true (msg_body_part_set_content_disposition (calendar, "attachment", &error));
  g_assert_true (msg_body_part_set_field_parameter (calendar, "Content-Disposition", "filename", "réunion.ics", &error));
  g_assert_no_error (error);
  g_clear_pointer (&value, g_free);
  value = msg_body_part_get_field_parameter (calendar, "Content-Disposition", "filename");
  g_assert_cmpstr (value, ==, "réunion.ics");

  /* Removing one. */
  g_assert_true (msg_body_part_set_field_parameter (calendar, "Content-Type", "method", NULL, &error));
  g_clear_pointer (&value, g_free);
  value = msg_body_part_get_field_parameter (calendar, "Content-Type", "method");
  g_assert_null (value);
  bytes = part_bytes (calendar);
  g_assert_null (g_strstr_len (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), "method"));

  /* charset converts, as set_charset does. */
  {
    g_autoptr (MsgBodyPart) text_part = msg_message_get_text_body_part (message);

    g_assert_true (msg_body_part_set_text (text_part, "café", &error));
    g_assert_true (msg_body_part_set_field_parameter (text_part, "Content-Type", "charset", "iso-8859-1", &error));
    g_assert_no_error (error);
    text = msg_body_part_get_text (text_part, &error);
    g_assert_cmpstr (text, ==, "café");
  }
}

static void
test_stream (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgBodyPart) calendar = build_invitation (message);
  g_autoptr (GBytes) bytes = part_bytes (calendar);
  g_autoptr (GError) error = NULL;
  g_autoptr (GInputStream) stream = msg_body_part_get_stream (calendar, &error);
  char  buffer[4096];
  gsize n = 0;

  g_assert_no_error (error);
  g_assert_true (g_input_stream_read_all (stream, buffer, sizeof buffer, &n, NULL, &error));
  g_assert_cmpuint (n, ==, g_bytes_get_size (bytes));
  g_assert_cmpmem (buffer, n, g_bytes_get_data (bytes, NULL), n);
  g_assert_true (g_str_has_prefix (buffer, "Content-Type: text/calendar"));
}

/* The library's own tree is still rebuilt as before when nobody touched
 * its structure. */
static void
test_library_tree_rebuilt (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GBytes) doc = g_bytes_new_static ("x", 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *tree = NULL;

  msg_message_set_text_body (message, "t");
  g_assert_nonnull (msg_message_add_attachment_bytes (message, doc, "x.bin", "application/octet-stream", &error));
  msg_message_set_html_body (message, "<p>h</p>");
  tree = describe_tree (message);
  g_assert_cmpstr (tree, ==, "multipart/mixed(multipart/alternative(text/plain,text/html),application/octet-stream)");
  msg_message_remove_all_attachments (message);
  g_clear_pointer (&tree, g_free);
  tree = describe_tree (message);
  g_assert_cmpstr (tree, ==, "multipart/alternative(text/plain,text/html)");
}

/* A part added to the library's tree makes it the caller's: adding an
 * attachment afterwards keeps it where it was. */
static void
test_part_added_to_library_tree (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (MsgBodyPart) root = NULL;
  g_autoptr (MsgBodyPart) cal = NULL;
  g_autoptr (GBytes) doc = g_bytes_new_static ("x", 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *tree = NULL;

  msg_message_set_text_body (message, "t");
  msg_message_set_html_body (message, "<p>h</p>");
  root = msg_message_get_body_part (message);
  cal = msg_body_part_add_body_part (root, "text/calendar; method=REQUEST", &error);
  g_assert_no_error (error);
  g_assert_nonnull (msg_message_add_attachment_bytes (message, doc, "x.bin", "application/octet-stream", &error));
  msg_message_set_text_body (message, "t2");
  tree = describe_tree (message);
  g_assert_cmpstr (tree, ==,
                   "multipart/mixed(multipart/alternative(text/plain,text/html,text/calendar),"
                   "application/octet-stream)");
  msg_message_remove_all_attachments (message);
  g_clear_pointer (&tree, g_free);
  tree = describe_tree (message);
  g_assert_cmpstr (tree, ==, "multipart/mixed(multipart/alternative(text/plain,text/html,text/calendar))");
}

/* A parsed invitation is edited in place too: its calendar part is not
 * an attachment, and survives a new text body and an attachment. */
static void
test_parsed_invitation (void)
{
  static const char *const text = "From: ann@example.com\r\nTo: bob@example.org\r\nSubject: Planning\r\n"
                                  "MIME-Version: 1.0\r\n"
                                  "Content-Type: multipart/alternative; boundary=\"b\"\r\n\r\n"
                                  "--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nInvited.\r\n"
                                  "--b\r\nContent-Type: text/calendar; method=REQUEST; charset=utf-8\r\n\r\n"
                                  "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"
                                  "--b--\r\n";
  g_autoptr (MsgMessage) message = parse_string (text);
  g_autoptr (GBytes) doc = g_bytes_new_static ("x", 1);
  g_autoptr (GError) error = NULL;
  g_autofree char *tree = NULL;
  g_autofree char *body = NULL;
  g_autofree char *written = NULL;

  g_assert_cmpuint (msg_message_get_attachment_count (message), ==, 0);
  msg_message_set_text_body (message, "Invited again.");
  tree = describe_tree (message);
  g_assert_cmpstr (tree, ==, "multipart/alternative(text/plain,text/calendar)");
  g_assert_nonnull (msg_message_add_attachment_bytes (message, doc, "x.bin", "application/octet-stream", &error));
  g_assert_no_error (error);
  g_clear_pointer (&tree, g_free);
  tree = describe_tree (message);
  g_assert_cmpstr (tree, ==, "multipart/mixed(multipart/alternative(text/plain,text/calendar),application/octet-stream)");
  body = msg_message_get_text_body (message);
  g_assert_cmpstr (body, ==, "Invited again.");
  written = to_string (message);
  g_assert_nonnull (strstr (written, "method=REQUEST"));
  g_assert_nonnull (strstr (written, "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"));

  /* Rebuilding the library's structure keeps the calendar, as an
   * attachment. */
  g_assert_nonnull (msg_message_add_related_body_part (message, g_test_get_filename (G_TEST_DIST, "test-message-tree.c", NULL),
                                                       "cid:src@example.com", &error));
  g_assert_no_error (error);
  g_clear_pointer (&written, g_free);
  written = to_string (message);
  g_assert_nonnull (strstr (written, "BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/message-tree/invitation-survives", test_invitation_survives);
  g_test_add_func ("/message-tree/root-becomes-multipart", test_root_becomes_multipart);
  g_test_add_func ("/message-tree/report-survives", test_report_survives);
  g_test_add_func ("/message-tree/delete", test_delete);
  g_test_add_func ("/message-tree/parents", test_parents);
  g_test_add_func ("/message-tree/parameters", test_parameters);
  g_test_add_func ("/message-tree/stream", test_stream);
  g_test_add_func ("/message-tree/library-tree-rebuilt", test_library_tree_rebuilt);
  g_test_add_func ("/message-tree/part-added-to-library-tree", test_part_added_to_library_tree);
  g_test_add_func ("/message-tree/parsed-invitation", test_parsed_invitation);

  return g_test_run ();
}
