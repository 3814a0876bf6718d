/* msg-body-part.c
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-body-part-private.h"

#include "msg-charset-private.h"
#include "msg-concat-stream-private.h"
#include "msg-file-stream-private.h"
#include "msg-file-utils-private.h"
#include "msg-header-utils-private.h"
#include "msg-message.h"
#include "msg-mime-sink-private.h"
#include "msg-mime-utils-private.h"

#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

/**
 * MsgBodyPart:
 *
 * One node of a message's MIME tree: CDO's `BodyPart`.
 *
 * A body part is either a leaf with content (text, an attachment, a
 * related resource) or a multipart whose children are body parts. Get the
 * root with [method@Message.get_body_part] and the attachments with
 * [method@Message.get_attachments].
 *
 * Every value that becomes a header is validated: control characters, CR
 * and LF are refused with %MSG_MESSAGE_ERROR_INVALID_HEADER. Through
 * g_object_set() an invalid value is logged with a warning and the
 * property keeps its value: the setters with a #GError
 * ([method@BodyPart.set_charset] and the others) are the checked path.
 *
 * A body part belongs to its message: use it from the thread that uses the
 * message, and do not modify it while the message is being sent.
 */

struct _MsgBodyPart
{
  GObject parent_instance;

  GMimeObject *object; /* (owned) (not nullable) */
};

G_DEFINE_FINAL_TYPE (MsgBodyPart, msg_body_part, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_CONTENT_MEDIA_TYPE,
  PROP_CONTENT_TRANSFER_ENCODING,
  PROP_CHARSET,
  PROP_FILENAME,
  PROP_CONTENT_ID,
  PROP_CONTENT_DISPOSITION,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];

static GQuark wrapper_quark;

static void
msg_body_part_finalize (GObject *object)
{
  MsgBodyPart *self = MSG_BODY_PART (object);

  if (self->object != NULL)
    {
      if (g_object_get_qdata (G_OBJECT (self->object), wrapper_quark) == self)
        g_object_set_qdata (G_OBJECT (self->object), wrapper_quark, NULL);
      g_clear_object (&self->object);
    }

  G_OBJECT_CLASS (msg_body_part_parent_class)->finalize (object);
}

