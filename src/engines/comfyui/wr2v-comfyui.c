/* wr2v-comfyui.c: open Wan models on the user's own GPU, through
 * ComfyUI's HTTP API (../shared/docs/providers.md, "ComfyUI").
 *
 * The job is a ComfyUI graph in API format: the `workflow` property, else
 * the shipped Wan2.1 VACE 1.3B reference-to-video graph
 * (data/comfyui/wan21-vace-1.3b-r2v.json). Placeholders in it are filled in
 * by walking the parsed JSON tree: a string value exactly equal to one of
 *   "{{prompt}}", "{{negative_prompt}}", "{{reference_image}}"  (strings)
 *   "{{reference_images}}"  (a JSON array of uploaded image names)
 *   "{{seed}}", "{{width}}", "{{height}}", "{{length}}", "{{fps}}" (numbers)
 * is replaced; any other "{{...}}" is refused, so that nothing is silently
 * left unfilled.
 *
 * References. The core WanVaceToVideo node takes ONE reference_image, so
 * all linked references are composed into one image: the first frame of
 * each (the image itself for an image reference) is fitted into its own
 * column of a white canvas of the output size, left to right in prompt
 * order, by GStreamer's compositor, and encoded to PNG. The prompt's
 * "Video 1" / "Image 3" become "reference subject 1" / "reference subject
 * 3", the Nth column from the left (wr2v_prompt_translate). A workflow that
 * takes a batch instead (e.g. Phantom-Wan's WanPhantomSubjectToVideo fed by
 * a node that loads a list of images) uses "{{reference_images}}": each
 * reference then gets its own canvas and upload, and the placeholder
 * becomes the JSON array of their names. A workflow with neither
 * placeholder is refused: the references would be ignored.
 *
 * Sizes: Wan2.1 runs at 16 fps; length = 16 * duration + 1 frames (4k+1,
 * as its VAE packs 4 frames per latent after the first), width and height
 * are multiples of 16. VACE 1.3B is a 480p model: with the default
 * workflow (or any workflow that loads a "1.3B" model) the clip is 832x480
 * (480x832 portrait, 480x480 square, 640x480 / 480x640 for 4:3 / 3:4)
 * whatever resolution says, and a warning says so (GST_WARNING and a
 * "wanr2v/warning" element message). 720p needs the 14B model in a custom
 * workflow; 1080p is rounded down to 1072 lines.
 *
 * The job is local and free: no key, no cost; a local job may take an
 * hour (default request-timeout 7200 s). Its sampler steps come from
 * ComfyUI's websocket, read at each poll (see "progress over the
 * websocket" below); the history alone is enough without it. When the pipeline stops mid-job,
 * cancel_remote removes it from ComfyUI's queue and interrupts it if it
 * runs, to free the GPU. A submit is never retried; if its answer is lost,
 * the prompts queued under this submit's client_id are removed again.
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>
#include <gst/app/app.h>
#include <gst/video/video.h>
#include <json-glib/json-glib.h>

#include "wr2v-defaults.h"
#include "wr2v-engine.h"
#include "wr2v-error.h"
#include "wr2v-http.h"
#include "wr2v-parsers.h"
#include "wr2v-prompt.h"
#include "wr2v-websocket.h"

GST_DEBUG_CATEGORY_STATIC (wr2v_comfyui_debug);
#define GST_CAT_DEFAULT wr2v_comfyui_debug

#define ENGINE_NAME "comfyui"
#define DEFAULT_API_URL "http://127.0.0.1:8188"
#define DEFAULT_WORKFLOW "wan21-vace-1.3b-r2v.json"
/* an hour-long job is normal on a local GPU */

/* Wan2.1 [C: providers.md]: 16 fps, frames 4k+1, sizes in steps of 16 */
#define WAN_FPS 16
#define SIZE_STEP 16
#define MIN_DURATION 1
#define MAX_DURATION 10

#define MAX_WORKFLOW_BYTES (4 * 1024 * 1024)
#define API_TIMEOUT_S 30
#define SUBMIT_TIMEOUT_S 60
/* cancel_remote runs after the job's cancellable fired: short, on its own */
#define CANCEL_TIMEOUT_S 2
#define FRAME_TIMEOUT_S 60
/* the progress websocket: the most its opening may take, and the most
 * message bytes taken from it per poll */
#define WS_TIMEOUT_S 5
#define WS_DRAIN_BYTES (8 * 1024 * 1024)
/* white space between composed references, so they read as separate */
#define COMPOSE_GUTTER 8

/* used when the request has no negative prompt */
#define DEFAULT_NEGATIVE_PROMPT "blurry, low quality, distorted faces, " \
  "deformed hands, extra limbs, flickering, jitter, static frame, " \
  "watermark, text, subtitles"

#ifndef WANR2V_PKGDATADIR
#define WANR2V_PKGDATADIR NULL
#endif
#ifndef WANR2V_SRC_DATADIR
#define WANR2V_SRC_DATADIR NULL
#endif

typedef enum
{
  PH_PROMPT = 1 << 0,
  PH_NEGATIVE = 1 << 1,
  PH_REFERENCE = 1 << 2,
  PH_REFERENCES = 1 << 3,
  PH_SEED = 1 << 4,
  PH_WIDTH = 1 << 5,
  PH_HEIGHT = 1 << 6,
  PH_LENGTH = 1 << 7,
  PH_FPS = 1 << 8,
} Placeholder;

static const struct
{
  const gchar *token;
  Placeholder flag;
} placeholders[] = {
  {"{{prompt}}", PH_PROMPT},
  {"{{negative_prompt}}", PH_NEGATIVE},
  {"{{reference_image}}", PH_REFERENCE},
  {"{{reference_images}}", PH_REFERENCES},
  {"{{seed}}", PH_SEED},
  {"{{width}}", PH_WIDTH},
  {"{{height}}", PH_HEIGHT},
  {"{{length}}", PH_LENGTH},
  {"{{fps}}", PH_FPS},
};

#define PLACEHOLDER_LIST "{{prompt}}, {{negative_prompt}}, " \
  "{{reference_image}}, {{reference_images}}, {{seed}}, {{width}}, " \
  "{{height}}, {{length}}, {{fps}}"

/* What prepare uploaded for one request, for its submit. */
typedef struct
{
  gchar *single;                /* {{reference_image}} */
  GPtrArray *batch;             /* {{reference_images}} */
} Uploaded;

typedef struct
{
  Wr2vHttp *http;
  GMutex lock;
  /* the workflow, read once per engine so that identity and submit see
   * the same bytes */
  GBytes *wf_bytes;
  gchar *wf_path;
  gchar *wf_sha256;
  /* request hash -> Uploaded */
  GHashTable *uploads;
  /* prompt id -> JobSocket, while the job is polled */
  GHashTable *sockets;
  /* prompt ids whose websocket was opened (or tried) once already */
  GHashTable *sockets_tried;
} ComfyPriv;

/* One job's websocket: ComfyUI sends its steps only there. */
typedef struct
{
  Wr2vWebsocket *ws;            /* NULL once lost: the steps stay */
  gint step, steps;             /* the latest progress of the prompt */
} JobSocket;

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

static void
job_socket_free (JobSocket * js)
{
  if (!js)
    return;
  wr2v_websocket_free (js->ws);
  g_free (js);
}

/* --- small helpers --- */

/* Server text fit for an error message: one line, bounded, valid UTF-8. */
static gchar *
server_text (const gchar * text, gsize max)
{
  return wr2v_parsers_safe_text (text, max, NULL);
}

