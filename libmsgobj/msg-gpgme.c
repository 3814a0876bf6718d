/* msg-gpgme.c: GPGME operations under a deadline and a cancellable
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */

#include "config.h"

#include "msg-gpgme-private.h"
#include "msg-caller-request-private.h"
#include "msg-deadline-private.h"
#include "msg-signature-private.h"

#include <gpgme.h>
#include <string.h>

struct _MsgPassphraseHandler
{
  gatomicrefcount   ref;
  MsgPassphraseFunc func;
  gpointer          user_data;
  GDestroyNotify    destroy;
  MsgCallerHome     home; /* @destroy runs there: the last reference may go on a library thread */
};

/* One operation, shared by the caller and the operation's thread; the
 * last of the two to let go frees it. */
typedef struct
{
  gatomicrefcount   ref;
  MsgGpgmeRequest   request;
  GMutex            lock;           /* ctx, agent, abandoned and asking, between the threads */
  gpgme_ctx_t       ctx;            /* (owned) (nullable): made on the job's thread */
  gpgme_ctx_t       agent;          /* (nullable): a gpg-agent connection in use */
  GMainContext     *context;        /* (owned): the caller waits on it */
  GMainContext     *caller_context; /* (owned): the passphrase function runs there */
  GCancellable     *cancellable;    /* (owned) (nullable): the caller's */
  gint64            until;          /* monotonic µs: the caller's deadline */
  int               done;           /* (atomic) */
  int               abandoned;      /* (atomic): the caller gave up */
  int               engine_ready;   /* (atomic): GPGME found its engine */
  MsgCallerRequest *asking;         /* (owned) (nullable): the question to the passphrase function */
  gboolean          passphrase_refused;
  char             *passphrase_key; /* (owned) (nullable): the key asked for */
  GError           *error;          /* (owned) (nullable) */
} Job;

/* The main context of the _async caller this thread works for. */
static GPrivate caller_context_key = G_PRIVATE_INIT (NULL);

void
_msg_gpgme_set_caller_context (GMainContext *context)
{
  g_private_set (&caller_context_key, context);
}

MsgPassphraseHandler *
_msg_passphrase_handler_new (MsgPassphraseFunc func,
                             gpointer          user_data,
                             GDestroyNotify    destroy)
{
  MsgPassphraseHandler *self = g_new0 (MsgPassphraseHandler, 1);

  g_atomic_ref_count_init (&self->ref);
  self->func = func;
  self->user_data = user_data;
  self->destroy = destroy;
  _msg_caller_home_init (&self->home);
  return self;
}

MsgPassphraseHandler *
_msg_passphrase_handler_ref (MsgPassphraseHandler *self)
{
  g_atomic_ref_count_inc (&self->ref);
  return self;
}

void
_msg_passphrase_handler_unref (MsgPassphraseHandler *self)
{
  if (self == NULL || !g_atomic_ref_count_dec (&self->ref))
    return;
  _msg_caller_home_destroy (&self->home, self->destroy, self->user_data);
  g_free (self);
}

void
_msg_gpgme_request_clear (MsgGpgmeRequest *request)
{
  g_clear_pointer (&request->input, g_bytes_unref);
  g_clear_pointer (&request->signature, g_bytes_unref);
  g_clear_pointer (&request->signer, g_free);
  g_clear_pointer (&request->recipients, g_strfreev);
  g_clear_pointer (&request->passphrase, _msg_passphrase_handler_unref);
  g_clear_pointer (&request->output, g_bytes_unref);
  g_clear_pointer (&request->micalg, g_free);
  g_clear_pointer (&request->signatures, g_ptr_array_unref);
}

static void
job_unref (Job *job)
{
  if (!g_atomic_ref_count_dec (&job->ref))
    return;
  _msg_gpgme_request_clear (&job->request);
  if (job->ctx != NULL)
    gpgme_release (job->ctx);
  g_main_context_unref (job->context);
  g_main_context_unref (job->caller_context);
  g_clear_object (&job->cancellable);
  g_mutex_clear (&job->lock);
  g_free (job->passphrase_key);
  g_clear_error (&job->error);
  g_free (job);
}

/* Makes @ctx the job's *@slot (NULL to let go of it): the caller
 * cancels it when it gives up. FALSE, and nothing changed, if it has
 * given up already. */
static gboolean
job_hold (Job         *job,
          gpgme_ctx_t *slot,
          gpgme_ctx_t  ctx)
{
  gboolean wanted;

  g_mutex_lock (&job->lock);
  wanted = !g_atomic_int_get (&job->abandoned);
  if (wanted || ctx == NULL)
    *slot = ctx;
  g_mutex_unlock (&job->lock);
  return wanted;
}

