/* msg-message-mhtml.c: CreateMHTMLBody, and body parts fetched from URLs
 *
 * The fetching runs in the calling thread (or, for _async, in a thread of
 * GIO's pool) over one MsgWebFetcher; the message is changed only at the
 * end, in the caller's thread, and only if every fetch succeeded.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-message-private.h"

#include "msg-body-part-private.h"
#include "msg-html-links-private.h"
#include "msg-html-to-text-private.h"
#include "msg-web-fetcher-private.h"

#include <string.h>

/* Frames inside frames are followed this deep, style sheets importing
 * style sheets too. */
#define MAX_DEPTH 4

typedef struct
{
  /* Input, set in the caller's thread. */
  MsgConfiguration *configuration; /* (owned) */
  char             *url;           /* (owned) */
  MsgMHTMLFlags     flags;
  char             *user;     /* (owned) (nullable) */
  char             *password; /* (owned) (nullable) */

  /* The fetching. */
  MsgWebFetcher *fetcher;    /* (owned) (nullable) */
  gboolean       allow_file; /* the page is a file: URL */
  GHashTable    *done;       /* URL → its reference, "" for a resource left out */
  GPtrArray     *parts;      /* (element-type MsgBodyPart) (owned) */
  guint          next_id;
  char          *html; /* (owned): the page, rewritten */
} MhtmlJob;

static void
mhtml_job_free (gpointer data)
{
  MhtmlJob *job = data;

  g_clear_object (&job->configuration);
  g_free (job->url);
  g_free (job->user);
  if (job->password != NULL)
    memset (job->password, 0, strlen (job->password));
  g_free (job->password);
  g_clear_object (&job->fetcher);
  g_clear_pointer (&job->done, g_hash_table_unref);
  g_clear_pointer (&job->parts, g_ptr_array_unref);
  g_free (job->html);
  g_free (job);
}

static MhtmlJob *
mhtml_job_new (MsgMessage   *message,
               const char   *url,
               MsgMHTMLFlags flags,
               const char   *user,
               const char   *password)
{
  MhtmlJob *job = g_new0 (MhtmlJob, 1);

  job->configuration = msg_configuration_copy (message->configuration);
  job->url = g_strdup (url);
  job->flags = flags;
  job->user = g_strdup (user);
  job->password = g_strdup (password);
  job->done = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  job->parts = g_ptr_array_new_with_free_func (g_object_unref);
  return job;
}

/* A local path becomes a file: URL; a URL stays as it is. */
static char *
normalise_url (const char *url_or_path,
               GError    **error)
{
  g_autofree char *scheme = g_uri_parse_scheme (url_or_path);
  g_autofree char *absolute = NULL;

  if (scheme != NULL)
    {
      if (!_msg_web_is_fetchable (url_or_path))
        {
          g_autofree char *shown = _msg_web_display_uri (url_or_path);

          g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_HTTP_FAILED,
                       "Cannot fetch “%s”: only http:, https: and file: URLs are supported", shown);
          return NULL;
        }
      return g_strdup (url_or_path);
    }
  if (g_path_is_absolute (url_or_path))
    return g_filename_to_uri (url_or_path, NULL, error);
  absolute = g_canonicalize_filename (url_or_path, NULL);
  return g_filename_to_uri (absolute, NULL, error);
}

static gboolean
is_suppressed (MhtmlJob   *job,
               MsgLinkKind kind)
{
  switch (kind)
    {
    case MSG_LINK_IMAGE:
      return (job->flags & MSG_MHTML_SUPPRESS_IMAGES) != 0;
    case MSG_LINK_BG_SOUND:
      return (job->flags & MSG_MHTML_SUPPRESS_BG_SOUNDS) != 0;
    case MSG_LINK_FRAME:
      return (job->flags & MSG_MHTML_SUPPRESS_FRAMES) != 0;
    case MSG_LINK_OBJECT:
      return (job->flags & MSG_MHTML_SUPPRESS_OBJECTS) != 0;
    case MSG_LINK_STYLE_SHEET:
      return (job->flags & MSG_MHTML_SUPPRESS_STYLE_SHEETS) != 0;
    case MSG_LINK_BASE:
    default:
      return TRUE;
    }
}

