/* wr2v-json.h: typed getters over json-glib for the engines' wire parsers.
 *
 * A server's answer may be broken or hostile: each getter returns NULL (or
 * FALSE, or the default) when the member is absent or of another type,
 * instead of json-glib's warnings and undefined casts. Every getter takes
 * a NULL object, so that chains like
 * wr2v_json_string (wr2v_json_object (root, "data"), "id") need no checks.
 * Pure functions: no I/O, no state (they run under the fuzzers).
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* A string member, or NULL. */
const gchar *wr2v_json_string (JsonObject * obj, const gchar * name);

/* An object member, or NULL. */
JsonObject *wr2v_json_object (JsonObject * obj, const gchar * name);

/* An array member, or NULL. */
JsonArray *wr2v_json_array (JsonObject * obj, const gchar * name);

/* A boolean member, or @def. */
gboolean wr2v_json_bool (JsonObject * obj, const gchar * name, gboolean def);

/* @n when it holds a string, else NULL. */
const gchar *wr2v_json_node_string (JsonNode * n);

/* An integer from a number (a double is truncated, when in range) and,
 * with @allow_string, from a string of decimal digits ("42"). FALSE when
 * @n is NULL, of another type, NaN or out of range. */
gboolean wr2v_json_node_int (JsonNode * n, gboolean allow_string,
    gint64 * out);

/* wr2v_json_node_int() of a member, strings allowed (some services send
 * their codes as "1200"). */
gboolean wr2v_json_int (JsonObject * obj, const gchar * name, gint64 * out);

/* The same, with @def when the member is absent or not a number. */
gint64 wr2v_json_int_or (JsonObject * obj, const gchar * name, gint64 def);

/* Parses @data as a JSON object with wr2v_http_parse_json()'s limits.
 * Returns the root node (unref it) and sets *@root; NULL and
 * WR2V_ERROR_PROTOCOL when it is not JSON or not an object: "@who answered
 * JSON that is not an object", or "not a JSON object" when @who is NULL. */
JsonNode *wr2v_json_parse_object (const gchar * data, gsize len,
    const gchar * who, JsonObject ** root, GError ** error);

/* g_free()s each string that the NULL-terminated list of pointers to
 * strings points at and sets it to NULL: a parsed answer's _clear(). */
void wr2v_json_clear_strings (gchar ** first, ...) G_GNUC_NULL_TERMINATED;

/* A parsed answer's _clear(): g_free()s the strings listed after @size
 * (pointers into @answer, NULL-terminated), then zeroes the @size bytes of
 * @answer. Does nothing when @answer is NULL. */
#define wr2v_json_clear_answer(answer, ...) \
  G_STMT_START { \
    if (answer) \
      wr2v_json_clear_answer_strings ((answer), sizeof *(answer), __VA_ARGS__); \
  } G_STMT_END
void wr2v_json_clear_answer_strings (gpointer answer, gsize size,
    gchar ** first, ...) G_GNUC_NULL_TERMINATED;

/* The rules of every wire parser (src/engines/<name>/wr2v-<name>-wire.h):
 *
 * A parser takes a response body (any bytes: they come from a server that
 * may be broken or hostile) and fills a plain struct with copies of the
 * fields the engine uses. No I/O, no engine state, no logging, so that the
 * fuzzers (tests/fuzz) call exactly what the engines call; the engines
 * keep the policy (which error a user sees, whether to retry).
 *
 * It returns FALSE (WR2V_ERROR_PROTOCOL) only when the body can't be read
 * at all: not JSON, over WR2V_HTTP_JSON_MAX_BYTES, nested deeper than
 * WR2V_HTTP_JSON_MAX_DEPTH, or not a JSON object. Missing or mistyped
 * members stay NULL / at their default: the engine decides what their
 * absence means. Strings are copied as sent; anything that goes into a
 * path, URL, header or message passes a validator or
 * wr2v_http_safe_text() first.
 *
 * The caller zero-initializes the struct and frees it with its _clear(),
 * also after a failed parse. WR2V_JSON_DECLARE_PARSER declares the pair:
 * gboolean @parse (data, len, @Type * out, error) and void @clear (@Type *).
 */
#define WR2V_JSON_DECLARE_PARSER(Type, parse, clear) \
  gboolean parse (const gchar * data, gsize len, Type * out, \
      GError ** error); \
  void clear (Type * answer)

/* The JSON text of @b's root (a finished builder). */
gchar *wr2v_json_builder_text (JsonBuilder * b);

/* Ends the object @b is building, frees @b and returns the JSON text of
 * its root: the last step of a wire builder. */
gchar *wr2v_json_builder_finish (JsonBuilder * b);

G_END_DECLS
