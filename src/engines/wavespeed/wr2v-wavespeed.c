/* wr2v-wavespeed.c: WaveSpeedAI's hosted Wan 2.7 reference-to-video, on
 * the remote-job layer (src/remote/wr2v-remote.h).
 *
 * What is WaveSpeed's own: its limits, the media upload (a ticket and a
 * PUT, or one multipart POST per file; remembered 7 days), the envelope
 * every answer comes in ({"code", "message", "data"}: a 200 whose code
 * says otherwise is that status), its job states and failure codes; the
 * model's live schema, price and balance, asked before the submit, are in
 * wr2v-wavespeed-live.c. The layer does the rest: routes, the key, the
 * submit-once rule, retries, the download. The wire protocol and how sure
 * each fact is are in docs/engines/wavespeed.md ("Wire protocol and
 * sources"); builders and parsers in wr2v-wavespeed-wire.c.
 */
#include "config.h"

#include <string.h>

#include "wr2v-defaults.h"
#include "wr2v-engine.h"
#include "wr2v-error.h"
#include "wr2v-remote.h"
#include "wr2v-wavespeed-live.h"
#include "wr2v-wavespeed-wire.h"

/* shared with wr2v-wavespeed-live.c */
GST_DEBUG_CATEGORY (wr2v_wavespeed_debug);
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

/* --- answers --- */

/* The envelope of an answer as a fault: its code is an HTTP-like number. */
static void
envelope_fault (const Wr2vWavespeedAnswer * a, Wr2vRemoteFault * fault)
{
  fault->code_is_int = a->has_code;
  fault->code_int = a->code;
  fault->code = a->has_code ? g_strdup_printf ("%" G_GINT64_FORMAT, a->code)
      : NULL;
  fault->message = g_strdup (a->message);
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
check_envelope (Wr2vRemote * remote, Wr2vJob * job,
    const Wr2vWavespeedAnswer * a, const gchar * what, GError ** error)
{
  guint st = envelope_status (a);
  Wr2vRemoteFault fault = { 0, };

  if (st == 200)
    return TRUE;
  envelope_fault (a, &fault);
  wr2v_remote_answer_error (remote, job, st, &fault, what, error);
  wr2v_remote_fault_clear (&fault);
  return FALSE;
}

/* --- check, cost, identity --- */

static gboolean
wavespeed_check (Wr2vEngine * engine, const Wr2vRequest * req, GError ** error)
{
  guint videos, total;

  /* the durations the table prices; the model's schema (or the table's)
   * narrows them in prepare, before anything is paid */
  if (!wr2v_wavespeed_table_has_duration (req->duration)) {
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
  /* "videos" is a required field of this model [C] (docs/engines/
   * wavespeed.md) */
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
  if (!wr2v_wavespeed_model_ok (wr2v_remote_engine_model (engine))) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "model \"%s\" is not a WaveSpeed model id (like \"" DEFAULT_MODEL
        "\")", wr2v_remote_engine_model (engine));
    return FALSE;
  }
  return TRUE;
}

/* The live price once prepare read it for this request, else the
 * table's: the element shows it as estimated-cost. */
static gdouble
wavespeed_estimate_cost (Wr2vEngine * engine, const Wr2vRequest * req)
{
  return wr2v_wavespeed_price ((Wr2vWavespeedPriv *) wr2v_remote_get (engine),
      req, wr2v_remote_engine_model (engine));
}

/* --- uploads --- */

/* The name under which uploads are remembered in the store: another
 * api-url is another service, whose URLs must not be mixed in. */
static gchar *
wavespeed_upload_scope (Wr2vRemote * remote)
{
  const gchar *u = remote->engine->settings.api_url;
  gchar *digest, *scope;

  if (!u || !*u || g_str_has_prefix (u, DEFAULT_API_URL))
    return g_strdup (ENGINE_NAME);
  digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, u, -1);
  digest[12] = '\0';
  scope = g_strconcat (ENGINE_NAME, "-", digest, NULL);
  g_free (digest);
  return scope;
}

