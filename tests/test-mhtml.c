/* test-mhtml.c: CreateMHTMLBody and attachments from URLs, against local
 * HTTP servers: a SoupServer (pages, resources, redirects, errors, basic
 * authentication, a proxy) and a raw socket server whose answers stall,
 * drip or are 200 MiB long, which sees when the client closes.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-utils.h"

#include "msg-html-links-private.h"

#include <glib/gstdio.h>
#include <gmime/gmime.h>
#include <libsoup/soup.h>
#include <string.h>
#include <sys/resource.h>

/* Timing bounds are generous and scaled by MSGOBJ_TEST_TIME_SCALE
 * (msg_test_time_scale()): the machine running the tests is shared, and
 * valgrind runs everything many times slower. */
static double scale = 1.0;

/* ---- The SoupServer, in a thread of its own ---- */

typedef struct
{
  GThread         *thread;
  GMainContext    *context;
  GMainLoop       *loop;
  SoupServer      *server;
  SoupServer      *proxy;
  GTlsCertificate *certificate; /* (nullable): serve https: */
  char            *base;        /* http://127.0.0.1:PORT/ */
  char            *proxy_host;  /* 127.0.0.1:PORT */

  GMutex      lock;
  GCond       cond;
  gboolean    ready;
  GHashTable *hits; /* path → count */
  guint       requests;
  guint       with_cookie;
  guint       with_no_cache;
  char       *proxy_uri; /* the last request the proxy got */
} WebServer;

static const char *const PAGE =
    "<html><head><title>Page</title>\n"
    "<link rel=\"stylesheet\" href=\"css/main.css\">\n"
    "<script src=\"js/app.js\"></script>\n"
    "<style>h1 { background: url(\"img/f.png\") }</style>\n"
    "</head>\n"
    "<body background=\"img/bg.png\">\n"
    "<h1>Hello &amp; welcome</h1>\n"
    "<img src=\"img/a.png\" alt=\"a\"><IMG SRC='img/a.png?x=1&amp;y=2'>\n"
    "<div style=\"background-image: url(img/c.png)\">styled</div>\n"
    "<iframe src=\"frame.html\"></iframe>\n"
    "<img src=\"/redirect-a\">\n"
    "<a href=\"other.html\">a link</a>\n"
    "<img src=\"cid:kept@example\">\n"
    "<img src=\"data:image/png;base64,AAAA\">\n"
    "<!-- <img src=\"img/commented.png\"> -->\n"
    "</body></html>\n";

/* The related parts PAGE makes: main.css, sub.css, app.js, f.png, bg.png,
 * a.png, a.png?x=1&y=2, c.png, frame.html, e.png (in the frame),
 * redirect-a, b.png (in main.css), d.png (in sub.css). */
#define PAGE_PARTS 13

static const struct
{
  const char *path;
  const char *type;
  const char *body;
} CONTENT[] = {
  { "/page.html", "text/html; charset=utf-8", NULL },
  { "/css/main.css", "text/css", "@import \"sub.css\";\nbody { background: url('../img/b.png') }\n" },
  { "/css/sub.css", "text/css", "@import url(main.css);\n.x { background-image: url( \"../img/d.png\" ) }\n" },
  { "/frame.html", "text/html", "<p>frame<img src=\"img/a.png\"><img src=\"/img/e.png\"></p>" },
  { "/js/app.js", "application/javascript", "console.log('app');\n" },
  { "/missing.html", "text/html", "<img src=\"img/404.png\"><img src=\"img/a.png\">" },
  { "/loop.html", "text/html", "<img src=\"/loop\">" },
  { "/evil.html", "text/html", "<img src=\"file:///etc/hostname\">" },
  { "/private/doc.txt", "text/plain", "secret document\n" },
  { "/forbidden.png", NULL, NULL },
};

static void
server_cb (SoupServer        *server,
           SoupServerMessage *message,
           const char        *path,
           GHashTable        *query,
           gpointer           data)
{
  WebServer          *ws = data;
  SoupMessageHeaders *request = soup_server_message_get_request_headers (message);
  SoupMessageHeaders *response = soup_server_message_get_response_headers (message);
  const char         *cookie = soup_message_headers_get_one (request, "Cookie");
  const char         *cache = soup_message_headers_get_one (request, "Cache-Control");
  const char         *pragma = soup_message_headers_get_one (request, "Pragma");

  g_mutex_lock (&ws->lock);
  g_hash_table_insert (ws->hits, g_strdup (path),
                       GUINT_TO_POINTER (GPOINTER_TO_UINT (g_hash_table_lookup (ws->hits, path)) + 1));
  ws->requests++;
  if (g_strcmp0 (cookie, "session=abc; theme=dark") == 0)
    ws->with_cookie++;
  if (g_strcmp0 (cache, "no-cache") == 0 && g_strcmp0 (pragma, "no-cache") == 0)
    ws->with_no_cache++;
  g_mutex_unlock (&ws->lock);

  if (strcmp (path, "/loop") == 0 || strcmp (path, "/loop2") == 0 || strcmp (path, "/redirect-a") == 0)
    {
      soup_server_message_set_redirect (message, SOUP_STATUS_FOUND,
                                        strcmp (path, "/loop") == 0    ? "/loop2"
                                        : strcmp (path, "/loop2") == 0 ? "/loop"
                                                                       : "/img/a.png");
      return;
    }
  if (strcmp (path, "/forbidden.png") == 0)
    {
      soup_server_message_set_status (message, SOUP_STATUS_FORBIDDEN, NULL);
      return;
    }
  if (g_str_has_prefix (path, "/img/") && strcmp (path, "/img/404.png") != 0)
    {
      char *body = g_strdup_printf ("PNG %s", path);

      soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
      soup_server_message_set_response (message, "image/png", SOUP_MEMORY_TAKE, body, strlen (body));
      return;
    }
  for (guint i = 0; i < G_N_ELEMENTS (CONTENT); i++)
    {
      const char *body = CONTENT[i].body != NULL ? CONTENT[i].body : PAGE;

      if (strcmp (path, CONTENT[i].path) == 0)
        {
          soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
          soup_server_message_set_response (message, CONTENT[i].type, SOUP_MEMORY_STATIC, body,
                                            strlen (body));
          return;
        }
    }
  soup_message_headers_replace (response, "X-Test", "missing");
  soup_server_message_set_status (message, SOUP_STATUS_NOT_FOUND, NULL);
}

static void
proxy_cb (SoupServer        *server,
          SoupServerMessage *message,
          const char        *path,
          GHashTable        *query,
          gpointer           data)
{
  WebServer  *ws = data;
  const char *body = "<html><body>via proxy</body></html>";

  g_mutex_lock (&ws->lock);
  g_free (ws->proxy_uri);
  ws->proxy_uri = g_uri_to_string (soup_server_message_get_uri (message));
  g_mutex_unlock (&ws->lock);
  soup_server_message_set_status (message, SOUP_STATUS_OK, NULL);
  soup_server_message_set_response (message, "text/html", SOUP_MEMORY_STATIC, body, strlen (body));
}

