/* test-message-reply.c: MsgMessage's reply and forward
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

/* Reply and forward */

static MsgMessage *
make_original (MsgConfiguration *configuration)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = g_bytes_new_static ("PDF", 3);
  g_autoptr (GTimeZone) utc = g_time_zone_new_utc ();
  g_autoptr (GDateTime) date = g_date_time_new (utc, 2024, 3, 5, 10, 11, 0);
  MsgMessage *message = msg_message_new_with_configuration (configuration);

  g_assert_true (msg_message_set_from (message, "Ann <ann@example.com>", &error));
  g_assert_true (msg_message_set_to (message, "Me <me@example.net>, Bob <bob@example.org>", &error));
  g_assert_true (msg_message_set_cc (message, "carol@example.org, ann@example.com", &error));
  g_assert_true (msg_message_set_bcc (message, "secret@example.org", &error));
  g_assert_true (msg_message_set_subject (message, "Plans", &error));
  g_assert_true (msg_message_set_message_id (message, "<orig@example.com>", &error));
  g_assert_true (msg_message_set_header (message, "References", "<root@example.com>", &error));
  msg_message_set_sent_on (message, date);
  msg_message_set_text_body (message, "Original text.");
  g_assert_nonnull (msg_message_add_attachment_bytes (message, bytes, "plan.pdf", "application/pdf", &error));
  g_assert_no_error (error);
  return message;
}

static void
test_reply (void)
{
  g_autoptr (MsgMessage) original = make_original (NULL);
  g_autoptr (MsgMessage) reply = msg_message_create_reply (original);
  g_autofree char *to = msg_message_get_to (reply);
  g_autofree char *cc = msg_message_get_cc (reply);
  g_autofree char *bcc = msg_message_get_bcc (reply);
  g_autofree char *subject = msg_message_get_subject (reply);
  g_autofree char *in_reply_to = msg_message_get_header (reply, "In-Reply-To");
  g_autofree char *references = msg_message_get_header (reply, "References");
  g_autofree char *body = msg_message_get_text_body (reply);
  g_autofree char *html = msg_message_get_html_body (reply);
  g_autofree char *text = NULL;

  g_test_summary ("A reply goes to the sender with an RE: subject, In-Reply-To and References "
                  "and no attachment; its text is CDO's response text quoting the original, "
                  "without the Bcc; the original is unchanged.");

  g_assert_cmpstr (to, ==, "Ann <ann@example.com>");
  g_assert_null (cc);
  g_assert_null (bcc);
  g_assert_cmpstr (subject, ==, "RE: Plans");
  g_assert_cmpstr (in_reply_to, ==, "<orig@example.com>");
  g_assert_cmpstr (references, ==, "<root@example.com> <orig@example.com>");
  g_assert_null (msg_message_get_attachments (reply));
  g_assert_null (html);
  g_assert_true (msg_message_get_configuration (reply) == msg_message_get_configuration (original));

  /* CDO's response text. */
  g_assert_nonnull (body);
  g_assert_nonnull (strstr (body, "-----Original Message-----"));
  g_assert_nonnull (strstr (body, "From: Ann <ann@example.com>"));
  g_assert_nonnull (strstr (body, "Sent: "));
  g_assert_nonnull (strstr (body, "To: Me <me@example.net>, Bob <bob@example.org>"));
  g_assert_nonnull (strstr (body, "Cc: carol@example.org, ann@example.com"));
  g_assert_nonnull (strstr (body, "Subject: Plans"));
  g_assert_nonnull (strstr (body, "Original text."));
  g_assert_null (strstr (body, "secret@example.org"));

  text = to_string (reply);
  g_assert_null (strstr (text, "secret@example.org"));

  /* The original is unchanged. */
  {
    GList *attachments = msg_message_get_attachments (original);

    g_assert_cmpuint (g_list_length (attachments), ==, 1);
    g_list_free_full (attachments, g_object_unref);
  }
}

