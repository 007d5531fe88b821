/* wr2v-dashscope.c: Alibaba Cloud Model Studio (DashScope), the
 * vendor's own hosted Wan 2.7 reference-to-video (wan2.7-r2v).
 *
 * prepare turns local references into oss:// URLs through DashScope's
 * temporary upload (getPolicy, then a multipart POST to the upload host),
 * remembered in the store while they are valid; submit creates the task
 * exactly once; poll reads its state; fetch downloads the clip at once (its
 * URL expires after 24 h). The wire protocol and how sure each fact is are
 * in ../shared/docs/providers.md ("Alibaba Cloud Model Studio").
 *
 * A task costs money: a submit is never retried, and when it may have
 * reached the service without an answer the error says so.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "wr2v-defaults.h"
#include "wr2v-engine.h"
#include "wr2v-error.h"
#include "wr2v-http.h"
#include "wr2v-parsers.h"
#include "wr2v-prompt.h"

GST_DEBUG_CATEGORY_STATIC (wr2v_dashscope_debug);
#define GST_CAT_DEFAULT wr2v_dashscope_debug

#define ENGINE_NAME "dashscope"
#define KEY_ENV "DASHSCOPE_API_KEY"
#define DEFAULT_MODEL "wan2.7-r2v"
#define DEFAULT_REGION "singapore"

/* a submit that gets no answer in this time may still have created a task */
#define SUBMIT_TIMEOUT_S 120
#define API_TIMEOUT_S 60
#define UPLOAD_ATTEMPTS 3

/* Temporary uploads live 48 h [C]; remembered 2 h less, to be safe. */
#define UPLOAD_LIFETIME_S (48 * 3600 - 2 * 3600)

/* Base URLs by region [C]. Key, model and endpoint must be of one region;
 * a mismatch looks like an auth error [C]. */
static const struct
{
  const gchar *name;
  const gchar *base;
} regions[] = {
  {"singapore", "https://dashscope-intl.aliyuncs.com"},
  {"us", "https://dashscope-us.aliyuncs.com"},
  {"beijing", "https://dashscope.aliyuncs.com"},
};

/* What wan2.7-r2v takes. [C]: the model's docs; [3P]: only resellers say
 * so (providers.md). Every limit lives here, so that one found wrong is
 * one line to change. */
static const struct
{
  guint min_duration_s;         /* [C] */
  guint max_duration_s;         /* [C] */
  guint max_duration_with_video_s;      /* [3P] several resellers agree */
  guint max_prompt_chars;       /* [3P] */
  guint max_negative_prompt_chars;      /* [3P] */
  guint64 max_video_bytes;      /* [3P] mp4/mov, 1-30 s */
  guint64 max_image_bytes;      /* [3P] */
  gint64 max_seed;              /* [3P] 0..2^31-1 */
} limits = {
  2, 15, 10, 5000, 500,
  G_GUINT64_CONSTANT (100) * 1024 * 1024,
  G_GUINT64_CONSTANT (20) * 1024 * 1024,
  G_MAXINT32,
};

/* The cost estimate: DashScope bills input reference-video seconds plus
 * output seconds [C], at a per-second price by resolution.
 *
 * [I] The prices are NOT confirmed for wan2.7-r2v: they are the
 * international (Singapore) list prices of the earlier Wan 2.5/2.6 video
 * models, taken as the best guess, so that max-cost still guards a paid
 * service rather than treating it as free. Beijing bills in CNY at other
 * prices. Replace this table once Model Studio's price page lists the
 * model. */
static const struct
{
  Wr2vResolution resolution;
  gdouble usd_per_second;
} prices[] = {
  {WR2V_RESOLUTION_720P, 0.10},
  {WR2V_RESOLUTION_1080P, 0.15},
};

/* Billed seconds of a reference video whose length can't be read (no file
 * yet, or not an MP4/MOV we can parse): the default reference-duration. */
#define ASSUMED_REFERENCE_VIDEO_S 10.0

typedef struct
{
  gchar *url;
  gint64 expires;               /* unix seconds */
} Upload;

typedef struct
{
  Wr2vHttp *http;
  GMutex lock;
  /* upload record key -> Upload, for this process (the store keeps them
   * across runs) */
  GHashTable *uploaded;
} DashscopePriv;

static DashscopePriv *
get_priv (Wr2vEngine * engine)
{
  return engine->priv;
}

static void
upload_free (gpointer data)
{
  Upload *u = data;

  g_free (u->url);
  g_free (u);
}

/* --- settings --- */

static const gchar *
get_key (Wr2vEngine * engine, GError ** error)
{
  const gchar *key = engine->settings.api_key;

  if (!key || !*key)
    key = g_getenv (KEY_ENV);
  if (!key || !*key) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NO_CREDENTIALS,
        "no DashScope API key: set the api-key property or the " KEY_ENV
        " environment variable (keys are made in the Alibaba Cloud Model "
        "Studio console, per region: the key's region must match the "
        "region property)");
    return NULL;
  }
  return key;
}

/* The key as it may appear in texts that are scrubbed of it. */
static const gchar *
peek_key (Wr2vEngine * engine)
{
  const gchar *key = engine->settings.api_key;

  return key && *key ? key : g_getenv (KEY_ENV);
}

static const gchar *
get_model (Wr2vEngine * engine)
{
  const gchar *m = engine->settings.model;

  return m && *m ? m : DEFAULT_MODEL;
}

static gboolean
model_ok (const gchar * model)
{
  const gchar *p;

  if (!*model || strlen (model) > 128)
    return FALSE;
  for (p = model; *p; p++) {
    if (!g_ascii_isalnum (*p) && !strchr ("-_.", *p))
      return FALSE;
  }
  return TRUE;
}

/* The region's table entry; -1 and an error when unknown. */
static gint
find_region (Wr2vEngine * engine, GError ** error)
{
  const gchar *r = engine->settings.region;
  gchar *name;
  guint i;

  if (!r || !*r)
    r = DEFAULT_REGION;
  name = g_strstrip (g_ascii_strdown (r, -1));
  for (i = 0; i < G_N_ELEMENTS (regions); i++) {
    if (g_str_equal (name, regions[i].name)) {
      g_free (name);
      return i;
    }
  }
  g_free (name);
  {
    gchar *shown = g_strescape (r, NULL);

    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "DashScope region \"%s\" is not known: set region to singapore "
        "(the default), us or beijing, the region your API key was made "
        "in (or set api-url)", shown);
    g_free (shown);
  }
  return -1;
}

/* The base URL without trailing slashes: api-url when set, else the
 * region's. Checked against the URL policy. */
static gchar *
get_base_url (Wr2vEngine * engine, GError ** error)
{
  const gchar *u = engine->settings.api_url;
  GError *local = NULL;
  gchar *base;
  gsize len;
  gint r;

  /* an unknown region is an error even under api-url: it is a typo */
  if ((r = find_region (engine, error)) < 0)
    return NULL;
  if (!u || !*u)
    u = regions[r].base;
  base = g_strdup (u);
  len = strlen (base);
  while (len > 0 && base[len - 1] == '/')
    base[--len] = '\0';
  if (strchr (base, '?') || strchr (base, '#') ||
      !wr2v_http_url_allowed (base, &local)) {
    gchar *shown = wr2v_http_url_for_log (base);

    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "api-url \"%s\" can't be used: %s", shown,
        local ? local->message : "it must not have a query or fragment");
    g_clear_error (&local);
    g_free (shown);
    g_free (base);
    return NULL;
  }
  return base;
}

/* {base}/api/v1/{route} */
static gchar *
api_route (Wr2vEngine * engine, const gchar * route, GError ** error)
{
  gchar *base = get_base_url (engine, error);
  gchar *url;

  if (!base)
    return NULL;
  url = g_strconcat (base, "/api/v1/", route, NULL);
  g_free (base);
  return url;
}

/* For messages: which endpoint the key was used with. */
static gchar *
endpoint_text (Wr2vEngine * engine)
{
  const gchar *u = engine->settings.api_url;
  gint r = find_region (engine, NULL);

  if (u && *u) {
    gchar *shown = wr2v_http_url_for_log (u);
    gchar *text = g_strdup_printf ("api-url %s", shown);
    g_free (shown);
    return text;
  }
  if (r < 0)
    return g_strdup ("an unknown region");
  return g_strdup_printf ("region %s, %s", regions[r].name, regions[r].base);
}

/* --- answers: pure parsers (wr2v-parsers.h), also run by the fuzzers --- */

