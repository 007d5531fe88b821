/* fuzz-dashscope.c: DashScope's answers (create, poll, errors) and its
 * upload policy, through the parsers and the checks the engine applies:
 * the task id check, the URL policy, the provider-text sanitizer. */
#include "fuzz-common.h"
#include "wr2v-http.h"
#include "dashscope/wr2v-dashscope-wire.h"

#define KEY "sk-fuzz0123456789"

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  Wr2vDashscopeAnswer a = { 0, };
  Wr2vDashscopePolicy p = { 0, };
  GError *err = NULL;
  gchar *text;

  if (wr2v_dashscope_parse_answer ((const gchar *) data, size, &a, &err)) {
    if (wr2v_dashscope_task_id_ok (a.task_id))
      g_assert (!strchr (a.task_id, '/') && strcmp (a.task_id, "..") != 0);
    fuzz_touch (a.task_status);
    if (a.video_url && wr2v_http_url_allowed (a.video_url, NULL)) {
      gchar *shown = wr2v_http_url_for_log (a.video_url);
      g_free (shown);
    }
    text = wr2v_http_safe_text (a.message, 400, KEY);
    g_assert (!text || !strstr (text, KEY));
    g_free (text);
    text = wr2v_http_safe_text (a.task_message, 400, KEY);
    g_free (text);
    text = wr2v_http_safe_text (a.request_id, 400, NULL);
    g_free (text);
  } else {
    g_clear_error (&err);
  }
  wr2v_dashscope_answer_clear (&a);

  if (wr2v_dashscope_parse_policy ((const gchar *) data, size, &p, &err)) {
    /* what a valid policy promises the upload code */
    g_assert (p.upload_host && wr2v_http_url_allowed (p.upload_host, NULL));
    g_assert (p.upload_dir && p.upload_dir[0] != '/' &&
        !strstr (p.upload_dir, ".."));
    g_assert (p.policy && !strchr (p.policy, '\n'));
  } else {
    g_assert (err != NULL);
    g_assert (p.upload_host == NULL);
    g_clear_error (&err);
  }
  wr2v_dashscope_policy_clear (&p);
  return 0;
}
