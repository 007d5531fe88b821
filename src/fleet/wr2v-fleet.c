/* wr2v-fleet.c: the fleet store on PostgreSQL (see wr2v-fleet.h and
 * docs/fleet.md).
 *
 * Every decision is one transaction over the request's row, locked with
 * SELECT ... FOR UPDATE after an INSERT ... ON CONFLICT DO NOTHING, so
 * that two processes never both decide to submit. The spend ledger is
 * summed under a transaction-scoped advisory lock, so that two claims
 * never both fit in the last dollar of the budget.
 *
 * A lost connection is made again: waits and claims retry with backoff
 * until the job's deadline, recording a clip for up to a minute; the
 * lease renewals are best effort (the next one says it all again). */
#include "wr2v-fleet.h"
#include "wr2v-fleet-schema.h"
#include "wr2v-s3.h"
#include "wr2v-backoff.h"
#include "wr2v-error.h"
#include "wr2v-pq.h"

#include <glib/gstdio.h>
#include <gst/gst.h>
#include <libpq/libpq-fs.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <glib-unix.h>

GST_DEBUG_CATEGORY_STATIC (wr2v_fleet_debug);
#define GST_CAT_DEFAULT wr2v_fleet_debug

#define CHANNEL "wr2v_done"
#define MIGRATION_LOCK "728300151"
#define BUDGET_LOCK "728300152"
#define CHUNK (256 * 1024)
#define DEFAULT_LEASE_S 30
/* the submit itself may take this long (wr2v_remote_submit_timeout) */
#define SUBMIT_MARGIN_S 150
#define RECORD_WINDOW_S 60

/* The process's one connection to a store, shared by its Wr2vFleets (one
 * per running job): its lock is held for a whole step (a transaction);
 * the jobs that wait take turns at polling its socket, the others sleep
 * on its condition until a notification counts up @wakeups. */
typedef struct
{
  gchar *conninfo;              /* the registry's key; secret */
  PGconn *conn;
  gboolean migrated;
  GMutex lock;
  GCond cond;
  guint64 wakeups;              /* notifications seen */
  gboolean listening;           /* a waiter polls the socket */
  /* wakes the listener when another job's statement took a notification
   * off the socket first */
  gint poke[2];
  guint refs;                   /* guarded by links_lock */
} Wr2vFleetLink;

static GMutex links_lock;
static GHashTable *links;       /* conninfo -> Wr2vFleetLink */
/* libpq, loaded by the first wr2v_fleet_open() that names a store: every
 * other function here serves an open Wr2vFleet */
static const Wr2vPq *pq;

struct _Wr2vFleet
{
  gchar *conninfo;              /* secret: never shown */
  gchar *password;              /* to scrub from libpq's texts */
  gchar *display;
  Wr2vFleetLink *link;
  gchar *owner;                 /* host:pid:random */
  gdouble budget;
  gchar *period;                /* "day" or "month" */
  guint lease_s;
  /* for the benchmark: statements sent, and the time they took */
  guint64 statements;
  gint64 statement_us;
  /* the bucket clips go to instead of large objects (WANR2V_S3), or NULL */
  Wr2vS3 *s3;
};

void
wr2v_fleet_claim_clear (Wr2vFleetClaim * claim)
{
  g_free (claim->job_id);
  g_free (claim->clip_sha256);
  g_free (claim->source_url);
  memset (claim, 0, sizeof *claim);
}

gint
wr2v_fleet_schema_version (void)
{
  static const gchar *const migrations[] = WR2V_FLEET_MIGRATIONS;

  return G_N_ELEMENTS (migrations);
}

gchar *
wr2v_fleet_display (const gchar * conninfo)
{
  const Wr2vPq *api = wr2v_pq (NULL);
  PQconninfoOption *opts = api ? api->PQconninfoParse (conninfo, NULL) : NULL;
  GString *out;
  PQconninfoOption *o;

  if (!api)
    return g_strdup ("(libpq is not installed)");
  if (!opts)
    return g_strdup ("(a connection string libpq cannot read)");
  out = g_string_new (NULL);
  for (o = opts; o->keyword; o++) {
    if (!o->val || !*o->val || strcmp (o->keyword, "password") == 0 ||
        strchr (o->dispchar, '*'))
      continue;
    g_string_append_printf (out, "%s%s=%s", out->len ? " " : "",
        o->keyword, o->val);
  }
  api->PQconninfoFree (opts);
  return g_string_free (out, FALSE);
}

static gchar *
conninfo_password (const gchar * conninfo)
{
  PQconninfoOption *opts = pq->PQconninfoParse (conninfo, NULL);
  PQconninfoOption *o;
  gchar *password = NULL;

  for (o = opts; o && o->keyword; o++)
    if (strcmp (o->keyword, "password") == 0 && o->val && *o->val)
      password = g_strdup (o->val);
  if (opts)
    pq->PQconninfoFree (opts);
  return password;
}

/* libpq's text, one line, without the password should it ever be in it */
static gchar *
scrubbed (Wr2vFleet * f, const gchar * text)
{
  g_autofree gchar *line = g_strstrip (g_strdup (text ? text : ""));
  gchar *p;

  for (p = line; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  if (f->password && *f->password) {
    g_auto (GStrv) parts = g_strsplit (line, f->password, -1);

    return g_strjoinv ("***", parts);
  }
  return g_steal_pointer (&line);
}

static void
set_db_error (Wr2vFleet * f, GError ** error, const gchar * what)
{
  g_autofree gchar *why = scrubbed (f,
      f->link->conn ? pq->PQerrorMessage (f->link->conn) : "no connection");

  g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
      "The fleet store (%s) failed while %s: %s", f->display, what, why);
}

