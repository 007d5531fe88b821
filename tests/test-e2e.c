/* End-to-end tests: real pipelines through wanr2v and the preview engine,
 * decoding the output and checking what a user would see: frame count,
 * size, timestamps, EOS, queries, the references visible in the frames, an
 * MP4 re-encode, compositor, two elements, a live reference, a seek.
 *
 * Every test has its own cache-dir and removes it. The process has a
 * private TMPDIR, where the element's work dirs must not outlive a run. */
#include <string.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <gst/pbutils/pbutils.h>
#include <gst/video/video.h>

#include "wr2v-test-time.h"
#include "wr2v-test-util.h"

#define TIMEOUT (60 * GST_SECOND)
#define FRAME (GST_SECOND / 30)

#define RED 0xffff0000u
#define GREEN 0xff00ff00u
#define BLUE 0xff0000ffu

/* --- helpers ------------------------------------------------------------- */

static gchar *
make_test_dir (void)
{
  GError *err = NULL;
  gchar *dir = g_dir_make_tmp ("test-e2e-XXXXXX", &err);

  g_assert_no_error (err);
  return dir;
}

/* Removes the per-test dir and checks the element left no work dir. */
static void
finish_test_dir (const gchar * base)
{
  GDir *d = g_dir_open (g_get_tmp_dir (), 0, NULL);
  const gchar *name;

  wr2v_test_rm_rf (base);
  while (d && (name = g_dir_read_name (d)))
    if (g_str_has_prefix (name, "wanr2v-"))
      g_error ("left behind: %s/%s", g_get_tmp_dir (), name);
  if (d)
    g_dir_close (d);
}

static gchar *
cache_of (const gchar * base)
{
  return g_build_filename (base, "cache", NULL);
}

static GstElement *
parse (const gchar * desc)
{
  GError *err = NULL;
  GstElement *p = gst_parse_launch_full (desc, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, &err);

  g_assert_no_error (err);
  g_assert_nonnull (p);
  return p;
}

/* The three references of the issue: solid red and green videos (320x240,
 * 30 frames) on video_0 / video_1, a solid blue PNG on image_0. */
static gchar *
three_refs (const gchar * el)
{
  return g_strdup_printf ("videotestsrc num-buffers=30 pattern=solid-color "
      "foreground-color=0x%08x ! video/x-raw,width=320,height=240,"
      "framerate=30/1 ! %s.video_0 "
      "videotestsrc num-buffers=30 pattern=solid-color "
      "foreground-color=0x%08x ! video/x-raw,width=320,height=240,"
      "framerate=30/1 ! %s.video_1 "
      "videotestsrc num-buffers=1 pattern=solid-color "
      "foreground-color=0x%08x ! video/x-raw,width=320,height=240 ! pngenc ! "
      "%s.image_0", RED, el, GREEN, el, BLUE, el);
}

static gchar *
one_ref (const gchar * el, const gchar * pad, guint32 color)
{
  return g_strdup_printf ("videotestsrc num-buffers=15 pattern=solid-color "
      "foreground-color=0x%08x ! video/x-raw,width=320,height=240,"
      "framerate=30/1 ! %s.%s", color, el, pad);
}

/* Pops until EOS or ERROR; element messages named @collect (may be NULL)
 * are added to @found. Fails on an error or a timeout. */
static void
wait_eos (GstElement * pipeline, GstClockTime timeout, const gchar * collect,
    GPtrArray * found)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  /* an upper bound: scaled for sanitizer and valgrind runs */
  gint64 deadline = g_get_monotonic_time () +
      WR2V_TEST_TIME (timeout / GST_USECOND);

  for (;;) {
    gint64 left = deadline - g_get_monotonic_time ();
    GstMessage *m = left > 0 ? gst_bus_timed_pop_filtered (bus,
        left * GST_USECOND, GST_MESSAGE_EOS | GST_MESSAGE_ERROR |
        GST_MESSAGE_ELEMENT) : NULL;

    if (!m)
      g_error ("no EOS within %" GST_TIME_FORMAT, GST_TIME_ARGS (timeout));
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
      g_autoptr (GError) err = NULL;
      g_autofree gchar *dbg = NULL;

      gst_message_parse_error (m, &err, &dbg);
      g_error ("error from %s: %s (%s)", GST_MESSAGE_SRC_NAME (m),
          err->message, dbg);
    }
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS) {
      gst_message_unref (m);
      break;
    }
    if (collect && found && gst_message_has_name (m, collect))
      g_ptr_array_add (found,
          gst_structure_copy (gst_message_get_structure (m)));
    gst_message_unref (m);
  }
  gst_object_unref (bus);
}

