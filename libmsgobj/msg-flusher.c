/* msg-flusher.c: sending every message of a drop directory
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-flusher-private.h"

#include "msg-configuration.h"
#include "msg-deadline-private.h"
#include "msg-drop-directory-private.h"
#include "msg-drop-message.h"
#include "msg-message-crypto-private.h"
#include "msg-transport-private.h"
#include "msg-transport.h"

/**
 * MsgFlusher:
 *
 * Sends every message of a [class@DropDirectory] (such as the pickup
 * directory that `sendusing=pickup` fills) through the transport that the
 * configuration's `sendusing` names, over several kept connections at
 * once: `msgobj flush` is this object.
 *
 * Each connection is one [class@Transport], driven by one thread that
 * keeps three sends queued on it (the transport's ordinary code), so that
 * the next message's envelope follows each final dot (RFC 2920 section
 * 3.1): one round trip per message. Under a rate limit, one send at a
 * time. The threads share only the listing and a queue of outcomes, and
 * no lock is held across I/O. The listing is read in batches, in name
 * order, so that a run's memory does not grow with the directory; files
 * written after a run started, with later names (as the pickup transport
 * names them), wait for the next run. For each message, a thread:
 *
 * 1. claims the file ([method@DropMessage.claim]), so that no other
 *    thread or flusher sends it, and marks the claim started
 *    ([method@DropMessage.mark_started]) before the first byte goes out;
 * 2. sends it, with its envelope from its headers (`Bcc` honoured and left
 *    out of the copy sent);
 * 3. on its own acceptance, deletes the file (when only some recipients were
 *    accepted, a report naming the refused ones is left in `partial/`);
 *    on a permanent refusal (5xx, or a file that is not a message), moves
 *    it to `failed/` with a report (`NAME.eml.report`) beside it; on a
 *    temporary failure (4xx, connection refused or lost before the end of
 *    the message), puts it back with a hidden sidecar `.NAME.eml.retry`
 *    counting the attempts and setting the earliest next attempt
 *    (back-off: 1, 2, 4 … minutes, at most an hour); when the outcome is
 *    unknown (no answer after the whole message was sent), moves it to
 *    `unknown/` with a report: it is never sent again automatically.
 *
 * With several relays in `smtpserver`, each connection uses one: the
 * first that is up (`smtprelaymode` failover) or its share of them
 * (spread). A connection that fails (refused, timed out, TLS,
 * authentication) marks its relay down for 60 s, for the whole run; the
 * message it had not sent goes to another connection, and the thread
 * goes on with another relay, or stops when every relay is down (the
 * other messages then stay for the next run). The sends queued behind a
 * failed one are cancelled and go to other connections too.
 * [property@Flusher:rate-limit] caps the messages a second to each
 * relay. A run starts by
 * recovering the claims of flushers that died ([method@DropDirectory.recover_claims]):
 * a message whose sending had begun goes to `unknown/`, the others back to
 * the queue. So a message is never sent twice by flushers, even with
 * `SIGKILL`, and nothing is lost.
 *
 * With [property@Flusher:post] set, the messages are news articles (such
 * as the news pickup directory, `nntpserverpickupdirectory`, that
 * `postusing=pickup` fills): each is posted as it is, through the
 * transport that `postusing` names, every connection to `nntpserver`.
 * The outcomes are filed the same way: an article the server refuses
 * (NNTP 441), or one without `Newsgroups`, `From` or `Subject`, goes to
 * `failed/`; a 4xx to `POST` waits for its back-off; a server that does
 * not allow posting (440 to `POST`) leaves every article where it is,
 * as a failed connection does; no answer after the article is unknown.
 */
struct _MsgFlusher
{
  GObject parent_instance;

  MsgConfiguration *configuration; /* (owned) */
  MsgDropDirectory *directory;     /* (owned) */
  guint             connections;
  double            rate_limit;
  gboolean          post;
  gboolean          running;
  guint             counts[MSG_FLUSH_N_OUTCOMES];
  GMutex            lock;     /* for deferral, set from the connections' threads */
  GError           *deferral; /* (owned) (nullable): msg_flusher_dup_deferral_error() */
};

G_DEFINE_FINAL_TYPE (MsgFlusher, msg_flusher, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_CONFIGURATION,
  PROP_DIRECTORY,
  PROP_CONNECTIONS,
  PROP_RATE_LIMIT,
  PROP_POST,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_PROGRESS,
  SIGNAL_NEED_TOKEN,
  N_SIGNALS,
};

static guint signals[N_SIGNALS];

static void
msg_flusher_finalize (GObject *object)
{
  MsgFlusher *self = MSG_FLUSHER (object);

  g_clear_object (&self->configuration);
  g_clear_object (&self->directory);
  g_clear_error (&self->deferral);
  g_mutex_clear (&self->lock);

  G_OBJECT_CLASS (msg_flusher_parent_class)->finalize (object);
}

