/* test-hosts.c: what only engine=fal and engine=replicate do, the two
 * queue-style hosts (issue 16): their wire builders and parsers, their
 * limits and prices, their failure messages and a uri passed as it is,
 * against tests/fake-fal.py and tests/fake-replicate.py. What every
 * engine promises is in test-engine-contract.c.
 */
#include <string.h>

#include "wr2v-error.h"
#include "wr2v-fal-wire.h"
#include "wr2v-replicate-wire.h"
#include "wr2v-test-engine.h"

#define KEY "wr2v-hosts-KEY-7f31aa"
#define WRONG_KEY "wr2v-hosts-wrong-KEY-0c55"
#define PROMPT "Video 1 dances with Video 2 while holding Image 3"
/* as each host is sent it (src/wr2v-prompt.c's table) */
#define PROMPT_FAL "@Video1 dances with @Video2 while holding @Image3"
#define PROMPT_PER_TYPE "Video 1 dances with Video 2 while holding Image 1"

static Wr2vRequest *
media_request (Wr2vFixture * fx)
{
  return wr2v_test_media_request (PROMPT);
}

static Wr2vFixtureConfig fal_config = {
  "fal", KEY, WRONG_KEY, NULL, media_request, TRUE
};

static Wr2vFixtureConfig replicate_config = {
  "replicate", KEY, WRONG_KEY, NULL, media_request, TRUE
};

/* --- wire ------------------------------------------------------------ */

/* Two videos and an image by URL, every option set. */
static Wr2vRequest *
full_request (void)
{
  Wr2vRequest *req = wr2v_test_uri_request (PROMPT, TRUE);
  Wr2vReference *ref = wr2v_reference_new (WR2V_REF_VIDEO, 1);

  ref->uri = g_strdup ("https://cdn.example.com/b.mp4");
  wr2v_request_add_reference (req, ref);
  wr2v_request_number_references (req);
  req->negative_prompt = g_strdup ("blurry");
  req->seed = 42;
  req->aspect_ratio = WR2V_ASPECT_9_16;
  req->aspect_ratio_set = TRUE;
  req->resolution = WR2V_RESOLUTION_1080P;
  req->duration = 10;
  return req;
}

static JsonObject *
parse_object (const gchar * text, JsonNode ** node)
{
  *node = json_from_string (text, NULL);
  g_assert_nonnull (*node);
  return json_node_get_object (*node);
}

static const gchar *const urls[] = {
  "https://u/v1.mp4", "https://u/v2.mp4", "https://u/i3.png", NULL
};

/* The fields both hosts take, under their names: videos in prompt order,
 * then the image. */
static void
assert_fields (JsonObject * o, const gchar * prompt, const gchar * videos,
    const gchar * images)
{
  JsonArray *v = json_object_get_array_member (o, videos);
  JsonArray *i = json_object_get_array_member (o, images);

  g_assert_cmpstr (json_object_get_string_member (o, "prompt"), ==, prompt);
  g_assert_cmpuint (json_array_get_length (v), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (v, 0), ==, urls[0]);
  g_assert_cmpstr (json_array_get_string_element (v, 1), ==, urls[1]);
  g_assert_cmpuint (json_array_get_length (i), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (i, 0), ==, urls[2]);
  g_assert_cmpstr (json_object_get_string_member (o, "negative_prompt"), ==,
      "blurry");
  g_assert_cmpstr (json_object_get_string_member (o, "resolution"), ==,
      "1080p");
  g_assert_cmpstr (json_object_get_string_member (o, "aspect_ratio"), ==,
      "9:16");
  g_assert_cmpint (json_object_get_int_member (o, "seed"), ==, 42);
}

static void
test_fal_body (void)
{
  Wr2vRequest *req = full_request ();
  gchar *text;
  JsonNode *node;
  JsonObject *o;

  /* the request's order: Video 1, Video 2, Image 3 */
  g_assert_cmpint (((Wr2vReference *) g_ptr_array_index (req->references,
              2))->kind, ==, WR2V_REF_IMAGE);
  text = wr2v_fal_submit_body (NULL, req, urls);
  o = parse_object (text, &node);
  assert_fields (o, PROMPT_FAL, "reference_video_urls", "reference_image_urls");
  g_assert_cmpstr (json_object_get_string_member (o, "duration"), ==, "10");
  g_assert_false (json_object_get_boolean_member (o,
          "enable_prompt_expansion"));
  json_node_unref (node);
  g_free (text);
  wr2v_request_free (req);
}

