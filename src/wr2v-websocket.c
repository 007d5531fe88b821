/* wr2v-websocket.c: a websocket client over libsoup, see wr2v-websocket.h.
 *
 * libsoup does the protocol; this file keeps its sources on a private
 * GMainContext, pushed as the thread-default around every call into soup,
 * and iterated only by connect (until the upgrade is answered) and by read
 * (without waiting). */
#include "wr2v-websocket.h"
#include "wr2v-error.h"
#include "wr2v-http.h"
#include "wr2v-soup.h"

#include <string.h>

#include <gst/gst.h>

GST_DEBUG_CATEGORY_STATIC (wr2v_ws_debug);
#define GST_CAT_DEFAULT wr2v_ws_debug

/* iterations per call at most: a source that is always ready can't spin */
#define MAX_DISPATCH 64
/* our pings, while reading: idle connections through NATs and load
 * balancers stay up during long steps */
#define KEEPALIVE_S 30

/* libsoup, loaded by the first connect: every other function here serves
 * a connected Wr2vWebsocket */
static const Wr2vSoup *soup;

struct _Wr2vWebsocket
{
  GMainContext *ctx;
  SoupSession *session;
  SoupWebsocketConnection *conn;
  GSocket *socket;              /* the TCP socket under it, for free */
  GQueue messages;              /* GBytes: text messages not read yet */
  gsize queued;                 /* their bytes */
  guint64 taken;                /* bytes of messages received, all kinds */
  gchar *over;                  /* why it ended */

  /* while connecting */
  gboolean connecting, plain, loopback;
  GCancellable *cancel;         /* the caller's, the deadline, the policy */
  gboolean late, not_loopback;  /* why we cancelled it */
  GError *connect_error;
};

static void
debug_init (void)
{
  static gsize once;

  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (wr2v_ws_debug, "wanr2vwebsocket", 0,
        "wanr2v websocket client");
    g_once_init_leave (&once, 1);
  }
}

/* What is ready now, without waiting. */
static void
dispatch_pending (GMainContext * ctx)
{
  for (guint i = 0; i < MAX_DISPATCH && g_main_context_iteration (ctx, FALSE);
      i++);
}

/* A remote host while a proxy is configured: the HTTP client would go
 * through it, and a direct connection may be what the network forbids. */
static const gchar *
proxy_variable (void)
{
  static const gchar *names[] = { "https_proxy", "HTTPS_PROXY",
    "all_proxy", "ALL_PROXY", NULL
  };

  for (guint i = 0; names[i]; i++) {
    const gchar *v = g_getenv (names[i]);

    if (v && *v)
      return names[i];
  }
  return NULL;
}

static gboolean
has_control (const gchar * s)
{
  for (; s && *s; s++) {
    if ((guchar) * s <= 0x20 || *s == 0x7f)
      return TRUE;
  }
  return FALSE;
}

static void
forward_cancel (GCancellable * cancellable, gpointer data)
{
  g_cancellable_cancel (G_CANCELLABLE (data));
}

/* Only wakes the loop up: soup notices the cancellation by itself. */
static gboolean
on_cancelled (GCancellable * cancellable, gpointer data)
{
  return G_SOURCE_REMOVE;
}

static gboolean
on_deadline (gpointer data)
{
  Wr2vWebsocket *ws = data;

  ws->late = TRUE;
  g_cancellable_cancel (ws->cancel);
  return G_SOURCE_REMOVE;
}

/* "localhost" resolved elsewhere must not carry plain text away: checked
 * as soon as TCP is connected, before the upgrade request is sent. */
