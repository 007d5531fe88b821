/* hostile-answers.c: a broken or hostile server, for each engine, gets a
 * clear error and never more: output URLs with other schemes than https
 * (or http to loopback), redirects to such URLs, downloads far larger
 * than any clip, a wrong Content-Type, JSON nested deeply or carrying huge
 * strings, odd job ids and file names, which must never reach a path or a
 * URL unescaped.
 *
 * The server is tests/reliability/hostile-server.py, told each answer by
 * the test. Jobs run through wr2v_job_run() with a store in a temporary
 * directory. What the engine tests (tests/test-<engine>.c) already cover
 * against the engines' own fake servers is not repeated here: plain
 * http:// output and redirects to it (WaveSpeed, DashScope), the
 * max-download-size cap on a clip with and without Content-Length
 * (WaveSpeed, DashScope), ComfyUI's "../" and absolute file names. */
#include "rel-common.h"
#include "wr2v-engine.h"
#include "wr2v-error.h"
#include "wr2v-store.h"

#define KEY "wr2v-hostile-KEY-31c5e0"
#define PID "3f1e2d4c-0000-4000-8000-000000000001"
#define MB (1024 * 1024)

static gchar *root;
static gchar *clip;
static gchar *png;

typedef enum
{
  WS,
  DS,
  CF,
  N_ENGINES
} Engine;

static const gchar *engine_names[] = { "wavespeed", "dashscope", "comfyui" };

typedef struct
{
  gchar *dir;
  Wr2vFakeServer *server;
  Wr2vStore *store;
  guint64 max_download;
} Fixture;

static void
fixture_setup (Fixture * fx, gconstpointer data)
{
  GError *err = NULL;
  gchar *cache;

  memset (fx, 0, sizeof *fx);
  fx->dir = g_build_filename (root, "case-XXXXXX", NULL);
  g_assert_nonnull (g_mkdtemp (fx->dir));
  cache = g_build_filename (fx->dir, "cache", NULL);
  fx->store = wr2v_store_open (cache, &err);
  g_assert_no_error (err);
  g_free (cache);
  fx->server = wr2v_fake_server_start ("reliability/hostile-server.py", NULL);
}

static void
fixture_teardown (Fixture * fx, gconstpointer data)
{
  wr2v_store_free (fx->store);
  wr2v_fake_server_stop (fx->server);
  wr2v_test_rm_rf (fx->dir);
  g_free (fx->dir);
}

/* --- the script: each engine's normal answers, one of them replaced --- */

typedef enum
{
  STEP_SUBMIT,
  STEP_POLL,
  STEP_DOWNLOAD,
} Step;

/* @over: a route (JSON object text, with "path") put before the normal
 * ones, so that it answers instead; NULL: none. */