static void
msg_body_part_get_property (GObject    *object,
                            guint       prop_id,
                            GValue     *value,
                            GParamSpec *pspec)
{
  MsgBodyPart *self = MSG_BODY_PART (object);

  switch (prop_id)
    {
    case PROP_CONTENT_MEDIA_TYPE:
      g_value_take_string (value, msg_body_part_get_content_media_type (self));
      break;
    case PROP_CONTENT_TRANSFER_ENCODING:
      g_value_take_string (value, msg_body_part_get_content_transfer_encoding (self));
      break;
    case PROP_CHARSET:
      g_value_take_string (value, msg_body_part_get_charset (self));
      break;
    case PROP_FILENAME:
      g_value_take_string (value, msg_body_part_get_filename (self));
      break;
    case PROP_CONTENT_ID:
      g_value_take_string (value, msg_body_part_get_content_id (self));
      break;
    case PROP_CONTENT_DISPOSITION:
      g_value_take_string (value, msg_body_part_get_content_disposition (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
msg_body_part_set_property (GObject      *object,
                            guint         prop_id,
                            const GValue *value,
                            GParamSpec   *pspec)
{
  MsgBodyPart *self = MSG_BODY_PART (object);
  const char  *str = g_value_get_string (value);
  g_autoptr (GError) error = NULL;
  gboolean ok = TRUE;

  switch (prop_id)
    {
    case PROP_CONTENT_MEDIA_TYPE:
      ok = msg_body_part_set_content_media_type (self, str, &error);
      break;
    case PROP_CONTENT_TRANSFER_ENCODING:
      ok = msg_body_part_set_content_transfer_encoding (self, str, &error);
      break;
    case PROP_CHARSET:
      ok = msg_body_part_set_charset (self, str, &error);
      break;
    case PROP_FILENAME:
      ok = msg_body_part_set_filename (self, str, &error);
      break;
    case PROP_CONTENT_ID:
      ok = msg_body_part_set_content_id (self, str, &error);
      break;
    case PROP_CONTENT_DISPOSITION:
      ok = msg_body_part_set_content_disposition (self, str, &error);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }

  if (!ok)
    {
      g_autofree char *function = g_strdelimit (g_strdup (pspec->name), "-", '_');

      /* A property cannot report an error: say which call can. */
      g_warning ("Cannot set the “%s” property of a body part: %s; "
                 "msg_body_part_set_%s() returns the error",
                 pspec->name, error->message, function);
    }
}

static void
msg_body_part_constructed (GObject *object)
{
  MsgBodyPart *self = MSG_BODY_PART (object);

  G_OBJECT_CLASS (msg_body_part_parent_class)->constructed (object);

  /* A body part made with g_object_new() alone (bindings) is an empty
   * text/plain leaf; the library replaces it in _msg_body_part_wrap(). */
  if (self->object == NULL)
    {
      GMimeTextPart *part = g_mime_text_part_new_with_subtype ("plain");

      g_mime_object_set_content_type_parameter (GMIME_OBJECT (part), "charset", "utf-8");
      self->object = GMIME_OBJECT (part);
      g_object_set_qdata (G_OBJECT (self->object), wrapper_quark, self);
    }
}

static void
msg_body_part_class_init (MsgBodyPartClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  _msg_gmime_ensure_init ();
  wrapper_quark = g_quark_from_static_string ("msg-body-part-wrapper");

  object_class->finalize = msg_body_part_finalize;
  object_class->get_property = msg_body_part_get_property;
  object_class->set_property = msg_body_part_set_property;
  object_class->constructed = msg_body_part_constructed;

  /**
   * MsgBodyPart:content-media-type: (getter get_content_media_type) (setter set_content_media_type)
   *
   * The media type, `type/subtype`, of the part's `Content-Type`.
   */
  properties[PROP_CONTENT_MEDIA_TYPE] =
      g_param_spec_string ("content-media-type", NULL, NULL, NULL,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MsgBodyPart:content-transfer-encoding: (getter get_content_transfer_encoding) (setter set_content_transfer_encoding)
   *
   * The `Content-Transfer-Encoding`: `7bit`, `8bit`, `binary`, `base64`,
   * `quoted-printable` or `x-uuencode`.
   */
  properties[PROP_CONTENT_TRANSFER_ENCODING] =
      g_param_spec_string ("content-transfer-encoding", NULL, NULL, NULL,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MsgBodyPart:charset: (getter get_charset) (setter set_charset)
   *
   * The `charset` parameter of the `Content-Type`.
   */
  properties[PROP_CHARSET] =
      g_param_spec_string ("charset", NULL, NULL, NULL,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MsgBodyPart:filename: (getter get_filename) (setter set_filename)
   *
   * The file name (the `filename` parameter of `Content-Disposition`, and
   * `name` of `Content-Type`).
   */
  properties[PROP_FILENAME] =
      g_param_spec_string ("filename", NULL, NULL, NULL,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MsgBodyPart:content-id: (getter get_content_id) (setter set_content_id)
   *
   * The `Content-ID`, without its angle brackets (as used in `cid:` URLs).
   */
  properties[PROP_CONTENT_ID] =
      g_param_spec_string ("content-id", NULL, NULL, NULL,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  /**
   * MsgBodyPart:content-disposition: (getter get_content_disposition) (setter set_content_disposition)
   *
   * The disposition (`attachment` or `inline`) without parameters.
   */
  properties[PROP_CONTENT_DISPOSITION] =
      g_param_spec_string ("content-disposition", NULL, NULL, NULL,
                           G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
msg_body_part_init (MsgBodyPart *self)
{
}

/* Private API */

MsgBodyPart *
_msg_body_part_wrap (GMimeObject *object)
{
  MsgBodyPart *self;

  g_return_val_if_fail (GMIME_IS_OBJECT (object), NULL);

  /* The class initialises the quark. */
  g_type_ensure (MSG_TYPE_BODY_PART);

  self = g_object_get_qdata (G_OBJECT (object), wrapper_quark);
  if (self != NULL)
    return g_object_ref (self);

  self = g_object_new (MSG_TYPE_BODY_PART, NULL);
  g_object_set_qdata (G_OBJECT (self->object), wrapper_quark, NULL);
  g_object_unref (self->object);
  self->object = g_object_ref (object);
  g_object_set_qdata (G_OBJECT (object), wrapper_quark, self);

  return self;
}

void
_msg_body_part_set_object (MsgBodyPart *self,
                           GMimeObject *object)
{
  if (g_object_get_qdata (G_OBJECT (self->object), wrapper_quark) == self)
    g_object_set_qdata (G_OBJECT (self->object), wrapper_quark, NULL);
  g_set_object (&self->object, object);
  g_object_set_qdata (G_OBJECT (object), wrapper_quark, self);
}

GMimeObject *
_msg_body_part_get_object (MsgBodyPart *self)
{
  g_return_val_if_fail (MSG_IS_BODY_PART (self), NULL);

  return self->object;
}

static GMimePart *
new_leaf (const char *content_type,
          GError    **error)
{
  g_autoptr (GMimeContentType) ct = NULL;
  GMimeObject *object;

  if (!_msg_check_media_type (content_type, error))
    return NULL;

  ct = g_mime_content_type_parse (_msg_parser_options (), content_type);
  if (g_mime_content_type_is_type (ct, "multipart", "*") ||
      g_mime_content_type_is_type (ct, "message", "*"))
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT,
                   "An attachment cannot be of type “%s”", content_type);
      return NULL;
    }

  object = g_mime_object_new (_msg_parser_options (), ct);
  if (!GMIME_IS_PART (object))
    {
      g_object_unref (object);
      object = GMIME_OBJECT (g_mime_part_new ());
      g_mime_object_set_content_type (object, ct);
    }

  return GMIME_PART (object);
}

MsgBodyPart *
_msg_body_part_new_for_file (const char *path,
                             const char *content_type,
                             const char *filename,
                             GError    **error)
{
  g_autoptr (GMimePart) part = NULL;
  g_autoptr (GMimeStream) stream = NULL;
  g_autoptr (GMimeDataWrapper) wrapper = NULL;
  g_autofree char *guessed = NULL;
  g_autofree char *clean_name = NULL;

  clean_name = _msg_check_filename (filename, error);
  if (clean_name == NULL)
    return NULL;

  if (content_type == NULL)
    {
      g_autofree char *type = g_content_type_guess (filename, NULL, 0, NULL);

      guessed = type != NULL ? g_content_type_get_mime_type (type) : NULL;
      if (guessed == NULL || !_msg_check_media_type (guessed, NULL))
        {
          g_free (guessed);
          guessed = g_strdup ("application/octet-stream");
        }
      content_type = guessed;
    }

  part = new_leaf (content_type, error);
  if (part == NULL)
    return NULL;

  stream = _msg_file_stream_new (path);
  wrapper = g_mime_data_wrapper_new_with_stream (stream, GMIME_CONTENT_ENCODING_DEFAULT);
  g_mime_part_set_content (part, wrapper);
  /* The content is not read before it is written, so the encoding cannot
   * depend on it: base64 fits everything. */
  g_mime_part_set_content_encoding (part, GMIME_CONTENT_ENCODING_BASE64);
  g_mime_object_set_disposition (GMIME_OBJECT (part), GMIME_DISPOSITION_ATTACHMENT);
  g_mime_part_set_filename (part, clean_name);

  return _msg_body_part_wrap (GMIME_OBJECT (part));
}

static gboolean
is_text_object (GMimeObject *object)
{
  return g_mime_content_type_is_type (g_mime_object_get_content_type (object), "text", "*");
}

/* Whether @object is a leaf whose content is read from a file when the
 * message is written. */
static gboolean
is_file_backed (GMimeObject *object)
{
  GMimeDataWrapper *wrapper;
  GMimeStream      *stream;

  if (!GMIME_IS_PART (object))
    return TRUE; /* no content of its own to convert */
  wrapper = g_mime_part_get_content (GMIME_PART (object));
  stream = wrapper != NULL ? g_mime_data_wrapper_get_stream (wrapper) : NULL;
  return stream != NULL && (MSG_IS_FILE_STREAM (stream) || MSG_IS_CONCAT_STREAM (stream));
}

static void
set_part_bytes (GMimePart *part,
                GBytes    *bytes)
{
  g_autoptr (GMimeStream) stream = NULL;
  g_autoptr (GMimeDataWrapper) wrapper = NULL;
  gsize         len = 0;
  const guint8 *data = bytes != NULL ? g_bytes_get_data (bytes, &len) : NULL;

  /* No bytes, or empty ones (whose data may be NULL): an empty stream. */
  if (data == NULL || len == 0)
    stream = g_mime_stream_mem_new ();
  else
    stream = g_mime_stream_mem_new_with_buffer ((const char *) data, len);
  wrapper = g_mime_data_wrapper_new_with_stream (stream, GMIME_CONTENT_ENCODING_DEFAULT);
  g_mime_part_set_content (part, wrapper);
  g_mime_part_set_content_encoding (part,
                                    _msg_choose_encoding (data, len, is_text_object (GMIME_OBJECT (part))));
}

MsgBodyPart *
_msg_body_part_new_for_bytes (GBytes     *bytes,
                              const char *content_type,
                              const char *filename,
                              GError    **error)
{
  g_autoptr (GMimePart) part = NULL;
  g_autofree char *guessed = NULL;
  g_autofree char *clean_name = NULL;

  if (filename != NULL)
    {
      clean_name = _msg_check_filename (filename, error);
      if (clean_name == NULL)
        return NULL;
    }

  if (content_type == NULL)
    {
      gsize            len = 0;
      const guint8    *data = g_bytes_get_data (bytes, &len);
      g_autofree char *type = g_content_type_guess (clean_name, data, len, NULL);

      guessed = type != NULL ? g_content_type_get_mime_type (type) : NULL;
      if (guessed == NULL || !_msg_check_media_type (guessed, NULL))
        {
          g_free (guessed);
          guessed = g_strdup ("application/octet-stream");
        }
      content_type = guessed;
    }

  part = new_leaf (content_type, error);
  if (part == NULL)
    return NULL;

  if (is_text_object (GMIME_OBJECT (part)) &&
      g_mime_object_get_content_type_parameter (GMIME_OBJECT (part), "charset") == NULL)
    {
      gsize         len = 0;
      const guint8 *data = g_bytes_get_data (bytes, &len);

      if (g_utf8_validate ((const char *) data, len, NULL))
        g_mime_object_set_content_type_parameter (GMIME_OBJECT (part), "charset", "utf-8");
    }

  set_part_bytes (part, bytes);
  g_mime_object_set_disposition (GMIME_OBJECT (part), GMIME_DISPOSITION_ATTACHMENT);
  if (clean_name != NULL)
    g_mime_part_set_filename (part, clean_name);

  return _msg_body_part_wrap (GMIME_OBJECT (part));
}

static GMimeObject *
copy_object (GMimeObject *object)
{
  g_autoptr (GMimeStream) mem = g_mime_stream_mem_new ();
  g_autoptr (GMimeParser) parser = NULL;
  GMimeObject *copy;

  g_mime_object_write_to_stream (object, NULL, mem);
  g_mime_stream_reset (mem);
  parser = g_mime_parser_new_with_stream (mem);
  copy = g_mime_parser_construct_part (parser, _msg_parser_options ());
  _msg_mime_object_repair_parsed (copy);
  return copy;
}

MsgBodyPart *
_msg_body_part_copy (MsgBodyPart *self)
{
  GMimeObject *object = self->object;
  GMimeObject *copy;
  MsgBodyPart *result;

  if (GMIME_IS_PART (object))
    {
      GMimeDataWrapper *wrapper = g_mime_part_get_content (GMIME_PART (object));
      GMimeStream      *stream = wrapper != NULL ? g_mime_data_wrapper_get_stream (wrapper) : NULL;

      if (stream != NULL && MSG_IS_FILE_STREAM (stream))
        {
          g_autoptr (GMimeDataWrapper) new_wrapper = NULL;
          g_autoptr (GMimeStream) new_stream = NULL;
          g_autoptr (GMimeStream) empty = g_mime_stream_mem_new ();

          /* Copy the headers without reading the file: swap in an empty
           * content for the serialisation. */
          g_object_ref (wrapper);
          new_wrapper = g_mime_data_wrapper_new_with_stream (empty, GMIME_CONTENT_ENCODING_DEFAULT);
          g_mime_part_set_content (GMIME_PART (object), new_wrapper);
          copy = copy_object (object);
          g_mime_part_set_content (GMIME_PART (object), wrapper);
          g_object_unref (wrapper);
          g_clear_object (&new_wrapper);

          new_stream = _msg_file_stream_new (_msg_file_stream_get_path (MSG_FILE_STREAM (stream)));
          new_wrapper = g_mime_data_wrapper_new_with_stream (new_stream, GMIME_CONTENT_ENCODING_DEFAULT);
          g_mime_part_set_content (GMIME_PART (copy), new_wrapper);
          g_mime_part_set_content_encoding (GMIME_PART (copy),
                                            g_mime_part_get_content_encoding (GMIME_PART (object)));
          result = _msg_body_part_wrap (copy);
          g_object_unref (copy);
          return result;
        }
    }

  copy = copy_object (object);
  result = _msg_body_part_wrap (copy);
  g_object_unref (copy);
  return result;
}

GMimeStream *
_msg_body_part_open_decoded (MsgBodyPart *self)
{
  GMimeObject *object = self->object;

  if (GMIME_IS_PART (object))
    {
      GMimeDataWrapper    *wrapper = g_mime_part_get_content (GMIME_PART (object));
      GMimeStream         *stream;
      GMimeStream         *sub;
      GMimeContentEncoding encoding;

      if (wrapper == NULL || g_mime_data_wrapper_get_stream (wrapper) == NULL)
        return g_mime_stream_mem_new ();

      stream = g_mime_data_wrapper_get_stream (wrapper);
      sub = g_mime_stream_substream (stream, stream->bound_start, stream->bound_end);
      encoding = g_mime_data_wrapper_get_encoding (wrapper);

      switch (encoding)
        {
        case GMIME_CONTENT_ENCODING_BASE64:
        case GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE:
        case GMIME_CONTENT_ENCODING_UUENCODE:
          {
            GMimeStream *filtered = g_mime_stream_filter_new (sub);
            g_autoptr (GMimeFilter) filter = g_mime_filter_basic_new (encoding, FALSE);

            g_mime_stream_filter_add (GMIME_STREAM_FILTER (filtered), filter);
            g_object_unref (sub);
            return filtered;
          }
        default:
          return sub;
        }
    }

  if (GMIME_IS_MESSAGE_PART (object))
    {
      GMimeMessage *message = g_mime_message_part_get_message (GMIME_MESSAGE_PART (object));
      GMimeStream  *mem = g_mime_stream_mem_new ();

      if (message != NULL)
        g_mime_object_write_to_stream (GMIME_OBJECT (message), NULL, mem);
      g_mime_stream_reset (mem);
      return mem;
    }

  return NULL;
}

char *
_msg_body_part_get_text (GMimeObject *object)
{
  if (GMIME_IS_TEXT_PART (object))
    {
      const char *charset = g_mime_object_get_content_type_parameter (object, "charset");
      char       *text;

      /* GMime converts from the declared charset; without one it returns
       * the bytes as they are, which may not be UTF-8. */
      text = g_mime_text_part_get_text (GMIME_TEXT_PART (object));
      if (text != NULL && !g_utf8_validate (text, -1, NULL))
        {
          char *valid = g_utf8_make_valid (text, -1);

          if (charset == NULL)
            g_debug ("Text part without a charset is not UTF-8; invalid bytes replaced");
          g_free (text);
          text = valid;
        }
      return text;
    }

  return NULL;
}

static void
release_files_cb (GMimeObject *parent,
                  GMimeObject *part,
                  gpointer     user_data)
{
  if (GMIME_IS_PART (part))
    {
      GMimeDataWrapper *wrapper = g_mime_part_get_content (GMIME_PART (part));
      GMimeStream      *stream = wrapper != NULL ? g_mime_data_wrapper_get_stream (wrapper) : NULL;

      if (stream != NULL && MSG_IS_FILE_STREAM (stream))
        _msg_file_stream_release (MSG_FILE_STREAM (stream));
      else if (stream != NULL && MSG_IS_CONCAT_STREAM (stream))
        g_mime_stream_reset (stream); /* uuencoded attachments */
    }
}

void
_msg_mime_object_release_files (GMimeObject *object)
{
  if (object == NULL)
    return;

  release_files_cb (NULL, object, NULL);
  if (GMIME_IS_MULTIPART (object))
    g_mime_multipart_foreach (GMIME_MULTIPART (object), release_files_cb, NULL);
}

/* Public API */

/**
 * msg_body_part_get_content_media_type: (get-property content-media-type)
 * @self: a body part
 *
 * Gets the media type of the part, such as `text/plain` or
 * `multipart/mixed`.
 *
 * Returns: (transfer full): the media type
 */
char *
msg_body_part_get_content_media_type (MsgBodyPart *self)
{
  GMimeContentType *ct;

  g_return_val_if_fail (MSG_IS_BODY_PART (self), NULL);

  ct = g_mime_object_get_content_type (self->object);
  if (ct == NULL)
    return g_strdup ("text/plain");

  return g_mime_content_type_get_mime_type (ct);
}

/**
 * msg_body_part_set_content_media_type: (set-property content-media-type)
 * @self: a body part
 * @media_type: a media type, `type/subtype`
 * @error: return location for an error
 *
 * Sets the media type of the part. A leaf in a message's tree (its root
 * included) can become a multipart, as in CDO: a leaf with content becomes
 * the first child of the new multipart, an empty one goes. The message
 * then keeps its tree as the caller built it (see "Building the tree by
 * hand" in message.md). A multipart cannot become a leaf.
 *
 * Returns: %TRUE on success
 */
gboolean
msg_body_part_set_content_media_type (MsgBodyPart *self,
                                      const char  *media_type,
                                      GError     **error)
{
  g_autoptr (GMimeContentType) parsed = NULL;
  GMimeContentType *ct;
  gboolean          is_multi;
  g_autofree char  *old = NULL;

  g_return_val_if_fail (MSG_IS_BODY_PART (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!_msg_check_media_type (media_type, error))
    return FALSE;

  parsed = g_mime_content_type_parse (_msg_parser_options (), media_type);
  is_multi = g_mime_content_type_is_type (parsed, "multipart", "*");
  if (is_multi && !GMIME_IS_MULTIPART (self->object))
    {
      if (!_msg_body_part_become_multipart (self, g_mime_content_type_get_media_subtype (parsed), error))
        return FALSE;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONTENT_MEDIA_TYPE]);
      return TRUE;
    }
  if (is_multi != GMIME_IS_MULTIPART (self->object))
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                   "Content-Type “%s” does not fit a %s", media_type,
                   GMIME_IS_MULTIPART (self->object) ? "multipart" : "leaf part");
      return FALSE;
    }

  old = msg_body_part_get_content_media_type (self);
  if (g_ascii_strcasecmp (old, media_type) == 0)
    return TRUE;

  ct = g_mime_object_get_content_type (self->object);
  g_mime_content_type_set_media_type (ct, g_mime_content_type_get_media_type (parsed));
  g_mime_content_type_set_media_subtype (ct, g_mime_content_type_get_media_subtype (parsed));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONTENT_MEDIA_TYPE]);
  return TRUE;
}

/**
 * msg_body_part_get_content_transfer_encoding: (get-property content-transfer-encoding)
 * @self: a body part
 *
 * Gets the transfer encoding of the part; `7bit` when none is set.
 *
 * Returns: (transfer full): the encoding
 */
char *
msg_body_part_get_content_transfer_encoding (MsgBodyPart *self)
{
  GMimeContentEncoding encoding = GMIME_CONTENT_ENCODING_DEFAULT;

  g_return_val_if_fail (MSG_IS_BODY_PART (self), NULL);

  if (GMIME_IS_PART (self->object))
    encoding = g_mime_part_get_content_encoding (GMIME_PART (self->object));
  else
    {
      const char *value = g_mime_object_get_header (self->object, "Content-Transfer-Encoding");

      if (value != NULL)
        encoding = g_mime_content_encoding_from_string (value);
    }

  if (encoding == GMIME_CONTENT_ENCODING_DEFAULT)
    return g_strdup ("7bit");

  return g_strdup (g_mime_content_encoding_to_string (encoding));
}

/**
 * msg_body_part_set_content_transfer_encoding: (set-property content-transfer-encoding)
 * @self: a body part
 * @encoding: `7bit`, `8bit`, `binary`, `base64`, `quoted-printable` or
 *   `x-uuencode`
 * @error: return location for an error
 *
 * Sets the transfer encoding used when the part is written. A multipart
 * only accepts `7bit`, `8bit` and `binary` (as in CDO).
 *
 * Returns: %TRUE on success
 */
gboolean
msg_body_part_set_content_transfer_encoding (MsgBodyPart *self,
                                             const char  *encoding,
                                             GError     **error)
{
  GMimeContentEncoding value;

  g_return_val_if_fail (MSG_IS_BODY_PART (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!_msg_check_header_value ("Content-Transfer-Encoding", encoding, error))
    return FALSE;

  value = encoding != NULL ? g_mime_content_encoding_from_string (encoding) : GMIME_CONTENT_ENCODING_DEFAULT;
  if (value == GMIME_CONTENT_ENCODING_DEFAULT)
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                   "Unknown Content-Transfer-Encoding “%s”", encoding != NULL ? encoding : "");
      return FALSE;
    }

  if (!GMIME_IS_PART (self->object))
    {
      if (value != GMIME_CONTENT_ENCODING_7BIT && value != GMIME_CONTENT_ENCODING_8BIT &&
          value != GMIME_CONTENT_ENCODING_BINARY)
        {
          g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                       "A multipart cannot have the Content-Transfer-Encoding “%s”", encoding);
          return FALSE;
        }
      return TRUE;
    }

  if (g_mime_part_get_content_encoding (GMIME_PART (self->object)) == value)
    return TRUE;

  g_mime_part_set_content_encoding (GMIME_PART (self->object), value);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONTENT_TRANSFER_ENCODING]);
  return TRUE;
}

