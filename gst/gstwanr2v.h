/* gstwanr2v.h: the wanr2v bin: wanr2vgen + decodebin3, raw video out. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

#define GST_TYPE_WANR2V (gst_wanr2v_get_type ())
G_DECLARE_FINAL_TYPE (GstWanR2v, gst_wanr2v, GST, WANR2V, GstBin);

GST_ELEMENT_REGISTER_DECLARE (wanr2v);

G_END_DECLS
