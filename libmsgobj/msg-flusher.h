/* msg-flusher.h: sending every message of a drop directory
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MSGOBJ_H_INSIDE__) && !defined(MSGOBJ_COMPILATION)
#error "Only <msgobj.h> can be included directly."
#endif

#include "msg-types.h"

G_BEGIN_DECLS

/**
 * MSG_FLUSHER_DEFAULT_CONNECTIONS:
 *
 * The number of connections a [class@Flusher] keeps by default.
 */
#define MSG_FLUSHER_DEFAULT_CONNECTIONS 4

/**
 * MSG_FLUSHER_MAX_RATE_LIMIT:
 *
 * The highest rate limit a [class@Flusher] takes, in messages a second.
 */
#define MSG_FLUSHER_MAX_RATE_LIMIT 1000000.0

#define MSG_TYPE_FLUSHER (msg_flusher_get_type ())
MSG_AVAILABLE_IN_ALL
G_DECLARE_FINAL_TYPE (MsgFlusher, msg_flusher, MSG, FLUSHER, GObject)

MSG_AVAILABLE_IN_ALL
MsgFlusher       *msg_flusher_new             (MsgConfiguration     *configuration,
                                               MsgDropDirectory     *directory);
MSG_AVAILABLE_IN_ALL
MsgConfiguration *msg_flusher_get_configuration (MsgFlusher         *self);
MSG_AVAILABLE_IN_ALL
MsgDropDirectory *msg_flusher_get_directory   (MsgFlusher           *self);
MSG_AVAILABLE_IN_ALL
guint             msg_flusher_get_connections (MsgFlusher           *self);
MSG_AVAILABLE_IN_ALL
void              msg_flusher_set_connections (MsgFlusher           *self,
                                               guint                 connections);
MSG_AVAILABLE_IN_ALL
double            msg_flusher_get_rate_limit  (MsgFlusher           *self);
MSG_AVAILABLE_IN_ALL
void              msg_flusher_set_rate_limit  (MsgFlusher           *self,
                                               double                rate_limit);
MSG_AVAILABLE_IN_ALL
gboolean          msg_flusher_get_post        (MsgFlusher           *self);
MSG_AVAILABLE_IN_ALL
void              msg_flusher_set_post        (MsgFlusher           *self,
                                               gboolean              post);
MSG_AVAILABLE_IN_ALL
gboolean          msg_flusher_run             (MsgFlusher           *self,
                                               GCancellable         *cancellable,
                                               GError              **error);
MSG_AVAILABLE_IN_ALL
void              msg_flusher_run_async       (MsgFlusher           *self,
                                               GCancellable         *cancellable,
                                               GAsyncReadyCallback   callback,
                                               gpointer              user_data);
MSG_AVAILABLE_IN_ALL
gboolean          msg_flusher_run_finish      (MsgFlusher           *self,
                                               GAsyncResult         *result,
                                               GError              **error);
MSG_AVAILABLE_IN_ALL
guint             msg_flusher_get_n_sent      (MsgFlusher           *self);
MSG_AVAILABLE_IN_ALL
guint             msg_flusher_get_n_failed    (MsgFlusher           *self);
MSG_AVAILABLE_IN_ALL
guint             msg_flusher_get_n_deferred  (MsgFlusher           *self);
MSG_AVAILABLE_IN_ALL
guint             msg_flusher_get_n_unknown   (MsgFlusher           *self);
MSG_AVAILABLE_IN_ALL
guint             msg_flusher_get_n_skipped   (MsgFlusher           *self);
MSG_AVAILABLE_IN_ALL
GError           *msg_flusher_dup_deferral_error (MsgFlusher        *self);

G_END_DECLS
