/* msg-web-module.c: fetching http:, https: and file: URLs with libsoup
 *
 * Built as the module msgobj-web.so, loaded on first use
 * (msg-web-fetcher.c), with msg-tls-utils.c; of the library it calls the
 * public functions and those of its MsgWebHost.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-web-module-private.h"

#include "msg-message.h"
#include "msg-tls-utils-private.h"

#include <gmodule.h>

#include <gio/gunixoutputstream.h>
#include <glib/gstdio.h>
#include <libsoup/soup.h>
#include <string.h>

/* Redirects followed for one URL (CDO followed WinINet's default). */
#define MAX_REDIRECTS 10
/* Bodies up to this size stay in memory; larger ones go to a file. */
#define MEMORY_THRESHOLD (256 * 1024)
#define CHUNK_SIZE (64 * 1024)
/* urloperationtimeout = 0: the whole operation's automatic limit. */
#define DEFAULT_OPERATION_SECONDS 300.0

struct _MsgWebFetcher
{
  GObject parent_instance;

  SoupSession  *session;
  GCancellable *cancellable;        /* (owned): ours, cancelled by the caller's or the deadline */
  GCancellable *caller_cancellable; /* (owned) (nullable) */
  gulong        caller_handler;

  char    *user;      /* (owned) (nullable) */
  char    *password;  /* (owned) (nullable) */
  char    *auth_host; /* (owned) (nullable): the host credentials go to */
  char    *cookies;   /* (owned) (nullable) */
  gboolean no_cache;
  gboolean tls_verify;
  gboolean tls_warned; /* tlsverify=false accepted a bad certificate */
  guint    inactivity_seconds;
  double   operation_seconds;
  gint64   max_resource; /* 0: no limit */
  gint64   max_page;     /* 0: no limit */
  gint64   page_total;

  /* The whole-operation clock: a thread that cancels at the deadline. */
  GThread *watchdog;
  GError  *watchdog_error; /* (owned) (nullable): no watchdog could be made */
  GMutex   lock;
  GCond    cond;
  gint64   deadline;     /* monotonic µs, 0: none */
  gboolean stopping;     /* under lock */
  int      deadline_hit; /* (atomic) */
};

G_DEFINE_FINAL_TYPE (MsgWebFetcher, _msg_web_fetcher, G_TYPE_OBJECT)

/* The library's functions, given when the module is loaded. */
static const MsgWebHost *library;

static void
resource_free (MsgWebResource *resource)
{
  library->resource_free (resource);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgWebResource, resource_free)

static gpointer
watchdog_thread (gpointer data)
{
  MsgWebFetcher *self = data;
  gboolean       fire = FALSE;

  g_mutex_lock (&self->lock);
  while (!self->stopping)
    {
      if (!g_cond_wait_until (&self->cond, &self->lock, self->deadline))
        {
          fire = !self->stopping;
          break;
        }
    }
  g_mutex_unlock (&self->lock);

  if (fire)
    {
      g_atomic_int_set (&self->deadline_hit, 1);
      g_cancellable_cancel (self->cancellable);
    }
  return NULL;
}

static void
stop_watchdog (MsgWebFetcher *self)
{
  if (self->watchdog == NULL)
    return;
  g_mutex_lock (&self->lock);
  self->stopping = TRUE;
  g_cond_signal (&self->cond);
  g_mutex_unlock (&self->lock);
  g_thread_join (g_steal_pointer (&self->watchdog));
}

static void
fetcher_close (MsgWebFetcher *self)
{
  g_return_if_fail (MSG_IS_WEB_FETCHER (self));

  stop_watchdog (self);
  if (self->session != NULL)
    soup_session_abort (self->session);
}

static void
_msg_web_fetcher_finalize (GObject *object)
{
  MsgWebFetcher *self = MSG_WEB_FETCHER (object);

  fetcher_close (self);
  if (self->caller_cancellable != NULL)
    g_cancellable_disconnect (self->caller_cancellable, self->caller_handler);
  g_clear_object (&self->caller_cancellable);
  g_clear_error (&self->watchdog_error);
  g_clear_object (&self->session);
  g_clear_object (&self->cancellable);
  g_free (self->user);
  if (self->password != NULL)
    memset (self->password, 0, strlen (self->password));
  g_free (self->password);
  g_free (self->auth_host);
  g_free (self->cookies);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);

  G_OBJECT_CLASS (_msg_web_fetcher_parent_class)->finalize (object);
}

