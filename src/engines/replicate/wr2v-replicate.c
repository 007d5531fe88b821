/* wr2v-replicate.c: Replicate's hosted Wan 2.7 reference-to-video
 * (wan-video/wan-2.7-r2v), on the remote-job layer
 * (src/remote/wr2v-remote.h).
 *
 * What is Replicate's own: predictions created with {"input": {...}} and
 * answered 201, the files API (one multipart POST per file; the file's
 * urls.get is what an input names), its statuses, its limits and price,
 * its error bodies (problem details: title, detail). Inputs and outputs
 * of API predictions are deleted after an hour, so the clip is fetched at
 * once (the layer's download follows the poll). The layer does the rest:
 * routes, the key, the submit-once rule, retries, the download. The wire
 * protocol and how sure each fact is are in docs/engines/replicate.md;
 * builders and parsers in wr2v-replicate-wire.c.
 */
#include "config.h"

#include <string.h>

#include "wr2v-defaults.h"
#include "wr2v-engine.h"
#include "wr2v-error.h"
#include "wr2v-remote.h"
#include "wr2v-replicate-wire.h"

#define KEY_ENV "REPLICATE_API_TOKEN"
#define DEFAULT_API_URL "https://api.replicate.com"
#define DEFAULT_MODEL "wan-video/wan-2.7-r2v"

/* [3P] the model's own sizes (Alibaba's); Replicate states none */
#define MAX_IMAGE_BYTES (G_GUINT64_CONSTANT (20) * 1024 * 1024)
#define MAX_VIDEO_BYTES (G_GUINT64_CONSTANT (100) * 1024 * 1024)
/* [I] files of the files API expire after a day; an hour less is
 * remembered */
#define UPLOAD_LIFETIME_S (23 * 3600)

/* [C] duration 2-10, seed 0..2147483647; [3P] prompt 5000, negative 500 */
static const Wr2vRemoteLimits limits = {
  /* durations, with a video, prompt, negative prompt, seed */
  2, 10, 0, 5000, 500, G_MAXINT32
};

/* [I] Replicate bills this model per second of output; its price page
 * was not read. These are the vendor's list prices for Wan video, and the
 * reference seconds are counted too, so that max-cost errs on the safe
 * side. Replace once the model page's price is known. */
static const gdouble usd_per_second_720p = 0.10;
static const gdouble usd_per_second_1080p = 0.15;

/* --- answers: problem details (title, detail), else error --- */

/* 402: billing; the layer's meaning of the other statuses says enough (a
 * 422 quotes the problem's detail) */
static gboolean
replicate_explain_fault (Wr2vRemote * remote, Wr2vJob * job, guint st,
    const Wr2vRemoteFault * fault, const gchar * what, const gchar * why,
    GError ** error)
{
  if (st != 402)
    return FALSE;
  g_set_error (error, WR2V_ERROR, WR2V_ERROR_NOT_AUTHORIZED,
      "Replicate refused the request while %s (%s): set up billing or add "
      "credit at https://replicate.com/account/billing, then run again",
      what, why);
  return TRUE;
}

/* --- cost (the checks are data: limits and model_ok) --- */

static gdouble
replicate_estimate_cost (Wr2vEngine * engine, const Wr2vRequest * req)
{
  gdouble per_s = req->resolution == WR2V_RESOLUTION_1080P ?
      usd_per_second_1080p : usd_per_second_720p;

  return wr2v_remote_billed_seconds (req) * per_s;
}

/* --- uploads: the files API --- */

/* POST /v1/files, multipart field "content"; the file's urls.get is what
 * an input names. */
static gchar *
replicate_upload (Wr2vRemote * remote, Wr2vJob * job,
    const Wr2vReference * ref, const gchar * sha, const gchar * label,
    guint64 size, GError ** error)
{
  const gchar *key = wr2v_remote_key (remote, error);
  g_autofree gchar *route = NULL, *filename = NULL, *what = NULL;
  gchar *url = NULL;
  Wr2vHttpFormPart part;
  Wr2vHttpRequest hr;
  Wr2vRemoteProgress ps;
  Wr2vReplicateAnswer a = { 0, };

  if (!key || !(route = wr2v_remote_route (remote, "files", error)))
    return NULL;
  /* "Video1.mp4": Replicate's file name, as its files were always named */
  filename = g_strdup_printf ("%s%u.%s", wr2v_ref_kind_word (ref->kind),
      ref->number, wr2v_remote_ext_for_mime (ref->mime, ref->kind));
  wr2v_remote_form_upload (remote, job, &hr, &part, &ps, route, key,
      "content", ref, filename, label);
  what = g_strdup_printf ("uploading %s", label);
  if (wr2v_remote_upload_send (remote, job, &hr, what, 201, &a, NULL, error))
    url = wr2v_remote_uploaded_url (remote, label, a.get_url, "urls.get",
        error);
  wr2v_replicate_answer_clear (&a);
  return url;
}

