/* wr2v-bench.c: the in-process measurements of tests/bench/run.py.
 *
 * Each subcommand runs pipelines in this process and prints one JSON
 * object per measurement on stdout; run.py starts the fake server, calls
 * these, and turns the numbers into the table. Nothing here judges a
 * number: benchmarks report.
 *
 * Every time is CLOCK_MONOTONIC (g_get_monotonic_time ()) in
 * microseconds, the clock the bench server's timestamps use too.
 *
 *   firstframe  job completed -> first frame, and the baseline's time to
 *               first frame on the same file                       (row 3)
 *   refwriter   Wr2vRefWriter on raw 1080p frames and on an MP4, and the
 *               standalone encoder on the same frames           (rows 4, 5)
 *   stop        PLAYING -> NULL while a phase is in progress       (row 7)
 *   wait        CPU time of the process while a long job runs      (row 8)
 *   many        N pipelines at once: wall time, threads            (row 9)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/resource.h>

#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/app/gstappsrc.h>
#include <gst/app/gstappsink.h>

#include "wr2v-reference.h"
#include "wr2v-request.h"
#include "wr2v-test-util.h"

/* --- options ------------------------------------------------------- */

static gchar *opt_url;
static gchar *opt_key;
static gchar *opt_ref;
static gchar *opt_dir;
static gchar *opt_file;
static gchar *opt_phase;
static gchar *opt_extra;
static gint opt_runs = 5;
static gint opt_n = 1;
static gint opt_seed = 1;
static gint opt_frames = 300;
static gint opt_poll_ms = 50;