static void
assert_near (GstClockTime value, GstClockTime expected, GstClockTime slack)
{
  if (!GST_CLOCK_TIME_IS_VALID (value) || value + slack < expected ||
      value > expected + slack)
    g_error ("%" GST_TIME_FORMAT " is not %" GST_TIME_FORMAT " +- %"
        GST_TIME_FORMAT, GST_TIME_ARGS (value), GST_TIME_ARGS (expected),
        GST_TIME_ARGS (slack));
}

/* --- pixels -------------------------------------------------------------- */

typedef struct
{
  gdouble red, green, blue;     /* fractions of the frame */
} Coverage;

/* Share of pixels near pure red, green and blue, over every 4th pixel of
 * every 4th row. */
static Coverage
measure (GstSample * sample)
{
  GstVideoInfo info;
  GstVideoFrame frame;
  Coverage c = { 0, };
  guint n = 0, r = 0, g = 0, b = 0;

  g_assert_true (gst_video_info_from_caps (&info,
          gst_sample_get_caps (sample)));
  g_assert_cmpint (GST_VIDEO_INFO_FORMAT (&info), ==, GST_VIDEO_FORMAT_RGB);
  g_assert_true (gst_video_frame_map (&frame, &info,
          gst_sample_get_buffer (sample), GST_MAP_READ));
  for (gint y = 0; y < GST_VIDEO_INFO_HEIGHT (&info); y += 4) {
    const guint8 *row = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame,
        0) + y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);

    for (gint x = 0; x < GST_VIDEO_INFO_WIDTH (&info); x += 4) {
      const guint8 *p = row + 3 * x;

      n++;
      r += p[0] >= 160 && p[1] <= 90 && p[2] <= 90;
      g += p[1] >= 160 && p[0] <= 90 && p[2] <= 90;
      b += p[2] >= 160 && p[0] <= 90 && p[1] <= 90;
    }
  }
  gst_video_frame_unmap (&frame);
  c.red = (gdouble) r / n;
  c.green = (gdouble) g / n;
  c.blue = (gdouble) b / n;
  return c;
}

/* --- decoding the clip through appsink ----------------------------------- */

typedef struct
{
  const gchar *props;           /* resolution, aspect ratio, duration */
  const gchar *prompt;
  gint width, height, seconds;
  gboolean green_named;         /* Video 2 (green) is in the prompt */
} ClipCase;

