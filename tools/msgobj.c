/* msgobj.c: the msgobj command: send, post, transports, show
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msgobj-tool.h"

#include "msgobj-field-docs.h"

#include <locale.h>
#include <stdio.h>
#include <string.h>

static const char summary[] =
    "Commands:\n"
    "  send [FILE] send a message (by sendusing; SMTP if smtpserver is set, else pickup);\n"
    "              with FILE (or - for standard input), send that .eml message\n"
    "  post [FILE] post a news article (by postusing; NNTP if nntpserver is set, else pickup)\n"
    "  flush DIR   send every .eml message of DIR (a pickup directory) over --connections\n"
    "              kept connections; refused ones go to DIR/failed/, unanswered ones to\n"
    "              DIR/unknown/, temporary failures stay for the next run; with --post,\n"
    "              post the news articles of DIR (by postusing, to nntpserver) instead\n"
    "  reply FILE, reply-all FILE, forward FILE\n"
    "              send a reply to (or a forward of) the message in FILE; the text\n"
    "              given goes above the quoted original\n"
    "  transports  list the registered transports\n"
    "  fields      list the configuration fields: name, type, default, meaning\n"
    "  show FILE   print a message's headers and MIME tree (--json: as JSON;\n"
    "              --raw: the message as it is; --attachments DIR: save them)\n"
    "  dkim-keygen --domain D --selector S\n"
    "              write a DKIM key pair (S.private, mode 0600, and S.txt) and print\n"
    "              the DNS TXT record to publish\n"
    "\n"
    "Passwords: give them with --password-file FILE (or - for standard input)\n"
    "or in a configuration file readable only by you, never with --set on the\n"
    "command line, where other users can see them; the passphrase of a key that\n"
    "--sign or cryptosign needs, with --passphrase-file FILE.\n"
    "\n"
    "Exit codes: 0 done, 1 other failure, 2 usage, 3 invalid message or\n"
    "configuration (a signing or encryption key, or its passphrase, missing\n"
    "or wrong included), 4 transport failure (refused, rejected, TLS, protocol),\n"
    "5 timed out, 6 cancelled, 7 outcome unknown (sent, but no answer: the\n"
    "server may have accepted it).";

Options opts;

static GOptionEntry entries[] = {
  { "config", 'c', 0, G_OPTION_ARG_FILENAME, &opts.config_file, "Read the configuration from FILE", "FILE" },
  { "set", 's', 0, G_OPTION_ARG_STRING_ARRAY, &opts.set, "Set a configuration field (repeatable)", "FIELD=VALUE" },
  { "from", 0, 0, G_OPTION_ARG_STRING, &opts.from, "From address", "ADDRESS" },
  { "to", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opts.to, "To recipient (repeatable)", "ADDRESS" },
  { "cc", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opts.cc, "Cc recipient (repeatable)", "ADDRESS" },
  { "bcc", 0, 0, G_OPTION_ARG_STRING_ARRAY, &opts.bcc, "Bcc recipient (repeatable)", "ADDRESS" },
  { "subject", 0, 0, G_OPTION_ARG_STRING, &opts.subject, "Subject", "TEXT" },
  { "newsgroups", 0, 0, G_OPTION_ARG_STRING, &opts.newsgroups, "Newsgroups, comma-separated", "GROUPS" },
  { "text", 0, 0, G_OPTION_ARG_STRING, &opts.text, "Plain-text body", "TEXT" },
  { "text-file", 0, 0, G_OPTION_ARG_FILENAME, &opts.text_file, "Read the plain-text body from FILE", "FILE" },
  { "html-file", 0, 0, G_OPTION_ARG_FILENAME, &opts.html_file, "Read the HTML body from FILE", "FILE" },
  { "attach", 'a', 0, G_OPTION_ARG_FILENAME_ARRAY, &opts.attach, "Attach FILE (repeatable)", "FILE" },
  { "reply-to", 0, 0, G_OPTION_ARG_STRING, &opts.reply_to, "Reply-To address", "ADDRESS" },
  { "sender", 0, 0, G_OPTION_ARG_STRING, &opts.sender, "Sender address (who sent it on behalf of From)", "ADDRESS" },
  { "header", 'H', 0, G_OPTION_ARG_STRING_ARRAY, &opts.header,
    "Set a header by name or urn:schemas:mailheader: URN (repeatable)", "NAME:VALUE" },
  { "charset", 0, 0, G_OPTION_ARG_STRING, &opts.charset, "Write the text and HTML bodies in CHARSET", "CHARSET" },
  { "importance", 0, 0, G_OPTION_ARG_STRING, &opts.importance, "Importance: low, normal or high", "LEVEL" },
  { "keywords", 0, 0, G_OPTION_ARG_STRING, &opts.keywords, "Keywords, comma-separated", "WORDS" },
  { "dsn", 0, 0, G_OPTION_ARG_STRING, &opts.dsn,
    "Ask for delivery status notifications: never, or some of success, failure, delay, "
    "and hdrs or full (comma-separated)",
    "LIST" },
  { "mdn", 0, 0, G_OPTION_ARG_NONE, &opts.mdn, "Ask for a read receipt (Disposition-Notification-To)", NULL },
  { "related", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opts.related,
    "Add FILE as a resource of the HTML body, referred to as cid:CID (default: its file name; repeatable)",
    "FILE[:CID]" },
  { "password-file", 0, 0, G_OPTION_ARG_FILENAME, &opts.password_file,
    "Read sendpassword (send, flush) or postpassword (post, flush --post) from the first line of FILE "
    "(- for standard input), so that it is not on the command line",
    "FILE" },
  { "passphrase-file", 0, 0, G_OPTION_ARG_FILENAME, &opts.passphrase_file,
    "The passphrase of a signing or decryption key that needs one, from the first line of FILE "
    "(- for standard input)",
    "FILE" },
  { "attachments", 0, 0, G_OPTION_ARG_FILENAME, &opts.attachments_dir,
    "show: save the attachments into DIR, by safe names", "DIR" },
  { "raw", 0, 0, G_OPTION_ARG_NONE, &opts.raw, "show: print the message as it is in FILE", NULL },
  { "json", 0, 0, G_OPTION_ARG_NONE, &opts.json, "show: print the headers and MIME tree as JSON", NULL },
  { "dkim", 0, 0, G_OPTION_ARG_NONE, &opts.dkim, "Sign with DKIM, by the dkim* configuration fields", NULL },
  { "sign", 0, 0, G_OPTION_ARG_NONE, &opts.sign,
    "Sign the body with the From address's OpenPGP key (S/MIME with --smime), from $GNUPGHOME", NULL },
  { "encrypt", 0, 0, G_OPTION_ARG_NONE, &opts.encrypt,
    "Encrypt the body to the To, Cc and Bcc recipients' keys (OpenPGP, or S/MIME with --smime)", NULL },
  { "smime", 0, 0, G_OPTION_ARG_NONE, &opts.smime, "--sign and --encrypt use S/MIME, not OpenPGP", NULL },
  { "domain", 0, 0, G_OPTION_ARG_STRING, &opts.domain, "dkim-keygen: the signing domain", "DOMAIN" },
  { "selector", 0, 0, G_OPTION_ARG_STRING, &opts.selector, "dkim-keygen: the selector", "SELECTOR" },
  { "algorithm", 0, 0, G_OPTION_ARG_STRING, &opts.algorithm,
    "dkim-keygen: rsa-sha256 (default) or ed25519-sha256", "ALGORITHM" },
  { "bits", 0, 0, G_OPTION_ARG_INT, &opts.bits, "dkim-keygen: RSA key size (default 2048)", "BITS" },
  { "output-dir", 0, 0, G_OPTION_ARG_FILENAME, &opts.output_dir,
    "dkim-keygen: where to write the key files (default: the current directory)", "DIR" },
  { "connections", 0, 0, G_OPTION_ARG_INT, &opts.connections,
    "flush: send over N connections at once (1 to 64, default 4)", "N" },
  { "limit", 0, 0, G_OPTION_ARG_STRING, &opts.limit, "flush: at most RATE messages a second to each relay", "RATE" },
  { "post", 0, 0, G_OPTION_ARG_NONE, &opts.post,
    "flush: post the messages as news articles (by postusing, to nntpserver), not send them", NULL },
  { "quiet", 'q', 0, G_OPTION_ARG_NONE, &opts.quiet, "Print nothing on success", NULL },
  { "verbose", 'v', 0, G_OPTION_ARG_NONE, &opts.verbose, "Write the protocol trace to standard error", NULL },
  { "help-man", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &opts.help_man, "Print the man page", NULL },
  { "help-completion", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &opts.help_completion,
    "Print the bash completion script", NULL },
  { NULL },
};

static const char *const commands[] = {
  "send",
  "post",
  "flush",
  "reply",
  "reply-all",
  "forward",
  "show",
  "fields",
  "transports",
  "dkim-keygen",
  NULL,
};

int
exit_code_for (const GError *error)
{
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    return EXIT_TIMED_OUT;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return EXIT_CANCELLED;
  if (g_error_matches (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_OUTCOME_UNKNOWN))
    return EXIT_OUTCOME_UNKNOWN;
  if (error->domain == G_OPTION_ERROR)
    return EXIT_USAGE;
  /* A key or passphrase missing or wrong is the caller's to fix, as a
   * configuration is; gpg failing is not. */
  if (error->domain == MSG_MESSAGE_ERROR || error->domain == MSG_CONFIGURATION_ERROR ||
      g_error_matches (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_NO_SERVER) ||
      g_error_matches (error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NO_KEY) ||
      g_error_matches (error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NO_PASSPHRASE) ||
      g_error_matches (error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_BAD_PASSPHRASE))
    return EXIT_INVALID;
  if (error->domain == MSG_TRANSPORT_ERROR || error->domain == G_IO_ERROR ||
      error->domain == G_TLS_ERROR || error->domain == G_RESOLVER_ERROR)
    return EXIT_TRANSPORT;
  return EXIT_FAILED;
}

