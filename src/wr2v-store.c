/* wr2v-store.c: results, journal and upload records, written atomically. */
#include "wr2v-store.h"
#include "wr2v-backoff.h"
#include "wr2v-error.h"

#include <errno.h>
#include <sys/file.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

/* A record is a few hundred bytes; anything bigger is not ours. */
#define MAX_RECORD_BYTES (64 * 1024)
/* A partial file this old belongs to a process that died, even when it
 * can't be checked through its lock. */
#define STALE_TMP_SECONDS (24 * 3600)

struct _Wr2vStore
{
  gchar *dir;
  gchar *results;
  gchar *journal;
  gchar *uploads;
  gchar *tmp;
  /* our files in tmp/: path -> fd holding an flock on it while this store
   * is open, so that another store knows the file is still being written */
  GMutex lock;
  GHashTable *temp_fds;
};

gchar *
wr2v_store_default_dir (void)
{
  return g_build_filename (g_get_user_cache_dir (), "gstreamer-1.0", "wanr2v",
      NULL);
}

static gboolean
make_dir (const gchar * path, GError ** error)
{
  if (g_mkdir_with_parents (path, 0700) != 0) {
    int e = errno;
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "Cannot create the directory %s: %s. Set cache-dir to a writable "
        "directory.", path, g_strerror (e));
    return FALSE;
  }
  if (g_access (path, W_OK | X_OK) != 0) {
    int e = errno;
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "Cannot write to %s: %s. Set cache-dir to a writable directory.",
        path, g_strerror (e));
    return FALSE;
  }
  return TRUE;
}

/* Removes the partial files of runs that ended without cleaning up (a
 * crash, a kill): every file in tmp/ whose writer is gone, which its lock
 * tells, and anything older than a day. A download killed halfway can
 * weigh as much as a clip: it must not wait a day. */
static void
remove_stale_tmp (const gchar * tmp)
{
  g_autoptr (GDir) d = g_dir_open (tmp, 0, NULL);
  const gchar *name;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  while (d && (name = g_dir_read_name (d))) {
    g_autofree gchar *path = g_build_filename (tmp, name, NULL);
    GStatBuf st;
    gint fd;

    if (g_lstat (path, &st) != 0 || !S_ISREG (st.st_mode))
      continue;
    fd = g_open (path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
    if (fd >= 0 && flock (fd, LOCK_EX | LOCK_NB) == 0)
      g_unlink (path);          /* nobody holds it: its writer is gone */
    else if (now - st.st_mtime > STALE_TMP_SECONDS)
      g_unlink (path);
    if (fd >= 0)
      close (fd);
  }
}

static void
close_fd (gpointer data)
{
  close (GPOINTER_TO_INT (data));
}

Wr2vStore *
wr2v_store_open (const gchar * dir, GError ** error)
{
  g_autoptr (Wr2vStore) store = g_new0 (Wr2vStore, 1);

  store->dir = dir && *dir ? g_strdup (dir) : wr2v_store_default_dir ();
  store->results = g_build_filename (store->dir, "results", NULL);
  store->journal = g_build_filename (store->dir, "journal", NULL);
  store->uploads = g_build_filename (store->dir, "uploads", NULL);
  store->tmp = g_build_filename (store->dir, "tmp", NULL);
  g_mutex_init (&store->lock);
  store->temp_fds = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      close_fd);

  if (!make_dir (store->dir, error) || !make_dir (store->results, error) ||
      !make_dir (store->journal, error) || !make_dir (store->uploads, error)
      || !make_dir (store->tmp, error))
    return NULL;
  remove_stale_tmp (store->tmp);
  return g_steal_pointer (&store);
}

void
wr2v_store_free (Wr2vStore * store)
{
  if (!store)
    return;
  g_free (store->dir);
  g_free (store->results);
  g_free (store->journal);
  g_free (store->uploads);
  g_free (store->tmp);
  if (store->temp_fds)
    g_hash_table_unref (store->temp_fds);
  g_mutex_clear (&store->lock);
  g_free (store);
}

const gchar *
wr2v_store_dir (Wr2vStore * store)
{
  return store->dir;
}

/* Keys become file names: only lowercase hex digests are accepted, so no
 * server-given or user-given text can ever reach a path. */
static gboolean
is_digest (const gchar * s)
{
  gsize n = 0;

  if (!s)
    return FALSE;
  for (; s[n]; n++)
    if (!g_ascii_isxdigit (s[n]) || g_ascii_isupper (s[n]))
      return FALSE;
  return n == 64;
}

