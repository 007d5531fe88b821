/* wr2v-storyboard.h: a list of shots rendered as one clip.
 *
 * A storyboard is a GStreamer structure list, one "shot" structure per
 * shot, separated by ";" or by starting a line with "shot" (lines starting
 * with "#" are comments):
 *
 *   shot, prompt="Video 1 walks into the kitchen", duration=3, seed=7;
 *   shot, prompt="Video 1 opens the fridge", duration=2,
 *       references="video_0";
 *   shot, prompt="The fridge's light fills the frame", duration=2,
 *       continue=true;
 *
 * Fields: prompt (string, required); duration (int, seconds; default the
 * element's duration); seed (int; default the element's seed);
 * first-frame (string: an image file, the shot's first frame);
 * references (string: the reference pads the shot uses, comma-separated,
 * e.g. "video_0,image_1", or "none"; default all; the shot's prompt
 * numbers them among themselves); continue (boolean: the shot begins
 * with the previous shot's last frame, so it starts once that shot is
 * stored). Every other setting is the element's.
 *
 * Each shot is one request, run as a member of a Wr2vJobSet (submitted
 * once, journaled, resumed and stored like any job); the independent
 * shots run together. The stored clips are then joined, without a
 * decode, into one clip stored under the storyboard's own key.
 */
#pragma once

#include "wr2v-jobset.h"

G_BEGIN_DECLS typedef struct
{
  gchar *prompt;
  guint duration;               /* 0: the element's */
  gint64 seed;                  /* -1: the element's */
  gchar *first_frame;           /* an image file, or NULL */
  gchar **references;           /* pad names; NULL: all; empty: none */
  gboolean continues;           /* first frame: the last shot's last */
  gboolean take;                /* a take of variants, not a shot */
} Wr2vShot;

/* Parses @text, or the file it names when it names one. Returns the
 * shots (Wr2vShot*), or NULL and a WR2V_ERROR_INVALID_REQUEST error that
 * names the shot and the field. */
GPtrArray *wr2v_storyboard_parse (const gchar * text, GError ** error);

/* Variants: @n takes of @base, as shots of the same prompt with seeds
 * seed, seed + 1, ... (base->seed, or when unset one derived from @base's
 * key, so that a rerun makes the same takes and resumes, never pays
 * twice). wr2v_storyboard_run() then names them "take" and posts
 * "wanr2v/variants" rather than "wanr2v/storyboard". */
GPtrArray *wr2v_storyboard_variants (const Wr2vRequest * base, guint n);

/* The request of @shot: @base (the element's request, its references
 * prepared or not) with the shot's prompt, duration, seed and references.
 * The first frame of a continuing shot is only known once the previous
 * one is stored: with @placeholder, a stand-in without a file takes its
 * place, so that the engine's check refuses a shot it cannot take. */
Wr2vRequest *wr2v_shot_request (const Wr2vShot * shot, guint number,
    const Wr2vRequest * base, gboolean placeholder, GError ** error);

/* Before anything runs or is paid: every shot's request as @engine's
 * check sees it (a continuing shot's first frame a stand-in, so that an
 * engine that takes none refuses it), and the whole storyboard's
 * estimate (the sum of the shots', negative when free) against max-cost.
 * @cost: that estimate. */
gboolean wr2v_storyboard_check (GPtrArray * shots, const Wr2vRequest * base,
    Wr2vEngine * engine, gdouble * cost, GError ** error);

/* Runs the storyboard like wr2v_job_run() runs one request: @job holds
 * the element's request (references prepared), the engine, the store,
 * the cancellable and the observer. The observer hears every shot's
 * phases ("shot 2 of 3: ..."), its facts with a "shot" field (1-based)
 * added, a "wanr2v/shot" message at each shot's change of phase, then
 * "wanr2v/storyboard" (location; shot-locations, shot-seeds and
 * shot-starts, the seconds where each shot begins in the joined clip)
 * and finished last; for variants "take" and "wanr2v/variants" instead.
 * Last frames go to @work_dir. Returns the joined clip, stored under
 * job->hash (the shots' keys hashed together). */
gchar *wr2v_storyboard_run (Wr2vJob * job, GPtrArray * shots,
    const gchar * work_dir, GError ** error);

G_END_DECLS
