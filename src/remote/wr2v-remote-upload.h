/* wr2v-remote-upload.h: the remote-job layer's uploads (part of
 * wr2v-remote.h, which includes this header): the upload record cache and
 * the prepare step that uploads each local reference once.
 */
#pragma once

#include "wr2v-remote.h"

G_BEGIN_DECLS

/* Wr2vEngineClass.prepare: for each reference, checks a uri against the
 * class's uri_ok, or reuses a remembered upload valid for the whole job
 * (request-timeout plus an hour in the queue), or checks the file's size
 * against the class's limits and calls its upload hook, then remembers
 * the URL for upload_lifetime_s from the upload's start. */
gboolean wr2v_remote_engine_prepare (Wr2vEngine * engine, Wr2vJob * job,
    GError ** error);

/* Wr2vEngineClass.prepare that runs the engine's check again first, so
 * that nothing is sent for a request the element did not check
 * (wr2v_job_run alone). */
gboolean wr2v_remote_engine_check_prepare (Wr2vEngine * engine, Wr2vJob * job,
    GError ** error);

/* --- uploads --- */

/* The URL of content @sha uploaded before and valid for @margin_s more
 * seconds (memory first, then the store), or NULL. */
gchar *wr2v_remote_upload_lookup (Wr2vRemote * remote, Wr2vJob * job,
    const gchar * sha, gint64 margin_s);

/* Remembers an upload valid until @expires (unix seconds), in memory and
 * in the store; a store that can't write only costs an upload later. */
void wr2v_remote_upload_remember (Wr2vRemote * remote, Wr2vJob * job,
    const gchar * sha, const gchar * url, gint64 expires);

/* Forgets the uploads of @job's references: after the service could not
 * fetch one, the same URLs are not offered again. */
void wr2v_remote_upload_forget (Wr2vRemote * remote, Wr2vJob * job);

/* The URL the service fetches @ref from: its uri, or its upload (valid
 * for 10 more minutes); WR2V_ERROR_INTERNAL when it was not uploaded. */
gchar *wr2v_remote_reference_url (Wr2vRemote * remote, Wr2vJob * job,
    const Wr2vReference * ref, GError ** error);

/* wr2v_remote_reference_url() of each of @job's references, in order,
 * NULL-terminated (free with g_strfreev); NULL with the error. */
gchar **wr2v_remote_reference_urls (Wr2vRemote * remote, Wr2vJob * job,
    GError ** error);

/* FALSE with WR2V_ERROR_INVALID_REQUEST when @size is over @limit: "Video
 * 1 is 30 MB; <provider> takes video references up to 20 MB: <hint>". */
gboolean wr2v_remote_check_size (Wr2vRemote * remote,
    const Wr2vReference * ref, const gchar * label, guint64 size,
    guint64 limit, GError ** error);

/* The URL the service fetches @ref's voice from: its voice-uri, or its
 * voice file's upload; NULL with no error when it has no voice. */
gchar *wr2v_remote_voice_url (Wr2vRemote * remote, Wr2vJob * job,
    const Wr2vReference * ref, GError ** error);

/* wr2v_remote_voice_url() of each of @job's references, in order: an
 * array of as many (NULL where a reference has no voice; free with
 * wr2v_remote_urls_free); NULL with the error. */
gchar **wr2v_remote_voice_urls (Wr2vRemote * remote, Wr2vJob * job,
    GError ** error);

/* Frees the first @n entries of @urls and @urls. */
void wr2v_remote_urls_free (gchar ** urls, guint n);

/* Whether every voice file of @job's references is uploaded and valid
 * for the submit; the error of wr2v_remote_voice_url() otherwise. */
gboolean wr2v_remote_voices_uploaded (Wr2vRemote * remote, Wr2vJob * job,
    GError ** error);

/* The file extension a reference is uploaded under: jpg, png, mov, mp4
 * (wav, mp3 for a voice). */
const gchar *wr2v_remote_ext_for_mime (const gchar * mime, Wr2vRefKind kind);

/* TRUE for an http:// or https:// URL (any host: the service fetches it). */
gboolean wr2v_remote_url_is_http (const gchar * url);

/* The default upload_scope: the engine's name, and when api-url is set a
 * digest of it, so that the URLs of another service (a proxy, a fake) are
 * not mixed in. */
gchar *wr2v_remote_upload_scope_by_url (Wr2vRemote * remote);

/* An upload_scope hook: the engine's name alone (its upload_key names
 * the endpoint). */
gchar *wr2v_remote_upload_scope_by_name (Wr2vRemote * remote);

/* Sends @hr, a call of an upload flow (retried like a read:
 * wr2v_remote_read), and parses a 200 answer (or one of status @also_ok,
 * when not 0) into @answer, the class's answer struct; another status is
 * wr2v_remote_http_error's error about @what. *@status, when @status is
 * not NULL: the HTTP status once one came. */
gboolean wr2v_remote_upload_send (Wr2vRemote * remote, Wr2vJob * job,
    const Wr2vHttpRequest * hr, const gchar * what, guint also_ok,
    gpointer answer, guint * status, GError ** error);

/* A copy of @url, what an upload's answer gave as its @member, or NULL
 * with a protocol error ("<provider>'s answer to the upload of <label>
 * has no <member>") when it is no http(s) URL. */
gchar *wr2v_remote_uploaded_url (Wr2vRemote * remote, const gchar * label,
    const gchar * url, const gchar * member, GError ** error);

/* For wr2v-remote.c: the cache's life. */
void wr2v_remote_upload_init (Wr2vRemote * remote);
void wr2v_remote_upload_clear (Wr2vRemote * remote);

G_END_DECLS
