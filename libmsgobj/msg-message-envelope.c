/* msg-message-envelope.c: what transports need of a message
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-message-private.h"

#include "msg-address-utils-private.h"
#include "msg-configuration.h"
#include "msg-counting-stream-private.h"
#include "msg-file-stream-private.h"
#include "msg-mime-utils-private.h"
#include "msg-timezone-private.h"

#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* For transports */

static gboolean
is_valid_domain (const char *domain)
{
  if (domain == NULL || *domain == '\0' || strlen (domain) > 253)
    return FALSE;

  for (const char *p = domain; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '.')
      return FALSE;

  return domain[0] != '.' && domain[0] != '-';
}

static char *
generate_message_id (MsgMessage *self)
{
  g_autofree char *sender = msg_message_get_envelope_sender (self, NULL);
  const char      *domain = NULL;
  guint32          random[4];

  if (sender != NULL)
    {
      const char *at = strrchr (sender, '@');

      if (at != NULL && is_valid_domain (at + 1))
        domain = at + 1;
    }

  if (domain == NULL)
    domain = g_get_host_name ();
  if (!is_valid_domain (domain))
    domain = "localhost";

  /* 128 random bits as 32 hexadecimal digits, as a UUID's without its
   * dashes would be, in a quarter of the instructions. */
  for (gsize i = 0; i < G_N_ELEMENTS (random); i++)
    random[i] = g_random_int ();
  return g_strdup_printf ("%08" G_GINT32_MODIFIER "X%08" G_GINT32_MODIFIER "X%08" G_GINT32_MODIFIER
                          "X%08" G_GINT32_MODIFIER "X.%" G_GINT64_FORMAT "@%s",
                          random[0], random[1], random[2], random[3], g_get_real_time () / G_USEC_PER_SEC, domain);
}

GTimeZone *
_msg_message_get_timezone (MsgMessage *self)
{
  g_autofree char *id = msg_configuration_get_field (self->configuration, "timezoneid");
  const char      *reason = NULL;

  if (id == NULL || *id == '\0')
    return NULL;
  /* Validated when it was set. */
  return _msg_timezone_new_for_id (id, &reason);
}

/**
 * msg_message_prepare_for_sending:
 * @self: a message
 * @error: return location for an error
 *
 * Readies the message for a transport: builds its MIME tree and adds a
 * `Date` (now, in the configuration's `timezoneid`, else in local time) and a `Message-ID` (a random id at the domain of
 * the envelope sender, else of this host) when they are absent. Every send
 * or post call of [class@Transport] calls this at the call, so a
 * transport's virtual functions get the message ready; applications rarely
 * need to call it (calling it again changes nothing).
 *
 * Returns: %TRUE on success
 */
