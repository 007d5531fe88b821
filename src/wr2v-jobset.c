/* wr2v-jobset.c: several jobs run as one set; see wr2v-jobset.h.
 *
 * The caller's thread schedules: it starts a member's thread when the
 * member it waits for is stored and fewer than max_parallel run, then
 * sleeps on the set's condition until a member ends. Each member's thread
 * runs one wr2v_job_run() and nothing else of the driver's.
 *
 * Threads and locks: `lock` guards the members' state, path and error and
 * `running`; `cond` is signalled when a member ends. A member's Wr2vJob is
 * only touched by its own thread while it runs, and by the caller after
 * that thread was joined. The members share the set's cancellable, which
 * follows the caller's and is cancelled when one member fails.
 */
#include "wr2v-jobset.h"
#include "wr2v-defaults.h"
#include "wr2v-error.h"

GST_DEBUG_CATEGORY_STATIC (wr2v_jobset_debug);
#define GST_CAT_DEFAULT wr2v_jobset_debug

typedef enum
{
  MEMBER_WAITING,
  MEMBER_RUNNING,
  MEMBER_ENDED,
} MemberState;

typedef struct
{
  Wr2vJobSet *set;
  guint index;
  gint after;
  Wr2vRequest *request;
  Wr2vJob job;
  MemberState state;
  GThread *thread;
  gchar *path;                  /* the stored clip */
  GError *error;
  Wr2vJobOutcome outcome;
  gdouble cost_share;           /* see share_cost() */
} Member;

struct _Wr2vJobSet
{
  Wr2vEngine *engine;
  Wr2vStore *store;
  GCancellable *caller_cancellable;
  GCancellable *cancellable;    /* the members'; see wr2v-jobset.c's top */
  gulong cancel_handler;
  Wr2vJobSetObserver observer;
  GPtrArray *members;           /* Member* */

  GMutex lock;
  GCond cond;
  guint running;
  gint failed;                  /* the first member that failed, or -1 */
};

static void
member_free (Member * m)
{
  wr2v_job_clear (&m->job);
  wr2v_request_free (m->request);
  g_free (m->path);
  g_clear_error (&m->error);
  g_free (m);
}

static void
forward_cancel (GCancellable * caller, gpointer data)
{
  g_cancellable_cancel (G_CANCELLABLE (data));
}

Wr2vJobSet *
wr2v_job_set_new (Wr2vEngine * engine, Wr2vStore * store,
    GCancellable * cancellable, const Wr2vJobSetObserver * observer)
{
  static gsize once;
  Wr2vJobSet *set = g_new0 (Wr2vJobSet, 1);

  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (wr2v_jobset_debug, "wanr2vjobset", 0,
        "wanr2v sets of jobs");
    g_once_init_leave (&once, 1);
  }
  set->engine = engine;
  set->store = store;
  set->cancellable = g_cancellable_new ();
  if (cancellable) {
    set->caller_cancellable = g_object_ref (cancellable);
    set->cancel_handler = g_cancellable_connect (cancellable,
        G_CALLBACK (forward_cancel), g_object_ref (set->cancellable),
        g_object_unref);
  }
  if (observer)
    set->observer = *observer;
  set->members = g_ptr_array_new_with_free_func ((GDestroyNotify) member_free);
  g_mutex_init (&set->lock);
  g_cond_init (&set->cond);
  set->failed = -1;
  return set;
}

void
wr2v_job_set_free (Wr2vJobSet * set)
{
  if (!set)
    return;
  if (set->caller_cancellable) {
    g_cancellable_disconnect (set->caller_cancellable, set->cancel_handler);
    g_object_unref (set->caller_cancellable);
  }
  g_object_unref (set->cancellable);
  g_ptr_array_unref (set->members);
  g_mutex_clear (&set->lock);
  g_cond_clear (&set->cond);
  g_free (set);
}

