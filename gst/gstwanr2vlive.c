/* gstwanr2vlive.c: the live switch of the wanr2v bin; see gstwanr2vlive.h.
 *
 * Learnt from gst-plugins-rs' fallbackswitch (which Debian's 1.22 does
 * not ship): a clock wait for each output slot decides which input is on
 * air (there: a timeout on the main input sends the fallback; here:
 * whether the clip's first frame is queued), and what goes out is stamped
 * on the running time, so that a live sink downstream never waits. Unlike
 * fallbackswitch, the switch goes one way (placeholder, then the clip),
 * the output runs on the clock even with no input at all, and the clip
 * is never late enough to be dropped: once switched, every clip frame is
 * output, one per frame period, stamped from a counter.
 *
 * Threads: one task per src pad (video: one frame per iteration; audio:
 * one chunk); the clip's streaming threads only queue into the sink pads
 * (bounded, they wait while the queue is full). The placeholder comes
 * from a small pipeline of its own ending in an appsink, pulled without
 * waiting by the video task; placeholder=preview's sound likewise, by the
 * audio task. self->lock guards everything below "run state"; the clock
 * waits are unscheduled by a pause, a stop or an EOS.
 */
#include "gstwanr2vlive.h"
#include "gstwanr2vtypes.h"

#include <gst/app/gstappsink.h>
#include <gst/audio/audio.h>
#include <gst/video/video.h>

GST_DEBUG_CATEGORY_STATIC (gst_wanr2v_live_debug);
#define GST_CAT_DEFAULT gst_wanr2v_live_debug

/* clip frames queued ahead of the output (raw video, so few) */
#define MAX_QUEUED_FRAMES 3
/* audio output chunks, and clip audio queued ahead */
#define AUDIO_CHUNK (GST_SECOND / 50)
#define MAX_QUEUED_AUDIO GST_SECOND
/* how long the audio waits for the clip's sound before it fills silence */
#define AUDIO_LATE_LIMIT_US G_USEC_PER_SEC
#define LIVE_AUDIO_CAPS "audio/x-raw, format=S16LE, layout=interleaved, " \
    "rate=48000, channels=2, channel-mask=(bitmask)0x3"

