/* msg-web-fetcher.c: the library's side of the web module, and resources
 *
 * libsoup, and Kerberos, SQLite, nghttp2 and brotli with it, are loaded
 * with the module msgobj-web.so (msg-web-module.c) by the first fetch,
 * not by every process that uses the library. What needs no HTTP stays
 * here.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-web-fetcher-private.h"

#include "msg-body-part-private.h"
#include "msg-configuration-private.h"
#include "msg-optional-module-private.h"

#include <glib/gstdio.h>
#include <string.h>

/* Set once the module is loaded; a fetcher exists only after that. */
static const MsgWebModule *web_module;

static const MsgWebHost web_host = {
  _msg_web_resource_free,
  _msg_web_display_uri,
  _msg_configuration_split_server,
};

void
_msg_web_resource_free (MsgWebResource *resource)
{
  if (resource == NULL)
    return;
  g_free (resource->uri);
  g_free (resource->content_type);
  g_free (resource->charset);
  g_clear_pointer (&resource->bytes, g_bytes_unref);
  if (resource->path != NULL)
    g_unlink (resource->path);
  g_free (resource->path);
  g_free (resource);
}

MsgWebFetcher *
_msg_web_fetcher_new (MsgConfiguration *configuration,
                      const char       *user,
                      const char       *password,
                      GCancellable     *cancellable,
                      GError          **error)
{
  const MsgWebModule *module = _msg_optional_module_load ("web", &web_host, error);

  if (module == NULL)
    {
      g_prefix_error (error, "Cannot fetch web content: ");
      return NULL;
    }
  g_atomic_pointer_set (&web_module, module);
  return module->fetcher_new (configuration, user, password, cancellable);
}

MsgWebResource *
_msg_web_fetcher_fetch (MsgWebFetcher *self,
                        const char    *uri,
                        gboolean       allow_file,
                        gboolean       in_memory,
                        GError       **error)
{
  const MsgWebModule *module = g_atomic_pointer_get (&web_module);

  return module->fetch (self, uri, allow_file, in_memory, error);
}

void
_msg_web_fetcher_close (MsgWebFetcher *self)
{
  const MsgWebModule *module = g_atomic_pointer_get (&web_module);

  module->close (self);
}

char *
_msg_web_display_uri (const char *uri)
{
  g_autoptr (GUri) parsed = g_uri_parse (uri, G_URI_FLAGS_PARSE_RELAXED | G_URI_FLAGS_ENCODED | G_URI_FLAGS_HAS_PASSWORD, NULL);
  const char *authority;
  const char *at;

  if (parsed != NULL)
    return g_uri_to_string_partial (parsed, G_URI_HIDE_PASSWORD);
  /* Unparsable: whatever could be credentials goes. */
  authority = strstr (uri, "://");
  at = authority != NULL ? strchr (authority, '@') : NULL;
  if (at == NULL)
    return g_strdup (uri);
  return g_strdup_printf ("%.*s***%s", (int) (authority + 3 - uri), uri, at);
}

gboolean
_msg_web_is_fetchable (const char *uri)
{
  g_autofree char *scheme = g_uri_parse_scheme (uri);

  return scheme != NULL &&
         (g_ascii_strcasecmp (scheme, "http") == 0 || g_ascii_strcasecmp (scheme, "https") == 0 ||
          g_ascii_strcasecmp (scheme, "file") == 0);
}

/* The last path segment of @uri, or "file". */
static char *
name_from_uri (const char *uri)
{
  g_autoptr (GUri) parsed = g_uri_parse (uri, G_URI_FLAGS_NONE, NULL);
  const char      *path = parsed != NULL ? g_uri_get_path (parsed) : NULL;
  const char      *slash = path != NULL ? strrchr (path, '/') : NULL;
  g_autofree char *name = NULL;

  if (slash != NULL)
    name = g_uri_unescape_string (slash + 1, "/");
  if (name == NULL || name[0] == '\0' || name[0] == '.' || !g_utf8_validate (name, -1, NULL))
    return g_strdup ("file");
  for (char *p = name; *p != '\0'; p++)
    {
      if ((guchar) *p < 0x20 || *p == '\\' || *p == '"')
        *p = '_';
    }
  return g_steal_pointer (&name);
}

static void
unlink_and_free (gpointer data)
{
  g_unlink (data);
  g_free (data);
}

/* A media type without parameters that the body part accepts. */
static gboolean
is_plain_media_type (const char *type)
{
  const char *slash = type != NULL ? strchr (type, '/') : NULL;

  if (slash == NULL || slash == type || slash[1] == '\0')
    return FALSE;
  for (const char *p = type; *p != '\0'; p++)
    {
      if (!g_ascii_isalnum (*p) && strchr ("/!#$&^_.+-", *p) == NULL)
        return FALSE;
    }
  return TRUE;
}

gpointer
_msg_web_resource_make_part (MsgWebResource *resource,
                             const char     *content_type,
                             GError        **error)
{
  g_autofree char *name = name_from_uri (resource->uri);
  MsgBodyPart     *part;
  GMimeObject     *object;

  if (content_type == NULL && is_plain_media_type (resource->content_type))
    content_type = resource->content_type;

  if (resource->bytes != NULL)
    {
      part = _msg_body_part_new_for_bytes (resource->bytes, content_type, name, NULL);
      if (part == NULL)
        part = _msg_body_part_new_for_bytes (resource->bytes, NULL, name, error);
    }
  else
    {
      part = _msg_body_part_new_for_file (resource->path, content_type, name, NULL);
      if (part == NULL)
        part = _msg_body_part_new_for_file (resource->path, NULL, name, error);
    }
  if (part == NULL)
    return NULL;

  object = _msg_body_part_get_object (part);
  if (resource->charset != NULL && g_mime_content_type_is_type (g_mime_object_get_content_type (object), "text", "*"))
    g_mime_object_set_content_type_parameter (object, "charset", resource->charset);
  if (resource->path != NULL)
    {
      GMimeStream *stream =
          g_mime_data_wrapper_get_stream (g_mime_part_get_content (GMIME_PART (object)));

      /* The file goes with the last holder of its stream. */
      g_object_set_data_full (G_OBJECT (stream), "msgobj-temporary-file",
                              g_steal_pointer (&resource->path), unlink_and_free);
    }
  return part;
}