static void
check_clip (gconstpointer data)
{
  const ClipCase *c = data;
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *cache = cache_of (base);
  g_autofree gchar *refs = three_refs ("g");
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g engine=preview "
      "seed=7 %s prompt=\"%s\" cache-dir=\"%s\" ! videoconvert ! "
      "video/x-raw,format=RGB ! appsink name=sink sync=false max-buffers=4 "
      "%s", c->props, c->prompt, cache, refs);
  GstElement *pipeline = parse (desc);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  const guint frames = c->seconds * 30;
  GstClockTime first_pts = GST_CLOCK_TIME_NONE;
  gint64 dur = -1, pos = -1;
  g_autoptr (GString) known = g_string_new (NULL);
  GstSample *sample;
  guint n = 0;

  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  g_assert_cmpint (gst_element_get_state (pipeline, NULL, NULL, TIMEOUT), ==,
      GST_STATE_CHANGE_SUCCESS);

  /* queries answered once PLAYING */
  g_assert_true (gst_element_query_duration (pipeline, GST_FORMAT_TIME, &dur));
  if (dur == -1)
    g_string_append (known, " the duration query answers \"unknown\";");
  else
    assert_near (dur, c->seconds * GST_SECOND, FRAME);
  g_assert_true (gst_element_query_position (pipeline, GST_FORMAT_TIME, &pos));
  g_assert_cmpint (pos, >=, 0);
  g_assert_cmpint (pos, <=, c->seconds * GST_SECOND);

  while ((sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
              30 * GST_SECOND))) {
    GstBuffer *buf = gst_sample_get_buffer (sample);
    const GstSegment *seg = gst_sample_get_segment (sample);
    GstClockTime pts = GST_BUFFER_PTS (buf);

    if (n == 0) {
      GstStructure *s = gst_caps_get_structure (gst_sample_get_caps (sample),
          0);
      gint w = 0, h = 0;

      gst_structure_get_int (s, "width", &w);
      gst_structure_get_int (s, "height", &h);
      g_assert_cmpint (w, ==, c->width);
      g_assert_cmpint (h, ==, c->height);
      first_pts = pts;
    }
    /* from 0, one frame every 1/30 s, in stream and running time */
    assert_near (gst_segment_to_stream_time (seg, GST_FORMAT_TIME, pts),
        gst_util_uint64_scale_round (n, GST_SECOND, 30), GST_MSECOND);
    assert_near (gst_segment_to_running_time (seg, GST_FORMAT_TIME, pts),
        gst_util_uint64_scale_round (n, GST_SECOND, 30), GST_MSECOND);
    assert_near (pts - first_pts, gst_util_uint64_scale_round (n, GST_SECOND,
            30), GST_MSECOND);

    if (n == 5 || n == frames / 2 || n == frames - 5) {
      Coverage cov = measure (sample);

      g_test_message ("frame %u: red %.1f%%, green %.1f%%, blue %.1f%%", n,
          cov.red * 100, cov.green * 100, cov.blue * 100);
      g_assert_cmpfloat (cov.red, >, 0.005);
      g_assert_cmpfloat (cov.blue, >, 0.005);
      if (c->green_named)
        g_assert_cmpfloat (cov.green, >, 0.005);
      else                      /* only named references are shown */
        g_assert_cmpfloat (cov.green, <, 0.0005);
    }
    gst_sample_unref (sample);
    n++;
  }
  g_assert_true (gst_app_sink_is_eos (GST_APP_SINK (sink)));
  g_assert_cmpuint (n, ==, frames);
  wait_eos (pipeline, 10 * GST_SECOND, NULL, NULL);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  finish_test_dir (base);

  /* "timestamps from 0" also for apps that read buffer PTS as they are */
  if (first_pts != 0)
    g_string_append_printf (known, " the first PTS is %" GST_TIME_FORMAT
        ", not 0;", GST_TIME_ARGS (first_pts));
  if (known->len)
    g_test_incomplete_printf ("KNOWN BUGS (lead, see the report):%s",
        known->str);
}

static const ClipCase clip_720p = { "duration=2",
  "Video 1 hands Image 3 to Video 2 in a sunny park", 1280, 720, 2, TRUE
};

/* 9:16, and only two references named: green must not show */
static const ClipCase clip_portrait = { "duration=1 aspect-ratio=9:16",
  "Video 1 holds Image 3", 720, 1280, 1, FALSE
};

static const ClipCase clip_1080p = { "duration=1 resolution=1080p",
  "Video 1 hands Image 3 to Video 2", 1920, 1080, 1, TRUE
};

/* --- re-encoded to MP4 --------------------------------------------------- */