static const gchar *
obj_string (JsonObject * obj, const gchar * name)
{
  JsonNode *n;

  if (!obj || !(n = json_object_get_member (obj, name)) ||
      !JSON_NODE_HOLDS_VALUE (n) || json_node_get_value_type (n) !=
      G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

/* An integer member, also when sent as a string; @def when absent. */
static gint64
obj_int (JsonObject * obj, const gchar * name, gint64 def)
{
  JsonNode *n;

  if (!obj || !(n = json_object_get_member (obj, name)) ||
      !JSON_NODE_HOLDS_VALUE (n))
    return def;
  switch (json_node_get_value_type (n)) {
    case G_TYPE_INT64:
      return json_node_get_int (n);
    case G_TYPE_DOUBLE:{
      gdouble d = json_node_get_double (n);

      /* casting a double out of range (or NaN) is undefined */
      return (d >= -9.2e18 && d <= 9.2e18) ? (gint64) d : def;
    }
    case G_TYPE_STRING:{
      const gchar *s = json_node_get_string (n);
      gchar *end = NULL;
      gint64 v = g_ascii_strtoll (s, &end, 10);
      return (end && end != s && *end == '\0') ? v : def;
    }
    default:
      return def;
  }
}

static JsonObject *
obj_object (JsonObject * obj, const gchar * name)
{
  JsonNode *n;

  if (!obj || !(n = json_object_get_member (obj, name)) ||
      !JSON_NODE_HOLDS_OBJECT (n))
    return NULL;
  return json_node_get_object (n);
}

/* A JSON object answer, or NULL with an error. */
static JsonNode *
parse_object (const gchar * data, gsize len, JsonObject ** root,
    GError ** error)
{
  GBytes *bytes = g_bytes_new_static (data ? data : "", data ? len : 0);
  JsonNode *node = wr2v_http_parse_json (bytes, error);

  g_bytes_unref (bytes);
  if (!node)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    json_node_unref (node);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "DashScope answered JSON that is not an object");
    return NULL;
  }
  *root = json_node_get_object (node);
  return node;
}

void
wr2v_dashscope_answer_clear (Wr2vDashscopeAnswer * a)
{
  if (!a)
    return;
  g_free (a->request_id);
  g_free (a->code);
  g_free (a->message);
  g_free (a->task_id);
  g_free (a->task_status);
  g_free (a->video_url);
  g_free (a->task_code);
  g_free (a->task_message);
  memset (a, 0, sizeof *a);
  a->usage_duration = a->usage_input_video_duration =
      a->usage_output_video_duration = -1;
}

gboolean
wr2v_dashscope_parse_answer (const gchar * data, gsize len,
    Wr2vDashscopeAnswer * out, GError ** error)
{
  JsonObject *root = NULL, *output, *usage;
  JsonNode *node;

  wr2v_dashscope_answer_clear (out);
  node = parse_object (data, len, &root, error);
  if (!node)
    return FALSE;
  out->request_id = g_strdup (obj_string (root, "request_id"));
  out->code = g_strdup (obj_string (root, "code"));
  out->message = g_strdup (obj_string (root, "message"));
  output = obj_object (root, "output");
  out->task_id = g_strdup (obj_string (output, "task_id"));
  out->task_status = g_strdup (obj_string (output, "task_status"));
  out->video_url = g_strdup (obj_string (output, "video_url"));
  out->task_code = g_strdup (obj_string (output, "code"));
  out->task_message = g_strdup (obj_string (output, "message"));
  usage = obj_object (root, "usage");
  if (usage) {
    out->has_usage = TRUE;
    out->usage_duration = obj_int (usage, "duration", -1);
    out->usage_input_video_duration = obj_int (usage,
        "input_video_duration", -1);
    out->usage_output_video_duration = obj_int (usage,
        "output_video_duration", -1);
  }
  json_node_unref (node);
  return TRUE;
}

/* A form value from the service: one line of printable text. */
static gboolean
field_ok (const gchar * s)
{
  if (!s || !*s || strlen (s) > 8192)
    return FALSE;
  for (; *s; s++) {
    if ((guchar) * s < 0x20 || *s == 0x7f)
      return FALSE;
  }
  return TRUE;
}

/* The object key's directory: a relative path of plain characters. */
static gboolean
upload_dir_ok (const gchar * s)
{
  const gchar *p;

  if (!s || !*s || strlen (s) > 512 || s[0] == '/' || strstr (s, ".."))
    return FALSE;
  for (p = s; *p; p++) {
    if (!g_ascii_isalnum (*p) && !strchr ("-_./", *p))
      return FALSE;
  }
  return TRUE;
}

void
wr2v_dashscope_policy_clear (Wr2vDashscopePolicy * p)
{
  if (!p)
    return;
  g_free (p->upload_host);
  g_free (p->upload_dir);
  g_free (p->access_key_id);
  g_free (p->signature);
  g_free (p->policy);
  g_free (p->object_acl);
  g_free (p->forbid_overwrite);
  memset (p, 0, sizeof *p);
}

/* The answer of getPolicy [C: dashscope SDK oss_utils.py]. */
gboolean
wr2v_dashscope_parse_policy (const gchar * data, gsize len,
    Wr2vDashscopePolicy * pol, GError ** error)
{
  JsonObject *root = NULL, *d;
  JsonNode *node;
  GError *local = NULL;
  gboolean ok = FALSE;

  wr2v_dashscope_policy_clear (pol);
  node = parse_object (data, len, &root, &local);
  if (!node) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "DashScope's upload policy is unreadable: %s", local->message);
    g_error_free (local);
    return FALSE;
  }
  d = obj_object (root, "data");
  pol->upload_host = g_strdup (obj_string (d, "upload_host"));
  pol->upload_dir = g_strdup (obj_string (d, "upload_dir"));
  pol->access_key_id = g_strdup (obj_string (d, "oss_access_key_id"));
  pol->signature = g_strdup (obj_string (d, "signature"));
  pol->policy = g_strdup (obj_string (d, "policy"));
  pol->object_acl = g_strdup (obj_string (d, "x_oss_object_acl"));
  pol->forbid_overwrite = g_strdup (obj_string (d, "x_oss_forbid_overwrite"));
  pol->max_file_size_mb = obj_int (d, "max_file_size_mb", -1);

  if (!pol->upload_host || !wr2v_http_url_allowed (pol->upload_host, &local)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "DashScope's upload policy names no usable upload host%s%s",
        local ? ": " : "", local ? local->message : "");
    g_clear_error (&local);
    goto out;
  }
  if (!upload_dir_ok (pol->upload_dir) || !field_ok (pol->access_key_id) ||
      !field_ok (pol->signature) || !field_ok (pol->policy) ||
      (pol->object_acl && !field_ok (pol->object_acl)) ||
      (pol->forbid_overwrite && !field_ok (pol->forbid_overwrite))) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "DashScope's upload policy lacks a field or has an unusable one");
    goto out;
  }
  ok = TRUE;

out:
  if (!ok)
    wr2v_dashscope_policy_clear (pol);
  json_node_unref (node);
  return ok;
}

gboolean
wr2v_dashscope_task_id_ok (const gchar * id)
{
  const gchar *p;

  if (!id || !*id || strlen (id) > 128 || g_str_equal (id, ".") ||
      g_str_equal (id, ".."))
    return FALSE;
  for (p = id; *p; p++) {
    if (!g_ascii_isalnum (*p) && !strchr ("-_.", *p))
      return FALSE;
  }
  return TRUE;
}

/* --- texts from the service --- */

/* A provider text fit for an error message: bounded, one line, and never
 * carrying the key even if a server echoed it. */
static gchar *
provider_text (const gchar * text, const gchar * key)
{
  if (!text || !*text)
    return NULL;
  return wr2v_parsers_safe_text (text, 400, key);
}

/* Parses a response body; FALSE when it is not a JSON object. */
static gboolean
parse_body (const Wr2vHttpResponse * resp, Wr2vDashscopeAnswer * a,
    GError ** error)
{
  gsize len = 0;
  const gchar *data = resp->body ? g_bytes_get_data (resp->body, &len) : NULL;

  if (wr2v_dashscope_parse_answer (data, len, a, error))
    return TRUE;
  wr2v_http_hint_content_type (resp, error);
  return FALSE;
}

/* request_id of an answer, for support tickets: kept in the details. */
static void
note_request_id (Wr2vJob * job, const Wr2vDashscopeAnswer * a)
{
  gchar *safe;

  if (!job || !a || !a->request_id || !*a->request_id)
    return;
  safe = provider_text (a->request_id, NULL);
  wr2v_job_detail_string (job, "request-id", safe);
  g_free (safe);
}

