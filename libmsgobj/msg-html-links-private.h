/* msg-html-links-private.h: the resources an HTML page or a style sheet
 * refers to, and rewriting those references
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What a reference is, for CDO's CdoMHTMLFlags. */
typedef enum
{
  MSG_LINK_IMAGE,
  MSG_LINK_BG_SOUND,
  MSG_LINK_FRAME,
  MSG_LINK_OBJECT,
  MSG_LINK_STYLE_SHEET,
  MSG_LINK_BASE, /* <base href>: the base of the references after it */
} MsgLinkKind;

/* A reference: the bytes [start, end) of the text hold it (an attribute's
 * value without its quotes; in CSS, the whole url(…) or @import string),
 * @value is the URL it holds, decoded. */
typedef struct
{
  MsgLinkKind kind;
  gsize       start;
  gsize       end;
  gboolean    css;          /* a CSS token: rewritten as url(…) */
  gboolean    in_attribute; /* inside an HTML attribute: entities escaped */
  char       *value;        /* (owned) */
  char       *replacement;  /* (owned) (nullable): set by the caller */
} MsgLink;

/* The references of an HTML document: src, href, background, data
 * attributes of the elements that load resources (img, input type=image,
 * link rel=stylesheet, script, frame, iframe, bgsound, embed, object,
 * body/table/td/th/tr background), url() and @import in <style> elements
 * and style attributes. Tolerant: never fails. Element type MsgLink. */
GPtrArray *_msg_html_find_links (const char *html,
                                 gsize       length);

/* The url() and @import references of a style sheet. */
GPtrArray *_msg_css_find_links (const char *css,
                                gsize       length);

/* @text with each link that has a replacement replaced (links in
 * order, not overlapping). */
char *_msg_links_rewrite (const char *text,
                          gsize       length,
                          GPtrArray  *links,
                          gsize      *out_length);

G_END_DECLS
