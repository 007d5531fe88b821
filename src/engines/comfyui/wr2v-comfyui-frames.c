/* wr2v-comfyui-frames.c: first frames of the references, and the PNG
 * composed of them (see the header). */
#include "config.h"

#include <gst/app/app.h>

#include "wr2v-comfyui-frames.h"
#include "wr2v-error.h"

#define FRAME_TIMEOUT_S 60
/* white space between composed references, so they read as separate */
#define COMPOSE_GUTTER 8

/* Runs @pipeline until EOS or an error, cancellably. */
static gboolean
run_to_eos (GstElement * pipeline, const gchar * what,
    GCancellable * cancellable, GError ** error)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  gint64 deadline = g_get_monotonic_time () + FRAME_TIMEOUT_S * G_USEC_PER_SEC;
  gboolean ok = FALSE;

  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
        "Cannot start the pipeline %s", what);
    goto out;
  }
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, 50 * GST_MSECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR);

    if (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
      gst_message_unref (msg);
      ok = TRUE;
      break;
    }
    if (msg) {
      GError *err = NULL;

      gst_message_parse_error (msg, &err, NULL);
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
          "Could not %s: %s", what, err->message);
      g_error_free (err);
      gst_message_unref (msg);
      break;
    }
    if (g_cancellable_set_error_if_cancelled (cancellable, error))
      break;
    if (g_get_monotonic_time () > deadline) {
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
          "Could not %s within %d s", what, FRAME_TIMEOUT_S);
      break;
    }
  }
out:
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  return ok;
}

GstSample *
wr2v_comfyui_first_frame (const Wr2vReference * ref,
    GCancellable * cancellable, GError ** error)
{
  GstElement *pipeline, *src, *sink;
  GstBus *bus;
  GstSample *sample = NULL;
  GError *err = NULL;
  gint64 deadline;

  pipeline = gst_parse_launch_full ("filesrc name=src ! decodebin ! "
      "videoconvert ! videoscale ! video/x-raw,format=RGBA,"
      "pixel-aspect-ratio=1/1,width=[16,4096],height=[16,4096] ! "
      "appsink name=sink sync=false max-buffers=1", NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, &err);
  if (!pipeline) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
        "Cannot build the pipeline that reads %s %u: %s (are the "
        "GStreamer base plugins installed?)", wr2v_ref_kind_word (ref->kind),
        ref->number, err->message);
    g_error_free (err);
    return NULL;
  }
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  g_object_set (src, "location", ref->path, NULL);
  bus = gst_element_get_bus (pipeline);

  deadline = g_get_monotonic_time () + FRAME_TIMEOUT_S * G_USEC_PER_SEC;
  if (gst_element_set_state (pipeline, GST_STATE_PAUSED) ==
      GST_STATE_CHANGE_FAILURE)
    g_set_error (&err, WR2V_ERROR, WR2V_ERROR_INTERNAL, "cannot start");
  while (!err) {
    GstMessage *msg;

    /* short waits: a stop must not wait for a slow decoder */
    sample = gst_app_sink_try_pull_preroll (GST_APP_SINK (sink),
        50 * GST_MSECOND);
    if (sample)
      break;
    msg = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR | GST_MESSAGE_EOS);
    if (msg) {
      if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR)
        gst_message_parse_error (msg, &err, NULL);
      else
        g_set_error (&err, WR2V_ERROR, WR2V_ERROR_INTERNAL,
            "no video frame in it");
      gst_message_unref (msg);
      break;
    }
    if (g_cancellable_set_error_if_cancelled (cancellable, error))
      break;
    if (g_get_monotonic_time () > deadline)
      g_set_error (&err, WR2V_ERROR, WR2V_ERROR_INTERNAL,
          "no frame after %d s", FRAME_TIMEOUT_S);
  }
  if (err && !sample) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "Cannot read the first frame of %s %u (%s) to compose the ComfyUI "
        "reference image: %s", wr2v_ref_kind_word (ref->kind), ref->number,
        ref->path, err->message);
  }
  g_clear_error (&err);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (pipeline);
  return sample;
}

/* The fixed part: compositor (white) ! capsfilter (the canvas) !
 * videoconvert ! pngenc ! filesink; NULL and an error when an element is
 * missing. */
