/* wr2v-remote-body.c: the request fields most hosts share (see
 * wr2v-remote-body.h).
 */
#include "config.h"

#include <string.h>

#include "wr2v-json.h"
#include "wr2v-prompt.h"
#include "wr2v-remote-body.h"

static void
add_string (JsonBuilder * b, const gchar * name, const gchar * value)
{
  if (!name || !value)
    return;
  json_builder_set_member_name (b, name);
  json_builder_add_string_value (b, value);
}

/* The URLs of @req's references of @kind, as the array @name. */
static void
add_urls (JsonBuilder * b, const gchar * name, const Wr2vRequest * req,
    const gchar * const *urls, Wr2vRefKind kind)
{
  guint i, n = req->references ? req->references->len : 0;

  if (!name || wr2v_request_count (req, kind) == 0)
    return;
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (i = 0; i < n; i++) {
    Wr2vReference *ref = g_ptr_array_index (req->references, i);

    if (ref->kind == kind)
      json_builder_add_string_value (b, urls[i]);
  }
  json_builder_end_array (b);
}

/* @req's fields under @names into the object @b is building. */
static void
add_fields (JsonBuilder * b, const Wr2vRequest * req, const gchar * prompt,
    const gchar * const *urls, const Wr2vRemoteFields * names)
{
  add_string (b, names->prompt, prompt ? prompt : "");
  add_urls (b, names->videos, req, urls, WR2V_REF_VIDEO);
  add_urls (b, names->images, req, urls, WR2V_REF_IMAGE);
  if (req->negative_prompt && *req->negative_prompt)
    add_string (b, names->negative_prompt, req->negative_prompt);
  add_string (b, names->resolution, wr2v_resolution_nick (req->resolution));
  if (names->duration && names->duration_as_text) {
    gchar *text = g_strdup_printf ("%u", req->duration);

    add_string (b, names->duration, text);
    g_free (text);
  } else if (names->duration) {
    json_builder_set_member_name (b, names->duration);
    json_builder_add_int_value (b, req->duration);
  }
  if (req->aspect_ratio_set)
    add_string (b, names->aspect_ratio,
        wr2v_aspect_ratio_nick (req->aspect_ratio));
  if (names->seed && req->seed >= 0) {
    json_builder_set_member_name (b, names->seed);
    json_builder_add_int_value (b, req->seed);
  }
  if (names->prompt_expansion) {
    json_builder_set_member_name (b, names->prompt_expansion);
    json_builder_add_boolean_value (b, req->prompt_expansion);
  }
  add_string (b, names->shot_type, wr2v_shot_type_nick (req->shot_type));
}

gchar *
wr2v_remote_body (const Wr2vRequest * req, const gchar * engine,
    const gchar * model, const gchar * const *urls,
    const Wr2vRemoteFields * names, const gchar * wrapper)
{
  JsonBuilder *b = json_builder_new ();
  /* the form the host's provider documents (wr2v-prompt.c's table) */
  gchar *prompt = wr2v_prompt_sent (req, engine, model);

  json_builder_begin_object (b);
  if (wrapper) {
    json_builder_set_member_name (b, wrapper);
    json_builder_begin_object (b);
  }
  add_fields (b, req, prompt, urls, names);
  if (wrapper)
    json_builder_end_object (b);
  g_free (prompt);
  return wr2v_json_builder_finish (b);
}

gboolean
wr2v_remote_model_path_ok (const gchar * model, gsize max_segment,
    guint * n_segments)
{
  gchar **segs = g_strsplit (model, "/", -1);
  gboolean ok = TRUE;
  guint i;

  for (i = 0; ok && segs[i]; i++) {
    const gchar *p;

    ok = *segs[i] && (!max_segment || strlen (segs[i]) <= max_segment) &&
        !g_str_equal (segs[i], ".") && !g_str_equal (segs[i], "..");
    for (p = segs[i]; ok && *p; p++)
      ok = g_ascii_isalnum (*p) || strchr ("-_.", *p);
  }
  *n_segments = g_strv_length (segs);
  g_strfreev (segs);
  return ok;
}

JsonNode *
wr2v_remote_parse_members (const gchar * data, gsize len, const gchar * who,
    const Wr2vRemoteMember * members, gpointer out, GError ** error)
{
  JsonObject *root = NULL;
  JsonNode *node = wr2v_json_parse_object (data, len, who, &root, error);
  guint i;

  for (i = 0; node && members[i].path; i++) {
    const gchar *dot = strchr (members[i].path, '.');
    gchar **slot = G_STRUCT_MEMBER_P (out, members[i].offset);
    const gchar *value;

    if (dot) {
      gchar *parent = g_strndup (members[i].path, dot - members[i].path);

      value = wr2v_json_string (wr2v_json_object (root, parent), dot + 1);
      g_free (parent);
    } else {
      value = wr2v_json_string (root, members[i].path);
    }
    if (value) {
      g_free (*slot);
      *slot = g_strdup (value);
    }
  }
  return node;
}
