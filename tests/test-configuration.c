/* test-configuration.c: MsgConfiguration
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "test-utils.h"

#define NS MSG_CONFIGURATION_NAMESPACE

/* Asserts that @error's message contains @needle. */
#define assert_message_has(error, needle)                              \
  G_STMT_START                                                         \
  {                                                                    \
    if (strstr ((error)->message, (needle)) == NULL)                   \
      g_error ("message “%s” lacks “%s”", (error)->message, (needle)); \
  }                                                                    \
  G_STMT_END

#define assert_message_lacks(error, needle)                               \
  G_STMT_START                                                            \
  {                                                                       \
    if (strstr ((error)->message, (needle)) != NULL)                      \
      g_error ("message “%s” contains “%s”", (error)->message, (needle)); \
  }                                                                       \
  G_STMT_END

static void
assert_field (MsgConfiguration *cfg,
              const char       *name,
              const char       *expected)
{
  g_autofree char *value = msg_configuration_get_field (cfg, name);

  g_assert_cmpstr (value, ==, expected);
}

static void
set_ok (MsgConfiguration *cfg,
        const char       *name,
        const char       *value)
{
  g_autoptr (GError) error = NULL;

  g_assert_true (msg_configuration_set_field (cfg, name, value, &error));
  g_assert_no_error (error);
}

/* Sets a value that must be refused; checks that the field kept its value
 * and that the message names the field. Returns the error. */
static GError *
set_bad (MsgConfiguration *cfg,
         const char       *name,
         const char       *value)
{
  GError          *error = NULL;
  g_autofree char *before = msg_configuration_get_secret (cfg, name);
  g_autofree char *after = NULL;

  g_assert_false (msg_configuration_set_field (cfg, name, value, &error));
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE);
  assert_message_has (error, name);
  after = msg_configuration_get_secret (cfg, name);
  g_assert_cmpstr (before, ==, after);
  return error;
}

static void
assert_bad (MsgConfiguration *cfg,
            const char       *name,
            const char       *value)
{
  g_autoptr (GError) error = set_bad (cfg, name, value);
}

/* Defaults */

static void
test_defaults (void)
{
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();
  struct
  {
    const char *name;
    const char *value;
  } defaults[] = {
    { "sendusing", "pickup" },
    { "postusing", "pickup" },
    { "smtpserver", NULL },
    { "smtpserverport", "25" },
    { "nntpserver", NULL },
    { "nntpserverport", "119" },
    { "smtpusessl", "false" },
    { "nntpusessl", "false" },
    { "smtpauthenticate", "anonymous" },
    { "nntpauthenticate", "anonymous" },
    { "sendusername", NULL },
    { "postusername", NULL },
    { "smtpconnectiontimeout", "30" },
    { "nntpconnectiontimeout", "30" },
    { "smtpaccountname", NULL },
    { "nntpaccountname", NULL },
    { "sendemailaddress", NULL },
    { "senduserreplyemailaddress", NULL },
    { "postemailaddress", NULL },
    { "postuserreplyemailaddress", NULL },
    { "flushbuffersonwrite", "true" },
    { "autopromotebodyparts", "true" },
    { "httpcookies", NULL },
    { "languagecode", NULL },
    { "usemessageresponsetext", "true" },
    { "urlgetlatestversion", "false" },
    { "urlproxyserver", NULL },
    { "urlproxybypass", NULL },
    { "savesentitems", "false" },
    { "timezoneid", NULL },
    { "smtpstarttls", "opportunistic" },
    { "nntpstarttls", "opportunistic" },
    { "smtpoperationtimeout", "0" },
    { "nntpoperationtimeout", "0" },
    { "smtpauthmechanisms", "" },
    { "smtpallowplaintextauth", "false" },
    { "nntpallowplaintextauth", "false" },
    { "tlscafile", NULL },
    { "tlsverify", "true" },
    { "smtpsendpartial", "false" },
    { "smtpehloname", "" },
    { "smtpusechunking", "true" },
    { "urlconnectiontimeout", "30" },
    { "urloperationtimeout", "0" },
    { "urlmaxresourcesize", "104857600" },
    { "urlmaxpagesize", "262144000" },
  };

  g_test_summary ("A new configuration has CDO's defaults and ours, and no field is set.");

  for (gsize i = 0; i < G_N_ELEMENTS (defaults); i++)
    {
      assert_field (cfg, defaults[i].name, defaults[i].value);
      g_assert_false (msg_configuration_is_field_set (cfg, defaults[i].name));
    }
  /* Unset: the pickup transport uses its per-user directory. */
  assert_field (cfg, "smtpserverpickupdirectory", NULL);
  assert_field (cfg, "nntpserverpickupdirectory", NULL);

  g_assert_cmpint (msg_configuration_get_int (cfg, "sendusing"), ==, 1);
  g_assert_cmpint (msg_configuration_get_int (cfg, "postusing"), ==, 1);
  g_assert_cmpint (msg_configuration_get_int (cfg, "smtpserverport"), ==, 25);
  g_assert_cmpint (msg_configuration_get_int (cfg, "nntpserverport"), ==, 119);
  g_assert_cmpint (msg_configuration_get_int (cfg, "smtpauthenticate"), ==, 0);
  g_assert_cmpint (msg_configuration_get_int (cfg, "smtpstarttls"), ==, MSG_STARTTLS_OPPORTUNISTIC);
  g_assert_cmpint (msg_configuration_get_int (cfg, "nntpstarttls"), ==, MSG_STARTTLS_OPPORTUNISTIC);
  g_assert_cmpfloat (msg_configuration_get_seconds (cfg, "smtpconnectiontimeout"), ==, 30.0);
  g_assert_cmpfloat (msg_configuration_get_seconds (cfg, "nntpconnectiontimeout"), ==, 30.0);
  g_assert_cmpfloat (msg_configuration_get_seconds (cfg, "smtpoperationtimeout"), ==, 0.0);
  g_assert_true (msg_configuration_get_boolean (cfg, "flushbuffersonwrite"));
  g_assert_true (msg_configuration_get_boolean (cfg, "autopromotebodyparts"));
  g_assert_true (msg_configuration_get_boolean (cfg, "usemessageresponsetext"));
  g_assert_true (msg_configuration_get_boolean (cfg, "tlsverify"));
  g_assert_false (msg_configuration_get_boolean (cfg, "smtpusessl"));
  g_assert_false (msg_configuration_get_boolean (cfg, "smtpallowplaintextauth"));
  g_assert_null (msg_configuration_get_secret (cfg, "sendpassword"));
  g_assert_null (msg_configuration_get_secret (cfg, "postpassword"));
  g_assert_false (msg_configuration_is_field_set (cfg, "sendpassword"));
}

static void
test_list_fields (void)
{
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();
  g_auto (GStrv) names = msg_configuration_list_fields (cfg);
  const char *cdo[] = {
    "sendusing",
    "smtpserver",
    "smtpserverport",
    "smtpusessl",
    "smtpauthenticate",
    "sendusername",
    "sendpassword",
    "smtpconnectiontimeout",
    "smtpaccountname",
    "sendemailaddress",
    "senduserreplyemailaddress",
    "smtpserverpickupdirectory",
    "flushbuffersonwrite",
    "postusing",
    "nntpserver",
    "nntpserverport",
    "nntpusessl",
    "nntpauthenticate",
    "postusername",
    "postpassword",
    "nntpconnectiontimeout",
    "nntpaccountname",
    "postemailaddress",
    "postuserreplyemailaddress",
    "nntpserverpickupdirectory",
    "autopromotebodyparts",
    "httpcookies",
    "languagecode",
    "usemessageresponsetext",
    "urlgetlatestversion",
    "urlproxyserver",
    "urlproxybypass",
    "savesentitems",
    "timezoneid",
    /* ours */
    "smtpstarttls",
    "nntpstarttls",
    "smtpoperationtimeout",
    "nntpoperationtimeout",
    "smtpauthmechanisms",
    "smtpallowplaintextauth",
    "nntpallowplaintextauth",
    "nntpallowcontrolheaders",
    "tlscafile",
    "tlsverify",
    "smtpsendpartial",
    "smtpehloname",
    "smtpusechunking",
    "urlconnectiontimeout",
    "urloperationtimeout",
    "urlmaxresourcesize",
    "urlmaxpagesize",
  };

  g_test_summary ("list_fields gives every CDOSYS field and ours, sorted, each usable by name.");

  g_assert_cmpuint (G_N_ELEMENTS (cdo), ==, 34 + 17);
  for (gsize i = 0; i < G_N_ELEMENTS (cdo); i++)
    {
      if (!g_strv_contains ((const char *const *) names, cdo[i]))
        g_error ("field %s is not listed", cdo[i]);
      g_assert_true (msg_configuration_has_field (cdo[i]));
    }
  g_assert_cmpuint (g_strv_length (names), >=, G_N_ELEMENTS (cdo));
  for (gsize i = 1; names[i] != NULL; i++)
    g_assert_cmpstr (names[i - 1], <, names[i]);
  for (gsize i = 0; names[i] != NULL; i++)
    {
      g_autofree char *urn = g_strconcat (NS, names[i], NULL);

      g_assert_true (msg_configuration_has_field (urn));
      g_assert_false (msg_configuration_is_field_set (cfg, names[i]));
    }
}

static void
test_error_domain (void)
{
  g_test_summary ("The error domain has the documented name.");

  g_assert_cmpstr (g_quark_to_string (MSG_CONFIGURATION_ERROR), ==, "msg-configuration-error-quark");
}

static void
test_field_types (void)
{
  g_test_summary ("Each field reports the type that decides its validation.");

  g_assert_cmpint (msg_configuration_get_field_type ("smtpserver"), ==, MSG_FIELD_TYPE_STRING);
  g_assert_cmpint (msg_configuration_get_field_type ("smtpserverport"), ==, MSG_FIELD_TYPE_INT);
  g_assert_cmpint (msg_configuration_get_field_type ("nntpserverport"), ==, MSG_FIELD_TYPE_INT);
  g_assert_cmpint (msg_configuration_get_field_type ("smtpusessl"), ==, MSG_FIELD_TYPE_BOOLEAN);
  g_assert_cmpint (msg_configuration_get_field_type ("smtpconnectiontimeout"), ==, MSG_FIELD_TYPE_SECONDS);
  g_assert_cmpint (msg_configuration_get_field_type ("nntpoperationtimeout"), ==, MSG_FIELD_TYPE_SECONDS);
  g_assert_cmpint (msg_configuration_get_field_type ("smtpauthenticate"), ==, MSG_FIELD_TYPE_ENUM);
  g_assert_cmpint (msg_configuration_get_field_type ("smtpstarttls"), ==, MSG_FIELD_TYPE_ENUM);
  g_assert_cmpint (msg_configuration_get_field_type ("sendusing"), ==, MSG_FIELD_TYPE_ENUM);
  g_assert_cmpint (msg_configuration_get_field_type ("sendpassword"), ==, MSG_FIELD_TYPE_SECRET);
  g_assert_cmpint (msg_configuration_get_field_type ("postpassword"), ==, MSG_FIELD_TYPE_SECRET);
  g_assert_cmpint (msg_configuration_get_field_type ("smtpserverpickupdirectory"), ==, MSG_FIELD_TYPE_PATH);
  g_assert_cmpint (msg_configuration_get_field_type ("tlscafile"), ==, MSG_FIELD_TYPE_PATH);
  g_assert_cmpint (msg_configuration_get_field_type (NS "tlsverify"), ==, MSG_FIELD_TYPE_BOOLEAN);
  g_assert_cmpint (msg_configuration_get_field_type ("urn:schemas:calendar:timezoneid"), ==, MSG_FIELD_TYPE_STRING);
}

