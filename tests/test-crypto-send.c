/* test-crypto-send.c: signing and encrypting at send time, as the
 * configuration's cryptoprotocol, cryptosign and cryptoencrypt fields
 * ask, through the pickup and SMTP transports, against the real gpg
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "msg-test-server.h"
#include "test-crypto-utils.h"
#include "test-utils.h"

#include <gmime/gmime.h>
#include <msgobj.h>
#include <pthread.h>
#include <string.h>

/* The keyring of the run: alice and bob (no passphrase), carol
 * (passphrase); dave has no key. */
static char *home;

/* A fresh pickup directory under the keyring's home. */
static char *
new_pickup (void)
{
  static unsigned  n;
  g_autofree char *name = g_strdup_printf ("pickup-%u", n++);
  char            *dir = g_build_filename (home, name, NULL);

  g_assert_cmpint (g_mkdir_with_parents (dir, 0700), ==, 0);
  return dir;
}

static guint
count_files (const char *dir)
{
  g_autoptr (GDir) listing = g_dir_open (dir, 0, NULL);
  guint count = 0;

  g_assert_nonnull (listing);
  while (g_dir_read_name (listing) != NULL)
    count++;
  return count;
}

static MsgMessage *
new_message (const char *pickup)
{
  g_autoptr (GError) error = NULL;
  MsgMessage       *message = msg_message_new ();
  MsgConfiguration *configuration = msg_message_get_configuration (message);

  msg_test_config_set (configuration, "sendusing", "pickup");
  msg_test_config_set (configuration, "smtpserverpickupdirectory", pickup);
  g_assert_true (msg_message_set_from (message, "Alice <alice@example.org>", &error));
  g_assert_true (msg_message_set_to (message, "Bob <bob@example.org>", &error));
  g_assert_true (msg_message_set_subject (message, "Grüße", &error));
  msg_message_set_text_body (message, "Grüße aus Köln.\nFrom here it looks fine.\n");
  g_assert_no_error (error);
  return message;
}

static MsgMessage *
send_to_pickup (MsgMessage *message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgSendReport) report = msg_message_send (message, NULL, &error);
  MsgMessage *sent;

  g_assert_no_error (error);
  sent = msg_message_new_from_file (msg_send_report_get_pickup_file (report), &error);
  g_assert_no_error (error);
  return sent;
}

static void
assert_signed_by_alice (MsgMessage *message)
{
  g_autoptr (GError) error = NULL;
  GList *signatures = msg_message_verify (message, NULL, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (g_list_length (signatures), ==, 1);
  g_assert_cmpint (msg_signature_get_status (signatures->data), ==, MSG_SIGNATURE_STATUS_GOOD);
  g_assert_cmpstr (msg_signature_get_address (signatures->data), ==, "alice@example.org");
  g_list_free_full (signatures, g_object_unref);
}

/* The message as the caller left it: its own body, not a sealed one. */
static void
assert_unsealed (MsgMessage *message)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = msg_message_to_bytes (message, &error);
  g_autofree char *text = g_strndup (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes));

  g_assert_no_error (error);
  g_assert_null (strstr (text, "multipart/signed"));
  g_assert_null (strstr (text, "multipart/encrypted"));
  g_assert_null (strstr (text, "pkcs7"));
}

