/* wr2v-mp4.h: the one MP4 (ISO BMFF / QuickTime) box reader of the core.
 *
 * It walks box headers and never decodes: the check a delivered clip
 * passes before it is stored, and a movie's duration (for an engine that
 * bills by the second of its reference videos). Both read only a few
 * boxes, whatever the size of the file, and are safe on hostile input.
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Checks that @path holds a whole MP4 with a usable video track (a walk
 * of its boxes, not a decode). On failure: WR2V_ERROR_STORE when the file
 * cannot be read, WR2V_ERROR_BAD_RESULT with the reason when it is not a
 * playable clip, G_IO_ERROR_CANCELLED when @cancellable is. */
gboolean wr2v_clip_check (const gchar * path, GCancellable * cancellable,
    GError ** error);

/* The movie's duration in seconds, from moov/mvhd (version 0 or 1). FALSE
 * and *@seconds = -1 when it is not known: @path NULL
 * (G_IO_ERROR_INVALID_ARGUMENT), unreadable (G_IO_ERROR from errno), or
 * no moov/mvhd box, a zero timescale or duration, a version 0 duration of
 * 0xffffffff ("unknown") (G_IO_ERROR_INVALID_DATA). @error may be NULL. */
gboolean wr2v_mp4_duration (const gchar * path, gdouble * seconds,
    GError ** error);

G_END_DECLS
