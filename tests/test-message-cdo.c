/* test-message-cdo.c: CDO fidelity: Importance, Priority and Sensitivity
 * as properties, languagecode, the CDO time zone ids
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-message-utils.h"

#include <string.h>

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 gpointer    user_data)
{
  GHashTable *counts = user_data;
  guint       n = GPOINTER_TO_UINT (g_hash_table_lookup (counts, pspec->name));

  g_hash_table_insert (counts, (gpointer) g_intern_string (pspec->name), GUINT_TO_POINTER (n + 1));
}

static guint
count_of (GHashTable *counts,
          const char *name)
{
  return GPOINTER_TO_UINT (g_hash_table_lookup (counts, g_intern_string (name)));
}

static void
test_enum_properties (void)
{
  g_autoptr (MsgMessage) message = make_message ();
  g_autoptr (GHashTable) counts = g_hash_table_new (NULL, NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  MsgImportance    importance;
  MsgPriority      priority;
  MsgSensitivity   sensitivity;

  g_signal_connect (message, "notify", G_CALLBACK (count_notify_cb), counts);

  g_object_get (message, "importance", &importance, "priority", &priority, "sensitivity", &sensitivity, NULL);
  g_assert_cmpint (importance, ==, MSG_IMPORTANCE_NORMAL);
  g_assert_cmpint (priority, ==, MSG_PRIORITY_NORMAL);
  g_assert_cmpint (sensitivity, ==, MSG_SENSITIVITY_NONE);

  g_object_set (message, "importance", MSG_IMPORTANCE_HIGH, "priority", MSG_PRIORITY_URGENT, "sensitivity",
                MSG_SENSITIVITY_PRIVATE, NULL);
  g_assert_cmpuint (count_of (counts, "importance"), ==, 1);
  g_assert_cmpuint (count_of (counts, "priority"), ==, 1);
  g_assert_cmpuint (count_of (counts, "sensitivity"), ==, 1);
  text = to_string (message);
  g_assert_nonnull (strstr (text, "\r\nImportance: high\r\n"));
  g_assert_nonnull (strstr (text, "\r\nPriority: urgent\r\n"));
  g_assert_nonnull (strstr (text, "\r\nX-Priority: 1 (Highest)\r\n"));
  g_assert_nonnull (strstr (text, "\r\nSensitivity: Private\r\n"));

  /* The same value again: no notification. */
  msg_message_set_importance (message, MSG_IMPORTANCE_HIGH);
  g_assert_cmpuint (count_of (counts, "importance"), ==, 1);

  /* Through the headers and the httpmail fields, too. */
  g_assert_true (msg_message_set_header (message, "Importance", "low", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (count_of (counts, "importance"), ==, 2);
  g_object_get (message, "importance", &importance, NULL);
  g_assert_cmpint (importance, ==, MSG_IMPORTANCE_LOW);
  g_assert_true (msg_message_set_header (message, "urn:schemas:httpmail:priority", "-1", &error));
  g_assert_cmpuint (count_of (counts, "priority"), ==, 2);
  g_assert_cmpint (msg_message_get_priority (message), ==, MSG_PRIORITY_NON_URGENT);
  g_assert_true (msg_message_remove_header (message, "Sensitivity"));
  g_assert_cmpuint (count_of (counts, "sensitivity"), ==, 2);
  g_assert_cmpint (msg_message_get_sensitivity (message), ==, MSG_SENSITIVITY_NONE);
  msg_message_set_sensitivity (message, MSG_SENSITIVITY_NONE);
  g_assert_cmpuint (count_of (counts, "sensitivity"), ==, 2);

  g_signal_handlers_disconnect_by_func (message, count_notify_cb, counts);
}

/* One language of the reply and forward header block: the strings
 * CDO and Outlook wrote, and the Sent date of 2027-01-04 09:05 UTC (a
 * Monday). */
typedef struct
{
  const char *code;
  const char *lines[6]; /* separator, From, Sent (with the date), To, Cc, Subject */
} LanguageCase;

static const LanguageCase language_cases[] = {
  { "en-US",
    { "-----Original Message-----", "From: ann@example.com", "Sent: Monday, January 04, 2027 09:05",
      "To: bob@example.org", "Cc: carol@example.net", "Subject: Plans" } },
  { "de",
    { "-----Ursprüngliche Nachricht-----", "Von: ann@example.com", "Gesendet: Montag, 4. Januar 2027 09:05",
      "An: bob@example.org", "Cc: carol@example.net", "Betreff: Plans" } },
  { "de-AT",
    { "-----Ursprüngliche Nachricht-----", "Von: ann@example.com", "Gesendet: Montag, 4. Januar 2027 09:05",
      "An: bob@example.org", "Cc: carol@example.net", "Betreff: Plans" } },
  { "fr",
    { "-----Message d'origine-----", "De : ann@example.com", "Envoyé : lundi 4 janvier 2027 09:05",
      "À : bob@example.org", "Cc : carol@example.net", "Objet : Plans" } },
  { "es",
    { "-----Mensaje original-----", "De: ann@example.com", "Enviado el: lunes, 4 de enero de 2027 09:05",
      "Para: bob@example.org", "CC: carol@example.net", "Asunto: Plans" } },
  { "it",
    { "-----Messaggio originale-----", "Da: ann@example.com", "Inviato: lunedì 4 gennaio 2027 09:05",
      "A: bob@example.org", "Cc: carol@example.net", "Oggetto: Plans" } },
  { "nl",
    { "-----Oorspronkelijk bericht-----", "Van: ann@example.com", "Verzonden: maandag 4 januari 2027 09:05",
      "Aan: bob@example.org", "CC: carol@example.net", "Onderwerp: Plans" } },
  { "pt-BR",
    { "-----Mensagem original-----", "De: ann@example.com", "Enviada em: segunda-feira, 4 de janeiro de 2027 09:05",
      "Para: bob@example.org", "Cc: carol@example.net", "Assunto: Plans" } },
  { "ja",
    { "-----Original Message-----", "差出人: ann@example.com", "送信日時: 2027年1月4日 09:05",
      "宛先: bob@example.org", "CC: carol@example.net", "件名: Plans" } },
  { "zh-CN",
    { "-----邮件原件-----", "发件人: ann@example.com", "发送时间: 2027年1月4日 09:05", "收件人: bob@example.org",
      "抄送: carol@example.net", "主题: Plans" } },
};

static MsgMessage *
original_in (const char *code)
{
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GDateTime) date = g_date_time_new_utc (2027, 1, 4, 9, 5, 0);
  MsgMessage *message;

  g_assert_true (msg_configuration_set_field (cfg, "languagecode", code, &error));
  g_assert_true (msg_configuration_set_field (cfg, "timezoneid", "0", &error));
  g_assert_no_error (error);
  message = msg_message_new_with_configuration (cfg);
  g_assert_true (msg_message_set_from (message, "ann@example.com", &error));
  g_assert_true (msg_message_set_to (message, "bob@example.org", &error));
  g_assert_true (msg_message_set_cc (message, "carol@example.net", &error));
  g_assert_true (msg_message_set_subject (message, "Plans", &error));
  g_assert_no_error (error);
  msg_message_set_sent_on (message, date);
  msg_message_set_text_body (message, "Let us meet.");
  return message;
}

