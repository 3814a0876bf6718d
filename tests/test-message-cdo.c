/* test-message-cdo.c: CDO fidelity: Importance, Priority and Sensitivity
 * as properties, languagecode, the CDO time zone ids
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-message-utils.h"

#include <string.h>

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  GHashTable *counts = user_data;
  guint       n = GPOINTER_TO_UINT (g_hash_table_lookup (counts, pspec->name));

  g_hash_table_insert (counts, (gpointer) g_intern_string (pspec->name), GUINT_TO_POINTER (n + 1));
}

static guint
count_of (GHashTable *counts,
          const char *name)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (counts, g_intern_string (name)));
}

static void
test_enum_properties (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GHashTable) counts = g_hash_table_new (NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  MsgImportance    importance;
  MsgPriority      priority;
  MsgSensitivity   sensitivity;

  g_signal_connect (message, "notify", G_CALLBACK (count_notify_cb), counts);

  g_object_get (message, "importance", &importance, "priority", &priority, "sensitivity", &sensitivity, NULL);
  g_assert_cmpint (importance, ==, MSG_IMPORTANCE_NORMAL);
  g_assert_cmpint (priority, ==, MSG_PRIORITY_NORMAL);
  g_assert_cmpint (sensitivity, ==, MSG_SENSITIVITY_NONE);

  g_object_set (message, "importance", MSG_IMPORTANCE_HIGH, "priority", MSG_PRIORITY_URGENT, "sensitivity",
                MSG_SENSITIVITY_PRIVATE, NULL);
  g_assert_cmpuint (count_of (counts, "importance"), ==, 1);
  g_assert_cmpuint (count_of (counts, "priority"), ==, 1);
  g_assert_cmpuint (count_of (counts, "sensitivity"), ==, 1);
  text = to_string (message);
  g_assert_nonnull (strstr (text, "\r\nImportance: high\r\n"));
  g_assert_nonnull (strstr (text, "\r\nPriority: urgent\r\n"));
  g_assert_nonnull (strstr (text, "\r\nX-Priority: 1 (Highest)\r\n"));
  g_assert_nonnull (strstr (text, "\r\nSensitivity: Private\r\n"));

  /* The same value again: no notification. */
  msg_message_set_importance (message, MSG_IMPORTANCE_HIGH);
  g_assert_cmpuint (count_of (counts, "importance"), ==, 1);

  /* Through the headers and the httpmail fields, too. */
  g_assert_true (msg_message_set_header (message, "Importance", "low", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_of (counts, "importance"), ==, 2);
  g_object_get (message, "importance", &importance, NULL);
  g_assert_cmpint (importance, ==, MSG_IMPORTANCE_LOW);
  g_assert_true (msg_message_set_header (message, "urn:schemas:httpmail:priority", "-1", &error));
  g_assert_cmpuint (count_of (counts, "priority"), ==, 2);
  g_assert_cmpint (msg_message_get_priority (message), ==, MSG_PRIORITY_NON_URGENT);
  g_assert_true (msg_message_remove_header (message, "Sensitivity"));
  g_assert_cmpuint (count_of (counts, "sensitivity"), ==, 2);
  g_assert_cmpint (msg_message_get_sensitivity (message), ==, MSG_SENSITIVITY_NONE);
  msg_message_set_sensitivity (message, MSG_SENSITIVITY_NONE);
  g_assert_cmpuint (count_of (counts, "sensitivity"), ==, 2);

  g_signal_handlers_disconnect_by_func (message, count_notify_cb, counts);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/message-cdo/enum-properties", test_enum_properties);

  return g_test_run ();
}