static const gchar *
obj_string (JsonObject * obj, const gchar * name)
{
  JsonNode *n;

  if (!obj || !(n = json_object_get_member (obj, name)) ||
      !JSON_NODE_HOLDS_VALUE (n) ||
      json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
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

static JsonArray *
obj_array (JsonObject * obj, const gchar * name)
{
  JsonNode *n;

  if (!obj || !(n = json_object_get_member (obj, name)) ||
      !JSON_NODE_HOLDS_ARRAY (n))
    return NULL;
  return json_node_get_array (n);
}

static const gchar *
node_string (JsonNode * n)
{
  if (!n || !JSON_NODE_HOLDS_VALUE (n) ||
      json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

static gboolean
obj_bool (JsonObject * obj, const gchar * name, gboolean def)
{
  JsonNode *n;

  if (!obj || !(n = json_object_get_member (obj, name)) ||
      !JSON_NODE_HOLDS_VALUE (n) ||
      json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    return def;
  return json_node_get_boolean (n);
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

static gint64
node_int (JsonNode * n, gint64 def)
{
  if (!n || !JSON_NODE_HOLDS_VALUE (n))
    return def;
  switch (json_node_get_value_type (n)) {
    case G_TYPE_INT64:
      return json_node_get_int (n);
    case G_TYPE_DOUBLE:{
      gdouble d = json_node_get_double (n);

      /* casting a double out of range (or NaN) is undefined */
      return (d >= -9.2e18 && d <= 9.2e18) ? (gint64) d : def;
    }
    default:
      return def;
  }
}

static gchar *
node_to_string (JsonNode * node)
{
  JsonGenerator *gen = json_generator_new ();
  gchar *text;

  json_generator_set_root (gen, node);
  text = json_generator_to_data (gen, NULL);
  g_object_unref (gen);
  return text;
}

/* --- answers: pure parsers (wr2v-parsers.h), also run by the fuzzers --- */

gboolean
wr2v_comfyui_file_name_ok (const gchar * s, gboolean allow_subdirs)
{
  const gchar *p;

  if (!s || !*s || strlen (s) > 255 || s[0] == '/' || strstr (s, ".."))
    return FALSE;
  if (!allow_subdirs && strchr (s, '/'))
    return FALSE;
  for (p = s; *p; p++) {
    if ((guchar) * p < 0x20 || *p == 0x7f || *p == '\\' || *p == ':')
      return FALSE;
  }
  return g_utf8_validate (s, -1, NULL);
}

static gboolean
subfolder_ok (const gchar * s)
{
  return !s || !*s || wr2v_comfyui_file_name_ok (s, TRUE);
}

gboolean
wr2v_comfyui_prompt_id_ok (const gchar * id)
{
  const gchar *p;

  if (!id || !*id || strlen (id) > 128)
    return FALSE;
  for (p = id; *p; p++) {
    if (!g_ascii_isalnum (*p) && *p != '-' && *p != '_')
      return FALSE;
  }
  return TRUE;
}

/* A JSON object answer, or NULL with an error. */
static JsonNode *
parse_object (const gchar * data, gsize len, GError ** error)
{
  GBytes *bytes = g_bytes_new_static (data ? data : "", data ? len : 0);
  JsonNode *node = wr2v_http_parse_json (bytes, error);

  g_bytes_unref (bytes);
  if (node && !JSON_NODE_HOLDS_OBJECT (node)) {
    g_clear_pointer (&node, json_node_unref);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL, "not a JSON object");
  }
  return node;
}

void
wr2v_comfyui_upload_clear (Wr2vComfyuiUpload * u)
{
  if (!u)
    return;
  g_free (u->name);
  g_free (u->subfolder);
  memset (u, 0, sizeof *u);
}

gboolean
wr2v_comfyui_parse_upload (const gchar * data, gsize len,
    Wr2vComfyuiUpload * out, GError ** error)
{
  JsonNode *node;
  JsonObject *root;

  wr2v_comfyui_upload_clear (out);
  node = parse_object (data, len, error);
  if (!node)
    return FALSE;
  root = json_node_get_object (node);
  out->name = g_strdup (obj_string (root, "name"));
  out->subfolder = g_strdup (obj_string (root, "subfolder"));
  json_node_unref (node);
  return TRUE;
}

/* "node 7 (LoadImage): Value not in list: ...; node 1 (...): ..." */
static gchar *
summarize_node_errors (JsonObject * node_errors)
{
  GString *s = g_string_new (NULL);
  GList *members, *l;
  gchar *text;

  if (!node_errors)
    return g_string_free (s, FALSE);
  members = json_object_get_members (node_errors);
  for (l = members; l && s->len < 600; l = l->next) {
    JsonObject *ne = obj_object (node_errors, l->data);
    JsonArray *errs = obj_array (ne, "errors");
    guint i;

    g_string_append_printf (s, "%snode %.80s (%.80s):", s->len ? "; " : "",
        (const gchar *) l->data, obj_string (ne, "class_type") ?
        obj_string (ne, "class_type") : "?");
    for (i = 0; errs && i < json_array_get_length (errs) && i < 3; i++) {
      JsonNode *en = json_array_get_element (errs, i);
      JsonObject *e = JSON_NODE_HOLDS_OBJECT (en) ?
          json_node_get_object (en) : NULL;
      const gchar *msg = obj_string (e, "message");
      const gchar *details = obj_string (e, "details");

      /* each part bounded: one hostile string must not cost megabytes */
      g_string_append_printf (s, " %.300s%s%.300s", msg ? msg : "error",
          details && *details ? ": " : "", details ? details : "");
    }
  }
  g_list_free (members);
  text = server_text (s->str, 800);
  g_string_free (s, TRUE);
  return text;
}

void
wr2v_comfyui_prompt_answer_clear (Wr2vComfyuiPromptAnswer * a)
{
  if (!a)
    return;
  g_free (a->prompt_id);
  g_free (a->error_message);
  g_free (a->node_errors);
  memset (a, 0, sizeof *a);
}

gboolean
wr2v_comfyui_parse_prompt (const gchar * data, gsize len,
    Wr2vComfyuiPromptAnswer * out, GError ** error)
{
  JsonNode *node;
  JsonObject *root, *ne;

  wr2v_comfyui_prompt_answer_clear (out);
  out->node_errors = g_strdup ("");
  node = parse_object (data, len, error);
  if (!node)
    return FALSE;
  root = json_node_get_object (node);
  out->prompt_id = g_strdup (obj_string (root, "prompt_id"));
  out->error_message = g_strdup (obj_string (obj_object (root, "error"),
          "message"));
  ne = obj_object (root, "node_errors");
  if (ne) {
    out->n_node_errors = json_object_get_size (ne);
    g_free (out->node_errors);
    out->node_errors = summarize_node_errors (ne);
  }
  json_node_unref (node);
  return TRUE;
}

/* status.messages: [["execution_error", {...}], ...]; the last one of
 * @type, or NULL. */
static JsonObject *
find_message (JsonObject * status, const gchar * type)
{
  JsonArray *msgs = obj_array (status, "messages");
  JsonObject *found = NULL;
  guint i;

  for (i = 0; msgs && i < json_array_get_length (msgs); i++) {
    JsonNode *mn = json_array_get_element (msgs, i);
    JsonArray *m = JSON_NODE_HOLDS_ARRAY (mn) ? json_node_get_array (mn) : NULL;
    JsonNode *tn, *dn;

    if (!m || json_array_get_length (m) < 2)
      continue;
    tn = json_array_get_element (m, 0);
    dn = json_array_get_element (m, 1);
    if (g_strcmp0 (node_string (tn), type) == 0 && JSON_NODE_HOLDS_OBJECT (dn))
      found = json_node_get_object (dn);
  }
  return found;
}

static gboolean
is_video_name (const gchar * name)
{
  static const gchar *exts[] = { ".mp4", ".webm", ".mkv", ".mov" };
  gsize len = strlen (name);
  guint i;

  for (i = 0; i < G_N_ELEMENTS (exts); i++) {
    gsize n = strlen (exts[i]);

    if (len >= n && g_ascii_strcasecmp (name + len - n, exts[i]) == 0)
      return TRUE;
  }
  return FALSE;
}

/* The output file to download: the first video among the outputs'
 * images/gifs/videos entries, else the first file. */
static JsonObject *
choose_output (JsonObject * outputs)
{
  static const gchar *kinds[] = { "images", "gifs", "videos" };
  GList *members = outputs ? json_object_get_members (outputs) : NULL, *l;
  JsonObject *chosen = NULL, *first = NULL;
  guint k, i;

  for (l = members; l && !chosen; l = l->next) {
    JsonObject *out = obj_object (outputs, l->data);

    for (k = 0; k < G_N_ELEMENTS (kinds) && !chosen; k++) {
      JsonArray *files = obj_array (out, kinds[k]);

      for (i = 0; files && i < json_array_get_length (files); i++) {
        JsonNode *fn = json_array_get_element (files, i);
        JsonObject *f = JSON_NODE_HOLDS_OBJECT (fn) ?
            json_node_get_object (fn) : NULL;
        const gchar *name = obj_string (f, "filename");

        if (!name)
          continue;
        if (!first)
          first = f;
        if (is_video_name (name)) {
          chosen = f;
          break;
        }
      }
    }
  }
  g_list_free (members);
  return chosen ? chosen : first;
}

void
wr2v_comfyui_history_clear (Wr2vComfyuiHistory * h)
{
  if (!h)
    return;
  g_free (h->status_str);
  g_free (h->exception_type);
  g_free (h->exception_message);
  g_free (h->node_id);
  g_free (h->node_type);
  g_free (h->filename);
  g_free (h->subfolder);
  g_free (h->type);
  memset (h, 0, sizeof *h);
}

gboolean
wr2v_comfyui_parse_history (const gchar * data, gsize len,
    const gchar * prompt_id, Wr2vComfyuiHistory * out, GError ** error)
{
  JsonNode *node;
  JsonObject *root, *entry, *status, *err, *progress, *file;

  wr2v_comfyui_history_clear (out);
  out->completed = TRUE;
  node = parse_object (data, len, error);
  if (!node)
    return FALSE;
  root = json_node_get_object (node);
  out->found = prompt_id && json_object_has_member (root, prompt_id);
  entry = out->found ? obj_object (root, prompt_id) : NULL;
  if (!entry) {
    json_node_unref (node);
    return TRUE;
  }
  out->is_object = TRUE;
  status = obj_object (entry, "status");
  out->status_str = g_strdup (obj_string (status, "status_str"));
  out->completed = obj_bool (status, "completed", TRUE);

  /* steps from "progress" messages, which some ComfyUI versions keep */
  progress = find_message (status, "progress");
  if (progress) {
    gint64 value = node_int (json_object_get_member (progress, "value"), 0);
    gint64 max = node_int (json_object_get_member (progress, "max"), 0);

    if (max > 0 && max <= G_MAXINT && value >= 0 && value <= G_MAXINT) {
      out->step = value;
      out->steps = max;
    }
  }
  err = find_message (status, "execution_error");
  if (err) {
    out->has_error = TRUE;
    out->exception_type = g_strdup (obj_string (err, "exception_type"));
    out->exception_message = g_strdup (obj_string (err, "exception_message"));
    out->node_id = g_strdup (obj_string (err, "node_id"));
    out->node_type = g_strdup (obj_string (err, "node_type"));
  }
  out->interrupted = find_message (status, "execution_interrupted") != NULL;

  file = choose_output (obj_object (entry, "outputs"));
  if (file) {
    out->has_output = TRUE;
    out->filename = g_strdup (obj_string (file, "filename"));
    out->subfolder = g_strdup (obj_string (file, "subfolder"));
    out->type = g_strdup (obj_string (file, "type"));
  }
  json_node_unref (node);
  return TRUE;
}

void
wr2v_comfyui_queue_clear (Wr2vComfyuiQueue * q)
{
  if (!q)
    return;
  if (q->client_prompts)
    g_ptr_array_unref (q->client_prompts);
  memset (q, 0, sizeof *q);
}

/* One queue entry: [number, prompt_id, prompt, extra_data, outputs]. */
static JsonArray *
queue_entry (JsonArray * list, guint i)
{
  JsonNode *en = json_array_get_element (list, i);

  if (!JSON_NODE_HOLDS_ARRAY (en) ||
      json_array_get_length (json_node_get_array (en)) < 2)
    return NULL;
  return json_node_get_array (en);
}

gboolean
wr2v_comfyui_parse_queue (const gchar * data, gsize len,
    const gchar * prompt_id, const gchar * client_id, Wr2vComfyuiQueue * out,
    GError ** error)
{
  const gchar *lists[] = { "queue_running", "queue_pending" };
  JsonNode *node;
  JsonObject *q;
  JsonArray *running, *pending;
  guint i, j, n_running, before = 0;
  gint64 mine = -1;

  wr2v_comfyui_queue_clear (out);
  out->client_prompts = g_ptr_array_new_with_free_func (g_free);
  node = parse_object (data, len, error);
  if (!node)
    return FALSE;
  q = json_node_get_object (node);
  running = obj_array (q, "queue_running");
  pending = obj_array (q, "queue_pending");
  n_running = running ? json_array_get_length (running) : 0;

  out->place = WR2V_COMFYUI_QUEUE_ABSENT;
  for (i = 0; prompt_id && i < n_running; i++) {
    JsonArray *e = queue_entry (running, i);

    if (e && g_strcmp0 (node_string (json_array_get_element (e, 1)),
            prompt_id) == 0)
      out->place = WR2V_COMFYUI_QUEUE_RUNNING;
  }
  for (i = 0; prompt_id && out->place == WR2V_COMFYUI_QUEUE_ABSENT &&
      pending && i < json_array_get_length (pending); i++) {
    JsonArray *e = queue_entry (pending, i);

    if (e && g_strcmp0 (node_string (json_array_get_element (e, 1)),
            prompt_id) == 0)
      mine = node_int (json_array_get_element (e, 0), 0);
  }
  if (mine >= 0) {
    /* the pending list is not sorted: count the lower numbers */
    for (i = 0; i < json_array_get_length (pending); i++) {
      JsonArray *e = queue_entry (pending, i);

      if (e && node_int (json_array_get_element (e, 0), G_MAXINT64) < mine)
        before++;
    }
    out->place = WR2V_COMFYUI_QUEUE_PENDING;
    out->ahead = before + n_running;
  }

  for (i = 0; client_id && i < G_N_ELEMENTS (lists); i++) {
    JsonArray *list = obj_array (q, lists[i]);

    for (j = 0; list && j < json_array_get_length (list); j++) {
      JsonArray *e = queue_entry (list, j);
      JsonNode *extra;
      const gchar *id;

      if (!e || json_array_get_length (e) < 4)
        continue;
      id = node_string (json_array_get_element (e, 1));
      extra = json_array_get_element (e, 3);
      if (JSON_NODE_HOLDS_OBJECT (extra) &&
          g_strcmp0 (obj_string (json_node_get_object (extra), "client_id"),
              client_id) == 0 && wr2v_comfyui_prompt_id_ok (id))
        g_ptr_array_add (out->client_prompts, g_strdup (id));
    }
  }
  json_node_unref (node);
  return TRUE;
}

gchar *
wr2v_comfyui_view_url (const gchar * base, const gchar * filename,
    const gchar * subfolder, const gchar * type)
{
  gchar *ef, *es, *et, *url;

  if (!base || !wr2v_comfyui_file_name_ok (filename, FALSE) ||
      !subfolder_ok (subfolder))
    return NULL;
  /* only ComfyUI's own folders: output for SaveVideo, temp for previews */
  if (g_strcmp0 (type, "temp") != 0)
    type = "output";
  ef = g_uri_escape_string (filename, NULL, FALSE);
  es = g_uri_escape_string (subfolder ? subfolder : "", NULL, FALSE);
  et = g_uri_escape_string (type, NULL, FALSE);
  url = g_strdup_printf ("%s/view?filename=%s&subfolder=%s&type=%s", base,
      ef, es, et);
  g_free (ef);
  g_free (es);
  g_free (et);
  return url;
}

/* --- settings --- */

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
        "api-url \"%s\" can't be used for ComfyUI: %s. ComfyUI on this "
        "machine is http://127.0.0.1:8188; a ComfyUI on another machine "
        "must be reached over https (e.g. behind a TLS reverse proxy).",
        shown, local ? local->message : "it must not have a query or "
        "fragment");
    g_clear_error (&local);
    g_free (shown);
    g_free (base);
    return NULL;
  }
  return base;
}

static gchar *
api_route (Wr2vEngine * engine, const gchar * route, GError ** error)
{
  gchar *base = get_base_url (engine, error);
  gchar *url;

  if (!base)
    return NULL;
  url = g_strconcat (base, route, NULL);
  g_free (base);
  return url;
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

/* --- the workflow --- */

static gchar *
default_workflow_path (void)
{
  const gchar *env = g_getenv ("WANR2V_DATADIR");
  const gchar *dirs[] = { env, WANR2V_PKGDATADIR, WANR2V_SRC_DATADIR };
  gchar *first = NULL;
  guint i;

  /* WANR2V_DATADIR (tests, relocated installs), the installed copy, then
   * the source tree for an uninstalled build */
  for (i = 0; i < G_N_ELEMENTS (dirs); i++) {
    gchar *path;

    if (!dirs[i] || !*dirs[i])
      continue;
    path = g_build_filename (dirs[i], "comfyui", DEFAULT_WORKFLOW, NULL);
    if (g_file_test (path, G_FILE_TEST_IS_REGULAR)) {
      g_free (first);
      return path;
    }
    if (!first)
      first = path;
    else
      g_free (path);
  }
  return first ? first : g_strdup (DEFAULT_WORKFLOW);
}

static gboolean
using_default_workflow (Wr2vEngine * engine)
{
  const gchar *w = engine->settings.workflow;

  return !w || !*w;
}

/* The workflow's bytes, read once per engine. */
static GBytes *
workflow_bytes (Wr2vEngine * engine, gchar ** path_out, GError ** error)
{
  ComfyPriv *priv = get_priv (engine);
  GBytes *bytes = NULL;
  gchar *path, *data = NULL;
  gsize len = 0;
  GError *local = NULL;

  g_mutex_lock (&priv->lock);
  if (priv->wf_bytes) {
    bytes = g_bytes_ref (priv->wf_bytes);
    if (path_out)
      *path_out = g_strdup (priv->wf_path);
    g_mutex_unlock (&priv->lock);
    return bytes;
  }
  g_mutex_unlock (&priv->lock);

  path = using_default_workflow (engine) ? default_workflow_path () :
      g_strdup (engine->settings.workflow);
  if (!g_file_get_contents (path, &data, &len, &local)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "Cannot read the ComfyUI workflow %s: %s.%s", path, local->message,
        using_default_workflow (engine) ? " The shipped default workflow "
        "is missing: reinstall gst-wanr2v, or set WANR2V_DATADIR to the "
        "directory holding comfyui/" DEFAULT_WORKFLOW "." :
        " Check the workflow property.");
    g_error_free (local);
    g_free (path);
    return NULL;
  }
  if (len > MAX_WORKFLOW_BYTES) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "The ComfyUI workflow %s is larger than %d MiB; is it really an "
        "API-format workflow?", path, MAX_WORKFLOW_BYTES >> 20);
    g_free (data);
    g_free (path);
    return NULL;
  }
  bytes = g_bytes_new_take (data, len);

  g_mutex_lock (&priv->lock);
  if (!priv->wf_bytes) {
    priv->wf_bytes = g_bytes_ref (bytes);
    priv->wf_path = g_strdup (path);
    priv->wf_sha256 = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
  }
  g_mutex_unlock (&priv->lock);
  if (path_out)
    *path_out = path;
  else
    g_free (path);
  return bytes;
}

