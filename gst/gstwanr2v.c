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
 * A reference's voice (what it says, in whose voice) comes from a file
 * (`video_0::voice-location=alice.wav`), a URL (`voice-uri`), or a
 * stream on a `voice_%u` request pad: raw audio (encoded to wav with
 * wavenc in the run's work folder), or a wav or mp3 file as it is.
 * `voice_N` speaks for `video_N`, unless a reference pad's `voice-pad`
 * property names it (`image_0::voice-pad=voice_1`). A voice pad completes
 * like a reference pad (EOS, or reference-duration of a live source, 10 s
 * at most) and the job waits for it; a voice that pairs with no reference
 * fails the state change to PAUSED. Every voice is 1 to 10 s, checked
 * before anything is paid, and its bytes are part of the request's
 * identity. Engines that take no voice refuse one at PAUSED.
 *
 * A pad's `uri` property (`video_0::uri=https://...` in gst-launch) gives
 * a URL that a hosted engine fetches instead of an upload; a pad with a
 * uri may be left unlinked. Any other requested pad must be linked when
 * the pipeline goes to PAUSED, or the state change fails with an error
 * naming the pad: link it, release it, or set its uri.
 *
 * The prompt names references the way Wan 2.7 numbers them: video pads
 * first, in ascending pad index ("Video 1", "Video 2", ...), then image
 * pads continue the count ("Image 3", ...). With video_0, video_1 and
 * image_0 linked, the prompt may say "Video 2 holds Image 3". The mapping
 * is logged and posted as a `wanr2v/references` element message.
 *
 * Generation starts once every reference pad has ended (EOS, or
 * #GstWanR2v:reference-duration of a live source) and runs on its own
 * thread. A flush on a reference pad before the clip is served cancels
 * the job; new data and EOS on that pad then start a new one. Progress is
 * posted as GST_MESSAGE_PROGRESS (code `generate`: START, CONTINUE per
 * phase, COMPLETE, CANCELED or ERROR) and as element messages:
 *
 * - `wanr2v/engine`: the engine picked and why (at PAUSED)
 * - `wanr2v/references`: the prompt name of each pad, "Video 1", ...
 * - `wanr2v/cost`: the estimated cost in USD (hosted engines, at PAUSED)
 * - `wanr2v/submitted`: the job id of a submitted hosted or ComfyUI job
 * - `wanr2v/resumed`: a journaled job is polled again, not resubmitted
 * - `wanr2v/status`: each change of the job's status at the provider
 * - `wanr2v/result`: the stored clip's location, job id, source URL and
 *   whether it came from the result store
 * - `wanr2v/warning`: an engine's warning (e.g. ComfyUI renders 480p),
 *   also posted as a GStreamer WARNING
 * - with a storyboard: `wanr2v/shot` (shot, shots, phase, prompt) when a
 *   shot's job enters a phase, the shots' own messages above with a
 *   `shot` field, and `wanr2v/storyboard` (location of the joined clip,
 *   shot-locations of the shots' clips) before the joined clip's
 *   `wanr2v/result`
 * - with variants: `wanr2v/take` (take, takes, phase, prompt, seed) and
 *   `wanr2v/variants` (location of the reel, take-locations, take-seeds,
 *   take-starts: where each take begins on the pads)
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
 * A #GstWanR2v:storyboard renders several shots into one clip on the
 * same pads: a file or the text of "shot" structures, one per line or
 * separated by `;`, each with a prompt and optionally duration, seed,
 * first-frame (an image file), references (the pads it uses, e.g.
 * `"video_0,image_0"`, or `none`) and continue=true (it starts from the
 * previous shot's last frame). Each shot is its own job, submitted once,
 * journaled and stored like any clip; independent shots run at the same
 * time; the estimate and #GstWanR2v:max-cost cover them all. The stored
 * clips are joined without a re-encode, timestamps continuous, and the
 * joined clip is served as the clip (and saved to result-location).
 *
 * #GstWanR2v:variants=N makes N takes of the request with seeds seed,
 * seed + 1, ... (derived from the request when seed is unset, so that a
 * rerun resumes them): each its own job, paid once and stored, the
 * estimate and max-cost over all N. Once stored, each take is on
 * sometimes pads of its own, `take_%u` and `take_audio_%u`, to show or
 * record them side by side (`compositor`); the always pads play the takes
 * one after the other, as a reel (and into result-location), and
 * `wanr2v/variants` gives each take's stored file, seed and start.
 *
 * Internally, wanr2v is `wanr2vgen ! decodebin3 ! videoconvert ! videoscale
 * ! videorate`: downstream may ask for any size, rate or raw format.
 * The `audio` src pad (always present) carries the clip's soundtrack as
 * raw audio, through `queue ! audioconvert ! audioresample`, in sync with
 * the video; see #GstWanR2v:audio. Left unlinked, it costs nothing.
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
 * gst-launch-1.0 -e wanr2v name=g engine=preview prompt="Video 1 sings" \
 *     g. ! videoconvert ! x264enc ! mux. \
 *     g.audio ! audioconvert ! avenc_aac ! mux. \
 *     mp4mux name=mux ! filesink location=clip.mp4 \
 *     videotestsrc num-buffers=60 ! g.video_0
 * ]| Picture and sound: the `audio` pad carries the clip's soundtrack
 * (silence of the clip's length when it has none; see the audio
 * property). Pipelines that leave it unlinked get the picture only.
 * |[
 * gst-launch-1.0 wanr2v name=g prompt="Video 1 walks on the beach" \
 *     reference-duration=3 ! videoconvert ! autovideosink \
 *     videotestsrc is-live=true num-buffers=150 ! g.video_0
 * ]| A live source as a reference: its first 3 seconds are used, and it
 * makes the output live (see #GstWanR2v:live): a slate until the clip.
 * |[
 * gst-launch-1.0 wanr2v name=g duration=2 reference-duration=2 \
 *     prompt="Video 1" ! fakesink \
 *     videotestsrc is-live=true num-buffers=150 pattern=ball \
 *     ! video/x-raw,width=640,height=360 ! tee name=t \
 *     ! queue ! g.video_0 t. ! queue ! autovideosink
 * ]| A live camera shared through a tee: the reference takes 2 seconds,
 * the program branch goes on (a live reference: the output runs in live
 * mode, see #GstWanR2v:live).
 * |[
 * gst-launch-1.0 wanr2v name=g prompt="Image 1 spins" \
 *     ! video/x-raw,width=640,height=360,framerate=25/1 ! autovideosink \
 *     filesrc location=photo.jpg ! decodebin ! g.image_0
 * ]| A reference from a sometimes pad (decodebin), linked after PAUSED; the
 * clip scaled and re-timed to the caps downstream asks.
 * |[
 * gst-launch-1.0 wanr2v name=g engine=dashscope region=us seed=42 \
 *     job-key=take-7 prompt="Video 1 waves" ! autovideosink \
 *     videotestsrc num-buffers=60 ! g.video_0
 * ]| A hosted engine (DASHSCOPE_API_KEY from the environment), a fixed
 * seed, and a job key: a rerun after a stop or a crash resumes the job.
 * |[
 * gst-launch-1.0 compositor name=mix sink_1::xpos=880 sink_1::ypos=480 \
 *     ! video/x-raw,width=1280,height=720,framerate=30/1 ! autovideosink \
 *     videotestsrc is-live=true num-buffers=450 \
 *     ! video/x-raw,width=1280,height=720,framerate=30/1 ! mix. \
 *     wanr2v name=g live=true engine=wavespeed duration=5 \
 *     prompt="Video 1 waves" ! video/x-raw,width=384,height=216 \
 *     ! queue ! mix. videotestsrc num-buffers=60 ! g.video_0
 * ]| Live, no dead air (see #GstWanR2v:live): the preview engine's
 * animatic of the request is on air over the program feed from the first
 * frame, and the hosted clip takes its place when it is ready, at a frame
 * boundary with no gap; the `audio` pad, unlinked here, follows the same
 * rule.
 * |[
 * gst-launch-1.0 wanr2v name=g engine=dashscope region=beijing \
 *     prompt="Video 1 says hello" video_0::voice-location=voice.wav \
 *     ! videoconvert ! autovideosink videotestsrc num-buffers=60 ! g.video_0
 * ]| A voice from a file (1 to 10 s; a wav or mp3 goes as it is, other
 * formats are encoded to wav): checked at PAUSED, uploaded like the
 * reference, sent as the reference's voice. Engines that take no voice
 * refuse it at PAUSED; the preview engine takes it (checked, and part of
 * the request's identity) and plays it over its soundtrack's bed.
 * |[
 * gst-launch-1.0 wanr2v name=g engine=dashscope region=beijing \
 *     prompt="Video 1 talks to Image 2" image_0::voice-pad=voice_1 \
 *     ! videoconvert ! autovideosink videotestsrc num-buffers=60 ! g.video_0 \
 *     videotestsrc num-buffers=1 pattern=ball ! g.image_0 \
 *     audiotestsrc num-buffers=150 ! g.voice_0 \
 *     filesrc location=voice.wav ! g.voice_1
 * ]| Voices from streams: `voice_0` speaks for `video_0` (voice_N for
 * video_N), `voice_1` for the pad whose voice-pad names it.
 * |[
 * gst-launch-1.0 -e wanr2v name=g engine=preview duration=2 \
 *     storyboard='"shot, prompt=\"Video 1 enters\"; shot, prompt=\"Video 1 waves\", continue=true"' \
 *     ! videoconvert ! x264enc ! mp4mux ! filesink location=story.mp4 \
 *     videotestsrc num-buffers=60 pattern=ball ! g.video_0
 * ]| A storyboard of two 2-second shots as one 4-second clip; the second
 * begins with the first one's last frame. gst-launch-1.0 needs the text
 * in double quotes inside the shell's single quotes; a file of shots is
 * simpler (`storyboard=shots.txt`; see examples/storyboard.txt).
 * |[
 * gst-launch-1.0 -e -m wanr2v name=g engine=preview variants=2 seed=7 \
 *     duration=2 prompt="Video 1 dances" \
 *     ! videoconvert ! x264enc ! mp4mux ! filesink location=takes.mp4 \
 *     videotestsrc num-buffers=60 pattern=ball ! g.video_0
 * ]| Two takes (seeds 7 and 8), each stored, one after the other in
 * takes.mp4; the `wanr2v/variants` message gives each take's file.
 * |[
 * gst-launch-1.0 -e wanr2v name=g engine=preview variants=2 duration=2 \
 *     prompt="Video 1 dances" ! fakesink \
 *     compositor name=c sink_1::xpos=640 ! videoconvert ! x264enc \
 *     ! mp4mux ! filesink location=side.mp4 \
 *     g.take_0 ! videoscale ! video/x-raw,width=640,height=360 ! c.sink_0 \
 *     g.take_1 ! videoscale ! video/x-raw,width=640,height=360 ! c.sink_1 \
 *     videotestsrc num-buffers=60 pattern=ball ! g.video_0
 * ]| The two takes side by side, from their own pads.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwanr2v.h"

#include <gst/audio/audio.h>
#include "gstwanr2vanimatic.h"
#include "gstwanr2vgen.h"
#include "gstwanr2vlive.h"
#include "gstwanr2vprops.h"
#include "gstwanr2vrefpad.h"
#include "gstwanr2vtakes.h"
#include "gstwanr2vtypes.h"
#include "wr2v-request.h"

GST_DEBUG_CATEGORY_STATIC (gst_wanr2v_debug);
#define GST_CAT_DEFAULT gst_wanr2v_debug

/* --- GstWanR2vBinPad: the bin's request pads --- */

/* A ghost pad of a wanr2vgen reference pad with that pad's properties,
 * forwarded to it: applications set "uri" on the pad they requested, and
 * gst-inspect-1.0 lists it under the pad templates. */
#define GST_TYPE_WANR2V_BIN_PAD (gst_wanr2v_bin_pad_get_type ())
G_DECLARE_FINAL_TYPE (GstWanR2vBinPad, gst_wanr2v_bin_pad, GST,
    WANR2V_BIN_PAD, GstGhostPad);

struct _GstWanR2vBinPad
{
  GstGhostPad parent;
};

enum
{
  PAD_PROP_0,
  PAD_PROP_URI,
  PAD_PROP_ROLE,
  PAD_PROP_VOICE_URI,
  PAD_PROP_VOICE_LOCATION,      /* PAD_PROP_VOICE_URI + 1 */
  PAD_PROP_VOICE_PAD,           /* PAD_PROP_VOICE_URI + 2 */
};

G_DEFINE_TYPE (GstWanR2vBinPad, gst_wanr2v_bin_pad, GST_TYPE_GHOST_PAD);

static void
gst_wanr2v_bin_pad_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstPad *target = gst_ghost_pad_get_target (GST_GHOST_PAD (object));

  switch (prop_id) {
    case PAD_PROP_URI:
    case PAD_PROP_ROLE:
    case PAD_PROP_VOICE_URI:
    case PAD_PROP_VOICE_LOCATION:
    case PAD_PROP_VOICE_PAD:
      if (target)
        g_object_set_property (G_OBJECT (target), pspec->name, value);
      else
        GST_WARNING_OBJECT (object, "no target pad, %s not set", pspec->name);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  gst_clear_object (&target);
}

static void
gst_wanr2v_bin_pad_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstPad *target = gst_ghost_pad_get_target (GST_GHOST_PAD (object));

  switch (prop_id) {
    case PAD_PROP_URI:
    case PAD_PROP_ROLE:
    case PAD_PROP_VOICE_URI:
    case PAD_PROP_VOICE_LOCATION:
    case PAD_PROP_VOICE_PAD:
      if (target)
        g_object_get_property (G_OBJECT (target), pspec->name, value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  gst_clear_object (&target);
}

static void
gst_wanr2v_bin_pad_class_init (GstWanR2vBinPadClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  gobject_class->set_property = gst_wanr2v_bin_pad_set_property;
  gobject_class->get_property = gst_wanr2v_bin_pad_get_property;

  /**
   * GstWanR2vBinPad:uri:
   *
   * The #GstWanR2vRefPad:uri of the wanr2vgen pad this pad stands for.
   */
  g_object_class_install_property (gobject_class, PAD_PROP_URI,
      g_param_spec_string ("uri", GST_WANR2V_REF_PAD_URI_NICK,
          GST_WANR2V_REF_PAD_URI_BLURB, NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /* GstWanR2vBinPad:role, GstWanR2vBinPad:voice-uri,
   * GstWanR2vBinPad:voice-location: those of the wanr2vgen pad
   * (#GstWanR2vRefPad:role, #GstWanR2vRefPad:voice-uri,
   * #GstWanR2vRefPad:voice-location) */
  gst_wanr2v_ref_pad_install_inputs (gobject_class, PAD_PROP_ROLE,
      PAD_PROP_VOICE_URI);
}

static void
gst_wanr2v_bin_pad_init (GstWanR2vBinPad * pad)
{
}

/* --- the bin --- */

static GstStaticPadTemplate video_template =
    GST_STATIC_PAD_TEMPLATE ("video_%u", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("video/x-raw(ANY); video/quicktime"));
static GstStaticPadTemplate image_template =
    GST_STATIC_PAD_TEMPLATE ("image_%u", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS ("video/x-raw(ANY); image/jpeg; image/png"));
static GstStaticPadTemplate voice_template =
GST_STATIC_PAD_TEMPLATE ("voice_%u", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS (GST_WANR2V_VOICE_CAPS));
static GstStaticPadTemplate src_template =
GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("video/x-raw(ANY)"));
static GstStaticPadTemplate audio_template =
GST_STATIC_PAD_TEMPLATE ("audio", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("audio/x-raw"));

/* the bin's own properties, after the shared ones */
#define PROP_AUDIO PROP_LAST
#define PROP_PLACEHOLDER (PROP_LAST + 1)
#define PROP_PLACEHOLDER_LOCATION (PROP_LAST + 2)
#define PROP_AFTER_CLIP (PROP_LAST + 3)
#define PROP_LIVE_ERROR (PROP_LAST + 4)

/* Silence when the clip has no soundtrack: the rate and format made,
 * converted to what downstream asks by audioconvert ! audioresample */
#define SILENCE_RATE 48000
#define SILENCE_CHANNELS 2
#define SILENCE_CAPS "audio/x-raw, format=S16LE, layout=interleaved, " \
    "rate=48000, channels=2, channel-mask=(bitmask)0x3"
#define SILENCE_BPF (2 * SILENCE_CHANNELS)
#define SILENCE_CHUNK (SILENCE_RATE / 10)
#define SILENCE_LEAD GST_SECOND

typedef struct _GstWanR2vOutput GstWanR2vOutput;

/* Thread safety
 *
 * - each output's shift, and live_offset, belong to the clip's streaming
 *   threads
 *   (decodebin3's src pad: its probe, and pad-added, which runs on it);
 *   READY->PAUSED resets them while no stream runs.
 * - gen, decodebin, convert, srcpad and decodebin_used change only in
 *   init and in state changes (the state lock).
 * - self->lock guards job_over, flushing and eos_pushed (the EOS hold);
 *   self->cond is signalled when job_over or flushing changes.
 * - Output before the clip (GAP, EOS: push_on_output()) is serialized with
 *   the clip by the stream lock of the ghost src pad's internal pad.
 * - No lock of the bin is held while wanr2vgen is called.
 */
/* One of the bin's src pads and the stream of the clip behind it. */
struct _GstWanR2vOutput
{
  GstWanR2v *self;
  GstPad *ghost;                /* the bin's "src" or "audio" */
  GstPad *sink;                 /* the first element inside: convert or
                                 * audio_queue; its sink pad */
  /* the stream's first timestamp (an MP4 edit list for B-frames), taken
   * off so that timestamps start from 0 */
  GstClockTime shift;
  gboolean eos_pushed;          /* the application's EOS is out (lock) */
};

struct _GstWanR2v
{
  GstBin parent;

  GstWanR2vOutput video, audio;
  /* in a live pipeline, the running time at which the clip came: added to
   * its segment's base (see shift_segment()) */
  GstClockTime live_offset;

  GstElement *gen;
  GstElement *decodebin;
  GstElement *convert;
  GstPad *srcpad;               /* ghost of videorate's src */
  GstElement *audio_queue;      /* queue ! audioconvert ! audioresample */
  /* audio_queue is held in READY, out of the bin's state changes, from
   * READY->PAUSED until audio flows: see start_audio_queue() */
  GMutex audio_queue_lock;
  gboolean audio_queue_held;    /* (audio_queue_lock) */
  gboolean decodebin_used;      /* decodebin went to PAUSED: see
                                 * new_decodebin() */

  /* EOS waits for the job thread: see hold_eos() */
  GMutex lock;
  GCond cond;
  gboolean job_over;
  gboolean job_running;         /* between on_job_started and _finished */
  gboolean flushing;

  /* the audio pad: see docs/element.md, "The audio pad". audio_mode is
   * set in NULL or READY; clip_has_audio is written from decodebin3's
   * stream collection (atomic); silence and silence_next belong to the
   * clip's video streaming thread, which makes the silence */
  GstWanR2vAudio audio_mode;
  gint clip_has_audio;
  /* where the clip's video ends (its segment's stop, from 0): the
   * soundtrack is cut there, AAC's priming samples would make it a
   * frame longer than the picture otherwise (lock) */
  GstClockTime clip_end;
  gint silence;                 /* -1: not decided yet */
  guint64 silence_next;         /* next sample, G_MAXUINT64 before any */

  /* live mode (see GstWanR2v:live): the live switch between the clip's
   * branches (their tails) and the src pads when live_on, which changes
   * in READY->PAUSED only; its settings under the object lock */
  GstElement *live;
  gboolean live_on;
  /* the user set live (or is-live), true or false: a live reference then
   * decides nothing (object lock) */
  gboolean live_set;
  GstPad *video_tail, *audio_tail;
  GstWanR2vPlaceholder placeholder;
  gchar *placeholder_location;
  GstWanR2vAfterClip after_clip;
  GstWanR2vLiveError live_error;
  gboolean error_kept;          /* an error went out as a warning (lock) */
  GstWanR2vAnimatic *animatic;  /* placeholder=preview's render (lock) */
};

static void gst_wanr2v_child_proxy_init (gpointer g_iface, gpointer iface_data);

#define gst_wanr2v_parent_class parent_class
G_DEFINE_TYPE_WITH_CODE (GstWanR2v, gst_wanr2v, GST_TYPE_BIN,
    G_IMPLEMENT_INTERFACE (GST_TYPE_CHILD_PROXY, gst_wanr2v_child_proxy_init));
GST_ELEMENT_REGISTER_DEFINE (wanr2v, "wanr2v", GST_RANK_NONE, GST_TYPE_WANR2V);

/* The live mode's properties, the bin's own: TRUE when @prop_id is one. */
static gboolean
gst_wanr2v_live_set_prop (GstWanR2v * self, guint prop_id, const GValue * value)
{
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_PLACEHOLDER:
      self->placeholder = g_value_get_enum (value);
      break;
    case PROP_PLACEHOLDER_LOCATION:
      g_free (self->placeholder_location);
      self->placeholder_location = g_value_dup_string (value);
      break;
    case PROP_AFTER_CLIP:
      self->after_clip = g_value_get_enum (value);
      break;
    case PROP_LIVE_ERROR:
      self->live_error = g_value_get_enum (value);
      break;
    default:
      GST_OBJECT_UNLOCK (self);
      return FALSE;
  }
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

static gboolean
gst_wanr2v_live_get_prop (GstWanR2v * self, guint prop_id, GValue * value)
{
  GST_OBJECT_LOCK (self);
  switch (prop_id) {
    case PROP_PLACEHOLDER:
      g_value_set_enum (value, self->placeholder);
      break;
    case PROP_PLACEHOLDER_LOCATION:
      g_value_set_string (value, self->placeholder_location);
      break;
    case PROP_AFTER_CLIP:
      g_value_set_enum (value, self->after_clip);
      break;
    case PROP_LIVE_ERROR:
      g_value_set_enum (value, self->live_error);
      break;
    default:
      GST_OBJECT_UNLOCK (self);
      return FALSE;
  }
  GST_OBJECT_UNLOCK (self);
  return TRUE;
}

/* Every property lives on wanr2vgen; the bin forwards by name. */
static void
gst_wanr2v_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstWanR2v *self = GST_WANR2V (object);

  if (prop_id == PROP_AUDIO) {
    GST_OBJECT_LOCK (self);
    self->audio_mode = g_value_get_enum (value);
    GST_OBJECT_UNLOCK (self);
    return;
  }
  if (gst_wanr2v_live_set_prop (self, prop_id, value))
    return;
  if (prop_id == PROP_LIVE || prop_id == PROP_IS_LIVE) {
    GST_OBJECT_LOCK (self);
    self->live_set = TRUE;
    GST_OBJECT_UNLOCK (self);
  }
  g_object_set_property (G_OBJECT (self->gen), pspec->name, value);
}

static void
gst_wanr2v_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstWanR2v *self = GST_WANR2V (object);

  if (prop_id == PROP_AUDIO) {
    GST_OBJECT_LOCK (self);
    g_value_set_enum (value, self->audio_mode);
    GST_OBJECT_UNLOCK (self);
    return;
  }
  if (gst_wanr2v_live_get_prop (self, prop_id, value))
    return;
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
  ghost = g_object_new (GST_TYPE_WANR2V_BIN_PAD, "name",
      GST_OBJECT_NAME (target), "direction", GST_PAD_SINK, "template", templ,
      NULL);
  if (!gst_ghost_pad_set_target (GST_GHOST_PAD (ghost), target)) {
    GST_WARNING_OBJECT (self, "cannot target %" GST_PTR_FORMAT, target);
    gst_object_unref (gst_object_ref_sink (ghost));
    gst_element_release_request_pad (self->gen, target);
    gst_object_unref (target);
    return NULL;
  }
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

/* The segment of the clip, with its first frame at 0 (qtdemux starts a
 * clip with B-frames at its edit list offset, e.g. two frames) and, in a
 * live pipeline, its running time moved to the moment the clip came
 * (seg.base): sinks and compositors would drop it as late otherwise. The
 * seqnum is kept, so that a seek's segment is recognised downstream
 * (gst_pad_set_offset() loses it in 1.22). */
static GstEvent *
shift_segment (GstWanR2vOutput * out_pad, GstEvent * event)
{
  GstWanR2v *self = out_pad->self;
  const GstSegment *in;
  GstSegment seg;
  GstEvent *out;

  gst_event_parse_segment (event, &in);
  if (in->format != GST_FORMAT_TIME)
    return event;
  if (!GST_CLOCK_TIME_IS_VALID (out_pad->shift))
    out_pad->shift = in->start;
  if (out_pad == &self->video) {
    g_mutex_lock (&self->lock);
    self->clip_end = GST_CLOCK_TIME_IS_VALID (in->stop) ?
        in->stop - MIN (out_pad->shift, in->stop) : GST_CLOCK_TIME_NONE;
    g_mutex_unlock (&self->lock);
  }
  if (out_pad->shift == 0 && self->live_offset == 0)
    return event;
  gst_segment_copy_into (in, &seg);
  seg.start -= MIN (out_pad->shift, seg.start);
  if (GST_CLOCK_TIME_IS_VALID (seg.stop))
    seg.stop -= MIN (out_pad->shift, seg.stop);
  seg.position -= MIN (out_pad->shift, seg.position);
  seg.base += self->live_offset;
  GST_DEBUG_OBJECT (out_pad->ghost,
      "clip starts at %" GST_TIME_FORMAT ", shifting " "to 0, running time + %"
      GST_TIME_FORMAT, GST_TIME_ARGS (out_pad->shift),
      GST_TIME_ARGS (self->live_offset));
  out = gst_event_new_segment (&seg);
  gst_event_set_seqnum (out, gst_event_get_seqnum (event));
  gst_event_unref (event);
  return out;
}

/* QoS from downstream is in the running time of the shifted segment: take
 * the live offset off for the decoder, whose segment does not have it. */
static GstEvent *
shift_qos (GstWanR2v * self, GstEvent * event)
{
  GstQOSType type;
  gdouble proportion;
  GstClockTimeDiff diff;
  GstClockTime timestamp;
  GstEvent *out;

  if (self->live_offset == 0)
    return event;
  gst_event_parse_qos (event, &type, &proportion, &diff, &timestamp);
  if (GST_CLOCK_TIME_IS_VALID (timestamp))
    timestamp -= MIN (self->live_offset, timestamp);
  out = gst_event_new_qos (type, proportion, diff, timestamp);
  gst_event_set_seqnum (out, gst_event_get_seqnum (event));
  gst_event_unref (event);
  return out;
}

/* On decodebin3's src pads: see shift_segment(). Each stream has its
 * own shift: its running time, and so the sync, stays as it was. */
static GstPadProbeReturn
shift_to_zero (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstWanR2vOutput *out_pad = user_data;
  GstWanR2v *self = out_pad->self;
  GstEvent *event;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
    GstClockTime shift = out_pad->shift;

    if (shift == 0 || !GST_CLOCK_TIME_IS_VALID (shift))
      return GST_PAD_PROBE_OK;
    buf = gst_buffer_make_writable (buf);
    if (GST_BUFFER_PTS_IS_VALID (buf))
      GST_BUFFER_PTS (buf) -= MIN (shift, GST_BUFFER_PTS (buf));
    if (GST_BUFFER_DTS_IS_VALID (buf))
      GST_BUFFER_DTS (buf) -= MIN (shift, GST_BUFFER_DTS (buf));
    GST_PAD_PROBE_INFO_DATA (info) = buf;
    return GST_PAD_PROBE_OK;
  }
  event = GST_PAD_PROBE_INFO_EVENT (info);
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_SEGMENT:
      GST_PAD_PROBE_INFO_DATA (info) = shift_segment (out_pad, event);
      break;
    case GST_EVENT_QOS:
      GST_PAD_PROBE_INFO_DATA (info) = shift_qos (self, event);
      break;
    case GST_EVENT_FLUSH_STOP:{
      gboolean reset;

      /* a flushing seek starts the running time from 0 again */
      gst_event_parse_flush_stop (event, &reset);
      if (reset)
        self->live_offset = 0;
      break;
    }
    default:
      break;
  }
  return GST_PAD_PROBE_OK;
}

/* wanr2vgen serves a downloaded clip as soon as it is checked, while its
 * job thread makes it durable in the result store and then posts
 * wanr2v/result and writes result-location. A short clip can be decoded
 * before that is done: EOS waits for the job's end (on_job_finished(),
 * the job watch of wanr2vgen), so that the result message and file come
 * before EOS, as they did when the clip was served only once stored. The
 * wait is a few ms at most, and a stop or a flush ends it. */
static GstPadProbeReturn
hold_eos (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstWanR2vOutput *out_pad = user_data;
  GstWanR2v *self = out_pad->self;
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);

  g_mutex_lock (&self->lock);
  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_FLUSH_START:
      self->flushing = TRUE;
      g_cond_broadcast (&self->cond);
      break;
    case GST_EVENT_FLUSH_STOP:
      /* a flushing seek: the clip plays again, to its own EOS */
      self->flushing = out_pad->eos_pushed = FALSE;
      break;
    case GST_EVENT_EOS:
      if (out_pad->eos_pushed) {
        /* the application's EOS went out already (push_on_output()):
         * one EOS downstream, with the application's seqnum */
        g_mutex_unlock (&self->lock);
        return GST_PAD_PROBE_DROP;
      }
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

/* The job watch of wanr2vgen (gstwanr2vgen.h), on its job thread. */
static void
on_job_started (GstWanR2vGen * gen, gpointer user_data)
{
  GstWanR2v *self = user_data;

  /* a new job, e.g. after a reference flush cancelled the first */
  g_mutex_lock (&self->lock);
  self->job_over = FALSE;
  self->job_running = TRUE;
  g_mutex_unlock (&self->lock);
}

static void
on_job_finished (GstWanR2vGen * gen, Wr2vJobOutcome outcome, gpointer user_data)
{
  GstWanR2v *self = user_data;

  g_mutex_lock (&self->lock);
  self->job_over = TRUE;
  self->job_running = FALSE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static void
on_animatic_done (const gchar * path, gpointer user_data)
{
  GstWanR2v *self = user_data;

  if (path)
    gst_wanr2v_live_set_animatic (GST_WANR2V_LIVE (self->live), path);
}

/* wanr2vgen's request watch, on its job thread: in live mode with
 * placeholder=preview, the preview engine renders the same request
 * beside the job (not when the job is the preview engine's itself: its
 * clip comes as soon). */
static void
on_request_ready (GstWanR2vGen * gen, const Wr2vRequest * req,
    const gchar * engine, gpointer user_data)
{
  GstWanR2v *self = user_data;
  GstWanR2vAnimatic *old;
  gboolean wanted;

  GST_OBJECT_LOCK (self);
  wanted = self->live_on && self->placeholder == GST_WANR2V_PLACEHOLDER_PREVIEW
      && g_strcmp0 (engine, "preview") != 0;
  GST_OBJECT_UNLOCK (self);
  if (!wanted)
    return;
  g_mutex_lock (&self->lock);
  old = g_steal_pointer (&self->animatic);
  g_mutex_unlock (&self->lock);
  if (old)
    gst_wanr2v_animatic_free (old);
  old = gst_wanr2v_animatic_start (req, g_get_tmp_dir (), on_animatic_done,
      self);
  g_mutex_lock (&self->lock);
  self->animatic = old;
  g_mutex_unlock (&self->lock);
}

/* Whether the clip's video thread makes the audio pad's silence: asked
 * once per run, at the clip's first segment, when decodebin3 has told
 * which streams the clip has (its stream collection). */
static gboolean
silence_wanted (GstWanR2v * self)
{
  GstWanR2vAudio mode;

  GST_OBJECT_LOCK (self);
  mode = self->audio_mode;
  GST_OBJECT_UNLOCK (self);
  if (mode == GST_WANR2V_AUDIO_SILENCE)
    return TRUE;
  return mode == GST_WANR2V_AUDIO_AUTO &&
      !g_atomic_int_get (&self->clip_has_audio);
}

/* audio_queue's thread starts only when audio flows (the clip's
 * soundtrack, silence or audio=off's end), not at PAUSED: a bin that
 * waits minutes for its job holds no thread for an audio that has not
 * begun (docs/PERFORMANCE.md, row 9). Until then the queue stays in
 * READY, locked out of the bin's state changes (hold_audio_queue()).
 * Called on a streaming thread before the first event reaches it. */
static void
start_audio_queue (GstWanR2v * self)
{
  g_mutex_lock (&self->audio_queue_lock);
  if (self->audio_queue_held) {
    self->audio_queue_held = FALSE;
    /* to the bin's state, or the one it is going to */
    if (!gst_element_sync_state_with_parent (self->audio_queue))
      GST_WARNING_OBJECT (self, "the audio queue did not start");
  }
  g_mutex_unlock (&self->audio_queue_lock);
}

/* READY->PAUSED, before the children change: see start_audio_queue(). */
static void
hold_audio_queue (GstWanR2v * self)
{
  g_mutex_lock (&self->audio_queue_lock);
  gst_element_set_locked_state (self->audio_queue, TRUE);
  self->audio_queue_held = TRUE;
  g_mutex_unlock (&self->audio_queue_lock);
}

/* PAUSED->READY, once the streaming threads have stopped: the queue is
 * READY like its siblings and follows the bin again (to NULL). */
static void
release_audio_queue (GstWanR2v * self)
{
  g_mutex_lock (&self->audio_queue_lock);
  self->audio_queue_held = FALSE;
  gst_element_set_state (self->audio_queue, GST_STATE_READY);
  gst_element_set_locked_state (self->audio_queue, FALSE);
  g_mutex_unlock (&self->audio_queue_lock);
}

/* Starts the audio branch's stream of silence, as if from upstream of
 * audio_queue: stream-start and caps, once per run. */
static void
start_silence (GstWanR2v * self)
{
  g_autofree gchar *id = NULL;

  if (gst_pad_has_current_caps (self->audio.sink))
    return;
  start_audio_queue (self);
  id = gst_wanr2v_stream_id_new ("silence");
  gst_pad_send_event (self->audio.sink, gst_event_new_stream_start (id));
  gst_pad_send_event (self->audio.sink,
      gst_event_new_caps (gst_caps_from_string (SILENCE_CAPS)));
}

/* Silence up to @end (the clip's timestamps) from where the last ended
 * (sample for sample, so that no rounding leaves a gap), or from @pts
 * after a segment; in buffers of SILENCE_CHUNK. */
static void
push_silence (GstWanR2v * self, GstClockTime pts, GstClockTime end)
{
  guint64 last = gst_util_uint64_scale_round (end, SILENCE_RATE, GST_SECOND);

  if (self->silence_next == G_MAXUINT64)
    self->silence_next = gst_util_uint64_scale_round (pts, SILENCE_RATE,
        GST_SECOND);
  while (self->silence_next < last) {
    guint64 first = self->silence_next;
    guint64 n = MIN (last - first, SILENCE_CHUNK);
    GstBuffer *buf = gst_buffer_new_allocate (NULL, n * SILENCE_BPF, NULL);

    gst_buffer_memset (buf, 0, 0, n * SILENCE_BPF);
    GST_BUFFER_PTS (buf) = gst_util_uint64_scale_round (first, GST_SECOND,
        SILENCE_RATE);
    GST_BUFFER_DURATION (buf) = gst_util_uint64_scale_round (first + n,
        GST_SECOND, SILENCE_RATE) - GST_BUFFER_PTS (buf);
    GST_BUFFER_OFFSET (buf) = first;
    GST_BUFFER_OFFSET_END (buf) = first + n;
    self->silence_next = first + n;
    if (gst_pad_chain (self->audio.sink, buf) != GST_FLOW_OK)
      break;
  }
}

/* On the clip's video pad, after shift_to_zero() and hold_eos(): when
 * the audio pad carries silence, the video's segments, flushes and EOS
 * go to the audio pad too, and each segment brings the silence up to its
 * stop (the clip's end): so the silence lasts as long as the video and
 * follows its seeks. All of it at once, into audio_queue (unbounded):
 * an audio encoder holds back samples, and a muxer waiting for them
 * while this thread waits for the muxer would never move. Without a
 * stop, each frame brings the silence up to SILENCE_LEAD past its end. */
static GstPadProbeReturn
feed_silence (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstWanR2v *self = user_data;
  const GstSegment *segment;

  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
    GstClockTime pts = GST_BUFFER_PTS (buf);
    GstClockTime dur = GST_BUFFER_DURATION (buf);

    GstClockTime end;

    if (self->silence <= 0 || !GST_CLOCK_TIME_IS_VALID (pts))
      return GST_PAD_PROBE_OK;
    end = pts + SILENCE_LEAD + (GST_CLOCK_TIME_IS_VALID (dur) ? dur :
        GST_SECOND / 30);
    g_mutex_lock (&self->lock);
    if (GST_CLOCK_TIME_IS_VALID (self->clip_end))
      end = MIN (end, self->clip_end);
    g_mutex_unlock (&self->lock);
    push_silence (self, pts, end);
    return GST_PAD_PROBE_OK;
  }

  switch (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info))) {
    case GST_EVENT_SEGMENT:
      if (self->silence < 0)
        self->silence = silence_wanted (self) &&
            gst_pad_is_linked (self->audio.ghost);
      if (self->silence <= 0)
        break;
      start_silence (self);
      self->silence_next = G_MAXUINT64;
      gst_pad_send_event (self->audio.sink,
          gst_event_ref (GST_PAD_PROBE_INFO_EVENT (info)));
      gst_event_parse_segment (GST_PAD_PROBE_INFO_EVENT (info), &segment);
      if (segment->format == GST_FORMAT_TIME &&
          GST_CLOCK_TIME_IS_VALID (segment->stop))
        push_silence (self, segment->start, segment->stop);
      break;
    case GST_EVENT_FLUSH_START:
    case GST_EVENT_FLUSH_STOP:
    case GST_EVENT_EOS:
      if (self->silence > 0)
        gst_pad_send_event (self->audio.sink,
            gst_event_ref (GST_PAD_PROBE_INFO_EVENT (info)));
      break;
    default:
      break;
  }
  return GST_PAD_PROBE_OK;
}

/* The audio pad of a clip whose soundtrack is not wanted, or not linked
 * in the bin: everything is dropped, as a fakesink would take it; never
 * NOT_LINKED, which would stop the clip. */
static GstPadProbeReturn
drop_all (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  if (info->type & GST_PAD_PROBE_TYPE_QUERY_BOTH)
    return GST_PAD_PROBE_OK;
  return GST_PAD_PROBE_DROP;
}

/* In audio=off, the audio pad ends (stream-start, segment, EOS) when the
 * clip's video starts, so that a sink on it prerolls and ends. */
static GstPadProbeReturn
end_audio_at_start (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstWanR2v *self = user_data;
  GstWanR2vAudio mode;
  GstSegment segment;

  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) != GST_EVENT_SEGMENT)
    return GST_PAD_PROBE_OK;
  GST_OBJECT_LOCK (self);
  mode = self->audio_mode;
  GST_OBJECT_UNLOCK (self);
  if (mode == GST_WANR2V_AUDIO_OFF) {
    g_autofree gchar *id = gst_wanr2v_stream_id_new ("off");

    start_audio_queue (self);
    gst_segment_init (&segment, GST_FORMAT_TIME);
    gst_pad_send_event (self->audio.sink, gst_event_new_stream_start (id));
    gst_pad_send_event (self->audio.sink, gst_event_new_segment (&segment));
    gst_pad_send_event (self->audio.sink, gst_event_new_eos ());
  }
  return GST_PAD_PROBE_REMOVE;
}

/* On the soundtrack, after shift_to_zero(): cuts it where the video ends
 * (see clip_end). */
static GstPadProbeReturn
cut_at_clip_end (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstWanR2v *self = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  g_autoptr (GstCaps) caps = NULL;
  GstClockTime end;
  GstAudioInfo ainfo;
  GstSegment segment;

  g_mutex_lock (&self->lock);
  end = self->clip_end;
  g_mutex_unlock (&self->lock);
  if (!GST_CLOCK_TIME_IS_VALID (end) || !GST_BUFFER_PTS_IS_VALID (buf) ||
      !GST_BUFFER_DURATION_IS_VALID (buf) ||
      GST_BUFFER_PTS (buf) + GST_BUFFER_DURATION (buf) <= end)
    return GST_PAD_PROBE_OK;
  caps = gst_pad_get_current_caps (pad);
  if (!caps || !gst_audio_info_from_caps (&ainfo, caps))
    return GST_PAD_PROBE_OK;
  gst_segment_init (&segment, GST_FORMAT_TIME);
  segment.stop = end;
  buf = gst_audio_buffer_clip (buf, &segment, GST_AUDIO_INFO_RATE (&ainfo),
      GST_AUDIO_INFO_BPF (&ainfo));
  GST_PAD_PROBE_INFO_DATA (info) = buf;
  return buf ? GST_PAD_PROBE_OK : GST_PAD_PROBE_HANDLED;
}

/* Links a decodebin3 src pad to the output, with the probes that shift
 * it to 0 (and cut a soundtrack at the clip's end) and hold its EOS. */
static void
link_output (GstWanR2v * self, GstPad * pad, GstWanR2vOutput * out_pad)
{
  GstPadLinkReturn link;

  out_pad->shift = GST_CLOCK_TIME_NONE;
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM | GST_PAD_PROBE_TYPE_EVENT_UPSTREAM
      | GST_PAD_PROBE_TYPE_EVENT_FLUSH, shift_to_zero, out_pad, NULL);
  if (out_pad == &self->audio)
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, cut_at_clip_end, self,
        NULL);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM |
      GST_PAD_PROBE_TYPE_EVENT_FLUSH, hold_eos, out_pad, NULL);
  link = gst_pad_link (pad, out_pad->sink);
  if (GST_PAD_LINK_FAILED (link))
    GST_ELEMENT_ERROR (self, CORE, NEGOTIATION,
        ("Cannot decode the generated clip"),
        ("linking decodebin3 failed: %s", gst_pad_link_get_name (link)));
}

