/* msg-caller-request-private.h: a question to the caller's main context
 *
 * An operation's thread asks the caller for a string (an OAuth token, a
 * passphrase): the function runs in the caller's GMainContext, queued
 * there as a source, while the thread waits for its answer until a
 * deadline or a cancellable fires, or until another thread abandons the
 * request. Once the thread stops waiting the function, if it has not
 * started, does not run, and an answer that comes later is wiped and
 * dropped. Answers are secrets: free them with _msg_secret_free().
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _MsgCallerRequest MsgCallerRequest;

/* Runs in the caller's context; returns a newly allocated string (a
 * secret) or NULL. */
typedef char *(*MsgCallerRequestFunc) (gpointer user_data);

MsgCallerRequest *_msg_caller_request_new (MsgCallerRequestFunc func,
                                           gpointer             user_data,
                                           GDestroyNotify       destroy);

MsgCallerRequest *_msg_caller_request_ref (MsgCallerRequest *self);

void _msg_caller_request_unref (MsgCallerRequest *self);

/* Queues the function in @context at @priority under the source name
 * @name (a static string) and waits for its answer until @deadline
 * (monotonic µs; 0 for none), @cancellable or _msg_caller_request_abandon();
 * call it once. Returns the answer, or NULL; *@timed_out says whether
 * @deadline ended the wait. */
char *_msg_caller_request_run (MsgCallerRequest *self,
                               GMainContext     *context,
                               int               priority,
                               const char       *name,
                               gint64            deadline,
                               GCancellable     *cancellable,
                               gboolean         *timed_out);

/* From any thread: the waiter stops waiting, unless answered already. */
void _msg_caller_request_abandon (MsgCallerRequest *self);

/* Where a caller gave the library something of its own (a function's
 * data, such as a JavaScript closure): its thread and that thread's
 * default main context then. gjs frees a closure only in its own thread,
 * so the last reference to such data, which a library thread may drop,
 * must not free it there. */
typedef struct
{
  GThread      *thread;
  GMainContext *context; /* (owned) */
} MsgCallerHome;

/* Records the calling thread as the home. */
void _msg_caller_home_init (MsgCallerHome *home);

/* Calls @destroy (nullable) on @data at once in the home thread, or else
 * queues the call in the home's main context; clears @home. */
void _msg_caller_home_destroy (MsgCallerHome *home,
                               GDestroyNotify destroy,
                               gpointer       data);

/* Wipes @text (nullable) and frees it. */
void _msg_secret_free (char *text);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgCallerRequest, _msg_caller_request_unref)

G_END_DECLS
