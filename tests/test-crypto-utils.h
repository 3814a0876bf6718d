/* test-crypto-utils.h: helpers shared by the crypto and DKIM suites
 * (test-crypto.c, test-crypto-send.c, test-dkim.c): throw-away gpg
 * keyrings, passphrase functions that do not answer at once, and the
 * message a scripted SMTP server got
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Runs gpg --batch --no-tty @args (NULL-terminated) on the keyring
 * @gnupghome; a failure ends the test with gpg's error output. Returns
 * gpg's standard output. */
char *msg_test_gpg_run (const char        *gnupghome,
                        const char *const *args);

/* Makes a key for @uid in @gnupghome, protected by @passphrase ("" for
 * none). */
void msg_test_gpg_gen_key (const char *gnupghome,
                           const char *uid,
                           const char *passphrase);

/* A fresh keyring directory under /tmp whose agent takes a loopback
 * passphrase and caches none. */
char *msg_test_gpg_make_home (void);

/* Ends the agent of @gnupghome and waits (10 s at most) for its process
 * to exit. */
void msg_test_gpg_kill_agent (const char *gnupghome);

/* For pthread_atfork()'s child hook in a process that runs gpg (through
 * GPGME) under valgrind: turns the leak check off in the child. */
void msg_test_gpg_forked_child_cb (void);

/* A passphrase function for an _async call: it runs in the caller's
 * main context, and while it runs (a person who does not answer) that
 * context goes on (as under a dialog), where the call's result comes. */
typedef struct
{
  GMainContext *context; /* (nullable): the caller's, for an async call */
  GAsyncResult *result;  /* (owned) (nullable) */
  GThread      *thread;
  gboolean      in_context;
  int           calls;
  gboolean      wait_for_result;
  GCancellable *cancel; /* (nullable) */
  gint64        cancelled_at;
  gint64        result_at;
} MsgTestPending;

/* A GAsyncReadyCallback that keeps the result in @user_data, a
 * MsgTestPending, and the time it came. */
void msg_test_pending_done_cb (GObject      *source,
                               GAsyncResult *result,
                               gpointer      user_data);

/* Iterates @pending's context until the result comes; 30 s, scaled, at
 * most. */
void msg_test_pending_wait (MsgTestPending *pending);

/* What a passphrase function does before it answers: counts the call,
 * notes its thread and whether it runs in @pending's context, cancels
 * @pending's cancellable if set, and waits for the result if asked to. */
void msg_test_pending_asked (MsgTestPending *pending);

/* The DATA a scripted SMTP server got (@wire), un-dot-stuffed: the bytes
 * of the message. */
GString *msg_test_undo_data (const char *wire);

G_END_DECLS
