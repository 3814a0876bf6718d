/* test-faults.c: the fault-injection matrix that proves the promise
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 *
 * The promise: a send or post that meets a fault (silence, a stall, a
 * server dripping bytes, a reset, a close, a server that stops reading,
 * a hostile reply) or a cancellation returns within its deadline with a
 * clear error, the socket is closed when the call returns, nothing leaks,
 * and the same transport object sends the next message.
 *
 * The cases are generated from data: a protocol's healthy dialogue is a
 * list of steps (what the client sends, what the server answers); a stage
 * is one step, and a fault is a snippet of server script that replaces
 * that step's answer (or its reading of the message, or its TLS
 * handshake). Each case's path is /faults/PROTO/STAGE/FAULT/MODE.
 *
 * The scripted server plays the faulty dialogue on the first connection
 * and the healthy one on the second, which the next send must make.
 *
 * Timing: the inactivity limit (Ti) is 0.3 s, the total deadline (Tt)
 * 0.5 s where a case is about it, the slack (ε) 100 ms. Every limit and
 * the slack are multiplied by MSGOBJ_TEST_TIME_SCALE (default 1; the
 * valgrind test setup sets 8, build-aux/run-tests.sh 2 for ASan): what ε
 * covers (waking up, aborting, closing, delivering an async result) is
 * system calls and GLib code, measured under valgrind on a loaded
 * two-core machine at well under 100 ms of the 800 ms.
 *
 * One thing is slower than that factor says: a TLS handshake is CPU-bound
 * crypto, about 40x slower under valgrind (not 8x), and slower again on
 * a loaded machine. While the library waited for glib-networking's
 * handshake thread to heed a cancel (it does so only at its next I/O), a
 * cancel at the start of a handshake returned after 14 ms to 1.8 s under
 * valgrind on a loaded two-core machine. Since the handshake runs on a
 * thread of the library's that it abandons at once, the same cases took
 * 0 to 451 ms: building the TLS client (reading the CA file) is still
 * done in the caller's thread, and valgrind runs one thread at a time. So
 * the cases of the handshake stages allow, on top of ε, twice the
 * slowest of three whole loopback handshakes timed at start-up in this
 * process (calibrate_handshake()): what cannot be interrupted is part of
 * a handshake, and the load on a shared machine varies by about 2x
 * between start-up and a case (the same handshake took 1.1 s to 2.2 s
 * there). Natively that adds some 60 ms.
 *
 * The message stage is the same kind of case: after the server's fault
 * the client goes on making and writing message data (MIME, dot-stuffing:
 * CPU-bound too) until the socket buffers are full, and only then does a
 * clock start, or fire, between two writes. Measured under valgrind on a
 * loaded machine: 0.8 s past Ti and 1.1 s past Tt, against ε = 0.8 s. So
 * those cases allow the time to make and write as many bytes as the
 * socket buffers hold (calibrate_buffers(): some 3 MB here) at the speed
 * of a healthy send of the big message, both measured at start-up
 * (calibrate_big_send(): some 80 ms natively, 6 s under valgrind). That
 * speed also counts the scripted server's reading, in the same process,
 * so the allowance errs on the long side, and is not doubled.
 */
#include "config.h"

#include "test-faults-utils.h"
#include "test-utils.h"
#include "msg-test-server.h"

#include <fcntl.h>
#include <poll.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Clocks, in ms, before scaling. */
#define UNIT_MS 300  /* Ti: the inactivity limit of timer cases */
#define TOTAL_MS 500 /* Tt: the total deadline of drip cases */
#define LONG_MS 8000 /* a limit that must not be what ends the call */
#define SLACK_MS 100 /* ε */
#define BIG_MESSAGE (6 * 1024 * 1024)

/* For the tests that run this program again as a child. */
static const char *test_argv0;

/* Asserts that @elapsed_ms is at most @bound_ms, and says both in the
 * log, so that a slow run shows how close every case came to its bound. */
static void
assert_within (const char *what,
               gint64      elapsed_ms,
               gint64      bound_ms)
{
  g_test_message ("timing: %s %" G_GINT64_FORMAT " ms, bound %" G_GINT64_FORMAT " ms",
                  what, elapsed_ms, bound_ms);
  g_assert_cmpint (elapsed_ms, <=, bound_ms);
}

/* Protocols and their dialogues. */

typedef enum
{
  PROTO_SMTP,
  PROTO_NNTP,
} Proto;

static const char *const proto_names[] = { "smtp", "nntp" };

typedef enum
{
  PROFILE_PLAIN,
  PROFILE_STARTTLS,
  PROFILE_AUTH,
  PROFILE_IMPLICIT_TLS,
  PROFILE_PIPELINING, /* SMTP only */
  N_PROFILES
} Profile;

static const char *const profile_names[] = { "plain", "starttls", "auth", "implicit-tls", "pipelining" };

static gboolean
profile_uses_tls (Profile profile)
{
  return profile == PROFILE_STARTTLS || profile == PROFILE_IMPLICIT_TLS;
}

/* One exchange of a healthy dialogue: the server reads @expect (a line
 * prefix), or the message (@data), or does the TLS handshake (@tls), then
 * sends @reply (nullable). */
typedef struct
{
  const char *name;
  const char *expect;
  gboolean    data;
  gboolean    tls;
  const char *reply;
} Step;

#define END_STEPS                  \
  {                                \
    NULL, NULL, FALSE, FALSE, NULL \
  }

static const Step smtp_plain[] = {
  { "greeting", NULL, FALSE, FALSE, "220 test.invalid ESMTP ready\r\n" },
  { "ehlo", "EHLO ", FALSE, FALSE, "250-test.invalid greets you\r\n250-8BITMIME\r\n250 SIZE 100000000\r\n" },
  { "mail", "MAIL FROM:", FALSE, FALSE, "250 2.1.0 Sender ok\r\n" },
  { "rcpt", "RCPT TO:", FALSE, FALSE, "250 2.1.5 Recipient ok\r\n" },
  { "data", "DATA", FALSE, FALSE, "354 End data with <CR><LF>.<CR><LF>\r\n" },
  { "message", NULL, TRUE, FALSE, "250 2.0.0 Ok: queued as 4711\r\n" },
  { "quit", "QUIT", FALSE, FALSE, "221 2.0.0 Bye\r\n" },
  END_STEPS
};

static const Step smtp_starttls[] = {
  { "greeting", NULL, FALSE, FALSE, "220 test.invalid ESMTP ready\r\n" },
  { "ehlo", "EHLO ", FALSE, FALSE, "250-test.invalid greets you\r\n250 STARTTLS\r\n" },
  { "starttls", "STARTTLS", FALSE, FALSE, "220 2.0.0 Ready to start TLS\r\n" },
  { "tls-handshake", NULL, FALSE, TRUE, NULL },
  { "ehlo-tls", "EHLO ", FALSE, FALSE, "250-test.invalid greets you\r\n250 8BITMIME\r\n" },
  { "mail", "MAIL FROM:", FALSE, FALSE, "250 2.1.0 Sender ok\r\n" },
  { "rcpt", "RCPT TO:", FALSE, FALSE, "250 2.1.5 Recipient ok\r\n" },
  { "data", "DATA", FALSE, FALSE, "354 End data with <CR><LF>.<CR><LF>\r\n" },
  { "message", NULL, TRUE, FALSE, "250 2.0.0 Ok: queued as 4711\r\n" },
  { "quit", "QUIT", FALSE, FALSE, "221 2.0.0 Bye\r\n" },
  END_STEPS
};

static const Step smtp_auth[] = {
  { "greeting", NULL, FALSE, FALSE, "220 test.invalid ESMTP ready\r\n" },
  { "ehlo", "EHLO ", FALSE, FALSE, "250-test.invalid greets you\r\n250 AUTH PLAIN\r\n" },
  { "auth", "AUTH PLAIN", FALSE, FALSE, "235 2.7.0 Authentication successful\r\n" },
  { "mail", "MAIL FROM:", FALSE, FALSE, "250 2.1.0 Sender ok\r\n" },
  { "rcpt", "RCPT TO:", FALSE, FALSE, "250 2.1.5 Recipient ok\r\n" },
  { "data", "DATA", FALSE, FALSE, "354 End data with <CR><LF>.<CR><LF>\r\n" },
  { "message", NULL, TRUE, FALSE, "250 2.0.0 Ok: queued as 4711\r\n" },
  { "quit", "QUIT", FALSE, FALSE, "221 2.0.0 Bye\r\n" },
  END_STEPS
};

static const Step smtp_implicit_tls[] = {
  { "tls-handshake", NULL, FALSE, TRUE, NULL },
  { "greeting", NULL, FALSE, FALSE, "220 test.invalid ESMTP ready\r\n" },
  { "ehlo", "EHLO ", FALSE, FALSE, "250-test.invalid greets you\r\n250 8BITMIME\r\n" },
  { "mail", "MAIL FROM:", FALSE, FALSE, "250 2.1.0 Sender ok\r\n" },
  { "rcpt", "RCPT TO:", FALSE, FALSE, "250 2.1.5 Recipient ok\r\n" },
  { "data", "DATA", FALSE, FALSE, "354 End data with <CR><LF>.<CR><LF>\r\n" },
  { "message", NULL, TRUE, FALSE, "250 2.0.0 Ok: queued as 4711\r\n" },
  { "quit", "QUIT", FALSE, FALSE, "221 2.0.0 Bye\r\n" },
  END_STEPS
};

/* MAIL, RCPT and DATA in one write; their three replies in one. */
static const Step smtp_pipelining[] = {
  { "greeting", NULL, FALSE, FALSE, "220 test.invalid ESMTP ready\r\n" },
  { "ehlo", "EHLO ", FALSE, FALSE, "250-test.invalid greets you\r\n250-PIPELINING\r\n250 8BITMIME\r\n" },
  { "mail", "MAIL FROM:", FALSE, FALSE, NULL },
  { "rcpt", "RCPT TO:", FALSE, FALSE, NULL },
  { "data", "DATA", FALSE, FALSE,
    "250 2.1.0 Sender ok\r\n250 2.1.5 Recipient ok\r\n354 End data with <CR><LF>.<CR><LF>\r\n" },
  { "message", NULL, TRUE, FALSE, "250 2.0.0 Ok: queued as 4711\r\n" },
  { "quit", "QUIT", FALSE, FALSE, "221 2.0.0 Bye\r\n" },
  END_STEPS
};

static const Step nntp_plain[] = {
  { "greeting", NULL, FALSE, FALSE, "200 news.test.invalid ready, posting allowed\r\n" },
  { "capabilities", "CAPABILITIES", FALSE, FALSE, "101 Capability list:\r\nVERSION 2\r\nREADER\r\nPOST\r\n.\r\n" },
  { "post", "POST", FALSE, FALSE, "340 Send article to be posted\r\n" },
  { "message", NULL, TRUE, FALSE, "240 Article received OK\r\n" },
  { "quit", "QUIT", FALSE, FALSE, "205 Bye\r\n" },
  END_STEPS
};

static const Step nntp_starttls[] = {
  { "greeting", NULL, FALSE, FALSE, "200 news.test.invalid ready, posting allowed\r\n" },
  { "capabilities", "CAPABILITIES", FALSE, FALSE, "101 Capability list:\r\nVERSION 2\r\nREADER\r\nPOST\r\nSTARTTLS\r\n.\r\n" },
  { "starttls", "STARTTLS", FALSE, FALSE, "382 Continue with TLS negotiation\r\n" },
  { "tls-handshake", NULL, FALSE, TRUE, NULL },
  { "capabilities-tls", "CAPABILITIES", FALSE, FALSE, "101 Capability list:\r\nVERSION 2\r\nREADER\r\nPOST\r\n.\r\n" },
  { "post", "POST", FALSE, FALSE, "340 Send article to be posted\r\n" },
  { "message", NULL, TRUE, FALSE, "240 Article received OK\r\n" },
  { "quit", "QUIT", FALSE, FALSE, "205 Bye\r\n" },
  END_STEPS
};

static const Step nntp_auth[] = {
  { "greeting", NULL, FALSE, FALSE, "200 news.test.invalid ready, posting allowed\r\n" },
  { "capabilities", "CAPABILITIES", FALSE, FALSE, "101 Capability list:\r\nVERSION 2\r\nREADER\r\nPOST\r\nAUTHINFO USER\r\n.\r\n" },
  { "auth", "AUTHINFO USER ", FALSE, FALSE, "381 Password required\r\n" },
  { "auth-pass", "AUTHINFO PASS ", FALSE, FALSE, "281 Authentication accepted\r\n" },
  { "post", "POST", FALSE, FALSE, "340 Send article to be posted\r\n" },
  { "message", NULL, TRUE, FALSE, "240 Article received OK\r\n" },
  { "quit", "QUIT", FALSE, FALSE, "205 Bye\r\n" },
  END_STEPS
};