static gboolean
lost (Wr2vFleet * f)
{
  return !f->link->conn || pq->PQstatus (f->link->conn) == CONNECTION_BAD;
}

static PGresult *
query (Wr2vFleet * f, const gchar * what, const gchar * sql, gint n,
    const gchar * const *params, GError ** error)
{
  gint64 start = g_get_monotonic_time ();
  /* without parameters, a migration's several statements in one go */
  PGresult *res =
      n ? pq->PQexecParams (f->link->conn, sql, n, NULL, params, NULL,
      NULL, 0) : pq->PQexec (f->link->conn, sql);
  ExecStatusType st = pq->PQresultStatus (res);

  f->statements++;
  f->statement_us += g_get_monotonic_time () - start;

  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK)
    return res;
  set_db_error (f, error, what);
  pq->PQclear (res);
  return NULL;
}

static gboolean
exec (Wr2vFleet * f, const gchar * what, const gchar * sql, gint n,
    const gchar * const *params, GError ** error)
{
  PGresult *res = query (f, what, sql, n, params, error);

  pq->PQclear (res);
  return res != NULL;
}

static void
rollback (Wr2vFleet * f)
{
  if (!lost (f) && pq->PQtransactionStatus (f->link->conn) != PQTRANS_IDLE)
    pq->PQclear (pq->PQexec (f->link->conn, "ROLLBACK"));
}

static gboolean
migrate (Wr2vFleet * f, GError ** error)
{
  static const gchar *const migrations[] = WR2V_FLEET_MIGRATIONS;
  PGresult *res;
  gint have, v;

  if (!exec (f, "creating its schema", "BEGIN", 0, NULL, error) ||
      !exec (f, "creating its schema",
          "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")", 0, NULL, error)
      || !exec (f, "creating its schema",
          "CREATE TABLE IF NOT EXISTS wr2v_schema (version integer PRIMARY "
          "KEY, applied timestamptz NOT NULL DEFAULT now())", 0, NULL, error))
    goto fail;
  res = query (f, "reading its schema version",
      "SELECT coalesce(max(version), 0) FROM wr2v_schema", 0, NULL, error);
  if (!res)
    goto fail;
  have = atoi (pq->PQgetvalue (res, 0, 0));
  pq->PQclear (res);
  if (have > (gint) G_N_ELEMENTS (migrations)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "The fleet store (%s) has schema version %d, newer than this "
        "build's %d: update gst-wanr2v on this machine.", f->display, have,
        (gint) G_N_ELEMENTS (migrations));
    goto fail;
  }
  for (v = have + 1; v <= (gint) G_N_ELEMENTS (migrations); v++) {
    g_autofree gchar *num = g_strdup_printf ("%d", v);
    const gchar *params[] = { num };

    GST_INFO ("migrating the fleet store to schema version %d", v);
    if (!exec (f, "migrating its schema", migrations[v - 1], 0, NULL, error)
        || !exec (f, "migrating its schema",
            "INSERT INTO wr2v_schema (version) VALUES ($1::integer)", 1,
            params, error))
      goto fail;
  }
  return exec (f, "creating its schema", "COMMIT", 0, NULL, error);
fail:
  rollback (f);
  return FALSE;
}

/* notices (a schema that exists) are no user's business: libpq would
 * print them on stderr */
static void
log_notice (void *data, const char *message)
{
  GST_DEBUG ("%s", message);
}

static gboolean
connect_db (Wr2vFleet * f, GError ** error)
{
  /* the user's string comes last, so that its own connect_timeout wins */
  const gchar *keys[] = { "connect_timeout", "application_name", "dbname",
    NULL
  };
  const gchar *vals[] = { "10", "wanr2v", f->conninfo, NULL };

  if (f->link->conn)
    pq->PQfinish (f->link->conn);
  f->link->conn = pq->PQconnectdbParams (keys, vals, 1);
  if (pq->PQstatus (f->link->conn) != CONNECTION_OK) {
    set_db_error (f, error, "connecting");
    pq->PQfinish (f->link->conn);
    f->link->conn = NULL;
    return FALSE;
  }
  pq->PQsetNoticeProcessor (f->link->conn, log_notice, NULL);
  return exec (f, "listening", "LISTEN " CHANNEL, 0, NULL, error);
}

static gboolean
ensure_connected (Wr2vFleet * f, GError ** error)
{
  if (!lost (f))
    return TRUE;
  GST_INFO ("connecting to the fleet store %s", f->display);
  return connect_db (f, error);
}

static Wr2vFleetLink *
link_get (const gchar * conninfo)
{
  Wr2vFleetLink *l;

  g_mutex_lock (&links_lock);
  if (!links)
    links = g_hash_table_new (g_str_hash, g_str_equal);
  l = g_hash_table_lookup (links, conninfo);
  if (!l) {
    l = g_new0 (Wr2vFleetLink, 1);
    l->conninfo = g_strdup (conninfo);
    g_mutex_init (&l->lock);
    g_cond_init (&l->cond);
    if (!g_unix_open_pipe (l->poke, FD_CLOEXEC, NULL))
      l->poke[0] = l->poke[1] = -1;
    else
      g_unix_set_fd_nonblocking (l->poke[1], TRUE, NULL);
    g_hash_table_insert (links, l->conninfo, l);
  }
  l->refs++;
  g_mutex_unlock (&links_lock);
  return l;
}

