/* msgobj-bench: the libmsgobj side of bench/run.sh.
 *
 * Each mode does one workload over ONE kept MsgTransport and prints one
 * line of KEY=VALUE pairs on stdout that run.sh parses. Timings printed here
 * exclude process start-up; run.sh also times the whole process, as it does
 * for the peer clients.
 *
 *   msgobj-bench smtp PORT N FILE     send the message in FILE N times
 *   msgobj-bench smtp-new PORT N      send N messages, each built anew
 *   msgobj-bench smtp-async PORT N FILE   as smtp, with the async calls
 *   msgobj-bench smtp-queue PORT N FILE DEPTH
 *       as smtp-async, with DEPTH sends queued at any time (each of its
 *       own copy of FILE): the transport writes the next envelope behind
 *       each message (RFC 2920), one round trip per message
 *
 * MSGOBJ_BENCH_FIELD=NAME=VALUE[;NAME=VALUE...] sets more configuration
 * fields (such as smtpusechunking=false, or
 * smtpusessl=true;tlscafile=FILE for a server that speaks TLS).
 *   msgobj-bench big PORT FILE        send one message with FILE attached
 *   msgobj-bench big-text PORT MIB    send one message with a text body of
 *       MIB MiB in quoted-printable
 *   msgobj-bench nntp PORT N GROUP    post N articles of about 1 KiB
 *   msgobj-bench nntp-queue PORT N GROUP DEPTH
 *       the same with _async calls, DEPTH posts queued at any time
 *   msgobj-bench nntp-threads PORT N GROUP THREADS
 *       the same with sync calls from THREADS threads on one transport
 *   msgobj-bench nntp-conns PORT N GROUP CONNS DEPTH
 *       _async calls over CONNS transports (connections), DEPTH queued on
 *       each, from one main loop
 *   msgobj-bench cancel PORT STAGE REPS EOFLOG
 *       against bench/stall-server.py: cancel a send stalled at STAGE,
 *       REPS times synchronously and REPS times asynchronously
 *   msgobj-bench timeout PORT STAGE REPS EOFLOG SECONDS
 *       the same, ended by smtpconnectiontimeout=SECONDS instead
 *   msgobj-bench dkim PORT FILE KEYDIR REPS
 *       FILE (1 KiB) and a 1 MiB message, unsigned and DKIM-signed with
 *       KEYDIR/rsa.private (rsa-sha256) and KEYDIR/ed.private
 *       (ed25519-sha256), in REPS interleaved rounds; the best of each;
 *       then the floor under the signed rows (mode=dkim-floor): libopendkim
 *       alone, and the signature alone with a key loaded once (GnuTLS)
 */

#include <msgobj.h>

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <opendkim/dkim.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* How long after the server reports the stall the send is cancelled; the
 * delay itself is not measured. */
#define SETTLE_US (20 * G_TIME_SPAN_MILLISECOND)

static void
die (const char *what,
     GError     *error)
{
  g_printerr ("msgobj-bench: %s: %s\n", what, error != NULL ? error->message : "failed");
  exit (1);
}

static guint
parse_count (const char *text,
             const char *what)
{
  guint64 value = 0;
  g_autoptr (GError) error = NULL;

  if (!g_ascii_string_to_unsigned (text, 10, 0, G_MAXUINT, &value, &error))
    die (what, error);
  return (guint) value;
}

static MsgTransport *
transport_new_full (const char *name,
                    const char *port,
                    const char *field,
                    const char *value)
{
  g_autoptr (MsgConfiguration) config = msg_configuration_new ();
  g_autoptr (GError) error = NULL;
  MsgTransport *transport;
  gboolean      smtp = g_str_equal (name, "smtp");

  if (!msg_configuration_set_field (config, smtp ? "smtpserver" : "nntpserver", "127.0.0.1",
                                    &error) ||
      !msg_configuration_set_field (config, smtp ? "smtpserverport" : "nntpserverport", port,
                                    &error) ||
      !msg_configuration_set_field (config, smtp ? "sendusing" : "postusing", "2", &error) ||
      /* Plain text, as the peers (the servers offer no usable TLS). */
      !msg_configuration_set_field (config, smtp ? "smtpstarttls" : "nntpstarttls", "never",
                                    &error) ||
      (field != NULL && !msg_configuration_set_field (config, field, value, &error)))
    die ("configuration", error);
  if (g_getenv ("MSGOBJ_BENCH_FIELD") != NULL)
    {
      g_auto (GStrv) pairs = g_strsplit (g_getenv ("MSGOBJ_BENCH_FIELD"), ";", -1);

      for (guint i = 0; pairs[i] != NULL; i++)
        {
          g_auto (GStrv) pair = g_strsplit (pairs[i], "=", 2);

          if (pair[1] == NULL || !msg_configuration_set_field (config, pair[0], pair[1], &error))
            die ("MSGOBJ_BENCH_FIELD", error);
        }
    }
  transport = msg_transport_new_for_name (name, config, &error);
  if (transport == NULL)
    die ("transport", error);
  return transport;
}

static MsgTransport *
transport_new (const char *name,
               const char *port)
{
  return transport_new_full (name, port, NULL, NULL);
}

static void
close_transport (MsgTransport *transport)
{
  g_autoptr (GError) error = NULL;

  if (!msg_transport_close (transport, NULL, &error))
    die ("QUIT", error);
}

