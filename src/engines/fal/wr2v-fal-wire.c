/* wr2v-fal-wire.c: fal.ai's wire format (see wr2v-fal-wire.h). Facts and
 * sources: docs/engines/fal.md.
 */
#include "config.h"

#include <string.h>

#include "wr2v-fal-wire.h"
#include "wr2v-json.h"

void
wr2v_fal_answer_clear (Wr2vFalAnswer * a)
{
  if (!a)
    return;
  wr2v_json_clear_strings (&a->request_id, &a->status, &a->error,
      &a->error_type, &a->video_url, &a->detail, &a->upload_url,
      &a->file_url, NULL);
}

/* "detail" is a string, or (a validation error, HTTP 422) a list of
 * {"loc", "msg", "type"}: the first msg. */
static gchar *
read_detail (JsonObject * root)
{
  JsonArray *list = wr2v_json_array (root, "detail");
  JsonNode *first;

  if (wr2v_json_string (root, "detail"))
    return g_strdup (wr2v_json_string (root, "detail"));
  if (!list || json_array_get_length (list) == 0)
    return NULL;
  first = json_array_get_element (list, 0);
  if (!JSON_NODE_HOLDS_OBJECT (first))
    return g_strdup (wr2v_json_node_string (first));
  return g_strdup (wr2v_json_string (json_node_get_object (first), "msg"));
}

#define MEMBER(path, field) {path, G_STRUCT_OFFSET (Wr2vFalAnswer, field)}
static const Wr2vRemoteMember fal_members[] = {
  MEMBER ("request_id", request_id), MEMBER ("status", status),
  MEMBER ("error", error), MEMBER ("error_type", error_type),
  MEMBER ("video.url", video_url), MEMBER ("upload_url", upload_url),
  MEMBER ("file_url", file_url), {NULL},
};

gboolean
wr2v_fal_parse_answer (const gchar * data, gsize len, Wr2vFalAnswer * out,
    GError ** error)
{
  JsonNode *node;

  wr2v_fal_answer_clear (out);
  node = wr2v_remote_parse_members (data, len, "fal.ai", fal_members, out,
      error);
  if (node) {
    out->detail = read_detail (json_node_get_object (node));
    json_node_unref (node);
  }
  return node != NULL;
}

/* owner/app and any path under it, 200 bytes at most */
gboolean
wr2v_fal_model_ok (const gchar * model)
{
  guint n;

  return model && strlen (model) <= 200 &&
      wr2v_remote_model_path_ok (model, 0, &n) && n >= 2;
}

gchar *
wr2v_fal_app_id (const gchar * model)
{
  gchar **segs = g_strsplit (model, "/", 3);
  gchar *app = g_strconcat (segs[0], "/", segs[1] ? segs[1] : "", NULL);

  g_strfreev (segs);
  return app;
}

/* The model's field names [C: its schema page], durations as text like
 * fal's other Wan endpoints [I]. */
static const Wr2vRemoteFields fal_fields = {
  WR2V_REMOTE_MODEL_FIELDS,
  .videos = "reference_video_urls",
  .images = "reference_image_urls",
  .duration_as_text = TRUE,
  .prompt_expansion = "enable_prompt_expansion",
};

gchar *
wr2v_fal_submit_body (const gchar * model, const Wr2vRequest * req,
    const gchar * const *urls)
{
  return wr2v_remote_body (req, "fal", model, urls, &fal_fields, NULL);
}

gchar *
wr2v_fal_initiate_body (const gchar * content_type, const gchar * file_name)
{
  JsonObject *o = json_object_new ();
  JsonNode *node = json_node_new (JSON_NODE_OBJECT);
  gchar *text;

  json_object_set_string_member (o, "content_type", content_type);
  json_object_set_string_member (o, "file_name", file_name);
  json_node_take_object (node, o);
  text = json_to_string (node, FALSE);
  json_node_unref (node);
  return text;
}
