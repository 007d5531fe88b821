/* wr2v-dashscope.c: Alibaba Cloud Model Studio (DashScope), the
 * vendor's own hosted Wan 2.7 reference-to-video (wan2.7-r2v), on the
 * remote-job layer (src/remote/wr2v-remote.h).
 *
 * What is DashScope's own: regions (key, model and endpoint of one
 * region), its limits and per-second prices, the temporary upload
 * (getPolicy, then a multipart POST to an OSS host, giving oss:// URLs
 * bound to model and account), its error codes, its task states. The layer
 * does the rest: routes, the key, the submit-once rule, retries, the
 * download (at once: the result URL expires after 24 h). The wire protocol
 * and how sure each fact is are in docs/engines/dashscope.md ("Wire
 * protocol and sources"); builders and parsers in wr2v-dashscope-wire.c.
 */
#include "config.h"

#include <string.h>

#include "wr2v-backoff.h"
#include "wr2v-dashscope-wire.h"
#include "wr2v-defaults.h"
#include "wr2v-engine.h"
#include "wr2v-error.h"
#include "wr2v-remote.h"
#include "wr2v-s3.h"

GST_DEBUG_CATEGORY_STATIC (wr2v_dashscope_debug);
#define GST_CAT_DEFAULT wr2v_dashscope_debug

#define KEY_ENV "DASHSCOPE_API_KEY"
#define DEFAULT_MODEL "wan2.7-r2v"
#define DEFAULT_REGION "singapore"

#define UPLOAD_ATTEMPTS 3

/* Temporary uploads live 48 h [C]; remembered 2 h less, to be safe. */
#define UPLOAD_LIFETIME_S (48 * 3600 - 2 * 3600)

/* Base URLs by region [C]. Key, model and endpoint must be of one region;
 * a mismatch looks like an auth error [C]. The temporary upload of
 * reference files is offered in Beijing only [C: Model Studio's "temporary
 * file URL" page, March 2026]; elsewhere references need a uri. */
static const struct
{
  const gchar *name;
  const gchar *base;
  gboolean temporary_upload;
} regions[] = {
  {"singapore", "https://dashscope-intl.aliyuncs.com", FALSE},
  {"us", "https://dashscope-us.aliyuncs.com", FALSE},
  {"beijing", "https://dashscope.aliyuncs.com", TRUE},
};

/* What wan2.7-r2v takes. [C]: the model's docs; [3P]: only resellers say
 * so (docs/engines/dashscope.md). Every limit lives here, so that one found
 * wrong is one line to change. */
#define MAX_VIDEO_BYTES (G_GUINT64_CONSTANT (100) * 1024 * 1024)        /* [3P] mp4/mov, 1-30 s */
#define MAX_IMAGE_BYTES (G_GUINT64_CONSTANT (20) * 1024 * 1024) /* [3P] */
static const struct
{
  guint max_prompt_chars;       /* [3P] */
  guint max_negative_prompt_chars;      /* [3P] */
  gint64 max_seed;              /* [3P] 0..2^31-1 */
} limits = {
  5000, 500, G_MAXINT32,
};

/* Durations by model, checked before anything is paid. A model name that
 * starts with a row's name (a "-preview" variant) takes that row; any
 * other takes the first, the default model's. */
typedef struct
{
  const gchar *model;
  guint min_duration_s;
  guint max_duration_s;
  guint max_duration_with_video_s;
} DurationLimits;

