/**
 * SECTION:element-wanr2vgen
 * @title: wanr2vgen
 *
 * The core of #wanr2v: collects reference videos and images on request
 * pads, runs one reference-to-video job on an engine, stores the delivered
 * MP4 in the result store and outputs its bytes as `video/quicktime`, in
 * push or pull mode. Use it alone when you want the clip exactly as the
 * engine delivered it; use #wanr2v for decoded raw video.
 *
 * Its `voice_%u` request pads take the references' voices from streams
 * (raw audio, a wav or an mp3), as described for #wanr2v.
 *
 * ## Example launch line
 * |[
 * gst-launch-1.0 wanr2vgen name=g prompt="Video 1 waves at the camera" \
 *     ! filesink location=clip.mp4 \
 *     videotestsrc num-buffers=60 ! g.video_0
 * ]|
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "gstwanr2vgen.h"
#include "gstwanr2vprogress.h"
#include "gstwanr2vprops.h"
#include "gstwanr2vrefpad.h"
#include "gstwanr2vtypes.h"
#include "wr2v-error.h"
#include "wr2v-fleet.h"
#include "wr2v-prompt.h"
#include "wr2v-voice.h"
#include "wr2v-storyboard.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <glib/gstdio.h>

GST_DEBUG_CATEGORY_STATIC (gst_wanr2v_gen_debug);
#define GST_CAT_DEFAULT gst_wanr2v_gen_debug

/* what the preview engine and the hosted APIs can take without a decode */
#define VIDEO_CAPS "video/x-raw(ANY); video/quicktime"
#define IMAGE_CAPS "video/x-raw(ANY); image/jpeg; image/png"

static GstStaticPadTemplate video_template =
GST_STATIC_PAD_TEMPLATE ("video_%u", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS (VIDEO_CAPS));
static GstStaticPadTemplate image_template =
GST_STATIC_PAD_TEMPLATE ("image_%u", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS (IMAGE_CAPS));
static GstStaticPadTemplate voice_template =
GST_STATIC_PAD_TEMPLATE ("voice_%u", GST_PAD_SINK, GST_PAD_REQUEST,
    GST_STATIC_CAPS (GST_WANR2V_VOICE_CAPS));
static GstStaticPadTemplate src_template =
GST_STATIC_PAD_TEMPLATE ("src", GST_PAD_SRC, GST_PAD_ALWAYS,
    GST_STATIC_CAPS ("video/quicktime"));

#define READ_BLOCKSIZE (256 * 1024)

/* How long after PAUSED references may still be linked, in a pipeline
 * whose sources have sometimes pads, when the prompt needs more
 * references than are there (see references_final()). */
#define REFERENCE_SETTLE_SECONDS 10

/* How often a running job says how long it has run. */
#define PROGRESS_TICK_SECONDS 10

/* Thread safety
 *
 * - self->lock guards every field of GstWanR2vGen after it (properties,
 *   pads, the run, the bin's job watch), and the reference pads' writer,
 *   complete and file fields. self->cond is signalled on every change of `state` and of
 *   `flushing`.
 * - A reference pad's object lock guards its uri (and GStreamer's use of
 *   it, its peer).
 * - Lock order: self->lock, then a pad's object lock; never the other
 *   way round. No lock is held while a thread is joined, while a message
 *   is posted, or while an event or buffer is pushed.
 *
 * Threads: the application (properties, state changes, send_event), each
 * reference pad's streaming thread (chain, events), the job thread
 * (job_thread_func), and the src pad's streaming thread (create(), in
 * push mode the element's task, in pull mode the demuxer's).
 */

/* The run, from READY->PAUSED to PAUSED->READY, is one state.
 *
 *   IDLE -> COLLECTING -> GENERATING -> SERVING -> DONE
 *                 ^           |
 *                 |           v (a reference pad flushed)
 *                 +------ RESTARTING -> JOINING (FLUSH_STOP joins the job)
 *
 * and from any state of a run: FAILED (an error was posted; nothing is
 * served) or CANCELLED (PAUSED->READY, or EOS before the clip was served:
 * nothing is served, the job thread, if any, is cancelled).
 *
 * The src pad's `flushing` (basesrc's unlock/unlock_stop, e.g. a seek) is
 * not part of the run: it only wakes create() and the EOS gate.
 */
typedef enum
{
  GEN_STATE_IDLE,               /* NULL or READY: no run */
  GEN_STATE_COLLECTING,         /* reference pads take data; no job yet */
  GEN_STATE_GENERATING,         /* the job thread runs the job */
  GEN_STATE_RESTARTING,         /* a reference flush cancelled the job */
  GEN_STATE_JOINING,            /* a FLUSH_STOP joins that job, then the
                                 * run collects again */
  GEN_STATE_SERVING,            /* the checked clip is served while the job
                                 * thread stores it: EOS waits */
  GEN_STATE_DONE,               /* the clip is stored and served */
  GEN_STATE_FAILED,             /* an error was posted */
  GEN_STATE_CANCELLED,          /* stopped, or ended by EOS */
} GenState;

static const gchar *
gen_state_name (GenState state)
{
  static const gchar *names[] = { "idle", "collecting", "generating",
    "restarting", "joining", "serving", "done", "failed", "cancelled"
  };

  return names[state];
}

struct _GstWanR2vGen
{
  GstBaseSrc parent;

  GMutex lock;
  GCond cond;

  /* properties */
  gchar *prompt;
  gchar *negative_prompt;
  gint duration;                /* checked at start: gst_wanr2v_check_ranges() */
  Wr2vResolution resolution;
  Wr2vAspectRatio aspect_ratio;
  gboolean aspect_ratio_set;
  gint64 seed;
  gboolean prompt_expansion;
  Wr2vNumbering numbering;
  Wr2vShotType shot_type;
  GstWanR2vEngine engine;
  gdouble reference_duration;
  gchar *cache_dir;
  gchar *result_location;
  gchar *fleet_store;           /* never logged: may hold a password */
  gdouble fleet_budget;
  gchar *fleet_budget_period;
  Wr2vEngineSettings settings;
  gdouble estimated_cost;
  gboolean is_live;
  GstWanR2vRegion region;       /* settings.region holds its name */
  gchar *job_key;
  gchar *storyboard;            /* a file or the shots' text, or NULL */
  guint variants;
  GPtrArray *shots;             /* Wr2vShot* (storyboard or variants), made
                                 * at READY->PAUSED */

  /* pads */
  GList *ref_pads;              /* GstWanR2vRefPad*, owned by the element */
  guint next_video, next_image;

  /* one run, from READY to PAUSED and back */
  GenState state;
  const gchar *engine_name;     /* picked at READY->PAUSED */
  gchar *work_dir;              /* reference files, removed on stop */
  GCancellable *cancellable;    /* the job's; cancelled on stop, EOS,
                                 * reference flush */
  GThread *job_thread;
  gboolean refs_dynamic;        /* pads may be requested and linked after
                                 * PAUSED: see references_final() */
  gint64 settle_deadline;       /* monotonic; until then they are open */
  GstClockID settle_id;         /* ends the settle time */
  GstWanR2vProgress *progress;  /* thread-safe on its own */
  gboolean flushing;            /* the src pad is flushing (unlock()) */
  gint result_fd;
  guint64 result_size;

  /* the wanr2v bin's watch on the job: see gst_wanr2v_gen_set_job_watch() */
  GstWanR2vGenJobStarted watch_started;
  GstWanR2vGenJobFinished watch_finished;
  gpointer watch_data;
  GstWanR2vGenRequestReady watch_request;       /* with watch_request_data */
  gpointer watch_request_data;

  /* basesrc's, which gst_wanr2v_gen_activate_mode() wraps */
  GstPadActivateModeFunction basesrc_activate_mode;
};

/* Called with the lock held. */
static void
set_state (GstWanR2vGen * self, GenState state)
{
  if (self->state == state)
    return;
  GST_DEBUG_OBJECT (self, "%s -> %s", gen_state_name (self->state),
      gen_state_name (state));
  self->state = state;
  g_cond_broadcast (&self->cond);
}

/* Whether the clip is (or will never be) there: create() stops waiting. */
static gboolean
state_is_settled (GenState state)
{
  return state >= GEN_STATE_SERVING;
}

/* Whether the job can still start or run: no stop, EOS or error yet. */
static gboolean
state_before_clip (GenState state)
{
  return state >= GEN_STATE_COLLECTING && state <= GEN_STATE_JOINING;
}

#define gst_wanr2v_gen_parent_class parent_class
static void gst_wanr2v_gen_child_proxy_init (gpointer g_iface,
    gpointer iface_data);
G_DEFINE_TYPE_WITH_CODE (GstWanR2vGen, gst_wanr2v_gen, GST_TYPE_BASE_SRC,
    G_IMPLEMENT_INTERFACE (GST_TYPE_CHILD_PROXY,
        gst_wanr2v_gen_child_proxy_init));
GST_ELEMENT_REGISTER_DEFINE (wanr2vgen, "wanr2vgen", GST_RANK_NONE,
    GST_TYPE_WANR2V_GEN);

/* --- properties --- */

/* Every property is changeable only in NULL or READY (the run reads them
 * at READY->PAUSED): a later change is refused, and the property keeps
 * the value the clip is made with. */
static gboolean
property_mutable (GstWanR2vGen * self, GParamSpec * pspec)
{
  GstState state;
  GstObject *owner = gst_object_get_parent (GST_OBJECT (self));
  const gchar *name;

  GST_OBJECT_LOCK (self);
  state = GST_STATE (self);
  GST_OBJECT_UNLOCK (self);
  if (state <= GST_STATE_READY) {
    gst_clear_object (&owner);
    return TRUE;
  }
  /* the name the user knows: the wanr2v bin's, when inside one */
  name = owner && g_str_equal (G_OBJECT_TYPE_NAME (owner), "GstWanR2v") ?
      GST_OBJECT_NAME (owner) : GST_OBJECT_NAME (self);
  GST_WARNING_OBJECT (self, "%s can only be changed in NULL or READY",
      pspec->name);
  g_warning ("%s: the %s property can only be changed in the NULL or READY "
      "state; the change is ignored and %s keeps its value", name,
      pspec->name, pspec->name);
  gst_clear_object (&owner);
  return FALSE;
}

