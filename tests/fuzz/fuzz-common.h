/* fuzz-common.h: what every fuzz target shares.
 *
 * Each target defines LLVMFuzzerTestOneInput(). Built with
 * -fsanitize=fuzzer (a clang build dir, .ci/fuzz) it is a libFuzzer
 * binary; otherwise replay-main.c gives it a main() that runs every file
 * of its seed corpus once, as a regression test in `meson test`.
 */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput (const uint8_t * data, size_t size);

/* The input as a NUL-terminated string (the HTTP client hands engines
 * bodies with a NUL after the data, not counted). */
static inline gchar *
fuzz_strndup (const uint8_t * data, size_t size)
{
  gchar *s = g_malloc (size + 1);

  if (size)
    memcpy (s, data, size);
  s[size] = '\0';
  return s;
}

/* Consumes whatever a string-valued field holds, so that the sanitizers
 * see every byte of it read (a length gone wrong shows up here). */
static inline void
fuzz_touch (const gchar * s)
{
  volatile gsize n = 0;

  if (s)
    n = strlen (s);
  (void) n;
}
