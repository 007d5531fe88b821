/* wr2v-reference.c: what arrives on a reference pad, as a file. */
#include "wr2v-reference.h"
#include "wr2v-voice.h"
#include "wr2v-engine.h"
#include "wr2v-error.h"
#include "wr2v-sha256.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>
#include <glib/gstdio.h>

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
  gboolean voice;               /* a voice pad's: audio, see _new_voice */
  gchar *path;
  GstClockTime max_duration;
  gint max_width, max_height;

  /* what the user knows this reference by, for messages: its pad, and
   * the file upstream when it says (see wr2v_ref_writer_set_pad) */
  GWeakRef pad;
  gchar *pad_name;
  gchar *user_file;
  gboolean asked_upstream;

  WriterMode mode;
  const gchar *mime;
  GstCaps *caps;

  /* MODE_COPY: the file's bytes; MODE_ENCODE and MODE_IMAGE: the frames
   * as they arrived (see hash_frame) */
  Wr2vSha256 *checksum;
  GstCaps *hashed_caps;

  /* MODE_COPY */
  GOutputStream *out;
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
  g_weak_ref_init (&w->pad, NULL);
  g_mutex_init (&w->lock);
  g_cond_init (&w->cond);
  return w;
}

Wr2vRefWriter *
wr2v_ref_writer_new_voice (const gchar * path, GstClockTime max_duration)
{
  Wr2vRefWriter *w = wr2v_ref_writer_new (WR2V_REF_VIDEO, path, max_duration,
      0, 0);

  w->voice = TRUE;
  return w;
}

void
wr2v_ref_writer_free (Wr2vRefWriter * w)
{
  if (!w)
    return;
  wr2v_ref_writer_abort (w);
  g_clear_object (&w->out);
  wr2v_sha256_free (w->checksum);
  gst_clear_object (&w->pipeline);
  gst_clear_caps (&w->caps);
  gst_clear_caps (&w->hashed_caps);
  g_weak_ref_clear (&w->pad);
  g_free (w->pad_name);
  g_free (w->user_file);
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
  if (w->voice)
    return "voice pads (voice_%u)";
  return w->kind == WR2V_REF_VIDEO ? "reference video pads (video_%u)" :
      "reference image pads (image_%u)";
}

void
wr2v_ref_writer_set_pad (Wr2vRefWriter * w, GstPad * pad)
{
  g_weak_ref_set (&w->pad, pad);
  g_free (w->pad_name);
  w->pad_name = pad ? gst_pad_get_name (pad) : NULL;
}

/* The file upstream of the pad, when an element there answers the URI
 * query (filesrc does, through typefind, decodebin and ghost pads). Asked
 * once, on the streaming thread with no lock of ours held. */
static void
ask_upstream_file (Wr2vRefWriter * w)
{
  g_autoptr (GstPad) pad = g_weak_ref_get (&w->pad);
  GstQuery *query;
  gchar *uri = NULL;

  if (w->asked_upstream || !pad)
    return;
  w->asked_upstream = TRUE;
  query = gst_query_new_uri ();
  if (gst_pad_peer_query (pad, query))
    gst_query_parse_uri (query, &uri);
  gst_query_unref (query);
  if (uri && g_str_has_prefix (uri, "file:"))
    w->user_file = g_filename_from_uri (uri, NULL, NULL);
  else if (uri)
    w->user_file = g_steal_pointer (&uri);
  g_free (uri);
}

/* "video_0 (/home/me/clip.mp4)": the pad and the user's file, never our
 * temp path. The pad's name is our file's name when set_pad was not
 * called (the element names the files after its pads). */
static gchar *
writer_name (Wr2vRefWriter * w)
{
  g_autofree gchar *base = g_path_get_basename (w->path);
  const gchar *pad = w->pad_name ? w->pad_name : base;

  if (w->user_file)
    return g_strdup_printf ("pad %s (%s)", pad, w->user_file);
  return g_strdup_printf ("pad %s", pad);
}

static void
set_encode_error (Wr2vRefWriter * w, const gchar * failed, GError ** error)
{
  g_autofree gchar *name = writer_name (w);

  g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
      "The reference video on %s could not be encoded: %s", name, failed);
}