static void
test_reply_rules (void)
{
  g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();
  g_autoptr (GError) error = NULL;

  g_test_summary ("Reply rules: Reply-To wins over From, prefixes are not doubled in any case or "
                  "language, the References chain, usemessageresponsetext and sendemailaddress, "
                  "HTML originals.");

  {
    /* Reply-To wins over From. */
    g_autoptr (MsgMessage) original = make_original (configuration);
    g_autoptr (MsgMessage) reply = NULL;
    g_autofree char *to = NULL;

    g_assert_true (msg_message_set_reply_to (original, "list@example.org", &error));
    reply = msg_message_create_reply (original);
    to = msg_message_get_to (reply);
    g_assert_cmpstr (to, ==, "list@example.org");
  }

  {
    /* Prefixes are not doubled, whatever their case or language. */
    static const char *const subjects[][2] = {
      { "RE: Plans", "RE: Plans" },
      { "re: Plans", "re: Plans" },
      { "Re: Plans", "Re: Plans" },
      { "AW: Pläne", "AW: Pläne" },
      { "Replan", "RE: Replan" },
      { "", "RE:" }, /* the header value loses its trailing space */
    };

    for (guint i = 0; i < G_N_ELEMENTS (subjects); i++)
      {
        g_autoptr (MsgMessage) original = make_original (configuration);
        g_autoptr (MsgMessage) reply = NULL;
        g_autofree char *subject = NULL;

        g_assert_true (msg_message_set_subject (original, subjects[i][0], &error));
        reply = msg_message_create_reply (original);
        subject = msg_message_get_subject (reply);
        g_assert_cmpstr (subject, ==, subjects[i][1]);
      }
  }

  {
    /* Without References, In-Reply-To of the original starts the chain;
     * without a Message-ID there is nothing to refer to. */
    g_autoptr (MsgMessage) original = make_original (configuration);
    g_autoptr (MsgMessage) reply = NULL;
    g_autoptr (MsgMessage) reply2 = NULL;
    g_autofree char *references = NULL;
    g_autofree char *in_reply_to = NULL;

    g_assert_true (msg_message_remove_header (original, "References"));
    g_assert_true (msg_message_set_header (original, "In-Reply-To", "<parent@example.com>", &error));
    reply = msg_message_create_reply (original);
    references = msg_message_get_header (reply, "References");
    g_assert_cmpstr (references, ==, "<parent@example.com> <orig@example.com>");

    g_assert_true (msg_message_set_message_id (original, NULL, &error));
    reply2 = msg_message_create_reply (original);
    in_reply_to = msg_message_get_header (reply2, "In-Reply-To");
    g_assert_null (in_reply_to);
  }

  {
    /* usemessageresponsetext off: no quoted text; sendemailaddress
     * becomes the From of the reply. */
    g_autoptr (MsgMessage) original = NULL;
    g_autoptr (MsgMessage) reply = NULL;
    g_autofree char *body = NULL;
    g_autofree char *from = NULL;

    g_assert_true (msg_configuration_set_field (configuration, "usemessageresponsetext", "false", &error));
    g_assert_true (msg_configuration_set_field (configuration, "sendemailaddress", "me@example.net", &error));
    g_assert_no_error (error);
    original = make_original (configuration);
    reply = msg_message_create_reply (original);
    body = msg_message_get_text_body (reply);
    g_assert_true (body == NULL || strstr (body, "Original Message") == NULL);
    from = msg_message_get_from (reply);
    g_assert_cmpstr (from, ==, "me@example.net");
  }

  {
    /* An HTML original gives an HTML reply quoting it. */
    g_autoptr (MsgMessage) original = make_original (NULL);
    g_autoptr (MsgMessage) reply = NULL;
    g_autofree char *html = NULL;
    g_autofree char *tree = NULL;

    msg_message_set_html_body (original, "<p>Original &lt;HTML&gt;</p>");
    reply = msg_message_create_reply (original);
    html = msg_message_get_html_body (reply);
    g_assert_nonnull (html);
    g_assert_nonnull (strstr (html, "-----Original Message-----"));
    g_assert_nonnull (strstr (html, "<p>Original &lt;HTML&gt;</p>"));
    g_assert_nonnull (strstr (html, "Ann &lt;ann@example.com&gt;"));
    tree = describe_written (reply);
    g_assert_cmpstr (tree, ==, "multipart/alternative(text/plain,text/html)");
  }
}