static void
assert_block (const char         *text,
              const LanguageCase *lc)
{
  g_autofree char *expected = g_strjoin ("\r\n", lc->lines[0], lc->lines[1], lc->lines[2], lc->lines[3],
                                         lc->lines[4], lc->lines[5], "", NULL);

  if (strstr (text, expected) == NULL)
    g_error ("%s: no block\n%s\nin\n%s", lc->code, expected, text);
}

static void
test_language (gconstpointer data)
{
  const LanguageCase *lc = data;
  g_autoptr (MsgMessage) original = original_in (lc->code);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgMessage) reply = msg_message_create_reply (original);
  g_autoptr (MsgMessage) forward = NULL;
  g_autofree char *text = NULL;
  g_autofree char *forwarded = NULL;

  g_assert_no_error (error);
  text = msg_message_get_text_body (reply);
  assert_block (text, lc);
  forward = msg_message_create_forward (original);
  g_assert_no_error (error);
  forwarded = msg_message_get_text_body (forward);
  assert_block (forwarded, lc);
  g_assert_nonnull (strstr (forwarded, "Let us meet."));
}

/* The HTML block is in the language too, escaped. */
static void
test_language_html (void)
{
  g_autoptr (MsgMessage) original = original_in ("fr");
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgMessage) reply = NULL;
  g_autofree char *html = NULL;

  msg_message_set_html_body (original, "<p>Rendez-vous</p>");
  reply = msg_message_create_reply (original);
  g_assert_no_error (error);
  html = msg_message_get_html_body (reply);
  g_assert_nonnull (strstr (html, "-----Message d'origine-----<br>"));
  g_assert_nonnull (strstr (html, "<b>Objet :</b> Plans<br>"));
}