static void
script (Fixture * fx, Engine e, const gchar * over)
{
  GString *s = g_string_new ("{\"routes\": [");
  gchar *dl = g_strdup_printf ("{\"path\": \"^/dl/clip.mp4\", \"gen\": "
      "{\"kind\": \"file\", \"path\": \"%s\"}}", clip);

  if (over)
    g_string_append_printf (s, "%s, ", over);
  switch (e) {
    case WS:
      g_string_append (s,
          "{\"method\": \"POST\", \"path\": \"^/api/v3/alibaba/\", \"json\": "
          "{\"code\": 200, \"data\": {\"id\": \"pred_1\"}}}, "
          "{\"path\": \"^/api/v3/predictions/pred_1/result$\", \"json\": "
          "{\"code\": 200, \"data\": {\"status\": \"completed\", "
          "\"outputs\": [\"{base}/dl/clip.mp4\"]}}}, ");
      break;
    case DS:
      g_string_append (s,
          "{\"method\": \"POST\", \"path\": \"^/api/v1/services/aigc/\", "
          "\"json\": {\"request_id\": \"r\", \"output\": {\"task_id\": "
          "\"t-1\", \"task_status\": \"PENDING\"}}}, "
          "{\"path\": \"^/api/v1/tasks/t-1$\", \"json\": {\"request_id\": "
          "\"r\", \"output\": {\"task_id\": \"t-1\", \"task_status\": "
          "\"SUCCEEDED\", \"video_url\": \"{base}/dl/clip.mp4\"}}}, ");
      break;
    case CF:
      g_string_append (s,
          "{\"method\": \"POST\", \"path\": \"^/upload/image$\", \"json\": "
          "{\"name\": \"ref.png\", \"subfolder\": \"\", \"type\": "
          "\"input\"}}, "
          "{\"method\": \"POST\", \"path\": \"^/prompt$\", \"json\": "
          "{\"prompt_id\": \"" PID "\", \"number\": 1, \"node_errors\": "
          "{}}}, "
          "{\"path\": \"^/history/" PID "$\", \"json\": {\"" PID "\": "
          "{\"status\": {\"status_str\": \"success\", \"completed\": true}, "
          "\"outputs\": {\"9\": {\"videos\": [{\"filename\": \"clip.mp4\", "
          "\"subfolder\": \"\", \"type\": \"output\"}]}}}}}, "
          "{\"method\": \"GET\", \"path\": \"^/queue$\", \"json\": "
          "{\"queue_running\": [], \"queue_pending\": []}}, "
          "{\"method\": \"POST\", \"path\": \"^/(queue|interrupt)$\", "
          "\"json\": {}}, ");
      g_free (dl);
      dl = g_strdup_printf ("{\"path\": \"^/view\\\\?\", \"gen\": "
          "{\"kind\": \"file\", \"path\": \"%s\"}}", clip);
      break;
    default:
      g_assert_not_reached ();
  }
  g_string_append (s, dl);
  g_string_append (s, "]}");
  {
    gchar *url = g_strconcat (fx->server->base, "/_script", NULL);
    Wr2vHttpRequest req = { 0, };
    Wr2vHttpResponse resp = { 0, };
    GError *err = NULL;

    req.method = WR2V_HTTP_POST;
    req.url = url;
    req.body = g_bytes_new (s->str, s->len);
    req.content_type = "application/json";
    g_assert_true (wr2v_http_perform (fx->server->http, &req, &resp, &err));
    g_assert_cmpuint (resp.status, ==, 200);
    wr2v_http_response_clear (&resp);
    g_bytes_unref (req.body);
    g_free (url);
  }
  g_free (dl);
  g_string_free (s, TRUE);
}

/* The path of the route that answers @step of engine @e. */
static const gchar *
route_of (Engine e, Step step)
{
  static const gchar *routes[N_ENGINES][3] = {
    {"^/api/v3/alibaba/", "^/api/v3/predictions/", "^/dl/"},
    {"^/api/v1/services/aigc/", "^/api/v1/tasks/", "^/dl/"},
    {"^/prompt$", "^/history/", "^/view\\\\?"},
  };
  return routes[e][step];
}

/* --- running a job ---------------------------------------------------- */

static Wr2vRequest *
make_request (Engine e)
{
  Wr2vRequest *req = wr2v_request_new ();
  Wr2vReference *ref;

  if (e == CF) {
    /* ComfyUI composes the references itself: a real image */
    ref = wr2v_reference_new (WR2V_REF_IMAGE, 0);
    ref->path = g_strdup (png);
    ref->mime = g_strdup ("image/png");
    ref->sha256 = wr2v_file_sha256 (png, NULL);
    req->prompt = g_strdup ("Image 1 on a beach");
  } else {
    /* hosted engines fetch a uri reference themselves: no upload */
    ref = wr2v_reference_new (WR2V_REF_VIDEO, 0);
    ref->uri = g_strdup ("https://example.com/reference.mp4");
    req->prompt = g_strdup ("Video 1 on a beach");
  }
  wr2v_request_add_reference (req, ref);
  req->duration = 5;
  req->seed = 7;
  wr2v_request_number_references (req);
  return req;
}

