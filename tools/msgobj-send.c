/* msgobj-send.c: the msgobj command: send, post, reply, forward
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msgobj-tool.h"

#include <gio/gunixinputstream.h>
#include <glib-unix.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A progress bar is drawn for messages at least this big. */
#define PROGRESS_MIN_SIZE (1024 * 1024)

MsgConfiguration *
load_configuration (GError **error)
{
  g_autoptr (MsgConfiguration) configuration = NULL;

  if (opts.config_file != NULL)
    {
      configuration = msg_configuration_new ();
      if (!msg_configuration_load_from_file (configuration, opts.config_file, error))
        return NULL;
    }
  else
    {
      configuration = msg_configuration_new_default (error);
      if (configuration == NULL)
        return NULL;
    }

  for (guint i = 0; opts.set != NULL && opts.set[i] != NULL; i++)
    {
      const char      *eq = strchr (opts.set[i], '=');
      g_autofree char *name = NULL;

      if (eq == NULL)
        {
          g_set_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE,
                       "--set wants FIELD=VALUE, not “%s”", opts.set[i]);
          return NULL;
        }
      name = g_strndup (opts.set[i], eq - opts.set[i]);
      if (!msg_configuration_set_field (configuration, name, eq + 1, error))
        return NULL;
    }
  /* --dkim: sign with the dkim* fields of the configuration. */
  if (opts.dkim && !msg_configuration_set_field (configuration, "dkimsign", "true", error))
    return NULL;
  return g_steal_pointer (&configuration);
}

static char *
join_addresses (char **list)
{
  if (list == NULL)
    return NULL;
  return g_strjoinv (", ", list);
}

static gboolean
read_file_utf8 (const char *path,
                char      **contents,
                GError    **error)
{
  gsize length;

  if (!g_file_get_contents (path, contents, &length, error))
    return FALSE;
  if (!g_utf8_validate (*contents, length, NULL) || strlen (*contents) != length)
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED,
                   "“%s” is not UTF-8 text", path);
      g_clear_pointer (contents, g_free);
      return FALSE;
    }
  return TRUE;
}

static gboolean
read_stdin_utf8 (char   **contents,
                 GError **error)
{
  g_autoptr (GInputStream) in = g_unix_input_stream_new (STDIN_FILENO, FALSE);
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr (GBytes) bytes = NULL;
  gsize length;

  if (g_output_stream_splice (out, in, G_OUTPUT_STREAM_SPLICE_CLOSE_TARGET, NULL, error) < 0)
    return FALSE;
  bytes = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
  length = g_bytes_get_size (bytes);
  if (!g_utf8_validate (g_bytes_get_data (bytes, NULL), length, NULL) ||
      (length > 0 && memchr (g_bytes_get_data (bytes, NULL), '\0', length) != NULL))
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED,
                           "The body read from standard input is not UTF-8 text");
      return FALSE;
    }
  *contents = g_strndup (g_bytes_get_data (bytes, NULL), length);
  return TRUE;
}

/* The first line of @file (a file, or "-" for standard input), without
 * its line end, wiping every other buffer that held it; @option names
 * the option in errors. Free with wipe_secret(). */
static char *
read_secret_line (const char *file,
                  const char *option,
                  GError    **error)
{
  g_autoptr (GBytes) bytes = NULL;
  char *data = NULL;
  gsize length = 0;

  if (g_str_equal (file, "-"))
    {
      g_autoptr (GInputStream) in = g_unix_input_stream_new (STDIN_FILENO, FALSE);

      /* One read of at most 4 KiB: a secret, not a stream. */
      bytes = g_input_stream_read_bytes (in, 4096, NULL, error);
      if (bytes == NULL)
        return NULL;
      data = g_memdup2 (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes) + 1);
      length = g_bytes_get_size (bytes);
      explicit_bzero ((gpointer) g_bytes_get_data (bytes, NULL), length);
      data[length] = '\0';
    }
  else if (!g_file_get_contents (file, &data, &length, error))
    return NULL;

  /* The first line, without its line end. */
  {
    gsize line = strcspn (data, "\r\n");

    if (line < length)
      explicit_bzero (data + line, length - line);
    length = line;
  }
  if (length == 0)
    {
      g_set_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE,
                   "%s: “%s” holds nothing on its first line", option, file);
      g_free (data);
      return NULL;
    }
  return data;
}

static void
wipe_secret (gpointer secret)
{
  if (secret != NULL)
    explicit_bzero (secret, strlen (secret));
  g_free (secret);
}

