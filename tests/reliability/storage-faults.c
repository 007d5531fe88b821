/* storage-faults.c: an unwritable or full cache-dir or result-location at
 * each write point gives a clear error, and the store stays consistent:
 * no partial file where a reader looks, no job forgotten, nothing paid
 * twice on the next run.
 *
 * Jobs run through wr2v_job_run() with the WaveSpeed engine against the
 * fake server (tests/fake-wavespeed.py). Faults are made so that they also
 * bite as root (root ignores permissions, CI may not be root):
 *   - an obstacle: a directory where the store writes a file (its atomic
 *     rename fails), or a file where it expects a directory;
 *   - a full disk: RLIMIT_FSIZE in a child process (this binary, re-run
 *     with --child), with SIGXFSZ ignored so that writes fail with EFBIG;
 *   - read-only directories (chmod), which are skipped as root.
 */
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "rel-common.h"
#include "wr2v-engine.h"
#include "wr2v-error.h"
#include "wr2v-store.h"

#define KEY "wr2v-storage-KEY-77aa01"

static gchar *root;
static gchar *clip;
static gchar *self;

typedef struct
{
  gchar *dir;
  gchar *cache;
  Wr2vFakeServer *server;
  Wr2vStore *store;
  /* a fault to make at a phase of the job (from the observer) */
  Wr2vPhase fault_phase;
  void (*fault) (gpointer fx);
  gboolean fault_done;
} Fixture;

static void
fixture_setup (Fixture * fx, gconstpointer data)
{
  GError *err = NULL;

  memset (fx, 0, sizeof *fx);
  fx->dir = g_build_filename (root, "case-XXXXXX", NULL);
  g_assert_nonnull (g_mkdtemp (fx->dir));
  fx->cache = g_build_filename (fx->dir, "cache", NULL);
  fx->server = wr2v_fake_server_start ("fake-wavespeed.py", "--api-key", KEY,
      "--result-mp4", clip, "--polls", "1", NULL);
  fx->store = wr2v_store_open (fx->cache, &err);
  g_assert_no_error (err);
  {
    gchar *ref = g_build_filename (fx->dir, "ref.mp4", NULL);

    g_assert_true (g_file_set_contents (ref, "reference bytes", -1, NULL));
    g_free (ref);
  }
}

static gchar *run_job (Fixture * fx, const gchar * cache,
    const gchar * api_url, const gchar * prompt, gchar ** hash,
    GError ** error);

/* The request's key, from a run that fails before anything is written
 * (no server at that port: the upload fails). */
static gchar *
learn_hash (Fixture * fx, const gchar * prompt)
{
  GError *err = NULL;
  gchar *hash = NULL, *path;

  path = run_job (fx, fx->cache, "http://127.0.0.1:9", prompt, &hash, &err);
  g_assert_null (path);
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_NETWORK);
  g_clear_error (&err);
  return hash;
}

static void
fixture_teardown (Fixture * fx, gconstpointer data)
{
  wr2v_store_free (fx->store);
  wr2v_fake_server_stop (fx->server);
  wr2v_test_rm_rf (fx->dir);
  g_free (fx->dir);
  g_free (fx->cache);
}

/* --- a job ------------------------------------------------------------- */

/* The reference, a file next to cache-dir written by the fixture: any
 * bytes do, the fake server does not decode references. */
static Wr2vRequest *
make_request (const gchar * dir, const gchar * prompt)
{
  Wr2vRequest *req = wr2v_request_new ();
  Wr2vReference *ref = wr2v_reference_new (WR2V_REF_VIDEO, 0);
  gchar *path = g_build_filename (dir, "ref.mp4", NULL);

  ref->path = path;
  ref->mime = g_strdup ("video/mp4");
  ref->sha256 = wr2v_file_sha256 (path, NULL);
  wr2v_request_add_reference (req, ref);
  req->prompt = g_strdup (prompt);
  req->duration = 5;
  req->seed = -1;
  wr2v_request_number_references (req);
  return req;
}

static void
on_phase (gpointer data, Wr2vPhase phase, const gchar * text)
{
  Fixture *fx = data;

  if (fx && fx->fault && !fx->fault_done && phase == fx->fault_phase) {
    fx->fault_done = TRUE;
    fx->fault (fx);
  }
}