/* The workflow parsed and checked to be API format (an object of nodes
 * with class_type and inputs). Unref the node. */
static JsonNode *
load_workflow (Wr2vEngine * engine, gchar ** path_out, GError ** error)
{
  gchar *path = NULL;
  GBytes *bytes = workflow_bytes (engine, &path, error);
  GError *local = NULL;
  const gchar *data;
  gsize len = 0;
  JsonNode *root;
  JsonObject *obj;
  GList *members, *l;

  if (!bytes)
    return NULL;
  data = g_bytes_get_data (bytes, &len);
  if (!wr2v_http_json_depth_ok (data, len, WR2V_HTTP_JSON_MAX_DEPTH)) {
    g_set_error (&local, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "nested deeper than %d levels", WR2V_HTTP_JSON_MAX_DEPTH);
    root = NULL;
  } else {
    /* mutable: the placeholders are replaced in this tree */
    JsonParser *parser = json_parser_new ();

    root = json_parser_load_from_data (parser, data, len, &local) ?
        json_parser_steal_root (parser) : NULL;
    g_object_unref (parser);
  }
  g_bytes_unref (bytes);
  if (!root) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "The ComfyUI workflow %s is not valid JSON: %s", path,
        local ? local->message : "it is empty");
    g_clear_error (&local);
    g_free (path);
    return NULL;
  }
  if (!JSON_NODE_HOLDS_OBJECT (root) ||
      json_object_get_size (json_node_get_object (root)) == 0)
    goto not_api;
  obj = json_node_get_object (root);
  if (json_object_has_member (obj, "nodes") &&
      json_object_has_member (obj, "links")) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "The ComfyUI workflow %s is in the editor's format, not the API "
        "format this engine sends. In ComfyUI, open it and use Workflow > "
        "Export (API), then point the workflow property at that file.", path);
    goto fail;
  }
  members = json_object_get_members (obj);
  for (l = members; l; l = l->next) {
    JsonObject *node = obj_object (obj, l->data);

    if (!node || !obj_string (node, "class_type") ||
        !obj_object (node, "inputs")) {
      g_list_free (members);
      goto not_api;
    }
  }
  g_list_free (members);
  if (path_out)
    *path_out = path;
  else
    g_free (path);
  return root;

not_api:
  g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
      "The ComfyUI workflow %s is not an API-format workflow: every member "
      "must be a node with \"class_type\" and \"inputs\" (use Workflow > "
      "Export (API) in ComfyUI)", path);
fail:
  json_node_unref (root);
  g_free (path);
  return NULL;
}

/* --- placeholders --- */

typedef struct
{
  const gchar *prompt;
  const gchar *negative;
  const gchar *reference;
  GPtrArray *references;
  gint64 seed;
  gint width, height, length, fps;
} Values;

typedef struct
{
  const Values *values;         /* NULL: only scan */
  guint found;                  /* Placeholder flags */
  gboolean small_model;         /* a "1.3B" model is loaded */
  const gchar *node_id;
  const gchar *class_type;
  const gchar *path;
  GError *error;
} Walk;

static JsonNode *
int_node (gint64 v)
{
  JsonNode *n = json_node_new (JSON_NODE_VALUE);

  json_node_set_int (n, v);
  return n;
}

static JsonNode *
string_node (const gchar * s)
{
  JsonNode *n = json_node_new (JSON_NODE_VALUE);

  json_node_set_string (n, s ? s : "");
  return n;
}

/* The value for a placeholder. */
static JsonNode *
placeholder_value (const Values * v, Placeholder ph)
{
  switch (ph) {
    case PH_PROMPT:
      return string_node (v->prompt);
    case PH_NEGATIVE:
      return string_node (v->negative);
    case PH_REFERENCE:
      return string_node (v->reference);
    case PH_REFERENCES:{
      JsonArray *a = json_array_new ();
      JsonNode *n = json_node_new (JSON_NODE_ARRAY);
      guint i;

      for (i = 0; v->references && i < v->references->len; i++)
        json_array_add_string_element (a, g_ptr_array_index (v->references, i));
      json_node_take_array (n, a);
      return n;
    }
    case PH_SEED:
      return int_node (v->seed);
    case PH_WIDTH:
      return int_node (v->width);
    case PH_HEIGHT:
      return int_node (v->height);
    case PH_LENGTH:
      return int_node (v->length);
    case PH_FPS:
      return int_node (v->fps);
  }
  return NULL;
}

static void
walk_set_error (Walk * w, const gchar * what, const gchar * value)
{
  gchar *shown = server_text (value, 80);

  if (!w->error)
    g_set_error (&w->error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "The ComfyUI workflow %s, node %s (%s), has %s \"%s\". The "
        "placeholders are %s, each the whole string value.", w->path,
        w->node_id, w->class_type ? w->class_type : "?", what, shown,
        PLACEHOLDER_LIST);
  g_free (shown);
}

static gboolean
is_small_model_name (const gchar * s)
{
  gchar *down = g_ascii_strdown (s, -1);
  gboolean small = strstr (down, "1.3b") || strstr (down, "1_3b") ||
      strstr (down, "1-3b");

  g_free (down);
  return small;
}

