/* fuzz-reply.c: msg_reply_parse() on arbitrary server replies
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <msgobj.h>

#include "fuzz-targets.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgReply) reply = msg_reply_parse ((const char *) data, (gssize) size, &error);
  const char *const *lines;

  if (reply == NULL)
    {
      /* Every refusal is a clear protocol error. */
      g_assert_nonnull (error);
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      return 0;
    }
  g_assert_no_error (error);
  g_assert_cmpuint (msg_reply_get_code (reply), >=, 100);
  g_assert_cmpuint (msg_reply_get_code (reply), <=, 599);
  /* What reaches traces and error messages is valid UTF-8. */
  g_assert_true (g_utf8_validate (msg_reply_get_text (reply), -1, NULL));
  lines = msg_reply_get_lines (reply);
  g_assert_nonnull (lines);
  for (guint i = 0; lines[i] != NULL; i++)
    g_assert_true (g_utf8_validate (lines[i], -1, NULL));
  return 0;
}
