/* test-dashscope.c: what only the DashScope engine does, against a fake
 * DashScope API and upload host (tests/fake-dashscope.py): the upload
 * policy and the OSS form, the create's shape and headers, its error
 * codes, regions, limits and cost. What every engine promises (created
 * once, resumed, retried, cancelled, the key never shown) is checked by
 * test-engine-contract.c; the fixture checks here too that the key shows
 * nowhere.
 *
 * The last case talks to the real service when DASHSCOPE_API_KEY is set
 * (one 2 s 720p task with a 2 s reference video: about 4 billed seconds)
 * and is skipped otherwise.
 */
#include <string.h>
#include <gst/gst.h>

#include "wr2v-error.h"
#include "wr2v-test-engine.h"
#include "wr2v-test-faults.h"
#include "wr2v-test-time.h"

/* the key the fake server accepts; must never be seen anywhere */
#define KEY "sk-wr2v-test-KEY-4e8b1f2a"
#define WRONG_KEY "sk-wr2v-wrong-KEY-9d0c3b"
#define MODEL "wan2.7-r2v"

static const gchar *const upload_fields[] = {
  "OSSAccessKeyId", "Signature", "policy", "key", "x-oss-object-acl",
  "x-oss-forbid-overwrite", "success_action_status", "x-oss-content-type",
  "file",
};

/* two videos and an image, in prompt order */
static Wr2vFixtureConfig config = { "dashscope", KEY, WRONG_KEY, NULL, NULL,
  FALSE, NULL, "Video 2 holds Image 3 while Video 1 smiles at the camera"
};