/* Walks a value; returns a replacement node, or NULL to keep it. */
static JsonNode *
walk_node (Walk * w, JsonNode * node, const gchar * member)
{
  if (w->error)
    return NULL;
  if (JSON_NODE_HOLDS_OBJECT (node)) {
    JsonObject *obj = json_node_get_object (node);
    GList *members = json_object_get_members (obj), *l;

    for (l = members; l; l = l->next) {
      const gchar *name = l->data;
      JsonNode *r = walk_node (w, json_object_get_member (obj, name), name);

      /* set_member may free @name: it is not used after this */
      if (r)
        json_object_set_member (obj, name, r);
    }
    g_list_free (members);
    return NULL;
  }
  if (JSON_NODE_HOLDS_ARRAY (node)) {
    JsonArray *arr = json_node_get_array (node);
    guint i, n = json_array_get_length (arr);
    JsonArray *copy = NULL;

    for (i = 0; i < n; i++) {
      JsonNode *el = json_array_get_element (arr, i);
      JsonNode *r = walk_node (w, el, NULL);

      /* json-glib can't replace an element: rebuild the array */
      if (r && !copy) {
        guint j;

        copy = json_array_sized_new (n);
        for (j = 0; j < i; j++)
          json_array_add_element (copy,
              json_node_copy (json_array_get_element (arr, j)));
      }
      if (copy)
        json_array_add_element (copy, r ? r : json_node_copy (el));
    }
    if (copy) {
      JsonNode *out = json_node_new (JSON_NODE_ARRAY);

      json_node_take_array (out, copy);
      return out;
    }
    return NULL;
  }
  if (JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_STRING) {
    const gchar *s = json_node_get_string (node);
    guint i;

    if (member && g_str_has_suffix (member, "_name") && is_small_model_name (s))
      w->small_model = TRUE;
    if (!strstr (s, "{{"))
      return NULL;
    for (i = 0; i < G_N_ELEMENTS (placeholders); i++) {
      if (g_str_equal (s, placeholders[i].token)) {
        w->found |= placeholders[i].flag;
        return w->values ? placeholder_value (w->values,
            placeholders[i].flag) : NULL;
      }
    }
    if (g_str_has_prefix (s, "{{") && g_str_has_suffix (s, "}}"))
      walk_set_error (w, "the unknown placeholder", s);
    else if (strstr (s, "}}"))
      walk_set_error (w, "a placeholder inside a longer text", s);
  }
  return NULL;
}

/* Scans (values NULL) or fills in (values set) the placeholders of
 * @root, node by node. */
static gboolean
walk_workflow (JsonNode * root, const gchar * path, const Values * values,
    guint * found, gboolean * small_model, GError ** error)
{
  JsonObject *obj = json_node_get_object (root);
  GList *members = json_object_get_members (obj), *l;
  Walk w = { 0, };

  w.values = values;
  w.path = path;
  for (l = members; l && !w.error; l = l->next) {
    JsonObject *node = obj_object (obj, l->data);

    w.node_id = l->data;
    w.class_type = obj_string (node, "class_type");
    walk_node (&w, json_object_get_member (node, "inputs"), NULL);
  }
  g_list_free (members);
  if (w.error) {
    g_propagate_error (error, w.error);
    return FALSE;
  }
  if (found)
    *found = w.found;
  if (small_model)
    *small_model = w.small_model;
  return TRUE;
}

/* Loads and scans the workflow; refuses one that would ignore the
 * references. */
static JsonNode *
load_checked_workflow (Wr2vEngine * engine, gchar ** path_out, guint * found,
    gboolean * small_model, GError ** error)
{
  gchar *path = NULL;
  JsonNode *root = load_workflow (engine, &path, error);
  guint f = 0;
  gboolean small = FALSE;

  if (!root)
    return NULL;
  if (!walk_workflow (root, path, NULL, &f, &small, error))
    goto fail;
  if (!(f & (PH_REFERENCE | PH_REFERENCES))) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "The ComfyUI workflow %s has no \"{{reference_image}}\" (one "
        "composed image, e.g. LoadImage's image) or \"{{reference_images}}\" "
        "(a list of image names) placeholder, so the references would be "
        "ignored. Put one of them where the workflow loads its reference.",
        path);
    goto fail;
  }
  if (!(f & PH_PROMPT))
    GST_WARNING ("workflow %s has no {{prompt}}: the prompt is not used", path);
  if (found)
    *found = f;
  if (small_model)
    *small_model = small || using_default_workflow (engine);
  if (path_out)
    *path_out = path;
  else
    g_free (path);
  return root;

fail:
  json_node_unref (root);
  g_free (path);
  return NULL;
}

/* --- sizes --- */

static void
small_model_size (Wr2vAspectRatio ar, gint * w, gint * h)
{
  /* 480p: the short side is 480 [C: providers.md, 832x480] */
  switch (ar) {
    case WR2V_ASPECT_9_16:
      *w = 480, *h = 832;
      break;
    case WR2V_ASPECT_1_1:
      *w = 480, *h = 480;
      break;
    case WR2V_ASPECT_4_3:
      *w = 640, *h = 480;
      break;
    case WR2V_ASPECT_3_4:
      *w = 480, *h = 640;
      break;
    case WR2V_ASPECT_16_9:
    default:
      *w = 832, *h = 480;
      break;
  }
}

/* The size the workflow renders at: multiples of 16. */
static void
render_size (const Wr2vRequest * req, gboolean small, gint * w, gint * h)
{
  if (small) {
    small_model_size (req->aspect_ratio, w, h);
    return;
  }
  wr2v_output_size (req->resolution, req->aspect_ratio, w, h);
  /* down, not up: never more pixels than asked (1080 -> 1072) */
  *w = MAX (SIZE_STEP, *w / SIZE_STEP * SIZE_STEP);
  *h = MAX (SIZE_STEP, *h / SIZE_STEP * SIZE_STEP);
}

static gint
frame_count (guint duration)
{
  /* 4k+1: the first frame plus whole groups of 4 */
  return (gint) (duration * WAN_FPS / 4) * 4 + 1;
}

/* The explanation when the model renders smaller than asked. */
static gchar *
small_model_note (const Wr2vRequest * req, const gchar * path)
{
  gint w, h, aw, ah;

  small_model_size (req->aspect_ratio, &w, &h);
  wr2v_output_size (req->resolution, req->aspect_ratio, &aw, &ah);
  return g_strdup_printf ("The ComfyUI workflow %s runs Wan2.1 VACE 1.3B, a "
      "480p model: the clip will be %dx%d, not the %dx%d that resolution=%s "
      "asks for. For 720p, use a workflow with the VACE 14B model (the "
      "workflow property; see docs/engines/comfyui.md).", path, w, h, aw,
      ah, wr2v_resolution_nick (req->resolution));
}

/* --- check, cost, identity --- */

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

  root = load_checked_workflow (engine, &path, NULL, &small, error);
  if (!root)
    return FALSE;
  json_node_unref (root);
  if (small) {
    gchar *note = small_model_note (req, path);

    /* the element's warning comes from prepare's "wanr2v/warning" */
    GST_WARNING ("%s", note);
    g_free (note);
  }
  g_free (path);
  return TRUE;
}

static gdouble
comfyui_estimate_cost (Wr2vEngine * engine, const Wr2vRequest * req)
{
  /* the user's own GPU */
  return -1.0;
}

static gchar *
comfyui_identity (Wr2vEngine * engine)
{
  ComfyPriv *priv = get_priv (engine);
  GBytes *bytes = workflow_bytes (engine, NULL, NULL);
  gchar *id;

  if (!bytes)
    return g_strdup ("unreadable-workflow");
  g_bytes_unref (bytes);
  /* another workflow is another result: its bytes key the store */
  g_mutex_lock (&priv->lock);
  id = g_strdup (priv->wf_sha256);
  g_mutex_unlock (&priv->lock);
  return id;
}

/* --- GStreamer: first frames and the composed image --- */

/* Runs @pipeline until EOS or an error, cancellably. */
static gboolean
run_to_eos (GstElement * pipeline, const gchar * what,
    GCancellable * cancellable, GError ** error)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  gint64 deadline = g_get_monotonic_time () + FRAME_TIMEOUT_S * G_USEC_PER_SEC;
  gboolean ok = FALSE;

  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
        "Cannot start the pipeline %s", what);
    goto out;
  }
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, 50 * GST_MSECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR);

    if (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
      gst_message_unref (msg);
      ok = TRUE;
      break;
    }
    if (msg) {
      GError *err = NULL;

      gst_message_parse_error (msg, &err, NULL);
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
          "Could not %s: %s", what, err->message);
      g_error_free (err);
      gst_message_unref (msg);
      break;
    }
    if (g_cancellable_set_error_if_cancelled (cancellable, error))
      break;
    if (g_get_monotonic_time () > deadline) {
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
          "Could not %s within %d s", what, FRAME_TIMEOUT_S);
      break;
    }
  }
out:
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  return ok;
}

/* The first frame of a reference file (its image for an image), with
 * square pixels. */
static GstSample *
first_frame (Wr2vJob * job, const Wr2vReference * ref, GError ** error)
{
  GstElement *pipeline, *src, *sink;
  GstBus *bus;
  GstSample *sample = NULL;
  GError *err = NULL;
  gint64 deadline;

  pipeline = gst_parse_launch_full ("filesrc name=src ! decodebin ! "
      "videoconvert ! videoscale ! video/x-raw,format=RGBA,"
      "pixel-aspect-ratio=1/1,width=[16,4096],height=[16,4096] ! "
      "appsink name=sink sync=false max-buffers=1", NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, &err);
  if (!pipeline) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
        "Cannot build the pipeline that reads %s %u: %s (are the "
        "GStreamer base plugins installed?)", wr2v_ref_kind_word (ref->kind),
        ref->number, err->message);
    g_error_free (err);
    return NULL;
  }
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  g_object_set (src, "location", ref->path, NULL);
  bus = gst_element_get_bus (pipeline);

  deadline = g_get_monotonic_time () + FRAME_TIMEOUT_S * G_USEC_PER_SEC;
  if (gst_element_set_state (pipeline, GST_STATE_PAUSED) ==
      GST_STATE_CHANGE_FAILURE)
    g_set_error (&err, WR2V_ERROR, WR2V_ERROR_INTERNAL, "cannot start");
  while (!err) {
    GstMessage *msg;

    /* short waits: a stop must not wait for a slow decoder */
    sample = gst_app_sink_try_pull_preroll (GST_APP_SINK (sink),
        50 * GST_MSECOND);
    if (sample)
      break;
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
    if (msg) {
      if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
        gst_message_parse_error (msg, &err, NULL);
      else
        g_set_error (&err, WR2V_ERROR, WR2V_ERROR_INTERNAL,
            "no video frame in it");
      gst_message_unref (msg);
      break;
    }
    if (g_cancellable_set_error_if_cancelled (job->cancellable, error))
      break;
    if (g_get_monotonic_time () > deadline)
      g_set_error (&err, WR2V_ERROR, WR2V_ERROR_INTERNAL,
          "no frame after %d s", FRAME_TIMEOUT_S);
  }
  if (err && !sample) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "Cannot read the first frame of %s %u (%s) to compose the ComfyUI "
        "reference image: %s", wr2v_ref_kind_word (ref->kind), ref->number,
        ref->path, err->message);
  }
  g_clear_error (&err);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  return sample;
}