static void
msg_flusher_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  MsgFlusher *self = MSG_FLUSHER (object);

  switch (prop_id)
    {
    case PROP_CONFIGURATION:
      g_value_set_object (value, self->configuration);
      break;
    case PROP_DIRECTORY:
      g_value_set_object (value, self->directory);
      break;
    case PROP_CONNECTIONS:
      g_value_set_uint (value, self->connections);
      break;
    case PROP_RATE_LIMIT:
      g_value_set_double (value, self->rate_limit);
      break;
    case PROP_POST:
      g_value_set_boolean (value, self->post);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
msg_flusher_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  MsgFlusher *self = MSG_FLUSHER (object);

  switch (prop_id)
    {
    case PROP_CONFIGURATION:
      g_set_object (&self->configuration, g_value_get_object (value));
      break;
    case PROP_DIRECTORY:
      g_set_object (&self->directory, g_value_get_object (value));
      break;
    case PROP_CONNECTIONS:
      msg_flusher_set_connections (self, g_value_get_uint (value));
      break;
    case PROP_RATE_LIMIT:
      msg_flusher_set_rate_limit (self, g_value_get_double (value));
      break;
    case PROP_POST:
      msg_flusher_set_post (self, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
msg_flusher_constructed (GObject *object)
{
  MsgFlusher *self = MSG_FLUSHER (object);

  G_OBJECT_CLASS (msg_flusher_parent_class)->constructed (object);

  if (self->configuration == NULL)
    self->configuration = msg_configuration_new ();
  if (self->directory == NULL)
    self->directory = msg_drop_directory_new (".");
}

static void
msg_flusher_class_init (MsgFlusherClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = msg_flusher_finalize;
  object_class->get_property = msg_flusher_get_property;
  object_class->set_property = msg_flusher_set_property;
  object_class->constructed = msg_flusher_constructed;

  /**
   * MsgFlusher:configuration:
   *
   * The configuration: `sendusing` (or `postusing`, see
   * [property@Flusher:post]) and the transport's fields. Each connection
   * uses a copy taken when a run starts.
   */
  properties[PROP_CONFIGURATION] =
      g_param_spec_object ("configuration", NULL, NULL, MSG_TYPE_CONFIGURATION,
                           G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * MsgFlusher:directory:
   *
   * The directory whose messages are sent.
   */
  properties[PROP_DIRECTORY] =
      g_param_spec_object ("directory", NULL, NULL, MSG_TYPE_DROP_DIRECTORY,
                           G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  /**
   * MsgFlusher:connections: (getter get_connections) (setter set_connections)
   *
   * How many connections (and threads) a run uses, 1 to 64.
   */
  properties[PROP_CONNECTIONS] =
      g_param_spec_uint ("connections", NULL, NULL, 1, 64, MSG_FLUSHER_DEFAULT_CONNECTIONS,
                         G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MsgFlusher:rate-limit: (getter get_rate_limit) (setter set_rate_limit)
   *
   * At most how many messages a second a run sends to each relay (as
   * providers demand), over all its connections; `0` (the default) means
   * no limit. The messages to one relay start at least 1/rate seconds
   * apart (a token bucket holding one token): no burst.
   */
  properties[PROP_RATE_LIMIT] =
      g_param_spec_double ("rate-limit", NULL, NULL, 0, MSG_FLUSHER_MAX_RATE_LIMIT, 0,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MsgFlusher:post: (getter get_post) (setter set_post)
   *
   * Whether a run posts the messages as news articles instead of sending
   * them as mail: each goes with [method@Transport.post_message_async]
   * through the transport that the configuration's `postusing` names
   * (NNTP, normally), to `nntpserver`, as the article it is (no envelope;
   * `Bcc` is left out as for any post). `smtpserver`'s list of relays
   * does not apply: every connection goes to the one news server. Use it
   * to drain the news pickup directory (`nntpserverpickupdirectory`) that
   * `postusing=pickup` fills.
   */
  properties[PROP_POST] =
      g_param_spec_boolean ("post", NULL, NULL, FALSE,
                            G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * MsgFlusher::progress:
   * @self: the flusher
   * @n_done: messages dealt with so far in this run (sent, failed,
   *   deferred, unknown or skipped)
   * @n_total: messages listed when the run started
   * @n_bytes: bytes of the messages dealt with so far (the size of each
   *   file claimed, whatever its outcome)
   *
   * Emitted as messages are dealt with (at most every 100 ms, and after
   * the last), in the thread that called [method@Flusher.run], or in the
   * thread-default main context of [method@Flusher.run_async]'s caller.
   */
  signals[SIGNAL_PROGRESS] =
      g_signal_new ("progress", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                    NULL, NULL, NULL, G_TYPE_NONE, 3, G_TYPE_UINT, G_TYPE_UINT, G_TYPE_UINT64);

  /**
   * MsgFlusher::need-token:
   * @self: the flusher
   * @mechanism: the SASL mechanism, `OAUTHBEARER` or `XOAUTH2`
   * @user: (nullable): the configured user name
   * @server_error: (nullable): what the server said about the refused
   *   token
   *
   * [signal@Transport::need-token] of the run's connections: emitted when
   * a server refuses the configured OAuth 2 access token, in the thread
   * that called [method@Flusher.run], or in the thread-default main
   * context of [method@Flusher.run_async]'s caller. A handler that
   * returns a fresh token makes that connection authenticate again with
   * it; each connection asks on its own. The message waits for the
   * handler within its deadline and the run's cancellable.
   *
   * Returns: (transfer full) (nullable): a fresh access token, or %NULL
   */
  signals[SIGNAL_NEED_TOKEN] =
      g_signal_new ("need-token", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                    g_signal_accumulator_first_wins, NULL, NULL, G_TYPE_STRING, 3,
                    G_TYPE_STRING, G_TYPE_STRING, G_TYPE_STRING);
}

static void
msg_flusher_init (MsgFlusher *self)
{
  self->connections = MSG_FLUSHER_DEFAULT_CONNECTIONS;
  g_mutex_init (&self->lock);
}

/**
 * msg_flusher_new:
 * @configuration: the configuration to send with
 * @directory: the directory to empty
 *
 * Makes a flusher that sends the messages of @directory with
 * @configuration's `sendusing` transport (or posts them with its
 * `postusing` transport, after [method@Flusher.set_post]).
 *
 * Returns: (transfer full): the flusher
 */
MsgFlusher *
msg_flusher_new (MsgConfiguration *configuration,
                 MsgDropDirectory *directory)
{
  g_return_val_if_fail (MSG_IS_CONFIGURATION (configuration), NULL);
  g_return_val_if_fail (MSG_IS_DROP_DIRECTORY (directory), NULL);

  return g_object_new (MSG_TYPE_FLUSHER, "configuration", configuration, "directory", directory, NULL);
}

/**
 * msg_flusher_get_configuration: (get-property configuration)
 * @self: a flusher
 *
 * Gives the configuration the flusher sends with.
 *
 * Returns: (transfer none): the configuration
 */
MsgConfiguration *
msg_flusher_get_configuration (MsgFlusher *self)
{
  g_return_val_if_fail (MSG_IS_FLUSHER (self), NULL);

  return self->configuration;
}

/**
 * msg_flusher_get_directory: (get-property directory)
 * @self: a flusher
 *
 * Gives the directory the flusher empties.
 *
 * Returns: (transfer none): the directory
 */
MsgDropDirectory *
msg_flusher_get_directory (MsgFlusher *self)
{
  g_return_val_if_fail (MSG_IS_FLUSHER (self), NULL);

  return self->directory;
}

/**
 * msg_flusher_get_connections:
 * @self: a flusher
 *
 * Gives the number of connections a run uses.
 *
 * Returns: the number of connections
 */
guint
msg_flusher_get_connections (MsgFlusher *self)
{
  g_return_val_if_fail (MSG_IS_FLUSHER (self), 0);

  return self->connections;
}

/**
 * msg_flusher_set_connections:
 * @self: a flusher
 * @connections: 1 to 64
 *
 * Sets the number of connections the next run uses.
 */
void
msg_flusher_set_connections (MsgFlusher *self,
                             guint       connections)
{
  g_return_if_fail (MSG_IS_FLUSHER (self));
  g_return_if_fail (connections >= 1 && connections <= 64);

  if (self->connections == connections)
    return;
  self->connections = connections;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECTIONS]);
}

/**
 * msg_flusher_get_rate_limit: (get-property rate-limit)
 * @self: a flusher
 *
 * Gives the most messages a second a run sends to each relay.
 *
 * Returns: the limit, or 0 for none
 */
double
msg_flusher_get_rate_limit (MsgFlusher *self)
{
  g_return_val_if_fail (MSG_IS_FLUSHER (self), 0);

  return self->rate_limit;
}

/**
 * msg_flusher_set_rate_limit: (set-property rate-limit)
 * @self: a flusher
 * @rate_limit: messages a second to each relay, at most
 *   %MSG_FLUSHER_MAX_RATE_LIMIT; 0 for no limit
 *
 * Sets the most messages a second the next run sends to each relay.
 */
void
msg_flusher_set_rate_limit (MsgFlusher *self,
                            double      rate_limit)
{
  g_return_if_fail (MSG_IS_FLUSHER (self));
  g_return_if_fail (rate_limit >= 0 && rate_limit <= MSG_FLUSHER_MAX_RATE_LIMIT);

  if (self->rate_limit == rate_limit)
    return;
  self->rate_limit = rate_limit;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RATE_LIMIT]);
}

/**
 * msg_flusher_get_post: (get-property post)
 * @self: a flusher
 *
 * Gives whether a run posts the messages as news articles
 * ([property@Flusher:post]).
 *
 * Returns: %TRUE if a run posts them by `postusing`, %FALSE if it sends
 *   them by `sendusing`
 */
gboolean
msg_flusher_get_post (MsgFlusher *self)
{
  g_return_val_if_fail (MSG_IS_FLUSHER (self), FALSE);

  return self->post;
}

/**
 * msg_flusher_set_post: (set-property post)
 * @self: a flusher
 * @post: %TRUE to post the messages as news articles, %FALSE to send
 *   them as mail
 *
 * Sets whether the next run posts the messages through the transport
 * that `postusing` names, to `nntpserver`, instead of sending them
 * through `sendusing`'s ([property@Flusher:post]). A run then fails at
 * its start, before it claims any message, if that transport cannot
 * post.
 */
void
msg_flusher_set_post (MsgFlusher *self,
                      gboolean    post)
{
  g_return_if_fail (MSG_IS_FLUSHER (self));

  post = !!post;
  if (self->post == post)
    return;
  self->post = post;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_POST]);
}

/* The sends each connection keeps queued on its transport: the one
 * running and two behind it. The one right behind must be queued before
 * the running one writes its final dot, so that its envelope follows
 * the dot (RFC 2920 section 3.1, docs/design.md decision 14): when a
 * send completes, the next one starts at once, and the thread that
 * refills the queue would race it with one send behind; with two, it
 * has a whole message's time. */
#define PIPELINE_DEPTH 3

/* The directory is read in batches of the smallest names after the last
 * one listed, so that a run's memory does not grow with the directory
 * (issue 18). Each batch reads the whole directory (about 3 µs an entry
 * on a loaded machine), so a batch is an eighth of the messages, at least
 * LIST_BATCH_MIN and at most LIST_BATCH_MAX (a run then holds at most
 * 1.5 x 32,768 items of about 210 bytes, 10 MB). */
#define LIST_BATCH_MAX 32768
#define LIST_BATCH_MIN 64

/* One run: what the threads share. */
typedef struct
{
  MsgFlusher     *self;        /* (owned) */
  guint           total;       /* messages listed at the start */
  char           *until;       /* (owned) (nullable): the largest name then: later files wait for the next run */
  guint           batch;       /* names listed at a time */
  GPtrArray      *transports;  /* (owned) (element-type MsgTransport) */
  GAsyncQueue    *events;      /* (owned): FlushEvent, from the threads */
  GCancellable   *cancellable; /* (owned) (nullable) */
  GMainContext   *context;     /* (owned) (nullable): where progress goes (async) */
  GMainContext   *caller;      /* (owned): the caller's, where its functions run (passphrase, need-token) */
  MsgFlushRelays *relays;      /* (owned) */
  gboolean        post;        /* the post property at the start: it may change meanwhile */
  GMutex          lock;        /* for the fields below, never held across I/O */
  GQueue          put_back;    /* (owned) items a failed connection gave back, to resend */
  GQueue          listed;      /* (owned) items listed, not yet taken */
  char           *after;       /* (owned) (nullable): the last name listed */
  gboolean        listed_all;
  gboolean        listing;     /* a thread reads the next batch */
  GCond           listed_cond; /* signalled when it has */
} Run;

typedef struct
{
  MsgFlushOutcome outcome;
  guint64         bytes;
} FlushEvent;

/* One connection: a thread that keeps up to @depth sends queued on its
 * transport, and files each as it completes (in the thread's own main
 * context). */
typedef struct
{
  Run          *run;
  MsgTransport *transport;
  GMainContext *context;     /* (owned): where this connection's sends complete */
  GCancellable *cancellable; /* (owned): cancelled with the run, or on its own to drain */
  gulong        cancelled_id;
  guint         index;
  gint          relay; /* -1 until a relay is picked, and after it failed */
  guint         depth;
  guint         in_flight;
  gboolean      stopping; /* take no more messages */
} Worker;

/* One send in flight. */
typedef struct
{
  Worker         *worker;
  MsgDropMessage *item; /* (owned) */
  guint64         bytes;
} Send;

static void note_deferral (Run          *run,
                           const GError *error);

/* Reads the next batch of names into run->listed, in the thread that
 * set run->listing, outside the lock. */
static void
list_more (Run *run)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *after = NULL;
  GPtrArray       *items;

  g_mutex_lock (&run->lock);
  after = g_strdup (run->after);
  g_mutex_unlock (&run->lock);
  items = _msg_drop_directory_list_range (run->self->directory, after, run->until, run->batch, NULL, NULL,
                                          run->cancellable, &error);
  g_mutex_lock (&run->lock);
  if (items == NULL)
    run->listed_all = TRUE; /* the rest waits for the next run */
  else
    {
      for (guint i = 0; i < items->len; i++)
        g_queue_push_tail (&run->listed, g_object_ref (items->pdata[i]));
      if (items->len > 0)
        {
          g_free (run->after);
          run->after = g_strdup (msg_drop_message_get_name (items->pdata[items->len - 1]));
        }
      run->listed_all = items->len < run->batch;
      g_debug ("Flush listing: %u more messages", items->len);
      g_ptr_array_unref (items);
    }
  run->listing = FALSE;
  g_cond_broadcast (&run->listed_cond);
  g_mutex_unlock (&run->lock);
  note_deferral (run, error);
}

/* The next message to send: one that a failed connection gave back, else
 * the next of the listing; NULL when none is left. When few listed ones
 * are left, this thread reads the next batch. */
static MsgDropMessage *
take_item (Run *run)
{
  MsgDropMessage *item;
  gboolean        list = FALSE;

  g_mutex_lock (&run->lock);
  item = g_queue_pop_head (&run->put_back);
  while (item == NULL && (item = g_queue_pop_head (&run->listed)) == NULL && !run->listed_all)
    {
      if (!run->listing)
        break;
      g_cond_wait (&run->listed_cond, &run->lock);
    }
  if (!run->listing && !run->listed_all && g_queue_get_length (&run->listed) < run->batch / 2)
    list = run->listing = TRUE;
  g_mutex_unlock (&run->lock);
  if (!list)
    return item;
  list_more (run);
  return item != NULL ? item : take_item (run);
}

static void
put_back (Run            *run,
          MsgDropMessage *item)
{
  g_mutex_lock (&run->lock);
  g_queue_push_tail (&run->put_back, item);
  g_mutex_unlock (&run->lock);
}

static void
push_event (Run            *run,
            MsgFlushOutcome outcome,
            guint64         bytes)
{
  FlushEvent *event = g_new0 (FlushEvent, 1);

  event->outcome = outcome;
  event->bytes = bytes;
  g_async_queue_push (run->events, event);
  if (run->context == NULL)
    g_main_context_wakeup (run->caller); /* collect() may be in its iteration */
}

static gboolean
wait_turn_cb (gpointer      data,
              GCancellable *cancellable)
{
  Worker *worker = data;

  return _msg_flush_relays_wait_turn (worker->run->relays, (guint) worker->relay, cancellable);
}

/* Points the worker's transport at a relay that is up; FALSE if none is. */
static gboolean
pick_relay (Worker *worker)
{
  const char *server;

  worker->relay = _msg_flush_relays_pick (worker->run->relays, worker->index);
  if (worker->relay < 0)
    return FALSE;
  server = _msg_flush_relays_get_server (worker->run->relays, (guint) worker->relay);
  /* A value the configuration validated, as part of its list. */
  if (server != NULL)
    msg_configuration_set_field (msg_transport_get_configuration (worker->transport), "smtpserver", server, NULL);
  return TRUE;
}

static void
cancel_worker_cb (GCancellable *run_cancellable,
                  gpointer      data)
{
  g_cancellable_cancel (data);
}

/* A fresh cancellable for the worker's sends, cancelled with the run's. */
static void
renew_cancellable (Worker *worker)
{
  GCancellable *run_cancellable = worker->run->cancellable;

  if (worker->cancellable != NULL)
    {
      g_cancellable_disconnect (run_cancellable, worker->cancelled_id);
      g_object_unref (worker->cancellable);
    }
  worker->cancellable = g_cancellable_new ();
  worker->cancelled_id = 0;
  if (run_cancellable != NULL)
    worker->cancelled_id = g_cancellable_connect (run_cancellable, G_CALLBACK (cancel_worker_cb),
                                                  worker->cancellable, NULL);
}

/* Keeps the first failure of a connection or server that left messages
 * for later (not a cancellation): the reason `msgobj flush` gives for
 * its exit code 4. */
static void
note_deferral (Run          *run,
               const GError *error)
{
  if (error == NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      g_cancellable_is_cancelled (run->cancellable))
    return;
  g_mutex_lock (&run->self->lock);
  if (run->self->deferral == NULL)
    run->self->deferral = g_error_copy (error);
  g_mutex_unlock (&run->self->lock);
}

static void
send_done_cb (GObject      *source,
              GAsyncResult *result,
              gpointer      data)
{
  Send   *send = data;
  Worker *worker = send->worker;
  Run    *run = worker->run;
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgSendReport) report =
      run->post ? msg_transport_post_message_finish (MSG_TRANSPORT (source), result, &error)
                : msg_transport_send_message_finish (MSG_TRANSPORT (source), result, &error);
  MsgFlushNext    next = MSG_FLUSH_GO_ON;
  MsgFlushOutcome outcome = _msg_flusher_file_one (run->self->directory, send->item, report, error, &next);
  gboolean        draining = worker->relay < 0;

  worker->in_flight--;
  if (g_cancellable_is_cancelled (run->cancellable))
    ;
  else if (next == MSG_FLUSH_RELAY_FAILED || (draining && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED)))
    {
      /* The relay is down for a while. The message, not sent, goes to
       * another connection (maybe this one, to another relay), and so do
       * the ones queued behind it: cancelled, not tried on a dead relay
       * one after the other. */
      if (!draining)
        {
          note_deferral (run, error);
          _msg_flush_relays_mark_down (run->relays, (guint) worker->relay);
          worker->relay = -1;
          g_cancellable_cancel (worker->cancellable);
        }
      put_back (run, send->item);
      g_free (send);
      return;
    }
  push_event (run, outcome, send->bytes);
  if (next == MSG_FLUSH_STOP)
    note_deferral (run, error);
  if (next != MSG_FLUSH_GO_ON)
    worker->stopping = TRUE;
  g_object_unref (send->item);
  g_free (send);
}

