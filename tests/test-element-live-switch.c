/* wanr2v live=true, no dead air (issue 14, first part): a live pipeline
 * against the WaveSpeed fake whose job takes 20 s produces frames from
 * the start (a placeholder), switches to the clip with no timestamp gap
 * and no dropped or repeated frame on both src pads (checked from the
 * buffers' timestamps), and keeps running, the placeholder on air, when
 * the job fails (a WARNING with the error's details, no ERROR).
 *
 * Timing is checked from timestamps, not from the wall clock, but for
 * one loose bound on the first frame. */
#include <string.h>
#include <gst/gst.h>
#include <glib/gstdio.h>
#include "wr2v-fake-server.h"
#include "wr2v-test-time.h"
#include "wr2v-test-util.h"

#define KEY "wr2v-live-switch-KEY-51d0"
#define CLIP_FRAMES 30          /* 1 s at 30 fps */
#define JOB_SECONDS "20"

static gchar *media_dir;
static gchar *clip_path;

/* --- what the src pads output -------------------------------------------- */

typedef struct
{
  GMutex lock;
  GArray *pts, *dur;            /* GstClockTime each */
  GArray *loud;                 /* gboolean each: not all zero (audio) */
  gboolean sound;               /* an audio pad: loud is measured */
  gboolean eos;
  gint64 first_at;              /* monotonic, 0 before */
} Track;

static GstPadProbeReturn
record (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Track *t = user_data;

  g_mutex_lock (&t->lock);
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
    GstClockTime pts = GST_BUFFER_PTS (buf), dur = GST_BUFFER_DURATION (buf);

    gboolean loud = FALSE;

    if (!t->first_at)
      t->first_at = g_get_monotonic_time ();
    g_array_append_val (t->pts, pts);
    g_array_append_val (t->dur, dur);
    if (t->sound) {
      GstMapInfo map;

      gst_buffer_map (buf, &map, GST_MAP_READ);
      for (gsize i = 0; i < map.size && !loud; i++)
        loud = map.data[i] != 0;
      gst_buffer_unmap (buf, &map);
    }
    g_array_append_val (t->loud, loud);
  } else if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS) {
    t->eos = TRUE;
  }
  g_mutex_unlock (&t->lock);
  return GST_PAD_PROBE_OK;
}

static Track *
track_pad (GstElement * pipeline, const gchar * pad_name)
{
  GstElement *g = gst_bin_get_by_name (GST_BIN (pipeline), "g");
  GstPad *pad = gst_element_get_static_pad (g, pad_name);
  Track *t = g_new0 (Track, 1);

  g_mutex_init (&t->lock);
  t->pts = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  t->dur = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  t->loud = g_array_new (FALSE, FALSE, sizeof (gboolean));
  t->sound = g_str_equal (pad_name, "audio");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, record, t, NULL);
  gst_object_unref (pad);
  gst_object_unref (g);
  return t;
}

static void
track_free (Track * t)
{
  g_array_unref (t->pts);
  g_array_unref (t->dur);
  g_array_unref (t->loud);
  g_mutex_clear (&t->lock);
  g_free (t);
}

static guint
track_len (Track * t)
{
  guint n;

  g_mutex_lock (&t->lock);
  n = t->pts->len;
  g_mutex_unlock (&t->lock);
  return n;
}

#define PTS(t, i) g_array_index ((t)->pts, GstClockTime, i)
#define DUR(t, i) g_array_index ((t)->dur, GstClockTime, i)
#define LOUD(t, i) g_array_index ((t)->loud, gboolean, i)

/* How many audio buffers before running time @before are not silence. */
static guint
loud_before (Track * t, GstClockTime before)
{
  guint n = 0;

  g_mutex_lock (&t->lock);
  for (guint i = 0; i < t->pts->len && PTS (t, i) < before; i++)
    n += LOUD (t, i);
  g_mutex_unlock (&t->lock);
  return n;
}

/* Every buffer starts where the one before ended: no gap, no overlap. */
static void
assert_continuous (Track * t, const gchar * what)
{
  g_mutex_lock (&t->lock);
  g_assert_cmpuint (t->pts->len, >, 1);
  for (guint i = 1; i < t->pts->len; i++) {
    if (PTS (t, i) != PTS (t, i - 1) + DUR (t, i - 1))
      g_error ("%s: buffer %u at %" GST_TIME_FORMAT ", the one before ends "
          "at %" GST_TIME_FORMAT, what, i, GST_TIME_ARGS (PTS (t, i)),
          GST_TIME_ARGS (PTS (t, i - 1) + DUR (t, i - 1)));
  }
  g_mutex_unlock (&t->lock);
}

