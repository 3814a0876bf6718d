/* msg-html-to-text-private.h: the text alternative of an HTML body
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Renders @html as plain text with LF line ends (transfer full). */
char *_msg_html_to_text (const char *html);

G_END_DECLS