/* @text with every control character (C0, DEL, C1) and every byte that
 * is not UTF-8 escaped, and backslashes doubled: what `show` prints comes
 * from a message that anyone may have written, and ESC, BEL or CR must not
 * reach the terminal (issue 14, item 10). */
char *
escape_controls (const char *text)
{
  GString    *out = g_string_new (NULL);
  const char *p = text;

  while (*p != '\0')
    {
      gunichar c = g_utf8_get_char_validated (p, -1);

      if (c == (gunichar) -1 || c == (gunichar) -2)
        {
          g_string_append_printf (out, "\\x%02x", (guchar) *p);
          p++;
          continue;
        }
      if (c == '\\')
        g_string_append (out, "\\\\");
      else if (c == '\t')
        g_string_append (out, "\\t");
      else if (c == '\n')
        g_string_append (out, "\\n");
      else if (c == '\r')
        g_string_append (out, "\\r");
      else if (c < 0x20 || c == 0x7f)
        g_string_append_printf (out, "\\x%02x", c);
      else if (c >= 0x80 && c < 0xa0)
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_len (out, p, g_utf8_next_char (p) - p);
      p = g_utf8_next_char (p);
    }
  return g_string_free (out, FALSE);
}

void
print_error (const char *message)
{
  g_autofree char *shown = escape_controls (message);

  g_printerr ("msgobj: %s\n", shown);
}

