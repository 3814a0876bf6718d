/* msg-sendmail-transport.c: a transport that pipes each message to a
 * sendmail-compatible program, `PROGRAM -i -f SENDER -- RECIPIENT...`,
 * under the library's total deadline and cancellation: on either, the
 * child is killed and reaped before the call returns.
 *
 * Fields it registers:
 *   sendmailpath     the program (default /usr/sbin/sendmail)
 *   sendmailtimeout  seconds for the whole hand-over; 0 (the default) for
 *                    the library's automatic one, 300 s plus one second
 *                    per 64 KiB of message
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define _GNU_SOURCE /* memfd_create() */

#include <gio/gio.h>
#include <gmodule.h>
#include <msgobj.h>

#include <errno.h>
#include <sys/mman.h>
#include <sysexits.h>
#include <unistd.h>

#define MSG_TYPE_SENDMAIL_TRANSPORT (msg_sendmail_transport_get_type ())
G_DECLARE_FINAL_TYPE (MsgSendmailTransport, msg_sendmail_transport, MSG, SENDMAIL_TRANSPORT, MsgTransport)

struct _MsgSendmailTransport
{
  MsgTransport parent_instance;
};

G_DEFINE_DYNAMIC_TYPE_EXTENDED (MsgSendmailTransport, msg_sendmail_transport, MSG_TYPE_TRANSPORT, G_TYPE_FLAG_FINAL, {})

/* The message as the program reads it: the wire form without Bcc, with
 * the local line ends (LF) that sendmail -i expects. */
static GBytes *
message_for_sendmail (MsgMessage   *message,
                      GCancellable *cancellable,
                      GError      **error)
{
  g_autoptr (GOutputStream) sink = g_memory_output_stream_new_resizable ();
  g_autoptr (GBytes) wire = NULL;
  const char *data;
  gsize       size;
  GByteArray *out;

  if (!msg_message_write_to_stream_full (message, sink, MSG_WRITE_FLAGS_OMIT_BCC, cancellable, error) ||
      !g_output_stream_close (sink, cancellable, error))
    return NULL;
  wire = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (sink));
  data = g_bytes_get_data (wire, &size);
  out = g_byte_array_sized_new (size);
  for (gsize i = 0; i < size; i++)
    {
      if (data[i] == '\r' && i + 1 < size && data[i + 1] == '\n')
        continue;
      g_byte_array_append (out, (const guint8 *) &data[i], 1);
    }
  return g_byte_array_free_to_bytes (out);
}

typedef struct
{
  gboolean done;
  gboolean timed_out;
  GError  *error;
  GBytes  *output;
} Exchange;

static void
communicated_cb (GObject      *source,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Exchange *x = user_data;

  g_subprocess_communicate_finish (G_SUBPROCESS (source), result, &x->output, NULL, &x->error);
  x->done = TRUE;
}

static gboolean
deadline_cb (gpointer user_data)
{
  GCancellable *ours = user_data;

  g_cancellable_cancel (ours);
  return G_SOURCE_REMOVE;
}

static void
cancelled_cb (GCancellable *theirs,
              GCancellable *ours)
{
  g_cancellable_cancel (ours);
}

/* An unlinked temporary file holding @input, positioned at its start. */
static int
input_file (GBytes  *input,
            GError **error)
{
  gsize       length;
  const char *data = g_bytes_get_data (input, &length);
  int         fd = memfd_create ("msgobj-sendmail", MFD_CLOEXEC);

  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Could not create the message file for sendmail: %s", g_strerror (saved));
      return -1;
    }
  while (length > 0)
    {
      ssize_t n = write (fd, data, length);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;

          close (fd);
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       "Could not write the message file for sendmail: %s", g_strerror (saved));
          return -1;
        }
      data += n;
      length -= (gsize) n;
    }
  lseek (fd, 0, SEEK_SET);
  return fd;
}

/* Collects @child's output and waits for it to exit, in a private main
 * context, until @deadline (monotonic µs) or @cancellable. On either the
 * child is killed and reaped. */
static gboolean
run_child (GSubprocess  *child,
           gint64        deadline,
           GCancellable *cancellable,
           GBytes      **output,
           GError      **error)
{
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autoptr (GCancellable) ours = g_cancellable_new ();
  g_autoptr (GSource) timer = NULL;
  Exchange x = { FALSE, FALSE, NULL, NULL };
  gulong   handler = 0;
  gint64   now = g_get_monotonic_time ();

  g_main_context_push_thread_default (context);
  timer = g_timeout_source_new (deadline > now ? (guint) ((deadline - now) / 1000) : 0);
  g_source_set_callback (timer, deadline_cb, ours, NULL);
  g_source_attach (timer, context);
  if (cancellable != NULL)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (cancelled_cb), ours, NULL);
  g_subprocess_communicate_async (child, NULL, ours, communicated_cb, &x);
  while (!x.done)
    g_main_context_iteration (context, TRUE);
  g_source_destroy (timer);
  g_cancellable_disconnect (cancellable, handler);
  g_main_context_pop_thread_default (context);

  if (x.error == NULL)
    {
      *output = x.output != NULL ? x.output : g_bytes_new (NULL, 0);
      return TRUE;
    }
  /* Whatever stopped the exchange, the child goes: killed, then reaped
   * (g_subprocess_wait() without a cancellable returns once it has). */
  g_subprocess_force_exit (child);
  g_subprocess_wait (child, NULL, NULL);
  g_clear_pointer (&x.output, g_bytes_unref);
  if (g_error_matches (x.error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
      !g_cancellable_is_cancelled (cancellable))
    {
      g_clear_error (&x.error);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                   "sendmail did not finish within its time limit; it was stopped");
      return FALSE;
    }
  g_propagate_error (error, x.error);
  return FALSE;
}