static void
test_fields (void)
{
  g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();
  g_autoptr (GError) error = NULL;
  g_autofree char *value = NULL;
  g_autofree char *urn = g_strconcat (MSG_CONFIGURATION_NAMESPACE, "cryptoSign", NULL);

  g_test_summary ("cryptoprotocol is openpgp or smime (0 or 1), cryptosign one key (stripped, a list refused), "
                  "cryptoencrypt a boolean; each has a URN.");

  value = msg_configuration_get_field (configuration, "cryptoprotocol");
  g_assert_cmpstr (value, ==, "openpgp");
  g_clear_pointer (&value, g_free);
  g_assert_false (msg_configuration_get_boolean (configuration, "cryptoencrypt"));
  msg_test_config_set (configuration, "cryptoprotocol", "SMIME");
  g_assert_cmpint (msg_configuration_get_int (configuration, "cryptoprotocol"), ==, MSG_CRYPTO_PROTOCOL_SMIME);
  msg_test_config_set (configuration, "cryptoprotocol", "0");
  value = msg_configuration_get_field (configuration, "cryptoprotocol");
  g_assert_cmpstr (value, ==, "openpgp");
  g_clear_pointer (&value, g_free);
  g_assert_false (msg_configuration_set_field (configuration, "cryptoprotocol", "pgp", &error));
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE);
  g_assert_nonnull (strstr (error->message, "cryptoprotocol"));
  g_clear_error (&error);

  msg_test_config_set (configuration, urn, "  alice@example.org ");
  value = msg_configuration_get_field (configuration, "cryptosign");
  g_assert_cmpstr (value, ==, "alice@example.org");
  g_clear_pointer (&value, g_free);
  g_assert_false (msg_configuration_set_field (configuration, "cryptosign", "alice@example.org, bob@example.org",
                                               &error));
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE);
  g_assert_nonnull (strstr (error->message, "cryptosign"));
  g_assert_nonnull (strstr (error->message, "one signing key"));
  g_clear_error (&error);
  msg_test_config_set (configuration, "cryptoencrypt", "yes");
  g_assert_true (msg_configuration_get_boolean (configuration, "cryptoencrypt"));
  g_assert_false (msg_configuration_set_field (configuration, "cryptoencrypt", "always", &error));
  g_assert_error (error, MSG_CONFIGURATION_ERROR, MSG_CONFIGURATION_ERROR_INVALID_VALUE);
}

static void
test_default_protocol (void)
{
  g_autofree char *pickup = new_pickup ();
  g_autoptr (MsgMessage) message = new_message (pickup);
  g_autoptr (MsgMessage) other = new_message (pickup);
  MsgConfiguration *configuration = msg_message_get_configuration (message);
  g_autoptr (GError) error = NULL;

  g_test_summary ("msg_message_sign() with MSG_CRYPTO_PROTOCOL_DEFAULT and no signer takes cryptoprotocol and "
                  "cryptosign; with cryptosign empty it fails naming the field; cryptoprotocol=smime goes to "
                  "gpgsm, where alice has no certificate.");

  g_assert_false (msg_message_sign (message, MSG_CRYPTO_PROTOCOL_DEFAULT, NULL, NULL, &error));
  g_assert_error (error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NO_KEY);
  g_assert_nonnull (strstr (error->message, "cryptosign"));
  g_clear_error (&error);

  msg_test_config_set (configuration, "cryptosign", "alice@example.org");
  g_assert_true (msg_message_sign (message, MSG_CRYPTO_PROTOCOL_DEFAULT, NULL, NULL, &error));
  g_assert_no_error (error);
  assert_signed_by_alice (message);

  /* S/MIME from the configuration: alice's OpenPGP key is no certificate. */
  msg_test_config_set (msg_message_get_configuration (other), "cryptosign", "alice@example.org");
  msg_test_config_set (msg_message_get_configuration (other), "cryptoprotocol", "smime");
  g_assert_false (msg_message_sign (other, MSG_CRYPTO_PROTOCOL_DEFAULT, NULL, NULL, &error));
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "alice@example.org"));
  g_test_message ("S/MIME without a certificate: %s", error->message);
}

static void
test_pickup_sign (void)
{
  g_autofree char *pickup = new_pickup ();
  g_autoptr (MsgMessage) message = new_message (pickup);
  g_autoptr (MsgMessage) sent = NULL;
  g_autoptr (MsgMessage) again = NULL;
  g_autofree char *text = NULL;

  g_test_summary ("With cryptosign set, the pickup file is a PGP/MIME signed message that verifies GOOD; the "
                  "message object keeps its own body, so a second send is signed again, not twice.");

  msg_test_config_set (msg_message_get_configuration (message), "cryptosign", "alice@example.org");
  sent = send_to_pickup (message);
  assert_signed_by_alice (sent);
  text = msg_message_get_text_body (sent);
  g_assert_nonnull (strstr (text, "Grüße aus Köln."));
  assert_unsealed (message);

  again = send_to_pickup (message);
  assert_signed_by_alice (again);
  g_assert_cmpuint (count_files (pickup), ==, 2);
}

