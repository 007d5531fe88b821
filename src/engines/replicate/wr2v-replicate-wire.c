/* wr2v-replicate-wire.c: Replicate's wire format (see
 * wr2v-replicate-wire.h). Facts and sources: docs/engines/replicate.md.
 */
#include "config.h"

#include <string.h>

#include "wr2v-json.h"
#include "wr2v-replicate-wire.h"

void
wr2v_replicate_answer_clear (Wr2vReplicateAnswer * a)
{
  if (!a)
    return;
  wr2v_json_clear_strings (&a->id, &a->status, &a->output, &a->error,
      &a->get_url, &a->title, &a->detail, NULL);
}

/* "output" of this model is one URI [C]; a list's first is taken too. */
static gchar *
read_output (JsonObject * root)
{
  JsonArray *list = wr2v_json_array (root, "output");

  if (list && json_array_get_length (list) > 0)
    return g_strdup (wr2v_json_node_string (json_array_get_element (list, 0)));
  return g_strdup (wr2v_json_string (root, "output"));
}

#define MEMBER(path, field) \
  {path, G_STRUCT_OFFSET (Wr2vReplicateAnswer, field)}
static const Wr2vRemoteMember replicate_members[] = {
  MEMBER ("id", id), MEMBER ("status", status), MEMBER ("error", error),
  MEMBER ("urls.get", get_url), MEMBER ("title", title),
  MEMBER ("detail", detail), {NULL},
};

gboolean
wr2v_replicate_parse_answer (const gchar * data, gsize len,
    Wr2vReplicateAnswer * out, GError ** error)
{
  JsonNode *node;

  wr2v_replicate_answer_clear (out);
  if (!(node = wr2v_remote_parse_members (data, len, "Replicate",
              replicate_members, out, error)))
    return FALSE;
  out->output = read_output (json_node_get_object (node));
  json_node_unref (node);
  return TRUE;
}

/* owner/name, each at most 100 bytes */
gboolean
wr2v_replicate_model_ok (const gchar * model)
{
  guint n;

  return wr2v_remote_model_path_ok (model ? model : "", 100, &n) && n == 2;
}

/* The model's input names [C: its llms.txt]; shot_type only when the
 * user chose one (its default is single). */
static const Wr2vRemoteFields replicate_fields = {
  WR2V_REMOTE_MODEL_FIELDS,
  .videos = "reference_videos",
  .images = "reference_images",
  .shot_type = "shot_type",
};

gchar *
wr2v_replicate_submit_body (const gchar * model, const Wr2vRequest * req,
    const gchar * const *urls)
{
  return wr2v_remote_body (req, "replicate", model, urls, &replicate_fields,
      "input");
}
