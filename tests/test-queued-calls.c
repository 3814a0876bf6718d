/* test-queued-calls.c: several sends or posts queued on one transport at
 * once, for the pipelining suites
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-queued-calls.h"

#include <string.h>

/* Calls completed so far in this process (callbacks run in the default
 * main context's thread). */
static guint n_completed;

void
msg_test_send_done_cb (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  MsgTestCallResult *r = user_data;

  r->report = msg_transport_send_message_finish (MSG_TRANSPORT (source), result, &r->error);
  r->rank = ++n_completed;
  r->done = TRUE;
}

void
msg_test_post_done_cb (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  MsgTestCallResult *r = user_data;

  r->report = msg_transport_post_message_finish (MSG_TRANSPORT (source), result, &r->error);
  r->rank = ++n_completed;
  r->done = TRUE;
}

void
msg_test_call_wait (MsgTestCallResult *result)
{
  while (!result->done)
    g_main_context_iteration (NULL, TRUE);
}

void
msg_test_call_clear (MsgTestCallResult *result)
{
  g_clear_object (&result->report);
  g_clear_error (&result->error);
  result->done = FALSE;
  result->rank = 0;
}

void
msg_test_queued_start_transport (MsgTestFixture    *f,
                                 const char        *protocol,
                                 const char *const *scripts,
                                 gboolean           in_caller)
{
  msg_test_fixture_start (f, protocol, scripts);
  g_object_set (f->transport, "run-in-caller-context", in_caller, NULL);
}

void
msg_test_queued_start (MsgTestFixture     *f,
                       MsgTestQueued      *queued,
                       MsgTestCallKind     kind,
                       MsgTestMessageMaker make,
                       guint               n)
{
  g_assert_cmpuint (n, <=, MSG_TEST_N_QUEUED);
  for (guint i = 0; i < n; i++)
    {
      queued->messages[i] = make (i + 1);
      queued->cancellables[i] = g_cancellable_new ();
      if (kind == MSG_TEST_CALL_SEND)
        msg_transport_send_message_async (f->transport, queued->messages[i], queued->cancellables[i],
                                          msg_test_send_done_cb, &queued->results[i]);
      else
        msg_transport_post_message_async (f->transport, queued->messages[i], queued->cancellables[i],
                                          msg_test_post_done_cb, &queued->results[i]);
    }
  /* A script that starts with "gate" waits until every call is queued. */
  msg_test_server_open_gate (f->server);
}

void
msg_test_queued_wait (MsgTestQueued *queued,
                      guint          n)
{
  for (guint i = 0; i < n; i++)
    msg_test_call_wait (&queued->results[i]);
}

void
msg_test_queued_clear (MsgTestQueued *queued)
{
  for (guint i = 0; i < MSG_TEST_N_QUEUED; i++)
    {
      msg_test_call_clear (&queued->results[i]);
      g_clear_object (&queued->messages[i]);
      g_clear_object (&queued->cancellables[i]);
    }
}

void
msg_test_queued_assert_done (MsgTestQueued *queued,
                             guint          i,
                             guint          code,
                             const char    *response)
{
  MsgSendReport *report = queued->results[i].report;

  g_assert_no_error (queued->results[i].error);
  g_assert_nonnull (report);
  if (code != 0)
    g_assert_cmpuint (msg_send_report_get_server_code (report), ==, code);
  g_assert_nonnull (strstr (msg_send_report_get_server_response (report), response));
}

gpointer
msg_test_sync_send_thread (gpointer data)
{
  MsgTestSyncSend *send = data;

  send->report = msg_transport_send_message (send->transport, send->message, NULL, &send->error);
  return NULL;
}

MsgMessage *
msg_test_make_numbered_message (guint n)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *subject = g_strdup_printf ("Message %u", n);
  MsgMessage      *message = msg_message_new ();

  g_assert_true (msg_message_set_from (message, "Alice <alice@example.test>", &error));
  g_assert_true (msg_message_set_to (message, "bob@example.test", &error));
  g_assert_true (msg_message_set_subject (message, subject, &error));
  g_assert_no_error (error);
  msg_message_set_text_body (message, "Hi Bob.\n");
  return message;
}