static gboolean
is_engine_name (const gchar * s)
{
  if (!s || !*s || strlen (s) > 32)
    return FALSE;
  for (; *s; s++)
    if (!g_ascii_isalnum (*s) && *s != '-' && *s != '_')
      return FALSE;
  return TRUE;
}

gchar *
wr2v_store_new_temp (Wr2vStore * store, const gchar * suffix, GError ** error)
{
  g_autofree gchar *tmpl = g_strdup_printf ("%s/XXXXXX%s", store->tmp,
      suffix ? suffix : "");
  gint fd = g_mkstemp_full (tmpl, O_RDWR | O_CLOEXEC, 0600);

  if (fd < 0) {
    int e = errno;
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "Cannot create a file in %s: %s. Set cache-dir to a writable "
        "directory with free space.", store->tmp, g_strerror (e));
    return NULL;
  }
  /* held while this store is open (or until the file is committed): a
   * store opened meanwhile leaves the file alone, one opened after a
   * crash removes it */
  flock (fd, LOCK_EX | LOCK_NB);
  g_mutex_lock (&store->lock);
  g_hash_table_replace (store->temp_fds, g_strdup (tmpl), GINT_TO_POINTER (fd));
  g_mutex_unlock (&store->lock);
  return g_steal_pointer (&tmpl);
}

static gboolean
write_record (const gchar * path, JsonBuilder * b, GError ** error)
{
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = json_builder_get_root (b);
  g_autofree gchar *data = NULL;
  gsize len;
  GError *err = NULL;

  json_generator_set_root (gen, root);
  data = json_generator_to_data (gen, &len);
  if (!g_file_set_contents_full (path, data, len,
          G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE, 0600,
          &err)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "Cannot write %s: %s. Check that cache-dir is writable and not "
        "full.", path, err->message);
    g_error_free (err);
    return FALSE;
  }
  return TRUE;
}

/* Parses a small JSON object record; NULL on anything unexpected. */
static JsonObject *
parse_record (const gchar * data, gssize len, JsonParser ** parser_out,
    GError ** error)
{
  g_autoptr (JsonParser) parser = json_parser_new_immutable ();
  JsonNode *root;

  if (len < 0)
    len = data ? strlen (data) : 0;
  if (!data || len == 0 || len > MAX_RECORD_BYTES) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "A store record is empty or too large");
    return NULL;
  }
  if (!json_parser_load_from_data (parser, data, len, error))
    return NULL;
  root = json_parser_get_root (parser);
  if (!root || !JSON_NODE_HOLDS_OBJECT (root)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "A store record is not a JSON object");
    return NULL;
  }
  *parser_out = g_steal_pointer (&parser);
  return json_node_get_object (root);
}

static gchar *
dup_string_member (JsonObject * o, const gchar * name)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n && JSON_NODE_HOLDS_VALUE (n) &&
      json_node_get_value_type (n) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (n));
  return NULL;
}

static gint64
int_member (JsonObject * o, const gchar * name)
{
  JsonNode *n = json_object_get_member (o, name);

  if (n && JSON_NODE_HOLDS_VALUE (n) &&
      json_node_get_value_type (n) == G_TYPE_INT64)
    return json_node_get_int (n);
  return 0;
}

static gchar *
read_small_file (const gchar * path, gsize * len)
{
  gchar *data = NULL;

  if (!g_file_get_contents (path, &data, len, NULL))
    return NULL;
  return data;
}

/* --- results --- */

void
wr2v_result_meta_free (Wr2vResultMeta * meta)
{
  if (!meta)
    return;
  g_free (meta->engine);
  g_free (meta->job_id);
  g_free (meta->source_url);
  g_free (meta);
}

Wr2vResultMeta *
wr2v_result_meta_parse (const gchar * data, gssize len, GError ** error)
{
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o = parse_record (data, len, &parser, error);
  Wr2vResultMeta *meta;

  if (!o)
    return NULL;
  meta = g_new0 (Wr2vResultMeta, 1);
  meta->engine = dup_string_member (o, "engine");
  meta->job_id = dup_string_member (o, "job_id");
  meta->source_url = dup_string_member (o, "source_url");
  meta->created = int_member (o, "created");
  return meta;
}

