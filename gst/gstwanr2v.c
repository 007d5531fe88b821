/**
 * SECTION:element-wanr2v
 * @title: wanr2v
 *
 * Turns reference videos and images plus a text prompt into a new video
 * clip that keeps the referenced characters, props and scenes (Wan 2.7
 * Reference-to-Video and its peers), and pushes the clip's frames
 * downstream as raw video.
 *
 * References arrive on request pads: `video_%u` takes raw video or an MP4
 * file (linked straight from filesrc, it is not re-encoded), `image_%u`
 * takes raw video (first frame), JPEG or PNG. At most 5 references in all.
 *
 * The prompt names references the way Wan 2.7 numbers them: video pads
 * first, in ascending pad index ("Video 1", "Video 2", ...), then image
 * pads continue the count ("Image 3", ...). With video_0, video_1 and
 * image_0 linked, the prompt may say "Video 2 holds Image 3". The mapping
 * is logged and posted as a `wanr2v/references` element message.
 *
 * Generation starts once every reference pad has ended (EOS, or
 * #GstWanR2v:reference-duration of a live source) and runs on its own
 * thread. Progress is posted as GST_MESSAGE_PROGRESS and as `wanr2v/...`
 * element messages: `wanr2v/engine`, `wanr2v/references`, `wanr2v/cost`,
 * `wanr2v/submitted`, `wanr2v/status`, `wanr2v/resumed`, `wanr2v/result`.
 *
 * The engine is chosen with #GstWanR2v:engine. `preview` is built in and
 * offline: it renders an animatic of the request (the named references
 * moving over a background, with the prompt as a caption). It is for
 * blocking out scenes and testing pipelines; it is not AI generation.
 *
 * Every clip goes through the result store in #GstWanR2v:cache-dir
 * before it is decoded: an identical request is served from there, and an
 * interrupted hosted job is resumed, not paid for twice.
 *
 * Internally, wanr2v is `wanr2vgen ! decodebin3 ! videoconvert`.
 *
 * ## Example launch lines
 * |[
 * gst-launch-1.0 -e wanr2v name=g engine=preview \
 *     prompt="Video 1 hands Image 3 to Video 2 in a sunny park" \
 *     ! videoconvert ! x264enc ! mp4mux ! filesink location=clip.mp4 \
 *     videotestsrc num-buffers=60 pattern=ball ! g.video_0 \
 *     videotestsrc num-buffers=60 pattern=smpte ! g.video_1 \
 *     videotestsrc num-buffers=1 pattern=pinwheel ! g.image_0
 * ]| Two reference videos and one image through the preview engine into an
 * MP4 file.
 * |[
 * gst-launch-1.0 wanr2v name=g prompt="Video 1 walks on the beach" \
 *     reference-duration=3 ! videoconvert ! autovideosink \
 *     videotestsrc is-live=true ! g.video_0
 * ]| A live source as a reference: its first 3 seconds are used.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwanr2v.h"
#include "gstwanr2vgen.h"
#include "gstwanr2vprops.h"

GST_DEBUG_CATEGORY_STATIC (gst_wanr2v_debug);
#define GST_CAT_DEFAULT gst_wanr2v_debug

static GstStaticPadTemplate video_template =
GST_STATIC_PAD_TEMPLATE ("video_%u", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("video/x-raw(ANY); video/quicktime"));
static GstStaticPadTemplate image_template =
GST_STATIC_PAD_TEMPLATE ("image_%u", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("video/x-raw(ANY); image/jpeg; image/png"));
static GstStaticPadTemplate src_template =
GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("video/x-raw(ANY)"));

struct _GstWanR2v
{
  GstBin parent;

  /* the clip's first timestamp (an MP4 edit list for B-frames), taken
   * off so that timestamps start from 0 */
  GstClockTime shift;

  GstElement *gen;
  GstElement *decodebin;
  GstElement *convert;
  GstPad *srcpad;               /* ghost of convert's src */

  /* EOS waits for the job thread: see hold_eos() */
  GMutex lock;
  GCond cond;
  gboolean job_over;
  gboolean flushing;
};

static void gst_wanr2v_child_proxy_init (gpointer g_iface,
    gpointer iface_data);

#define gst_wanr2v_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstWanR2v, gst_wanr2v, GST_TYPE_BIN,
    G_IMPLEMENT_INTERFACE (GST_TYPE_CHILD_PROXY, gst_wanr2v_child_proxy_init));