static gboolean
auth_cb (SoupAuthDomain    *domain,
         SoupServerMessage *message,
         const char        *user,
         const char        *password,
         gpointer           data)
{
  return strcmp (user, "ann") == 0 && strcmp (password, "s3cret") == 0;
}

static char *
listen_local (SoupServer *server,
              gboolean    https)
{
  g_autoptr (GError) error = NULL;
  GSList *uris;
  char   *text;

  g_assert_true (soup_server_listen_local (server, 0,
                                           SOUP_SERVER_LISTEN_IPV4_ONLY |
                                               (https ? SOUP_SERVER_LISTEN_HTTPS : 0),
                                           &error));
  g_assert_no_error (error);
  uris = soup_server_get_uris (server);
  text = g_strdup_printf ("127.0.0.1:%d", g_uri_get_port (uris->data));
  g_slist_free_full (uris, (GDestroyNotify) g_uri_unref);
  return text;
}

static gpointer
web_server_thread (gpointer data)
{
  WebServer *ws = data;
  g_autoptr (SoupAuthDomain) domain = NULL;
  g_autofree char *host = NULL;

  g_main_context_push_thread_default (ws->context);
  ws->server = soup_server_new ("tls-certificate", ws->certificate, NULL);
  soup_server_add_handler (ws->server, NULL, server_cb, ws, NULL);
  domain = soup_auth_domain_basic_new ("realm", "msgobj", NULL);
  soup_auth_domain_add_path (domain, "/private");
  soup_auth_domain_basic_set_auth_callback (domain, auth_cb, NULL, NULL);
  soup_server_add_auth_domain (ws->server, domain);
  host = listen_local (ws->server, ws->certificate != NULL);
  ws->proxy = soup_server_new (NULL, NULL);
  soup_server_add_handler (ws->proxy, NULL, proxy_cb, ws, NULL);

  g_mutex_lock (&ws->lock);
  ws->base = g_strdup_printf ("%s://%s/", ws->certificate != NULL ? "https" : "http", host);
  ws->proxy_host = listen_local (ws->proxy, FALSE);
  ws->ready = TRUE;
  g_cond_signal (&ws->cond);
  g_mutex_unlock (&ws->lock);

  g_main_loop_run (ws->loop);
  soup_server_disconnect (ws->server);
  soup_server_disconnect (ws->proxy);
  g_clear_object (&ws->server);
  g_clear_object (&ws->proxy);
  /* What the closed connections left to do, so that they are freed. */
  while (g_main_context_iteration (ws->context, FALSE))
    ;
  g_main_context_pop_thread_default (ws->context);
  return NULL;
}

static WebServer *
web_server_start_full (GTlsCertificate *certificate)
{
  WebServer *ws = g_new0 (WebServer, 1);

  ws->certificate = certificate != NULL ? g_object_ref (certificate) : NULL;

  g_mutex_init (&ws->lock);
  g_cond_init (&ws->cond);
  ws->hits = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  ws->context = g_main_context_new ();
  ws->loop = g_main_loop_new (ws->context, FALSE);
  ws->thread = g_thread_new ("test-web-server", web_server_thread, ws);
  g_mutex_lock (&ws->lock);
  while (!ws->ready)
    g_cond_wait (&ws->cond, &ws->lock);
  g_mutex_unlock (&ws->lock);
  return ws;
}

static WebServer *
web_server_start (void)
{
  return web_server_start_full (NULL);
}

static gboolean
quit_cb (gpointer data)
{
  g_main_loop_quit (data);
  return G_SOURCE_REMOVE;
}

static void
web_server_stop (WebServer *ws)
{
  g_main_context_invoke (ws->context, quit_cb, ws->loop);
  g_thread_join (ws->thread);
  g_main_loop_unref (ws->loop);
  g_main_context_unref (ws->context);
  g_hash_table_unref (ws->hits);
  g_clear_object (&ws->certificate);
  g_free (ws->base);
  g_free (ws->proxy_host);
  g_free (ws->proxy_uri);
  g_mutex_clear (&ws->lock);
  g_cond_clear (&ws->cond);
  g_free (ws);
}

static guint
hits (WebServer  *ws,
      const char *path)
{
  guint n;

  g_mutex_lock (&ws->lock);
  n = GPOINTER_TO_UINT (g_hash_table_lookup (ws->hits, path));
  g_mutex_unlock (&ws->lock);
  return n;
}

static char *
url (WebServer  *ws,
     const char *path)
{
  return g_strconcat (ws->base, path, NULL);
}

/* ---- The raw server: answers that stall, drip or are huge ---- */

#define BIG_SIZE (200 * 1024 * 1024)

typedef struct
{
  GSocket      *listener;
  GCancellable *cancellable;
  GThread      *thread;
  GPtrArray    *handlers; /* GThread */
  char         *base;
  GMutex        lock;
  GCond         cond;
  guint         accepted;
  guint         closed; /* connections whose peer the server saw close */
  guint         stall_requests;
} RawServer;

typedef struct
{
  RawServer *rs;
  GSocket   *socket;
} RawConnection;

static gboolean
raw_send (GSocket    *socket,
          const char *data,
          gsize       length)
{
  while (length > 0)
    {
      gssize n = g_socket_send (socket, data, length, NULL, NULL);

      if (n <= 0)
        return FALSE;
      data += n;
      length -= n;
    }
  return TRUE;
}

/* Reads a request head; returns its path, or NULL at the end. */
static char *
raw_read_request (GSocket *socket)
{
  GString *head = g_string_new (NULL);
  char     c;

  while (strstr (head->str, "\r\n\r\n") == NULL)
    {
      if (g_socket_receive (socket, &c, 1, NULL, NULL) != 1)
        {
          g_string_free (head, TRUE);
          return NULL;
        }
      g_string_append_c (head, c);
    }
  {
    g_auto (GStrv) words = g_strsplit (head->str, " ", 3);
    char *path = g_strv_length (words) >= 2 ? g_strdup (words[1]) : NULL;

    g_string_free (head, TRUE);
    return path;
  }
}

static void
raw_wait_for_close (RawConnection *rc)
{
  char buffer[256];

  /* Whatever the client sends until it closes (the socket's own time-out
   * bounds a client that never does). */
  while (g_socket_receive (rc->socket, buffer, sizeof buffer, NULL, NULL) > 0)
    ;
}

