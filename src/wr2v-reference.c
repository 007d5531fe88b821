/* wr2v-reference.c: what arrives on a reference pad, as a file. */
#include "wr2v-reference.h"
#include "wr2v-error.h"

#include <string.h>
#include <gst/app/gstappsrc.h>
#include <gst/base/gsttypefindhelper.h>
#include <gst/video/video.h>

GST_DEBUG_CATEGORY_STATIC (wr2v_ref_debug);
#define GST_CAT_DEFAULT wr2v_ref_debug

typedef enum
{
  MODE_NONE,                    /* no caps yet */
  MODE_COPY,                    /* encoded input, written as it came */
  MODE_ENCODE,                  /* raw video, encoded to H.264 MP4 */
  MODE_IMAGE,                   /* raw image, first frame kept as PNG */
} WriterMode;

struct _Wr2vRefWriter
{
  Wr2vRefKind kind;
  gchar *path;
  GstClockTime max_duration;
  gint max_width, max_height;

  WriterMode mode;
  const gchar *mime;
  GstCaps *caps;

  /* MODE_COPY */
  GOutputStream *out;
  GChecksum *checksum;
  guint64 bytes;

  /* MODE_ENCODE */
  GstElement *pipeline;
  GstElement *appsrc;
  GstElement *capsfilter;
  GstClockTime first_pts;
  GstClockTime taken;
  guint frames;

  /* MODE_IMAGE */
  GstSample *image;

  gboolean ended;
  gboolean aborted;

  /* the encoder's end, as its bus tells it (see on_encoder_message) */
  GMutex lock;
  GCond cond;
  gboolean encoded;
  gchar *encode_error;
};

static void
ensure_debug (void)
{
  static gsize once;

  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (wr2v_ref_debug, "wanr2vref", 0,
        "wanr2v reference preparation");
    g_once_init_leave (&once, 1);
  }
}

Wr2vRefWriter *
wr2v_ref_writer_new (Wr2vRefKind kind, const gchar * path,
    GstClockTime max_duration, gint max_width, gint max_height)
{
  Wr2vRefWriter *w = g_new0 (Wr2vRefWriter, 1);

  ensure_debug ();
  w->kind = kind;
  w->path = g_strdup (path);
  w->max_duration = max_duration;
  w->max_width = max_width;
  w->max_height = max_height;
  w->first_pts = GST_CLOCK_TIME_NONE;
  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  return w;
}

void
wr2v_ref_writer_free (Wr2vRefWriter * w)
{
  if (!w)
    return;
  wr2v_ref_writer_abort (w);
  g_clear_object (&w->out);
  if (w->checksum)
    g_checksum_free (w->checksum);
  gst_clear_object (&w->pipeline);
  gst_clear_caps (&w->caps);
  if (w->image)
    gst_sample_unref (w->image);
  g_free (w->path);
  g_free (w->encode_error);
  g_mutex_clear (&w->lock);
  g_cond_clear (&w->cond);
  g_free (w);
}

static const gchar *
pad_word (Wr2vRefWriter * w)
{
  return w->kind == WR2V_REF_VIDEO ? "reference video pads (video_%u)" :
      "reference image pads (image_%u)";
}

/* The largest even size inside the box that keeps the display aspect. */
static void
fit_size (gint w, gint h, gint max_w, gint max_h, gint * out_w, gint * out_h)
{
  gdouble scale = 1.0;

  if (max_w > 0 && max_h > 0)
    scale = MIN (1.0, MIN ((gdouble) max_w / w, (gdouble) max_h / h));
  *out_w = MAX (2, ((gint) (w * scale)) & ~1);
  *out_h = MAX (2, ((gint) (h * scale)) & ~1);
}

static GstPadProbeReturn
hash_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Wr2vRefWriter *w = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstMapInfo map;

  if (gst_buffer_map (buf, &map, GST_MAP_READ)) {
    g_checksum_update (w->checksum, map.data, map.size);
    gst_buffer_unmap (buf, &map);
  }
  return GST_PAD_PROBE_OK;
}

