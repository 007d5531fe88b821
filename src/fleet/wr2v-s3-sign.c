/* wr2v-s3-sign.c: see wr2v-s3-sign.h. */
#include "wr2v-s3-sign.h"
#include "wr2v-http.h"
#include "wr2v-error.h"

#include <string.h>

#define SETTING "WANR2V_S3"
#define MAX_EXPIRES_S 604800
#define UNRESERVED "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
  "0123456789-._~"

void
wr2v_s3_location_clear (Wr2vS3Location * loc)
{
  g_clear_pointer (&loc->base, g_free);
  g_clear_pointer (&loc->host, g_free);
  g_clear_pointer (&loc->path, g_free);
  g_clear_pointer (&loc->region, g_free);
}

/* The region an AWS host names: s3.REGION.amazonaws.com,
 * BUCKET.s3.REGION.amazonaws.com, s3-REGION.amazonaws.com. */
static gchar *
aws_host_region (const gchar * host)
{
  const gchar *end = g_str_has_suffix (host, ".amazonaws.com") ?
      host + strlen (host) - strlen (".amazonaws.com") : NULL;
  const gchar *s3 = NULL, *p;

  for (p = host; end && p < end; p++) {
    if ((p == host || p[-1] == '.') && g_str_has_prefix (p, "s3") &&
        (p[2] == '.' || p[2] == '-'))
      s3 = p;
  }
  if (!s3 || s3 + 3 >= end)
    return NULL;
  return g_strndup (s3 + 3, end - (s3 + 3));
}

static gboolean
bad_setting (GError ** error, const gchar * why)
{
  g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
      SETTING " is not usable: %s. It takes the URL objects are stored "
      "under, like https://s3.eu-central-1.amazonaws.com/my-bucket/wanr2v/ "
      "or http://127.0.0.1:4568/my-bucket/?region=us-east-1", why);
  return FALSE;
}

/* The query: at most region=NAME. */
static gboolean
read_query (const gchar * query, Wr2vS3Location * loc, GError ** error)
{
  if (!query || !*query)
    return TRUE;
  if (!g_str_has_prefix (query, "region=") || !query[7] ||
      strspn (query + 7, UNRESERVED) != strlen (query + 7))
    return bad_setting (error, "its query may only be region=NAME");
  loc->region = g_strdup (query + 7);
  return TRUE;
}

gboolean
wr2v_s3_parse_location (const gchar * setting, Wr2vS3Location * loc,
    GError ** error)
{
  g_autoptr (GUri) uri = NULL;
  const gchar *scheme, *host, *path;
  gint port;

  memset (loc, 0, sizeof (*loc));
  uri = setting ? g_uri_parse (setting, G_URI_FLAGS_ENCODED, NULL) : NULL;
  if (!uri)
    return bad_setting (error, "it is not a URL");
  scheme = g_uri_get_scheme (uri);
  host = g_uri_get_host (uri);
  path = g_uri_get_path (uri);
  port = g_uri_get_port (uri);
  if (g_strcmp0 (scheme, "https") != 0 && g_strcmp0 (scheme, "http") != 0)
    return bad_setting (error, "it is not an http(s) URL");
  /* the keys sign for it, and providers fetch from it: https, or plain
   * http to a loopback address only (as for every other URL) */
  if (!wr2v_http_url_allowed (setting, NULL))
    return bad_setting (error, "plain http is only allowed to a loopback "
        "address such as 127.0.0.1: use https");
  if (g_uri_get_userinfo (uri))
    return bad_setting (error, "the keys go in WANR2V_S3_ACCESS_KEY_ID and "
        "WANR2V_S3_SECRET_ACCESS_KEY, not in the URL");
  if (!host || !*host || strchr (host, ':') || g_uri_get_fragment (uri))
    return bad_setting (error, "its host is missing or not a name or IPv4 "
        "address, or it has a fragment");
  if (strspn (path, UNRESERVED "/") != strlen (path))
    return bad_setting (error, "its path may only hold letters, digits, "
        "\"-._~\" and \"/\"");
  if (!read_query (g_uri_get_query (uri), loc, error))
    return FALSE;

  loc->host = port > 0 ? g_strdup_printf ("%s:%d", host, port) :
      g_strdup (host);
  loc->path = g_str_has_suffix (path, "/") ? g_strdup (path) :
      g_strconcat (path, "/", NULL);
  if (loc->path[0] != '/') {
    gchar *p = g_strconcat ("/", loc->path, NULL);

    g_free (loc->path);
    loc->path = p;
  }
  loc->base = g_strconcat (scheme, "://", loc->host, loc->path, NULL);
  if (!loc->region)
    loc->region = aws_host_region (host);
  if (!loc->region)
    loc->region = g_strdup ("us-east-1");
  return TRUE;
}

