/* test-nntp-pipelining.c: one round trip per article on a kept NNTP
 * connection (RFC 3977 section 3.5, issue 18), against scripted servers
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-test-server.h"
#include "test-queued-calls.h"
#include "test-utils.h"

#include <string.h>

typedef MsgTestFixture Fixture;

#define GREETING "line 200 news.example.test InterNetNews NNRP server ready (posting ok)\n"
#define CAPS "expect CAPABILITIES\nsend 101 Capability list:\\r\\nVERSION 2\\r\\nREADER\\r\\nPOST\\r\\n.\\r\\n\n"
#define FIRST_POST "expect POST\nline 340 send article\ndata\n"
#define QUIT "expect QUIT\nline 205 bye\n"

static MsgMessage *
make_article (guint n)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *body = g_strdup_printf ("Article number %u.\n", n);
  MsgMessage      *message = msg_message_new ();

  g_assert_true (msg_message_set_from (message, "alice@example.test", &error));
  g_assert_true (msg_message_set_newsgroups (message, "local.test", &error));
  g_assert_true (msg_message_set_subject (message, "Hello news", &error));
  g_assert_no_error (error);
  msg_message_set_text_body (message, body);
  return message;
}

static void
test_wire_order (Fixture      *f,
                 gconstpointer data)
{
  const char *const scripts[] = {
    GREETING CAPS FIRST_POST
    /* The next POST must come before the answer to the article: a client
     * that waits for the 240 first would wait for ever (until its
     * clock). */
    "expect POST\nsend 240 got 1\\r\\n340 send article\\r\\n\ndata\n"
    "expect POST\nsend 240 got 2\\r\\n340 send article\\r\\n\ndata\n"
    "line 240 got 3\n" QUIT,
    NULL
  };
  MsgTestQueued    posts = { 0 };
  g_autofree char *wire = NULL;

  g_test_summary ("The POST of the next queued post follows an article's terminating line "
                  "at once, and each article is reported posted on its own 240.");
  msg_test_queued_start_transport (f, "nntp", scripts, TRUE);
  msg_test_queued_start (f, &posts, MSG_TEST_CALL_POST, make_article, 3);
  msg_test_queued_wait (&posts, 3);
  msg_test_queued_assert_done (&posts, 0, 240, "got 1");
  msg_test_queued_assert_done (&posts, 1, 240, "got 2");
  msg_test_queued_assert_done (&posts, 2, 240, "got 3");
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 1);
  g_assert_true (msg_transport_close (f->transport, NULL, NULL));
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  wire = msg_test_server_get_received_text (f->server, 0);
  g_assert_nonnull (strstr (wire, "Article number 1.\r\n.\r\nPOST\r\n"));
  g_assert_nonnull (strstr (wire, "Article number 2.\r\n.\r\nPOST\r\n"));
  g_assert_nonnull (strstr (wire, "Article number 3.\r\n.\r\nQUIT\r\n"));
  msg_test_queued_clear (&posts);
}

static void
test_second_rejected (Fixture      *f,
                      gconstpointer data)
{
  const char *const scripts[] = {
    GREETING CAPS FIRST_POST
    "expect POST\nsend 240 got 1\\r\\n340 send article\\r\\n\ndata\n"
    "expect POST\nsend 441 437 Duplicate article\\r\\n340 send article\\r\\n\ndata\n"
    "line 240 got 3\n" QUIT,
    NULL
  };
  MsgTestQueued    posts = { 0 };
  g_autofree char *wire = NULL;

  g_test_summary ("A 441 for the second of three pipelined posts fails that post alone; "
                  "the first and the third are posted, over the same connection.");
  msg_test_queued_start_transport (f, "nntp", scripts, TRUE);
  msg_test_queued_start (f, &posts, MSG_TEST_CALL_POST, make_article, 3);
  msg_test_queued_wait (&posts, 3);
  msg_test_queued_assert_done (&posts, 0, 240, "got 1");
  g_assert_null (posts.results[1].report);
  g_assert_error (posts.results[1].error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_MESSAGE_REJECTED);
  g_assert_nonnull (strstr (posts.results[1].error->message, "441 437 Duplicate article"));
  msg_test_queued_assert_done (&posts, 2, 240, "got 3");
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 1);
  g_assert_true (msg_transport_close (f->transport, NULL, NULL));
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  g_assert_null (msg_test_server_get_error (f->server));
  wire = msg_test_server_get_received_text (f->server, 0);
  g_assert_nonnull (strstr (wire, "Article number 3.\r\n.\r\nQUIT\r\n"));
  msg_test_queued_clear (&posts);
}