guint
wr2v_job_set_add (Wr2vJobSet * set, Wr2vRequest * req, gint after)
{
  Member *m = g_new0 (Member, 1);

  m->set = set;
  m->index = set->members->len;
  m->after = after >= 0 && (guint) after < m->index ? after : -1;
  m->request = req;
  g_ptr_array_add (set->members, m);
  return m->index;
}

guint
wr2v_job_set_size (Wr2vJobSet * set)
{
  return set->members->len;
}

static Member *
member (Wr2vJobSet * set, guint index)
{
  g_return_val_if_fail (index < set->members->len, NULL);
  return g_ptr_array_index (set->members, index);
}

Wr2vRequest *
wr2v_job_set_request (Wr2vJobSet * set, guint index)
{
  return member (set, index)->request;
}

gdouble
wr2v_job_set_estimate_cost (Wr2vJobSet * set)
{
  gdouble total = 0.0;
  gboolean paid = FALSE;

  for (guint i = 0; i < set->members->len; i++) {
    gdouble cost = wr2v_engine_estimate_cost (set->engine,
        member (set, i)->request);

    if (cost >= 0) {
      total += cost;
      paid = TRUE;
    }
  }
  return paid ? total : -1.0;
}

gboolean
wr2v_job_set_check_cost (Wr2vJobSet * set, gdouble max_cost, GError ** error)
{
  gdouble cost = wr2v_job_set_estimate_cost (set);

  if (max_cost <= 0 || cost <= max_cost)
    return TRUE;
  g_set_error (error, WR2V_ERROR, WR2V_ERROR_COST,
      "These %u jobs are estimated at USD %.2f together, above max-cost "
      "(USD %.2f), which covers them all. Raise max-cost, or use fewer or "
      "shorter jobs, or a lower resolution.", set->members->len, cost,
      max_cost);
  return FALSE;
}

/* --- a member's thread --- */

static void
on_member_phase (gpointer user_data, Wr2vPhase phase, const gchar * text)
{
  Member *m = user_data;

  if (m->set->observer.phase)
    m->set->observer.phase (m->set->observer.user_data, m->index, phase, text);
}

static void
on_member_message (gpointer user_data, GstStructure * facts)
{
  Member *m = user_data;

  if (m->set->observer.message)
    m->set->observer.message (m->set->observer.user_data, m->index, facts);
  else
    gst_structure_free (facts);
}

static gpointer
member_thread (gpointer data)
{
  Member *m = data;
  Wr2vJobSet *set = m->set;
  const gchar *after_path = m->after >= 0 ? member (set, m->after)->path : NULL;
  GError *err = NULL;
  gchar *path = NULL;

  /* the member waited for is ENDED: its path is read-only now */
  if (!set->observer.before ||
      set->observer.before (set->observer.user_data, m->index, m->request,
          after_path, set->cancellable, &err)) {
    wr2v_job_init (&m->job, m->request, set->engine, set->store,
        set->cancellable);
    m->job.cost_share = m->cost_share;
    m->job.observer.phase = on_member_phase;
    m->job.observer.message = on_member_message;
    m->job.observer.user_data = m;
    path = wr2v_job_run (&m->job, &err);
  }

  g_mutex_lock (&set->lock);
  m->path = path;
  m->error = err;
  m->outcome = wr2v_job_outcome (set->cancellable, err);
  /* the first failure that is not a stop stops the others */
  if (m->outcome == WR2V_JOB_FAILED && set->failed < 0) {
    set->failed = m->index;
    g_cancellable_cancel (set->cancellable);
  }
  m->state = MEMBER_ENDED;
  set->running--;
  g_cond_broadcast (&set->cond);
  g_mutex_unlock (&set->lock);
  return NULL;
}

/* --- the scheduler --- */

/* Whether member @m may start now; a member whose "after" did not store
 * its clip ends at once (it would wait forever). Called with the lock
 * held. */
