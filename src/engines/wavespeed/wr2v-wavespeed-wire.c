/* wr2v-wavespeed-wire.c: WaveSpeedAI's wire format (see
 * wr2v-wavespeed-wire.h). Facts and sources: docs/engines/wavespeed.md.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "wr2v-error.h"
#include "wr2v-json.h"
#include "wr2v-wavespeed-wire.h"

void
wr2v_wavespeed_answer_clear (Wr2vWavespeedAnswer * a)
{
  if (!a)
    return;
  g_strfreev (a->upload_headers);
  wr2v_json_clear_answer (a, &a->message, &a->id, &a->status, &a->output,
      &a->error, &a->download_url, &a->upload_url, &a->upload_method, NULL);
}

/* A number member (integer or not) into *@out. */
static gboolean
json_number (JsonObject * obj, const gchar * name, gdouble * out)
{
  JsonNode *n = obj ? json_object_get_member (obj, name) : NULL;
  GType t;

  if (!n || !JSON_NODE_HOLDS_VALUE (n))
    return FALSE;
  t = json_node_get_value_type (n);
  if (t == G_TYPE_INT64)
    *out = json_node_get_int (n);
  else if (t == G_TYPE_DOUBLE)
    *out = json_node_get_double (n);
  else
    return FALSE;
  return isfinite (*out);
}

/* An outputs entry: a URL, or an object with one under "url" [C: the MCP
 * server types outputs as (string | object)[]]. */
static gchar *
output_url (JsonNode * n)
{
  const gchar *url = wr2v_json_node_string (n);

  if (!url && n && JSON_NODE_HOLDS_OBJECT (n))
    url = wr2v_json_string (json_node_get_object (n), "url");
  return g_strdup (url);
}

/* data.upload of a ticket: its URL, method and headers. */
static void
parse_ticket (JsonObject * up, Wr2vWavespeedAnswer * out)
{
  JsonObject *headers = wr2v_json_object (up, "headers");
  GPtrArray *lines = g_ptr_array_new ();
  GList *names, *l;

  out->upload_url = g_strdup (wr2v_json_string (up, "url"));
  out->upload_method = g_strdup (wr2v_json_string (up, "method"));
  names = headers ? json_object_get_members (headers) : NULL;
  for (l = names; l; l = l->next) {
    const gchar *v = wr2v_json_string (headers, l->data);

    /* a header line must stay one line */
    if (v && lines->len < 32 && !strpbrk (l->data, ":\r\n") &&
        !strpbrk (v, "\r\n"))
      g_ptr_array_add (lines, g_strdup_printf ("%s: %s", (gchar *) l->data, v));
  }
  g_list_free (names);
  g_ptr_array_add (lines, NULL);
  out->upload_headers = (gchar **) g_ptr_array_free (lines, FALSE);
}

gboolean
wr2v_wavespeed_parse_answer (const gchar * data, gsize len,
    Wr2vWavespeedAnswer * out, GError ** error)
{
  JsonObject *root = NULL, *d;
  JsonArray *outputs;
  JsonNode *node;

  wr2v_wavespeed_answer_clear (out);
  node = wr2v_json_parse_object (data, len, "WaveSpeed", &root, error);
  if (!node)
    return FALSE;
  out->has_code = wr2v_json_int (root, "code", &out->code);
  out->message = g_strdup (wr2v_json_string (root, "message"));
  d = wr2v_json_object (root, "data");
  out->id = g_strdup (wr2v_json_string (d, "id"));
  out->status = g_strdup (wr2v_json_string (d, "status"));
  outputs = wr2v_json_array (d, "outputs");
  if (outputs && json_array_get_length (outputs) > 0)
    out->output = output_url (json_array_get_element (outputs, 0));
  out->error_code = wr2v_json_int_or (d, "code", 0);
  out->error = g_strdup (wr2v_json_string (d, "error"));
  out->download_url = g_strdup (wr2v_json_string (d, "download_url"));
  if (wr2v_json_object (d, "upload"))
    parse_ticket (wr2v_json_object (d, "upload"), out);
  /* price and balance: in data, or unwrapped */
  out->has_price = json_number (d, "price", &out->price) ||
      json_number (root, "price", &out->price);
  out->has_balance = json_number (d, "balance", &out->balance) ||
      json_number (root, "balance", &out->balance);
  json_node_unref (node);
  return TRUE;
}