static GOptionEntry entries[] = {
  {"url", 0, 0, G_OPTION_ARG_STRING, &opt_url, "fake server base URL", NULL},
  {"key", 0, 0, G_OPTION_ARG_STRING, &opt_key, "its API key", NULL},
  {"ref", 0, 0, G_OPTION_ARG_FILENAME, &opt_ref, "reference MP4", NULL},
  {"dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_dir, "work directory", NULL},
  {"file", 0, 0, G_OPTION_ARG_FILENAME, &opt_file, "clip / input file", NULL},
  {"phase", 0, 0, G_OPTION_ARG_STRING, &opt_phase,
      "upload|poll|download|decode", NULL},
  {"extra", 0, 0, G_OPTION_ARG_STRING, &opt_extra,
      "more wanr2v properties (decode phase)", NULL},
  {"runs", 0, 0, G_OPTION_ARG_INT, &opt_runs, "runs", NULL},
  {"n", 0, 0, G_OPTION_ARG_INT, &opt_n, "pipelines at once", NULL},
  {"seed", 0, 0, G_OPTION_ARG_INT, &opt_seed, "first seed", NULL},
  {"frames", 0, 0, G_OPTION_ARG_INT, &opt_frames, "raw frames", NULL},
  {"poll-ms", 0, 0, G_OPTION_ARG_INT, &opt_poll_ms, "poll-interval", NULL},
  {NULL}
};

/* --- small tools --------------------------------------------------- */

static gint64
now_us (void)
{
  return g_get_monotonic_time ();
}

static gint64
cpu_us (void)
{
  struct rusage ru;

  getrusage (RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * G_GINT64_CONSTANT
      (1000000) + ru.ru_utime.tv_usec + ru.ru_stime.tv_usec;
}

/* threads of this process (-1: unknown) */
static gint
count_threads (void)
{
  return g_file_test ("/proc/self/task", G_FILE_TEST_IS_DIR) ?
      (gint) wr2v_test_count_dir ("/proc/self/task") : -1;
}

static gchar *
quote (const gchar * s)
{
  g_autofree gchar *e = g_strescape (s, NULL);

  return g_strdup_printf ("\"%s\"", e);
}

static void
die (const gchar * what)
{
  g_printerr ("wr2v-bench: %s\n", what);
  exit (1);
}

/* --- one pipeline and what it tells ---------------------------------- */

typedef struct
{
  GMutex lock;
  GCond cond;
  GstElement *pipeline;
  gint64 t_start;
  gint64 t_first_frame;
  gint64 t_eos;
  gint64 t_submitted;
  gint64 t_completed;           /* wanr2v/status "completed" posted */
  gint64 t_download_last;       /* the last "download" progress */
  gint64 t_result;              /* wanr2v/result: the clip is stored */
  gint64 t_decode;              /* "decode" progress: served from now */
  guint64 switched;             /* wanr2v/switched's running time, or 0 */
  gint64 cpu_submitted;
  gint64 cpu_completed;
  gchar *job_id;
  guint phases;                 /* bit per progress code seen */
  guint frames;
  gboolean eos;
  gchar *error;
} Run;

enum
{
  PHASE_UPLOAD = 1 << 0,
  PHASE_DOWNLOAD = 1 << 1,
  PHASE_DECODE = 1 << 2,
  PHASE_QUEUED = 1 << 3,
};

static guint
phase_bit (const gchar * code)
{
  if (!g_strcmp0 (code, "upload"))
    return PHASE_UPLOAD;
  if (!g_strcmp0 (code, "download"))
    return PHASE_DOWNLOAD;
  if (!g_strcmp0 (code, "decode"))
    return PHASE_DECODE;
  if (!g_strcmp0 (code, "queued"))
    return PHASE_QUEUED;
  return 0;
}

/* Runs on whichever thread posts: the times are taken where things
 * happen, not when a main loop gets to them. */
static GstBusSyncReply
on_bus (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  Run *r = user_data;
  gint64 t = now_us ();

  g_mutex_lock (&r->lock);
  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ELEMENT:{
      const GstStructure *s = gst_message_get_structure (msg);

      if (gst_structure_has_name (s, "wanr2v/submitted")) {
        r->t_submitted = t;
        r->cpu_submitted = cpu_us ();
        g_free (r->job_id);
        r->job_id = g_strdup (gst_structure_get_string (s, "job-id"));
      } else if (gst_structure_has_name (s, "wanr2v/status") &&
          !g_strcmp0 (gst_structure_get_string (s, "status"), "completed")
          && !r->t_completed) {
        r->t_completed = t;
        r->cpu_completed = cpu_us ();
      } else if (gst_structure_has_name (s, "wanr2v/result")) {
        r->t_result = t;
      } else if (gst_structure_has_name (s, "wanr2v/switched")) {
        gst_structure_get_uint64 (s, "running-time", &r->switched);
      }
      break;
    }
    case GST_MESSAGE_PROGRESS:{
      GstProgressType type;
      gchar *code = NULL, *text = NULL;

      gst_message_parse_progress (msg, &type, &code, &text);
      r->phases |= phase_bit (code);
      if (phase_bit (code) == PHASE_DOWNLOAD)
        r->t_download_last = t;
      else if (phase_bit (code) == PHASE_DECODE)
        r->t_decode = t;
      g_free (code);
      g_free (text);
      break;
    }
    case GST_MESSAGE_EOS:
      r->eos = TRUE;
      r->t_eos = t;
      break;
    case GST_MESSAGE_ERROR:{
      GError *err = NULL;

      gst_message_parse_error (msg, &err, NULL);
      if (!r->error)
        r->error = g_strdup (err->message);
      g_error_free (err);
      break;
    }
    default:
      break;
  }
  g_cond_broadcast (&r->cond);
  g_mutex_unlock (&r->lock);
  /* a sync handler that drops a message unrefs it */
  gst_message_unref (msg);
  return GST_BUS_DROP;
}

static GstPadProbeReturn
on_frame (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Run *r = user_data;

  g_mutex_lock (&r->lock);
  if (!r->t_first_frame)
    r->t_first_frame = now_us ();
  r->frames++;
  g_cond_broadcast (&r->cond);
  g_mutex_unlock (&r->lock);
  return GST_PAD_PROBE_OK;
}

/* Builds @desc (with a fakesink named "sink") and watches it. */
static Run *
run_new (const gchar * desc)
{
  Run *r = g_new0 (Run, 1);
  GError *err = NULL;
  GstElement *sink;
  GstBus *bus;
  GstPad *pad;

  g_mutex_init (&r->lock);
  g_cond_init (&r->cond);
  r->t_start = now_us ();
  r->pipeline = gst_parse_launch (desc, &err);
  if (!r->pipeline) {
    g_printerr ("%s\n", desc);
    die (err->message);
  }
  bus = gst_element_get_bus (r->pipeline);
  gst_bus_set_sync_handler (bus, on_bus, r, NULL);
  gst_object_unref (bus);
  sink = gst_bin_get_by_name (GST_BIN (r->pipeline), "sink");
  if (sink) {
    pad = gst_element_get_static_pad (sink, "sink");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_frame, r, NULL);
    gst_object_unref (pad);
    gst_object_unref (sink);
  }
  return r;
}

