/* wr2v-fal-wire.h: fal.ai's wire format, as pure functions.
 *
 * The request builder and the answer parser of engine=fal. No I/O, no
 * engine state, no logging, so that fuzzers call exactly what the engine
 * calls. The rules every parser here follows are in src/wr2v-json.h;
 * the facts, with their sources and how sure each is, in
 * docs/engines/fal.md ("Wire protocol and sources").
 */
#pragma once

#include <glib.h>

#include "wr2v-remote.h"
#include "wr2v-request.h"

G_BEGIN_DECLS

/* Any answer of the queue or the storage API; missing members stay NULL.
 *  - submit: request_id
 *  - status: status ("IN_QUEUE", "IN_PROGRESS", "COMPLETED") and, for a
 *    request that ended in an error, error and error_type
 *  - result: video.url
 *  - an error answer: detail (a string, or the first msg of a list)
 *  - storage upload initiate: upload_url, file_url */
typedef struct
{
  gchar *request_id;
  gchar *status, *error, *error_type;
  gchar *video_url, *detail;
  gchar *upload_url, *file_url;
} Wr2vFalAnswer;

/* FALSE (WR2V_ERROR_PROTOCOL) only when @data is not a JSON object within
 * the limits. */
gboolean wr2v_fal_parse_answer (const gchar * data, gsize len,
    Wr2vFalAnswer * out, GError ** error);
void wr2v_fal_answer_clear (Wr2vFalAnswer * a);

/* A model id: "owner/app[/path...]" of [A-Za-z0-9-_.], no empty or ".."
 * segment. */
gboolean wr2v_fal_model_ok (const gchar * model);

/* The app of a model id ("fal-ai/wan" of "fal-ai/wan/v2.7/..."): the
 * queue names a request's routes after it, not after the whole id. */
gchar *wr2v_fal_app_id (const gchar * model);

/* The body of POST {queue}/{model}: @urls holds the URL fal fetches each
 * of @req's references from, in the request's order; the prompt in the
 * form its provider documents for @model (NULL: the default). */
gchar *wr2v_fal_submit_body (const gchar * model,
    const Wr2vRequest * req, const gchar * const *urls);

/* The body of POST {storage}/storage/upload/initiate. */
gchar *wr2v_fal_initiate_body (const gchar * content_type,
    const gchar * file_name);

G_END_DECLS
