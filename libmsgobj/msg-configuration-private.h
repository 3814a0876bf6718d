/* msg-configuration-private.h: what the configuration files share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "msg-configuration.h"

G_BEGIN_DECLS

typedef enum
{
  CHECK_BY_TYPE,
  CHECK_PORT,
  CHECK_SEND_USING,
  CHECK_POST_USING,
  CHECK_HOST,
  CHECK_MECHANISMS,
  CHECK_EHLO_NAME,
  CHECK_TIMEZONE,
} FieldCheck;

typedef struct
{
  const char  *name;
  MsgFieldType type;
  FieldCheck   check;
  /* The canonical default value, or NULL */
  const char *default_value;
  /* MSG_FIELD_TYPE_ENUM: the names, the index of each is its number. */
  const char *const *choices;
  gboolean           builtin;
} FieldDef;

struct _MsgConfiguration
{
  GObject parent_instance;

  GMutex      lock;
  GHashTable *values; /* (owned): short name → canonical value, set fields only */
};

/* msg-configuration.c */
void        _msg_configuration_wipe_free (gpointer data);
GHashTable *_msg_configuration_values_table_new (void);

/* msg-configuration-fields.c */
const FieldDef *_msg_configuration_lookup_field (const char *name);
const FieldDef *_msg_configuration_lookup_field_for_read (const char *name);
char           *_msg_configuration_quote_value (const char *value);
void            _msg_configuration_set_unknown_field_error (GError    **error,
                                                            const char *name);
gboolean        _msg_configuration_validate_value (const FieldDef *def,
                                                   const char     *value,
                                                   char          **canonical,
                                                   GError        **error);
gboolean        _msg_configuration_parse_boolean (const char *value,
                                                  gboolean   *out);
gboolean        _msg_configuration_parse_seconds (const char *value,
                                                  double     *out);
gboolean        _msg_configuration_parse_int (const char *value,
                                              gint64      min,
                                              gint64      max,
                                              gint64     *out);

G_END_DECLS
