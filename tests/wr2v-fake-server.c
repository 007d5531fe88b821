/* wr2v-fake-server.c: see wr2v-fake-server.h. */
#include "wr2v-fake-server.h"

#include <stdlib.h>
#include <string.h>

#include "wr2v-test-util.h"

Wr2vFakeServer *
wr2v_fake_server_startv (const gchar * script, const gchar * const *args)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);
  GSubprocessLauncher *l;
  GDataInputStream *in;
  Wr2vFakeServer *s = g_new0 (Wr2vFakeServer, 1);
  GError *err = NULL;
  gchar *line;

  g_ptr_array_add (argv, g_strdup (wr2v_test_python ()));
  g_ptr_array_add (argv, g_path_is_absolute (script) ? g_strdup (script) :
      g_build_filename (wr2v_test_srcdir (), script, NULL));
  for (; args && *args; args++)
    g_ptr_array_add (argv, g_strdup (*args));
  g_ptr_array_add (argv, g_strdup ("--exit-with-stdin"));
  g_ptr_array_add (argv, NULL);

  l = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
      G_SUBPROCESS_FLAGS_STDIN_PIPE | (g_getenv ("WANR2V_TEST_VERBOSE") ?
          0 : G_SUBPROCESS_FLAGS_STDERR_SILENCE));
  s->proc = g_subprocess_launcher_spawnv (l,
      (const gchar * const *) argv->pdata, &err);
  g_object_unref (l);
  g_ptr_array_unref (argv);
  if (!s->proc)
    g_error ("cannot start %s: %s", script, err->message);
  in = g_data_input_stream_new (g_subprocess_get_stdout_pipe (s->proc));
  line = g_data_input_stream_read_line (in, NULL, NULL, &err);
  g_object_unref (in);
  if (!line || !g_str_has_prefix (line, "PORT ") || atoi (line + 5) <= 0)
    g_error ("%s did not start: %s", script, err ? err->message : line);
  s->port = atoi (line + 5);
  g_free (line);
  s->base = g_strdup_printf ("http://127.0.0.1:%u", s->port);
  s->http = wr2v_http_new ();
  return s;
}

Wr2vFakeServer *
wr2v_fake_server_start (const gchar * script, ...)
{
  GPtrArray *args = g_ptr_array_new ();
  Wr2vFakeServer *s;
  const gchar *arg;
  va_list ap;

  va_start (ap, script);
  while ((arg = va_arg (ap, const gchar *)))
      g_ptr_array_add (args, (gpointer) arg);
  va_end (ap);
  g_ptr_array_add (args, NULL);
  s = wr2v_fake_server_startv (script, (const gchar * const *) args->pdata);
  g_ptr_array_unref (args);
  return s;
}

void
wr2v_fake_server_stop (Wr2vFakeServer * s)
{
  if (!s)
    return;
  g_subprocess_force_exit (s->proc);
  g_subprocess_wait (s->proc, NULL, NULL);
  g_object_unref (s->proc);
  wr2v_http_free (s->http);
  g_free (s->base);
  g_free (s);
}

void
wr2v_fake_server_control (Wr2vFakeServer * s, const gchar * json)
{
  gchar *url = g_strconcat (s->base, "/_control", NULL);
  Wr2vHttpRequest req = { 0, };
  Wr2vHttpResponse resp = { 0, };
  GError *err = NULL;

  req.method = WR2V_HTTP_POST;
  req.url = url;
  req.body = g_bytes_new (json, strlen (json));
  req.content_type = "application/json";
  if (!wr2v_http_perform (s->http, &req, &resp, &err) || resp.status != 200)
    g_error ("control %s: %s", json, err ? err->message : "refused");
  wr2v_http_response_clear (&resp);
  g_bytes_unref (req.body);
  g_free (url);
}

void
wr2v_fake_server_controlv (Wr2vFakeServer * s, const gchar * format,
    va_list args)
{
  gchar *json = g_strdup_vprintf (format, args);

  wr2v_fake_server_control (s, json);
  g_free (json);
}

void
wr2v_fake_server_controlf (Wr2vFakeServer * s, const gchar * format, ...)
{
  va_list ap;

  va_start (ap, format);
  wr2v_fake_server_controlv (s, format, ap);
  va_end (ap);
}

