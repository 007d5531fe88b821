/* wr2v-wavespeed.c: WaveSpeedAI's hosted Wan 2.7 reference-to-video.
 *
 * prepare uploads local references (once per content, remembered in the
 * store while the upload is valid), submit POSTs the job exactly once,
 * poll reads its state, fetch downloads the clip. The wire protocol and how
 * sure each fact is are in ../shared/docs/providers.md ("WaveSpeedAI").
 *
 * A job costs money: a submit is never retried, and when it may have
 * reached the service without an answer the error says so.
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "wr2v-defaults.h"
#include "wr2v-engine.h"
#include "wr2v-error.h"
#include "wr2v-http.h"
#include "wr2v-parsers.h"

GST_DEBUG_CATEGORY_STATIC (wr2v_wavespeed_debug);
#define GST_CAT_DEFAULT wr2v_wavespeed_debug

#define ENGINE_NAME "wavespeed"
#define DEFAULT_API_URL "https://api.wavespeed.ai"
#define DEFAULT_MODEL "alibaba/wan-2.7/reference-to-video"
#define KEY_ENV "WAVESPEED_API_KEY"

/* media upload limits and lifetime [C: WaveSpeed's older upload docs];
 * remembered for 12 h less than the documented 7 days, to be safe */
#define MAX_IMAGE_BYTES (20 * 1024 * 1024)
#define MAX_VIDEO_BYTES (100 * 1024 * 1024)
#define UPLOAD_LIFETIME_S (7 * 24 * 3600 - 12 * 3600)

/* a submit that gets no answer in this time may still have created a job */
#define SUBMIT_TIMEOUT_S 120
#define API_TIMEOUT_S 60

/* Price per generation in USD, by duration and resolution, for
 * alibaba/wan-2.7/reference-to-video. Source: the seed's price table in
 * ../shared/docs/providers.md ("Pricing, from the seed"). The durations
 * here are also the only ones the model takes [C: providers.md]. */
static const struct
{
  guint duration;
  gdouble usd_720p;
  gdouble usd_1080p;
} wavespeed_prices[] = {
  {5, 1.00, 1.60},
  {10, 1.50, 2.40},
  {15, 2.00, 3.20},
};

typedef struct
{
  Wr2vHttp *http;
  GMutex lock;
  /* content sha256 -> uploaded URL, for this process (the store keeps
   * them across runs) */
  GHashTable *uploaded;
} WavespeedPriv;

static WavespeedPriv *
get_priv (Wr2vEngine * engine)
{
  return engine->priv;
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
        "no WaveSpeed API key: set the api-key property or the "
        KEY_ENV " environment variable (keys are made at "
        "https://wavespeed.ai, under API keys)");
    return NULL;
  }
  return key;
}

static const gchar *
get_model (Wr2vEngine * engine)
{
  const gchar *m = engine->settings.model;

  return m && *m ? m : DEFAULT_MODEL;
}

