/* crash-resume.c: runs killed with SIGKILL at random moments, then run
 * again, against the fake WaveSpeed server (slowed down so that a kill
 * lands in every phase).
 *
 * Each run is a child process (this same binary with --child) that plays
 * one wanr2v pipeline to the end, as gst-launch-1.0 would, with the key in
 * WAVESPEED_API_KEY. For each of a set of distinct requests, the driver
 * starts 1 to 3 runs and kills each with SIGKILL after a random delay
 * (KILLS kills in all), checking the store after every kill, and then
 * runs the request once more, to the end.
 *
 * It fails when:
 *   - a distinct request was submitted more than once (the server's
 *     /_stats), or never;
 *   - a final run does not end with its clip at result-location (a
 *     playable MP4, the same bytes as in the store), except when the
 *     request is refused as "maybe submitted" (counted and reported: a
 *     kill between the submit being sent and its job id being journaled,
 *     where WaveSpeed's protocol offers no way to find the job again);
 *   - any store entry is corrupt after a kill: every results/<hash>.mp4
 *     must play and have a readable results/<hash>.json, every
 *     journal/<hash>.json must parse.
 *
 * Environment: WANR2V_CRASH_KILLS (default 50), WANR2V_CRASH_SEED.
 */
#include <signal.h>
#include <sys/wait.h>
#include <gst/pbutils/pbutils.h>

#include "rel-common.h"
#include "wr2v-error.h"
#include "wr2v-store.h"

#define KEY "wr2v-crash-KEY-9c2d41"

/* --- the child: one run ------------------------------------------------ */

static int
child_main (const gchar * api_url, const gchar * cache, guint req,
    const gchar * location)
{
  gchar *desc = g_strdup_printf ("wanr2v name=w engine=wavespeed "
      "api-url=%s cache-dir=\"%s\" result-location=\"%s\" "
      "prompt=\"Video 1 dances, crash request %u\" duration=5 "
      "poll-interval=150 request-timeout=120 ! fakesink sync=false "
      "videotestsrc num-buffers=20 pattern=solid-color foreground-color=%u ! "
      "video/x-raw,width=160,height=120,framerate=20/1 ! "
      "identity sleep-time=20000 ! w.video_0", api_url, cache, location, req,
      0xff000000u | (req * 0x050301u));
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);
  GstBus *bus;
  GstMessage *msg;
  int ret = 1;

  if (!p || err) {
    g_printerr ("child: %s\n", err ? err->message : "no pipeline");
    return 3;
  }
  bus = gst_element_get_bus (p);
  gst_element_set_state (p, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, 180 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
    ret = 0;
  } else if (msg) {
    const GstStructure *details = NULL;
    gint code = -1;

    gst_message_parse_error (msg, &err, NULL);
    gst_message_parse_error_details (msg, &details);
    if (details)
      gst_structure_get_int (details, "wanr2v-error-code", &code);
    g_printerr ("child: error %d: %s\n", code, err->message);
    ret = code == WR2V_ERROR_MAYBE_SUBMITTED ? 10 : 2;
    g_clear_error (&err);
  } else {
    g_printerr ("child: timeout\n");
  }
  if (msg)
    gst_message_unref (msg);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
  g_free (desc);
  return ret;
}

/* --- the driver -------------------------------------------------------- */

static GPid
spawn_child (const gchar * self, const gchar * api_url, const gchar * cache,
    guint req, const gchar * location)
{
  gchar *req_s = g_strdup_printf ("%u", req);
  const gchar *argv[] = { self, "--child", api_url, cache, req_s, location,
    NULL
  };
  GError *err = NULL;
  GPid pid;

  if (!g_spawn_async (NULL, (gchar **) argv, NULL, G_SPAWN_DO_NOT_REAP_CHILD,
          NULL, NULL, &pid, &err))
    g_error ("spawn: %s", err->message);
  g_free (req_s);
  return pid;
}