/**
 * msg_body_part_get_charset: (get-property charset)
 * @self: a body part
 *
 * Gets the `charset` parameter of the part's content type.
 *
 * Returns: (transfer full) (nullable): the charset
 */
char *
msg_body_part_get_charset (MsgBodyPart *self)
{
  g_return_val_if_fail (MSG_IS_BODY_PART (self), NULL);

  return g_strdup (g_mime_object_get_content_type_parameter (self->object, "charset"));
}

/**
 * msg_body_part_set_charset: (set-property charset)
 * @self: a body part
 * @charset: (nullable): a charset name, or %NULL to remove it
 * @error: return location for an error
 *
 * Sets the `charset` parameter of the part's content type. For a text
 * part whose content is in memory (a body, a text attachment made from
 * bytes, a parsed part) this converts the content from its current
 * charset (UTF-8 if it has none) to @charset, as CDO does: a character
 * that @charset cannot hold, or a charset the system does not know, fails
 * with %MSG_MESSAGE_ERROR_CHARSET naming it, and the part is unchanged.
 * The content of a file attachment is sent as the file holds it, so for
 * it @charset only names the file's encoding. %NULL removes the
 * parameter without converting anything.
 *
 * Returns: %TRUE on success
 */
gboolean
msg_body_part_set_charset (MsgBodyPart *self,
                           const char  *charset,
                           GError     **error)
{
  GMimeContentType *ct;

  g_return_val_if_fail (MSG_IS_BODY_PART (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (charset != NULL && !_msg_check_parameter ("charset", charset, error))
    return FALSE;

  if (g_strcmp0 (charset, g_mime_object_get_content_type_parameter (self->object, "charset")) == 0)
    return TRUE;

  if (charset != NULL && is_text_object (self->object) && !is_file_backed (self->object))
    {
      GMimeContentEncoding before = g_mime_part_get_content_encoding (GMIME_PART (self->object));

      if (!_msg_text_part_recode (GMIME_PART (self->object),
                                  g_mime_object_get_content_type_parameter (self->object, "charset"),
                                  charset, error))
        return FALSE;
      if (g_mime_part_get_content_encoding (GMIME_PART (self->object)) != before)
        g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONTENT_TRANSFER_ENCODING]);
    }

  ct = g_mime_object_get_content_type (self->object);
  if (charset != NULL)
    g_mime_content_type_set_parameter (ct, "charset", charset);
  else
    g_mime_param_list_remove (g_mime_content_type_get_parameters (ct), "charset");

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CHARSET]);
  return TRUE;
}

