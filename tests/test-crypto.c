/* test-crypto.c: PGP/MIME signing, encryption, verification and
 * decryption against the real gpg, with throw-away keyrings
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "test-crypto-utils.h"
#include "test-utils.h"

#include <glib/gstdio.h>
#include <gmime/gmime.h>
#include <msgobj.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/* "Fails at once": no person is waited for, which would last until the
 * operation's clock (by default far longer). What the library does is a
 * key lookup and a question or two to gpg-agent, 100-300 ms on an idle
 * machine; 3 s (scaled) because starting gpg, gpgsm and the agent's
 * helpers took up to 1.5 s with the machine at load 8. */
#define AT_ONCE_MS 3000

/* GMime 3.2 declares no autoptr cleanups. */
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeStream, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeParser, g_object_unref)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GMimeMessage, g_object_unref)

static GThread *main_thread;

/* The keyrings of the run: made once, removed at the end. */
static char *home;       /* alice, bob (no passphrase); carol (passphrase) */
static char *other_home; /* dave, whom the first keyring does not know */
static char *alice_fpr;

static char *
fingerprint_of (const char *gnupghome,
                const char *address)
{
  const char      *args[] = { "--with-colons", "--list-keys", address, NULL };
  g_autofree char *out = msg_test_gpg_run (gnupghome, args);
  g_auto (GStrv) lines = g_strsplit (out, "\n", -1);

  for (gsize i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "fpr:"))
      {
        g_auto (GStrv) fields = g_strsplit (lines[i], ":", -1);

        return g_strdup (fields[9]);
      }
  g_assert_not_reached ();
}

/* The gpg and gpgsm processes working on the keyring @gnupghome. GPGME
 * starts them detached (not children of this process), so they are
 * found by their environment. */
static guint
count_engines (const char *gnupghome)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc", 0, NULL);
  g_autofree char *needle = g_strdup_printf ("GNUPGHOME=%s", gnupghome);
  const char      *name;
  guint            count = 0;

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *comm_path = g_build_filename ("/proc", name, "comm", NULL);
      g_autofree char *env_path = g_build_filename ("/proc", name, "environ", NULL);
      g_autofree char *comm = NULL;
      g_autofree char *env = NULL;
      gsize            length = 0;

      if (!g_ascii_isdigit (name[0]) || !g_file_get_contents (comm_path, &comm, NULL, NULL))
        continue;
      g_strchomp (comm);
      if (!g_str_equal (comm, "gpg") && !g_str_equal (comm, "gpgsm"))
        continue;
      if (!g_file_get_contents (env_path, &env, &length, NULL))
        continue;
      for (gsize at = 0; at < length; at += strlen (env + at) + 1)
        if (g_str_equal (env + at, needle))
          count++;
    }
  return count;
}

static void
assert_engines_end (const char *gnupghome)
{
  gint64 start = g_get_monotonic_time ();

  /* GPGME notices a cancellation within about a second (its wait loop's
   * poll), then closes the engine's pipes; 5 s is generous, scaled for
   * slow runs. */
  while (count_engines (gnupghome) > 0 &&
         g_get_monotonic_time () - start < (gint64) (5 * G_USEC_PER_SEC * msg_test_time_scale ()))
    g_usleep (20000);
  g_assert_cmpuint (count_engines (gnupghome), ==, 0);
}

static MsgMessage *
new_message (void)
{
  g_autoptr (GError) error = NULL;
  MsgMessage *message = msg_message_new ();
  g_autoptr (GBytes) data = g_bytes_new_static ("\x00\x01\x02binary\xff", 10);

  g_assert_true (msg_message_set_from (message, "Alice <alice@example.org>", &error));
  g_assert_true (msg_message_set_to (message, "Bob <bob@example.org>", &error));
  g_assert_true (msg_message_set_subject (message, "Grüße", &error));
  /* 8-bit text and a line starting "From ", which must not break the
   * signature on the way. */
  msg_message_set_text_body (message, "Grüße aus Köln, it is sunny.\nFrom here it looks fine.\n");
  g_assert_nonnull (msg_message_add_attachment_bytes (message, data, "data.bin", "application/octet-stream", &error));
  g_assert_no_error (error);
  return message;
}

static MsgMessage *
round_trip (MsgMessage *message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = msg_message_to_bytes (message, &error);
  MsgMessage *parsed;

  g_assert_no_error (error);
  parsed = msg_message_new_from_bytes (bytes, &error);
  g_assert_no_error (error);
  return parsed;
}

static void
assert_one_signature (GList             *signatures,
                      MsgSignatureStatus status)
{
  g_assert_cmpuint (g_list_length (signatures), ==, 1);
  g_assert_cmpint (msg_signature_get_status (signatures->data), ==, status);
}

static void
test_sign_verify (void)
{
  g_autoptr (MsgMessage) message = new_message ();
  g_autoptr (MsgMessage) parsed = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *text = NULL;
  GList           *signatures;
  MsgSignature    *signature;
  gsize            size;
  const guint8    *data;

  g_test_summary ("A PGP/MIME signature made by the library verifies GOOD after a write and a parse, with the "
                  "signer's address and fingerprint; every octet written is 7-bit.");

  msg_message_sign (message, MSG_CRYPTO_PROTOCOL_OPENPGP, "alice@example.org", NULL, &error);
  g_assert_no_error (error);
  bytes = msg_message_to_bytes (message, &error);
  g_assert_no_error (error);
  data = g_bytes_get_data (bytes, &size);
  for (gsize i = 0; i < size; i++)
    g_assert_cmpuint (data[i], <, 0x80);
  g_assert_nonnull (g_strstr_len ((const char *) data, size, "multipart/signed"));
  g_assert_nonnull (g_strstr_len ((const char *) data, size, "micalg=pgp-"));

  parsed = round_trip (message);
  signatures = msg_message_verify (parsed, NULL, &error);
  g_assert_no_error (error);
  assert_one_signature (signatures, MSG_SIGNATURE_STATUS_GOOD);
  signature = signatures->data;
  g_assert_cmpstr (msg_signature_get_address (signature), ==, "alice@example.org");
  g_assert_cmpstr (msg_signature_get_fingerprint (signature), ==, alice_fpr);
  g_assert_cmpint (msg_signature_get_protocol (signature), ==, MSG_CRYPTO_PROTOCOL_OPENPGP);
  g_assert_cmpint (ABS (msg_signature_get_created (signature) - g_get_real_time () / G_USEC_PER_SEC), <, 600);
  g_list_free_full (signatures, g_object_unref);

  /* The message signed is the message read. */
  text = msg_message_get_text_body (parsed);
  g_assert_nonnull (strstr (text, "Grüße aus Köln"));
  /* The signature part reads as an attachment, as mail programs show it. */
  g_assert_cmpuint (msg_message_get_attachment_count (parsed), ==, 2);

  /* Verified in place too, before any write. */
  signatures = msg_message_verify (message, NULL, &error);
  g_assert_no_error (error);
  assert_one_signature (signatures, MSG_SIGNATURE_STATUS_GOOD);
  g_list_free_full (signatures, g_object_unref);
}

/* The first part's bytes between the boundaries and the second part's
 * decoded content of the multipart/signed in @raw. */
static void
split_signed (const char *raw,
              char      **content,
              GBytes    **signature)
{
  g_autoptr (GBytes) bytes = g_bytes_new (raw, strlen (raw));
  g_autoptr (GError) error = NULL;
  g_autoptr (GMimeStream) stream = g_mime_stream_mem_new_with_buffer (raw, strlen (raw));
  g_autoptr (GMimeParser) parser = g_mime_parser_new_with_stream (stream);
  g_autoptr (GMimeMessage) mime = g_mime_parser_construct_message (parser, NULL);
  GMimeObject     *root = g_mime_message_get_mime_part (mime);
  g_autofree char *delimiter = g_strdup_printf ("\n--%s", g_mime_multipart_get_boundary (GMIME_MULTIPART (root)));
  const char      *first = strstr (raw, delimiter + 1);
  const char      *start;
  const char      *end;
  GMimeObject     *sig = g_mime_multipart_get_part (GMIME_MULTIPART (root), 1);
  g_autoptr (GMimeStream) out = g_mime_stream_mem_new ();
  GByteArray      *array;
  g_autofree char *lf = NULL;

  g_assert_nonnull (first);
  start = strchr (first, '\n') + 1;
  end = strstr (start, delimiter);
  g_assert_nonnull (end);
  lf = g_strndup (start, end - start);
  if (end > start && end[-1] == '\r')
    lf[end - start - 1] = '\0';
  {
    g_autofree char *no_cr = g_strdup (lf);
    g_auto (GStrv) lines = NULL;
    gsize j = 0;

    /* The message may be written with CRLF or LF line ends. */
    for (gsize i = 0; lf[i] != '\0'; i++)
      if (lf[i] != '\r')
        no_cr[j++] = lf[i];
    no_cr[j] = '\0';
    lines = g_strsplit (no_cr, "\n", -1);

    /* RFC 3156: the signed data is the part in canonical CRLF form. */
    *content = g_strjoinv ("\r\n", lines);
  }
  g_mime_data_wrapper_write_to_stream (g_mime_part_get_content (GMIME_PART (sig)), out);
  array = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (out));
  *signature = g_bytes_new (array->data, array->len);
}

static void
test_gpg_verifies (void)
{
  g_autoptr (MsgMessage) message = new_message ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GBytes) signature = NULL;
  g_autofree char *raw = NULL;
  g_autofree char *content = NULL;
  g_autofree char *content_path = g_build_filename (home, "content.txt", NULL);
  g_autofree char *sig_path = g_build_filename (home, "content.asc", NULL);
  const char      *args[] = { "--verify", sig_path, content_path, NULL };
  g_autofree char *tampered_content = NULL;

  g_test_summary ("gpg --verify accepts the detached signature over the signed part's bytes as written, and "
                  "refuses it over changed bytes (so the check can fail).");

  g_assert_true (msg_message_sign (message, MSG_CRYPTO_PROTOCOL_OPENPGP, alice_fpr, NULL, &error));
  g_assert_no_error (error);
  bytes = msg_message_to_bytes (message, &error);
  g_assert_no_error (error);
  raw = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  split_signed (raw, &content, &signature);
  /* Files, never a device: gpg as root deletes a failed output file. */
  g_assert_true (g_file_set_contents (content_path, content, -1, NULL));
  g_assert_true (g_file_set_contents (sig_path, g_bytes_get_data (signature, NULL), g_bytes_get_size (signature), NULL));
  g_free (msg_test_gpg_run (home, args));

  tampered_content = g_strdup (content);
  memcpy (strstr (tampered_content, "sunny"), "rainy", 5);
  g_assert_true (g_file_set_contents (content_path, tampered_content, -1, NULL));
  {
    g_auto (GStrv) envp = g_environ_setenv (g_get_environ (), "GNUPGHOME", home, TRUE);
    const char *argv[] = { "gpg", "--batch", "--verify", sig_path, content_path, NULL };
    int         status = 0;

    g_assert_true (g_spawn_sync (NULL, (char **) argv, envp, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
                                 NULL, NULL, NULL, NULL, &status, NULL));
    g_assert_false (g_spawn_check_wait_status (status, NULL));
  }
}