static void uploaded_forget (Wr2vEngine * engine, Wr2vJob * job);

/* Notes what a failed answer ({"request_id","code","message"}) says in the
 * job's details and returns it for a message: "HTTP 400 Code: message".
 * @code (optional) gets the provider's code. */
static gchar *
note_http_error (Wr2vEngine * engine, Wr2vJob * job,
    const Wr2vHttpResponse * resp, gchar ** code_out)
{
  Wr2vDashscopeAnswer a = { 0, };
  gboolean readable = FALSE;
  gchar *msg = NULL, *code = NULL, *why;
  const gchar *key = peek_key (engine);

  if (resp->body && g_bytes_get_size (resp->body) > 0) {
    readable = parse_body (resp, &a, NULL);
    if (readable) {
      msg = provider_text (a.message, key);
      code = provider_text (a.code, key);
    }
  }
  if (job) {
    wr2v_job_detail_int (job, "http-status", resp->status);
    wr2v_job_detail_string (job, "provider-code", code);
    wr2v_job_detail_string (job, "provider-message", msg);
    note_request_id (job, readable ? &a : NULL);
  }
  why = g_strdup_printf ("HTTP %u%s%s%s%s", resp->status, code ? " " : "",
      code ? code : "", msg ? ": " : "", msg ? msg : "");
  if (code_out)
    *code_out = g_steal_pointer (&code);
  g_free (code);
  g_free (msg);
  wr2v_dashscope_answer_clear (&a);
  return why;
}

/* An answer that is not a success, as a GError a user can act on. */
static void
set_http_error (Wr2vEngine * engine, Wr2vJob * job,
    const Wr2vHttpResponse * resp, const gchar * what, GError ** error)
{
  gchar *code = NULL, *why, *endpoint;
  guint st = resp->status;

  why = note_http_error (engine, job, resp, &code);
  endpoint = endpoint_text (engine);

  if (code && g_str_has_prefix (code, "Arrearage")) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NOT_AUTHORIZED,
        "DashScope refused the request while %s (%s): the account has an "
        "overdue payment: top up the Alibaba Cloud account, then run again",
        what, why);
  } else if (code && g_str_has_prefix (code, "DataInspection")) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "DashScope's content moderation refused the request while %s (%s): "
        "change the prompt or references", what, why);
  } else if (code && g_str_has_prefix (code, "InvalidURL")) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "DashScope could not use a reference URL while %s (%s): a uri "
        "property must be a public https URL DashScope can fetch; uploaded "
        "references are uploaded anew on the next run", what, why);
    if (job)
      uploaded_forget (engine, job);
  } else if (st == 401 || (code && g_str_equal (code, "InvalidApiKey"))) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NOT_AUTHORIZED,
        "DashScope refused the API key while %s (%s): check the api-key "
        "property or the " KEY_ENV " environment variable, and that the "
        "key was made in the region in use (%s): keys of Singapore, US and "
        "Beijing don't work elsewhere", what, why, endpoint);
  } else if (st == 403 && code && g_str_has_prefix (code,
          "AccessDenied.Unpurchased")) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NOT_AUTHORIZED,
        "DashScope refused the request while %s (%s): model %s is not "
        "activated for this account in %s; activate it in the Model "
        "Studio console, or check the model property, the region and "
        KEY_ENV, what, why, get_model (engine), endpoint);
  } else if (st == 403) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NOT_AUTHORIZED,
        "DashScope denied access while %s (%s): check that the key in "
        "api-key or " KEY_ENV " may use model %s, and that key, model and "
        "region match (%s)", what, why, get_model (engine), endpoint);
  } else if (st == 404) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NOT_FOUND,
        "DashScope answered 404 (not found) while %s (%s): check api-url, "
        "region and model", what, why);
  } else if (st == 429) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NETWORK,
        "DashScope is throttling requests while %s (%s): try again later",
        what, why);
  } else if (st == 408 || st >= 500) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NETWORK,
        "DashScope had trouble while %s (%s): try again later", what, why);
  } else if (st == 413) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "DashScope refused the request as too large while %s (%s): use "
        "shorter or smaller references", what, why);
  } else if (code && g_str_has_prefix (code, "InvalidParameter")) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "DashScope refused a parameter while %s (%s): check duration, "
        "resolution, aspect-ratio, seed, the prompt and the references",
        what, why);
  } else if (st >= 400) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "DashScope refused the request while %s (%s)", what, why);
  } else {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "DashScope answered %s while %s", why, what);
  }
  g_free (endpoint);
  g_free (why);
  g_free (code);
}

/* --- check, cost, identity --- */

static gboolean
dashscope_check (Wr2vEngine * engine, const Wr2vRequest * req, GError ** error)
{
  guint videos = wr2v_request_count (req, WR2V_REF_VIDEO);
  glong chars;
  gchar *base;

  if (req->duration < limits.min_duration_s ||
      req->duration > limits.max_duration_s) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "DashScope's %s makes clips of %u to %u seconds, not %u: set "
        "duration in that range (at most %u with a reference video)",
        get_model (engine), limits.min_duration_s, limits.max_duration_s,
        req->duration, limits.max_duration_with_video_s);
    return FALSE;
  }
  if (videos > 0 && req->duration > limits.max_duration_with_video_s) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "DashScope's %s makes clips of at most %u seconds when any "
        "reference video is present (%u linked), not %u: lower duration to "
        "%u or less, or use reference images only", get_model (engine),
        limits.max_duration_with_video_s, videos, req->duration,
        limits.max_duration_with_video_s);
    return FALSE;
  }
  if (req->resolution != WR2V_RESOLUTION_720P &&
      req->resolution != WR2V_RESOLUTION_1080P) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "DashScope's %s makes 720p or 1080p clips: set resolution to one "
        "of those", get_model (engine));
    return FALSE;
  }
  /* every Wr2vAspectRatio is one of the five ratios the API names */

  chars = req->prompt ? g_utf8_strlen (req->prompt, -1) : 0;
  if (chars > (glong) limits.max_prompt_chars) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "the prompt has %ld characters; DashScope takes at most %u: "
        "shorten it", chars, limits.max_prompt_chars);
    return FALSE;
  }
  chars = req->negative_prompt ? g_utf8_strlen (req->negative_prompt, -1) : 0;
  if (chars > (glong) limits.max_negative_prompt_chars) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "the negative prompt has %ld characters; DashScope takes at most "
        "%u: shorten it", chars, limits.max_negative_prompt_chars);
    return FALSE;
  }
  if (req->seed > limits.max_seed) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "seed %" G_GINT64_FORMAT " is too large: DashScope takes 0 to %"
        G_GINT64_FORMAT " (or -1 for a random one)", req->seed,
        limits.max_seed);
    return FALSE;
  }
  if (!model_ok (get_model (engine))) {
    gchar *shown = g_strescape (get_model (engine), NULL);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "model \"%s\" is not a DashScope model name (like \"" DEFAULT_MODEL
        "\")", shown);
    g_free (shown);
    return FALSE;
  }
  /* region and api-url: wrong settings are reported before anything runs */
  base = get_base_url (engine, error);
  if (!base)
    return FALSE;
  g_free (base);
  return TRUE;
}

static guint32
be32 (const guint8 * p)
{
  return ((guint32) p[0] << 24) | ((guint32) p[1] << 16) |
      ((guint32) p[2] << 8) | p[3];
}

static guint64
be64 (const guint8 * p)
{
  return ((guint64) be32 (p) << 32) | be32 (p + 4);
}

/* Finds the box @type among the boxes in [@start, @end) of @f; its
 * payload in [*pstart, *pend). */
static gboolean
find_box (FILE * f, guint64 start, guint64 end, const gchar * type,
    guint64 * pstart, guint64 * pend)
{
  guint64 pos = start;
  guint i;

  for (i = 0; i < 4096 && pos + 8 <= end; i++) {
    guint8 h[16];
    guint64 size, hlen = 8;

    if (fseeko (f, (off_t) pos, SEEK_SET) != 0 || fread (h, 1, 8, f) != 8)
      return FALSE;
    size = be32 (h);
    if (size == 1) {
      if (fread (h + 8, 1, 8, f) != 8)
        return FALSE;
      size = be64 (h + 8);
      hlen = 16;
    } else if (size == 0) {
      size = end - pos;
    }
    if (size < hlen || size > end - pos)
      return FALSE;
    if (memcmp (h + 4, type, 4) == 0) {
      *pstart = pos + hlen;
      *pend = pos + size;
      return TRUE;
    }
    pos += size;
  }
  return FALSE;
}

