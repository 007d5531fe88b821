/* wr2v-wavespeed-live.c: the live schema, price and balance of
 * engine=wavespeed (see wr2v-wavespeed-live.h). Facts and sources:
 * docs/engines/wavespeed.md.
 */
#include "config.h"

#include <string.h>
#include <glib/gstdio.h>

#include "wr2v-error.h"
#include "wr2v-wavespeed-live.h"

GST_DEBUG_CATEGORY_EXTERN (wr2v_wavespeed_debug);
#define GST_CAT_DEFAULT wr2v_wavespeed_debug

/* a schema read from the service is trusted for a day */
#define SCHEMA_MAX_AGE_S (24 * 3600)

/* The models this engine knows without asking: the request fields
 * confirmed by WaveSpeed's own documentation (docs/engines/wavespeed.md),
 * as a request schema, and the price per generation in USD by duration
 * (the seed's table; only 5 s is confirmed elsewhere). Durations: at most
 * 10 s whenever a reference video is given, which WaveSpeed always
 * requires [3P, several sources]; a live schema overrides this. The
 * first entry stands in for models not listed. */
typedef struct
{
  const gchar *model;
  const gchar *schema;
  struct
  {
    guint duration;
    gdouble usd_720p, usd_1080p;
  } prices[3];
} WavespeedModel;

static const WavespeedModel wavespeed_models[] = {
  {"alibaba/wan-2.7/reference-to-video",
        "{\"properties\": {"
        "\"prompt\": {\"type\": \"string\"},"
        "\"videos\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}},"
        "\"image\": {\"type\": \"string\"},"
        "\"negative_prompt\": {\"type\": \"string\"},"
        "\"resolution\": {\"type\": \"string\", \"enum\": [\"720p\", \"1080p\"]},"
        "\"duration\": {\"type\": \"integer\", \"enum\": [5, 10]},"
        "\"enable_prompt_expansion\": {\"type\": \"boolean\"}},"
        "\"required\": [\"prompt\", \"videos\"]}",
      {{5, 1.00, 1.60}, {10, 1.50, 2.40}, {15, 2.00, 3.20}}},
};

void
wr2v_wavespeed_priv_init (Wr2vWavespeedPriv * priv)
{
  g_mutex_init (&priv->lock);
  priv->unknown_statuses = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, NULL);
}

void
wr2v_wavespeed_priv_clear (Wr2vWavespeedPriv * priv)
{
  wr2v_wavespeed_rules_clear (&priv->rules);
  g_free (priv->rules_model);
  g_free (priv->price_key);
  g_hash_table_unref (priv->unknown_statuses);
  g_mutex_clear (&priv->lock);
}

/* --- price --- */

gboolean
wr2v_wavespeed_table_has_duration (guint duration)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (wavespeed_models[0].prices); i++) {
    if (wavespeed_models[0].prices[i].duration == duration)
      return TRUE;
  }
  return FALSE;
}

gdouble
wr2v_wavespeed_table_price (const Wr2vRequest * req)
{
  guint i, n = G_N_ELEMENTS (wavespeed_models[0].prices);

  /* the smallest duration that covers the request (check() refuses
   * others; this only keeps the estimate on the safe side) */
  for (i = 0; i < n; i++) {
    if (wavespeed_models[0].prices[i].duration >= req->duration)
      break;
  }
  i = MIN (i, n - 1);
  return req->resolution == WR2V_RESOLUTION_1080P ?
      wavespeed_models[0].prices[i].usd_1080p :
      wavespeed_models[0].prices[i].usd_720p;
}

/* What a live price depends on, as far as this element knows. */
static gchar *
price_key (const Wr2vRequest * req, const gchar * model)
{
  return g_strdup_printf ("%s|%u|%d|%u", model, req->duration,
      req->resolution, req->references ? req->references->len : 0);
}

gdouble
wr2v_wavespeed_price (Wr2vWavespeedPriv * priv, const Wr2vRequest * req,
    const gchar * model)
{
  gchar *key = price_key (req, model);
  gdouble usd;

  g_mutex_lock (&priv->lock);
  usd = g_strcmp0 (key, priv->price_key) == 0 ? priv->live_price :
      wr2v_wavespeed_table_price (req);
  g_mutex_unlock (&priv->lock);
  g_free (key);
  return usd;
}

