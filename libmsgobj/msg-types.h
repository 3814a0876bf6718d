/* msg-types.h: forward declarations of libmsgobj's types
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MSGOBJ_H_INSIDE__) && !defined(MSGOBJ_COMPILATION)
#error "Only <msgobj.h> can be included directly."
#endif

#include <gio/gio.h>

#include "msg-version-macros.h"
#include "msg-version.h"

G_BEGIN_DECLS

typedef struct _MsgBodyPart         MsgBodyPart;
typedef struct _MsgConfiguration    MsgConfiguration;
typedef struct _MsgConnection       MsgConnection;
typedef struct _MsgDataOutputStream MsgDataOutputStream;
typedef struct _MsgDropDirectory    MsgDropDirectory;
typedef struct _MsgDropMessage      MsgDropMessage;
typedef struct _MsgFlusher          MsgFlusher;
typedef struct _MsgMessage          MsgMessage;
typedef struct _MsgRecipientStatus  MsgRecipientStatus;
typedef struct _MsgReply            MsgReply;
typedef struct _MsgSendReport       MsgSendReport;
typedef struct _MsgTransport        MsgTransport;

G_END_DECLS