GST_ELEMENT_REGISTER_DEFINE (wanr2v, "wanr2v", GST_RANK_NONE,
    GST_TYPE_WANR2V);

/* Every property lives on wanr2vgen; the bin forwards by name. */
static void
gst_wanr2v_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstWanR2v *self = GST_WANR2V (object);

  g_object_set_property (G_OBJECT (self->gen), pspec->name, value);
}

static void
gst_wanr2v_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstWanR2v *self = GST_WANR2V (object);

  g_object_get_property (G_OBJECT (self->gen), pspec->name, value);
}

static GstPad *
gst_wanr2v_request_new_pad (GstElement * element, GstPadTemplate * templ,
    const gchar * name, const GstCaps * caps)
{
  GstWanR2v *self = GST_WANR2V (element);
  GstPad *target, *ghost;

  target = gst_element_request_pad_simple (self->gen, name ? name :
      templ->name_template);
  if (!target)
    return NULL;
  ghost = gst_ghost_pad_new_from_template (GST_OBJECT_NAME (target), target,
      templ);
  gst_object_unref (target);
  gst_pad_set_active (ghost, GST_STATE (element) > GST_STATE_READY);
  gst_element_add_pad (element, ghost);
  /* lets gst-launch apply "video_0::uri=..." once the pad exists */
  gst_child_proxy_child_added (GST_CHILD_PROXY (element), G_OBJECT (ghost),
      GST_OBJECT_NAME (ghost));
  return ghost;
}

static void
gst_wanr2v_release_pad (GstElement * element, GstPad * pad)
{
  GstWanR2v *self = GST_WANR2V (element);
  GstPad *target = gst_ghost_pad_get_target (GST_GHOST_PAD (pad));

  gst_child_proxy_child_removed (GST_CHILD_PROXY (element), G_OBJECT (pad),
      GST_OBJECT_NAME (pad));
  gst_pad_set_active (pad, FALSE);
  gst_element_remove_pad (element, pad);
  if (target) {
    gst_element_release_request_pad (self->gen, target);
    gst_object_unref (target);
  }
}

/* qtdemux starts a clip with B-frames at its edit list offset (e.g. two
 * frames): move the segment and timestamps so the first frame is at 0,
 * keeping later segments (after a seek) in step. */
static GstPadProbeReturn
shift_to_zero (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstWanR2v *self = user_data;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);

    if (self->shift == 0)
      return GST_PAD_PROBE_OK;
    buf = gst_buffer_make_writable (buf);
    if (GST_BUFFER_PTS_IS_VALID (buf))
      GST_BUFFER_PTS (buf) -= MIN (self->shift, GST_BUFFER_PTS (buf));
    if (GST_BUFFER_DTS_IS_VALID (buf))
      GST_BUFFER_DTS (buf) -= MIN (self->shift, GST_BUFFER_DTS (buf));
    GST_PAD_PROBE_INFO_DATA (info) = buf;
  } else if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) ==
      GST_EVENT_SEGMENT) {
    GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);
    const GstSegment *in;
    GstSegment seg;

    gst_event_parse_segment (event, &in);
    if (in->format != GST_FORMAT_TIME)
      return GST_PAD_PROBE_OK;
    if (!GST_CLOCK_TIME_IS_VALID (self->shift))
      self->shift = in->start;
    if (self->shift == 0)
      return GST_PAD_PROBE_OK;
    gst_segment_copy_into (in, &seg);
    seg.start -= MIN (self->shift, seg.start);
    if (GST_CLOCK_TIME_IS_VALID (seg.stop))
      seg.stop -= MIN (self->shift, seg.stop);
    seg.position -= MIN (self->shift, seg.position);
    GST_DEBUG_OBJECT (self, "clip starts at %" GST_TIME_FORMAT
        ", shifting to 0", GST_TIME_ARGS (self->shift));
    GST_PAD_PROBE_INFO_DATA (info) = gst_event_new_segment (&seg);
    gst_event_set_seqnum (GST_PAD_PROBE_INFO_DATA (info),
        gst_event_get_seqnum (event));
    gst_event_unref (event);
  }
  return GST_PAD_PROBE_OK;
}

/* wanr2vgen serves a downloaded clip as soon as it is checked, while its
 * job thread makes it durable in the result store and then posts
 * wanr2v/result and writes result-location. A short clip can be decoded
 * before that is done: EOS waits for the job's end (its last progress
 * message), so that the result message and file come before EOS, as they
 * did when the clip was served only once stored. The wait is a few ms at
 * most, and a stop or a flush ends it. */
