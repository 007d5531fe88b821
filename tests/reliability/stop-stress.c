/* stop-stress.c: PLAYING -> NULL at random moments, many times, in one
 * process, against the fake WaveSpeed server (slowed down so that every
 * phase lasts long enough to be hit).
 *
 * Each cycle builds a wanr2v pipeline for one of a pool of requests (the
 * same request comes back ~5 times, so stops also land on resumed jobs
 * and cached results), picks a phase (collecting the reference,
 * uploading, polling, downloading, decoding), waits until the job is in
 * it, waits a random time more, and sets the pipeline to NULL.
 *
 * It fails on:
 *   - a slow stop: NULL takes longer than STOP_LIMIT, 1 s ("well under
 *     a second" is asked; the worst seen is ~54 ms), scaled for slow
 *     builds (WANR2V_TEST_TIME_SCALE, see wr2v-test-time.h);
 *   - a hang: NULL takes three times that (the watchdog aborts), or a
 *     cycle stalls;
 *   - a crash (the process dies, meson sees it);
 *   - threads or file descriptors that grow: /proc/self/task and
 *     /proc/self/fd are counted after every cycle, and the lowest count
 *     of the last cycles must not exceed the highest of the warm-up;
 *   - a second submit of one request (the server's /_stats);
 *   - an error other than "maybe submitted" (which a stop during the
 *     submit's round trip leaves by design), partial files left in the
 *     store's tmp/, or element work dirs left in TMPDIR.
 *
 * Environment: WANR2V_STRESS_CYCLES (default 200), WANR2V_STRESS_SEED.
 */
#include "rel-common.h"
#include "wr2v-error.h"
#include "../wr2v-test-time.h"

#define KEY "wr2v-stress-KEY-5e1f0a"
#define POOL 40
#define STOP_LIMIT (WR2V_TEST_TIME (G_USEC_PER_SEC))
#define WARMUP 20

enum
{
  PH_COLLECT,
  PH_UPLOAD,
  PH_POLL,
  PH_DOWNLOAD,
  PH_DECODE,
  N_PH
};

static const gchar *ph_names[N_PH] = {
  "collecting", "uploading", "polling", "downloading", "decoding"
};

typedef struct
{
  GMutex lock;
  GCond cond;
  gint phase;                   /* the phase the job is in, -1: none yet */
  gboolean eos;
  gchar *error;                 /* the first error's text */
  gint error_code;
} Watch;

static gint
phase_of_progress (const gchar * code, GstProgressType type)
{
  if (type == GST_PROGRESS_TYPE_COMPLETE)
    return PH_DECODE;
  if (!g_strcmp0 (code, "upload") || !g_strcmp0 (code, "prepare") ||
      !g_strcmp0 (code, "submit"))
    return PH_UPLOAD;
  if (!g_strcmp0 (code, "queued") || !g_strcmp0 (code, "generating"))
    return PH_POLL;
  if (!g_strcmp0 (code, "download"))
    return PH_DOWNLOAD;
  if (!g_strcmp0 (code, "decode"))
    return PH_DECODE;
  return -1;
}

static GstBusSyncReply
on_bus (GstBus * bus, GstMessage * msg, gpointer data)
{
  Watch *w = data;

  g_mutex_lock (&w->lock);
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_PROGRESS:{
      GstProgressType type;
      gchar *code = NULL, *text = NULL;
      gint ph;

      gst_message_parse_progress (msg, &type, &code, &text);
      ph = phase_of_progress (code, type);
      if (ph > w->phase)
        w->phase = ph;
      g_free (code);
      g_free (text);
      break;
    }
    case GST_MESSAGE_EOS:
      w->eos = TRUE;
      break;
    case GST_MESSAGE_ERROR:
      if (!w->error) {
        GError *err = NULL;
        const GstStructure *details = NULL;

        gst_message_parse_error (msg, &err, NULL);
        gst_message_parse_error_details (msg, &details);
        w->error = g_strdup (err->message);
        w->error_code = -1;
        if (details)
          gst_structure_get_int (details, "wanr2v-error-code", &w->error_code);
        g_error_free (err);
      }
      break;
    default:
      break;
  }
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
  /* a sync handler that drops a message owns it */
  gst_message_unref (msg);
  return GST_BUS_DROP;
}