/* The clip's soundtrack goes to the audio pad in audio=auto when that
 * pad is linked; otherwise it is dropped. Usually select_clip_stream()
 * kept an unwanted one from being decoded at all: it comes here only
 * when the pad was unlinked after the selection or the silence has
 * begun. */
static void
audio_pad_added (GstWanR2v * self, GstPad * pad)
{
  GstWanR2vAudio mode;

  g_atomic_int_set (&self->clip_has_audio, TRUE);
  GST_OBJECT_LOCK (self);
  mode = self->audio_mode;
  GST_OBJECT_UNLOCK (self);
  /* (silence > 0: the collection came late, the silence has begun) */
  if (mode != GST_WANR2V_AUDIO_AUTO || !gst_pad_is_linked (self->audio.ghost)
      || gst_pad_is_linked (self->audio.sink) || self->silence > 0) {
    GST_DEBUG_OBJECT (self, "dropping the soundtrack %" GST_PTR_FORMAT, pad);
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_ALL_BOTH, drop_all, NULL, NULL);
    return;
  }
  start_audio_queue (self);
  link_output (self, pad, &self->audio);
}

static void
on_decodebin_pad_added (GstElement * decodebin, GstPad * pad, GstWanR2v * self)
{
  g_autoptr (GstCaps) caps = gst_pad_query_caps (pad, NULL);
  const gchar *media = gst_caps_get_size (caps) ?
      gst_structure_get_name (gst_caps_get_structure (caps, 0)) : "";

  if (g_str_has_prefix (media, "audio/")) {
    audio_pad_added (self, pad);
    return;
  }
  if (gst_pad_is_linked (self->video.sink) ||
      !g_str_has_prefix (media, "video/")) {
    GST_DEBUG_OBJECT (self, "ignoring %" GST_PTR_FORMAT, pad);
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
      self->live_offset = now;
    }
  }

  link_output (self, pad, &self->video);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM | GST_PAD_PROBE_TYPE_EVENT_FLUSH,
      feed_silence, self, NULL);
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      end_audio_at_start, self, NULL);
}