/* Sets @field from the first line of --password-file. */
gboolean
set_password_from_file (MsgConfiguration *configuration,
                        const char       *field,
                        GError          **error)
{
  char    *password = read_secret_line (opts.password_file, "--password-file", error);
  gboolean ok;

  if (password == NULL)
    return FALSE;
  ok = msg_configuration_set_field (configuration, field, password, error);
  wipe_secret (password);
  return ok;
}

static char *
passphrase_cb (const char *key,
               gboolean    previous_failed,
               gpointer    user_data)
{
  /* One passphrase: asked again means it was wrong, and the key is not
   * tried with it twice more. */
  return previous_failed ? NULL : g_strdup (user_data);
}

/* The passphrase of --passphrase-file: the tool's for the whole run and
 * only lent to configurations, whose copies may be dropped on library
 * threads after the command ended, so the tool wipes it at exit. */
static char *passphrase;

static void
wipe_passphrase_at_exit (void)
{
  explicit_bzero (passphrase, strlen (passphrase));
}

/* Gives the first line of --passphrase-file to every key that needs a
 * passphrase (no person is asked: the library has no pinentry). */
gboolean
set_passphrase_from_file (MsgConfiguration *configuration,
                          GError          **error)
{
  if (passphrase == NULL)
    {
      passphrase = read_secret_line (opts.passphrase_file, "--passphrase-file", error);
      if (passphrase == NULL)
        return FALSE;
      atexit (wipe_passphrase_at_exit);
    }
  msg_configuration_set_passphrase_func (configuration, passphrase_cb, passphrase, NULL);
  return TRUE;
}

/* Both secrets, as the options ask; refuses two from standard input (or
 * the message too, when @source is "-"). */
gboolean
set_secrets (MsgConfiguration *configuration,
             const char       *password_field,
             const char       *source,
             GError          **error)
{
  guint from_stdin = (g_strcmp0 (opts.password_file, "-") == 0) + (g_strcmp0 (opts.passphrase_file, "-") == 0) +
                     (g_strcmp0 (source, "-") == 0);

  if (from_stdin > 1)
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "Only one of the message, --password-file and --passphrase-file can come from "
                           "standard input");
      return FALSE;
    }
  if (opts.password_file != NULL && !set_password_from_file (configuration, password_field, error))
    return FALSE;
  return opts.passphrase_file == NULL || set_passphrase_from_file (configuration, error);
}

static gboolean
parse_importance (const char    *text,
                  MsgImportance *importance,
                  GError       **error)
{
  if (g_ascii_strcasecmp (text, "low") == 0)
    *importance = MSG_IMPORTANCE_LOW;
  else if (g_ascii_strcasecmp (text, "normal") == 0)
    *importance = MSG_IMPORTANCE_NORMAL;
  else if (g_ascii_strcasecmp (text, "high") == 0)
    *importance = MSG_IMPORTANCE_HIGH;
  else
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                   "--importance wants low, normal or high, not “%s”", text);
      return FALSE;
    }
  return TRUE;
}

static gboolean
parse_dsn (const char    *text,
           MsgDsnOptions *options,
           GError       **error)
{
  static const struct
  {
    const char   *name;
    MsgDsnOptions flag;
  } names[] = {
    { "never", MSG_DSN_NEVER },
    { "success", MSG_DSN_SUCCESS },
    { "failure", MSG_DSN_FAILURE },
    { "delay", MSG_DSN_DELAY },
    { "hdrs", MSG_DSN_RETURN_HEADERS },
    { "full", MSG_DSN_RETURN_FULL },
  };
  g_auto (GStrv) words = g_strsplit (text, ",", -1);

  *options = MSG_DSN_DEFAULT;
  for (guint i = 0; words[i] != NULL; i++)
    {
      const char *word = g_strstrip (words[i]);
      gsize       j;

      for (j = 0; j < G_N_ELEMENTS (names); j++)
        if (g_ascii_strcasecmp (word, names[j].name) == 0)
          break;
      if (j == G_N_ELEMENTS (names))
        {
          g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                       "--dsn: unknown notification “%s” (never, success, failure, delay, hdrs, full)",
                       word);
          return FALSE;
        }
      *options |= names[j].flag;
    }
  if ((*options & MSG_DSN_NEVER) != 0 && (*options & (MSG_DSN_SUCCESS | MSG_DSN_FAILURE | MSG_DSN_DELAY)) != 0)
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                           "--dsn: never cannot be combined with success, failure or delay");
      return FALSE;
    }
  if ((*options & MSG_DSN_RETURN_HEADERS) != 0 && (*options & MSG_DSN_RETURN_FULL) != 0)
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                           "--dsn: hdrs and full exclude each other");
      return FALSE;
    }
  return TRUE;
}

