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

/* For the wanr2v bin, which holds EOS until the job is over: a job began
 * (a new clip to come, e.g. after a reference flush cancelled the first
 * one), and a job is over: its outcome posted (wanr2v/result or the
 * error, the final "generate" progress message) and result-location
 * written. Both are called on the element's job thread, with no lock of
 * the element held, started before finished. */
typedef void (*GstWanR2vGenJobStarted) (GstWanR2vGen * gen, gpointer user_data);
typedef void (*GstWanR2vGenJobFinished) (GstWanR2vGen * gen,
    Wr2vJobOutcome outcome, gpointer user_data);

/* Sets the watch (NULL: none); thread-safe, meant to be set once while
 * the element is in NULL. @user_data must outlive the element. */
void gst_wanr2v_gen_set_job_watch (GstWanR2vGen * gen,
    GstWanR2vGenJobStarted started, GstWanR2vGenJobFinished finished,
    gpointer user_data);

/* For the wanr2v bin's live placeholder: the job's request, checked, its
 * references' files written, on the job thread just before the job runs
 * (@req for the call only; its files live until the element goes to
 * READY). @engine: the engine's name. Set while the element is in NULL. */
typedef void (*GstWanR2vGenRequestReady) (GstWanR2vGen * gen,
    const Wr2vRequest * req, const gchar * engine, gpointer user_data);
void gst_wanr2v_gen_set_request_watch (GstWanR2vGen * gen,
    GstWanR2vGenRequestReady ready, gpointer user_data);

/* Whether a reference pad linked now comes from a live source (a live
 * GstBaseSrc upstream): what makes the output live at READY->PAUSED,
 * and the wanr2v bin's live mode unless the user set live. */
gboolean gst_wanr2v_gen_references_live (GstWanR2vGen * gen);

G_END_DECLS