/* The last create as the server saw it. Unref the node. */
static JsonNode *
last_create (Wr2vFixture * fx, JsonObject ** body, JsonObject ** headers)
{
  JsonNode *s = wr2v_fx_stats (fx);
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

/* A member of the @i-th entry of a create's input.media. */
static const gchar *
media_string (JsonArray * media, guint i, const gchar * member)
{
  return json_object_get_string_member (json_array_get_object_element (media,
          i), member);
}

/* The last create's input.media (in @s: unref it) and its headers. */
static JsonArray *
last_media (Wr2vFixture * fx, JsonNode ** s, JsonObject ** headers)
{
  JsonObject *body;

  *s = last_create (fx, &body, headers);
  return json_object_get_array_member (json_object_get_object_member (body,
          "input"), "media");
}

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

/* The create: its headers, the uploaded objects in prompt order, only
 * the parameters set. */
static void
test_create_shape (Wr2vFixture * fx, gconstpointer data)
{
  static const gchar *const keyless[] = { "download", "upload", NULL };
  guint i;
  JsonObject *body, *headers, *root, *input, *params;
  JsonArray *media, *uploads;
  JsonNode *s;
  Wr2vRequest *req;
  Wr2vRun r;

  req = wr2v_fx_the_request (fx);

  wr2v_fx_go_clip (fx, NULL, &r);
  wr2v_fx_assert_counts (fx, "policy", 3, "other", 0, NULL);

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
  /* wan2.7-r2v counts images on their own: Image 3 becomes Image 1 */
  g_assert_cmpstr (json_object_get_string_member (input, "prompt"), ==,
      "Video 2 holds Image 1 while Video 1 smiles at the camera");
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

  json_node_unref (s);
  /* the key went to the API and only there (not to the upload host) */
  wr2v_fake_server_assert_key_routes (fx->server, keyless);
  for (i = 0; i < 3; i++) {
    gchar *path = wr2v_fake_server_request_path (fx->server, "policy", i);

    g_assert_cmpstr (path, ==, "/api/v1/uploads?action=getPolicy&model=" MODEL);
    g_free (path);
  }

  wr2v_run_clear (&r);
}

/* Every option set: each in the create. */
static void
test_create_options (Wr2vFixture * fx, gconstpointer data)
{
  JsonObject *body, *input, *params;
  JsonNode *s;

  wr2v_fx_run_options (fx);

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
}

/* References with a uri are used as they are: no upload, no oss header. */
static void
test_uri_references (Wr2vFixture * fx, gconstpointer data)
{
  Wr2vRun r;
  JsonNode *s;
  JsonObject *headers;
  JsonArray *media;

  fx->req = wr2v_test_uri_request ("Video 1 waves at Image 2", TRUE);

  wr2v_fx_go_clip (fx, NULL, &r);
  wr2v_fx_assert_counts (fx, "policy", 0, "upload", 0, "create", 1, NULL);
  media = last_media (fx, &s, &headers);
  g_assert_cmpstr (media_string (media, 0, "url"), ==,
      "https://cdn.example.com/ref.mp4");
  g_assert_cmpstr (media_string (media, 0, "type"), ==, "reference_video");
  g_assert_cmpstr (media_string (media, 1, "url"), ==,
      "https://cdn.example.com/ref.png");
  g_assert_cmpstr (media_string (media, 1, "type"), ==, "reference_image");
  g_assert_cmpstr (json_object_get_string_member (headers,
          "X-DashScope-Async"), ==, "enable");
  g_assert_false (json_object_has_member (headers,
          "X-DashScope-OssResourceResolve"));
  json_node_unref (s);
  wr2v_run_clear (&r);
}

/* A uri on one pad, a file on the other: one upload, the oss header. */
static void
test_mixed_references (Wr2vFixture * fx, gconstpointer data)
{
  Wr2vRequest *req;
  Wr2vReference *ref;
  Wr2vRun r;
  JsonNode *s;
  JsonObject *headers;
  JsonArray *media;

  req = fx->req = wr2v_request_new ();
  req->prompt = g_strdup ("Video 1 picks up Image 2");
  req->duration = 5;
  req->seed = -1;
  ref = wr2v_reference_new (WR2V_REF_VIDEO, 0);
  ref->uri = g_strdup ("https://cdn.example.com/ref.mp4");
  /* the pad still took the media: a file is there, but not uploaded */
  ref->path = wr2v_fx_write_ref (fx, "uri-video.mp4", "uri-video", 0);
  ref->mime = g_strdup ("video/mp4");
  ref->sha256 = wr2v_file_sha256 (ref->path, NULL);
  wr2v_request_add_reference (req, ref);
  wr2v_fx_add_ref (fx, req, WR2V_REF_IMAGE, 0, "image-0", 0);
  wr2v_request_number_references (req);

  wr2v_fx_go_ok (fx, NULL, &r);
  g_assert_cmpint (wr2v_fx_count (fx, "upload"), ==, 1);
  media = last_media (fx, &s, &headers);
  g_assert_cmpstr (media_string (media, 0, "url"), ==,
      "https://cdn.example.com/ref.mp4");
  g_assert_true (g_str_has_prefix (media_string (media, 1, "url"), "oss://"));
  g_assert_cmpstr (json_object_get_string_member (headers,
          "X-DashScope-OssResourceResolve"), ==, "enable");
  json_node_unref (s);
  wr2v_run_clear (&r);
}

/* A second run, by a new engine (as a new process), uploads the three
 * references again and creates the task. */
static void
assert_rerun_uploads (Wr2vFixture * fx)
{
  Wr2vRun r;

  wr2v_fx_renew_engine (fx);
  wr2v_fx_go_ok (fx, NULL, &r);
  wr2v_fx_assert_counts (fx, "upload", 6, "create", 2, NULL);
  wr2v_run_clear (&r);
}

/* An oss:// URL is bound to its model: references uploaded for one model
 * are uploaded again for another. */
static void
test_upload_other_model (Wr2vFixture * fx, gconstpointer data)
{
  wr2v_fx_expect_success (fx, NULL);
  g_assert_cmpint (wr2v_fx_count (fx, "upload"), ==, 3);
  g_free (fx->settings.model);
  fx->settings.model = g_strdup ("wan2.7-r2v-other");
  assert_rerun_uploads (fx);
}

/* A file above the policy's max_file_size_mb is refused before upload. */
static void
test_upload_too_large (Wr2vFixture * fx, gconstpointer data)
{
  Wr2vRequest *req;
  Wr2vRun r;

  req = fx->req = wr2v_request_new ();
  req->prompt = g_strdup ("Video 1 runs");
  req->duration = 5;
  req->seed = -1;
  wr2v_fx_add_ref (fx, req, WR2V_REF_VIDEO, 0, "big", 1536 * 1024);
  wr2v_request_number_references (req);
  wr2v_fx_go_fails (fx, "{\"max_file_size_mb\": 1}", WR2V_ERROR_INVALID_REQUEST,
      "Video 1", &r);
  wr2v_assert_says (r.error, "up to 1.0");
  wr2v_fx_assert_counts (fx, "policy", 1, "upload", 0, "create", 0, NULL);
  wr2v_run_clear (&r);
}

/* Resumed two days after its create: the journal's task is UNKNOWN to
 * DashScope, and the error says how old it is. */
static void
test_resume_after_24h (Wr2vFixture * fx, gconstpointer data)
{
  gchar *hash, *name, *path, *text;
  Wr2vRun r;

  hash = wr2v_test_request_hash (wr2v_fx_the_engine (fx),
      wr2v_fx_the_request (fx));
  name = g_strconcat (hash, ".json", NULL);
  path = g_build_filename (fx->store_dir, "journal", name, NULL);
  g_assert_true (wr2v_store_journal_set_job (fx->store, hash, "dashscope",
          "t-two-days-old", NULL));
  text = g_strdup_printf ("{\"engine\": \"dashscope\", \"state\": "
      "\"submitted\", \"job_id\": \"t-two-days-old\", \"submitted\": %"
      G_GINT64_FORMAT "}", g_get_real_time () / G_USEC_PER_SEC - 48 * 3600);
  g_assert_true (g_file_set_contents (path, text, -1, NULL));
  wr2v_fx_go (fx, NULL, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_NOT_FOUND);
  wr2v_assert_says (r.error, "UNKNOWN (submitted 48 h ago)");
  wr2v_assert_says (r.error, "older than 24 h");
  wr2v_fx_assert_counts (fx, "create", 0, "poll", 1, NULL);
  wr2v_fx_assert_journal (fx, hash, FALSE, NULL);
  wr2v_run_clear (&r);
  g_free (text);
  g_free (path);
  g_free (name);
  g_free (hash);
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
test_create_refused (Wr2vFixture * fx, gconstpointer data)
{
  const CreateFault *cf = data;
  Wr2vRun r;
  guint i;

  fx->req = wr2v_test_uri_request ("Video 1 waves at Image 2", TRUE);
  wr2v_fx_controlf (fx, "{\"fault\": \"%s\", \"times\": 1}", cf->fault);
  wr2v_fx_go (fx, NULL, &r);
  g_assert_error (r.error, WR2V_ERROR, cf->domain_code);
  for (i = 0; i < G_N_ELEMENTS (cf->words) && cf->words[i]; i++)
    wr2v_assert_says (r.error, cf->words[i]);
  wr2v_assert_detail (&r.job, "provider-code", cf->provider_code);
  wr2v_assert_detail (&r.job, "provider-message", NULL);
  wr2v_assert_detail (&r.job, "request-id", NULL);
  wr2v_assert_detail (&r.job, "http-status", NULL);
  g_assert_cmpint (wr2v_fx_count (fx, "create"), ==, 1);
  wr2v_fx_assert_journal (fx, r.job.hash, FALSE, NULL);
  /* never retried by itself, also not a 429 */
  g_usleep (G_USEC_PER_SEC / 2);
  g_assert_cmpint (wr2v_fx_count (fx, "create"), ==, 1);
  wr2v_run_clear (&r);
}

/* InvalidURL on create: the uploads are not offered again. */
static void
test_create_invalid_url (Wr2vFixture * fx, gconstpointer data)
{
  Wr2vRun r;

  wr2v_fx_go_fails_submitted (fx,
      "{\"fault\": \"create-invalid-url\", \"times\": 1}",
      WR2V_ERROR_INVALID_REQUEST, "InvalidURL", &r);
  wr2v_assert_detail (&r.job, "provider-code", "InvalidURL");
  wr2v_fx_assert_journal (fx, r.job.hash, FALSE, NULL);
  wr2v_run_clear (&r);
  /* a new engine: only the store could remember, and it forgot */
  assert_rerun_uploads (fx);
}

/* Refused before any request: 15 s with a reference video. */
static void
test_duration_with_video (Wr2vFixture * fx, gconstpointer data)
{
  Wr2vRequest *req;
  Wr2vRun r;

  req = wr2v_fx_the_request (fx);
  req->duration = 15;
  wr2v_fx_go_fails (fx, NULL, WR2V_ERROR_UNSUPPORTED, "at most 10 seconds", &r);
  wr2v_assert_says (r.error, "reference video");
  g_assert_cmpint (wr2v_fx_total_requests (fx), ==, 0);
  wr2v_fx_assert_journal (fx, r.job.hash, FALSE, NULL);
  wr2v_run_clear (&r);
}

/* The fake serves @region's endpoint, and the engine is set to it. */
static void
use_region (Wr2vFixture * fx, const gchar * region)
{
  wr2v_fx_controlf (fx, "{\"region\": \"%s\"}", region);
  g_free (fx->settings.region);
  fx->settings.region = g_strdup (region);
}

static void
test_unknown_region (Wr2vFixture * fx, gconstpointer data)
{
  Wr2vRun r;

  g_free (fx->settings.region);
  fx->settings.region = g_strdup ("frankfurt");
  wr2v_fx_go_fails (fx, NULL, WR2V_ERROR_INVALID_REQUEST, "frankfurt", &r);
  wr2v_assert_says (r.error, "singapore");
  wr2v_assert_says (r.error, "beijing");
  g_assert_cmpint (wr2v_fx_total_requests (fx), ==, 0);
  wr2v_run_clear (&r);
}

/* Outside Beijing, reference files can't be uploaded: refused before any
 * request (no policy, no create), saying what to do. */
static void
test_region_refuses_files (Wr2vFixture * fx, gconstpointer data)
{
  Wr2vRun r;

  use_region (fx, "singapore");
  wr2v_fx_go_fails (fx, NULL, WR2V_ERROR_UNSUPPORTED, "set a uri", &r);
  wr2v_assert_says (r.error, "Video 1");
  wr2v_assert_says (r.error, "region=beijing");
  wr2v_fx_assert_counts (fx, "policy", 0, "upload", 0, "create", 0, NULL);
  g_assert_cmpint (wr2v_fx_total_requests (fx), ==, 0);
  wr2v_fx_assert_journal (fx, r.job.hash, FALSE, NULL);
  wr2v_run_clear (&r);
}

/* References with a uri need no upload: they work in every region. */
static void
test_region_uris (Wr2vFixture * fx, gconstpointer data)
{
  Wr2vRun r;

  use_region (fx, "us");
  fx->req = wr2v_test_uri_request ("Video 1 waves at Image 2", TRUE);
  wr2v_fx_go_ok (fx, NULL, &r);
  wr2v_fx_assert_counts (fx, "policy", 0, "create", 1, NULL);
  wr2v_run_clear (&r);
}

/* An endpoint behind api-url that has no upload policy route (a region
 * setting that does not match it): the 404 says what to do, no create. */
static void
test_policy_not_offered (Wr2vFixture * fx, gconstpointer data)
{
  Wr2vRun r;

  wr2v_fx_go_fails (fx, "{\"region\": \"singapore\"}",
      WR2V_ERROR_UNSUPPORTED, "set a uri", &r);
  wr2v_fx_assert_counts (fx, "policy", 1, "create", 0, NULL);
  wr2v_run_clear (&r);
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
test_task_fails (Wr2vFixture * fx, gconstpointer data)
{
  const FailCase *fc = data;
  Wr2vRun r;
  gchar *id;

  /* the task is over: the journal lets a rerun create afresh */
  id = wr2v_fx_go_job_failed (fx, fc->control, fc->words[0], 200, &r);
  wr2v_assert_says (r.error, fc->words[1]);
  if (fc->code) {
    wr2v_assert_detail (&r.job, "provider-code", fc->code);
    wr2v_assert_detail (&r.job, "provider-message", NULL);
  }
  wr2v_assert_detail (&r.job, "request-id", NULL);
  wr2v_run_clear (&r);
  g_free (id);
}

/* The fake itself enforces what the engine must send. */
static void
test_fake_enforces_headers (Wr2vFixture * fx, gconstpointer data)
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

  url = g_strconcat (fx->base, "/api/v1/services/aigc/video-generation/"
      "video-synthesis", NULL);
  req.method = WR2V_HTTP_POST;
  req.url = url;
  req.body = g_bytes_new_static (body, strlen (body));
  req.content_type = "application/json";

  /* no key */
  g_assert_true (wr2v_http_perform (fx->server->http, &req, &resp, &err));
  g_assert_cmpuint (resp.status, ==, 401);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (resp.body, NULL),
          g_bytes_get_size (resp.body), "InvalidApiKey"));
  /* no async header */
  req.bearer = KEY;
  g_assert_true (wr2v_http_perform (fx->server->http, &req, &resp, &err));
  g_assert_cmpuint (resp.status, ==, 400);
  g_assert_nonnull (g_strstr_len (g_bytes_get_data (resp.body, NULL),
          g_bytes_get_size (resp.body), "does not support synchronous"));
  /* oss:// without the resolve header (and no such object) */
  req.headers = async_hdr;
  g_assert_true (wr2v_http_perform (fx->server->http, &req, &resp, &err));
  g_assert_cmpuint (resp.status, ==, 400);
  g_assert_no_error (err);
  wr2v_http_response_clear (&resp);
  g_bytes_unref (req.body);
  g_free (url);
}

