/* test-queued-calls.h: several sends or posts queued on one transport at
 * once, for the pipelining suites (test-smtp-pipelining.c,
 * test-nntp-pipelining.c)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <msgobj.h>

#include "test-utils.h"

G_BEGIN_DECLS

/* The most calls a MsgTestQueued holds. */
#define MSG_TEST_N_QUEUED 3

/* The outcome of one call, filled in by its callback. */
typedef struct
{
  MsgSendReport *report;
  GError        *error;
  gboolean       done;
  guint          rank; /* 1 for the first call of this process to complete, ... */
} MsgTestCallResult;

/* Which method the calls use. */
typedef enum
{
  MSG_TEST_CALL_SEND,
  MSG_TEST_CALL_POST,
} MsgTestCallKind;

/* Makes message number @n (1, 2, ...). */
typedef MsgMessage *(*MsgTestMessageMaker) (guint n);

/* Up to MSG_TEST_N_QUEUED calls, each with its message, its cancellable
 * and its result. Zero-initialise; free with msg_test_queued_clear(). */
typedef struct
{
  MsgTestCallResult results[MSG_TEST_N_QUEUED];
  MsgMessage       *messages[MSG_TEST_N_QUEUED];
  GCancellable     *cancellables[MSG_TEST_N_QUEUED];
} MsgTestQueued;

/* Callbacks of msg_transport_send_message_async() and
 * msg_transport_post_message_async(); @user_data is a
 * MsgTestCallResult. */
void msg_test_send_done_cb (GObject      *source,
                            GAsyncResult *result,
                            gpointer      user_data);
void msg_test_post_done_cb (GObject      *source,
                            GAsyncResult *result,
                            gpointer      user_data);

/* msg_test_fixture_start(), then the transport's run-in-caller-context
 * set to @in_caller (TRUE: the operations run in this thread's context,
 * so none starts before every call is queued and the order does not
 * depend on the scheduler). */
void msg_test_queued_start_transport (MsgTestFixture    *f,
                                      const char        *protocol,
                                      const char *const *scripts,
                                      gboolean           in_caller);

/* Queues @n calls of @kind, of the messages @make makes (1, 2, ...), each
 * with a cancellable, in call order; then opens the server's gate (a
 * script that starts with "gate" waits until every call is queued). */
void msg_test_queued_start (MsgTestFixture     *f,
                            MsgTestQueued      *queued,
                            MsgTestCallKind     kind,
                            MsgTestMessageMaker make,
                            guint               n);

/* Iterates the default main context until @result is done. */
void msg_test_call_wait (MsgTestCallResult *result);

/* Forgets @result's report and error, for another call. */
void msg_test_call_clear (MsgTestCallResult *result);

/* Iterates the default main context until the first @n calls are done. */
void msg_test_queued_wait (MsgTestQueued *queued,
                           guint          n);

/* Frees every result, message and cancellable of @queued. */
void msg_test_queued_clear (MsgTestQueued *queued);

/* Asserts that call @i succeeded, with the server code @code (0: any) and
 * a server response that contains @response. */
void msg_test_queued_assert_done (MsgTestQueued *queued,
                                  guint          i,
                                  guint          code,
                                  const char    *response);

/* Message number @n from alice@example.test to bob@example.test, Subject
 * "Message N", a short text body. */
MsgMessage *msg_test_make_numbered_message (guint n);

/* A sync send made in a thread of its own: msg_test_sync_send_thread()
 * fills in @report or @error. */
typedef struct
{
  MsgTransport  *transport;
  MsgMessage    *message;
  MsgSendReport *report;
  GError        *error;
} MsgTestSyncSend;

/* A GThreadFunc; @data is a MsgTestSyncSend. */
gpointer msg_test_sync_send_thread (gpointer data);

G_END_DECLS
