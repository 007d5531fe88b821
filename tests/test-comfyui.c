/* test-comfyui.c: what only the ComfyUI engine does, against a fake
 * ComfyUI (tests/fake-comfyui.py): the references composed into one
 * image, the workflow filled in, the queue, the interrupt, hostile names,
 * the progress over the websocket. What every engine promises (submitted
 * once, resumed, retried, cancelled) is checked by
 * test-engine-contract.c.
 *
 * References are real media (two H.264 MP4s and a PNG made with
 * GStreamer), so that composing them into one reference image runs for
 * real.
 */
#include <string.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include "wr2v-error.h"
#include "wr2v-prompt.h"
#include "wr2v-test-engine.h"
#include "wr2v-test-faults.h"
#include "wr2v-test-time.h"
#include "wr2v-websocket.h"

#define PROMPT "Video 1 dances with Video 2 while holding Image 3"
#define PROMPT_TRANSLATED "reference subject 1 dances with reference " \
  "subject 2 while holding reference subject 3"

static Wr2vRequest *
default_request (Wr2vFixture * fx)
{
  return wr2v_test_media_request (PROMPT);
}

static Wr2vFixtureConfig config = { "comfyui", NULL, NULL, NULL,
  default_request, TRUE
};

/* --- requests --------------------------------------------------------- */

static gchar *
write_workflow (const gchar * dir, const gchar * name, const gchar * json)
{
  gchar *path = g_build_filename (dir, name, NULL);

  g_assert_true (g_file_set_contents (path, json, -1, NULL));
  return path;
}

/* The graph of the last /prompt. Unref the returned stats node. */
static JsonNode *
last_graph (Wr2vFixture * fx, JsonObject ** graph, const gchar ** client_id)
{
  JsonNode *s = wr2v_fx_stats (fx);
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

  wr2v_assert_refuses (engine, req, code, words);
  wr2v_engine_free (engine);
}

static const Wr2vDurationCheck durations[] = {
  {1, NULL},
  {10, NULL},
  {11, "1 to 10"},
  {0, "1 to 10"},
};

/* Workflows the check refuses: a file, its text, what the error says. */
static const struct
{
  const gchar *name, *text, *says;
} unusable_workflows[] = {
  {"ui.json", "{\"nodes\": [], \"links\": [], \"version\": 0.4}",
      "Export (API)"},
  {"noref.json", "{\"1\": {\"class_type\": \"CLIPTextEncode\", \"inputs\": "
        "{\"text\": \"{{prompt}}\"}}}", "{{reference_image}}"},
  {"unknown.json", "{\"1\": {\"class_type\": \"LoadImage\", \"inputs\": "
        "{\"image\": \"{{reference_image}}\", \"x\": \"{{steps}}\"}}}",
      "{{steps}}"},
  {"embedded.json", "{\"1\": {\"class_type\": \"LoadImage\", \"inputs\": "
        "{\"image\": \"{{reference_image}}\", \"t\": \"a {{prompt}} b\"}}}",
      "longer text"},
  {"broken.json", "{\"1\": ", "not valid JSON"},
};

