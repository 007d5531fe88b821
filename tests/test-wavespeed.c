/* test-wavespeed.c: the WaveSpeed engine against a fake WaveSpeed server
 * (tests/fake-wavespeed.py), driven through the generic job driver
 * wr2v_job_run() with a result store in a temporary directory.
 *
 * Every scenario checks how many submits the server saw (a submit is a
 * paid job), and that the API key shows up nowhere: not in errors, error
 * details, element-message facts, GStreamer debug output at level 9,
 * GLib log messages, or files in the store.
 *
 * The last case talks to the real service when WAVESPEED_API_KEY is set
 * (one 5 s 720p job: USD 1.00) and is skipped otherwise.
 */
#include <stdlib.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gst/gst.h>

#include "wr2v-engine.h"
#include "wr2v-error.h"
#include "wr2v-http.h"
#include "wr2v-request.h"
#include "wr2v-store.h"
#include "wr2v-test-time.h"

/* A short request-timeout (s), scaled like WR2V_TEST_TIME: it also counts
 * the uploads, which take longer on a slow (sanitizer, valgrind) run. */
#define SHORT_TIMEOUT_S(s) \
  ((guint) (WR2V_TEST_TIME ((gint64) (s) * G_USEC_PER_SEC) / G_USEC_PER_SEC))

/* the key the fake server accepts; must never be seen anywhere */
#define KEY "wr2v-test-KEY-7f3a9c5d"
#define WRONG_KEY "wr2v-wrong-KEY-0b1e2d"
#define MODEL "alibaba/wan-2.7/reference-to-video"

static gchar *tmp_root;
static gchar *result_mp4;
static gchar *server_script;
static gchar *python;
static gboolean have_result;
static gint key_leaks;          /* atomic: log lines that carried a key */

/* --- the key must not leak into logs -------------------------------- */

static gboolean
has_key (const gchar * s)
{
  return s && (strstr (s, KEY) || strstr (s, WRONG_KEY));
}

static void
gst_log_spy (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer user_data)
{
  const gchar *text = gst_debug_message_get (message);

  if (has_key (text))
    g_atomic_int_inc (&key_leaks);
  if (g_getenv ("WANR2V_TEST_VERBOSE"))
    g_printerr ("%s %s\n", gst_debug_category_get_name (category), text);
}

static void
glib_log_spy (const gchar * domain, GLogLevelFlags level,
    const gchar * message, gpointer user_data)
{
  if (has_key (message))
    g_atomic_int_inc (&key_leaks);
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    g_log_default_handler (domain, level, message, user_data);
}

static void
assert_no_key_in_tree (const gchar * dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  if (!d)
    return;
  while ((name = g_dir_read_name (d))) {
    gchar *path = g_build_filename (dir, name, NULL);

    if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
      assert_no_key_in_tree (path);
    } else {
      gchar *data = NULL;
      gsize len = 0;

      if (g_file_get_contents (path, &data, &len, NULL)) {
        g_assert_null (g_strstr_len (data, len, KEY));
        g_assert_null (g_strstr_len (data, len, WRONG_KEY));
      }
      g_free (data);
    }
    g_free (path);
  }
  g_dir_close (d);
}

/* --- fixture: a fake server, a store, an engine's settings ---------- */

typedef struct
{
  gchar *dir;
  GSubprocess *server;
  guint port;
  gchar *base;
  Wr2vStore *store;
  Wr2vHttp *http;
  GCancellable *cancellable;
  Wr2vEngineSettings settings;

  GMutex lock;
  GCond cond;
  guint phases_seen;            /* bit per Wr2vPhase */
  GPtrArray *phase_texts;
} Fixture;

static void
fixture_setup (Fixture * fx, gconstpointer data)
{
  GSubprocessLauncher *launcher;
  GDataInputStream *in;
  GError *err = NULL;
  gchar *line;

  memset (fx, 0, sizeof (*fx));
  g_mutex_init (&fx->lock);
  g_cond_init (&fx->cond);
  fx->phase_texts = g_ptr_array_new_with_free_func (g_free);
  if (!have_result)
    return;

  fx->dir = g_build_filename (tmp_root, "case-XXXXXX", NULL);
  g_assert_nonnull (g_mkdtemp (fx->dir));

  /* stdin is a pipe that closes when this process dies, however it dies:
   * the server then exits too */
  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
      G_SUBPROCESS_FLAGS_STDIN_PIPE);
  fx->server = g_subprocess_launcher_spawn (launcher, &err, python,
      server_script, "--api-key", KEY, "--result-mp4", result_mp4,
      "--exit-with-stdin", NULL);
  g_assert_no_error (err);
  g_object_unref (launcher);
  in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (fx->server));
  line = g_data_input_stream_read_line (in, NULL, NULL, &err);
  g_assert_no_error (err);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "PORT "));
  fx->port = atoi (line + 5);
  g_assert_cmpuint (fx->port, >, 0);
  g_free (line);
  g_object_unref (in);
  fx->base = g_strdup_printf ("http://127.0.0.1:%u", fx->port);

  fx->store = wr2v_store_open (fx->dir, &err);
  g_assert_no_error (err);
  fx->http = wr2v_http_new ();
  fx->cancellable = g_cancellable_new ();

  fx->settings.api_key = g_strdup (KEY);
  fx->settings.api_url = g_strdup (fx->base);
  fx->settings.request_timeout_s = 30;
  fx->settings.poll_interval_ms = 50;
  fx->settings.poll_interval_max_ms = 200;
}

static void
fixture_teardown (Fixture * fx, gconstpointer data)
{
  if (fx->server) {
    g_subprocess_force_exit (fx->server);
    g_subprocess_wait (fx->server, NULL, NULL);
    g_object_unref (fx->server);
  }
  if (fx->dir)
    assert_no_key_in_tree (fx->dir);
  g_assert_cmpint (g_atomic_int_get (&key_leaks), ==, 0);
  wr2v_store_free (fx->store);
  wr2v_http_free (fx->http);
  g_clear_object (&fx->cancellable);
  wr2v_engine_settings_clear (&fx->settings);
  g_free (fx->base);
  g_free (fx->dir);
  g_ptr_array_unref (fx->phase_texts);
  g_mutex_clear (&fx->lock);
  g_cond_clear (&fx->cond);
}

#define SKIP_IF_NO_SETUP(fx) G_STMT_START {                     \
  if (!(fx)->server) {                                          \
    g_test_skip ("could not make the result MP4 (x264enc?)");   \
    return;                                                     \
  }                                                             \
} G_STMT_END

/* --- talking to the fake server ------------------------------------- */

