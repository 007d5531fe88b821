/* wr2v-job.h: a job, one request run on one engine to a stored clip.
 *
 * wr2v_job_run() drives the engine the same way for every engine (see
 * wr2v-job.c): result store lookup, the journal that makes a submit
 * happen once, polling with backoff, the request timeout, storing the
 * clip before anything decodes it. Engines report through the job
 * (phases, facts, error details); whoever runs the job hears it through
 * its Wr2vJobObserver.
 *
 * A job runs on the caller's thread (the element's job thread) and every
 * observer callback is called on that thread, with no lock of the job's
 * held. It stops promptly when its GCancellable is cancelled.
 */
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

#include "wr2v-request.h"
#include "wr2v-store.h"

G_BEGIN_DECLS

typedef struct _Wr2vEngine Wr2vEngine;
typedef struct _Wr2vJob Wr2vJob;

typedef enum
{
  WR2V_PHASE_PREPARE,           /* preparing references */
  WR2V_PHASE_UPLOAD,
  WR2V_PHASE_SUBMIT,
  WR2V_PHASE_QUEUED,
  WR2V_PHASE_GENERATING,
  WR2V_PHASE_DOWNLOAD,
  WR2V_PHASE_DECODE,
} Wr2vPhase;

const gchar *wr2v_phase_name (Wr2vPhase phase);

/* How a job ended. */
typedef enum
{
  WR2V_JOB_STORED,              /* the clip is in the result store */
  WR2V_JOB_FAILED,
  WR2V_JOB_CANCELLED,           /* stopped through its GCancellable */
} Wr2vJobOutcome;

/* The outcome of a job (or of any step of a run) that ended with @error
 * (NULL: stored). A failure while @cancellable is cancelled is a stop:
 * a submit interrupted by a stop may end in "maybe submitted" rather
 * than G_IO_ERROR_CANCELLED. */
Wr2vJobOutcome wr2v_job_outcome (GCancellable * cancellable,
    const GError * error);

typedef struct
{
  /* A phase began or made progress; @text is for humans. */
  void (*phase) (gpointer user_data, Wr2vPhase phase, const gchar * text);
  /* A fact about the job, posted as a "wanr2v/<name>" element message.
   * Takes ownership of @facts. */
  void (*message) (gpointer user_data, GstStructure * facts);
  /* The delivered clip at @path is whole and checked: it may be opened
   * and decoded from now on, while the job makes it durable in the store
   * (an open file follows the rename into results/). At most once per
   * run, before finished; not for a clip served from the store. May be
   * NULL. */
  void (*clip_ready) (gpointer user_data, const gchar * path);
  /* The run is over: called once by wr2v_job_run(), last, just before it
   * returns. @path: the stored clip when @outcome is WR2V_JOB_STORED,
   * else NULL. @error: why, when FAILED or CANCELLED, else NULL. Both are
   * only borrowed for the call. May be NULL. */
  void (*finished) (gpointer user_data, Wr2vJobOutcome outcome,
      const gchar * path, const GError * error);
  gpointer user_data;
} Wr2vJobObserver;

typedef enum
{
  WR2V_POLL_QUEUED,
  WR2V_POLL_RUNNING,
  WR2V_POLL_SUCCEEDED,
  WR2V_POLL_FAILED,
} Wr2vPollState;

/* What one poll of a remote job learnt. */
typedef struct
{
  Wr2vPollState state;
  gchar *status;                /* the provider's own word */
  gchar *output_url;            /* when SUCCEEDED */
  gchar *error_code;            /* when FAILED */
  gchar *error_message;
  gint step, steps;             /* progress when known, else 0 / 0 */
} Wr2vPollResult;

void wr2v_poll_result_clear (Wr2vPollResult * res);

struct _Wr2vJob
{
  Wr2vRequest *request;         /* borrowed */
  Wr2vEngine *engine;           /* borrowed */
  Wr2vStore *store;             /* borrowed */
  GCancellable *cancellable;    /* borrowed */
  Wr2vJobObserver observer;

  gchar *hash;                  /* the request's key in the store */
  gchar *job_id;                /* the provider's, once known */
  gchar *source_url;            /* where the clip was downloaded from */
  gboolean from_cache;
  /* on failure: job-id, provider-code, provider-message, http-status */
  GstStructure *error_details;
  /* with a fleet store: when this job last renewed its lease (monotonic) */
  gint64 fleet_renewed;
  /* the part of the engine's max-cost this job may spend: 1 alone; in a
   * job set (storyboard, variants) its estimate over the set's, so that
   * prices read at run time, each within its part, stay within max-cost
   * together (see wr2v_job_max_cost()) */
  gdouble cost_share;
};

/* What this job may cost (USD, <= 0: no limit): the engine's max-cost,
 * times cost_share. The text names it for an error: "max-cost (USD 3.00)"
 * alone, "its share of max-cost (...)" in a set. */
gdouble wr2v_job_max_cost (const Wr2vJob * job);
gchar *wr2v_job_max_cost_text (const Wr2vJob * job);

void wr2v_job_init (Wr2vJob * job, Wr2vRequest * req, Wr2vEngine * engine,
    Wr2vStore * store, GCancellable * cancellable);
void wr2v_job_clear (Wr2vJob * job);

/* Runs the job to a stored clip and returns its path; observer.finished
 * hears the same outcome first. */
gchar *wr2v_job_run (Wr2vJob * job, GError ** error);

/* For engines: report a phase / post a fact / note error details. */
void wr2v_job_phase (Wr2vJob * job, Wr2vPhase phase, const gchar * format,
    ...) G_GNUC_PRINTF (3, 4);
void wr2v_job_post (Wr2vJob * job, GstStructure * facts);
void wr2v_job_detail_string (Wr2vJob * job, const gchar * field,
    const gchar * value);
void wr2v_job_detail_int (Wr2vJob * job, const gchar * field, gint value);

G_END_DECLS
