/* wr2v-preview-sound.h: the preview animatic's soundtrack.
 *
 * A quiet, steady tone (the bed) and a brighter cue at each given time
 * (a reference entering, a cut), from one audiotestsrc whose pitch and
 * volume follow a GstController, encoded to AAC into the animatic's
 * muxer. Deterministic: the same arguments make the same samples, and
 * exactly the clip's length of them. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS
/* Adds audiotestsrc ! capsfilter ! audioconvert ! <AAC encoder> to
 * @pipeline, linked to a new audio pad of @mux: @duration_s seconds, the
 * bed at @bed_hz, a cue at each of @cues (stream time, @n_cues of them).
 * Returns FALSE, with nothing added, when no AAC encoder is installed
 * (avenc_aac, voaacenc or fdkaacenc); the animatic is then silent.
 * @voices (NULL-terminated, or NULL): the references' voice files, mixed
 * over the bed from the start, cut at the clip's end. */
    gboolean wr2v_preview_add_soundtrack (GstBin * pipeline, GstElement * mux,
    guint duration_s, gdouble bed_hz, const GstClockTime * cues, guint n_cues,
    const gchar * const *voices);

G_END_DECLS