static void
on_network_event (SoupMessage * msg, GSocketClientEvent event,
    GIOStream * connection, gpointer data)
{
  Wr2vWebsocket *ws = data;
  GSocketAddress *remote;

  if (event != G_SOCKET_CLIENT_CONNECTED
      || !G_IS_SOCKET_CONNECTION (connection))
    return;
  g_set_object (&ws->socket,
      g_socket_connection_get_socket (G_SOCKET_CONNECTION (connection)));
  remote = g_socket_connection_get_remote_address (G_SOCKET_CONNECTION
      (connection), NULL);
  ws->loopback = G_IS_INET_SOCKET_ADDRESS (remote) &&
      g_inet_address_get_is_loopback (g_inet_socket_address_get_address
      (G_INET_SOCKET_ADDRESS (remote)));
  g_clear_object (&remote);
  if (ws->plain && !ws->loopback) {
    ws->not_loopback = TRUE;
    g_cancellable_cancel (ws->cancel);
  }
}

static void
on_connected (GObject * source, GAsyncResult * res, gpointer data)
{
  Wr2vWebsocket *ws = data;

  ws->conn =
      soup->soup_session_websocket_connect_finish ((SoupSession *) source, res,
      &ws->connect_error);
  ws->connecting = FALSE;
}

static void
on_message (SoupWebsocketConnection * conn, gint type, GBytes * message,
    gpointer data)
{
  Wr2vWebsocket *ws = data;
  gsize len = g_bytes_get_size (message);

  ws->taken += len;
  /* ComfyUI's previews */
  if (type != SOUP_WEBSOCKET_DATA_TEXT || ws->over)
    return;
  /* soup ends the bytes with a NUL that the size does not count */
  g_queue_push_tail (&ws->messages, g_bytes_ref (message));
  ws->queued += len;
  /* only the latest progress matters */
  while (ws->queued > WR2V_WEBSOCKET_MAX_QUEUED &&
      g_queue_get_length (&ws->messages) > 1) {
    GBytes *old = g_queue_pop_head (&ws->messages);

    ws->queued -= g_bytes_get_size (old);
    g_bytes_unref (old);
    GST_DEBUG ("websocket: a message dropped, too many waiting");
  }
}

static void
on_error (SoupWebsocketConnection * conn, GError * err, gpointer data)
{
  Wr2vWebsocket *ws = data;

  GST_DEBUG ("websocket error: %s", err->message);
  if (!ws->over)
    ws->over = g_strdup (err->message);
}

/* Over once closing, not only once "closed": that waits for the server. */
static void
check_open (Wr2vWebsocket * ws)
{
  gushort code;

  if (ws->over ||
      soup->soup_websocket_connection_get_state (ws->conn) ==
      SOUP_WEBSOCKET_STATE_OPEN)
    return;
  code = soup->soup_websocket_connection_get_close_code (ws->conn);
  if (code)
    ws->over = g_strdup_printf ("the server closed the websocket (code %u)",
        code);
  else
    ws->over = g_strdup ("the websocket connection was closed");
  GST_DEBUG ("%s", ws->over);
}

static void
on_closed (SoupWebsocketConnection * conn, gpointer data)
{
  check_open (data);
}

/* Why the opening failed, from what is known once it did. */
static void
connect_failed (Wr2vWebsocket * ws, const gchar * host, guint timeout_s,
    guint status, GCancellable * cancellable, GError ** error)
{
  GError *e = ws->connect_error;

  if (g_cancellable_is_cancelled (cancellable))
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
        "the websocket to %s was cancelled", host);
  else if (ws->not_loopback)
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "refusing a plain websocket to %s: it is not a loopback "
        "address", host);
  else if (ws->late)
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NETWORK,
        "the websocket to %s did not open within %u s", host, timeout_s);
  else if (g_error_matches (e, soup->soup_websocket_error_quark (),
          SOUP_WEBSOCKET_ERROR_NOT_WEBSOCKET) && status)
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "the server answered the websocket upgrade with HTTP %u", status);
  else if (e && e->domain == soup->soup_websocket_error_quark ())
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "the server's websocket upgrade is not valid: %s", e->message);
  else
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NETWORK,
        "the websocket to %s failed: %s", host,
        e ? e->message : "no connection");
}