/* --- the run ------------------------------------------------------------- */

typedef struct
{
  GstClockTime switched;        /* wanr2v/switched's running-time */
  GstMessage *warning, *error;
  gboolean eos;
} Seen;

static void
seen_take (Seen * s, GstMessage * m)
{
  if (gst_message_has_name (m, "wanr2v/switched"))
    g_assert_true (gst_structure_get_uint64 (gst_message_get_structure (m),
            "running-time", &s->switched));
  if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_WARNING && !s->warning)
    s->warning = gst_message_ref (m);
  if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR && !s->error)
    s->error = gst_message_ref (m);
  s->eos |= GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS;
}

/* Pops messages until @done (or @seconds, scaled for slow builds). */
static gboolean
run_until (GstElement * pipeline, Seen * s, gdouble seconds,
    gboolean (*done) (Seen * s, gpointer data), gpointer data)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  gint64 deadline = g_get_monotonic_time () +
      WR2V_TEST_TIME ((gint64) (seconds * G_USEC_PER_SEC));
  gboolean ok;

  while (!(ok = done (s, data)) && !s->error) {
    GstMessage *m = gst_bus_timed_pop (bus, 100 * GST_MSECOND);

    if (m) {
      seen_take (s, m);
      gst_message_unref (m);
    }
    if (g_get_monotonic_time () > deadline)
      break;
  }
  gst_object_unref (bus);
  return ok;
}

static void
assert_no_error (Seen * s)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *dbg = NULL;

  if (!s->error)
    return;
  gst_message_parse_error (s->error, &err, &dbg);
  g_error ("unexpected error from %s: %s (%s)", GST_MESSAGE_SRC_NAME
      (s->error), err->message, dbg);
}

static gboolean
done_ended (Seen * s, gpointer data)
{
  Track **tracks = data;
  gboolean ended;

  g_mutex_lock (&tracks[0]->lock);
  g_mutex_lock (&tracks[1]->lock);
  ended = tracks[0]->eos && tracks[1]->eos;
  g_mutex_unlock (&tracks[1]->lock);
  g_mutex_unlock (&tracks[0]->lock);
  return ended;
}

static gboolean
done_warning (Seen * s, gpointer data)
{
  return s->warning != NULL;
}

static gboolean
done_buffers (Seen * s, gpointer data)
{
  Track *t = ((gpointer *) data)[0];

  return track_len (t) >= GPOINTER_TO_UINT (((gpointer *) data)[1]);
}

/* Stops and frees what a case made (any of it may be NULL but the
 * pipeline), and removes its directory. */
static void
end_case (GstElement * pipeline, Seen * seen, Track * video, Track * audio,
    Wr2vFakeServer * server, const gchar * dir)
{
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  gst_clear_message (&seen->warning);
  if (video)
    track_free (video);
  if (audio)
    track_free (audio);
  if (server)
    wr2v_fake_server_stop (server);
  wr2v_test_rm_rf (dir);
}

/* The pipeline: wanr2v live=true keyed over a live feed with
 * compositor, to a sink that syncs; its audio to another. */
static GstElement *
live_pipeline (Wr2vFakeServer * server, const gchar * dir,
    const gchar * placeholder)
{
  g_autofree gchar *desc = g_strdup_printf ("compositor name=mix "
      "sink_1::xpos=160 sink_1::ypos=120 ! video/x-raw,width=320,height=240,"
      "framerate=30/1 ! fakesink name=out sync=true "
      "videotestsrc is-live=true ! video/x-raw,width=320,height=240,"
      "framerate=30/1 ! mix.sink_0 "
      "wanr2v name=g live=true engine=wavespeed api-url=%s "
      "poll-interval=100 cache-dir=\"%s/cache\" duration=5 "
      "prompt=\"Video 1 waves\" %s ! "
      "video/x-raw,width=160,height=120 ! queue ! mix.sink_1 "
      "g.audio ! queue ! fakesink name=aout sync=true "
      "videotestsrc num-buffers=10 ! video/x-raw,width=160,height=120 ! "
      "g.video_0", server->base, dir, placeholder);

  GError *err = NULL;
  GstElement *p = gst_parse_launch_full (desc, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, &err);

  g_assert_no_error (err);
  return p;
}