/**
 * msg_body_part_get_filename: (get-property filename)
 * @self: a body part
 *
 * Gets the file name of the part, made safe to use as the name of a file
 * in a directory of the caller's choice: only the last component of a Unix
 * or Windows path is kept, and every control character (C0, DEL, C1) is
 * replaced with `_`. A parsed message is untrusted input: its `filename`
 * parameter may be `../../.bashrc` or hold a line break. A name that is
 * empty, `.` or `..` once cleaned gives %NULL. The value exactly as the
 * message states it is [method@BodyPart.get_raw_filename].
 *
 * Returns: (transfer full) (nullable): the safe file name
 */
char *
msg_body_part_get_filename (MsgBodyPart *self)
{
  g_return_val_if_fail (MSG_IS_BODY_PART (self), NULL);

  if (!GMIME_IS_PART (self->object))
    return NULL;

  return _msg_safe_filename (g_mime_part_get_filename (GMIME_PART (self->object)));
}

/**
 * msg_body_part_get_raw_filename:
 * @self: a body part
 *
 * Gets the file name of the part as the message states it (the decoded
 * `filename` parameter of `Content-Disposition`, else the `name` parameter
 * of `Content-Type`), unchecked: it may name a directory, hold `..`
 * components or control characters. Never use it as a path; see
 * [method@BodyPart.get_filename].
 *
 * Returns: (transfer full) (nullable): the file name as stated
 */