/* The last job of the process using the store closes the connection. */
static void
link_unref (Wr2vFleetLink * l)
{
  g_mutex_lock (&links_lock);
  if (--l->refs == 0) {
    g_hash_table_remove (links, l->conninfo);
    if (l->conn)
      pq->PQfinish (l->conn);
    if (l->poke[0] >= 0) {
      close (l->poke[0]);
      close (l->poke[1]);
    }
    memset (l->conninfo, 0, strlen (l->conninfo));
    g_free (l->conninfo);
    g_mutex_clear (&l->lock);
    g_cond_clear (&l->cond);
    g_free (l);
  }
  g_mutex_unlock (&links_lock);
}

/* Connects (once per process) and migrates (once per connection's life). */
static gboolean
open_link (Wr2vFleet * f, GError ** error)
{
  gboolean ok;

  g_mutex_lock (&f->link->lock);
  ok = ensure_connected (f, error) && (f->link->migrated ||
      (f->link->migrated = migrate (f, error)));
  g_mutex_unlock (&f->link->lock);
  return ok;
}

Wr2vFleet *
wr2v_fleet_open (const gchar * setting, gdouble budget, const gchar * period,
    GError ** error)
{
  static gsize once;
  g_autoptr (Wr2vFleet) f = NULL;
  const gchar *lease = g_getenv ("WANR2V_FLEET_LEASE_S");
  const Wr2vPq *api;

  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (wr2v_fleet_debug, "wanr2vfleet", 0,
        "wanr2v fleet store");
    g_once_init_leave (&once, 1);
  }
  if (!setting || !*setting)
    setting = g_getenv (WR2V_FLEET_STORE_VARIABLE);
  if (!setting || !*setting)
    return NULL;
  if (!(api = wr2v_pq (error)))
    return NULL;
  g_atomic_pointer_set (&pq, api);
  if (period && *period && strcmp (period, "day") != 0 &&
      strcmp (period, "month") != 0) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "fleet-budget-period is \"%s\": it must be \"day\" or \"month\".",
        period);
    return NULL;
  }
  f = g_new0 (Wr2vFleet, 1);
  f->conninfo = g_strdup (setting);
  f->password = conninfo_password (setting);
  f->display = wr2v_fleet_display (setting);
  f->owner = g_strdup_printf ("%s:%d:%08x", g_get_host_name (), getpid (),
      g_random_int ());
  f->budget = budget;
  f->period = g_strdup (period && *period ? period : "day");
  f->lease_s = lease ? (guint) MAX (1, atoi (lease)) : DEFAULT_LEASE_S;
  f->link = link_get (setting);
  if (!open_link (f, error))
    return NULL;
  if (wr2v_s3_configured () && !(f->s3 = wr2v_s3_open (error)))
    return NULL;
  GST_INFO ("fleet store %s, owner %s%s%s", f->display, f->owner,
      f->s3 ? ", clips in " : "", f->s3 ? wr2v_s3_display (f->s3) : "");
  return g_steal_pointer (&f);
}

void
wr2v_fleet_free (Wr2vFleet * f)
{
  if (!f)
    return;
  if (f->link)
    link_unref (f->link);
  if (f->conninfo)
    memset (f->conninfo, 0, strlen (f->conninfo));
  g_free (f->conninfo);
  g_free (f->password);
  g_free (f->display);
  g_free (f->owner);
  g_free (f->period);
  wr2v_s3_free (f->s3);
  g_free (f);
}

void
wr2v_fleet_stats (Wr2vFleet * f, guint64 * statements, gint64 * statement_us)
{
  *statements = f->statements;
  *statement_us = f->statement_us;
}

gint64
wr2v_fleet_renew_interval (Wr2vFleet * f)
{
  return (gint64) f->lease_s * G_USEC_PER_SEC / 3;
}

/* --- claims --- */

static gchar *
num (gdouble v)
{
  gchar buf[G_ASCII_DTOSTR_BUF_SIZE];

  return g_strdup (g_ascii_dtostr (buf, sizeof buf, v));
}

/* Reserves @cost for @hash against the budget, inside the claim's
 * transaction. A reservation the hash already holds (its owner died) is
 * kept, not doubled. */
static gboolean
reserve (Wr2vFleet * f, const gchar * hash, const gchar * engine,
    gdouble cost, GError ** error)
{
  g_autofree gchar *cost_s = num (cost);
  const gchar *p_hash[] = { hash };
  const gchar *p_period[] = { f->period };
  const gchar *p_ins[] = { hash, engine, cost_s };
  PGresult *res;
  gdouble spent;
  gboolean held;

  if (cost < 0)
    return TRUE;
  if (!exec (f, "reserving the cost",
          "SELECT pg_advisory_xact_lock(" BUDGET_LOCK ")", 0, NULL, error))
    return FALSE;
  res = query (f, "reserving the cost", "SELECT count(*) FROM wr2v_ledger "
      "WHERE hash = $1 AND state = 'reserved'", 1, p_hash, error);
  if (!res)
    return FALSE;
  held = atoi (pq->PQgetvalue (res, 0, 0)) > 0;
  pq->PQclear (res);
  if (held)
    return TRUE;
  res = query (f, "reading the spend", "SELECT coalesce(sum(CASE state WHEN "
      "'settled' THEN actual ELSE reserved END), 0) FROM wr2v_ledger WHERE "
      "state <> 'released' AND at >= date_trunc($1, now())", 1, p_period,
      error);
  if (!res)
    return FALSE;
  spent = g_ascii_strtod (pq->PQgetvalue (res, 0, 0), NULL);
  pq->PQclear (res);
  if (f->budget > 0 && spent + cost > f->budget + 1e-9) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_COST,
        "The fleet's budget is USD %.2f per %s; USD %.2f is already spent "
        "or reserved this %s and this job is estimated at USD %.2f, so it "
        "was not submitted (nothing was paid). Raise fleet-budget, or run "
        "it next %s.", f->budget, f->period, spent, f->period, cost, f->period);
    return FALSE;
  }
  return exec (f, "reserving the cost", "INSERT INTO wr2v_ledger (hash, "
      "engine, reserved, state) VALUES ($1, $2, $3::numeric, 'reserved')",
      3, p_ins, error);
}

