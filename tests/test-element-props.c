/* wanr2v's property values and output caps (issue 11, items 7 and 9):
 * out-of-range values
 * are an error naming the property and its range when the pipeline
 * starts, not a GLib warning and the default; properties refuse changes
 * after READY; region is an enum; seed has the providers' range; job-key;
 * caps downstream asks are met by videoscale and videorate in the bin.
 *
 * GLib warnings are fatal here (g_test_init): a value GLib refuses fails
 * the test, as it would have before the change. */
#include <string.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include "wr2v-test-element.h"

static gchar *private_tmp;



/* --- out-of-range values ------------------------------------------------- */

typedef struct
{
  const gchar *name;
  const gchar *props;
  const gchar *hints[3];
} RangeCase;

static const RangeCase range_cases[] = {
  {"duration-0", "duration=0", {"duration=0", "1 to 15"}},
  {"duration-61", "duration=61", {"duration=61", "1 to 15"}},
  {"duration-minus-1", "duration=-1", {"duration=-1", "1 to 15"}},
  {"reference-duration-0", "reference-duration=0",
      {"reference-duration=0", "0.1 to 3600"}},
  {"seed-minus-5", "seed=-5", {"seed=-5", "2147483647", "-1"}},
  {"seed-2-31", "seed=2147483648", {"seed=2147483648", "2147483647"}},
};

/* READY->PAUSED fails with LIBRARY/SETTINGS from the element, its message
 * naming the property, its value and its range. */
static void
check_range_case (gconstpointer data)
{
  const RangeCase *c = data;
  g_autofree gchar *cache = g_build_filename (private_tmp, "cache", NULL);
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g engine=preview "
      "cache-dir=\"%s\" prompt=\"Video 1\" %s ! fakesink "
      "videotestsrc num-buffers=5 ! g.video_0", cache, c->props);
  GstElement *pipeline = wr2v_test_parse (desc);
  GstBus *bus = gst_element_get_bus (pipeline);
  g_autoptr (GError) err = NULL;
  g_autofree gchar *dbg = NULL;
  GstMessage *m;

  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PAUSED), ==,
      GST_STATE_CHANGE_FAILURE);
  m = gst_bus_timed_pop_filtered (bus, 5 * GST_SECOND, GST_MESSAGE_ERROR);
  g_assert_nonnull (m);
  gst_message_parse_error (m, &err, &dbg);
  g_test_message ("%s: %s", c->name, err->message);
  g_assert_true (g_error_matches (err, GST_LIBRARY_ERROR,
          GST_LIBRARY_ERROR_SETTINGS));
  for (guint i = 0; i < G_N_ELEMENTS (c->hints) && c->hints[i]; i++)
    if (!strstr (err->message, c->hints[i]))
      g_error ("\"%s\" does not mention \"%s\"", err->message, c->hints[i]);
  gst_message_unref (m);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

/* --- changes after READY ------------------------------------------------- */

/* In PAUSED (a live reference still collecting), a change is refused with
 * a warning naming the element and the property, and get_property still
 * says what the clip is made with. */