gboolean
wr2v_wavespeed_model_ok (const gchar * model)
{
  const gchar *p;

  if (!*model || model[0] == '/' || strstr (model, ".."))
    return FALSE;
  for (p = model; *p; p++) {
    if (!g_ascii_isalnum (*p) && !strchr ("-_./", *p))
      return FALSE;
  }
  return TRUE;
}

/* --- the request schema --- */

static void
prop_free (Wr2vWavespeedProp * p)
{
  g_free (p->name);
  g_free (p->type);
  if (p->enum_ints)
    g_array_unref (p->enum_ints);
  g_strfreev (p->enum_strings);
  g_free (p);
}

void
wr2v_wavespeed_rules_clear (Wr2vWavespeedRules * rules)
{
  if (rules && rules->props)
    g_ptr_array_unref (rules->props);
  if (rules)
    rules->props = NULL;
}

const Wr2vWavespeedProp *
wr2v_wavespeed_rules_get (const Wr2vWavespeedRules * rules, const gchar * name)
{
  guint i;

  for (i = 0; rules->props && i < rules->props->len; i++) {
    const Wr2vWavespeedProp *p = g_ptr_array_index (rules->props, i);

    if (g_str_equal (p->name, name))
      return p;
  }
  return NULL;
}

gboolean
wr2v_wavespeed_find_schema (const gchar * data, gsize len,
    const gchar * model, gchar ** schema, GError ** error)
{
  JsonObject *root = NULL, *m, *rs = NULL;
  JsonArray *models, *schemas;
  JsonNode *node, *wrap;
  guint i, n;

  *schema = NULL;
  node = wr2v_json_parse_object (data, len, "WaveSpeed", &root, error);
  if (!node)
    return FALSE;
  models = wr2v_json_array (root, "data");
  n = models ? json_array_get_length (models) : 0;
  for (i = 0; i < n && !rs; i++) {
    JsonNode *e = json_array_get_element (models, i);

    m = JSON_NODE_HOLDS_OBJECT (e) ? json_node_get_object (e) : NULL;
    if (g_strcmp0 (wr2v_json_string (m, "model_id"), model) != 0)
      continue;
    schemas = wr2v_json_array (wr2v_json_object (m, "api_schema"),
        "api_schemas");
    if (schemas && json_array_get_length (schemas) > 0 &&
        JSON_NODE_HOLDS_OBJECT (json_array_get_element (schemas, 0)))
      rs = wr2v_json_object (json_array_get_object_element (schemas, 0),
          "request_schema");
  }
  if (rs) {
    wrap = json_node_new (JSON_NODE_OBJECT);
    json_node_set_object (wrap, rs);
    *schema = json_to_string (wrap, FALSE);
    json_node_unref (wrap);
  } else {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "WaveSpeed's model list has no request schema for \"%s\"", model);
  }
  json_node_unref (node);
  return rs != NULL;
}

/* "enum": integers or strings; anything else is not a rule this reads. */
static void
parse_enum (JsonArray * e, Wr2vWavespeedProp * p)
{
  GPtrArray *strs = g_ptr_array_new ();
  guint i, n = json_array_get_length (e);

  for (i = 0; i < n && i < 64; i++) {
    JsonNode *v = json_array_get_element (e, i);
    gint64 iv;

    if (wr2v_json_node_string (v)) {
      g_ptr_array_add (strs, g_strdup (wr2v_json_node_string (v)));
    } else if (wr2v_json_node_int (v, FALSE, &iv)) {
      if (!p->enum_ints)
        p->enum_ints = g_array_new (FALSE, FALSE, sizeof (gint64));
      g_array_append_val (p->enum_ints, iv);
    }
  }
  if (strs->len == 0) {
    g_ptr_array_unref (strs);
    return;
  }
  g_ptr_array_add (strs, NULL);
  p->enum_strings = (gchar **) g_ptr_array_free (strs, FALSE);
}