/* Sends @hr (an upload, retried like a read) and reads the envelope of a
 * 200 answer into @a; *@status is the HTTP status (404: no such route). */
static gboolean
upload_call (Wr2vRemote * remote, Wr2vJob * job, Wr2vHttpRequest * hr,
    const gchar * what, Wr2vWavespeedAnswer * a, guint * status,
    GError ** error)
{
  return wr2v_remote_upload_send (remote, job, hr, what, 0, a, status, error)
      && check_envelope (remote, job, a, what, error);
}

/* POST /api/v3/media/upload/binary, one file; the answer's download_url
 * is what a submit names. */
static gchar *
upload_binary (Wr2vRemote * remote, Wr2vJob * job, const Wr2vReference * ref,
    const gchar * label, const gchar * key, guint * status, GError ** error)
{
  g_autofree gchar *route = NULL, *what = NULL;
  g_autofree gchar *filename = wr2v_remote_upload_name (ref);
  gchar *url = NULL;
  Wr2vHttpFormPart part;
  Wr2vHttpRequest hr;
  Wr2vRemoteProgress ps;
  Wr2vWavespeedAnswer a = { 0, };

  if (!(route = wr2v_remote_route (remote, "media/upload/binary", error)))
    return NULL;
  wr2v_remote_form_upload (remote, job, &hr, &part, &ps, route, key, "file",
      ref, filename, label);
  what = g_strdup_printf ("uploading %s", label);
  if (upload_call (remote, job, &hr, what, &a, status, error))
    url = wr2v_remote_uploaded_url (remote, label, a.download_url,
        "download_url", error);
  wr2v_wavespeed_answer_clear (&a);
  return url;
}

/* PUT of @ref's bytes to a ticket's URL, with its headers and without the
 * key [C: wavespeed-python]. */
static gboolean
put_ticket (Wr2vRemote * remote, Wr2vJob * job, const Wr2vReference * ref,
    const gchar * label, const Wr2vWavespeedAnswer * t, GError ** error)
{
  Wr2vHttpResponse resp = { 0, };
  Wr2vHttpRequest hr;
  Wr2vRemoteProgress ps;
  gboolean ok = FALSE;

  if (t->upload_method && g_ascii_strcasecmp (t->upload_method, "PUT") != 0) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "WaveSpeed's upload ticket for %s asks for a %s, not a PUT", label,
        t->upload_method);
    return FALSE;
  }
  wr2v_remote_api_request (remote, job, &hr, WR2V_HTTP_PUT, t->upload_url,
      NULL);
  hr.timeout_s = 0;
  hr.low_speed_time_s = 0;
  hr.headers = (const gchar * const *) t->upload_headers;
  hr.upload_path = ref->path;
  wr2v_remote_watch_progress (&hr, &ps, job, label);
  /* once: the HTTP layer retries GETs and POSTs only, and a failed PUT
   * fails the upload, which nothing billable follows */
  if (!wr2v_http_perform (remote->http, &hr, &resp, error))
    return FALSE;
  if (resp.status >= 200 && resp.status < 300)
    ok = TRUE;
  else
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NETWORK,
        "WaveSpeed's storage answered HTTP %u to the upload of %s",
        resp.status, label);
  wr2v_http_response_clear (&resp);
  return ok;
}

/* POST /api/v3/media/uploads for a ticket, then the PUT; the ticket's
 * download_url is what a submit names. */