static void
test_reply_all (void)
{
  g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgMessage) original = NULL;
  g_autoptr (MsgMessage) reply = NULL;
  g_autofree char *to = NULL;
  g_autofree char *cc = NULL;
  g_autofree char *bcc = NULL;
  g_autofree char *subject = NULL;

  g_test_summary ("Reply all: the sender, then the other recipients, without ourselves, "
                  "duplicates or the Bcc.");

  g_assert_true (msg_configuration_set_field (configuration, "sendemailaddress", "ME@example.net", &error));
  original = make_original (configuration);
  reply = msg_message_create_reply_all (original);
  to = msg_message_get_to (reply);
  cc = msg_message_get_cc (reply);
  bcc = msg_message_get_bcc (reply);
  subject = msg_message_get_subject (reply);

  /* The sender, then the other recipients; not ourselves, no duplicate
   * (ann is in From and Cc), never the Bcc. */
  g_assert_cmpstr (to, ==, "Ann <ann@example.com>, Bob <bob@example.org>");
  g_assert_cmpstr (cc, ==, "carol@example.org");
  g_assert_null (bcc);
  g_assert_cmpstr (subject, ==, "RE: Plans");
  g_assert_null (msg_message_get_attachments (reply));
}

static void
test_forward (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *path = write_temp_file (dir, "notes.txt", "file content", -1);
  g_autoptr (MsgMessage) original = make_original (NULL);
  g_autoptr (MsgMessage) forward = NULL;
  g_autofree char *to = NULL;
  g_autofree char *cc = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *body = NULL;
  g_autofree char *in_reply_to = NULL;
  GList           *attachments;

  g_test_summary ("A forward keeps every attachment (file attachments still refer to the file) "
                  "and does not double the FW: prefix; a parsed message forwards the same way.");

  g_assert_nonnull (msg_message_add_attachment (original, path, &error));
  forward = msg_message_create_forward (original);
  to = msg_message_get_to (forward);
  cc = msg_message_get_cc (forward);
  subject = msg_message_get_subject (forward);
  body = msg_message_get_text_body (forward);
  in_reply_to = msg_message_get_header (forward, "In-Reply-To");

  g_assert_null (to);
  g_assert_null (cc);
  g_assert_cmpstr (subject, ==, "FW: Plans");
  g_assert_nonnull (strstr (body, "-----Original Message-----"));
  g_assert_nonnull (strstr (body, "Original text."));
  g_assert_null (in_reply_to);

  /* Every attachment is kept; file attachments still refer to the file. */
  attachments = msg_message_get_attachments (forward);
  g_assert_cmpuint (g_list_length (attachments), ==, 2);
  {
    g_autofree char *name0 = msg_body_part_get_filename (attachments->data);
    g_autofree char *name1 = msg_body_part_get_filename (attachments->next->data);
    g_autofree char *content0 = decoded_string (attachments->data);
    g_autofree char *content1 = NULL;

    g_assert_cmpstr (name0, ==, "plan.pdf");
    g_assert_cmpstr (name1, ==, "notes.txt");
    g_assert_cmpstr (content0, ==, "PDF");
    g_assert_true (g_file_set_contents (path, "changed later", -1, NULL));
    content1 = decoded_string (attachments->next->data);
    g_assert_cmpstr (content1, ==, "changed later");
  }
  g_list_free_full (attachments, g_object_unref);
  {
    g_autofree char *tree = describe_written (forward);
    GList           *kept = msg_message_get_attachments (original);
    /* The type of a .txt file depends on the MIME database available. */
    g_autofree char *type = msg_body_part_get_content_media_type (kept->next->data);
    g_autofree char *expected = g_strdup_printf ("multipart/mixed(text/plain,application/pdf,%s)", type);

    g_assert_cmpstr (tree, ==, expected);
    g_list_free_full (kept, g_object_unref);
  }

  /* Prefixes are not doubled. */
  {
    g_autoptr (MsgMessage) again = msg_message_create_forward (forward);
    g_autofree char *subject2 = msg_message_get_subject (again);

    g_assert_cmpstr (subject2, ==, "FW: Plans");
  }

  /* Forwarding a parsed message keeps its attachments too. */
  {
    g_autoptr (MsgMessage) parsed = parse_string (multipart_message);
    g_autoptr (MsgMessage) parsed_forward = msg_message_create_forward (parsed);
    GList           *got = msg_message_get_attachments (parsed_forward);
    g_autofree char *tree = NULL;

    g_assert_cmpuint (g_list_length (got), ==, 2);
    g_list_free_full (got, g_object_unref);
    tree = describe_written (parsed_forward);
    g_assert_true (g_str_has_prefix (tree, "multipart/mixed("));
  }

  msg_test_remove_tree (dir);
}

