/* msgobj-floor: what the libraries under libmsgobj cost on their own, the
 * floors under two of issue 18's targets (bench/README.md, "Floors").
 *
 *   msgobj-floor handoff N      N round trips from a main loop to a worker
 *                               thread and back, doing nothing: GTask's
 *                               g_task_run_in_thread(), as GIO's own async
 *                               file calls do, and a bare hand-off (one
 *                               thread waiting on a GAsyncQueue, the answer
 *                               an idle source in the caller's context)
 *   msgobj-floor wait N         N "messages" of two round trips each (one
 *                               octet written, the answer awaited and read)
 *                               to an echo process over a socketpair, done
 *                               three ways: blocking with poll(), as the
 *                               sync calls wait (sync); on the caller's
 *                               main loop with a file-descriptor source,
 *                               as a design without a worker thread would
 *                               (loop: a source made for each wait; kept:
 *                               one source for the connection); and as the
 *                               _async calls do now, the blocking waits on
 *                               a worker thread with a bare hand-off there
 *                               and back (worker)
 *   msgobj-floor gmime N        N messages built, written and freed with
 *                               GMime alone, as msgobj-bench smtp-new builds
 *                               them (From, To, Subject, Date, Message-ID,
 *                               a 700-octet text part) and with the calls
 *                               libmsgobj makes, written with CRLF line
 *                               ends to a null stream
 *
 * Prints one line per measure: the CPU of the whole process (every thread,
 * getrusage; the echo process of "wait" not counted) per round trip or
 * message, in microseconds, and the context switches per round trip. No
 * network and no libmsgobj: whatever the library does on top, these are
 * the least a call or a message costs.
 */

#include <gio/gio.h>
#include <glib-unix.h>
#include <gmime/gmime.h>
#include <poll.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

typedef struct
{
  double cpu_us;
  long   switches;
} Usage;

static Usage
usage_now (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return (Usage){
    .cpu_us = ru.ru_utime.tv_sec * 1e6 + ru.ru_utime.tv_usec + ru.ru_stime.tv_sec * 1e6 + ru.ru_stime.tv_usec,
    .switches = ru.ru_nvcsw + ru.ru_nivcsw,
  };
}

static void
report (const char *what,
        Usage       before,
        guint       n)
{
  Usage after = usage_now ();

  g_print ("%-8s n=%u cpu_us=%.2f switches=%.2f\n", what, n, (after.cpu_us - before.cpu_us) / n,
           (double) (after.switches - before.switches) / n);
}

/* GTask: the worker does nothing, the callback starts the next. */
typedef struct
{
  GMainLoop *loop;
  guint      left;
} Chain;

static void
nothing (GTask        *task,
         gpointer      source,
         gpointer      data,
         GCancellable *cancellable)
{
  g_task_return_boolean (task, TRUE);
}

static void gtask_next (gpointer data);

static void
gtask_done (GObject      *source,
            GAsyncResult *result,
            gpointer      data)
{
  g_task_propagate_boolean (G_TASK (result), NULL);
  gtask_next (data);
}

static void
gtask_next (gpointer data)
{
  Chain *chain = data;
  g_autoptr (GTask) task = NULL;

  if (chain->left-- == 0)
    {
      g_main_loop_quit (chain->loop);
      return;
    }
  task = g_task_new (NULL, NULL, gtask_done, chain);
  g_task_run_in_thread (task, nothing);
}

/* Bare: one worker thread; the answer is an idle source attached to the
 * caller's context (which wakes it). */
typedef struct
{
  GAsyncQueue  *queue;
  GMainContext *context;
  Chain        *chain;
} Bare;

static void bare_next (gpointer data);

/* The worker's answer: an idle source attached to the caller's context,
 * which wakes it. */
static void
answer_in (GMainContext *context,
           GSourceFunc   func,
           gpointer      data)
{
  GSource *source = g_idle_source_new ();

  g_source_set_callback (source, func, data, NULL);
  g_source_attach (source, context);
  g_source_unref (source);
}

static gboolean
bare_done (gpointer data)
{
  bare_next (data);
  return G_SOURCE_REMOVE;
}

static gpointer
bare_worker (gpointer data)
{
  Bare *bare = data;

  while (g_async_queue_pop (bare->queue) != (gpointer) bare)
    answer_in (bare->context, bare_done, bare);
  return NULL;
}

static void
bare_next (gpointer data)
{
  Bare *bare = data;

  if (bare->chain->left-- == 0)
    {
      g_main_loop_quit (bare->chain->loop);
      return;
    }
  g_async_queue_push (bare->queue, GUINT_TO_POINTER (1));
}

/* @n round trips of @chain, started by @start (@data), after a first one
 * so that the threads exist before measuring. */
static void
run_chain (const char *what,
           Chain      *chain,
           void (*start) (gpointer data),
           gpointer data,
           guint    n)
{
  Usage before;

  chain->left = 1;
  start (data);
  g_main_loop_run (chain->loop);
  chain->left = n;
  before = usage_now ();
  start (data);
  g_main_loop_run (chain->loop);
  report (what, before, n);
}

