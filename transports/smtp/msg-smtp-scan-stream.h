/* msg-smtp-scan-stream.h: a stream that measures a message as written
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A stream that counts the bytes written to it and notes whether one is
 * above 127: the size and the 8-bit state of a message as it will really
 * be written, after any re-encoding. */
#define SCAN_TYPE_STREAM (scan_stream_get_type ())
G_DECLARE_FINAL_TYPE (ScanStream, scan_stream, SCAN, STREAM, GOutputStream)

struct _ScanStream
{
  GOutputStream parent_instance;
  guint64       count;
  gboolean      eight_bit;
};

G_END_DECLS
