/* test-engine-contract.c: what every hosted and local engine promises,
 * run over each of them (wavespeed, dashscope, fal, replicate, comfyui)
 * against its fake server, through the generic job driver (wr2v-test-engine.h):
 *
 *   - a job is submitted exactly once: not again from the store, not
 *     again after a stop, a timeout, a kill (a journal entry), a broken
 *     poll or a broken download, which resume the job instead;
 *   - faults: 5xx and 429 (Retry-After honoured) on polls are retried,
 *     a submit whose answer is lost is never sent twice (a hosted job may
 *     exist and is paid: the next run refuses; a local one is removed);
 *   - a cancel stops every phase within a second;
 *   - the key never shows: not in errors, details, messages, log lines
 *     at every level, or files (checked by every case's teardown).
 *
 * What only one engine does (its wire format, its own faults) is in its
 * own test (test-wavespeed.c, test-dashscope.c, test-comfyui.c).
 */
#include <string.h>

#include "wr2v-error.h"
#include "wr2v-test-engine.h"
#include "wr2v-test-time.h"

/* the key the hosted fakes accept; must never be seen anywhere */
#define KEY "wr2v-contract-KEY-51c0de"
#define WRONG_KEY "wr2v-contract-wrong-KEY-6a2f"
#define PROMPT "Video 1 dances with Video 2 while holding Image 3"

#define ALL_PHASES ((1u << WR2V_PHASE_UPLOAD) | (1u << WR2V_PHASE_SUBMIT) | \
    (1u << WR2V_PHASE_GENERATING) | (1u << WR2V_PHASE_DOWNLOAD))

typedef struct
{
  Wr2vFixtureConfig config;
  /* a job is paid: a submit that may have made one is never repeated */
  gboolean hosted;
  guint uploads;                /* of the default request */
  guint phases;                 /* seen in a job, besides ALL_PHASES */
  const gchar *first_route;     /* the first request of a job */
  /* the first request on the connection the uploads kept alive */
  const gchar *kept_alive_from;
  const gchar *stall, *unstall; /* controls: jobs do not end, or do again */
  const gchar *poll_faults;     /* "<this>-503" and so on */
  guint poll_5xx[5];            /* statuses retried, 0-terminated */
  const gchar *gone_words;      /* an unknown job's error says */
  gboolean gone_details;        /* ... and its details name it */
  const gchar *upload_faults[3];        /* upload faults that are retried */
  const gchar *maybe_words[2];  /* a maybe-submitted error says */
  const gchar *maybe_faults[8]; /* the submit faults after which it is */
  const gchar *key_words[4];    /* a refused key's error says */
  const gchar *key_code;        /* ... and its provider-code */
  /* an api-url the engine cannot use, the error and what it says */
  const gchar *bad_url;
  gint bad_url_error;
  const gchar *bad_url_words[2];
} ContractEngine;

static Wr2vRequest *
media_request (Wr2vFixture * fx)
{
  return wr2v_test_media_request (PROMPT);
}

