/* wr2v-job.c: runs a request on an engine, the same way for every engine.
 *
 * The order of writes is what makes a paid job safe:
 *   1. a stored result for the request's hash is served as is;
 *   2. a journal entry with a job id is resumed (polled), never resubmitted;
 *   3. otherwise the journal says "submitting" before the submit is sent
 *      and gets the job id as soon as it is known;
 *   4. the clip is downloaded to tmp/, checked (a walk of its MP4 boxes,
 *      not a decode), and renamed into results/ before anything decodes
 *      it; only then is the journal entry removed.
 *
 * Threads and locks. A job has no thread and no lock of its own:
 *   - the job thread (the element's "wanr2v-job", or a test's) calls
 *     wr2v_job_run(); the engine's hooks, the store, the HTTP transfers
 *     and every observer callback run on it, and only it touches the
 *     Wr2vJob, so the job's fields need no lock;
 *   - the thread that stops the job (the element's state change or a
 *     flush) only cancels job->cancellable, which is thread-safe; every
 *     wait here (the store's lock file, the sleeps between polls, a
 *     transfer) watches it and returns G_IO_ERROR_CANCELLED promptly.
 * The shared objects a job borrows guard themselves: the store's lock
 * guards its table of open temporary files (wr2v-store.c), the HTTP
 * client's lock its pool of idle connections (wr2v-http.c), an engine's
 * lock its in-process upload cache. Between processes, the store's lock
 * file (wr2v_store_lock) keeps two runs of one request from submitting
 * it twice; between machines, a fleet store when one is set (run_fleet,
 * wr2v-fleet.h): its claim, the journal of the claimed job and its lease
 * renewed at every poll.
 */
#include "wr2v-job.h"
#include "wr2v-backoff.h"
#include "wr2v-defaults.h"
#include "wr2v-engine.h"
#include "wr2v-error.h"
#include "wr2v-fleet.h"
#include "wr2v-http.h"
#include "wr2v-mp4.h"

#include <string.h>
#include <glib/gstdio.h>

GST_DEBUG_CATEGORY_STATIC (wr2v_job_debug);
#define GST_CAT_DEFAULT wr2v_job_debug


const gchar *
wr2v_phase_name (Wr2vPhase phase)
{
  static const gchar *names[] = { "prepare", "upload", "submit", "queued",
    "generating", "download", "decode"
  };

  return phase <= WR2V_PHASE_DECODE ? names[phase] : "unknown";
}

Wr2vJobOutcome
wr2v_job_outcome (GCancellable * cancellable, const GError * error)
{
  if (!error)
    return WR2V_JOB_STORED;
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
      g_cancellable_is_cancelled (cancellable))
    return WR2V_JOB_CANCELLED;
  return WR2V_JOB_FAILED;
}

void
wr2v_poll_result_clear (Wr2vPollResult * res)
{
  g_free (res->status);
  g_free (res->output_url);
  g_free (res->error_code);
  g_free (res->error_message);
  memset (res, 0, sizeof *res);
}

void
wr2v_job_init (Wr2vJob * job, Wr2vRequest * req, Wr2vEngine * engine,
    Wr2vStore * store, GCancellable * cancellable)
{
  static gsize once;

  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (wr2v_job_debug, "wanr2vjob", 0,
        "wanr2v job driver");
    g_once_init_leave (&once, 1);
  }
  memset (job, 0, sizeof *job);
  job->request = req;
  job->engine = engine;
  job->store = store;
  job->cancellable = cancellable;
  job->cost_share = 1.0;
}

gdouble
wr2v_job_max_cost (const Wr2vJob * job)
{
  gdouble max = job->engine->settings.max_cost;

  /* a job priced at exactly its share must not fail on a rounding */
  return max > 0 && job->cost_share < 1.0 ?
      max * job->cost_share * (1.0 + 1e-9) : max;
}