gboolean
msg_message_prepare_for_sending (MsgMessage *self,
                                 GError    **error)
{
  g_return_val_if_fail (MSG_IS_MESSAGE (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  _msg_message_ensure_tree (self);

  if (g_mime_object_get_header (GMIME_OBJECT (self->mime), "Date") == NULL)
    {
      g_autoptr (GTimeZone) tz = _msg_message_get_timezone (self);
      g_autoptr (GDateTime) now = NULL;

      if (tz == NULL)
        tz = _msg_timezone_new_local ();
      now = g_date_time_new_now (tz);
      msg_message_set_sent_on (self, now);
    }

  if (g_mime_object_get_header (GMIME_OBJECT (self->mime), "Message-Id") == NULL)
    {
      g_autofree char *id = generate_message_id (self);

      g_mime_message_set_message_id (self->mime, id);
      g_object_notify (G_OBJECT (self), "message-id");
    }

  return TRUE;
}

/**
 * msg_message_get_envelope_sender:
 * @self: a message
 * @error: return location for an error
 *
 * Gets the envelope sender (SMTP `MAIL FROM`): the bare address of
 * `Sender`, else of the first `From` mailbox, else the configuration's
 * `sendemailaddress`.
 *
 * Returns: (transfer full): the address, or %NULL with
 *   %MSG_MESSAGE_ERROR_NO_SENDER
 */
char *
msg_message_get_envelope_sender (MsgMessage *self,
                                 GError    **error)
{
  const char      *addr;
  g_autofree char *configured = NULL;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  addr = _msg_first_mailbox (g_mime_message_get_addresses (self->mime, GMIME_ADDRESS_TYPE_SENDER));
  if (addr == NULL)
    addr = _msg_first_mailbox (g_mime_message_get_addresses (self->mime, GMIME_ADDRESS_TYPE_FROM));
  if (addr != NULL)
    return g_strdup (addr);

  configured = msg_configuration_get_field (self->configuration, "sendemailaddress");
  if (configured != NULL && *configured != '\0')
    {
      g_autoptr (InternetAddressList) list = _msg_parse_address_list ("sendemailaddress", configured, FALSE, NULL);

      addr = _msg_first_mailbox (list);
      if (addr != NULL)
        return g_strdup (addr);
    }

  g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_NO_SENDER,
                       "The message has neither From nor Sender, and sendemailaddress is not set");
  return NULL;
}

/* Fills an empty header of @type from the configuration field @field. */
static gboolean
apply_configured (MsgMessage      *self,
                  GMimeAddressType type,
                  const char      *field,
                  GError         **error)
{
  g_autofree char *value = NULL;
  g_autoptr (InternetAddressList) list = NULL;
  InternetAddressList *current = g_mime_message_get_addresses (self->mime, type);

  if (current != NULL && internet_address_list_length (current) > 0)
    return TRUE;

  value = msg_configuration_get_field (self->configuration, field);
  if (value == NULL || *value == '\0')
    return TRUE;

  /* Parsed first so that an error names the configuration field. */
  list = _msg_parse_address_list (field, value, FALSE, error);
  if (list == NULL)
    return FALSE;

  if (type == GMIME_ADDRESS_TYPE_FROM)
    return msg_message_set_from (self, value, error);
  return msg_message_set_reply_to (self, value, error);
}

/* CDO's defaults, applied when a send or post is called: a message with
 * no From gets `sendemailaddress` (`postemailaddress` for a post), and
 * one with no Reply-To gets `senduserreplyemailaddress`
 * (`postuserreplyemailaddress`). The message keeps them, as it keeps the
 * Date and Message-ID a transport adds. */
gboolean
_msg_message_apply_configured_addresses (MsgMessage *self,
                                         gboolean    post,
                                         GError    **error)
{
  return apply_configured (self, GMIME_ADDRESS_TYPE_FROM,
                           post ? "postemailaddress" : "sendemailaddress", error) &&
         apply_configured (self, GMIME_ADDRESS_TYPE_REPLY_TO,
                           post ? "postuserreplyemailaddress" : "senduserreplyemailaddress", error);
}

static void
add_recipients (InternetAddressList *list,
                GHashTable          *seen,
                GPtrArray           *out)
{
  for (int i = 0; list != NULL && i < internet_address_list_length (list); i++)
    {
      InternetAddress *address = internet_address_list_get_address (list, i);

      if (INTERNET_ADDRESS_IS_GROUP (address))
        add_recipients (internet_address_group_get_members (INTERNET_ADDRESS_GROUP (address)), seen, out);
      else
        {
          const char *addr = internet_address_mailbox_get_addr (INTERNET_ADDRESS_MAILBOX (address));
          char       *key;

          if (addr == NULL || *addr == '\0')
            continue;
          key = g_utf8_casefold (addr, -1);
          if (g_hash_table_add (seen, key))
            g_ptr_array_add (out, g_strdup (addr));
        }
    }
}

/**
 * msg_message_get_envelope_recipients:
 * @self: a message
 * @error: return location for an error
 *
 * Gets the envelope recipients (SMTP `RCPT TO`): the bare addresses of
 * `To`, `Cc` and `Bcc`, group members included, without duplicates
 * (compared case-insensitively; the first spelling is kept).
 *
 * Returns: (transfer full): the addresses, or %NULL with
 *   %MSG_MESSAGE_ERROR_NO_RECIPIENTS
 */
GStrv
msg_message_get_envelope_recipients (MsgMessage *self,
                                     GError    **error)
{
  g_autoptr (GHashTable) seen = NULL;
  g_autoptr (GPtrArray) out = NULL;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  out = g_ptr_array_new_with_free_func (g_free);
  add_recipients (g_mime_message_get_addresses (self->mime, GMIME_ADDRESS_TYPE_TO), seen, out);
  add_recipients (g_mime_message_get_addresses (self->mime, GMIME_ADDRESS_TYPE_CC), seen, out);
  add_recipients (g_mime_message_get_addresses (self->mime, GMIME_ADDRESS_TYPE_BCC), seen, out);

  if (out->len == 0)
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_NO_RECIPIENTS,
                           "The message has no recipient in To, Cc or Bcc");
      return NULL;
    }

  g_ptr_array_set_free_func (out, NULL);
  g_ptr_array_add (out, NULL);
  return (GStrv) g_ptr_array_free (g_steal_pointer (&out), FALSE);
}

