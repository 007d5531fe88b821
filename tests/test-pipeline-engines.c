/* test-pipeline-engines.c: one pipeline, every engine (issue 4, "Done
 * when": the same pipeline, with only engine= and the credentials changed,
 * produces a clip through each engine against its fake server, with the
 * requests matching the documented shapes).
 *
 * One gst_parse_launch template (PIPELINE): wanr2v with two reference
 * MP4s on video_0 / video_1 and a PNG on image_0, the prompt "Video 1
 * hands Image 3 to Video 2", duration 5 (valid everywhere: wavespeed
 * 5/10/15, dashscope 2-10 with a reference video, comfyui 1-10, preview
 * 1-15), decoded into a fakesink whose buffers are counted. Per engine
 * only engine=, api-url= (the fake server's) and the key's environment
 * variable change; each engine gets a fresh cache-dir, and runs twice:
 *
 *   1st run: EOS, no error, the frames of the clip that engine's fake
 *     served (each fake serves its own clip, of its own size, rate and
 *     length, so the output is known to be that clip), a wanr2v/result
 *     with the server's job id, and in the server's records exactly one
 *     submit of the documented shape (docs/providers.md):
 *       wavespeed  POST /api/v3/alibaba/wan-2.7/reference-to-video, Bearer,
 *                  {prompt, videos: [2 uploaded URLs], image, resolution
 *                  "720p", duration 5}; 3 multipart uploads (field "file")
 *       dashscope  getPolicy + 3 OSS PostObject uploads (no Bearer), then
 *                  POST .../video-synthesis with X-DashScope-Async: enable
 *                  (and X-DashScope-OssResourceResolve: enable), {model
 *                  "wan2.7-r2v", input {prompt, media [reference_video,
 *                  reference_video, reference_image]}, parameters
 *                  {resolution "720P", duration 5, ...}}
 *       fal        POST /storage/upload/initiate (Key) + 3 PUTs of the bytes
 *                  (no key), POST /fal-ai/wan/v2.7/reference-to-video with
 *                  "Authorization: Key", {prompt, reference_video_urls,
 *                  reference_image_urls, resolution "720p", duration "5"},
 *                  status and result under /fal-ai/wan/requests/<id>
 *       replicate  3 POST /v1/files (field "content"), POST
 *                  /v1/models/wan-video/wan-2.7-r2v/predictions, Bearer,
 *                  {input {prompt, reference_videos, reference_images,
 *                  resolution "720p", duration 5}}, GET /v1/predictions/<id>
 *       comfyui    POST /upload/image (one composed PNG of the render
 *                  size), POST /prompt with the shipped workflow filled
 *                  in: the prompt translated to "reference subject N",
 *                  width/height multiples of 16, length 4k+1 (81 for
 *                  5 s at 16 fps), LoadImage naming the upload
 *   2nd run, same cache-dir: the same frames, wanr2v/result cached=true
 *     with the same job id, and not one new request to the server.
 *
 * preview is the control: offline, 5 s at 30 fps, 1280x720.
 */
#include <stdlib.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <json-glib/json-glib.h>

#include "wr2v-fake-server.h"
#include "wr2v-http.h"
#include "wr2v-test-util.h"
#include "wr2v-test-time.h"

#define PROMPT "Video 1 hands Image 3 to Video 2"
#define PROMPT_COMFYUI "reference subject 1 hands reference subject 3 to " \
  "reference subject 2"
/* The same prompt as the vendor numbers it (images counted from 1): what
 * DashScope's wan2.7-r2v is sent, and what a user may write instead. */
#define PROMPT_PER_TYPE "Video 1 hands Image 1 to Video 2"
#define PROMPT_FAL "@Video1 hands @Image3 to @Video2"
#define DURATION 5
#define WAVESPEED_KEY "wr2v-pipeline-WS-KEY-3c9e1a"
#define DASHSCOPE_KEY "wr2v-pipeline-DS-KEY-8b2f4d"
#define WAVESPEED_MODEL "alibaba/wan-2.7/reference-to-video"
#define DASHSCOPE_MODEL "wan2.7-r2v"
#define DASHSCOPE_CREATE "/api/v1/services/aigc/video-generation/" \
  "video-synthesis"
#define FAL_KEY "wr2v-pipeline-FAL-KEY-5d7a21"
#define FAL_MODEL "fal-ai/wan/v2.7/reference-to-video"
#define REPLICATE_KEY "wr2v-pipeline-RP-KEY-9e4c07"
#define REPLICATE_MODEL "wan-video/wan-2.7-r2v"

/* The one pipeline. The engine's part: engine name, then " api-url=..."
 * (empty for preview); the rest is the same for every engine. */
#define PIPELINE \
  "wanr2v name=w engine=%s%s cache-dir=\"%s\" prompt=\"%s\" " \
  "duration=5 poll-interval=50 request-timeout=60 ! videoconvert ! " \
  "fakesink name=sink sync=false " \
  "filesrc location=\"%s\" ! w.video_0 " \
  "filesrc location=\"%s\" ! w.video_1 " \
  "filesrc location=\"%s\" ! w.image_0"

typedef struct
{
  const gchar *engine;
  const gchar *script;          /* the fake server, NULL: none */
  const gchar *key_var;         /* NULL: no key */
  const gchar *key;
  /* the clip the fake serves (what preview renders, for preview) */
  gint width, height, fps;
  guint frames;
} EngineCase;

static const EngineCase preview_case = {
  "preview", NULL, NULL, NULL, 1280, 720, 30, DURATION * 30
};

/* WaveSpeed and DashScope deliver 30 fps */
static const EngineCase wavespeed_case = {
  "wavespeed", "fake-wavespeed.py", "WAVESPEED_API_KEY", WAVESPEED_KEY,
  320, 180, 30, DURATION * 30
};

static const EngineCase dashscope_case = {
  "dashscope", "fake-dashscope.py", "DASHSCOPE_API_KEY", DASHSCOPE_KEY,
  256, 144, 30, DURATION * 30
};

static const EngineCase fal_case = {
  "fal", "fake-fal.py", "FAL_KEY", FAL_KEY, 288, 160, 30, DURATION * 30
};

static const EngineCase replicate_case = {
  "replicate", "fake-replicate.py", "REPLICATE_API_TOKEN", REPLICATE_KEY,
  240, 136, 30, DURATION * 30
};

/* Wan2.1 in ComfyUI: 16 fps, 16 * duration + 1 frames */
static const EngineCase comfyui_case = {
  "comfyui", "fake-comfyui.py", NULL, NULL, 416, 240, 16, 16 * DURATION + 1
};

static gchar *tmp_root;
static gchar *ref_video[2];
static gchar *ref_image;
static gboolean have_media;

/* --- small things ------------------------------------------------------ */

static gchar *
file_sha256 (const gchar * path)
{
  gchar *data = NULL, *sha;
  gsize len = 0;

  if (!g_file_get_contents (path, &data, &len, NULL))
    return g_strdup ("");
  sha = g_compute_checksum_for_data (G_CHECKSUM_SHA256, (guchar *) data, len);
  g_free (data);
  return sha;
}

static gint64
file_size (const gchar * path)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 ? (gint64) st.st_size : -1;
}

static gboolean
same_bytes (const gchar * a, const gchar * b)
{
  gchar *x = file_sha256 (a), *y = file_sha256 (b);
  gboolean same = *x && g_str_equal (x, y);

  g_free (x);
  g_free (y);
  return same;
}

/* JSON members that may be missing: NULL / a default, never a crash, so
 * that one wrong field fails its assertion and the checks go on. */
