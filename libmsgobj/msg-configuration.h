/* msg-configuration.h: CDO's Configuration object
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MSGOBJ_H_INSIDE__) && !defined(MSGOBJ_COMPILATION)
#error "Only <msgobj.h> can be included directly."
#endif

#include "msg-types.h"
#include "msg-enums.h"

G_BEGIN_DECLS

/**
 * MSG_CONFIGURATION_NAMESPACE:
 *
 * The URN prefix of CDO's configuration fields; a field may be named by its
 * short name or by this prefix followed by the short name.
 */
#define MSG_CONFIGURATION_NAMESPACE "http://schemas.microsoft.com/cdo/configuration/"

/**
 * MSG_CONFIGURATION_ERROR:
 *
 * The error domain of configuration errors.
 */
#define MSG_CONFIGURATION_ERROR (msg_configuration_error_quark ())

/**
 * MsgConfigurationError:
 * @MSG_CONFIGURATION_ERROR_UNKNOWN_FIELD: no field has that name
 * @MSG_CONFIGURATION_ERROR_INVALID_VALUE: the value is not valid for the field
 * @MSG_CONFIGURATION_ERROR_UNKNOWN_TRANSPORT: no transport has that name
 * @MSG_CONFIGURATION_ERROR_PARSE: a configuration file could not be read
 * @MSG_CONFIGURATION_ERROR_FAILED: another failure
 *
 * Error codes of %MSG_CONFIGURATION_ERROR.
 */
typedef enum
{
  MSG_CONFIGURATION_ERROR_UNKNOWN_FIELD,
  MSG_CONFIGURATION_ERROR_INVALID_VALUE,
  MSG_CONFIGURATION_ERROR_UNKNOWN_TRANSPORT,
  MSG_CONFIGURATION_ERROR_PARSE,
  MSG_CONFIGURATION_ERROR_FAILED,
} MsgConfigurationError;

MSG_AVAILABLE_IN_ALL
GQuark msg_configuration_error_quark (void);

#define MSG_TYPE_CONFIGURATION (msg_configuration_get_type ())
MSG_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MsgConfiguration, msg_configuration, MSG, CONFIGURATION, GObject)

MSG_AVAILABLE_IN_ALL
MsgConfiguration *msg_configuration_new            (void);
MSG_AVAILABLE_IN_ALL
MsgConfiguration *msg_configuration_new_default    (GError          **error);
MSG_AVAILABLE_IN_ALL
MsgConfiguration *msg_configuration_copy           (MsgConfiguration *self);
MSG_AVAILABLE_IN_ALL
gboolean          msg_configuration_equal          (MsgConfiguration *self,
                                                    MsgConfiguration *other);

MSG_AVAILABLE_IN_ALL
gboolean          msg_configuration_load_from_file (MsgConfiguration *self,
                                                    const char       *path,
                                                    GError          **error);
MSG_AVAILABLE_IN_ALL
gboolean          msg_configuration_load_from_data (MsgConfiguration *self,
                                                    const char       *data,
                                                    gssize            length,
                                                    GError          **error);

MSG_AVAILABLE_IN_ALL
gboolean          msg_configuration_set_field      (MsgConfiguration *self,
                                                    const char       *name,
                                                    const char       *value,
                                                    GError          **error);
MSG_AVAILABLE_IN_ALL
gboolean          msg_configuration_set_field_value (MsgConfiguration *self,
                                                     const char       *name,
                                                     const GValue     *value,
                                                     GError          **error);
MSG_AVAILABLE_IN_ALL
gboolean          msg_configuration_set_fields     (MsgConfiguration *self,
                                                    GHashTable       *fields,
                                                    GError          **error);
MSG_AVAILABLE_IN_ALL
gboolean          msg_configuration_reset_field    (MsgConfiguration *self,
                                                    const char       *name,
                                                    GError          **error);
MSG_AVAILABLE_IN_ALL
char             *msg_configuration_get_field      (MsgConfiguration *self,
                                                    const char       *name);
MSG_AVAILABLE_IN_ALL
gboolean          msg_configuration_is_field_set   (MsgConfiguration *self,
                                                    const char       *name);
MSG_AVAILABLE_IN_ALL
int               msg_configuration_get_int        (MsgConfiguration *self,
                                                    const char       *name);
MSG_AVAILABLE_IN_ALL
gboolean          msg_configuration_get_boolean    (MsgConfiguration *self,
                                                    const char       *name);
MSG_AVAILABLE_IN_ALL
double            msg_configuration_get_seconds    (MsgConfiguration *self,
                                                    const char       *name);
MSG_AVAILABLE_IN_ALL
char             *msg_configuration_get_secret     (MsgConfiguration *self,
                                                    const char       *name);
MSG_AVAILABLE_IN_ALL
GStrv             msg_configuration_list_fields    (MsgConfiguration *self);

MSG_AVAILABLE_IN_ALL
MsgFieldType      msg_configuration_get_field_type (const char       *name);
MSG_AVAILABLE_IN_ALL
gboolean          msg_configuration_has_field      (const char       *name);

MSG_AVAILABLE_IN_ALL
gboolean          msg_configuration_register_field (const char        *name,
                                                    MsgFieldType       type,
                                                    const char        *default_value,
                                                    const char *const *choices,
                                                    GError           **error);

G_END_DECLS
