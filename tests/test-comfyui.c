/* test-comfyui.c: the ComfyUI engine against a fake ComfyUI
 * (tests/fake-comfyui.py), driven through the generic job driver
 * wr2v_job_run() with a result store in a temporary directory.
 *
 * References are real media (two H.264 MP4s and a PNG made with
 * GStreamer), so that composing them into one reference image runs for
 * real. Every scenario checks how many /prompt requests the server saw: a
 * submit happens once.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include "wr2v-engine.h"
#include "wr2v-error.h"
#include "wr2v-http.h"
#include "wr2v-prompt.h"
#include "wr2v-request.h"
#include "wr2v-store.h"
#include "wr2v-test-time.h"
#include "wr2v-websocket.h"

/* A short request-timeout (s), scaled like WR2V_TEST_TIME: it also counts
 * preparing the references, slower on a sanitizer or valgrind run. */
#define SHORT_TIMEOUT_S(s) \
  ((guint) (WR2V_TEST_TIME ((gint64) (s) * G_USEC_PER_SEC) / G_USEC_PER_SEC))

#define PROMPT "Video 1 dances with Video 2 while holding Image 3"
#define PROMPT_TRANSLATED "reference subject 1 dances with reference " \
  "subject 2 while holding reference subject 3"

static gchar *tmp_root;
static gchar *result_mp4;
static gchar *ref_video[2];
static gchar *ref_image;
static gchar *server_script;
static gchar *python;
static gboolean have_media;

/* --- fixture: a fake server, a store, an engine's settings ---------- */

typedef struct
{
  gchar *dir;
  gchar *store_dir;
  GSubprocess *server;
  gchar *base;
  Wr2vStore *store;
  Wr2vHttp *http;
  GCancellable *cancellable;
  Wr2vEngineSettings settings;

  GMutex lock;
  GCond cond;
  guint phases_seen;            /* bit per Wr2vPhase */
  GPtrArray *phase_texts;
  GPtrArray *warnings;          /* "wanr2v/warning" messages */
  GArray *steps;                /* "wanr2v/status": step, steps pairs */
  guint submit_threads;         /* threads when the submit began */
  guint max_threads;            /* the most seen at a "wanr2v/status" */
} Fixture;

static guint
count_threads (void)
{
  GDir *d = g_dir_open ("/proc/self/task", 0, NULL);
  guint n = 0;

  while (d && g_dir_read_name (d))
    n++;
  if (d)
    g_dir_close (d);
  return n;
}

/* The fake server goes when the test dies, also on an assertion. */
static void
child_setup (gpointer data)
{
#ifdef __linux__
  prctl (PR_SET_PDEATHSIG, SIGTERM);
#endif
}

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
  fx->warnings = g_ptr_array_new_with_free_func (g_free);
  fx->steps = g_array_new (FALSE, FALSE, sizeof (gint));
  if (!have_media)
    return;

  fx->dir = g_build_filename (tmp_root, "case-XXXXXX", NULL);
  g_assert_nonnull (g_mkdtemp (fx->dir));
  fx->store_dir = g_build_filename (fx->dir, "store", NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  g_subprocess_launcher_set_child_setup (launcher, child_setup, NULL, NULL);
  /* WANR2V_TEST_KEEP_UPLOADS=DIR: look at the composed images */
  if (g_getenv ("WANR2V_TEST_KEEP_UPLOADS"))
    fx->server = g_subprocess_launcher_spawn (launcher, &err, python,
        server_script, "--result-mp4", result_mp4, "--save-uploads",
        g_getenv ("WANR2V_TEST_KEEP_UPLOADS"), NULL);
  else
    fx->server = g_subprocess_launcher_spawn (launcher, &err, python,
        server_script, "--result-mp4", result_mp4, NULL);
  g_assert_no_error (err);
  g_object_unref (launcher);
  in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (fx->server));
  line = g_data_input_stream_read_line (in, NULL, NULL, &err);
  g_assert_no_error (err);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "PORT "));
  fx->base = g_strdup_printf ("http://127.0.0.1:%d", atoi (line + 5));
  g_free (line);
  g_object_unref (in);

  fx->store = wr2v_store_open (fx->store_dir, &err);
  g_assert_no_error (err);
  fx->http = wr2v_http_new ();
  fx->cancellable = g_cancellable_new ();

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
  wr2v_store_free (fx->store);
  wr2v_http_free (fx->http);
  g_clear_object (&fx->cancellable);
  wr2v_engine_settings_clear (&fx->settings);
  g_free (fx->base);
  g_free (fx->store_dir);
  g_free (fx->dir);
  g_ptr_array_unref (fx->phase_texts);
  g_ptr_array_unref (fx->warnings);
  g_array_unref (fx->steps);
  g_mutex_clear (&fx->lock);
  g_cond_clear (&fx->cond);
}

