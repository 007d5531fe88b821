/* test-fleet: several processes (tests/fleet/fleet-driver.c), each a
 * machine with its own cache-dir, share a throwaway PostgreSQL cluster as
 * their fleet store, against the fake WaveSpeed whose jobs take a fixed
 * time. Skips (exit 77) only when PostgreSQL can't be started. */
#include "wr2v-engine.h"
#include "wr2v-error.h"
#include "wr2v-fleet.h"
#include "wr2v-job.h"
#include "wr2v-test-engine.h"
#include "wr2v-test-pg.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#define KEY "fleet-test-key-5c1d"

static Wr2vTestPg *pg;
static guint db_serial;

typedef struct
{
  gchar *dir;
  gchar *conninfo;
  Wr2vFakeServer *server;
} Case;

static void
case_setup (Case * c, const gchar * job_seconds)
{
  g_autofree gchar *name = g_strdup_printf ("fleet%u", ++db_serial);

  c->dir = g_dir_make_tmp ("wanr2v-fleet-case-XXXXXX", NULL);
  c->conninfo = wr2v_test_pg_new_db (pg, name);
  c->server = wr2v_fake_server_start ("fake-wavespeed.py", "--api-key", KEY,
      "--result-mp4", wr2v_test_media.result_mp4, "--job-seconds",
      job_seconds, NULL);
}

static void
case_clear (Case * c)
{
  wr2v_fake_server_stop (c->server);
  wr2v_test_rm_rf (c->dir);
  g_free (c->dir);
  g_free (c->conninfo);
}

/* A machine: the driver with its own cache-dir, its stdout a pipe. */
static GSubprocess *
machine_jobs (Case * c, const gchar * name, const gchar * prompt,
    const gchar * lease_s, gdouble budget, gint jobs)
{
  g_autoptr (GSubprocessLauncher) l =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
      G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autofree gchar *cache = g_build_filename (c->dir, name, NULL);
  g_autofree gchar *api = g_strdup_printf ("--api-url=%s", c->server->base);
  g_autofree gchar *cd = g_strdup_printf ("--cache-dir=%s", cache);
  g_autofree gchar *pr = g_strdup_printf ("--prompt=%s", prompt);
  gchar bud[G_ASCII_DTOSTR_BUF_SIZE];
  g_autofree gchar *b = g_strdup_printf ("--budget=%s",
      g_ascii_dtostr (bud, sizeof bud, budget));
  g_autofree gchar *j = g_strdup_printf ("--jobs=%d", jobs);
  GError *err = NULL;
  GSubprocess *p;

  g_subprocess_launcher_setenv (l, "WANR2V_STORE", c->conninfo, TRUE);
  g_subprocess_launcher_setenv (l, "WANR2V_FLEET_LEASE_S", lease_s, TRUE);
  /* every log line, to look for the password in them */
  g_subprocess_launcher_setenv (l, "GST_DEBUG", "wanr2v*:7", TRUE);
  p = g_subprocess_launcher_spawn (l, &err, g_getenv ("WANR2V_FLEET_DRIVER"),
      api, "--api-key=" KEY, cd, pr, b, j, NULL);
  g_assert_no_error (err);
  return p;
}

static GSubprocess *
machine (Case * c, const gchar * name, const gchar * prompt,
    const gchar * lease_s, gdouble budget)
{
  return machine_jobs (c, name, prompt, lease_s, budget, 1);
}

/* @n machines m0, m1... started at once, asking for @prompt (with its
 * number appended when @distinct), their lease 5 s. */
static void
start_machines (Case * c, GSubprocess ** p, guint n, const gchar * prompt,
    gboolean distinct, gdouble budget)
{
  guint i;

  for (i = 0; i < n; i++) {
    g_autofree gchar *name = g_strdup_printf ("m%u", i);
    g_autofree gchar *pr = distinct ? g_strdup_printf ("%s %u", prompt, i) :
        g_strdup (prompt);

    p[i] = machine (c, name, pr, "5", budget);
  }
}

/* Waits for @p; its stdout. Its stderr (the debug log) must not hold the
 * password, nor its stdout. */
