/* rel-common.h: helpers the reliability tests share (one header, static
 * functions: each test is one executable).
 *
 * The fake servers are found through WANR2V_TESTS_SRCDIR and run with
 * WANR2V_PYTHON, as meson's test environment sets them. */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <gst/gst.h>

#include "wr2v-http.h"

static inline const gchar *
rel_srcdir (void)
{
  const gchar *d = g_getenv ("WANR2V_TESTS_SRCDIR");

  return d ? d : "tests";
}

static inline const gchar *
rel_python (void)
{
  const gchar *p = g_getenv ("WANR2V_PYTHON");

  return p ? p : "/usr/bin/python3";
}

static inline void
rel_rm_rf (const gchar * path)
{
  GDir *d;
  const gchar *name;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR) ||
      g_file_test (path, G_FILE_TEST_IS_SYMLINK)) {
    g_unlink (path);
    return;
  }
  /* a test may have made it read-only */
  g_chmod (path, 0700);
  d = g_dir_open (path, 0, NULL);
  while (d && (name = g_dir_read_name (d))) {
    gchar *child = g_build_filename (path, name, NULL);

    rel_rm_rf (child);
    g_free (child);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (path);
}

/* Entries in a directory (/proc/self/task: threads, /proc/self/fd: open
 * files), not counting "." and "..". */
static inline guint
rel_count_dir (const gchar * path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  guint n = 0;

  while (d && g_dir_read_name (d))
    n++;
  if (d)
    g_dir_close (d);
  return n;
}

/* Runs a pipeline description to EOS; FALSE on an error or timeout. */
static inline gboolean
rel_run_to_eos (const gchar * desc, GstClockTime timeout)
{
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);
  GstBus *bus;
  GstMessage *msg;
  gboolean ok;

  if (!p) {
    g_printerr ("cannot build \"%s\": %s\n", desc, err->message);
    g_error_free (err);
    return FALSE;
  }
  bus = gst_element_get_bus (p);
  gst_element_set_state (p, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, timeout,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  ok = msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS;
  if (msg)
    gst_message_unref (msg);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
  return ok;
}

/* An H.264 MP4 clip of @seconds seconds at 30 fps, what a service
 * delivers. */
static inline gboolean
rel_make_clip (const gchar * path, guint seconds, gint width, gint height)
{
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=%u "
      "pattern=ball ! video/x-raw,width=%d,height=%d,framerate=30/1 ! "
      "x264enc speed-preset=ultrafast ! mp4mux ! filesink location=\"%s\"",
      seconds * 30, width, height, path);
  gboolean ok = rel_run_to_eos (desc, 120 * GST_SECOND);

  g_free (desc);
  return ok;
}

/* A fake server, started with its stdin a pipe: it exits when this
 * process dies, however it dies. */
typedef struct
{
  GSubprocess *proc;
  guint port;
  gchar *base;                  /* http://127.0.0.1:<port> */
  Wr2vHttp *http;
} RelServer;

/* @script: a path relative to tests/; NULL-terminated arguments follow. */
static inline RelServer *
rel_server_start (const gchar * script, ...)
{
  GPtrArray *argv = g_ptr_array_new_with_free_func (g_free);
  GSubprocessLauncher *l;
  GDataInputStream *in;
  RelServer *s = g_new0 (RelServer, 1);
  GError *err = NULL;
  const gchar *arg;
  gchar *line;
  va_list ap;

  g_ptr_array_add (argv, g_strdup (rel_python ()));
  g_ptr_array_add (argv, g_build_filename (rel_srcdir (), script, NULL));
  va_start (ap, script);
  while ((arg = va_arg (ap, const gchar *)))
    g_ptr_array_add (argv, g_strdup (arg));
  va_end (ap);
  g_ptr_array_add (argv, g_strdup ("--exit-with-stdin"));
  g_ptr_array_add (argv, NULL);

  /* the server's tracebacks for clients that hung up (as stopped
   * pipelines do) are noise, unless asked for */
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
  if (!line || !g_str_has_prefix (line, "PORT "))
    g_error ("%s did not start: %s", script, err ? err->message : line);
  s->port = atoi (line + 5);
  g_free (line);
  s->base = g_strdup_printf ("http://127.0.0.1:%u", s->port);
  s->http = wr2v_http_new ();
  return s;
}

static inline void
rel_server_stop (RelServer * s)
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

/* POST /_control with @json; aborts when the server refuses. */
static inline void
rel_server_control (RelServer * s, const gchar * json)
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

/* GET @route (e.g. "/_stats") as JSON. Unref the node. */
static inline JsonNode *
rel_server_get_json (RelServer * s, const gchar * route)
{
  gchar *url = g_strconcat (s->base, route, NULL);
  Wr2vHttpRequest req = { 0, };
  Wr2vHttpResponse resp = { 0, };
  GError *err = NULL;
  JsonNode *node;

  req.method = WR2V_HTTP_GET;
  req.url = url;
  req.max_body_bytes = 256 * 1024 * 1024;
  if (!wr2v_http_perform (s->http, &req, &resp, &err) || resp.status != 200)
    g_error ("GET %s: %s", route, err ? err->message : "refused");
  /* not wr2v_http_parse_json: stats may exceed its 4 MiB limit */
  {
    JsonParser *p = json_parser_new ();
    gsize len = 0;
    const gchar *data = g_bytes_get_data (resp.body, &len);

    if (!json_parser_load_from_data (p, data, len, &err))
      g_error ("GET %s: %s", route, err->message);
    node = json_node_copy (json_parser_get_root (p));
    g_object_unref (p);
  }
  wr2v_http_response_clear (&resp);
  g_free (url);
  return node;
}

/* Counts, per prompt, the submits the fake WaveSpeed server received:
 * prompt -> number (GUINT_TO_POINTER). */
static inline GHashTable *
rel_wavespeed_submits_by_prompt (RelServer * s, guint * total)
{
  JsonNode *stats = rel_server_get_json (s, "/_stats");
  JsonArray *submits = json_object_get_array_member (json_node_get_object
      (stats), "submits");
  GHashTable *by = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  guint i;

  *total = json_array_get_length (submits);
  for (i = 0; i < *total; i++) {
    JsonObject *sub = json_array_get_object_element (submits, i);
    JsonObject *body = json_object_get_object_member (sub, "body");
    const gchar *prompt = body ? json_object_get_string_member_with_default
        (body, "prompt", "?") : "?";
    guint n = GPOINTER_TO_UINT (g_hash_table_lookup (by, prompt));

    g_hash_table_replace (by, g_strdup (prompt), GUINT_TO_POINTER (n + 1));
  }
  json_node_unref (stats);
  return by;
}

/* The files in @dir whose names end in @suffix. */
static inline guint
rel_count_files (const gchar * dir, const gchar * suffix)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;
  guint n = 0;

  while (d && (name = g_dir_read_name (d)))
    if (!suffix || g_str_has_suffix (name, suffix))
      n++;
  if (d)
    g_dir_close (d);
  return n;
}
