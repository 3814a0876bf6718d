/* msg-pickup-transport.c: the built-in pickup-directory transport
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-pickup-transport-private.h"

#include "msg-configuration.h"
#include "msg-counting-stream-private.h"
#include "msg-data-output-stream.h"
#include "msg-dkim-signer-private.h"
#include "msg-message.h"
#include "msg-recipient-status.h"
#include "msg-send-report.h"
#include "msg-transport.h"
#include "msg-user-dirs-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <gio/gunixoutputstream.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* The pickup transport (CDO's cdoSendUsingPickup / cdoPostUsingPickup)
 * writes each message as NAME.eml into a directory that another program
 * (an MTA's pickup service, a news server's spool feeder) consumes.
 *
 * A consumer must never see a partial file: the message is written to a
 * dot-file with a .tmp suffix in the same directory, flushed to disk, then
 * given its final name without replacing anything; on any failure the
 * temporary file is removed. Everything is done relative to one directory
 * descriptor, so a directory swapped for a symlink half-way cannot redirect
 * the file, and the final name is never followed if it is a symlink.
 *
 * A writer killed half-way (SIGKILL, a crash, a power cut) leaves its
 * temporary file behind. While it writes, a writer holds an exclusive
 * flock() on its temporary file; a later write (the first one of a
 * transport, then at most every STALE_SCAN_INTERVAL) removes the
 * temporaries that match our name pattern, are regular files of ours,
 * were last modified more than STALE_AGE ago and are not locked (their
 * writer is gone). A symlink or anything else at such a name is left
 * alone and never followed. */

#define STALE_AGE_SECONDS (15 * 60)
#define STALE_SCAN_INTERVAL_SECONDS (10 * 60)

struct _MsgPickupTransport
{
  MsgTransport parent_instance;
  gint64       last_scan; /* g_get_monotonic_time () of the last clean-up, 0: never */
};

G_DEFINE_FINAL_TYPE_WITH_CODE (MsgPickupTransport, _msg_pickup_transport, MSG_TYPE_TRANSPORT, g_io_extension_point_implement (MSG_TRANSPORT_EXTENSION_POINT_NAME, g_define_type_id, "pickup", 0))

static char *
default_directory (gboolean post)
{
  g_autofree char *data_dir = _msg_get_user_dir (MSG_USER_DIR_DATA);

  return g_build_filename (data_dir, "msgobj", post ? "newspickup" : "pickup", NULL);
}

/* Opens the pickup directory, creating the per-user default (0700) when it
 * is missing. A configured directory must exist, as in CDO. */
static int
open_directory (MsgConfiguration *configuration,
                gboolean          post,
                char            **path_out,
                GError          **error)
{
  g_autofree char *path = msg_configuration_get_field (configuration,
                                                       post ? "nntpserverpickupdirectory" : "smtpserverpickupdirectory");
  int              fd;

  if (path == NULL || *path == '\0')
    {
      g_free (path);
      path = default_directory (post);
      if (g_mkdir_with_parents (path, 0700) != 0)
        {
          int saved_errno = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       "Cannot create the pickup directory “%s”: %s", path, g_strerror (saved_errno));
          return -1;
        }
    }

  fd = open (path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot open the pickup directory “%s”: %s", path, g_strerror (saved_errno));
      return -1;
    }
  *path_out = g_steal_pointer (&path);
  return fd;
}

static char *
unique_stem (void)
{
  static int counter;

  return g_strdup_printf ("%" G_GINT64_MODIFIER "x-%d-%x-%08x",
                          g_get_real_time (), (int) getpid (),
                          (unsigned) g_atomic_int_add (&counter, 1), g_random_int ());
}

/* Whether @name is ".STEM.tmp" with a STEM as unique_stem() makes it:
 * hex "-" decimal "-" hex "-" eight hex digits. */
static gboolean
is_our_temporary (const char *name)
{
  static const char *const classes[] = { "x", "d", "x", "x" };
  const char              *p = name;
  gsize                    length = strlen (name);

  if (length < 6 || name[0] != '.' || !g_str_has_suffix (name, ".tmp"))
    return FALSE;
  p++;
  for (unsigned field = 0; field < G_N_ELEMENTS (classes); field++)
    {
      const char *start = p;

      while (classes[field][0] == 'x' ? g_ascii_isxdigit (*p) : g_ascii_isdigit (*p))
        p++;
      if (p == start || (field == 3 && p - start != 8))
        return FALSE;
      if (field < 3 && *p++ != '-')
        return FALSE;
    }
  return g_str_equal (p, ".tmp");
}

/* Removes one stale temporary if it is a regular file of ours, old, and
 * not locked by a live writer. */