static const DurationLimits durations[] = {
  /* 2-15 s [C]; at most 10 s with any reference video [3P: several
   * resellers agree] */
  {"wan2.7-r2v", 2, 15, 10},
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

static const gchar *
dashscope_default_base_url (Wr2vRemote * remote, GError ** error)
{
  gint r = find_region (remote->engine, error);

  return r < 0 ? NULL : regions[r].base;
}

/* The region whose endpoint is in use: the one api-url names when it is
 * a known region's base, else the region property (api-url set to a
 * proxy or a test server: the region it stands for). -1 when unknown. */
static gint
region_in_use (Wr2vEngine * engine, GError ** error)
{
  const gchar *u = engine->settings.api_url;
  guint i;

  for (i = 0; u && i < G_N_ELEMENTS (regions); i++) {
    if (g_str_has_prefix (u, regions[i].base) &&
        strspn (u + strlen (regions[i].base), "/") ==
        strlen (u + strlen (regions[i].base)))
      return i;
  }
  return find_region (engine, error);
}

/* References given as files need the temporary upload: refused before
 * anything is sent where the region does not offer it. */
static gboolean
check_uploads_offered (Wr2vEngine * engine, const Wr2vRequest * req,
    GError ** error)
{
  gint r = region_in_use (engine, error);
  guint i;

  if (r < 0)
    return FALSE;
  /* elsewhere, S3 storage of the user's own stands in for it */
  if (regions[r].temporary_upload || wr2v_s3_configured ())
    return TRUE;
  for (i = 0; req->references && i < req->references->len; i++) {
    Wr2vReference *ref = g_ptr_array_index (req->references, i);

    if (!ref->voice_uri && (ref->voice_source || ref->voice_path ||
            ref->voice_pad)) {
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
          "The voice of %s %u is a file, and DashScope uploads files only "
          "in the Beijing region (region is %s): set voice-uri (a public "
          "https URL) instead, or use region=beijing with a Beijing API key",
          wr2v_ref_kind_word (ref->kind), ref->number, regions[r].name);
      return FALSE;
    }
    if (ref->uri)
      continue;
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "%s %u is a file, and DashScope uploads reference files only in "
        "the Beijing region (region is %s): set a uri (a public https URL "
        "DashScope can fetch) on each reference pad, set " WR2V_S3_VARIABLE
        " to S3 storage to upload them to, or use region=beijing "
        "with a Beijing API key", wr2v_ref_kind_word (ref->kind),
        ref->number, regions[r].name);
    return FALSE;
  }
  return TRUE;
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

/* --- answers --- */

/* An answer's fault: @code and @message (the envelope's, or the task's),
 * with the request_id for support tickets. */
static void
answer_fault (const Wr2vDashscopeAnswer * a, const gchar * code,
    const gchar * message, Wr2vRemoteFault * fault)
{
  memset (fault, 0, sizeof *fault);
  fault->code = g_strdup (code);
  fault->message = g_strdup (message);
  fault->request_id = g_strdup (a->request_id);
}

/* the envelope's code and message */
static void
dashscope_answer_fault (gconstpointer answer, Wr2vRemoteFault * out)
{
  const Wr2vDashscopeAnswer *a = answer;

  answer_fault (a, a->code, a->message, out);
}

/* An error envelope that came with a 200: it says what went wrong. */
static void
envelope_error (Wr2vRemote * remote, Wr2vJob * job,
    const Wr2vDashscopeAnswer * a, const gchar * what, GError ** error)
{
  Wr2vRemoteFault fault;

  answer_fault (a, a->code, a->message, &fault);
  wr2v_remote_answer_error (remote, job, 400, &fault, what, error);
  wr2v_remote_fault_clear (&fault);
}

/* The request_id of an answer, for support tickets: kept in the details. */
static void
note_request_id (Wr2vRemote * remote, Wr2vJob * job,
    const Wr2vDashscopeAnswer * a)
{
  Wr2vRemoteFault fault;

  answer_fault (a, NULL, NULL, &fault);
  wr2v_remote_note_fault (remote, job, 0, &fault);
  wr2v_remote_fault_clear (&fault);
}

/* What DashScope's codes mean, before the meaning of the status alone. */
static gboolean
dashscope_explain_fault (Wr2vRemote * remote, Wr2vJob * job, guint st,
    const Wr2vRemoteFault * fault, const gchar * what, const gchar * why,
    GError ** error)
{
  const gchar *code = fault ? fault->code : NULL;
  gchar *endpoint = endpoint_text (remote->engine);
  const gchar *m = wr2v_remote_model (remote);
  gboolean client = st >= 400 && st < 500 && st != 404 && st != 408 &&
      st != 413 && st != 429;
  gboolean handled = TRUE;

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
      wr2v_remote_upload_forget (remote, job);
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
        KEY_ENV, what, why, m, endpoint);
  } else if (st == 403) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NOT_AUTHORIZED,
        "DashScope denied access while %s (%s): check that the key in "
        "api-key or " KEY_ENV " may use model %s, and that key, model and "
        "region match (%s)", what, why, m, endpoint);
  } else if (client && code && g_str_has_prefix (code, "InvalidParameter")) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "DashScope refused a parameter while %s (%s): check duration, "
        "resolution, aspect-ratio, seed, the prompt and the references",
        what, why);
  } else {
    handled = FALSE;
  }
  g_free (endpoint);
  return handled;
}