int
fail (const GError *error)
{
  print_error (error->message);
  return exit_code_for (error);
}

static const char *
field_type_name (MsgFieldType type)
{
  switch (type)
    {
    case MSG_FIELD_TYPE_STRING:
      return "string";
    case MSG_FIELD_TYPE_INT:
      return "integer";
    case MSG_FIELD_TYPE_BOOLEAN:
      return "boolean";
    case MSG_FIELD_TYPE_SECONDS:
      return "seconds";
    case MSG_FIELD_TYPE_ENUM:
      return "enumeration";
    case MSG_FIELD_TYPE_SECRET:
      return "password";
    case MSG_FIELD_TYPE_PATH:
      return "path";
    default:
      return "?";
    }
}

static const char *
field_meaning (const char *name)
{
  for (gsize i = 0; i < G_N_ELEMENTS (field_docs); i++)
    if (g_str_equal (field_docs[i].name, name))
      return field_docs[i].meaning;
  return "";
}

/* Every configuration field, plugins' included: name, type, default and
 * meaning, separated by tabs, one field a line. */
static int
command_fields (void)
{
  g_autoptr (MsgConfiguration) defaults = msg_configuration_new ();
  g_auto (GStrv) names = msg_configuration_list_fields (defaults);

  for (guint i = 0; names[i] != NULL; i++)
    {
      MsgFieldType     type = msg_configuration_get_field_type (names[i]);
      g_autofree char *value = type == MSG_FIELD_TYPE_SECRET ? NULL
                                                             : msg_configuration_get_field (defaults, names[i]);
      /* A plugin's default and meaning are the plugin's text. */
      g_autofree char *shown_value = escape_controls (value == NULL ? "(none)" : *value == '\0' ? "(empty)"
                                                                                                : value);
      g_autofree char *shown_meaning = escape_controls (field_meaning (names[i]));

      g_print ("%s\t%s\t%s\t%s\n", names[i], field_type_name (type), shown_value, shown_meaning);
    }
  return EXIT_OK;
}

