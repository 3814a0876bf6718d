/* test-reply.c: MsgReply and its parser
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-utils.h"

#include <string.h>

typedef struct
{
  const char *name;
  const char *input;
  unsigned    code;
  const char *enhanced; /* NULL: none */
  const char *text;
  unsigned    n_lines;
} GoodCase;

static const GoodCase good_cases[] = {
  { "simple", "250 OK\r\n", 250, NULL, "OK", 1 },
  { "no-line-end", "250 OK", 250, NULL, "OK", 1 },
  { "bare-lf", "250-a\n250 b\n", 250, NULL, "a\nb", 2 },
  { "mixed-line-ends", "250-a\r\n250-b\n250 c\r\n", 250, NULL, "a\nb\nc", 3 },
  { "code-only", "250\r\n", 250, NULL, "", 1 },
  { "code-dash-only", "250-\r\n250 x\r\n", 250, NULL, "\nx", 2 },
  { "enhanced", "250 2.1.5 Recipient ok\r\n", 250, "2.1.5", "2.1.5 Recipient ok", 1 },
  { "enhanced-only", "550 5.7.1\r\n", 550, "5.7.1", "5.7.1", 1 },
  { "enhanced-3-digits", "451 4.123.456 later\r\n", 451, "4.123.456", "4.123.456 later", 1 },
  { "enhanced-class-mismatch", "250 5.1.1 odd\r\n", 250, NULL, "5.1.1 odd", 1 },
  { "enhanced-class-3", "354 3.0.0 go\r\n", 354, NULL, "3.0.0 go", 1 },
  { "enhanced-4-digits", "250 2.1234.5 x\r\n", 250, NULL, "2.1234.5 x", 1 },
  { "enhanced-no-space", "250 2.1.5ok\r\n", 250, NULL, "2.1.5ok", 1 },
  { "enhanced-multiline", "250-2.0.0 first\r\n250 2.0.0 second\r\n", 250, "2.0.0", "2.0.0 first\n2.0.0 second", 2 },
  { "ehlo", "250-mail.example.test\r\n250-PIPELINING\r\n250-SIZE 1000\r\n250 8BITMIME\r\n",
    250, NULL, "mail.example.test\nPIPELINING\nSIZE 1000\n8BITMIME", 4 },
  { "nntp-1xx", "101 Capability list:\r\n", 101, NULL, "Capability list:", 1 },
  { "control-chars", "250 a\x1b[31mb\tc\r\n", 250, NULL, "a?[31mb\tc", 1 },
  { "lone-cr-in-text", "250 a\rb\r\n", 250, NULL, "a?b", 1 },
  { "latin1-text", "250 caf\xe9\r\n", 250, NULL, "caf\xef\xbf\xbd", 1 },
  { "utf8-text", "250 caf\xc3\xa9\r\n", 250, NULL, "caf\xc3\xa9", 1 },
};

typedef struct
{
  const char *name;
  const char *input;
  gssize      length;
  const char *message_part;
} BadCase;

static const BadCase bad_cases[] = {
  { "empty", "", 0, "Empty" },
  { "letters", "abc\r\n", -1, "Invalid reply code" },
  { "short-code", "25\r\n", -1, "Invalid reply code" },
  { "class-0", "050 x\r\n", -1, "Invalid reply code" },
  { "class-6", "650 x\r\n", -1, "Invalid reply code" },
  { "8bit-in-code", "2\xc3\xa9 x\r\n", -1, "Invalid reply code" },
  { "bad-separator", "250_x\r\n", -1, "Invalid separator" },
  { "tab-separator", "250\tx\r\n", -1, "Invalid separator" },
  { "mixed-codes", "250-a\r\n251 b\r\n", -1, "changed from 250 to 251" },
  { "continuation-only", "250-a\r\n250-b\r\n", -1, "continuation" },
  { "text-after-final", "250 a\r\n250 b\r\n", -1, "after the final line" },
  { "empty-line", "250-a\r\n\r\n250 b\r\n", -1, "Invalid reply code" },
  { "nul-byte", "250 a\0b\r\n", 9, "NUL" },
};

static void
test_good (gconstpointer data)
{
  const GoodCase *c = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgReply) reply = msg_reply_parse (c->input, -1, &error);
  const char *const *lines;

  g_assert_no_error (error);
  g_assert_nonnull (reply);
  g_assert_cmpuint (msg_reply_get_code (reply), ==, c->code);
  g_assert_cmpstr (msg_reply_get_enhanced_status (reply), ==, c->enhanced);
  g_assert_cmpstr (msg_reply_get_text (reply), ==, c->text);
  g_assert_true (g_utf8_validate (msg_reply_get_text (reply), -1, NULL));
  lines = msg_reply_get_lines (reply);
  g_assert_cmpuint (g_strv_length ((char **) lines), ==, c->n_lines);
  {
    g_autofree char *joined = g_strjoinv ("\n", (char **) lines);

    g_assert_cmpstr (joined, ==, c->text);
  }
}