/* mp4mux writes the wall-clock time into the file, so two encodes of the
 * same frames differ; the H.264 stream does not (x264 is deterministic).
 * Its hash is the reference's content key, so that a repeated request
 * with the same raw reference is found in the result store. */
static void
hash_encoded_stream (Wr2vRefWriter * w)
{
  GstElement *h264 = gst_bin_get_by_name (GST_BIN (w->pipeline), "h264");
  GstPad *pad = gst_element_get_static_pad (h264, "src");

  w->checksum = g_checksum_new (G_CHECKSUM_SHA256);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, hash_buffer, w, NULL);
  gst_object_unref (pad);
  gst_object_unref (h264);
}

/* The encoder's EOS or error, noted where it is posted. A bus wait could
 * miss the wake-up of a stop: abort() sets the pipeline to NULL, which
 * flushes its bus, message and all. */
static GstBusSyncReply
on_encoder_message (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  Wr2vRefWriter *w = user_data;

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS ||
      GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    g_mutex_lock (&w->lock);
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
      w->encoded = TRUE;
    } else if (!w->encode_error) {
      g_autoptr (GError) err = NULL;

      gst_message_parse_error (msg, &err, NULL);
      w->encode_error = g_strdup (err->message);
    }
    g_cond_broadcast (&w->cond);
    g_mutex_unlock (&w->lock);
  }
  /* nobody pops this bus: dropped messages do not pile up */
  gst_message_unref (msg);
  return GST_BUS_DROP;
}

static gboolean
build_encoder (Wr2vRefWriter * w, GError ** error)
{
  GError *err = NULL;
  g_autofree gchar *desc = NULL;
  g_autofree gchar *loc = g_strescape (w->path, NULL);

  /* speed-preset veryfast: references are inputs to a model, not
   * masters; the encode should cost about what the source costs to
   * produce. */
  desc = g_strdup_printf ("appsrc name=src format=time max-bytes=0 "
      "max-buffers=4 block=true ! videoconvert ! videoscale ! "
      "capsfilter name=size ! x264enc speed-preset=veryfast ! "
      "capsfilter name=h264 caps=video/x-h264,profile=high ! mp4mux ! "
      "filesink location=\"%s\"", loc);
  w->pipeline = gst_parse_launch_full (desc, NULL, GST_PARSE_FLAG_FATAL_ERRORS,
      &err);
  if (!w->pipeline) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
        "Cannot build the reference encoder (%s). Is gstreamer1.0-plugins-"
        "ugly (x264enc) installed?", err->message);
    g_error_free (err);
    return FALSE;
  }
  gst_object_ref_sink (w->pipeline);
  {
    g_autoptr (GstBus) bus = gst_element_get_bus (w->pipeline);

    gst_bus_set_sync_handler (bus, on_encoder_message, w, NULL);
  }
  hash_encoded_stream (w);
  w->appsrc = gst_bin_get_by_name (GST_BIN (w->pipeline), "src");
  w->capsfilter = gst_bin_get_by_name (GST_BIN (w->pipeline), "size");
  /* the bin keeps them alive */
  gst_object_unref (w->appsrc);
  gst_object_unref (w->capsfilter);
  if (gst_element_set_state (w->pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "Cannot start the reference encoder writing %s", w->path);
    return FALSE;
  }
  return TRUE;
}