/* Queues sends until @depth are in flight, or the worker must take no
 * more messages for now (its relay failed) or at all. */
static void
fill (Worker *worker)
{
  Run *run = worker->run;

  while (worker->in_flight < worker->depth && !worker->stopping)
    {
      g_autoptr (MsgMessage) message = NULL;
      MsgFlushOutcome outcome;
      MsgFlushNext    next = MSG_FLUSH_GO_ON;
      MsgDropMessage *item;
      Send           *send;

      if (worker->relay < 0 && worker->in_flight > 0)
        return; /* draining: the relay failed */
      if (worker->relay < 0)
        {
          renew_cancellable (worker);
          if (!pick_relay (worker))
            {
              worker->stopping = TRUE; /* every relay is down: what is left stays queued */
              return;
            }
        }
      item = g_cancellable_is_cancelled (run->cancellable) ? NULL : take_item (run);
      if (item == NULL)
        {
          worker->stopping = TRUE;
          return;
        }
      send = g_new0 (Send, 1);
      message = _msg_flusher_prepare_one (run->self->directory, item, wait_turn_cb, worker, worker->cancellable,
                                          &send->bytes, &outcome, &next);
      if (message == NULL)
        {
          push_event (run, outcome, send->bytes);
          g_object_unref (item);
          g_free (send);
          worker->stopping = next != MSG_FLUSH_GO_ON;
          continue;
        }
      send->worker = worker;
      send->item = item;
      worker->in_flight++;
      if (run->post)
        msg_transport_post_message_async (worker->transport, message, worker->cancellable, send_done_cb, send);
      else
        msg_transport_send_message_async (worker->transport, message, worker->cancellable, send_done_cb, send);
    }
}

