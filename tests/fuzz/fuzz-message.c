/* fuzz-message.c: parsing arbitrary messages and writing them back
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <msgobj.h>

#include "fuzz-targets.h"

/* Every line of @bytes ends in CRLF: no bare CR, no bare LF. */
static void
assert_crlf (GBytes *bytes)
{
  gsize         size;
  const guint8 *p = g_bytes_get_data (bytes, &size);

  for (gsize i = 0; i < size; i++)
    {
      if (p[i] == '\r')
        g_assert_true (i + 1 < size && p[i + 1] == '\n');
      else if (p[i] == '\n')
        g_assert_true (i > 0 && p[i - 1] == '\r');
    }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr (GBytes) input = g_bytes_new (data, size);
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgMessage) message = msg_message_new_from_bytes (input, &error);
  g_autoptr (GBytes) output = NULL;
  g_autoptr (MsgMessage) again = NULL;

  if (message == NULL)
    {
      g_assert_nonnull (error);
      return 0;
    }
  g_assert_no_error (error);
  /* The object model reads whatever was parsed without crashing. */
  g_free (msg_message_get_from (message));
  g_free (msg_message_get_to (message));
  g_free (msg_message_get_subject (message));
  g_free (msg_message_get_text_body (message));
  g_free (msg_message_get_html_body (message));
  g_list_free (msg_message_get_attachments (message));

  output = msg_message_to_bytes (message, &error);
  if (output == NULL)
    {
      /* Refusing to write a hostile parsed header is allowed; crashing
       * or writing it is not. */
      g_assert_nonnull (error);
      return 0;
    }
  assert_crlf (output);
  /* What we write, we can read again. */
  again = msg_message_new_from_bytes (output, &error);
  g_assert_no_error (error);
  g_assert_nonnull (again);
  return 0;
}
