/* msg-test-sink.h: a small SMTP sink for tests of many messages
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* An SMTP server on 127.0.0.1 (a free port) that takes any number of
 * connections at once, each in a thread of its own, and keeps what it
 * accepted, by Subject. A message whose Subject contains "reject" gets
 * 554 after its final dot, "tempfail" 451, "blackhole" no answer then
 * or later on its connection (the rest of what comes is read, unanswered);
 * any other gets 250. A RCPT to an address containing "greylist" gets
 * 450, "nosuchuser" 550. */
typedef struct _MsgTestSink MsgTestSink;

MsgTestSink *msg_test_sink_new (void);
/* Stops listening, closes every connection and waits for their threads. */
void    msg_test_sink_free (MsgTestSink *self);
guint16 msg_test_sink_get_port (MsgTestSink *self);
/* After @n accepted messages, the sink "dies": every connection is cut
 * (without answering the message in flight) and new ones are refused. */
void msg_test_sink_set_die_after (MsgTestSink *self,
                                  guint        n);
/* The connection that gets the @n-th accepted message (counted over
 * all) is cut right after its 250, without reading what followed it. */
void msg_test_sink_set_drop_after (MsgTestSink *self,
                                   guint        n);
/* After each final dot, waits up to @hold_ms for the client to write
 * more (the next message's envelope, pipelined behind the dot: RFC 2920
 * section 3.1) before answering; counts the dots so followed. */
void  msg_test_sink_set_hold (MsgTestSink *self,
                              guint        hold_ms);
guint msg_test_sink_get_n_pipelined (MsgTestSink *self);
/* Waits up to @timeout_ms until @n messages were accepted in all. */
gboolean msg_test_sink_wait_accepted (MsgTestSink *self,
                                      guint        n,
                                      guint        timeout_ms);
guint    msg_test_sink_get_n_accepted (MsgTestSink *self);
guint    msg_test_sink_get_n_connections (MsgTestSink *self);
/* How many times a message with @subject was accepted. */
guint msg_test_sink_count (MsgTestSink *self,
                           const char  *subject);
/* The last accepted message with @subject (dot-unstuffed, CRLF), and its
 * envelope recipients joined with spaces. */
char *msg_test_sink_get_message (MsgTestSink *self,
                                 const char  *subject,
                                 char       **recipients);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgTestSink, msg_test_sink_free)

G_END_DECLS