static void
on_message (gpointer data, GstStructure * facts)
{
  gst_structure_free (facts);
}

/* Runs one job; returns the stored clip's path or NULL with @error. */
static gchar *
run_job (Fixture * fx, const gchar * cache, const gchar * api_url,
    const gchar * prompt, gchar ** hash, GError ** error)
{
  Wr2vEngineSettings s = { 0, };
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Wr2vStore *store;
  Wr2vJob job;
  gchar *path = NULL, *dir = g_path_get_dirname (cache);

  store = wr2v_store_open (cache, error);
  if (!store) {
    g_free (dir);
    return NULL;
  }
  s.api_key = g_strdup (KEY);
  s.api_url = g_strdup (api_url);
  s.request_timeout_s = 60;
  s.poll_interval_ms = 50;
  s.poll_interval_max_ms = 100;
  engine = wr2v_engine_new ("wavespeed", &s, error);
  g_assert_nonnull (engine);
  req = make_request (dir, prompt);
  wr2v_job_init (&job, req, engine, store, NULL);
  job.observer.phase = on_phase;
  job.observer.message = on_message;
  job.observer.user_data = fx;
  path = wr2v_job_run (&job, error);
  if (hash)
    *hash = g_strdup (job.hash);
  wr2v_job_clear (&job);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
  wr2v_engine_settings_clear (&s);
  wr2v_store_free (store);
  g_free (dir);
  return path;
}

static guint
submits (Fixture * fx)
{
  guint total = 0;
  GHashTable *by = rel_wavespeed_submits_by_prompt (fx->server, &total);

  g_hash_table_unref (by);
  return total;
}

/* Nothing half-written where readers look: results/ holds pairs of a
 * playable-sized clip and its record, the journal parses, and no
 * temporary file of an atomic write is left behind. */
static void
assert_store_consistent (Fixture * fx)
{
  const gchar *subs[] = { "results", "journal", "uploads" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (subs); i++) {
    gchar *d = g_build_filename (fx->cache, subs[i], NULL);
    GDir *dir = g_dir_open (d, 0, NULL);
    const gchar *name;

    while (dir && (name = g_dir_read_name (dir))) {
      gchar *p = g_build_filename (d, name, NULL);

      /* g_file_set_contents' temporary files: name.json.XXXXXX */
      g_assert_null (strstr (name, ".json."));
      if (g_str_has_suffix (name, ".json") &&
          g_file_test (p, G_FILE_TEST_IS_REGULAR)) {
        gchar *data = NULL;
        gsize len = 0;

        g_assert_true (g_file_get_contents (p, &data, &len, NULL));
        if (i == 1) {
          Wr2vJournalEntry *e = wr2v_journal_entry_parse (data, len, NULL);
          g_assert_nonnull (e);
          wr2v_journal_entry_free (e);
        } else if (i == 0) {
          Wr2vResultMeta *m = wr2v_result_meta_parse (data, len, NULL);
          g_assert_nonnull (m);
          wr2v_result_meta_free (m);
        }
        g_free (data);
      }
      if (i == 0 && g_str_has_suffix (name, ".mp4")) {
        gchar *rec = g_strndup (p, strlen (p) - 4);
        gchar *recp = g_strconcat (rec, ".json", NULL);

        /* the record is written before the clip's name appears */
        g_assert_true (g_file_test (recp, G_FILE_TEST_IS_REGULAR));
        g_free (rec);
        g_free (recp);
      }
      g_free (p);
    }
    if (dir)
      g_dir_close (dir);
    g_free (d);
  }
}

static guint
tmp_files (Fixture * fx)
{
  gchar *d = g_build_filename (fx->cache, "tmp", NULL);
  guint n = rel_count_files (d, NULL);

  g_free (d);
  return n;
}

/* Replaces @path (a file or a directory) with an obstacle of the other
 * kind; undo with unblock(). */
static void
block (const gchar * path, gboolean with_dir)
{
  gchar *away = g_strconcat (path, ".away", NULL);

  if (g_file_test (path, G_FILE_TEST_EXISTS))
    g_assert_cmpint (g_rename (path, away), ==, 0);
  if (with_dir)
    g_assert_cmpint (g_mkdir (path, 0700), ==, 0);
  else
    g_assert_true (g_file_set_contents (path, "obstacle", -1, NULL));
  g_free (away);
}