static void
run_free (Run * r)
{
  if (r->pipeline) {
    gst_element_set_state (r->pipeline, GST_STATE_NULL);
    gst_object_unref (r->pipeline);
  }
  g_free (r->job_id);
  g_free (r->error);
  g_mutex_clear (&r->lock);
  g_cond_clear (&r->cond);
  g_free (r);
}

typedef gboolean (*RunPredicate) (Run * r);

/* Waits until @pred holds, an error or EOS, or @timeout_s. */
static gboolean
run_wait (Run * r, RunPredicate pred, gdouble timeout_s)
{
  gint64 end = now_us () + (gint64) (timeout_s * G_USEC_PER_SEC);
  gboolean ok;

  g_mutex_lock (&r->lock);
  while (!(ok = pred (r)) && !r->error && !r->eos)
    if (!g_cond_wait_until (&r->cond, &r->lock, end))
      break;
  ok = pred (r);
  g_mutex_unlock (&r->lock);
  return ok;
}

static gboolean
has_first_frame (Run * r)
{
  return r->t_first_frame != 0;
}

static gboolean
has_eos (Run * r)
{
  return r->eos;
}

static gboolean
has_submitted (Run * r)
{
  return r->t_submitted != 0;
}

static gboolean
has_upload (Run * r)
{
  return (r->phases & PHASE_UPLOAD) != 0;
}

static gboolean
has_download (Run * r)
{
  return (r->phases & PHASE_DOWNLOAD) != 0;
}

static gchar *
element_desc (const gchar * cache, gint seed, const gchar * sink_props)
{
  g_autofree gchar *qcache = quote (cache);
  g_autofree gchar *qref = quote (opt_ref);
  g_autofree gchar *qurl = quote (opt_url);

  return g_strdup_printf ("wanr2v name=g engine=wavespeed api-key=%s "
      "api-url=%s poll-interval=%d cache-dir=%s seed=%d "
      "prompt=\"Video 1 walks through the park\" ! fakesink name=sink %s "
      "filesrc location=%s ! g.video_0", opt_key, qurl, opt_poll_ms, qcache,
      seed, sink_props ? sink_props : "", qref);
}

static void
need (const gchar * what, const gchar * value)
{
  if (!value)
    die (what);
}

/* --- firstframe (row 3) ---------------------------------------------- */

static gint64
baseline_ttff (const gchar * file)
{
  g_autofree gchar *qfile = quote (file);
  g_autofree gchar *desc = g_strdup_printf ("filesrc location=%s ! qtdemux ! "
      "h264parse ! avdec_h264 ! fakesink name=sink", qfile);
  gint64 t0 = now_us (), ttff;
  Run *r = run_new (desc);

  gst_element_set_state (r->pipeline, GST_STATE_PLAYING);
  if (!run_wait (r, has_first_frame, 60))
    die (r->error ? r->error : "baseline: no frame");
  ttff = r->t_first_frame - t0;
  run_free (r);
  return ttff;
}

static void
element_first_frame (const gchar * cache, gint seed, gboolean print)
{
  g_autofree gchar *desc = element_desc (cache, seed, NULL);
  Run *r = run_new (desc);

  gst_element_set_state (r->pipeline, GST_STATE_PLAYING);
  if (!run_wait (r, has_first_frame, 120))
    die (r->error ? r->error : "element: no frame");
  if (print)
    g_print ("{\"kind\": \"element\", \"job\": \"%s\", \"t_completed_msg\": "
        "%" G_GINT64_FORMAT ", \"t_download_last\": %" G_GINT64_FORMAT
        ", \"t_result\": %" G_GINT64_FORMAT ", \"t_decode\": %"
        G_GINT64_FORMAT ", \"t_first_frame\": %" G_GINT64_FORMAT "}\n",
        r->job_id ? r->job_id : "", r->t_completed, r->t_download_last,
        r->t_result, r->t_decode, r->t_first_frame);
  run_free (r);
  wr2v_test_rm_rf (cache);
}

static void
cmd_firstframe (void)
{
  g_autofree gchar *warm = NULL;

  need ("--url", opt_url);
  need ("--file", opt_file);
  need ("--dir", opt_dir);
  need ("--ref", opt_ref);
  need ("--key", opt_key);

  /* plugins loaded, caches warm: what a running application has */
  baseline_ttff (opt_file);
  warm = g_build_filename (opt_dir, "ff-warm", NULL);
  element_first_frame (warm, opt_seed + 100000, FALSE);

  for (gint i = 0; i < opt_runs; i++) {
    g_autofree gchar *cache = g_strdup_printf ("%s/ff-%d", opt_dir, i);

    g_print ("{\"kind\": \"baseline\", \"ttff_us\": %" G_GINT64_FORMAT "}\n",
        baseline_ttff (opt_file));
    element_first_frame (cache, opt_seed + i, TRUE);
  }
}

