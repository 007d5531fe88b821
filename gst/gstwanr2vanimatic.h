/* gstwanr2vanimatic.h: the preview engine's animatic of a request,
 * rendered on a thread of its own: the default placeholder of a live
 * wanr2v (placeholder=preview) while a hosted or local job runs. */
#pragma once

#include <gio/gio.h>

#include "wr2v-request.h"

G_BEGIN_DECLS typedef struct _GstWanR2vAnimatic GstWanR2vAnimatic;

/* Called once on the render thread: @path is the animatic (an MP4 that
 * lives until gst_wanr2v_animatic_free()), or NULL when it could not be
 * rendered (logged). */
typedef void (*GstWanR2vAnimaticDone) (const gchar * path, gpointer user_data);

/* Starts rendering @req (copied: its reference files must live until
 * gst_wanr2v_animatic_free()) into a file under @dir. */
GstWanR2vAnimatic *gst_wanr2v_animatic_start (const Wr2vRequest * req,
    const gchar * dir, GstWanR2vAnimaticDone done, gpointer user_data);

/* Cancels the render, waits for its thread, removes the file. */
void gst_wanr2v_animatic_free (GstWanR2vAnimatic * animatic);

G_END_DECLS
