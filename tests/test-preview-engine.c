/* test-preview-engine.c: the preview engine, driven through the core API
 * only (no element): what it renders, that it renders it the same way
 * every time, and that it stops when asked.
 */
#include <string.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

#include "wr2v-engine.h"
#include "wr2v-error.h"
#include "wr2v-request.h"
#include "wr2v-test-time.h"

static gchar *tmp_dir;
/* when generate() last returned; the engine is freed after that, which
 * waits for a cancelled render's teardown */
static gint64 generate_returned;
static gchar *red_mp4, *green_mp4, *blue_png, *bad_mp4;

/* --- fixtures ---------------------------------------------------------- */

static void
run_pipeline (const gchar * description)
{
  GError *err = NULL;
  GstElement *p = gst_parse_launch (description, &err);
  GstBus *bus;
  GstMessage *msg;

  g_assert_no_error (err);
  bus = gst_element_get_bus (p);
  g_assert_cmpint (gst_element_set_state (p, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);
  msg = gst_bus_timed_pop_filtered (bus, 20 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (msg);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gst_message_parse_error (msg, &err, NULL);
    g_assert_no_error (err);
  }
  gst_message_unref (msg);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
}

static gchar *
make_clip (const gchar * name, guint32 argb, guint frames, const gchar * enc)
{
  gchar *path = g_build_filename (tmp_dir, name, NULL);
  gchar *desc = g_strdup_printf ("videotestsrc pattern=solid-color "
      "foreground-color=0x%08x num-buffers=%u ! video/x-raw,width=320,"
      "height=240,framerate=30/1 ! %s ! filesink location=\"%s\"", argb,
      frames, enc, path);

  run_pipeline (desc);
  g_free (desc);
  return path;
}

static Wr2vReference *
make_ref (Wr2vRefKind kind, guint pad_index, const gchar * path,
    const gchar * mime)
{
  Wr2vReference *ref = wr2v_reference_new (kind, pad_index);
  GError *err = NULL;

  ref->path = g_strdup (path);
  ref->mime = g_strdup (mime);
  ref->sha256 = wr2v_file_sha256 (path, &err);
  g_assert_no_error (err);
  return ref;
}

/* Video 1 red, Video 2 green (shorter than any clip), Image 3 blue. */
static Wr2vRequest *
make_request (const gchar * prompt, guint duration, gint64 seed)
{
  Wr2vRequest *req = wr2v_request_new ();

  g_free (req->prompt);
  req->prompt = g_strdup (prompt);
  req->duration = duration;
  req->resolution = WR2V_RESOLUTION_720P;
  req->aspect_ratio = WR2V_ASPECT_16_9;
  req->seed = seed;
  /* added out of order: numbering must sort them */
  wr2v_request_add_reference (req,
      make_ref (WR2V_REF_IMAGE, 0, blue_png, "image/png"));
  wr2v_request_add_reference (req,
      make_ref (WR2V_REF_VIDEO, 1, green_mp4, "video/mp4"));
  wr2v_request_add_reference (req,
      make_ref (WR2V_REF_VIDEO, 0, red_mp4, "video/mp4"));
  wr2v_request_number_references (req);
  return req;
}

/* --- rendering and measuring -------------------------------------------- */

typedef struct
{
  guint phases;
  gboolean saw_percent;
} Progress;

static void
on_phase (gpointer user_data, Wr2vPhase phase, const gchar * text)
{
  Progress *p = user_data;

  g_assert_cmpint (phase, ==, WR2V_PHASE_GENERATING);
  p->phases++;
  if (g_str_has_prefix (text, "rendering preview: ")
      && g_str_has_suffix (text, "%"))
    p->saw_percent = TRUE;
}

static gboolean
render (Wr2vRequest * req, const gchar * out, GCancellable * cancellable,
    Progress * progress, GError ** error)
{
  g_autoptr (Wr2vEngine) engine = wr2v_engine_preview_new ();
  Wr2vJob job;
  gboolean ok;

  wr2v_job_init (&job, req, engine, NULL, cancellable);
  if (progress) {
    job.observer.phase = on_phase;
    job.observer.user_data = progress;
  }
  ok = engine->klass->generate (engine, &job, out, error);
  generate_returned = g_get_monotonic_time ();
  wr2v_job_clear (&job);
  return ok;
}

typedef struct
{
  guint frames;
  gint width, height;
  gchar *codec;                 /* the stream's caps name, from qtdemux */
  gchar *digest;                /* SHA-256 over all decoded RGB frames */
  /* the most pixels of each pure colour seen in one frame */
  guint max_red, max_green, max_blue;
} Decoded;

static void
decoded_clear (Decoded * d)
{
  g_free (d->codec);
  g_free (d->digest);
}

static gboolean
near (guint8 c, guint8 o1, guint8 o2)
{
  return c > 170 && o1 < 80 && o2 < 80;
}

static void
decode (const gchar * path, Decoded * d)
{
  GError *err = NULL;
  gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! qtdemux ! "
      "avdec_h264 name=dec ! videoconvert ! video/x-raw,format=RGB ! "
      "appsink name=sink sync=false", path);
  GstElement *p = gst_parse_launch (desc, &err);
  GstElement *sink, *dec;
  GChecksum *sum = g_checksum_new (G_CHECKSUM_SHA256);
  GstSample *sample;
  GstPad *pad;
  GstCaps *caps;

  g_assert_no_error (err);
  g_free (desc);
  memset (d, 0, sizeof *d);
  sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  dec = gst_bin_get_by_name (GST_BIN (p), "dec");
  g_assert_cmpint (gst_element_set_state (p, GST_STATE_PLAYING), !=,
      GST_STATE_CHANGE_FAILURE);

  while ((sample = gst_app_sink_pull_sample (GST_APP_SINK (sink)))) {
    GstVideoInfo info;
    GstVideoFrame frame;
    guint red = 0, green = 0, blue = 0;

    g_assert_true (gst_video_info_from_caps (&info,
            gst_sample_get_caps (sample)));
    g_assert_true (gst_video_frame_map (&frame, &info,
            gst_sample_get_buffer (sample), GST_MAP_READ));
    d->width = info.width;
    d->height = info.height;
    for (gint y = 0; y < info.height; y++) {
      const guint8 *row = (const guint8 *) GST_VIDEO_FRAME_PLANE_DATA (&frame,
          0) + y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0);

      g_checksum_update (sum, row, info.width * 3);
      for (gint x = 0; x < info.width; x++, row += 3) {
        red += near (row[0], row[1], row[2]);
        green += near (row[1], row[0], row[2]);
        blue += near (row[2], row[0], row[1]);
      }
    }
    d->max_red = MAX (d->max_red, red);
    d->max_green = MAX (d->max_green, green);
    d->max_blue = MAX (d->max_blue, blue);
    d->frames++;
    gst_video_frame_unmap (&frame);
    gst_sample_unref (sample);
  }
  g_assert_true (gst_app_sink_is_eos (GST_APP_SINK (sink)));

  pad = gst_element_get_static_pad (dec, "sink");
  caps = gst_pad_get_current_caps (pad);
  g_assert_nonnull (caps);
  d->codec = g_strdup (gst_structure_get_name (gst_caps_get_structure (caps,
              0)));
  gst_caps_unref (caps);
  gst_object_unref (pad);

  d->digest = g_strdup (g_checksum_get_string (sum));
  g_checksum_free (sum);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (dec);
  gst_object_unref (sink);
  gst_object_unref (p);
}