typedef struct
{
  gchar *state, *job_id, *owner, *clip, *source_url, *error;
  gboolean expired;
  gdouble lease_left_s;
} Row;

static void
row_clear (Row * r)
{
  g_free (r->state);
  g_free (r->job_id);
  g_free (r->owner);
  g_free (r->clip);
  g_free (r->source_url);
  g_free (r->error);
}

static gchar *
value (PGresult * res, gint col)
{
  return pq->PQgetisnull (res, 0, col) ? NULL : g_strdup (pq->PQgetvalue (res,
          0, col));
}

static gboolean
lock_row (Wr2vFleet * f, const gchar * hash, const gchar * engine, Row * r,
    gboolean * inserted, GError ** error)
{
  g_autofree gchar *lease = g_strdup_printf ("%u", f->lease_s);
  const gchar *p_ins[] = { hash, engine, f->owner, lease };
  const gchar *p_hash[] = { hash };
  PGresult *res;

  res = query (f, "claiming the request", "INSERT INTO wr2v_jobs (hash, "
      "engine, state, owner, lease_until) VALUES ($1, $2, 'claimed', $3, "
      "now() + make_interval(secs => $4::integer)) ON CONFLICT (hash) DO "
      "NOTHING", 4, p_ins, error);
  if (!res)
    return FALSE;
  *inserted = strcmp (pq->PQcmdTuples (res), "1") == 0;
  pq->PQclear (res);
  res = query (f, "claiming the request", "SELECT state, job_id, owner, "
      "lease_until <= now(), clip_sha256, source_url, error, "
      "extract(epoch FROM lease_until - now()) FROM wr2v_jobs "
      "WHERE hash = $1 FOR UPDATE", 1, p_hash, error);
  if (!res)
    return FALSE;
  if (pq->PQntuples (res) != 1) {
    /* deleted by an operator between the two statements */
    pq->PQclear (res);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "The fleet store's row of this request went away while it was "
        "being claimed; run again.");
    return FALSE;
  }
  r->state = value (res, 0);
  r->job_id = value (res, 1);
  r->owner = value (res, 2);
  r->expired = strcmp (pq->PQgetvalue (res, 0, 3), "t") == 0;
  r->clip = value (res, 4);
  r->source_url = value (res, 5);
  r->error = value (res, 6);
  r->lease_left_s = g_ascii_strtod (pq->PQgetvalue (res, 0, 7), NULL);
  pq->PQclear (res);
  return TRUE;
}

/* Makes the row this process's: afresh (@fresh: claimed, no job), or
 * taking over its job as it is. */
static gboolean
take_row (Wr2vFleet * f, const gchar * hash, gboolean fresh, GError ** error)
{
  g_autofree gchar *lease = g_strdup_printf ("%u", f->lease_s);
  const gchar *params[] = { hash, f->owner, lease };

  return exec (f, "claiming the request", fresh ?
      "UPDATE wr2v_jobs SET owner = $2, lease_until = now() + "
      "make_interval(secs => $3::integer), state = 'claimed', job_id = NULL, "
      "clip_sha256 = NULL, error = NULL, updated = now() WHERE hash = $1" :
      "UPDATE wr2v_jobs SET owner = $2, lease_until = now() + "
      "make_interval(secs => $3::integer), updated = now() WHERE hash = $1",
      3, params, error);
}

/* One claim transaction: TRUE with @claim filled, or TRUE with *@wait_s
 * > 0 (someone else holds a live lease), or FALSE. @waited: this run
 * already waited for another owner, whose failure is then its own. */
static gboolean
claim_once (Wr2vFleet * f, const gchar * hash, const gchar * engine,
    gdouble cost, gboolean waited, Wr2vFleetClaim * claim, gdouble * wait_s,
    GError ** error)
{
  Row r = { 0, };
  gboolean inserted = FALSE, fresh = FALSE, ok = FALSE;

  *wait_s = 0;
  if (!exec (f, "claiming the request", "BEGIN", 0, NULL, error) ||
      !lock_row (f, hash, engine, &r, &inserted, error))
    goto out;
  if (strcmp (r.state, "done") == 0) {
    claim->kind = WR2V_FLEET_CLIP;
    claim->job_id = g_steal_pointer (&r.job_id);
    claim->clip_sha256 = g_steal_pointer (&r.clip);
    claim->source_url = g_steal_pointer (&r.source_url);
  } else if (strcmp (r.state, "failed") == 0 && waited) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_JOB_FAILED,
        "Another machine of the fleet ran this request and it failed: %s",
        r.error ? r.error : "no reason recorded");
    goto out;
  } else if (inserted || strcmp (r.state, "failed") == 0) {
    fresh = !inserted;
    claim->kind = WR2V_FLEET_SUBMIT;
  } else if (!r.expired && g_strcmp0 (r.owner, f->owner) != 0) {
    *wait_s = MAX (r.lease_left_s, 0.05);
  } else if (strcmp (r.state, "submitting") == 0) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_MAYBE_SUBMITTED,
        "A machine of the fleet (%s) sent this request to %s but died "
        "before it learnt the job id, so a paid job may already exist. "
        "Check the provider's dashboard; to submit it again anyway, delete "
        "its row: DELETE FROM wr2v_jobs WHERE hash = '%s';", r.owner, engine,
        hash);
    goto out;
  } else {
    claim->kind = r.job_id ? WR2V_FLEET_RESUME : WR2V_FLEET_SUBMIT;
    claim->job_id = g_steal_pointer (&r.job_id);
    GST_INFO ("taking request %s over from %s", hash, r.owner);
  }
  if (*wait_s == 0 && claim->kind != WR2V_FLEET_CLIP && !inserted &&
      !take_row (f, hash, fresh, error))
    goto out;
  if (*wait_s == 0 && claim->kind == WR2V_FLEET_SUBMIT &&
      !reserve (f, hash, engine, cost, error))
    goto out;
  ok = exec (f, "claiming the request", "COMMIT", 0, NULL, error);