static double
seconds_since (gint64 start)
{
  return (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
}

/* smtp: N sends of one parsed message over one connection. */
static int
bench_smtp (const char *port,
            guint       n,
            const char *path)
{
  g_autoptr (MsgTransport) transport = transport_new ("smtp", port);
  g_autoptr (MsgMessage) message = NULL;
  g_autoptr (GError) error = NULL;
  gint64 start;
  double seconds;

  message = msg_message_new_from_file (path, &error);
  if (message == NULL)
    die (path, error);
  start = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (MsgSendReport) report = msg_transport_send_message (transport, message, NULL,
                                                                     &error);

      if (report == NULL)
        die ("send", error);
    }
  close_transport (transport);
  seconds = seconds_since (start);
  g_print ("mode=smtp msgs=%u seconds=%.4f rate=%.1f\n", n, seconds,
           n > 0 ? n / seconds : 0.0);
  return 0;
}

/* smtp-new: N sends over one connection, each of a message built anew
 * with the setters, as a program sending distinct messages does. */
static int
bench_smtp_new (const char *port,
                guint       n)
{
  g_autoptr (MsgTransport) transport = transport_new ("smtp", port);
  g_autoptr (GError) error = NULL;
  g_autoptr (GString) body = g_string_new (NULL);
  gint64 start;
  double seconds;

  /* With the headers the library adds, about 1 KiB like msg-1k.eml. */
  while (body->len < 700)
    g_string_append (body, "The quick brown fox jumps over the lazy dog 0123456789.\n");
  start = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      g_autoptr (MsgMessage) message = msg_message_new ();
      g_autoptr (MsgSendReport) report = NULL;

      if (!msg_message_set_from (message, "Sender <sender@example.test>", &error) ||
          !msg_message_set_to (message, "Recipient <rcpt@example.test>", &error) ||
          !msg_message_set_subject (message, "msgobj-bench message", &error))
        die ("message", error);
      msg_message_set_text_body (message, body->str);
      report = msg_transport_send_message (transport, message, NULL, &error);
      if (report == NULL)
        die ("send", error);
    }
  close_transport (transport);
  seconds = seconds_since (start);
  g_print ("mode=smtp-new msgs=%u seconds=%.4f rate=%.1f\n", n, seconds,
           n > 0 ? n / seconds : 0.0);
  return 0;
}

/* smtp-async: as smtp, with msg_transport_send_message_async(), each send
 * awaited in the main loop before the next starts. */
typedef struct
{
  GMainLoop  *loop;
  MsgMessage *message;
  guint       left;
  GError     *error;
} AsyncRun;

static void
on_async_sent (GObject      *source,
               GAsyncResult *result,
               gpointer      data)
{
  AsyncRun *run = data;
  g_autoptr (MsgSendReport) report = NULL;

  report = msg_transport_send_message_finish (MSG_TRANSPORT (source), result, &run->error);
  if (report == NULL || --run->left == 0)
    {
      g_main_loop_quit (run->loop);
      return;
    }
  msg_transport_send_message_async (MSG_TRANSPORT (source), run->message, NULL, on_async_sent,
                                    run);
}

static int
bench_smtp_async (const char *port,
                  guint       n,
                  const char *path)
{
  g_autoptr (MsgTransport) transport = transport_new ("smtp", port);
  g_autoptr (MsgMessage) message = NULL;
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GError) error = NULL;
  AsyncRun run = { loop, NULL, n, NULL };
  gint64   start;
  double   seconds;

  message = msg_message_new_from_file (path, &error);
  if (message == NULL)
    die (path, error);
  run.message = message;
  start = g_get_monotonic_time ();
  if (n > 0)
    {
      msg_transport_send_message_async (transport, message, NULL, on_async_sent, &run);
      g_main_loop_run (loop);
    }
  if (run.error != NULL)
    die ("send", run.error);
  close_transport (transport);
  seconds = seconds_since (start);
  g_print ("mode=smtp-async msgs=%u seconds=%.4f rate=%.1f\n", n, seconds,
           n > 0 ? n / seconds : 0.0);
  return 0;
}

/* smtp-queue: DEPTH sends in the transport's queue at any time, of
 * copies of a parsed message (FILE) or, for smtp-new-queue, of a message
 * built anew for each send as smtp-new does: a program that sends
 * distinct messages as fast as it can (the next one is built while the
 * queued ones go out, each costing one round trip, RFC 2920 section 3.1). */
typedef struct
{
  GMainLoop  *loop;
  const char *body;    /* (nullable): build each message with this body */
  guint       left;    /* sends not yet started */
  guint       pending; /* sends started, not finished */
  GError     *error;
} QueueRun;

static void on_queued_sent (GObject      *source,
                            GAsyncResult *result,
                            gpointer      data);

/* Queues a send of @message (a slot's copy), or of a new message. */
static void
send_queued (MsgTransport *transport,
             QueueRun     *run,
             MsgMessage   *message)
{
  g_autoptr (MsgMessage) fresh = NULL;
  g_autoptr (GError) error = NULL;

  if (run->body != NULL)
    {
      fresh = message = msg_message_new ();
      if (!msg_message_set_from (message, "Sender <sender@example.test>", &error) ||
          !msg_message_set_to (message, "Recipient <rcpt@example.test>", &error) ||
          !msg_message_set_subject (message, "msgobj-bench message", &error))
        die ("message", error);
      msg_message_set_text_body (message, run->body);
    }
  run->left--;
  run->pending++;
  msg_transport_send_message_async (transport, message, NULL, on_queued_sent, fresh != NULL ? NULL : message);
}

static void
on_queued_sent (GObject      *source,
                GAsyncResult *result,
                gpointer      data)
{
  QueueRun *run = g_object_get_data (G_OBJECT (source), "run");
  g_autoptr (MsgSendReport) report = NULL;

  report = msg_transport_send_message_finish (MSG_TRANSPORT (source), result,
                                              run->error == NULL ? &run->error : NULL);
  run->pending--;
  if (run->error == NULL && run->left > 0)
    send_queued (MSG_TRANSPORT (source), run, data);
  if (run->pending == 0)
    g_main_loop_quit (run->loop);
}