gchar *
wr2v_store_lookup (Wr2vStore * store, const gchar * hash,
    Wr2vResultMeta ** meta)
{
  g_autofree gchar *name = NULL;
  g_autofree gchar *path = NULL;

  if (meta)
    *meta = NULL;
  if (!is_digest (hash))
    return NULL;
  name = g_strdup_printf ("%s.mp4", hash);
  path = g_build_filename (store->results, name, NULL);
  if (!g_file_test (path, G_FILE_TEST_IS_REGULAR))
    return NULL;
  if (meta) {
    g_autofree gchar *jname = g_strdup_printf ("%s.json", hash);
    g_autofree gchar *jpath = g_build_filename (store->results, jname, NULL);
    gsize len = 0;
    g_autofree gchar *data = read_small_file (jpath, &len);

    *meta = data ? wr2v_result_meta_parse (data, len, NULL) : NULL;
  }
  return g_steal_pointer (&path);
}

static gboolean
sync_file (const gchar * path, GError ** error)
{
  int fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  gboolean ok;

  if (fd < 0) {
    int e = errno;
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE, "Cannot open %s: %s",
        path, g_strerror (e));
    return FALSE;
  }
  ok = fsync (fd) == 0;
  if (!ok) {
    int e = errno;
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "Cannot write %s to disk: %s", path, g_strerror (e));
  }
  close (fd);
  return ok;
}

gchar *
wr2v_store_commit (Wr2vStore * store, const gchar * hash,
    const gchar * tmp_path, const Wr2vResultMeta * meta, GError ** error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree gchar *jname = NULL;
  g_autofree gchar *jpath = NULL;
  g_autofree gchar *name = NULL;
  g_autofree gchar *path = NULL;

  g_return_val_if_fail (is_digest (hash), NULL);

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "engine");
  json_builder_add_string_value (b, meta && meta->engine ? meta->engine : "");
  json_builder_set_member_name (b, "job_id");
  json_builder_add_string_value (b, meta && meta->job_id ? meta->job_id : "");
  json_builder_set_member_name (b, "source_url");
  json_builder_add_string_value (b, meta
      && meta->source_url ? meta->source_url : "");
  json_builder_set_member_name (b, "created");
  json_builder_add_int_value (b, g_get_real_time () / G_USEC_PER_SEC);
  json_builder_end_object (b);

  jname = g_strdup_printf ("%s.json", hash);
  jpath = g_build_filename (store->results, jname, NULL);
  name = g_strdup_printf ("%s.mp4", hash);
  path = g_build_filename (store->results, name, NULL);

  /* The clip's bytes reach the disk before its name appears: after a
   * crash, results/ holds whole clips or nothing. */
  if (!sync_file (tmp_path, error) || !write_record (jpath, b, error))
    return NULL;
  if (g_rename (tmp_path, path) != 0) {
    int e = errno;
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "Cannot move the clip into %s: %s", store->results, g_strerror (e));
    return NULL;
  }
  g_mutex_lock (&store->lock);
  g_hash_table_remove (store->temp_fds, tmp_path);
  g_mutex_unlock (&store->lock);
  return g_steal_pointer (&path);
}

/* --- pruning --- */

typedef struct
{
  gchar *hash;
  gint64 mtime;
  guint64 size;
} StoredClip;

static void
stored_clip_free (gpointer data)
{
  StoredClip *c = data;

  g_free (c->hash);
  g_free (c);
}

static gint
oldest_first (gconstpointer a, gconstpointer b)
{
  const StoredClip *ca = *(const StoredClip **) a;
  const StoredClip *cb = *(const StoredClip **) b;

  if (ca->mtime != cb->mtime)
    return ca->mtime < cb->mtime ? -1 : 1;
  return g_strcmp0 (ca->hash, cb->hash);
}

/* The clips in results/, oldest first. */
static GPtrArray *
list_clips (Wr2vStore * store, GError ** error)
{
  g_autoptr (GPtrArray) clips = g_ptr_array_new_with_free_func
      (stored_clip_free);
  g_autoptr (GDir) d = g_dir_open (store->results, 0, error);
  const gchar *name;

  if (!d)
    return NULL;
  while ((name = g_dir_read_name (d))) {
    g_autofree gchar *path = g_build_filename (store->results, name, NULL);
    g_autofree gchar *hash = NULL;
    StoredClip *c;
    GStatBuf st;

    if (!g_str_has_suffix (name, ".mp4"))
      continue;
    hash = g_strndup (name, strlen (name) - 4);
    if (!is_digest (hash) || g_lstat (path, &st) != 0 || !S_ISREG (st.st_mode))
      continue;
    c = g_new0 (StoredClip, 1);
    c->hash = g_steal_pointer (&hash);
    c->mtime = st.st_mtime;
    c->size = st.st_size;
    g_ptr_array_add (clips, c);
  }
  g_ptr_array_sort (clips, oldest_first);
  return g_steal_pointer (&clips);
}