static GstStaticPadTemplate video_sink_template =
GST_STATIC_PAD_TEMPLATE ("video_sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("video/x-raw"));
static GstStaticPadTemplate audio_sink_template =
GST_STATIC_PAD_TEMPLATE ("audio_sink", GST_PAD_SINK, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("audio/x-raw"));
static GstStaticPadTemplate video_src_template =
GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("video/x-raw"));
static GstStaticPadTemplate audio_src_template =
GST_STATIC_PAD_TEMPLATE ("audio_src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("audio/x-raw"));

/* One output: its pads and the clip's data queued for it. */
typedef struct
{
  GstPad *sinkpad, *srcpad;
  GstCaps *caps;                /* the output's fixed caps, once decided */
  gboolean clip_eos;            /* the clip's EOS came in */
  gboolean in_flushing;         /* the clip's branch is flushing */
  gboolean started;             /* stream-start, caps, segment are out */
  gboolean done;                /* EOS is out */
  GstClockID clock_id;          /* the task's clock wait, to unschedule */
} LiveStream;

struct _GstWanR2vLive
{
  GstElement parent;

  GMutex lock;
  GCond cond;

  /* settings (lock), from gst_wanr2v_live_configure() */
  gboolean on;
  GstWanR2vPlaceholder placeholder;
  gchar *location;
  GstWanR2vAfterClip after_clip;
  gint width, height;
  GstWanR2vAudio audio_mode;    /* see gst_wanr2v_live_configure() */
  gchar *status;                /* the slate's text */
  gchar *animatic;              /* the preview's MP4, once rendered */

  /* run state (lock) */
  LiveStream video, audio;
  gboolean playing, stopping, ending;
  /* both pads' segment and EOS carry it, as a source's do (basesrc):
   * one stream operation from the first frame to the end */
  guint32 seqnum;
  GstClockTime origin;          /* running time of frame 0 and sample 0 */
  GstClockTime switch_rt;       /* running time of the clip's first frame */
  gboolean switch_posted;
  gboolean loop_pending;        /* a seek back to the clip's start is out */
  GQueue frames;                /* the clip's, not output yet */
  GstBuffer *last_frame;        /* the last output (after-clip=hold) */
  GstAdapter *sound;            /* the clip's audio, not output yet */
  gboolean audio_switched;

  /* the video task's own */
  guint64 n_frames;
  gint fps_n, fps_d;
  GstBuffer *placeholder_frame;
  GstElement *ph_pipeline;      /* the placeholder's: see start_placeholder() */
  GstElement *ph_sink;
  GstElement *ph_text;
  GstWanR2vPlaceholder ph_kind;
  gboolean ph_loops;

  /* the audio task's own */
  guint64 n_samples;
  GstAudioInfo ainfo;
  GstElement *bed_pipeline;     /* the animatic's sound: see start_bed() */
  GstElement *bed_sink;
  GstAdapter *bed;              /* its samples, not output yet */
  gboolean bed_failed;          /* silence for the rest of the run */
};

#define gst_wanr2v_live_parent_class parent_class
G_DEFINE_TYPE (GstWanR2vLive, gst_wanr2v_live, GST_TYPE_ELEMENT);

/* --- enums --- */

static const GEnumValue placeholder_values[] = {
  {GST_WANR2V_PLACEHOLDER_PREVIEW, "The preview engine's animatic of the "
        "same request, rendered offline (a slate until it is ready)",
      "preview"},
  {GST_WANR2V_PLACEHOLDER_IMAGE, "A still image from placeholder-location",
      "image"},
  {GST_WANR2V_PLACEHOLDER_SLATE, "A slate showing the job's phase and "
        "progress", "slate"},
  {0, NULL, NULL}
};

GST_WANR2V_ENUM_TYPE (gst_wanr2v_placeholder_get_type, "GstWanR2vPlaceholder",
    placeholder_values);

static const GEnumValue after_clip_values[] = {
  {GST_WANR2V_AFTER_CLIP_EOS, "End the stream (EOS) after the clip", "eos"},
  {GST_WANR2V_AFTER_CLIP_HOLD, "Hold the clip's last frame (and silence)",
      "hold"},
  {GST_WANR2V_AFTER_CLIP_LOOP, "Play the clip again, and again", "loop"},
  {0, NULL, NULL}
};

GST_WANR2V_ENUM_TYPE (gst_wanr2v_after_clip_get_type, "GstWanR2vAfterClip",
    after_clip_values);

static const GEnumValue live_error_values[] = {
  {GST_WANR2V_LIVE_ERROR_KEEP_ON_AIR, "Keep the placeholder on air and "
        "post the error as a warning", "keep-on-air"},
  {GST_WANR2V_LIVE_ERROR_ERROR, "Post the error: the pipeline stops",
      "error"},
  {0, NULL, NULL}
};

GST_WANR2V_ENUM_TYPE (gst_wanr2v_live_error_get_type, "GstWanR2vLiveError",
    live_error_values);

/* --- time --- */

static GstClockTime
running_time_now (GstWanR2vLive * self)
{
  GstClock *clock = gst_element_get_clock (GST_ELEMENT (self));
  GstClockTime now, base;

  if (!clock)
    return GST_CLOCK_TIME_NONE;
  now = gst_clock_get_time (clock);
  base = gst_element_get_base_time (GST_ELEMENT (self));
  gst_object_unref (clock);
  return now > base ? now - base : 0;
}

/* Waits until the running time @rt; FALSE when a pause, a stop or an
 * EOS unscheduled the wait. */
static gboolean
wait_until (GstWanR2vLive * self, LiveStream * stream, GstClockTime rt)
{
  GstClock *clock = gst_element_get_clock (GST_ELEMENT (self));
  GstClockReturn ret;
  GstClockID id;

  if (!clock)
    return TRUE;
  g_mutex_lock (&self->lock);
  if (!self->playing || self->stopping || self->ending) {
    g_mutex_unlock (&self->lock);
    gst_object_unref (clock);
    return FALSE;
  }
  id = stream->clock_id = gst_clock_new_single_shot_id (clock,
      gst_element_get_base_time (GST_ELEMENT (self)) + rt);
  g_mutex_unlock (&self->lock);
  ret = gst_clock_id_wait (id, NULL);
  g_mutex_lock (&self->lock);
  stream->clock_id = NULL;
  g_mutex_unlock (&self->lock);
  gst_clock_id_unref (id);
  gst_object_unref (clock);
  return ret == GST_CLOCK_OK || ret == GST_CLOCK_EARLY;
}

/* Wakes every wait: the cond and the clock. Called with the lock. */
static void
wake_all (GstWanR2vLive * self)
{
  if (self->video.clock_id)
    gst_clock_id_unschedule (self->video.clock_id);
  if (self->audio.clock_id)
    gst_clock_id_unschedule (self->audio.clock_id);
  g_cond_broadcast (&self->cond);
}

/* The task waits for PLAYING; FALSE on a stop. */
static gboolean
wait_playing (GstWanR2vLive * self)
{
  gboolean go;

  g_mutex_lock (&self->lock);
  while (!self->playing && !self->stopping && !self->ending)
    g_cond_wait (&self->cond, &self->lock);
  go = !self->stopping;
  g_mutex_unlock (&self->lock);
  return go;
}

/* --- caps --- */

/* Fixates @s towards @want's field values: missing fields are added,
 * ranges and lists fixated nearest to them. */
static gboolean
fixate_towards (GQuark field, const GValue * want, gpointer user_data)
{
  GstStructure *s = user_data;
  const gchar *name = g_quark_to_string (field);

  if (!gst_structure_has_field (s, name))
    gst_structure_id_set_value (s, field, want);
  else if (G_VALUE_HOLDS_INT (want))
    gst_structure_fixate_field_nearest_int (s, name, g_value_get_int (want));
  else if (GST_VALUE_HOLDS_FRACTION (want))
    gst_structure_fixate_field_nearest_fraction (s, name,
        gst_value_get_fraction_numerator (want),
        gst_value_get_fraction_denominator (want));
  else if (G_VALUE_HOLDS_STRING (want))
    gst_structure_fixate_field_string (s, name, g_value_get_string (want));
  return TRUE;
}

GstCaps *
gst_wanr2v_live_caps_for_peer (GstPad * pad, GstCaps * want)
{
  GstCaps *peer = gst_pad_peer_query_caps (pad, NULL);
  GstCaps *caps = gst_caps_intersect (peer, want);

  if (gst_caps_is_empty (caps)) {
    GstCaps *templ = gst_pad_get_pad_template_caps (pad);

    gst_caps_unref (caps);
    caps = gst_caps_intersect (peer, templ);
    gst_caps_unref (templ);
  }
  gst_caps_unref (peer);
  if (gst_caps_is_empty (caps) || gst_caps_is_any (caps)) {
    gst_caps_unref (caps);
    return NULL;
  }
  caps = gst_caps_truncate (caps);
  caps = gst_caps_make_writable (caps);
  gst_structure_foreach (gst_caps_get_structure (want, 0), fixate_towards,
      gst_caps_get_structure (caps, 0));
  return gst_caps_fixate (caps);
}

/* The output caps of @stream, decided once per run from what downstream
 * takes: the clip's size at 30 fps, and the bin's silence format. */
static GstCaps *
stream_caps (GstWanR2vLive * self, LiveStream * stream)
{
  GstCaps *want, *caps;

  g_mutex_lock (&self->lock);
  caps = stream->caps ? gst_caps_ref (stream->caps) : NULL;
  g_mutex_unlock (&self->lock);
  if (caps)
    return caps;
  if (stream == &self->audio)
    want = gst_caps_from_string (LIVE_AUDIO_CAPS);
  else
    want = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING,
        "I420", "width", G_TYPE_INT, self->width, "height", G_TYPE_INT,
        self->height, "framerate", GST_TYPE_FRACTION, 30, 1,
        "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
  caps = gst_wanr2v_live_caps_for_peer (stream->srcpad, want);
  gst_caps_unref (want);
  if (!caps)
    return NULL;
  g_mutex_lock (&self->lock);
  if (!stream->caps)
    stream->caps = gst_caps_ref (caps);
  gst_caps_unref (caps);
  caps = gst_caps_ref (stream->caps);
  g_mutex_unlock (&self->lock);
  return caps;
}

/* stream-start, caps and a segment in running time (base 0, start 0:
 * timestamps are running times). FALSE: no caps downstream takes. */
static gboolean
start_stream (GstWanR2vLive * self, LiveStream * stream, const gchar * id)
{
  g_autofree gchar *sid = NULL;
  GstCaps *caps;
  GstSegment segment;
  GstEvent *event;

  if (stream->started)
    return TRUE;
  caps = stream_caps (self, stream);
  if (!caps) {
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("Downstream takes no raw format the live output can make"),
        ("%s: no caps", GST_PAD_NAME (stream->srcpad)));
    return FALSE;
  }
  sid = gst_wanr2v_stream_id_new (id);
  gst_pad_push_event (stream->srcpad, gst_event_new_stream_start (sid));
  gst_pad_push_event (stream->srcpad, gst_event_new_caps (caps));
  if (stream == &self->video) {
    GstVideoInfo vinfo;

    gst_video_info_from_caps (&vinfo, caps);
    self->fps_n = vinfo.fps_n > 0 ? vinfo.fps_n : 30;
    self->fps_d = vinfo.fps_n > 0 ? vinfo.fps_d : 1;
  } else {
    /* read by the clip's audio thread too (queue_full()) */
    g_mutex_lock (&self->lock);
    gst_audio_info_from_caps (&self->ainfo, caps);
    g_mutex_unlock (&self->lock);
  }
  gst_caps_unref (caps);
  gst_segment_init (&segment, GST_FORMAT_TIME);
  event = gst_event_new_segment (&segment);
  gst_event_set_seqnum (event, self->seqnum);
  gst_pad_push_event (stream->srcpad, event);
  stream->started = TRUE;
  return TRUE;
}

