/* test-wavespeed.c: what only the WaveSpeed engine does, against the
 * fake WaveSpeed server (tests/fake-wavespeed.py): the submit's shape,
 * its uploads, its error codes and envelopes, its limits and cost, the
 * HTTP client's URL and JSON policies. What every engine promises
 * (submitted once, resumed, retried, cancelled, the key never shown) is
 * checked by test-engine-contract.c; the fixture checks here too that
 * the key shows nowhere.
 *
 * The last case talks to the real service when WAVESPEED_API_KEY is set
 * (one 5 s 720p job: USD 1.00) and is skipped otherwise.
 */
#include <string.h>
#include <gst/gst.h>

#include "wr2v-error.h"
#include "wr2v-test-engine.h"
#include "wr2v-test-faults.h"
#include "wavespeed/wr2v-wavespeed-wire.h"
#include "wr2v-test-time.h"

/* the key the fake server accepts; must never be seen anywhere */
#define KEY "wr2v-test-KEY-7f3a9c5d"
#define WRONG_KEY "wr2v-wrong-KEY-0b1e2d"
#define MODEL "alibaba/wan-2.7/reference-to-video"

static Wr2vFixtureConfig config = { "wavespeed", KEY, WRONG_KEY, NULL, NULL,
  FALSE, NULL, "Video 1 dances with Video 2 while holding Image 3"
};

/* The last submit's body as the server parsed it. Unref the node. */
static JsonNode *
last_submit (Wr2vFixture * fx, JsonObject ** body)
{
  JsonNode *s = wr2v_fx_stats (fx);
  JsonObject *last = json_object_get_object_member (json_node_get_object (s),
      "last_submit");

  g_assert_nonnull (last);
  g_assert_cmpstr (json_object_get_string_member (last, "model"), ==, MODEL);
  g_assert_true (json_object_get_boolean_member (last, "auth_ok"));
  *body = json_object_get_object_member (last, "body");
  g_assert_nonnull (*body);
  return s;
}

/* The submit: the uploaded URLs in prompt order, only the fields set. */
static void
test_submit_shape (Wr2vFixture * fx, gconstpointer data)
{
  static const gchar *const keyless[] = { "download", "upload-put", NULL };
  JsonArray *videos, *uploads;
  JsonObject *body, *root;
  Wr2vRequest *req;
  JsonNode *s;
  Wr2vRun r;
  guint i;

  req = wr2v_fx_the_request (fx);

  wr2v_fx_go_clip (fx, NULL, &r);

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

    /* the ticket flow: the bytes in a PUT, the ticket says their size */
    g_assert_cmpstr (json_object_get_string_member (up, "via"), ==, "ticket");
    g_assert_cmpuint (json_array_get_length (fields), ==, 0);
    g_assert_cmpint (json_object_get_int_member (up, "ticket_size"), ==,
        json_object_get_int_member (up, "size"));
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

  json_node_unref (s);
  /* the key went to the API and only there */
  wr2v_fake_server_assert_key_routes (fx->server, keyless);
  wr2v_run_clear (&r);
}

/* Every option set: each in the submit. */
static void
test_submit_options (Wr2vFixture * fx, gconstpointer data)
{
  JsonArray *images;
  JsonObject *body;
  JsonNode *s;

  wr2v_fx_run_options (fx);

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
}

/* A reference given as a URL is passed through, not uploaded. */
static void
test_uri_reference (Wr2vFixture * fx, gconstpointer data)
{
  Wr2vRun r;
  JsonNode *s;
  JsonObject *body;

  fx->req = wr2v_test_uri_request ("Video 1 waves", FALSE);

  wr2v_fx_go_ok (fx, NULL, &r);
  g_assert_cmpint (wr2v_fx_count (fx, "upload"), ==, 0);
  s = last_submit (fx, &body);
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member
          (body, "videos"), 0), ==, "https://cdn.example.com/ref.mp4");
  json_node_unref (s);
  wr2v_run_clear (&r);
}

