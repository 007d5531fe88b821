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

/* EOS before the clip is served: the job is cancelled as on a stop (a
 * hosted job stays in the journal, to be resumed), no new one starts,
 * and create() returns FLUSHING. Pushing EOS is the caller's: the wanr2v
 * bin pushes it on its own src pad. From any thread. */
void gst_wanr2v_gen_end_output (GstWanR2vGen * self);

G_END_DECLS