static void
test_refused_after_ready (void)
{
  g_autofree gchar *cache = g_build_filename (private_tmp, "cache", NULL);
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g engine=preview "
      "cache-dir=\"%s\" prompt=\"Video 1\" duration=2 reference-duration=60 "
      "job-key=first ! fakesink videotestsrc is-live=true ! "
      "video/x-raw,width=64,height=64 ! g.video_0", cache);
  GstElement *pipeline = wr2v_test_parse (desc);
  GstElement *g = gst_bin_get_by_name (GST_BIN (pipeline), "g");
  g_autofree gchar *prompt = NULL;
  g_autofree gchar *key = NULL;
  gint duration;

  g_assert_cmpint (gst_element_set_state (pipeline, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  g_assert_cmpint (gst_element_get_state (g, NULL, NULL,
          WR2V_TEST_TIME (10 * GST_SECOND)), !=, GST_STATE_CHANGE_FAILURE);

  g_test_expect_message (NULL, G_LOG_LEVEL_WARNING,
      "g: the duration property can only be changed in the NULL or READY "
      "state*");
  g_test_expect_message (NULL, G_LOG_LEVEL_WARNING,
      "g: the prompt property can only be changed*");
  g_test_expect_message (NULL, G_LOG_LEVEL_WARNING,
      "g: the job-key property can only be changed*");
  g_object_set (g, "duration", 5, "prompt", "Video 1 jumps", "job-key",
      "second", NULL);
  g_test_assert_expected_messages ();
  g_object_get (g, "duration", &duration, "prompt", &prompt, "job-key", &key,
      NULL);
  g_assert_cmpint (duration, ==, 2);
  g_assert_cmpstr (prompt, ==, "Video 1");
  g_assert_cmpstr (key, ==, "first");

  /* back in READY, changes are taken again */
  gst_element_set_state (pipeline, GST_STATE_READY);
  g_object_set (g, "duration", 5, NULL);
  g_object_get (g, "duration", &duration, NULL);
  g_assert_cmpint (duration, ==, 5);

  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (g);
  gst_object_unref (pipeline);
}

/* --- types --------------------------------------------------------------- */

static void
test_region_enum (void)
{
  GstElement *el = gst_element_factory_make ("wanr2v", NULL);
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (el),
      "region");
  const gchar *regions[] = { "us", "beijing", "singapore" };
  GEnumClass *klass;

  gst_object_ref_sink (el);
  g_assert_nonnull (pspec);
  g_assert_true (G_IS_PARAM_SPEC_ENUM (pspec));
  klass = G_PARAM_SPEC_ENUM (pspec)->enum_class;
  g_assert_cmpint (pspec->value_type, ==, g_type_from_name ("GstWanR2vRegion"));
  g_assert_cmpstr (g_enum_get_value (klass,
          G_PARAM_SPEC_ENUM (pspec)->default_value)->value_nick, ==,
      "singapore");
  for (guint i = 0; i < G_N_ELEMENTS (regions); i++) {
    gint v;

    gst_util_set_object_arg (G_OBJECT (el), "region", regions[i]);
    g_object_get (el, "region", &v, NULL);
    g_assert_cmpstr (g_enum_get_value (klass, v)->value_nick, ==, regions[i]);
  }
  gst_object_unref (el);
}

/* seed takes the providers' range; wider values reach the element (and
 * its error), they are not clamped by GLib */
static void
test_seed_range (void)
{
  GstElement *el = gst_element_factory_make ("wanr2v", NULL);
  gint64 seed;

  gst_object_ref_sink (el);
  g_object_set (el, "seed", (gint64) G_MAXINT32, NULL);
  g_object_get (el, "seed", &seed, NULL);
  g_assert_cmpint (seed, ==, G_MAXINT32);
  g_object_set (el, "seed", (gint64) G_MAXINT32 + 1, NULL);
  g_object_get (el, "seed", &seed, NULL);
  g_assert_cmpint (seed, ==, (gint64) G_MAXINT32 + 1);
  gst_object_unref (el);
}

static void
test_job_key (void)
{
  GstElement *el = gst_element_factory_make ("wanr2v", NULL);
  g_autofree gchar *key = NULL;

  gst_object_ref_sink (el);
  g_object_get (el, "job-key", &key, NULL);
  g_assert_null (key);
  g_object_set (el, "job-key", "camera-1-take-3", NULL);
  g_object_get (el, "job-key", &key, NULL);
  g_assert_cmpstr (key, ==, "camera-1-take-3");
  gst_object_unref (el);
}

/* --- output caps (item 9) ----------------------------------------------- */

typedef struct
{
  const gchar *name;
  const gchar *caps;            /* what downstream asks */
  gint frames;                  /* frames of the 1 s clip at that rate */
} CapsCase;

static const CapsCase caps_cases[] = {
  {"size-640x360", "video/x-raw,width=640,height=360", 0},
  {"rate-10", "video/x-raw,framerate=10/1", 10},
  {"rgb-320x240-25", "video/x-raw,format=RGB,width=320,height=240,"
        "framerate=25/1", 25},
};

static GstPadProbeReturn
count_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  g_atomic_int_inc ((gint *) user_data);
  return GST_PAD_PROBE_OK;
}

/* wanr2v ! <caps>: videoscale and videorate in the bin meet it; the clip
 * plays to EOS with those caps. */