static gboolean
has_8bit (const char *text)
{
  for (const guchar *p = (const guchar *) text; p != NULL && *p != '\0'; p++)
    if (*p >= 0x80)
      return TRUE;

  return FALSE;
}

static gboolean
headers_have_8bit (GMimeObject *object)
{
  GMimeHeaderList *headers = g_mime_object_get_header_list (object);

  for (int i = 0; i < g_mime_header_list_get_count (headers); i++)
    {
      GMimeHeader *header = g_mime_header_list_get_header_at (headers, i);

      if (has_8bit (g_mime_header_get_raw_value (header)))
        return TRUE;
    }

  return FALSE;
}

static gboolean
object_has_8bit (GMimeObject *object)
{
  if (headers_have_8bit (object))
    return TRUE;

  if (GMIME_IS_MULTIPART (object))
    {
      GMimeMultipart *multipart = GMIME_MULTIPART (object);

      if (has_8bit (g_mime_multipart_get_prologue (multipart)) ||
          has_8bit (g_mime_multipart_get_epilogue (multipart)))
        return TRUE;

      for (int i = 0; i < g_mime_multipart_get_count (multipart); i++)
        if (object_has_8bit (g_mime_multipart_get_part (multipart, i)))
          return TRUE;

      return FALSE;
    }

  if (GMIME_IS_MESSAGE_PART (object))
    {
      GMimeMessage *inner = g_mime_message_part_get_message (GMIME_MESSAGE_PART (object));

      return inner != NULL && (headers_have_8bit (GMIME_OBJECT (inner)) ||
                               (g_mime_message_get_mime_part (inner) != NULL &&
                                object_has_8bit (g_mime_message_get_mime_part (inner))));
    }

  if (GMIME_IS_PART (object))
    {
      GMimeContentEncoding encoding = g_mime_part_get_content_encoding (GMIME_PART (object));
      GMimeDataWrapper    *wrapper = g_mime_part_get_content (GMIME_PART (object));
      GMimeStream         *stream = wrapper != NULL ? g_mime_data_wrapper_get_stream (wrapper) : NULL;

      switch (encoding)
        {
        case GMIME_CONTENT_ENCODING_8BIT:
        case GMIME_CONTENT_ENCODING_BINARY:
          return TRUE;
        case GMIME_CONTENT_ENCODING_DEFAULT:
        case GMIME_CONTENT_ENCODING_7BIT:
          if (stream != NULL && !MSG_IS_FILE_STREAM (stream) &&
              g_mime_data_wrapper_get_encoding (wrapper) == encoding)
            {
              g_autoptr (GMimeStream) sub = g_mime_stream_substream (stream, stream->bound_start, stream->bound_end);
              char    buf[4096];
              ssize_t n;

              while ((n = g_mime_stream_read (sub, buf, sizeof buf)) > 0)
                for (ssize_t k = 0; k < n; k++)
                  if ((guchar) buf[k] >= 0x80)
                    return TRUE;
            }
          return FALSE;
        default:
          return FALSE;
        }
    }

  return FALSE;
}

/* Re-encoding for a write (MSG_WRITE_FLAGS_LINE_LIMIT, _7BIT): a server
 * that has not said it accepts 8-bit content (8BITMIME), and any SMTP
 * server for lines over 998 octets, gets such parts in quoted-printable or
 * base64 instead of raw (issue 14, item 7). */

typedef struct
{
  GMimePart           *part; /* (owned) */
  GMimeContentEncoding encoding;
} SavedEncoding;

static void
saved_encoding_free (gpointer data)
{
  SavedEncoding *saved = data;

  g_object_unref (saved->part);
  g_free (saved);
}

