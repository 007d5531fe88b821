/* wr2v-voice.h: a reference's voice, from the user's file.
 *
 * Wan 2.7 takes a voice per reference (DashScope's reference_voice): a
 * wav or mp3 of 1 to 10 seconds. A file that is already a PCM wav or an
 * mp3 is sent as it is (never re-encoded); any other sound file GStreamer
 * decodes (ogg, flac, m4a, ...) is encoded to a PCM wav in the run's
 * work directory. The voice's content key is the SHA-256 of the bytes
 * sent, and is part of the request's identity (docs/identity.md).
 */
#pragma once

#include <gio/gio.h>

#include "wr2v-request.h"

G_BEGIN_DECLS
/* What the model takes, in seconds [C: DashScope's video-to-video guide] */
#define WR2V_VOICE_MIN_S 1
#define WR2V_VOICE_MAX_S 10
/* What a voice is called in messages: "The voice of Video 1 (pad
 * video_0, /home/me/alice.ogg)". Free with g_free. */
    gchar *wr2v_voice_name (const Wr2vReference * ref, const gchar * file);

/* Whether @ref's voice file (ref->voice_source) is one: it exists, holds
 * sound, and lasts 1 to 10 seconds; the error names the reference's pad,
 * the file and what to change. Cheap enough for a state change. */
gboolean wr2v_voice_check (const Wr2vReference * ref, GError ** error);

/* wr2v_voice_check(), then fills ref->voice_path, voice_mime and
 * voice_sha256: the user's file when it is a wav or an mp3, else a wav
 * encoded into @work_dir. TRUE and nothing done when @ref has no voice
 * file. */
gboolean wr2v_voice_prepare (Wr2vReference * ref, const gchar * work_dir,
    GCancellable * cancellable, GError ** error);

/* Fills ref->voice_mime and voice_sha256 for a voice already written to
 * ref->voice_path (a voice pad's), after checking its length; the error
 * names @pad_name. */
gboolean wr2v_voice_finish_file (Wr2vReference * ref, const gchar * pad_name,
    GError ** error);

/* wr2v_voice_check() and wr2v_voice_prepare() on each of @req's
 * references. */
gboolean wr2v_voice_check_all (const Wr2vRequest * req, GError ** error);
gboolean wr2v_voice_prepare_all (Wr2vRequest * req, const gchar * work_dir,
    GCancellable * cancellable, GError ** error);

/* The extension a voice of @mime is uploaded under: "wav" or "mp3". */
const gchar *wr2v_voice_ext_for_mime (const gchar * mime);

G_END_DECLS
