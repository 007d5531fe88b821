/* wr2v-comfyui.c: open Wan models on the user's own GPU, through
 * ComfyUI's HTTP API (docs/engines/comfyui.md): the engine's hooks.
 *
 * The job is a ComfyUI graph in API format with placeholders
 * (wr2v-comfyui-workflow.h). The references become one composed image, or
 * one image each for a workflow that takes a batch ("{{reference_images}}",
 * e.g. Phantom-Wan's WanPhantomSubjectToVideo), made by GStreamer elements
 * (wr2v-comfyui-frames.h) and uploaded. The prompt's "Video 1" / "Image 3"
 * become "reference subject 1" / "reference subject 3", the Nth column
 * from the left (wr2v_prompt_translate). With the 480p 1.3B model, a
 * warning (GST_WARNING and a "wanr2v/warning" element message) says that
 * the clip is smaller than resolution asks.
 *
 * The job is local and free: no key, no cost; a local job may take an
 * hour (default request-timeout 7200 s). Its sampler steps come from
 * ComfyUI's websocket, read at each poll (wr2v-comfyui-socket.h); the
 * history alone is enough without it. When the pipeline stops mid-job,
 * cancel_remote removes it from ComfyUI's queue and interrupts it if it
 * runs, to free the GPU. A submit is never retried; if its answer is lost,
 * the prompts queued under this submit's client_id are removed again.
 * ComfyUI's answers are read by the pure parsers of wr2v-comfyui-wire.h.
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#include "wr2v-comfyui.h"
#include "wr2v-comfyui-frames.h"
#include "wr2v-comfyui-preflight.h"
#include "wr2v-comfyui-socket.h"
#include "wr2v-comfyui-wire.h"
#include "wr2v-comfyui-workflow.h"
#include "wr2v-defaults.h"
#include "wr2v-engine.h"
#include "wr2v-error.h"
#include "wr2v-http.h"
#include "wr2v-prompt.h"
#include "wr2v-remote.h"

GST_DEBUG_CATEGORY (wr2v_comfyui_debug);
#define GST_CAT_DEFAULT wr2v_comfyui_debug

#define ENGINE_NAME "comfyui"
#define DEFAULT_API_URL "http://127.0.0.1:8188"

/* Wan2.1 [C: docs/engines/comfyui.md] */
#define MIN_DURATION 1
#define MAX_DURATION 10

#define API_TIMEOUT_S 30
#define SUBMIT_TIMEOUT_S 60
/* cancel_remote runs after the job's cancellable fired: short, on its own */
#define CANCEL_TIMEOUT_S 2

/* used when the request has no negative prompt */
#define DEFAULT_NEGATIVE_PROMPT "blurry, low quality, distorted faces, " \
  "deformed hands, extra limbs, flickering, jitter, static frame, " \
  "watermark, text, subtitles"

/* What prepare uploaded for one request, for its submit. */
typedef struct
{
  gchar *single;                /* {{reference_image}} */
  GPtrArray *batch;             /* {{reference_images}} */
} Uploaded;

/* The engine's priv: the remote-job layer's part first (its Wr2vHttp,
 * api-url and routes, the download of the clip), then ComfyUI's own. */
typedef struct
{
  Wr2vRemote remote;
  /* the workflow, read once per engine (its own lock) */
  Wr2vComfyuiWorkflow workflow;
  /* the progress websockets of the jobs being polled (their own lock) */
  Wr2vComfyuiSockets sockets;
  /* guards uploads */
  GMutex lock;
  /* request hash -> Uploaded, from prepare to submit */
  GHashTable *uploads;
} ComfyPriv;

static ComfyPriv *
get_priv (Wr2vEngine * engine)
{
  return engine->priv;
}

static void
uploaded_free (Uploaded * u)
{
  if (!u)
    return;
  g_free (u->single);
  if (u->batch)
    g_ptr_array_unref (u->batch);
  g_free (u);
}

/* --- small helpers --- */

/* Server text fit for an error message: one line, bounded, valid UTF-8. */
static gchar *
server_text (const gchar * text, gsize max)
{
  return wr2v_http_safe_text (text, max, NULL);
}

/* The start of a response body (not NUL-terminated) for a message. */
static gchar *
body_text (GBytes * body, gsize max)
{
  gsize len = 0;
  const gchar *data = body ? g_bytes_get_data (body, &len) : NULL;
  gchar *copy, *text;

  if (!data || len == 0)
    return NULL;
  copy = g_strndup (data, MIN (len, max + 1));
  text = server_text (copy, max);
  g_free (copy);
  return text;
}

/* --- settings --- */

/* {api-url}@route, api-url checked by the layer; when it can't be used,
 * what ComfyUI's should be. */
static gchar *
api_route (Wr2vEngine * engine, const gchar * route, GError ** error)
{
  GError *local = NULL;
  gchar *url = wr2v_remote_route (wr2v_remote_get (engine), route, &local);

  if (!url) {
    g_set_error (error, local->domain, local->code, "%s. ComfyUI on this "
        "machine is " DEFAULT_API_URL "; a ComfyUI on another machine must "
        "be reached over https (e.g. behind a TLS reverse proxy).",
        local->message);
    g_error_free (local);
  }
  return url;
}

/* The api-url without trailing slashes, checked against the URL policy. */
static gchar *
get_base_url (Wr2vEngine * engine, GError ** error)
{
  return api_route (engine, "", error);
}

/* A network failure, with what the user most likely has to do. */
static void
prefix_unreachable (Wr2vEngine * engine, GError ** error)
{
  gchar *base;

  if (!error || !*error || (*error)->domain != WR2V_ERROR ||
      (*error)->code != WR2V_ERROR_NETWORK)
    return;
  base = get_base_url (engine, NULL);
  g_prefix_error (error, "ComfyUI at %s did not answer; is it running "
      "(python main.py --listen 127.0.0.1 --port 8188) and is api-url "
      "right? ", base ? base : "api-url");
  g_free (base);
}

/* --- check, cost, identity --- */

static JsonNode *
load_workflow (Wr2vEngine * engine, gchar ** path, guint * found,
    gboolean * small_model, GError ** error)
{
  return wr2v_comfyui_workflow_load (&get_priv (engine)->workflow,
      engine->settings.workflow, path, found, small_model, error);
}