/* The collection's first video stream: the clip's picture. */
static GstStream *
first_video_stream (GstStreamCollection * collection)
{
  for (guint i = 0; i < gst_stream_collection_get_size (collection); i++) {
    GstStream *stream = gst_stream_collection_get_stream (collection, i);

    if (gst_stream_get_stream_type (stream) & GST_STREAM_TYPE_VIDEO)
      return stream;
  }
  return NULL;
}

/* decodebin3's select-stream: a soundtrack that audio_pad_added() would
 * drop (audio=off or silence, or the audio pad not linked) is not
 * decoded at all. decodebin3 (1.22) still adds one stream of each type
 * unless every stream got an answer, so then the picture is chosen
 * explicitly (1) and everything else refused (0). -1: its own choice. */
static gint
select_clip_stream (GstElement * decodebin, GstStreamCollection * collection,
    GstStream * stream, GstWanR2v * self)
{
  GstWanR2vAudio mode;

  GST_OBJECT_LOCK (self);
  mode = self->audio_mode;
  GST_OBJECT_UNLOCK (self);
  if (mode == GST_WANR2V_AUDIO_AUTO && gst_pad_is_linked (self->audio.ghost))
    return -1;
  if (stream == first_video_stream (collection))
    return 1;
  GST_DEBUG_OBJECT (self, "not decoding %s: nobody takes it",
      gst_stream_get_stream_id (stream));
  return 0;
}