/* HTTP 200 whose envelope says 401: the envelope wins. */
static void
test_envelope_error (Wr2vFixture * fx, gconstpointer data)
{
  Wr2vRun r;
  gint code = 0;

  wr2v_fx_go_fails_submitted (fx,
      "{\"fault\": \"poll-envelope-401\", \"times\": 1}",
      WR2V_ERROR_NOT_AUTHORIZED, "invalid key", &r);
  g_assert_true (gst_structure_get_int (r.job.error_details, "provider-code",
          &code));
  g_assert_cmpint (code, ==, 401);
  wr2v_run_clear (&r);
}

/* request-timeout is the whole job: uploads that take it all end the job
 * before the submit, and nothing is paid for. */
static void
test_timeout_in_upload (Wr2vFixture * fx, gconstpointer data)
{
  Wr2vRun r;

  fx->settings.request_timeout_s = 1;
  wr2v_fx_control (fx,
      "{\"fault\": \"upload-slow\", \"seconds\": 2, \"times\": 1}");
  wr2v_fx_go_fails (fx, NULL, WR2V_ERROR_TIMEOUT, "request-timeout (1 s)", &r);
  g_assert_nonnull (strstr (r.error->message, "nothing was submitted"));
  g_assert_cmpint (wr2v_fx_count (fx, "submit"), ==, 0);
  wr2v_fx_assert_journal (fx, r.job.hash, FALSE, NULL);
  wr2v_run_clear (&r);
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
  {1403, "deleted", "deleted"},
};

static void
test_job_fails (Wr2vFixture * fx, gconstpointer data)
{
  const FailCase *fc = data;
  Wr2vRun r;
  gchar *id;
  gint code = 0;

  wr2v_fx_controlf (fx, "{\"fault\": \"job-fail\", \"code\": %d, "
      "\"status\": \"%s\"}", fc->code, fc->status);
  /* the job is over: the journal lets a rerun submit afresh */
  id = wr2v_fx_go_job_failed (fx, NULL, fc->words, 0, &r);
  g_assert_true (gst_structure_get_int (r.job.error_details,
          "provider-code", &code));
  g_assert_cmpint (code, ==, fc->code);
  g_assert_nonnull (gst_structure_get_string (r.job.error_details,
          "provider-message"));

  if (fc->code == 1402) {
    /* the uploaded URLs are not offered again: the rerun uploads anew */
    wr2v_run_clear (&r);
    wr2v_fx_go_ok (fx, "{\"clear_fault\": \"job-fail\"}", &r);
    wr2v_fx_assert_counts (fx, "upload", 6, "submit", 2, NULL);
  }
  wr2v_run_clear (&r);
  g_free (id);
}

/* A submit that could not connect created nothing: a plain network
 * error, and the journal lets the next run submit. */
static void
test_submit_unreachable (Wr2vFixture * fx, gconstpointer data)
{
  GSocket *sock;
  GSocketAddress *addr;
  GInetAddress *lo;
  GError *err = NULL;
  guint port;
  Wr2vRun r;

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
  fx->req = wr2v_test_uri_request ("Video 1 waves", FALSE);

  wr2v_fx_go (fx, NULL, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_NETWORK);
  wr2v_fx_assert_journal (fx, r.job.hash, FALSE, NULL);
  wr2v_run_clear (&r);
}


/* --- the live schema, price and balance --- */

/* A message the job posted, as text, holding each of @words. */
static gboolean
posted (Wr2vFixture * fx, const gchar * const *words)
{
  gboolean found = FALSE;
  guint i, j;

  g_mutex_lock (&fx->lock);
  for (i = 0; i < fx->messages->len && !found; i++) {
    const gchar *m = g_ptr_array_index (fx->messages, i);

    found = TRUE;
    for (j = 0; words[j]; j++)
      found &= strstr (m, words[j]) != NULL;
  }
  g_mutex_unlock (&fx->lock);
  return found;
}

/* A schema with durations 5 and 10 only and reference images under
 * another name: 15 s is refused quoting it, before any submit. */