/* @reference resolved against @base, without its fragment; NULL if it is
 * not something to fetch (cid:, data:, mailto:, an invalid URL…). */
static char *
resolve (const char *base,
         const char *reference)
{
  g_autoptr (GUri) base_uri = g_uri_parse (base, G_URI_FLAGS_ENCODED, NULL);
  g_autoptr (GUri) uri = NULL;
  g_autofree char *escaped = NULL;

  if (base_uri == NULL || reference[0] == '#')
    return NULL;
  /* What browsers accept besides URLs: blanks and non-ASCII characters. */
  escaped = g_uri_escape_string (reference, "!$&'()*+,;=:@/?#[]%~", FALSE);
  uri = g_uri_parse_relative (base_uri, escaped, G_URI_FLAGS_ENCODED, NULL);
  if (uri == NULL)
    return NULL;
  {
    g_autofree char *text = g_uri_to_string_partial (uri, G_URI_HIDE_FRAGMENT);

    return _msg_web_is_fetchable (text) ? g_steal_pointer (&text) : NULL;
  }
}

/* The page as UTF-8: in the charset of its Content-Type, else of a
 * <meta> near its start, else UTF-8 if valid, else windows-1252. */
static char *
resource_to_utf8 (MsgWebResource *resource)
{
  gsize            length = 0;
  const char      *data = g_bytes_get_data (resource->bytes, &length);
  g_autofree char *sniffed = NULL;
  const char      *charset = resource->charset;
  char            *converted;

  if (charset == NULL)
    {
      g_autofree char *head = g_ascii_strdown (data != NULL ? data : "", MIN (length, 2048));
      const char      *found = strstr (head, "charset=");

      if (found != NULL)
        {
          gsize n;

          found += 8;
          found += strspn (found, "\"' ");
          n = strspn (found, "abcdefghijklmnopqrstuvwxyz0123456789-_:.");
          if (n > 0)
            charset = sniffed = g_strndup (found, n);
        }
    }
  if (charset == NULL)
    charset = g_utf8_validate_len (data, length, NULL) ? "UTF-8" : "WINDOWS-1252";
  if (g_ascii_strcasecmp (charset, "utf-8") != 0 && g_ascii_strcasecmp (charset, "utf8") != 0)
    {
      converted = g_convert_with_fallback (data, length, "UTF-8", charset, "?", NULL, NULL, NULL);
      if (converted != NULL)
        return converted;
    }
  {
    g_autofree char *text = g_strndup (data != NULL ? data : "", length);

    return g_utf8_make_valid (text, -1);
  }
}

static gboolean process_html (MhtmlJob   *job,
                              const char *base,
                              char      **html,
                              guint       depth,
                              GError    **error);
static gboolean process_css (MhtmlJob       *job,
                             MsgWebResource *resource,
                             guint           depth,
                             GError        **error);

/* The content of a fetched frame or style sheet, rewritten. */
static gboolean
rewrite_content (MhtmlJob       *job,
                 MsgLinkKind     kind,
                 MsgWebResource *resource,
                 guint           depth,
                 const char    **content_type,
                 GError        **error)
{
  if (kind == MSG_LINK_STYLE_SHEET)
    {
      *content_type = NULL;
      if (resource->content_type == NULL || strcmp (resource->content_type, "text/css") != 0)
        *content_type = "text/css";
      return process_css (job, resource, depth, error);
    }
  else
    {
      g_autofree char *html = resource_to_utf8 (resource);

      if (!process_html (job, resource->uri, &html, depth, error))
        return FALSE;
      g_bytes_unref (resource->bytes);
      resource->bytes = g_bytes_new_take (html, strlen (html));
      html = NULL;
      g_free (resource->charset);
      resource->charset = g_strdup ("utf-8");
      *content_type = "text/html";
      return TRUE;
    }
}

static MsgBodyPart *
make_related_part (MhtmlJob       *job,
                   MsgWebResource *resource,
                   const char     *content_type,
                   const char     *url,
                   const char     *content_id,
                   GError        **error)
{
  g_autoptr (MsgBodyPart) part = _msg_web_resource_make_part (resource, content_type, error);

  if (part == NULL)
    return NULL;
  if (content_id != NULL)
    {
      if (!msg_body_part_set_content_id (part, content_id, error))
        return NULL;
    }
  else
    g_mime_part_set_content_location (GMIME_PART (_msg_body_part_get_object (part)), url);
  if (!msg_body_part_set_content_disposition (part, "inline", error))
    return NULL;
  return g_steal_pointer (&part);
}