static void
_msg_web_fetcher_class_init (MsgWebFetcherClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = _msg_web_fetcher_finalize;
}

static void
_msg_web_fetcher_init (MsgWebFetcher *self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->cancellable = g_cancellable_new ();
}

static void
caller_cancelled_cb (GCancellable *caller,
                     gpointer      data)
{
  g_cancellable_cancel (G_CANCELLABLE (data));
}

/* urlproxybypass: host names or patterns separated by ';', ',' or
 * blanks, as GSimpleProxyResolver takes them; CDO's "<local>" (names
 * without a dot) becomes this machine's names and loopback addresses. */
static GStrv
proxy_ignore_hosts (const char *bypass)
{
  g_autoptr (GStrvBuilder) builder = g_strv_builder_new ();
  g_auto (GStrv) items = g_strsplit_set (bypass != NULL ? bypass : "", ";, \t", -1);

  for (guint i = 0; items[i] != NULL; i++)
    {
      if (items[i][0] == '\0')
        continue;
      if (g_ascii_strcasecmp (items[i], "<local>") == 0)
        {
          g_strv_builder_add (builder, "localhost");
          g_strv_builder_add (builder, "127.0.0.0/8");
          g_strv_builder_add (builder, "::1");
        }
      else
        g_strv_builder_add (builder, items[i]);
    }
  return g_strv_builder_end (builder);
}

static const char *
getenv_either (const char *lower,
               const char *upper)
{
  const char *value = g_getenv (lower);

  if (value == NULL || value[0] == '\0')
    value = g_getenv (upper);
  return value != NULL && value[0] != '\0' ? value : NULL;
}

/* urlproxyserver (with urlproxybypass), else the usual environment
 * variables (http_proxy, https_proxy, no_proxy), else none: not the
 * desktop's settings, which a library in a service should not depend
 * on. */
static GProxyResolver *
make_proxy_resolver (MsgConfiguration *configuration)
{
  g_autofree char *server = msg_configuration_get_field (configuration, "urlproxyserver");
  g_autofree char *bypass = msg_configuration_get_field (configuration, "urlproxybypass");
  g_autofree char *uri = NULL;
  g_auto (GStrv) ignore = NULL;
  const char     *http_proxy;
  const char     *https_proxy;
  GProxyResolver *resolver;

  if (server != NULL && server[0] != '\0')
    {
      g_autofree char *host = NULL;
      guint16          port = 0;
      const char      *reason;

      /* Checked when set: "host", "host:port", "[IPv6]:port". */
      if (!library->split_server (server, &host, &port, &reason))
        return NULL;
      uri = g_strdup_printf (strchr (host, ':') != NULL ? "http://[%s]:%u" : "http://%s:%u", host,
                             port != 0 ? port : 80);
      ignore = proxy_ignore_hosts (bypass);
      return g_simple_proxy_resolver_new (uri, ignore);
    }

  http_proxy = getenv_either ("http_proxy", "HTTP_PROXY");
  https_proxy = getenv_either ("https_proxy", "HTTPS_PROXY");
  if (http_proxy == NULL && https_proxy == NULL)
    return NULL;
  ignore = proxy_ignore_hosts (getenv_either ("no_proxy", "NO_PROXY"));
  resolver = g_simple_proxy_resolver_new (NULL, ignore);
  if (http_proxy != NULL)
    g_simple_proxy_resolver_set_uri_proxy (G_SIMPLE_PROXY_RESOLVER (resolver), "http", http_proxy);
  if (https_proxy != NULL)
    g_simple_proxy_resolver_set_uri_proxy (G_SIMPLE_PROXY_RESOLVER (resolver), "https", https_proxy);
  return resolver;
}

static gint64
get_size_limit (MsgConfiguration *configuration,
                const char       *name)
{
  int n = msg_configuration_get_int (configuration, name);

  return n > 0 ? n : 0;
}

