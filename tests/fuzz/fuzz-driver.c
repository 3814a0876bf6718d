/* fuzz-driver.c: runs a fuzz target without libFuzzer
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * Usage: fuzz-NAME [--tap] CORPUS-DIR [ITERATIONS]
 * Feeds every file of the corpus, then ITERATIONS (default 2000) inputs
 * made by mutating corpus files with a fixed seed, so that every normal
 * test run exercises the targets deterministically; libFuzzer builds
 * (-Dfuzzing=true with clang) explore further. With
 * MSGOBJ_FUZZ_LAST_INPUT=FILE, each mutated input is written to FILE
 * before it is run, so the one that failed can be replayed.
 */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "fuzz-targets.h"

static void
insert_bytes (GByteArray   *array,
              guint         pos,
              const guint8 *data,
              guint         len)
{
  guint old_len = array->len;

  g_byte_array_set_size (array, old_len + len);
  memmove (array->data + pos + len, array->data + pos, old_len - pos);
  memcpy (array->data + pos, data, len);
}

static GBytes *
mutate (GRand  *rand,
        GBytes *seed)
{
  gsize                    size;
  const guint8            *data = g_bytes_get_data (seed, &size);
  GByteArray              *out = g_byte_array_sized_new (size + 64);
  static const char *const tokens[] = { "\r\n", "\n", "\r", ".", "\r\n.\r\n", "250-", "250 ", "=?utf-8?b?", "\0", "\xff", "--", ":" };
  unsigned                 n_edits = g_rand_int_range (rand, 1, 9);

  g_byte_array_append (out, data, size);
  for (unsigned i = 0; i < n_edits; i++)
    {
      guint pos = out->len > 0 ? g_rand_int_range (rand, 0, out->len + 1) : 0;

      switch (g_rand_int_range (rand, 0, 4))
        {
        case 0: /* flip a byte */
          if (pos < out->len)
            out->data[pos] = (guint8) g_rand_int_range (rand, 0, 256);
          break;
        case 1: /* insert a token */
          {
            const char *token = tokens[g_rand_int_range (rand, 0, G_N_ELEMENTS (tokens))];
            gsize       len = token[0] == '\0' ? 1 : strlen (token);

            insert_bytes (out, pos, (const guint8 *) token, (guint) len);
          }
          break;
        case 2: /* delete a range */
          if (pos < out->len)
            {
              /* MIN() evaluates its arguments twice: draw once. */
              guint len = (guint) g_rand_int_range (rand, 1, 32);

              g_byte_array_remove_range (out, pos, MIN (len, out->len - pos));
            }
          break;
        default: /* duplicate a range */
          if (pos < out->len)
            {
              guint              want = (guint) g_rand_int_range (rand, 1, 256);
              guint              len = MIN (want, out->len - pos);
              g_autofree guint8 *copy = g_memdup2 (out->data + pos, len);

              insert_bytes (out, pos, copy, len);
            }
          break;
        }
    }
  return g_byte_array_free_to_bytes (out);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr (GPtrArray) corpus = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr (GDir) dir = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GRand) rand = g_rand_new_with_seed (20261130);
  const char *name;
  int         first = 1;
  unsigned    iterations = 2000;
  gboolean    tap = FALSE;
  const char *last = g_getenv ("MSGOBJ_FUZZ_LAST_INPUT");

  if (argc > 1 && g_str_equal (argv[1], "--tap"))
    {
      tap = TRUE;
      first = 2;
    }
  if (argc <= first)
    {
      g_printerr ("usage: %s [--tap] CORPUS-DIR [ITERATIONS]\n", argv[0]);
      return 2;
    }
  if (argc > first + 1)
    iterations = (unsigned) g_ascii_strtoull (argv[first + 1], NULL, 10);

  dir = g_dir_open (argv[first], 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (argv[first], name, NULL);
      char            *contents;
      gsize            length;

      g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
      g_ptr_array_add (corpus, g_bytes_new_take (contents, length));
    }
  g_assert_cmpuint (corpus->len, >, 0);

  if (tap)
    g_print ("1..2\n");
  for (guint i = 0; i < corpus->len; i++)
    {
      gsize         size;
      const guint8 *data = g_bytes_get_data (corpus->pdata[i], &size);

      LLVMFuzzerTestOneInput (data, size);
    }
  if (tap)
    g_print ("ok 1 corpus (%u inputs)\n", corpus->len);
  for (unsigned i = 0; i < iterations; i++)
    {
      g_autoptr (GBytes) input = mutate (rand, corpus->pdata[g_rand_int_range (rand, 0, corpus->len)]);
      gsize         size;
      const guint8 *data = g_bytes_get_data (input, &size);

      /* To reproduce a failure: the input being run is in this file. */
      if (last != NULL)
        g_assert_true (g_file_set_contents (last, (const char *) data, size, NULL));
      LLVMFuzzerTestOneInput (data, size);
    }
  if (tap)
    g_print ("ok 2 mutations (%u inputs)\n", iterations);
  return 0;
}
