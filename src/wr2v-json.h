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

/* The JSON text of @b's root (a finished builder). */
gchar *wr2v_json_builder_text (JsonBuilder * b);

G_END_DECLS