/* The api-url without trailing slashes, checked against the URL policy. */
static gchar *
get_base_url (Wr2vEngine * engine, GError ** error)
{
  const gchar *u = engine->settings.api_url;
  GError *local = NULL;
  gchar *base;
  gsize len;

  if (!u || !*u)
    u = DEFAULT_API_URL;
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

static gboolean
model_ok (const gchar * model)
{
  const gchar *p;

  if (!*model || model[0] == '/' || strstr (model, ".."))
    return FALSE;
  for (p = model; *p; p++) {
    if (!g_ascii_isalnum (*p) && !strchr ("-_./", *p))
      return FALSE;
  }
  return TRUE;
}

/* {api-url}/api/v3/{route} */
static gchar *
api_route (Wr2vEngine * engine, const gchar * route, GError ** error)
{
  gchar *base = get_base_url (engine, error);
  gchar *url;

  if (!base)
    return NULL;
  url = g_strconcat (base, "/api/v3/", route, NULL);
  g_free (base);
  return url;
}

/* The name under which uploads are remembered in the store: another
 * api-url is another service, whose URLs must not be mixed in. */
static gchar *
upload_scope (Wr2vEngine * engine)
{
  const gchar *u = engine->settings.api_url;
  gchar *digest, *scope;

  if (!u || !*u || g_str_has_prefix (u, DEFAULT_API_URL))
    return g_strdup (ENGINE_NAME);
  digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, u, -1);
  digest[12] = '\0';
  scope = g_strconcat (ENGINE_NAME, "-", digest, NULL);
  g_free (digest);
  return scope;
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

/* An integer member, also when sent as a string; FALSE when absent or
 * not a number. */
static gboolean
obj_int (JsonObject * obj, const gchar * name, gint64 * out)
{
  JsonNode *n;

  if (!obj || !(n = json_object_get_member (obj, name)) ||
      !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  switch (json_node_get_value_type (n)) {
    case G_TYPE_INT64:
      *out = json_node_get_int (n);
      return TRUE;
    case G_TYPE_DOUBLE:{
      gdouble d = json_node_get_double (n);

      /* casting a double out of range (or NaN) is undefined */
      if (!(d >= -9.2e18 && d <= 9.2e18))
        return FALSE;
      *out = (gint64) d;
      return TRUE;
    }
    case G_TYPE_STRING:{
      const gchar *str = json_node_get_string (n);
      gchar *end = NULL;
      gint64 v = g_ascii_strtoll (str, &end, 10);

      if (end && end != str && *end == '\0') {
        *out = v;
        return TRUE;
      }
      return FALSE;
    }
    default:
      return FALSE;
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

void
wr2v_wavespeed_answer_clear (Wr2vWavespeedAnswer * a)
{
  if (!a)
    return;
  g_free (a->message);
  g_free (a->id);
  g_free (a->status);
  g_free (a->output);
  g_free (a->error);
  g_free (a->download_url);
  memset (a, 0, sizeof *a);
}

gboolean
wr2v_wavespeed_parse_answer (const gchar * data, gsize len,
    Wr2vWavespeedAnswer * out, GError ** error)
{
  GBytes *bytes = g_bytes_new_static (data ? data : "", data ? len : 0);
  JsonNode *node = wr2v_http_parse_json (bytes, error);
  JsonObject *root, *d;
  JsonNode *outputs;
  gint64 v;

  g_bytes_unref (bytes);
  wr2v_wavespeed_answer_clear (out);
  if (!node)
    return FALSE;
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    json_node_unref (node);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "WaveSpeed answered JSON that is not an object");
    return FALSE;
  }
  root = json_node_get_object (node);
  if (obj_int (root, "code", &v)) {
    out->has_code = TRUE;
    out->code = v;
  }
  out->message = g_strdup (obj_string (root, "message"));
  d = obj_object (root, "data");
  out->id = g_strdup (obj_string (d, "id"));
  out->status = g_strdup (obj_string (d, "status"));
  outputs = d ? json_object_get_member (d, "outputs") : NULL;
  if (outputs && JSON_NODE_HOLDS_ARRAY (outputs) &&
      json_array_get_length (json_node_get_array (outputs)) > 0) {
    JsonNode *first = json_array_get_element (json_node_get_array (outputs),
        0);

    if (JSON_NODE_HOLDS_VALUE (first) &&
        json_node_get_value_type (first) == G_TYPE_STRING)
      out->output = g_strdup (json_node_get_string (first));
  }
  out->error_code = obj_int (d, "code", &v) ? v : 0;
  out->error = g_strdup (obj_string (d, "error"));
  out->download_url = g_strdup (obj_string (d, "download_url"));
  json_node_unref (node);
  return TRUE;
}

gboolean
wr2v_wavespeed_job_id_ok (const gchar * id)
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

static const gchar *
peek_key (Wr2vEngine * engine)
{
  return engine->settings.api_key ? engine->settings.api_key :
      g_getenv (KEY_ENV);
}

/* A provider text fit for an error message: bounded, one line, and never
 * carrying the key even if a server echoed it. */
static gchar *
provider_text (const gchar * text, const gchar * key)
{
  return wr2v_parsers_safe_text (text, 400, key);
}

/* An answer that is not a success (an HTTP status @st, or a 200 whose
 * envelope says otherwise), as a GError a user can act on. @a: the
 * parsed answer, or NULL when it was unreadable. */
static void
set_answer_error (Wr2vEngine * engine, Wr2vJob * job, guint st,
    const Wr2vWavespeedAnswer * a, const gchar * what, GError ** error)
{
  gchar *msg = a ? provider_text (a->message, peek_key (engine)) : NULL;
  gchar *tail;

  if (job) {
    wr2v_job_detail_int (job, "http-status", st);
    if (msg)
      wr2v_job_detail_string (job, "provider-message", msg);
    if (a && a->has_code)
      wr2v_job_detail_int (job, "provider-code", a->code);
  }
  tail = msg ? g_strdup_printf (": %s", msg) : g_strdup ("");

  if (st == 401 || st == 403) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NOT_AUTHORIZED,
        "WaveSpeed refused the API key while %s (HTTP %u%s%s): check the "
        "api-key property or the " KEY_ENV " environment variable, and that "
        "the key is active and the account has credit", what, st,
        msg ? ", " : "", msg ? msg : "");
  } else if (st == 404) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NOT_FOUND,
        "WaveSpeed answered 404 (not found) while %s%s: check api-url and "
        "model", what, tail);
  } else if (st == 429) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NETWORK,
        "WaveSpeed is limiting requests (HTTP 429) while %s%s: try again "
        "later", what, tail);
  } else if (st >= 500) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NETWORK,
        "WaveSpeed had trouble (HTTP %u) while %s%s: try again later", st,
        what, tail);
  } else if (st == 413) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "WaveSpeed refused a file as too large while %s%s: use shorter or "
        "smaller references", what, tail);
  } else if (st >= 400) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "WaveSpeed refused the request while %s (HTTP %u)%s", what, st, tail);
  } else {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "WaveSpeed answered HTTP %u while %s%s", st, what, tail);
  }
  g_free (tail);
  g_free (msg);
}