static void
test_pickup_encrypt (void)
{
  g_autofree char *pickup = new_pickup ();
  g_autoptr (MsgMessage) message = new_message (pickup);
  MsgConfiguration *configuration = msg_message_get_configuration (message);
  g_autoptr (MsgMessage) sent = NULL;
  g_autoptr (MsgMessage) clear = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) raw = NULL;
  g_autofree char *text = NULL;
  GList           *signatures = NULL;

  g_test_summary ("cryptoencrypt with cryptosign encrypts to To, Cc and Bcc and signs: the pickup file holds "
                  "no clear text and decrypts to the text, signed GOOD by alice.");

  g_assert_true (msg_message_set_bcc (message, "carol@example.org", &error));
  msg_test_config_set (configuration, "cryptosign", "alice@example.org");
  msg_test_config_set (configuration, "cryptoencrypt", "true");
  sent = send_to_pickup (message);
  raw = msg_message_to_bytes (sent, &error);
  g_assert_no_error (error);
  text = g_strndup (g_bytes_get_data (raw, NULL), g_bytes_get_size (raw));
  g_assert_nonnull (strstr (text, "multipart/encrypted"));
  g_assert_null (strstr (text, "Köln"));
  /* Bcc stays in a pickup file (the consuming MTA reads it), but the body
   * is the ciphertext alone. */
  g_assert_nonnull (strstr (text, "Bcc: carol@example.org"));
  clear = msg_message_decrypt (sent, &signatures, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&text, g_free);
  text = msg_message_get_text_body (clear);
  g_assert_nonnull (strstr (text, "Grüße aus Köln."));
  g_assert_cmpuint (g_list_length (signatures), ==, 1);
  g_assert_cmpint (msg_signature_get_status (signatures->data), ==, MSG_SIGNATURE_STATUS_GOOD);
  g_list_free_full (signatures, g_object_unref);
  assert_unsealed (message);
}

static void
test_pickup_missing_key (void)
{
  g_autofree char *pickup = new_pickup ();
  g_autoptr (MsgMessage) message = new_message (pickup);
  g_autoptr (MsgMessage) unsigned_message = new_message (pickup);
  MsgConfiguration *configuration = msg_message_get_configuration (message);
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;

  g_test_summary ("A Bcc recipient without a key fails the send with MSG_CRYPTO_ERROR_NO_KEY naming them, and "
                  "no file (nor a temporary one) is left in the pickup directory; a signer without a key "
                  "likewise.");

  g_assert_true (msg_message_set_bcc (message, "dave@example.org", &error));
  msg_test_config_set (configuration, "cryptoencrypt", "true");
  report = msg_message_send (message, NULL, &error);
  g_assert_null (report);
  g_assert_error (error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NO_KEY);
  g_assert_nonnull (strstr (error->message, "dave@example.org"));
  g_clear_error (&error);
  g_assert_cmpuint (count_files (pickup), ==, 0);
  assert_unsealed (message);

  msg_test_config_set (msg_message_get_configuration (unsigned_message), "cryptosign", "dave@example.org");
  report = msg_message_send (unsigned_message, NULL, &error);
  g_assert_null (report);
  g_assert_error (error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NO_KEY);
  g_assert_nonnull (strstr (error->message, "dave@example.org"));
  g_assert_cmpuint (count_files (pickup), ==, 0);
}

