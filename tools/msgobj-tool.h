/* msgobj-tool.h: what the msgobj command's files share
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <msgobj.h>

/* Exit codes, documented in README.md and `msgobj --help`. */
enum
{
  EXIT_OK = 0,
  EXIT_FAILED = 1,
  EXIT_USAGE = 2,
  EXIT_INVALID = 3,
  EXIT_TRANSPORT = 4,
  EXIT_TIMED_OUT = 5,
  EXIT_CANCELLED = 6,
  EXIT_OUTCOME_UNKNOWN = 7,
};

typedef struct
{
  char    *config_file;
  char   **set;
  char    *from;
  char   **to;
  char   **cc;
  char   **bcc;
  char    *subject;
  char    *newsgroups;
  char    *text;
  char    *text_file;
  char    *html_file;
  char   **attach;
  char    *reply_to;
  char    *sender;
  char   **header;
  char    *charset;
  char    *importance;
  char    *keywords;
  char    *dsn;
  gboolean mdn;
  char   **related;
  char    *password_file;
  char    *passphrase_file;
  char    *attachments_dir;
  gboolean raw;
  gboolean json;
  gboolean help_man;
  gboolean help_completion;
  gboolean quiet;
  gboolean verbose;
  gboolean dkim;
  gboolean sign;
  gboolean encrypt;
  gboolean smime;
  char    *domain;
  char    *selector;
  char    *algorithm;
  int      bits;
  char    *output_dir;
  int      connections;
  char    *limit;
  gboolean post;
} Options;

extern Options opts;

/* What `send` starts from. */
typedef enum
{
  MODE_NEW,       /* a message built from the options */
  MODE_FILE,      /* an existing message, FILE or - */
  MODE_REPLY,     /* a reply to FILE */
  MODE_REPLY_ALL, /* a reply to all of FILE */
  MODE_FORWARD,   /* a forward of FILE */
} Mode;

int   exit_code_for (const GError *error);
char *escape_controls (const char *text);
void  print_error (const char *message);
int   fail (const GError *error);

/* The configuration from --config (or the default) and --set. */
MsgConfiguration *load_configuration (GError **error);
/* Sets @field from the first line of --password-file. */
gboolean set_password_from_file (MsgConfiguration *configuration,
                                 const char       *field,
                                 GError          **error);
/* Gives the first line of --passphrase-file as every key's passphrase. */
gboolean set_passphrase_from_file (MsgConfiguration *configuration,
                                   GError          **error);
/* --password-file (into @password_field) and --passphrase-file, at most
 * one of them or the message (@source "-") from standard input. */
gboolean set_secrets (MsgConfiguration *configuration,
                      const char       *password_field,
                      const char       *source,
                      GError          **error);

int command_flush (const char *directory);
int command_send (gboolean    post,
                  Mode        mode,
                  const char *source);
int command_show (const char *path);
int command_dkim_keygen (void);

void print_man_page (const char         *summary,
                     const GOptionEntry *entries);
void print_completion (const char *const  *commands,
                       const GOptionEntry *entries);