static int
bench_smtp_queue (const char *port,
                  guint       n,
                  const char *path,
                  guint       depth)
{
  g_autoptr (MsgTransport) transport = transport_new ("smtp", port);
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GPtrArray) messages = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GString) body = g_string_new (NULL);
  g_autoptr (GError) error = NULL;
  QueueRun run = { loop, NULL, n, 0, NULL };
  gint64   start;
  double   seconds;

  if (depth == 0)
    die ("DEPTH", NULL);
  if (path == NULL)
    {
      /* With the headers the library adds, about 1 KiB like msg-1k.eml. */
      while (body->len < 700)
        g_string_append (body, "The quick brown fox jumps over the lazy dog 0123456789.\n");
      run.body = body->str;
    }
  /* A message is claimed while its send is queued: one copy per slot. */
  for (guint i = 0; path != NULL && i < depth; i++)
    {
      MsgMessage *message = msg_message_new_from_file (path, &error);

      if (message == NULL)
        die (path, error);
      g_ptr_array_add (messages, message);
    }
  g_object_set_data (G_OBJECT (transport), "run", &run);
  start = g_get_monotonic_time ();
  for (guint i = 0; i < depth && run.left > 0; i++)
    send_queued (transport, &run, path != NULL ? messages->pdata[i] : NULL);
  if (run.pending > 0)
    g_main_loop_run (loop);
  if (run.error != NULL)
    die ("send", run.error);
  close_transport (transport);
  seconds = seconds_since (start);
  g_print ("mode=%s msgs=%u depth=%u seconds=%.4f rate=%.1f\n", path != NULL ? "smtp-queue" : "smtp-new-queue", n,
           depth, seconds, n > 0 ? n / seconds : 0.0);
  return 0;
}

/* Sends @message once and closes @transport: the seconds it took. */
static double
send_once_timed (MsgTransport *transport,
                 MsgMessage   *message)
{
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  report = msg_transport_send_message (transport, message, NULL, &error);
  if (report == NULL)
    die ("send", error);
  close_transport (transport);
  return seconds_since (start);
}

/* big: one message whose attachment is streamed from a file. */
static int
bench_big (const char *port,
           const char *path)
{
  g_autoptr (MsgTransport) transport = transport_new ("smtp", port);
  g_autoptr (MsgMessage) message = msg_message_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInfo) info = NULL;
  double seconds, mib;

  info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_SIZE, G_FILE_QUERY_INFO_NONE, NULL,
                            &error);
  if (info == NULL)
    die (path, error);
  mib = (double) g_file_info_get_size (info) / (1024 * 1024);
  if (!msg_message_set_from (message, "sender@example.test", &error) ||
      !msg_message_set_to (message, "rcpt@example.test", &error) ||
      !msg_message_set_subject (message, "msgobj-bench big attachment", &error))
    die ("message", error);
  msg_message_set_text_body (message, "See the attachment.\n");
  if (msg_message_add_attachment (message, path, &error) == NULL)
    die ("attachment", error);

  seconds = send_once_timed (transport, message);
  g_print ("mode=big attachment_mib=%.1f seconds=%.4f mib_per_s=%.1f\n", mib, seconds,
           mib / seconds);
  return 0;
}

/* A message with a text body of @line repeated to @size octets. */
static MsgMessage *
text_message_new (const char *line,
                  gsize       size,
                  const char *subject)
{
  g_autoptr (GString) text = g_string_sized_new (size + 80);
  g_autoptr (GError) error = NULL;
  MsgMessage *message = msg_message_new ();

  while (text->len < size)
    g_string_append (text, line);
  if (!msg_message_set_from (message, "sender@example.test", &error) ||
      !msg_message_set_to (message, "rcpt@example.test", &error) ||
      !msg_message_set_subject (message, subject, &error))
    die ("message", error);
  msg_message_set_text_body (message, text->str);
  return message;
}

/* big-text: one message whose text body of MIB MiB, with accented
 * letters, is written in quoted-printable: a message whose size does not
 * follow from the lengths of its parts, so it is written twice. */
static int
bench_big_text (const char *port,
                guint       mib)
{
  g_autoptr (MsgTransport) transport = transport_new ("smtp", port);
  g_autoptr (MsgMessage) message =
      text_message_new ("The quick brown fox jumps over the lazy dog, déjà vu. 0123456789\n",
                        (gsize) mib * 1024 * 1024, "msgobj-bench big text");
  double seconds = send_once_timed (transport, message);

  g_print ("mode=big-text text_mib=%u seconds=%.4f mib_per_s=%.1f\n", mib, seconds, mib / seconds);
  return 0;
}

/* About 1 KiB of text with the headers, like the peer's articles. */
static MsgMessage *
nntp_article_new (const char *group)
{
  g_autoptr (MsgMessage) message = msg_message_new ();
  g_autoptr (GString) body = g_string_new (NULL);
  g_autoptr (GError) error = NULL;

  while (body->len < 800)
    g_string_append (body, "The quick brown fox jumps over the lazy dog 0123456789.\n");
  if (!msg_message_set_from (message, "Bench <sender@example.test>", &error) ||
      !msg_message_set_newsgroups (message, group, &error) ||
      !msg_message_set_subject (message, "msgobj-bench article", &error))
    die ("article", error);
  msg_message_set_text_body (message, body->str);
  return g_steal_pointer (&message);
}

/* nntp: N posts of a 1 KiB article, each with its own Message-ID (INN
 * refuses a duplicate). */