/* --- check, cost, identity --- */

static gboolean
check_duration (Wr2vEngine * engine, const Wr2vRequest * req, GError ** error)
{
  const DurationLimits *d = wr2v_remote_model_row (durations,
      G_N_ELEMENTS (durations), sizeof durations[0],
      wr2v_remote_engine_model (engine), TRUE);
  guint videos = wr2v_request_count (req, WR2V_REF_VIDEO);

  if (req->duration < d->min_duration_s || req->duration > d->max_duration_s) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "DashScope's %s makes clips of %u to %u seconds, not %u: set "
        "duration in that range (at most %u with a reference video)",
        wr2v_remote_engine_model (engine), d->min_duration_s, d->max_duration_s,
        req->duration, d->max_duration_with_video_s);
    return FALSE;
  }
  if (videos > 0 && req->duration > d->max_duration_with_video_s) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "DashScope's %s makes clips of at most %u seconds when any "
        "reference video is present (%u linked), not %u: lower duration to "
        "%u or less, or use reference images only",
        wr2v_remote_engine_model (engine), d->max_duration_with_video_s, videos,
        req->duration, d->max_duration_with_video_s);
    return FALSE;
  }
  return TRUE;
}

static gboolean
dashscope_check (Wr2vEngine * engine, const Wr2vRequest * req, GError ** error)
{
  glong chars;

  if (!check_duration (engine, req, error))
    return FALSE;
  if (req->resolution != WR2V_RESOLUTION_720P &&
      req->resolution != WR2V_RESOLUTION_1080P) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "DashScope's %s makes 720p or 1080p clips: set resolution to one "
        "of those", wr2v_remote_engine_model (engine));
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
  /* model, region and api-url: wrong settings are reported before
   * anything runs */
  return wr2v_remote_check_settings (wr2v_remote_get (engine), error) &&
      check_uploads_offered (engine, req, error);
}

static gdouble
dashscope_estimate_cost (Wr2vEngine * engine, const Wr2vRequest * req)
{
  gdouble per_s = prices[0].usd_per_second;
  guint i;

  for (i = 0; i < G_N_ELEMENTS (prices); i++) {
    if (prices[i].resolution == req->resolution)
      per_s = prices[i].usd_per_second;
  }
  return wr2v_remote_billed_seconds (req) * per_s;
}

/* --- prepare: the temporary upload --- */

/* References go to the user's S3 storage (WANR2V_S3) where the region
 * offers no temporary upload. */
static gboolean
uses_s3 (Wr2vEngine * engine)
{
  gint r = region_in_use (engine, NULL);

  return r >= 0 && !regions[r].temporary_upload && wr2v_s3_configured ();
}

/* The key an upload is remembered under. An oss:// URL is bound to the
 * model and the account it was uploaded for, so both go into the key with
 * the content: the model, the endpoint, and a one-way digest of the API
 * key (the key itself is never written anywhere). */
static gchar *
dashscope_upload_key (Wr2vRemote * remote, const gchar * content_sha)
{
  GChecksum *c = g_checksum_new (G_CHECKSUM_SHA256);
  gchar *base = wr2v_remote_base_url (remote, NULL);
  const gchar *key = wr2v_remote_peek_key (remote);
  gchar *account = g_compute_checksum_for_string (G_CHECKSUM_SHA256,
      key ? key : "", -1);
  gchar *ret;

  g_checksum_update (c, (const guchar *) "wanr2v-dashscope-upload-1\n", -1);
  g_checksum_update (c, (const guchar *) content_sha, -1);
  g_checksum_update (c, (const guchar *) "\n", 1);
  g_checksum_update (c, (const guchar *) wr2v_remote_model (remote), -1);
  g_checksum_update (c, (const guchar *) "\n", 1);
  g_checksum_update (c, (const guchar *) (base ? base : ""), -1);
  g_checksum_update (c, (const guchar *) "\n", 1);
  g_checksum_update (c, (const guchar *) account, -1);
  if (uses_s3 (remote->engine))
    g_checksum_update (c, (const guchar *) "\ns3", -1);
  ret = g_strdup (g_checksum_get_string (c));
  g_checksum_free (c);
  g_free (account);
  g_free (base);
  return ret;
}