static void
test_language_unknown (void)
{
  static const char *const unknown[] = { "sv", "zh", "zh-TW", "x", "klingon" };
  g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();

  for (gsize i = 0; i < G_N_ELEMENTS (unknown); i++)
    {
      g_autoptr (GError) error = NULL;

      g_assert_false (msg_configuration_set_field (cfg, "languagecode", unknown[i], &error));
      g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE);
      g_assert_nonnull (strstr (error->message, unknown[i]));
      g_assert_nonnull (strstr (error->message, "languagecode"));
    }
}

/* The UTC offset, in minutes, of each CDO time zone id in January and
 * July 2026, as the IANA rules of today give them. alt: the offsets of a
 * tzdata older than the rule change it names (the test must not depend
 * on the machine's tzdata release). */
typedef struct
{
  int      id;
  int      january;
  int      july;
  gboolean has_alt; /* Almaty (+5 since 2024b), Cairo (DST since 2023),
                     * Nuuk (-2 since 2023c), Fiji (no DST since 2022) */
  int alt_january;
  int alt_july;
} ZoneCase;

static const ZoneCase zone_cases[] = {
  { 0, 0, 0 },
  { 1, 0, 60 },
  { 2, 60, 120 },
  { 3, 60, 120 },
  { 4, 60, 120 },
  { 5, 120, 180 },
  { 6, 60, 120 },
  { 7, 120, 180 },
  { 8, -180, -180 },
  { 9, -240, -180 },
  { 10, -300, -240 },
  { 11, -360, -300 },
  { 12, -420, -360 },
  { 13, -480, -420 },
  { 14, -540, -480 },
  { 15, -600, -600 },
  { 16, -660, -660 },
  { 17, 780, 720 },
  { 18, 600, 600 },
  { 19, 630, 570 },
  { 20, 540, 540 },
  { 21, 480, 480 },
  { 22, 420, 420 },
  { 23, 330, 330 },
  { 24, 240, 240 },
  { 25, 210, 210 },
  { 26, 180, 180 },
  { 27, 120, 180 },
  { 28, -210, -150 },
  { 29, -60, 0 },
  { 30, -120, -120 },
  { 31, 0, 0 },
  { 32, -180, -180 },
  { 33, -240, -240 },
  { 34, -300, -240 },
  { 35, -300, -300 },
  { 36, -360, -360 },
  { 37, -360, -360 },
  { 38, -420, -420 },
  { 39, -720, -720 },
  { 40, 720, 720, TRUE, 780, 720 },
  { 41, 660, 660 },
  { 42, 660, 600 },
  { 43, 600, 600 },
  { 44, 570, 570 },
  { 45, 480, 480 },
  { 46, 300, 300, TRUE, 360, 360 },
  { 47, 300, 300 },
  { 48, 270, 270 },
  { 49, 120, 180, TRUE, 120, 120 },
  { 50, 120, 120 },
  { 51, 180, 180 },
  { 53, -60, -60 },
  { 54, 240, 240 },
  { 55, -360, -360 },
  { 56, 180, 180 },
  { 57, 660, 600 },
  { 58, 300, 300 },
  { 59, 120, 180 },
  { 60, -120, -60, TRUE, -180, -120 },
  { 61, 390, 390 },
  { 62, 345, 345 },
  { 63, 480, 480 },
  { 64, 420, 420 },
  { 65, -180, -240 },
  { 66, 330, 330 },
  { 67, 780, 780 },
  { 68, 600, 600 },
  { 69, 60, 60 },
  { 70, 540, 540 },
  { 71, 360, 360 },
  { 72, 540, 540 },
  { 73, 480, 480 },
  { 74, 180, 180 },
  { 75, 480, 480 },
  { 76, 660, 600 },
  { 77, -420, -420 },
  { 78, 660, 600 },
  { 79, 630, 570 },
  { 80, 660, 600 },
  { 81, -480, -420 },
};

