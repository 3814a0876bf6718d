/* msg-configuration-private.h: what the configuration files share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "msg-configuration.h"

G_BEGIN_DECLS

/* How a field's values are checked: by its type, or by a check of its own. */
typedef enum
{
  MSG_FIELD_CHECK_BY_TYPE,
  MSG_FIELD_CHECK_PORT,
  MSG_FIELD_CHECK_SEND_USING,
  MSG_FIELD_CHECK_POST_USING,
  MSG_FIELD_CHECK_HOST,
  MSG_FIELD_CHECK_HOST_LIST,
  MSG_FIELD_CHECK_MECHANISMS,
  MSG_FIELD_CHECK_EHLO_NAME,
  MSG_FIELD_CHECK_TIMEZONE,
  MSG_FIELD_CHECK_LANGUAGE,
  MSG_FIELD_CHECK_UNSUPPORTED,
  MSG_FIELD_CHECK_DKIM_HEADERS,
  MSG_FIELD_CHECK_CRYPTO_KEY,
} MsgFieldCheck;

/* A field: built in (msg-configuration-fields.c) or registered by a plugin. */
typedef struct
{
  const char   *name;
  MsgFieldType  type;
  MsgFieldCheck check;
  /* The canonical default value, or NULL */
  const char *default_value;
  /* MSG_FIELD_TYPE_ENUM: the names, the index of each is its number. */
  const char *const *choices;
  gboolean           builtin;
} MsgFieldDef;

/* The instance, shared with the key file loader. */
struct _MsgConfiguration
{
  GObject parent_instance;

  GMutex      lock;
  GHashTable *values; /* (owned): short name → canonical value, set fields only */
  /* Under lock: @values may be shared with copies (msg_configuration_copy()
   * shares it, as snapshots are rarely changed): it is copied before a
   * change, never changed in place while shared. */
  gboolean shared;
};

/* msg-configuration.c */
void        _msg_configuration_wipe_free (gpointer data);
GHashTable *_msg_configuration_values_table_new (void);
GHashTable *_msg_configuration_values_for_write_locked (MsgConfiguration *self);

/* msg-configuration-fields.c */
const MsgFieldDef *_msg_configuration_lookup_field (const char *name);
const MsgFieldDef *_msg_configuration_lookup_field_for_read (const char *name);
char              *_msg_configuration_quote_value (const char *value);
void               _msg_configuration_set_unknown_field_error (GError    **error,
                                                               const char *name);
gboolean           _msg_configuration_validate_value (const MsgFieldDef *def,
                                                      const char        *value,
                                                      char             **canonical,
                                                      GError           **error);
gboolean           _msg_configuration_parse_boolean (const char *value,
                                                     gboolean   *out);
gboolean           _msg_configuration_parse_seconds (const char *value,
                                                     double     *out);
gboolean           _msg_configuration_split_server (const char  *value,
                                                    char       **host,
                                                    guint16     *port,
                                                    const char **reason);
gboolean           _msg_configuration_parse_int (const char *value,
                                                 gint64      min,
                                                 gint64      max,
                                                 gint64     *out);

G_END_DECLS
