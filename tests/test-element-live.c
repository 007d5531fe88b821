/* wanr2v in live and dynamic pipelines (issue 11, items 1 to 3): a live
 * camera shared through a tee, EOS in the middle of a job, reference pads
 * linked from "pad-added".
 *
 * Each test runs the pipeline of the issue (with a private cache-dir and
 * engine=preview added) under a bounded timeout, and removes its files.
 * The process gets a private TMPDIR, as test-element does. */
#include <string.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include "wr2v-test-element.h"

#define TIMEOUT (60 * GST_SECOND)

static gchar *private_tmp;


static gchar *
make_test_dir (void)
{
  GError *err = NULL;
  gchar *dir = g_dir_make_tmp ("test-live-XXXXXX", &err);

  g_assert_no_error (err);
  return dir;
}



/* --- buffers seen by a sink ----------------------------------------------- */

typedef struct
{
  gint buffers;                 /* atomic */
} Count;

static GstPadProbeReturn
count_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  g_atomic_int_inc (&((Count *) user_data)->buffers);
  return GST_PAD_PROBE_OK;
}

static Count *
count_on (GstElement * pipeline, const gchar * sink_name)
{
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), sink_name);
  GstPad *pad;
  Count *c = g_new0 (Count, 1);

  g_assert_nonnull (sink);
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_buffer, c, g_free);
  gst_object_unref (pad);
  gst_object_unref (sink);
  return c;
}

/* --- the bus ------------------------------------------------------------- */

typedef struct
{
  gboolean result;              /* wanr2v/result seen */
  gboolean canceled;            /* progress CANCELED seen */
  gboolean eos;
  GstMessage *error;
  GstState state;               /* the pipeline's */
} Seen;

static void
seen_take (Seen * s, GstElement * pipeline, GstMessage * m)
{
  switch (GST_MESSAGE_TYPE (m)) {
    case GST_MESSAGE_ELEMENT:
      s->result |= gst_message_has_name (m, "wanr2v/result");
      break;
    case GST_MESSAGE_PROGRESS:{
      GstProgressType type;

      gst_message_parse_progress (m, &type, NULL, NULL);
      s->canceled |= type == GST_PROGRESS_TYPE_CANCELED;
      break;
    }
    case GST_MESSAGE_EOS:
      s->eos = TRUE;
      break;
    case GST_MESSAGE_ERROR:
      if (!s->error)
        s->error = gst_message_ref (m);
      break;
    case GST_MESSAGE_STATE_CHANGED:
      if (GST_MESSAGE_SRC (m) == GST_OBJECT (pipeline))
        gst_message_parse_state_changed (m, NULL, &s->state, NULL);
      break;
    default:
      break;
  }
}

typedef gboolean (*SeenDone) (const Seen * s, gconstpointer data);

/* Pops messages into @s until @done says so or @timeout; FALSE on the
 * timeout. */
static gboolean
wait_for (GstElement * pipeline, Seen * s, GstClockTime timeout,
    SeenDone done, gconstpointer data)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  gint64 deadline = g_get_monotonic_time () +
      WR2V_TEST_TIME (timeout / GST_USECOND);
  gboolean ok;

  while (!(ok = done (s, data))) {
    gint64 left = deadline - g_get_monotonic_time ();
    GstMessage *m;

    if (left <= 0)
      break;
    m = gst_bus_timed_pop (bus, left * GST_USECOND);
    if (!m)
      break;
    seen_take (s, pipeline, m);
    gst_message_unref (m);
  }
  gst_object_unref (bus);
  return ok;
}

static void
assert_no_error (const Seen * s)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *dbg = NULL;

  if (!s->error)
    return;
  gst_message_parse_error (s->error, &err, &dbg);
  g_error ("unexpected error from %s: %s (%s)",
      GST_MESSAGE_SRC_NAME (s->error), err->message, dbg);
}

static gboolean
done_result_playing (const Seen * s, gconstpointer data)
{
  return s->error || (s->result && s->state == GST_STATE_PLAYING);
}

static gboolean
done_end (const Seen * s, gconstpointer data)
{
  return s->error || s->eos;
}

static gboolean
done_canceled (const Seen * s, gconstpointer data)
{
  return s->error || s->canceled;
}

static void
seen_clear (Seen * s)
{
  gst_clear_message (&s->error);
}

/* --- item 1: a live camera shared through a tee -------------------------- */