char *
msg_body_part_get_raw_filename (MsgBodyPart *self)
{
  g_return_val_if_fail (MSG_IS_BODY_PART (self), NULL);

  if (!GMIME_IS_PART (self->object))
    return NULL;

  return g_strdup (g_mime_part_get_filename (GMIME_PART (self->object)));
}

/**
 * msg_body_part_set_filename: (set-property filename)
 * @self: a body part
 * @filename: a file name; directory components are removed
 * @error: return location for an error
 *
 * Sets the file name of a leaf part.
 *
 * Returns: %TRUE on success
 */
gboolean
msg_body_part_set_filename (MsgBodyPart *self,
                            const char  *filename,
                            GError     **error)
{
  g_autofree char *clean = NULL;

  g_return_val_if_fail (MSG_IS_BODY_PART (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!GMIME_IS_PART (self->object))
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT,
                           "A multipart has no file name");
      return FALSE;
    }

  clean = _msg_check_filename (filename, error);
  if (clean == NULL)
    return FALSE;

  if (g_strcmp0 (clean, g_mime_part_get_filename (GMIME_PART (self->object))) == 0)
    return TRUE;

  g_mime_part_set_filename (GMIME_PART (self->object), clean);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FILENAME]);
  return TRUE;
}

/**
 * msg_body_part_get_content_id: (get-property content-id)
 * @self: a body part
 *
 * Gets the `Content-ID` of the part, without angle brackets.
 *
 * Returns: (transfer full) (nullable): the content id
 */
char *
msg_body_part_get_content_id (MsgBodyPart *self)
{
  g_return_val_if_fail (MSG_IS_BODY_PART (self), NULL);

  return g_strdup (g_mime_object_get_content_id (self->object));
}

/**
 * msg_body_part_set_content_id: (set-property content-id)
 * @self: a body part
 * @content_id: (nullable): an id such as `logo@example.com`, with or
 *   without angle brackets, or %NULL to remove it
 * @error: return location for an error
 *
 * Sets the `Content-ID` of the part.
 *
 * Returns: %TRUE on success
 */
gboolean
msg_body_part_set_content_id (MsgBodyPart *self,
                              const char  *content_id,
                              GError     **error)
{
  g_autofree char *bare = NULL;

  g_return_val_if_fail (MSG_IS_BODY_PART (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (content_id != NULL)
    {
      if (!_msg_check_msg_id ("Content-ID", content_id, error))
        return FALSE;
      if (content_id[0] == '<')
        bare = g_strndup (content_id + 1, strlen (content_id) - 2);
      else
        bare = g_strdup (content_id);
    }

  if (g_strcmp0 (bare, g_mime_object_get_content_id (self->object)) == 0)
    return TRUE;

  if (bare != NULL)
    g_mime_object_set_content_id (self->object, bare);
  else
    g_mime_object_remove_header (self->object, "Content-Id");

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONTENT_ID]);
  return TRUE;
}

/**
 * msg_body_part_get_content_disposition: (get-property content-disposition)
 * @self: a body part
 *
 * Gets the disposition of the part, such as `attachment` or `inline`.
 *
 * Returns: (transfer full) (nullable): the disposition
 */
char *
msg_body_part_get_content_disposition (MsgBodyPart *self)
{
  g_return_val_if_fail (MSG_IS_BODY_PART (self), NULL);

  return g_strdup (g_mime_object_get_disposition (self->object));
}

/**
 * msg_body_part_set_content_disposition: (set-property content-disposition)
 * @self: a body part
 * @disposition: (nullable): `attachment`, `inline` or another token, or
 *   %NULL to remove the header
 * @error: return location for an error
 *
 * Sets the disposition of the part, keeping its parameters.
 *
 * Returns: %TRUE on success
 */
gboolean
msg_body_part_set_content_disposition (MsgBodyPart *self,
                                       const char  *disposition,
                                       GError     **error)
{
  g_return_val_if_fail (MSG_IS_BODY_PART (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (disposition != NULL)
    {
      if (!_msg_check_parameter ("Content-Disposition", disposition, error))
        return FALSE;
      for (const char *p = disposition; *p != '\0'; p++)
        if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_' && *p != '.')
          {
            g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                         "Content-Disposition “%s” is not a token", disposition);
            return FALSE;
          }
      if (*disposition == '\0')
        {
          g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                               "Content-Disposition is empty");
          return FALSE;
        }
    }

  if (g_strcmp0 (disposition, g_mime_object_get_disposition (self->object)) == 0)
    return TRUE;

  if (disposition != NULL)
    g_mime_object_set_disposition (self->object, disposition);
  else
    g_mime_object_remove_header (self->object, "Content-Disposition");

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONTENT_DISPOSITION]);
  return TRUE;
}

