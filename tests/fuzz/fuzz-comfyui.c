/* fuzz-comfyui.c: ComfyUI's answers (upload, prompt, history, queue),
 * through the parsers and the checks the engine applies: file names that
 * must stay inside ComfyUI's folders, the /view URL built from them, the
 * prompt id check. Every parser sees every input. */
#include "fuzz-common.h"
#include "comfyui/wr2v-comfyui-wire.h"
#include "comfyui/wr2v-comfyui-preflight.h"

/* the ids the seed corpus uses */
#define PROMPT_ID "3f1e2d4c-0000-4000-8000-000000000001"
#define CLIENT_ID "wanr2v-0123456789abcdef"
#define BASE "http://127.0.0.1:8188"

static void
check_view_url (const gchar * filename, const gchar * subfolder,
    const gchar * type)
{
  gchar *url = wr2v_comfyui_view_url (BASE, filename, subfolder, type);

  if (!url)
    return;
  /* escaped: one query, nothing that climbs out of the folder */
  g_assert (g_str_has_prefix (url, BASE "/view?filename="));
  g_assert (strstr (url, "..") == NULL);
  g_assert (strchr (url, '#') == NULL && strchr (url, ' ') == NULL);
  g_assert (g_str_has_suffix (url, "&type=output") ||
      g_str_has_suffix (url, "&type=temp"));
  g_free (url);
}

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  const gchar *d = (const gchar *) data;
  Wr2vComfyuiUpload up = { 0, };
  Wr2vComfyuiPromptAnswer pa = { 0, };
  Wr2vComfyuiHistory h = { 0, };
  Wr2vComfyuiQueue q = { 0, };
  GError *err = NULL;
  guint i;

  if (wr2v_comfyui_parse_upload (d, size, &up, &err)) {
    if (wr2v_comfyui_file_name_ok (up.name, FALSE))
      g_assert (up.name[0] != '/' && !strchr (up.name, '/') &&
          !strstr (up.name, ".."));
    check_view_url (up.name, up.subfolder, NULL);
  }
  g_clear_error (&err);
  wr2v_comfyui_upload_clear (&up);

  if (wr2v_comfyui_parse_prompt (d, size, &pa, &err)) {
    g_assert (pa.node_errors != NULL);
    /* bounded (invalid bytes may triple when made valid UTF-8) */
    g_assert (strlen (pa.node_errors) <= 3 * 800 + 3);
    g_assert (g_utf8_validate (pa.node_errors, -1, NULL));
    wr2v_comfyui_prompt_id_ok (pa.prompt_id);
    fuzz_touch (pa.error_message);
  }
  g_clear_error (&err);
  wr2v_comfyui_prompt_answer_clear (&pa);

  if (wr2v_comfyui_parse_history (d, size, PROMPT_ID, &h, &err)) {
    g_assert (!h.is_object || h.found);
    g_assert (h.steps >= 0 && h.step >= 0);
    fuzz_touch (h.status_str);
    fuzz_touch (h.exception_message);
    if (h.has_output)
      check_view_url (h.filename, h.subfolder, h.type);
  }
  g_clear_error (&err);
  wr2v_comfyui_history_clear (&h);

  if (wr2v_comfyui_parse_queue (d, size, PROMPT_ID, CLIENT_ID, &q, &err)) {
    for (i = 0; i < q.client_prompts->len; i++)
      g_assert (wr2v_comfyui_prompt_id_ok (g_ptr_array_index
              (q.client_prompts, i)));
  }
  g_clear_error (&err);
  wr2v_comfyui_queue_clear (&q);

  /* the preflight's answers: /object_info/<class>, /models/<folder> */
  {
    gboolean yes = FALSE;

    if (!wr2v_comfyui_parse_object_info (d, size, "UNETLoader", &yes, &err))
      g_assert (!yes);
    g_clear_error (&err);
    if (!wr2v_comfyui_parse_model_list (d, size, "wan.safetensors", &yes, &err))
      g_assert (!yes);
    g_clear_error (&err);
  }
  return 0;
}
