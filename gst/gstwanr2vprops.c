/* gstwanr2vprops.c: property specs, with units and defaults in blurbs. */
#include "gstwanr2vprops.h"
#include "gstwanr2vtypes.h"
#include "wr2v-request.h"
#include "wr2v-error.h"

void
gst_wanr2v_install_properties (GObjectClass * klass)
{
  const GParamFlags rw = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
      GST_PARAM_MUTABLE_READY;

  g_object_class_install_property (klass, PROP_PROMPT,
      g_param_spec_string ("prompt", "Prompt",
          "What the clip shows. Name references as \"Video 1\", \"Video 2\" "
          "(video pads in ascending order), then \"Image 3\" ... (image pads "
          "continue the count), or \"Image 1\" ... (images counted on their "
          "own): see reference-numbering. Required", NULL, rw));
  g_object_class_install_property (klass, PROP_REFERENCE_NUMBERING,
      g_param_spec_enum ("reference-numbering", "Reference numbering",
          "How the prompt numbers references. continuing: videos first, "
          "images continue the count (Video 1, Video 2, Image 3); per-type: "
          "each kind from 1 (Video 1, Video 2, Image 1); auto: whichever "
          "names only linked references, continuing with a warning when "
          "both do. Each engine is sent the form its provider documents",
          GST_TYPE_WANR2V_NUMBERING, WR2V_NUMBERING_AUTO, rw));
  g_object_class_install_property (klass, PROP_SHOT_TYPE,
      g_param_spec_enum ("shot-type", "Shot type",
          "One continuous shot or several with cuts, where the engine's model "
          "takes it (dashscope; preview shows multi as cuts); other engines "
          "refuse single or multi before anything is sent. auto: the "
          "engine's default, not sent", GST_TYPE_WANR2V_SHOT_TYPE,
          WR2V_SHOT_UNSET, rw));
  g_object_class_install_property (klass, PROP_NEGATIVE_PROMPT,
      g_param_spec_string ("negative-prompt", "Negative prompt",
          "What the clip should avoid (default: none)", NULL, rw));
  g_object_class_install_property (klass, PROP_DURATION,
      g_param_spec_int ("duration", "Duration",
          "Clip length in seconds, 1 to 15, in the engine's range: "
          "wavespeed 5, 10 or 15; dashscope 2 to 15 (at most 10 with a "
          "reference video); comfyui 1 to 10; preview 1 to 15. Checked "
          "when the pipeline starts", G_MININT, G_MAXINT, DEFAULT_DURATION,
          rw));
  g_object_class_install_property (klass, PROP_RESOLUTION,
      g_param_spec_enum ("resolution", "Resolution",
          "Output resolution tier. comfyui's default workflow (Wan2.1 VACE "
          "1.3B, a 480p model) renders 480p whatever this says, with a "
          "warning", GST_TYPE_WANR2V_RESOLUTION, WR2V_RESOLUTION_720P, rw));
  g_object_class_install_property (klass, PROP_ASPECT_RATIO,
      g_param_spec_enum ("aspect-ratio", "Aspect ratio",
          "Output aspect ratio; sent to hosted engines only when set",
          GST_TYPE_WANR2V_ASPECT_RATIO, WR2V_ASPECT_16_9, rw));
  g_object_class_install_property (klass, PROP_SEED,
      g_param_spec_int64 ("seed", "Seed",
          "Random seed for a repeatable result, 0 to 2147483647 (the hosted "
          "providers' range); -1 leaves it to the engine. Checked when the "
          "pipeline starts", G_MININT64, G_MAXINT64, DEFAULT_SEED, rw));
  g_object_class_install_property (klass, PROP_PROMPT_EXPANSION,
      g_param_spec_boolean ("prompt-expansion", "Prompt expansion",
          "Let a hosted engine rewrite the prompt in more detail",
          DEFAULT_PROMPT_EXPANSION, rw));
  g_object_class_install_property (klass, PROP_ENGINE,
      g_param_spec_enum ("engine", "Engine",
          "Where the clip is generated. auto: wavespeed when "
          "WAVESPEED_API_KEY or api-key is set, else dashscope when "
          "DASHSCOPE_API_KEY is set, else fal (FAL_KEY), else replicate "
          "(REPLICATE_API_TOKEN), else preview",
          GST_TYPE_WANR2V_ENGINE, GST_WANR2V_ENGINE_AUTO, rw));
  g_object_class_install_property (klass, PROP_REFERENCE_DURATION,
      g_param_spec_double ("reference-duration", "Reference duration",
          "Most seconds taken from each raw reference video, 0.1 to 3600; "
          "a live source (camera) completes its pad when this much has "
          "arrived. Checked when the pipeline starts", -G_MAXDOUBLE,
          G_MAXDOUBLE, DEFAULT_REFERENCE_DURATION, rw));
  g_object_class_install_property (klass, PROP_CACHE_DIR,
      g_param_spec_string ("cache-dir", "Cache directory",
          "Result store and job journal (default: "
          "$XDG_CACHE_HOME/gstreamer-1.0/wanr2v)", NULL, rw));
  g_object_class_install_property (klass, PROP_RESULT_LOCATION,
      g_param_spec_string ("result-location", "Result location",
          "Also save the generated MP4 here, as delivered, not re-encoded "
          "(default: none)", NULL, rw));
  g_object_class_install_property (klass, PROP_API_KEY,
      g_param_spec_string ("api-key", "API key",
          "Key of the hosted engine; write-only, never logged (default: "
          "WAVESPEED_API_KEY or DASHSCOPE_API_KEY from the environment, "
          "as the engine needs)", NULL,
          G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (klass, PROP_API_URL,
      g_param_spec_string ("api-url", "API URL",
          "Base URL of the engine's API, for proxies and tests (default: "
          "https://api.wavespeed.ai for wavespeed, the region's for "
          "dashscope, http://127.0.0.1:8188 for comfyui). Plain http only "
          "to loopback", NULL, rw));
  g_object_class_install_property (klass, PROP_MODEL,
      g_param_spec_string ("model", "Model",
          "Model id on the hosted engine (default: "
          "alibaba/wan-2.7/reference-to-video on wavespeed, wan2.7-r2v on "
          "dashscope; comfyui takes its models from the workflow)", NULL, rw));
  g_object_class_install_property (klass, PROP_REQUEST_TIMEOUT,
      g_param_spec_uint ("request-timeout", "Request timeout",
          "Most seconds to wait for a whole job; an unfinished job is "
          "resumed by the next run. 0: the engine's default (1800 for "
          "hosted engines, 7200 for comfyui, whose local jobs may take an "
          "hour)", 0, G_MAXUINT, DEFAULT_REQUEST_TIMEOUT, rw));
  g_object_class_install_property (klass, PROP_POLL_INTERVAL,
      g_param_spec_uint ("poll-interval", "Poll interval",
          "First delay between job status checks in milliseconds; it then "
          "doubles up to 10 s", 10, 600000, DEFAULT_POLL_INTERVAL, rw));
  g_object_class_install_property (klass, PROP_MAX_COST,
      g_param_spec_double ("max-cost", "Maximum cost",
          "Refuse a job whose estimated cost is above this, in USD, before "
          "anything is sent (0: no limit)", 0.0, G_MAXDOUBLE, 0.0, rw));
  g_object_class_install_property (klass, PROP_ESTIMATED_COST,
      g_param_spec_double ("estimated-cost", "Estimated cost",
          "Estimated cost of the job in USD, known from PAUSED on (0 for "
          "free engines, -1 before)", -1.0, G_MAXDOUBLE, -1.0,
          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS));
  g_object_class_install_property (klass, PROP_REGION,
      g_param_spec_enum ("region", "Region",
          "dashscope: the region of the API's base URL; key, model and "
          "region must match", GST_TYPE_WANR2V_REGION,
          GST_WANR2V_REGION_SINGAPORE, rw));
  g_object_class_install_property (klass, PROP_WORKFLOW,
      g_param_spec_string ("workflow", "Workflow",
          "comfyui: path to an API-format workflow JSON whose string values "
          "\"{{prompt}}\", \"{{negative_prompt}}\", \"{{seed}}\", "
          "\"{{width}}\", \"{{height}}\", \"{{length}}\", \"{{fps}}\", "
          "\"{{reference_image}}\" or \"{{reference_images}}\" are filled "
          "in (default: the shipped Wan2.1 VACE 1.3B reference-to-video "
          "workflow, 480p; see docs/engines/comfyui.md)", NULL, rw));
  /**
   * GstWanR2v:live:
   *
   * Run as a live source with no dead air: READY->PAUSED returns
   * NO_PREROLL, the latency query says live, and from PLAYING both src
   * pads produce a continuous stream on the running time: a placeholder
   * while the job runs (#GstWanR2v:placeholder), then the clip, switched
   * at a frame boundary with no gap (`wanr2v/switched`), then what
   * #GstWanR2v:after-clip says. A job that fails keeps the placeholder on
   * air (#GstWanR2v:live-error). See docs/element.md, "Live mode".
   *
   * Left unset, a reference linked at READY->PAUSED that comes from a
   * live source (a camera, `videotestsrc is-live=true`) implies it:
   * `wanr2v` runs in live mode as with live=true. Set live=false to keep
   * the output of a live reference as it was before live mode (NO_PREROLL,
   * live latency, a GAP event prerolls downstream at PLAYING, then the
   * clip alone, with no placeholder). A reference linked later (a
   * sometimes pad) implies nothing: set live=true then. `wanr2vgen` has
   * no live mode: it is a live source with live=true or a live reference
   * (whatever live says), and outputs the clip alone.
   *
   * Since: 0.14
   */
  g_object_class_install_property (klass, PROP_LIVE,
      g_param_spec_boolean ("live", "Live",
          "Live output with no dead air: from PLAYING a placeholder (see "
          "placeholder) until the clip, then the clip with no timestamp "
          "gap, then after-clip. Left unset, a live reference linked at "
          "READY->PAUSED implies it; live=false keeps such a reference's "
          "output live the old way (NO_PREROLL, a GAP at PLAYING, then the "
          "clip, no placeholder)", DEFAULT_IS_LIVE, rw));
  /**
   * GstWanR2v:is-live:
   *
   * The old name of #GstWanR2v:live: the same setting.
   *
   * Deprecated: 0.14: use #GstWanR2v:live.
   */
  g_object_class_install_property (klass, PROP_IS_LIVE,
      g_param_spec_boolean ("is-live", "Is live",
          "Deprecated: the old name of live, the same setting",
          DEFAULT_IS_LIVE, rw | G_PARAM_DEPRECATED));
  /**
   * GstWanR2v:job-key:
   *
   * A key of the user's choosing that names the job: with it, the
   * request's identity (result store, journal) leaves out the references'
   * contents, so a stopped or crashed job is resumed, never paid twice,
   * even with a live reference whose frames differ run to run. The
   * trade-off: changed references under the same key and parameters give
   * the stored clip of the first. See docs/identity.md.
   */
  g_object_class_install_property (klass, PROP_JOB_KEY,
      g_param_spec_string ("job-key", "Job key",
          "Idempotency key of your choosing: a run with the same key and "
          "parameters is the same job whatever frames the references "
          "bring (a live camera), so a stopped or crashed job is resumed, "
          "not paid twice; changed references under the same key get the "
          "first clip (default: none, the references' contents count)",
          NULL, rw));
  g_object_class_install_property (klass, PROP_MAX_DOWNLOAD_SIZE,
      g_param_spec_uint64 ("max-download-size", "Maximum download size",
          "Largest clip accepted from a server, in bytes", 1024, G_MAXUINT64,
          WR2V_DEFAULT_MAX_DOWNLOAD_BYTES, rw));
  /* the fleet store (docs/fleet.md); write-only: it may hold a password */
  g_object_class_install_property (klass, PROP_STORE,
      g_param_spec_string ("store", "Fleet store",
          "A PostgreSQL connection string (postgresql://... or host=... "
          "dbname=...) whose database the machines of a fleet share: one "
          "submit per request, one clip, one spend ledger; write-only, "
          "never logged (default: WANR2V_STORE from the environment, else "
          "cache-dir alone)", NULL,
          G_PARAM_WRITABLE | G_PARAM_STATIC_STRINGS | GST_PARAM_MUTABLE_READY));
  /* a shot list: see the storyboard format in wr2v-storyboard.h and
   * docs/element.md */
  g_object_class_install_property (klass, PROP_STORYBOARD,
      g_param_spec_string ("storyboard", "Storyboard",
          "Shots rendered into one continuous clip: a file, or the text, of "
          "structures like shot, prompt=..., duration=3, seed=7, "
          "first-frame=still.png, references=video_0, continue=true, one "
          "per line or separated by ; (see the element's documentation). "
          "Each shot is its own job: independent shots run together, a "
          "continuing one starts from the last frame of the one before; "
          "estimated-cost and max-cost cover them all; not with variants "
          "above 1 (takes are shots with seeds of their own) (default: "
          "none, one clip of prompt)", NULL, rw));
  g_object_class_install_property (klass, PROP_VARIANTS,
      g_param_spec_uint ("variants", "Variants",
          "Takes of the request, with seeds seed, seed + 1, ... (from the "
          "request when seed is unset): each its own job, paid once and "
          "stored; each on pads take_N / take_audio_N, and one after the "
          "other on the always pads; wanr2v/variants gives each take's "
          "file, seed and start; "
          "estimated-cost and max-cost cover them all; not with storyboard "
          "(give takes there as shots with seeds of their own) (1: one "
          "clip)", 1, VARIANTS_MAX, DEFAULT_VARIANTS, rw));
  g_object_class_install_property (klass, PROP_FLEET_BUDGET,
      g_param_spec_double ("fleet-budget", "Fleet budget",
          "With a fleet store: refuse a job, before anything is sent, when "
          "the fleet's spend this fleet-budget-period and its estimated "
          "cost would exceed this, in USD (0: no limit)", 0.0, G_MAXDOUBLE,
          0.0, rw));
  g_object_class_install_property (klass, PROP_FLEET_BUDGET_PERIOD,
      g_param_spec_string ("fleet-budget-period", "Fleet budget period",
          "day or month: what fleet-budget counts (default: day)", "day", rw));
}

/* One message style for every range: the property, its value, its
 * range, what to do. */
static void
set_range_error (GError ** error, const gchar * name, const gchar * value,
    const gchar * range, const gchar * hint)
{
  g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
      "%s=%s is out of range: set %s to %s%s.", name, value, name, range, hint);
}

gboolean
gst_wanr2v_check_ranges (gint duration, gdouble reference_duration,
    gint64 seed, GError ** error)
{
  gchar value[G_ASCII_DTOSTR_BUF_SIZE];

  if (duration < DURATION_MIN || duration > DURATION_MAX) {
    g_snprintf (value, sizeof (value), "%d", duration);
    set_range_error (error, "duration", value, "1 to 15 seconds",
        " (wavespeed 5, 10 or 15; dashscope 2 to 15; comfyui 1 to 10; "
        "preview 1 to 15)");
    return FALSE;
  }
  if (!(reference_duration >= REFERENCE_DURATION_MIN &&
          reference_duration <= REFERENCE_DURATION_MAX)) {
    g_ascii_formatd (value, sizeof (value), "%g", reference_duration);
    set_range_error (error, "reference-duration", value, "0.1 to 3600 "
        "seconds", "");
    return FALSE;
  }
  if (seed < SEED_MIN || seed > SEED_MAX) {
    g_snprintf (value, sizeof (value), "%" G_GINT64_FORMAT, seed);
    set_range_error (error, "seed", value, "0 to 2147483647", ", or -1 to "
        "leave it to the engine");
    return FALSE;
  }
  return TRUE;
}