/* Fetches the resource at @url once, adds its part; returns the reference
 * to write in its place (owned by job->done), or NULL: left out (error not
 * set) or failed. */
static const char *
ensure_resource (MhtmlJob   *job,
                 const char *url,
                 MsgLinkKind kind,
                 guint       depth,
                 GError    **error)
{
  g_autoptr (MsgWebResource) resource = NULL;
  g_autofree char *content_id = NULL;
  g_autoptr (GError) local_error = NULL;
  const char  *content_type = NULL;
  const char  *known = g_hash_table_lookup (job->done, url);
  gboolean     parsed = kind == MSG_LINK_STYLE_SHEET || kind == MSG_LINK_FRAME;
  MsgBodyPart *part;

  if (known != NULL)
    return known[0] != '\0' ? known : NULL;
  if (parsed && depth >= MAX_DEPTH)
    return NULL;

  if ((job->flags & MSG_MHTML_USE_CONTENT_LOCATION) == 0)
    content_id = g_strdup_printf ("part%u.%08x@msgobj.mhtml", ++job->next_id, g_random_int ());
  /* Known before the fetch, so that a frame or style sheet that refers
   * back to an ancestor is not fetched again. */
  g_hash_table_insert (job->done, g_strdup (url),
                       content_id != NULL ? g_strconcat ("cid:", content_id, NULL) : g_strdup (url));

  resource = _msg_web_fetcher_fetch (job->fetcher, url, job->allow_file, parsed, &local_error);
  if (resource != NULL && parsed &&
      !rewrite_content (job, kind, resource, depth + 1, &content_type, &local_error))
    g_clear_pointer (&resource, _msg_web_resource_free);
  if (resource == NULL)
    {
      if ((job->flags & MSG_MHTML_SKIP_MISSING) != 0 &&
          local_error->domain == MSG_MESSAGE_ERROR &&
          (local_error->code == MSG_MESSAGE_ERROR_HTTP_NOT_FOUND ||
           local_error->code == MSG_MESSAGE_ERROR_HTTP_FORBIDDEN ||
           local_error->code == MSG_MESSAGE_ERROR_HTTP_FAILED))
        {
          g_debug ("CreateMHTMLBody: left out: %s", local_error->message);
          g_hash_table_insert (job->done, g_strdup (url), g_strdup (""));
          return NULL;
        }
      g_propagate_error (error, g_steal_pointer (&local_error));
      return NULL;
    }

  part = make_related_part (job, resource, content_type, url, content_id, error);
  if (part == NULL)
    return NULL;
  g_ptr_array_add (job->parts, part);
  return g_hash_table_lookup (job->done, url);
}

/* Fetches the resources @links refer to and sets their replacements. */
static gboolean
resolve_links (MhtmlJob   *job,
               const char *base,
               GPtrArray  *links,
               guint       depth,
               GError    **error)
{
  g_autofree char *current_base = g_strdup (base);

  for (guint i = 0; i < links->len; i++)
    {
      MsgLink         *link = g_ptr_array_index (links, i);
      g_autofree char *url = NULL;
      const char      *reference;
      GError          *local_error = NULL;

      if (link->kind == MSG_LINK_BASE)
        {
          char *next = resolve (current_base, link->value);

          if (next != NULL)
            {
              g_free (current_base);
              current_base = next;
            }
          continue;
        }
      if (is_suppressed (job, link->kind))
        continue;
      url = resolve (current_base, link->value);
      if (url == NULL)
        continue;
      reference = ensure_resource (job, url, link->kind, depth, &local_error);
      if (local_error != NULL)
        {
          g_propagate_error (error, local_error);
          return FALSE;
        }
      link->replacement = g_strdup (reference);
    }
  return TRUE;
}

