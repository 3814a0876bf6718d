/* msg-flusher-message.c: sending and filing one message of a flush
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-flusher-private.h"

#include "msg-drop-directory.h"
#include "msg-drop-message.h"
#include "msg-file-utils-private.h"
#include "msg-message.h"
#include "msg-recipient-status.h"
#include "msg-send-report.h"
#include "msg-transport.h"

#include <glib/gstdio.h>

/* The back-off after the Nth temporary failure: 1, 2, 4 … minutes, at
 * most an hour. */
#define BACKOFF_FIRST_SECONDS 60
#define BACKOFF_MAX_SECONDS 3600

static char *
retry_path (MsgDropDirectory *directory,
            const char       *name)
{
  g_autofree char *hidden = g_strdup_printf (".%s.retry", name);

  return g_build_filename (msg_drop_directory_get_path (directory), hidden, NULL);
}

/* The retry sidecar of @name, or NULL if there is none (or it is not
 * readable: it is advice, never a reason to stop). */
static GKeyFile *
load_retry (MsgDropDirectory *directory,
            const char       *name)
{
  g_autofree char *path = retry_path (directory, name);
  g_autoptr (GKeyFile) key_file = g_key_file_new ();

  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR) || g_file_test (path, G_FILE_TEST_IS_SYMLINK) ||
      !g_key_file_load_from_file (key_file, path, G_KEY_FILE_NONE, NULL))
    return NULL;
  return g_steal_pointer (&key_file);
}

static gboolean
backing_off (MsgDropDirectory *directory,
             const char       *name)
{
  g_autoptr (GKeyFile) retry = load_retry (directory, name);

  return retry != NULL &&
         g_key_file_get_int64 (retry, "retry", "next-attempt", NULL) > g_get_real_time () / G_USEC_PER_SEC;
}

static guint
previous_attempts (MsgDropDirectory *directory,
                   const char       *name)
{
  g_autoptr (GKeyFile) retry = load_retry (directory, name);

  return retry != NULL ? (guint) g_key_file_get_integer (retry, "retry", "attempts", NULL) : 0;
}

/* A file-system failure that the flush survives (the message stays where
 * a later run deals with it safely): a runtime condition, not a bug, so a
 * message in the log rather than a warning (which GLib's test harness and
 * G_DEBUG=fatal-warnings make fatal). */
static void
log_problem (const char   *what,
             const GError *error)
{
  g_message ("flush: %s: %s", what, error->message);
}

static gboolean
write_string_cb (GOutputStream *output,
                 gpointer       user_data,
                 GCancellable  *cancellable,
                 GError       **error)
{
  const char *text = user_data;

  return g_output_stream_write_all (output, text, strlen (text), NULL, cancellable, error);
}

static void
write_key_file (GKeyFile   *key_file,
                const char *path)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = g_key_file_to_data (key_file, NULL, NULL);

  if (!_msg_write_file_atomically (path, write_string_cb, text, &error))
    log_problem ("cannot write a report or retry file", error);
}

static char *
now_iso8601 (void)
{
  g_autoptr (GDateTime) now = g_date_time_new_now_utc ();

  return g_date_time_format_iso8601 (now);
}

static void
record_retry (MsgDropDirectory *directory,
              const char       *name,
              const GError     *error)
{
  g_autoptr (GKeyFile) key_file = g_key_file_new ();
  g_autofree char *path = retry_path (directory, name);
  g_autofree char *now = now_iso8601 ();
  guint            attempts = previous_attempts (directory, name) + 1;
  gint64           delay = BACKOFF_FIRST_SECONDS << MIN (attempts - 1, 6);

  delay = MIN (delay, BACKOFF_MAX_SECONDS);
  g_key_file_set_integer (key_file, "retry", "attempts", (int) attempts);
  g_key_file_set_string (key_file, "retry", "last-attempt", now);
  g_key_file_set_int64 (key_file, "retry", "next-attempt", g_get_real_time () / G_USEC_PER_SEC + delay);
  g_key_file_set_string (key_file, "retry", "last-error", error->message);
  write_key_file (key_file, path);
}

static void
forget_retry (MsgDropDirectory *directory,
              const char       *name)
{
  g_autofree char *path = retry_path (directory, name);

  g_unlink (path);
}

