/* msg-flusher-relays.c: the relays of a flush, their down marks and rates
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-flusher-private.h"

#include "msg-configuration.h"

#include <string.h>

/* How long a relay whose connection failed is left alone. */
#define DOWN_SECONDS 60

/* A wait for a rate limit slot, when the cancellable has no descriptor,
 * goes in steps this long (µs), checking for cancellation. */
#define WAIT_STEP_US (20 * G_TIME_SPAN_MILLISECOND)

typedef struct
{
  char  *server;     /* (nullable): the smtpserver entry, NULL to leave the field */
  gint64 down_until; /* monotonic µs; 0 if up */
  gint64 next_slot;  /* monotonic µs: when the next message may start */
} Relay;

struct _MsgFlushRelays
{
  GMutex   lock; /* held only to read or update the fields, never across a wait */
  Relay   *relays;
  guint    n_relays;
  gboolean spread;
  gint64   interval; /* µs between two messages to one relay; 0: no limit */
};

/* The relays: the entries of smtpserver when the flush sends by SMTP to
 * a list, else one that leaves the configuration as it is. A flush that
 * posts (@post) reads neither sendusing nor smtpserver: every connection
 * goes to the configured nntpserver. */
MsgFlushRelays *
_msg_flush_relays_new (MsgConfiguration *configuration,
                       double            rate_limit,
                       gboolean          post)
{
  MsgFlushRelays *self = g_new0 (MsgFlushRelays, 1);
  g_autofree char *using = post ? NULL : msg_configuration_get_field (configuration, "sendusing");
  g_autofree char *server = post ? NULL : msg_configuration_get_field (configuration, "smtpserver");
  g_auto (GStrv) entries = NULL;

  g_mutex_init (&self->lock);
  if (rate_limit > 0)
    {
      double interval = G_USEC_PER_SEC / rate_limit;

      /* Rounded up: never faster than the limit. */
      self->interval = (gint64) interval;
      if ((double) self->interval < interval)
        self->interval++;
    }
  if (g_strcmp0 (using, "smtp") == 0 && server != NULL && strchr (server, ',') != NULL)
    {
      entries = g_strsplit (server, ",", -1);
      self->spread = msg_configuration_get_int (configuration, "smtprelaymode") == 1;
    }
  self->n_relays = entries != NULL ? g_strv_length (entries) : 1;
  self->relays = g_new0 (Relay, self->n_relays);
  for (guint i = 0; entries != NULL && entries[i] != NULL; i++)
    self->relays[i].server = g_strdup (g_strstrip (entries[i]));
  return self;
}

void
_msg_flush_relays_free (MsgFlushRelays *self)
{
  for (guint i = 0; i < self->n_relays; i++)
    g_free (self->relays[i].server);
  g_free (self->relays);
  g_mutex_clear (&self->lock);
  g_free (self);
}

/* The relay that connection @index uses for its next connection: with
 * spread, relay @index modulo their number, else the first; the next one
 * up in order if that one is down; -1 if every relay is down. */
gint
_msg_flush_relays_pick (MsgFlushRelays *self,
                        guint           index)
{
  guint  start = self->spread ? index % self->n_relays : 0;
  gint64 now = g_get_monotonic_time ();
  gint   picked = -1;

  g_mutex_lock (&self->lock);
  for (guint k = 0; k < self->n_relays && picked < 0; k++)
    {
      guint i = (start + k) % self->n_relays;

      if (self->relays[i].down_until <= now)
        picked = (gint) i;
    }
  g_mutex_unlock (&self->lock);
  return picked;
}

/* The smtpserver value that makes a connection use @relay, or NULL to
 * leave the configuration as it is. */
const char *
_msg_flush_relays_get_server (MsgFlushRelays *self,
                              guint           relay)
{
  return self->relays[relay].server;
}

void
_msg_flush_relays_mark_down (MsgFlushRelays *self,
                             guint           relay)
{
  g_mutex_lock (&self->lock);
  self->relays[relay].down_until = g_get_monotonic_time () + DOWN_SECONDS * G_USEC_PER_SEC;
  g_mutex_unlock (&self->lock);
}

/* Sleeps until @until (monotonic µs), or until @cancellable is
 * cancelled; FALSE if it was. */
static gboolean
sleep_until (gint64        until,
             GCancellable *cancellable)
{
  GPollFD poll_fd;
  gint64  now;

  if (cancellable != NULL && g_cancellable_make_pollfd (cancellable, &poll_fd))
    {
      while ((now = g_get_monotonic_time ()) < until && !g_cancellable_is_cancelled (cancellable))
        g_poll (&poll_fd, 1, (gint) MIN ((until - now + 999) / 1000, G_MAXINT));
      g_cancellable_release_fd (cancellable);
      return !g_cancellable_is_cancelled (cancellable);
    }
  while ((now = g_get_monotonic_time ()) < until && !g_cancellable_is_cancelled (cancellable))
    g_usleep (MIN (until - now, WAIT_STEP_US));
  return !g_cancellable_is_cancelled (cancellable);
}

/* The rate limit of @relay: a token bucket holding one token, refilled
 * at the rate (the "virtual scheduling" form: each message reserves the
 * next free slot, then waits for it with no lock held). FALSE if
 * @cancellable was cancelled during the wait. */
gboolean
_msg_flush_relays_wait_turn (MsgFlushRelays *self,
                             guint           relay,
                             GCancellable   *cancellable)
{
  gint64 slot;

  if (self->interval == 0)
    return TRUE;
  g_mutex_lock (&self->lock);
  slot = MAX (self->relays[relay].next_slot, g_get_monotonic_time ());
  self->relays[relay].next_slot = slot + self->interval;
  g_mutex_unlock (&self->lock);
  return sleep_until (slot, cancellable);
}
