/* wr2v-replicate-wire.h: Replicate's wire format, as pure functions.
 *
 * The request builder and the answer parser of engine=replicate. No I/O,
 * no engine state, no logging, so that fuzzers call exactly what the
 * engine calls. The rules every parser here follows are in
 * src/wr2v-json.h; the facts, with their sources and how sure each is,
 * in docs/engines/replicate.md ("Wire protocol and sources").
 */
#pragma once

#include <glib.h>

#include "wr2v-remote.h"
#include "wr2v-request.h"

G_BEGIN_DECLS

/* A prediction, a file or an error answer; missing members stay NULL. */
typedef struct
{
  gchar *id, *status;           /* a prediction's or a file's id */
  gchar *output, *error;        /* output: a string, or a list's first */
  gchar *get_url;               /* a file's urls.get */
  gchar *title, *detail;        /* an error answer (problem details) */
} Wr2vReplicateAnswer;

/* FALSE (WR2V_ERROR_PROTOCOL) only when @data is not a JSON object within
 * the limits. */
gboolean wr2v_replicate_parse_answer (const gchar * data, gsize len,
    Wr2vReplicateAnswer * out, GError ** error);
void wr2v_replicate_answer_clear (Wr2vReplicateAnswer * a);

/* A model: "owner/name" of [A-Za-z0-9-_.], neither "." nor "..". */
gboolean wr2v_replicate_model_ok (const gchar * model);

/* The body of POST /v1/models/{model}/predictions: {"input": {...}}, @urls
 * holding the URL Replicate fetches each of @req's references from, in
 * the request's order; the prompt in the form its provider documents for
 * @model (NULL: the default). */
gchar *wr2v_replicate_submit_body (const gchar * model,
    const Wr2vRequest * req, const gchar * const *urls);

G_END_DECLS