static const Step nntp_implicit_tls[] = {
  { "tls-handshake", NULL, FALSE, TRUE, NULL },
  { "greeting", NULL, FALSE, FALSE, "200 news.test.invalid ready, posting allowed\r\n" },
  { "capabilities", "CAPABILITIES", FALSE, FALSE, "101 Capability list:\r\nVERSION 2\r\nREADER\r\nPOST\r\n.\r\n" },
  { "post", "POST", FALSE, FALSE, "340 Send article to be posted\r\n" },
  { "message", NULL, TRUE, FALSE, "240 Article received OK\r\n" },
  { "quit", "QUIT", FALSE, FALSE, "205 Bye\r\n" },
  END_STEPS
};

static const Step *
profile_steps (Proto   proto,
               Profile profile)
{
  static const Step *const table[2][N_PROFILES] = {
    { smtp_plain, smtp_starttls, smtp_auth, smtp_implicit_tls, smtp_pipelining },
    { nntp_plain, nntp_starttls, nntp_auth, nntp_implicit_tls, NULL },
  };

  return table[proto][profile];
}

/* Stages. */

typedef enum
{
  KIND_CONNECT,   /* TCP connect */
  KIND_REPLY,     /* the server's reply to a command (or its greeting) */
  KIND_HANDSHAKE, /* the TLS handshake after the go-ahead */
  KIND_STREAM,    /* while we write the message */
} StageKind;

typedef struct
{
  const char *name;
  StageKind   kind;
  Profile     profile;
  const char *step;      /* the step whose reply (or input) is faulty */
  gboolean    after_dot; /* the whole message was sent */
  gboolean    in_close;  /* the fault hits msg_transport_close (QUIT) */
  gboolean    multiline; /* the reply may have continuation lines */
} Stage;

static const Stage smtp_stages[] = {
  { "connect", KIND_CONNECT, PROFILE_PLAIN, NULL, FALSE, FALSE, FALSE },
  { "greeting", KIND_REPLY, PROFILE_PLAIN, "greeting", FALSE, FALSE, TRUE },
  { "ehlo", KIND_REPLY, PROFILE_PLAIN, "ehlo", FALSE, FALSE, TRUE },
  { "starttls", KIND_REPLY, PROFILE_STARTTLS, "starttls", FALSE, FALSE, TRUE },
  { "tls-handshake", KIND_HANDSHAKE, PROFILE_STARTTLS, "tls-handshake", FALSE, FALSE, FALSE },
  { "implicit-tls", KIND_HANDSHAKE, PROFILE_IMPLICIT_TLS, "tls-handshake", FALSE, FALSE, FALSE },
  { "auth", KIND_REPLY, PROFILE_AUTH, "auth", FALSE, FALSE, TRUE },
  { "mail", KIND_REPLY, PROFILE_PLAIN, "mail", FALSE, FALSE, TRUE },
  { "rcpt", KIND_REPLY, PROFILE_PLAIN, "rcpt", FALSE, FALSE, TRUE },
  { "data", KIND_REPLY, PROFILE_PLAIN, "data", FALSE, FALSE, TRUE },
  { "pipelined-batch", KIND_REPLY, PROFILE_PIPELINING, "data", FALSE, FALSE, TRUE },
  { "message", KIND_STREAM, PROFILE_PLAIN, "message", FALSE, FALSE, FALSE },
  { "final-reply", KIND_REPLY, PROFILE_PLAIN, "message", TRUE, FALSE, TRUE },
  { "quit", KIND_REPLY, PROFILE_PLAIN, "quit", FALSE, TRUE, TRUE },
  { "quit-tls", KIND_REPLY, PROFILE_IMPLICIT_TLS, "quit", FALSE, TRUE, TRUE },
  { NULL }
};

static const Stage nntp_stages[] = {
  { "connect", KIND_CONNECT, PROFILE_PLAIN, NULL, FALSE, FALSE, FALSE },
  { "greeting", KIND_REPLY, PROFILE_PLAIN, "greeting", FALSE, FALSE, FALSE },
  { "capabilities", KIND_REPLY, PROFILE_PLAIN, "capabilities", FALSE, FALSE, TRUE },
  { "starttls", KIND_REPLY, PROFILE_STARTTLS, "starttls", FALSE, FALSE, FALSE },
  { "tls-handshake", KIND_HANDSHAKE, PROFILE_STARTTLS, "tls-handshake", FALSE, FALSE, FALSE },
  { "implicit-tls", KIND_HANDSHAKE, PROFILE_IMPLICIT_TLS, "tls-handshake", FALSE, FALSE, FALSE },
  { "auth", KIND_REPLY, PROFILE_AUTH, "auth", FALSE, FALSE, FALSE },
  { "post", KIND_REPLY, PROFILE_PLAIN, "post", FALSE, FALSE, FALSE },
  { "message", KIND_STREAM, PROFILE_PLAIN, "message", FALSE, FALSE, FALSE },
  { "final-reply", KIND_REPLY, PROFILE_PLAIN, "message", TRUE, FALSE, FALSE },
  { "quit", KIND_REPLY, PROFILE_PLAIN, "quit", FALSE, TRUE, FALSE },
  { "quit-tls", KIND_REPLY, PROFILE_IMPLICIT_TLS, "quit", FALSE, TRUE, FALSE },
  { NULL }
};

/* Faults. */

typedef enum
{
  FAULT_NO_REPLY,     /* silence (a connect that never completes, a TLS
                       * handshake never answered) */
  FAULT_STALL_MID,    /* half a reply line, then silence */
  FAULT_DRIP,         /* the reply one byte at a time (or the message read
                       * a little at a time): only Tt can end it */
  FAULT_STOP_READING, /* the server never reads our message again */
  FAULT_RESET,        /* RST */
  FAULT_CLOSE_MID,    /* part of the reply, then FIN */
  FAULT_REFUSED,      /* nothing listens */
  FAULT_OVERLONG,     /* a reply line far over the cap */
  FAULT_ENDLESS,      /* continuation lines without end */
  FAULT_BAD_CODE,     /* a status code that is not one */
  FAULT_JUNK,         /* 8-bit junk instead of a reply */
  FAULT_OUT_OF_STEP,  /* the reply, then one nobody asked for */
  FAULT_PLAINTEXT,    /* a plaintext reply where the ServerHello belongs */
  FAULT_INJECTION,    /* STARTTLS: the go-ahead, then plaintext in a later
                       * segment, before the handshake */
  FAULT_EXPIRED,      /* a certificate that expired in 2020 */
  FAULT_DNS_ONLY,     /* a certificate for "localhost" only, while we
                       * connect to the IP literal 127.0.0.1 */
  FAULT_EARLY_REJECT, /* a 5xx in the middle of DATA, still reading */
  FAULT_EARLY_CLOSE,  /* a 5xx in the middle of DATA, then FIN */
} FaultId;

typedef struct
{
  const char *name;
  FaultId     id;
  gboolean    stalls; /* only a clock or a cancel can end it */
} Fault;

static const Fault faults[] = {
  { "no-reply", FAULT_NO_REPLY, TRUE },
  { "stall-mid-line", FAULT_STALL_MID, TRUE },
  { "slow-drip", FAULT_DRIP, TRUE },
  { "stop-reading", FAULT_STOP_READING, TRUE },
  { "reset", FAULT_RESET, FALSE },
  { "close-mid-reply", FAULT_CLOSE_MID, FALSE },
  { "refused", FAULT_REFUSED, FALSE },
  { "overlong-line", FAULT_OVERLONG, FALSE },
  { "endless-reply", FAULT_ENDLESS, FALSE },
  { "invalid-code", FAULT_BAD_CODE, FALSE },
  { "8bit-junk", FAULT_JUNK, FALSE },
  { "out-of-step", FAULT_OUT_OF_STEP, FALSE },
  { "plaintext", FAULT_PLAINTEXT, FALSE },
  { "injection-later", FAULT_INJECTION, FALSE },
  { "expired-certificate", FAULT_EXPIRED, FALSE },
  { "ip-vs-dns-certificate", FAULT_DNS_ONLY, FALSE },
  { "early-5xx", FAULT_EARLY_REJECT, FALSE },
  { "early-5xx-close", FAULT_EARLY_CLOSE, FALSE },
};

static gboolean
fault_is_certificate (const Fault *fault)
{
  return fault->id == FAULT_EXPIRED || fault->id == FAULT_DNS_ONLY;
}

static gboolean
fault_is_tls (const Fault *fault)
{
  return fault->id == FAULT_PLAINTEXT || fault->id == FAULT_INJECTION || fault->id == FAULT_EXPIRED ||
         fault->id == FAULT_DNS_ONLY;
}

static gboolean
fault_applies (const Stage *stage,
               const Fault *fault)
{
  switch (stage->kind)
    {
    case KIND_CONNECT:
      return fault->id == FAULT_NO_REPLY || fault->id == FAULT_REFUSED;
    case KIND_HANDSHAKE:
      /* A dripped ServerHello: only Tt can end it. */
      return fault->id == FAULT_NO_REPLY || fault->id == FAULT_RESET ||
             fault->id == FAULT_CLOSE_MID || fault->id == FAULT_DRIP ||
             (fault_is_tls (fault) && fault->id != FAULT_INJECTION);
    case KIND_STREAM:
      /* close-mid-reply here: a FIN while the server still reads DATA. */
      return fault->id == FAULT_STOP_READING || fault->id == FAULT_DRIP ||
             fault->id == FAULT_RESET || fault->id == FAULT_CLOSE_MID ||
             fault->id == FAULT_EARLY_REJECT || fault->id == FAULT_EARLY_CLOSE;
    case KIND_REPLY:
      if (fault->id == FAULT_EARLY_REJECT || fault->id == FAULT_EARLY_CLOSE)
        return FALSE;
      if (fault->id == FAULT_INJECTION)
        return g_str_equal (stage->name, "starttls");
      if (fault_is_tls (fault))
        return FALSE;
      switch (fault->id)
        {
        case FAULT_STOP_READING:
        case FAULT_REFUSED:
          return FALSE;
        case FAULT_ENDLESS:
          return stage->multiline;
        case FAULT_OUT_OF_STEP:
          /* After the final reply nothing is outstanding: extra data is
           * dropped with the kept connection (the idle check), not an
           * error of this send. */
          return !stage->after_dot && !stage->in_close;
        default:
          return TRUE;
        }
    default:
      g_assert_not_reached ();
    }
}

/* What a case expects. */

typedef enum
{
  EXPECT_TIMED_OUT_UNIT,  /* TIMED_OUT, within Ti of the fault */
  EXPECT_TIMED_OUT_TOTAL, /* TIMED_OUT, within Tt of the call */
  EXPECT_CLOSED,          /* CONNECTION_CLOSED / BROKEN_PIPE (or a TLS error) */
  EXPECT_REFUSED,
  EXPECT_PROTOCOL,
  EXPECT_CANCELLED,
  EXPECT_TLS,      /* a G_TLS_ERROR: the handshake failed */
  EXPECT_BAD_CERT, /* G_TLS_ERROR_BAD_CERTIFICATE */
  EXPECT_REJECTED, /* MSG_TRANSPORT_ERROR_MESSAGE_REJECTED */
} Expect;

typedef struct
{
  Proto        proto;
  const Stage *stage;
  const Fault *fault;
  MsgTestMode  mode;
} Case;

static Expect
case_expect (const Case *c)
{
  if (msg_test_mode_is_cancel (c->mode))
    return EXPECT_CANCELLED;
  switch (c->fault->id)
    {
    case FAULT_NO_REPLY:
    case FAULT_STALL_MID:
    case FAULT_STOP_READING:
      return EXPECT_TIMED_OUT_UNIT;
    case FAULT_DRIP:
      return EXPECT_TIMED_OUT_TOTAL;
    case FAULT_RESET:
    case FAULT_CLOSE_MID:
      return EXPECT_CLOSED;
    case FAULT_REFUSED:
      return EXPECT_REFUSED;
    case FAULT_PLAINTEXT:
    case FAULT_INJECTION:
      return EXPECT_TLS;
    case FAULT_EXPIRED:
    case FAULT_DNS_ONLY:
      return EXPECT_BAD_CERT;
    case FAULT_EARLY_REJECT:
    case FAULT_EARLY_CLOSE:
      return EXPECT_REJECTED;
    default:
      return EXPECT_PROTOCOL;
    }
}

/* Script text. */

static void
append_escaped (GString    *script,
                const char *text,
                gsize       length)
{
  for (gsize i = 0; i < length; i++)
    {
      guchar ch = (guchar) text[i];

      if (ch == '\r')
        g_string_append (script, "\\r");
      else if (ch == '\n')
        g_string_append (script, "\\n");
      else if (ch == '\\')
        g_string_append (script, "\\\\");
      else if (ch < 0x20 || ch >= 0x7f)
        g_string_append_printf (script, "\\x%02x", ch);
      else
        g_string_append_c (script, (char) ch);
    }
}

static void
append_send (GString    *script,
             const char *text,
             gsize       length)
{
  g_string_append (script, "send ");
  append_escaped (script, text, length);
  g_string_append_c (script, '\n');
}