/* Fits the frames into equal columns of a white @width x @height canvas,
 * left to right, and writes it as PNG to @out_path: appsrc per frame !
 * compositor ! pngenc. The canvas has the output's size because
 * WanVaceToVideo scales the reference to it with a centre crop. */
static gboolean
compose_png (Wr2vJob * job, GstSample ** frames, guint n, gint width,
    gint height, const gchar * out_path, GError ** error)
{
  GstElement *pipeline = gst_pipeline_new ("wanr2v-compose");
  GstElement *mix = gst_element_factory_make ("compositor", NULL);
  GstElement *filter = gst_element_factory_make ("capsfilter", NULL);
  GstElement *conv = gst_element_factory_make ("videoconvert", NULL);
  GstElement *enc = gst_element_factory_make ("pngenc", NULL);
  GstElement *sink = gst_element_factory_make ("filesink", NULL);
  GstElement **srcs = g_new0 (GstElement *, n);
  GstCaps *caps;
  gint gutter = n > 1 ? COMPOSE_GUTTER : 0;
  gint cell = width / (gint) n;
  gboolean ok = FALSE;
  guint i;

  if (!mix || !filter || !conv || !enc || !sink) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
        "Cannot compose the ComfyUI reference image: the GStreamer "
        "elements compositor and pngenc (gst-plugins-base and -good) are "
        "needed");
    gst_clear_object (&mix);
    gst_clear_object (&filter);
    gst_clear_object (&conv);
    gst_clear_object (&enc);
    gst_clear_object (&sink);
    goto out;
  }
  /* white: references read as subjects cut out on a plain ground */
  gst_util_set_object_arg (G_OBJECT (mix), "background", "white");
  caps = gst_caps_new_simple ("video/x-raw", "width", G_TYPE_INT, width,
      "height", G_TYPE_INT, height, "framerate", GST_TYPE_FRACTION, 1, 1,
      "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
  g_object_set (filter, "caps", caps, NULL);
  gst_caps_unref (caps);
  g_object_set (enc, "snapshot", TRUE, NULL);
  g_object_set (sink, "location", out_path, NULL);
  gst_bin_add_many (GST_BIN (pipeline), mix, filter, conv, enc, sink, NULL);
  if (!gst_element_link_many (mix, filter, conv, enc, sink, NULL)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
        "Cannot link the pipeline that composes the reference image");
    goto out;
  }

  for (i = 0; i < n; i++) {
    GstCaps *fcaps = gst_caps_copy (gst_sample_get_caps (frames[i]));
    GstStructure *s = gst_caps_get_structure (fcaps, 0);
    GstElement *fconv = gst_element_factory_make ("videoconvert", NULL);
    GstPad *srcpad, *sinkpad;
    gint fw = 0, fh = 0, box_w, box_h, dw, dh;
    gdouble scale;

    gst_structure_get_int (s, "width", &fw);
    gst_structure_get_int (s, "height", &fh);
    gst_caps_set_simple (fcaps, "framerate", GST_TYPE_FRACTION, 1, 1, NULL);
    srcs[i] = gst_element_factory_make ("appsrc", NULL);
    g_object_set (srcs[i], "caps", fcaps, "format", GST_FORMAT_TIME, NULL);
    gst_caps_unref (fcaps);
    gst_bin_add_many (GST_BIN (pipeline), srcs[i], fconv, NULL);
    gst_element_link (srcs[i], fconv);
    srcpad = gst_element_get_static_pad (fconv, "src");
    sinkpad = gst_element_request_pad_simple (mix, "sink_%u");
    gst_pad_link (srcpad, sinkpad);

    /* fit into the column, keep the aspect ratio, centre */
    box_w = MAX (1, cell - 2 * gutter);
    box_h = MAX (1, height - 2 * gutter);
    scale = MIN ((gdouble) box_w / MAX (fw, 1), (gdouble) box_h / MAX (fh, 1));
    dw = MAX (1, (gint) (fw * scale + 0.5));
    dh = MAX (1, (gint) (fh * scale + 0.5));
    g_object_set (sinkpad, "xpos", (gint) i * cell + (cell - dw) / 2,
        "ypos", (height - dh) / 2, "width", dw, "height", dh, NULL);
    gst_object_unref (srcpad);
    gst_object_unref (sinkpad);
  }

  /* started, so that appsrc takes the buffers */
  if (gst_element_set_state (pipeline, GST_STATE_PAUSED) ==
      GST_STATE_CHANGE_FAILURE) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
        "Cannot start the pipeline that composes the reference image");
    gst_element_set_state (pipeline, GST_STATE_NULL);
    goto out;
  }
  for (i = 0; i < n; i++) {
    GstBuffer *buf = gst_buffer_copy (gst_sample_get_buffer (frames[i]));

    GST_BUFFER_PTS (buf) = 0;
    GST_BUFFER_DTS (buf) = GST_CLOCK_TIME_NONE;
    GST_BUFFER_DURATION (buf) = GST_SECOND;
    gst_app_src_push_buffer (GST_APP_SRC (srcs[i]), buf);
    gst_app_src_end_of_stream (GST_APP_SRC (srcs[i]));
  }
  ok = run_to_eos (pipeline, "compose the ComfyUI reference image",
      job->cancellable, error);

out:
  g_free (srcs);
  gst_object_unref (pipeline);
  return ok;
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

/* Uploads a PNG; returns the name ComfyUI knows it by (LoadImage's
 * value), validated. */
static gchar *
upload_png (Wr2vEngine * engine, Wr2vJob * job, const gchar * png,
    const gchar * label, GError ** error)
{
  ComfyPriv *priv = get_priv (engine);
  Wr2vHttpFormPart parts[3] = { {0,}, };
  Wr2vHttpRequest hr = { 0, };
  Wr2vHttpResponse resp = { 0, };
  Wr2vHttpRetry retry = { 3, 500, 4000, 10, TRUE };
  Wr2vComfyuiUpload up = { 0, };
  gchar *url, *sha = NULL, *filename = NULL, *result = NULL;
  const gchar *name, *subfolder;
  GError *local = NULL;

  url = api_route (engine, "/upload/image", error);
  if (!url)
    return NULL;
  sha = wr2v_file_sha256 (png, error);
  if (!sha)
    goto out;
  /* named by content: overwriting it can only write the same bytes */
  filename = g_strdup_printf ("wanr2v-%.16s.png", sha);
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
  /* same name, same bytes, overwrite: sending it twice changes nothing */
  if (!wr2v_http_perform_retry (priv->http, &hr, &retry, &resp, error)) {
    prefix_unreachable (engine, error);
    goto out;
  }
  if (resp.status != 200) {
    gchar *body = body_text (resp.body, 200);

    wr2v_job_detail_int (job, "http-status", resp.status);
    g_set_error (error, WR2V_ERROR, resp.status >= 500 ?
        WR2V_ERROR_NETWORK : WR2V_ERROR_PROTOCOL,
        "ComfyUI refused the upload of %s (HTTP %u%s%s)", label,
        resp.status, body && *body ? ": " : "", body ? body : "");
    g_free (body);
    goto out;
  }
  {
    gsize len = 0;
    const gchar *data = g_bytes_get_data (resp.body, &len);

    if (!wr2v_comfyui_parse_upload (data, len, &up, &local)) {
      wr2v_http_hint_content_type (&resp, &local);
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
          "ComfyUI's answer to the upload of %s is unreadable: %s", label,
          local->message);
      g_clear_error (&local);
      goto out;
    }
  }
  name = up.name;
  subfolder = up.subfolder;
  /* the server may rename: its name is the one to use, if it is safe */
  if (!wr2v_comfyui_file_name_ok (name, FALSE) || !subfolder_ok (subfolder)) {
    gchar *shown = server_text (name ? name : "(none)", 80);
    gchar *shown_sub = server_text (subfolder ? subfolder : "", 80);

    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "ComfyUI answered the upload of %s with the file name \"%s\" "
        "(subfolder \"%s\"), which is not a plain file name (it is empty, "
        "absolute, or has \"..\", \"\\\" or a control character); refusing "
        "to use it. Is api-url really a ComfyUI server?", label, shown,
        shown_sub);
    g_free (shown);
    g_free (shown_sub);
    goto out;
  }
  if (!g_str_equal (name, filename))
    GST_INFO ("ComfyUI stored %s as \"%s\"", filename, name);
  result = subfolder && *subfolder ? g_strconcat (subfolder, "/", name,
      NULL) : g_strdup (name);

out:
  wr2v_comfyui_upload_clear (&up);
  wr2v_http_response_clear (&resp);
  g_free (url);
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
  if (compose_png (job, frames, n, width, height, png, error))
    name = upload_png (engine, job, png, label, error);
  g_unlink (png);
  g_free (png);
  return name;
}

static gboolean
comfyui_prepare (Wr2vEngine * engine, Wr2vJob * job, GError ** error)
{
  ComfyPriv *priv = get_priv (engine);
  Wr2vRequest *req = job->request;
  guint n = req->references ? req->references->len : 0;
  GstSample **frames = NULL;
  Uploaded *up = NULL;
  JsonNode *root;
  gchar *path = NULL;
  gboolean small = FALSE, ok = FALSE;
  guint found = 0, i;
  gint width, height;

  root = load_checked_workflow (engine, &path, &found, &small, error);
  if (!root)
    return FALSE;
  json_node_unref (root);
  render_size (req, small, &width, &height);
  if (small) {
    gchar *note = small_model_note (req, path);

    /* never silent: the log, the app (element message), the progress */
    GST_WARNING ("%s", note);
    wr2v_job_post (job, gst_structure_new ("wanr2v/warning",
            "engine", G_TYPE_STRING, ENGINE_NAME,
            "message", G_TYPE_STRING, note,
            "width", G_TYPE_INT, width, "height", G_TYPE_INT, height, NULL));
    wr2v_job_phase (job, WR2V_PHASE_PREPARE, "note: %s", note);
    g_free (note);
  }

  if (req->prompt_expansion) {
    const gchar *note = "prompt-expansion has no effect with ComfyUI: the "
        "prompt goes to the workflow as written";

    GST_WARNING ("%s", note);
    wr2v_job_post (job, gst_structure_new ("wanr2v/warning",
            "engine", G_TYPE_STRING, ENGINE_NAME,
            "message", G_TYPE_STRING, note, NULL));
  }

  frames = g_new0 (GstSample *, MAX (n, 1));
  for (i = 0; i < n; i++) {
    Wr2vReference *ref = g_ptr_array_index (req->references, i);

    /* a pad's uri is for hosted engines: the media itself is composed */
    if (!ref->path) {
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
          "%s %u is only given as a URL; the comfyui engine composes "
          "references from local files: link its media to the pad",
          wr2v_ref_kind_word (ref->kind), ref->number);
      goto out;
    }
    wr2v_job_phase (job, WR2V_PHASE_PREPARE, "reading %s %u",
        wr2v_ref_kind_word (ref->kind), ref->number);
    frames[i] = first_frame (job, ref, error);
    if (!frames[i])
      goto out;
  }

  up = g_new0 (Uploaded, 1);
  if (found & PH_REFERENCE) {
    gchar *label = g_strdup_printf ("the reference image (%u reference%s "
        "side by side)", n, n == 1 ? "" : "s");

    up->single = compose_and_upload (engine, job, frames, n, width, height,
        label, error);
    g_free (label);
    if (!up->single)
      goto out;
  }
  if (found & PH_REFERENCES) {
    up->batch = g_ptr_array_new_with_free_func (g_free);
    for (i = 0; i < n; i++) {
      Wr2vReference *ref = g_ptr_array_index (req->references, i);
      gchar *label = g_strdup_printf ("%s %u", wr2v_ref_kind_word
          (ref->kind), ref->number);
      gchar *name = compose_and_upload (engine, job, &frames[i], 1, width,
          height, label, error);

      g_free (label);
      if (!name)
        goto out;
      g_ptr_array_add (up->batch, name);
    }
  }
  g_mutex_lock (&priv->lock);
  g_hash_table_replace (priv->uploads, g_strdup (job->hash ? job->hash : ""),
      up);
  g_mutex_unlock (&priv->lock);
  up = NULL;
  ok = TRUE;