static Wr2vWavespeedProp *
parse_prop (const gchar * name, JsonNode * n)
{
  Wr2vWavespeedProp *p = g_new0 (Wr2vWavespeedProp, 1);
  JsonObject *o = JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;

  p->name = g_strdup (name);
  p->type = g_strdup (wr2v_json_string (o, "type"));
  /* a list without its type said is a list all the same */
  if (!p->type && (wr2v_json_object (o, "items") ||
          wr2v_json_int (o, "maxItems", &p->max_items)))
    p->type = g_strdup ("array");
  p->max_items = wr2v_json_int_or (o, "maxItems", -1);
  p->has_minimum = json_number (o, "minimum", &p->minimum);
  p->has_maximum = json_number (o, "maximum", &p->maximum);
  if (wr2v_json_array (o, "enum"))
    parse_enum (wr2v_json_array (o, "enum"), p);
  return p;
}

gboolean
wr2v_wavespeed_parse_rules (const gchar * data, gsize len,
    Wr2vWavespeedRules * out, GError ** error)
{
  JsonObject *root = NULL, *props;
  JsonArray *req;
  JsonNode *node;
  GList *names, *l;
  guint i;

  wr2v_wavespeed_rules_clear (out);
  node = wr2v_json_parse_object (data, len, "WaveSpeed", &root, error);
  if (!node)
    return FALSE;
  props = wr2v_json_object (root, "properties");
  if (!props) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "WaveSpeed's request schema has no properties");
    json_node_unref (node);
    return FALSE;
  }
  out->props = g_ptr_array_new_with_free_func ((GDestroyNotify) prop_free);
  names = json_object_get_members (props);
  for (l = names; l; l = l->next)
    g_ptr_array_add (out->props, parse_prop (l->data,
            json_object_get_member (props, l->data)));
  g_list_free (names);
  req = wr2v_json_array (root, "required");
  for (i = 0; req && i < json_array_get_length (req); i++) {
    const gchar *name = wr2v_json_node_string (json_array_get_element (req,
            i));
    Wr2vWavespeedProp *p = name ?
        (Wr2vWavespeedProp *) wr2v_wavespeed_rules_get (out, name) : NULL;

    if (p)
      p->required = TRUE;
  }
  json_node_unref (node);
  return TRUE;
}

/* --- the body, by the rules --- */

/* What the builder is filling: the rules, the body, what it filled. */
typedef struct
{
  const Wr2vWavespeedRules *rules;
  JsonBuilder *b;
  GHashTable *filled;
  GString *dropped;
} BodyBuild;

static gboolean
is_array (const Wr2vWavespeedProp * p)
{
  return g_strcmp0 (p->type, "array") == 0;
}

/* The schema's array property for references of @word ("image"): the
 * name the schema uses for them, like "images" or "reference_images". */
static const Wr2vWavespeedProp *
array_for (const Wr2vWavespeedRules * rules, const gchar * word)
{
  gchar *plural = g_strconcat (word, "s", NULL);
  const Wr2vWavespeedProp *p = wr2v_wavespeed_rules_get (rules, plural);
  guint i;

  g_free (plural);
  if (p && is_array (p))
    return p;
  for (i = 0; i < rules->props->len; i++) {
    p = g_ptr_array_index (rules->props, i);
    if (is_array (p) && strstr (p->name, word))
      return p;
  }
  return NULL;
}

static void
rule_error (GError ** error, const gchar * format, ...)
G_GNUC_PRINTF (2, 3);

     static void rule_error (GError ** error, const gchar * format, ...)
{
  va_list ap;
  gchar *msg;

  va_start (ap, format);
  msg = g_strdup_vprintf (format, ap);
  va_end (ap);
  g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
      "WaveSpeed's schema for this model %s; nothing was submitted or paid "
      "for", msg);
  g_free (msg);
}

/* Adds @urls under @word's names: an array property takes them all (up
 * to its maxItems), a string property ("image") the first. */