/* --- schema --- */

static const gchar *
table_schema (const gchar * model)
{
  const WavespeedModel *row = wr2v_remote_model_row (wavespeed_models,
      G_N_ELEMENTS (wavespeed_models), sizeof wavespeed_models[0], model,
      FALSE);

  return row->schema;
}

/* store/schemas/wavespeed-<digest of api-url and model>.json */
static gchar *
cache_path (Wr2vWavespeedPriv * priv, Wr2vJob * job, const gchar * model)
{
  const gchar *url = priv->remote.engine->settings.api_url;
  gchar *id = g_strconcat (url ? url : "", "\n", model, NULL);
  gchar *digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, id, -1);
  gchar *name, *path;

  digest[24] = '\0';
  name = g_strdup_printf ("wavespeed-%s.json", digest);
  path = g_build_filename (wr2v_store_dir (job->store), "schemas", name, NULL);
  g_free (name);
  g_free (digest);
  g_free (id);
  return path;
}

/* The cached schema when it is younger than a day, or NULL. */
static gchar *
cached_schema (const gchar * path)
{
  GStatBuf st;
  gchar *text = NULL;

  if (g_stat (path, &st) != 0 || g_get_real_time () / G_USEC_PER_SEC -
      st.st_mtime > SCHEMA_MAX_AGE_S || st.st_mtime > g_get_real_time () /
      G_USEC_PER_SEC + 60)
    return NULL;
  if (!g_file_get_contents (path, &text, NULL, NULL))
    return NULL;
  return text;
}

/* A question before the submit (@what: "schema", "price", "balance"): a
 * GET, or a POST of @body that creates nothing, retried briefly, its 200
 * answer read by @parse into @out. The answer is optional (the table
 * stands in), but no answer at all means that the service can't be
 * reached, which the caller reports (see fatal()). */
static gboolean
ask (Wr2vWavespeedPriv * priv, Wr2vJob * job, const gchar * route,
    const gchar * body, const gchar * what, Wr2vRemoteParser parse,
    gpointer out, GError ** error)
{
  static const Wr2vHttpRetry brief = { 3, 500, 2000, 5, TRUE };
  Wr2vRemote *remote = &priv->remote;
  const gchar *key = wr2v_remote_key (remote, error);
  gchar *url = key ? wr2v_remote_route (remote, route, error) : NULL;
  gchar *asking = g_strdup_printf ("asking for the %s", what);
  Wr2vHttpResponse resp = { 0, };
  Wr2vHttpRequest hr;
  GError *local = NULL;
  gboolean ok = FALSE;

  if (!url)
    goto out;
  wr2v_remote_api_request (remote, job, &hr, body ? WR2V_HTTP_POST :
      WR2V_HTTP_GET, url, key);
  if (body) {
    hr.body = g_bytes_new (body, strlen (body));
    hr.content_type = "application/json";
  }
  if (!wr2v_http_perform_retry (remote->http, &hr, &brief, &resp, &local)) {
    if (g_error_matches (local, WR2V_ERROR, WR2V_ERROR_NETWORK))
      g_prefix_error (&local, "%s failed: ", asking);
    g_propagate_error (error, local);
  } else if (resp.status != 200) {
    wr2v_remote_http_error (remote, job, &resp, asking, error);
  } else {
    ok = wr2v_remote_parse (&resp, parse, out, error);
  }
  if (hr.body)
    g_bytes_unref (hr.body);
out:
  wr2v_http_response_clear (&resp);
  g_free (asking);
  g_free (url);
  return ok;
}

/* wr2v_remote_parse takes one out pointer: the model in, the text out */
typedef struct
{
  const gchar *model;
  gchar *schema;
} FindSchema;

static gboolean
find_schema (const gchar * data, gsize len, FindSchema * fs, GError ** error)
{
  return wr2v_wavespeed_find_schema (data, len, fs->model, &fs->schema, error);
}