/* --- refwriter (rows 4, 5) ------------------------------------------- */

#define BOX_W 1280
#define BOX_H 720

static GPtrArray *
make_frames (GstCaps ** caps)
{
  g_autofree gchar *desc = g_strdup_printf ("videotestsrc pattern=smpte "
      "horizontal-speed=3 num-buffers=%d ! video/x-raw,format=I420,"
      "width=1920,height=1080,framerate=30/1 ! appsink name=out sync=false",
      opt_frames);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "out");
  GPtrArray *frames = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_buffer_unref);
  GstSample *s;

  gst_element_set_state (p, GST_STATE_PLAYING);
  while ((s = gst_app_sink_pull_sample (GST_APP_SINK (sink)))) {
    if (!*caps)
      *caps = gst_caps_ref (gst_sample_get_caps (s));
    g_ptr_array_add (frames, gst_buffer_ref (gst_sample_get_buffer (s)));
    gst_sample_unref (s);
  }
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (p);
  if ((gint) frames->len != opt_frames)
    die ("could not make the raw frames");
  return frames;
}

/* appsrc ! videoconvert ! videoscale ! x264enc ! mp4mux ! filesink with
 * the writer's settings; returns the time from building it to the file's
 * EOS. @w/@h: output size. */
static gint64
encode_standalone (GPtrArray * frames, GstCaps * caps, gint w, gint h,
    const gchar * out)
{
  g_autofree gchar *qout = quote (out);
  g_autofree gchar *desc = g_strdup_printf ("appsrc name=src format=time "
      "max-bytes=0 max-buffers=4 block=true ! videoconvert ! videoscale ! "
      "video/x-raw,width=%d,height=%d,pixel-aspect-ratio=1/1 ! "
      "x264enc speed-preset=veryfast ! video/x-h264,profile=high ! mp4mux ! "
      "filesink location=%s", w, h, qout);
  gint64 t0 = now_us (), t;
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *src = gst_bin_get_by_name (GST_BIN (p), "src");
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *msg;

  gst_app_src_set_caps (GST_APP_SRC (src), caps);
  gst_element_set_state (p, GST_STATE_PLAYING);
  for (guint i = 0; i < frames->len; i++)
    gst_app_src_push_buffer (GST_APP_SRC (src),
        gst_buffer_ref (g_ptr_array_index (frames, i)));
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  msg = gst_bus_timed_pop_filtered (bus, GST_CLOCK_TIME_NONE,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  t = now_us () - t0;
  if (GST_MESSAGE_TYPE (msg) != GST_MESSAGE_EOS)
    die ("standalone encoder failed");
  gst_message_unref (msg);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (p);
  return t;
}

static gint64
writer_raw (GPtrArray * frames, GstCaps * caps, const gchar * out)
{
  gint64 t0 = now_us (), t;
  Wr2vRefWriter *w = wr2v_ref_writer_new (WR2V_REF_VIDEO, out,
      10 * GST_SECOND, BOX_W, BOX_H);
  Wr2vReference *ref = wr2v_reference_new (WR2V_REF_VIDEO, 0);
  GError *err = NULL;

  ref->number = 1;
  if (!wr2v_ref_writer_set_caps (w, caps, &err))
    die (err->message);
  for (guint i = 0; i < frames->len; i++) {
    GstFlowReturn ret = wr2v_ref_writer_push (w,
        g_ptr_array_index (frames, i), &err);

    if (ret == GST_FLOW_EOS)
      break;
    if (ret != GST_FLOW_OK)
      die (err ? err->message : "push failed");
  }
  if (!wr2v_ref_writer_finish (w, ref, NULL, &err))
    die (err->message);
  t = now_us () - t0;
  wr2v_ref_writer_free (w);
  wr2v_reference_free (ref);
  return t;
}

/* An encoded file as filesrc would hand it over: 4 KiB buffers read from
 * the disk, into the writer, to a finished reference. */
static gint64
writer_mp4 (const gchar * in, const gchar * out)
{
  gint64 t0 = now_us (), t;
  g_autoptr (GstCaps) caps = gst_caps_new_empty_simple ("video/quicktime");
  Wr2vRefWriter *w = wr2v_ref_writer_new (WR2V_REF_VIDEO, out,
      10 * GST_SECOND, BOX_W, BOX_H);
  Wr2vReference *ref = wr2v_reference_new (WR2V_REF_VIDEO, 0);
  GError *err = NULL;
  gint fd = g_open (in, O_RDONLY, 0);

  ref->number = 1;
  if (fd < 0)
    die ("cannot open the MP4 reference");
  if (!wr2v_ref_writer_set_caps (w, caps, &err))
    die (err->message);
  for (;;) {
    GstBuffer *buf = gst_buffer_new_allocate (NULL, 4096, NULL);
    GstMapInfo map;
    gssize n;

    gst_buffer_map (buf, &map, GST_MAP_WRITE);
    n = read (fd, map.data, 4096);
    gst_buffer_unmap (buf, &map);
    if (n <= 0) {
      gst_buffer_unref (buf);
      break;
    }
    gst_buffer_resize (buf, 0, n);
    if (wr2v_ref_writer_push (w, buf, &err) != GST_FLOW_OK)
      die (err ? err->message : "push failed");
    gst_buffer_unref (buf);
  }
  close (fd);
  if (!wr2v_ref_writer_finish (w, ref, NULL, &err))
    die (err->message);
  t = now_us () - t0;
  wr2v_ref_writer_free (w);
  wr2v_reference_free (ref);
  return t;
}

static void
cmd_refwriter (void)
{
  GstCaps *caps = NULL;
  GPtrArray *frames;
  g_autofree gchar *mp4 = NULL;
  g_autofree gchar *out = NULL;
  gint64 mp4_bytes = -1;
  GStatBuf st;

  need ("--dir", opt_dir);
  frames = make_frames (&caps);
  for (guint i = 0; i < frames->len; i++) {
    GstBuffer *b = g_ptr_array_index (frames, i);

    GST_BUFFER_PTS (b) = gst_util_uint64_scale (i, GST_SECOND, 30);
    GST_BUFFER_DURATION (b) = gst_util_uint64_scale (i + 1, GST_SECOND, 30) -
        GST_BUFFER_PTS (b);
  }
  /* the already-encoded reference: the same frames, 1080p, as a camera or
   * an editor would have written them */
  mp4 = g_build_filename (opt_dir, "ref-1080p.mp4", NULL);
  encode_standalone (frames, caps, 1920, 1080, mp4);
  out = g_build_filename (opt_dir, "out.mp4", NULL);
  if (g_stat (mp4, &st) == 0)
    mp4_bytes = st.st_size;

  /* warm-up of both: plugins loaded, x264 tables built */
  encode_standalone (frames, caps, BOX_W, BOX_H, out);
  writer_raw (frames, caps, out);
  for (gint i = 0; i < opt_runs; i++) {
    gint64 c0, t;

    c0 = cpu_us ();
    t = encode_standalone (frames, caps, BOX_W, BOX_H, out);
    g_print ("{\"kind\": \"standalone\", \"us\": %" G_GINT64_FORMAT
        ", \"cpu_us\": %" G_GINT64_FORMAT "}\n", t, cpu_us () - c0);
    c0 = cpu_us ();
    t = writer_raw (frames, caps, out);
    g_print ("{\"kind\": \"writer-raw\", \"us\": %" G_GINT64_FORMAT
        ", \"cpu_us\": %" G_GINT64_FORMAT "}\n", t, cpu_us () - c0);
    g_print ("{\"kind\": \"writer-mp4\", \"us\": %" G_GINT64_FORMAT ", "
        "\"bytes\": %" G_GINT64_FORMAT "}\n", writer_mp4 (mp4, out), mp4_bytes);
  }
  g_unlink (out);
  g_unlink (mp4);
  g_ptr_array_unref (frames);
  gst_caps_unref (caps);
}

/* --- stop (row 7) ---------------------------------------------------- */

static void
cmd_stop (void)
{
  const gchar *phase = opt_phase;
  gboolean decode;

  need ("--phase", phase);
  need ("--dir", opt_dir);
  decode = g_str_equal (phase, "decode");
  if (!decode) {
    need ("--url", opt_url);
    need ("--key", opt_key);
    need ("--ref", opt_ref);
  }

  for (gint i = 0; i < opt_runs; i++) {
    g_autofree gchar *cache = NULL;
    g_autofree gchar *desc = NULL;
    RunPredicate pred;
    gboolean held;
    gint delay_ms;
    Run *r;
    gint64 t0, t1;

    if (decode) {
      /* the stored clip, decoded in real time: the decoder is busy */
      desc = g_strdup_printf ("wanr2v name=g %s ! fakesink name=sink "
          "sync=true filesrc location=\"%s\" ! g.video_0", opt_extra, opt_ref);
      pred = has_first_frame;
      delay_ms = g_random_int_range (0, 1000);
    } else {
      cache = g_strdup_printf ("%s/stop-%s-%d", opt_dir, phase, i);
      desc = element_desc (cache, opt_seed + i, NULL);
      pred = g_str_equal (phase, "upload") ? has_upload :
          g_str_equal (phase, "poll") ? has_submitted : has_download;
      delay_ms = g_random_int_range (0, 200);
    }
    r = run_new (desc);
    gst_element_set_state (r->pipeline, GST_STATE_PLAYING);
    if (!run_wait (r, pred, 60))
      die (r->error ? r->error : "the phase never came");
    g_usleep (delay_ms * 1000);
    /* still in that phase? (the fault holds it for 30 s) */
    g_mutex_lock (&r->lock);
    held = !r->eos && !r->error && (decode || !r->t_first_frame);
    g_mutex_unlock (&r->lock);

    t0 = now_us ();
    gst_element_set_state (r->pipeline, GST_STATE_NULL);
    t1 = now_us ();
    g_print ("{\"kind\": \"stop\", \"phase\": \"%s\", \"us\": %"
        G_GINT64_FORMAT ", \"held\": %s}\n", phase, t1 - t0,
        held ? "true" : "false");
    run_free (r);
    if (cache)
      wr2v_test_rm_rf (cache);
  }
}

/* --- wait (row 8) ---------------------------------------------------- */

static void
cmd_wait (void)
{
  g_autofree gchar *cache = NULL;
  g_autofree gchar *desc = NULL;
  struct rusage ru;
  Run *r;

  need ("--url", opt_url);
  need ("--key", opt_key);
  need ("--ref", opt_ref);
  need ("--dir", opt_dir);
  cache = g_build_filename (opt_dir, "wait", NULL);
  desc = element_desc (cache, opt_seed, NULL);
  r = run_new (desc);
  gst_element_set_state (r->pipeline, GST_STATE_PLAYING);
  if (!run_wait (r, has_eos, 3600))
    die (r->error ? r->error : "no EOS");
  getrusage (RUSAGE_SELF, &ru);
  g_print ("{\"kind\": \"wait\", \"job\": \"%s\", \"t_submitted\": %"
      G_GINT64_FORMAT ", \"t_completed_msg\": %" G_GINT64_FORMAT
      ", \"cpu_submitted_us\": %" G_GINT64_FORMAT ", \"cpu_completed_us\": %"
      G_GINT64_FORMAT ", \"t_eos\": %" G_GINT64_FORMAT ", \"frames\": %u}\n",
      r->job_id ? r->job_id : "", r->t_submitted, r->t_completed,
      r->cpu_submitted, r->cpu_completed, r->t_eos, r->frames);
  run_free (r);
  wr2v_test_rm_rf (cache);
}

/* --- many (row 9) ---------------------------------------------------- */

static gboolean
all (Run ** runs, gint n, RunPredicate pred)
{
  for (gint i = 0; i < n; i++) {
    gboolean ok;

    g_mutex_lock (&runs[i]->lock);
    ok = pred (runs[i]) || runs[i]->error;
    g_mutex_unlock (&runs[i]->lock);
    if (!ok)
      return FALSE;
  }
  return TRUE;
}

static gboolean
any_completed (Run ** runs, gint n)
{
  for (gint i = 0; i < n; i++) {
    gboolean done;

    g_mutex_lock (&runs[i]->lock);
    done = runs[i]->t_completed != 0 || runs[i]->error;
    g_mutex_unlock (&runs[i]->lock);
    if (done)
      return TRUE;
  }
  return FALSE;
}

static void
cmd_many (void)
{
  gint n = opt_n, base_threads, max_threads = 0, samples = 0, ok = 0;
  Run **runs = g_new0 (Run *, n);
  gint64 t0, t_end = 0, cpu0, cpu_wait0 = 0, cpu_wait1 = 0;
  gint64 t_wait0 = 0, t_wait1 = 0;
  g_autoptr (GString) ends = g_string_new (NULL);

  need ("--url", opt_url);
  need ("--key", opt_key);
  need ("--ref", opt_ref);
  need ("--dir", opt_dir);

  base_threads = count_threads ();
  cpu0 = cpu_us ();
  t0 = now_us ();
  for (gint i = 0; i < n; i++) {
    g_autofree gchar *cache = g_strdup_printf ("%s/many-%d", opt_dir, i);
    g_autofree gchar *desc = element_desc (cache, opt_seed + i, NULL);

    runs[i] = run_new (desc);
    gst_element_set_state (runs[i]->pipeline, GST_STATE_PLAYING);
  }
  /* every job submitted: all of them are waiting now */
  while (!all (runs, n, has_submitted))
    g_usleep (10000);
  t_wait0 = now_us ();
  cpu_wait0 = cpu_us ();
  while (!any_completed (runs, n)) {
    gint t = count_threads ();

    max_threads = MAX (max_threads, t);
    samples++;
    g_usleep (250000);
  }
  t_wait1 = now_us ();
  cpu_wait1 = cpu_us ();
  while (!all (runs, n, has_eos))
    g_usleep (10000);
  for (gint i = 0; i < n; i++) {
    if (runs[i]->eos && !runs[i]->error)
      ok++;
    else
      g_printerr ("pipeline %d: %s\n", i, runs[i]->error);
    t_end = MAX (t_end, runs[i]->t_eos);
    g_string_append_printf (ends, "%s%.3f", i ? ", " : "",
        (runs[i]->t_eos - t0) / 1e6);
  }
  g_print ("{\"kind\": \"many\", \"n\": %d, \"ok\": %d, \"wall_us\": %"
      G_GINT64_FORMAT ", \"threads_base\": %d, \"threads_waiting_max\": %d, "
      "\"samples\": %d, \"wait_us\": %" G_GINT64_FORMAT
      ", \"cpu_wait_us\": %" G_GINT64_FORMAT ", \"cpu_total_us\": %"
      G_GINT64_FORMAT ", \"ends_s\": [%s]}\n", n, ok, t_end - t0,
      base_threads, max_threads, samples, t_wait1 - t_wait0,
      cpu_wait1 - cpu_wait0, cpu_us () - cpu0, ends->str);
  for (gint i = 0; i < n; i++) {
    g_autofree gchar *cache = g_strdup_printf ("%s/many-%d", opt_dir, i);

    run_free (runs[i]);
    wr2v_test_rm_rf (cache);
  }
  g_free (runs);
}

/* --- live (rows 10, 11) ------------------------------------------------ */

/* The timestamps a pad pushed. */
typedef struct
{
  GMutex lock;
  GArray *pts, *end;            /* GstClockTime each */
} Stamps;

static GstPadProbeReturn
on_stamp (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Stamps *s = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstClockTime pts = GST_BUFFER_PTS (buf);
  GstClockTime end = pts + GST_BUFFER_DURATION (buf);

  g_mutex_lock (&s->lock);
  g_array_append_val (s->pts, pts);
  g_array_append_val (s->end, end);
  g_mutex_unlock (&s->lock);
  return GST_PAD_PROBE_OK;
}

static Stamps *
stamp_pad (GstElement * pipeline, const gchar * pad_name)
{
  GstElement *g = gst_bin_get_by_name (GST_BIN (pipeline), "g");
  GstPad *pad = gst_element_get_static_pad (g, pad_name);
  Stamps *s = g_new0 (Stamps, 1);

  g_mutex_init (&s->lock);
  s->pts = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  s->end = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_stamp, s, NULL);
  gst_object_unref (pad);
  gst_object_unref (g);
  return s;
}

