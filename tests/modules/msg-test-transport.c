/* msg-test-transport.c: a transport module for the registry and base-class
 * tests. It registers as "test" (and as "test-other", a name that is not
 * its file's) and a configuration field of its own,
 * "testbehaviour": "ok" (default) accepts every message, "fail" fails with
 * MSG_TRANSPORT_ERROR_MESSAGE_REJECTED, "block" waits until cancelled,
 * "progress" emits progress in 10 steps.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <gmodule.h>
#include <msgobj.h>

#define MSG_TYPE_TEST_TRANSPORT (msg_test_transport_get_type ())
G_DECLARE_FINAL_TYPE (MsgTestTransport, msg_test_transport, MSG, TEST_TRANSPORT, MsgTransport)

struct _MsgTestTransport
{
  MsgTransport parent_instance;
  unsigned     n_sent;
};

G_DEFINE_DYNAMIC_TYPE_EXTENDED (MsgTestTransport, msg_test_transport, MSG_TYPE_TRANSPORT, G_TYPE_FLAG_FINAL, {})

static MsgSendReport *
test_send (MsgTransport *transport,
           MsgMessage   *message,
           GCancellable *cancellable,
           GError      **error)
{
  MsgTestTransport *self = MSG_TEST_TRANSPORT (transport);
  MsgConfiguration *configuration = msg_transport_get_operation_configuration (transport);
  g_autofree char  *behaviour = msg_configuration_get_field (configuration, "testbehaviour");
  g_autoptr (GOutputStream) sink = NULL;
  g_autoptr (MsgSendReport) report = NULL;
  g_auto (GStrv) recipients = NULL;
  g_autofree char *id = NULL;

  if (g_strcmp0 (behaviour, "fail") == 0)
    {
      g_set_error_literal (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_MESSAGE_REJECTED,
                           "test transport: rejected as asked");
      return NULL;
    }
  if (g_strcmp0 (behaviour, "block") == 0)
    {
      /* Stands for a server that never answers: only cancellation ends it. */
      if (cancellable == NULL)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               "test transport: block needs a cancellable");
          return NULL;
        }
      while (!g_cancellable_is_cancelled (cancellable))
        g_usleep (1000);
      g_cancellable_set_error_if_cancelled (cancellable, error);
      return NULL;
    }
  if (g_strcmp0 (behaviour, "progress") == 0)
    {
      for (guint64 i = 1; i <= 10; i++)
        msg_transport_emit_progress (transport, i * 100, 1000);
    }

  sink = g_memory_output_stream_new_resizable ();
  if (!msg_message_write_to_stream_full (message, sink, MSG_WRITE_FLAGS_OMIT_BCC, cancellable, error))
    return NULL;

  self->n_sent++;
  report = msg_send_report_new (msg_transport_get_name (transport));
  id = msg_message_get_message_id (message);
  msg_send_report_set_message_id (report, id);
  msg_send_report_set_server_response (report, "test transport: ok");
  recipients = msg_message_get_envelope_recipients (message, NULL);
  for (guint i = 0; recipients != NULL && recipients[i] != NULL; i++)
    msg_send_report_add_recipient_status (report, msg_recipient_status_new (recipients[i], 250, "2.1.5", "ok"));
  return g_steal_pointer (&report);
}

static void
msg_test_transport_class_init (MsgTestTransportClass *klass)
{
  MsgTransportClass *transport_class = MSG_TRANSPORT_CLASS (klass);

  transport_class->send_message_sync = test_send;
  transport_class->post_message_sync = test_send;
}

static void
msg_test_transport_class_finalize (MsgTestTransportClass *klass)
{
}

static void
msg_test_transport_init (MsgTestTransport *self)
{
}

/* A second transport, registered under a name that is not this file's:
 * found only by the scan of every module. It sends nothing. */
typedef struct
{
  MsgTransport parent_instance;
} MsgTestOtherTransport;

typedef struct
{
  MsgTransportClass parent_class;
} MsgTestOtherTransportClass;

GType msg_test_other_transport_get_type (void);

G_DEFINE_DYNAMIC_TYPE_EXTENDED (MsgTestOtherTransport, msg_test_other_transport, MSG_TYPE_TRANSPORT, G_TYPE_FLAG_FINAL, {})

static void
msg_test_other_transport_class_init (MsgTestOtherTransportClass *klass)
{
}

static void
msg_test_other_transport_class_finalize (MsgTestOtherTransportClass *klass)
{
}

static void
msg_test_other_transport_init (MsgTestOtherTransport *self)
{
}

MSG_TRANSPORT_DEFINE_ABI_VERSION;

G_MODULE_EXPORT void g_io_msgobj_test_load (GIOModule *module);
G_MODULE_EXPORT void g_io_msgobj_test_unload (GIOModule *module);

G_MODULE_EXPORT void
g_io_msgobj_test_load (GIOModule *module)
{
  static const char *const behaviours[] = { "ok", "fail", "block", "progress", NULL };

  msg_test_transport_register_type (G_TYPE_MODULE (module));
  g_io_extension_point_implement (MSG_TRANSPORT_EXTENSION_POINT_NAME,
                                  MSG_TYPE_TEST_TRANSPORT, "test", 0);
  msg_test_other_transport_register_type (G_TYPE_MODULE (module));
  g_io_extension_point_implement (MSG_TRANSPORT_EXTENSION_POINT_NAME,
                                  msg_test_other_transport_get_type (), "test-other", 0);
  msg_configuration_register_field ("testbehaviour", MSG_FIELD_TYPE_ENUM, "ok", behaviours, NULL);
}

G_MODULE_EXPORT void
g_io_msgobj_test_unload (GIOModule *module)
{
}