static void
append_step_input (GString    *script,
                   const Step *step)
{
  if (step->expect != NULL)
    g_string_append_printf (script, "expect %s\n", step->expect);
  if (step->data)
    g_string_append (script, "data\n");
  if (step->tls)
    g_string_append (script, "starttls\n");
}

static void
append_step (GString    *script,
             const Step *step)
{
  append_step_input (script, step);
  if (step->reply != NULL)
    append_send (script, step->reply, strlen (step->reply));
}

static char *
healthy_script (Proto   proto,
                Profile profile)
{
  GString *script = g_string_new (NULL);

  for (const Step *step = profile_steps (proto, profile); step->name != NULL; step++)
    append_step (script, step);
  return g_string_free (script, FALSE);
}

/* The server's side of @fault in place of @reply. */
static void
append_reply_fault (GString     *script,
                    Proto        proto,
                    const Fault *fault,
                    const char  *reply)
{
  gsize       first_line = strcspn (reply, "\n") + 1;
  char        code[4] = { 0 };
  const char *cont = proto == PROTO_SMTP ? "-" : "";

  memcpy (code, reply, 3);
  g_string_append (script, "mark\n");
  switch (fault->id)
    {
    case FAULT_NO_REPLY:
      g_string_append (script, "stall\n");
      break;
    case FAULT_STALL_MID:
      append_send (script, reply, first_line / 2);
      g_string_append (script, "stall\n");
      break;
    case FAULT_DRIP:
      {
        /* Each byte comes long before Ti, the whole reply long after Tt. */
        gint64 interval = MAX (msg_test_ms_scaled (TOTAL_MS) / 4, 1);

        g_string_append_printf (script, "drip 1 %" G_GINT64_FORMAT " ", interval);
        append_escaped (script, reply, strlen (reply));
        g_string_append (script, "\nstall\n");
      }
      break;
    case FAULT_RESET:
      g_string_append (script, "reset\n");
      break;
    case FAULT_CLOSE_MID:
      /* A multi-line reply cut after its first line, or a line cut short. */
      append_send (script, reply, first_line < strlen (reply) ? first_line : first_line / 2);
      g_string_append (script, "close\n");
      break;
    case FAULT_OVERLONG:
      g_string_append_printf (script, "send %s \nrepeat 4096 xxxxxxxxxxxxxxxx\nline\nstall\n", code);
      break;
    case FAULT_ENDLESS:
      if (proto == PROTO_SMTP)
        g_string_append_printf (script, "repeat 0 %s-this reply never ends\\r\\n\n", code);
      else
        g_string_append_printf (script, "line %s list follows\nrepeat 0 X-ENDLESS this list never ends\\r\\n\n", code);
      break;
    case FAULT_BAD_CODE:
      g_string_append_printf (script, "line %cX%c%sthat is no status code\nstall\n", code[0], code[2], cont);
      break;
    case FAULT_JUNK:
      g_string_append (script, "send \\xff\\xfe\\x80\\x9b[2J\\xc3\\x28 junk \\x00\\x01\\r\\n\nstall\n");
      break;
    case FAULT_INJECTION:
      /* The go-ahead alone, then (a separate write, a little later, when
       * we already wait for the ServerHello) a reply that an attacker
       * would have us read after the handshake. */
      append_send (script, reply, strlen (reply));
      g_string_append_printf (script, "sleep %" G_GINT64_FORMAT "\n", MAX (msg_test_ms_scaled (50), 1));
      g_string_append_printf (script, "line %s injected reply\nstall\n",
                              proto == PROTO_SMTP ? "250" : "200");
      break;
    case FAULT_OUT_OF_STEP:
      {
        g_autofree char *both = g_strdup_printf ("%s%s this reply was not asked for\r\n", reply, code);

        append_send (script, both, strlen (both));
        g_string_append (script, "stall\n");
      }
      break;
    default:
      g_assert_not_reached ();
    }
}

/* A ServerHello of TLS 1.2 (record, handshake header, version and the
 * start of the server random), for dripping. */
#define SERVER_HELLO_12 "\\x16\\x03\\x03\\x00\\x7a\\x02\\x00\\x00\\x76\\x03\\x03" \
                        "\\x5e\\x11\\x22\\x33\\x44\\x55\\x66\\x77\\x88\\x99\\xaa\\xbb"

/* The server's side of a faulty TLS handshake. */
static void
append_handshake_fault (GString    *script,
                        const Case *c)
{
  if (fault_is_certificate (c->fault))
    {
      /* A real handshake with a certificate the client must refuse. The
       * fault is the refusal, marked when the server sees it: a full
       * handshake takes seconds under valgrind. */
      g_string_append (script, "tls-attempt\nmark\nwait-close\n");
      return;
    }
  g_string_append (script, "mark\n");
  switch (c->fault->id)
    {
    case FAULT_NO_REPLY:
      g_string_append (script, "tls-stall\n");
      break;
    case FAULT_RESET:
      g_string_append (script, "reset\n");
      break;
    case FAULT_CLOSE_MID:
      g_string_append (script, "close\n");
      break;
    case FAULT_DRIP:
      /* Each byte long before Ti, the ServerHello never complete. */
      g_string_append_printf (script, "drip 1 %" G_GINT64_FORMAT " " SERVER_HELLO_12 "\nstall\n",
                              MAX (msg_test_ms_scaled (TOTAL_MS) / 4, 1));
      break;
    case FAULT_PLAINTEXT:
      /* A server that skipped TLS: its greeting, in the clear. */
      g_string_append_printf (script, "line %s\nstall\n",
                              c->proto == PROTO_SMTP ? "220 test.invalid ESMTP ready" : "200 news.test.invalid ready");
      break;
    default:
      g_assert_not_reached ();
    }
}

static char *
fault_script (const Case *c)
{
  GString *script = g_string_new (NULL);

  for (const Step *step = profile_steps (c->proto, c->stage->profile); step->name != NULL; step++)
    {
      if (!g_str_equal (step->name, c->stage->step))
        {
          append_step (script, step);
          continue;
        }
      switch (c->stage->kind)
        {
        case KIND_REPLY:
          append_step_input (script, step);
          append_reply_fault (script, c->proto, c->fault, step->reply);
          break;
        case KIND_HANDSHAKE:
          append_handshake_fault (script, c);
          break;
        case KIND_STREAM:
          if (c->fault->id == FAULT_STOP_READING)
            g_string_append (script, "mark\nstop-reading\n");
          else if (c->fault->id == FAULT_CLOSE_MID)
            g_string_append (script, "small-rcvbuf\nread 20\nmark\nclose\n");
          else if (c->fault->id == FAULT_EARLY_REJECT || c->fault->id == FAULT_EARLY_CLOSE)
            /* Before the final dot, against RFC 5321 4.3.2 but seen in
             * the wild; then it drains what comes (or closes and does). */
            g_string_append_printf (script, "small-rcvbuf\nread 20\nmark\nline %s\n%s\n",
                                    c->proto == PROTO_SMTP ? "554 5.7.1 Rejected in the middle of DATA"
                                                           : "441 Posting failed in the middle of the article",
                                    c->fault->id == FAULT_EARLY_CLOSE ? "close" : "wait-close");
          else if (c->fault->id == FAULT_DRIP)
            g_string_append_printf (script, "mark\nread-slowly 2048 %" G_GINT64_FORMAT "\n",
                                    MAX (msg_test_ms_scaled (TOTAL_MS) / 10, 1));
          else
            g_string_append (script, "small-rcvbuf\nread 20\nmark\nreset\n");
          break;
        default:
          g_assert_not_reached ();
        }
      break;
    }
  return g_string_free (script, FALSE);
}

/* TLS material, made once. */

static GTlsCertificate *tls_certificate;
static char            *tls_ca_file;

static void
ensure_tls (void)
{
  if (tls_certificate == NULL)
    tls_certificate = msg_test_make_tls_certificate (NULL, &tls_ca_file);
}

/* The certificate (and its CA file) a case's server shows: a bad one
 * for the certificate faults, else the good one. */
static GTlsCertificate *expired_certificate;
static char            *expired_ca_file;
static GTlsCertificate *dns_only_certificate;
static char            *dns_only_ca_file;

/* A certificate for 127.0.0.1 and localhost, signed by a CA of its own,
 * valid for one day in January 2020. OpenSSL 3.0's "x509" has no way to
 * set dates in the past; "ca" has. */
static GTlsCertificate *
make_expired_certificate (char **ca_file)
{
  const char *base = g_getenv ("G_TEST_TMPDIR");
  g_autofree char *template = g_build_filename (base != NULL ? base : g_get_tmp_dir (), "msgobj-expired-XXXXXX", NULL);
  char *dir = g_mkdtemp (template);
  g_autoptr (GError) error = NULL;
  g_autofree char  *cert_path = NULL;
  g_autofree char  *key_path = NULL;
  GTlsCertificate  *certificate;
  const char *const files[][2] = {
    { "server.ext", "basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n"
                    "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n" },
    { "ca.cnf", "[ca]\ndefault_ca=d\n[d]\ndatabase=index.txt\nserial=serial\nnew_certs_dir=.\n"
                "default_md=sha256\npolicy=p\n[p]\ncommonName=supplied\n" },
    { "index.txt", "" },
    { "serial", "01\n" },
  };
  const char *const ca_args[] = {
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "ca.key",
    "-out", "ca.pem", "-days", "2", "-subj", "/CN=msgobj expired test CA",
    "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign", NULL
  };
  const char *const csr_args[] = {
    "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "server.key",
    "-out", "server.csr", "-subj", "/CN=msgobj expired test server", NULL
  };
  const char *const sign_args[] = {
    "ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-in", "server.csr",
    "-out", "server.pem", "-startdate", "20200101000000Z", "-enddate", "20200102000000Z",
    "-extfile", "server.ext", "-notext", NULL
  };

  g_assert_nonnull (dir);
  for (gsize i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *path = g_build_filename (dir, files[i][0], NULL);

      g_file_set_contents (path, files[i][1], -1, &error);
      g_assert_no_error (error);
    }
  msg_test_run_openssl (dir, ca_args);
  msg_test_run_openssl (dir, csr_args);
  msg_test_run_openssl (dir, sign_args);
  cert_path = g_build_filename (dir, "server.pem", NULL);
  key_path = g_build_filename (dir, "server.key", NULL);
  certificate = g_tls_certificate_new_from_files (cert_path, key_path, &error);
  g_assert_no_error (error);
  *ca_file = g_build_filename (dir, "ca.pem", NULL);
  return certificate;
}

static GTlsCertificate *
fault_certificate (const Fault *fault,
                   const char **ca_file)
{
  static const char *const dns_only[] = { "localhost", NULL };

  ensure_tls ();
  switch (fault->id)
    {
    case FAULT_EXPIRED:
      if (expired_certificate == NULL)
        expired_certificate = make_expired_certificate (&expired_ca_file);
      *ca_file = expired_ca_file;
      return expired_certificate;
    case FAULT_DNS_ONLY:
      if (dns_only_certificate == NULL)
        dns_only_certificate = msg_test_make_tls_certificate (dns_only, &dns_only_ca_file);
      *ca_file = dns_only_ca_file;
      return dns_only_certificate;
    default:
      *ca_file = tls_ca_file;
      return tls_certificate;
    }
}

/* Configuration and messages. */

/* @unit_ms and @total_ms: the clocks (total 0: automatic). */
static MsgConfiguration *
make_configuration (Proto   proto,
                    Profile profile,
                    guint16 port,
                    double  unit_ms,
                    double  total_ms)
{
  const char       *p = proto_names[proto];
  MsgConfiguration *configuration = msg_test_fault_configuration_new (p, "127.0.0.1", port, unit_ms, total_ms);
  g_autofree char  *starttls = g_strdup_printf ("%sstarttls", p);

  msg_test_config_set (configuration, starttls, profile == PROFILE_STARTTLS ? "required" : "never");
  if (profile == PROFILE_IMPLICIT_TLS)
    {
      g_autofree char *usessl = g_strdup_printf ("%susessl", p);

      msg_test_config_set (configuration, usessl, "true");
    }
  if (profile_uses_tls (profile))
    {
      ensure_tls ();
      msg_test_config_set (configuration, "tlscafile", tls_ca_file);
    }
  if (profile == PROFILE_AUTH)
    {
      if (proto == PROTO_SMTP)
        {
          msg_test_config_set (configuration, "smtpauthenticate", "1");
          msg_test_config_set (configuration, "sendusername", "alice");
          msg_test_config_set (configuration, "sendpassword", "secret");
          msg_test_config_set (configuration, "smtpallowplaintextauth", "true");
          /* Without TLS PLAIN is used only when named (issue 14, item 8). */
          msg_test_config_set (configuration, "smtpauthmechanisms", "PLAIN");
        }
      else
        {
          msg_test_config_set (configuration, "nntpauthenticate", "1");
          msg_test_config_set (configuration, "postusername", "alice");
          msg_test_config_set (configuration, "postpassword", "secret");
          msg_test_config_set (configuration, "nntpallowplaintextauth", "true");
        }
    }
  return configuration;
}