static gboolean
encode_object (GMimeObject            *object,
               GMimeEncodingConstraint constraint,
               gboolean                signed_above,
               GPtrArray              *saved,
               GError                **error)
{
  if (GMIME_IS_MULTIPART (object))
    {
      GMimeMultipart *multipart = GMIME_MULTIPART (object);
      gboolean        is_signed = signed_above || GMIME_IS_MULTIPART_SIGNED (object);

      for (int i = 0; i < g_mime_multipart_get_count (multipart); i++)
        if (!encode_object (g_mime_multipart_get_part (multipart, i), constraint, is_signed, saved, error))
          return FALSE;
      return TRUE;
    }
  if (GMIME_IS_MESSAGE_PART (object))
    {
      GMimeMessage *inner = g_mime_message_part_get_message (GMIME_MESSAGE_PART (object));

      if (inner == NULL || g_mime_message_get_mime_part (inner) == NULL)
        return TRUE;
      return encode_object (g_mime_message_get_mime_part (inner), constraint, signed_above, saved, error);
    }
  if (GMIME_IS_PART (object))
    {
      GMimePart           *part = GMIME_PART (object);
      GMimeContentEncoding encoding = g_mime_part_get_content_encoding (part);
      GMimeContentEncoding best;
      SavedEncoding       *entry;

      /* Already 7-bit with short lines whatever the content. */
      if (encoding == GMIME_CONTENT_ENCODING_BASE64 || encoding == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
          encoding == GMIME_CONTENT_ENCODING_UUENCODE || g_mime_part_get_content (part) == NULL)
        return TRUE;
      /* A text part the library built and checked, unchanged since. */
      if (_msg_mime_part_is_short_7bit (part))
        return TRUE;
      best = g_mime_part_get_best_content_encoding (part, constraint);
      if (best != GMIME_CONTENT_ENCODING_BASE64 && best != GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE)
        return TRUE;
      if (signed_above)
        {
          g_autofree char *type = g_mime_content_type_get_mime_type (g_mime_object_get_content_type (object));

          g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED,
                       "A %s part inside multipart/signed has %s: it cannot be re-encoded "
                       "without breaking the signature",
                       type, constraint == GMIME_ENCODING_CONSTRAINT_7BIT ? "8-bit content or lines over 998 octets" : "lines over 998 octets or NUL bytes");
          return FALSE;
        }
      entry = g_new0 (SavedEncoding, 1);
      entry->part = g_object_ref (part);
      entry->encoding = encoding;
      g_ptr_array_add (saved, entry);
      g_mime_part_set_content_encoding (part, best);
      return TRUE;
    }
  return TRUE;
}

gboolean
_msg_message_encode_for_write (MsgMessage   *self,
                               MsgWriteFlags flags,
                               GPtrArray   **saved,
                               GError      **error)
{
  GMimeObject *root = g_mime_message_get_mime_part (self->mime);

  *saved = NULL;
  if (root == NULL || (flags & (MSG_WRITE_FLAGS_LINE_LIMIT | MSG_WRITE_FLAGS_ENCODE_8BIT)) == 0)
    return TRUE;
  *saved = g_ptr_array_new_with_free_func (saved_encoding_free);
  return encode_object (root,
                        (flags & MSG_WRITE_FLAGS_ENCODE_8BIT) ? GMIME_ENCODING_CONSTRAINT_7BIT
                                                              : GMIME_ENCODING_CONSTRAINT_8BIT,
                        FALSE, *saved, error);
}

void
_msg_message_restore_encodings (GPtrArray *saved)
{
  if (saved == NULL)
    return;
  for (guint i = 0; i < saved->len; i++)
    {
      SavedEncoding *entry = g_ptr_array_index (saved, i);

      g_mime_part_set_content_encoding (entry->part, entry->encoding);
    }
  g_ptr_array_unref (saved);
}

gboolean
_msg_message_claim (MsgMessage *self,
                    GError    **error)
{
  if (!g_atomic_int_compare_and_exchange (&self->sending, FALSE, TRUE))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PENDING,
                           "The message is already being sent or posted by another operation; "
                           "send a copy (msg_message_new_from_bytes) to send it twice at once");
      return FALSE;
    }
  return TRUE;
}

