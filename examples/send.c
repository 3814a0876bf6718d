/* send.c: send one message with libmsgobj, built against the installed
 * library: cc send.c $(pkg-config --cflags --libs msgobj-1.0)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <msgobj.h>

int
main (int   argc,
      char *argv[])
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgConfiguration) config = NULL;
  g_autoptr (MsgMessage) message = NULL;
  g_autoptr (MsgSendReport) report = NULL;

  config = msg_configuration_new_default (&error);
  if (config == NULL)
    goto fail;
  for (int i = 1; i < argc; i++)
    {
      g_auto (GStrv) kv = g_strsplit (argv[i], "=", 2);

      if (kv[1] == NULL || !msg_configuration_set_field (config, kv[0], kv[1], &error))
        goto fail;
    }

  message = msg_message_new_with_configuration (config);
  if (!msg_message_set_from (message, "Alice <alice@example.test>", &error) ||
      !msg_message_set_to (message, "bob@example.test", &error) ||
      !msg_message_set_subject (message, "Hello from libmsgobj", &error))
    goto fail;
  msg_message_set_text_body (message, "It works.\n");

  report = msg_message_send (message, NULL, &error);
  if (report == NULL)
    goto fail;
  g_print ("%s\n", msg_send_report_get_pickup_file (report) != NULL
                       ? msg_send_report_get_pickup_file (report)
                       : msg_send_report_get_message_id (report));
  return 0;

fail:
  g_printerr ("send: %s\n", error->message);
  return 1;
}
