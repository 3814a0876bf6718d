/* dkim-verify.c: OpenDKIM's own verifier, for the tests
 *
 * Usage: dkim-verify KEYS MESSAGE
 *
 * KEYS is libopendkim's test query file (DKIM_QUERY_FILE): lines of
 * "SELECTOR._domainkey.DOMAIN RECORD", so no DNS is asked. Verifies every
 * DKIM-Signature of MESSAGE (RFC 5322, CRLF or LF line ends); prints
 * "pass" and exits 0 when the signatures verify, prints the failure and
 * exits 1 otherwise, 2 on a usage or read error.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include <glib.h>
#include <opendkim/dkim.h>
#include <stdio.h>
#include <string.h>

/* The header fields of @text (up to the empty line) to dkim_header(),
 * each with its folding, without its last line end; returns where the
 * body begins. */
static gsize
feed_headers (DKIM       *dkim,
              const char *text,
              gsize       length)
{
  gsize start = 0;
  gsize i = 0;

  while (i < length)
    {
      const char *nl = memchr (text + i, '\n', length - i);
      gsize       eol = nl != NULL ? (gsize) (nl - text) : length;
      gsize       next = eol + 1;
      gsize       end = eol > i && text[eol - 1] == '\r' ? eol - 1 : eol;

      if (end == i)
        {
          /* The empty line. */
          if (i > start)
            dkim_header (dkim, (u_char *) text + start, i - start - (text[i - 2] == '\r' ? 2 : 1));
          return MIN (next, length);
        }
      if (i > start && text[i] != ' ' && text[i] != '\t')
        {
          dkim_header (dkim, (u_char *) text + start, i - start - (text[i - 2] == '\r' ? 2 : 1));
          start = i;
        }
      i = next;
    }
  return length;
}

int
main (int   argc,
      char *argv[])
{
  g_autofree char *text = NULL;
  gsize            length = 0;
  gsize            body;
  DKIM_LIB        *lib;
  DKIM            *dkim;
  DKIM_STAT        status;
  unsigned         flags = DKIM_LIBFLAGS_FIXCRLF;
  int              method = DKIM_QUERY_FILE;

  if (argc != 3 || !g_file_get_contents (argv[2], &text, &length, NULL))
    {
      fprintf (stderr, "usage: dkim-verify KEYS MESSAGE\n");
      return 2;
    }

  lib = dkim_init (NULL, NULL);
  dkim_options (lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYMETHOD, &method, sizeof method);
  dkim_options (lib, DKIM_OP_SETOPT, DKIM_OPTS_QUERYINFO, argv[1], strlen (argv[1]));
  dkim_options (lib, DKIM_OP_SETOPT, DKIM_OPTS_FLAGS, &flags, sizeof flags);
  dkim = dkim_verify (lib, (const u_char *) "test", NULL, &status);
  body = feed_headers (dkim, text, length);
  status = dkim_eoh (dkim);
  if (status == DKIM_STAT_OK && body < length)
    status = dkim_body (dkim, (u_char *) text + body, length - body);
  if (status == DKIM_STAT_OK)
    status = dkim_eom (dkim, NULL);

  if (status == DKIM_STAT_OK)
    printf ("pass\n");
  else
    {
      DKIM_SIGINFO *sig = dkim_getsignature (dkim);
      const char   *detail = dkim_geterror (dkim);

      printf ("fail: %s%s%s%s%s\n", dkim_getresultstr (status), detail != NULL ? ": " : "",
              detail != NULL ? detail : "", sig != NULL ? "; " : "",
              sig != NULL ? dkim_sig_geterrorstr (dkim_sig_geterror (sig)) : "");
    }
  dkim_free (dkim);
  dkim_close (lib);
  return status == DKIM_STAT_OK ? 0 : 1;
}