static MsgWebFetcher *
fetcher_new (MsgConfiguration *configuration,
             const char       *user,
             const char       *password,
             GCancellable     *cancellable)
{
  MsgWebFetcher *self = g_object_new (MSG_TYPE_WEB_FETCHER, NULL);
  g_autoptr (GProxyResolver) resolver = make_proxy_resolver (configuration);
  g_autofree char *ca_file = msg_configuration_get_field (configuration, "tlscafile");
  double           inactivity = msg_configuration_get_seconds (configuration, "urlconnectiontimeout");

  self->user = g_strdup (user != NULL && user[0] != '\0' ? user : NULL);
  self->password = g_strdup (password);
  self->cookies = msg_configuration_get_field (configuration, "httpcookies");
  if (self->cookies != NULL && self->cookies[0] == '\0')
    g_clear_pointer (&self->cookies, g_free);
  self->no_cache = msg_configuration_get_boolean (configuration, "urlgetlatestversion");
  self->tls_verify = msg_configuration_get_boolean (configuration, "tlsverify");
  /* libsoup counts whole seconds; 0 would mean no limit. */
  self->inactivity_seconds = inactivity > 0 ? (guint) MAX (1.0, inactivity + 0.999) : 0;
  self->operation_seconds = msg_configuration_get_seconds (configuration, "urloperationtimeout");
  if (self->operation_seconds <= 0)
    self->operation_seconds = DEFAULT_OPERATION_SECONDS;
  self->max_resource = get_size_limit (configuration, "urlmaxresourcesize");
  self->max_page = get_size_limit (configuration, "urlmaxpagesize");

  self->session = soup_session_new_with_options ("timeout", self->inactivity_seconds,
                                                 "user-agent", "libmsgobj/" PACKAGE_VERSION,
                                                 "proxy-resolver", resolver, NULL);
  if (ca_file != NULL && ca_file[0] != '\0')
    {
      g_autoptr (GTlsDatabase) database = g_tls_file_database_new (ca_file, NULL);

      /* An unreadable file trusts nothing: every https: fetch fails. */
      if (database == NULL)
        database = g_object_new (G_TYPE_TLS_DATABASE, NULL);
      soup_session_set_tls_database (self->session, database);
    }

  if (cancellable != NULL)
    {
      self->caller_cancellable = g_object_ref (cancellable);
      self->caller_handler = g_cancellable_connect (cancellable, G_CALLBACK (caller_cancelled_cb),
                                                    g_object_ref (self->cancellable),
                                                    g_object_unref);
    }

  self->deadline = g_get_monotonic_time () + (gint64) (self->operation_seconds * G_USEC_PER_SEC);
  /* Without its watchdog a fetch could outlive its deadline: every fetch
   * of this fetcher fails instead (pids.max, ulimit -u). */
  self->watchdog = g_thread_try_new ("msgobj-web-deadline", watchdog_thread, self, &self->watchdog_error);
  if (self->watchdog == NULL)
    g_prefix_error (&self->watchdog_error, "No thread to bound the fetch by its deadline: ");
  return self;
}

/* A failure of the clocks or of the caller's cancellable, or another
 * failure of the exchange with @uri, in words. */
static void
propagate_io_error (MsgWebFetcher *self,
                    const char    *uri,
                    GError        *local_error,
                    GError       **error)
{
  if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
      g_atomic_int_get (&self->deadline_hit))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                   "Fetching %s: the operation took longer than urloperationtimeout (%g s)",
                   uri, self->operation_seconds);
      g_error_free (local_error);
    }
  else if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                   "Fetching %s: nothing received for %u s (urlconnectiontimeout)",
                   uri, self->inactivity_seconds);
      g_error_free (local_error);
    }
  else if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    g_propagate_error (error, local_error);
  else
    {
      g_propagate_error (error, local_error);
      g_prefix_error (error, "Cannot fetch %s: ", uri);
    }
}

static void
set_status_error (const char *uri,
                  guint       status,
                  const char *reason,
                  GError    **error)
{
  MsgMessageError code = MSG_MESSAGE_ERROR_HTTP_FAILED;

  if (status == SOUP_STATUS_NOT_FOUND || status == SOUP_STATUS_GONE)
    code = MSG_MESSAGE_ERROR_HTTP_NOT_FOUND;
  else if (status == SOUP_STATUS_FORBIDDEN || status == SOUP_STATUS_UNAUTHORIZED ||
           status == SOUP_STATUS_PROXY_AUTHENTICATION_REQUIRED)
    code = MSG_MESSAGE_ERROR_HTTP_FORBIDDEN;
  g_set_error (error, MSG_MESSAGE_ERROR, code, "Cannot fetch %s: the server answered %u %s",
               uri, status, reason != NULL ? reason : "");
}