/* Waits until the job reached @phase (or ended); FALSE on a stall. */
static gboolean
wait_for_phase (Watch * w, gint phase, gint64 timeout_us)
{
  gint64 end = g_get_monotonic_time () + timeout_us;
  gboolean ok = TRUE;

  g_mutex_lock (&w->lock);
  while (w->phase < phase && !w->eos && !w->error)
    if (!g_cond_wait_until (&w->cond, &w->lock, end)) {
      ok = FALSE;
      break;
    }
  g_mutex_unlock (&w->lock);
  return ok;
}

/* Aborts the process when a stop hangs: a hang is the failure. */
static gpointer
watchdog (gpointer data)
{
  gint *done = data;
  gint64 end = g_get_monotonic_time () + STOP_LIMIT * 3;

  while (!g_atomic_int_get (done)) {
    if (g_get_monotonic_time () > end) {
      g_printerr ("FAIL: PLAYING -> NULL hangs (more than %" G_GINT64_FORMAT
          " ms)\n", STOP_LIMIT * 3 / 1000);
      abort ();
    }
    g_usleep (20000);
  }
  return NULL;
}

int
main (int argc, char **argv)
{
  const gchar *env_cycles = g_getenv ("WANR2V_STRESS_CYCLES");
  const gchar *env_seed = g_getenv ("WANR2V_STRESS_SEED");
  guint cycles = env_cycles ? atoi (env_cycles) : 200;
  guint32 seed = env_seed ? strtoul (env_seed, NULL, 10) :
      (guint32) g_get_real_time ();
  GRand *rand = g_rand_new_with_seed (seed);
  gchar *root, *tmpdir, *cache, *clip, *cache_tmp;
  Wr2vFakeServer *server;
  GArray *threads = g_array_new (FALSE, FALSE, sizeof (guint));
  GArray *fds = g_array_new (FALSE, FALSE, sizeof (guint));
  guint hits[N_PH] = { 0, }, eos = 0, maybe = 0, failures = 0;
  guint total_submits, i, warm_threads = 0, warm_fds = 0;
  guint last_threads = G_MAXUINT, last_fds = G_MAXUINT;
  gint64 worst_stop = 0, t_start = g_get_monotonic_time ();
  GHashTable *by_prompt;
  GHashTableIter it;
  gpointer k, v;

  /* the element's work dirs go to TMPDIR: a private one, checked at the
   * end */
  root = g_dir_make_tmp ("wanr2v-stress-XXXXXX", NULL);
  tmpdir = g_build_filename (root, "tmp", NULL);
  g_mkdir (tmpdir, 0700);
  g_setenv ("TMPDIR", tmpdir, TRUE);
  g_setenv ("WAVESPEED_API_KEY", KEY, TRUE);
  gst_init (&argc, &argv);

  cache = g_build_filename (root, "cache", NULL);
  cache_tmp = g_build_filename (cache, "tmp", NULL);
  clip = g_build_filename (root, "result.mp4", NULL);
  if (!rel_make_clip (clip, 5, 320, 240)) {
    g_printerr ("SKIP: cannot make the result clip (x264enc?)\n");
    return 77;
  }
  /* ~1 s per phase: 0.4 s per upload answer, three polls, a ~0.7 s
   * download; a 5 s clip played in real time is the decoding phase */
  server = wr2v_fake_server_start ("reliability/wavespeed-slow.py",
      "--api-key", KEY, "--result-mp4", clip, "--polls", "3",
      "--download-rate", "120000", "--upload-delay", "0.4", NULL);
  wr2v_fake_server_control (server, "{\"delay_ms\": 100}");

  g_print ("stop stress: %u cycles, seed %u, server %s\n", cycles, seed,
      server->base);

  for (i = 0; i < cycles; i++) {
    guint req = g_rand_int_range (rand, 0, POOL);
    gint target = g_rand_int_range (rand, 0, N_PH);
    gint64 extra = g_rand_int_range (rand, 0, target == PH_DECODE ? 1500 :
        400) * 1000;
    Watch w = { 0, };
    GstElement *pipeline;
    GstBus *bus;
    GThread *dog;
    gint dog_done = 0;
    gchar *desc;
    GError *err = NULL;
    gint64 t0, took;
    gint reached;

    g_mutex_init (&w.lock);
    g_cond_init (&w.cond);
    w.phase = PH_COLLECT;
    desc = g_strdup_printf ("wanr2v name=w engine=wavespeed api-url=%s "
        "cache-dir=\"%s\" prompt=\"Video 1 walks, stress request %u\" "
        "duration=5 poll-interval=150 request-timeout=60 ! "
        "fakesink sync=true "
        "videotestsrc num-buffers=20 pattern=solid-color "
        "foreground-color=%u ! "
        "video/x-raw,width=160,height=120,framerate=20/1 ! "
        "identity sleep-time=25000 ! w.video_0", server->base, cache, req,
        /* each request its own reference: each one is uploaded */
        0xff000000u | (req * 0x030507u));
    pipeline = gst_parse_launch (desc, &err);
    g_free (desc);
    if (!pipeline || err)
      g_error ("cycle %u: %s (is GST_PLUGIN_PATH set? run through meson "
          "test)", i, err ? err->message : "no pipeline");
    bus = gst_element_get_bus (pipeline);
    gst_bus_set_sync_handler (bus, on_bus, &w, NULL);

    if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
        GST_STATE_CHANGE_FAILURE && !w.error)
      g_error ("cycle %u: cannot start", i);
    if (!wait_for_phase (&w, target, 60 * G_USEC_PER_SEC)) {
      g_printerr ("FAIL: cycle %u: stalled before %s (last phase %s)\n", i,
          ph_names[target], w.phase >= 0 ? ph_names[w.phase] : "none");
      failures++;
    }
    g_usleep (extra);

    g_mutex_lock (&w.lock);
    reached = w.phase;
    g_mutex_unlock (&w.lock);

    dog = g_thread_new ("stop-watchdog", watchdog, &dog_done);
    t0 = g_get_monotonic_time ();
    gst_element_set_state (pipeline, GST_STATE_NULL);
    took = g_get_monotonic_time () - t0;
    g_atomic_int_set (&dog_done, 1);
    g_thread_join (dog);
    worst_stop = MAX (worst_stop, took);
    if (took > STOP_LIMIT) {
      g_printerr ("FAIL: cycle %u: PLAYING -> NULL took %" G_GINT64_FORMAT
          " ms (limit %" G_GINT64_FORMAT " ms)\n", i, took / 1000,
          STOP_LIMIT / 1000);
      failures++;
    }
    gst_bus_set_sync_handler (bus, NULL, NULL, NULL);
    gst_object_unref (bus);
    gst_object_unref (pipeline);

    if (w.error) {
      /* a stop during a submit's round trip keeps the journal entry on
       * purpose (never pay twice); the next run of that request says so */
      if (w.error_code == WR2V_ERROR_MAYBE_SUBMITTED) {
        maybe++;
      } else {
        g_printerr ("FAIL: cycle %u (request %u): error %d: %s\n", i, req,
            w.error_code, w.error);
        failures++;
      }
    } else if (w.eos) {
      eos++;
    } else {
      hits[reached]++;
    }
    g_free (w.error);
    g_mutex_clear (&w.lock);
    g_cond_clear (&w.cond);

    {
      guint t = wr2v_test_count_dir ("/proc/self/task");
      guint f = wr2v_test_count_dir ("/proc/self/fd");

      g_array_append_val (threads, t);
      g_array_append_val (fds, f);
      if (i < WARMUP * 2 && i >= WARMUP) {
        warm_threads = MAX (warm_threads, t);
        warm_fds = MAX (warm_fds, f);
      }
    }
    if (g_getenv ("WANR2V_TEST_VERBOSE"))
      g_print ("cycle %u: request %u, %s, threads %u, fds %u, stop %"
          G_GINT64_FORMAT " ms\n", i, req, w.eos ? "finished" :
          ph_names[reached], g_array_index (threads, guint, i),
          g_array_index (fds, guint, i), took / 1000);
    else if (i % 20 == 19)
      g_print ("cycle %u: threads %u, fds %u, worst stop %" G_GINT64_FORMAT
          " ms\n", i + 1, g_array_index (threads, guint, i),
          g_array_index (fds, guint, i), worst_stop / 1000);
  }

  /* the last cycles' lowest counts against the warm-up's highest: a leak
   * of one per cycle shows as a climb, idle pool threads do not */
  for (i = MAX (cycles, 20) - 20; i < cycles; i++) {
    last_threads = MIN (last_threads, g_array_index (threads, guint, i));
    last_fds = MIN (last_fds, g_array_index (fds, guint, i));
  }
  if (cycles >= WARMUP * 2 + 20) {
    if (last_threads > warm_threads) {
      g_printerr ("FAIL: threads grow: %u after warm-up, %u at the end\n",
          warm_threads, last_threads);
      failures++;
    }
    if (last_fds > warm_fds) {
      g_printerr ("FAIL: file descriptors grow: %u after warm-up, %u at "
          "the end\n", warm_fds, last_fds);
      failures++;
    }
  }

  by_prompt = rel_wavespeed_submits_by_prompt (server, &total_submits);
  g_hash_table_iter_init (&it, by_prompt);
  while (g_hash_table_iter_next (&it, &k, &v)) {
    if (GPOINTER_TO_UINT (v) > 1) {
      g_printerr ("FAIL: \"%s\" was submitted %u times\n", (gchar *) k,
          GPOINTER_TO_UINT (v));
      failures++;
    }
  }

  if (rel_count_files (cache_tmp, NULL) > 0) {
    g_printerr ("FAIL: %u partial files left in %s\n",
        rel_count_files (cache_tmp, NULL), cache_tmp);
    failures++;
  }
  if (rel_count_files (tmpdir, NULL) > 0) {
    g_printerr ("FAIL: %u element work dirs left in %s\n",
        rel_count_files (tmpdir, NULL), tmpdir);
    failures++;
  }

  g_print ("stop stress: %u cycles in %" G_GINT64_FORMAT " s, seed %u\n",
      cycles, (g_get_monotonic_time () - t_start) / G_USEC_PER_SEC, seed);
  g_print ("  stopped while: collecting %u, uploading %u, polling %u, "
      "downloading %u, decoding %u; finished before the stop: %u\n",
      hits[PH_COLLECT], hits[PH_UPLOAD], hits[PH_POLL], hits[PH_DOWNLOAD],
      hits[PH_DECODE], eos);
  g_print ("  requests submitted: %u (%u distinct, each at most once: %s); "
      "refused as maybe submitted: %u\n", total_submits,
      g_hash_table_size (by_prompt), failures ? "see above" : "yes", maybe);
  g_print ("  threads: %u after warm-up, %u at the end (lowest of the last "
      "20); fds: %u -> %u\n", warm_threads, last_threads, warm_fds, last_fds);
  g_print ("  slowest PLAYING -> NULL: %" G_GINT64_FORMAT " ms (limit %"
      G_GINT64_FORMAT " ms)\n", worst_stop / 1000, STOP_LIMIT / 1000);
  g_print ("%s\n", failures ? "FAILED" : "PASSED");

  g_hash_table_unref (by_prompt);
  wr2v_fake_server_stop (server);
  gst_deinit ();
  if (!failures)
    wr2v_test_rm_rf (root);
  else
    g_print ("kept %s\n", root);
  g_array_unref (threads);
  g_array_unref (fds);
  g_rand_free (rand);
  g_free (root);
  g_free (tmpdir);
  g_free (cache);
  g_free (cache_tmp);
  g_free (clip);
  return failures ? 1 : 0;
}
