/* msg-connect-race.c: connecting to the first of several addresses that
 * answers (RFC 8305, Happy Eyeballs v2)
 *
 * The addresses are tried IPv6 first, the families interleaved (RFC 8305
 * section 4). An attempt starts when the one before it failed, or when
 * MSG_CONNECT_ATTEMPT_DELAY_MS passed without an answer, while the
 * earlier attempts go on; the first to connect wins and the others are
 * closed at once. One clock (@until) bounds the whole race.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-connect-race-private.h"

/* IPv6 first, then the families alternate, each in the resolver's order. */
static GPtrArray *
interleave (GList *addresses)
{
  GPtrArray *order = g_ptr_array_new ();
  GQueue     v6 = G_QUEUE_INIT;
  GQueue     v4 = G_QUEUE_INIT;

  for (GList *l = addresses; l != NULL; l = l->next)
    g_queue_push_tail (g_inet_address_get_family (l->data) == G_SOCKET_FAMILY_IPV6 ? &v6 : &v4, l->data);
  while (!g_queue_is_empty (&v6) || !g_queue_is_empty (&v4))
    {
      if (!g_queue_is_empty (&v6))
        g_ptr_array_add (order, g_queue_pop_head (&v6));
      if (!g_queue_is_empty (&v4))
        g_ptr_array_add (order, g_queue_pop_head (&v4));
    }
  return order;
}

/* Starts a connect to @address. Returns the socket when the connect is
 * under way or done (*@connected), or NULL with *@last_error replaced
 * when it failed at once (refused, unreachable, no socket). */
static GSocket *
start_attempt (GInetAddress *address,
               guint16       port,
               gboolean     *connected,
               GError      **last_error)
{
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GSocketAddress) socket_address = NULL;
  g_autoptr (GError) error = NULL;

  *connected = FALSE;
  socket = g_socket_new (g_inet_address_get_family (address), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, &error);
  if (socket != NULL)
    {
      g_socket_set_blocking (socket, FALSE);
      socket_address = g_inet_socket_address_new (address, port);
      if (g_socket_connect (socket, socket_address, NULL, &error))
        *connected = TRUE;
      else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PENDING))
        g_clear_error (&error);
    }
  if (error == NULL)
    return g_steal_pointer (&socket);
  if (socket != NULL)
    g_socket_close (socket, NULL);
  g_clear_error (last_error);
  *last_error = g_steal_pointer (&error);
  return NULL;
}

static void
close_all (GPtrArray *attempts)
{
  for (guint i = 0; i < attempts->len; i++)
    g_socket_close (attempts->pdata[i], NULL);
  g_ptr_array_set_size (attempts, 0);
}

/* Waits for the pending attempts until @wake_at; returns the one that
 * connected, or NULL (a failed attempt is dropped, *@last_error replaced,
 * and *@next_start moved to now). */
static GSocket *
wait_attempts (GMainContext      *context,
               GPtrArray         *attempts,
               gint64             wake_at,
               GCancellable      *cancellable,
               gint64            *next_start,
               MsgDeadlineResult *result,
               GError           **last_error)
{
  g_autoptr (GError) error = NULL;
  GSocket *socket;
  guint    index = 0;

  *result = _msg_deadline_wait_for_sockets (context, (GSocket *const *) attempts->pdata, attempts->len,
                                            G_IO_OUT, wake_at, cancellable, &index);
  if (*result != MSG_DEADLINE_READY)
    return NULL;
  socket = g_ptr_array_steal_index (attempts, index);
  if (g_socket_check_connect_result (socket, &error))
    return socket;
  /* Refused or unreachable: the next address at once. */
  g_socket_close (socket, NULL);
  g_object_unref (socket);
  g_clear_error (last_error);
  *last_error = g_steal_pointer (&error);
  *next_start = g_get_monotonic_time ();
  return NULL;
}

GSocket *
_msg_connect_race (GMainContext      *context,
                   GList             *addresses,
                   guint16            port,
                   gint64             until,
                   GCancellable      *cancellable,
                   MsgDeadlineResult *result,
                   GError           **error)
{
  g_autoptr (GPtrArray) order = interleave (addresses);
  g_autoptr (GPtrArray) attempts = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr (GError) last_error = NULL;
  GSocket *winner = NULL;
  guint    next = 0;
  gint64   next_start = 0;

  for (;;)
    {
      gint64 now = g_get_monotonic_time ();

      *result = _msg_deadline_check (until, cancellable);
      if (*result != MSG_DEADLINE_READY)
        break;
      if (next < order->len && (attempts->len == 0 || now >= next_start))
        {
          gboolean connected;
          GSocket *socket = start_attempt (order->pdata[next++], port, &connected, &last_error);

          if (socket != NULL && connected)
            {
              winner = socket;
              break;
            }
          if (socket != NULL)
            {
              g_ptr_array_add (attempts, socket);
              next_start = now + MSG_CONNECT_ATTEMPT_DELAY_MS * 1000;
            }
          continue;
        }
      if (attempts->len == 0)
        break; /* every address failed */
      winner = wait_attempts (context, attempts, next < order->len ? MIN (next_start, until) : until,
                              cancellable, &next_start, result, &last_error);
      if (winner != NULL || *result == MSG_DEADLINE_CANCELLED)
        break;
    }

  /* The losers, and every attempt when nobody won. */
  close_all (attempts);
  if (winner != NULL)
    {
      *result = MSG_DEADLINE_READY;
      return winner;
    }
  if (*result == MSG_DEADLINE_READY)
    {
      if (last_error != NULL)
        g_propagate_error (error, g_steal_pointer (&last_error));
      else
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED, "no address");
    }
  return NULL;
}