static void
test_schema_refuses (Wr2vFixture * fx, gconstpointer data)
{
  static const gchar *const live[] = { "wanr2v/schema", "source=(string)live",
    NULL
  };
  Wr2vRun r;

  wr2v_fx_the_request (fx)->duration = 15;
  wr2v_fx_go (fx, "{\"schema\": \"narrow\"}", &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED);
  wr2v_assert_says (r.error, "\"duration\" in [5, 10] (enum), not 15");
  wr2v_assert_says (r.error, "nothing was submitted");
  wr2v_fx_assert_counts (fx, "models", 1, "submit", 0, "price", 0, NULL);
  g_assert_true (posted (fx, live));
  wr2v_fx_assert_journal (fx, r.job.hash, FALSE, NULL);
  wr2v_run_clear (&r);

  /* the schema is cached in the store: now refused before any upload */
  wr2v_fx_renew_engine (fx);
  wr2v_fx_go (fx, NULL, &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED);
  wr2v_fx_assert_counts (fx, "models", 1, "upload", 3, "submit", 0, NULL);
  wr2v_run_clear (&r);
}

/* The same schema, 10 s: exactly its fields, under its names; the
 * options it lacks are left out with a warning. */
static void
test_schema_names (Wr2vFixture * fx, gconstpointer data)
{
  static const gchar *const names[] = { "prompt", "videos",
    "reference_images", "resolution", "duration", "enable_prompt_expansion",
    NULL
  };
  JsonObject *body;
  JsonArray *imgs;
  GList *members;
  JsonNode *s;
  Wr2vRun r;
  guint i;

  wr2v_fx_the_request (fx)->duration = 10;
  wr2v_fx_the_request (fx)->seed = 7;
  wr2v_fx_go_ok (fx, "{\"schema\": \"narrow\"}", &r);
  wr2v_run_clear (&r);

  s = last_submit (fx, &body);
  members = json_object_get_members (body);
  g_assert_cmpuint (g_list_length (members), ==, g_strv_length ((gchar **)
          names));
  for (i = 0; names[i]; i++)
    g_assert_true (json_object_has_member (body, names[i]));
  g_list_free (members);
  g_assert_cmpint (json_object_get_int_member (body, "duration"), ==, 10);
  imgs = json_object_get_array_member (body, "reference_images");
  g_assert_cmpuint (json_array_get_length (imgs), ==, 1);
  json_node_unref (s);
  g_assert_cmpuint (fx->warnings->len, ==, 1);
  g_assert_nonnull (strstr (g_ptr_array_index (fx->warnings, 0), "seed"));
}

/* A schema's maxItems and a required field it names: refused. */
static void
test_schema_rules (void)
{
  static const gchar schema[] = "{\"properties\": {"
      "\"prompt\": {\"type\": \"string\"},"
      "\"videos\": {\"type\": \"array\", \"maxItems\": 1},"
      "\"image\": {\"type\": \"string\"},"
      "\"duration\": {\"type\": \"integer\", \"minimum\": 2, \"maximum\": 10},"
      "\"mask\": {\"type\": \"string\"}}, \"required\": [\"prompt\"]}";
  static const gchar *const urls[] = { "https://a/1.mp4", "https://a/2.mp4",
    "https://a/3.png", NULL
  };
  Wr2vWavespeedRules rules = { 0, };
  Wr2vRequest *req = wr2v_test_uri_request ("Video 1 waves", TRUE);
  GError *err = NULL;
  gchar *body, *text;

  g_assert_true (wr2v_wavespeed_parse_rules (schema, strlen (schema), &rules,
          &err));
  req->duration = 10;
  body = wr2v_wavespeed_build_body (&rules, req, urls, NULL, &err);
  g_assert_no_error (err);
  g_assert_nonnull (strstr (body, "\"image\":\"https://a/"));
  g_free (body);
  req->duration = 11;
  g_assert_null (wr2v_wavespeed_build_body (&rules, req, urls, NULL, &err));
  wr2v_assert_says (err, "from 2 to 10 (minimum, maximum), not 11");
  g_clear_error (&err);
  req->duration = 5;

  /* a required field the element can't fill */
  wr2v_wavespeed_rules_clear (&rules);
  text = g_strdup (schema);
  memcpy (strstr (text, "[\"prompt\"]"), "[\"mask\"  ]", 10);
  g_assert_true (wr2v_wavespeed_parse_rules (text, strlen (text), &rules,
          NULL));
  g_assert_null (wr2v_wavespeed_build_body (&rules, req, urls, NULL, &err));
  wr2v_assert_says (err, "requires \"mask\" (required)");
  g_clear_error (&err);
  g_free (text);
  wr2v_wavespeed_rules_clear (&rules);
  wr2v_request_free (req);
}