out:
  if (!ok) {
    rollback (f);
    wr2v_fleet_claim_clear (claim);
  }
  row_clear (&r);
  return ok;
}

/* Counts the notifications libpq holds and wakes the waiters; under the
 * link's lock. */
static void
drain_notifies (Wr2vFleetLink * l)
{
  PGnotify *n;
  guint64 before = l->wakeups;

  while (l->conn && (n = pq->PQnotifies (l->conn))) {
    pq->PQfreemem (n);
    l->wakeups++;
  }
  if (l->wakeups != before) {
    g_cond_broadcast (&l->cond);
    if (l->listening && l->poke[1] >= 0 && write (l->poke[1], "", 1) < 0)
      GST_DEBUG ("the listener is poked already");
  }
}

static void
wake_waiters (GCancellable * cancellable, Wr2vFleetLink * l)
{
  g_mutex_lock (&l->lock);
  g_cond_broadcast (&l->cond);
  g_mutex_unlock (&l->lock);
}

/* The listener's turn: the socket and the cancellable's fd in one poll,
 * without the lock (another job's statement may run meanwhile). */
static void
listen_once (Wr2vFleetLink * l, gint fd, gint64 until,
    GCancellable * cancellable)
{
  GPollFD fds[3] = { {0,}, };
  gint n = 2;
  gint64 left = until - g_get_monotonic_time ();
  gchar buf[16];

  fds[0].fd = fd;
  fds[1].fd = l->poke[0];
  fds[0].events = fds[1].events = G_IO_IN | G_IO_HUP | G_IO_ERR;
  if (g_cancellable_make_pollfd (cancellable, &fds[2]))
    n = 3;
  if (left > 0)
    g_poll (fds, n, (gint) MIN (left / 1000 + 1, G_MAXINT));
  if (n == 3)
    g_cancellable_release_fd (cancellable);
  if (fds[1].revents && read (l->poke[0], buf, sizeof buf) < 0)
    GST_DEBUG ("nothing to read from the poke pipe");
}

/* Waits for a notification, @until (monotonic) or a stop, with no loop
 * of queries and no thread: one waiting job of the process polls the
 * connection's socket with its cancellable's fd, the others sleep on the
 * link's condition (woken by a notification, the listener leaving, or
 * their own stop). Any notification wakes them all: each claims again. */
static gboolean
wait_notify (Wr2vFleet * f, gint64 until, GCancellable * cancellable,
    GError ** error)
{
  Wr2vFleetLink *l = f->link;
  gulong handler = cancellable ? g_cancellable_connect (cancellable,
      G_CALLBACK (wake_waiters), l, NULL) : 0;
  guint64 seen;

  g_mutex_lock (&l->lock);
  seen = l->wakeups;
  drain_notifies (l);
  while (l->wakeups == seen && !lost (f) &&
      !g_cancellable_is_cancelled (cancellable) &&
      g_get_monotonic_time () < until) {
    if (l->listening) {
      g_cond_wait_until (&l->cond, &l->lock, until);
      continue;
    }
    {
      gint fd = pq->PQsocket (l->conn);

      l->listening = TRUE;
      g_mutex_unlock (&l->lock);
      listen_once (l, fd, until, cancellable);
      g_mutex_lock (&l->lock);
      l->listening = FALSE;
      if (!lost (f) && pq->PQconsumeInput (l->conn))
        drain_notifies (l);
      /* another waiter may listen now */
      g_cond_broadcast (&l->cond);
    }
  }
  g_mutex_unlock (&l->lock);
  if (handler)
    g_cancellable_disconnect (cancellable, handler);
  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

/* Sleeps before the next try at a lost store; FALSE past @deadline. */
static gboolean
retry_pause (Wr2vFleet * f, Wr2vBackoff * backoff, gint64 deadline,
    GCancellable * cancellable, GError ** error, GError * why)
{
  gint64 pause = (gint64) wr2v_backoff_next (backoff);

  if (g_get_monotonic_time () + pause > deadline ||
      g_cancellable_is_cancelled (cancellable)) {
    g_propagate_error (error, why);
    return FALSE;
  }
  GST_WARNING ("%s; trying again", why->message);
  g_error_free (why);
  return wr2v_cancellable_sleep (cancellable, pause, error);
}

/* One step of work on the store (a transaction), retried whole. */
typedef gboolean (*StoreStep) (Wr2vFleet * f, gpointer args, GError ** error);

/* Runs @step; a connection lost before or during it is made again and
 * the step retried, with backoff, until @deadline. Any other failure is
 * the step's answer. */
static gboolean
with_reconnect (Wr2vFleet * f, StoreStep step, gpointer args, gint64 deadline,
    GCancellable * cancellable, GError ** error)
{
  Wr2vBackoff backoff;

  wr2v_backoff_init (&backoff, 200 * 1000, 5 * G_USEC_PER_SEC);
  for (;;) {
    GError *err = NULL;

    gboolean ok, gone;

    g_mutex_lock (&f->link->lock);
    ok = ensure_connected (f, &err) && step (f, args, &err);
    gone = !ok && lost (f);
    drain_notifies (f->link);
    g_mutex_unlock (&f->link->lock);
    if (ok)
      return TRUE;
    if (!gone) {
      g_propagate_error (error, err);
      return FALSE;
    }
    if (!retry_pause (f, &backoff, deadline, cancellable, error, err))
      return FALSE;
  }
}

typedef struct
{
  const gchar *hash, *engine;
  gdouble cost;
  gboolean waited;
  Wr2vFleetClaim *claim;
  gdouble wait_s;
} ClaimArgs;

static gboolean
claim_step (Wr2vFleet * f, gpointer args, GError ** error)
{
  ClaimArgs *a = args;

  return claim_once (f, a->hash, a->engine, a->cost, a->waited, a->claim,
      &a->wait_s, error);
}

gboolean
wr2v_fleet_claim (Wr2vFleet * f, const gchar * hash, const gchar * engine,
    gdouble cost, gint64 deadline, GCancellable * cancellable,
    Wr2vFleetClaim * claim, GError ** error)
{
  ClaimArgs a = { hash, engine, cost, FALSE, claim, 0 };

  memset (claim, 0, sizeof *claim);
  for (;;) {
    if (!with_reconnect (f, claim_step, &a, deadline, cancellable, error))
      return FALSE;
    if (a.wait_s == 0)
      return TRUE;
    a.waited = TRUE;
    GST_DEBUG ("request %s is another's: waiting up to %.1f s", hash, a.wait_s);
    if (!wait_notify (f, MIN (deadline, g_get_monotonic_time () +
                (gint64) (a.wait_s * G_USEC_PER_SEC)), cancellable, error))
      return FALSE;
    if (g_get_monotonic_time () >= deadline) {
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_TIMEOUT,
          "request-timeout passed while another machine of the fleet "
          "ran this request; run again to go on waiting for it.");
      return FALSE;
    }
  }
}