/* Seconds of an MP4/MOV file from its movie header, or -1 when unknown. */
static gdouble
mp4_duration_s (const gchar * path)
{
  GStatBuf st;
  FILE *f;
  guint64 moov_s, moov_e, mvhd_s, mvhd_e, dur;
  guint32 scale;
  guint8 b[32];
  gdouble ret = -1;

  if (!path || g_stat (path, &st) != 0 || !(f = g_fopen (path, "rb")))
    return -1;
  if (find_box (f, 0, st.st_size, "moov", &moov_s, &moov_e) &&
      find_box (f, moov_s, moov_e, "mvhd", &mvhd_s, &mvhd_e) &&
      fseeko (f, (off_t) mvhd_s, SEEK_SET) == 0 && fread (b, 1, 1, f) == 1) {
    if (b[0] == 1 && mvhd_e - mvhd_s >= 32 && fread (b + 1, 1, 31, f) == 31) {
      scale = be32 (b + 20);
      dur = be64 (b + 24);
    } else if (b[0] == 0 && mvhd_e - mvhd_s >= 20 &&
        fread (b + 1, 1, 19, f) == 19) {
      scale = be32 (b + 12);
      dur = be32 (b + 16);
      if (dur == G_MAXUINT32)
        dur = 0;
    } else {
      scale = 0;
      dur = 0;
    }
    if (scale > 0 && dur > 0)
      ret = (gdouble) dur / scale;
  }
  fclose (f);
  return ret;
}

static gdouble
dashscope_estimate_cost (Wr2vEngine * engine, const Wr2vRequest * req)
{
  gdouble seconds = req->duration, per_s = prices[0].usd_per_second;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (prices); i++) {
    if (prices[i].resolution == req->resolution)
      per_s = prices[i].usd_per_second;
  }
  for (i = 0; req->references && i < req->references->len; i++) {
    Wr2vReference *ref = g_ptr_array_index (req->references, i);
    gdouble d;

    if (ref->kind != WR2V_REF_VIDEO)
      continue;
    d = mp4_duration_s (ref->path);
    /* whole seconds, rounded up: the safe side of a per-second bill */
    if (d > 0)
      seconds += (gdouble) (gint64) d + (d > (gint64) d ? 1 : 0);
    else
      seconds += ASSUMED_REFERENCE_VIDEO_S;
  }
  return seconds * per_s;
}

static gchar *
dashscope_identity (Wr2vEngine * engine)
{
  return g_strdup (get_model (engine));
}

/* --- uploads remembered --- */

/* The key an upload is remembered under. An oss:// URL is bound to the
 * model and the account it was uploaded for, so both go into the key with
 * the content: the model, the endpoint, and a one-way digest of the API
 * key (the key itself is never written anywhere). */
static gchar *
upload_record_key (Wr2vEngine * engine, const gchar * content_sha)
{
  GChecksum *c = g_checksum_new (G_CHECKSUM_SHA256);
  gchar *base = get_base_url (engine, NULL);
  const gchar *key = peek_key (engine);
  gchar *account = g_compute_checksum_for_string (G_CHECKSUM_SHA256,
      key ? key : "", -1);
  gchar *ret;

  g_checksum_update (c, (const guchar *) "wanr2v-dashscope-upload-1\n", -1);
  g_checksum_update (c, (const guchar *) content_sha, -1);
  g_checksum_update (c, (const guchar *) "\n", 1);
  g_checksum_update (c, (const guchar *) get_model (engine), -1);
  g_checksum_update (c, (const guchar *) "\n", 1);
  g_checksum_update (c, (const guchar *) (base ? base : ""), -1);
  g_checksum_update (c, (const guchar *) "\n", 1);
  g_checksum_update (c, (const guchar *) account, -1);
  ret = g_strdup (g_checksum_get_string (c));
  g_checksum_free (c);
  g_free (account);
  g_free (base);
  return ret;
}

static gchar *
uploaded_lookup (Wr2vEngine * engine, Wr2vJob * job, const gchar * sha,
    gint64 margin_s)
{
  DashscopePriv *priv = get_priv (engine);
  gchar *rkey = upload_record_key (engine, sha);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  Upload *u;
  gchar *url = NULL;

  g_mutex_lock (&priv->lock);
  u = g_hash_table_lookup (priv->uploaded, rkey);
  if (u && u->expires >= now + margin_s)
    url = g_strdup (u->url);
  g_mutex_unlock (&priv->lock);
  if (!url && job->store)
    url = wr2v_store_upload_lookup (job->store, ENGINE_NAME, rkey, margin_s);
  g_free (rkey);
  return url;
}

static void
uploaded_remember (Wr2vEngine * engine, Wr2vJob * job, const gchar * sha,
    const gchar * url, gint64 expires)
{
  DashscopePriv *priv = get_priv (engine);
  gchar *rkey = upload_record_key (engine, sha);
  GError *err = NULL;
  Upload *u = g_new0 (Upload, 1);

  u->url = g_strdup (url);
  u->expires = expires;
  g_mutex_lock (&priv->lock);
  g_hash_table_replace (priv->uploaded, g_strdup (rkey), u);
  g_mutex_unlock (&priv->lock);
  if (job->store && !wr2v_store_upload_remember (job->store, ENGINE_NAME,
          rkey, url, expires, &err)) {
    /* only costs an upload next time */
    GST_WARNING ("could not remember an upload: %s", err->message);
    g_clear_error (&err);
  }
  g_free (rkey);
}

/* After the service could not fetch a reference: don't offer the same
 * uploads again. */
static void
uploaded_forget (Wr2vEngine * engine, Wr2vJob * job)
{
  DashscopePriv *priv = get_priv (engine);
  Wr2vRequest *req = job->request;
  guint i;

  for (i = 0; req && req->references && i < req->references->len; i++) {
    Wr2vReference *ref = g_ptr_array_index (req->references, i);
    gchar *rkey, *url;

    if (ref->uri || !ref->sha256)
      continue;
    rkey = upload_record_key (engine, ref->sha256);
    g_mutex_lock (&priv->lock);
    g_hash_table_remove (priv->uploaded, rkey);
    g_mutex_unlock (&priv->lock);
    if (job->store && (url = wr2v_store_upload_lookup (job->store,
                ENGINE_NAME, rkey, 0))) {
      /* an expiry in the past makes the store treat it as gone */
      wr2v_store_upload_remember (job->store, ENGINE_NAME, rkey, url, 1, NULL);
      g_free (url);
    }
    g_free (rkey);
  }
}

static gint64
upload_margin (Wr2vEngine * engine)
{
  guint t = engine->settings.request_timeout_s;

  /* valid for the whole job, plus an hour in the queue */
  return (gint64) (t ? t : WR2V_DEFAULT_HOSTED_TIMEOUT_S) + 3600;
}

/* --- prepare: the temporary upload --- */

typedef struct
{
  Wr2vJob *job;
  const gchar *label;
  gint last_pct;
  gint64 last_time;
} ProgressState;

static void
on_progress (gpointer data, gboolean upload, guint64 now, guint64 total)
{
  ProgressState *ps = data;
  gint pct;
  gint64 t;

  if (total == 0)
    return;
  pct = (gint) (now * 100 / total);
  t = g_get_monotonic_time ();
  /* every 10 % and not more than twice a second: these become messages */
  if (pct / 10 == ps->last_pct / 10 || (t - ps->last_time < G_USEC_PER_SEC / 2
          && pct < 100))
    return;
  ps->last_pct = pct;
  ps->last_time = t;
  {
    gchar *size = g_format_size (total);
    wr2v_job_phase (ps->job, upload ? WR2V_PHASE_UPLOAD : WR2V_PHASE_DOWNLOAD,
        "%s: %d%% of %s", ps->label, pct, size);
    g_free (size);
  }
}

