/* wr2v-parsers.h: what the engines read in their services' answers, as
 * pure functions. Each hosted engine declares its own in
 * src/engines/<name>/wr2v-<name>-wire.h; the rules below hold for all.
 *
 * Each parser takes a response body (any bytes: these come from a server
 * that may be broken or hostile) and fills a plain struct with copies of
 * the fields the engine uses. No I/O, no engine state, no logging, so that
 * the fuzzers (tests/fuzz) call exactly what the engines call. The engines
 * keep the policy: which error a user sees, whether to retry, the journal.
 *
 * A parser returns FALSE (WR2V_ERROR_PROTOCOL) only when the body can't be
 * read at all: not JSON, larger than WR2V_HTTP_JSON_MAX_BYTES, nested
 * deeper than WR2V_HTTP_JSON_MAX_DEPTH, or not the JSON object every one
 * of these APIs answers. Missing or mistyped members are left NULL / at
 * their default: the engine decides what their absence means.
 *
 * Strings are copied as sent: they are bounded by the body limit only.
 * Anything that goes into a path, a URL, a header or a message must pass
 * the validators below (or the engine's own text sanitizer) first.
 *
 * Every struct is zero-initialized by the caller and freed with its
 * _clear() function, also after a failed parse.
 */
#pragma once

#include <glib.h>

#include "wr2v-http.h"

G_BEGIN_DECLS

/* Server text fit for an error message: the old name of
 * wr2v_http_safe_text(), kept until its callers use that one. */
#define wr2v_parsers_safe_text wr2v_http_safe_text

G_END_DECLS