static GstPadProbeReturn
hold_eos (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstWanR2v *self = user_data;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);

  g_mutex_lock (&self->lock);
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_START:
      self->flushing = TRUE;
      g_cond_broadcast (&self->cond);
      break;
    case GST_EVENT_FLUSH_STOP:
      self->flushing = FALSE;
      break;
    case GST_EVENT_EOS:
      if (!self->job_over)
        GST_DEBUG_OBJECT (self, "EOS waits for the job to finish");
      while (!self->job_over && !self->flushing)
        g_cond_wait (&self->cond, &self->lock);
      break;
    default:
      break;
  }
  g_mutex_unlock (&self->lock);
  return GST_PAD_PROBE_OK;
}

static void
gst_wanr2v_handle_message (GstBin * bin, GstMessage * msg)
{
  GstWanR2v *self = GST_WANR2V (bin);

  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_PROGRESS &&
      GST_MESSAGE_SRC (msg) == GST_OBJECT_CAST (self->gen)) {
    GstProgressType type;
    g_autofree gchar *code = NULL;
    g_autofree gchar *text = NULL;

    gst_message_parse_progress (msg, &type, &code, &text);
    if (g_strcmp0 (code, "generate") == 0 &&
        (type == GST_PROGRESS_TYPE_COMPLETE || type == GST_PROGRESS_TYPE_ERROR
            || type == GST_PROGRESS_TYPE_CANCELED)) {
      g_mutex_lock (&self->lock);
      self->job_over = TRUE;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
    }
  }
  GST_BIN_CLASS (parent_class)->handle_message (bin, msg);
}

static void
on_decodebin_pad_added (GstElement * decodebin, GstPad * pad, GstWanR2v * self)
{
  GstPad *sink = gst_element_get_static_pad (self->convert, "sink");
  g_autoptr (GstCaps) caps = gst_pad_query_caps (pad, NULL);
  GstPadLinkReturn link;

  if (gst_pad_is_linked (sink) || !gst_caps_get_size (caps) ||
      !g_str_has_prefix (gst_structure_get_name (gst_caps_get_structure (caps,
                  0)), "video/")) {
    GST_DEBUG_OBJECT (self, "ignoring %" GST_PTR_FORMAT, pad);
    gst_object_unref (sink);
    return;
  }

  /* In a live pipeline the clip is ready long after the clock started:
   * shift its running time to now so that sinks and compositors do not
   * drop it as late. Timestamps stay from 0. */
  if (GST_STATE (self) == GST_STATE_PLAYING) {
    GstClockTime now = gst_element_get_current_running_time (GST_ELEMENT
        (self));

    if (GST_CLOCK_TIME_IS_VALID (now)) {
      GST_INFO_OBJECT (self, "live pipeline: clip starts at running time %"
          GST_TIME_FORMAT, GST_TIME_ARGS (now));
      gst_pad_set_offset (self->srcpad, now);
    }
  }

  self->shift = GST_CLOCK_TIME_NONE;
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, shift_to_zero, self, NULL);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM |
      GST_PAD_PROBE_TYPE_EVENT_FLUSH, hold_eos, self, NULL);
  link = gst_pad_link (pad, sink);
  if (GST_PAD_LINK_FAILED (link))
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("Cannot decode the generated clip"),
        ("linking decodebin3 failed: %s", gst_pad_link_get_name (link)));
  gst_object_unref (sink);
}

/* Until the clip is decoded there is no upstream to ask: say "not live,
 * no latency" rather than fail, or a live compositor downstream would
 * stop producing its other inputs while it waits for this one. */
static gboolean
gst_wanr2v_src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstWanR2v *self = GST_WANR2V (parent);

  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    GstPad *sink = gst_element_get_static_pad (self->convert, "sink");
    gboolean linked = gst_pad_is_linked (sink);

    gst_object_unref (sink);
    if (!linked) {
      gst_query_set_latency (query, FALSE, 0, GST_CLOCK_TIME_NONE);
      return TRUE;
    }
  }
  return gst_pad_query_default (pad, parent, query);
}

static GstStateChangeReturn
gst_wanr2v_change_state (GstElement * element, GstStateChange transition)
{
  GstWanR2v *self = GST_WANR2V (element);

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      gst_pad_set_offset (self->srcpad, 0);
      g_mutex_lock (&self->lock);
      self->job_over = self->flushing = FALSE;
      g_mutex_unlock (&self->lock);
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      /* before the pads deactivate: they wait for a held EOS */
      g_mutex_lock (&self->lock);
      self->flushing = TRUE;
      g_cond_broadcast (&self->cond);
      g_mutex_unlock (&self->lock);
      break;
    default:
      break;
  }
  return GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
}

