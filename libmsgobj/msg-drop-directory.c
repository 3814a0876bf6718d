/* msg-drop-directory.c: reading a directory of dropped messages
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "config.h"

#include "msg-drop-directory-private.h"

#include "msg-drop-message-private.h"
#include "msg-drop-utils-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/**
 * MsgDropDirectory:
 *
 * A directory of `.eml` files, one message each, such as the pickup
 * directory that the pickup transport writes or the drop directory of an
 * SMTP service (CDO's `IDropDirectory`).
 *
 * [method@DropDirectory.get_messages] lists the messages (CDO's
 * `GetMessages`, an `IMessages` collection) as [class@DropMessage] items
 * without opening them: a message is parsed when it is first asked for.
 * Only visible regular files whose names end in `.eml` are listed: the
 * hidden temporary files a writer leaves (`.NAME.tmp`), claimed files,
 * subdirectories, symbolic links, FIFOs and other special files are
 * skipped. Everything is done relative to one descriptor of the
 * directory, opened on first use.
 *
 * Several consumers, in one process or several, can share the directory:
 * each claims a message ([method@DropMessage.claim]) before processing
 * it, and a claim is an atomic rename, so no two consumers process one
 * file.
 */
struct _MsgDropDirectory
{
  GObject parent_instance;

  GFile        *file;    /* (owned) */
  char         *path;    /* (owned) */
  GMutex        lock;    /* guards lists */
  MsgDropFd    *dir_fd;  /* (owned): the directory's descriptor */
  GFileMonitor *monitor; /* (owned) (nullable) */
  GPtrArray    *lists;   /* (owned): weak pointers to the GListStores handed out */
};

G_DEFINE_FINAL_TYPE (MsgDropDirectory, msg_drop_directory, G_TYPE_OBJECT)

enum
{
  PROP_0,
  PROP_FILE,
  N_PROPS,
};

static GParamSpec *properties[N_PROPS];

enum
{
  SIGNAL_CHANGED,
  N_SIGNALS,
};

static guint signals[N_SIGNALS];

static void
list_gone_cb (gpointer data,
              GObject *where_the_object_was)
{
  MsgDropDirectory *self = data;

  g_mutex_lock (&self->lock);
  g_ptr_array_remove_fast (self->lists, where_the_object_was);
  g_mutex_unlock (&self->lock);
}

static void
msg_drop_directory_dispose (GObject *object)
{
  MsgDropDirectory *self = MSG_DROP_DIRECTORY (object);

  if (self->monitor != NULL)
    {
      g_file_monitor_cancel (self->monitor);
      g_signal_handlers_disconnect_by_data (self->monitor, self);
      g_clear_object (&self->monitor);
    }

  G_OBJECT_CLASS (msg_drop_directory_parent_class)->dispose (object);
}

static void
msg_drop_directory_finalize (GObject *object)
{
  MsgDropDirectory *self = MSG_DROP_DIRECTORY (object);

  /* Items hold a reference on the directory, so every list still alive
   * here holds none of our items: only its weak pointer is left. */
  for (guint i = 0; i < self->lists->len; i++)
    g_object_weak_unref (self->lists->pdata[i], list_gone_cb, self);
  g_ptr_array_unref (self->lists);
  g_clear_pointer (&self->dir_fd, _msg_drop_fd_unref);
  g_mutex_clear (&self->lock);
  g_free (self->path);
  g_clear_object (&self->file);

  G_OBJECT_CLASS (msg_drop_directory_parent_class)->finalize (object);
}