/* Ends @stream: EOS once, and its task pauses. */
static void
end_stream (GstWanR2vLive * self, LiveStream * stream)
{
  if (!stream->done) {
    GstEvent *eos = gst_event_new_eos ();

    GST_INFO_OBJECT (stream->srcpad, "EOS");
    gst_event_set_seqnum (eos, self->seqnum);
    gst_pad_push_event (stream->srcpad, eos);
    stream->done = TRUE;
  }
  gst_pad_pause_task (stream->srcpad);
}

/* --- the placeholder --- */

/* A pipeline of its own ending in an appsink that holds the latest
 * frame, in the output's format (the framerate aside): a slate (a black
 * live test source at 1 fps under the status text), an image (decoded,
 * scaled once) or the animatic (decoded, re-timed, looped). Made by the
 * video task, which pulls from it without waiting. */
static void
start_placeholder (GstWanR2vLive * self, GstWanR2vPlaceholder kind,
    const gchar * path)
{
  static const gchar *const desc[] = {
    /* preview: the animatic, looped */
    "filesrc name=file ! decodebin ! videoconvert ! videoscale "
        "add-borders=true ! videorate ! capsfilter name=cf ! "
        "appsink name=out max-buffers=2 sync=false",
    /* image */
    "filesrc name=file ! decodebin ! videoconvert ! videoscale "
        "add-borders=true ! capsfilter name=cf ! "
        "appsink name=out max-buffers=1 sync=false",
    /* slate */
    "videotestsrc is-live=true pattern=black ! capsfilter name=cf ! "
        "textoverlay name=text valignment=center halignment=center "
        "line-alignment=center ! "
        "appsink name=out max-buffers=1 drop=true sync=false",
  };
  g_autoptr (GError) err = NULL;
  GstElement *p = gst_parse_launch (desc[kind], &err);
  GstElement *cf, *file;
  GstCaps *caps;
  gchar *font;

  if (!p || err) {
    GST_ELEMENT_WARNING (self, CORE, MISSING_PLUGIN,
        ("Cannot make the live placeholder"), ("%s", err->message));
    gst_clear_object (&p);
    return;
  }
  caps = gst_caps_copy (self->video.caps);
  if (kind == GST_WANR2V_PLACEHOLDER_SLATE)
    gst_caps_set_simple (caps, "framerate", GST_TYPE_FRACTION, 1, 1, NULL);
  else if (kind == GST_WANR2V_PLACEHOLDER_IMAGE)
    gst_structure_remove_field (gst_caps_get_structure (caps, 0), "framerate");
  cf = gst_bin_get_by_name (GST_BIN (p), "cf");
  g_object_set (cf, "caps", caps, NULL);
  gst_object_unref (cf);
  gst_caps_unref (caps);
  file = gst_bin_get_by_name (GST_BIN (p), "file");
  if (file) {
    g_object_set (file, "location", path, NULL);
    gst_object_unref (file);
  }
  self->ph_sink = gst_bin_get_by_name (GST_BIN (p), "out");
  self->ph_text = gst_bin_get_by_name (GST_BIN (p), "text");
  if (self->ph_text) {
    font = g_strdup_printf ("Sans %dpx", MAX (12, self->height / 16));
    g_object_set (self->ph_text, "font-desc", font, NULL);
    g_free (font);
  }
  g_mutex_lock (&self->lock);
  self->ph_pipeline = p;
  self->ph_kind = kind;
  self->ph_loops = kind == GST_WANR2V_PLACEHOLDER_PREVIEW;
  if (self->ph_text) {
    g_autofree gchar *text = g_markup_escape_text (self->status ?
        self->status : "Generating the clip", -1);

    g_object_set (self->ph_text, "text", text, NULL);
  }
  g_mutex_unlock (&self->lock);
  GST_INFO_OBJECT (self, "placeholder: %s %s",
      g_enum_get_value (g_type_class_peek (GST_TYPE_WANR2V_PLACEHOLDER),
          kind)->value_nick, path ? path : "");
  gst_element_set_state (p, GST_STATE_PLAYING);
}

/* A black frame of the output's caps, made at once: what is on air until
 * the placeholder's first frame (a slate's font takes a while to load).
 * Black I420 (Y 16, U and V 128) converted to the output's format. */
static GstBuffer *
black_frame (GstWanR2vLive * self)
{
  GstVideoInfo in, out;
  GstVideoFrame src, dst;
  GstVideoConverter *conv;
  GstBuffer *black, *buf = NULL;

  if (!gst_video_info_from_caps (&out, self->video.caps) ||
      !gst_video_info_set_format (&in, GST_VIDEO_FORMAT_I420,
          GST_VIDEO_INFO_WIDTH (&out), GST_VIDEO_INFO_HEIGHT (&out)))
    return NULL;
  /* the converter wants the rest alike */
  GST_VIDEO_INFO_FPS_N (&in) = GST_VIDEO_INFO_FPS_N (&out);
  GST_VIDEO_INFO_FPS_D (&in) = GST_VIDEO_INFO_FPS_D (&out);
  GST_VIDEO_INFO_PAR_N (&in) = GST_VIDEO_INFO_PAR_N (&out);
  GST_VIDEO_INFO_PAR_D (&in) = GST_VIDEO_INFO_PAR_D (&out);
  GST_VIDEO_INFO_INTERLACE_MODE (&in) = GST_VIDEO_INFO_INTERLACE_MODE (&out);
  black = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&in), NULL);
  gst_buffer_memset (black, 0, 16, GST_VIDEO_INFO_PLANE_OFFSET (&in, 1));
  gst_buffer_memset (black, GST_VIDEO_INFO_PLANE_OFFSET (&in, 1), 128,
      GST_VIDEO_INFO_SIZE (&in) - GST_VIDEO_INFO_PLANE_OFFSET (&in, 1));
  conv = gst_video_converter_new (&in, &out, NULL);
  if (conv) {
    buf = gst_buffer_new_allocate (NULL, GST_VIDEO_INFO_SIZE (&out), NULL);
    gst_video_frame_map (&src, &in, black, GST_MAP_READ);
    gst_video_frame_map (&dst, &out, buf, GST_MAP_WRITE);
    gst_video_converter_frame (conv, &src, &dst);
    gst_video_frame_unmap (&dst);
    gst_video_frame_unmap (&src);
    gst_video_converter_free (conv);
  }
  gst_buffer_unref (black);
  return buf;
}

