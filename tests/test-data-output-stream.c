/* test-data-output-stream.c: CRLF canonicalisation and dot-stuffing
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "test-utils.h"

#include <string.h>

/* A base stream that keeps what it gets and counts the write calls. */
#define TEST_TYPE_COUNTING_STREAM (test_counting_stream_get_type ())
G_DECLARE_FINAL_TYPE (TestCountingStream, test_counting_stream, TEST, COUNTING_STREAM, GOutputStream)

struct _TestCountingStream
{
  GOutputStream parent_instance;
  GByteArray   *data;
  gboolean      keep;
  unsigned      n_writes;
  unsigned      n_small_writes; /* writes under 64 KiB */
  unsigned      n_flushes;
  gsize         total;
};

G_DEFINE_FINAL_TYPE (TestCountingStream, test_counting_stream, G_TYPE_OUTPUT_STREAM)

static gssize
counting_write (GOutputStream *stream,
                const void    *buffer,
                gsize          count,
                GCancellable  *cancellable,
                GError       **error)
{
  TestCountingStream *self = TEST_COUNTING_STREAM (stream);

  self->n_writes++;
  if (count < 64 * 1024)
    self->n_small_writes++;
  self->total += count;
  if (self->keep)
    g_byte_array_append (self->data, buffer, (guint) count);
  return (gssize) count;
}

static gboolean
counting_flush (GOutputStream *stream,
                GCancellable  *cancellable,
                GError       **error)
{
  TEST_COUNTING_STREAM (stream)->n_flushes++;
  return TRUE;
}

static void
counting_finalize (GObject *object)
{
  g_byte_array_unref (TEST_COUNTING_STREAM (object)->data);
  G_OBJECT_CLASS (test_counting_stream_parent_class)->finalize (object);
}

static void
test_counting_stream_class_init (TestCountingStreamClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = counting_finalize;
  G_OUTPUT_STREAM_CLASS (klass)->write_fn = counting_write;
  G_OUTPUT_STREAM_CLASS (klass)->flush = counting_flush;
}

static void
test_counting_stream_init (TestCountingStream *self)
{
  self->data = g_byte_array_new ();
  self->keep = TRUE;
}

/* The rule, one byte at a time. */
static GString *
reference (const char *input,
           gsize       length,
           gboolean    dot_stuff)
{
  GString *out = g_string_new (NULL);
  gboolean at_line_start = TRUE;

  for (gsize i = 0; i < length; i++)
    {
      char c = input[i];

      if (c == '\r' || c == '\n')
        {
          g_string_append (out, "\r\n");
          at_line_start = TRUE;
          if (c == '\r' && i + 1 < length && input[i + 1] == '\n')
            i++;
          continue;
        }
      if (at_line_start && dot_stuff && c == '.')
        g_string_append_c (out, '.');
      g_string_append_c (out, c);
      at_line_start = FALSE;
    }
  if (!at_line_start)
    g_string_append (out, "\r\n");
  if (dot_stuff)
    g_string_append (out, ".\r\n");
  return out;
}