/* --- the real service --------------------------------------------------- */

/* One real task: 2 s, 720p, a 2 s reference video, uploaded through the
 * temporary upload, which only Beijing offers: DASHSCOPE_REGION (default
 * beijing) must be beijing, with a Beijing key. */
static void
test_real_service (void)
{
  Wr2vEngineSettings settings = { 0, };
  Wr2vRequest *req;
  gchar *dir, *video;

  if (!(dir = wr2v_test_real_dir ("DASHSCOPE_API_KEY")))
    return;
  video = wr2v_test_real_video (dir, 60);

  settings.region = g_strdup (g_getenv ("DASHSCOPE_REGION") ?
      g_getenv ("DASHSCOPE_REGION") : "beijing");
  req = wr2v_request_new ();
  req->prompt = g_strdup ("The ball from Video 1 bounces across a wooden "
      "table");
  req->duration = 2;
  wr2v_test_add_file_ref (req, WR2V_REF_VIDEO, 0, video);
  wr2v_request_number_references (req);
  /* the key comes from the environment, as in production */
  wr2v_test_run_real_job ("dashscope", &settings, 5000, 15000, req, dir);
  g_free (video);
  g_free (dir);
}

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
  wr2v_assert_refuses (engine, req, 0, words);
}

/* @req checked by an engine with @settings: accepted (@words NULL), or
 * refused saying @words. */