static void
on_phase (gpointer data, Wr2vPhase phase, const gchar * text)
{
}

static void
on_message (gpointer data, GstStructure * facts)
{
  gst_structure_free (facts);
}

static Wr2vEngine *
make_engine (Fixture * fx, Engine e, Wr2vEngineSettings * s)
{
  GError *err = NULL;
  Wr2vEngine *engine;

  memset (s, 0, sizeof *s);
  s->api_key = g_strdup (KEY);
  s->api_url = g_strdup (fx->server->base);
  s->request_timeout_s = 30;
  s->poll_interval_ms = 20;
  s->poll_interval_max_ms = 50;
  s->max_download_bytes = fx->max_download;
  engine = wr2v_engine_new (engine_names[e], s, &err);
  g_assert_no_error (err);
  return engine;
}

/* Runs a job of engine @e; returns its error (NULL when it succeeded). */
static GError *
run (Fixture * fx, Engine e)
{
  Wr2vEngineSettings s;
  Wr2vEngine *engine = make_engine (fx, e, &s);
  Wr2vRequest *req = make_request (e);
  Wr2vJob job;
  GError *err = NULL;
  gchar *path;

  g_assert_no_error (err);
  wr2v_job_init (&job, req, engine, fx->store, NULL);
  job.observer.phase = on_phase;
  job.observer.message = on_message;
  path = wr2v_job_run (&job, &err);
  if (err)
    g_test_message ("%s: %s", engine_names[e], err->message);
  g_assert_true ((path == NULL) == (err != NULL));
  g_free (path);
  wr2v_job_clear (&job);
  wr2v_engine_free (engine);
  wr2v_engine_settings_clear (&s);
  wr2v_request_free (req);
  return err;
}

/* The requests the server saw whose path matches @re; @sent: bytes it
 * sent them. */
static guint
requests_to (Fixture * fx, const gchar * re, guint64 * sent)
{
  JsonNode *stats = wr2v_fake_server_get_json (fx->server, "/_stats");
  JsonArray *reqs = json_object_get_array_member (json_node_get_object
      (stats), "requests");
  guint i, n = 0;

  if (sent)
    *sent = 0;
  for (i = 0; i < json_array_get_length (reqs); i++) {
    JsonObject *r = json_array_get_object_element (reqs, i);

    if (g_regex_match_simple (re, json_object_get_string_member (r, "path"),
            0, 0)) {
      n++;
      if (sent)
        *sent += json_object_get_int_member (r, "sent");
    }
  }
  json_node_unref (stats);
  return n;
}

/* Nothing in the store is named after server data, and no download is
 * left behind. */
static void
assert_store_clean (Fixture * fx, const gchar * odd)
{
  const gchar *subs[] = { "results", "journal", "uploads", "tmp" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (subs); i++) {
    gchar *d = g_build_filename (wr2v_store_dir (fx->store), subs[i], NULL);
    GDir *dir = g_dir_open (d, 0, NULL);
    const gchar *name;

    while (dir && (name = g_dir_read_name (dir))) {
      if (odd)
        g_assert_null (strstr (name, odd));
      /* tmp/ is empty after a failed download */
      g_assert_cmpint (i, !=, 3);
    }
    if (dir)
      g_dir_close (dir);
    g_free (d);
  }
}

/* --- cases ----------------------------------------------------------- */

typedef struct
{
  Engine engine;
  const gchar *what;            /* a value the case varies */
} Case;