static gboolean
get_policy (Wr2vEngine * engine, Wr2vJob * job, const gchar * key,
    Wr2vDashscopePolicy * pol, GError ** error)
{
  DashscopePriv *priv = get_priv (engine);
  Wr2vHttpRequest hr = { 0, };
  Wr2vHttpResponse resp = { 0, };
  Wr2vHttpRetry retry = { 5, 1000, 15000, 60 };
  gchar *model, *route, *url;
  gboolean ok = FALSE;
  GError *local = NULL;

  model = g_uri_escape_string (get_model (engine), NULL, FALSE);
  route = g_strconcat ("uploads?action=getPolicy&model=", model, NULL);
  url = api_route (engine, route, error);
  g_free (route);
  g_free (model);
  if (!url)
    return FALSE;

  hr.method = WR2V_HTTP_GET;
  hr.url = url;
  hr.bearer = key;
  hr.timeout_s = API_TIMEOUT_S;
  hr.low_speed_time_s = 30;
  hr.cancellable = job->cancellable;
  if (!wr2v_http_perform_retry (priv->http, &hr, &retry, &resp, &local)) {
    if (local->domain == WR2V_ERROR && local->code == WR2V_ERROR_NETWORK)
      g_prefix_error (&local, "asking DashScope for an upload policy "
          "failed: ");
    g_propagate_error (error, local);
    goto out;
  }
  if (resp.status != 200) {
    set_http_error (engine, job, &resp, "asking for an upload policy", error);
    goto out;
  }
  {
    gsize len = 0;
    const gchar *data = resp.body ? g_bytes_get_data (resp.body, &len) : NULL;

    if (!wr2v_dashscope_parse_policy (data, len, pol, error)) {
      wr2v_http_hint_content_type (&resp, error);
      goto out;
    }
  }
  ok = TRUE;

out:
  if (!ok)
    wr2v_dashscope_policy_clear (pol);
  wr2v_http_response_clear (&resp);
  g_free (url);
  return ok;
}

static const gchar *
ext_for_mime (const gchar * mime, Wr2vRefKind kind)
{
  if (g_strcmp0 (mime, "image/jpeg") == 0)
    return "jpg";
  if (g_strcmp0 (mime, "image/png") == 0)
    return "png";
  if (g_strcmp0 (mime, "video/quicktime") == 0)
    return "mov";
  return kind == WR2V_REF_IMAGE ? "png" : "mp4";
}

static const gchar *
mime_for (const Wr2vReference * ref)
{
  if (ref->mime && field_ok (ref->mime))
    return ref->mime;
  return ref->kind == WR2V_REF_IMAGE ? "image/png" : "video/mp4";
}

/* A string field; none when the policy did not give a value. */
static void
add_part (Wr2vHttpFormPart * parts, guint * n, const gchar * name,
    const gchar * value)
{
  if (!value)
    return;
  memset (&parts[*n], 0, sizeof parts[*n]);
  parts[*n].name = name;
  parts[*n].value = value;
  (*n)++;
}

/* <Code> and <Message> of an OSS XML error body, for messages. */
static gchar *
oss_error_text (GBytes * body)
{
  static const gchar *tags[] = { "Code", "Message" };
  GString *s = g_string_new (NULL);
  gsize len = 0;
  const gchar *data = body ? g_bytes_get_data (body, &len) : NULL;
  gchar *text = data ? g_strndup (data, MIN (len, 16384)) : NULL;
  guint i;

  for (i = 0; text && i < G_N_ELEMENTS (tags); i++) {
    gchar *open = g_strdup_printf ("<%s>", tags[i]);
    gchar *close = g_strdup_printf ("</%s>", tags[i]);
    const gchar *a = strstr (text, open), *b;

    if (a && (b = strstr (a, close))) {
      gchar *v;

      a += strlen (open);
      v = g_strndup (a, MIN (b - a, 200));
      g_string_append_printf (s, "%s%s", s->len ? ": " : "", v);
      g_free (v);
    }
    g_free (open);
    g_free (close);
  }
  g_free (text);
  if (!s->len) {
    g_string_free (s, TRUE);
    return NULL;
  }
  return g_string_free (s, FALSE);
}

/* One upload attempt; *retry says whether another one may help. */
static gchar *
upload_attempt (Wr2vEngine * engine, Wr2vJob * job, const gchar * key,
    const Wr2vReference * ref, const gchar * sha, const gchar * label,
    gboolean * retry, GError ** error)
{
  DashscopePriv *priv = get_priv (engine);
  Wr2vDashscopePolicy pol = { 0, };
  Wr2vHttpFormPart parts[9] = { {0,}, };
  Wr2vHttpRequest hr = { 0, };
  Wr2vHttpResponse resp = { 0, };
  ProgressState ps = { job, label, -10, 0 };
  GStatBuf st;
  guint64 limit;
  guint n = 0;
  gchar *filename = NULL, *object_key = NULL, *url = NULL;
  GError *local = NULL;

  *retry = FALSE;
  if (g_stat (ref->path, &st) != 0) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "%s: can't read %s", label, ref->path);
    return NULL;
  }
  limit = ref->kind == WR2V_REF_IMAGE ? limits.max_image_bytes :
      limits.max_video_bytes;
  /* checked before asking for a policy too: no request for a lost cause */
  if ((guint64) st.st_size > limit)
    goto too_large;

  if (!get_policy (engine, job, key, &pol, error))
    return NULL;
  if (pol.max_file_size_mb > 0)
    limit = MIN (limit, (guint64) pol.max_file_size_mb * 1024 * 1024);
  if ((guint64) st.st_size > limit)
    goto too_large;

  /* a name from the content, never from the user's file names */
  filename = g_strdup_printf ("%s.%s", sha, ext_for_mime (ref->mime,
          ref->kind));
  object_key = g_strconcat (pol.upload_dir, "/", filename, NULL);

  /* the field order of an OSS PostObject: "file" last */
  add_part (parts, &n, "OSSAccessKeyId", pol.access_key_id);
  add_part (parts, &n, "Signature", pol.signature);
  add_part (parts, &n, "policy", pol.policy);
  add_part (parts, &n, "key", object_key);
  add_part (parts, &n, "x-oss-object-acl", pol.object_acl);
  add_part (parts, &n, "x-oss-forbid-overwrite", pol.forbid_overwrite);
  add_part (parts, &n, "success_action_status", "200");
  add_part (parts, &n, "x-oss-content-type", mime_for (ref));
  parts[n].name = "file";
  parts[n].file_path = ref->path;
  parts[n].filename = filename;
  parts[n].content_type = mime_for (ref);
  n++;

  /* no Bearer key: the upload host is not DashScope, the policy's
   * signature is the credential */
  hr.method = WR2V_HTTP_POST;
  hr.url = pol.upload_host;
  hr.parts = parts;
  hr.n_parts = n;
  hr.low_speed_time_s = 60;
  hr.progress = on_progress;
  hr.progress_data = &ps;
  hr.cancellable = job->cancellable;

  {
    gchar *size_text = g_format_size (st.st_size);
    wr2v_job_phase (job, WR2V_PHASE_UPLOAD, "uploading %s (%s)", label,
        size_text);
    g_free (size_text);
  }
  if (!wr2v_http_perform (priv->http, &hr, &resp, &local)) {
    *retry = g_error_matches (local, WR2V_ERROR, WR2V_ERROR_NETWORK);
    if (!g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      g_prefix_error (&local, "uploading %s to DashScope's temporary "
          "storage failed: ", label);
    g_propagate_error (error, local);
    goto out;
  }
  /* 409: forbid-overwrite met an object of this name, and the name is the
   * content's hash: the same bytes are there already */
  if ((resp.status >= 200 && resp.status < 300) || resp.status == 409) {
    url = g_strconcat ("oss://", object_key, NULL);
    GST_INFO ("uploaded %s (%s)", label, sha);
    goto out;
  }
  {
    gchar *oss = oss_error_text (resp.body);

    /* 403: the policy may have expired on the way; 5xx: the host's
     * trouble. A fresh policy and another try may help both. */
    *retry = resp.status == 403 || resp.status == 408 ||
        wr2v_http_status_is_transient (resp.status);
    g_set_error (error, WR2V_ERROR, resp.status == 400 && oss &&
        g_str_has_prefix (oss, "EntityTooLarge") ?
        WR2V_ERROR_INVALID_REQUEST : (*retry ? WR2V_ERROR_NETWORK :
            WR2V_ERROR_PROTOCOL), "DashScope's upload host refused %s "
        "(HTTP %u%s%s): run again; if it persists, give the reference a "
        "uri instead", label, resp.status, oss ? ", " : "", oss ? oss : "");
    g_free (oss);
  }
  goto out;

too_large:
  {
    gchar *have = g_format_size (st.st_size), *max = g_format_size (limit);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "%s is %s; DashScope takes %s references up to %s: %s", label, have,
        ref->kind == WR2V_REF_IMAGE ? "image" : "video", max,
        ref->kind == WR2V_REF_IMAGE ? "use a smaller image, or give the pad a "
        "uri" : "shorten it (reference-duration), lower its resolution, or "
        "give the pad a uri");
    g_free (have);
    g_free (max);
  }

out:
  wr2v_http_response_clear (&resp);
  wr2v_dashscope_policy_clear (&pol);
  g_free (filename);
  g_free (object_key);
  return url;
}