/* The pipeline of issue 11: the clip's sink must not wait for a preroll
 * (the output is live: live mode, which a live reference implies, sends
 * a placeholder from PLAYING) or the camera's other branch blocks in preroll,
 * the reference starves and nothing ever plays. Once the reference has
 * taken reference-duration, the camera's other branch must keep running:
 * the reference pad keeps taking and dropping data. */
static void
test_tee_live_camera (void)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g engine=preview "
      "cache-dir=\"%s/cache\" duration=2 reference-duration=2 "
      "prompt=\"Video 1\" ! fakesink name=clip "
      "videotestsrc is-live=true pattern=ball ! "
      "video/x-raw,width=640,height=360 ! tee name=t ! queue ! g.video_0 "
      "t. ! queue ! fakesink name=program sync=true", base);
  GstElement *pipeline = wr2v_test_parse (desc);
  Count *clip = count_on (pipeline, "clip");
  Count *program = count_on (pipeline, "program");
  Seen seen = { 0, };
  gint before;

  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  g_assert_true (wait_for (pipeline, &seen, TIMEOUT, done_result_playing,
          NULL));
  assert_no_error (&seen);

  /* the program branch goes on after reference-duration, and the clip
   * reaches its sink */
  before = g_atomic_int_get (&program->buffers);
  wait_for (pipeline, &seen, 2 * GST_SECOND, done_end, NULL);
  assert_no_error (&seen);
  g_assert_false (seen.eos);
  g_assert_cmpint (g_atomic_int_get (&program->buffers), >, before + 20);
  g_assert_cmpint (g_atomic_int_get (&clip->buffers), >, 0);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  seen_clear (&seen);
  wr2v_test_rm_rf (base);
}

/* The output is live when asked (is-live), even with references that are
 * not: NO_PREROLL at READY->PAUSED, and the latency query says live. */
static void
test_is_live_property (void)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g engine=preview "
      "cache-dir=\"%s/cache\" duration=1 is-live=true prompt=\"Video 1\" "
      "! fakesink name=clip videotestsrc num-buffers=5 ! "
      "video/x-raw,width=64,height=64 ! g.video_0", base);
  GstElement *pipeline = wr2v_test_parse (desc);
  GstElement *g = gst_bin_get_by_name (GST_BIN (pipeline), "g");
  GstPad *src = gst_element_get_static_pad (g, "src");
  GstQuery *q = gst_query_new_latency ();
  gboolean live = FALSE;
  Seen seen = { 0, };

  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PAUSED), ==,
      GST_STATE_CHANGE_NO_PREROLL);
  g_assert_true (gst_pad_query (src, q));
  gst_query_parse_latency (q, &live, NULL, NULL);
  g_assert_true (live);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  g_assert_true (wait_for (pipeline, &seen, TIMEOUT, done_end, NULL));
  assert_no_error (&seen);

  gst_query_unref (q);
  gst_object_unref (src);
  gst_object_unref (g);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  seen_clear (&seen);
  wr2v_test_rm_rf (base);
}

/* A live reference beside another one: the output is live (live mode);
 * the element then has two sink pads, which
 * gst_pad_create_stream_id() refuses with a critical (fatal here). */
static void
test_live_reference_beside_another (void)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g engine=preview "
      "cache-dir=\"%s/cache\" duration=1 reference-duration=1 "
      "prompt=\"Video 1 and Image 2\" ! fakesink name=clip "
      "videotestsrc num-buffers=5 ! video/x-raw,width=64,height=64 ! g.video_0 "
      "videotestsrc is-live=true ! video/x-raw,width=64,height=64 ! g.image_0",
      base);
  GstElement *pipeline = wr2v_test_parse (desc);
  Seen seen = { 0, };

  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PAUSED), ==,
      GST_STATE_CHANGE_NO_PREROLL);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  g_assert_true (wait_for (pipeline, &seen, TIMEOUT, done_end, NULL));
  assert_no_error (&seen);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  seen_clear (&seen);
  wr2v_test_rm_rf (base);
}

/* --- item 2: EOS during a job ------------------------------------------- */

/* EOS sent to the pipeline while the job runs: send_event returns TRUE,
 * the job is cancelled (progress CANCELED), no error, and EOS reaches the
 * end, so that a muxer finalises its file. @when: "collecting" (a live
 * reference still arriving) or "generating" (the engine renders). */
