/* wr2v-test-engine.c: see wr2v-test-engine.h. */
#include "wr2v-test-engine.h"
#include "wr2v-error.h"

#include <string.h>
#include <glib/gstdio.h>

#include "wr2v-test-time.h"

static const Wr2vFakeService services[] = {
  {"wavespeed", "fake-wavespeed.py", "WANR2V_FAKE_WAVESPEED", "submit",
      "poll", "download", "jobs", "create_job"},
  {"dashscope", "fake-dashscope.py", "WANR2V_FAKE_DASHSCOPE", "create",
      "poll", "download", "tasks", "create_task"},
  {"comfyui", "fake-comfyui.py", "WANR2V_FAKE_COMFYUI", "prompt",
      "history", "view", "jobs", "create_job"},
  {"fal", "fake-fal.py", "WANR2V_FAKE_FAL", "submit", "status", "download",
      "jobs", "create_job"},
  {"replicate", "fake-replicate.py", "WANR2V_FAKE_REPLICATE", "submit",
      "poll", "download", "jobs", "create_job"},
};

Wr2vTestMedia wr2v_test_media;
static Wr2vFixtureConfig *default_config;

const Wr2vFakeService *
wr2v_fake_service (const gchar * engine)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (services); i++)
    if (g_str_equal (services[i].engine, engine))
      return &services[i];
  g_error ("no fake service for engine %s", engine);
  return NULL;
}

/* --- media ------------------------------------------------------------- */

static gboolean
make_pipeline_file (const gchar * path, const gchar * format)
{
  gchar *desc = g_strdup_printf (format, path);
  gboolean ok = wr2v_test_run_to_eos (desc, 60 * GST_SECOND);

  g_free (desc);
  return ok;
}

static gboolean
make_references (Wr2vTestMedia * m)
{
  m->video[0] = g_build_filename (m->root, "video0.mp4", NULL);
  m->video[1] = g_build_filename (m->root, "video1.mp4", NULL);
  m->image = g_build_filename (m->root, "image0.png", NULL);
  /* a landscape and a portrait video, and a square image */
  if (!make_pipeline_file (m->video[0], "videotestsrc pattern=ball "
          "num-buffers=10 ! video/x-raw,width=320,height=180,framerate=10/1 ! "
          "x264enc ! mp4mux ! filesink location=\"%s\""))
    return FALSE;
  /* with a sound track, as a camera's clip has, when an AAC encoder is
   * there: only its picture is used */
  if (!make_pipeline_file (m->video[1], "videotestsrc pattern=smpte "
          "num-buffers=10 ! video/x-raw,width=180,height=320,framerate=10/1 ! "
          "x264enc ! mux. audiotestsrc num-buffers=10 ! avenc_aac ! mux. "
          "mp4mux name=mux ! filesink location=\"%s\"") &&
      !make_pipeline_file (m->video[1], "videotestsrc pattern=smpte "
          "num-buffers=10 ! video/x-raw,width=180,height=320,framerate=10/1 ! "
          "x264enc ! mp4mux ! filesink location=\"%s\""))
    return FALSE;
  return make_pipeline_file (m->image, "videotestsrc pattern=pinwheel "
      "num-buffers=1 ! video/x-raw,width=200,height=200 ! pngenc ! "
      "filesink location=\"%s\"");
}

void
wr2v_test_engine_init (gint * argc, gchar *** argv, const gchar * name,
    Wr2vFixtureConfig * config, gboolean with_refs)
{
  Wr2vTestMedia *m = &wr2v_test_media;
  gchar *tmpl = g_strdup_printf ("wanr2v-%s-XXXXXX", name);

  g_test_init (argc, argv, NULL);
  gst_init (argc, argv);
  default_config = config;
  m->root = g_dir_make_tmp (tmpl, NULL);
  g_assert_nonnull (m->root);
  g_free (tmpl);
  m->result_mp4 = g_build_filename (m->root, "result.mp4", NULL);
  m->ok = make_pipeline_file (m->result_mp4, "videotestsrc num-buffers=30 ! "
      "video/x-raw,width=320,height=240,framerate=30/1 ! x264enc ! mp4mux ! "
      "filesink location=\"%s\"");
  if (m->ok && with_refs)
    m->ok = make_references (m);
  if (config && config->key) {
    wr2v_test_add_secret (config->key);
    if (config->wrong_key)
      wr2v_test_add_secret (config->wrong_key);
    /* every log line at every level goes through the key spy */
    wr2v_test_watch_logs ();
  }
}

