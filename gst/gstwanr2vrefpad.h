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

#define GST_TYPE_WANR2V_REF_PAD (gst_wanr2v_ref_pad_get_type ())
G_DECLARE_FINAL_TYPE (GstWanR2vRefPad, gst_wanr2v_ref_pad, GST,
    WANR2V_REF_PAD, GstPad);

struct _GstWanR2vRefPad
{
  GstPad parent;

  Wr2vRefKind kind;
  guint index;                  /* N of video_N / image_N */

  /* streaming-thread state, guarded by the element's lock where shared */
  Wr2vRefWriter *writer;
  gboolean complete;
  gchar *file;                  /* where the writer puts the reference */

  /* property */
  gchar *uri;
};

G_END_DECLS