static void
unblock (const gchar * path)
{
  gchar *away = g_strconcat (path, ".away", NULL);

  wr2v_test_rm_rf (path);
  if (g_file_test (away, G_FILE_TEST_EXISTS))
    g_assert_cmpint (g_rename (away, path), ==, 0);
  g_free (away);
}

/* --- children with a file size limit ------------------------------------ */

typedef struct
{
  gint status;
  gint code;                    /* WR2V_ERROR_* of the job, -1 when none */
  gchar *message;
} ChildResult;

/* Runs "--child job|pipeline ARGS" with RLIMIT_FSIZE = @limit bytes. */
static void
run_child (ChildResult * r, guint64 limit, const gchar * mode,
    const gchar * a, const gchar * b, const gchar * c)
{
  gchar *limit_s = g_strdup_printf ("%" G_GUINT64_FORMAT, limit);
  const gchar *argv[] = { self, "--child", mode, limit_s, a, b, c, NULL };
  gchar *out = NULL;
  GError *err = NULL;

  memset (r, 0, sizeof *r);
  r->code = -1;
  if (!g_spawn_sync (NULL, (gchar **) argv, NULL, G_SPAWN_DEFAULT, NULL,
          NULL, &out, NULL, &r->status, &err))
    g_error ("spawn: %s", err->message);
  if (out && g_str_has_prefix (out, "ERR ")) {
    gchar *sp;

    r->code = atoi (out + 4);
    sp = strchr (out + 4, ' ');
    r->message = g_strdup (sp ? g_strstrip (sp + 1) : "");
  }
  g_test_message ("child (limit %s bytes): status %d, %s", limit_s,
      r->status, out);
  g_free (out);
  g_free (limit_s);
}

static int
child_main (int argc, char **argv)
{
  struct rlimit rl;
  GError *err = NULL;
  gchar *path = NULL;

  rl.rlim_cur = rl.rlim_max = g_ascii_strtoull (argv[3], NULL, 10);
  /* writes past the limit fail with EFBIG instead of killing us */
  signal (SIGXFSZ, SIG_IGN);
  if (setrlimit (RLIMIT_FSIZE, &rl) != 0)
    return 3;
  gst_init (NULL, NULL);
  if (g_str_equal (argv[2], "job")) {
    path = run_job (NULL, argv[4], argv[5], argv[6], NULL, &err);
  } else {
    /* a pipeline with a result-location, as an application runs it */
    gchar *desc = g_strdup_printf ("wanr2vgen name=g engine=wavespeed "
        "api-url=%s cache-dir=\"%s\" result-location=\"%s\" "
        "prompt=\"Video 1 at the sea\" duration=5 poll-interval=50 ! "
        "fakesink videotestsrc num-buffers=5 ! "
        "video/x-raw,width=64,height=64,framerate=5/1 ! g.video_0", argv[4],
        argv[5], argv[6]);
    GstElement *p = gst_parse_launch (desc, &err);
    GstBus *bus = gst_element_get_bus (p);
    GstMessage *msg;

    gst_element_set_state (p, GST_STATE_PLAYING);
    msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
    if (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      const GstStructure *details = NULL;
      GError *gst_err = NULL;
      gint code = -1;

      /* the core's error code travels in the message's details */
      gst_message_parse_error (msg, &gst_err, NULL);
      gst_message_parse_error_details (msg, &details);
      if (details)
        gst_structure_get_int (details, "wanr2v-error-code", &code);
      err = g_error_new_literal (WR2V_ERROR, code, gst_err->message);
      g_error_free (gst_err);
    } else if (msg) {
      path = g_strdup (argv[6]);
    }
    if (msg)
      gst_message_unref (msg);
    gst_element_set_state (p, GST_STATE_NULL);
    gst_object_unref (bus);
    gst_object_unref (p);
    g_free (desc);
  }
  if (path) {
    g_print ("OK %s\n", path);
    g_free (path);
    gst_deinit ();
    return 0;
  }
  g_print ("ERR %d %s\n", err->domain == WR2V_ERROR ? err->code : -1,
      err->message);
  g_error_free (err);
  gst_deinit ();
  return 1;
}