static gboolean
check_size (MsgWebFetcher *self,
            const char    *uri,
            gint64         size,
            gint64         added,
            GError       **error)
{
  if (self->max_resource > 0 && size > self->max_resource)
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_TOO_LARGE,
                   "Cannot fetch %s: larger than urlmaxresourcesize (%" G_GINT64_FORMAT " bytes)",
                   uri, self->max_resource);
      return FALSE;
    }
  if (self->max_page > 0 && self->page_total + added > self->max_page)
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_TOO_LARGE,
                   "Cannot fetch %s: the resources fetched are larger than urlmaxpagesize "
                   "(%" G_GINT64_FORMAT " bytes)",
                   uri, self->max_page);
      return FALSE;
    }
  return TRUE;
}

/* Reads @stream into @resource: in memory up to the threshold (always
 * with @in_memory), then into a temporary file. */
static gboolean
read_body (MsgWebFetcher  *self,
           GInputStream   *stream,
           MsgWebResource *resource,
           gboolean        in_memory,
           GError        **error)
{
  g_autoptr (GByteArray) buffer = g_byte_array_new ();
  g_autoptr (GOutputStream) file = NULL;
  g_autofree guint8 *chunk = g_malloc (CHUNK_SIZE);
  GError            *local_error = NULL;

  for (;;)
    {
      gssize n = g_input_stream_read (stream, chunk, CHUNK_SIZE, self->cancellable, &local_error);

      if (n < 0)
        {
          propagate_io_error (self, resource->uri, local_error, error);
          return FALSE;
        }
      if (n == 0)
        break;
      if (!check_size (self, resource->uri, resource->size + n, n, error))
        return FALSE;
      resource->size += n;
      self->page_total += n;

      if (file == NULL && !in_memory && buffer->len + n > MEMORY_THRESHOLD)
        {
          int fd = g_file_open_tmp ("msgobj-web-XXXXXX", &resource->path, error);

          if (fd < 0)
            return FALSE;
          file = g_unix_output_stream_new (fd, TRUE);
          if (!g_output_stream_write_all (file, buffer->data, buffer->len, NULL, NULL, error))
            return FALSE;
          g_byte_array_set_size (buffer, 0);
        }
      if (file != NULL)
        {
          if (!g_output_stream_write_all (file, chunk, n, NULL, NULL, error))
            return FALSE;
        }
      else
        g_byte_array_append (buffer, chunk, n);
    }

  if (file != NULL)
    return g_output_stream_close (file, NULL, error);
  resource->bytes = g_byte_array_free_to_bytes (g_steal_pointer (&buffer));
  return TRUE;
}

static void
set_content_type (MsgWebResource *resource,
                  const char     *header)
{
  g_autofree char *type = NULL;
  const char      *semi;

  if (header == NULL || header[0] == '\0')
    return;
  semi = strchr (header, ';');
  type = g_strstrip (g_ascii_strdown (header, semi != NULL ? semi - header : -1));
  if (type[0] != '\0')
    resource->content_type = g_steal_pointer (&type);
  if (semi != NULL)
    {
      g_autoptr (GHashTable) params = soup_header_parse_semi_param_list (semi + 1);
      const char *charset = g_hash_table_lookup (params, "charset");

      if (charset != NULL && charset[0] != '\0')
        resource->charset = g_strdup (charset);
    }
}

static gboolean
authenticate_cb (SoupMessage *message,
                 SoupAuth    *auth,
                 gboolean     retrying,
                 gpointer     data)
{
  MsgWebFetcher *self = data;
  GUri          *uri = soup_message_get_uri (message);

  if (retrying || self->user == NULL || soup_auth_is_for_proxy (auth) ||
      g_strcmp0 (g_uri_get_host (uri), self->auth_host) != 0)
    return FALSE;
  soup_auth_authenticate (auth, self->user, self->password != NULL ? self->password : "");
  return TRUE;
}

static unsigned
uri_port (GUri *uri)
{
  int port = g_uri_get_port (uri);

  if (port > 0)
    return port;
  return g_strcmp0 (g_uri_get_scheme (uri), "https") == 0 ? 443 : 80;
}

/* tlsverify=false: any certificate, with a warning (once per
 * operation), as the transports do. */
static gboolean
accept_certificate_cb (SoupMessage         *message,
                       GTlsCertificate     *certificate,
                       GTlsCertificateFlags errors,
                       gpointer             data)
{
  MsgWebFetcher *self = data;

  if (!self->tls_warned)
    {
      g_autofree char *reasons = _msg_tls_describe_certificate_flags (errors);
      GUri            *uri = soup_message_get_uri (message);

      self->tls_warned = TRUE;
      g_warning ("%s:%u: accepting a TLS certificate that failed verification "
                 "(%s) because tlsverify is off: the connection is not "
                 "protected against impostors",
                 g_uri_get_host (uri), uri_port (uri), reasons);
    }
  return TRUE;
}