static void
test_tampered (void)
{
  g_autoptr (MsgMessage) message = new_message ();
  g_autoptr (MsgMessage) parsed = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GBytes) changed = NULL;
  g_autofree char *raw = NULL;
  GList           *signatures;

  g_test_summary ("A signed message whose body was changed on the way verifies BAD, as a status.");

  g_assert_true (msg_message_sign (message, MSG_CRYPTO_PROTOCOL_OPENPGP, "alice@example.org", NULL, &error));
  bytes = msg_message_to_bytes (message, &error);
  g_assert_no_error (error);
  raw = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  memcpy (strstr (raw, "sunny"), "rainy", 5);
  changed = g_bytes_new (raw, strlen (raw));
  g_clear_object (&message);
  message = msg_message_new_from_bytes (changed, &error);
  g_assert_no_error (error);
  signatures = msg_message_verify (message, NULL, &error);
  g_assert_no_error (error);
  assert_one_signature (signatures, MSG_SIGNATURE_STATUS_BAD);
  g_list_free_full (signatures, g_object_unref);
}

static void
test_unknown_signer (void)
{
  g_autoptr (MsgMessage) message = new_message ();
  g_autoptr (MsgMessage) parsed = NULL;
  g_autoptr (GError) error = NULL;
  GList   *signatures;
  gboolean ok;

  g_test_summary ("A signature by a key the keyring lacks is NO_PUBLIC_KEY, not an error; GNUPGHOME chooses "
                  "the keyring.");

  g_setenv ("GNUPGHOME", other_home, TRUE);
  ok = msg_message_sign (message, MSG_CRYPTO_PROTOCOL_OPENPGP, "dave@example.org", NULL, &error);
  g_setenv ("GNUPGHOME", home, TRUE);
  g_assert_no_error (error);
  g_assert_true (ok);
  parsed = round_trip (message);
  signatures = msg_message_verify (parsed, NULL, &error);
  g_assert_no_error (error);
  assert_one_signature (signatures, MSG_SIGNATURE_STATUS_NO_PUBLIC_KEY);
  g_assert_cmpstr (msg_signature_get_user_id (signatures->data), ==, "");
  g_list_free_full (signatures, g_object_unref);

  /* And dave cannot sign in this keyring: a clear error naming him. */
  g_clear_object (&message);
  message = new_message ();
  g_assert_false (msg_message_sign (message, MSG_CRYPTO_PROTOCOL_OPENPGP, "dave@example.org", NULL, &error));
  g_assert_error (error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NO_KEY);
  g_assert_nonnull (strstr (error->message, "dave@example.org"));
  g_assert_cmpstr (g_quark_to_string (MSG_CRYPTO_ERROR), ==, "msg-crypto-error-quark");
}

static void
test_encrypt_decrypt (void)
{
  g_autoptr (MsgMessage) message = new_message ();
  g_autoptr (MsgMessage) parsed = NULL;
  g_autoptr (MsgMessage) clear = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *text = NULL;
  g_autofree char *subject = NULL;
  GList           *signatures = NULL;

  g_test_summary ("A message encrypted to its To recipient decrypts to the same text, attachment and headers; "
                  "the ciphertext does not hold the text.");

  g_assert_true (msg_message_encrypt (message, MSG_CRYPTO_PROTOCOL_OPENPGP, NULL, NULL, &error));
  g_assert_no_error (error);
  bytes = msg_message_to_bytes (message, &error);
  g_assert_null (g_strstr_len (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), "sunny"));
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), "multipart/encrypted"));
  parsed = round_trip (message);
  clear = msg_message_decrypt (parsed, &signatures, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (signatures);
  text = msg_message_get_text_body (clear);
  g_assert_nonnull (strstr (text, "it is sunny"));
  subject = msg_message_get_subject (clear);
  g_assert_cmpstr (subject, ==, "Grüße");
  g_assert_cmpuint (msg_message_get_attachment_count (clear), ==, 1);

  /* Not encrypted: a clear error. */
  g_assert_null (msg_message_decrypt (clear, NULL, NULL, &error));
  g_assert_error (error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NOT_ENCRYPTED);
  g_clear_error (&error);
  g_assert_null (msg_message_verify (clear, NULL, &error));
  g_assert_error (error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NOT_SIGNED);
}

static void
test_sign_and_encrypt (void)
{
  g_autoptr (MsgMessage) message = new_message ();
  g_autoptr (MsgMessage) parsed = NULL;
  g_autoptr (MsgMessage) clear = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *text = NULL;
  const char      *recipients[] = { "bob@example.org", "alice@example.org", NULL };
  GList           *signatures = NULL;

  g_test_summary ("Signed and encrypted: decrypting gives the text and alice's GOOD signature.");

  g_assert_true (msg_message_sign_and_encrypt (message, MSG_CRYPTO_PROTOCOL_OPENPGP, "alice@example.org",
                                               recipients, NULL, &error));
  g_assert_no_error (error);
  parsed = round_trip (message);
  clear = msg_message_decrypt (parsed, &signatures, NULL, &error);
  g_assert_no_error (error);
  assert_one_signature (signatures, MSG_SIGNATURE_STATUS_GOOD);
  g_assert_cmpstr (msg_signature_get_fingerprint (signatures->data), ==, alice_fpr);
  g_list_free_full (signatures, g_object_unref);
  text = msg_message_get_text_body (clear);
  g_assert_nonnull (strstr (text, "it is sunny"));

  /* A recipient without a key: named in the error. */
  g_clear_object (&message);
  message = new_message ();
  {
    const char *nobody[] = { "nobody@example.org", NULL };

    g_assert_false (msg_message_encrypt (message, MSG_CRYPTO_PROTOCOL_OPENPGP, nobody, NULL, &error));
    g_assert_error (error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NO_KEY);
    g_assert_nonnull (strstr (error->message, "nobody@example.org"));
  }
}

static void
test_external_encrypted (void)
{
  g_autofree char *input = g_build_filename (home, "entity.txt", NULL);
  g_autofree char *output = g_build_filename (home, "entity.asc", NULL);
  const char      *args[] = { "--armor", "--trust-model", "always", "--recipient", "bob@example.org",
                              "--output", output, "--encrypt", input, NULL };
  g_autofree char *armored = NULL;
  g_autofree char *raw = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgMessage) message = NULL;
  g_autoptr (MsgMessage) clear = NULL;
  g_autofree char *text = NULL;

  g_test_summary ("A PGP/MIME message made with gpg --encrypt outside the library decrypts.");

  g_assert_true (g_file_set_contents (input, "Content-Type: text/plain; charset=utf-8\r\n"
                                             "Content-Transfer-Encoding: 8bit\r\n\r\n"
                                             "Hello from gpg, grüße.\r\n",
                                      -1, NULL));
  g_free (msg_test_gpg_run (home, args));
  g_assert_true (g_file_get_contents (output, &armored, NULL, NULL));
  raw = g_strdup_printf ("From: Alice <alice@example.org>\n"
                         "To: Bob <bob@example.org>\n"
                         "Subject: external\n"
                         "MIME-Version: 1.0\n"
                         "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"b1\"\n"
                         "\n"
                         "--b1\n"
                         "Content-Type: application/pgp-encrypted\n"
                         "\n"
                         "Version: 1\n"
                         "\n"
                         "--b1\n"
                         "Content-Type: application/octet-stream\n"
                         "\n"
                         "%s\n"
                         "--b1--\n",
                         armored);
  bytes = g_bytes_new (raw, strlen (raw));
  message = msg_message_new_from_bytes (bytes, &error);
  g_assert_no_error (error);
  clear = msg_message_decrypt (message, NULL, NULL, &error);
  g_assert_no_error (error);
  text = msg_message_get_text_body (clear);
  g_assert_cmpstr (text, ==, "Hello from gpg, grüße.\r\n");
}

static void
test_change_drops_signature (void)
{
  g_autoptr (MsgMessage) message = new_message ();
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GBytes) downgraded = NULL;
  g_autoptr (GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autofree char *text = NULL;
  GList           *signatures;

  g_test_summary ("The 8-bit downgrade of a transport leaves a signed message as signed; changing the body "
                  "after signing drops the signature and keeps the change.");

  g_assert_true (msg_message_sign (message, MSG_CRYPTO_PROTOCOL_OPENPGP, "alice@example.org", NULL, &error));
  bytes = msg_message_to_bytes (message, &error);
  g_assert_true (msg_message_write_to_stream_full (message, out, MSG_WRITE_FLAGS_ENCODE_8BIT | MSG_WRITE_FLAGS_LINE_LIMIT,
                                                   NULL, &error));
  g_assert_no_error (error);
  g_output_stream_close (out, NULL, NULL);
  downgraded = g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (out));
  g_assert_true (g_bytes_equal (bytes, downgraded));

  msg_message_set_text_body (message, "Changed after signing.\n");
  g_assert_null (msg_message_verify (message, NULL, &error));
  g_assert_error (error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NOT_SIGNED);
  g_clear_error (&error);
  text = msg_message_get_text_body (message);
  g_assert_cmpstr (text, ==, "Changed after signing.\n");
  g_assert_cmpuint (msg_message_get_attachment_count (message), ==, 1);

  /* A parsed signed message likewise: the change drops the signature,
   * the signed content stays. */
  {
    g_autoptr (MsgMessage) signed_message = new_message ();
    g_autoptr (MsgMessage) parsed = NULL;
    g_autofree char *html = NULL;

    g_assert_true (msg_message_sign (signed_message, MSG_CRYPTO_PROTOCOL_OPENPGP, "alice@example.org", NULL, &error));
    parsed = round_trip (signed_message);
    msg_message_set_html_body (parsed, "<p>Added after signing.</p>");
    g_assert_null (msg_message_verify (parsed, NULL, &error));
    g_assert_error (error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NOT_SIGNED);
    g_clear_error (&error);
    g_clear_pointer (&text, g_free);
    text = msg_message_get_text_body (parsed);
    g_assert_nonnull (strstr (text, "it is sunny"));
    html = msg_message_get_html_body (parsed);
    g_assert_nonnull (strstr (html, "Added after signing."));
    /* data.bin, and no signature.asc any more. */
    g_assert_cmpuint (msg_message_get_attachment_count (parsed), ==, 1);
  }

  /* Signed again, it verifies. */
  g_assert_true (msg_message_sign (message, MSG_CRYPTO_PROTOCOL_OPENPGP, "alice@example.org", NULL, &error));
  signatures = msg_message_verify (message, NULL, &error);
  g_assert_no_error (error);
  assert_one_signature (signatures, MSG_SIGNATURE_STATUS_GOOD);
  g_list_free_full (signatures, g_object_unref);
}

