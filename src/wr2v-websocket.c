/* wr2v-websocket.c: a minimal RFC 6455 websocket client over GIO, see
 * wr2v-websocket.h. */
#include "wr2v-websocket.h"
#include "wr2v-error.h"
#include "wr2v-http.h"

#include <string.h>

#include <gst/gst.h>

GST_DEBUG_CATEGORY_STATIC (wr2v_ws_debug);
#define GST_CAT_DEFAULT wr2v_ws_debug

/* RFC 6455, 1.3 */
#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
/* the status line and headers of the upgrade answer */
#define MAX_ANSWER_HEAD (16 * 1024)
#define READ_CHUNK (64 * 1024)
/* a close frame's status: normal closure, protocol error */
#define CLOSE_NORMAL 1000
#define CLOSE_PROTOCOL 1002

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

/* @len bytes of @data with a NUL after them that the size does not count:
 * the JSON parser and the fuzzer's string checks want one. */
static GBytes *
bytes_with_nul (const guint8 * data, gsize len)
{
  guint8 *copy = g_malloc (len + 1);

  if (len)
    memcpy (copy, data, len);
  copy[len] = 0;
  return g_bytes_new_take (copy, len);
}

/* --- the handshake --- */

gchar *
wr2v_websocket_accept_for (const gchar * key)
{
  GChecksum *sha1 = g_checksum_new (G_CHECKSUM_SHA1);
  guint8 digest[20];
  gsize len = sizeof digest;
  gchar *accept;

  g_checksum_update (sha1, (const guchar *) key, strlen (key));
  g_checksum_update (sha1, (const guchar *) WS_GUID, strlen (WS_GUID));
  g_checksum_get_digest (sha1, digest, &len);
  g_checksum_free (sha1);
  accept = g_base64_encode (digest, len);
  return accept;
}

/* Whether the comma-separated @list holds @token (any case). */
static gboolean
has_token (const gchar * list, const gchar * token)
{
  gchar **parts = g_strsplit (list, ",", -1);
  gboolean found = FALSE;

  for (guint i = 0; parts[i] && !found; i++)
    found = g_ascii_strcasecmp (g_strstrip (parts[i]), token) == 0;
  g_strfreev (parts);
  return found;
}

gboolean
wr2v_websocket_check_answer (const gchar * head, gsize len,
    const gchar * key, GError ** error)
{
  gchar *text = g_strndup (head, len);
  gchar **lines = g_strsplit (text, "\r\n", -1);
  gchar *accept = wr2v_websocket_accept_for (key);
  gboolean upgrade = FALSE, connection = FALSE, accepted = FALSE;
  const gchar *why = NULL;
  guint status = 0;
  gboolean ok = FALSE;

  if (g_str_has_prefix (lines[0], "HTTP/1.") &&
      g_ascii_isdigit (lines[0][7]) && lines[0][8] == ' ' &&
      g_ascii_isdigit (lines[0][9]) && g_ascii_isdigit (lines[0][10]) &&
      g_ascii_isdigit (lines[0][11]))
    status = (lines[0][9] - '0') * 100 + (lines[0][10] - '0') * 10 +
        (lines[0][11] - '0');
  if (status == 0) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "the answer to the websocket upgrade is not HTTP");
    goto out;
  }
  if (status != 101) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "the server answered the websocket upgrade with HTTP %u", status);
    goto out;
  }
  for (guint i = 1; lines[i] && *lines[i]; i++) {
    gchar *colon = strchr (lines[i], ':');
    const gchar *name, *value;

    if (!colon)
      continue;
    *colon = '\0';
    name = g_strstrip (lines[i]);
    value = g_strstrip (colon + 1);
    if (g_ascii_strcasecmp (name, "Upgrade") == 0)
      upgrade = g_ascii_strcasecmp (value, "websocket") == 0;
    else if (g_ascii_strcasecmp (name, "Connection") == 0)
      connection = has_token (value, "upgrade");
    else if (g_ascii_strcasecmp (name, "Sec-WebSocket-Accept") == 0)
      accepted = strcmp (value, accept) == 0;
    /* none was offered: frames would not mean what they say */
    else if (g_ascii_strcasecmp (name, "Sec-WebSocket-Extensions") == 0 ||
        g_ascii_strcasecmp (name, "Sec-WebSocket-Protocol") == 0)
      why = "it chose an extension or subprotocol that was not offered";
  }
  if (!why && !upgrade)
    why = "no \"Upgrade: websocket\"";
  if (!why && !connection)
    why = "no \"Connection: Upgrade\"";
  if (!why && !accepted)
    why = "its Sec-WebSocket-Accept does not match the key";
  if (why) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "the server's websocket upgrade is not valid: %s", why);
    goto out;
  }
  ok = TRUE;