/* An HTTP answer that is not a success, as a GError a user can act on. */
static void
set_http_error (Wr2vEngine * engine, Wr2vJob * job,
    const Wr2vHttpResponse * resp, const gchar * what, GError ** error)
{
  Wr2vWavespeedAnswer a = { 0, };
  gsize len = 0;
  const gchar *data = resp->body ? g_bytes_get_data (resp->body, &len) : NULL;
  gboolean readable = len > 0 &&
      wr2v_wavespeed_parse_answer (data, len, &a, NULL);

  set_answer_error (engine, job, resp->status, readable ? &a : NULL, what,
      error);
  wr2v_wavespeed_answer_clear (&a);
}

/* The HTTP status an answer's envelope code stands for: 200 without one,
 * 500 for a code that is no HTTP status. */
static guint
envelope_status (const Wr2vWavespeedAnswer * a)
{
  gint64 code = a->has_code ? a->code : 200;

  return (code >= 100 && code < 600) ? code : 500;
}

/* A success answer whose envelope says otherwise ({"code": 4xx, ...}):
 * reported as if it came as that HTTP status, which it means. */
static gboolean
check_envelope (Wr2vEngine * engine, Wr2vJob * job,
    const Wr2vWavespeedAnswer * a, const gchar * what, GError ** error)
{
  guint st = envelope_status (a);

  if (st == 200)
    return TRUE;
  set_answer_error (engine, job, st, a, what, error);
  return FALSE;
}

/* Parses a 200 answer's body. */
static gboolean
parse_body (const Wr2vHttpResponse * resp, Wr2vWavespeedAnswer * a,
    GError ** error)
{
  gsize len = 0;
  const gchar *data = resp->body ? g_bytes_get_data (resp->body, &len) : NULL;

  if (wr2v_wavespeed_parse_answer (data, len, a, error))
    return TRUE;
  wr2v_http_hint_content_type (resp, error);
  return FALSE;
}

/* --- check, cost, identity --- */

static gboolean
wavespeed_check (Wr2vEngine * engine, const Wr2vRequest * req, GError ** error)
{
  guint i, videos, total;
  gboolean duration_ok = FALSE;

  for (i = 0; i < G_N_ELEMENTS (wavespeed_prices); i++)
    duration_ok |= wavespeed_prices[i].duration == req->duration;
  if (!duration_ok) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "WaveSpeed's Wan 2.7 makes clips of 5, 10 or 15 seconds, not %u: "
        "set duration to one of those", req->duration);
    return FALSE;
  }
  if (req->resolution != WR2V_RESOLUTION_720P &&
      req->resolution != WR2V_RESOLUTION_1080P) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "WaveSpeed's Wan 2.7 makes 720p or 1080p clips: set resolution to "
        "one of those");
    return FALSE;
  }
  /* every aspect ratio of Wr2vAspectRatio is one the API names */

  videos = wr2v_request_count (req, WR2V_REF_VIDEO);
  total = req->references ? req->references->len : 0;
  /* "videos" is a required field of this model [C: providers.md] */
  if (videos == 0) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "WaveSpeed's Wan 2.7 reference-to-video needs at least one "
        "reference video: link a video_N pad (or give its uri)");
    return FALSE;
  }
  if (total > WR2V_MAX_REFERENCES) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "WaveSpeed's Wan 2.7 takes at most %d references (videos and "
        "images together), not %u: remove some", WR2V_MAX_REFERENCES, total);
    return FALSE;
  }
  if (!model_ok (get_model (engine))) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "model \"%s\" is not a WaveSpeed model id (like \"" DEFAULT_MODEL
        "\")", get_model (engine));
    return FALSE;
  }
  return TRUE;
}

static gdouble
wavespeed_estimate_cost (Wr2vEngine * engine, const Wr2vRequest * req)
{
  guint i;

  /* the smallest duration that covers the request (check() refuses
   * others; this only keeps the estimate on the safe side) */
  for (i = 0; i < G_N_ELEMENTS (wavespeed_prices); i++) {
    if (wavespeed_prices[i].duration >= req->duration)
      break;
  }
  i = MIN (i, G_N_ELEMENTS (wavespeed_prices) - 1);
  return req->resolution == WR2V_RESOLUTION_1080P ?
      wavespeed_prices[i].usd_1080p : wavespeed_prices[i].usd_720p;
}

static gchar *
wavespeed_identity (Wr2vEngine * engine)
{
  return g_strdup (get_model (engine));
}

/* --- prepare: upload references --- */

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

static gchar *
uploaded_lookup (Wr2vEngine * engine, Wr2vJob * job, const gchar * sha,
    gint64 margin_s)
{
  WavespeedPriv *priv = get_priv (engine);
  gchar *url, *scope;

  g_mutex_lock (&priv->lock);
  url = g_strdup (g_hash_table_lookup (priv->uploaded, sha));
  g_mutex_unlock (&priv->lock);
  if (url || !job->store)
    return url;
  scope = upload_scope (engine);
  url = wr2v_store_upload_lookup (job->store, scope, sha, margin_s);
  g_free (scope);
  return url;
}