static void
test_bad (gconstpointer data)
{
  const BadCase *c = data;
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgReply) reply = msg_reply_parse (c->input, c->length, &error);

  g_assert_null (reply);
  g_assert_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, c->message_part));
}

static void
test_classes (void)
{
  static const struct
  {
    const char *input;
    gboolean    positive, intermediate, transient, permanent;
  } classes[] = {
    { "101 x", FALSE, FALSE, FALSE, FALSE },
    { "250 x", TRUE, FALSE, FALSE, FALSE },
    { "354 x", FALSE, TRUE, FALSE, FALSE },
    { "421 x", FALSE, FALSE, TRUE, FALSE },
    { "554 x", FALSE, FALSE, FALSE, TRUE },
  };

  for (unsigned i = 0; i < G_N_ELEMENTS (classes); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (MsgReply) reply = msg_reply_parse (classes[i].input, -1, &error);

      g_assert_no_error (error);
      g_assert_cmpint (msg_reply_is_positive (reply), ==, classes[i].positive);
      g_assert_cmpint (msg_reply_is_intermediate (reply), ==, classes[i].intermediate);
      g_assert_cmpint (msg_reply_is_transient_failure (reply), ==, classes[i].transient);
      g_assert_cmpint (msg_reply_is_permanent_failure (reply), ==, classes[i].permanent);
    }
}

static void
test_caps (void)
{
  g_autoptr (GString) text = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  MsgReply *reply;

  g_test_summary ("Lines up to 8 KiB (line end included), replies up to 64 KiB and 1000 lines pass; beyond, PROTOCOL.");

  /* A line of exactly MSG_REPLY_MAX_LINE_LENGTH bytes with its CRLF. */
  g_string_append (text, "250 ");
  while (text->len < MSG_REPLY_MAX_LINE_LENGTH - 2)
    g_string_append_c (text, 'a');
  g_string_append (text, "\r\n");
  reply = msg_reply_parse (text->str, (gssize) text->len, &error);
  g_assert_no_error (error);
  g_clear_pointer (&reply, msg_reply_unref);

  g_string_insert_c (text, 4, 'b');
  reply = msg_reply_parse (text->str, (gssize) text->len, &error);
  g_assert_null (reply);
  g_assert_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "longer than 8192"));
  g_clear_error (&error);

  /* 1000 lines pass, 1001 do not. */
  g_string_truncate (text, 0);
  for (unsigned i = 0; i < 999; i++)
    g_string_append (text, "250-x\r\n");
  g_string_append (text, "250 x\r\n");
  reply = msg_reply_parse (text->str, -1, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length ((char **) msg_reply_get_lines (reply)), ==, 1000);
  g_clear_pointer (&reply, msg_reply_unref);
  g_string_prepend (text, "250-x\r\n");
  reply = msg_reply_parse (text->str, -1, &error);
  g_assert_null (reply);
  g_assert_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "more than 1000 lines"));
  g_clear_error (&error);

  /* More than 64 KiB in lines under the line cap. */
  g_string_truncate (text, 0);
  while (text->len <= MSG_REPLY_MAX_LENGTH)
    {
      g_string_append (text, "250-");
      for (unsigned j = 0; j < 4000; j++)
        g_string_append_c (text, 'y');
      g_string_append (text, "\r\n");
    }
  g_string_append (text, "250 y\r\n");
  reply = msg_reply_parse (text->str, -1, &error);
  g_assert_null (reply);
  g_assert_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (error->message, "longer than 65536"));
}

static void
test_boxed (void)
{
  g_autoptr (GError) error = NULL;
  MsgReply *reply = msg_reply_parse ("220 hi", -1, &error);
  MsgReply *copy;

  g_assert_true (G_TYPE_IS_BOXED (MSG_TYPE_REPLY));
  copy = g_boxed_copy (MSG_TYPE_REPLY, reply);
  g_assert_true (copy == reply);
  g_boxed_free (MSG_TYPE_REPLY, copy);
  g_assert_cmpstr (msg_reply_get_text (reply), ==, "hi");
  msg_reply_unref (reply);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  for (unsigned i = 0; i < G_N_ELEMENTS (good_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/reply/good/%s", good_cases[i].name);

      g_test_add_data_func (path, &good_cases[i], test_good);
    }
  for (unsigned i = 0; i < G_N_ELEMENTS (bad_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/reply/bad/%s", bad_cases[i].name);

      g_test_add_data_func (path, &bad_cases[i], test_bad);
    }
  g_test_add_func ("/reply/classes", test_classes);
  g_test_add_func ("/reply/caps", test_caps);
  g_test_add_func ("/reply/boxed", test_boxed);
  return g_test_run ();
}
