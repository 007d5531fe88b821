/* fleet-driver: one machine of a fleet, for tests/fleet/test-fleet.c.
 *
 * Runs one WaveSpeed job with the core API (store, fleet, engine, job)
 * against a fake server, with its own cache-dir and the fleet store named
 * by WANR2V_STORE, and says on stdout what happened:
 *   SUBMITTED <job id>          as soon as this process submitted
 *   CLIP <path> <cached 0|1>    the clip, in its local store
 *   ERROR <code> <message>      and exit status 1
 */
#include "wr2v-engine.h"
#include "wr2v-error.h"
#include "wr2v-fleet.h"
#include "wr2v-job.h"
#include "wr2v-mp4.h"
#include "wr2v-test-engine.h"

#include <stdio.h>
#include <stdlib.h>

static void
on_message (gpointer user_data, GstStructure * facts)
{
  if (gst_structure_has_name (facts, "wanr2v/submitted")) {
    printf ("SUBMITTED %s\n", gst_structure_get_string (facts, "job-id"));
    fflush (stdout);
  }
  gst_structure_free (facts);
}

static int
fail (const GError * err)
{
  printf ("ERROR %d %s\n", err->code, err->message);
  return 1;
}

int
main (int argc, char **argv)
{
  g_autofree gchar *api_url = NULL, *cache_dir = NULL, *prompt = NULL;
  g_autofree gchar *period = NULL, *key = NULL;
  gdouble budget = 0;
  GOptionEntry entries[] = {
    {"api-url", 0, 0, G_OPTION_ARG_STRING, &api_url, "the fake's", NULL},
    {"api-key", 0, 0, G_OPTION_ARG_STRING, &key, "the fake's key", NULL},
    {"cache-dir", 0, 0, G_OPTION_ARG_FILENAME, &cache_dir, "local", NULL},
    {"prompt", 0, 0, G_OPTION_ARG_STRING, &prompt, "the request's", NULL},
    {"budget", 0, 0, G_OPTION_ARG_DOUBLE, &budget, "fleet-budget", NULL},
    {"period", 0, 0, G_OPTION_ARG_STRING, &period, "day or month", NULL},
    {NULL}
  };
  g_autoptr (GOptionContext) ctx = g_option_context_new ("");
  Wr2vEngineSettings settings = { 0, };
  g_autoptr (Wr2vEngine) engine = NULL;
  g_autoptr (Wr2vStore) store = NULL;
  g_autoptr (Wr2vRequest) req = NULL;
  Wr2vFleet *fleet;
  GError *err = NULL;
  gchar *path;
  Wr2vJob job;
  int ret = 0;

  setvbuf (stdout, NULL, _IOLBF, 0);
  gst_init (&argc, &argv);
  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &err))
    return fail (err);
  settings.api_key = g_strdup (key);
  settings.api_url = g_strdup (api_url);
  settings.poll_interval_ms = 100;
  settings.poll_interval_max_ms = 200;
  settings.request_timeout_s = 180;
  engine = wr2v_engine_new ("wavespeed", &settings, &err);
  wr2v_engine_settings_clear (&settings);
  if (!engine)
    return fail (err);
  store = wr2v_store_open (cache_dir, &err);
  if (!store)
    return fail (err);
  fleet = wr2v_fleet_open (NULL, budget, period, &err);
  if (err)
    return fail (err);
  wr2v_store_set_fleet (store, fleet);
  req = wr2v_test_uri_request (prompt ? prompt : "Video 1 waves", FALSE);

  wr2v_job_init (&job, req, engine, store, NULL);
  job.observer.message = on_message;
  path = wr2v_job_run (&job, &err);
  if (path && !wr2v_clip_check (path, NULL, &err))
    g_clear_pointer (&path, g_free);
  if (path)
    printf ("CLIP %s %d\n", path, job.from_cache);
  else
    ret = fail (err);
  g_free (path);
  g_clear_error (&err);
  wr2v_job_clear (&job);
  return ret;
}