static gboolean
comfyui_check (Wr2vEngine * engine, const Wr2vRequest * req, GError ** error)
{
  JsonNode *root;
  gchar *base, *path = NULL;
  gboolean small = FALSE;

  if (req->duration < MIN_DURATION || req->duration > MAX_DURATION) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "ComfyUI's Wan2.1 makes clips of %d to %d seconds (at 16 fps), "
        "not %u: set duration in that range", MIN_DURATION, MAX_DURATION,
        req->duration);
    return FALSE;
  }
  base = get_base_url (engine, error);
  if (!base)
    return FALSE;
  g_free (base);

  root = load_workflow (engine, &path, NULL, &small, error);
  if (!root)
    return FALSE;
  json_node_unref (root);
  if (small) {
    gchar *note = wr2v_comfyui_small_model_note (req, path);

    /* the element's warning comes from prepare's "wanr2v/warning" */
    GST_WARNING ("%s", note);
    g_free (note);
  }
  g_free (path);
  return TRUE;
}

static gchar *
comfyui_identity (Wr2vEngine * engine)
{
  /* another workflow is another result: its bytes key the store */
  gchar *sha = wr2v_comfyui_workflow_sha256 (&get_priv (engine)->workflow,
      engine->settings.workflow);

  return sha ? sha : g_strdup ("unreadable-workflow");
}

/* --- prepare: compose and upload --- */

static gchar *
new_temp (Wr2vJob * job, const gchar * suffix, GError ** error)
{
  gchar *path;
  gint fd;

  if (job->store)
    return wr2v_store_new_temp (job->store, suffix, error);
  fd = g_file_open_tmp ("wanr2v-XXXXXX.png", &path, error);
  if (fd < 0)
    return NULL;
  g_close (fd, NULL);
  return path;
}

/* POST /upload/image of @png as @filename: multipart, retried (the same
 * name and bytes with overwrite: sending it twice changes nothing). */
static gboolean
post_upload (Wr2vEngine * engine, Wr2vJob * job, const gchar * png,
    const gchar * filename, const gchar * label, Wr2vHttpResponse * resp,
    GError ** error)
{
  Wr2vHttpFormPart parts[3] = { {0,}, };
  Wr2vHttpRequest hr = { 0, };
  Wr2vHttpRetry retry = { 3, 500, 4000, 10, TRUE };
  gchar *url = api_route (engine, "/upload/image", error);
  gboolean ok;

  if (!url)
    return FALSE;
  parts[0].name = "image";
  parts[0].file_path = png;
  parts[0].filename = filename;
  parts[0].content_type = "image/png";
  parts[1].name = "overwrite";
  parts[1].value = "true";
  parts[2].name = "type";
  parts[2].value = "input";
  hr.method = WR2V_HTTP_POST;
  hr.url = url;
  hr.parts = parts;
  hr.n_parts = G_N_ELEMENTS (parts);
  hr.timeout_s = API_TIMEOUT_S;
  hr.cancellable = job->cancellable;

  wr2v_job_phase (job, WR2V_PHASE_UPLOAD, "uploading %s to ComfyUI", label);
  ok = wr2v_http_perform_retry (get_priv (engine)->remote.http, &hr, &retry,
      resp, error);
  if (!ok)
    prefix_unreachable (engine, error);
  g_free (url);
  return ok;
}

/* The name ComfyUI knows an upload by (LoadImage's value), from its
 * answer, validated: the server may rename, and its name is the one to
 * use, if it is safe. */
static gchar *
uploaded_name (Wr2vJob * job, const Wr2vHttpResponse * resp,
    const gchar * filename, const gchar * label, GError ** error)
{
  Wr2vComfyuiUpload up = { 0, };
  GError *local = NULL;
  gchar *result = NULL;
  gsize len = 0;
  const gchar *data;

  if (resp->status != 200) {
    gchar *body = body_text (resp->body, 200);

    wr2v_job_detail_int (job, "http-status", resp->status);
    g_set_error (error, WR2V_ERROR, resp->status >= 500 ?
        WR2V_ERROR_NETWORK : WR2V_ERROR_PROTOCOL,
        "ComfyUI refused the upload of %s (HTTP %u%s%s)", label,
        resp->status, body && *body ? ": " : "", body ? body : "");
    g_free (body);
    return NULL;
  }
  data = g_bytes_get_data (resp->body, &len);
  if (!wr2v_comfyui_parse_upload (data, len, &up, &local)) {
    wr2v_http_hint_content_type (resp, &local);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "ComfyUI's answer to the upload of %s is unreadable: %s", label,
        local->message);
    g_clear_error (&local);
  } else if (!wr2v_comfyui_file_name_ok (up.name, FALSE) ||
      !wr2v_comfyui_subfolder_ok (up.subfolder)) {
    gchar *shown = server_text (up.name ? up.name : "(none)", 80);
    gchar *shown_sub = server_text (up.subfolder ? up.subfolder : "", 80);

    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "ComfyUI answered the upload of %s with the file name \"%s\" "
        "(subfolder \"%s\"), which is not a plain file name (it is empty, "
        "absolute, or has \"..\", \"\\\" or a control character); refusing "
        "to use it. Is api-url really a ComfyUI server?", label, shown,
        shown_sub);
    g_free (shown);
    g_free (shown_sub);
  } else {
    if (!g_str_equal (up.name, filename))
      GST_INFO ("ComfyUI stored %s as \"%s\"", filename, up.name);
    result = up.subfolder && *up.subfolder ? g_strconcat (up.subfolder, "/",
        up.name, NULL) : g_strdup (up.name);
  }
  wr2v_comfyui_upload_clear (&up);
  return result;
}

