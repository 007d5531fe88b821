/* wr2v-comfyui.h: what the parts of the comfyui engine share (the engine
 * itself is wr2v_engine_comfyui_new(), declared by the registry). */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS

/* "wanr2vcomfyui", made by the remote-job layer with the first engine */
GST_DEBUG_CATEGORY_EXTERN (wr2v_comfyui_debug);

G_END_DECLS