/* The caller gives up: every GPGME operation of the job ends at its
 * next turn of GPGME's wait loop, and no new one starts. */
static void
job_abandon (Job *job)
{
  g_mutex_lock (&job->lock);
  g_atomic_int_set (&job->abandoned, 1);
  if (job->ctx != NULL)
    gpgme_cancel_async (job->ctx);
  if (job->agent != NULL)
    gpgme_cancel_async (job->agent);
  if (job->asking != NULL)
    _msg_caller_request_abandon (job->asking);
  g_mutex_unlock (&job->lock);
}

/* Whether the caller still waits. Checked before each GPGME operation:
 * starting one clears a cancellation that came between two. */
static gboolean
job_wanted (Job *job)
{
  return !g_atomic_int_get (&job->abandoned);
}

static const char *
protocol_tool (MsgCryptoProtocol protocol)
{
  return protocol == MSG_CRYPTO_PROTOCOL_SMIME ? "gpgsm" : "gpg";
}

/* Asking the passphrase function in the caller's thread (decision 18):
 * the job's thread queues the question as a source in the caller's
 * context and waits for the answer, never past the caller's deadline nor
 * its cancellation; an answer that comes later is wiped and dropped. */

typedef struct
{
  Job     *job; /* (owned) */
  char    *key; /* (owned) */
  gboolean previous_failed;
} Ask;

static void
ask_free (gpointer data)
{
  Ask *ask = data;

  job_unref (ask->job);
  g_free (ask->key);
  g_free (ask);
}

/* Runs in the caller's thread. */
static char *
ask_cb (gpointer data)
{
  Ask                  *ask = data;
  MsgPassphraseHandler *handler = ask->job->request.passphrase;

  return handler->func (ask->key, ask->previous_failed, handler->user_data);
}

/* The caller's passphrase for @key, asked in the caller's thread; NULL
 * if it gave none, or if the caller gave up, was cancelled or ran out of
 * time first (then with job->error set). */
static char *
ask_passphrase (Job        *job,
                const char *key,
                gboolean    previous_failed)
{
  g_autoptr (MsgCallerRequest) request = NULL;
  Ask     *ask;
  char    *answer;
  gboolean timed_out;

  ask = g_new0 (Ask, 1);
  ask->job = job;
  g_atomic_ref_count_inc (&job->ref);
  ask->key = g_strdup (key);
  ask->previous_failed = previous_failed;
  request = _msg_caller_request_new (ask_cb, ask, ask_free);
  /* From here on job_abandon() ends the wait. */
  g_mutex_lock (&job->lock);
  if (g_atomic_int_get (&job->abandoned))
    {
      g_mutex_unlock (&job->lock);
      return NULL;
    }
  job->asking = _msg_caller_request_ref (request);
  g_mutex_unlock (&job->lock);

  answer = _msg_caller_request_run (request, job->caller_context, G_PRIORITY_DEFAULT, "[msgobj] passphrase",
                                    job->until, job->cancellable, &timed_out);
  g_mutex_lock (&job->lock);
  g_clear_pointer (&job->asking, _msg_caller_request_unref);
  g_mutex_unlock (&job->lock);

  if (answer != NULL || g_atomic_int_get (&job->abandoned) || job->error != NULL)
    return answer;
  /* A sync caller is in its passphrase function: this thread gives up
   * for it, and the call returns this error once the function returns. */
  if (g_cancellable_is_cancelled (job->cancellable))
    g_set_error (&job->error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
                 "The %s operation was cancelled while the passphrase function ran",
                 job->request.protocol == MSG_CRYPTO_PROTOCOL_SMIME ? "gpgsm" : "gpg");
  else if (timed_out)
    g_set_error (&job->error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                 "The passphrase function did not answer in time (cryptooperationtimeout)");
  return NULL;
}

static gpgme_error_t
passphrase_cb (void       *hook,
               const char *uid_hint,
               const char *passphrase_info,
               int         prev_was_bad,
               int         fd)
{
  Job                  *job = hook;
  MsgPassphraseHandler *handler = job->request.passphrase;
  char                 *passphrase;
  gsize                 length;
  int                   written;

  g_free (job->passphrase_key);
  job->passphrase_key = g_strdup (uid_hint != NULL ? uid_hint : "");
  /* No person is ever asked: without a function the operation fails at
   * once (decision 18). */
  if (handler == NULL || handler->func == NULL || g_atomic_int_get (&job->abandoned))
    {
      job->passphrase_refused = TRUE;
      return gpg_error (GPG_ERR_CANCELED);
    }
  passphrase = ask_passphrase (job, job->passphrase_key, prev_was_bad != 0);
  if (passphrase == NULL)
    {
      job->passphrase_refused = TRUE;
      return gpg_error (GPG_ERR_CANCELED);
    }
  length = strlen (passphrase);
  written = gpgme_io_writen (fd, passphrase, length);
  if (written == 0)
    written = gpgme_io_writen (fd, "\n", 1);
  _msg_secret_free (passphrase);
  return written == 0 ? 0 : gpgme_error_from_syserror ();
}