/* The encoded size for a raw reference: the largest size inside the box
 * that keeps the display aspect, even (4:2:0), and at least
 * MIN_ENCODED_SIZE on each side (x264 refuses smaller frames). A side
 * raised to that minimum keeps the picture's aspect: videoscale
 * (add-borders, the default) pads it with black. */
#define MIN_ENCODED_SIZE 16

static void
fit_size (gint w, gint h, gint max_w, gint max_h, gint * out_w, gint * out_h)
{
  gdouble scale = 1.0;

  w = MAX (1, w);
  h = MAX (1, h);
  if (max_w > 0 && max_h > 0)
    scale = MIN (1.0, MIN ((gdouble) max_w / w, (gdouble) max_h / h));
  *out_w = MAX (MIN_ENCODED_SIZE, ((gint) (w * scale)) & ~1);
  *out_h = MAX (MIN_ENCODED_SIZE, ((gint) (h * scale)) & ~1);
}

/* The visible bytes of each plane, row by row: the padding at the end of
 * rows is whatever the allocator left there, not picture. */
static void
hash_video_frame (Wr2vSha256 * sum, const GstVideoInfo * info, GstBuffer * buf)
{
  GstVideoFrame frame;

  if (!gst_video_frame_map (&frame, (GstVideoInfo *) info, buf, GST_MAP_READ)) {
    GstMapInfo map;

    if (gst_buffer_map (buf, &map, GST_MAP_READ)) {
      wr2v_sha256_update (sum, map.data, map.size);
      gst_buffer_unmap (buf, &map);
    }
    return;
  }
  for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES (&frame); p++) {
    const guint8 *data = GST_VIDEO_FRAME_PLANE_DATA (&frame, p);
    gint stride = GST_VIDEO_FRAME_PLANE_STRIDE (&frame, p);
    gint row = 0, rows = 0;

    for (guint c = 0; c < GST_VIDEO_FRAME_N_COMPONENTS (&frame); c++) {
      if (GST_VIDEO_FORMAT_INFO_PLANE (frame.info.finfo, c) != p)
        continue;
      row = MAX (row, GST_VIDEO_FRAME_COMP_WIDTH (&frame, c) *
          GST_VIDEO_FRAME_COMP_PSTRIDE (&frame, c));
      rows = MAX (rows, GST_VIDEO_FRAME_COMP_HEIGHT (&frame, c));
    }
    if (row <= 0 || row > ABS (stride))
      row = ABS (stride);       /* packed or tiled formats: whole rows */
    for (gint y = 0; y < rows; y++)
      wr2v_sha256_update (sum, data + (gssize) y * stride, row);
  }
  gst_video_frame_unmap (&frame);
}

/* The reference's content key is its frames as they arrived (those kept),
 * with their caps: not the encoded file, whose bytes depend on the
 * encoder's timing and mp4mux's clock. A rerun with the same frames is
 * then the same request, found in the store and the journal. */
static void
hash_frame (Wr2vRefWriter * w, GstBuffer * buf)
{
  GstVideoInfo info;

  if (!w->checksum)
    w->checksum = wr2v_sha256_new ();
  if (!w->hashed_caps || !gst_caps_is_equal (w->hashed_caps, w->caps)) {
    g_autofree gchar *caps = gst_caps_to_string (w->caps);

    wr2v_sha256_update (w->checksum, (const guchar *) caps, strlen (caps) + 1);
    gst_caps_replace (&w->hashed_caps, w->caps);
  }
  if (gst_video_info_from_caps (&info, w->caps))
    hash_video_frame (w->checksum, &info, buf);
}

/* Each frame leaving the encoder's queue makes room: wakes a push()
 * waiting for it (see wait_for_room). */