/* --header NAME:VALUE, by name or URN (whose own colons come first). */
static gboolean
set_header_option (MsgMessage *message,
                   const char *option,
                   GError    **error)
{
  const char      *colon = NULL;
  g_autofree char *name = NULL;
  const char      *value;

  if (g_ascii_strncasecmp (option, "urn:", 4) == 0)
    {
      /* urn:schemas:mailheader:NAME:VALUE or urn:schemas:httpmail:NAME:VALUE */
      const char *p = option;

      for (int i = 0; i < 4 && p != NULL; i++)
        p = strchr (p + 1, ':');
      colon = p;
    }
  else
    colon = strchr (option, ':');
  if (colon == NULL || colon == option)
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                   "--header wants NAME:VALUE, not “%s”", option);
      return FALSE;
    }
  name = g_strstrip (g_strndup (option, colon - option));
  value = colon + 1;
  while (*value == ' ' || *value == '\t')
    value++;
  return msg_message_set_header (message, name, value, error);
}

/* --related FILE[:CID]: the CID follows the last colon after the last slash. */
static gboolean
add_related_option (MsgMessage *message,
                    const char *option,
                    GError    **error)
{
  const char      *slash = strrchr (option, '/');
  const char      *colon = strrchr (slash != NULL ? slash : option, ':');
  g_autofree char *path = colon != NULL ? g_strndup (option, colon - option) : g_strdup (option);
  g_autofree char *cid = colon != NULL ? g_strdup (colon + 1) : g_path_get_basename (option);

  if (*path == '\0' || *cid == '\0')
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT,
                   "--related wants FILE or FILE:CID, not “%s”", option);
      return FALSE;
    }
  return msg_message_add_related_body_part (message, path, cid, error) != NULL;
}

static gboolean
apply_message_options (MsgMessage *message,
                       GError    **error)
{
  MsgImportance importance;
  MsgDsnOptions dsn;

  if ((opts.reply_to != NULL && !msg_message_set_reply_to (message, opts.reply_to, error)) ||
      (opts.sender != NULL && !msg_message_set_sender (message, opts.sender, error)) ||
      (opts.keywords != NULL && !msg_message_set_keywords (message, opts.keywords, error)))
    return FALSE;
  if (opts.importance != NULL)
    {
      if (!parse_importance (opts.importance, &importance, error))
        return FALSE;
      msg_message_set_importance (message, importance);
    }
  if (opts.dsn != NULL)
    {
      if (!parse_dsn (opts.dsn, &dsn, error))
        return FALSE;
      msg_message_set_dsn_options (message, dsn);
    }
  if (opts.mdn)
    msg_message_set_mdn_requested (message, TRUE);
  for (guint i = 0; opts.header != NULL && opts.header[i] != NULL; i++)
    if (!set_header_option (message, opts.header[i], error))
      return FALSE;
  return TRUE;
}

/* --charset, once the bodies are set. */
static gboolean
apply_charset (MsgMessage *message,
               GError    **error)
{
  g_autoptr (MsgBodyPart) text = NULL;
  g_autoptr (MsgBodyPart) html = NULL;

  if (opts.charset == NULL)
    return TRUE;
  text = msg_message_get_text_body_part (message);
  html = msg_message_get_html_body_part (message);
  if (text == NULL && html == NULL)
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_CHARSET,
                   "--charset %s: the message has no text or HTML body", opts.charset);
      return FALSE;
    }
  return (text == NULL || msg_body_part_set_charset (text, opts.charset, error)) &&
         (html == NULL || msg_body_part_set_charset (html, opts.charset, error));
}

static MsgMessage *
load_message (const char *source,
              GError    **error)
{
  if (g_str_equal (source, "-"))
    {
      g_autoptr (GInputStream) in = g_unix_input_stream_new (STDIN_FILENO, FALSE);

      return msg_message_new_from_stream (in, NULL, error);
    }
  return msg_message_new_from_file (source, error);
}

