/* fleet-driver: one machine of a fleet, for tests/fleet/test-fleet.c and
 * tests/bench/fleet-bench.py.
 *
 * Runs WaveSpeed jobs with the core API (store, fleet, engine, job)
 * against a fake server, with its own cache-dir and the fleet store named
 * by WANR2V_STORE (unset: the local store alone), and says on stdout what
 * happened:
 *   SUBMITTED <job id>          as soon as this process submitted
 *   CLIP <path> <cached 0|1>    the clip, in its local store
 *   ERROR <code> <message>      and exit status 1
 *   STATS <statements> <us>     with --jobs: the fleet store's share
 * --jobs N runs N jobs at once, one thread each, as N pipelines of one
 * process would: prompt "<prompt> <i>", each with its store and fleet.
 */
#include "wr2v-engine.h"
#include "wr2v-error.h"
#include "wr2v-fleet.h"
#include "wr2v-job.h"
#include "wr2v-mp4.h"
#include "wr2v-test-engine.h"

#include <stdio.h>
#include <stdlib.h>

static gchar *api_url, *cache_dir, *prompt, *period, *key;
static gdouble budget;
static gint jobs = 1;
static GMutex stats_lock;
static guint64 all_statements;
static gint64 all_statement_us;

static void
on_message (gpointer user_data, GstStructure * facts)
{
  if (gst_structure_has_name (facts, "wanr2v/submitted"))
    printf ("SUBMITTED %s\n", gst_structure_get_string (facts, "job-id"));
  gst_structure_free (facts);
}

static gboolean
fail (const GError * err)
{
  printf ("ERROR %d %s\n", err->code, err->message);
  return FALSE;
}

static Wr2vEngine *
make_engine (GError ** error)
{
  Wr2vEngineSettings settings = { 0, };
  Wr2vEngine *engine;

  settings.api_key = g_strdup (key);
  settings.api_url = g_strdup (api_url);
  settings.poll_interval_ms = 100;
  settings.poll_interval_max_ms = 200;
  settings.request_timeout_s = 180;
  engine = wr2v_engine_new ("wavespeed", &settings, error);
  wr2v_engine_settings_clear (&settings);
  return engine;
}

static void
add_stats (Wr2vStore * store)
{
  Wr2vFleet *fleet = wr2v_store_fleet (store);
  guint64 n;
  gint64 us;

  if (!fleet)
    return;
  wr2v_fleet_stats (fleet, &n, &us);
  g_mutex_lock (&stats_lock);
  all_statements += n;
  all_statement_us += us;
  g_mutex_unlock (&stats_lock);
}

/* One pipeline's job: TRUE when it ends with its clip. */
static gboolean
run_job (const gchar * the_prompt)
{
  g_autoptr (Wr2vEngine) engine = NULL;
  g_autoptr (Wr2vStore) store = NULL;
  g_autoptr (Wr2vRequest) req = NULL;
  g_autofree gchar *path = NULL;
  GError *err = NULL;
  Wr2vJob job;
  gboolean ok;

  engine = make_engine (&err);
  if (engine)
    store = wr2v_store_open (cache_dir, &err);
  if (store)
    wr2v_store_set_fleet (store, wr2v_fleet_open (NULL, budget, period, &err));
  if (err) {
    fail (err);
    g_error_free (err);
    return FALSE;
  }
  req = wr2v_test_uri_request (the_prompt, FALSE);
  wr2v_job_init (&job, req, engine, store, NULL);
  job.observer.message = on_message;
  path = wr2v_job_run (&job, &err);
  if (path && !wr2v_clip_check (path, NULL, &err))
    g_clear_pointer (&path, g_free);
  if (path)
    printf ("CLIP %s %d\n", path, job.from_cache);
  ok = path || fail (err);
  g_clear_error (&err);
  wr2v_job_clear (&job);
  add_stats (store);
  return ok;
}

static gpointer
job_thread (gpointer data)
{
  g_autofree gchar *p = g_strdup_printf ("%s %u", prompt,
      GPOINTER_TO_UINT (data));

  return GINT_TO_POINTER (run_job (p));
}

int
main (int argc, char **argv)
{
  GOptionEntry entries[] = {
    {"api-url", 0, 0, G_OPTION_ARG_STRING, &api_url, "the fake's", NULL},
    {"api-key", 0, 0, G_OPTION_ARG_STRING, &key, "the fake's key", NULL},
    {"cache-dir", 0, 0, G_OPTION_ARG_FILENAME, &cache_dir, "local", NULL},
    {"prompt", 0, 0, G_OPTION_ARG_STRING, &prompt, "the request's", NULL},
    {"budget", 0, 0, G_OPTION_ARG_DOUBLE, &budget, "fleet-budget", NULL},
    {"period", 0, 0, G_OPTION_ARG_STRING, &period, "day or month", NULL},
    {"jobs", 0, 0, G_OPTION_ARG_INT, &jobs, "jobs at once", NULL},
    {NULL}
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("");
  g_autoptr (GPtrArray) threads = g_ptr_array_new ();
  GError *err = NULL;
  gboolean ok = TRUE;
  gint i;

  setvbuf (stdout, NULL, _IOLBF, 0);
  gst_init (&argc, &argv);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &err))
    return fail (err) ? 0 : 1;
  if (!prompt)
    prompt = g_strdup ("Video 1 waves");
  if (jobs <= 1)
    return run_job (prompt) ? 0 : 1;
  for (i = 0; i < jobs; i++)
    g_ptr_array_add (threads, g_thread_new ("job", job_thread,
            GUINT_TO_POINTER (i)));
  for (i = 0; i < jobs; i++)
    ok &= GPOINTER_TO_INT (g_thread_join (g_ptr_array_index (threads, i)));
  printf ("STATS %" G_GUINT64_FORMAT " %" G_GINT64_FORMAT "\n",
      all_statements, all_statement_us);
  return ok ? 0 : 1;
}