/* GET /api/v3/models: the model's request schema as text, or NULL. */
static gchar *
fetch_schema (Wr2vWavespeedPriv * priv, Wr2vJob * job, const gchar * model,
    GError ** error)
{
  FindSchema fs = { model, NULL };

  ask (priv, job, "models", NULL, "model's schema", (Wr2vRemoteParser)
      find_schema, &fs, error);
  return fs.schema;
}

/* The live schema of @model: the cache, else the service (then cached).
 * NULL with the reason when it can't be had. */
static gchar *
live_schema (Wr2vWavespeedPriv * priv, Wr2vJob * job, const gchar * model,
    gboolean offline, const gchar ** source, GError ** error)
{
  gchar *path = cache_path (priv, job, model);
  gchar *dir, *text = cached_schema (path);

  *source = "cache";
  if (!text && offline) {
    g_free (path);
    return NULL;
  }
  if (!text && (text = fetch_schema (priv, job, model, error))) {
    *source = "live";
    dir = g_path_get_dirname (path);
    /* a store that can't keep it only costs a request next time */
    if (g_mkdir_with_parents (dir, 0700) != 0 ||
        !g_file_set_contents (path, text, -1, NULL))
      GST_INFO ("could not cache the schema in %s", path);
    g_free (dir);
  }
  g_free (path);
  return text;
}

/* A failure to ask that no fallback mends: the key refused, no answer at
 * all (the submit would find no service either), or a stop. */
static gboolean
fatal (Wr2vJob * job, GError ** err, GError ** error)
{
  if (!g_error_matches (*err, WR2V_ERROR, WR2V_ERROR_NOT_AUTHORIZED) &&
      !g_error_matches (*err, WR2V_ERROR, WR2V_ERROR_NETWORK) &&
      !g_cancellable_is_cancelled (job->cancellable))
    return FALSE;
  g_propagate_error (error, *err);
  *err = NULL;
  return TRUE;
}

/* TRUE when priv holds rules of @model younger than a day. */
static gboolean
rules_fresh (Wr2vWavespeedPriv * priv, const gchar * model)
{
  gboolean fresh;

  g_mutex_lock (&priv->lock);
  fresh = priv->rules.props && g_strcmp0 (priv->rules_model, model) == 0 &&
      g_get_monotonic_time () - priv->rules_time <
      (gint64) SCHEMA_MAX_AGE_S *G_USEC_PER_SEC;
  g_mutex_unlock (&priv->lock);
  return fresh;
}

/* Loads the model's rules into priv: the ones held if younger than a
 * day, else live, else the table with a warning. FALSE when the key was
 * refused, the service did not answer or the job stopped, or, when
 * @offline (no request allowed), no rules were at hand. The requests
 * are made unlocked: another job's stop must not wait for them. */
static gboolean
load_rules (Wr2vWavespeedPriv * priv, Wr2vJob * job, const gchar * model,
    gboolean offline, GError ** error)
{
  Wr2vWavespeedRules rules = { 0, };
  const gchar *source = "table";
  GError *err = NULL;
  gchar *text;

  if (rules_fresh (priv, model))
    return TRUE;
  text = live_schema (priv, job, model, offline, &source, &err);
  if (!text && (offline || fatal (job, &err, error)))
    return FALSE;
  if (text && !wr2v_wavespeed_parse_rules (text, strlen (text), &rules, &err))
    g_clear_pointer (&text, g_free);
  if (!text) {
    gchar *msg = g_strdup_printf ("WaveSpeed's schema of %s could not be "
        "read (%s): using the built-in table, which sends only the fields "
        "confirmed in its documentation", model, err ? err->message : "?");

    GST_WARNING ("%s", msg);
    wr2v_job_post (job, gst_structure_new ("wanr2v/warning", "engine",
            G_TYPE_STRING, "wavespeed", "message", G_TYPE_STRING, msg, NULL));
    g_free (msg);
    source = "table";
    text = g_strdup (table_schema (model));
    wr2v_wavespeed_parse_rules (text, strlen (text), &rules, NULL);
  }
  GST_INFO ("schema of %s (%s): %s", model, source, text);
  wr2v_job_post (job, gst_structure_new ("wanr2v/schema", "engine",
          G_TYPE_STRING, "wavespeed", "model", G_TYPE_STRING, model,
          "source", G_TYPE_STRING, source, NULL));
  g_mutex_lock (&priv->lock);
  wr2v_wavespeed_rules_clear (&priv->rules);
  priv->rules = rules;
  g_free (priv->rules_model);
  priv->rules_model = g_strdup (model);
  priv->rules_live = !g_str_equal (source, "table");
  priv->rules_time = g_get_monotonic_time ();
  g_mutex_unlock (&priv->lock);
  g_clear_error (&err);
  g_free (text);
  return TRUE;
}