out:
  g_free (accept);
  g_strfreev (lines);
  g_free (text);
  return ok;
}

/* --- frames --- */

GBytes *
wr2v_websocket_frame (guint8 opcode, const guint8 * payload, gsize len,
    guint32 mask)
{
  GByteArray *f = g_byte_array_sized_new (len + 14);
  guint8 head[14];
  guint8 m[4] = { mask >> 24, mask >> 16, mask >> 8, mask };
  gsize n = 0;

  head[n++] = 0x80 | (opcode & 0x0f);
  /* client frames are always masked (RFC 6455, 5.3) */
  if (len < 126) {
    head[n++] = 0x80 | len;
  } else if (len <= G_MAXUINT16) {
    head[n++] = 0x80 | 126;
    head[n++] = len >> 8;
    head[n++] = len;
  } else {
    head[n++] = 0x80 | 127;
    for (gint i = 7; i >= 0; i--)
      head[n++] = (guint64) len >> (8 * i);
  }
  memcpy (head + n, m, 4);
  n += 4;
  g_byte_array_append (f, head, n);
  g_byte_array_set_size (f, n + len);
  for (gsize i = 0; i < len; i++)
    f->data[n + i] = payload[i] ^ m[i % 4];
  return g_byte_array_free_to_bytes (f);
}

struct _Wr2vWebsocketReader
{
  GByteArray *in;
  gsize pos;                    /* read up to here */
  GByteArray *msg;              /* a fragmented text message so far */
  gboolean in_text, in_binary;  /* inside a fragmented message */
  guint64 skip;                 /* bytes of a binary frame still to drop */
  gsize max_message;
  guint64 max_skip;
  gchar *failed;                /* why the stream is unusable, for good */
};

Wr2vWebsocketReader *
wr2v_websocket_reader_new (gsize max_message, guint64 max_skip)
{
  Wr2vWebsocketReader *r = g_new0 (Wr2vWebsocketReader, 1);

  r->in = g_byte_array_new ();
  r->msg = g_byte_array_new ();
  r->max_message = max_message;
  r->max_skip = max_skip;
  return r;
}

void
wr2v_websocket_reader_free (Wr2vWebsocketReader * r)
{
  if (!r)
    return;
  g_byte_array_unref (r->in);
  g_byte_array_unref (r->msg);
  g_free (r->failed);
  g_free (r);
}

void
wr2v_websocket_reader_push (Wr2vWebsocketReader * r, const guint8 * data,
    gsize len)
{
  if (!r->failed && len)
    g_byte_array_append (r->in, data, len);
}

gsize
wr2v_websocket_reader_held (Wr2vWebsocketReader * r)
{
  return r->in->len - r->pos + r->msg->len;
}

static Wr2vWebsocketEvent
reader_fail (Wr2vWebsocketReader * r, GError ** error, const gchar * why)
{
  if (!r->failed)
    r->failed = g_strdup (why);
  g_byte_array_set_size (r->in, 0);
  g_byte_array_set_size (r->msg, 0);
  r->pos = 0;
  g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
      "websocket: %s", r->failed);
  return WR2V_WEBSOCKET_EVENT_ERROR;
}

/* Drops what was read, so that the buffer holds one frame at most. */
static Wr2vWebsocketEvent
reader_need_more (Wr2vWebsocketReader * r)
{
  g_byte_array_remove_range (r->in, 0, r->pos);
  r->pos = 0;
  return WR2V_WEBSOCKET_EVENT_NONE;
}

