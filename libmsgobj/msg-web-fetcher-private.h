/* msg-web-fetcher-private.h: fetching http:, https: and file: URLs
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "msg-web-module-private.h"

G_BEGIN_DECLS

void _msg_web_resource_free (MsgWebResource *resource);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MsgWebResource, _msg_web_resource_free)

/* Loads the web module (msgobj-web.so, with libsoup) on first use: NULL
 * with an error when it cannot be loaded. See MsgWebFetcher in
 * msg-web-module-private.h. */
MsgWebFetcher *_msg_web_fetcher_new (MsgConfiguration *configuration,
                                     const char       *user,
                                     const char       *password,
                                     GCancellable     *cancellable,
                                     GError          **error);
/* @uri for an error message: without a password. */
char *_msg_web_display_uri (const char *uri);
/* Whether @uri is an http:, https: or file: URL. */
gboolean _msg_web_is_fetchable (const char *uri);
/* Fetches @uri (absolute; file: only if @allow_file). With @in_memory
 * the body is always in @bytes (for HTML and CSS, which are parsed). */
MsgWebResource *_msg_web_fetcher_fetch (MsgWebFetcher *self,
                                        const char    *uri,
                                        gboolean       allow_file,
                                        gboolean       in_memory,
                                        GError       **error);
void            _msg_web_fetcher_close (MsgWebFetcher *self);

/* The body of @resource as a new leaf part (MsgBodyPart, transfer full),
 * of @content_type if not NULL, else of the resource's type. */
gpointer _msg_web_resource_make_part (MsgWebResource *resource,
                                      const char     *content_type,
                                      GError        **error);

G_END_DECLS