static gchar *
upload_ticket (Wr2vRemote * remote, Wr2vJob * job, const Wr2vReference * ref,
    const gchar * label, guint64 size, const gchar * key, guint * status,
    GError ** error)
{
  g_autofree gchar *filename = wr2v_remote_upload_name (ref);
  g_autofree gchar *what = NULL, *route = NULL;
  gchar *url = NULL;
  Wr2vWavespeedAnswer a = { 0, };
  Wr2vHttpRequest hr;

  what = g_strdup_printf ("asking for an upload ticket for %s", label);
  if (!(route = wr2v_remote_route (remote, "media/uploads", error)))
    return NULL;
  wr2v_remote_api_post_json (remote, job, &hr, route, key,
      wr2v_wavespeed_ticket_body (filename, size, ref->mime));
  if (upload_call (remote, job, &hr, what, &a, status, error)) {
    if (!wr2v_remote_url_is_http (a.download_url) ||
        !wr2v_remote_url_is_http (a.upload_url))
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
          "WaveSpeed's upload ticket for %s has no upload url or "
          "download_url", label);
    else if (put_ticket (remote, job, ref, label, &a, error))
      url = g_strdup (a.download_url);
  }
  g_bytes_unref (hr.body);
  wr2v_wavespeed_answer_clear (&a);
  return url;
}

/* The ticket flow of the newest SDK, else (its route missing: 404) the
 * binary endpoint, and the reverse; the route that answered is tried
 * first from then on. */
static gchar *
wavespeed_upload (Wr2vRemote * remote, Wr2vJob * job,
    const Wr2vReference * ref, const gchar * sha, const gchar * label,
    guint64 size, GError ** error)
{
  Wr2vWavespeedPriv *priv = (Wr2vWavespeedPriv *) remote;
  const gchar *key = wr2v_remote_key (remote, error);
  gboolean binary = g_atomic_int_get (&priv->binary_first);
  GError *local = NULL;
  guint status = 0, attempt;
  gchar *url = NULL;

  if (!key)
    return NULL;
  for (attempt = 0; attempt < 2 && !url; attempt++) {
    g_clear_error (&local);
    status = 0;
    url = binary ? upload_binary (remote, job, ref, label, key, &status,
        &local) : upload_ticket (remote, job, ref, label, size, key, &status,
        &local);
    if (url || status != 404)
      break;
    GST_INFO ("the %s upload route is missing (404): trying the %s one",
        binary ? "binary" : "ticket", binary ? "ticket" : "binary");
    binary = !binary;
    g_atomic_int_set (&priv->binary_first, binary);
  }
  if (!url)
    g_propagate_error (error, local);
  else
    g_clear_error (&local);
  return url;
}

/* --- submit --- */

static Wr2vRemoteVerdict
wavespeed_read_submit (Wr2vRemote * remote, Wr2vJob * job,
    const Wr2vHttpResponse * resp, const gchar * what, gchar ** id,
    gchar ** why, GError ** error)
{
  Wr2vWavespeedAnswer a = { 0, };
  Wr2vRemoteFault fault = { 0, };
  Wr2vRemoteVerdict verdict = WR2V_REMOTE_SUBMIT_ACCEPTED;

  if (!wr2v_remote_parse_submit_answer (remote, resp, &a, why))
    return WR2V_REMOTE_SUBMIT_MAYBE;
  /* Any 5xx, as the HTTP status or the envelope's code, may hide a job the
   * backend did create: nothing documents one that means "nothing was
   * created" for WaveSpeed (docs/engines/wavespeed.md). */
  if (envelope_status (&a) >= 500) {
    envelope_fault (&a, &fault);
    wr2v_remote_note_fault (remote, job, resp->status, &fault);
    *why = g_strdup_printf ("the answer said code %" G_GINT64_FORMAT, a.code);
    verdict = WR2V_REMOTE_SUBMIT_MAYBE;
  } else if (!check_envelope (remote, job, &a, what, error)) {
    verdict = WR2V_REMOTE_SUBMIT_REFUSED;
  } else {
    *id = g_steal_pointer (&a.id);
  }
  wr2v_remote_fault_clear (&fault);
  wr2v_wavespeed_answer_clear (&a);
  return verdict;
}

/* {api-url}/api/v3/{model} */
static gchar *
wavespeed_submit_route (Wr2vRemote * remote, GError ** error)
{
  const gchar *m = wr2v_remote_model (remote);

  if (!wr2v_wavespeed_model_ok (m)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "model \"%s\" is not a WaveSpeed model id", m);
    return NULL;
  }
  return g_strdup (m);
}