gchar *
wr2v_job_max_cost_text (const Wr2vJob * job)
{
  gdouble max = job->engine->settings.max_cost;

  if (job->cost_share >= 1.0)
    return g_strdup_printf ("max-cost (USD %.2f)", max);
  return g_strdup_printf ("its share of max-cost (USD %.2f of %.2f, in "
      "proportion to its estimate among the jobs of its storyboard or "
      "variants)", wr2v_job_max_cost (job), max);
}

void
wr2v_job_clear (Wr2vJob * job)
{
  g_free (job->hash);
  g_free (job->job_id);
  g_free (job->source_url);
  if (job->error_details)
    gst_structure_free (job->error_details);
  memset (job, 0, sizeof *job);
}

/* Renews the fleet lease of a job that is not polling (uploads before
 * the submit, the download after), at most every renew interval. */
static void
keep_fleet_lease (Wr2vJob * job)
{
  Wr2vFleet *fleet = job->store ? wr2v_store_fleet (job->store) : NULL;
  gint64 now = g_get_monotonic_time ();

  if (!fleet || !job->hash ||
      now - job->fleet_renewed < wr2v_fleet_renew_interval (fleet))
    return;
  job->fleet_renewed = now;
  wr2v_fleet_renew (fleet, job->hash, job->job_id);
}

void
wr2v_job_phase (Wr2vJob * job, Wr2vPhase phase, const gchar * format, ...)
{
  g_autofree gchar *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  GST_DEBUG ("phase %s: %s", wr2v_phase_name (phase), text);
  if (phase == WR2V_PHASE_UPLOAD || phase == WR2V_PHASE_DOWNLOAD)
    keep_fleet_lease (job);
  if (job->observer.phase)
    job->observer.phase (job->observer.user_data, phase, text);
}

void
wr2v_job_post (Wr2vJob * job, GstStructure * facts)
{
  GST_DEBUG ("%" GST_PTR_FORMAT, facts);
  if (job->observer.message)
    job->observer.message (job->observer.user_data, facts);
  else
    gst_structure_free (facts);
}

static GstStructure *
details (Wr2vJob * job)
{
  if (!job->error_details)
    job->error_details = gst_structure_new_empty ("wanr2v-error");
  return job->error_details;
}

void
wr2v_job_detail_string (Wr2vJob * job, const gchar * field, const gchar * value)
{
  if (value)
    gst_structure_set (details (job), field, G_TYPE_STRING, value, NULL);
}

void
wr2v_job_detail_int (Wr2vJob * job, const gchar * field, gint value)
{
  gst_structure_set (details (job), field, G_TYPE_INT, value, NULL);
}

static gchar *
engine_identity (Wr2vEngine * engine)
{
  g_autofree gchar *id = engine->klass->identity ?
      engine->klass->identity (engine) : NULL;

  return g_strdup_printf ("%s:%s", engine->klass->name, id ? id : "");
}

static void
post_result (Wr2vJob * job, const gchar * path)
{
  wr2v_job_post (job, gst_structure_new ("wanr2v/result",
          "engine", G_TYPE_STRING, job->engine->klass->name,
          "job-id", G_TYPE_STRING, job->job_id ? job->job_id : "",
          "location", G_TYPE_STRING, path,
          "source-url", G_TYPE_STRING, job->source_url ? job->source_url : "",
          "cached", G_TYPE_BOOLEAN, job->from_cache, NULL));
}

/* Moves a finished tmp file into the store, after checking it is a whole
 * clip.
 *
 * Between the check and the rename, the store writes the clip's bytes to
 * the disk (fsync, 15-20 ms for 20 MB here, more on a slow disk). The
 * observer hears clip_ready with the checked file's location first, so
 * that whoever waits for the clip may open it and start decoding
 * meanwhile: an open file follows the rename, and the bytes it reads are
 * the checked ones. Nothing is decoded before the check, and the journal
 * still keeps the job until the clip is in results/. */
