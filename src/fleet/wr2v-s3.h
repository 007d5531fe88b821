/* wr2v-s3.h: S3-compatible storage (AWS S3, Alibaba OSS's S3 endpoint,
 * MinIO...), chosen by WANR2V_S3 (docs/fleet.md); unset, nothing here is
 * used. Two uses:
 *   - the fleet's clips (with a fleet store): each clip once, under
 *     clips/<sha256>.mp4, written once, checked against the hash when
 *     fetched into the local store;
 *   - reference files for a provider that fetches URLs: uploaded once
 *     under refs/<sha256>.<ext>, handed over as a presigned GET URL with a
 *     short expiry (DashScope outside Beijing).
 *
 * Requests are signed by libcurl's SigV4 (wr2v-http.h); presigned URLs by
 * wr2v-s3-sign.h. The keys come from the environment only
 * (WANR2V_S3_ACCESS_KEY_ID, WANR2V_S3_SECRET_ACCESS_KEY) and are never
 * logged nor put in a message or a file; a presigned URL, which names the
 * access key id, is never logged with its query nor written to a file. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS
#define WR2V_S3_VARIABLE "WANR2V_S3"
#define WR2V_S3_KEY_ID_VARIABLE "WANR2V_S3_ACCESS_KEY_ID"
#define WR2V_S3_SECRET_VARIABLE "WANR2V_S3_SECRET_ACCESS_KEY"
/* seconds a presigned URL stays valid (default 3600) */
#define WR2V_S3_EXPIRES_VARIABLE "WANR2V_S3_URL_EXPIRES_S"
typedef struct _Wr2vS3 Wr2vS3;

/* TRUE when WANR2V_S3 names a bucket (not checked further). */
gboolean wr2v_s3_configured (void);

/* The bucket WANR2V_S3 names, with the keys of the environment; NULL
 * without an error when it is unset. Errors name the variables, never
 * their values' secrets. Sends nothing. */
Wr2vS3 *wr2v_s3_open (GError ** error);
void wr2v_s3_free (Wr2vS3 * s3);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Wr2vS3, wr2v_s3_free);

/* The bucket's URL, for messages. */
const gchar *wr2v_s3_display (Wr2vS3 * s3);

/* Stores the file at @path (whose bytes' SHA-256 is @sha256: S3 checks
 * it) as @key unless the bucket has that key already: objects are named
 * by their content, so one there is never written again. */
gboolean wr2v_s3_put_file (Wr2vS3 * s3, const gchar * key,
    const gchar * path, const gchar * sha256, GCancellable * cancellable,
    GError ** error);

/* Streams @key into @path and checks it against @sha256
 * (WR2V_ERROR_BAD_RESULT when it does not match: not to be used). */
gboolean wr2v_s3_get_file (Wr2vS3 * s3, const gchar * key,
    const gchar * path, const gchar * sha256, GCancellable * cancellable,
    GError ** error);

/* A GET URL of @key anyone may fetch for WANR2V_S3_URL_EXPIRES_S seconds
 * from now. Secret-bearing: never log it with its query. */
gchar *wr2v_s3_presign (Wr2vS3 * s3, const gchar * key);

/* --- reference files for a provider (DashScope outside Beijing) --- */

/* What an upload of a reference to the bucket is remembered as (in the
 * upload records, a file): "s3-object:refs/<sha256>.<ext>", which holds
 * no secret; wr2v_s3_presign_marker() makes the URL at the submit, so
 * that its short expiry counts from there. */
#define WR2V_S3_MARKER "s3-object:"

/* Uploads the reference file at @path to the bucket WANR2V_S3 names,
 * once (named by the SHA-256 of its bytes), and returns its marker. */
gchar *wr2v_s3_upload_reference (const gchar * path, const gchar * ext,
    GCancellable * cancellable, GError ** error);

/* @url itself, or for a marker a presigned GET URL of its object
 * (secret-bearing); NULL with an error when S3 is no longer usable. */
gchar *wr2v_s3_presign_marker (const gchar * url, GError ** error);

/* The keys of a clip and of a reference file. */
gchar *wr2v_s3_clip_key (const gchar * sha256);
gchar *wr2v_s3_reference_key (const gchar * sha256, const gchar * ext);

G_END_DECLS