/* Placeholder from the first second, the switch after the 20 s job with
 * no gap and every clip frame once, the audio continuous through it. */
static void
test_switch (void)
{
  g_autofree gchar *dir = g_build_filename (media_dir, "switch", NULL);
  Wr2vFakeServer *server = wr2v_fake_server_start ("fake-wavespeed.py",
      "--api-key", KEY, "--result-mp4", clip_path, "--job-seconds",
      JOB_SECONDS, NULL);
  /* the default placeholder: the preview engine's animatic */
  GstElement *pipeline = live_pipeline (server, dir, "");
  Track *video = track_pad (pipeline, "src");
  Track *audio = track_pad (pipeline, "audio");
  Track *tracks[2] = { video, audio };
  Seen seen = { GST_CLOCK_TIME_NONE, };
  gint64 playing_at;
  guint at_switch = 0, clip_frames = 0;
  GstClockTime audio_end;

  playing_at = g_get_monotonic_time ();
  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  g_assert_true (run_until (pipeline, &seen, 60, done_ended, tracks));
  assert_no_error (&seen);

  /* frames from the start: a loose bound on a loaded machine; the pts
   * (running time) of the first frame says the same */
  g_assert_cmpint (video->first_at, >, 0);
  g_assert_cmpint (video->first_at - playing_at, <,
      WR2V_TEST_TIME (3 * G_USEC_PER_SEC));
  g_assert_cmpuint (PTS (video, 0), <, 3 * GST_SECOND);

  g_test_message ("first frame at %" GST_TIME_FORMAT ", switch at %"
      GST_TIME_FORMAT ", %u frames, %u audio buffers",
      GST_TIME_ARGS (PTS (video, 0)), GST_TIME_ARGS (seen.switched),
      video->pts->len, audio->pts->len);
  /* the switch came after the job, on a frame of the output */
  g_assert_true (GST_CLOCK_TIME_IS_VALID (seen.switched));
  g_assert_cmpuint (seen.switched, >=, 15 * GST_SECOND);
  assert_continuous (video, "video");
  assert_continuous (audio, "audio");
  for (guint i = 0; i < video->pts->len; i++) {
    if (PTS (video, i) == seen.switched)
      at_switch++;
    if (PTS (video, i) >= seen.switched)
      clip_frames++;
  }
  g_assert_cmpuint (at_switch, ==, 1);
  /* each of the clip's frames once: none dropped, none repeated */
  g_assert_cmpuint (clip_frames, ==, CLIP_FRAMES);
  /* placeholder frames all along before it */
  g_assert_cmpuint (video->pts->len - clip_frames, >=,
      (seen.switched - PTS (video, 0)) / (GST_SECOND / 30));

  /* the audio runs from the start to the clip's soundtrack's end; before
   * the switch, the animatic's sound (its bed) once it is rendered: more
   * than 5 s of it in 20 ms chunks */
  g_assert_cmpuint (PTS (audio, 0), <, 3 * GST_SECOND);
  g_assert_cmpuint (loud_before (audio, seen.switched), >, 250);
  audio_end = PTS (audio, audio->pts->len - 1) +
      DUR (audio, audio->pts->len - 1);
  g_assert_cmpuint (audio_end, >=, seen.switched + 900 * GST_MSECOND);
  g_assert_cmpuint (audio_end, <=, seen.switched + 1100 * GST_MSECOND);
  g_assert_cmpint (wr2v_fake_server_count (server, "submit"), ==, 1);

  end_case (pipeline, &seen, video, audio, server, dir);
}

static gboolean
done_switched (Seen * s, gpointer data)
{
  return GST_CLOCK_TIME_IS_VALID (s->switched);
}

static gboolean
done_error (Seen * s, gpointer data)
{
  return s->error != NULL;
}

/* The failed job's message: the provider's code in its text, the
 * element's details structure. */
static void
assert_job_failure (GstMessage * m)
{
  const GstStructure *details = NULL;
  g_autoptr (GError) err = NULL;
  gint code = 0;

  if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
    gst_message_parse_error (m, &err, NULL);
    gst_message_parse_error_details (m, &details);
  } else {
    gst_message_parse_warning (m, &err, NULL);
    gst_message_parse_warning_details (m, &details);
  }
  g_assert_nonnull (strstr (err->message, "1200"));
  g_assert_nonnull (details);
  g_assert_true (gst_structure_get_int (details, "wanr2v-error-code", &code));
}