/* --- the owner's journal --- */

gboolean
wr2v_fleet_mark_submitting (Wr2vFleet * f, const gchar * hash, GError ** error)
{
  g_autofree gchar *lease = g_strdup_printf ("%u", f->lease_s +
      SUBMIT_MARGIN_S);
  const gchar *params[] = { hash, f->owner, lease };
  PGresult *res = NULL;
  gboolean ours;

  g_mutex_lock (&f->link->lock);
  if (ensure_connected (f, error))
    res = query (f, "noting the submit", "UPDATE wr2v_jobs SET state = "
        "'submitting', lease_until = now() + make_interval(secs => "
        "$3::integer), updated = now() WHERE hash = $1 AND owner = $2 AND "
        "state = 'claimed'", 3, params, error);
  g_mutex_unlock (&f->link->lock);
  if (!res)
    return FALSE;
  ours = strcmp (pq->PQcmdTuples (res), "1") == 0;
  pq->PQclear (res);
  if (!ours)
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "Another machine of the fleet took this request over before it was "
        "submitted (this one was too slow to renew its lease); nothing was "
        "submitted from here.");
  return ours;
}

void
wr2v_fleet_renew (Wr2vFleet * f, const gchar * hash, const gchar * job_id)
{
  g_autofree gchar *lease = g_strdup_printf ("%u", f->lease_s);
  const gchar *params[] = { hash, f->owner, lease, job_id };
  GError *err = NULL;

  g_mutex_lock (&f->link->lock);
  if (!ensure_connected (f, &err) ||
      !exec (f, "renewing the lease", "UPDATE wr2v_jobs SET lease_until = "
          "now() + make_interval(secs => $3::integer), job_id = "
          "coalesce($4, job_id), state = CASE WHEN $4 IS NULL THEN state "
          "ELSE 'submitted' END, updated = now() WHERE hash = $1 AND "
          "owner = $2 AND state IN ('claimed', 'submitting', 'submitted')",
          4, params, &err)) {
    GST_WARNING ("%s", err->message);
    g_error_free (err);
  }
  g_mutex_unlock (&f->link->lock);
}

void
wr2v_fleet_set_job (Wr2vFleet * f, const gchar * hash, const gchar * job_id)
{
  wr2v_fleet_renew (f, hash, job_id);
}

void
wr2v_fleet_release (Wr2vFleet * f, const gchar * hash, gboolean failed,
    const gchar * why)
{
  const gchar *params[] = { hash, f->owner, why };
  GError *err = NULL;

  g_mutex_lock (&f->link->lock);
  if (!ensure_connected (f, &err) ||
      !exec (f, "releasing the request", "BEGIN", 0, NULL, &err) ||
      !exec (f, "releasing the request", failed ?
          "UPDATE wr2v_jobs SET state = 'failed', error = $3, lease_until = "
          "now(), updated = now() WHERE hash = $1 AND owner = $2" :
          "UPDATE wr2v_jobs SET lease_until = now(), updated = now() "
          "WHERE hash = $1 AND owner = $2", failed ? 3 : 2, params, &err) ||
      /* only the owner's: a machine that took over keeps its reservation */
      (failed && !exec (f, "releasing the cost", "UPDATE wr2v_ledger SET "
              "state = 'released' WHERE hash = $1 AND state = 'reserved' "
              "AND EXISTS (SELECT 1 FROM wr2v_jobs WHERE hash = $1 AND "
              "owner = $2)", 2, params, &err)) ||
      !exec (f, "releasing the request", "SELECT pg_notify('" CHANNEL
          "', $1)", 1, params, &err) ||
      !exec (f, "releasing the request", "COMMIT", 0, NULL, &err)) {
    rollback (f);
    GST_WARNING ("%s", err->message);
    g_error_free (err);
  }
  g_mutex_unlock (&f->link->lock);
}