Wr2vWebsocket *
wr2v_websocket_connect (const gchar * url, guint timeout_s,
    GCancellable * cancellable, GError ** error)
{
  g_autofree gchar *http_url = NULL, *plain_url = NULL;
  g_autoptr (GUri) uri = NULL;
  SoupMessage *msg;
  GSource *deadline, *wake;
  const gchar *host, *proxy, *lb, *rb;
  gulong cancel_id = 0;
  guint status;
  Wr2vWebsocket *ws;
  const Wr2vSoup *api;

  debug_init ();
  if (!(api = wr2v_soup (error)))
    return NULL;
  g_atomic_pointer_set (&soup, api);
  if (!url) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL, "no websocket URL");
    return NULL;
  }
  if (g_ascii_strncasecmp (url, "ws://", 5) == 0)
    http_url = g_strconcat ("http://", url + 5, NULL);
  else if (g_ascii_strncasecmp (url, "wss://", 6) == 0)
    http_url = g_strconcat ("https://", url + 6, NULL);
  else
    http_url = g_strdup (url);
  /* the HTTP client's policy: plain only to loopback */
  if (!wr2v_http_url_allowed (http_url, error))
    return NULL;
  uri = g_uri_parse (http_url, SOUP_HTTP_URI_FLAGS, NULL);
  if (!uri || !g_uri_get_host (uri) || !*g_uri_get_host (uri)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "not a usable websocket URL");
    return NULL;
  }
  host = g_uri_get_host (uri);
  /* what the policy says of the same host over plain http (an IPv6
   * literal goes in brackets) */
  lb = strchr (host, ':') ? "[" : "";
  rb = strchr (host, ':') ? "]" : "";
  plain_url = g_strdup_printf ("http://%s%s%s/", lb, host, rb);
  proxy = wr2v_http_url_allowed (plain_url, NULL) ? NULL : proxy_variable ();
  if (proxy) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "%s is set: no direct websocket connection to %s", proxy, host);
    return NULL;
  }
  /* they go into the request line as they are */
  if (has_control (g_uri_get_path (uri))
      || has_control (g_uri_get_query (uri))) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "the websocket URL's path has a space or control character");
    return NULL;
  }

  ws = g_new0 (Wr2vWebsocket, 1);
  g_queue_init (&ws->messages);
  ws->ctx = g_main_context_new ();
  ws->plain = g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") != 0;
  ws->cancel = g_cancellable_new ();
  if (cancellable)
    cancel_id = g_cancellable_connect (cancellable,
        G_CALLBACK (forward_cancel), ws->cancel, NULL);
  /* 0 would mean no limit at all */
  timeout_s = MAX (timeout_s, 1);

  g_main_context_push_thread_default (ws->ctx);
  /* no proxy-resolver: direct, see the header */
  ws->session = soup->soup_session_new_with_options ("timeout", timeout_s,
      "proxy-resolver", NULL, "user-agent", "gst-wanr2v", NULL);
  msg = soup->soup_message_new_from_uri ("GET", uri);
  /* a redirect would escape the URL policy */
  soup->soup_message_add_flags (msg, SOUP_MESSAGE_NO_REDIRECT);
  g_signal_connect (msg, "network-event", G_CALLBACK (on_network_event), ws);
  deadline = g_timeout_source_new (timeout_s * 1000);
  g_source_set_callback (deadline, on_deadline, ws, NULL);
  g_source_attach (deadline, ws->ctx);
  wake = g_cancellable_source_new (ws->cancel);
  g_source_set_callback (wake, G_SOURCE_FUNC (on_cancelled), NULL, NULL);
  g_source_attach (wake, ws->ctx);

  ws->connecting = TRUE;
  soup->soup_session_websocket_connect_async (ws->session, msg, NULL, NULL,
      G_PRIORITY_DEFAULT, ws->cancel, on_connected, ws);
  while (ws->connecting)
    g_main_context_iteration (ws->ctx, TRUE);

  g_source_destroy (deadline);
  g_source_unref (deadline);
  g_source_destroy (wake);
  g_source_unref (wake);
  g_signal_handlers_disconnect_by_data (msg, ws);
  status = soup->soup_message_get_status (msg);
  g_object_unref (msg);
  if (cancellable)
    g_cancellable_disconnect (cancellable, cancel_id);

  /* no address seen: it can't be known to be loopback */
  if (ws->conn && ws->plain && !ws->loopback)
    ws->not_loopback = TRUE;
  if (!ws->conn || ws->not_loopback || ws->late) {
    g_main_context_pop_thread_default (ws->ctx);
    connect_failed (ws, host, timeout_s, status, cancellable, error);
    wr2v_websocket_free (ws);
    return NULL;
  }
  g_clear_error (&ws->connect_error);
  g_clear_object (&ws->cancel);
  soup->soup_websocket_connection_set_max_incoming_payload_size (ws->conn,
      WR2V_WEBSOCKET_MAX_PAYLOAD);
  soup->soup_websocket_connection_set_keepalive_interval (ws->conn,
      KEEPALIVE_S);
  g_signal_connect (ws->conn, "message", G_CALLBACK (on_message), ws);
  g_signal_connect (ws->conn, "error", G_CALLBACK (on_error), ws);
  g_signal_connect (ws->conn, "closed", G_CALLBACK (on_closed), ws);
  g_main_context_pop_thread_default (ws->ctx);
  GST_DEBUG ("websocket to %s open (%s)", host, ws->plain ? "plain" : "TLS");
  return ws;
}