static void
control (Fixture * fx, const gchar * json)
{
  gchar *url = g_strconcat (fx->base, "/_control", NULL);
  Wr2vHttpRequest req = { 0, };
  Wr2vHttpResponse resp = { 0, };
  GError *err = NULL;

  req.method = WR2V_HTTP_POST;
  req.url = url;
  req.body = g_bytes_new (json, strlen (json));
  req.content_type = "application/json";
  g_assert_true (wr2v_http_perform (fx->http, &req, &resp, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (resp.status, ==, 200);
  wr2v_http_response_clear (&resp);
  g_bytes_unref (req.body);
  g_free (url);
}

static JsonNode *
stats (Fixture * fx)
{
  gchar *url = g_strconcat (fx->base, "/_stats", NULL);
  Wr2vHttpRequest req = { 0, };
  Wr2vHttpResponse resp = { 0, };
  GError *err = NULL;
  JsonNode *node;

  req.method = WR2V_HTTP_GET;
  req.url = url;
  req.max_body_bytes = 64 * 1024 * 1024;
  g_assert_true (wr2v_http_perform (fx->http, &req, &resp, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (resp.status, ==, 200);
  node = wr2v_http_parse_json (resp.body, &err);
  g_assert_no_error (err);
  wr2v_http_response_clear (&resp);
  g_free (url);
  return node;
}

static gint64
count_of (Fixture * fx, const gchar * route)
{
  JsonNode *s = stats (fx);
  JsonObject *counts = json_object_get_object_member (json_node_get_object
      (s), "counts");
  gint64 n = json_object_get_int_member_with_default (counts, route, 0);

  json_node_unref (s);
  return n;
}

static gint64
total_requests (Fixture * fx)
{
  JsonNode *s = stats (fx);
  JsonArray *reqs = json_object_get_array_member (json_node_get_object (s),
      "requests");
  gint64 n = json_array_get_length (reqs);

  json_node_unref (s);
  return n;
}

/* The last submit's body as the server parsed it. Unref the node. */
static JsonNode *
last_submit (Fixture * fx, JsonObject ** body)
{
  JsonNode *s = stats (fx);
  JsonObject *last = json_object_get_object_member (json_node_get_object (s),
      "last_submit");

  g_assert_nonnull (last);
  g_assert_cmpstr (json_object_get_string_member (last, "model"), ==, MODEL);
  g_assert_true (json_object_get_boolean_member (last, "auth_ok"));
  *body = json_object_get_object_member (last, "body");
  g_assert_nonnull (*body);
  return s;
}

/* --- requests and references ---------------------------------------- */

static gchar *
write_ref_file (Fixture * fx, const gchar * name, const gchar * seed)
{
  gchar *path = g_build_filename (fx->dir, name, NULL);
  GString *s = g_string_new (NULL);
  guint i;

  /* any bytes do: the fake server doesn't decode references */
  for (i = 0; i < 200; i++)
    g_string_append_printf (s, "%s-%u;", seed, i);
  g_assert_true (g_file_set_contents (path, s->str, s->len, NULL));
  g_string_free (s, TRUE);
  return path;
}

static void
add_ref (Fixture * fx, Wr2vRequest * req, Wr2vRefKind kind, guint pad,
    const gchar * seed)
{
  Wr2vReference *ref = wr2v_reference_new (kind, pad);
  gchar *name = g_strdup_printf ("%s%u.%s", kind == WR2V_REF_VIDEO ?
      "video" : "image", pad, kind == WR2V_REF_VIDEO ? "mp4" : "png");
  GError *err = NULL;

  ref->path = write_ref_file (fx, name, seed);
  ref->mime = g_strdup (kind == WR2V_REF_VIDEO ? "video/mp4" : "image/png");
  ref->sha256 = wr2v_file_sha256 (ref->path, &err);
  g_assert_no_error (err);
  wr2v_request_add_reference (req, ref);
  g_free (name);
}

static Wr2vRequest *
make_request (Fixture * fx, guint videos, guint images, const gchar * prompt)
{
  Wr2vRequest *req = wr2v_request_new ();
  guint i;

  req->prompt = g_strdup (prompt);
  req->duration = 5;
  req->resolution = WR2V_RESOLUTION_720P;
  req->seed = -1;
  for (i = 0; i < videos; i++) {
    gchar *seed = g_strdup_printf ("video-%u", i);
    add_ref (fx, req, WR2V_REF_VIDEO, i, seed);
    g_free (seed);
  }
  for (i = 0; i < images; i++) {
    gchar *seed = g_strdup_printf ("image-%u", i);
    add_ref (fx, req, WR2V_REF_IMAGE, i, seed);
    g_free (seed);
  }
  wr2v_request_number_references (req);
  return req;
}

static Wr2vRequest *
default_request (Fixture * fx)
{
  return make_request (fx, 2, 1,
      "Video 1 dances with Video 2 while holding Image 3");
}

static Wr2vEngine *
make_engine (Fixture * fx)
{
  GError *err = NULL;
  Wr2vEngine *engine = wr2v_engine_new ("wavespeed", &fx->settings, &err);

  g_assert_no_error (err);
  g_assert_nonnull (engine);
  return engine;
}

/* --- running a job ---------------------------------------------------- */

static void
on_phase (gpointer user_data, Wr2vPhase phase, const gchar * text)
{
  Fixture *fx = user_data;

  g_assert_false (has_key (text));
  g_mutex_lock (&fx->lock);
  fx->phases_seen |= 1u << phase;
  g_ptr_array_add (fx->phase_texts, g_strdup_printf ("%s: %s",
          wr2v_phase_name (phase), text));
  g_cond_broadcast (&fx->cond);
  g_mutex_unlock (&fx->lock);
}

static void
on_message (gpointer user_data, GstStructure * facts)
{
  gchar *s = gst_structure_to_string (facts);

  g_assert_false (has_key (s));
  g_free (s);
  gst_structure_free (facts);
}

typedef struct
{
  Wr2vJob job;
  gchar *path;
  GError *error;
  gint64 t_end;
} Run;

static void
run_job (Fixture * fx, Wr2vEngine * engine, Wr2vRequest * req, Run * r)
{
  memset (r, 0, sizeof (*r));
  wr2v_job_init (&r->job, req, engine, fx->store, fx->cancellable);
  r->job.observer.phase = on_phase;
  r->job.observer.message = on_message;
  r->job.observer.user_data = fx;
  r->path = wr2v_job_run (&r->job, &r->error);
  r->t_end = g_get_monotonic_time ();
  if (r->error) {
    g_test_message ("job error: %s", r->error->message);
    g_assert_false (has_key (r->error->message));
    g_assert_null (r->path);
  }
  if (r->job.error_details) {
    gchar *s = gst_structure_to_string (r->job.error_details);
    g_assert_false (has_key (s));
    g_free (s);
  }
}

static void
run_clear (Run * r)
{
  wr2v_job_clear (&r->job);
  g_free (r->path);
  g_clear_error (&r->error);
}

static void
assert_result_is_the_clip (const gchar * path)
{
  gchar *got = NULL, *want = NULL;
  gsize got_len = 0, want_len = 0;

  g_assert_nonnull (path);
  g_assert_true (g_file_get_contents (path, &got, &got_len, NULL));
  g_assert_true (g_file_get_contents (result_mp4, &want, &want_len, NULL));
  g_assert_cmpmem (got, got_len, want, want_len);
  g_free (got);
  g_free (want);
}

static void
assert_journal (Fixture * fx, const gchar * hash, gboolean present,
    const gchar * job_id)
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

/* The job id the server handed out (the only one in these tests). */
static gchar *
server_job_id (Fixture * fx)
{
  JsonNode *s = stats (fx);
  JsonObject *jobs = json_object_get_object_member (json_node_get_object (s),
      "jobs");
  GList *names = json_object_get_members (jobs);
  gchar *id;

  g_assert_cmpuint (g_list_length (names), ==, 1);
  id = g_strdup (names->data);
  g_list_free (names);
  json_node_unref (s);
  return id;
}

/* --- the happy path --------------------------------------------------- */

static void
test_happy_path (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r, again;
  JsonNode *s;
  JsonObject *body, *root;
  JsonArray *videos, *uploads, *requests;
  guint i;
  gint64 before;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request (fx);

  run_job (fx, engine, req, &r);
  g_assert_no_error (r.error);
  assert_result_is_the_clip (r.path);
  g_assert_false (r.job.from_cache);
  g_assert_nonnull (r.job.job_id);
  g_assert_true (g_str_has_prefix (r.job.source_url, fx->base));
  assert_journal (fx, r.job.hash, FALSE, NULL);

  g_assert_cmpint (count_of (fx, "upload"), ==, 3);
  g_assert_cmpint (count_of (fx, "submit"), ==, 1);
  g_assert_cmpint (count_of (fx, "poll"), >=, 3);
  g_assert_cmpint (count_of (fx, "download"), ==, 1);

  /* the body: uploaded URLs in prompt order, only the fields set */
  s = last_submit (fx, &body);
  root = json_node_get_object (s);
  uploads = json_object_get_array_member (root, "uploads");
  g_assert_cmpuint (json_array_get_length (uploads), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (body, "prompt"), ==,
      req->prompt);
  videos = json_object_get_array_member (body, "videos");
  g_assert_cmpuint (json_array_get_length (videos), ==, 2);
  for (i = 0; i < 3; i++) {
    JsonObject *up = json_array_get_object_element (uploads, i);
    const gchar *url = json_object_get_string_member (up, "url");
    const gchar *fname = json_object_get_string_member (up, "filename");
    JsonArray *fields = json_object_get_array_member (up, "fields");

    g_assert_cmpuint (json_array_get_length (fields), ==, 1);
    g_assert_cmpstr (json_array_get_string_element (fields, 0), ==, "file");
    if (i < 2) {
      g_assert_cmpstr (json_array_get_string_element (videos, i), ==, url);
      g_assert_cmpstr (json_object_get_string_member (up, "content_type"),
          ==, "video/mp4");
      g_assert_true (g_str_has_prefix (fname, "video"));
    } else {
      g_assert_cmpstr (json_object_get_string_member (body, "image"), ==, url);
      g_assert_cmpstr (fname, ==, "image3.png");
    }
  }
  g_assert_false (json_object_has_member (body, "images"));
  g_assert_cmpstr (json_object_get_string_member (body, "resolution"), ==,
      "720p");
  g_assert_cmpint (json_object_get_int_member (body, "duration"), ==, 5);
  g_assert_false (json_object_get_boolean_member (body,
          "enable_prompt_expansion"));
  g_assert_false (json_object_has_member (body, "seed"));
  g_assert_false (json_object_has_member (body, "aspect_ratio"));
  g_assert_false (json_object_has_member (body, "negative_prompt"));

  /* the key went to the API and only there */
  requests = json_object_get_array_member (root, "requests");
  for (i = 0; i < json_array_get_length (requests); i++) {
    JsonObject *rq = json_array_get_object_element (requests, i);
    JsonObject *h = json_object_get_object_member (rq, "headers");
    const gchar *route = json_object_get_string_member (rq, "route");

    if (g_str_equal (route, "download"))
      g_assert_false (json_object_get_boolean_member (h, "has_authorization"));
    else
      g_assert_true (json_object_get_boolean_member (h, "auth_ok"));
  }
  json_node_unref (s);

  g_mutex_lock (&fx->lock);
  g_assert_true (fx->phases_seen & (1u << WR2V_PHASE_UPLOAD));
  g_assert_true (fx->phases_seen & (1u << WR2V_PHASE_SUBMIT));
  g_assert_true (fx->phases_seen & (1u << WR2V_PHASE_QUEUED));
  g_assert_true (fx->phases_seen & (1u << WR2V_PHASE_GENERATING));
  g_assert_true (fx->phases_seen & (1u << WR2V_PHASE_DOWNLOAD));
  g_mutex_unlock (&fx->lock);

  /* the same request again: straight from the store, no API call */
  before = total_requests (fx);
  run_job (fx, engine, req, &again);
  g_assert_no_error (again.error);
  g_assert_true (again.job.from_cache);
  g_assert_cmpstr (again.path, ==, r.path);
  g_assert_cmpint (total_requests (fx), ==, before);
  run_clear (&again);

  /* ... also from a new engine (a new process) */
  wr2v_engine_free (engine);
  engine = make_engine (fx);
  run_job (fx, engine, req, &again);
  g_assert_no_error (again.error);
  g_assert_true (again.job.from_cache);
  g_assert_cmpint (total_requests (fx), ==, before);
  g_assert_cmpint (count_of (fx, "submit"), ==, 1);
  run_clear (&again);

  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

static void
test_options (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;
  JsonNode *s;
  JsonObject *body;
  JsonArray *images;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = make_request (fx, 1, 2, "Video 1 juggles Image 2 and Image 3");
  req->seed = 42;
  req->aspect_ratio = WR2V_ASPECT_9_16;
  req->aspect_ratio_set = TRUE;
  req->negative_prompt = g_strdup ("blurry");
  req->resolution = WR2V_RESOLUTION_1080P;
  req->duration = 10;
  req->prompt_expansion = TRUE;

  run_job (fx, engine, req, &r);
  g_assert_no_error (r.error);
  assert_result_is_the_clip (r.path);

  s = last_submit (fx, &body);
  g_assert_cmpint (json_object_get_int_member (body, "seed"), ==, 42);
  g_assert_cmpstr (json_object_get_string_member (body, "aspect_ratio"), ==,
      "9:16");
  g_assert_cmpstr (json_object_get_string_member (body, "negative_prompt"),
      ==, "blurry");
  g_assert_cmpstr (json_object_get_string_member (body, "resolution"), ==,
      "1080p");
  g_assert_cmpint (json_object_get_int_member (body, "duration"), ==, 10);
  g_assert_true (json_object_get_boolean_member (body,
          "enable_prompt_expansion"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member
          (body, "videos")), ==, 1);
  images = json_object_get_array_member (body, "images");
  g_assert_cmpuint (json_array_get_length (images), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (body, "image"), ==,
      json_array_get_string_element (images, 0));
  json_node_unref (s);
  g_assert_cmpint (count_of (fx, "submit"), ==, 1);

  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* References already uploaded are not uploaded again, also by a new
 * engine (the store remembers them). */
static void
test_upload_reuse (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine = NULL;
  Wr2vRequest *a, *b;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  a = default_request (fx);
  run_job (fx, engine, a, &r);
  g_assert_no_error (r.error);
  run_clear (&r);
  g_assert_cmpint (count_of (fx, "upload"), ==, 3);
  wr2v_engine_free (engine);

  engine = make_engine (fx);
  b = default_request (fx);
  g_free (b->prompt);
  b->prompt = g_strdup ("Video 2 chases Video 1 around Image 3");
  run_job (fx, engine, b, &r);
  g_assert_no_error (r.error);
  assert_result_is_the_clip (r.path);
  run_clear (&r);
  g_assert_cmpint (count_of (fx, "upload"), ==, 3);
  g_assert_cmpint (count_of (fx, "submit"), ==, 2);

  wr2v_request_free (a);
  wr2v_request_free (b);
  wr2v_engine_free (engine);
}

/* A reference given as a URL is passed through, not uploaded. */
static void
test_uri_reference (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Wr2vReference *ref;
  Run r;
  JsonNode *s;
  JsonObject *body;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = wr2v_request_new ();
  req->prompt = g_strdup ("Video 1 waves");
  req->duration = 5;
  req->seed = -1;
  ref = wr2v_reference_new (WR2V_REF_VIDEO, 0);
  ref->uri = g_strdup ("https://cdn.example.com/ref.mp4");
  ref->sha256 = g_strdup_printf ("%064x", 7);
  wr2v_request_add_reference (req, ref);
  wr2v_request_number_references (req);

  run_job (fx, engine, req, &r);
  g_assert_no_error (r.error);
  g_assert_cmpint (count_of (fx, "upload"), ==, 0);
  s = last_submit (fx, &body);
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member
          (body, "videos"), 0), ==, "https://cdn.example.com/ref.mp4");
  json_node_unref (s);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* --- faults that end in a recovery ------------------------------------ */

static void
run_expect_success (Fixture * fx, const gchar * fault_json)
{
  Wr2vEngine *engine = make_engine (fx);
  Wr2vRequest *req = default_request (fx);
  Run r;

  if (fault_json)
    control (fx, fault_json);
  run_job (fx, engine, req, &r);
  g_assert_no_error (r.error);
  assert_result_is_the_clip (r.path);
  assert_journal (fx, r.job.hash, FALSE, NULL);
  g_assert_cmpint (count_of (fx, "submit"), ==, 1);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

static void
test_poll_5xx (Fixture * fx, gconstpointer data)
{
  guint status = GPOINTER_TO_UINT (data);
  gchar *json;

  SKIP_IF_NO_SETUP (fx);
  json = g_strdup_printf ("{\"fault\": \"poll-%u\", \"times\": 2}", status);
  run_expect_success (fx, json);
  /* two failed polls, then the ones that count */
  g_assert_cmpint (count_of (fx, "poll"), >=, 5);
  g_free (json);
}

static void
test_poll_429 (Fixture * fx, gconstpointer data)
{
  gint64 start;

  SKIP_IF_NO_SETUP (fx);
  start = g_get_monotonic_time ();
  run_expect_success (fx,
      "{\"fault\": \"poll-429\", \"times\": 1, \"retry_after\": 1}");
  /* Retry-After: 1 was honoured */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, G_USEC_PER_SEC);
}

static void
test_slow_answers (Fixture * fx, gconstpointer data)
{
  SKIP_IF_NO_SETUP (fx);
  run_expect_success (fx, "{\"delay_ms\": 300}");
}

static void
test_download_reset (Fixture * fx, gconstpointer data)
{
  SKIP_IF_NO_SETUP (fx);
  run_expect_success (fx, "{\"fault\": \"download-reset\", \"times\": 1}");
  g_assert_cmpint (count_of (fx, "download"), ==, 2);
}

static void
test_download_redirect (Fixture * fx, gconstpointer data)
{
  SKIP_IF_NO_SETUP (fx);
  run_expect_success (fx, "{\"fault\": \"download-redirect\"}");
  g_assert_cmpint (count_of (fx, "redirect"), ==, 1);
  g_assert_cmpint (count_of (fx, "download"), ==, 1);
}

static void
test_upload_503 (Fixture * fx, gconstpointer data)
{
  SKIP_IF_NO_SETUP (fx);
  /* an upload creates nothing billable: it is retried */
  run_expect_success (fx, "{\"fault\": \"upload-503\", \"times\": 1}");
  g_assert_cmpint (count_of (fx, "upload"), ==, 4);
}

/* A truncated clip fails the check; the job stays in the journal and the
 * next run downloads it again, without a new submit. */
static void
test_download_truncated (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;
  gchar *id;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request (fx);
  control (fx, "{\"fault\": \"download-truncated\", \"times\": 1}");
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_BAD_RESULT);
  id = server_job_id (fx);
  assert_journal (fx, r.job.hash, TRUE, id);
  run_clear (&r);

  run_job (fx, engine, req, &r);
  g_assert_no_error (r.error);
  assert_result_is_the_clip (r.path);
  g_assert_cmpstr (r.job.job_id, ==, id);
  g_assert_cmpint (count_of (fx, "submit"), ==, 1);
  g_assert_cmpint (count_of (fx, "download"), ==, 2);
  run_clear (&r);
  g_free (id);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* A job that never finishes ends at request-timeout with its id; once it
 * finishes, the next run resumes it (as after a killed pipeline). */
static void
test_never_finishes_then_resume (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;
  gchar *id;

  SKIP_IF_NO_SETUP (fx);
  fx->settings.request_timeout_s = SHORT_TIMEOUT_S (2);
  engine = make_engine (fx);
  req = default_request (fx);
  control (fx, "{\"fault\": \"never-finish\", \"times\": 1}");
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_TIMEOUT);
  id = server_job_id (fx);
  g_assert_nonnull (strstr (r.error->message, id));
  assert_journal (fx, r.job.hash, TRUE, id);
  run_clear (&r);
  wr2v_engine_free (engine);

  /* the provider finishes it meanwhile */
  {
    gchar *json = g_strdup_printf ("{\"create_job\": \"%s\"}", id);
    control (fx, json);
    g_free (json);
  }
  fx->settings.request_timeout_s = 30;
  engine = make_engine (fx);
  run_job (fx, engine, req, &r);
  g_assert_no_error (r.error);
  assert_result_is_the_clip (r.path);
  g_assert_cmpstr (r.job.job_id, ==, id);
  g_assert_cmpint (count_of (fx, "submit"), ==, 1);
  g_assert_cmpint (count_of (fx, "upload"), ==, 3);
  assert_journal (fx, r.job.hash, FALSE, NULL);
  run_clear (&r);
  g_free (id);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* The driver's key for a request, as wr2v_job_run computes it. */
static gchar *
request_hash (Wr2vEngine * engine, Wr2vRequest * req)
{
  gchar *identity = engine->klass->identity (engine);
  gchar *id = g_strdup_printf ("%s:%s", engine->klass->name, identity);
  gchar *hash = wr2v_request_hash (req, id);

  g_free (identity);
  g_free (id);
  return hash;
}

/* A journal entry with a job id: poll that job, never submit. */
static void
test_resume_from_journal (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  GError *err = NULL;
  gchar *hash;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request (fx);
  hash = request_hash (engine, req);
  control (fx, "{\"create_job\": \"pred_resume1\"}");
  g_assert_true (wr2v_store_journal_begin (fx->store, hash, "wavespeed", &err));
  g_assert_true (wr2v_store_journal_set_job (fx->store, hash, "wavespeed",
          "pred_resume1", &err));
  g_assert_no_error (err);

  run_job (fx, engine, req, &r);
  g_assert_no_error (r.error);
  g_assert_cmpstr (r.job.hash, ==, hash);
  g_assert_cmpstr (r.job.job_id, ==, "pred_resume1");
  assert_result_is_the_clip (r.path);
  g_assert_cmpint (count_of (fx, "submit"), ==, 0);
  g_assert_cmpint (count_of (fx, "upload"), ==, 0);
  g_assert_cmpint (count_of (fx, "poll"), >=, 1);
  assert_journal (fx, hash, FALSE, NULL);
  run_clear (&r);
  g_free (hash);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* --- faults that end in an error -------------------------------------- */

static void
test_unknown_job (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  gchar *hash;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request (fx);
  hash = request_hash (engine, req);
  g_assert_true (wr2v_store_journal_set_job (fx->store, hash, "wavespeed",
          "pred_gone", NULL));
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (r.error->message, "pred_gone"));
  g_assert_cmpint (count_of (fx, "submit"), ==, 0);
  run_clear (&r);
  g_free (hash);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

static void
test_wrong_key (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  g_free (fx->settings.api_key);
  fx->settings.api_key = g_strdup (WRONG_KEY);
  engine = make_engine (fx);
  req = default_request (fx);
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_NOT_AUTHORIZED);
  g_assert_nonnull (strstr (r.error->message, "WAVESPEED_API_KEY"));
  g_assert_nonnull (strstr (r.error->message, "api-key"));
  /* refused at the first upload: nothing submitted */
  g_assert_cmpint (count_of (fx, "upload"), ==, 1);
  g_assert_cmpint (count_of (fx, "submit"), ==, 0);
  g_assert_true (gst_structure_has_field (r.job.error_details, "http-status"));
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* 401 on the submit itself: one submit seen, nothing created, and the
 * journal forgets it (a rerun may submit). */
static void
test_submit_401 (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Wr2vReference *ref;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  /* a reference by URL: the submit is the first API call */
  req = wr2v_request_new ();
  req->prompt = g_strdup ("Video 1 waves");
  req->duration = 5;
  req->seed = -1;
  ref = wr2v_reference_new (WR2V_REF_VIDEO, 0);
  ref->uri = g_strdup ("https://cdn.example.com/ref.mp4");
  ref->sha256 = g_strdup_printf ("%064x", 7);
  wr2v_request_add_reference (req, ref);
  wr2v_request_number_references (req);

  control (fx, "{\"fault\": \"401\", \"times\": 1}");
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_NOT_AUTHORIZED);
  g_assert_nonnull (strstr (r.error->message, "WAVESPEED_API_KEY"));
  g_assert_cmpint (count_of (fx, "submit"), ==, 1);
  assert_journal (fx, r.job.hash, FALSE, NULL);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* HTTP 200 whose envelope says 401: the envelope wins. */
static void
test_envelope_error (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;
  gint code = 0;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request (fx);
  control (fx, "{\"fault\": \"poll-envelope-401\", \"times\": 1}");
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_NOT_AUTHORIZED);
  g_assert_nonnull (strstr (r.error->message, "invalid key"));
  g_assert_true (gst_structure_get_int (r.job.error_details,
          "provider-code", &code));
  g_assert_cmpint (code, ==, 401);
  g_assert_cmpint (count_of (fx, "submit"), ==, 1);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

static void
test_no_key (Fixture * fx, gconstpointer data)
{
  gchar *saved = g_strdup (g_getenv ("WAVESPEED_API_KEY"));
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  g_unsetenv ("WAVESPEED_API_KEY");
  g_clear_pointer (&fx->settings.api_key, g_free);
  engine = make_engine (fx);
  req = default_request (fx);
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_NO_CREDENTIALS);
  g_assert_nonnull (strstr (r.error->message, "WAVESPEED_API_KEY"));
  g_assert_cmpint (total_requests (fx), ==, 0);
  run_clear (&r);
  if (saved)
    g_setenv ("WAVESPEED_API_KEY", saved, TRUE);
  g_free (saved);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

static void
test_malformed_poll (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;
  gchar *id;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request (fx);
  control (fx, "{\"fault\": \"poll-malformed\", \"times\": 1}");
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_PROTOCOL);
  id = server_job_id (fx);
  g_assert_nonnull (strstr (r.error->message, id));
  assert_journal (fx, r.job.hash, TRUE, id);
  run_clear (&r);

  /* the rerun resumes the same job */
  run_job (fx, engine, req, &r);
  g_assert_no_error (r.error);
  assert_result_is_the_clip (r.path);
  g_assert_cmpint (count_of (fx, "submit"), ==, 1);
  run_clear (&r);
  g_free (id);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* request-timeout is the whole job: uploads that take it all end the job
 * before the submit, and nothing is paid for. */
static void
test_timeout_in_upload (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  fx->settings.request_timeout_s = 1;
  engine = make_engine (fx);
  req = default_request (fx);
  control (fx, "{\"fault\": \"upload-slow\", \"seconds\": 2, \"times\": 1}");
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_TIMEOUT);
  g_assert_nonnull (strstr (r.error->message, "request-timeout (1 s)"));
  g_assert_nonnull (strstr (r.error->message, "nothing was submitted"));
  g_assert_cmpint (count_of (fx, "submit"), ==, 0);
  assert_journal (fx, r.job.hash, FALSE, NULL);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

static void
test_submit_malformed (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request (fx);
  control (fx, "{\"fault\": \"submit-malformed\", \"times\": 1}");
  run_job (fx, engine, req, &r);
  /* a 200 with garbage: the job most likely exists */
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_MAYBE_SUBMITTED);
  g_assert_cmpint (count_of (fx, "submit"), ==, 1);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

typedef struct
{
  gint code;
  const gchar *status;
  const gchar *words;           /* what the message must say */
} FailCase;

static const FailCase fail_cases[] = {
  {1200, "failed", "content moderation"},
  {1400, "failed", "missing a parameter"},
  {1401, "failed", "invalid parameter"},
  {1402, "failed", "not reachable"},
  {1403, "failed", "run again"},
  {1405, "failed", "run again"},
  {5000, "failed", "try again later"},
  {5003, "failed", "try again later"},
  {5004, "timeout", "try again later"},
  {1403, "cancelled", "cancelled"},
};

static void
test_job_fails (Fixture * fx, gconstpointer data)
{
  const FailCase *fc = data;
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;
  gchar *json, *id;
  gint code = 0;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request (fx);
  json = g_strdup_printf ("{\"fault\": \"job-fail\", \"code\": %d, "
      "\"status\": \"%s\"}", fc->code, fc->status);
  control (fx, json);
  g_free (json);
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_JOB_FAILED);
  g_assert_nonnull (strstr (r.error->message, fc->words));
  id = server_job_id (fx);
  g_assert_nonnull (strstr (r.error->message, id));

  g_assert_nonnull (r.job.error_details);
  g_assert_cmpstr (gst_structure_get_string (r.job.error_details, "job-id"),
      ==, id);
  g_assert_true (gst_structure_get_int (r.job.error_details,
          "provider-code", &code));
  g_assert_cmpint (code, ==, fc->code);
  g_assert_nonnull (gst_structure_get_string (r.job.error_details,
          "provider-message"));
  g_assert_true (gst_structure_has_field (r.job.error_details, "http-status"));
  g_assert_cmpint (count_of (fx, "submit"), ==, 1);
  /* the job is over: the journal lets a rerun submit afresh */
  assert_journal (fx, r.job.hash, FALSE, NULL);

  if (fc->code == 1402) {
    /* the uploaded URLs are not offered again: the rerun uploads anew */
    run_clear (&r);
    control (fx, "{\"clear_fault\": \"job-fail\"}");
    run_job (fx, engine, req, &r);
    g_assert_no_error (r.error);
    g_assert_cmpint (count_of (fx, "upload"), ==, 6);
    g_assert_cmpint (count_of (fx, "submit"), ==, 2);
  }
  run_clear (&r);
  g_free (id);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* The submit was read but never answered: a paid job may exist. */
static void
test_submit_hang (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;
  gint64 start;

  SKIP_IF_NO_SETUP (fx);
  fx->settings.request_timeout_s = SHORT_TIMEOUT_S (2);
  engine = make_engine (fx);
  req = default_request (fx);
  control (fx, "{\"fault\": \"submit-hang\"}");
  start = g_get_monotonic_time ();
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_MAYBE_SUBMITTED);
  g_assert_cmpint (r.t_end - start, <, WR2V_TEST_TIME (10 * G_USEC_PER_SEC));
  g_assert_nonnull (strstr (r.error->message, "paid job"));
  g_assert_nonnull (strstr (r.error->message, "dashboard"));
  g_assert_nonnull (strstr (r.error->message, r.job.hash));
  g_assert_cmpint (count_of (fx, "submit"), ==, 1);
  run_clear (&r);

  /* the next run does not submit again */
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_MAYBE_SUBMITTED);
  g_assert_cmpint (count_of (fx, "submit"), ==, 1);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* The client port of the @n-th request to @route (from 0): requests on one
 * kept-alive connection share it. */
static gint64
peer_port (Fixture * fx, const gchar * route, guint n)
{
  JsonNode *s = stats (fx);
  JsonArray *reqs = json_object_get_array_member (json_node_get_object (s),
      "requests");
  gint64 port = -1;
  guint i;

  for (i = 0; i < json_array_get_length (reqs) && port < 0; i++) {
    JsonObject *o = json_array_get_object_element (reqs, i);

    if (g_strcmp0 (json_object_get_string_member (o, "route"), route) == 0 &&
        n-- == 0)
      port = json_object_get_int_member (o, "peer_port");
  }
  json_node_unref (s);
  g_assert_cmpint (port, >, 0);
  return port;
}

/* The server reads the submit and closes the connection without a word.
 * On a kept-alive connection libcurl would send the POST again by itself
 * ("Connection died, retrying a fresh connect"): a second paid job. The
 * submit goes on a fresh connection instead, is sent once, and the job
 * may exist: the next run refuses to submit again. */
static void
test_submit_drop (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request (fx);
  control (fx, "{\"fault\": \"submit-drop\"}");
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_MAYBE_SUBMITTED);
  g_assert_nonnull (strstr (r.error->message, "paid job"));
  g_assert_nonnull (strstr (r.error->message, r.job.hash));
  g_assert_cmpint (count_of (fx, "submit"), ==, 1);
  /* the uploads shared a kept-alive connection the submit could reuse */
  g_assert_cmpint (count_of (fx, "upload"), ==, 3);
  g_assert_cmpint (peer_port (fx, "upload", 0), ==, peer_port (fx, "upload",
          2));
  g_assert_cmpint (peer_port (fx, "submit", 0), !=, peer_port (fx, "upload",
          2));
  assert_journal (fx, r.job.hash, TRUE, NULL);
  run_clear (&r);

  /* the next run does not submit again */
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_MAYBE_SUBMITTED);
  g_assert_cmpint (count_of (fx, "submit"), ==, 1);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* A 5xx answer to the submit, as the HTTP status or the envelope's code:
 * nothing says that no job was created, so it may exist and the next run
 * does not submit again. */
static void
test_submit_5xx (Fixture * fx, gconstpointer data)
{
  const gchar *fault = data;
  Wr2vEngine *engine;
  Wr2vRequest *req;
  gchar *json;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request (fx);
  json = g_strdup_printf ("{\"fault\": \"%s\", \"times\": 1}", fault);
  control (fx, json);
  g_free (json);
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_MAYBE_SUBMITTED);
  g_assert_nonnull (strstr (r.error->message, "paid job"));
  g_assert_null (strstr (r.error->message, "no job was created"));
  g_assert_cmpint (count_of (fx, "submit"), ==, 1);
  assert_journal (fx, r.job.hash, TRUE, NULL);
  run_clear (&r);

  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_MAYBE_SUBMITTED);
  g_assert_cmpint (count_of (fx, "submit"), ==, 1);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

static void
test_download_too_big (Fixture * fx, gconstpointer data)
{
  gboolean chunked = GPOINTER_TO_INT (data);
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  fx->settings.max_download_bytes = 1000;
  engine = make_engine (fx);
  req = default_request (fx);
  if (chunked)
    control (fx, "{\"fault\": \"download-chunked\"}");
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (r.error->message, "larger than the limit"));
  g_assert_cmpint (count_of (fx, "download"), ==, 1);
  g_assert_cmpint (count_of (fx, "submit"), ==, 1);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

static void
test_output_plain_http (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request (fx);
  control (fx, "{\"fault\": \"download-redirect-http\"}");
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (r.error->message, "loopback"));
  g_assert_cmpint (count_of (fx, "download"), ==, 0);
  run_clear (&r);

  /* a redirect to plain http elsewhere is refused too (the rerun resumes
   * the same job) */
  control (fx, "{\"clear_fault\": \"download-redirect-http\"}");
  control (fx, "{\"fault\": \"download-redirect\", "
      "\"to\": \"http://example.invalid/x.mp4\"}");
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (r.error->message, "redirect"));
  g_assert_cmpint (count_of (fx, "redirect"), ==, 1);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* A submit that could not connect created nothing: a plain network
 * error, and the journal lets the next run submit. */
static void
test_submit_unreachable (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Wr2vReference *ref;
  GSocket *sock;
  GSocketAddress *addr;
  GInetAddress *lo;
  GError *err = NULL;
  guint port;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  /* a loopback port nobody listens on */
  sock = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
      G_SOCKET_PROTOCOL_TCP, &err);
  g_assert_no_error (err);
  lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  addr = g_inet_socket_address_new (lo, 0);
  g_assert_true (g_socket_bind (sock, addr, FALSE, &err));
  g_object_unref (addr);
  addr = g_socket_get_local_address (sock, &err);
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (addr));
  g_object_unref (addr);
  g_object_unref (lo);
  g_socket_close (sock, NULL);
  g_object_unref (sock);

  g_free (fx->settings.api_url);
  fx->settings.api_url = g_strdup_printf ("http://127.0.0.1:%u", port);
  engine = make_engine (fx);
  req = wr2v_request_new ();
  req->prompt = g_strdup ("Video 1 waves");
  req->duration = 5;
  req->seed = -1;
  ref = wr2v_reference_new (WR2V_REF_VIDEO, 0);
  ref->uri = g_strdup ("https://cdn.example.com/ref.mp4");
  ref->sha256 = g_strdup_printf ("%064x", 7);
  wr2v_request_add_reference (req, ref);
  wr2v_request_number_references (req);

  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_NETWORK);
  assert_journal (fx, r.job.hash, FALSE, NULL);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

