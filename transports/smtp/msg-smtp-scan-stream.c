/* msg-smtp-scan-stream.c: a stream that measures a message as written
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-smtp-scan-stream.h"

G_DEFINE_FINAL_TYPE (ScanStream, scan_stream, G_TYPE_OUTPUT_STREAM)

static gssize
scan_stream_write (GOutputStream *stream,
                   const void    *buffer,
                   gsize          count,
                   GCancellable  *cancellable,
                   GError       **error)
{
  ScanStream *self = SCAN_STREAM (stream);

  self->count += count;
  for (gsize i = 0; i < count && !self->eight_bit; i++)
    if (((const guchar *) buffer)[i] >= 0x80)
      self->eight_bit = TRUE;
  return (gssize) count;
}

static void
scan_stream_class_init (ScanStreamClass *klass)
{
  G_OUTPUT_STREAM_CLASS (klass)->write_fn = scan_stream_write;
}

static void
scan_stream_init (ScanStream *self)
{
}