static ContractEngine engines[] = {
  {
        {"wavespeed", KEY, WRONG_KEY, NULL, media_request, FALSE},
        TRUE, 3, 1u << WR2V_PHASE_QUEUED, "upload", "upload",
        "{\"fault\": \"never-finish\", \"times\": 1}", NULL,
        "poll", {500, 502, 503, 504}, NULL, FALSE, {"upload-503"},
        {"paid job", "dashboard"},
        {"submit-hang", "submit-drop", "submit-500", "submit-503",
            "submit-envelope-500", "submit-202", "submit-malformed"},
        {"WAVESPEED_API_KEY", "api-key"}, NULL,
        /* plain http is for loopback only */
        "http://api.example.invalid", WR2V_ERROR_INVALID_REQUEST,
      {"api-url", "https"}},
  {
        {"dashscope", KEY, WRONG_KEY, NULL, media_request, FALSE},
        TRUE, 3, 1u << WR2V_PHASE_QUEUED, "policy", "policy",
        "{\"fault\": \"never-finish\", \"times\": 1}", NULL,
        "poll", {500, 502, 503, 504}, "unknown or older than 24 h", TRUE,
        /* 403: the upload policy expired */
        {"upload-500", "upload-403"},
        {"paid task may have been created", "console"},
        {"create-hang", "submit-drop", "create-500", "create-malformed"},
        {"DASHSCOPE_API_KEY", "api-key", "region", "InvalidApiKey"},
      "InvalidApiKey"},
  {
        {"fal", KEY, WRONG_KEY, NULL, media_request, FALSE},
        TRUE, 3, 1u << WR2V_PHASE_QUEUED, "upload", "upload",
        "{\"fault\": \"never-finish\", \"times\": 1}", NULL,
        "poll", {500, 502, 503, 504}, NULL, FALSE, {"upload-503"},
        {"paid request", "dashboard"},
        {"submit-hang", "submit-drop", "submit-500", "submit-503",
            "submit-202", "submit-malformed"},
        {"FAL_KEY", "api-key"}, NULL,
        "http://api.example.invalid", WR2V_ERROR_INVALID_REQUEST,
      {"api-url", "https"}},
  {
        {"replicate", KEY, WRONG_KEY, NULL, media_request, FALSE},
        TRUE, 3, 1u << WR2V_PHASE_QUEUED, "upload", "upload",
        "{\"fault\": \"never-finish\", \"times\": 1}", NULL,
        "poll", {500, 502, 503, 504}, NULL, FALSE, {"upload-503"},
        {"paid prediction", "dashboard"},
        {"submit-hang", "submit-drop", "submit-500", "submit-503",
            "submit-202", "submit-malformed"},
        {"REPLICATE_API_TOKEN", "api-key"}, NULL,
        "http://api.example.invalid", WR2V_ERROR_INVALID_REQUEST,
      {"api-url", "https"}},
  {
        {"comfyui", NULL, NULL, NULL, media_request, TRUE},
        FALSE, 1, 1u << WR2V_PHASE_PREPARE, "upload", NULL,
        "{\"polls\": 1000}", "{\"polls\": 0}",
        "history", {500}, "restarted", FALSE, {"upload-500"},
      {NULL}, {NULL}, {NULL}, NULL},
};

/* A case: an engine and what the case varies. */
typedef struct
{
  ContractEngine *ce;
  gconstpointer arg;
} Case;

typedef struct
{
  Wr2vFixture fx;
  const ContractEngine *ce;
  gconstpointer arg;
  const gchar *submit;          /* the engine's submit route */
} Fx;

static void
fx_setup (Fx * f, gconstpointer data)
{
  const Case *c = data;

  wr2v_fixture_setup_with (&f->fx, &c->ce->config);
  f->ce = c->ce;
  f->arg = c->arg;
  f->submit = c->ce->config.service->submit_route;
}

static void
fx_teardown (Fx * f, gconstpointer data)
{
  wr2v_fixture_teardown (&f->fx, data);
}

/* A rerun of @req resumes the job @id: the clip, no new submit. */
static void
assert_resumes (Fx * f, const gchar * id)
{
  Wr2vRun r;

  wr2v_fx_go (&f->fx, NULL, &r);
  g_assert_no_error (r.error);
  wr2v_assert_clip (r.path);
  g_assert_cmpstr (r.job.job_id, ==, id);
  g_assert_cmpint (wr2v_fx_count (&f->fx, f->submit), ==, 1);
  wr2v_fx_assert_journal (&f->fx, r.job.hash, FALSE, NULL);
  wr2v_run_clear (&r);
}

/* --- submitted once ------------------------------------------------------ */

/* One job, one submit; the same request again comes from the store, also
 * on a new engine (a new process), without a request to the service. */
static void
test_submit_once (Fx * f, gconstpointer data)
{
  Wr2vFixture *fx = &f->fx;
  Wr2vRun r, again;
  gint64 before;
  guint phases = ALL_PHASES | f->ce->phases;

  WR2V_FIXTURE_SKIP_IF_NO_SERVER (fx);
  wr2v_fx_go (fx, NULL, &r);
  g_assert_no_error (r.error);
  wr2v_assert_clip (r.path);
  g_assert_false (r.job.from_cache);
  g_assert_nonnull (r.job.job_id);
  if (f->ce->hosted)
    g_assert_true (g_str_has_prefix (r.job.source_url, fx->base));
  wr2v_fx_assert_journal (fx, r.job.hash, FALSE, NULL);
  wr2v_fx_assert_tmp_empty (fx);
  g_assert_cmpint (wr2v_fx_count (fx, "upload"), ==, f->ce->uploads);
  g_assert_cmpint (wr2v_fx_count (fx, f->submit), ==, 1);
  g_assert_cmpint (wr2v_fx_count (fx, fx->config->service->poll_route), >=, 3);
  g_assert_cmpint (wr2v_fx_count (fx, fx->config->service->download_route),
      ==, 1);
  g_assert_cmpuint (fx->phases_seen & phases, ==, phases);

  before = wr2v_fx_total_requests (fx);
  wr2v_fx_go (fx, NULL, &again);
  g_assert_no_error (again.error);
  g_assert_true (again.job.from_cache);
  g_assert_cmpstr (again.path, ==, r.path);
  g_assert_cmpint (wr2v_fx_total_requests (fx), ==, before);
  wr2v_run_clear (&again);

  wr2v_fx_renew_engine (fx);
  wr2v_fx_go (fx, NULL, &again);
  g_assert_no_error (again.error);
  g_assert_true (again.job.from_cache);
  g_assert_cmpint (wr2v_fx_total_requests (fx), ==, before);
  g_assert_cmpint (wr2v_fx_count (fx, f->submit), ==, 1);
  wr2v_run_clear (&again);
  wr2v_run_clear (&r);
}