static gboolean
set_encoder_caps (Wr2vRefWriter * w, GstCaps * caps, GError ** error)
{
  GstVideoInfo info;
  gint out_w, out_h;
  GstCaps *size;

  if (!gst_video_info_from_caps (&info, caps)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "Unusable raw video caps on a reference pad");
    return FALSE;
  }
  if (!w->pipeline && !build_encoder (w, error))
    return FALSE;
  fit_size (GST_VIDEO_INFO_WIDTH (&info) * GST_VIDEO_INFO_PAR_N (&info) /
      MAX (1, GST_VIDEO_INFO_PAR_D (&info)), GST_VIDEO_INFO_HEIGHT (&info),
      w->max_width, w->max_height, &out_w, &out_h);
  size = gst_caps_new_simple ("video/x-raw", "width", G_TYPE_INT, out_w,
      "height", G_TYPE_INT, out_h, "pixel-aspect-ratio", GST_TYPE_FRACTION,
      1, 1, NULL);
  g_object_set (w->capsfilter, "caps", size, NULL);
  gst_caps_unref (size);
  gst_app_src_set_caps (GST_APP_SRC (w->appsrc), caps);
  GST_DEBUG ("encoding %dx%d reference to %dx%d",
      GST_VIDEO_INFO_WIDTH (&info), GST_VIDEO_INFO_HEIGHT (&info), out_w,
      out_h);
  return TRUE;
}

static gboolean
open_copy (Wr2vRefWriter * w, GError ** error)
{
  g_autoptr (GFile) file = g_file_new_for_path (w->path);
  GError *err = NULL;

  w->out = G_OUTPUT_STREAM (g_file_replace (file, NULL, FALSE,
          G_FILE_CREATE_PRIVATE, NULL, &err));
  if (!w->out) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "Cannot write the reference to %s: %s", w->path, err->message);
    g_error_free (err);
    return FALSE;
  }
  w->checksum = g_checksum_new (G_CHECKSUM_SHA256);
  return TRUE;
}

gboolean
wr2v_ref_writer_set_caps (Wr2vRefWriter * w, GstCaps * caps, GError ** error)
{
  const gchar *name;
  WriterMode mode;

  if (!caps || gst_caps_is_empty (caps) || !gst_caps_is_fixed (caps)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "A reference pad received unfixed caps");
    return FALSE;
  }
  name = gst_structure_get_name (gst_caps_get_structure (caps, 0));

  if (g_str_equal (name, "video/x-raw")) {
    mode = w->kind == WR2V_REF_VIDEO ? MODE_ENCODE : MODE_IMAGE;
    w->mime = w->kind == WR2V_REF_VIDEO ? "video/mp4" : "image/png";
  } else if (g_str_equal (name, "video/quicktime") && w->kind ==
      WR2V_REF_VIDEO) {
    mode = MODE_COPY;
    w->mime = "video/mp4";
  } else if (g_str_equal (name, "image/jpeg") && w->kind == WR2V_REF_IMAGE) {
    mode = MODE_COPY;
    w->mime = "image/jpeg";
  } else if (g_str_equal (name, "image/png") && w->kind == WR2V_REF_IMAGE) {
    mode = MODE_COPY;
    w->mime = "image/png";
  } else {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "%s take %s, not %s.", w->kind == WR2V_REF_VIDEO ?
        "Reference video pads (video_%u)" : "Reference image pads (image_%u)",
        w->kind == WR2V_REF_VIDEO ? "raw video or an MP4 file" :
        "raw video, JPEG or PNG", name);
    return FALSE;
  }
  if (w->mode != MODE_NONE && w->mode != mode) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "A reference changed from %s to %s midway; %s keep one format.",
        w->caps ? gst_structure_get_name (gst_caps_get_structure (w->caps,
                0)) : "?", name, pad_word (w));
    return FALSE;
  }
  if (mode == MODE_ENCODE && !set_encoder_caps (w, caps, error))
    return FALSE;
  if (mode == MODE_COPY && !w->out && !open_copy (w, error))
    return FALSE;
  w->mode = mode;
  gst_caps_replace (&w->caps, caps);
  return TRUE;
}