/* --- poll --- */

/* A prediction that ended without a result: into @res and the details,
 * then the message that says what to do. */
static void
prediction_failed (Wr2vRemote * remote, Wr2vJob * job, const gchar * job_id,
    guint status, const Wr2vReplicateAnswer * a, Wr2vPollResult * res,
    GError ** error)
{
  Wr2vRemoteFault fault = { 0, };
  const gchar *m;

  fault.code = g_strdup (a->status);
  fault.message = g_strdup (a->error);
  wr2v_remote_poll_failed (remote, job, status, &fault, res);
  m = fault.message ? fault.message : "no detail given";
  if (g_str_equal (a->status, "canceled"))
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_JOB_FAILED,
        "Replicate prediction %s was canceled (%s); run again to submit a "
        "new (paid) prediction", job_id, m);
  else if (strstr (m, "NSFW") || strstr (m, "sensitive"))
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_JOB_FAILED,
        "Replicate prediction %s was stopped by content moderation (%s): "
        "change the prompt or the references", job_id, m);
  else
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_JOB_FAILED,
        "Replicate prediction %s failed (%s): check duration, resolution, "
        "aspect-ratio, seed, the prompt and the references; run again to "
        "submit a new (paid) prediction", job_id, m);
  wr2v_remote_fault_clear (&fault);
  wr2v_remote_upload_forget (remote, job);
}

static const Wr2vRemoteStatusWord replicate_statuses[] = {
  {"starting", WR2V_POLL_QUEUED},
  {"processing", WR2V_POLL_RUNNING},
  {"succeeded", WR2V_POLL_SUCCEEDED},
  {"failed", WR2V_POLL_FAILED},
  {"canceled", WR2V_POLL_FAILED},
  {NULL},
};

static gboolean
replicate_read_poll (Wr2vRemote * remote, Wr2vJob * job,
    const gchar * job_id, const Wr2vHttpResponse * resp,
    gpointer answer, Wr2vPollResult * res, GError ** error)
{
  Wr2vReplicateAnswer *a = answer;
  gint state;
  gboolean ok = FALSE;

  state = wr2v_remote_poll_word (remote, job_id, a->status, replicate_statuses,
      res, error);
  if (state == WR2V_POLL_FAILED) {
    prediction_failed (remote, job, job_id, resp->status, a, res, error);
  } else if (state == WR2V_POLL_SUCCEEDED && !a->output) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "Replicate prediction %s succeeded without an output; run again to "
        "resume it", job_id);
  } else if (state == WR2V_POLL_SUCCEEDED) {
    ok = wr2v_remote_poll_output (remote, job_id, "succeeded", a->output, res,
        error);
  } else {
    ok = state >= 0;
  }
  return ok;
}

/* --- the engine --- */

static const Wr2vRemoteClass replicate_remote_class = {
  .provider = "Replicate",
  .job_word = "prediction",
  WR2V_REMOTE_KEY ("token", "https://replicate.com/account/api-tokens", NULL),
  WR2V_REMOTE_MODEL (DEFAULT_MODEL, wr2v_replicate_model_ok,
      "a Replicate model (owner/name, like \"" DEFAULT_MODEL "\")"),
  WR2V_REMOTE_ROUTES (DEFAULT_API_URL, "/v1/", "predictions/", ""),
  .unknown_job_hint = "it may belong to another token",
  .dashboard_url = "https://replicate.com/predictions",
  .result_expiry = "Replicate deletes outputs of API predictions an hour "
      "after they end",
  .result_gone = "Replicate deletes outputs of API predictions an hour "
      "after they end; run again to submit a new (paid) prediction",
  .limits = &limits,
  WR2V_REMOTE_UPLOADS (replicate_upload, MAX_IMAGE_BYTES, MAX_VIDEO_BYTES,
      UPLOAD_LIFETIME_S),
  .submit_created_status = 201,
  /* no submit_nothing_created: nothing documents a 5xx that means
   * "nothing was created" */
  /* the official model's latest version */
  WR2V_REMOTE_MODEL_SUBMIT ("models/%s/predictions",
      wr2v_replicate_submit_body, "id"),
  WR2V_REMOTE_ANSWER_FAULT (Wr2vReplicateAnswer, wr2v_replicate_parse_answer,
      wr2v_replicate_answer_clear, title, detail, error),
  .explain_fault = replicate_explain_fault,
  .read_poll = replicate_read_poll,
};

WR2V_REMOTE_DEFINE_ENGINE (replicate, KEY_ENV,
    WR2V_REMOTE_HOSTED_WAN ("Replicate"),
    /* shot_type is in the model's inputs [C: its llms.txt]; a voice and a
     * first frame are not */
    .inputs = WR2V_INPUT_SHOT_TYPE, WR2V_REMOTE_CHECKED_HOOKS)