static void
uploaded_remember (Wr2vEngine * engine, Wr2vJob * job, const gchar * sha,
    const gchar * url)
{
  WavespeedPriv *priv = get_priv (engine);
  GError *err = NULL;
  gchar *scope;

  g_mutex_lock (&priv->lock);
  g_hash_table_replace (priv->uploaded, g_strdup (sha), g_strdup (url));
  g_mutex_unlock (&priv->lock);
  if (!job->store)
    return;
  scope = upload_scope (engine);
  if (!wr2v_store_upload_remember (job->store, scope, sha, url,
          g_get_real_time () / G_USEC_PER_SEC + UPLOAD_LIFETIME_S, &err)) {
    /* only costs an upload next time */
    GST_WARNING ("could not remember an upload: %s", err->message);
    g_clear_error (&err);
  }
  g_free (scope);
}

/* After code 1402 the service could not fetch a reference: don't offer
 * the same URLs again. */
static void
uploaded_forget (Wr2vEngine * engine, Wr2vJob * job)
{
  WavespeedPriv *priv = get_priv (engine);
  Wr2vRequest *req = job->request;
  gchar *scope = upload_scope (engine);
  guint i;

  for (i = 0; req && req->references && i < req->references->len; i++) {
    Wr2vReference *ref = g_ptr_array_index (req->references, i);
    gchar *url;

    if (ref->uri || !ref->sha256)
      continue;
    g_mutex_lock (&priv->lock);
    g_hash_table_remove (priv->uploaded, ref->sha256);
    g_mutex_unlock (&priv->lock);
    if (job->store &&
        (url = wr2v_store_upload_lookup (job->store, scope, ref->sha256, 0))) {
      /* an expiry in the past makes the store treat it as gone */
      wr2v_store_upload_remember (job->store, scope, ref->sha256, url, 1, NULL);
      g_free (url);
    }
  }
  g_free (scope);
}

static gint64
upload_margin (Wr2vEngine * engine)
{
  guint t = engine->settings.request_timeout_s;

  /* valid for the whole job, plus an hour for the queue */
  return (gint64) (t ? t : WR2V_DEFAULT_HOSTED_TIMEOUT_S) + 3600;
}

static gboolean
url_is_http (const gchar * url)
{
  return url && (g_ascii_strncasecmp (url, "https://", 8) == 0 ||
      g_ascii_strncasecmp (url, "http://", 7) == 0);
}

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

static gchar *
upload_one (Wr2vEngine * engine, Wr2vJob * job, const gchar * key,
    const Wr2vReference * ref, const gchar * sha, GError ** error)
{
  WavespeedPriv *priv = get_priv (engine);
  const gchar *word = wr2v_ref_kind_word (ref->kind);
  gchar *label = g_strdup_printf ("%s %u", word, ref->number);
  gchar *filename, *route = NULL, *url = NULL, *what, *size_text;
  Wr2vHttpFormPart part = { 0, };
  Wr2vHttpRequest hr = { 0, };
  Wr2vHttpResponse resp = { 0, };
  Wr2vHttpRetry retry = { 3, 1000, 8000, 30, TRUE };
  ProgressState ps = { job, label, -10, 0 };
  Wr2vWavespeedAnswer a = { 0, };
  GStatBuf st;
  guint64 limit;

  if (g_stat (ref->path, &st) != 0) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "%s: can't read %s", label, ref->path);
    goto out;
  }
  limit = ref->kind == WR2V_REF_IMAGE ? MAX_IMAGE_BYTES : MAX_VIDEO_BYTES;
  if ((guint64) st.st_size > limit) {
    gchar *have = g_format_size (st.st_size), *max = g_format_size (limit);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "%s is %s; WaveSpeed takes %s files up to %s: %s", label, have,
        ref->kind == WR2V_REF_IMAGE ? "image" : "video", max,
        ref->kind == WR2V_REF_IMAGE ? "use a smaller image" :
        "shorten it (reference-duration) or lower its resolution");
    g_free (have);
    g_free (max);
    goto out;
  }

  route = api_route (engine, "media/upload/binary", error);
  if (!route)
    goto out;

  /* a neutral name: local file names say nothing the service needs */
  filename = g_strdup_printf ("%s%u.%s", ref->kind == WR2V_REF_IMAGE ?
      "image" : "video", ref->number, ext_for_mime (ref->mime, ref->kind));
  part.name = "file";
  part.file_path = ref->path;
  part.filename = filename;
  part.content_type = ref->mime;
  hr.method = WR2V_HTTP_POST;
  hr.url = route;
  hr.bearer = key;
  hr.parts = &part;
  hr.n_parts = 1;
  hr.progress = on_progress;
  hr.progress_data = &ps;
  hr.cancellable = job->cancellable;

  size_text = g_format_size (st.st_size);
  wr2v_job_phase (job, WR2V_PHASE_UPLOAD, "uploading %s (%s)", label,
      size_text);
  g_free (size_text);

  what = g_strdup_printf ("uploading %s", label);
  /* an upload creates nothing billable: safe to send again */
  if (!wr2v_http_perform_retry (priv->http, &hr, &retry, &resp, error)) {
    g_free (what);
    g_free (filename);
    goto out;
  }
  g_free (filename);
  if (resp.status != 200) {
    set_http_error (engine, job, &resp, what, error);
    g_free (what);
    goto out;
  }
  if (!parse_body (&resp, &a, error) ||
      !check_envelope (engine, job, &a, what, error)) {
    g_free (what);
    goto out;
  }
  g_free (what);
  if (!url_is_http (a.download_url)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "WaveSpeed's answer to the upload of %s has no download_url", label);
    goto out;
  }
  url = g_strdup (a.download_url);
  GST_INFO ("uploaded %s (%s)", label, sha);
  uploaded_remember (engine, job, sha, url);

