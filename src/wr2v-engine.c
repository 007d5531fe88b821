/* wr2v-engine.c: engine settings, and the rules every engine shares. */
#include "wr2v-engine.h"
#include "wr2v-error.h"
#include "wr2v-prompt.h"

#include <string.h>

void
wr2v_engine_settings_clear (Wr2vEngineSettings * s)
{
  if (s->api_key) {
    /* don't leave the key in freed memory */
    memset (s->api_key, 0, strlen (s->api_key));
    g_free (s->api_key);
  }
  g_free (s->api_url);
  g_free (s->model);
  g_free (s->region);
  g_free (s->workflow);
  memset (s, 0, sizeof *s);
}

void
wr2v_engine_settings_copy (Wr2vEngineSettings * dst,
    const Wr2vEngineSettings * src)
{
  *dst = *src;
  dst->api_key = g_strdup (src->api_key);
  dst->api_url = g_strdup (src->api_url);
  dst->model = g_strdup (src->model);
  dst->region = g_strdup (src->region);
  dst->workflow = g_strdup (src->workflow);
}

void
wr2v_engine_free (Wr2vEngine * engine)
{
  if (!engine)
    return;
  if (engine->klass->finalize)
    engine->klass->finalize (engine);
  wr2v_engine_settings_clear (&engine->settings);
  g_free (engine);
}

/* The engines whose class has @input, for messages: "dashscope, preview". */
static gchar *
engines_taking (guint input)
{
  GString *names = g_string_new (NULL);

  for (guint i = 0; i < wr2v_engine_registry_size (); i++) {
    const Wr2vEngineClass *klass = wr2v_engine_registry_class (i);

    if (klass->inputs & input)
      g_string_append_printf (names, "%s%s", names->len ? ", " : "",
          klass->name);
  }
  return g_string_free (names, FALSE);
}

/* First frame, voices, shot type: well formed, and taken by the engine;
 * refused here, before anything is sent or paid, when it takes them not. */
static gboolean
check_inputs (Wr2vEngine * engine, const Wr2vRequest * req, GError ** error)
{
  const gchar *name = engine->klass->name;
  guint first_frames = 0;

  for (guint i = 0; i < req->references->len; i++) {
    const Wr2vReference *ref = g_ptr_array_index (req->references, i);
    /* a voice pad's voice has a path and no source */
    gboolean voice = ref->voice_uri || ref->voice_source || ref->voice_path
        || ref->voice_pad;
    const gchar *voice_prop = ref->voice_uri ? "voice-uri" :
        ref->voice_source ? "voice-location" : ref->voice_pad;
    guint input = ref->first_frame ? WR2V_INPUT_FIRST_FRAME :
        voice ? WR2V_INPUT_VOICE : 0;
    g_autofree gchar *who = wr2v_reference_name (ref);
    g_autofree gchar *takers = NULL;

    if (ref->first_frame && (ref->kind != WR2V_REF_IMAGE || ++first_frames > 1)) {
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
          "%s has role=first-frame, but only one image can be the first "
          "frame. Set role=subject on the others.", who);
      return FALSE;
    }
    if (ref->voice_uri && !g_str_has_prefix (ref->voice_uri, "https://") &&
        !g_str_has_prefix (ref->voice_uri, "oss://")) {
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
          "%s has voice-uri \"%s\", which is not an https:// or oss:// URL "
          "of a wav or mp3 file (1 to 10 seconds).", who, ref->voice_uri);
      return FALSE;
    }
    if ((ref->voice_uri != NULL) + (ref->voice_source != NULL) +
        (ref->voice_pad != NULL) > 1) {
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
          "%s has more than one voice (of voice-uri, voice-location and a "
          "voice pad%s%s). Keep one.", who, ref->voice_pad ? ": " : "",
          ref->voice_pad ? ref->voice_pad : "");
      return FALSE;
    }
    if (voice && !(engine->klass->inputs & WR2V_INPUT_VOICE))
      input = WR2V_INPUT_VOICE;
    if (!input || (engine->klass->inputs & input))
      continue;
    takers = engines_taking (input);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "The %s engine takes no %s, and %s has one (%s). Remove it, or use "
        "an engine that takes it: %s.", name,
        input == WR2V_INPUT_VOICE ? "voice" : "first frame", who,
        input == WR2V_INPUT_VOICE ? voice_prop : "role=first-frame", takers);
    return FALSE;
  }
  if (req->shot_type != WR2V_SHOT_UNSET &&
      !(engine->klass->inputs & WR2V_INPUT_SHOT_TYPE)) {
    g_autofree gchar *takers = engines_taking (WR2V_INPUT_SHOT_TYPE);

    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "The %s engine's model takes no shot type (shot-type=%s). Leave "
        "shot-type at auto, or use an engine that takes it: %s.", name,
        wr2v_shot_type_nick (req->shot_type), takers);
    return FALSE;
  }
  return TRUE;
}

gboolean
wr2v_engine_check (Wr2vEngine * engine, const Wr2vRequest * req,
    GError ** error)
{
  guint n = req->references->len;
  g_autofree gchar *stripped = g_strstrip (g_strdup (req->prompt ?
          req->prompt : ""));

  if (!*stripped) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "The prompt is empty. Set the prompt property to describe the clip, "
        "naming references as \"Video 1\", \"Image 2\" and so on.");
    return FALSE;
  }
  if (n == 0) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "No reference is linked. Link at least one reference video "
        "(pad video_%%u) or image (pad image_%%u).");
    return FALSE;
  }
  if (n > WR2V_MAX_REFERENCES) {
    guint videos = wr2v_request_count (req, WR2V_REF_VIDEO);
    guint images = wr2v_request_count (req, WR2V_REF_IMAGE);

    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "%u references are linked (%u video%s, %u image%s), but at most %d "
        "are allowed in all. Unlink %u of them.", n, videos,
        videos == 1 ? "" : "s", images, images == 1 ? "" : "s",
        WR2V_MAX_REFERENCES, n - WR2V_MAX_REFERENCES);
    return FALSE;
  }
  if (!wr2v_prompt_check_mentions (req->prompt, req, error))
    return FALSE;
  if (!check_inputs (engine, req, error))
    return FALSE;
  if (engine->klass->check && !engine->klass->check (engine, req, error))
    return FALSE;
  return TRUE;
}

gdouble
wr2v_engine_cost_free (Wr2vEngine * engine, const Wr2vRequest * req)
{
  return -1.0;
}

gdouble
wr2v_engine_estimate_cost (Wr2vEngine * engine, const Wr2vRequest * req)
{
  if (!engine->klass->estimate_cost)
    return wr2v_engine_cost_free (engine, req);
  return engine->klass->estimate_cost (engine, req);
}