/* every case wr2v_fixture_add registered, freed at the finish */
static GPtrArray *fixture_cases;

gint
wr2v_test_engine_finish (gint ret)
{
  Wr2vTestMedia *m = &wr2v_test_media;

  g_clear_pointer (&fixture_cases, g_ptr_array_unref);

  wr2v_test_rm_rf (m->root);
  g_free (m->root);
  g_free (m->result_mp4);
  g_free (m->video[0]);
  g_free (m->video[1]);
  g_free (m->image);
  return ret;
}

/* --- the fixture --------------------------------------------------------- */

static Wr2vFakeServer *
start_server (const Wr2vFixtureConfig * c)
{
  const gchar *script = g_getenv (c->service->script_env);
  GPtrArray *args = g_ptr_array_new ();
  const gchar *const *a;
  Wr2vFakeServer *s;

  if (c->key) {
    g_ptr_array_add (args, (gpointer) "--api-key");
    g_ptr_array_add (args, (gpointer) c->key);
  }
  g_ptr_array_add (args, (gpointer) "--result-mp4");
  g_ptr_array_add (args, wr2v_test_media.result_mp4);
  for (a = c->server_args; a && *a; a++)
    g_ptr_array_add (args, (gpointer) * a);
  g_ptr_array_add (args, NULL);
  s = wr2v_fake_server_startv (script ? script : c->service->script,
      (const gchar * const *) args->pdata);
  g_ptr_array_unref (args);
  return s;
}

void
wr2v_fixture_setup_with (Wr2vFixture * fx, Wr2vFixtureConfig * config)
{
  GError *err = NULL;

  if (!config->service)
    config->service = wr2v_fake_service (config->engine);
  memset (fx, 0, sizeof (*fx));
  fx->config = config;
  g_mutex_init (&fx->lock);
  g_cond_init (&fx->cond);
  fx->phase_texts = g_ptr_array_new_with_free_func (g_free);
  fx->warnings = g_ptr_array_new_with_free_func (g_free);
  fx->messages = g_ptr_array_new_with_free_func (g_free);
  fx->steps = g_array_new (FALSE, FALSE, sizeof (gint));
  if (!wr2v_test_media.ok)
    return;

  fx->dir = g_build_filename (wr2v_test_media.root, "case-XXXXXX", NULL);
  g_assert_nonnull (g_mkdtemp (fx->dir));
  fx->store_dir = g_build_filename (fx->dir, "store", NULL);
  fx->server = start_server (config);
  fx->base = fx->server->base;
  fx->store = wr2v_store_open (fx->store_dir, &err);
  g_assert_no_error (err);
  fx->cancellable = g_cancellable_new ();

  fx->settings.api_key = g_strdup (config->key);
  fx->settings.api_url = g_strdup (fx->base);
  /* the DashScope fake stands for Beijing, where reference files may be
   * uploaded (elsewhere they need a uri) */
  if (g_str_equal (config->engine, "dashscope"))
    fx->settings.region = g_strdup ("beijing");
  fx->settings.request_timeout_s = 30;
  fx->settings.poll_interval_ms = 50;
  fx->settings.poll_interval_max_ms = 200;
}

void
wr2v_fixture_setup (Wr2vFixture * fx, gconstpointer data)
{
  wr2v_fixture_setup_with (fx, default_config);
}