static int
command_transports (void)
{
  g_auto (GStrv) names = msg_transport_list_names ();

  for (guint i = 0; names[i] != NULL; i++)
    g_print ("%s\n", names[i]);
  return EXIT_OK;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr (GOptionContext) context = NULL;
  g_autoptr (GError) error = NULL;
  const char *command;

  setlocale (LC_ALL, "");

  context = g_option_context_new ("COMMAND [FILE] - send mail and post news");
  g_option_context_set_summary (context, summary);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      print_error (error->message);
      return EXIT_USAGE;
    }
  if (opts.help_man)
    {
      print_man_page (summary, entries);
      return EXIT_OK;
    }
  if (opts.help_completion)
    {
      print_completion (commands, entries);
      return EXIT_OK;
    }
  /* Standard output is for results that scripts read (the message ID):
   * every log message, the protocol trace included, goes to stderr. */
  g_log_writer_default_set_use_stderr (TRUE);
  if (opts.verbose)
    {
      const char      *debug = g_getenv ("G_MESSAGES_DEBUG");
      g_autofree char *domains = debug != NULL && *debug != '\0' ? g_strconcat (debug, " msgobj", NULL)
                                                                 : g_strdup ("msgobj");

      g_setenv ("G_MESSAGES_DEBUG", domains, TRUE);
    }

  if (argc < 2)
    {
      g_autofree char *help = g_option_context_get_help (context, TRUE, NULL);

      g_printerr ("%s", help);
      return EXIT_USAGE;
    }

  command = argv[1];
  if (g_str_equal (command, "send") && argc <= 3)
    return command_send (FALSE, argc == 3 ? MODE_FILE : MODE_NEW, argv[2]);
  if (g_str_equal (command, "post") && argc <= 3)
    return command_send (TRUE, argc == 3 ? MODE_FILE : MODE_NEW, argv[2]);
  if (g_str_equal (command, "reply") && argc == 3)
    return command_send (FALSE, MODE_REPLY, argv[2]);
  if (g_str_equal (command, "reply-all") && argc == 3)
    return command_send (FALSE, MODE_REPLY_ALL, argv[2]);
  if (g_str_equal (command, "forward") && argc == 3)
    return command_send (FALSE, MODE_FORWARD, argv[2]);
  if (g_str_equal (command, "flush") && argc == 3)
    return command_flush (argv[2]);
  if (g_str_equal (command, "fields") && argc == 2)
    return command_fields ();
  if (g_str_equal (command, "transports") && argc == 2)
    return command_transports ();
  if (g_str_equal (command, "show") && argc == 3)
    return command_show (argv[2]);
  if (g_str_equal (command, "dkim-keygen") && argc == 2)
    return command_dkim_keygen ();

  {
    g_autofree char *shown = escape_controls (command);

    g_printerr ("msgobj: unknown command or wrong arguments: %s (try --help)\n", shown);
  }
  return EXIT_USAGE;
}
