/* wr2v-wavespeed-wire.h: WaveSpeedAI's wire format, as pure functions.
 *
 * The answer parser, the request schema's parser and the body builder by
 * its rules, and the price and ticket requests of engine=wavespeed. No I/O,
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
  /* media upload: data.download_url; the ticket's data.upload.url,
   * .method and .headers (as "Name: value" lines) */
  gchar *download_url;
  gchar *upload_url;
  gchar *upload_method;
  gchar **upload_headers;
  /* model/price: data.price; balance: data.balance (also unwrapped) */
  gboolean has_price;
  gdouble price;
  gboolean has_balance;
  gdouble balance;
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

/* --- the model's request schema --- */

/* One property of a request schema, as far as the body builder uses it. */
typedef struct
{
  gchar *name;
  gchar *type;                  /* "string", "array", ...; NULL: not said */
  gboolean required;
  GArray *enum_ints;            /* gint64; NULL when no integer enum */
  gchar **enum_strings;         /* NULL when no string enum */
  gboolean has_minimum, has_maximum;
  gdouble minimum, maximum;
  gint64 max_items;             /* -1: no limit */
} Wr2vWavespeedProp;

/* What the body builder needs of a request schema. */
typedef struct
{
  GPtrArray *props;             /* Wr2vWavespeedProp* */
} Wr2vWavespeedRules;

void wr2v_wavespeed_rules_clear (Wr2vWavespeedRules * rules);
const Wr2vWavespeedProp *wr2v_wavespeed_rules_get (const Wr2vWavespeedRules *
    rules, const gchar * name);

/* The request schema of @model in an answer to GET /api/v3/models (data:
 * a list of models, each with model_id and api_schema.api_schemas[0].
 * request_schema), as JSON text in *@schema. FALSE with
 * WR2V_ERROR_PROTOCOL when the answer is unreadable, the model is not
 * listed or has no schema. */
gboolean wr2v_wavespeed_find_schema (const gchar * data, gsize len,
    const gchar * model, gchar ** schema, GError ** error);

/* A request schema ({"properties": {...}, "required": [...]}) into
 * @out. FALSE with WR2V_ERROR_PROTOCOL when it has no properties. */
gboolean wr2v_wavespeed_parse_rules (const gchar * data, gsize len,
    Wr2vWavespeedRules * out, GError ** error);

/* The body of POST /api/v3/{model} as @rules have it: a field only when
 * the schema has it, under its name; @urls holds the URL the service
 * fetches each of @req's references from, in the request's order (NULL:
 * only check). NULL with WR2V_ERROR_UNSUPPORTED quoting the schema's rule
 * when @req breaks it. Options the user set that the schema lacks are
 * left out and named in @dropped (", "-separated), when given. */
gchar *wr2v_wavespeed_build_body (const Wr2vWavespeedRules * rules,
    const Wr2vRequest * req, const gchar * const *urls, GString * dropped,
    GError ** error);

/* The JSON of POST /api/v3/model/price: {"model_id", "inputs": @body}. */
gchar *wr2v_wavespeed_price_body (const gchar * model, const gchar * body);

/* The JSON of POST /api/v3/media/uploads (an upload ticket). */
gchar *wr2v_wavespeed_ticket_body (const gchar * filename, guint64 size,
    const gchar * content_type);

G_END_DECLS