static GstElement *
compose_pipeline (gint width, gint height, const gchar * out_path,
    GstElement ** mix_out, GError ** error)
{
  GstElement *pipeline, *mix, *filter, *conv, *enc, *sink;
  GstCaps *caps;

  mix = gst_element_factory_make ("compositor", NULL);
  filter = gst_element_factory_make ("capsfilter", NULL);
  conv = gst_element_factory_make ("videoconvert", NULL);
  enc = gst_element_factory_make ("pngenc", NULL);
  sink = gst_element_factory_make ("filesink", NULL);
  if (!mix || !filter || !conv || !enc || !sink) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
        "Cannot compose the ComfyUI reference image: the GStreamer "
        "elements compositor and pngenc (gst-plugins-base and -good) are "
        "needed");
    gst_clear_object (&mix);
    gst_clear_object (&filter);
    gst_clear_object (&conv);
    gst_clear_object (&enc);
    gst_clear_object (&sink);
    return NULL;
  }
  pipeline = gst_pipeline_new ("wanr2v-compose");
  /* white: references read as subjects cut out on a plain ground */
  gst_util_set_object_arg (G_OBJECT (mix), "background", "white");
  caps = gst_caps_new_simple ("video/x-raw", "width", G_TYPE_INT, width,
      "height", G_TYPE_INT, height, "framerate", GST_TYPE_FRACTION, 1, 1,
      "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
  g_object_set (filter, "caps", caps, NULL);
  gst_caps_unref (caps);
  g_object_set (enc, "snapshot", TRUE, NULL);
  g_object_set (sink, "location", out_path, NULL);
  gst_bin_add_many (GST_BIN (pipeline), mix, filter, conv, enc, sink, NULL);
  if (!gst_element_link_many (mix, filter, conv, enc, sink, NULL)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
        "Cannot link the pipeline that composes the reference image");
    gst_object_unref (pipeline);
    return NULL;
  }
  *mix_out = mix;
  return pipeline;
}

/* appsrc ! videoconvert into a new pad of @mix, placed to fit @frame into
 * column @column (@cell wide) with a @gutter around it, aspect ratio
 * kept, centred. */
static GstElement *
add_frame_source (GstElement * pipeline, GstElement * mix, GstSample * frame,
    guint column, gint cell, gint height, gint gutter)
{
  GstCaps *fcaps = gst_caps_copy (gst_sample_get_caps (frame));
  GstStructure *s = gst_caps_get_structure (fcaps, 0);
  GstElement *src = gst_element_factory_make ("appsrc", NULL);
  GstElement *fconv = gst_element_factory_make ("videoconvert", NULL);
  GstPad *srcpad, *sinkpad;
  gint fw = 0, fh = 0, box_w, box_h, dw, dh;
  gdouble scale;

  gst_structure_get_int (s, "width", &fw);
  gst_structure_get_int (s, "height", &fh);
  gst_caps_set_simple (fcaps, "framerate", GST_TYPE_FRACTION, 1, 1, NULL);
  g_object_set (src, "caps", fcaps, "format", GST_FORMAT_TIME, NULL);
  gst_caps_unref (fcaps);
  gst_bin_add_many (GST_BIN (pipeline), src, fconv, NULL);
  gst_element_link (src, fconv);
  srcpad = gst_element_get_static_pad (fconv, "src");
  sinkpad = gst_element_request_pad_simple (mix, "sink_%u");
  gst_pad_link (srcpad, sinkpad);

  box_w = MAX (1, cell - 2 * gutter);
  box_h = MAX (1, height - 2 * gutter);
  scale = MIN ((gdouble) box_w / MAX (fw, 1), (gdouble) box_h / MAX (fh, 1));
  dw = MAX (1, (gint) (fw * scale + 0.5));
  dh = MAX (1, (gint) (fh * scale + 0.5));
  g_object_set (sinkpad, "xpos", (gint) column * cell + (cell - dw) / 2,
      "ypos", (height - dh) / 2, "width", dw, "height", dh, NULL);
  gst_object_unref (srcpad);
  gst_object_unref (sinkpad);
  return src;
}

/* Each frame once, as a one-second picture, then EOS. */
static void
push_frames (GstElement ** srcs, GstSample ** frames, guint n)
{
  guint i;

  for (i = 0; i < n; i++) {
    GstBuffer *buf = gst_buffer_copy (gst_sample_get_buffer (frames[i]));

    GST_BUFFER_PTS (buf) = 0;
    GST_BUFFER_DTS (buf) = GST_CLOCK_TIME_NONE;
    GST_BUFFER_DURATION (buf) = GST_SECOND;
    gst_app_src_push_buffer (GST_APP_SRC (srcs[i]), buf);
    gst_app_src_end_of_stream (GST_APP_SRC (srcs[i]));
  }
}

gboolean
wr2v_comfyui_compose_png (GstSample ** frames, guint n, gint width,
    gint height, const gchar * out_path, GCancellable * cancellable,
    GError ** error)
{
  GstElement *mix = NULL;
  GstElement *pipeline = compose_pipeline (width, height, out_path, &mix,
      error);
  GstElement **srcs;
  gint gutter = n > 1 ? COMPOSE_GUTTER : 0;
  gint cell = width / (gint) n;
  gboolean ok = FALSE;
  guint i;

  if (!pipeline)
    return FALSE;
  srcs = g_new0 (GstElement *, n);
  for (i = 0; i < n; i++)
    srcs[i] = add_frame_source (pipeline, mix, frames[i], i, cell, height,
        gutter);
  /* started, so that appsrc takes the buffers */
  if (gst_element_set_state (pipeline, GST_STATE_PAUSED) ==
      GST_STATE_CHANGE_FAILURE) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
        "Cannot start the pipeline that composes the reference image");
    gst_element_set_state (pipeline, GST_STATE_NULL);
  } else {
    push_frames (srcs, frames, n);
    ok = run_to_eos (pipeline, "compose the ComfyUI reference image",
        cancellable, error);
  }
  g_free (srcs);
  gst_object_unref (pipeline);
  return ok;
}