/* Uploads a PNG; returns the name ComfyUI knows it by, validated. */
static gchar *
upload_png (Wr2vEngine * engine, Wr2vJob * job, const gchar * png,
    const gchar * label, GError ** error)
{
  Wr2vHttpResponse resp = { 0, };
  gchar *sha, *filename, *result = NULL;

  sha = wr2v_file_sha256 (png, error);
  if (!sha)
    return NULL;
  /* named by content: overwriting it can only write the same bytes */
  filename = g_strdup_printf ("wanr2v-%.16s.png", sha);
  if (post_upload (engine, job, png, filename, label, &resp, error))
    result = uploaded_name (job, &resp, filename, label, error);
  wr2v_http_response_clear (&resp);
  g_free (sha);
  g_free (filename);
  return result;
}

/* Composes @frames into one canvas, uploads it, returns its name. */
static gchar *
compose_and_upload (Wr2vEngine * engine, Wr2vJob * job, GstSample ** frames,
    guint n, gint width, gint height, const gchar * label, GError ** error)
{
  gchar *png = new_temp (job, ".png", error);
  gchar *name = NULL;

  if (!png)
    return NULL;
  wr2v_job_phase (job, WR2V_PHASE_PREPARE, "composing %s (%dx%d)", label,
      width, height);
  if (wr2v_comfyui_compose_png (frames, n, width, height, png,
          job->cancellable, error))
    name = upload_png (engine, job, png, label, error);
  g_unlink (png);
  g_free (png);
  return name;
}

static void
post_warning (Wr2vJob * job, const gchar * note, gint width, gint height)
{
  GstStructure *s = gst_structure_new ("wanr2v/warning",
      "engine", G_TYPE_STRING, ENGINE_NAME,
      "message", G_TYPE_STRING, note, NULL);

  GST_WARNING ("%s", note);
  if (width > 0)
    gst_structure_set (s, "width", G_TYPE_INT, width, "height", G_TYPE_INT,
        height, NULL);
  wr2v_job_post (job, s);
}

/* What the user must know before the job runs: never silent. */
static void
warn_settings (Wr2vJob * job, const gchar * path, gboolean small,
    gint width, gint height)
{
  const Wr2vRequest *req = job->request;

  if (small) {
    gchar *note = wr2v_comfyui_small_model_note (req, path);

    /* the log, the app (element message), the progress */
    post_warning (job, note, width, height);
    wr2v_job_phase (job, WR2V_PHASE_PREPARE, "note: %s", note);
    g_free (note);
  }
  if (req->prompt_expansion)
    post_warning (job, "prompt-expansion has no effect with ComfyUI: the "
        "prompt goes to the workflow as written", 0, 0);
}

static void
free_frames (GstSample ** frames, guint n)
{
  guint i;

  for (i = 0; i < n; i++)
    if (frames[i])
      gst_sample_unref (frames[i]);
  g_free (frames);
}

/* The first frame of each reference, in prompt order. */
static GstSample **
read_first_frames (Wr2vJob * job, GError ** error)
{
  const Wr2vRequest *req = job->request;
  guint n = req->references ? req->references->len : 0;
  GstSample **frames = g_new0 (GstSample *, MAX (n, 1));
  guint i;

  for (i = 0; i < n; i++) {
    Wr2vReference *ref = g_ptr_array_index (req->references, i);

    /* a pad's uri is for hosted engines: the media itself is composed */
    if (!ref->path) {
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
          "%s %u is only given as a URL; the comfyui engine composes "
          "references from local files: link its media to the pad",
          wr2v_ref_kind_word (ref->kind), ref->number);
      break;
    }
    wr2v_job_phase (job, WR2V_PHASE_PREPARE, "reading %s %u",
        wr2v_ref_kind_word (ref->kind), ref->number);
    frames[i] = wr2v_comfyui_first_frame (ref, job->cancellable, error);
    if (!frames[i])
      break;
  }
  if (i < n) {
    free_frames (frames, n);
    return NULL;
  }
  return frames;
}

/* Uploads what the workflow's placeholders (@found) take: one composed
 * image, one image per reference, or both. */
static Uploaded *
upload_references (Wr2vEngine * engine, Wr2vJob * job, GstSample ** frames,
    guint found, gint width, gint height, GError ** error)
{
  const Wr2vRequest *req = job->request;
  guint n = req->references ? req->references->len : 0, i;
  Uploaded *up = g_new0 (Uploaded, 1);

  if (found & WR2V_COMFYUI_PH_REFERENCE) {
    gchar *label = g_strdup_printf ("the reference image (%u reference%s "
        "side by side)", n, n == 1 ? "" : "s");

    up->single = compose_and_upload (engine, job, frames, n, width, height,
        label, error);
    g_free (label);
    if (!up->single)
      goto fail;
  }
  if (found & WR2V_COMFYUI_PH_REFERENCES) {
    up->batch = g_ptr_array_new_with_free_func (g_free);
    for (i = 0; i < n; i++) {
      Wr2vReference *ref = g_ptr_array_index (req->references, i);
      gchar *label = g_strdup_printf ("%s %u", wr2v_ref_kind_word
          (ref->kind), ref->number);
      gchar *name = compose_and_upload (engine, job, &frames[i], 1, width,
          height, label, error);

      g_free (label);
      if (!name)
        goto fail;
      g_ptr_array_add (up->batch, name);
    }
  }
  return up;

fail:
  uploaded_free (up);
  return NULL;
}

static gboolean
comfyui_prepare (Wr2vEngine * engine, Wr2vJob * job, GError ** error)
{
  ComfyPriv *priv = get_priv (engine);
  guint n = job->request->references ? job->request->references->len : 0;
  GstSample **frames;
  Uploaded *up = NULL;
  JsonNode *root;
  gchar *path = NULL;
  gboolean small = FALSE;
  guint found = 0;
  gint width, height;

  root = load_workflow (engine, &path, &found, &small, error);
  if (!root)
    return FALSE;
  /* what the graph needs, before the uploads and the queue */
  if (!wr2v_comfyui_preflight (&priv->remote, job,
          json_node_get_object (root), path, error)) {
    prefix_unreachable (engine, error);
    json_node_unref (root);
    g_free (path);
    return FALSE;
  }
  json_node_unref (root);
  wr2v_comfyui_render_size (job->request, small, &width, &height);
  warn_settings (job, path, small, width, height);
  g_free (path);

  frames = read_first_frames (job, error);
  if (frames) {
    up = upload_references (engine, job, frames, found, width, height, error);
    free_frames (frames, n);
  }
  if (!up)
    return FALSE;
  g_mutex_lock (&priv->lock);
  g_hash_table_replace (priv->uploads, g_strdup (job->hash ? job->hash : ""),
      up);
  g_mutex_unlock (&priv->lock);
  return TRUE;
}