static void
test_api_url_refused (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  g_free (fx->settings.api_url);
  fx->settings.api_url = g_strdup ("http://api.example.invalid");
  engine = make_engine (fx);
  req = default_request (fx);
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST);
  g_assert_nonnull (strstr (r.error->message, "api-url"));
  g_assert_nonnull (strstr (r.error->message, "https"));
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* --- cancellation: every phase stops at once -------------------------- */

typedef struct
{
  Fixture *fx;
  Wr2vPhase phase;
  guint delay_ms;
  gint64 t_cancel;
} CancelCtx;

static gpointer
cancel_thread (gpointer data)
{
  CancelCtx *c = data;
  Fixture *fx = c->fx;
  gint64 until = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

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

static void
test_cancel (Fixture * fx, gconstpointer data)
{
  Wr2vPhase phase = GPOINTER_TO_INT (data);
  CancelCtx c = { fx, phase, 300, 0 };
  Wr2vEngine *engine;
  Wr2vRequest *req;
  GThread *t;
  Run r;
  gint64 latency;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request (fx);
  switch (phase) {
    case WR2V_PHASE_UPLOAD:
      control (fx, "{\"fault\": \"upload-slow\", \"seconds\": 30}");
      break;
    case WR2V_PHASE_SUBMIT:
      /* the first poll hangs */
      control (fx, "{\"fault\": \"poll-slow\", \"seconds\": 30}");
      c.delay_ms = 500;
      break;
    case WR2V_PHASE_DOWNLOAD:
      control (fx, "{\"fault\": \"download-stall\", \"seconds\": 30}");
      break;
    default:
      g_assert_not_reached ();
  }

  t = g_thread_new ("canceller", cancel_thread, &c);
  run_job (fx, engine, req, &r);
  g_thread_join (t);
  g_assert_error (r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  latency = r.t_end - c.t_cancel;
  g_test_message ("stopped %" G_GINT64_FORMAT " ms after the cancel",
      latency / 1000);
  g_assert_cmpint (latency, <, WR2V_TEST_TIME (G_USEC_PER_SEC));

  if (phase == WR2V_PHASE_UPLOAD) {
    g_assert_cmpint (count_of (fx, "submit"), ==, 0);
    assert_journal (fx, r.job.hash, FALSE, NULL);
  } else {
    /* the job is safe in the journal: a rerun resumes it */
    gchar *id = server_job_id (fx);
    g_assert_cmpint (count_of (fx, "submit"), ==, 1);
    assert_journal (fx, r.job.hash, TRUE, id);
    g_free (id);
  }
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* --- no server needed ------------------------------------------------- */

static void
test_check_and_cost (void)
{
  Wr2vEngine *engine = wr2v_engine_new ("wavespeed", NULL, NULL);
  Wr2vRequest *req = wr2v_request_new ();
  Wr2vReference *ref = wr2v_reference_new (WR2V_REF_VIDEO, 0);
  GError *err = NULL;
  gchar *identity;

  g_assert_nonnull (engine);
  /* the element checks the key at READY->PAUSED through key_variable */
  g_assert_cmpstr (engine->klass->key_variable, ==, "WAVESPEED_API_KEY");
  g_assert_cmpuint (engine->klass->default_timeout_s, ==, 1800);
  g_assert_null (engine->klass->cancel_remote);
  req->prompt = g_strdup ("Video 1 spins");
  req->seed = -1;
  ref->uri = g_strdup ("https://cdn.example.com/a.mp4");
  ref->sha256 = g_strdup_printf ("%064x", 1);
  wr2v_request_add_reference (req, ref);
  wr2v_request_number_references (req);

  req->duration = 7;
  g_assert_false (wr2v_engine_check (engine, req, &err));
  g_assert_nonnull (err);
  g_assert_nonnull (strstr (err->message, "5, 10 or 15"));
  g_clear_error (&err);

  req->duration = 5;
  req->resolution = WR2V_RESOLUTION_720P;
  g_assert_true (wr2v_engine_check (engine, req, &err));
  g_assert_no_error (err);
  g_assert_cmpfloat_with_epsilon (wr2v_engine_estimate_cost (engine, req),
      1.00, 1e-9);
  req->resolution = WR2V_RESOLUTION_1080P;
  g_assert_cmpfloat_with_epsilon (wr2v_engine_estimate_cost (engine, req),
      1.60, 1e-9);
  req->duration = 10;
  g_assert_true (wr2v_engine_check (engine, req, NULL));
  g_assert_cmpfloat_with_epsilon (wr2v_engine_estimate_cost (engine, req),
      2.40, 1e-9);
  req->duration = 15;
  req->resolution = WR2V_RESOLUTION_720P;
  req->aspect_ratio = WR2V_ASPECT_3_4;
  req->aspect_ratio_set = TRUE;
  g_assert_true (wr2v_engine_check (engine, req, NULL));
  g_assert_cmpfloat_with_epsilon (wr2v_engine_estimate_cost (engine, req),
      2.00, 1e-9);

  identity = engine->klass->identity (engine);
  g_assert_cmpstr (identity, ==, MODEL);
  g_free (identity);

  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

static void
test_url_policy (void)
{
  static const struct
  {
    const gchar *url;
    gboolean ok;
  } cases[] = {
    {"https://api.wavespeed.ai/api/v3/x", TRUE},
    {"HTTPS://api.wavespeed.ai", TRUE},
    {"http://127.0.0.1:8080/x", TRUE},
    {"http://127.9.8.7/x", TRUE},
    {"http://[::1]:9000/x", TRUE},
    {"http://localhost:1234/", TRUE},
    {"http://api.wavespeed.ai/", FALSE},
    {"http://127.0.0.1.example.com/", FALSE},
    {"http://10.0.0.1/", FALSE},
    {"http://[::ffff:8.8.8.8]/", FALSE},
    {"ftp://127.0.0.1/x", FALSE},
    {"file:///etc/passwd", FALSE},
    {"not a url", FALSE},
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (cases); i++) {
    GError *err = NULL;
    gboolean ok = wr2v_http_url_allowed (cases[i].url, &err);

    g_test_message ("%s -> %s", cases[i].url, ok ? "allowed" : err->message);
    g_assert_cmpint (ok, ==, cases[i].ok);
    if (!ok)
      g_assert_error (err, WR2V_ERROR, WR2V_ERROR_PROTOCOL);
    g_clear_error (&err);
  }

  {
    gchar *shown = wr2v_http_url_for_log
        ("https://user:pw@cdn.example.com/a/b.mp4?Signature=abc#frag");
    g_assert_cmpstr (shown, ==, "https://cdn.example.com/a/b.mp4");
    g_free (shown);
  }
}

static void
test_json_limits (void)
{
  GString *deep = g_string_new (NULL);
  GError *err = NULL;
  GBytes *b;
  JsonNode *n;
  guint i;

  for (i = 0; i < 100; i++)
    g_string_append_c (deep, '[');
  for (i = 0; i < 100; i++)
    g_string_append_c (deep, ']');
  b = g_bytes_new (deep->str, deep->len);
  n = wr2v_http_parse_json (b, &err);
  g_assert_null (n);
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_PROTOCOL);
  g_clear_error (&err);
  g_bytes_unref (b);

  /* brackets inside strings don't count */
  g_string_assign (deep, "{\"a\": \"");
  for (i = 0; i < 100; i++)
    g_string_append (deep, "[{");
  g_string_append (deep, "\\\"\", \"b\": [[[1]]]}");
  b = g_bytes_new (deep->str, deep->len);
  n = wr2v_http_parse_json (b, &err);
  g_assert_no_error (err);
  g_assert_nonnull (n);
  json_node_unref (n);
  g_bytes_unref (b);

  g_assert_true (wr2v_http_json_depth_ok ("[[[]]]", 6, 3));
  g_assert_false (wr2v_http_json_depth_ok ("[[[[]]]]", 8, 3));

  b = g_bytes_new_take (g_malloc0 (WR2V_HTTP_JSON_MAX_BYTES + 1),
      WR2V_HTTP_JSON_MAX_BYTES + 1);
  n = wr2v_http_parse_json (b, &err);
  g_assert_null (n);
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_PROTOCOL);
  g_clear_error (&err);
  g_bytes_unref (b);

  b = g_bytes_new_static ("{\"a\":", 5);
  n = wr2v_http_parse_json (b, &err);
  g_assert_null (n);
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_PROTOCOL);
  g_clear_error (&err);
  g_bytes_unref (b);
  g_string_free (deep, TRUE);
}

/* The spy that the fixtures rely on does see a key in a log line. */
static void
test_key_spy_works (void)
{
  GstDebugCategory *cat = NULL;

  GST_DEBUG_CATEGORY_INIT (cat, "wanr2vtest", 0, "test-wavespeed");
  g_assert_cmpint (g_atomic_int_get (&key_leaks), ==, 0);
  GST_CAT_LOG (cat, "a line with %s in it", KEY);
  g_assert_cmpint (g_atomic_int_get (&key_leaks), ==, 1);
  g_atomic_int_set (&key_leaks, 0);
}

/* Only GETs are retried: a retried POST could pay twice. */
static void
test_retry_refuses_post (void)
{
  Wr2vHttp *http = wr2v_http_new ();
  Wr2vHttpRequest req = { 0, };
  Wr2vHttpResponse resp = { 0, };
  GError *err = NULL;

  req.method = WR2V_HTTP_POST;
  req.url = "http://127.0.0.1:9/";
  g_assert_false (wr2v_http_perform_retry (http, &req, NULL, &resp, &err));
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_INTERNAL);
  g_clear_error (&err);
  wr2v_http_response_clear (&resp);
  wr2v_http_free (http);
}

