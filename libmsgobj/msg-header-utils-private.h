/* msg-header-utils-private.h: validation of header values before GMime sees them
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Validation of values before GMime sees them. @field names the field in
 * the error message. */
gboolean _msg_check_header_name (const char *name,
                                 GError    **error);
gboolean _msg_check_header_value (const char *field,
                                  const char *value,
                                  GError    **error);
gboolean _msg_check_msg_id (const char *field,
                            const char *value,
                            GError    **error);
gboolean _msg_check_parameter (const char *field,
                               const char *value,
                               GError    **error);
gboolean _msg_check_media_type (const char *value,
                                GError    **error);
/* Returns the file name without directory components, or NULL with an
 * error. */
/* @value as a safe base name: the last path component, controls made
 * '_', valid UTF-8; %NULL if nothing usable is left. */
char *_msg_safe_filename (const char *value);

char *_msg_check_filename (const char *value,
                           GError    **error);

/* @name without a leading `urn:schemas:mailheader:` (any case). After
 * that prefix, a header CDO lists gets its usual spelling (“comments” is
 * written “Comments”): the result is @name's tail or a static string. */
const char *_msg_strip_mailheader_urn (const char *name);

/* Checks a comma-separated list of newsgroup names and stores it, without
 * blanks, in @normalised. */
gboolean _msg_check_newsgroups (const char *field,
                                const char *value,
                                char      **normalised,
                                GError    **error);

G_END_DECLS
