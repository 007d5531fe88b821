/* gstwanr2vlive.h: the live switch inside the wanr2v bin (live=true).
 *
 * Two src pads ("src", "audio_src") that run from PLAYING on a clock of
 * their own: a placeholder (a still image, a slate with the job's phase)
 * until the clip's first frame is there, then the clip, frame for frame
 * (its sink pads "video_sink" and "audio_sink" take the clip already
 * converted to the output caps), then what after-clip says. Every buffer
 * is stamped on the running time from a frame and sample counter, so the
 * switch has no gap, no dropped and no repeated frame. Internal to the
 * bin: not registered as a factory.
 */
#pragma once

#include <gst/gst.h>

#include "gstwanr2vtypes.h"

G_BEGIN_DECLS typedef enum
{
  GST_WANR2V_PLACEHOLDER_PREVIEW,
  GST_WANR2V_PLACEHOLDER_IMAGE,
  GST_WANR2V_PLACEHOLDER_SLATE,
} GstWanR2vPlaceholder;

#define GST_TYPE_WANR2V_PLACEHOLDER (gst_wanr2v_placeholder_get_type ())
GType gst_wanr2v_placeholder_get_type (void);

typedef enum
{
  GST_WANR2V_AFTER_CLIP_EOS,
  GST_WANR2V_AFTER_CLIP_HOLD,
  GST_WANR2V_AFTER_CLIP_LOOP,
} GstWanR2vAfterClip;

#define GST_TYPE_WANR2V_AFTER_CLIP (gst_wanr2v_after_clip_get_type ())
GType gst_wanr2v_after_clip_get_type (void);

typedef enum
{
  GST_WANR2V_LIVE_ERROR_KEEP_ON_AIR,
  GST_WANR2V_LIVE_ERROR_ERROR,
} GstWanR2vLiveError;

#define GST_TYPE_WANR2V_LIVE_ERROR (gst_wanr2v_live_error_get_type ())
GType gst_wanr2v_live_error_get_type (void);

#define GST_TYPE_WANR2V_LIVE (gst_wanr2v_live_get_type ())
G_DECLARE_FINAL_TYPE (GstWanR2vLive, gst_wanr2v_live, GST, WANR2V_LIVE,
    GstElement);

/* What a run shows; set in READY, before the pads activate. @location:
 * the image of placeholder=image (or the animatic of preview, once
 * rendered: see gst_wanr2v_live_set_animatic()). @width, @height: the
 * clip's size, preferred for the output. @audio: what the audio pad
 * carries: OFF, nothing (it only ends); SILENCE, silence before the clip
 * whatever the placeholder; AUTO, the animatic's sound with
 * placeholder=preview. @on: FALSE leaves the element idle (a run that is
 * not live). */
void gst_wanr2v_live_configure (GstWanR2vLive * live, gboolean on,
    GstWanR2vPlaceholder placeholder, const gchar * location,
    GstWanR2vAfterClip after_clip, gint width, gint height,
    GstWanR2vAudio audio);

/* The slate's text (the job's phase and progress). From any thread. */
void gst_wanr2v_live_set_status (GstWanR2vLive * live, const gchar * text);

/* The placeholder becomes the MP4 at @path, looped (the preview's
 * animatic of the request). From any thread. */
void gst_wanr2v_live_set_animatic (GstWanR2vLive * live, const gchar * path);

/* Ends both src pads with EOS at their next frame, clip or not (the
 * application's EOS). From any thread. */
void gst_wanr2v_live_end (GstWanR2vLive * live);

/* Raw caps for a pad with nothing upstream yet: @want intersected with
 * what the peer of @pad takes, fixated; NULL when they cannot meet. */
GstCaps *gst_wanr2v_live_caps_for_peer (GstPad * pad, GstCaps * want);

G_END_DECLS