/* The message to start from: new, loaded, or made from a loaded one. */
static MsgMessage *
start_message (MsgConfiguration *configuration,
               Mode              mode,
               const char       *source,
               GError          **error)
{
  g_autoptr (MsgMessage) original = NULL;
  MsgMessage *message;

  if (mode == MODE_NEW)
    return msg_message_new_with_configuration (configuration);
  original = load_message (source, error);
  if (original == NULL)
    return NULL;
  /* A reply shares its original's configuration (sendemailaddress…). */
  msg_message_set_configuration (original, configuration);
  if (mode == MODE_FILE)
    return g_steal_pointer (&original);
  if (mode == MODE_REPLY)
    message = msg_message_create_reply (original);
  else if (mode == MODE_REPLY_ALL)
    message = msg_message_create_reply_all (original);
  else
    message = msg_message_create_forward (original);
  msg_message_set_configuration (message, configuration);
  return message;
}

/* The text of --text, --text-file or standard input, if any. */
static gboolean
read_text_option (Mode        mode,
                  const char *source,
                  char      **text,
                  GError    **error)
{
  *text = NULL;
  if (opts.text != NULL)
    *text = g_strdup (opts.text);
  else if (opts.text_file != NULL)
    return read_file_utf8 (opts.text_file, text, error);
  else if (mode != MODE_FILE && g_strcmp0 (source, "-") != 0 && opts.html_file == NULL &&
           !isatty (STDIN_FILENO) && g_strcmp0 (opts.password_file, "-") != 0 &&
           g_strcmp0 (opts.passphrase_file, "-") != 0)
    return read_stdin_utf8 (text, error);
  return TRUE;
}

static MsgMessage *
build_message (MsgConfiguration *configuration,
               Mode              mode,
               const char       *source,
               GError          **error)
{
  g_autoptr (MsgMessage) message = NULL;
  g_autofree char *to = join_addresses (opts.to);
  g_autofree char *cc = join_addresses (opts.cc);
  g_autofree char *bcc = join_addresses (opts.bcc);
  g_autofree char *text = NULL;

  message = start_message (configuration, mode, source, error);
  if (message == NULL)
    return NULL;
  if ((opts.from != NULL && !msg_message_set_from (message, opts.from, error)) ||
      (to != NULL && !msg_message_set_to (message, to, error)) ||
      (cc != NULL && !msg_message_set_cc (message, cc, error)) ||
      (bcc != NULL && !msg_message_set_bcc (message, bcc, error)) ||
      (opts.subject != NULL && !msg_message_set_subject (message, opts.subject, error)) ||
      (opts.newsgroups != NULL && !msg_message_set_newsgroups (message, opts.newsgroups, error)))
    return NULL;

  if (opts.html_file != NULL)
    {
      g_autofree char *html = NULL;

      if (!read_file_utf8 (opts.html_file, &html, error))
        return NULL;
      msg_message_set_html_body (message, html);
    }
  if (!read_text_option (mode, source, &text, error))
    return NULL;
  if (text != NULL && (mode == MODE_REPLY || mode == MODE_REPLY_ALL || mode == MODE_FORWARD))
    msg_message_set_response_text (message, text);
  else if (text != NULL)
    msg_message_set_text_body (message, text);

  for (guint i = 0; opts.related != NULL && opts.related[i] != NULL; i++)
    if (!add_related_option (message, opts.related[i], error))
      return NULL;
  for (guint i = 0; opts.attach != NULL && opts.attach[i] != NULL; i++)
    {
      /* The message owns its body parts. */
      if (msg_message_add_attachment (message, opts.attach[i], error) == NULL)
        return NULL;
    }
  if (!apply_message_options (message, error) || !apply_charset (message, error))
    return NULL;
  return g_steal_pointer (&message);
}

/* --sign, --encrypt, --smime: the configuration's crypto* fields, so that
 * the transport signs and encrypts at send time, under the send's
 * deadline and Ctrl-C, before anything is written. */
static gboolean
apply_crypto_options (MsgMessage       *message,
                      MsgConfiguration *configuration,
                      GError          **error)
{
  g_autofree char *from = NULL;
  const char      *address;
  const char      *open;

  if (opts.smime && !msg_configuration_set_field (configuration, "cryptoprotocol", "smime", error))
    return FALSE;
  if (opts.encrypt && !msg_configuration_set_field (configuration, "cryptoencrypt", "true", error))
    return FALSE;
  if (!opts.sign)
    return TRUE;
  from = msg_message_get_from (message);
  if (from == NULL || from[0] == '\0')
    {
      g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                           "--sign signs with the key of the From address: give --from");
      return FALSE;
    }
  /* The address of "Name <address>": the key is looked up by it. */
  address = from;
  open = strrchr (from, '<');
  if (open != NULL && strchr (open, '>') != NULL)
    {
      address = open + 1;
      *strchr (open, '>') = '\0';
    }
  return msg_configuration_set_field (configuration, "cryptosign", address, error);
}