static void
test_already_signed (void)
{
  g_autofree char *pickup = new_pickup ();
  g_autoptr (MsgMessage) message = new_message (pickup);
  g_autoptr (MsgMessage) sent = NULL;
  g_autoptr (MsgMessage) clear = NULL;
  g_autoptr (GError) error = NULL;
  GList *signatures = NULL;

  g_test_summary ("A message the caller signed is not signed again by cryptosign, but is encrypted by "
                  "cryptoencrypt; after the send it is the caller's signed message again.");

  g_assert_true (msg_message_sign (message, MSG_CRYPTO_PROTOCOL_OPENPGP, "alice@example.org", NULL, &error));
  msg_test_config_set (msg_message_get_configuration (message), "cryptosign", "bob@example.org");
  msg_test_config_set (msg_message_get_configuration (message), "cryptoencrypt", "true");
  sent = send_to_pickup (message);
  clear = msg_message_decrypt (sent, &signatures, NULL, &error);
  g_assert_no_error (error);
  /* One signature, alice's: bob's would have been a second layer. */
  g_assert_cmpuint (g_list_length (signatures), ==, 1);
  g_assert_cmpstr (msg_signature_get_address (signatures->data), ==, "alice@example.org");
  g_list_free_full (signatures, g_object_unref);
  assert_signed_by_alice (message);
}

/* A passphrase function for carol: where it ran, and, for a send that
 * should end while it runs (a person who does not answer), the caller's
 * context goes on meanwhile (as under a dialog) until the send's result
 * has come; it then answers, too late (see MsgTestPending). */
static char *
carol_passphrase_cb (const char *key,
                     gboolean    previous_failed,
                     gpointer    user_data)
{
  msg_test_pending_asked (user_data);
  return g_strdup ("carol secret");
}

/* Sends @message through @transport with msg_transport_send_message_async()
 * from a context of its own, pushed as this thread's default. */
static MsgSendReport *
send_async (MsgTransport   *transport,
            MsgMessage     *message,
            MsgTestPending *asked,
            GCancellable   *cancellable,
            GError        **error)
{
  MsgSendReport *report;

  asked->context = g_main_context_new ();
  g_main_context_push_thread_default (asked->context);
  msg_transport_send_message_async (transport, message, cancellable, msg_test_pending_done_cb, asked);
  msg_test_pending_wait (asked);
  report = msg_transport_send_message_finish (transport, asked->result, error);
  g_main_context_pop_thread_default (asked->context);
  g_clear_object (&asked->result);
  return report;
}

static void
assert_signed_by_carol (const char *file)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (MsgMessage) sent = msg_message_new_from_file (file, &error);
  GList *signatures;

  g_assert_no_error (error);
  signatures = msg_message_verify (sent, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_list_length (signatures), ==, 1);
  g_assert_cmpint (msg_signature_get_status (signatures->data), ==, MSG_SIGNATURE_STATUS_GOOD);
  g_assert_cmpstr (msg_signature_get_address (signatures->data), ==, "carol@example.org");
  g_list_free_full (signatures, g_object_unref);
}

