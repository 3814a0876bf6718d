/* msg-data-output-stream.c: CRLF canonicalisation and dot-stuffing
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-data-output-stream.h"

#include <string.h>

/**
 * MsgDataOutputStream:
 *
 * A filter stream for message data on the wire (SMTP DATA, NNTP POST).
 *
 * Every CR, LF and CRLF written becomes CRLF (a lone CR too, even when the
 * CR ends one write and the LF starts the next), so no bare CR or LF
 * reaches the server (SMTP smuggling). With dot-stuffing, a `.` at the
 * start of a line is doubled. [method@DataOutputStream.finish] ends the
 * last line, writes the final `.` line and flushes.
 *
 * The converted bytes are collected and written to the base stream in
 * blocks of up to 64 KiB, never a write per line. The block starts small
 * and grows as a message needs it: a 1 KiB message does not pay for
 * 64 KiB (allocated, and on free consolidating malloc's fast bins) on
 * every send. Flushing the stream writes
 * what is collected. Closing it writes what is collected but no final
 * line; by default the base stream is not closed.
 */

#define BLOCK_SIZE (64 * 1024)
#define FIRST_BLOCK_SIZE (4 * 1024)

struct _MsgDataOutputStream
{
  GFilterOutputStream parent_instance;

  gboolean dot_stuff;
  gboolean at_line_start; /* the last byte produced was the LF of a CRLF */
  gboolean after_cr;      /* the last byte consumed was a CR */
  gboolean finished;

  guint8 *block; /* (owned) (nullable) block_size bytes */
  gsize   block_size;
  gsize   block_length;

  guint64 bytes_in;
  guint64 bytes_out;
};

enum
{
  PROP_0,
  PROP_DOT_STUFF,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (MsgDataOutputStream, msg_data_output_stream, G_TYPE_FILTER_OUTPUT_STREAM)

static gboolean
write_block (MsgDataOutputStream *self,
             GCancellable        *cancellable,
             GError             **error)
{
  GOutputStream *base = g_filter_output_stream_get_base_stream (G_FILTER_OUTPUT_STREAM (self));
  gsize          written = 0;
  gboolean       ok;

  if (self->block_length == 0)
    return TRUE;
  ok = g_output_stream_write_all (base, self->block, self->block_length, &written, cancellable, error);
  self->bytes_out += written;
  if (written > 0 && written < self->block_length)
    memmove (self->block, self->block + written, self->block_length - written);
  self->block_length -= written;
  return ok;
}

/* Doubles the block, up to BLOCK_SIZE, until @length more bytes fit. */
static void
grow_block (MsgDataOutputStream *self,
            gsize                length)
{
  gsize size = MAX (self->block_size, FIRST_BLOCK_SIZE);

  while (size < BLOCK_SIZE && size - self->block_length < length)
    size *= 2;
  if (size != self->block_size)
    {
      self->block = g_realloc (self->block, MIN (size, BLOCK_SIZE));
      self->block_size = MIN (size, BLOCK_SIZE);
    }
}

static inline gboolean
append (MsgDataOutputStream *self,
        const guint8        *data,
        gsize                length,
        GCancellable        *cancellable,
        GError             **error)
{
  while (length > 0)
    {
      gsize n;

      if (self->block_size - self->block_length < length && self->block_size < BLOCK_SIZE)
        grow_block (self, length);
      n = MIN (length, self->block_size - self->block_length);
      memcpy (self->block + self->block_length, data, n);
      self->block_length += n;
      data += n;
      length -= n;
      if (self->block_length == BLOCK_SIZE && !write_block (self, cancellable, error))
        return FALSE;
    }
  return TRUE;
}

/* The next CR or LF in [p, end), or end. *next_cr and *next_lf cache the
 * last memchr() results (NULL: not scanned yet; end: none left), so each
 * byte is scanned once per character. */
static inline const guint8 *
next_line_end (const guint8  *p,
               const guint8  *end,
               const guint8 **next_cr,
               const guint8 **next_lf)
{
  if (*next_cr == NULL || *next_cr < p)
    {
      *next_cr = memchr (p, '\r', (gsize) (end - p));
      if (*next_cr == NULL)
        *next_cr = end;
    }
  if (*next_lf == NULL || *next_lf < p)
    {
      *next_lf = memchr (p, '\n', (gsize) (end - p));
      if (*next_lf == NULL)
        *next_lf = end;
    }
  return MIN (*next_cr, *next_lf);
}

static gssize
msg_data_output_stream_write (GOutputStream *stream,
                              const void    *buffer,
                              gsize          count,
                              GCancellable  *cancellable,
                              GError       **error)
{
  MsgDataOutputStream *self = MSG_DATA_OUTPUT_STREAM (stream);
  const guint8        *p = buffer;
  const guint8        *end = p + count;
  const guint8        *next_cr = NULL;
  const guint8        *next_lf = NULL;

  if (self->finished)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                           "The data stream was already finished");
      return -1;
    }
  if (count == 0)
    return 0;

  if (self->after_cr && *p == '\n')
    p++;
  self->after_cr = FALSE;

  while (p < end)
    {
      const guint8 *line_end;

      if (self->at_line_start && self->dot_stuff && *p == '.' &&
          !append (self, (const guint8 *) ".", 1, cancellable, error))
        return -1;
      self->at_line_start = FALSE;

      line_end = next_line_end (p, end, &next_cr, &next_lf);
      if (line_end == end)
        {
          if (!append (self, p, (gsize) (end - p), cancellable, error))
            return -1;
          break;
        }
      if (!append (self, p, (gsize) (line_end - p), cancellable, error) ||
          !append (self, (const guint8 *) "\r\n", 2, cancellable, error))
        return -1;
      self->at_line_start = TRUE;
      if (*line_end == '\r')
        {
          if (line_end + 1 == end)
            self->after_cr = TRUE;
          else if (line_end[1] == '\n')
            line_end++;
        }
      p = line_end + 1;
    }

  self->bytes_in += count;
  return (gssize) count;
}

