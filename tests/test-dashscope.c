/* test-dashscope.c: the DashScope engine against a fake DashScope API and
 * upload host (tests/fake-dashscope.py), driven through the generic job
 * driver wr2v_job_run() with a result store in a temporary directory.
 *
 * Every scenario checks how many creates the server saw (a create is a
 * paid task), and that the API key shows up nowhere: not in errors, error
 * details, element-message facts, GStreamer debug output at level 9, GLib
 * log messages, or files in the store.
 *
 * The last case talks to the real service when DASHSCOPE_API_KEY is set
 * (one 2 s 720p task with a 2 s reference video: about 4 billed seconds)
 * and is skipped otherwise.
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
#define KEY "sk-wr2v-test-KEY-4e8b1f2a"
#define WRONG_KEY "sk-wr2v-wrong-KEY-9d0c3b"
#define MODEL "wan2.7-r2v"

static const gchar *const upload_fields[] = {
  "OSSAccessKeyId", "Signature", "policy", "key", "x-oss-object-acl",
  "x-oss-forbid-overwrite", "success_action_status", "x-oss-content-type",
  "file",
};

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
  if (!have_result)
    return;

  fx->dir = g_build_filename (tmp_root, "case-XXXXXX", NULL);
  g_assert_nonnull (g_mkdtemp (fx->dir));

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE);
  fx->server = g_subprocess_launcher_spawn (launcher, &err, python,
      server_script, "--api-key", KEY, "--result-mp4", result_mp4, NULL);
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
  gchar *text;

  req.method = WR2V_HTTP_GET;
  req.url = url;
  req.max_body_bytes = 64 * 1024 * 1024;
  g_assert_true (wr2v_http_perform (fx->http, &req, &resp, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (resp.status, ==, 200);
  /* the body is not NUL-terminated */
  text = g_strndup (g_bytes_get_data (resp.body, NULL),
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

/* The last create as the server saw it. Unref the node. */
static JsonNode *
last_create (Fixture * fx, JsonObject ** body, JsonObject ** headers)
{
  JsonNode *s = stats (fx);
  JsonObject *last = json_object_get_object_member (json_node_get_object (s),
      "last_create");

  g_assert_nonnull (last);
  g_assert_true (json_object_get_boolean_member (last, "auth_ok"));
  *body = json_object_get_object_member (last, "body");
  g_assert_nonnull (*body);
  if (headers)
    *headers = json_object_get_object_member (last, "headers");
  return s;
}

/* --- requests and references ---------------------------------------- */

static gchar *
write_ref_file (Fixture * fx, const gchar * name, const gchar * seed,
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

static Wr2vReference *
add_ref_sized (Fixture * fx, Wr2vRequest * req, Wr2vRefKind kind, guint pad,
    const gchar * seed, gsize min_size)
{
  Wr2vReference *ref = wr2v_reference_new (kind, pad);
  gchar *name = g_strdup_printf ("%s%u.%s", kind == WR2V_REF_VIDEO ?
      "video" : "image", pad, kind == WR2V_REF_VIDEO ? "mp4" : "png");
  GError *err = NULL;

  ref->path = write_ref_file (fx, name, seed, min_size);
  ref->mime = g_strdup (kind == WR2V_REF_VIDEO ? "video/mp4" : "image/png");
  ref->sha256 = wr2v_file_sha256 (ref->path, &err);
  g_assert_no_error (err);
  wr2v_request_add_reference (req, ref);
  g_free (name);
  return ref;
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
    add_ref_sized (fx, req, WR2V_REF_VIDEO, i, seed, 0);
    g_free (seed);
  }
  for (i = 0; i < images; i++) {
    gchar *seed = g_strdup_printf ("image-%u", i);
    add_ref_sized (fx, req, WR2V_REF_IMAGE, i, seed, 0);
    g_free (seed);
  }
  wr2v_request_number_references (req);
  return req;
}

static Wr2vRequest *
default_request (Fixture * fx)
{
  return make_request (fx, 2, 1,
      "Video 2 holds Image 3 while Video 1 smiles at the camera");
}

/* Two references given by URL: no upload at all. */
static Wr2vRequest *
uri_request (void)
{
  Wr2vRequest *req = wr2v_request_new ();
  Wr2vReference *ref;

  req->prompt = g_strdup ("Video 1 waves at Image 2");
  req->duration = 5;
  req->seed = -1;
  ref = wr2v_reference_new (WR2V_REF_VIDEO, 0);
  ref->uri = g_strdup ("https://cdn.example.com/ref.mp4");
  ref->sha256 = g_strdup_printf ("%064x", 7);
  wr2v_request_add_reference (req, ref);
  ref = wr2v_reference_new (WR2V_REF_IMAGE, 0);
  ref->uri = g_strdup ("https://cdn.example.com/ref.png");
  ref->sha256 = g_strdup_printf ("%064x", 8);
  wr2v_request_add_reference (req, ref);
  wr2v_request_number_references (req);
  return req;
}

static Wr2vEngine *
make_engine (Fixture * fx)
{
  GError *err = NULL;
  Wr2vEngine *engine = wr2v_engine_new ("dashscope", &fx->settings, &err);

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
    g_test_message ("details: %s", s);
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

static void
assert_detail (Wr2vJob * job, const gchar * field, const gchar * value)
{
  g_assert_nonnull (job->error_details);
  if (value)
    g_assert_cmpstr (gst_structure_get_string (job->error_details, field),
        ==, value);
  else
    g_assert_true (gst_structure_has_field (job->error_details, field));
}

static void
assert_says (const GError * err, const gchar * words)
{
  g_assert_nonnull (err);
  if (!strstr (err->message, words))
    g_error ("\"%s\" does not say \"%s\"", err->message, words);
}

/* The task id the server handed out (the only one in these tests). */
static gchar *
server_task_id (Fixture * fx)
{
  JsonNode *s = stats (fx);
  JsonObject *tasks = json_object_get_object_member (json_node_get_object (s),
      "tasks");
  GList *names = json_object_get_members (tasks);
  gchar *id;

  g_assert_cmpuint (g_list_length (names), ==, 1);
  id = g_strdup (names->data);
  g_list_free (names);
  json_node_unref (s);
  return id;
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

/* --- the happy path --------------------------------------------------- */

/* Checks one upload the server received: every form field, in order,
 * matching the policy it was made with; a name from the content hash. */
static const gchar *
check_upload (JsonObject * root, JsonObject * up, const Wr2vReference * ref)
{
  JsonArray *fields = json_object_get_array_member (up, "fields");
  JsonObject *values = json_object_get_object_member (up, "values");
  JsonArray *policies = json_object_get_array_member (root, "policies");
  JsonObject *pol = NULL;
  const gchar *ext = ref->kind == WR2V_REF_VIDEO ? "mp4" : "png";
  gchar *name = g_strdup_printf ("%s.%s", ref->sha256, ext);
  gchar *key;
  guint i;

  g_assert_cmpuint (json_array_get_length (fields), ==,
      G_N_ELEMENTS (upload_fields));
  for (i = 0; i < G_N_ELEMENTS (upload_fields); i++)
    g_assert_cmpstr (json_array_get_string_element (fields, i), ==,
        upload_fields[i]);
  for (i = 0; i < json_array_get_length (policies); i++) {
    JsonObject *p = json_array_get_object_element (policies, i);
    if (g_str_equal (json_object_get_string_member (p, "oss_access_key_id"),
            json_object_get_string_member (values, "OSSAccessKeyId")))
      pol = p;
  }
  g_assert_nonnull (pol);
  g_assert_cmpstr (json_object_get_string_member (pol, "model"), ==, MODEL);
  g_assert_cmpstr (json_object_get_string_member (values, "Signature"), ==,
      json_object_get_string_member (pol, "signature"));
  g_assert_cmpstr (json_object_get_string_member (values, "policy"), ==,
      json_object_get_string_member (pol, "policy"));
  g_assert_cmpstr (json_object_get_string_member (values, "x-oss-object-acl"),
      ==, "private");
  g_assert_cmpstr (json_object_get_string_member (values,
          "x-oss-forbid-overwrite"), ==, "true");
  g_assert_cmpstr (json_object_get_string_member (values,
          "success_action_status"), ==, "200");
  g_assert_cmpstr (json_object_get_string_member (values,
          "x-oss-content-type"), ==, ref->mime);
  key = g_strconcat (json_object_get_string_member (pol, "upload_dir"), "/",
      name, NULL);
  g_assert_cmpstr (json_object_get_string_member (values, "key"), ==, key);
  g_assert_cmpstr (json_object_get_string_member (up, "filename"), ==, name);
  g_assert_cmpstr (json_object_get_string_member (up, "content_type"), ==,
      ref->mime);
  /* the upload host gets no API key */
  g_assert_false (json_object_get_boolean_member (up, "has_authorization"));
  g_free (key);
  g_free (name);
  return json_object_get_string_member (values, "key");
}

static void
test_happy_path (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r, again;
  JsonNode *s;
  JsonObject *body, *headers, *root, *input, *params;
  JsonArray *media, *uploads, *requests;
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

  g_assert_cmpint (count_of (fx, "policy"), ==, 3);
  g_assert_cmpint (count_of (fx, "upload"), ==, 3);
  g_assert_cmpint (count_of (fx, "create"), ==, 1);
  g_assert_cmpint (count_of (fx, "poll"), >=, 3);
  g_assert_cmpint (count_of (fx, "download"), ==, 1);
  g_assert_cmpint (count_of (fx, "other"), ==, 0);

  s = last_create (fx, &body, &headers);
  root = json_node_get_object (s);

  /* the headers: async, oss resolve, JSON */
  g_assert_cmpstr (json_object_get_string_member (headers,
          "X-DashScope-Async"), ==, "enable");
  g_assert_cmpstr (json_object_get_string_member (headers,
          "X-DashScope-OssResourceResolve"), ==, "enable");
  g_assert_cmpstr (json_object_get_string_member (headers, "Content-Type"),
      ==, "application/json");

  /* the body: the documented shape, only the fields set */
  g_assert_cmpstr (json_object_get_string_member (body, "model"), ==, MODEL);
  input = json_object_get_object_member (body, "input");
  g_assert_cmpstr (json_object_get_string_member (input, "prompt"), ==,
      req->prompt);
  g_assert_false (json_object_has_member (input, "negative_prompt"));
  media = json_object_get_array_member (input, "media");
  g_assert_cmpuint (json_array_get_length (media), ==, 3);
  uploads = json_object_get_array_member (root, "uploads");
  g_assert_cmpuint (json_array_get_length (uploads), ==, 3);
  for (i = 0; i < 3; i++) {
    Wr2vReference *ref = g_ptr_array_index (req->references, i);
    JsonObject *m = json_array_get_object_element (media, i);
    const gchar *key = check_upload (root,
        json_array_get_object_element (uploads, i), ref);
    gchar *oss = g_strconcat ("oss://", key, NULL);

    /* prompt order: Video 1, Video 2, Image 3 */
    g_assert_cmpuint (ref->number, ==, i + 1);
    g_assert_cmpstr (json_object_get_string_member (m, "type"), ==,
        i < 2 ? "reference_video" : "reference_image");
    g_assert_cmpstr (json_object_get_string_member (m, "url"), ==, oss);
    g_free (oss);
  }
  params = json_object_get_object_member (body, "parameters");
  g_assert_cmpstr (json_object_get_string_member (params, "resolution"), ==,
      "720P");
  g_assert_cmpint (json_object_get_int_member (params, "duration"), ==, 5);
  g_assert_false (json_object_get_boolean_member (params, "prompt_extend"));
  g_assert_true (json_object_has_member (params, "watermark"));
  g_assert_false (json_object_get_boolean_member (params, "watermark"));
  g_assert_false (json_object_has_member (params, "seed"));
  g_assert_false (json_object_has_member (params, "ratio"));

  /* the key went to the API and only there */
  requests = json_object_get_array_member (root, "requests");
  for (i = 0; i < json_array_get_length (requests); i++) {
    JsonObject *rq = json_array_get_object_element (requests, i);
    JsonObject *h = json_object_get_object_member (rq, "headers");
    const gchar *route = json_object_get_string_member (rq, "route");

    if (g_str_equal (route, "download") || g_str_equal (route, "upload"))
      g_assert_false (json_object_get_boolean_member (h, "has_authorization"));
    else
      g_assert_true (json_object_get_boolean_member (h, "auth_ok"));
    if (g_str_equal (route, "policy"))
      g_assert_cmpstr (json_object_get_string_member (rq, "path"), ==,
          "/api/v1/uploads?action=getPolicy&model=" MODEL);
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
  g_assert_cmpint (count_of (fx, "create"), ==, 1);
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
  JsonObject *body, *input, *params;

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

  s = last_create (fx, &body, NULL);
  input = json_object_get_object_member (body, "input");
  params = json_object_get_object_member (body, "parameters");
  g_assert_cmpstr (json_object_get_string_member (input, "negative_prompt"),
      ==, "blurry");
  g_assert_cmpint (json_object_get_int_member (params, "seed"), ==, 42);
  g_assert_cmpstr (json_object_get_string_member (params, "ratio"), ==, "9:16");
  g_assert_cmpstr (json_object_get_string_member (params, "resolution"), ==,
      "1080P");
  g_assert_cmpint (json_object_get_int_member (params, "duration"), ==, 10);
  g_assert_true (json_object_get_boolean_member (params, "prompt_extend"));
  g_assert_false (json_object_get_boolean_member (params, "watermark"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member
          (input, "media")), ==, 3);
  json_node_unref (s);
  g_assert_cmpint (count_of (fx, "create"), ==, 1);

  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* References with a uri are used as they are: no upload, no oss header. */
static void
test_uri_references (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;
  JsonNode *s;
  JsonObject *body, *headers;
  JsonArray *media;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = uri_request ();

  run_job (fx, engine, req, &r);
  g_assert_no_error (r.error);
  assert_result_is_the_clip (r.path);
  g_assert_cmpint (count_of (fx, "policy"), ==, 0);
  g_assert_cmpint (count_of (fx, "upload"), ==, 0);
  g_assert_cmpint (count_of (fx, "create"), ==, 1);
  s = last_create (fx, &body, &headers);
  media = json_object_get_array_member (json_object_get_object_member (body,
          "input"), "media");
  g_assert_cmpstr (json_object_get_string_member
      (json_array_get_object_element (media, 0), "url"), ==,
      "https://cdn.example.com/ref.mp4");
  g_assert_cmpstr (json_object_get_string_member
      (json_array_get_object_element (media, 0), "type"), ==,
      "reference_video");
  g_assert_cmpstr (json_object_get_string_member
      (json_array_get_object_element (media, 1), "url"), ==,
      "https://cdn.example.com/ref.png");
  g_assert_cmpstr (json_object_get_string_member
      (json_array_get_object_element (media, 1), "type"), ==,
      "reference_image");
  g_assert_cmpstr (json_object_get_string_member (headers,
          "X-DashScope-Async"), ==, "enable");
  g_assert_false (json_object_has_member (headers,
          "X-DashScope-OssResourceResolve"));
  json_node_unref (s);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* A uri on one pad, a file on the other: one upload, the oss header. */
static void
test_mixed_references (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Wr2vReference *ref;
  Run r;
  JsonNode *s;
  JsonObject *body, *headers;
  JsonArray *media;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = wr2v_request_new ();
  req->prompt = g_strdup ("Video 1 picks up Image 2");
  req->duration = 5;
  req->seed = -1;
  ref = wr2v_reference_new (WR2V_REF_VIDEO, 0);
  ref->uri = g_strdup ("https://cdn.example.com/ref.mp4");
  /* the pad still took the media: a file is there, but not uploaded */
  ref->path = write_ref_file (fx, "uri-video.mp4", "uri-video", 0);
  ref->mime = g_strdup ("video/mp4");
  ref->sha256 = wr2v_file_sha256 (ref->path, NULL);
  wr2v_request_add_reference (req, ref);
  add_ref_sized (fx, req, WR2V_REF_IMAGE, 0, "image-0", 0);
  wr2v_request_number_references (req);

  run_job (fx, engine, req, &r);
  g_assert_no_error (r.error);
  g_assert_cmpint (count_of (fx, "upload"), ==, 1);
  s = last_create (fx, &body, &headers);
  media = json_object_get_array_member (json_object_get_object_member (body,
          "input"), "media");
  g_assert_cmpstr (json_object_get_string_member
      (json_array_get_object_element (media, 0), "url"), ==,
      "https://cdn.example.com/ref.mp4");
  g_assert_true (g_str_has_prefix (json_object_get_string_member
          (json_array_get_object_element (media, 1), "url"), "oss://"));
  g_assert_cmpstr (json_object_get_string_member (headers,
          "X-DashScope-OssResourceResolve"), ==, "enable");
  json_node_unref (s);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* Uploaded references are reused by a later, different request, also
 * from a new engine (the store remembers them)... */
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
  g_assert_cmpint (count_of (fx, "policy"), ==, 3);
  g_assert_cmpint (count_of (fx, "upload"), ==, 3);
  g_assert_cmpint (count_of (fx, "create"), ==, 2);
  wr2v_engine_free (engine);

  /* ... but not by another model: an oss:// URL is bound to its model */
  g_free (fx->settings.model);
  fx->settings.model = g_strdup ("wan2.7-r2v-other");
  engine = make_engine (fx);
  run_job (fx, engine, b, &r);
  g_assert_no_error (r.error);
  run_clear (&r);
  g_assert_cmpint (count_of (fx, "upload"), ==, 6);
  g_assert_cmpint (count_of (fx, "create"), ==, 3);

  wr2v_request_free (a);
  wr2v_request_free (b);
  wr2v_engine_free (engine);
}

/* 409 FileAlreadyExists: the name is the content's hash, so the same
 * bytes are there already. */
static void
test_upload_exists (Fixture * fx, gconstpointer data)
{
  SKIP_IF_NO_SETUP (fx);
  {
    Wr2vEngine *engine = make_engine (fx);
    Wr2vRequest *req = default_request (fx);
    Run r;

    control (fx, "{\"fault\": \"upload-exists\", \"times\": 1}");
    run_job (fx, engine, req, &r);
    g_assert_no_error (r.error);
    assert_result_is_the_clip (r.path);
    g_assert_cmpint (count_of (fx, "upload"), ==, 3);
    g_assert_cmpint (count_of (fx, "create"), ==, 1);
    run_clear (&r);
    wr2v_request_free (req);
    wr2v_engine_free (engine);
  }
}

/* An upload that fails (host trouble, an expired policy) is tried again
 * with a new policy: it creates nothing billable. */
static void
test_upload_retry (Fixture * fx, gconstpointer data)
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
  g_assert_no_error (r.error);
  assert_result_is_the_clip (r.path);
  g_assert_cmpint (count_of (fx, "upload"), ==, 4);
  g_assert_cmpint (count_of (fx, "policy"), ==, 4);
  g_assert_cmpint (count_of (fx, "create"), ==, 1);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* A file above the policy's max_file_size_mb is refused before upload. */
static void
test_upload_too_large (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = wr2v_request_new ();
  req->prompt = g_strdup ("Video 1 runs");
  req->duration = 5;
  req->seed = -1;
  add_ref_sized (fx, req, WR2V_REF_VIDEO, 0, "big", 1536 * 1024);
  wr2v_request_number_references (req);
  control (fx, "{\"max_file_size_mb\": 1}");
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST);
  assert_says (r.error, "Video 1");
  assert_says (r.error, "up to 1.0");
  g_assert_cmpint (count_of (fx, "policy"), ==, 1);
  g_assert_cmpint (count_of (fx, "upload"), ==, 0);
  g_assert_cmpint (count_of (fx, "create"), ==, 0);
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
  g_assert_cmpint (count_of (fx, "create"), ==, 1);
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
      "{\"fault\": \"poll-429\", \"times\": 2, \"retry_after\": 1}");
  /* Retry-After: 1 was honoured, twice */
  g_assert_cmpint (g_get_monotonic_time () - start, >=, 2 * G_USEC_PER_SEC);
}

static void
test_policy_503 (Fixture * fx, gconstpointer data)
{
  SKIP_IF_NO_SETUP (fx);
  run_expect_success (fx, "{\"fault\": \"policy-503\", \"times\": 1}");
  g_assert_cmpint (count_of (fx, "policy"), ==, 4);
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

/* A truncated clip fails the check; the task stays in the journal and the
 * next run downloads it again, without a new create. */
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
  id = server_task_id (fx);
  assert_journal (fx, r.job.hash, TRUE, id);
  run_clear (&r);

  run_job (fx, engine, req, &r);
  g_assert_no_error (r.error);
  assert_result_is_the_clip (r.path);
  g_assert_cmpstr (r.job.job_id, ==, id);
  g_assert_cmpint (count_of (fx, "create"), ==, 1);
  g_assert_cmpint (count_of (fx, "download"), ==, 2);
  run_clear (&r);
  g_free (id);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* A task that never finishes ends at request-timeout with its id; once it
 * finishes, the next run resumes it (as after a killed pipeline). */
static void
test_never_finishes_then_resume (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;
  gchar *id, *json;

  SKIP_IF_NO_SETUP (fx);
  fx->settings.request_timeout_s = SHORT_TIMEOUT_S (2);
  engine = make_engine (fx);
  req = default_request (fx);
  control (fx, "{\"fault\": \"never-finish\", \"times\": 1}");
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_TIMEOUT);
  id = server_task_id (fx);
  assert_says (r.error, id);
  assert_journal (fx, r.job.hash, TRUE, id);
  run_clear (&r);
  wr2v_engine_free (engine);

  /* the provider finishes it meanwhile */
  json = g_strdup_printf ("{\"create_task\": \"%s\"}", id);
  control (fx, json);
  g_free (json);
  fx->settings.request_timeout_s = 30;
  engine = make_engine (fx);
  run_job (fx, engine, req, &r);
  g_assert_no_error (r.error);
  assert_result_is_the_clip (r.path);
  g_assert_cmpstr (r.job.job_id, ==, id);
  g_assert_cmpint (count_of (fx, "create"), ==, 1);
  g_assert_cmpint (count_of (fx, "upload"), ==, 3);
  assert_journal (fx, r.job.hash, FALSE, NULL);
  run_clear (&r);
  g_free (id);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* A journal entry with a task id: poll that task, never create. */
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
  control (fx, "{\"create_task\": \"7c1d2e3f-resume\"}");
  g_assert_true (wr2v_store_journal_begin (fx->store, hash, "dashscope", &err));
  g_assert_true (wr2v_store_journal_set_job (fx->store, hash, "dashscope",
          "7c1d2e3f-resume", &err));
  g_assert_no_error (err);

  run_job (fx, engine, req, &r);
  g_assert_no_error (r.error);
  g_assert_cmpstr (r.job.hash, ==, hash);
  g_assert_cmpstr (r.job.job_id, ==, "7c1d2e3f-resume");
  assert_result_is_the_clip (r.path);
  g_assert_cmpint (count_of (fx, "create"), ==, 0);
  g_assert_cmpint (count_of (fx, "upload"), ==, 0);
  g_assert_cmpint (count_of (fx, "policy"), ==, 0);
  g_assert_cmpint (count_of (fx, "poll"), >=, 1);
  assert_journal (fx, hash, FALSE, NULL);
  run_clear (&r);
  g_free (hash);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* --- faults that end in an error -------------------------------------- */

/* UNKNOWN is terminal: a task the service no longer knows (> 24 h). */
static void
test_unknown_task (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  gchar *hash;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request (fx);
  hash = request_hash (engine, req);
  g_assert_true (wr2v_store_journal_set_job (fx->store, hash, "dashscope",
          "task-gone", NULL));
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_NOT_FOUND);
  assert_says (r.error, "task-gone");
  assert_says (r.error, "unknown or older than 24 h");
  assert_detail (&r.job, "job-id", "task-gone");
  assert_detail (&r.job, "request-id", NULL);
  g_assert_cmpint (count_of (fx, "poll"), ==, 1);
  g_assert_cmpint (count_of (fx, "create"), ==, 0);
  /* over: the next run may create afresh */
  assert_journal (fx, hash, FALSE, NULL);
  run_clear (&r);

  /* a task that turns UNKNOWN after its create */
  control (fx, "{\"fault\": \"task-unknown\", \"times\": 1}");
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_NOT_FOUND);
  g_assert_cmpint (count_of (fx, "create"), ==, 1);
  assert_journal (fx, hash, FALSE, NULL);
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
  assert_says (r.error, "DASHSCOPE_API_KEY");
  assert_says (r.error, "api-key");
  assert_says (r.error, "region");
  assert_says (r.error, "InvalidApiKey");
  /* refused at the first policy: nothing uploaded, nothing created */
  g_assert_cmpint (count_of (fx, "policy"), ==, 1);
  g_assert_cmpint (count_of (fx, "upload"), ==, 0);
  g_assert_cmpint (count_of (fx, "create"), ==, 0);
  assert_detail (&r.job, "http-status", NULL);
  assert_detail (&r.job, "provider-code", "InvalidApiKey");
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

typedef struct
{
  const gchar *fault;
  gint domain_code;
  const gchar *provider_code;
  const gchar *words[3];
} CreateFault;

static const CreateFault create_faults[] = {
  {"401", WR2V_ERROR_NOT_AUTHORIZED, "InvalidApiKey",
      {"DASHSCOPE_API_KEY", "region", NULL}},
  {"403", WR2V_ERROR_NOT_AUTHORIZED, "AccessDenied",
      {"DASHSCOPE_API_KEY", "region", NULL}},
  {"403-unpurchased", WR2V_ERROR_NOT_AUTHORIZED, "AccessDenied.Unpurchased",
      {"not activated", MODEL, NULL}},
  {"arrearage", WR2V_ERROR_NOT_AUTHORIZED, "Arrearage",
      {"the account has an overdue payment: top up", NULL}},
  {"create-data-inspection", WR2V_ERROR_INVALID_REQUEST,
        "DataInspectionFailed",
      {"moderation", "change the prompt or references", NULL}},
  {"create-invalid-parameter", WR2V_ERROR_INVALID_REQUEST,
        "InvalidParameter",
      {"parameter", "duration", NULL}},
  {"create-429", WR2V_ERROR_NETWORK, "Throttling.RateQuota",
      {"throttled", "nothing was created", "retry later"}},
};

/* The create refused: one create seen, nothing made, and the journal
 * forgets it (a rerun may create). References by URL: the create is the
 * first API call. */
static void
test_create_refused (Fixture * fx, gconstpointer data)
{
  const CreateFault *cf = data;
  Wr2vEngine *engine;
  Wr2vRequest *req;
  gchar *json;
  Run r;
  guint i;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = uri_request ();
  json = g_strdup_printf ("{\"fault\": \"%s\", \"times\": 1}", cf->fault);
  control (fx, json);
  g_free (json);
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, cf->domain_code);
  for (i = 0; i < G_N_ELEMENTS (cf->words) && cf->words[i]; i++)
    assert_says (r.error, cf->words[i]);
  assert_detail (&r.job, "provider-code", cf->provider_code);
  assert_detail (&r.job, "provider-message", NULL);
  assert_detail (&r.job, "request-id", NULL);
  assert_detail (&r.job, "http-status", NULL);
  g_assert_cmpint (count_of (fx, "create"), ==, 1);
  assert_journal (fx, r.job.hash, FALSE, NULL);
  /* never retried by itself, also not a 429 */
  g_usleep (G_USEC_PER_SEC / 2);
  g_assert_cmpint (count_of (fx, "create"), ==, 1);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* InvalidURL on create: the uploads are not offered again. */
static void
test_create_invalid_url (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request (fx);
  control (fx, "{\"fault\": \"create-invalid-url\", \"times\": 1}");
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST);
  assert_says (r.error, "InvalidURL");
  assert_detail (&r.job, "provider-code", "InvalidURL");
  g_assert_cmpint (count_of (fx, "create"), ==, 1);
  assert_journal (fx, r.job.hash, FALSE, NULL);
  run_clear (&r);
  wr2v_engine_free (engine);

  /* a new engine: only the store could remember, and it forgot */
  engine = make_engine (fx);
  run_job (fx, engine, req, &r);
  g_assert_no_error (r.error);
  g_assert_cmpint (count_of (fx, "upload"), ==, 6);
  g_assert_cmpint (count_of (fx, "create"), ==, 2);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

static void
test_no_key (Fixture * fx, gconstpointer data)
{
  gchar *saved = g_strdup (g_getenv ("DASHSCOPE_API_KEY"));
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  g_unsetenv ("DASHSCOPE_API_KEY");
  g_clear_pointer (&fx->settings.api_key, g_free);
  engine = make_engine (fx);
  req = default_request (fx);
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_NO_CREDENTIALS);
  assert_says (r.error, "DASHSCOPE_API_KEY");
  assert_says (r.error, "api-key");
  g_assert_cmpint (total_requests (fx), ==, 0);
  run_clear (&r);
  if (saved)
    g_setenv ("DASHSCOPE_API_KEY", saved, TRUE);
  g_free (saved);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* Refused before any request: 15 s with a reference video. */
static void
test_duration_with_video (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request (fx);
  req->duration = 15;
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED);
  assert_says (r.error, "at most 10 seconds");
  assert_says (r.error, "reference video");
  g_assert_cmpint (total_requests (fx), ==, 0);
  assert_journal (fx, r.job.hash, FALSE, NULL);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

static void
test_unknown_region (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  fx->settings.region = g_strdup ("frankfurt");
  engine = make_engine (fx);
  req = default_request (fx);
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST);
  assert_says (r.error, "frankfurt");
  assert_says (r.error, "singapore");
  assert_says (r.error, "beijing");
  g_assert_cmpint (total_requests (fx), ==, 0);
  run_clear (&r);
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
  id = server_task_id (fx);
  assert_says (r.error, id);
  assert_journal (fx, r.job.hash, TRUE, id);
  run_clear (&r);

  /* the rerun resumes the same task */
  run_job (fx, engine, req, &r);
  g_assert_no_error (r.error);
  assert_result_is_the_clip (r.path);
  g_assert_cmpint (count_of (fx, "create"), ==, 1);
  run_clear (&r);
  g_free (id);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* Answers after which a paid task may exist: never created again. */
static void
test_maybe_submitted (Fixture * fx, gconstpointer data)
{
  const gchar *fault = data;
  Wr2vEngine *engine;
  Wr2vRequest *req;
  gchar *json;
  Run r;
  gint64 start;

  SKIP_IF_NO_SETUP (fx);
  fx->settings.request_timeout_s = SHORT_TIMEOUT_S (2);
  engine = make_engine (fx);
  req = default_request (fx);
  json = g_strdup_printf ("{\"fault\": \"%s\", \"times\": 1}", fault);
  control (fx, json);
  g_free (json);
  start = g_get_monotonic_time ();
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_MAYBE_SUBMITTED);
  g_assert_cmpint (r.t_end - start, <, WR2V_TEST_TIME (10 * G_USEC_PER_SEC));
  assert_says (r.error, "paid task may have been created");
  assert_says (r.error, "console");
  assert_says (r.error, r.job.hash);
  g_assert_cmpint (count_of (fx, "create"), ==, 1);
  if (g_str_equal (fault, "submit-drop")) {
    /* the policies and uploads shared a kept-alive connection, on which
     * libcurl would have sent the dropped create again by itself */
    g_assert_cmpint (count_of (fx, "upload"), ==, 3);
    g_assert_cmpint (peer_port (fx, "policy", 0), ==, peer_port (fx,
            "upload", 2));
    g_assert_cmpint (peer_port (fx, "create", 0), !=, peer_port (fx,
            "upload", 2));
  }
  run_clear (&r);

  /* the next run does not create again */
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_MAYBE_SUBMITTED);
  g_assert_cmpint (count_of (fx, "create"), ==, 1);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

typedef struct
{
  const gchar *control;
  const gchar *code;
  const gchar *words[2];
} FailCase;

static const FailCase fail_cases[] = {
  {"{\"fault\": \"task-fail\", \"code\": \"DataInspectionFailed\"}",
        "DataInspectionFailed", {"content moderation",
          "change the prompt or references"}},
  {"{\"fault\": \"task-fail\", \"code\": \"InvalidParameter\"}",
      "InvalidParameter", {"invalid parameter", "duration"}},
  {"{\"fault\": \"task-fail\", \"code\": \"InternalError\"}",
      "InternalError", {"provider's side", "try again later"}},
  {"{\"fault\": \"task-canceled\"}", NULL, {"canceled", "run again"}},
};

static void
test_task_fails (Fixture * fx, gconstpointer data)
{
  const FailCase *fc = data;
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;
  gchar *id;
  gint status = 0;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request (fx);
  control (fx, fc->control);
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_JOB_FAILED);
  assert_says (r.error, fc->words[0]);
  assert_says (r.error, fc->words[1]);
  id = server_task_id (fx);
  assert_says (r.error, id);

  assert_detail (&r.job, "job-id", id);
  if (fc->code) {
    assert_detail (&r.job, "provider-code", fc->code);
    assert_detail (&r.job, "provider-message", NULL);
  }
  assert_detail (&r.job, "request-id", NULL);
  g_assert_true (gst_structure_get_int (r.job.error_details, "http-status",
          &status));
  g_assert_cmpint (status, ==, 200);
  g_assert_cmpint (count_of (fx, "create"), ==, 1);
  /* the task is over: the journal lets a rerun create afresh */
  assert_journal (fx, r.job.hash, FALSE, NULL);
  run_clear (&r);
  g_free (id);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

static void
test_download_expired (Fixture * fx, gconstpointer data)
{
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Run r;

  SKIP_IF_NO_SETUP (fx);
  engine = make_engine (fx);
  req = default_request (fx);
  control (fx, "{\"fault\": \"download-expired\", \"times\": 1}");
  run_job (fx, engine, req, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_NOT_FOUND);
  assert_says (r.error, "24 h");
  /* the signed query is not shown */
  g_assert_null (strstr (r.error->message, "Signature"));
  g_assert_cmpint (count_of (fx, "create"), ==, 1);
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
  assert_says (r.error, "larger than the limit");
  g_assert_cmpint (count_of (fx, "download"), ==, 1);
  g_assert_cmpint (count_of (fx, "create"), ==, 1);
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
  assert_says (r.error, "loopback");
  g_assert_cmpint (count_of (fx, "download"), ==, 0);
  g_assert_cmpint (count_of (fx, "create"), ==, 1);
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* The fake itself enforces what the engine must send. */
static void
test_fake_enforces_headers (Fixture * fx, gconstpointer data)
{
  static const gchar body[] = "{\"model\":\"" MODEL "\",\"input\":{"
      "\"prompt\":\"Video 1\",\"media\":[{\"type\":\"reference_video\","
      "\"url\":\"oss://nowhere/a.mp4\"}]},\"parameters\":{\"resolution\":"
      "\"720P\",\"duration\":5}}";
  const gchar *async_hdr[] = { "X-DashScope-Async: enable", NULL };
  gchar *url;
  Wr2vHttpRequest req = { 0, };
  Wr2vHttpResponse resp = { 0, };
  GError *err = NULL;

  SKIP_IF_NO_SETUP (fx);
  url = g_strconcat (fx->base, "/api/v1/services/aigc/video-generation/"
      "video-synthesis", NULL);
  req.method = WR2V_HTTP_POST;
  req.url = url;
  req.body = g_bytes_new_static (body, strlen (body));
  req.content_type = "application/json";

  /* no key */
  g_assert_true (wr2v_http_perform (fx->http, &req, &resp, &err));
  g_assert_cmpuint (resp.status, ==, 401);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (resp.body, NULL),
          g_bytes_get_size (resp.body), "InvalidApiKey"));
  /* no async header */
  req.bearer = KEY;
  g_assert_true (wr2v_http_perform (fx->http, &req, &resp, &err));
  g_assert_cmpuint (resp.status, ==, 400);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (resp.body, NULL),
          g_bytes_get_size (resp.body), "does not support synchronous"));
  /* oss:// without the resolve header (and no such object) */
  req.headers = async_hdr;
  g_assert_true (wr2v_http_perform (fx->http, &req, &resp, &err));
  g_assert_cmpuint (resp.status, ==, 400);
  g_assert_no_error (err);
  wr2v_http_response_clear (&resp);
  g_bytes_unref (req.body);
  g_free (url);
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
    g_assert_cmpint (count_of (fx, "create"), ==, 0);
    assert_journal (fx, r.job.hash, FALSE, NULL);
  } else {
    /* the task is safe in the journal: a rerun resumes it */
    gchar *id = server_task_id (fx);
    g_assert_cmpint (count_of (fx, "create"), ==, 1);
    assert_journal (fx, r.job.hash, TRUE, id);
    g_free (id);
  }
  run_clear (&r);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* --- no server needed ------------------------------------------------- */