/* Names */

static void
test_names (void)
{
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();

  g_test_summary ("A field is the same by short name, by CDO URN and in any case.");

  set_ok (cfg, NS "smtpserver", "mail.example.org");
  assert_field (cfg, "smtpserver", "mail.example.org");
  assert_field (cfg, NS "smtpserver", "mail.example.org");
  g_assert_true (msg_configuration_is_field_set (cfg, "smtpserver"));

  set_ok (cfg, "SMTPServerPort", "587");
  assert_field (cfg, NS "smtpserverport", "587");
  g_assert_cmpint (msg_configuration_get_int (cfg, "HTTP://SCHEMAS.MICROSOFT.COM/CDO/CONFIGURATION/smtpserverport"), ==, 587);

  set_ok (cfg, "urn:schemas:calendar:timezoneid", "Europe/Paris");
  assert_field (cfg, "timezoneid", "Europe/Paris");
  assert_field (cfg, NS "timezoneid", "Europe/Paris");
  set_ok (cfg, "timezoneid", "1");
  assert_field (cfg, "urn:schemas:calendar:timezoneid", "1");
  g_assert_cmpint (msg_configuration_get_int (cfg, "timezoneid"), ==, 1);
}

static void
test_unknown_names (void)
{
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();
  const char *unknown[] = {
    "smtpusetls",
    NS "smtpusetls",
    "smtpemailaddress",
    NS,
    "",
    "urn:schemas:httpmail:subject",
    "urn:schemas:calendar:timezone",
    "http://schemas.microsoft.com/cdo/configurationsmtpserver",
    "smtp server",
    "smtpserver\n",
  };

  g_test_summary ("Unknown names, CDO's typos among them, are errors (CDO ignored them).");

  for (gsize i = 0; i < G_N_ELEMENTS (unknown); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_false (msg_configuration_set_field (cfg, unknown[i], "x", &error));
      g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_UNKNOWN_FIELD);
      g_assert_false (msg_configuration_has_field (unknown[i]));
      g_assert_null (strchr (error->message, '\n'));
      g_clear_error (&error);
      g_assert_false (msg_configuration_reset_field (cfg, unknown[i], &error));
      g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_UNKNOWN_FIELD);
    }

  {
    g_autoptr (GError) error = NULL;

    g_assert_false (msg_configuration_set_field (cfg, "smtpusetls", "1", &error));
    assert_message_has (error, "smtpusetls");
    assert_message_has (error, "smtpstarttls");
  }
  {
    g_autoptr (GError) error = NULL;

    g_assert_false (msg_configuration_set_field (cfg, "https://schemas.microsoft.com/cdo/configuration/smtpserver", "h", &error));
    g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_UNKNOWN_FIELD);
    assert_message_has (error, "http://");
  }
}

/* Warnings logged while capture_warnings is set are kept in
 * captured_warnings instead of aborting the test. */
static gboolean   capture_warnings;
static GPtrArray *captured_warnings;

static GLogWriterOutput
test_log_writer (GLogLevelFlags   log_level,
                 const GLogField *fields,
                 gsize            n_fields,
                 gpointer         user_data)
{
  if (capture_warnings && (log_level & G_LOG_LEVEL_WARNING) != 0)
    {
      for (gsize i = 0; i < n_fields; i++)
        {
          if (strcmp (fields[i].key, "MESSAGE") == 0)
            g_ptr_array_add (captured_warnings, g_strdup (fields[i].value));
        }
      return G_LOG_WRITER_HANDLED;
    }
  return g_log_writer_default (log_level, fields, n_fields, user_data);
}

static void
begin_capture (void)
{
  g_clear_pointer (&captured_warnings, g_ptr_array_unref);
  captured_warnings = g_ptr_array_new_with_free_func (g_free);
  capture_warnings = TRUE;
}

/* Ends a capture and asserts that exactly one warning naming @name was
 * logged. */
static void
end_capture (const char *name)
{
  capture_warnings = FALSE;
  g_assert_cmpuint (captured_warnings->len, ==, 1);
  g_assert_nonnull (strstr (captured_warnings->pdata[0], "Unknown configuration field"));
  g_assert_nonnull (strstr (captured_warnings->pdata[0], name));
  g_clear_pointer (&captured_warnings, g_ptr_array_unref);
}

static void
test_unknown_read (void)
{
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();

  g_test_summary ("Reading an unknown field logs a warning and gives an empty value.");

  begin_capture ();
  g_assert_null (msg_configuration_get_field (cfg, "smtpusetls"));
  end_capture ("smtpusetls");

  begin_capture ();
  g_assert_null (msg_configuration_get_secret (cfg, "sendpasword"));
  end_capture ("sendpasword");

  begin_capture ();
  g_assert_cmpint (msg_configuration_get_int (cfg, "nosuchfield1"), ==, 0);
  end_capture ("nosuchfield1");

  begin_capture ();
  g_assert_false (msg_configuration_get_boolean (cfg, "nosuchfield2"));
  end_capture ("nosuchfield2");

  begin_capture ();
  g_assert_cmpfloat (msg_configuration_get_seconds (cfg, "nosuchfield3"), ==, 0.0);
  end_capture ("nosuchfield3");

  begin_capture ();
  g_assert_false (msg_configuration_is_field_set (cfg, "nosuchfield4"));
  end_capture ("nosuchfield4");

  begin_capture ();
  g_assert_cmpint (msg_configuration_get_field_type ("nosuchfield5"), ==, MSG_FIELD_TYPE_STRING);
  end_capture ("nosuchfield5");

  /* has_field asks without a warning. */
  begin_capture ();
  g_assert_false (msg_configuration_has_field ("nosuchfield6"));
  capture_warnings = FALSE;
  g_assert_cmpuint (captured_warnings->len, ==, 0);
  g_clear_pointer (&captured_warnings, g_ptr_array_unref);
}

/* Validation */

static void
test_ports (void)
{
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();
  const char *bad[] = { "0", "65536", "-1", "25x", "", " ", "0x19", "1e2", "2.5", "99999999999999999999", "+25" };

  g_test_summary ("Ports are integers from 1 to 65535.");

  set_ok (cfg, "smtpserverport", "1");
  g_assert_cmpint (msg_configuration_get_int (cfg, "smtpserverport"), ==, 1);
  set_ok (cfg, "smtpserverport", "65535");
  g_assert_cmpint (msg_configuration_get_int (cfg, "smtpserverport"), ==, 65535);
  set_ok (cfg, "nntpserverport", " 0563 ");
  assert_field (cfg, "nntpserverport", "563");
  g_assert_cmpint (msg_configuration_get_int (cfg, "nntpserverport"), ==, 563);

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = set_bad (cfg, "smtpserverport", bad[i]);

      assert_message_has (error, "65535");
    }
  g_assert_cmpint (msg_configuration_get_int (cfg, "smtpserverport"), ==, 65535);
}

static void
test_booleans (void)
{
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();
  const char *yes[] = { "True", "true", "TRUE", "1", "yes", "YES", " Yes " };
  const char *no[] = { "False", "false", "FALSE", "0", "no", "No" };
  const char *bad[] = { "", "2", "-1", "on", "off", "y", "t", "truex", "vrai" };

  g_test_summary ("Booleans accept CDO's True/False, true/false, 1/0 and yes/no in any case.");

  for (gsize i = 0; i < G_N_ELEMENTS (yes); i++)
    {
      set_ok (cfg, "smtpusessl", "false");
      set_ok (cfg, "smtpusessl", yes[i]);
      g_assert_true (msg_configuration_get_boolean (cfg, "smtpusessl"));
      g_assert_cmpint (msg_configuration_get_int (cfg, "smtpusessl"), ==, 1);
      assert_field (cfg, "smtpusessl", "true");
    }
  for (gsize i = 0; i < G_N_ELEMENTS (no); i++)
    {
      set_ok (cfg, "tlsverify", "true");
      set_ok (cfg, "tlsverify", no[i]);
      g_assert_false (msg_configuration_get_boolean (cfg, "tlsverify"));
      assert_field (cfg, "tlsverify", "false");
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = set_bad (cfg, "flushbuffersonwrite", bad[i]);

      assert_message_has (error, "boolean");
    }
  g_assert_true (msg_configuration_get_boolean (cfg, "flushbuffersonwrite"));
}

typedef struct
{
  const char *value;
  const char *canonical;
  int         number;
} EnumCase;

static void
test_enums (void)
{
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();
  const EnumCase auth[] = {
    { "0", "anonymous", 0 },
    { "1", "basic", 1 },
    { "2", "ntlm", 2 },
    { "anonymous", "anonymous", 0 },
    { "Basic", "basic", 1 },
    { "NTLM", "ntlm", 2 },
  };
  const EnumCase starttls[] = {
    { "never", "never", MSG_STARTTLS_NEVER },
    { "Opportunistic", "opportunistic", MSG_STARTTLS_OPPORTUNISTIC },
    { "required", "required", MSG_STARTTLS_REQUIRED },
    { "0", "never", MSG_STARTTLS_NEVER },
    { "1", "opportunistic", MSG_STARTTLS_OPPORTUNISTIC },
    { "2", "required", MSG_STARTTLS_REQUIRED },
  };
  const char *bad[] = { "3", "-1", "", "plain", "basic2", "1.0", "true" };

  g_test_summary ("Enumerations take CDO's number or the name; get_field gives the name, get_int the number.");

  for (gsize i = 0; i < G_N_ELEMENTS (auth); i++)
    {
      set_ok (cfg, "smtpauthenticate", auth[i].value);
      assert_field (cfg, "smtpauthenticate", auth[i].canonical);
      g_assert_cmpint (msg_configuration_get_int (cfg, "smtpauthenticate"), ==, auth[i].number);
      set_ok (cfg, "nntpauthenticate", auth[i].value);
      assert_field (cfg, "nntpauthenticate", auth[i].canonical);
      g_assert_cmpint (msg_configuration_get_int (cfg, "nntpauthenticate"), ==, auth[i].number);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (starttls); i++)
    {
      set_ok (cfg, "smtpstarttls", starttls[i].value);
      assert_field (cfg, "smtpstarttls", starttls[i].canonical);
      g_assert_cmpint (msg_configuration_get_int (cfg, "smtpstarttls"), ==, starttls[i].number);
      set_ok (cfg, "nntpstarttls", starttls[i].value);
      assert_field (cfg, "nntpstarttls", starttls[i].canonical);
      g_assert_cmpint (msg_configuration_get_int (cfg, "nntpstarttls"), ==, starttls[i].number);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = set_bad (cfg, "smtpauthenticate", bad[i]);

      assert_message_has (error, "anonymous (0), basic (1), ntlm (2)");
      g_clear_error (&error);
      error = set_bad (cfg, "smtpstarttls", bad[i]);
      assert_message_has (error, "never (0), opportunistic (1), required (2)");
    }
}