static int
offset_in (MsgMessage *message,
           GDateTime  *utc)
{
  g_autoptr (GDateTime) read = NULL;

  msg_message_set_sent_on (message, utc);
  read = msg_message_get_sent_on (message);
  g_assert_nonnull (read);
  g_assert_cmpint (g_date_time_to_unix (read), ==, g_date_time_to_unix (utc));
  return (int) (g_date_time_get_utc_offset (read) / G_TIME_SPAN_MINUTE);
}

static void
test_timezone_ids (void)
{
  g_autoptr (GDateTime) january = g_date_time_new_utc (2026, 1, 15, 12, 0, 0);
  g_autoptr (GDateTime) july = g_date_time_new_utc (2026, 7, 15, 12, 0, 0);
  gboolean seen[82] = { FALSE };

  g_test_summary ("Every CDO time zone id (0 to 81 but 52, cdoFloating) maps to a zone with the offset "
                  "its city has, in winter and in summer; SentOn is read back in it.");

  for (gsize i = 0; i < G_N_ELEMENTS (zone_cases); i++)
    {
      const ZoneCase *zc = &zone_cases[i];
      g_autoptr (MsgConfiguration) cfg = msg_configuration_new ();
      g_autoptr (MsgMessage) message = NULL;
      g_autoptr (GError) error = NULL;
      g_autofree char *id = g_strdup_printf ("%d", zc->id);
      int              jan, jul;

      g_assert_true (msg_configuration_set_field (cfg, "timezoneid", id, &error));
      g_assert_no_error (error);
      message = msg_message_new_with_configuration (cfg);
      jan = offset_in (message, january);
      jul = offset_in (message, july);
      if ((jan != zc->january || jul != zc->july) &&
          !(zc->has_alt && jan == zc->alt_january && jul == zc->alt_july))
        g_error ("timezoneid %d: offsets %d/%d minutes, expected %d/%d", zc->id, jan, jul, zc->january, zc->july);
      seen[zc->id] = TRUE;
    }

  for (int i = 0; i < 82; i++)
    g_assert_true (seen[i] || i == 52);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/message-cdo/enum-properties", test_enum_properties);
  for (gsize i = 0; i < G_N_ELEMENTS (language_cases); i++)
    {
      g_autofree char *path = g_strdup_printf ("/message-cdo/language/%s", language_cases[i].code);

      g_test_add_data_func (path, &language_cases[i], test_language);
    }
  g_test_add_func ("/message-cdo/language-html", test_language_html);
  g_test_add_func ("/message-cdo/language-unknown", test_language_unknown);
  g_test_add_func ("/message-cdo/timezone-ids", test_timezone_ids);

  return g_test_run ();
}