static gboolean
msg_data_output_stream_flush (GOutputStream *stream,
                              GCancellable  *cancellable,
                              GError       **error)
{
  MsgDataOutputStream *self = MSG_DATA_OUTPUT_STREAM (stream);
  GOutputStream       *base = g_filter_output_stream_get_base_stream (G_FILTER_OUTPUT_STREAM (self));

  return write_block (self, cancellable, error) &&
         g_output_stream_flush (base, cancellable, error);
}

static gboolean
msg_data_output_stream_close (GOutputStream *stream,
                              GCancellable  *cancellable,
                              GError       **error)
{
  MsgDataOutputStream *self = MSG_DATA_OUTPUT_STREAM (stream);
  GOutputStream       *base = g_filter_output_stream_get_base_stream (G_FILTER_OUTPUT_STREAM (self));
  gboolean             ok = write_block (self, cancellable, error);

  if (g_filter_output_stream_get_close_base_stream (G_FILTER_OUTPUT_STREAM (self)))
    {
      if (ok)
        ok = g_output_stream_close (base, cancellable, error);
      else
        g_output_stream_close (base, cancellable, NULL);
    }
  return ok;
}

/**
 * msg_data_output_stream_finish:
 * @self: a data stream
 * @cancellable: (nullable): a cancellable
 * @error: return location for a #GError
 *
 * Ends the data: a CRLF if the last line has no line end yet, then, with
 * dot-stuffing, the final `.` CRLF line; writes everything collected and
 * flushes the base stream. Later writes fail with %G_IO_ERROR_CLOSED.
 *
 * Returns: whether everything was written
 */
gboolean
msg_data_output_stream_finish (MsgDataOutputStream *self,
                               GCancellable        *cancellable,
                               GError             **error)
{
  GOutputStream *base;
  gboolean       ok;

  g_return_val_if_fail (MSG_IS_DATA_OUTPUT_STREAM (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->finished)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED,
                           "The data stream was already finished");
      return FALSE;
    }
  if (!g_output_stream_set_pending (G_OUTPUT_STREAM (self), error))
    return FALSE;

  self->finished = TRUE;
  base = g_filter_output_stream_get_base_stream (G_FILTER_OUTPUT_STREAM (self));
  ok = (self->at_line_start || append (self, (const guint8 *) "\r\n", 2, cancellable, error)) &&
       (!self->dot_stuff || append (self, (const guint8 *) ".\r\n", 3, cancellable, error)) &&
       write_block (self, cancellable, error) &&
       g_output_stream_flush (base, cancellable, error);
  self->at_line_start = TRUE;
  g_output_stream_clear_pending (G_OUTPUT_STREAM (self));
  return ok;
}

