/* wr2v-defaults.h: every default and limit that more than one file uses,
 * defined once (in the manner of gst-plugins-bad's gstcurldefaults.h).
 * A value that only one file uses stays in that file. */
#pragma once

#include <glib.h>

/* The most a delivered clip may weigh (the max-download-size property's
 * default); also the HTTP client's cap on a download to a file. */
#define WR2V_DEFAULT_MAX_DOWNLOAD_BYTES (G_GUINT64_CONSTANT (1) << 30)

/* request-timeout left at 0: the whole job, submit to stored clip. */
#define WR2V_DEFAULT_HOSTED_TIMEOUT_S (30 * 60)
#define WR2V_DEFAULT_LOCAL_TIMEOUT_S (2 * 60 * 60)

/* poll-interval: the first delay between status checks, doubling up to
 * the cap. */
#define WR2V_DEFAULT_POLL_INTERVAL_MS 2000
#define WR2V_DEFAULT_POLL_INTERVAL_MAX_MS 10000

/* Jobs of one set (a storyboard's shots, variants) run at once when the
 * engine says nothing (Wr2vEngineClass.max_jobs). */
#define WR2V_DEFAULT_MAX_PARALLEL_JOBS 4