/* An output URL of another scheme: refused, never fetched. */
static void
test_output_scheme (Fixture * fx, gconstpointer data)
{
  const Case *c = data;
  gchar *over;
  GError *err;

  if (c->engine == WS)
    over = g_strdup_printf ("{\"path\": \"^/api/v3/predictions/\", \"json\": "
        "{\"code\": 200, \"data\": {\"status\": \"completed\", \"outputs\": "
        "[\"%s\"]}}}", c->what);
  else
    over = g_strdup_printf ("{\"path\": \"^/api/v1/tasks/\", \"json\": "
        "{\"output\": {\"task_status\": \"SUCCEEDED\", \"video_url\": "
        "\"%s\"}}}", c->what);
  script (fx, c->engine, over);
  err = run (fx, c->engine);
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (err->message, "can't be downloaded"));
  g_assert_cmpuint (requests_to (fx, "^/dl/", NULL), ==, 0);
  assert_store_clean (fx, NULL);
  g_error_free (err);
  g_free (over);
}

/* ComfyUI builds the URL itself: a file name that looks like a URL is
 * refused. */
static void
test_output_scheme_comfyui (Fixture * fx, gconstpointer data)
{
  GError *err;

  script (fx, CF, "{\"path\": \"^/history/\", \"json\": {\"" PID "\": "
      "{\"status\": {\"status_str\": \"success\", \"completed\": true}, "
      "\"outputs\": {\"9\": {\"videos\": [{\"filename\": "
      "\"ftp://127.0.0.1/clip.mp4\", \"subfolder\": \"\", \"type\": "
      "\"output\"}]}}}}}");
  err = run (fx, CF);
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_PROTOCOL);
  g_assert_cmpuint (requests_to (fx, "^/view", NULL), ==, 0);
  g_error_free (err);
}

/* The download redirects somewhere it must not go: refused, not
 * followed (ComfyUI follows no redirect at all). */
static void
test_redirect (Fixture * fx, gconstpointer data)
{
  const Case *c = data;
  gboolean loop = g_str_equal (c->what, "loop");
  gchar *over = g_strdup_printf ("{\"path\": \"%s\", \"status\": 302, "
      "\"headers\": {\"Location\": \"%s\"}, \"body\": \"\"}",
      route_of (c->engine, STEP_DOWNLOAD), loop ? (c->engine == CF ?
          "{base}/view?filename=clip.mp4&subfolder=&type=output" :
          "{base}/dl/clip.mp4") : c->what);
  GError *err;

  script (fx, c->engine, over);
  err = run (fx, c->engine);
  if (c->engine == CF) {
    g_assert_error (err, WR2V_ERROR, WR2V_ERROR_PROTOCOL);
    g_assert_nonnull (strstr (err->message, "HTTP 302"));
    g_assert_cmpuint (requests_to (fx, "^/view", NULL), ==, 1);
  } else {
    g_assert_error (err, WR2V_ERROR, WR2V_ERROR_PROTOCOL);
    g_assert_nonnull (strstr (err->message, "redirect"));
    /* a loop is cut after 5 hops */
    g_assert_cmpuint (requests_to (fx, "^/dl/", NULL), ==, loop ? 6 : 1);
  }
  assert_store_clean (fx, NULL);
  g_error_free (err);
  g_free (over);
}

/* A download far larger than any clip: cut at the cap (max-download-size,
 * default 1 GiB), whether the size is announced or not. */
static void
test_too_large (Fixture * fx, gconstpointer data)
{
  const Case *c = data;
  gboolean announced = g_str_equal (c->what, "announced");
  gchar *over;
  guint64 sent;
  GError *err;

  if (announced) {
    /* 5 GiB announced, default cap: refused before the body */
    over = g_strdup_printf ("{\"path\": \"%s\", \"gen\": {\"kind\": "
        "\"bytes\", \"size\": 1048576, \"length\": 5368709120}}",
        route_of (c->engine, STEP_DOWNLOAD));
  } else {
    /* no length, no end: cut at a 2 MiB cap */
    fx->max_download = 2 * MB;
    over = g_strdup_printf ("{\"path\": \"%s\", \"gen\": {\"kind\": "
        "\"endless\"}}", route_of (c->engine, STEP_DOWNLOAD));
  }
  script (fx, c->engine, over);
  err = run (fx, c->engine);
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (err->message, "larger than the limit"));
  requests_to (fx, route_of (c->engine, STEP_DOWNLOAD), &sent);
  g_test_message ("the server sent %" G_GUINT64_FORMAT " bytes", sent);
  /* what the server pushed before the connection closed: socket
   * buffers, not gigabytes */
  g_assert_cmpuint (sent, <, 64 * MB);
  assert_store_clean (fx, NULL);
  g_error_free (err);
  g_free (over);
}