static void
raw_answer (RawConnection *rc,
            const char    *path)
{
  g_autofree char *head = NULL;

  if (g_str_has_suffix (path, ".html"))
    {
      g_autofree char *body = g_strdup_printf ("<p><img src=\"/%.*s\"></p>",
                                               (int) (strlen (path) - 6), path + 1);

      head = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %zu\r\n"
                              "Connection: close\r\n\r\n%s",
                              strlen (body), body);
      raw_send (rc->socket, head, strlen (head));
      return;
    }
  if (strcmp (path, "/stall") == 0)
    {
      g_mutex_lock (&rc->rs->lock);
      rc->rs->stall_requests++;
      g_mutex_unlock (&rc->rs->lock);
      head = g_strdup ("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 100\r\n\r\n0123456789");
      raw_send (rc->socket, head, strlen (head));
      raw_wait_for_close (rc);
    }
  else if (strcmp (path, "/drip") == 0)
    {
      head = g_strdup ("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: 100000\r\n\r\n");
      if (raw_send (rc->socket, head, strlen (head)))
        {
          /* One byte every 100 ms: never inactive for long, never done. */
          for (guint i = 0; i < 100000 && raw_send (rc->socket, "x", 1); i++)
            g_usleep (100 * 1000);
        }
    }
  else if (strcmp (path, "/big") == 0)
    {
      g_autofree char *chunk = g_malloc0 (64 * 1024);

      head = g_strdup_printf ("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                              "Content-Length: %d\r\n\r\n",
                              BIG_SIZE);
      if (raw_send (rc->socket, head, strlen (head)))
        {
          for (gsize sent = 0; sent < BIG_SIZE && raw_send (rc->socket, chunk, 64 * 1024);)
            sent += 64 * 1024;
        }
      raw_wait_for_close (rc);
    }
}

static gpointer
raw_connection_thread (gpointer data)
{
  RawConnection   *rc = data;
  g_autofree char *path = raw_read_request (rc->socket);

  if (path != NULL)
    raw_answer (rc, path);
  raw_wait_for_close (rc);
  g_socket_close (rc->socket, NULL);
  g_mutex_lock (&rc->rs->lock);
  rc->rs->closed++;
  g_cond_broadcast (&rc->rs->cond);
  g_mutex_unlock (&rc->rs->lock);
  g_object_unref (rc->socket);
  g_free (rc);
  return NULL;
}

static gpointer
raw_accept_thread (gpointer data)
{
  RawServer *rs = data;

  for (;;)
    {
      GSocket       *socket = g_socket_accept (rs->listener, rs->cancellable, NULL);
      RawConnection *rc;

      if (socket == NULL)
        return NULL;
      g_socket_set_blocking (socket, TRUE);
      g_socket_set_timeout (socket, 60);
      rc = g_new0 (RawConnection, 1);
      rc->rs = rs;
      rc->socket = socket;
      g_mutex_lock (&rs->lock);
      rs->accepted++;
      g_ptr_array_add (rs->handlers, g_thread_new ("test-raw-connection", raw_connection_thread, rc));
      g_mutex_unlock (&rs->lock);
    }
}

static RawServer *
raw_server_start (void)
{
  RawServer *rs = g_new0 (RawServer, 1);
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr (GSocketAddress) bound = NULL;
  g_autoptr (GError) error = NULL;

  g_mutex_init (&rs->lock);
  g_cond_init (&rs->cond);
  rs->handlers = g_ptr_array_new ();
  rs->cancellable = g_cancellable_new ();
  rs->listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (rs->listener, address, TRUE, &error));
  g_assert_true (g_socket_listen (rs->listener, &error));
  g_assert_no_error (error);
  bound = g_socket_get_local_address (rs->listener, &error);
  g_assert_no_error (error);
  rs->base = g_strdup_printf ("http://127.0.0.1:%u/",
                              g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  rs->thread = g_thread_new ("test-raw-server", raw_accept_thread, rs);
  return rs;
}

/* Waits (bounded) until the server saw every connection closed. */
static void
raw_server_assert_all_closed (RawServer *rs)
{
  gint64 until = g_get_monotonic_time () + (gint64) (10 * G_USEC_PER_SEC * scale);

  g_mutex_lock (&rs->lock);
  while (rs->closed < rs->accepted && g_cond_wait_until (&rs->cond, &rs->lock, until))
    ;
  g_assert_cmpuint (rs->closed, ==, rs->accepted);
  g_mutex_unlock (&rs->lock);
}

static void
raw_server_stop (RawServer *rs)
{
  raw_server_assert_all_closed (rs);
  g_cancellable_cancel (rs->cancellable);
  g_thread_join (rs->thread);
  for (guint i = 0; i < rs->handlers->len; i++)
    g_thread_join (g_ptr_array_index (rs->handlers, i));
  g_ptr_array_unref (rs->handlers);
  g_socket_close (rs->listener, NULL);
  g_object_unref (rs->listener);
  g_object_unref (rs->cancellable);
  g_free (rs->base);
  g_mutex_clear (&rs->lock);
  g_cond_clear (&rs->cond);
  g_free (rs);
}

/* ---- Reading the message back ---- */

typedef struct
{
  GHashTable *ids;       /* Content-ID → TRUE */
  GHashTable *locations; /* Content-Location → TRUE */
  GString    *texts;     /* the HTML and CSS, decoded */
  guint       related_children;
  guint       leaves;
} Tree;

static char *
decoded_text (GMimePart *part)
{
  GMimeStream *stream = g_mime_stream_mem_new ();
  GByteArray  *array;
  char        *text;

  g_mime_data_wrapper_write_to_stream (g_mime_part_get_content (part), stream);
  array = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (stream));
  text = g_strndup ((const char *) array->data, array->len);
  g_object_unref (stream);
  return text;
}

static void
tree_visit_cb (GMimeObject *parent,
               GMimeObject *object,
               gpointer     data)
{
  Tree             *tree = data;
  GMimeContentType *type = g_mime_object_get_content_type (object);

  if (GMIME_IS_MULTIPART (object) && g_mime_content_type_is_type (type, "multipart", "related"))
    tree->related_children += g_mime_multipart_get_count (GMIME_MULTIPART (object));
  if (!GMIME_IS_PART (object))
    return;
  tree->leaves++;
  if (g_mime_object_get_content_id (object) != NULL)
    g_hash_table_add (tree->ids, g_strdup (g_mime_object_get_content_id (object)));
  if (g_mime_part_get_content_location (GMIME_PART (object)) != NULL)
    g_hash_table_add (tree->locations, g_strdup (g_mime_part_get_content_location (GMIME_PART (object))));
  if (g_mime_content_type_is_type (type, "text", "html") ||
      g_mime_content_type_is_type (type, "text", "css"))
    {
      g_autofree char *text = decoded_text (GMIME_PART (object));

      g_string_append (tree->texts, text);
      g_string_append_c (tree->texts, '\n');
    }
}

static void
tree_clear (Tree *tree)
{
  g_hash_table_unref (tree->ids);
  g_hash_table_unref (tree->locations);
  g_string_free (tree->texts, TRUE);
}

