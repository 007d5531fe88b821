/* wr2v-fleet.h: the shared store of a fleet, on PostgreSQL (docs/fleet.md).
 *
 * Chosen by the element's `store` property or WANR2V_STORE (a libpq
 * connection string); without either, nothing here is used and the local
 * store works alone, as it always did. With it, the job driver asks the
 * fleet, after its local store missed:
 *   - wr2v_fleet_claim(): who runs a request. One transaction claims the
 *     request's hash and reserves its estimated cost against the fleet's
 *     budget; exactly one process gets SUBMIT, the others wait
 *     (LISTEN/NOTIFY on the connection's socket, polled with the job's
 *     GCancellable) for CLIP, or RESUME a provider job whose owner's lease
 *     expired;
 *   - wr2v_fleet_mark_submitting(), _set_job(), _renew(): the journal of
 *     the claimed job and its lease, renewed from the poll loop;
 *   - wr2v_fleet_record_clip(): the clip, once, content-addressed, as a
 *     large object streamed in chunks; the spend settled; the waiters
 *     woken;
 *   - wr2v_fleet_release(): a job that ended without a clip.
 *
 * The connection string may hold a password: it is never logged nor put
 * in any message (wr2v_fleet_display() is the form to show).
 *
 * A Wr2vFleet serves one job (the element opens one per job, with its
 * store); the Wr2vFleets of a process that name the same store share one
 * connection, held for one step (a transaction) at a time, and take
 * turns at listening on it while they wait. Every wait watches the job's
 * GCancellable; a connection lost is made again. */
#pragma once

#include <gio/gio.h>

#include "wr2v-store.h"

G_BEGIN_DECLS

typedef struct _Wr2vFleet Wr2vFleet;

/* The environment variable that chooses a fleet store when the `store`
 * property is unset. */
#define WR2V_FLEET_STORE_VARIABLE "WANR2V_STORE"

/* Connects to the store named by @setting (else WANR2V_STORE) and creates
 * or migrates its schema. NULL without an error when neither names one.
 * @budget: USD per @period ("day" or "month", NULL: "day"), <= 0: none. */
Wr2vFleet *wr2v_fleet_open (const gchar * setting, gdouble budget,
    const gchar * period, GError ** error);
void wr2v_fleet_free (Wr2vFleet * fleet);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Wr2vFleet, wr2v_fleet_free);

/* The connection string without its password, for messages. */
gchar *wr2v_fleet_display (const gchar * conninfo);

/* For the benchmark: the statements this fleet sent and the time spent
 * in them (waits for notifications excluded). */
void wr2v_fleet_stats (Wr2vFleet * fleet, guint64 * statements,
    gint64 * statement_us);

/* The schema version this build creates. */
gint wr2v_fleet_schema_version (void);

typedef enum
{
  WR2V_FLEET_SUBMIT,            /* this process submits the request */
  WR2V_FLEET_RESUME,            /* this process took over @job_id */
  WR2V_FLEET_CLIP,              /* the fleet holds the clip: fetch it */
} Wr2vFleetClaimKind;

typedef struct
{
  Wr2vFleetClaimKind kind;
  gchar *job_id;                /* RESUME, CLIP: the provider's */
  gchar *clip_sha256;           /* CLIP */
  gchar *source_url;            /* CLIP */
} Wr2vFleetClaim;

void wr2v_fleet_claim_clear (Wr2vFleetClaim * claim);

/* Claims @hash for a job of @engine estimated at @cost USD (< 0: free),
 * waiting while another process owns it, until @deadline (monotonic
 * microseconds). Errors: the budget (WR2V_ERROR_COST, with the figures),
 * a submit whose owner died before it learnt the job id
 * (WR2V_ERROR_MAYBE_SUBMITTED), the store unreachable, cancelled. */
gboolean wr2v_fleet_claim (Wr2vFleet * fleet, const gchar * hash,
    const gchar * engine, gdouble cost, gint64 deadline,
    GCancellable * cancellable, Wr2vFleetClaim * claim, GError ** error);

/* Said before the submit is sent: a taker must not submit again. FALSE
 * when the store can't say it (then nothing may be submitted). */
gboolean wr2v_fleet_mark_submitting (Wr2vFleet * fleet, const gchar * hash,
    GError ** error);
/* The provider's job id, as soon as it is known (best effort: the next
 * renewal says it again). */
void wr2v_fleet_set_job (Wr2vFleet * fleet, const gchar * hash,
    const gchar * job_id);
/* Renews the lease (and says @job_id again); best effort, reconnects. */
void wr2v_fleet_renew (Wr2vFleet * fleet, const gchar * hash,
    const gchar * job_id);
/* How often the owner must renew, in microseconds. */
gint64 wr2v_fleet_renew_interval (Wr2vFleet * fleet);

/* Streams the fleet's clip @sha256 into @tmp_path (a file in the local
 * store's tmp/) and checks it against the hash. */
gboolean wr2v_fleet_fetch_clip (Wr2vFleet * fleet, const gchar * sha256,
    const gchar * tmp_path, GCancellable * cancellable, GError ** error);

/* Records the stored clip at @path as the result of @hash: the clip once
 * for the fleet, the job done, its spend settled at @cost, the waiters
 * woken. Retries while the store is unreachable, up to a minute. */
gboolean wr2v_fleet_record_clip (Wr2vFleet * fleet, const gchar * hash,
    const gchar * path, const gchar * job_id, const gchar * source_url,
    gdouble cost, GCancellable * cancellable, GError ** error);

/* A job that ended without a clip: @failed (the provider's failure, or
 * nothing submitted) releases its reservation and lets the next run
 * submit afresh; otherwise (stopped, timed out with a job id) only the
 * lease is dropped, so that another process resumes the job at once.
 * @why: the error, shown to the processes that waited for this one. */
void wr2v_fleet_release (Wr2vFleet * fleet, const gchar * hash,
    gboolean failed, const gchar * why);

G_END_DECLS