Wr2vWebsocketEvent
wr2v_websocket_reader_next (Wr2vWebsocketReader * r, GBytes ** payload,
    GError ** error)
{
  *payload = NULL;
  if (r->failed)
    return reader_fail (r, error, r->failed);

  for (;;) {
    const guint8 *p;
    gsize avail = r->in->len - r->pos, hlen = 2;
    guint64 plen;
    guint8 op;
    gboolean fin, binary;

    if (r->skip) {
      gsize n = MIN (r->skip, avail);

      r->pos += n;
      r->skip -= n;
      if (r->skip)
        return reader_need_more (r);
      continue;
    }
    if (avail < 2)
      return reader_need_more (r);
    /* not before: an empty array's data may be NULL */
    p = r->in->data + r->pos;
    fin = (p[0] & 0x80) != 0;
    op = p[0] & 0x0f;
    if (p[0] & 0x70)
      return reader_fail (r, error, "a frame with reserved bits set");
    if (p[1] & 0x80)
      return reader_fail (r, error, "the server masked a frame");
    plen = p[1] & 0x7f;
    if (plen == 126)
      hlen = 4;
    else if (plen == 127)
      hlen = 10;
    if (avail < hlen)
      return reader_need_more (r);
    if (plen == 126) {
      plen = ((guint64) p[2] << 8) | p[3];
    } else if (plen == 127) {
      plen = 0;
      for (guint i = 2; i < 10; i++)
        plen = (plen << 8) | p[i];
      if (plen >> 63)
        return reader_fail (r, error, "a frame length with its top bit set");
    }

    if (op & 0x08) {
      if (op != WR2V_WEBSOCKET_OP_CLOSE && op != WR2V_WEBSOCKET_OP_PING &&
          op != WR2V_WEBSOCKET_OP_PONG)
        return reader_fail (r, error, "a reserved control opcode");
      if (!fin || plen > 125)
        return reader_fail (r, error, "a fragmented or long control frame");
    } else if (op == WR2V_WEBSOCKET_OP_TEXT || op == WR2V_WEBSOCKET_OP_BINARY) {
      if (r->in_text || r->in_binary)
        return reader_fail (r, error, "a message began inside another");
    } else if (op == WR2V_WEBSOCKET_OP_CONTINUATION) {
      if (!r->in_text && !r->in_binary)
        return reader_fail (r, error, "a continuation without a message");
    } else {
      return reader_fail (r, error, "a reserved data opcode");
    }

    /* binary messages (ComfyUI's previews) are dropped as they come */
    binary = op == WR2V_WEBSOCKET_OP_BINARY ||
        (op == WR2V_WEBSOCKET_OP_CONTINUATION && r->in_binary);
    if (binary) {
      if (plen > r->max_skip)
        return reader_fail (r, error, "a binary frame larger than accepted");
      r->pos += hlen;
      r->skip = plen;
      r->in_binary = !fin;
      continue;
    }
    if (!(op & 0x08) && plen > r->max_message - r->msg->len)
      return reader_fail (r, error, "a text message larger than accepted");
    if (avail - hlen < plen)
      return reader_need_more (r);
    p += hlen;
    r->pos += hlen + plen;

    switch (op) {
      case WR2V_WEBSOCKET_OP_PONG:
        continue;
      case WR2V_WEBSOCKET_OP_PING:
        *payload = bytes_with_nul (p, plen);
        return WR2V_WEBSOCKET_EVENT_PING;
      case WR2V_WEBSOCKET_OP_CLOSE:
        if (plen == 1)
          return reader_fail (r, error, "a close frame of one byte");
        *payload = bytes_with_nul (p, plen);
        /* nothing may follow a close */
        r->failed = g_strdup ("the server closed the connection");
        g_byte_array_set_size (r->in, 0);
        r->pos = 0;
        return WR2V_WEBSOCKET_EVENT_CLOSE;
      default:
        g_byte_array_append (r->msg, p, plen);
        r->in_text = !fin;
        if (fin) {
          if (!g_utf8_validate_len ((const gchar *) r->msg->data,
                  r->msg->len, NULL))
            return reader_fail (r, error, "a text message that is not "
                "UTF-8");
          *payload = bytes_with_nul (r->msg->data, r->msg->len);
          g_byte_array_set_size (r->msg, 0);
          return WR2V_WEBSOCKET_EVENT_TEXT;
        }
        continue;
    }
  }
}

/* --- the connection --- */