static gboolean
add_refs (BodyBuild * bb, const gchar * word, GPtrArray * urls, GError ** error)
{
  const Wr2vWavespeedProp *arr = array_for (bb->rules, word);
  const Wr2vWavespeedProp *one = wr2v_wavespeed_rules_get (bb->rules, word);
  guint i;

  if (urls->len == 0)
    return TRUE;
  if (one && is_array (one))
    one = NULL;
  if (!arr && (!one || urls->len > 1)) {
    rule_error (error, "takes %s %s reference%s (%s%s%s), not %u",
        one ? "one" : "no", word, one ? "" : "s", one ? "\"" : "",
        one ? one->name : "", one ? "\"" : "", urls->len);
    return FALSE;
  }
  if (arr && arr->max_items >= 0 && urls->len > (guint64) arr->max_items) {
    rule_error (error, "takes at most %" G_GINT64_FORMAT " items in \"%s\" "
        "(maxItems), not %u", arr->max_items, arr->name, urls->len);
    return FALSE;
  }
  if (one) {
    json_builder_set_member_name (bb->b, one->name);
    json_builder_add_string_value (bb->b, g_ptr_array_index (urls, 0));
    g_hash_table_add (bb->filled, one->name);
  }
  /* the single-URL field alone covers one reference */
  if (arr && (!one || urls->len > 1)) {
    json_builder_set_member_name (bb->b, arr->name);
    json_builder_begin_array (bb->b);
    for (i = 0; i < urls->len; i++)
      json_builder_add_string_value (bb->b, g_ptr_array_index (urls, i));
    json_builder_end_array (bb->b);
    g_hash_table_add (bb->filled, arr->name);
  }
  return TRUE;
}

/* The schema's rule for an integer value, quoted when @v breaks it. */
static gboolean
int_allowed (const Wr2vWavespeedProp * p, gint64 v, GError ** error)
{
  GString *list;
  guint i;

  if (p->enum_ints) {
    for (i = 0; i < p->enum_ints->len; i++) {
      if (g_array_index (p->enum_ints, gint64, i) == v)
        return TRUE;
    }
    list = g_string_new (NULL);
    for (i = 0; i < p->enum_ints->len; i++)
      g_string_append_printf (list, "%s%" G_GINT64_FORMAT, i ? ", " : "",
          g_array_index (p->enum_ints, gint64, i));
    rule_error (error, "takes \"%s\" in [%s] (enum), not %" G_GINT64_FORMAT,
        p->name, list->str, v);
    g_string_free (list, TRUE);
    return FALSE;
  }
  if ((p->has_minimum && v < p->minimum) || (p->has_maximum && v > p->maximum)) {
    rule_error (error, "takes \"%s\" from %g to %g (minimum, maximum), not %"
        G_GINT64_FORMAT, p->name, p->has_minimum ? p->minimum : -INFINITY,
        p->has_maximum ? p->maximum : INFINITY, v);
    return FALSE;
  }
  return TRUE;
}

static gboolean
string_allowed (const Wr2vWavespeedProp * p, const gchar * v, GError ** error)
{
  gchar *list;

  if (!p->enum_strings || g_strv_contains ((const gchar * const *)
          p->enum_strings, v))
    return TRUE;
  list = g_strjoinv (", ", p->enum_strings);
  rule_error (error, "takes \"%s\" in [%s] (enum), not \"%s\"", p->name,
      list, v);
  g_free (list);
  return FALSE;
}

/* Adds @name when the schema has it (checked against its rule); an option
 * the user set that the schema lacks goes into dropped. @str NULL: the
 * integer @iv; @is_bool: the boolean @iv. */
static gboolean
add_field (BodyBuild * bb, const gchar * name, const gchar * str, gint64 iv,
    gboolean is_bool, gboolean user_set, GError ** error)
{
  const Wr2vWavespeedProp *p = wr2v_wavespeed_rules_get (bb->rules, name);

  if (!p) {
    if (user_set && bb->dropped)
      g_string_append_printf (bb->dropped, "%s%s", bb->dropped->len ? ", " :
          "", name);
    return TRUE;
  }
  if (str ? !string_allowed (p, str, error) : !is_bool && !int_allowed (p, iv,
          error))
    return FALSE;
  json_builder_set_member_name (bb->b, p->name);
  if (str)
    json_builder_add_string_value (bb->b, str);
  else if (is_bool)
    json_builder_add_boolean_value (bb->b, iv != 0);
  else
    json_builder_add_int_value (bb->b, iv);
  g_hash_table_add (bb->filled, p->name);
  return TRUE;
}