static GstPadProbeReturn
on_frame_taken (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Wr2vRefWriter *w = user_data;

  g_mutex_lock (&w->lock);
  g_cond_broadcast (&w->cond);
  g_mutex_unlock (&w->lock);
  return GST_PAD_PROBE_OK;
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
      g_autofree gchar *debug = NULL;

      gst_message_parse_error (msg, &err, &debug);
      GST_WARNING ("reference encoder: %s (%s)", err->message,
          GST_STR_NULL (debug));
      w->encode_error = g_strdup (err->message);
    }
    g_cond_broadcast (&w->cond);
    g_mutex_unlock (&w->lock);
  }
  /* nobody pops this bus: dropped messages do not pile up */
  gst_message_unref (msg);
  return GST_BUS_DROP;
}

/* After an encoder error, basesrc sends EOS downstream: an mp4mux that
 * never got caps then fails a critical assertion finishing its file. The
 * error is what counts; the EOS goes no further. */
static GstPadProbeReturn
drop_eos_before_caps (GstPad * pad, GstPadProbeInfo * info, gpointer unused)
{
  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) == GST_EVENT_EOS
      && !gst_pad_has_current_caps (pad))
    return GST_PAD_PROBE_DROP;
  return GST_PAD_PROBE_OK;
}

/* Frames queued in the encoder's appsrc before push() waits. */
#define MAX_QUEUED_FRAMES 4