static void
set_engine_error (Job          *job,
                  gpgme_error_t err,
                  const char   *what)
{
  const char *tool = protocol_tool (job->request.protocol);
  int         code = MSG_CRYPTO_ERROR_FAILED;

  if (job->error != NULL)
    return;
  if (job->passphrase_refused)
    {
      g_set_error (&job->error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NO_PASSPHRASE,
                   "The key %s needs a passphrase and none was given: set a passphrase "
                   "function with msg_configuration_set_passphrase_func()",
                   job->passphrase_key);
      return;
    }
  switch (gpg_err_code (err))
    {
    case GPG_ERR_BAD_PASSPHRASE:
      code = MSG_CRYPTO_ERROR_BAD_PASSPHRASE;
      break;
    case GPG_ERR_NO_SECKEY:
    case GPG_ERR_UNUSABLE_SECKEY:
    case GPG_ERR_UNUSABLE_PUBKEY:
    case GPG_ERR_NO_PUBKEY:
      code = MSG_CRYPTO_ERROR_NO_KEY;
      break;
    case GPG_ERR_DECRYPT_FAILED:
    case GPG_ERR_NO_DATA:
      code = MSG_CRYPTO_ERROR_DECRYPT_FAILED;
      break;
    case GPG_ERR_INV_ENGINE:
    case GPG_ERR_ENOENT:
      code = MSG_CRYPTO_ERROR_ENGINE;
      break;
    default:
      break;
    }
  g_set_error (&job->error, MSG_CRYPTO_ERROR, code, "%s (%s) failed: %s", what, tool, gpgme_strerror (err));
}

/* The first usable key matching @pattern (an address, as <address>, or a
 * fingerprint) for signing or encrypting. */
static gpgme_key_t
find_key (Job        *job,
          const char *pattern,
          gboolean    for_signing)
{
  g_autofree char *exact = NULL;
  gpgme_key_t      key = NULL;
  gpgme_key_t      found = NULL;
  gpgme_error_t    err;
  const char      *angle = strrchr (pattern, '<');

  if (!job_wanted (job))
    return NULL;
  /* "Name <address>" and "address" both look for the exact address. */
  if (angle != NULL && strchr (angle, '>') != NULL)
    pattern = exact = g_strndup (angle, strchr (angle, '>') + 1 - angle);
  else if (strchr (pattern, '@') != NULL && pattern[0] != '<')
    pattern = exact = g_strdup_printf ("<%s>", pattern);
  err = gpgme_op_keylist_start (job->ctx, pattern, for_signing);
  while (err == 0 && found == NULL && (err = gpgme_op_keylist_next (job->ctx, &key)) == 0)
    {
      if (!key->revoked && !key->expired && !key->disabled && !key->invalid &&
          (for_signing ? key->can_sign : key->can_encrypt))
        found = key;
      else
        gpgme_key_unref (key);
    }
  gpgme_op_keylist_end (job->ctx);
  if (found == NULL && job->error == NULL)
    {
      if (err != 0 && gpg_err_code (err) != GPG_ERR_EOF)
        set_engine_error (job, err, "Looking up a key");
      else
        g_set_error (&job->error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NO_KEY,
                     "No usable %s key for “%s” in the %s keyring",
                     for_signing ? "secret signing" : "encryption", pattern,
                     protocol_tool (job->request.protocol));
    }
  return found;
}