/* The policy route is missing: the endpoint offers no temporary upload
 * (a region other than Beijing behind api-url). */
static void
policy_not_offered (Wr2vRemote * remote, GError ** error)
{
  gchar *endpoint = endpoint_text (remote->engine);

  g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
      "DashScope offers no temporary upload of reference files at %s "
      "(HTTP 404 for the upload policy): set a uri (a public https URL "
      "DashScope can fetch) on each reference pad, or use region=beijing "
      "with a Beijing API key", endpoint);
  g_free (endpoint);
}

static gboolean
get_policy (Wr2vRemote * remote, Wr2vJob * job, Wr2vDashscopePolicy * pol,
    GError ** error)
{
  Wr2vHttpResponse resp = { 0, };
  gchar *model_arg, *route;
  gboolean ok = FALSE;

  model_arg = g_uri_escape_string (wr2v_remote_model (remote), NULL, FALSE);
  route = g_strconcat ("uploads?action=getPolicy&model=", model_arg, NULL);
  if (wr2v_remote_api_get (remote, job, route, "asking DashScope for an "
          "upload policy failed: ", &resp, error)) {
    if (resp.status == 404)
      policy_not_offered (remote, error);
    else if (resp.status != 200)
      wr2v_remote_http_error (remote, job, &resp,
          "asking for an upload policy", error);
    else
      ok = wr2v_remote_parse (&resp,
          (Wr2vRemoteParser) wr2v_dashscope_parse_policy, pol, error);
  }
  if (!ok)
    wr2v_dashscope_policy_clear (pol);
  wr2v_http_response_clear (&resp);
  g_free (route);
  g_free (model_arg);
  return ok;
}

/* An upload host's refusal as an error; TRUE when a fresh policy and
 * another try may help: 403 (the policy may have expired on the way), 408
 * and the host's trouble. */
static gboolean
upload_refused (const Wr2vHttpResponse * resp, const gchar * label,
    GError ** error)
{
  gchar *oss = wr2v_dashscope_oss_error_text (resp->body);
  gboolean retry = resp->status == 403 || resp->status == 408 ||
      wr2v_http_status_is_transient (resp->status);
  gboolean too_large = resp->status == 400 && oss &&
      g_str_has_prefix (oss, "EntityTooLarge");

  g_set_error (error, WR2V_ERROR, too_large ? WR2V_ERROR_INVALID_REQUEST :
      (retry ? WR2V_ERROR_NETWORK : WR2V_ERROR_PROTOCOL),
      "DashScope's upload host refused %s (HTTP %u%s%s): run again; if it "
      "persists, give the reference a uri instead", label, resp->status,
      oss ? ", " : "", oss ? oss : "");
  g_free (oss);
  return retry;
}

/* One upload attempt: a fresh policy, then the POST to its host; *retry
 * says whether another attempt may help. */