static void
remove_clip (Wr2vStore * store, const StoredClip * c)
{
  g_autofree gchar *mp4 = g_strdup_printf ("%s.mp4", c->hash);
  g_autofree gchar *json = g_strdup_printf ("%s.json", c->hash);
  g_autofree gchar *mp4_path = g_build_filename (store->results, mp4, NULL);
  g_autofree gchar *json_path = g_build_filename (store->results, json, NULL);

  /* the clip first: a record without its clip is never served */
  g_unlink (mp4_path);
  g_unlink (json_path);
}

static void
remove_expired_uploads (Wr2vStore * store)
{
  g_autoptr (GDir) d = g_dir_open (store->uploads, 0, NULL);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  const gchar *name;

  while (d && (name = g_dir_read_name (d))) {
    g_autofree gchar *path = g_build_filename (store->uploads, name, NULL);
    g_autofree gchar *data = NULL;
    g_autoptr (JsonParser) parser = NULL;
    JsonObject *o;
    gsize len = 0;

    if (!g_str_has_suffix (name, ".json"))
      continue;
    data = read_small_file (path, &len);
    if (!data || !(o = parse_record (data, len, &parser, NULL))
        || int_member (o, "expires") < now)
      g_unlink (path);
  }
}

gboolean
wr2v_store_prune (Wr2vStore * store, gint64 max_age_s, guint64 max_bytes,
    Wr2vPruneStats * stats, GError ** error)
{
  g_autoptr (GPtrArray) clips = list_clips (store, error);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  Wr2vPruneStats local = { 0 };
  guint64 total = 0;

  if (!clips)
    return FALSE;
  for (guint i = 0; i < clips->len; i++)
    total += ((StoredClip *) g_ptr_array_index (clips, i))->size;
  for (guint i = 0; i < clips->len; i++) {
    const StoredClip *c = g_ptr_array_index (clips, i);
    gboolean too_old = max_age_s > 0 && now - c->mtime > max_age_s;
    gboolean too_big = max_bytes > 0 && total > max_bytes;

    if (too_old || too_big) {
      remove_clip (store, c);
      total -= c->size;
      local.removed++;
      local.removed_bytes += c->size;
    } else {
      local.kept++;
      local.kept_bytes += c->size;
    }
  }
  remove_expired_uploads (store);
  if (stats)
    *stats = local;
  return TRUE;
}

/* --- journal --- */

void
wr2v_journal_entry_free (Wr2vJournalEntry * entry)
{
  if (!entry)
    return;
  g_free (entry->engine);
  g_free (entry->job_id);
  g_free (entry);
}

Wr2vJournalEntry *
wr2v_journal_entry_parse (const gchar * data, gssize len, GError ** error)
{
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o = parse_record (data, len, &parser, error);
  Wr2vJournalEntry *entry;

  if (!o)
    return NULL;
  entry = g_new0 (Wr2vJournalEntry, 1);
  entry->engine = dup_string_member (o, "engine");
  entry->job_id = dup_string_member (o, "job_id");
  entry->submitted = int_member (o, "submitted");
  if (entry->job_id && !*entry->job_id)
    g_clear_pointer (&entry->job_id, g_free);
  return entry;
}

static gchar *
journal_path (Wr2vStore * store, const gchar * hash)
{
  g_autofree gchar *name = g_strdup_printf ("%s.json", hash);

  return g_build_filename (store->journal, name, NULL);
}

static gboolean
write_journal (Wr2vStore * store, const gchar * hash, const gchar * engine,
    const gchar * job_id, GError ** error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree gchar *path = NULL;

  g_return_val_if_fail (is_digest (hash), FALSE);
  path = journal_path (store, hash);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "engine");
  json_builder_add_string_value (b, engine ? engine : "");
  json_builder_set_member_name (b, "state");
  json_builder_add_string_value (b, job_id ? "submitted" : "submitting");
  if (job_id) {
    json_builder_set_member_name (b, "job_id");
    json_builder_add_string_value (b, job_id);
    json_builder_set_member_name (b, "submitted");
    json_builder_add_int_value (b, g_get_real_time () / G_USEC_PER_SEC);
  }
  json_builder_end_object (b);
  return write_record (path, b, error);
}

gboolean
wr2v_store_journal_begin (Wr2vStore * store, const gchar * hash,
    const gchar * engine, GError ** error)
{
  return write_journal (store, hash, engine, NULL, error);
}