/* --- the faults ---------------------------------------------------------- */

/* cache-dir is a file: refused when the store opens, before anything is
 * sent. */
static void
test_open_not_a_dir (Fixture * fx, gconstpointer data)
{
  gchar *file = g_build_filename (fx->dir, "afile", NULL);
  gchar *cache = g_build_filename (file, "cache", NULL);
  GError *err = NULL;
  gchar *path;

  g_assert_true (g_file_set_contents (file, "x", -1, NULL));
  path = run_job (fx, cache, fx->server->base, "Video 1 sings", NULL, &err);
  g_assert_null (path);
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_STORE);
  g_assert_nonnull (strstr (err->message, "cache-dir"));
  g_assert_cmpuint (submits (fx), ==, 0);
  g_clear_error (&err);
  g_free (cache);
  g_free (file);
}

/* journal/ replaced by a file after the store was checked: refused
 * when the store opens again, nothing is sent. */
static void
test_journal_dir (Fixture * fx, gconstpointer data)
{
  gchar *journal = g_build_filename (fx->cache, "journal", NULL);
  GError *err = NULL;
  gchar *path;

  block (journal, FALSE);
  path = run_job (fx, fx->cache, fx->server->base, "Video 1 sings", NULL, &err);
  g_assert_null (path);
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_STORE);
  g_test_message ("%s", err->message);
  g_assert_cmpuint (submits (fx), ==, 0);
  g_clear_error (&err);
  unblock (journal);
  g_free (journal);
}

/* The request's lock file can't be made: nothing is sent. */
static void
test_lock (Fixture * fx, gconstpointer data)
{
  gchar *hash = learn_hash (fx, "Video 1 hums");
  gchar *lock = g_strdup_printf ("%s/journal/%s.lock", fx->cache, hash);
  GError *err = NULL;
  gchar *path;

  g_unlink (lock);
  block (lock, TRUE);
  path = run_job (fx, fx->cache, fx->server->base, "Video 1 hums", NULL, &err);
  g_assert_null (path);
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_STORE);
  g_test_message ("%s", err->message);
  g_assert_nonnull (strstr (err->message, "cache-dir"));
  g_assert_cmpuint (submits (fx), ==, 0);
  g_clear_error (&err);
  unblock (lock);
  g_free (lock);
  g_free (hash);
}

/* The "submitting" entry can't be written: nothing is sent, and a later
 * run submits normally. */
static void
test_journal_begin (Fixture * fx, gconstpointer data)
{
  GError *err = NULL;
  gchar *hash = learn_hash (fx, "Video 1 swims"), *path, *entry;

  entry = g_strdup_printf ("%s/journal/%s.json", fx->cache, hash);
  g_assert_false (g_file_test (entry, G_FILE_TEST_EXISTS));

  block (entry, TRUE);
  path = run_job (fx, fx->cache, fx->server->base, "Video 1 swims", NULL, &err);
  g_assert_null (path);
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_STORE);
  g_test_message ("%s", err->message);
  g_assert_nonnull (strstr (err->message, "journal"));
  g_assert_cmpuint (submits (fx), ==, 0);
  g_clear_error (&err);
  unblock (entry);
  assert_store_consistent (fx);

  path = run_job (fx, fx->cache, fx->server->base, "Video 1 swims", NULL, &err);
  g_assert_no_error (err);
  g_assert_nonnull (path);
  g_assert_cmpuint (submits (fx), ==, 1);
  assert_store_consistent (fx);
  g_free (path);
  g_free (entry);
  g_free (hash);
}

/* The disk is full when the "submitting" entry is written. */
static void
test_journal_begin_full (Fixture * fx, gconstpointer data)
{
  ChildResult r;

  /* a few bytes: the store opens, no record fits */
  run_child (&r, 16, "job", fx->cache, fx->server->base, "Video 1 runs");
  g_assert_cmpint (r.code, ==, WR2V_ERROR_STORE);
  g_assert_nonnull (strstr (r.message, "full"));
  g_assert_cmpuint (submits (fx), ==, 0);
  assert_store_consistent (fx);
  g_free (r.message);
}

static void
fault_block_journal_dir (gpointer data)
{
  Fixture *fx = data;
  gchar *journal = g_build_filename (fx->cache, "journal", NULL);

  block (journal, FALSE);
  g_free (journal);
}

