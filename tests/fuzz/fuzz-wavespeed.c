/* fuzz-wavespeed.c: WaveSpeed's answers (submit, poll, upload, upload
 * ticket, price, balance, errors), through the parser and everything the
 * engine then does with the fields: the job id check, the URL policy, the
 * log form of a URL, the provider-text sanitizer (with a key to scrub);
 * and a model list or request schema through the schema parser and the
 * body builder. */
#include "fuzz-common.h"
#include "wr2v-http.h"
#include "wavespeed/wr2v-wavespeed-wire.h"

#define KEY "fuzz-KEY-0123456789"

static void
check_url (const gchar * url)
{
  gchar *shown;

  if (!url)
    return;
  wr2v_http_url_allowed (url, NULL);
  shown = wr2v_http_url_for_log (url);
  g_assert (shown != NULL);
  g_free (shown);
}

/* A request like the element's: two videos and an image, options set. */
static Wr2vRequest *
fuzz_request (void)
{
  static Wr2vRequest *req;
  guint i;

  if (req)
    return req;
  req = wr2v_request_new ();
  req->prompt = g_strdup ("Video 1 and Video 2 hold Image 3");
  req->duration = 10;
  req->seed = 42;
  req->aspect_ratio_set = TRUE;
  for (i = 0; i < 3; i++) {
    Wr2vReference *ref = wr2v_reference_new (i < 2 ? WR2V_REF_VIDEO :
        WR2V_REF_IMAGE, i % 2);

    ref->uri = g_strdup_printf ("https://cdn.example.com/%u", i);
    wr2v_request_add_reference (req, ref);
  }
  wr2v_request_number_references (req);
  return req;
}

/* Rules from a request schema's text: a body that is JSON, or an error. */
static void
check_rules (const gchar * data, gsize len)
{
  static const gchar *const urls[] = { "https://a/1", "https://a/2",
    "https://a/3", NULL
  };
  Wr2vWavespeedRules rules = { 0, };
  GError *err = NULL;
  JsonNode *node;
  gchar *body;

  if (!wr2v_wavespeed_parse_rules (data, len, &rules, &err)) {
    g_assert (err != NULL);
    g_clear_error (&err);
    return;
  }
  body = wr2v_wavespeed_build_body (&rules, fuzz_request (), urls, NULL, &err);
  g_assert ((body == NULL) == (err != NULL));
  if (body) {
    node = json_from_string (body, NULL);
    g_assert (node && JSON_NODE_HOLDS_OBJECT (node));
    json_node_unref (node);
  }
  g_clear_error (&err);
  g_free (body);
  wr2v_wavespeed_rules_clear (&rules);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  Wr2vWavespeedAnswer a = { 0, };
  gchar *text;
  GError *err = NULL;

  if (wr2v_wavespeed_parse_answer ((const gchar *) data, size, &a, &err)) {
    g_assert (err == NULL);
    if (wr2v_wavespeed_job_id_ok (a.id)) {
      gchar *seg = wr2v_http_escape_segment (a.id);

      /* what reaches a URL path: no separator survives */
      g_assert (strchr (seg, '/') == NULL && strchr (seg, '?') == NULL);
      g_free (seg);
    }
    fuzz_touch (a.status);
    check_url (a.output);
    check_url (a.download_url);
    check_url (a.upload_url);
    for (guint i = 0; a.upload_headers && a.upload_headers[i]; i++)
      g_assert (!strpbrk (a.upload_headers[i], "\r\n"));
    text = wr2v_http_safe_text (a.message, 400, KEY);
    g_assert (!text || !strstr (text, KEY));
    g_free (text);
    text = wr2v_http_safe_text (a.error, 400, KEY);
    g_assert (!text || g_utf8_validate (text, -1, NULL));
    g_free (text);
  } else {
    g_assert (err != NULL);
    g_clear_error (&err);
  }
  wr2v_wavespeed_answer_clear (&a);

  check_rules ((const gchar *) data, size);
  if (wr2v_wavespeed_find_schema ((const gchar *) data, size,
          "alibaba/wan-2.7/reference-to-video", &text, NULL)) {
    check_rules (text, strlen (text));
    g_free (text);
  }
  return 0;
}