/* --- submit --- */

static gint64
job_seed (Wr2vJob * job)
{
  const Wr2vRequest *req = job->request;

  if (req->seed >= 0)
    return req->seed;
  /* unset: one derived from the request, so a rerun renders the same */
  if (job->hash && strlen (job->hash) >= 12)
    return (gint64) g_ascii_strtoull (job->hash + strlen (job->hash) - 12,
        NULL, 16);
  return g_random_int ();
}

/* GET /queue with the short cancel timeout, parsed: for the cleanups that
 * run when the job's cancellable may have fired. */
static gboolean
read_queue_now (Wr2vEngine * engine, const gchar * prompt_id,
    const gchar * client_id, Wr2vComfyuiQueue * q)
{
  Wr2vHttpRequest hr = { 0, };
  Wr2vHttpResponse resp = { 0, };
  gchar *url = api_route (engine, "/queue", NULL);
  gboolean ok = FALSE;

  if (!url)
    return FALSE;
  hr.method = WR2V_HTTP_GET;
  hr.url = url;
  hr.timeout_s = CANCEL_TIMEOUT_S;
  hr.connect_timeout_s = CANCEL_TIMEOUT_S;
  if (wr2v_http_perform (get_priv (engine)->remote.http, &hr, &resp, NULL) &&
      resp.status == 200) {
    gsize len = 0;
    const gchar *data = g_bytes_get_data (resp.body, &len);

    ok = wr2v_comfyui_parse_queue (data, len, prompt_id, client_id, q, NULL);
  }
  wr2v_http_response_clear (&resp);
  g_free (url);
  return ok;
}

/* Removes the prompts queued under @client_id: after a submit whose
 * answer was lost, so that a rerun does not leave a twin on the GPU. */
static void
forget_client_prompts (Wr2vEngine * engine, const gchar * client_id)
{
  Wr2vComfyuiQueue q = { 0, };
  guint i;

  if (read_queue_now (engine, NULL, client_id, &q)) {
    for (i = 0; i < q.client_prompts->len; i++) {
      GST_INFO ("removing prompt %s of a lost submit",
          (gchar *) g_ptr_array_index (q.client_prompts, i));
      engine->klass->cancel_remote (engine,
          g_ptr_array_index (q.client_prompts, i));
    }
  }
  wr2v_comfyui_queue_clear (&q);
}

/* What prepare uploaded for this job, checked against what the workflow
 * (@found) takes. */
static Uploaded *
take_uploads (Wr2vEngine * engine, Wr2vJob * job, guint found, GError ** error)
{
  ComfyPriv *priv = get_priv (engine);
  Uploaded *up = NULL;
  gchar *key = NULL;

  g_mutex_lock (&priv->lock);
  if (g_hash_table_steal_extended (priv->uploads, job->hash ? job->hash : "",
          (gpointer *) & key, (gpointer *) & up))
    g_free (key);
  g_mutex_unlock (&priv->lock);
  if (!up || ((found & WR2V_COMFYUI_PH_REFERENCE) && !up->single) ||
      ((found & WR2V_COMFYUI_PH_REFERENCES) && !up->batch)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
        "The references were not uploaded to ComfyUI before the submit");
    uploaded_free (up);
    return NULL;
  }
  return up;
}

/* The workflow loaded and filled in for @job: the graph to queue, with
 * the values in @v (whose prompt is @prompt, to free). */
static JsonNode *
filled_workflow (Wr2vEngine * engine, Wr2vJob * job, Uploaded ** up,
    Wr2vComfyuiValues * v, gchar ** path, gchar ** prompt, GError ** error)
{
  const Wr2vRequest *req = job->request;
  gboolean small = FALSE;
  guint found = 0;
  JsonNode *graph = load_workflow (engine, path, &found, &small, error);

  if (!graph)
    return NULL;
  *up = take_uploads (engine, job, found, error);
  if (!*up)
    goto fail;
  *prompt = wr2v_prompt_translate (req->prompt,
      WR2V_PROMPT_STYLE_REFERENCE_IMAGE);
  v->prompt = *prompt;
  v->negative = req->negative_prompt && *req->negative_prompt ?
      req->negative_prompt : DEFAULT_NEGATIVE_PROMPT;
  v->reference = (*up)->single;
  v->references = (*up)->batch;
  v->seed = job_seed (job);
  wr2v_comfyui_render_size (req, small, &v->width, &v->height);
  v->length = wr2v_comfyui_frame_count (req->duration);
  v->fps = WR2V_COMFYUI_FPS;
  if (wr2v_comfyui_workflow_fill (graph, *path, v, error))
    return graph;
fail:
  json_node_unref (graph);
  return NULL;
}

static gchar *
new_client_id (void)
{
  guint32 r[2] = { g_random_int (), g_random_int () };

  return g_strdup_printf ("wanr2v-%08x%08x", r[0], r[1]);
}

/* POST /prompt, once: never retried, as a second POST queues a second
 * job on the GPU. */
