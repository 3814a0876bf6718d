/* msg-drop-directory-private.h: the drop directory's listing in batches
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "msg-drop-directory.h"

G_BEGIN_DECLS

GPtrArray *_msg_drop_directory_list_range (MsgDropDirectory *self,
                                           const char       *after,
                                           const char       *until,
                                           guint             max,
                                           guint            *n_in_range,
                                           char            **last,
                                           GCancellable     *cancellable,
                                           GError          **error);

G_END_DECLS
