/* msg-timezone.c: the `timezoneid` field as a GTimeZone
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-timezone-private.h"

#include <stdlib.h>

/* CDO's CdoTimeZoneId (cdosys.h), each beside the IANA zone of the city
 * it is named after. CDO kept its own table of Windows zones; the IANA
 * database gives today's rules for the same places, so an offset may
 * differ from CDO's where the place changed since (Sri Lanka +5:30 rather
 * than +6, Almaty +5 rather than +6 from 2024, Greenland -2 rather than
 * -3 from 2023). Two follow CDO's offset rather than the name, where the
 * named city left the zone CDO meant: 39 and 77. tests/test-message-cdo.c
 * checks the offset of every entry in January and July. */
static const char *const cdo_zones[] = {
  "UTC",                            /* 0 cdoUTC */
  "Europe/London",                  /* 1 cdoGMT */
  "Europe/Sarajevo",                /* 2 cdoSarajevo (CDOEX: cdoLisbon), "Sarajevo, Warsaw, Zagreb" +1 */
  "Europe/Paris",                   /* 3 cdoParis */
  "Europe/Berlin",                  /* 4 cdoBerlin */
  "Europe/Bucharest",               /* 5 cdoEasternEurope */
  "Europe/Prague",                  /* 6 cdoPrague */
  "Europe/Athens",                  /* 7 cdoAthens */
  "America/Sao_Paulo",              /* 8 cdoBrasilia */
  "America/Halifax",                /* 9 cdoAtlanticCanada */
  "America/New_York",               /* 10 cdoEastern */
  "America/Chicago",                /* 11 cdoCentral */
  "America/Denver",                 /* 12 cdoMountain */
  "America/Los_Angeles",            /* 13 cdoPacific */
  "America/Anchorage",              /* 14 cdoAlaska */
  "Pacific/Honolulu",               /* 15 cdoHawaii */
  "Pacific/Midway",                 /* 16 cdoMidwayIsland */
  "Pacific/Auckland",               /* 17 cdoWellington */
  "Australia/Brisbane",             /* 18 cdoBrisbane */
  "Australia/Adelaide",             /* 19 cdoAdelaide */
  "Asia/Tokyo",                     /* 20 cdoTokyo */
  "Asia/Singapore",                 /* 21 cdoSingapore (CDOEX: cdoHongKong) */
  "Asia/Bangkok",                   /* 22 cdoBangkok */
  "Asia/Kolkata",                   /* 23 cdoBombay */
  "Asia/Dubai",                     /* 24 cdoAbuDhabi */
  "Asia/Tehran",                    /* 25 cdoTehran */
  "Asia/Baghdad",                   /* 26 cdoBaghdad */
  "Asia/Jerusalem",                 /* 27 cdoIsrael */
  "America/St_Johns",               /* 28 cdoNewfoundland */
  "Atlantic/Azores",                /* 29 cdoAzores */
  "Atlantic/South_Georgia",         /* 30 cdoMidAtlantic */
  "Africa/Monrovia",                /* 31 cdoMonrovia */
  "America/Argentina/Buenos_Aires", /* 32 cdoBuenosAires */
  "America/Caracas",                /* 33 cdoCaracas */
  "America/Indiana/Indianapolis",   /* 34 cdoIndiana */
  "America/Bogota",                 /* 35 cdoBogota */
  "America/Regina",                 /* 36 cdoSaskatchewan */
  "America/Mexico_City",            /* 37 cdoMexicoCity */
  "America/Phoenix",                /* 38 cdoArizona */
  "Etc/GMT+12",                     /* 39 cdoEniwetok: CDO's "Dateline" -12 (Kwajalein is +12 since 1993) */
  "Pacific/Fiji",                   /* 40 cdoFiji */
  "Asia/Magadan",                   /* 41 cdoMagadan */
  "Australia/Hobart",               /* 42 cdoHobart */
  "Pacific/Guam",                   /* 43 cdoGuam */
  "Australia/Darwin",               /* 44 cdoDarwin */
  "Asia/Shanghai",                  /* 45 cdoBeijing */
  "Asia/Almaty",                    /* 46 cdoAlmaty */
  "Asia/Karachi",                   /* 47 cdoIslamabad */
  "Asia/Kabul",                     /* 48 cdoKabul */
  "Africa/Cairo",                   /* 49 cdoCairo */
  "Africa/Harare",                  /* 50 cdoHarare */
  "Europe/Moscow",                  /* 51 cdoMoscow */
  NULL,                             /* 52 cdoFloating: no zone */
  "Atlantic/Cape_Verde",            /* 53 cdoCapeVerde */
  "Asia/Tbilisi",                   /* 54 cdoCaucasus */
  "America/Guatemala",              /* 55 cdoCentralAmerica */
  "Africa/Nairobi",                 /* 56 cdoEastAfrica */
  "Australia/Melbourne",            /* 57 cdoMelbourne */
  "Asia/Yekaterinburg",             /* 58 cdoEkaterinburg */
  "Europe/Helsinki",                /* 59 cdoHelsinki */
  "America/Nuuk",                   /* 60 cdoGreenland */
  "Asia/Yangon",                    /* 61 cdoRangoon */
  "Asia/Kathmandu",                 /* 62 cdoNepal */
  "Asia/Irkutsk",                   /* 63 cdoIrkutsk */
  "Asia/Krasnoyarsk",               /* 64 cdoKrasnoyarsk */
  "America/Santiago",               /* 65 cdoSantiago */
  "Asia/Colombo",                   /* 66 cdoSriLanka */
  "Pacific/Tongatapu",              /* 67 cdoTonga */
  "Asia/Vladivostok",               /* 68 cdoVladivostok */
  "Africa/Lagos",                   /* 69 cdoWestCentralAfrica */
  "Asia/Yakutsk",                   /* 70 cdoYakutsk */
  "Asia/Dhaka",                     /* 71 cdoDhaka */
  "Asia/Seoul",                     /* 72 cdoSeoul */
  "Australia/Perth",                /* 73 cdoPerth */
  "Asia/Riyadh",                    /* 74 cdoArab */
  "Asia/Taipei",                    /* 75 cdoTaipei */
  "Australia/Sydney",               /* 76 cdoSydney2000 */
  "America/Mazatlan",               /* 77 cdoChihuahua: "Chihuahua, La Paz, Mazatlan" -7 (Chihuahua is -6 since 2022) */
  "Australia/Sydney",               /* 78 cdoCanberraCommonwealthGames2006 */
  "Australia/Adelaide",             /* 79 cdoAdelaideCommonwealthGames2006 */
  "Australia/Hobart",               /* 80 cdoHobartCommonwealthGames2006 */
  "America/Tijuana",                /* 81 cdoTijuana */
};