static void
gst_wanr2v_gen_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstWanR2vGen *self = GST_WANR2V_GEN (object);
  Wr2vEngineSettings *s = &self->settings;

  if (!property_mutable (self, pspec))
    return;
  g_mutex_lock (&self->lock);
  switch (prop_id) {
    case PROP_PROMPT:
      g_free (self->prompt);
      self->prompt = g_value_dup_string (value);
      break;
    case PROP_NEGATIVE_PROMPT:
      g_free (self->negative_prompt);
      self->negative_prompt = g_value_dup_string (value);
      break;
    case PROP_DURATION:
      self->duration = g_value_get_int (value);
      break;
    case PROP_RESOLUTION:
      self->resolution = g_value_get_enum (value);
      break;
    case PROP_ASPECT_RATIO:
      self->aspect_ratio = g_value_get_enum (value);
      self->aspect_ratio_set = TRUE;
      break;
    case PROP_SEED:
      self->seed = g_value_get_int64 (value);
      break;
    case PROP_PROMPT_EXPANSION:
      self->prompt_expansion = g_value_get_boolean (value);
      break;
    case PROP_ENGINE:
      self->engine = g_value_get_enum (value);
      break;
    case PROP_REFERENCE_NUMBERING:
      self->numbering = g_value_get_enum (value);
      break;
    case PROP_SHOT_TYPE:
      self->shot_type = g_value_get_enum (value);
      break;
    case PROP_REFERENCE_DURATION:
      self->reference_duration = g_value_get_double (value);
      break;
    case PROP_CACHE_DIR:
      g_free (self->cache_dir);
      self->cache_dir = g_value_dup_string (value);
      break;
    case PROP_RESULT_LOCATION:
      g_free (self->result_location);
      self->result_location = g_value_dup_string (value);
      break;
    case PROP_API_KEY:
      g_free (s->api_key);
      s->api_key = g_value_dup_string (value);
      break;
    case PROP_API_URL:
      g_free (s->api_url);
      s->api_url = g_value_dup_string (value);
      break;
    case PROP_MODEL:
      g_free (s->model);
      s->model = g_value_dup_string (value);
      break;
    case PROP_REGION:
      self->region = g_value_get_enum (value);
      g_free (s->region);
      s->region = g_strdup (gst_wanr2v_region_name (self->region));
      break;
    case PROP_WORKFLOW:
      g_free (s->workflow);
      s->workflow = g_value_dup_string (value);
      break;
    case PROP_REQUEST_TIMEOUT:
      s->request_timeout_s = g_value_get_uint (value);
      break;
    case PROP_POLL_INTERVAL:
      s->poll_interval_ms = g_value_get_uint (value);
      break;
    case PROP_MAX_COST:
      s->max_cost = g_value_get_double (value);
      break;
    case PROP_STORE:
      g_free (self->fleet_store);
      self->fleet_store = g_value_dup_string (value);
      break;
    case PROP_FLEET_BUDGET:
      self->fleet_budget = g_value_get_double (value);
      break;
    case PROP_FLEET_BUDGET_PERIOD:
      g_free (self->fleet_budget_period);
      self->fleet_budget_period = g_value_dup_string (value);
      break;
    case PROP_MAX_DOWNLOAD_SIZE:
      s->max_download_bytes = g_value_get_uint64 (value);
      break;
    case PROP_IS_LIVE:
    case PROP_LIVE:
      self->is_live = g_value_get_boolean (value);
      break;
    case PROP_JOB_KEY:
      g_free (self->job_key);
      self->job_key = g_value_dup_string (value);
      break;
    case PROP_STORYBOARD:
      g_free (self->storyboard);
      self->storyboard = g_value_dup_string (value);
      if (self->storyboard && !*self->storyboard)
        g_clear_pointer (&self->storyboard, g_free);
      break;
    case PROP_VARIANTS:
      self->variants = g_value_get_uint (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  g_mutex_unlock (&self->lock);
}

static void
gst_wanr2v_gen_get_property (GObject * object, guint prop_id, GValue * value,
    GParamSpec * pspec)
{
  GstWanR2vGen *self = GST_WANR2V_GEN (object);
  Wr2vEngineSettings *s = &self->settings;

  g_mutex_lock (&self->lock);
  switch (prop_id) {
    case PROP_PROMPT:
      g_value_set_string (value, self->prompt);
      break;
    case PROP_NEGATIVE_PROMPT:
      g_value_set_string (value, self->negative_prompt);
      break;
    case PROP_DURATION:
      g_value_set_int (value, self->duration);
      break;
    case PROP_RESOLUTION:
      g_value_set_enum (value, self->resolution);
      break;
    case PROP_ASPECT_RATIO:
      g_value_set_enum (value, self->aspect_ratio);
      break;
    case PROP_SEED:
      g_value_set_int64 (value, self->seed);
      break;
    case PROP_PROMPT_EXPANSION:
      g_value_set_boolean (value, self->prompt_expansion);
      break;
    case PROP_ENGINE:
      g_value_set_enum (value, self->engine);
      break;
    case PROP_REFERENCE_NUMBERING:
      g_value_set_enum (value, self->numbering);
      break;
    case PROP_SHOT_TYPE:
      g_value_set_enum (value, self->shot_type);
      break;
    case PROP_REFERENCE_DURATION:
      g_value_set_double (value, self->reference_duration);
      break;
    case PROP_CACHE_DIR:
      g_value_set_string (value, self->cache_dir);
      break;
    case PROP_RESULT_LOCATION:
      g_value_set_string (value, self->result_location);
      break;
    case PROP_API_URL:
      g_value_set_string (value, s->api_url);
      break;
    case PROP_MODEL:
      g_value_set_string (value, s->model);
      break;
    case PROP_REGION:
      g_value_set_enum (value, self->region);
      break;
    case PROP_WORKFLOW:
      g_value_set_string (value, s->workflow);
      break;
    case PROP_REQUEST_TIMEOUT:
      g_value_set_uint (value, s->request_timeout_s);
      break;
    case PROP_POLL_INTERVAL:
      g_value_set_uint (value, s->poll_interval_ms);
      break;
    case PROP_MAX_COST:
      g_value_set_double (value, s->max_cost);
      break;
    case PROP_FLEET_BUDGET:
      g_value_set_double (value, self->fleet_budget);
      break;
    case PROP_FLEET_BUDGET_PERIOD:
      g_value_set_string (value, self->fleet_budget_period);
      break;
    case PROP_ESTIMATED_COST:
      g_value_set_double (value, self->estimated_cost);
      break;
    case PROP_MAX_DOWNLOAD_SIZE:
      g_value_set_uint64 (value, s->max_download_bytes);
      break;
    case PROP_IS_LIVE:
    case PROP_LIVE:
      g_value_set_boolean (value, self->is_live);
      break;
    case PROP_JOB_KEY:
      g_value_set_string (value, self->job_key);
      break;
    case PROP_STORYBOARD:
      g_value_set_string (value, self->storyboard);
      break;
    case PROP_VARIANTS:
      g_value_set_uint (value, self->variants);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  g_mutex_unlock (&self->lock);
}

/* --- errors --- */

/* Posts @err as the element error a user can act on, with the job's
 * details (job id, provider code, HTTP status) in the details structure. */
static void
post_error (GstWanR2vGen * self, const GError * err, GstStructure * details)
{
  GQuark domain = GST_STREAM_ERROR;
  gint code = GST_STREAM_ERROR_FAILED;
  GstStructure *d = details ? gst_structure_copy (details) :
      gst_structure_new_empty ("details");
  g_autofree gchar *debug = NULL;

  if (err->domain == WR2V_ERROR) {
    switch ((Wr2vErrorCode) err->code) {
      case WR2V_ERROR_INVALID_REQUEST:
      case WR2V_ERROR_UNSUPPORTED:
      case WR2V_ERROR_COST:
        domain = GST_LIBRARY_ERROR;
        code = GST_LIBRARY_ERROR_SETTINGS;
        break;
      case WR2V_ERROR_NO_CREDENTIALS:
        domain = GST_CORE_ERROR;
        code = GST_CORE_ERROR_FAILED;
        break;
      case WR2V_ERROR_NOT_AUTHORIZED:
        domain = GST_RESOURCE_ERROR;
        code = GST_RESOURCE_ERROR_NOT_AUTHORIZED;
        break;
      case WR2V_ERROR_NOT_FOUND:
        domain = GST_RESOURCE_ERROR;
        code = GST_RESOURCE_ERROR_NOT_FOUND;
        break;
      case WR2V_ERROR_STORE:
        domain = GST_RESOURCE_ERROR;
        code = GST_RESOURCE_ERROR_OPEN_WRITE;
        break;
      case WR2V_ERROR_NETWORK:
      case WR2V_ERROR_MAYBE_SUBMITTED:
        domain = GST_RESOURCE_ERROR;
        code = GST_RESOURCE_ERROR_READ;
        break;
      case WR2V_ERROR_BAD_RESULT:
      case WR2V_ERROR_PROTOCOL:
        domain = GST_STREAM_ERROR;
        code = GST_STREAM_ERROR_DECODE;
        break;
      default:
        break;
    }
  }
  gst_structure_set (d, "wanr2v-error-code", G_TYPE_INT, err->code, NULL);
  debug = gst_structure_to_string (d);
  gst_element_message_full_with_details (GST_ELEMENT (self),
      GST_MESSAGE_ERROR, domain, code, g_strdup (err->message),
      g_steal_pointer (&debug), __FILE__, GST_FUNCTION, __LINE__, d);
}

/* --- the request --- */

/* The reference pad voice pad @voice speaks for: the one whose voice-pad
 * names it, else video_N for voice_N when that one names no other; NULL
 * when none. Called with the lock held. */
static GstWanR2vRefPad *
voice_partner (GstWanR2vGen * self, GstWanR2vRefPad * voice)
{
  GstWanR2vRefPad *fallback = NULL;

  for (GList * l = self->ref_pads; l; l = l->next) {
    GstWanR2vRefPad *pad = l->data;
    gboolean names_it, names_none;

    if (pad->voice)
      continue;
    GST_OBJECT_LOCK (pad);
    names_it = !g_strcmp0 (pad->voice_pad, GST_OBJECT_NAME (voice));
    names_none = !pad->voice_pad || !*pad->voice_pad;
    GST_OBJECT_UNLOCK (pad);
    if (names_it)
      return pad;
    if (names_none && pad->kind == WR2V_REF_VIDEO && pad->index == voice->index)
      fallback = pad;
  }
  return fallback;
}

/* Each voice pad's name on the reference it speaks for (voice_pad; the
 * first voice pad when two pair with one). Called with the lock held. */
static void
pair_voices (GstWanR2vGen * self, Wr2vRequest * req)
{
  for (GList * l = self->ref_pads; l; l = l->next) {
    GstWanR2vRefPad *voice = l->data, *partner;
    Wr2vReference *ref = NULL;

    if (!voice->voice)
      continue;
    partner = voice_partner (self, voice);
    for (guint i = 0; partner && i < req->references->len; i++) {
      Wr2vReference *r = g_ptr_array_index (req->references, i);

      if (r->kind == partner->kind && r->pad_index == partner->index)
        ref = r;
    }
    if (ref && !ref->voice_pad)
      ref->voice_pad = g_strdup (GST_OBJECT_NAME (voice));
  }
}

/* An error naming the voice pads of @req's pads that speak for no
 * reference (pair_voices() left them out). Called with the lock held. */
static gboolean
check_voices_paired (GstWanR2vGen * self, const Wr2vRequest * req,
    GError ** error)
{
  g_autoptr (GString) names = g_string_new (NULL);

  for (GList * l = self->ref_pads; l; l = l->next) {
    GstWanR2vRefPad *voice = l->data;
    gboolean paired = FALSE;

    for (guint i = 0; voice->voice && i < req->references->len; i++) {
      Wr2vReference *ref = g_ptr_array_index (req->references, i);

      paired |= !g_strcmp0 (ref->voice_pad, GST_OBJECT_NAME (voice));
    }
    if (voice->voice && !paired)
      g_string_append_printf (names, "%s%s", names->len ? ", " : "",
          GST_OBJECT_NAME (voice));
  }
  if (!names->len)
    return TRUE;
  g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
      "Voice pad %s speaks for no reference: voice_N speaks for video_N, or "
      "for the reference pad whose voice-pad property names it (one voice "
      "per reference). Link that reference, set voice-pad on it, or release "
      "the voice pad.", names->str);
  return FALSE;
}

/* The request as the properties and pads describe it; references carry
 * no content yet. Called with the lock held. */
static Wr2vRequest *
build_request (GstWanR2vGen * self)
{
  Wr2vRequest *req = wr2v_request_new ();

  req->prompt = g_strdup (self->prompt);
  req->negative_prompt = g_strdup (self->negative_prompt);
  req->duration = (guint) MAX (self->duration, 0);
  req->job_key = g_strdup (self->job_key);
  req->resolution = self->resolution;
  req->aspect_ratio = self->aspect_ratio;
  req->aspect_ratio_set = self->aspect_ratio_set;
  req->seed = self->seed;
  req->prompt_expansion = self->prompt_expansion;
  req->numbering = self->numbering;
  req->shot_type = self->shot_type;
  for (GList * l = self->ref_pads; l; l = l->next) {
    GstWanR2vRefPad *pad = l->data;
    Wr2vReference *ref;

    if (pad->voice)
      continue;
    ref = wr2v_reference_new (pad->kind, pad->index);
    GST_OBJECT_LOCK (pad);
    ref->uri = g_strdup (pad->uri);
    ref->first_frame = pad->role == GST_WANR2V_ROLE_FIRST_FRAME;
    ref->voice_uri = pad->voice_uri && *pad->voice_uri ?
        g_strdup (pad->voice_uri) : NULL;
    ref->voice_source = pad->voice_location && *pad->voice_location ?
        g_strdup (pad->voice_location) : NULL;
    GST_OBJECT_UNLOCK (pad);
    wr2v_request_add_reference (req, ref);
  }
  wr2v_request_number_references (req);
  pair_voices (self, req);
  return req;
}

static GstWanR2vRefPad *
pad_for_reference (GstWanR2vGen * self, const Wr2vReference * ref)
{
  for (GList * l = self->ref_pads; l; l = l->next) {
    GstWanR2vRefPad *pad = l->data;

    if (!pad->voice && pad->kind == ref->kind && pad->index == ref->pad_index)
      return pad;
  }
  return NULL;
}

static GstWanR2vRefPad *
voice_pad_named (GstWanR2vGen * self, const gchar * name)
{
  for (GList * l = self->ref_pads; l && name; l = l->next) {
    GstWanR2vRefPad *pad = l->data;

    if (pad->voice && g_str_equal (GST_OBJECT_NAME (pad), name))
      return pad;
  }
  return NULL;
}

/* Whether data can reach @pad: it has a peer and, when it is the target
 * of a ghost pad (inside the wanr2v bin), the ghost pad has one too. */
static gboolean
ref_pad_has_upstream (GstPad * pad)
{
  GstPad *peer = gst_pad_get_peer (pad);

  while (peer && GST_IS_PROXY_PAD (peer) && !GST_IS_GHOST_PAD (peer)) {
    /* the internal pad of a ghost pad: what counts is the ghost's peer */
    GstProxyPad *ghost = gst_proxy_pad_get_internal (GST_PROXY_PAD (peer));

    gst_object_unref (peer);
    peer = ghost ? gst_pad_get_peer (GST_PAD (ghost)) : NULL;
    gst_clear_object (&ghost);
  }
  if (!peer)
    return FALSE;
  gst_object_unref (peer);
  return TRUE;
}

static gboolean
ref_pad_has_uri (GstWanR2vRefPad * pad)
{
  gboolean set;

  GST_OBJECT_LOCK (pad);
  /* a voice pad has no uri that stands for its audio */
  set = !pad->voice && pad->uri && *pad->uri;
  GST_OBJECT_UNLOCK (pad);
  return set;
}

/* The error for reference pads that would never complete: requested, not
 * linked, no uri. @names is "video_1" or "video_1, image_0"; @n how many.
 * Nothing upstream sends them data or EOS, so without this the job never
 * starts and the pipeline waits forever. */
static void
set_unlinked_error (GError ** error, const gchar * names, guint n)
{
  g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
      "Reference pad%s %s %s requested but not linked, and %s no uri, so "
      "%s would never complete. Link a source to %s, release %s "
      "(gst_element_release_request_pad), or set %s uri property to a URL "
      "a hosted engine fetches.", n > 1 ? "s" : "", names,
      n > 1 ? "were" : "was", n > 1 ? "have" : "has", n > 1 ? "they" : "it",
      n > 1 ? "each" : "it", n > 1 ? "them" : "it", n > 1 ? "their" : "its");
}