void
_msg_message_release (MsgMessage *self)
{
  g_clear_pointer (&self->spool, g_bytes_unref);
  g_atomic_int_set (&self->sending, FALSE);
}

/* The spool is written in pieces of this size: progress and the
 * cancellable are seen between them, as on a write from the tree. */
#define SPOOL_WRITE_SIZE 16384

gboolean
_msg_message_write_spool (MsgMessage    *self,
                          GOutputStream *stream,
                          MsgWriteFlags  flags,
                          gboolean      *written,
                          GCancellable  *cancellable,
                          GError       **error)
{
  const guint8 *data;
  gsize         size;

  *written = FALSE;
  if (self->spool == NULL || self->spool_flags != flags || !g_atomic_int_get (&self->sending))
    return TRUE;
  *written = TRUE;
  data = g_bytes_get_data (self->spool, &size);
  for (gsize done = 0; done < size;)
    {
      gsize n = MIN (size - done, SPOOL_WRITE_SIZE);

      if (!g_output_stream_write_all (stream, data + done, n, NULL, cancellable, error))
        return FALSE;
      done += n;
    }
  return g_output_stream_flush (stream, cancellable, error);
}

/* Measuring a large message without encoding its attachments (issue 18,
 * docs/design.md decision 13). GMime writes a leaf part whose transfer
 * encoding is base64 and whose content is raw (its data wrapper not
 * encoded) through its base64 encoder, which ends a line after every 19
 * quartets (76 characters) and the last line, if any, after its padding,
 * then through the newline filter, which makes each of those line ends
 * CRLF (the MIME sink leaves CRLF alone): n > 0 octets of content become
 * exactly 4q + 2 * ceil (q / 19) octets, q = ceil (n / 3), ending in CRLF
 * so that nothing is added after them. Nothing else written depends on
 * the content. So such a part whose content has a length known without
 * reading it (a file attachment, a memory buffer, a regular file) is
 * measured with a one-octet stand-in for its content, and the difference
 * is added. Anything else (quoted-printable, raw text whose line ends the
 * writer converts, filtered or encoded streams) is written to be counted,
 * as before. */

/* One octet of content in base64: "AA==" and CRLF. */
#define STAND_IN_ENCODED 6

typedef struct
{
  GMimeDataWrapper *wrapper; /* (owned) */
  GMimeStream      *content; /* (owned): the wrapper's stream, put back after */
  guint64           encoded; /* what its content is on the wire */
} StandIn;

static void
stand_in_free (gpointer data)
{
  StandIn *stand_in = data;

  g_object_unref (stand_in->wrapper);
  g_object_unref (stand_in->content);
  g_free (stand_in);
}

static guint64
base64_wire_length (guint64 n)
{
  guint64 quartets = (n + 2) / 3;

  return 4 * quartets + 2 * ((quartets + 18) / 19);
}

/* The octets a write reads from @stream from its start to its end, if
 * they are known without reading it, as stat() or the buffer tells;
 * otherwise -1. A file that is not a regular file, or cannot be read, is
 * left to the write, which reports it. */
static gint64
known_content_length (GMimeStream *stream)
{
  gint64 end;

  if (MSG_IS_FILE_STREAM (stream))
    {
      const char *path = _msg_file_stream_get_path (MSG_FILE_STREAM (stream));
      GStatBuf    st;

      if (g_stat (path, &st) != 0 || !S_ISREG (st.st_mode) || g_access (path, R_OK) != 0)
        return -1;
      end = st.st_size;
    }
  else if (GMIME_IS_STREAM_FS (stream))
    {
      struct stat st;

      if (fstat (GMIME_STREAM_FS (stream)->fd, &st) != 0 || !S_ISREG (st.st_mode))
        return -1;
      end = st.st_size;
    }
  else if (GMIME_IS_STREAM_MEM (stream))
    {
      GByteArray *array = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (stream));

      if (array == NULL)
        return -1;
      end = array->len;
    }
  else
    return -1;

  /* A bound past the end: left to the write (GMime reads past the
   * buffer of a GMimeStreamMem, a file may have shrunk). */
  if (stream->bound_end != -1)
    {
      if (stream->bound_end > end)
        return -1;
      end = stream->bound_end;
    }
  return end >= stream->bound_start ? end - stream->bound_start : -1;
}

