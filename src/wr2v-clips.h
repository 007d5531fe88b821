/* wr2v-clips.h: what a set of stored clips needs of GStreamer: a clip's
 * last frame as an image, and clips joined end to end into one MP4.
 *
 * Both run a small pipeline on the caller's thread to its end, and stop
 * promptly when @cancellable is cancelled.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS
/* Writes the last video frame of the MP4 at @clip to @png as a PNG:
 * filesrc ! decodebin ! videoconvert ! fakesink, whose last sample is
 * then encoded (appsrc ! pngenc ! filesink). */
    gboolean wr2v_clip_last_frame (const gchar * clip, const gchar * png,
    GCancellable * cancellable, GError ** error);

/* Joins the MP4s in @clips (NULL-terminated, at least one) into @out,
 * without decoding: splitmuxsrc plays them as one stream with continuous
 * timestamps, and mp4mux writes it. The clips must carry the same streams
 * in the same encoding (as one engine's clips of one size do). */
gboolean wr2v_clips_join (const gchar * const *clips, const gchar * out,
    GCancellable * cancellable, GError ** error);

G_END_DECLS