/**
 * msg_body_part_get_body_parts:
 * @self: a body part
 *
 * Gets the children of a multipart. A leaf has none.
 *
 * Returns: (element-type MsgBodyPart) (transfer full): the children
 */
GList *
msg_body_part_get_body_parts (MsgBodyPart *self)
{
  GList *list = NULL;

  g_return_val_if_fail (MSG_IS_BODY_PART (self), NULL);

  if (!GMIME_IS_MULTIPART (self->object))
    return NULL;

  _msg_mime_link_children (self->object);
  for (int i = g_mime_multipart_get_count (GMIME_MULTIPART (self->object)) - 1; i >= 0; i--)
    list = g_list_prepend (list, _msg_body_part_wrap (g_mime_multipart_get_part (GMIME_MULTIPART (self->object), i)));

  return list;
}

/**
 * msg_body_part_add_body_part:
 * @self: a multipart body part
 * @content_type: the media type of the new part, such as `text/plain` or
 *   `multipart/alternative`, optionally followed by parameters
 *   (`text/calendar; method=REQUEST`)
 * @error: return location for an error
 *
 * Appends a new, empty child to a multipart: CDO's `AddBodyPart`. See
 * [method@BodyPart.insert_body_part].
 *
 * Returns: (transfer full): the new part
 */
MsgBodyPart *
msg_body_part_add_body_part (MsgBodyPart *self,
                             const char  *content_type,
                             GError     **error)
{
  return msg_body_part_insert_body_part (self, -1, content_type, error);
}

/* A new empty child of type @ct (parameters not applied). */
static GMimeObject *
new_child (GMimeContentType *ct,
           const char       *media_type,
           GError          **error)
{
  GMimeObject *child;

  if (g_mime_content_type_is_type (ct, "multipart", "*"))
    return GMIME_OBJECT (g_mime_multipart_new_with_subtype (g_mime_content_type_get_media_subtype (ct)));

  if (g_mime_content_type_is_type (ct, "message", "rfc822") ||
      g_mime_content_type_is_type (ct, "message", "global") ||
      g_mime_content_type_is_type (ct, "message", "news"))
    return GMIME_OBJECT (g_mime_message_part_new (g_mime_content_type_get_media_subtype (ct)));

  if (g_mime_content_type_is_type (ct, "message", "*"))
    {
      /* message/delivery-status, message/disposition-notification: text
       * of their own, held as a plain leaf. */
      child = GMIME_OBJECT (g_mime_part_new_with_type ("message", g_mime_content_type_get_media_subtype (ct)));
      set_part_bytes (GMIME_PART (child), NULL);
      return child;
    }

  child = GMIME_OBJECT (new_leaf (media_type, error));
  if (child == NULL)
    return NULL;
  if (is_text_object (child) && g_mime_object_get_content_type_parameter (child, "charset") == NULL)
    g_mime_object_set_content_type_parameter (child, "charset", "utf-8");
  set_part_bytes (GMIME_PART (child), NULL);
  return child;
}

/**
 * msg_body_part_insert_body_part:
 * @self: a multipart body part
 * @index: the position of the new part among the children, from 0, or -1
 *   to append
 * @content_type: the media type of the new part, optionally followed by
 *   parameters, such as `text/calendar; method=REQUEST`
 * @error: return location for an error
 *
 * Inserts a new, empty child into a multipart: CDO's `AddBodyPart` with
 * its index. Text parts get `charset=utf-8` unless @content_type names
 * another; a `message/rfc822` part gets its message with
 * [method@BodyPart.set_content]. Each parameter is checked as
 * [method@BodyPart.set_field_parameter] checks it.
 *
 * The message keeps a part added this way: see "Building the tree by
 * hand" in message.md.
 *
 * Returns: (transfer full): the new part, or %NULL with
 *   %MSG_MESSAGE_ERROR_FAILED if @self is not a multipart or @index is
 *   past the end, or %MSG_MESSAGE_ERROR_INVALID_HEADER for a bad type or
 *   parameter
 */
MsgBodyPart *
msg_body_part_insert_body_part (MsgBodyPart *self,
                                int          index,
                                const char  *content_type,
                                GError     **error)
{
  g_autoptr (GMimeContentType) ct = NULL;
  g_autoptr (GMimeObject) child = NULL;
  g_autofree char *media_type = NULL;
  GMimeParamList  *params;
  int              count;

  g_return_val_if_fail (MSG_IS_BODY_PART (self), NULL);
  g_return_val_if_fail (content_type != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!GMIME_IS_MULTIPART (self->object))
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED,
                           "Only a multipart body part can have children");
      return NULL;
    }

  count = g_mime_multipart_get_count (GMIME_MULTIPART (self->object));
  if (index < -1 || index > count)
    {
      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED,
                   "Cannot insert a body part at %d: the multipart has %d children", index, count);
      return NULL;
    }

  media_type = g_strstrip (g_strndup (content_type, strcspn (content_type, ";")));
  if (!_msg_check_header_value ("Content-Type", content_type, error) || !_msg_check_media_type (media_type, error))
    return NULL;

  ct = g_mime_content_type_parse (_msg_parser_options (), content_type);
  params = g_mime_content_type_get_parameters (ct);
  for (int i = 0; i < g_mime_param_list_length (params); i++)
    {
      GMimeParam *param = g_mime_param_list_get_parameter_at (params, i);

      if (!_msg_check_field_parameter ("Content-Type", g_mime_param_get_name (param),
                                       g_mime_param_get_value (param), error))
        return NULL;
    }

  child = new_child (ct, media_type, error);
  if (child == NULL)
    return NULL;
  for (int i = 0; i < g_mime_param_list_length (params); i++)
    {
      GMimeParam *param = g_mime_param_list_get_parameter_at (params, i);

      g_mime_object_set_content_type_parameter (child, g_mime_param_get_name (param),
                                                g_mime_param_get_value (param));
    }

  _msg_body_part_insert_object (self, index < 0 ? count : index, child);
  return _msg_body_part_wrap (child);
}