out:
  wr2v_wavespeed_answer_clear (&a);
  wr2v_http_response_clear (&resp);
  g_free (route);
  g_free (label);
  return url;
}

static gboolean
wavespeed_prepare (Wr2vEngine * engine, Wr2vJob * job, GError ** error)
{
  Wr2vRequest *req = job->request;
  const gchar *key;
  guint i, n = req->references ? req->references->len : 0;

  if (!(key = get_key (engine, error)))
    return FALSE;

  for (i = 0; i < n; i++) {
    Wr2vReference *ref = g_ptr_array_index (req->references, i);
    const gchar *word = wr2v_ref_kind_word (ref->kind);
    gchar *sha = NULL, *url;

    if (g_cancellable_set_error_if_cancelled (job->cancellable, error))
      return FALSE;
    if (ref->uri) {
      if (!url_is_http (ref->uri)) {
        g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
            "%s %u: WaveSpeed fetches references by http(s) URL; \"%s\" is "
            "not one", word, ref->number, ref->uri);
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
    if (url) {
      wr2v_job_phase (job, WR2V_PHASE_UPLOAD, "%s %u was uploaded before",
          word, ref->number);
    } else {
      url = upload_one (engine, job, key, ref, sha, error);
    }
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
  return r == WR2V_RESOLUTION_1080P ? "1080p" : "720p";
}

static const gchar *
wire_aspect_ratio (Wr2vAspectRatio ar)
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
build_submit_body (Wr2vEngine * engine, Wr2vJob * job, GError ** error)
{
  Wr2vRequest *req = job->request;
  JsonBuilder *b = json_builder_new ();
  GPtrArray *images = g_ptr_array_new_with_free_func (g_free);
  JsonGenerator *gen;
  JsonNode *root;
  gchar *body = NULL;
  guint i, n = req->references ? req->references->len : 0;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "prompt");
  json_builder_add_string_value (b, req->prompt ? req->prompt : "");

  json_builder_set_member_name (b, "videos");
  json_builder_begin_array (b);
  /* references are in prompt order: videos first, then images */
  for (i = 0; i < n; i++) {
    Wr2vReference *ref = g_ptr_array_index (req->references, i);
    gchar *url = reference_url (engine, job, ref, error);

    if (!url)
      goto out;
    if (ref->kind == WR2V_REF_VIDEO) {
      json_builder_add_string_value (b, url);
      g_free (url);
    } else {
      g_ptr_array_add (images, url);
    }
  }
  json_builder_end_array (b);

  if (images->len > 0) {
    /* "image" takes one URL [C]; more images go in "images" too, a name
     * the docs don't confirm [I: providers.md] */
    json_builder_set_member_name (b, "image");
    json_builder_add_string_value (b, g_ptr_array_index (images, 0));
    if (images->len > 1) {
      json_builder_set_member_name (b, "images");
      json_builder_begin_array (b);
      for (i = 0; i < images->len; i++)
        json_builder_add_string_value (b, g_ptr_array_index (images, i));
      json_builder_end_array (b);
    }
  }
  if (req->negative_prompt && *req->negative_prompt) {
    json_builder_set_member_name (b, "negative_prompt");
    json_builder_add_string_value (b, req->negative_prompt);
  }
  json_builder_set_member_name (b, "resolution");
  json_builder_add_string_value (b, wire_resolution (req->resolution));
  json_builder_set_member_name (b, "duration");
  json_builder_add_int_value (b, req->duration);
  json_builder_set_member_name (b, "enable_prompt_expansion");
  json_builder_add_boolean_value (b, req->prompt_expansion);
  /* not confirmed for this endpoint [I]: only when the user chose them */
  if (req->seed >= 0) {
    json_builder_set_member_name (b, "seed");
    json_builder_add_int_value (b, req->seed);
  }
  if (req->aspect_ratio_set) {
    json_builder_set_member_name (b, "aspect_ratio");
    json_builder_add_string_value (b, wire_aspect_ratio (req->aspect_ratio));
  }
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  gen = json_generator_new ();
  json_generator_set_root (gen, root);
  body = json_generator_to_data (gen, NULL);
  g_object_unref (gen);
  json_node_unref (root);

out:
  g_ptr_array_unref (images);
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
      "the job was sent to WaveSpeed but %s, so a paid job may have been "
      "created. Look for a new prediction in your WaveSpeed dashboard "
      "(https://wavespeed.ai) before trying again. This request is not "
      "submitted again by itself: once you know no job runs for it, delete "
      "%s and run again", why, journal);
  g_free (journal);
}