/* Checks that every reference pad will complete: linked, or given a uri
 * only. Called with the lock held. */
static gboolean
check_references_linked (GstWanR2vGen * self, GError ** error)
{
  g_autoptr (GString) names = g_string_new (NULL);
  guint n = 0;

  for (GList * l = self->ref_pads; l; l = l->next) {
    GstWanR2vRefPad *pad = l->data;

    if (ref_pad_has_upstream (GST_PAD (pad)) || ref_pad_has_uri (pad))
      continue;
    g_string_append_printf (names, "%s%s", n++ ? ", " : "",
        GST_OBJECT_NAME (pad));
  }
  if (n == 0)
    return TRUE;
  set_unlinked_error (error, names->str, n);
  return FALSE;
}

static const gchar *
pick_engine (GstWanR2vGen * self, const gchar ** why)
{
  if (self->engine != GST_WANR2V_ENGINE_AUTO) {
    *why = "set by the engine property";
    return gst_wanr2v_engine_name (self->engine);
  }
  return wr2v_engine_pick_auto (&self->settings, why);
}

static gboolean
check_writable_parent (const gchar * location, GError ** error)
{
  g_autofree gchar *dir = g_path_get_dirname (location);

  if (g_file_test (location, G_FILE_TEST_IS_DIR)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "result-location %s is a directory; give a file name ending in "
        ".mp4.", location);
    return FALSE;
  }
  if (g_access (dir, W_OK | X_OK) != 0) {
    int e = errno;
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "Cannot write result-location %s: %s. Choose a writable directory.",
        location, g_strerror (e));
    return FALSE;
  }
  return TRUE;
}

/* How the prompt was read, and what the engine's provider is sent: a
 * warning when auto had to choose between two meanings, the log, and the
 * wanr2v/request message. */
static void
post_prompt_sent (GstWanR2vGen * self, const Wr2vRequest * req)
{
  g_autofree gchar *warning = wr2v_prompt_ambiguity_warning (req);
  g_autofree gchar *model = NULL;
  g_autofree gchar *sent = NULL;

  g_mutex_lock (&self->lock);
  model = g_strdup (self->settings.model);
  g_mutex_unlock (&self->lock);
  sent = wr2v_prompt_sent (req, self->engine_name, model);
  if (warning)
    GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS, ("%s", warning), (NULL));
  GST_INFO_OBJECT (self, "prompt as sent to %s: %s", self->engine_name, sent);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("wanr2v/request", "engine", G_TYPE_STRING,
              self->engine_name, "prompt", G_TYPE_STRING,
              req->prompt ? req->prompt : "", "reference-numbering",
              G_TYPE_STRING, wr2v_numbering_nick (wr2v_prompt_reading (req,
                      NULL)), "prompt-sent", G_TYPE_STRING, sent, NULL)));
}

/* Whether references the request needs may still be linked (see
 * references_final()): the request is then checked when the job starts,
 * not now. Called with the lock held. */
static gboolean
references_pending (GstWanR2vGen * self, const Wr2vRequest * req)
{
  if (!self->refs_dynamic || (req->references->len > 0 &&
          wr2v_prompt_check_mentions (self->prompt, req, NULL)))
    return FALSE;
  GST_INFO_OBJECT (self, "references may still be linked: the request is "
      "checked when they are final");
  return TRUE;
}

/* Whether the pipeline holds an element with sometimes src pads
 * (decodebin, uridecodebin, a demuxer), outside this element and the
 * wanr2v bin around it: a reference pad may then be requested and linked
 * after PAUSED, from "pad-added". */
static gboolean
pipeline_may_link_later (GstWanR2vGen * self)
{
  GstObject *top = gst_object_ref (GST_OBJECT (self));
  GstObject *parent = gst_object_get_parent (GST_OBJECT (self));
  GstObject *owner = GST_OBJECT (self);
  GstIterator *it;
  GValue item = G_VALUE_INIT;
  gboolean found = FALSE, done = FALSE;

  if (parent && g_str_equal (G_OBJECT_TYPE_NAME (parent), "GstWanR2v"))
    owner = parent;
  while ((parent = gst_object_get_parent (top))) {
    gst_object_unref (top);
    top = parent;
  }
  if (!GST_IS_BIN (top)) {
    gst_object_unref (top);
    return FALSE;
  }
  it = gst_bin_iterate_recurse (GST_BIN (top));
  while (!done && !found) {
    switch (gst_iterator_next (it, &item)) {
      case GST_ITERATOR_OK:{
        GstElement *e = g_value_get_object (&item);
        GList *t = gst_element_class_get_pad_template_list
            (GST_ELEMENT_GET_CLASS (e));

        if (GST_OBJECT (e) == owner ||
            gst_object_has_as_ancestor (GST_OBJECT (e), owner))
          t = NULL;
        for (; t && !found; t = t->next) {
          GstPadTemplate *templ = t->data;

          found = GST_PAD_TEMPLATE_DIRECTION (templ) == GST_PAD_SRC &&
              GST_PAD_TEMPLATE_PRESENCE (templ) == GST_PAD_SOMETIMES;
          if (found)
            GST_INFO_OBJECT (self, "%" GST_PTR_FORMAT " has sometimes pads: "
                "references may be linked after PAUSED", e);
        }
        g_value_reset (&item);
        break;
      }
      case GST_ITERATOR_RESYNC:
        gst_iterator_resync (it);
        break;
      default:
        done = TRUE;
        break;
    }
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  gst_object_unref (top);
  return found;
}

/* Whether a live source feeds @sinkpad: the sources upstream, found
 * through links, ghost pads and elements' sink pads. Upstream is still in
 * READY at READY->PAUSED, where sources do not answer a latency query
 * yet, but their is-live is known. */
static gboolean
upstream_live (GstPad * sinkpad, guint depth)
{
  GstPad *peer = gst_pad_get_peer (sinkpad);
  GstElement *element;
  gboolean live = FALSE;
  GstIterator *it;
  GValue item = G_VALUE_INIT;

  /* a ghost pad's internal pad: continue from the ghost; a ghost src pad
   * of a bin upstream: continue from its target */
  while (peer && GST_IS_PROXY_PAD (peer) && depth++ < 64) {
    GstPad *next = GST_IS_GHOST_PAD (peer) ?
        gst_ghost_pad_get_target (GST_GHOST_PAD (peer)) : NULL;

    if (!GST_IS_GHOST_PAD (peer)) {
      GstProxyPad *ghost = gst_proxy_pad_get_internal (GST_PROXY_PAD (peer));

      next = ghost ? gst_pad_get_peer (GST_PAD (ghost)) : NULL;
      gst_clear_object (&ghost);
    }
    gst_object_unref (peer);
    peer = next;
  }
  if (!peer || depth > 64) {
    gst_clear_object (&peer);
    return FALSE;
  }
  element = gst_pad_get_parent_element (peer);
  gst_object_unref (peer);
  if (!element)
    return FALSE;
  if (GST_IS_BASE_SRC (element)) {
    live = gst_base_src_is_live (GST_BASE_SRC (element));
    gst_object_unref (element);
    return live;
  }
  it = gst_element_iterate_sink_pads (element);
  while (!live && gst_iterator_next (it, &item) == GST_ITERATOR_OK) {
    live = upstream_live (g_value_get_object (&item), depth + 1);
    g_value_reset (&item);
  }
  g_value_unset (&item);
  gst_iterator_free (it);
  gst_object_unref (element);
  return live;
}

/* Whether a linked reference comes from a live source. */
gboolean
gst_wanr2v_gen_references_live (GstWanR2vGen * self)
{
  gboolean live = FALSE;
  GList *pads;

  g_mutex_lock (&self->lock);
  pads = g_list_copy (self->ref_pads);
  g_list_foreach (pads, (GFunc) (void (*)(void)) gst_object_ref, NULL);
  g_mutex_unlock (&self->lock);
  for (GList * l = pads; l && !live; l = l->next)
    live = upstream_live (GST_PAD (l->data), 0);
  g_list_free_full (pads, gst_object_unref);
  return live;
}

/* The storyboard's shots, or the takes of variants: made; unless
 * references may still be linked, every one checked and @cost the whole
 * set's (see wr2v_storyboard_check()). Called with the lock held. */
static gboolean
check_storyboard (GstWanR2vGen * self, Wr2vEngine * engine,
    const Wr2vRequest * req, gdouble * cost, GError ** error)
{
  if (self->storyboard && self->variants > 1) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "The variants property (%u) and the storyboard property cannot be "
        "combined: set variants to 1 and give each take as a shot of its "
        "own in the storyboard (with a seed each), or unset storyboard to "
        "make %u takes of prompt", self->variants, self->variants);
    return FALSE;
  }
  self->shots = self->storyboard ?
      wr2v_storyboard_parse (self->storyboard, error) :
      wr2v_storyboard_variants (req, self->variants);
  if (!self->shots)
    return FALSE;
  *cost = -1.0;
  return references_pending (self, req) ||
      wr2v_storyboard_check (self->shots, req, engine, cost, error);
}