static gchar *
out_path (const gchar * name)
{
  return g_build_filename (tmp_dir, name, NULL);
}

static void
render_decode (Wr2vRequest * req, const gchar * name, Decoded * d)
{
  g_autofree gchar *out = out_path (name);
  GError *err = NULL;
  Progress progress = { 0, };

  g_assert_true (render (req, out, NULL, &progress, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (progress.phases, >=, 2);
  g_assert_true (progress.saw_percent);
  decode (out, d);
  g_unlink (out);
}

/* --- tests --------------------------------------------------------------- */

static void
test_check (void)
{
  g_autoptr (Wr2vEngine) engine = wr2v_engine_preview_new ();
  g_autoptr (Wr2vRequest) req = make_request ("Video 1", 5, 1);
  GError *err = NULL;
  g_autofree gchar *id = engine->klass->identity (engine);

  g_assert_cmpstr (engine->klass->name, ==, "preview");
  g_assert_cmpstr (id, ==, "preview-3");
  g_assert_cmpfloat (engine->klass->estimate_cost (engine, req), <, 0);
  g_assert_null (engine->klass->submit);

  g_assert_true (engine->klass->check (engine, req, &err));
  g_assert_no_error (err);
  req->duration = 1;
  g_assert_true (engine->klass->check (engine, req, NULL));
  req->duration = 15;
  g_assert_true (engine->klass->check (engine, req, NULL));

  req->duration = 0;
  g_assert_false (engine->klass->check (engine, req, &err));
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (err->message, "1 to 15"));
  g_clear_error (&err);

  req->duration = 40;
  g_assert_false (engine->klass->check (engine, req, &err));
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED);
  g_assert_nonnull (strstr (err->message, "(got 40)"));
  g_clear_error (&err);

  req->duration = 5;
  for (guint r = WR2V_RESOLUTION_720P; r <= WR2V_RESOLUTION_1080P; r++)
    for (guint a = WR2V_ASPECT_16_9; a <= WR2V_ASPECT_3_4; a++) {
      req->resolution = r;
      req->aspect_ratio = a;
      g_assert_true (engine->klass->check (engine, req, NULL));
    }
}

