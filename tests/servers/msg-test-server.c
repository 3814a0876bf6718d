/* msg-test-server.c: scripted fake SMTP/NNTP servers for tests
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-test-server.h"