static void
msg_drop_directory_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  MsgDropDirectory *self = MSG_DROP_DIRECTORY (object);

  switch (prop_id)
    {
    case PROP_FILE:
      g_value_set_object (value, self->file);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
msg_drop_directory_set_property (GObject      *object,
                                 guint         prop_id,
                                 const GValue *value,
                                 GParamSpec   *pspec)
{
  MsgDropDirectory *self = MSG_DROP_DIRECTORY (object);

  switch (prop_id)
    {
    case PROP_FILE:
      g_set_object (&self->file, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
msg_drop_directory_constructed (GObject *object)
{
  MsgDropDirectory *self = MSG_DROP_DIRECTORY (object);

  G_OBJECT_CLASS (msg_drop_directory_parent_class)->constructed (object);

  if (self->file == NULL)
    self->file = g_file_new_for_path (".");
  self->path = g_file_get_path (self->file);
  if (self->path == NULL)
    {
      g_autofree char *uri = g_file_get_uri (self->file);

      g_critical ("A drop directory must be a local directory, not “%s”", uri);
      self->path = g_strdup ("");
    }
  self->dir_fd = _msg_drop_fd_new (self->path);
}

static void
msg_drop_directory_class_init (MsgDropDirectoryClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = msg_drop_directory_dispose;
  object_class->finalize = msg_drop_directory_finalize;
  object_class->get_property = msg_drop_directory_get_property;
  object_class->set_property = msg_drop_directory_set_property;
  object_class->constructed = msg_drop_directory_constructed;

  /**
   * MsgDropDirectory:file:
   *
   * The directory, a local one.
   */
  properties[PROP_FILE] =
      g_param_spec_object ("file", NULL, NULL, G_TYPE_FILE,
                           G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * MsgDropDirectory::changed:
   * @self: the directory
   * @name: (type filename): the name of the message file that appeared
   *
   * Emitted, once [method@DropDirectory.watch] was called, when a message
   * file appears in the directory (written, moved in, or put back by
   * [method@DropMessage.release]), in the thread-default main context of
   * the call to watch(). Before the signal, an item for it is added (in
   * name order) to every list from [method@DropDirectory.get_messages]
   * that is still alive and does not have it yet.
   */
  signals[SIGNAL_CHANGED] =
      g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                    NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
msg_drop_directory_init (MsgDropDirectory *self)
{
  g_mutex_init (&self->lock);
  self->lists = g_ptr_array_new ();
}

/**
 * msg_drop_directory_new:
 * @path: (type filename): the directory
 *
 * Makes an object for the directory @path; nothing is opened yet.
 *
 * Returns: (transfer full): the drop directory
 */
MsgDropDirectory *
msg_drop_directory_new (const char *path)
{
  g_autoptr (GFile) file = NULL;

  g_return_val_if_fail (path != NULL, NULL);

  file = g_file_new_for_path (path);
  return g_object_new (MSG_TYPE_DROP_DIRECTORY, "file", file, NULL);
}

/**
 * msg_drop_directory_new_for_file:
 * @file: a local directory
 *
 * Makes an object for the directory @file; nothing is opened yet.
 *
 * Returns: (transfer full): the drop directory
 */
MsgDropDirectory *
msg_drop_directory_new_for_file (GFile *file)
{
  g_return_val_if_fail (G_IS_FILE (file), NULL);

  return g_object_new (MSG_TYPE_DROP_DIRECTORY, "file", file, NULL);
}

/**
 * msg_drop_directory_get_path:
 * @self: a drop directory
 *
 * Gives the directory's local path.
 *
 * Returns: (type filename): the directory's path
 */
const char *
msg_drop_directory_get_path (MsgDropDirectory *self)
{
  g_return_val_if_fail (MSG_IS_DROP_DIRECTORY (self), NULL);

  return self->path;
}

/**
 * msg_drop_directory_get_file: (get-property file)
 * @self: a drop directory
 *
 * Gives the directory as a [iface@Gio.File].
 *
 * Returns: (transfer full): the directory
 */
GFile *
msg_drop_directory_get_file (MsgDropDirectory *self)
{
  g_return_val_if_fail (MSG_IS_DROP_DIRECTORY (self), NULL);

  return g_object_ref (self->file);
}

/* Whether the entry is a regular file; d_type when the file system gives
 * it, else an lstat (never following a symbolic link). */
static gboolean
entry_is_regular (int            dir_fd,
                  struct dirent *entry)
{
  struct stat st;

  if (entry->d_type == DT_REG)
    return TRUE;
  if (entry->d_type != DT_UNKNOWN)
    return FALSE;
  return fstatat (dir_fd, entry->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG (st.st_mode);
}

typedef gboolean (*EntryFunc) (int         dir_fd,
                               const char *name,
                               gpointer    user_data,
                               GError    **error);

/* Calls @func for every regular file of the directory whose name @filter
 * accepts, checking @cancellable every 1024 entries. */
static gboolean
for_each_entry (MsgDropDirectory *self,
                gboolean (*filter) (const char *name),
                EntryFunc     func,
                gpointer      user_data,
                GCancellable *cancellable,
                GError      **error)
{
  struct dirent *entry;
  DIR           *dir;
  int            dir_fd = _msg_drop_fd_get (self->dir_fd, error);
  int            fd;
  guint          n = 0;
  gboolean       ok = TRUE;

  if (dir_fd < 0)
    return FALSE;
  /* A descriptor of our own: readdir() moves its offset. */
  fd = openat (dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || (dir = fdopendir (fd)) == NULL)
    {
      int saved_errno = errno;

      if (fd >= 0)
        close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot read the drop directory “%s”: %s", self->path, g_strerror (saved_errno));
      return FALSE;
    }
  while (ok && (entry = readdir (dir)) != NULL)
    {
      if ((++n & 1023) == 0 && g_cancellable_set_error_if_cancelled (cancellable, error))
        ok = FALSE;
      else if (filter (entry->d_name) && entry_is_regular (dir_fd, entry))
        ok = func (dir_fd, entry->d_name, user_data, error);
    }
  closedir (dir);
  return ok && !g_cancellable_set_error_if_cancelled (cancellable, error);
}

static gboolean
collect_name (int         dir_fd,
              const char *name,
              gpointer    user_data,
              GError    **error)
{
  g_ptr_array_add (user_data, g_strdup (name));
  return TRUE;
}

static int
compare_names (gconstpointer a,
               gconstpointer b)
{
  return strcmp (*(const char *const *) a, *(const char *const *) b);
}

/**
 * msg_drop_directory_get_messages:
 * @self: a drop directory
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Lists the messages of the directory (CDO `IDropDirectory.GetMessages`),
 * in name order (for names the pickup transport gives, the order they were
 * written), without opening any of them: each file costs one directory
 * entry read, and one `lstat()` only where the file system does not give
 * the file type. See [class@DropDirectory] for what is skipped.
 *
 * Once [method@DropDirectory.watch] was called, new files are added to the
 * list as they appear, in the thread-default main context of that call.
 * Files deleted or claimed by others stay in the list; their items then
 * fail with %G_IO_ERROR_NOT_FOUND.
 *
 * Returns: (transfer full): a list of [class@DropMessage], or %NULL on
 *   error
 */
GListModel *
msg_drop_directory_get_messages (MsgDropDirectory *self,
                                 GCancellable     *cancellable,
                                 GError          **error)
{
  g_autoptr (GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr (GPtrArray) items = NULL;
  GListStore *store;

  g_return_val_if_fail (MSG_IS_DROP_DIRECTORY (self), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!for_each_entry (self, _msg_drop_is_message_name, collect_name, names, cancellable, error))
    return NULL;
  g_ptr_array_sort (names, compare_names);

  items = g_ptr_array_new_full (names->len, g_object_unref);
  for (guint i = 0; i < names->len; i++)
    g_ptr_array_add (items, _msg_drop_message_new (self, self->dir_fd, names->pdata[i]));
  store = g_list_store_new (MSG_TYPE_DROP_MESSAGE);
  g_list_store_splice (store, 0, 0, items->pdata, items->len);

  g_mutex_lock (&self->lock);
  g_ptr_array_add (self->lists, store);
  g_object_weak_ref (G_OBJECT (store), list_gone_cb, self);
  g_mutex_unlock (&self->lock);
  return G_LIST_MODEL (store);
}

typedef struct
{
  const char *after; /* (nullable) */
  const char *until; /* (nullable) */
  guint       max;
  GPtrArray  *names; /* at most 2 * max: trimmed to the max smallest */
  guint       n_in_range;
  char       *last; /* (owned) (nullable): the largest name in range */
} Range;

static void
trim_range (Range *range)
{
  g_ptr_array_sort (range->names, compare_names);
  if (range->names->len > range->max)
    g_ptr_array_set_size (range->names, range->max);
}

static gboolean
collect_in_range (int         dir_fd,
                  const char *name,
                  gpointer    user_data,
                  GError    **error)
{
  Range *range = user_data;

  if ((range->after != NULL && strcmp (name, range->after) <= 0) ||
      (range->until != NULL && strcmp (name, range->until) > 0))
    return TRUE;
  range->n_in_range++;
  if (range->last == NULL || strcmp (name, range->last) > 0)
    {
      g_free (range->last);
      range->last = g_strdup (name);
    }
  g_ptr_array_add (range->names, g_strdup (name));
  if (range->names->len >= 2 * range->max)
    trim_range (range);
  return TRUE;
}

/* The items of the @max smallest message names in (@after, @until] (a
 * NULL bound is none), sorted, reading the directory once and holding at
 * most 2 * @max names: the flusher's listing in batches, so that its
 * memory does not grow with the directory (issue 18). Gives how many
 * names are in the range, and the largest. */
GPtrArray *
_msg_drop_directory_list_range (MsgDropDirectory *self,
                                const char       *after,
                                const char       *until,
                                guint             max,
                                guint            *n_in_range,
                                char            **last,
                                GCancellable     *cancellable,
                                GError          **error)
{
  Range      range = { after, until, MAX (max, 1), g_ptr_array_new_with_free_func (g_free), 0, NULL };
  GPtrArray *items = NULL;

  if (for_each_entry (self, _msg_drop_is_message_name, collect_in_range, &range, cancellable, error))
    {
      trim_range (&range);
      items = g_ptr_array_new_full (range.names->len, g_object_unref);
      for (guint i = 0; i < range.names->len; i++)
        g_ptr_array_add (items, _msg_drop_message_new (self, self->dir_fd, range.names->pdata[i]));
      if (n_in_range != NULL)
        *n_in_range = range.n_in_range;
      if (last != NULL)
        *last = g_steal_pointer (&range.last);
    }
  g_ptr_array_unref (range.names);
  g_free (range.last);
  return items;
}

static gboolean
delete_one (int         dir_fd,
            const char *name,
            gpointer    user_data,
            GError    **error)
{
  guint *n_deleted = user_data;

  if (unlinkat (dir_fd, name, 0) == 0)
    (*n_deleted)++;
  else if (errno != ENOENT)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot delete message file “%s”: %s", name, g_strerror (saved_errno));
      return FALSE;
    }
  return TRUE;
}

/**
 * msg_drop_directory_delete_all:
 * @self: a drop directory
 * @n_deleted: (out) (optional): how many files were deleted
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Deletes every message file the directory lists (CDO
 * `IMessages.DeleteAll`). Claimed files, temporary files, subdirectories
 * and anything else not listed are left alone.
 *
 * Returns: %TRUE on success; on error, files before the failing one may
 *   have been deleted (@n_deleted says how many)
 */
gboolean
msg_drop_directory_delete_all (MsgDropDirectory *self,
                               guint            *n_deleted,
                               GCancellable     *cancellable,
                               GError          **error)
{
  guint    count = 0;
  gboolean ok;

  g_return_val_if_fail (MSG_IS_DROP_DIRECTORY (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  ok = for_each_entry (self, _msg_drop_is_message_name, delete_one, &count, cancellable, error);
  if (n_deleted != NULL)
    *n_deleted = count;
  return ok;
}

/* Whether @name is ".NAME.claimed-PID-HEX" or ".NAME.started-PID-HEX";
 * gives NAME and whether it was started. */
static char *
parse_claim_name (const char *name,
                  gboolean   *started)
{
  const char *mark = g_strrstr (name, MSG_DROP_CLAIMED_MARK);
  const char *p;
  char        rest[2];
  int         pid;
  unsigned    random;

  *started = FALSE;
  if (mark == NULL)
    {
      mark = g_strrstr (name, MSG_DROP_STARTED_MARK);
      *started = TRUE;
    }
  if (name[0] != '.' || mark == NULL || mark == name + 1)
    return NULL;
  p = mark + strlen (MSG_DROP_CLAIMED_MARK); /* both marks have one length */
  if (sscanf (p, "%d-%8x%1s", &pid, &random, rest) != 2 || pid <= 0)
    return NULL;
  return g_strndup (name + 1, mark - name - 1);
}

static gboolean
is_claim_name (const char *name)
{
  gboolean         started;
  g_autofree char *listed = parse_claim_name (name, &started);

  return listed != NULL && _msg_drop_is_message_name (listed);
}

typedef struct
{
  const char *started_subdir; /* (nullable) */
  guint       n_put_back;
  guint       n_set_aside;
} Recovery;

/* Moves a stale started claim into @subdir under its listed name (or a
 * free variant of it). */
static gboolean
set_aside (int         dir_fd,
           const char *claim_name,
           const char *listed,
           const char *subdir,
           GError    **error)
{
  int      sub_fd;
  gboolean ok = FALSE;

  if (mkdirat (dir_fd, subdir, 0700) != 0 && errno != EEXIST)
    sub_fd = -1;
  else
    sub_fd = openat (dir_fd, subdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (sub_fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "Cannot open subdirectory “%s”: %s", subdir, g_strerror (saved_errno));
      return FALSE;
    }
  for (unsigned attempt = 0; attempt < 8 && !ok; attempt++)
    {
      g_autoptr (GError) local_error = NULL;
      g_autofree char *target = attempt == 0 ? g_strdup (listed) : g_strdup_printf ("%08x-%s", g_random_int (), listed);

      ok = _msg_drop_rename_noreplace (dir_fd, claim_name, sub_fd, target, &local_error);
      if (!ok && !g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_EXISTS))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          break;
        }
    }
  close (sub_fd);
  return ok;
}

static gboolean
recover_one (int         dir_fd,
             const char *name,
             gpointer    user_data,
             GError    **error)
{
  Recovery        *recovery = user_data;
  g_autofree char *listed = NULL;
  gboolean         started;
  gboolean         ok = TRUE;
  int              fd;

  listed = parse_claim_name (name, &started);
  fd = _msg_drop_open_regular (dir_fd, name, NULL);
  if (fd < 0)
    return TRUE; /* gone meanwhile, or not a file of ours */
  /* The claimer holds the lock for as long as it lives. */
  if (flock (fd, LOCK_EX | LOCK_NB) == 0)
    {
      gboolean aside = started && recovery->started_subdir != NULL;

      if (aside)
        ok = set_aside (dir_fd, name, listed, recovery->started_subdir, error);
      else
        ok = _msg_drop_rename_noreplace (dir_fd, name, dir_fd, listed, error);
      if (ok)
        {
          if (aside)
            recovery->n_set_aside++;
          else
            recovery->n_put_back++;
        }
      else if (g_error_matches (*error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND))
        {
          g_clear_error (error); /* another recovery took it */
          ok = TRUE;
        }
    }
  close (fd);
  return ok;
}

/**
 * msg_drop_directory_recover_claims:
 * @self: a drop directory
 * @started_subdir: (nullable) (type filename): where stale claims that
 *   were marked started go, such as `unknown`; %NULL to put them back too
 * @n_put_back: (out) (optional): how many stale claims were put back
 * @n_set_aside: (out) (optional): how many were moved to @started_subdir
 * @cancellable: (nullable): a cancellable
 * @error: return location for an error
 *
 * Finds the claims whose consumer died (a claimed file whose lock is no
 * longer held) and puts each back under its listed name, or, if it was
 * marked with [method@DropMessage.mark_started], moves it to
 * @started_subdir so that it is not processed twice. Claims of live
 * consumers, in this process or another, are left alone.
 *
 * Returns: %TRUE on success
 */
gboolean
msg_drop_directory_recover_claims (MsgDropDirectory *self,
                                   const char       *started_subdir,
                                   guint            *n_put_back,
                                   guint            *n_set_aside,
                                   GCancellable     *cancellable,
                                   GError          **error)
{
  Recovery recovery = { started_subdir, 0, 0 };
  gboolean ok;

  g_return_val_if_fail (MSG_IS_DROP_DIRECTORY (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (started_subdir != NULL && (started_subdir[0] == '\0' || started_subdir[0] == '.' || strchr (started_subdir, '/') != NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   "“%s” is not a subdirectory name (one component, not starting with a dot)", started_subdir);
      return FALSE;
    }
  ok = for_each_entry (self, is_claim_name, recover_one, &recovery, cancellable, error);
  if (n_put_back != NULL)
    *n_put_back = recovery.n_put_back;
  if (n_set_aside != NULL)
    *n_set_aside = recovery.n_set_aside;
  return ok;
}

/* Where @name belongs in @list (sorted by name), or -1 if it is there. */
static gssize
find_position (GListModel *list,
               const char *name)
{
  guint low = 0, high = g_list_model_get_n_items (list);

  while (low < high)
    {
      guint mid = low + (high - low) / 2;
      g_autoptr (MsgDropMessage) item = g_list_model_get_item (list, mid);
      int cmp = strcmp (msg_drop_message_get_name (item), name);

      if (cmp == 0)
        return -1;
      if (cmp < 0)
        low = mid + 1;
      else
        high = mid;
    }
  return low;
}

static void
add_to_lists (MsgDropDirectory *self,
              const char       *name)
{
  g_autoptr (GPtrArray) lists = g_ptr_array_new_with_free_func (g_object_unref);

  g_mutex_lock (&self->lock);
  for (guint i = 0; i < self->lists->len; i++)
    g_ptr_array_add (lists, g_object_ref (self->lists->pdata[i]));
  g_mutex_unlock (&self->lock);

  for (guint i = 0; i < lists->len; i++)
    {
      gssize position = find_position (lists->pdata[i], name);

      if (position >= 0)
        {
          g_autoptr (MsgDropMessage) item = _msg_drop_message_new (self, self->dir_fd, name);

          g_list_store_insert (lists->pdata[i], position, item);
        }
    }
}

static void
monitor_changed_cb (GFileMonitor     *monitor,
                    GFile            *file,
                    GFile            *other_file,
                    GFileMonitorEvent event,
                    gpointer          user_data)
{
  MsgDropDirectory *self = user_data;
  g_autofree char  *name = NULL;
  GFile            *added;
  struct stat       st;

  if (event == G_FILE_MONITOR_EVENT_CREATED || event == G_FILE_MONITOR_EVENT_MOVED_IN)
    added = file;
  else if (event == G_FILE_MONITOR_EVENT_RENAMED)
    added = other_file;
  else
    return;
  if (added == NULL)
    return;
  name = g_file_get_basename (added);
  if (!_msg_drop_is_message_name (name))
    return;
  if (fstatat (_msg_drop_fd_get (self->dir_fd, NULL), name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG (st.st_mode))
    return;
  add_to_lists (self, name);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0, name);
}

/**
 * msg_drop_directory_watch:
 * @self: a drop directory
 * @error: return location for an error
 *
 * Starts watching the directory with a [class@Gio.FileMonitor]: from now
 * on, [signal@DropDirectory::changed] is emitted, and the lists from
 * [method@DropDirectory.get_messages] grow, when a message file appears.
 * Both happen in the thread-default main context of this call, which must
 * be the only thread using those lists. Calling it again does nothing.
 *
 * Returns: %TRUE on success
 */
gboolean
msg_drop_directory_watch (MsgDropDirectory *self,
                          GError          **error)
{
  g_return_val_if_fail (MSG_IS_DROP_DIRECTORY (self), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->monitor != NULL)
    return TRUE;
  if (_msg_drop_fd_get (self->dir_fd, error) < 0)
    return FALSE;
  self->monitor = g_file_monitor_directory (self->file, G_FILE_MONITOR_WATCH_MOVES, NULL, error);
  if (self->monitor == NULL)
    return FALSE;
  g_signal_connect (self->monitor, "changed", G_CALLBACK (monitor_changed_cb), self);
  return TRUE;
}