static void
test_send_passphrase (void)
{
  g_autofree char *pickup = new_pickup ();
  g_autoptr (MsgMessage) message = new_message (pickup);
  MsgConfiguration *configuration = msg_message_get_configuration (message);
  g_autoptr (MsgTransport) transport = NULL;
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  MsgTestPending asked = { 0 };

  g_test_summary ("Signing at send time calls the passphrase function in the sending thread for a sync send, "
                  "and in the caller's thread-default main context for an async one.");

  msg_test_config_set (configuration, "cryptosign", "carol@example.org");
  msg_configuration_set_passphrase_func (configuration, carol_passphrase_cb, &asked, NULL);
  transport = msg_transport_new_for_name ("pickup", configuration, &error);
  g_assert_no_error (error);

  report = msg_transport_send_message (transport, message, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (asked.calls, ==, 1);
  g_assert_true (asked.thread == g_thread_self ());
  assert_signed_by_carol (msg_send_report_get_pickup_file (report));
  g_clear_object (&report);

  memset (&asked, 0, sizeof asked);
  report = send_async (transport, message, &asked, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (asked.calls, ==, 1);
  g_assert_true (asked.thread == g_thread_self ());
  g_assert_true (asked.in_context);
  assert_signed_by_carol (msg_send_report_get_pickup_file (report));
  assert_unsealed (message);
  g_clear_pointer (&asked.context, g_main_context_unref);
  g_clear_object (&report);

  /* msg_message_send_async() alike. */
  memset (&asked, 0, sizeof asked);
  asked.context = g_main_context_new ();
  g_main_context_push_thread_default (asked.context);
  msg_message_send_async (message, NULL, msg_test_pending_done_cb, &asked);
  msg_test_pending_wait (&asked);
  report = msg_message_send_finish (message, asked.result, &error);
  g_main_context_pop_thread_default (asked.context);
  g_assert_no_error (error);
  g_assert_cmpint (asked.calls, ==, 1);
  g_assert_true (asked.in_context);
  assert_signed_by_carol (msg_send_report_get_pickup_file (report));
  g_clear_object (&asked.result);
  g_clear_pointer (&asked.context, g_main_context_unref);
  msg_configuration_set_passphrase_func (configuration, NULL, NULL, NULL);
}

/* Where a flusher's passphrase function ran: every call in @thread, and
 * in @context when set (an async run). */
typedef struct
{
  GThread      *thread;
  GMainContext *context;
  int           calls;
  int           elsewhere;
} FlushAsked;

static char *
flush_passphrase_cb (const char *key,
                     gboolean    previous_failed,
                     gpointer    user_data)
{
  FlushAsked *asked = user_data;

  asked->calls++;
  if (g_thread_self () != asked->thread ||
      (asked->context != NULL && !g_main_context_is_owner (asked->context)))
    asked->elsewhere++;
  return g_strdup ("carol secret");
}

static void
flush_done_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  *(GAsyncResult **) user_data = g_object_ref (result);
}

/* Three messages in a fresh drop directory; flushed over two
 * connections into a fresh pickup directory, signed by carol. */
static void
run_flusher (gboolean async)
{
  g_autofree char *drop = new_pickup ();
  g_autofree char *pickup = new_pickup ();
  g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();
  g_autoptr (MsgDropDirectory) directory = msg_drop_directory_new (drop);
  g_autoptr (MsgFlusher) flusher = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GDir) listing = NULL;
  FlushAsked  asked = { g_thread_self (), NULL, 0, 0 };
  const char *name;

  for (int i = 0; i < 3; i++)
    {
      g_autoptr (MsgMessage) message = new_message (pickup);
      g_autofree char *file = g_strdup_printf ("%s/%d.eml", drop, i);

      g_assert_true (msg_message_save_to_file (message, file, &error));
      g_assert_no_error (error);
    }
  msg_test_config_set (configuration, "sendusing", "pickup");
  msg_test_config_set (configuration, "smtpserverpickupdirectory", pickup);
  msg_test_config_set (configuration, "cryptosign", "carol@example.org");
  msg_configuration_set_passphrase_func (configuration, flush_passphrase_cb, &asked, NULL);
  flusher = msg_flusher_new (configuration, directory);
  msg_flusher_set_connections (flusher, 2);

  if (async)
    {
      g_autoptr (GAsyncResult) result = NULL;
      gint64 limit = g_get_monotonic_time () + msg_test_ms_scaled (30000) * 1000;

      asked.context = g_main_context_new ();
      g_main_context_push_thread_default (asked.context);
      msg_flusher_run_async (flusher, NULL, flush_done_cb, &result);
      while (result == NULL && g_get_monotonic_time () < limit)
        g_main_context_iteration (asked.context, TRUE);
      g_assert_nonnull (result);
      g_assert_true (msg_flusher_run_finish (flusher, result, &error));
      g_main_context_pop_thread_default (asked.context);
      g_main_context_unref (asked.context);
    }
  else
    g_assert_true (msg_flusher_run (flusher, NULL, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (msg_flusher_get_n_sent (flusher), ==, 3);
  /* The test's agent caches no passphrase: one call per message. */
  g_assert_cmpint (asked.calls, ==, 3);
  g_assert_cmpint (asked.elsewhere, ==, 0);
  listing = g_dir_open (pickup, 0, &error);
  g_assert_no_error (error);
  while ((name = g_dir_read_name (listing)) != NULL)
    {
      g_autofree char *file = g_build_filename (pickup, name, NULL);

      assert_signed_by_carol (file);
    }
  g_assert_cmpuint (count_files (pickup), ==, 3);
}

static void
test_flusher_passphrase (void)
{
  g_test_summary ("A flusher sends on threads of its own, but signs with the passphrase function called in "
                  "the thread of msg_flusher_run(), and in the caller's main context for run_async: a "
                  "JavaScript function works (gjs calls JavaScript only in its own thread).");
  run_flusher (FALSE);
  run_flusher (TRUE);
}

/* An async send whose passphrase function does not answer: the send's
 * cancellable or its deadline ends it on time. */
static void
run_stuck (gboolean cancel)
{
  g_autofree char *pickup = new_pickup ();
  g_autoptr (MsgMessage) message = new_message (pickup);
  MsgConfiguration *configuration = msg_message_get_configuration (message);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autoptr (MsgTransport) transport = NULL;
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  MsgTestPending asked = { 0 };
  double         timeout_s = 1.0 * msg_test_time_scale ();
  gint64         start;

  msg_test_config_set (configuration, "cryptosign", "carol@example.org");
  asked.wait_for_result = TRUE;
  if (cancel)
    asked.cancel = cancellable;
  else
    {
      /* The send's own clock, 1 s scaled (under valgrind gpg needs
       * seconds to ask for the passphrase); cryptooperationtimeout stays
       * at its 60 s, so only the send's deadline can end the wait. */
      g_autofree char *timeout = g_strdup_printf ("%g", timeout_s);

      msg_test_config_set (configuration, "smtpoperationtimeout", timeout);
    }
  msg_configuration_set_passphrase_func (configuration, carol_passphrase_cb, &asked, NULL);
  transport = msg_transport_new_for_name ("pickup", configuration, &error);
  g_assert_no_error (error);

  start = g_get_monotonic_time ();
  report = send_async (transport, message, &asked, cancellable, &error);
  g_assert_null (report);
  g_assert_cmpint (asked.calls, ==, 1);
  g_assert_true (asked.in_context);
  if (cancel)
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      /* At once after the cancellation: 200 ms of slack, scaled. */
      g_assert_cmpint (asked.result_at - asked.cancelled_at, <=, msg_test_ms_scaled (200) * 1000);
    }
  else
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
      g_assert_cmpint (asked.result_at - start, >=, (gint64) (timeout_s * G_USEC_PER_SEC));
      /* The deadline plus 500 ms of slack, scaled. */
      g_assert_cmpint (asked.result_at - start, <=, msg_test_ms_scaled (1500) * 1000);
    }
  /* The passphrase came too late: nothing was sent. */
  g_assert_cmpuint (count_files (pickup), ==, 0);
  assert_unsealed (message);
  msg_configuration_set_passphrase_func (configuration, NULL, NULL, NULL);
  g_clear_pointer (&asked.context, g_main_context_unref);
}

