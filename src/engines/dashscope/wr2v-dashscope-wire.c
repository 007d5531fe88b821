/* wr2v-dashscope-wire.c: DashScope's wire format (see
 * wr2v-dashscope-wire.h). Facts and sources: docs/engines/dashscope.md.
 */
#include "config.h"

#include <string.h>

#include "wr2v-dashscope-wire.h"
#include "wr2v-error.h"
#include "wr2v-http.h"
#include "wr2v-json.h"
#include "wr2v-prompt.h"

void
wr2v_dashscope_answer_clear (Wr2vDashscopeAnswer * a)
{
  if (!a)
    return;
  wr2v_json_clear_answer (a, &a->request_id, &a->code, &a->message,
      &a->task_id, &a->task_status, &a->video_url, &a->task_code,
      &a->task_message, NULL);
  a->usage_duration = a->usage_input_video_duration =
      a->usage_output_video_duration = -1;
}

gboolean
wr2v_dashscope_parse_answer (const gchar * data, gsize len,
    Wr2vDashscopeAnswer * out, GError ** error)
{
  JsonObject *root = NULL, *output, *usage;
  JsonNode *node;

  wr2v_dashscope_answer_clear (out);
  node = wr2v_json_parse_object (data, len, "DashScope", &root, error);
  if (!node)
    return FALSE;
  out->request_id = g_strdup (wr2v_json_string (root, "request_id"));
  out->code = g_strdup (wr2v_json_string (root, "code"));
  out->message = g_strdup (wr2v_json_string (root, "message"));
  output = wr2v_json_object (root, "output");
  out->task_id = g_strdup (wr2v_json_string (output, "task_id"));
  out->task_status = g_strdup (wr2v_json_string (output, "task_status"));
  out->video_url = g_strdup (wr2v_json_string (output, "video_url"));
  out->task_code = g_strdup (wr2v_json_string (output, "code"));
  out->task_message = g_strdup (wr2v_json_string (output, "message"));
  usage = wr2v_json_object (root, "usage");
  if (usage) {
    out->has_usage = TRUE;
    out->usage_duration = wr2v_json_int_or (usage, "duration", -1);
    out->usage_input_video_duration = wr2v_json_int_or (usage,
        "input_video_duration", -1);
    out->usage_output_video_duration = wr2v_json_int_or (usage,
        "output_video_duration", -1);
  }
  json_node_unref (node);
  return TRUE;
}

/* A form value from the service: one line of printable text. */
static gboolean
field_ok (const gchar * s)
{
  if (!s || !*s || strlen (s) > 8192)
    return FALSE;
  for (; *s; s++) {
    if ((guchar) * s < 0x20 || *s == 0x7f)
      return FALSE;
  }
  return TRUE;
}

/* The object key's directory: a relative path of plain characters. */
static gboolean
upload_dir_ok (const gchar * s)
{
  const gchar *p;

  if (!s || !*s || strlen (s) > 512 || s[0] == '/' || strstr (s, ".."))
    return FALSE;
  for (p = s; *p; p++) {
    if (!g_ascii_isalnum (*p) && !strchr ("-_./", *p))
      return FALSE;
  }
  return TRUE;
}

void
wr2v_dashscope_policy_clear (Wr2vDashscopePolicy * p)
{
  wr2v_json_clear_answer (p, &p->upload_host, &p->upload_dir,
      &p->access_key_id, &p->signature, &p->policy, &p->object_acl,
      &p->forbid_overwrite, NULL);
}