static int
bench_nntp (const char *port,
            guint       n,
            const char *group)
{
  g_autoptr (MsgTransport) transport = transport_new ("nntp", port);
  g_autoptr (MsgMessage) message = nntp_article_new (group);
  g_autoptr (GError) error = NULL;
  g_autofree char *id_prefix = NULL;
  gint64           start;
  double           seconds;

  id_prefix = g_strdup_printf ("%d.%" G_GINT64_FORMAT, getpid (), g_get_real_time ());

  start = g_get_monotonic_time ();
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("<bench.%s.%u@example.test>", id_prefix, i);
      g_autoptr (MsgSendReport) report = NULL;

      if (!msg_message_set_message_id (message, id, &error))
        die ("Message-ID", error);
      report = msg_transport_post_message (transport, message, NULL, &error);
      if (report == NULL)
        die ("post", error);
    }
  close_transport (transport);
  seconds = seconds_since (start);
  g_print ("mode=nntp articles=%u seconds=%.4f rate=%.1f\n", n, seconds,
           n > 0 ? n / seconds : 0.0);
  return 0;
}

/* nntp-queue: DEPTH posts in the transport's queue at any time, so that
 * each POST goes right behind the last article (RFC 3977 section 3.5). */
typedef struct
{
  QueueRun run;
  char    *id_prefix;
  guint    next_id;
} NntpQueueRun;

static void nntp_queue_post (MsgTransport *transport,
                             MsgMessage   *message);

static void
on_queued_posted (GObject      *source,
                  GAsyncResult *result,
                  gpointer      data)
{
  NntpQueueRun *q = g_object_get_data (G_OBJECT (source), "run");
  g_autoptr (MsgSendReport) report = NULL;

  report = msg_transport_post_message_finish (MSG_TRANSPORT (source), result,
                                              q->run.error == NULL ? &q->run.error : NULL);
  q->run.pending--;
  if (q->run.error == NULL && q->run.left > 0)
    nntp_queue_post (MSG_TRANSPORT (source), data);
  if (q->run.pending == 0)
    g_main_loop_quit (q->run.loop);
}

/* Posts @message again under a new Message-ID (its last post is over). */
static void
nntp_queue_post (MsgTransport *transport,
                 MsgMessage   *message)
{
  NntpQueueRun    *q = g_object_get_data (G_OBJECT (transport), "run");
  g_autofree char *id = g_strdup_printf ("<bench.%s.%u@example.test>", q->id_prefix, q->next_id++);
  g_autoptr (GError) error = NULL;

  if (!msg_message_set_message_id (message, id, &error))
    die ("Message-ID", error);
  q->run.left--;
  q->run.pending++;
  msg_transport_post_message_async (transport, message, NULL, on_queued_posted, message);
}

/* nntp-conns: the same over CONNS transports (connections) at once, from
 * one main loop, DEPTH posts queued on each; nntp-queue is one. */
static int
bench_nntp_queue (const char *port,
                  guint       n,
                  const char *group,
                  guint       n_conns,
                  guint       depth)
{
  g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr (GPtrArray) transports = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GPtrArray) messages = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *id_prefix = g_strdup_printf ("%d.%" G_GINT64_FORMAT, getpid (), g_get_real_time ());
  NntpQueueRun     q = { { loop, NULL, n, 0, NULL }, id_prefix, 0 };
  gint64           start;
  double           seconds;

  if (depth == 0 || n_conns == 0)
    die ("CONNS and DEPTH", NULL);
  for (guint c = 0; c < n_conns; c++)
    {
      MsgTransport *transport = transport_new ("nntp", port);

      g_object_set_data (G_OBJECT (transport), "run", &q);
      g_ptr_array_add (transports, transport);
    }
  /* A message is claimed while its post is queued: one per slot. */
  for (guint i = 0; i < n_conns * depth; i++)
    g_ptr_array_add (messages, nntp_article_new (group));
  start = g_get_monotonic_time ();
  for (guint i = 0; i < n_conns * depth && q.run.left > 0; i++)
    nntp_queue_post (transports->pdata[i % n_conns], messages->pdata[i]);
  if (q.run.pending > 0)
    g_main_loop_run (loop);
  if (q.run.error != NULL)
    die ("post", q.run.error);
  for (guint c = 0; c < n_conns; c++)
    close_transport (transports->pdata[c]);
  seconds = seconds_since (start);
  g_print ("mode=nntp-queue articles=%u connections=%u depth=%u seconds=%.4f rate=%.1f\n", n, n_conns,
           depth, seconds, n > 0 ? n / seconds : 0.0);
  return 0;
}

/* nntp-threads: THREADS threads post with the sync call on one transport;
 * their calls queue, so the next POST goes behind each article too, and
 * no call returns through a main loop. */
typedef struct
{
  MsgTransport *transport;
  const char   *group;
  const char   *id_prefix;
  gint          next; /* atomic: the next article's number */
  guint         n;
} ThreadsRun;

static gpointer
nntp_thread (gpointer data)
{
  ThreadsRun *run = data;
  g_autoptr (MsgMessage) message = nntp_article_new (run->group);
  guint i;

  while ((i = (guint) g_atomic_int_add (&run->next, 1)) < run->n)
    {
      g_autofree char *id = g_strdup_printf ("<bench.%s.%u@example.test>", run->id_prefix, i);
      g_autoptr (MsgSendReport) report = NULL;
      g_autoptr (GError) error = NULL;

      if (!msg_message_set_message_id (message, id, &error))
        die ("Message-ID", error);
      report = msg_transport_post_message (run->transport, message, NULL, &error);
      if (report == NULL)
        die ("post", error);
    }
  return NULL;
}