static gpointer
worker_thread (gpointer data)
{
  Worker *worker = data;
  Run    *run = worker->run;

  g_main_context_push_thread_default (worker->context);
  for (;;)
    {
      fill (worker);
      if (worker->in_flight == 0 && (worker->stopping || worker->relay >= 0))
        break;
      if (worker->in_flight > 0)
        g_main_context_iteration (worker->context, TRUE);
    }
  /* The polite close: QUIT under the transport's short deadline. */
  msg_transport_close (worker->transport, NULL, NULL);
  g_main_context_pop_thread_default (worker->context);

  push_event (run, MSG_FLUSH_N_OUTCOMES, 0); /* this thread is done */
  if (worker->cancelled_id != 0)
    g_cancellable_disconnect (run->cancellable, worker->cancelled_id);
  g_clear_object (&worker->cancellable);
  g_main_context_unref (worker->context);
  g_free (worker);
  return NULL;
}

typedef struct
{
  MsgFlusher *self; /* (owned) */
  guint       done;
  guint       total;
  guint64     bytes;
} Progress;

static gboolean
emit_progress_cb (gpointer data)
{
  Progress *progress = data;

  g_signal_emit (progress->self, signals[SIGNAL_PROGRESS], 0, progress->done, progress->total, progress->bytes);
  return G_SOURCE_REMOVE;
}

