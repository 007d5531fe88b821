/* wr2v-backoff.c: the one cancellable sleep and the one backoff. */
#include "wr2v-backoff.h"

gboolean
wr2v_cancellable_sleep (GCancellable * cancellable, gint64 usec,
    GError ** error)
{
  GPollFD pfd;
  gint64 end;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;
  if (usec <= 0)
    return TRUE;
  if (!cancellable || !g_cancellable_make_pollfd (cancellable, &pfd)) {
    g_usleep (usec);
    return !g_cancellable_set_error_if_cancelled (cancellable, error);
  }
  /* the cancellable's fd wakes the poll; a signal may wake it early */
  end = g_get_monotonic_time () + usec;
  while (!g_cancellable_is_cancelled (cancellable)) {
    gint64 left = end - g_get_monotonic_time ();

    if (left <= 0)
      break;
    g_poll (&pfd, 1, (gint) MIN ((left + 999) / 1000, G_MAXINT));
  }
  g_cancellable_release_fd (cancellable);
  return !g_cancellable_set_error_if_cancelled (cancellable, error);
}

void
wr2v_backoff_init (Wr2vBackoff * backoff, guint64 first, guint64 cap)
{
  backoff->next = first;
  backoff->cap = cap;
}

guint64
wr2v_backoff_next (Wr2vBackoff * backoff)
{
  guint64 now = backoff->next;

  backoff->next = now > backoff->cap / 2 ? backoff->cap : now * 2;
  return now;
}

guint64
wr2v_backoff_next_jittered (Wr2vBackoff * backoff)
{
  guint64 delay = wr2v_backoff_next (backoff);
  gint32 spread = (gint32) MIN (delay / 2 + 1, (guint64) G_MAXINT32);

  return delay / 2 + g_random_int_range (0, spread);
}
