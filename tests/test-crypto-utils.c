/* test-crypto-utils.c: helpers shared by the crypto and DKIM suites
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-crypto-utils.h"
#include "test-utils.h"

#include <stdlib.h>
#include <string.h>
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif

char *
msg_test_gpg_run (const char        *gnupghome,
                  const char *const *args)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_auto (GStrv) envp = g_environ_setenv (g_get_environ (), "GNUPGHOME", gnupghome, TRUE);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr (GError) error = NULL;
  int status = 0;

  g_ptr_array_add (argv, (gpointer) "gpg");
  g_ptr_array_add (argv, (gpointer) "--batch");
  g_ptr_array_add (argv, (gpointer) "--no-tty");
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  g_spawn_sync (NULL, (char **) argv->pdata, envp, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("gpg %s failed: %s", args[0], err);
  return g_steal_pointer (&out);
}

void
msg_test_gpg_gen_key (const char *gnupghome,
                      const char *uid,
                      const char *passphrase)
{
  const char *args[] = { "--pinentry-mode", "loopback", "--passphrase", passphrase,
                         "--quick-gen-key", uid, "future-default", "default", "never", NULL };

  g_free (msg_test_gpg_run (gnupghome, args));
}

char *
msg_test_gpg_make_home (void)
{
  g_autofree char *dir = g_strdup ("/tmp/msgobj-gpg-XXXXXX");
  g_autofree char *conf = NULL;

  /* Short, in /tmp: gpg-agent puts its sockets in the home directory,
   * and a socket path has at most 107 octets. */
  g_assert_nonnull (g_mkdtemp_full (dir, 0700));
  conf = g_build_filename (dir, "gpg-agent.conf", NULL);
  /* No cache: each test that needs a passphrase is asked for it. */
  g_assert_true (g_file_set_contents (conf, "allow-loopback-pinentry\ndefault-cache-ttl 0\nmax-cache-ttl 0\n", -1, NULL));
  return g_steal_pointer (&dir);
}

/* gpgconf --kill returns before the agent has exited: this waits for
 * its process. */
void
msg_test_gpg_kill_agent (const char *gnupghome)
{
  g_auto (GStrv) envp = g_environ_setenv (g_get_environ (), "GNUPGHOME", gnupghome, TRUE);
  const char      *getpid[] = { "gpg-connect-agent", "--no-autostart", "GETINFO pid", "/bye", NULL };
  const char      *kill[] = { "gpgconf", "--kill", "gpg-agent", NULL };
  g_autofree char *out = NULL;
  g_autofree char *proc = NULL;
  gint64           start;

  g_spawn_sync (NULL, (char **) getpid, envp, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                &out, NULL, NULL, NULL);
  g_spawn_sync (NULL, (char **) kill, envp, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, NULL,
                NULL, NULL, NULL);
  if (out == NULL || !g_str_has_prefix (out, "D "))
    return;
  proc = g_strdup_printf ("/proc/%d", atoi (out + 2));
  start = g_get_monotonic_time ();
  while (g_file_test (proc, G_FILE_TEST_EXISTS) && g_get_monotonic_time () - start < 10 * G_USEC_PER_SEC)
    g_usleep (20000);
}

/* GPGME starts gpg with a double fork from the library's GPGME thread.
 * Under valgrind the short-lived middle child runs the leak check at
 * its exit, with the other threads gone, so memory only they pointed to
 * reads as lost there; its non-zero exit then fails the operation. The
 * leak check stays on in this process. */
void
msg_test_gpg_forked_child_cb (void)
{
#ifdef VALGRIND_CLO_CHANGE
  VALGRIND_CLO_CHANGE ("--leak-check=no");
#endif
}

void
msg_test_pending_done_cb (GObject      *source,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  MsgTestPending *pending = user_data;

  pending->result = g_object_ref (result);
  pending->result_at = g_get_monotonic_time ();
}

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

void
msg_test_pending_wait (MsgTestPending *pending)
{
  g_autoptr (GSource) tick = g_timeout_source_new (100);
  gint64 limit = g_get_monotonic_time () + msg_test_ms_scaled (30000) * 1000;

  g_source_set_callback (tick, tick_cb, NULL, NULL);
  g_source_attach (tick, pending->context);
  while (pending->result == NULL && g_get_monotonic_time () < limit)
    g_main_context_iteration (pending->context, TRUE);
  g_source_destroy (tick);
  g_assert_nonnull (pending->result);
}

void
msg_test_pending_asked (MsgTestPending *pending)
{
  pending->calls++;
  pending->thread = g_thread_self ();
  pending->in_context = pending->context != NULL && g_main_context_is_owner (pending->context);
  if (pending->cancel != NULL)
    {
      pending->cancelled_at = g_get_monotonic_time ();
      g_cancellable_cancel (pending->cancel);
    }
  if (pending->wait_for_result)
    msg_test_pending_wait (pending);
}

GString *
msg_test_undo_data (const char *wire)
{
  const char *p = strstr (wire, "\r\nDATA\r\n");
  const char *end;
  GString    *message = g_string_new (NULL);

  g_assert_nonnull (p);
  p += 8;
  end = strstr (p, "\r\n.\r\n");
  g_assert_nonnull (end);
  end += 2;
  while (p < end)
    {
      const char *eol = strstr (p, "\r\n") + 2;

      if (*p == '.')
        p++;
      g_string_append_len (message, p, eol - p);
      p = eol;
    }
  return message;
}