/* A journal entry with a job id (a killed pipeline): poll that job, never
 * submit, upload nothing. */
static void
test_resume_from_journal (Fx * f, gconstpointer data)
{
  Wr2vFixture *fx = &f->fx;
  GError *err = NULL;
  const gchar *name = fx->config->service->engine;
  gchar *hash;
  Wr2vRun r;

  WR2V_FIXTURE_SKIP_IF_NO_SERVER (fx);
  hash = wr2v_test_request_hash (wr2v_fx_the_engine (fx),
      wr2v_fx_the_request (fx));
  wr2v_fx_controlf (fx, "{\"%s\": \"5e1f0c4e-resume\"}",
      fx->config->service->create_job);
  g_assert_true (wr2v_store_journal_begin (fx->store, hash, name, &err));
  g_assert_true (wr2v_store_journal_set_job (fx->store, hash, name,
          "5e1f0c4e-resume", &err));
  g_assert_no_error (err);

  wr2v_fx_go (fx, NULL, &r);
  g_assert_no_error (r.error);
  g_assert_cmpstr (r.job.hash, ==, hash);
  g_assert_cmpstr (r.job.job_id, ==, "5e1f0c4e-resume");
  wr2v_assert_clip (r.path);
  g_assert_cmpint (wr2v_fx_count (fx, f->submit), ==, 0);
  g_assert_cmpint (wr2v_fx_count (fx, "upload"), ==, 0);
  g_assert_cmpint (wr2v_fx_count (fx, f->ce->first_route), ==, 0);
  g_assert_cmpint (wr2v_fx_count (fx, fx->config->service->poll_route), >=, 1);
  wr2v_fx_assert_journal (fx, hash, FALSE, NULL);
  g_free (hash);
  wr2v_run_clear (&r);
}

/* A job that does not end by request-timeout stays in the journal with
 * its id (a timeout is not a stop: a local job is not removed); once it
 * is done, the next run (a new engine) fetches it. */
static void
test_timeout_then_resume (Fx * f, gconstpointer data)
{
  Wr2vFixture *fx = &f->fx;
  gint64 uploads;
  gchar *id;
  Wr2vRun r;

  WR2V_FIXTURE_SKIP_IF_NO_SERVER (fx);
  fx->settings.request_timeout_s = WR2V_TEST_TIMEOUT_S (2);
  wr2v_fx_go (fx, f->ce->stall, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_TIMEOUT);
  id = wr2v_fx_only_job (fx);
  wr2v_assert_says (r.error, id);
  wr2v_fx_assert_journal (fx, r.job.hash, TRUE, id);
  if (!f->ce->hosted)
    g_assert_cmpuint (wr2v_fake_server_array_len (fx->server, "deletes") +
        wr2v_fake_server_array_len (fx->server, "cancels"), ==, 0);
  wr2v_run_clear (&r);
  wr2v_fx_renew_engine (fx);

  /* the service finishes it meanwhile */
  if (f->ce->unstall)
    wr2v_fx_control (fx, f->ce->unstall);
  wr2v_fx_controlf (fx, "{\"%s\": \"%s\"}", fx->config->service->create_job,
      id);
  uploads = wr2v_fx_count (fx, "upload");
  fx->settings.request_timeout_s = 30;
  assert_resumes (f, id);
  g_assert_cmpint (wr2v_fx_count (fx, "upload"), ==, uploads);
  g_free (id);
}

/* A journal entry whose job the service does not know: NOT_FOUND, and
 * the journal forgets it (the next run may submit afresh). */
