/* wr2v-remote-limits.h: the remote-job layer's checks before paying (part
 * of wr2v-remote.h, which includes this header): a hosted model's limits
 * as data, checked with one message style, and the seconds of reference
 * video a per-second bill counts.
 */
#pragma once

#include "wr2v-remote.h"

G_BEGIN_DECLS

/* What a hosted model takes; a 0 field is no limit of its own. */
struct _Wr2vRemoteLimits
{
  guint min_duration_s;
  guint max_duration_s;
  guint max_duration_with_video_s;      /* when any reference video is in */
  guint max_prompt_chars;
  guint max_negative_prompt_chars;
  gint64 max_seed;
  guint max_videos;
  guint max_images;
};

/* FALSE with WR2V_ERROR_UNSUPPORTED or WR2V_ERROR_INVALID_REQUEST, naming
 * the provider and the model and what to change, when @req is outside
 * @limits or asks for a resolution other than 720p and 1080p. */
gboolean wr2v_remote_check_limits (Wr2vRemote * remote,
    const Wr2vRequest * req, const Wr2vRemoteLimits * limits, GError ** error);

/* An engine's table of what differs by model, rows of @row_size bytes
 * that each start with the model's name (a const gchar *): the row of
 * @model (the first whose name it starts with, when @by_prefix: its
 * "-preview" variants), else the first row, the default model's. */
gconstpointer wr2v_remote_model_row (gconstpointer rows, guint n_rows,
    gsize row_size, const gchar * model, gboolean by_prefix);

/* A reference video whose length can't be read (a uri, or no MP4/MOV)
 * is billed as this long: the element's default reference-duration. */
#define WR2V_REMOTE_ASSUMED_REFERENCE_VIDEO_S 10.0

/* The seconds a host that bills input video too charges for @req: the
 * clip's plus its reference videos', each rounded up to a whole second
 * (the safe side of a per-second bill). */
gdouble wr2v_remote_billed_seconds (const Wr2vRequest * req);

G_END_DECLS
