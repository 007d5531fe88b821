/* gstwanr2vgen.h: the core element: references in, the clip as delivered
 * (video/quicktime) out. */
#pragma once

#include <gst/gst.h>
#include <gst/base/gstbasesrc.h>

#include "wr2v-engine.h"
#include "gstwanr2vtypes.h"

G_BEGIN_DECLS

#define GST_TYPE_WANR2V_GEN (gst_wanr2v_gen_get_type ())
G_DECLARE_FINAL_TYPE (GstWanR2vGen, gst_wanr2v_gen, GST, WANR2V_GEN,
    GstBaseSrc);

GST_ELEMENT_REGISTER_DECLARE (wanr2vgen);

G_END_DECLS
