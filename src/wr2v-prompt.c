/* wr2v-prompt.c: finding and translating "Video N" / "Image N". */
#include "wr2v-prompt.h"
#include "wr2v-error.h"

#include <stdlib.h>

/* "Video 1", "video1", "IMAGE  3": a whole word, then the number. */
static GRegex *
mention_regex (void)
{
  static GRegex *regex;

  if (g_once_init_enter (&regex)) {
    GRegex *r = g_regex_new ("\\b(video|image)[ \\t]*([0-9]{1,9})\\b",
        G_REGEX_CASELESS | G_REGEX_OPTIMIZE, 0, NULL);
    g_once_init_leave (&regex, r);
  }
  return regex;
}

GArray *
wr2v_prompt_find_mentions (const gchar * prompt)
{
  GArray *out = g_array_new (FALSE, FALSE, sizeof (Wr2vPromptMention));
  g_autoptr (GMatchInfo) info = NULL;

  if (!prompt || !g_utf8_validate (prompt, -1, NULL))
    return out;

  g_regex_match (mention_regex (), prompt, 0, &info);
  while (g_match_info_matches (info)) {
    Wr2vPromptMention m;
    gint start, end, wstart, wend, nstart, nend;

    g_match_info_fetch_pos (info, 0, &start, &end);
    g_match_info_fetch_pos (info, 1, &wstart, &wend);
    g_match_info_fetch_pos (info, 2, &nstart, &nend);
    m.kind = g_ascii_tolower (prompt[wstart]) == 'v' ?
        WR2V_REF_VIDEO : WR2V_REF_IMAGE;
    m.number = (guint) strtoul (prompt + nstart, NULL, 10);
    m.offset = start;
    m.length = end - start;
    g_array_append_val (out, m);
    g_match_info_next (info, NULL);
  }
  return out;
}

/* "Video 1, Video 2 and Image 3", or "none". */
static gchar *
describe_references (const Wr2vRequest * req)
{
  GString *s = g_string_new (NULL);
  guint n = req->references->len;

  for (guint i = 0; i < n; i++) {
    const Wr2vReference *ref = g_ptr_array_index (req->references, i);

    if (i > 0)
      g_string_append (s, i == n - 1 ? " and " : ", ");
    g_string_append_printf (s, "%s %u", wr2v_ref_kind_word (ref->kind),
        ref->number);
  }
  if (n == 0)
    g_string_append (s, "none");
  return g_string_free (s, FALSE);
}

gboolean
wr2v_prompt_check_mentions (const gchar * prompt, const Wr2vRequest * req,
    GError ** error)
{
  g_autoptr (GArray) mentions = wr2v_prompt_find_mentions (prompt);
  guint videos = wr2v_request_count (req, WR2V_REF_VIDEO);
  guint total = req->references->len;

  for (guint i = 0; i < mentions->len; i++) {
    const Wr2vPromptMention *m =
        &g_array_index (mentions, Wr2vPromptMention, i);
    gboolean valid = m->kind == WR2V_REF_VIDEO ?
        (m->number >= 1 && m->number <= videos) :
        (m->number > videos && m->number <= total);

    if (!valid) {
      g_autofree gchar *linked = describe_references (req);

      g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
          "The prompt names %s %u, which is not a linked reference. "
          "Linked: %s (videos are numbered first, then images continue "
          "the count). Change the prompt or link that reference.",
          wr2v_ref_kind_word (m->kind), m->number, linked);
      return FALSE;
    }
  }
  return TRUE;
}

static gint
compare_uint (gconstpointer a, gconstpointer b)
{
  guint x = *(const guint *) a, y = *(const guint *) b;

  return (x > y) - (x < y);
}

GArray *
wr2v_prompt_named_references (const gchar * prompt, const Wr2vRequest * req)
{
  g_autoptr (GArray) mentions = wr2v_prompt_find_mentions (prompt);
  GArray *out = g_array_new (FALSE, FALSE, sizeof (guint));
  guint videos = wr2v_request_count (req, WR2V_REF_VIDEO);
  guint total = req->references->len;

  for (guint i = 0; i < mentions->len; i++) {
    const Wr2vPromptMention *m =
        &g_array_index (mentions, Wr2vPromptMention, i);
    gboolean valid = m->kind == WR2V_REF_VIDEO ?
        (m->number >= 1 && m->number <= videos) :
        (m->number > videos && m->number <= total);
    gboolean seen = FALSE;

    for (guint j = 0; j < out->len && valid; j++)
      seen |= g_array_index (out, guint, j) == m->number;
    if (valid && !seen)
      g_array_append_val (out, m->number);
  }
  if (out->len == 0)
    for (guint n = 1; n <= total; n++)
      g_array_append_val (out, n);
  g_array_sort (out, compare_uint);
  return out;
}

gchar *
wr2v_prompt_translate (const gchar * prompt, Wr2vPromptStyle style)
{
  g_autoptr (GArray) mentions = NULL;
  GString *out;
  gsize pos = 0;

  if (!prompt)
    return g_strdup ("");
  if (style == WR2V_PROMPT_STYLE_WAN27)
    return g_strdup (prompt);

  mentions = wr2v_prompt_find_mentions (prompt);
  out = g_string_sized_new (strlen (prompt) + 16);
  for (guint i = 0; i < mentions->len; i++) {
    const Wr2vPromptMention *m =
        &g_array_index (mentions, Wr2vPromptMention, i);

    g_string_append_len (out, prompt + pos, m->offset - pos);
    switch (style) {
      case WR2V_PROMPT_STYLE_CHARACTER:
        /* wan2.6: characterN is the Nth reference URL, and references
         * are sent in prompt order, so N carries over. */
        g_string_append_printf (out, "character%u", m->number);
        break;
      case WR2V_PROMPT_STYLE_AT_VIDEO:
        g_string_append_printf (out, "@%s%u", wr2v_ref_kind_word (m->kind),
            m->number);
        break;
      case WR2V_PROMPT_STYLE_REFERENCE_IMAGE:
        /* One composed image holds every reference, left to right. */
        g_string_append_printf (out, "reference subject %u", m->number);
        break;
      default:
        g_string_append_len (out, prompt + m->offset, m->length);
        break;
    }
    pos = m->offset + m->length;
  }
  g_string_append (out, prompt + pos);
  return g_string_free (out, FALSE);
}
