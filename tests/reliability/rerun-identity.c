/* rerun-identity.c: a rerun after a kill is the same request, so it
 * resumes the job instead of paying for a second one (issue 11, item 8).
 *
 * Against the fake WaveSpeed server, each round kills a run with SIGKILL
 * once its job id is in the journal (the job is paid for), then runs again
 * to the end, and counts the submits:
 *   1. the same raw reference (the issue's: 90 smpte frames at 720p) through the wanr2v
 *      element, the kill and the rerun at different GST_DEBUG levels and
 *      thread timings (an identity sleep-time, a queue): before, the
 *      request's key came from x264's output, whose bytes change with
 *      thread timing, and the rerun submitted again;
 *   2. a live reference (other frames on every run) under a job key,
 *      through the core API (writer, request, job) as the element runs
 *      it: the key stands for the frames, the rerun resumes.
 * It fails when any round submits more than once or a rerun does not end
 * with the clip.
 */
#include <signal.h>
#include <sys/wait.h>

#include "rel-common.h"
#include "wr2v-engine.h"
#include "wr2v-error.h"
#include "wr2v-reference.h"
#include "wr2v-store.h"

#define KEY "wr2v-rerun-KEY-51c9e0"
#define ROUNDS 3

/* --- children ------------------------------------------------------------ */

/* The element, with @variant choosing the thread timing. */
static int
child_element (const gchar * api_url, const gchar * cache, guint round,
    guint variant, const gchar * location)
{
  const gchar *timing[] = { "", "identity sleep-time=3000 ! ",
    "queue max-size-buffers=2 ! identity sleep-time=1000 ! "
  };
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=w engine=wavespeed "
      "api-url=%s cache-dir=\"%s\" result-location=\"%s\" "
      "prompt=\"Video 1 waves, rerun round %u\" duration=5 "
      "poll-interval=100 request-timeout=120 ! fakesink sync=false "
      "videotestsrc num-buffers=90 pattern=smpte ! "
      "video/x-raw,width=1280,height=720,framerate=30/1 ! %s w.video_0",
      api_url, cache, location, round, timing[variant % 3]);

  return wr2v_test_run_to_eos (desc, 120 * GST_SECOND) ? 0 : 2;
}

/* A live reference under a job key, as the element runs it: frames into a
 * writer (other frames on every run: @seed), the request, the job. */
static int
child_live (const gchar * api_url, const gchar * cache, const gchar * key,
    guint32 seed, const gchar * location)
{
  g_autofree gchar *work = wr2v_work_dir_new (NULL);
  g_autofree gchar *file = g_build_filename (work, "video_0", NULL);
  g_autoptr (GstCaps) caps = gst_caps_from_string ("video/x-raw,format=I420,"
      "width=320,height=240,framerate=25/1");
  g_autoptr (Wr2vRequest) req = wr2v_request_new ();
  g_autoptr (Wr2vStore) store = NULL;
  Wr2vEngineSettings settings = { 0 };
  Wr2vRefWriter *w = wr2v_ref_writer_new (WR2V_REF_VIDEO, file,
      GST_SECOND, 1280, 720);
  Wr2vReference *ref = wr2v_reference_new (WR2V_REF_VIDEO, 0);
  GRand *rand = g_rand_new_with_seed (seed);
  g_autofree gchar *path = NULL;
  Wr2vEngine *engine;
  GError *err = NULL;
  Wr2vJob job;

  if (!wr2v_ref_writer_set_caps (w, caps, &err))
    g_error ("%s", err->message);
  for (guint i = 0; i < 25; i++) {
    GstBuffer *buf = gst_buffer_new_allocate (NULL, 320 * 240 * 3 / 2, NULL);
    GstMapInfo map;

    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    for (gsize b = 0; b < map.size; b++)
      map.data[b] = g_rand_int (rand);
    gst_buffer_unmap (buf, &map);
    GST_BUFFER_PTS (buf) = i * GST_SECOND / 25;
    GST_BUFFER_DURATION (buf) = GST_SECOND / 25;
    wr2v_ref_writer_push (w, buf, NULL);
    gst_buffer_unref (buf);
  }
  req->prompt = g_strdup ("Video 1 live, under a job key");
  req->job_key = g_strdup (key);
  wr2v_request_add_reference (req, ref);
  wr2v_request_number_references (req);
  if (!wr2v_ref_writer_finish (w, ref, NULL, &err))
    g_error ("%s", err->message);

  settings.api_key = g_strdup (KEY);
  settings.api_url = g_strdup (api_url);
  settings.poll_interval_ms = 100;
  settings.poll_interval_max_ms = 400;
  settings.request_timeout_s = 120;
  settings.max_download_bytes = 100 * 1024 * 1024;
  store = wr2v_store_open (cache, &err);
  engine = store ? wr2v_engine_new ("wavespeed", &settings, &err) : NULL;
  if (!engine)
    g_error ("%s", err->message);
  wr2v_job_init (&job, req, engine, store, NULL);
  path = wr2v_job_run (&job, &err);
  wr2v_job_clear (&job);
  if (path) {
    g_autoptr (GFile) from = g_file_new_for_path (path);
    g_autoptr (GFile) to = g_file_new_for_path (location);

    if (!g_file_copy (from, to, G_FILE_COPY_OVERWRITE, NULL, NULL, NULL, &err))
      g_clear_pointer (&path, g_free);
  }
  if (!path)
    g_printerr ("child: %s\n", err ? err->message : "?");
  wr2v_engine_free (engine);
  wr2v_engine_settings_clear (&settings);
  wr2v_ref_writer_free (w);
  wr2v_work_dir_remove (work);
  g_rand_free (rand);
  return path ? 0 : 2;
}

