/* test-deadline.c: the poll() wait of a plain socket (docs/design.md,
 * decision 19), private code linked from its object
 *
 * The connection and fault suites run it through every wait; these tests
 * pin what those cannot see: the wake-up descriptor is left empty after a
 * cancellation, so that the next wait on it waits.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "msg-deadline-private.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib-unix.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct
{
  int fds[2]; /* a connected pair of sockets: [0] waited on, [1] written */
  int wake_fd;
} Fixture;

static void
setup (Fixture      *f,
       gconstpointer data)
{
  g_assert_cmpint (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, f->fds), ==, 0);
  f->wake_fd = _msg_deadline_wake_fd_new ();
  if (f->wake_fd < 0)
    g_test_skip ("no eventfd on this system: the connection waits on its context");
}

static void
teardown (Fixture      *f,
          gconstpointer data)
{
  close (f->fds[0]);
  close (f->fds[1]);
  if (f->wake_fd >= 0)
    close (f->wake_fd);
}

/* Milliseconds from now; the bounds below allow for a loaded machine
 * under valgrind (MSGOBJ_TEST_TIME_SCALE is not needed: none is tight). */
static gint64
in_ms (int ms)
{
  return g_get_monotonic_time () + (gint64) ms * 1000;
}

/* Whether @wake_fd holds no wake-up (it is non-blocking). */
static gboolean
wake_fd_empty (int wake_fd)
{
  guint64 count;

  return read (wake_fd, &count, sizeof count) < 0 && errno == EAGAIN;
}

/* This thread's CPU time, µs: a wait that spins instead of sleeping in
 * poll() spends its whole length here. */
static gint64
thread_cpu_us (void)
{
  struct rusage ru;

  g_assert_cmpint (getrusage (RUSAGE_THREAD, &ru), ==, 0);
  return (gint64) (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * G_USEC_PER_SEC + ru.ru_utime.tv_usec +
         ru.ru_stime.tv_usec;
}

static void
test_ready (Fixture      *f,
            gconstpointer data)
{
  gint64 start;

  g_test_summary ("Data already there, or arriving later, ends the wait as ready.");
  if (f->wake_fd < 0)
    return;
  g_assert_cmpint (write (f->fds[1], "x", 1), ==, 1);
  g_assert_cmpint (_msg_deadline_poll_fd (f->fds[0], G_IO_IN, f->wake_fd, in_ms (60000), NULL), ==,
                   MSG_DEADLINE_READY);

  /* A hang-up counts as ready too: the read that follows reports it. */
  start = g_get_monotonic_time ();
  shutdown (f->fds[1], SHUT_WR);
  g_assert_cmpint (_msg_deadline_poll_fd (f->fds[0], G_IO_IN, f->wake_fd, in_ms (60000), NULL), ==,
                   MSG_DEADLINE_READY);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 30 * G_USEC_PER_SEC);
}

static void
test_timed_out (Fixture      *f,
                gconstpointer data)
{
  gint64 start = g_get_monotonic_time ();
  gint64 until = in_ms (100);

  g_test_summary ("Nothing to read: the wait ends at the clock, not before it.");
  if (f->wake_fd < 0)
    return;
  g_assert_cmpint (_msg_deadline_poll_fd (f->fds[0], G_IO_IN, f->wake_fd, until, NULL), ==,
                   MSG_DEADLINE_TIMED_OUT);
  g_assert_cmpint (g_get_monotonic_time (), >=, until);
  /* Generous: a loaded machine may run the thread late, never early. */
  g_assert_cmpint (g_get_monotonic_time () - start, <, 30 * G_USEC_PER_SEC);

  /* A clock already past: at once, without polling. */
  g_assert_cmpint (_msg_deadline_poll_fd (f->fds[0], G_IO_IN, f->wake_fd, start, NULL), ==,
                   MSG_DEADLINE_TIMED_OUT);
}

static void
test_writable (Fixture      *f,
               gconstpointer data)
{
  char   block[4096] = { 0 };
  gint64 until = in_ms (100);

  g_test_summary ("A full send buffer makes a wait for writing run to its clock; once the peer "
                  "reads, the wait ends as ready.");
  if (f->wake_fd < 0)
    return;
  g_unix_set_fd_nonblocking (f->fds[0], TRUE, NULL);
  g_unix_set_fd_nonblocking (f->fds[1], TRUE, NULL);
  while (write (f->fds[0], block, sizeof block) > 0)
    ;
  g_assert_cmpint (errno, ==, EAGAIN);
  g_assert_cmpint (_msg_deadline_poll_fd (f->fds[0], G_IO_OUT, f->wake_fd, until, NULL), ==,
                   MSG_DEADLINE_TIMED_OUT);
  g_assert_cmpint (g_get_monotonic_time (), >=, until);

  while (read (f->fds[1], block, sizeof block) > 0)
    ;
  g_assert_cmpint (_msg_deadline_poll_fd (f->fds[0], G_IO_OUT, f->wake_fd, in_ms (60000), NULL), ==,
                   MSG_DEADLINE_READY);
}

