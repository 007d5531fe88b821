/* wr2v-soup.h: libsoup 3, loaded when a websocket is first opened
 * (ComfyUI's progress; wr2v-lazylib.h says why).
 *
 * wr2v-websocket.c calls libsoup's functions through the struct wr2v_soup()
 * returns: soup->soup_session_new_with_options (...). Macros of libsoup's
 * headers that call a function (casts, SOUP_WEBSOCKET_ERROR, the interned
 * SOUP_METHOD_*) are not used. */
#pragma once

#include <libsoup/soup.h>

#include "wr2v-lazylib.h"

G_BEGIN_DECLS
#define WR2V_SOUP_FUNCTIONS(F) \
  F (soup_message_add_flags) F (soup_message_get_status) \
  F (soup_message_new_from_uri) F (soup_session_new_with_options) \
  F (soup_session_websocket_connect_async) \
  F (soup_session_websocket_connect_finish) \
  F (soup_websocket_connection_close) \
  F (soup_websocket_connection_get_close_code) \
  F (soup_websocket_connection_get_io_stream) \
  F (soup_websocket_connection_get_state) \
  F (soup_websocket_connection_set_keepalive_interval) \
  F (soup_websocket_connection_set_max_incoming_payload_size) \
  F (soup_websocket_error_quark)
/* *INDENT-OFF* */
typedef struct
{
  WR2V_SOUP_FUNCTIONS (WR2V_LAZYLIB_SLOT)
} Wr2vSoup;
/* *INDENT-ON* */
/* libsoup's functions, or NULL with @error (WR2V_ERROR_UNSUPPORTED) when
 * libsoup 3 can't be loaded, or libsoup 2 is in the process (libsoup 3
 * would abort it). Thread-safe; loads once per process. */
const Wr2vSoup *wr2v_soup (GError ** error);

G_END_DECLS