static void
test_mp4 (void)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *cache = cache_of (base);
  g_autofree gchar *out = g_build_filename (base, "clip.mp4", NULL);
  g_autofree gchar *uri = gst_filename_to_uri (out, NULL);
  g_autofree gchar *refs = three_refs ("g");
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g engine=preview "
      "duration=2 prompt=\"Video 1 hands Image 3 to Video 2\" "
      "cache-dir=\"%s\" ! videoconvert ! x264enc speed-preset=ultrafast ! "
      "mp4mux ! filesink location=\"%s\" %s", cache, out, refs);
  GstElement *pipeline = parse (desc);
  g_autoptr (GstDiscoverer) disc = NULL;
  g_autoptr (GstDiscovererInfo) info = NULL;
  GstDiscovererVideoInfo *video;
  GList *videos;
  GstCaps *caps;
  GError *err = NULL;

  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  wait_eos (pipeline, TIMEOUT, NULL, NULL);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);

  disc = gst_discoverer_new (10 * GST_SECOND, &err);
  g_assert_no_error (err);
  info = gst_discoverer_discover_uri (disc, uri, &err);
  g_assert_no_error (err);
  g_assert_cmpint (gst_discoverer_info_get_result (info), ==,
      GST_DISCOVERER_OK);
  assert_near (gst_discoverer_info_get_duration (info), 2 * GST_SECOND, FRAME);
  videos = gst_discoverer_info_get_video_streams (info);
  g_assert_cmpuint (g_list_length (videos), ==, 1);
  video = videos->data;
  caps = gst_discoverer_stream_info_get_caps (GST_DISCOVERER_STREAM_INFO
      (video));
  g_assert_cmpstr (gst_structure_get_name (gst_caps_get_structure (caps, 0)),
      ==, "video/x-h264");
  gst_caps_unref (caps);
  g_assert_cmpuint (gst_discoverer_video_info_get_width (video), ==, 1280);
  g_assert_cmpuint (gst_discoverer_video_info_get_height (video), ==, 720);
  gst_discoverer_stream_info_list_free (videos);
  finish_test_dir (base);
}

/* --- in bigger pipelines ------------------------------------------------- */

static GstPadProbeReturn
count_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  g_atomic_int_inc ((gint *) data);
  return GST_PAD_PROBE_OK;
}

static gint *
count_on (GstElement * pipeline, const gchar * name)
{
  GstElement *el = gst_bin_get_by_name (GST_BIN (pipeline), name);
  GstPad *pad = gst_element_get_static_pad (el, "sink");
  gint *n = g_new0 (gint, 1);

  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_buffer, n, NULL);
  gst_object_unref (pad);
  gst_object_unref (el);
  return n;
}

static void
test_compositor (void)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *cache = cache_of (base);
  g_autofree gchar *ref = one_ref ("g", "video_0", RED);
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g engine=preview "
      "duration=2 prompt=\"Video 1 waves\" cache-dir=\"%s\" ! c.sink_0 "
      "compositor name=c ! video/x-raw,width=640,height=360,framerate=30/1 "
      "! fakesink name=sink sync=false "
      "videotestsrc num-buffers=60 ! video/x-raw,width=320,height=240,"
      "framerate=30/1 ! c.sink_1 %s", cache, ref);
  GstElement *pipeline = parse (desc);
  g_autofree gint *frames = count_on (pipeline, "sink");

  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  wait_eos (pipeline, TIMEOUT, NULL, NULL);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  /* both inputs last 2 s */
  g_assert_cmpint (*frames, >=, 59);
  g_assert_cmpint (*frames, <=, 61);
  finish_test_dir (base);
}

static void
test_two_elements (void)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *cache = cache_of (base);
  g_autofree gchar *ra = one_ref ("a", "video_0", RED);
  g_autofree gchar *rb = one_ref ("b", "video_0", GREEN);
  /* one store for both: two jobs in it at once */
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=a engine=preview "
      "duration=1 prompt=\"Video 1 runs\" "
      "cache-dir=\"%s\" ! fakesink name=sa sync=false "
      "wanr2v name=b engine=preview duration=1 prompt=\"Video 1 jumps\" "
      "cache-dir=\"%s\" ! fakesink name=sb sync=false %s %s",
      cache, cache, ra, rb);
  GstElement *pipeline = parse (desc);
  g_autoptr (GPtrArray) results = g_ptr_array_new_with_free_func (
      (GDestroyNotify) gst_structure_free);
  g_autofree gint *na = count_on (pipeline, "sa");
  g_autofree gint *nb = count_on (pipeline, "sb");

  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  wait_eos (pipeline, TIMEOUT, "wanr2v/result", results);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);

  g_assert_cmpint (*na, ==, 30);
  g_assert_cmpint (*nb, ==, 30);
  g_assert_cmpuint (results->len, ==, 2);
  g_assert_cmpstr (gst_structure_get_string (g_ptr_array_index (results, 0),
          "location"), !=, gst_structure_get_string (g_ptr_array_index
          (results, 1), "location"));
  finish_test_dir (base);
}