static void
test_unknown_job (Fx * f, gconstpointer data)
{
  Wr2vFixture *fx = &f->fx;
  gchar *hash;
  Wr2vRun r;

  WR2V_FIXTURE_SKIP_IF_NO_SERVER (fx);
  hash = wr2v_test_request_hash (wr2v_fx_the_engine (fx),
      wr2v_fx_the_request (fx));
  g_assert_true (wr2v_store_journal_set_job (fx->store, hash,
          fx->config->service->engine, "0b5e7c1a-gone", NULL));
  wr2v_fx_go_fails (fx, NULL, WR2V_ERROR_NOT_FOUND, "0b5e7c1a-gone", &r);
  if (f->ce->gone_words)
    wr2v_assert_says (r.error, f->ce->gone_words);
  if (f->ce->gone_details) {
    wr2v_assert_detail (&r.job, "job-id", "0b5e7c1a-gone");
    wr2v_assert_detail (&r.job, "request-id", NULL);
    g_assert_cmpint (wr2v_fx_count (fx, fx->config->service->poll_route), ==,
        1);
  }
  g_assert_cmpint (wr2v_fx_count (fx, f->submit), ==, 0);
  wr2v_fx_assert_journal (fx, hash, FALSE, NULL);
  g_free (hash);
  wr2v_run_clear (&r);
}

/* A job that failed after its submit (@fault once) stays in the journal
 * with its id (@error); the rerun resumes it. */
static void
fail_then_resume (Fx * f, const gchar * fault, gint error)
{
  Wr2vFixture *fx = &f->fx;
  gchar *id;
  Wr2vRun r;

  wr2v_fx_controlf (fx, "{\"fault\": \"%s\", \"times\": 1}", fault);
  wr2v_fx_go (fx, NULL, &r);
  g_assert_error (r.error, WR2V_ERROR, error);
  id = wr2v_fx_only_job (fx);
  if (f->ce->hosted && error == WR2V_ERROR_PROTOCOL)
    wr2v_assert_says (r.error, id);
  wr2v_fx_assert_journal (fx, r.job.hash, TRUE, id);
  wr2v_fx_assert_tmp_empty (fx);
  wr2v_run_clear (&r);
  assert_resumes (f, id);
  g_free (id);
}

/* A truncated clip fails the check; the next run downloads it again. */
static void
test_download_truncated (Fx * f, gconstpointer data)
{
  WR2V_FIXTURE_SKIP_IF_NO_SERVER (&f->fx);
  fail_then_resume (f, "download-truncated", WR2V_ERROR_BAD_RESULT);
  g_assert_cmpint (wr2v_fx_count (&f->fx,
          f->fx.config->service->download_route), ==, 2);
}

static void
test_malformed_poll (Fx * f, gconstpointer data)
{
  gchar *fault;

  WR2V_FIXTURE_SKIP_IF_NO_SERVER (&f->fx);
  fault = g_strconcat (f->ce->poll_faults, "-malformed", NULL);
  fail_then_resume (f, fault, WR2V_ERROR_PROTOCOL);
  g_free (fault);
}

/* --- faults that end in a recovery ------------------------------------ */

static void
test_poll_5xx (Fx * f, gconstpointer data)
{
  gchar *json;

  WR2V_FIXTURE_SKIP_IF_NO_SERVER (&f->fx);
  json = g_strdup_printf ("{\"fault\": \"%s-%u\", \"times\": 2}",
      f->ce->poll_faults, GPOINTER_TO_UINT (f->arg));
  wr2v_fx_expect_success (&f->fx, json);
  /* two failed polls, then the ones that count */
  g_assert_cmpint (wr2v_fx_count (&f->fx,
          f->fx.config->service->poll_route), >=, 5);
  g_free (json);
}

static void
test_poll_429 (Fx * f, gconstpointer data)
{
  gint64 start;
  gchar *json;

  WR2V_FIXTURE_SKIP_IF_NO_SERVER (&f->fx);
  json = g_strdup_printf ("{\"fault\": \"%s-429\", \"times\": 2, "
      "\"retry_after\": 1}", f->ce->poll_faults);
  start = g_get_monotonic_time ();
  wr2v_fx_expect_success (&f->fx, json);
  /* Retry-After: 1 was honoured, twice */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 2 * G_USEC_PER_SEC);
  g_free (json);
}

static void
test_slow_answers (Fx * f, gconstpointer data)
{
  WR2V_FIXTURE_SKIP_IF_NO_SERVER (&f->fx);
  wr2v_fx_expect_success (&f->fx, "{\"delay_ms\": 300}");
}

static void
test_download_reset (Fx * f, gconstpointer data)
{
  WR2V_FIXTURE_SKIP_IF_NO_SERVER (&f->fx);
  wr2v_fx_expect_success (&f->fx,
      "{\"fault\": \"download-reset\", \"times\": 1}");
  g_assert_cmpint (wr2v_fx_count (&f->fx,
          f->fx.config->service->download_route), ==, 2);
}