/* A job that fails, with an image on air. live-error=keep-on-air: a
 * WARNING with the error's details, no ERROR, and the placeholder stays
 * on air, on both pads, with no gap. live-error=error: the ERROR. */
static void
test_job_fails (gconstpointer mode)
{
  gboolean keep = g_str_equal (mode, "keep-on-air");
  g_autofree gchar *dir = g_build_filename (media_dir, mode, NULL);
  g_autofree gchar *image = g_build_filename (dir, "on-air.png", NULL);
  g_autofree gchar *make = g_strdup_printf ("videotestsrc num-buffers=1 "
      "pattern=smpte ! video/x-raw,width=64,height=48 ! pngenc ! "
      "filesink location=\"%s\"", image);
  g_autofree gchar *settings = g_strdup_printf ("placeholder=image "
      "placeholder-location=\"%s\" live-error=%s", image,
      (const gchar *) mode);
  Wr2vFakeServer *server = wr2v_fake_server_start ("fake-wavespeed.py",
      "--api-key", KEY, "--result-mp4", clip_path, "--job-seconds", "2",
      NULL);
  GstElement *pipeline;
  Track *video, *audio;
  Seen seen = { GST_CLOCK_TIME_NONE, };
  gpointer wait[2];

  wr2v_fake_server_control (server, "{\"fault\": \"job-fail\", "
      "\"code\": 1200}");
  g_mkdir_with_parents (dir, 0700);
  g_assert_true (wr2v_test_run_to_eos (make, 30 * GST_SECOND));
  pipeline = live_pipeline (server, dir, settings);
  video = track_pad (pipeline, "src");
  audio = track_pad (pipeline, "audio");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  if (!keep) {
    g_assert_true (run_until (pipeline, &seen, 30, done_error, NULL));
    assert_job_failure (seen.error);
    gst_clear_message (&seen.error);
    end_case (pipeline, &seen, video, audio, server, dir);
    return;
  }
  g_assert_true (run_until (pipeline, &seen, 30, done_warning, NULL));
  assert_no_error (&seen);
  assert_job_failure (seen.warning);

  /* two more seconds on air */
  wait[0] = video;
  wait[1] = GUINT_TO_POINTER (track_len (video) + 60);
  g_assert_true (run_until (pipeline, &seen, 20, done_buffers, wait));
  assert_no_error (&seen);
  g_assert_false (GST_CLOCK_TIME_IS_VALID (seen.switched));
  g_assert_false (video->eos);
  assert_continuous (video, "video");
  assert_continuous (audio, "audio");

  end_case (pipeline, &seen, video, audio, server, dir);
}

/* after-clip=hold and loop on the preview engine: the output goes on
 * past the clip's end with no gap, and no EOS. */
static void
test_after_clip (gconstpointer mode)
{
  g_autofree gchar *dir = g_build_filename (media_dir, mode, NULL);
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g live=true "
      "engine=preview cache-dir=\"%s/cache\" duration=1 after-clip=%s "
      "prompt=\"Video 1 waves\" ! video/x-raw,width=160,height=90 ! "
      "fakesink sync=true g.audio ! fakesink sync=true "
      "videotestsrc num-buffers=10 ! video/x-raw,width=160,height=120 ! "
      "g.video_0", dir, (const gchar *) mode);
  GError *err = NULL;
  GstElement *pipeline = gst_parse_launch (desc, &err);
  Track *video, *audio;
  Seen seen = { GST_CLOCK_TIME_NONE, };
  gpointer wait[2];
  guint after = 0;

  g_assert_no_error (err);
  video = track_pad (pipeline, "src");
  audio = track_pad (pipeline, "audio");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  /* the clip (1 s) and two seconds past it */
  g_assert_true (run_until (pipeline, &seen, 60, done_switched, NULL));
  assert_no_error (&seen);
  wait[0] = video;
  wait[1] = GUINT_TO_POINTER (track_len (video) + 90);
  g_assert_true (run_until (pipeline, &seen, 30, done_buffers, wait));
  assert_no_error (&seen);
  g_assert_false (video->eos);
  assert_continuous (video, "video");
  assert_continuous (audio, "audio");
  for (guint i = 0; i < video->pts->len; i++)
    after += PTS (video, i) >= seen.switched + GST_SECOND;
  g_assert_cmpuint (after, >=, 30);

  end_case (pipeline, &seen, video, audio, NULL, dir);
}