static gchar *
finish (GSubprocess * p, gint * status)
{
  gchar *out = NULL;
  g_autofree gchar *errs = NULL;
  GError *err = NULL;

  g_subprocess_communicate_utf8 (p, NULL, NULL, &out, &errs, &err);
  g_assert_no_error (err);
  g_assert_null (strstr (out, WR2V_TEST_PG_PASSWORD));
  g_assert_null (strstr (errs, WR2V_TEST_PG_PASSWORD));
  *status = g_subprocess_get_if_exited (p) ?
      g_subprocess_get_exit_status (p) : -1;
  if (g_getenv ("WANR2V_TEST_VERBOSE"))
    g_printerr ("%s", errs);
  g_object_unref (p);
  return out;
}

static void
assert_clip_out (const gchar * out)
{
  g_auto (GStrv) words = NULL;
  const gchar *line = strstr (out, "CLIP ");

  if (!line)
    g_error ("no clip: %s", out);
  words = g_strsplit (line + 5, " ", 2);
  wr2v_assert_clip (words[0]);
}

/* (a) 8 machines ask for the same request at once: one submit, 8 clips */
static void
test_single_flight (void)
{
  Case c = { 0, };
  GSubprocess *p[8];
  guint i;

  case_setup (&c, "2");
  start_machines (&c, p, G_N_ELEMENTS (p), "Video 1 dances in the rain",
      FALSE, 0);
  for (i = 0; i < G_N_ELEMENTS (p); i++) {
    gint status;
    g_autofree gchar *out = finish (p[i], &status);

    if (status != 0)
      g_error ("machine %u: %s", i, out);
    assert_clip_out (out);
  }
  g_assert_cmpint (wr2v_fake_server_count (c.server, "submit"), ==, 1);
  case_clear (&c);
}

/* Reads @p's stdout up to its SUBMITTED line. */
static void
wait_submitted (GSubprocess * p)
{
  g_autoptr (GDataInputStream) in =
      g_data_input_stream_new (g_subprocess_get_stdout_pipe (p));
  g_autofree gchar *line = NULL;

  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (in),
      FALSE);
  line = g_data_input_stream_read_line (in, NULL, NULL, NULL);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "SUBMITTED "));
}

static void
assert_machine_clip (GSubprocess * p)
{
  gint status;
  g_autofree gchar *out = finish (p, &status);

  if (status != 0)
    g_error ("a machine ended without its clip: %s", out);
  assert_clip_out (out);
}

/* (b) the owner killed mid-job, 20 times: each request submitted once,
 * every machine (the killed one run again) ends with its clip */
static void
test_owner_killed (void)
{
  Case c = { 0, };
  guint round;

  case_setup (&c, "1.5");
  for (round = 0; round < 20; round++) {
    g_autofree gchar *prompt = g_strdup_printf ("Video 1 round %u", round);
    g_autofree gchar *owner_dir = g_strdup_printf ("owner%u", round);
    g_autofree gchar *w1 = g_strdup_printf ("w1-%u", round);
    g_autofree gchar *w2 = g_strdup_printf ("w2-%u", round);
    GSubprocess *owner = machine (&c, owner_dir, prompt, "1", 0);
    GSubprocess *a, *b;

    wait_submitted (owner);
    a = machine (&c, w1, prompt, "1", 0);
    b = machine (&c, w2, prompt, "1", 0);
    g_usleep (g_random_int_range (0, 1500) * 1000);
    g_subprocess_force_exit (owner);
    g_subprocess_wait (owner, NULL, NULL);
    g_object_unref (owner);
    /* the killed machine, started again, gets its clip too */
    owner = machine (&c, owner_dir, prompt, "1", 0);
    assert_machine_clip (a);
    assert_machine_clip (b);
    assert_machine_clip (owner);
    g_assert_cmpint (wr2v_fake_server_count (c.server, "submit"), ==,
        round + 1);
  }
  case_clear (&c);
}

/* (c) a budget for 3 of 5 jobs: 3 submitted, 2 refused with the figures */
static void
test_budget (void)
{
  Wr2vEngineSettings settings = { 0, };
  g_autoptr (Wr2vEngine) engine = NULL;
  g_autoptr (Wr2vRequest) req = wr2v_test_uri_request ("Video 1 x", FALSE);
  g_autofree gchar *budget_s = NULL;
  Case c = { 0, };
  GSubprocess *p[5];
  guint i, refused = 0, done = 0;
  gdouble cost, budget;

  settings.api_key = g_strdup (KEY);
  engine = wr2v_engine_new ("wavespeed", &settings, NULL);
  wr2v_engine_settings_clear (&settings);
  cost = wr2v_engine_estimate_cost (engine, req);
  g_assert_cmpfloat (cost, >, 0);
  budget = cost * 3.5;
  budget_s = g_strdup_printf ("USD %.2f per day", budget);
  case_setup (&c, "2");
  start_machines (&c, p, G_N_ELEMENTS (p), "Video 1 budget", TRUE, budget);
  for (i = 0; i < G_N_ELEMENTS (p); i++) {
    gint status;
    g_autofree gchar *out = finish (p[i], &status);

    if (status == 0) {
      assert_clip_out (out);
      done++;
    } else {
      g_assert_nonnull (strstr (out, budget_s));
      g_assert_nonnull (strstr (out, "nothing was paid"));
      refused++;
    }
  }
  g_assert_cmpuint (done, ==, 3);
  g_assert_cmpuint (refused, ==, 2);
  g_assert_cmpint (wr2v_fake_server_count (c.server, "submit"), ==, 3);
  case_clear (&c);
}