/* An upload creates nothing billable: a failed one (the fault @f->arg)
 * is tried again (with what comes before it, a hosted upload's policy). */
static void
test_upload_retried (Fx * f, gconstpointer data)
{
  gchar *json;

  WR2V_FIXTURE_SKIP_IF_NO_SERVER (&f->fx);
  json = g_strdup_printf ("{\"fault\": \"%s\", \"times\": 1}",
      (const gchar *) f->arg);
  wr2v_fx_expect_success (&f->fx, json);
  g_assert_cmpint (wr2v_fx_count (&f->fx, "upload"), ==, f->ce->uploads + 1);
  g_assert_cmpint (wr2v_fx_count (&f->fx, f->ce->first_route), ==,
      f->ce->uploads + 1);
  g_free (json);
}

/* --- a submit whose answer is lost ------------------------------------- */

/* The submit was read and may have made a job (@f->arg, once): it is
 * never sent again, by this run or the next. */
static void
test_maybe_submitted (Fx * f, gconstpointer data)
{
  Wr2vFixture *fx = &f->fx;
  gint64 start;
  Wr2vRun r;

  WR2V_FIXTURE_SKIP_IF_NO_SERVER (fx);
  fx->settings.request_timeout_s = WR2V_TEST_TIMEOUT_S (2);
  wr2v_fx_controlf (fx, "{\"fault\": \"%s\", \"times\": 1}",
      (const gchar *) f->arg);
  start = g_get_monotonic_time ();
  wr2v_fx_go (fx, NULL, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_MAYBE_SUBMITTED);
  g_assert_cmpint (r.t_end - start, <, WR2V_TEST_TIME (10 * G_USEC_PER_SEC));
  wr2v_assert_says (r.error, f->ce->maybe_words[0]);
  wr2v_assert_says (r.error, f->ce->maybe_words[1]);
  wr2v_assert_says (r.error, r.job.hash);
  g_assert_null (strstr (r.error->message, "no job was created"));
  g_assert_cmpint (wr2v_fx_count (fx, f->submit), ==, 1);
  wr2v_fx_assert_journal (fx, r.job.hash, TRUE, NULL);
  wr2v_run_clear (&r);

  /* the next run does not submit again */
  wr2v_fx_go (fx, NULL, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_MAYBE_SUBMITTED);
  g_assert_cmpint (wr2v_fx_count (fx, f->submit), ==, 1);
  wr2v_run_clear (&r);
}

/* The server reads the submit and closes the connection without a word.
 * On a kept-alive connection libcurl would send the POST again by itself
 * ("Connection died, retrying a fresh connect"): a second job. The submit
 * goes on a fresh connection instead and is sent once; a hosted job may
 * exist (the next run refuses to submit), a local one is removed. */
static void
test_submit_drop (Fx * f, gconstpointer data)
{
  Wr2vFixture *fx = &f->fx;
  Wr2vFakeServer *s = fx->server;
  guint last = f->ce->uploads - 1;
  gchar *id;
  Wr2vRun r;

  WR2V_FIXTURE_SKIP_IF_NO_SERVER (fx);
  if (f->ce->hosted) {
    f->arg = "submit-drop";
    test_maybe_submitted (f, data);
  } else {
    wr2v_fx_go (fx, "{\"fault\": \"submit-drop\"}", &r);
    g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_NETWORK);
    wr2v_assert_says (r.error, "did not answer the submit");
    g_assert_cmpint (wr2v_fx_count (fx, f->submit), ==, 1);
    id = wr2v_fx_only_job (fx);
    g_assert_true (wr2v_fake_server_list_has (s, "deletes", id) ||
        wr2v_fake_server_list_has (s, "cancels", id));
    wr2v_fx_assert_journal (fx, r.job.hash, FALSE, NULL);
    g_free (id);
    wr2v_run_clear (&r);
  }
  g_assert_cmpint (wr2v_fx_count (fx, "upload"), ==, f->ce->uploads);
  /* the requests before it shared a kept-alive connection */
  if (f->ce->kept_alive_from)
    g_assert_cmpint (wr2v_fake_server_peer_port (s, f->ce->kept_alive_from,
            0), ==, wr2v_fake_server_peer_port (s, "upload", last));
  g_assert_cmpint (wr2v_fake_server_peer_port (s, f->submit, 0), !=,
      wr2v_fake_server_peer_port (s, "upload", last));
}

/* --- cancellation: every phase stops at once -------------------------- */