static gboolean
post_prompt (Wr2vEngine * engine, Wr2vJob * job, const gchar * body,
    const gchar * client_id, Wr2vHttpResponse * resp, GError ** error)
{
  Wr2vHttpRequest hr = { 0, };
  GError *local = NULL;
  gchar *url = api_route (engine, "/prompt", error);
  gboolean ok;

  if (!url)
    return FALSE;
  hr.method = WR2V_HTTP_POST;
  hr.url = url;
  hr.body = g_bytes_new_static (body, strlen (body));
  hr.content_type = "application/json";
  hr.timeout_s = SUBMIT_TIMEOUT_S;
  hr.low_speed_time_s = SUBMIT_TIMEOUT_S;
  hr.cancellable = job->cancellable;
  /* a fresh connection: on a reused one that dies, libcurl resends */
  hr.no_resend = TRUE;
  ok = wr2v_http_perform (get_priv (engine)->remote.http, &hr, resp, &local);
  if (!ok) {
    if (resp->request_sent) {
      /* it may be queued: free the GPU, then the next run may submit
       * again (a local job costs nothing but time) */
      forget_client_prompts (engine, client_id);
      if (!g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (&local, "ComfyUI did not answer the submit (any "
            "job it queued was removed again; run again to retry): ");
    }
    prefix_unreachable (engine, &local);
    g_propagate_error (error, local);
  }
  g_bytes_unref (hr.body);
  g_free (url);
  return ok;
}

/* A 400: the workflow refused, with ComfyUI's reasons. */
static void
set_workflow_refused (Wr2vJob * job, const gchar * path,
    const Wr2vComfyuiPromptAnswer * answer, GError ** error)
{
  gchar *msg = server_text (answer->error_message, 300);
  const gchar *nodes = answer->node_errors ? answer->node_errors : "";
  gboolean missing_file = strstr (nodes, "not in list") != NULL ||
      (msg && strstr (msg, "not in list"));

  if (msg)
    wr2v_job_detail_string (job, "provider-message", msg);
  g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
      "ComfyUI refused the workflow %s: %s%s%s%s", path,
      msg ? msg : "no reason given", *nodes ? " (" : "", nodes,
      *nodes ? ")" : "");
  if (missing_file)
    g_prefix_error (error, "A model or node the workflow needs is "
        "missing in ComfyUI (see docs/engines/comfyui.md for the files "
        "and folders). ");
  g_free (msg);
}

/* The prompt id in the submit's answer, or NULL and the error; what an
 * error may have queued is removed again. */
static gchar *
read_prompt_answer (Wr2vEngine * engine, Wr2vJob * job, const gchar * path,
    const gchar * client_id, Wr2vHttpResponse * resp, GError ** error)
{
  Wr2vComfyuiPromptAnswer answer = { 0, };
  GError *unreadable = NULL;
  gchar *id = NULL;
  gsize len = 0;
  const gchar *data = resp->body ? g_bytes_get_data (resp->body, &len) : NULL;

  wr2v_job_detail_int (job, "http-status", resp->status);
  /* unreadable: no prompt_id, no message, which is handled below */
  if (!wr2v_comfyui_parse_prompt (data, len, &answer, &unreadable))
    wr2v_http_hint_content_type (resp, &unreadable);

  if (resp->status == 400) {
    set_workflow_refused (job, path, &answer, error);
  } else if (resp->status != 200) {
    gchar *text = body_text (resp->body, 200);

    /* a crash while queueing: clear what it may have queued */
    forget_client_prompts (engine, client_id);
    g_set_error (error, WR2V_ERROR, resp->status >= 500 ?
        WR2V_ERROR_NETWORK : WR2V_ERROR_PROTOCOL,
        "ComfyUI answered the submit with HTTP %u%s%s", resp->status,
        text && *text ? ": " : "", text ? text : "");
    g_free (text);
  } else if (!wr2v_comfyui_prompt_id_ok (answer.prompt_id)) {
    forget_client_prompts (engine, client_id);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "ComfyUI's answer to the submit has no usable prompt_id%s%s%s (any "
        "job it queued was removed again). Is api-url really a ComfyUI "
        "server?", unreadable ? " (" : "", unreadable ? unreadable->message :
        "", unreadable ? ")" : "");
  } else {
    if (answer.n_node_errors > 0) {
      /* queued anyway: some outputs were valid */
      GST_WARNING ("ComfyUI queued %s with node errors: %s",
          answer.prompt_id, answer.node_errors);
    }
    id = g_steal_pointer (&answer.prompt_id);
  }
  wr2v_comfyui_prompt_answer_clear (&answer);
  g_clear_error (&unreadable);
  return id;
}

/* Queues @graph (taken) under a new client_id: its websocket first, then
 * the one POST. The prompt id, or NULL and the error. */
static gchar *
queue_graph (Wr2vEngine * engine, Wr2vJob * job, JsonNode * graph,
    const Wr2vComfyuiValues * v, const gchar * path, GError ** error)
{
  g_autofree gchar *client_id = new_client_id ();
  g_autofree gchar *body = wr2v_comfyui_prompt_body (graph, client_id);
  g_autofree gchar *base = get_base_url (engine, NULL);
  Wr2vHttpResponse resp = { 0, };
  Wr2vWebsocket *ws;
  gchar *id = NULL;

  wr2v_job_phase (job, WR2V_PHASE_SUBMIT, "queueing the workflow in ComfyUI "
      "(%dx%d, %d frames at %d fps, seed %" G_GINT64_FORMAT ")", v->width,
      v->height, v->length, v->fps, v->seed);
  /* before the submit: the first progress message may come right after */
  ws = wr2v_comfyui_socket_open (base, client_id, job->cancellable);
  if (!g_cancellable_set_error_if_cancelled (job->cancellable, error) &&
      post_prompt (engine, job, body, client_id, &resp, error))
    id = read_prompt_answer (engine, job, path, client_id, &resp, error);
  if (id) {
    GST_INFO ("queued prompt %s (client %s)", id, client_id);
    wr2v_comfyui_sockets_keep (&get_priv (engine)->sockets, id,
        g_steal_pointer (&ws));
  }
  wr2v_websocket_free (ws);
  wr2v_http_response_clear (&resp);
  return id;
}

static gchar *
comfyui_submit (Wr2vEngine * engine, Wr2vJob * job, GError ** error)
{
  Wr2vComfyuiValues v = { 0, };
  Uploaded *up = NULL;
  g_autofree gchar *path = NULL;
  g_autofree gchar *prompt = NULL;
  JsonNode *graph;
  gchar *id = NULL;

  graph = filled_workflow (engine, job, &up, &v, &path, &prompt, error);
  if (graph)
    id = queue_graph (engine, job, graph, &v, path, error);
  uploaded_free (up);
  return id;
}

/* --- poll --- */

/* One GET from ComfyUI, retried on 5xx and resets: TRUE on a 200, in
 * @resp (cleared by the caller). */
