/* wr2v-clips.c: a clip's last frame, clips joined; see wr2v-clips.h. */
#include "wr2v-clips.h"
#include "wr2v-error.h"

#include <gst/gst.h>
#include <gst/app/gstappsrc.h>
#include <gst/pbutils/pbutils.h>

#include "wr2v-mp4.h"

GST_DEBUG_CATEGORY_STATIC (wr2v_clips_debug);
#define GST_CAT_DEFAULT wr2v_clips_debug

/* How often a running pipeline looks at the cancellable. */
#define CANCEL_CHECK (100 * GST_MSECOND)

static void
init_debug (void)
{
  static gsize once;

  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (wr2v_clips_debug, "wanr2vclips", 0,
        "wanr2v clips: last frames, joins");
    g_once_init_leave (&once, 1);
  }
}

/* Plays @pipeline to EOS; @what names the work in errors. The caller
 * sets it to NULL, after reading what its sinks kept. */
static gboolean
run_to_eos (GstElement * pipeline, const gchar * what,
    GCancellable * cancellable, GError ** error)
{
  g_autoptr (GstBus) bus = gst_element_get_bus (pipeline);
  gboolean ok = FALSE;

  if (gst_element_set_state (pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_BAD_RESULT,
        "Cannot %s: the pipeline did not start", what);
    return FALSE;
  }
  for (;;) {
    GstMessage *msg = gst_bus_timed_pop_filtered (bus, CANCEL_CHECK,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR);

    if (g_cancellable_set_error_if_cancelled (cancellable, error)) {
      g_clear_pointer (&msg, gst_message_unref);
      break;
    }
    if (!msg)
      continue;
    if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
      g_autoptr (GError) err = NULL;

      gst_message_parse_error (msg, &err, NULL);
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_BAD_RESULT,
          "Cannot %s: %s", what, err->message);
    } else {
      ok = TRUE;
    }
    gst_message_unref (msg);
    break;
  }
  return ok;
}

static GstElement *
parse_with_location (const gchar * description, const gchar * name,
    const gchar * location, GError ** error)
{
  GError *err = NULL;
  GstElement *pipeline = gst_parse_launch (description, &err);
  GstElement *el;

  if (!pipeline || err) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "A GStreamer element is missing: %s", err ? err->message : "?");
    g_clear_error (&err);
    g_clear_object (&pipeline);
    return NULL;
  }
  el = gst_bin_get_by_name (GST_BIN (pipeline), name);
  g_object_set (el, "location", location, NULL);
  gst_object_unref (el);
  return pipeline;
}

static gboolean
write_png (GstSample * sample, const gchar * png, GCancellable * cancellable,
    GError ** error)
{
  g_autoptr (GstElement) pipeline = parse_with_location ("appsrc name=src "
      "format=time ! videoconvert ! pngenc snapshot=false ! "
      "filesink name=sink", "sink", png, error);
  g_autoptr (GstElement) src = NULL;
  gboolean ok;

  if (!pipeline)
    return FALSE;
  src = gst_bin_get_by_name (GST_BIN (pipeline), "src");
  gst_app_src_set_caps (GST_APP_SRC (src), gst_sample_get_caps (sample));
  gst_app_src_push_sample (GST_APP_SRC (src), sample);
  gst_app_src_end_of_stream (GST_APP_SRC (src));
  ok = run_to_eos (pipeline, "write the last frame", cancellable, error);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  return ok;
}

gboolean
wr2v_clip_last_frame (const gchar * clip, const gchar * png,
    GCancellable * cancellable, GError ** error)
{
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstElement) sink = NULL;
  g_autoptr (GstSample) sample = NULL;

  init_debug ();
  pipeline = parse_with_location ("filesrc name=src ! decodebin ! "
      "videoconvert ! fakesink name=sink sync=false enable-last-sample=true",
      "src", clip, error);
  if (!pipeline)
    return FALSE;
  sink = gst_bin_get_by_name (GST_BIN (pipeline), "sink");
  /* read before NULL, which drops it */
  if (run_to_eos (pipeline, "read the clip's last frame", cancellable, error))
    g_object_get (sink, "last-sample", &sample, NULL);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  if (!sample && error && *error)
    return FALSE;
  if (!sample) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_BAD_RESULT,
        "The clip %s has no video frame to continue from", clip);
    return FALSE;
  }
  GST_DEBUG ("last frame of %s: %" GST_PTR_FORMAT, clip,
      gst_sample_get_buffer (sample));
  return write_png (sample, png, cancellable, error);
}

/* The join: per clip, filesrc ! qtdemux, whose streams go to one concat
 * per kind (video, audio) in the clips' order, then mp4mux. concat plays
 * its inputs one after the other without changing their segments
 * (adjust-base=false); each clip's demuxer pads are offset by the
 * durations of the clips before it, so that its timestamps (decode and
 * presentation, B-frames included) continue exactly where they end. */
typedef struct
{
  GstPad *video;                /* concat's input for this clip */
  GstPad *audio;                /* or NULL when the clips have no audio */
  GstClockTime offset;
} JoinPart;

static void
link_part (GstElement * demux, GstPad * pad, gpointer data)
{
  JoinPart *part = data;
  GstPad *target = g_str_has_prefix (GST_PAD_NAME (pad), "audio") ?
      part->audio : part->video;

  if (!target || gst_pad_is_linked (target))
    return;
  gst_pad_set_offset (pad, (gint64) part->offset);
  if (gst_pad_link (pad, target) != GST_PAD_LINK_OK)
    GST_WARNING ("cannot join %s", GST_PAD_NAME (pad));
}