static void
test_eos_mid_job (gconstpointer when)
{
  gboolean collecting = g_str_equal (when, "collecting");
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *out = g_build_filename (base, "pip.mp4", NULL);
  /* the picture-in-picture recipe: a live feed composited with the clip,
   * recorded to MP4 */
  g_autofree gchar *desc = g_strdup_printf ("compositor name=mix "
      "latency=100000000 sink_1::xpos=200 ! video/x-raw,width=320,height=240,"
      "framerate=30/1 ! videoconvert ! x264enc speed-preset=ultrafast "
      "tune=zerolatency ! mp4mux ! filesink location=\"%s\" "
      "videotestsrc is-live=true ! video/x-raw,width=320,height=240,"
      "framerate=30/1 ! mix.sink_0 "
      "wanr2v name=g engine=preview cache-dir=\"%s/cache\" duration=%d "
      "reference-duration=%d prompt=\"Video 1\" ! videoscale ! "
      "video/x-raw,width=96,height=54 ! mix.sink_1 "
      "videotestsrc is-live=true pattern=ball ! video/x-raw,width=160,"
      "height=120,framerate=30/1 ! g.video_0", out, base,
      collecting ? 2 : 15, collecting ? 30 : 1);
  GstElement *pipeline = wr2v_test_parse (desc);
  Seen seen = { 0, };
  g_autofree gchar *check = NULL;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  if (collecting) {
    wait_for (pipeline, &seen, 2 * GST_SECOND, done_end, NULL);
  } else {
    GstBus *bus = gst_element_get_bus (pipeline);
    GstMessage *m;

    /* the engine renders once the reference is complete */
    while ((m = gst_bus_timed_pop_filtered (bus, WR2V_TEST_TIME (TIMEOUT),
                GST_MESSAGE_PROGRESS | GST_MESSAGE_ERROR))) {
      g_autofree gchar *code = NULL;
      gboolean go = GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR;

      if (!go)
        gst_message_parse_progress (m, NULL, &code, NULL);
      go |= g_strcmp0 (code, "generating") == 0;
      seen_take (&seen, pipeline, m);
      gst_message_unref (m);
      if (go)
        break;
    }
    gst_object_unref (bus);
  }
  assert_no_error (&seen);
  g_assert_false (seen.result);

  g_assert_true (gst_element_send_event (pipeline, gst_event_new_eos ()));
  g_assert_true (wait_for (pipeline, &seen, TIMEOUT, done_end, NULL));
  assert_no_error (&seen);
  g_assert_true (seen.eos);
  g_assert_false (seen.result);
  /* the job thread says CANCELED when it has stopped, which may come
   * after the EOS (slow builds) */
  if (!collecting)
    g_assert_true (wait_for (pipeline, &seen, 10 * GST_SECOND,
            done_canceled, NULL));
  assert_no_error (&seen);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);

  /* a playable MP4: demuxed and decoded to its end */
  check = g_strdup_printf ("filesrc location=\"%s\" ! qtdemux ! "
      "h264parse ! avdec_h264 ! fakesink", out);
  wr2v_test_run_pipeline (check);
  seen_clear (&seen);
  wr2v_test_rm_rf (base);
}

/* EOS on a plain pipeline before any frame: EOS downstream, no error;
 * send_event returns TRUE (GstValidate's eos action). */
static void
test_eos_plain (void)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g engine=preview "
      "cache-dir=\"%s/cache\" duration=1 reference-duration=30 "
      "prompt=\"Video 1\" ! fakesink videotestsrc is-live=true ! "
      "video/x-raw,width=64,height=64 ! g.video_0", base);
  GstElement *pipeline = wr2v_test_parse (desc);
  Seen seen = { 0, };

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  wait_for (pipeline, &seen, GST_SECOND, done_end, NULL);
  g_assert_true (gst_element_send_event (pipeline, gst_event_new_eos ()));
  g_assert_true (wait_for (pipeline, &seen, 10 * GST_SECOND, done_end, NULL));
  assert_no_error (&seen);
  g_assert_false (seen.result);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  seen_clear (&seen);
  wr2v_test_rm_rf (base);
}

/* --- item 3: dynamic pads ----------------------------------------------- */

static void
run_dynamic (const gchar * desc)
{
  GstElement *pipeline = wr2v_test_parse (desc);
  Seen seen = { 0, };

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  g_assert_true (wait_for (pipeline, &seen, TIMEOUT, done_end, NULL));
  assert_no_error (&seen);
  g_assert_true (seen.result);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  seen_clear (&seen);
}

/* gst-launch links a sometimes pad to a request pad when it appears:
 * the pad is requested after PAUSED. */