static gchar *
wavespeed_submit (Wr2vEngine * engine, Wr2vJob * job, GError ** error)
{
  WavespeedPriv *priv = get_priv (engine);
  Wr2vRequest *req = job->request;
  const gchar *key;
  gchar *url = NULL, *body = NULL, *id = NULL, *what;
  Wr2vHttpRequest hr = { 0, };
  Wr2vHttpResponse resp = { 0, };
  GError *local = NULL;
  Wr2vWavespeedAnswer a = { 0, };
  guint timeout;

  if (!(key = get_key (engine, error)))
    return NULL;
  if (!model_ok (get_model (engine))) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "model \"%s\" is not a WaveSpeed model id", get_model (engine));
    return NULL;
  }
  url = api_route (engine, get_model (engine), error);
  if (!url)
    return NULL;
  body = build_submit_body (engine, job, error);
  if (!body)
    goto out;

  /* no longer than the whole job may last */
  timeout = engine->settings.request_timeout_s ?
      MIN (engine->settings.request_timeout_s, SUBMIT_TIMEOUT_S) :
      SUBMIT_TIMEOUT_S;
  hr.method = WR2V_HTTP_POST;
  hr.url = url;
  hr.bearer = key;
  hr.body = g_bytes_new_static (body, strlen (body));
  hr.content_type = "application/json";
  hr.timeout_s = timeout;
  hr.low_speed_time_s = timeout;
  hr.cancellable = job->cancellable;
  /* a fresh connection: on a reused one that dies, libcurl resends */
  hr.no_resend = TRUE;

  wr2v_job_phase (job, WR2V_PHASE_SUBMIT, "submitting to WaveSpeed "
      "(%s, %s, %u s)", get_model (engine), wire_resolution (req->resolution),
      req->duration);

  /* never retried: a second POST is a second paid job */
  if (!wr2v_http_perform (priv->http, &hr, &resp, &local)) {
    if (!resp.request_sent) {
      if (local->domain == WR2V_ERROR)
        g_prefix_error (&local, "no job was created: ");
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

  what = g_strdup_printf ("submitting the job to %s", get_model (engine));
  /* Any 5xx, as the HTTP status here or the envelope's code below, may
   * hide a job the backend did create: nothing documents one that means
   * "nothing was created" for WaveSpeed (providers.md). */
  if (resp.status >= 500) {
    gchar *why = g_strdup_printf ("the answer was HTTP %u", resp.status);
    wr2v_job_detail_int (job, "http-status", resp.status);
    set_maybe_submitted (job, why, error);
    g_free (why);
    g_free (what);
    goto out;
  }
  /* another 2xx (202 Accepted...) or a redirect: the POST reached
   * something that may have created the job; only a 4xx is a refusal */
  if (resp.status != 200 && resp.status < 400) {
    gchar *why = g_strdup_printf ("the answer was HTTP %u, not 200",
        resp.status);
    wr2v_job_detail_int (job, "http-status", resp.status);
    set_maybe_submitted (job, why, error);
    g_free (why);
    g_free (what);
    goto out;
  }
  if (resp.status != 200) {
    set_http_error (engine, job, &resp, what, error);
    if (resp.status == 429)
      g_prefix_error (error, "no job was created: ");
    g_free (what);
    goto out;
  }
  if (!parse_body (&resp, &a, &local)) {
    gchar *why = g_strdup_printf ("its answer was unreadable (%s)",
        local->message);
    set_maybe_submitted (job, why, error);
    g_free (why);
    g_error_free (local);
    g_free (what);
    goto out;
  }
  if (envelope_status (&a) >= 500) {
    gchar *why = g_strdup_printf ("the answer said code %" G_GINT64_FORMAT,
        a.code);
    gchar *msg = provider_text (a.message, key);

    wr2v_job_detail_int (job, "http-status", resp.status);
    wr2v_job_detail_int (job, "provider-code", (gint) CLAMP (a.code,
            G_MININT, G_MAXINT));
    wr2v_job_detail_string (job, "provider-message", msg);
    set_maybe_submitted (job, why, error);
    g_free (msg);
    g_free (why);
    g_free (what);
    goto out;
  }
  if (!check_envelope (engine, job, &a, what, error)) {
    g_free (what);
    goto out;
  }
  g_free (what);
  if (!wr2v_wavespeed_job_id_ok (a.id)) {
    set_maybe_submitted (job, "its answer had no usable job id", error);
    goto out;
  }
  id = g_steal_pointer (&a.id);
  GST_INFO ("submitted job %s", id);

out:
  wr2v_wavespeed_answer_clear (&a);
  if (hr.body)
    g_bytes_unref (hr.body);
  wr2v_http_response_clear (&resp);
  g_free (url);
  g_free (body);
  return id;
}

/* --- poll --- */

static void
set_job_failed (Wr2vEngine * engine, Wr2vJob * job, const gchar * job_id,
    const gchar * status, gint64 code, const gchar * message, GError ** error)
{
  gchar *msg;

  if (g_str_equal (status, "cancelled")) {
    msg = g_strdup_printf ("WaveSpeed job %s was cancelled on the service "
        "side%s%s; run again to submit a new (paid) job", job_id,
        message ? ": " : "", message ? message : "");
  } else if (g_str_equal (status, "timeout") && code <= 0) {
    msg = g_strdup_printf ("WaveSpeed job %s timed out on the service "
        "side%s%s: try again later", job_id, message ? ": " : "",
        message ? message : "");
  } else if (code == 1200) {
    msg = g_strdup_printf ("WaveSpeed job %s was stopped by content "
        "moderation (code 1200: %s): change the prompt or the references",
        job_id, message ? message : "no reason given");
  } else if (code == 1400 || code == 1401) {
    msg = g_strdup_printf ("WaveSpeed job %s %s (code %"
        G_GINT64_FORMAT ": %s): check duration, resolution, aspect-ratio, "
        "seed, the prompt and the references", job_id,
        code == 1400 ? "is missing a parameter" :
        "has an invalid parameter", code,
        message ? message : "no detail given");
  } else if (code == 1402) {
    msg = g_strdup_printf ("WaveSpeed job %s could not fetch a reference "
        "(code 1402: %s): a media URL was not reachable; give public URLs, "
        "or run again to upload the references anew", job_id,
        message ? message : "no detail given");
  } else if (code == 1403 || code == 1405) {
    msg = g_strdup_printf ("WaveSpeed job %s failed (code %" G_GINT64_FORMAT
        ": %s): run again to submit a new (paid) job, perhaps with other "
        "references", job_id, code, message ? message : "no detail given");
  } else if (code >= 5000 && code < 6000) {
    msg = g_strdup_printf ("WaveSpeed job %s failed on the provider's side "
        "(code %" G_GINT64_FORMAT ": %s): nothing to change in the request; "
        "try again later", job_id, code, message ? message : "no detail");
  } else {
    msg = g_strdup_printf ("WaveSpeed job %s %s (code %" G_GINT64_FORMAT
        ": %s)", job_id, g_str_equal (status, "failed") ? "failed" : status,
        code, message ? message : "no detail given");
  }
  g_set_error_literal (error, WR2V_ERROR, WR2V_ERROR_JOB_FAILED, msg);
  g_free (msg);
  if (code == 1402)
    uploaded_forget (engine, job);
}

static gboolean
wavespeed_poll (Wr2vEngine * engine, Wr2vJob * job, const gchar * job_id,
    Wr2vPollResult * res, GError ** error)
{
  WavespeedPriv *priv = get_priv (engine);
  const gchar *key;
  gchar *escaped, *route, *url = NULL, *what = NULL;
  Wr2vHttpRequest hr = { 0, };
  Wr2vHttpResponse resp = { 0, };
  Wr2vHttpRetry retry = { 6, 1000, 15000, 60 };
  GError *local = NULL;
  Wr2vWavespeedAnswer a = { 0, };
  const gchar *status;
  gboolean ok = FALSE;

  if (!wr2v_wavespeed_job_id_ok (job_id)) {
    gchar *shown = g_strescape (job_id ? job_id : "", NULL);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "\"%s\" is not a WaveSpeed job id (letters, digits, '-', '_' and "
        "'.' only)", shown);
    g_free (shown);
    return FALSE;
  }
  wr2v_job_detail_string (job, "job-id", job_id);
  if (!(key = get_key (engine, error)))
    return FALSE;

  escaped = wr2v_http_escape_segment (job_id);
  route = g_strconcat ("predictions/", escaped, "/result", NULL);
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
      g_prefix_error (&local, "polling WaveSpeed job %s failed, run again "
          "to resume it: ", job_id);
    g_propagate_error (error, local);
    goto out;
  }

  what = g_strdup_printf ("polling job %s", job_id);
  if (resp.status == 404) {
    wr2v_job_detail_int (job, "http-status", 404);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NOT_FOUND,
        "WaveSpeed does not know job %s (HTTP 404): it may have expired or "
        "belong to another API key", job_id);
    goto out;
  }
  if (resp.status != 200) {
    set_http_error (engine, job, &resp, what, error);
    if (wr2v_http_status_is_transient (resp.status))
      g_prefix_error (error, "polling WaveSpeed job %s failed after %u "
          "attempts, run again to resume it: ", job_id, resp.attempts);
    goto out;
  }
  if (!parse_body (&resp, &a, &local)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "%s while polling job %s; run again to resume it", local->message,
        job_id);
    g_error_free (local);
    goto out;
  }
  if (!check_envelope (engine, job, &a, what, error))
    goto out;

  status = a.status;
  if (!status) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "WaveSpeed's answer for job %s has no status", job_id);
    goto out;
  }
  g_free (res->status);
  /* bounded: it goes into messages; known ones are short */
  res->status = wr2v_parsers_safe_text (status, 64, NULL);

  if (g_str_equal (status, "created")) {
    res->state = WR2V_POLL_QUEUED;
  } else if (g_str_equal (status, "processing")) {
    res->state = WR2V_POLL_RUNNING;
  } else if (g_str_equal (status, "completed")) {
    const gchar *out_url = a.output;

    if (!out_url) {
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
          "WaveSpeed job %s completed without an output URL", job_id);
      goto out;
    }
    if (!wr2v_http_url_allowed (out_url, &local)) {
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
          "WaveSpeed job %s completed, but its result can't be "
          "downloaded: %s", job_id, local->message);
      g_clear_error (&local);
      goto out;
    }
    res->state = WR2V_POLL_SUCCEEDED;
    g_free (res->output_url);
    res->output_url = g_strdup (out_url);
  } else if (g_str_equal (status, "failed") ||
      g_str_equal (status, "cancelled") || g_str_equal (status, "timeout")) {
    gint64 code = a.error_code;
    gchar *message = provider_text (a.error, key);

    res->state = WR2V_POLL_FAILED;
    g_free (res->error_code);
    res->error_code = g_strdup_printf ("%" G_GINT64_FORMAT, code);
    g_free (res->error_message);
    res->error_message = g_strdup (message);
    wr2v_job_detail_int (job, "provider-code", (gint) code);
    if (message)
      wr2v_job_detail_string (job, "provider-message", message);
    wr2v_job_detail_int (job, "http-status", resp.status);
    set_job_failed (engine, job, job_id, status, code, message, error);
    g_free (message);
    goto out;
  } else {
    /* a status this code doesn't know yet: keep waiting, the request
     * timeout still bounds it */
    GST_WARNING ("job %s: unknown status \"%s\"", job_id, status);
    res->state = WR2V_POLL_RUNNING;
  }
  ok = TRUE;