/* Whether GMime writes @object as a GMimePart and base64-encodes its
 * raw content itself; its content's length, if known, in *@length. */
static gboolean
is_computable_leaf (GMimeObject *object,
                    gint64      *length)
{
  GMimeObjectClass *part_class = g_type_class_peek (GMIME_TYPE_PART);
  GMimeDataWrapper *wrapper;
  GMimeStream      *stream;

  if (!GMIME_IS_PART (object) || part_class == NULL ||
      GMIME_OBJECT_GET_CLASS (object)->write_to_stream != part_class->write_to_stream ||
      g_mime_part_get_content_encoding (GMIME_PART (object)) != GMIME_CONTENT_ENCODING_BASE64)
    return FALSE;
  wrapper = g_mime_part_get_content (GMIME_PART (object));
  if (wrapper == NULL || G_OBJECT_TYPE (wrapper) != GMIME_TYPE_DATA_WRAPPER)
    return FALSE;
  switch (g_mime_data_wrapper_get_encoding (wrapper))
    {
    case GMIME_CONTENT_ENCODING_BASE64:
    case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
    case GMIME_CONTENT_ENCODING_UUENCODE:
      return FALSE; /* decoded first: its raw length is not known */
    default:
      break;
    }
  stream = g_mime_data_wrapper_get_stream (wrapper);
  *length = stream != NULL ? known_content_length (stream) : -1;
  return *length > 0;
}

/* What a measure put in place of the contents of computable leaves. */
typedef struct
{
  GMimeStream *stand_in;  /* (owned) (nullable): made at the first leaf */
  GPtrArray   *saved;     /* (owned) (nullable) (element-type StandIn) */
  guint64      encoded;   /* the sum of their encoded lengths */
  guint        n_written; /* the stand-ins the write will meet */
} StandIns;

/* The entry of @object if its content is the stand-in already: a part
 * met twice in the tree, written twice. */
static StandIn *
find_replaced (GMimeObject *object,
               StandIns    *stand_ins)
{
  GMimeDataWrapper *wrapper = GMIME_IS_PART (object) ? g_mime_part_get_content (GMIME_PART (object)) : NULL;

  if (wrapper == NULL || stand_ins->stand_in == NULL ||
      g_mime_data_wrapper_get_stream (wrapper) != stand_ins->stand_in)
    return NULL;
  for (guint i = 0; i < stand_ins->saved->len; i++)
    {
      StandIn *entry = g_ptr_array_index (stand_ins->saved, i);

      if (entry->wrapper == wrapper)
        return entry;
    }
  return NULL;
}

/* Puts the stand-in in place of the content of every leaf below @object
 * whose encoded length is computable, keeping what to put back. */
static void
stand_in_leaves (GMimeObject *object,
                 StandIns    *stand_ins)
{
  StandIn *entry;
  gint64   length;

  if (GMIME_IS_MULTIPART (object))
    {
      GMimeMultipart *multipart = GMIME_MULTIPART (object);

      for (int i = 0; i < g_mime_multipart_get_count (multipart); i++)
        stand_in_leaves (g_mime_multipart_get_part (multipart, i), stand_ins);
    }
  else if (GMIME_IS_MESSAGE_PART (object))
    {
      GMimeMessage *inner = g_mime_message_part_get_message (GMIME_MESSAGE_PART (object));

      if (inner != NULL && g_mime_message_get_mime_part (inner) != NULL)
        stand_in_leaves (g_mime_message_get_mime_part (inner), stand_ins);
    }
  else if ((entry = find_replaced (object, stand_ins)) != NULL)
    {
      stand_ins->encoded += entry->encoded;
      stand_ins->n_written++;
    }
  else if (is_computable_leaf (object, &length))
    {
      GMimeDataWrapper *wrapper = g_mime_part_get_content (GMIME_PART (object));

      if (stand_ins->stand_in == NULL)
        {
          stand_ins->stand_in = g_mime_stream_mem_new_with_buffer ("", 1);
          stand_ins->saved = g_ptr_array_new_with_free_func (stand_in_free);
        }
      entry = g_new0 (StandIn, 1);
      entry->wrapper = g_object_ref (wrapper);
      entry->content = g_object_ref (g_mime_data_wrapper_get_stream (wrapper));
      entry->encoded = base64_wire_length ((guint64) length);
      g_ptr_array_add (stand_ins->saved, entry);
      g_mime_data_wrapper_set_stream (wrapper, stand_ins->stand_in);
      stand_ins->encoded += entry->encoded;
      stand_ins->n_written++;
    }
}