/* The send report beside @file (a moved message): FILE.report. */
static void
write_report (MsgDropDirectory *directory,
              const char       *name,
              GFile            *file,
              const char       *outcome,
              const GError     *error,
              MsgSendReport    *report)
{
  g_autoptr (GKeyFile) key_file = g_key_file_new ();
  g_autofree char *path = g_strconcat (g_file_peek_path (file), ".report", NULL);
  g_autofree char *now = now_iso8601 ();

  g_key_file_set_string (key_file, "report", "file", name);
  g_key_file_set_string (key_file, "report", "outcome", outcome);
  g_key_file_set_string (key_file, "report", "time", now);
  g_key_file_set_integer (key_file, "report", "attempts", (int) previous_attempts (directory, name) + 1);
  if (error != NULL)
    {
      g_key_file_set_string (key_file, "report", "error", error->message);
      g_key_file_set_string (key_file, "report", "error-domain", g_quark_to_string (error->domain));
      g_key_file_set_integer (key_file, "report", "error-code", error->code);
    }
  if (report != NULL)
    {
      g_auto (GStrv) accepted = msg_send_report_get_accepted_recipients (report);
      g_auto (GStrv) rejected = msg_send_report_get_rejected_recipients (report);

      if (msg_send_report_get_server_response (report) != NULL)
        g_key_file_set_string (key_file, "report", "server-response", msg_send_report_get_server_response (report));
      g_key_file_set_string_list (key_file, "report", "accepted", (const char *const *) accepted, g_strv_length (accepted));
      for (guint i = 0; rejected[i] != NULL; i++)
        {
          MsgRecipientStatus *status = msg_send_report_get_recipient_status (report, rejected[i]);
          g_autofree char    *text = g_strdup_printf ("%u %s", msg_recipient_status_get_code (status),
                                                   msg_recipient_status_get_text (status) != NULL ? msg_recipient_status_get_text (status) : "");

          g_key_file_set_string (key_file, "rejected", rejected[i], text);
        }
    }
  write_key_file (key_file, path);
}

/* Moves the claimed @item to @subdir with a report beside it. */
static gboolean
set_aside (MsgDropDirectory *directory,
           MsgDropMessage   *item,
           const char       *subdir,
           const char       *outcome,
           const GError     *error,
           GError          **move_error)
{
  g_autoptr (GFile) moved = msg_drop_message_move_to (item, subdir, move_error);
  const char *name = msg_drop_message_get_name (item);

  if (moved == NULL)
    return FALSE;
  write_report (directory, name, moved, outcome, error, NULL);
  forget_retry (directory, name);
  return TRUE;
}

/* Refused for good: to failed/. If failed/ cannot take it (a full disk,
 * not a directory), back to the queue with a retry sidecar saying why:
 * sending it again is harmless, the server refused it. */
static MsgFlushOutcome
fail_for_good (MsgDropDirectory *directory,
               MsgDropMessage   *item,
               const GError     *error)
{
  g_autoptr (GError) move_error = NULL;
  g_autoptr (GError) local_error = NULL;

  if (set_aside (directory, item, MSG_FLUSH_FAILED_DIR, "failed", error, &move_error))
    return MSG_FLUSH_FAILED;
  /* Said here too: on a full disk the retry sidecar cannot say it. */
  log_problem ("a refused message stays in the queue", move_error);
  record_retry (directory, msg_drop_message_get_name (item), move_error);
  if (!msg_drop_message_release (item, &local_error))
    log_problem ("cannot put a message back", local_error);
  return MSG_FLUSH_DEFERRED;
}

static gboolean
is_permanent (const GError *error)
{
  /* Recipients refused with 4xx only (greylisting answers RCPT with 450)
   * come as RECIPIENTS_DEFERRED: not permanent. A news article refused
   * after it was sent (NNTP 441) is MESSAGE_REJECTED, and one without
   * Newsgroups, From or Subject a MSG_MESSAGE_ERROR at the call: both for
   * good. */
  return error->domain == MSG_MESSAGE_ERROR ||
         g_error_matches (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_RECIPIENTS_REJECTED) ||
         g_error_matches (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_SENDER_REJECTED) ||
         g_error_matches (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_MESSAGE_REJECTED);
}

static guint64
file_size (MsgDropMessage *item)
{
  g_autoptr (GFile) file = msg_drop_message_get_file (item);
  g_autoptr (GFileInfo) info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE,
                                                  G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);

  return info != NULL ? (guint64) g_file_info_get_size (info) : 0;
}

/* Accepted: the file goes, with a report in partial/ when some
 * recipients were refused. */
static MsgFlushOutcome
accepted (MsgDropDirectory *directory,
          MsgDropMessage   *item,
          MsgSendReport    *report)
{
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) rejected = msg_send_report_get_rejected_recipients (report);
  const char *name = msg_drop_message_get_name (item);

  if (rejected[0] != NULL)
    {
      g_autofree char *dir = g_build_filename (msg_drop_directory_get_path (directory), MSG_FLUSH_PARTIAL_DIR, NULL);
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autoptr (GFile) file = g_file_new_for_path (path);

      if (g_mkdir_with_parents (dir, 0700) == 0)
        write_report (directory, name, file, "partial", NULL, report);
    }
  if (!msg_drop_message_delete (item, &error))
    log_problem ("cannot delete a sent message (left claimed: a later run sets it aside)", error);
  forget_retry (directory, name);
  return MSG_FLUSH_SENT;
}