static MsgSignatureStatus
map_status (gpgme_signature_t sig)
{
  switch (gpg_err_code (sig->status))
    {
    case GPG_ERR_NO_ERROR:
      if (sig->summary & GPGME_SIGSUM_KEY_REVOKED)
        return MSG_SIGNATURE_STATUS_REVOKED_KEY;
      if (sig->summary & GPGME_SIGSUM_KEY_EXPIRED)
        return MSG_SIGNATURE_STATUS_EXPIRED_KEY;
      if (sig->summary & GPGME_SIGSUM_SIG_EXPIRED)
        return MSG_SIGNATURE_STATUS_EXPIRED_SIGNATURE;
      return MSG_SIGNATURE_STATUS_GOOD;
    case GPG_ERR_BAD_SIGNATURE:
      return MSG_SIGNATURE_STATUS_BAD;
    case GPG_ERR_NO_PUBKEY:
      return MSG_SIGNATURE_STATUS_NO_PUBLIC_KEY;
    case GPG_ERR_SIG_EXPIRED:
      return MSG_SIGNATURE_STATUS_EXPIRED_SIGNATURE;
    case GPG_ERR_KEY_EXPIRED:
      return MSG_SIGNATURE_STATUS_EXPIRED_KEY;
    case GPG_ERR_CERT_REVOKED:
      return MSG_SIGNATURE_STATUS_REVOKED_KEY;
    default:
      return MSG_SIGNATURE_STATUS_ERROR;
    }
}

/* The signatures of the last verify; the signers' names come from the
 * keyring. */
static void
collect_signatures (Job *job)
{
  gpgme_verify_result_t result = gpgme_op_verify_result (job->ctx);

  job->request.signatures = g_ptr_array_new_with_free_func (g_object_unref);
  if (result == NULL)
    return;
  /* Looking keys up starts other operations, which end this result. */
  gpgme_result_ref (result);
  for (gpgme_signature_t sig = result->signatures; sig != NULL; sig = sig->next)
    {
      MsgSignatureStatus status = map_status (sig);
      gpgme_key_t        key = NULL;
      const char        *user_id = NULL;
      const char        *address = NULL;
      g_autofree char   *detail = NULL;
      g_autofree char   *bare = NULL;

      if (status != MSG_SIGNATURE_STATUS_NO_PUBLIC_KEY && sig->fpr != NULL &&
          gpgme_get_key (job->ctx, sig->fpr, &key, 0) == 0)
        {
          for (gpgme_user_id_t uid = key->uids; uid != NULL; uid = uid->next)
            {
              if (user_id == NULL)
                user_id = uid->uid;
              if (address == NULL && uid->email != NULL && uid->email[0] != '\0')
                address = uid->email;
            }
        }
      /* gpgsm gives addresses as <address>. */
      if (address != NULL && address[0] == '<' && g_str_has_suffix (address, ">"))
        address = bare = g_strndup (address + 1, strlen (address) - 2);
      if (sig->status != 0)
        detail = g_strdup (gpgme_strerror (sig->status));
      g_ptr_array_add (job->request.signatures,
                       _msg_signature_new (job->request.protocol, status, user_id, address, sig->fpr,
                                           sig->timestamp, detail));
      if (key != NULL)
        gpgme_key_unref (key);
    }
  gpgme_result_unref (result);
}

static GBytes *
take_data (gpgme_data_t data)
{
  size_t  length = 0;
  char   *buffer = gpgme_data_release_and_get_mem (data, &length);
  GBytes *bytes = g_bytes_new (buffer, length);

  gpgme_free (buffer);
  return bytes;
}

static gpgme_error_t
keyinfo_cb (void       *opaque,
            const char *status,
            const char *args)
{
  gboolean *needs_passphrase = opaque;

  /* KEYINFO <grip> <type> <serialno> <idstr> <cached> <protection> … */
  if (g_strcmp0 (status, "KEYINFO") == 0)
    {
      g_auto (GStrv) fields = g_strsplit (args, " ", -1);

      if (g_strv_length (fields) > 5 && g_str_equal (fields[5], "P") && !g_str_equal (fields[4], "1"))
        *needs_passphrase = TRUE;
    }
  return 0;
}

/* Whether the secret key @grip is protected and its passphrase not in
 * gpg-agent's cache. */
static gboolean
needs_passphrase (gpgme_ctx_t agent,
                  const char *grip)
{
  g_autofree char *command = g_strdup_printf ("KEYINFO %s", grip);
  gboolean         needs = FALSE;
  gpgme_error_t    op_err = 0;

  gpgme_op_assuan_transact_ext (agent, command, NULL, NULL, NULL, NULL, keyinfo_cb, &needs, &op_err);
  return needs;
}

typedef struct
{
  Job         *job;
  const char  *key;
  gboolean     previous_failed;
  gboolean     refused;
  char        *passphrase; /* (owned) (nullable) */
  gpgme_data_t data;       /* (owned) (nullable) */
} Unlock;

static void
unlock_forget (Unlock *unlock)
{
  g_clear_pointer (&unlock->data, gpgme_data_release);
  g_clear_pointer (&unlock->passphrase, _msg_secret_free);
}