/* The job id can't be journaled after the submit answered: the job is
 * paid for, so the error names its id, and the next run does not submit
 * again ("submitting" stays: maybe submitted). */
static void
test_journal_set_job (Fixture * fx, gconstpointer data)
{
  gchar *journal = g_build_filename (fx->cache, "journal", NULL);
  GError *err = NULL;
  gchar *path, *job_id;
  JsonNode *stats;
  GList *ids;

  fx->fault_phase = WR2V_PHASE_SUBMIT;
  fx->fault = fault_block_journal_dir;
  path = run_job (fx, fx->cache, fx->server->base, "Video 1 flies", NULL, &err);
  g_assert_null (path);
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_STORE);
  g_test_message ("%s", err->message);
  g_assert_cmpuint (submits (fx), ==, 1);
  stats = wr2v_fake_server_get_json (fx->server, "/_stats");
  ids = json_object_get_members (json_object_get_object_member
      (json_node_get_object (stats), "jobs"));
  job_id = g_strdup (ids->data);
  g_list_free (ids);
  json_node_unref (stats);
  /* the user can find the paid job again */
  g_assert_nonnull (strstr (err->message, job_id));
  g_clear_error (&err);
  unblock (journal);
  fx->fault = NULL;

  path = run_job (fx, fx->cache, fx->server->base, "Video 1 flies", NULL, &err);
  g_assert_null (path);
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_MAYBE_SUBMITTED);
  g_assert_cmpuint (submits (fx), ==, 1);
  assert_store_consistent (fx);
  g_clear_error (&err);
  g_free (job_id);
  g_free (journal);
}

static void
fault_block_uploads (gpointer data)
{
  Fixture *fx = data;
  gchar *uploads = g_build_filename (fx->cache, "uploads", NULL);

  block (uploads, FALSE);
  g_free (uploads);
}

/* uploads/ unusable during the upload: the upload can't be remembered,
 * which only costs an upload next time. */
static void
test_uploads (Fixture * fx, gconstpointer data)
{
  gchar *uploads = g_build_filename (fx->cache, "uploads", NULL);
  GError *err = NULL;
  gchar *path;

  fx->fault_phase = WR2V_PHASE_UPLOAD;
  fx->fault = fault_block_uploads;
  path = run_job (fx, fx->cache, fx->server->base, "Video 1 jumps", NULL, &err);
  g_assert_no_error (err);
  g_assert_nonnull (path);
  g_assert_cmpuint (submits (fx), ==, 1);
  unblock (uploads);
  assert_store_consistent (fx);
  g_free (path);
  g_free (uploads);
}

static void
fault_block_tmp (gpointer data)
{
  Fixture *fx = data;
  gchar *tmp = g_build_filename (fx->cache, "tmp", NULL);

  block (tmp, FALSE);
  g_free (tmp);
}

/* tmp/ unusable when the download starts: a clear error, the job stays
 * journaled, and once tmp/ is back the next run downloads it without a
 * second submit. */
static void
test_tmp (Fixture * fx, gconstpointer data)
{
  gchar *tmp = g_build_filename (fx->cache, "tmp", NULL);
  GError *err = NULL;
  gchar *path;

  fx->fault_phase = WR2V_PHASE_GENERATING;
  fx->fault = fault_block_tmp;
  path = run_job (fx, fx->cache, fx->server->base, "Video 1 dives", NULL, &err);
  g_assert_null (path);
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_STORE);
  g_test_message ("%s", err->message);
  g_assert_nonnull (strstr (err->message, "cache-dir"));
  g_clear_error (&err);
  unblock (tmp);
  fx->fault = NULL;
  assert_store_consistent (fx);

  path = run_job (fx, fx->cache, fx->server->base, "Video 1 dives", NULL, &err);
  g_assert_no_error (err);
  g_assert_nonnull (path);
  g_assert_cmpuint (submits (fx), ==, 1);
  g_assert_cmpuint (tmp_files (fx), ==, 0);
  assert_store_consistent (fx);
  g_free (path);
  g_free (tmp);
}

/* The disk fills up during the download: a clear error, no partial file
 * left, and the next run resumes the same job. */