static void
test_replicate_body (void)
{
  Wr2vRequest *req = full_request ();
  gchar *text = wr2v_replicate_submit_body (NULL, req, urls);
  JsonNode *node;
  JsonObject *o = parse_object (text, &node), *input;

  g_assert_cmpuint (json_object_get_size (o), ==, 1);
  input = json_object_get_object_member (o, "input");
  assert_fields (input, PROMPT_PER_TYPE, "reference_videos",
      "reference_images");
  g_assert_cmpint (json_object_get_int_member (input, "duration"), ==, 10);
  g_assert_false (json_object_has_member (input, "shot_type"));
  json_node_unref (node);
  g_free (text);
  wr2v_request_free (req);
}

static void
test_fal_parse (void)
{
  Wr2vFalAnswer a = { 0, };
  const gchar *status = "{\"status\":\"COMPLETED\",\"error\":\"boom\","
      "\"error_type\":\"content_policy_violation\"}";
  const gchar *result = "{\"video\":{\"url\":\"https://v.fal.media/x.mp4\"}}";
  const gchar *detail = "{\"detail\":[{\"loc\":[\"body\"],\"msg\":\"bad "
      "duration\",\"type\":\"x\"}]}";

  g_assert_true (wr2v_fal_parse_answer (status, strlen (status), &a, NULL));
  g_assert_cmpstr (a.status, ==, "COMPLETED");
  g_assert_cmpstr (a.error, ==, "boom");
  g_assert_cmpstr (a.error_type, ==, "content_policy_violation");
  g_assert_true (wr2v_fal_parse_answer (result, strlen (result), &a, NULL));
  g_assert_null (a.status);
  g_assert_cmpstr (a.video_url, ==, "https://v.fal.media/x.mp4");
  g_assert_true (wr2v_fal_parse_answer (detail, strlen (detail), &a, NULL));
  g_assert_cmpstr (a.detail, ==, "bad duration");
  g_assert_true (wr2v_fal_parse_answer ("{\"detail\":\"no\"}", 15, &a, NULL));
  g_assert_cmpstr (a.detail, ==, "no");
  g_assert_false (wr2v_fal_parse_answer ("[1]", 3, &a, NULL));
  g_assert_false (wr2v_fal_parse_answer ("{\"status\":", 10, &a, NULL));
  wr2v_fal_answer_clear (&a);
}

static void
test_replicate_parse (void)
{
  Wr2vReplicateAnswer a = { 0, };
  const gchar *list = "{\"id\":\"p1\",\"status\":\"succeeded\","
      "\"output\":[\"https://r/x.mp4\"]}";
  const gchar *one =
      "{\"status\":\"succeeded\",\"output\":\"https://r/y.mp4\"}";
  const gchar *file = "{\"id\":\"f\",\"urls\":{\"get\":\"https://api/f\"}}";

  g_assert_true (wr2v_replicate_parse_answer (list, strlen (list), &a, NULL));
  g_assert_cmpstr (a.id, ==, "p1");
  g_assert_cmpstr (a.output, ==, "https://r/x.mp4");
  g_assert_true (wr2v_replicate_parse_answer (one, strlen (one), &a, NULL));
  g_assert_null (a.id);
  g_assert_cmpstr (a.output, ==, "https://r/y.mp4");
  g_assert_true (wr2v_replicate_parse_answer (file, strlen (file), &a, NULL));
  g_assert_cmpstr (a.get_url, ==, "https://api/f");
  g_assert_false (wr2v_replicate_parse_answer ("", 0, &a, NULL));
  wr2v_replicate_answer_clear (&a);
}

static void
test_models (void)
{
  gchar *app = wr2v_fal_app_id ("fal-ai/wan/v2.7/reference-to-video");

  g_assert_cmpstr (app, ==, "fal-ai/wan");
  g_free (app);
  g_assert_true (wr2v_fal_model_ok ("fal-ai/wan/v2.7/reference-to-video"));
  g_assert_false (wr2v_fal_model_ok ("fal-ai"));
  g_assert_false (wr2v_fal_model_ok ("fal-ai/../x"));
  g_assert_false (wr2v_fal_model_ok ("/fal-ai/wan"));
  g_assert_false (wr2v_fal_model_ok ("fal-ai/wan?x=1"));
  g_assert_true (wr2v_replicate_model_ok ("wan-video/wan-2.7-r2v"));
  g_assert_false (wr2v_replicate_model_ok ("wan-video/wan-2.7-r2v/x"));
  g_assert_false (wr2v_replicate_model_ok ("wan-video"));
  g_assert_false (wr2v_replicate_model_ok ("../x"));
}

