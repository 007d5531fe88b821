/* wr2v-comfyui-wire.c: ComfyUI's answers (upload, prompt, history,
 * queue, websocket messages) read into plain structs, and the few bodies
 * it is sent; pure, so that the fuzzer runs exactly this code. The shapes
 * are in docs/engines/comfyui.md, "Wire protocol and sources".
 */
#include "config.h"

#include <string.h>

#include "wr2v-comfyui-wire.h"
#include "wr2v-error.h"
#include "wr2v-http.h"
#include "wr2v-json.h"

/* An integer (a number, not a string), or @def. */
static gint64
int_or (JsonNode * n, gint64 def)
{
  gint64 v;

  return wr2v_json_node_int (n, FALSE, &v) ? v : def;
}

/* --- answers --- */

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

gboolean
wr2v_comfyui_subfolder_ok (const gchar * s)
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

void
wr2v_comfyui_upload_clear (Wr2vComfyuiUpload * u)
{
  wr2v_json_clear_answer (u, &u->name, &u->subfolder, NULL);
}

gboolean
wr2v_comfyui_parse_upload (const gchar * data, gsize len,
    Wr2vComfyuiUpload * out, GError ** error)
{
  JsonNode *node;
  JsonObject *root;

  wr2v_comfyui_upload_clear (out);
  node = wr2v_json_parse_object (data, len, NULL, &root, error);
  if (!node)
    return FALSE;
  out->name = g_strdup (wr2v_json_string (root, "name"));
  out->subfolder = g_strdup (wr2v_json_string (root, "subfolder"));
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
    JsonObject *ne = wr2v_json_object (node_errors, l->data);
    JsonArray *errs = wr2v_json_array (ne, "errors");
    guint i;

    g_string_append_printf (s, "%snode %.80s (%.80s):", s->len ? "; " : "",
        (const gchar *) l->data, wr2v_json_string (ne, "class_type") ?
        wr2v_json_string (ne, "class_type") : "?");
    for (i = 0; errs && i < json_array_get_length (errs) && i < 3; i++) {
      JsonNode *en = json_array_get_element (errs, i);
      JsonObject *e = JSON_NODE_HOLDS_OBJECT (en) ?
          json_node_get_object (en) : NULL;
      const gchar *msg = wr2v_json_string (e, "message");
      const gchar *details = wr2v_json_string (e, "details");

      /* each part bounded: one hostile string must not cost megabytes */
      g_string_append_printf (s, " %.300s%s%.300s", msg ? msg : "error",
          details && *details ? ": " : "", details ? details : "");
    }
  }
  g_list_free (members);
  text = wr2v_http_safe_text (s->str, 800, NULL);
  g_string_free (s, TRUE);
  return text;
}

void
wr2v_comfyui_prompt_answer_clear (Wr2vComfyuiPromptAnswer * a)
{
  wr2v_json_clear_answer (a, &a->prompt_id, &a->error_message,
      &a->node_errors, NULL);
}