static void
check_with (Wr2vEngineSettings * settings, Wr2vRequest * req,
    const gchar * words)
{
  Wr2vEngine *engine = wr2v_engine_new ("dashscope", settings, NULL);

  if (words)
    expect_refused (engine, req, words);
  else
    wr2v_assert_accepts (engine, req);
  wr2v_engine_free (engine);
}

static const Wr2vDurationCheck durations[] = {
  {1, "2 to 15 seconds"},
  {16, "2 to 15 seconds"},
  {11, "at most 10 seconds when any reference video"},
  {15, "at most 10 seconds when any reference video"},
  {10, NULL},
  {2, NULL},
};

static void
test_check (void)
{
  Wr2vEngine *engine = wr2v_engine_new ("dashscope", NULL, NULL);
  Wr2vRequest *req = check_request (1, 1);
  Wr2vRequest *images = check_request (0, 2);
  gchar *identity, *s;

  g_assert_nonnull (engine);
  g_assert_cmpstr (engine->klass->key_variable, ==, "DASHSCOPE_API_KEY");
  g_assert_cmpuint (engine->klass->default_timeout_s, ==, 1800);
  g_assert_null (engine->klass->cancel_remote);

  /* 2..15 s; at most 10 s with a reference video */
  wr2v_assert_durations (engine, req, 0, durations, G_N_ELEMENTS (durations));
  images->duration = 15;
  wr2v_assert_accepts (engine, images);

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
  check_with (&settings, req, NULL);
  g_free (settings.region);
  settings.region = g_strdup ("beijing");
  check_with (&settings, req, NULL);
  g_free (settings.region);
  settings.region = g_strdup ("hangzhou");
  engine = wr2v_engine_new ("dashscope", &settings, NULL);
  g_assert_false (wr2v_engine_check (engine, req, &err));
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST);
  wr2v_assert_says (err, "hangzhou");
  wr2v_assert_says (err, "singapore");
  wr2v_assert_says (err, "us");
  wr2v_assert_says (err, "beijing");
  g_clear_error (&err);
  wr2v_engine_free (engine);
  g_clear_pointer (&settings.region, g_free);

  /* files need the temporary upload: Beijing's only, by the region
   * property or by an api-url that is a region's endpoint */
  {
    Wr2vRequest *files = check_request (1, 1);
    guint i;

    for (i = 0; i < files->references->len; i++) {
      Wr2vReference *ref = g_ptr_array_index (files->references, i);
      g_clear_pointer (&ref->uri, g_free);
    }
    check_with (&settings, files, "region=beijing");
    settings.api_url = g_strdup ("https://dashscope.aliyuncs.com/");
    check_with (&settings, files, NULL);
    g_free (settings.api_url);
    settings.region = g_strdup ("beijing");
    settings.api_url = g_strdup ("https://dashscope-us.aliyuncs.com");
    check_with (&settings, files, "region is us");
    g_clear_pointer (&settings.api_url, g_free);
    g_clear_pointer (&settings.region, g_free);
    wr2v_request_free (files);
  }

  /* api-url: https, or http on loopback only */
  settings.api_url = g_strdup ("http://dashscope.example.com");
  engine = wr2v_engine_new ("dashscope", &settings, NULL);
  g_assert_false (wr2v_engine_check (engine, req, &err));
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST);
  wr2v_assert_says (err, "api-url");
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

  if (!wr2v_test_media.ok) {
    g_test_skip ("could not make an MP4 (x264enc?)");
    goto out;
  }
  /* the result clip is 1 s long: billed as 1 s of input */
  ref->path = g_strdup (wr2v_test_media.result_mp4);
  req->duration = 5;
  g_assert_cmpfloat_with_epsilon (wr2v_engine_estimate_cost (engine, req),
      (5 + 1) * 0.10, 1e-9);