static void
test_drop_after_reply (Fixture      *f,
                       gconstpointer data)
{
  const char *const scripts[] = {
    GREETING CAPS FIRST_POST "expect POST\nline 240 got 1\nclose\n",
    GREETING CAPS FIRST_POST "line 240 got 2\n",
    NULL
  };
  MsgTestQueued    posts = { 0 };
  g_autofree char *second = NULL;

  g_test_summary ("A connection lost after the 240 of an article and before the 340 of the "
                  "pipelined POST: the first is posted; the second, whose article never "
                  "went, is posted on a new connection.");
  msg_test_queued_start_transport (f, "nntp", scripts, TRUE);
  msg_test_queued_start (f, &posts, MSG_TEST_CALL_POST, make_article, 2);
  msg_test_queued_wait (&posts, 2);
  msg_test_queued_assert_done (&posts, 0, 240, "got 1");
  msg_test_queued_assert_done (&posts, 1, 240, "got 2");
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 2);
  second = msg_test_server_get_received_text (f->server, 1);
  g_assert_nonnull (strstr (second, "Article number 2."));
  msg_test_queued_clear (&posts);
}

static void
test_drop_before_reply (Fixture      *f,
                        gconstpointer data)
{
  const char *const scripts[] = {
    GREETING CAPS FIRST_POST "expect POST\nclose\n",
    GREETING CAPS FIRST_POST "line 240 got 2\n",
    NULL
  };
  MsgTestQueued posts = { 0 };

  g_test_summary ("A connection lost after an article, with the next POST behind it: the "
                  "first is outcome unknown, the second is posted on a new connection (its "
                  "article never went).");
  msg_test_queued_start_transport (f, "nntp", scripts, TRUE);
  msg_test_queued_start (f, &posts, MSG_TEST_CALL_POST, make_article, 2);
  msg_test_queued_wait (&posts, 2);
  g_assert_error (posts.results[0].error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_OUTCOME_UNKNOWN);
  msg_test_queued_assert_done (&posts, 1, 240, "got 2");
  msg_test_queued_clear (&posts);
}

static void
test_refused_pipelined_post (Fixture      *f,
                             gconstpointer data)
{
  const char *const scripts[] = {
    GREETING CAPS FIRST_POST "expect POST\nsend 240 got 1\\r\\n440 posting not permitted\\r\\n\n"
                             "wait-close\n",
    NULL
  };
  MsgTestQueued posts = { 0 };

  g_test_summary ("A pipelined POST refused with 440 fails its own post (posting not "
                  "allowed), not the article before it.");
  msg_test_queued_start_transport (f, "nntp", scripts, TRUE);
  msg_test_queued_start (f, &posts, MSG_TEST_CALL_POST, make_article, 2);
  msg_test_queued_wait (&posts, 2);
  msg_test_queued_assert_done (&posts, 0, 240, "got 1");
  g_assert_error (posts.results[1].error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_POSTING_NOT_ALLOWED);
  g_assert_nonnull (strstr (posts.results[1].error->message, "440 posting not permitted"));
  msg_test_queued_clear (&posts);
}

static void
test_cancel_queued (Fixture      *f,
                    gconstpointer data)
{
  const char *const scripts[] = {
    /* Until every post is queued: in worker threads, the first could
     * otherwise reach its article before the second is queued. */
    "gate\n" GREETING CAPS FIRST_POST "expect POST\nmark\n"
    /* Not a time bound: the outcome is the same whether the
     * cancellation comes before or after this answer. */
    "sleep 200\n"
    "send 240 got 1\\r\\n340 send article\\r\\n\n"
    "wait-close\n",
    GREETING CAPS FIRST_POST "line 240 got 3\n",
    NULL
  };
  MsgTestQueued    posts = { 0 };
  g_autofree char *wire = NULL;

  g_test_summary ("A queued post whose POST went behind the previous article and that is "
                  "cancelled before its turn fails as cancelled, its article never goes, "
                  "and the next post does not take that connection (with a 340 open).");
  /* In worker threads, so that this thread can cancel while the first
   * post waits for its answer. */
  msg_test_queued_start_transport (f, "nntp", scripts, FALSE);
  msg_test_queued_start (f, &posts, MSG_TEST_CALL_POST, make_article, 3);
  g_assert_true (msg_test_server_wait_mark (f->server, 1, 10000));
  g_cancellable_cancel (posts.cancellables[1]);
  msg_test_queued_wait (&posts, 3);
  msg_test_queued_assert_done (&posts, 0, 240, "got 1");
  g_assert_error (posts.results[1].error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  msg_test_queued_assert_done (&posts, 2, 240, "got 3");
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 2);
  wire = msg_test_server_get_received_text (f->server, 0);
  g_assert_null (strstr (wire, "Article number 2."));
  msg_test_queued_clear (&posts);
}

