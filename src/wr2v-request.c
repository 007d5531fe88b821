/* wr2v-request.c: the request model and its canonical, hashable form. */
#include "wr2v-request.h"
#include "wr2v-prompt.h"

#include <json-glib/json-glib.h>

Wr2vRequest *
wr2v_request_new (void)
{
  Wr2vRequest *req = g_new0 (Wr2vRequest, 1);

  req->duration = 5;
  req->resolution = WR2V_RESOLUTION_720P;
  req->aspect_ratio = WR2V_ASPECT_16_9;
  req->seed = -1;
  req->numbering = WR2V_NUMBERING_CONTINUING;
  req->references =
      g_ptr_array_new_with_free_func ((GDestroyNotify) wr2v_reference_free);
  return req;
}

void
wr2v_request_free (Wr2vRequest * req)
{
  if (!req)
    return;
  g_free (req->prompt);
  g_free (req->negative_prompt);
  g_free (req->job_key);
  g_ptr_array_unref (req->references);
  g_free (req);
}

Wr2vReference *
wr2v_reference_new (Wr2vRefKind kind, guint pad_index)
{
  Wr2vReference *ref = g_new0 (Wr2vReference, 1);

  ref->kind = kind;
  ref->pad_index = pad_index;
  return ref;
}

Wr2vReference *
wr2v_reference_copy (const Wr2vReference * ref)
{
  Wr2vReference *copy = g_memdup2 (ref, sizeof *ref);

  copy->path = g_strdup (ref->path);
  copy->mime = g_strdup (ref->mime);
  copy->sha256 = g_strdup (ref->sha256);
  copy->uri = g_strdup (ref->uri);
  copy->source = g_strdup (ref->source);
  copy->voice_uri = g_strdup (ref->voice_uri);
  copy->voice_source = g_strdup (ref->voice_source);
  copy->voice_path = g_strdup (ref->voice_path);
  copy->voice_mime = g_strdup (ref->voice_mime);
  copy->voice_sha256 = g_strdup (ref->voice_sha256);
  copy->voice_pad = g_strdup (ref->voice_pad);
  return copy;
}

void
wr2v_reference_free (Wr2vReference * ref)
{
  if (!ref)
    return;
  g_free (ref->path);
  g_free (ref->mime);
  g_free (ref->sha256);
  g_free (ref->uri);
  g_free (ref->source);
  g_free (ref->voice_uri);
  g_free (ref->voice_source);
  g_free (ref->voice_path);
  g_free (ref->voice_mime);
  g_free (ref->voice_sha256);
  g_free (ref->voice_pad);
  g_free (ref);
}

void
wr2v_request_add_reference (Wr2vRequest * req, Wr2vReference * ref)
{
  g_ptr_array_add (req->references, ref);
}

static gint
prompt_order (gconstpointer a, gconstpointer b)
{
  const Wr2vReference *ra = *(const Wr2vReference **) a;
  const Wr2vReference *rb = *(const Wr2vReference **) b;

  if (ra->kind != rb->kind)
    return ra->kind == WR2V_REF_VIDEO ? -1 : 1;
  return (ra->pad_index > rb->pad_index) - (ra->pad_index < rb->pad_index);
}

void
wr2v_request_number_references (Wr2vRequest * req)
{
  g_ptr_array_sort (req->references, prompt_order);
  for (guint i = 0; i < req->references->len; i++)
    ((Wr2vReference *) g_ptr_array_index (req->references, i))->number = i + 1;
}

guint
wr2v_request_count (const Wr2vRequest * req, Wr2vRefKind kind)
{
  guint n = 0;

  for (guint i = 0; i < req->references->len; i++)
    if (((Wr2vReference *) g_ptr_array_index (req->references, i))->kind ==
        kind)
      n++;
  return n;
}

const gchar *
wr2v_resolution_nick (Wr2vResolution res)
{
  return res == WR2V_RESOLUTION_1080P ? "1080p" : "720p";
}

const gchar *
wr2v_aspect_ratio_nick (Wr2vAspectRatio ar)
{
  static const gchar *nicks[] = { "16:9", "9:16", "1:1", "4:3", "3:4" };

  return ar <= WR2V_ASPECT_3_4 ? nicks[ar] : "16:9";
}

const gchar *
wr2v_ref_kind_word (Wr2vRefKind kind)
{
  return kind == WR2V_REF_VIDEO ? "Video" : "Image";
}

gchar *
wr2v_reference_name (const Wr2vReference * ref)
{
  const gchar *word = wr2v_ref_kind_word (ref->kind);

  if (ref->source)
    return g_strdup_printf ("%s %u (pad %s_%u, %s)", word, ref->number,
        ref->kind == WR2V_REF_VIDEO ? "video" : "image", ref->pad_index,
        ref->source);
  return g_strdup_printf ("%s %u (pad %s_%u)", word, ref->number,
      ref->kind == WR2V_REF_VIDEO ? "video" : "image", ref->pad_index);
}

/* Output sizes of the hosted Wan models per resolution tier and aspect
 * ratio: the 16:9 sizes are confirmed (1280x720, 1920x1080); the others
 * follow DashScope's published wan2.x size lists [I for 2.7]. */