GBytes *
wr2v_websocket_read (Wr2vWebsocket * ws, gsize * budget, GError ** error)
{
  GBytes *msg;

  if (g_queue_is_empty (&ws->messages) && !ws->over && *budget > 0) {
    guint64 from = ws->taken;

    g_main_context_push_thread_default (ws->ctx);
    for (guint i = 0; i < MAX_DISPATCH && g_queue_is_empty (&ws->messages) &&
        !ws->over && ws->taken - from < *budget; i++) {
      if (!g_main_context_iteration (ws->ctx, FALSE))
        break;
    }
    check_open (ws);
    g_main_context_pop_thread_default (ws->ctx);
    *budget -= MIN (*budget, ws->taken - from);
  }
  msg = g_queue_pop_head (&ws->messages);
  if (msg) {
    ws->queued -= g_bytes_get_size (msg);
    return msg;
  }
  if (ws->over)
    g_set_error_literal (error, WR2V_ERROR, WR2V_ERROR_NETWORK, ws->over);
  return NULL;
}

void
wr2v_websocket_free (Wr2vWebsocket * ws)
{
  if (!ws)
    return;
  g_main_context_push_thread_default (ws->ctx);
  if (ws->conn) {
    g_signal_handlers_disconnect_by_data (ws->conn, ws);
    /* soup writes the close frame at once if the socket takes it; the
     * server's answer is not waited for */
    if (soup->soup_websocket_connection_get_state (ws->conn) ==
        SOUP_WEBSOCKET_STATE_OPEN)
      soup->soup_websocket_connection_close (ws->conn,
          SOUP_WEBSOCKET_CLOSE_NORMAL, NULL);
    dispatch_pending (ws->ctx);
  }
  /* the socket first, so that TLS's close_notify can't wait; then the
   * stream, so that soup's own close of it completes without a thread */
  if (ws->socket)
    g_socket_close (ws->socket, NULL);
  if (ws->conn)
    g_io_stream_close (soup->soup_websocket_connection_get_io_stream (ws->conn),
        NULL, NULL);
  g_clear_object (&ws->conn);
  g_clear_object (&ws->session);
  /* the callbacks of those closes: nothing stays behind */
  dispatch_pending (ws->ctx);
  g_main_context_pop_thread_default (ws->ctx);
  g_main_context_unref (ws->ctx);
  g_clear_object (&ws->socket);
  g_clear_object (&ws->cancel);
  g_clear_error (&ws->connect_error);
  g_queue_clear_full (&ws->messages, (GDestroyNotify) g_bytes_unref);
  g_free (ws->over);
  g_free (ws);
}