static void
test_large_article (Fixture      *f,
                    gconstpointer data)
{
  const char *const scripts[] = {
    GREETING CAPS FIRST_POST "expect POST\nsend 240 got 1\\r\\n340 send article\\r\\n\ndata\n"
                             "line 240 got 2\n" QUIT,
    NULL
  };
  g_autoptr (GString) body = g_string_new (NULL);
  g_autoptr (MsgMessage) large = make_article (1);
  g_autoptr (MsgMessage) small = make_article (2);
  g_autofree char *wire = NULL;
  MsgTestQueued    posts = { 0 };

  g_test_summary ("An article over 32 KiB (measured, then streamed) and a small one behind "
                  "it (written while the server files the first) both arrive whole and "
                  "dot-stuffed.");
  /* 2,000 lines of 49 octets, each starting with a dot: about 100 KiB. */
  for (guint i = 0; i < 2000; i++)
    g_string_append_printf (body, ".line %04u of a long article, dot-stuffed.....\n", i);
  msg_message_set_text_body (large, body->str);
  msg_message_set_text_body (small, ".small\n");
  msg_test_queued_start_transport (f, "nntp", scripts, TRUE);
  posts.messages[0] = g_object_ref (large);
  posts.messages[1] = g_object_ref (small);
  for (guint i = 0; i < 2; i++)
    msg_transport_post_message_async (f->transport, posts.messages[i], NULL, msg_test_post_done_cb,
                                      &posts.results[i]);
  msg_test_queued_wait (&posts, 2);
  msg_test_queued_assert_done (&posts, 0, 240, "got 1");
  msg_test_queued_assert_done (&posts, 1, 240, "got 2");
  g_assert_true (msg_transport_close (f->transport, NULL, NULL));
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  wire = msg_test_server_get_received_text (f->server, 0);
  g_assert_nonnull (strstr (wire, "\r\n..line 0000 of a long article"));
  g_assert_nonnull (strstr (wire, "\r\n..line 1999 of a long article, dot-stuffed.....\r\n.\r\nPOST\r\n"));
  g_assert_nonnull (strstr (wire, "\r\n\r\n..small\r\n.\r\nQUIT\r\n"));
  msg_test_queued_clear (&posts);
}

static void
test_sync_not_pipelined (Fixture      *f,
                         gconstpointer data)
{
  const char *const scripts[] = {
    GREETING CAPS FIRST_POST "line 240 got 1\n" FIRST_POST "line 240 got 2\n" QUIT,
    NULL
  };
  g_autoptr (MsgMessage) first = make_article (1);
  g_autoptr (MsgMessage) second = make_article (2);
  g_autoptr (MsgSendReport) report1 = NULL;
  g_autoptr (MsgSendReport) report2 = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *wire = NULL;

  g_test_summary ("With nothing queued (one sync call after the other), the article is "
                  "followed by nothing until its 240.");
  msg_test_queued_start_transport (f, "nntp", scripts, FALSE);
  report1 = msg_transport_post_message (f->transport, first, NULL, &error);
  g_assert_no_error (error);
  report2 = msg_transport_post_message (f->transport, second, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (msg_transport_close (f->transport, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg_test_server_get_n_connections (f->server), ==, 1);
  g_assert_true (msg_test_server_wait_closed (f->server, 2000));
  wire = msg_test_server_get_received_text (f->server, 0);
  g_assert_nonnull (strstr (wire, "Article number 1.\r\n.\r\nPOST\r\n"));
}

int
main (int    argc,
      char **argv)
{
  g_setenv ("G_MESSAGES_DEBUG", "msgobj", TRUE);
  msg_test_capture_log ();
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);

  msg_test_fixture_init ();

#define ADD(path, func) g_test_add (path, Fixture, NULL, msg_test_fixture_setup, func, msg_test_fixture_teardown)
  ADD ("/nntp-pipelining/wire-order", test_wire_order);
  ADD ("/nntp-pipelining/second-rejected", test_second_rejected);
  ADD ("/nntp-pipelining/drop-after-reply", test_drop_after_reply);
  ADD ("/nntp-pipelining/drop-before-reply", test_drop_before_reply);
  ADD ("/nntp-pipelining/refused-pipelined-post", test_refused_pipelined_post);
  ADD ("/nntp-pipelining/cancel-queued", test_cancel_queued);
  ADD ("/nntp-pipelining/large-article", test_large_article);
  ADD ("/nntp-pipelining/sync", test_sync_not_pipelined);

  {
    int result = g_test_run ();

    msg_test_fixture_cleanup ();
    return result;
  }
}