/* Everything that can be known before any data: the prompt, the pads,
 * the engine's limits, the directories. Fails the state change with an
 * error the user can act on, before anything is paid for. */
static gboolean
validate (GstWanR2vGen * self)
{
  g_autoptr (Wr2vRequest) req = NULL;
  g_autoptr (Wr2vEngine) engine = NULL;
  g_autoptr (Wr2vStore) store = NULL;
  g_autoptr (GString) mapping = g_string_new (NULL);
  GstStructure *refs;
  GError *err = NULL;
  const gchar *why;
  gdouble cost, board_cost = -1.0;

  g_mutex_lock (&self->lock);
  req = build_request (self);
  g_clear_pointer (&self->shots, g_ptr_array_unref);
  self->engine_name = pick_engine (self, &why);
  if (gst_wanr2v_check_ranges (self->duration, self->reference_duration,
          self->seed, &err))
    engine = wr2v_engine_new (self->engine_name, &self->settings, &err);
  if (engine && (self->storyboard || self->variants > 1)) {
    if (!check_storyboard (self, engine, req, &board_cost, &err))
      g_clear_pointer (&engine, wr2v_engine_free);
  } else if (engine && !references_pending (self, req) &&
      !wr2v_engine_check (engine, req, &err))
    g_clear_pointer (&engine, wr2v_engine_free);
  /* a voice file is known now: checked now, before anything is paid; the
   * pairs of voice pads once no reference pad may still come */
  if (engine && ((!references_pending (self, req) &&
              !check_voices_paired (self, req, &err)) ||
          !wr2v_voice_check_all (req, &err)))
    g_clear_pointer (&engine, wr2v_engine_free);
  /* with sometimes pads upstream, a pad requested up front may be linked
   * in "pad-added": waited for, see references_final() */
  if (!err && !self->refs_dynamic)
    check_references_linked (self, &err);
  if (!err)
    store = wr2v_store_open (self->cache_dir, &err);
  if (!err && self->result_location)
    check_writable_parent (self->result_location, &err);
  cost = !engine ? -1.0 : self->shots ? board_cost :
      wr2v_engine_estimate_cost (engine, req);
  /* Known now, so said now: a live reference would otherwise make the
   * user wait reference-duration for these errors. */
  if (!err && engine->klass->key_variable && (!engine->settings.api_key
          || !*engine->settings.api_key))
    g_set_error (&err, WR2V_ERROR, WR2V_ERROR_NO_CREDENTIALS,
        "The %s engine needs an API key: set the %s environment variable "
        "or the api-key property.", self->engine_name,
        engine->klass->key_variable);
  if (!err && self->settings.max_cost > 0 && cost > self->settings.max_cost)
    g_set_error (&err, WR2V_ERROR, WR2V_ERROR_COST,
        "This job is estimated at USD %.2f, above max-cost (USD %.2f). "
        "Raise max-cost, or lower the duration or resolution.", cost,
        self->settings.max_cost);
  self->estimated_cost = MAX (cost, 0.0);
  g_mutex_unlock (&self->lock);

  if (err) {
    post_error (self, err, NULL);
    g_error_free (err);
    return FALSE;
  }

  GST_INFO_OBJECT (self, "engine %s (%s)", self->engine_name, why);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self),
          gst_structure_new ("wanr2v/engine", "engine", G_TYPE_STRING,
              self->engine_name, "reason", G_TYPE_STRING, why, NULL)));

  /* The numbering the prompt must use, for the log and the app. */
  refs = gst_structure_new_empty ("wanr2v/references");
  for (guint i = 0; i < req->references->len; i++) {
    Wr2vReference *ref = g_ptr_array_index (req->references, i);
    g_autofree gchar *name = g_strdup_printf ("%s %u",
        wr2v_ref_kind_word (ref->kind), ref->number);
    g_autofree gchar *pad = g_strdup_printf ("%s_%u",
        ref->kind == WR2V_REF_VIDEO ? "video" : "image", ref->pad_index);

    gst_structure_set (refs, pad, G_TYPE_STRING, name, NULL);
    g_string_append_printf (mapping, "%s%s = %s", i ? ", " : "", pad, name);
  }
  GST_INFO_OBJECT (self, "prompt numbering: %s", mapping->str);
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), refs));
  if (!self->storyboard)
    post_prompt_sent (self, req);

  if (cost >= 0)
    gst_element_post_message (GST_ELEMENT (self),
        gst_message_new_element (GST_OBJECT (self),
            gst_structure_new ("wanr2v/cost", "engine", G_TYPE_STRING,
                self->engine_name, "estimated-usd", G_TYPE_DOUBLE, cost,
                "currency", G_TYPE_STRING, "USD", "source", G_TYPE_STRING,
                "table", NULL)));
  g_object_notify (G_OBJECT (self), "estimated-cost");
  return TRUE;
}

/* --- the job thread --- */

/* One job thread's run: what the job's callbacks, called on that thread,
 * share with it. */
typedef struct
{
  GstWanR2vGen *self;
  Wr2vJob job;
  Wr2vJobOutcome outcome;       /* from the job, then from the steps after */
} GenRun;

void
gst_wanr2v_gen_set_job_watch (GstWanR2vGen * self,
    GstWanR2vGenJobStarted started, GstWanR2vGenJobFinished finished,
    gpointer user_data)
{
  g_mutex_lock (&self->lock);
  self->watch_started = started;
  self->watch_finished = finished;
  self->watch_data = user_data;
  g_mutex_unlock (&self->lock);
}

void
gst_wanr2v_gen_set_request_watch (GstWanR2vGen * self,
    GstWanR2vGenRequestReady ready, gpointer user_data)
{
  g_mutex_lock (&self->lock);
  self->watch_request = ready;
  self->watch_request_data = user_data;
  g_mutex_unlock (&self->lock);
}

/* The request watch, if any, once the request is checked and whole. */
static void
tell_request_ready (GstWanR2vGen * self, const Wr2vRequest * req)
{
  GstWanR2vGenRequestReady ready;
  gpointer data;

  g_mutex_lock (&self->lock);
  ready = self->watch_request;
  data = self->watch_request_data;
  g_mutex_unlock (&self->lock);
  if (ready)
    ready (self, req, self->engine_name, data);
}

static void
post_progress (GstWanR2vGen * self, GstProgressType type, const gchar * code,
    const gchar * text)
{
  gst_wanr2v_progress_post (self->progress, type, code, text);
}

/* Seconds between progress ticks while a job runs (see
 * gstwanr2vprogress.h); WANR2V_PROGRESS_TICK overrides it, for tests. */
static guint
progress_tick_seconds (void)
{
  const gchar *env = g_getenv ("WANR2V_PROGRESS_TICK");
  guint64 s = env ? g_ascii_strtoull (env, NULL, 10) : 0;

  return s > 0 && s < 3600 ? (guint) s : PROGRESS_TICK_SECONDS;
}

static void
on_phase (gpointer user_data, Wr2vPhase phase, const gchar * text)
{
  GstWanR2vGen *self = ((GenRun *) user_data)->self;

  post_progress (self, GST_PROGRESS_TYPE_CONTINUE, wr2v_phase_name (phase),
      text);
}

/* The job's clip_ready: the clip at @path is whole and checked: serve it
 * from now on, while the job thread moves it into the store (an open file
 * follows the rename). See store_clip() in wr2v-job.c. */
static void
on_clip_ready (gpointer user_data, const gchar * path)
{
  GstWanR2vGen *self = ((GenRun *) user_data)->self;
  GStatBuf st;
  gint fd;

  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    return;                     /* opened again once the clip is stored */
  if (fstat (fd, &st) != 0) {
    close (fd);
    return;
  }
  post_progress (self, GST_PROGRESS_TYPE_CONTINUE, "decode",
      "Decoding the clip");
  g_mutex_lock (&self->lock);
  if (self->result_fd < 0 && self->state == GEN_STATE_GENERATING) {
    GST_DEBUG_OBJECT (self, "serving the checked clip while it is stored");
    self->result_fd = fd;
    self->result_size = st.st_size;
    fd = -1;
    set_state (self, GEN_STATE_SERVING);
  }
  g_mutex_unlock (&self->lock);
  if (fd >= 0)
    close (fd);
}

static void
on_message (gpointer user_data, GstStructure * facts)
{
  GstWanR2vGen *self = ((GenRun *) user_data)->self;

  /* named as such in progress too: no second payment, only a wait */
  if (gst_structure_has_name (facts, "wanr2v/resumed")) {
    g_autofree gchar *text = g_strdup_printf ("Resuming job %s that an "
        "earlier run submitted: polled, not submitted again",
        gst_structure_get_string (facts, "job-id"));

    gst_wanr2v_progress_set_resumed (self->progress);
    post_progress (self, GST_PROGRESS_TYPE_CONTINUE, "resume", text);
  }
  /* An engine's warning (e.g. ComfyUI renders 480p, not 720p) is also a
   * GStreamer warning, which gst-launch prints. */
  if (gst_structure_has_name (facts, "wanr2v/warning")) {
    const gchar *text = gst_structure_get_string (facts, "message");

    GST_ELEMENT_WARNING (self, LIBRARY, SETTINGS, ("%s", text ? text :
            "engine warning"), ("%" GST_PTR_FORMAT, facts));
  }
  /* a hosted engine's live price replaces the estimate made at PAUSED
   * (not a shot's or a take's: the estimate is the whole set's) */
  if (gst_structure_has_name (facts, "wanr2v/cost") &&
      !gst_structure_has_field (facts, "shot") &&
      !gst_structure_has_field (facts, "take")) {
    gdouble usd;

    if (gst_structure_get_double (facts, "estimated-usd", &usd)) {
      g_mutex_lock (&self->lock);
      self->estimated_cost = MAX (usd, 0.0);
      g_mutex_unlock (&self->lock);
      g_object_notify (G_OBJECT (self), "estimated-cost");
    }
  }
  gst_element_post_message (GST_ELEMENT (self),
      gst_message_new_element (GST_OBJECT (self), facts));
}

/* The job's finished: its outcome; the run's end is told from
 * job_thread_func() once result-location is written too. */
static void
on_finished (gpointer user_data, Wr2vJobOutcome outcome, const gchar * path,
    const GError * error)
{
  ((GenRun *) user_data)->outcome = outcome;
}

/* Copies the clip, as delivered, to result-location: temp file + rename,
 * so the location holds the whole clip or nothing new. */