/* No schema route: the built-in table, said in a warning; 15 s refused
 * by it, 5 s sent with only the fields it confirms. */
static void
test_schema_missing (Wr2vFixture * fx, gconstpointer data)
{
  static const gchar *const table[] = { "wanr2v/schema",
    "source=(string)table", NULL
  };
  JsonObject *body;
  JsonNode *s;
  Wr2vRun r;

  wr2v_fx_the_request (fx)->duration = 15;
  wr2v_fx_go (fx, "{\"fault\": \"no-schema-route\"}", &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED);
  g_assert_cmpint (wr2v_fx_count (fx, "submit"), ==, 0);
  g_assert_true (posted (fx, table));
  g_assert_cmpuint (fx->warnings->len, >=, 1);
  g_assert_nonnull (strstr (g_ptr_array_index (fx->warnings, 0),
          "built-in table"));
  wr2v_run_clear (&r);

  wr2v_fx_renew_engine (fx);
  wr2v_fx_the_request (fx)->duration = 5;
  wr2v_fx_the_request (fx)->seed = 3;
  wr2v_fx_go_ok (fx, NULL, &r);
  s = last_submit (fx, &body);
  g_assert_false (json_object_has_member (body, "seed"));
  g_assert_true (json_object_has_member (body, "image"));
  json_node_unref (s);
  wr2v_run_clear (&r);
}

/* A submit refused as invalid: the schema is read anew by the next run. */
static void
test_schema_refreshed (Wr2vFixture * fx, gconstpointer data)
{
  Wr2vRun r;

  wr2v_fx_go (fx, "{\"fault\": \"submit-invalid\", \"times\": 1}", &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST);
  g_assert_cmpint (wr2v_fx_count (fx, "models"), ==, 1);
  wr2v_run_clear (&r);
  wr2v_fx_go_ok (fx, NULL, &r);
  wr2v_fx_assert_counts (fx, "models", 2, "submit", 2, NULL);
  wr2v_run_clear (&r);
}

/* The live price: asked with the body as inputs, posted as source=live,
 * and the engine's estimate from then on. */
static void
test_live_price (Wr2vFixture * fx, gconstpointer data)
{
  static const gchar *const live[] = { "wanr2v/cost", "source=(string)live",
    "estimated-usd=(double)1.23", NULL
  };
  JsonObject *root, *price, *inputs;
  JsonNode *s;
  Wr2vRun r;

  wr2v_fx_go_ok (fx, "{\"price\": 1.23}", &r);
  g_assert_true (posted (fx, live));
  g_assert_cmpfloat_with_epsilon (wr2v_engine_estimate_cost
      (wr2v_fx_the_engine (fx), wr2v_fx_the_request (fx)), 1.23, 1e-9);
  s = wr2v_fx_stats (fx);
  root = json_node_get_object (s);
  price = json_array_get_object_element (json_object_get_array_member (root,
          "prices"), 0);
  g_assert_cmpstr (json_object_get_string_member (price, "model_id"), ==,
      MODEL);
  inputs = json_object_get_object_member (price, "inputs");
  g_assert_cmpint (json_object_get_int_member (inputs, "duration"), ==, 5);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member
          (inputs, "videos")), ==, 2);
  json_node_unref (s);
  g_assert_cmpint (wr2v_fx_count (fx, "balance"), ==, 1);
  wr2v_run_clear (&r);
}