static gchar *
upload_one (Wr2vEngine * engine, Wr2vJob * job, const gchar * key,
    const Wr2vReference * ref, const gchar * sha, GError ** error)
{
  gchar *label = g_strdup_printf ("%s %u", wr2v_ref_kind_word (ref->kind),
      ref->number);
  gint64 started = g_get_real_time () / G_USEC_PER_SEC;
  gchar *url = NULL;
  guint attempt;

  /* An upload creates nothing billable and its name is the content's
   * hash, so unlike a submit it may be sent again. */
  for (attempt = 1;; attempt++) {
    GError *local = NULL;
    gboolean retry = FALSE;

    url = upload_attempt (engine, job, key, ref, sha, label, &retry, &local);
    if (url)
      break;
    if (!retry || attempt >= UPLOAD_ATTEMPTS) {
      g_propagate_error (error, local);
      break;
    }
    GST_INFO ("%s: %s; trying again", label, local->message);
    g_error_free (local);
    if (!wr2v_cancellable_sleep (job->cancellable, attempt * G_USEC_PER_SEC,
            error))
      break;
  }
  if (url)
    uploaded_remember (engine, job, sha, url, started + UPLOAD_LIFETIME_S);
  g_free (label);
  return url;
}

static gboolean
url_is_http (const gchar * url)
{
  return url && (g_ascii_strncasecmp (url, "https://", 8) == 0 ||
      g_ascii_strncasecmp (url, "http://", 7) == 0);
}

static gboolean
dashscope_prepare (Wr2vEngine * engine, Wr2vJob * job, GError ** error)
{
  Wr2vRequest *req = job->request;
  const gchar *key;
  guint i, n = req->references ? req->references->len : 0;

  /* the limits again, so that nothing is sent for a request the element
   * did not check (wr2v_job_run alone) */
  if (!dashscope_check (engine, req, error))
    return FALSE;
  if (!(key = get_key (engine, error)))
    return FALSE;

  for (i = 0; i < n; i++) {
    Wr2vReference *ref = g_ptr_array_index (req->references, i);
    const gchar *word = wr2v_ref_kind_word (ref->kind);
    gchar *sha, *url;

    if (g_cancellable_set_error_if_cancelled (job->cancellable, error))
      return FALSE;
    if (ref->uri) {
      /* used as given: DashScope fetches it (oss:// of the same account
       * works too) */
      if (!url_is_http (ref->uri) && !g_str_has_prefix (ref->uri, "oss://")) {
        g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
            "%s %u: DashScope fetches references by http(s) URL; the uri "
            "\"%s\" is not one", word, ref->number, ref->uri);
        return FALSE;
      }
      continue;
    }
    if (!ref->path) {
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
          "%s %u has neither a file nor a URL", word, ref->number);
      return FALSE;
    }
    sha = ref->sha256 ? g_strdup (ref->sha256) :
        wr2v_file_sha256 (ref->path, error);
    if (!sha)
      return FALSE;

    url = uploaded_lookup (engine, job, sha, upload_margin (engine));
    if (url)
      wr2v_job_phase (job, WR2V_PHASE_UPLOAD, "%s %u was uploaded before",
          word, ref->number);
    else
      url = upload_one (engine, job, key, ref, sha, error);
    g_free (sha);
    if (!url)
      return FALSE;
    g_free (url);
  }
  return TRUE;
}

/* --- submit --- */

static const gchar *
wire_resolution (Wr2vResolution r)
{
  return r == WR2V_RESOLUTION_1080P ? "1080P" : "720P";
}

static const gchar *
wire_ratio (Wr2vAspectRatio ar)
{
  switch (ar) {
    case WR2V_ASPECT_9_16:
      return "9:16";
    case WR2V_ASPECT_1_1:
      return "1:1";
    case WR2V_ASPECT_4_3:
      return "4:3";
    case WR2V_ASPECT_3_4:
      return "3:4";
    case WR2V_ASPECT_16_9:
    default:
      return "16:9";
  }
}

/* The URL the service fetches a reference from. */
static gchar *
reference_url (Wr2vEngine * engine, Wr2vJob * job, const Wr2vReference * ref,
    GError ** error)
{
  gchar *url = NULL;

  if (ref->uri)
    return g_strdup (ref->uri);
  if (ref->sha256)
    url = uploaded_lookup (engine, job, ref->sha256, 600);
  if (!url)
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
        "%s %u was not uploaded before the submit",
        wr2v_ref_kind_word (ref->kind), ref->number);
  return url;
}

static gchar *
build_submit_body (Wr2vEngine * engine, Wr2vJob * job, gboolean * uses_oss,
    GError ** error)
{
  Wr2vRequest *req = job->request;
  JsonBuilder *b = json_builder_new ();
  JsonGenerator *gen;
  JsonNode *root;
  gchar *body = NULL, *prompt;
  guint i, n = req->references ? req->references->len : 0;

  *uses_oss = FALSE;
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, get_model (engine));

  json_builder_set_member_name (b, "input");
  json_builder_begin_object (b);
  /* Wan 2.7 on DashScope numbers references as the user does */
  prompt = wr2v_prompt_translate (req->prompt, WR2V_PROMPT_STYLE_WAN27);
  json_builder_set_member_name (b, "prompt");
  json_builder_add_string_value (b, prompt);
  g_free (prompt);
  if (req->negative_prompt && *req->negative_prompt) {
    json_builder_set_member_name (b, "negative_prompt");
    json_builder_add_string_value (b, req->negative_prompt);
  }
  json_builder_set_member_name (b, "media");
  json_builder_begin_array (b);
  /* references are in prompt order (videos, then images): the order the
   * model numbers them in */
  for (i = 0; i < n; i++) {
    Wr2vReference *ref = g_ptr_array_index (req->references, i);
    gchar *url = reference_url (engine, job, ref, error);

    if (!url)
      goto out;
    *uses_oss |= g_str_has_prefix (url, "oss://");
    json_builder_begin_object (b);
    json_builder_set_member_name (b, "type");
    json_builder_add_string_value (b, ref->kind == WR2V_REF_VIDEO ?
        "reference_video" : "reference_image");
    json_builder_set_member_name (b, "url");
    json_builder_add_string_value (b, url);
    json_builder_end_object (b);
    g_free (url);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);

  json_builder_set_member_name (b, "parameters");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "resolution");
  json_builder_add_string_value (b, wire_resolution (req->resolution));
  json_builder_set_member_name (b, "duration");
  json_builder_add_int_value (b, req->duration);
  json_builder_set_member_name (b, "prompt_extend");
  json_builder_add_boolean_value (b, req->prompt_expansion);
  json_builder_set_member_name (b, "watermark");
  json_builder_add_boolean_value (b, FALSE);
  /* [3P] for ratio: only when the user chose one */
  if (req->aspect_ratio_set) {
    json_builder_set_member_name (b, "ratio");
    json_builder_add_string_value (b, wire_ratio (req->aspect_ratio));
  }
  if (req->seed >= 0) {
    json_builder_set_member_name (b, "seed");
    json_builder_add_int_value (b, req->seed);
  }
  json_builder_end_object (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  gen = json_generator_new ();
  json_generator_set_root (gen, root);
  body = json_generator_to_data (gen, NULL);
  g_object_unref (gen);
  json_node_unref (root);

out:
  g_object_unref (b);
  return body;
}

static void
set_maybe_submitted (Wr2vJob * job, const gchar * why, GError ** error)
{
  gchar *journal = job->store && job->hash ?
      g_strdup_printf ("%s/journal/%s.json", wr2v_store_dir (job->store),
      job->hash) : g_strdup ("the job journal in cache-dir");

  g_set_error (error, WR2V_ERROR, WR2V_ERROR_MAYBE_SUBMITTED,
      "the task was sent to DashScope but %s, so a paid task may have been "
      "created. Look for it in the Model Studio console (task ids are kept "
      "24 h) before trying again. This request is not submitted again by "
      "itself: once you know no task runs for it, delete %s and run again",
      why, journal);
  g_free (journal);
}

