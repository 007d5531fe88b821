/* wr2v-s3.c: see wr2v-s3.h. */
#include "wr2v-s3.h"
#include "wr2v-s3-sign.h"
#include "wr2v-error.h"
#include "wr2v-http.h"
#include "wr2v-request.h"

#include <stdlib.h>
#include <string.h>

#include <gst/gst.h>

GST_DEBUG_CATEGORY_STATIC (wr2v_s3_debug);
#define GST_CAT_DEFAULT wr2v_s3_debug

#define DEFAULT_EXPIRES_S 3600
#define KEYS_HINT "check " WR2V_S3_KEY_ID_VARIABLE " and " \
  WR2V_S3_SECRET_VARIABLE ", and that they may read and write this bucket"

struct _Wr2vS3
{
  Wr2vS3Location loc;
  gchar *sigv4;                 /* libcurl's provider string */
  gchar *key_id;                /* secret */
  gchar *secret;                /* secret */
  guint expires_s;
  Wr2vHttp *http;
};

gboolean
wr2v_s3_configured (void)
{
  const gchar *s = g_getenv (WR2V_S3_VARIABLE);

  return s && *s;
}

static void
wipe_free (gchar * s)
{
  if (s)
    memset (s, 0, strlen (s));
  g_free (s);
}

void
wr2v_s3_free (Wr2vS3 * s3)
{
  if (!s3)
    return;
  wr2v_s3_location_clear (&s3->loc);
  g_free (s3->sigv4);
  wipe_free (s3->key_id);
  wipe_free (s3->secret);
  if (s3->http)
    wr2v_http_free (s3->http);
  g_free (s3);
}

Wr2vS3 *
wr2v_s3_open (GError ** error)
{
  static gsize once;
  g_autoptr (Wr2vS3) s3 = NULL;
  const gchar *key_id = g_getenv (WR2V_S3_KEY_ID_VARIABLE);
  const gchar *secret = g_getenv (WR2V_S3_SECRET_VARIABLE);
  const gchar *expires = g_getenv (WR2V_S3_EXPIRES_VARIABLE);

  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (wr2v_s3_debug, "wanr2vs3", 0, "wanr2v S3 storage");
    g_once_init_leave (&once, 1);
  }
  if (!wr2v_s3_configured ())
    return NULL;
  s3 = g_new0 (Wr2vS3, 1);
  if (!wr2v_s3_parse_location (g_getenv (WR2V_S3_VARIABLE), &s3->loc, error))
    return NULL;
  if (!key_id || !*key_id || !secret || !*secret) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NO_CREDENTIALS,
        WR2V_S3_VARIABLE " names S3 storage (%s) but %s is not set: the "
        "keys come from the environment only", s3->loc.base,
        key_id && *key_id ? WR2V_S3_SECRET_VARIABLE : WR2V_S3_KEY_ID_VARIABLE);
    return NULL;
  }
  s3->key_id = g_strdup (key_id);
  s3->secret = g_strdup (secret);
  s3->sigv4 = wr2v_s3_curl_sigv4 (&s3->loc);
  s3->expires_s = expires ? (guint) CLAMP (atoi (expires), 60, 604800) :
      DEFAULT_EXPIRES_S;
  s3->http = wr2v_http_new ();
  GST_INFO ("S3 storage %s, region %s", s3->loc.base, s3->loc.region);
  return g_steal_pointer (&s3);
}

const gchar *
wr2v_s3_display (Wr2vS3 * s3)
{
  return s3->loc.base;
}

gchar *
wr2v_s3_clip_key (const gchar * sha256)
{
  return g_strconcat ("clips/", sha256, ".mp4", NULL);
}

gchar *
wr2v_s3_reference_key (const gchar * sha256, const gchar * ext)
{
  return g_strconcat ("refs/", sha256, ".", ext, NULL);
}

/* The S3 error code of an XML error body (<Code>...</Code>), letters and
 * digits only: the rest of the body may echo the access key id. */
static gchar *
error_code (const Wr2vHttpResponse * resp)
{
  const gchar *body = resp->body ? g_bytes_get_data (resp->body, NULL) : NULL;
  const gchar *start = body ? strstr (body, "<Code>") : NULL;
  gsize n;

  if (!start)
    return NULL;
  start += strlen ("<Code>");
  n = strspn (start, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
      "0123456789");
  return n && n < 64 ? g_strndup (start, n) : NULL;
}

/* An answer that is not what @what needed, as an error. */
static void
set_answer_error (Wr2vS3 * s3, const Wr2vHttpResponse * resp,
    const gchar * what, const gchar * key, GError ** error)
{
  g_autofree gchar *code = error_code (resp);
  g_autofree gchar *said = code ? g_strdup_printf (", %s", code) :
      g_strdup ("");

  if (resp->status == 401 || resp->status == 403)
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NOT_AUTHORIZED,
        "The S3 storage at %s refused %s %s (HTTP %u%s): " KEYS_HINT
        " (" WR2V_S3_VARIABLE " names the bucket and its region, %s)",
        s3->loc.base, what, key, resp->status, said, s3->loc.region);
  else if (resp->status == 404)
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NOT_FOUND,
        "The S3 storage at %s does not hold %s (HTTP 404%s): check "
        WR2V_S3_VARIABLE " (the bucket's URL)", s3->loc.base, key, said);
  else
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NETWORK,
        "The S3 storage at %s answered HTTP %u%s to %s %s", s3->loc.base,
        resp->status, said, what, key);
}

