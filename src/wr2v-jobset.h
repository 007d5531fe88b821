/* wr2v-jobset.h: several jobs (one request each) run as one set.
 *
 * A storyboard's shots and a request's variants are sets of requests on
 * one engine and one store. Each member is an ordinary Wr2vJob run by
 * wr2v_job_run() on a thread of its own, so each is submitted once,
 * journaled, resumed and stored exactly as a single job is. The set adds
 * only what is the set's:
 *   - the cost of the whole set, estimated and checked against max-cost
 *     before any member starts (wr2v_job_set_check_cost());
 *   - at most max_parallel members running at once; a member may wait
 *     for another one ("after"), which must be stored first, and may then
 *     change its request (e.g. take that clip's last frame as its first
 *     frame) in the observer's `before` hook;
 *   - one failure stops the others (their hosted jobs stay in the journal,
 *     to be resumed by the next run), as does the caller's cancellable;
 *   - every observer callback names the member it is about.
 *
 * Threads: wr2v_job_set_run() blocks its caller until every member ended;
 * the observer's callbacks are called on the members' threads, possibly
 * at the same time, with no lock of the set held.
 */
#pragma once

#include "wr2v-engine.h"

G_BEGIN_DECLS typedef struct _Wr2vJobSet Wr2vJobSet;

typedef struct
{
  /* member @index's job reports a phase */
  void (*phase) (gpointer user_data, guint index, Wr2vPhase phase,
      const gchar * text);
  /* a fact of member @index's job; takes ownership of @facts */
  void (*message) (gpointer user_data, guint index, GstStructure * facts);
  /* Just before member @index starts, once the member it waits for (if
   * any) stored @after_path (else NULL): may change @req. FALSE and
   * @error fail the member (and so the set). May be NULL. */
    gboolean (*before) (gpointer user_data, guint index, Wr2vRequest * req,
      const gchar * after_path, GCancellable * cancellable, GError ** error);
  gpointer user_data;
} Wr2vJobSetObserver;

/* @engine, @store and @cancellable are borrowed and must outlive the set. */
Wr2vJobSet *wr2v_job_set_new (Wr2vEngine * engine, Wr2vStore * store,
    GCancellable * cancellable, const Wr2vJobSetObserver * observer);
void wr2v_job_set_free (Wr2vJobSet * set);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Wr2vJobSet, wr2v_job_set_free);

/* Adds a member running @req (owned); it starts once member @after (< its
 * own index; -1: none) is stored. Returns its index. */
guint wr2v_job_set_add (Wr2vJobSet * set, Wr2vRequest * req, gint after);

guint wr2v_job_set_size (Wr2vJobSet * set);
Wr2vRequest *wr2v_job_set_request (Wr2vJobSet * set, guint index);

/* The sum of the members' estimates in USD; negative when every member
 * is free. */
gdouble wr2v_job_set_estimate_cost (Wr2vJobSet * set);

/* FALSE and a WR2V_ERROR_COST error when the whole set's estimate is
 * above @max_cost (<= 0: no limit). */
gboolean wr2v_job_set_check_cost (Wr2vJobSet * set, gdouble max_cost,
    GError ** error);

/* Runs every member, at most @max_parallel (0: the default) at once;
 * TRUE when all are stored. On failure @error is the first member's
 * error that is not a stop caused by it, prefixed with the member's
 * name ("shot 2: ...") when @word is set. */
gboolean wr2v_job_set_run (Wr2vJobSet * set, guint max_parallel,
    const gchar * word, GError ** error);

/* After the run: member @index's stored clip (NULL unless stored), its job
 * (hash, job id, from_cache, error details). */
const gchar *wr2v_job_set_path (Wr2vJobSet * set, guint index);
const Wr2vJob *wr2v_job_set_job (Wr2vJobSet * set, guint index);
/* The outcome of the set: STORED when every member was stored. */
Wr2vJobOutcome wr2v_job_set_outcome (Wr2vJobSet * set);
/* The failed member's job, whose error details explain the failure, or
 * NULL. */
const Wr2vJob *wr2v_job_set_failed_job (Wr2vJobSet * set);

G_END_DECLS