static const gint output_sizes[2][5][2] = {
  /* 720p */
  {{1280, 720}, {720, 1280}, {960, 960}, {1088, 832}, {832, 1088}},
  /* 1080p */
  {{1920, 1080}, {1080, 1920}, {1440, 1440}, {1632, 1248}, {1248, 1632}},
};

void
wr2v_output_size (Wr2vResolution res, Wr2vAspectRatio ar, gint * width,
    gint * height)
{
  guint r = res == WR2V_RESOLUTION_1080P ? 1 : 0;
  guint a = ar <= WR2V_ASPECT_3_4 ? ar : 0;

  *width = output_sizes[r][a][0];
  *height = output_sizes[r][a][1];
}

gchar *
wr2v_request_canonical (const Wr2vRequest * req, const gchar * engine_id)
{
  g_autoptr (JsonBuilder) b = json_builder_new ();
  g_autoptr (JsonGenerator) gen = json_generator_new ();
  g_autoptr (JsonNode) root = NULL;
  /* the continuing reading: a prompt keeps its hash (and its paid job)
   * whichever convention it is written in */
  g_autofree gchar *prompt = wr2v_prompt_canonical (req);
  gboolean keyed = req->job_key && *req->job_key;

  /* Field order is fixed: this string is hashed. Bump "v" when the form
   * changes so that old cache entries are not matched by accident. */
  json_builder_begin_object (b);
  json_builder_set_member_name (b, "v");
  json_builder_add_int_value (b, 1);
  if (keyed) {
    /* only requests with a key change form: others keep their keys */
    json_builder_set_member_name (b, "job_key");
    json_builder_add_string_value (b, req->job_key);
  }
  json_builder_set_member_name (b, "engine");
  json_builder_add_string_value (b, engine_id ? engine_id : "");
  json_builder_set_member_name (b, "prompt");
  json_builder_add_string_value (b, prompt);
  json_builder_set_member_name (b, "negative_prompt");
  json_builder_add_string_value (b,
      req->negative_prompt ? req->negative_prompt : "");
  json_builder_set_member_name (b, "duration");
  json_builder_add_int_value (b, req->duration);
  json_builder_set_member_name (b, "resolution");
  json_builder_add_string_value (b, wr2v_resolution_nick (req->resolution));
  json_builder_set_member_name (b, "aspect_ratio");
  if (req->aspect_ratio_set)
    json_builder_add_string_value (b,
        wr2v_aspect_ratio_nick (req->aspect_ratio));
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "seed");
  json_builder_add_int_value (b, req->seed);
  json_builder_set_member_name (b, "prompt_expansion");
  json_builder_add_boolean_value (b, req->prompt_expansion);
  if (req->shot_type != WR2V_SHOT_UNSET) {
    json_builder_set_member_name (b, "shot_type");
    json_builder_add_string_value (b, wr2v_shot_type_nick (req->shot_type));
  }
  json_builder_set_member_name (b, "references");
  json_builder_begin_array (b);
  for (guint i = 0; i < req->references->len; i++) {
    const Wr2vReference *ref = g_ptr_array_index (req->references, i);

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "kind");
    json_builder_add_string_value (b, wr2v_ref_kind_word (ref->kind));
    json_builder_set_member_name (b, "number");
    json_builder_add_int_value (b, ref->number);
    json_builder_set_member_name (b, "sha256");
    json_builder_add_string_value (b, ref->sha256 && !keyed ? ref->sha256 : "");
    json_builder_set_member_name (b, "uri");
    json_builder_add_string_value (b, ref->uri ? ref->uri : "");
    /* only set inputs change the form: other requests keep their keys */
    if (ref->first_frame) {
      json_builder_set_member_name (b, "role");
      json_builder_add_string_value (b, "first_frame");
    }
    if (ref->voice_uri) {
      json_builder_set_member_name (b, "voice_uri");
      json_builder_add_string_value (b, ref->voice_uri);
    }
    /* a voice's bytes, like a reference's (none with a job key) */
    if (ref->voice_sha256) {
      json_builder_set_member_name (b, "voice_sha256");
      json_builder_add_string_value (b, keyed ? "" : ref->voice_sha256);
    }
    json_builder_end_object (b);
  }
  json_builder_end_array (b);
  json_builder_end_object (b);

  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  return json_generator_to_data (gen, NULL);
}

const gchar *
wr2v_shot_type_nick (Wr2vShotType shot)
{
  switch (shot) {
    case WR2V_SHOT_SINGLE:
      return "single";
    case WR2V_SHOT_MULTI:
      return "multi";
    default:
      return NULL;
  }
}

gchar *
wr2v_request_hash (const Wr2vRequest * req, const gchar * engine_id)
{
  g_autofree gchar *canon = wr2v_request_canonical (req, engine_id);

  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, canon, -1);
}

gchar *
wr2v_file_sha256 (const gchar * path, GError ** error)
{
  g_autoptr (GFile) file = g_file_new_for_path (path);
  g_autoptr (GFileInputStream) in = NULL;
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint8 buf[64 * 1024];
  gssize n;

  in = g_file_read (file, NULL, error);
  if (!in)
    return NULL;
  while ((n = g_input_stream_read (G_INPUT_STREAM (in), buf, sizeof buf, NULL,
              error)) > 0)
    g_checksum_update (sum, buf, n);
  if (n < 0)
    return NULL;
  return g_strdup (g_checksum_get_string (sum));
}