/* One signed request for @key, retried on 5xx and connection errors;
 * TRUE for a 2xx answer (or a 404 when @missing_ok), its status in
 * *@status. @what: "storing" (the object). */
static gboolean
request (Wr2vS3 * s3, Wr2vHttpMethod method, const gchar * key,
    const gchar * payload_sha, Wr2vHttpRequest * hr, const gchar * what,
    gboolean missing_ok, guint * status, GError ** error)
{
  g_autofree gchar *url = wr2v_s3_object_url (&s3->loc, key);
  g_autofree gchar *sha_line = g_strconcat ("x-amz-content-sha256: ",
      payload_sha, NULL);
  const gchar *headers[] = { sha_line, NULL };
  Wr2vHttpRetry retry = { 0, };
  Wr2vHttpResponse resp = { 0, };
  gboolean ok;

  /* a PUT of content-addressed bytes may be sent again */
  retry.post_is_idempotent = TRUE;
  hr->method = method;
  hr->url = url;
  hr->headers = headers;
  hr->aws_sigv4 = s3->sigv4;
  hr->aws_key_id = s3->key_id;
  hr->aws_secret = s3->secret;
  if (!hr->low_speed_time_s)
    hr->low_speed_time_s = 60;
  ok = wr2v_http_perform_retry (s3->http, hr, &retry, &resp, error);
  if (!ok && error && *error && !g_error_matches (*error, G_IO_ERROR,
          G_IO_ERROR_CANCELLED))
    g_prefix_error (error, "S3 storage (%s): ", s3->loc.base);
  if (ok && !(resp.status >= 200 && resp.status < 300) &&
      !(missing_ok && resp.status == 404)) {
    set_answer_error (s3, &resp, what, key, error);
    ok = FALSE;
  }
  if (status)
    *status = resp.status;
  wr2v_http_response_clear (&resp);
  return ok;
}

gboolean
wr2v_s3_put_file (Wr2vS3 * s3, const gchar * key, const gchar * path,
    const gchar * sha256, GCancellable * cancellable, GError ** error)
{
  Wr2vHttpRequest head = { 0, }, put = { 0, };
  guint status = 0;

  /* written once: an object of this name holds these bytes already */
  head.cancellable = cancellable;
  if (!request (s3, WR2V_HTTP_HEAD, key, WR2V_S3_EMPTY_SHA256, &head,
          "looking for", TRUE, &status, error))
    return FALSE;
  if (status != 404) {
    GST_DEBUG ("%s is in the bucket already", key);
    return TRUE;
  }
  put.upload_path = path;
  put.content_type = g_str_has_suffix (key, ".mp4") ? "video/mp4" :
      "application/octet-stream";
  put.cancellable = cancellable;
  if (!request (s3, WR2V_HTTP_PUT, key, sha256, &put, "storing", FALSE, NULL,
          error))
    return FALSE;
  GST_INFO ("stored %s in the bucket", key);
  return TRUE;
}

gboolean
wr2v_s3_get_file (Wr2vS3 * s3, const gchar * key, const gchar * path,
    const gchar * sha256, GCancellable * cancellable, GError ** error)
{
  Wr2vHttpRequest hr = { 0, };
  g_autofree gchar *got = NULL;

  hr.download_path = path;
  hr.cancellable = cancellable;
  if (!request (s3, WR2V_HTTP_GET, key, WR2V_S3_EMPTY_SHA256, &hr, "reading",
          FALSE, NULL, error) || !(got = wr2v_file_sha256 (path, error)))
    return FALSE;
  if (strcmp (got, sha256) != 0) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_BAD_RESULT,
        "The S3 storage's object %s at %s does not match its hash (it reads "
        "as %s): it was not used.", key, s3->loc.base, got);
    return FALSE;
  }
  return TRUE;
}

gchar *
wr2v_s3_presign (Wr2vS3 * s3, const gchar * key)
{
  return wr2v_s3_presign_get (&s3->loc, key, s3->key_id, s3->secret,
      g_get_real_time () / G_USEC_PER_SEC, s3->expires_s);
}

gchar *
wr2v_s3_upload_reference (const gchar * path, const gchar * ext,
    GCancellable * cancellable, GError ** error)
{
  g_autoptr (Wr2vS3) s3 = wr2v_s3_open (error);
  /* named by its bytes (a reference's own sha256 may be that of its
   * decoded frames), which S3 also wants as the payload's hash */
  g_autofree gchar *sha256 = s3 ? wr2v_file_sha256 (path, error) : NULL;
  g_autofree gchar *key = sha256 ? wr2v_s3_reference_key (sha256, ext) : NULL;

  if (!s3 && error && !*error)
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
        WR2V_S3_VARIABLE " is not set");
  if (!key || !wr2v_s3_put_file (s3, key, path, sha256, cancellable, error))
    return NULL;
  return g_strconcat (WR2V_S3_MARKER, key, NULL);
}

gchar *
wr2v_s3_presign_marker (const gchar * url, GError ** error)
{
  g_autoptr (Wr2vS3) s3 = NULL;

  if (!g_str_has_prefix (url, WR2V_S3_MARKER))
    return g_strdup (url);
  s3 = wr2v_s3_open (error);
  if (!s3) {
    if (error && !*error)
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
          "A reference was uploaded to S3 storage, but " WR2V_S3_VARIABLE
          " is no longer set: run again");
    return NULL;
  }
  return wr2v_s3_presign (s3, url + strlen (WR2V_S3_MARKER));
}
