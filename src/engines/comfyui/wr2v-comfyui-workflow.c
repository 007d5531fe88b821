/* wr2v-comfyui-workflow.c: the ComfyUI workflow read, checked, scanned
 * and filled in, and the sizes the model renders at (see the header). */
#include "config.h"

#include <string.h>

#include <gst/gst.h>

#include "wr2v-comfyui.h"
#include "wr2v-comfyui-wire.h"
#include "wr2v-comfyui-workflow.h"
#include "wr2v-error.h"
#include "wr2v-http.h"

#define GST_CAT_DEFAULT wr2v_comfyui_debug

#define DEFAULT_WORKFLOW "wan21-vace-1.3b-r2v.json"
#define MAX_WORKFLOW_BYTES (4 * 1024 * 1024)
/* Wan2.1 [C: docs/engines/comfyui.md]: sizes in steps of 16 */
#define SIZE_STEP 16

#ifndef WANR2V_PKGDATADIR
#define WANR2V_PKGDATADIR NULL
#endif
#ifndef WANR2V_SRC_DATADIR
#define WANR2V_SRC_DATADIR NULL
#endif

static const struct
{
  const gchar *token;
  Wr2vComfyuiPlaceholder flag;
} placeholders[] = {
  {"{{prompt}}", WR2V_COMFYUI_PH_PROMPT},
  {"{{negative_prompt}}", WR2V_COMFYUI_PH_NEGATIVE},
  {"{{reference_image}}", WR2V_COMFYUI_PH_REFERENCE},
  {"{{reference_images}}", WR2V_COMFYUI_PH_REFERENCES},
  {"{{seed}}", WR2V_COMFYUI_PH_SEED},
  {"{{width}}", WR2V_COMFYUI_PH_WIDTH},
  {"{{height}}", WR2V_COMFYUI_PH_HEIGHT},
  {"{{length}}", WR2V_COMFYUI_PH_LENGTH},
  {"{{fps}}", WR2V_COMFYUI_PH_FPS},
};

#define PLACEHOLDER_LIST "{{prompt}}, {{negative_prompt}}, " \
  "{{reference_image}}, {{reference_images}}, {{seed}}, {{width}}, " \
  "{{height}}, {{length}}, {{fps}}"

/* --- reading --- */

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
is_default (const gchar * setting)
{
  return !setting || !*setting;
}

/* The workflow's bytes, read once per engine. */
static GBytes *
workflow_bytes (Wr2vComfyuiWorkflow * wf, const gchar * setting,
    gchar ** path_out, GError ** error)
{
  GBytes *bytes = NULL;
  gchar *path, *data = NULL;
  gsize len = 0;
  GError *local = NULL;

  g_mutex_lock (&wf->lock);
  if (wf->bytes) {
    bytes = g_bytes_ref (wf->bytes);
    if (path_out)
      *path_out = g_strdup (wf->path);
    g_mutex_unlock (&wf->lock);
    return bytes;
  }
  g_mutex_unlock (&wf->lock);

  path = is_default (setting) ? default_workflow_path () : g_strdup (setting);
  if (!g_file_get_contents (path, &data, &len, &local)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "Cannot read the ComfyUI workflow %s: %s.%s", path, local->message,
        is_default (setting) ? " The shipped default workflow "
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

  g_mutex_lock (&wf->lock);
  if (!wf->bytes) {
    wf->bytes = g_bytes_ref (bytes);
    wf->path = g_strdup (path);
    wf->sha256 = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, bytes);
  }
  g_mutex_unlock (&wf->lock);
  if (path_out)
    *path_out = path;
  else
    g_free (path);
  return bytes;
}

/* The workflow parsed and checked to be API format (an object of nodes
 * with class_type and inputs). Unref the node. */