static void
test_cancel (Fx * f, gconstpointer data)
{
  Wr2vFixture *fx = &f->fx;
  Wr2vPhase phase = GPOINTER_TO_INT (f->arg);
  guint delay_ms = 300;
  gchar *id;
  Wr2vRun r;

  WR2V_FIXTURE_SKIP_IF_NO_SERVER (fx);
  if (phase == WR2V_PHASE_UPLOAD) {
    wr2v_fx_control (fx, "{\"fault\": \"upload-slow\", \"seconds\": 30}");
  } else if (phase == WR2V_PHASE_SUBMIT) {
    /* the first poll hangs */
    wr2v_fx_controlf (fx, "{\"fault\": \"%s-slow\", \"seconds\": 30}",
        f->ce->poll_faults);
    delay_ms = 500;
  } else {
    wr2v_fx_control (fx, "{\"fault\": \"download-stall\", \"seconds\": 30}");
  }
  wr2v_fx_go_cancelled (fx, phase, delay_ms, &r);

  if (phase == WR2V_PHASE_UPLOAD) {
    g_assert_cmpint (wr2v_fx_count (fx, f->submit), ==, 0);
    wr2v_fx_assert_journal (fx, r.job.hash, FALSE, NULL);
  } else {
    id = wr2v_fx_only_job (fx);
    g_assert_cmpint (wr2v_fx_count (fx, f->submit), ==, 1);
    if (f->ce->hosted) {
      /* the job is safe in the journal: a rerun resumes it */
      wr2v_fx_assert_journal (fx, r.job.hash, TRUE, id);
    } else {
      /* a local job is removed: the next run may submit */
      /* out of the queue, or through the atomic cancel */
      g_assert_true (wr2v_fake_server_list_has (fx->server, "deletes", id) ||
          wr2v_fake_server_list_has (fx->server, "cancels", id));
      wr2v_fx_assert_journal (fx, r.job.hash, FALSE, NULL);
    }
    g_free (id);
  }
  wr2v_run_clear (&r);
}

/* --- the key ----------------------------------------------------------- */

/* The spy that the fixtures rely on does see a key in a log line. */
static void
test_key_spy_works (void)
{
  GstDebugCategory *cat = NULL;

  GST_DEBUG_CATEGORY_INIT (cat, "wanr2vtest", 0, "test-engine-contract");
  g_assert_cmpint (wr2v_test_secret_leaks (), ==, 0);
  GST_CAT_LOG (cat, "a line with %s in it", KEY);
  g_assert_cmpint (wr2v_test_secret_leaks (), ==, 1);
  wr2v_test_reset_secret_leaks ();
}

/* A key the service refuses: said, refused at the first request, nothing
 * submitted, and the key itself not shown (the fixture checks). */
static void
test_wrong_key (Fx * f, gconstpointer data)
{
  Wr2vFixture *fx = &f->fx;
  Wr2vRun r;
  guint i;

  WR2V_FIXTURE_SKIP_IF_NO_SERVER (fx);
  g_free (fx->settings.api_key);
  fx->settings.api_key = g_strdup (WRONG_KEY);
  wr2v_fx_go (fx, NULL, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_NOT_AUTHORIZED);
  for (i = 0; i < G_N_ELEMENTS (f->ce->key_words) && f->ce->key_words[i]; i++)
    wr2v_assert_says (r.error, f->ce->key_words[i]);
  g_assert_cmpint (wr2v_fx_count (fx, f->ce->first_route), ==, 1);
  if (!g_str_equal (f->ce->first_route, "upload"))
    g_assert_cmpint (wr2v_fx_count (fx, "upload"), ==, 0);
  g_assert_cmpint (wr2v_fx_count (fx, f->submit), ==, 0);
  wr2v_assert_detail (&r.job, "http-status", NULL);
  if (f->ce->key_code)
    wr2v_assert_detail (&r.job, "provider-code", f->ce->key_code);
  wr2v_run_clear (&r);
}

/* No key at all: said before any request. */
static void
test_no_key (Fx * f, gconstpointer data)
{
  Wr2vFixture *fx = &f->fx;
  const gchar *variable = f->ce->key_words[0];
  gchar *saved = g_strdup (g_getenv (variable));
  Wr2vRun r;

  WR2V_FIXTURE_SKIP_IF_NO_SERVER (fx);
  g_unsetenv (variable);
  g_clear_pointer (&fx->settings.api_key, g_free);
  wr2v_fx_go_fails (fx, NULL, WR2V_ERROR_NO_CREDENTIALS, variable, &r);
  wr2v_assert_says (r.error, "api-key");
  g_assert_cmpint (wr2v_fx_total_requests (fx), ==, 0);
  if (saved)
    g_setenv (variable, saved, TRUE);
  g_free (saved);
  wr2v_run_clear (&r);
}