/* A web page with a 200 where the clip should be. */
static void
test_download_html (Fixture * fx, gconstpointer data)
{
  const Case *c = data;
  gchar *over = g_strdup_printf ("{\"path\": \"%s\", \"content_type\": "
      "\"%s\", \"body\": \"<html><body>Please log in</body></html>\"}",
      route_of (c->engine, STEP_DOWNLOAD), c->what);
  GError *err;

  script (fx, c->engine, over);
  err = run (fx, c->engine);
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (err->message, "instead of a video file"));
  assert_store_clean (fx, NULL);
  g_error_free (err);
  g_free (over);
}

/* A web page with a 200 where JSON should be: the error says so. */
static void
test_poll_html (Fixture * fx, gconstpointer data)
{
  const Case *c = data;
  gchar *over = g_strdup_printf ("{\"path\": \"%s\", \"content_type\": "
      "\"text/html\", \"body\": \"<html>Captive portal</html>\"}",
      route_of (c->engine, STEP_POLL));
  GError *err;

  script (fx, c->engine, over);
  err = run (fx, c->engine);
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (err->message, "text/html, not JSON"));
  g_error_free (err);
  g_free (over);
}

/* JSON nested 100000 deep: refused before json-glib recurses into it. */
static void
test_deep_json (Fixture * fx, gconstpointer data)
{
  const Case *c = data;
  Step step = g_str_equal (c->what, "submit") ? STEP_SUBMIT : STEP_POLL;
  gchar *over = g_strdup_printf ("{\"path\": \"%s\", \"gen\": {\"kind\": "
      "\"deep\", \"depth\": 100000}}", route_of (c->engine, step));
  GError *err;

  script (fx, c->engine, over);
  err = run (fx, c->engine);
  g_assert_nonnull (err);
  g_assert_nonnull (strstr (err->message, "nested deeper than"));
  /* an unreadable submit answer may hide a paid job */
  if (step == STEP_SUBMIT && c->engine != CF)
    g_assert_error (err, WR2V_ERROR, WR2V_ERROR_MAYBE_SUBMITTED);
  else if (step == STEP_POLL)
    g_assert_error (err, WR2V_ERROR, WR2V_ERROR_PROTOCOL);
  g_error_free (err);
  g_free (over);
}

/* Deep JSON in an error answer: the HTTP error, nothing worse. */
static void
test_deep_error_body (Fixture * fx, gconstpointer data)
{
  const Case *c = data;
  gchar *over = g_strdup_printf ("{\"path\": \"%s\", \"status\": 400, "
      "\"gen\": {\"kind\": \"deep\", \"depth\": 100000}}",
      route_of (c->engine, STEP_SUBMIT));
  GError *err;

  script (fx, c->engine, over);
  err = run (fx, c->engine);
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST);
  g_error_free (err);
  g_free (over);
}

/* An answer over the 4 MiB any JSON answer may weigh. */
static void
test_huge_answer (Fixture * fx, gconstpointer data)
{
  const Case *c = data;
  gchar *over = g_strdup_printf ("{\"path\": \"%s\", \"gen\": {\"kind\": "
      "\"string\", \"template\": \"{\\\"message\\\": \\\"%%s\\\"}\", "
      "\"size\": 6000000}}", route_of (c->engine, STEP_POLL));
  GError *err;

  script (fx, c->engine, over);
  err = run (fx, c->engine);
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_PROTOCOL);
  g_assert_nonnull (strstr (err->message, "larger than the limit"));
  g_error_free (err);
  g_free (over);
}

