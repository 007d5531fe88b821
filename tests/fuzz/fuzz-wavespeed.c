/* fuzz-wavespeed.c: WaveSpeed's answers (submit, poll, upload, errors),
 * through the parser and everything the engine then does with the
 * fields: the job id check, the URL policy, the log form of a URL, the
 * provider-text sanitizer (with a key to scrub). */
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
  return 0;
}
