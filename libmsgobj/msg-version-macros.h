/* msg-version-macros.h: symbol visibility and availability macros
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#if !defined(__MSGOBJ_H_INSIDE__) && !defined(MSGOBJ_COMPILATION)
#error "Only <msgobj.h> can be included directly."
#endif

#include <glib.h>

#if defined(MSGOBJ_COMPILATION) && defined(__GNUC__)
#define _MSG_EXTERN __attribute__ ((visibility ("default"))) extern
#else
#define _MSG_EXTERN extern
#endif

/**
 * MSG_AVAILABLE_IN_ALL:
 *
 * Marks a public symbol of the library: exported, and available in every
 * version.
 */
#define MSG_AVAILABLE_IN_ALL _MSG_EXTERN
/**
 * MSG_DEPRECATED_IN_ALL:
 *
 * Marks a public symbol as deprecated, with no replacement.
 */
#define MSG_DEPRECATED_IN_ALL G_DEPRECATED _MSG_EXTERN
/**
 * MSG_DEPRECATED_IN_ALL_FOR:
 * @f: the name of the symbol to use instead
 *
 * Marks a public symbol as deprecated in favour of @f.
 */
#define MSG_DEPRECATED_IN_ALL_FOR(f) G_DEPRECATED_FOR (f) _MSG_EXTERN