static SoupMessage *
make_message (MsgWebFetcher *self,
              GUri          *uri)
{
  SoupMessage        *message = soup_message_new_from_uri ("GET", uri);
  SoupMessageHeaders *headers = soup_message_get_request_headers (message);

  soup_message_add_flags (message, SOUP_MESSAGE_NO_REDIRECT);
  if (self->cookies != NULL)
    soup_message_headers_replace (headers, "Cookie", self->cookies);
  if (self->no_cache)
    {
      soup_message_headers_replace (headers, "Cache-Control", "no-cache");
      soup_message_headers_replace (headers, "Pragma", "no-cache");
    }
  g_signal_connect (message, "authenticate", G_CALLBACK (authenticate_cb), self);
  if (!self->tls_verify)
    g_signal_connect (message, "accept-certificate", G_CALLBACK (accept_certificate_cb), self);
  return message;
}

/* Sends a GET for @uri, following redirects; returns the body's stream of
 * a 2xx answer and its message. */
static GInputStream *
send_following_redirects (MsgWebFetcher *self,
                          GUri         **uri,
                          SoupMessage  **out_message,
                          GError       **error)
{
  for (guint redirects = 0;; redirects++)
    {
      g_autoptr (SoupMessage) message = make_message (self, *uri);
      g_autoptr (GInputStream) stream = NULL;
      g_autofree char *shown = g_uri_to_string_partial (*uri, G_URI_HIDE_PASSWORD);
      GError          *local_error = NULL;
      const char      *location;
      guint            status;

      stream = soup_session_send (self->session, message, self->cancellable, &local_error);
      if (stream == NULL &&
          g_error_matches (local_error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE) &&
          soup_message_get_tls_peer_certificate_errors (message) != 0)
        {
          /* The reasons and the fixes, as for the transports. */
          g_error_free (local_error);
          _msg_tls_set_certificate_error (error, g_uri_get_host (*uri), uri_port (*uri),
                                          soup_message_get_tls_peer_certificate_errors (message));
          return NULL;
        }
      if (stream == NULL)
        {
          propagate_io_error (self, shown, local_error, error);
          return NULL;
        }
      status = soup_message_get_status (message);
      if (SOUP_STATUS_IS_SUCCESSFUL (status))
        {
          *out_message = g_steal_pointer (&message);
          return g_steal_pointer (&stream);
        }
      location = soup_message_headers_get_one (soup_message_get_response_headers (message),
                                               "Location");
      g_input_stream_close (stream, NULL, NULL);
      if (!SOUP_STATUS_IS_REDIRECTION (status) || location == NULL)
        {
          set_status_error (shown, status, soup_message_get_reason_phrase (message), error);
          return NULL;
        }
      if (redirects >= MAX_REDIRECTS)
        {
          g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_HTTP_FAILED,
                       "Cannot fetch %s: more than %u redirects", shown, MAX_REDIRECTS);
          return NULL;
        }
      {
        GUri *next = g_uri_parse_relative (*uri, location, SOUP_HTTP_URI_FLAGS, NULL);

        if (next == NULL || (g_strcmp0 (g_uri_get_scheme (next), "http") != 0 &&
                             g_strcmp0 (g_uri_get_scheme (next), "https") != 0))
          {
            g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_HTTP_FAILED,
                         "Cannot fetch %s: it redirects to an invalid URL", shown);
            g_clear_pointer (&next, g_uri_unref);
            return NULL;
          }
        g_uri_unref (*uri);
        *uri = next;
      }
    }
}

static MsgWebResource *
fetch_http (MsgWebFetcher *self,
            const char    *text,
            gboolean       in_memory,
            GError       **error)
{
  g_autoptr (MsgWebResource) resource = g_new0 (MsgWebResource, 1);
  g_autoptr (GUri) uri = g_uri_parse (text, SOUP_HTTP_URI_FLAGS, NULL);
  g_autoptr (SoupMessage) message = NULL;
  g_autoptr (GInputStream) stream = NULL;
  SoupMessageHeaders *headers;
  goffset             length;

  if (uri == NULL || g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0')
    {
      g_autofree char *shown = library->display_uri (text);

      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_HTTP_FAILED,
                   "“%s” is not a valid URL", shown);
      return NULL;
    }
  if (self->auth_host == NULL)
    self->auth_host = g_strdup (g_uri_get_host (uri));

  stream = send_following_redirects (self, &uri, &message, error);
  if (stream == NULL)
    return NULL;

  resource->uri = g_uri_to_string_partial (uri, G_URI_HIDE_PASSWORD | G_URI_HIDE_FRAGMENT);
  headers = soup_message_get_response_headers (message);
  set_content_type (resource, soup_message_headers_get_one (headers, "Content-Type"));
  length = soup_message_headers_get_content_length (headers);
  if (soup_message_headers_get_encoding (headers) == SOUP_ENCODING_CONTENT_LENGTH &&
      !check_size (self, resource->uri, length, length, error))
    return NULL;
  if (!read_body (self, stream, resource, in_memory, error))
    return NULL;
  g_input_stream_close (stream, NULL, NULL);
  return g_steal_pointer (&resource);
}

