/* wr2v-websocket.h: a minimal RFC 6455 websocket client over GIO.
 *
 * Made for listening to a server (ComfyUI's progress messages) from a
 * thread that polls anyway: it has no thread and no main loop of its own,
 * and reading never waits. Connecting and the few writes (the upgrade
 * request, pongs) are bounded by a timeout and the caller's GCancellable.
 *
 * The URL policy is the HTTP client's (wr2v_http_url_allowed()): ws:// (or
 * http://) only to a loopback host, wss:// (or https://) anywhere, with
 * GIO's TLS and its certificate checks. Connections are direct: a remote
 * host is not reached while a proxy is configured in the environment.
 *
 * What comes in: text messages are handed out (fragmented ones
 * reassembled), binary messages are skipped without being kept, pings are
 * answered, a close ends the connection. A text message larger than
 * WR2V_WEBSOCKET_MAX_MESSAGE, a binary frame larger than
 * WR2V_WEBSOCKET_MAX_SKIP, or anything RFC 6455 forbids a server to send
 * (a masked frame, reserved bits or opcodes, bad UTF-8) ends it too.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define WR2V_WEBSOCKET_MAX_MESSAGE (1024 * 1024)
#define WR2V_WEBSOCKET_MAX_SKIP (64 * 1024 * 1024)

typedef struct _Wr2vWebsocket Wr2vWebsocket;

/* Connects to @url and sends the upgrade request; the server's answer is
 * read (and checked) by the first wr2v_websocket_read() calls, so that
 * opening costs no round trip. @timeout_s bounds the connect, the TLS
 * handshake and each write; the answer must come within a few times that.
 * NULL with @error when the URL is refused or the connection fails. */
Wr2vWebsocket *wr2v_websocket_connect (const gchar * url, guint timeout_s,
    GCancellable * cancellable, GError ** error);

/* The next text message, without waiting: its bytes (followed by a NUL
 * that the size does not count), or NULL when no whole message has
 * arrived yet. Reads at most *@budget more bytes from the network
 * (decremented). NULL with @error when the connection is over (closed,
 * broken, refused, or a protocol error): free it then. */
GBytes *wr2v_websocket_read (Wr2vWebsocket * ws, gsize * budget,
    GError ** error);

/* Sends a close frame if it can without waiting, and closes. */
void wr2v_websocket_free (Wr2vWebsocket * ws);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Wr2vWebsocket, wr2v_websocket_free);

/* --- the pure parts, also run by the fuzzer --- */

/* Sec-WebSocket-Accept for @key: base64 (SHA-1 (key + RFC GUID)). */
gchar *wr2v_websocket_accept_for (const gchar * key);

/* Checks the server's answer to the upgrade request: @head is the status
 * line and the headers, up to and including the empty line. */
gboolean wr2v_websocket_check_answer (const gchar * head, gsize len,
    const gchar * key, GError ** error);

/* A client frame: FIN set, masked with @mask. */
GBytes *wr2v_websocket_frame (guint8 opcode, const guint8 * payload,
    gsize len, guint32 mask);

typedef enum
{
  WR2V_WEBSOCKET_EVENT_NONE,    /* more bytes are needed */
  WR2V_WEBSOCKET_EVENT_TEXT,    /* a whole text message */
  WR2V_WEBSOCKET_EVENT_PING,    /* to be answered with this payload */
  WR2V_WEBSOCKET_EVENT_CLOSE,   /* payload: the status code and reason */
  WR2V_WEBSOCKET_EVENT_ERROR,   /* a protocol error; sticky */
} Wr2vWebsocketEvent;

#define WR2V_WEBSOCKET_OP_CONTINUATION 0x0
#define WR2V_WEBSOCKET_OP_TEXT 0x1
#define WR2V_WEBSOCKET_OP_BINARY 0x2
#define WR2V_WEBSOCKET_OP_CLOSE 0x8
#define WR2V_WEBSOCKET_OP_PING 0x9
#define WR2V_WEBSOCKET_OP_PONG 0xa

/* The frames of a server's byte stream, turned into events. */
typedef struct _Wr2vWebsocketReader Wr2vWebsocketReader;

Wr2vWebsocketReader *wr2v_websocket_reader_new (gsize max_message,
    guint64 max_skip);
void wr2v_websocket_reader_free (Wr2vWebsocketReader * r);
void wr2v_websocket_reader_push (Wr2vWebsocketReader * r,
    const guint8 * data, gsize len);
/* The next event; TEXT, PING and CLOSE give their payload in @payload
 * (NUL-terminated, the NUL not counted), ERROR gives @error. */
Wr2vWebsocketEvent wr2v_websocket_reader_next (Wr2vWebsocketReader * r,
    GBytes ** payload, GError ** error);
/* Bytes held: the unread input and a text message being reassembled. */
gsize wr2v_websocket_reader_held (Wr2vWebsocketReader * r);

G_END_DECLS
