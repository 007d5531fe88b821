/* wr2v-engine.h: the engine interface. The job that drives an engine is
 * in wr2v-job.h, included here.
 *
 * An engine is one file that fills a Wr2vEngineClass. Local engines that
 * render in-process implement generate(); remote engines implement
 * prepare -> submit -> poll -> fetch, and the shared driver (wr2v_job_run)
 * does the rest the same way for all of them: result store lookup, the
 * journal that makes a submit happen once, polling with backoff, the
 * request timeout, storing the clip before anything decodes it.
 *
 * Everything here runs on the job's own thread and stops promptly when the
 * job's GCancellable is cancelled.
 */
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

#include "wr2v-backoff.h"
#include "wr2v-job.h"
#include "wr2v-mp4.h"
#include "wr2v-request.h"
#include "wr2v-store.h"

G_BEGIN_DECLS

typedef struct
{
  gchar *api_key;               /* never logged */
  gchar *api_url;               /* NULL: the engine's default */
  gchar *model;                 /* NULL: the engine's default */
  gchar *region;
  gchar *workflow;
  guint request_timeout_s;      /* whole job; 0: the engine's default */
  guint poll_interval_ms;       /* first delay, then backoff */
  guint poll_interval_max_ms;   /* backoff cap */
  gdouble max_cost;             /* USD, <= 0: no limit */
  guint64 max_download_bytes;
} Wr2vEngineSettings;

void wr2v_engine_settings_clear (Wr2vEngineSettings * s);
void wr2v_engine_settings_copy (Wr2vEngineSettings * dst,
    const Wr2vEngineSettings * src);

/* Wr2vEngineClass.inputs */
typedef enum
{
  WR2V_INPUT_FIRST_FRAME = 1 << 0,      /* an image as the first frame */
  WR2V_INPUT_SHOT_TYPE = 1 << 1,        /* single or multi shot */
  WR2V_INPUT_VOICE = 1 << 2,    /* a voice per reference */
} Wr2vEngineInput;

typedef struct
{
  const gchar *name;
  /* one line for humans: the `engine` property's value description */
  const gchar *description;
  /* environment variable holding the API key, or NULL (no key needed) */
  const gchar *key_variable;
  /* request-timeout when the user leaves it at 0: minutes for a hosted
   * API, an hour or more for a local GPU */
  guint default_timeout_s;
  /* the model's inputs beyond the prompt and references that this engine
   * sends (Wr2vEngineInput flags): a request with another one is refused
   * by wr2v_engine_check(), before anything is sent or paid */
  guint inputs;
  /* how many jobs of one set (a storyboard's shots, variants) may run at
   * once on one account or machine; 0: WR2V_DEFAULT_MAX_PARALLEL_JOBS */
  guint max_jobs;
  /* what a request must satisfy on this engine (durations, sizes, counts) */
  gboolean (*check) (Wr2vEngine * engine, const Wr2vRequest * req,
      GError ** error);
  /* USD per job, or a negative value when the engine is free */
  gdouble (*estimate_cost) (Wr2vEngine * engine, const Wr2vRequest * req);
  /* what, besides the request, changes the result (model, workflow) */
  gchar *(*identity) (Wr2vEngine * engine);

  /* local engines */
  gboolean (*generate) (Wr2vEngine * engine, Wr2vJob * job,
      const gchar * out_path, GError ** error);

  /* remote engines */
  gboolean (*prepare) (Wr2vEngine * engine, Wr2vJob * job, GError ** error);
  gchar *(*submit) (Wr2vEngine * engine, Wr2vJob * job, GError ** error);
  gboolean (*poll) (Wr2vEngine * engine, Wr2vJob * job, const gchar * job_id,
      Wr2vPollResult * res, GError ** error);
  gboolean (*fetch) (Wr2vEngine * engine, Wr2vJob * job, const gchar * url,
      const gchar * out_path, GError ** error);
  /* best effort, on stop: lets a local GPU go (ComfyUI). A job cancelled
   * this way is over: the journal forgets it. Hosted engines leave it
   * NULL, so that a paid job keeps running and is resumed next time. */
  void (*cancel_remote) (Wr2vEngine * engine, const gchar * job_id);

  void (*finalize) (Wr2vEngine * engine);
} Wr2vEngineClass;

struct _Wr2vEngine
{
  const Wr2vEngineClass *klass;
  Wr2vEngineSettings settings;
  gpointer priv;
};

void wr2v_engine_free (Wr2vEngine * engine);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Wr2vEngine, wr2v_engine_free);

/* Validates @req for @engine: the generic rules and the engine's own. */
gboolean wr2v_engine_check (Wr2vEngine * engine, const Wr2vRequest * req,
    GError ** error);
gdouble wr2v_engine_estimate_cost (Wr2vEngine * engine,
    const Wr2vRequest * req);

/* Wr2vEngineClass.estimate_cost of an engine that costs nothing (a local
 * one): -1. */
gdouble wr2v_engine_cost_free (Wr2vEngine * engine, const Wr2vRequest * req);

/* What a local engine's Wr2vEngineClass says the same way: its name
 * (the prefix), that it is free, and its own <prefix>_identity and
 * <prefix>_check. */
#define WR2V_ENGINE_LOCAL_RULES(prefix) \
  .name = #prefix, .estimate_cost = wr2v_engine_cost_free, \
  .identity = prefix##_identity, .check = prefix##_check

G_END_DECLS

#include "wr2v-engine-registry.h"