static void
test_download_full (Fixture * fx, gconstpointer data)
{
  ChildResult r;
  GError *err = NULL;
  gchar *path;

  /* records fit (a few hundred bytes), the clip does not */
  run_child (&r, 20000, "job", fx->cache, fx->server->base, "Video 1 rows");
  g_assert_cmpint (r.code, ==, WR2V_ERROR_STORE);
  g_assert_nonnull (strstr (r.message, "File too large"));
  g_assert_cmpuint (submits (fx), ==, 1);
  g_assert_cmpuint (tmp_files (fx), ==, 0);
  assert_store_consistent (fx);
  g_free (r.message);

  path = run_job (fx, fx->cache, fx->server->base, "Video 1 rows", NULL, &err);
  g_assert_no_error (err);
  g_assert_nonnull (path);
  g_assert_cmpuint (submits (fx), ==, 1);
  assert_store_consistent (fx);
  g_free (path);
}

static void
fault_block_result_record (gpointer data)
{
  Fixture *fx = data;
  GDir *d;
  const gchar *name;
  gchar *journal = g_build_filename (fx->cache, "journal", NULL);

  /* the hash is the journal entry's name: block results/<hash>.json */
  d = g_dir_open (journal, 0, NULL);
  while ((name = g_dir_read_name (d))) {
    if (g_str_has_suffix (name, ".json")) {
      gchar *p = g_build_filename (fx->cache, "results", name, NULL);

      block (p, TRUE);
      g_free (p);
    }
  }
  g_dir_close (d);
  g_free (journal);
}

/* results/ can't take the clip: a clear error, no partial result, the
 * downloaded file removed, the job still journaled for the next run. */
static void
test_commit (Fixture * fx, gconstpointer data)
{
  GError *err = NULL;
  gchar *path, *results = g_build_filename (fx->cache, "results", NULL);

  fx->fault_phase = WR2V_PHASE_DOWNLOAD;
  fx->fault = fault_block_result_record;
  path = run_job (fx, fx->cache, fx->server->base, "Video 1 rests", NULL, &err);
  g_assert_null (path);
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_STORE);
  g_test_message ("%s", err->message);
  g_assert_cmpuint (tmp_files (fx), ==, 0);
  g_assert_cmpuint (rel_count_files (results, ".mp4"), ==, 0);
  g_clear_error (&err);
  fx->fault = NULL;
  {
    GDir *d = g_dir_open (results, 0, NULL);
    const gchar *name;

    while ((name = g_dir_read_name (d)))
      if (!g_str_has_suffix (name, ".away")) {
        gchar *p = g_build_filename (results, name, NULL);
        unblock (p);
        g_free (p);
      }
    g_dir_close (d);
  }

  path = run_job (fx, fx->cache, fx->server->base, "Video 1 rests", NULL, &err);
  g_assert_no_error (err);
  g_assert_nonnull (path);
  g_assert_cmpuint (submits (fx), ==, 1);
  assert_store_consistent (fx);
  g_free (path);
  g_free (results);
}

/* result-location's disk is full: a clear error that says where the
 * clip is kept, and no partial file at the location. */