static void
progress_free (gpointer data)
{
  Progress *progress = data;

  g_object_unref (progress->self);
  g_free (progress);
}

static void
emit_progress (Run    *run,
               guint   done,
               guint64 bytes)
{
  Progress *progress = g_new0 (Progress, 1);

  progress->self = g_object_ref (run->self);
  progress->done = done;
  /* Files that came within the run's range meanwhile. */
  progress->total = MAX (run->total, done);
  progress->bytes = bytes;
  if (run->context == NULL)
    {
      emit_progress_cb (progress);
      progress_free (progress);
    }
  else
    {
      GSource *source = g_idle_source_new ();

      /* The task's own priority: the last progress is dispatched before
       * the completion callback that the run queues after it (an idle
       * priority would let the callback overtake it). */
      g_source_set_priority (source, G_PRIORITY_DEFAULT);
      g_source_set_callback (source, emit_progress_cb, progress, progress_free);
      g_source_attach (source, run->context);
      g_source_unref (source);
    }
}

/* Collects the outcomes until every thread is done. */
static void
collect (Run *run)
{
  guint   running = run->transports->len;
  guint   done = 0;
  guint64 bytes = 0;
  gint64  last_emit = 0;

  while (running > 0)
    {
      FlushEvent *event;

      /* A sync run's caller iterates its private context here, where the
       * passphrase function is called; an async run's caller iterates
       * its own. */
      if (run->context != NULL)
        event = g_async_queue_pop (run->events);
      else if ((event = g_async_queue_try_pop (run->events)) == NULL)
        {
          g_main_context_iteration (run->caller, TRUE);
          continue;
        }
      if (event->outcome == MSG_FLUSH_N_OUTCOMES)
        running--;
      else
        {
          run->self->counts[event->outcome]++;
          bytes += event->bytes;
          done++;
          if (g_get_monotonic_time () - last_emit >= 100 * G_TIME_SPAN_MILLISECOND)
            {
              emit_progress (run, done, bytes);
              last_emit = g_get_monotonic_time ();
            }
        }
      g_free (event);
    }
  /* Given back by failed connections and not sent again (every relay
   * was down): tried, left for later. */
  run->self->counts[MSG_FLUSH_DEFERRED] += g_queue_get_length (&run->put_back);
  done += g_queue_get_length (&run->put_back);
  /* What a stopped or cancelled run never took. */
  run->self->counts[MSG_FLUSH_SKIPPED] += run->total > done ? run->total - done : 0;
  emit_progress (run, MAX (run->total, done), bytes);
}

