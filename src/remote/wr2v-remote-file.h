/* wr2v-remote-file.h: a reference's file as an upload sends it (part of
 * wr2v-remote.h, which includes this header): the neutral name it goes
 * under and the multipart POST that carries it, as the hosts whose
 * upload is one form post per file (WaveSpeed's binary route,
 * Replicate's files API) take it.
 */
#pragma once

#include "wr2v-remote.h"

G_BEGIN_DECLS

/* "video2.mp4": local file names say nothing the service needs. */
gchar *wr2v_remote_upload_name (const Wr2vReference * ref);

/* Fills @hr (and @part, @ps, which must outlive it) for a POST of @ref's
 * file to @url with the key, as the form field @field named @filename:
 * no overall timeout (only a stalled transfer ends it), its progress
 * reported as "<label>: 40% of 12 MB". Send it with wr2v_remote_read. */
void wr2v_remote_form_upload (Wr2vRemote * remote, Wr2vJob * job,
    Wr2vHttpRequest * hr, Wr2vHttpFormPart * part, Wr2vRemoteProgress * ps,
    const gchar * url, const gchar * key, const gchar * field,
    const Wr2vReference * ref, const gchar * filename, const gchar * label);

G_END_DECLS