static gchar *
dashscope_submit (Wr2vEngine * engine, Wr2vJob * job, GError ** error)
{
  DashscopePriv *priv = get_priv (engine);
  Wr2vRequest *req = job->request;
  const gchar *key;
  const gchar *headers[3] = { "X-DashScope-Async: enable", NULL, NULL };
  gchar *url = NULL, *body = NULL, *id = NULL, *what = NULL;
  Wr2vHttpRequest hr = { 0, };
  Wr2vHttpResponse resp = { 0, };
  GError *local = NULL;
  Wr2vDashscopeAnswer a = { 0, };
  gboolean uses_oss = FALSE;
  guint timeout;

  if (!(key = get_key (engine, error)))
    return NULL;
  url = api_route (engine, "services/aigc/video-generation/video-synthesis",
      error);
  if (!url)
    return NULL;
  body = build_submit_body (engine, job, &uses_oss, error);
  if (!body)
    goto out;
  /* oss:// URLs are only resolved when asked to [C] */
  if (uses_oss)
    headers[1] = "X-DashScope-OssResourceResolve: enable";

  /* no longer than the whole job may last */
  timeout = engine->settings.request_timeout_s ?
      MIN (engine->settings.request_timeout_s, SUBMIT_TIMEOUT_S) :
      SUBMIT_TIMEOUT_S;
  hr.method = WR2V_HTTP_POST;
  hr.url = url;
  hr.bearer = key;
  hr.headers = headers;
  hr.body = g_bytes_new_static (body, strlen (body));
  hr.content_type = "application/json";
  hr.timeout_s = timeout;
  hr.low_speed_time_s = timeout;
  hr.cancellable = job->cancellable;
  /* a fresh connection: on a reused one that dies, libcurl resends */
  hr.no_resend = TRUE;

  wr2v_job_phase (job, WR2V_PHASE_SUBMIT, "submitting to DashScope (%s, %s, "
      "%u s)", get_model (engine), wire_resolution (req->resolution),
      req->duration);

  /* never retried: a second POST is a second paid task */
  if (!wr2v_http_perform (priv->http, &hr, &resp, &local)) {
    if (!resp.request_sent) {
      g_propagate_error (error, local);
    } else if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      /* stopped after sending: not a plain cancel, or the driver would
       * forget the journal entry and the next run could pay twice */
      set_maybe_submitted (job, "the run was stopped before it answered",
          error);
      g_error_free (local);
    } else {
      gchar *why = g_strdup_printf ("no answer came (%s)", local->message);
      set_maybe_submitted (job, why, error);
      g_free (why);
      g_error_free (local);
    }
    goto out;
  }

  what = g_strdup_printf ("submitting the task to %s", get_model (engine));
  if (resp.status == 408 || resp.status == 500 || resp.status == 502 ||
      resp.status == 504) {
    /* a timeout or gateway error may hide a task the backend created */
    gchar *answer = note_http_error (engine, job, &resp, NULL);
    gchar *why = g_strdup_printf ("the answer was %s", answer);
    set_maybe_submitted (job, why, error);
    g_free (why);
    g_free (answer);
    goto out;
  }
  if (resp.status == 429) {
    gchar *why = note_http_error (engine, job, &resp, NULL);

    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NETWORK,
        "DashScope throttled the submit (%s): nothing was created, retry "
        "later. A submit is not retried by itself, so that a task is never "
        "paid twice", why);
    g_free (why);
    goto out;
  }
  if (resp.status != 200) {
    set_http_error (engine, job, &resp, what, error);
    if (resp.status == 503)
      g_prefix_error (error, "no task was created: ");
    goto out;
  }
  if (!parse_body (&resp, &a, &local)) {
    gchar *why = g_strdup_printf ("its answer was unreadable (%s)",
        local->message);
    set_maybe_submitted (job, why, error);
    g_free (why);
    g_error_free (local);
    goto out;
  }
  note_request_id (job, &a);
  if (!a.task_id && a.code) {
    /* an error envelope with a 200: it says what went wrong */
    Wr2vHttpResponse fake = resp;

    fake.status = 400;
    set_http_error (engine, job, &fake, what, error);
    goto out;
  }
  if (!wr2v_dashscope_task_id_ok (a.task_id)) {
    set_maybe_submitted (job, "its answer had no usable task id", error);
    goto out;
  }
  id = g_steal_pointer (&a.task_id);
  GST_INFO ("submitted task %s", id);

out:
  wr2v_dashscope_answer_clear (&a);
  if (hr.body)
    g_bytes_unref (hr.body);
  wr2v_http_response_clear (&resp);
  g_free (what);
  g_free (url);
  g_free (body);
  return id;
}

/* --- poll --- */

static void
set_task_failed (Wr2vEngine * engine, Wr2vJob * job, const gchar * task_id,
    const gchar * status, const gchar * code, const gchar * message,
    GError ** error)
{
  const gchar *m = message ? message : "no detail given";
  const gchar *c = code ? code : "no code";

  if (g_str_equal (status, "CANCELED")) {
    gchar *said = code || message ? g_strdup_printf (" (%s: %s)", c, m) :
        g_strdup ("");

    g_set_error (error, WR2V_ERROR, WR2V_ERROR_JOB_FAILED,
        "DashScope task %s was canceled on the service side%s; run again to "
        "submit a new (paid) task", task_id, said);
    g_free (said);
  } else if (code && g_str_has_prefix (code, "DataInspection")) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_JOB_FAILED,
        "DashScope task %s was stopped by content moderation (%s: %s): "
        "change the prompt or references", task_id, c, m);
  } else if (code && g_str_has_prefix (code, "InvalidParameter")) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_JOB_FAILED,
        "DashScope task %s has an invalid parameter (%s: %s): check "
        "duration, resolution, aspect-ratio, seed, the prompt and the "
        "references", task_id, c, m);
  } else if (code && (g_str_has_prefix (code, "InvalidURL") ||
          g_str_has_prefix (code, "InvalidFile"))) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_JOB_FAILED,
        "DashScope task %s could not use a reference (%s: %s): give public "
        "https URLs, or run again to upload the references anew", task_id,
        c, m);
    uploaded_forget (engine, job);
  } else if (code && (g_str_has_prefix (code, "InternalError") ||
          g_str_has_prefix (code, "SystemError") ||
          g_str_has_prefix (code, "Throttling"))) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_JOB_FAILED,
        "DashScope task %s failed on the provider's side (%s: %s): nothing "
        "to change in the request; try again later (a new run submits a "
        "new, paid task)", task_id, c, m);
  } else {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_JOB_FAILED,
        "DashScope task %s failed (%s: %s); run again to submit a new "
        "(paid) task", task_id, c, m);
  }
}

/* The end states without a result; UNKNOWN is handled apart. */
static gboolean
status_is_failure (const gchar * status)
{
  return g_str_equal (status, "FAILED") || g_str_equal (status, "CANCELED");
}