/* Puts the contents back, the last replaced first (a wrapper met twice
 * gets its own content back last), and frees the rest. */
static void
restore_leaves (StandIns *stand_ins)
{
  for (guint i = stand_ins->saved != NULL ? stand_ins->saved->len : 0; i > 0; i--)
    {
      StandIn *entry = g_ptr_array_index (stand_ins->saved, i - 1);

      g_mime_data_wrapper_set_stream (entry->wrapper, entry->content);
    }
  g_clear_pointer (&stand_ins->saved, g_ptr_array_unref);
  g_clear_object (&stand_ins->stand_in);
}

/* Measures the message with stand-ins for its computable leaves, if
 * their encoded content alone is over @threshold octets; *@measured says
 * whether it did. */
static gboolean
measure_with_stand_ins (MsgMessage   *self,
                        MsgWriteFlags flags,
                        guint64       threshold,
                        guint64      *size,
                        gboolean     *measured,
                        GCancellable *cancellable,
                        GError      **error)
{
  g_autoptr (GOutputStream) counter = NULL;
  StandIns     stand_ins = { 0 };
  GMimeObject *root;
  gboolean     ok;

  *measured = FALSE;
  _msg_message_ensure_tree (self);
  root = g_mime_message_get_mime_part (self->mime);
  if (root == NULL)
    return TRUE;
  stand_in_leaves (root, &stand_ins);
  if (stand_ins.n_written == 0 || stand_ins.encoded <= threshold)
    {
      restore_leaves (&stand_ins);
      return TRUE;
    }

  *measured = TRUE;
  counter = _msg_counting_stream_new (NULL, NULL, NULL);
  ok = msg_message_write_to_stream_full (self, counter, flags, cancellable, error);
  restore_leaves (&stand_ins);
  if (!ok)
    return FALSE;
  *size = _msg_counting_stream_get_count (MSG_COUNTING_STREAM (counter)) + stand_ins.encoded -
          (guint64) stand_ins.n_written * STAND_IN_ENCODED;
  return TRUE;
}

/**
 * msg_message_measure:
 * @self: a message
 * @flags: how the message will be written
 * @size: (out): return location for the size in bytes
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Writes the message once to nowhere, as
 * [method@Message.write_to_stream_full] would write it with @flags (CRLF
 * line ends, not dot-stuffed), and counts its bytes: RFC 1870's `SIZE`,
 * the total of the `progress` signal and the automatic deadline of a
 * transport. Every header is checked as on a real write, so a message
 * that cannot be written fails here, before any I/O. For transport
 * implementations.
 *
 * While a transport's operation holds the message (from the send or post
 * call until it ends), a message of at most 256 KiB is kept in memory as
 * written, and the transport's write of it with the same @flags that
 * follows copies those bytes instead of writing the message again: it is
 * serialised once. A larger message is not held; but a body part in
 * base64 whose content is a file (an attachment) or a buffer is then not
 * encoded to be measured: its encoded length follows from its length,
 * so a large attachment is read and encoded once per send. Outside an
 * operation that is so whatever the size.
 *
 * Returns: whether the message could be written
 */
