/* wr2v-reference.h: turns what arrives on a reference pad into a file.
 *
 * Already-encoded inputs (MP4, JPEG, PNG) are written as they came: no
 * decode, no re-encode. Raw video is encoded to H.264 MP4 by a small
 * GStreamer pipeline (appsrc ! videoconvert ! deinterlace ! videoconvert
 * ! videoscale ! x264enc ! mp4mux ! filesink), deinterlaced, scaled down
 * to fit the requested output size (and up to x264's 16 pixels, with
 * borders) and trimmed to the reference duration. A raw image keeps its
 * first frame, as PNG. A raw reference's content key is the SHA-256 of its
 * frames as they arrived, an encoded one's that of its bytes.
 *
 * push() runs on the pad's streaming thread; finish() runs on the job
 * thread and waits (cancellably) for the encoder to close the file.
 */
#pragma once

#include <gio/gio.h>
#include <gst/gst.h>

#include "wr2v-request.h"

G_BEGIN_DECLS typedef struct _Wr2vRefWriter Wr2vRefWriter;

/* @path: where the file goes; @max_duration: most nanoseconds of video
 * kept (GST_CLOCK_TIME_NONE: all); @max_width/@max_height: the box raw
 * video is scaled down into (0: keep). */
Wr2vRefWriter *wr2v_ref_writer_new (Wr2vRefKind kind, const gchar * path,
    GstClockTime max_duration, gint max_width, gint max_height);
/* A voice pad's writer: raw audio is encoded to a wav at @path, trimmed
 * to @max_duration; a wav or an mp3 is written as it came. */
Wr2vRefWriter *wr2v_ref_writer_new_voice (const gchar * path,
    GstClockTime max_duration);
void wr2v_ref_writer_free (Wr2vRefWriter * w);

/* The pad the reference arrives on, for messages: its name, and the
 * user's file upstream (asked with a URI query on the first push). */
void wr2v_ref_writer_set_pad (Wr2vRefWriter * w, GstPad * pad);

/* The stream's caps; NULL-safe. Raw video, video/quicktime, image/jpeg,
 * image/png. FALSE when the caps can't be used. */
gboolean wr2v_ref_writer_set_caps (Wr2vRefWriter * w, GstCaps * caps,
    GError ** error);

/* One buffer in. Returns GST_FLOW_EOS once the reference is complete
 * (reference duration reached, or an image's first frame taken): the pad
 * then stops taking data. When no caps came (filesrc with no typefind),
 * the first buffer is typefound. */
GstFlowReturn wr2v_ref_writer_push (Wr2vRefWriter * w, GstBuffer * buf,
    GError ** error);

/* No more input (EOS or duration reached). Cheap, non-blocking. */
void wr2v_ref_writer_end (Wr2vRefWriter * w);
gboolean wr2v_ref_writer_is_complete (Wr2vRefWriter * w);
/* Nanoseconds of video taken so far. */
GstClockTime wr2v_ref_writer_duration (Wr2vRefWriter * w);

/* Waits for the file to be complete, checks a file passed through
 * (wr2v_reference_check) and fills ref->path, mime, sha256 and source.
 * @w may be NULL (nothing arrived): TRUE for a reference with a uri, an
 * error naming the reference otherwise. */
gboolean wr2v_ref_writer_finish (Wr2vRefWriter * w, Wr2vReference * ref,
    GCancellable * cancellable, GError ** error);

/* For a voice writer (NULL: nothing arrived): waits for the file, checks
 * it (wr2v_voice_finish_file: a wav or mp3 of 1 to 10 s) and fills
 * @ref's voice_path, voice_mime and voice_sha256; @ref->voice_pad names
 * the pad in errors. */
gboolean wr2v_ref_writer_finish_voice (Wr2vRefWriter * w, Wr2vReference * ref,
    GCancellable * cancellable, GError ** error);

/* Whether the file at @path is what @mime promises: a non-empty, whole MP4
 * with a video track, or a decodable JPEG/PNG. The error names the
 * reference as the user knows it (wr2v_reference_name). */
gboolean wr2v_reference_check (const Wr2vReference * ref, const gchar * path,
    const gchar * mime, GCancellable * cancellable, GError ** error);

/* Unblocks a push() waiting on the encoder and stops it, from any thread. */
void wr2v_ref_writer_abort (Wr2vRefWriter * w);

/* A private work directory for reference files, $TMPDIR/wanr2v-XXXXXX,
 * locked (an flock on its .lock, released by the kernel when the process
 * dies) until wr2v_work_dir_remove(). Creating one first removes the
 * directories of runs that died without cleaning up: those whose lock
 * nobody holds, and unlocked ones (older versions) over a day old. */
gchar *wr2v_work_dir_new (GError ** error);
/* Removes the directory and its files, and releases its lock. */
void wr2v_work_dir_remove (const gchar * dir);

G_END_DECLS