static gboolean
get_ok (Wr2vEngine * engine, Wr2vJob * job, const gchar * route,
    const gchar * what, Wr2vHttpResponse * resp, GError ** error)
{
  Wr2vHttpRequest hr = { 0, };
  Wr2vHttpRetry retry = { 6, 500, 8000, 30 };
  g_autofree gchar *url = api_route (engine, route, error);

  if (!url)
    return FALSE;
  hr.method = WR2V_HTTP_GET;
  hr.url = url;
  hr.timeout_s = API_TIMEOUT_S;
  hr.low_speed_time_s = API_TIMEOUT_S;
  hr.cancellable = job->cancellable;
  if (!wr2v_http_perform_retry (get_priv (engine)->remote.http, &hr, &retry,
          resp, error)) {
    prefix_unreachable (engine, error);
    return FALSE;
  }
  if (resp->status != 200) {
    g_set_error (error, WR2V_ERROR, wr2v_http_status_is_transient
        (resp->status) ? WR2V_ERROR_NETWORK : WR2V_ERROR_PROTOCOL,
        "ComfyUI answered HTTP %u while %s", resp->status, what);
    return FALSE;
  }
  return TRUE;
}

/* A 200 whose body the parser refused (@local, taken). */
static void
set_unreadable (GError ** error, const gchar * what,
    const Wr2vHttpResponse * resp, GError * local)
{
  wr2v_http_hint_content_type (resp, &local);
  g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
      "ComfyUI's answer while %s is unreadable (%s)", what, local->message);
  g_error_free (local);
}

/* The output URL to download, validated. */
static gchar *
output_url (Wr2vEngine * engine, const gchar * job_id,
    const Wr2vComfyuiHistory * h, GError ** error)
{
  gchar *base, *url;

  if (!h->has_output) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_JOB_FAILED,
        "ComfyUI job %s finished without an output file: does the workflow "
        "end in a SaveVideo (or another saving) node?", job_id);
    return NULL;
  }
  base = get_base_url (engine, error);
  if (!base)
    return NULL;
  url = wr2v_comfyui_view_url (base, h->filename, h->subfolder, h->type);
  g_free (base);
  if (!url) {
    gchar *sf = server_text (h->filename, 80);
    gchar *ss = server_text (h->subfolder ? h->subfolder : "", 80);

    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "ComfyUI job %s names its output \"%s\" (subfolder \"%s\"), which "
        "is not a plain file name in ComfyUI's output folder (absolute, or "
        "with \"..\" or \"\\\"); refusing to fetch it", job_id, sf, ss);
    g_free (sf);
    g_free (ss);
  }
  return url;
}

static void
set_job_failed (Wr2vJob * job, const gchar * job_id,
    const Wr2vComfyuiHistory * h, Wr2vPollResult * res, GError ** error)
{
  gchar *msg = NULL, *node = NULL;

  if (h->has_error) {
    gchar *exc = server_text (h->exception_message, 400);
    gchar *type = server_text (h->exception_type, 200);
    gchar *nid = server_text (h->node_id, 80);
    gchar *ntype = server_text (h->node_type, 80);

    node = g_strdup_printf ("node %s (%s)", nid ? nid : "?",
        ntype ? ntype : "?");
    msg = g_strdup_printf ("%s%s%s", type ? type : "", type ? ": " : "",
        exc ? g_strstrip (exc) : "no message");
    wr2v_job_detail_string (job, "provider-code", type);
    wr2v_job_detail_string (job, "provider-message", msg);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_JOB_FAILED,
        "ComfyUI job %s failed in %s: %s%s", job_id, node, msg,
        strstr (msg, "out of memory") || strstr (msg, "OutOfMemory") ||
        strstr (msg, "Allocation on device") ? ". The GPU ran out of "
        "memory: lower duration, use a smaller model, or free the GPU" : "");
    g_free (exc);
    g_free (type);
    g_free (nid);
    g_free (ntype);
  } else if (h->interrupted) {
    wr2v_job_detail_string (job, "provider-code", "interrupted");
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_JOB_FAILED,
        "ComfyUI job %s was interrupted in ComfyUI (someone pressed "
        "cancel there); run again to queue it anew", job_id);
  } else {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_JOB_FAILED,
        "ComfyUI job %s failed without an error message; see ComfyUI's "
        "console", job_id);
  }
  res->state = WR2V_POLL_FAILED;
  g_free (res->error_message);
  res->error_message = g_strdup (msg);
  g_free (msg);
  g_free (node);
}

/* The history of @job_id, parsed into @h; FALSE with the error when it
 * can't be read. */
static gboolean
read_history (Wr2vEngine * engine, Wr2vJob * job, const gchar * job_id,
    Wr2vComfyuiHistory * h, GError ** error)
{
  g_autofree gchar *esc = wr2v_http_escape_segment (job_id);
  g_autofree gchar *route = g_strconcat ("/history/", esc, NULL);
  g_autofree gchar *what = g_strdup_printf ("polling job %s", job_id);
  Wr2vHttpResponse resp = { 0, };
  GError *local = NULL;
  gboolean ok = FALSE;

  if (get_ok (engine, job, route, what, &resp, error)) {
    gsize len = 0;
    const gchar *data = g_bytes_get_data (resp.body, &len);

    ok = wr2v_comfyui_parse_history (data, len, job_id, h, &local);
    if (!ok)
      set_unreadable (error, what, &resp, local);
  }
  wr2v_http_response_clear (&resp);
  if (!ok && error && *error && (*error)->domain == WR2V_ERROR)
    g_prefix_error (error, "Polling ComfyUI job %s failed (run again "
        "to resume it): ", job_id);
  return ok;
}

/* A resumed job: no submit opened its websocket; the queue names the
 * client_id to open it with. */
static void
resume_socket (Wr2vEngine * engine, Wr2vJob * job, const gchar * job_id,
    const gchar * data, gsize len)
{
  ComfyPriv *priv = get_priv (engine);
  gchar *client_id, *base;

  if (!wr2v_comfyui_sockets_wanted (&priv->sockets, job_id))
    return;
  client_id = wr2v_comfyui_queue_client_id (data, len, job_id);
  if (client_id) {
    base = get_base_url (engine, NULL);
    wr2v_comfyui_sockets_keep (&priv->sockets, job_id,
        wr2v_comfyui_socket_open (base, client_id, job->cancellable));
    g_free (base);
  }
  g_free (client_id);
}

