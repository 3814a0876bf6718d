/* test-smtp-scripts.h: pieces of the scripted SMTP server's scripts
 * (tests/servers/msg-test-server.h) for one message from
 * alice@example.test to bob@example.test, shared by the suites that queue
 * sends (test-queue.c, test-threads.c)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#define GREETING "line 220 mx.example.test ESMTP\n"
#define EHLO_BASIC             \
  "expect EHLO\n"              \
  "line 250-mx.example.test\n" \
  "line 250 8BITMIME\n"
/* The envelope and the data, up to the final reply. */
#define TRANSACTION_TO_DOT                  \
  "expect MAIL FROM:<alice@example.test>\n" \
  "line 250 2.1.0 Ok\n"                     \
  "expect RCPT TO:<bob@example.test>\n"     \
  "line 250 2.1.5 Ok\n"                     \
  "expect DATA\n"                           \
  "line 354 go\n"                           \
  "data\n"
/* One transaction, whose final reply names queue id @id. */
#define TRANSACTION(id) TRANSACTION_TO_DOT "line 250 2.0.0 Ok: queued as " id "\n"
/* The same, with the final reply held back @ms milliseconds after the
 * "mark" that tells the test the message is in. */
#define SLOW_TRANSACTION(id, ms) TRANSACTION_TO_DOT "mark\nsleep " ms "\nline 250 2.0.0 Ok: queued as " id "\n"
/* The same, with the final reply held at a gate (after a "mark") until
 * the test opens it. */
#define GATED_TRANSACTION(id) TRANSACTION_TO_DOT "mark\ngate\nline 250 2.0.0 Ok: queued as " id "\n"