/* A 3 MB string inside a readable answer (the failure's message): the
 * error stays a readable size. */
static void
test_huge_string (Fixture * fx, gconstpointer data)
{
  const Case *c = data;
  const gchar *tmpl[N_ENGINES] = {
    "{\\\"code\\\": 200, \\\"data\\\": {\\\"status\\\": \\\"failed\\\", "
        "\\\"code\\\": 1200, \\\"error\\\": \\\"%s\\\"}}",
    "{\\\"output\\\": {\\\"task_status\\\": \\\"FAILED\\\", \\\"code\\\": "
        "\\\"DataInspectionFailed\\\", \\\"message\\\": \\\"%s\\\"}}",
    "{\\\"" PID "\\\": {\\\"status\\\": {\\\"status_str\\\": \\\"error\\\", "
        "\\\"completed\\\": false, \\\"messages\\\": [[\\\"execution_error\\\", "
        "{\\\"exception_type\\\": \\\"%s\\\", \\\"exception_message\\\": "
        "\\\"%s\\\", \\\"node_id\\\": \\\"%s\\\"}]]}, \\\"outputs\\\": {}}}",
  };
  gchar *over = g_strdup_printf ("{\"path\": \"%s\", \"gen\": {\"kind\": "
      "\"string\", \"template\": \"%s\", \"size\": 1000000}}",
      route_of (c->engine, STEP_POLL), tmpl[c->engine]);
  GError *err;

  script (fx, c->engine, over);
  err = run (fx, c->engine);
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_JOB_FAILED);
  g_assert_cmpuint (strlen (err->message), <, 4000);
  g_error_free (err);
  g_free (over);
}

/* A job id with odd characters in the submit's answer: never used in a
 * URL or a file name. The job may exist and cost money, so the request
 * is not submitted again by itself (hosted engines). */
static void
test_odd_job_id (Fixture * fx, gconstpointer data)
{
  const Case *c = data;
  gchar *over, *again;
  const gchar *field = c->engine == WS ? "{\"code\": 200, \"data\": "
      "{\"id\": \"%s\"}}" : c->engine == DS ? "{\"output\": {\"task_id\": "
      "\"%s\", \"task_status\": \"PENDING\"}}" : "{\"prompt_id\": \"%s\"}";
  gchar *body = g_strdup_printf (field, c->what);
  GError *err;

  over = g_strdup_printf ("{\"path\": \"%s\", \"json\": %s}",
      route_of (c->engine, STEP_SUBMIT), body);
  script (fx, c->engine, over);
  err = run (fx, c->engine);
  g_assert_nonnull (err);
  g_assert_nonnull (strstr (err->message, c->engine == CF ?
          "no usable prompt_id" : "no usable"));
  g_assert_error (err, WR2V_ERROR, (c->engine == CF ? WR2V_ERROR_PROTOCOL :
          WR2V_ERROR_MAYBE_SUBMITTED));
  /* nothing was asked about it */
  g_assert_cmpuint (requests_to (fx, route_of (c->engine, STEP_POLL), NULL),
      ==, 0);
  assert_store_clean (fx, "..");
  g_clear_error (&err);

  /* the next run of a hosted request refuses; nothing is sent again */
  if (c->engine != CF) {
    err = run (fx, c->engine);
    g_assert_error (err, WR2V_ERROR, WR2V_ERROR_MAYBE_SUBMITTED);
    again = g_strdup_printf ("%s", route_of (c->engine, STEP_SUBMIT));
    g_assert_cmpuint (requests_to (fx, again, NULL), ==, 1);
    g_free (again);
    g_clear_error (&err);
  }
  g_free (body);
  g_free (over);
}