static unsigned
count (const char *haystack,
       const char *needle)
{
  unsigned n = 0;

  for (const char *p = strstr (haystack, needle); p != NULL; p = strstr (p + 1, needle))
    n++;
  return n;
}

static void
test_reply_html_document (void)
{
  static const char *const originals[] = {
    "<!DOCTYPE html>\n<HTML lang=\"en\"><head><title>Plans</title>"
    "<style>p { color: red }</style></head>\n<Body class=\"x\"><p>Original &amp; HTML</p></BODY></html>\n",
    "<html><head><title>Plans</title></head><p>Original &amp; HTML</p></html>",
    "<p>Original &amp; HTML</p>",
  };

  g_test_summary ("A reply's HTML quotes only the content of the original's body: one document, "
                  "no nested <html>, <head> or <body>.");
  for (guint i = 0; i < G_N_ELEMENTS (originals); i++)
    {
      g_autoptr (MsgMessage) original = make_original (NULL);
      g_autoptr (MsgMessage) reply = NULL;
      g_autofree char *html = NULL;
      g_autofree char *lower = NULL;

      msg_message_set_html_body (original, originals[i]);
      reply = msg_message_create_reply (original);
      html = msg_message_get_html_body (reply);
      g_assert_nonnull (html);
      lower = g_ascii_strdown (html, -1);
      g_assert_cmpuint (count (lower, "<html"), ==, 1);
      g_assert_cmpuint (count (lower, "</html"), ==, 1);
      g_assert_cmpuint (count (lower, "<body"), ==, 1);
      g_assert_cmpuint (count (lower, "</body"), ==, 1);
      g_assert_cmpuint (count (lower, "<head"), ==, 0);
      g_assert_cmpuint (count (lower, "<title"), ==, 0);
      g_assert_cmpuint (count (lower, "<!doctype"), ==, 0);
      g_assert_nonnull (strstr (html, "<p>Original &amp; HTML</p>"));
      g_assert_true (strstr (html, "-----Original Message-----") < strstr (html, "<p>Original"));
    }
}

static void
test_response_text (void)
{
  g_autoptr (MsgMessage) original = make_original (NULL);
  g_autoptr (MsgMessage) reply = NULL;
  g_autoptr (MsgMessage) forward = NULL;
  g_autoptr (MsgMessage) plain = msg_message_new ();
  g_autofree char *text = NULL;
  g_autofree char *html = NULL;
  g_autofree char *again = NULL;
  g_autofree char *tree = NULL;

  g_test_summary ("set_response_text puts the answer above the quote in the text and, escaped, "
                  "in the HTML; again, it replaces the answer.");
  msg_message_set_html_body (original, "<html><body><p>Original HTML</p></body></html>");
  reply = msg_message_create_reply (original);
  msg_message_set_response_text (reply, "Sounds <good> & fine.\nSee you");
  text = msg_message_get_text_body (reply);
  html = msg_message_get_html_body (reply);

  g_assert_true (g_str_has_prefix (text, "Sounds <good> & fine.\nSee you"));
  g_assert_true (strstr (text, "See you") < strstr (text, "-----Original Message-----"));
  g_assert_nonnull (strstr (text, "Original text."));
  g_assert_nonnull (strstr (html, "<div>Sounds &lt;good&gt; &amp; fine.<br>\r\nSee you</div>"));
  g_assert_true (strstr (html, "See you") < strstr (html, "-----Original Message-----"));
  g_assert_nonnull (strstr (html, "<p>Original HTML</p>"));
  g_assert_null (strstr (html, "<good>"));
  tree = describe_written (reply);
  g_assert_cmpstr (tree, ==, "multipart/alternative(text/plain,text/html)");

  /* A second call replaces the answer rather than stacking them. */
  msg_message_set_response_text (reply, "Changed my mind.");
  again = msg_message_get_text_body (reply);
  g_assert_true (g_str_has_prefix (again, "Changed my mind."));
  g_assert_null (strstr (again, "See you"));
  g_assert_cmpuint (count (again, "-----Original Message-----"), ==, 1);
  g_clear_pointer (&html, g_free);
  html = msg_message_get_html_body (reply);
  g_assert_null (strstr (html, "See you"));
  g_assert_nonnull (strstr (html, "<div>Changed my mind.</div>"));

  /* A forward of a text-only original: the text only. */
  g_clear_pointer (&text, g_free);
  g_clear_pointer (&html, g_free);
  g_clear_object (&original);
  original = make_original (NULL);
  forward = msg_message_create_forward (original);
  msg_message_set_response_text (forward, "FYI");
  text = msg_message_get_text_body (forward);
  html = msg_message_get_html_body (forward);
  g_assert_true (g_str_has_prefix (text, "FYI\r\n\r\n-----Original Message-----"));
  g_assert_null (html);

  /* A message that quotes nothing: the text body. */
  g_clear_pointer (&text, g_free);
  msg_message_set_response_text (plain, "Just text.");
  text = msg_message_get_text_body (plain);
  g_assert_cmpstr (text, ==, "Just text.");
}