GTimeZone *
_msg_timezone_new_for_id (const char  *id,
                          const char **reason)
{
  GTimeZone *tz;

  if (g_ascii_isdigit (id[0]))
    {
      char  *end = NULL;
      gint64 n = g_ascii_strtoll (id, &end, 10);

      if (*end != '\0' || n < 0 || n >= (gint64) G_N_ELEMENTS (cdo_zones))
        {
          *reason = "expected a CDO time zone number (0 to 81) or a zone name such as “Europe/Paris”";
          return NULL;
        }
      if (cdo_zones[n] == NULL)
        {
          *reason = "52 is cdoFloating, which names no zone: a message date needs one";
          return NULL;
        }
      id = cdo_zones[n];
    }

  tz = g_time_zone_new_identifier (id);
  if (tz == NULL)
    *reason = "no such time zone";
  return tz;
}

/* GLib 2.74 identifies the local zone anew on every g_time_zone_new_local()
 * when TZ is unset (it compares the zone's name with the unset variable):
 * two stat() calls and a readlink() per message sent. The zone is kept
 * while TZ stays the same, for a second at most, so a change of the
 * system's zone still shows within one; the zone itself knows its
 * daylight-saving rules. */
#define LOCAL_ZONE_LIFETIME_US G_USEC_PER_SEC

GTimeZone *
_msg_timezone_new_local (void)
{
  static GMutex     lock;
  static GTimeZone *local;
  static char      *local_tz_env;
  static gint64     checked_at;
  const char       *tz_env = g_getenv ("TZ");
  gint64            now = g_get_monotonic_time ();
  GTimeZone        *tz;

  g_mutex_lock (&lock);
  if (local == NULL || now - checked_at >= LOCAL_ZONE_LIFETIME_US || g_strcmp0 (tz_env, local_tz_env) != 0)
    {
      g_clear_pointer (&local, g_time_zone_unref);
      g_free (local_tz_env);
      local = g_time_zone_new_local ();
      local_tz_env = g_strdup (tz_env);
      checked_at = now;
    }
  tz = g_time_zone_ref (local);
  g_mutex_unlock (&lock);
  return tz;
}