/* Every required property is one the builder filled. */
static gboolean
required_filled (BodyBuild * bb, GError ** error)
{
  guint i;

  for (i = 0; i < bb->rules->props->len; i++) {
    const Wr2vWavespeedProp *p = g_ptr_array_index (bb->rules->props, i);

    if (p->required && !g_hash_table_contains (bb->filled, p->name)) {
      rule_error (error, "requires \"%s\" (required), which this request "
          "does not give", p->name);
      return FALSE;
    }
  }
  return TRUE;
}

static gboolean
add_fields (BodyBuild * bb, const Wr2vRequest * req, GError ** error)
{
  const gchar *neg = req->negative_prompt;

  return add_field (bb, "prompt", req->prompt ? req->prompt : "", 0, FALSE,
      TRUE, error) &&
      (!neg || !*neg || add_field (bb, "negative_prompt", neg, 0, FALSE, TRUE,
          error)) &&
      add_field (bb, "resolution", wr2v_resolution_nick (req->resolution), 0,
      FALSE, FALSE, error) &&
      add_field (bb, "duration", NULL, req->duration, FALSE, FALSE, error) &&
      add_field (bb, "enable_prompt_expansion", NULL, req->prompt_expansion,
      TRUE, FALSE, error) &&
      (req->seed < 0 || add_field (bb, "seed", NULL, req->seed, FALSE, TRUE,
          error)) &&
      (!req->aspect_ratio_set || add_field (bb, "aspect_ratio",
          wr2v_aspect_ratio_nick (req->aspect_ratio), 0, FALSE, TRUE, error));
}

gchar *
wr2v_wavespeed_build_body (const Wr2vWavespeedRules * rules,
    const Wr2vRequest * req, const gchar * const *urls, GString * dropped,
    GError ** error)
{
  BodyBuild bb = { rules, json_builder_new (),
    g_hash_table_new (g_str_hash, g_str_equal), dropped
  };
  GPtrArray *videos = g_ptr_array_new (), *images = g_ptr_array_new ();
  guint i, n = req->references ? req->references->len : 0;
  gchar *body = NULL;
  gboolean ok;

  if (!rules->props) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
        "no WaveSpeed request schema to build the body from");
    g_hash_table_unref (bb.filled);
    g_object_unref (bb.b);
    g_ptr_array_unref (videos);
    g_ptr_array_unref (images);
    return NULL;
  }
  /* references are in prompt order: videos first, then images */
  for (i = 0; i < n; i++) {
    Wr2vReference *ref = g_ptr_array_index (req->references, i);
    const gchar *url = urls ? urls[i] : "";

    g_ptr_array_add (ref->kind == WR2V_REF_VIDEO ? videos : images,
        (gpointer) url);
  }
  json_builder_begin_object (bb.b);
  ok = add_fields (&bb, req, error) && add_refs (&bb, "video", videos, error)
      && add_refs (&bb, "image", images, error) && required_filled (&bb, error);
  if (ok) {
    json_builder_end_object (bb.b);
    body = wr2v_json_builder_text (bb.b);
  }
  g_ptr_array_unref (videos);
  g_ptr_array_unref (images);
  g_hash_table_unref (bb.filled);
  g_object_unref (bb.b);
  return body;
}

gchar *
wr2v_wavespeed_price_body (const gchar * model, const gchar * body)
{
  JsonNode *inputs = json_from_string (body, NULL);
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "model_id");
  json_builder_add_string_value (b, model);
  json_builder_set_member_name (b, "inputs");
  if (inputs)
    json_builder_add_value (b, inputs);
  else
    json_builder_add_null_value (b);
  return wr2v_json_builder_finish (b);
}

gchar *
wr2v_wavespeed_ticket_body (const gchar * filename, guint64 size,
    const gchar * content_type)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "filename");
  json_builder_add_string_value (b, filename);
  json_builder_set_member_name (b, "size");
  json_builder_add_int_value (b, size);
  json_builder_set_member_name (b, "content_type");
  json_builder_add_string_value (b, content_type);
  return wr2v_json_builder_finish (b);
}