static int
floor_handoff (guint n)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Chain    chain = { loop, 0 };
  Bare     bare = { g_async_queue_new (), g_main_context_default (), &chain };
  GThread *worker;

  run_chain ("gtask", &chain, gtask_next, &chain, n);
  worker = g_thread_new ("bare", bare_worker, &bare);
  run_chain ("bare", &chain, bare_next, &bare, n);
  g_async_queue_push (bare.queue, &bare);
  g_thread_join (worker);
  g_async_queue_unref (bare.queue);
  return 0;
}

/* wait: two round trips to an echo process a "message". */
typedef struct
{
  GMainLoop    *loop;
  GMainContext *context;
  int           fd;
  guint         left;  /* messages still to send */
  guint         trip;  /* round trips of this message done */
  GSource      *kept;  /* (nullable): the one source of "kept" */
  GAsyncQueue  *queue; /* "worker": messages handed to the worker */
} Wait;

static void
echo_child (int fd)
{
  char octet;

  while (read (fd, &octet, 1) == 1)
    if (write (fd, &octet, 1) != 1)
      break;
  _exit (0);
}

static void
send_octet (int fd)
{
  if (write (fd, "x", 1) != 1)
    g_error ("write: %s", g_strerror (errno));
}

static void
read_octet (int fd)
{
  char octet;

  if (read (fd, &octet, 1) != 1)
    g_error ("read: %s", g_strerror (errno));
}

/* One blocking round trip, as the sync calls wait (decision 19). */
static void
round_trip_poll (int fd)
{
  struct pollfd pfd = { fd, POLLIN, 0 };

  send_octet (fd);
  while (poll (&pfd, 1, -1) < 0 && errno == EINTR)
    ;
  read_octet (fd);
}

static void wait_loop_next (Wait *w);

static gboolean
wait_loop_ready (int          fd,
                 GIOCondition condition,
                 gpointer     data)
{
  Wait *w = data;

  read_octet (fd);
  if (++w->trip == 2)
    {
      w->trip = 0;
      w->left--;
    }
  wait_loop_next (w);
  return w->kept != NULL && w->left > 0 ? G_SOURCE_CONTINUE : G_SOURCE_REMOVE;
}

static void
wait_loop_next (Wait *w)
{
  if (w->left == 0)
    {
      g_main_loop_quit (w->loop);
      return;
    }
  send_octet (w->fd);
  if (w->kept == NULL)
    {
      GSource *source = g_unix_fd_source_new (w->fd, G_IO_IN);

      g_source_set_callback (source, G_SOURCE_FUNC (wait_loop_ready), w, NULL);
      g_source_attach (source, w->context);
      g_source_unref (source);
    }
}

static gboolean
wait_worker_done (gpointer data)
{
  Wait *w = data;

  if (--w->left == 0)
    g_main_loop_quit (w->loop);
  else
    g_async_queue_push (w->queue, GUINT_TO_POINTER (1));
  return G_SOURCE_REMOVE;
}

static gpointer
wait_worker (gpointer data)
{
  Wait *w = data;

  while (g_async_queue_pop (w->queue) != (gpointer) w)
    {
      round_trip_poll (w->fd);
      round_trip_poll (w->fd);
      answer_in (w->context, wait_worker_done, w);
    }
  return NULL;
}