static MsgMessage *
make_message (gsize body_size)
{
  g_autoptr (GString) body = NULL;

  if (body_size == 0)
    return msg_test_fault_message_new ("Fault matrix", "test.faults", NULL);
  body = g_string_sized_new (body_size + 80);
  while (body->len < body_size)
    g_string_append (body, "The quick brown fox jumps over the lazy dog, again and again.\n");
  return msg_test_fault_message_new ("Fault matrix", "test.faults", body->str);
}

/* A healthy send (or post) on @transport, synchronously. */
static void
assert_send_ok (MsgTransport *transport,
                Proto         proto)
{
  g_autoptr (MsgMessage) message = make_message (0);

  msg_test_fault_assert_sent (transport, message, proto == PROTO_NNTP);
}

/* A healthy send, then the close: @server sees it. */
static void
assert_send_and_close (MsgTransport  *transport,
                       Proto          proto,
                       MsgTestServer *server)
{
  g_autoptr (GError) error = NULL;

  assert_send_ok (transport, proto);
  g_assert_true (msg_transport_close (transport, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (msg_test_server_wait_closed (server, (unsigned) msg_test_ms_scaled (LONG_MS)));
}

static void
assert_server_ok (MsgTestServer *server)
{
  g_autofree char *error = msg_test_server_get_error (server);

  g_assert_null (error);
}

/* Calibration: see the comment at the top. */

/* The slowest of three loopback TLS handshakes (client and server in this
 * process), in ms. */
static gint64 handshake_ms;
/* The slower of a healthy send of the big message over SMTP and its post
 * over NNTP, in ms. */
static gint64 big_send_ms;
/* How many bytes a client writes to a server that stops reading before
 * its writes block (the socket buffers). */
static gsize buffered_bytes;

static void
calibrate_handshake (void)
{
  ensure_tls ();
  for (unsigned i = 0; i < 3; i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (MsgTestServer) server = msg_test_server_new ("starttls\nline 220 ready\n");
      g_autoptr (MsgConnection) connection = msg_connection_new ("127.0.0.1", msg_test_server_get_port (server));
      g_autoptr (MsgReply) reply = NULL;
      gint64 start = g_get_monotonic_time ();

      msg_test_server_set_tls (server, tls_certificate);
      msg_connection_set_tls_ca_file (connection, tls_ca_file);
      msg_connection_set_timeout (connection, (double) msg_test_ms_scaled (LONG_MS) / 1000);
      msg_connection_connect (connection, TRUE, NULL, &error);
      g_assert_no_error (error);
      handshake_ms = MAX (handshake_ms, (g_get_monotonic_time () - start) / 1000);
      reply = msg_connection_read_reply (connection, MSG_REPLY_STYLE_SMTP, NULL, &error);
      g_assert_no_error (error);
      msg_connection_abort (connection);
      g_assert_true (msg_test_server_wait_closed (server, (unsigned) msg_test_ms_scaled (LONG_MS)));
    }
}

static void
calibrate_big_send (void)
{
  for (Proto proto = PROTO_SMTP; proto <= PROTO_NNTP; proto++)
    {
      g_autofree char *good = healthy_script (proto, PROFILE_PLAIN);
      g_autoptr (MsgTestServer) server = msg_test_server_new (good);
      g_autoptr (MsgConfiguration) configuration =
          make_configuration (proto, PROFILE_PLAIN, msg_test_server_get_port (server), LONG_MS, 0);
      g_autoptr (MsgTransport) transport = msg_transport_new_for_name (proto_names[proto], configuration, NULL);
      g_autoptr (MsgMessage) message = make_message (BIG_MESSAGE);
      g_autoptr (MsgSendReport) report = NULL;
      g_autoptr (GError) error = NULL;
      gint64 start = g_get_monotonic_time ();

      if (proto == PROTO_NNTP)
        report = msg_transport_post_message (transport, message, NULL, &error);
      else
        report = msg_transport_send_message (transport, message, NULL, &error);
      g_assert_no_error (error);
      big_send_ms = MAX (big_send_ms, (g_get_monotonic_time () - start) / 1000);
      g_assert_true (msg_transport_close (transport, NULL, &error));
      g_assert_no_error (error);
      g_assert_true (msg_test_server_wait_closed (server, (unsigned) msg_test_ms_scaled (LONG_MS)));
    }
}

static void
calibrate_buffers (void)
{
  g_autoptr (MsgTestServer) server = msg_test_server_new ("stop-reading\n");
  g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, msg_test_server_get_port (server));
  g_autoptr (GSocket) socket = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *chunk = g_malloc0 (64 * 1024);

  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_connect (socket, address, NULL, &error));
  g_assert_no_error (error);
  g_socket_set_blocking (socket, FALSE);
  /* Full when nothing more goes in for 100 ms. */
  for (unsigned idle = 0; idle < 20;)
    {
      gssize n = g_socket_send (socket, chunk, 64 * 1024, NULL, NULL);

      if (n > 0)
        {
          buffered_bytes += (gsize) n;
          idle = 0;
        }
      else
        {
          idle++;
          g_usleep (5000);
        }
    }
  /* A reset: a FIN would wait behind the data the server never reads. */
  g_assert_cmpint (setsockopt (g_socket_get_fd (socket), SOL_SOCKET, SO_LINGER, &(struct linger){ 1, 0 },
                               sizeof (struct linger)),
                   ==, 0);
  g_socket_close (socket, NULL);
  g_assert_true (msg_test_server_wait_closed (server, (unsigned) msg_test_ms_scaled (LONG_MS)));
}

/* What a case of @stage allows on top of ε (see the comment at the top). */
static gint64
stage_allowance (const Stage *stage)
{
  switch (stage->kind)
    {
    case KIND_HANDSHAKE:
      return 2 * handshake_ms;
    case KIND_STREAM:
      return (gint64) ((double) big_send_ms * MIN (1.0, (double) buffered_bytes / BIG_MESSAGE));
    default:
      return 0;
    }
}

static void
assert_error (const Case       *c,
              const MsgTestRun *run)
{
  Expect        expect = case_expect (c);
  const GError *error = run->error;

  g_assert_false (run->ok);
  g_assert_nonnull (error);
  g_test_message ("error: %s", error->message);

  if (c->stage->after_dot)
    {
      /* The server may have the message: any failure is "unknown". */
      g_assert_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_OUTCOME_UNKNOWN);
      return;
    }
  switch (expect)
    {
    case EXPECT_TIMED_OUT_UNIT:
    case EXPECT_TIMED_OUT_TOTAL:
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
      break;
    case EXPECT_CLOSED:
      if (c->stage->kind == KIND_HANDSHAKE && error->domain == G_TLS_ERROR)
        break;
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED);
      break;
    case EXPECT_REFUSED:
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
      break;
    case EXPECT_PROTOCOL:
      g_assert_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_PROTOCOL);
      break;
    case EXPECT_CANCELLED:
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
      break;
    case EXPECT_TLS:
      g_assert_true (error->domain == G_TLS_ERROR);
      break;
    case EXPECT_BAD_CERT:
      g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
      break;
    case EXPECT_REJECTED:
      g_assert_error (error, MSG_TRANSPORT_ERROR, MSG_TRANSPORT_ERROR_MESSAGE_REJECTED);
      g_assert_nonnull (strstr (error->message, c->proto == PROTO_SMTP ? "554 5.7.1" : "441 "));
      break;
    default:
      g_assert_not_reached ();
    }
}

/* Elapsed-time assertions: every bound is "limit + ε". */
static void
assert_timing (const Case       *c,
               const MsgTestRun *run,
               MsgTestServer    *server)
{
  Expect expect = case_expect (c);
  gint64 slack = msg_test_ms_scaled (SLACK_MS) + stage_allowance (c->stage);
  gint64 unit = msg_test_ms_scaled (UNIT_MS);
  gint64 total = msg_test_ms_scaled (TOTAL_MS);
  gint64 from_call = (run->end - run->start) / 1000;
  gint64 fault_time = server != NULL && msg_test_server_get_mark_time (server) > 0
                          ? msg_test_server_get_mark_time (server)
                          : run->start;
  gint64 from_fault = (run->end - fault_time) / 1000;

  g_test_message ("elapsed %" G_GINT64_FORMAT " ms from the call, %" G_GINT64_FORMAT " ms from the fault",
                  from_call, from_fault);
  switch (expect)
    {
    case EXPECT_TIMED_OUT_UNIT:
      /* The unit clock starts when the command was sent: after the call,
       * before the server saw it. */
      g_assert_cmpint (from_call, >=, unit);
      assert_within ("fault to end", from_fault, unit + slack);
      break;
    case EXPECT_TIMED_OUT_TOTAL:
      g_assert_cmpint (from_call, >=, total);
      assert_within ("call to end", from_call, total + slack);
      break;
    case EXPECT_CANCELLED:
      g_assert_cmpint (run->cancelled_at, >, 0);
      assert_within ("cancel to end", (run->end - run->cancelled_at) / 1000, slack);
      break;
    default:
      /* Immediate faults: certainly never a clock's wait. */
      assert_within ("fault to end", from_fault, unit + slack);
    }
}