/* An api-url the engine cannot use: said, nothing submitted. */
static void
test_bad_api_url (Fx * f, gconstpointer data)
{
  Wr2vFixture *fx = &f->fx;
  Wr2vRun r;
  guint i;

  WR2V_FIXTURE_SKIP_IF_NO_SERVER (fx);
  g_free (fx->settings.api_url);
  fx->settings.api_url = g_strdup (f->ce->bad_url);
  wr2v_fx_go (fx, NULL, &r);
  g_assert_error (r.error, WR2V_ERROR, f->ce->bad_url_error);
  for (i = 0; i < G_N_ELEMENTS (f->ce->bad_url_words); i++)
    if (f->ce->bad_url_words[i])
      wr2v_assert_says (r.error, f->ce->bad_url_words[i]);
  g_assert_cmpint (wr2v_fx_count (fx, f->submit), ==, 0);
  wr2v_run_clear (&r);
}

/* --- the hosted download ------------------------------------------------ */

static void
test_download_redirect (Fx * f, gconstpointer data)
{
  WR2V_FIXTURE_SKIP_IF_NO_SERVER (&f->fx);
  wr2v_fx_expect_success (&f->fx, "{\"fault\": \"download-redirect\"}");
  g_assert_cmpint (wr2v_fx_count (&f->fx, "redirect"), ==, 1);
  g_assert_cmpint (wr2v_fx_count (&f->fx, "download"), ==, 1);
}

/* A clip above max-download-bytes, announced or not (chunked), is
 * refused. */
static void
test_download_too_big (Fx * f, gconstpointer data)
{
  Wr2vFixture *fx = &f->fx;
  Wr2vRun r;

  WR2V_FIXTURE_SKIP_IF_NO_SERVER (fx);
  fx->settings.max_download_bytes = 1000;
  wr2v_fx_go_fails (fx, f->arg ? "{\"fault\": \"download-chunked\"}" : NULL,
      WR2V_ERROR_PROTOCOL, "larger than the limit", &r);
  g_assert_cmpint (wr2v_fx_count (fx, "download"), ==, 1);
  g_assert_cmpint (wr2v_fx_count (fx, f->submit), ==, 1);
  wr2v_run_clear (&r);
}

/* An output URL in plain http to another host is refused, and so is a
 * redirect to one (the rerun resumes the same job). */
static void
test_output_plain_http (Fx * f, gconstpointer data)
{
  Wr2vFixture *fx = &f->fx;
  Wr2vRun r;

  WR2V_FIXTURE_SKIP_IF_NO_SERVER (fx);
  wr2v_fx_go_fails (fx, "{\"fault\": \"download-redirect-http\"}",
      WR2V_ERROR_PROTOCOL, "loopback", &r);
  g_assert_cmpint (wr2v_fx_count (fx, "download"), ==, 0);
  g_assert_cmpint (wr2v_fx_count (fx, f->submit), ==, 1);
  wr2v_run_clear (&r);

  wr2v_fx_control (fx, "{\"clear_fault\": \"download-redirect-http\"}");
  wr2v_fx_go_fails (fx,
      "{\"fault\": \"download-redirect\", "
      "\"to\": \"http://example.invalid/x.mp4\"}", WR2V_ERROR_PROTOCOL,
      "redirect", &r);
  g_assert_cmpint (wr2v_fx_count (fx, "redirect"), ==, 1);
  g_assert_cmpint (wr2v_fx_count (fx, f->submit), ==, 1);
  wr2v_run_clear (&r);
}

/* References uploaded once are not uploaded again for a later, different
 * request, also by a new engine (the store remembers them). */
static void
test_upload_reuse (Fx * f, gconstpointer data)
{
  Wr2vFixture *fx = &f->fx;
  Wr2vRun r;

  WR2V_FIXTURE_SKIP_IF_NO_SERVER (fx);
  wr2v_fx_go (fx, NULL, &r);
  g_assert_no_error (r.error);
  wr2v_run_clear (&r);
  g_assert_cmpint (wr2v_fx_count (fx, "upload"), ==, 3);

  wr2v_fx_renew_engine (fx);
  g_free (fx->req->prompt);
  fx->req->prompt = g_strdup ("Video 2 chases Video 1 around Image 3");
  wr2v_fx_go (fx, NULL, &r);
  g_assert_no_error (r.error);
  wr2v_assert_clip (r.path);
  g_assert_cmpint (wr2v_fx_count (fx, f->ce->first_route), ==, 3);
  g_assert_cmpint (wr2v_fx_count (fx, "upload"), ==, 3);
  g_assert_cmpint (wr2v_fx_count (fx, f->submit), ==, 2);
  wr2v_run_clear (&r);
}