/* gpg-agent asks for the passphrase (loopback): the caller's function
 * answers, or the question is cancelled. */
static gpgme_error_t
unlock_inquire_cb (void         *opaque,
                   const char   *name,
                   const char   *args,
                   gpgme_data_t *r_data)
{
  Unlock *unlock = opaque;

  if (name == NULL)
    {
      /* GPGME has sent the data. */
      *r_data = NULL;
      unlock_forget (unlock);
      return 0;
    }
  if (!g_str_equal (name, "PASSPHRASE"))
    return 0;
  unlock_forget (unlock);
  unlock->passphrase = ask_passphrase (unlock->job, unlock->key, unlock->previous_failed);
  if (unlock->passphrase == NULL)
    {
      unlock->refused = TRUE;
      return gpg_error (GPG_ERR_ASS_CANCELED);
    }
  gpgme_data_new_from_mem (&unlock->data, unlock->passphrase, strlen (unlock->passphrase), 0);
  *r_data = unlock->data;
  return 0;
}

/* S/MIME: GPGME 1.18 cannot put gpgsm in loopback mode nor answer its
 * passphrase questions, so gpgsm would make gpg-agent start a pinentry.
 * Instead the key is unlocked beforehand on a connection of the library's
 * own to gpg-agent, in loopback mode, with the caller's passphrase: a
 * signature over a dummy hash (thrown away) makes the agent check the
 * passphrase and cache it, as it does for a pinentry, and gpgsm then
 * finds it cached (decision 18). */
static gpgme_error_t
unlock_key (Job        *job,
            gpgme_ctx_t agent,
            const char *grip,
            const char *key)
{
  g_autofree char *sigkey = g_strdup_printf ("SIGKEY %s", grip);
  Unlock           unlock = { job, key, FALSE, FALSE, NULL, NULL };
  gpgme_error_t    err;
  gpgme_error_t    op_err = 0;

  err = gpgme_op_assuan_transact_ext (agent, "OPTION pinentry-mode=loopback", NULL, NULL, NULL, NULL, NULL, NULL,
                                      &op_err);
  /* Three tries, as gpg gives its passphrase callback. */
  for (int attempt = 0; attempt < 3 && err == 0 && job_wanted (job); attempt++)
    {
      if (attempt > 0)
        {
          if (gpg_err_code (op_err) != GPG_ERR_BAD_PASSPHRASE)
            break;
          unlock.previous_failed = TRUE;
          op_err = 0;
        }
      if (op_err == 0)
        err = gpgme_op_assuan_transact_ext (agent, sigkey, NULL, NULL, NULL, NULL, NULL, NULL, &op_err);
      if (err == 0 && op_err == 0)
        err = gpgme_op_assuan_transact_ext (agent,
                                            "SETHASH --hash=sha256 "
                                            "0000000000000000000000000000000000000000000000000000000000000000",
                                            NULL, NULL, NULL, NULL, NULL, NULL, &op_err);
      if (err == 0 && op_err == 0)
        err = gpgme_op_assuan_transact_ext (agent, "PKSIGN", NULL, NULL, unlock_inquire_cb, &unlock, NULL, NULL,
                                            &op_err);
      unlock_forget (&unlock);
    }
  if (unlock.refused)
    job->passphrase_refused = TRUE;
  return err != 0 ? err : op_err;
}

/* A name of @key for messages and the passphrase function: the
 * fingerprint and the address, as gpg gives its key ID and user ID. */
static char *
key_hint (gpgme_key_t key)
{
  const char *name = key->uids != NULL ? key->uids->uid : "";

  for (gpgme_user_id_t uid = key->uids; uid != NULL; uid = uid->next)
    if (uid->email != NULL && uid->email[0] != '\0')
      {
        name = uid->uid;
        break;
      }
  return g_strdup_printf ("%s %s", key->subkeys->fpr, name);
}

static gpgme_ctx_t
open_agent (Job *job)
{
  gpgme_ctx_t agent = NULL;

  if (gpgme_new (&agent) != 0)
    return NULL;
  gpgme_set_protocol (agent, GPGME_PROTOCOL_ASSUAN);
  if (!job_hold (job, &job->agent, agent))
    g_clear_pointer (&agent, gpgme_release);
  return agent;
}

static void
close_agent (Job        *job,
             gpgme_ctx_t agent)
{
  job_hold (job, &job->agent, NULL);
  gpgme_release (agent);
}

/* S/MIME: every secret key of @key must be usable without a prompt:
 * unprotected, cached, or unlocked with the caller's passphrase
 * (unlock_key). Otherwise the operation is refused at once: no person is
 * ever asked (decision 18). */
