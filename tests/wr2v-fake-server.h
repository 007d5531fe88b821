/* wr2v-fake-server.h: a fake service for a test (one of the Python
 * servers in tests/, which share tests/fakelib.py) on a loopback port:
 * started, told what to do through POST /_control, asked what it saw
 * through GET /_stats, stopped.
 *
 * The server runs with its stdin a pipe: it exits when the test process
 * dies, however it dies. Its stderr (tracebacks for clients that hung
 * up, as stopped pipelines do) shows only with WANR2V_TEST_VERBOSE.
 * Every failure to talk to it aborts the test. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "wr2v-http.h"

G_BEGIN_DECLS typedef struct
{
  GSubprocess *proc;
  guint port;
  gchar *base;                  /* http://127.0.0.1:<port> */
  Wr2vHttp *http;               /* for the test's own requests to it */
} Wr2vFakeServer;

/* @script: a path relative to tests/ (or absolute); its arguments follow,
 * NULL-terminated. */
Wr2vFakeServer *
wr2v_fake_server_start (const gchar * script, ...)
    G_GNUC_NULL_TERMINATED;
     Wr2vFakeServer *wr2v_fake_server_startv (const gchar * script,
    const gchar * const *args);
     void wr2v_fake_server_stop (Wr2vFakeServer * s);

/* POST /_control with @json (or the printf-style @format). */
     void wr2v_fake_server_control (Wr2vFakeServer * s, const gchar * json);
     void wr2v_fake_server_controlf (Wr2vFakeServer * s, const gchar * format,
    ...) G_GNUC_PRINTF (2, 3);
     void wr2v_fake_server_controlv (Wr2vFakeServer * s, const gchar * format,
    va_list args) G_GNUC_PRINTF (2, 0);

/* GET @route (e.g. "/_stats") as JSON. Unref the node. */
     JsonNode *wr2v_fake_server_get_json (Wr2vFakeServer * s,
    const gchar * route);

/* What the server saw (GET /_stats). Unref the node. */
     JsonNode *wr2v_fake_server_stats (Wr2vFakeServer * s);

/* Requests to @route ("submit", "poll", ...). */
     gint64 wr2v_fake_server_count (Wr2vFakeServer * s, const gchar * route);

/* Every request the server recorded (the test's own routes excepted). */
     gint64 wr2v_fake_server_total_requests (Wr2vFakeServer * s);

/* The length of the stats' array @member ("deletes", ...). */
     guint wr2v_fake_server_array_len (Wr2vFakeServer * s,
    const gchar * member);

/* Whether the stats' string array @member holds @value. */
     gboolean wr2v_fake_server_list_has (Wr2vFakeServer * s,
    const gchar * member, const gchar * value);

/* The client port of the @n-th request to @route (from 0): requests on one
 * kept-alive connection share it. */
     gint64 wr2v_fake_server_peer_port (Wr2vFakeServer * s, const gchar * route,
    guint n);

/* The path (with its query) of the @n-th request to @route (from 0), or
 * NULL. Free it. */
     gchar *wr2v_fake_server_request_path (Wr2vFakeServer * s,
    const gchar * route, guint n);

/* Asserts that every request the server recorded carried the right key,
 * but those to the routes in @keyless (NULL-terminated), which carried
 * none. */
     void wr2v_fake_server_assert_key_routes (Wr2vFakeServer * s,
    const gchar * const *keyless);

/* The one job id the server knows: the only member of the stats' object
 * @member ("jobs", "tasks"). Free it. */
     gchar *wr2v_fake_server_only_job (Wr2vFakeServer * s,
    const gchar * member);

G_END_DECLS
