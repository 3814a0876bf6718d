/* test-message-utils.h: helpers shared by the MsgMessage suites
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <msgobj.h>

G_BEGIN_DECLS

MsgMessage *make_message (void);

/* Every line ends with CRLF (no lone CR or LF) and holds at most 998
 * octets. */
void assert_wire_format (const char *data,
                         gsize       len);

/* The message as a string, checked for CRLF and line lengths. */
char *write_message (MsgMessage   *message,
                     MsgWriteFlags flags);

char *to_string (MsgMessage *message);

/* The header block of @text, up to and including its last CRLF. */
char *header_block (const char *text);

/* The unfolded value of the first header @name in the header block of
 * @text, or NULL. */
char *find_header (const char *text,
                   const char *name);

/* Whether a line of the header block of @text starts with @name: . */
gboolean has_header_line (const char *text,
                          const char *name);

MsgMessage *parse_string (const char *text);

/* A compact description of a MIME tree: "multipart/mixed(text/plain,
 * image/png)". */
void describe_part (MsgBodyPart *part,
                    GString     *out);

char *describe_tree (MsgMessage *message);

/* The structure of @message as written, read back by the parser. */
char *describe_written (MsgMessage *message);

char *decoded_string (MsgBodyPart *part);

char *write_temp_file (const char *dir,
                       const char *name,
                       const char *contents,
                       gssize      len);

guint count_lines_starting (const char *text,
                            const char *prefix);

/* A parsed message with a multipart/alternative, an attachment and a
 * message/rfc822 part. */
extern const char multipart_message[];

G_END_DECLS
