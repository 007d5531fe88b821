/* wr2v-wavespeed-wire.c: WaveSpeedAI's wire format (see
 * wr2v-wavespeed-wire.h). Facts and sources: docs/engines/wavespeed.md.
 */
#include "config.h"

#include <string.h>

#include "wr2v-json.h"
#include "wr2v-wavespeed-wire.h"

void
wr2v_wavespeed_answer_clear (Wr2vWavespeedAnswer * a)
{
  wr2v_json_clear_answer (a, &a->message, &a->id, &a->status, &a->output,
      &a->error, &a->download_url, NULL);
}

gboolean
wr2v_wavespeed_parse_answer (const gchar * data, gsize len,
    Wr2vWavespeedAnswer * out, GError ** error)
{
  JsonObject *root = NULL, *d;
  JsonArray *outputs;
  JsonNode *node;

  wr2v_wavespeed_answer_clear (out);
  node = wr2v_json_parse_object (data, len, "WaveSpeed", &root, error);
  if (!node)
    return FALSE;
  out->has_code = wr2v_json_int (root, "code", &out->code);
  out->message = g_strdup (wr2v_json_string (root, "message"));
  d = wr2v_json_object (root, "data");
  out->id = g_strdup (wr2v_json_string (d, "id"));
  out->status = g_strdup (wr2v_json_string (d, "status"));
  outputs = wr2v_json_array (d, "outputs");
  if (outputs && json_array_get_length (outputs) > 0)
    out->output = g_strdup (wr2v_json_node_string (json_array_get_element
            (outputs, 0)));
  out->error_code = wr2v_json_int_or (d, "code", 0);
  out->error = g_strdup (wr2v_json_string (d, "error"));
  out->download_url = g_strdup (wr2v_json_string (d, "download_url"));
  json_node_unref (node);
  return TRUE;
}

gboolean
wr2v_wavespeed_model_ok (const gchar * model)
{
  const gchar *p;

  if (!*model || model[0] == '/' || strstr (model, ".."))
    return FALSE;
  for (p = model; *p; p++) {
    if (!g_ascii_isalnum (*p) && !strchr ("-_./", *p))
      return FALSE;
  }
  return TRUE;
}

/* "image" takes one URL [C]; more images go in "images" too, a name the
 * docs don't confirm [I] (docs/engines/wavespeed.md). */
static void
add_images (JsonBuilder * b, GPtrArray * images)
{
  guint i;

  if (images->len == 0)
    return;
  json_builder_set_member_name (b, "image");
  json_builder_add_string_value (b, g_ptr_array_index (images, 0));
  if (images->len == 1)
    return;
  json_builder_set_member_name (b, "images");
  json_builder_begin_array (b);
  for (i = 0; i < images->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (images, i));
  json_builder_end_array (b);
}

gchar *
wr2v_wavespeed_submit_body (const Wr2vRequest * req, const gchar * const *urls)
{
  JsonBuilder *b = json_builder_new ();
  GPtrArray *images = g_ptr_array_new ();
  gchar *body;
  guint i, n = req->references ? req->references->len : 0;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "prompt");
  json_builder_add_string_value (b, req->prompt ? req->prompt : "");

  json_builder_set_member_name (b, "videos");
  json_builder_begin_array (b);
  /* references are in prompt order: videos first, then images */
  for (i = 0; i < n; i++) {
    Wr2vReference *ref = g_ptr_array_index (req->references, i);

    if (ref->kind == WR2V_REF_VIDEO)
      json_builder_add_string_value (b, urls[i]);
    else
      g_ptr_array_add (images, (gpointer) urls[i]);
  }
  json_builder_end_array (b);
  add_images (b, images);
  if (req->negative_prompt && *req->negative_prompt) {
    json_builder_set_member_name (b, "negative_prompt");
    json_builder_add_string_value (b, req->negative_prompt);
  }
  json_builder_set_member_name (b, "resolution");
  json_builder_add_string_value (b, wr2v_resolution_nick (req->resolution));
  json_builder_set_member_name (b, "duration");
  json_builder_add_int_value (b, req->duration);
  json_builder_set_member_name (b, "enable_prompt_expansion");
  json_builder_add_boolean_value (b, req->prompt_expansion);
  /* not confirmed for this endpoint [I]: only when the user chose them */
  if (req->seed >= 0) {
    json_builder_set_member_name (b, "seed");
    json_builder_add_int_value (b, req->seed);
  }
  if (req->aspect_ratio_set) {
    json_builder_set_member_name (b, "aspect_ratio");
    json_builder_add_string_value (b,
        wr2v_aspect_ratio_nick (req->aspect_ratio));
  }
  json_builder_end_object (b);
  body = wr2v_json_builder_text (b);
  g_ptr_array_unref (images);
  g_object_unref (b);
  return body;
}