/* A connection's need-token, in the run's caller thread (see run.caller). */
static char *
forward_need_token_cb (MsgTransport *transport,
                       const char   *mechanism,
                       const char   *user,
                       const char   *server_error,
                       gpointer      user_data)
{
  char *token = NULL;

  g_signal_emit (user_data, signals[SIGNAL_NEED_TOKEN], 0, mechanism, user, server_error, &token);
  return token;
}

/* Whether @transport can do what the run asks of it, else the error that
 * each of its calls would give every message (the base class's), once for
 * the whole run: `sendusing` naming a transport that only posts (nntp),
 * or in post mode `postusing` one that only sends (smtp), is a
 * configuration mistake, not a reason to try, and put back, every
 * message. */
static gboolean
check_can (MsgTransport *transport,
           gboolean      post,
           GError      **error)
{
  MsgTransportClass *klass = MSG_TRANSPORT_GET_CLASS (transport);

  if ((post ? (gpointer) klass->post_message_sync : (gpointer) klass->send_message_sync) != NULL)
    return TRUE;
  if (post)
    g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_NOT_SUPPORTED,
                 "Transport “%s” cannot post messages (postusing); flushing with post needs one "
                 "that can, such as nntp",
                 msg_transport_get_name (transport));
  else
    g_set_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_NOT_SUPPORTED,
                 "Transport “%s” cannot send messages (sendusing); flushing needs one that can, "
                 "such as smtp, or post mode for news",
                 msg_transport_get_name (transport));
  return FALSE;
}

/* The transports, one per connection, each with its own configuration:
 * `postusing`'s when the run posts, else `sendusing`'s. */
static GPtrArray *
make_transports (MsgFlusher *self,
                 gboolean    post,
                 GError    **error)
{
  g_autoptr (GPtrArray) transports = g_ptr_array_new_with_free_func (g_object_unref);
  g_autofree char *name = msg_configuration_get_field (self->configuration, post ? "postusing" : "sendusing");

  for (guint i = 0; i < self->connections; i++)
    {
      g_autoptr (MsgConfiguration) copy = msg_configuration_copy (self->configuration);
      MsgTransport *transport;

      _msg_configuration_copy_passphrase_func (self->configuration, copy);
      transport = msg_transport_new_for_name (name != NULL ? name : "pickup", copy, error);
      if (transport == NULL)
        return NULL;
      if (!check_can (transport, post, error))
        {
          g_object_unref (transport);
          return NULL;
        }
      g_signal_connect_object (transport, "need-token", G_CALLBACK (forward_need_token_cb), self, 0);
      g_ptr_array_add (transports, transport);
    }
  return g_steal_pointer (&transports);
}

/* The first batch, which also counts the messages and bounds the run's
 * names: those written meanwhile (by the pickup transport, with larger
 * names) wait for the next run, so that a run ends even while an
 * application keeps writing. */
static gboolean
start_listing (Run          *run,
               GCancellable *cancellable,
               GError      **error)
{
  g_autoptr (GPtrArray) items = NULL;

  items = _msg_drop_directory_list_range (run->self->directory, NULL, NULL, LIST_BATCH_MIN, &run->total, &run->until,
                                          cancellable, error);
  if (items == NULL)
    return FALSE;
  run->batch = CLAMP (run->total / 8, LIST_BATCH_MIN, LIST_BATCH_MAX);
  for (guint i = 0; i < items->len; i++)
    g_queue_push_tail (&run->listed, g_object_ref (items->pdata[i]));
  if (items->len > 0)
    run->after = g_strdup (msg_drop_message_get_name (items->pdata[items->len - 1]));
  run->listed_all = items->len == run->total;
  g_debug ("Flush listing: %u of %u messages", items->len, run->total);
  return TRUE;
}

static void
init_listing (Run *run)
{
  g_mutex_init (&run->lock);
  g_cond_init (&run->listed_cond);
  g_queue_init (&run->put_back);
  g_queue_init (&run->listed);
}