static gboolean
save_result (const gchar * path, const gchar * location, GError ** error)
{
  g_autofree gchar *tmp = g_strdup_printf ("%s.part", location);
  g_autoptr (GFile) from = g_file_new_for_path (path);
  g_autoptr (GFile) to = g_file_new_for_path (tmp);
  GError *err = NULL;

  /* the user's file gets the user's usual permissions, not the store's
   * private ones */
  if (!g_file_copy (from, to, G_FILE_COPY_OVERWRITE |
          G_FILE_COPY_TARGET_DEFAULT_PERMS, NULL, NULL, NULL, &err)
      || g_rename (tmp, location) != 0) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "Cannot save the clip to result-location %s: %s. The clip is kept "
        "in the result store at %s.", location,
        err ? err->message : g_strerror (errno), path);
    g_clear_error (&err);
    g_unlink (tmp);
    return FALSE;
  }
  return TRUE;
}

/* After a stored clip: result-location written, and the stored clip
 * opened unless clip_ready already serves it. */
static gboolean
keep_clip (GstWanR2vGen * self, const gchar * path, const gchar * location,
    gboolean * serving, gint * fd, GError ** error)
{
  if (location && !save_result (path, location, error))
    return FALSE;
  g_mutex_lock (&self->lock);
  *serving = self->result_fd >= 0;
  g_mutex_unlock (&self->lock);
  if (*serving)
    return TRUE;
  *fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (*fd < 0) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "Cannot open the stored clip %s: %s", path, g_strerror (errno));
    return FALSE;
  }
  return TRUE;
}

/* The job thread's last word on the run. A flush (RESTARTING, JOINING),
 * a stop or an EOS (CANCELLED) has already decided what comes next; else
 * the clip is served (from @fd when it was not served yet), or the error
 * posted ends the run. */
static void
finish_job (GstWanR2vGen * self, Wr2vJobOutcome outcome, gint fd)
{
  GStatBuf st;

  g_mutex_lock (&self->lock);
  if (self->state == GEN_STATE_GENERATING || self->state == GEN_STATE_SERVING) {
    if (outcome == WR2V_JOB_CANCELLED) {
      set_state (self, GEN_STATE_CANCELLED);
    } else if (outcome == WR2V_JOB_FAILED) {
      set_state (self, GEN_STATE_FAILED);
    } else {
      if (fd >= 0) {
        self->result_fd = fd;
        self->result_size = fstat (fd, &st) == 0 ? (guint64) st.st_size : 0;
        fd = -1;
      }
      set_state (self, GEN_STATE_DONE);
    }
  }
  g_mutex_unlock (&self->lock);
  if (fd >= 0)
    close (fd);
}

/* Tells the run's end: the outcome's messages, the wanr2v bin's watch,
 * then create(). */
static void
tell_run_end (GstWanR2vGen * self, GenRun * run, const gchar * path,
    gboolean serving, gint fd, const GError * err)
{
  GstWanR2vGenJobFinished watch;
  gpointer watch_data;

  gst_wanr2v_progress_stop (self->progress);
  switch (run->outcome) {
    case WR2V_JOB_CANCELLED:
      /* a stop mid-submit may end in "maybe submitted": still a stop */
      GST_INFO_OBJECT (self, "job cancelled: %s", err->message);
      post_progress (self, GST_PROGRESS_TYPE_CANCELED, "generate",
          "Generation stopped");
      break;
    case WR2V_JOB_FAILED:
      GST_WARNING_OBJECT (self, "job failed: %s", err->message);
      post_error (self, err, run->job.error_details);
      post_progress (self, GST_PROGRESS_TYPE_ERROR, "generate", err->message);
      break;
    case WR2V_JOB_STORED:{
      GST_INFO_OBJECT (self, "clip ready: %s", path);
      if (!serving)
        post_progress (self, GST_PROGRESS_TYPE_CONTINUE, "decode",
            "Decoding the clip");
      post_progress (self, GST_PROGRESS_TYPE_COMPLETE, "generate",
          run->job.from_cache ? "Clip served from the result store" :
          "Clip ready");
      break;
    }
  }

  g_mutex_lock (&self->lock);
  watch = self->watch_finished;
  watch_data = self->watch_data;
  g_mutex_unlock (&self->lock);
  if (watch)
    watch (self, run->outcome, watch_data);

  finish_job (self, run->outcome, fd);
}

static gpointer
job_thread_func (gpointer data)
{
  GstWanR2vGen *self = data;
  g_autoptr (Wr2vRequest) req = NULL;
  g_autoptr (Wr2vEngine) engine = NULL;
  g_autoptr (Wr2vStore) store = NULL;
  g_autofree gchar *path = NULL;
  g_autofree gchar *location = NULL;
  GenRun run = { self, };
  GError *err = NULL;
  Wr2vEngineSettings settings;
  GstWanR2vGenJobStarted watch;
  gpointer watch_data;
  gboolean serving = FALSE;
  gint fd = -1;
  g_autofree gchar *fleet_store = NULL, *fleet_period = NULL;
  g_autofree gchar *work_dir = NULL;
  gdouble fleet_budget;
  g_autoptr (GPtrArray) shots = NULL;

  g_mutex_lock (&self->lock);
  req = build_request (self);
  work_dir = g_strdup (self->work_dir);
  wr2v_engine_settings_copy (&settings, &self->settings);
  location = g_strdup (self->result_location);
  store = wr2v_store_open (self->cache_dir, &err);
  /* with references linked after PAUSED, the first look at the pairs */
  if (!err)
    check_voices_paired (self, req, &err);
  fleet_store = g_strdup (self->fleet_store);
  fleet_period = g_strdup (self->fleet_budget_period);
  fleet_budget = self->fleet_budget;
  watch = self->watch_started;
  watch_data = self->watch_data;
  shots = self->shots ? g_ptr_array_ref (self->shots) : NULL;
  g_mutex_unlock (&self->lock);
  /* the fleet store (`store` or WANR2V_STORE) behind the local one */
  if (!err)
    wr2v_store_set_fleet (store, wr2v_fleet_open (fleet_store, fleet_budget,
            fleet_period, &err));

  if (watch)
    watch (self, watch_data);
  post_progress (self, GST_PROGRESS_TYPE_START, "generate",
      "Generating the clip");
  gst_wanr2v_progress_start (self->progress, progress_tick_seconds ());

  if (!settings.max_download_bytes)
    settings.max_download_bytes = WR2V_DEFAULT_MAX_DOWNLOAD_BYTES;
  if (!err)
    engine = wr2v_engine_new (self->engine_name, &settings, &err);
  wr2v_engine_settings_clear (&settings);

  /* The encoders of raw references close their files. */
  post_progress (self, GST_PROGRESS_TYPE_CONTINUE, "prepare",
      "Preparing references");
  for (guint i = 0; !err && i < req->references->len; i++) {
    Wr2vReference *ref = g_ptr_array_index (req->references, i);
    GstWanR2vRefPad *pad, *voice;

    g_mutex_lock (&self->lock);
    pad = pad_for_reference (self, ref);
    voice = voice_pad_named (self, ref->voice_pad);
    g_mutex_unlock (&self->lock);
    if (pad)
      wr2v_ref_writer_finish (pad->writer, ref, self->cancellable, &err);
    if (voice && !err)
      wr2v_ref_writer_finish_voice (voice->writer, ref, self->cancellable,
          &err);
  }
  /* a storyboard's shots are checked and canonicalized one by one */
  if (!err && !shots && !wr2v_engine_check (engine, req, &err))
    g_assert (err);
  if (!err)
    wr2v_voice_prepare_all (req, work_dir, self->cancellable, &err);
  if (!err && !shots)
    wr2v_prompt_canonicalize (req);     /* engines read the continuing form */
  if (!err)
    tell_request_ready (self, req);

  wr2v_job_init (&run.job, req, engine, store, self->cancellable);
  run.job.observer.phase = on_phase;
  run.job.observer.message = on_message;
  run.job.observer.clip_ready = on_clip_ready;
  run.job.observer.finished = on_finished;
  run.job.observer.user_data = &run;
  if (!err)
    path = shots ? wr2v_storyboard_run (&run.job, shots, work_dir, &err) :
        wr2v_job_run (&run.job, &err);
  else
    run.outcome = wr2v_job_outcome (self->cancellable, err);
  if (run.outcome == WR2V_JOB_STORED &&
      !keep_clip (self, path, location, &serving, &fd, &err))
    run.outcome = wr2v_job_outcome (self->cancellable, err);
  tell_run_end (self, &run, path, serving, fd, err);
  wr2v_job_clear (&run.job);
  g_clear_error (&err);
  return NULL;
}

/* Whether the references are final, so that the job may start: every
 * requested pad is complete (EOS, reference-duration, an image's frame,
 * or a uri and no link). While the references are open (see
 * references_open()), they must also be enough for the prompt: at least
 * one, and every "Video N" / "Image N" it names; a pad requested but not
 * linked yet is waited for. Once closed, a pad that is neither linked nor
 * given a uri fails the run rather than wait forever: its name is added
 * to @unlinked. Called with the lock held. */
static gboolean
references_final (GstWanR2vGen * self, gboolean open, GString * unlinked,
    guint * n_unlinked)
{
  g_autoptr (Wr2vRequest) req = NULL;

  for (GList * l = self->ref_pads; l; l = l->next) {
    GstWanR2vRefPad *pad = l->data;

    if (pad->complete)
      continue;
    if (ref_pad_has_upstream (GST_PAD (pad)))
      return FALSE;             /* still collecting */
    if (ref_pad_has_uri (pad)) {
      GST_DEBUG_OBJECT (pad, "not linked, uri only: complete");
      pad->complete = TRUE;
      continue;
    }
    if (open)
      return FALSE;             /* linked in a moment, as in pad-added */
    g_string_append_printf (unlinked, "%s%s", (*n_unlinked)++ ? ", " : "",
        GST_OBJECT_NAME (pad));
  }
  if (!open)
    return TRUE;
  req = build_request (self);
  return req->references->len > 0 &&
      wr2v_prompt_check_mentions (self->prompt, req, NULL);
}

static gboolean
references_open (GstWanR2vGen * self)
{
  return self->refs_dynamic && g_get_monotonic_time () < self->settle_deadline;
}

/* Starts the job once the references are final (references_final()).
 * Called with the lock held; returns the error of pads that will never
 * complete, for the caller to post once the lock is released (see
 * post_start_error()). */
static GError *
maybe_start_job (GstWanR2vGen * self)
{
  g_autoptr (GString) unlinked = g_string_new (NULL);
  gboolean open = references_open (self);
  GError *err = NULL;
  guint n = 0;

  if (self->state != GEN_STATE_COLLECTING)
    return NULL;
  /* none yet: wait, unless they may come no more (the job then fails
   * with "No reference is linked"; validate() said so at once when no
   * pad could be linked later) */
  if (!self->ref_pads && (open || !self->refs_dynamic))
    return NULL;
  if (!references_final (self, open, unlinked, &n))
    return NULL;
  if (n) {
    set_unlinked_error (&err, unlinked->str, n);
    return err;
  }
  GST_INFO_OBJECT (self, "all references complete, starting the job");
  self->settle_deadline = 0;
  set_state (self, GEN_STATE_GENERATING);
  self->job_thread = g_thread_new ("wanr2v-job", job_thread_func, self);
  return NULL;
}

/* Posts the error maybe_start_job() returned, then ends the run: create()
 * fails after the element's error, not before it with basesrc's
 * "Internal data stream error". */
static void
post_start_error (GstWanR2vGen * self, GError * err)
{
  if (!err)
    return;
  post_error (self, err, NULL);
  g_error_free (err);
  g_mutex_lock (&self->lock);
  if (self->state == GEN_STATE_COLLECTING)
    set_state (self, GEN_STATE_FAILED);
  g_mutex_unlock (&self->lock);
}

/* The references stay open for a settle time (see references_open())
 * when a pad may still be requested and linked; when that ends, they are
 * taken as they are, and a job with missing ones fails with the usual
 * error. Runs on the system clock's thread. */
