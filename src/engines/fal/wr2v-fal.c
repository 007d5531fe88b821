/* wr2v-fal.c: fal.ai's hosted Wan 2.7 reference-to-video
 * (fal-ai/wan/v2.7/reference-to-video), on the remote-job layer
 * (src/remote/wr2v-remote.h).
 *
 * What is fal's own: the "Authorization: Key" header, the queue (a
 * request's status and result are routes of the app, not of the whole
 * model id; the result is fetched apart once the status says COMPLETED),
 * the storage upload (initiate on the REST host, then PUT the bytes to
 * the signed URL it gives), its limits and per-second price (reference
 * video seconds billed too), its error bodies ({"detail": ...}). The
 * layer does the rest: routes, the key, the submit-once rule, retries,
 * the download. The wire protocol and how sure each fact is are in
 * docs/engines/fal.md; builders and parsers in wr2v-fal-wire.c.
 */
#include "config.h"

#include <string.h>

#include "wr2v-defaults.h"
#include "wr2v-engine.h"
#include "wr2v-error.h"
#include "wr2v-fal-wire.h"
#include "wr2v-remote.h"

#define KEY_ENV "FAL_KEY"
#define DEFAULT_QUEUE_URL "https://queue.fal.run"
/* the storage API's host; under api-url, its routes go there too */
#define DEFAULT_STORAGE_URL "https://rest.alpha.fal.ai"
#define STORAGE_ROUTE "storage/upload/initiate"
#define DEFAULT_MODEL "fal-ai/wan/v2.7/reference-to-video"

/* [C] the model's page: images 20 MB, videos 100 MB each */
#define MAX_IMAGE_BYTES (G_GUINT64_CONSTANT (20) * 1024 * 1024)
#define MAX_VIDEO_BYTES (G_GUINT64_CONSTANT (100) * 1024 * 1024)
/* [I] fal keeps uploads "for some time": a day is remembered */
#define UPLOAD_LIFETIME_S (24 * 3600)

/* [C] prompt 5000, negative prompt 500; [3P] durations 2-15 s, at most 10
 * with a reference video, seed 0..2^31-1 (the model's own limits, as
 * Alibaba states them) */
static const Wr2vRemoteLimits limits = {
  .min_duration_s = 2,
  .max_duration_s = 15,
  .max_duration_with_video_s = 10,
  .max_prompt_chars = 5000,
  .max_negative_prompt_chars = 500,
  .max_seed = G_MAXINT32,
};

/* [C] USD 0.10 per second, input video seconds plus output seconds */
#define USD_PER_SECOND 0.10

/* --- answers: what went wrong is in error_type and detail (else error) --- */

static gboolean
fal_explain_fault (Wr2vRemote * remote, Wr2vJob * job, guint st,
    const Wr2vRemoteFault * fault, const gchar * what, const gchar * why,
    GError ** error)
{
  const gchar *msg = fault && fault->message ? fault->message : "";

  if (st == 422) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "fal.ai refused the input while %s (%s): check duration, "
        "resolution, aspect-ratio, seed, the prompt and the references",
        what, why);
    return TRUE;
  }
  if ((st == 402 || st == 403) && (strstr (msg, "balance") ||
          strstr (msg, "locked"))) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NOT_AUTHORIZED,
        "fal.ai refused the request while %s (%s): the account is out of "
        "credit: top it up at https://fal.ai/dashboard/billing, then run "
        "again", what, why);
    return TRUE;
  }
  return FALSE;
}

/* --- cost (the checks are data: limits and model_ok) --- */

static gdouble
fal_estimate_cost (Wr2vEngine * engine, const Wr2vRequest * req)
{
  return wr2v_remote_billed_seconds (req) * USD_PER_SECOND;
}

/* --- uploads: initiate, then PUT to the signed URL --- */

/* {api-url}/storage/upload/initiate, else fal's REST host. */
static gchar *
storage_url (Wr2vRemote * remote, GError ** error)
{
  const gchar *u = remote->engine->settings.api_url;

  if (u && *u)
    return wr2v_remote_route (remote, STORAGE_ROUTE, error);
  return g_strdup (DEFAULT_STORAGE_URL "/" STORAGE_ROUTE);
}