static gchar *
store_clip (Wr2vJob * job, gchar * tmp, GError ** error)
{
  Wr2vResultMeta meta = {
    .engine = (gchar *) job->engine->klass->name,
    .job_id = job->job_id,
    .source_url = job->source_url,
  };
  gchar *path;

  if (!wr2v_clip_check (tmp, job->cancellable, error)) {
    g_unlink (tmp);
    return NULL;
  }
  if (job->observer.clip_ready)
    job->observer.clip_ready (job->observer.user_data, tmp);
  path = wr2v_store_commit (job->store, job->hash, tmp, &meta, error);
  if (!path)
    g_unlink (tmp);
  return path;
}

static gchar *
run_local (Wr2vJob * job, GError ** error)
{
  g_autofree gchar *tmp = wr2v_store_new_temp (job->store, ".mp4", error);

  if (!tmp)
    return NULL;
  wr2v_job_phase (job, WR2V_PHASE_GENERATING, "rendering with %s",
      job->engine->klass->name);
  if (!job->engine->klass->generate (job->engine, job, tmp, error)) {
    g_unlink (tmp);
    return NULL;
  }
  return store_clip (job, tmp, error);
}

static guint
timeout_s (Wr2vJob * job)
{
  guint t = job->engine->settings.request_timeout_s;

  return t ? t : WR2V_DEFAULT_HOSTED_TIMEOUT_S;
}

/* request-timeout covers the whole job, from the start of wr2v_job_run():
 * checked before each phase and between polls. A transfer under way is
 * bounded by its own timeouts, not by this. */
static gboolean
before_deadline (Wr2vJob * job, gint64 deadline, GError ** error)
{
  if (g_get_monotonic_time () < deadline)
    return TRUE;
  if (!job->job_id) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_TIMEOUT,
        "request-timeout (%u s) passed before the job was submitted, so "
        "nothing was submitted or paid for. Raise request-timeout (it "
        "counts the uploads too) and run again.", timeout_s (job));
    return FALSE;
  }
  /* submitted: the journal has the job, the next run resumes it */
  wr2v_job_detail_string (job, "job-id", job->job_id);
  g_set_error (error, WR2V_ERROR, WR2V_ERROR_TIMEOUT,
      "Job %s did not finish within request-timeout (%u s). It may "
      "still finish: run the same pipeline again to resume waiting for "
      "it (it will not be submitted or paid for again), or raise "
      "request-timeout.", job->job_id, timeout_s (job));
  return FALSE;
}

static gboolean
submit_once (Wr2vJob * job, gint64 deadline, GError ** error)
{
  const Wr2vEngineClass *klass = job->engine->klass;
  gdouble cost = wr2v_engine_estimate_cost (job->engine, job->request);
  gdouble max_cost = wr2v_job_max_cost (job);
  Wr2vFleet *fleet = wr2v_store_fleet (job->store);
  GError *err = NULL;
  gchar *id;

  if (max_cost > 0 && cost > max_cost) {
    g_autofree gchar *limit = wr2v_job_max_cost_text (job);

    g_set_error (error, WR2V_ERROR, WR2V_ERROR_COST,
        "This job is estimated at USD %.2f, above %s. "
        "Raise max-cost, or lower the duration or resolution.", cost, limit);
    return FALSE;
  }
  if (!before_deadline (job, deadline, error))
    return FALSE;
  if (klass->prepare) {
    if (!klass->prepare (job->engine, job, error))
      return FALSE;
  }
  /* the uploads may have taken it all: then nothing is submitted */
  if (!before_deadline (job, deadline, error))
    return FALSE;
  if (fleet && !wr2v_fleet_mark_submitting (fleet, job->hash, error))
    return FALSE;
  if (!wr2v_store_journal_begin (job->store, job->hash, klass->name, error))
    return FALSE;
  id = klass->submit (job->engine, job, &err);
  if (!id) {
    /* Only a submit that surely created nothing may be forgotten; one
     * that may have created a paid job keeps its journal entry so that
     * the next run does not pay again. */
    if (!g_error_matches (err, WR2V_ERROR, WR2V_ERROR_MAYBE_SUBMITTED))
      wr2v_store_journal_clear (job->store, job->hash);
    g_propagate_error (error, err);
    return FALSE;
  }
  job->job_id = id;
  if (fleet)
    wr2v_fleet_set_job (fleet, job->hash, id);
  if (!wr2v_store_journal_set_job (job->store, job->hash, klass->name, id,
          error))
    return FALSE;
  wr2v_job_post (job, gst_structure_new ("wanr2v/submitted",
          "engine", G_TYPE_STRING, klass->name,
          "job-id", G_TYPE_STRING, id, NULL));
  return TRUE;
}