struct _Wr2vWebsocket
{
  GIOStream *conn;
  GPollableInputStream *in;
  GOutputStream *out;
  GCancellable *cancellable;
  gchar *key;
  /* the upgrade answer, until it is whole */
  GByteArray *head;
  gint64 answer_deadline;
  gboolean open;
  Wr2vWebsocketReader *reader;
  gchar *over;                  /* why it ended */
};

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
is_loopback_connection (GIOStream * conn)
{
  GSocketAddress *remote = NULL;
  gboolean ret = FALSE;

  if (G_IS_SOCKET_CONNECTION (conn))
    remote = g_socket_connection_get_remote_address (G_SOCKET_CONNECTION
        (conn), NULL);
  if (G_IS_INET_SOCKET_ADDRESS (remote))
    ret = g_inet_address_get_is_loopback (g_inet_socket_address_get_address
        (G_INET_SOCKET_ADDRESS (remote)));
  g_clear_object (&remote);
  return ret;
}

static gchar *
new_key (void)
{
  guint32 r[4];

  for (guint i = 0; i < G_N_ELEMENTS (r); i++)
    r[i] = g_random_int ();
  return g_base64_encode ((const guchar *) r, sizeof r);
}

Wr2vWebsocket *
wr2v_websocket_connect (const gchar * url, guint timeout_s,
    GCancellable * cancellable, GError ** error)
{
  g_autofree gchar *http_url = NULL, *plain_url = NULL, *request = NULL;
  g_autofree gchar *host_header = NULL, *target = NULL;
  g_autoptr (GUri) uri = NULL;
  g_autoptr (GSocketClient) client = NULL;
  g_autoptr (GSocketConnectable) addr = NULL;
  GSocketConnection *conn;
  const gchar *host, *query, *path, *proxy, *lb, *rb;
  gboolean tls, loopback;
  gint port;
  Wr2vWebsocket *ws;

  debug_init ();
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
  uri = g_uri_parse (http_url, G_URI_FLAGS_ENCODED_PATH |
      G_URI_FLAGS_ENCODED_QUERY, NULL);
  if (!uri || !g_uri_get_host (uri) || !*g_uri_get_host (uri)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "not a usable websocket URL");
    return NULL;
  }
  tls = g_ascii_strcasecmp (g_uri_get_scheme (uri), "https") == 0;
  host = g_uri_get_host (uri);
  port = g_uri_get_port (uri) > 0 ? g_uri_get_port (uri) : (tls ? 443 : 80);
  /* what the policy says of the same host over plain http (an IPv6
   * literal goes in brackets) */
  lb = strchr (host, ':') ? "[" : "";
  rb = strchr (host, ':') ? "]" : "";
  plain_url = g_strdup_printf ("http://%s%s%s/", lb, host, rb);
  loopback = wr2v_http_url_allowed (plain_url, NULL);
  proxy = loopback ? NULL : proxy_variable ();
  if (proxy) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "%s is set: no direct websocket connection to %s", proxy, host);
    return NULL;
  }

  path = g_uri_get_path (uri);
  query = g_uri_get_query (uri);
  target = g_strdup_printf ("%s%s%s", path && *path ? path : "/",
      query ? "?" : "", query ? query : "");
  /* it goes into the request line as it is */
  for (const gchar * c = target; *c; c++) {
    if ((guchar) * c <= 0x20 || *c == 0x7f) {
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
          "the websocket URL's path has a space or control character");
      return NULL;
    }
  }
  /* the port as the URL gave it */
  if (g_uri_get_port (uri) > 0)
    host_header = g_strdup_printf ("%s%s%s:%d", lb, host, rb, port);
  else
    host_header = g_strdup_printf ("%s%s%s", lb, host, rb);

  client = g_socket_client_new ();
  g_socket_client_set_enable_proxy (client, FALSE);
  /* 0 would mean no limit at all */
  timeout_s = MAX (timeout_s, 1);
  g_socket_client_set_timeout (client, timeout_s);
  g_socket_client_set_tls (client, tls);
  addr = g_network_address_new (host, port);
  conn = g_socket_client_connect (client, addr, cancellable, error);
  if (!conn)
    return NULL;

  ws = g_new0 (Wr2vWebsocket, 1);
  ws->conn = G_IO_STREAM (conn);
  ws->out = g_io_stream_get_output_stream (ws->conn);
  ws->cancellable = cancellable ? g_object_ref (cancellable) : NULL;
  ws->head = g_byte_array_new ();
  ws->reader = wr2v_websocket_reader_new (WR2V_WEBSOCKET_MAX_MESSAGE,
      WR2V_WEBSOCKET_MAX_SKIP);
  ws->key = new_key ();
  ws->answer_deadline = g_get_monotonic_time () +
      (gint64) timeout_s *3 * G_USEC_PER_SEC;
  {
    GInputStream *in = g_io_stream_get_input_stream (ws->conn);

    if (!G_IS_POLLABLE_INPUT_STREAM (in) ||
        !g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (in))) {
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
          "this connection can't be read without waiting");
      wr2v_websocket_free (ws);
      return NULL;
    }
    ws->in = G_POLLABLE_INPUT_STREAM (in);
  }
  /* "localhost" resolved elsewhere must not carry plain text away */
  if (!tls && !is_loopback_connection (ws->conn)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "refusing a plain websocket to %s: it is not a loopback address", host);
    wr2v_websocket_free (ws);
    return NULL;
  }

  request = g_strdup_printf ("GET %s HTTP/1.1\r\n"
      "Host: %s\r\n"
      "Upgrade: websocket\r\n"
      "Connection: Upgrade\r\n"
      "Sec-WebSocket-Key: %s\r\n"
      "Sec-WebSocket-Version: 13\r\n"
      "User-Agent: gst-wanr2v\r\n\r\n", target, host_header, ws->key);
  if (!g_output_stream_write_all (ws->out, request, strlen (request), NULL,
          cancellable, error)) {
    wr2v_websocket_free (ws);
    return NULL;
  }
  GST_DEBUG ("websocket to %s:%d (%s) requested", host, port,
      tls ? "TLS" : "plain");
  return ws;
}