static void
test_matrix_case (gconstpointer data)
{
  const Case *c = data;
  g_autoptr (MsgTestServer) server = NULL;
  g_autoptr (MsgTestServer) healthy = NULL;
  g_autoptr (MsgConfiguration) configuration = NULL;
  g_autoptr (MsgTransport) transport = NULL;
  g_autoptr (MsgMessage) message = NULL;
  g_autoptr (GError) error = NULL;
  g_autoptr (GSocket) refuser = NULL;
  g_autofree char *script = NULL;
  g_autofree char *good = healthy_script (c->proto, c->stage->profile);
  Expect           expect = case_expect (c);
  double           unit_ms = UNIT_MS;
  double           total_ms = 0;
  unsigned         base_fds = msg_test_count_fds ();
  unsigned         base_sockets;
  guint16          port;
  const char      *ca_file = NULL;
  MsgTestRun       run = { 0 };

  /* The clock under test is short; the others cannot be what fires.
   * QUIT has no total deadline of its own: the unit clock ends a drip. */
  if (msg_test_mode_is_cancel (c->mode) || fault_is_certificate (c->fault))
    unit_ms = LONG_MS;
  else if (expect == EXPECT_TIMED_OUT_TOTAL && !c->stage->in_close)
    {
      unit_ms = LONG_MS;
      total_ms = TOTAL_MS;
    }

  if (c->stage->kind == KIND_CONNECT)
    {
      healthy = msg_test_server_new (good);
      if (c->fault->id == FAULT_REFUSED)
        {
          /* Bound but not listening: connect() is refused. */
          g_autoptr (GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
          g_autoptr (GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
          g_autoptr (GSocketAddress) bound = NULL;

          refuser = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
          g_assert_no_error (error);
          g_assert_true (g_socket_bind (refuser, address, FALSE, &error));
          bound = g_socket_get_local_address (refuser, &error);
          g_assert_no_error (error);
          port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
        }
      else
        {
          server = msg_test_server_new_no_accept ();
          port = msg_test_server_get_port (server);
        }
    }
  else
    {
      const char *scripts[3] = { NULL, good, NULL };

      script = fault_script (c);
      scripts[0] = script;
      g_test_message ("fault script:\n%s", script);
      server = msg_test_server_new_multi (scripts);
      if (profile_uses_tls (c->stage->profile))
        msg_test_server_set_tls (server, fault_certificate (c->fault, &ca_file));
      port = msg_test_server_get_port (server);
    }

  configuration = make_configuration (c->proto, c->stage->profile, port, unit_ms, total_ms);
  if (ca_file != NULL)
    msg_test_config_set (configuration, "tlscafile", ca_file);
  transport = msg_test_fault_transport_new (proto_names[c->proto], configuration);
  message = make_message (c->stage->kind == KIND_STREAM ? BIG_MESSAGE : 0);

  if (c->stage->in_close)
    {
      /* The kept connection is made under long clocks (under valgrind
       * on a loaded machine its TLS handshake took more than the
       * fault's 2.4 s); the close then runs under the fault's, which
       * the close reads from the configuration at its call. */
      g_autoptr (MsgConfiguration) opening = msg_configuration_copy (configuration);
      g_autofree char *unit = msg_test_seconds_text (LONG_MS);
      g_autofree char *field = g_strdup_printf ("%sconnectiontimeout", proto_names[c->proto]);

      msg_test_config_set (opening, field, unit);
      msg_transport_set_configuration (transport, opening);
      assert_send_ok (transport, c->proto);
      msg_transport_set_configuration (transport, configuration);
    }

  /* A kept connection is two sockets here: ours and the server's. */
  base_sockets = msg_test_count_sockets () - (c->stage->in_close ? 2 : 0);
  run.transport = transport;
  run.message = message;
  run.op = c->stage->in_close ? MSG_TEST_OP_CLOSE : c->proto == PROTO_NNTP ? MSG_TEST_OP_POST
                                                                           : MSG_TEST_OP_SEND;
  run.mode = c->mode;
  run.server = c->stage->kind == KIND_CONNECT ? NULL : server;
  run.sockets = msg_test_count_sockets ();
  msg_test_run_call (&run);

  /* The right error, in time. */
  if (c->stage->in_close)
    {
      /* QUIT is a courtesy: close may report the fault or not, but it
       * returns in time and closes regardless. */
      if (!run.ok)
        g_test_message ("close: %s", run.error->message);
      if (msg_test_mode_is_cancel (c->mode))
        {
          g_assert_true (run.trigger_seen);
          assert_within ("cancel to end", (run.end - run.cancelled_at) / 1000, msg_test_ms_scaled (SLACK_MS));
        }
      else
        assert_within ("fault to end", (run.end - msg_test_server_get_mark_time (server)) / 1000,
                       msg_test_ms_scaled (UNIT_MS + SLACK_MS));
    }
  else
    {
      assert_error (c, &run);
      /* The message names the server (a cancel's may not). */
      if (!msg_test_mode_is_cancel (c->mode))
        {
          g_autofree char *where = g_strdup_printf ("127.0.0.1:%u", port);

          g_assert_nonnull (strstr (run.error->message, where));
        }
      if (msg_test_mode_is_cancel (c->mode))
        g_assert_true (run.trigger_seen);
      else if (fault_is_certificate (c->fault))
        {
          /* Refused by the certificate, not ended by a clock; the server
           * marks the refusal when it reads the client's alert. */
          g_assert_cmpint ((run.end - run.start) / 1000, <, msg_test_ms_scaled (LONG_MS));
          g_assert_true (msg_test_server_wait_mark (server, 1, (unsigned) msg_test_ms_scaled (SLACK_MS)));
        }
      else if (server != NULL && c->stage->kind != KIND_CONNECT)
        g_assert_true (msg_test_server_wait_mark (server, 1, 0));
      assert_timing (c, &run, c->stage->kind == KIND_CONNECT ? NULL : server);
    }
  /* The library never resets the caller's cancellable. */
  if (msg_test_mode_is_cancel (c->mode))
    g_assert_true (g_cancellable_is_cancelled (run.cancellable));

  /* Nothing the caller did not mean: no message data unless the server
   * asked for it (the fault came before the 354/340). */
  if (server != NULL && c->stage->kind == KIND_REPLY && !c->stage->after_dot && !c->stage->in_close)
    {
      g_autoptr (GBytes) received = msg_test_server_get_received (server, 0);
      gsize            size = g_bytes_get_size (received);
      g_autofree char *text = g_strndup (size > 0 ? g_bytes_get_data (received, NULL) : "", size);

      g_assert_null (strstr (text, "A small message."));
    }

  /* The server saw the close by the time the call returned, and our
   * socket is gone. */
  if (server != NULL)
    g_assert_true (msg_test_server_wait_closed (server, (unsigned) msg_test_ms_scaled (SLACK_MS)));
  g_assert_cmpuint (msg_test_wait_sockets (base_sockets, msg_test_ms_scaled (SLACK_MS)), ==, base_sockets);
  if (server != NULL)
    assert_server_ok (server);

  /* The same transport sends the next message: on a new connection to
   * the same server, or after a connect fault to a healthy one. */
  {
    g_autoptr (MsgConfiguration) next = msg_configuration_copy (configuration);
    g_autofree char *unit = msg_test_seconds_text (LONG_MS);
    g_autofree char *field = g_strdup_printf ("%sconnectiontimeout", proto_names[c->proto]);

    /* The clocks of the fault are too short for a healthy dialogue on a
     * slow run (a TLS handshake under valgrind takes seconds). */
    msg_test_config_set (next, field, unit);
    g_free (field);
    field = g_strdup_printf ("%soperationtimeout", proto_names[c->proto]);
    msg_test_config_set (next, field, "0");
    if (ca_file != NULL)
      {
        /* The second connection shows the good certificate. */
        msg_test_server_set_tls (server, tls_certificate);
        msg_test_config_set (next, "tlscafile", tls_ca_file);
      }
    if (healthy != NULL)
      {
        g_autofree char *healthy_port = g_strdup_printf ("%u", msg_test_server_get_port (healthy));

        g_free (field);
        field = g_strdup_printf ("%sserverport", proto_names[c->proto]);
        msg_test_config_set (next, field, healthy_port);
      }
    msg_transport_set_configuration (transport, next);
  }
  assert_send_ok (transport, c->proto);
  g_assert_true (msg_transport_close (transport, NULL, &error));
  g_assert_no_error (error);
  if (healthy != NULL)
    {
      g_assert_cmpuint (msg_test_server_get_n_connections (healthy), ==, 1);
      g_assert_true (msg_test_server_wait_closed (healthy, (unsigned) msg_test_ms_scaled (LONG_MS)));
      assert_server_ok (healthy);
    }
  else
    {
      g_assert_cmpuint (msg_test_server_get_n_connections (server), ==, 2);
      g_assert_true (msg_test_server_wait_closed (server, (unsigned) msg_test_ms_scaled (1000)));
      assert_server_ok (server);
    }

  /* Nothing leaks: every descriptor is back once the objects are gone. */
  msg_test_run_clear (&run);
  g_clear_object (&transport);
  g_clear_pointer (&server, msg_test_server_free);
  g_clear_pointer (&healthy, msg_test_server_free);
  if (refuser != NULL)
    g_socket_close (refuser, NULL);
  g_clear_object (&refuser);
  g_assert_cmpuint (msg_test_wait_fds (base_fds, (unsigned) msg_test_ms_scaled (1000)), ==, base_fds);
}

/* Many at once: 32 async sends stalled together; half are cancelled, half
 * time out; all within their bound, with no leak. */

#define N_MANY 32

typedef struct
{
  MsgTestServer *server;
  MsgTransport  *transport;
  MsgMessage    *message; /* one each: a message is sent by one operation at a time */
  GCancellable  *cancellable;
  GError        *error;
  gint64         start;
  gint64         end;
  unsigned      *pending;
  Proto          proto;
} Many;

static void
many_done (GObject      *source,
           GAsyncResult *result,
           gpointer      data)
{
  Many *m = data;
  g_autoptr (MsgSendReport) report = NULL;

  m->end = g_get_monotonic_time ();
  if (m->proto == PROTO_NNTP)
    report = msg_transport_post_message_finish (MSG_TRANSPORT (source), result, &m->error);
  else
    report = msg_transport_send_message_finish (MSG_TRANSPORT (source), result, &m->error);
  g_assert_null (report);
  (*m->pending)--;
}

typedef struct
{
  Many    *many;
  gint64   cancelled_at;
  gboolean all_marked;
} ManyCanceller;

static gpointer
many_cancel_thread (gpointer data)
{
  ManyCanceller *mc = data;

  mc->all_marked = TRUE;
  for (unsigned i = 0; i < N_MANY; i++)
    mc->all_marked &= msg_test_server_wait_mark (mc->many[i].server, 1, (unsigned) msg_test_ms_scaled (LONG_MS));
  mc->cancelled_at = g_get_monotonic_time ();
  for (unsigned i = 1; i < N_MANY; i += 2)
    g_cancellable_cancel (mc->many[i].cancellable);
  return NULL;
}

static void
test_many_at_once (gconstpointer data)
{
  Proto proto = GPOINTER_TO_INT (data);
  g_autoptr (GMainContext) context = g_main_context_new ();
  g_autofree char *good = healthy_script (proto, PROFILE_PLAIN);
  Many             many[N_MANY] = { 0 };
  unsigned         base_fds = msg_test_count_fds ();
  unsigned         base_sockets;
  unsigned         pending = N_MANY;
  gint64           cancelled_at;
  gint64           slack = msg_test_ms_scaled (SLACK_MS);
  /* The callbacks run one after the other in this thread, and each is
   * timed when it runs: 5 ms each, on top of two ε for 64 threads (32
   * sends, 32 servers) on a loaded machine. */
  gint64 allowance = 2 * slack + msg_test_ms_scaled (5 * N_MANY);

  g_test_summary ("32 async sends stalled at once all end within their bound (time-out or cancel), "
                  "close their sockets and leave every transport usable.");
  g_main_context_push_thread_default (context);
  for (unsigned i = 0; i < N_MANY; i++)
    {
      /* Stalled at the greeting: the connections stay open together. */
      const char *scripts[] = { "mark\nstall\n", good, NULL };
      g_autoptr (MsgConfiguration) configuration = NULL;
      g_autoptr (GError) error = NULL;

      many[i].server = msg_test_server_new_multi (scripts);
      /* Even: time out (Ti); odd: cancelled (Ti long). */
      configuration = make_configuration (proto, PROFILE_PLAIN, msg_test_server_get_port (many[i].server),
                                          i % 2 == 0 ? UNIT_MS : LONG_MS, 0);
      many[i].transport = msg_test_fault_transport_new (proto_names[proto], configuration);
      many[i].message = make_message (0);
      many[i].cancellable = g_cancellable_new ();
      many[i].pending = &pending;
      many[i].proto = proto;
    }
  base_sockets = msg_test_count_sockets ();

  for (unsigned i = 0; i < N_MANY; i++)
    {
      many[i].start = g_get_monotonic_time ();
      if (proto == PROTO_NNTP)
        msg_transport_post_message_async (many[i].transport, many[i].message, many[i].cancellable, many_done, &many[i]);
      else
        msg_transport_send_message_async (many[i].transport, many[i].message, many[i].cancellable, many_done, &many[i]);
    }
  /* The main loop keeps running (callbacks are timed when they run);
   * another thread cancels the odd ones once all 32 are stalled. */
  {
    ManyCanceller mc = { many, 0, FALSE };
    GThread      *thread = g_thread_new ("canceller", many_cancel_thread, &mc);

    while (pending > 0)
      g_main_context_iteration (context, TRUE);
    g_thread_join (thread);
    g_assert_true (mc.all_marked);
    cancelled_at = mc.cancelled_at;
  }

  for (unsigned i = 0; i < N_MANY; i++)
    {
      if (i % 2 == 0)
        {
          g_assert_error (many[i].error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
          assert_within ("fault to end", (many[i].end - msg_test_server_get_mark_time (many[i].server)) / 1000,
                         msg_test_ms_scaled (UNIT_MS) + allowance);
        }
      else
        {
          g_assert_error (many[i].error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
          assert_within ("cancel to end", (many[i].end - cancelled_at) / 1000, allowance);
        }
      g_assert_true (msg_test_server_wait_closed (many[i].server, (unsigned) allowance));
    }
  g_assert_cmpuint (msg_test_wait_sockets (base_sockets, allowance), ==, base_sockets);

  for (unsigned i = 0; i < N_MANY; i++)
    {
      g_autoptr (GError) error = NULL;

      assert_send_ok (many[i].transport, proto);
      g_assert_true (msg_transport_close (many[i].transport, NULL, &error));
      g_assert_no_error (error);
      g_assert_true (msg_test_server_wait_closed (many[i].server, (unsigned) msg_test_ms_scaled (1000)));
      g_assert_cmpuint (msg_test_server_get_n_connections (many[i].server), ==, 2);
      assert_server_ok (many[i].server);
      g_clear_error (&many[i].error);
      g_clear_object (&many[i].cancellable);
      g_clear_object (&many[i].transport);
      g_clear_object (&many[i].message);
      g_clear_pointer (&many[i].server, msg_test_server_free);
    }
  g_main_context_pop_thread_default (context);
  g_assert_cmpuint (msg_test_wait_fds (base_fds, (unsigned) msg_test_ms_scaled (1000)), ==, base_fds);
}

/* A server that offers only TLS 1.0 (RFC 8996: TLS 1.0 and 1.1 MUST NOT
 * be negotiated). glib-networking reads its GnuTLS priority
 * (G_TLS_GNUTLS_PRIORITY) once per process, for client and server alike,
 * so the server runs in a child process of this test, with the priority
 * "NORMAL:-VERS-ALL:+VERS-TLS1.0": the client keeps its defaults. */

#define TLS10_PRIORITY "NORMAL:-VERS-ALL:+VERS-TLS1.0"

/* The child: `test-faults --tls10-server CERT KEY`. Prints the port, then
 * once the client has closed the connection "closed accepted" if the
 * client completed the TLS 1.0 handshake (it sent EHLO through it), else
 * "closed refused". */
static int
tls10_server_main (const char *cert_path,
                   const char *key_path)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GTlsCertificate) certificate = g_tls_certificate_new_from_files (cert_path, key_path, &error);
  g_autoptr (MsgTestServer) server = NULL;

  g_assert_no_error (error);
  /* A client that accepted TLS 1.0 reads the greeting and sends EHLO,
   * which the server reads before its FIN. */
  server = msg_test_server_new ("tls-attempt\nline 220 test.invalid ESMTP ready\nexpect EHLO\nclose\n");
  msg_test_server_set_tls (server, certificate);
  g_print ("%u\n", msg_test_server_get_port (server));
  fflush (stdout);
  while (msg_test_server_get_n_connections (server) == 0)
    g_usleep (1000);
  if (msg_test_server_wait_closed (server, 60000))
    {
      g_autoptr (GBytes) received = msg_test_server_get_received (server, 0);
      gsize            size = g_bytes_get_size (received);
      g_autofree char *text = g_strndup (size > 0 ? g_bytes_get_data (received, NULL) : "", size);

      g_print ("closed %s\n", strstr (text, "EHLO") != NULL ? "accepted" : "refused");
    }
  fflush (stdout);
  /* Until the test closes our standard input. */
  while (getchar () != EOF)
    ;
  return 0;
}

static char *
read_child_line (int    fd,
                 gint64 timeout_ms)
{
  GString *line = g_string_new (NULL);
  gint64   until = g_get_monotonic_time () + timeout_ms * 1000;
  char     ch;

  for (;;)
    {
      struct pollfd pfd = { fd, POLLIN, 0 };
      gint64        left = (until - g_get_monotonic_time ()) / 1000;

      if (left <= 0 || poll (&pfd, 1, (int) left) <= 0 || read (fd, &ch, 1) != 1)
        break;
      if (ch == '\n')
        return g_string_free (line, FALSE);
      g_string_append_c (line, ch);
    }
  g_string_free (line, TRUE);
  return NULL;
}

static void
test_tls10_only (gconstpointer data)
{
  MsgTestMode      mode = GPOINTER_TO_INT (data);
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *cert_path = g_build_filename (dir, "server.pem", NULL);
  g_autofree char *key_path = g_build_filename (dir, "server.key", NULL);
  g_autofree char *cert_pem = NULL;
  g_autofree char *key_pem = NULL;
  g_autofree char *port_line = NULL;
  g_autofree char *closed_line = NULL;
  g_autofree char *good = healthy_script (PROTO_SMTP, PROFILE_IMPLICIT_TLS);
  g_autoptr (MsgTestServer) healthy = NULL;
  g_autoptr (MsgConfiguration) configuration = NULL;
  g_autoptr (MsgTransport) transport = NULL;
  g_autoptr (MsgMessage) message = make_message (0);
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) envp = g_get_environ ();
  const char *argv[] = { test_argv0, "--tls10-server", cert_path, key_path, NULL };
  unsigned    base_fds;
  unsigned    base_sockets;
  MsgTestRun  run = { 0 };
  GPid        pid;
  int         child_in;
  int         child_out;
  int         status;

  g_test_summary ("A server that offers only TLS 1.0 is refused at once with a TLS error.");
  ensure_tls ();
  g_object_get (tls_certificate, "certificate-pem", &cert_pem, "private-key-pem", &key_pem, NULL);
  g_assert_true (g_file_set_contents (cert_path, cert_pem, -1, NULL));
  g_assert_true (g_file_set_contents (key_path, key_pem, -1, NULL));
  envp = g_environ_setenv (envp, "G_TLS_GNUTLS_PRIORITY", TLS10_PRIORITY, TRUE);
  g_spawn_async_with_pipes (NULL, (char **) argv, envp, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL, &pid,
                            &child_in, &child_out, NULL, &error);
  g_assert_no_error (error);
  port_line = read_child_line (child_out, msg_test_ms_scaled (LONG_MS));
  g_assert_nonnull (port_line);

  base_fds = msg_test_count_fds ();
  base_sockets = msg_test_count_sockets ();
  /* The clock is not what is tested: a handshake takes seconds under
   * valgrind. */
  configuration = make_configuration (PROTO_SMTP, PROFILE_IMPLICIT_TLS,
                                      (guint16) g_ascii_strtoull (port_line, NULL, 10), LONG_MS, 0);
  transport = msg_test_fault_transport_new ("smtp", configuration);
  run.transport = transport;
  run.message = message;
  run.op = MSG_TEST_OP_SEND;
  run.mode = mode;
  msg_test_run_call (&run);

  g_assert_false (run.ok);
  g_test_message ("error: %s", run.error->message);
  g_assert_cmpint ((run.end - run.start) / 1000, <, msg_test_ms_scaled (LONG_MS));
  closed_line = read_child_line (child_out, msg_test_ms_scaled (SLACK_MS + 1000));
  g_assert_nonnull (closed_line);
  /* The client refuses the session once the handshake says TLS 1.0
   * (RFC 8996): the server never hears EHLO. */
  g_assert_cmpstr (closed_line, ==, "closed refused");
  g_assert_true (run.error->domain == G_TLS_ERROR);
  g_assert_cmpuint (msg_test_wait_sockets (base_sockets, msg_test_ms_scaled (SLACK_MS)), ==, base_sockets);

  /* The next send, to a healthy server, works. */
  healthy = msg_test_server_new (good);
  msg_test_server_set_tls (healthy, tls_certificate);
  {
    g_autoptr (MsgConfiguration) next =
        make_configuration (PROTO_SMTP, PROFILE_IMPLICIT_TLS, msg_test_server_get_port (healthy), LONG_MS, 0);

    msg_transport_set_configuration (transport, next);
  }
  assert_send_and_close (transport, PROTO_SMTP, healthy);
  assert_server_ok (healthy);

  msg_test_run_clear (&run);
  g_clear_object (&transport);
  g_clear_pointer (&healthy, msg_test_server_free);
  g_assert_cmpuint (msg_test_wait_fds (base_fds, (unsigned) msg_test_ms_scaled (1000)), ==, base_fds);
  g_close (child_in, NULL);
  g_close (child_out, NULL);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_spawn_close_pid (pid);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  msg_test_remove_tree (dir);
}

/* A cancel that lands after the final 250/240 and before QUIT changes
 * nothing: the message was accepted, the one-shot call succeeds
 * (docs/design.md, decision 2), and returns at once. */

static void
test_cancel_after_final_reply (gconstpointer data)
{
  Proto            proto = GPOINTER_TO_INT (data) / 4;
  MsgTestMode      mode = GPOINTER_TO_INT (data) % 4;
  GString         *script = g_string_new (NULL);
  g_autofree char *text = NULL;
  g_autoptr (MsgTestServer) server = NULL;
  g_autoptr (MsgConfiguration) configuration = NULL;
  g_autoptr (MsgMessage) message = make_message (0);
  unsigned   base_fds = msg_test_count_fds ();
  unsigned   base_sockets;
  MsgTestRun run = { 0 };

  g_test_summary ("A cancel after the final reply and before QUIT leaves msg_message_send/post successful.");
  /* The healthy dialogue, with a mark after the final reply and a QUIT
   * answered only after a while. */
  for (const Step *step = profile_steps (proto, PROFILE_PLAIN); step->name != NULL; step++)
    {
      /* QUIT shows that the client has read the final reply. */
      append_step_input (script, step);
      if (g_str_equal (step->name, "quit"))
        g_string_append_printf (script, "mark\nsleep %" G_GINT64_FORMAT "\n", msg_test_ms_scaled (UNIT_MS));
      if (step->reply != NULL)
        append_send (script, step->reply, strlen (step->reply));
    }
  text = g_string_free (script, FALSE);
  server = msg_test_server_new (text);
  configuration = make_configuration (proto, PROFILE_PLAIN, msg_test_server_get_port (server), LONG_MS, 0);
  msg_test_config_set (configuration, proto == PROTO_SMTP ? "sendusing" : "postusing", "2");
  msg_message_set_configuration (message, configuration);
  base_sockets = msg_test_count_sockets ();

  run.message = message;
  run.op = proto == PROTO_NNTP ? MSG_TEST_OP_MESSAGE_POST : MSG_TEST_OP_MESSAGE_SEND;
  run.server = server;
  run.mode = mode;
  msg_test_run_call (&run);

  g_assert_true (run.trigger_seen);
  g_assert_no_error (run.error);
  g_assert_true (run.ok);
  /* At once, or after QUIT's answer at the latest. */
  g_assert_cmpint ((run.end - run.cancelled_at) / 1000, <=, msg_test_ms_scaled (UNIT_MS + SLACK_MS));
  g_assert_true (msg_test_server_wait_closed (server, (unsigned) msg_test_ms_scaled (SLACK_MS)));
  g_assert_cmpuint (msg_test_wait_sockets (base_sockets, msg_test_ms_scaled (SLACK_MS)), ==, base_sockets);
  msg_test_run_clear (&run);
  g_clear_object (&message);
  g_clear_pointer (&server, msg_test_server_free);
  g_assert_cmpuint (msg_test_wait_fds (base_fds, (unsigned) msg_test_ms_scaled (1000)), ==, base_fds);
}

/* EMFILE (RLIMIT_NOFILE at the lowest free descriptor, in a subprocess):
 * with no descriptor left, or with one (taken by the connection's main
 * context, so that socket() itself fails), a send fails at once with a
 * clear error, leaks nothing, and the next send works once descriptors
 * are available again. GLib aborts the process when it cannot make a
 * main context's wakeup descriptor: the library must never get there. */
static void
test_emfile (gconstpointer data)
{
  MsgTestMode mode = GPOINTER_TO_INT (data) / 2 == 0 ? MSG_TEST_MODE_SYNC : MSG_TEST_MODE_ASYNC;
  unsigned    headroom = GPOINTER_TO_UINT (data) % 2;

  g_test_summary ("A send that cannot make its descriptors (EMFILE) fails at once with a clear error, "
                  "leaks nothing, and the next send works.");
  if (g_test_subprocess ())
    {
      g_autofree char *good = healthy_script (PROTO_SMTP, PROFILE_PLAIN);
      g_autoptr (MsgTestServer) server = msg_test_server_new (good);
      g_autoptr (MsgConfiguration) configuration =
          make_configuration (PROTO_SMTP, PROFILE_PLAIN, msg_test_server_get_port (server), LONG_MS, 0);
      g_autoptr (MsgTransport) transport = msg_transport_new_for_name ("smtp", configuration, NULL);
      g_autoptr (MsgMessage) message = make_message (0);
      struct rlimit limit;
      struct rlimit saved;
      unsigned      base_fds;
      MsgTestRun    run = { 0 };
      int           lowest;

      /* Everything that lives for the process is made first. */
      assert_send_and_close (transport, PROTO_SMTP, server);
      /* The caller's own objects (a main context has a descriptor)
       * exist before the limit. */
      run.transport = transport;
      run.message = message;
      run.op = MSG_TEST_OP_SEND;
      run.context = g_main_context_new ();
      g_main_context_push_thread_default (run.context);
      base_fds = msg_test_count_fds ();
      lowest = dup (0);
      g_assert_cmpint (lowest, >=, 0);
      close (lowest);
      g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &saved), ==, 0);
      limit = saved;
      limit.rlim_cur = (rlim_t) lowest + headroom;
      g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &limit), ==, 0);
      run.start = g_get_monotonic_time ();
      if (mode == MSG_TEST_MODE_ASYNC)
        {
          msg_transport_send_message_async (transport, message, NULL, msg_test_run_done_cb, &run);
          while (run.n_callbacks == 0)
            g_main_context_iteration (run.context, TRUE);
        }
      else
        {
          g_autoptr (MsgSendReport) report = msg_transport_send_message (transport, message, NULL, &run.error);

          run.end = g_get_monotonic_time ();
          run.ok = report != NULL;
        }
      g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &saved), ==, 0);
      g_main_context_pop_thread_default (run.context);

      g_assert_false (run.ok);
      g_test_message ("error: %s", run.error->message);
      g_assert_error (run.error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES);
      g_assert_cmpint ((run.end - run.start) / 1000, <=, msg_test_ms_scaled (SLACK_MS));
      g_assert_cmpuint (msg_test_server_get_n_connections (server), ==, 1);
      g_assert_cmpuint (msg_test_wait_fds (base_fds, (unsigned) msg_test_ms_scaled (1000)), ==, base_fds);

      assert_send_and_close (transport, PROTO_SMTP, server);
      assert_server_ok (server);
      msg_test_run_clear (&run);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
}