/* --- the real service --------------------------------------------------- */

static void
run_pipeline (const gchar * description)
{
  GError *err = NULL;
  GstElement *p = gst_parse_launch (description, &err);
  GstBus *bus;
  GstMessage *msg;

  g_assert_no_error (err);
  bus = gst_element_get_bus (p);
  gst_element_set_state (p, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gst_message_parse_error (msg, &err, NULL);
    g_assert_no_error (err);
  }
  gst_message_unref (msg);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
}

static gboolean
try_make_result (const gchar * path)
{
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=30 ! "
      "video/x-raw,width=320,height=240,framerate=30/1 ! x264enc ! "
      "mp4mux ! filesink location=\"%s\"", path);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstBus *bus;
  GstMessage *msg;
  gboolean ok;

  g_free (desc);
  if (!p)
    return FALSE;
  bus = gst_element_get_bus (p);
  gst_element_set_state (p, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  ok = msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS;
  if (msg)
    gst_message_unref (msg);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
  return ok;
}

/* One real job (5 s, 720p: USD 1.00 at the time of writing). */
static void
test_real_service (void)
{
  const gchar *key = g_getenv ("WAVESPEED_API_KEY");
  Wr2vEngineSettings settings = { 0, };
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Wr2vReference *ref;
  Wr2vStore *store;
  Wr2vJob job;
  GError *err = NULL;
  gchar *dir, *video, *image, *desc, *path;

  if (!key || !*key) {
    g_test_skip ("WAVESPEED_API_KEY not set");
    return;
  }
  dir = g_build_filename (tmp_root, "real", NULL);
  g_mkdir_with_parents (dir, 0700);
  video = g_build_filename (dir, "ref.mp4", NULL);
  image = g_build_filename (dir, "ref.png", NULL);
  desc = g_strdup_printf ("videotestsrc pattern=ball num-buffers=90 ! "
      "video/x-raw,width=640,height=360,framerate=30/1 ! x264enc ! mp4mux ! "
      "filesink location=\"%s\"", video);
  run_pipeline (desc);
  g_free (desc);
  desc = g_strdup_printf ("videotestsrc pattern=smpte num-buffers=1 ! "
      "video/x-raw,width=512,height=512 ! pngenc ! filesink location=\"%s\"",
      image);
  run_pipeline (desc);
  g_free (desc);

  /* the key comes from the environment, as in production */
  settings.request_timeout_s = 30 * 60;
  settings.poll_interval_ms = 2000;
  settings.poll_interval_max_ms = 10000;
  engine = wr2v_engine_new ("wavespeed", &settings, &err);
  g_assert_no_error (err);
  store = wr2v_store_open (dir, &err);
  g_assert_no_error (err);

  req = wr2v_request_new ();
  req->prompt = g_strdup ("The ball from Video 1 bounces in front of the "
      "test card from Image 2");
  req->duration = 5;
  req->resolution = WR2V_RESOLUTION_720P;
  req->seed = -1;
  ref = wr2v_reference_new (WR2V_REF_VIDEO, 0);
  ref->path = g_strdup (video);
  ref->mime = g_strdup ("video/mp4");
  ref->sha256 = wr2v_file_sha256 (video, NULL);
  wr2v_request_add_reference (req, ref);
  ref = wr2v_reference_new (WR2V_REF_IMAGE, 0);
  ref->path = g_strdup (image);
  ref->mime = g_strdup ("image/png");
  ref->sha256 = wr2v_file_sha256 (image, NULL);
  wr2v_request_add_reference (req, ref);
  wr2v_request_number_references (req);
  g_assert_true (wr2v_engine_check (engine, req, &err));
  g_assert_no_error (err);

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
  wr2v_request_free (req);
  wr2v_store_free (store);
  wr2v_engine_free (engine);
  g_free (video);
  g_free (image);
  g_free (dir);
}