static JsonObject *
obj (JsonObject * o, const gchar * member)
{
  JsonNode *n = o ? json_object_get_member (o, member) : NULL;

  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static JsonArray *
arr (JsonObject * o, const gchar * member)
{
  JsonNode *n = o ? json_object_get_member (o, member) : NULL;

  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

static const gchar *
str (JsonObject * o, const gchar * member)
{
  JsonNode *n = o ? json_object_get_member (o, member) : NULL;

  return n && JSON_NODE_HOLDS_VALUE (n) &&
      json_node_get_value_type (n) == G_TYPE_STRING ?
      json_node_get_string (n) : NULL;
}

/* An integer member, or G_MININT64 when missing or not an integer. */
static gint64
num (JsonObject * o, const gchar * member)
{
  JsonNode *n = o ? json_object_get_member (o, member) : NULL;

  return n && JSON_NODE_HOLDS_VALUE (n) &&
      json_node_get_value_type (n) == G_TYPE_INT64 ?
      json_node_get_int (n) : G_MININT64;
}

/* A boolean member: 1, 0, or -1 when missing or not a boolean. */
static gint
boolean (JsonObject * o, const gchar * member)
{
  JsonNode *n = o ? json_object_get_member (o, member) : NULL;

  if (!n || !JSON_NODE_HOLDS_VALUE (n) ||
      json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    return -1;
  return json_node_get_boolean (n) ? 1 : 0;
}

static JsonObject *
arr_obj (JsonArray * a, guint i)
{
  JsonNode *n = a && i < json_array_get_length (a) ?
      json_array_get_element (a, i) : NULL;

  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static const gchar *
arr_str (JsonArray * a, guint i)
{
  JsonNode *n = a && i < json_array_get_length (a) ?
      json_array_get_element (a, i) : NULL;

  return n && JSON_NODE_HOLDS_VALUE (n) &&
      json_node_get_value_type (n) == G_TYPE_STRING ?
      json_node_get_string (n) : NULL;
}

static guint
arr_len (JsonArray * a)
{
  return a ? json_array_get_length (a) : 0;
}

static gboolean
has_string (JsonArray * a, const gchar * value)
{
  for (guint i = 0; i < arr_len (a); i++)
    if (!g_strcmp0 (arr_str (a, i), value))
      return TRUE;
  return FALSE;
}

/* A header of a recorded request, whatever case the client wrote. */
static const gchar *
header (JsonObject * headers, const gchar * name)
{
  GList *names = headers ? json_object_get_members (headers) : NULL;
  const gchar *value = NULL;

  for (GList * l = names; l; l = l->next)
    if (!g_ascii_strcasecmp (l->data, name))
      value = str (headers, l->data);
  g_list_free (names);
  return value;
}

static gchar *
to_json (JsonObject * o)
{
  JsonNode *n;
  gchar *s;

  if (!o)
    return g_strdup ("");
  n = json_node_new (JSON_NODE_OBJECT);
  json_node_set_object (n, o);
  s = json_to_string (n, FALSE);
  json_node_unref (n);
  return s;
}

/* The only member name of @o (the one job a server knows), or NULL. */
static gchar *
only_member (JsonObject * o)
{
  GList *names = o ? json_object_get_members (o) : NULL;
  gchar *name = g_list_length (names) == 1 ? g_strdup (names->data) : NULL;

  g_list_free (names);
  return name;
}

/* --- media ------------------------------------------------------------- */

/* Two reference videos (2 s each, a landscape ball and a portrait test
 * card) and a square PNG: files, linked with filesrc, sent as they are. */
static gboolean
make_references (void)
{
  gchar *d;
  gboolean ok;

  ref_video[0] = g_build_filename (tmp_root, "video0.mp4", NULL);
  ref_video[1] = g_build_filename (tmp_root, "video1.mp4", NULL);
  ref_image = g_build_filename (tmp_root, "image0.png", NULL);
  d = g_strdup_printf ("videotestsrc pattern=ball num-buffers=20 ! "
      "video/x-raw,width=320,height=180,framerate=10/1 ! "
      "x264enc speed-preset=ultrafast ! mp4mux ! filesink location=\"%s\"",
      ref_video[0]);
  ok = wr2v_test_run_to_eos (d, 60 * GST_SECOND);
  g_free (d);
  d = g_strdup_printf ("videotestsrc pattern=smpte num-buffers=20 ! "
      "video/x-raw,width=180,height=320,framerate=10/1 ! "
      "x264enc speed-preset=ultrafast ! mp4mux ! filesink location=\"%s\"",
      ref_video[1]);
  ok = ok && wr2v_test_run_to_eos (d, 60 * GST_SECOND);
  g_free (d);
  d = g_strdup_printf ("videotestsrc pattern=pinwheel num-buffers=1 ! "
      "video/x-raw,width=200,height=200 ! pngenc ! filesink "
      "location=\"%s\"", ref_image);
  ok = ok && wr2v_test_run_to_eos (d, 60 * GST_SECOND);
  g_free (d);
  return ok;
}

/* The clip a fake server delivers for @c. */
static gboolean
make_served_clip (const EngineCase * c, const gchar * path)
{
  gchar *d = g_strdup_printf ("videotestsrc pattern=snow num-buffers=%u ! "
      "video/x-raw,width=%d,height=%d,framerate=%d/1 ! "
      "x264enc speed-preset=ultrafast ! mp4mux ! filesink location=\"%s\"",
      c->frames, c->width, c->height, c->fps, path);
  gboolean ok = wr2v_test_run_to_eos (d, 60 * GST_SECOND);

  g_free (d);
  return ok;
}

static GstPadProbeReturn
count_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  g_atomic_int_inc ((gint *) user_data);
  return GST_PAD_PROBE_OK;
}

/* Frames in an MP4, decoded: what the served clip really holds. */
static guint
count_frames_of (const gchar * path)
{
  gchar *d = g_strdup_printf ("filesrc location=\"%s\" ! decodebin ! "
      "fakesink name=sink sync=false", path);
  GstElement *p = gst_parse_launch (d, NULL);
  GstElement *sink;
  GstPad *pad;
  gint frames = 0;
  gboolean ok;

  g_free (d);
  if (!p)
    return 0;
  sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_buffer, &frames,
      NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);
  ok = wr2v_test_play_to_eos (p, 60 * GST_SECOND);
  gst_object_unref (p);
  return ok ? (guint) g_atomic_int_get (&frames) : 0;
}

/* --- a fake server ----------------------------------------------------- */

static Wr2vFakeServer *
server_start (const EngineCase * c, const gchar * clip)
{
  /* WaveSpeed: a live price the built-in table does not have */
  if (g_str_equal (c->engine, "wavespeed"))
    return wr2v_fake_server_start (c->script, "--api-key", c->key,
        "--result-mp4", clip, "--price", "1.23", NULL);
  if (c->key)
    return wr2v_fake_server_start (c->script, "--api-key", c->key,
        "--result-mp4", clip, NULL);
  return wr2v_fake_server_start (c->script, "--result-mp4", clip, NULL);
}

/* The sha256 of what GET @url answers (a stored upload). */
static gchar *
server_get_sha256 (Wr2vFakeServer * s, const gchar * url)
{
  Wr2vHttpRequest req = { 0, };
  Wr2vHttpResponse resp = { 0, };
  GError *err = NULL;
  gchar *sha = NULL;

  req.method = WR2V_HTTP_GET;
  req.url = url;
  req.max_body_bytes = 64 * 1024 * 1024;
  req.timeout_s = 30;
  if (wr2v_http_perform (s->http, &req, &resp, &err) && resp.status == 200 &&
      resp.body)
    sha = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, resp.body);
  g_clear_error (&err);
  wr2v_http_response_clear (&resp);
  return sha ? sha : g_strdup ("");
}

/* Every request the server counted, on all its routes (its control
 * routes are not counted). */
static gint64
total_requests (JsonObject * stats)
{
  JsonObject *counts = obj (stats, "counts");
  GList *names = counts ? json_object_get_members (counts) : NULL;
  gint64 n = 0;

  for (GList * l = names; l; l = l->next)
    n += json_object_get_int_member (counts, l->data);
  g_list_free (names);
  return n;
}

static gint64
count_of (JsonObject * stats, const gchar * route)
{
  JsonObject *counts = obj (stats, "counts");

  return counts ? json_object_get_int_member_with_default (counts, route,
      0) : 0;
}

/* --- running the pipeline ---------------------------------------------- */

typedef struct
{
  gboolean eos;
  gchar *error;                 /* "domain/code: message (debug)" */
  GPtrArray *warnings;
  gint frames;
  gint width, height, fps_n, fps_d;
  guint submitted;              /* wanr2v/submitted messages */
  guint resumed;
  gchar *submitted_id;
  gchar *chosen;                /* wanr2v/engine's engine */
  GstStructure *references;     /* wanr2v/references */
  GstStructure *result;         /* wanr2v/result */
  GstStructure *request;        /* wanr2v/request */
  guint results;
  gint64 took_ms;
  gdouble live_cost;            /* wanr2v/cost with source=live, or -1 */
  gdouble estimated_cost;       /* the element's property at the end */
} Run;

static void
run_clear (Run * r)
{
  g_free (r->error);
  g_ptr_array_unref (r->warnings);
  g_free (r->submitted_id);
  g_free (r->chosen);
  if (r->references)
    gst_structure_free (r->references);
  if (r->result)
    gst_structure_free (r->result);
  if (r->request)
    gst_structure_free (r->request);
}

static gchar *
describe_prompt (const EngineCase * c, const gchar * api_url,
    const gchar * cache, const gchar * prompt)
{
  /* the DashScope fake stands for Beijing, where reference files may be
   * uploaded */
  gchar *url_part = api_url ? g_strdup_printf (" api-url=%s%s", api_url,
      g_str_equal (c->engine, "dashscope") ? " region=beijing" : "") :
      g_strdup ("");
  gchar *desc = g_strdup_printf (PIPELINE, c->engine, url_part, cache,
      prompt, ref_video[0], ref_video[1], ref_image);

  g_free (url_part);
  return desc;
}

static gchar *
describe (const EngineCase * c, const gchar * api_url, const gchar * cache)
{
  return describe_prompt (c, api_url, cache, PROMPT);
}

/* Only the engine's own key in the environment, or none. (The
 * environment changes between runs, while no pipeline runs; only what
 * differs is touched.) */
static void
set_credentials (const EngineCase * c)
{
  const gchar *vars[] = { "WAVESPEED_API_KEY", "DASHSCOPE_API_KEY",
    "FAL_KEY", "REPLICATE_API_TOKEN"
  };

  for (guint i = 0; i < G_N_ELEMENTS (vars); i++) {
    gboolean wanted = c && !g_strcmp0 (c->key_var, vars[i]);

    if (wanted && g_strcmp0 (g_getenv (vars[i]), c->key))
      g_setenv (vars[i], c->key, TRUE);
    else if (!wanted && g_getenv (vars[i]))
      g_unsetenv (vars[i]);
  }
}

static void
element_message (Run * r, const GstStructure * s)
{
  const gchar *name = gst_structure_get_name (s);

  if (g_str_equal (name, "wanr2v/result")) {
    r->results++;
    if (r->result)
      gst_structure_free (r->result);
    r->result = gst_structure_copy (s);
  } else if (g_str_equal (name, "wanr2v/submitted")) {
    r->submitted++;
    g_free (r->submitted_id);
    r->submitted_id = g_strdup (gst_structure_get_string (s, "job-id"));
  } else if (g_str_equal (name, "wanr2v/resumed")) {
    r->resumed++;
  } else if (g_str_equal (name, "wanr2v/cost") &&
      !g_strcmp0 (gst_structure_get_string (s, "source"), "live")) {
    gst_structure_get_double (s, "estimated-usd", &r->live_cost);
  } else if (g_str_equal (name, "wanr2v/engine")) {
    g_free (r->chosen);
    r->chosen = g_strdup (gst_structure_get_string (s, "engine"));
  } else if (g_str_equal (name, "wanr2v/references")) {
    if (r->references)
      gst_structure_free (r->references);
    r->references = gst_structure_copy (s);
  } else if (g_str_equal (name, "wanr2v/request")) {
    if (r->request)
      gst_structure_free (r->request);
    r->request = gst_structure_copy (s);
  }
}

/* The wanr2v element's estimated-cost property. */
static gdouble
estimated_cost (GstElement * pipeline)
{
  GstElement *w = gst_bin_get_by_name (GST_BIN (pipeline), "w");
  gdouble usd = -1.0;

  g_object_get (w, "estimated-cost", &usd, NULL);
  gst_object_unref (w);
  return usd;
}

static void
run_pipeline (const gchar * desc, Run * r)
{
  GError *err = NULL;
  GstElement *p, *sink;
  GstPad *pad;
  GstBus *bus;
  GstCaps *caps;
  gint64 t0 = g_get_monotonic_time ();
  gint64 deadline = t0 + WR2V_TEST_TIME (90 * G_USEC_PER_SEC);

  memset (r, 0, sizeof (*r));
  r->live_cost = -1.0;
  r->warnings = g_ptr_array_new_with_free_func (g_free);
  p = gst_parse_launch_full (desc, NULL, GST_PARSE_FLAG_FATAL_ERRORS, &err);
  g_assert_no_error (err);
  g_assert_nonnull (p);
  sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_buffer,
      &r->frames, NULL);
  bus = gst_element_get_bus (p);

  if (gst_element_set_state (p, GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    g_test_message ("PLAYING failed (an error message follows)");
  while (!r->eos && !r->error) {
    gint64 left = deadline - g_get_monotonic_time ();
    GstMessage *m = left > 0 ? gst_bus_timed_pop_filtered (bus,
        left * GST_USECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR |
        GST_MESSAGE_WARNING | GST_MESSAGE_ELEMENT) : NULL;

    if (!m) {
      r->error = g_strdup ("no EOS within the time limit");
      break;
    }
    switch (GST_MESSAGE_TYPE (m)) {
      case GST_MESSAGE_EOS:
        r->eos = TRUE;
        break;
      case GST_MESSAGE_ERROR:{
        GError *e = NULL;
        gchar *dbg = NULL;

        gst_message_parse_error (m, &e, &dbg);
        r->error = g_strdup_printf ("%s: %s: %s (%s)",
            GST_MESSAGE_SRC_NAME (m), g_quark_to_string (e->domain),
            e->message, dbg ? dbg : "");
        g_error_free (e);
        g_free (dbg);
        break;
      }
      case GST_MESSAGE_WARNING:{
        GError *e = NULL;

        gst_message_parse_warning (m, &e, NULL);
        g_ptr_array_add (r->warnings, g_strdup (e->message));
        g_error_free (e);
        break;
      }
      case GST_MESSAGE_ELEMENT:
        if (gst_message_get_structure (m))
          element_message (r, gst_message_get_structure (m));
        break;
      default:
        break;
    }
    gst_message_unref (m);
  }

  caps = gst_pad_get_current_caps (pad);
  if (caps) {
    GstStructure *s = gst_caps_get_structure (caps, 0);

    gst_structure_get_int (s, "width", &r->width);
    gst_structure_get_int (s, "height", &r->height);
    gst_structure_get_fraction (s, "framerate", &r->fps_n, &r->fps_d);
    gst_caps_unref (caps);
  }
  r->estimated_cost = estimated_cost (p);
  gst_element_set_state (p, GST_STATE_NULL);
  r->took_ms = (g_get_monotonic_time () - t0) / 1000;
  gst_object_unref (pad);
  gst_object_unref (sink);
  gst_object_unref (bus);
  gst_object_unref (p);
  g_test_message ("%d frames %dx%d at %d/%d in %" G_GINT64_FORMAT " ms%s%s",
      r->frames, r->width, r->height, r->fps_n, r->fps_d, r->took_ms,
      r->error ? ", error: " : "", r->error ? r->error : "");
}

/* The prompt each engine's provider is sent (src/wr2v-prompt.c's table). */
static const gchar *
prompt_for (const gchar * engine)
{
  if (g_str_equal (engine, "dashscope"))
    return PROMPT_PER_TYPE;     /* wan2.7-r2v counts images on their own */
  if (g_str_equal (engine, "comfyui"))
    return PROMPT_COMFYUI;
  if (g_str_equal (engine, "fal"))
    return PROMPT_FAL;          /* fal's "@Video1" [I for 2.7] */
  if (g_str_equal (engine, "replicate"))
    return PROMPT_PER_TYPE;     /* the vendor's count [I] */
  return PROMPT;
}

/* What every run of every engine must show. */
static void
assert_clip (const EngineCase * c, Run * r, gboolean cached)
{
  gboolean b = !cached;

  g_assert_null (r->error);
  g_assert_true (r->eos);
  g_assert_cmpstr (r->chosen, ==, c->engine);
  /* the clip that engine's server served, decoded whole */
  g_assert_cmpint (r->frames, >, 0);
  g_assert_cmpint (r->frames, ==, c->frames);
  g_assert_cmpint (r->width, ==, c->width);
  g_assert_cmpint (r->height, ==, c->height);
  g_assert_cmpint (r->fps_n, ==, c->fps);
  g_assert_cmpint (r->fps_d, ==, 1);

  /* the prompt's numbering: videos first, the image continues */
  g_assert_nonnull (r->references);
  if (r->references) {
    g_assert_cmpstr (gst_structure_get_string (r->references, "video_0"), ==,
        "Video 1");
    g_assert_cmpstr (gst_structure_get_string (r->references, "video_1"), ==,
        "Video 2");
    g_assert_cmpstr (gst_structure_get_string (r->references, "image_0"), ==,
        "Image 3");
  }
  /* the prompt as the engine's provider documents it */
  g_assert_nonnull (r->request);
  if (r->request)
    g_assert_cmpstr (gst_structure_get_string (r->request, "prompt-sent"),
        ==, prompt_for (c->engine));

  g_assert_cmpuint (r->results, ==, 1);
  g_assert_nonnull (r->result);
  if (r->result) {
    const gchar *loc = gst_structure_get_string (r->result, "location");

    g_assert_cmpstr (gst_structure_get_string (r->result, "engine"), ==,
        c->engine);
    g_assert_true (gst_structure_get_boolean (r->result, "cached", &b));
    g_assert_cmpint (b, ==, cached);
    g_assert_nonnull (loc);
    g_assert_true (loc && g_file_test (loc, G_FILE_TEST_IS_REGULAR));
    g_assert_nonnull (gst_structure_get_string (r->result, "job-id"));
  }
  g_assert_cmpuint (r->resumed, ==, 0);
  /* a job is submitted on the first run only, and only by a remote
   * engine (preview renders in place) */
  g_assert_cmpuint (r->submitted, ==, cached || !c->script ? 0 : 1);
}

static const gchar *
result_job_id (Run * r)
{
  const gchar *id = r->result ? gst_structure_get_string (r->result,
      "job-id") : NULL;

  return id ? id : "";
}

/* --- the documented shapes, in the servers' records --------------------- */

static const gchar *
wavespeed_upload_url (JsonArray * uploads, const gchar * filename)
{
  for (guint i = 0; i < arr_len (uploads); i++)
    if (!g_strcmp0 (str (arr_obj (uploads, i), "filename"), filename))
      return str (arr_obj (uploads, i), "url");
  return NULL;
}

static void
check_wavespeed (JsonObject * st, const gchar * job_id)
{
  JsonArray *submits = arr (st, "submits"), *uploads = arr (st, "uploads");
  JsonArray *requests = arr (st, "requests"), *videos;
  JsonObject *submit = arr_obj (submits, 0), *body = obj (submit, "body");
  gchar *server_id = only_member (obj (st, "jobs"));
  const gchar *files[3] = { "video1.mp4", "video2.mp4", "image3.png" };
  const gchar *types[3] = { "video/mp4", "video/mp4", "image/png" };
  const gchar *paths[3] = { ref_video[0], ref_video[1], ref_image };
  guint n_submit_requests = 0;

  /* exactly one submit, to the model's route, with the key */
  g_assert_cmpint (count_of (st, "submit"), ==, 1);
  g_assert_cmpuint (arr_len (submits), ==, 1);
  g_assert_cmpstr (str (submit, "model"), ==, WAVESPEED_MODEL);
  g_assert_cmpint (boolean (submit, "auth_ok"), ==, 1);
  for (guint i = 0; i < arr_len (requests); i++) {
    JsonObject *rq = arr_obj (requests, i);
    JsonObject *h = obj (rq, "headers");
    const gchar *route = str (rq, "route");

    g_assert_cmpstr (route, !=, "other");
    /* every API call carries "Authorization: Bearer <key>" */
    if (!g_strcmp0 (route, "upload") || !g_strcmp0 (route, "submit") ||
        !g_strcmp0 (route, "poll"))
      g_assert_cmpint (boolean (h, "auth_ok"), ==, 1);
    /* the bytes of a ticket upload go to storage without the key */
    if (!g_strcmp0 (route, "upload-put"))
      g_assert_cmpint (boolean (h, "has_authorization"), ==, 0);
    if (!g_strcmp0 (route, "submit")) {
      n_submit_requests++;
      g_assert_cmpstr (str (rq, "method"), ==, "POST");
      g_assert_cmpstr (str (rq, "path"), ==, "/api/v3/" WAVESPEED_MODEL);
      g_assert_true (g_str_has_prefix (header (h, "Content-Type") ?
              header (h, "Content-Type") : "", "application/json"));
    }
  }
  g_assert_cmpuint (n_submit_requests, ==, 1);

  /* the references uploaded as they are, through an upload ticket (a PUT
   * of the bytes), named by their number in the prompt */
  g_assert_cmpint (count_of (st, "upload"), ==, 3);
  g_assert_cmpuint (arr_len (uploads), ==, 3);
  for (guint i = 0; i < 3; i++) {
    JsonObject *up = NULL;

    for (guint j = 0; j < arr_len (uploads); j++)
      if (!g_strcmp0 (str (arr_obj (uploads, j), "filename"), files[i]))
        up = arr_obj (uploads, j);
    g_assert_nonnull (up);
    g_assert_cmpstr (str (up, "content_type"), ==, types[i]);
    g_assert_cmpint (num (up, "size"), ==, file_size (paths[i]));
    g_assert_cmpstr (str (up, "via"), ==, "ticket");
  }

  /* the body: {prompt, videos, image, resolution, duration, ...} */
  g_assert_nonnull (body);
  g_assert_cmpstr (str (body, "prompt"), ==, PROMPT);
  videos = arr (body, "videos");
  g_assert_cmpuint (arr_len (videos), ==, 2);
  g_assert_cmpstr (arr_str (videos, 0), ==, wavespeed_upload_url (uploads,
          files[0]));
  g_assert_cmpstr (arr_str (videos, 1), ==, wavespeed_upload_url (uploads,
          files[1]));
  g_assert_cmpstr (str (body, "image"), ==, wavespeed_upload_url (uploads,
          files[2]));
  /* one image: "image" only [C]; "images" is for more [I] */
  g_assert_false (body && json_object_has_member (body, "images"));
  g_assert_cmpstr (str (body, "resolution"), ==, "720p");
  g_assert_cmpint (num (body, "duration"), ==, DURATION);
  g_assert_cmpint (boolean (body, "enable_prompt_expansion"), ==, 0);
  /* not confirmed for this endpoint [I]: sent only when set */
  g_assert_false (body && json_object_has_member (body, "seed"));
  g_assert_false (body && json_object_has_member (body, "aspect_ratio"));
  g_assert_false (body && json_object_has_member (body, "negative_prompt"));

  /* polled until done, then the clip fetched once */
  g_assert_cmpint (count_of (st, "poll"), >=, 3);
  g_assert_cmpint (count_of (st, "download"), ==, 1);
  g_assert_cmpint (count_of (st, "other"), ==, 0);
  g_assert_cmpstr (job_id, ==, server_id);
  g_free (server_id);
}

static void
check_dashscope (JsonObject * st, const gchar * job_id)
{
  JsonArray *creates = arr (st, "creates"), *uploads = arr (st, "uploads");
  JsonArray *requests = arr (st, "requests"), *media, *policies;
  JsonObject *create = arr_obj (creates, 0), *body = obj (create, "body");
  JsonObject *h = obj (create, "headers"), *input, *params;
  gchar *server_id = only_member (obj (st, "tasks"));
  const gchar *paths[3] = { ref_video[0], ref_video[1], ref_image };
  const gchar *types[3] = { "reference_video", "reference_video",
    "reference_image"
  };
  const gchar *exts[3] = { "mp4", "mp4", "png" };
  guint n_create_requests = 0;

  /* exactly one create, asynchronous, with the key */
  g_assert_cmpint (count_of (st, "create"), ==, 1);
  g_assert_cmpuint (arr_len (creates), ==, 1);
  g_assert_cmpint (boolean (create, "auth_ok"), ==, 1);
  g_assert_cmpstr (header (h, "X-DashScope-Async"), ==, "enable");
  /* the references are oss:// objects: resolved only when asked to */
  g_assert_cmpstr (header (h, "X-DashScope-OssResourceResolve"), ==, "enable");
  g_assert_true (g_str_has_prefix (header (h, "Content-Type") ?
          header (h, "Content-Type") : "", "application/json"));
  for (guint i = 0; i < arr_len (requests); i++) {
    JsonObject *rq = arr_obj (requests, i);
    const gchar *route = str (rq, "route");

    g_assert_cmpstr (route, !=, "other");
    if (!g_strcmp0 (route, "policy") || !g_strcmp0 (route, "create") ||
        !g_strcmp0 (route, "poll"))
      g_assert_cmpint (boolean (obj (rq, "headers"), "auth_ok"), ==, 1);
    if (!g_strcmp0 (route, "create")) {
      n_create_requests++;
      g_assert_cmpstr (str (rq, "method"), ==, "POST");
      g_assert_cmpstr (str (rq, "path"), ==, DASHSCOPE_CREATE);
    }
  }
  g_assert_cmpuint (n_create_requests, ==, 1);

  /* the temporary upload: policies for the model, then OSS PostObject
   * without the Bearer key, the file last */
  policies = arr (st, "policies");
  g_assert_cmpint (count_of (st, "policy"), >=, 1);
  g_assert_cmpuint (arr_len (policies), >=, 1);
  for (guint i = 0; i < arr_len (policies); i++)
    g_assert_cmpstr (str (arr_obj (policies, i), "model"), ==, DASHSCOPE_MODEL);
  g_assert_cmpint (count_of (st, "upload"), ==, 3);
  g_assert_cmpuint (arr_len (uploads), ==, 3);
  for (guint i = 0; i < arr_len (uploads); i++) {
    JsonObject *up = arr_obj (uploads, i);
    JsonArray *fields = arr (up, "fields");

    g_assert_cmpint (boolean (up, "has_authorization"), ==, 0);
    g_assert_cmpstr (arr_str (fields, arr_len (fields) - 1), ==, "file");
    g_assert_cmpstr (str (obj (up, "values"), "success_action_status"), ==,
        "200");
  }

  /* the body: {model, input {prompt, media}, parameters} */
  g_assert_nonnull (body);
  g_assert_cmpstr (str (body, "model"), ==, DASHSCOPE_MODEL);
  input = obj (body, "input");
  params = obj (body, "parameters");
  g_assert_nonnull (input);
  g_assert_nonnull (params);
  /* wan2.7-r2v counts images on their own: Image 3 is sent as Image 1 */
  g_assert_cmpstr (str (input, "prompt"), ==, PROMPT_PER_TYPE);
  g_assert_false (input && json_object_has_member (input, "negative_prompt"));
  media = arr (input, "media");
  g_assert_cmpuint (arr_len (media), ==, 3);
  for (guint i = 0; i < 3; i++) {
    JsonObject *item = arr_obj (media, i);
    const gchar *url = str (item, "url");
    gchar *sha = file_sha256 (paths[i]);
    gchar *tail = g_strdup_printf ("/%s.%s", sha, exts[i]);
    gboolean stored = FALSE;

    /* in prompt order: Video 1, Video 2, Image 3, each the object its
     * file was uploaded as (named by its content's sha256) */
    g_assert_cmpstr (str (item, "type"), ==, types[i]);
    g_assert_true (url && g_str_has_prefix (url, "oss://"));
    g_assert_true (url && g_str_has_suffix (url, tail));
    for (guint j = 0; url && j < arr_len (uploads); j++) {
      JsonObject *up = arr_obj (uploads, j);

      if (!g_strcmp0 (str (obj (up, "values"), "key"), url + 6)) {
        stored = TRUE;
        g_assert_cmpint (num (up, "size"), ==, file_size (paths[i]));
      }
    }
    g_assert_true (stored);
    g_free (tail);
    g_free (sha);
  }
  g_assert_cmpstr (str (params, "resolution"), ==, "720P");
  g_assert_cmpint (num (params, "duration"), ==, DURATION);
  g_assert_cmpint (boolean (params, "prompt_extend"), ==, 0);
  g_assert_cmpint (boolean (params, "watermark"), ==, 0);
  /* only when set */
  g_assert_false (params && json_object_has_member (params, "ratio"));
  g_assert_false (params && json_object_has_member (params, "seed"));

  g_assert_cmpint (count_of (st, "poll"), >=, 3);
  g_assert_cmpint (count_of (st, "download"), ==, 1);
  g_assert_cmpstr (job_id, ==, server_id);
  g_free (server_id);
}

static JsonObject *
node_inputs (JsonObject * graph, const gchar * node)
{
  return obj (obj (graph, node), "inputs");
}

static void
check_comfyui (JsonObject * st, const gchar * job_id)
{
  JsonArray *prompts = arr (st, "prompts"), *uploads = arr (st, "uploads");
  JsonArray *views = arr (st, "views");
  JsonObject *body = arr_obj (prompts, 0), *graph = obj (body, "prompt");
  JsonObject *up = arr_obj (uploads, 0), *vace;
  gchar *server_id = only_member (obj (st, "jobs"));
  gchar *graph_text = graph ? to_json (graph) : g_strdup ("");
  const gchar *client_id = str (body, "client_id");
  const gchar *neg;
  gint64 w, h, len;

  /* exactly one /prompt */
  g_assert_cmpint (count_of (st, "prompt"), ==, 1);
  g_assert_cmpuint (arr_len (prompts), ==, 1);
  g_assert_nonnull (graph);
  g_assert_true (client_id && g_str_has_prefix (client_id, "wanr2v-"));

  /* one /upload/image: the references composed into one PNG of the
   * render size (the default workflow's one LoadImage) */
  g_assert_cmpint (count_of (st, "upload"), ==, 1);
  g_assert_cmpuint (arr_len (uploads), ==, 1);
  g_assert_cmpstr (str (up, "content_type"), ==, "image/png");
  g_assert_cmpint (num (up, "size"), >, 1000);
  g_assert_true (has_string (arr (up, "fields"), "image"));

  /* the shipped workflow, every placeholder filled in */
  g_assert_null (strstr (graph_text, "{{"));
  g_assert_cmpstr (str (node_inputs (graph, "1"), "unet_name"), ==,
      "wan2.1_vace_1.3B_fp16.safetensors");
  /* "Video 1" / "Image 3" are the columns of the composed image */
  g_assert_cmpstr (str (node_inputs (graph, "4"), "text"), ==, PROMPT_COMFYUI);
  neg = str (node_inputs (graph, "5"), "text");
  g_assert_nonnull (neg);
  g_assert_cmpstr (str (node_inputs (graph, "6"), "image"), ==,
      str (up, "name"));
  vace = node_inputs (graph, "7");
  w = num (vace, "width");
  h = num (vace, "height");
  len = num (vace, "length");
  g_assert_cmpint (w, >, 0);
  g_assert_cmpint (h, >, 0);
  g_assert_cmpint (w % 16, ==, 0);
  g_assert_cmpint (h % 16, ==, 0);
  /* 16:9 on the 480p 1.3B model */
  g_assert_cmpint (w, ==, 832);
  g_assert_cmpint (h, ==, 480);
  g_assert_cmpint (num (up, "width"), ==, w);
  g_assert_cmpint (num (up, "height"), ==, h);
  g_assert_cmpint ((len - 1) % 4, ==, 0);
  g_assert_cmpint (len, ==, 16 * DURATION + 1);
  g_assert_cmpint (num (node_inputs (graph, "9"), "seed"), >=, 0);
  g_assert_cmpint (num (node_inputs (graph, "12"), "fps"), ==, 16);

  /* polled until done, the clip fetched from /view as SaveVideo said */
  g_assert_cmpint (count_of (st, "history"), >=, 3);
  g_assert_cmpint (count_of (st, "view"), ==, 1);
  g_assert_cmpuint (arr_len (views), ==, 1);
  g_assert_cmpstr (str (arr_obj (views, 0), "filename"), ==,
      "wanr2v_00001_.mp4");
  g_assert_cmpstr (str (arr_obj (views, 0), "type"), ==, "output");
  g_assert_cmpint (count_of (st, "interrupt"), ==, 0);
  g_assert_cmpint (count_of (st, "queue-post"), ==, 0);
  g_assert_cmpint (count_of (st, "other"), ==, 0);
  g_assert_cmpstr (job_id, ==, server_id);
  g_free (graph_text);
  g_free (server_id);
}

/* After both runs (fetching counts as a request): each URL WaveSpeed was
 * given serves the bytes of the reference it names. */
static void
check_wavespeed_media (Wr2vFakeServer * server, JsonObject * st)
{
  JsonObject *body = obj (arr_obj (arr (st, "submits"), 0), "body");
  JsonArray *videos = arr (body, "videos");
  const gchar *urls[3] = { arr_str (videos, 0), arr_str (videos, 1),
    str (body, "image")
  };
  const gchar *paths[3] = { ref_video[0], ref_video[1], ref_image };

  for (guint i = 0; i < 3; i++) {
    gchar *want = file_sha256 (paths[i]);
    gchar *got = urls[i] ? server_get_sha256 (server, urls[i]) : g_strdup ("");

    g_assert_cmpstr (got, ==, want);
    g_free (got);
    g_free (want);
  }
}

/* --- fal and Replicate: the queue-style hosts (fakehosted.py) ---------- */

/* the names each host's uploads were given, by the references' numbers */
static const gchar *const fal_names[3] = {
  "video1.mp4", "video2.mp4", "image3.png"
};

static const gchar *const replicate_names[3] = {
  "Video1.mp4", "Video2.mp4", "Image3.png"
};

/* Every request went to a known route; those of @auth_routes carried the
 * key; exactly one went to "submit", a POST of JSON to @submit_path. */
static void
check_hosted_requests (JsonObject * st, const gchar * const *auth_routes,
    const gchar * submit_path)
{
  JsonArray *requests = arr (st, "requests");
  guint submits = 0;

  g_assert_cmpint (count_of (st, "submit"), ==, 1);
  g_assert_cmpuint (arr_len (arr (st, "submits")), ==, 1);
  g_assert_cmpint (boolean (arr_obj (arr (st, "submits"), 0), "auth_ok"), ==,
      1);
  for (guint i = 0; i < arr_len (requests); i++) {
    JsonObject *rq = arr_obj (requests, i), *h = obj (rq, "headers");
    const gchar *route = str (rq, "route");

    g_assert_cmpstr (route, !=, "other");
    if (g_strv_contains (auth_routes, route ? route : ""))
      g_assert_cmpint (boolean (h, "auth_ok"), ==, 1);
    if (g_strcmp0 (route, "submit"))
      continue;
    submits++;
    g_assert_cmpstr (str (rq, "method"), ==, "POST");
    g_assert_cmpstr (str (rq, "path"), ==, submit_path);
    g_assert_true (g_str_has_prefix (header (h, "Content-Type") ?
            header (h, "Content-Type") : "", "application/json"));
  }
  g_assert_cmpuint (submits, ==, 1);
  g_assert_cmpint (count_of (st, "download"), ==, 1);
  g_assert_cmpuint (arr_len (arr (st, "uploads")), ==, 3);
}

/* The three references were uploaded under @names (the upload record's
 * @name_member), whole, and the body names each by its upload's URL, in
 * prompt order: @videos two, @images one. */
static void
check_hosted_uploads (JsonObject * st,
    const gchar * name_member, const gchar * const names[3],
    JsonArray * videos, JsonArray * images)
{
  JsonArray *uploads = arr (st, "uploads");
  const gchar *paths[3] = { ref_video[0], ref_video[1], ref_image };
  const gchar *sent[3] = { arr_str (videos, 0), arr_str (videos, 1),
    arr_str (images, 0)
  };

  g_assert_cmpuint (arr_len (videos), ==, 2);
  g_assert_cmpuint (arr_len (images), ==, 1);
  for (guint i = 0; i < 3; i++) {
    JsonObject *up = NULL;

    for (guint j = 0; j < arr_len (uploads); j++)
      if (!g_strcmp0 (str (arr_obj (uploads, j), name_member), names[i]))
        up = arr_obj (uploads, j);
    g_assert_nonnull (up);
    g_assert_cmpstr (str (up, "content_type"), ==,
        i < 2 ? "video/mp4" : "image/png");
    g_assert_cmpint (num (up, "size"), ==, file_size (paths[i]));
    g_assert_cmpstr (sent[i], ==, str (up, "url"));
  }
}

/* After both runs (fetching counts as a request): each upload's URL
 * serves the bytes of the reference it names. */
static void
check_hosted_media (Wr2vFakeServer * server, JsonObject * st,
    const gchar * name_member, const gchar * const names[3])
{
  JsonArray *uploads = arr (st, "uploads");
  const gchar *paths[3] = { ref_video[0], ref_video[1], ref_image };

  for (guint i = 0; i < 3; i++) {
    gchar *want = file_sha256 (paths[i]), *got = g_strdup ("");

    for (guint j = 0; j < arr_len (uploads); j++) {
      JsonObject *up = arr_obj (uploads, j);

      if (!g_strcmp0 (str (up, name_member), names[i])) {
        g_free (got);
        got = server_get_sha256 (server, str (up, "url"));
      }
    }
    g_assert_cmpstr (got, ==, want);
    g_free (got);
    g_free (want);
  }
}

/* What neither host is sent unless the user set it. */
static void
check_unset_fields (JsonObject * body, const gchar * engine)
{
  g_assert_nonnull (body);
  g_assert_cmpstr (str (body, "prompt"), ==, prompt_for (engine));
  g_assert_cmpstr (str (body, "resolution"), ==, "720p");
  g_assert_false (body && json_object_has_member (body, "seed"));
  g_assert_false (body && json_object_has_member (body, "aspect_ratio"));
  g_assert_false (body && json_object_has_member (body, "negative_prompt"));
}

/* fal: storage initiate with the key, PUT without it, POST /{model},
 * status then result under the app (fal-ai/wan), every call
 * "Authorization: Key". */
static void
check_fal (JsonObject * st, const gchar * job_id)
{
  const gchar *auth[] = { "upload", "submit", "status", "result", NULL };
  JsonObject *submit = arr_obj (arr (st, "submits"), 0);
  JsonObject *body = obj (submit, "body");
  JsonArray *requests = arr (st, "requests");
  gchar *server_id = only_member (obj (st, "jobs"));

  check_hosted_requests (st, auth, "/" FAL_MODEL);
  g_assert_cmpstr (str (submit, "model"), ==, FAL_MODEL);
  for (guint i = 0; i < arr_len (requests); i++) {
    JsonObject *rq = arr_obj (requests, i);
    const gchar *route = str (rq, "route"), *path = str (rq, "path");

    if (!g_strcmp0 (route, "put"))
      g_assert_cmpint (boolean (obj (rq, "headers"), "has_authorization"),
          ==, 0);
    if (!g_strcmp0 (route, "status") || !g_strcmp0 (route, "result"))
      g_assert_true (path && g_str_has_prefix (path, "/fal-ai/wan/requests/"));
  }
  g_assert_cmpint (count_of (st, "upload"), ==, 3);
  g_assert_cmpint (count_of (st, "put"), ==, 3);
  check_hosted_uploads (st, "file_name", fal_names,
      arr (body, "reference_video_urls"), arr (body, "reference_image_urls"));
  check_unset_fields (body, "fal");
  g_assert_cmpstr (str (body, "duration"), ==, "5");
  g_assert_cmpint (boolean (body, "enable_prompt_expansion"), ==, 0);
  g_assert_cmpint (count_of (st, "status"), >=, 3);
  g_assert_cmpint (count_of (st, "result"), ==, 1);
  g_assert_cmpint (count_of (st, "cancel"), ==, 0);
  g_assert_cmpstr (job_id, ==, server_id);
  g_free (server_id);
}

/* Replicate: POST /v1/files (field "content"), POST
 * /v1/models/{model}/predictions {"input": {...}}, GET
 * /v1/predictions/{id}, every call Bearer. */
static void
check_replicate (JsonObject * st, const gchar * job_id)
{
  const gchar *auth[] = { "upload", "submit", "poll", NULL };
  JsonObject *submit = arr_obj (arr (st, "submits"), 0);
  JsonObject *input = obj (obj (submit, "body"), "input");
  JsonArray *uploads = arr (st, "uploads");
  gchar *server_id = only_member (obj (st, "jobs"));

  check_hosted_requests (st, auth,
      "/v1/models/" REPLICATE_MODEL "/predictions");
  g_assert_cmpstr (str (submit, "model"), ==, REPLICATE_MODEL);
  g_assert_cmpint (count_of (st, "upload"), ==, 3);
  for (guint i = 0; i < arr_len (uploads); i++)
    g_assert_cmpstr (arr_str (arr (arr_obj (uploads, i), "fields"), 0), ==,
        "content");
  check_hosted_uploads (st, "filename", replicate_names,
      arr (input, "reference_videos"), arr (input, "reference_images"));
  check_unset_fields (input, "replicate");
  g_assert_cmpint (num (input, "duration"), ==, DURATION);
  g_assert_cmpint (count_of (st, "poll"), >=, 3);
  g_assert_cmpint (count_of (st, "cancel"), ==, 0);
  g_assert_cmpstr (job_id, ==, server_id);
  g_free (server_id);
}

/* --- the test ---------------------------------------------------------- */

/* A fresh directory for @c (under tmp_root/@sub when @sub is set), with
 * the clip its fake server serves and the server (NULL for preview). */
static Wr2vFakeServer *
case_start (const EngineCase * c, const gchar * sub, gchar ** dir,
    gchar ** cache, gchar ** clip)
{
  *dir = g_build_filename (tmp_root, sub ? sub : c->engine,
      sub ? c->engine : NULL, NULL);
  g_assert_cmpint (g_mkdir_with_parents (*dir, 0700), ==, 0);
  /* fresh: it does not exist yet */
  *cache = g_build_filename (*dir, "cache", NULL);
  g_assert_false (g_file_test (*cache, G_FILE_TEST_EXISTS));
  *clip = NULL;
  if (!c->script)
    return NULL;
  *clip = g_build_filename (*dir, "served.mp4", NULL);
  g_assert_true (make_served_clip (c, *clip));
  /* what the server will serve, counted by decoding it */
  g_assert_cmpuint (count_frames_of (*clip), ==, c->frames);
  return server_start (c, *clip);
}

/* Frees what case_start() and the two runs made; the directory goes
 * unless the test failed. */
static void
case_finish (Run * r1, Run * r2, JsonNode * s1, JsonNode * s2,
    Wr2vFakeServer * server, gchar * dir)
{
  run_clear (r1);
  run_clear (r2);
  if (s1)
    json_node_unref (s1);
  if (s2)
    json_node_unref (s2);
  if (server)
    wr2v_fake_server_stop (server);
  set_credentials (NULL);
  if (!g_test_failed ())
    wr2v_test_rm_rf (dir);
  g_free (dir);
}

static void
test_engine (gconstpointer data)
{
  const EngineCase *c = data;
  gchar *dir, *cache, *clip, *desc, *desc2;
  gchar *first_id = NULL;
  Wr2vFakeServer *server;
  JsonNode *s1 = NULL, *s2 = NULL;
  JsonObject *st1 = NULL, *st2 = NULL;
  Run r1, r2;

  if (!have_media) {
    g_test_skip ("could not make the test media (x264enc, pngenc?)");
    return;
  }
  server = case_start (c, NULL, &dir, &cache, &clip);
  set_credentials (c);

  /* --- first run: generated through the engine --- */
  desc = describe (c, server ? server->base : NULL, cache);
  g_test_message ("%s", desc);
  run_pipeline (desc, &r1);
  assert_clip (c, &r1, FALSE);
  first_id = g_strdup (result_job_id (&r1));
  if (c->script) {
    const gchar *loc = r1.result ?
        gst_structure_get_string (r1.result, "location") : NULL;

    /* stored as delivered, byte for byte */
    g_assert_true (loc && same_bytes (loc, clip));
    g_assert_cmpstr (first_id, !=, "");
    g_assert_cmpstr (r1.submitted_id, ==, first_id);
    g_test_message ("job id %s", first_id);

    s1 = wr2v_fake_server_stats (server);
    g_assert_nonnull (s1);
    st1 = s1 ? json_node_get_object (s1) : NULL;
    if (g_str_equal (c->engine, "wavespeed")) {
      check_wavespeed (st1, first_id);
      /* the live price, asked before the submit, is estimated-cost */
      g_assert_cmpfloat_with_epsilon (r1.live_cost, 1.23, 1e-9);
      g_assert_cmpfloat_with_epsilon (r1.estimated_cost, 1.23, 1e-9);
    } else if (g_str_equal (c->engine, "dashscope"))
      check_dashscope (st1, first_id);
    else if (g_str_equal (c->engine, "fal"))
      check_fal (st1, first_id);
    else if (g_str_equal (c->engine, "replicate"))
      check_replicate (st1, first_id);
    else
      check_comfyui (st1, first_id);
  }
  if (g_str_equal (c->engine, "comfyui")) {
    gboolean said = FALSE;

    /* 720p asked, 480p made: said, not silent */
    for (guint i = 0; i < r1.warnings->len; i++)
      said |= strstr (g_ptr_array_index (r1.warnings, i), "832x480") != NULL;
    g_assert_true (said);
  } else {
    g_assert_cmpuint (r1.warnings->len, ==, 0);
  }

  /* --- second run, same cache-dir: from the result store --- */
  desc2 = describe (c, server ? server->base : NULL, cache);
  g_assert_cmpstr (desc2, ==, desc);
  set_credentials (c);
  run_pipeline (desc2, &r2);
  assert_clip (c, &r2, TRUE);
  g_assert_cmpstr (result_job_id (&r2), ==, first_id);
  if (r1.result && r2.result)
    g_assert_cmpstr (gst_structure_get_string (r2.result, "location"), ==,
        gst_structure_get_string (r1.result, "location"));
  if (server) {
    gchar *c1, *c2;

    s2 = wr2v_fake_server_stats (server);
    g_assert_nonnull (s2);
    st2 = s2 ? json_node_get_object (s2) : NULL;
    g_assert_cmpint (total_requests (st1), >, 0);
    /* not one request more, on any route */
    g_assert_cmpint (total_requests (st2), ==, total_requests (st1));
    c1 = to_json (obj (st1, "counts"));
    c2 = to_json (obj (st2, "counts"));
    g_assert_cmpstr (c2, ==, c1);
    g_free (c1);
    g_free (c2);
    if (g_str_equal (c->engine, "wavespeed"))
      check_wavespeed_media (server, st1);
    else if (g_str_equal (c->engine, "fal"))
      check_hosted_media (server, st1, "file_name", fal_names);
    else if (g_str_equal (c->engine, "replicate"))
      check_hosted_media (server, st1, "filename", replicate_names);
  }

  g_test_message ("%s: first run %" G_GINT64_FORMAT " ms, second %"
      G_GINT64_FORMAT " ms", c->engine, r1.took_ms, r2.took_ms);
  case_finish (&r1, &r2, s1, s2, server, dir);
  g_free (first_id);
  g_free (desc);
  g_free (desc2);
  g_free (clip);
  g_free (cache);
}

/* --- either numbering (issue 12) ------------------------------------- */

/* The prompt @c's fake server was sent, from its records. */
static const gchar *
prompt_received (const EngineCase * c, JsonObject * st)
{
  if (g_str_equal (c->engine, "wavespeed"))
    return str (obj (arr_obj (arr (st, "submits"), 0), "body"), "prompt");
  if (g_str_equal (c->engine, "dashscope"))
    return str (obj (obj (arr_obj (arr (st, "creates"), 0), "body"),
            "input"), "prompt");
  if (g_str_equal (c->engine, "fal"))
    return str (obj (arr_obj (arr (st, "submits"), 0), "body"), "prompt");
  if (g_str_equal (c->engine, "replicate"))
    return str (obj (obj (arr_obj (arr (st, "submits"), 0), "body"),
            "input"), "prompt");
  return str (node_inputs (obj (arr_obj (arr (st, "prompts"), 0), "prompt"),
          "4"), "text");
}

static void
assert_no_numbering_warning (Run * r)
{
  for (guint i = 0; i < r->warnings->len; i++)
    g_assert_null (strstr (g_ptr_array_index (r->warnings, i),
            "reference-numbering"));
}

/* The prompt written the vendor's way (auto reads it per-type: Image 3 is
 * not linked) reaches each engine in its provider's form; written the
 * other way it is the same job, found in the store and not paid again. */
static void
test_per_type (gconstpointer data)
{
  const EngineCase *c = data;
  gchar *dir, *cache, *clip, *desc, *desc2;
  Wr2vFakeServer *server;
  JsonNode *s1 = NULL, *s2 = NULL;
  Run r1, r2;

  if (!have_media) {
    g_test_skip ("could not make the test media (x264enc, pngenc?)");
    return;
  }
  server = case_start (c, "per-type", &dir, &cache, &clip);
  set_credentials (c);

  desc = describe_prompt (c, server ? server->base : NULL, cache,
      PROMPT_PER_TYPE);
  run_pipeline (desc, &r1);
  assert_clip (c, &r1, FALSE);
  assert_no_numbering_warning (&r1);
  g_assert_nonnull (r1.request);
  if (r1.request) {
    g_assert_cmpstr (gst_structure_get_string (r1.request, "prompt"), ==,
        PROMPT_PER_TYPE);
    g_assert_cmpstr (gst_structure_get_string (r1.request,
            "reference-numbering"), ==, "per-type");
  }
  if (server) {
    s1 = wr2v_fake_server_stats (server);
    g_assert_nonnull (s1);
    if (s1)
      g_assert_cmpstr (prompt_received (c, json_node_get_object (s1)), ==,
          prompt_for (c->engine));
  }

  /* the continuing spelling of the same prompt: the same job */
  desc2 = describe_prompt (c, server ? server->base : NULL, cache, PROMPT);
  set_credentials (c);
  run_pipeline (desc2, &r2);
  assert_clip (c, &r2, TRUE);
  assert_no_numbering_warning (&r2);
  if (server) {
    s2 = wr2v_fake_server_stats (server);
    if (s1 && s2)
      g_assert_cmpint (total_requests (json_node_get_object (s2)), ==,
          total_requests (json_node_get_object (s1)));
  }
  case_finish (&r1, &r2, s1, s2, server, dir);
  g_free (desc);
  g_free (desc2);
  g_free (clip);
  g_free (cache);
}

/* One video and @images images (image_0, image_1: the same PNG) on the
 * preview engine, 1 s. */
static void
run_preview (const gchar * prompt, guint images, Run * r)
{
  gchar *cache = g_build_filename (tmp_root, "preview-numbering", NULL);
  gchar *desc = g_strdup_printf ("wanr2v name=w engine=preview "
      "cache-dir=\"%s\" prompt=\"%s\" duration=1 ! videoconvert ! "
      "fakesink name=sink sync=false filesrc location=\"%s\" ! w.video_0 "
      "filesrc location=\"%s\" ! w.image_0%s%s%s", cache, prompt,
      ref_video[0], ref_image, images > 1 ? " filesrc location=\"" : "",
      images > 1 ? ref_image : "", images > 1 ? "\" ! w.image_1" : "");

  run_pipeline (desc, r);
  g_assert_null (r->error);
  g_assert_true (r->eos);
  g_assert_cmpint (r->frames, ==, 30);
  g_assert_nonnull (r->request);
  g_free (desc);
  g_free (cache);
}

/* The new user's prompt: "Video 1 greets Image 1" with one video and one
 * image works; "Image 2" with one video and two images works too, read
 * as continuing, with a warning that says how to choose. */
static void
test_preview_numbering (void)
{
  Run r;

  if (!have_media) {
    g_test_skip ("could not make the test media (x264enc, pngenc?)");
    return;
  }
  run_preview ("Video 1 greets Image 1", 1, &r);
  g_assert_cmpuint (r.warnings->len, ==, 0);
  if (r.request) {
    g_assert_cmpstr (gst_structure_get_string (r.request, "prompt-sent"), ==,
        "Video 1 greets Image 2");
    g_assert_cmpstr (gst_structure_get_string (r.request,
            "reference-numbering"), ==, "per-type");
  }
  run_clear (&r);

  run_preview ("Video 1 holds Image 2", 2, &r);
  g_assert_cmpuint (r.warnings->len, ==, 1);
  if (r.warnings->len == 1) {
    const gchar *w = g_ptr_array_index (r.warnings, 0);

    g_assert_nonnull (strstr (w, "Image 2, which is image_0"));
    g_assert_nonnull (strstr (w, "reference-numbering=per-type"));
  }
  if (r.request) {
    g_assert_cmpstr (gst_structure_get_string (r.request, "prompt-sent"), ==,
        "Video 1 holds Image 2");
    g_assert_cmpstr (gst_structure_get_string (r.request,
            "reference-numbering"), ==, "continuing");
  }
  run_clear (&r);
}

/* The element's work dirs (in TMPDIR) must not outlive the runs. */
static void
assert_no_work_dirs (const gchar * tmpdir)
{
  GDir *d = g_dir_open (tmpdir, 0, NULL);
  const gchar *name;

  while (d && (name = g_dir_read_name (d)))
    if (g_str_has_prefix (name, "wanr2v-"))
      g_error ("left behind: %s/%s", tmpdir, name);
  if (d)
    g_dir_close (d);
}

int
main (int argc, char **argv)
{
  gchar *tmpdir;
  gint ret;

  g_test_init (&argc, &argv, NULL);
  /* one wrong field fails its case, the other checks still run */
  g_test_set_nonfatal_assertions ();

  /* the element's work dirs go to TMPDIR: a private one, checked at the
   * end */
  tmp_root = g_dir_make_tmp ("wanr2v-pipeline-engines-XXXXXX", NULL);
  g_assert_nonnull (tmp_root);
  tmpdir = g_build_filename (tmp_root, "tmp", NULL);
  g_mkdir (tmpdir, 0700);
  g_setenv ("TMPDIR", tmpdir, TRUE);
  g_unsetenv ("WAVESPEED_API_KEY");
  g_unsetenv ("DASHSCOPE_API_KEY");
  g_unsetenv ("FAL_KEY");
  g_unsetenv ("REPLICATE_API_TOKEN");

  /* comfyui's shipped default workflow, from the source tree */
  if (!g_getenv ("WANR2V_DATADIR")) {
    gchar *data = g_build_filename (wr2v_test_srcdir (), "..", "data", NULL);

    g_setenv ("WANR2V_DATADIR", data, TRUE);
    g_free (data);
  }
  gst_init (&argc, &argv);

  have_media = make_references ();

  g_test_add_data_func ("/pipeline-engines/preview", &preview_case,
      test_engine);
  g_test_add_data_func ("/pipeline-engines/wavespeed", &wavespeed_case,
      test_engine);
  g_test_add_data_func ("/pipeline-engines/dashscope", &dashscope_case,
      test_engine);
  g_test_add_data_func ("/pipeline-engines/fal", &fal_case, test_engine);
  g_test_add_data_func ("/pipeline-engines/replicate", &replicate_case,
      test_engine);
  g_test_add_data_func ("/pipeline-engines/comfyui", &comfyui_case,
      test_engine);
  g_test_add_func ("/pipeline-engines/numbering/preview",
      test_preview_numbering);
  g_test_add_data_func ("/pipeline-engines/numbering/wavespeed",
      &wavespeed_case, test_per_type);
  g_test_add_data_func ("/pipeline-engines/numbering/dashscope",
      &dashscope_case, test_per_type);
  g_test_add_data_func ("/pipeline-engines/numbering/fal", &fal_case,
      test_per_type);
  g_test_add_data_func ("/pipeline-engines/numbering/replicate",
      &replicate_case, test_per_type);
  g_test_add_data_func ("/pipeline-engines/numbering/comfyui",
      &comfyui_case, test_per_type);

  ret = g_test_run ();

  assert_no_work_dirs (tmpdir);
  if (!ret)
    wr2v_test_rm_rf (tmp_root);
  else
    g_printerr ("kept %s\n", tmp_root);
  g_free (tmpdir);
  g_free (tmp_root);
  g_free (ref_video[0]);
  g_free (ref_video[1]);
  g_free (ref_image);
  return ret;
}