static void
check_caps_case (gconstpointer data)
{
  const CapsCase *c = data;
  g_autofree gchar *cache = g_build_filename (private_tmp, "cache", NULL);
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g engine=preview "
      "cache-dir=\"%s\" duration=1 prompt=\"Video 1\" ! %s ! fakesink "
      "name=sink videotestsrc num-buffers=5 ! g.video_0", cache, c->caps);
  GstElement *pipeline = wr2v_test_parse (desc);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  GstPad *pad = gst_element_get_static_pad (sink, "sink");
  GstBus *bus = gst_element_get_bus (pipeline);
  GstCaps *want = gst_caps_from_string (c->caps);
  GstCaps *got;
  GstMessage *m;
  gint frames = 0;

  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_buffer, &frames,
      NULL);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  m = gst_bus_timed_pop_filtered (bus, WR2V_TEST_TIME (60 * GST_SECOND),
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (m);
  g_assert_cmpint (GST_MESSAGE_TYPE (m), ==, GST_MESSAGE_EOS);
  got = gst_pad_get_current_caps (pad);
  g_assert_nonnull (got);
  g_assert_true (gst_caps_is_subset (got, want));
  if (c->frames)
    g_assert_cmpint (frames, ==, c->frames);
  else
    g_assert_cmpint (frames, >, 0);
  gst_caps_unref (got);
  gst_caps_unref (want);
  gst_message_unref (m);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pad);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
}

/* --- progress naming the element, with a tick (item 9) ------------------ */

/* Two wanr2v in one pipeline: every progress text ends with the name of
 * the wanr2v it is about, and a long job says how long it has run. */
static void
test_progress_named (void)
{
  g_autofree gchar *cache = g_build_filename (private_tmp, "cache", NULL);
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=a engine=preview "
      "cache-dir=\"%s\" duration=15 resolution=1080p seed=1 "
      "prompt=\"Video 1\" ! fakesink wanr2v name=b engine=preview "
      "cache-dir=\"%s\" duration=1 seed=1 prompt=\"Video 1\" ! fakesink "
      "videotestsrc num-buffers=5 ! a.video_0 "
      "videotestsrc num-buffers=5 ! b.video_0", cache, cache);
  GstElement *pipeline;
  GstBus *bus;
  GstMessage *m;
  guint ticks = 0, named = 0;

  g_setenv ("WANR2V_PROGRESS_TICK", "1", TRUE);
  pipeline = wr2v_test_parse (desc);
  bus = gst_element_get_bus (pipeline);
  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  while ((m = gst_bus_timed_pop_filtered (bus, WR2V_TEST_TIME (120 *
                  GST_SECOND), GST_MESSAGE_PROGRESS | GST_MESSAGE_EOS |
              GST_MESSAGE_ERROR))) {
    g_autofree gchar *text = NULL;
    g_autofree gchar *suffix = NULL;
    GstObject *bin;
    gboolean end = GST_MESSAGE_TYPE (m) != GST_MESSAGE_PROGRESS;

    g_assert_cmpint (GST_MESSAGE_TYPE (m), !=, GST_MESSAGE_ERROR);
    if (!end) {
      gst_message_parse_progress (m, NULL, NULL, &text);
      bin = gst_object_get_parent (GST_MESSAGE_SRC (m));
      suffix = g_strdup_printf ("(%s)", GST_OBJECT_NAME (bin));
      if (!g_str_has_suffix (text, suffix))
        g_error ("\"%s\" does not end with %s", text, suffix);
      named++;
      ticks += strstr (text, "elapsed (a)") != NULL;
      gst_object_unref (bin);
    }
    gst_message_unref (m);
    if (end)
      break;
  }
  g_unsetenv ("WANR2V_PROGRESS_TICK");
  g_assert_cmpuint (named, >, 8);
  g_assert_cmpuint (ticks, >, 0);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (pipeline);
}

int
main (int argc, char **argv)
{
  gchar tmpl[] = "/tmp/test-props-tmpdir-XXXXXX";
  int ret;

  private_tmp = wr2v_test_private_tmp (tmpl);

  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);

  for (guint i = 0; i < G_N_ELEMENTS (range_cases); i++) {
    g_autofree gchar *path = g_strdup_printf ("/props/range/%s",
        range_cases[i].name);

    g_test_add_data_func (path, &range_cases[i], check_range_case);
  }
  for (guint i = 0; i < G_N_ELEMENTS (caps_cases); i++) {
    g_autofree gchar *path = g_strdup_printf ("/output-caps/%s",
        caps_cases[i].name);

    g_test_add_data_func (path, &caps_cases[i], check_caps_case);
  }
  g_test_add_func ("/progress/named-with-ticks", test_progress_named);
  g_test_add_func ("/props/refused-after-ready", test_refused_after_ready);
  g_test_add_func ("/props/region-enum", test_region_enum);
  g_test_add_func ("/props/seed-range", test_seed_range);
  g_test_add_func ("/props/job-key", test_job_key);

  ret = g_test_run ();
  wr2v_test_rm_rf (private_tmp);
  return ret;
}