static void
remove_if_stale (int         dir_fd,
                 const char *name,
                 time_t      now)
{
  struct stat opened;
  struct stat current;
  int         fd = openat (dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

  if (fd < 0)
    return; /* a symlink (ELOOP), gone, or not ours to read */
  if (fstat (fd, &opened) == 0 && S_ISREG (opened.st_mode) && opened.st_uid == geteuid () &&
      opened.st_mtime < now - STALE_AGE_SECONDS && flock (fd, LOCK_EX | LOCK_NB) == 0 &&
      fstatat (dir_fd, name, &current, AT_SYMLINK_NOFOLLOW) == 0 && current.st_dev == opened.st_dev &&
      current.st_ino == opened.st_ino)
    unlinkat (dir_fd, name, 0);
  close (fd);
}

static void
clean_stale_temporaries (MsgPickupTransport *self,
                         int                 dir_fd)
{
  gint64         now = g_get_monotonic_time ();
  DIR           *dir;
  struct dirent *entry;
  int            fd;

  if (self->last_scan != 0 && now - self->last_scan < STALE_SCAN_INTERVAL_SECONDS * G_USEC_PER_SEC)
    return;
  self->last_scan = now;
  /* A descriptor of its own for readdir(); dir_fd stays for the *at(). */
  fd = fcntl (dir_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0)
    return;
  dir = fdopendir (fd);
  if (dir == NULL)
    {
      close (fd);
      return;
    }
  while ((entry = readdir (dir)) != NULL)
    if (is_our_temporary (entry->d_name))
      remove_if_stale (dir_fd, entry->d_name, time (NULL));
  closedir (dir);
}

/* Gives the finished temporary file its final name, never replacing an
 * existing file and never following a symlink at the final name. */
static gboolean
publish (int         dir_fd,
         const char *temp_name,
         const char *final_name,
         GError    **error)
{
  if (linkat (dir_fd, temp_name, dir_fd, final_name, 0) == 0)
    {
      unlinkat (dir_fd, temp_name, 0);
      return TRUE;
    }
  if (errno == EPERM || errno == ENOTSUP || errno == EOPNOTSUPP)
    {
      /* File systems without hard links: rename, refusing to replace. */
      if (renameat2 (dir_fd, temp_name, dir_fd, final_name, RENAME_NOREPLACE) == 0)
        return TRUE;
    }
  {
    int saved_errno = errno;

    g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                 "Cannot publish the pickup file “%s”: %s", final_name, g_strerror (saved_errno));
  }
  return FALSE;
}

typedef struct
{
  int           fd;
  guint64       checked; /* the count at the last check */
  gboolean      removed;
  GCancellable *cancellable; /* (owned): the write's, cancelled with the caller's */
} WriteWatch;

/* Every MiB: whether the temporary file still has a name. A pickup
 * directory removed mid-write would otherwise take the rest of the
 * message (gigabytes, perhaps) into a file that nobody can see. */
static void
watch_written_cb (guint64  count,
                  gpointer user_data)
{
  WriteWatch *watch = user_data;
  struct stat st;

  if (count - watch->checked < 1024 * 1024)
    return;
  watch->checked = count;
  if (fstat (watch->fd, &st) == 0 && st.st_nlink == 0)
    {
      watch->removed = TRUE;
      g_cancellable_cancel (watch->cancellable);
    }
}

static void
forward_cancel_cb (GCancellable *cancellable,
                   gpointer      user_data)
{
  g_cancellable_cancel (user_data);
}

/* Writes the message (as a post with @post) into the temporary file @fd,
 * through @data (on @buffered). */
static gboolean
write_contents (MsgMessage    *message,
                MsgDkimSigner *signer,
                gboolean       post,
                int            fd,
                GOutputStream *buffered,
                GOutputStream *data,
                const char    *dir_path,
                GCancellable  *cancellable,
                GError       **error)
{
  WriteWatch watch = { fd, 0, FALSE, g_cancellable_new () };
  g_autoptr (GOutputStream) counter = _msg_counting_stream_new (data, watch_written_cb, &watch);
  gulong   handler = 0;
  gboolean ok;

  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (forward_cancel_cb), watch.cancellable, NULL);
  /* Bcc stays in a mail pickup file: the consuming MTA reads recipients
   * from it. A news pickup file is published to every reader once a feeder
   * posts it: it is written as the NNTP transport writes a post, without
   * Bcc and the receipt requests. */
  ok = _msg_dkim_signer_write_signature (signer, message, MSG_WRITE_FLAGS_NONE, counter, watch.cancellable, error) &&
       msg_message_write_to_stream_full (message, counter, post ? MSG_WRITE_FLAGS_NEWS : MSG_WRITE_FLAGS_NONE,
                                         watch.cancellable, error) &&
       msg_data_output_stream_finish (MSG_DATA_OUTPUT_STREAM (data), watch.cancellable, error) &&
       g_output_stream_flush (buffered, watch.cancellable, error);
  if (cancellable != NULL)
    g_cancellable_disconnect (cancellable, handler);

  if (!ok && watch.removed && !g_cancellable_is_cancelled (cancellable))
    {
      g_clear_error (error);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                   "The pickup file in “%s” was removed while the message was written "
                   "(was the directory removed?)",
                   dir_path);
    }
  else if (!ok && error != NULL && *error != NULL && !g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    /* A full disk says only "File too large": name the directory. */
    g_prefix_error (error, "Cannot write the pickup file in “%s”: ", dir_path);
  g_object_unref (watch.cancellable);
  return ok;
}