static gboolean
poll_until_done (Wr2vJob * job, gint64 deadline, gchar ** url, GError ** error)
{
  const Wr2vEngineClass *klass = job->engine->klass;
  Wr2vEngineSettings *s = &job->engine->settings;
  guint64 interval = (s->poll_interval_ms ? s->poll_interval_ms :
      WR2V_DEFAULT_POLL_INTERVAL_MS) * (guint64) 1000;
  guint64 cap = (s->poll_interval_max_ms ? s->poll_interval_max_ms :
      WR2V_DEFAULT_POLL_INTERVAL_MAX_MS) * (guint64) 1000;
  g_autofree gchar *last_status = NULL;
  gint last_step = -1;
  Wr2vBackoff backoff;
  Wr2vFleet *fleet = wr2v_store_fleet (job->store);

  /* a fleet's owner renews its lease at every poll */
  if (fleet) {
    cap = MIN (cap, (guint64) wr2v_fleet_renew_interval (fleet));
    interval = MIN (interval, cap);
  }
  wr2v_backoff_init (&backoff, interval, MAX (cap, interval));
  for (;;) {
    Wr2vPollResult res = { 0, };
    gint64 now;

    if (!klass->poll (job->engine, job, job->job_id, &res, error)) {
      wr2v_poll_result_clear (&res);
      return FALSE;
    }
    if (g_strcmp0 (res.status, last_status) != 0 || res.step != last_step) {
      Wr2vPhase phase = res.state == WR2V_POLL_QUEUED ?
          WR2V_PHASE_QUEUED : WR2V_PHASE_GENERATING;

      if (res.steps > 0)
        wr2v_job_phase (job, phase, "job %s: %s (step %d of %d)",
            job->job_id, res.status ? res.status : "running", res.step,
            res.steps);
      else
        wr2v_job_phase (job, phase, "job %s: %s", job->job_id,
            res.status ? res.status : "running");
      wr2v_job_post (job, gst_structure_new ("wanr2v/status",
              "job-id", G_TYPE_STRING, job->job_id,
              "status", G_TYPE_STRING, res.status ? res.status : "",
              "step", G_TYPE_INT, res.step,
              "steps", G_TYPE_INT, res.steps, NULL));
      g_free (last_status);
      last_status = g_strdup (res.status);
      last_step = res.step;
    }
    if (res.state == WR2V_POLL_SUCCEEDED) {
      *url = g_steal_pointer (&res.output_url);
      wr2v_poll_result_clear (&res);
      return TRUE;
    }
    wr2v_poll_result_clear (&res);

    if (fleet)
      wr2v_fleet_renew (fleet, job->hash, job->job_id);
    if (!before_deadline (job, deadline, error))
      return FALSE;
    now = g_get_monotonic_time ();
    if (!wr2v_cancellable_sleep (job->cancellable,
            MIN ((gint64) wr2v_backoff_next (&backoff), deadline - now), error))
      return FALSE;
  }
}