#define SKIP_IF_NO_SETUP(fx) G_STMT_START {                             \
  if (!(fx)->server) {                                                  \
    g_test_skip ("could not make the test media (x264enc, pngenc?)");  \
    return;                                                             \
  }                                                                     \
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
  gsize len;
  gchar *text;

  req.method = WR2V_HTTP_GET;
  req.url = url;
  req.max_body_bytes = 64 * 1024 * 1024;
  g_assert_true (wr2v_http_perform (fx->http, &req, &resp, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (resp.status, ==, 200);
  text = g_strndup (g_bytes_get_data (resp.body, &len),
      g_bytes_get_size (resp.body));
  node = json_from_string (text, &err);
  g_assert_no_error (err);
  g_free (text);
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

static guint
array_len (Fixture * fx, const gchar * member)
{
  JsonNode *s = stats (fx);
  guint n = json_array_get_length (json_object_get_array_member
      (json_node_get_object (s), member));

  json_node_unref (s);
  return n;
}

/* Whether the string array @member of the stats holds @value. */
static gboolean
stats_list_has (Fixture * fx, const gchar * member, const gchar * value)
{
  JsonNode *s = stats (fx);
  JsonArray *a = json_object_get_array_member (json_node_get_object (s),
      member);
  gboolean found = FALSE;
  guint i;

  for (i = 0; i < json_array_get_length (a); i++)
    found |= g_strcmp0 (json_array_get_string_element (a, i), value) == 0;
  json_node_unref (s);
  return found;
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

/* --- requests --------------------------------------------------------- */

static void
add_ref (Wr2vRequest * req, Wr2vRefKind kind, guint pad, const gchar * path)
{
  Wr2vReference *ref = wr2v_reference_new (kind, pad);
  GError *err = NULL;

  ref->path = g_strdup (path);
  ref->mime = g_strdup (kind == WR2V_REF_VIDEO ? "video/mp4" : "image/png");
  ref->sha256 = wr2v_file_sha256 (path, &err);
  g_assert_no_error (err);
  wr2v_request_add_reference (req, ref);
}

/* Two videos and an image, 5 s, 720p, 16:9. */
static Wr2vRequest *
default_request (void)
{
  Wr2vRequest *req = wr2v_request_new ();

  req->prompt = g_strdup (PROMPT);
  req->duration = 5;
  req->resolution = WR2V_RESOLUTION_720P;
  req->seed = -1;
  add_ref (req, WR2V_REF_VIDEO, 0, ref_video[0]);
  add_ref (req, WR2V_REF_VIDEO, 1, ref_video[1]);
  add_ref (req, WR2V_REF_IMAGE, 0, ref_image);
  wr2v_request_number_references (req);
  return req;
}

static Wr2vEngine *
make_engine (Fixture * fx)
{
  GError *err = NULL;
  Wr2vEngine *engine = wr2v_engine_new ("comfyui", &fx->settings, &err);

  g_assert_no_error (err);
  g_assert_nonnull (engine);
  return engine;
}

static gchar *
write_workflow (const gchar * dir, const gchar * name, const gchar * json)
{
  gchar *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, json, -1, NULL));
  return path;
}

/* --- running a job ---------------------------------------------------- */

static void
on_phase (gpointer user_data, Wr2vPhase phase, const gchar * text)
{
  Fixture *fx = user_data;

  guint threads = phase == WR2V_PHASE_SUBMIT ? count_threads () : 0;

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
  Fixture *fx = user_data;

  if (gst_structure_has_name (facts, "wanr2v/warning")) {
    g_mutex_lock (&fx->lock);
    g_ptr_array_add (fx->warnings,
        g_strdup (gst_structure_get_string (facts, "message")));
    g_mutex_unlock (&fx->lock);
  } else if (gst_structure_has_name (facts, "wanr2v/status")) {
    gint step[2] = { -1, -1 };

    g_assert_true (gst_structure_get_int (facts, "step", &step[0]));
    g_assert_true (gst_structure_get_int (facts, "steps", &step[1]));
    guint threads = count_threads ();


    g_mutex_lock (&fx->lock);
    g_array_append_vals (fx->steps, step, 2);
    fx->max_threads = MAX (fx->max_threads, threads);
    g_mutex_unlock (&fx->lock);
  }
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
  if (!wr2v_engine_check (engine, req, &r->error)) {
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
    g_assert_null (r->path);
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

/* Nothing left in the store's tmp/ (composed images, partial clips). */
static void
assert_tmp_empty (Fixture * fx)
{
  gchar *tmp = g_build_filename (fx->store_dir, "tmp", NULL);
  GDir *d = g_dir_open (tmp, 0, NULL);

  g_assert_nonnull (d);
  g_assert_null (g_dir_read_name (d));
  g_dir_close (d);
  g_free (tmp);
}

/* The graph of the last /prompt. Unref the returned stats node. */
static JsonNode *
last_graph (Fixture * fx, JsonObject ** graph, const gchar ** client_id)
{
  JsonNode *s = stats (fx);
  JsonArray *prompts = json_object_get_array_member (json_node_get_object
      (s), "prompts");
  guint n = json_array_get_length (prompts);
  JsonObject *body;

  g_assert_cmpuint (n, >=, 1);
  body = json_array_get_object_element (prompts, n - 1);
  *graph = json_object_get_object_member (body, "prompt");
  if (client_id)
    *client_id = json_object_get_string_member (body, "client_id");
  return s;
}

static JsonObject *
inputs_of (JsonObject * graph, const gchar * node)
{
  return json_object_get_object_member (json_object_get_object_member (graph,
          node), "inputs");
}

/* --- no server needed ------------------------------------------------- */

static gchar *
file_sha256 (const gchar * path)
{
  gchar *data = NULL, *sha;
  gsize len = 0;

  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  sha = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (guchar *) data, len);
  g_free (data);
  return sha;
}

static void
expect_check_error (Wr2vEngineSettings * s, Wr2vRequest * req, gint code,
    const gchar * words)
{
  Wr2vEngine *engine = wr2v_engine_new ("comfyui", s, NULL);
  GError *err = NULL;

  g_assert_false (wr2v_engine_check (engine, req, &err));
  g_assert_nonnull (err);
  g_test_message ("refused: %s", err->message);
  g_assert_error (err, WR2V_ERROR, code);
  g_assert_nonnull (strstr (err->message, words));
  g_error_free (err);
  wr2v_engine_free (engine);
}

static void
test_check (void)
{
  Wr2vEngineSettings s = { 0, };
  Wr2vEngine *engine;
  Wr2vRequest *req;
  GError *err = NULL;
  gchar *identity, *sha, *path, *id2;

  if (!have_media) {
    g_test_skip ("no test media");
    return;
  }
  engine = wr2v_engine_new ("comfyui", NULL, &err);
  g_assert_no_error (err);
  g_assert_null (engine->klass->key_variable);
  g_assert_cmpuint (engine->settings.request_timeout_s, ==, 7200);
  req = default_request ();

  /* durations 1..10 */
  req->duration = 1;
  g_assert_true (wr2v_engine_check (engine, req, &err));
  g_assert_no_error (err);
  req->duration = 10;
  g_assert_true (wr2v_engine_check (engine, req, NULL));
  req->duration = 11;
  expect_check_error (NULL, req, WR2V_ERROR_UNSUPPORTED, "1 to 10");
  req->duration = 0;
  expect_check_error (NULL, req, WR2V_ERROR_UNSUPPORTED, "1 to 10");
  req->duration = 5;

  /* free, local */
  g_assert_cmpfloat (wr2v_engine_estimate_cost (engine, req), <, 0.0);

  /* identity: the default workflow's bytes */
  path = g_build_filename (g_getenv ("WANR2V_DATADIR"), "comfyui",
      "wan21-vace-1.3b-r2v.json", NULL);
  sha = file_sha256 (path);
  identity = engine->klass->identity (engine);
  g_assert_cmpstr (identity, ==, sha);
  g_free (identity);
  g_free (sha);
  g_free (path);

  /* another workflow is another identity */
  s.workflow = write_workflow (tmp_root, "custom-id.json",
      "{\"1\": {\"class_type\": \"LoadImage\", \"inputs\": "
      "{\"image\": \"{{reference_image}}\"}}}");
  wr2v_engine_free (engine);
  engine = wr2v_engine_new ("comfyui", &s, NULL);
  g_assert_true (wr2v_engine_check (engine, req, NULL));
  id2 = engine->klass->identity (engine);
  sha = file_sha256 (s.workflow);
  g_assert_cmpstr (id2, ==, sha);
  g_free (id2);
  g_free (sha);
  wr2v_engine_free (engine);
  g_free (s.workflow);

  /* workflows that can't be used */
  s.workflow = write_workflow (tmp_root, "ui.json",
      "{\"nodes\": [], \"links\": [], \"version\": 0.4}");
  expect_check_error (&s, req, WR2V_ERROR_INVALID_REQUEST, "Export (API)");
  g_free (s.workflow);
  s.workflow = write_workflow (tmp_root, "noref.json",
      "{\"1\": {\"class_type\": \"CLIPTextEncode\", \"inputs\": "
      "{\"text\": \"{{prompt}}\"}}}");
  expect_check_error (&s, req, WR2V_ERROR_INVALID_REQUEST,
      "{{reference_image}}");
  g_free (s.workflow);
  s.workflow = write_workflow (tmp_root, "unknown.json",
      "{\"1\": {\"class_type\": \"LoadImage\", \"inputs\": "
      "{\"image\": \"{{reference_image}}\", \"x\": \"{{steps}}\"}}}");
  expect_check_error (&s, req, WR2V_ERROR_INVALID_REQUEST, "{{steps}}");
  g_free (s.workflow);
  s.workflow = write_workflow (tmp_root, "embedded.json",
      "{\"1\": {\"class_type\": \"LoadImage\", \"inputs\": "
      "{\"image\": \"{{reference_image}}\", \"t\": \"a {{prompt}} b\"}}}");
  expect_check_error (&s, req, WR2V_ERROR_INVALID_REQUEST, "longer text");
  g_free (s.workflow);
  s.workflow = write_workflow (tmp_root, "broken.json", "{\"1\": ");
  expect_check_error (&s, req, WR2V_ERROR_INVALID_REQUEST, "not valid JSON");
  g_free (s.workflow);
  s.workflow = g_build_filename (tmp_root, "missing.json", NULL);
  expect_check_error (&s, req, WR2V_ERROR_INVALID_REQUEST, "missing.json");
  g_clear_pointer (&s.workflow, g_free);

  /* a remote ComfyUI must be https */
  s.api_url = g_strdup ("http://gpu-box.example:8188");
  expect_check_error (&s, req, WR2V_ERROR_INVALID_REQUEST, "https");
  g_clear_pointer (&s.api_url, g_free);

  wr2v_request_free (req);
  engine = NULL;
}

/* --- the happy path --------------------------------------------------- */

static void
test_happy_path (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r, again;
  JsonNode *s;
  JsonObject *graph, *root, *up, *in;
  JsonArray *uploads, *views;
  const gchar *client_id, *name;
  guint i;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request ();
  req->seed = 42;
  /* the server renames the upload: its name must be the one used */
  control (fx, "{\"fault\": \"upload-rename\"}");

  run_job (fx, engine, req, &r);
  g_assert_no_error (r.error);
  assert_result_is_the_clip (r.path);
  g_assert_nonnull (r.job.job_id);
  assert_journal (fx, r.job.hash, FALSE, NULL);
  assert_tmp_empty (fx);

  g_assert_cmpint (count_of (fx, "upload"), ==, 1);
  g_assert_cmpint (count_of (fx, "prompt"), ==, 1);
  g_assert_cmpint (count_of (fx, "history"), >=, 3);
  g_assert_cmpint (count_of (fx, "view"), ==, 1);
  g_assert_cmpint (count_of (fx, "interrupt"), ==, 0);

  s = last_graph (fx, &graph, &client_id);
  root = json_node_get_object (s);

  /* one composed PNG of the output's size */
  uploads = json_object_get_array_member (root, "uploads");
  g_assert_cmpuint (json_array_get_length (uploads), ==, 1);
  up = json_array_get_object_element (uploads, 0);
  g_assert_cmpstr (json_object_get_string_member (up, "content_type"), ==,
      "image/png");
  g_assert_cmpint (json_object_get_int_member (up, "width"), ==, 832);
  g_assert_cmpint (json_object_get_int_member (up, "height"), ==, 480);
  g_assert_cmpint (json_object_get_int_member (up, "size"), >, 1000);
  g_assert_cmpstr (json_object_get_string_member (up, "overwrite"), ==, "true");
  name = json_object_get_string_member (up, "name");
  g_assert_true (g_str_has_suffix (name, " (1).png"));

  /* the graph, filled in */
  g_assert_true (g_str_has_prefix (client_id, "wanr2v-"));
  g_assert_cmpstr (json_object_get_string_member (inputs_of (graph, "4"),
          "text"), ==, PROMPT_TRANSLATED);
  g_assert_nonnull (json_object_get_string_member (inputs_of (graph, "5"),
          "text"));
  g_assert_null (strstr (json_object_get_string_member (inputs_of (graph,
                  "5"), "text"), "{{"));
  g_assert_cmpstr (json_object_get_string_member (inputs_of (graph, "6"),
          "image"), ==, name);
  in = inputs_of (graph, "7");
  g_assert_cmpint (json_object_get_int_member (in, "width"), ==, 832);
  g_assert_cmpint (json_object_get_int_member (in, "height"), ==, 480);
  g_assert_cmpint (json_object_get_int_member (in, "length"), ==, 81);
  g_assert_cmpint (json_object_get_int_member (in, "batch_size"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (inputs_of (graph, "9"),
          "seed"), ==, 42);
  g_assert_cmpint (json_object_get_int_member (inputs_of (graph, "12"),
          "fps"), ==, 16);
  g_assert_cmpstr (json_object_get_string_member (inputs_of (graph, "1"),
          "unet_name"), ==, "wan2.1_vace_1.3B_fp16.safetensors");

  /* the clip came from /view, as SaveVideo listed it */
  views = json_object_get_array_member (root, "views");
  g_assert_cmpstr (json_object_get_string_member
      (json_array_get_object_element (views, 0), "filename"), ==,
      "wanr2v_00001_.mp4");
  g_assert_cmpstr (json_object_get_string_member
      (json_array_get_object_element (views, 0), "type"), ==, "output");
  json_node_unref (s);

  /* 720p asked, 832x480 made: said, not silent */
  g_mutex_lock (&fx->lock);
  g_assert_cmpuint (fx->warnings->len, ==, 1);
  g_assert_nonnull (strstr (g_ptr_array_index (fx->warnings, 0), "832x480"));
  g_assert_nonnull (strstr (g_ptr_array_index (fx->warnings, 0), "1280x720"));
  g_assert_nonnull (strstr (g_ptr_array_index (fx->warnings, 0), "14B"));
  for (i = 0; i < 5; i++) {
    static const Wr2vPhase want[] = { WR2V_PHASE_PREPARE, WR2V_PHASE_UPLOAD,
      WR2V_PHASE_SUBMIT, WR2V_PHASE_GENERATING, WR2V_PHASE_DOWNLOAD
    };
    g_assert_true (fx->phases_seen & (1u << want[i]));
  }
  g_mutex_unlock (&fx->lock);

  /* the same request again: from the store, no request to ComfyUI */
  run_job (fx, engine, req, &again);
  g_assert_no_error (again.error);
  g_assert_true (again.job.from_cache);
  g_assert_cmpint (count_of (fx, "prompt"), ==, 1);
  g_assert_cmpint (count_of (fx, "upload"), ==, 1);
  run_clear (&again);

  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* An unset seed is derived from the request: reruns render the same. */
static void
test_portrait_and_seed (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  JsonObject *graph, *in, *up;
  JsonNode *s;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request ();
  req->aspect_ratio = WR2V_ASPECT_9_16;
  req->aspect_ratio_set = TRUE;
  req->resolution = WR2V_RESOLUTION_1080P;
  req->duration = 2;
  req->negative_prompt = g_strdup ("rain");
  run_job (fx, engine, req, &r);
  g_assert_no_error (r.error);

  s = last_graph (fx, &graph, NULL);
  in = inputs_of (graph, "7");
  g_assert_cmpint (json_object_get_int_member (in, "width"), ==, 480);
  g_assert_cmpint (json_object_get_int_member (in, "height"), ==, 832);
  g_assert_cmpint (json_object_get_int_member (in, "length"), ==, 33);
  g_assert_cmpint (json_object_get_int_member (inputs_of (graph, "9"),
          "seed"), >=, 0);
  g_assert_cmpstr (json_object_get_string_member (inputs_of (graph, "5"),
          "text"), ==, "rain");
  up = json_array_get_object_element (json_object_get_array_member
      (json_node_get_object (s), "uploads"), 0);
  g_assert_cmpint (json_object_get_int_member (up, "width"), ==, 480);
  g_assert_cmpint (json_object_get_int_member (up, "height"), ==, 832);
  json_node_unref (s);
  g_mutex_lock (&fx->lock);
  g_assert_cmpuint (fx->warnings->len, ==, 1);
  g_assert_nonnull (strstr (g_ptr_array_index (fx->warnings, 0), "480x832"));
  g_assert_nonnull (strstr (g_ptr_array_index (fx->warnings, 0), "1080p"));
  g_mutex_unlock (&fx->lock);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* A workflow of the user's: a 14B model, a batch of references, 720p. */
static void
test_custom_workflow (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  JsonObject *graph, *in;
  JsonArray *names, *uploads;
  JsonNode *s;
  Run r;
  guint i;

  SKIP_IF_NO_SETUP (fx);
  fx->settings.workflow = write_workflow (fx->dir, "phantom.json",
      "{\"1\": {\"class_type\": \"UNETLoader\", \"inputs\": "
      "{\"unet_name\": \"phantom_wan_14B_fp16.safetensors\", "
      "\"weight_dtype\": \"default\"}},"
      " \"2\": {\"class_type\": \"MyBatchImageLoader\", \"inputs\": "
      "{\"images\": \"{{reference_images}}\"}},"
      " \"3\": {\"class_type\": \"WanPhantomSubjectToVideo\", \"inputs\": "
      "{\"width\": \"{{width}}\", \"height\": \"{{height}}\", "
      "\"length\": \"{{length}}\", \"batch_size\": 1, "
      "\"images\": [\"2\", 0]}},"
      " \"4\": {\"class_type\": \"CLIPTextEncode\", \"inputs\": "
      "{\"text\": \"{{prompt}}\"}},"
      " \"5\": {\"class_type\": \"CLIPTextEncode\", \"inputs\": "
      "{\"text\": \"{{negative_prompt}}\"}},"
      " \"6\": {\"class_type\": \"KSampler\", \"inputs\": "
      "{\"seed\": \"{{seed}}\", \"steps\": 4}},"
      " \"7\": {\"class_type\": \"CreateVideo\", \"inputs\": "
      "{\"fps\": \"{{fps}}\", \"extra\": [\"{{width}}\", 2]}}}");
  engine = make_engine (fx);
  req = default_request ();
  req->seed = 7;
  req->duration = 10;
  run_job (fx, engine, req, &r);
  g_assert_no_error (r.error);
  assert_result_is_the_clip (r.path);
  g_assert_cmpint (count_of (fx, "prompt"), ==, 1);

  s = last_graph (fx, &graph, NULL);
  uploads = json_object_get_array_member (json_node_get_object (s), "uploads");
  /* one upload per reference, each on a canvas of the output size */
  g_assert_cmpuint (json_array_get_length (uploads), ==, 3);
  names = json_object_get_array_member (inputs_of (graph, "2"), "images");
  g_assert_cmpuint (json_array_get_length (names), ==, 3);
  for (i = 0; i < 3; i++) {
    JsonObject *up = json_array_get_object_element (uploads, i);

    g_assert_cmpint (json_object_get_int_member (up, "width"), ==, 1280);
    g_assert_cmpint (json_object_get_int_member (up, "height"), ==, 720);
    g_assert_cmpstr (json_array_get_string_element (names, i), ==,
        json_object_get_string_member (up, "name"));
  }
  in = inputs_of (graph, "3");
  g_assert_cmpint (json_object_get_int_member (in, "width"), ==, 1280);
  g_assert_cmpint (json_object_get_int_member (in, "height"), ==, 720);
  g_assert_cmpint (json_object_get_int_member (in, "length"), ==, 161);
  g_assert_cmpint (json_object_get_int_member (inputs_of (graph, "6"),
          "seed"), ==, 7);
  g_assert_cmpstr (json_object_get_string_member (inputs_of (graph, "4"),
          "text"), ==, PROMPT_TRANSLATED);
  /* placeholders inside arrays too */
  g_assert_cmpint (json_array_get_int_element (json_object_get_array_member
          (inputs_of (graph, "7"), "extra"), 0), ==, 1280);
  json_node_unref (s);
  g_mutex_lock (&fx->lock);
  g_assert_cmpuint (fx->warnings->len, ==, 0);
  g_mutex_unlock (&fx->lock);
  run_clear (&r);

  /* 1080p: multiples of 16, never more lines than asked */
  wr2v_engine_free (engine);
  engine = make_engine (fx);
  req->resolution = WR2V_RESOLUTION_1080P;
  run_job (fx, engine, req, &r);
  g_assert_no_error (r.error);
  s = last_graph (fx, &graph, NULL);
  in = inputs_of (graph, "3");
  g_assert_cmpint (json_object_get_int_member (in, "width"), ==, 1920);
  g_assert_cmpint (json_object_get_int_member (in, "height"), ==, 1072);
  json_node_unref (s);
  run_clear (&r);

  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* --- hostile answers ---------------------------------------------------- */

typedef struct
{
  const gchar *filename;
  const gchar *subfolder;
} Hostile;

static const Hostile hostile_outputs[] = {
  {"../../etc/passwd", ""},
  {"/abs.mp4", ""},
  {"clip.mp4", "../.."},
  {"clip.mp4", "/tmp"},
  /* JSON-escaped: ..\\..\\clip.mp4 */
  {"..\\\\..\\\\clip.mp4", ""},
  {"a/b.mp4", ""},
};

static void
assert_nothing_named (const gchar * dir, const gchar * name)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *entry;

  if (!d)
    return;
  while ((entry = g_dir_read_name (d))) {
    gchar *path = g_build_filename (dir, entry, NULL);

    g_assert_cmpstr (entry, !=, name);
    if (g_file_test (path, G_FILE_TEST_IS_DIR))
      assert_nothing_named (path, name);
    g_free (path);
  }
  g_dir_close (d);
}

static void
test_hostile_output (Fixture * fx, gconstpointer data)
{
  const Hostile *h = data;
  Wr2vEngine *engine;
  Wr2vRequest *req;
  gchar *json, *base;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request ();
  json = g_strdup_printf ("{\"fault\": \"hostile-output\", \"filename\": "
      "\"%s\", \"subfolder\": \"%s\"}", h->filename, h->subfolder);
  control (fx, json);
  g_free (json);
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (r.error->message, "refusing"));
  g_assert_cmpint (count_of (fx, "view"), ==, 0);
  g_assert_cmpint (count_of (fx, "prompt"), ==, 1);
  assert_tmp_empty (fx);
  /* no file of the server's naming anywhere */
  base = g_path_get_basename (h->filename);
  assert_nothing_named (fx->dir, base);
  assert_nothing_named (fx->dir, "passwd");
  g_free (base);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

static const Hostile hostile_uploads[] = {
  {"../evil.png", ""},
  {"/abs.png", ""},
  {"sub/evil.png", ""},
  {"evil.png", "../x"},
  {"", ""},
};

static void
test_hostile_upload_name (Fixture * fx, gconstpointer data)
{
  const Hostile *h = data;
  Wr2vEngine *engine;
  Wr2vRequest *req;
  gchar *json;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request ();
  json = g_strdup_printf ("{\"fault\": \"upload-hostile\", \"name\": "
      "\"%s\", \"subfolder\": \"%s\"}", h->filename, h->subfolder);
  control (fx, json);
  g_free (json);
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (r.error->message, "refusing"));
  g_assert_cmpint (count_of (fx, "upload"), ==, 1);
  g_assert_cmpint (count_of (fx, "prompt"), ==, 0);
  assert_journal (fx, r.job.hash, FALSE, NULL);
  assert_tmp_empty (fx);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* --- cancellation -------------------------------------------------------- */

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

static void
run_cancelled (Fixture * fx, Wr2vEngine * engine, Wr2vRequest * req,
    Wr2vPhase phase, Run * r)
{
  CancelCtx c = { fx, phase, 300, 0 };
  GThread *t = g_thread_new ("canceller", cancel_thread, &c);
  gint64 latency;

  run_job (fx, engine, req, r);
  g_thread_join (t);
  g_assert_error (r->error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  latency = r->t_end - c.t_cancel;
  g_test_message ("stopped %" G_GINT64_FORMAT " ms after the cancel",
      latency / 1000);
  g_assert_cmpint (latency, <, WR2V_TEST_TIME (G_USEC_PER_SEC));
}

/* Stopped while the GPU renders: the job leaves the queue and is
 * interrupted, and the journal forgets it. */
static void
test_cancel_running (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  JsonNode *s;
  JsonArray *intr;
  gchar *id;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request ();
  control (fx, "{\"fault\": \"never-finish\"}");
  run_cancelled (fx, engine, req, WR2V_PHASE_GENERATING, &r);

  id = server_job_id (fx);
  g_assert_true (stats_list_has (fx, "deletes", id));
  s = stats (fx);
  intr = json_object_get_array_member (json_node_get_object (s), "interrupts");
  g_assert_cmpuint (json_array_get_length (intr), ==, 1);
  g_assert_cmpstr (json_object_get_string_member
      (json_array_get_object_element (intr, 0), "prompt_id"), ==, id);
  json_node_unref (s);
  g_assert_cmpint (count_of (fx, "prompt"), ==, 1);
  assert_journal (fx, r.job.hash, FALSE, NULL);
  run_clear (&r);

  /* the next run queues it anew */
  g_cancellable_reset (fx->cancellable);
  control (fx, "{\"clear_fault\": \"never-finish\"}");
  run_job (fx, engine, req, &r);
  g_assert_no_error (r.error);
  assert_result_is_the_clip (r.path);
  g_assert_cmpint (count_of (fx, "prompt"), ==, 2);
  run_clear (&r);
  g_free (id);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* Stopped while queued behind another job: removed from the queue, but
 * not interrupted (that would stop the other job on an older ComfyUI). */
static void
test_cancel_queued (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  gchar *id;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request ();
  /* somebody else's job runs; ours waits behind it */
  control (fx, "{\"create_job\": \"other-job\", \"running\": true}");
  control (fx, "{\"fault\": \"hold-queued\", \"times\": 1}");
  run_cancelled (fx, engine, req, WR2V_PHASE_QUEUED, &r);
  {
    JsonNode *s = stats (fx);
    JsonObject *jobs = json_object_get_object_member (json_node_get_object
        (s), "jobs");
    GList *names = json_object_get_members (jobs), *l;

    id = NULL;
    for (l = names; l; l = l->next)
      if (!g_str_equal (l->data, "other-job"))
        id = g_strdup (l->data);
    g_list_free (names);
    json_node_unref (s);
  }
  g_assert_nonnull (id);
  g_assert_true (stats_list_has (fx, "deletes", id));
  g_assert_cmpuint (array_len (fx, "interrupts"), ==, 0);
  g_mutex_lock (&fx->lock);
  {
    gboolean said_ahead = FALSE;
    guint i;

    for (i = 0; i < fx->phase_texts->len; i++)
      said_ahead |= strstr (g_ptr_array_index (fx->phase_texts, i),
          "1 job ahead") != NULL;
    g_assert_true (said_ahead);
  }
  g_mutex_unlock (&fx->lock);
  assert_journal (fx, r.job.hash, FALSE, NULL);
  g_free (id);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* Stopped while ComfyUI sits on the submit: what it queued under our
 * client_id is removed again. */
static void
test_cancel_submit (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  gchar *id;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request ();
  control (fx, "{\"fault\": \"prompt-hang\", \"seconds\": 30}");
  run_cancelled (fx, engine, req, WR2V_PHASE_SUBMIT, &r);
  id = server_job_id (fx);
  g_assert_true (stats_list_has (fx, "deletes", id));
  g_assert_cmpint (count_of (fx, "prompt"), ==, 1);
  /* free and removed: the next run may submit */
  assert_journal (fx, r.job.hash, FALSE, NULL);
  g_free (id);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* --- resume -------------------------------------------------------------- */

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
  req = default_request ();
  hash = request_hash (engine, req);
  control (fx, "{\"create_job\": \"5e1f0c4e-resume\"}");
  g_assert_true (wr2v_store_journal_begin (fx->store, hash, "comfyui", &err));
  g_assert_true (wr2v_store_journal_set_job (fx->store, hash, "comfyui",
          "5e1f0c4e-resume", &err));
  g_assert_no_error (err);

  run_job (fx, engine, req, &r);
  g_assert_no_error (r.error);
  g_assert_cmpstr (r.job.hash, ==, hash);
  g_assert_cmpstr (r.job.job_id, ==, "5e1f0c4e-resume");
  assert_result_is_the_clip (r.path);
  g_assert_cmpint (count_of (fx, "prompt"), ==, 0);
  g_assert_cmpint (count_of (fx, "upload"), ==, 0);
  assert_journal (fx, hash, FALSE, NULL);
  run_clear (&r);
  g_free (hash);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* A timed-out job stays in the journal; once done, the rerun fetches it. */
static void
test_timeout_then_resume (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  gchar *id;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  fx->settings.request_timeout_s = SHORT_TIMEOUT_S (2);
  engine = make_engine (fx);
  req = default_request ();
  control (fx, "{\"polls\": 1000}");
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_TIMEOUT);
  id = server_job_id (fx);
  g_assert_nonnull (strstr (r.error->message, id));
  assert_journal (fx, r.job.hash, TRUE, id);
  /* a timeout is not a stop: the GPU keeps the job */
  g_assert_cmpuint (array_len (fx, "deletes"), ==, 0);
  run_clear (&r);
  wr2v_engine_free (engine);

  /* it finishes meanwhile */
  {
    gchar *json = g_strdup_printf ("{\"create_job\": \"%s\"}", id);
    control (fx, "{\"polls\": 0}");
    control (fx, json);
    g_free (json);
  }
  fx->settings.request_timeout_s = 30;
  engine = make_engine (fx);
  run_job (fx, engine, req, &r);
  g_assert_no_error (r.error);
  assert_result_is_the_clip (r.path);
  g_assert_cmpstr (r.job.job_id, ==, id);
  g_assert_cmpint (count_of (fx, "prompt"), ==, 1);
  run_clear (&r);
  g_free (id);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* --- faults that end in a recovery ------------------------------------ */

static void
run_expect_success (Fixture * fx, const gchar * fault_json)
{
  Wr2vEngine *engine = make_engine (fx);
  Wr2vRequest *req = default_request ();
  Run r;

  if (fault_json)
    control (fx, fault_json);
  run_job (fx, engine, req, &r);
  g_assert_no_error (r.error);
  assert_result_is_the_clip (r.path);
  assert_journal (fx, r.job.hash, FALSE, NULL);
  g_assert_cmpint (count_of (fx, "prompt"), ==, 1);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

static void
test_history_500 (Fixture * fx, gconstpointer data)
{
  SKIP_IF_NO_SETUP (fx);
  run_expect_success (fx, "{\"fault\": \"history-500\", \"times\": 2}");
  g_assert_cmpint (count_of (fx, "history"), >=, 5);
}

static void
test_upload_500 (Fixture * fx, gconstpointer data)
{
  SKIP_IF_NO_SETUP (fx);
  /* an upload to a content-named file is safe to repeat */
  run_expect_success (fx, "{\"fault\": \"upload-500\", \"times\": 1}");
  g_assert_cmpint (count_of (fx, "upload"), ==, 2);
}

static void
test_queue_500 (Fixture * fx, gconstpointer data)
{
  SKIP_IF_NO_SETUP (fx);
  /* the queue is only a hint: polling goes on without it */
  run_expect_success (fx, "{\"fault\": \"queue-500\"}");
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
  g_assert_cmpint (count_of (fx, "view"), ==, 2);
}

/* A truncated clip fails the check; the rerun downloads it again. */
static void
test_download_truncated (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  gchar *id;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request ();
  control (fx, "{\"fault\": \"download-truncated\", \"times\": 1}");
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_BAD_RESULT);
  id = server_job_id (fx);
  assert_journal (fx, r.job.hash, TRUE, id);
  assert_tmp_empty (fx);
  run_clear (&r);

  run_job (fx, engine, req, &r);
  g_assert_no_error (r.error);
  assert_result_is_the_clip (r.path);
  g_assert_cmpstr (r.job.job_id, ==, id);
  g_assert_cmpint (count_of (fx, "prompt"), ==, 1);
  g_assert_cmpint (count_of (fx, "view"), ==, 2);
  run_clear (&r);
  g_free (id);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

static void
test_history_malformed (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  gchar *id;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request ();
  control (fx, "{\"fault\": \"history-malformed\", \"times\": 1}");
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_PROTOCOL);
  id = server_job_id (fx);
  assert_journal (fx, r.job.hash, TRUE, id);
  run_clear (&r);

  run_job (fx, engine, req, &r);
  g_assert_no_error (r.error);
  assert_result_is_the_clip (r.path);
  g_assert_cmpint (count_of (fx, "prompt"), ==, 1);
  run_clear (&r);
  g_free (id);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* --- faults that end in an error -------------------------------------- */

static void
test_prompt_400 (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request ();
  control (fx, "{\"fault\": \"prompt-400\", \"times\": 1}");
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST);
  g_assert_nonnull (strstr (r.error->message,
          "Prompt outputs failed validation"));
  g_assert_nonnull (strstr (r.error->message, "node 1 (UNETLoader)"));
  g_assert_nonnull (strstr (r.error->message, "wan2.1_vace_1.3B"));
  g_assert_nonnull (strstr (r.error->message, "missing"));
  g_assert_cmpint (count_of (fx, "prompt"), ==, 1);
  assert_journal (fx, r.job.hash, FALSE, NULL);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

static void
test_prompt_500 (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request ();
  control (fx, "{\"fault\": \"prompt-500\", \"times\": 1}");
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_NETWORK);
  g_assert_nonnull (strstr (r.error->message, "HTTP 500"));
  g_assert_cmpint (count_of (fx, "prompt"), ==, 1);
  assert_journal (fx, r.job.hash, FALSE, NULL);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* The server queues the prompt and closes the connection without a word.
 * On a kept-alive connection libcurl would send the POST again by itself
 * and queue a twin; the submit goes on a fresh connection, is sent once,
 * and what it queued is removed again (a local job costs nothing, so the
 * next run may submit). */
static void
test_submit_drop (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  gchar *id;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request ();
  control (fx, "{\"fault\": \"submit-drop\"}");
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_NETWORK);
  g_assert_nonnull (strstr (r.error->message, "did not answer the submit"));
  g_assert_cmpint (count_of (fx, "upload"), >=, 1);
  g_assert_cmpint (count_of (fx, "prompt"), ==, 1);
  id = server_job_id (fx);
  g_assert_true (stats_list_has (fx, "deletes", id));
  assert_journal (fx, r.job.hash, FALSE, NULL);
  g_free (id);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* A 200 with garbage: the job was queued; it is removed again. */
static void
test_prompt_malformed (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  gchar *id;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request ();
  control (fx, "{\"fault\": \"prompt-malformed\", \"times\": 1}");
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_PROTOCOL);
  id = server_job_id (fx);
  g_assert_true (stats_list_has (fx, "deletes", id));
  g_assert_cmpint (count_of (fx, "prompt"), ==, 1);
  assert_journal (fx, r.job.hash, FALSE, NULL);
  g_free (id);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

static void
test_job_error (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  gchar *id;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request ();
  control (fx, "{\"fault\": \"job-error\", \"times\": 1, \"message\": "
      "\"CUDA out of memory. Tried to allocate 2.00 GiB\"}");
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_JOB_FAILED);
  id = server_job_id (fx);
  g_assert_nonnull (strstr (r.error->message, id));
  g_assert_nonnull (strstr (r.error->message, "CUDA out of memory"));
  g_assert_nonnull (strstr (r.error->message, "KSampler"));
  g_assert_nonnull (strstr (r.error->message, "lower duration"));
  g_assert_cmpstr (gst_structure_get_string (r.job.error_details, "job-id"),
      ==, id);
  g_assert_nonnull (gst_structure_get_string (r.job.error_details,
          "provider-message"));
  g_assert_cmpint (count_of (fx, "prompt"), ==, 1);
  /* over: the rerun may queue it anew */
  assert_journal (fx, r.job.hash, FALSE, NULL);
  g_free (id);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

static void
test_job_interrupted (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request ();
  control (fx, "{\"fault\": \"job-interrupted\", \"times\": 1}");
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_JOB_FAILED);
  g_assert_nonnull (strstr (r.error->message, "interrupted"));
  g_assert_cmpint (count_of (fx, "prompt"), ==, 1);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* ComfyUI restarted: the job is neither queued nor in the history. */
static void
test_job_forgotten (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  gchar *hash;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request ();
  hash = request_hash (engine, req);
  g_assert_true (wr2v_store_journal_set_job (fx->store, hash, "comfyui",
          "0b5e7c1a-gone", NULL));
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (r.error->message, "0b5e7c1a-gone"));
  g_assert_nonnull (strstr (r.error->message, "restarted"));
  g_assert_cmpint (count_of (fx, "prompt"), ==, 0);
  assert_journal (fx, hash, FALSE, NULL);
  run_clear (&r);
  g_free (hash);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* A reference known only by URL (a pad's uri, no media) can't be
 * composed. */
static void
test_uri_only (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Wr2vReference *ref;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = wr2v_request_new ();
  req->prompt = g_strdup ("Video 1 waves");
  req->duration = 5;
  req->seed = -1;
  ref = wr2v_reference_new (WR2V_REF_VIDEO, 0);
  ref->uri = g_strdup ("https://cdn.example.com/a.mp4");
  ref->sha256 = g_strdup_printf ("%064x", 1);
  wr2v_request_add_reference (req, ref);
  wr2v_request_number_references (req);
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (r.error->message, "local files"));
  g_assert_cmpint (count_of (fx, "upload"), ==, 0);
  g_assert_cmpint (count_of (fx, "prompt"), ==, 0);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

static void
test_not_running (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  /* a port nobody listens on */
  g_free (fx->settings.api_url);
  fx->settings.api_url = g_strdup ("http://127.0.0.1:9");
  engine = make_engine (fx);
  req = default_request ();
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_NETWORK);
  g_assert_nonnull (strstr (r.error->message, "is it running"));
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* --- progress over the websocket -------------------------------------- */

/* The fake's record of websocket @i (NULL when there is none). Unref
 * *@s. */
static JsonObject *
websocket_record (Fixture * fx, guint i, JsonNode ** s)
{
  JsonArray *a;

  *s = stats (fx);
  a = json_object_get_array_member (json_node_get_object (*s), "websockets");
  return i < json_array_get_length (a) ?
      json_array_get_object_element (a, i) : NULL;
}

static guint
websocket_count (Fixture * fx)
{
  return array_len (fx, "websockets");
}

/* Waits (a little) until the client has closed websocket @i; its close
 * codes must then hold @code, or nothing when @code is 0 (dropped). */
static void
assert_websocket_closed (Fixture * fx, guint i, gint code)
{
  gint64 until = g_get_monotonic_time () + WR2V_TEST_TIME (2 * G_USEC_PER_SEC);
  gboolean open = TRUE, has_code = FALSE;

  while (g_get_monotonic_time () < until) {
    JsonNode *s;
    JsonObject *w = websocket_record (fx, i, &s);
    JsonArray *closes;

    g_assert_nonnull (w);
    open = json_object_get_boolean_member (w, "open");
    closes = json_object_get_array_member (w, "closes");
    has_code = FALSE;
    for (guint j = 0; j < json_array_get_length (closes); j++)
      has_code |= json_array_get_int_element (closes, j) == code;
    json_node_unref (s);
    if (!open && (code == 0 || has_code))
      break;
    g_usleep (20 * 1000);
  }
  g_assert_false (open);
  if (code)
    g_assert_true (has_code);
}

/* The steps the status messages said: rising, all of the fake's 20, up to
 * 20 of 20 when @to_the_end; the other prompt's 99 of 100 never. */
static void
assert_steps_rise (Fixture * fx, gboolean to_the_end)
{
  gint last = -1, known = 0;

  g_mutex_lock (&fx->lock);
  for (guint i = 0; i + 1 < fx->steps->len; i += 2) {
    gint step = g_array_index (fx->steps, gint, i);
    gint steps = g_array_index (fx->steps, gint, i + 1);

    g_test_message ("status: step %d of %d", step, steps);
    if (steps == 0) {
      g_assert_cmpint (step, ==, 0);
      continue;
    }
    g_assert_cmpint (steps, ==, 20);
    g_assert_cmpint (step, >=, last);
    g_assert_cmpint (step, <=, steps);
    last = step;
    known++;
  }
  g_assert_cmpint (known, >=, to_the_end ? 2 : 1);
  if (to_the_end) {
    gboolean said = FALSE;

    g_assert_cmpint (last, ==, 20);
    for (guint i = 0; i < fx->phase_texts->len; i++)
      said |= strstr (g_ptr_array_index (fx->phase_texts, i),
          "(step 20 of 20)") != NULL;
    g_assert_true (said);
  }
  g_mutex_unlock (&fx->lock);
}

static void
assert_no_steps (Fixture * fx)
{
  g_mutex_lock (&fx->lock);
  g_assert_cmpuint (fx->steps->len, >, 0);
  for (guint i = 0; i < fx->steps->len; i++)
    g_assert_cmpint (g_array_index (fx->steps, gint, i), ==, 0);
  g_mutex_unlock (&fx->lock);
}

/* ComfyUI's steps come over /ws: the status messages count them up to
 * the end. The client answered the ping, skipped the binary preview (over
 * libsoup's default size cap), ignored another prompt's progress, masked
 * its frames and closed the websocket when the job was done. */
static void
test_websocket_progress (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  const gchar *client_id;
  JsonObject *graph, *w;
  JsonArray *pongs;
  JsonNode *s, *s2;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request ();
  control (fx, "{\"polls\": 3}");
  run_job (fx, engine, req, &r);
  g_assert_no_error (r.error);
  assert_result_is_the_clip (r.path);
  g_assert_cmpint (count_of (fx, "prompt"), ==, 1);
  assert_steps_rise (fx, TRUE);
  /* read while polling: no thread of its own (the references' pipelines
   * left theirs before the submit) */
  g_test_message ("threads: %u at the submit, %u while polling",
      fx->submit_threads, fx->max_threads);
  g_assert_cmpuint (fx->submit_threads, >, 0);
  g_assert_cmpuint (fx->max_threads, <=, fx->submit_threads);

  g_assert_cmpuint (websocket_count (fx), ==, 1);
  assert_websocket_closed (fx, 0, 1000);
  s = last_graph (fx, &graph, &client_id);
  w = websocket_record (fx, 0, &s2);
  g_assert_cmpstr (json_object_get_string_member (w, "client_id"), ==,
      client_id);
  g_assert_false (json_object_get_boolean_member (w, "refused"));
  g_assert_cmpint (json_object_get_int_member (w, "unmasked"), ==, 0);
  pongs = json_object_get_array_member (w, "pongs");
  g_assert_cmpuint (json_array_get_length (pongs), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (pongs, 0), ==, "wanr2v-ping");
  json_node_unref (s2);
  json_node_unref (s);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* A websocket that is refused (an old ComfyUI, a proxy without
 * websockets), dropped mid-job or broken (a frame over the size cap):
 * the job goes on with the history, and ends as usual. */
static void
test_websocket_faults (Fixture * fx, gconstpointer data)
{
  const gchar *fault = data;
  gchar *json = g_strdup_printf ("{\"fault\": \"%s\", \"times\": 1}", fault);
  JsonObject *w;
  JsonNode *s;

  SKIP_IF_NO_SETUP (fx);
  run_expect_success (fx, json);
  g_free (json);
  /* one websocket per job: not reopened after it failed */
  g_assert_cmpuint (websocket_count (fx), ==, 1);
  if (g_str_equal (fault, "ws-404")) {
    w = websocket_record (fx, 0, &s);
    g_assert_true (json_object_get_boolean_member (w, "refused"));
    json_node_unref (s);
    assert_no_steps (fx);
  } else if (g_str_equal (fault, "ws-drop")) {
    /* the steps known before the drop */
    assert_steps_rise (fx, FALSE);
    assert_websocket_closed (fx, 0, 0);
  } else {
    /* libsoup drops the connection at the frame's header, without a close
     * frame: no 1000 at the job's end either. The steps before it stand */
    assert_websocket_closed (fx, 0, 0);
    w = websocket_record (fx, 0, &s);
    g_assert_cmpuint (json_array_get_length (json_object_get_array_member (w,
                "closes")), ==, 0);
    json_node_unref (s);
    assert_steps_rise (fx, FALSE);
  }
}

/* Stopped while steps come in: as prompt as without the websocket, which
 * is closed. */
static void
test_websocket_cancel (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request ();
  control (fx, "{\"fault\": \"never-finish\"}");
  run_cancelled (fx, engine, req, WR2V_PHASE_GENERATING, &r);
  assert_steps_rise (fx, FALSE);
  g_assert_cmpuint (websocket_count (fx), ==, 1);
  assert_websocket_closed (fx, 0, 1000);
  g_assert_cmpuint (array_len (fx, "interrupts"), ==, 1);
  assert_journal (fx, r.job.hash, FALSE, NULL);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* A resumed job was not submitted by this run: its websocket reconnects
 * with the client_id ComfyUI's queue shows for it, and the steps come
 * again. */
static void
test_websocket_resume (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  JsonObject *w;
  JsonNode *s;
  gchar *id, *json, *first_client;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  fx->settings.request_timeout_s = SHORT_TIMEOUT_S (2);
  engine = make_engine (fx);
  req = default_request ();
  control (fx, "{\"polls\": 1000}");
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_TIMEOUT);
  id = server_job_id (fx);
  run_clear (&r);
  wr2v_engine_free (engine);
  /* the engine went: so did its websocket */
  assert_websocket_closed (fx, 0, 1000);
  w = websocket_record (fx, 0, &s);
  first_client = g_strdup (json_object_get_string_member (w, "client_id"));
  json_node_unref (s);

  json = g_strdup_printf ("{\"finish_job\": \"%s\", \"after\": 4}", id);
  control (fx, json);
  g_free (json);
  g_mutex_lock (&fx->lock);
  g_array_set_size (fx->steps, 0);
  g_ptr_array_set_size (fx->phase_texts, 0);
  g_mutex_unlock (&fx->lock);
  fx->settings.request_timeout_s = 30;
  engine = make_engine (fx);
  run_job (fx, engine, req, &r);
  g_assert_no_error (r.error);
  assert_result_is_the_clip (r.path);
  g_assert_cmpstr (r.job.job_id, ==, id);
  g_assert_cmpint (count_of (fx, "prompt"), ==, 1);
  assert_steps_rise (fx, TRUE);
  g_assert_cmpuint (websocket_count (fx), ==, 2);
  w = websocket_record (fx, 1, &s);
  g_assert_cmpstr (json_object_get_string_member (w, "client_id"), ==,
      first_client);
  json_node_unref (s);
  assert_websocket_closed (fx, 1, 1000);
  g_free (first_client);
  g_free (id);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* The URL policy and the cancellation, without a server. */
static void
test_websocket_policy (void)
{
  GCancellable *cancel;
  GError *err = NULL;
  gint64 t0;

  /* the HTTP client's URL policy */
  g_assert_null (wr2v_websocket_connect ("ws://gpu-box.example:8188/ws",
          1, NULL, &err));
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (err->message, "loopback"));
  g_clear_error (&err);
  g_assert_null (wr2v_websocket_connect ("ftp://127.0.0.1/ws", 1, NULL, &err));
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_PROTOCOL);
  g_clear_error (&err);
  /* a remote host is not reached around a configured proxy */
  {
    gchar *saved = g_strdup (g_getenv ("https_proxy"));

    g_setenv ("https_proxy", "http://proxy.example:3128", TRUE);
    g_assert_null (wr2v_websocket_connect ("wss://gpu-box.example/ws", 1,
            NULL, &err));
    g_assert_error (err, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED);
    g_clear_error (&err);
    if (saved)
      g_setenv ("https_proxy", saved, TRUE);
    else
      g_unsetenv ("https_proxy");
    g_free (saved);
  }
  /* a cancelled job opens nothing, and at once */
  cancel = g_cancellable_new ();
  g_cancellable_cancel (cancel);
  t0 = g_get_monotonic_time ();
  g_assert_null (wr2v_websocket_connect ("ws://127.0.0.1:9/ws", 5, cancel,
          &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - t0, <, G_USEC_PER_SEC);
  g_clear_error (&err);
  g_object_unref (cancel);
}

/* ------------------------------------------------------------------------ */

static gboolean
run_pipeline (const gchar * description)
{
  GstElement *p = gst_parse_launch (description, NULL);
  GstBus *bus;
  GstMessage *msg;
  gboolean ok;

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

static gboolean
make_media (void)
{
  gchar *d;
  gboolean ok;

  result_mp4 = g_build_filename (tmp_root, "result.mp4", NULL);
  ref_video[0] = g_build_filename (tmp_root, "video0.mp4", NULL);
  ref_video[1] = g_build_filename (tmp_root, "video1.mp4", NULL);
  ref_image = g_build_filename (tmp_root, "image0.png", NULL);

  d = g_strdup_printf ("videotestsrc num-buffers=30 ! video/x-raw,width=320,"
      "height=240,framerate=30/1 ! x264enc ! mp4mux ! filesink "
      "location=\"%s\"", result_mp4);
  ok = run_pipeline (d);
  g_free (d);
  /* a landscape and a portrait video, and a square image */
  d = g_strdup_printf ("videotestsrc pattern=ball num-buffers=10 ! "
      "video/x-raw,width=320,height=180,framerate=10/1 ! x264enc ! mp4mux ! "
      "filesink location=\"%s\"", ref_video[0]);
  ok = ok && run_pipeline (d);
  g_free (d);
  /* with a sound track, as a camera's clip has, when an AAC encoder is
   * there: only its picture is used */
  d = g_strdup_printf ("videotestsrc pattern=smpte num-buffers=10 ! "
      "video/x-raw,width=180,height=320,framerate=10/1 ! x264enc ! mux. "
      "audiotestsrc num-buffers=10 ! avenc_aac ! mux. mp4mux name=mux ! "
      "filesink location=\"%s\"", ref_video[1]);
  if (ok && !run_pipeline (d)) {
    g_free (d);
    d = g_strdup_printf ("videotestsrc pattern=smpte num-buffers=10 ! "
        "video/x-raw,width=180,height=320,framerate=10/1 ! x264enc ! "
        "mp4mux ! filesink location=\"%s\"", ref_video[1]);
    ok = run_pipeline (d);
  }
  g_free (d);
  d = g_strdup_printf ("videotestsrc pattern=pinwheel num-buffers=1 ! "
      "video/x-raw,width=200,height=200 ! pngenc ! filesink "
      "location=\"%s\"", ref_image);
  ok = ok && run_pipeline (d);
  g_free (d);
  return ok;
}

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
  g_test_add ("/comfyui/" name, Fixture, data, fixture_setup, func, \
      fixture_teardown)

int
main (int argc, char **argv)
{
  const gchar *srcdir;
  gint ret;
  guint i;

  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);

  srcdir = g_getenv ("WANR2V_TESTS_SRCDIR");
  /* the shipped default workflow, from the source tree */
  if (!g_getenv ("WANR2V_DATADIR") && srcdir) {
    gchar *data = g_build_filename (srcdir, "..", "data", NULL);
    g_setenv ("WANR2V_DATADIR", data, TRUE);
    g_free (data);
  }
  server_script = g_strdup (g_getenv ("WANR2V_FAKE_COMFYUI"));
  if (!server_script && srcdir)
    server_script = g_build_filename (srcdir, "fake-comfyui.py", NULL);
  if (!server_script)
    server_script = g_strdup ("fake-comfyui.py");
  python = g_strdup (g_getenv ("WANR2V_PYTHON") ? g_getenv ("WANR2V_PYTHON")
      : "/usr/bin/python3");

  tmp_root = g_dir_make_tmp ("wanr2v-comfyui-XXXXXX", NULL);
  g_assert_nonnull (tmp_root);
  have_media = make_media ();

  g_test_add_func ("/comfyui/check", test_check);
  ADD ("happy-path", NULL, test_happy_path);
  ADD ("portrait-and-seed", NULL, test_portrait_and_seed);
  ADD ("custom-workflow", NULL, test_custom_workflow);
  for (i = 0; i < G_N_ELEMENTS (hostile_outputs); i++) {
    gchar *name = g_strdup_printf ("/comfyui/hostile-output/%u", i);
    g_test_add (name, Fixture, &hostile_outputs[i], fixture_setup,
        test_hostile_output, fixture_teardown);
    g_free (name);
  }
  for (i = 0; i < G_N_ELEMENTS (hostile_uploads); i++) {
    gchar *name = g_strdup_printf ("/comfyui/hostile-upload-name/%u", i);
    g_test_add (name, Fixture, &hostile_uploads[i], fixture_setup,
        test_hostile_upload_name, fixture_teardown);
    g_free (name);
  }
  ADD ("cancel/running", NULL, test_cancel_running);
  ADD ("cancel/queued", NULL, test_cancel_queued);
  ADD ("cancel/submit", NULL, test_cancel_submit);
  ADD ("resume-from-journal", NULL, test_resume_from_journal);
  ADD ("timeout-then-resume", NULL, test_timeout_then_resume);
  ADD ("faults/history-500", NULL, test_history_500);
  ADD ("faults/queue-500", NULL, test_queue_500);
  ADD ("faults/upload-500", NULL, test_upload_500);
  ADD ("faults/slow-answers", NULL, test_slow_answers);
  ADD ("faults/download-reset", NULL, test_download_reset);
  ADD ("faults/download-truncated", NULL, test_download_truncated);
  ADD ("faults/history-malformed", NULL, test_history_malformed);
  ADD ("faults/prompt-400", NULL, test_prompt_400);
  ADD ("faults/prompt-500", NULL, test_prompt_500);
  ADD ("faults/prompt-malformed", NULL, test_prompt_malformed);
  ADD ("faults/submit-drop", NULL, test_submit_drop);
  ADD ("faults/job-error", NULL, test_job_error);
  ADD ("faults/job-interrupted", NULL, test_job_interrupted);
  ADD ("faults/job-forgotten", NULL, test_job_forgotten);
  ADD ("faults/not-running", NULL, test_not_running);
  ADD ("uri-only", NULL, test_uri_only);
  g_test_add_func ("/comfyui/websocket/policy", test_websocket_policy);
  ADD ("websocket/progress", NULL, test_websocket_progress);
  ADD ("websocket/refused", "ws-404", test_websocket_faults);
  ADD ("websocket/dropped", "ws-drop", test_websocket_faults);
  ADD ("websocket/oversize", "ws-oversize", test_websocket_faults);
  ADD ("websocket/cancel", NULL, test_websocket_cancel);
  ADD ("websocket/resume", NULL, test_websocket_resume);

  ret = g_test_run ();

  rm_rf (tmp_root);
  g_free (tmp_root);
  g_free (result_mp4);
  g_free (ref_video[0]);
  g_free (ref_video[1]);
  g_free (ref_image);
  g_free (server_script);
  g_free (python);
  return ret;
}