static MsgWebResource *
fetch_file (MsgWebFetcher *self,
            const char    *text,
            gboolean       in_memory,
            GError       **error)
{
  g_autoptr (MsgWebResource) resource = g_new0 (MsgWebResource, 1);
  g_autoptr (GFile) file = g_file_new_for_uri (text);
  g_autoptr (GFileInputStream) stream = NULL;
  g_autoptr (GFileInfo) info = NULL;
  g_autofree char *path = g_file_get_path (file);
  GError          *local_error = NULL;

  resource->uri = g_file_get_uri (file);
  if (path == NULL)
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_HTTP_FAILED,
                   "“%s” is not a local file URL", text);
      return NULL;
    }
  stream = g_file_read (file, self->cancellable, &local_error);
  if (stream == NULL)
    {
      gboolean missing = g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);

      g_set_error (error, MSG_MESSAGE_ERROR,
                   missing ? MSG_MESSAGE_ERROR_HTTP_NOT_FOUND : MSG_MESSAGE_ERROR_HTTP_FORBIDDEN,
                   "Cannot fetch %s: %s", resource->uri, local_error->message);
      g_error_free (local_error);
      return NULL;
    }
  info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_CONTENT_TYPE, G_FILE_QUERY_INFO_NONE,
                            NULL, NULL);
  if (info != NULL && g_file_info_get_content_type (info) != NULL)
    {
      g_autofree char *mime = g_content_type_get_mime_type (g_file_info_get_content_type (info));

      resource->content_type = g_steal_pointer (&mime);
    }
  if (!read_body (self, G_INPUT_STREAM (stream), resource, in_memory, error))
    return NULL;
  return g_steal_pointer (&resource);
}

static MsgWebResource *
fetcher_fetch (MsgWebFetcher *self,
               const char    *uri,
               gboolean       allow_file,
               gboolean       in_memory,
               GError       **error)
{
  g_autofree char *scheme = NULL;
  g_autofree char *shown = NULL;

  g_return_val_if_fail (MSG_IS_WEB_FETCHER (self), NULL);
  g_return_val_if_fail (uri != NULL, NULL);

  if (self->watchdog_error != NULL)
    {
      g_propagate_error (error, g_error_copy (self->watchdog_error));
      return NULL;
    }
  shown = library->display_uri (uri);
  if (g_cancellable_is_cancelled (self->cancellable))
    {
      propagate_io_error (self, shown,
                          g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED,
                                               "Operation was cancelled"),
                          error);
      return NULL;
    }

  scheme = g_uri_parse_scheme (uri);
  if (scheme != NULL && g_ascii_strcasecmp (scheme, "file") == 0)
    {
      if (!allow_file)
        {
          g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_HTTP_FORBIDDEN,
                       "Cannot fetch %s: a web page cannot refer to local files", shown);
          return NULL;
        }
      return fetch_file (self, uri, in_memory, error);
    }
  if (scheme == NULL ||
      (g_ascii_strcasecmp (scheme, "http") != 0 && g_ascii_strcasecmp (scheme, "https") != 0))
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_HTTP_FAILED,
                   "Cannot fetch “%s”: only http:, https: and file: URLs are supported", shown);
      return NULL;
    }
  return fetch_http (self, uri, in_memory, error);
}

G_MODULE_EXPORT gconstpointer msg_optional_module_get_table (const char   *version,
                                                             gconstpointer host);

gconstpointer
msg_optional_module_get_table (const char   *version,
                               gconstpointer host)
{
  static const MsgWebModule table = {
    fetcher_new,
    fetcher_fetch,
    fetcher_close,
  };

  if (!g_str_equal (version, PACKAGE_VERSION))
    return NULL;
  library = host;
  return &table;
}