static gint
wait_child (GPid pid)
{
  int status;

  while (waitpid (pid, &status, 0) < 0 && errno == EINTR);
  if (WIFEXITED (status))
    return WEXITSTATUS (status);
  return 128 + (WIFSIGNALED (status) ? WTERMSIG (status) : 0);
}

static gboolean
clip_plays (GstDiscoverer * disc, const gchar * path)
{
  gchar *uri = gst_filename_to_uri (path, NULL);
  GstDiscovererInfo *info = gst_discoverer_discover_uri (disc, uri, NULL);
  gboolean ok = FALSE;

  if (info) {
    GList *v = gst_discoverer_info_get_video_streams (info);

    ok = gst_discoverer_info_get_result (info) == GST_DISCOVERER_OK &&
        v != NULL && gst_discoverer_info_get_duration (info) > 0;
    gst_discoverer_stream_info_list_free (v);
    g_object_unref (info);
  }
  g_free (uri);
  return ok;
}

/* Every entry in the store is whole; returns the number of problems. */
static guint
check_store (GstDiscoverer * disc, const gchar * cache, guint * n_results,
    guint * n_journal, guint * n_tmp)
{
  gchar *results = g_build_filename (cache, "results", NULL);
  gchar *journal = g_build_filename (cache, "journal", NULL);
  gchar *tmp = g_build_filename (cache, "tmp", NULL);
  GDir *d;
  const gchar *name;
  guint bad = 0;

  *n_results = *n_journal = 0;
  *n_tmp = rel_count_files (tmp, NULL);
  d = g_dir_open (results, 0, NULL);
  while (d && (name = g_dir_read_name (d))) {
    gchar *path = g_build_filename (results, name, NULL);

    if (g_str_has_suffix (name, ".mp4")) {
      gchar *json = g_strndup (path, strlen (path) - 4);
      gchar *jpath = g_strconcat (json, ".json", NULL);
      gchar *data = NULL;
      gsize len = 0;
      Wr2vResultMeta *meta = NULL;

      (*n_results)++;
      if (!clip_plays (disc, path)) {
        g_printerr ("FAIL: %s does not play\n", path);
        bad++;
      }
      if (!g_file_get_contents (jpath, &data, &len, NULL) ||
          !(meta = wr2v_result_meta_parse (data, len, NULL)) ||
          !meta->job_id || !*meta->job_id) {
        g_printerr ("FAIL: %s has no readable record\n", path);
        bad++;
      }
      wr2v_result_meta_free (meta);
      g_free (data);
      g_free (json);
      g_free (jpath);
    } else if (g_str_has_suffix (name, ".json")) {
      gchar *data = NULL;
      gsize len = 0;
      Wr2vResultMeta *meta = NULL;

      if (!g_file_get_contents (path, &data, &len, NULL) ||
          !(meta = wr2v_result_meta_parse (data, len, NULL))) {
        g_printerr ("FAIL: %s is corrupt\n", path);
        bad++;
      }
      wr2v_result_meta_free (meta);
      g_free (data);
    }
    g_free (path);
  }
  if (d)
    g_dir_close (d);
  d = g_dir_open (journal, 0, NULL);
  while (d && (name = g_dir_read_name (d))) {
    gchar *path = g_build_filename (journal, name, NULL);

    if (g_str_has_suffix (name, ".json")) {
      gchar *data = NULL;
      gsize len = 0;
      Wr2vJournalEntry *e = NULL;

      (*n_journal)++;
      if (!g_file_get_contents (path, &data, &len, NULL) ||
          !(e = wr2v_journal_entry_parse (data, len, NULL))) {
        g_printerr ("FAIL: %s is corrupt\n", path);
        bad++;
      }
      wr2v_journal_entry_free (e);
      g_free (data);
    }
    g_free (path);
  }
  if (d)
    g_dir_close (d);
  g_free (results);
  g_free (journal);
  g_free (tmp);
  return bad;
}