typedef struct
{
  GMainLoop     *loop;
  GCancellable  *cancellable;
  MsgSendReport *report;
  GError        *error;
  gboolean       progress_shown;
} SendState;

static gboolean
interrupted_cb (gpointer user_data)
{
  SendState *state = user_data;

  g_cancellable_cancel (state->cancellable);
  return G_SOURCE_CONTINUE;
}

static void
progress_cb (MsgTransport *transport,
             guint64       sent,
             guint64       total,
             gpointer      user_data)
{
  SendState *state = user_data;
  int        width = 40;
  int        filled;

  if (total < PROGRESS_MIN_SIZE)
    return;
  filled = (int) (sent * width / total);
  g_printerr ("\r[%.*s%*s] %3d%% %" G_GUINT64_FORMAT " KiB",
              filled, "########################################", width - filled, "",
              (int) (sent * 100 / total), sent / 1024);
  state->progress_shown = TRUE;
}

static void
sent_cb (GObject      *source,
         GAsyncResult *result,
         gpointer      user_data)
{
  SendState    *state = user_data;
  MsgTransport *transport = MSG_TRANSPORT (source);

  if (g_async_result_is_tagged (result, msg_transport_post_message_async))
    state->report = msg_transport_post_message_finish (transport, result, &state->error);
  else
    state->report = msg_transport_send_message_finish (transport, result, &state->error);
  g_main_loop_quit (state->loop);
}

static void
closed_cb (GObject      *source,
           GAsyncResult *result,
           gpointer      user_data)
{
  SendState *state = user_data;

  msg_transport_close_finish (MSG_TRANSPORT (source), result, NULL);
  g_main_loop_quit (state->loop);
}

int
command_send (gboolean    post,
              Mode        mode,
              const char *source)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgConfiguration) configuration = NULL;
  g_autoptr (MsgMessage) message = NULL;
  g_autoptr (MsgTransport) transport = NULL;
  g_autofree char *name = NULL;
  SendState        state = { 0 };
  guint            sigint_id;
  guint            sigterm_id;

  configuration = load_configuration (&error);
  if (configuration == NULL)
    return fail (error);
  if (!set_secrets (configuration, post ? "postpassword" : "sendpassword", source, &error))
    return fail (error);
  message = build_message (configuration, mode, source, &error);
  if (message == NULL || !apply_crypto_options (message, configuration, &error))
    return fail (error);

  name = msg_configuration_get_field (configuration, post ? "postusing" : "sendusing");
  transport = msg_transport_new_for_name (name != NULL ? name : "pickup", configuration, &error);
  if (transport == NULL)
    return fail (error);

  state.loop = g_main_loop_new (NULL, FALSE);
  state.cancellable = g_cancellable_new ();
  /* Ctrl-C cancels: the send returns once its connection is closed. */
  sigint_id = g_unix_signal_add (SIGINT, interrupted_cb, &state);
  sigterm_id = g_unix_signal_add (SIGTERM, interrupted_cb, &state);
  if (isatty (STDERR_FILENO) && !opts.quiet)
    g_signal_connect (transport, "progress", G_CALLBACK (progress_cb), &state);

  if (post)
    msg_transport_post_message_async (transport, message, state.cancellable, sent_cb, &state);
  else
    msg_transport_send_message_async (transport, message, state.cancellable, sent_cb, &state);
  g_main_loop_run (state.loop);

  if (state.progress_shown)
    g_printerr ("\n");

  if (state.report != NULL)
    {
      msg_transport_close_async (transport, state.cancellable, closed_cb, &state);
      g_main_loop_run (state.loop);
    }

  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);
  g_main_loop_unref (state.loop);
  g_object_unref (state.cancellable);

  if (state.report == NULL)
    {
      int code = fail (state.error);

      g_error_free (state.error);
      return code;
    }

  if (!opts.quiet)
    {
      const char      *pickup = msg_send_report_get_pickup_file (state.report);
      const char      *id = msg_send_report_get_message_id (state.report);
      const char      *response = msg_send_report_get_server_response (state.report);
      g_autofree char *text = pickup != NULL ? g_strdup (pickup)
                                             : g_strdup_printf ("%s %s", id != NULL ? id : "",
                                                                response != NULL ? response : "");
      /* The server's response is the server's text. */
      g_autofree char *shown = escape_controls (text);

      g_print ("%s\n", shown);
    }
  g_object_unref (state.report);
  return EXIT_OK;
}