/* Takes the placeholder's pipeline down; by the video task, or once the
 * tasks have stopped. */
static void
stop_placeholder (GstWanR2vLive * self)
{
  GstElement *p;

  g_mutex_lock (&self->lock);
  p = g_steal_pointer (&self->ph_pipeline);
  g_mutex_unlock (&self->lock);
  if (!p)
    return;
  gst_element_set_state (p, GST_STATE_NULL);
  gst_clear_object (&self->ph_sink);
  gst_clear_object (&self->ph_text);
  gst_object_unref (p);
}

/* The placeholder this run shows now: the animatic once rendered, the
 * user's image, else the slate. */
static void
choose_placeholder (GstWanR2vLive * self)
{
  GstWanR2vPlaceholder kind;
  g_autofree gchar *path = NULL;

  g_mutex_lock (&self->lock);
  kind = self->placeholder;
  if (kind == GST_WANR2V_PLACEHOLDER_PREVIEW)
    path = g_strdup (self->animatic);
  else if (kind == GST_WANR2V_PLACEHOLDER_IMAGE)
    path = g_strdup (self->location);
  g_mutex_unlock (&self->lock);
  if (kind == GST_WANR2V_PLACEHOLDER_IMAGE && !path) {
    GST_ELEMENT_WARNING (self, RESOURCE, NOT_FOUND,
        ("placeholder=image needs placeholder-location: showing a slate"),
        (NULL));
    g_mutex_lock (&self->lock);
    self->placeholder = GST_WANR2V_PLACEHOLDER_SLATE;   /* warned once */
    g_mutex_unlock (&self->lock);
  }
  if (!path)
    kind = GST_WANR2V_PLACEHOLDER_SLATE;
  if (self->ph_pipeline && self->ph_kind == kind)
    return;
  stop_placeholder (self);
  start_placeholder (self, kind, path);
}

/* Takes the placeholder's newest frame, if any, without waiting (but
 * for the first, which the output needs); an image or animatic that
 * cannot be read gives way to the slate, with a warning; the animatic
 * loops. On the video task. */
static void
refresh_placeholder (GstWanR2vLive * self)
{
  GstAppSink *sink = GST_APP_SINK (self->ph_sink);
  GstBus *bus = gst_element_get_bus (self->ph_pipeline);
  GstMessage *m = gst_bus_pop_filtered (bus, GST_MESSAGE_ERROR);
  GstSample *sample;

  gst_object_unref (bus);
  if (m) {
    g_autoptr (GError) err = NULL;

    gst_message_parse_error (m, &err, NULL);
    gst_message_unref (m);
    if (self->ph_kind != GST_WANR2V_PLACEHOLDER_SLATE) {
      GST_ELEMENT_WARNING (self, RESOURCE, READ,
          ("Cannot show the live placeholder: %s; showing a slate",
              err->message), (NULL));
      g_mutex_lock (&self->lock);
      self->placeholder = GST_WANR2V_PLACEHOLDER_SLATE;
      g_mutex_unlock (&self->lock);
      stop_placeholder (self);
      start_placeholder (self, GST_WANR2V_PLACEHOLDER_SLATE, NULL);
    }
    return;
  }
  sample = gst_app_sink_try_pull_sample (sink, 0);
  if (sample) {
    gst_buffer_replace (&self->placeholder_frame,
        gst_sample_get_buffer (sample));
    gst_sample_unref (sample);
  } else if (self->ph_loops && gst_app_sink_is_eos (sink)) {
    gst_element_seek_simple (self->ph_pipeline, GST_FORMAT_TIME,
        GST_SEEK_FLAG_FLUSH, 0);
  }
}

/* --- the video task --- */

static GstClockTime
frame_time (GstWanR2vLive * self, guint64 n)
{
  return gst_util_uint64_scale (n, GST_SECOND * self->fps_d, self->fps_n);
}

/* after-clip=loop: the clip from its start again, seeked from its sink
 * pad on a thread of the element's (not a streaming thread) */
static void
seek_clip_start (GstElement * element, gpointer user_data)
{
  GstWanR2vLive *self = GST_WANR2V_LIVE (element);

  if (!gst_pad_push_event (self->video.sinkpad, gst_event_new_seek (1.0,
              GST_FORMAT_TIME, GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE,
              GST_SEEK_TYPE_SET, 0, GST_SEEK_TYPE_NONE, -1))) {
    GST_WARNING_OBJECT (self, "the clip cannot be seeked: holding its end");
    g_mutex_lock (&self->lock);
    self->after_clip = GST_WANR2V_AFTER_CLIP_HOLD;
    g_cond_broadcast (&self->cond);
    g_mutex_unlock (&self->lock);
  }
}

typedef enum
{
  NEXT_FRAME,
  NEXT_END,                     /* EOS */
  NEXT_STOP,                    /* a stop or a pause: nothing */
} NextFrame;

/* The clip's next frame, once switched: queued, or after the clip what
 * after-clip says; waits for the clip's decoder, never repeats or skips
 * one of its frames. With the lock. */
static NextFrame
next_clip_frame (GstWanR2vLive * self, GstBuffer ** out, gboolean * first)
{
  for (;;) {
    if (self->stopping)
      return NEXT_STOP;
    if (self->ending)
      return NEXT_END;
    if (self->frames.length) {
      *out = g_queue_pop_head (&self->frames);
      *first = !self->switch_posted;
      self->switch_posted = TRUE;
      gst_buffer_replace (&self->last_frame, *out);
      g_cond_broadcast (&self->cond);
      return NEXT_FRAME;
    }
    if (self->video.clip_eos) {
      if (self->after_clip == GST_WANR2V_AFTER_CLIP_EOS)
        return NEXT_END;
      if (self->after_clip == GST_WANR2V_AFTER_CLIP_HOLD) {
        *out = gst_buffer_ref (self->last_frame);
        return NEXT_FRAME;
      }
      if (!self->loop_pending) {
        self->loop_pending = TRUE;
        gst_element_call_async (GST_ELEMENT (self), seek_clip_start, NULL,
            NULL);
      }
    }
    g_cond_wait (&self->cond, &self->lock);
  }
}

/* Before the frame at @pts is waited for: the switch is decided a frame
 * ahead, so that the audio task, which lags a chunk behind the clock,
 * knows it before it passes it. Posts nothing. With the lock. */
static void
decide_switch (GstWanR2vLive * self, GstClockTime pts)
{
  if (GST_CLOCK_TIME_IS_VALID (self->switch_rt) || !self->frames.length)
    return;
  self->switch_rt = pts;
  GST_INFO_OBJECT (self, "switching to the clip at running time %"
      GST_TIME_FORMAT " (frame %" G_GUINT64_FORMAT ")", GST_TIME_ARGS (pts),
      self->n_frames);
}