static gboolean
done_eos (Seen * s, gpointer data)
{
  return s->eos;
}

/* EOS sent while the placeholder is on air (the job still running):
 * both pads end, the pipeline posts EOS, no error. A slate's sound is
 * silence. */
static void
test_eos_on_air (void)
{
  g_autofree gchar *dir = g_build_filename (media_dir, "eos", NULL);
  Wr2vFakeServer *server = wr2v_fake_server_start ("fake-wavespeed.py",
      "--api-key", KEY, "--result-mp4", clip_path, "--job-seconds", "60",
      NULL);
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g live=true "
      "engine=wavespeed api-url=%s poll-interval=100 cache-dir=\"%s/cache\" "
      "duration=5 placeholder=slate prompt=\"Video 1 waves\" ! "
      "video/x-raw,width=160,height=90 ! fakesink sync=true g.audio ! "
      "fakesink sync=true videotestsrc num-buffers=10 ! "
      "video/x-raw,width=160,height=120 ! g.video_0", server->base, dir);
  GError *err = NULL;
  GstElement *pipeline = gst_parse_launch (desc, &err);
  Track *video, *audio;
  Seen seen = { GST_CLOCK_TIME_NONE, };
  gpointer wait[2];

  g_assert_no_error (err);
  video = track_pad (pipeline, "src");
  audio = track_pad (pipeline, "audio");
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  wait[0] = video;
  wait[1] = GUINT_TO_POINTER (30);
  g_assert_true (run_until (pipeline, &seen, 30, done_buffers, wait));
  g_assert_true (gst_element_send_event (pipeline, gst_event_new_eos ()));
  g_assert_true (run_until (pipeline, &seen, 10, done_eos, NULL));
  assert_no_error (&seen);
  g_assert_true (video->eos);
  assert_continuous (video, "video");
  g_assert_cmpuint (track_len (audio), >, 25);
  g_assert_cmpuint (loud_before (audio, GST_CLOCK_TIME_NONE), ==, 0);

  end_case (pipeline, &seen, video, audio, server, dir);
}

/* `live` and its deprecated alias `is-live` are one setting. */
static void
test_is_live_alias (void)
{
  GstElement *g = gst_element_factory_make ("wanr2v", NULL);
  GParamSpec *old = g_object_class_find_property (G_OBJECT_GET_CLASS (g),
      "is-live");
  gboolean live = FALSE;

  g_assert_true (old->flags & G_PARAM_DEPRECATED);
  g_object_set (g, "is-live", TRUE, NULL);
  g_object_get (g, "live", &live, NULL);
  g_assert_true (live);
  g_object_set (g, "live", FALSE, NULL);
  g_object_get (g, "is-live", &live, NULL);
  g_assert_false (live);
  gst_object_unref (g);
}

int
main (int argc, char **argv)
{
  gchar tmpl[] = "/tmp/test-live-switch-XXXXXX";
  gint ret;

  /* a private TMPDIR (the element's work files), set before GLib reads
   * it; the fake's key */
  media_dir = g_mkdtemp (tmpl);
  g_assert_nonnull (media_dir);
  g_setenv ("TMPDIR", media_dir, TRUE);
  g_unsetenv ("DASHSCOPE_API_KEY");
  g_setenv ("WAVESPEED_API_KEY", KEY, TRUE);
  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);
  clip_path = g_build_filename (media_dir, "clip.mp4", NULL);
  if (!wr2v_test_make_clip_with_sound (clip_path, CLIP_FRAMES, 320, 240, 30,
          TRUE))
    g_error ("cannot make the test clip (x264enc, avenc_aac?)");

  g_test_add_func ("/live-switch/alias", test_is_live_alias);
  g_test_add_func ("/live-switch/switch", test_switch);
  g_test_add_data_func ("/live-switch/job-fails/keep-on-air", "keep-on-air",
      test_job_fails);
  g_test_add_data_func ("/live-switch/job-fails/error", "error",
      test_job_fails);
  g_test_add_func ("/live-switch/eos-on-air", test_eos_on_air);
  g_test_add_data_func ("/live-switch/after-clip/hold", "hold",
      test_after_clip);
  g_test_add_data_func ("/live-switch/after-clip/loop", "loop",
      test_after_clip);
  ret = g_test_run ();
  wr2v_test_rm_rf (media_dir);
  g_free (clip_path);
  return ret;
}