static gchar *
run_remote (Wr2vJob * job, gint64 deadline, GError ** error)
{
  const Wr2vEngineClass *klass = job->engine->klass;
  g_autoptr (Wr2vJournalEntry) entry =
      wr2v_store_journal_get (job->store, job->hash);
  g_autofree gchar *url = NULL;
  g_autofree gchar *tmp = NULL;
  GError *err = NULL;
  gchar *path;

  if (entry && entry->job_id) {
    job->job_id = g_strdup (entry->job_id);
    GST_INFO ("resuming job %s for request %s", job->job_id, job->hash);
    wr2v_job_post (job, gst_structure_new ("wanr2v/resumed",
            "engine", G_TYPE_STRING, klass->name,
            "job-id", G_TYPE_STRING, job->job_id, NULL));
  } else if (entry) {
    g_autofree gchar *name = g_strdup_printf ("%s.json", job->hash);
    g_autofree gchar *jpath = g_build_filename (wr2v_store_dir (job->store),
        "journal", name, NULL);

    g_set_error (error, WR2V_ERROR, WR2V_ERROR_MAYBE_SUBMITTED,
        "An earlier run of this same request sent it to %s but never "
        "learnt its job id (it was stopped or killed while submitting, or "
        "the answer was lost), so a paid job may already exist. Check the "
        "provider's dashboard; to submit it again anyway, delete %s.",
        klass->name, jpath);
    return NULL;
  } else if (!submit_once (job, deadline, error)) {
    return NULL;
  }

  if (!poll_until_done (job, deadline, &url, &err)) {
    if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED) &&
        klass->cancel_remote) {
      klass->cancel_remote (job->engine, job->job_id);
      wr2v_store_journal_clear (job->store, job->hash);
    }
    /* A job that ended (failed, unknown) is over: the next run may submit
     * the request afresh. Anything else keeps the entry for a resume. */
    if (g_error_matches (err, WR2V_ERROR, WR2V_ERROR_JOB_FAILED) ||
        g_error_matches (err, WR2V_ERROR, WR2V_ERROR_NOT_FOUND))
      wr2v_store_journal_clear (job->store, job->hash);
    wr2v_job_detail_string (job, "job-id", job->job_id);
    g_propagate_error (error, err);
    return NULL;
  }

  /* Where the clip came from, for the record and the wanr2v/result
   * message: without the query, which holds a signed download token. */
  job->source_url = wr2v_http_url_for_log (url);
  if (!before_deadline (job, deadline, error))
    return NULL;
  tmp = wr2v_store_new_temp (job->store, ".mp4", error);
  if (!tmp)
    return NULL;
  if (!klass->fetch (job->engine, job, url, tmp, error)) {
    g_unlink (tmp);
    wr2v_job_detail_string (job, "job-id", job->job_id);
    return NULL;
  }
  path = store_clip (job, tmp, error);
  if (path)
    wr2v_store_journal_clear (job->store, job->hash);
  return path;
}

/* The fleet's clip (another process's job) into the local store. */
static gchar *
fetch_fleet_clip (Wr2vJob * job, Wr2vFleet * fleet, Wr2vFleetClaim * claim,
    GError ** error)
{
  g_autofree gchar *tmp = wr2v_store_new_temp (job->store, ".mp4", error);
  gchar *path;

  if (!tmp)
    return NULL;
  wr2v_job_phase (job, WR2V_PHASE_DOWNLOAD, "fetching the clip from the "
      "fleet store");
  if (!wr2v_fleet_fetch_clip (fleet, claim->clip_sha256, tmp,
          job->cancellable, error)) {
    g_unlink (tmp);
    return NULL;
  }
  job->job_id = g_steal_pointer (&claim->job_id);
  job->source_url = g_steal_pointer (&claim->source_url);
  job->from_cache = TRUE;
  path = store_clip (job, tmp, error);
  /* a job this machine had begun, then another finished */
  if (path)
    wr2v_store_journal_clear (job->store, job->hash);
  return path;
}

/* A job that ended without a clip: over (its provider failed it, or
 * nothing was submitted), or to be resumed by another process. */
static gboolean
fleet_job_over (Wr2vJob * job, const GError * err)
{
  if (g_error_matches (err, WR2V_ERROR, WR2V_ERROR_JOB_FAILED) ||
      g_error_matches (err, WR2V_ERROR, WR2V_ERROR_NOT_FOUND))
    return TRUE;
  return !job->job_id &&
      !g_error_matches (err, WR2V_ERROR, WR2V_ERROR_MAYBE_SUBMITTED) &&
      wr2v_job_outcome (job->cancellable, err) == WR2V_JOB_FAILED;
}