/* The answer of getPolicy [C: dashscope SDK oss_utils.py]. */
gboolean
wr2v_dashscope_parse_policy (const gchar * data, gsize len,
    Wr2vDashscopePolicy * pol, GError ** error)
{
  JsonObject *root = NULL, *d;
  JsonNode *node;
  GError *local = NULL;
  gboolean ok = FALSE;

  wr2v_dashscope_policy_clear (pol);
  node = wr2v_json_parse_object (data, len, "DashScope", &root, &local);
  if (!node) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "DashScope's upload policy is unreadable: %s", local->message);
    g_error_free (local);
    return FALSE;
  }
  d = wr2v_json_object (root, "data");
  pol->upload_host = g_strdup (wr2v_json_string (d, "upload_host"));
  pol->upload_dir = g_strdup (wr2v_json_string (d, "upload_dir"));
  pol->access_key_id = g_strdup (wr2v_json_string (d, "oss_access_key_id"));
  pol->signature = g_strdup (wr2v_json_string (d, "signature"));
  pol->policy = g_strdup (wr2v_json_string (d, "policy"));
  pol->object_acl = g_strdup (wr2v_json_string (d, "x_oss_object_acl"));
  pol->forbid_overwrite =
      g_strdup (wr2v_json_string (d, "x_oss_forbid_overwrite"));
  pol->max_file_size_mb = wr2v_json_int_or (d, "max_file_size_mb", -1);

  if (!pol->upload_host || !wr2v_http_url_allowed (pol->upload_host, &local)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "DashScope's upload policy names no usable upload host%s%s",
        local ? ": " : "", local ? local->message : "");
    g_clear_error (&local);
    goto out;
  }
  if (!upload_dir_ok (pol->upload_dir) || !field_ok (pol->access_key_id) ||
      !field_ok (pol->signature) || !field_ok (pol->policy) ||
      (pol->object_acl && !field_ok (pol->object_acl)) ||
      (pol->forbid_overwrite && !field_ok (pol->forbid_overwrite))) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "DashScope's upload policy lacks a field or has an unusable one");
    goto out;
  }
  ok = TRUE;

out:
  if (!ok)
    wr2v_dashscope_policy_clear (pol);
  json_node_unref (node);
  return ok;
}

gboolean
wr2v_dashscope_model_ok (const gchar * model)
{
  const gchar *p;

  if (!*model || strlen (model) > 128)
    return FALSE;
  for (p = model; *p; p++) {
    if (!g_ascii_isalnum (*p) && !strchr ("-_.", *p))
      return FALSE;
  }
  return TRUE;
}

const gchar *
wr2v_dashscope_mime (const Wr2vReference * ref)
{
  if (ref->mime && field_ok (ref->mime))
    return ref->mime;
  return ref->kind == WR2V_REF_IMAGE ? "image/png" : "video/mp4";
}

/* A string field; none when the policy did not give a value. */
static void
add_part (Wr2vHttpFormPart * parts, guint * n, const gchar * name,
    const gchar * value)
{
  if (!value)
    return;
  memset (&parts[*n], 0, sizeof parts[*n]);
  parts[*n].name = name;
  parts[*n].value = value;
  (*n)++;
}

guint
wr2v_dashscope_upload_form (const Wr2vDashscopePolicy * pol,
    const gchar * object_key, const Wr2vReference * ref,
    const gchar * filename, Wr2vHttpFormPart parts[WR2V_DASHSCOPE_FORM_PARTS])
{
  guint n = 0;

  /* the field order of an OSS PostObject: "file" last */
  add_part (parts, &n, "OSSAccessKeyId", pol->access_key_id);
  add_part (parts, &n, "Signature", pol->signature);
  add_part (parts, &n, "policy", pol->policy);
  add_part (parts, &n, "key", object_key);
  add_part (parts, &n, "x-oss-object-acl", pol->object_acl);
  add_part (parts, &n, "x-oss-forbid-overwrite", pol->forbid_overwrite);
  add_part (parts, &n, "success_action_status", "200");
  add_part (parts, &n, "x-oss-content-type", wr2v_dashscope_mime (ref));
  memset (&parts[n], 0, sizeof parts[n]);
  parts[n].name = "file";
  parts[n].file_path = ref->path;
  parts[n].filename = filename;
  parts[n].content_type = wr2v_dashscope_mime (ref);
  return n + 1;
}