static void
test_result_location_full (Fixture * fx, gconstpointer data)
{
  gchar *location = g_build_filename (fx->dir, "out.mp4", NULL);
  gchar *part = g_strconcat (location, ".part", NULL);
  ChildResult r;

  /* first with room for everything: the clip is in the store */
  run_child (&r, G_MAXINT64, "pipeline", fx->server->base, fx->cache, location);
  g_assert_cmpint (r.status, ==, 0);
  g_assert_true (g_file_test (location, G_FILE_TEST_IS_REGULAR));
  g_unlink (location);

  /* then again (served from the store) with no room for the copy */
  run_child (&r, 20000, "pipeline", fx->server->base, fx->cache, location);
  g_assert_cmpint (r.code, ==, WR2V_ERROR_STORE);
  g_assert_nonnull (strstr (r.message, "result-location"));
  g_assert_nonnull (strstr (r.message, "kept in the result store"));
  g_assert_false (g_file_test (location, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (submits (fx), ==, 1);
  assert_store_consistent (fx);
  g_free (r.message);
  g_free (location);
  g_free (part);
}

/* A killed run's partial download is removed when the store opens next;
 * a file another open store is still writing is left alone. */
static void
test_stale_tmp (Fixture * fx, gconstpointer data)
{
  gchar *tmp = g_build_filename (fx->cache, "tmp", NULL);
  gchar *dead = g_build_filename (tmp, "ABCDEF.mp4", NULL);
  gchar *live;
  Wr2vStore *again;
  GError *err = NULL;

  g_assert_true (g_file_set_contents (dead, "half a clip", -1, NULL));
  live = wr2v_store_new_temp (fx->store, ".mp4", &err);
  g_assert_no_error (err);
  {
    /* written in place, as downloads and encoders do (the lock is on the
     * file, a rename would replace it) */
    FILE *f = fopen (live, "w");

    g_assert_nonnull (f);
    fputs ("being written", f);
    fclose (f);
  }

  again = wr2v_store_open (fx->cache, &err);
  g_assert_no_error (err);
  g_assert_false (g_file_test (dead, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (live, G_FILE_TEST_EXISTS));
  wr2v_store_free (again);
  g_unlink (live);
  g_free (live);
  g_free (dead);
  g_free (tmp);
}

/* Read-only directories (root writes anyway: skipped as root). */
static void
test_read_only (Fixture * fx, gconstpointer data)
{
  const gchar *sub = data;
  gchar *dir = sub ? g_build_filename (fx->cache, sub, NULL) :
      g_strdup (fx->cache);
  GError *err = NULL;
  gchar *path;

  if (geteuid () == 0) {
    g_test_skip ("running as root, which ignores file permissions");
    g_free (dir);
    return;
  }
  g_assert_cmpint (g_chmod (dir, 0500), ==, 0);
  path = run_job (fx, fx->cache, fx->server->base, "Video 1 reads", NULL, &err);
  g_chmod (dir, 0700);
  g_assert_null (path);
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_STORE);
  g_test_message ("%s", err->message);
  /* refused when the store opened: before anything was sent */
  g_assert_cmpuint (submits (fx), ==, 0);
  g_clear_error (&err);
  assert_store_consistent (fx);
  g_free (dir);
}

#define ADD(name, data, func) g_test_add ("/storage/" name, Fixture, data, \
    fixture_setup, func, fixture_teardown)

int
main (int argc, char **argv)
{
  int ret;

  if (argc >= 7 && g_str_equal (argv[1], "--child"))
    return child_main (argc, argv);

  g_setenv ("WAVESPEED_API_KEY", KEY, TRUE);
  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);
  /* the engines' warnings (an upload not remembered) are expected here */
  g_log_set_always_fatal (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL);
  self = g_file_read_link ("/proc/self/exe", NULL);
  root = g_dir_make_tmp ("wanr2v-storage-XXXXXX", NULL);
  clip = g_build_filename (root, "result.mp4", NULL);
  if (!rel_make_clip (clip, 2, 320, 240)) {
    g_printerr ("cannot make the result clip (x264enc?)\n");
    return 77;
  }

  ADD ("open/cache-dir-is-a-file", NULL, test_open_not_a_dir);
  ADD ("open/journal-dir-is-a-file", NULL, test_journal_dir);
  ADD ("lock/obstacle", NULL, test_lock);
  ADD ("journal-begin/obstacle", NULL, test_journal_begin);
  ADD ("journal-begin/disk-full", NULL, test_journal_begin_full);
  ADD ("journal-set-job/journal-gone", NULL, test_journal_set_job);
  ADD ("uploads/unusable", NULL, test_uploads);
  ADD ("tmp/unusable", NULL, test_tmp);
  ADD ("tmp/stale-partial-files", NULL, test_stale_tmp);
  ADD ("download/disk-full", NULL, test_download_full);
  ADD ("commit/obstacle", NULL, test_commit);
  ADD ("result-location/disk-full", NULL, test_result_location_full);
  ADD ("read-only/cache-dir", NULL, test_read_only);
  ADD ("read-only/results", "results", test_read_only);
  ADD ("read-only/journal", "journal", test_read_only);
  ADD ("read-only/tmp", "tmp", test_read_only);

  ret = g_test_run ();
  wr2v_test_rm_rf (root);
  g_free (root);
  g_free (clip);
  g_free (self);
  return ret;
}