static gboolean
check_unprotected (Job        *job,
                   gpgme_key_t key)
{
  MsgPassphraseHandler *handler = job->request.passphrase;
  g_autofree char      *hint = NULL;
  gpgme_ctx_t           agent;
  gpgme_error_t         err = 0;
  gboolean              locked = FALSE;

  if (job->request.protocol != MSG_CRYPTO_PROTOCOL_SMIME)
    return TRUE;
  if ((agent = open_agent (job)) == NULL)
    return TRUE;
  hint = key_hint (key);
  for (gpgme_subkey_t sub = key->subkeys; sub != NULL && !locked && err == 0; sub = sub->next)
    {
      if (sub->keygrip == NULL || !needs_passphrase (agent, sub->keygrip))
        continue;
      if (handler == NULL || handler->func == NULL)
        {
          job->passphrase_refused = TRUE;
          locked = TRUE;
          break;
        }
      err = unlock_key (job, agent, sub->keygrip, hint);
      /* A cache time of 0 (default-cache-ttl) keeps nothing. */
      locked = err == 0 && needs_passphrase (agent, sub->keygrip);
    }
  close_agent (job, agent);
  if (job->error != NULL || !job_wanted (job))
    return FALSE;
  if (job->passphrase_refused)
    g_set_error (&job->error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NO_PASSPHRASE,
                 "The S/MIME key %s needs a passphrase and none was given: set a passphrase function "
                 "with msg_configuration_set_passphrase_func()",
                 hint);
  else if (err != 0)
    {
      set_engine_error (job, err, "Unlocking the S/MIME key in gpg-agent");
      g_prefix_error (&job->error, "%s: ", hint);
    }
  else if (locked)
    g_set_error (&job->error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NO_PASSPHRASE,
                 "gpg-agent did not keep the passphrase of the S/MIME key %s (is default-cache-ttl 0?), "
                 "and GPGME cannot give it to gpgsm without a prompt",
                 hint);
  return job->error == NULL;
}

/* S/MIME decryption: every secret key that might be used must be usable
 * without a prompt. */
static gboolean
check_all_unprotected (Job *job)
{
  gpgme_key_t   key = NULL;
  gboolean      ok = TRUE;
  gpgme_error_t err;

  if (job->request.protocol != MSG_CRYPTO_PROTOCOL_SMIME)
    return TRUE;
  err = gpgme_op_keylist_start (job->ctx, NULL, 1);
  while (err == 0 && ok && (err = gpgme_op_keylist_next (job->ctx, &key)) == 0)
    {
      ok = check_unprotected (job, key);
      gpgme_key_unref (key);
    }
  gpgme_op_keylist_end (job->ctx);
  return ok && job_wanted (job);
}

static void
run_sign (Job         *job,
          gpgme_data_t in)
{
  gpgme_data_t        out = NULL;
  gpgme_key_t         key = find_key (job, job->request.signer, TRUE);
  gpgme_error_t       err;
  gpgme_sign_result_t result;
  g_autofree char    *algorithm = NULL;

  if (key == NULL)
    return;
  if (!check_unprotected (job, key) || !job_wanted (job))
    {
      gpgme_key_unref (key);
      return;
    }
  gpgme_signers_add (job->ctx, key);
  gpgme_key_unref (key);
  gpgme_data_new (&out);
  err = gpgme_op_sign (job->ctx, in, out, GPGME_SIG_MODE_DETACH);
  result = err == 0 ? gpgme_op_sign_result (job->ctx) : NULL;
  if (result == NULL || result->signatures == NULL)
    {
      set_engine_error (job, err != 0 ? err : gpg_error (GPG_ERR_GENERAL), "Signing");
      gpgme_data_release (out);
      return;
    }
  algorithm = g_ascii_strdown (gpgme_hash_algo_name (result->signatures->hash_algo), -1);
  job->request.micalg = job->request.protocol == MSG_CRYPTO_PROTOCOL_OPENPGP
                            ? g_strconcat ("pgp-", algorithm, NULL)
                            : g_steal_pointer (&algorithm);
  job->request.output = take_data (out);
}

