/* wr2v-websocket.h: a websocket client (libsoup) for listening to a
 * server: ComfyUI's progress messages.
 *
 * Made for a thread that polls anyway: it adds no thread and no main loop.
 * Each Wr2vWebsocket has a GMainContext of its own that runs only inside
 * these calls: connecting waits for the server's answer (bounded by a
 * timeout and the caller's GCancellable), reading never waits. One thread
 * at a time may use it, not always the same one.
 *
 * The URL policy is the HTTP client's (wr2v_http_url_allowed()): ws:// (or
 * http://) only to a loopback host, also as resolved; wss:// (or https://)
 * anywhere, with GIO's TLS and its certificate checks. No redirect is
 * followed. Connections are direct (no GProxyResolver): a remote host is
 * not reached while a proxy is configured in the environment.
 *
 * What comes in: text messages are handed out, binary ones (ComfyUI's
 * preview images) are dropped. libsoup answers pings, sends its own while
 * reading, and ends the connection on a frame larger than
 * WR2V_WEBSOCKET_MAX_PAYLOAD or anything RFC 6455 forbids a server to send
 * (a masked frame, reserved bits or opcodes, bad UTF-8).
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS
/* per frame: ComfyUI's previews take a few MiB */
#define WR2V_WEBSOCKET_MAX_PAYLOAD (16 * 1024 * 1024)
/* text messages waiting to be read; beyond, the oldest are dropped */
#define WR2V_WEBSOCKET_MAX_QUEUED (4 * 1024 * 1024)
typedef struct _Wr2vWebsocket Wr2vWebsocket;

/* Connects to @url and waits for the server to accept the upgrade, so that
 * the server knows the client before anything else is sent to it.
 * @timeout_s bounds the whole opening (connect, TLS handshake, upgrade).
 * NULL with @error when the URL or the upgrade is refused
 * (WR2V_ERROR_PROTOCOL), a proxy is configured (WR2V_ERROR_UNSUPPORTED), the
 * connection fails (WR2V_ERROR_NETWORK) or @cancellable is cancelled
 * (G_IO_ERROR_CANCELLED). */
Wr2vWebsocket *wr2v_websocket_connect (const gchar * url, guint timeout_s,
    GCancellable * cancellable, GError ** error);

/* The next text message, without waiting: its bytes (followed by a NUL
 * that the size does not count), or NULL when none has arrived. Takes in
 * about *@budget more bytes of messages, text or binary, at most
 * (decremented). NULL with @error (WR2V_ERROR_NETWORK) once the messages
 * that came before are read and the connection is over (closed, broken,
 * or a protocol error): free it then. */
GBytes *wr2v_websocket_read (Wr2vWebsocket * ws, gsize * budget,
    GError ** error);

/* Sends a close frame if it can without waiting, and closes. */
void wr2v_websocket_free (Wr2vWebsocket * ws);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Wr2vWebsocket, wr2v_websocket_free);

G_END_DECLS
