/* wr2v-remote-limits.c: a hosted model's limits, checked before paying
 * (see wr2v-remote-limits.h).
 */
#include "config.h"

#include "wr2v-error.h"
#include "wr2v-mp4.h"
#include "wr2v-remote.h"

static gboolean
check_duration (Wr2vRemote * remote, const Wr2vRequest * req,
    const Wr2vRemoteLimits * l, GError ** error)
{
  const gchar *p = remote->klass->provider, *m = wr2v_remote_model (remote);
  guint videos = wr2v_request_count (req, WR2V_REF_VIDEO);

  if ((l->min_duration_s && req->duration < l->min_duration_s) ||
      (l->max_duration_s && req->duration > l->max_duration_s)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "%s's %s makes clips of %u to %u seconds, not %u: set duration in "
        "that range", p, m, l->min_duration_s, l->max_duration_s,
        req->duration);
    return FALSE;
  }
  if (videos > 0 && l->max_duration_with_video_s &&
      req->duration > l->max_duration_with_video_s) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "%s's %s makes clips of at most %u seconds when a reference video "
        "is present, not %u: lower duration, or use reference images only",
        p, m, l->max_duration_with_video_s, req->duration);
    return FALSE;
  }
  return TRUE;
}

/* FALSE with an error when @text has more than @max characters. */
static gboolean
check_text (Wr2vRemote * remote, const gchar * text, guint max,
    const gchar * what, GError ** error)
{
  glong chars = text ? g_utf8_strlen (text, -1) : 0;

  if (!max || chars <= (glong) max)
    return TRUE;
  g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
      "the %s has %ld characters; %s takes at most %u: shorten it", what,
      chars, remote->klass->provider, max);
  return FALSE;
}

static gboolean
check_count (Wr2vRemote * remote, const Wr2vRequest * req, Wr2vRefKind kind,
    guint max, GError ** error)
{
  guint n = wr2v_request_count (req, kind);
  const gchar *word = kind == WR2V_REF_VIDEO ? "video" : "image";

  if (!max || n <= max)
    return TRUE;
  g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
      "%s's %s takes at most %u reference %ss, not %u: unlink some %s_N "
      "pads", remote->klass->provider, wr2v_remote_model (remote), max, word,
      n, word);
  return FALSE;
}

gboolean
wr2v_remote_check_limits (Wr2vRemote * remote, const Wr2vRequest * req,
    const Wr2vRemoteLimits * limits, GError ** error)
{
  if (!check_duration (remote, req, limits, error))
    return FALSE;
  if (req->resolution != WR2V_RESOLUTION_720P &&
      req->resolution != WR2V_RESOLUTION_1080P) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "%s's %s makes 720p or 1080p clips: set resolution to one of those",
        remote->klass->provider, wr2v_remote_model (remote));
    return FALSE;
  }
  if (!check_text (remote, req->prompt, limits->max_prompt_chars, "prompt",
          error) || !check_text (remote, req->negative_prompt,
          limits->max_negative_prompt_chars, "negative prompt", error) ||
      !check_count (remote, req, WR2V_REF_VIDEO, limits->max_videos, error) ||
      !check_count (remote, req, WR2V_REF_IMAGE, limits->max_images, error))
    return FALSE;
  if (limits->max_seed && req->seed > limits->max_seed) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "seed %" G_GINT64_FORMAT " is too large: %s takes 0 to %"
        G_GINT64_FORMAT " (or -1 for a random one)", req->seed,
        remote->klass->provider, limits->max_seed);
    return FALSE;
  }
  return TRUE;
}

gconstpointer
wr2v_remote_model_row (gconstpointer rows, guint n_rows, gsize row_size,
    const gchar * model, gboolean by_prefix)
{
  guint i;

  for (i = 0; model && i < n_rows; i++) {
    gconstpointer row = (const guint8 *) rows + i * row_size;
    const gchar *name = *(const gchar * const *) row;

    if (by_prefix ? g_str_has_prefix (model, name) : g_str_equal (model, name))
      return row;
  }
  return rows;
}

gdouble
wr2v_remote_billed_seconds (const Wr2vRequest * req)
{
  gdouble total = req->duration, d;
  guint i;

  for (i = 0; req->references && i < req->references->len; i++) {
    Wr2vReference *ref = g_ptr_array_index (req->references, i);

    if (ref->kind != WR2V_REF_VIDEO)
      continue;
    if (ref->path && wr2v_mp4_duration (ref->path, &d, NULL) && d > 0)
      total += (gdouble) (gint64) d + (d > (gint64) d ? 1 : 0);
    else
      total += WR2V_REMOTE_ASSUMED_REFERENCE_VIDEO_S;
  }
  return total;
}
