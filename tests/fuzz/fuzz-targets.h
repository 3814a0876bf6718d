/* fuzz-targets.h: the fuzz targets, shared by libFuzzer and the driver
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Each target takes arbitrary bytes, must never crash, hang or leak, and
 * aborts (g_assert) when an invariant of the code under test breaks.
 */
#pragma once

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);