/* --- limits and price ------------------------------------------------- */

static Wr2vEngine *
engine_named (const gchar * name)
{
  Wr2vEngineSettings s = { 0, };
  Wr2vEngine *e;

  s.api_key = (gchar *) KEY;
  e = wr2v_engine_new (name, &s, NULL);
  g_assert_nonnull (e);
  return e;
}

static void
assert_refused (Wr2vEngine * e, Wr2vRequest * req, gint code,
    const gchar * words)
{
  GError *err = NULL;

  g_assert_false (wr2v_engine_check (e, req, &err));
  g_assert_error (err, WR2V_ERROR, code);
  wr2v_assert_says (err, words);
  g_error_free (err);
}

static void
test_limits (void)
{
  Wr2vEngine *fal = engine_named ("fal"), *rep = engine_named ("replicate");
  Wr2vRequest *req = wr2v_test_uri_request (PROMPT, TRUE);

  g_free (req->prompt);
  req->prompt = g_strdup ("Video 1 holds Image 2");
  g_assert_true (wr2v_engine_check (fal, req, NULL));
  g_assert_true (wr2v_engine_check (rep, req, NULL));
  req->duration = 11;
  assert_refused (fal, req, WR2V_ERROR_UNSUPPORTED, "reference video");
  assert_refused (rep, req, WR2V_ERROR_UNSUPPORTED, "2 to 10 seconds");
  req->duration = 1;
  assert_refused (fal, req, WR2V_ERROR_UNSUPPORTED, "2 to 15 seconds");
  req->duration = 5;
  req->negative_prompt = g_strnfill (501, 'x');
  assert_refused (fal, req, WR2V_ERROR_INVALID_REQUEST, "at most 500");
  assert_refused (rep, req, WR2V_ERROR_INVALID_REQUEST, "at most 500");
  g_clear_pointer (&req->negative_prompt, g_free);
  req->seed = G_GINT64_CONSTANT (4294967296);
  assert_refused (rep, req, WR2V_ERROR_INVALID_REQUEST, "seed");
  wr2v_request_free (req);
  wr2v_engine_free (fal);
  wr2v_engine_free (rep);
}

/* Per second: the clip plus each reference video (1 s each here; a uri
 * counts 10 s). */
static void
test_cost (void)
{
  Wr2vEngine *fal = engine_named ("fal"), *rep = engine_named ("replicate");
  Wr2vRequest *req;

  if (!wr2v_test_media.ok) {
    g_test_skip ("no test media");
    return;
  }
  req = wr2v_test_media_request (PROMPT);
  g_assert_cmpfloat_with_epsilon (wr2v_engine_estimate_cost (fal, req),
      (5 + 1 + 1) * 0.10, 1e-9);
  req->resolution = WR2V_RESOLUTION_1080P;
  g_assert_cmpfloat_with_epsilon (wr2v_engine_estimate_cost (rep, req),
      (5 + 1 + 1) * 0.15, 1e-9);
  wr2v_request_free (req);
  req = wr2v_test_uri_request (PROMPT, TRUE);
  g_assert_cmpfloat_with_epsilon (wr2v_engine_estimate_cost (fal, req),
      (5 + 10) * 0.10, 1e-9);
  wr2v_request_free (req);
  wr2v_engine_free (fal);
  wr2v_engine_free (rep);
}

/* --- against the fakes ------------------------------------------------- */

static void
setup_fal (Wr2vFixture * fx, gconstpointer data)
{
  wr2v_fixture_setup_with (fx, &fal_config);
}

static void
setup_replicate (Wr2vFixture * fx, gconstpointer data)
{
  wr2v_fixture_setup_with (fx, &replicate_config);
}

/* The request failed on the service (@fault): said with what to change;
 * the journal forgets it, so the next run may submit again. */
