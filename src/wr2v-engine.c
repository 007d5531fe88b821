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
  if (engine->klass->check && !engine->klass->check (engine, req, error))
    return FALSE;
  return TRUE;
}

gdouble
wr2v_engine_estimate_cost (Wr2vEngine * engine, const Wr2vRequest * req)
{
  if (!engine->klass->estimate_cost)
    return -1.0;
  return engine->klass->estimate_cost (engine, req);
}
