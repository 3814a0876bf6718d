/* msgobj-flush.c: msgobj flush [--post] DIR
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msgobj-tool.h"

#include <glib-unix.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

typedef struct
{
  GMainLoop    *loop;
  GCancellable *cancellable;
  GError       *error;
  gboolean      ok;
  gboolean      progress_shown;
} FlushState;

static gboolean
interrupted_cb (gpointer user_data)
{
  FlushState *state = user_data;

  g_cancellable_cancel (state->cancellable);
  return G_SOURCE_CONTINUE;
}

static void
progress_cb (MsgFlusher *flusher,
             guint       done,
             guint       total,
             guint64     bytes,
             gpointer    user_data)
{
  FlushState *state = user_data;
  int         width = 40;
  int         filled = total > 0 ? (int) ((guint64) done * width / total) : width;

  g_printerr ("\r[%.*s%*s] %u/%u messages, %" G_GUINT64_FORMAT " KiB",
              filled, "########################################", width - filled, "",
              done, total, bytes / 1024);
  state->progress_shown = TRUE;
}

static void
flushed_cb (GObject      *source,
            GAsyncResult *result,
            gpointer      user_data)
{
  FlushState *state = user_data;

  state->ok = msg_flusher_run_finish (MSG_FLUSHER (source), result, &state->error);
  g_main_loop_quit (state->loop);
}

/* As `send`: 7 if any outcome is unknown, 4 if any message was refused
 * or is left for later, else 0. */
static int
exit_code_for_counts (MsgFlusher *flusher)
{
  if (msg_flusher_get_n_unknown (flusher) > 0)
    return EXIT_OUTCOME_UNKNOWN;
  if (msg_flusher_get_n_failed (flusher) > 0 || msg_flusher_get_n_deferred (flusher) > 0)
    return EXIT_TRANSPORT;
  return EXIT_OK;
}

int
command_flush (const char *directory_path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgConfiguration) configuration = NULL;
  g_autoptr (MsgDropDirectory) directory = NULL;
  g_autoptr (MsgFlusher) flusher = NULL;
  g_autoptr (GError) deferral = NULL;
  FlushState state = { 0 };
  guint      sigint_id;
  guint      sigterm_id;
  double     rate_limit = 0;

  if (opts.limit != NULL)
    {
      char *end = NULL;

      rate_limit = g_ascii_strtod (opts.limit, &end);
      /* Not NaN, infinity, hexadecimal or a sign: a plain number. */
      if (end == opts.limit || *end != '\0' || !g_ascii_isdigit (opts.limit[0]) ||
          !(rate_limit > 0 && rate_limit <= MSG_FLUSHER_MAX_RATE_LIMIT) ||
          strpbrk (opts.limit, "xXnN") != NULL)
        {
          g_autofree char *shown = escape_controls (opts.limit);

          g_printerr ("msgobj: --limit wants a number of messages a second above 0 and at most "
                      "1000000 (such as 20 or 0.5), not “%s”\n",
                      shown);
          return EXIT_USAGE;
        }
    }
  if (opts.connections != 0 && (opts.connections < 1 || opts.connections > 64))
    {
      g_printerr ("msgobj: --connections wants a number from 1 to 64, not %d\n", opts.connections);
      return EXIT_USAGE;
    }
  if (!g_file_test (directory_path, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *shown = escape_controls (directory_path);

      g_printerr ("msgobj: flush: “%s” is not a directory\n", shown);
      return EXIT_USAGE;
    }
  configuration = load_configuration (&error);
  if (configuration == NULL)
    return fail (error);
  if (!set_secrets (configuration, opts.post ? "postpassword" : "sendpassword", NULL, &error))
    return fail (error);

  directory = msg_drop_directory_new (directory_path);
  flusher = msg_flusher_new (configuration, directory);
  if (opts.connections != 0)
    msg_flusher_set_connections (flusher, (guint) opts.connections);
  msg_flusher_set_rate_limit (flusher, rate_limit);
  msg_flusher_set_post (flusher, opts.post);

  state.loop = g_main_loop_new (NULL, FALSE);
  state.cancellable = g_cancellable_new ();
  /* Ctrl-C cancels every send: each message goes back, or to unknown/. */
  sigint_id = g_unix_signal_add (SIGINT, interrupted_cb, &state);
  sigterm_id = g_unix_signal_add (SIGTERM, interrupted_cb, &state);
  if (isatty (STDERR_FILENO) && !opts.quiet)
    g_signal_connect (flusher, "progress", G_CALLBACK (progress_cb), &state);

  msg_flusher_run_async (flusher, state.cancellable, flushed_cb, &state);
  g_main_loop_run (state.loop);
  if (state.progress_shown)
    g_printerr ("\n");

  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  g_main_loop_unref (state.loop);
  g_object_unref (state.cancellable);

  if (!opts.quiet)
    g_print ("sent %u, failed %u, deferred %u, unknown %u, skipped %u\n",
             msg_flusher_get_n_sent (flusher), msg_flusher_get_n_failed (flusher),
             msg_flusher_get_n_deferred (flusher), msg_flusher_get_n_unknown (flusher),
             msg_flusher_get_n_skipped (flusher));
  /* Exit code 4 with no word of why would leave the user guessing. */
  deferral = msg_flusher_dup_deferral_error (flusher);
  if (deferral != NULL)
    g_printerr ("msgobj flush: messages left for a later run: %s\n", deferral->message);
  if (!state.ok)
    {
      int code = fail (state.error);

      g_error_free (state.error);
      return code;
    }
  return exit_code_for_counts (flusher);
}