static void
clear_listing (Run *run)
{
  g_queue_clear_full (&run->put_back, g_object_unref);
  g_queue_clear_full (&run->listed, g_object_unref);
  g_clear_pointer (&run->after, g_free);
  g_clear_pointer (&run->until, g_free);
  g_cond_clear (&run->listed_cond);
  g_mutex_clear (&run->lock);
}

/* Makes the run's contexts before any thread starts: GLib aborts the
 * process when it cannot make a context's wake-up descriptor, so each is
 * made with _msg_main_context_try_new(), and a run short of descriptors
 * fails as a whole. Index 0 is the caller's (@context, else a new one),
 * then one for each connection. */
static GPtrArray *
make_contexts (GMainContext *context,
               guint         n_connections,
               GError      **error)
{
  g_autoptr (GPtrArray) contexts = g_ptr_array_new_with_free_func ((GDestroyNotify) g_main_context_unref);

  for (guint i = 0; i <= n_connections; i++)
    {
      GMainContext *made =
          i == 0 && context != NULL ? g_main_context_ref (context) : _msg_main_context_try_new (error);

      if (made == NULL)
        return NULL;
      g_ptr_array_add (contexts, made);
    }
  return g_steal_pointer (&contexts);
}

static gboolean
run_internal (MsgFlusher   *self,
              GCancellable *cancellable,
              GMainContext *context,
              GError      **error)
{
  g_autoptr (GPtrArray) threads = g_ptr_array_new ();
  g_autoptr (GPtrArray) contexts = NULL;
  g_autoptr (GError) thread_error = NULL;
  GThread *thread;
  Run      run = { .self = self };

  memset (self->counts, 0, sizeof self->counts);
  g_mutex_lock (&self->lock);
  g_clear_error (&self->deferral);
  g_mutex_unlock (&self->lock);
  /* A transport that cannot send (or, to post, post) fails here, before
   * anything in the directory is touched. */
  run.post = self->post;
  run.transports = make_transports (self, run.post, error);
  if (run.transports == NULL)
    return FALSE;
  init_listing (&run);
  /* Stale claims of dead flushers: sent or not, a started one is set aside. */
  if (msg_drop_directory_recover_claims (self->directory, MSG_FLUSH_UNKNOWN_DIR, NULL,
                                         &self->counts[MSG_FLUSH_UNKNOWN], cancellable, error) &&
      start_listing (&run, cancellable, error))
    contexts = make_contexts (context, run.transports->len, error);
  if (contexts == NULL)
    {
      clear_listing (&run);
      g_ptr_array_unref (run.transports);
      return FALSE;
    }
  run.events = g_async_queue_new ();
  run.cancellable = cancellable;
  run.context = context;
  /* The sends are made on the connections' threads: the caller's
   * functions are called where the caller is. */
  run.caller = g_main_context_ref (contexts->pdata[0]);
  for (guint i = 0; i < run.transports->len; i++)
    _msg_transport_set_caller_context (run.transports->pdata[i], run.caller);
  run.relays = _msg_flush_relays_new (self->configuration, self->rate_limit, run.post);

  for (guint i = 0; i < run.transports->len; i++)
    {
      Worker *worker = g_new0 (Worker, 1);

      worker->run = &run;
      worker->transport = run.transports->pdata[i];
      worker->index = i;
      worker->relay = -1;
      worker->context = g_main_context_ref (contexts->pdata[i + 1]);
      /* A rate limit spaces the starts of messages: queued ahead, a
       * message would start when the one before it ends, maybe sooner
       * than its slot. */
      worker->depth = self->rate_limit > 0 ? 1 : PIPELINE_DEPTH;
      thread = thread_error == NULL ? g_thread_try_new ("msgobj-flush", worker_thread, worker, &thread_error) : NULL;
      if (thread != NULL)
        {
          g_ptr_array_add (threads, thread);
          continue;
        }
      /* Short of threads (pids.max, ulimit -u): the run goes on over the
       * connections it got, and collect() counts this one as done. */
      g_main_context_unref (worker->context);
      g_free (worker);
      push_event (&run, MSG_FLUSH_N_OUTCOMES, 0);
    }
  if (thread_error != NULL)
    g_debug ("Flushing over %u connections, not %u: %s", threads->len, run.transports->len,
             thread_error->message);
  collect (&run);
  for (guint i = 0; i < threads->len; i++)
    g_thread_join (threads->pdata[i]);

  g_async_queue_unref (run.events);
  g_main_context_unref (run.caller);
  clear_listing (&run);
  _msg_flush_relays_free (run.relays);
  g_ptr_array_unref (run.transports);
  if (threads->len == 0)
    {
      /* Not one: no message was touched. */
      g_propagate_prefixed_error (error, g_steal_pointer (&thread_error), "No thread to flush over: ");
      return FALSE;
    }
  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

static gboolean
begin_run (MsgFlusher *self,
           GError    **error)
{
  if (g_atomic_int_compare_and_exchange (&self->running, FALSE, TRUE))
    return TRUE;
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PENDING, "The flusher is already running");
  return FALSE;
}

/**
 * msg_flusher_run:
 * @self: a flusher
 * @cancellable: (nullable): a cancellable; cancelling stops the run once
 *   each connection's sends end (a message queued or being sent when
 *   cancelled goes back to the queue, or to `unknown/` when the whole
 *   message had gone out)
 * @error: return location for an error
 *
 * Sends every message of the directory, as [class@Flusher] describes,
 * and returns when all are dealt with. The counts of the run are then
 * read with [method@Flusher.get_n_sent] and the others.
 *
 * Messages are sent on the flusher's own threads, but the configuration's
 * passphrase function (when `cryptosign` or `cryptoencrypt` asks for a
 * key that needs one) is called in the thread that called this function.
 *
 * Returns: %TRUE if the run went through the listing (whatever each
 *   message's outcome); %FALSE if it could not start (the directory
 *   cannot be read, no such transport, or one that cannot send (with
 *   [property@Flusher:post], post): %MSG_TRANSPORT_ERROR_NOT_SUPPORTED,
 *   before any file is touched, a dead flusher's claim included; no
 *   thread could be made for any
 *   connection: %G_THREAD_ERROR_AGAIN, no message touched) or was
 *   cancelled. Short of threads for some connections, a run goes on
 *   over those it got
 */