/* Pickup faults. */

static GPtrArray *
list_dir (const char *dir)
{
  g_autoptr (GDir) handle = g_dir_open (dir, 0, NULL);
  GPtrArray  *names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  if (handle == NULL)
    return names;
  while ((name = g_dir_read_name (handle)) != NULL)
    g_ptr_array_add (names, g_strdup (name));
  return names;
}

static MsgTransport *
make_pickup (const char *dir)
{
  g_autoptr (MsgConfiguration) configuration = msg_configuration_new ();

  msg_test_config_set (configuration, "smtpserverpickupdirectory", dir);
  return msg_test_fault_transport_new ("pickup", configuration);
}

/* A sparse 1 GiB file in @dir: far longer to write than any cancel.
 * Returns its path. */
static char *
make_big_file (const char *dir)
{
  char *path = g_build_filename (dir, "big.bin", NULL);
  int   fd = g_open (path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

  g_assert_cmpint (fd, >=, 0);
  g_assert_cmpint (ftruncate (fd, (off_t) 1 << 30), ==, 0);
  g_close (fd, NULL);
  return path;
}

/* A message with make_big_file() in @dir attached. */
static MsgMessage *
make_big_message (const char *dir)
{
  g_autofree char *big = make_big_file (dir);
  g_autoptr (GError) error = NULL;
  MsgMessage *message = make_message (0);

  g_assert_nonnull (msg_message_add_attachment (message, big, &error));
  g_assert_no_error (error);
  return message;
}

/* Whether @dir holds a temporary file (a write is under way). */
static gboolean
has_temporary (const char *dir)
{
  g_autoptr (GPtrArray) names = list_dir (dir);

  for (guint i = 0; i < names->len; i++)
    if (g_str_has_suffix (names->pdata[i], ".tmp"))
      return TRUE;
  return FALSE;
}

/* The cancel trigger of a pickup case: a temporary file in @run->data. */
static gboolean
pickup_writing (MsgTestRun *run)
{
  gint64 until = g_get_monotonic_time () + msg_test_ms_scaled (LONG_MS) * 1000;

  while (g_get_monotonic_time () < until)
    {
      if (has_temporary (run->data))
        return TRUE;
      g_usleep (1000);
    }
  return FALSE;
}

/* The pickup transport writes the next message, and @dir holds that one
 * file. */
static void
assert_pickup_writes (MsgTransport *transport,
                      const char   *dir)
{
  g_autoptr (MsgMessage) next = make_message (0);
  g_autoptr (GPtrArray) names = NULL;

  msg_test_fault_assert_sent (transport, next, FALSE);
  names = list_dir (dir);
  g_assert_cmpuint (names->len, ==, 1);
  g_assert_true (g_str_has_suffix (names->pdata[0], ".eml"));
}

static void
test_pickup_cancel (gconstpointer data)
{
  MsgTestMode      mode = GPOINTER_TO_INT (data);
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *big_dir = msg_test_make_temp_dir ();
  g_autoptr (MsgTransport) transport = make_pickup (dir);
  g_autoptr (MsgMessage) message = make_big_message (big_dir);
  g_autoptr (GPtrArray) names = NULL;
  MsgTestRun run = { 0 };
  unsigned   base_fds = msg_test_count_fds ();

  g_test_summary ("A cancel while the pickup file is written leaves neither a .eml nor a temporary file, "
                  "and the transport writes the next message.");
  run.transport = transport;
  run.message = message;
  run.op = MSG_TEST_OP_SEND;
  run.mode = mode;
  run.wait_trigger = pickup_writing;
  run.data = dir;
  msg_test_run_call (&run);

  g_assert_true (run.trigger_seen);
  g_assert_false (run.ok);
  g_assert_error (run.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  assert_within ("cancel to end", (run.end - run.cancelled_at) / 1000, msg_test_ms_scaled (SLACK_MS));
  names = list_dir (dir);
  g_assert_cmpuint (names->len, ==, 0);
  /* (The run's main context has a descriptor.) */
  msg_test_run_clear (&run);
  g_assert_cmpuint (msg_test_wait_fds (base_fds, (unsigned) msg_test_ms_scaled (1000)), ==, base_fds);

  assert_pickup_writes (transport, dir);
  g_clear_object (&transport);
  g_assert_cmpuint (msg_test_wait_fds (base_fds, (unsigned) msg_test_ms_scaled (1000)), ==, base_fds);
  msg_test_remove_tree (dir);
  msg_test_remove_tree (big_dir);
}

static void
test_pickup_disk_full (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();

  g_test_summary ("A pickup write that fails for want of space (RLIMIT_FSIZE in a subprocess) "
                  "leaves no file behind, and the transport writes the next message once space is back.");
  if (g_test_subprocess ())
    {
      const char *pickup = g_getenv ("MSGOBJ_FAULTS_PICKUP_DIR");
      g_autoptr (MsgTransport) transport = make_pickup (pickup);
      g_autoptr (MsgMessage) message = make_message (256 * 1024);
      g_autoptr (MsgMessage) next = make_message (0);
      g_autoptr (MsgSendReport) report = NULL;
      g_autoptr (GError) error = NULL;
      g_autoptr (GPtrArray) names = NULL;
      struct rlimit limit;
      unsigned      base_fds = msg_test_count_fds ();

      g_assert_cmpint (getrlimit (RLIMIT_FSIZE, &limit), ==, 0);
      limit.rlim_cur = 16 * 1024;
      signal (SIGXFSZ, SIG_IGN);
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);
      report = msg_transport_send_message (transport, message, NULL, &error);
      g_assert_null (report);
      g_test_message ("error: %s", error->message);
      /* EFBIG: GLib has no code of its own for it. */
      g_assert_nonnull (error);
      g_assert_true (error->domain == G_IO_ERROR);
      g_assert_cmpint (error->code, !=, G_IO_ERROR_CANCELLED);
      g_assert_nonnull (strstr (error->message, pickup));
      names = list_dir (pickup);
      g_assert_cmpuint (names->len, ==, 0);
      g_assert_cmpuint (msg_test_count_fds (), ==, base_fds);

      limit.rlim_cur = limit.rlim_max;
      g_assert_cmpint (setrlimit (RLIMIT_FSIZE, &limit), ==, 0);
      g_clear_error (&error);
      report = msg_transport_send_message (transport, next, NULL, &error);
      g_assert_no_error (error);
      g_assert_nonnull (report);
      return;
    }

  g_setenv ("MSGOBJ_FAULTS_PICKUP_DIR", dir, TRUE);
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
  g_test_trap_assert_passed ();
  {
    g_autoptr (GPtrArray) names = list_dir (dir);

    /* Only the message written once the limit was lifted. */
    g_assert_cmpuint (names->len, ==, 1);
    g_assert_true (g_str_has_suffix (names->pdata[0], ".eml"));
  }
  msg_test_remove_tree (dir);
}

static void
test_pickup_directory_removed (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgTransport) transport = make_pickup (dir);
  g_autoptr (MsgMessage) message = make_message (0);
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  unsigned base_fds;

  g_test_summary ("A pickup directory removed between two sends is a clear error, is not re-created, "
                  "and the transport writes again once it is back.");
  report = msg_transport_send_message (transport, message, NULL, &error);
  g_assert_no_error (error);
  g_clear_object (&report);
  base_fds = msg_test_count_fds ();
  msg_test_remove_tree (dir);

  report = msg_transport_send_message (transport, message, NULL, &error);
  g_assert_null (report);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, dir));
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (msg_test_count_fds (), ==, base_fds);
  g_clear_error (&error);

  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  assert_pickup_writes (transport, dir);
  msg_test_remove_tree (dir);
}

