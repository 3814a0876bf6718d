/* msgobj.h: the umbrella header of libmsgobj
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#define __MSGOBJ_H_INSIDE__

#include "msg-types.h"
#include "msg-version.h"
#include "msg-version-macros.h"
#include "msg-enums.h"
#include "msg-enum-types.h"
#include "msg-configuration.h"
#include "msg-body-part.h"
#include "msg-message.h"
#include "msg-recipient-status.h"
#include "msg-send-report.h"
#include "msg-reply.h"
#include "msg-data-output-stream.h"
#include "msg-drop-directory.h"
#include "msg-drop-message.h"
#include "msg-flusher.h"
#include "msg-connection.h"
#include "msg-transport.h"

#undef __MSGOBJ_H_INSIDE__