static void
gst_wanr2v_finalize (GObject * object)
{
  GstWanR2v *self = GST_WANR2V (object);

  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* GstChildProxy: properties of the request pads (video_0::uri) and of
 * the bin's children. */
static GObject *
gst_wanr2v_child_proxy_get_child_by_name (GstChildProxy * proxy,
    const gchar * name)
{
  GstWanR2v *self = GST_WANR2V (proxy);
  GstPad *pad = gst_element_get_static_pad (self->gen, name);

  if (pad)
    return G_OBJECT (pad);
  return G_OBJECT (gst_bin_get_by_name (GST_BIN (self), name));
}

static GObject *
gst_wanr2v_child_proxy_get_child_by_index (GstChildProxy * proxy,
    guint index)
{
  GstWanR2v *self = GST_WANR2V (proxy);

  return gst_child_proxy_get_child_by_index (GST_CHILD_PROXY (self->gen),
      index);
}

static guint
gst_wanr2v_child_proxy_get_children_count (GstChildProxy * proxy)
{
  GstWanR2v *self = GST_WANR2V (proxy);

  return gst_child_proxy_get_children_count (GST_CHILD_PROXY (self->gen));
}

static void
gst_wanr2v_child_proxy_init (gpointer g_iface, gpointer iface_data)
{
  GstChildProxyInterface *iface = g_iface;

  iface->get_child_by_name = gst_wanr2v_child_proxy_get_child_by_name;
  iface->get_child_by_index = gst_wanr2v_child_proxy_get_child_by_index;
  iface->get_children_count = gst_wanr2v_child_proxy_get_children_count;
}

static void
gst_wanr2v_class_init (GstWanR2vClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBinClass *bin_class = GST_BIN_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_wanr2v_debug, "wanr2v", 0,
      "Wan reference-to-video");

  gobject_class->set_property = gst_wanr2v_set_property;
  gobject_class->get_property = gst_wanr2v_get_property;
  gobject_class->finalize = gst_wanr2v_finalize;
  gst_wanr2v_install_properties (gobject_class);

  gst_element_class_add_static_pad_template (element_class, &video_template);
  gst_element_class_add_static_pad_template (element_class, &image_template);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Wan reference-to-video", "Source/Video/Generator",
      "Generates a video clip that keeps the characters, props and scenes "
      "of reference videos and images, from a text prompt (Wan 2.7 R2V, "
      "or an offline preview), and outputs it as raw video",
      "gst-wanr2v developers");

  element_class->request_new_pad =
      GST_DEBUG_FUNCPTR (gst_wanr2v_request_new_pad);
  element_class->release_pad = GST_DEBUG_FUNCPTR (gst_wanr2v_release_pad);
  element_class->change_state = GST_DEBUG_FUNCPTR (gst_wanr2v_change_state);
  bin_class->handle_message = GST_DEBUG_FUNCPTR (gst_wanr2v_handle_message);
}

static void
gst_wanr2v_init (GstWanR2v * self)
{
  GstPad *pad;

  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->gen = gst_element_factory_make ("wanr2vgen", "gen");
  self->decodebin = gst_element_factory_make ("decodebin3", "decode");
  self->convert = gst_element_factory_make ("videoconvert", "convert");
  /* decodebin3 is in gst-plugins-base: a missing one is a broken install,
   * reported by the state change failing with no element to run. */
  g_assert (self->gen);
  if (!self->decodebin || !self->convert) {
    g_critical ("wanr2v needs decodebin3 and videoconvert "
        "(gstreamer1.0-plugins-base)");
    return;
  }
  gst_bin_add_many (GST_BIN (self), self->gen, self->decodebin,
      self->convert, NULL);
  gst_element_link (self->gen, self->decodebin);
  g_signal_connect (self->decodebin, "pad-added",
      G_CALLBACK (on_decodebin_pad_added), self);

  pad = gst_element_get_static_pad (self->convert, "src");
  /* the class's own template: gst_static_pad_template_get() would make a
   * floating one that nothing sinks, leaked once per element */
  self->srcpad = gst_ghost_pad_new_from_template ("src", pad,
      gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (self),
          "src"));
  gst_object_unref (pad);
  gst_pad_set_query_function (self->srcpad, gst_wanr2v_src_query);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);
}