/* --- the driver ---------------------------------------------------------- */

/* the children's TMPDIR: what killed runs leave goes with the test's
 * folder */
static gchar *root;

static GPid
spawn (gchar ** argv, const gchar * gst_debug)
{
  gchar **envp = g_get_environ ();
  GError *err = NULL;
  GPid pid;

  envp = g_environ_setenv (envp, "GST_DEBUG", gst_debug, TRUE);
  envp = g_environ_setenv (envp, "GST_DEBUG_FILE", "/dev/null", TRUE);
  envp = g_environ_setenv (envp, "WAVESPEED_API_KEY", KEY, TRUE);
  envp = g_environ_setenv (envp, "TMPDIR", root, TRUE);
  if (!g_spawn_async (NULL, argv, envp, G_SPAWN_DO_NOT_REAP_CHILD, NULL, NULL,
          &pid, &err))
    g_error ("spawn: %s", err->message);
  g_strfreev (envp);
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

/* Whether a journal entry in @cache holds a job id: the job exists and is
 * paid for. */
static gboolean
journal_has_job (const gchar * cache)
{
  g_autofree gchar *journal = g_build_filename (cache, "journal", NULL);
  g_autoptr (GDir) d = g_dir_open (journal, 0, NULL);
  const gchar *name;

  while (d && (name = g_dir_read_name (d))) {
    g_autofree gchar *path = g_build_filename (journal, name, NULL);
    g_autofree gchar *data = NULL;
    gsize len = 0;
    Wr2vJournalEntry *e;
    gboolean has;

    if (!g_str_has_suffix (name, ".json")
        || !g_file_get_contents (path, &data, &len, NULL))
      continue;
    e = wr2v_journal_entry_parse (data, len, NULL);
    has = e && e->job_id;
    wr2v_journal_entry_free (e);
    if (has)
      return TRUE;
  }
  return FALSE;
}

/* Starts a run, kills it once its job is journaled; FALSE when it ended
 * before (then the round proves nothing). */
static gboolean
run_and_kill (gchar ** argv, const gchar * gst_debug, const gchar * cache)
{
  GPid pid = spawn (argv, gst_debug);
  gint64 end = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  while (g_get_monotonic_time () < end) {
    int status;

    if (waitpid (pid, &status, WNOHANG) == pid)
      return FALSE;
    if (journal_has_job (cache)) {
      kill (pid, SIGKILL);
      wait_child (pid);
      return TRUE;
    }
    g_usleep (2000);
  }
  kill (pid, SIGKILL);
  wait_child (pid);
  return FALSE;
}

static guint
submits (Wr2vFakeServer * server)
{
  guint total = 0;
  GHashTable *by = rel_wavespeed_submits_by_prompt (server, &total);

  g_hash_table_unref (by);
  return total;
}

/* One round: a killed run, then a run to the end, with other settings;
 * returns the failures. */
static guint
round_trip (Wr2vFakeServer * server, gchar ** killed, const gchar * killed_debug,
    gchar ** rerun, const gchar * rerun_debug, const gchar * cache,
    const gchar * location, const gchar * what)
{
  guint before = submits (server), after;
  gint code;

  if (!run_and_kill (killed, killed_debug, cache)) {
    g_printerr ("FAIL: %s: the run was not killed after its submit\n", what);
    return 1;
  }
  code = wait_child (spawn (rerun, rerun_debug));
  after = submits (server);
  g_print ("%s: killed after the submit (GST_DEBUG=%s), rerun "
      "(GST_DEBUG=%s) exited %d; submits: %u\n", what, killed_debug,
      rerun_debug, code, after - before);
  if (code != 0 || !g_file_test (location, G_FILE_TEST_IS_REGULAR)) {
    g_printerr ("FAIL: %s: the rerun did not end with its clip\n", what);
    return 1;
  }
  if (after - before != 1) {
    g_printerr ("FAIL: %s: %u submits for one request\n", what, after - before);
    return 1;
  }
  return 0;
}

int
main (int argc, char **argv)
{
  const gchar *levels[] = { "0", "*:5", "*:3,wanr2v*:7" };
  g_autofree gchar *self = NULL;
  g_autofree gchar *clip = NULL;
  Wr2vFakeServer *server;
  guint failures = 0;

  if (argc == 7 && g_str_equal (argv[1], "--element")) {
    gst_init (NULL, NULL);
    return child_element (argv[2], argv[3], atoi (argv[4]), atoi (argv[5]),
        argv[6]);
  }
  if (argc == 7 && g_str_equal (argv[1], "--live")) {
    gst_init (NULL, NULL);
    return child_live (argv[2], argv[3], argv[4], atoi (argv[5]), argv[6]);
  }

  gst_init (&argc, &argv);
  self = g_file_read_link ("/proc/self/exe", NULL);
  root = g_dir_make_tmp ("wanr2v-rerun-XXXXXX", NULL);
  clip = g_build_filename (root, "result.mp4", NULL);
  if (!rel_make_clip (clip, 5, 320, 240)) {
    g_printerr ("SKIP: cannot make the result clip (x264enc?)\n");
    return 77;
  }
  /* jobs take 6 polls: the kill lands while one runs */
  server = wr2v_fake_server_start ("reliability/wavespeed-slow.py",
      "--api-key", KEY, "--result-mp4", clip, "--polls", "6", NULL);

  for (guint r = 0; r < ROUNDS; r++) {
    g_autofree gchar *cache = g_strdup_printf ("%s/cache-%u", root, r);
    g_autofree gchar *location = g_strdup_printf ("%s/out-%u.mp4", root, r);
    g_autofree gchar *round = g_strdup_printf ("%u", r);
    g_autofree gchar *what = g_strdup_printf ("element, round %u", r);
    gchar *killed[] = { self, (gchar *) "--element", server->base, cache,
      round, (gchar *) "0", location, NULL
    };
    gchar *rerun[] = { self, (gchar *) "--element", server->base, cache,
      round, NULL, location, NULL
    };

    rerun[5] = g_strdup_printf ("%u", r + 1);
    failures += round_trip (server, killed, levels[r % 3], rerun,
        levels[(r + 1) % 3], cache, location, what);
    g_free (rerun[5]);
  }
  {
    g_autofree gchar *cache = g_build_filename (root, "cache-live", NULL);
    g_autofree gchar *location = g_build_filename (root, "live.mp4", NULL);
    gchar *killed[] = { self, (gchar *) "--live", server->base, cache,
      (gchar *) "take-7", (gchar *) "1", location, NULL
    };
    gchar *rerun[] = { self, (gchar *) "--live", server->base, cache,
      (gchar *) "take-7", (gchar *) "2", location, NULL
    };

    failures += round_trip (server, killed, "0", rerun, "*:5", cache,
        location, "live reference under a job key");
  }

  g_print ("%s\n", failures ? "FAILED" : "PASSED");
  wr2v_fake_server_stop (server);
  if (!failures)
    wr2v_test_rm_rf (root);
  else
    g_print ("kept %s\n", root);
  g_free (root);
  gst_deinit ();
  return failures ? 1 : 0;
}