static gboolean
on_settle_timeout (GstClock * clock, GstClockTime time, GstClockID id,
    gpointer user_data)
{
  GstWanR2vGen *self = user_data;
  GError *err;

  g_mutex_lock (&self->lock);
  if (self->settle_id != id) {
    g_mutex_unlock (&self->lock);
    return TRUE;
  }
  GST_INFO_OBJECT (self, "settle time over: the references are final");
  self->settle_deadline = 0;
  err = maybe_start_job (self);
  g_mutex_unlock (&self->lock);
  post_start_error (self, err);
  return TRUE;
}

/* --- reference pads --- */

static void
complete_pad (GstWanR2vGen * self, GstWanR2vRefPad * pad)
{
  GError *err = NULL;

  g_mutex_lock (&self->lock);
  if (!pad->complete) {
    pad->complete = TRUE;
    if (pad->writer)
      wr2v_ref_writer_end (pad->writer);
    GST_DEBUG_OBJECT (pad, "reference complete");
    err = maybe_start_job (self);
  }
  g_mutex_unlock (&self->lock);
  post_start_error (self, err);
}

/* The pad's writer, made on first use; @made tells that it is new. */
static Wr2vRefWriter *
ensure_writer (GstWanR2vGen * self, GstWanR2vRefPad * pad, gboolean * made)
{
  if (made)
    *made = FALSE;
  g_mutex_lock (&self->lock);
  if (!pad->writer && self->work_dir) {
    gint w, h;
    GstClockTime max = self->reference_duration * GST_SECOND;

    wr2v_output_size (self->resolution, self->aspect_ratio, &w, &h);
    g_free (pad->file);
    pad->file = g_strdup_printf ("%s/%s", self->work_dir,
        GST_OBJECT_NAME (pad));
    /* a voice: up to reference-duration of a live source, 10 s at most */
    pad->writer = pad->voice ? wr2v_ref_writer_new_voice (pad->file,
        MIN (max, WR2V_VOICE_MAX_S * GST_SECOND)) :
        wr2v_ref_writer_new (pad->kind, pad->file, max, w, h);
    wr2v_ref_writer_set_pad (pad->writer, GST_PAD (pad));
    if (made)
      *made = TRUE;
  }
  g_mutex_unlock (&self->lock);
  return pad->writer;
}

/* The state of a run with no job yet, after a reference flush cancelled
 * one. Called with the lock held, once the job thread is joined. */
static void
reset_job (GstWanR2vGen * self)
{
  if (self->result_fd >= 0)
    close (self->result_fd);
  self->result_fd = -1;
  self->result_size = 0;
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  set_state (self, GEN_STATE_COLLECTING);
}

/* FLUSH_STOP on @pad: its reference starts over. When the flush cancelled
 * the job, the job thread is joined first (it was cancelled at
 * FLUSH_START, so this is short: every wait in a job is cancellable),
 * without the lock, so that create() and the other pads go on; a second
 * pad flushed meanwhile waits for that join. Then the run goes back to
 * collecting: new data and EOS on @pad start a new job with the other
 * pads' references as they are. Runs on @pad's streaming thread, which
 * PAUSED->READY waits for (pad deactivation) before end_run(). */
static void
restart_reference (GstWanR2vGen * self, GstWanR2vRefPad * pad)
{
  g_mutex_lock (&self->lock);
  while (self->state == GEN_STATE_JOINING)
    g_cond_wait (&self->cond, &self->lock);
  if (self->state == GEN_STATE_RESTARTING) {
    GThread *thread = g_steal_pointer (&self->job_thread);

    set_state (self, GEN_STATE_JOINING);
    if (thread) {
      g_mutex_unlock (&self->lock);
      g_thread_join (thread);
      g_mutex_lock (&self->lock);
    }
    /* a stop meanwhile (CANCELLED) wins */
    if (self->state == GEN_STATE_JOINING) {
      GST_INFO_OBJECT (pad, "flush done: collecting the references again");
      reset_job (self);
    }
  }
  if (self->state == GEN_STATE_COLLECTING) {
    g_clear_pointer (&pad->writer, wr2v_ref_writer_free);
    pad->complete = FALSE;
  }
  g_mutex_unlock (&self->lock);
}

static void
post_stream_error (GstWanR2vGen * self, GstWanR2vRefPad * pad, GError * err)
{
  GST_ELEMENT_ERROR (self, STREAM, WRONG_TYPE, ("%s", err->message),
      ("pad %s", GST_OBJECT_NAME (pad)));
  g_error_free (err);
}

static gboolean
pad_wants_data (GstWanR2vGen * self, GstWanR2vRefPad * pad)
{
  gboolean wants;

  g_mutex_lock (&self->lock);
  wants = !pad->complete && (self->state == GEN_STATE_COLLECTING ||
      self->state == GEN_STATE_IDLE);
  g_mutex_unlock (&self->lock);
  return wants;
}

static GstFlowReturn
gst_wanr2v_gen_ref_chain (GstPad * gpad, GstObject * parent, GstBuffer * buf)
{
  GstWanR2vGen *self = GST_WANR2V_GEN (parent);
  GstWanR2vRefPad *pad = GST_WANR2V_REF_PAD (gpad);
  Wr2vRefWriter *writer;
  GError *err = NULL;
  GstFlowReturn ret;
  gboolean made;

  /* A reference that has what it needs keeps taking data and drops it,
   * as fakesink would: EOS or an error upstream would stop a source
   * shared through a tee for every branch. Data that no job will use
   * (the job started without this pad, or ended) is dropped the same
   * way. */
  if (!pad_wants_data (self, pad)) {
    gst_buffer_unref (buf);
    return GST_FLOW_OK;
  }
  writer = ensure_writer (self, pad, &made);
  if (!writer) {
    gst_buffer_unref (buf);
    return GST_FLOW_FLUSHING;
  }
  if (made) {
    /* a fresh writer after a flush: the caps came before it */
    GstCaps *caps = gst_pad_get_current_caps (gpad);

    if (caps && !wr2v_ref_writer_set_caps (writer, caps, &err)) {
      gst_caps_unref (caps);
      gst_buffer_unref (buf);
      post_stream_error (self, pad, err);
      return GST_FLOW_NOT_NEGOTIATED;
    }
    gst_clear_caps (&caps);
  }
  ret = wr2v_ref_writer_push (writer, buf, &err);
  gst_buffer_unref (buf);
  if (err) {
    post_stream_error (self, pad, err);
    return ret == GST_FLOW_OK ? GST_FLOW_ERROR : ret;
  }
  if (ret == GST_FLOW_EOS) {
    complete_pad (self, pad);
    ret = GST_FLOW_OK;
  }
  return ret;
}

static gboolean
gst_wanr2v_gen_ref_event (GstPad * gpad, GstObject * parent, GstEvent * event)
{
  GstWanR2vGen *self = GST_WANR2V_GEN (parent);
  GstWanR2vRefPad *pad = GST_WANR2V_REF_PAD (gpad);
  gboolean ret = TRUE;

  switch (GST_EVENT_TYPE (event)) {
    case GST_EVENT_CAPS:{
      GstCaps *caps;
      Wr2vRefWriter *writer = ensure_writer (self, pad, NULL);
      GError *err = NULL;

      gst_event_parse_caps (event, &caps);
      if (writer && !wr2v_ref_writer_set_caps (writer, caps, &err)) {
        post_stream_error (self, pad, err);
        ret = FALSE;
      }
      break;
    }
    case GST_EVENT_EOS:
      complete_pad (self, pad);
      break;
    case GST_EVENT_FLUSH_START:
      /* New data will follow: this reference starts over, and a job
       * built from the old data no longer matches the input. A clip
       * already being served is kept: the flush then changes nothing. */
      g_mutex_lock (&self->lock);
      if (pad->writer)
        wr2v_ref_writer_abort (pad->writer);
      if (self->state == GEN_STATE_GENERATING) {
        GST_INFO_OBJECT (pad, "flushed: cancelling the job, a new one "
            "starts once the reference is complete again");
        set_state (self, GEN_STATE_RESTARTING);
        g_cancellable_cancel (self->cancellable);
      }
      g_mutex_unlock (&self->lock);
      break;
    case GST_EVENT_FLUSH_STOP:
      restart_reference (self, pad);
      break;
    default:
      /* References end here: nothing is forwarded downstream. */
      break;
  }
  gst_event_unref (event);
  return ret;
}

static gboolean
gst_wanr2v_gen_ref_query (GstPad * pad, GstObject * parent, GstQuery * query)
{
  switch (GST_QUERY_TYPE (query)) {
    case GST_QUERY_CAPS:
    case GST_QUERY_ACCEPT_CAPS:
      return gst_pad_query_default (pad, parent, query);
    case GST_QUERY_ALLOCATION:
      /* any allocator will do: buffers are encoded or written, not kept */
      return TRUE;
    default:
      /* never forward to the src pad: references are not the output */
      return FALSE;
  }
}

static GstPad *add_ref_pad (GstWanR2vGen * self, GstWanR2vRefPad * pad);

/* voice_N: a reference's voice from a stream. It waits and completes like
 * a reference pad; see voice_partner() for the reference it speaks for. */
static GstPad *
request_voice_pad (GstWanR2vGen * self, GstPadTemplate * templ,
    const gchar * name)
{
  g_autofree gchar *pad_name = NULL;
  GstWanR2vRefPad *pad;
  guint index = 0;
  gboolean named = name && sscanf (name, "voice_%u", &index) == 1;

  g_mutex_lock (&self->lock);
  for (GList * l = self->ref_pads; l; l = l->next) {
    GstWanR2vRefPad *p = l->data;

    if (p->voice && named && p->index == index) {
      g_mutex_unlock (&self->lock);
      GST_WARNING_OBJECT (self, "pad %s already exists", name);
      return NULL;
    }
    if (p->voice && !named)
      index = MAX (index, p->index + 1);
  }
  g_mutex_unlock (&self->lock);
  pad_name = g_strdup_printf ("voice_%u", index);
  pad = g_object_new (GST_TYPE_WANR2V_REF_PAD, "name", pad_name,
      "direction", GST_PAD_SINK, "template", templ, NULL);
  pad->voice = TRUE;
  pad->index = index;
  return add_ref_pad (self, pad);
}

static GstPad *
gst_wanr2v_gen_request_new_pad (GstElement * element, GstPadTemplate * templ,
    const gchar * name, const GstCaps * caps)
{
  GstWanR2vGen *self = GST_WANR2V_GEN (element);
  gboolean video = g_str_equal (templ->name_template, "video_%u");
  gboolean voice = g_str_equal (templ->name_template, "voice_%u");
  GstWanR2vRefPad *pad;
  g_autofree gchar *pad_name = NULL;
  guint index;
  gint total;

  if (voice)
    return request_voice_pad (self, templ, name);
  g_mutex_lock (&self->lock);
  if (name && sscanf (name, video ? "video_%u" : "image_%u", &index) == 1) {
    for (GList * l = self->ref_pads; l; l = l->next) {
      GstWanR2vRefPad *p = l->data;
      if (!p->voice && p->index == index && (p->kind == WR2V_REF_VIDEO) ==
          video) {
        g_mutex_unlock (&self->lock);
        GST_WARNING_OBJECT (self, "pad %s already exists", name);
        return NULL;
      }
    }
  } else {
    index = video ? self->next_video : self->next_image;
  }
  if (video)
    self->next_video = MAX (self->next_video, index + 1);
  else
    self->next_image = MAX (self->next_image, index + 1);
  total = g_list_length (self->ref_pads) + 1;
  g_mutex_unlock (&self->lock);

  /* A 6th reference is accepted here and refused when the pipeline
   * starts, with an error that states the limit: refusing the pad would
   * only show gst-launch's generic "could not link". */
  if (total > WR2V_MAX_REFERENCES)
    GST_WARNING_OBJECT (self, "%d references linked, at most %d allowed",
        total, WR2V_MAX_REFERENCES);

  pad_name = g_strdup_printf (video ? "video_%u" : "image_%u", index);
  pad = g_object_new (GST_TYPE_WANR2V_REF_PAD, "name", pad_name,
      "direction", GST_PAD_SINK, "template", templ, NULL);
  pad->kind = video ? WR2V_REF_VIDEO : WR2V_REF_IMAGE;
  pad->index = index;
  return add_ref_pad (self, pad);
}