static MsgSendReport *
sendmail_send (MsgTransport *transport,
               MsgMessage   *message,
               GCancellable *cancellable,
               GError      **error)
{
  MsgConfiguration *config = msg_transport_get_operation_configuration (transport);
  g_autofree char  *program = msg_configuration_get_field (config, "sendmailpath");
  g_autofree char  *sender = NULL;
  g_auto (GStrv) recipients = NULL;
  g_autoptr (GBytes) input = NULL;
  g_autoptr (GBytes) output = NULL;
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocessLauncher) launcher = NULL;
  g_autoptr (GSubprocess) child = NULL;
  int stdin_fd;
  g_autoptr (MsgSendReport) report = NULL;
  g_autofree char *id = NULL;
  g_autofree char *said = NULL;
  gint64           deadline;

  sender = msg_message_get_envelope_sender (message, error);
  if (sender == NULL)
    return NULL;
  recipients = msg_message_get_envelope_recipients (message, error);
  if (recipients == NULL)
    return NULL;
  input = message_for_sendmail (message, cancellable, error);
  if (input == NULL)
    return NULL;
  deadline = msg_transport_get_operation_deadline (
      transport, msg_configuration_get_seconds (config, "sendmailtimeout"), g_bytes_get_size (input));

  /* -i: a line with a single dot does not end the message. */
  g_ptr_array_add (argv, program);
  g_ptr_array_add (argv, (char *) "-i");
  g_ptr_array_add (argv, (char *) "-f");
  g_ptr_array_add (argv, sender);
  g_ptr_array_add (argv, (char *) "--");
  for (guint i = 0; recipients[i] != NULL; i++)
    g_ptr_array_add (argv, recipients[i]);
  g_ptr_array_add (argv, NULL);

  /* The message is the child's standard input as a file, not a pipe: a
   * program that refuses it may exit without reading it, and its exit
   * status, not a broken pipe, must say why. */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE);
  stdin_fd = input_file (input, error);
  if (stdin_fd < 0)
    return NULL;
  g_subprocess_launcher_take_stdin_fd (launcher, stdin_fd);
  child = g_subprocess_launcher_spawnv (launcher, (const char *const *) argv->pdata, error);
  if (child == NULL)
    return NULL;
  if (!run_child (child, deadline, cancellable, &output, error))
    return NULL;
  msg_transport_emit_progress (transport, g_bytes_get_size (input), g_bytes_get_size (input));

  said = g_strstrip (g_strndup (g_bytes_get_data (output, NULL), g_bytes_get_size (output)));
  if (!g_subprocess_get_if_exited (child) || g_subprocess_get_exit_status (child) != 0)
    {
      int status = g_subprocess_get_if_exited (child) ? g_subprocess_get_exit_status (child) : -1;

      g_set_error (error, MSG_TRANSPORT_ERROR,
                   status == EX_TEMPFAIL ? MSG_TRANSPORT_ERROR_TEMPORARY_FAILURE
                                         : MSG_TRANSPORT_ERROR_MESSAGE_REJECTED,
                   "%s refused the message (exit status %d)%s%s", program, status,
                   *said != '\0' ? ": " : "", said);
      return NULL;
    }

  report = msg_send_report_new (msg_transport_get_name (transport));
  id = msg_message_get_message_id (message);
  msg_send_report_set_message_id (report, id);
  msg_send_report_set_server_response (report, *said != '\0' ? said : "accepted by sendmail");
  for (guint i = 0; recipients[i] != NULL; i++)
    msg_send_report_add_recipient_status (report,
                                          msg_recipient_status_new (recipients[i], 250, NULL, "queued"));
  return g_steal_pointer (&report);
}

static void
msg_sendmail_transport_class_init (MsgSendmailTransportClass *klass)
{
  MSG_TRANSPORT_CLASS (klass)->send_message_sync = sendmail_send;
}

static void
msg_sendmail_transport_class_finalize (MsgSendmailTransportClass *klass)
{
}

static void
msg_sendmail_transport_init (MsgSendmailTransport *self)
{
}

/* The library loads only modules built for its transport ABI. */
MSG_TRANSPORT_DEFINE_ABI_VERSION;

G_MODULE_EXPORT void g_io_msgobj_sendmail_load (GIOModule *module);
G_MODULE_EXPORT void g_io_msgobj_sendmail_unload (GIOModule *module);

G_MODULE_EXPORT void
g_io_msgobj_sendmail_load (GIOModule *module)
{
  msg_sendmail_transport_register_type (G_TYPE_MODULE (module));
  g_io_extension_point_implement (MSG_TRANSPORT_EXTENSION_POINT_NAME,
                                  MSG_TYPE_SENDMAIL_TRANSPORT, "sendmail", 0);
  msg_configuration_register_field ("sendmailpath", MSG_FIELD_TYPE_PATH, "/usr/sbin/sendmail", NULL,
                                    NULL);
  msg_configuration_register_field ("sendmailtimeout", MSG_FIELD_TYPE_SECONDS, "0", NULL, NULL);
}

G_MODULE_EXPORT void
g_io_msgobj_sendmail_unload (GIOModule *module)
{
}