/* A live price above max-cost, or a balance below the price: refused
 * before the submit, with both figures. */
static void
test_cost_refused (Wr2vFixture * fx, gconstpointer data)
{
  gboolean balance = GPOINTER_TO_INT (data);
  Wr2vRun r;

  fx->settings.max_cost = 2.00;
  wr2v_fx_go (fx, balance ? "{\"balance\": 0.5}" : "{\"price\": 3.5}", &r);
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_COST);
  wr2v_assert_says (r.error, balance ? "USD 0.50" : "USD 3.50");
  wr2v_assert_says (r.error, balance ? "USD 1.00" : "USD 2.00");
  g_assert_cmpint (wr2v_fx_count (fx, "submit"), ==, 0);
  wr2v_fx_assert_journal (fx, r.job.hash, FALSE, NULL);
  wr2v_run_clear (&r);
}

/* Either upload route missing: the other one does it. */
static void
test_upload_route_missing (Wr2vFixture * fx, gconstpointer data)
{
  const gchar *fault = data;
  gboolean ticket_gone = g_str_has_prefix (fault, "ticket");
  JsonArray *uploads;
  JsonNode *s;
  Wr2vRun r;
  guint i;

  wr2v_fx_controlf (fx, "{\"fault\": \"%s\"}", fault);
  wr2v_fx_go_clip (fx, NULL, &r);
  s = wr2v_fx_stats (fx);
  uploads = json_object_get_array_member (json_node_get_object (s), "uploads");
  g_assert_cmpuint (json_array_get_length (uploads), ==, 3);
  for (i = 0; i < 3; i++)
    g_assert_cmpstr (json_object_get_string_member
        (json_array_get_object_element (uploads, i), "via"), ==,
        ticket_gone ? "binary" : "ticket");
  json_node_unref (s);
  /* the missing ticket route is asked once, then the binary one first */
  g_assert_cmpint (wr2v_fx_count (fx, "upload"), ==, ticket_gone ? 4 : 3);
  wr2v_run_clear (&r);
}

/* Output entries that are objects with a URL; a status not known yet
 * keeps the job waiting. */
static void
test_poll_shapes (Wr2vFixture * fx, gconstpointer data)
{
  wr2v_fx_expect_success (fx, "{\"fault\": \"outputs-object\"}");
  wr2v_fx_expect_success (fx, "{\"fault\": \"status-unknown\", "
      "\"times\": 2}");
}

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

/* One real job (5 s, 720p: USD 1.00 at the time of writing). */
static void
test_real_service (void)
{
  Wr2vEngineSettings settings = { 0, };
  gchar *dir, *video, *image, *desc;
  Wr2vRequest *req;

  if (!(dir = wr2v_test_real_dir ("WAVESPEED_API_KEY")))
    return;
  video = wr2v_test_real_video (dir, 90);
  image = g_build_filename (dir, "ref.png", NULL);
  desc = g_strdup_printf ("videotestsrc pattern=smpte num-buffers=1 ! "
      "video/x-raw,width=512,height=512 ! pngenc ! filesink location=\"%s\"",
      image);
  g_assert_true (wr2v_test_run_to_eos (desc, 60 * GST_SECOND));
  g_free (desc);

  req = wr2v_request_new ();
  req->prompt = g_strdup ("The ball from Video 1 bounces in front of the "
      "test card from Image 2");
  wr2v_test_add_file_ref (req, WR2V_REF_VIDEO, 0, video);
  wr2v_test_add_file_ref (req, WR2V_REF_IMAGE, 0, image);
  wr2v_request_number_references (req);
  /* the key comes from the environment, as in production */
  wr2v_test_run_real_job ("wavespeed", &settings, 2000, 10000, req, dir);
  g_free (video);
  g_free (image);
  g_free (dir);
}

/* ------------------------------------------------------------------------ */