/* Asks the storage API where to put @ref; its answer in @a. */
static gboolean
initiate_upload (Wr2vRemote * remote, Wr2vJob * job,
    const Wr2vReference * ref, const gchar * what, Wr2vFalAnswer * a,
    GError ** error)
{
  const gchar *key = wr2v_remote_key (remote, error);
  gchar *url, *filename;
  Wr2vHttpRequest hr;
  gboolean ok;

  if (!key || !(url = storage_url (remote, error)))
    return FALSE;
  filename = wr2v_remote_upload_name (ref);
  wr2v_remote_api_post_json (remote, job, &hr, url, key,
      wr2v_fal_initiate_body (ref->mime, filename));
  ok = wr2v_remote_upload_send (remote, job, &hr, what, 0, a, NULL, error);
  if (ok && (!a->upload_url || !wr2v_http_url_allowed (a->upload_url, NULL)
          || !wr2v_remote_url_is_http (a->file_url))) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "fal.ai's answer to %s has no usable upload_url and file_url", what);
    ok = FALSE;
  }
  g_bytes_unref (hr.body);
  g_free (filename);
  g_free (url);
  return ok;
}

static gchar *
fal_upload (Wr2vRemote * remote, Wr2vJob * job, const Wr2vReference * ref,
    const gchar * sha, const gchar * label, guint64 size, GError ** error)
{
  gchar *what = g_strdup_printf ("uploading %s", label), *url = NULL;
  Wr2vFalAnswer a = { 0, };
  Wr2vHttpRequest hr = { 0, };
  Wr2vHttpResponse resp = { 0, };
  Wr2vRemoteProgress ps;

  if (!initiate_upload (remote, job, ref, what, &a, error))
    goto out;
  /* a signed URL: no key goes there */
  hr.method = WR2V_HTTP_PUT;
  hr.url = a.upload_url;
  hr.upload_path = ref->path;
  hr.content_type = ref->mime;
  hr.cancellable = job->cancellable;
  wr2v_remote_watch_progress (&hr, &ps, job, label);
  if (!wr2v_remote_read (remote, &hr, TRUE, &resp, error))
    goto out;
  if (resp.status < 200 || resp.status >= 300) {
    wr2v_remote_http_error (remote, job, &resp, what, error);
    goto out;
  }
  url = g_strdup (a.file_url);

out:
  wr2v_http_response_clear (&resp);
  wr2v_fal_answer_clear (&a);
  g_free (what);
  return url;
}

/* --- poll: the status, then the result --- */

/* {app}/requests/{id}{tail} */
static gchar *
request_route (Wr2vRemote * remote, const gchar * escaped_id,
    const gchar * tail)
{
  gchar *app = wr2v_fal_app_id (wr2v_remote_model (remote));
  gchar *route = g_strconcat (app, "/requests/", escaped_id, tail, NULL);

  g_free (app);
  return route;
}

static gchar *
fal_poll_route (Wr2vRemote * remote, const gchar * escaped_id)
{
  return request_route (remote, escaped_id, "/status");
}

/* A request that ended in an error: into @res and the details, then the
 * message that says what to do. */
static void
request_failed (Wr2vRemote * remote, Wr2vJob * job, const gchar * job_id,
    guint status, const gchar * type, const gchar * message,
    Wr2vPollResult * res, GError ** error)
{
  Wr2vRemoteFault fault = { 0, };

  fault.code = g_strdup (type);
  fault.message = g_strdup (message);
  wr2v_remote_poll_failed (remote, job, status, &fault, res);
  if (fault.code && strstr (fault.code, "content_policy"))
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_JOB_FAILED,
        "fal.ai request %s was stopped by content moderation (%s): change "
        "the prompt or the references", job_id,
        fault.message ? fault.message : fault.code);
  else
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_JOB_FAILED,
        "fal.ai request %s failed (%s%s%s): check duration, resolution, "
        "aspect-ratio, seed, the prompt and the references (a reference "
        "URL must be one fal can fetch); run again to submit a new (paid) "
        "request", job_id, fault.code ? fault.code : "",
        fault.code ? ": " : "", fault.message ? fault.message :
        "no detail given");
  wr2v_remote_fault_clear (&fault);
  wr2v_remote_upload_forget (remote, job);
}