/* Adds a decodebin3 linked to wanr2vgen, replacing the one there was.
 *
 * decodebin3 sets up its input for pull mode (a parsebin whose typefind
 * pulls from wanr2vgen, which serves the clip by random access) only when
 * its sink pad is linked, and going back to READY drops that setup: its
 * sink pad is left without a target (1.22 also leaves the old parsebin
 * in the bin, unlinked). Run again, it would let wanr2vgen start in push
 * mode, then make a parsebin on wanr2vgen's streaming thread when the
 * caps come, whose typefind switches wanr2vgen to pull mode from that
 * very thread: a deadlock ("Trying to join task ... from its thread"),
 * and "Internal data stream error". So each run after the first, even
 * one whose READY->PAUSED failed, gets a decodebin3 that has never run,
 * linked while wanr2vgen is in READY like the first one. */
static gboolean
new_decodebin (GstWanR2v * self)
{
  GstElement *decodebin = gst_element_factory_make ("decodebin3", "decode");

  if (!decodebin)
    return FALSE;
  if (self->decodebin) {
    GST_DEBUG_OBJECT (self, "replacing %" GST_PTR_FORMAT " for a new run",
        self->decodebin);
    gst_element_set_state (self->decodebin, GST_STATE_NULL);
    gst_bin_remove (GST_BIN (self), self->decodebin);
  }
  self->decodebin = decodebin;
  gst_bin_add (GST_BIN (self), decodebin);
  g_signal_connect (decodebin, "pad-added",
      G_CALLBACK (on_decodebin_pad_added), self);
  g_signal_connect (decodebin, "select-stream",
      G_CALLBACK (select_clip_stream), self);
  if (!gst_element_link (self->gen, decodebin)) {
    GST_ERROR_OBJECT (self, "cannot link wanr2vgen to decodebin3");
    return FALSE;
  }
  self->decodebin_used = FALSE;
  return TRUE;
}

