/* msg-smtp-settings.c: what an SMTP send reads from its configuration
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-smtp-private.h"
#include "msg-password-tag.h"

#include <string.h>

void
_msg_smtp_settings_clear (Settings *s)
{
  g_free (s->server);
  g_clear_pointer (&s->relays, g_ptr_array_unref);
  g_free (s->host);
  g_free (s->username);
  if (s->password != NULL)
    {
      explicit_bzero (s->password, strlen (s->password));
      g_free (s->password);
    }
  g_strfreev (s->mechanisms);
  g_free (s->ca_file);
  g_free (s->ehlo_name);
  memset (s, 0, sizeof *s);
}

static gboolean
is_valid_host_name (const char *name)
{
  if (name == NULL || *name == '\0' || strlen (name) > MAX_DOMAIN || strchr (name, '.') == NULL)
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '.')
      return FALSE;
  return TRUE;
}

/* The relays of @server: a single server (the configuration gives its
 * host alone, with the port in smtpserverport) or a list "a, b:587" whose
 * entries without a port take @port. The configuration validated each. */
static GPtrArray *
parse_relays (const char *server,
              guint16     port)
{
  GPtrArray *relays = g_ptr_array_new_with_free_func (g_object_unref);
  g_auto (GStrv) entries = NULL;

  if (server == NULL || server[0] == '\0')
    return relays;
  if (strchr (server, ',') == NULL)
    {
      g_ptr_array_add (relays, g_network_address_new (server, port));
      return relays;
    }
  entries = g_strsplit (server, ",", -1);
  for (guint i = 0; entries[i] != NULL; i++)
    {
      GSocketConnectable *relay = g_network_address_parse (g_strstrip (entries[i]), port, NULL);

      if (relay != NULL)
        g_ptr_array_add (relays, relay);
    }
  return relays;
}

void
_msg_smtp_settings_load (Settings         *s,
                         MsgConfiguration *config)
{
  g_autofree char *starttls = NULL;
  g_autofree char *mechanisms = NULL;
  g_autofree char *ehlo = NULL;

  s->server = msg_configuration_get_field (config, "smtpserver");
  s->implicit_tls = msg_configuration_get_boolean (config, "smtpusessl");
  if (s->implicit_tls && !msg_configuration_is_field_set (config, "smtpserverport"))
    s->port = 465;
  else
    s->port = (guint16) msg_configuration_get_int (config, "smtpserverport");
  s->relays = parse_relays (s->server, s->port);
  s->host = g_strdup (s->server);
  if (s->relays->len > 0)
    {
      g_free (s->host);
      s->host = g_strdup (g_network_address_get_hostname (s->relays->pdata[0]));
      s->port = g_network_address_get_port (s->relays->pdata[0]);
    }
  s->starttls = (StartTlsMode) msg_configuration_get_int (config, "smtpstarttls");
  s->authenticate = msg_configuration_get_int (config, "smtpauthenticate");
  s->username = msg_configuration_get_field (config, "sendusername");
  s->password = msg_configuration_get_secret (config, "sendpassword");
  mechanisms = msg_configuration_get_field (config, "smtpauthmechanisms");
  if (mechanisms != NULL)
    {
      g_auto (GStrv) parts = g_strsplit_set (mechanisms, " ,", -1);
      GPtrArray *list = g_ptr_array_new ();

      for (guint i = 0; parts[i] != NULL; i++)
        if (parts[i][0] != '\0')
          g_ptr_array_add (list, g_ascii_strup (parts[i], -1));
      g_ptr_array_add (list, NULL);
      s->mechanisms = (GStrv) g_ptr_array_free (list, FALSE);
    }
  s->allow_plaintext_auth = msg_configuration_get_boolean (config, "smtpallowplaintextauth");
  s->ca_file = msg_configuration_get_field (config, "tlscafile");
  s->tls_verify = msg_configuration_get_boolean (config, "tlsverify");
  ehlo = msg_configuration_get_field (config, "smtpehloname");
  if (ehlo != NULL && *ehlo != '\0')
    s->ehlo_name = g_steal_pointer (&ehlo);
  else if (is_valid_host_name (g_get_host_name ()))
    s->ehlo_name = g_strdup (g_get_host_name ());
  /* else NULL: the address literal of the connection, once connected. */
  s->send_partial = msg_configuration_get_boolean (config, "smtpsendpartial");
  s->use_chunking = msg_configuration_get_boolean (config, "smtpusechunking");
  s->timeout = msg_configuration_get_seconds (config, "smtpconnectiontimeout");
  s->operation_timeout = msg_configuration_get_seconds (config, "smtpoperationtimeout");
}

/* The settings that shape a connection (docs/design.md, decision 7); the
 * password only as a keyed digest, so that the key holds no secret. */
char *
_msg_smtp_settings_connection_key (const Settings *s)
{
  g_autofree char *mechanisms = s->mechanisms != NULL ? g_strjoinv (" ", s->mechanisms) : NULL;
  g_autofree char *password_digest = NULL;

  if (s->password != NULL)
    password_digest = _msg_password_tag (s->password);
  return g_strdup_printf ("%s\n%u\n%d\n%d\n%d\n%s\n%s\n%s\n%d\n%s\n%d\n%s",
                          s->server, s->port, s->implicit_tls, s->starttls, s->authenticate,
                          s->username != NULL ? s->username : "",
                          password_digest != NULL ? password_digest : "",
                          mechanisms != NULL ? mechanisms : "",
                          s->allow_plaintext_auth,
                          s->ca_file != NULL ? s->ca_file : "",
                          s->tls_verify, s->ehlo_name != NULL ? s->ehlo_name : "");
}

/* A copy of @src to change and clear: the relays are shared. */
void
_msg_smtp_settings_copy (Settings       *dst,
                         const Settings *src)
{
  *dst = *src;
  dst->server = g_strdup (src->server);
  dst->relays = g_ptr_array_ref (src->relays);
  dst->host = g_strdup (src->host);
  dst->username = g_strdup (src->username);
  dst->password = g_strdup (src->password);
  dst->mechanisms = g_strdupv (src->mechanisms);
  dst->ca_file = g_strdup (src->ca_file);
  dst->ehlo_name = g_strdup (src->ehlo_name);
}