/* --- clips --- */

static gchar *
file_sha256 (const gchar * path, GError ** error)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guchar *buf = g_malloc (CHUNK);
  FILE *in = fopen (path, "rb");
  size_t n;

  if (!in) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "Could not read the clip %s for the fleet store", path);
    return NULL;
  }
  while ((n = fread (buf, 1, CHUNK, in)) > 0)
    g_checksum_update (sum, buf, n);
  fclose (in);
  return g_strdup (g_checksum_get_string (sum));
}

/* Streams @path into a new large object, in the current transaction. */
static gboolean
write_large_object (Wr2vFleet * f, const gchar * path, Oid * oid,
    gint64 * size, GError ** error)
{
  g_autofree gchar *buf = g_malloc (CHUNK);
  FILE *in = fopen (path, "rb");
  gboolean ok = TRUE;
  size_t n;
  gint fd;

  *size = 0;
  *oid = in ? pq->lo_creat (f->link->conn, INV_READ | INV_WRITE) : InvalidOid;
  fd = *oid != InvalidOid ? pq->lo_open (f->link->conn, *oid, INV_WRITE) : -1;
  if (fd < 0) {
    if (in)
      fclose (in);
    set_db_error (f, error, "storing the clip");
    return FALSE;
  }
  while (ok && (n = fread (buf, 1, CHUNK, in)) > 0) {
    ok = pq->lo_write (f->link->conn, fd, buf, n) == (gint) n;
    *size += n;
  }
  fclose (in);
  if (pq->lo_close (f->link->conn, fd) < 0)
    ok = FALSE;
  if (!ok)
    set_db_error (f, error, "storing the clip");
  return ok;
}

/* The clip's row, naming its copy in the bucket (stored before). */
static gboolean
insert_bucket_clip (Wr2vFleet * f, const gchar * path, const gchar * sha,
    const gchar * bucket_key, GError ** error)
{
  GStatBuf st;
  g_autofree gchar *size_s = NULL;
  const gchar *p_clip[3] = { sha, bucket_key, NULL };

  size_s = g_strdup_printf ("%" G_GINT64_FORMAT, (gint64)
      (g_stat (path, &st) == 0 ? st.st_size : 0));
  p_clip[2] = size_s;
  return exec (f, "storing the clip", "INSERT INTO wr2v_clips (sha256, "
      "bucket_key, size) VALUES ($1, $2, $3::bigint) ON CONFLICT DO NOTHING",
      3, p_clip, error);
}

static gboolean
record_once (Wr2vFleet * f, const gchar * hash, const gchar * path,
    const gchar * sha, const gchar * bucket_key, const gchar * job_id,
    const gchar * source_url, gdouble cost, GError ** error)
{
  g_autofree gchar *cost_s = num (MAX (cost, 0));
  const gchar *p_sha[] = { sha };
  const gchar *p_job[] = { hash, sha, job_id, source_url };
  const gchar *p_led[] = { hash, cost_s };
  PGresult *res;
  gboolean have;

  if (!exec (f, "storing the clip", "BEGIN", 0, NULL, error))
    return FALSE;
  res = query (f, "storing the clip", "SELECT 1 FROM wr2v_clips WHERE "
      "sha256 = $1", 1, p_sha, error);
  if (!res)
    goto fail;
  have = pq->PQntuples (res) > 0;
  pq->PQclear (res);
  if (!have && bucket_key) {
    if (!insert_bucket_clip (f, path, sha, bucket_key, error))
      goto fail;
  } else if (!have) {
    g_autofree gchar *oid_s = NULL, *size_s = NULL;
    const gchar *p_clip[3];
    Oid oid;
    gint64 size;

    if (!write_large_object (f, path, &oid, &size, error))
      goto fail;
    oid_s = g_strdup_printf ("%u", oid);
    size_s = g_strdup_printf ("%" G_GINT64_FORMAT, size);
    p_clip[0] = sha;
    p_clip[1] = oid_s;
    p_clip[2] = size_s;
    res = query (f, "storing the clip", "INSERT INTO wr2v_clips (sha256, "
        "oid, size) VALUES ($1, $2::oid, $3::bigint) ON CONFLICT DO NOTHING",
        3, p_clip, error);
    if (!res)
      goto fail;
    /* another machine stored the same bytes meanwhile: keep one copy */
    if (strcmp (pq->PQcmdTuples (res), "0") == 0)
      pq->lo_unlink (f->link->conn, oid);
    pq->PQclear (res);
  }
  if (!exec (f, "recording the result", "UPDATE wr2v_jobs SET state = "
          "'done', clip_sha256 = $2, job_id = coalesce($3, job_id), "
          "source_url = $4, lease_until = now(), updated = now() "
          "WHERE hash = $1", 4, p_job, error) ||
      !exec (f, "settling the cost", "UPDATE wr2v_ledger SET state = "
          "'settled', actual = $2::numeric WHERE hash = $1 AND state = "
          "'reserved'", 2, p_led, error) ||
      !exec (f, "recording the result", "SELECT pg_notify('" CHANNEL
          "', $1)", 1, p_job, error))
    goto fail;
  return exec (f, "recording the result", "COMMIT", 0, NULL, error);
fail:
  rollback (f);
  return FALSE;
}

typedef struct
{
  const gchar *hash, *path, *sha, *bucket_key, *job_id, *source_url;
  gdouble cost;
} RecordArgs;