/* What wr2v_fixture_add registered: the case's function and data. */
typedef struct
{
  Wr2vFixtureFunc func;
  gconstpointer data;
} FixtureCase;

static void
run_fixture_case (Wr2vFixture * fx, gconstpointer data)
{
  const FixtureCase *c = data;

  WR2V_FIXTURE_SKIP_IF_NO_SERVER (fx);
  c->func (fx, c->data);
}

void
wr2v_fixture_add (const gchar * path, gconstpointer data, Wr2vFixtureFunc func)
{
  FixtureCase *c = g_new (FixtureCase, 1);

  c->func = func;
  c->data = data;
  if (!fixture_cases)
    fixture_cases = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (fixture_cases, c);
  g_test_add (path, Wr2vFixture, c, wr2v_fixture_setup, run_fixture_case,
      wr2v_fixture_teardown);
}

void
wr2v_fixture_teardown (Wr2vFixture * fx, gconstpointer data)
{
  if (fx->req)
    wr2v_request_free (fx->req);
  if (fx->engine)
    wr2v_engine_free (fx->engine);
  wr2v_fake_server_stop (fx->server);
  if (fx->dir)
    wr2v_test_assert_no_secret_in_tree (fx->dir);
  g_assert_cmpint (wr2v_test_secret_leaks (), ==, 0);
  wr2v_store_free (fx->store);
  g_clear_object (&fx->cancellable);
  wr2v_engine_settings_clear (&fx->settings);
  g_free (fx->store_dir);
  g_free (fx->dir);
  g_ptr_array_unref (fx->phase_texts);
  g_ptr_array_unref (fx->warnings);
  g_ptr_array_unref (fx->messages);
  g_array_unref (fx->steps);
  g_mutex_clear (&fx->lock);
  g_cond_clear (&fx->cond);
}

/* --- the fake server --------------------------------------------------- */

void
wr2v_fx_control (Wr2vFixture * fx, const gchar * json)
{
  wr2v_fake_server_control (fx->server, json);
}

void
wr2v_fx_controlf (Wr2vFixture * fx, const gchar * format, ...)
{
  va_list ap;

  va_start (ap, format);
  wr2v_fake_server_controlv (fx->server, format, ap);
  va_end (ap);
}

JsonNode *
wr2v_fx_stats (Wr2vFixture * fx)
{
  return wr2v_fake_server_stats (fx->server);
}

gint64
wr2v_fx_count (Wr2vFixture * fx, const gchar * route)
{
  return wr2v_fake_server_count (fx->server, route);
}

gint64
wr2v_fx_total_requests (Wr2vFixture * fx)
{
  return wr2v_fake_server_total_requests (fx->server);
}

gchar *
wr2v_fx_only_job (Wr2vFixture * fx)
{
  return wr2v_fake_server_only_job (fx->server,
      fx->config->service->jobs_member);
}

/* --- requests ------------------------------------------------------------ */

gchar *
wr2v_fx_write_ref (Wr2vFixture * fx, const gchar * name, const gchar * seed,
    gsize min_size)
{
  gchar *path = g_build_filename (fx->dir, name, NULL);
  GString *s = g_string_new (NULL);
  guint i;

  /* any bytes do: the fake server doesn't decode references */
  for (i = 0; i < 200 || s->len < min_size; i++)
    g_string_append_printf (s, "%s-%u;", seed, i);
  g_assert_true (g_file_set_contents (path, s->str, s->len, NULL));
  g_string_free (s, TRUE);
  return path;
}

void
wr2v_test_add_file_ref (Wr2vRequest * req, Wr2vRefKind kind, guint pad,
    const gchar * path)
{
  Wr2vReference *ref = wr2v_reference_new (kind, pad);
  GError *err = NULL;

  ref->path = g_strdup (path);
  ref->mime = g_strdup (kind == WR2V_REF_VIDEO ? "video/mp4" : "image/png");
  ref->sha256 = wr2v_file_sha256 (path, &err);
  g_assert_no_error (err);
  wr2v_request_add_reference (req, ref);
}

