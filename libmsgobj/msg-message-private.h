/* msg-message-private.h: what the library shares about messages
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "msg-message.h"
#include "msg-body-part.h"

#include "msg-concat-stream-private.h"
#include "msg-file-stream-private.h"
#include "msg-mime-sink-private.h"

#include <gmime/gmime.h>

G_BEGIN_DECLS

/* One send or post of a message at a time: GMime's writes are not safe
 * from two threads (headers are formatted lazily, content streams are
 * shared). A second operation fails with G_IO_ERROR_PENDING. */
gboolean _msg_message_claim (MsgMessage *self,
                             GError    **error);
void     _msg_message_release (MsgMessage *self);

/* Initialises GMime once per process (thread-safe). */
void _msg_gmime_ensure_init (void);

/* Parser options used for every parse of ours (addresses, messages). */
GMimeParserOptions *_msg_parser_options (void);

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
char                *_msg_check_filename (const char *value,
                                          GError    **error);
InternetAddressList *_msg_parse_address_list (const char *field,
                                              const char *value,
                                              gboolean    allow_groups,
                                              GError    **error);

/* The transfer encoding that fits @data (see docs/message.md). */
GMimeContentEncoding _msg_choose_encoding (const guint8 *data,
                                           gsize         len,
                                           gboolean      is_text);

typedef gboolean (*MsgWriteFunc) (GOutputStream *output,
                                  gpointer       user_data,
                                  GCancellable  *cancellable,
                                  GError       **error);

/* Writes @path atomically: a temporary file in the same directory,
 * fsync, rename. On error nothing is left behind. */
gboolean _msg_write_file_atomically (const char  *path,
                                     MsgWriteFunc func,
                                     gpointer     user_data,
                                     GError     **error);

G_END_DECLS