/* A journal entry whose job id was tampered with on disk: refused before
 * any request is made with it. */
static void
test_tampered_journal (Fixture * fx, gconstpointer data)
{
  const Case *c = data;
  Wr2vRequest *req = make_request (c->engine);
  gchar *hash, *identity;
  GError *err = NULL;

  /* the key the driver computes: engine name and its identity */
  {
    Wr2vEngineSettings s;
    Wr2vEngine *engine = make_engine (fx, c->engine, &s);
    gchar *id = engine->klass->identity ? engine->klass->identity (engine) :
        NULL;

    wr2v_engine_settings_clear (&s);
    identity = g_strdup_printf ("%s:%s", engine_names[c->engine], id ? id : "");
    g_free (id);
    wr2v_engine_free (engine);
  }
  hash = wr2v_request_hash (req, identity);
  g_assert_true (wr2v_store_journal_set_job (fx->store, hash,
          engine_names[c->engine], c->what, &err));
  script (fx, c->engine, NULL);
  err = run (fx, c->engine);
  g_assert_nonnull (err);
  g_assert_true (err->code == WR2V_ERROR_PROTOCOL ||
      err->code == WR2V_ERROR_NOT_FOUND);
  /* no request at all: the id went nowhere */
  g_assert_cmpuint (requests_to (fx, ".", NULL), ==, 0);
  g_error_free (err);
  g_free (hash);
  g_free (identity);
  wr2v_request_free (req);
}

/* ComfyUI file names with characters that mean something in a URL: sent
 * escaped, as one query value each. */
static void
test_comfyui_name_escaped (Fixture * fx, gconstpointer data)
{
  GError *err;
  guint64 sent;

  script (fx, CF, "{\"path\": \"^/history/\", \"json\": {\"" PID "\": "
      "{\"status\": {\"status_str\": \"success\", \"completed\": true}, "
      "\"outputs\": {\"9\": {\"videos\": [{\"filename\": "
      "\"a b#c?d&type=x%2e%2e.mp4\", \"subfolder\": \"s p\", \"type\": "
      "\"output&x=1\"}]}}}}}");
  err = run (fx, CF);
  /* the fake serves the clip whatever the query: the job succeeds */
  g_assert_no_error (err);
  g_assert_cmpuint (requests_to (fx, "^/view\\?filename=a%20b%23c%3Fd%26"
          "type%3Dx%252e%252e\\.mp4&subfolder=s%20p&type=output$", &sent),
      ==, 1);
  g_assert_cmpuint (sent, >, 0);
}

/* A server that echoes the key in an error message, right where the
 * message is cut to a readable length: not a byte of the key shows. */
static void
test_key_echo (Fixture * fx, gconstpointer data)
{
  const Case *c = data;
  gchar *pad = g_strnfill (390, 'x');
  gchar *over = g_strdup_printf (c->engine == WS ?
      "{\"path\": \"%s\", \"status\": 401, \"json\": {\"code\": 401, "
      "\"message\": \"%s" KEY " is not valid\"}}" :
      "{\"path\": \"%s\", \"status\": 401, \"json\": {\"code\": "
      "\"InvalidApiKey\", \"message\": \"%s" KEY " is not valid\"}}",
      route_of (c->engine, STEP_SUBMIT), pad);
  GError *err;
  guint i;

  script (fx, c->engine, over);
  err = run (fx, c->engine);
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_NOT_AUTHORIZED);
  /* no 6 bytes in a row of the key */
  for (i = 0; i + 6 <= strlen (KEY); i++) {
    gchar *part = g_strndup (KEY + i, 6);

    g_assert_null (strstr (err->message, part));
    g_free (part);
  }
  g_error_free (err);
  g_free (over);
  g_free (pad);
}