/* Where @job_id is in ComfyUI's queue, into @q; FALSE with @error when
 * the queue can't be read. */
static gboolean
read_queue (Wr2vEngine * engine, Wr2vJob * job, const gchar * job_id,
    Wr2vComfyuiQueue * q, GError ** error)
{
  const gchar *what = "reading the queue";
  Wr2vHttpResponse resp = { 0, };
  GError *local = NULL;
  gboolean ok = FALSE;

  if (get_ok (engine, job, "/queue", what, &resp, error)) {
    gsize len = 0;
    const gchar *data = g_bytes_get_data (resp.body, &len);

    ok = wr2v_comfyui_parse_queue (data, len, job_id, NULL, q, &local);
    if (!ok)
      set_unreadable (error, what, &resp, local);
    else if (q->place != WR2V_COMFYUI_QUEUE_ABSENT)
      resume_socket (engine, job, job_id, data, len);
  }
  wr2v_http_response_clear (&resp);
  return ok;
}

/* A job not in the history yet: queued or running, from the queue. FALSE
 * with @error when stopped; *@absent when it is in neither place (ComfyUI
 * restarted, or it just finished between the two requests). */
static gboolean
poll_queue (Wr2vEngine * engine, Wr2vJob * job, const gchar * job_id,
    Wr2vPollResult * res, gboolean * absent, GError ** error)
{
  Wr2vComfyuiQueue q = { 0, };
  GError *qerr = NULL;

  *absent = FALSE;
  if (!read_queue (engine, job, job_id, &q, &qerr)) {
    if (g_error_matches (qerr, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
      g_propagate_error (error, qerr);
      wr2v_comfyui_queue_clear (&q);
      return FALSE;
    }
    /* can't tell: the history answers next time */
    GST_DEBUG ("queue unreadable: %s", qerr->message);
    g_clear_error (&qerr);
    q.place = WR2V_COMFYUI_QUEUE_RUNNING;
    q.ahead = 0;
  } else if (q.place == WR2V_COMFYUI_QUEUE_ABSENT) {
    *absent = TRUE;
    wr2v_comfyui_queue_clear (&q);
    return TRUE;
  }
  g_free (res->status);
  if (q.place == WR2V_COMFYUI_QUEUE_PENDING) {
    res->state = WR2V_POLL_QUEUED;
    res->status = q.ahead ? g_strdup_printf ("queued, %u job%s ahead",
        q.ahead, q.ahead == 1 ? "" : "s") : g_strdup ("queued");
  } else {
    res->state = WR2V_POLL_RUNNING;
    res->status = g_strdup ("running");
  }
  wr2v_comfyui_queue_clear (&q);
  return TRUE;
}

/* A job in the history: done, failed, or a broken entry. */
static gboolean
history_result (Wr2vEngine * engine, Wr2vJob * job, const gchar * job_id,
    const Wr2vComfyuiHistory * h, Wr2vPollResult * res, GError ** error)
{
  gchar *url;

  res->step = h->step;
  res->steps = h->steps;
  g_free (res->status);
  res->status = server_text (h->status_str ? h->status_str : "done", 64);

  if (!h->is_object) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "ComfyUI's history entry for job %s is not an object; run again to "
        "resume it", job_id);
    return FALSE;
  }
  if (g_strcmp0 (h->status_str, "error") == 0 || !h->completed) {
    set_job_failed (job, job_id, h, res, error);
    return FALSE;
  }
  url = output_url (engine, job_id, h, error);
  if (!url)
    return FALSE;
  res->state = WR2V_POLL_SUCCEEDED;
  g_free (res->output_url);
  res->output_url = url;
  return TRUE;
}

static gboolean
comfyui_poll (Wr2vEngine * engine, Wr2vJob * job, const gchar * job_id,
    Wr2vPollResult * res, GError ** error)
{
  ComfyPriv *priv = get_priv (engine);
  Wr2vComfyuiHistory h = { 0, };
  gboolean ok = FALSE, absent;
  gint attempt;

  if (!wr2v_comfyui_prompt_id_ok (job_id)) {
    gchar *shown = g_strescape (job_id ? job_id : "", NULL);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NOT_FOUND,
        "\"%s\" is not a ComfyUI prompt id", shown);
    g_free (shown);
    return FALSE;
  }
  wr2v_job_detail_string (job, "job-id", job_id);

  /* {} until done; then a look at the queue tells queued from running,
   * and a job in neither place (ComfyUI restarted) from one that just
   * finished between the two requests */
  for (attempt = 0;; attempt++) {
    if (!read_history (engine, job, job_id, &h, error))
      break;
    if (h.found) {
      ok = history_result (engine, job, job_id, &h, res, error);
      break;
    }
    if (attempt > 0) {
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_NOT_FOUND,
          "ComfyUI no longer knows job %s: it is neither queued nor in its "
          "history, so ComfyUI was restarted or the job was removed there. "
          "Run again to queue it anew.", job_id);
      break;
    }
    if (!poll_queue (engine, job, job_id, res, &absent, error))
      break;
    if (!absent) {
      ok = TRUE;
      break;
    }
  }

  if (ok)
    wr2v_comfyui_sockets_follow (&priv->sockets, job_id, res);
  /* over (done, failed, unknown) or the driver stops here */
  if (!ok || res->state == WR2V_POLL_SUCCEEDED)
    wr2v_comfyui_sockets_drop (&priv->sockets, job_id);
  wr2v_comfyui_history_clear (&h);
  return ok;
}

/* --- fetch --- */

/* Downloads the clip with the layer's fetch (read retries, progress, the
 * cap), only from api-url's /view (the URL poll built), following no
 * redirect (result_no_redirect): ComfyUI serves its files itself. */