static void
run_encrypt (Job         *job,
             gpgme_data_t in)
{
  g_autoptr (GPtrArray) keys = g_ptr_array_new_with_free_func ((GDestroyNotify) gpgme_key_unref);
  gpgme_data_t  out = NULL;
  gpgme_error_t err;

  for (guint i = 0; job->request.recipients != NULL && job->request.recipients[i] != NULL; i++)
    {
      gpgme_key_t key = find_key (job, job->request.recipients[i], FALSE);

      if (key == NULL)
        return;
      g_ptr_array_add (keys, key);
    }
  g_ptr_array_add (keys, NULL);
  if (!job_wanted (job))
    return;
  gpgme_data_new (&out);
  if (job->request.operation == MSG_GPGME_SIGN_ENCRYPT)
    {
      gpgme_key_t key = find_key (job, job->request.signer, TRUE);

      if (key == NULL)
        {
          gpgme_data_release (out);
          return;
        }
      gpgme_signers_add (job->ctx, key);
      gpgme_key_unref (key);
      err = gpgme_op_encrypt_sign (job->ctx, (gpgme_key_t *) keys->pdata, 0, in, out);
    }
  else
    err = gpgme_op_encrypt (job->ctx, (gpgme_key_t *) keys->pdata, 0, in, out);
  if (err != 0)
    {
      set_engine_error (job, err, "Encrypting");
      gpgme_data_release (out);
      return;
    }
  job->request.output = take_data (out);
}

static void
run_verify (Job         *job,
            gpgme_data_t in)
{
  gpgme_data_t  signature = NULL;
  gpgme_data_t  out = NULL;
  gpgme_error_t err;

  if (!job_wanted (job))
    return;
  if (job->request.signature != NULL)
    {
      gpgme_data_new_from_mem (&signature, g_bytes_get_data (job->request.signature, NULL),
                               g_bytes_get_size (job->request.signature), 0);
      err = gpgme_op_verify (job->ctx, signature, in, NULL);
      gpgme_data_release (signature);
    }
  else
    {
      /* Opaque (S/MIME signed-data): the content comes out. */
      gpgme_data_new (&out);
      err = gpgme_op_verify (job->ctx, in, NULL, out);
    }
  if (err != 0)
    {
      set_engine_error (job, err, "Verifying");
      if (out != NULL)
        gpgme_data_release (out);
      return;
    }
  if (out != NULL)
    job->request.output = take_data (out);
  collect_signatures (job);
}

static void
run_decrypt (Job         *job,
             gpgme_data_t in)
{
  gpgme_data_t           out = NULL;
  gpgme_error_t          err;
  gpgme_decrypt_result_t result;

  if (!check_all_unprotected (job))
    return;
  gpgme_data_new (&out);
  err = gpgme_op_decrypt_verify (job->ctx, in, out);
  if (err != 0)
    {
      gboolean no_key = FALSE;

      result = gpgme_op_decrypt_result (job->ctx);
      for (gpgme_recipient_t r = result != NULL ? result->recipients : NULL; r != NULL; r = r->next)
        no_key = no_key || gpg_err_code (r->status) == GPG_ERR_NO_SECKEY;
      if (job->error != NULL)
        ; /* The passphrase function was given up on. */
      else if (no_key && !job->passphrase_refused)
        g_set_error (&job->error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_NO_KEY,
                     "No secret key in the %s keyring can decrypt the message",
                     protocol_tool (job->request.protocol));
      else
        set_engine_error (job, err, "Decrypting");
      gpgme_data_release (out);
      return;
    }
  job->request.output = take_data (out);
  collect_signatures (job);
}

/* A context that never asks a person and never goes to the network.
 * The first one of the process makes GPGME look for its engines (it runs
 * gpgconf and the engine's --version), so it is made here, on the job's
 * thread, under the caller's deadline like the rest. */
static gboolean
new_context (Job *job)
{
  gpgme_protocol_t protocol = job->request.protocol == MSG_CRYPTO_PROTOCOL_SMIME ? GPGME_PROTOCOL_CMS
                                                                                 : GPGME_PROTOCOL_OpenPGP;
  gpgme_error_t    err = gpgme_engine_check_version (protocol);
  gpgme_ctx_t      ctx = NULL;

  g_atomic_int_set (&job->engine_ready, 1);
  if (err == 0)
    err = gpgme_new (&ctx);
  if (err == 0)
    err = gpgme_set_protocol (ctx, protocol);
  /* GPGME 1.18's gpgsm engine has no pinentry mode (an operation would
   * fail with "Not implemented"): S/MIME keys are unlocked beforehand
   * instead (check_unprotected). */
  if (err == 0 && protocol == GPGME_PROTOCOL_OpenPGP)
    err = gpgme_set_pinentry_mode (ctx, GPGME_PINENTRY_MODE_LOOPBACK);
  if (err != 0)
    {
      g_set_error (&job->error, MSG_CRYPTO_ERROR, MSG_CRYPTO_ERROR_ENGINE,
                   "%s cannot be used (GnuPG 2.1 or later is needed): %s",
                   protocol_tool (job->request.protocol), gpgme_strerror (err));
      if (ctx != NULL)
        gpgme_release (ctx);
      return FALSE;
    }
  gpgme_set_armor (ctx, protocol == GPGME_PROTOCOL_OpenPGP);
  gpgme_set_offline (ctx, 1);
  /* gpgsm's engine takes no passphrase callback either. */
  if (protocol == GPGME_PROTOCOL_OpenPGP)
    gpgme_set_passphrase_cb (ctx, passphrase_cb, job);
  if (!job_hold (job, &job->ctx, ctx))
    {
      gpgme_release (ctx);
      return FALSE;
    }
  return TRUE;
}