gchar *
wr2v_s3_object_url (const Wr2vS3Location * loc, const gchar * key)
{
  return g_strconcat (loc->base, key, NULL);
}

gchar *
wr2v_s3_curl_sigv4 (const Wr2vS3Location * loc)
{
  return g_strdup_printf ("aws:amz:%s:s3", loc->region);
}

static void
hmac (const guint8 * key, gsize key_len, const gchar * data, guint8 out[32])
{
  g_autoptr (GHmac) h = g_hmac_new (G_CHECKSUM_SHA256, key, key_len);
  gsize len = 32;

  g_hmac_update (h, (const guchar *) data, -1);
  g_hmac_get_digest (h, out, &len);
}

/* The signing key: HMAC chain over the date, region, service, request. */
static void
signing_key (const gchar * secret, const gchar * date, const gchar * region,
    guint8 out[32])
{
  g_autofree gchar *k0 = g_strconcat ("AWS4", secret, NULL);

  hmac ((const guint8 *) k0, strlen (k0), date, out);
  hmac (out, 32, region, out);
  hmac (out, 32, "s3", out);
  hmac (out, 32, "aws4_request", out);
  memset (k0, 0, strlen (k0));
}

gchar *
wr2v_s3_presign_get (const Wr2vS3Location * loc, const gchar * key,
    const gchar * key_id, const gchar * secret, gint64 now_unix,
    guint expires_s)
{
  g_autoptr (GDateTime) now = g_date_time_new_from_unix_utc (now_unix);
  g_autofree gchar *stamp = g_date_time_format (now, "%Y%m%dT%H%M%SZ");
  g_autofree gchar *date = g_strndup (stamp, 8);
  g_autofree gchar *scope = g_strdup_printf ("%s/%s/s3/aws4_request", date,
      loc->region);
  g_autofree gchar *credential = g_strdup_printf ("%s/%s", key_id, scope);
  g_autofree gchar *cred_q = g_uri_escape_string (credential, UNRESERVED,
      FALSE);
  g_autofree gchar *query = NULL, *canonical = NULL, *to_sign = NULL;
  g_autofree gchar *canonical_sha = NULL, *signature = NULL;
  guint8 k[32], sig[32];

  expires_s = CLAMP (expires_s, 1, MAX_EXPIRES_S);
  /* already in the sorted order the canonical query needs */
  query = g_strdup_printf ("X-Amz-Algorithm=AWS4-HMAC-SHA256"
      "&X-Amz-Credential=%s&X-Amz-Date=%s&X-Amz-Expires=%u"
      "&X-Amz-SignedHeaders=host", cred_q, stamp, expires_s);
  canonical = g_strdup_printf ("GET\n%s%s\n%s\nhost:%s\n\nhost\n"
      "UNSIGNED-PAYLOAD", loc->path, key, query, loc->host);
  canonical_sha = g_compute_checksum_for_string (G_CHECKSUM_SHA256,
      canonical, -1);
  to_sign = g_strdup_printf ("AWS4-HMAC-SHA256\n%s\n%s\n%s", stamp, scope,
      canonical_sha);
  signing_key (secret, date, loc->region, k);
  hmac (k, sizeof (k), to_sign, sig);
  memset (k, 0, sizeof (k));
  signature = g_malloc (65);
  for (guint i = 0; i < 32; i++)
    g_snprintf (signature + 2 * i, 3, "%02x", sig[i]);
  return g_strdup_printf ("%s%s?%s&X-Amz-Signature=%s", loc->base, key,
      query, signature);
}
