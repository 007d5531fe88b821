/* gstwanr2vtakes.h: the wanr2v bin's take pads (variants > 1).
 *
 * Once the takes of variants are stored (the wanr2v/variants message),
 * each take's file is decoded on sometimes src pads of its own:
 * `take_%u` (raw video) and `take_audio_%u` (raw audio, when the take has
 * a soundtrack), numbered from 0 in seed order, next to the always pads
 * that play the takes one after the other. So a pipeline can show or
 * record the takes side by side (compositor) in the same run. They are
 * removed when the bin goes back to READY.
 */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS
#define GST_WANR2V_TAKE_TEMPLATE "take_%u"
#define GST_WANR2V_TAKE_AUDIO_TEMPLATE "take_audio_%u"
/* The pad templates, for the bin's class_init. */
void gst_wanr2v_takes_add_templates (GstElementClass * klass);

/* From the bin's handle_message: @variants is the wanr2v/variants
 * message's structure. Adds a decoder per take (from any thread). */
void gst_wanr2v_takes_add (GstBin * bin, const GstStructure * variants);

/* Removes the take decoders and pads, after PAUSED->READY. */
void gst_wanr2v_takes_remove (GstBin * bin);

G_END_DECLS