/* The timestamps of what a sink gets, appended by its streaming thread
 * and read once the pipeline has stopped. */
typedef struct
{
  GArray *pts, *dur;            /* GstClockTime each */
} Times;

static GstPadProbeReturn
record_times (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  Times *t = data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

  g_array_append_val (t->pts, GST_BUFFER_PTS (buf));
  g_array_append_val (t->dur, GST_BUFFER_DURATION (buf));
  return GST_PAD_PROBE_OK;
}

static void
times_free (Times * t)
{
  g_array_unref (t->pts);
  g_array_unref (t->dur);
  g_free (t);
}

#define PTS_AT(t, i) g_array_index ((t)->pts, GstClockTime, i)
#define DUR_AT(t, i) g_array_index ((t)->dur, GstClockTime, i)

/* A 1 s clip from a live camera's first second, to a sink that syncs;
 * @live: the live property as set ("" leaves it unset). Returns the
 * timestamps the sink got; the wanr2v/switched messages go to
 * @switched. */
static Times *
run_live_reference (const gchar * live, GPtrArray * switched)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *cache = cache_of (base);
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g engine=preview "
      "duration=1 reference-duration=1 prompt=\"Video 1 waves\" %s "
      "cache-dir=\"%s\" ! fakesink name=sink sync=true "
      "videotestsrc is-live=true pattern=ball ! video/x-raw,width=320,"
      "height=240,framerate=30/1 ! g.video_0", live, cache);
  GstElement *pipeline = parse (desc);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  GstPad *pad = gst_element_get_static_pad (sink, "sink");
  Times *t = g_new0 (Times, 1);
  gint64 t0 = g_get_monotonic_time ();

  t->pts = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  t->dur = g_array_new (FALSE, FALSE, sizeof (GstClockTime));
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, record_times, t, NULL);
  /* live either way: no preroll */
  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PAUSED), ==,
      GST_STATE_CHANGE_NO_PREROLL);
  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  /* a live source never ends: the reference-duration must end the pad */
  wait_eos (pipeline, TIMEOUT, "wanr2v/switched", switched);
  g_test_message ("EOS after %" G_GINT64_FORMAT " ms, %u frames",
      (g_get_monotonic_time () - t0) / 1000, t->pts->len);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  finish_test_dir (base);
  return t;
}

/* A live reference implies live mode: a placeholder from the start, then
 * at wanr2v/switched each of the clip's 30 frames once, timestamps
 * continuous all along, then EOS (after-clip=eos). */
static void
test_live_reference (void)
{
  g_autoptr (GPtrArray) switched =
      g_ptr_array_new_with_free_func ((GDestroyNotify) gst_structure_free);
  Times *t = run_live_reference ("", switched);
  guint64 rt = 0, frame = 0;
  guint clip = 0;

  g_assert_cmpuint (switched->len, ==, 1);
  g_assert_true (gst_structure_get_uint64 (g_ptr_array_index (switched, 0),
          "running-time", &rt));
  g_assert_true (gst_structure_get_uint64 (g_ptr_array_index (switched, 0),
          "frame", &frame));
  /* the placeholder came first, from PLAYING on (a loose bound for
   * loaded machines), for at least the reference's second */
  g_assert_cmpuint (PTS_AT (t, 0), <, 3 * GST_SECOND);
  g_assert_cmpuint (frame, <, t->pts->len);
  g_assert_cmpuint (PTS_AT (t, frame), ==, rt);
  g_assert_cmpuint (rt, >=, PTS_AT (t, 0) + GST_SECOND);
  for (guint i = 1; i < t->pts->len; i++)
    if (PTS_AT (t, i) != PTS_AT (t, i - 1) + DUR_AT (t, i - 1))
      g_error ("frame %u at %" GST_TIME_FORMAT ", the one before ends at %"
          GST_TIME_FORMAT, i, GST_TIME_ARGS (PTS_AT (t, i)),
          GST_TIME_ARGS (PTS_AT (t, i - 1) + DUR_AT (t, i - 1)));
  for (guint i = 0; i < t->pts->len; i++)
    clip += PTS_AT (t, i) >= rt;
  g_assert_cmpuint (clip, ==, 30);
  g_assert_cmpuint (t->pts->len, ==, frame + 30);
  times_free (t);
}

