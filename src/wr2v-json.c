/* wr2v-json.c: typed getters over json-glib (see wr2v-json.h). */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "wr2v-json.h"

#include "wr2v-error.h"
#include "wr2v-http.h"

static JsonNode *
member (JsonObject * obj, const gchar * name)
{
  return obj ? json_object_get_member (obj, name) : NULL;
}

const gchar *
wr2v_json_node_string (JsonNode * n)
{
  if (!n || !JSON_NODE_HOLDS_VALUE (n) ||
      json_node_get_value_type (n) != G_TYPE_STRING)
    return NULL;
  return json_node_get_string (n);
}

const gchar *
wr2v_json_string (JsonObject * obj, const gchar * name)
{
  return wr2v_json_node_string (member (obj, name));
}

JsonObject *
wr2v_json_object (JsonObject * obj, const gchar * name)
{
  JsonNode *n = member (obj, name);

  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

JsonArray *
wr2v_json_array (JsonObject * obj, const gchar * name)
{
  JsonNode *n = member (obj, name);

  return n && JSON_NODE_HOLDS_ARRAY (n) ? json_node_get_array (n) : NULL;
}

gboolean
wr2v_json_bool (JsonObject * obj, const gchar * name, gboolean def)
{
  JsonNode *n = member (obj, name);

  if (!n || !JSON_NODE_HOLDS_VALUE (n) ||
      json_node_get_value_type (n) != G_TYPE_BOOLEAN)
    return def;
  return json_node_get_boolean (n);
}

gboolean
wr2v_json_node_int (JsonNode * n, gboolean allow_string, gint64 * out)
{
  if (!n || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  switch (json_node_get_value_type (n)) {
    case G_TYPE_INT64:
      *out = json_node_get_int (n);
      return TRUE;
    case G_TYPE_DOUBLE:{
      gdouble d = json_node_get_double (n);

      /* casting a double out of range (or NaN) is undefined */
      if (!(d >= -9.2e18 && d <= 9.2e18))
        return FALSE;
      *out = (gint64) d;
      return TRUE;
    }
    case G_TYPE_STRING:{
      const gchar *str = json_node_get_string (n);
      gchar *end = NULL;
      gint64 v;

      if (!allow_string)
        return FALSE;
      v = g_ascii_strtoll (str, &end, 10);
      if (!end || end == str || *end != '\0')
        return FALSE;
      *out = v;
      return TRUE;
    }
    default:
      return FALSE;
  }
}

gboolean
wr2v_json_int (JsonObject * obj, const gchar * name, gint64 * out)
{
  return wr2v_json_node_int (member (obj, name), TRUE, out);
}

gint64
wr2v_json_int_or (JsonObject * obj, const gchar * name, gint64 def)
{
  gint64 v;

  return wr2v_json_int (obj, name, &v) ? v : def;
}

JsonNode *
wr2v_json_parse_object (const gchar * data, gsize len, const gchar * who,
    JsonObject ** root, GError ** error)
{
  GBytes *bytes = g_bytes_new_static (data ? data : "", data ? len : 0);
  JsonNode *node = wr2v_http_parse_json (bytes, error);

  g_bytes_unref (bytes);
  if (!node)
    return NULL;
  if (!JSON_NODE_HOLDS_OBJECT (node)) {
    json_node_unref (node);
    if (who)
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
          "%s answered JSON that is not an object", who);
    else
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL, "not a JSON object");
    return NULL;
  }
  *root = json_node_get_object (node);
  return node;
}

gchar *
wr2v_json_builder_text (JsonBuilder * b)
{
  JsonNode *root = json_builder_get_root (b);
  JsonGenerator *gen = json_generator_new ();
  gchar *text;

  json_generator_set_root (gen, root);
  text = json_generator_to_data (gen, NULL);
  g_object_unref (gen);
  json_node_unref (root);
  return text;
}

gchar *
wr2v_json_builder_finish (JsonBuilder * b)
{
  gchar *text;

  json_builder_end_object (b);
  text = wr2v_json_builder_text (b);
  g_object_unref (b);
  return text;
}

static void
clear_string_list (gchar ** first, va_list ap)
{
  gchar **p;

  for (p = first; p; p = va_arg (ap, gchar **))
    g_clear_pointer (p, g_free);
}

void
wr2v_json_clear_strings (gchar ** first, ...)
{
  va_list ap;

  va_start (ap, first);
  clear_string_list (first, ap);
  va_end (ap);
}

void
wr2v_json_clear_answer_strings (gpointer answer, gsize size,
    gchar ** first, ...)
{
  va_list ap;

  va_start (ap, first);
  clear_string_list (first, ap);
  va_end (ap);
  memset (answer, 0, size);
}