out:
  wr2v_request_free (req);
  wr2v_engine_free (engine);
}

/* ------------------------------------------------------------------------ */

/* the create refusals and the task failures, one case each */
static void
add_table_cases (void)
{
  gchar *name;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (create_faults); i++) {
    name = g_strdup_printf ("/dashscope/create-refused/%s",
        create_faults[i].fault);
    WR2V_FIXTURE_ADD (name, &create_faults[i], test_create_refused);
    g_free (name);
  }
  for (i = 0; i < G_N_ELEMENTS (fail_cases); i++) {
    name = g_strdup_printf ("/dashscope/task-fails/%s",
        fail_cases[i].code ? fail_cases[i].code : "CANCELED");
    WR2V_FIXTURE_ADD (name, &fail_cases[i], test_task_fails);
    g_free (name);
  }
}

/* Faults the job gets over, as rows (wr2v-test-faults.h). */
static const Wr2vRecoveryCase recovery_rows[] = {
  /* 409 FileAlreadyExists: the name is the content's hash, so the same
   * bytes are there already */
  {"/dashscope/upload-exists", "{\"fault\": \"upload-exists\", \"times\": 1}",
      {{"upload", 3}}},
  {"/dashscope/policy-503", "{\"fault\": \"policy-503\", \"times\": 1}",
      {{"policy", 4}}},
};

