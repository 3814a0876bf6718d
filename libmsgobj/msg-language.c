/* msg-language.c: the reply and forward header block in the languages of
 * CDO and Outlook
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-language-private.h"

#include <string.h>

struct _MsgLanguage
{
  const char *code;      /* primary tag, or tag-region for zh-CN */
  const char *separator; /* the line above the block */
  const char *from;
  const char *sent;
  const char *to;
  const char *cc;
  const char *subject;
  /* The Sent date: %W weekday, %N month name, %e day, %D day on two
   * digits, %m month number, %Y year, %H:%M time. */
  const char *date_format;
  const char *weekdays[7]; /* Monday first */
  const char *months[12];
};

/* The strings Outlook and CDO wrote in each language ("-----Original
 * Message-----" block). One table: a new language is one entry. */
static const MsgLanguage languages[] = {
  { "en", "-----Original Message-----", "From:", "Sent:", "To:", "Cc:", "Subject:", "%W, %N %D, %Y %H:%M", { "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday" }, { "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December" } },
  { "de", "-----Ursprüngliche Nachricht-----", "Von:", "Gesendet:", "An:", "Cc:", "Betreff:", "%W, %e. %N %Y %H:%M", { "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag" }, { "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember" } },
  { "fr", "-----Message d'origine-----", "De :", "Envoyé :", "À :", "Cc :", "Objet :", "%W %e %N %Y %H:%M", { "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche" }, { "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre" } },
  { "es", "-----Mensaje original-----", "De:", "Enviado el:", "Para:", "CC:", "Asunto:", "%W, %e de %N de %Y %H:%M", { "lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo" }, { "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre" } },
  { "it", "-----Messaggio originale-----", "Da:", "Inviato:", "A:", "Cc:", "Oggetto:", "%W %e %N %Y %H:%M", { "lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica" }, { "gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre" } },
  { "nl", "-----Oorspronkelijk bericht-----", "Van:", "Verzonden:", "Aan:", "CC:", "Onderwerp:", "%W %e %N %Y %H:%M", { "maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag" }, { "januari", "februari", "maart", "april", "mei", "juni", "juli", "augustus", "september", "oktober", "november", "december" } },
  { "pt", "-----Mensagem original-----", "De:", "Enviada em:", "Para:", "Cc:", "Assunto:", "%W, %e de %N de %Y %H:%M", { "segunda-feira", "terça-feira", "quarta-feira", "quinta-feira", "sexta-feira", "sábado", "domingo" }, { "janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto", "setembro", "outubro", "novembro", "dezembro" } },
  { "ja", "-----Original Message-----", "差出人:", "送信日時:", "宛先:", "CC:", "件名:", "%Y年%m月%e日 %H:%M", { "月曜日", "火曜日", "水曜日", "木曜日", "金曜日", "土曜日", "日曜日" }, { "1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月" } },
  { "zh-cn", "-----邮件原件-----", "发件人:", "发送时间:", "收件人:", "抄送:", "主题:", "%Y年%m月%e日 %H:%M", { "星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日" }, { "一月", "二月", "三月", "四月", "五月", "六月", "七月", "八月", "九月", "十月", "十一月", "十二月" } },
};

const MsgLanguage *
_msg_language_find (const char *code)
{
  g_autofree char *lower = NULL;
  gsize            primary;

  if (code == NULL || *code == '\0')
    return &languages[0];

  lower = g_ascii_strdown (code, -1);
  g_strdelimit (lower, "_", '-');
  primary = strcspn (lower, "-");

  /* Chinese: the Simplified block, for the regions and script that use
   * it; Traditional (zh-TW, zh-HK, zh-Hant) has no entry. */
  if (primary == 2 && strncmp (lower, "zh", 2) == 0)
    {
      if (g_str_equal (lower, "zh-cn") || g_str_equal (lower, "zh-sg") || g_str_has_prefix (lower, "zh-hans"))
        return &languages[G_N_ELEMENTS (languages) - 1];
      return NULL;
    }

  for (gsize i = 0; i < G_N_ELEMENTS (languages); i++)
    if (strlen (languages[i].code) == primary && strncmp (lower, languages[i].code, primary) == 0)
      return &languages[i];

  return NULL;
}

const char *
_msg_language_list (void)
{
  return "en, de, fr, es, it, nl, pt, ja, zh-CN (each with any region, as de-AT)";
}

const char *
_msg_language_separator (const MsgLanguage *language)
{
  return language->separator;
}

const char *
_msg_language_label (const MsgLanguage *language,
                     const char        *field)
{
  if (g_str_equal (field, "From"))
    return language->from;
  if (g_str_equal (field, "Sent"))
    return language->sent;
  if (g_str_equal (field, "To"))
    return language->to;
  if (g_str_equal (field, "Cc"))
    return language->cc;
  g_assert (g_str_equal (field, "Subject"));
  return language->subject;
}

char *
_msg_language_format_date (const MsgLanguage *language,
                           GDateTime         *date)
{
  GString *out = g_string_new (NULL);

  for (const char *p = language->date_format; *p != '\0'; p++)
    {
      if (*p != '%' || p[1] == '\0')
        {
          g_string_append_c (out, *p);
          continue;
        }
      switch (*++p)
        {
        case 'W':
          g_string_append (out, language->weekdays[g_date_time_get_day_of_week (date) - 1]);
          break;
        case 'N':
          g_string_append (out, language->months[g_date_time_get_month (date) - 1]);
          break;
        case 'e':
          g_string_append_printf (out, "%d", g_date_time_get_day_of_month (date));
          break;
        case 'D':
          g_string_append_printf (out, "%02d", g_date_time_get_day_of_month (date));
          break;
        case 'm':
          g_string_append_printf (out, "%d", g_date_time_get_month (date));
          break;
        case 'Y':
          g_string_append_printf (out, "%d", g_date_time_get_year (date));
          break;
        case 'H':
          g_string_append_printf (out, "%02d", g_date_time_get_hour (date));
          break;
        case 'M':
          g_string_append_printf (out, "%02d", g_date_time_get_minute (date));
          break;
        default:
          g_string_append_c (out, *p);
        }
    }

  return g_string_free (out, FALSE);
}