/* <Code> and <Message> of an OSS XML error body, for messages. */
gchar *
wr2v_dashscope_oss_error_text (GBytes * body)
{
  static const gchar *tags[] = { "Code", "Message" };
  GString *s = g_string_new (NULL);
  gsize len = 0;
  const gchar *data = body ? g_bytes_get_data (body, &len) : NULL;
  gchar *text = data ? g_strndup (data, MIN (len, 16384)) : NULL;
  guint i;

  for (i = 0; text && i < G_N_ELEMENTS (tags); i++) {
    gchar *open = g_strdup_printf ("<%s>", tags[i]);
    gchar *close = g_strdup_printf ("</%s>", tags[i]);
    const gchar *a = strstr (text, open), *b;

    if (a && (b = strstr (a, close))) {
      gchar *v;

      a += strlen (open);
      v = g_strndup (a, MIN (b - a, 200));
      g_string_append_printf (s, "%s%s", s->len ? ": " : "", v);
      g_free (v);
    }
    g_free (open);
    g_free (close);
  }
  g_free (text);
  if (!s->len) {
    g_string_free (s, TRUE);
    return NULL;
  }
  return g_string_free (s, FALSE);
}


const gchar *
wr2v_dashscope_resolution (Wr2vResolution r)
{
  return r == WR2V_RESOLUTION_1080P ? "1080P" : "720P";
}

/* "input": the prompt and the references as media. */
static void
add_input (JsonBuilder * b, const gchar * model, const Wr2vRequest * req,
    const gchar * const *urls, const gchar * const *voice_urls)
{
  gchar *prompt;
  guint i, n = req->references ? req->references->len : 0;

  json_builder_set_member_name (b, "input");
  json_builder_begin_object (b);
  /* the form DashScope documents for the model (wr2v-prompt.c's table) */
  prompt = wr2v_prompt_sent (req, "dashscope", model);
  json_builder_set_member_name (b, "prompt");
  json_builder_add_string_value (b, prompt);
  g_free (prompt);
  if (req->negative_prompt && *req->negative_prompt) {
    json_builder_set_member_name (b, "negative_prompt");
    json_builder_add_string_value (b, req->negative_prompt);
  }
  json_builder_set_member_name (b, "media");
  json_builder_begin_array (b);
  /* references are in prompt order (videos, then images): the order the
   * model numbers them in */
  for (i = 0; i < n; i++) {
    Wr2vReference *ref = g_ptr_array_index (req->references, i);
    const gchar *voice = voice_urls ? voice_urls[i] : ref->voice_uri;

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "type");
    json_builder_add_string_value (b, ref->kind == WR2V_REF_VIDEO ?
        "reference_video" : ref->first_frame ? "first_frame" :
        "reference_image");
    json_builder_set_member_name (b, "url");
    json_builder_add_string_value (b, urls[i]);
    if (voice) {
      json_builder_set_member_name (b, "reference_voice");
      json_builder_add_string_value (b, voice);
    }
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);
}

gchar *
wr2v_dashscope_submit_body (const gchar * model, const Wr2vRequest * req,
    const gchar * const *urls, const gchar * const *voice_urls)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model");
  json_builder_add_string_value (b, model);
  add_input (b, model, req, urls, voice_urls);
  json_builder_set_member_name (b, "parameters");
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "resolution");
  json_builder_add_string_value (b,
      wr2v_dashscope_resolution (req->resolution));
  json_builder_set_member_name (b, "duration");
  json_builder_add_int_value (b, req->duration);
  json_builder_set_member_name (b, "prompt_extend");
  json_builder_add_boolean_value (b, req->prompt_expansion);
  json_builder_set_member_name (b, "watermark");
  json_builder_add_boolean_value (b, FALSE);
  /* [3P] for ratio: only when the user chose one */
  if (req->aspect_ratio_set) {
    json_builder_set_member_name (b, "ratio");
    json_builder_add_string_value (b,
        wr2v_aspect_ratio_nick (req->aspect_ratio));
  }
  if (req->seed >= 0) {
    json_builder_set_member_name (b, "seed");
    json_builder_add_int_value (b, req->seed);
  }
  if (req->shot_type != WR2V_SHOT_UNSET) {
    json_builder_set_member_name (b, "shot_type");
    json_builder_add_string_value (b, wr2v_shot_type_nick (req->shot_type));
  }
  json_builder_end_object (b);
  return wr2v_json_builder_finish (b);
}
