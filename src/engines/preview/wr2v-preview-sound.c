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

gboolean
wr2v_preview_add_soundtrack (GstBin * pipeline, GstElement * mux,
    guint duration_s, gdouble bed_hz, const GstClockTime * cues, guint n_cues)
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

  if (!gst_element_link_many (src, filter, convert, enc, NULL) ||
      !gst_element_link (enc, mux)) {
    GST_WARNING ("cannot link the soundtrack to %" GST_PTR_FORMAT, mux);
    gst_element_unlink_many (src, filter, convert, enc, NULL);
    gst_bin_remove_many (pipeline, src, filter, convert, enc, NULL);
    return FALSE;
  }
  return TRUE;
}
