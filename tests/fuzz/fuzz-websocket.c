/* fuzz-websocket.c: what a websocket server sends (ComfyUI's /ws),
 * through the frame reader, fed in pieces as reads split it (the first
 * byte picks the piece size); the same bytes as the answer to the upgrade
 * request; and as the payload of a client frame, which must unmask back
 * to them. */
#include "fuzz-common.h"
#include "wr2v-websocket.h"

/* small caps, so that inputs reach them */
#define MAX_MESSAGE 4096
#define MAX_SKIP 65536
#define KEY "dGhlIHNhbXBsZSBub25jZQ=="

static void
check_event (Wr2vWebsocketEvent ev, GBytes * payload)
{
  gsize len = 0;
  const gchar *d = payload ? g_bytes_get_data (payload, &len) : NULL;

  switch (ev) {
    case WR2V_WEBSOCKET_EVENT_TEXT:
      g_assert (len <= MAX_MESSAGE);
      g_assert (g_utf8_validate_len (d, len, NULL));
      g_assert (d[len] == '\0');
      break;
    case WR2V_WEBSOCKET_EVENT_PING:
      g_assert (len <= 125 && d[len] == '\0');
      break;
    case WR2V_WEBSOCKET_EVENT_CLOSE:
      g_assert (len <= 125 && len != 1);
      break;
    default:
      g_assert (payload == NULL);
      break;
  }
}

static void
read_stream (const uint8_t * data, size_t size)
{
  Wr2vWebsocketReader *r = wr2v_websocket_reader_new (MAX_MESSAGE, MAX_SKIP);
  gsize piece = 1 + (gsize) data[0] * 37;
  gboolean over = FALSE;

  for (gsize off = 1; off < size && !over; off += piece) {
    wr2v_websocket_reader_push (r, data + off, MIN (piece, size - off));
    for (;;) {
      GBytes *payload = NULL;
      GError *err = NULL;
      Wr2vWebsocketEvent ev = wr2v_websocket_reader_next (r, &payload, &err);

      check_event (ev, payload);
      if (payload)
        g_bytes_unref (payload);
      if (ev == WR2V_WEBSOCKET_EVENT_ERROR) {
        g_assert (err != NULL);
        g_error_free (err);
        /* sticky */
        g_assert (wr2v_websocket_reader_next (r, &payload, NULL) ==
            WR2V_WEBSOCKET_EVENT_ERROR);
        over = TRUE;
        break;
      }
      g_assert (err == NULL);
      if (ev == WR2V_WEBSOCKET_EVENT_CLOSE) {
        over = TRUE;
        break;
      }
      if (ev == WR2V_WEBSOCKET_EVENT_NONE) {
        /* one unfinished frame at most, binary ones not kept */
        g_assert (wr2v_websocket_reader_held (r) <= 2 * MAX_MESSAGE + 14);
        break;
      }
    }
  }
  wr2v_websocket_reader_free (r);
}

static void
round_trip (const uint8_t * data, size_t size)
{
  guint32 mask = size >= 4 ? ((guint32) data[0] << 24) | (data[1] << 16) |
      (data[2] << 8) | data[3] : 0x5a5a5a5a;
  GBytes *frame = wr2v_websocket_frame (WR2V_WEBSOCKET_OP_TEXT, data, size,
      mask);
  gsize len, head;
  const guint8 *f = g_bytes_get_data (frame, &len);

  g_assert (len >= 6 && f[0] == 0x81 && (f[1] & 0x80));
  head = (f[1] & 0x7f) == 127 ? 14 : (f[1] & 0x7f) == 126 ? 8 : 6;
  g_assert (len == head + size);
  for (gsize i = 0; i < size; i++)
    g_assert ((f[head + i] ^ f[head - 4 + i % 4]) == data[i]);
  g_bytes_unref (frame);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  GError *err = NULL;

  if (size == 0)
    return 0;
  read_stream (data, size);

  if (wr2v_websocket_check_answer ((const gchar *) data, size, KEY, &err)) {
    gchar *text = fuzz_strndup (data, size);

    /* RFC 6455's example key and its accept value */
    g_assert (strstr (text, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=") != NULL);
    g_free (text);
  } else {
    g_assert (err != NULL);
  }
  g_clear_error (&err);

  if (size <= 70000)
    round_trip (data, size);
  return 0;
}