static gboolean
dashscope_poll (Wr2vEngine * engine, Wr2vJob * job, const gchar * job_id,
    Wr2vPollResult * res, GError ** error)
{
  DashscopePriv *priv = get_priv (engine);
  const gchar *key;
  gchar *escaped, *route, *url = NULL, *what = NULL;
  Wr2vHttpRequest hr = { 0, };
  Wr2vHttpResponse resp = { 0, };
  /* 429 Throttling is retried here, on a GET; never on a submit */
  Wr2vHttpRetry retry = { 6, 1000, 15000, 60 };
  GError *local = NULL;
  Wr2vDashscopeAnswer a = { 0, };
  const gchar *status;
  gboolean ok = FALSE;

  if (!wr2v_dashscope_task_id_ok (job_id)) {
    gchar *shown = g_strescape (job_id ? job_id : "", NULL);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "\"%s\" is not a DashScope task id (letters, digits, '-', '_' and "
        "'.' only)", shown);
    g_free (shown);
    return FALSE;
  }
  wr2v_job_detail_string (job, "job-id", job_id);
  if (!(key = get_key (engine, error)))
    return FALSE;

  escaped = wr2v_http_escape_segment (job_id);
  route = g_strconcat ("tasks/", escaped, NULL);
  g_free (escaped);
  url = api_route (engine, route, error);
  g_free (route);
  if (!url)
    return FALSE;

  hr.method = WR2V_HTTP_GET;
  hr.url = url;
  hr.bearer = key;
  hr.timeout_s = API_TIMEOUT_S;
  hr.low_speed_time_s = 30;
  hr.cancellable = job->cancellable;

  if (!wr2v_http_perform_retry (priv->http, &hr, &retry, &resp, &local)) {
    if (local->domain == WR2V_ERROR && local->code == WR2V_ERROR_NETWORK)
      g_prefix_error (&local, "polling DashScope task %s failed, run again "
          "to resume it: ", job_id);
    g_propagate_error (error, local);
    goto out;
  }

  what = g_strdup_printf ("polling task %s", job_id);
  if (resp.status != 200) {
    set_http_error (engine, job, &resp, what, error);
    if (resp.status == 404)
      g_prefix_error (error, "DashScope does not know task %s (it may be "
          "older than 24 h or belong to another key or region): ", job_id);
    else if (wr2v_http_status_is_transient (resp.status))
      g_prefix_error (error, "polling DashScope task %s failed after %u "
          "attempts, run again to resume it: ", job_id, resp.attempts);
    goto out;
  }
  if (!parse_body (&resp, &a, &local)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "%s while polling DashScope task %s; run again to resume it",
        local->message, job_id);
    g_error_free (local);
    goto out;
  }
  status = a.task_status;
  if (!status) {
    if (a.code) {
      Wr2vHttpResponse fake = resp;

      fake.status = 400;
      set_http_error (engine, job, &fake, what, error);
    } else {
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
          "DashScope's answer for task %s has no task_status; run again to "
          "resume it", job_id);
    }
    goto out;
  }
  g_free (res->status);
  /* bounded: it goes into messages; known ones are short */
  res->status = wr2v_parsers_safe_text (status, 64, NULL);

  if (g_str_equal (status, "PENDING")) {
    res->state = WR2V_POLL_QUEUED;
  } else if (g_str_equal (status, "RUNNING")) {
    res->state = WR2V_POLL_RUNNING;
  } else if (g_str_equal (status, "SUCCEEDED")) {
    const gchar *out_url = a.video_url;

    if (!out_url) {
      note_request_id (job, &a);
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
          "DashScope task %s succeeded without a video_url", job_id);
      goto out;
    }
    if (!wr2v_http_url_allowed (out_url, &local)) {
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
          "DashScope task %s succeeded, but its result can't be "
          "downloaded: %s", job_id, local->message);
      g_clear_error (&local);
      goto out;
    }
    if (a.has_usage)
      GST_INFO ("task %s billed %" G_GINT64_FORMAT " s (%" G_GINT64_FORMAT
          " s of reference video, %" G_GINT64_FORMAT " s of output)", job_id,
          a.usage_duration, a.usage_input_video_duration,
          a.usage_output_video_duration);
    res->state = WR2V_POLL_SUCCEEDED;
    g_free (res->output_url);
    res->output_url = g_strdup (out_url);
  } else if (status_is_failure (status)) {
    gchar *code = provider_text (a.task_code, key);
    gchar *message = provider_text (a.task_message, key);

    res->state = WR2V_POLL_FAILED;
    g_free (res->error_code);
    res->error_code = g_strdup (code);
    g_free (res->error_message);
    res->error_message = g_strdup (message);
    wr2v_job_detail_string (job, "provider-code", code);
    wr2v_job_detail_string (job, "provider-message", message);
    wr2v_job_detail_int (job, "http-status", resp.status);
    note_request_id (job, &a);
    set_task_failed (engine, job, job_id, status, code, message, error);
    g_free (code);
    g_free (message);
    goto out;
  } else if (g_str_equal (status, "UNKNOWN")) {
    /* terminal [C]: the task is gone, polling longer changes nothing */
    wr2v_job_detail_int (job, "http-status", resp.status);
    note_request_id (job, &a);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NOT_FOUND,
        "DashScope reports task %s as UNKNOWN: the task is unknown or older "
        "than 24 h (or belongs to another key or region). Its result can't "
        "be fetched any more; run again to submit a new (paid) task", job_id);
    goto out;
  } else {
    /* a status this code doesn't know yet: keep waiting, the request
     * timeout still bounds it */
    GST_WARNING ("task %s: unknown status \"%s\"", job_id, status);
    res->state = WR2V_POLL_RUNNING;
  }
  ok = TRUE;

out:
  wr2v_dashscope_answer_clear (&a);
  wr2v_http_response_clear (&resp);
  g_free (what);
  g_free (url);
  return ok;
}

/* --- fetch --- */

static gboolean
dashscope_fetch (Wr2vEngine * engine, Wr2vJob * job, const gchar * url,
    const gchar * out_path, GError ** error)
{
  DashscopePriv *priv = get_priv (engine);
  Wr2vHttpRequest hr = { 0, };
  Wr2vHttpResponse resp = { 0, };
  Wr2vHttpRetry retry = { 4, 1000, 8000, 30 };
  ProgressState ps = { job, "downloading the result", -10, 0 };
  GError *local = NULL;
  gchar *shown = wr2v_http_url_for_log (url);
  gboolean ok = FALSE;
  const gchar *id = job->job_id ? job->job_id : "?";

  if (!wr2v_http_url_allowed (url, &local)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "the result of DashScope task %s can't be downloaded: %s", id,
        local->message);
    g_error_free (local);
    goto out;
  }

  /* no key: video_url is a signed link that doesn't need one */
  hr.method = WR2V_HTTP_GET;
  hr.url = url;
  hr.download_path = out_path;
  hr.max_body_bytes = engine->settings.max_download_bytes ?
      engine->settings.max_download_bytes : WR2V_DEFAULT_MAX_DOWNLOAD_BYTES;
  hr.follow_redirects = TRUE;
  hr.low_speed_time_s = 60;
  hr.progress = on_progress;
  hr.progress_data = &ps;
  hr.cancellable = job->cancellable;

  wr2v_job_phase (job, WR2V_PHASE_DOWNLOAD, "downloading the result of "
      "task %s", id);
  if (!wr2v_http_perform_retry (priv->http, &hr, &retry, &resp, &local)) {
    if (local->domain == WR2V_ERROR && local->code == WR2V_ERROR_NETWORK)
      g_prefix_error (&local, "downloading the result of DashScope task %s "
          "failed (run again soon to retry: its URL expires 24 h after the "
          "task ended): ", id);
    g_propagate_error (error, local);
    goto out;
  }
  if (resp.status == 403 || resp.status == 404 || resp.status == 410) {
    wr2v_job_detail_int (job, "http-status", resp.status);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NOT_FOUND,
        "the result of DashScope task %s is no longer at %s (HTTP %u): its "
        "URL expires 24 h after the task ended", id, shown, resp.status);
    goto out;
  }
  if (resp.status < 200 || resp.status >= 300) {
    wr2v_job_detail_int (job, "http-status", resp.status);
    g_set_error (error, WR2V_ERROR, wr2v_http_status_is_transient
        (resp.status) ? WR2V_ERROR_NETWORK : WR2V_ERROR_PROTOCOL,
        "downloading the result of DashScope task %s from %s failed with "
        "HTTP %u; run again soon to retry", id, shown, resp.status);
    goto out;
  }
  if (resp.body_bytes == 0) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_BAD_RESULT,
        "the result of DashScope task %s at %s is empty", id, shown);
    goto out;
  }
  GST_INFO ("task %s: downloaded %" G_GUINT64_FORMAT " bytes from %s", id,
      resp.body_bytes, shown);
  ok = TRUE;

out:
  wr2v_http_response_clear (&resp);
  g_free (shown);
  return ok;
}

/* --- the engine --- */

static void
dashscope_finalize (Wr2vEngine * engine)
{
  DashscopePriv *priv = engine->priv;

  if (!priv)
    return;
  wr2v_http_free (priv->http);
  g_hash_table_unref (priv->uploaded);
  g_mutex_clear (&priv->lock);
  g_free (priv);
  engine->priv = NULL;
}

static const Wr2vEngineClass dashscope_class = {
  .name = ENGINE_NAME,
  .description = "Alibaba Cloud Model Studio (DashScope) wan2.7-r2v (paid)",
  .key_variable = KEY_ENV,
  .default_timeout_s = WR2V_DEFAULT_HOSTED_TIMEOUT_S,
  .check = dashscope_check,
  .estimate_cost = dashscope_estimate_cost,
  .identity = dashscope_identity,
  .prepare = dashscope_prepare,
  .submit = dashscope_submit,
  .poll = dashscope_poll,
  .fetch = dashscope_fetch,
  /* no cancel_remote: a stopped run leaves the paid task running, and the
   * next run resumes it */
  .finalize = dashscope_finalize,
};

Wr2vEngine *
wr2v_engine_dashscope_new (void)
{
  static gsize once = 0;
  Wr2vEngine *engine;
  DashscopePriv *priv;

  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (wr2v_dashscope_debug, "wanr2vdashscope", 0,
        "wanr2v DashScope engine");
    g_once_init_leave (&once, 1);
  }

  priv = g_new0 (DashscopePriv, 1);
  priv->http = wr2v_http_new ();
  g_mutex_init (&priv->lock);
  priv->uploaded = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      upload_free);

  engine = g_new0 (Wr2vEngine, 1);
  engine->klass = &dashscope_class;
  engine->priv = priv;
  return engine;
}