static gboolean
member_ready (Wr2vJobSet * set, Member * m)
{
  Member *after;

  if (m->state != MEMBER_WAITING)
    return FALSE;
  if (g_cancellable_is_cancelled (set->cancellable)) {
    m->state = MEMBER_ENDED;
    m->outcome = WR2V_JOB_CANCELLED;
    return FALSE;
  }
  if (m->after < 0)
    return TRUE;
  after = member (set, m->after);
  if (after->state != MEMBER_ENDED)
    return FALSE;
  if (after->path)
    return TRUE;
  m->state = MEMBER_ENDED;
  m->outcome = WR2V_JOB_CANCELLED;
  return FALSE;
}

/* Starts what may start; TRUE while some member has not ended. Called
 * with the lock held. */
static gboolean
start_ready_members (Wr2vJobSet * set, guint max_parallel)
{
  gboolean pending = FALSE;

  for (guint i = 0; i < set->members->len; i++) {
    Member *m = member (set, i);

    if (set->running < max_parallel && member_ready (set, m)) {
      g_autofree gchar *name = g_strdup_printf ("wanr2v-job-%u", i);

      GST_DEBUG ("member %u starts", i);
      m->state = MEMBER_RUNNING;
      set->running++;
      m->thread = g_thread_new (name, member_thread, m);
    }
    if (m->state != MEMBER_ENDED)
      pending = TRUE;
  }
  return pending;
}

/* The set's error: the failed member's, else the first stop's. */
static void
set_error (Wr2vJobSet * set, const gchar * word, GError ** error)
{
  Member *m = NULL;

  if (set->failed >= 0)
    m = member (set, set->failed);
  for (guint i = 0; !m && i < set->members->len; i++)
    if (member (set, i)->error)
      m = member (set, i);
  if (!m) {
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled");
    return;
  }
  g_propagate_error (error, g_error_copy (m->error));
  if (word)
    g_prefix_error (error, "%s %u: ", word, m->index + 1);
}

/* Each member's part of max-cost, its estimate over the set's: a price
 * read at run time (WaveSpeed's) is checked against that part, so that
 * members each within their part stay within max-cost together, however
 * far the live prices are from the estimates. */
static void
share_cost (Wr2vJobSet * set)
{
  gdouble total = wr2v_job_set_estimate_cost (set);
  guint n = set->members->len;

  for (guint i = 0; i < n; i++) {
    Member *m = member (set, i);
    gdouble cost = wr2v_engine_estimate_cost (set->engine, m->request);

    m->cost_share = total > 0 && cost >= 0 ? cost / total : 1.0 / n;
  }
}

gboolean
wr2v_job_set_run (Wr2vJobSet * set, guint max_parallel, const gchar * word,
    GError ** error)
{
  guint limit = max_parallel;

  share_cost (set);

  if (!limit)
    limit = set->engine->klass->max_jobs ? set->engine->klass->max_jobs :
        WR2V_DEFAULT_MAX_PARALLEL_JOBS;
  g_mutex_lock (&set->lock);
  while (start_ready_members (set, limit))
    g_cond_wait (&set->cond, &set->lock);
  g_mutex_unlock (&set->lock);

  for (guint i = 0; i < set->members->len; i++)
    g_clear_pointer (&member (set, i)->thread, g_thread_join);
  if (wr2v_job_set_outcome (set) == WR2V_JOB_STORED)
    return TRUE;
  set_error (set, word, error);
  return FALSE;
}

const gchar *
wr2v_job_set_path (Wr2vJobSet * set, guint index)
{
  return member (set, index)->path;
}

const Wr2vJob *
wr2v_job_set_job (Wr2vJobSet * set, guint index)
{
  return &member (set, index)->job;
}

Wr2vJobOutcome
wr2v_job_set_outcome (Wr2vJobSet * set)
{
  Wr2vJobOutcome outcome = WR2V_JOB_STORED;

  if (set->failed >= 0)
    return WR2V_JOB_FAILED;
  for (guint i = 0; i < set->members->len; i++)
    if (!member (set, i)->path)
      outcome = WR2V_JOB_CANCELLED;
  return outcome;
}

const Wr2vJob *
wr2v_job_set_failed_job (Wr2vJobSet * set)
{
  return set->failed >= 0 ? &member (set, set->failed)->job : NULL;
}