/* ------------------------------------------------------------------------ */

static void
add_case (ContractEngine * ce, const gchar * name, gconstpointer arg,
    void (*func) (Fx *, gconstpointer))
{
  Case *c = g_new0 (Case, 1);   /* lives as long as the program */
  gchar *path = g_strdup_printf ("/contract/%s/%s", ce->config.engine,
      name);

  c->ce = ce;
  c->arg = arg;
  g_test_add (path, Fx, c, fx_setup, (void (*)(Fx *, gconstpointer)) func,
      fx_teardown);
  g_free (path);
}

static void
add_engine_cases (ContractEngine * ce)
{
  guint i;

  add_case (ce, "submit-once", NULL, test_submit_once);
  add_case (ce, "resume-from-journal", NULL, test_resume_from_journal);
  add_case (ce, "timeout-then-resume", NULL, test_timeout_then_resume);
  add_case (ce, "unknown-job", NULL, test_unknown_job);
  add_case (ce, "download-truncated", NULL, test_download_truncated);
  add_case (ce, "malformed-poll", NULL, test_malformed_poll);
  for (i = 0; ce->poll_5xx[i]; i++) {
    gchar *name = g_strdup_printf ("poll-%u", ce->poll_5xx[i]);

    add_case (ce, name, GUINT_TO_POINTER (ce->poll_5xx[i]), test_poll_5xx);
    g_free (name);
  }
  add_case (ce, "poll-429", NULL, test_poll_429);
  add_case (ce, "slow-answers", NULL, test_slow_answers);
  add_case (ce, "download-reset", NULL, test_download_reset);
  add_case (ce, "upload-retried", ce->upload_faults[0], test_upload_retried);
  for (i = 1; i < G_N_ELEMENTS (ce->upload_faults) && ce->upload_faults[i]; i++) {
    gchar *name = g_strdup_printf ("upload-retried/%s", ce->upload_faults[i]);

    add_case (ce, name, ce->upload_faults[i], test_upload_retried);
    g_free (name);
  }
  add_case (ce, "submit-drop", NULL, test_submit_drop);
  if (ce->bad_url)
    add_case (ce, "bad-api-url", NULL, test_bad_api_url);
  add_case (ce, "cancel/upload", GINT_TO_POINTER (WR2V_PHASE_UPLOAD),
      test_cancel);
  add_case (ce, "cancel/poll", GINT_TO_POINTER (WR2V_PHASE_SUBMIT),
      test_cancel);
  if (!ce->hosted)
    return;
  for (i = 0; i < G_N_ELEMENTS (ce->maybe_faults) && ce->maybe_faults[i]; i++) {
    gchar *name = g_strdup_printf ("maybe-submitted/%s", ce->maybe_faults[i]);

    add_case (ce, name, ce->maybe_faults[i], test_maybe_submitted);
    g_free (name);
  }
  add_case (ce, "cancel/download", GINT_TO_POINTER (WR2V_PHASE_DOWNLOAD),
      test_cancel);
  add_case (ce, "wrong-key", NULL, test_wrong_key);
  add_case (ce, "no-key", NULL, test_no_key);
  add_case (ce, "download-redirect", NULL, test_download_redirect);
  add_case (ce, "download-too-big", GINT_TO_POINTER (FALSE),
      test_download_too_big);
  add_case (ce, "download-too-big-chunked", GINT_TO_POINTER (TRUE),
      test_download_too_big);
  add_case (ce, "output-plain-http", NULL, test_output_plain_http);
  add_case (ce, "upload-reuse", NULL, test_upload_reuse);
}

int
main (int argc, char **argv)
{
  gchar *data;
  guint i;

  /* comfyui's shipped default workflow, from the source tree */
  data = g_build_filename (wr2v_test_srcdir (), "..", "data", NULL);
  if (!g_getenv ("WANR2V_DATADIR"))
    g_setenv ("WANR2V_DATADIR", data, TRUE);
  g_free (data);
  wr2v_test_engine_init (&argc, &argv, "contract", NULL, TRUE);
  wr2v_test_add_secret (KEY);
  wr2v_test_add_secret (WRONG_KEY);
  wr2v_test_watch_logs ();

  g_test_add_func ("/contract/key-spy-works", test_key_spy_works);
  for (i = 0; i < G_N_ELEMENTS (engines); i++)
    add_engine_cases (&engines[i]);
  return wr2v_test_engine_finish (g_test_run ());
}
