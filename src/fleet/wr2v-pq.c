/* wr2v-pq.c: libpq, loaded when a fleet store is first used, see
 * wr2v-pq.h. */
#include "wr2v-pq.h"

/* *INDENT-OFF* */
WR2V_LAZYLIB_DEFINE (Wr2vPq, wr2v_pq, WR2V_PQ_FUNCTIONS,
    .soname = "libpq.so.5",
    .package = "libpq5",
    .needed_for = "the fleet store (the store property or WANR2V_STORE)");
/* *INDENT-ON* */
