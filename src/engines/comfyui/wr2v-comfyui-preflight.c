/* wr2v-comfyui-preflight.c: see wr2v-comfyui-preflight.h. */
#include "config.h"

#include <string.h>

#include "wr2v-comfyui-preflight.h"
#include "wr2v-comfyui-wire.h"
#include "wr2v-error.h"
#include "wr2v-http.h"
#include "wr2v-json.h"

GST_DEBUG_CATEGORY_EXTERN (wr2v_comfyui_debug);
#define GST_CAT_DEFAULT wr2v_comfyui_debug

#define PREFLIGHT_TIMEOUT_S 30

/* The core loaders, the input that names a file and the folder under
 * ComfyUI/models it comes from [C: ComfyUI nodes.py, folder_paths.py].
 * A custom loader is not known here: its files are checked by ComfyUI
 * when the prompt is queued. */
static const struct
{
  const gchar *class_type;
  const gchar *input;
  const gchar *folder;
} loaders[] = {
  {"UNETLoader", "unet_name", "diffusion_models"},
  {"CLIPLoader", "clip_name", "text_encoders"},
  {"DualCLIPLoader", "clip_name1", "text_encoders"},
  {"DualCLIPLoader", "clip_name2", "text_encoders"},
  {"VAELoader", "vae_name", "vae"},
  {"CheckpointLoaderSimple", "ckpt_name", "checkpoints"},
  {"LoraLoader", "lora_name", "loras"},
  {"LoraLoaderModelOnly", "lora_name", "loras"},
  {"CLIPVisionLoader", "clip_name", "clip_vision"},
  {"UpscaleModelLoader", "model_name", "upscale_models"},
};

void
wr2v_comfyui_model_need_free (Wr2vComfyuiModelNeed * need)
{
  if (!need)
    return;
  wr2v_json_clear_strings (&need->node_id, &need->class_type, &need->input,
      &need->folder, &need->file, NULL);
  g_free (need);
}

static void
add_model_needs (const gchar * node_id, const gchar * class_type,
    JsonObject * inputs, GPtrArray * models)
{
  guint i;

  for (i = 0; i < G_N_ELEMENTS (loaders); i++) {
    const gchar *file;
    Wr2vComfyuiModelNeed *need;

    if (!g_str_equal (class_type, loaders[i].class_type))
      continue;
    file = wr2v_json_string (inputs, loaders[i].input);
    /* a placeholder is filled in later; an empty name is ComfyUI's to
     * refuse */
    if (!file || !*file || g_str_has_prefix (file, "{{"))
      continue;
    need = g_new0 (Wr2vComfyuiModelNeed, 1);
    need->node_id = g_strdup (node_id);
    need->class_type = g_strdup (class_type);
    need->input = g_strdup (loaders[i].input);
    need->folder = g_strdup (loaders[i].folder);
    need->file = g_strdup (file);
    g_ptr_array_add (models, need);
  }
}

static gint
compare_strings (gconstpointer a, gconstpointer b)
{
  return strcmp (*(const gchar * const *) a, *(const gchar * const *) b);
}

void
wr2v_comfyui_graph_needs (JsonObject * graph, GPtrArray ** classes,
    GPtrArray ** models)
{
  GList *ids = graph ? json_object_get_members (graph) : NULL, *l;
  GHashTable *seen = g_hash_table_new (g_str_hash, g_str_equal);

  *classes = g_ptr_array_new_with_free_func (g_free);
  *models = g_ptr_array_new_with_free_func ((GDestroyNotify)
      wr2v_comfyui_model_need_free);
  for (l = ids; l; l = l->next) {
    JsonObject *inputs;
    const gchar *class_type = wr2v_comfyui_graph_node (graph, l->data,
        &inputs);

    if (!class_type)
      continue;
    if (g_hash_table_add (seen, (gpointer) class_type))
      g_ptr_array_add (*classes, g_strdup (class_type));
    add_model_needs (l->data, class_type, inputs, *models);
  }
  g_ptr_array_sort (*classes, compare_strings);
  g_hash_table_unref (seen);
  g_list_free (ids);
}

gboolean
wr2v_comfyui_parse_object_info (const gchar * data, gsize len,
    const gchar * node_class, gboolean * has, GError ** error)
{
  JsonObject *root;
  JsonNode *node = wr2v_json_parse_object (data, len, "ComfyUI", &root,
      error);

  *has = FALSE;
  if (!node)
    return FALSE;
  *has = wr2v_json_object (root, node_class) != NULL;
  json_node_unref (node);
  return TRUE;
}

gboolean
wr2v_comfyui_parse_model_list (const gchar * data, gsize len,
    const gchar * file, gboolean * found, GError ** error)
{
  GBytes *body = g_bytes_new_static (data, len);
  JsonNode *node = wr2v_http_parse_json (body, error);
  JsonArray *names;
  guint i;

  g_bytes_unref (body);
  *found = FALSE;
  if (!node)
    return FALSE;
  if (!JSON_NODE_HOLDS_ARRAY (node)) {
    json_node_unref (node);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "ComfyUI's model list is not a JSON array");
    return FALSE;
  }
  names = json_node_get_array (node);
  for (i = 0; !*found && i < json_array_get_length (names); i++)
    *found = !g_strcmp0 (wr2v_json_node_string (json_array_get_element
            (names, i)), file);
  json_node_unref (node);
  return TRUE;
}

