/* wr2v-preview-sound.c: the preview animatic's soundtrack; see the
 * header. */
#include "wr2v-preview-sound.h"

#include <gst/controller/controller.h>

#define SOUND_RATE 48000
/* one buffer per video frame (30 fps): controller steps land on frames,
 * and the clip's length is a whole number of buffers */
#define SOUND_SAMPLES_PER_BUFFER (SOUND_RATE / 30)
#define SOUND_BED_VOLUME 0.05
#define SOUND_CUE_VOLUME 0.25
#define SOUND_CUE_LENGTH (GST_SECOND / 5)

/* the first AAC encoder installed, in order of preference */
static GstElement *
make_aac_encoder (void)
{
  static const gchar *const names[] = { "voaacenc", "avenc_aac", "fdkaacenc" };

  for (guint i = 0; i < G_N_ELEMENTS (names); i++) {
    GstElement *enc = gst_element_factory_make (names[i], NULL);

    if (enc)
      return enc;
  }
  return NULL;
}

/* Binds @prop of @src to steps: @bed, then @cue at each cue time for
 * SOUND_CUE_LENGTH. */
static void
bind_steps (GstElement * src, const gchar * prop, gdouble bed,
    const gdouble * cue, const GstClockTime * cues, guint n_cues)
{
  GstControlSource *cs = gst_interpolation_control_source_new ();
  GstTimedValueControlSource *tv = GST_TIMED_VALUE_CONTROL_SOURCE (cs);

  g_object_set (cs, "mode", GST_INTERPOLATION_MODE_NONE, NULL);
  gst_timed_value_control_source_set (tv, 0, bed);
  for (guint i = 0; i < n_cues; i++) {
    gst_timed_value_control_source_set (tv, cues[i], cue[i]);
    /* a later cue's start wins over this one's end */
    if (i + 1 == n_cues || cues[i + 1] > cues[i] + SOUND_CUE_LENGTH)
      gst_timed_value_control_source_set (tv, cues[i] + SOUND_CUE_LENGTH, bed);
  }
  gst_object_add_control_binding (GST_OBJECT (src),
      gst_direct_control_binding_new_absolute (GST_OBJECT (src), prop, cs));
  gst_object_unref (cs);
}

/* A voice's samples past the clip's end are dropped: the soundtrack
 * lasts the clip, whatever the voice's length. */
static GstPadProbeReturn
cut_at_clip_end (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstClockTime end = GPOINTER_TO_SIZE (user_data) * GST_SECOND;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

  if (GST_BUFFER_PTS_IS_VALID (buf) && GST_BUFFER_PTS (buf) >= end)
    return GST_PAD_PROBE_DROP;
  return GST_PAD_PROBE_OK;
}

/* @voices (the references' voice files) decoded and mixed over the bed
 * from @filter: returns the mixer, or @filter when there is none (or no
 * audiomixer). */
static GstElement *
add_voices (GstBin * pipeline, GstElement * filter, guint duration_s,
    const gchar * const *voices)
{
  GstElement *mixer = voices && voices[0] ?
      gst_element_factory_make ("audiomixer", NULL) : NULL;

  if (!mixer)
    return filter;
  gst_bin_add (pipeline, mixer);
  gst_element_link (filter, mixer);
  for (guint i = 0; voices[i]; i++) {
    g_autofree gchar *loc = g_strescape (voices[i], NULL);
    g_autofree gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! "
        "decodebin ! audioconvert ! audioresample ! capsfilter name=out "
        "caps=audio/x-raw,rate=%d,channels=1", loc, SOUND_RATE);
    GError *err = NULL;
    /* not ghosting every unlinked pad: audioconvert's sink waits for
     * decodebin's pad */
    GstElement *voice = gst_parse_bin_from_description (desc, FALSE, &err);
    GstElement *out;
    GstPad *pad;

    if (!voice) {
      GST_WARNING ("a voice left out of the soundtrack: %s", err->message);
      g_error_free (err);
      continue;
    }
    out = gst_bin_get_by_name (GST_BIN (voice), "out");
    pad = gst_element_get_static_pad (out, "src");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, cut_at_clip_end,
        GSIZE_TO_POINTER (duration_s), NULL);
    gst_element_add_pad (voice, gst_ghost_pad_new ("src", pad));
    gst_object_unref (pad);
    gst_object_unref (out);
    gst_bin_add (pipeline, voice);
    gst_element_link (voice, mixer);
  }
  return mixer;
}

gboolean
wr2v_preview_add_soundtrack (GstBin * pipeline, GstElement * mux,
    guint duration_s, gdouble bed_hz, const GstClockTime * cues, guint n_cues,
    const gchar * const *voices)
{
  GstElement *enc = make_aac_encoder ();
  GstElement *src, *filter, *convert;
  g_autofree gdouble *freq = g_new (gdouble, MAX (n_cues, 1));
  g_autofree gdouble *volume = g_new (gdouble, MAX (n_cues, 1));
  GstCaps *caps;

  if (!enc) {
    GST_WARNING ("no AAC encoder (avenc_aac, voaacenc, fdkaacenc): the "
        "animatic has no soundtrack");
    return FALSE;
  }
  src = gst_element_factory_make ("audiotestsrc", NULL);
  filter = gst_element_factory_make ("capsfilter", NULL);
  convert = gst_element_factory_make ("audioconvert", NULL);
  if (!src || !filter || !convert) {
    gst_clear_object (&src);
    gst_clear_object (&filter);
    gst_clear_object (&convert);
    gst_object_unref (enc);
    return FALSE;
  }
  gst_bin_add_many (pipeline, src, filter, convert, enc, NULL);
  gst_util_set_object_arg (G_OBJECT (src), "wave", "sine");
  g_object_set (src, "samplesperbuffer", SOUND_SAMPLES_PER_BUFFER,
      "num-buffers", (gint) (duration_s * SOUND_RATE /
          SOUND_SAMPLES_PER_BUFFER), NULL);
  caps = gst_caps_new_simple ("audio/x-raw", "rate", G_TYPE_INT, SOUND_RATE,
      "channels", G_TYPE_INT, 1, NULL);
  g_object_set (filter, "caps", caps, NULL);
  gst_caps_unref (caps);

  /* each cue a step up the harmonics of the bed, so cues are told apart */
  for (guint i = 0; i < n_cues; i++) {
    freq[i] = bed_hz * (3 + i);
    volume[i] = SOUND_CUE_VOLUME;
  }
  bind_steps (src, "freq", bed_hz, freq, cues, n_cues);
  bind_steps (src, "volume", SOUND_BED_VOLUME, volume, cues, n_cues);

  if (!gst_element_link (src, filter) ||
      !gst_element_link_many (add_voices (pipeline, filter, duration_s,
              voices), convert, enc, NULL) || !gst_element_link (enc, mux)) {
    GST_WARNING ("cannot link the soundtrack to %" GST_PTR_FORMAT, mux);
    gst_element_unlink_many (src, filter, convert, enc, NULL);
    gst_bin_remove_many (pipeline, src, filter, convert, enc, NULL);
    return FALSE;
  }
  return TRUE;
}