static gboolean
process_html (MhtmlJob   *job,
              const char *base,
              char      **html,
              guint       depth,
              GError    **error)
{
  g_autoptr (GPtrArray) links = _msg_html_find_links (*html, strlen (*html));
  char *rewritten;

  if (!resolve_links (job, base, links, depth, error))
    return FALSE;
  rewritten = _msg_links_rewrite (*html, strlen (*html), links, NULL);
  g_free (*html);
  *html = rewritten;
  return TRUE;
}

static gboolean
process_css (MhtmlJob       *job,
             MsgWebResource *resource,
             guint           depth,
             GError        **error)
{
  gsize       length = 0;
  const char *css = g_bytes_get_data (resource->bytes, &length);
  g_autoptr (GPtrArray) links = _msg_css_find_links (css, length);
  char *rewritten;

  if (!resolve_links (job, resource->uri, links, depth, error))
    return FALSE;
  rewritten = _msg_links_rewrite (css, length, links, &length);
  g_bytes_unref (resource->bytes);
  resource->bytes = g_bytes_new_take (rewritten, length);
  return TRUE;
}

/* The fetching, in any thread. */
static gboolean
mhtml_job_run (MhtmlJob     *job,
               GCancellable *cancellable,
               GError      **error)
{
  g_autoptr (MsgWebResource) page = NULL;
  g_autofree char *url = normalise_url (job->url, error);
  gboolean         ok;

  if (url == NULL)
    return FALSE;
  job->fetcher = _msg_web_fetcher_new (job->configuration, job->user, job->password, cancellable, error);
  if (job->fetcher == NULL)
    return FALSE;
  page = _msg_web_fetcher_fetch (job->fetcher, url, TRUE, TRUE, error);
  if (page == NULL)
    {
      _msg_web_fetcher_close (job->fetcher);
      return FALSE;
    }
  job->allow_file = g_str_has_prefix (page->uri, "file:");
  job->html = resource_to_utf8 (page);
  ok = process_html (job, page->uri, &job->html, 0, error);
  /* Every connection closed, on success, failure or cancellation. */
  _msg_web_fetcher_close (job->fetcher);
  return ok;
}

/* The result, in the caller's thread: the HTML body and its parts replace
 * the message's HTML, text and related parts; attachments stay. */
static void
mhtml_job_apply (MhtmlJob   *job,
                 MsgMessage *self)
{
  _msg_message_materialise (self);
  g_ptr_array_set_size (self->related, 0);
  for (guint i = 0; i < job->parts->len; i++)
    g_ptr_array_add (self->related, g_object_ref (g_ptr_array_index (job->parts, i)));
  msg_message_set_html_body (self, job->html);
  if (!self->auto_generate_text_body)
    {
      g_autofree char *text = _msg_html_to_text (job->html);

      msg_message_set_text_body (self, text);
    }
  self->dirty = TRUE;
}

/**
 * msg_message_create_mhtml_body:
 * @self: a message
 * @url: the page: an `http:`, `https:` or `file:` URL, or a local path
 * @flags: what to leave out
 * @user: (nullable): the user name for servers that ask for one (HTTP
 *   authentication, sent to the page's host only)
 * @password: (nullable): its password
 * @cancellable: (nullable): a #GCancellable
 * @error: return location for an error
 *
 * CDO's `CreateMHTMLBody`: fetches the page and every resource it refers
 * to (images, style sheets and what they import or show, scripts, frames
 * and what they refer to, sounds, objects), unless @flags leaves them
 * out, and makes the message's HTML body the page, with each resource a
 * `multipart/related` part whose `Content-ID` the page now refers to as
 * `cid:` (with %MSG_MHTML_USE_CONTENT_LOCATION: whose `Content-Location`
 * is its URL). References are rewritten only to parts that exist. The
 * text body is generated from the HTML as for
 * [method@Message.set_html_body]. Attachments stay; the previous HTML,
 * text and related parts are replaced.
 *
 * The fetching follows the configuration: the proxy (`urlproxyserver`,
 * `urlproxybypass`), `httpcookies`, `urlgetlatestversion`, certificate
 * checking (`tlsverify`, `tlscafile`), the clocks (`urlconnectiontimeout`,
 * `urloperationtimeout`) and size limits (`urlmaxresourcesize`,
 * `urlmaxpagesize`). A page from an `http:` or `https:` URL cannot pull in
 * `file:` URLs. Large resources are kept in temporary files, not in
 * memory.
 *
 * Errors: %MSG_MESSAGE_ERROR_HTTP_NOT_FOUND, %MSG_MESSAGE_ERROR_HTTP_FORBIDDEN,
 * %MSG_MESSAGE_ERROR_HTTP_FAILED (unless %MSG_MHTML_SKIP_MISSING),
 * %MSG_MESSAGE_ERROR_TOO_LARGE, %G_IO_ERROR_TIMED_OUT,
 * %G_IO_ERROR_CANCELLED, and GIO's network and TLS errors. On error the
 * message is unchanged.
 *
 * This call blocks; see [method@Message.create_mhtml_body_async].
 *
 * Returns: %TRUE on success
 */