/* (d) the database stopped and started again mid-job: the owner keeps
 * polling, records the clip; nothing lost, no second submit */
static void
test_database_restart (void)
{
  Case c = { 0, };
  GSubprocess *owner, *waiter;

  case_setup (&c, "4");
  owner = machine (&c, "owner", "Video 1 restart", "5", 0);
  wait_submitted (owner);
  waiter = machine (&c, "waiter", "Video 1 restart", "5", 0);
  g_usleep (500 * 1000);
  g_assert_true (wr2v_test_pg_stop (pg));
  g_usleep (2 * G_USEC_PER_SEC);
  g_assert_true (wr2v_test_pg_restart (pg));
  assert_machine_clip (owner);
  assert_machine_clip (waiter);
  g_assert_cmpint (wr2v_fake_server_count (c.server, "submit"), ==, 1);
  {
    PGconn *conn = PQconnectdb (c.conninfo);
    PGresult *res = PQexec (conn, "SELECT state FROM wr2v_jobs");

    g_assert_cmpint (PQntuples (res), ==, 1);
    g_assert_cmpstr (PQgetvalue (res, 0, 0), ==, "done");
    PQclear (res);
    PQfinish (conn);
  }
  case_clear (&c);
}


static gint
count_rows (const gchar * conninfo, const gchar * sql)
{
  PGconn *conn = PQconnectdb (conninfo);
  PGresult *res = PQexec (conn, sql);
  gint n;

  g_assert_cmpint (PQresultStatus (res), ==, PGRES_TUPLES_OK);
  n = atoi (PQgetvalue (res, 0, 0));
  PQclear (res);
  PQfinish (conn);
  return n;
}

/* A job the provider fails: its reservation released, the machines that
 * waited for it told so; the next run submits it afresh. */
static void
test_failed_job (void)
{
  Case c = { 0, };
  GSubprocess *p[3];
  guint i, waited = 0;

  case_setup (&c, "1.5");
  wr2v_fake_server_control (c.server, "{\"fault\": \"job-fail\", "
      "\"code\": 1200, \"times\": 1}");
  start_machines (&c, p, G_N_ELEMENTS (p), "Video 1 fails", FALSE, 100);
  for (i = 0; i < G_N_ELEMENTS (p); i++) {
    gint status;
    g_autofree gchar *out = finish (p[i], &status);

    g_assert_cmpint (status, ==, 1);
    if (strstr (out, "Another machine of the fleet ran this request and it "
            "failed"))
      waited++;
  }
  g_assert_cmpuint (waited, ==, 2);
  g_assert_cmpint (wr2v_fake_server_count (c.server, "submit"), ==, 1);
  g_assert_cmpint (count_rows (c.conninfo, "SELECT count(*) FROM wr2v_ledger "
          "WHERE state = 'released'"), ==, 1);
  g_assert_cmpint (count_rows (c.conninfo, "SELECT count(*) FROM wr2v_ledger "
          "WHERE state <> 'released'"), ==, 0);
  /* the next run submits it again, and pays for it once */
  assert_machine_clip (machine (&c, "m0", "Video 1 fails", "5", 100));
  g_assert_cmpint (wr2v_fake_server_count (c.server, "submit"), ==, 2);
  g_assert_cmpint (count_rows (c.conninfo, "SELECT count(*) FROM wr2v_ledger "
          "WHERE state = 'settled'"), ==, 1);
  case_clear (&c);
}

typedef struct
{
  const gchar *conninfo;
  gint most;
  volatile gint stop;
} Sampler;

