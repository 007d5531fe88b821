/* fuzz-http.c: what the HTTP client itself decides from server data:
 * the JSON limits (size, depth) in front of every parser, and the URL
 * policy and log form applied to every URL a server hands out (output
 * URLs, redirects, upload hosts); and the WANR2V_S3 setting with the
 * presigned URLs made from it (wr2v-s3-sign.h). */
#include "fuzz-common.h"
#include "wr2v-http.h"
#include "wr2v-s3-sign.h"

/* A WANR2V_S3 setting: refused with an error, or a base URL under which
 * a presigned URL never shows the secret key. */
static void
fuzz_s3_setting (const gchar * s)
{
  Wr2vS3Location loc;
  GError *err = NULL;
  gchar *url;

  if (!wr2v_s3_parse_location (s, &loc, &err)) {
    g_assert (err != NULL);
    g_clear_error (&err);
    wr2v_s3_location_clear (&loc);
    return;
  }
  g_assert (g_str_has_suffix (loc.base, "/") && loc.region && *loc.region);
  g_assert (strchr (loc.base, '@') == NULL);
  url = wr2v_s3_presign_get (&loc, "refs/x.mp4", "FUZZKEYID",
      "fuzz-SECRET-key", 1369353600, 3600);
  g_assert (g_str_has_prefix (url, loc.base));
  /* the secret can only come from the key, unless the setting itself (the
   * user's own text: host, region, path) spells it */
  g_assert (strstr (s, "fuzz-SECRET-key") != NULL ||
      strstr (url, "fuzz-SECRET-key") == NULL);
  g_free (url);
  wr2v_s3_location_clear (&loc);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  GBytes *b = g_bytes_new_static (data, size);
  JsonNode *n;
  GError *err = NULL;
  gchar *s, *shown;

  n = wr2v_http_parse_json (b, &err);
  g_assert ((n == NULL) == (err != NULL));
  if (n) {
    /* accepted: within the depth limit */
    g_assert (wr2v_http_json_depth_ok ((const gchar *) data, size,
            WR2V_HTTP_JSON_MAX_DEPTH));
    json_node_unref (n);
  }
  g_clear_error (&err);
  g_bytes_unref (b);

  s = fuzz_strndup (data, size);
  if (wr2v_http_url_allowed (s, &err)) {
    g_assert (g_ascii_strncasecmp (s, "https:", 6) == 0 ||
        g_ascii_strncasecmp (s, "http:", 5) == 0);
  } else {
    g_assert (err != NULL);
    g_clear_error (&err);
  }
  fuzz_s3_setting (s);
  shown = wr2v_http_url_for_log (s);
  /* the log form never keeps a query (signed URLs carry tokens there) */
  if (!g_str_has_prefix (shown, "("))
    g_assert (strchr (shown, '?') == NULL);
  g_free (shown);
  g_free (s);
  return 0;
}
