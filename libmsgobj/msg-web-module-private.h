/* msg-web-module-private.h: the tables of the web module (msgobj-web.so)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "msg-configuration.h"

#include <gio/gio.h>

G_BEGIN_DECLS

/* A fetched resource. Its body is either in memory (@bytes) or, past a
 * threshold, in a temporary file (@path) that is deleted when the last
 * stream made by _msg_web_resource_take_part() goes away. */
typedef struct
{
  char   *uri;          /* (owned): the URL after redirects, no fragment */
  char   *content_type; /* (owned) (nullable): media type, lower case */
  char   *charset;      /* (owned) (nullable): the charset parameter */
  GBytes *bytes;        /* (owned) (nullable) */
  char   *path;         /* (owned) (nullable): temporary file */
  goffset size;
} MsgWebResource;

/* MsgWebFetcher: one operation's fetches (a page and its resources, or
 * one attachment), in the thread that made it, over one SoupSession set
 * up from a configuration: proxy (urlproxyserver, urlproxybypass),
 * cookies (httpcookies), no cache (urlgetlatestversion), certificates
 * (tlsverify, tlscafile), the clocks (urlconnectiontimeout: inactivity;
 * urloperationtimeout: the whole operation, from _msg_web_fetcher_new()),
 * the size limits (urlmaxresourcesize, urlmaxpagesize: the sum of the
 * operation's resources) and a bound on redirects (10). @user and
 * @password answer the servers that ask for them, on the host of the
 * first URL fetched only. Cancelling @cancellable ends a fetch at once;
 * _msg_web_fetcher_close() (also run on finalize) closes every
 * connection. */
#define MSG_TYPE_WEB_FETCHER (_msg_web_fetcher_get_type ())
G_DECLARE_FINAL_TYPE (MsgWebFetcher, _msg_web_fetcher, MSG, WEB_FETCHER, GObject)

/* The library's functions the module calls (msg-web-fetcher.c). */
typedef struct
{
  void (*resource_free) (MsgWebResource *resource);
  char *(*display_uri) (const char *uri);
  gboolean (*split_server) (const char  *value,
                            char       **host,
                            guint16     *port,
                            const char **reason);
} MsgWebHost;

/* What msg-web-module.c, built as the module, gives the library: the
 * functions of msg-web-fetcher-private.h that need libsoup. */
typedef struct
{
  MsgWebFetcher *(*fetcher_new) (MsgConfiguration *configuration,
                                 const char       *user,
                                 const char       *password,
                                 GCancellable     *cancellable);
  MsgWebResource *(*fetch) (MsgWebFetcher *self,
                            const char    *uri,
                            gboolean       allow_file,
                            gboolean       in_memory,
                            GError       **error);
  void (*close) (MsgWebFetcher *self);
} MsgWebModule;

G_END_DECLS