static GBytes *
stream_to_bytes (GMimeStream *stream,
                 gboolean     crlf,
                 GError     **error)
{
  g_autoptr (GOutputStream) mem = g_memory_output_stream_new_resizable ();
  g_autoptr (GMimeStream) sink = _msg_mime_sink_new (mem, NULL, FALSE);
  g_autoptr (GMimeStream) target = NULL;
  g_autoptr (GMimeStream) raw = NULL;
  ssize_t n;

  _msg_stream_error_clear ();

  if (crlf)
    target = g_object_ref (sink);
  else
    {
      /* No canonicalisation: copy raw bytes. */
      raw = g_mime_stream_mem_new ();
      target = g_object_ref (raw);
    }

  n = g_mime_stream_write_to_stream (stream, target);
  if (n < 0)
    {
      GError *err = _msg_stream_error_take ();

      if (err == NULL)
        err = g_error_new_literal (MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED,
                                   "Cannot read the content of the body part");
      g_propagate_error (error, err);
      return NULL;
    }

  if (raw != NULL)
    {
      GByteArray *array = g_mime_stream_mem_get_byte_array (GMIME_STREAM_MEM (raw));

      _msg_stream_error_clear ();
      return g_bytes_new (array->data, array->len);
    }

  if (!_msg_mime_sink_finish (MSG_MIME_SINK (sink), error))
    return NULL;
  if (!g_output_stream_close (mem, NULL, error))
    return NULL;

  return g_memory_output_stream_steal_as_bytes (G_MEMORY_OUTPUT_STREAM (mem));
}

/**
 * msg_body_part_get_decoded_content:
 * @self: a leaf body part
 * @error: return location for an error
 *
 * Gets the content of a leaf part with its transfer encoding undone. For
 * a file attachment, this reads the whole file.
 *
 * Returns: (transfer full): the content, or %NULL for a multipart or on
 *   a read error
 */
GBytes *
msg_body_part_get_decoded_content (MsgBodyPart *self,
                                   GError     **error)
{
  g_autoptr (GMimeStream) stream = NULL;
  GBytes *bytes;

  g_return_val_if_fail (MSG_IS_BODY_PART (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  stream = _msg_body_part_open_decoded (self);
  if (stream == NULL)
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_MULTIPART_NO_DATA,
                           "A multipart has no content of its own");
      return NULL;
    }

  bytes = stream_to_bytes (stream, FALSE, error);
  if (MSG_IS_FILE_STREAM (stream))
    _msg_file_stream_release (MSG_FILE_STREAM (stream));
  return bytes;
}

/**
 * msg_body_part_get_encoded_content:
 * @self: a leaf body part
 * @error: return location for an error
 *
 * Gets the content of a leaf part in its transfer encoding, as it is
 * written in a message (CRLF line ends).
 *
 * Returns: (transfer full): the encoded content, or %NULL for a multipart
 *   or on a read error
 */
GBytes *
msg_body_part_get_encoded_content (MsgBodyPart *self,
                                   GError     **error)
{
  g_autoptr (GMimeStream) decoded = NULL;
  g_autoptr (GMimeStream) filtered = NULL;
  GMimeContentEncoding encoding;
  GBytes              *bytes;

  g_return_val_if_fail (MSG_IS_BODY_PART (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  decoded = _msg_body_part_open_decoded (self);
  if (decoded == NULL)
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_MULTIPART_NO_DATA,
                           "A multipart has no content of its own");
      return NULL;
    }

  encoding = GMIME_IS_PART (self->object) ? g_mime_part_get_content_encoding (GMIME_PART (self->object)) : GMIME_CONTENT_ENCODING_DEFAULT;
  filtered = g_mime_stream_filter_new (decoded);
  if (encoding == GMIME_CONTENT_ENCODING_BASE64 || encoding == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
      encoding == GMIME_CONTENT_ENCODING_UUENCODE)
    {
      g_autoptr (GMimeFilter) filter = g_mime_filter_basic_new (encoding, TRUE);

      g_mime_stream_filter_add (GMIME_STREAM_FILTER (filtered), filter);
    }

  bytes = stream_to_bytes (filtered, TRUE, error);
  if (MSG_IS_FILE_STREAM (decoded))
    _msg_file_stream_release (MSG_FILE_STREAM (decoded));
  return bytes;
}

/* The message of a message/rfc822 part, parsed from @content. */
static gboolean
set_message_bytes (GMimeMessagePart *part,
                   GBytes           *content,
                   GError          **error)
{
  gsize       len = 0;
  const char *data = g_bytes_get_data (content, &len);
  g_autoptr (GMimeStream) stream = g_mime_stream_mem_new_with_buffer (data != NULL ? data : "", len);
  g_autoptr (GMimeParser) parser = g_mime_parser_new_with_stream (stream);
  g_autoptr (GMimeMessage) message = NULL;

  message = g_mime_parser_construct_message (parser, _msg_parser_options ());
  if (message == NULL || len == 0)
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED,
                           "The content of a message/rfc822 part must be a message");
      return FALSE;
    }

  _msg_mime_object_repair_parsed (GMIME_OBJECT (message));
  g_mime_message_part_set_message (part, message);
  return TRUE;
}

/**
 * msg_body_part_set_content:
 * @self: a leaf body part
 * @content: the new decoded content
 * @error: return location for an error
 *
 * Replaces the content of a leaf part and chooses the transfer encoding
 * that fits it (for a `message/rfc822` part, @content is the message,
 * parsed) (see [method@BodyPart.set_content_transfer_encoding] to
 * force another).
 *
 * Returns: %TRUE on success
 */
gboolean
msg_body_part_set_content (MsgBodyPart *self,
                           GBytes      *content,
                           GError     **error)
{
  g_return_val_if_fail (MSG_IS_BODY_PART (self), FALSE);
  g_return_val_if_fail (content != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (GMIME_IS_MESSAGE_PART (self->object))
    return set_message_bytes (GMIME_MESSAGE_PART (self->object), content, error);

  if (!GMIME_IS_PART (self->object))
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_MULTIPART_NO_DATA,
                           "A multipart has no content of its own");
      return FALSE;
    }

  set_part_bytes (GMIME_PART (self->object), content);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONTENT_TRANSFER_ENCODING]);
  return TRUE;
}

/**
 * msg_body_part_get_text:
 * @self: a text leaf body part
 * @error: return location for an error
 *
 * Gets the content of a `text/` part as a UTF-8 string, converted from the
 * part's charset whatever it is (UTF-8 if it has none): CDO's
 * `GetDecodedContentStream` followed by `ReadText`. For a file attachment,
 * this reads the whole file.
 *
 * Returns: (transfer full): the text, or %NULL with
 *   %MSG_MESSAGE_ERROR_CHARSET if the content is not valid in its charset,
 *   or %MSG_MESSAGE_ERROR_FAILED if the part is not text
 */
char *
msg_body_part_get_text (MsgBodyPart *self,
                        GError     **error)
{
  g_autoptr (GBytes) bytes = NULL;
  gsize         len = 0;
  const guint8 *data;

  g_return_val_if_fail (MSG_IS_BODY_PART (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!GMIME_IS_PART (self->object) || !is_text_object (self->object))
    {
      g_autofree char *type = msg_body_part_get_content_media_type (self);

      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED,
                   "A %s part holds no text (only text/ parts do)", type);
      return NULL;
    }

  bytes = msg_body_part_get_decoded_content (self, error);
  if (bytes == NULL)
    return NULL;
  data = g_bytes_get_data (bytes, &len);
  return _msg_charset_decode (data, len, g_mime_object_get_content_type_parameter (self->object, "charset"),
                              error);
}