static char *
good_passphrase_cb (const char *key,
                    gboolean    previous_failed,
                    gpointer    user_data)
{
  int *calls = user_data;

  (*calls)++;
  /* A sync call asks in the caller's thread (decision 18). */
  g_assert_true (g_thread_self () == main_thread);
  g_assert_nonnull (strstr (key, "carol@example.org"));
  return g_strdup (previous_failed ? "never" : "carol secret");
}

static void
test_passphrase (void)
{
  g_autoptr (MsgMessage) message = new_message ();
  g_autoptr (GError) error = NULL;
  gint64 start;
  int    calls = 0;
  GList *signatures;

  g_test_summary ("A key that needs a passphrase fails at once without a passphrase function (no pinentry), "
                  "and signs with one.");

  start = g_get_monotonic_time ();
  g_assert_false (msg_message_sign (message, MSG_CRYPTO_PROTOCOL_OPENPGP, "carol@example.org", NULL, &error));
  g_assert_error (error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NO_PASSPHRASE);
  g_assert_nonnull (strstr (error->message, "carol@example.org"));
  /* Two gpg runs (key lookup, signing) take some tens of milliseconds;
   * a prompt would wait forever. Scaled for slow runs. */
  msg_test_assert_elapsed_below (start, AT_ONCE_MS);
  g_clear_error (&error);

  msg_configuration_set_passphrase_func (msg_message_get_configuration (message), good_passphrase_cb, &calls, NULL);
  g_assert_true (msg_message_sign (message, MSG_CRYPTO_PROTOCOL_OPENPGP, "carol@example.org", NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (calls, ==, 1);
  msg_configuration_set_passphrase_func (msg_message_get_configuration (message), NULL, NULL, NULL);
  signatures = msg_message_verify (message, NULL, &error);
  g_assert_no_error (error);
  assert_one_signature (signatures, MSG_SIGNATURE_STATUS_GOOD);
  g_assert_cmpstr (msg_signature_get_address (signatures->data), ==, "carol@example.org");
  g_list_free_full (signatures, g_object_unref);

  /* Decrypting with carol's key: refused at once without the function,
   * done with it. */
  {
    const char *carol[] = { "carol@example.org", NULL };
    g_autoptr (MsgMessage) encrypted = new_message ();
    g_autoptr (MsgMessage) parsed = NULL;
    g_autoptr (MsgMessage) clear = NULL;

    g_assert_true (msg_message_encrypt (encrypted, MSG_CRYPTO_PROTOCOL_OPENPGP, carol, NULL, &error));
    g_assert_no_error (error);
    parsed = round_trip (encrypted);
    start = g_get_monotonic_time ();
    g_assert_null (msg_message_decrypt (parsed, NULL, NULL, &error));
    g_assert_error (error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NO_PASSPHRASE);
    msg_test_assert_elapsed_below (start, AT_ONCE_MS);
    g_clear_error (&error);
    calls = 0;
    msg_configuration_set_passphrase_func (msg_message_get_configuration (parsed), good_passphrase_cb, &calls, NULL);
    clear = msg_message_decrypt (parsed, NULL, NULL, &error);
    g_assert_no_error (error);
    g_assert_cmpint (calls, ==, 1);
    g_assert_nonnull (clear);
  }
}

static guint count_threads (const char *name);

static void
assert_not_signed (MsgMessage *message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = msg_message_to_bytes (message, &error);
  g_autofree char *text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));

  g_assert_no_error (error);
  g_assert_null (strstr (text, "multipart/signed"));
}

/* The library's GPGME threads end (those of operations it gave up on
 * included): 10 s, scaled, is generous for GPGME's second-long poll. */
static gboolean
wait_gpgme_threads_end (void)
{
  gint64 limit = g_get_monotonic_time () + msg_test_ms_scaled (10000) * 1000;

  while (count_threads ("msg-gpgme") > 0 && g_get_monotonic_time () < limit)
    g_usleep (20000);
  return count_threads ("msg-gpgme") == 0;
}

/* A passphrase function that stands for a person who does not answer
 * in time. It runs in the caller's thread, which a sync call blocks in
 * it: it holds that thread (optionally cancelling the operation first)
 * until the library's GPGME thread has given up on it and ended, then
 * gives the right passphrase, too late to be used. */
typedef struct
{
  GThread      *thread; /* where it was called */
  gboolean      entered;
  gboolean      worker_ended; /* while it was running */
  GCancellable *cancel;       /* (nullable) */
  gint64        cancelled_at;
  gint64        worker_ended_at;
  gint64        returned_at;
} Stuck;

static char *
stuck_passphrase_cb (const char *key,
                     gboolean    previous_failed,
                     gpointer    user_data)
{
  Stuck *stuck = user_data;

  stuck->entered = TRUE;
  stuck->thread = g_thread_self ();
  if (stuck->cancel != NULL)
    {
      stuck->cancelled_at = g_get_monotonic_time ();
      g_cancellable_cancel (stuck->cancel);
    }
  stuck->worker_ended = wait_gpgme_threads_end ();
  stuck->worker_ended_at = g_get_monotonic_time ();
  stuck->returned_at = g_get_monotonic_time ();
  return g_strdup (strstr (key, "erin@") != NULL ? "erin secret" : "carol secret");
}

static void
run_stuck (gboolean cancel)
{
  g_autoptr (MsgMessage) message = new_message ();
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  MsgConfiguration *config = msg_message_get_configuration (message);
  Stuck             stuck = { 0 };
  gint64            start;
  double            timeout_s = 1.0 * msg_test_time_scale ();

  if (cancel)
    stuck.cancel = cancellable;
  else
    {
      /* 1 s, scaled: under valgrind gpg needs seconds to ask for the
       * passphrase, and the test wants it waiting when the clock ends. */
      g_autofree char *timeout = g_strdup_printf ("%g", timeout_s);

      g_assert_true (msg_configuration_set_field (config, "cryptooperationtimeout", timeout, &error));
    }
  msg_configuration_set_passphrase_func (config, stuck_passphrase_cb, &stuck, NULL);

  start = g_get_monotonic_time ();
  g_assert_false (msg_message_sign (message, MSG_CRYPTO_PROTOCOL_OPENPGP, "carol@example.org", cancellable, &error));
  g_assert_true (stuck.entered);
  /* A sync call asks in its own thread. */
  g_assert_true (stuck.thread == g_thread_self ());
  /* The GPGME thread did not wait for the function past the deadline or
   * the cancellation: it ended while the function still ran. */
  g_assert_true (stuck.worker_ended);
  if (cancel)
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      /* Its gpg is told at once and ends: 2 s of slack, scaled. */
      g_assert_cmpint (stuck.worker_ended_at - stuck.cancelled_at, <=, msg_test_ms_scaled (2000) * 1000);
    }
  else
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
      g_assert_cmpint (g_get_monotonic_time () - start, >=, (gint64) (timeout_s * G_USEC_PER_SEC));
      /* The deadline, then its gpg ends: 2 s of slack, scaled. */
      g_assert_cmpint (stuck.worker_ended_at - start, <=,
                       (gint64) (timeout_s * G_USEC_PER_SEC) + msg_test_ms_scaled (2000) * 1000);
    }
  /* The call returns as soon as the function does (200 ms, scaled), and
   * the late passphrase signed nothing. */
  msg_test_assert_elapsed_below (stuck.returned_at, 200);
  assert_not_signed (message);
  assert_engines_end (home);
  msg_configuration_set_passphrase_func (config, NULL, NULL, NULL);
}

/* A passphrase function for an _async call (see MsgTestPending). */
static char *
pending_passphrase_cb (const char *key,
                       gboolean    previous_failed,
                       gpointer    user_data)
{
  msg_test_pending_asked (user_data);
  return g_strdup (previous_failed ? "never" : "carol secret");
}

/* Signs as carol with msg_message_sign_async() called in a context of
 * its own, pushed as this thread's default. */
static gboolean
sign_async_pending (MsgMessage     *message,
                    MsgTestPending *pending,
                    GCancellable   *cancellable,
                    GError        **error)
{
  gboolean ok;

  pending->context = g_main_context_new ();
  g_main_context_push_thread_default (pending->context);
  msg_configuration_set_passphrase_func (msg_message_get_configuration (message), pending_passphrase_cb, pending,
                                         NULL);
  msg_message_sign_async (message, MSG_CRYPTO_PROTOCOL_OPENPGP, "carol@example.org", cancellable, msg_test_pending_done_cb,
                          pending);
  msg_test_pending_wait (pending);
  ok = msg_message_sign_finish (message, pending->result, error);
  msg_configuration_set_passphrase_func (msg_message_get_configuration (message), NULL, NULL, NULL);
  g_main_context_pop_thread_default (pending->context);
  g_clear_object (&pending->result);
  g_clear_pointer (&pending->context, g_main_context_unref);
  return ok;
}