static void
test_send_cancel (void)
{
  g_test_summary ("Signing at send time is cancelled by the send's cancellable while the passphrase function "
                  "runs: G_IO_ERROR_CANCELLED at once, nothing in the pickup directory.");
  run_stuck (TRUE);
}

static void
test_send_deadline (void)
{
  g_test_summary ("Signing at send time ends at the send's deadline (smtpoperationtimeout) while the "
                  "passphrase function runs: G_IO_ERROR_TIMED_OUT on time, nothing in the pickup directory.");
  run_stuck (FALSE);
}

static MsgMessage *
smtp_message (MsgTestServer *server)
{
  g_autofree char  *port = g_strdup_printf ("%u", msg_test_server_get_port (server));
  MsgMessage       *message = new_message ("/nonexistent");
  MsgConfiguration *configuration = msg_message_get_configuration (message);

  msg_test_config_set (configuration, "sendusing", "smtp");
  msg_test_config_set (configuration, "smtpserver", "127.0.0.1");
  msg_test_config_set (configuration, "smtpserverport", port);
  msg_test_config_set (configuration, "smtpstarttls", "never");
  return message;
}

static void
test_smtp_sign (void)
{
  MsgTestServer *server;
  g_autoptr (MsgMessage) message = NULL;
  g_autoptr (MsgMessage) received = NULL;
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GBytes) bytes = NULL;
  g_autofree char *wire = NULL;
  g_autofree char *data = NULL;

  g_test_summary ("Through SMTP (a server without 8BITMIME) the message is signed at send time, 7-bit, and the "
                  "signature verifies over the bytes the server got.");

  server = msg_test_server_new ("line 220 mx.example.test ESMTP\n"
                                "expect EHLO\nline 250-mx.example.test\nline 250 SIZE 1000000\n"
                                "expect MAIL\nline 250 ok\nexpect RCPT\nline 250 ok\n"
                                "expect DATA\nline 354 go\ndata\n"
                                "line 250 queued\nexpect QUIT\nline 221 bye\n");
  message = smtp_message (server);
  msg_test_config_set (msg_message_get_configuration (message), "cryptosign", "alice@example.org");
  report = msg_message_send (message, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (msg_test_server_wait_closed (server, 5000));
  wire = msg_test_server_get_received_text (server, 0);
  msg_test_server_free (server);

  data = g_string_free (msg_test_undo_data (wire), FALSE);
  for (const char *p = data; *p != '\0'; p++)
    g_assert_cmpuint ((guchar) *p, <, 128);
  g_assert_nonnull (strstr (data, "multipart/signed"));
  bytes = g_bytes_new (data, strlen (data));
  received = msg_message_new_from_bytes (bytes, &error);
  g_assert_no_error (error);
  assert_signed_by_alice (received);
  assert_unsealed (message);
}