/* --- the checks, against the server --- */

/* GETs {@prefix}{@segment, escaped} (retried on 5xx and resets): the
 * status with the body in @resp and @data, @len; 0 and @error when no
 * answer came. */
static guint
ask (Wr2vRemote * remote, Wr2vJob * job, const gchar * prefix,
    const gchar * segment, Wr2vHttpResponse * resp, const gchar ** data,
    gsize * len, GError ** error)
{
  Wr2vHttpRequest hr = { 0, };
  Wr2vHttpRetry retry = { 3, 500, 4000, PREFLIGHT_TIMEOUT_S };
  gchar *escaped = wr2v_http_escape_segment (segment);
  gchar *route = g_strconcat (prefix, escaped, NULL);
  gchar *url = wr2v_remote_route (remote, route, error);
  guint status = 0;

  *len = 0;
  *data = "";
  hr.method = WR2V_HTTP_GET;
  hr.url = url;
  hr.timeout_s = PREFLIGHT_TIMEOUT_S;
  hr.low_speed_time_s = PREFLIGHT_TIMEOUT_S;
  hr.cancellable = job->cancellable;
  if (url && wr2v_http_perform_retry (remote->http, &hr, &retry, resp, error)) {
    status = resp->status;
    if (resp->body)
      *data = g_bytes_get_data (resp->body, len);
  }
  /* 404: an older ComfyUI (or a folder it doesn't know); else a server in
   * trouble. Either way not checked here; queueing checks again. */
  if (status == 404)
    GST_DEBUG ("preflight: %s is not offered by this ComfyUI (HTTP 404); "
        "not checked before queueing", route);
  else if (status && status != 200)
    GST_INFO ("preflight: %s answered HTTP %u; not checked before "
        "queueing", route, status);
  g_free (url);
  g_free (route);
  g_free (escaped);
  return status;
}

/* Appends the classes of @classes the server does not have to @missing.
 * FALSE when no answer came. */
static gboolean
check_classes (Wr2vRemote * remote, Wr2vJob * job, GPtrArray * classes,
    GString * missing, GError ** error)
{
  guint i, status = 200;

  /* a route that is not 200 once is so for every class */
  for (i = 0; status == 200 && i < classes->len; i++) {
    const gchar *node_class = g_ptr_array_index (classes, i);
    Wr2vHttpResponse resp = { 0, };
    const gchar *data;
    gsize len;
    gboolean has = TRUE;

    status = ask (remote, job, "/object_info/", node_class, &resp, &data,
        &len, error);
    if (status == 200 && wr2v_comfyui_parse_object_info (data, len,
            node_class, &has, NULL) && !has)
      g_string_append_printf (missing, "%snode class %s (install the "
          "custom node that provides it, or change the workflow)",
          missing->len ? "; " : "", node_class);
    wr2v_http_response_clear (&resp);
  }
  return status != 0;
}

/* Appends the model files of @models not installed to @missing. FALSE
 * when no answer came. */
static gboolean
check_models (Wr2vRemote * remote, Wr2vJob * job, GPtrArray * models,
    GString * missing, GError ** error)
{
  guint i, status = 200;

  for (i = 0; status != 0 && i < models->len; i++) {
    Wr2vComfyuiModelNeed *need = g_ptr_array_index (models, i);
    Wr2vHttpResponse resp = { 0, };
    const gchar *data;
    gsize len;
    gboolean found = TRUE;

    status = ask (remote, job, "/models/", need->folder, &resp, &data, &len,
        error);
    if (status == 200 && wr2v_comfyui_parse_model_list (data, len,
            need->file, &found, NULL) && !found)
      g_string_append_printf (missing, "%smodel file \"%s\" in folder "
          "models/%s (node %s, %s %s): download it into "
          "ComfyUI/models/%s/, or change the workflow",
          missing->len ? "; " : "", need->file, need->folder,
          need->node_id, need->class_type, need->input, need->folder);
    wr2v_http_response_clear (&resp);
  }
  return status != 0;
}

gboolean
wr2v_comfyui_preflight (Wr2vRemote * remote, Wr2vJob * job,
    JsonObject * graph, const gchar * path, GError ** error)
{
  GPtrArray *classes, *models;
  GString *missing = g_string_new (NULL);
  gboolean ok;

  wr2v_comfyui_graph_needs (graph, &classes, &models);
  ok = check_classes (remote, job, classes, missing, error) &&
      check_models (remote, job, models, missing, error);
  if (ok && missing->len) {
    gchar *shown = wr2v_http_safe_text (missing->str, 1500, NULL);

    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "ComfyUI lacks what the workflow %s needs: %s. Nothing was "
        "uploaded or queued.", path ? path : "(the default)", shown);
    g_free (shown);
    ok = FALSE;
  }
  g_string_free (missing, TRUE);
  g_ptr_array_unref (classes);
  g_ptr_array_unref (models);
  return ok;
}
