/* msg-language-private.h: the languages of the reply and forward header
 * block (the `languagecode` field)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _MsgLanguage MsgLanguage;

/* The language of @code (RFC 1766/5646: `de`, `de-AT`, `zh-CN`; case
 * does not matter; NULL or empty is English), or NULL if the block has
 * no translation for it. */
const MsgLanguage *_msg_language_find (const char *code);

/* The codes known, for an error message: "en, de, fr…". */
const char *_msg_language_list (void);

/* The parts of the block in @language. */
const char *_msg_language_separator (const MsgLanguage *language);
/* @field is one of "From", "Sent", "To", "Cc", "Subject". */
const char *_msg_language_label (const MsgLanguage *language,
                                 const char        *field);
/* @date as the `Sent` line writes it in @language. */
char *_msg_language_format_date (const MsgLanguage *language,
                                 GDateTime         *date);

G_END_DECLS