gboolean
wr2v_comfyui_parse_prompt (const gchar * data, gsize len,
    Wr2vComfyuiPromptAnswer * out, GError ** error)
{
  JsonNode *node;
  JsonObject *root, *ne;

  wr2v_comfyui_prompt_answer_clear (out);
  out->node_errors = g_strdup ("");
  node = wr2v_json_parse_object (data, len, NULL, &root, error);
  if (!node)
    return FALSE;
  out->prompt_id = g_strdup (wr2v_json_string (root, "prompt_id"));
  out->error_message =
      g_strdup (wr2v_json_string (wr2v_json_object (root, "error"), "message"));
  ne = wr2v_json_object (root, "node_errors");
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
  JsonArray *msgs = wr2v_json_array (status, "messages");
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
    if (g_strcmp0 (wr2v_json_node_string (tn), type) == 0
        && JSON_NODE_HOLDS_OBJECT (dn))
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
    JsonObject *out = wr2v_json_object (outputs, l->data);

    for (k = 0; k < G_N_ELEMENTS (kinds) && !chosen; k++) {
      JsonArray *files = wr2v_json_array (out, kinds[k]);

      for (i = 0; files && i < json_array_get_length (files); i++) {
        JsonNode *fn = json_array_get_element (files, i);
        JsonObject *f = JSON_NODE_HOLDS_OBJECT (fn) ?
            json_node_get_object (fn) : NULL;
        const gchar *name = wr2v_json_string (f, "filename");

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
  wr2v_json_clear_answer (h, &h->status_str, &h->exception_type,
      &h->exception_message, &h->node_id, &h->node_type, &h->filename,
      &h->subfolder, &h->type, NULL);
}

gboolean
wr2v_comfyui_parse_history (const gchar * data, gsize len,
    const gchar * prompt_id, Wr2vComfyuiHistory * out, GError ** error)
{
  JsonNode *node;
  JsonObject *root, *entry, *status, *err, *progress, *file;

  wr2v_comfyui_history_clear (out);
  out->completed = TRUE;
  node = wr2v_json_parse_object (data, len, NULL, &root, error);
  if (!node)
    return FALSE;
  out->found = prompt_id && json_object_has_member (root, prompt_id);
  entry = out->found ? wr2v_json_object (root, prompt_id) : NULL;
  if (!entry) {
    json_node_unref (node);
    return TRUE;
  }
  out->is_object = TRUE;
  status = wr2v_json_object (entry, "status");
  out->status_str = g_strdup (wr2v_json_string (status, "status_str"));
  out->completed = wr2v_json_bool (status, "completed", TRUE);

  /* steps from "progress" messages, which some ComfyUI versions keep */
  progress = find_message (status, "progress");
  if (progress) {
    gint64 value = int_or (json_object_get_member (progress, "value"), 0);
    gint64 max = int_or (json_object_get_member (progress, "max"), 0);

    if (max > 0 && max <= G_MAXINT && value >= 0 && value <= G_MAXINT) {
      out->step = value;
      out->steps = max;
    }
  }
  err = find_message (status, "execution_error");
  if (err) {
    out->has_error = TRUE;
    out->exception_type = g_strdup (wr2v_json_string (err, "exception_type"));
    out->exception_message =
        g_strdup (wr2v_json_string (err, "exception_message"));
    out->node_id = g_strdup (wr2v_json_string (err, "node_id"));
    out->node_type = g_strdup (wr2v_json_string (err, "node_type"));
  }
  out->interrupted = find_message (status, "execution_interrupted") != NULL;

  file = choose_output (wr2v_json_object (entry, "outputs"));
  if (file) {
    out->has_output = TRUE;
    out->filename = g_strdup (wr2v_json_string (file, "filename"));
    out->subfolder = g_strdup (wr2v_json_string (file, "subfolder"));
    out->type = g_strdup (wr2v_json_string (file, "type"));
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

static const gchar *
entry_prompt_id (JsonArray * e)
{
  return wr2v_json_node_string (json_array_get_element (e, 1));
}

/* extra_data.client_id, or NULL */
static const gchar *
entry_client_id (JsonArray * e)
{
  JsonNode *extra;

  if (json_array_get_length (e) < 4)
    return NULL;
  extra = json_array_get_element (e, 3);
  return JSON_NODE_HOLDS_OBJECT (extra) ?
      wr2v_json_string (json_node_get_object (extra), "client_id") : NULL;
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
  node = wr2v_json_parse_object (data, len, NULL, &q, error);
  if (!node)
    return FALSE;
  running = wr2v_json_array (q, "queue_running");
  pending = wr2v_json_array (q, "queue_pending");
  n_running = running ? json_array_get_length (running) : 0;

  out->place = WR2V_COMFYUI_QUEUE_ABSENT;
  for (i = 0; prompt_id && i < n_running; i++) {
    JsonArray *e = queue_entry (running, i);

    if (e && g_strcmp0 (entry_prompt_id (e), prompt_id) == 0)
      out->place = WR2V_COMFYUI_QUEUE_RUNNING;
  }
  for (i = 0; prompt_id && out->place == WR2V_COMFYUI_QUEUE_ABSENT &&
      pending && i < json_array_get_length (pending); i++) {
    JsonArray *e = queue_entry (pending, i);

    if (e && g_strcmp0 (entry_prompt_id (e), prompt_id) == 0)
      mine = int_or (json_array_get_element (e, 0), 0);
  }
  if (mine >= 0) {
    /* the pending list is not sorted: count the lower numbers */
    for (i = 0; i < json_array_get_length (pending); i++) {
      JsonArray *e = queue_entry (pending, i);

      if (e && int_or (json_array_get_element (e, 0), G_MAXINT64) < mine)
        before++;
    }
    out->place = WR2V_COMFYUI_QUEUE_PENDING;
    out->ahead = before + n_running;
  }

  for (i = 0; client_id && i < G_N_ELEMENTS (lists); i++) {
    JsonArray *list = wr2v_json_array (q, lists[i]);

    for (j = 0; list && j < json_array_get_length (list); j++) {
      JsonArray *e = queue_entry (list, j);

      if (e && g_strcmp0 (entry_client_id (e), client_id) == 0 &&
          wr2v_comfyui_prompt_id_ok (entry_prompt_id (e)))
        g_ptr_array_add (out->client_prompts, g_strdup (entry_prompt_id (e)));
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
      !wr2v_comfyui_subfolder_ok (subfolder))
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

gchar *
wr2v_comfyui_queue_client_id (const gchar * data, gsize len,
    const gchar * prompt_id)
{
  const gchar *lists[] = { "queue_running", "queue_pending" };
  JsonObject *root;
  JsonNode *node = wr2v_json_parse_object (data, len, NULL, &root, NULL);
  gchar *client_id = NULL;
  guint i, j;

  if (!node)
    return NULL;
  for (i = 0; !client_id && i < G_N_ELEMENTS (lists); i++) {
    JsonArray *list = wr2v_json_array (root, lists[i]);

    for (j = 0; !client_id && list && j < json_array_get_length (list); j++) {
      JsonArray *e = queue_entry (list, j);
      const gchar *cid;

      if (!e || g_strcmp0 (entry_prompt_id (e), prompt_id) != 0)
        continue;
      cid = entry_client_id (e);
      if (cid && g_str_has_prefix (cid, "wanr2v-") &&
          wr2v_comfyui_prompt_id_ok (cid))
        client_id = g_strdup (cid);
    }
  }
  json_node_unref (node);
  return client_id;
}

Wr2vComfyuiWsEvent
wr2v_comfyui_parse_ws_message (GBytes * msg, const gchar * prompt_id,
    gint * step, gint * steps)
{
  JsonNode *node = wr2v_http_parse_json (msg, NULL);
  JsonObject *root, *data;
  const gchar *type, *pid;
  Wr2vComfyuiWsEvent event = WR2V_COMFYUI_WS_OTHER;

  if (!node)
    return event;
  root = JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
  type = wr2v_json_string (root, "type");
  data = wr2v_json_object (root, "data");
  pid = wr2v_json_string (data, "prompt_id");
  if (g_strcmp0 (type, "progress") == 0 && (!pid ||
          g_strcmp0 (pid, prompt_id) == 0)) {
    gint64 value = int_or (json_object_get_member (data, "value"), -1);
    gint64 max = int_or (json_object_get_member (data, "max"), 0);

    if (max > 0 && max <= G_MAXINT && value >= 0 && value <= max) {
      *step = value;
      *steps = max;
      event = WR2V_COMFYUI_WS_PROGRESS;
    }
  } else if (g_strcmp0 (type, "executing") == 0 &&
      g_strcmp0 (pid, prompt_id) == 0 && data &&
      json_object_has_member (data, "node") &&
      JSON_NODE_HOLDS_NULL (json_object_get_member (data, "node"))) {
    event = WR2V_COMFYUI_WS_FINISHED;
  }
  json_node_unref (node);
  return event;
}

gchar *
wr2v_comfyui_prompt_body (JsonNode * graph, const gchar * client_id)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "prompt");
  json_builder_add_value (b, graph);
  json_builder_set_member_name (b, "client_id");
  json_builder_add_string_value (b, client_id);
  return wr2v_json_builder_finish (b);
}

/* {"@member": "@prompt_id"}, or {"@member": ["@prompt_id"]} */
static gchar *
id_body (const gchar * member, const gchar * prompt_id, gboolean as_list)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, member);
  if (as_list)
    json_builder_begin_array (b);
  json_builder_add_string_value (b, prompt_id);
  if (as_list)
    json_builder_end_array (b);
  return wr2v_json_builder_finish (b);
}

gchar *
wr2v_comfyui_delete_body (const gchar * prompt_id)
{
  return id_body ("delete", prompt_id, TRUE);
}

gchar *
wr2v_comfyui_interrupt_body (const gchar * prompt_id)
{
  return id_body ("prompt_id", prompt_id, FALSE);
}

const gchar *
wr2v_comfyui_graph_node (JsonObject * graph, const gchar * node_id,
    JsonObject ** inputs)
{
  JsonObject *node = wr2v_json_object (graph, node_id);
  const gchar *class_type = wr2v_json_string (node, "class_type");

  *inputs = class_type ? wr2v_json_object (node, "inputs") : NULL;
  return class_type;
}