/* The pickup directory removed in the middle of a write (a 1 GiB
 * attachment): the write stops soon after with a clear error, re-creates
 * nothing, leaks nothing, and the next write works once the directory is
 * back. */

typedef struct
{
  const char *dir;
  gint64      removed_at;
} PickupRemover;

static gpointer
pickup_remove_thread (gpointer data)
{
  PickupRemover *pr = data;
  gint64         until = g_get_monotonic_time () + msg_test_ms_scaled (LONG_MS) * 1000;

  while (g_get_monotonic_time () < until)
    {
      if (has_temporary (pr->dir))
        {
          msg_test_remove_tree (pr->dir);
          pr->removed_at = g_get_monotonic_time ();
          break;
        }
      g_usleep (1000);
    }
  return NULL;
}

static void
test_pickup_removed_mid_write (gconstpointer data)
{
  MsgTestMode      mode = GPOINTER_TO_INT (data);
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *big_dir = msg_test_make_temp_dir ();
  g_autoptr (MsgTransport) transport = make_pickup (dir);
  g_autoptr (MsgMessage) message = make_big_message (big_dir);
  PickupRemover pr = { dir, 0 };
  MsgTestRun    run = { 0 };
  unsigned      base_fds = msg_test_count_fds ();
  GThread      *thread;

  g_test_summary ("A pickup directory removed in the middle of a write stops the write soon with a clear "
                  "error, is not re-created, and the transport writes again once it is back.");
  thread = g_thread_new ("remover", pickup_remove_thread, &pr);
  run.transport = transport;
  run.message = message;
  run.op = MSG_TEST_OP_SEND;
  run.mode = mode;
  msg_test_run_call (&run);
  g_thread_join (thread);

  g_assert_cmpint (pr.removed_at, >, 0);
  g_assert_false (run.ok);
  g_test_message ("error: %s", run.error->message);
  g_assert_error (run.error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (run.error->message, dir));
  /* A mebibyte's writing after the removal, at most. */
  g_assert_cmpint ((run.end - pr.removed_at) / 1000, <=, msg_test_ms_scaled (UNIT_MS + SLACK_MS));
  g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
  /* (The run's main context has a descriptor.) */
  msg_test_run_clear (&run);
  g_assert_cmpuint (msg_test_wait_fds (base_fds, (unsigned) msg_test_ms_scaled (1000)), ==, base_fds);

  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  assert_pickup_writes (transport, dir);
  g_clear_object (&transport);
  g_assert_cmpuint (msg_test_wait_fds (base_fds, (unsigned) msg_test_ms_scaled (1000)), ==, base_fds);
  msg_test_remove_tree (dir);
  msg_test_remove_tree (big_dir);
}

/* A writer killed in the middle of a write (SIGKILL, in a child process)
 * leaves no visible file; its temporary, once stale, is removed by the
 * next write, which follows no symlink and spares a live writer's file. */

static void
pickup_killed_child (void)
{
  g_autoptr (MsgTransport) transport = make_pickup (g_getenv ("MSGOBJ_FAULTS_PICKUP_DIR"));
  g_autoptr (MsgMessage) message = make_message (0);
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;

  g_assert_nonnull (msg_message_add_attachment (message, g_getenv ("MSGOBJ_FAULTS_BIG"), &error));
  g_assert_no_error (error);
  /* Killed long before this ends. */
  g_clear_object (&report);
  report = msg_transport_send_message (transport, message, NULL, &error);
}

static void
backdate (const char *path)
{
  struct timespec times[2] = { { 0, UTIME_OMIT }, { time (NULL) - 2 * 3600, 0 } };

  g_assert_cmpint (utimensat (AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW), ==, 0);
}

static void
test_pickup_killed (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autofree char *big_dir = msg_test_make_temp_dir ();
  g_autofree char *big = NULL;
  g_autofree char *victim = g_build_filename (big_dir, "victim.txt", NULL);
  g_autofree char *planted = g_build_filename (dir, ".18a2b3c4d5e6f-1-0-0badcafe.tmp", NULL);
  g_autofree char *live = g_build_filename (dir, ".18a2b3c4d5e70-2-0-0badf00d.tmp", NULL);
  g_autofree char *left = NULL;
  g_autofree char *contents = NULL;
  g_autoptr (GPtrArray) names = NULL;
  g_autoptr (GError) error = NULL;
  g_auto (GStrv) envp = g_get_environ ();
  const char *argv[] = { test_argv0, "-q", "-p", "/faults/pickup/write/killed/sync", "--GTestSubprocess", NULL };
  gint64      until = g_get_monotonic_time () + msg_test_ms_scaled (LONG_MS) * 1000;
  unsigned    base_fds = msg_test_count_fds ();
  GPid        pid;
  int         status;
  int         live_fd;

  g_test_summary ("A pickup writer killed with SIGKILL mid-write leaves no visible file; the next write "
                  "removes its stale temporary, follows no symlink and spares a live writer's file.");
  if (g_test_subprocess ())
    {
      pickup_killed_child ();
      return;
    }
  big = make_big_file (big_dir);
  envp = g_environ_setenv (envp, "MSGOBJ_FAULTS_PICKUP_DIR", dir, TRUE);
  envp = g_environ_setenv (envp, "MSGOBJ_FAULTS_BIG", big, TRUE);
  g_spawn_async (NULL, (char **) argv, envp,
                 G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL | G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                 &pid, &error);
  g_assert_no_error (error);

  /* Kill it once its temporary file has data. */
  while (left == NULL && g_get_monotonic_time () < until)
    {
      g_clear_pointer (&names, g_ptr_array_unref);
      names = list_dir (dir);
      for (guint i = 0; i < names->len && left == NULL; i++)
        {
          g_autofree char *path = g_build_filename (dir, names->pdata[i], NULL);
          GStatBuf         st;

          if (g_str_has_suffix (names->pdata[i], ".tmp") && g_stat (path, &st) == 0 && st.st_size > 64 * 1024)
            left = g_steal_pointer (&path);
        }
      if (left == NULL)
        g_usleep (1000);
    }
  g_assert_cmpint (kill (pid, SIGKILL), ==, 0);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_spawn_close_pid (pid);
  g_assert_nonnull (left);
  g_assert_true (WIFSIGNALED (status) && WTERMSIG (status) == SIGKILL);

  /* Nothing a consumer would pick up. */
  g_clear_pointer (&names, g_ptr_array_unref);
  names = list_dir (dir);
  g_assert_cmpuint (names->len, ==, 1);
  g_assert_true (g_str_has_suffix (names->pdata[0], ".tmp"));

  /* Make it stale (as it is after a while), and plant two look-alikes:
   * a symlink to a file outside, and a live writer's locked file. */
  backdate (left);
  g_assert_true (g_file_set_contents (victim, "precious\n", -1, NULL));
  g_assert_cmpint (symlink (victim, planted), ==, 0);
  backdate (planted);
  backdate (victim);
  live_fd = g_open (live, O_WRONLY | O_CREAT | O_EXCL, 0600);
  g_assert_cmpint (live_fd, >=, 0);
  g_assert_cmpint (flock (live_fd, LOCK_EX), ==, 0);
  backdate (live);

  {
    g_autoptr (MsgTransport) transport = make_pickup (dir);
    g_autoptr (MsgMessage) message = make_message (0);
    g_autoptr (MsgSendReport) report = msg_transport_send_message (transport, message, NULL, &error);

    g_assert_no_error (error);
    g_assert_nonnull (report);
  }
  g_assert_false (g_file_test (left, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (planted, G_FILE_TEST_IS_SYMLINK));
  g_assert_true (g_file_get_contents (victim, &contents, NULL, NULL));
  g_assert_cmpstr (contents, ==, "precious\n");
  g_assert_true (g_file_test (live, G_FILE_TEST_IS_REGULAR));
  g_close (live_fd, NULL);
  g_clear_pointer (&names, g_ptr_array_unref);
  names = list_dir (dir);
  g_assert_cmpuint (names->len, ==, 3);
  g_assert_cmpuint (msg_test_wait_fds (base_fds, (unsigned) msg_test_ms_scaled (1000)), ==, base_fds);
  msg_test_remove_tree (dir);
  msg_test_remove_tree (big_dir);
}

/* umask 000 changes nothing: the file is 0600. The temporary's name is
 * unpredictable and it is created with O_EXCL | O_NOFOLLOW, so a symlink
 * cannot be planted at it; test_pickup_killed plants look-alikes. */
static void
test_pickup_umask (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgTransport) transport = make_pickup (dir);
  g_autoptr (MsgMessage) message = make_message (0);
  g_autoptr (MsgSendReport) report = NULL;
  g_autoptr (GError) error = NULL;
  GStatBuf st;
  mode_t   old = umask (0);

  g_test_summary ("Under umask 000 a pickup file is still mode 0600.");
  report = msg_transport_send_message (transport, message, NULL, &error);
  umask (old);
  g_assert_no_error (error);
  g_assert_nonnull (report);
  g_assert_cmpint (g_stat (msg_send_report_get_pickup_file (report), &st), ==, 0);
  g_assert_cmpint (st.st_mode & 07777, ==, 0600);
  msg_test_remove_tree (dir);
}