static void
test_smtp_missing_key (void)
{
  MsgTestServer *server;
  g_autoptr (MsgMessage) message = NULL;
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;

  g_test_summary ("Through SMTP, a recipient without a key fails the send before it connects: the server never "
                  "sees a connection.");

  server = msg_test_server_new ("line 220 mx.example.test ESMTP\nexpect EHLO\nline 250 mx.example.test\n");
  message = smtp_message (server);
  g_assert_true (msg_message_set_cc (message, "dave@example.org", &error));
  msg_test_config_set (msg_message_get_configuration (message), "cryptoencrypt", "true");
  report = msg_message_send (message, NULL, &error);
  g_assert_null (report);
  g_assert_error (error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NO_KEY);
  g_assert_nonnull (strstr (error->message, "dave@example.org"));
  g_assert_cmpuint (msg_test_server_get_n_connections (server), ==, 0);
  msg_test_server_free (server);
}

int
main (int   argc,
      char *argv[])
{
  int result;

  pthread_atfork (NULL, NULL, msg_test_gpg_forked_child_cb);
  g_test_init (&argc, &argv, NULL);
  g_mime_init ();

  home = msg_test_gpg_make_home ();
  g_setenv ("GNUPGHOME", home, TRUE);
  msg_test_gpg_gen_key (home, "Alice <alice@example.org>", "");
  msg_test_gpg_gen_key (home, "Bob <bob@example.org>", "");
  msg_test_gpg_gen_key (home, "Carol <carol@example.org>", "carol secret");

  g_test_add_func ("/crypto-send/fields", test_fields);
  g_test_add_func ("/crypto-send/default-protocol", test_default_protocol);
  g_test_add_func ("/crypto-send/pickup-sign", test_pickup_sign);
  g_test_add_func ("/crypto-send/pickup-encrypt", test_pickup_encrypt);
  g_test_add_func ("/crypto-send/pickup-missing-key", test_pickup_missing_key);
  g_test_add_func ("/crypto-send/already-signed", test_already_signed);
  g_test_add_func ("/crypto-send/passphrase", test_send_passphrase);
  g_test_add_func ("/crypto-send/flusher-passphrase", test_flusher_passphrase);
  g_test_add_func ("/crypto-send/cancel", test_send_cancel);
  g_test_add_func ("/crypto-send/deadline", test_send_deadline);
  g_test_add_func ("/crypto-send/smtp-sign", test_smtp_sign);
  g_test_add_func ("/crypto-send/smtp-missing-key", test_smtp_missing_key);
  result = g_test_run ();

  msg_test_gpg_kill_agent (home);
  msg_test_remove_tree (home);
  g_free (home);
  g_mime_shutdown ();
  return result;
}