/* ------------------------------------------------------------------------ */

static void
rm_rf (const gchar * path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  const gchar *name;

  if (d) {
    while ((name = g_dir_read_name (d))) {
      gchar *child = g_build_filename (path, name, NULL);
      rm_rf (child);
      g_free (child);
    }
    g_dir_close (d);
  }
  g_remove (path);
}

#define ADD(name, data, func) \
  g_test_add ("/wavespeed/" name, Fixture, data, fixture_setup, func, \
      fixture_teardown)

int
main (int argc, char **argv)
{
  const gchar *srcdir;
  gint ret;
  guint i;

  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);

  /* every log line at every level goes through the key spy */
  if (!g_getenv ("WANR2V_TEST_VERBOSE"))
    gst_debug_remove_log_function (gst_debug_log_default);
  gst_debug_add_log_function (gst_log_spy, NULL, NULL);
  gst_debug_set_active (TRUE);
  gst_debug_set_threshold_for_name ("wanr2v*", GST_LEVEL_MEMDUMP);
  g_log_set_handler ("wanr2v", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL |
      G_LOG_FLAG_RECURSION, glib_log_spy, NULL);

  tmp_root = g_dir_make_tmp ("wanr2v-wavespeed-XXXXXX", NULL);
  g_assert_nonnull (tmp_root);
  result_mp4 = g_build_filename (tmp_root, "result.mp4", NULL);
  have_result = try_make_result (result_mp4);

  server_script = g_strdup (g_getenv ("WANR2V_FAKE_WAVESPEED"));
  srcdir = g_getenv ("WANR2V_TESTS_SRCDIR");
  if (!server_script && srcdir)
    server_script = g_build_filename (srcdir, "fake-wavespeed.py", NULL);
  if (!server_script)
    server_script = g_strdup ("fake-wavespeed.py");
  python = g_strdup (g_getenv ("WANR2V_PYTHON") ? g_getenv ("WANR2V_PYTHON")
      : "/usr/bin/python3");

  g_test_add_func ("/wavespeed/check-and-cost", test_check_and_cost);
  g_test_add_func ("/wavespeed/http/url-policy", test_url_policy);
  g_test_add_func ("/wavespeed/http/json-limits", test_json_limits);
  g_test_add_func ("/wavespeed/key-spy-works", test_key_spy_works);
  g_test_add_func ("/wavespeed/http/retry-refuses-post",
      test_retry_refuses_post);

  ADD ("happy-path", NULL, test_happy_path);
  ADD ("options", NULL, test_options);
  ADD ("upload-reuse", NULL, test_upload_reuse);
  ADD ("uri-reference", NULL, test_uri_reference);
  ADD ("poll-500", GUINT_TO_POINTER (500), test_poll_5xx);
  ADD ("poll-502", GUINT_TO_POINTER (502), test_poll_5xx);
  ADD ("poll-503", GUINT_TO_POINTER (503), test_poll_5xx);
  ADD ("poll-504", GUINT_TO_POINTER (504), test_poll_5xx);
  ADD ("poll-429", NULL, test_poll_429);
  ADD ("slow-answers", NULL, test_slow_answers);
  ADD ("upload-503", NULL, test_upload_503);
  ADD ("download-reset", NULL, test_download_reset);
  ADD ("download-redirect", NULL, test_download_redirect);
  ADD ("download-truncated", NULL, test_download_truncated);
  ADD ("never-finishes-then-resume", NULL, test_never_finishes_then_resume);
  ADD ("timeout-in-upload", NULL, test_timeout_in_upload);
  ADD ("resume-from-journal", NULL, test_resume_from_journal);
  ADD ("unknown-job", NULL, test_unknown_job);
  ADD ("wrong-key", NULL, test_wrong_key);
  ADD ("submit-401", NULL, test_submit_401);
  ADD ("no-key", NULL, test_no_key);
  ADD ("envelope-error", NULL, test_envelope_error);
  ADD ("malformed-poll", NULL, test_malformed_poll);
  ADD ("submit-malformed", NULL, test_submit_malformed);
  ADD ("submit-hang", NULL, test_submit_hang);
  ADD ("submit-drop", NULL, test_submit_drop);
  ADD ("submit-500", "submit-500", test_submit_5xx);
  ADD ("submit-503", "submit-503", test_submit_5xx);
  ADD ("submit-envelope-500", "submit-envelope-500", test_submit_5xx);
  /* not a 4xx refusal either: the job may exist */
  ADD ("submit-202", "submit-202", test_submit_5xx);
  ADD ("download-too-big", GINT_TO_POINTER (FALSE), test_download_too_big);
  ADD ("download-too-big-chunked", GINT_TO_POINTER (TRUE),
      test_download_too_big);
  ADD ("output-plain-http", NULL, test_output_plain_http);
  ADD ("api-url-refused", NULL, test_api_url_refused);
  ADD ("submit-unreachable", NULL, test_submit_unreachable);
  ADD ("cancel/upload", GINT_TO_POINTER (WR2V_PHASE_UPLOAD), test_cancel);
  ADD ("cancel/poll", GINT_TO_POINTER (WR2V_PHASE_SUBMIT), test_cancel);
  ADD ("cancel/download", GINT_TO_POINTER (WR2V_PHASE_DOWNLOAD), test_cancel);
  for (i = 0; i < G_N_ELEMENTS (fail_cases); i++) {
    gchar *name = g_strdup_printf ("/wavespeed/job-fails/%s-%d",
        fail_cases[i].status, fail_cases[i].code);
    g_test_add (name, Fixture, &fail_cases[i], fixture_setup,
        test_job_fails, fixture_teardown);
    g_free (name);
  }
  g_test_add_func ("/wavespeed/real-service", test_real_service);

  ret = g_test_run ();

  rm_rf (tmp_root);
  g_free (tmp_root);
  g_free (result_mp4);
  g_free (server_script);
  g_free (python);
  return ret;
}