/* Adds @pad (a new reference or voice pad) to the element, with the
 * functions of every reference pad. */
static GstPad *
add_ref_pad (GstWanR2vGen * self, GstWanR2vRefPad * pad)
{
  GstElement *element = GST_ELEMENT (self);

  gst_pad_set_chain_function (GST_PAD (pad),
      GST_DEBUG_FUNCPTR (gst_wanr2v_gen_ref_chain));
  gst_pad_set_event_function (GST_PAD (pad),
      GST_DEBUG_FUNCPTR (gst_wanr2v_gen_ref_event));
  gst_pad_set_query_function (GST_PAD (pad),
      GST_DEBUG_FUNCPTR (gst_wanr2v_gen_ref_query));

  g_mutex_lock (&self->lock);
  self->ref_pads = g_list_append (self->ref_pads, gst_object_ref (pad));
  g_mutex_unlock (&self->lock);

  if (GST_STATE (element) > GST_STATE_READY)
    gst_pad_set_active (GST_PAD (pad), TRUE);
  gst_element_add_pad (element, GST_PAD (pad));
  gst_child_proxy_child_added (GST_CHILD_PROXY (element), G_OBJECT (pad),
      GST_OBJECT_NAME (pad));
  return GST_PAD (pad);
}

static void
gst_wanr2v_gen_release_pad (GstElement * element, GstPad * pad)
{
  GstWanR2vGen *self = GST_WANR2V_GEN (element);
  GList *link;

  g_mutex_lock (&self->lock);
  link = g_list_find (self->ref_pads, pad);
  if (link) {
    self->ref_pads = g_list_delete_link (self->ref_pads, link);
    gst_object_unref (pad);
  }
  g_mutex_unlock (&self->lock);

  gst_child_proxy_child_removed (GST_CHILD_PROXY (element), G_OBJECT (pad),
      GST_OBJECT_NAME (pad));
  gst_pad_set_active (pad, FALSE);
  gst_element_remove_pad (element, pad);
}

/* --- GstChildProxy, for per-pad properties (video_0::uri=...) --- */

static GObject *
gst_wanr2v_gen_child_proxy_get_child_by_index (GstChildProxy * proxy,
    guint index)
{
  GstWanR2vGen *self = GST_WANR2V_GEN (proxy);
  GObject *obj;

  g_mutex_lock (&self->lock);
  obj = g_list_nth_data (self->ref_pads, index);
  if (obj)
    g_object_ref (obj);
  g_mutex_unlock (&self->lock);
  return obj;
}

static guint
gst_wanr2v_gen_child_proxy_get_children_count (GstChildProxy * proxy)
{
  GstWanR2vGen *self = GST_WANR2V_GEN (proxy);
  guint n;

  g_mutex_lock (&self->lock);
  n = g_list_length (self->ref_pads);
  g_mutex_unlock (&self->lock);
  return n;
}

static void
gst_wanr2v_gen_child_proxy_init (gpointer g_iface, gpointer iface_data)
{
  GstChildProxyInterface *iface = g_iface;

  iface->get_child_by_index = gst_wanr2v_gen_child_proxy_get_child_by_index;
  iface->get_children_count = gst_wanr2v_gen_child_proxy_get_children_count;
}

/* --- the output: the stored clip's bytes --- */

static GstFlowReturn
gst_wanr2v_gen_create (GstBaseSrc * src, guint64 offset, guint size,
    GstBuffer ** out)
{
  GstWanR2vGen *self = GST_WANR2V_GEN (src);
  GstBuffer *buf;
  GstMapInfo map;
  gssize n;
  gint fd;

  /* Block until the clip is stored; unlock() or a stop wakes us. */
  g_mutex_lock (&self->lock);
  /* IDLE too: in pull mode, the demuxer's typefind pulls once the src pad
   * is activated, before this element's READY->PAUSED starts the run */
  while (!state_is_settled (self->state) && !self->flushing)
    g_cond_wait (&self->cond, &self->lock);
  if (self->flushing || self->state == GEN_STATE_CANCELLED) {
    /* a stop, a flush or EOS: no error, nothing to serve */
    g_mutex_unlock (&self->lock);
    return GST_FLOW_FLUSHING;
  }
  if (self->state == GEN_STATE_FAILED) {
    g_mutex_unlock (&self->lock);
    /* the job thread posted the error already */
    return GST_FLOW_ERROR;
  }
  fd = self->result_fd;
  if (offset >= self->result_size) {
    g_mutex_unlock (&self->lock);
    return GST_FLOW_EOS;
  }
  size = MIN (size, self->result_size - offset);
  g_mutex_unlock (&self->lock);

  buf = gst_buffer_new_allocate (NULL, size, NULL);
  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  n = pread (fd, map.data, size, offset);
  gst_buffer_unmap (buf, &map);
  if (n <= 0) {
    gst_buffer_unref (buf);
    GST_ELEMENT_ERROR (self, RESOURCE, READ, ("Cannot read the stored clip"),
        ("pread: %s", n < 0 ? g_strerror (errno) : "unexpected end"));
    return GST_FLOW_ERROR;
  }
  gst_buffer_resize (buf, 0, n);
  GST_BUFFER_OFFSET (buf) = offset;
  GST_BUFFER_OFFSET_END (buf) = offset + n;
  *out = buf;
  return GST_FLOW_OK;
}

/* In push mode: the clip may be served while the job thread still
 * stores it (see serve_clip()); EOS comes after the wanr2v/result message
 * and result-location, as when the clip was served only once stored. A
 * stop or a flush (unlock()) ends the wait. In pull mode the demuxer
 * sends EOS; the wanr2v bin holds it the same way. */
static GstPadProbeReturn
hold_eos (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstWanR2vGen *self = user_data;

  if (GST_EVENT_TYPE (GST_PAD_PROBE_INFO_EVENT (info)) != GST_EVENT_EOS)
    return GST_PAD_PROBE_OK;
  g_mutex_lock (&self->lock);
  while (self->state == GEN_STATE_SERVING && !self->flushing)
    g_cond_wait (&self->cond, &self->lock);
  g_mutex_unlock (&self->lock);
  return GST_PAD_PROBE_OK;
}

/* The clip's stream id: the same for the same element in the same
 * pipeline on every run (as a file source's, from its URI), and unique in
 * the pipeline. */
static gchar *
clip_stream_id_new (GstWanR2vGen * self)
{
  g_autofree gchar *path = gst_object_get_path_string (GST_OBJECT (self));

  return g_compute_checksum_for_string (G_CHECKSUM_SHA256, path, -1);
}

/* The src pad's activation in push mode. basesrc's loop would push a
 * stream-start whose id it asks of gst_pad_create_stream_id (pad, element,
 * NULL), which refuses an element with more than one sink pad (a critical,
 * then no stream-start at all), as this one is with two references. So
 * the element pushes its own, as basesrc would (a new group id), and has
 * basesrc drop the one it has pending: basesrc's activatemode function
 * does that first for any mode and nothing else for GST_PAD_MODE_NONE
 * (GStreamer 1.22 to 1.29). The stream lock keeps basesrc's task, started
 * by the activation, from its first iteration until then. */
static gboolean
gst_wanr2v_gen_activate_mode (GstPad * pad, GstObject * parent,
    GstPadMode mode, gboolean active)
{
  GstWanR2vGen *self = GST_WANR2V_GEN (parent);
  g_autofree gchar *stream_id = NULL;
  GstEvent *event;
  gboolean res;

  if (mode != GST_PAD_MODE_PUSH || !active)
    return self->basesrc_activate_mode (pad, parent, mode, active);

  GST_PAD_STREAM_LOCK (pad);
  res = self->basesrc_activate_mode (pad, parent, mode, active);
  if (res) {
    self->basesrc_activate_mode (pad, parent, GST_PAD_MODE_NONE, FALSE);
    stream_id = clip_stream_id_new (self);
    GST_DEBUG_OBJECT (self, "pushing stream-start %s", stream_id);
    event = gst_event_new_stream_start (stream_id);
    gst_event_set_group_id (event, gst_util_group_id_next ());
    gst_pad_push_event (pad, event);
  }
  GST_PAD_STREAM_UNLOCK (pad);
  return res;
}

/* Whether the clip's size is known. Called with the lock held. */
static gboolean
clip_known (GstWanR2vGen * self)
{
  return self->state == GEN_STATE_SERVING || self->state == GEN_STATE_DONE;
}

void
gst_wanr2v_gen_end_output (GstWanR2vGen * self)
{
  g_mutex_lock (&self->lock);
  if (state_before_clip (self->state)) {
    GST_INFO_OBJECT (self, "EOS before the clip: the job is cancelled, "
        "as on a stop");
    set_state (self, GEN_STATE_CANCELLED);
    if (self->cancellable)
      g_cancellable_cancel (self->cancellable);
  }
  g_mutex_unlock (&self->lock);
}

/* EOS sent to the element (or to the pipeline) ends the output now: see
 * gst_wanr2v_gen_end_output(). basesrc pushes it in push mode; in pull
 * mode it is pushed to the element pulling. */
static gboolean
gst_wanr2v_gen_send_event (GstElement * element, GstEvent * event)
{
  GstWanR2vGen *self = GST_WANR2V_GEN (element);
  GstPad *srcpad = GST_BASE_SRC_PAD (self);
  gboolean pull;

  if (GST_EVENT_TYPE (event) != GST_EVENT_EOS)
    return GST_ELEMENT_CLASS (parent_class)->send_event (element, event);
  gst_wanr2v_gen_end_output (self);
  GST_OBJECT_LOCK (srcpad);
  pull = GST_PAD_MODE (srcpad) == GST_PAD_MODE_PULL;
  GST_OBJECT_UNLOCK (srcpad);
  if (pull) {
    /* nobody else will: the element pulling waits for data */
    gst_pad_push_event (srcpad, event);
    return TRUE;
  }
  return GST_ELEMENT_CLASS (parent_class)->send_event (element, event);
}

static gboolean
gst_wanr2v_gen_get_size (GstBaseSrc * src, guint64 * size)
{
  GstWanR2vGen *self = GST_WANR2V_GEN (src);
  gboolean known;

  g_mutex_lock (&self->lock);
  known = clip_known (self);
  *size = self->result_size;
  g_mutex_unlock (&self->lock);
  return known;
}

static gboolean
gst_wanr2v_gen_query (GstBaseSrc * src, GstQuery * query)
{
  GstWanR2vGen *self = GST_WANR2V_GEN (src);

  if (GST_QUERY_TYPE (query) == GST_QUERY_DURATION) {
    GstFormat format;
    gboolean known;
    guint64 size;

    /* Only the byte length is ours to tell (-1 until the clip is stored,
     * as typefind expects an answer); declining other formats lets
     * qtdemux answer in time. */
    gst_query_parse_duration (query, &format, NULL);
    if (format != GST_FORMAT_BYTES)
      return FALSE;
    g_mutex_lock (&self->lock);
    known = clip_known (self);
    size = self->result_size;
    g_mutex_unlock (&self->lock);
    gst_query_set_duration (query, GST_FORMAT_BYTES, known ? (gint64) size :
        -1);
    return TRUE;
  }
  if (GST_QUERY_TYPE (query) == GST_QUERY_LATENCY) {
    /* a stored file: no latency of its own, and it can be read as early
     * as anyone wants (basesrc would say max = min, leaving a live sink
     * no room for its processing deadline) */
    gst_query_set_latency (query, gst_base_src_is_live (src), 0,
        GST_CLOCK_TIME_NONE);
    return TRUE;
  }
  return GST_BASE_SRC_CLASS (parent_class)->query (src, query);
}