out:
  uploaded_free (up);
  for (i = 0; i < n; i++)
    if (frames[i])
      gst_sample_unref (frames[i]);
  g_free (frames);
  g_free (path);
  return ok;
}

/* --- progress over the websocket ---
 *
 * ComfyUI's history says nothing until a job is done; its steps come only
 * as "progress" messages on GET /ws?clientId=<the submit's client_id>. The
 * websocket is opened right before the submit (ComfyUI takes it before the
 * prompt exists, so no message is missed), kept per prompt id, and read
 * without waiting at each poll: no thread of its own. Whatever goes wrong
 * with it, the job goes on with the history alone. */

static gchar *
socket_url (Wr2vEngine * engine, const gchar * client_id)
{
  gchar *esc = g_uri_escape_string (client_id, NULL, FALSE);
  gchar *route = g_strconcat ("/ws?clientId=", esc, NULL);
  gchar *url = api_route (engine, route, NULL);

  g_free (route);
  g_free (esc);
  return url;
}

static Wr2vWebsocket *
open_socket (Wr2vEngine * engine, Wr2vJob * job, const gchar * client_id)
{
  gchar *url = socket_url (engine, client_id);
  GError *err = NULL;
  Wr2vWebsocket *ws;

  if (!url)
    return NULL;
  ws = wr2v_websocket_connect (url, WS_TIMEOUT_S, job->cancellable, &err);
  if (!ws) {
    GST_INFO ("no progress websocket (%s): steps will not be known",
        err->message);
    g_error_free (err);
  }
  g_free (url);
  return ws;
}

/* Keeps @ws (may be NULL) as @prompt_id's. */
static void
keep_socket (Wr2vEngine * engine, const gchar * prompt_id, Wr2vWebsocket * ws)
{
  ComfyPriv *priv = get_priv (engine);
  JobSocket *js = g_new0 (JobSocket, 1);

  js->ws = ws;
  g_mutex_lock (&priv->lock);
  g_hash_table_add (priv->sockets_tried, g_strdup (prompt_id));
  g_hash_table_replace (priv->sockets, g_strdup (prompt_id), js);
  g_mutex_unlock (&priv->lock);
}

/* Closes @prompt_id's websocket: the job ended, failed or was stopped. */
static void
drop_socket (Wr2vEngine * engine, const gchar * prompt_id)
{
  ComfyPriv *priv = get_priv (engine);

  g_mutex_lock (&priv->lock);
  g_hash_table_remove (priv->sockets, prompt_id);
  g_mutex_unlock (&priv->lock);
}

/* TRUE, once per prompt id, when no websocket was opened for it yet. */
static gboolean
socket_wanted (Wr2vEngine * engine, const gchar * prompt_id)
{
  ComfyPriv *priv = get_priv (engine);
  gboolean wanted;

  g_mutex_lock (&priv->lock);
  wanted = g_hash_table_add (priv->sockets_tried, g_strdup (prompt_id));
  g_mutex_unlock (&priv->lock);
  return wanted;
}

/* The client_id @prompt_id was queued under, when it is one of ours: a
 * resumed job's websocket reconnects with it. */
static gchar *
queue_client_id (const gchar * data, gsize len, const gchar * prompt_id)
{
  const gchar *lists[] = { "queue_running", "queue_pending" };
  JsonNode *node = parse_object (data, len, NULL);
  gchar *client_id = NULL;
  guint i, j;

  if (!node)
    return NULL;
  for (i = 0; !client_id && i < G_N_ELEMENTS (lists); i++) {
    JsonArray *list = obj_array (json_node_get_object (node), lists[i]);

    for (j = 0; !client_id && list && j < json_array_get_length (list); j++) {
      JsonArray *e = queue_entry (list, j);
      JsonNode *extra;
      const gchar *cid;

      if (!e || json_array_get_length (e) < 4 ||
          g_strcmp0 (node_string (json_array_get_element (e, 1)),
              prompt_id) != 0)
        continue;
      extra = json_array_get_element (e, 3);
      cid = JSON_NODE_HOLDS_OBJECT (extra) ?
          obj_string (json_node_get_object (extra), "client_id") : NULL;
      if (cid && g_str_has_prefix (cid, "wanr2v-") &&
          wr2v_comfyui_prompt_id_ok (cid))
        client_id = g_strdup (cid);
    }
  }
  json_node_unref (node);
  return client_id;
}

/* One message from the websocket: the latest progress of our prompt. */
static void
socket_message (JobSocket * js, const gchar * prompt_id, GBytes * msg)
{
  JsonNode *node = wr2v_http_parse_json (msg, NULL);
  JsonObject *root, *data;
  const gchar *type, *pid;

  if (!node)
    return;
  root = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  type = obj_string (root, "type");
  data = obj_object (root, "data");
  pid = obj_string (data, "prompt_id");
  /* older ComfyUI versions send progress without a prompt_id, to the
   * client that queued the prompt: ours */
  if (g_strcmp0 (type, "progress") == 0 && (!pid ||
          g_strcmp0 (pid, prompt_id) == 0)) {
    gint64 value = node_int (json_object_get_member (data, "value"), -1);
    gint64 max = node_int (json_object_get_member (data, "max"), 0);

    if (max > 0 && max <= G_MAXINT && value >= 0 && value <= max) {
      js->step = value;
      js->steps = max;
    }
  } else if (g_strcmp0 (type, "executing") == 0 &&
      g_strcmp0 (pid, prompt_id) == 0 && data &&
      json_object_has_member (data, "node") &&
      JSON_NODE_HOLDS_NULL (json_object_get_member (data, "node"))) {
    GST_DEBUG ("prompt %s: ComfyUI finished executing it", prompt_id);
  }
  json_node_unref (node);
}

/* Reads what the websocket of @prompt_id has so far, without waiting, and
 * puts the latest steps in @res when the history has none. */
