/* test-send-report.c: MsgSendReport and MsgRecipientStatus
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-utils.h"

static void
test_recipients (void)
{
  g_autoptr (MsgSendReport) report = msg_send_report_new ("smtp");
  g_auto (GStrv) accepted = NULL;
  g_auto (GStrv) rejected = NULL;
  MsgRecipientStatus *status;

  msg_send_report_add_recipient_status (report, msg_recipient_status_new ("a@example.test", 250, "2.1.5", "ok"));
  msg_send_report_add_recipient_status (report, msg_recipient_status_new ("b@example.test", 550, "5.1.1", "no such user"));
  msg_send_report_add_recipient_status (report, msg_recipient_status_new ("c@example.test", 451, NULL, "try later"));
  /* A second status for the same address replaces the first. */
  msg_send_report_add_recipient_status (report, msg_recipient_status_new ("A@example.test", 251, NULL, "forwarded"));

  accepted = msg_send_report_get_accepted_recipients (report);
  rejected = msg_send_report_get_rejected_recipients (report);
  g_assert_cmpuint (g_strv_length (accepted), ==, 1);
  g_assert_cmpstr (accepted[0], ==, "A@example.test");
  g_assert_cmpuint (g_strv_length (rejected), ==, 2);
  g_assert_cmpstr (rejected[0], ==, "b@example.test");
  g_assert_cmpstr (rejected[1], ==, "c@example.test");

  status = msg_send_report_get_recipient_status (report, "B@EXAMPLE.TEST");
  g_assert_nonnull (status);
  g_assert_cmpuint (msg_recipient_status_get_code (status), ==, 550);
  g_assert_cmpstr (msg_recipient_status_get_enhanced_status (status), ==, "5.1.1");
  g_assert_cmpstr (msg_recipient_status_get_text (status), ==, "no such user");
  g_assert_false (msg_recipient_status_is_accepted (status));
  g_assert_null (msg_send_report_get_recipient_status (report, "nobody@example.test"));
}

static void
test_fields (void)
{
  g_autoptr (MsgSendReport) report = msg_send_report_new ("pickup");
  g_autofree char *via_property = NULL;
  unsigned         code = 0;

  g_assert_cmpstr (msg_send_report_get_transport_name (report), ==, "pickup");
  g_assert_null (msg_send_report_get_message_id (report));
  msg_send_report_set_message_id (report, "<x@example.test>");
  g_assert_cmpuint (msg_send_report_get_server_code (report), ==, 0);
  msg_send_report_set_server_response (report, "250 2.0.0 Ok: queued as ABC");
  msg_send_report_set_server_code (report, 250);
  msg_send_report_set_pickup_file (report, "/tmp/x.eml");
  g_assert_cmpstr (msg_send_report_get_message_id (report), ==, "<x@example.test>");
  g_assert_cmpstr (msg_send_report_get_server_response (report), ==, "250 2.0.0 Ok: queued as ABC");
  g_assert_cmpuint (msg_send_report_get_server_code (report), ==, 250);
  g_assert_cmpstr (msg_send_report_get_pickup_file (report), ==, "/tmp/x.eml");
  g_object_get (report, "message-id", &via_property, NULL);
  g_assert_cmpstr (via_property, ==, "<x@example.test>");
  g_object_get (report, "server-code", &code, NULL);
  g_assert_cmpuint (code, ==, 250);
}

static void
test_status_copy (void)
{
  g_autoptr (MsgRecipientStatus) status = msg_recipient_status_new ("a@example.test", 250, NULL, NULL);
  g_autoptr (MsgRecipientStatus) copy = msg_recipient_status_copy (status);

  g_assert_cmpstr (msg_recipient_status_get_address (copy), ==, "a@example.test");
  g_assert_cmpuint (msg_recipient_status_get_code (copy), ==, 250);
  g_assert_null (msg_recipient_status_get_enhanced_status (copy));
  g_assert_cmpstr (msg_recipient_status_get_text (copy), ==, "");
  g_assert_true (msg_recipient_status_is_accepted (copy));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/send-report/recipients", test_recipients);
  g_test_add_func ("/send-report/fields", test_fields);
  g_test_add_func ("/send-report/status-copy", test_status_copy);

  return g_test_run ();
}