static void
test_using (void)
{
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();
  const char *bad[] = { "0", "3", "4", "-1", "_x", "", "smtp server", "smtp.example", "smtp/x", "é" };

  g_test_summary ("sendusing/postusing take CDO's 1 and 2 or any transport name.");

  set_ok (cfg, "sendusing", "2");
  assert_field (cfg, "sendusing", "smtp");
  g_assert_cmpint (msg_configuration_get_int (cfg, "sendusing"), ==, 2);
  set_ok (cfg, "postusing", "2");
  assert_field (cfg, "postusing", "nntp");
  g_assert_cmpint (msg_configuration_get_int (cfg, "postusing"), ==, 2);

  set_ok (cfg, "sendusing", "1");
  assert_field (cfg, "sendusing", "pickup");
  g_assert_cmpint (msg_configuration_get_int (cfg, "sendusing"), ==, 1);
  set_ok (cfg, "postusing", "1");
  assert_field (cfg, "postusing", "pickup");

  set_ok (cfg, "sendusing", "SMTP");
  assert_field (cfg, "sendusing", "smtp");
  g_assert_cmpint (msg_configuration_get_int (cfg, "sendusing"), ==, 2);
  set_ok (cfg, "postusing", "nntp");
  g_assert_cmpint (msg_configuration_get_int (cfg, "postusing"), ==, 2);

  /* "nntp" is not CDO's number 2 for sending, nor "smtp" for posting. */
  set_ok (cfg, "sendusing", "nntp");
  g_assert_cmpint (msg_configuration_get_int (cfg, "sendusing"), ==, 0);
  set_ok (cfg, "postusing", "smtp");
  g_assert_cmpint (msg_configuration_get_int (cfg, "postusing"), ==, 0);

  set_ok (cfg, "sendusing", "my-relay_2");
  assert_field (cfg, "sendusing", "my-relay_2");
  g_assert_cmpint (msg_configuration_get_int (cfg, "sendusing"), ==, 0);

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      assert_bad (cfg, "sendusing", bad[i]);
      assert_bad (cfg, "postusing", bad[i]);
    }
  assert_field (cfg, "sendusing", "my-relay_2");
  {
    g_autoptr (GError) error = set_bad (cfg, "sendusing", "3");

    assert_message_has (error, "Exchange");
  }
}

static void
test_server_chooses_transport (void)
{
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();

  g_test_summary ("Setting smtpserver (nntpserver) while sendusing (postusing) was never "
                  "set sends by SMTP (posts by NNTP); an explicit choice stays.");

  assert_field (cfg, "sendusing", "pickup");
  set_ok (cfg, "smtpserver", "127.0.0.1");
  assert_field (cfg, "sendusing", "smtp");
  g_assert_cmpint (msg_configuration_get_int (cfg, "sendusing"), ==, 2);
  /* A default, not a value of its own. */
  g_assert_false (msg_configuration_is_field_set (cfg, "sendusing"));
  assert_field (cfg, "postusing", "pickup");
  set_ok (cfg, "nntpserver", "news.example.org");
  assert_field (cfg, "postusing", "nntp");

  set_ok (cfg, "sendusing", "pickup");
  assert_field (cfg, "sendusing", "pickup");
  set_ok (cfg, "sendusing", NULL);
  assert_field (cfg, "sendusing", "smtp");

  /* An empty server is no server. */
  set_ok (cfg, "smtpserver", "");
  assert_field (cfg, "sendusing", "pickup");

  /* The copy a transport works on sees the same. */
  set_ok (cfg, "smtpserver", "mail.example.org");
  {
    g_autoptr (MsgConfiguration) copy = msg_configuration_copy (cfg);

    assert_field (copy, "sendusing", "smtp");
  }
}

static void
test_server_values (void)
{
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();
  const char *good[] = { "mail.example.org", "localhost", "mail.example.org.", "127.0.0.1",
                         "::1", "[::1]", "[2001:db8::1]:2525", "mail.example.org:587",
                         "smtp_relay.example", "bücher.example" };
  const char *bad[] = { "mail..example.org", ".example.org", "mail.example.org:", "mail:0",
                        "mail:65536", "mail:x", "2001:db8::1:2525x", "[2001:db8::1", "[mail]:25",
                        "[::1]x", "mail/x", "user@mail.example.org" };

  g_test_summary ("smtpserver and nntpserver take a host name, an IPv4 or bracketed IPv6 "
                  "address, optionally with :PORT, which then overrides the port field; a "
                  "URL is refused with what to write instead.");

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      set_ok (cfg, "smtpserver", good[i]);
      set_ok (cfg, "nntpserver", good[i]);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      assert_bad (cfg, "smtpserver", bad[i]);
      assert_bad (cfg, "nntpserver", bad[i]);
    }

  set_ok (cfg, "smtpserverport", "25");
  set_ok (cfg, "smtpserver", "127.0.0.1:2525");
  assert_field (cfg, "smtpserver", "127.0.0.1");
  assert_field (cfg, "smtpserverport", "2525");
  g_assert_cmpint (msg_configuration_get_int (cfg, "smtpserverport"), ==, 2525);
  /* The port in the server wins, whatever the order. */
  set_ok (cfg, "smtpserverport", "26");
  g_assert_cmpint (msg_configuration_get_int (cfg, "smtpserverport"), ==, 2525);
  set_ok (cfg, "smtpserver", "[2001:db8::1]:587");
  assert_field (cfg, "smtpserver", "2001:db8::1");
  g_assert_cmpint (msg_configuration_get_int (cfg, "smtpserverport"), ==, 587);
  set_ok (cfg, "smtpserver", "[::1]");
  assert_field (cfg, "smtpserver", "::1");
  g_assert_cmpint (msg_configuration_get_int (cfg, "smtpserverport"), ==, 26);

  set_ok (cfg, "nntpserver", "news.example.org:1119");
  g_assert_true (msg_configuration_is_field_set (cfg, "nntpserverport"));
  g_assert_cmpint (msg_configuration_get_int (cfg, "nntpserverport"), ==, 1119);

  {
    g_autoptr (GError) error = set_bad (cfg, "smtpserver", "smtp://127.0.0.1:2525");

    assert_message_has (error, "not a URL");
    assert_message_has (error, "“127.0.0.1:2525”");
  }
  {
    g_autoptr (GError) error = set_bad (cfg, "smtpserver", "smtps://user@mail.example.org/");

    assert_message_has (error, "“mail.example.org”");
    assert_message_has (error, "smtpusessl");
  }
  {
    g_autoptr (GError) error = set_bad (cfg, "nntpserver", "nntps://news.example.org:563");

    assert_message_has (error, "nntpusessl");
  }
  {
    g_autoptr (GError) error = set_bad (cfg, "smtpserver", "2001:db8::1:2525x");

    assert_message_has (error, "brackets");
  }
  {
    g_autoptr (GError) error = set_bad (cfg, "smtpserver", "mail:70000");

    assert_message_has (error, "1 to 65535");
  }
}

static void
test_typed_values (void)
{
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();
  g_autoptr (GHashTable) fields = g_hash_table_new (g_str_hash, g_str_equal);
  g_autoptr (GError) error = NULL;
  GValue port = G_VALUE_INIT, flag = G_VALUE_INIT, seconds = G_VALUE_INIT;

  g_test_summary ("msg_configuration_set_field_value and set_fields convert typed values "
                  "by the field's type, all or nothing.");
  g_value_init (&port, G_TYPE_UINT64);
  g_value_set_uint64 (&port, 2525);
  g_assert_true (msg_configuration_set_field_value (cfg, "smtpserverport", &port, &error));
  g_assert_no_error (error);
  assert_field (cfg, "smtpserverport", "2525");
  g_value_init (&flag, G_TYPE_BOOLEAN);
  g_value_set_boolean (&flag, TRUE);
  g_assert_false (msg_configuration_set_field_value (cfg, "smtpserverport", &flag, &error));
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE);
  assert_message_has (error, "gboolean");
  g_clear_error (&error);
  g_assert_true (msg_configuration_set_field_value (cfg, "smtpserverport", NULL, &error));
  assert_field (cfg, "smtpserverport", "25");

  g_value_init (&seconds, G_TYPE_DOUBLE);
  g_value_set_double (&seconds, 0.25);
  g_hash_table_insert (fields, "smtpconnectiontimeout", &seconds);
  g_hash_table_insert (fields, "tlsverify", &flag);
  g_assert_true (msg_configuration_set_fields (cfg, fields, &error));
  g_assert_no_error (error);
  assert_field (cfg, "smtpconnectiontimeout", "0.25");
  assert_field (cfg, "tlsverify", "true");
  g_hash_table_insert (fields, "smtpserver", &port);
  g_value_set_double (&seconds, 3);
  g_assert_false (msg_configuration_set_fields (cfg, fields, &error));
  assert_message_has (error, "smtpserver");
  assert_field (cfg, "smtpconnectiontimeout", "0.25");
  g_value_unset (&port);
  g_value_unset (&flag);
  g_value_unset (&seconds);
}