/* GET {app}/requests/{id}: the output, or the error the app ended with. */
static gboolean
fetch_result (Wr2vRemote * remote, Wr2vJob * job, const gchar * job_id,
    Wr2vPollResult * res, GError ** error)
{
  gchar *escaped = wr2v_http_escape_segment (job_id);
  gchar *route = request_route (remote, escaped, "");
  gchar *failed = g_strdup_printf ("fetching the result of fal.ai request "
      "%s failed, run again to resume it: ", job_id);
  gchar *what = g_strdup_printf ("fetching the result of request %s",
      job_id);
  Wr2vHttpResponse resp = { 0, };
  Wr2vFalAnswer a = { 0, };
  GError *local = NULL;
  gboolean ok = FALSE;

  if (!wr2v_remote_api_get (remote, job, route, failed, &resp, error))
    goto out;
  if (resp.status == 400 || resp.status == 422) {
    /* the app ran and refused the input: the request is over. A 5xx may
     * be the queue's own trouble: kept, resumed by the next run. */
    wr2v_remote_parse_answer (remote, &resp, &a, NULL);
    request_failed (remote, job, job_id, resp.status, a.error_type,
        a.detail, res, error);
  } else if (resp.status != 200) {
    wr2v_remote_http_error (remote, job, &resp, what, error);
  } else if (!wr2v_remote_parse_answer (remote, &resp, &a, &local)) {
    wr2v_remote_poll_unreadable (remote, job_id, local, error);
  } else if (!a.video_url) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "fal.ai request %s completed without a video url; run again to "
        "resume it", job_id);
  } else {
    ok = wr2v_remote_poll_output (remote, job_id, "completed", a.video_url,
        res, error);
  }

out:
  wr2v_fal_answer_clear (&a);
  wr2v_http_response_clear (&resp);
  g_free (what);
  g_free (failed);
  g_free (route);
  g_free (escaped);
  return ok;
}

static const Wr2vRemoteStatusWord fal_statuses[] = {
  {"IN_QUEUE", WR2V_POLL_QUEUED},
  {"IN_PROGRESS", WR2V_POLL_RUNNING},
  /* an error, or the result to fetch */
  {"COMPLETED", WR2V_POLL_SUCCEEDED},
  {NULL},
};

static gboolean
fal_read_poll (Wr2vRemote * remote, Wr2vJob * job, const gchar * job_id,
    const Wr2vHttpResponse * resp, gpointer answer, Wr2vPollResult * res,
    GError ** error)
{
  Wr2vFalAnswer *a = answer;
  gint state;
  gboolean ok;

  state = wr2v_remote_poll_word (remote, job_id, a->status, fal_statuses, res,
      error);
  ok = state >= 0;
  if (state == WR2V_POLL_SUCCEEDED && a->error) {
    request_failed (remote, job, job_id, resp->status, a->error_type,
        a->error, res, error);
    ok = FALSE;
  } else if (state == WR2V_POLL_SUCCEEDED) {
    /* SUCCEEDED only once the result is in hand */
    res->state = WR2V_POLL_RUNNING;
    ok = fetch_result (remote, job, job_id, res, error);
  }
  return ok;
}

/* --- the engine --- */

static const Wr2vRemoteClass fal_remote_class = {
  .provider = "fal.ai",
  .job_word = "request",
  WR2V_REMOTE_KEY (NULL, "https://fal.ai/dashboard/keys",
      WR2V_REMOTE_KEY_AND_CREDIT),
  WR2V_REMOTE_MODEL (DEFAULT_MODEL, wr2v_fal_model_ok,
      "a fal.ai model id (like \"" DEFAULT_MODEL "\")"),
  .auth_scheme = "Key",
  /* the status route names the app: fal_poll_route */
  WR2V_REMOTE_ROUTES (DEFAULT_QUEUE_URL, "/", NULL, NULL),
  .poll_route = fal_poll_route,
  /* [I] the status route answers 202 while the request waits */
  .poll_any_2xx = TRUE,
  .unknown_job_hint = "it may be too old or belong to another key",
  .dashboard_url = "https://fal.ai/dashboard/requests",
  .limits = &limits,
  WR2V_REMOTE_UPLOADS (fal_upload, MAX_IMAGE_BYTES, MAX_VIDEO_BYTES,
      UPLOAD_LIFETIME_S),
  /* no submit_nothing_created: nothing documents a 5xx that means
   * "nothing was created" */
  /* {queue}/{model} */
  WR2V_REMOTE_MODEL_SUBMIT ("%s", wr2v_fal_submit_body, "request_id"),
  WR2V_REMOTE_ANSWER_FAULT (Wr2vFalAnswer, wr2v_fal_parse_answer,
      wr2v_fal_answer_clear, error_type, detail, error),
  .explain_fault = fal_explain_fault,
  .read_poll = fal_read_poll,
};

WR2V_REMOTE_DEFINE_ENGINE (fal, KEY_ENV, WR2V_REMOTE_HOSTED_WAN ("fal.ai"),
    WR2V_REMOTE_CHECKED_HOOKS)
