/* test-faults-utils.c: helpers shared by the fault suites
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-faults-utils.h"

#include "test-utils.h"

MsgMessage *
msg_test_fault_message_new (const char *subject,
                            const char *newsgroups,
                            const char *body)
{
  MsgMessage *message = msg_message_new ();

  g_assert_true (msg_message_set_from (message, "Alice <alice@example.test>", NULL));
  g_assert_true (msg_message_set_to (message, "bob@example.test", NULL));
  g_assert_true (msg_message_set_subject (message, subject, NULL));
  if (newsgroups != NULL)
    g_assert_true (msg_message_set_newsgroups (message, newsgroups, NULL));
  msg_message_set_text_body (message, body != NULL ? body : "A small message.\n");
  return message;
}

MsgConfiguration *
msg_test_fault_configuration_new (const char *protocol,
                                  const char *host,
                                  guint16     port,
                                  double      unit_ms,
                                  double      total_ms)
{
  MsgConfiguration *configuration = msg_configuration_new ();
  g_autofree char  *port_text = g_strdup_printf ("%u", port);
  g_autofree char  *unit = msg_test_seconds_text (unit_ms);
  g_autofree char  *total = total_ms > 0 ? msg_test_seconds_text (total_ms) : g_strdup ("0");
  g_autofree char  *server = g_strconcat (protocol, "server", NULL);
  g_autofree char  *server_port = g_strconcat (protocol, "serverport", NULL);
  g_autofree char  *connection_timeout = g_strconcat (protocol, "connectiontimeout", NULL);
  g_autofree char  *operation_timeout = g_strconcat (protocol, "operationtimeout", NULL);

  msg_test_config_set (configuration, server, host);
  msg_test_config_set (configuration, server_port, port_text);
  msg_test_config_set (configuration, connection_timeout, unit);
  msg_test_config_set (configuration, operation_timeout, total);
  return configuration;
}

MsgTransport *
msg_test_fault_transport_new (const char       *name,
                              MsgConfiguration *configuration)
{
  g_autoptr (GError) error = NULL;
  MsgTransport *transport = msg_transport_new_for_name (name, configuration, &error);

  g_assert_no_error (error);
  g_assert_nonnull (transport);
  return transport;
}

void
msg_test_fault_assert_sent (MsgTransport *transport,
                            MsgMessage   *message,
                            gboolean      post)
{
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;

  if (post)
    report = msg_transport_post_message (transport, message, NULL, &error);
  else
    report = msg_transport_send_message (transport, message, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (report);
}

const char *const msg_test_mode_names[MSG_TEST_N_MODES] = { "sync", "async", "cancel-thread", "cancel-loop" };

gboolean
msg_test_mode_is_cancel (MsgTestMode mode)
{
  return mode == MSG_TEST_MODE_CANCEL_THREAD || mode == MSG_TEST_MODE_CANCEL_LOOP;
}

/* Running one call in a mode. */

static gboolean
wait_trigger (MsgTestRun *run)
{
  gint64 until = g_get_monotonic_time () + msg_test_ms_scaled (MSG_TEST_TRIGGER_MS) * 1000;

  if (run->wait_trigger != NULL)
    return run->wait_trigger (run);
  if (run->server != NULL)
    return msg_test_server_wait_mark (run->server, 1, (unsigned) msg_test_ms_scaled (MSG_TEST_TRIGGER_MS));
  /* Connect stage: the client's socket exists, so connect() is under way. */
  while (g_get_monotonic_time () < until)
    {
      if (msg_test_count_sockets () > run->sockets)
        return TRUE;
      g_usleep (1000);
    }
  return FALSE;
}

static void
do_cancel (MsgTestRun *run)
{
  run->cancelled_at = g_get_monotonic_time ();
  g_cancellable_cancel (run->cancellable);
}

static gboolean
cancel_in_loop_cb (gpointer data)
{
  do_cancel (data);
  return G_SOURCE_REMOVE;
}

gpointer
msg_test_run_cancel_thread (gpointer data)
{
  MsgTestRun *run = data;

  run->trigger_seen = wait_trigger (run);
  if (run->delay_us > 0)
    g_usleep (run->delay_us);
  if (run->mode == MSG_TEST_MODE_CANCEL_LOOP)
    g_main_context_invoke (run->context, cancel_in_loop_cb, run);
  else
    do_cancel (run);
  return NULL;
}

void
msg_test_run_done_cb (GObject      *source,
                      GAsyncResult *result,
                      gpointer      data)
{
  MsgTestRun *run = data;
  g_autoptr (MsgSendReport) report = NULL;

  run->end = g_get_monotonic_time ();
  run->n_callbacks++;
  run->callback_in_context = g_main_context_is_owner (run->context) &&
                             g_main_context_get_thread_default () == run->context;
  switch (run->op)
    {
    case MSG_TEST_OP_CLOSE:
      run->ok = msg_transport_close_finish (MSG_TRANSPORT (source), result, &run->error);
      return;
    case MSG_TEST_OP_SEND:
      report = msg_transport_send_message_finish (MSG_TRANSPORT (source), result, &run->error);
      break;
    case MSG_TEST_OP_POST:
      report = msg_transport_post_message_finish (MSG_TRANSPORT (source), result, &run->error);
      break;
    case MSG_TEST_OP_MESSAGE_SEND:
      report = msg_message_send_finish (MSG_MESSAGE (source), result, &run->error);
      break;
    case MSG_TEST_OP_MESSAGE_POST:
      report = msg_message_post_finish (MSG_MESSAGE (source), result, &run->error);
      break;
    }
  run->ok = report != NULL;
}