static void
test_seconds (void)
{
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();
  struct
  {
    const char *value;
    double      seconds;
  } good[] = {
    { "0", 0 },
    { "0.25", 0.25 },
    { ".5", 0.5 },
    { "2.", 2 },
    { "30", 30 },
    { " 1.5 ", 1.5 },
    { "1e2", 100 },
    { "1000000000", 1e9 },
  };
  const char *bad[] = {
    "-1",
    "-0.5",
    "nan",
    "NaN",
    "inf",
    "infinity",
    "-inf",
    "",
    ".",
    "abc",
    "1,5",
    "0x10",
    "1e400",
    "1000000001",
    "1e",
    "+1",
    "3s",
    "1.2.3",
  };

  g_test_summary ("Timeouts are non-negative seconds with fractions; NaN, infinities, "
                  "negative and garbage are refused.");

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      set_ok (cfg, "smtpconnectiontimeout", good[i].value);
      g_assert_cmpfloat_with_epsilon (msg_configuration_get_seconds (cfg, "smtpconnectiontimeout"),
                                      good[i].seconds, 1e-9);
      set_ok (cfg, "nntpoperationtimeout", good[i].value);
      g_assert_cmpfloat_with_epsilon (msg_configuration_get_seconds (cfg, "nntpoperationtimeout"),
                                      good[i].seconds, 1e-9);
    }
  set_ok (cfg, "smtpconnectiontimeout", "0.25");
  assert_field (cfg, "smtpconnectiontimeout", "0.25");
  g_assert_cmpint (msg_configuration_get_int (cfg, "smtpconnectiontimeout"), ==, 0);
  set_ok (cfg, "smtpoperationtimeout", "2.75");
  g_assert_cmpint (msg_configuration_get_int (cfg, "smtpoperationtimeout"), ==, 2);

  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    assert_bad (cfg, "smtpconnectiontimeout", bad[i]);
  g_assert_cmpfloat (msg_configuration_get_seconds (cfg, "smtpconnectiontimeout"), ==, 0.25);
}

static void
test_strings (void)
{
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();
  const char *fields[] = { "smtpserver", "sendusername", "sendemailaddress", "smtpaccountname",
                           "httpcookies", "languagecode", "smtpserverpickupdirectory",
                           "tlscafile", "urlproxybypass", "nntpserver" };
  const char *bad[] = { "a\rb", "a\nb", "a\r\nRCPT TO:<x@example.org>", "\tx", "x\x7f",
                        "x\x1b[31m", "a\xc2\x85z", "\xff\xfe" };

  g_test_summary ("Strings refuse control characters (CR, LF, TAB, DEL, C1) and invalid UTF-8.");

  set_ok (cfg, "sendusername", "Zoë Müller");
  assert_field (cfg, "sendusername", "Zoë Müller");
  set_ok (cfg, "smtpaccountname", "");
  assert_field (cfg, "smtpaccountname", "");
  g_assert_true (msg_configuration_is_field_set (cfg, "smtpaccountname"));
  set_ok (cfg, "smtpserverpickupdirectory", "/var/spool/my pickup");
  assert_field (cfg, "smtpserverpickupdirectory", "/var/spool/my pickup");

  for (gsize f = 0; f < G_N_ELEMENTS (fields); f++)
    {
      for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
        {
          g_autoptr (GError) error = set_bad (cfg, fields[f], bad[i]);

          /* The message quotes the value with its controls escaped. */
          g_assert_true (g_utf8_validate (error->message, -1, NULL));
          g_assert_null (strchr (error->message, '\r'));
          g_assert_null (strchr (error->message, '\n'));
          g_assert_null (strchr (error->message, '\x1b'));
        }
    }
  {
    g_autoptr (GError) error = set_bad (cfg, "sendusername", "a\r\nb");

    assert_message_has (error, "a\\r\\nb");
    assert_message_has (error, "control characters");
  }
  {
    g_autofree char *long_value = g_strnfill (500, 'x');
    g_autofree char *with_cr = g_strconcat (long_value, "\r", NULL);
    g_autoptr (GError) error = set_bad (cfg, "sendusername", with_cr);

    g_assert_cmpuint (strlen (error->message), <, 300);
  }
}

static void
test_special_strings (void)
{
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();

  g_test_summary ("Host names, EHLO names, SASL mechanism lists and time zones are checked.");

  set_ok (cfg, "smtpserver", "  mail.example.org ");
  assert_field (cfg, "smtpserver", "mail.example.org");
  set_ok (cfg, "smtpserver", "::1");
  assert_bad (cfg, "smtpserver", "mail example.org");
  assert_bad (cfg, "urlproxyserver", "proxy 8080");

  set_ok (cfg, "smtpehloname", "client.example.org");
  set_ok (cfg, "smtpehloname", "[192.0.2.1]");
  set_ok (cfg, "smtpehloname", "[IPv6:2001:db8::1]");
  set_ok (cfg, "smtpehloname", "");
  assert_field (cfg, "smtpehloname", "");
  assert_bad (cfg, "smtpehloname", "client example");
  assert_bad (cfg, "smtpehloname", "[192.0.2.1");
  assert_bad (cfg, "smtpehloname", "a<b>");

  set_ok (cfg, "smtpauthmechanisms", "plain, login  CRAM-MD5,");
  assert_field (cfg, "smtpauthmechanisms", "PLAIN LOGIN CRAM-MD5");
  set_ok (cfg, "smtpauthmechanisms", "");
  assert_field (cfg, "smtpauthmechanisms", "");
  assert_bad (cfg, "smtpauthmechanisms", "PLAIN;LOGIN");
  assert_bad (cfg, "smtpauthmechanisms", "AVERYVERYLONGMECHANISMNAME");

  set_ok (cfg, "timezoneid", "UTC");
  set_ok (cfg, "timezoneid", "0");
  set_ok (cfg, "timezoneid", "81");
  assert_bad (cfg, "timezoneid", "82");
  assert_bad (cfg, "timezoneid", "");
  assert_bad (cfg, "timezoneid", "../../etc/passwd");
  assert_bad (cfg, "timezoneid", "/etc/passwd");
  assert_bad (cfg, "timezoneid", "Europe Paris");
}

static void
test_reset (void)
{
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();
  g_autoptr (GError) error = NULL;

  g_test_summary ("Setting NULL or resetting a field gives it back its default.");

  set_ok (cfg, "smtpserverport", "2525");
  set_ok (cfg, "smtpserver", "mail.example.org");
  set_ok (cfg, "sendpassword", "hunter2");

  set_ok (cfg, "smtpserverport", NULL);
  assert_field (cfg, "smtpserverport", "25");
  g_assert_false (msg_configuration_is_field_set (cfg, "smtpserverport"));

  g_assert_true (msg_configuration_reset_field (cfg, NS "smtpserver", &error));
  g_assert_no_error (error);
  assert_field (cfg, "smtpserver", NULL);
  g_assert_false (msg_configuration_is_field_set (cfg, "smtpserver"));

  g_assert_true (msg_configuration_reset_field (cfg, "sendpassword", &error));
  g_assert_no_error (error);
  g_assert_null (msg_configuration_get_secret (cfg, "sendpassword"));

  /* Resetting an unset field is fine. */
  g_assert_true (msg_configuration_reset_field (cfg, "nntpserver", &error));
  g_assert_no_error (error);
}

static void
test_typed_reads (void)
{
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();

  g_test_summary ("Typed reads of fields of another type give the natural conversion.");

  set_ok (cfg, "smtpserverport", "2525");
  g_assert_true (msg_configuration_get_boolean (cfg, "smtpserverport"));
  g_assert_cmpfloat (msg_configuration_get_seconds (cfg, "smtpserverport"), ==, 2525.0);
  set_ok (cfg, "smtpstarttls", "required");
  g_assert_cmpfloat (msg_configuration_get_seconds (cfg, "smtpstarttls"), ==, 2.0);
  g_assert_true (msg_configuration_get_boolean (cfg, "smtpstarttls"));
  set_ok (cfg, "smtpstarttls", "never");
  g_assert_false (msg_configuration_get_boolean (cfg, "smtpstarttls"));
  set_ok (cfg, "smtpserver", "mail.example.org");
  g_assert_cmpint (msg_configuration_get_int (cfg, "smtpserver"), ==, 0);
  g_assert_false (msg_configuration_get_boolean (cfg, "smtpserver"));
  g_assert_cmpint (msg_configuration_get_int (cfg, "nntpserver"), ==, 0);
  set_ok (cfg, "smtpconnectiontimeout", "0.5");
  g_assert_true (msg_configuration_get_boolean (cfg, "smtpconnectiontimeout"));
  /* get_secret reads any field. */
  {
    g_autofree char *server = msg_configuration_get_secret (cfg, "smtpserver");

    g_assert_cmpstr (server, ==, "mail.example.org");
  }
}

/* Secrets */

#define PASSWORD "s3cr3t-Pa55"

static void
test_secrets (void)
{
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();
  g_autoptr (MsgConfiguration) copy = NULL;
  g_autofree char *secret = NULL;
  g_autofree char *post_secret = NULL;
  g_auto (GStrv) names = NULL;

  g_test_summary ("Passwords are write-only: get_field never returns them, errors never quote them.");

  set_ok (cfg, "sendpassword", PASSWORD);
  set_ok (cfg, NS "postpassword", "news-" PASSWORD);
  g_assert_null (msg_configuration_get_field (cfg, "sendpassword"));
  g_assert_null (msg_configuration_get_field (cfg, NS "sendpassword"));
  g_assert_null (msg_configuration_get_field (cfg, "postpassword"));
  g_assert_true (msg_configuration_is_field_set (cfg, "sendpassword"));
  secret = msg_configuration_get_secret (cfg, "sendpassword");
  g_assert_cmpstr (secret, ==, PASSWORD);
  post_secret = msg_configuration_get_secret (cfg, NS "postpassword");
  g_assert_cmpstr (post_secret, ==, "news-" PASSWORD);

  copy = msg_configuration_copy (cfg);
  g_assert_null (msg_configuration_get_field (copy, "sendpassword"));
  g_clear_pointer (&secret, g_free);
  secret = msg_configuration_get_secret (copy, "sendpassword");
  g_assert_cmpstr (secret, ==, PASSWORD);

  names = msg_configuration_list_fields (cfg);
  for (gsize i = 0; names[i] != NULL; i++)
    {
      g_autofree char *value = NULL;

      if (msg_configuration_get_field_type (names[i]) == MSG_FIELD_TYPE_SECRET)
        continue;
      value = msg_configuration_get_field (cfg, names[i]);
      if (value != NULL)
        g_assert_null (strstr (value, PASSWORD));
    }

  /* A bad password is refused without quoting it. */
  {
    g_autoptr (GError) error = set_bad (cfg, "sendpassword", PASSWORD "\r\nQUIT");

    assert_message_lacks (error, PASSWORD);
    assert_message_has (error, "control characters");
    g_clear_error (&error);
    error = set_bad (cfg, "postpassword", "\xff" PASSWORD);
    assert_message_lacks (error, PASSWORD);
  }
  g_clear_pointer (&secret, g_free);
  secret = msg_configuration_get_secret (cfg, "sendpassword");
  g_assert_cmpstr (secret, ==, PASSWORD);
}