static gchar *
wavespeed_submit_body (Wr2vRemote * remote, Wr2vJob * job,
    const gchar * const *urls, const gchar ** header)
{
  return wr2v_wavespeed_body ((Wr2vWavespeedPriv *) remote, job, urls);
}

/* A submit refused as invalid (HTTP 400 or 422, or code 1400/1401): the
 * schema may have changed, so it is read anew next time. The layer's
 * mapping says the rest. */
static gboolean
wavespeed_explain_fault (Wr2vRemote * remote, Wr2vJob * job, guint status,
    const Wr2vRemoteFault * fault, const gchar * what, const gchar * why,
    GError ** error)
{
  if (g_str_has_prefix (what, "submitting") && (status == 400 || status == 422
          || (fault && fault->code_is_int && (fault->code_int == 1400 ||
                  fault->code_int == 1401)))) {
    GST_INFO ("submit refused as invalid: the schema is read anew next time");
    wr2v_wavespeed_forget_schema ((Wr2vWavespeedPriv *) remote, job);
  }
  return FALSE;
}

static void
wavespeed_remote_finalize (Wr2vRemote * remote)
{
  wr2v_wavespeed_priv_clear ((Wr2vWavespeedPriv *) remote);
}

/* --- poll --- */

static void
set_job_failed (Wr2vRemote * remote, Wr2vJob * job, const gchar * job_id,
    const gchar * status, gint64 code, const gchar * message, GError ** error)
{
  gchar *msg;

  if (g_str_equal (status, "deleted")) {
    msg = g_strdup_printf ("WaveSpeed job %s was deleted on the service "
        "side%s%s; run again to submit a new (paid) job", job_id,
        message ? ": " : "", message ? message : "");
  } else if (g_str_equal (status, "cancelled")) {
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
    wr2v_remote_upload_forget (remote, job);
}

/* A finished job that did not succeed: its code and error into @res and
 * the details, then the message that says what to do. */
static void
job_failed (Wr2vRemote * remote, Wr2vJob * job, const gchar * job_id,
    const Wr2vHttpResponse * resp, const Wr2vWavespeedAnswer * a,
    Wr2vPollResult * res, GError ** error)
{
  Wr2vRemoteFault fault = { 0, };

  fault.code_is_int = TRUE;
  fault.code_int = a->error_code;
  fault.code = g_strdup_printf ("%" G_GINT64_FORMAT, a->error_code);
  fault.message = g_strdup (a->error);
  wr2v_remote_poll_failed (remote, job, resp->status, &fault, res);
  set_job_failed (remote, job, job_id, a->status, a->error_code,
      fault.message, error);
  wr2v_remote_fault_clear (&fault);
}

/* A status this code doesn't know: logged once per engine, then only in
 * the debug log. */
static void
unknown_status (Wr2vRemote * remote, const gchar * job_id, const gchar * status)
{
  Wr2vWavespeedPriv *priv = (Wr2vWavespeedPriv *) remote;
  gboolean first;

  g_mutex_lock (&priv->lock);
  first = g_hash_table_size (priv->unknown_statuses) < 32 &&
      g_hash_table_add (priv->unknown_statuses, g_strdup (status));
  g_mutex_unlock (&priv->lock);
  if (first)
    GST_WARNING ("job %s: unknown status \"%s\": waiting on", job_id, status);
  else
    GST_DEBUG ("job %s: unknown status \"%s\"", job_id, status);
}

static gboolean
wavespeed_read_poll (Wr2vRemote * remote, Wr2vJob * job,
    const gchar * job_id, const Wr2vHttpResponse * resp,
    gpointer answer, Wr2vPollResult * res, GError ** error)
{
  Wr2vWavespeedAnswer *a = answer;
  gchar *what = g_strdup_printf ("polling job %s", job_id);
  const gchar *status;
  gboolean ok = FALSE;

  if (!check_envelope (remote, job, a, what, error))
    goto out;
  if (!(status = a->status)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "WaveSpeed's answer for job %s has no status", job_id);
    goto out;
  }
  wr2v_remote_poll_status (res, status);
  ok = TRUE;
  if (g_str_equal (status, "created")) {
    res->state = WR2V_POLL_QUEUED;
  } else if (g_str_equal (status, "processing")) {
    res->state = WR2V_POLL_RUNNING;
  } else if (g_str_equal (status, "completed")) {
    if (!a->output) {
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
          "WaveSpeed job %s completed without an output URL", job_id);
      ok = FALSE;
    } else {
      ok = wr2v_remote_poll_output (remote, job_id, "completed", a->output,
          res, error);
    }
  } else if (g_str_equal (status, "failed") ||
      g_str_equal (status, "cancelled") || g_str_equal (status, "timeout")
      || g_str_equal (status, "deleted")) {
    job_failed (remote, job, job_id, resp, a, res, error);
    ok = FALSE;
  } else {
    /* a status this code doesn't know yet: keep waiting, the request
     * timeout still bounds it */
    unknown_status (remote, job_id, status);
    res->state = WR2V_POLL_RUNNING;
  }