static void
test_uridecodebin_video (void)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *mkv = g_build_filename (base, "m.mkv", NULL);
  g_autofree gchar *uri = gst_filename_to_uri (mkv, NULL);
  g_autofree gchar *make = g_strdup_printf ("videotestsrc num-buffers=15 ! "
      "video/x-raw,width=160,height=120,framerate=15/1 ! x264enc "
      "speed-preset=ultrafast ! matroskamux ! filesink location=\"%s\"", mkv);
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g engine=preview "
      "cache-dir=\"%s/cache\" duration=1 prompt=\"Video 1 waves\" ! "
      "fakesink uridecodebin uri=%s ! g.video_0", base, uri);

  wr2v_test_run_pipeline (make);
  run_dynamic (desc);
  wr2v_test_rm_rf (base);
}

static void
test_decodebin_image (void)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *jpg = g_build_filename (base, "j.jpg", NULL);
  g_autofree gchar *make = g_strdup_printf ("videotestsrc num-buffers=1 ! "
      "video/x-raw,width=160,height=120 ! jpegenc ! filesink "
      "location=\"%s\"", jpg);
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g engine=preview "
      "cache-dir=\"%s/cache\" duration=1 prompt=\"Image 1 spins\" ! "
      "fakesink filesrc location=\"%s\" ! decodebin ! g.image_0", base, jpg);

  wr2v_test_run_pipeline (make);
  run_dynamic (desc);
  wr2v_test_rm_rf (base);
}

/* What a Python application does: link the reference pad in "pad-added",
 * requested there (or up front, when the element already has one). */
static void
on_pad_added (GstElement * decodebin, GstPad * pad, GstElement * wanr2v)
{
  GstPad *ref = gst_element_get_static_pad (wanr2v, "video_0");

  if (!ref)
    ref = gst_element_request_pad_simple (wanr2v, "video_%u");
  g_assert_nonnull (ref);
  g_assert_cmpint (gst_pad_link (pad, ref), ==, GST_PAD_LINK_OK);
  gst_object_unref (ref);
}

static void
test_pad_added_link (gconstpointer up_front)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *mkv = g_build_filename (base, "m.mkv", NULL);
  g_autofree gchar *make = g_strdup_printf ("videotestsrc num-buffers=15 ! "
      "video/x-raw,width=160,height=120,framerate=15/1 ! x264enc "
      "speed-preset=ultrafast ! matroskamux ! filesink location=\"%s\"", mkv);
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g engine=preview "
      "cache-dir=\"%s/cache\" duration=1 prompt=\"Video 1 waves\" ! "
      "fakesink filesrc location=\"%s\" ! decodebin name=d", base, mkv);
  GstElement *pipeline;
  GstElement *d, *g;
  Seen seen = { 0, };

  wr2v_test_run_pipeline (make);
  pipeline = wr2v_test_parse (desc);
  d = gst_bin_get_by_name (GST_BIN (pipeline), "d");
  g = gst_bin_get_by_name (GST_BIN (pipeline), "g");
  if (GPOINTER_TO_INT (up_front))
    gst_object_unref (gst_element_request_pad_simple (g, "video_%u"));
  g_signal_connect (d, "pad-added", G_CALLBACK (on_pad_added), g);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  g_assert_true (wait_for (pipeline, &seen, TIMEOUT, done_end, NULL));
  assert_no_error (&seen);
  g_assert_true (seen.result);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (d);
  gst_object_unref (g);
  gst_object_unref (pipeline);
  seen_clear (&seen);
  wr2v_test_rm_rf (base);
}

int
main (int argc, char **argv)
{
  gchar tmpl[] = "/tmp/test-live-tmpdir-XXXXXX";
  int ret;

  private_tmp = wr2v_test_private_tmp (tmpl);

  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);

  g_test_add_func ("/live/tee-camera", test_tee_live_camera);
  g_test_add_func ("/live/is-live-property", test_is_live_property);
  g_test_add_func ("/live/reference-beside-another",
      test_live_reference_beside_another);
  g_test_add_data_func ("/eos/mid-job/collecting", "collecting",
      test_eos_mid_job);
  g_test_add_data_func ("/eos/mid-job/generating", "generating",
      test_eos_mid_job);
  g_test_add_func ("/eos/plain", test_eos_plain);
  g_test_add_func ("/dynamic/uridecodebin-video", test_uridecodebin_video);
  g_test_add_func ("/dynamic/decodebin-image", test_decodebin_image);
  g_test_add_data_func ("/dynamic/pad-added-link", GINT_TO_POINTER (FALSE),
      test_pad_added_link);
  g_test_add_data_func ("/dynamic/pad-requested-up-front",
      GINT_TO_POINTER (TRUE), test_pad_added_link);

  ret = g_test_run ();
  wr2v_test_rm_rf (private_tmp);
  return ret;
}