gboolean
msg_message_measure (MsgMessage   *self,
                     MsgWriteFlags flags,
                     guint64      *size,
                     GCancellable *cancellable,
                     GError      **error)
{
  g_autoptr (GOutputStream) counter = NULL;
  gboolean claimed;
  gboolean measured;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), FALSE);
  g_return_val_if_fail (size != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  claimed = g_atomic_int_get (&self->sending);
  if (claimed && self->spool != NULL && self->spool_flags == flags)
    {
      /* Measured already in this operation (a pipelined envelope). */
      *size = g_bytes_get_size (self->spool);
      return !g_cancellable_set_error_if_cancelled (cancellable, error);
    }
  /* Attachments too large to be kept are not encoded to be measured; when
   * nothing is kept (no operation holds the message), none are. */
  if (!measure_with_stand_ins (self, flags, claimed ? MSG_MESSAGE_SPOOL_LIMIT : 0, size, &measured,
                               cancellable, error))
    return FALSE;
  if (measured)
    {
      if (claimed)
        {
          g_clear_pointer (&self->spool, g_bytes_unref);
          self->spool_flags = flags;
        }
      return TRUE;
    }
  counter = _msg_counting_stream_new (NULL, NULL, NULL);
  if (claimed)
    _msg_counting_stream_keep (MSG_COUNTING_STREAM (counter), MSG_MESSAGE_SPOOL_LIMIT);
  if (!msg_message_write_to_stream_full (self, counter, flags, cancellable, error))
    return FALSE;
  *size = _msg_counting_stream_get_count (MSG_COUNTING_STREAM (counter));
  if (claimed)
    {
      g_clear_pointer (&self->spool, g_bytes_unref);
      self->spool = _msg_counting_stream_steal_kept (MSG_COUNTING_STREAM (counter));
      self->spool_flags = flags;
    }
  return TRUE;
}

/**
 * msg_message_has_8bit_content:
 * @self: a message
 *
 * Gets whether the message as written contains bytes above 127: raw UTF-8
 * in a header (an internationalised address) or a body part with an
 * `8bit` or `binary` transfer encoding. Messages built by the library
 * encode their bodies to 7 bits; parsed messages may not.
 *
 * Returns: %TRUE if the message needs 8BITMIME (or SMTPUTF8)
 */
gboolean
msg_message_has_8bit_content (MsgMessage *self)
{
  GMimeObject *root;

  g_return_val_if_fail (MSG_IS_MESSAGE (self), FALSE);

  _msg_message_ensure_tree (self);
  if (headers_have_8bit (GMIME_OBJECT (self->mime)))
    return TRUE;

  root = g_mime_message_get_mime_part (self->mime);
  return root != NULL && object_has_8bit (root);
}

/* The headers that make an article act on a server rather than be read:
 * Control cancels articles and creates or removes groups, Approved posts
 * to a moderated group, Supersedes replaces (cancels) another article
 * (RFC 5536 and 5537). */
static const char *const control_headers[] = { "Control", "Approved", "Supersedes", NULL };

/* An article with one of control_headers is posted only when the
 * configuration says nntpallowcontrolheaders (a moderator's tool): a
 * message taken from elsewhere (parsed, forwarded, or with a header set
 * from user input) must not cancel other people's articles (issue 14,
 * item 12). */
gboolean
_msg_message_check_control_headers (MsgMessage       *message,
                                    MsgConfiguration *configuration,
                                    GError          **error)
{
  if (msg_configuration_get_boolean (configuration, "nntpallowcontrolheaders"))
    return TRUE;
  for (guint i = 0; control_headers[i] != NULL; i++)
    {
      g_autofree char *value = msg_message_get_header (message, control_headers[i]);

      if (value != NULL)
        {
          g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                       "Refusing to post an article with a %s header (it acts on the news "
                       "server: cancels, approvals, replacements); set the field "
                       "nntpallowcontrolheaders to allow it",
                       control_headers[i]);
          return FALSE;
        }
    }
  return TRUE;
}

gboolean
_msg_message_check_for_transport (MsgMessage *message,
                                  gboolean    post,
                                  GError    **error)
{
  if (!post)
    {
      g_auto (GStrv) recipients = NULL;
      g_autofree char *sender = NULL;

      recipients = msg_message_get_envelope_recipients (message, error);
      if (recipients == NULL)
        return FALSE;
      sender = msg_message_get_envelope_sender (message, error);
      if (sender == NULL)
        return FALSE;
    }
  else
    {
      g_autofree char *newsgroups = msg_message_get_newsgroups (message);
      g_autofree char *subject = msg_message_get_subject (message);
      g_autofree char *from = msg_message_get_from (message);

      if (newsgroups == NULL || *newsgroups == '\0')
        {
          g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_NO_NEWSGROUPS,
                               "A news article needs Newsgroups");
          return FALSE;
        }
      if (from == NULL || *from == '\0')
        {
          g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_NO_SENDER,
                               "A news article needs a From address");
          return FALSE;
        }
      if (subject == NULL || *subject == '\0')
        {
          g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_NO_SUBJECT,
                               "A news article needs a Subject");
          return FALSE;
        }
    }
  return TRUE;
}
