/* wr2v-test-engine.h: the fixture of the engine tests (test-wavespeed,
 * test-dashscope, test-comfyui, test-engine-contract): an engine driven
 * through the generic job driver wr2v_job_run() against its fake server
 * (wr2v-fake-server.h), with a result store in a temporary directory.
 *
 * Every job run checks that no secret (the keys the test registered with
 * wr2v_test_add_secret) shows in its error, error details, phase texts or
 * element-message facts; the teardown checks the log spy's count and the
 * files of the case. */
#pragma once

#include <gst/gst.h>

#include "wr2v-engine.h"
#include "wr2v-fake-server.h"
#include "wr2v-request.h"
#include "wr2v-store.h"
#include "wr2v-test-util.h"

G_BEGIN_DECLS
/* What the tests know of an engine's fake service. */
    typedef struct
{
  const gchar *engine;          /* "wavespeed" */
  const gchar *script;          /* its fake, under tests/ */
  const gchar *script_env;      /* a variable that names another fake */
  const gchar *submit_route;    /* the request that makes a job */
  const gchar *poll_route;
  const gchar *download_route;
  const gchar *jobs_member;     /* the jobs in the fake's stats */
  const gchar *create_job;      /* the control that makes a job */
} Wr2vFakeService;

/* The fake service of @engine ("wavespeed", "dashscope", "comfyui"). */
const Wr2vFakeService *wr2v_fake_service (const gchar * engine);

typedef struct _Wr2vFixture Wr2vFixture;

/* How a test program sets its fixtures up. */
typedef struct
{
  const gchar *engine;          /* "wavespeed" */
  const gchar *key;             /* the key the fake takes; NULL: none */
  const gchar *wrong_key;       /* one it refuses; a secret too */
  const gchar *const *server_args;      /* more, NULL-terminated */
  /* the request most cases run; NULL: two videos and an image of any
   * bytes (wr2v_fx_request) with @prompt */
  Wr2vRequest *(*default_request) (Wr2vFixture * fx);
  /* the run checks the request first, as the element does */
  gboolean check_first;
  const Wr2vFakeService *service;       /* the engine's, once set up */
  const gchar *prompt;
} Wr2vFixtureConfig;

struct _Wr2vFixture
{
  const Wr2vFixtureConfig *config;
  gchar *dir;                   /* the case's directory */
  gchar *store_dir;             /* dir/store */
  Wr2vFakeServer *server;       /* NULL: no media, the case is skipped */
  const gchar *base;            /* the server's */
  Wr2vStore *store;
  GCancellable *cancellable;
  Wr2vEngineSettings settings;  /* key, api-url, short polls */

  GMutex lock;                  /* guards what the observer records: */
  GCond cond;
  guint phases_seen;            /* bit per Wr2vPhase */
  GPtrArray *phase_texts;       /* "phase: text" */
  GPtrArray *warnings;          /* "wanr2v/warning" messages */
  GPtrArray *messages;          /* every message, as text */
  GArray *steps;                /* "wanr2v/status": step, steps pairs */
  guint submit_threads;         /* threads when the submit began */
  guint max_threads;            /* the most seen at a "wanr2v/status" */

  /* the case's job, freed by the teardown (see wr2v_fx_go) */
  Wr2vEngine *engine;
  Wr2vRequest *req;
};

/* The media a test program makes once: the clip the fakes serve
 * (1 s, 320x240, 30 fps) and, when asked for, reference files (a
 * landscape and a portrait MP4 and a square PNG). */
typedef struct
{
  gchar *root;                  /* the program's temporary directory */
  gchar *result_mp4;
  gchar *video[2];
  gchar *image;
  gboolean ok;                  /* all of it was made */
} Wr2vTestMedia;

extern Wr2vTestMedia wr2v_test_media;

/* g_test_init, gst_init, the media (references too with @with_refs) in
 * a temporary directory named after @name. @config (may be NULL): what
 * wr2v_fixture_setup uses; its keys become secrets, watched in the logs
 * (wr2v_test_watch_logs). */
void wr2v_test_engine_init (gint * argc, gchar *** argv, const gchar * name,
    Wr2vFixtureConfig * config, gboolean with_refs);

/* Removes the media; returns @ret. */
gint wr2v_test_engine_finish (gint ret);

void wr2v_fixture_setup (Wr2vFixture * fx, gconstpointer data);
void wr2v_fixture_setup_with (Wr2vFixture * fx, Wr2vFixtureConfig * config);
void wr2v_fixture_teardown (Wr2vFixture * fx, gconstpointer data);