static int
floor_wait (guint n)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  Wait     w = { loop, g_main_context_default (), -1, 0, 0, NULL, NULL };
  int      fds[2];
  pid_t    child;
  Usage    before;
  GThread *worker;

  if (socketpair (AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    g_error ("socketpair: %s", g_strerror (errno));
  child = fork ();
  if (child == 0)
    {
      close (fds[0]);
      echo_child (fds[1]);
    }
  close (fds[1]);
  w.fd = fds[0];

  for (guint i = 0; i < 100; i++)
    round_trip_poll (w.fd);
  before = usage_now ();
  for (guint i = 0; i < n; i++)
    {
      round_trip_poll (w.fd);
      round_trip_poll (w.fd);
    }
  report ("sync", before, n);

  w.left = n;
  before = usage_now ();
  wait_loop_next (&w);
  g_main_loop_run (loop);
  report ("loop", before, n);

  w.kept = g_unix_fd_source_new (w.fd, G_IO_IN);
  g_source_set_callback (w.kept, G_SOURCE_FUNC (wait_loop_ready), &w, NULL);
  g_source_attach (w.kept, w.context);
  w.left = n;
  before = usage_now ();
  wait_loop_next (&w);
  g_main_loop_run (loop);
  report ("kept", before, n);
  g_source_destroy (w.kept);
  g_clear_pointer (&w.kept, g_source_unref);

  w.queue = g_async_queue_new ();
  worker = g_thread_new ("wait", wait_worker, &w);
  w.left = 1;
  g_async_queue_push (w.queue, GUINT_TO_POINTER (1));
  g_main_loop_run (loop);
  w.left = n;
  before = usage_now ();
  g_async_queue_push (w.queue, GUINT_TO_POINTER (1));
  g_main_loop_run (loop);
  report ("worker", before, n);
  g_async_queue_push (w.queue, &w);
  g_thread_join (worker);
  g_async_queue_unref (w.queue);

  close (w.fd);
  waitpid (child, NULL, 0);
  return 0;
}

/* As libmsgobj's _msg_mailbox_skip_idna(): an ASCII domain's address is
 * its own IDNA form, which GMime would otherwise compute with libidn2. */
static void
skip_idna (InternetAddressList *list)
{
  for (int i = 0; i < internet_address_list_length (list); i++)
    {
      InternetAddressMailbox *mailbox = INTERNET_ADDRESS_MAILBOX (internet_address_list_get_address (list, i));

      mailbox->idn_addr = g_strdup (internet_address_mailbox_get_addr (mailbox));
    }
}

/* With the GMime calls libmsgobj makes for such a message: a message with
 * the conventional header order and an X-Mailer, the addresses parsed
 * into its lists, the text part made from a buffer with its charset and
 * encoding given (GMime's plain API would also convert each address with
 * libidn2 and scan the text for its charset, which libmsgobj does not). */
static void
build_write_free (const char         *body,
                  GMimeStream        *sink,
                  GMimeFormatOptions *options)
{
  GMimeMessage  *message = g_mime_message_new (TRUE);
  GMimeTextPart *part = g_mime_text_part_new_with_subtype ("plain");
  g_autoptr (GDateTime) now = g_date_time_new_now_local ();
  g_autofree char     *id = g_mime_utils_generate_message_id ("example.test");
  InternetAddressList *from = internet_address_list_parse (NULL, "Sender <sender@example.test>");
  InternetAddressList *to = internet_address_list_parse (NULL, "Recipient <rcpt@example.test>");
  GMimeStream         *stream = g_mime_stream_mem_new_with_buffer (body, strlen (body));
  GMimeDataWrapper    *wrapper = g_mime_data_wrapper_new_with_stream (stream, GMIME_CONTENT_ENCODING_DEFAULT);

  g_mime_object_set_header (GMIME_OBJECT (message), "X-Mailer", "msgobj-floor", NULL);
  skip_idna (from);
  skip_idna (to);
  internet_address_list_append (g_mime_message_get_from (message), from);
  internet_address_list_append (g_mime_message_get_to (message), to);
  g_mime_message_set_subject (message, "msgobj-bench message", NULL);
  g_mime_message_set_date (message, now);
  g_mime_message_set_message_id (message, id);
  g_mime_object_set_content_type_parameter (GMIME_OBJECT (part), "charset", "utf-8");
  g_mime_part_set_content (GMIME_PART (part), wrapper);
  g_mime_part_set_content_encoding (GMIME_PART (part), GMIME_CONTENT_ENCODING_7BIT);
  g_mime_message_set_mime_part (message, GMIME_OBJECT (part));
  g_object_unref (part);
  g_object_unref (wrapper);
  g_object_unref (stream);
  g_object_unref (to);
  g_object_unref (from);
  g_mime_stream_reset (sink);
  g_mime_object_write_to_stream (GMIME_OBJECT (message), options, sink);
  g_object_unref (message);
}

static int
floor_gmime (guint n)
{
  g_autoptr (GString) body = g_string_new (NULL);
  GMimeStream        *sink = g_mime_stream_null_new ();
  GMimeFormatOptions *options = g_mime_format_options_new ();
  Usage               before;

  g_mime_init ();
  g_mime_format_options_set_newline_format (options, GMIME_NEWLINE_FORMAT_DOS);
  while (body->len < 700)
    g_string_append (body, "The quick brown fox jumps over the lazy dog 0123456789.\n");
  build_write_free (body->str, sink, options);
  before = usage_now ();
  for (guint i = 0; i < n; i++)
    build_write_free (body->str, sink, options);
  report ("gmime", before, n);
  g_print ("gmime    octets=%" G_GINT64_FORMAT "\n", g_mime_stream_length (sink));
  g_mime_format_options_free (options);
  g_object_unref (sink);
  g_mime_shutdown ();
  return 0;
}

int
main (int   argc,
      char *argv[])
{
  guint64 n;

  if (argc != 3 || !g_ascii_string_to_unsigned (argv[2], 10, 1, G_MAXUINT32, &n, NULL))
    {
      g_printerr ("usage: msgobj-floor handoff|wait|gmime N\n");
      return 2;
    }
  if (g_str_equal (argv[1], "handoff"))
    return floor_handoff ((guint) n);
  if (g_str_equal (argv[1], "gmime"))
    return floor_gmime ((guint) n);
  if (g_str_equal (argv[1], "wait"))
    return floor_wait ((guint) n);
  g_printerr ("usage: msgobj-floor handoff|wait|gmime N\n");
  return 2;
}