Wr2vReference *
wr2v_fx_add_ref (Wr2vFixture * fx, Wr2vRequest * req, Wr2vRefKind kind,
    guint pad, const gchar * seed, gsize min_size)
{
  gchar *name = g_strdup_printf ("%s%u.%s", kind == WR2V_REF_VIDEO ?
      "video" : "image", pad, kind == WR2V_REF_VIDEO ? "mp4" : "png");
  gchar *path = wr2v_fx_write_ref (fx, name, seed, min_size);

  wr2v_test_add_file_ref (req, kind, pad, path);
  g_free (path);
  g_free (name);
  return g_ptr_array_index (req->references, req->references->len - 1);
}

static Wr2vRequest *
new_request (const gchar * prompt)
{
  Wr2vRequest *req = wr2v_request_new ();

  req->prompt = g_strdup (prompt);
  req->duration = 5;
  req->resolution = WR2V_RESOLUTION_720P;
  req->seed = -1;
  return req;
}

Wr2vRequest *
wr2v_fx_request (Wr2vFixture * fx, guint videos, guint images,
    const gchar * prompt)
{
  Wr2vRequest *req = new_request (prompt);
  guint i;

  for (i = 0; i < videos + images; i++) {
    gboolean video = i < videos;
    guint pad = video ? i : i - videos;
    gchar *seed = g_strdup_printf ("%s-%u", video ? "video" : "image", pad);

    wr2v_fx_add_ref (fx, req, video ? WR2V_REF_VIDEO : WR2V_REF_IMAGE, pad,
        seed, 0);
    g_free (seed);
  }
  wr2v_request_number_references (req);
  return req;
}

void
wr2v_fx_run_options (Wr2vFixture * fx)
{
  Wr2vRequest *req;
  Wr2vRun r;

  req = fx->req = wr2v_fx_request (fx, 1, 2,
      "Video 1 juggles Image 2 and Image 3");
  req->seed = 42;
  req->aspect_ratio = WR2V_ASPECT_9_16;
  req->aspect_ratio_set = TRUE;
  req->negative_prompt = g_strdup ("blurry");
  req->resolution = WR2V_RESOLUTION_1080P;
  req->duration = 10;
  req->prompt_expansion = TRUE;
  wr2v_fx_go_clip (fx, NULL, &r);
  g_assert_cmpint (wr2v_fx_count (fx, fx->config->service->submit_route), ==,
      1);
  wr2v_run_clear (&r);
}

Wr2vRequest *
wr2v_test_media_request (const gchar * prompt)
{
  Wr2vRequest *req = new_request (prompt);

  wr2v_test_add_file_ref (req, WR2V_REF_VIDEO, 0, wr2v_test_media.video[0]);
  wr2v_test_add_file_ref (req, WR2V_REF_VIDEO, 1, wr2v_test_media.video[1]);
  wr2v_test_add_file_ref (req, WR2V_REF_IMAGE, 0, wr2v_test_media.image);
  wr2v_request_number_references (req);
  return req;
}

Wr2vRequest *
wr2v_test_uri_request (const gchar * prompt, gboolean with_image)
{
  Wr2vRequest *req = new_request (prompt);
  Wr2vReference *ref;

  ref = wr2v_reference_new (WR2V_REF_VIDEO, 0);
  ref->uri = g_strdup ("https://cdn.example.com/ref.mp4");
  ref->sha256 = g_strdup_printf ("%064x", 7);
  wr2v_request_add_reference (req, ref);
  if (with_image) {
    ref = wr2v_reference_new (WR2V_REF_IMAGE, 0);
    ref->uri = g_strdup ("https://cdn.example.com/ref.png");
    ref->sha256 = g_strdup_printf ("%064x", 8);
    wr2v_request_add_reference (req, ref);
  }
  wr2v_request_number_references (req);
  return req;
}