static gpointer
job_thread (gpointer data)
{
  Job         *job = data;
  gpgme_data_t in = NULL;

  if (!new_context (job))
    goto out;
  gpgme_data_new_from_mem (&in, g_bytes_get_data (job->request.input, NULL),
                           g_bytes_get_size (job->request.input), 0);
  switch (job->request.operation)
    {
    case MSG_GPGME_SIGN:
      run_sign (job, in);
      break;
    case MSG_GPGME_ENCRYPT:
    case MSG_GPGME_SIGN_ENCRYPT:
      run_encrypt (job, in);
      break;
    case MSG_GPGME_VERIFY:
      run_verify (job, in);
      break;
    case MSG_GPGME_DECRYPT:
      run_decrypt (job, in);
      break;
    default:
      g_assert_not_reached ();
    }
  gpgme_data_release (in);
out:
  g_atomic_int_set (&job->done, 1);
  g_main_context_wakeup (job->context);
  job_unref (job);
  return NULL;
}

static gpointer
init_gpgme_once (gpointer data)
{
  /* Only sets GPGME up: it starts no engine. */
  gpgme_check_version (NULL);
  return NULL;
}

gboolean
_msg_gpgme_run (MsgGpgmeRequest *request,
                gint64           until,
                GCancellable    *cancellable,
                GError         **error)
{
  static GOnce      once = G_ONCE_INIT;
  GMainContext     *caller = g_private_get (&caller_context_key);
  GMainContext     *context;
  Job              *job;
  GThread          *thread;
  MsgDeadlineResult result;
  const char       *tool = protocol_tool (request->protocol);

  g_once (&once, init_gpgme_once, NULL);
  context = _msg_main_context_try_new (error);
  if (context == NULL)
    return FALSE;
  job = g_new0 (Job, 1);
  g_atomic_ref_count_init (&job->ref);
  g_mutex_init (&job->lock);
  job->context = context;
  /* The passphrase function runs in the caller's thread: this one, which
   * serves job->context while it waits, or for an _async call the
   * caller's main context, unless this thread holds it. */
  if (caller != NULL && !g_main_context_is_owner (caller))
    job->caller_context = g_main_context_ref (caller);
  else
    job->caller_context = g_main_context_ref (job->context);
  job->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  job->until = until;
  /* The job owns the inputs from here on. */
  job->request = *request;
  memset (request, 0, sizeof *request);
  request->operation = job->request.operation;
  request->protocol = job->request.protocol;

  g_atomic_ref_count_inc (&job->ref);
  thread = g_thread_try_new ("msg-gpgme", job_thread, job, error);
  if (thread == NULL)
    {
      job_unref (job);
      job_unref (job);
      return FALSE;
    }
  g_thread_unref (thread);

  result = _msg_deadline_wait_for_flag (job->context, &job->done, until, cancellable);
  if (result != MSG_DEADLINE_READY)
    {
      /* GPGME's wait loop sees this within a second, closes its pipes to
       * the engine (which ends it) and returns; the thread drops the
       * result. */
      job_abandon (job);
      if (result == MSG_DEADLINE_CANCELLED)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "The %s operation was cancelled", tool);
      else if (!g_atomic_int_get (&job->engine_ready))
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                     "GnuPG did not start in time (cryptooperationtimeout): GPGME's first look for the "
                     "%s engine (gpgconf, %s --version) did not finish",
                     tool, tool);
      else
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                     "The %s operation did not finish in time (cryptooperationtimeout)", tool);
      job_unref (job);
      return FALSE;
    }
  if (job->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&job->error));
      job_unref (job);
      return FALSE;
    }
  request->output = g_steal_pointer (&job->request.output);
  request->micalg = g_steal_pointer (&job->request.micalg);
  request->signatures = g_steal_pointer (&job->request.signatures);
  job_unref (job);
  return TRUE;
}
