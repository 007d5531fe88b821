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

gboolean
wr2v_fal_parse_answer (const gchar * data, gsize len, Wr2vFalAnswer * out,
    GError ** error)
{
  JsonObject *root = NULL;
  JsonNode *node;

  wr2v_fal_answer_clear (out);
  node = wr2v_json_parse_object (data, len, "fal.ai", &root, error);
  if (!node)
    return FALSE;
  out->request_id = g_strdup (wr2v_json_string (root, "request_id"));
  out->status = g_strdup (wr2v_json_string (root, "status"));
  out->error = g_strdup (wr2v_json_string (root, "error"));
  out->error_type = g_strdup (wr2v_json_string (root, "error_type"));
  out->video_url = g_strdup (wr2v_json_string (wr2v_json_object (root,
              "video"), "url"));
  out->detail = read_detail (root);
  out->upload_url = g_strdup (wr2v_json_string (root, "upload_url"));
  out->file_url = g_strdup (wr2v_json_string (root, "file_url"));
  json_node_unref (node);
  return TRUE;
}

gboolean
wr2v_fal_model_ok (const gchar * model)
{
  gchar **segs;
  guint i, n;
  gboolean ok = TRUE;

  if (!model || strlen (model) > 200)
    return FALSE;
  segs = g_strsplit (model, "/", -1);
  n = g_strv_length (segs);
  for (i = 0; ok && i < n; i++) {
    const gchar *p;

    ok = *segs[i] && !g_str_equal (segs[i], "..") &&
        !g_str_equal (segs[i], ".");
    for (p = segs[i]; ok && *p; p++)
      ok = g_ascii_isalnum (*p) || strchr ("-_.", *p);
  }
  g_strfreev (segs);
  return ok && n >= 2;
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
  .prompt = "prompt",
  .videos = "reference_video_urls",
  .images = "reference_image_urls",
  .negative_prompt = "negative_prompt",
  .resolution = "resolution",
  .duration = "duration",
  .duration_as_text = TRUE,
  .aspect_ratio = "aspect_ratio",
  .seed = "seed",
  .prompt_expansion = "enable_prompt_expansion",
};

gchar *
wr2v_fal_submit_body (const Wr2vRequest * req, const gchar * const *urls)
{
  JsonBuilder *b = json_builder_new ();
  gchar *body;

  json_builder_begin_object (b);
  wr2v_remote_body_fields (b, req, urls, &fal_fields);
  json_builder_end_object (b);
  body = wr2v_json_builder_text (b);
  g_object_unref (b);
  return body;
}

gchar *
wr2v_fal_initiate_body (const gchar * content_type, const gchar * file_name)
{
  JsonBuilder *b = json_builder_new ();
  gchar *body;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "content_type");
  json_builder_add_string_value (b, content_type);
  json_builder_set_member_name (b, "file_name");
  json_builder_add_string_value (b, file_name);
  json_builder_end_object (b);
  body = wr2v_json_builder_text (b);
  g_object_unref (b);
  return body;
}