/**
 * msg_body_part_set_text:
 * @self: a text leaf body part
 * @text: the new content, UTF-8
 * @error: return location for an error
 *
 * Replaces the content of a `text/` part with @text written in the part's
 * charset (UTF-8 if it has none), and chooses the transfer encoding that
 * fits: CDO's `WriteText` and `Flush` on the part's decoded stream.
 *
 * Returns: %TRUE on success; %FALSE with %MSG_MESSAGE_ERROR_CHARSET naming
 *   the first character the charset cannot hold, and the part unchanged
 */
gboolean
msg_body_part_set_text (MsgBodyPart *self,
                        const char  *text,
                        GError     **error)
{
  g_return_val_if_fail (MSG_IS_BODY_PART (self), FALSE);
  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (!GMIME_IS_PART (self->object) || !is_text_object (self->object))
    {
      g_autofree char *type = msg_body_part_get_content_media_type (self);

      g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED,
                   "A %s part holds no text (only text/ parts do)", type);
      return FALSE;
    }
  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_CHARSET,
                           "The text is not valid UTF-8");
      return FALSE;
    }

  if (!_msg_text_part_set_text (GMIME_PART (self->object), text, error))
    return FALSE;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONTENT_TRANSFER_ENCODING]);
  return TRUE;
}

typedef struct
{
  GMimeStream *stream;
} SaveData;

static gboolean
save_decoded_cb (GOutputStream *output,
                 gpointer       user_data,
                 GCancellable  *cancellable,
                 GError       **error)
{
  SaveData *data = user_data;
  char      buf[16384];

  _msg_stream_error_clear ();
  for (;;)
    {
      ssize_t n = g_mime_stream_read (data->stream, buf, sizeof buf);

      if (n < 0)
        {
          GError *err = _msg_stream_error_take ();

          if (err == NULL)
            err = g_error_new_literal (MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_FAILED,
                                       "Cannot read the content of the body part");
          g_propagate_error (error, err);
          return FALSE;
        }
      if (n == 0)
        break;
      if (!g_output_stream_write_all (output, buf, n, NULL, cancellable, error))
        return FALSE;
    }

  return TRUE;
}

/**
 * msg_body_part_save_to_file:
 * @self: a leaf body part
 * @path: (type filename): where to write
 * @error: return location for an error
 *
 * Writes the decoded content of the part to @path (CDO `SaveToFile`). The
 * file is written atomically: a temporary file in the same directory is
 * synced and renamed, so @path is either complete or untouched. A new file
 * is mode 0600; a file it replaces keeps its mode.
 *
 * If @path is an existing directory, the part is saved in it under its
 * safe file name ([method@BodyPart.get_filename]), so a hostile name such
 * as `../../x` cannot write outside it; a part without a usable name is
 * %MSG_MESSAGE_ERROR_INVALID_ATTACHMENT.
 *
 * Returns: %TRUE on success
 */
gboolean
msg_body_part_save_to_file (MsgBodyPart *self,
                            const char  *path,
                            GError     **error)
{
  g_autoptr (GMimeStream) stream = NULL;
  g_autofree char *in_dir = NULL;
  SaveData         data;
  gboolean         ok;

  g_return_val_if_fail (MSG_IS_BODY_PART (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *name = msg_body_part_get_filename (self);

      if (name == NULL)
        {
          g_autofree char *display = g_filename_display_name (path);

          g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_ATTACHMENT,
                       "Cannot save the part in the directory “%s”: it has no usable file name",
                       display);
          return FALSE;
        }
      in_dir = g_build_filename (path, name, NULL);
      path = in_dir;
    }

  stream = _msg_body_part_open_decoded (self);
  if (stream == NULL)
    {
      g_set_error_literal (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_MULTIPART_NO_DATA,
                           "A multipart has no content of its own");
      return FALSE;
    }

  data.stream = stream;
  ok = _msg_write_file_atomically (path, save_decoded_cb, &data, error);
  if (MSG_IS_FILE_STREAM (stream))
    _msg_file_stream_release (MSG_FILE_STREAM (stream));
  return ok;
}

/**
 * msg_body_part_get_header:
 * @self: a body part
 * @name: a header name, or `urn:schemas:mailheader:NAME`
 *
 * Gets the decoded value of a header of the part.
 *
 * Returns: (transfer full) (nullable): the value
 */
char *
msg_body_part_get_header (MsgBodyPart *self,
                          const char  *name)
{
  g_return_val_if_fail (MSG_IS_BODY_PART (self), NULL);
  g_return_val_if_fail (name != NULL, NULL);

  if (g_ascii_strncasecmp (name, "urn:schemas:mailheader:", 23) == 0)
    name += 23;

  return g_strdup (g_mime_object_get_header (self->object, name));
}

/**
 * msg_body_part_set_header:
 * @self: a body part
 * @name: a header name, or `urn:schemas:mailheader:NAME`
 * @value: (nullable): the value (non-ASCII text is RFC 2047 encoded), or
 *   %NULL to remove the header
 * @error: return location for an error
 *
 * Sets a header of the part, replacing an existing one. Names must be
 * printable ASCII without `:`; values must not contain control characters
 * other than tab.
 *
 * Returns: %TRUE on success
 */
gboolean
msg_body_part_set_header (MsgBodyPart *self,
                          const char  *name,
                          const char  *value,
                          GError     **error)
{
  g_return_val_if_fail (MSG_IS_BODY_PART (self), FALSE);
  g_return_val_if_fail (name != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (g_ascii_strncasecmp (name, "urn:schemas:mailheader:", 23) == 0)
    name += 23;

  if (!_msg_check_header_name (name, error))
    return FALSE;

  if (value == NULL)
    {
      g_mime_object_remove_header (self->object, name);
      return TRUE;
    }

  if (!_msg_check_header_value (name, value, error))
    return FALSE;

  if (g_ascii_strcasecmp (name, "Content-Id") == 0)
    return msg_body_part_set_content_id (self, value, error);

  if (g_ascii_strcasecmp (name, "Content-Transfer-Encoding") == 0)
    return msg_body_part_set_content_transfer_encoding (self, value, error);

  if (g_ascii_strcasecmp (name, "Content-Type") == 0)
    {
      g_autoptr (GMimeContentType) ct = g_mime_content_type_parse (_msg_parser_options (), value);
      g_autofree char *media = g_mime_content_type_get_mime_type (ct);
      g_autofree char *given = g_strstrip (g_strndup (value, strcspn (value, ";")));

      /* GMime falls back to a default type for what it cannot parse; the
       * value is written as given, so check what was given. */
      if (!_msg_check_media_type (given, error))
        return FALSE;
      if (g_mime_content_type_is_type (ct, "multipart", "*") != GMIME_IS_MULTIPART (self->object))
        {
          g_set_error (error, MSG_MESSAGE_ERROR, MSG_MESSAGE_ERROR_INVALID_HEADER,
                       "Content-Type “%s” does not fit a %s", media,
                       GMIME_IS_MULTIPART (self->object) ? "multipart" : "leaf part");
          return FALSE;
        }
    }

  g_mime_object_set_header (self->object, name, value, "utf-8");
  return TRUE;
}