static int
bench_nntp_threads (const char *port,
                    guint       n,
                    const char *group,
                    guint       n_threads)
{
  g_autoptr (MsgTransport) transport = transport_new ("nntp", port);
  g_autofree char *id_prefix = g_strdup_printf ("%d.%" G_GINT64_FORMAT, getpid (), g_get_real_time ());
  g_autoptr (GPtrArray) threads = g_ptr_array_new ();
  ThreadsRun run = { transport, group, id_prefix, 0, n };
  gint64     start;
  double     seconds;

  if (n_threads == 0)
    die ("THREADS", NULL);
  start = g_get_monotonic_time ();
  for (guint i = 0; i < n_threads; i++)
    g_ptr_array_add (threads, g_thread_new ("nntp-bench", nntp_thread, &run));
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (threads->pdata[i]);
  close_transport (transport);
  seconds = seconds_since (start);
  g_print ("mode=nntp-threads articles=%u threads=%u seconds=%.4f rate=%.1f\n", n, n_threads,
           seconds, n > 0 ? n / seconds : 0.0);
  return 0;
}

/* cancel: how long from g_cancellable_cancel() until the send returns with
 * its socket closed, and until the server sees the close. */

static guint
count_sockets (void)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  const char *name;
  guint       sockets = 0;

  if (dir == NULL)
    return 0;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/fd", name, NULL);
      g_autofree char *target = g_file_read_link (path, NULL);

      if (target != NULL && g_str_has_prefix (target, "socket:"))
        sockets++;
    }
  return sockets;
}

/* The stall server appends "stall N MONOTONIC_US" to EOFLOG when its
 * connection N reaches the stall and "eof N MONOTONIC_US" when it sees the
 * connection closed. Both sides read CLOCK_MONOTONIC. */
static gint64
find_event (const char *eof_log,
            const char *kind,
            guint       connection)
{
  g_autofree char *prefix = g_strdup_printf ("%s %u ", kind, connection);
  g_autofree char *text = NULL;
  g_auto (GStrv) lines = NULL;

  if (!g_file_get_contents (eof_log, &text, NULL, NULL))
    return -1;
  lines = g_strsplit (text, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      return g_ascii_strtoll (lines[i] + strlen (prefix), NULL, 10);
  return -1;
}

static gint64
wait_for_event (const char *eof_log,
                const char *kind,
                guint       connection)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;
  gint64 at;

  while ((at = find_event (eof_log, kind, connection)) < 0 &&
         g_get_monotonic_time () < deadline)
    /* A poll for another process's file, not a timing assertion. */
    g_usleep (G_TIME_SPAN_MILLISECOND);
  return at;
}

typedef struct
{
  GCancellable *cancellable;
  const char   *eof_log;
  guint         connection;
  gint64        cancelled_at;
} Canceller;

/* Cancels once the server reports the stall, plus a little for the client
 * to block in it (in the data stage, to fill the socket buffers). */
static gpointer
cancel_thread (gpointer data)
{
  Canceller *c = data;

  wait_for_event (c->eof_log, "stall", c->connection);
  g_usleep (SETTLE_US);
  c->cancelled_at = g_get_monotonic_time ();
  g_cancellable_cancel (c->cancellable);
  return NULL;
}

typedef struct
{
  GMainLoop     *loop;
  MsgSendReport *report;
  GError        *error;
  gint64         returned_at;
} AsyncResult;

static void
on_sent (GObject      *source,
         GAsyncResult *result,
         gpointer      data)
{
  AsyncResult *r = data;

  r->returned_at = g_get_monotonic_time ();
  r->report = msg_transport_send_message_finish (MSG_TRANSPORT (source), result, &r->error);
  g_main_loop_quit (r->loop);
}

static gboolean
on_cancel_timeout (gpointer data)
{
  Canceller *c = data;

  c->cancelled_at = g_get_monotonic_time ();
  g_cancellable_cancel (c->cancellable);
  return G_SOURCE_REMOVE;
}

/* The async variant polls from the main context, so that the cancellation
 * comes from the thread that started the call. */