static void
stamps_free (Stamps * s)
{
  g_array_unref (s->pts);
  g_array_unref (s->end);
  g_mutex_clear (&s->lock);
  g_free (s);
}

/* The largest distance between a buffer's start and the end of the one
 * before (a gap or an overlap), in ns. */
static GstClockTime
largest_gap (Stamps * s)
{
  GstClockTime gap = 0;

  for (guint i = 1; i < s->pts->len; i++) {
    GstClockTime a = g_array_index (s->pts, GstClockTime, i);
    GstClockTime b = g_array_index (s->end, GstClockTime, i - 1);

    gap = MAX (gap, a > b ? a - b : b - a);
  }
  return gap;
}

/* Output frames from @from on. */
static guint
frames_from (Stamps * s, GstClockTime from)
{
  guint n = 0;

  for (guint i = 0; i < s->pts->len; i++)
    n += g_array_index (s->pts, GstClockTime, i) >= from;
  return n;
}

/* PLAYING -> the first buffer at a sink that syncs, in us. */
static gint64
live_ttff (Run * r)
{
  gint64 t0 = now_us ();

  gst_element_set_state (r->pipeline, GST_STATE_PLAYING);
  if (!run_wait (r, has_first_frame, 60))
    die (r->error ? r->error : "live: no frame");
  return r->t_first_frame - t0;
}