static void
read_tree (MsgMessage *message,
           Tree       *tree)
{
  g_autoptr (GBytes) bytes = msg_message_to_bytes (message, NULL);
  GMimeStream  *stream;
  GMimeParser  *parser;
  GMimeMessage *mime;
  gsize         length = 0;
  const char   *data;

  g_assert_nonnull (bytes);
  data = g_bytes_get_data (bytes, &length);
  stream = g_mime_stream_mem_new_with_buffer (data, length);
  parser = g_mime_parser_new_with_stream (stream);
  mime = g_mime_parser_construct_message (parser, NULL);
  g_assert_nonnull (mime);
  tree->ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  tree->locations = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  tree->texts = g_string_new (NULL);
  g_mime_message_foreach (mime, tree_visit_cb, tree);
  g_object_unref (mime);
  g_object_unref (parser);
  g_object_unref (stream);
}

/* Every cid: reference in the HTML and CSS names a part of the message;
 * returns how many distinct ones there are. */
static guint
assert_cids_exist (Tree *tree)
{
  g_autoptr (GRegex) regex = g_regex_new ("cid:([^\"')\\s>]+)", 0, 0, NULL);
  g_autoptr (GMatchInfo) match = NULL;
  g_autoptr (GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);

  g_regex_match (regex, tree->texts->str, 0, &match);
  while (g_match_info_matches (match))
    {
      g_autofree char *id = g_match_info_fetch (match, 1);

      if (strcmp (id, "kept@example") != 0)
        {
          if (!g_hash_table_contains (tree->ids, id))
            g_error ("cid:%s refers to no part", id);
          g_hash_table_add (seen, g_steal_pointer (&id));
        }
      g_match_info_next (match, NULL);
    }
  return g_hash_table_size (seen);
}

static MsgConfiguration *
make_configuration (const char *first_name,
                    ...)
{
  MsgConfiguration *configuration = msg_configuration_new ();
  const char       *name = first_name;
  va_list           args;

  va_start (args, first_name);
  while (name != NULL)
    {
      const char *value = va_arg (args, const char *);
      g_autoptr (GError) error = NULL;

      g_assert_true (msg_configuration_set_field (configuration, name, value, &error));
      g_assert_no_error (error);
      name = va_arg (args, const char *);
    }
  va_end (args);
  return configuration;
}

static MsgMessage *
make_message (MsgConfiguration *configuration)
{
  MsgMessage *message = msg_message_new_with_configuration (configuration);

  g_assert_true (msg_message_set_from (message, "ann@example.test", NULL));
  g_assert_true (msg_message_set_to (message, "bob@example.test", NULL));
  return message;
}

/* ---- Tests ---- */