out:
  wr2v_wavespeed_answer_clear (&a);
  wr2v_http_response_clear (&resp);
  g_free (what);
  g_free (url);
  return ok;
}

/* --- fetch --- */

static gboolean
wavespeed_fetch (Wr2vEngine * engine, Wr2vJob * job, const gchar * url,
    const gchar * out_path, GError ** error)
{
  WavespeedPriv *priv = get_priv (engine);
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
        "the result of WaveSpeed job %s can't be downloaded: %s", id,
        local->message);
    g_error_free (local);
    goto out;
  }

  /* no key: results come from a CDN that doesn't need one */
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
      "job %s", id);
  if (!wr2v_http_perform_retry (priv->http, &hr, &retry, &resp, &local)) {
    if (local->domain == WR2V_ERROR && local->code == WR2V_ERROR_NETWORK)
      g_prefix_error (&local, "downloading the result of WaveSpeed job %s "
          "failed (run again soon to retry: the URL may expire): ", id);
    g_propagate_error (error, local);
    goto out;
  }
  if (resp.status == 403 || resp.status == 404 || resp.status == 410) {
    wr2v_job_detail_int (job, "http-status", resp.status);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NOT_FOUND,
        "the result of WaveSpeed job %s is no longer at %s (HTTP %u): its "
        "URL has expired", id, shown, resp.status);
    goto out;
  }
  if (resp.status < 200 || resp.status >= 300) {
    wr2v_job_detail_int (job, "http-status", resp.status);
    g_set_error (error, WR2V_ERROR, wr2v_http_status_is_transient
        (resp.status) ? WR2V_ERROR_NETWORK : WR2V_ERROR_PROTOCOL,
        "downloading the result of WaveSpeed job %s from %s failed with "
        "HTTP %u; run again soon to retry", id, shown, resp.status);
    goto out;
  }
  if (resp.body_bytes == 0) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_BAD_RESULT,
        "the result of WaveSpeed job %s at %s is empty", id, shown);
    goto out;
  }
  GST_INFO ("job %s: downloaded %" G_GUINT64_FORMAT " bytes from %s", id,
      resp.body_bytes, shown);
  ok = TRUE;