static void
follow_socket (Wr2vEngine * engine, const gchar * prompt_id,
    Wr2vPollResult * res)
{
  ComfyPriv *priv = get_priv (engine);
  JobSocket *js = NULL;
  gchar *key = NULL;

  g_mutex_lock (&priv->lock);
  if (!g_hash_table_steal_extended (priv->sockets, prompt_id,
          (gpointer *) & key, (gpointer *) & js))
    js = NULL;
  g_mutex_unlock (&priv->lock);
  if (!js)
    return;

  if (js->ws) {
    gsize budget = WS_DRAIN_BYTES;
    GError *err = NULL;
    GBytes *msg;

    while ((msg = wr2v_websocket_read (js->ws, &budget, &err))) {
      socket_message (js, prompt_id, msg);
      g_bytes_unref (msg);
    }
    if (err) {
      GST_INFO ("job %s: progress websocket lost (%s); polling the history "
          "only", prompt_id, err->message);
      g_error_free (err);
      g_clear_pointer (&js->ws, wr2v_websocket_free);
    }
  }
  if (js->steps > 0 && res->steps == 0) {
    res->step = js->step;
    res->steps = js->steps;
  }

  g_mutex_lock (&priv->lock);
  g_hash_table_replace (priv->sockets, key, js);
  g_mutex_unlock (&priv->lock);
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

/* Removes the prompts queued under @client_id: after a submit whose
 * answer was lost, so that a rerun does not leave a twin on the GPU. */
static void
forget_client_prompts (Wr2vEngine * engine, const gchar * client_id)
{
  ComfyPriv *priv = get_priv (engine);
  Wr2vHttpRequest hr = { 0, };
  Wr2vHttpResponse resp = { 0, };
  Wr2vComfyuiQueue q = { 0, };
  gchar *url = api_route (engine, "/queue", NULL);
  guint i;

  if (!url)
    goto out;
  hr.method = WR2V_HTTP_GET;
  hr.url = url;
  hr.timeout_s = CANCEL_TIMEOUT_S;
  hr.connect_timeout_s = CANCEL_TIMEOUT_S;
  if (!wr2v_http_perform (priv->http, &hr, &resp, NULL) || resp.status != 200)
    goto out;
  {
    gsize len = 0;
    const gchar *data = g_bytes_get_data (resp.body, &len);

    if (!wr2v_comfyui_parse_queue (data, len, NULL, client_id, &q, NULL))
      goto out;
  }
  for (i = 0; i < q.client_prompts->len; i++) {
    GST_INFO ("removing prompt %s of a lost submit",
        (gchar *) g_ptr_array_index (q.client_prompts, i));
    engine->klass->cancel_remote (engine,
        g_ptr_array_index (q.client_prompts, i));
  }
out:
  wr2v_comfyui_queue_clear (&q);
  wr2v_http_response_clear (&resp);
  g_free (url);
}

static gchar *
comfyui_submit (Wr2vEngine * engine, Wr2vJob * job, GError ** error)
{
  ComfyPriv *priv = get_priv (engine);
  Wr2vRequest *req = job->request;
  Uploaded *up = NULL;
  Values v = { 0, };
  JsonNode *graph = NULL, *body_node = NULL;
  JsonObject *body_obj;
  Wr2vComfyuiPromptAnswer answer = { 0, };
  GError *unreadable = NULL;
  Wr2vHttpRequest hr = { 0, };
  Wr2vHttpResponse resp = { 0, };
  GError *local = NULL;
  gchar *path = NULL, *url = NULL, *body = NULL, *prompt = NULL;
  gchar *client_id = NULL, *id = NULL, *key = NULL;
  Wr2vWebsocket *ws = NULL;
  gboolean small = FALSE;
  guint found = 0;

  graph = load_checked_workflow (engine, &path, &found, &small, error);
  if (!graph)
    goto out;
  g_mutex_lock (&priv->lock);
  if (g_hash_table_steal_extended (priv->uploads, job->hash ? job->hash : "",
          (gpointer *) & key, (gpointer *) & up))
    g_free (key);
  g_mutex_unlock (&priv->lock);
  if (!up || ((found & PH_REFERENCE) && !up->single) ||
      ((found & PH_REFERENCES) && !up->batch)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
        "The references were not uploaded to ComfyUI before the submit");
    goto out;
  }

  prompt = wr2v_prompt_translate (req->prompt,
      WR2V_PROMPT_STYLE_REFERENCE_IMAGE);
  v.prompt = prompt;
  v.negative = req->negative_prompt && *req->negative_prompt ?
      req->negative_prompt : DEFAULT_NEGATIVE_PROMPT;
  v.reference = up->single;
  v.references = up->batch;
  v.seed = job_seed (job);
  render_size (req, small, &v.width, &v.height);
  v.length = frame_count (req->duration);
  v.fps = WAN_FPS;
  if (!walk_workflow (graph, path, &v, NULL, NULL, error))
    goto out;

  url = api_route (engine, "/prompt", error);
  if (!url)
    goto out;
  {
    guint32 r[2] = { g_random_int (), g_random_int () };
    client_id = g_strdup_printf ("wanr2v-%08x%08x", r[0], r[1]);
  }
  body_obj = json_object_new ();
  json_object_set_member (body_obj, "prompt", graph);
  graph = NULL;
  json_object_set_string_member (body_obj, "client_id", client_id);
  body_node = json_node_new (JSON_NODE_OBJECT);
  json_node_take_object (body_node, body_obj);
  body = node_to_string (body_node);

  hr.method = WR2V_HTTP_POST;
  hr.url = url;
  hr.body = g_bytes_new_static (body, strlen (body));
  hr.content_type = "application/json";
  hr.timeout_s = SUBMIT_TIMEOUT_S;
  hr.low_speed_time_s = SUBMIT_TIMEOUT_S;
  hr.cancellable = job->cancellable;
  /* a fresh connection: on a reused one that dies, libcurl resends */
  hr.no_resend = TRUE;

  wr2v_job_phase (job, WR2V_PHASE_SUBMIT, "queueing the workflow in ComfyUI "
      "(%dx%d, %d frames at %d fps, seed %" G_GINT64_FORMAT ")", v.width,
      v.height, v.length, v.fps, v.seed);
  /* before the submit: the first progress message may come right after */
  ws = open_socket (engine, job, client_id);
  if (g_cancellable_set_error_if_cancelled (job->cancellable, error))
    goto out;
  /* never retried: a second POST queues a second job on the GPU */
  if (!wr2v_http_perform (priv->http, &hr, &resp, &local)) {
    if (resp.request_sent) {
      /* it may be queued: free the GPU, then the next run may submit
       * again (a local job costs nothing but time) */
      forget_client_prompts (engine, client_id);
      if (!g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (&local, "ComfyUI did not answer the submit (any "
            "job it queued was removed again; run again to retry): ");
    }
    prefix_unreachable (engine, &local);
    g_propagate_error (error, local);
    goto out;
  }
  wr2v_job_detail_int (job, "http-status", resp.status);
  {
    gsize len = 0;
    const gchar *data = resp.body ? g_bytes_get_data (resp.body, &len) : NULL;

    /* unreadable: no prompt_id, no message, which is handled below */
    if (!wr2v_comfyui_parse_prompt (data, len, &answer, &unreadable))
      wr2v_http_hint_content_type (&resp, &unreadable);
  }

  if (resp.status == 400) {
    gchar *msg = server_text (answer.error_message, 300);
    gchar *nodes = g_strdup (answer.node_errors ? answer.node_errors : "");
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
    g_free (nodes);
    goto out;
  }
  if (resp.status != 200) {
    gchar *text = body_text (resp.body, 200);

    /* a crash while queueing: clear what it may have queued */
    forget_client_prompts (engine, client_id);
    g_set_error (error, WR2V_ERROR, resp.status >= 500 ?
        WR2V_ERROR_NETWORK : WR2V_ERROR_PROTOCOL,
        "ComfyUI answered the submit with HTTP %u%s%s", resp.status,
        text && *text ? ": " : "", text ? text : "");
    g_free (text);
    goto out;
  }
  if (!wr2v_comfyui_prompt_id_ok (answer.prompt_id)) {
    forget_client_prompts (engine, client_id);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "ComfyUI's answer to the submit has no usable prompt_id%s%s%s (any "
        "job it queued was removed again). Is api-url really a ComfyUI "
        "server?", unreadable ? " (" : "", unreadable ? unreadable->message :
        "", unreadable ? ")" : "");
    goto out;
  }
  if (answer.n_node_errors > 0) {
    /* queued anyway: some outputs were valid */
    GST_WARNING ("ComfyUI queued %s with node errors: %s", answer.prompt_id,
        answer.node_errors);
  }
  id = g_steal_pointer (&answer.prompt_id);
  GST_INFO ("queued prompt %s (client %s)", id, client_id);
  keep_socket (engine, id, g_steal_pointer (&ws));

out:
  wr2v_websocket_free (ws);
  if (hr.body)
    g_bytes_unref (hr.body);
  wr2v_http_response_clear (&resp);
  wr2v_comfyui_prompt_answer_clear (&answer);
  g_clear_error (&unreadable);
  if (body_node)
    json_node_unref (body_node);
  if (graph)
    json_node_unref (graph);
  uploaded_free (up);
  g_free (client_id);
  g_free (body);
  g_free (url);
  g_free (prompt);
  g_free (path);
  return id;
}

/* --- poll --- */

/* One GET from ComfyUI, retried on 5xx and resets: the body of a 200. */
static GBytes *
get_body (Wr2vEngine * engine, Wr2vJob * job, const gchar * route,
    const gchar * what, guint * status, gchar ** content_type, GError ** error)
{
  ComfyPriv *priv = get_priv (engine);
  Wr2vHttpRequest hr = { 0, };
  Wr2vHttpResponse resp = { 0, };
  Wr2vHttpRetry retry = { 6, 500, 8000, 30 };
  GBytes *body = NULL;
  gchar *url = api_route (engine, route, error);

  if (!url)
    return NULL;
  hr.method = WR2V_HTTP_GET;
  hr.url = url;
  hr.timeout_s = API_TIMEOUT_S;
  hr.low_speed_time_s = API_TIMEOUT_S;
  hr.cancellable = job->cancellable;
  if (!wr2v_http_perform_retry (priv->http, &hr, &retry, &resp, error)) {
    prefix_unreachable (engine, error);
    goto out;
  }
  *status = resp.status;
  if (resp.status != 200) {
    g_set_error (error, WR2V_ERROR, wr2v_http_status_is_transient
        (resp.status) ? WR2V_ERROR_NETWORK : WR2V_ERROR_PROTOCOL,
        "ComfyUI answered HTTP %u while %s", resp.status, what);
    goto out;
  }
  body = g_bytes_ref (resp.body);
  *content_type = g_strdup (resp.content_type);
out:
  wr2v_http_response_clear (&resp);
  g_free (url);
  return body;
}

static void
set_unreadable (GError ** error, const gchar * what,
    const gchar * content_type, GError * local)
{
  Wr2vHttpResponse resp = { 0, };

  resp.content_type = (gchar *) content_type;
  wr2v_http_hint_content_type (&resp, &local);
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

static gboolean
comfyui_poll (Wr2vEngine * engine, Wr2vJob * job, const gchar * job_id,
    Wr2vPollResult * res, GError ** error)
{
  Wr2vComfyuiHistory h = { 0, };
  GBytes *body = NULL;
  gchar *route = NULL, *what = NULL, *esc;
  guint http_status = 0;
  gboolean ok = FALSE;
  gint attempt;

  if (!wr2v_comfyui_prompt_id_ok (job_id)) {
    gchar *shown = g_strescape (job_id ? job_id : "", NULL);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NOT_FOUND,
        "\"%s\" is not a ComfyUI prompt id", shown);
    g_free (shown);
    return FALSE;
  }
  wr2v_job_detail_string (job, "job-id", job_id);
  esc = wr2v_http_escape_segment (job_id);
  route = g_strconcat ("/history/", esc, NULL);
  g_free (esc);
  what = g_strdup_printf ("polling job %s", job_id);

  /* {} until done; then a look at the queue tells queued from running,
   * and a job in neither place (ComfyUI restarted) from one that just
   * finished between the two requests */
  for (attempt = 0;; attempt++) {
    Wr2vComfyuiQueue q = { 0, };
    Wr2vComfyuiQueuePlace place;
    gboolean place_known;
    GError *qerr = NULL, *local = NULL;
    gchar *ctype = NULL;
    gsize len = 0;
    const gchar *data;

    g_clear_pointer (&body, g_bytes_unref);
    body = get_body (engine, job, route, what, &http_status, &ctype, error);
    if (body) {
      data = g_bytes_get_data (body, &len);
      if (!wr2v_comfyui_parse_history (data, len, job_id, &h, &local)) {
        set_unreadable (error, what, ctype, local);
        g_clear_pointer (&body, g_bytes_unref);
      }
    }
    g_clear_pointer (&ctype, g_free);
    if (!body) {
      if (error && *error && (*error)->domain == WR2V_ERROR)
        g_prefix_error (error, "Polling ComfyUI job %s failed (run again "
            "to resume it): ", job_id);
      goto out;
    }
    if (h.found)
      break;
    if (attempt > 0) {
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_NOT_FOUND,
          "ComfyUI no longer knows job %s: it is neither queued nor in its "
          "history, so ComfyUI was restarted or the job was removed there. "
          "Run again to queue it anew.", job_id);
      goto out;
    }
    g_clear_pointer (&body, g_bytes_unref);
    body = get_body (engine, job, "/queue", "reading the queue",
        &http_status, &ctype, &qerr);
    if (body) {
      data = g_bytes_get_data (body, &len);
      if (!wr2v_comfyui_parse_queue (data, len, job_id, NULL, &q, &local)) {
        set_unreadable (&qerr, "reading the queue", ctype, local);
        g_clear_pointer (&body, g_bytes_unref);
      } else if (q.place != WR2V_COMFYUI_QUEUE_ABSENT &&
          socket_wanted (engine, job_id)) {
        /* a resumed job: no submit opened its websocket */
        gchar *client_id = queue_client_id (data, len, job_id);

        if (client_id)
          keep_socket (engine, job_id, open_socket (engine, job, client_id));
        g_free (client_id);
      }
    }
    g_clear_pointer (&ctype, g_free);
    if (!body) {
      if (g_error_matches (qerr, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        g_propagate_error (error, qerr);
        wr2v_comfyui_queue_clear (&q);
        goto out;
      }
      /* can't tell: the history answers next time */
      GST_DEBUG ("queue unreadable: %s", qerr->message);
      g_clear_error (&qerr);
      place_known = FALSE;
      place = WR2V_COMFYUI_QUEUE_RUNNING;
    } else {
      place_known = TRUE;
      place = q.place;
    }
    if (place_known && place == WR2V_COMFYUI_QUEUE_ABSENT) {
      wr2v_comfyui_queue_clear (&q);
      continue;
    }
    g_free (res->status);
    if (place_known && place == WR2V_COMFYUI_QUEUE_PENDING) {
      res->state = WR2V_POLL_QUEUED;
      res->status = q.ahead ? g_strdup_printf ("queued, %u job%s ahead",
          q.ahead, q.ahead == 1 ? "" : "s") : g_strdup ("queued");
    } else {
      res->state = WR2V_POLL_RUNNING;
      res->status = g_strdup ("running");
    }
    wr2v_comfyui_queue_clear (&q);
    ok = TRUE;
    goto out;
  }

  res->step = h.step;
  res->steps = h.steps;
  g_free (res->status);
  res->status = server_text (h.status_str ? h.status_str : "done", 64);

  if (!h.is_object) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "ComfyUI's history entry for job %s is not an object; run again to "
        "resume it", job_id);
  } else if (g_strcmp0 (h.status_str, "error") == 0 || !h.completed) {
    set_job_failed (job, job_id, &h, res, error);
  } else {
    gchar *url = output_url (engine, job_id, &h, error);

    if (url) {
      res->state = WR2V_POLL_SUCCEEDED;
      g_free (res->output_url);
      res->output_url = url;
      ok = TRUE;
    }
  }