static gboolean
comfyui_fetch (Wr2vEngine * engine, Wr2vJob * job, const gchar * url,
    const gchar * out_path, GError ** error)
{
  const gchar *id = job->job_id ? job->job_id : "?";
  g_autofree gchar *base = get_base_url (engine, error);

  if (!base)
    return FALSE;
  if (!g_str_has_prefix (url, base) || strncmp (url + strlen (base),
          "/view?", 6) != 0) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "refusing to download the result of ComfyUI job %s from outside "
        "api-url", id);
    return FALSE;
  }
  return wr2v_remote_engine_fetch (engine, job, url, out_path, error);
}

/* --- cancel --- */

/* POSTs @json to @route; the HTTP status, or 0 when no answer came. A
 * failure is logged, as a debug line when @missing_ok and the route is
 * missing (404). */
static guint
post_json (Wr2vEngine * engine, const gchar * route, const gchar * json,
    gboolean missing_ok)
{
  ComfyPriv *priv = get_priv (engine);
  Wr2vHttpRequest hr = { 0, };
  Wr2vHttpResponse resp = { 0, };
  GError *err = NULL;
  gchar *url = api_route (engine, route, NULL);
  gboolean ok;
  guint status;

  if (!url)
    return 0;
  hr.method = WR2V_HTTP_POST;
  hr.url = url;
  hr.body = g_bytes_new_static (json, strlen (json));
  hr.content_type = "application/json";
  /* the job's cancellable has fired: a short leash of its own instead */
  hr.timeout_s = CANCEL_TIMEOUT_S;
  hr.connect_timeout_s = CANCEL_TIMEOUT_S;
  ok = wr2v_http_perform (priv->remote.http, &hr, &resp, &err)
      && resp.status == 200;
  status = err ? 0 : resp.status;
  if (!ok && missing_ok && status == 404)
    GST_DEBUG ("POST %s: not offered by this ComfyUI (HTTP 404)", route);
  else if (!ok)
    GST_WARNING ("POST %s failed: %s (HTTP %u)", route,
        err ? err->message : "refused", resp.status);
  g_clear_error (&err);
  g_bytes_unref (hr.body);
  wr2v_http_response_clear (&resp);
  g_free (url);
  return status;
}

/* The atomic cancel of newer servers [C: ComfyUI server.py, 2026]: out of
 * the queue or interrupted, only this job. FALSE when the server lacks it
 * (or did not answer): the caller then stops it the older way. */
static gboolean
cancel_job_route (Wr2vEngine * engine, const gchar * job_id)
{
  gchar *escaped = wr2v_http_escape_segment (job_id);
  gchar *route = g_strconcat ("/api/jobs/", escaped, "/cancel", NULL);
  gboolean ok = post_json (engine, route, "{}", TRUE) == 200;

  g_free (route);
  g_free (escaped);
  return ok;
}

static void
comfyui_cancel_remote (Wr2vEngine * engine, const gchar * job_id)
{
  Wr2vComfyuiQueue q = { 0, };
  gboolean running;
  gchar *json;

  if (!wr2v_comfyui_prompt_id_ok (job_id))
    return;
  wr2v_comfyui_sockets_drop (&get_priv (engine)->sockets, job_id);
  GST_INFO ("stopping ComfyUI job %s", job_id);
  if (cancel_job_route (engine, job_id))
    return;
  /* first out of the queue, so it can't start after the interrupt */
  json = wr2v_comfyui_delete_body (job_id);
  post_json (engine, "/queue", json, FALSE);
  g_free (json);
  /* an old ComfyUI interrupts whatever runs, whatever prompt_id says:
   * only when it is ours (or we can't tell) */
  running = !read_queue_now (engine, job_id, NULL, &q) ||
      q.place == WR2V_COMFYUI_QUEUE_RUNNING;
  wr2v_comfyui_queue_clear (&q);
  if (running) {
    json = wr2v_comfyui_interrupt_body (job_id);
    post_json (engine, "/interrupt", json, FALSE);
    g_free (json);
  }
}

/* --- the engine --- */

static void
comfyui_finalize (Wr2vRemote * remote)
{
  ComfyPriv *priv = (ComfyPriv *) remote;

  wr2v_comfyui_workflow_clear (&priv->workflow);
  wr2v_comfyui_sockets_clear (&priv->sockets);
  g_hash_table_unref (priv->uploads);
  g_mutex_clear (&priv->lock);
}

/* ComfyUI takes from the layer only what is the same for a local server:
 * the engine's HTTP client, api-url and its routes, read retries,
 * progress throttling and the download (no redirect followed). No key,
 * no billing: its upload, submit, poll and cancel are its own. */
static const Wr2vRemoteClass comfyui_remote_class = {
  .provider = "ComfyUI",
  .job_word = "job",
  .debug_category = &wr2v_comfyui_debug,
  .default_api_url = DEFAULT_API_URL,
  .api_prefix = "",
  .result_expiry = "it stays in ComfyUI's output folder",
  .result_gone = "it is no longer in ComfyUI's output folder; run again to "
      "queue the job anew",
  .result_no_redirect = TRUE,
  .finalize = comfyui_finalize,
};

/* No key_variable: a local server takes none. */
static const Wr2vEngineClass comfyui_class = {
  /* free (the user's own GPU), and keyed by the workflow's bytes */
  WR2V_ENGINE_LOCAL_RULES (comfyui),
  .description = "ComfyUI on your own GPU running open Wan models (local)",
  .default_timeout_s = WR2V_DEFAULT_LOCAL_TIMEOUT_S,
  /* ComfyUI's own job: compose and upload, queue, history and queue */
  .prepare = comfyui_prepare,
  .submit = comfyui_submit,
  .poll = comfyui_poll,
  /* stopping frees the GPU */
  .cancel_remote = comfyui_cancel_remote,
  .fetch = comfyui_fetch,
  /* the layer's */
  .finalize = wr2v_remote_engine_finalize,
};

Wr2vEngine *
wr2v_engine_comfyui_new (void)
{
  Wr2vEngine *engine;
  ComfyPriv *priv;

  engine = wr2v_remote_engine_new (&comfyui_class, &comfyui_remote_class,
      sizeof (ComfyPriv));
  priv = engine->priv;
  wr2v_comfyui_workflow_init (&priv->workflow);
  wr2v_comfyui_sockets_init (&priv->sockets);
  g_mutex_init (&priv->lock);
  priv->uploads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) uploaded_free);
  return engine;
}