static void
test_secrets_in_files (void)
{
  struct
  {
    const char *data;
    int         code;
    const char *line;
  } files[] = {
    { "[configuration]\nsendpassword = " PASSWORD "\\n\n", MSG_CONFIGURATION_ERROR_INVALID_VALUE, "line 2" },
    { "[configuration]\nsendpassword = " PASSWORD "\\q\n", MSG_CONFIGURATION_ERROR_PARSE, "line 2" },
    { "[configuration]\nsendpassword " PASSWORD "\n", MSG_CONFIGURATION_ERROR_PARSE, "line 2" },
    { "[configuration]\nsendpassword = " PASSWORD "\nsmtpserverport = x\n", MSG_CONFIGURATION_ERROR_INVALID_VALUE, "line 3" },
    { "[configuration]\npostpassword = " PASSWORD "\x01\n", MSG_CONFIGURATION_ERROR_INVALID_VALUE, "line 2" },
  };

  g_test_summary ("Errors about a configuration file never quote a password from it.");

  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();
      g_autoptr (GError) error = NULL;

      g_assert_false (msg_configuration_load_from_data (cfg, files[i].data, -1, &error));
      g_assert_error (error, MSG_CONFIGURATION_ERROR, files[i].code);
      assert_message_lacks (error, PASSWORD);
      assert_message_has (error, files[i].line);
      g_assert_false (msg_configuration_is_field_set (cfg, "sendpassword"));
    }
}

/* Key files */

static void
test_keyfile_good (void)
{
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *secret = NULL;
  const char      *data =
      "# A comment\r\n"
      "\r\n"
      "[configuration]\r\n"
      "  sendusing = 2\r\n"
      "smtpserver=mail.example.org\r\n"
      "SMTPServerPort = 587\r\n"
      "smtpconnectiontimeout = 0.25\r\n"
      "smtpusessl = True\r\n"
      "smtpauthenticate = 1\r\n"
      "sendusername = Zoë\\sM\r\n"
      "sendpassword = pass word\r\n"
      "# a comment in the group\r\n"
      "smtpstarttls = required\r\n"
      "http://schemas.microsoft.com/cdo/configuration/nntpserver = news.example.org\r\n"
      "smtpserverport = 2525\r\n";

  g_test_summary ("A key file with comments, CRLF, escapes, URN keys and repeated keys loads.");

  g_assert_true (msg_configuration_load_from_data (cfg, data, -1, &error));
  g_assert_no_error (error);
  assert_field (cfg, "sendusing", "smtp");
  assert_field (cfg, "smtpserver", "mail.example.org");
  g_assert_cmpint (msg_configuration_get_int (cfg, "smtpserverport"), ==, 2525);
  g_assert_cmpfloat (msg_configuration_get_seconds (cfg, "smtpconnectiontimeout"), ==, 0.25);
  g_assert_true (msg_configuration_get_boolean (cfg, "smtpusessl"));
  assert_field (cfg, "smtpauthenticate", "basic");
  assert_field (cfg, "sendusername", "Zoë M");
  secret = msg_configuration_get_secret (cfg, "sendpassword");
  g_assert_cmpstr (secret, ==, "pass word");
  g_assert_cmpint (msg_configuration_get_int (cfg, "smtpstarttls"), ==, MSG_STARTTLS_REQUIRED);
  assert_field (cfg, "nntpserver", "news.example.org");
  g_assert_false (msg_configuration_is_field_set (cfg, "nntpserverport"));

  /* Loading merges into what is set. */
  g_assert_true (msg_configuration_load_from_data (cfg, "[configuration]\nsmtpserver = other.example.org\n", -1, &error));
  g_assert_no_error (error);
  assert_field (cfg, "smtpserver", "other.example.org");
  g_assert_cmpint (msg_configuration_get_int (cfg, "smtpserverport"), ==, 2525);

  /* Empty data and comments only are fine. */
  g_assert_true (msg_configuration_load_from_data (cfg, "", -1, &error));
  g_assert_no_error (error);
  g_assert_true (msg_configuration_load_from_data (cfg, "# nothing\n\n", -1, &error));
  g_assert_no_error (error);
  g_assert_true (msg_configuration_load_from_data (cfg, "[configuration]\n", -1, &error));
  g_assert_no_error (error);
  /* An explicit length stops before the rest. */
  g_assert_true (msg_configuration_load_from_data (cfg, "[configuration]\nsmtpserver = h1\nsmtpserverport = bad", 32, &error));
  g_assert_no_error (error);
  assert_field (cfg, "smtpserver", "h1");
}

typedef struct
{
  const char *data;
  int         code;
  const char *line;  /* expected "line N" */
  const char *field; /* expected in the message, or NULL */
} BadFile;

static const BadFile bad_files[] = {
  { "[configuration]\nsmtpserver = a\nsmtpusetls = 1\n", MSG_CONFIGURATION_ERROR_UNKNOWN_FIELD, "line 3", "smtpusetls" },
  { "[configuration]\nsmtpserver = a\n\n# c\nsmtpserverport = 0\n", MSG_CONFIGURATION_ERROR_INVALID_VALUE, "line 5", "smtpserverport" },
  { "[configuration]\nsmtpserver = a\nsmtpconnectiontimeout = -1\n", MSG_CONFIGURATION_ERROR_INVALID_VALUE, "line 3", "smtpconnectiontimeout" },
  { "[configuration]\nsmtpserver = a\nsmtpusessl = maybe\n", MSG_CONFIGURATION_ERROR_INVALID_VALUE, "line 3", "smtpusessl" },
  { "[configuration]\nsmtpserver = a\nsmtpserver[fr] = b\n", MSG_CONFIGURATION_ERROR_UNKNOWN_FIELD, "line 3", "smtpserver[fr]" },
  { "[configuration]\nsmtpserver = a\nsendusername = a\\nb\n", MSG_CONFIGURATION_ERROR_INVALID_VALUE, "line 3", "sendusername" },
  { "[configuration]\nsmtpserver = a\nsendusername = a\\qb\n", MSG_CONFIGURATION_ERROR_PARSE, "line 3", "sendusername" },
  { "[configuration]\nsmtpserver = a\nthis is not a setting\n", MSG_CONFIGURATION_ERROR_PARSE, "line 3", NULL },
  { "[configuration]\nsmtpserver = a\n= value\n", MSG_CONFIGURATION_ERROR_PARSE, "line 3", NULL },
  { "smtpserver = a\n[configuration]\n", MSG_CONFIGURATION_ERROR_PARSE, "line 1", "[configuration]" },
  { "[configuration]\nsmtpserver = a\n[smtp]\nx = 1\n", MSG_CONFIGURATION_ERROR_PARSE, "line 3", "[smtp]" },
  { "# c\n[configuraton]\nsmtpserver = a\n", MSG_CONFIGURATION_ERROR_PARSE, "line 2", "[configuraton]" },
  { "[configuration\nsmtpserver = a\n", MSG_CONFIGURATION_ERROR_PARSE, "line 1", NULL },
  { "[configuration]\nsmtpserver = a\nsendusername = \xff\n", MSG_CONFIGURATION_ERROR_PARSE, "line 3", NULL },
};

static void
test_keyfile_bad (void)
{
  g_test_summary ("A bad key file is an error naming the line and field, and changes nothing.");

  for (gsize i = 0; i < G_N_ELEMENTS (bad_files); i++)
    {
      g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();
      g_autoptr (GError) error = NULL;

      set_ok (cfg, "smtpserver", "before.example.org");
      g_test_message ("bad file %" G_GSIZE_FORMAT, i);
      g_assert_false (msg_configuration_load_from_data (cfg, bad_files[i].data, -1, &error));
      g_assert_error (error, MSG_CONFIGURATION_ERROR, bad_files[i].code);
      assert_message_has (error, bad_files[i].line);
      if (bad_files[i].field != NULL)
        assert_message_has (error, bad_files[i].field);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      /* All or nothing: the earlier line did not apply. */
      assert_field (cfg, "smtpserver", "before.example.org");
    }

  {
    g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();
    g_autoptr (GError) error = NULL;
    const char data[] = "[configuration]\nsmtpserver = a\0b\n";

    g_assert_false (msg_configuration_load_from_data (cfg, data, sizeof data - 1, &error));
    g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_PARSE);
    assert_message_has (error, "line 2");
    assert_message_has (error, "NUL");
    g_assert_false (msg_configuration_is_field_set (cfg, "smtpserver"));
  }
}

static char *
write_file (const char *dir,
            const char *name,
            const char *contents)
{
  g_autoptr (GError) error = NULL;
  char *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, contents, -1, &error));
  g_assert_no_error (error);
  return path;
}

static void
test_keyfile_file (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *good = write_file (dir, "good.conf", "[configuration]\nsmtpserver = mail.example.org\nsmtpserverport = 465\nsmtpusessl = yes\n");
  g_autofree char *bad = write_file (dir, "bad.conf", "[configuration]\nsmtpserver = x\n\nsmtpserverport = 70000\n");
  g_autofree char *missing = g_build_filename (dir, "missing.conf", NULL);
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();
  g_autoptr (GError) error = NULL;

  g_test_summary ("Loading from a file: errors name the file and the line; unreadable files are errors.");

  g_assert_true (msg_configuration_load_from_file (cfg, good, &error));
  g_assert_no_error (error);
  assert_field (cfg, "smtpserver", "mail.example.org");
  g_assert_cmpint (msg_configuration_get_int (cfg, "smtpserverport"), ==, 465);
  g_assert_true (msg_configuration_get_boolean (cfg, "smtpusessl"));

  g_assert_false (msg_configuration_load_from_file (cfg, bad, &error));
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE);
  assert_message_has (error, "bad.conf:4:");
  assert_message_has (error, "smtpserverport");
  assert_message_has (error, "70000");
  g_clear_error (&error);
  assert_field (cfg, "smtpserver", "mail.example.org");
  g_assert_cmpint (msg_configuration_get_int (cfg, "smtpserverport"), ==, 465);

  g_assert_false (msg_configuration_load_from_file (cfg, missing, &error));
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_PARSE);
  assert_message_has (error, "missing.conf");
  g_clear_error (&error);

  g_assert_false (msg_configuration_load_from_file (cfg, dir, &error));
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_PARSE);
  assert_message_has (error, "not a regular file");
  g_clear_error (&error);

  msg_test_remove_tree (dir);
}

/* new_default */

static void
test_new_default_none (void)
{
  g_autoptr (MsgConfiguration) cfg = NULL;
  g_autoptr (GError) error = NULL;

  g_test_summary ("Without $MSGOBJ_CONFIG nor a user file, new_default gives the defaults.");

  g_unsetenv ("MSGOBJ_CONFIG");
  cfg = msg_configuration_new_default (&error);
  g_assert_no_error (error);
  g_assert_nonnull (cfg);
  g_assert_false (msg_configuration_is_field_set (cfg, "smtpserver"));
  assert_field (cfg, "sendusing", "pickup");
}