static void
test_check (void)
{
  Wr2vEngineSettings s = { 0, };
  Wr2vEngine *engine;
  Wr2vRequest *req;
  GError *err = NULL;
  gchar *identity, *sha, *path, *id2;
  guint i;

  if (!wr2v_test_media.ok) {
    g_test_skip ("no test media");
    return;
  }
  engine = wr2v_engine_new ("comfyui", NULL, &err);
  g_assert_no_error (err);
  g_assert_null (engine->klass->key_variable);
  g_assert_cmpuint (engine->settings.request_timeout_s, ==, 7200);
  req = wr2v_test_media_request (PROMPT);

  /* durations 1..10 */
  wr2v_assert_durations (engine, req, WR2V_ERROR_UNSUPPORTED, durations,
      G_N_ELEMENTS (durations));
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
  s.workflow = write_workflow (wr2v_test_media.root, "custom-id.json",
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
  for (i = 0; i < G_N_ELEMENTS (unusable_workflows); i++) {
    s.workflow = write_workflow (wr2v_test_media.root,
        unusable_workflows[i].name, unusable_workflows[i].text);
    expect_check_error (&s, req, WR2V_ERROR_INVALID_REQUEST,
        unusable_workflows[i].says);
    g_free (s.workflow);
  }
  s.workflow = g_build_filename (wr2v_test_media.root, "missing.json", NULL);
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
test_happy_path (Wr2vFixture * fx, gconstpointer data)
{
  Wr2vRequest *req;
  Wr2vRun r;
  JsonNode *s;
  JsonObject *graph, *root, *up, *in;
  JsonArray *uploads, *views;
  const gchar *client_id, *name;
  guint i;

  req = wr2v_fx_the_request (fx);
  req->seed = 42;
  /* the server renames the upload: its name must be the one used */
  wr2v_fx_control (fx, "{\"fault\": \"upload-rename\"}");

  wr2v_fx_go_clip (fx, NULL, &r);
  g_assert_nonnull (r.job.job_id);
  wr2v_fx_assert_journal (fx, r.job.hash, FALSE, NULL);
  wr2v_fx_assert_tmp_empty (fx);

  wr2v_fx_assert_counts (fx, "upload", 1, "prompt", 1, NULL);
  g_assert_cmpint (wr2v_fx_count (fx, "history"), >=, 3);
  wr2v_fx_assert_counts (fx, "view", 1, "interrupt", 0, NULL);

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

  wr2v_run_clear (&r);
}

/* An unset seed is derived from the request: reruns render the same. */
static void
test_portrait_and_seed (Wr2vFixture * fx, gconstpointer data)
{
  Wr2vRequest *req;
  JsonObject *graph, *in, *up;
  JsonNode *s;
  Wr2vRun r;

  req = wr2v_fx_the_request (fx);
  req->aspect_ratio = WR2V_ASPECT_9_16;
  req->aspect_ratio_set = TRUE;
  req->resolution = WR2V_RESOLUTION_1080P;
  req->duration = 2;
  req->negative_prompt = g_strdup ("rain");
  wr2v_fx_go_ok (fx, NULL, &r);

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
  wr2v_run_clear (&r);
}

/* A workflow of the user's: a 14B model, a batch of references, 720p. */
static void
test_custom_workflow (Wr2vFixture * fx, gconstpointer data)
{
  Wr2vRequest *req;
  JsonObject *graph, *in;
  JsonArray *names, *uploads;
  JsonNode *s;
  Wr2vRun r;
  guint i;

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
  req = wr2v_fx_the_request (fx);
  req->seed = 7;
  req->duration = 10;
  wr2v_fx_go_clip (fx, NULL, &r);
  g_assert_cmpint (wr2v_fx_count (fx, "prompt"), ==, 1);

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
  wr2v_run_clear (&r);

  /* 1080p: multiples of 16, never more lines than asked */
  wr2v_fx_renew_engine (fx);
  req->resolution = WR2V_RESOLUTION_1080P;
  wr2v_fx_go_ok (fx, NULL, &r);
  s = last_graph (fx, &graph, NULL);
  in = inputs_of (graph, "3");
  g_assert_cmpint (json_object_get_int_member (in, "width"), ==, 1920);
  g_assert_cmpint (json_object_get_int_member (in, "height"), ==, 1072);
  json_node_unref (s);
  wr2v_run_clear (&r);

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
test_hostile_output (Wr2vFixture * fx, gconstpointer data)
{
  const Hostile *h = data;
  gchar *base;
  Wr2vRun r;

  wr2v_fx_controlf (fx, "{\"fault\": \"hostile-output\", \"filename\": "
      "\"%s\", \"subfolder\": \"%s\"}", h->filename, h->subfolder);
  wr2v_fx_go_fails (fx, NULL, WR2V_ERROR_PROTOCOL, "refusing", &r);
  wr2v_fx_assert_counts (fx, "view", 0, "prompt", 1, NULL);
  wr2v_fx_assert_tmp_empty (fx);
  /* no file of the server's naming anywhere */
  base = g_path_get_basename (h->filename);
  assert_nothing_named (fx->dir, base);
  assert_nothing_named (fx->dir, "passwd");
  g_free (base);
  wr2v_run_clear (&r);
}

static const Hostile hostile_uploads[] = {
  {"../evil.png", ""},
  {"/abs.png", ""},
  {"sub/evil.png", ""},
  {"evil.png", "../x"},
  {"", ""},
};

static void
test_hostile_upload_name (Wr2vFixture * fx, gconstpointer data)
{
  const Hostile *h = data;
  Wr2vRun r;

  wr2v_fx_controlf (fx, "{\"fault\": \"upload-hostile\", \"name\": "
      "\"%s\", \"subfolder\": \"%s\"}", h->filename, h->subfolder);
  wr2v_fx_go_fails (fx, NULL, WR2V_ERROR_PROTOCOL, "refusing", &r);
  wr2v_fx_assert_counts (fx, "upload", 1, "prompt", 0, NULL);
  wr2v_fx_assert_journal (fx, r.job.hash, FALSE, NULL);
  wr2v_fx_assert_tmp_empty (fx);
  wr2v_run_clear (&r);
}

/* --- cancellation -------------------------------------------------------- */


/* The job was removed: through the atomic POST /api/jobs/<id>/cancel
 * alone, where the server has it. */
static void
assert_cancelled (Wr2vFixture * fx, const gchar * id)
{
  g_assert_true (wr2v_fake_server_list_has (fx->server, "cancels", id));
  g_assert_cmpuint (wr2v_fake_server_array_len (fx->server, "deletes"), ==, 0);
  g_assert_cmpuint (wr2v_fake_server_array_len (fx->server, "interrupts"), ==,
      0);
}

/* The one job ComfyUI queued was removed again (assert_cancelled), after
 * one submit, and the journal forgot @r's job. */
static void
assert_job_removed (Wr2vFixture * fx, Wr2vRun * r)
{
  gchar *id = wr2v_fx_only_job (fx);

  assert_cancelled (fx, id);
  g_assert_cmpint (wr2v_fx_count (fx, "prompt"), ==, 1);
  wr2v_fx_assert_journal (fx, r->job.hash, FALSE, NULL);
  g_free (id);
}

/* An older ComfyUI: no /api/jobs, no /object_info, no /models. */
#define OLD_SERVER "{\"lacks\": [\"jobs\", \"object_info\", \"models\"]}"

/* Stopped while the GPU renders: the job is cancelled (@data "old": on an
 * older server, it leaves the queue and is interrupted), and the journal
 * forgets it. */
static void
test_cancel_running (Wr2vFixture * fx, gconstpointer data)
{
  JsonNode *s;
  JsonArray *intr;
  gchar *id;
  Wr2vRun r;

  if (data)
    wr2v_fx_control (fx, OLD_SERVER);
  wr2v_fx_control (fx, "{\"fault\": \"never-finish\"}");
  wr2v_fx_go_cancelled (fx, WR2V_PHASE_GENERATING, 300, &r);

  id = wr2v_fx_only_job (fx);
  if (!data) {
    assert_cancelled (fx, id);
  } else {
    /* tried first, then the older way */
    g_assert_true (wr2v_fake_server_list_has (fx->server, "cancels", id));
    g_assert_true (wr2v_fake_server_list_has (fx->server, "deletes", id));
    s = wr2v_fx_stats (fx);
    intr = json_object_get_array_member (json_node_get_object (s),
        "interrupts");
    g_assert_cmpuint (json_array_get_length (intr), ==, 1);
    g_assert_cmpstr (json_object_get_string_member
        (json_array_get_object_element (intr, 0), "prompt_id"), ==, id);
    json_node_unref (s);
  }
  g_assert_cmpint (wr2v_fx_count (fx, "prompt"), ==, 1);
  wr2v_fx_assert_journal (fx, r.job.hash, FALSE, NULL);
  wr2v_run_clear (&r);

  /* the next run queues it anew */
  g_cancellable_reset (fx->cancellable);
  wr2v_fx_go_clip (fx, "{\"clear_fault\": \"never-finish\"}", &r);
  g_assert_cmpint (wr2v_fx_count (fx, "prompt"), ==, 2);
  wr2v_run_clear (&r);
  g_free (id);
}

/* Stopped while queued behind another job, on an older ComfyUI: removed
 * from the queue, but not interrupted (that would stop the other job). */
static void
test_cancel_queued (Wr2vFixture * fx, gconstpointer data)
{
  gchar *id;
  Wr2vRun r;

  wr2v_fx_control (fx, OLD_SERVER);
  /* somebody else's job runs; ours waits behind it */
  wr2v_fx_control (fx, "{\"create_job\": \"other-job\", \"running\": true}");
  wr2v_fx_control (fx, "{\"fault\": \"hold-queued\", \"times\": 1}");
  wr2v_fx_go_cancelled (fx, WR2V_PHASE_QUEUED, 300, &r);
  {
    JsonNode *s = wr2v_fx_stats (fx);
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
  g_assert_true (wr2v_fake_server_list_has (fx->server, "deletes", id));
  g_assert_cmpuint (wr2v_fake_server_array_len (fx->server, "interrupts"), ==,
      0);
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
  wr2v_fx_assert_journal (fx, r.job.hash, FALSE, NULL);
  g_free (id);
  wr2v_run_clear (&r);
}

/* Stopped while ComfyUI sits on the submit: what it queued under our
 * client_id is removed again. */
static void
test_cancel_submit (Wr2vFixture * fx, gconstpointer data)
{
  Wr2vRun r;

  wr2v_fx_control (fx, "{\"fault\": \"prompt-hang\", \"seconds\": 30}");
  wr2v_fx_go_cancelled (fx, WR2V_PHASE_SUBMIT, 300, &r);
  /* free and removed: the next run may submit */
  assert_job_removed (fx, &r);
  wr2v_run_clear (&r);
}

/* --- faults that end in a recovery ------------------------------------ */

/* Faults the job gets over, as rows (wr2v-test-faults.h). */
static const Wr2vRecoveryCase recovery_rows[] = {
  /* the queue is only a hint: polling goes on without it */
  {"/comfyui/faults/queue-500", "{\"fault\": \"queue-500\"}", {{NULL}}},
};

/* --- faults that end in an error -------------------------------------- */

/* --- preflight ------------------------------------------------------------ */

/* The shipped workflow's node classes, as asked for (sorted, once each),
 * and its loaders' folders. */
static const gchar *const default_classes[] = {
  "CLIPLoader", "CLIPTextEncode", "CreateVideo", "KSampler", "LoadImage",
  "ModelSamplingSD3", "SaveVideo", "TrimVideoLatent", "UNETLoader",
  "VAEDecode", "VAELoader", "WanVaceToVideo",
};

static void
assert_string_list (Wr2vFixture * fx, const gchar * member,
    const gchar * const *want, guint n)
{
  JsonNode *s = wr2v_fx_stats (fx);
  JsonArray *a = json_object_get_array_member (json_node_get_object (s),
      member);
  guint i;

  g_assert_cmpuint (json_array_get_length (a), ==, n);
  for (i = 0; i < n; i++)
    g_assert_cmpstr (json_array_get_string_element (a, i), ==, want[i]);
  json_node_unref (s);
}

/* Before anything is uploaded: every class of the graph and each loader's
 * model folder asked for once. */
static void
test_preflight_shape (Wr2vFixture * fx, gconstpointer data)
{
  static const gchar *const folders[] = {
    "diffusion_models", "text_encoders", "vae",
  };
  Wr2vRun r;

  wr2v_fx_go_ok (fx, NULL, &r);
  assert_string_list (fx, "object_info", default_classes,
      G_N_ELEMENTS (default_classes));
  assert_string_list (fx, "models", folders, G_N_ELEMENTS (folders));
  wr2v_run_clear (&r);
}

/* An older ComfyUI without the routes: not checked (one /object_info
 * asked, each folder once), the job runs. */
static void
test_preflight_old_server (Wr2vFixture * fx, gconstpointer data)
{
  wr2v_fx_expect_success (fx, OLD_SERVER);
  wr2v_fx_assert_counts (fx, "object_info", 1, "models", 3, NULL);
}

/* A 200 with garbage: the job was queued; it is removed again. */
static void
test_prompt_malformed (Wr2vFixture * fx, gconstpointer data)
{
  Wr2vRun r;

  wr2v_fx_go (fx, "{\"fault\": \"prompt-malformed\", \"times\": 1}", &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_PROTOCOL);
  assert_job_removed (fx, &r);
  wr2v_run_clear (&r);
}

static void
test_job_error (Wr2vFixture * fx, gconstpointer data)
{
  gchar *id;
  Wr2vRun r;

  /* over: the rerun may queue it anew */
  id = wr2v_fx_go_job_failed (fx, "{\"fault\": \"job-error\", \"times\": 1, "
      "\"message\": \"CUDA out of memory. Tried to allocate 2.00 GiB\"}",
      "CUDA out of memory", 0, &r);
  wr2v_assert_says (r.error, "KSampler");
  wr2v_assert_says (r.error, "lower duration");
  g_assert_nonnull (gst_structure_get_string (r.job.error_details,
          "provider-message"));
  g_free (id);
  wr2v_run_clear (&r);
}

/* A reference known only by URL (a pad's uri, no media) can't be
 * composed. */
static void
test_uri_only (Wr2vFixture * fx, gconstpointer data)
{
  Wr2vRun r;

  fx->req = wr2v_test_uri_request ("Video 1 waves", FALSE);
  wr2v_fx_go_fails (fx, NULL, WR2V_ERROR_UNSUPPORTED, "local files", &r);
  wr2v_fx_assert_counts (fx, "upload", 0, "prompt", 0, NULL);
  wr2v_run_clear (&r);
}

/* --- progress over the websocket -------------------------------------- */

/* The fake's record of websocket @i (NULL when there is none). Unref
 * *@s. */
static JsonObject *
websocket_record (Wr2vFixture * fx, guint i, JsonNode ** s)
{
  JsonArray *a;

  *s = wr2v_fx_stats (fx);
  a = json_object_get_array_member (json_node_get_object (*s), "websockets");
  return i < json_array_get_length (a) ?
      json_array_get_object_element (a, i) : NULL;
}

static guint
websocket_count (Wr2vFixture * fx)
{
  return wr2v_fake_server_array_len (fx->server, "websockets");
}

/* Waits (a little) until the client has closed websocket @i; its close
 * codes must then hold @code, or nothing when @code is 0 (dropped). */
static void
assert_websocket_closed (Wr2vFixture * fx, guint i, gint code)
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
assert_steps_rise (Wr2vFixture * fx, gboolean to_the_end)
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
assert_no_steps (Wr2vFixture * fx)
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
test_websocket_progress (Wr2vFixture * fx, gconstpointer data)
{
  const gchar *client_id;
  JsonObject *graph, *w;
  JsonArray *pongs;
  JsonNode *s, *s2;
  Wr2vRun r;

  wr2v_fx_go_clip (fx, "{\"polls\": 3}", &r);
  g_assert_cmpint (wr2v_fx_count (fx, "prompt"), ==, 1);
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
  wr2v_run_clear (&r);
}

/* A websocket that is refused (an old ComfyUI, a proxy without
 * websockets), dropped mid-job or broken (a frame over the size cap):
 * the job goes on with the history, and ends as usual. */
static void
test_websocket_faults (Wr2vFixture * fx, gconstpointer data)
{
  const gchar *fault = data;
  gchar *json = g_strdup_printf ("{\"fault\": \"%s\", \"times\": 1}", fault);
  JsonObject *w;
  JsonNode *s;

  wr2v_fx_expect_success (fx, json);
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
test_websocket_cancel (Wr2vFixture * fx, gconstpointer data)
{
  Wr2vRun r;

  wr2v_fx_control (fx, "{\"fault\": \"never-finish\"}");
  wr2v_fx_go_cancelled (fx, WR2V_PHASE_GENERATING, 300, &r);
  assert_steps_rise (fx, FALSE);
  g_assert_cmpuint (websocket_count (fx), ==, 1);
  assert_websocket_closed (fx, 0, 1000);
  g_assert_cmpuint (wr2v_fake_server_array_len (fx->server, "cancels"), ==, 1);
  wr2v_fx_assert_journal (fx, r.job.hash, FALSE, NULL);
  wr2v_run_clear (&r);
}

/* A resumed job was not submitted by this run: its websocket reconnects
 * with the client_id ComfyUI's queue shows for it, and the steps come
 * again. */
static void
test_websocket_resume (Wr2vFixture * fx, gconstpointer data)
{
  JsonObject *w;
  JsonNode *s;
  gchar *id, *first_client;
  Wr2vRun r;

  fx->settings.request_timeout_s = WR2V_TEST_TIMEOUT_S (2);
  wr2v_fx_go (fx, "{\"polls\": 1000}", &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_TIMEOUT);
  id = wr2v_fx_only_job (fx);
  wr2v_run_clear (&r);
  wr2v_fx_renew_engine (fx);
  /* the engine went: so did its websocket */
  assert_websocket_closed (fx, 0, 1000);
  w = websocket_record (fx, 0, &s);
  first_client = g_strdup (json_object_get_string_member (w, "client_id"));
  json_node_unref (s);

  wr2v_fx_controlf (fx, "{\"finish_job\": \"%s\", \"after\": 4}", id);
  g_mutex_lock (&fx->lock);
  g_array_set_size (fx->steps, 0);
  g_ptr_array_set_size (fx->phase_texts, 0);
  g_mutex_unlock (&fx->lock);
  fx->settings.request_timeout_s = 30;
  wr2v_fx_go_clip (fx, NULL, &r);
  g_assert_cmpstr (r.job.job_id, ==, id);
  g_assert_cmpint (wr2v_fx_count (fx, "prompt"), ==, 1);
  assert_steps_rise (fx, TRUE);
  g_assert_cmpuint (websocket_count (fx), ==, 2);
  w = websocket_record (fx, 1, &s);
  g_assert_cmpstr (json_object_get_string_member (w, "client_id"), ==,
      first_client);
  json_node_unref (s);
  assert_websocket_closed (fx, 1, 1000);
  g_free (first_client);
  g_free (id);
  wr2v_run_clear (&r);
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

/* Faults that end in an error, as rows (wr2v-test-faults.h). */
static const Wr2vFailCase error_rows[] = {
  /* a model file that is not installed: named with its folder, before
   * any upload or queueing */
  {"/comfyui/preflight/missing-model", "{\"fault\": \"missing-model\"}",
        FALSE, WR2V_ERROR_UNSUPPORTED, {"\"wan2.1_vace_1.3B_fp16.safetensors\"",
            "models/diffusion_models", "node 1, UNETLoader unet_name"}, NULL,
      {{"upload", 0}, {"prompt", 0}}, TRUE},
  /* a node class the server lacks (a custom node not installed) */
  {"/comfyui/preflight/missing-node", "{\"fault\": \"missing-node\", "
        "\"class\": \"WanVaceToVideo\"}", FALSE, WR2V_ERROR_UNSUPPORTED,
        {"node class WanVaceToVideo"}, NULL, {{"upload", 0}, {"prompt", 0}},
      FALSE},
  {"/comfyui/faults/prompt-400", "{\"fault\": \"prompt-400\", \"times\": 1}",
        FALSE, WR2V_ERROR_INVALID_REQUEST, {"Prompt outputs failed validation",
            "node 1 (UNETLoader)", "wan2.1_vace_1.3B", "missing"}, NULL,
      {{"prompt", 1}}, TRUE},
  {"/comfyui/faults/prompt-500", "{\"fault\": \"prompt-500\", \"times\": 1}",
      FALSE, WR2V_ERROR_NETWORK, {"HTTP 500"}, NULL, {{"prompt", 1}}, TRUE},
  {"/comfyui/faults/job-interrupted", "{\"fault\": \"job-interrupted\", "
        "\"times\": 1}", FALSE, WR2V_ERROR_JOB_FAILED, {"interrupted"}, NULL,
      {{"prompt", 1}}, FALSE},
};

int
main (int argc, char **argv)
{
  const gchar *keep = g_getenv ("WANR2V_TEST_KEEP_UPLOADS");
  const gchar *save_uploads[] = { "--save-uploads", keep, NULL };
  guint i;

  /* the shipped default workflow, from the source tree */
  if (!g_getenv ("WANR2V_DATADIR")) {
    gchar *data = g_build_filename (wr2v_test_srcdir (), "..", "data", NULL);

    g_setenv ("WANR2V_DATADIR", data, TRUE);
    g_free (data);
  }
  /* WANR2V_TEST_KEEP_UPLOADS=DIR: look at the composed images */
  if (keep)
    config.server_args = save_uploads;
  wr2v_test_engine_init (&argc, &argv, "comfyui", &config, TRUE);

  g_test_add_func ("/comfyui/check", test_check);
  WR2V_FIXTURE_ADD ("/comfyui/happy-path", NULL, test_happy_path);
  WR2V_FIXTURE_ADD ("/comfyui/portrait-and-seed", NULL, test_portrait_and_seed);
  WR2V_FIXTURE_ADD ("/comfyui/custom-workflow", NULL, test_custom_workflow);
  for (i = 0; i < G_N_ELEMENTS (hostile_outputs); i++) {
    gchar *name = g_strdup_printf ("/comfyui/hostile-output/%u", i);
    WR2V_FIXTURE_ADD (name, &hostile_outputs[i], test_hostile_output);
    g_free (name);
  }
  for (i = 0; i < G_N_ELEMENTS (hostile_uploads); i++) {
    gchar *name = g_strdup_printf ("/comfyui/hostile-upload-name/%u", i);
    WR2V_FIXTURE_ADD (name, &hostile_uploads[i], test_hostile_upload_name);
    g_free (name);
  }
  WR2V_FIXTURE_ADD ("/comfyui/preflight/shape", NULL, test_preflight_shape);
  WR2V_FIXTURE_ADD ("/comfyui/preflight/old-server", NULL,
      test_preflight_old_server);
  WR2V_FIXTURE_ADD ("/comfyui/cancel/running", NULL, test_cancel_running);
  WR2V_FIXTURE_ADD ("/comfyui/cancel/running-old-server", "old",
      test_cancel_running);
  WR2V_FIXTURE_ADD ("/comfyui/cancel/queued", NULL, test_cancel_queued);
  WR2V_FIXTURE_ADD ("/comfyui/cancel/submit", NULL, test_cancel_submit);
  wr2v_recovery_cases_add (recovery_rows, G_N_ELEMENTS (recovery_rows));
  wr2v_fail_cases_add (error_rows, G_N_ELEMENTS (error_rows));
  WR2V_FIXTURE_ADD ("/comfyui/faults/prompt-malformed", NULL,
      test_prompt_malformed);
  WR2V_FIXTURE_ADD ("/comfyui/faults/job-error", NULL, test_job_error);
  WR2V_FIXTURE_ADD ("/comfyui/uri-only", NULL, test_uri_only);
  g_test_add_func ("/comfyui/websocket/policy", test_websocket_policy);
  WR2V_FIXTURE_ADD ("/comfyui/websocket/progress", NULL,
      test_websocket_progress);
  WR2V_FIXTURE_ADD ("/comfyui/websocket/refused", "ws-404",
      test_websocket_faults);
  WR2V_FIXTURE_ADD ("/comfyui/websocket/dropped", "ws-drop",
      test_websocket_faults);
  WR2V_FIXTURE_ADD ("/comfyui/websocket/oversize", "ws-oversize",
      test_websocket_faults);
  WR2V_FIXTURE_ADD ("/comfyui/websocket/cancel", NULL, test_websocket_cancel);
  WR2V_FIXTURE_ADD ("/comfyui/websocket/resume", NULL, test_websocket_resume);

  return wr2v_test_engine_finish (g_test_run ());
}