/* All three references named: the clip has the right shape and shows each
 * of them; the same seed renders the same frames, another seed doesn't. */
static void
test_render (void)
{
  g_autoptr (Wr2vRequest) req =
      make_request ("Video 1 & Video 2 <dance> around Image 3", 3, 42);
  Decoded a, b, c;
  guint area = 1280 * 720;

  render_decode (req, "a.mp4", &a);
  g_assert_cmpuint (a.frames, ==, 3 * 30);
  g_assert_cmpint (a.width, ==, 1280);
  g_assert_cmpint (a.height, ==, 720);
  g_assert_cmpstr (a.codec, ==, "video/x-h264");
  /* each tile is about a ninth of the frame; ask for a sixth of that */
  g_assert_cmpuint (a.max_red, >, area / 54);
  g_assert_cmpuint (a.max_green, >, area / 54);
  g_assert_cmpuint (a.max_blue, >, area / 54);

  render_decode (req, "b.mp4", &b);
  g_assert_cmpuint (b.frames, ==, a.frames);
  g_assert_cmpstr (b.digest, ==, a.digest);

  req->seed = 43;
  render_decode (req, "c.mp4", &c);
  g_assert_cmpuint (c.frames, ==, a.frames);
  g_assert_cmpstr (c.digest, !=, a.digest);

  decoded_clear (&a);
  decoded_clear (&b);
  decoded_clear (&c);
}

/* No seed: still the same frames every time. */
static void
test_unseeded (void)
{
  g_autoptr (Wr2vRequest) req = make_request ("Image 3 spins", 1, -1);
  Decoded a, b;

  render_decode (req, "u1.mp4", &a);
  render_decode (req, "u2.mp4", &b);
  g_assert_cmpuint (a.frames, ==, 30);
  g_assert_cmpstr (a.digest, ==, b.digest);
  g_assert_cmpuint (a.max_blue, >, 1280 * 720 / 54);
  g_assert_cmpuint (a.max_red, <, 1280 * 720 / 1000);
  decoded_clear (&a);
  decoded_clear (&b);
}

/* Only the named reference is shown. */
static void
test_named_only (void)
{
  g_autoptr (Wr2vRequest) req =
      make_request ("A slow pan over Video 1 at dusk", 2, 7);
  Decoded d;
  guint area = 1280 * 720;

  render_decode (req, "named.mp4", &d);
  g_assert_cmpuint (d.frames, ==, 60);
  g_assert_cmpuint (d.max_red, >, area / 54);
  g_assert_cmpuint (d.max_green, <, area / 1000);
  g_assert_cmpuint (d.max_blue, <, area / 1000);
  decoded_clear (&d);
}

/* Other sizes follow wr2v_output_size. */
static void
test_sizes (void)
{
  g_autoptr (Wr2vRequest) req = make_request ("Video 2 and Image 3", 1, 3);
  Wr2vAspectRatio ars[] = { WR2V_ASPECT_9_16, WR2V_ASPECT_4_3 };

  for (guint i = 0; i < G_N_ELEMENTS (ars); i++) {
    Decoded d;
    gint w, h;

    req->aspect_ratio = ars[i];
    wr2v_output_size (req->resolution, req->aspect_ratio, &w, &h);
    render_decode (req, "size.mp4", &d);
    g_assert_cmpuint (d.frames, ==, 30);
    g_assert_cmpint (d.width, ==, w);
    g_assert_cmpint (d.height, ==, h);
    g_assert_cmpuint (d.max_green, >, (guint) (w * h / 54));
    g_assert_cmpuint (d.max_blue, >, (guint) (w * h / 54));
    decoded_clear (&d);
  }
}