void
wr2v_wavespeed_forget_schema (Wr2vWavespeedPriv * priv, Wr2vJob * job)
{
  gchar *path;

  g_mutex_lock (&priv->lock);
  path = priv->rules_model ? cache_path (priv, job, priv->rules_model) : NULL;
  wr2v_wavespeed_rules_clear (&priv->rules);
  g_mutex_unlock (&priv->lock);
  if (path)
    g_unlink (path);
  g_free (path);
}

/* The body of @job's request by the rules priv holds; with the options
 * the schema lacks said in a warning when @urls are given. */
static gchar *
build_body (Wr2vWavespeedPriv * priv, Wr2vJob * job,
    const gchar * const *urls, GError ** error)
{
  GString *dropped = g_string_new (NULL);
  gboolean live;
  gchar *body;

  g_mutex_lock (&priv->lock);
  body = wr2v_wavespeed_build_body (&priv->rules, job->request, urls,
      dropped, error);
  live = priv->rules_live;
  g_mutex_unlock (&priv->lock);
  if (body && dropped->len && urls) {
    gchar *msg = g_strdup_printf ("WaveSpeed's %s schema of this model has "
        "no %s: not sent", live ? "live" : "built-in", dropped->str);

    GST_WARNING ("%s", msg);
    wr2v_job_post (job, gst_structure_new ("wanr2v/warning", "engine",
            G_TYPE_STRING, "wavespeed", "message", G_TYPE_STRING, msg, NULL));
    g_free (msg);
  }
  g_string_free (dropped, TRUE);
  return body;
}

gchar *
wr2v_wavespeed_body (Wr2vWavespeedPriv * priv, Wr2vJob * job,
    const gchar * const *urls)
{
  const gchar *model = wr2v_remote_model (&priv->remote);
  GError *err = NULL;
  gchar *body;

  if (load_rules (priv, job, model, FALSE, &err)) {
    g_mutex_lock (&priv->lock);
    body = wr2v_wavespeed_build_body (&priv->rules, job->request, urls,
        NULL, &err);
    g_mutex_unlock (&priv->lock);
  } else {
    body = NULL;
  }
  /* prepare checked it: only a schema changed in between gets here */
  if (!body) {
    GST_WARNING ("%s", err->message);
    body = g_strdup ("{}");
  }
  g_clear_error (&err);
  return body;
}

/* --- price and balance --- */

/* POST /api/v3/model/price: the live price of @body into *@usd. */
static gboolean
live_price (Wr2vWavespeedPriv * priv, Wr2vJob * job, const gchar * body,
    gdouble * usd, GError ** error)
{
  gchar *pb = wr2v_wavespeed_price_body (wr2v_remote_model (&priv->remote),
      body);
  Wr2vWavespeedAnswer a = { 0, };
  gboolean ok = ask (priv, job, "model/price", pb, "price",
      (Wr2vRemoteParser) wr2v_wavespeed_parse_answer, &a, error);

  if (ok && !(ok = a.has_price && a.price >= 0))
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "WaveSpeed's price answer has no price");
  *usd = a.price;
  wr2v_wavespeed_answer_clear (&a);
  g_free (pb);
  return ok;
}