static gboolean
same_file (const gchar * a, const gchar * b)
{
  gchar *da = NULL, *db = NULL;
  gsize la = 0, lb = 0;
  gboolean same = g_file_get_contents (a, &da, &la, NULL) &&
      g_file_get_contents (b, &db, &lb, NULL) && la == lb &&
      memcmp (da, db, la) == 0;

  g_free (da);
  g_free (db);
  return same;
}

int
main (int argc, char **argv)
{
  const gchar *env_kills = g_getenv ("WANR2V_CRASH_KILLS");
  const gchar *env_seed = g_getenv ("WANR2V_CRASH_SEED");
  guint kills_wanted = env_kills ? atoi (env_kills) : 50;
  guint32 seed;
  GRand *rand;
  gchar *self, *root, *cache, *clip;
  Wr2vFakeServer *server;
  GstDiscoverer *disc;
  GHashTable *by_prompt;
  guint kills = 0, requests = 0, failures = 0, maybe = 0, clips = 0;
  guint already_done = 0, total_submits, max_tmp = 0;
  guint n_results = 0, n_journal = 0, n_tmp = 0, r;
  guint maybe_sent = 0, maybe_unsent = 0;
  gboolean *refused;
  guint run_ms;
  gint64 t_start = g_get_monotonic_time ();

  if (argc == 6 && g_str_equal (argv[1], "--child")) {
    gst_init (NULL, NULL);
    return child_main (argv[2], argv[3], atoi (argv[4]), argv[5]);
  }

  seed = env_seed ? strtoul (env_seed, NULL, 10) : (guint32) g_get_real_time ();
  rand = g_rand_new_with_seed (seed);
  g_setenv ("WAVESPEED_API_KEY", KEY, TRUE);
  gst_init (&argc, &argv);
  self = g_file_read_link ("/proc/self/exe", NULL);
  root = g_dir_make_tmp ("wanr2v-crash-XXXXXX", NULL);
  cache = g_build_filename (root, "cache", NULL);
  clip = g_build_filename (root, "result.mp4", NULL);
  if (!rel_make_clip (clip, 5, 320, 240)) {
    g_printerr ("SKIP: cannot make the result clip (x264enc?)\n");
    return 77;
  }
  server = wr2v_fake_server_start ("reliability/wavespeed-slow.py",
      "--api-key", KEY, "--result-mp4", clip, "--polls", "3",
      "--download-rate", "150000", "--upload-delay", "0.3", NULL);
  wr2v_fake_server_control (server, "{\"delay_ms\": 100}");
  disc = gst_discoverer_new (20 * GST_SECOND, NULL);
  refused = g_new0 (gboolean, kills_wanted + 1);
  /* how long a fresh run takes, end to end (a request of its own) */
  {
    gchar *location = g_build_filename (root, "calibration.mp4", NULL);
    gint64 t0 = g_get_monotonic_time ();

    if (wait_child (spawn_child (self, server->base, cache, 100000,
                location)) != 0)
      g_error ("a run without kills failed");
    run_ms = (g_get_monotonic_time () - t0) / 1000;
    g_free (location);
  }
  g_print ("crash and resume: %u kills, seed %u, server %s, a run takes %u "
      "ms\n", kills_wanted, seed, server->base, run_ms);

  for (r = 0; kills < kills_wanted; r++) {
    guint n = MIN ((guint) g_rand_int_range (rand, 1, 4),
        kills_wanted - kills);
    gchar *name = g_strdup_printf ("out-%u.mp4", r);
    gchar *location = g_build_filename (root, name, NULL);
    gboolean finished_early = FALSE;
    guint i;
    gint code;

    requests++;
    for (i = 0; i < n; i++) {
      /* kills spread over a whole fresh run */
      gulong delay = g_rand_int_range (rand, 0, run_ms) * 1000;
      GPid pid = spawn_child (self, server->base, cache, r, location);
      gint64 t0 = g_get_monotonic_time ();
      gboolean exited = FALSE;

      /* kill at the moment chosen, unless the run ended before */
      while (g_get_monotonic_time () - t0 < (gint64) delay) {
        int status;

        if (waitpid (pid, &status, WNOHANG) == pid) {
          exited = TRUE;
          finished_early = TRUE;
          break;
        }
        g_usleep (5000);
      }
      if (!exited) {
        kill (pid, SIGKILL);
        wait_child (pid);
        kills++;
      }
      failures += check_store (disc, cache, &n_results, &n_journal, &n_tmp);
      max_tmp = MAX (max_tmp, n_tmp);
      if (exited)
        break;
    }
    if (finished_early)
      already_done++;

    /* and once more, to the end */
    code = wait_child (spawn_child (self, server->base, cache, r, location));
    if (code == 10) {
      maybe++;
      refused[r] = TRUE;
      g_print ("request %u: refused as maybe submitted (killed between the "
          "submit and its journal entry)\n", r);
    } else if (code != 0) {
      g_printerr ("FAIL: request %u: the run after the kills exited %d\n", r,
          code);
      failures++;
    } else if (!g_file_test (location, G_FILE_TEST_IS_REGULAR) ||
        !clip_plays (disc, location) || !same_file (location, clip)) {
      g_printerr ("FAIL: request %u: %s is not the clip\n", r, location);
      failures++;
    } else {
      clips++;
    }
    failures += check_store (disc, cache, &n_results, &n_journal, &n_tmp);
    /* the run after a kill removes what the killed one left in tmp/ */
    if (n_tmp > 0) {
      g_printerr ("FAIL: request %u: %u partial files left in tmp/\n", r,
          n_tmp);
      failures++;
    }
    g_free (name);
    g_free (location);
  }

  /* each distinct request submitted exactly once */
  by_prompt = rel_wavespeed_submits_by_prompt (server, &total_submits);
  total_submits--;              /* the calibration run's */
  for (r = 0; r < requests; r++) {
    gchar *prompt = g_strdup_printf ("Video 1 dances, crash request %u", r);
    guint n = GPOINTER_TO_UINT (g_hash_table_lookup (by_prompt, prompt));

    if (refused[r] && n <= 1) {
      /* the kill came after the journal said "submitting": before the
       * request left (0) or before its answer was journaled (1) */
      if (n)
        maybe_sent++;
      else
        maybe_unsent++;
    } else if (n != 1) {
      g_printerr ("FAIL: request %u was submitted %u times\n", r, n);
      failures++;
    }
    g_free (prompt);
  }

  g_print ("crash and resume: %u kills over %u requests in %" G_GINT64_FORMAT
      " s, seed %u\n", kills, requests, (g_get_monotonic_time () - t_start) /
      G_USEC_PER_SEC, seed);
  g_print ("  submits: %u for %u distinct requests (each at most once: %s; "
      "exactly once for every request that was not refused)\n",
      total_submits, requests, failures ? "see above" : "yes");
  g_print ("  final runs: %u ended with their clip, %u refused as maybe "
      "submitted (%u sent: a paid job exists, %u never left), %u requests "
      "finished before a planned kill\n", clips, maybe, maybe_sent,
      maybe_unsent, already_done);
  g_print ("  store: %u results, all playable and recorded; %u journal "
      "entries left (all parse); up to %u partial files in tmp/ after a "
      "kill, none after the next run\n", n_results, n_journal, max_tmp);
  g_print ("%s\n", failures ? "FAILED" : "PASSED");

  g_hash_table_unref (by_prompt);
  g_object_unref (disc);
  wr2v_fake_server_stop (server);
  if (!failures)
    wr2v_test_rm_rf (root);
  else
    g_print ("kept %s\n", root);
  g_rand_free (rand);
  g_free (refused);
  g_free (self);
  g_free (root);
  g_free (cache);
  g_free (clip);
  gst_deinit ();
  return failures ? 1 : 0;
}
