/* gstwanr2vprogress.h: the element's progress messages (GST_MESSAGE_PROGRESS),
 * each naming the element, and a tick with the elapsed time while a job
 * runs, so that long hosted phases are not silent and two wanr2v in one
 * pipeline are told apart. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS typedef struct _GstWanR2vProgress GstWanR2vProgress;

/* Progress of @element (not reffed: the element owns this). */
GstWanR2vProgress *gst_wanr2v_progress_new (GstElement * element);
void gst_wanr2v_progress_free (GstWanR2vProgress * p);

/* Posts a progress message; @text gets the element's name appended, e.g.
 * "Clip ready (g)": the wanr2v bin's name inside one. A CONTINUE is
 * remembered as the phase the ticks repeat. Thread-safe. */
void gst_wanr2v_progress_post (GstWanR2vProgress * p, GstProgressType type,
    const gchar * code, const gchar * text);

/* A job starts: every @interval_s seconds, the current phase is posted
 * again with the time since the start ("generating: queued, 1 min 20 s
 * elapsed (g)") until gst_wanr2v_progress_stop(). */
void gst_wanr2v_progress_start (GstWanR2vProgress * p, guint interval_s);
void gst_wanr2v_progress_stop (GstWanR2vProgress * p);

/* The job is one an earlier run submitted: ticks say "resumed job". */
void gst_wanr2v_progress_set_resumed (GstWanR2vProgress * p);

G_END_DECLS
