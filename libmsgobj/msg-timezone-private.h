/* msg-timezone-private.h: the `timezoneid` field as a GTimeZone
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The zone that @id names: a CDO CdoTimeZoneId number ("0" to "81") or
 * an IANA zone name. NULL (with *@reason set) if it names none. */
GTimeZone *_msg_timezone_new_for_id (const char  *id,
                                     const char **reason);

/* The local zone, as g_time_zone_new_local() gives it, kept while TZ is
 * unchanged, for a second at most. */
GTimeZone *_msg_timezone_new_local (void);

G_END_DECLS