static void
start_async (MsgTestRun *run)
{
  switch (run->op)
    {
    case MSG_TEST_OP_CLOSE:
      msg_transport_close_async (run->transport, run->cancellable, msg_test_run_done_cb, run);
      break;
    case MSG_TEST_OP_SEND:
      msg_transport_send_message_async (run->transport, run->message, run->cancellable, msg_test_run_done_cb, run);
      break;
    case MSG_TEST_OP_POST:
      msg_transport_post_message_async (run->transport, run->message, run->cancellable, msg_test_run_done_cb, run);
      break;
    case MSG_TEST_OP_MESSAGE_SEND:
      msg_message_send_async (run->message, run->cancellable, msg_test_run_done_cb, run);
      break;
    case MSG_TEST_OP_MESSAGE_POST:
      msg_message_post_async (run->message, run->cancellable, msg_test_run_done_cb, run);
      break;
    }
}

static gboolean
call_sync (MsgTestRun *run)
{
  g_autoptr (MsgSendReport) report = NULL;

  switch (run->op)
    {
    case MSG_TEST_OP_CLOSE:
      return msg_transport_close (run->transport, run->cancellable, &run->error);
    case MSG_TEST_OP_SEND:
      report = msg_transport_send_message (run->transport, run->message, run->cancellable, &run->error);
      break;
    case MSG_TEST_OP_POST:
      report = msg_transport_post_message (run->transport, run->message, run->cancellable, &run->error);
      break;
    case MSG_TEST_OP_MESSAGE_SEND:
      report = msg_message_send (run->message, run->cancellable, &run->error);
      break;
    case MSG_TEST_OP_MESSAGE_POST:
      report = msg_message_post (run->message, run->cancellable, &run->error);
      break;
    }
  return report != NULL;
}

void
msg_test_run_call (MsgTestRun *run)
{
  GThread *thread = NULL;

  run->cancellable = g_cancellable_new ();
  run->context = g_main_context_new ();
  g_main_context_push_thread_default (run->context);

  if (msg_test_mode_is_cancel (run->mode))
    thread = g_thread_new ("canceller", msg_test_run_cancel_thread, run);

  run->start = g_get_monotonic_time ();
  if (run->mode == MSG_TEST_MODE_ASYNC || run->mode == MSG_TEST_MODE_CANCEL_LOOP)
    {
      start_async (run);
      while (run->n_callbacks == 0)
        g_main_context_iteration (run->context, TRUE);
    }
  else
    {
      run->ok = call_sync (run);
      run->end = g_get_monotonic_time ();
    }

  /* The cancel may still be on its way (a call that ended first). */
  if (thread != NULL)
    g_thread_join (thread);
  /* Exactly once: nothing else is pending for this call. */
  while (g_main_context_iteration (run->context, FALSE))
    ;
  g_main_context_pop_thread_default (run->context);
  if (run->mode == MSG_TEST_MODE_ASYNC || run->mode == MSG_TEST_MODE_CANCEL_LOOP)
    {
      g_assert_cmpuint (run->n_callbacks, ==, 1);
      g_assert_true (run->callback_in_context);
    }
}

void
msg_test_run_clear (MsgTestRun *run)
{
  g_clear_error (&run->error);
  g_clear_object (&run->cancellable);
  g_clear_pointer (&run->context, g_main_context_unref);
}

/* The test's resolver. */

typedef struct
{
  GResolver         parent_instance;
  MsgTestLookupFunc lookup;
  gpointer          data;
} TestResolver;

typedef struct
{
  GResolverClass parent_class;
} TestResolverClass;

static GType test_resolver_get_type (void);
G_DEFINE_TYPE (TestResolver, test_resolver, G_TYPE_RESOLVER)

static GList *
test_resolver_lookup_by_name (GResolver    *resolver,
                              const char   *hostname,
                              GCancellable *cancellable,
                              GError      **error)
{
  TestResolver *self = (TestResolver *) resolver;

  return self->lookup (hostname, self->data, error);
}

static void
lookup_thread (GTask        *task,
               gpointer      source,
               gpointer      task_data,
               GCancellable *cancellable)
{
  GError *error = NULL;
  GList  *addresses = test_resolver_lookup_by_name (source, task_data, cancellable, &error);

  if (addresses == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, addresses, (GDestroyNotify) g_resolver_free_addresses);
}

static void
test_resolver_lookup_by_name_async (GResolver          *resolver,
                                    const char         *hostname,
                                    GCancellable       *cancellable,
                                    GAsyncReadyCallback callback,
                                    gpointer            user_data)
{
  g_autoptr (GTask) task = g_task_new (resolver, cancellable, callback, user_data);

  g_task_set_task_data (task, g_strdup (hostname), g_free);
  g_task_set_return_on_cancel (task, TRUE);
  g_task_run_in_thread (task, lookup_thread);
}

static GList *
test_resolver_lookup_by_name_finish (GResolver    *resolver,
                                     GAsyncResult *result,
                                     GError      **error)
{
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
test_resolver_class_init (TestResolverClass *klass)
{
  GResolverClass *resolver_class = G_RESOLVER_CLASS (klass);

  resolver_class->lookup_by_name = test_resolver_lookup_by_name;
  resolver_class->lookup_by_name_async = test_resolver_lookup_by_name_async;
  resolver_class->lookup_by_name_finish = test_resolver_lookup_by_name_finish;
}

static void
test_resolver_init (TestResolver *self)
{
}

GResolver *
msg_test_resolver_new (MsgTestLookupFunc lookup,
                       gpointer          data)
{
  TestResolver *self = g_object_new (test_resolver_get_type (), NULL);

  self->lookup = lookup;
  self->data = data;
  return G_RESOLVER (self);
}
