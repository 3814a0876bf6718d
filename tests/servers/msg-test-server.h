/* msg-test-server.h: scripted fake SMTP/NNTP servers for tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

G_END_DECLS