typedef void (*Wr2vFixtureFunc) (Wr2vFixture * fx, gconstpointer data);

/* A case of the program's default fixture: @func runs with @data,
 * skipped when there is no fake server (WR2V_FIXTURE_SKIP_IF_NO_SERVER),
 * so that the case need not check. */
void wr2v_fixture_add (const gchar * path, gconstpointer data,
    Wr2vFixtureFunc func);
#define WR2V_FIXTURE_ADD(path, data, func) wr2v_fixture_add (path, data, func)

#define WR2V_FIXTURE_SKIP_IF_NO_SERVER(fx) G_STMT_START {               \
  if (!(fx)->server) {                                                  \
    g_test_skip ("could not make the test media (x264enc, pngenc?)");  \
    return;                                                             \
  }                                                                     \
} G_STMT_END

/* --- the fake server --------------------------------------------------- */

void wr2v_fx_control (Wr2vFixture * fx, const gchar * json);
void
wr2v_fx_controlf (Wr2vFixture * fx, const gchar * format, ...)
G_GNUC_PRINTF (2, 3);
     JsonNode *wr2v_fx_stats (Wr2vFixture * fx);
     gint64 wr2v_fx_count (Wr2vFixture * fx, const gchar * route);
     gint64 wr2v_fx_total_requests (Wr2vFixture * fx);
/* the one job the server knows; free it */
     gchar *wr2v_fx_only_job (Wr2vFixture * fx);

/* --- requests ------------------------------------------------------------ */

/* A reference file of any bytes (the hosted fakes decode nothing) of at
 * least @min_size bytes, named @name in the case's directory. */
     gchar *wr2v_fx_write_ref (Wr2vFixture * fx, const gchar * name,
    const gchar * seed, gsize min_size);
     Wr2vReference *wr2v_fx_add_ref (Wr2vFixture * fx, Wr2vRequest * req,
    Wr2vRefKind kind, guint pad, const gchar * seed, gsize min_size);
/* @videos then @images such references, 5 s, 720p */
     Wr2vRequest *wr2v_fx_request (Wr2vFixture * fx, guint videos, guint images,
    const gchar * prompt);

/* Runs, to its clip, the case's request set to one with every option:
 * 1 video and 2 images, seed 42, 9:16, a negative prompt ("blurry"),
 * 1080p, 10 s, prompt expansion; it was submitted once. */
     void wr2v_fx_run_options (Wr2vFixture * fx);

/* A reference of the file @path. */
     void wr2v_test_add_file_ref (Wr2vRequest * req, Wr2vRefKind kind,
    guint pad, const gchar * path);
/* The media's two videos and image, 5 s, 720p. */
     Wr2vRequest *wr2v_test_media_request (const gchar * prompt);
/* A video (and an image) given by URL only: no upload. */
     Wr2vRequest *wr2v_test_uri_request (const gchar * prompt,
    gboolean with_image);

/* The driver's key for a request, as wr2v_job_run computes it. */
     gchar *wr2v_test_request_hash (Wr2vEngine * engine, Wr2vRequest * req);

/* --- running a job --------------------------------------------------- */

     typedef struct
     {
       Wr2vJob job;
       gchar *path;
       GError *error;
       gint64 t_end;
     } Wr2vRun;

     Wr2vEngine *wr2v_fx_engine (Wr2vFixture * fx);
     void wr2v_fx_run (Wr2vFixture * fx, Wr2vEngine * engine, Wr2vRequest * req,
    Wr2vRun * r);
     void wr2v_run_clear (Wr2vRun * r);

/* The case's engine (made from fx->settings at the first call) and its
 * request (the default one, unless the case set fx->req first). */
     Wr2vEngine *wr2v_fx_the_engine (Wr2vFixture * fx);
     Wr2vRequest *wr2v_fx_the_request (Wr2vFixture * fx);
/* The next run gets a new engine, as a new process would. */
     void wr2v_fx_renew_engine (Wr2vFixture * fx);

/* Runs the case's request on its engine, after the control @json (NULL:
 * none), into @r (clear it). */
     void wr2v_fx_go (Wr2vFixture * fx, const gchar * json, Wr2vRun * r);

/* wr2v_fx_go with @json: the job must succeed. */
     void wr2v_fx_go_ok (Wr2vFixture * fx, const gchar * json, Wr2vRun * r);

/* wr2v_fx_go_ok whose result is the clip the fake serves
 * (wr2v_assert_clip). */
     void wr2v_fx_go_clip (Wr2vFixture * fx, const gchar * json, Wr2vRun * r);