static void
test_new_default_xdg (void)
{
  g_autofree char *dir = g_build_filename (g_get_user_config_dir (), "msgobj", NULL);
  g_autofree char *path = NULL;
  g_autoptr (MsgConfiguration) cfg = NULL;
  g_autoptr (GError) error = NULL;

  g_test_summary ("new_default loads $XDG_CONFIG_HOME/msgobj/msgobj.conf and reports its errors.");

  g_unsetenv ("MSGOBJ_CONFIG");
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  path = write_file (dir, "msgobj.conf", "[configuration]\nsendusing = smtp\nsmtpserver = xdg.example.org\n");
  cfg = msg_configuration_new_default (&error);
  g_assert_no_error (error);
  assert_field (cfg, "smtpserver", "xdg.example.org");
  assert_field (cfg, "sendusing", "smtp");
  g_clear_object (&cfg);

  g_clear_pointer (&path, g_free);
  path = write_file (dir, "msgobj.conf", "[configuration]\nsmtpserver = xdg.example.org\nbogus = 1\n");
  cfg = msg_configuration_new_default (&error);
  g_assert_null (cfg);
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_UNKNOWN_FIELD);
  assert_message_has (error, "msgobj.conf:3:");
  assert_message_has (error, "bogus");
}

static void
test_new_default_env (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *xdg_dir = g_build_filename (g_get_user_config_dir (), "msgobj", NULL);
  g_autofree char *xdg = NULL;
  g_autofree char *env = write_file (dir, "env.conf", "[configuration]\nsmtpserver = env.example.org\n");
  g_autofree char *missing = g_build_filename (dir, "missing.conf", NULL);
  g_autoptr (MsgConfiguration) cfg = NULL;
  g_autoptr (GError) error = NULL;

  g_test_summary ("$MSGOBJ_CONFIG wins over the XDG file; if it names a missing file, that is an error.");

  g_assert_cmpint (g_mkdir_with_parents (xdg_dir, 0700), ==, 0);
  xdg = write_file (xdg_dir, "msgobj.conf", "[configuration]\nsmtpserver = xdg.example.org\nnntpserver = news.example.org\n");

  g_setenv ("MSGOBJ_CONFIG", env, TRUE);
  cfg = msg_configuration_new_default (&error);
  g_assert_no_error (error);
  assert_field (cfg, "smtpserver", "env.example.org");
  g_assert_false (msg_configuration_is_field_set (cfg, "nntpserver"));
  g_clear_object (&cfg);

  g_setenv ("MSGOBJ_CONFIG", missing, TRUE);
  cfg = msg_configuration_new_default (&error);
  g_assert_null (cfg);
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_PARSE);
  assert_message_has (error, "missing.conf");
  g_clear_error (&error);

  /* An empty MSGOBJ_CONFIG is as if unset. */
  g_setenv ("MSGOBJ_CONFIG", "", TRUE);
  cfg = msg_configuration_new_default (&error);
  g_assert_no_error (error);
  assert_field (cfg, "smtpserver", "xdg.example.org");

  g_unsetenv ("MSGOBJ_CONFIG");
  msg_test_remove_tree (dir);
}

/* register_field */

static void
test_register_field (void)
{
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) names = NULL;
  const char *const modes[] = { "off", "fast", "safe-mode", NULL };
  const char *const other_modes[] = { "off", "on", NULL };

  g_test_summary ("Plugins register fields of their own, usable like CDO's.");

  g_assert_false (msg_configuration_has_field ("testretries"));
  g_assert_true (msg_configuration_register_field ("testretries", MSG_FIELD_TYPE_INT, "3", NULL, &error));
  g_assert_no_error (error);
  g_assert_true (msg_configuration_register_field ("testmode", MSG_FIELD_TYPE_ENUM, "fast", modes, &error));
  g_assert_no_error (error);
  g_assert_true (msg_configuration_register_field ("testtoken", MSG_FIELD_TYPE_SECRET, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (msg_configuration_register_field ("testdelay", MSG_FIELD_TYPE_SECONDS, "1.5", NULL, &error));
  g_assert_no_error (error);

  g_assert_true (msg_configuration_has_field (NS "testretries"));
  g_assert_cmpint (msg_configuration_get_field_type ("testmode"), ==, MSG_FIELD_TYPE_ENUM);
  g_assert_cmpint (msg_configuration_get_int (cfg, "testretries"), ==, 3);
  set_ok (cfg, NS "testretries", "-7");
  g_assert_cmpint (msg_configuration_get_int (cfg, "testretries"), ==, -7);
  assert_bad (cfg, "testretries", "many");
  assert_bad (cfg, "testretries", "99999999999");

  assert_field (cfg, "testmode", "fast");
  g_assert_cmpint (msg_configuration_get_int (cfg, "testmode"), ==, 1);
  set_ok (cfg, "testmode", "2");
  assert_field (cfg, "testmode", "safe-mode");
  set_ok (cfg, "testmode", "OFF");
  g_assert_cmpint (msg_configuration_get_int (cfg, "testmode"), ==, 0);
  assert_bad (cfg, "testmode", "3");

  set_ok (cfg, "testtoken", "tok");
  g_assert_null (msg_configuration_get_field (cfg, "testtoken"));
  g_assert_cmpfloat (msg_configuration_get_seconds (cfg, "testdelay"), ==, 1.5);

  names = msg_configuration_list_fields (cfg);
  g_assert_true (g_strv_contains ((const char *const *) names, "testretries"));
  g_assert_true (g_strv_contains ((const char *const *) names, "testmode"));

  /* Again with the same type: fine, the first definition stays. */
  g_assert_true (msg_configuration_register_field ("testretries", MSG_FIELD_TYPE_INT, "5", NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (msg_configuration_get_int (cfg, "testretries"), ==, -7);
  set_ok (cfg, "testretries", NULL);
  g_assert_cmpint (msg_configuration_get_int (cfg, "testretries"), ==, 3);
  g_assert_true (msg_configuration_register_field ("smtpserver", MSG_FIELD_TYPE_STRING, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (msg_configuration_register_field ("testmode", MSG_FIELD_TYPE_ENUM, NULL, modes, &error));
  g_assert_no_error (error);

  /* Another type is an error. */
  g_assert_false (msg_configuration_register_field ("testretries", MSG_FIELD_TYPE_STRING, NULL, NULL, &error));
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_FAILED);
  assert_message_has (error, "testretries");
  g_clear_error (&error);
  g_assert_false (msg_configuration_register_field ("smtpserverport", MSG_FIELD_TYPE_BOOLEAN, NULL, NULL, &error));
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_false (msg_configuration_register_field ("testmode", MSG_FIELD_TYPE_ENUM, NULL, other_modes, &error));
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_cmpint (msg_configuration_get_field_type ("testretries"), ==, MSG_FIELD_TYPE_INT);
}

static void
test_register_field_bad (void)
{
  g_autoptr (GError) error = NULL;
  const char       *bad_names[] = { "", "Upper", "9lives", "with space", "with-dash", "a:b", NS "x" };
  const char *const empty[] = { NULL };
  const char *const dup[] = { "a", "a", NULL };
  const char *const numeric[] = { "a", "2b", NULL };
  const char *const spaced[] = { "a b", NULL };

  g_test_summary ("Invalid registrations fail and register nothing.");

  for (gsize i = 0; i < G_N_ELEMENTS (bad_names); i++)
    {
      g_assert_false (msg_configuration_register_field (bad_names[i], MSG_FIELD_TYPE_STRING, NULL, NULL, &error));
      g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_FAILED);
      g_clear_error (&error);
    }
  g_assert_false (msg_configuration_register_field ("badenum1", MSG_FIELD_TYPE_ENUM, NULL, NULL, &error));
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_false (msg_configuration_register_field ("badenum2", MSG_FIELD_TYPE_ENUM, NULL, empty, &error));
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_false (msg_configuration_register_field ("badenum3", MSG_FIELD_TYPE_ENUM, NULL, dup, &error));
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_false (msg_configuration_register_field ("badenum4", MSG_FIELD_TYPE_ENUM, NULL, numeric, &error));
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_false (msg_configuration_register_field ("badenum5", MSG_FIELD_TYPE_ENUM, NULL, spaced, &error));
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_false (msg_configuration_register_field ("badchoices", MSG_FIELD_TYPE_INT, NULL, dup, &error));
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_false (msg_configuration_register_field ("baddefault", MSG_FIELD_TYPE_BOOLEAN, "perhaps", NULL, &error));
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE);
  g_clear_error (&error);
  g_assert_false (msg_configuration_register_field ("baddefault2", MSG_FIELD_TYPE_STRING, "a\nb", NULL, &error));
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE);
  g_clear_error (&error);
  g_assert_false (msg_configuration_register_field ("badtype", (MsgFieldType) 99, NULL, NULL, &error));
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_FAILED);
  g_clear_error (&error);

  g_assert_false (msg_configuration_has_field ("badenum1"));
  g_assert_false (msg_configuration_has_field ("baddefault"));
  g_assert_false (msg_configuration_has_field ("badtype"));
}

static gpointer
register_thread (gpointer data)
{
  g_autoptr (GError) error = NULL;

  for (int i = 0; i < 50; i++)
    {
      g_autofree char *name = g_strdup_printf ("testconcurrent%d", i);

      if (!msg_configuration_register_field (name, MSG_FIELD_TYPE_INT, "1", NULL, &error))
        return g_steal_pointer (&error);
    }
  return NULL;
}

static void
test_register_field_threads (void)
{
  GThread *threads[4];

  g_test_summary ("Several threads registering the same fields at once all succeed.");

  for (gsize i = 0; i < G_N_ELEMENTS (threads); i++)
    threads[i] = g_thread_new ("register", register_thread, NULL);
  for (gsize i = 0; i < G_N_ELEMENTS (threads); i++)
    {
      g_autoptr (GError) error = g_thread_join (threads[i]);

      g_assert_no_error (error);
    }
  g_assert_true (msg_configuration_has_field ("testconcurrent49"));
}

static void
test_plugin_field_subprocess (void)
{
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();
  g_autoptr (GError) error = NULL;

  /* The first thing this process does: nothing has loaded the plugins. */
  g_assert_true (msg_configuration_set_field (cfg, NS "testbehaviour", "fail", &error));
  g_assert_no_error (error);
  assert_field (cfg, "testbehaviour", "fail");
  g_assert_cmpint (msg_configuration_get_int (cfg, "testbehaviour"), ==, 1);
}

