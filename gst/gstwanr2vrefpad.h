/* gstwanr2vrefpad.h: a reference sink pad (video_%u or image_%u). */
#pragma once

#include <gst/gst.h>

#include "wr2v-reference.h"

G_BEGIN_DECLS
/* The uri property, on wanr2vgen's pads and on the wanr2v bin's. */
#define GST_WANR2V_REF_PAD_URI_NICK "URI"
#define GST_WANR2V_REF_PAD_URI_BLURB \
  "URL that a hosted engine fetches this reference from instead of an " \
  "upload: https, or oss:// for dashscope. An unlinked pad with a uri is " \
  "complete from the start; a linked one still takes its media. preview " \
  "and comfyui need the media itself (default: none)"
/* What a voice_%u pad takes: raw audio (encoded to wav), a wav or an mp3
 * file (written as it came). */
#define GST_WANR2V_VOICE_CAPS \
  "audio/x-raw; audio/x-wav; audio/mpeg, mpegversion=(int)1; " \
  "application/x-id3"
/* The role and voice-uri properties, likewise. */
#define GST_WANR2V_REF_PAD_ROLE_BLURB \
  "What an image is: a reference subject, or the clip's first frame " \
  "(dashscope's first_frame; preview starts on it). Engines that take no " \
  "first frame refuse it before anything is sent"
#define GST_WANR2V_REF_PAD_VOICE_URI_BLURB \
  "https:// or oss:// URL of a wav or mp3 (1 to 10 s) this reference " \
  "speaks in (dashscope's reference_voice). Engines that take no voice " \
  "refuse it before anything is sent (default: none)"
#define GST_WANR2V_REF_PAD_VOICE_LOCATION_BLURB \
  "Local sound file of the voice this reference speaks in (1 to 10 s): a " \
  "wav or mp3 is sent as it is, another format is encoded to wav; checked " \
  "when the pipeline starts and uploaded like the references. Engines " \
  "that take no voice refuse it before anything is sent (default: none)"
#define GST_WANR2V_REF_PAD_VOICE_PAD_BLURB \
  "Name of the voice_N request pad whose audio is this reference's voice " \
  "(default: none; voice_N then speaks for video_N)"
/* Installs role, voice-uri, voice-location and voice-pad on @klass with
 * ids @role_id, @voice_id, @voice_id + 1 and @voice_id + 2: the pad's own
 * and the wanr2v bin pad's, one definition. */
void gst_wanr2v_ref_pad_install_inputs (GObjectClass * klass, guint role_id,
    guint voice_id);

#define GST_TYPE_WANR2V_REF_PAD (gst_wanr2v_ref_pad_get_type ())
G_DECLARE_FINAL_TYPE (GstWanR2vRefPad, gst_wanr2v_ref_pad, GST,
    WANR2V_REF_PAD, GstPad);

struct _GstWanR2vRefPad
{
  GstPad parent;

  Wr2vRefKind kind;
  guint index;                  /* N of video_N / image_N / voice_N */
  gboolean voice;               /* a voice_N pad: audio for a reference */

  /* streaming-thread state, guarded by the element's lock where shared */
  Wr2vRefWriter *writer;
  gboolean complete;
  gchar *file;                  /* where the writer puts the reference */

  /* properties */
  gchar *uri;
  gint role;                    /* GstWanR2vRole */
  gchar *voice_uri;
  gchar *voice_location;
  gchar *voice_pad;             /* the voice_N pad it speaks with */
};

G_END_DECLS