static void
add (const gchar * name, Engine e, const gchar * what,
    void (*func) (Fixture *, gconstpointer))
{
  Case *c = g_new0 (Case, 1);
  gchar *path = g_strdup_printf ("/hostile/%s/%s%s%s", engine_names[e],
      name, what ? "/" : "", what ? (*what ? what : "empty") : "");
  guint i;

  c->engine = e;
  c->what = what;
  /* test paths: no "/" or odd characters from @what */
  for (i = strlen ("/hostile/") + strlen (engine_names[e]) + 1 +
      strlen (name) + 1; what && path[i]; i++)
    if (!g_ascii_isalnum (path[i]) && path[i] != '-')
      path[i] = '_';
  g_test_add (path, Fixture, c, fixture_setup, func, fixture_teardown);
  g_free (path);
}

int
main (int argc, char **argv)
{
  static const gchar *schemes[] = { "ftp://127.0.0.1/clip.mp4",
    "file:///etc/passwd", "http://example.invalid/clip.mp4",
    "data:video/mp4;base64,AAAA", "javascript:alert(1)", "//evil/clip.mp4",
  };
  static const gchar *redirects[] = { "ftp://127.0.0.1/clip.mp4",
    "file:///etc/passwd", "http://example.invalid/clip.mp4", "loop",
  };
  static const gchar *odd_ids[] = { "../../x", "a/b", "a%2Fb", "p 1",
    "pred_1\\r\\nX-Evil: 1", "", "\\u00e9t\\u00e9",
  };
  Engine e;
  guint i;
  int ret;

  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);
  g_log_set_always_fatal (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL);
  root = g_dir_make_tmp ("wanr2v-hostile-XXXXXX", NULL);
  clip = g_build_filename (root, "clip.mp4", NULL);
  png = g_build_filename (root, "ref.png", NULL);
  {
    gchar *desc = g_strdup_printf ("videotestsrc num-buffers=1 ! "
        "video/x-raw,width=64,height=64 ! pngenc ! filesink "
        "location=\"%s\"", png);
    gboolean ok = rel_make_clip (clip, 1, 320, 240) &&
        wr2v_test_run_to_eos (desc, 30 * GST_SECOND);

    g_free (desc);
    if (!ok) {
      g_printerr ("cannot make the test media (x264enc, pngenc?)\n");
      return 77;
    }
  }

  for (e = WS; e <= DS; e++)
    for (i = 0; i < G_N_ELEMENTS (schemes); i++)
      add ("output-scheme", e, schemes[i], test_output_scheme);
  add ("output-scheme", CF, NULL, test_output_scheme_comfyui);
  for (e = WS; e < N_ENGINES; e++) {
    for (i = 0; i < G_N_ELEMENTS (redirects); i++)
      if (e != CF || i == 0)
        add ("redirect", e, redirects[i], test_redirect);
    add ("too-large", e, "announced", test_too_large);
    add ("too-large", e, "endless", test_too_large);
    add ("content-type/download", e, "text/html", test_download_html);
    add ("content-type/download", e, "application/json", test_download_html);
    add ("content-type/poll", e, NULL, test_poll_html);
    add ("deep-json", e, "poll", test_deep_json);
    add ("deep-json", e, "submit", test_deep_json);
    add ("deep-json-error", e, NULL, test_deep_error_body);
    add ("huge-answer", e, NULL, test_huge_answer);
    add ("huge-string", e, NULL, test_huge_string);
    for (i = 0; i < G_N_ELEMENTS (odd_ids); i++)
      add ("odd-job-id", e, odd_ids[i], test_odd_job_id);
    add ("tampered-journal", e, "../../etc/passwd", test_tampered_journal);
    if (e != CF)
      add ("key-echo", e, NULL, test_key_echo);
    add ("tampered-journal", e, "a/b?c#d", test_tampered_journal);
  }
  add ("file-name-escaped", CF, NULL, test_comfyui_name_escaped);

  ret = g_test_run ();
  wr2v_test_rm_rf (root);
  g_free (root);
  g_free (clip);
  g_free (png);
  return ret;
}