static gboolean
ws_over (Wr2vWebsocket * ws, GError ** error, const gchar * why)
{
  if (!ws->over)
    ws->over = g_strdup (why);
  g_set_error_literal (error, WR2V_ERROR, WR2V_ERROR_NETWORK, ws->over);
  return FALSE;
}

static gboolean
send_frame (Wr2vWebsocket * ws, guint8 opcode, const guint8 * payload,
    gsize len, GError ** error)
{
  GBytes *frame = wr2v_websocket_frame (opcode, payload, len,
      g_random_int ());
  gsize size;
  gconstpointer data = g_bytes_get_data (frame, &size);
  gboolean ok;

  /* small: bounded by the socket's timeout and the job's cancellable */
  ok = g_output_stream_write_all (ws->out, data, size, NULL, ws->cancellable,
      error);
  g_bytes_unref (frame);
  return ok;
}

/* The upgrade answer, from the bytes in ws->head: TRUE once it is whole
 * and right, the bytes after it handed to the frame reader. */
static gboolean
take_answer (Wr2vWebsocket * ws, gsize from, GError ** error)
{
  const guint8 *d = ws->head->data;
  gsize i, end = 0;

  for (i = from >= 3 ? from - 3 : 0; i + 4 <= ws->head->len; i++) {
    if (d[i] == '\r' && d[i + 1] == '\n' && d[i + 2] == '\r' &&
        d[i + 3] == '\n') {
      end = i + 4;
      break;
    }
  }
  if (!end) {
    if (ws->head->len > MAX_ANSWER_HEAD)
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
          "the answer to the websocket upgrade is too long");
    return FALSE;
  }
  if (!wr2v_websocket_check_answer ((const gchar *) d, end, ws->key, error))
    return FALSE;
  wr2v_websocket_reader_push (ws->reader, d + end, ws->head->len - end);
  g_byte_array_set_size (ws->head, 0);
  ws->open = TRUE;
  GST_DEBUG ("websocket open");
  return TRUE;
}