static gchar *
upload_attempt (Wr2vRemote * remote, Wr2vJob * job,
    const Wr2vReference * ref, const gchar * sha, const gchar * label,
    guint64 size, gboolean * retry, GError ** error)
{
  Wr2vDashscopePolicy pol = { 0, };
  Wr2vHttpFormPart parts[WR2V_DASHSCOPE_FORM_PARTS];
  Wr2vHttpRequest hr = { 0, };
  Wr2vHttpResponse resp = { 0, };
  Wr2vRemoteProgress ps;
  gchar *filename = NULL, *object_key = NULL, *url = NULL;
  GError *local = NULL;

  *retry = FALSE;
  if (!get_policy (remote, job, &pol, error))
    return NULL;
  if (pol.max_file_size_mb > 0 && !wr2v_remote_check_size (remote, ref,
          label, size, (guint64) pol.max_file_size_mb * 1024 * 1024, error))
    goto out;

  /* a name from the content, never from the user's file names */
  filename = g_strdup_printf ("%s.%s", sha,
      wr2v_remote_ext_for_mime (ref->mime, ref->kind));
  object_key = g_strconcat (pol.upload_dir, "/", filename, NULL);
  /* no Bearer key: the upload host is not DashScope, the policy's
   * signature is the credential */
  hr.method = WR2V_HTTP_POST;
  hr.url = pol.upload_host;
  hr.n_parts = wr2v_dashscope_upload_form (&pol, object_key, ref, filename,
      parts);
  hr.parts = parts;
  hr.low_speed_time_s = 60;
  hr.cancellable = job->cancellable;
  wr2v_remote_watch_progress (&hr, &ps, job, label);

  if (!wr2v_http_perform (remote->http, &hr, &resp, &local)) {
    *retry = g_error_matches (local, WR2V_ERROR, WR2V_ERROR_NETWORK);
    if (!g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
      g_prefix_error (&local, "uploading %s to DashScope's temporary "
          "storage failed: ", label);
    g_propagate_error (error, local);
  } else if ((resp.status >= 200 && resp.status < 300) || resp.status == 409) {
    /* 409: forbid-overwrite met an object of this name, and the name is
     * the content's hash: the same bytes are there already */
    url = g_strconcat ("oss://", object_key, NULL);
  } else {
    *retry = upload_refused (&resp, label, error);
  }

out:
  wr2v_http_response_clear (&resp);
  wr2v_dashscope_policy_clear (&pol);
  g_free (filename);
  g_free (object_key);
  return url;
}

static gchar *
dashscope_upload (Wr2vRemote * remote, Wr2vJob * job,
    const Wr2vReference * ref, const gchar * sha, const gchar * label,
    guint64 size, GError ** error)
{
  gchar *url = NULL;
  guint attempt;

  if (uses_s3 (remote->engine))
    return wr2v_s3_upload_reference (ref->path,
        wr2v_remote_ext_for_mime (ref->mime, ref->kind), job->cancellable,
        error);
  /* An upload creates nothing billable and its name is the content's
   * hash, so unlike a submit it may be sent again. */
  for (attempt = 1;; attempt++) {
    GError *local = NULL;
    gboolean retry = FALSE;

    url = upload_attempt (remote, job, ref, sha, label, size, &retry, &local);
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
  return url;
}

/* used as given: DashScope fetches it (oss:// of the same account works
 * too) */
static gboolean
dashscope_uri_ok (const gchar * uri)
{
  return wr2v_remote_url_is_http (uri) || g_str_has_prefix (uri, "oss://");
}

/* --- submit --- */

static Wr2vRemoteVerdict
dashscope_read_submit (Wr2vRemote * remote, Wr2vJob * job,
    const Wr2vHttpResponse * resp, const gchar * what, gchar ** id,
    gchar ** why, GError ** error)
{
  Wr2vDashscopeAnswer a = { 0, };
  Wr2vRemoteVerdict verdict = WR2V_REMOTE_SUBMIT_ACCEPTED;

  if (!wr2v_remote_parse_submit_answer (remote, resp, &a, why))
    return WR2V_REMOTE_SUBMIT_MAYBE;
  note_request_id (remote, job, &a);
  if (!a.task_id && a.code) {
    envelope_error (remote, job, &a, what, error);
    verdict = WR2V_REMOTE_SUBMIT_REFUSED;
  } else {
    *id = g_steal_pointer (&a.task_id);
  }
  wr2v_dashscope_answer_clear (&a);
  return verdict;
}

static gchar *
dashscope_submit_route (Wr2vRemote * remote, GError ** error)
{
  return g_strdup ("services/aigc/video-generation/video-synthesis");
}

/* @url, or for an upload to S3 storage its presigned URL, valid from
 * now on (the marker as it is when S3 is no longer usable: DashScope then
 * refuses it with its own error). */
static gchar *
presigned_or_as_is (const gchar * url)
{
  GError *err = NULL;
  gchar *signed_url;

  if (!url)
    return NULL;
  signed_url = wr2v_s3_presign_marker (url, &err);
  if (signed_url)
    return signed_url;
  GST_WARNING ("%s", err->message);
  g_error_free (err);
  return g_strdup (url);
}

static gchar *
dashscope_submit_body (Wr2vRemote * remote, Wr2vJob * job,
    const gchar * const *urls, const gchar ** header)
{
  guint i, n = job->request->references->len;
  GError *err = NULL;
  gchar **voices = wr2v_remote_voice_urls (remote, job, &err);
  g_auto (GStrv) signed_urls = g_new0 (gchar *, n + 1);
  gchar *body, *voice;

  if (!voices) {
    /* prepare uploaded every voice: only a cache gone meanwhile */
    GST_WARNING ("%s", err->message);
    g_clear_error (&err);
    voices = g_new0 (gchar *, n + 1);
  }
  for (i = 0; urls[i]; i++) {
    /* oss:// URLs are only resolved when asked to [C] */
    if (g_str_has_prefix (urls[i], "oss://") ||
        g_str_has_prefix (voices[i] ? voices[i] : "", "oss://"))
      *header = "X-DashScope-OssResourceResolve: enable";
    signed_urls[i] = presigned_or_as_is (urls[i]);
    voice = voices[i];
    voices[i] = presigned_or_as_is (voice);
    g_free (voice);
  }
  body = wr2v_dashscope_submit_body (wr2v_remote_model (remote),
      job->request, (const gchar * const *) signed_urls,
      (const gchar * const *) voices);
  wr2v_remote_urls_free (voices, n);
  return body;
}

/* --- poll --- */

static void
set_task_failed (Wr2vRemote * remote, Wr2vJob * job, const gchar * task_id,
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
    wr2v_remote_upload_forget (remote, job);
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

/* " (submitted 30 h ago)" from the journal, for a resumed task that
 * DashScope no longer knows; "" when not known. */
static gchar *
submitted_ago (Wr2vJob * job)
{
  Wr2vJournalEntry *entry = job->store && job->hash ?
      wr2v_store_journal_get (job->store, job->hash) : NULL;
  gint64 age_s = entry && entry->submitted > 0 ?
      g_get_real_time () / G_USEC_PER_SEC - entry->submitted : -1;
  gchar *text = age_s >= 3600 ? g_strdup_printf (" (submitted %"
      G_GINT64_FORMAT " h ago)", age_s / 3600) : g_strdup ("");

  wr2v_journal_entry_free (entry);
  return text;
}

/* The end states without a result; UNKNOWN is handled apart. */
static gboolean
status_is_failure (const gchar * status)
{
  return g_str_equal (status, "FAILED") || g_str_equal (status, "CANCELED");
}

/* A task that ended without a result: its code and message into @res and
 * the details, then the message that says what to do. */
static void
task_failed (Wr2vRemote * remote, Wr2vJob * job, const gchar * task_id,
    const Wr2vHttpResponse * resp, const Wr2vDashscopeAnswer * a,
    Wr2vPollResult * res, GError ** error)
{
  Wr2vRemoteFault fault;

  answer_fault (a, a->task_code, a->task_message, &fault);
  wr2v_remote_poll_failed (remote, job, resp->status, &fault, res);
  set_task_failed (remote, job, task_id, a->task_status, fault.code,
      fault.message, error);
  wr2v_remote_fault_clear (&fault);
}

/* A task that succeeded: its video_url, and what it was billed. */
static gboolean
task_succeeded (Wr2vRemote * remote, Wr2vJob * job, const gchar * task_id,
    const Wr2vDashscopeAnswer * a, Wr2vPollResult * res, GError ** error)
{
  if (!a->video_url) {
    note_request_id (remote, job, a);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "DashScope task %s succeeded without a video_url", task_id);
    return FALSE;
  }
  if (a->has_usage)
    GST_INFO ("task %s billed %" G_GINT64_FORMAT " s (%" G_GINT64_FORMAT
        " s of reference video, %" G_GINT64_FORMAT " s of output)", task_id,
        a->usage_duration, a->usage_input_video_duration,
        a->usage_output_video_duration);
  return wr2v_remote_poll_output (remote, task_id, "succeeded", a->video_url,
      res, error);
}

static gboolean
dashscope_read_poll (Wr2vRemote * remote, Wr2vJob * job,
    const gchar * job_id, const Wr2vHttpResponse * resp,
    gpointer answer, Wr2vPollResult * res, GError ** error)
{
  Wr2vDashscopeAnswer *a = answer;
  const gchar *status;
  gchar *what;
  gboolean ok = TRUE;

  status = a->task_status;
  if (!status && a->code) {
    what = g_strdup_printf ("polling task %s", job_id);
    envelope_error (remote, job, a, what, error);
    g_free (what);
    ok = FALSE;
  } else if (!status) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "DashScope's answer for task %s has no task_status; run again to "
        "resume it", job_id);
    ok = FALSE;
  } else if (g_str_equal (status, "PENDING") || g_str_equal (status, "RUNNING")) {
    res->state = g_str_equal (status, "PENDING") ? WR2V_POLL_QUEUED :
        WR2V_POLL_RUNNING;
  } else if (g_str_equal (status, "SUCCEEDED")) {
    ok = task_succeeded (remote, job, job_id, a, res, error);
  } else if (status_is_failure (status)) {
    task_failed (remote, job, job_id, resp, a, res, error);
    ok = FALSE;
  } else if (g_str_equal (status, "UNKNOWN")) {
    /* terminal [C]: the task is gone, polling longer changes nothing */
    gchar *age = submitted_ago (job);

    wr2v_job_detail_int (job, "http-status", resp->status);
    note_request_id (remote, job, a);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NOT_FOUND,
        "DashScope reports task %s as UNKNOWN%s: the task is unknown or older "
        "than 24 h (or belongs to another key or region). Its result can't "
        "be fetched any more; run again to submit a new (paid) task", job_id,
        age);
    g_free (age);
    ok = FALSE;
  } else {
    /* a status this code doesn't know yet: keep waiting, the request
     * timeout still bounds it */
    GST_WARNING ("task %s: unknown status \"%s\"", job_id, status);
    res->state = WR2V_POLL_RUNNING;
  }
  if (status)
    wr2v_remote_poll_status (res, status);
  return ok;
}

