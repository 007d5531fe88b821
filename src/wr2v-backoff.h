/* wr2v-backoff.h: waiting between attempts, the same way everywhere: a
 * sleep that a stop interrupts at once, and capped exponential backoff.
 * The job's polls, the HTTP client's retries and the store's lock wait
 * use these; engines should too.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Sleeps @usec (nothing when <= 0); FALSE with G_IO_ERROR_CANCELLED as
 * soon as @cancellable (may be NULL) is cancelled, also before. */
gboolean wr2v_cancellable_sleep (GCancellable * cancellable, gint64 usec,
    GError ** error);

/* Delays that double from a first one up to a cap, in any unit. */
typedef struct
{
  guint64 next;
  guint64 cap;
} Wr2vBackoff;

/* @first is used once even when above @cap. */
void wr2v_backoff_init (Wr2vBackoff * backoff, guint64 first, guint64 cap);

/* The delay to wait now; the next one is doubled, up to the cap. */
guint64 wr2v_backoff_next (Wr2vBackoff * backoff);

/* The same with "equal jitter" (half the delay fixed, half random), so
 * that clients that failed together do not retry together. */
guint64 wr2v_backoff_next_jittered (Wr2vBackoff * backoff);

G_END_DECLS