GBytes *
wr2v_websocket_read (Wr2vWebsocket * ws, gsize * budget, GError ** error)
{
  guint8 chunk[READ_CHUNK];

  if (ws->over) {
    ws_over (ws, error, ws->over);
    return NULL;
  }
  for (;;) {
    GError *local = NULL;
    gssize n;

    if (ws->open) {
      GBytes *payload = NULL;
      Wr2vWebsocketEvent ev = wr2v_websocket_reader_next (ws->reader,
          &payload, &local);

      switch (ev) {
        case WR2V_WEBSOCKET_EVENT_TEXT:
          return payload;
        case WR2V_WEBSOCKET_EVENT_PING:{
          gsize len;
          const guint8 *d = g_bytes_get_data (payload, &len);
          gboolean sent = send_frame (ws, WR2V_WEBSOCKET_OP_PONG, d, len,
              &local);

          g_bytes_unref (payload);
          if (!sent) {
            gchar *why = g_strdup_printf ("the pong could not be sent: %s",
                local->message);

            ws_over (ws, error, why);
            g_free (why);
            g_error_free (local);
            return NULL;
          }
          continue;
        }
        case WR2V_WEBSOCKET_EVENT_CLOSE:{
          gsize len;
          const guint8 *d = g_bytes_get_data (payload, &len);
          guint code = len >= 2 ? (d[0] << 8) | d[1] : 1005;
          gchar *why;

          /* echo it, as RFC 6455 wants; then the server closes TCP */
          send_frame (ws, WR2V_WEBSOCKET_OP_CLOSE, d, MIN (len, 2), NULL);
          g_bytes_unref (payload);
          why = g_strdup_printf ("the server closed the websocket (code %u)",
              code);
          ws_over (ws, error, why);
          g_free (why);
          ws->open = FALSE;
          return NULL;
        }
        case WR2V_WEBSOCKET_EVENT_ERROR:{
          guint8 code[2] = { CLOSE_PROTOCOL >> 8, CLOSE_PROTOCOL & 0xff };

          send_frame (ws, WR2V_WEBSOCKET_OP_CLOSE, code, 2, NULL);
          ws->open = FALSE;
          ws_over (ws, error, local->message);
          g_error_free (local);
          return NULL;
        }
        case WR2V_WEBSOCKET_EVENT_NONE:
          break;
      }
    }

    if (*budget == 0)
      return NULL;
    n = g_pollable_input_stream_read_nonblocking (ws->in, chunk,
        MIN (sizeof chunk, *budget), ws->cancellable, &local);
    if (n < 0 && g_error_matches (local, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK)) {
      g_error_free (local);
      if (!ws->open && g_get_monotonic_time () > ws->answer_deadline)
        ws_over (ws, error, "the server did not answer the websocket "
            "upgrade");
      return NULL;
    }
    if (n < 0) {
      ws_over (ws, error, local->message);
      g_error_free (local);
      return NULL;
    }
    if (n == 0) {
      ws_over (ws, error, "the server closed the connection");
      ws->open = FALSE;
      return NULL;
    }
    *budget -= n;
    if (ws->open) {
      wr2v_websocket_reader_push (ws->reader, chunk, n);
    } else {
      gsize from = ws->head->len;

      g_byte_array_append (ws->head, chunk, n);
      if (!take_answer (ws, from, &local)) {
        if (local) {
          ws_over (ws, error, local->message);
          g_error_free (local);
          return NULL;
        }
      }
    }
  }
}

void
wr2v_websocket_free (Wr2vWebsocket * ws)
{
  if (!ws)
    return;
  if (ws->open && !ws->over &&
      G_IS_POLLABLE_OUTPUT_STREAM (ws->out) &&
      g_pollable_output_stream_can_poll (G_POLLABLE_OUTPUT_STREAM (ws->out))) {
    guint8 code[2] = { CLOSE_NORMAL >> 8, CLOSE_NORMAL & 0xff };
    GBytes *frame = wr2v_websocket_frame (WR2V_WEBSOCKET_OP_CLOSE, code, 2,
        g_random_int ());
    gsize size;
    gconstpointer data = g_bytes_get_data (frame, &size);

    /* a goodbye if it fits now; the job ends either way */
    g_pollable_output_stream_write_nonblocking (G_POLLABLE_OUTPUT_STREAM
        (ws->out), data, size, NULL, NULL);
    g_bytes_unref (frame);
  }
  if (ws->conn) {
    /* the socket first, so that TLS's close_notify can't wait */
    if (G_IS_SOCKET_CONNECTION (ws->conn))
      g_socket_close (g_socket_connection_get_socket (G_SOCKET_CONNECTION
              (ws->conn)), NULL);
    g_io_stream_close (ws->conn, NULL, NULL);
    g_object_unref (ws->conn);
  }
  g_clear_object (&ws->cancellable);
  wr2v_websocket_reader_free (ws->reader);
  if (ws->head)
    g_byte_array_unref (ws->head);
  g_free (ws->key);
  g_free (ws->over);
  g_free (ws);
}