/* One live run against a job that takes the server's --job-seconds: the
 * first frame after PLAYING, then the switch: the largest timestamp gap
 * on each pad, the clip's frames missing or repeated (--frames). */
static void
live_run (const gchar * cache, gint seed)
{
  g_autofree gchar *qcache = quote (cache);
  g_autofree gchar *qref = quote (opt_ref);
  g_autofree gchar *qurl = quote (opt_url);
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g live=true "
      "engine=wavespeed api-key=%s api-url=%s poll-interval=%d cache-dir=%s "
      "seed=%d placeholder=slate prompt=\"Video 1 walks through the park\" "
      "! video/x-raw,width=320,height=180 ! fakesink name=sink sync=true "
      "g.audio ! fakesink sync=true filesrc location=%s ! g.video_0",
      opt_key, qurl, opt_poll_ms, qcache, seed, qref);
  Run *r = run_new (desc);
  Stamps *video = stamp_pad (r->pipeline, "src");
  Stamps *audio = stamp_pad (r->pipeline, "audio");
  guint64 switched;
  gint64 ttff;
  guint clip;

  ttff = live_ttff (r);
  /* the job, then the clip in real time, then EOS (after-clip=eos) */
  if (!run_wait (r, has_eos, 180) || !r->switched)
    die (r->error ? r->error : "live: no switch and EOS");
  switched = r->switched;
  gst_element_set_state (r->pipeline, GST_STATE_NULL);
  clip = frames_from (video, switched);
  g_print ("{\"kind\": \"live\", \"ttff_us\": %" G_GINT64_FORMAT
      ", \"switch_ns\": %" G_GUINT64_FORMAT ", \"video_gap_ns\": %"
      G_GUINT64_FORMAT ", \"audio_gap_ns\": %" G_GUINT64_FORMAT
      ", \"dropped\": %d, \"repeated\": %d, \"frames\": %u}\n", ttff,
      switched, largest_gap (video), largest_gap (audio),
      MAX (opt_frames - (gint) clip, 0), MAX ((gint) clip - opt_frames, 0),
      video->pts->len);
  stamps_free (video);
  stamps_free (audio);
  run_free (r);
  wr2v_test_rm_rf (cache);
}