gchar *
wr2v_test_request_hash (Wr2vEngine * engine, Wr2vRequest * req)
{
  gchar *identity = engine->klass->identity (engine);
  gchar *id = g_strdup_printf ("%s:%s", engine->klass->name, identity);
  gchar *hash = wr2v_request_hash (req, id);

  g_free (identity);
  g_free (id);
  return hash;
}

/* --- running a job --------------------------------------------------- */

Wr2vEngine *
wr2v_fx_engine (Wr2vFixture * fx)
{
  GError *err = NULL;
  Wr2vEngine *engine = wr2v_engine_new (fx->config->service->engine,
      &fx->settings, &err);

  g_assert_no_error (err);
  g_assert_nonnull (engine);
  return engine;
}

static void
on_phase (gpointer user_data, Wr2vPhase phase, const gchar * text)
{
  Wr2vFixture *fx = user_data;
  guint threads = phase == WR2V_PHASE_SUBMIT ?
      wr2v_test_count_dir ("/proc/self/task") : 0;

  g_assert_false (wr2v_test_has_secret (text));
  g_mutex_lock (&fx->lock);
  if (phase == WR2V_PHASE_SUBMIT)
    fx->submit_threads = threads;
  fx->phases_seen |= 1u << phase;
  g_ptr_array_add (fx->phase_texts, g_strdup_printf ("%s: %s",
          wr2v_phase_name (phase), text));
  g_cond_broadcast (&fx->cond);
  g_mutex_unlock (&fx->lock);
  if (g_getenv ("WANR2V_TEST_VERBOSE"))
    g_printerr ("phase %s: %s\n", wr2v_phase_name (phase), text);
}

static void
on_message (gpointer user_data, GstStructure * facts)
{
  Wr2vFixture *fx = user_data;
  gchar *s = gst_structure_to_string (facts);

  g_assert_false (wr2v_test_has_secret (s));
  g_mutex_lock (&fx->lock);
  g_ptr_array_add (fx->messages, s);
  g_mutex_unlock (&fx->lock);
  if (gst_structure_has_name (facts, "wanr2v/warning")) {
    g_mutex_lock (&fx->lock);
    g_ptr_array_add (fx->warnings,
        g_strdup (gst_structure_get_string (facts, "message")));
    g_mutex_unlock (&fx->lock);
  } else if (gst_structure_has_name (facts, "wanr2v/status")) {
    gint step[2] = { -1, -1 };
    guint threads = wr2v_test_count_dir ("/proc/self/task");

    g_assert_true (gst_structure_get_int (facts, "step", &step[0]));
    g_assert_true (gst_structure_get_int (facts, "steps", &step[1]));
    g_mutex_lock (&fx->lock);
    g_array_append_vals (fx->steps, step, 2);
    fx->max_threads = MAX (fx->max_threads, threads);
    g_mutex_unlock (&fx->lock);
  }
  gst_structure_free (facts);
}

void
wr2v_fx_run (Wr2vFixture * fx, Wr2vEngine * engine, Wr2vRequest * req,
    Wr2vRun * r)
{
  memset (r, 0, sizeof (*r));
  if (fx->config->check_first && !wr2v_engine_check (engine, req, &r->error)) {
    g_test_message ("check error: %s", r->error->message);
    r->t_end = g_get_monotonic_time ();
    return;
  }
  wr2v_job_init (&r->job, req, engine, fx->store, fx->cancellable);
  r->job.observer.phase = on_phase;
  r->job.observer.message = on_message;
  r->job.observer.user_data = fx;
  r->path = wr2v_job_run (&r->job, &r->error);
  r->t_end = g_get_monotonic_time ();
  if (r->error) {
    g_test_message ("job error: %s", r->error->message);
    g_assert_false (wr2v_test_has_secret (r->error->message));
    g_assert_null (r->path);
  }
  if (r->job.error_details) {
    gchar *s = gst_structure_to_string (r->job.error_details);

    g_test_message ("details: %s", s);
    g_assert_false (wr2v_test_has_secret (s));
    g_free (s);
  }
}