out:
  g_free (what);
  return ok;
}

/* --- the engine --- */

static const Wr2vRemoteClass wavespeed_remote_class = {
  .provider = "WaveSpeed",
  WR2V_REMOTE_KEY (NULL, "https://wavespeed.ai, under API keys",
      WR2V_REMOTE_KEY_AND_CREDIT),
  /* the model's form: wavespeed_check */
  WR2V_REMOTE_MODEL (DEFAULT_MODEL, NULL, NULL),
  .debug_category = &wr2v_wavespeed_debug,
  WR2V_REMOTE_ROUTES (DEFAULT_API_URL, "/api/v3/", "predictions/", "/result"),
  .unknown_job_hint = "it may have expired or belong to another API key",
  .where_to_look = "Look for a new prediction in your WaveSpeed dashboard "
      "(https://wavespeed.ai)",
  WR2V_REMOTE_UPLOADS (wavespeed_upload, MAX_IMAGE_BYTES, MAX_VIDEO_BYTES,
      UPLOAD_LIFETIME_S),
  .too_large_image_hint = "use a smaller image",
  .too_large_video_hint = "shorten it (reference-duration) or lower its "
      "resolution",
  /* every 5xx may hide a job: see wavespeed_read_submit */
  .submit_nothing_created = {0},
  WR2V_REMOTE_SUBMIT_HOOKS (wavespeed_submit_route, wavespeed_submit_body,
      wavespeed_read_submit),
  .upload_scope = wavespeed_upload_scope,
  WR2V_REMOTE_ANSWER (Wr2vWavespeedAnswer, wr2v_wavespeed_parse_answer,
      wr2v_wavespeed_answer_clear),
  .answer_fault = (void (*)(gconstpointer, Wr2vRemoteFault *))
      envelope_fault,
  .explain_fault = wavespeed_explain_fault,
  .finalize = wavespeed_remote_finalize,
  .read_poll = wavespeed_read_poll,
};

static const Wr2vEngineClass wavespeed_class = {
  WR2V_REMOTE_HOSTED_RULES (wavespeed, KEY_ENV),
  .description = WR2V_REMOTE_HOSTED_WAN ("WaveSpeedAI"),
  .check = wavespeed_check,
  /* the live schema, price and balance, then the layer's uploads */
  .prepare = wr2v_wavespeed_prepare,
  WR2V_REMOTE_JOB_HOOKS,
};

Wr2vEngine *
wr2v_engine_wavespeed_new (void)
{
  Wr2vEngine *engine = wr2v_remote_engine_new (&wavespeed_class,
      &wavespeed_remote_class, sizeof (Wr2vWavespeedPriv));

  wr2v_wavespeed_priv_init ((Wr2vWavespeedPriv *) wr2v_remote_get (engine));
  return engine;
}