out:
  wr2v_http_response_clear (&resp);
  g_free (shown);
  return ok;
}

/* --- the engine --- */

static void
wavespeed_finalize (Wr2vEngine * engine)
{
  WavespeedPriv *priv = engine->priv;

  if (!priv)
    return;
  wr2v_http_free (priv->http);
  g_hash_table_unref (priv->uploaded);
  g_mutex_clear (&priv->lock);
  g_free (priv);
  engine->priv = NULL;
}

static const Wr2vEngineClass wavespeed_class = {
  .name = ENGINE_NAME,
  .description = "WaveSpeedAI hosted Wan 2.7 Reference-to-Video (paid)",
  .key_variable = KEY_ENV,
  .default_timeout_s = WR2V_DEFAULT_HOSTED_TIMEOUT_S,
  .check = wavespeed_check,
  .estimate_cost = wavespeed_estimate_cost,
  .identity = wavespeed_identity,
  .prepare = wavespeed_prepare,
  .submit = wavespeed_submit,
  .poll = wavespeed_poll,
  .fetch = wavespeed_fetch,
  .finalize = wavespeed_finalize,
};

Wr2vEngine *
wr2v_engine_wavespeed_new (void)
{
  static gsize once = 0;
  Wr2vEngine *engine;
  WavespeedPriv *priv;

  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (wr2v_wavespeed_debug, "wanr2vwavespeed", 0,
        "wanr2v WaveSpeed engine");
    g_once_init_leave (&once, 1);
  }

  priv = g_new0 (WavespeedPriv, 1);
  priv->http = wr2v_http_new ();
  g_mutex_init (&priv->lock);
  priv->uploaded = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);

  engine = g_new0 (Wr2vEngine, 1);
  engine->klass = &wavespeed_class;
  engine->priv = priv;
  return engine;
}