gboolean
msg_message_create_mhtml_body (MsgMessage   *self,
                               const char   *url,
                               MsgMHTMLFlags flags,
                               const char   *user,
                               const char   *password,
                               GCancellable *cancellable,
                               GError      **error)
{
  MhtmlJob *job;
  gboolean  ok;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), FALSE);
  g_return_val_if_fail (url != NULL, FALSE);
  g_return_val_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  job = mhtml_job_new (self, url, flags, user, password);
  ok = mhtml_job_run (job, cancellable, error);
  if (ok)
    mhtml_job_apply (job, self);
  mhtml_job_free (job);
  return ok;
}

static void
create_mhtml_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  GError *error = NULL;

  if (mhtml_job_run (task_data, cancellable, &error))
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_error (task, error);
}

/**
 * msg_message_create_mhtml_body_async:
 * @self: a message
 * @url: the page: an `http:`, `https:` or `file:` URL, or a local path
 * @flags: what to leave out
 * @user: (nullable): the user name for servers that ask for one
 * @password: (nullable): its password
 * @cancellable: (nullable): a #GCancellable
 * @callback: (scope async): called when the body is made
 * @user_data: data for @callback
 *
 * Starts [method@Message.create_mhtml_body] in a thread; the message is
 * changed by [method@Message.create_mhtml_body_finish], in the caller's
 * thread. Cancelling @cancellable ends the fetching at once, with every
 * connection closed.
 */
void
msg_message_create_mhtml_body_async (MsgMessage         *self,
                                     const char         *url,
                                     MsgMHTMLFlags       flags,
                                     const char         *user,
                                     const char         *password,
                                     GCancellable       *cancellable,
                                     GAsyncReadyCallback callback,
                                     gpointer            user_data)
{
  g_autoptr (GTask) task = NULL;

  g_return_if_fail (MSG_IS_MESSAGE (self));
  g_return_if_fail (url != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, msg_message_create_mhtml_body_async);
  g_task_set_task_data (task, mhtml_job_new (self, url, flags, user, password), mhtml_job_free);
  g_task_run_in_thread (task, create_mhtml_thread);
}

/**
 * msg_message_create_mhtml_body_finish:
 * @self: a message
 * @result: the result given to the callback
 * @error: return location for an error
 *
 * Ends [method@Message.create_mhtml_body_async]: on success the message
 * gets the page as its HTML body, with its resources.
 *
 * Returns: %TRUE on success
 */
gboolean
msg_message_create_mhtml_body_finish (MsgMessage   *self,
                                      GAsyncResult *result,
                                      GError      **error)
{
  g_return_val_if_fail (MSG_IS_MESSAGE (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  mhtml_job_apply (g_task_get_task_data (G_TASK (result)), self);
  return TRUE;
}

MsgBodyPart *
_msg_message_fetch_part (MsgMessage   *self,
                         const char   *url,
                         const char   *user,
                         const char   *password,
                         GCancellable *cancellable,
                         GError      **error)
{
  g_autoptr (MsgWebFetcher) fetcher =
      _msg_web_fetcher_new (self->configuration, user, password, cancellable, error);
  g_autoptr (MsgWebResource) resource = NULL;

  if (fetcher == NULL)
    return NULL;
  resource = _msg_web_fetcher_fetch (fetcher, url, TRUE, FALSE, error);
  _msg_web_fetcher_close (fetcher);
  if (resource == NULL)
    return NULL;
  return _msg_web_resource_make_part (resource, NULL, error);
}