/* wr2v_fx_go with @json: the job must fail with WR2V_ERROR @code, its
 * message saying @words (wr2v_assert_says). */
     void wr2v_fx_go_fails (Wr2vFixture * fx, const gchar * json, gint code,
    const gchar * words, Wr2vRun * r);

/* wr2v_fx_go_fails, after the job was submitted once. */
     void wr2v_fx_go_fails_submitted (Wr2vFixture * fx, const gchar * json,
    gint code, const gchar * words, Wr2vRun * r);

/* wr2v_fx_go with @json: the job fails on the service's side
 * (WR2V_ERROR_JOB_FAILED), its message saying @words and the id of the
 * fake's one job, which its details name (job-id), with the answer's
 * http-status (@http_status, unless 0); submitted once, the job is over
 * (the journal forgot it). Returns the job id; free it. */
     gchar *wr2v_fx_go_job_failed (Wr2vFixture * fx, const gchar * json,
    const gchar * words, gint http_status, Wr2vRun * r);

/* wr2v_fx_go, cancelled @delay_ms after the job reached @phase: it must
 * end cancelled within a second (scaled by WR2V_TEST_TIME). */
     void wr2v_fx_go_cancelled (Wr2vFixture * fx, Wr2vPhase phase,
    guint delay_ms, Wr2vRun * r);

/* The case's request after @fault_json (NULL: none) ends with the clip,
 * submitted once, the journal clean. */
     void wr2v_fx_expect_success (Wr2vFixture * fx, const gchar * fault_json);

/* Asserts the number of requests to each route: pairs of a route and
 * its count (a gint), NULL-terminated. */
     void wr2v_fx_assert_counts (Wr2vFixture * fx, const gchar * route,
    ...) G_GNUC_NULL_TERMINATED;

/* Whether the observer saw a phase text that holds @words. */
     gboolean wr2v_fx_said (Wr2vFixture * fx, const gchar * words);

/* --- checks of a request, without a job ---------------------------------- */

/* @engine accepts @req (wr2v_engine_check), with no error. */
     void wr2v_assert_accepts (Wr2vEngine * engine, Wr2vRequest * req);
/* @engine refuses @req with an error that says @words (and is WR2V_ERROR
 * @code, unless @code is 0); the test's log shows it. */
     void wr2v_assert_refuses (Wr2vEngine * engine, Wr2vRequest * req,
    gint code, const gchar * words);

/* A duration and whether the engine takes it. */
     typedef struct
     {
       guint seconds;
       const gchar *refused;    /* NULL: accepted; else what the error says */
     } Wr2vDurationCheck;

/* @req with each of the @n durations @rows in turn, checked by @engine
 * (refusals with WR2V_ERROR @code unless it is 0); @req keeps the last. */
     void wr2v_assert_durations (Wr2vEngine * engine, Wr2vRequest * req,
    gint code, const Wr2vDurationCheck * rows, guint n);

/* --- checks -------------------------------------------------------------- */

     void wr2v_assert_clip (const gchar * path);
     void wr2v_fx_assert_journal (Wr2vFixture * fx, const gchar * hash,
    gboolean present, const gchar * job_id);
     void wr2v_assert_says (const GError * err, const gchar * words);
/* @field is in the job's error details (holding @value, unless NULL) */
     void wr2v_assert_detail (Wr2vJob * job, const gchar * field,
    const gchar * value);
/* nothing left in the store's tmp/ (composed images, partial clips) */
     void wr2v_fx_assert_tmp_empty (Wr2vFixture * fx);

     G_END_DECLS G_BEGIN_DECLS
/* A directory for a job on the real service whose key is in the
 * environment variable @variable, or NULL (the case skipped) when it is
 * not set. */
       gchar * wr2v_test_real_dir (const gchar * variable);

/* A 640x360 H.264 reference MP4 of @frames frames at 30 fps, @dir/ref.mp4. */
     gchar *wr2v_test_real_video (const gchar * dir, guint frames);

/* Runs @req (freed) for real on the engine @name with @settings
 * (cleared; a 30-minute request-timeout and polls every @poll_ms up to
 * @poll_max_ms), its key from the environment, and a store in @dir: the
 * job must end with a clip, and the key not be shown. */
     void wr2v_test_run_real_job (const gchar * name,
    Wr2vEngineSettings * settings, guint poll_ms, guint poll_max_ms,
    Wr2vRequest * req, const gchar * dir);

G_END_DECLS
