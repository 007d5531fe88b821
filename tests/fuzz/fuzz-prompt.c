/* fuzz-prompt.c: the prompt-index parser. The first byte chooses how
 * many videos and images are linked; the rest is the prompt. Checks that
 * every mention lies inside the prompt, that check and named_references
 * agree, and that every translation only rewrites mentions. The first
 * byte's top bits choose the numbering: a prompt that checks out keeps
 * its meaning in the canonical (continuing) form. */
#include "fuzz-common.h"
#include "wr2v-prompt.h"
#include "wr2v-request.h"

int
LLVMFuzzerTestOneInput (const uint8_t * data, size_t size)
{
  Wr2vRequest *req;
  gchar *prompt;
  GArray *mentions, *named;
  guint i, videos, images;
  gsize len;
  gboolean ok;
  static const Wr2vPromptStyle styles[] = {
    WR2V_PROMPT_STYLE_WAN27, WR2V_PROMPT_STYLE_CHARACTER,
    WR2V_PROMPT_STYLE_AT_VIDEO, WR2V_PROMPT_STYLE_REFERENCE_IMAGE,
  };

  if (size < 1)
    return 0;
  videos = data[0] & 0x7;
  images = (data[0] >> 3) & 0x7;
  prompt = fuzz_strndup (data + 1, size - 1);
  len = strlen (prompt);

  req = wr2v_request_new ();
  req->prompt = g_strdup (prompt);
  req->numbering = (Wr2vNumbering) ((data[0] >> 6) % 3);
  for (i = 0; i < videos; i++)
    wr2v_request_add_reference (req, wr2v_reference_new (WR2V_REF_VIDEO, i));
  for (i = 0; i < images; i++)
    wr2v_request_add_reference (req, wr2v_reference_new (WR2V_REF_IMAGE, i));
  wr2v_request_number_references (req);

  mentions = wr2v_prompt_find_mentions (prompt);
  for (i = 0; i < mentions->len; i++) {
    Wr2vPromptMention *m = &g_array_index (mentions, Wr2vPromptMention, i);

    g_assert (m->offset + m->length <= len);
    g_assert (m->length >= 6);  /* "video1" is the shortest */
    if (i > 0) {
      Wr2vPromptMention *prev = &g_array_index (mentions, Wr2vPromptMention,
          i - 1);
      g_assert (prev->offset + prev->length <= m->offset);
    }
  }

  ok = wr2v_prompt_check_mentions (prompt, req, NULL);
  named = wr2v_prompt_named_references (prompt, req);
  for (i = 0; i < named->len; i++) {
    guint n = g_array_index (named, guint, i);

    g_assert (n >= 1 && n <= videos + images);
    if (i > 0)
      g_assert (g_array_index (named, guint, i - 1) < n);
  }
  /* a prompt whose mentions all check out names only linked references */
  if (ok && mentions->len > 0 && videos + images > 0)
    g_assert (named->len > 0);

  for (i = 0; i < G_N_ELEMENTS (styles); i++) {
    gchar *t = wr2v_prompt_translate (prompt, styles[i]);

    g_assert (t != NULL);
    /* nothing to rewrite: the prompt as it was */
    if (mentions->len == 0)
      g_assert_cmpstr (t, ==, prompt);
    g_free (t);
  }

  {
    static const gchar *engines[] = { "dashscope", "wavespeed", "comfyui",
      "preview", "fal", "replicate", "other"
    };
    gchar *warning = wr2v_prompt_ambiguity_warning (req);
    GArray *named_canon;

    g_free (warning);
    for (i = 0; i < G_N_ELEMENTS (engines); i++)
      g_free (wr2v_prompt_sent (req, engines[i], NULL));
    /* last: the request now holds the canonical prompt */
    wr2v_prompt_canonicalize (req);
    g_assert (req->numbering == WR2V_NUMBERING_CONTINUING);
    named_canon = wr2v_prompt_named_references (req->prompt, req);
    if (ok) {
      g_assert (wr2v_prompt_check_mentions (req->prompt, req, NULL));
      g_assert_cmpuint (named_canon->len, ==, named->len);
      for (i = 0; i < named->len; i++)
        g_assert_cmpuint (g_array_index (named_canon, guint, i), ==,
            g_array_index (named, guint, i));
    }
    g_array_unref (named_canon);
  }

  g_array_unref (named);
  g_array_unref (mentions);
  wr2v_request_free (req);
  g_free (prompt);
  return 0;
}