static gboolean
record_step (Wr2vFleet * f, gpointer args, GError ** error)
{
  RecordArgs *a = args;

  return record_once (f, a->hash, a->path, a->sha, a->bucket_key, a->job_id,
      a->source_url, a->cost, error);
}

gboolean
wr2v_fleet_record_clip (Wr2vFleet * f, const gchar * hash,
    const gchar * path, const gchar * job_id, const gchar * source_url,
    gdouble cost, GCancellable * cancellable, GError ** error)
{
  g_autofree gchar *sha = file_sha256 (path, error);
  g_autofree gchar *bucket_key = sha && f->s3 ? wr2v_s3_clip_key (sha) : NULL;
  RecordArgs a = { hash, path, sha, bucket_key, job_id, source_url, cost };

  if (!sha)
    return FALSE;
  /* the bytes first: a row never names a clip the bucket lacks */
  if (bucket_key && !wr2v_s3_put_file (f->s3, bucket_key, path, sha,
          cancellable, error))
    return FALSE;
  return with_reconnect (f, record_step, &a, g_get_monotonic_time () +
      RECORD_WINDOW_S * G_USEC_PER_SEC, cancellable, error);
}

static gboolean
read_large_object (Wr2vFleet * f, const gchar * sha256, FILE * out,
    GChecksum * sum, GError ** error)
{
  g_autofree gchar *buf = g_malloc (CHUNK);
  const gchar *params[] = { sha256 };
  PGresult *res;
  Oid oid;
  gint fd, n;
  gboolean ok = TRUE;

  res = query (f, "reading the clip", "SELECT oid FROM wr2v_clips WHERE "
      "sha256 = $1", 1, params, error);
  if (!res)
    return FALSE;
  if (pq->PQntuples (res) != 1) {
    pq->PQclear (res);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "The fleet store (%s) names clip %s but does not hold it.",
        f->display, sha256);
    return FALSE;
  }
  oid = (Oid) strtoul (pq->PQgetvalue (res, 0, 0), NULL, 10);
  pq->PQclear (res);
  fd = pq->lo_open (f->link->conn, oid, INV_READ);
  if (fd < 0) {
    set_db_error (f, error, "reading the clip");
    return FALSE;
  }
  while (ok && (n = pq->lo_read (f->link->conn, fd, buf, CHUNK)) > 0) {
    g_checksum_update (sum, (guchar *) buf, n);
    ok = fwrite (buf, 1, n, out) == (size_t) n;
  }
  if (n < 0) {
    set_db_error (f, error, "reading the clip");
    ok = FALSE;
  } else if (!ok) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "Could not write the fleet's clip to the local store");
  }
  pq->lo_close (f->link->conn, fd);
  return ok;
}

static gboolean
fetch_once (Wr2vFleet * f, const gchar * sha256, const gchar * tmp_path,
    GError ** error)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  FILE *out = fopen (tmp_path, "wb");
  gboolean ok;

  if (!out) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "Could not write the fleet's clip to %s", tmp_path);
    return FALSE;
  }
  ok = exec (f, "reading the clip", "BEGIN", 0, NULL, error) &&
      read_large_object (f, sha256, out, sum, error);
  rollback (f);
  if (fclose (out) != 0 && ok) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "Could not write the fleet's clip to %s", tmp_path);
    ok = FALSE;
  }
  if (ok && strcmp (g_checksum_get_string (sum), sha256) != 0) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_BAD_RESULT,
        "The fleet store's clip %s does not match its hash (it reads as "
        "%s): it was not used.", sha256, g_checksum_get_string (sum));
    ok = FALSE;
  }
  return ok;
}

static gboolean
fetch_step (Wr2vFleet * f, gpointer args, GError ** error)
{
  const gchar **a = args;

  return fetch_once (f, a[0], a[1], error);
}

typedef struct
{
  const gchar *sha256;
  gchar *bucket_key;            /* out: NULL for a large object */
} LocateArgs;

static gboolean
locate_step (Wr2vFleet * f, gpointer args, GError ** error)
{
  LocateArgs *a = args;
  const gchar *params[] = { a->sha256 };
  PGresult *res = query (f, "reading the clip", "SELECT bucket_key FROM "
      "wr2v_clips WHERE sha256 = $1 AND oid IS NULL", 1, params, error);

  if (!res)
    return FALSE;
  if (pq->PQntuples (res) == 1)
    a->bucket_key = g_strdup (pq->PQgetvalue (res, 0, 0));
  pq->PQclear (res);
  return TRUE;
}

gboolean
wr2v_fleet_fetch_clip (Wr2vFleet * f, const gchar * sha256,
    const gchar * tmp_path, GCancellable * cancellable, GError ** error)
{
  const gchar *a[] = { sha256, tmp_path };
  LocateArgs where = { sha256, NULL };
  gint64 deadline = g_get_monotonic_time () + RECORD_WINDOW_S * G_USEC_PER_SEC;
  gboolean ok;

  if (!with_reconnect (f, locate_step, &where, deadline, cancellable, error))
    return FALSE;
  if (!where.bucket_key)
    return with_reconnect (f, fetch_step, a, deadline, cancellable, error);
  /* in the bucket: fetched without holding the store's connection */
  if (!f->s3) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "The fleet's clip %s is in S3 storage, but " WR2V_S3_VARIABLE
        " is not set on this machine: set it (and its keys) as on the "
        "others", sha256);
    ok = FALSE;
  } else {
    ok = wr2v_s3_get_file (f->s3, where.bucket_key, tmp_path, sha256,
        cancellable, error);
  }
  g_free (where.bucket_key);
  return ok;
}
