/* fuzz-hosts.c: fal.ai's and Replicate's answers (submit, status, result,
 * prediction, upload, errors), each input through both parsers (the
 * member table of the remote layer does the reading) and what the
 * engines then do with the fields: the job id check, the URL policy, the
 * provider-text sanitizer (with a key to scrub). */
#include "fuzz-common.h"
#include "wr2v-http.h"
#include "fal/wr2v-fal-wire.h"
#include "replicate/wr2v-replicate-wire.h"

#define KEY "fuzz-KEY-0123456789"

/* Each of the @n URLs (NULL ones skipped) as the engines use one: the
 * policy, then its form for logs. */
static void
check_urls (guint n, const gchar * const *urls)
{
  for (guint i = 0; i < n; i++) {
    gchar *shown;

    if (!urls[i])
      continue;
    wr2v_http_url_allowed (urls[i], NULL);
    shown = wr2v_http_url_for_log (urls[i]);
    g_assert (shown != NULL);
    g_free (shown);
  }
}

static void
check_text (const gchar * text)
{
  gchar *safe = wr2v_http_safe_text (text, 400, KEY);

  g_assert (!safe || (!strstr (safe, KEY) && g_utf8_validate (safe, -1, NULL)));
  g_free (safe);
}

static void
check_id (const gchar * id)
{
  if (wr2v_remote_job_id_ok (id)) {
    gchar *seg = wr2v_http_escape_segment (id);

    g_assert (strchr (seg, '/') == NULL && strchr (seg, '?') == NULL);
    g_free (seg);
  }
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  Wr2vFalAnswer f = { 0, };
  Wr2vReplicateAnswer r = { 0, };
  GError *err = NULL;

  if (wr2v_fal_parse_answer ((const gchar *) data, size, &f, &err)) {
    const gchar *urls[] = { f.video_url, f.upload_url, f.file_url };

    check_id (f.request_id);
    fuzz_touch (f.status);
    fuzz_touch (f.error_type);
    check_urls (G_N_ELEMENTS (urls), urls);
    check_text (f.error);
    check_text (f.detail);
  }
  g_clear_error (&err);
  if (wr2v_replicate_parse_answer ((const gchar *) data, size, &r, &err)) {
    const gchar *urls[] = { r.output, r.get_url };

    check_id (r.id);
    fuzz_touch (r.status);
    check_urls (G_N_ELEMENTS (urls), urls);
    check_text (r.error);
    check_text (r.title);
    check_text (r.detail);
  }
  g_clear_error (&err);
  wr2v_fal_answer_clear (&f);
  wr2v_replicate_answer_clear (&r);
  return 0;
}