gboolean
msg_flusher_run (MsgFlusher   *self,
                 GCancellable *cancellable,
                 GError      **error)
{
  gboolean ok;

  g_return_val_if_fail (MSG_IS_FLUSHER (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!begin_run (self, error))
    return FALSE;
  ok = run_internal (self, cancellable, NULL, error);
  g_atomic_int_set (&self->running, FALSE);
  return ok;
}

static void
run_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  MsgFlusher *self = source_object;
  GError     *error = NULL;

  gboolean ok = run_internal (self, cancellable, g_task_get_context (task), &error);

  /* Before the caller's callback, so that it can start another run. */
  g_atomic_int_set (&self->running, FALSE);
  if (ok)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/**
 * msg_flusher_run_async:
 * @self: a flusher
 * @cancellable: (nullable): a cancellable
 * @callback: (scope async): called when the run is over
 * @user_data: data for @callback
 *
 * Starts [method@Flusher.run] without blocking; [signal@Flusher::progress]
 * is emitted, and the configuration's passphrase function called, in the
 * thread-default main context of this call.
 */
void
msg_flusher_run_async (MsgFlusher         *self,
                       GCancellable       *cancellable,
                       GAsyncReadyCallback callback,
                       gpointer            user_data)
{
  g_autoptr (GTask) task = NULL;
  g_autoptr (GError) error = NULL;

  g_return_if_fail (MSG_IS_FLUSHER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, msg_flusher_run_async);
  if (!begin_run (self, &error))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  g_task_set_check_cancellable (task, FALSE);
  g_task_run_in_thread (task, run_thread);
}

/**
 * msg_flusher_run_finish:
 * @self: a flusher
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Finishes [method@Flusher.run_async].
 *
 * Returns: as [method@Flusher.run]
 */
gboolean
msg_flusher_run_finish (MsgFlusher   *self,
                        GAsyncResult *result,
                        GError      **error)
{
  g_return_val_if_fail (MSG_IS_FLUSHER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == msg_flusher_run_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/**
 * msg_flusher_get_n_sent:
 * @self: a flusher
 *
 * Gives how many messages the last run sent (and deleted).
 *
 * Returns: the count
 */
guint
msg_flusher_get_n_sent (MsgFlusher *self)
{
  g_return_val_if_fail (MSG_IS_FLUSHER (self), 0);

  return self->counts[MSG_FLUSH_SENT];
}

/**
 * msg_flusher_get_n_failed:
 * @self: a flusher
 *
 * Gives how many messages the last run moved to `failed/` (refused for
 * good, or not messages).
 *
 * Returns: the count
 */
guint
msg_flusher_get_n_failed (MsgFlusher *self)
{
  g_return_val_if_fail (MSG_IS_FLUSHER (self), 0);

  return self->counts[MSG_FLUSH_FAILED];
}

/**
 * msg_flusher_get_n_deferred:
 * @self: a flusher
 *
 * Gives how many messages the last run tried and left for a later one
 * (temporary failure, or a connection that failed).
 *
 * Returns: the count
 */
guint
msg_flusher_get_n_deferred (MsgFlusher *self)
{
  g_return_val_if_fail (MSG_IS_FLUSHER (self), 0);

  return self->counts[MSG_FLUSH_DEFERRED];
}

/**
 * msg_flusher_get_n_unknown:
 * @self: a flusher
 *
 * Gives how many messages the last run moved to `unknown/`: sent, but no
 * answer came, or left being sent by a flusher that died.
 *
 * Returns: the count
 */
guint
msg_flusher_get_n_unknown (MsgFlusher *self)
{
  g_return_val_if_fail (MSG_IS_FLUSHER (self), 0);

  return self->counts[MSG_FLUSH_UNKNOWN];
}

/**
 * msg_flusher_get_n_skipped:
 * @self: a flusher
 *
 * Gives how many listed messages the last run did not try: taken by
 * another consumer, waiting for their back-off to end, or left when a
 * connection failed or the run was cancelled.
 *
 * Returns: the count
 */
guint
msg_flusher_get_n_skipped (MsgFlusher *self)
{
  g_return_val_if_fail (MSG_IS_FLUSHER (self), 0);

  return self->counts[MSG_FLUSH_SKIPPED];
}

/**
 * msg_flusher_dup_deferral_error:
 * @self: a flusher
 *
 * Gives why the last run left messages for later that were not at fault
 * themselves: the first failure of a connection or a server it met (a
 * relay that refused the connection or timed out, TLS or authentication
 * that failed, a news server that does not allow posting, no thread for
 * a send). A message that its own 4xx reply deferred (greylisting) is
 * not one: its report is in its retry file. A cancellation is not one
 * either.
 *
 * Returns: (transfer full) (nullable): the error, or %NULL if the last
 *   run met none
 */
GError *
msg_flusher_dup_deferral_error (MsgFlusher *self)
{
  GError *error = NULL;

  g_return_val_if_fail (MSG_IS_FLUSHER (self), NULL);

  g_mutex_lock (&self->lock);
  if (self->deferral != NULL)
    error = g_error_copy (self->deferral);
  g_mutex_unlock (&self->lock);
  return error;
}