/* The baseline: a plain live videotestsrc to a sink that syncs. */
static gint64
live_baseline_ttff (void)
{
  Run *r = run_new ("videotestsrc is-live=true ! video/x-raw,width=320,"
      "height=180,framerate=30/1 ! fakesink name=sink sync=true");
  gint64 ttff = live_ttff (r);

  run_free (r);
  return ttff;
}

static void
cmd_live (void)
{
  need ("--url", opt_url);
  need ("--dir", opt_dir);
  need ("--ref", opt_ref);
  need ("--key", opt_key);

  live_baseline_ttff ();        /* plugins loaded */
  for (gint i = 0; i < opt_runs; i++) {
    g_autofree gchar *cache = g_strdup_printf ("%s/live-%d", opt_dir, i);

    g_print ("{\"kind\": \"baseline\", \"ttff_us\": %" G_GINT64_FORMAT
        "}\n", live_baseline_ttff ());
    live_run (cache, opt_seed + i);
  }
}

/* --------------------------------------------------------------------- */

int
main (int argc, char **argv)
{
  GOptionContext *ctx = g_option_context_new ("COMMAND - wanr2v benchmarks "
      "(firstframe, refwriter, stop, wait, many, live)");
  GError *err = NULL;
  const gchar *cmd;

  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err))
    die (err->message);
  g_option_context_free (ctx);
  if (argc < 2)
    die ("which benchmark? firstframe, refwriter, stop, wait, many");
  cmd = argv[1];

  if (g_str_equal (cmd, "firstframe"))
    cmd_firstframe ();
  else if (g_str_equal (cmd, "refwriter"))
    cmd_refwriter ();
  else if (g_str_equal (cmd, "stop"))
    cmd_stop ();
  else if (g_str_equal (cmd, "wait"))
    cmd_wait ();
  else if (g_str_equal (cmd, "many"))
    cmd_many ();
  else if (g_str_equal (cmd, "live"))
    cmd_live ();
  else
    die ("unknown benchmark");
  return 0;
}
