/* test-utils.h: helpers shared by the C test suites
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <msgobj.h>

G_BEGIN_DECLS

/* Number of open file descriptors of this process. */
unsigned msg_test_count_fds (void);

/* Asserts that @start_us (from g_get_monotonic_time) is at most
 * @limit_ms milliseconds ago. */
#define msg_test_assert_elapsed_below(start_us, limit_ms)                  \
  g_assert_cmpint ((g_get_monotonic_time () - (start_us)) / 1000, <=, (limit_ms))

/* A fresh temporary directory under the test's isolated tmp; free with
 * msg_test_remove_tree(). */
char *msg_test_make_temp_dir (void);
void  msg_test_remove_tree (const char *path);

G_END_DECLS
