/* wr2v-test-time.h: upper bounds on time in the tests, for slow runs.
 *
 * A test that checks that something is prompt (a stop, a cancel) states
 * its bound for a normal build; WANR2V_TEST_TIME_SCALE multiplies it when
 * the code runs slower on purpose: .ci/sanitizers sets 4 (AddressSanitizer
 * and UBSan), .ci/valgrind 40. Lower bounds (a retry that must wait) are
 * never scaled. */
#pragma once

#include <glib.h>
#include <stdlib.h>

static inline gint64
wr2v_test_time (gint64 usec)
{
  const gchar *s = g_getenv ("WANR2V_TEST_TIME_SCALE");
  gdouble scale = s ? g_ascii_strtod (s, NULL) : 1.0;

  return scale >= 1.0 ? (gint64) (usec * scale) : usec;
}

#define WR2V_TEST_TIME(usec) wr2v_test_time (usec)

/* A short request-timeout (s), scaled like WR2V_TEST_TIME: it also counts
 * the uploads and preparing the references, slower on a sanitizer or
 * valgrind run. */
#define WR2V_TEST_TIMEOUT_S(s) \
  ((guint) (WR2V_TEST_TIME ((gint64) (s) * G_USEC_PER_SEC) / G_USEC_PER_SEC))