/**
 * msg_data_output_stream_get_bytes_in:
 * @self: a data stream
 *
 * Counts the bytes written to the stream.
 *
 * Returns: how many bytes were written to @self
 */
guint64
msg_data_output_stream_get_bytes_in (MsgDataOutputStream *self)
{
  g_return_val_if_fail (MSG_IS_DATA_OUTPUT_STREAM (self), 0);

  return self->bytes_in;
}

/**
 * msg_data_output_stream_get_bytes_out:
 * @self: a data stream
 *
 * Counts the bytes the stream wrote to its base stream.
 *
 * Returns: how many converted bytes were written to the base stream so far
 *   (bytes still collected for the next block are not counted)
 */
guint64
msg_data_output_stream_get_bytes_out (MsgDataOutputStream *self)
{
  g_return_val_if_fail (MSG_IS_DATA_OUTPUT_STREAM (self), 0);

  return self->bytes_out;
}

/**
 * msg_data_output_stream_new:
 * @base_stream: the stream to write the converted data to
 * @dot_stuff: whether to double a `.` at the start of each line and end
 *   the data with a `.` line (SMTP DATA, NNTP POST)
 *
 * Creates a data stream writing to @base_stream; closing it does not close
 * @base_stream.
 *
 * Returns: (transfer full): a new #MsgDataOutputStream
 */
GOutputStream *
msg_data_output_stream_new (GOutputStream *base_stream,
                            gboolean       dot_stuff)
{
  g_return_val_if_fail (G_IS_OUTPUT_STREAM (base_stream), NULL);

  return g_object_new (MSG_TYPE_DATA_OUTPUT_STREAM,
                       "base-stream", base_stream,
                       "close-base-stream", FALSE,
                       "dot-stuff", dot_stuff,
                       NULL);
}

static void
msg_data_output_stream_finalize (GObject *object)
{
  MsgDataOutputStream *self = MSG_DATA_OUTPUT_STREAM (object);

  g_free (self->block);
  G_OBJECT_CLASS (msg_data_output_stream_parent_class)->finalize (object);
}

static void
msg_data_output_stream_get_property (GObject    *object,
                                     guint       prop_id,
                                     GValue     *value,
                                     GParamSpec *pspec)
{
  MsgDataOutputStream *self = MSG_DATA_OUTPUT_STREAM (object);

  switch (prop_id)
    {
    case PROP_DOT_STUFF:
      g_value_set_boolean (value, self->dot_stuff);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
msg_data_output_stream_set_property (GObject      *object,
                                     guint         prop_id,
                                     const GValue *value,
                                     GParamSpec   *pspec)
{
  MsgDataOutputStream *self = MSG_DATA_OUTPUT_STREAM (object);

  switch (prop_id)
    {
    case PROP_DOT_STUFF:
      self->dot_stuff = g_value_get_boolean (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
msg_data_output_stream_class_init (MsgDataOutputStreamClass *klass)
{
  GObjectClass       *object_class = G_OBJECT_CLASS (klass);
  GOutputStreamClass *stream_class = G_OUTPUT_STREAM_CLASS (klass);

  object_class->finalize = msg_data_output_stream_finalize;
  object_class->get_property = msg_data_output_stream_get_property;
  object_class->set_property = msg_data_output_stream_set_property;

  stream_class->write_fn = msg_data_output_stream_write;
  stream_class->flush = msg_data_output_stream_flush;
  stream_class->close_fn = msg_data_output_stream_close;

  /**
   * MsgDataOutputStream:dot-stuff:
   *
   * Whether a `.` at the start of a line is doubled and
   * [method@DataOutputStream.finish] writes the final `.` line.
   */
  properties[PROP_DOT_STUFF] =
      g_param_spec_boolean ("dot-stuff", NULL, NULL, FALSE,
                            G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
msg_data_output_stream_init (MsgDataOutputStream *self)
{
  self->at_line_start = TRUE;
}
