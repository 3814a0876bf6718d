/* msg-mime-utils.c: GMime set-up and the choice of transfer encodings
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-mime-utils-private.h"

/* GMime set-up */

void
_msg_gmime_ensure_init (void)
{
  static gsize initialised = 0;

  if (g_once_init_enter (&initialised))
    {
      g_mime_init ();
      g_once_init_leave (&initialised, 1);
    }
}

GMimeParserOptions *
_msg_parser_options (void)
{
  static GMimeParserOptions *options = NULL;

  if (g_once_init_enter (&options))
    {
      GMimeParserOptions *o;

      _msg_gmime_ensure_init ();
      o = g_mime_parser_options_new ();
      g_mime_parser_options_set_address_compliance_mode (o, GMIME_RFC_COMPLIANCE_STRICT);
      g_once_init_leave (&options, o);
    }

  return options;
}

/* Options for parsing whole messages: GMime's default (loose) address
 * compliance. Its strict address parser leaks memory on input such as a
 * stray ">" (GMime 3.2), which any received message may hold; values set
 * through the API are checked by _msg_parse_address_list() instead. */
GMimeParserOptions *
_msg_message_parser_options (void)
{
  static GMimeParserOptions *options = NULL;

  if (g_once_init_enter (&options))
    {
      GMimeParserOptions *o;

      _msg_gmime_ensure_init ();
      o = g_mime_parser_options_new ();
      g_mime_parser_options_set_address_compliance_mode (o, GMIME_RFC_COMPLIANCE_LOOSE);
      g_once_init_leave (&options, o);
    }

  return options;
}

gboolean
_msg_is_forbidden_control (guchar c)
{
  return (c < 0x20 && c != '\t') || c == 0x7f;
}

/* Encodings */

GMimeContentEncoding
_msg_choose_encoding (const guint8 *data,
                      gsize         len,
                      gboolean      is_text)
{
  gsize    n_8bit = 0;
  gsize    line = 0;
  gsize    max_line = 0;
  gboolean controls = FALSE;
  gboolean nul = FALSE;

  if (!is_text)
    return GMIME_CONTENT_ENCODING_BASE64;

  for (gsize i = 0; i < len; i++)
    {
      guchar c = data[i];

      if (c == '\n')
        {
          max_line = MAX (max_line, line);
          line = 0;
          continue;
        }

      if (c == '\r')
        {
          if (i + 1 < len && data[i + 1] == '\n')
            continue;
          /* A lone CR. */
          controls = TRUE;
        }
      else if (c == '\0')
        nul = TRUE;
      else if (c >= 0x80)
        n_8bit++;
      else if (_msg_is_forbidden_control (c))
        controls = TRUE;

      line++;
    }
  max_line = MAX (max_line, line);

  if (nul)
    return GMIME_CONTENT_ENCODING_BASE64;

  if (n_8bit == 0 && !controls && max_line <= MSG_MAX_LINE_OCTETS)
    return GMIME_CONTENT_ENCODING_7BIT;

  /* Mostly ASCII: quoted-printable stays readable; otherwise base64 is
   * shorter. */
  if (n_8bit * 100 <= len * 17)
    return GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE;

  return GMIME_CONTENT_ENCODING_BASE64;
}