static GstFlowReturn
push_raw_video (Wr2vRefWriter * w, GstBuffer * buf)
{
  GstClockTime pts = GST_BUFFER_PTS (buf);
  GstClockTime dur = GST_BUFFER_DURATION (buf);
  GstClockTime rel;
  GstFlowReturn ret;

  if (GST_CLOCK_TIME_IS_VALID (pts) && !GST_CLOCK_TIME_IS_VALID (w->first_pts))
    w->first_pts = pts;
  rel = GST_CLOCK_TIME_IS_VALID (pts) && pts >= w->first_pts ?
      pts - w->first_pts : w->taken;
  if (GST_CLOCK_TIME_IS_VALID (w->max_duration) && rel >= w->max_duration) {
    wr2v_ref_writer_end (w);
    return GST_FLOW_EOS;
  }

  /* Timestamps from 0: a live source's running time means nothing in the
   * reference file. The copy shares the frame's memory. */
  buf = gst_buffer_copy_region (buf, GST_BUFFER_COPY_ALL, 0, -1);
  GST_BUFFER_PTS (buf) = rel;
  GST_BUFFER_DTS (buf) = GST_CLOCK_TIME_NONE;
  ret = gst_app_src_push_buffer (GST_APP_SRC (w->appsrc), buf);
  if (ret != GST_FLOW_OK)
    return ret;
  w->frames++;
  w->taken = rel + (GST_CLOCK_TIME_IS_VALID (dur) ? dur : 0);
  if (GST_CLOCK_TIME_IS_VALID (w->max_duration) && w->taken >= w->max_duration) {
    wr2v_ref_writer_end (w);
    return GST_FLOW_EOS;
  }
  return GST_FLOW_OK;
}

GstFlowReturn
wr2v_ref_writer_push (Wr2vRefWriter * w, GstBuffer * buf, GError ** error)
{
  if (w->aborted)
    return GST_FLOW_FLUSHING;
  if (w->ended)
    return GST_FLOW_EOS;

  if (w->mode == MODE_NONE) {
    /* No caps event: filesrc linked straight to the pad. Look at the
     * bytes, as typefind would. */
    g_autoptr (GstCaps) caps = gst_type_find_helper_for_buffer (NULL, buf,
        NULL);

    if (!caps) {
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
          "Cannot tell what kind of data arrives on a reference pad: %s "
          "take %s.", pad_word (w), w->kind == WR2V_REF_VIDEO ?
          "raw video or an MP4 file" : "raw video, JPEG or PNG");
      return GST_FLOW_NOT_NEGOTIATED;
    }
    GST_DEBUG ("typefound %" GST_PTR_FORMAT, caps);
    if (!wr2v_ref_writer_set_caps (w, caps, error))
      return GST_FLOW_NOT_NEGOTIATED;
  }

  switch (w->mode) {
    case MODE_COPY:{
      GstMapInfo map;
      gboolean ok;
      GError *err = NULL;

      if (!gst_buffer_map (buf, &map, GST_MAP_READ))
        return GST_FLOW_ERROR;
      g_checksum_update (w->checksum, map.data, map.size);
      ok = g_output_stream_write_all (w->out, map.data, map.size, NULL, NULL,
          &err);
      w->bytes += map.size;
      gst_buffer_unmap (buf, &map);
      if (!ok) {
        g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
            "Cannot write the reference to %s: %s", w->path, err->message);
        g_error_free (err);
        return GST_FLOW_ERROR;
      }
      return GST_FLOW_OK;
    }
    case MODE_ENCODE:
      return push_raw_video (w, buf);
    case MODE_IMAGE:
      w->image = gst_sample_new (buf, w->caps, NULL, NULL);
      wr2v_ref_writer_end (w);
      return GST_FLOW_EOS;
    default:
      return GST_FLOW_NOT_NEGOTIATED;
  }
}

void
wr2v_ref_writer_end (Wr2vRefWriter * w)
{
  if (w->ended)
    return;
  w->ended = TRUE;
  if (w->mode == MODE_ENCODE && w->appsrc)
    gst_app_src_end_of_stream (GST_APP_SRC (w->appsrc));
}

gboolean
wr2v_ref_writer_is_complete (Wr2vRefWriter * w)
{
  return w->ended;
}

GstClockTime
wr2v_ref_writer_duration (Wr2vRefWriter * w)
{
  return w->taken;
}