gboolean
wr2v_store_journal_set_job (Wr2vStore * store, const gchar * hash,
    const gchar * engine, const gchar * job_id, GError ** error)
{
  GError *local = NULL;
  gsize len;

  if (write_journal (store, hash, engine, job_id, &local))
    return TRUE;
  len = strlen (local->message);
  if (len > 0 && local->message[len - 1] == '.')
    local->message[len - 1] = '\0';
  /* The job exists and may cost money: its id must not be lost with the
   * write. The "submitting" entry stays, so the next run refuses to
   * submit again; the user needs the id to find the job. */
  g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
      "%s accepted the job as %s, but it could not be recorded in the "
      "journal: %s. It will not be submitted again by itself (the next run "
      "stops with \"maybe submitted\"): keep the job id %s to find it on "
      "the provider's side.", engine && *engine ? engine : "The service",
      job_id, local->message, job_id);
  g_error_free (local);
  return FALSE;
}

Wr2vJournalEntry *
wr2v_store_journal_get (Wr2vStore * store, const gchar * hash)
{
  g_autofree gchar *path = NULL;
  g_autofree gchar *data = NULL;
  gsize len = 0;

  if (!is_digest (hash))
    return NULL;
  path = journal_path (store, hash);
  data = read_small_file (path, &len);
  return data ? wr2v_journal_entry_parse (data, len, NULL) : NULL;
}

void
wr2v_store_journal_clear (Wr2vStore * store, const gchar * hash)
{
  g_autofree gchar *path = NULL;

  if (!is_digest (hash))
    return;
  path = journal_path (store, hash);
  g_unlink (path);
}

/* --- locks --- */

gint
wr2v_store_lock (Wr2vStore * store, const gchar * hash,
    GCancellable * cancellable, GError ** error)
{
  g_autofree gchar *name = NULL;
  g_autofree gchar *path = NULL;
  gint fd;

  g_return_val_if_fail (is_digest (hash), -1);
  name = g_strdup_printf ("%s.lock", hash);
  path = g_build_filename (store->journal, name, NULL);
  fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) {
    int e = errno;
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "Cannot create %s: %s. Set cache-dir to a writable directory.", path,
        g_strerror (e));
    return -1;
  }
  /* Polling with a cancellable sleep, so that a stop never waits for the
   * other run to finish. */
  while (flock (fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno != EWOULDBLOCK && errno != EINTR) {
      int e = errno;
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE, "Cannot lock %s: %s",
          path, g_strerror (e));
      close (fd);
      return -1;
    }
    if (!wr2v_cancellable_sleep (cancellable, 100 * 1000, error)) {
      close (fd);
      return -1;
    }
  }
  return fd;
}

void
wr2v_store_unlock (gint fd)
{
  if (fd >= 0)
    close (fd);
}

/* --- uploads --- */

static gchar *
upload_path (Wr2vStore * store, const gchar * engine, const gchar * sha)
{
  g_autofree gchar *name = g_strdup_printf ("%s-%s.json", engine, sha);

  return g_build_filename (store->uploads, name, NULL);
}

gchar *
wr2v_store_upload_lookup (Wr2vStore * store, const gchar * engine,
    const gchar * content_sha256, gint64 margin_s)
{
  g_autofree gchar *path = NULL;
  g_autofree gchar *data = NULL;
  g_autoptr (JsonParser) parser = NULL;
  JsonObject *o;
  gsize len = 0;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;

  if (!is_engine_name (engine) || !is_digest (content_sha256))
    return NULL;
  path = upload_path (store, engine, content_sha256);
  data = read_small_file (path, &len);
  if (!data || !(o = parse_record (data, len, &parser, NULL)))
    return NULL;
  if (int_member (o, "expires") < now + margin_s)
    return NULL;
  return dup_string_member (o, "url");
}

gboolean
wr2v_store_upload_remember (Wr2vStore * store, const gchar * engine,
    const gchar * content_sha256, const gchar * url, gint64 expires,
    GError ** error)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autofree gchar *path = NULL;

  if (!is_engine_name (engine) || !is_digest (content_sha256)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE, "Bad upload record key");
    return FALSE;
  }
  path = upload_path (store, engine, content_sha256);
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "url");
  json_builder_add_string_value (b, url);
  json_builder_set_member_name (b, "expires");
  json_builder_add_int_value (b, expires);
  json_builder_end_object (b);
  return write_record (path, b, error);
}