/* Puts the live switch between @tail, a clip branch's last pad, and the
 * src pad @ghost, or takes it out. In READY. */
static void
route_output (GstPad * ghost, GstPad * tail, GstElement * live,
    const gchar * sink_name, const gchar * src_name, gboolean on)
{
  GstPad *sink = gst_element_get_static_pad (live, sink_name);
  GstPad *src = gst_element_get_static_pad (live, src_name);

  if (on) {
    gst_ghost_pad_set_target (GST_GHOST_PAD (ghost), src);
    gst_pad_link (tail, sink);
  } else {
    gst_pad_unlink (tail, sink);
    gst_ghost_pad_set_target (GST_GHOST_PAD (ghost), tail);
  }
  gst_object_unref (sink);
  gst_object_unref (src);
}

/* READY->PAUSED, before wanr2vgen's: live mode when GstWanR2v:live is
 * true, or, when the user left live unset, when a reference linked now
 * comes from a live source (what also makes wanr2vgen live): the switch
 * goes in, with this run's settings. live=false keeps a live reference's
 * output as it was before live mode (NO_PREROLL, a GAP at PLAYING, then
 * the clip). A reference linked later (a sometimes pad) comes too late:
 * the switch goes in or out only here, in READY. */
static void
set_up_live (GstWanR2v * self)
{
  gboolean on = FALSE, live_set;
  gboolean audio_linked = gst_pad_is_linked (self->audio.ghost);
  gint resolution, aspect, w, h;

  g_object_get (self->gen, "resolution", &resolution, "aspect-ratio",
      &aspect, "live", &on, NULL);
  wr2v_output_size (resolution, aspect, &w, &h);
  GST_OBJECT_LOCK (self);
  live_set = self->live_set;
  GST_OBJECT_UNLOCK (self);
  if (!on && !live_set &&
      gst_wanr2v_gen_references_live (GST_WANR2V_GEN (self->gen))) {
    GST_INFO_OBJECT (self, "a live reference: live mode (live=false: not)");
    on = TRUE;
  }
  GST_OBJECT_LOCK (self);
  gst_wanr2v_live_configure (GST_WANR2V_LIVE (self->live), on,
      self->placeholder, self->placeholder_location, self->after_clip, w, h,
      audio_linked ? self->audio_mode : GST_WANR2V_AUDIO_OFF);
  self->error_kept = FALSE;
  GST_OBJECT_UNLOCK (self);
  if (on == self->live_on)
    return;
  GST_INFO_OBJECT (self, "live mode %s", on ? "on" : "off");
  route_output (self->srcpad, self->video_tail, self->live, "video_sink",
      "src", on);
  route_output (self->audio.ghost, self->audio_tail, self->live,
      "audio_sink", "audio_src", on);
  self->live_on = on;
}