static void
test_async_passphrase (void)
{
  g_autoptr (MsgMessage) message = new_message ();
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *timeout = g_strdup_printf ("%g", 1.0 * msg_test_time_scale ());
  MsgTestPending   pending = { 0 };
  gint64           start;
  GList           *signatures;

  g_test_summary ("An _async call calls the passphrase function in the caller's thread-default main context; a "
                  "deadline or a cancellation while the function is pending ends the call on time.");

  g_assert_true (sign_async_pending (message, &pending, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (pending.calls, ==, 1);
  g_assert_true (pending.thread == g_thread_self ());
  g_assert_true (pending.in_context);
  signatures = msg_message_verify (message, NULL, &error);
  g_assert_no_error (error);
  assert_one_signature (signatures, MSG_SIGNATURE_STATUS_GOOD);
  g_list_free_full (signatures, g_object_unref);

  /* Decrypting with carol's key alike. */
  {
    const char *carol[] = { "carol@example.org", NULL };
    g_autoptr (MsgMessage) encrypted = new_message ();
    g_autoptr (MsgMessage) parsed = NULL;
    g_autoptr (MsgMessage) clear = NULL;

    g_assert_true (msg_message_encrypt (encrypted, MSG_CRYPTO_PROTOCOL_OPENPGP, carol, NULL, &error));
    g_assert_no_error (error);
    parsed = round_trip (encrypted);
    memset (&pending, 0, sizeof pending);
    pending.context = g_main_context_new ();
    g_main_context_push_thread_default (pending.context);
    msg_configuration_set_passphrase_func (msg_message_get_configuration (parsed), pending_passphrase_cb, &pending,
                                           NULL);
    msg_message_decrypt_async (parsed, NULL, msg_test_pending_done_cb, &pending);
    msg_test_pending_wait (&pending);
    clear = msg_message_decrypt_finish (parsed, pending.result, NULL, &error);
    g_main_context_pop_thread_default (pending.context);
    g_assert_no_error (error);
    g_assert_nonnull (clear);
    g_assert_cmpint (pending.calls, ==, 1);
    g_assert_true (pending.in_context);
    g_clear_object (&pending.result);
    g_clear_pointer (&pending.context, g_main_context_unref);
  }

  /* The deadline (1 s, scaled: under valgrind gpg needs seconds to ask)
   * passes while the function runs: the result comes on time, and the
   * late passphrase signs nothing. */
  g_clear_object (&message);
  message = new_message ();
  g_assert_true (msg_configuration_set_field (msg_message_get_configuration (message), "cryptooperationtimeout",
                                              timeout, &error));
  memset (&pending, 0, sizeof pending);
  pending.wait_for_result = TRUE;
  start = g_get_monotonic_time ();
  g_assert_false (sign_async_pending (message, &pending, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (pending.calls, ==, 1);
  g_assert_cmpint (pending.result_at - start, >=, (gint64) (msg_test_time_scale () * G_USEC_PER_SEC));
  /* The deadline plus 500 ms of slack, scaled. */
  g_assert_cmpint (pending.result_at - start, <=, msg_test_ms_scaled (1500) * 1000);
  assert_not_signed (message);
  assert_engines_end (home);
  g_clear_error (&error);

  /* Cancelled while the function runs: the result comes at once. */
  memset (&pending, 0, sizeof pending);
  pending.wait_for_result = TRUE;
  pending.cancel = cancellable;
  g_assert_false (sign_async_pending (message, &pending, cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* 200 ms of slack, scaled. */
  g_assert_cmpint (pending.result_at - pending.cancelled_at, <=, msg_test_ms_scaled (200) * 1000);
  assert_not_signed (message);
  assert_engines_end (home);
}

static void
test_async_not_iterated (void)
{
  g_autoptr (MsgMessage) message = new_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *timeout = g_strdup_printf ("%g", 1.0 * msg_test_time_scale ());
  MsgTestPending   pending = { 0 };
  gint64           limit;

  g_test_summary ("A caller that does not iterate its main context holds no library thread: the GPGME thread "
                  "gives up on the passphrase at the deadline, and the function is never called late.");

  g_assert_true (msg_configuration_set_field (msg_message_get_configuration (message), "cryptooperationtimeout",
                                              timeout, &error));
  pending.context = g_main_context_new ();
  g_main_context_push_thread_default (pending.context);
  msg_configuration_set_passphrase_func (msg_message_get_configuration (message), pending_passphrase_cb, &pending,
                                         NULL);
  msg_message_sign_async (message, MSG_CRYPTO_PROTOCOL_OPENPGP, "carol@example.org", NULL, msg_test_pending_done_cb,
                          &pending);
  /* The GPGME thread starts, then ends of its own (10 s each, scaled). */
  limit = g_get_monotonic_time () + msg_test_ms_scaled (10000) * 1000;
  while (count_threads ("msg-gpgme") == 0 && g_get_monotonic_time () < limit)
    g_usleep (5000);
  g_assert_true (wait_gpgme_threads_end ());
  msg_test_pending_wait (&pending);
  g_assert_false (msg_message_sign_finish (message, pending.result, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_cmpint (pending.calls, ==, 0);
  assert_engines_end (home);
  msg_configuration_set_passphrase_func (msg_message_get_configuration (message), NULL, NULL, NULL);
  g_main_context_pop_thread_default (pending.context);
  g_clear_object (&pending.result);
  g_main_context_unref (pending.context);
}

static int
agent_pid (const char *gnupghome)
{
  g_auto (GStrv) envp = g_environ_setenv (g_get_environ (), "GNUPGHOME", gnupghome, TRUE);
  const char      *argv[] = { "gpg-connect-agent", "GETINFO pid", "/bye", NULL };
  g_autofree char *out = NULL;

  g_assert_true (g_spawn_sync (NULL, (char **) argv, envp, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL, NULL,
                               NULL, &out, NULL, NULL, NULL));
  g_assert_true (g_str_has_prefix (out, "D "));
  return atoi (out + 2);
}

/* Stops the agent @pid and waits until /proc shows it stopped (10 s,
 * scaled). On the test machines a single SIGSTOP to the agent was seen
 * lost now and then (the sign then succeeded at once), so it is sent
 * again every 10 ms until it holds. */
static void
stop_agent (int pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", pid);
  gint64           limit = g_get_monotonic_time () + msg_test_ms_scaled (10000) * 1000;
  gboolean         stopped = FALSE;

  while (!stopped && g_get_monotonic_time () < limit)
    {
      g_assert_cmpint (kill (pid, SIGSTOP), ==, 0);
      g_autofree char *stat = NULL;
      const char      *state;

      g_assert_true (g_file_get_contents (path, &stat, NULL, NULL));
      state = strrchr (stat, ')');
      stopped = state != NULL && state[1] == ' ' && state[2] == 'T';
      if (!stopped)
        g_usleep (10000);
    }
  g_assert_true (stopped);
}

static void
test_agent_stopped (void)
{
  g_autoptr (MsgMessage) message = new_message ();
  g_autoptr (GError) error = NULL;
  g_autofree char *timeout = g_strdup_printf ("%g", 1.0 * msg_test_time_scale ());
  int              pid = agent_pid (home);
  gint64           start;
  gboolean         ok;

  g_test_summary ("A gpg-agent that stops answering holds gpg, not the call: it times out on time while GPGME "
                  "waits in its own loop, and gpg ends once the agent answers again.");

  g_assert_true (msg_configuration_set_field (msg_message_get_configuration (message), "cryptooperationtimeout",
                                              timeout, &error));
  stop_agent (pid);
  start = g_get_monotonic_time ();
  ok = msg_message_sign (message, MSG_CRYPTO_PROTOCOL_OPENPGP, "alice@example.org", NULL, &error);
  /* The agent goes on before anything can fail, so the tests after this
   * one (and the end of the run) find it answering. */
  kill (pid, SIGCONT);
  g_assert_false (ok);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  /* The deadline (1 s, scaled) plus 500 ms of slack, scaled. */
  msg_test_assert_elapsed_below (start, 1500);
  assert_engines_end (home);
}

static void
test_cancel (void)
{
  g_test_summary ("Cancelling while gpg waits returns at once with G_IO_ERROR_CANCELLED, and the gpg process "
                  "ends.");
  run_stuck (TRUE);
}

static void
test_deadline (void)
{
  g_test_summary ("cryptooperationtimeout bounds the call: G_IO_ERROR_TIMED_OUT on time, and the gpg process "
                  "ends.");
  run_stuck (FALSE);
}

static void
async_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static GAsyncResult *
wait_result (GAsyncResult **slot)
{
  while (*slot == NULL)
    g_main_context_iteration (NULL, TRUE);
  return *slot;
}

static void
test_async (void)
{
  g_autoptr (MsgMessage) message = new_message ();
  g_autoptr (MsgMessage) parsed = NULL;
  g_autoptr (MsgMessage) clear = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GAsyncResult) signed_result = NULL;
  g_autoptr (GAsyncResult) verified = NULL;
  g_autoptr (GAsyncResult) encrypted = NULL;
  g_autoptr (GAsyncResult) decrypted = NULL;
  g_autoptr (GAsyncResult) cancelled = NULL;
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *text = NULL;
  GList           *signatures = NULL;

  g_test_summary ("The _async calls give the sync calls' results in the caller's context, and a cancelled "
                  "one fails with G_IO_ERROR_CANCELLED.");

  msg_message_sign_async (message, MSG_CRYPTO_PROTOCOL_OPENPGP, "alice@example.org", NULL, async_done_cb,
                          &signed_result);
  g_assert_true (msg_message_sign_finish (message, wait_result (&signed_result), &error));
  g_assert_no_error (error);
  parsed = round_trip (message);
  msg_message_verify_async (parsed, NULL, async_done_cb, &verified);
  signatures = msg_message_verify_finish (parsed, wait_result (&verified), &error);
  g_assert_no_error (error);
  assert_one_signature (signatures, MSG_SIGNATURE_STATUS_GOOD);
  g_list_free_full (signatures, g_object_unref);
  signatures = NULL;

  g_clear_object (&message);
  g_clear_object (&parsed);
  message = new_message ();
  msg_message_sign_and_encrypt_async (message, MSG_CRYPTO_PROTOCOL_OPENPGP, "alice@example.org", NULL, NULL,
                                      async_done_cb, &encrypted);
  g_assert_true (msg_message_sign_and_encrypt_finish (message, wait_result (&encrypted), &error));
  g_assert_no_error (error);
  parsed = round_trip (message);
  msg_message_decrypt_async (parsed, NULL, async_done_cb, &decrypted);
  clear = msg_message_decrypt_finish (parsed, wait_result (&decrypted), &signatures, &error);
  g_assert_no_error (error);
  assert_one_signature (signatures, MSG_SIGNATURE_STATUS_GOOD);
  g_list_free_full (signatures, g_object_unref);
  text = msg_message_get_text_body (clear);
  g_assert_nonnull (strstr (text, "it is sunny"));

  g_clear_object (&message);
  message = new_message ();
  g_cancellable_cancel (cancellable);
  msg_message_encrypt_async (message, MSG_CRYPTO_PROTOCOL_OPENPGP, NULL, cancellable, async_done_cb, &cancelled);
  g_assert_false (msg_message_encrypt_finish (message, wait_result (&cancelled), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* Starts @argv with @input (NULL: nothing) on stdin from a file, not a
 * pipe: a program may exit without reading its input (msgobj refuses
 * --password-file - with --passphrase-file - first, gpgsm may fail before
 * reading its passphrase), and a write to a pipe whose reader has exited
 * fails with EPIPE, or not, depending on which process ran first. */
static GSubprocess *
spawn_with_input (const char *const *argv,
                  const char        *input,
                  GSubprocessFlags   flags)
{
  g_autoptr (GSubprocessLauncher) launcher = g_subprocess_launcher_new (flags);
  g_autoptr (GError) error = NULL;
  g_autofree char *path = NULL;
  GSubprocess     *process;
  int              fd = g_file_open_tmp ("msgobj-test-input-XXXXXX", &path, &error);

  g_assert_no_error (error);
  close (fd);
  g_assert_true (g_file_set_contents (path, input != NULL ? input : "", -1, &error));
  g_assert_no_error (error);
  g_subprocess_launcher_set_stdin_file_path (launcher, path);
  process = g_subprocess_launcher_spawnv (launcher, argv, &error);
  g_assert_no_error (error);
  /* The child has it open. */
  g_assert_cmpint (g_unlink (path), ==, 0);
  return process;
}

/* Runs `msgobj ARGS` with @input on stdin; returns its exit status. */
static int
run_tool (const char        *input,
          const char *const *args,
          char             **out,
          char             **err)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new ();
  g_autoptr (GSubprocess) process = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) stdout_bytes = NULL;
  g_autoptr (GBytes) stderr_bytes = NULL;

  g_ptr_array_add (argv, (gpointer) g_getenv ("MSGOBJ_TEST_TOOL"));
  g_assert_nonnull (argv->pdata[0]);
  for (gsize i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  process = spawn_with_input ((const char *const *) argv->pdata, input,
                              G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_communicate (process, NULL, NULL, &stdout_bytes, &stderr_bytes, &error);
  g_assert_no_error (error);
  /* An empty GBytes may have NULL data. */
  *out = g_strndup (g_bytes_get_size (stdout_bytes) > 0 ? g_bytes_get_data (stdout_bytes, NULL) : "",
                    g_bytes_get_size (stdout_bytes));
  *err = g_strndup (g_bytes_get_size (stderr_bytes) > 0 ? g_bytes_get_data (stderr_bytes, NULL) : "",
                    g_bytes_get_size (stderr_bytes));
  return g_subprocess_get_exit_status (process);
}

static void
test_tool (void)
{
  g_autofree char *pickup = g_build_filename (home, "pickup", NULL);
  g_autofree char *set_pickup = g_strdup_printf ("smtpserverpickupdirectory=%s", pickup);
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *expected = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgMessage) encrypted = NULL;
  g_autoptr (MsgMessage) clear = NULL;
  g_autofree char *text = NULL;
  int              status;

  g_assert_cmpint (g_mkdir_with_parents (pickup, 0700), ==, 0);
  g_test_summary ("msgobj send --sign and --encrypt sign with the From address's key and encrypt to the "
                  "recipients; msgobj show prints the signature's status and signer.");

  status = run_tool ("Signed from the command line.\n",
                     (const char *const[]){ "send", "--set", "sendusing=pickup", "--set", set_pickup, "--from",
                                            "Alice <alice@example.org>", "--to", "bob@example.org", "--subject",
                                            "tool", "--sign", NULL },
                     &out, &err);
  g_assert_cmpstr (err, ==, "");
  g_assert_cmpint (status, ==, 0);
  g_strstrip (out);
  g_free (err);
  status = run_tool ("", (const char *const[]){ "show", out, NULL }, &shown, &err);
  g_assert_cmpint (status, ==, 0);
  expected = g_strdup_printf ("Signature: good by Alice <alice@example.org>, key %s, made ", alice_fpr);
  g_assert_nonnull (strstr (shown, expected));
  g_clear_pointer (&shown, g_free);
  g_clear_pointer (&err, g_free);
  status = run_tool ("", (const char *const[]){ "show", "--json", out, NULL }, &shown, &err);
  g_assert_cmpint (status, ==, 0);
  g_clear_pointer (&expected, g_free);
  expected = g_strdup_printf ("\"signatures\":[{\"status\":\"good\",\"user_id\":\"Alice <alice@example.org>\","
                              "\"address\":\"alice@example.org\",\"fingerprint\":\"%s\",\"created\":",
                              alice_fpr);
  g_assert_nonnull (strstr (shown, expected));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  status = run_tool ("Encrypted from the command line.\n",
                     (const char *const[]){ "send", "--set", "sendusing=pickup", "--set", set_pickup, "--from",
                                            "Alice <alice@example.org>", "--to", "bob@example.org", "--subject",
                                            "tool", "--encrypt", NULL },
                     &out, &err);
  g_assert_cmpstr (err, ==, "");
  g_assert_cmpint (status, ==, 0);
  g_strstrip (out);
  encrypted = msg_message_new_from_file (out, &error);
  g_assert_no_error (error);
  clear = msg_message_decrypt (encrypted, NULL, NULL, &error);
  g_assert_no_error (error);
  text = msg_message_get_text_body (clear);
  g_assert_nonnull (strstr (text, "Encrypted from the command line."));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* A From without a key: nothing is sent, the error names it. */
  status = run_tool ("x\n",
                     (const char *const[]){ "send", "--set", "sendusing=pickup", "--set", set_pickup, "--from",
                                            "nokey@example.org", "--to", "bob@example.org", "--sign", NULL },
                     &out, &err);
  g_assert_cmpint (status, !=, 0);
  g_assert_nonnull (strstr (err, "nokey@example.org"));
  g_assert_cmpstr (out, ==, "");
}

/* `msgobj send --sign` from carol, whose key has a passphrase, with
 * @extra (NULL-terminated) after the usual options and @input on
 * standard input; returns the exit status, and the file sent in *@sent
 * (NULL if none). */
static int
send_as_carol (const char        *input,
               const char *const *extra,
               char             **sent,
               char             **err)
{
  g_autofree char *pickup = g_build_filename (home, "pickup-carol", NULL);
  g_autofree char *set_pickup = g_strdup_printf ("smtpserverpickupdirectory=%s", pickup);
  g_autoptr (GPtrArray) args = g_ptr_array_new ();
  const char *const base[] = { "send", "--set", "sendusing=pickup", "--set", set_pickup, "--from",
                               "Carol <carol@example.org>", "--to", "bob@example.org", "--subject", "tool", "--sign",
                               NULL };
  int               status;

  g_assert_cmpint (g_mkdir_with_parents (pickup, 0700), ==, 0);
  for (guint i = 0; base[i] != NULL; i++)
    g_ptr_array_add (args, (gpointer) base[i]);
  for (guint i = 0; extra[i] != NULL; i++)
    g_ptr_array_add (args, (gpointer) extra[i]);
  g_ptr_array_add (args, NULL);
  status = run_tool (input, (const char *const *) args->pdata, sent, err);
  g_strstrip (*sent);
  if (**sent == '\0')
    g_clear_pointer (sent, g_free);
  return status;
}

static void
assert_file_signed_by_carol (const char *file)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgMessage) message = msg_message_new_from_file (file, &error);
  GList *signatures;

  g_assert_no_error (error);
  signatures = msg_message_verify (message, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (msg_signature_get_status (signatures->data), ==, MSG_SIGNATURE_STATUS_GOOD);
  g_assert_cmpstr (msg_signature_get_address (signatures->data), ==, "carol@example.org");
  g_list_free_full (signatures, g_object_unref);
}

static void
test_tool_passphrase_file (void)
{
  g_autofree char *file = g_build_filename (home, "carol-passphrase", NULL);
  g_autofree char *wrong = g_build_filename (home, "wrong-passphrase", NULL);
  g_autofree char *sent = NULL;
  g_autofree char *err = NULL;
  int              status;

  g_test_summary ("msgobj send --sign --passphrase-file FILE (or -) gives the key its passphrase; without "
                  "it, or with a wrong one, nothing is sent, the error says why and the exit code is 3.");
  g_assert_true (g_file_set_contents (file, "carol secret\nsecond line ignored\n", -1, NULL));
  g_assert_true (g_file_set_contents (wrong, "not carol's\n", -1, NULL));

  /* Exit code 3: a passphrase missing or wrong is the caller's to fix. */
  status = send_as_carol ("", (const char *const[]){ "--text", "x", NULL }, &sent, &err);
  g_assert_cmpint (status, ==, 3);
  g_assert_null (sent);
  g_assert_nonnull (strstr (err, "passphrase"));
  g_clear_pointer (&err, g_free);

  status = send_as_carol ("", (const char *const[]){ "--text", "x", "--passphrase-file", wrong, NULL }, &sent, &err);
  g_assert_cmpint (status, ==, 3);
  g_assert_null (sent);
  g_assert_nonnull (strstr (err, "passphrase"));
  g_clear_pointer (&err, g_free);

  status = send_as_carol ("", (const char *const[]){ "--text", "x", "--passphrase-file", file, NULL }, &sent, &err);
  g_assert_cmpstr (err, ==, "");
  g_assert_cmpint (status, ==, 0);
  assert_file_signed_by_carol (sent);
  g_clear_pointer (&sent, g_free);
  g_clear_pointer (&err, g_free);

  /* From standard input: then the body cannot come from there too. */
  status = send_as_carol ("carol secret\n", (const char *const[]){ "--text", "x", "--passphrase-file", "-", NULL },
                          &sent, &err);
  g_assert_cmpstr (err, ==, "");
  g_assert_cmpint (status, ==, 0);
  assert_file_signed_by_carol (sent);
  g_clear_pointer (&sent, g_free);
  g_clear_pointer (&err, g_free);

  status = send_as_carol ("x", (const char *const[]){ "--password-file", "-", "--passphrase-file", "-", NULL }, &sent,
                          &err);
  g_assert_cmpint (status, ==, 2);
  g_assert_null (sent);
  g_assert_nonnull (strstr (err, "standard input"));
}

/* Threads of this process named @name. */
static guint
count_threads (const char *name)
{
  g_autoptr (GDir) dir = g_dir_open ("/proc/self/task", 0, NULL);
  const char *task;
  guint       count = 0;

  while ((task = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename ("/proc/self/task", task, "comm", NULL);
      g_autofree char *comm = NULL;

      if (g_file_get_contents (path, &comm, NULL, NULL) && g_str_equal (g_strchomp (comm), name))
        count++;
    }
  return count;
}

/* Stand-ins for GnuPG's programs in a directory of their own, first on
 * PATH (in a test subprocess, whose GPGME has not looked for its engines
 * yet): gpgconf --list-components points GPGME at the other two, and each one runs
 * the real program unless a file in the directory tells it to stall:
 * "gpgconf-blocks" (the first look for the engines), "block-verify" (gpg
 * --verify), "slow-decrypt" (gpg --decrypt, for the seconds it holds).
 * A stalled one waits for the file "release", at most a minute (scaled:
 * longer than any deadline of the tests that use them). Each
 * writes its PID to "pids". */
static char *
make_fake_engines (void)
{
  g_autofree char *dir = g_strdup ("/tmp/msgobj-fake-XXXXXX");
  g_autofree char *gpgconf = g_find_program_in_path ("gpgconf");
  g_autofree char *gpg = g_find_program_in_path ("gpg");
  g_autofree char *gpgsm = g_find_program_in_path ("gpgsm");
  g_autofree char *common = NULL;
  g_autofree char *path = NULL;
  struct
  {
    const char *name;
    char       *body;
  } tools[] = {
    { "gpgconf", g_strdup_printf ("[ -e \"$D/gpgconf-blocks\" ] && stall\n"
                                  "'%s' \"$@\" | sed -e \"s|^gpg:\\([^:]*\\):.*|gpg:\\1:$D/gpg|\" "
                                  "-e \"s|^gpgsm:\\([^:]*\\):.*|gpgsm:\\1:$D/gpgsm|\"\n",
                                  gpgconf) },
    { "gpg", g_strdup_printf ("case \" $* \" in\n"
                              "*\" --verify \"*) [ -e \"$D/block-verify\" ] && { : > \"$D/verifying\"; stall; exit 2; } ;;\n"
                              "*\" --decrypt \"*) [ -e \"$D/slow-decrypt\" ] && sleep \"$(cat \"$D/slow-decrypt\")\" ;;\n"
                              "esac\n"
                              "exec '%s' \"$@\"\n",
                              gpg) },
    { "gpgsm", g_strdup_printf ("exec '%s' \"$@\"\n", gpgsm != NULL ? gpgsm : "false") },
  };

  g_assert_nonnull (g_mkdtemp_full (dir, 0700));
  common = g_strdup_printf ("#!/bin/sh\nD='%s'\necho $$ >> \"$D/pids\"\n"
                            "stall () { n=0; while [ ! -e \"$D/release\" ] && [ $n -lt %d ]; do "
                            "sleep 0.02; n=$((n+1)); done; }\n",
                            dir, (int) msg_test_ms_scaled (60000) / 20);
  for (gsize i = 0; i < G_N_ELEMENTS (tools); i++)
    {
      g_autofree char *file = g_build_filename (dir, tools[i].name, NULL);
      g_autofree char *text = g_strconcat (common, tools[i].body, NULL);

      g_assert_true (g_file_set_contents (file, text, -1, NULL));
      g_assert_cmpint (g_chmod (file, 0700), ==, 0);
      g_free (tools[i].body);
    }
  path = g_strdup_printf ("%s:%s", dir, g_getenv ("PATH"));
  g_setenv ("PATH", path, TRUE);
  return g_steal_pointer (&dir);
}

static void
touch (const char *dir,
       const char *name,
       const char *contents)
{
  g_autofree char *file = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (file, contents, -1, NULL));
}

/* Releases the stalled stand-ins, waits for every one of them to end
 * (10 s, scaled: they poll every 20 ms), and for the library's GPGME
 * threads to finish, then removes @dir. */
static void
release_fake_engines (char *dir)
{
  g_autofree char *pids_file = g_build_filename (dir, "pids", NULL);
  g_autofree char *pids = NULL;
  g_auto (GStrv) lines = NULL;
  gint64 limit = g_get_monotonic_time () + msg_test_ms_scaled (10000) * 1000;

  touch (dir, "release", "");
  g_assert_true (g_file_get_contents (pids_file, &pids, NULL, NULL));
  lines = g_strsplit (pids, "\n", -1);
  for (gsize i = 0; lines[i] != NULL; i++)
    {
      g_autofree char *proc = g_strdup_printf ("/proc/%s/cmdline", g_strstrip (lines[i]));
      g_autofree char *cmdline = NULL;
      gsize            length = 0;

      if (lines[i][0] == '\0')
        continue;
      /* Gone, a zombie (empty cmdline), or no longer a stand-in. */
      while (g_file_get_contents (proc, &cmdline, &length, NULL) && length > 0 &&
             g_strstr_len (cmdline, length, dir) != NULL && g_get_monotonic_time () < limit)
        {
          g_clear_pointer (&cmdline, g_free);
          g_usleep (20000);
        }
      g_clear_pointer (&cmdline, g_free);
      g_assert_false (g_file_get_contents (proc, &cmdline, &length, NULL) && length > 0 &&
                      g_strstr_len (cmdline, length, dir) != NULL);
    }
  while (count_threads ("msg-gpgme") > 0 && g_get_monotonic_time () < limit)
    g_usleep (20000);
  g_assert_cmpuint (count_threads ("msg-gpgme"), ==, 0);
  msg_test_remove_tree (dir);
  g_free (dir);
}

/* Cancels @cancel once @threads GPGME threads of the library run. */
typedef struct
{
  GCancellable *cancel;
  guint         threads;
  gint64        cancelled_at;
} CancelWhen;

static gpointer
cancel_when_cb (gpointer data)
{
  CancelWhen *when = data;
  gint64      limit = g_get_monotonic_time () + msg_test_ms_scaled (10000) * 1000;

  while (count_threads ("msg-gpgme") < when->threads && g_get_monotonic_time () < limit)
    g_usleep (5000);
  when->cancelled_at = g_get_monotonic_time ();
  g_cancellable_cancel (when->cancel);
  return NULL;
}

static void
test_engine_probe (void)
{
  g_autoptr (MsgMessage) message = NULL;
  g_autoptr (GCancellable) cancellable = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *timeout = NULL;
  CancelWhen       when = { 0 };
  GThread         *thread;
  char            *dir;
  gint64           start;

  g_test_summary ("GPGME's first look for its engines (gpgconf, gpg --version) runs under the call's deadline "
                  "and cancellable: a stalled gpgconf times out on time with an error saying so, and a "
                  "cancellation returns at once.");
  /* In a fresh process: GPGME looks for its engines once. */
  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }

  dir = make_fake_engines ();
  touch (dir, "gpgconf-blocks", "");
  message = new_message ();
  timeout = msg_test_seconds_text (1000);
  g_assert_true (msg_configuration_set_field (msg_message_get_configuration (message), "cryptooperationtimeout",
                                              timeout, &error));
  start = g_get_monotonic_time ();
  g_assert_false (msg_message_sign (message, MSG_CRYPTO_PROTOCOL_OPENPGP, "alice@example.org", NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_nonnull (strstr (error->message, "did not start in time"));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, msg_test_ms_scaled (1000) * 1000);
  /* The deadline (1 s, scaled) plus 500 ms of slack, scaled. */
  msg_test_assert_elapsed_below (start, 1500);
  g_clear_error (&error);

  /* The first call's thread still waits for gpgconf; a second call is
   * cancelled once its own thread runs. */
  cancellable = g_cancellable_new ();
  when.cancel = cancellable;
  when.threads = 2;
  g_assert_true (msg_configuration_set_field (msg_message_get_configuration (message), "cryptooperationtimeout", "0",
                                              &error));
  thread = g_thread_new ("cancel", cancel_when_cb, &when);
  g_assert_false (msg_message_sign (message, MSG_CRYPTO_PROTOCOL_OPENPGP, "alice@example.org", cancellable, &error));
  g_thread_join (thread);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  /* At once after the cancellation: 200 ms of slack, scaled. */
  msg_test_assert_elapsed_below (when.cancelled_at, 200);

  release_fake_engines (dir);
}

static void
test_decrypt_verify_deadline (void)
{
  g_autoptr (MsgMessage) message = new_message ();
  g_autoptr (MsgMessage) parsed = NULL;
  g_autoptr (MsgMessage) clear = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *timeout = NULL;
  g_autofree char *slow = NULL;
  g_autofree char *verifying = NULL;
  GList           *signatures = NULL;
  char            *dir;
  gint64           start;

  g_test_summary ("A decryption that verifies the signature it finds inside does so under the call's one "
                  "deadline: a slow decryption leaves the verification only the rest of it, and running out "
                  "there fails the call.");
  if (!g_test_subprocess ())
    {
      g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDOUT | G_TEST_SUBPROCESS_INHERIT_STDERR);
      g_test_trap_assert_passed ();
      return;
    }

  dir = make_fake_engines ();
  /* Signed, then encrypted: gpg decrypts, the library verifies the
   * multipart/signed inside. */
  g_assert_true (msg_message_sign (message, MSG_CRYPTO_PROTOCOL_OPENPGP, "alice@example.org", NULL, &error));
  g_assert_true (msg_message_encrypt (message, MSG_CRYPTO_PROTOCOL_OPENPGP, NULL, NULL, &error));
  g_assert_no_error (error);
  parsed = round_trip (message);

  /* 3 s for the call, scaled; gpg --decrypt takes half of it, gpg
   * --verify never finishes. A fresh clock for the verification would
   * end the call 4.5 s (scaled) after it began at the earliest. */
  timeout = msg_test_seconds_text (3000);
  slow = g_strdup_printf ("%.3f", msg_test_ms_scaled (1500) / 1000.0);
  g_assert_true (msg_configuration_set_field (msg_message_get_configuration (parsed), "cryptooperationtimeout",
                                              timeout, &error));
  touch (dir, "slow-decrypt", slow);
  touch (dir, "block-verify", "");
  start = g_get_monotonic_time ();
  clear = msg_message_decrypt (parsed, &signatures, NULL, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  g_assert_null (clear);
  g_assert_null (signatures);
  /* The decryption ended and the verification began. */
  verifying = g_build_filename (dir, "verifying", NULL);
  g_assert_true (g_file_test (verifying, G_FILE_TEST_EXISTS));
  g_assert_cmpint (g_get_monotonic_time () - start, >=, msg_test_ms_scaled (3000) * 1000);
  /* The deadline plus 1 s of slack, scaled: less than 4.5 s. */
  msg_test_assert_elapsed_below (start, 4000);

  release_fake_engines (dir);
}

/* S/MIME: a CA made with openssl, certificates for alice (no passphrase)
 * and later erin (a passphrase), imported into gpgsm as the field notes say
 * gpgsm 2.2 wants them (PKCS #12 with 3DES and SHA-1, the passphrase by
 * loopback on fd 0, the CA in trustlist.txt, no CRLs, no dirmngr). */
static gboolean have_smime;

static gboolean
try_command (const char *const *argv,
             const char        *input,
             char             **err_text)
{
  g_autoptr (GSubprocess) process = spawn_with_input (argv, input, G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) err = NULL;

  g_subprocess_communicate (process, NULL, NULL, NULL, &err, &error);
  g_assert_no_error (error);
  *err_text = g_strndup (g_bytes_get_size (err) > 0 ? g_bytes_get_data (err, NULL) : "", g_bytes_get_size (err));
  return g_subprocess_get_exit_status (process) == 0;
}

static void
run_command (const char *const *argv,
             const char        *input)
{
  g_autofree char *err = NULL;

  if (!try_command (argv, input, &err))
    g_error ("%s failed: %s", argv[0], err);
}

static void
make_smime_identity (const char *dir,
                     const char *gnupghome,
                     const char *name,
                     const char *passphrase)
{
  g_autofree char *key = g_strdup_printf ("%s/%s.key", dir, name);
  g_autofree char *csr = g_strdup_printf ("%s/%s.csr", dir, name);
  g_autofree char *pem = g_strdup_printf ("%s/%s.pem", dir, name);
  g_autofree char *p12 = g_strdup_printf ("%s/%s.p12", dir, name);
  g_autofree char *ext = g_strdup_printf ("%s/%s.ext", dir, name);
  g_autofree char *ca_pem = g_build_filename (dir, "ca.pem", NULL);
  g_autofree char *ca_key = g_build_filename (dir, "ca.key", NULL);
  g_autofree char *subject = g_strdup_printf ("/CN=%s/emailAddress=%s@example.org", name, name);
  g_autofree char *ext_text = g_strdup_printf ("subjectAltName=email:%s@example.org\n"
                                               "keyUsage=critical,digitalSignature,keyEncipherment\n"
                                               "extendedKeyUsage=emailProtection\nbasicConstraints=CA:FALSE\n",
                                               name);
  g_autofree char *passout = g_strdup_printf ("pass:%s", passphrase);
  g_autofree char *stdin_passphrase = g_strdup_printf ("%s\n", passphrase);

  g_autofree char *address = g_strdup_printf ("<%s@example.org>", name);

  g_assert_true (g_file_set_contents (ext, ext_text, -1, NULL));
  /* gpgsm 2.2.40 fails to read a few PKCS #12 files made this way ("data
   * error at shrouded_key_bag.decrypted-text"), once in some runs: a
   * fresh key and file are made, up to five times, and the certificate
   * that came in without its key is deleted. */
  for (int attempt = 1;; attempt++)
    {
      g_autofree char *err = NULL;
      g_autofree char *ignored = NULL;

      run_command ((const char *const[]){ "openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out",
                                          csr, "-subj", subject, NULL },
                   NULL);
      run_command ((const char *const[]){ "openssl", "x509", "-req", "-in", csr, "-CA", ca_pem, "-CAkey", ca_key,
                                          "-CAcreateserial", "-out", pem, "-days", "30", "-extfile", ext, NULL },
                   NULL);
      run_command ((const char *const[]){ "openssl", "pkcs12", "-export", "-inkey", key, "-in", pem, "-certfile",
                                          ca_pem, "-out", p12, "-passout", passout, "-keypbe", "PBE-SHA1-3DES",
                                          "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1", NULL },
                   NULL);
      if (try_command ((const char *const[]){ "gpgsm", "--homedir", gnupghome, "--batch", "--pinentry-mode",
                                              "loopback", "--passphrase-fd", "0", "--import", p12, NULL },
                       stdin_passphrase, &err))
        break;
      if (attempt == 5)
        g_error ("gpgsm --import %s failed: %s", p12, err);
      g_test_message ("gpgsm --import %s failed, trying a new key: %s", p12, err);
      try_command ((const char *const[]){ "gpgsm", "--homedir", gnupghome, "--batch", "--yes", "--delete-keys",
                                          address, NULL },
                   NULL, &ignored);
    }
}

static void
setup_smime (void)
{
  g_autofree char *dir = g_build_filename (home, "ca", NULL);
  g_autofree char *ca_pem = g_build_filename (dir, "ca.pem", NULL);
  g_autofree char *ca_key = g_build_filename (dir, "ca.key", NULL);
  g_autofree char *fingerprint = NULL;
  g_autofree char *out = NULL;
  g_autofree char *line = NULL;
  const char      *fpr_argv[] = { "openssl", "x509", "-in", ca_pem, "-noout", "-fingerprint", "-sha1", NULL };

  g_autofree char *gpgsm = g_find_program_in_path ("gpgsm");
  g_autofree char *openssl = g_find_program_in_path ("openssl");

  if (gpgsm == NULL || openssl == NULL)
    return;
  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  run_command ((const char *const[]){ "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", ca_key,
                                      "-out", ca_pem, "-days", "30", "-subj", "/CN=msgobj test CA", "-addext",
                                      "basicConstraints=critical,CA:TRUE", "-addext",
                                      "keyUsage=critical,keyCertSign,cRLSign", NULL },
               NULL);
  g_assert_true (g_spawn_sync (NULL, (char **) fpr_argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL, NULL, NULL));
  fingerprint = g_strstrip (g_strdup (strchr (out, '=') + 1));
  line = g_strdup_printf ("%s S relax\n", fingerprint);
  {
    g_autofree char *conf = g_build_filename (home, "gpgsm.conf", NULL);
    g_autofree char *trustlist = g_build_filename (home, "trustlist.txt", NULL);

    g_assert_true (g_file_set_contents (conf, "disable-crl-checks\ndisable-dirmngr\n", -1, NULL));
    g_assert_true (g_file_set_contents (trustlist, line, -1, NULL));
  }
  make_smime_identity (dir, home, "alice", "");
  have_smime = TRUE;
}

static gboolean
skip_without_smime (void)
{
  if (!have_smime)
    g_test_skip ("gpgsm or openssl is not installed");
  return !have_smime;
}

static void
test_smime_sign_verify (void)
{
  g_autoptr (MsgMessage) message = new_message ();
  g_autoptr (MsgMessage) parsed = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autoptr (GBytes) signature = NULL;
  g_autofree char *raw = NULL;
  g_autofree char *content = NULL;
  g_autofree char *content_path = g_build_filename (home, "smime-content.txt", NULL);
  g_autofree char *sig_path = g_build_filename (home, "smime-content.p7s", NULL);
  GList           *signatures;

  g_test_summary ("An S/MIME signature made by the library verifies GOOD after a write and a parse, gpgsm --verify "
                  "accepts it over the part's bytes, and a changed body is BAD.");
  if (skip_without_smime ())
    return;

  msg_message_sign (message, MSG_CRYPTO_PROTOCOL_SMIME, "alice@example.org", NULL, &error);
  g_assert_no_error (error);
  bytes = msg_message_to_bytes (message, &error);
  g_assert_no_error (error);
  raw = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));
  g_assert_nonnull (strstr (raw, "application/pkcs7-signature"));
  parsed = round_trip (message);
  signatures = msg_message_verify (parsed, NULL, &error);
  g_assert_no_error (error);
  assert_one_signature (signatures, MSG_SIGNATURE_STATUS_GOOD);
  g_assert_cmpstr (msg_signature_get_address (signatures->data), ==, "alice@example.org");
  g_assert_cmpint (msg_signature_get_protocol (signatures->data), ==, MSG_CRYPTO_PROTOCOL_SMIME);
  g_list_free_full (signatures, g_object_unref);

  /* Files, never a device (gpg tools as root delete a failed output). */
  split_signed (raw, &content, &signature);
  g_assert_true (g_file_set_contents (content_path, content, -1, NULL));
  g_assert_true (g_file_set_contents (sig_path, g_bytes_get_data (signature, NULL), g_bytes_get_size (signature), NULL));
  run_command ((const char *const[]){ "gpgsm", "--batch", "--verify", sig_path, content_path, NULL }, NULL);

  g_clear_object (&parsed);
  memcpy (strstr (raw, "sunny"), "rainy", 5);
  {
    g_autoptr (GBytes) changed = g_bytes_new (raw, strlen (raw));

    parsed = msg_message_new_from_bytes (changed, &error);
    g_assert_no_error (error);
  }
  signatures = msg_message_verify (parsed, NULL, &error);
  g_assert_no_error (error);
  assert_one_signature (signatures, MSG_SIGNATURE_STATUS_BAD);
  g_list_free_full (signatures, g_object_unref);
}

static void
test_smime_encrypt (void)
{
  g_autoptr (MsgMessage) message = new_message ();
  g_autoptr (MsgMessage) parsed = NULL;
  g_autoptr (MsgMessage) clear = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *text = NULL;
  const char      *recipients[] = { "alice@example.org", NULL };
  GList           *signatures = NULL;

  g_test_summary ("S/MIME enveloped data decrypts; signed and enveloped decrypts with alice's GOOD signature.");
  if (skip_without_smime ())
    return;

  g_assert_true (msg_message_encrypt (message, MSG_CRYPTO_PROTOCOL_SMIME, recipients, NULL, &error));
  g_assert_no_error (error);
  bytes = msg_message_to_bytes (message, &error);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), "smime-type=enveloped-data"));
  g_assert_null (g_strstr_len (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), "sunny"));
  parsed = round_trip (message);
  clear = msg_message_decrypt (parsed, &signatures, NULL, &error);
  g_assert_no_error (error);
  g_assert_null (signatures);
  text = msg_message_get_text_body (clear);
  g_assert_nonnull (strstr (text, "it is sunny"));

  g_clear_object (&message);
  g_clear_object (&parsed);
  g_clear_object (&clear);
  g_clear_pointer (&text, g_free);
  message = new_message ();
  g_assert_true (msg_message_sign_and_encrypt (message, MSG_CRYPTO_PROTOCOL_SMIME, "alice@example.org", recipients,
                                               NULL, &error));
  g_assert_no_error (error);
  parsed = round_trip (message);
  clear = msg_message_decrypt (parsed, &signatures, NULL, &error);
  g_assert_no_error (error);
  assert_one_signature (signatures, MSG_SIGNATURE_STATUS_GOOD);
  g_list_free_full (signatures, g_object_unref);
  text = msg_message_get_text_body (clear);
  g_assert_nonnull (strstr (text, "it is sunny"));
}

/* Cancels @cancel a moment after a gpg or gpgsm of the keyring @home
 * runs. */
typedef struct
{
  GCancellable *cancel;
  gint64        cancelled_at;
} CancelOnEngine;

static gpointer
cancel_on_engine_cb (gpointer data)
{
  CancelOnEngine *when = data;
  gint64          limit = g_get_monotonic_time () + msg_test_ms_scaled (10000) * 1000;

  while (count_engines (home) == 0 && g_get_monotonic_time () < limit)
    g_usleep (5000);
  /* Time for gpgsm to reach the stopped agent (if it has not by then, it
   * ends when GPGME closes its pipes, which the test accepts too). */
  g_usleep (msg_test_ms_scaled (200) * 1000);
  when->cancelled_at = g_get_monotonic_time ();
  g_cancellable_cancel (when->cancel);
  return NULL;
}

/* gpgsm waits for a gpg-agent that is stopped: the call ends on time (or
 * at once when cancelled), and the gpgsm it started ends once the agent
 * answers again and gpgsm finds its pipes closed. */
static void
run_smime_agent_stopped (gboolean cancel)
{
  g_autoptr (MsgMessage) message = new_message ();
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *timeout = msg_test_seconds_text (1000);
  CancelOnEngine   when = { cancellable, 0 };
  GThread         *thread = NULL;
  int              pid = agent_pid (home);
  gint64           start;
  gboolean         ok;

  g_assert_cmpuint (count_engines (home), ==, 0);
  if (!cancel)
    g_assert_true (msg_configuration_set_field (msg_message_get_configuration (message), "cryptooperationtimeout",
                                                timeout, &error));
  stop_agent (pid);
  if (cancel)
    thread = g_thread_new ("cancel", cancel_on_engine_cb, &when);
  start = g_get_monotonic_time ();
  ok = msg_message_sign (message, MSG_CRYPTO_PROTOCOL_SMIME, "alice@example.org", cancellable, &error);
  if (thread != NULL)
    g_thread_join (thread);
  /* The agent goes on before anything can fail, so the tests after this
   * one find it answering. */
  kill (pid, SIGCONT);
  g_assert_false (ok);
  if (cancel)
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      /* At once after the cancellation: 200 ms of slack, scaled. */
      msg_test_assert_elapsed_below (when.cancelled_at, 200);
    }
  else
    {
      /* Not signed: gpgsm was waiting for the agent. */
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
      g_assert_nonnull (strstr (error->message, "gpgsm"));
      /* The deadline (1 s, scaled) plus 500 ms of slack, scaled. */
      msg_test_assert_elapsed_below (start, 1500);
    }
  assert_engines_end (home);
}

static void
test_smime_cancel (void)
{
  g_test_summary ("Cancelling while gpgsm waits returns at once with G_IO_ERROR_CANCELLED, and the gpgsm "
                  "process ends.");
  if (skip_without_smime ())
    return;
  run_smime_agent_stopped (TRUE);
}

static void
test_smime_deadline (void)
{
  g_test_summary ("cryptooperationtimeout bounds an S/MIME call: G_IO_ERROR_TIMED_OUT on time, and the gpgsm "
                  "process ends.");
  if (skip_without_smime ())
    return;
  run_smime_agent_stopped (FALSE);
}

/* What an S/MIME passphrase function answers, and how it was asked. */
typedef struct
{
  const char *answer; /* (nullable) */
  int         calls;
  gboolean    previous_failed;
} SmimeAnswer;

static char *
smime_passphrase_cb (const char *key,
                     gboolean    previous_failed,
                     gpointer    user_data)
{
  SmimeAnswer *answer = user_data;

  answer->calls++;
  g_assert_true (g_thread_self () == main_thread);
  answer->previous_failed = answer->previous_failed || previous_failed;
  g_assert_nonnull (strstr (key, "erin@example.org"));
  return g_strdup (answer->answer);
}

/* Gives the test's gpg-agent a passphrase cache of @ttl seconds (0 keeps
 * none, as the OpenPGP tests want) and empties the cache. */
static void
set_agent_cache (int ttl)
{
  g_autofree char *conf = g_build_filename (home, "gpg-agent.conf", NULL);
  g_autofree char *text = g_strdup_printf ("allow-loopback-pinentry\ndefault-cache-ttl %d\nmax-cache-ttl %d\n",
                                           ttl, ttl);

  g_assert_true (g_file_set_contents (conf, text, -1, NULL));
  run_command ((const char *const[]){ "gpgconf", "--reload", "gpg-agent", NULL }, NULL);
}

/* Signs as erin with @answer as the passphrase function. */
static gboolean
sign_as_erin (MsgMessage  *message,
              SmimeAnswer *answer,
              GError     **error)
{
  MsgConfiguration *config = msg_message_get_configuration (message);
  gboolean          ok;

  if (answer != NULL)
    msg_configuration_set_passphrase_func (config, smime_passphrase_cb, answer, NULL);
  ok = msg_message_sign (message, MSG_CRYPTO_PROTOCOL_SMIME, "erin@example.org", NULL, error);
  msg_configuration_set_passphrase_func (config, NULL, NULL, NULL);
  return ok;
}

static void
test_smime_passphrase (void)
{
  g_autoptr (MsgMessage) message = new_message ();
  g_autoptr (GError) error = NULL;
  SmimeAnswer none = { NULL, 0, FALSE };
  SmimeAnswer wrong = { "not erin's", 0, FALSE };
  SmimeAnswer right = { "erin secret", 0, FALSE };
  gint64      start;
  GList      *signatures;

  g_test_summary ("An S/MIME key with a passphrase is refused at once without a passphrase function (no "
                  "pinentry), and signs and decrypts with one: the library unlocks it in gpg-agent in loopback "
                  "mode first, since GPGME cannot give gpgsm a passphrase.");
  if (skip_without_smime ())
    return;

  /* Made here, after the decryption tests: while a protected S/MIME key
   * is locked, S/MIME decryption asks for its passphrase. */
  {
    g_autofree char *dir = g_build_filename (home, "ca", NULL);

    make_smime_identity (dir, home, "erin", "erin secret");
  }
  start = g_get_monotonic_time ();
  g_assert_false (sign_as_erin (message, NULL, &error));
  g_assert_error (error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NO_PASSPHRASE);
  g_assert_nonnull (strstr (error->message, "erin"));
  /* A key lookup and one question to gpg-agent; scaled for slow runs. */
  msg_test_assert_elapsed_below (start, AT_ONCE_MS);
  g_clear_error (&error);

  /* A function that gives no passphrase is refused alike. */
  start = g_get_monotonic_time ();
  g_assert_false (sign_as_erin (message, &none, &error));
  g_assert_error (error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NO_PASSPHRASE);
  g_assert_cmpint (none.calls, ==, 1);
  msg_test_assert_elapsed_below (start, AT_ONCE_MS);
  g_clear_error (&error);

  /* An agent that caches nothing (these tests' default-cache-ttl 0)
   * would make gpgsm ask anyway: refused, saying why. */
  start = g_get_monotonic_time ();
  g_assert_false (sign_as_erin (message, &right, &error));
  g_assert_error (error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NO_PASSPHRASE);
  g_assert_nonnull (strstr (error->message, "default-cache-ttl"));
  g_assert_cmpint (right.calls, ==, 1);
  /* Still no prompt, but gpg-agent checks the passphrase first (its key
   * derivation, some 100 ms, seen past 1 s with the machine loaded). */
  msg_test_assert_elapsed_below (start, AT_ONCE_MS);
  g_clear_error (&error);

  set_agent_cache (600);
  /* A wrong passphrase: three tries, as gpg gives, then a clear error.
   * gpg-agent takes some 100 ms to check each (its key derivation),
   * 3.5 s in all was seen at load 9; a prompt would wait for the 60 s
   * default clock, so 6 s (scaled: 48 s under valgrind) separates them. */
  start = g_get_monotonic_time ();
  g_assert_false (sign_as_erin (message, &wrong, &error));
  g_assert_error (error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_BAD_PASSPHRASE);
  g_assert_cmpint (wrong.calls, ==, 3);
  g_assert_true (wrong.previous_failed);
  msg_test_assert_elapsed_below (start, 6000);
  g_clear_error (&error);

  right.calls = 0;
  g_assert_true (sign_as_erin (message, &right, &error));
  g_assert_no_error (error);
  g_assert_cmpint (right.calls, ==, 1);
  g_assert_false (right.previous_failed);
  signatures = msg_message_verify (message, NULL, &error);
  g_assert_no_error (error);
  assert_one_signature (signatures, MSG_SIGNATURE_STATUS_GOOD);
  g_assert_cmpstr (msg_signature_get_address (signatures->data), ==, "erin@example.org");
  g_list_free_full (signatures, g_object_unref);

  /* Decrypting could need any S/MIME key: refused at once while erin's
   * is locked and there is no function, done with one. */
  {
    const char *recipients[] = { "alice@example.org", NULL };
    g_autoptr (MsgMessage) encrypted = new_message ();
    g_autoptr (MsgMessage) clear = NULL;
    MsgConfiguration *config = msg_message_get_configuration (encrypted);

    g_assert_true (msg_message_encrypt (encrypted, MSG_CRYPTO_PROTOCOL_SMIME, recipients, NULL, &error));
    g_assert_no_error (error);
    set_agent_cache (600);
    start = g_get_monotonic_time ();
    g_assert_null (msg_message_decrypt (encrypted, NULL, NULL, &error));
    g_assert_error (error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NO_PASSPHRASE);
    msg_test_assert_elapsed_below (start, AT_ONCE_MS);
    g_clear_error (&error);

    right.calls = 0;
    msg_configuration_set_passphrase_func (config, smime_passphrase_cb, &right, NULL);
    clear = msg_message_decrypt (encrypted, NULL, NULL, &error);
    msg_configuration_set_passphrase_func (config, NULL, NULL, NULL);
    g_assert_no_error (error);
    g_assert_nonnull (clear);
    g_assert_cmpint (right.calls, ==, 1);
  }

  /* A passphrase function that does not answer while the key is
   * unlocked in the agent, and a cancellation meanwhile: the library's
   * thread and its agent connection let go at once, and the call
   * returns when the function does. */
  {
    g_autoptr (GCancellable) cancellable = g_cancellable_new ();
    MsgConfiguration *config = msg_message_get_configuration (message);
    Stuck             stuck = { 0 };

    set_agent_cache (600);
    stuck.cancel = cancellable;
    msg_configuration_set_passphrase_func (config, stuck_passphrase_cb, &stuck, NULL);
    g_assert_false (msg_message_sign (message, MSG_CRYPTO_PROTOCOL_SMIME, "erin@example.org", cancellable, &error));
    msg_configuration_set_passphrase_func (config, NULL, NULL, NULL);
    g_assert_true (stuck.entered);
    g_assert_true (stuck.thread == g_thread_self ());
    g_assert_true (stuck.worker_ended);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
    /* 2 s of slack for the thread, 200 ms for the return, scaled. */
    g_assert_cmpint (stuck.worker_ended_at - stuck.cancelled_at, <=, msg_test_ms_scaled (2000) * 1000);
    msg_test_assert_elapsed_below (stuck.returned_at, 200);
  }
  set_agent_cache (0);
}

int
main (int   argc,
      char *argv[])
{
  int result;

  pthread_atfork (NULL, NULL, msg_test_gpg_forked_child_cb);
  main_thread = g_thread_self ();

  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

  if (g_test_subprocess ())
    {
      /* A test run again in a fresh process, with the keyrings of the
       * parent. */
      home = g_strdup (g_getenv ("GNUPGHOME"));
    }
  else
    {
      home = msg_test_gpg_make_home ();
      other_home = msg_test_gpg_make_home ();
      g_setenv ("GNUPGHOME", home, TRUE);
      msg_test_gpg_gen_key (home, "Alice <alice@example.org>", "");
      msg_test_gpg_gen_key (home, "Bob <bob@example.org>", "");
      msg_test_gpg_gen_key (home, "Carol <carol@example.org>", "carol secret");
      msg_test_gpg_gen_key (other_home, "Dave <dave@example.org>", "");
      alice_fpr = fingerprint_of (home, "alice@example.org");
      setup_smime ();
    }

  g_test_add_func ("/crypto/openpgp/sign-verify", test_sign_verify);
  g_test_add_func ("/crypto/openpgp/gpg-verifies", test_gpg_verifies);
  g_test_add_func ("/crypto/openpgp/tampered", test_tampered);
  g_test_add_func ("/crypto/openpgp/unknown-signer", test_unknown_signer);
  g_test_add_func ("/crypto/openpgp/encrypt-decrypt", test_encrypt_decrypt);
  g_test_add_func ("/crypto/openpgp/sign-and-encrypt", test_sign_and_encrypt);
  g_test_add_func ("/crypto/openpgp/external-encrypted", test_external_encrypted);
  g_test_add_func ("/crypto/openpgp/change-drops-signature", test_change_drops_signature);
  g_test_add_func ("/crypto/openpgp/passphrase", test_passphrase);
  g_test_add_func ("/crypto/openpgp/cancel", test_cancel);
  g_test_add_func ("/crypto/openpgp/deadline", test_deadline);
  g_test_add_func ("/crypto/openpgp/agent-stopped", test_agent_stopped);
  g_test_add_func ("/crypto/openpgp/tool", test_tool);
  g_test_add_func ("/crypto/openpgp/tool-passphrase-file", test_tool_passphrase_file);
  g_test_add_func ("/crypto/openpgp/async", test_async);
  g_test_add_func ("/crypto/openpgp/async-passphrase", test_async_passphrase);
  g_test_add_func ("/crypto/openpgp/async-not-iterated", test_async_not_iterated);
  g_test_add_func ("/crypto/openpgp/engine-probe", test_engine_probe);
  g_test_add_func ("/crypto/openpgp/decrypt-verify-deadline", test_decrypt_verify_deadline);
  g_test_add_func ("/crypto/smime/sign-verify", test_smime_sign_verify);
  g_test_add_func ("/crypto/smime/encrypt", test_smime_encrypt);
  g_test_add_func ("/crypto/smime/cancel", test_smime_cancel);
  g_test_add_func ("/crypto/smime/deadline", test_smime_deadline);
  g_test_add_func ("/crypto/smime/passphrase", test_smime_passphrase);
  result = g_test_run ();

  if (!g_test_subprocess ())
    {
      msg_test_gpg_kill_agent (home);
      msg_test_gpg_kill_agent (other_home);
      msg_test_remove_tree (home);
      msg_test_remove_tree (other_home);
    }
  g_free (home);
  g_free (other_home);
  g_free (alice_fpr);
  g_mime_shutdown ();
  return result;
}