static gpointer
cancel_thread (gpointer data)
{
  /* Most likely while the waiter polls; if it comes first, the waiter's
   * handler runs at its connection instead: CANCELLED either way. */
  g_usleep (20 * 1000);
  g_cancellable_cancel (data);
  return NULL;
}

static void
test_cancelled (Fixture      *f,
                gconstpointer data)
{
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GCancellable) fresh = g_cancellable_new ();
  GThread *thread;
  gint64   start = g_get_monotonic_time ();

  g_test_summary ("A cancellation from another thread ends the wait; the wake-up descriptor is "
                  "left empty, so a later wait with another cancellable still waits.");
  if (f->wake_fd < 0)
    return;
  thread = g_thread_new ("cancel", cancel_thread, cancellable);
  g_assert_cmpint (_msg_deadline_poll_fd (f->fds[0], G_IO_IN, f->wake_fd, G_MAXINT64, cancellable), ==,
                   MSG_DEADLINE_CANCELLED);
  g_thread_join (thread);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 30 * G_USEC_PER_SEC);
  g_assert_true (wake_fd_empty (f->wake_fd));

  /* Already cancelled: at once. */
  g_assert_cmpint (_msg_deadline_poll_fd (f->fds[0], G_IO_IN, f->wake_fd, G_MAXINT64, cancellable), ==,
                   MSG_DEADLINE_CANCELLED);
  g_assert_true (wake_fd_empty (f->wake_fd));

  /* Left empty: this wait runs to its clock (a left-over wake-up would end
   * it at once, or spin until the clock). */
  start = g_get_monotonic_time ();
  g_assert_cmpint (_msg_deadline_poll_fd (f->fds[0], G_IO_IN, f->wake_fd, in_ms (100), fresh), ==,
                   MSG_DEADLINE_TIMED_OUT);
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 100 * 1000);
}

static void
test_stale_wake_up (Fixture      *f,
                    gconstpointer data)
{
  guint64 one = 1;
  gint64  until = in_ms (200);
  gint64  cpu = thread_cpu_us ();

  g_test_summary ("A wake-up with no cancellation behind it is drained, not taken for one.");
  if (f->wake_fd < 0)
    return;
  g_assert_cmpint (write (f->wake_fd, &one, sizeof one), ==, sizeof one);
  g_assert_cmpint (_msg_deadline_poll_fd (f->fds[0], G_IO_IN, f->wake_fd, until, NULL), ==,
                   MSG_DEADLINE_TIMED_OUT);
  g_assert_cmpint (g_get_monotonic_time (), >=, until);
  g_assert_true (wake_fd_empty (f->wake_fd));
  /* Slept, not spun: a spinning wait spends its 200 ms on the CPU (a
   * sleeping one well under a millisecond, valgrind included). */
  g_assert_cmpint (thread_cpu_us () - cpu, <, 100 * 1000);
}

/* With no descriptor left, a context is refused with a clear error where
 * g_main_context_new() would abort the process; with one, it is made. */
static void
test_context_emfile (void)
{
  g_test_summary ("A main context that cannot have its wake-up descriptor (EMFILE) is an error, "
                  "not an abort.");
  if (g_test_subprocess ())
    {
      g_autoptr (GError) error = NULL;
      GMainContext *context;
      struct rlimit saved;
      struct rlimit limit;
      int           lowest = dup (0);

      g_assert_cmpint (lowest, >=, 0);
      close (lowest);
      g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &saved), ==, 0);
      limit = saved;
      limit.rlim_cur = (rlim_t) lowest;
      g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &limit), ==, 0);
      context = _msg_main_context_try_new (&error);
      g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &saved), ==, 0);
      g_assert_null (context);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES);
      g_assert_nonnull (strstr (error->message, "No file descriptor is available"));
      g_clear_error (&error);

      context = _msg_main_context_try_new (&error);
      g_assert_no_error (error);
      g_assert_nonnull (context);
      g_main_context_unref (context);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) g_test_add (path, Fixture, NULL, setup, func, teardown)
  ADD ("/deadline/poll/ready", test_ready);
  ADD ("/deadline/poll/timed-out", test_timed_out);
  ADD ("/deadline/poll/writable", test_writable);
  ADD ("/deadline/poll/cancelled", test_cancelled);
  ADD ("/deadline/poll/stale-wake-up", test_stale_wake_up);
#undef ADD
  g_test_add_func ("/deadline/context/emfile", test_context_emfile);

  return g_test_run ();
}
