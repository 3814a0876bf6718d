/* test-caller-request.c: the caller's data is let go of in the caller's
 * thread (private code, linked from its object)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "msg-caller-request-private.h"

#include <gio/gio.h>

typedef struct
{
  int      calls;
  GThread *thread;
} Freed;

static void
freed_cb (gpointer data)
{
  Freed *freed = data;

  freed->calls++;
  freed->thread = g_thread_self ();
}

static void
test_home_same_thread (void)
{
  MsgCallerHome home;
  Freed         freed = { 0 };

  g_test_summary ("In the home thread the destroy notify runs at once.");
  _msg_caller_home_init (&home);
  _msg_caller_home_destroy (&home, freed_cb, &freed);
  g_assert_cmpint (freed.calls, ==, 1);
  g_assert_true (freed.thread == g_thread_self ());
  g_assert_null (home.context);

  /* No destroy notify: nothing to call, nothing queued. */
  _msg_caller_home_init (&home);
  _msg_caller_home_destroy (&home, NULL, &freed);
  g_assert_false (g_main_context_pending (NULL));
}

typedef struct
{
  MsgCallerHome *home;
  Freed         *freed;
} Elsewhere;

static gpointer
destroy_elsewhere (gpointer data)
{
  Elsewhere *elsewhere = data;

  _msg_caller_home_destroy (elsewhere->home, freed_cb, elsewhere->freed);
  /* Not here: queued for the home thread. */
  g_assert_cmpint (elsewhere->freed->calls, ==, 0);
  return NULL;
}

static void
test_home_other_thread (void)
{
  g_autoptr (GMainContext) context = g_main_context_new ();
  MsgCallerHome home;
  Freed         freed = { 0 };
  Elsewhere     elsewhere = { &home, &freed };
  gint64        limit;

  g_test_summary ("Let go of on a library thread, the caller's data is freed in the caller's thread, in "
                  "the main context that was its thread-default one when it gave the data (gjs frees a "
                  "JavaScript closure only in its own thread).");
  g_main_context_push_thread_default (context);
  _msg_caller_home_init (&home);
  g_main_context_pop_thread_default (context);

  g_thread_join (g_thread_new ("library", destroy_elsewhere, &elsewhere));
  g_assert_cmpint (freed.calls, ==, 0);
  /* Not in the global default context either. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpint (freed.calls, ==, 0);

  limit = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (freed.calls == 0 && g_get_monotonic_time () < limit)
    g_main_context_iteration (context, FALSE);
  g_assert_cmpint (freed.calls, ==, 1);
  g_assert_true (freed.thread == g_thread_self ());
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/caller-request/home/same-thread", test_home_same_thread);
  g_test_add_func ("/caller-request/home/other-thread", test_home_other_thread);
  return g_test_run ();
}
