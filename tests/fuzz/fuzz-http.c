/* fuzz-http.c: what the HTTP client itself decides from server data:
 * the JSON limits (size, depth) in front of every parser, and the URL
 * policy and log form applied to every URL a server hands out (output
 * URLs, redirects, upload hosts). */
#include "fuzz-common.h"
#include "wr2v-http.h"

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
  shown = wr2v_http_url_for_log (s);
  /* the log form never keeps a query (signed URLs carry tokens there) */
  if (!g_str_has_prefix (shown, "("))
    g_assert (strchr (shown, '?') == NULL);
  g_free (shown);
  g_free (s);
  return 0;
}