static gboolean
gst_wanr2v_gen_is_seekable (GstBaseSrc * src)
{
  /* a file in the store: random access once it exists */
  return TRUE;
}

static gboolean
gst_wanr2v_gen_unlock (GstBaseSrc * src)
{
  GstWanR2vGen *self = GST_WANR2V_GEN (src);

  g_mutex_lock (&self->lock);
  self->flushing = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
  return TRUE;
}

static gboolean
gst_wanr2v_gen_unlock_stop (GstBaseSrc * src)
{
  GstWanR2vGen *self = GST_WANR2V_GEN (src);

  g_mutex_lock (&self->lock);
  self->flushing = FALSE;
  g_mutex_unlock (&self->lock);
  return TRUE;
}

/* --- state --- */

/* Called with the lock held. */
static void
start_settle_time (GstWanR2vGen * self)
{
  GstClock *clock = gst_system_clock_obtain ();

  self->settle_deadline = g_get_monotonic_time () +
      REFERENCE_SETTLE_SECONDS * G_USEC_PER_SEC;
  self->settle_id = gst_clock_new_single_shot_id (clock,
      gst_clock_get_time (clock) + REFERENCE_SETTLE_SECONDS * GST_SECOND);
  gst_clock_id_wait_async (self->settle_id, on_settle_timeout,
      gst_object_ref (self), gst_object_unref);
  gst_object_unref (clock);
}

static gboolean
start_run (GstWanR2vGen * self)
{
  GError *err = NULL;
  gchar *dir = wr2v_work_dir_new (&err);

  if (!dir) {
    post_error (self, err, NULL);
    g_error_free (err);
    return FALSE;
  }
  g_mutex_lock (&self->lock);
  self->work_dir = dir;
  self->cancellable = g_cancellable_new ();
  self->flushing = FALSE;
  self->result_fd = -1;
  self->result_size = 0;
  for (GList * l = self->ref_pads; l; l = l->next) {
    GstWanR2vRefPad *pad = l->data;
    pad->complete = FALSE;
    g_clear_pointer (&pad->writer, wr2v_ref_writer_free);
  }
  set_state (self, GEN_STATE_COLLECTING);
  if (self->refs_dynamic)
    start_settle_time (self);
  /* uri-only references are complete now: with only those, the job
   * starts here */
  err = maybe_start_job (self);
  g_mutex_unlock (&self->lock);
  post_start_error (self, err);
  return TRUE;
}

/* Wakes every thread that could be waiting: the job (network, encoder,
 * renderer), the reference pads (blocked in an encoder), create(). */
static void
interrupt_run (GstWanR2vGen * self)
{
  g_mutex_lock (&self->lock);
  set_state (self, GEN_STATE_CANCELLED);
  if (self->cancellable)
    g_cancellable_cancel (self->cancellable);
  for (GList * l = self->ref_pads; l; l = l->next) {
    GstWanR2vRefPad *pad = l->data;
    if (pad->writer)
      wr2v_ref_writer_abort (pad->writer);
  }
  self->flushing = TRUE;
  g_cond_broadcast (&self->cond);
  g_mutex_unlock (&self->lock);
}

static void
end_run (GstWanR2vGen * self)
{
  GThread *thread;
  GstClockID settle;

  gst_wanr2v_progress_stop (self->progress);
  g_mutex_lock (&self->lock);
  thread = g_steal_pointer (&self->job_thread);
  settle = g_steal_pointer (&self->settle_id);
  self->settle_deadline = 0;
  g_mutex_unlock (&self->lock);
  if (settle) {
    gst_clock_id_unschedule (settle);
    gst_clock_id_unref (settle);
  }
  if (thread)
    g_thread_join (thread);

  g_mutex_lock (&self->lock);
  for (GList * l = self->ref_pads; l; l = l->next) {
    GstWanR2vRefPad *pad = l->data;
    g_clear_pointer (&pad->writer, wr2v_ref_writer_free);
    pad->complete = FALSE;
  }
  if (self->work_dir)
    wr2v_work_dir_remove (self->work_dir);
  g_clear_pointer (&self->work_dir, g_free);
  g_clear_object (&self->cancellable);
  if (self->result_fd >= 0)
    close (self->result_fd);
  self->result_fd = -1;
  set_state (self, GEN_STATE_IDLE);
  g_mutex_unlock (&self->lock);
}

static GstStateChangeReturn
gst_wanr2v_gen_change_state (GstElement * element, GstStateChange transition)
{
  GstWanR2vGen *self = GST_WANR2V_GEN (element);
  GstStateChangeReturn ret;

  switch (transition) {
    case GST_STATE_CHANGE_READY_TO_PAUSED:{
      gboolean dynamic = pipeline_may_link_later (self);
      gboolean live = self->is_live || gst_wanr2v_gen_references_live (self);

      g_mutex_lock (&self->lock);
      self->refs_dynamic = dynamic;
      g_mutex_unlock (&self->lock);
      GST_INFO_OBJECT (self, "output is %slive", live ? "" : "not ");
      gst_base_src_set_live (GST_BASE_SRC (self), live);
      if (!validate (self) || !start_run (self))
        return GST_STATE_CHANGE_FAILURE;
      break;
    }
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      /* before the pads deactivate: they wait for blocked threads */
      interrupt_run (self);
      break;
    default:
      break;
  }

  ret = GST_ELEMENT_CLASS (parent_class)->change_state (element, transition);

  switch (transition) {
    case GST_STATE_CHANGE_PAUSED_TO_READY:
      end_run (self);
      break;
    case GST_STATE_CHANGE_READY_TO_PAUSED:
      if (ret == GST_STATE_CHANGE_FAILURE) {
        interrupt_run (self);
        end_run (self);
      }
      break;
    default:
      break;
  }
  return ret;
}

static void
gst_wanr2v_gen_finalize (GObject * object)
{
  GstWanR2vGen *self = GST_WANR2V_GEN (object);

  g_list_free_full (self->ref_pads, gst_object_unref);
  g_free (self->prompt);
  g_free (self->negative_prompt);
  g_free (self->cache_dir);
  g_free (self->result_location);
  g_free (self->job_key);
  g_free (self->storyboard);
  g_clear_pointer (&self->shots, g_ptr_array_unref);
  gst_wanr2v_progress_free (self->progress);
  g_free (self->fleet_store);
  g_free (self->fleet_budget_period);
  wr2v_engine_settings_clear (&self->settings);
  g_mutex_clear (&self->lock);
  g_cond_clear (&self->cond);
  G_OBJECT_CLASS (parent_class)->finalize (object);
}

static void
gst_wanr2v_gen_class_init (GstWanR2vGenClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);
  GstElementClass *element_class = GST_ELEMENT_CLASS (klass);
  GstBaseSrcClass *basesrc_class = GST_BASE_SRC_CLASS (klass);

  GST_DEBUG_CATEGORY_INIT (gst_wanr2v_gen_debug, "wanr2vgen", 0,
      "wanr2v core element");

  gobject_class->set_property = gst_wanr2v_gen_set_property;
  gobject_class->get_property = gst_wanr2v_gen_get_property;
  gobject_class->finalize = gst_wanr2v_gen_finalize;
  gst_wanr2v_install_properties (gobject_class);

  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &video_template, GST_TYPE_WANR2V_REF_PAD);
  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &image_template, GST_TYPE_WANR2V_REF_PAD);
  gst_element_class_add_static_pad_template_with_gtype (element_class,
      &voice_template, GST_TYPE_WANR2V_REF_PAD);
  gst_element_class_add_static_pad_template (element_class, &src_template);
  gst_element_class_set_static_metadata (element_class,
      "Wan reference-to-video generator (delivered clip)",
      "Source/Video/Generator",
      "Generates a clip from reference videos, images and a prompt and "
      "outputs the MP4 as delivered by the engine", "gst-wanr2v developers");

  element_class->request_new_pad =
      GST_DEBUG_FUNCPTR (gst_wanr2v_gen_request_new_pad);
  element_class->release_pad = GST_DEBUG_FUNCPTR (gst_wanr2v_gen_release_pad);
  element_class->change_state = GST_DEBUG_FUNCPTR (gst_wanr2v_gen_change_state);
  element_class->send_event = GST_DEBUG_FUNCPTR (gst_wanr2v_gen_send_event);

  basesrc_class->create = GST_DEBUG_FUNCPTR (gst_wanr2v_gen_create);
  basesrc_class->get_size = GST_DEBUG_FUNCPTR (gst_wanr2v_gen_get_size);
  basesrc_class->is_seekable = GST_DEBUG_FUNCPTR (gst_wanr2v_gen_is_seekable);
  basesrc_class->query = GST_DEBUG_FUNCPTR (gst_wanr2v_gen_query);
  basesrc_class->unlock = GST_DEBUG_FUNCPTR (gst_wanr2v_gen_unlock);
  basesrc_class->unlock_stop = GST_DEBUG_FUNCPTR (gst_wanr2v_gen_unlock_stop);

  gst_type_mark_as_plugin_api (GST_TYPE_WANR2V_ENGINE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_WANR2V_RESOLUTION, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_WANR2V_ASPECT_RATIO, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_WANR2V_NUMBERING, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_WANR2V_SHOT_TYPE, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_WANR2V_REGION, 0);
  gst_type_mark_as_plugin_api (GST_TYPE_WANR2V_REF_PAD, 0);
}

static void
gst_wanr2v_gen_init (GstWanR2vGen * self)
{
  g_mutex_init (&self->lock);
  g_cond_init (&self->cond);
  self->progress = gst_wanr2v_progress_new (GST_ELEMENT (self));
  self->duration = DEFAULT_DURATION;
  self->resolution = WR2V_RESOLUTION_720P;
  self->aspect_ratio = WR2V_ASPECT_16_9;
  self->seed = DEFAULT_SEED;
  self->prompt_expansion = DEFAULT_PROMPT_EXPANSION;
  self->variants = DEFAULT_VARIANTS;
  self->engine = GST_WANR2V_ENGINE_AUTO;
  self->numbering = WR2V_NUMBERING_AUTO;
  self->reference_duration = DEFAULT_REFERENCE_DURATION;
  self->settings.request_timeout_s = DEFAULT_REQUEST_TIMEOUT;
  self->settings.poll_interval_ms = DEFAULT_POLL_INTERVAL;
  self->settings.max_download_bytes = WR2V_DEFAULT_MAX_DOWNLOAD_BYTES;
  self->estimated_cost = -1.0;
  self->fleet_budget_period = g_strdup ("day");
  self->result_fd = -1;
  gst_base_src_set_format (GST_BASE_SRC (self), GST_FORMAT_BYTES);
  gst_base_src_set_blocksize (GST_BASE_SRC (self), READ_BLOCKSIZE);
  gst_pad_add_probe (GST_BASE_SRC_PAD (self),
      GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, hold_eos, self, NULL);
  self->basesrc_activate_mode =
      GST_PAD_ACTIVATEMODEFUNC (GST_BASE_SRC_PAD (self));
  gst_pad_set_activatemode_function (GST_BASE_SRC_PAD (self),
      GST_DEBUG_FUNCPTR (gst_wanr2v_gen_activate_mode));
}