/* GET /api/v3/balance into *@usd. */
static gboolean
read_balance (Wr2vWavespeedPriv * priv, Wr2vJob * job, gdouble * usd,
    GError ** error)
{
  Wr2vWavespeedAnswer a = { 0, };
  gboolean ok = ask (priv, job, "balance", NULL, "balance",
      (Wr2vRemoteParser) wr2v_wavespeed_parse_answer, &a, error);

  if (ok && !(ok = a.has_balance))
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "WaveSpeed's balance answer has no balance");
  *usd = a.balance;
  wr2v_wavespeed_answer_clear (&a);
  return ok;
}

static void
post_cost (Wr2vJob * job, gdouble usd, const gchar * source)
{
  wr2v_job_post (job, gst_structure_new ("wanr2v/cost", "engine",
          G_TYPE_STRING, "wavespeed", "estimated-usd", G_TYPE_DOUBLE, usd,
          "currency", G_TYPE_STRING, "USD", "source", G_TYPE_STRING, source,
          NULL));
}

/* The price of @body (live, else the table's) against max-cost and the
 * balance. */
static gboolean
check_price (Wr2vWavespeedPriv * priv, Wr2vJob * job, const gchar * body,
    GError ** error)
{
  const gchar *model = wr2v_remote_model (&priv->remote);
  gdouble max = wr2v_job_max_cost (job), usd, balance;
  gboolean live;
  GError *err = NULL;

  if ((live = live_price (priv, job, body, &usd, &err))) {
    g_mutex_lock (&priv->lock);
    g_free (priv->price_key);
    priv->price_key = price_key (job->request, model);
    priv->live_price = usd;
    g_mutex_unlock (&priv->lock);
  } else if (fatal (job, &err, error)) {
    return FALSE;
  } else {
    GST_WARNING ("no live price (%s): using the table's", err->message);
    usd = wr2v_wavespeed_table_price (job->request);
  }
  g_clear_error (&err);
  GST_INFO ("price USD %.4f (%s)", usd, live ? "live" : "table");
  post_cost (job, usd, live ? "live" : "table");
  if (max > 0 && usd > max) {
    g_autofree gchar *limit = wr2v_job_max_cost_text (job);

    g_set_error (error, WR2V_ERROR, WR2V_ERROR_COST,
        "This job is priced at USD %.2f by WaveSpeed%s, above %s; nothing "
        "was submitted or paid for. Raise max-cost, or lower the duration "
        "or resolution.", usd, live ? "" : "'s table", limit);
    return FALSE;
  }
  if (!read_balance (priv, job, &balance, &err)) {
    if (fatal (job, &err, error))
      return FALSE;
    GST_WARNING ("no balance (%s): submitting anyway", err->message);
    g_clear_error (&err);
    return TRUE;
  }
  GST_INFO ("balance USD %.4f", balance);
  if (balance < usd) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_COST,
        "The WaveSpeed account's balance (USD %.2f) is below this job's "
        "price (USD %.2f); nothing was submitted or paid for. Top up the "
        "account at https://wavespeed.ai, or lower the duration or "
        "resolution.", balance, usd);
    return FALSE;
  }
  return TRUE;
}

gboolean
wr2v_wavespeed_prepare (Wr2vEngine * engine, Wr2vJob * job, GError ** error)
{
  Wr2vWavespeedPriv *priv = (Wr2vWavespeedPriv *) wr2v_remote_get (engine);
  const gchar *model = wr2v_remote_model (&priv->remote);
  gchar **urls, *body = NULL;
  gboolean ok;

  /* rules at hand first: a request they refuse uploads nothing; the
   * first request of a job stays the upload (a refused key is said
   * there, as by every hosted engine) */
  ok = !load_rules (priv, job, model, TRUE, NULL) ||
      (body = build_body (priv, job, NULL, error));
  g_free (body);
  if (!ok || !wr2v_remote_engine_prepare (engine, job, error) ||
      !(urls = wr2v_remote_reference_urls (&priv->remote, job, error)))
    return FALSE;
  body = load_rules (priv, job, model, FALSE, error) ? build_body (priv, job,
      (const gchar * const *) urls, error) : NULL;
  g_strfreev (urls);
  if (!body)
    return FALSE;
  GST_DEBUG ("body as it will be sent: %s", body);
  ok = check_price (priv, job, body, error);
  g_free (body);
  return ok;
}