static void
wake_writer (GCancellable * cancellable, Wr2vRefWriter * w)
{
  g_mutex_lock (&w->lock);
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
}

/* Waits for the encoder's EOS; the cancellable or abort() end the wait at
 * once. */
static gboolean
wait_encoder (Wr2vRefWriter * w, GCancellable * cancellable, GError ** error)
{
  g_autofree gchar *failed = NULL;
  gboolean encoded;
  gulong id = 0;

  if (cancellable)
    id = g_cancellable_connect (cancellable, G_CALLBACK (wake_writer), w,
        NULL);
  g_mutex_lock (&w->lock);
  while (!w->encoded && !w->encode_error && !w->aborted &&
      !g_cancellable_is_cancelled (cancellable))
    g_cond_wait (&w->cond, &w->lock);
  encoded = w->encoded;
  failed = g_strdup (w->encode_error);
  g_mutex_unlock (&w->lock);
  g_cancellable_disconnect (cancellable, id);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (failed) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
        "Encoding a reference video failed: %s", failed);
    return FALSE;
  }
  if (!encoded) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
        "stopped");
    return FALSE;
  }
  return TRUE;
}

static gboolean
write_png (Wr2vRefWriter * w, GError ** error)
{
  g_autoptr (GstCaps) png = gst_caps_new_empty_simple ("image/png");
  g_autoptr (GstSample) out = NULL;
  GError *err = NULL;
  GstMapInfo map;
  gboolean ok;

  out = gst_video_convert_sample (w->image, png, 10 * GST_SECOND, &err);
  if (!out) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
        "Cannot convert a reference image to PNG: %s",
        err ? err->message : "unknown error");
    g_clear_error (&err);
    return FALSE;
  }
  gst_buffer_map (gst_sample_get_buffer (out), &map, GST_MAP_READ);
  ok = g_file_set_contents (w->path, (const gchar *) map.data, map.size, &err);
  gst_buffer_unmap (gst_sample_get_buffer (out), &map);
  if (!ok) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "Cannot write the reference to %s: %s", w->path, err->message);
    g_error_free (err);
  }
  return ok;
}

gboolean
wr2v_ref_writer_finish (Wr2vRefWriter * w, Wr2vReference * ref,
    GCancellable * cancellable, GError ** error)
{
  gboolean empty = FALSE;

  wr2v_ref_writer_end (w);
  switch (w->mode) {
    case MODE_COPY:
      if (!g_output_stream_close (w->out, NULL, error))
        return FALSE;
      empty = w->bytes == 0;
      if (!empty) {
        g_free (ref->sha256);
        ref->sha256 = g_strdup (g_checksum_get_string (w->checksum));
      }
      break;
    case MODE_ENCODE:
      empty = w->frames == 0;
      if (!empty && !wait_encoder (w, cancellable, error))
        return FALSE;
      gst_element_set_state (w->pipeline, GST_STATE_NULL);
      if (!empty) {
        g_free (ref->sha256);
        ref->sha256 = g_strdup (g_checksum_get_string (w->checksum));
      }
      break;
    case MODE_IMAGE:
      empty = w->image == NULL;
      if (!empty && !write_png (w, error))
        return FALSE;
      break;
    default:
      empty = TRUE;
      break;
  }
  if (empty) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "Reference %s %u ended before sending any data. Check its source.",
        wr2v_ref_kind_word (w->kind), ref->number);
    return FALSE;
  }
  if (!ref->sha256 && !(ref->sha256 = wr2v_file_sha256 (w->path, error)))
    return FALSE;
  g_free (ref->path);
  ref->path = g_strdup (w->path);
  g_free (ref->mime);
  ref->mime = g_strdup (w->mime);
  return TRUE;
}

void
wr2v_ref_writer_abort (Wr2vRefWriter * w)
{
  g_mutex_lock (&w->lock);
  w->aborted = TRUE;
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
  if (w->pipeline)
    gst_element_set_state (w->pipeline, GST_STATE_NULL);
}