static void
test_post_reply (void)
{
  static const char article[] = "From: Ann <ann@example.com>\r\n"
                                "Newsgroups: comp.mail.misc,comp.lang.c\r\n"
                                "Subject: Porting CDO\r\n"
                                "Message-ID: <a2@example.com>\r\n"
                                "References: <a1@example.com>\r\n"
                                "\r\n"
                                "How do I port this?\r\n";
  g_autoptr (MsgMessage) original = parse_string (article);
  g_autoptr (MsgMessage) followup = NULL;
  g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *value = NULL;
  g_autofree char *body = NULL;

  g_test_summary ("PostReply makes a followup: no mail recipients, the original's Followup-To else"
                  " Newsgroups, References extended, RE: subject, From from postemailaddress;"
                  " Followup-To: poster gives a mail reply; a mail message is refused.");

  g_assert_true (msg_configuration_set_field (configuration, "postemailaddress", "me@example.org", &error));
  msg_message_set_configuration (original, configuration);
  followup = msg_message_create_post_reply (original, &error);
  g_assert_no_error (error);
  value = msg_message_get_newsgroups (followup);
  g_assert_cmpstr (value, ==, "comp.mail.misc,comp.lang.c");
  g_clear_pointer (&value, g_free);
  value = msg_message_get_to (followup);
  g_assert_null (value);
  value = msg_message_get_header (followup, "References");
  g_assert_cmpstr (value, ==, "<a1@example.com> <a2@example.com>");
  g_clear_pointer (&value, g_free);
  value = msg_message_get_subject (followup);
  g_assert_cmpstr (value, ==, "RE: Porting CDO");
  g_clear_pointer (&value, g_free);
  value = msg_message_get_from (followup);
  g_assert_cmpstr (value, ==, "me@example.org");
  g_clear_pointer (&value, g_free);
  body = msg_message_get_text_body (followup);
  g_assert_nonnull (strstr (body, "How do I port this?"));
  g_clear_object (&followup);

  g_assert_true (msg_message_set_followup_to (original, "comp.lang.c", &error));
  followup = msg_message_create_post_reply (original, &error);
  value = msg_message_get_newsgroups (followup);
  g_assert_cmpstr (value, ==, "comp.lang.c");
  g_clear_pointer (&value, g_free);
  g_clear_object (&followup);

  g_assert_true (msg_message_set_followup_to (original, "poster", &error));
  followup = msg_message_create_post_reply (original, &error);
  g_assert_no_error (error);
  value = msg_message_get_newsgroups (followup);
  g_assert_null (value);
  value = msg_message_get_to (followup);
  g_assert_cmpstr (value, ==, "Ann <ann@example.com>");
  g_clear_pointer (&value, g_free);
  g_clear_object (&followup);

  {
    g_autoptr (MsgMessage) mail = make_message ();

    followup = msg_message_create_post_reply (mail, &error);
    g_assert_null (followup);
    g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_NO_NEWSGROUPS);
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  g_test_add_func ("/message/reply/basic", test_reply);
  g_test_add_func ("/message/reply/rules", test_reply_rules);
  g_test_add_func ("/message/reply/all", test_reply_all);
  g_test_add_func ("/message/forward", test_forward);
  g_test_add_func ("/message/post-reply", test_post_reply);
  g_test_add_func ("/message/reply/html-document", test_reply_html_document);
  g_test_add_func ("/message/reply/response-text", test_response_text);

  return g_test_run ();
}