/* Whether @error says that the relay failed (its connection refused,
 * timed out, cut, or its TLS or authentication), not that the message
 * could not go or the run was cancelled. A news server that does not let
 * us post (NNTP 440 to POST, a 201 greeting: POSTING_NOT_ALLOWED) is
 * such a failure too: it is about the server or the account, not the
 * article, so the article goes back untouched and the sends queued
 * behind it are not tried on that server one after the other (each
 * would get the same answer). */
static gboolean
relay_failure (const GError *error)
{
  if (error->domain == G_IO_ERROR)
    return error->code != G_IO_ERROR_CANCELLED && error->code != G_IO_ERROR_INVALID_ARGUMENT &&
           error->code != G_IO_ERROR_NOT_SUPPORTED && error->code != G_IO_ERROR_MESSAGE_TOO_LARGE;
  return error->domain == G_RESOLVER_ERROR || error->domain == G_TLS_ERROR ||
         g_error_matches (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_AUTHENTICATION_FAILED) ||
         g_error_matches (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_TLS_UNAVAILABLE) ||
         g_error_matches (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_POSTING_NOT_ALLOWED);
}

/* Files @item by the send's @error. */
static MsgFlushOutcome
refused (MsgDropDirectory *directory,
         MsgDropMessage   *item,
         const GError     *error,
         MsgFlushNext     *next)
{
  g_autoptr (GError) local_error = NULL;

  if (g_error_matches (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_OUTCOME_UNKNOWN))
    {
      /* If unknown/ cannot take it, it stays claimed and started: never
       * sent again, and a later run's recovery sets it aside. */
      if (!set_aside (directory, item, MSG_FLUSH_UNKNOWN_DIR, "unknown", error, &local_error))
        log_problem ("cannot set aside a message (left claimed: a later run sets it aside)", local_error);
      return MSG_FLUSH_UNKNOWN;
    }
  if (is_permanent (error))
    return fail_for_good (directory, item, error);
  /* Not sent: back to the queue. A 4xx reply is about this message
   * (greylisting, a full mailbox): it waits for its back-off. A failed
   * connection (refused, lost, TLS, authentication) or cancellation is
   * not: no back-off, but this connection goes no further. */
  if (g_error_matches (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_TEMPORARY_FAILURE) ||
      g_error_matches (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_RECIPIENTS_DEFERRED))
    record_retry (directory, msg_drop_message_get_name (item), error);
  else
    *next = relay_failure (error) ? MSG_FLUSH_RELAY_FAILED : MSG_FLUSH_STOP;
  if (!msg_drop_message_release (item, &local_error))
    log_problem ("cannot put a message back", local_error);
  return MSG_FLUSH_DEFERRED;
}

MsgMessage *
_msg_flusher_prepare_one (MsgDropDirectory *directory,
                          MsgDropMessage   *item,
                          MsgFlushGate      gate,
                          gpointer          gate_data,
                          GCancellable     *cancellable,
                          guint64          *bytes,
                          MsgFlushOutcome  *outcome,
                          MsgFlushNext     *next)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgMessage) message = NULL;

  *outcome = MSG_FLUSH_SKIPPED;
  if (backing_off (directory, msg_drop_message_get_name (item)))
    return NULL;
  if (!msg_drop_message_claim (item, &error))
    return NULL; /* another consumer has it, or it is gone */

  /* Progress counts the bytes of every message dealt with. */
  *bytes += file_size (item);
  message = msg_drop_message_get_message (item, &error);
  if (message == NULL)
    {
      *outcome = fail_for_good (directory, item, error);
      return NULL;
    }
  *outcome = MSG_FLUSH_DEFERRED;
  if (gate != NULL && !gate (gate_data, cancellable))
    {
      *next = MSG_FLUSH_STOP;
      if (!msg_drop_message_release (item, &error))
        log_problem ("cannot put a message back", error);
      return NULL;
    }
  if (!msg_drop_message_mark_started (item, &error))
    {
      log_problem ("cannot mark a message started (put back)", error);
      g_clear_error (&error);
      if (!msg_drop_message_release (item, &error))
        log_problem ("cannot put a message back", error);
      return NULL;
    }
  return g_steal_pointer (&message);
}

MsgFlushOutcome
_msg_flusher_file_one (MsgDropDirectory *directory,
                       MsgDropMessage   *item,
                       MsgSendReport    *report,
                       const GError     *error,
                       MsgFlushNext     *next)
{
  if (report == NULL)
    return refused (directory, item, error, next);
  return accepted (directory, item, report);
}
