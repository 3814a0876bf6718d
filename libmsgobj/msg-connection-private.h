/* msg-connection-private.h: MsgConnection internals, shared by its files
 * and with the transport base class
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include "msg-connection.h"
#include "msg-deadline-private.h"

G_BEGIN_DECLS

/* Size of the read-ahead buffer; at least twice MSG_REPLY_MAX_LINE_LENGTH. */
#define MSG_CONNECTION_READ_BUFFER_SIZE (16 * 1024)

/* Before the end of a message: fails, without waiting, when the server
 * has closed the connection or already answered; does not abort. */
gboolean _msg_connection_check_still_listening (MsgConnection *self,
                                                GError       **error);

/* The instance, shared by msg-connection.c and msg-connection-connect.c. */
struct _MsgConnection
{
  GObject parent_instance;

  char    *host;
  guint16  port;
  double   timeout;
  gint64   deadline;
  char    *tls_ca_file;
  gboolean tls_verify;
  char    *trace_name;

  GMainContext          *context;
  GSocket               *socket; /* (nullable) */
  GIOStream             *tcp;    /* (nullable) a GSocketConnection */
  GIOStream             *tls;    /* (nullable) a GTlsClientConnection */
  GPollableInputStream  *input;  /* (nullable) (unowned) of the top stream */
  GPollableOutputStream *output; /* (nullable) (unowned) of the top stream */

  GByteArray *queue;
  char       *read_buffer;
  gsize       read_start;
  gsize       read_end;
  gint64      exchange_start;
  gboolean    replies_read; /* since the last write */
  gboolean    wrote;        /* since the last read that got bytes */
  gboolean    quick_ack;
  int         wake_fd;    /* -1 until a first wait with poll() */
  int        *tls_warned; /* (owned) an atomic rc box, shared with the
                           * accept-certificate handlers */

  struct _MsgConnectionOutputStream *output_stream; /* (nullable) */
};

/* msg-connection.c, for msg-connection-connect.c */
void     _msg_connection_clear_queue (GByteArray *queue);
void     _msg_connection_trace_note (MsgConnection *self,
                                     const char    *format,
                                     ...) G_GNUC_PRINTF (2, 3);
gint64   _msg_connection_exchange_until (MsgConnection *self,
                                         gint64         start);
gboolean _msg_connection_wait_result (MsgConnection    *self,
                                      MsgDeadlineResult result,
                                      gint64            until,
                                      const char       *what,
                                      GCancellable     *cancellable,
                                      GError          **error);

G_END_DECLS