/* The most connections of the element the database holds at once. */
static gpointer
sample_connections (gpointer data)
{
  Sampler *s = data;

  while (!g_atomic_int_get (&s->stop)) {
    s->most = MAX (s->most, count_rows (s->conninfo, "SELECT count(*) FROM "
            "pg_stat_activity WHERE application_name = 'wanr2v'"));
    g_usleep (50 * 1000);
  }
  return NULL;
}

/* 2 processes, 6 jobs each at once (as 6 pipelines), the same 6
 * requests: 6 submits, 12 clips, one connection per process. */
static void
test_one_connection_per_process (void)
{
  Case c = { 0, };
  Sampler s = { 0, };
  GSubprocess *p[2];
  GThread *sampler;
  guint i;

  case_setup (&c, "2");
  s.conninfo = c.conninfo;
  sampler = g_thread_new ("sampler", sample_connections, &s);
  for (i = 0; i < G_N_ELEMENTS (p); i++) {
    g_autofree gchar *name = g_strdup_printf ("m%u", i);

    p[i] = machine_jobs (&c, name, "Video 1 shares", "5", 0, 6);
  }
  for (i = 0; i < G_N_ELEMENTS (p); i++) {
    gint status;
    g_autofree gchar *out = finish (p[i], &status);
    gchar *at = out;
    guint clips = 0;

    g_assert_cmpint (status, ==, 0);
    while ((at = strstr (at, "CLIP ")) && ++clips)
      at++;
    g_assert_cmpuint (clips, ==, 6);
  }
  g_atomic_int_set (&s.stop, 1);
  g_thread_join (sampler);
  g_assert_cmpint (s.most, >=, 1);
  g_assert_cmpint (s.most, <=, G_N_ELEMENTS (p));
  g_assert_cmpint (wr2v_fake_server_count (c.server, "submit"), ==, 6);
  case_clear (&c);
}

/* the stop comes from another thread, as the element's does */
static gpointer
cancel_later (gpointer data)
{
  g_usleep (300 * 1000);
  g_cancellable_cancel (data);
  return NULL;
}