/* live=false: a live reference's output as before live mode, the clip
 * alone (exactly its 30 frames) and no switch. */
static void
test_live_reference_not_live_mode (void)
{
  g_autoptr (GPtrArray) switched =
      g_ptr_array_new_with_free_func ((GDestroyNotify) gst_structure_free);
  Times *t = run_live_reference ("live=false", switched);

  g_assert_cmpuint (switched->len, ==, 0);
  g_assert_cmpuint (t->pts->len, ==, 30);
  times_free (t);
}

/* A flushing seek once frames flow: the rest of the clip from 1 s. */
static void
test_flush_seek (void)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *cache = cache_of (base);
  g_autofree gchar *ref = one_ref ("g", "video_0", RED);
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g engine=preview "
      "duration=2 prompt=\"Video 1 waves\" cache-dir=\"%s\" ! videoconvert "
      "! video/x-raw,format=RGB ! appsink name=sink sync=false "
      "max-buffers=2 %s", cache, ref);
  GstElement *pipeline = parse (desc);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  GstSample *sample;
  guint n = 0;

  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  for (guint i = 0; i < 5; i++) {
    sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink), TIMEOUT);
    g_assert_nonnull (sample);
    gst_sample_unref (sample);
  }
  g_assert_true (gst_element_seek_simple (pipeline, GST_FORMAT_TIME,
          GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE, GST_SECOND));

  while ((sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
              30 * GST_SECOND))) {
    const GstSegment *seg = gst_sample_get_segment (sample);
    GstClockTime st = gst_segment_to_stream_time (seg, GST_FORMAT_TIME,
        GST_BUFFER_PTS (gst_sample_get_buffer (sample)));

    assert_near (st, gst_util_uint64_scale_round (30 + n, GST_SECOND, 30),
        GST_MSECOND);
    gst_sample_unref (sample);
    n++;
  }
  g_assert_true (gst_app_sink_is_eos (GST_APP_SINK (sink)));
  g_assert_cmpuint (n, ==, 30);
  wait_eos (pipeline, 10 * GST_SECOND, NULL, NULL);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  finish_test_dir (base);
}

int
main (int argc, char **argv)
{
  gchar tmpl[] = "/tmp/test-e2e-tmpdir-XXXXXX";
  gchar *private_tmp;
  int ret;

  /* before anything reads it: g_get_tmp_dir() caches TMPDIR */
  private_tmp = g_mkdtemp (tmpl);
  g_assert_nonnull (private_tmp);
  g_setenv ("TMPDIR", private_tmp, TRUE);
  /* engine=preview everywhere; never reach a hosted engine */
  g_unsetenv ("WAVESPEED_API_KEY");
  g_unsetenv ("DASHSCOPE_API_KEY");

  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);

  g_test_add_data_func ("/e2e/clip/720p", &clip_720p, check_clip);
  g_test_add_data_func ("/e2e/clip/9x16-named-only", &clip_portrait,
      check_clip);
  g_test_add_data_func ("/e2e/clip/1080p", &clip_1080p, check_clip);
  g_test_add_func ("/e2e/mp4", test_mp4);
  g_test_add_func ("/e2e/compositor", test_compositor);
  g_test_add_func ("/e2e/two-elements", test_two_elements);
  g_test_add_func ("/e2e/live-reference", test_live_reference);
  g_test_add_func ("/e2e/live-false-reference",
      test_live_reference_not_live_mode);
  g_test_add_func ("/e2e/flush-seek", test_flush_seek);
  ret = g_test_run ();
  wr2v_test_rm_rf (private_tmp);
  return ret;
}
