/* test-faults-utils.h: helpers shared by the fault suites (test-faults*.c)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <msgobj.h>

#include "msg-test-server.h"

G_BEGIN_DECLS

/* How long, in ms before msg_test_time_scale(), a canceller waits for its
 * trigger: a limit that must not be what ends a case. */
#define MSG_TEST_TRIGGER_MS 8000

/* A scripted SMTP server's healthy dialogue: one message, then QUIT. */
#define MSG_TEST_SMTP_HEALTHY_SCRIPT           \
  "line 220 test.invalid ESMTP ready\n"        \
  "expect EHLO \n"                             \
  "line 250-test.invalid greets you\n"         \
  "line 250 8BITMIME\n"                        \
  "expect MAIL FROM:\n"                        \
  "line 250 2.1.0 Sender ok\n"                 \
  "expect RCPT TO:\n"                          \
  "line 250 2.1.5 Recipient ok\n"              \
  "expect DATA\n"                              \
  "line 354 End data with <CR><LF>.<CR><LF>\n" \
  "data\n"                                     \
  "line 250 2.0.0 Ok: queued as 4711\n"        \
  "expect QUIT\n"                              \
  "line 221 2.0.0 Bye\n"

/* A message from alice@example.test to bob@example.test with @subject,
 * @newsgroups (nullable: none) and @body (nullable: one short line). */
MsgMessage *msg_test_fault_message_new (const char *subject,
                                        const char *newsgroups,
                                        const char *body);

/* A configuration for the transport @protocol ("smtp", "nntp") at
 * @host:@port: <protocol>connectiontimeout @unit_ms and
 * <protocol>operationtimeout @total_ms (0: automatic), both scaled by
 * msg_test_time_scale(). */
MsgConfiguration *msg_test_fault_configuration_new (const char *protocol,
                                                    const char *host,
                                                    guint16     port,
                                                    double      unit_ms,
                                                    double      total_ms);

/* The transport @name for @configuration, asserting that it is made. */
MsgTransport *msg_test_fault_transport_new (const char       *name,
                                            MsgConfiguration *configuration);

/* Sends (@post: posts) @message on @transport synchronously, asserting
 * that it succeeds. */
void msg_test_fault_assert_sent (MsgTransport *transport,
                                 MsgMessage   *message,
                                 gboolean      post);

/* How a case makes its call. */
typedef enum
{
  MSG_TEST_MODE_SYNC,
  MSG_TEST_MODE_ASYNC,
  MSG_TEST_MODE_CANCEL_THREAD, /* sync call, cancelled from another thread */
  MSG_TEST_MODE_CANCEL_LOOP,   /* async call, cancelled from its main loop */
  MSG_TEST_N_MODES
} MsgTestMode;

/* "sync", "async", "cancel-thread", "cancel-loop": the last part of the
 * cases' paths. */
extern const char *const msg_test_mode_names[MSG_TEST_N_MODES];

gboolean msg_test_mode_is_cancel (MsgTestMode mode);

/* Running one call in a mode. */

typedef enum
{
  MSG_TEST_OP_SEND,         /* msg_transport_send_message() */
  MSG_TEST_OP_POST,         /* msg_transport_post_message() */
  MSG_TEST_OP_CLOSE,        /* msg_transport_close() */
  MSG_TEST_OP_MESSAGE_SEND, /* msg_message_send(): the one-shot path */
  MSG_TEST_OP_MESSAGE_POST, /* msg_message_post() */
} MsgTestOp;

typedef struct _MsgTestRun MsgTestRun;

struct _MsgTestRun
{
  /* In. */
  MsgTransport  *transport; /* for the transport's calls */
  MsgMessage    *message;
  MsgTestOp      op;
  MsgTestMode    mode;
  MsgTestServer *server;  /* the cancel trigger: its first mark */
  unsigned       sockets; /* or, without a server: a socket above this */
  /* (nullable) or this, in the canceller's thread: returns once the
   * trigger is seen, or FALSE when it gave up waiting. */
  gboolean (*wait_trigger) (MsgTestRun *run);
  gpointer data;     /* for @wait_trigger */
  gulong   delay_us; /* from the trigger to the cancel */
  /* Out. */
  GMainContext *context;
  GCancellable *cancellable;
  gboolean      ok;
  GError       *error;
  unsigned      n_callbacks;
  gboolean      callback_in_context;
  gint64        start;
  gint64        end;
  gint64        cancelled_at;
  gboolean      trigger_seen;
};

/* Makes @run's call in its mode, on a main context of its own: a cancel
 * mode cancels from a thread once the trigger is seen and @delay_us has
 * passed (from that thread, or through the call's main context). An
 * asynchronous call must call back exactly once, in that context. */
void msg_test_run_call (MsgTestRun *run);

/* The GAsyncReadyCallback of @run's asynchronous call (data: the run),
 * for a test that drives the call itself. */
void msg_test_run_done_cb (GObject      *source,
                           GAsyncResult *result,
                           gpointer      run);

/* Cancels @run->cancellable from a thread once the trigger is seen; in
 * MSG_TEST_MODE_CANCEL_LOOP through @run->context. A GThreadFunc. */
gpointer msg_test_run_cancel_thread (gpointer run);

void msg_test_run_clear (MsgTestRun *run);

/* Name lookups of the test's (installed with g_resolver_set_default(), so
 * that no real DNS is needed): @lookup answers @hostname with a list of
 * GInetAddress, or sets @error. */
typedef GList *(*MsgTestLookupFunc) (const char *hostname,
                                     gpointer    data,
                                     GError    **error);

/* A GResolver whose lookups by name call @lookup with @data. As
 * GThreadedResolver does on GLib 2.74, its asynchronous lookup runs the
 * blocking one in GLib's shared worker pool and returns at once on a
 * cancel, while @lookup goes on (as getaddrinfo() does). */
GResolver *msg_test_resolver_new (MsgTestLookupFunc lookup,
                                  gpointer          data);

G_END_DECLS