/* --- the engine --- */

static const Wr2vRemoteClass dashscope_remote_class = {
  .provider = "DashScope",
  .job_word = "task",
  .no_key_message = "no DashScope API key: set the api-key property or the "
      KEY_ENV " environment variable (keys are made in the Alibaba Cloud "
      "Model Studio console, per region: the key's region must match the "
      "region property)",
  .settings_hint = "api-url, region and model",
  WR2V_REMOTE_MODEL (DEFAULT_MODEL, wr2v_dashscope_model_ok,
      "a DashScope model name (like \"" DEFAULT_MODEL "\")"),
  .debug_category = &wr2v_dashscope_debug,
  /* api-url's default: the region's (dashscope_default_base_url) */
  WR2V_REMOTE_ROUTES (NULL, "/api/v1/", "tasks/", ""),
  .unknown_job_hint = "it may be older than 24 h or belong to another key "
      "or region",
  .where_to_look = "Look for it in the Model Studio console (task ids are "
      "kept 24 h)",
  .result_expiry = "its URL expires 24 h after the task ended",
  .result_gone = "its URL expires 24 h after the task ended",
  WR2V_REMOTE_UPLOADS (dashscope_upload, MAX_IMAGE_BYTES, MAX_VIDEO_BYTES,
      UPLOAD_LIFETIME_S),
  /* reference_voice: wav or mp3, 1-10 s, <= 15 MB [3P] */
  .max_voice_bytes = 15 * 1024 * 1024,
  /* 503: the service was unavailable, so nothing was created; a 408, 500,
   * 502 or 504 (a timeout or gateway error) may hide a task it created
   * (docs/engines/dashscope.md) */
  .submit_nothing_created = {503, 0},
  .submit_headers = {"X-DashScope-Async: enable", NULL},
  WR2V_REMOTE_SUBMIT_HOOKS (dashscope_submit_route, dashscope_submit_body,
      dashscope_read_submit),
  .resolution_word = wr2v_dashscope_resolution,
  .default_base_url = dashscope_default_base_url,
  .uri_ok = dashscope_uri_ok,
  /* the record key names model, endpoint and account */
  .upload_scope = wr2v_remote_upload_scope_by_name,
  .upload_key = dashscope_upload_key,
  WR2V_REMOTE_ANSWER (Wr2vDashscopeAnswer, wr2v_dashscope_parse_answer,
      wr2v_dashscope_answer_clear),
  .answer_fault = dashscope_answer_fault,
  .explain_fault = dashscope_explain_fault,
  .read_poll = dashscope_read_poll,
};

WR2V_REMOTE_DEFINE_ENGINE (dashscope, KEY_ENV,
    "Alibaba Cloud Model Studio (DashScope) wan2.7-r2v (paid)",
    /* wan2.7-r2v's first_frame media and reference_voice; shot_type as on
     * wan2.6-r2v */
    .inputs = WR2V_INPUT_FIRST_FRAME | WR2V_INPUT_VOICE | WR2V_INPUT_SHOT_TYPE,
    WR2V_REMOTE_CHECK_HOOKS (dashscope_check))