static gboolean
on_poll_stall (gpointer data)
{
  Canceller *c = data;

  if (find_event (c->eof_log, "stall", c->connection) < 0)
    return G_SOURCE_CONTINUE;
  g_timeout_add (SETTLE_US / 1000, on_cancel_timeout, c);
  return G_SOURCE_REMOVE;
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static double
median (GArray *values)
{
  g_array_sort (values, compare_doubles);
  return values->len > 0 ? g_array_index (values, double, values->len / 2) : -1;
}

static double
maximum (GArray *values)
{
  g_array_sort (values, compare_doubles);
  return values->len > 0 ? g_array_index (values, double, values->len - 1) : -1;
}

/* With @timeout (seconds, as text) the send is not cancelled: the
 * connection time-out ends it, and the time is counted from the server's
 * stall plus the time-out. */
static int
bench_stall (const char *port,
             const char *stage,
             guint       reps,
             const char *eof_log,
             const char *timeout)
{
  g_autoptr (MsgTransport) transport =
      transport_new_full ("smtp", port, timeout != NULL ? "smtpconnectiontimeout" : NULL, timeout);
  const char *mode = timeout != NULL ? "timeout" : "cancel";
  gint64      timeout_us = timeout != NULL ? (gint64) (g_ascii_strtod (timeout, NULL) * G_USEC_PER_SEC) : 0;
  g_autoptr (MsgMessage) message = msg_message_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GArray) sync_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) async_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GArray) eof_ms = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr (GBytes) payload = NULL;
  guint   sockets_before = count_sockets ();
  guint   connection = 0, failures = 0;
  guint8 *data;
  gsize   size = 16 * 1024 * 1024;

  if (!msg_message_set_from (message, "sender@example.test", &error) ||
      !msg_message_set_to (message, "rcpt@example.test", &error) ||
      !msg_message_set_subject (message, "msgobj-bench cancel", &error))
    die ("message", error);
  msg_message_set_text_body (message, "Stalled.\n");
  /* Large enough to fill both socket buffers when the server stops
   * reading during DATA; small otherwise, so that the server has read the
   * final dot well before the cancellation. */
  if (g_str_equal (stage, "data"))
    {
      data = g_malloc (size);
      for (gsize i = 0; i < size; i++)
        data[i] = (guint8) (i * 2654435761u >> 13);
      payload = g_bytes_new_take (data, size);
      if (msg_message_add_attachment_bytes (message, payload, "stall.bin",
                                            "application/octet-stream", &error) == NULL)
        die ("attachment", error);
    }

  for (guint i = 0; i < 2 * reps; i++)
    {
      gboolean async = i >= reps;
      g_autoptr (GCancellable) cancellable = g_cancellable_new ();
      g_autoptr (GError) send_error = NULL;
      g_autoptr (MsgSendReport) report = NULL;
      Canceller c = { cancellable, eof_log, connection + 1, 0 };
      gint64    returned_at, eof_at;
      gboolean  expected;
      double    ms;

      if (!async)
        {
          GThread *thread = timeout == NULL ? g_thread_new ("canceller", cancel_thread, &c) : NULL;

          report = msg_transport_send_message (transport, message, cancellable, &send_error);
          returned_at = g_get_monotonic_time ();
          if (thread != NULL)
            g_thread_join (thread);
        }
      else
        {
          g_autoptr (GMainLoop) loop = g_main_loop_new (NULL, FALSE);
          AsyncResult r = { loop, NULL, NULL, 0 };

          if (timeout == NULL)
            g_timeout_add (1, on_poll_stall, &c);
          msg_transport_send_message_async (transport, message, cancellable, on_sent, &r);
          g_main_loop_run (loop);
          /* If the send ended before the stall, nothing may use c later. */
          while (g_source_remove_by_user_data (&c))
            ;
          report = r.report;
          send_error = r.error;
          returned_at = r.returned_at;
        }
      connection++;
      if (timeout != NULL)
        {
          gint64 stall_at = find_event (eof_log, "stall", connection);

          c.cancelled_at = stall_at >= 0 ? stall_at + timeout_us : returned_at;
        }

      /* After the final dot a cancellation or time-out leaves the outcome
       * unknown (docs/design.md, decision 2); before it, the error is
       * CANCELLED or TIMED_OUT. */
      expected = g_str_equal (stage, "dot")
                     ? g_error_matches (send_error, MSG_TRANSPORT_ERROR,
                                        MSG_TRANSPORT_ERROR_OUTCOME_UNKNOWN)
                     : g_error_matches (send_error, G_IO_ERROR,
                                        timeout != NULL ? G_IO_ERROR_TIMED_OUT
                                                        : G_IO_ERROR_CANCELLED);
      if (report != NULL || !expected)
        {
          g_printerr ("msgobj-bench: %s at %s: unexpected result: %s\n", mode, stage,
                      send_error != NULL ? send_error->message : "sent");
          failures++;
        }
      if (count_sockets () != sockets_before)
        {
          g_printerr ("msgobj-bench: %s at %s: a socket is still open after the call "
                      "returned\n",
                      mode, stage);
          failures++;
        }
      ms = (double) (returned_at - c.cancelled_at) / 1000;
      g_array_append_val (async ? async_ms : sync_ms, ms);
      eof_at = wait_for_event (eof_log, "eof", connection);
      if (eof_at < 0)
        {
          g_printerr ("msgobj-bench: %s at %s: the server never saw connection %u "
                      "closed\n",
                      mode, stage, connection);
          failures++;
        }
      else
        {
          ms = (double) (eof_at - c.cancelled_at) / 1000;
          g_array_append_val (eof_ms, ms);
        }
    }
  g_print ("mode=%s stage=%s reps=%u sync_median_ms=%.3f sync_max_ms=%.3f "
           "async_median_ms=%.3f async_max_ms=%.3f server_eof_median_ms=%.3f "
           "server_eof_max_ms=%.3f failures=%u\n",
           mode, stage, reps, median (sync_ms), maximum (sync_ms), median (async_ms),
           maximum (async_ms), median (eof_ms), maximum (eof_ms), failures);
  return failures == 0 ? 0 : 1;
}

/* dkim: what signing costs, per message, against the same sends unsigned;
 * every variant in each round, so that the machine's other jobs hit them
 * alike. */
typedef struct
{
  const char *name;      /* as printed */
  const char *algorithm; /* (nullable): unsigned */
  const char *key;       /* file name in KEYDIR */
} DkimVariant;

