/* msg-html-to-text-private.h: the plain-text alternative of an HTML body
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Renders @html as plain text with CRLF line ends, the way CDO fills
 * TextBody from HTMLBody: tags are dropped, block elements start new
 * lines, the content of script, style, head and title is skipped, runs of
 * white space collapse outside <pre>, and the common character entities
 * are decoded. Never fails; returns a newly allocated string. */
char *_msg_html_to_text (const char *html);

G_END_DECLS