/* In live mode: the job's progress goes on the slate; an error once the
 * job has begun (a failed job, a clip that cannot be decoded) becomes a
 * warning with the same details while the placeholder stays on air
 * (live-error=keep-on-air), and the clip branch's errors that follow
 * from it are dropped. Takes @message; returns what goes on, or NULL. */
static GstMessage *
live_message (GstWanR2v * self, GstMessage * message)
{
  g_autoptr (GError) err = NULL;
  g_autofree gchar *debug = NULL, *status = NULL;
  const GstStructure *details = NULL;
  gboolean job_begun, kept;
  GstMessage *warning;

  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_PROGRESS) {
    gst_message_parse_progress (message, NULL, NULL, &status);
    if (status)
      gst_wanr2v_live_set_status (GST_WANR2V_LIVE (self->live), status);
    return message;
  }
  if (GST_MESSAGE_TYPE (message) != GST_MESSAGE_ERROR ||
      GST_MESSAGE_SRC (message) == GST_OBJECT (self->live))
    return message;
  g_mutex_lock (&self->lock);
  job_begun = self->job_running || self->job_over;
  g_mutex_unlock (&self->lock);
  GST_OBJECT_LOCK (self);
  kept = self->error_kept;
  if (job_begun && self->live_error == GST_WANR2V_LIVE_ERROR_KEEP_ON_AIR)
    self->error_kept = TRUE;
  GST_OBJECT_UNLOCK (self);
  if (!job_begun || self->live_error != GST_WANR2V_LIVE_ERROR_KEEP_ON_AIR)
    return message;
  if (kept) {
    GST_INFO_OBJECT (self, "on air despite %" GST_PTR_FORMAT, message);
    gst_message_unref (message);
    return NULL;
  }
  gst_message_parse_error (message, &err, &debug);
  gst_message_parse_error_details (message, &details);
  warning = gst_message_new_warning_with_details (GST_MESSAGE_SRC (message),
      err, debug, details ? gst_structure_copy (details) : NULL);
  status = g_strdup_printf ("The clip failed: %s", err->message);
  gst_wanr2v_live_set_status (GST_WANR2V_LIVE (self->live), status);
  GST_WARNING_OBJECT (self, "keeping the placeholder on air: %s", err->message);
  gst_message_unref (message);
  return warning;
}

static gboolean
output_is_live (GstWanR2v * self)
{
  return gst_base_src_is_live (GST_BASE_SRC (self->gen));
}

/* Until the clip is decoded there is no upstream to ask: say "no
 * latency" rather than fail, or a live compositor downstream would stop
 * producing its other inputs while it waits for this one. A live output
 * (see GstWanR2v:live) says so all along. */
static gboolean
gst_wanr2v_src_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  GstWanR2v *self = GST_WANR2V (parent);
  GstWanR2vOutput *out_pad = pad == self->audio.ghost ? &self->audio :
      &self->video;
  GstClockTime min, max;
  gboolean live, linked, res;

  linked = gst_pad_is_linked (out_pad->sink);
  /* silence, or no audio: the clip's duration and seeking are the
   * video's, whose seeks the silence follows */
  if (!linked && out_pad == &self->audio &&
      (GST_QUERY_TYPE (query) == GST_QUERY_DURATION ||
          GST_QUERY_TYPE (query) == GST_QUERY_SEEKING))
    return gst_pad_peer_query (self->video.sink, query);
  if (GST_QUERY_TYPE (query) != GST_QUERY_LATENCY || self->live_on)
    return gst_pad_query_default (pad, parent, query);
  live = output_is_live (self);
  if (!linked) {
    gst_query_set_latency (query, live, 0, GST_CLOCK_TIME_NONE);
    return TRUE;
  }
  res = gst_pad_query_default (pad, parent, query);
  if (res && live) {
    gst_query_parse_latency (query, NULL, &min, &max);
    gst_query_set_latency (query, TRUE, min, max);
  }
  return res;
}

/* Caps for the output before the clip: raw video of the clip's size,
 * as downstream takes it. The clip's own caps replace them. */
static GstCaps *
caps_before_clip (GstWanR2v * self, GstPad * ghost)
{
  GstCaps *peer = gst_pad_peer_query_caps (ghost, NULL);
  GstCaps *want, *caps;
  gint resolution, aspect, w, h;

  g_object_get (self->gen, "resolution", &resolution, "aspect-ratio",
      &aspect, NULL);
  wr2v_output_size (resolution, aspect, &w, &h);
  if (ghost == self->audio.ghost)
    want = gst_caps_from_string (SILENCE_CAPS);
  else
    want = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING,
        "I420", "width", G_TYPE_INT, w, "height", G_TYPE_INT, h, "framerate",
        GST_TYPE_FRACTION, 30, 1, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1,
        1, NULL);
  caps = gst_caps_intersect (peer, want);
  if (gst_caps_is_empty (caps)) {
    gst_caps_unref (caps);
    caps = gst_caps_intersect (peer, gst_pad_get_pad_template_caps (ghost));
  }
  gst_caps_unref (peer);
  gst_caps_unref (want);
  if (gst_caps_is_empty (caps) || gst_caps_is_any (caps)) {
    gst_caps_unref (caps);
    return NULL;
  }
  return gst_caps_fixate (caps);
}

/* The application's EOS cancelled a running job: its end (progress
 * CANCELED) comes before EOS, as a clip's result does (hold_eos()). */
static void
wait_job_end (GstWanR2v * self)
{
  g_mutex_lock (&self->lock);
  while (self->job_running && !self->flushing)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);
}

/* Pushes @event, a GAP or an EOS event, on the bin's src pad @out_pad,
 * after a stream-start and a segment when the clip has not started yet;
 * a GAP only then. Serialized with the clip's data by the stream lock of
 * the ghost pad's internal pad, through which the clip comes. Runs on a
 * thread of its own (gst_element_call_async()), one per pad: a sink in
 * PAUSED blocks it in preroll until PLAYING or a flush. */
