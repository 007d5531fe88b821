/* wr2v-s3-sign.h: the pure part of the S3 client (wr2v-s3.h): where a
 * bucket is (the WANR2V_S3 setting), the URL of an object, and presigned
 * GET URLs. No I/O, no clock: a unit and fuzz target.
 *
 * Requests the element sends itself are signed by libcurl
 * (CURLOPT_AWS_SIGV4, in the Authorization header). libcurl cannot
 * presign a URL (query-string authentication, which a provider fetching a
 * reference needs: it sends no header of ours), so that one signature is
 * computed here, with GLib's GHmac and GChecksum, following AWS's
 * "Authenticating Requests: Using Query Parameters (AWS Signature Version
 * 4)". */
#pragma once

#include <glib.h>

G_BEGIN_DECLS
/* Where the objects are: @base is the setting's URL without its query,
 * ending in "/", under which an object's key is appended
 * (https://s3.eu-central-1.amazonaws.com/my-bucket/wanr2v/ path-style, or
 * https://my-bucket.s3.eu-central-1.amazonaws.com/ virtual-hosted);
 * @region is the setting's "region=" parameter, else the one an AWS host
 * names, else us-east-1. */
    typedef struct
{
  gchar *base;
  gchar *host;                  /* host[:port], as the Host header says */
  gchar *path;                  /* of @base, starting and ending in "/" */
  gchar *region;
} Wr2vS3Location;

void wr2v_s3_location_clear (Wr2vS3Location * loc);

/* Reads a WANR2V_S3 setting: an http(s) URL without user info, whose path
 * has only unreserved characters and "/", and whose query holds at most
 * "region=...". WR2V_ERROR_INVALID_REQUEST naming the variable when not. */
gboolean wr2v_s3_parse_location (const gchar * setting, Wr2vS3Location * loc,
    GError ** error);

/* The URL of the object @key (unreserved characters and "/"). */
gchar *wr2v_s3_object_url (const Wr2vS3Location * loc, const gchar * key);

/* The provider string libcurl's CURLOPT_AWS_SIGV4 takes. */
gchar *wr2v_s3_curl_sigv4 (const Wr2vS3Location * loc);

/* A presigned GET URL of @key, valid @expires_s seconds (1 to 604800)
 * from @now_unix: the X-Amz-* query of SigV4 query-string
 * authentication, with the Host header signed and an unsigned payload. */
gchar *wr2v_s3_presign_get (const Wr2vS3Location * loc, const gchar * key,
    const gchar * key_id, const gchar * secret, gint64 now_unix,
    guint expires_s);

/* The hex SHA-256 of nothing: a GET's or HEAD's payload hash. */
#define WR2V_S3_EMPTY_SHA256 \
  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

G_END_DECLS