typedef struct
{
  GCancellable *cancellable;
  gint64 cancelled_at;
} Canceller;

static gpointer
cancel_later (gpointer data)
{
  Canceller *c = data;

  g_usleep (400 * G_TIME_SPAN_MILLISECOND);
  c->cancelled_at = g_get_monotonic_time ();
  g_cancellable_cancel (c->cancellable);
  return NULL;
}

static void
test_cancel (void)
{
  g_autoptr (Wr2vRequest) req = make_request ("Video 1 runs", 15, 5);
  g_autofree gchar *out = out_path ("cancel.mp4");
  Canceller c = { g_cancellable_new (), 0 };
  GError *err = NULL;
  GThread *thread;
  gint64 returned, freed;

  req->resolution = WR2V_RESOLUTION_1080P;
  thread = g_thread_new ("canceller", cancel_later, &c);
  g_assert_false (render (req, out, c.cancellable, NULL, &err));
  freed = g_get_monotonic_time ();
  returned = generate_returned;
  g_thread_join (thread);
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&err);
  g_test_message ("generate() returned %.1f ms after the cancel, the engine "
      "was freed %.1f ms after it", (returned - c.cancelled_at) / 1000.0,
      (freed - returned) / 1000.0);
  g_assert_cmpint (returned - c.cancelled_at, <,
      WR2V_TEST_TIME (100 * G_TIME_SPAN_MILLISECOND));
  g_assert_cmpint (freed - c.cancelled_at, <,
      WR2V_TEST_TIME (G_TIME_SPAN_SECOND));
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));

  /* already cancelled: returns at once, touches nothing */
  g_assert_false (render (req, out, c.cancellable, NULL, &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&err);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  g_object_unref (c.cancellable);
}

/* A reference that is not a clip: an internal error, no file left. */
static void
test_bad_reference (void)
{
  g_autoptr (Wr2vRequest) req = make_request ("Video 1", 2, 1);
  g_autofree gchar *out = out_path ("bad.mp4");
  Wr2vReference *ref = NULL;
  GError *err = NULL;

  for (guint i = 0; i < req->references->len; i++) {
    ref = g_ptr_array_index (req->references, i);
    if (ref->number == 1)
      break;
  }
  g_free (ref->path);
  ref->path = g_strdup (bad_mp4);
  g_assert_false (render (req, out, NULL, NULL, &err));
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_INTERNAL);
  g_test_message ("%s", err->message);
  g_clear_error (&err);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

int
main (int argc, char **argv)
{
  GError *err = NULL;
  int ret;

  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

  tmp_dir = g_dir_make_tmp ("wr2v-preview-XXXXXX", &err);
  g_assert_no_error (err);
  red_mp4 = make_clip ("red.mp4", 0xffff0000, 60, "x264enc ! mp4mux");
  /* shorter than every clip rendered: its last frame must stay */
  green_mp4 = make_clip ("green.mp4", 0xff00ff00, 15, "x264enc ! mp4mux");
  blue_png = make_clip ("blue.png", 0xff0000ff, 1, "pngenc snapshot=true");
  bad_mp4 = g_build_filename (tmp_dir, "bad.mp4", NULL);
  g_assert_true (g_file_set_contents (bad_mp4, "not a clip at all", -1, NULL));

  g_test_add_func ("/preview/check", test_check);
  g_test_add_func ("/preview/render", test_render);
  g_test_add_func ("/preview/unseeded", test_unseeded);
  g_test_add_func ("/preview/named-only", test_named_only);
  g_test_add_func ("/preview/sizes", test_sizes);
  g_test_add_func ("/preview/cancel", test_cancel);
  g_test_add_func ("/preview/bad-reference", test_bad_reference);
  ret = g_test_run ();

  g_unlink (red_mp4);
  g_unlink (green_mp4);
  g_unlink (blue_png);
  g_unlink (bad_mp4);
  g_rmdir (tmp_dir);
  g_free (red_mp4);
  g_free (green_mp4);
  g_free (blue_png);
  g_free (bad_mp4);
  g_free (tmp_dir);
  /* lets the leaks tracer (GST_TRACERS=leaks) report */
  gst_deinit ();
  return ret;
}