out:
  if (ok)
    follow_socket (engine, job_id, res);
  /* over (done, failed, unknown) or the driver stops here */
  if (!ok || res->state == WR2V_POLL_SUCCEEDED)
    drop_socket (engine, job_id);
  if (body)
    g_bytes_unref (body);
  wr2v_comfyui_history_clear (&h);
  g_free (route);
  g_free (what);
  return ok;
}

/* --- fetch --- */

typedef struct
{
  Wr2vJob *job;
  gint last_pct;
  gint64 last_time;
} ProgressState;

static void
on_progress (gpointer data, gboolean upload, guint64 now, guint64 total)
{
  ProgressState *ps = data;
  gint64 t = g_get_monotonic_time ();
  gint pct;

  if (upload || total == 0)
    return;
  pct = (gint) (now * 100 / total);
  /* every 10 %, at most twice a second: each is a message */
  if (pct / 10 == ps->last_pct / 10 || (t - ps->last_time < G_USEC_PER_SEC
          / 2 && pct < 100))
    return;
  ps->last_pct = pct;
  ps->last_time = t;
  wr2v_job_phase (ps->job, WR2V_PHASE_DOWNLOAD, "downloading the clip: %d%%",
      pct);
}

static gboolean
comfyui_fetch (Wr2vEngine * engine, Wr2vJob * job, const gchar * url,
    const gchar * out_path, GError ** error)
{
  ComfyPriv *priv = get_priv (engine);
  Wr2vHttpRequest hr = { 0, };
  Wr2vHttpResponse resp = { 0, };
  Wr2vHttpRetry retry = { 4, 500, 4000, 10 };
  ProgressState ps = { job, -10, 0 };
  const gchar *id = job->job_id ? job->job_id : "?";
  gchar *base = get_base_url (engine, error);
  gboolean ok = FALSE;

  if (!base)
    return FALSE;
  /* the URL came from poll, built on api-url: nothing else is fetched */
  if (!g_str_has_prefix (url, base) || strncmp (url + strlen (base),
          "/view?", 6) != 0) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "refusing to download the result of ComfyUI job %s from outside "
        "api-url", id);
    goto out;
  }
  hr.method = WR2V_HTTP_GET;
  hr.url = url;
  hr.download_path = out_path;
  hr.max_body_bytes = engine->settings.max_download_bytes ?
      engine->settings.max_download_bytes : WR2V_DEFAULT_MAX_DOWNLOAD_BYTES;
  hr.low_speed_time_s = 60;
  hr.progress = on_progress;
  hr.progress_data = &ps;
  hr.cancellable = job->cancellable;

  wr2v_job_phase (job, WR2V_PHASE_DOWNLOAD, "downloading the clip of "
      "ComfyUI job %s", id);
  if (!wr2v_http_perform_retry (priv->http, &hr, &retry, &resp, error)) {
    if (error && *error && (*error)->domain == WR2V_ERROR &&
        (*error)->code == WR2V_ERROR_NETWORK)
      g_prefix_error (error, "Downloading the clip of ComfyUI job %s failed "
          "(run again to retry; it stays in ComfyUI's output folder): ", id);
    goto out;
  }
  if (resp.status == 404) {
    wr2v_job_detail_int (job, "http-status", 404);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NOT_FOUND,
        "The clip of ComfyUI job %s is no longer in ComfyUI's output folder "
        "(HTTP 404); run again to queue the job anew", id);
    goto out;
  }
  if (resp.status < 200 || resp.status >= 300) {
    wr2v_job_detail_int (job, "http-status", resp.status);
    g_set_error (error, WR2V_ERROR, wr2v_http_status_is_transient
        (resp.status) ? WR2V_ERROR_NETWORK : WR2V_ERROR_PROTOCOL,
        "Downloading the clip of ComfyUI job %s failed with HTTP %u; run "
        "again to retry", id, resp.status);
    goto out;
  }
  if (resp.body_bytes == 0) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_BAD_RESULT,
        "The clip of ComfyUI job %s is empty", id);
    goto out;
  }
  GST_INFO ("job %s: downloaded %" G_GUINT64_FORMAT " bytes", id,
      resp.body_bytes);
  ok = TRUE;

out:
  wr2v_http_response_clear (&resp);
  g_free (base);
  return ok;
}

/* --- cancel --- */

static gboolean
post_json (Wr2vEngine * engine, const gchar * route, const gchar * json)
{
  ComfyPriv *priv = get_priv (engine);
  Wr2vHttpRequest hr = { 0, };
  Wr2vHttpResponse resp = { 0, };
  GError *err = NULL;
  gchar *url = api_route (engine, route, NULL);
  gboolean ok;

  if (!url)
    return FALSE;
  hr.method = WR2V_HTTP_POST;
  hr.url = url;
  hr.body = g_bytes_new_static (json, strlen (json));
  hr.content_type = "application/json";
  /* the job's cancellable has fired: a short leash of its own instead */
  hr.timeout_s = CANCEL_TIMEOUT_S;
  hr.connect_timeout_s = CANCEL_TIMEOUT_S;
  ok = wr2v_http_perform (priv->http, &hr, &resp, &err) && resp.status == 200;
  if (!ok)
    GST_WARNING ("POST %s failed: %s (HTTP %u)", route,
        err ? err->message : "refused", resp.status);
  g_clear_error (&err);
  g_bytes_unref (hr.body);
  wr2v_http_response_clear (&resp);
  g_free (url);
  return ok;
}

/* Whether @job_id is running (or we can't tell), with a short timeout. */
static gboolean
maybe_running (Wr2vEngine * engine, const gchar * job_id)
{
  ComfyPriv *priv = get_priv (engine);
  Wr2vHttpRequest hr = { 0, };
  Wr2vHttpResponse resp = { 0, };
  Wr2vComfyuiQueue q = { 0, };
  gchar *url = api_route (engine, "/queue", NULL);
  gboolean running = TRUE;

  if (!url)
    return TRUE;
  hr.method = WR2V_HTTP_GET;
  hr.url = url;
  hr.timeout_s = CANCEL_TIMEOUT_S;
  hr.connect_timeout_s = CANCEL_TIMEOUT_S;
  if (wr2v_http_perform (priv->http, &hr, &resp, NULL) && resp.status == 200) {
    gsize len = 0;
    const gchar *data = g_bytes_get_data (resp.body, &len);

    if (wr2v_comfyui_parse_queue (data, len, job_id, NULL, &q, NULL))
      running = q.place == WR2V_COMFYUI_QUEUE_RUNNING;
  }
  wr2v_comfyui_queue_clear (&q);
  wr2v_http_response_clear (&resp);
  g_free (url);
  return running;
}

static void
comfyui_cancel_remote (Wr2vEngine * engine, const gchar * job_id)
{
  gchar *json;

  if (!wr2v_comfyui_prompt_id_ok (job_id))
    return;
  drop_socket (engine, job_id);
  GST_INFO ("stopping ComfyUI job %s", job_id);
  /* first out of the queue, so it can't start after the interrupt */
  json = g_strdup_printf ("{\"delete\":[\"%s\"]}", job_id);
  post_json (engine, "/queue", json);
  g_free (json);
  /* an old ComfyUI interrupts whatever runs, whatever prompt_id says:
   * only when it is ours (or we can't tell) */
  if (maybe_running (engine, job_id)) {
    json = g_strdup_printf ("{\"prompt_id\":\"%s\"}", job_id);
    post_json (engine, "/interrupt", json);
    g_free (json);
  }
}

/* --- the engine --- */

static void
comfyui_finalize (Wr2vEngine * engine)
{
  ComfyPriv *priv = engine->priv;

  if (!priv)
    return;
  wr2v_http_free (priv->http);
  if (priv->wf_bytes)
    g_bytes_unref (priv->wf_bytes);
  g_free (priv->wf_path);
  g_free (priv->wf_sha256);
  g_hash_table_unref (priv->uploads);
  /* a job that timed out still has its websocket */
  g_hash_table_unref (priv->sockets);
  g_hash_table_unref (priv->sockets_tried);
  g_mutex_clear (&priv->lock);
  g_free (priv);
  engine->priv = NULL;
}

static const Wr2vEngineClass comfyui_class = {
  .name = ENGINE_NAME,
  .description = "ComfyUI on your own GPU running open Wan models (local)",
  .key_variable = NULL,
  .default_timeout_s = WR2V_DEFAULT_LOCAL_TIMEOUT_S,
  .check = comfyui_check,
  .estimate_cost = comfyui_estimate_cost,
  .identity = comfyui_identity,
  .prepare = comfyui_prepare,
  .submit = comfyui_submit,
  .poll = comfyui_poll,
  .fetch = comfyui_fetch,
  .cancel_remote = comfyui_cancel_remote,
  .finalize = comfyui_finalize,
};

Wr2vEngine *
wr2v_engine_comfyui_new (void)
{
  static gsize once = 0;
  Wr2vEngine *engine;
  ComfyPriv *priv;

  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (wr2v_comfyui_debug, "wanr2vcomfyui", 0,
        "wanr2v ComfyUI engine");
    g_once_init_leave (&once, 1);
  }

  priv = g_new0 (ComfyPriv, 1);
  priv->http = wr2v_http_new ();
  g_mutex_init (&priv->lock);
  priv->uploads = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) uploaded_free);
  priv->sockets = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      (GDestroyNotify) job_socket_free);
  priv->sockets_tried = g_hash_table_new_full (g_str_hash, g_str_equal,
      g_free, NULL);

  engine = g_new0 (Wr2vEngine, 1);
  engine->klass = &comfyui_class;
  engine->priv = priv;
  return engine;
}