static void
post_switched (GstWanR2vLive * self, GstClockTime rt)
{
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("wanr2v/switched", "running-time", G_TYPE_UINT64,
              rt, "frame", G_TYPE_UINT64, self->n_frames, NULL)));
}

/* Pushes @buf as frame n_frames, stamped on the running time. */
static GstFlowReturn
push_frame (GstWanR2vLive * self, GstBuffer * buf, GstClockTime pts)
{
  buf = gst_buffer_make_writable (buf);
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DTS (buf) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION (buf) = self->origin + frame_time (self,
      self->n_frames + 1) - pts;
  GST_BUFFER_OFFSET (buf) = self->n_frames;
  GST_BUFFER_OFFSET_END (buf) = self->n_frames + 1;
  if (self->n_frames == 0)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
  else
    GST_BUFFER_FLAG_UNSET (buf, GST_BUFFER_FLAG_DISCONT);
  return gst_pad_push (self->video.srcpad, buf);
}

/* A flow return that ends the task: FLUSHING and EOS quietly, errors
 * as a source posts them. NOT_LINKED goes on (a live source runs on). */
static gboolean
flow_goes_on (GstWanR2vLive * self, LiveStream * stream, GstFlowReturn ret)
{
  if (ret == GST_FLOW_OK || ret == GST_FLOW_NOT_LINKED)
    return TRUE;
  GST_DEBUG_OBJECT (stream->srcpad, "pausing: %s", gst_flow_get_name (ret));
  if (ret < GST_FLOW_EOS) {
    GST_ELEMENT_FLOW_ERROR (self, ret);
    end_stream (self, stream);
  }
  gst_pad_pause_task (stream->srcpad);
  return FALSE;
}

static void
video_loop (gpointer user_data)
{
  GstWanR2vLive *self = user_data;
  LiveStream *v = &self->video;
  GstBuffer *buf = NULL;
  GstClockTime pts;
  gboolean switched, first = FALSE;
  NextFrame next = NEXT_FRAME;

  if (!wait_playing (self) || !start_stream (self, v, "live-video")) {
    gst_pad_pause_task (v->srcpad);
    return;
  }
  g_mutex_lock (&self->lock);
  switched = GST_CLOCK_TIME_IS_VALID (self->switch_rt);
  g_mutex_unlock (&self->lock);
  /* the first frame goes out black, before the placeholder starts */
  if (!switched && !self->placeholder_frame)
    self->placeholder_frame = black_frame (self);
  else if (!switched) {
    choose_placeholder (self);
    if (self->ph_pipeline)
      refresh_placeholder (self);
  }

  g_mutex_lock (&self->lock);
  if (!GST_CLOCK_TIME_IS_VALID (self->origin)) {
    self->origin = running_time_now (self);
    g_cond_broadcast (&self->cond);
  }
  pts = self->origin + frame_time (self, self->n_frames);
  decide_switch (self, pts);
  g_mutex_unlock (&self->lock);
  if (!wait_until (self, v, pts)) {
    if (self->ending)
      end_stream (self, v);
    return;
  }

  g_mutex_lock (&self->lock);
  if (GST_CLOCK_TIME_IS_VALID (self->switch_rt))
    next = next_clip_frame (self, &buf, &first);
  else if (self->ending)
    next = NEXT_END;
  else if (self->placeholder_frame)
    buf = gst_buffer_ref (self->placeholder_frame);
  g_mutex_unlock (&self->lock);
  if (next == NEXT_END) {
    end_stream (self, v);
    return;
  }
  if (next == NEXT_STOP)
    return;
  if (!buf) {
    /* no placeholder frame yet: time goes on */
    self->n_frames++;
    return;
  }
  if (first) {
    post_switched (self, pts);
    stop_placeholder (self);
  }
  if (flow_goes_on (self, v, push_frame (self, buf, pts)))
    self->n_frames++;
}

/* --- the audio task --- */

/* How many of the samples @start to @start + @n come before the switch
 * (the same sample as the video's switch, by the running time): all of
 * them while it is not decided. With the lock. */
static guint
before_switch (GstWanR2vLive * self, guint64 start, guint n)
{
  guint64 sw;

  if (!GST_CLOCK_TIME_IS_VALID (self->switch_rt))
    return n;
  sw = self->switch_rt > self->origin ?
      gst_util_uint64_scale_round (self->switch_rt - self->origin,
      GST_AUDIO_INFO_RATE (&self->ainfo), GST_SECOND) : 0;
  return sw > start ? (guint) MIN (sw - start, n) : 0;
}

/* placeholder=preview's sound: the animatic's soundtrack (the preview
 * engine's bed), demuxed alone (its picture is the video task's), in the
 * output's format, pulled without waiting and looped like the picture. */
static void
start_bed (GstWanR2vLive * self, const gchar * path)
{
  g_autoptr (GError) err = NULL;
  GstElement *p = gst_parse_launch ("filesrc name=file ! qtdemux name=d "
      "d.audio_0 ! queue ! decodebin ! audioconvert ! audioresample ! "
      "capsfilter name=cf ! appsink name=out max-buffers=10 sync=false",
      &err);
  GstElement *el;

  if (!p || err) {
    GST_WARNING_OBJECT (self, "no placeholder sound: %s",
        err ? err->message : "?");
    gst_clear_object (&p);
    self->bed_failed = TRUE;
    return;
  }
  el = gst_bin_get_by_name (GST_BIN (p), "file");
  g_object_set (el, "location", path, NULL);
  gst_object_unref (el);
  el = gst_bin_get_by_name (GST_BIN (p), "cf");
  g_object_set (el, "caps", self->audio.caps, NULL);
  gst_object_unref (el);
  self->bed_sink = gst_bin_get_by_name (GST_BIN (p), "out");
  self->bed_pipeline = p;
  GST_INFO_OBJECT (self->audio.srcpad, "placeholder sound: %s", path);
  gst_element_set_state (p, GST_STATE_PLAYING);
}

/* By the audio task, or once the tasks have stopped. */
static void
stop_bed (GstWanR2vLive * self)
{
  if (self->bed_pipeline) {
    gst_element_set_state (self->bed_pipeline, GST_STATE_NULL);
    gst_clear_object (&self->bed_sink);
    gst_clear_object (&self->bed_pipeline);
  }
  gst_adapter_clear (self->bed);
}

/* Before the chunk of samples @start to @start + @n, with
 * placeholder=preview: the bed adapter filled with the chunk's samples
 * before the switch, from the animatic's sound once it is rendered
 * (silence stands in for what is not decoded yet); after the switch the
 * bed stops. A bed that fails gives way to silence for the run. */
