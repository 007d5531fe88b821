/* gstwanr2vprops.h: the properties wanr2v and wanr2vgen share.
 *
 * wanr2vgen stores them; wanr2v (the bin) installs the same list and
 * forwards every get and set to its wanr2vgen by name, so a property is
 * defined once, here.
 */
#pragma once

#include <gst/gst.h>

#include "wr2v-defaults.h"

G_BEGIN_DECLS enum
{
  PROP_0,
  PROP_PROMPT,
  PROP_NEGATIVE_PROMPT,
  PROP_DURATION,
  PROP_RESOLUTION,
  PROP_ASPECT_RATIO,
  PROP_SEED,
  PROP_PROMPT_EXPANSION,
  PROP_ENGINE,
  PROP_REFERENCE_DURATION,
  PROP_CACHE_DIR,
  PROP_RESULT_LOCATION,
  PROP_API_KEY,
  PROP_API_URL,
  PROP_MODEL,
  PROP_REQUEST_TIMEOUT,
  PROP_POLL_INTERVAL,
  PROP_MAX_COST,
  PROP_ESTIMATED_COST,
  PROP_MAX_DOWNLOAD_SIZE,
  PROP_REGION,
  PROP_WORKFLOW,
  PROP_REFERENCE_NUMBERING,
  PROP_IS_LIVE,
  PROP_JOB_KEY,
  PROP_STORE,
  PROP_FLEET_BUDGET,
  PROP_FLEET_BUDGET_PERIOD,
  PROP_SHOT_TYPE,
  PROP_LIVE,
  PROP_STORYBOARD,
  PROP_VARIANTS,
  PROP_LAST
};

#define DEFAULT_DURATION 5
#define DEFAULT_SEED -1
#define DEFAULT_PROMPT_EXPANSION FALSE
#define DEFAULT_REFERENCE_DURATION 10.0
#define DEFAULT_REQUEST_TIMEOUT 0       /* the engine's own */
#define DEFAULT_POLL_INTERVAL WR2V_DEFAULT_POLL_INTERVAL_MS
#define DEFAULT_IS_LIVE FALSE
#define DEFAULT_VARIANTS 1
#define VARIANTS_MAX 16

/* The ranges the element takes, checked in one place when the pipeline
 * starts (gst_wanr2v_check_ranges()), so that a value outside them is an
 * error naming the property and its range, not a GLib warning and the
 * default. The param specs are wider on purpose. duration: the widest
 * range of the engines (each engine checks its own part of it); seed: the
 * hosted providers' (0 to 2^31-1, -1 unset). */
#define DURATION_MIN 1
#define DURATION_MAX 15
#define REFERENCE_DURATION_MIN 0.1
#define REFERENCE_DURATION_MAX 3600.0
#define SEED_MIN -1
#define SEED_MAX G_MAXINT32

void gst_wanr2v_install_properties (GObjectClass * klass);

/* FALSE and a LIBRARY/SETTINGS-kind error (WR2V_ERROR_INVALID_REQUEST)
 * when a value is outside its range above. */
gboolean gst_wanr2v_check_ranges (gint duration, gdouble reference_duration,
    gint64 seed, GError ** error);

G_END_DECLS
