/* test-preview-labels.c: the preview animatic never hides a reference's
 * label (issue 11, item 9): every reference's tile and label are visible
 * in every frame.
 *
 * Each reference is a solid colour (red, green, blue, yellow, magenta), so
 * a tile is found in a decoded frame by its colour: its bounding box must
 * hold no pixel of another tile (no tile covers another), and the top left
 * of the box, where the label is drawn, must hold the label's white text.
 * Every third frame is checked, for several seeds, aspect ratios and the
 * quick start's prompt (where "Video 1" used to be covered at t=0).
 */
#include <string.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

#include "wr2v-engine.h"
#include "wr2v-error.h"
#include "wr2v-request.h"
#include "wr2v-test-pipeline.h"

#define N_COLOURS 5

static const guint8 colours[N_COLOURS][3] = {
  {255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {255, 255, 0}, {255, 0, 255}
};

static gchar *tmp_dir;
static gchar *clips[N_COLOURS];

/* Reference i: a solid clip of colour i; the last one a PNG image. */
static void
make_references (void)
{
  for (guint i = 0; i < N_COLOURS; i++) {
    gboolean image = i == N_COLOURS - 1;
    guint32 argb = 0xff000000u | colours[i][0] << 16 | colours[i][1] << 8 |
        colours[i][2];
    g_autofree gchar *name = g_strdup_printf ("ref%u.%s", i,
        image ? "png" : "mp4");
    g_autofree gchar *desc = NULL;

    clips[i] = g_build_filename (tmp_dir, name, NULL);
    desc = g_strdup_printf ("videotestsrc pattern=solid-color "
        "foreground-color=0x%08x num-buffers=%u ! video/x-raw,width=320,"
        "height=240,framerate=30/1 ! %s ! filesink location=\"%s\"", argb,
        image ? 1 : 30, image ? "pngenc snapshot=true" : "x264enc ! mp4mux",
        clips[i]);
    wr2v_test_run_pipeline (desc);
  }
}

/* @videos videos (colours 0..) and, with @image, the image (the last
 * colour), numbered as the element numbers them. */
static Wr2vRequest *
make_request (const gchar * prompt, guint videos, gboolean image,
    Wr2vAspectRatio ar, gint64 seed)
{
  Wr2vRequest *req = wr2v_request_new ();

  req->prompt = g_strdup (prompt);
  req->duration = 2;
  req->aspect_ratio = ar;
  req->seed = seed;
  for (guint i = 0; i < videos + (image ? 1 : 0); i++) {
    gboolean is_image = i == videos;
    Wr2vReference *ref = wr2v_reference_new (is_image ? WR2V_REF_IMAGE :
        WR2V_REF_VIDEO, is_image ? 0 : i);

    ref->path = g_strdup (clips[is_image ? N_COLOURS - 1 : i]);
    ref->mime = g_strdup (is_image ? "image/png" : "video/mp4");
    ref->sha256 = wr2v_file_sha256 (ref->path, NULL);
    wr2v_request_add_reference (req, ref);
  }
  wr2v_request_number_references (req);
  return req;
}

static gint
colour_of (const guint8 * px)
{
  for (gint c = 0; c < N_COLOURS; c++)
    if (ABS (px[0] - colours[c][0]) < 60 && ABS (px[1] - colours[c][1]) < 60
        && ABS (px[2] - colours[c][2]) < 60)
      return c;
  return -1;
}

typedef struct
{
  gint x0, y0, x1, y1;
  guint count;
} Box;

/* Checks one RGB frame: each of @shown's tiles visible, uncovered, its
 * label's text in its top left. */
static void
check_frame (const GstVideoFrame * frame, const gboolean * shown, guint index)
{
  const guint8 *data = GST_VIDEO_FRAME_PLANE_DATA (frame, 0);
  gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (frame, 0);
  gint w = GST_VIDEO_FRAME_WIDTH (frame), h = GST_VIDEO_FRAME_HEIGHT (frame);
  Box box[N_COLOURS];

  for (gint c = 0; c < N_COLOURS; c++)
    box[c] = (Box) {
    G_MAXINT, G_MAXINT, -1, -1, 0};
  for (gint y = 0; y < h; y++)
    for (gint x = 0; x < w; x++) {
      gint c = colour_of (data + y * stride + x * 3);

      if (c < 0)
        continue;
      box[c].x0 = MIN (box[c].x0, x);
      box[c].y0 = MIN (box[c].y0, y);
      box[c].x1 = MAX (box[c].x1, x);
      box[c].y1 = MAX (box[c].y1, y);
      box[c].count++;
    }

  for (gint c = 0; c < N_COLOURS; c++) {
    guint foreign = 0, white = 0;
    Box *b = &box[c];

    if (!shown[c])
      continue;
    if (b->count < 200)
      g_error ("frame %u: tile %d is not visible", index, c);
    for (gint y = b->y0; y <= b->y1; y++)
      for (gint x = b->x0; x <= b->x1; x++) {
        const guint8 *px = data + y * stride + x * 3;
        gint o = colour_of (px);

        if (o >= 0 && o != c)
          foreign++;
        /* the label: white text in the top left third */
        if (x < b->x0 + (b->x1 - b->x0) / 2 && y < b->y0 + (b->y1 - b->y0) / 3
            && px[0] > 190 && px[1] > 190 && px[2] > 190)
          white++;
      }
    if (foreign > 20)
      g_error ("frame %u: tile %d (%d,%d)-(%d,%d) is covered by another "
          "(%u pixels)", index, c, b->x0, b->y0, b->x1, b->y1, foreign);
    if (white < 10)
      g_error ("frame %u: tile %d (%d,%d)-(%d,%d) shows no label", index, c,
          b->x0, b->y0, b->x1, b->y1);
  }
}

static void
render_and_check (Wr2vRequest * req, const gboolean * shown)
{
  g_autoptr (Wr2vEngine) engine = wr2v_engine_preview_new ();
  g_autofree gchar *out = g_build_filename (tmp_dir, "out.mp4", NULL);
  g_autofree gchar *desc = NULL;
  GError *err = NULL;
  GstElement *p, *sink;
  GstSample *sample;
  guint index = 0, checked = 0;
  Wr2vJob job;

  wr2v_job_init (&job, req, engine, NULL, NULL);
  g_assert_true (engine->klass->generate (engine, &job, out, &err));
  g_assert_no_error (err);
  wr2v_job_clear (&job);

  desc = g_strdup_printf ("filesrc location=\"%s\" ! qtdemux ! avdec_h264 ! "
      "videoconvert ! video/x-raw,format=RGB ! appsink name=sink sync=false",
      out);
  p = gst_parse_launch (desc, &err);
  g_assert_no_error (err);
  sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  gst_element_set_state (p, GST_STATE_PLAYING);
  while ((sample = gst_app_sink_try_pull_sample (GST_APP_SINK (sink),
              30 * GST_SECOND))) {
    if (index % 3 == 0) {
      GstVideoInfo info;
      GstVideoFrame frame;

      g_assert_true (gst_video_info_from_caps (&info,
              gst_sample_get_caps (sample)));
      g_assert_true (gst_video_frame_map (&frame, &info,
              gst_sample_get_buffer (sample), GST_MAP_READ));
      check_frame (&frame, shown, index);
      gst_video_frame_unmap (&frame);
      checked++;
    }
    index++;
    gst_sample_unref (sample);
  }
  g_assert_true (gst_app_sink_is_eos (GST_APP_SINK (sink)));
  g_assert_cmpuint (checked, >=, 20);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (p);
  g_unlink (out);
}

static void
test_five_references (void)
{
  const gboolean all[N_COLOURS] = { TRUE, TRUE, TRUE, TRUE, TRUE };
  const gint64 seeds[] = { 1, 2, 3, 42 };

  for (guint i = 0; i < G_N_ELEMENTS (seeds); i++) {
    g_autoptr (Wr2vRequest) req = make_request ("Video 1, Video 2, Video 3 "
        "and Video 4 meet Image 5", 4, TRUE, WR2V_ASPECT_16_9, seeds[i]);

    render_and_check (req, all);
  }
}

static void
test_aspect_ratios (void)
{
  const gboolean all[N_COLOURS] = { TRUE, TRUE, TRUE, TRUE, TRUE };

  for (guint ar = WR2V_ASPECT_9_16; ar <= WR2V_ASPECT_3_4; ar++) {
    g_autoptr (Wr2vRequest) req = make_request ("Video 1, Video 2, Video 3 "
        "and Video 4 meet Image 5", 4, TRUE, ar, 7);

    render_and_check (req, all);
  }
}

/* The quick start's request: two videos and an image, no seed. */
static void
test_quickstart (void)
{
  const gboolean shown[N_COLOURS] = { TRUE, TRUE, FALSE, FALSE, TRUE };
  g_autoptr (Wr2vRequest) req = make_request ("Video 1 hands Image 3 to "
      "Video 2 in a sunny park", 2, TRUE, WR2V_ASPECT_16_9, -1);

  render_and_check (req, shown);
}

int
main (int argc, char **argv)
{
  GError *err = NULL;
  int ret;

  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  tmp_dir = g_dir_make_tmp ("wr2v-labels-XXXXXX", &err);
  g_assert_no_error (err);
  make_references ();

  g_test_add_func ("/preview-labels/quickstart", test_quickstart);
  g_test_add_func ("/preview-labels/five-references", test_five_references);
  g_test_add_func ("/preview-labels/aspect-ratios", test_aspect_ratios);
  ret = g_test_run ();

  for (guint i = 0; i < N_COLOURS; i++) {
    g_unlink (clips[i]);
    g_free (clips[i]);
  }
  g_rmdir (tmp_dir);
  g_free (tmp_dir);
  return ret;
}