static Wr2vRequest *
check_request (guint videos, guint images)
{
  Wr2vRequest *req = wr2v_request_new ();
  guint i;

  req->prompt = g_strdup ("Video 1 spins");
  req->seed = -1;
  req->duration = 5;
  for (i = 0; i < videos + images; i++) {
    Wr2vReference *ref = wr2v_reference_new (i < videos ? WR2V_REF_VIDEO :
        WR2V_REF_IMAGE, i);
    ref->uri = g_strdup_printf ("https://cdn.example.com/%u", i);
    ref->sha256 = g_strdup_printf ("%064x", i + 1);
    wr2v_request_add_reference (req, ref);
  }
  wr2v_request_number_references (req);
  if (videos == 0) {
    g_free (req->prompt);
    req->prompt = g_strdup ("Image 1 spins");
  }
  return req;
}

static void
expect_refused (Wr2vEngine * engine, Wr2vRequest * req, const gchar * words)
{
  GError *err = NULL;

  g_assert_false (wr2v_engine_check (engine, req, &err));
  g_assert_nonnull (err);
  g_test_message ("refused: %s", err->message);
  assert_says (err, words);
  g_clear_error (&err);
}

static void
test_check (void)
{
  Wr2vEngine *engine = wr2v_engine_new ("dashscope", NULL, NULL);
  Wr2vRequest *req = check_request (1, 1);
  Wr2vRequest *images = check_request (0, 2);
  GError *err = NULL;
  gchar *identity, *s;

  g_assert_nonnull (engine);
  g_assert_cmpstr (engine->klass->key_variable, ==, "DASHSCOPE_API_KEY");
  g_assert_cmpuint (engine->klass->default_timeout_s, ==, 1800);
  g_assert_null (engine->klass->cancel_remote);

  /* 2..15 s; at most 10 s with a reference video */
  req->duration = 1;
  expect_refused (engine, req, "2 to 15 seconds");
  req->duration = 16;
  expect_refused (engine, req, "2 to 15 seconds");
  req->duration = 11;
  expect_refused (engine, req, "at most 10 seconds when any reference video");
  req->duration = 15;
  expect_refused (engine, req, "at most 10 seconds when any reference video");
  req->duration = 10;
  g_assert_true (wr2v_engine_check (engine, req, &err));
  g_assert_no_error (err);
  req->duration = 2;
  g_assert_true (wr2v_engine_check (engine, req, NULL));
  images->duration = 15;
  g_assert_true (wr2v_engine_check (engine, images, &err));
  g_assert_no_error (err);

  /* every ratio and both resolutions */
  for (guint ar = WR2V_ASPECT_16_9; ar <= WR2V_ASPECT_3_4; ar++) {
    req->aspect_ratio = ar;
    req->aspect_ratio_set = TRUE;
    req->resolution = ar % 2 ? WR2V_RESOLUTION_1080P : WR2V_RESOLUTION_720P;
    g_assert_true (wr2v_engine_check (engine, req, NULL));
  }

  /* prompt lengths [3P]: characters, not bytes */
  s = g_strnfill (5000 - strlen ("Video 1 spins"), 'a');
  g_free (req->prompt);
  req->prompt = g_strconcat ("Video 1 spins", s, NULL);
  g_assert_true (wr2v_engine_check (engine, req, NULL));
  g_free (req->prompt);
  req->prompt = g_strconcat ("Video 1 spins", s, "b", NULL);
  expect_refused (engine, req, "5000");
  g_free (s);
  g_free (req->prompt);
  req->prompt = g_strdup ("Video 1 spins \xc3\xa9\xc3\xa9");
  s = g_strnfill (500, 'n');
  req->negative_prompt = s;
  g_assert_true (wr2v_engine_check (engine, req, NULL));
  req->negative_prompt = g_strconcat (s, "\xc3\xa9", NULL);
  g_free (s);
  expect_refused (engine, req, "500");
  g_clear_pointer (&req->negative_prompt, g_free);

  req->seed = G_GINT64_CONSTANT (2147483648);
  expect_refused (engine, req, "seed");
  req->seed = 2147483647;
  g_assert_true (wr2v_engine_check (engine, req, NULL));
  req->seed = -1;

  identity = engine->klass->identity (engine);
  g_assert_cmpstr (identity, ==, MODEL);
  g_free (identity);

  wr2v_request_free (images);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

static void
test_settings (void)
{
  Wr2vEngineSettings settings = { 0, };
  Wr2vRequest *req = check_request (1, 0);
  Wr2vEngine *engine;
  GError *err = NULL;
  gchar *identity;

  /* regions, case-insensitive; an unknown one is refused clearly */
  settings.region = g_strdup ("US");
  engine = wr2v_engine_new ("dashscope", &settings, NULL);
  g_assert_true (wr2v_engine_check (engine, req, &err));
  g_assert_no_error (err);
  wr2v_engine_free (engine);
  g_free (settings.region);
  settings.region = g_strdup ("beijing");
  engine = wr2v_engine_new ("dashscope", &settings, NULL);
  g_assert_true (wr2v_engine_check (engine, req, NULL));
  wr2v_engine_free (engine);
  g_free (settings.region);
  settings.region = g_strdup ("hangzhou");
  engine = wr2v_engine_new ("dashscope", &settings, NULL);
  g_assert_false (wr2v_engine_check (engine, req, &err));
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST);
  assert_says (err, "hangzhou");
  assert_says (err, "singapore");
  assert_says (err, "us");
  assert_says (err, "beijing");
  g_clear_error (&err);
  wr2v_engine_free (engine);
  g_clear_pointer (&settings.region, g_free);

  /* api-url: https, or http on loopback only */
  settings.api_url = g_strdup ("http://dashscope.example.com");
  engine = wr2v_engine_new ("dashscope", &settings, NULL);
  g_assert_false (wr2v_engine_check (engine, req, &err));
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST);
  assert_says (err, "api-url");
  g_clear_error (&err);
  wr2v_engine_free (engine);
  g_clear_pointer (&settings.api_url, g_free);

  /* the model changes the result: it is the identity */
  settings.model = g_strdup ("wan2.7-r2v-preview");
  engine = wr2v_engine_new ("dashscope", &settings, NULL);
  identity = engine->klass->identity (engine);
  g_assert_cmpstr (identity, ==, "wan2.7-r2v-preview");
  g_free (identity);
  wr2v_engine_free (engine);
  g_free (settings.model);
  settings.model = g_strdup ("wan2.7 r2v/../x");
  engine = wr2v_engine_new ("dashscope", &settings, NULL);
  expect_refused (engine, req, "model");
  wr2v_engine_free (engine);

  wr2v_engine_settings_clear (&settings);
  wr2v_request_free (req);
}

