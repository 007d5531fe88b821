/* fuzz-clip.c: the check a delivered clip passes before it is stored
 * (wr2v_clip_check: the MP4 box walk that finds a whole file with a video
 * track). The bytes come from a server: a truncated, padded, hostile or
 * garbage file must be refused with a reason, never read out of bounds. */
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz-common.h"
#include "wr2v-engine.h"
#include "wr2v-error.h"

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  int fd = memfd_create ("clip", MFD_CLOEXEC);
  gchar *path;
  GError *err = NULL;
  gboolean ok;

  g_assert (fd >= 0);
  if (size)
    g_assert (write (fd, data, size) == (ssize_t) size);
  path = g_strdup_printf ("/proc/self/fd/%d", fd);
  ok = wr2v_clip_check (path, NULL, &err);
  g_assert (ok == (err == NULL));
  if (err) {
    g_assert (err->domain == WR2V_ERROR);
    g_clear_error (&err);
  }
  g_free (path);
  close (fd);
  return 0;
}