static void
fill_bed (GstWanR2vLive * self, guint64 start, guint n)
{
  g_autofree gchar *path = NULL;
  GstMessage *m;
  GstSample *sample;
  gsize want;

  g_mutex_lock (&self->lock);
  want = (gsize) before_switch (self, start, n) *
      GST_AUDIO_INFO_BPF (&self->ainfo);
  if (self->placeholder != GST_WANR2V_PLACEHOLDER_PREVIEW ||
      self->audio_mode != GST_WANR2V_AUDIO_AUTO)
    want = 0;
  path = want ? g_strdup (self->animatic) : NULL;
  g_mutex_unlock (&self->lock);
  if (!want && self->bed_pipeline)
    stop_bed (self);
  if (!path || self->bed_failed)
    return;
  if (!self->bed_pipeline)
    start_bed (self, path);
  if (!self->bed_pipeline)
    return;
  m = gst_bus_pop_filtered (GST_ELEMENT_BUS (self->bed_pipeline),
      GST_MESSAGE_ERROR);
  if (m) {
    GST_WARNING_OBJECT (self->audio.srcpad, "placeholder sound failed: %"
        GST_PTR_FORMAT, m);
    gst_message_unref (m);
    stop_bed (self);
    self->bed_failed = TRUE;
    return;
  }
  while (gst_adapter_available (self->bed) < want &&
      (sample = gst_app_sink_try_pull_sample (GST_APP_SINK (self->bed_sink),
              0))) {
    gst_adapter_push (self->bed, gst_buffer_ref (gst_sample_get_buffer
            (sample)));
    gst_sample_unref (sample);
  }
  if (gst_adapter_available (self->bed) < want &&
      gst_app_sink_is_eos (GST_APP_SINK (self->bed_sink)))
    gst_element_seek_simple (self->bed_pipeline, GST_FORMAT_TIME,
        GST_SEEK_FLAG_FLUSH, 0);
}

/* The first @n samples of @map: the bed's where it has them. */
static void
copy_bed (GstWanR2vLive * self, GstMapInfo * map, guint n)
{
  gsize got = MIN (gst_adapter_available (self->bed),
      (gsize) n * GST_AUDIO_INFO_BPF (&self->ainfo));

  got -= got % GST_AUDIO_INFO_BPF (&self->ainfo);
  if (got) {
    gst_adapter_copy (self->bed, map->data, 0, got);
    gst_adapter_flush (self->bed, got);
  }
}

static GstClockTime
sample_time (GstWanR2vLive * self, guint64 n)
{
  return gst_util_uint64_scale_round (n, GST_SECOND,
      GST_AUDIO_INFO_RATE (&self->ainfo));
}

/* Samples @start to @start + @n: silence (or placeholder=preview's bed,
 * see fill_bed()) before the switch (the same sample as the video's
 * switch, by the running time), then the clip's
 * sound as it comes; waits for it (at most AUDIO_LATE_LIMIT_US, then
 * silence: the audio never stalls the output). *@ended: the clip's sound
 * is over and after-clip=eos: the buffer is cut where it ends. With the
 * lock. */
static GstBuffer *
audio_chunk (GstWanR2vLive * self, guint64 start, guint n, gboolean * ended)
{
  gint bpf = GST_AUDIO_INFO_BPF (&self->ainfo);
  GstBuffer *buf = gst_buffer_new_allocate (NULL, (gsize) n * bpf, NULL);
  gint64 deadline = g_get_monotonic_time () + AUDIO_LATE_LIMIT_US;
  gsize skip = before_switch (self, start, n), want, got;
  GstMapInfo map;

  *ended = FALSE;
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  gst_audio_format_info_fill_silence (self->ainfo.finfo, map.data, map.size);
  copy_bed (self, &map, skip);
  if (skip == n)
    goto done;
  want = (n - skip) * bpf;
  while (gst_adapter_available (self->sound) < want && !self->audio.clip_eos
      && !self->stopping && !self->ending)
    if (!g_cond_wait_until (&self->cond, &self->lock, deadline))
      break;
  got = MIN (gst_adapter_available (self->sound), want);
  got -= got % bpf;
  if (got) {
    gst_adapter_copy (self->sound, map.data + skip * bpf, 0, got);
    gst_adapter_flush (self->sound, got);
    g_cond_broadcast (&self->cond);
  }
  if (!self->audio_switched && got) {
    self->audio_switched = TRUE;
    GST_INFO_OBJECT (self->audio.srcpad, "switched to the clip's sound at "
        "sample %" G_GUINT64_FORMAT, start + skip);
  }
  *ended = got < want && self->audio.clip_eos && self->audio_switched &&
      self->after_clip == GST_WANR2V_AFTER_CLIP_EOS;
  if (*ended) {
    gst_buffer_unmap (buf, &map);
    gst_buffer_resize (buf, 0, skip * bpf + got);
    return buf;
  }
done:
  gst_buffer_unmap (buf, &map);
  return buf;
}

/* The audio starts with the video: the same origin, set by the video
 * task at its first frame (or here, when the video is slow to start). */
static GstClockTime
audio_origin (GstWanR2vLive * self)
{
  gint64 deadline = g_get_monotonic_time () + G_USEC_PER_SEC;

  while (!GST_CLOCK_TIME_IS_VALID (self->origin) && !self->stopping &&
      !self->ending)
    if (!g_cond_wait_until (&self->cond, &self->lock, deadline))
      break;
  if (!GST_CLOCK_TIME_IS_VALID (self->origin))
    self->origin = running_time_now (self);
  return self->origin;
}

/* One chunk of AUDIO_CHUNK, pushed once the clock has passed its end, as
 * a capture source does. */
static void
audio_loop (gpointer user_data)
{
  GstWanR2vLive *self = user_data;
  LiveStream *a = &self->audio;
  guint64 start;
  guint n;
  GstClockTime origin, pts, end;
  GstBuffer *buf;
  gboolean ended, on;

  if (!wait_playing (self) || !start_stream (self, a, "live-audio")) {
    gst_pad_pause_task (a->srcpad);
    return;
  }
  g_mutex_lock (&self->lock);
  on = self->audio_mode != GST_WANR2V_AUDIO_OFF;
  origin = audio_origin (self);
  g_mutex_unlock (&self->lock);
  if (!on || self->ending) {
    end_stream (self, a);
    return;
  }
  start = self->n_samples;
  n = (guint) gst_util_uint64_scale_round (AUDIO_CHUNK,
      GST_AUDIO_INFO_RATE (&self->ainfo), GST_SECOND);
  pts = origin + sample_time (self, start);
  end = origin + sample_time (self, start + n);
  fill_bed (self, start, n);
  if (!wait_until (self, a, end)) {
    if (self->ending)
      end_stream (self, a);
    return;
  }
  g_mutex_lock (&self->lock);
  buf = audio_chunk (self, start, n, &ended);
  g_mutex_unlock (&self->lock);
  n = gst_buffer_get_size (buf) / GST_AUDIO_INFO_BPF (&self->ainfo);
  GST_BUFFER_PTS (buf) = pts;
  GST_BUFFER_DURATION (buf) = origin + sample_time (self, start + n) - pts;
  GST_BUFFER_OFFSET (buf) = start;
  GST_BUFFER_OFFSET_END (buf) = start + n;
  if (start == 0)
    GST_BUFFER_FLAG_SET (buf, GST_BUFFER_FLAG_DISCONT);
  if (n == 0)
    gst_buffer_unref (buf);
  else if (!flow_goes_on (self, a, gst_pad_push (a->srcpad, buf)))
    return;
  self->n_samples += n;
  if (ended)
    end_stream (self, a);
}