/* run_remote() under the fleet's single flight (docs/fleet.md): one
 * process of the fleet submits, the others wait and fetch its clip, or
 * take its job over when its lease expired. */
static gchar *
run_fleet (Wr2vJob * job, gint64 deadline, GError ** error)
{
  Wr2vFleet *fleet = wr2v_store_fleet (job->store);
  const gchar *name = job->engine->klass->name;
  gdouble cost = wr2v_engine_estimate_cost (job->engine, job->request);
  Wr2vFleetClaim claim;
  GError *err = NULL;
  gchar *path = NULL;

  if (!wr2v_fleet_claim (fleet, job->hash, name, cost, deadline,
          job->cancellable, &claim, error))
    return NULL;
  if (claim.kind == WR2V_FLEET_CLIP)
    path = fetch_fleet_clip (job, fleet, &claim, &err);
  else if (claim.kind == WR2V_FLEET_SUBMIT ||
      wr2v_store_journal_set_job (job->store, job->hash, name, claim.job_id,
          &err))
    path = run_remote (job, deadline, &err);
  /* a job taken over is the provider's, even if its resume failed early */
  if (!path && !job->job_id && claim.kind == WR2V_FLEET_RESUME)
    job->job_id = g_strdup (claim.job_id);
  wr2v_fleet_claim_clear (&claim);
  if (path && !job->from_cache &&
      !wr2v_fleet_record_clip (fleet, job->hash, path, job->job_id,
          job->source_url, cost, job->cancellable, &err)) {
    /* the clip is safe here; the others take the job over and fetch it */
    GST_WARNING ("%s", err->message);
    wr2v_job_post (job, gst_structure_new ("wanr2v/warning",
            "engine", G_TYPE_STRING, name,
            "message", G_TYPE_STRING, err->message, NULL));
    g_clear_error (&err);
  } else if (!path) {
    wr2v_fleet_release (fleet, job->hash, fleet_job_over (job, err),
        err->message);
    g_propagate_error (error, err);
  }
  return path;
}

static gchar *
run (Wr2vJob * job, GError ** error)
{
  g_autofree gchar *identity = engine_identity (job->engine);
  g_autoptr (Wr2vResultMeta) meta = NULL;
  /* request-timeout: the whole job, the wait for the lock included */
  gint64 deadline = g_get_monotonic_time () +
      (gint64) timeout_s (job) * G_USEC_PER_SEC;
  gchar *path;
  gint lock;

  g_free (job->hash);
  job->hash = wr2v_request_hash (job->request, identity);
  GST_INFO ("request %s on %s", job->hash, identity);

  lock = wr2v_store_lock (job->store, job->hash, job->cancellable, error);
  if (lock < 0)
    return NULL;
  path = wr2v_store_lookup (job->store, job->hash, &meta);
  if (path) {
    job->from_cache = TRUE;
    if (meta) {
      job->job_id = g_strdup (meta->job_id);
      job->source_url = g_strdup (meta->source_url);
    }
    GST_INFO ("served from the result store: %s", path);
    wr2v_store_unlock (lock);
    post_result (job, path);
    return path;
  }

  if (job->engine->klass->generate) {
    path = run_local (job, error);
  } else if (job->engine->klass->submit) {
    path = wr2v_store_fleet (job->store) ? run_fleet (job, deadline, error) :
        run_remote (job, deadline, error);
  } else {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "The %s engine is not available in this build",
        job->engine->klass->name);
    path = NULL;
  }
  wr2v_store_unlock (lock);
  if (path)
    post_result (job, path);
  return path;
}

gchar *
wr2v_job_run (Wr2vJob * job, GError ** error)
{
  GError *err = NULL;
  gchar *path = run (job, &err);

  if (job->observer.finished)
    job->observer.finished (job->observer.user_data,
        wr2v_job_outcome (job->cancellable, err), path, err);
  if (err)
    g_propagate_error (error, err);
  return path;
}