/* A clip without one of the streams ends it at once: concat goes on. */
static void
end_unlinked (GstElement * demux, gpointer data)
{
  JoinPart *part = data;

  if (part->audio && !gst_pad_is_linked (part->audio)) {
    gst_pad_send_event (part->audio, gst_event_new_stream_start ("none"));
    gst_pad_send_event (part->audio, gst_event_new_eos ());
  }
}

static gboolean
clips_have_audio (const gchar * clip)
{
  g_autoptr (GstDiscoverer) disc = gst_discoverer_new (10 * GST_SECOND, NULL);
  g_autoptr (GstDiscovererInfo) info = NULL;
  g_autofree gchar *uri = gst_filename_to_uri (clip, NULL);
  GList *audio;
  gboolean has;

  if (!disc || !uri)
    return FALSE;
  info = gst_discoverer_discover_uri (disc, uri, NULL);
  audio = info ? gst_discoverer_info_get_audio_streams (info) : NULL;
  has = audio != NULL;
  gst_discoverer_stream_info_list_free (audio);
  return has;
}

/* concat ! [h264parse ! avc3] ! queue ! mux. The queue lets one
 * demuxer feed both kinds (its one thread would block on one of the mux's
 * pads while the mux waits for the other); compressed clips are small, so
 * it holds a whole one. H.264 goes as avc3, its parameter sets in band at
 * each clip's first frame: two encodes may differ in them (an image's
 * colorimetry in the VUI), and one sample description of avc would decode
 * the other clip's frames with the wrong ones. */
static GstElement *
add_concat (GstElement * pipeline, GstElement * mux, const gchar * kind)
{
  GstElement *concat = gst_element_factory_make ("concat", NULL);
  GstElement *queue = gst_element_factory_make ("queue", NULL);
  GstElement *last = concat;
  g_autoptr (GstPad) src = NULL;
  g_autoptr (GstPad) sink = NULL;

  g_object_set (concat, "adjust-base", FALSE, NULL);
  g_object_set (queue, "max-size-time", (guint64) 0, "max-size-buffers", 0,
      "max-size-bytes", 256 * 1024 * 1024, NULL);
  gst_bin_add_many (GST_BIN (pipeline), concat, queue, NULL);
  if (g_str_has_prefix (kind, "video")) {
    GstElement *parse = gst_element_factory_make ("h264parse", NULL);
    GstElement *filter = gst_element_factory_make ("capsfilter", NULL);
    g_autoptr (GstCaps) caps = gst_caps_from_string ("video/x-h264, "
        "stream-format=avc3, alignment=au");

    g_object_set (parse, "config-interval", -1, NULL);
    g_object_set (filter, "caps", caps, NULL);
    gst_bin_add_many (GST_BIN (pipeline), parse, filter, NULL);
    gst_element_link_many (concat, parse, filter, NULL);
    last = filter;
  }
  gst_element_link (last, queue);
  src = gst_element_get_static_pad (queue, "src");
  sink = gst_element_request_pad_simple (mux, kind);
  gst_pad_link (src, sink);
  return concat;
}

gboolean
wr2v_clips_join (const gchar * const *clips, const gchar * out,
    GCancellable * cancellable, GError ** error)
{
  g_autoptr (GstElement) pipeline = NULL;
  g_autoptr (GstElement) mux = NULL;
  g_autofree JoinPart *parts = NULL;
  GstElement *vconcat, *aconcat = NULL;
  guint n = g_strv_length ((gchar **) clips);
  GstClockTime offset = 0;
  gboolean ok = TRUE;

  init_debug ();
  pipeline = parse_with_location ("mp4mux name=mux ! filesink name=sink",
      "sink", out, error);
  if (!pipeline)
    return FALSE;
  mux = gst_bin_get_by_name (GST_BIN (pipeline), "mux");
  vconcat = add_concat (pipeline, mux, "video_%u");
  if (clips_have_audio (clips[0]))
    aconcat = add_concat (pipeline, mux, "audio_%u");
  parts = g_new0 (JoinPart, n);
  for (guint i = 0; ok && i < n; i++) {
    GstElement *src = gst_element_factory_make ("filesrc", NULL);
    GstElement *demux = gst_element_factory_make ("qtdemux", NULL);
    gdouble seconds = 0;

    ok = wr2v_mp4_duration (clips[i], &seconds, error);
    parts[i].offset = offset;
    offset += (GstClockTime) (seconds * GST_SECOND + 0.5);
    parts[i].video = gst_element_request_pad_simple (vconcat, "sink_%u");
    if (aconcat)
      parts[i].audio = gst_element_request_pad_simple (aconcat, "sink_%u");
    g_object_set (src, "location", clips[i], NULL);
    gst_bin_add_many (GST_BIN (pipeline), src, demux, NULL);
    gst_element_link (src, demux);
    g_signal_connect (demux, "pad-added", G_CALLBACK (link_part), &parts[i]);
    g_signal_connect (demux, "no-more-pads", G_CALLBACK (end_unlinked),
        &parts[i]);
  }
  if (ok)
    ok = run_to_eos (pipeline, "join the clips", cancellable, error);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  for (guint i = 0; i < n; i++) {
    gst_clear_object (&parts[i].video);
    gst_clear_object (&parts[i].audio);
  }
  return ok;
}