JsonNode *
wr2v_fake_server_get_json (Wr2vFakeServer * s, const gchar * route)
{
  gchar *url = g_strconcat (s->base, route, NULL);
  Wr2vHttpRequest req = { 0, };
  Wr2vHttpResponse resp = { 0, };
  GError *err = NULL;
  JsonParser *parser;
  JsonNode *node;

  req.method = WR2V_HTTP_GET;
  req.url = url;
  req.max_body_bytes = 256 * 1024 * 1024;
  req.timeout_s = 30;
  if (!wr2v_http_perform (s->http, &req, &resp, &err) || resp.status != 200)
    g_error ("GET %s: %s", route, err ? err->message : "refused");
  /* not wr2v_http_parse_json: stats may exceed its 4 MiB limit */
  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, g_bytes_get_data (resp.body, NULL),
          g_bytes_get_size (resp.body), &err))
    g_error ("GET %s: %s", route, err->message);
  node = json_node_copy (json_parser_get_root (parser));
  g_object_unref (parser);
  wr2v_http_response_clear (&resp);
  g_free (url);
  return node;
}

JsonNode *
wr2v_fake_server_stats (Wr2vFakeServer * s)
{
  return wr2v_fake_server_get_json (s, "/_stats");
}

gint64
wr2v_fake_server_count (Wr2vFakeServer * s, const gchar * route)
{
  JsonNode *st = wr2v_fake_server_stats (s);
  JsonObject *counts = json_object_get_object_member (json_node_get_object
      (st), "counts");
  gint64 n = json_object_get_int_member_with_default (counts, route, 0);

  json_node_unref (st);
  return n;
}

guint
wr2v_fake_server_array_len (Wr2vFakeServer * s, const gchar * member)
{
  JsonNode *st = wr2v_fake_server_stats (s);
  guint n = json_array_get_length (json_object_get_array_member
      (json_node_get_object (st), member));

  json_node_unref (st);
  return n;
}

gint64
wr2v_fake_server_total_requests (Wr2vFakeServer * s)
{
  return wr2v_fake_server_array_len (s, "requests");
}

gboolean
wr2v_fake_server_list_has (Wr2vFakeServer * s, const gchar * member,
    const gchar * value)
{
  JsonNode *st = wr2v_fake_server_stats (s);
  JsonArray *a = json_object_get_array_member (json_node_get_object (st),
      member);
  gboolean found = FALSE;
  guint i;

  for (i = 0; i < json_array_get_length (a); i++)
    found |= g_strcmp0 (json_array_get_string_element (a, i), value) == 0;
  json_node_unref (st);
  return found;
}

/* The @n-th recorded request to @route (from 0), or NULL. */
static JsonObject *
nth_request (JsonNode * stats, const gchar * route, guint n)
{
  JsonArray *reqs = json_object_get_array_member (json_node_get_object
      (stats), "requests");
  guint i;

  for (i = 0; i < json_array_get_length (reqs); i++) {
    JsonObject *o = json_array_get_object_element (reqs, i);

    if (g_strcmp0 (json_object_get_string_member (o, "route"), route) == 0 &&
        n-- == 0)
      return o;
  }
  return NULL;
}

gint64
wr2v_fake_server_peer_port (Wr2vFakeServer * s, const gchar * route, guint n)
{
  JsonNode *st = wr2v_fake_server_stats (s);
  JsonObject *o = nth_request (st, route, n);
  gint64 port = o ? json_object_get_int_member (o, "peer_port") : -1;

  json_node_unref (st);
  g_assert_cmpint (port, >, 0);
  return port;
}

gchar *
wr2v_fake_server_request_path (Wr2vFakeServer * s, const gchar * route, guint n)
{
  JsonNode *st = wr2v_fake_server_stats (s);
  JsonObject *o = nth_request (st, route, n);
  gchar *path = o ? g_strdup (json_object_get_string_member (o, "path")) : NULL;

  json_node_unref (st);
  return path;
}

void
wr2v_fake_server_assert_key_routes (Wr2vFakeServer * s,
    const gchar * const *keyless)
{
  JsonNode *st = wr2v_fake_server_stats (s);
  JsonArray *reqs = json_object_get_array_member (json_node_get_object (st),
      "requests");
  guint i;

  for (i = 0; i < json_array_get_length (reqs); i++) {
    JsonObject *rq = json_array_get_object_element (reqs, i);
    JsonObject *h = json_object_get_object_member (rq, "headers");
    const gchar *route = json_object_get_string_member (rq, "route");

    if (g_strv_contains (keyless, route))
      g_assert_false (json_object_get_boolean_member (h, "has_authorization"));
    else
      g_assert_true (json_object_get_boolean_member (h, "auth_ok"));
  }
  json_node_unref (st);
}

gchar *
wr2v_fake_server_only_job (Wr2vFakeServer * s, const gchar * member)
{
  JsonNode *st = wr2v_fake_server_stats (s);
  JsonObject *jobs = json_object_get_object_member (json_node_get_object (st),
      member);
  GList *names = json_object_get_members (jobs);
  gchar *id;

  g_assert_cmpuint (g_list_length (names), ==, 1);
  id = g_strdup (names->data);
  g_list_free (names);
  json_node_unref (st);
  return id;
}