static void
test_page (void)
{
  WebServer *ws = web_server_start ();
  g_autoptr (MsgMessage) message = make_message (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *page = url (ws, "page.html");
  g_autofree char *html = NULL;
  g_autofree char *text = NULL;
  Tree             tree = { 0 };

  g_assert_true (msg_message_create_mhtml_body (message, page, MSG_MHTML_SUPPRESS_NONE, NULL, NULL,
                                                NULL, &error));
  g_assert_no_error (error);

  html = msg_message_get_html_body (message);
  /* Every reference to a resource is rewritten (but in the comment); the
   * others are not. */
  {
    g_autofree char *live = g_strndup (html, strstr (html, "<!--") - html);

    for (const char *p = strstr (live, "src="); p != NULL; p = strstr (p + 1, "src="))
      g_assert_true (g_str_has_prefix (p + 5, "cid:") || g_str_has_prefix (p + 5, "data:"));
  }
  g_assert_nonnull (strstr (html, "background=\"cid:"));
  g_assert_nonnull (strstr (html, "href=\"cid:"));
  g_assert_nonnull (strstr (html, "href=\"other.html\""));
  g_assert_nonnull (strstr (html, "cid:kept@example"));
  g_assert_nonnull (strstr (html, "<!-- <img src=\"img/commented.png\"> -->"));
  g_assert_null (strstr (html, "url(img/"));
  g_assert_null (strstr (html, "url(\"img/"));
  text = msg_message_get_text_body (message);
  g_assert_nonnull (strstr (text, "Hello & welcome"));

  /* Each resource fetched once, the commented one and the link not. */
  for (const char *const *p = (const char *const[]){ "/img/b.png", "/img/c.png", "/img/d.png",
                                                     "/img/e.png", "/img/f.png", "/img/bg.png",
                                                     "/css/main.css", "/css/sub.css",
                                                     "/frame.html", "/js/app.js", NULL };
       *p != NULL; p++)
    g_assert_cmpuint (hits (ws, *p), ==, 1);
  g_assert_cmpuint (hits (ws, "/img/commented.png"), ==, 0);
  g_assert_cmpuint (hits (ws, "/other.html"), ==, 0);

  read_tree (message, &tree);
  g_assert_cmpuint (tree.related_children, ==, 1 + PAGE_PARTS);
  g_assert_cmpuint (g_hash_table_size (tree.ids), ==, PAGE_PARTS);
  g_assert_cmpuint (assert_cids_exist (&tree), ==, PAGE_PARTS);
  tree_clear (&tree);
  web_server_stop (ws);
}

static void
test_content_location (void)
{
  WebServer *ws = web_server_start ();
  g_autoptr (MsgMessage) message = make_message (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *page = url (ws, "page.html");
  g_autofree char *image = url (ws, "img/a.png");
  g_autofree char *quoted = g_strdup_printf ("src=\"%s\"", image);
  g_autofree char *html = NULL;
  Tree             tree = { 0 };

  g_assert_true (msg_message_create_mhtml_body (message, page, MSG_MHTML_USE_CONTENT_LOCATION,
                                                NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  html = msg_message_get_html_body (message);
  g_assert_nonnull (strstr (html, quoted));
  g_assert_null (strstr (html, "cid:part"));

  read_tree (message, &tree);
  g_assert_cmpuint (g_hash_table_size (tree.ids), ==, 0);
  g_assert_cmpuint (g_hash_table_size (tree.locations), ==, PAGE_PARTS);
  g_assert_true (g_hash_table_contains (tree.locations, image));
  tree_clear (&tree);
  web_server_stop (ws);
}

static void
test_suppress (void)
{
  WebServer       *ws = web_server_start ();
  g_autofree char *page = url (ws, "page.html");
  struct
  {
    MsgMHTMLFlags flags;
    guint         parts;
  } cases[] = {
    { MSG_MHTML_SUPPRESS_ALL, 0 },
    /* main.css, sub.css, app.js */
    { MSG_MHTML_SUPPRESS_IMAGES | MSG_MHTML_SUPPRESS_FRAMES, 3 },
    /* PAGE_PARTS less the style sheets and b.png and d.png they show */
    { MSG_MHTML_SUPPRESS_STYLE_SHEETS, PAGE_PARTS - 4 },
    { MSG_MHTML_SUPPRESS_OBJECTS, PAGE_PARTS - 1 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (MsgMessage) message = make_message (NULL);
      g_autoptr (GError) error = NULL;
      g_autofree char *html = NULL;
      Tree             tree = { 0 };

      g_assert_true (msg_message_create_mhtml_body (message, page, cases[i].flags, NULL, NULL, NULL,
                                                    &error));
      g_assert_no_error (error);
      html = msg_message_get_html_body (message);
      if (cases[i].flags == MSG_MHTML_SUPPRESS_ALL)
        g_assert_cmpstr (html, ==, PAGE);
      read_tree (message, &tree);
      g_assert_cmpuint (g_hash_table_size (tree.ids), ==, cases[i].parts);
      g_assert_cmpuint (assert_cids_exist (&tree), ==, cases[i].parts);
      tree_clear (&tree);
    }
  web_server_stop (ws);
}

/* CDO fails on a resource it cannot fetch; MSG_MHTML_SKIP_MISSING leaves
 * it as a link instead. */
static void
test_not_found (void)
{
  WebServer *ws = web_server_start ();
  g_autoptr (MsgMessage) message = make_message (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *page = url (ws, "missing.html");
  g_autofree char *html = NULL;

  g_assert_false (msg_message_create_mhtml_body (message, page, 0, NULL, NULL, NULL, &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_HTTP_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "/img/404.png"));
  g_assert_nonnull (strstr (error->message, "404"));
  html = msg_message_get_html_body (message);
  g_assert_null (html); /* unchanged */
  g_clear_error (&error);

  g_assert_true (msg_message_create_mhtml_body (message, page, MSG_MHTML_SKIP_MISSING, NULL, NULL,
                                                NULL, &error));
  g_assert_no_error (error);
  html = msg_message_get_html_body (message);
  g_assert_nonnull (strstr (html, "src=\"img/404.png\""));
  g_assert_null (strstr (html, "src=\"img/a.png\""));
  g_clear_pointer (&html, g_free);
  g_clear_object (&message);

  /* The page itself. */
  message = make_message (NULL);
  g_free (page);
  page = url (ws, "nothing.html");
  g_assert_false (msg_message_create_mhtml_body (message, page, 0, NULL, NULL, NULL, &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_HTTP_NOT_FOUND);
  g_clear_error (&error);

  g_free (page);
  page = url (ws, "forbidden.png");
  g_assert_null (msg_message_add_attachment_url (message, page, NULL, NULL, NULL, &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_HTTP_FORBIDDEN);
  web_server_stop (ws);
}

static void
test_redirect_loop (void)
{
  WebServer *ws = web_server_start ();
  g_autoptr (MsgMessage) message = make_message (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *page = url (ws, "loop.html");

  g_assert_false (msg_message_create_mhtml_body (message, page, 0, NULL, NULL, NULL, &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_HTTP_FAILED);
  g_assert_nonnull (strstr (error->message, "redirects"));
  /* The first request and 10 redirects. */
  g_assert_cmpuint (hits (ws, "/loop") + hits (ws, "/loop2"), ==, 11);
  web_server_stop (ws);
}

/* A web page cannot pull local files into a message. */
static void
test_file_from_web_refused (void)
{
  WebServer *ws = web_server_start ();
  g_autoptr (MsgMessage) message = make_message (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *page = url (ws, "evil.html");
  g_autofree char *html = NULL;

  g_assert_false (msg_message_create_mhtml_body (message, page, 0, NULL, NULL, NULL, &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_HTTP_FORBIDDEN);
  g_clear_error (&error);
  g_assert_true (msg_message_create_mhtml_body (message, page, MSG_MHTML_SKIP_MISSING, NULL, NULL,
                                                NULL, &error));
  g_assert_no_error (error);
  html = msg_message_get_html_body (message);
  g_assert_nonnull (strstr (html, "file:///etc/hostname"));
  web_server_stop (ws);
}

static void
test_file_urls (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *page_path = g_build_filename (dir, "page.html", NULL);
  g_autofree char *css_path = g_build_filename (dir, "style.css", NULL);
  g_autofree char *png_path = g_build_filename (dir, "pic.png", NULL);
  g_autofree char *page = g_filename_to_uri (page_path, NULL, NULL);
  g_autoptr (MsgMessage) message = make_message (NULL);
  g_autoptr (GError) error = NULL;
  Tree tree = { 0 };

  g_autofree char *spaced_path = g_build_filename (dir, "my pic.png", NULL);

  /* A name with a blank, written as browsers accept it. */
  g_assert_true (g_file_set_contents (page_path,
                                      "<link rel=stylesheet href=style.css><img src=pic.png>"
                                      "<img src=\"my pic.png\">",
                                      -1, NULL));
  g_assert_true (g_file_set_contents (spaced_path, "GIF89a", -1, NULL));
  g_assert_true (g_file_set_contents (css_path, "p { background: url(pic.png) }", -1, NULL));
  g_assert_true (g_file_set_contents (png_path, "\x89PNG\r\n\x1a\n", -1, NULL));

  g_assert_true (msg_message_create_mhtml_body (message, page, 0, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  read_tree (message, &tree);
  g_assert_cmpuint (g_hash_table_size (tree.ids), ==, 3);
  g_assert_cmpuint (assert_cids_exist (&tree), ==, 3);
  tree_clear (&tree);

  /* A local path works too; a missing file is "not found". */
  g_clear_object (&message);
  message = make_message (NULL);
  g_assert_true (msg_message_create_mhtml_body (message, page_path, 0, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_remove (png_path) == 0);
  g_assert_false (msg_message_create_mhtml_body (message, page, 0, NULL, NULL, NULL, &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_HTTP_NOT_FOUND);
  msg_test_remove_tree (dir);
}

/* urlmaxpagesize bounds the sum of a page's resources; urlmaxresourcesize
 * bounds one also while it is read (a file has no Content-Length). */
static void
test_size_limits (void)
{
  WebServer       *ws = web_server_start ();
  g_autofree char *page = url (ws, "page.html");
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "page.html", NULL);

  {
    /* The page fits, not with its resources (some 400 bytes more). */
    g_autofree char *limit = g_strdup_printf ("%zu", strlen (PAGE) + 100);
    g_autoptr (MsgConfiguration) configuration = make_configuration ("urlmaxpagesize", limit, NULL);
    g_autoptr (MsgMessage) message = make_message (configuration);
    g_autoptr (GError) error = NULL;

    g_assert_false (msg_message_create_mhtml_body (message, page, 0, NULL, NULL, NULL, &error));
    g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_TOO_LARGE);
    g_assert_nonnull (strstr (error->message, "urlmaxpagesize"));
  }
  {
    g_autoptr (MsgConfiguration) configuration = make_configuration ("urlmaxresourcesize", "10", NULL);
    g_autoptr (MsgMessage) message = make_message (configuration);
    g_autoptr (GError) error = NULL;

    g_assert_true (g_file_set_contents (path, "<p>more than ten bytes</p>", -1, NULL));
    g_assert_false (msg_message_create_mhtml_body (message, path, 0, NULL, NULL, NULL, &error));
    g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_TOO_LARGE);
    g_assert_nonnull (strstr (error->message, "urlmaxresourcesize"));
  }
  msg_test_remove_tree (dir);
  web_server_stop (ws);
}

static void
test_basic_auth (void)
{
  WebServer *ws = web_server_start ();
  g_autoptr (MsgMessage) message = make_message (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *doc = url (ws, "private/doc.txt");
  g_autofree char *text = NULL;
  MsgBodyPart     *part;

  g_assert_null (msg_message_add_attachment_url (message, doc, NULL, NULL, NULL, &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_HTTP_FORBIDDEN);
  g_clear_error (&error);
  g_assert_null (msg_message_add_attachment_url (message, doc, "ann", "wrong", NULL, &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_HTTP_FORBIDDEN);
  g_assert_null (strstr (error->message, "wrong"));
  g_clear_error (&error);

  /* A password in a URL never shows in an error. */
  {
    g_autofree char *with_password = g_strdup_printf ("http://ann:s3cret@%s", ws->base + 7);
    g_autofree char *missing = g_strconcat (with_password, "img/404.png", NULL);
    g_autofree char *bad_scheme = g_strdup ("ftp://ann:s3cret@example.invalid/x");
    g_autofree char *bad_url = g_strdup ("http://ann:s3cret@[bad/x");

    g_assert_null (msg_message_add_attachment_url (message, missing, NULL, NULL, NULL, &error));
    g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_HTTP_NOT_FOUND);
    g_assert_null (strstr (error->message, "s3cret"));
    g_clear_error (&error);
    g_assert_false (msg_message_create_mhtml_body (message, bad_scheme, 0, NULL, NULL, NULL, &error));
    g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_HTTP_FAILED);
    g_assert_null (strstr (error->message, "s3cret"));
    g_clear_error (&error);
    g_assert_false (msg_message_create_mhtml_body (message, bad_url, 0, NULL, NULL, NULL, &error));
    g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_HTTP_FAILED);
    g_assert_null (strstr (error->message, "s3cret"));
    g_clear_error (&error);
  }

  part = msg_message_add_attachment_url (message, doc, "ann", "s3cret", NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (part);
  text = msg_body_part_get_text (part, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (text, ==, "secret document\n");
  g_assert_cmpuint (msg_message_get_attachment_count (message), ==, 1);
  web_server_stop (ws);
}

static void
test_cookies_no_cache (void)
{
  WebServer *ws = web_server_start ();
  g_autoptr (MsgConfiguration) configuration =
      make_configuration ("httpcookies", "session=abc; theme=dark", "urlgetlatestversion", "true", NULL);
  g_autoptr (MsgMessage) message = make_message (configuration);
  g_autoptr (GError) error = NULL;
  g_autofree char *page = url (ws, "page.html");

  g_assert_true (msg_message_create_mhtml_body (message, page, 0, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  g_mutex_lock (&ws->lock);
  g_assert_cmpuint (ws->requests, >, PAGE_PARTS);
  g_assert_cmpuint (ws->with_cookie, ==, ws->requests);
  g_assert_cmpuint (ws->with_no_cache, ==, ws->requests);
  g_mutex_unlock (&ws->lock);
  web_server_stop (ws);
}

static void
test_proxy (void)
{
  WebServer *ws = web_server_start ();
  g_autoptr (MsgConfiguration) configuration = make_configuration ("urlproxyserver", ws->proxy_host, NULL);
  g_autoptr (MsgMessage) message = make_message (configuration);
  g_autoptr (GError) error = NULL;
  g_autofree char *page = url (ws, "page.html");
  g_autofree char *html = NULL;

  g_assert_true (msg_message_create_mhtml_body (message, page, 0, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  html = msg_message_get_html_body (message);
  g_assert_nonnull (strstr (html, "via proxy"));
  g_assert_cmpuint (hits (ws, "/page.html"), ==, 0);
  g_mutex_lock (&ws->lock);
  g_assert_cmpstr (ws->proxy_uri, ==, page);
  g_mutex_unlock (&ws->lock);
  g_clear_pointer (&html, g_free);

  /* <local> bypasses the proxy for this machine. */
  g_assert_true (msg_configuration_set_field (configuration, "urlproxybypass", "<local>", &error));
  g_assert_true (msg_message_create_mhtml_body (message, page, 0, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  html = msg_message_get_html_body (message);
  g_assert_nonnull (strstr (html, "Hello"));
  g_assert_cmpuint (hits (ws, "/page.html"), ==, 1);
  web_server_stop (ws);
}

static void
test_related_part_url (void)
{
  WebServer *ws = web_server_start ();
  g_autoptr (MsgMessage) message = make_message (NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *image = url (ws, "img/logo.png");
  g_autofree char *missing = url (ws, "img/404.png");
  g_autofree char *type = NULL;
  Tree             tree = { 0 };
  MsgBodyPart     *part;

  msg_message_set_html_body (message, "<img src=\"cid:logo@example\"><img src=\"http://example.invalid/b.png\">");
  part = msg_message_add_related_body_part (message, image, "cid:logo@example", &error);
  g_assert_no_error (error);
  g_assert_nonnull (part);
  part = msg_message_add_related_body_part_full (message, image, "http://example.invalid/b.png",
                                                 MSG_REFERENCE_TYPE_LOCATION, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (part);
  g_assert_null (msg_message_add_related_body_part_full (message, image, "has blank",
                                                         MSG_REFERENCE_TYPE_LOCATION, NULL, NULL,
                                                         NULL, &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER);
  g_clear_error (&error);
  g_assert_null (msg_message_add_related_body_part (message, missing, "x@example", &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_HTTP_NOT_FOUND);
  g_clear_error (&error);

  read_tree (message, &tree);
  g_assert_true (g_hash_table_contains (tree.ids, "logo@example"));
  g_assert_true (g_hash_table_contains (tree.locations, "http://example.invalid/b.png"));
  g_assert_cmpuint (tree.related_children, ==, 3);
  tree_clear (&tree);

  /* A plain msg_message_add_attachment() takes an http: URL too. */
  part = msg_message_add_attachment (message, image, &error);
  g_assert_no_error (error);
  type = msg_body_part_get_content_media_type (part);
  g_assert_cmpstr (type, ==, "image/png");
  web_server_stop (ws);
}

/* https: certificates are checked by default, with the transports'
 * fields and words. */
static void
test_https (void)
{
  g_autofree char *ca_file = NULL;
  g_autoptr (GTlsCertificate) certificate = msg_test_make_tls_certificate (NULL, &ca_file);
  WebServer       *ws = web_server_start_full (certificate);
  g_autofree char *page = url (ws, "page.html");
  g_autofree char *log = NULL;
  Tree             tree = { 0 };

  g_assert_true (g_str_has_prefix (page, "https://"));
  {
    g_autoptr (MsgMessage) message = make_message (NULL);
    g_autoptr (GError) error = NULL;

    g_assert_false (msg_message_create_mhtml_body (message, page, 0, NULL, NULL, NULL, &error));
    g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
    g_assert_nonnull (strstr (error->message, "tlscafile"));
    g_assert_cmpuint (hits (ws, "/page.html"), ==, 0);
  }
  {
    g_autoptr (MsgConfiguration) configuration = make_configuration ("tlscafile", ca_file, NULL);
    g_autoptr (MsgMessage) message = make_message (configuration);
    g_autoptr (GError) error = NULL;

    g_assert_true (msg_message_create_mhtml_body (message, page, 0, NULL, NULL, NULL, &error));
    g_assert_no_error (error);
    read_tree (message, &tree);
    g_assert_cmpuint (assert_cids_exist (&tree), ==, PAGE_PARTS);
    tree_clear (&tree);
  }
  g_free (msg_test_steal_log ());
  {
    g_autoptr (MsgConfiguration) configuration = make_configuration ("tlsverify", "false", NULL);
    g_autoptr (MsgMessage) message = make_message (configuration);
    g_autoptr (GError) error = NULL;

    g_assert_true (msg_message_create_mhtml_body (message, page, 0, NULL, NULL, NULL, &error));
    g_assert_no_error (error);
  }
  log = msg_test_steal_log ();
  g_assert_nonnull (strstr (log, "tlsverify is off"));
  web_server_stop (ws);
}

/* urlconnectiontimeout: a resource that stops coming fails after the
 * inactivity limit, and the server sees its connection closed. */
static void
test_stall (void)
{
  RawServer *rs = raw_server_start ();
  g_autoptr (MsgConfiguration) configuration = make_configuration ("urlconnectiontimeout", "1", NULL);
  g_autoptr (MsgMessage) message = make_message (configuration);
  g_autoptr (GError) error = NULL;
  g_autofree char *page = g_strconcat (rs->base, "stall.html", NULL);
  gint64           start = g_get_monotonic_time ();

  g_assert_false (msg_message_create_mhtml_body (message, page, 0, NULL, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "urlconnectiontimeout"));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 900 * 1000);
  /* 1 s of inactivity, and slack for a loaded machine. */
  msg_test_assert_elapsed_below (start, 4000);
  raw_server_stop (rs);
}

/* urloperationtimeout: a resource that comes a byte at a time, never
 * inactive for long, fails at the whole operation's deadline. */
static void
test_drip (void)
{
  RawServer *rs = raw_server_start ();
  g_autoptr (MsgConfiguration) configuration =
      make_configuration ("urlconnectiontimeout", "1", "urloperationtimeout", "1.5", NULL);
  g_autoptr (MsgMessage) message = make_message (configuration);
  g_autoptr (GError) error = NULL;
  g_autofree char *page = g_strconcat (rs->base, "drip.html", NULL);
  gint64           start = g_get_monotonic_time ();

  g_assert_false (msg_message_create_mhtml_body (message, page, 0, NULL, NULL, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "urloperationtimeout"));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 1400 * 1000);
  msg_test_assert_elapsed_below (start, 4500);
  raw_server_stop (rs);
}

static void
async_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      data)
{
  GError **error = data;

  g_assert_false (msg_message_create_mhtml_body_finish (MSG_MESSAGE (source), result, error));
  g_assert_nonnull (*error);
}

/* Cancelling returns at once (no inactivity limit to wait for), and the
 * server sees the connection closed. */
static void
test_cancel (void)
{
  RawServer *rs = raw_server_start ();
  g_autoptr (MsgConfiguration) configuration = make_configuration ("urlconnectiontimeout", "600", NULL);
  g_autoptr (MsgMessage) message = make_message (configuration);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *page = g_strconcat (rs->base, "stall.html", NULL);
  GError          *error = NULL;
  gint64           until = g_get_monotonic_time () + (gint64) (10 * G_USEC_PER_SEC * scale);
  gint64           start;

  msg_message_create_mhtml_body_async (message, page, 0, NULL, NULL, cancellable, async_done_cb, &error);
  for (;;)
    {
      guint stalls;

      g_mutex_lock (&rs->lock);
      stalls = rs->stall_requests;
      g_mutex_unlock (&rs->lock);
      if (stalls > 0)
        break;
      g_assert_cmpint (g_get_monotonic_time (), <, until);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
  start = g_get_monotonic_time ();
  g_cancellable_cancel (cancellable);
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);
  /* At once: well under a second, with slack for a loaded machine. */
  msg_test_assert_elapsed_below (start, 1000);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);
  raw_server_stop (rs);
}

/* The peak resident size of this process image, in KiB: /proc's VmHWM,
 * not getrusage()'s ru_maxrss, which Linux carries across exec() (a
 * subprocess of a big parent, such as valgrind's, would inherit its peak). */
static gint64
peak_rss_kib (void)
{
  g_autofree char *status = NULL;
  const char      *line;

  if (!g_file_get_contents ("/proc/self/status", &status, NULL, NULL) ||
      (line = strstr (status, "VmHWM:")) == NULL)
    {
      struct rusage usage;

      g_assert_cmpint (getrusage (RUSAGE_SELF, &usage), ==, 0);
      return usage.ru_maxrss;
    }
  return g_ascii_strtoll (line + 6, NULL, 10);
}

static guint
count_temporary_files (void)
{
  g_autoptr (GDir) dir = g_dir_open (g_get_tmp_dir (), 0, NULL);
  const char *name;
  guint       n = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    n += g_str_has_prefix (name, "msgobj-web-");
  return n;
}

/* 200 MiB: over the default urlmaxresourcesize; with the limit raised, it
 * goes to a temporary file and the process's peak memory stays low. */
static void
test_big (void)
{
  RawServer *rs;
  g_autoptr (MsgConfiguration) configuration = NULL;
  g_autoptr (MsgMessage) message = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *big = NULL;
  MsgBodyPart     *part;
  gint64           start;
  guint            temporary_files;

  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }

  rs = raw_server_start ();
  big = g_strconcat (rs->base, "big", NULL);
  temporary_files = count_temporary_files ();
  message = make_message (NULL);
  start = g_get_monotonic_time ();
  g_assert_null (msg_message_add_attachment_url (message, big, NULL, NULL, NULL, &error));
  g_assert_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_TOO_LARGE);
  g_assert_nonnull (strstr (error->message, "urlmaxresourcesize"));
  /* Refused from Content-Length, without reading the body. */
  msg_test_assert_elapsed_below (start, 3000);
  g_clear_error (&error);

  configuration = make_configuration ("urlmaxresourcesize", "300000000", "urlmaxpagesize", "300000000", NULL);
  msg_message_set_configuration (message, configuration);
  part = msg_message_add_attachment_url (message, big, NULL, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (part);
  /* All of it, read back from where it was kept. */
  {
    g_autofree char *dir = msg_test_make_temp_dir ();
    g_autofree char *copy = g_build_filename (dir, "copy", NULL);
    GStatBuf         st;

    g_assert_true (msg_body_part_save_to_file (part, copy, &error));
    g_assert_no_error (error);
    g_assert_cmpint (g_stat (copy, &st), ==, 0);
    g_assert_cmpint (st.st_size, ==, BIG_SIZE);
    msg_test_remove_tree (dir);
  }
  /* Far below the 200 MiB fetched. */
  g_assert_cmpint (peak_rss_kib (), <, 80 * 1024);
  g_assert_cmpuint (count_temporary_files (), ==, temporary_files + 1);
  /* The temporary file goes with the message. */
  g_clear_object (&message);
  g_assert_cmpuint (count_temporary_files (), ==, temporary_files);
  raw_server_stop (rs);
}

/* The scanner (msg-html-links.c, linked into this test): what it finds
 * and what it leaves alone, in broken markup too. */
static char *
found_values (GPtrArray *links)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < links->len; i++)
    {
      const MsgLink *link = g_ptr_array_index (links, i);

      g_string_append_printf (out, "%s%d:%s", i > 0 ? " " : "", link->kind, link->value);
    }
  return g_string_free (out, FALSE);
}

static void
test_scanner (void)
{
  static const struct
  {
    const char *html;
    const char *expected;
  } cases[] = {
    { "<img src=a.png>", "0:a.png" },
    { "<IMG\nSRC = 'b.png' alt=x>", "0:b.png" },
    { "<img src=\"c.png?x=1&amp;y=2&#x41;\">", "0:c.png?x=1&y=2A" },
    { "<p style=\"background:url(&quot;q.png&quot;)\">", "0:q.png" },
    { "<script>var s = \"<img src='no.png'>\";</script><img src=yes.png>", "0:yes.png" },
    { "<!-- <img src=no.png> --><a href=no.html>x</a><img src=''>", "" },
    { "<link rel=\"icon stylesheet\" href=s.css><link rel=icon href=i.png>", "4:s.css" },
    { "<input type=IMAGE src=i.png><input type=text src=no.png>", "0:i.png" },
    { "<frame src=f.html><iframe src=g.html><bgsound src=s.wav><embed src=e.swf>"
      "<object data=o.bin>",
      "2:f.html 2:g.html 1:s.wav 3:e.swf 3:o.bin" },
    { "<base href=http://example.org/d/><td background=t.png>", "5:http://example.org/d/ 0:t.png" },
    { "<style>/* url(no.png) */ a{b:url( \"y.png\" )} @import 'z.css'; "
      ".c{content:\"url(no2.png)\"} @import url(w.css);</style>",
      "0:y.png 4:z.css 4:w.css" },
    { "<img src=\"unterminated", "0:unterminated" },
    { "<img src=", "" },
    { "<", "" },
    { "<img style=\"x\" src=late.png>", "0:late.png" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GPtrArray) links = _msg_html_find_links (cases[i].html, strlen (cases[i].html));
      g_autofree char *found = found_values (links);

      g_assert_cmpstr (found, ==, cases[i].expected);
    }

  /* Rewriting escapes what the context gives a meaning to. */
  {
    const char *html = "<img src='a.png'><p style=\"background:url(b.png)\">";
    g_autoptr (GPtrArray) links = _msg_html_find_links (html, strlen (html));
    g_autofree char *out = NULL;

    g_assert_cmpuint (links->len, ==, 2);
    ((MsgLink *) links->pdata[0])->replacement = g_strdup ("http://x/?a=1&b='2'");
    ((MsgLink *) links->pdata[1])->replacement = g_strdup ("http://x/(y) z");
    out = _msg_links_rewrite (html, strlen (html), links, NULL);
    g_assert_cmpstr (out, ==,
                     "<img src='http://x/?a=1&amp;b=%272%27'>"
                     "<p style=\"background:url(http://x/%28y%29%20z)\">");
  }
}

static void
test_fields (void)
{
  g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();
  g_autoptr (GError) error = NULL;

  g_assert_true (msg_configuration_set_field (configuration, "urlproxyserver", "proxy.example:8080", &error));
  g_assert_true (msg_configuration_set_field (configuration, "urlproxybypass", "<local>;*.example", &error));
  g_assert_true (msg_configuration_set_field (configuration, "httpcookies", "a=b", &error));
  g_assert_true (msg_configuration_set_field (configuration, "urlgetlatestversion", "true", &error));
  g_assert_no_error (error);
  g_assert_cmpfloat (msg_configuration_get_seconds (configuration, "urlconnectiontimeout"), ==, 30);
  g_assert_cmpint (msg_configuration_get_int (configuration, "urlmaxresourcesize"), ==, 100 * 1024 * 1024);
  g_assert_false (msg_configuration_set_field (configuration, "urlconnectiontimeout", "-1", &error));
  g_assert_nonnull (error);
}

int
main (int   argc,
      char *argv[])
{
  /* With a proxy, GIO makes its default proxy resolver (for GSocketClient's
   * proxy enumerator) even though libsoup uses ours; the desktop's needs
   * GSettings schemas, which the isolated directories do not have. */
  g_setenv ("GIO_USE_PROXY_RESOLVER", "dummy", TRUE);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  scale = msg_test_time_scale ();
  msg_test_capture_log ();

  g_test_add_func ("/mhtml/fields", test_fields);
  g_test_add_func ("/mhtml/scanner", test_scanner);
  g_test_add_func ("/mhtml/page", test_page);
  g_test_add_func ("/mhtml/content-location", test_content_location);
  g_test_add_func ("/mhtml/suppress", test_suppress);
  g_test_add_func ("/mhtml/not-found", test_not_found);
  g_test_add_func ("/mhtml/redirect-loop", test_redirect_loop);
  g_test_add_func ("/mhtml/file-from-web-refused", test_file_from_web_refused);
  g_test_add_func ("/mhtml/file-urls", test_file_urls);
  g_test_add_func ("/mhtml/size-limits", test_size_limits);
  g_test_add_func ("/mhtml/basic-auth", test_basic_auth);
  g_test_add_func ("/mhtml/cookies-no-cache", test_cookies_no_cache);
  g_test_add_func ("/mhtml/proxy", test_proxy);
  g_test_add_func ("/mhtml/related-part-url", test_related_part_url);
  g_test_add_func ("/mhtml/https", test_https);
  g_test_add_func ("/mhtml/stall", test_stall);
  g_test_add_func ("/mhtml/drip", test_drip);
  g_test_add_func ("/mhtml/cancel", test_cancel);
  g_test_add_func ("/mhtml/big", test_big);

  return g_test_run ();
}