/* --- the clip's side: its sink pads --- */

static LiveStream *
stream_of_sink (GstWanR2vLive * self, GstPad * pad)
{
  return pad == self->video.sinkpad ? &self->video : &self->audio;
}

/* Whether @stream's queue is full: MAX_QUEUED_FRAMES frames, or
 * MAX_QUEUED_AUDIO of sound. With the lock. */
static gboolean
queue_full (GstWanR2vLive * self, LiveStream * stream)
{
  if (stream == &self->video)
    return self->frames.length >= MAX_QUEUED_FRAMES;
  return GST_AUDIO_INFO_BPF (&self->ainfo) > 0 &&
      gst_adapter_available (self->sound) >= (gsize)
      GST_AUDIO_INFO_RATE (&self->ainfo) * GST_AUDIO_INFO_BPF (&self->ainfo)
      * (MAX_QUEUED_AUDIO / GST_SECOND);
}

/* The clip's data: queued for the task, bounded (the clip's streaming
 * thread waits here, never the output). */
static GstFlowReturn
gst_wanr2v_live_chain (GstPad * pad, GstObject * parent, GstBuffer * buf)
{
  GstWanR2vLive *self = GST_WANR2V_LIVE (parent);
  LiveStream *stream = stream_of_sink (self, pad);
  GstFlowReturn ret = GST_FLOW_OK;

  g_mutex_lock (&self->lock);
  while (queue_full (self, stream) && !stream->in_flushing &&
      !self->stopping && !self->ending && !stream->done)
    g_cond_wait (&self->cond, &self->lock);
  if (stream->in_flushing || self->stopping)
    ret = GST_FLOW_FLUSHING;
  else if (self->ending || stream->done)
    ret = GST_FLOW_EOS;
  else if (stream == &self->video)
    g_queue_push_tail (&self->frames, g_steal_pointer (&buf));
  else
    gst_adapter_push (self->sound, g_steal_pointer (&buf));
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  if (buf)
    GST_DEBUG_OBJECT (pad, "clip buffer refused: %s", gst_flow_get_name (ret));
  gst_clear_buffer (&buf);
  return ret;
}

/* The clip's events end here: its EOS, and the flushes of a loop's seek,
 * change what is queued; the output has its own stream. */
static gboolean
gst_wanr2v_live_sink_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstWanR2vLive *self = GST_WANR2V_LIVE (parent);
  LiveStream *stream = stream_of_sink (self, pad);

  g_mutex_lock (&self->lock);
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_EOS:
      GST_DEBUG_OBJECT (pad, "the clip's end");
      stream->clip_eos = TRUE;
      break;
    case GST_EVENT_FLUSH_START:
      stream->in_flushing = TRUE;
      break;
    case GST_EVENT_FLUSH_STOP:
      stream->in_flushing = FALSE;
      stream->clip_eos = FALSE;
      if (stream == &self->video) {
        g_queue_clear_full (&self->frames, (GDestroyNotify) gst_buffer_unref);
        self->loop_pending = FALSE;
      } else {
        gst_adapter_clear (self->sound);
      }
      break;
    default:
      break;
  }
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  gst_event_unref (event);
  return TRUE;
}

static gboolean
gst_wanr2v_live_sink_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstWanR2vLive *self = GST_WANR2V_LIVE (parent);
  LiveStream *stream = stream_of_sink (self, pad);
  GstCaps *caps, *filter, *res;

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_CAPS:
      /* the clip is converted to the output's caps upstream */
      caps = stream_caps (self, stream);
      if (!caps)
        caps = gst_pad_get_pad_template_caps (pad);
      gst_query_parse_caps (query, &filter);
      res = filter ? gst_caps_intersect (filter, caps) : gst_caps_ref (caps);
      gst_query_set_caps_result (query, res);
      gst_caps_unref (res);
      gst_caps_unref (caps);
      return TRUE;
    case GST_QUERY_ACCEPT_CAPS:
      gst_query_parse_accept_caps (query, &filter);
      caps = stream_caps (self, stream);
      gst_query_set_accept_caps_result (query, caps &&
          gst_caps_can_intersect (filter, caps));
      gst_clear_caps (&caps);
      return TRUE;
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

/* --- the output's side --- */

static gboolean
gst_wanr2v_live_src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstWanR2vLive *self = GST_WANR2V_LIVE (parent);
  LiveStream *stream = pad == self->video.srcpad ? &self->video : &self->audio;
  GstCaps *caps, *filter, *res;

  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_LATENCY:
      /* a frame: a capture source's latency */
      gst_query_set_latency (query, TRUE, GST_SECOND / 30, GST_CLOCK_TIME_NONE);
      return TRUE;
    case GST_QUERY_CAPS:
      g_mutex_lock (&self->lock);
      caps = stream->caps ? gst_caps_ref (stream->caps) :
          gst_pad_get_pad_template_caps (pad);
      g_mutex_unlock (&self->lock);
      gst_query_parse_caps (query, &filter);
      res = filter ? gst_caps_intersect (filter, caps) : gst_caps_ref (caps);
      gst_query_set_caps_result (query, res);
      gst_caps_unref (res);
      gst_caps_unref (caps);
      return TRUE;
    default:
      return gst_pad_query_default (pad, parent, query);
  }
}

/* Seeks and the like have no meaning on a live output; QoS and
 * reconfigure are taken and dropped. */
static gboolean
gst_wanr2v_live_src_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  gboolean ok = GST_EVENT_TYPE (event) != GST_EVENT_SEEK;

  gst_event_unref (event);
  return ok;
}

static gboolean
gst_wanr2v_live_src_activate_mode (GstPad * pad, GstObject * parent,
    GstPadMode mode, gboolean active)
{
  GstWanR2vLive *self = GST_WANR2V_LIVE (parent);
  gboolean on;

  if (mode != GST_PAD_MODE_PUSH)
    return FALSE;
  g_mutex_lock (&self->lock);
  on = self->on;
  if (!active) {
    self->stopping = TRUE;
    wake_all (self);
  }
  g_mutex_unlock (&self->lock);
  if (!active)
    return gst_pad_stop_task (pad);
  if (!on)
    return TRUE;
  return gst_pad_start_task (pad, pad == self->video.srcpad ? video_loop :
      audio_loop, self, NULL);
}