static void
assert_job_failed (Wr2vFixture * fx, const gchar * fault, const gchar * words)
{
  Wr2vRun r;

  wr2v_fx_go (fx, fault, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_JOB_FAILED);
  wr2v_assert_says (r.error, words);
  wr2v_assert_says (r.error, r.job.job_id);
  g_assert_cmpint (wr2v_fx_count (fx, "submit"), ==, 1);
  wr2v_fx_assert_journal (fx, r.job.hash, FALSE, NULL);
  wr2v_run_clear (&r);
}

static void
test_fal_moderated (Wr2vFixture * fx, gconstpointer data)
{
  WR2V_FIXTURE_SKIP_IF_NO_SERVER (fx);
  assert_job_failed (fx, "{\"fault\": \"job-fail\", \"kind\": "
      "\"content_policy_violation\", \"message\": \"flagged\"}",
      "content moderation");
  g_assert_cmpint (wr2v_fx_count (fx, "result"), ==, 0);
}

/* The status says COMPLETED; the result answers 422 with the detail. */
static void
test_fal_result_error (Wr2vFixture * fx, gconstpointer data)
{
  WR2V_FIXTURE_SKIP_IF_NO_SERVER (fx);
  assert_job_failed (fx, "{\"fault\": \"job-fail\", \"at_result\": true}",
      "simulated failure");
  g_assert_cmpint (wr2v_fx_count (fx, "result"), ==, 1);
}

static void
test_replicate_canceled (Wr2vFixture * fx, gconstpointer data)
{
  WR2V_FIXTURE_SKIP_IF_NO_SERVER (fx);
  assert_job_failed (fx, "{\"fault\": \"job-fail\", \"status\": "
      "\"canceled\", \"message\": \"by the owner\"}", "was canceled");
}

/* References given by uri go as they are: nothing uploaded. */
static void
test_uri_as_is (Wr2vFixture * fx, gconstpointer data)
{
  const gchar *member = data;
  JsonNode *stats;
  JsonObject *submit;
  gchar *text;
  Wr2vRun r;

  WR2V_FIXTURE_SKIP_IF_NO_SERVER (fx);
  fx->req = wr2v_test_uri_request ("Video 1 holds Image 2", TRUE);
  wr2v_fx_go (fx, NULL, &r);
  g_assert_no_error (r.error);
  g_assert_cmpint (wr2v_fx_count (fx, "upload"), ==, 0);
  stats = wr2v_fx_stats (fx);
  submit = json_array_get_object_element (json_object_get_array_member
      (json_node_get_object (stats), "submits"), 0);
  text = json_to_string (json_object_get_member (submit, "body"), FALSE);
  g_assert_nonnull (strstr (text, member));
  g_assert_nonnull (strstr (text, "\"https://cdn.example.com/ref.mp4\""));
  g_assert_nonnull (strstr (text, "\"https://cdn.example.com/ref.png\""));
  g_free (text);
  json_node_unref (stats);
  wr2v_run_clear (&r);
}

int
main (int argc, char **argv)
{
  wr2v_test_engine_init (&argc, &argv, "hosts", NULL, TRUE);
  wr2v_test_add_secret (KEY);
  wr2v_test_add_secret (WRONG_KEY);
  wr2v_test_watch_logs ();

  g_test_add_func ("/hosts/fal/body", test_fal_body);
  g_test_add_func ("/hosts/replicate/body", test_replicate_body);
  g_test_add_func ("/hosts/fal/parse", test_fal_parse);
  g_test_add_func ("/hosts/replicate/parse", test_replicate_parse);
  g_test_add_func ("/hosts/models", test_models);
  g_test_add_func ("/hosts/limits", test_limits);
  g_test_add_func ("/hosts/cost", test_cost);
  g_test_add ("/hosts/fal/moderated", Wr2vFixture, NULL, setup_fal,
      test_fal_moderated, wr2v_fixture_teardown);
  g_test_add ("/hosts/fal/result-error", Wr2vFixture, NULL, setup_fal,
      test_fal_result_error, wr2v_fixture_teardown);
  g_test_add ("/hosts/fal/uri-as-is", Wr2vFixture, "reference_image_urls",
      setup_fal, test_uri_as_is, wr2v_fixture_teardown);
  g_test_add ("/hosts/replicate/canceled", Wr2vFixture, NULL,
      setup_replicate, test_replicate_canceled, wr2v_fixture_teardown);
  g_test_add ("/hosts/replicate/uri-as-is", Wr2vFixture, "reference_images",
      setup_replicate, test_uri_as_is, wr2v_fixture_teardown);
  return wr2v_test_engine_finish (g_test_run ());
}