static void
add_job_fail_cases (void)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (fail_cases); i++) {
    gchar *name = g_strdup_printf ("/wavespeed/job-fails/%s-%d",
        fail_cases[i].status, fail_cases[i].code);

    WR2V_FIXTURE_ADD (name, &fail_cases[i], test_job_fails);
    g_free (name);
  }
}

/* Faults that end in an error, as rows (wr2v-test-faults.h). */
static const Wr2vFailCase error_rows[] = {
  /* 401 on the submit itself: one submit seen, nothing created, and the
   * journal forgets it (a rerun may submit) */
  {"/wavespeed/submit-401", "{\"fault\": \"submit-401\", \"times\": 1}",
        TRUE, WR2V_ERROR_NOT_AUTHORIZED, {"WAVESPEED_API_KEY"}, NULL,
      {{"submit", 1}}, TRUE},
  /* the key refused by the first API call (the schema): no table
   * fallback, the key's error before anything is paid for */
  {"/wavespeed/key-refused-early", "{\"fault\": \"401\", \"times\": 1}",
        TRUE, WR2V_ERROR_NOT_AUTHORIZED, {"WAVESPEED_API_KEY"}, NULL,
      {{"models", 1}, {"submit", 0}}, FALSE},
};

int
main (int argc, char **argv)
{
  wr2v_test_engine_init (&argc, &argv, "wavespeed", &config, FALSE);
  add_job_fail_cases ();
  WR2V_FIXTURE_ADD ("/wavespeed/happy-path", NULL, test_submit_shape);
  WR2V_FIXTURE_ADD ("/wavespeed/options", NULL, test_submit_options);
  WR2V_FIXTURE_ADD ("/wavespeed/uri-reference", NULL, test_uri_reference);
  WR2V_FIXTURE_ADD ("/wavespeed/timeout-in-upload", NULL,
      test_timeout_in_upload);
  wr2v_fail_cases_add (error_rows, G_N_ELEMENTS (error_rows));
  WR2V_FIXTURE_ADD ("/wavespeed/envelope-error", NULL, test_envelope_error);
  WR2V_FIXTURE_ADD ("/wavespeed/submit-unreachable", NULL,
      test_submit_unreachable);
  WR2V_FIXTURE_ADD ("/wavespeed/schema/refuses", NULL, test_schema_refuses);
  WR2V_FIXTURE_ADD ("/wavespeed/schema/names", NULL, test_schema_names);
  WR2V_FIXTURE_ADD ("/wavespeed/schema/missing", NULL, test_schema_missing);
  WR2V_FIXTURE_ADD ("/wavespeed/schema/refreshed", NULL, test_schema_refreshed);
  WR2V_FIXTURE_ADD ("/wavespeed/cost/live-price", NULL, test_live_price);
  WR2V_FIXTURE_ADD ("/wavespeed/cost/above-max-cost", GINT_TO_POINTER (0),
      test_cost_refused);
  WR2V_FIXTURE_ADD ("/wavespeed/cost/low-balance", GINT_TO_POINTER (1),
      test_cost_refused);
  WR2V_FIXTURE_ADD ("/wavespeed/upload/ticket-route-missing",
      "ticket-route-missing", test_upload_route_missing);
  WR2V_FIXTURE_ADD ("/wavespeed/upload/binary-route-missing",
      "binary-route-missing", test_upload_route_missing);
  WR2V_FIXTURE_ADD ("/wavespeed/poll-shapes", NULL, test_poll_shapes);
  g_test_add_func ("/wavespeed/schema/rules", test_schema_rules);

  g_test_add_func ("/wavespeed/check-and-cost", test_check_and_cost);
  g_test_add_func ("/wavespeed/http/url-policy", test_url_policy);
  g_test_add_func ("/wavespeed/http/json-limits", test_json_limits);
  g_test_add_func ("/wavespeed/http/retry-refuses-post",
      test_retry_refuses_post);
  g_test_add_func ("/wavespeed/real-service", test_real_service);

  return wr2v_test_engine_finish (g_test_run ());
}