void
wr2v_run_clear (Wr2vRun * r)
{
  wr2v_job_clear (&r->job);
  g_free (r->path);
  g_clear_error (&r->error);
}

typedef struct
{
  Wr2vFixture *fx;
  Wr2vPhase phase;
  guint delay_ms;
  gint64 t_cancel;
} CancelCtx;

static gpointer
cancel_thread (gpointer data)
{
  CancelCtx *c = data;
  Wr2vFixture *fx = c->fx;
  gint64 until = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  g_mutex_lock (&fx->lock);
  while (!(fx->phases_seen & (1u << c->phase)))
    if (!g_cond_wait_until (&fx->cond, &fx->lock, until))
      break;
  g_mutex_unlock (&fx->lock);
  g_usleep (c->delay_ms * 1000);
  c->t_cancel = g_get_monotonic_time ();
  g_cancellable_cancel (fx->cancellable);
  return NULL;
}

Wr2vEngine *
wr2v_fx_the_engine (Wr2vFixture * fx)
{
  if (!fx->engine)
    fx->engine = wr2v_fx_engine (fx);
  return fx->engine;
}

Wr2vRequest *
wr2v_fx_the_request (Wr2vFixture * fx)
{
  if (!fx->req && fx->config->default_request)
    fx->req = fx->config->default_request (fx);
  else if (!fx->req)
    fx->req = wr2v_fx_request (fx, 2, 1, fx->config->prompt);
  return fx->req;
}

void
wr2v_fx_renew_engine (Wr2vFixture * fx)
{
  g_clear_pointer (&fx->engine, wr2v_engine_free);
}

void
wr2v_fx_go (Wr2vFixture * fx, const gchar * json, Wr2vRun * r)
{
  if (json)
    wr2v_fx_control (fx, json);
  wr2v_fx_run (fx, wr2v_fx_the_engine (fx), wr2v_fx_the_request (fx), r);
}

