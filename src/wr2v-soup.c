/* wr2v-soup.c: libsoup 3, loaded when a websocket is first opened, see
 * wr2v-soup.h. */
#include "wr2v-soup.h"

/* *INDENT-OFF* */
WR2V_LAZYLIB_DEFINE (Wr2vSoup, wr2v_soup, WR2V_SOUP_FUNCTIONS,
    .soname = "libsoup-3.0.so.0",
    .package = "libsoup-3.0-0",
    .needed_for = "ComfyUI's progress websocket",
    /* libsoup 3 aborts a process that has libsoup 2 */
    .conflicts_with = "libsoup-2.4.so.1");
/* *INDENT-ON* */