/* Faults that end in an error, as rows (wr2v-test-faults.h). */
static const Wr2vFailCase error_rows[] = {
  /* the result URL expired before the download: the signed query is not
   * shown */
  {"/dashscope/download-expired", "{\"fault\": \"download-expired\", "
        "\"times\": 1}", FALSE, WR2V_ERROR_NOT_FOUND, {"24 h"}, "Signature",
      {{"create", 1}}, FALSE},
  /* a task that turns UNKNOWN after its create is over: what happened and
   * what to do, and the journal forgets it. (A journal's task the service
   * does not know: test-engine-contract.c, unknown-job.) */
  {"/dashscope/task-turns-unknown", "{\"fault\": \"task-unknown\", "
        "\"times\": 1}", FALSE, WR2V_ERROR_NOT_FOUND, {"UNKNOWN",
          "older than 24 h", "run again"}, NULL, {{"create", 1}}, TRUE},
};

int
main (int argc, char **argv)
{
  wr2v_test_engine_init (&argc, &argv, "dashscope", &config, FALSE);

  g_test_add_func ("/dashscope/check", test_check);
  g_test_add_func ("/dashscope/settings", test_settings);
  g_test_add_func ("/dashscope/cost", test_cost);
  g_test_add_func ("/dashscope/cost-reads-mp4", test_cost_reads_mp4);

  WR2V_FIXTURE_ADD ("/dashscope/happy-path", NULL, test_create_shape);
  WR2V_FIXTURE_ADD ("/dashscope/options", NULL, test_create_options);
  WR2V_FIXTURE_ADD ("/dashscope/uri-references", NULL, test_uri_references);
  WR2V_FIXTURE_ADD ("/dashscope/mixed-references", NULL, test_mixed_references);
  WR2V_FIXTURE_ADD ("/dashscope/upload-other-model", NULL,
      test_upload_other_model);
  WR2V_FIXTURE_ADD ("/dashscope/upload-too-large", NULL, test_upload_too_large);
  wr2v_recovery_cases_add (recovery_rows, G_N_ELEMENTS (recovery_rows));
  wr2v_fail_cases_add (error_rows, G_N_ELEMENTS (error_rows));
  WR2V_FIXTURE_ADD ("/dashscope/resume-after-24h", NULL, test_resume_after_24h);
  WR2V_FIXTURE_ADD ("/dashscope/duration-15-with-video", NULL,
      test_duration_with_video);
  WR2V_FIXTURE_ADD ("/dashscope/unknown-region", NULL, test_unknown_region);
  WR2V_FIXTURE_ADD ("/dashscope/region/files-refused", NULL,
      test_region_refuses_files);
  WR2V_FIXTURE_ADD ("/dashscope/region/uris-anywhere", NULL, test_region_uris);
  WR2V_FIXTURE_ADD ("/dashscope/region/policy-not-offered", NULL,
      test_policy_not_offered);
  WR2V_FIXTURE_ADD ("/dashscope/create-invalid-url", NULL,
      test_create_invalid_url);
  WR2V_FIXTURE_ADD ("/dashscope/fake-enforces-headers", NULL,
      test_fake_enforces_headers);
  add_table_cases ();
  g_test_add_func ("/dashscope/real-service", test_real_service);

  return wr2v_test_engine_finish (g_test_run ());
}