static void
push_on_output (GstWanR2v * self, GstWanR2vOutput * out_pad, GstEvent * event)
{
  GstPad *ghost = out_pad->ghost;
  GstPad *internal =
      GST_PAD (gst_proxy_pad_get_internal (GST_PROXY_PAD (ghost)));
  GstEvent *start;

  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS)
    wait_job_end (self);

  GST_PAD_STREAM_LOCK (internal);
  start = gst_pad_get_sticky_event (ghost, GST_EVENT_STREAM_START, 0);
  if (!start) {
    g_autofree gchar *id = gst_wanr2v_stream_id_new ("no-clip-yet");
    GstCaps *caps = caps_before_clip (self, ghost);
    GstSegment segment;

    gst_segment_init (&segment, GST_FORMAT_TIME);
    GST_DEBUG_OBJECT (ghost, "no clip yet: %" GST_PTR_FORMAT ", caps %"
        GST_PTR_FORMAT, event, caps);
    gst_pad_push_event (ghost, gst_event_new_stream_start (id));
    /* the segment must follow caps: the clip's caps come before its
     * segment, and a segment stored without caps makes them misordered */
    if (caps)
      gst_pad_push_event (ghost, gst_event_new_caps (caps));
    gst_clear_caps (&caps);
    gst_pad_push_event (ghost, gst_event_new_segment (&segment));
  }
  if (GST_EVENT_TYPE (event) == GST_EVENT_EOS) {
    g_mutex_lock (&self->lock);
    out_pad->eos_pushed = TRUE;
    g_mutex_unlock (&self->lock);
  }
  if (!start || GST_EVENT_TYPE (event) != GST_EVENT_GAP)
    gst_pad_push_event (ghost, gst_event_ref (event));
  gst_clear_event (&start);
  GST_PAD_STREAM_UNLOCK (internal);
  gst_object_unref (internal);
}

static void
push_on_video (GstElement * element, gpointer event)
{
  push_on_output (GST_WANR2V (element), &GST_WANR2V (element)->video, event);
}

/* An unlinked audio pad gets nothing: pushing would only fail. */
static void
push_on_audio (GstElement * element, gpointer event)
{
  GstWanR2v *self = GST_WANR2V (element);

  if (gst_pad_is_linked (self->audio.ghost))
    push_on_output (self, &self->audio, event);
}

/* Live mode's EOS: both pads end at their next frame, once the
 * cancelled job has ended (see wait_job_end()). On a thread of its own. */
static void
end_live (GstElement * element, gpointer user_data)
{
  GstWanR2v *self = GST_WANR2V (element);

  wait_job_end (self);
  gst_wanr2v_live_end (GST_WANR2V_LIVE (self->live));
}

/* push_on_output() on each src pad, each from its own thread. */
static void
push_on_outputs (GstWanR2v * self, GstEvent * event)
{
  gst_element_call_async (GST_ELEMENT (self), push_on_video,
      gst_event_ref (event), (GDestroyNotify) gst_event_unref);
  gst_element_call_async (GST_ELEMENT (self), push_on_audio, event,
      (GDestroyNotify) gst_event_unref);
}

/* EOS sent to the element or the pipeline ends the output now: a job
 * that has not served its clip is cancelled as on a stop (a hosted job
 * is resumed by the next run), and EOS goes downstream, so that muxers
 * finalise their files. A clip being decoded ends there. */
static gboolean
gst_wanr2v_send_event (GstElement * element, GstEvent * event)
{
  GstWanR2v *self = GST_WANR2V (element);

  if (GST_EVENT_TYPE (event) != GST_EVENT_EOS)
    return GST_ELEMENT_CLASS (parent_class)->send_event (element, event);
  GST_INFO_OBJECT (self, "EOS: ending the output");
  gst_wanr2v_gen_end_output (GST_WANR2V_GEN (self->gen));
  if (self->live_on) {
    gst_element_call_async (element, end_live, NULL, NULL);
    gst_event_unref (event);
    return TRUE;
  }
  push_on_outputs (self, event);
  return TRUE;
}

static GstStateChangeReturn
gst_wanr2v_change_state (GstElement * element, GstStateChange transition)
{
  GstWanR2v *self = GST_WANR2V (element);

  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      /* the children are in READY: the bin brings the new one along */
      if (self->decodebin_used) {
        if (!new_decodebin (self) ||
            gst_element_set_state (self->decodebin, GST_STATE_READY) ==
            GST_STATE_CHANGE_FAILURE) {
          GST_ELEMENT_ERROR (self, CORE, STATE_CHANGE,
              ("Cannot set up decodebin3 for a new run"), (NULL));
          return GST_STATE_CHANGE_FAILURE;
        }
      }
      self->decodebin_used = TRUE;
      hold_audio_queue (self);
      self->live_offset = 0;
      set_up_live (self);
      g_mutex_lock (&self->lock);
      self->job_over = self->flushing = self->job_running = FALSE;
      self->video.eos_pushed = self->audio.eos_pushed = FALSE;
      g_mutex_unlock (&self->lock);
      g_atomic_int_set (&self->clip_has_audio, FALSE);
      self->silence = -1;
      self->clip_end = GST_CLOCK_TIME_NONE;
      break;
    case GST_STATE_CHANGE_PAUSED_TO_READY:{
      GstWanR2vAnimatic *animatic;

      /* before the pads deactivate: they wait for a held EOS */
      g_mutex_lock (&self->lock);
      self->flushing = TRUE;
      g_cond_broadcast (&self->cond);
      animatic = g_steal_pointer (&self->animatic);
      g_mutex_unlock (&self->lock);
      /* before wanr2vgen removes the reference files it reads */
      if (animatic)
        gst_wanr2v_animatic_free (animatic);
      break;
    }
    default:
      break;
  }
  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);
  if (transition == GST_STATE_CHANGE_PAUSED_TO_READY) {
    release_audio_queue (self);
    gst_wanr2v_takes_remove (GST_BIN (element));
  }

  /* A live output prerolls downstream with a GAP at PLAYING (wanr2vgen,
   * a live basesrc, made READY->PAUSED return NO_PREROLL): a sink waiting
   * for the clip would otherwise keep the pipeline from PLAYING, and with
   * it a live source tee'd to a reference pad and another sink. */
  if (transition == GST_STATE_CHANGE_PAUSED_TO_PLAYING &&
      ret != GST_STATE_CHANGE_FAILURE && output_is_live (self) &&
      !self->live_on)
    push_on_outputs (self, gst_event_new_gap (0, GST_CLOCK_TIME_NONE));
  return ret;
}

/* decodebin3's stream collection says whether the clip has a soundtrack,
 * before its streams come out (see feed_silence()). */
static void
gst_wanr2v_handle_message (GstBin * bin, GstMessage * message)
{
  GstWanR2v *self = GST_WANR2V (bin);

  if (self->live_on && !(message = live_message (self, message)))
    return;
  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_STREAM_COLLECTION &&
      GST_MESSAGE_SRC (message) == GST_OBJECT (self->decodebin)) {
    g_autoptr (GstStreamCollection) collection = NULL;
    gboolean audio = FALSE;

    gst_message_parse_stream_collection (message, &collection);
    for (guint i = 0; collection && i <
        gst_stream_collection_get_size (collection); i++)
      audio |= (gst_stream_get_stream_type (gst_stream_collection_get_stream
              (collection, i)) & GST_STREAM_TYPE_AUDIO) != 0;
    GST_DEBUG_OBJECT (self, "the clip has %s soundtrack", audio ? "a" : "no");
    g_atomic_int_set (&self->clip_has_audio, audio);
  }
  /* variants: each take on pads of its own too */
  if (GST_MESSAGE_TYPE (message) == GST_MESSAGE_ELEMENT &&
      gst_message_has_name (message, "wanr2v/variants"))
    gst_wanr2v_takes_add (bin, gst_message_get_structure (message));
  GST_BIN_CLASS (parent_class)->handle_message (bin, message);
}