static void
test_cost (void)
{
  Wr2vEngine *engine = wr2v_engine_new ("dashscope", NULL, NULL);
  Wr2vRequest *req = check_request (2, 1);
  Wr2vRequest *images = check_request (0, 1);
  gdouble c720, c1080;

  /* input video seconds are billed too: unknown lengths count 10 s each */
  req->duration = 5;
  c720 = wr2v_engine_estimate_cost (engine, req);
  g_assert_cmpfloat_with_epsilon (c720, (5 + 2 * 10) * 0.10, 1e-9);
  req->resolution = WR2V_RESOLUTION_1080P;
  c1080 = wr2v_engine_estimate_cost (engine, req);
  g_assert_cmpfloat (c1080, >, c720);
  images->duration = 15;
  g_assert_cmpfloat_with_epsilon (wr2v_engine_estimate_cost (engine, images),
      15 * 0.10, 1e-9);
  wr2v_request_free (images);
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* A reference MP4's length is read from its header for the estimate. */
static void
test_cost_reads_mp4 (void)
{
  Wr2vEngine *engine = wr2v_engine_new ("dashscope", NULL, NULL);
  Wr2vRequest *req = check_request (1, 0);
  Wr2vReference *ref = g_ptr_array_index (req->references, 0);

  if (!have_result) {
    g_test_skip ("could not make an MP4 (x264enc?)");
    goto out;
  }
  /* the result clip is 1 s long: billed as 1 s of input */
  ref->path = g_strdup (result_mp4);
  req->duration = 5;
  g_assert_cmpfloat_with_epsilon (wr2v_engine_estimate_cost (engine, req),
      (5 + 1) * 0.10, 1e-9);
out:
  wr2v_request_free (req);
  wr2v_engine_free (engine);
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

/* One real task: 2 s, 720p, a 2 s reference video, uploaded through the
 * temporary upload. DASHSCOPE_REGION picks the region (default
 * singapore). */
static void
test_real_service (void)
{
  const gchar *key = g_getenv ("DASHSCOPE_API_KEY");
  Wr2vEngineSettings settings = { 0, };
  Wr2vEngine *engine;
  Wr2vRequest *req;
  Wr2vReference *ref;
  Wr2vStore *store;
  Wr2vJob job;
  GError *err = NULL;
  gchar *dir, *video, *desc, *path;

  if (!key || !*key) {
    g_test_skip ("DASHSCOPE_API_KEY not set");
    return;
  }
  dir = g_build_filename (tmp_root, "real", NULL);
  g_mkdir_with_parents (dir, 0700);
  video = g_build_filename (dir, "ref.mp4", NULL);
  desc = g_strdup_printf ("videotestsrc pattern=ball num-buffers=60 ! "
      "video/x-raw,width=640,height=360,framerate=30/1 ! x264enc ! mp4mux ! "
      "filesink location=\"%s\"", video);
  run_pipeline (desc);
  g_free (desc);

  /* the key comes from the environment, as in production */
  settings.region = g_strdup (g_getenv ("DASHSCOPE_REGION"));
  settings.request_timeout_s = 30 * 60;
  settings.poll_interval_ms = 5000;
  settings.poll_interval_max_ms = 15000;
  engine = wr2v_engine_new ("dashscope", &settings, &err);
  g_assert_no_error (err);
  store = wr2v_store_open (dir, &err);
  g_assert_no_error (err);

  req = wr2v_request_new ();
  req->prompt = g_strdup ("The ball from Video 1 bounces across a wooden "
      "table");
  req->duration = 2;
  req->resolution = WR2V_RESOLUTION_720P;
  req->seed = -1;
  ref = wr2v_reference_new (WR2V_REF_VIDEO, 0);
  ref->path = g_strdup (video);
  ref->mime = g_strdup ("video/mp4");
  ref->sha256 = wr2v_file_sha256 (video, NULL);
  wr2v_request_add_reference (req, ref);
  wr2v_request_number_references (req);
  g_assert_true (wr2v_engine_check (engine, req, &err));
  g_assert_no_error (err);
  g_test_message ("estimated USD %.2f",
      wr2v_engine_estimate_cost (engine, req));

  wr2v_job_init (&job, req, engine, store, NULL);
  path = wr2v_job_run (&job, &err);
  if (err) {
    g_assert_null (strstr (err->message, key));
    g_test_message ("real task failed: %s", err->message);
  }
  g_assert_no_error (err);
  g_assert_nonnull (path);
  g_test_message ("task %s: %s", job.job_id, path);
  g_free (path);
  wr2v_job_clear (&job);
  wr2v_request_free (req);
  wr2v_store_free (store);
  wr2v_engine_free (engine);
  wr2v_engine_settings_clear (&settings);
  g_free (video);
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
  g_test_add ("/dashscope/" name, Fixture, data, fixture_setup, func, \
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

  tmp_root = g_dir_make_tmp ("wanr2v-dashscope-XXXXXX", NULL);
  g_assert_nonnull (tmp_root);
  result_mp4 = g_build_filename (tmp_root, "result.mp4", NULL);
  have_result = try_make_result (result_mp4);

  server_script = g_strdup (g_getenv ("WANR2V_FAKE_DASHSCOPE"));
  srcdir = g_getenv ("WANR2V_TESTS_SRCDIR");
  if (!server_script && srcdir)
    server_script = g_build_filename (srcdir, "fake-dashscope.py", NULL);
  if (!server_script)
    server_script = g_strdup ("fake-dashscope.py");
  python = g_strdup (g_getenv ("WANR2V_PYTHON") ? g_getenv ("WANR2V_PYTHON")
      : "/usr/bin/python3");

  g_test_add_func ("/dashscope/check", test_check);
  g_test_add_func ("/dashscope/settings", test_settings);
  g_test_add_func ("/dashscope/cost", test_cost);
  g_test_add_func ("/dashscope/cost-reads-mp4", test_cost_reads_mp4);

  ADD ("happy-path", NULL, test_happy_path);
  ADD ("options", NULL, test_options);
  ADD ("uri-references", NULL, test_uri_references);
  ADD ("mixed-references", NULL, test_mixed_references);
  ADD ("upload-reuse", NULL, test_upload_reuse);
  ADD ("upload-exists", NULL, test_upload_exists);
  ADD ("upload-retry/500", "upload-500", test_upload_retry);
  ADD ("upload-retry/policy-expired", "upload-403", test_upload_retry);
  ADD ("upload-too-large", NULL, test_upload_too_large);
  ADD ("poll-500", GUINT_TO_POINTER (500), test_poll_5xx);
  ADD ("poll-502", GUINT_TO_POINTER (502), test_poll_5xx);
  ADD ("poll-503", GUINT_TO_POINTER (503), test_poll_5xx);
  ADD ("poll-504", GUINT_TO_POINTER (504), test_poll_5xx);
  ADD ("poll-429", NULL, test_poll_429);
  ADD ("policy-503", NULL, test_policy_503);
  ADD ("slow-answers", NULL, test_slow_answers);
  ADD ("download-reset", NULL, test_download_reset);
  ADD ("download-redirect", NULL, test_download_redirect);
  ADD ("download-truncated", NULL, test_download_truncated);
  ADD ("download-expired", NULL, test_download_expired);
  ADD ("never-finishes-then-resume", NULL, test_never_finishes_then_resume);
  ADD ("resume-from-journal", NULL, test_resume_from_journal);
  ADD ("unknown-task", NULL, test_unknown_task);
  ADD ("wrong-key", NULL, test_wrong_key);
  ADD ("no-key", NULL, test_no_key);
  ADD ("duration-15-with-video", NULL, test_duration_with_video);
  ADD ("unknown-region", NULL, test_unknown_region);
  ADD ("malformed-poll", NULL, test_malformed_poll);
  ADD ("create-invalid-url", NULL, test_create_invalid_url);
  ADD ("maybe-submitted/hang", "create-hang", test_maybe_submitted);
  ADD ("maybe-submitted/500", "create-500", test_maybe_submitted);
  ADD ("maybe-submitted/malformed", "create-malformed", test_maybe_submitted);
  ADD ("maybe-submitted/drop", "submit-drop", test_maybe_submitted);
  ADD ("download-too-big", GINT_TO_POINTER (FALSE), test_download_too_big);
  ADD ("download-too-big-chunked", GINT_TO_POINTER (TRUE),
      test_download_too_big);
  ADD ("output-plain-http", NULL, test_output_plain_http);
  ADD ("fake-enforces-headers", NULL, test_fake_enforces_headers);
  ADD ("cancel/upload", GINT_TO_POINTER (WR2V_PHASE_UPLOAD), test_cancel);
  ADD ("cancel/poll", GINT_TO_POINTER (WR2V_PHASE_SUBMIT), test_cancel);
  ADD ("cancel/download", GINT_TO_POINTER (WR2V_PHASE_DOWNLOAD), test_cancel);
  for (i = 0; i < G_N_ELEMENTS (create_faults); i++) {
    gchar *name = g_strdup_printf ("/dashscope/create-refused/%s",
        create_faults[i].fault);
    g_test_add (name, Fixture, &create_faults[i], fixture_setup,
        test_create_refused, fixture_teardown);
    g_free (name);
  }
  for (i = 0; i < G_N_ELEMENTS (fail_cases); i++) {
    gchar *name = g_strdup_printf ("/dashscope/task-fails/%s",
        fail_cases[i].code ? fail_cases[i].code : "CANCELED");
    g_test_add (name, Fixture, &fail_cases[i], fixture_setup,
        test_task_fails, fixture_teardown);
    g_free (name);
  }
  g_test_add_func ("/dashscope/real-service", test_real_service);

  ret = g_test_run ();

  rm_rf (tmp_root);
  g_free (tmp_root);
  g_free (result_mp4);
  g_free (server_script);
  g_free (python);
  return ret;
}