static double
process_cpu_seconds (void)
{
  struct timespec ts;

  clock_gettime (CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static MsgTransport *
dkim_transport_new (const char        *port,
                    const DkimVariant *variant,
                    const char        *keydir)
{
  MsgTransport *transport = transport_new ("smtp", port);
  g_autoptr (MsgConfiguration) config = msg_configuration_copy (msg_transport_get_configuration (transport));
  g_autofree char *key = g_build_filename (keydir, variant->key != NULL ? variant->key : "none", NULL);
  g_autoptr (GError) error = NULL;

  if (variant->algorithm != NULL &&
      (!msg_configuration_set_field (config, "dkimsign", "true", &error) ||
       !msg_configuration_set_field (config, "dkimdomain", "example.test", &error) ||
       !msg_configuration_set_field (config, "dkimselector", "bench", &error) ||
       !msg_configuration_set_field (config, "dkimalgorithm", variant->algorithm, &error) ||
       !msg_configuration_set_field (config, "dkimprivatekeyfile", key, &error)))
    die ("configuration", error);
  msg_transport_set_configuration (transport, config);
  return transport;
}

static MsgMessage *
dkim_big_message (void)
{
  return text_message_new ("The quick brown fox jumps over the lazy dog, again and again and again.\n",
                           1024 * 1024, "1 MiB");
}

/* The floor under a signed row, per signature: libopendkim alone
 * (dkim_sign ... dkim_eom on a 3-field, 1-line message, with the key file's
 * PEM text as libmsgobj hands it: libopendkim 2.11 decodes it with OpenSSL
 * in every dkim_eom), and the signature alone with the key loaded once
 * (GnuTLS, on 32 bytes as a DKIM signature signs a SHA-256 hash). */
static void
dkim_floor (const DkimVariant *variant,
            const char        *keydir,
            guint              reps)
{
  static const char *const fields[] = { "From: sender@example.test", "To: rcpt@example.test", "Subject: floor" };
  const guint              n = 200;
  g_autofree char         *path = g_build_filename (keydir, variant->key, NULL);
  g_autofree char         *pem = NULL;
  g_autoptr (GError) error = NULL;
  gboolean         ed = g_str_equal (variant->algorithm, "ed25519-sha256");
  DKIM_LIB        *lib = dkim_init (NULL, NULL);
  gnutls_privkey_t key = NULL;
  gsize            length = 0;
  double           best_lib = G_MAXDOUBLE;
  double           best_sign = G_MAXDOUBLE;

  if (!g_file_get_contents (path, &pem, &length, &error))
    die (path, error);
  if (lib == NULL || gnutls_privkey_init (&key) < 0)
    die ("dkim floor: cannot start libopendkim or GnuTLS", NULL);
  {
    gnutls_datum_t datum = { (unsigned char *) pem, (unsigned) length };

    if (gnutls_privkey_import_x509_raw (key, &datum, GNUTLS_X509_FMT_PEM, NULL, 0) < 0)
      die ("dkim floor: GnuTLS cannot load the key", NULL);
  }
  for (guint r = 0; r < reps; r++)
    {
      double cpu = process_cpu_seconds ();

      for (guint i = 0; i < n; i++)
        {
          DKIM_STAT status = DKIM_STAT_OK;
          DKIM     *dkim = dkim_sign (lib, (const u_char *) "floor", NULL, (dkim_sigkey_t) pem,
                                      (const u_char *) "bench", (const u_char *) "example.test", DKIM_CANON_RELAXED,
                                      DKIM_CANON_RELAXED, ed ? DKIM_SIGN_ED25519SHA256 : DKIM_SIGN_RSASHA256, -1,
                                      &status);

          for (gsize f = 0; dkim != NULL && status == DKIM_STAT_OK && f < G_N_ELEMENTS (fields); f++)
            status = dkim_header (dkim, (u_char *) fields[f], strlen (fields[f]));
          if (status == DKIM_STAT_OK && dkim != NULL)
            status = dkim_eoh (dkim);
          if (status == DKIM_STAT_OK && dkim != NULL)
            status = dkim_body (dkim, (u_char *) "Hello.\r\n", 8);
          if (status == DKIM_STAT_OK && dkim != NULL)
            status = dkim_eom (dkim, NULL);
          if (dkim == NULL || status != DKIM_STAT_OK)
            die ("dkim floor: libopendkim cannot sign", NULL);
          dkim_free (dkim);
        }
      best_lib = MIN (best_lib, (process_cpu_seconds () - cpu) / n);

      cpu = process_cpu_seconds ();
      for (guint i = 0; i < n; i++)
        {
          unsigned char  hash[32] = { (unsigned char) i };
          gnutls_datum_t data = { hash, sizeof hash };
          gnutls_datum_t signature = { NULL, 0 };

          if (gnutls_privkey_sign_data2 (key, ed ? GNUTLS_SIGN_EDDSA_ED25519 : GNUTLS_SIGN_RSA_SHA256, 0, &data,
                                         &signature) < 0)
            die ("dkim floor: GnuTLS cannot sign", NULL);
          gnutls_free (signature.data);
        }
      best_sign = MIN (best_sign, (process_cpu_seconds () - cpu) / n);
    }
  g_print ("mode=dkim-floor variant=%s libopendkim_cpu_us=%.1f signature_only_cpu_us=%.1f\n", variant->name,
           best_lib * 1e6, best_sign * 1e6);
  gnutls_privkey_deinit (key);
  dkim_close (lib);
}

static int
bench_dkim (const char *port,
            const char *path,
            const char *keydir,
            guint       reps)
{
  static const DkimVariant variants[] = {
    { "unsigned", NULL, NULL },
    { "rsa-2048", "rsa-sha256", "rsa.private" },
    { "ed25519", "ed25519-sha256", "ed.private" },
  };
  const char *sizes[] = { "1KiB", "1MiB" };
  const guint counts[] = { 500, 10 };
  double      best_wall[2][G_N_ELEMENTS (variants)];
  double      best_cpu[2][G_N_ELEMENTS (variants)];
  g_autoptr (MsgMessage) small = NULL;
  g_autoptr (MsgMessage) big = dkim_big_message ();
  g_autoptr (GError) error = NULL;
  guint sent = 0;

  small = msg_message_new_from_file (path, &error);
  if (small == NULL)
    die (path, error);
  for (gsize s = 0; s < 2; s++)
    for (gsize v = 0; v < G_N_ELEMENTS (variants); v++)
      best_wall[s][v] = best_cpu[s][v] = G_MAXDOUBLE;

  for (guint r = 0; r < reps; r++)
    for (gsize s = 0; s < 2; s++)
      for (gsize v = 0; v < G_N_ELEMENTS (variants); v++)
        {
          g_autoptr (MsgTransport) transport = dkim_transport_new (port, &variants[v], keydir);
          MsgMessage *message = s == 0 ? small : big;
          gint64      start = 0;
          double      cpu = 0;

          /* The connection is made by a first send, not measured. */
          for (guint i = 0; i <= counts[s]; i++)
            {
              g_autoptr (MsgSendReport) report = NULL;

              if (i == 1)
                {
                  start = g_get_monotonic_time ();
                  cpu = process_cpu_seconds ();
                }
              report = msg_transport_send_message (transport, message, NULL, &error);
              if (report == NULL)
                die ("send", error);
              sent++;
            }
          best_wall[s][v] = MIN (best_wall[s][v], seconds_since (start) / counts[s]);
          best_cpu[s][v] = MIN (best_cpu[s][v], (process_cpu_seconds () - cpu) / counts[s]);
          close_transport (transport);
        }

  for (gsize s = 0; s < 2; s++)
    for (gsize v = 0; v < G_N_ELEMENTS (variants); v++)
      g_print ("mode=dkim size=%s variant=%s msgs=%u wall_us=%.1f cpu_us=%.1f ratio_wall=%.3f ratio_cpu=%.3f\n",
               sizes[s], variants[v].name, counts[s], best_wall[s][v] * 1e6, best_cpu[s][v] * 1e6,
               best_wall[s][v] / best_wall[s][0], best_cpu[s][v] / best_cpu[s][0]);
  for (gsize v = 1; v < G_N_ELEMENTS (variants); v++)
    dkim_floor (&variants[v], keydir, reps);
  g_print ("mode=dkim sent=%u\n", sent);
  return 0;
}

static void
usage (void)
{
  g_printerr ("usage: msgobj-bench smtp PORT N FILE\n"
              "       msgobj-bench smtp-new PORT N\n"
              "       msgobj-bench smtp-new-queue PORT N DEPTH\n"
              "       msgobj-bench smtp-async PORT N FILE\n"
              "       msgobj-bench smtp-queue PORT N FILE DEPTH\n"
              "       msgobj-bench big PORT FILE\n"
              "       msgobj-bench big-text PORT MIB\n"
              "       msgobj-bench nntp PORT N GROUP\n"
              "       msgobj-bench nntp-queue PORT N GROUP DEPTH\n"
              "       msgobj-bench nntp-threads PORT N GROUP THREADS\n"
              "       msgobj-bench nntp-conns PORT N GROUP CONNS DEPTH\n"
              "       msgobj-bench cancel PORT greeting|ehlo|data|dot REPS EOFLOG\n"
              "       msgobj-bench timeout PORT greeting|ehlo|data|dot REPS EOFLOG SECONDS\n"
              "       msgobj-bench dkim PORT FILE KEYDIR REPS\n");
  exit (2);
}

int
main (int   argc,
      char *argv[])
{
  if (argc < 3)
    usage ();
  if (g_str_equal (argv[1], "smtp") && argc == 5)
    return bench_smtp (argv[2], parse_count (argv[3], "N"), argv[4]);
  if (g_str_equal (argv[1], "big-text") && argc == 4)
    return bench_big_text (argv[2], parse_count (argv[3], "MIB"));
  if (g_str_equal (argv[1], "smtp-new") && argc == 4)
    return bench_smtp_new (argv[2], parse_count (argv[3], "N"));
  if (g_str_equal (argv[1], "smtp-new-queue") && argc == 5)
    return bench_smtp_queue (argv[2], parse_count (argv[3], "N"), NULL, parse_count (argv[4], "DEPTH"));
  if (g_str_equal (argv[1], "smtp-async") && argc == 5)
    return bench_smtp_async (argv[2], parse_count (argv[3], "N"), argv[4]);
  if (g_str_equal (argv[1], "smtp-queue") && argc == 6)
    return bench_smtp_queue (argv[2], parse_count (argv[3], "N"), argv[4], parse_count (argv[5], "DEPTH"));
  if (g_str_equal (argv[1], "big") && argc == 4)
    return bench_big (argv[2], argv[3]);
  if (g_str_equal (argv[1], "nntp") && argc == 5)
    return bench_nntp (argv[2], parse_count (argv[3], "N"), argv[4]);
  if (g_str_equal (argv[1], "nntp-threads") && argc == 6)
    return bench_nntp_threads (argv[2], parse_count (argv[3], "N"), argv[4], parse_count (argv[5], "THREADS"));
  if (g_str_equal (argv[1], "nntp-queue") && argc == 6)
    return bench_nntp_queue (argv[2], parse_count (argv[3], "N"), argv[4], 1, parse_count (argv[5], "DEPTH"));
  if (g_str_equal (argv[1], "nntp-conns") && argc == 7)
    return bench_nntp_queue (argv[2], parse_count (argv[3], "N"), argv[4], parse_count (argv[5], "CONNS"),
                             parse_count (argv[6], "DEPTH"));
  if (g_str_equal (argv[1], "cancel") && argc == 6)
    return bench_stall (argv[2], argv[3], parse_count (argv[4], "REPS"), argv[5], NULL);
  if (g_str_equal (argv[1], "timeout") && argc == 7)
    return bench_stall (argv[2], argv[3], parse_count (argv[4], "REPS"), argv[5], argv[6]);
  if (g_str_equal (argv[1], "dkim") && argc == 6)
    return bench_dkim (argv[2], argv[3], argv[4], parse_count (argv[5], "REPS"));
  usage ();
  return 2;
}