/* --- the element --- */

void
gst_wanr2v_live_configure (GstWanR2vLive * self, gboolean on,
    GstWanR2vPlaceholder placeholder, const gchar * location,
    GstWanR2vAfterClip after_clip, gint width, gint height,
    GstWanR2vAudio audio)
{
  g_mutex_lock (&self->lock);
  self->on = on;
  self->placeholder = placeholder;
  g_free (self->location);
  self->location = g_strdup (location);
  self->after_clip = after_clip;
  self->width = width;
  self->height = height;
  self->audio_mode = audio;
  g_mutex_unlock (&self->lock);
}

void
gst_wanr2v_live_set_status (GstWanR2vLive * self, const gchar * text)
{
  g_autofree gchar *markup = g_markup_escape_text (text, -1);

  g_mutex_lock (&self->lock);
  g_free (self->status);
  self->status = g_strdup (text);
  if (self->ph_text)
    g_object_set (self->ph_text, "text", markup, NULL);
  g_mutex_unlock (&self->lock);
}

void
gst_wanr2v_live_set_animatic (GstWanR2vLive * self, const gchar * path)
{
  g_mutex_lock (&self->lock);
  g_free (self->animatic);
  self->animatic = g_strdup (path);
  g_mutex_unlock (&self->lock);
}

void
gst_wanr2v_live_end (GstWanR2vLive * self)
{
  g_mutex_lock (&self->lock);
  self->ending = TRUE;
  wake_all (self);
  g_mutex_unlock (&self->lock);
}

static void
stream_reset (LiveStream * stream)
{
  gst_clear_caps (&stream->caps);
  stream->clip_eos = stream->in_flushing = FALSE;
  stream->started = stream->done = FALSE;
}

/* A new run, in READY: nothing of the last one is left. */
static void
reset_run (GstWanR2vLive * self)
{
  g_mutex_lock (&self->lock);
  stream_reset (&self->video);
  stream_reset (&self->audio);
  self->playing = self->stopping = self->ending = FALSE;
  self->seqnum = gst_util_seqnum_next ();
  self->origin = self->switch_rt = GST_CLOCK_TIME_NONE;
  self->switch_posted = self->loop_pending = self->audio_switched = FALSE;
  g_queue_clear_full (&self->frames, (GDestroyNotify) gst_buffer_unref);
  gst_clear_buffer (&self->last_frame);
  gst_adapter_clear (self->sound);
  g_clear_pointer (&self->animatic, g_free);
  g_mutex_unlock (&self->lock);
  gst_clear_buffer (&self->placeholder_frame);
  self->n_frames = self->n_samples = 0;
  self->bed_failed = FALSE;
  self->fps_n = 30;
  self->fps_d = 1;
  gst_audio_info_init (&self->ainfo);
}

static GstStateChangeReturn
gst_wanr2v_live_change_state (GstElement * element, GstStateChange transition)
{
  GstWanR2vLive *self = GST_WANR2V_LIVE (element);
  GstStateChangeReturn ret;
  GstElement *ph = NULL;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      reset_run (self);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      /* wakes the tasks: a wait for a placeholder frame too */
      g_mutex_lock (&self->lock);
      self->stopping = TRUE;
      wake_all (self);
      ph = self->ph_pipeline ? gst_object_ref (self->ph_pipeline) : NULL;
      g_mutex_unlock (&self->lock);
      if (ph) {
        gst_element_set_state (ph, GST_STATE_READY);
        gst_object_unref (ph);
      }
      break;
    case GST_STATE_CHANGE_PAUSED_TO_PLAYING:
      g_mutex_lock (&self->lock);
      self->playing = TRUE;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
      break;
    case GST_STATE_CHANGE_PLAYING_TO_PAUSED:
      g_mutex_lock (&self->lock);
      self->playing = FALSE;
      wake_all (self);
      g_mutex_unlock (&self->lock);
      break;
    default:
      break;
  }
  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    /* the tasks are joined */
    stop_placeholder (self);
    stop_bed (self);
    reset_run (self);
  }
  return ret;
}

static void
gst_wanr2v_live_finalize (GObject * object)
{
  GstWanR2vLive *self = GST_WANR2V_LIVE (object);

  stop_placeholder (self);
  stop_bed (self);
  reset_run (self);
  g_object_unref (self->sound);
  g_object_unref (self->bed);
  g_free (self->location);
  g_free (self->status);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_wanr2v_live_class_init (GstWanR2vLiveClass * klass)
{
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_wanr2v_live_debug, "wanr2vlive", 0,
      "wanr2v's live switch");
  G_OBJECT_CLASS (klass)->finalize = gst_wanr2v_live_finalize;
  element_class->change_state =
      GST_DEBUG_FUNCPTR (gst_wanr2v_live_change_state);
  gst_element_class_add_static_pad_template (element_class,
      &video_sink_template);
  gst_element_class_add_static_pad_template (element_class,
      &audio_sink_template);
  gst_element_class_add_static_pad_template (element_class,
      &video_src_template);
  gst_element_class_add_static_pad_template (element_class,
      &audio_src_template);
  gst_element_class_set_static_metadata (element_class,
      "wanr2v live switch", "Generic", "A placeholder, then the clip, on "
      "the running time (internal to wanr2v)", "gst-wanr2v developers");
}

static GstPad *
add_pad (GstWanR2vLive * self, GstStaticPadTemplate * templ)
{
  GstPad *pad = gst_pad_new_from_static_template (templ, templ->name_template);

  if (templ->direction == GST_PAD_SINK) {
    gst_pad_set_chain_function (pad, gst_wanr2v_live_chain);
    gst_pad_set_event_function (pad, gst_wanr2v_live_sink_event);
    gst_pad_set_query_function (pad, gst_wanr2v_live_sink_query);
  } else {
    gst_pad_set_query_function (pad, gst_wanr2v_live_src_query);
    gst_pad_set_event_function (pad, gst_wanr2v_live_src_event);
    gst_pad_set_activatemode_function (pad, gst_wanr2v_live_src_activate_mode);
    gst_pad_use_fixed_caps (pad);
  }
  gst_element_add_pad (GST_ELEMENT (self), pad);
  return pad;
}

static void
gst_wanr2v_live_init (GstWanR2vLive * self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  g_queue_init (&self->frames);
  self->sound = gst_adapter_new ();
  self->bed = gst_adapter_new ();
  self->video.sinkpad = add_pad (self, &video_sink_template);
  self->audio.sinkpad = add_pad (self, &audio_sink_template);
  self->video.srcpad = add_pad (self, &video_src_template);
  self->audio.srcpad = add_pad (self, &audio_src_template);
  self->placeholder = GST_WANR2V_PLACEHOLDER_PREVIEW;
  reset_run (self);
}
