/* wr2v-store.h: the result store and job journal in cache-dir.
 *
 * Layout (all names derived from SHA-256 digests, never from server data):
 *   results/<hash>.mp4    a delivered clip, renamed into place when complete
 *   results/<hash>.json   where it came from (engine, job id, source URL)
 *   journal/<hash>.json   a job in flight: "submitting", then its job id
 *   uploads/<engine>-<content-sha256>.json  a reference's uploaded URL
 *   tmp/                  partial files; renamed or removed, never served
 * Every write goes to a temporary file that is renamed into place, so a
 * reader never sees a partial file, even after a crash.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS typedef struct _Wr2vStore Wr2vStore;

/* The default cache-dir: $XDG_CACHE_HOME/gstreamer-1.0/wanr2v. */
gchar *wr2v_store_default_dir (void);

/* Creates the directory tree when missing and checks it is writable. */
Wr2vStore *wr2v_store_open (const gchar * dir, GError ** error);
void wr2v_store_free (Wr2vStore * store);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Wr2vStore, wr2v_store_free);

const gchar *wr2v_store_dir (Wr2vStore * store);

/* A new, empty, uniquely named file in tmp/ for a download or render. */
gchar *wr2v_store_new_temp (Wr2vStore * store, const gchar * suffix,
    GError ** error);

/* --- results --- */

typedef struct
{
  gchar *engine;
  gchar *job_id;
  gchar *source_url;
  gint64 created;               /* unix seconds */
} Wr2vResultMeta;

void wr2v_result_meta_free (Wr2vResultMeta * meta);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Wr2vResultMeta, wr2v_result_meta_free);

/* Path of the stored clip for @hash, or NULL when there is none. */
gchar *wr2v_store_lookup (Wr2vStore * store, const gchar * hash,
    Wr2vResultMeta ** meta);

/* Moves @tmp_path (a file in tmp/) to results/<hash>.mp4 with its metadata.
 * Returns the final path. */
gchar *wr2v_store_commit (Wr2vStore * store, const gchar * hash,
    const gchar * tmp_path, const Wr2vResultMeta * meta, GError ** error);

/* Parses a results/<hash>.json document (exposed for fuzzing). */
Wr2vResultMeta *wr2v_result_meta_parse (const gchar * data, gssize len,
    GError ** error);

/* Removes clips (results/<hash>.mp4 and .json) last written more than
 * @max_age_s seconds ago (0: any age), then the oldest until the clips
 * left weigh at most @max_bytes (0: no limit), and upload records that
 * have expired. Jobs in flight (journal/) are never touched; a clip being
 * played stays readable until closed. @stats may be NULL. */
typedef struct
{
  guint removed;
  guint64 removed_bytes;
  guint kept;
  guint64 kept_bytes;
} Wr2vPruneStats;

gboolean wr2v_store_prune (Wr2vStore * store, gint64 max_age_s,
    guint64 max_bytes, Wr2vPruneStats * stats, GError ** error);

/* --- journal --- */

typedef struct
{
  gchar *engine;
  gchar *job_id;                /* NULL while "submitting" */
  gint64 submitted;             /* unix seconds, 0 while submitting */
} Wr2vJournalEntry;

void wr2v_journal_entry_free (Wr2vJournalEntry * entry);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Wr2vJournalEntry, wr2v_journal_entry_free);

/* Written before the submit is sent. */
gboolean wr2v_store_journal_begin (Wr2vStore * store, const gchar * hash,
    const gchar * engine, GError ** error);
/* Written as soon as the submit answered with a job id. */
gboolean wr2v_store_journal_set_job (Wr2vStore * store, const gchar * hash,
    const gchar * engine, const gchar * job_id, GError ** error);
Wr2vJournalEntry *wr2v_store_journal_get (Wr2vStore * store,
    const gchar * hash);
void wr2v_store_journal_clear (Wr2vStore * store, const gchar * hash);

Wr2vJournalEntry *wr2v_journal_entry_parse (const gchar * data, gssize len,
    GError ** error);

/* --- one run per request at a time --- */

/* Takes the request's lock (an flock on journal/<hash>.lock, released by
 * the kernel if the process dies), waiting while another pipeline or
 * process runs the same request, so that it is submitted once and the
 * second run is served from the store. Returns an fd for
 * wr2v_store_unlock(), or -1 with an error (cancelled, or the store). */
gint wr2v_store_lock (Wr2vStore * store, const gchar * hash,
    GCancellable * cancellable, GError ** error);
void wr2v_store_unlock (gint fd);

/* --- uploaded references --- */

/* The URL a reference with this content was uploaded to, if it is still
 * valid for at least @margin_s seconds. */
gchar *wr2v_store_upload_lookup (Wr2vStore * store, const gchar * engine,
    const gchar * content_sha256, gint64 margin_s);
gboolean wr2v_store_upload_remember (Wr2vStore * store, const gchar * engine,
    const gchar * content_sha256, const gchar * url, gint64 expires,
    GError ** error);

G_END_DECLS