static MsgSendReport *
write_pickup_file (MsgTransport *transport,
                   MsgMessage   *message,
                   gboolean      post,
                   GCancellable *cancellable,
                   GError      **error)
{
  MsgConfiguration *configuration = msg_transport_get_operation_configuration (transport);
  g_autoptr (GOutputStream) file_stream = NULL;
  g_autoptr (GOutputStream) buffered = NULL;
  g_autoptr (GOutputStream) data = NULL;
  g_autoptr (MsgSendReport) report = NULL;
  g_autofree char *dir_path = NULL;
  g_autofree char *stem = NULL;
  g_autofree char *temp_name = NULL;
  g_autofree char *final_name = NULL;
  g_autofree char *message_id = NULL;
  g_auto (GStrv) recipients = NULL;
  gboolean fsync_wanted;
  guint64  written;
  int      dir_fd;
  int      fd;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  dir_fd = open_directory (configuration, post, &dir_path, error);
  if (dir_fd < 0)
    return NULL;

  clean_stale_temporaries (MSG_PICKUP_TRANSPORT (transport), dir_fd);
  stem = unique_stem ();
  temp_name = g_strdup_printf (".%s.tmp", stem);
  final_name = g_strdup_printf ("%s.eml", stem);

  fd = openat (dir_fd, temp_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot create a file in the pickup directory “%s”: %s",
                   dir_path, g_strerror (saved_errno));
      close (dir_fd);
      return NULL;
    }
  /* Held until the file is closed: a live writer's file is not stale. */
  flock (fd, LOCK_EX | LOCK_NB);

  file_stream = g_unix_output_stream_new (fd, TRUE);
  buffered = g_buffered_output_stream_new_sized (file_stream, 64 * 1024);
  /* CRLF everywhere, no dot-stuffing: the file is plain RFC 5322. */
  data = msg_data_output_stream_new (buffered, FALSE);

  if (!write_contents (message, post ? NULL : _msg_transport_get_dkim_signer (transport), post, fd, buffered, data, dir_path, cancellable, error))
    goto fail;

  written = msg_data_output_stream_get_bytes_out (MSG_DATA_OUTPUT_STREAM (data));
  msg_transport_emit_progress (transport, written, written);

  fsync_wanted = msg_configuration_get_boolean (configuration, "flushbuffersonwrite");
  if (fsync_wanted && fsync (fd) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot flush the pickup file in “%s”: %s", dir_path, g_strerror (saved_errno));
      goto fail;
    }
  if (!g_output_stream_close (file_stream, NULL, error))
    goto fail;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    goto fail;

  if (!publish (dir_fd, temp_name, final_name, error))
    goto fail;
  if (fsync_wanted)
    fsync (dir_fd);
  close (dir_fd);

  report = msg_send_report_new (msg_transport_get_name (transport));
  {
    g_autofree char *path = g_build_filename (dir_path, final_name, NULL);

    msg_send_report_set_pickup_file (report, path);
  }
  message_id = msg_message_get_message_id (message);
  msg_send_report_set_message_id (report, message_id);
  msg_send_report_set_server_response (report, "Written to the pickup directory");
  if (!post)
    {
      recipients = msg_message_get_envelope_recipients (message, NULL);
      for (guint i = 0; recipients != NULL && recipients[i] != NULL; i++)
        msg_send_report_add_recipient_status (report,
                                              msg_recipient_status_new (recipients[i], 250, NULL,
                                                                        "Written to the pickup directory"));
    }
  return g_steal_pointer (&report);

fail:
  /* Drop the streams without letting dispose publish anything, then remove
   * the temporary file: no partial .eml, no leftover. */
  g_output_stream_clear_pending (file_stream);
  g_output_stream_close (file_stream, NULL, NULL);
  unlinkat (dir_fd, temp_name, 0);
  close (dir_fd);
  return NULL;
}

static MsgSendReport *
msg_pickup_transport_send_message_sync (MsgTransport *self,
                                        MsgMessage   *message,
                                        GCancellable *cancellable,
                                        GError      **error)
{
  return write_pickup_file (self, message, FALSE, cancellable, error);
}

static MsgSendReport *
msg_pickup_transport_post_message_sync (MsgTransport *self,
                                        MsgMessage   *message,
                                        GCancellable *cancellable,
                                        GError      **error)
{
  return write_pickup_file (self, message, TRUE, cancellable, error);
}

static void
_msg_pickup_transport_class_init (MsgPickupTransportClass *klass)
{
  MsgTransportClass *transport_class = MSG_TRANSPORT_CLASS (klass);

  transport_class->send_message_sync = msg_pickup_transport_send_message_sync;
  transport_class->post_message_sync = msg_pickup_transport_post_message_sync;
}

static void
_msg_pickup_transport_init (MsgPickupTransport *self)
{
}
