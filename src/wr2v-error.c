#include "wr2v-error.h"

/* Written out rather than through G_DEFINE_QUARK: gst-indent spaces the
 * macro's first argument ("wr2v - error - quark"), which would rename the
 * error domain. */
GQuark
wr2v_error_quark (void)
{
  return g_quark_from_static_string ("wr2v-error-quark");
}