/* Setup. */

static void
warm_up_done (GObject      *source,
              GAsyncResult *result,
              gpointer      data)
{
  g_autoptr (MsgSendReport) report = msg_transport_send_message_finish (MSG_TRANSPORT (source), result, NULL);

  *(gboolean *) data = TRUE;
}

/* An asynchronous send makes GLib start its worker thread ("gmain"), with
 * a descriptor, for the process's life: do it before any baseline. */
static void
warm_up_async (void)
{
  g_autofree char *dir = msg_test_make_temp_dir ();
  g_autoptr (MsgTransport) transport = make_pickup (dir);
  g_autoptr (MsgMessage) message = make_message (0);
  gboolean done = FALSE;

  msg_transport_send_message_async (transport, message, NULL, warm_up_done, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  g_clear_object (&transport);
  msg_test_remove_tree (dir);
}

/* Sends once with each profile, so that descriptors that modules, TLS and
 * the like keep for the process's life are in every case's baseline.
 * Nothing is asserted here: the /healthy case of each protocol does. */
static void
warm_up (Proto proto)
{
  for (Profile profile = PROFILE_PLAIN; profile < N_PROFILES; profile++)
    {
      g_autofree char *good = NULL;
      g_autoptr (MsgTestServer) server = NULL;
      g_autoptr (MsgConfiguration) configuration = NULL;
      g_autoptr (MsgTransport) transport = NULL;
      g_autoptr (MsgMessage) message = NULL;
      g_autoptr (MsgSendReport) report = NULL;

      if (profile_steps (proto, profile) == NULL)
        continue;
      good = healthy_script (proto, profile);
      server = msg_test_server_new (good);
      message = make_message (0);

      if (profile_uses_tls (profile))
        {
          ensure_tls ();
          msg_test_server_set_tls (server, tls_certificate);
        }
      configuration = make_configuration (proto, profile, msg_test_server_get_port (server), LONG_MS, 0);
      transport = msg_transport_new_for_name (proto_names[proto], configuration, NULL);
      if (transport == NULL)
        return;
      if (proto == PROTO_NNTP)
        report = msg_transport_post_message (transport, message, NULL, NULL);
      else
        report = msg_transport_send_message (transport, message, NULL, NULL);
      msg_transport_close (transport, NULL, NULL);
      g_clear_object (&transport);
      msg_test_server_wait_closed (server, (unsigned) msg_test_ms_scaled (LONG_MS));
    }
}

/* Each profile's healthy dialogue works: the matrix means nothing
 * otherwise. */
static void
test_healthy (gconstpointer data)
{
  Proto            proto = GPOINTER_TO_INT (data) / N_PROFILES;
  Profile          profile = GPOINTER_TO_INT (data) % N_PROFILES;
  g_autofree char *good = healthy_script (proto, profile);
  g_autoptr (MsgTestServer) server = msg_test_server_new (good);
  g_autoptr (MsgConfiguration) configuration = NULL;
  g_autoptr (MsgTransport) transport = NULL;

  if (profile_uses_tls (profile))
    {
      ensure_tls ();
      msg_test_server_set_tls (server, tls_certificate);
    }
  configuration = make_configuration (proto, profile, msg_test_server_get_port (server), LONG_MS, 0);
  transport = msg_test_fault_transport_new (proto_names[proto], configuration);
  assert_send_and_close (transport, proto, server);
  assert_server_ok (server);
}

static void
add_matrix (Proto proto)
{
  const Stage *stages = proto == PROTO_SMTP ? smtp_stages : nntp_stages;

  for (Profile profile = PROFILE_PLAIN; profile < N_PROFILES; profile++)
    {
      g_autofree char *path = NULL;

      if (profile_steps (proto, profile) == NULL)
        continue;
      path = g_strdup_printf ("/faults/%s/healthy/%s", proto_names[proto], profile_names[profile]);

      g_test_add_data_func (path, GINT_TO_POINTER (proto * N_PROFILES + profile), test_healthy);
    }

  for (const Stage *stage = stages; stage->name != NULL; stage++)
    for (gsize f = 0; f < G_N_ELEMENTS (faults); f++)
      {
        if (!fault_applies (stage, &faults[f]))
          continue;
        for (MsgTestMode mode = MSG_TEST_MODE_SYNC; mode <= MSG_TEST_MODE_CANCEL_LOOP; mode++)
          {
            Case            *c;
            g_autofree char *path = NULL;

            if (msg_test_mode_is_cancel (mode) && !faults[f].stalls)
              continue;
            c = g_new0 (Case, 1);
            c->proto = proto;
            c->stage = stage;
            c->fault = &faults[f];
            c->mode = mode;
            path = g_strdup_printf ("/faults/%s/%s/%s/%s", proto_names[proto], stage->name,
                                    faults[f].name, msg_test_mode_names[mode]);
            g_test_add_data_func_full (path, c, test_matrix_case, g_free);
          }
      }
  g_test_add_data_func (proto == PROTO_SMTP ? "/faults/smtp/many-at-once" : "/faults/nntp/many-at-once",
                        GINT_TO_POINTER (proto), test_many_at_once);
  if (proto == PROTO_SMTP)
    for (MsgTestMode mode = MSG_TEST_MODE_SYNC; mode <= MSG_TEST_MODE_ASYNC; mode++)
      {
        g_autofree char *path = g_strdup_printf ("/faults/smtp/implicit-tls/tls1.0-only/%s", msg_test_mode_names[mode]);

        g_test_add_data_func (path, GINT_TO_POINTER (mode), test_tls10_only);
      }
  for (MsgTestMode mode = MSG_TEST_MODE_CANCEL_THREAD; mode <= MSG_TEST_MODE_CANCEL_LOOP; mode++)
    {
      g_autofree char *path = g_strdup_printf ("/faults/%s/one-shot/after-final-reply/%s", proto_names[proto],
                                               msg_test_mode_names[mode]);

      g_test_add_data_func (path, GINT_TO_POINTER (proto * 4 + mode), test_cancel_after_final_reply);
    }
}

/* `test-faults --markdown-table`: the table of stages × faults that the
 * matrix proves, for README.md, from the same data as the cases. */
static void
print_table (void)
{
  static const char *const expect_text[] = { "TO", "TO(total)", "CL", "RF", "PR", "CA", "TLS", "CERT", "RJ" };

  for (Proto proto = PROTO_SMTP; proto <= PROTO_NNTP; proto++)
    {
      const Stage *stages = proto == PROTO_SMTP ? smtp_stages : nntp_stages;

      g_print ("\n| %s stage |", proto == PROTO_SMTP ? "SMTP" : "NNTP");
      for (gsize f = 0; f < G_N_ELEMENTS (faults); f++)
        g_print (" %s |", faults[f].name);
      g_print ("\n|---|");
      for (gsize f = 0; f < G_N_ELEMENTS (faults); f++)
        g_print (":-:|");
      g_print ("\n");
      for (const Stage *stage = stages; stage->name != NULL; stage++)
        {
          g_print ("| %s |", stage->name);
          for (gsize f = 0; f < G_N_ELEMENTS (faults); f++)
            {
              Case c = { proto, stage, &faults[f], MSG_TEST_MODE_SYNC };

              if (!fault_applies (stage, &faults[f]))
                g_print (" |");
              else if (stage->in_close)
                g_print (" closed%s |", faults[f].stalls ? "+" : "");
              else
                g_print (" %s%s |", stage->after_dot ? "UN" : expect_text[case_expect (&c)],
                         faults[f].stalls ? "+" : "");
            }
          g_print ("\n");
        }
    }
}

int
main (int   argc,
      char *argv[])
{
  if (argc == 2 && g_str_equal (argv[1], "--markdown-table"))
    {
      print_table ();
      return 0;
    }
  test_argv0 = argv[0];
  if (argc == 4 && g_str_equal (argv[1], "--tls10-server"))
    return tls10_server_main (argv[2], argv[3]);
  g_test_init (&argc, &argv, G_TEST_OPTION_ISOLATE_DIRS, NULL);
  /* GLib makes it (and its descriptor) for the process's life on first
   * use, which may come in the middle of a case. */
  (void) g_main_context_default ();
  warm_up_async ();
  /* A write to a socket the server reset must fail, not kill us. */
  signal (SIGPIPE, SIG_IGN);

  g_test_add_data_func ("/faults/pickup/write/cancel/cancel-thread", GINT_TO_POINTER (MSG_TEST_MODE_CANCEL_THREAD),
                        test_pickup_cancel);
  g_test_add_data_func ("/faults/pickup/write/cancel/cancel-loop", GINT_TO_POINTER (MSG_TEST_MODE_CANCEL_LOOP),
                        test_pickup_cancel);
  g_test_add_func ("/faults/pickup/write/disk-full/sync", test_pickup_disk_full);
  g_test_add_func ("/faults/pickup/directory/removed/sync", test_pickup_directory_removed);
  g_test_add_func ("/faults/pickup/write/killed/sync", test_pickup_killed);
  g_test_add_data_func ("/faults/pickup/directory/removed-mid-write/sync", GINT_TO_POINTER (MSG_TEST_MODE_SYNC),
                        test_pickup_removed_mid_write);
  g_test_add_data_func ("/faults/pickup/directory/removed-mid-write/async", GINT_TO_POINTER (MSG_TEST_MODE_ASYNC),
                        test_pickup_removed_mid_write);
  g_test_add_func ("/faults/pickup/write/umask-000/sync", test_pickup_umask);

  g_test_add_data_func ("/faults/smtp/socket/emfile/sync", GINT_TO_POINTER (0), test_emfile);
  g_test_add_data_func ("/faults/smtp/socket/emfile-after-context/sync", GINT_TO_POINTER (1), test_emfile);
  g_test_add_data_func ("/faults/smtp/socket/emfile/async", GINT_TO_POINTER (2), test_emfile);
  g_test_add_data_func ("/faults/smtp/socket/emfile-after-context/async", GINT_TO_POINTER (3), test_emfile);

  if (g_test_subprocess ())
    return g_test_run ();

  for (Proto proto = PROTO_SMTP; proto <= PROTO_NNTP; proto++)
    {
      warm_up (proto);
      add_matrix (proto);
    }
  calibrate_handshake ();
  calibrate_big_send ();
  calibrate_buffers ();
  g_test_message ("time scale %g; here a TLS handshake takes up to %" G_GINT64_FORMAT " ms, "
                  "sending the big message %" G_GINT64_FORMAT " ms; the socket buffers hold %" G_GSIZE_FORMAT
                  " bytes",
                  msg_test_time_scale (), handshake_ms, big_send_ms, buffered_bytes);
  return g_test_run ();
}