static JsonNode *
load_workflow (Wr2vComfyuiWorkflow * wf, const gchar * setting,
    gchar ** path_out, GError ** error)
{
  gchar *path = NULL;
  GBytes *bytes = workflow_bytes (wf, setting, &path, error);
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
    JsonObject *inputs;

    if (!wr2v_comfyui_graph_node (obj, l->data, &inputs) || !inputs) {
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

void
wr2v_comfyui_workflow_init (Wr2vComfyuiWorkflow * wf)
{
  memset (wf, 0, sizeof *wf);
  g_mutex_init (&wf->lock);
}

void
wr2v_comfyui_workflow_clear (Wr2vComfyuiWorkflow * wf)
{
  if (wf->bytes)
    g_bytes_unref (wf->bytes);
  g_free (wf->path);
  g_free (wf->sha256);
  g_mutex_clear (&wf->lock);
}

gchar *
wr2v_comfyui_workflow_sha256 (Wr2vComfyuiWorkflow * wf, const gchar * setting)
{
  GBytes *bytes = workflow_bytes (wf, setting, NULL, NULL);
  gchar *sha;

  if (!bytes)
    return NULL;
  g_bytes_unref (bytes);
  g_mutex_lock (&wf->lock);
  sha = g_strdup (wf->sha256);
  g_mutex_unlock (&wf->lock);
  return sha;
}

/* --- placeholders --- */

typedef struct
{
  const Wr2vComfyuiValues *values;      /* NULL: only scan */
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
placeholder_value (const Wr2vComfyuiValues * v, Wr2vComfyuiPlaceholder ph)
{
  switch (ph) {
    case WR2V_COMFYUI_PH_PROMPT:
      return string_node (v->prompt);
    case WR2V_COMFYUI_PH_NEGATIVE:
      return string_node (v->negative);
    case WR2V_COMFYUI_PH_REFERENCE:
      return string_node (v->reference);
    case WR2V_COMFYUI_PH_REFERENCES:{
      JsonArray *a = json_array_new ();
      JsonNode *n = json_node_new (JSON_NODE_ARRAY);
      guint i;

      for (i = 0; v->references && i < v->references->len; i++)
        json_array_add_string_element (a, g_ptr_array_index (v->references, i));
      json_node_take_array (n, a);
      return n;
    }
    case WR2V_COMFYUI_PH_SEED:
      return int_node (v->seed);
    case WR2V_COMFYUI_PH_WIDTH:
      return int_node (v->width);
    case WR2V_COMFYUI_PH_HEIGHT:
      return int_node (v->height);
    case WR2V_COMFYUI_PH_LENGTH:
      return int_node (v->length);
    case WR2V_COMFYUI_PH_FPS:
      return int_node (v->fps);
  }
  return NULL;
}

static void
walk_set_error (Walk * w, const gchar * what, const gchar * value)
{
  gchar *shown = wr2v_http_safe_text (value, 80, NULL);

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

static JsonNode *walk_node (Walk * w, JsonNode * node, const gchar * member);

static void
walk_object (Walk * w, JsonObject * obj)
{
  GList *members = json_object_get_members (obj), *l;

  for (l = members; l; l = l->next) {
    const gchar *name = l->data;
    JsonNode *r = walk_node (w, json_object_get_member (obj, name), name);

    /* set_member may free @name: it is not used after this */
    if (r)
      json_object_set_member (obj, name, r);
  }
  g_list_free (members);
}

/* json-glib can't replace an element: a changed array is rebuilt, and
 * returned; NULL when nothing changed. */
static JsonNode *
walk_array (Walk * w, JsonArray * arr)
{
  guint i, n = json_array_get_length (arr);
  JsonArray *copy = NULL;
  JsonNode *out;

  for (i = 0; i < n; i++) {
    JsonNode *el = json_array_get_element (arr, i);
    JsonNode *r = walk_node (w, el, NULL);

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
  if (!copy)
    return NULL;
  out = json_node_new (JSON_NODE_ARRAY);
  json_node_take_array (out, copy);
  return out;
}

/* A string value of @member: a placeholder's value, or NULL to keep it. */
static JsonNode *
walk_string (Walk * w, const gchar * s, const gchar * member)
{
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
  return NULL;
}

/* Walks a value; returns a replacement node, or NULL to keep it. */
static JsonNode *
walk_node (Walk * w, JsonNode * node, const gchar * member)
{
  if (w->error)
    return NULL;
  if (JSON_NODE_HOLDS_OBJECT (node)) {
    walk_object (w, json_node_get_object (node));
    return NULL;
  }
  if (JSON_NODE_HOLDS_ARRAY (node))
    return walk_array (w, json_node_get_array (node));
  if (JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_STRING)
    return walk_string (w, json_node_get_string (node), member);
  return NULL;
}

/* Scans (values NULL) or fills in (values set) the placeholders of
 * @root, node by node. */
static gboolean
walk_workflow (JsonNode * root, const gchar * path,
    const Wr2vComfyuiValues * values, guint * found, gboolean * small_model,
    GError ** error)
{
  JsonObject *obj = json_node_get_object (root);
  GList *members = json_object_get_members (obj), *l;
  Walk w = { 0, };

  w.values = values;
  w.path = path;
  for (l = members; l && !w.error; l = l->next) {
    JsonObject *inputs;

    w.node_id = l->data;
    w.class_type = wr2v_comfyui_graph_node (obj, l->data, &inputs);
    if (inputs)
      walk_object (&w, inputs);
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

gboolean
wr2v_comfyui_workflow_fill (JsonNode * root, const gchar * path,
    const Wr2vComfyuiValues * values, GError ** error)
{
  return walk_workflow (root, path, values, NULL, NULL, error);
}

/* --- loading: read, parse, scan; refuses a workflow that would ignore
 * the references --- */

JsonNode *
wr2v_comfyui_workflow_load (Wr2vComfyuiWorkflow * wf, const gchar * setting,
    gchar ** path_out, guint * found, gboolean * small_model, GError ** error)
{
  gchar *path = NULL;
  JsonNode *root = load_workflow (wf, setting, &path, error);
  guint f = 0;
  gboolean small = FALSE;

  if (!root)
    return NULL;
  if (!walk_workflow (root, path, NULL, &f, &small, error))
    goto fail;
  if (!(f & (WR2V_COMFYUI_PH_REFERENCE | WR2V_COMFYUI_PH_REFERENCES))) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "The ComfyUI workflow %s has no \"{{reference_image}}\" (one "
        "composed image, e.g. LoadImage's image) or \"{{reference_images}}\" "
        "(a list of image names) placeholder, so the references would be "
        "ignored. Put one of them where the workflow loads its reference.",
        path);
    goto fail;
  }
  if (!(f & WR2V_COMFYUI_PH_PROMPT))
    GST_WARNING ("workflow %s has no {{prompt}}: the prompt is not used", path);
  if (found)
    *found = f;
  if (small_model)
    *small_model = small || is_default (setting);
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
  /* 480p: the short side is 480 [C: docs/engines/comfyui.md, 832x480] */
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

void
wr2v_comfyui_render_size (const Wr2vRequest * req, gboolean small, gint * w,
    gint * h)
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

gint
wr2v_comfyui_frame_count (guint duration)
{
  /* 4k+1: the first frame plus whole groups of 4 */
  return (gint) (duration * WR2V_COMFYUI_FPS / 4) * 4 + 1;
}

gchar *
wr2v_comfyui_small_model_note (const Wr2vRequest * req, const gchar * path)
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
