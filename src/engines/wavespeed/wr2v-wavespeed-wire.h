/* wr2v-wavespeed-wire.h: WaveSpeedAI's wire format, as pure functions.
 *
 * The request builder and the answer parser of engine=wavespeed. No I/O,
 * no engine state, no logging, so that the fuzzers (tests/fuzz) call
 * exactly what the engine calls. The rules every parser here follows are
 * in src/wr2v-json.h; the facts, with their sources and how sure each
 * is, in docs/engines/wavespeed.md ("Wire protocol and sources").
 */
#pragma once

#include <glib.h>

#include "wr2v-json.h"
#include "wr2v-remote.h"
#include "wr2v-request.h"

G_BEGIN_DECLS

/* {"code": 200, "message": "...", "data": {...}} */
typedef struct
{
  gboolean has_code;            /* "code" is present and an integer */
  gint64 code;                  /* "code" (also when sent as a string) */
  gchar *message;               /* "message" */

  /* submit: data.id */
  gchar *id;
  /* poll: data.status, data.outputs[0] (when a string), and on failure
   * data.code (0 when absent) and data.error */
  gchar *status;
  gchar *output;
  gint64 error_code;
  gchar *error;
  /* media upload: data.download_url */
  gchar *download_url;
} Wr2vWavespeedAnswer;

/* FALSE (WR2V_ERROR_PROTOCOL) only when @data is not a JSON object within
 * the limits; missing members stay NULL / 0. */
WR2V_JSON_DECLARE_PARSER (Wr2vWavespeedAnswer, wr2v_wavespeed_parse_answer,
    wr2v_wavespeed_answer_clear);

/* A prediction id fit for a URL path segment and a file name: the rule of
 * every hosted engine, wr2v_remote_job_id_ok(). */
#define wr2v_wavespeed_job_id_ok(id) wr2v_remote_job_id_ok (id)

/* A model id that is a plain path under /api/v3/: [A-Za-z0-9-_./], not
 * absolute, no "..". */
gboolean wr2v_wavespeed_model_ok (const gchar * model);

/* The body of POST /api/v3/{model}: @urls holds the URL the service
 * fetches each of @req's references from, in the request's order. */
gchar *wr2v_wavespeed_submit_body (const Wr2vRequest * req,
    const gchar * const *urls);

G_END_DECLS