static void
test_plugin_field (void)
{
  g_test_summary ("A field that a transport plugin registers is known before any transport "
                  "was asked for: set_field loads the plugins before calling a name unknown.");

  if (g_getenv ("MSGOBJ_TRANSPORT_PATH") == NULL)
    {
      g_test_skip ("MSGOBJ_TRANSPORT_PATH does not name the test transport module");
      return;
    }
  g_test_trap_subprocess ("/configuration/register-field/plugin/subprocess", 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* Copies and threads */

static void
test_copy (void)
{
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();
  g_autoptr (MsgConfiguration) copy = NULL;

  g_test_summary ("A copy is deep: changes to either do not show in the other.");

  set_ok (cfg, "smtpserver", "a.example.org");
  set_ok (cfg, "smtpserverport", "2525");
  set_ok (cfg, "sendpassword", "pw");
  copy = msg_configuration_copy (cfg);
  g_assert_true (copy != cfg);
  assert_field (copy, "smtpserver", "a.example.org");
  g_assert_cmpint (msg_configuration_get_int (copy, "smtpserverport"), ==, 2525);
  g_assert_true (msg_configuration_is_field_set (copy, "smtpserverport"));
  g_assert_false (msg_configuration_is_field_set (copy, "nntpserver"));

  set_ok (cfg, "smtpserver", "b.example.org");
  set_ok (cfg, "smtpserverport", NULL);
  set_ok (cfg, "nntpserver", "news.example.org");
  assert_field (copy, "smtpserver", "a.example.org");
  g_assert_cmpint (msg_configuration_get_int (copy, "smtpserverport"), ==, 2525);
  assert_field (copy, "nntpserver", NULL);

  set_ok (copy, "smtpserver", "c.example.org");
  set_ok (copy, "sendpassword", NULL);
  assert_field (cfg, "smtpserver", "b.example.org");
  g_assert_true (msg_configuration_is_field_set (cfg, "sendpassword"));

  /* Dropping the original leaves the copy whole. */
  g_clear_object (&cfg);
  assert_field (copy, "smtpserver", "c.example.org");
}

static void
test_copy_shared (void)
{
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();
  g_autoptr (MsgConfiguration) copy = NULL;
  g_autoptr (MsgConfiguration) copy2 = NULL;
  g_autoptr (GError) error = NULL;

  g_test_summary ("Copies share their values until one changes (issue 18): a copy of a "
                  "copy, a reset, set_fields and a key file change only their own.");

  set_ok (cfg, "smtpserver", "a.example.org");
  set_ok (cfg, "smtpconnectiontimeout", "2.5");
  copy = msg_configuration_copy (cfg);
  copy2 = msg_configuration_copy (copy);

  /* A key file loaded into the original. */
  g_assert_true (msg_configuration_load_from_data (cfg, "[configuration]\nsmtpserver = k.example.org\n", -1, &error));
  g_assert_no_error (error);
  assert_field (cfg, "smtpserver", "k.example.org");
  assert_field (copy, "smtpserver", "a.example.org");
  assert_field (copy2, "smtpserver", "a.example.org");

  /* A reset in the middle one. */
  g_assert_true (msg_configuration_reset_field (copy, "smtpconnectiontimeout", &error));
  g_assert_cmpfloat (msg_configuration_get_seconds (copy, "smtpconnectiontimeout"), ==, 30);
  g_assert_cmpfloat (msg_configuration_get_seconds (copy2, "smtpconnectiontimeout"), ==, 2.5);
  g_assert_cmpfloat (msg_configuration_get_seconds (cfg, "SMTPConnectionTimeout"), ==, 2.5);

  /* Typed values into the last one. */
  {
    g_autoptr (GHashTable) fields = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) g_free);
    GValue *port = g_new0 (GValue, 1);

    g_value_init (port, G_TYPE_INT);
    g_value_set_int (port, 2525);
    g_hash_table_insert (fields, "smtpserverport", port);
    g_assert_true (msg_configuration_set_fields (copy2, fields, &error));
    g_assert_no_error (error);
    g_value_unset (port);
  }
  g_assert_cmpint (msg_configuration_get_int (copy2, "smtpserverport"), ==, 2525);
  g_assert_cmpint (msg_configuration_get_int (copy, "smtpserverport"), ==, 25);
  g_assert_cmpint (msg_configuration_get_int (cfg, "smtpserverport"), ==, 25);
  g_assert_false (msg_configuration_is_field_set (cfg, "smtpserverport"));
}

static void
test_equal (void)
{
  g_autoptr (MsgConfiguration) a = msg_configuration_new ();
  g_autoptr (MsgConfiguration) b = msg_configuration_new ();
  g_autoptr (MsgConfiguration) copy = NULL;
  g_autoptr (MsgConfiguration) other = NULL;

  g_test_summary ("Two configurations are equal when the same fields are set to the same "
                  "canonical values; a copy equals its original until either changes.");

  g_assert_true (msg_configuration_equal (a, b));
  g_assert_true (msg_configuration_equal (a, a));

  set_ok (a, "smtpserver", "a.example.org");
  g_assert_false (msg_configuration_equal (a, b));
  g_assert_false (msg_configuration_equal (b, a));
  set_ok (b, "smtpserver", "a.example.org");
  g_assert_true (msg_configuration_equal (a, b));

  /* Canonical forms: the same boolean, the same choice. */
  set_ok (a, "smtpusessl", "True");
  set_ok (b, "smtpusessl", "1");
  set_ok (a, "smtpauthenticate", "BASIC");
  set_ok (b, "smtpauthenticate", "1");
  g_assert_true (msg_configuration_equal (a, b));
  /* Seconds are kept as written: "2.50" is not "2.5" (not equal, though
   * they mean the same: a transport then reads its settings again). */
  set_ok (a, "smtpconnectiontimeout", "2.50");
  set_ok (b, "smtpconnectiontimeout", "2.5");
  g_assert_false (msg_configuration_equal (a, b));
  set_ok (b, "smtpconnectiontimeout", "2.50");
  g_assert_true (msg_configuration_equal (a, b));

  /* A field set to its default is not one left unset: the SMTP port's
   * default follows smtpusessl only when the port is not set. */
  set_ok (a, "smtpserverport", "25");
  g_assert_false (msg_configuration_equal (a, b));
  set_ok (a, "smtpserverport", NULL);
  g_assert_true (msg_configuration_equal (a, b));

  /* Secrets count. */
  set_ok (a, "sendpassword", "one");
  set_ok (b, "sendpassword", "two");
  g_assert_false (msg_configuration_equal (a, b));
  set_ok (b, "sendpassword", "one");
  g_assert_true (msg_configuration_equal (a, b));

  /* A copy, then a change to the original after a comparison: the copy
   * keeps the values it had and equals a copy made before. */
  copy = msg_configuration_copy (a);
  other = msg_configuration_copy (copy);
  g_assert_true (msg_configuration_equal (a, copy));
  set_ok (a, "smtpserver", "b.example.org");
  g_assert_false (msg_configuration_equal (a, copy));
  g_assert_true (msg_configuration_equal (copy, other));
  g_assert_true (msg_configuration_equal (copy, b));
  assert_field (copy, "smtpserver", "a.example.org");
  assert_field (a, "smtpserver", "b.example.org");
}

#define N_ROUNDS 3000
#define N_READS 1000

typedef struct
{
  MsgConfiguration *cfg;
  gint              stop;
  gint              n_reads;
  gint              reader_done;
  char             *failure;
} ThreadData;

static gpointer
reader_thread (gpointer user_data)
{
  ThreadData *td = user_data;

  while (!g_atomic_int_get (&td->stop))
    {
      g_autofree char *server = msg_configuration_get_field (td->cfg, "smtpserver");
      int              port = msg_configuration_get_int (td->cfg, "smtpserverport");
      g_autoptr (MsgConfiguration) snapshot = msg_configuration_copy (td->cfg);
      g_autofree char *snap_server = msg_configuration_get_field (snapshot, "smtpserver");
      g_autofree char *password = msg_configuration_get_secret (td->cfg, "sendpassword");
      /* Compared while the writer changes the original: it must copy the
       * values the comparison holds, not change them under it. */
      gboolean         same = msg_configuration_equal (td->cfg, snapshot);
      g_autofree char *after = msg_configuration_get_field (snapshot, "smtpserver");

      if (g_strcmp0 (server, "one.example.org") != 0 && g_strcmp0 (server, "two.example.org") != 0)
        td->failure = g_strdup_printf ("read server %s", server);
      else if (port != 25 && port != 2525)
        td->failure = g_strdup_printf ("read port %d", port);
      else if (g_strcmp0 (snap_server, "one.example.org") != 0 && g_strcmp0 (snap_server, "two.example.org") != 0)
        td->failure = g_strdup_printf ("snapshot server %s", snap_server);
      else if (password != NULL && strcmp (password, "password-one") != 0 && strcmp (password, "password-two") != 0)
        td->failure = g_strdup ("torn password");
      else if (g_strcmp0 (after, snap_server) != 0)
        td->failure = g_strdup_printf ("snapshot changed to %s while compared (equal: %d)", after, same);
      if (td->failure != NULL)
        break;
      g_atomic_int_inc (&td->n_reads);
    }
  g_atomic_int_set (&td->reader_done, 1);
  return NULL;
}

static void
test_threads (void)
{
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();
  ThreadData td = { cfg, 0, 0, 0, NULL };
  GThread   *reader;
  gint64     give_up = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  int        i;

  g_test_summary ("One thread reads and copies while another sets fields: reads see whole values.");

  set_ok (cfg, "smtpserver", "one.example.org");
  reader = g_thread_new ("reader", reader_thread, &td);
  /* Write at least N_ROUNDS times, and until the reader has read N_READS
   * times while writes were going on. */
  for (i = 0; i < N_ROUNDS || g_atomic_int_get (&td.n_reads) < N_READS; i++)
    {
      if (g_atomic_int_get (&td.reader_done) || g_get_monotonic_time () > give_up)
        break;
      set_ok (cfg, "smtpserver", i % 2 ? "one.example.org" : "two.example.org");
      set_ok (cfg, "smtpserverport", i % 3 ? "25" : "2525");
      set_ok (cfg, "smtpserverport", i % 5 ? NULL : "2525");
      set_ok (cfg, "sendpassword", i % 2 ? "password-one" : "password-two");
      if (i % 7 == 0)
        set_ok (cfg, "sendpassword", NULL);
    }
  g_atomic_int_set (&td.stop, 1);
  g_thread_join (reader);
  if (td.failure != NULL)
    g_error ("reader: %s", td.failure);
  g_test_message ("%d writes, %d reads", i, td.n_reads);
  g_assert_cmpint (i, >=, N_ROUNDS);
  g_assert_cmpint (td.n_reads, >=, N_READS);
}