/* A job that waits for another machine's stops at once when cancelled. */
static void
test_waiter_cancelled (void)
{
  Wr2vEngineSettings settings = { 0, };
  g_autoptr (Wr2vEngine) engine = NULL;
  g_autoptr (Wr2vStore) store = NULL;
  g_autoptr (Wr2vRequest) req = wr2v_test_uri_request ("Video 1 waits", FALSE);
  g_autoptr (GCancellable) cancellable = g_cancellable_new ();
  g_autofree gchar *cache = NULL;
  g_autofree gchar *out = NULL;
  Case c = { 0, };
  GSubprocess *owner;
  GThread *stopper;
  GError *err = NULL;
  Wr2vJob job;
  gint64 t0;
  gint status;

  case_setup (&c, "3");
  owner = machine (&c, "owner", "Video 1 waits", "5", 0);
  wait_submitted (owner);
  settings.api_key = g_strdup (KEY);
  settings.api_url = g_strdup (c.server->base);
  engine = wr2v_engine_new ("wavespeed", &settings, NULL);
  wr2v_engine_settings_clear (&settings);
  cache = g_build_filename (c.dir, "waiter", NULL);
  store = wr2v_store_open (cache, &err);
  g_assert_no_error (err);
  wr2v_store_set_fleet (store, wr2v_fleet_open (c.conninfo, 0, NULL, &err));
  g_assert_no_error (err);
  stopper = g_thread_new ("stopper", cancel_later, cancellable);
  wr2v_job_init (&job, req, engine, store, cancellable);
  t0 = g_get_monotonic_time ();
  g_assert_null (wr2v_job_run (&job, &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - t0, <, G_USEC_PER_SEC);
  g_clear_error (&err);
  wr2v_job_clear (&job);
  g_thread_join (stopper);
  out = finish (owner, &status);
  g_assert_cmpint (status, ==, 0);
  case_clear (&c);
}

/* The element's `store` property: gst-launch-1.0 -v, twice on two
 * cache-dirs, one submit, the clip in the database; the password shown
 * nowhere. */
static void
test_element_store (void)
{
  Case c = { 0, };
  guint run;

  /* gst-launch-1.0 is not built with ASan: it cannot load an instrumented
   * plugin (.ci/sanitizers sets this variable) */
  if (g_getenv ("WANR2V_SANITIZER_PRELOAD")) {
    g_test_skip ("gst-launch-1.0 can't load the sanitizer build's plugin");
    return;
  }
  case_setup (&c, "0.5");
  for (run = 0; run < 2; run++) {
    g_autofree gchar *cache = g_strdup_printf ("%s/gst%u", c.dir, run);
    g_autofree gchar *api = g_strdup_printf ("api-url=%s", c.server->base);
    g_autofree gchar *cd = g_strdup_printf ("cache-dir=%s", cache);
    g_autofree gchar *st = g_strdup_printf ("store=%s", c.conninfo);
    const gchar *argv[] = { "gst-launch-1.0", "-v", "wanr2v", "name=g",
      "engine=wavespeed", "api-key=" KEY, api, cd, st, "fleet-budget=100",
      "prompt=Video 1 waves at the camera", "!", "fakesink", "videotestsrc",
      "num-buffers=15", "!", "video/x-raw,width=320,height=240", "!",
      "g.video_0", NULL
    };
    g_autofree gchar *out = NULL, *errs = NULL;
    gint status;
    GError *err = NULL;

    g_assert_true (g_spawn_sync (NULL, (gchar **) argv, NULL,
            G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &errs, &status, &err));
    g_assert_no_error (err);
    if (!g_spawn_check_wait_status (status, NULL))
      g_error ("gst-launch-1.0 failed: %s %s", out, errs);
    g_assert_null (strstr (out, WR2V_TEST_PG_PASSWORD));
    g_assert_null (strstr (errs, WR2V_TEST_PG_PASSWORD));
  }
  g_assert_cmpint (wr2v_fake_server_count (c.server, "submit"), ==, 1);
  g_assert_cmpint (count_rows (c.conninfo, "SELECT count(*) FROM wr2v_jobs "
          "WHERE state = 'done'"), ==, 1);
  g_assert_cmpint (count_rows (c.conninfo, "SELECT count(*) FROM wr2v_clips "
          "c JOIN pg_largeobject_metadata m ON m.oid = c.oid"), ==, 1);
  case_clear (&c);
}

/* The password never in the display form nor in a connection error. */
static void
test_password_hidden (void)
{
  static const gchar *const strings[] = {
    "host=/nowhere user=u password=" WR2V_TEST_PG_PASSWORD " dbname=d",
    "postgresql://u:" WR2V_TEST_PG_PASSWORD "@127.0.0.1:1/d",
    "postgresql://u:" WR2V_TEST_PG_PASSWORD "@/d?host=/nowhere",
  };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (strings); i++) {
    g_autofree gchar *shown = wr2v_fleet_display (strings[i]);
    GError *err = NULL;
    Wr2vFleet *fleet = wr2v_fleet_open (strings[i], 0, NULL, &err);

    g_assert_null (strstr (shown, WR2V_TEST_PG_PASSWORD));
    g_assert_nonnull (strstr (shown, "user=u"));
    g_assert_null (fleet);
    g_assert_error (err, WR2V_ERROR, WR2V_ERROR_STORE);
    g_assert_null (strstr (err->message, WR2V_TEST_PG_PASSWORD));
    g_assert_nonnull (strstr (err->message, shown));
    g_error_free (err);
  }
}

int
main (int argc, char **argv)
{
  g_autofree gchar *why = NULL;
  gint ret;

  wr2v_test_engine_init (&argc, &argv, "fleet", NULL, FALSE);
  if (!wr2v_test_media.ok) {
    g_print ("1..0 # SKIP could not make the test media\n");
    return wr2v_test_engine_finish (77);
  }
  pg = wr2v_test_pg_start (&why);
  if (!pg) {
    g_print ("1..0 # SKIP %s\n", why);
    return wr2v_test_engine_finish (77);
  }
  g_test_add_func ("/fleet/password-hidden", test_password_hidden);
  g_test_add_func ("/fleet/single-flight", test_single_flight);
  g_test_add_func ("/fleet/budget", test_budget);
  g_test_add_func ("/fleet/database-restart", test_database_restart);
  g_test_add_func ("/fleet/failed-job", test_failed_job);
  g_test_add_func ("/fleet/one-connection-per-process",
      test_one_connection_per_process);
  g_test_add_func ("/fleet/waiter-cancelled", test_waiter_cancelled);
  g_test_add_func ("/fleet/element-store", test_element_store);
  g_test_add_func ("/fleet/owner-killed", test_owner_killed);
  ret = g_test_run ();
  wr2v_test_pg_free (pg);
  return wr2v_test_engine_finish (ret);
}
