/* fuzz-data.c: MsgDataOutputStream (CRLF canonicaliser and dot-stuffing)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Whatever the input and however it is split into writes, the output is
 * CRLF-only, every line that starts with '.' is stuffed, and it ends with
 * the lone-dot terminator exactly once: no bytes the caller did not mean
 * can end the DATA early (SMTP smuggling).
 */
#include "config.h"

#include <msgobj.h>

#include "fuzz-targets.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr (GOutputStream) memory = g_memory_output_stream_new_resizable ();
  g_autoptr (GOutputStream) stream = msg_data_output_stream_new (memory, TRUE);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) output = NULL;
  const guint8 *out;
  gsize         out_size;
  gsize         line_start = 0;
  gsize         offset = 0;
  unsigned      terminators = 0;
  /* The first byte chooses how the rest is split into writes. */
  gsize chunk = size > 0 ? (gsize) data[0] % 17 + 1 : 1;

  for (offset = size > 0 ? 1 : 0; offset < size; offset += chunk)
    {
      gsize n = MIN (chunk, size - offset);

      g_assert_true (g_output_stream_write_all (stream, data + offset, n, NULL, NULL, &error));
      g_assert_no_error (error);
    }
  g_assert_true (msg_data_output_stream_finish (MSG_DATA_OUTPUT_STREAM (stream), NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_output_stream_close (memory, NULL, &error));
  output = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (memory));
  out = g_bytes_get_data (output, &out_size);

  g_assert_cmpuint (out_size, >=, 3);
  for (gsize i = 0; i < out_size; i++)
    {
      if (out[i] == '\r')
        g_assert_true (i + 1 < out_size && out[i + 1] == '\n');
      else if (out[i] == '\n')
        {
          g_assert_true (i > 0 && out[i - 1] == '\r');
          /* A line "." CRLF is the terminator; any other line starting
           * with a dot was stuffed to "..". */
          if (i - line_start == 2 && out[line_start] == '.')
            terminators++;
          else if (out[line_start] == '.')
            g_assert_true (i - line_start >= 3 && out[line_start + 1] == '.');
          line_start = i + 1;
        }
    }
  g_assert_cmpuint (line_start, ==, out_size);
  g_assert_cmpuint (terminators, ==, 1);
  g_assert_true (out_size >= 3 && memcmp (out + out_size - 3, ".\r\n", 3) == 0);
  return 0;
}