static void
test_server_list (void)
{
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();

  g_test_summary ("smtpserver takes a list of relays separated by commas, each checked as "
                  "a single server is, stored as “a, b:587”; a one-entry value is read "
                  "back as before (host alone, port in smtpserverport); smtprelaymode "
                  "chooses failover or spread.");

  set_ok (cfg, "smtpserver", " relay1.example.org,relay2.example.org:587 , [2001:db8::1]:26 ");
  assert_field (cfg, "smtpserver", "relay1.example.org, relay2.example.org:587, [2001:db8::1]:26");
  g_assert_cmpint (msg_configuration_get_int (cfg, "smtpserverport"), ==, 25);
  assert_field (cfg, "sendusing", "smtp");
  set_ok (cfg, "smtpserver", "relay1.example.org:2525");
  assert_field (cfg, "smtpserver", "relay1.example.org");
  g_assert_cmpint (msg_configuration_get_int (cfg, "smtpserverport"), ==, 2525);
  {
    g_autoptr (GError) error = set_bad (cfg, "smtpserver", "relay1.example.org, smtp://relay2.example.org");

    assert_message_has (error, "not a URL");
  }
  {
    g_autoptr (GError) error = set_bad (cfg, "smtpserver", "relay1.example.org,,relay2.example.org");

    assert_message_has (error, "empty entry");
  }
  {
    g_autoptr (GError) error = set_bad (cfg, "smtpserver", "relay1.example.org, relay2.example.org:99999");

    assert_message_has (error, "65535");
  }
  assert_bad (cfg, "smtpserver", "relay1.example.org,");
  assert_bad (cfg, "smtpserver", "relay 1.example.org, relay2.example.org");
  /* Only smtpserver takes a list. */
  assert_bad (cfg, "nntpserver", "news1.example.org, news2.example.org");

  assert_field (cfg, "smtprelaymode", "failover");
  set_ok (cfg, "smtprelaymode", "Spread");
  assert_field (cfg, "smtprelaymode", "spread");
  g_assert_cmpint (msg_configuration_get_int (cfg, "smtprelaymode"), ==, 1);
  assert_bad (cfg, "smtprelaymode", "random");
}

/* The audit of the field table: every field works or is refused */

static void
test_field_audit (void)
{
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();
  g_auto (GStrv) names = msg_configuration_list_fields (cfg);
  /* Every built-in field and where its effect is tested. A field added
   * without a row here fails this test: none may be stored and ignored. */
  static const char *const audited[] = {
    /* used by the SMTP transport: test-smtp.c */
    "smtpserver",
    "smtpserverport",
    "smtpusessl",
    "smtpauthenticate",
    "sendusername",
    "sendpassword",
    "smtpconnectiontimeout",
    "smtpstarttls",
    "smtpoperationtimeout",
    "smtpauthmechanisms",
    "smtpallowplaintextauth",
    "smtpsendpartial",
    "smtpehloname",
    "smtpusechunking", /* test-smtp-pipelining.c */
    /* several relays: test-smtp.c (failover), test-flusher.c (spread) */
    "smtprelaymode",
    "tlscafile",
    "tlsverify",
    /* used by the NNTP transport: test-nntp.c */
    "nntpserver",
    "nntpserverport",
    "nntpusessl",
    "nntpauthenticate",
    "postusername",
    "postpassword",
    "nntpconnectiontimeout",
    "nntpstarttls",
    "nntpoperationtimeout",
    "nntpallowplaintextauth",
    /* used by the NNTP transport's SASL: test-sasl.c */
    "nntpauthmechanisms",
    /* used by msg_message_send/post and the pickup transport: test-pickup.c */
    "sendusing",
    "postusing",
    "smtpserverpickupdirectory",
    "nntpserverpickupdirectory",
    "flushbuffersonwrite",
    /* checked when a post starts: test-security-config.c */
    "nntpallowcontrolheaders",
    /* used by messages: test-message-envelope.c, test-message-mime.c, test-message-reply.c */
    "sendemailaddress",
    "senduserreplyemailaddress",
    "postemailaddress",
    "postuserreplyemailaddress",
    "autopromotebodyparts",
    "usemessageresponsetext",
    "timezoneid",
    /* the languages of the reply header block, others refused: below */
    "languagecode",
    /* used when fetching URLs: test-mhtml.c */
    "httpcookies",
    "urlgetlatestversion",
    "urlproxyserver",
    "urlproxybypass",
    "urlconnectiontimeout",
    "urloperationtimeout",
    "urlmaxresourcesize",
    "urlmaxpagesize",
    /* features libmsgobj lacks, only "off" accepted: below */
    "savesentitems",
    /* DKIM signing: test-dkim.c, python/test_dkim.py */
    "dkimsign",
    "dkimdomain",
    "dkimselector",
    "dkimprivatekeyfile",
    "dkimalgorithm",
    "dkimcanonicalization",
    "dkimheaders",
    "dkimoversignfrom",
    "dkimexpiry",
    /* PGP/MIME and S/MIME: test-crypto.c */
    "cryptooperationtimeout",
    /* signing and encrypting at send time: test-crypto-send.c */
    "cryptoprotocol",
    "cryptosign",
    "cryptoencrypt",
    /* informational, read back, as in CDO (a name for the account) */
    "smtpaccountname",
    "nntpaccountname",
  };
  g_autoptr (GError) error = NULL;

  g_test_summary ("Every built-in field is audited (used and tested, or refused beyond the value that"
                  " asks for nothing); languagecode takes the languages it has; the savesentitems"
                  " field refuses anything but off, with a reason.");

  for (gsize i = 0; i < G_N_ELEMENTS (audited); i++)
    g_assert_true (g_strv_contains ((const char *const *) names, audited[i]));
  /* The rest come from plugins (the test module's, when it is on the
   * transport path). */
  for (gsize i = 0; names[i] != NULL; i++)
    if (!g_strv_contains (audited, names[i]))
      g_assert_cmpstr (names[i], ==, "testbehaviour");

  set_ok (cfg, "languagecode", "en-US");
  assert_field (cfg, "languagecode", "en-us");
  set_ok (cfg, "languagecode", "EN");
  set_ok (cfg, "languagecode", "");
  set_ok (cfg, "languagecode", "de-AT");
  set_ok (cfg, "languagecode", "zh-CN");
  {
    g_autoptr (GError) bad = set_bad (cfg, "languagecode", "sv");

    g_assert_error (bad, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE);
    assert_message_has (bad, "“sv”");
    assert_message_has (bad, "languagecode");
  }
  {
    g_autoptr (GError) bad = set_bad (cfg, "languagecode", "zh-TW");

    assert_message_has (bad, "zh-TW");
  }

  set_ok (cfg, "savesentitems", "False");
  set_ok (cfg, "urlgetlatestversion", "0");
  set_ok (cfg, "httpcookies", "");
  set_ok (cfg, "urlproxyserver", "");
  set_ok (cfg, "urlproxybypass", " ");
  {
    g_autoptr (GError) bad = set_bad (cfg, "savesentitems", "true");

    assert_message_has (bad, "does not save sent items");
  }
  /* The URL fields work since issue 17 (test-mhtml.c). */
  set_ok (cfg, "httpcookies", "a=b");
  set_ok (cfg, "urlgetlatestversion", "true");
  set_ok (cfg, "urlproxyserver", "proxy:8080");
  set_ok (cfg, "urlproxybypass", "<local>");

  /* The key file loader checks the same way. */
  g_assert_false (msg_configuration_load_from_data (cfg, "[configuration]\nlanguagecode=xx\n", -1, &error));
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE);
  g_clear_error (&error);

  /* CDO's time zone numbers name a zone; 52 (cdoFloating) names none. */
  set_ok (cfg, "timezoneid", "3");
  set_ok (cfg, "timezoneid", "81");
  {
    g_autoptr (GError) bad = set_bad (cfg, "timezoneid", "52");

    assert_message_has (bad, "cdoFloating");
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  g_log_set_writer_func (test_log_writer, NULL, NULL);

  g_test_add_func ("/configuration/defaults", test_defaults);
  g_test_add_func ("/configuration/field-audit", test_field_audit);
  g_test_add_func ("/configuration/server-list", test_server_list);
  g_test_add_func ("/configuration/list-fields", test_list_fields);
  g_test_add_func ("/configuration/field-types", test_field_types);
  g_test_add_func ("/configuration/error-domain", test_error_domain);
  g_test_add_func ("/configuration/names", test_names);
  g_test_add_func ("/configuration/names/unknown", test_unknown_names);
  g_test_add_func ("/configuration/names/unknown-read", test_unknown_read);
  g_test_add_func ("/configuration/validate/port", test_ports);
  g_test_add_func ("/configuration/validate/boolean", test_booleans);
  g_test_add_func ("/configuration/validate/enum", test_enums);
  g_test_add_func ("/configuration/validate/using", test_using);
  g_test_add_func ("/configuration/validate/server", test_server_values);
  g_test_add_func ("/configuration/typed-values", test_typed_values);
  g_test_add_func ("/configuration/server-chooses-transport", test_server_chooses_transport);
  g_test_add_func ("/configuration/validate/seconds", test_seconds);
  g_test_add_func ("/configuration/validate/string", test_strings);
  g_test_add_func ("/configuration/validate/special", test_special_strings);
  g_test_add_func ("/configuration/reset", test_reset);
  g_test_add_func ("/configuration/typed-reads", test_typed_reads);
  g_test_add_func ("/configuration/secrets", test_secrets);
  g_test_add_func ("/configuration/secrets/files", test_secrets_in_files);
  g_test_add_func ("/configuration/keyfile/good", test_keyfile_good);
  g_test_add_func ("/configuration/keyfile/bad", test_keyfile_bad);
  g_test_add_func ("/configuration/keyfile/file", test_keyfile_file);
  g_test_add_func ("/configuration/new-default/none", test_new_default_none);
  g_test_add_func ("/configuration/new-default/xdg", test_new_default_xdg);
  g_test_add_func ("/configuration/new-default/env", test_new_default_env);
  g_test_add_func ("/configuration/register-field", test_register_field);
  g_test_add_func ("/configuration/register-field/bad", test_register_field_bad);
  g_test_add_func ("/configuration/register-field/threads", test_register_field_threads);
  g_test_add_func ("/configuration/register-field/plugin", test_plugin_field);
  g_test_add_func ("/configuration/register-field/plugin/subprocess", test_plugin_field_subprocess);
  g_test_add_func ("/configuration/copy", test_copy);
  g_test_add_func ("/configuration/copy-shared", test_copy_shared);
  g_test_add_func ("/configuration/equal", test_equal);
  g_test_add_func ("/configuration/threads", test_threads);

  return g_test_run ();
}