static gboolean
build_encoder (Wr2vRefWriter * w, GError ** error)
{
  GError *err = NULL;
  g_autofree gchar *desc = NULL;
  g_autofree gchar *loc = g_strescape (w->path, NULL);
  GstElement *h264;
  GstPad *pad;

  /* The appsrc never blocks: push() waits itself, on a condition that an
   * encoder error or abort() also ends (an appsrc with block=true would
   * hold the pad's thread forever once the encoder has failed).
   * deinterlace: compositors and decoders downstream of the file want
   * progressive frames; it passes progressive ones through.
   * x264enc: speed-preset veryfast, as references are inputs to a model,
   * not masters; x264's own threads: its bytes differ from run to run
   * then, but a reference is known by its frames (hash_frame()), not by
   * the encoder's output, so that costs nothing and a file reference
   * encodes at the machine's speed (docs/PERFORMANCE.md, row 4). */
  /* a voice: a PCM wav, which the model takes and wavenc writes alike
   * for the same samples (the voice's key is its file's) */
  desc = w->voice ? g_strdup_printf ("appsrc name=src format=time "
      "max-bytes=0 block=false ! audioconvert ! audioresample ! "
      "capsfilter name=size ! wavenc name=enc ! filesink location=\"%s\"",
      loc) : g_strdup_printf ("appsrc name=src format=time max-bytes=0 "
      "block=false ! videoconvert ! deinterlace ! videoconvert ! videoscale ! "
      "capsfilter name=size ! x264enc speed-preset=veryfast ! "
      "capsfilter name=enc caps=video/x-h264,profile=high ! mp4mux ! "
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
  w->appsrc = gst_bin_get_by_name (GST_BIN (w->pipeline), "src");
  w->capsfilter = gst_bin_get_by_name (GST_BIN (w->pipeline), "size");
  /* the bin keeps them alive */
  gst_object_unref (w->appsrc);
  gst_object_unref (w->capsfilter);
  pad = gst_element_get_static_pad (w->appsrc, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_frame_taken, w, NULL);
  gst_object_unref (pad);
  h264 = gst_bin_get_by_name (GST_BIN (w->pipeline), "enc");
  pad = gst_element_get_static_pad (h264, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      drop_eos_before_caps, NULL, NULL);
  gst_object_unref (pad);
  gst_object_unref (h264);
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
  w->checksum = wr2v_sha256_new ();
  return TRUE;
}

/* A voice pad's caps: raw audio is encoded to wav, a wav or an mp3 is
 * written as it came. */
static gboolean
voice_mode (Wr2vRefWriter * w, GstCaps * caps, WriterMode * mode,
    GError ** error)
{
  GstStructure *s = gst_caps_get_structure (caps, 0);
  gint version = 0, layer = 0;

  *mode = MODE_COPY;
  if (gst_structure_has_name (s, "audio/x-raw")) {
    *mode = MODE_ENCODE;
    w->mime = "audio/wav";
  } else if (gst_structure_has_name (s, "audio/x-wav")) {
    w->mime = "audio/wav";
  } else if (gst_structure_has_name (s, "application/x-id3") ||
      (gst_structure_has_name (s, "audio/mpeg") &&
          gst_structure_get_int (s, "mpegversion", &version) && version == 1
          && (!gst_structure_get_int (s, "layer", &layer) || layer == 3))) {
    w->mime = "audio/mpeg";
  } else {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "Voice pads (voice_%%u) take raw audio, a wav or an mp3 file, not "
        "%s.", gst_structure_get_name (s));
    return FALSE;
  }
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

  if (w->voice) {
    if (!voice_mode (w, caps, &mode, error))
      return FALSE;
  } else if (g_str_equal (name, "video/x-raw")) {
    mode = w->kind == WR2V_REF_VIDEO ? MODE_ENCODE : MODE_IMAGE;
    w->mime = w->kind == WR2V_REF_VIDEO ? "video/mp4" : "image/png";
  } else if (g_str_equal (name, "video/quicktime") && w->kind == WR2V_REF_VIDEO) {
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
  if (mode == MODE_ENCODE && w->voice && !w->pipeline &&
      !build_encoder (w, error))
    return FALSE;
  if (mode == MODE_ENCODE && w->voice)
    gst_app_src_set_caps (GST_APP_SRC (w->appsrc), caps);
  else if (mode == MODE_ENCODE && !set_encoder_caps (w, caps, error))
    return FALSE;
  if (mode == MODE_COPY && !w->out && !open_copy (w, error))
    return FALSE;
  w->mode = mode;
  gst_caps_replace (&w->caps, caps);
  return TRUE;
}

/* Waits until the encoder's queue has room for a frame, or it failed, or
 * abort() was called: never longer. */
static GstFlowReturn
wait_for_room (Wr2vRefWriter * w, GError ** error)
{
  GstFlowReturn ret = GST_FLOW_OK;
  g_autofree gchar *failed = NULL;

  g_mutex_lock (&w->lock);
  while (!w->encode_error && !w->aborted &&
      gst_app_src_get_current_level_buffers (GST_APP_SRC (w->appsrc)) >=
      MAX_QUEUED_FRAMES)
    g_cond_wait (&w->cond, &w->lock);
  if (w->aborted)
    ret = GST_FLOW_FLUSHING;
  else if (w->encode_error)
    failed = g_strdup (w->encode_error);
  g_mutex_unlock (&w->lock);

  if (failed) {
    set_encode_error (w, failed, error);
    ret = GST_FLOW_ERROR;
  }
  return ret;
}

static GstFlowReturn
push_raw_video (Wr2vRefWriter * w, GstBuffer * buf, GError ** error)
{
  GstClockTime pts = GST_BUFFER_PTS (buf);
  GstClockTime dur = GST_BUFFER_DURATION (buf);
  GstClockTime rel;
  GstFlowReturn ret;

  if (GST_CLOCK_TIME_IS_VALID (pts) && !GST_CLOCK_TIME_IS_VALID (w->first_pts))
    w->first_pts = pts;
  rel = GST_CLOCK_TIME_IS_VALID (pts) && pts >= w->first_pts ?
      pts - w->first_pts : w->taken;
  /* a voice ends before a buffer that would take it past its limit: the
   * model refuses a voice longer than that */
  if (GST_CLOCK_TIME_IS_VALID (w->max_duration) && (rel >= w->max_duration
          || (w->voice && GST_CLOCK_TIME_IS_VALID (dur) &&
              rel + dur > w->max_duration))) {
    wr2v_ref_writer_end (w);
    return GST_FLOW_EOS;
  }
  ret = wait_for_room (w, error);
  if (ret != GST_FLOW_OK)
    return ret;
  hash_frame (w, buf);

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

static GstFlowReturn
copy_bytes (Wr2vRefWriter * w, GstBuffer * buf, GError ** error)
{
  GstMapInfo map;
  gboolean ok;
  GError *err = NULL;

  if (!gst_buffer_map (buf, &map, GST_MAP_READ))
    return GST_FLOW_ERROR;
  wr2v_sha256_update (w->checksum, map.data, map.size);
  ok = g_output_stream_write_all (w->out, map.data, map.size, NULL, NULL, &err);
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

GstFlowReturn
wr2v_ref_writer_push (Wr2vRefWriter * w, GstBuffer * buf, GError ** error)
{
  if (w->aborted)
    return GST_FLOW_FLUSHING;
  if (w->ended)
    return GST_FLOW_EOS;
  ask_upstream_file (w);

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
    case MODE_COPY:
      return copy_bytes (w, buf, error);
    case MODE_ENCODE:
      return push_raw_video (w, buf, error);
    case MODE_IMAGE:
      hash_frame (w, buf);
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
    id = g_cancellable_connect (cancellable, G_CALLBACK (wake_writer), w, NULL);
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
    set_encode_error (w, failed, error);
    return FALSE;
  }
  if (!encoded) {
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "stopped");
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

/* wr2v_clip_check() words its error for a delivered clip: keep its
 * reason, in parentheses, for a message about the user's reference. */
static gchar *
clip_check_reason (const gchar * message)
{
  const gchar *open = strchr (message, '(');
  const gchar *close = strrchr (message, ')');

  if (open && close && close > open)
    return g_strndup (open + 1, close - open - 1);
  return g_strdup (message);
}

static void
link_decoded (GstElement * dec, GstPad * pad, GstElement * sink)
{
  GstPad *sinkpad = gst_element_get_static_pad (sink, "sink");

  if (!gst_pad_is_linked (sinkpad))
    gst_pad_link (pad, sinkpad);
  gst_object_unref (sinkpad);
}

static void
count_frame (gint * frames)
{
  g_atomic_int_inc (frames);
}

/* Decodes @path's picture (filesrc ! decodebin ! fakesink to its end),
 * with a bound on the time it may take. */
static gboolean
image_decodes (const gchar * path, gchar ** why)
{
  GstElement *pipeline = gst_pipeline_new (NULL);
  GstElement *src = gst_element_factory_make ("filesrc", NULL);
  GstElement *dec = gst_element_factory_make ("decodebin", NULL);
  GstElement *sink = gst_element_factory_make ("fakesink", NULL);
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  GstMessage *msg = NULL;
  gboolean ok = FALSE;
  gint frames = 0;

  if (src && dec && sink) {
    gst_bin_add_many (GST_BIN (pipeline), src, dec, sink, NULL);
    g_object_set (src, "location", path, NULL);
    gst_element_link (src, dec);
    g_signal_connect (dec, "pad-added", G_CALLBACK (link_decoded), sink);
    g_object_set (sink, "signal-handoffs", TRUE, NULL);
    g_signal_connect_swapped (sink, "handoff", G_CALLBACK (count_frame),
        &frames);
    gst_element_set_state (pipeline, GST_STATE_PLAYING);
    msg = gst_bus_timed_pop_filtered (bus, 10 * GST_SECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  }
  if (msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS) {
    /* a decoder may drop what it cannot read and still end cleanly */
    ok = g_atomic_int_get (&frames) > 0;
    if (!ok)
      *why = g_strdup ("it does not decode to a picture");
  } else if (msg) {
    g_autoptr (GError) err = NULL;

    gst_message_parse_error (msg, &err, NULL);
    g_strdelimit (err->message, ".", ' ');
    *why = g_strdup_printf ("it does not decode (%s)",
        g_strchomp (err->message));
  } else {
    *why = g_strdup ("it does not decode (no picture within 10 s)");
  }
  if (msg)
    gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (pipeline);
  return ok;
}

gboolean
wr2v_reference_check (const Wr2vReference * ref, const gchar * path,
    const gchar * mime, GCancellable * cancellable, GError ** error)
{
  g_autofree gchar *why = NULL;
  g_autofree gchar *name = NULL;
  GStatBuf st;

  if (g_stat (path, &st) != 0 || st.st_size == 0)
    why = g_strdup ("the file is empty");
  else if (g_str_equal (mime, "video/mp4")) {
    GError *err = NULL;

    if (!wr2v_clip_check (path, cancellable, &err)) {
      if (g_error_matches (err, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
        g_propagate_error (error, err);
        return FALSE;
      }
      why = clip_check_reason (err->message);
      g_error_free (err);
    }
  } else if (!image_decodes (path, &why)) {
    GST_WARNING ("%s does not decode: %s", path, why);
  }
  if (!why)
    return TRUE;
  name = wr2v_reference_name (ref);
  g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
      "%s is not a usable %s: %s. Nothing was uploaded; check the file.",
      name, g_str_equal (mime, "video/mp4") ? "video" : "image", why);
  return FALSE;
}

/* The file is whole: closed (a copy) or encoded. FALSE with the error,
 * or *empty when nothing arrived. */
static gboolean
close_file (Wr2vRefWriter * w, gboolean * empty, GCancellable * cancellable,
    GError ** error)
{
  switch (w->mode) {
    case MODE_COPY:
      *empty = w->bytes == 0;
      return g_output_stream_close (w->out, NULL, error);
    case MODE_ENCODE:
      *empty = w->frames == 0;
      if (!*empty && !wait_encoder (w, cancellable, error))
        return FALSE;
      gst_element_set_state (w->pipeline, GST_STATE_NULL);
      return TRUE;
    default:
      *empty = TRUE;
      return TRUE;
  }
}

gboolean
wr2v_ref_writer_finish_voice (Wr2vRefWriter * w, Wr2vReference * ref,
    GCancellable * cancellable, GError ** error)
{
  gboolean empty = TRUE;

  if (w) {
    wr2v_ref_writer_end (w);
    if (!close_file (w, &empty, cancellable, error))
      return FALSE;
  }
  if (empty) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "Voice pad %s ended before sending any data. Check its source.",
        w && w->pad_name ? w->pad_name : ref->voice_pad);
    return FALSE;
  }
  g_free (ref->voice_path);
  ref->voice_path = g_strdup (w->path);
  return wr2v_voice_finish_file (ref, ref->voice_pad, error);
}

gboolean
wr2v_ref_writer_finish (Wr2vRefWriter * w, Wr2vReference * ref,
    GCancellable * cancellable, GError ** error)
{
  gboolean empty = FALSE;

  if (w) {
    g_free (ref->source);
    ref->source = g_strdup (w->user_file);
    wr2v_ref_writer_end (w);
  }
  switch (w ? w->mode : MODE_NONE) {
    case MODE_COPY:
    case MODE_ENCODE:
      if (!close_file (w, &empty, cancellable, error))
        return FALSE;
      break;
    case MODE_IMAGE:
      empty = w->image == NULL;
      if (!empty && !write_png (w, error))
        return FALSE;
      break;
    default:
      /* no writer: nothing arrived (an empty file), or a URI-only pad */
      if (!w && ref->uri)
        return TRUE;
      empty = TRUE;
      break;
  }
  if (empty) {
    g_autofree gchar *name = wr2v_reference_name (ref);

    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "Reference %s ended before sending any data. Check its source.", name);
    return FALSE;
  }
  /* a file passed through is checked before anything is uploaded */
  if (w->mode == MODE_COPY && !wr2v_reference_check (ref, w->path, w->mime,
          cancellable, error))
    return FALSE;
  g_free (ref->sha256);
  ref->sha256 = g_strdup (wr2v_sha256_get_string (w->checksum));
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

/* --- work directories ---------------------------------------------------- */

#define WORK_DIR_PREFIX "wanr2v-"
#define WORK_DIR_LOCK ".lock"
/* an unlocked directory (an older version's) this old is abandoned */
#define STALE_WORK_DIR_SECONDS (24 * 3600)
/* younger directories are left alone, even unlocked */
#define NEW_WORK_DIR_SECONDS 60

/* our directories: path -> fd holding the flock on its .lock */
static GMutex work_dirs_lock;
static GHashTable *work_dirs;

/* Removes @dir's files (references are flat files) and @dir. */
static void
remove_tree (const gchar * dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  while (d && (name = g_dir_read_name (d))) {
    g_autofree gchar *path = g_build_filename (dir, name, NULL);

    g_unlink (path);
  }
  g_rmdir (dir);
}

/* Whether @dir holds only what a run puts there (video_N, image_N): a
 * folder of the user's that happens to match the name is left alone. */
static gboolean
holds_only_references (const gchar * dir)
{
  g_autoptr (GDir) d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  if (!d)
    return FALSE;
  while ((name = g_dir_read_name (d))) {
    const gchar *digits;

    if (!g_str_has_prefix (name, "video_")
        && !g_str_has_prefix (name, "image_"))
      return FALSE;
    digits = name + strlen ("video_");
    if (!*digits || strspn (digits, "0123456789") != strlen (digits))
      return FALSE;
  }
  return TRUE;
}

/* Whether the run that made @dir is gone: nobody holds its lock, or, with
 * no lock file (an older version's), it is over a day old and holds only
 * reference files. */
static gboolean
work_dir_abandoned (const gchar * dir, gint64 now)
{
  g_autofree gchar *lock = g_build_filename (dir, WORK_DIR_LOCK, NULL);
  gboolean abandoned;
  GStatBuf st;
  gint fd;

  /* a folder this young may be between its creation and its lock */
  if (g_lstat (dir, &st) != 0 || !S_ISDIR (st.st_mode)
      || st.st_uid != getuid () || now - st.st_mtime < NEW_WORK_DIR_SECONDS)
    return FALSE;
  fd = g_open (lock, O_RDONLY | O_CLOEXEC | O_NOFOLLOW, 0);
  if (fd < 0)
    return now - st.st_mtime > STALE_WORK_DIR_SECONDS
        && holds_only_references (dir);
  abandoned = flock (fd, LOCK_EX | LOCK_NB) == 0;
  close (fd);
  return abandoned;
}

static void
remove_abandoned_work_dirs (void)
{
  const gchar *tmp = g_get_tmp_dir ();
  g_autoptr (GDir) d = g_dir_open (tmp, 0, NULL);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  const gchar *name;

  while (d && (name = g_dir_read_name (d))) {
    g_autofree gchar *path = NULL;

    if (!g_str_has_prefix (name, WORK_DIR_PREFIX)
        || strlen (name) != strlen (WORK_DIR_PREFIX) + 6)
      continue;
    path = g_build_filename (tmp, name, NULL);
    if (work_dir_abandoned (path, now)) {
      GST_INFO ("removing %s, left by a run that died", path);
      remove_tree (path);
    }
  }
}

gchar *
wr2v_work_dir_new (GError ** error)
{
  g_autofree gchar *dir = NULL;
  g_autofree gchar *lock = NULL;
  gint fd;

  ensure_debug ();
  remove_abandoned_work_dirs ();
  dir = g_dir_make_tmp (WORK_DIR_PREFIX "XXXXXX", error);
  if (!dir)
    return NULL;
  lock = g_build_filename (dir, WORK_DIR_LOCK, NULL);
  fd = g_open (lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 || flock (fd, LOCK_EX | LOCK_NB) != 0) {
    int e = errno;

    if (fd >= 0)
      close (fd);
    remove_tree (dir);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "Cannot lock the work directory %s: %s", dir, g_strerror (e));
    return NULL;
  }
  g_mutex_lock (&work_dirs_lock);
  if (!work_dirs)
    work_dirs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_hash_table_replace (work_dirs, g_strdup (dir), GINT_TO_POINTER (fd));
  g_mutex_unlock (&work_dirs_lock);
  return g_steal_pointer (&dir);
}

void
wr2v_work_dir_remove (const gchar * dir)
{
  gpointer key = NULL, fd = NULL;
  gboolean ours;

  if (!dir)
    return;
  remove_tree (dir);
  g_mutex_lock (&work_dirs_lock);
  ours = work_dirs && g_hash_table_steal_extended (work_dirs, dir, &key, &fd);
  g_mutex_unlock (&work_dirs_lock);
  if (ours)
    close (GPOINTER_TO_INT (fd));
  g_free (key);
}