static void
gst_wanr2v_finalize (GObject * object)
{
  GstWanR2v *self = GST_WANR2V (object);

  g_mutex_clear (&self->lock);
  g_mutex_clear (&self->audio_queue_lock);
  g_cond_clear (&self->cond);
  g_free (self->placeholder_location);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

/* GstChildProxy: the request pads (video_0::uri, as gst-launch sets it
 * once "child-added" says the pad exists), then the bin's children by
 * name. Counted and indexed: the request pads, as on wanr2vgen. */
static GObject *
gst_wanr2v_child_proxy_get_child_by_name (GstChildProxy * proxy,
    const gchar * name)
{
  GstWanR2v *self = GST_WANR2V (proxy);
  GstPad *pad = gst_element_get_static_pad (GST_ELEMENT (self), name);

  if (pad && GST_PAD_IS_SINK (pad))
    return G_OBJECT (pad);
  gst_clear_object (&pad);
  return G_OBJECT (gst_bin_get_by_name (GST_BIN (self), name));
}

static GObject *
gst_wanr2v_child_proxy_get_child_by_index (GstChildProxy * proxy, guint index)
{
  GstElement *element = GST_ELEMENT (proxy);
  GObject *obj;

  GST_OBJECT_LOCK (element);
  obj = g_list_nth_data (element->sinkpads, index);
  if (obj)
    g_object_ref (obj);
  GST_OBJECT_UNLOCK (element);
  return obj;
}

static guint
gst_wanr2v_child_proxy_get_children_count (GstChildProxy * proxy)
{
  GstElement *element = GST_ELEMENT (proxy);
  guint n;

  GST_OBJECT_LOCK (element);
  n = element->numsinkpads;
  GST_OBJECT_UNLOCK (element);
  return n;
}

static void
gst_wanr2v_child_proxy_init (gpointer g_iface, gpointer iface_data)
{
  GstChildProxyInterface *iface = g_iface;

  iface->get_child_by_name = gst_wanr2v_child_proxy_get_child_by_name;
  iface->get_child_by_index = gst_wanr2v_child_proxy_get_child_by_index;
  iface->get_children_count = gst_wanr2v_child_proxy_get_children_count;
}

/* The live mode's own properties (see GstWanR2v:live). */
static void
install_live_properties (GObjectClass * gobject_class)
{
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  /**
   * GstWanR2v:placeholder:
   *
   * What a live output shows while the job runs: the preview engine's
   * animatic of the same request (`preview`, a slate until it is
   * rendered), a still image (`image`, #GstWanR2v:placeholder-location)
   * or a slate with the job's phase and progress (`slate`). The audio
   * pad carries the animatic's sound (the preview engine's bed) with
   * `preview` once it is rendered, and silence before that and with
   * `image` and `slate`.
   */
  g_object_class_install_property (gobject_class, PROP_PLACEHOLDER,
      g_param_spec_enum ("placeholder", "Placeholder",
          "Live mode: what is on air while the job runs: the preview "
          "engine's animatic of the request and its sound (a slate and "
          "silence until it is ready), an image (placeholder-location), or "
          "a slate with the job's phase and progress (both with silence)",
          GST_TYPE_WANR2V_PLACEHOLDER, GST_WANR2V_PLACEHOLDER_PREVIEW, rw));
  g_object_class_install_property (gobject_class, PROP_PLACEHOLDER_LOCATION,
      g_param_spec_string ("placeholder-location", "Placeholder location",
          "Live mode, placeholder=image: the image file (JPEG, PNG, any "
          "format decodebin reads), scaled to the output", NULL, rw));
  /**
   * GstWanR2v:after-clip:
   *
   * What a live output does once the clip has played: end with EOS (the
   * default), hold its last frame (audio: silence), or loop it.
   */
  g_object_class_install_property (gobject_class, PROP_AFTER_CLIP,
      g_param_spec_enum ("after-clip", "After the clip",
          "Live mode: after the clip, end (EOS), hold its last frame "
          "(silence on the audio pad), or loop it", GST_TYPE_WANR2V_AFTER_CLIP,
          GST_WANR2V_AFTER_CLIP_EOS, rw));
  /**
   * GstWanR2v:live-error:
   *
   * What a failed job does to a live output: keep the placeholder on air
   * and post the error as a WARNING message with the same details
   * structure (`keep-on-air`, the default), or post the ERROR (`error`),
   * which stops the pipeline.
   */
  g_object_class_install_property (gobject_class, PROP_LIVE_ERROR,
      g_param_spec_enum ("live-error", "Live error",
          "Live mode: a failed job keeps the placeholder on air and is "
          "posted as a warning (keep-on-air), or is an error that stops "
          "the pipeline (error)", GST_TYPE_WANR2V_LIVE_ERROR,
          GST_WANR2V_LIVE_ERROR_KEEP_ON_AIR, rw));
}

static void
gst_wanr2v_class_init (GstWanR2vClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_wanr2v_debug, "wanr2v", 0,
      "Wan reference-to-video");

  gobject_class->set_property = gst_wanr2v_set_property;
  gobject_class->get_property = gst_wanr2v_get_property;
  gobject_class->finalize = gst_wanr2v_finalize;
  gst_wanr2v_install_properties (gobject_class);

  /**
   * GstWanR2v:audio:
   *
   * What the `audio` pad carries: the clip's soundtrack (`auto`, with
   * silence of the clip's length when it has none), `silence` always, or
   * nothing but EOS (`off`). An unlinked `audio` pad costs nothing and
   * never stops the pipeline.
   */
  g_object_class_install_property (gobject_class, PROP_AUDIO,
      g_param_spec_enum ("audio", "Audio",
          "What the audio pad carries: the clip's soundtrack (silence when "
          "it has none), silence, or nothing (EOS only)",
          GST_TYPE_WANR2V_AUDIO, GST_WANR2V_AUDIO_AUTO,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));

  install_live_properties (gobject_class);

  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &video_template, GST_TYPE_WANR2V_BIN_PAD);
  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &image_template, GST_TYPE_WANR2V_BIN_PAD);
  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &voice_template, GST_TYPE_WANR2V_BIN_PAD);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_add_static_pad_template (element_class, &audio_template);
  gst_wanr2v_takes_add_templates (element_class);
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
  element_class->send_event = GST_DEBUG_FUNCPTR (gst_wanr2v_send_event);
  GST_BIN_CLASS (klass)->handle_message =
      GST_DEBUG_FUNCPTR (gst_wanr2v_handle_message);

  gst_type_mark_as_plugin_api (GST_TYPE_WANR2V_BIN_PAD, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_WANR2V_AUDIO, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_WANR2V_PLACEHOLDER, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_WANR2V_AFTER_CLIP, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_WANR2V_LIVE_ERROR, 0);
}

/* Silence (or audio=off) has no upstream of its own: a seek on the audio
 * pad seeks the clip through the video, whose segments the silence
 * follows (feed_silence()). The same seek from the video's sink, with its
 * seqnum, is the same seek to qtdemux. */
static gboolean
gst_wanr2v_audio_event (GstPad * pad, GstObject * parent, GstEvent * event)
{
  GstWanR2v *self = GST_WANR2V (parent);

  if (GST_EVENT_TYPE (event) == GST_EVENT_SEEK &&
      !gst_pad_is_linked (self->audio.sink))
    return gst_pad_push_event (self->video.sink, event);
  return gst_pad_event_default (pad, parent, event);
}

/* queue ! audioconvert ! audioresample, ghosted as "audio". The queue is
 * unbounded: the silence comes from the video's thread (feed_silence()),
 * which must not wait for the audio's downstream (a muxer waiting for
 * video); a clip's audio is at most 15 s. */
static gboolean
add_audio_output (GstWanR2v * self)
{
  GstElement *convert = gst_element_factory_make ("audioconvert", "aconvert");
  GstElement *resample =
      gst_element_factory_make ("audioresample", "aresample");
  GstPad *pad;

  self->audio_queue = gst_element_factory_make ("queue", "aqueue");
  if (!self->audio_queue || !convert || !resample) {
    gst_clear_object (&self->audio_queue);
    gst_clear_object (&convert);
    gst_clear_object (&resample);
    return FALSE;
  }
  g_object_set (self->audio_queue, "max-size-buffers", 0, "max-size-bytes",
      0, "max-size-time", (guint64) 0, NULL);
  gst_bin_add_many (GST_BIN (self), self->audio_queue, convert, resample, NULL);
  if (!gst_element_link_many (self->audio_queue, convert, resample, NULL))
    return FALSE;
  pad = gst_element_get_static_pad (self->audio_queue, "sink");
  self->audio.sink = pad;       /* the queue lives as long as the bin */
  gst_object_unref (pad);
  pad = gst_element_get_static_pad (resample, "src");
  self->audio.ghost = gst_ghost_pad_new_from_template ("audio", pad,
      gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (self),
          "audio"));
  self->audio_tail = pad;       /* resample lives as long as the bin */
  gst_object_unref (pad);
  gst_pad_set_query_function (self->audio.ghost, gst_wanr2v_src_query);
  gst_pad_set_event_function (self->audio.ghost, gst_wanr2v_audio_event);
  gst_element_add_pad (GST_ELEMENT (self), self->audio.ghost);
  return TRUE;
}

static void
gst_wanr2v_init (GstWanR2v * self)
{
  GstElement *scale, *rate;
  GstPad *pad;

  g_mutex_init (&self->lock);
  g_mutex_init (&self->audio_queue_lock);
  g_cond_init (&self->cond);
  self->gen = gst_element_factory_make ("wanr2vgen", "gen");
  g_assert (self->gen);
  gst_wanr2v_gen_set_job_watch (GST_WANR2V_GEN (self->gen), on_job_started,
      on_job_finished, self);
  gst_wanr2v_gen_set_request_watch (GST_WANR2V_GEN (self->gen),
      on_request_ready, self);
  gst_bin_add (GST_BIN (self), self->gen);
  /* decodebin3 is in gst-plugins-base: a missing one is a broken install,
   * reported by the state change failing with no element to run. */
  /* whatever downstream asks that these can make: size, rate, format */
  self->convert = gst_element_factory_make ("videoconvert", "convert");
  scale = gst_element_factory_make ("videoscale", "scale");
  rate = gst_element_factory_make ("videorate", "rate");
  if (!self->convert || !scale || !rate) {
    g_critical ("wanr2v needs decodebin3, videoconvert, videoscale and "
        "videorate (gstreamer1.0-plugins-base)");
    gst_clear_object (&scale);
    gst_clear_object (&rate);
    return;
  }
  gst_bin_add_many (GST_BIN (self), self->convert, scale, rate, NULL);
  if (!gst_element_link_many (self->convert, scale, rate, NULL) ||
      !new_decodebin (self)) {
    g_critical ("wanr2v needs decodebin3 (gstreamer1.0-plugins-base)");
    return;
  }

  pad = gst_element_get_static_pad (rate, "src");
  self->video_tail = pad;       /* rate lives as long as the bin */
  /* the class's own template: gst_static_pad_template_get() would make a
   * floating one that nothing sinks, leaked once per element */
  self->srcpad = gst_ghost_pad_new_from_template ("src", pad,
      gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (self), "src"));
  gst_object_unref (pad);
  gst_pad_set_query_function (self->srcpad, gst_wanr2v_src_query);
  gst_element_add_pad (GST_ELEMENT (self), self->srcpad);
  self->video.self = self->audio.self = self;
  self->video.ghost = self->srcpad;
  pad = gst_element_get_static_pad (self->convert, "sink");
  self->video.sink = pad;       /* convert lives as long as the bin */
  gst_object_unref (pad);
  self->silence = -1;
  if (!add_audio_output (self))
    g_critical ("wanr2v needs queue, audioconvert and audioresample "
        "(gstreamer1.0-plugins-base)");
  /* idle until a live run (set_up_live()) */
  self->live = g_object_new (GST_TYPE_WANR2V_LIVE, "name", "live", NULL);
  gst_bin_add (GST_BIN (self), self->live);
}