/* Writes @input cut at @cut1 and @cut2 and finishes. */
static GByteArray *
convert (const char *input,
         gsize       length,
         gsize       cut1,
         gsize       cut2,
         gboolean    dot_stuff)
{
  g_autoptr (GError) error = NULL;
  TestCountingStream *base = g_object_new (TEST_TYPE_COUNTING_STREAM, NULL);
  GOutputStream      *stream = msg_data_output_stream_new (G_OUTPUT_STREAM (base), dot_stuff);
  GByteArray         *result;
  gsize               cuts[] = { 0, cut1, cut2, length };

  for (unsigned i = 0; i < 3; i++)
    {
      gsize written = 0;

      g_assert_true (g_output_stream_write_all (stream, input + cuts[i], cuts[i + 1] - cuts[i],
                                                &written, NULL, &error));
      g_assert_no_error (error);
    }
  g_assert_true (msg_data_output_stream_finish (MSG_DATA_OUTPUT_STREAM (stream), NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (msg_data_output_stream_get_bytes_in (MSG_DATA_OUTPUT_STREAM (stream)), ==, length);
  g_assert_cmpuint (msg_data_output_stream_get_bytes_out (MSG_DATA_OUTPUT_STREAM (stream)), ==, base->data->len);
  g_assert_cmpuint (base->n_flushes, >=, 1);
  result = g_byte_array_ref (base->data);
  g_object_unref (stream);
  g_assert_false (g_output_stream_is_closed (G_OUTPUT_STREAM (base)));
  g_object_unref (base);
  return result;
}

static void
assert_canonical (const guint8 *data,
                  gsize         length)
{
  for (gsize i = 0; i < length; i++)
    {
      if (data[i] == '\r')
        g_assert_true (i + 1 < length && data[i + 1] == '\n');
      if (data[i] == '\n')
        g_assert_true (i > 0 && data[i - 1] == '\r');
    }
}

static void
test_every_combination (void)
{
  static const char alphabet[] = { 'a', '.', '\r', '\n' };
  char              input[5];
  unsigned          n_cases = 0;

  g_test_summary ("Every string of a . CR LF up to 5 bytes, cut into three writes at every place, "
                  "matches the byte-at-a-time rule, with and without dot-stuffing.");

  for (gsize length = 0; length <= sizeof input; length++)
    {
      unsigned n_strings = 1;

      for (gsize i = 0; i < length; i++)
        n_strings *= G_N_ELEMENTS (alphabet);
      for (unsigned s = 0; s < n_strings; s++)
        {
          unsigned v = s;

          for (gsize i = 0; i < length; i++, v /= G_N_ELEMENTS (alphabet))
            input[i] = alphabet[v % G_N_ELEMENTS (alphabet)];
          for (int dot_stuff = 0; dot_stuff <= 1; dot_stuff++)
            {
              g_autoptr (GString) expected = reference (input, length, dot_stuff);

              for (gsize cut1 = 0; cut1 <= length; cut1++)
                for (gsize cut2 = cut1; cut2 <= length; cut2++)
                  {
                    g_autoptr (GByteArray) got = convert (input, length, cut1, cut2, dot_stuff);

                    g_assert_cmpmem (got->data, got->len, expected->str, expected->len);
                    assert_canonical (got->data, got->len);
                    n_cases++;
                  }
            }
        }
    }
  g_assert_cmpuint (n_cases, >, 10000);
}

static void
test_examples (void)
{
  static const struct
  {
    const char *in;
    gboolean    dot_stuff;
    const char *out;
  } examples[] = {
    { "", TRUE, ".\r\n" },
    { "", FALSE, "" },
    { "a", TRUE, "a\r\n.\r\n" },
    { "a\r\n", TRUE, "a\r\n.\r\n" },
    { ".", TRUE, "..\r\n.\r\n" },
    { "a\n.\nb", TRUE, "a\r\n..\r\nb\r\n.\r\n" },
    { "a\r.\rb", TRUE, "a\r\n..\r\nb\r\n.\r\n" },
    { "a\r\n.\r\n", TRUE, "a\r\n..\r\n.\r\n" },
    { "a\r\r\nb", FALSE, "a\r\n\r\nb\r\n" },
    { "\n\n", FALSE, "\r\n\r\n" },
    { ".a\n..b", FALSE, ".a\r\n..b\r\n" },
    /* The SMTP smuggling sequences: no bare CR or LF reaches the wire and
     * the only lone "." line is the final one. */
    { "x\n.\nMAIL FROM:<e@x>\n", TRUE, "x\r\n..\r\nMAIL FROM:<e@x>\r\n.\r\n" },
    { "x\r.\rMAIL", TRUE, "x\r\n..\r\nMAIL\r\n.\r\n" },
    { "x\r.\r\nMAIL", TRUE, "x\r\n..\r\nMAIL\r\n.\r\n" },
    { "x\r\n.\rMAIL", TRUE, "x\r\n..\r\nMAIL\r\n.\r\n" },
    { "x\n.\r\nMAIL", TRUE, "x\r\n..\r\nMAIL\r\n.\r\n" },
  };

  for (unsigned i = 0; i < G_N_ELEMENTS (examples); i++)
    {
      gsize length = strlen (examples[i].in);
      g_autoptr (GByteArray) got = convert (examples[i].in, length, length, length, examples[i].dot_stuff);

      g_assert_cmpmem (got->data, got->len, examples[i].out, strlen (examples[i].out));
    }
}

static void
test_big_writes (void)
{
  g_autoptr (GError) error = NULL;
  gsize               size = 8 * 1024 * 1024;
  g_autofree char    *chunk = g_malloc (size);
  TestCountingStream *base = g_object_new (TEST_TYPE_COUNTING_STREAM, NULL);
  GOutputStream      *stream = msg_data_output_stream_new (G_OUTPUT_STREAM (base), TRUE);
  gsize               expected_out = 0;

  g_test_summary ("Large data goes to the base stream in 64 KiB blocks, not a write per line.");

  base->keep = FALSE;
  /* 8 MiB of 76-byte lines ending in bare LF, some starting with a dot. */
  for (gsize i = 0; i < size; i++)
    chunk[i] = i % 77 == 76 ? '\n' : (i % 77 == 0 && i % 7 == 0 ? '.' : 'q');
  for (gsize i = 0; i < size; i++)
    expected_out += chunk[i] == '\n' ? 2 : (chunk[i] == '.' ? 2 : 1);
  if (chunk[size - 1] != '\n')
    expected_out += 2;
  expected_out += 3;

  for (gsize offset = 0; offset < size; offset += 1000 * 1000)
    g_assert_true (g_output_stream_write_all (stream, chunk + offset, MIN (1000 * 1000, size - offset),
                                              NULL, NULL, &error));
  g_assert_true (msg_data_output_stream_finish (MSG_DATA_OUTPUT_STREAM (stream), NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (base->total, ==, expected_out);
  g_assert_cmpuint (base->n_small_writes, <=, 1);
  g_assert_cmpuint (base->n_writes, <=, expected_out / (64 * 1024) + 1);

  /* Writes after finish fail. */
  g_assert_cmpint (g_output_stream_write (stream, "x", 1, NULL, &error), ==, -1);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CLOSED);
  g_object_unref (stream);
  g_object_unref (base);
}

static void
test_flush_and_close (void)
{
  g_autoptr (GError) error = NULL;
  TestCountingStream *base = g_object_new (TEST_TYPE_COUNTING_STREAM, NULL);
  GOutputStream      *stream = msg_data_output_stream_new (G_OUTPUT_STREAM (base), FALSE);

  g_test_summary ("flush writes what is collected; close writes it but never a final line; the base stays open.");

  g_assert_true (g_output_stream_write_all (stream, "a\nb", 3, NULL, NULL, &error));
  g_assert_cmpuint (base->data->len, ==, 0);
  g_assert_true (g_output_stream_flush (stream, NULL, &error));
  g_assert_cmpmem (base->data->data, base->data->len, "a\r\nb", 4);
  g_assert_true (g_output_stream_write_all (stream, "\rc", 2, NULL, NULL, &error));
  g_assert_true (g_output_stream_close (stream, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (base->data->data, base->data->len, "a\r\nb\r\nc", 7);
  g_assert_false (g_output_stream_is_closed (G_OUTPUT_STREAM (base)));
  g_object_unref (stream);
  g_object_unref (base);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/data-output-stream/every-combination", test_every_combination);
  g_test_add_func ("/data-output-stream/examples", test_examples);
  g_test_add_func ("/data-output-stream/big-writes", test_big_writes);
  g_test_add_func ("/data-output-stream/flush-and-close", test_flush_and_close);
  return g_test_run ();
}