void
wr2v_fx_go_cancelled (Wr2vFixture * fx, Wr2vPhase phase, guint delay_ms,
    Wr2vRun * r)
{
  CancelCtx c = { fx, phase, delay_ms, 0 };
  GThread *t;
  gint64 latency;

  wr2v_fx_the_engine (fx);
  wr2v_fx_the_request (fx);
  t = g_thread_new ("canceller", cancel_thread, &c);
  wr2v_fx_go (fx, NULL, r);
  g_thread_join (t);
  g_assert_error (r->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  latency = r->t_end - c.t_cancel;
  g_test_message ("stopped %" G_GINT64_FORMAT " ms after the cancel",
      latency / 1000);
  g_assert_cmpint (latency, <, WR2V_TEST_TIME (G_USEC_PER_SEC));
}

void
wr2v_fx_expect_success (Wr2vFixture * fx, const gchar * fault_json)
{
  Wr2vRun r;

  wr2v_fx_go_clip (fx, fault_json, &r);
  wr2v_fx_assert_journal (fx, r.job.hash, FALSE, NULL);
  g_assert_cmpint (wr2v_fx_count (fx, fx->config->service->submit_route), ==,
      1);
  wr2v_run_clear (&r);
}

gboolean
wr2v_fx_said (Wr2vFixture * fx, const gchar * words)
{
  gboolean said = FALSE;
  guint i;

  g_mutex_lock (&fx->lock);
  for (i = 0; i < fx->phase_texts->len; i++)
    said |= strstr (g_ptr_array_index (fx->phase_texts, i), words) != NULL;
  g_mutex_unlock (&fx->lock);
  return said;
}

/* --- checks -------------------------------------------------------------- */

void
wr2v_assert_clip (const gchar * path)
{
  gchar *got = NULL, *want = NULL;
  gsize got_len = 0, want_len = 0;

  g_assert_nonnull (path);
  g_assert_true (g_file_get_contents (path, &got, &got_len, NULL));
  g_assert_true (g_file_get_contents (wr2v_test_media.result_mp4, &want,
          &want_len, NULL));
  g_assert_cmpmem (got, got_len, want, want_len);
  g_free (got);
  g_free (want);
}

void
wr2v_fx_assert_journal (Wr2vFixture * fx, const gchar * hash,
    gboolean present, const gchar * job_id)
{
  Wr2vJournalEntry *e = wr2v_store_journal_get (fx->store, hash);

  if (!present) {
    g_assert_null (e);
    return;
  }
  g_assert_nonnull (e);
  g_assert_cmpstr (e->job_id, ==, job_id);
  wr2v_journal_entry_free (e);
}

void
wr2v_fx_go_ok (Wr2vFixture * fx, const gchar * json, Wr2vRun * r)
{
  wr2v_fx_go (fx, json, r);
  g_assert_no_error (r->error);
}

void
wr2v_fx_go_clip (Wr2vFixture * fx, const gchar * json, Wr2vRun * r)
{
  wr2v_fx_go_ok (fx, json, r);
  wr2v_assert_clip (r->path);
}

void
wr2v_fx_assert_counts (Wr2vFixture * fx, const gchar * route, ...)
{
  va_list args;

  va_start (args, route);
  while (route) {
    gint64 want = va_arg (args, gint);
    gint64 got = wr2v_fx_count (fx, route);

    if (got != want)
      g_error ("requests to \"%s\": %" G_GINT64_FORMAT ", expected %"
          G_GINT64_FORMAT, route, got, want);
    route = va_arg (args, const gchar *);
  }
  va_end (args);
}

void
wr2v_fx_go_fails (Wr2vFixture * fx, const gchar * json, gint code,
    const gchar * words, Wr2vRun * r)
{
  wr2v_fx_go (fx, json, r);
  g_assert_error (r->error, WR2V_ERROR, code);
  wr2v_assert_says (r->error, words);
}

void
wr2v_assert_accepts (Wr2vEngine * engine, Wr2vRequest * req)
{
  GError *err = NULL;

  g_assert_true (wr2v_engine_check (engine, req, &err));
  g_assert_no_error (err);
}

void
wr2v_assert_refuses (Wr2vEngine * engine, Wr2vRequest * req, gint code,
    const gchar * words)
{
  GError *err = NULL;

  g_assert_false (wr2v_engine_check (engine, req, &err));
  g_assert_nonnull (err);
  g_test_message ("refused: %s", err->message);
  if (code)
    g_assert_error (err, WR2V_ERROR, code);
  wr2v_assert_says (err, words);
  g_error_free (err);
}

void
wr2v_assert_durations (Wr2vEngine * engine, Wr2vRequest * req, gint code,
    const Wr2vDurationCheck * rows, guint n)
{
  guint i;

  for (i = 0; i < n; i++) {
    req->duration = rows[i].seconds;
    if (rows[i].refused)
      wr2v_assert_refuses (engine, req, code, rows[i].refused);
    else
      wr2v_assert_accepts (engine, req);
  }
}

gchar *
wr2v_fx_go_job_failed (Wr2vFixture * fx, const gchar * json,
    const gchar * words, gint http_status, Wr2vRun * r)
{
  gchar *id;
  gint status = 0;

  wr2v_fx_go_fails (fx, json, WR2V_ERROR_JOB_FAILED, words, r);
  id = wr2v_fx_only_job (fx);
  wr2v_assert_says (r->error, id);
  wr2v_assert_detail (&r->job, "job-id", id);
  g_assert_true (gst_structure_get_int (r->job.error_details, "http-status",
          &status));
  if (http_status)
    g_assert_cmpint (status, ==, http_status);
  g_assert_cmpint (wr2v_fx_count (fx, fx->config->service->submit_route), ==,
      1);
  wr2v_fx_assert_journal (fx, r->job.hash, FALSE, NULL);
  return id;
}

void
wr2v_fx_go_fails_submitted (Wr2vFixture * fx, const gchar * json, gint code,
    const gchar * words, Wr2vRun * r)
{
  wr2v_fx_go_fails (fx, json, code, words, r);
  g_assert_cmpint (wr2v_fx_count (fx, fx->config->service->submit_route), ==,
      1);
}

void
wr2v_assert_says (const GError * err, const gchar * words)
{
  g_assert_nonnull (err);
  if (!strstr (err->message, words))
    g_error ("\"%s\" does not say \"%s\"", err->message, words);
}

void
wr2v_assert_detail (Wr2vJob * job, const gchar * field, const gchar * value)
{
  g_assert_nonnull (job->error_details);
  if (value)
    g_assert_cmpstr (gst_structure_get_string (job->error_details, field),
        ==, value);
  else
    g_assert_true (gst_structure_has_field (job->error_details, field));
}

void
wr2v_fx_assert_tmp_empty (Wr2vFixture * fx)
{
  gchar *tmp = g_build_filename (fx->store_dir, "tmp", NULL);
  GDir *d = g_dir_open (tmp, 0, NULL);

  g_assert_nonnull (d);
  g_assert_null (g_dir_read_name (d));
  g_dir_close (d);
  g_free (tmp);
}

gchar *
wr2v_test_real_dir (const gchar * variable)
{
  const gchar *key = g_getenv (variable);
  gchar *dir, *skip;

  if (!key || !*key) {
    skip = g_strdup_printf ("%s not set", variable);
    g_test_skip (skip);
    g_free (skip);
    return NULL;
  }
  dir = g_build_filename (wr2v_test_media.root, "real", NULL);
  g_mkdir_with_parents (dir, 0700);
  return dir;
}

gchar *
wr2v_test_real_video (const gchar * dir, guint frames)
{
  gchar *video = g_build_filename (dir, "ref.mp4", NULL);
  gchar *desc = g_strdup_printf ("videotestsrc pattern=ball num-buffers=%u ! "
      "video/x-raw,width=640,height=360,framerate=30/1 ! x264enc ! mp4mux ! "
      "filesink location=\"%s\"", frames, video);

  g_assert_true (wr2v_test_run_to_eos (desc, 60 * GST_SECOND));
  g_free (desc);
  return video;
}

void
wr2v_test_run_real_job (const gchar * name, Wr2vEngineSettings * settings,
    guint poll_ms, guint poll_max_ms, Wr2vRequest * req, const gchar * dir)
{
  Wr2vEngine *engine;
  Wr2vStore *store;
  Wr2vJob job;
  GError *err = NULL;
  const gchar *key;
  gchar *path;

  settings->request_timeout_s = 30 * 60;
  settings->poll_interval_ms = poll_ms;
  settings->poll_interval_max_ms = poll_max_ms;
  engine = wr2v_engine_new (name, settings, &err);
  g_assert_no_error (err);
  key = g_getenv (engine->klass->key_variable);
  store = wr2v_store_open (dir, &err);
  g_assert_no_error (err);
  g_assert_true (wr2v_engine_check (engine, req, &err));
  g_assert_no_error (err);
  g_test_message ("estimated USD %.2f",
      wr2v_engine_estimate_cost (engine, req));
  wr2v_job_init (&job, req, engine, store, NULL);
  path = wr2v_job_run (&job, &err);
  if (err) {
    g_assert_null (strstr (err->message, key));
    g_test_message ("real job failed: %s", err->message);
  }
  g_assert_no_error (err);
  g_assert_nonnull (path);
  g_test_message ("job %s: %s", job.job_id, path);
  g_free (path);
  wr2v_job_clear (&job);
  wr2v_store_free (store);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
  wr2v_engine_settings_clear (settings);
}
