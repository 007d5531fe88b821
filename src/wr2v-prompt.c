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

/* The continuing number (Wr2vReference.number) that @m names when read
 * as @reading, or 0 when it names no linked reference that way. */
static guint
continuing_number (const Wr2vPromptMention * m, Wr2vNumbering reading,
    guint videos, guint total)
{
  if (m->kind == WR2V_REF_VIDEO)
    return m->number >= 1 && m->number <= videos ? m->number : 0;
  if (reading == WR2V_NUMBERING_PER_TYPE)
    return m->number >= 1 && m->number <= total - videos ?
        m->number + videos : 0;
  return m->number > videos && m->number <= total ? m->number : 0;
}

/* The first mention that names no linked reference read as @reading. */
static const Wr2vPromptMention *
first_unlinked (GArray * mentions, Wr2vNumbering reading, guint videos,
    guint total)
{
  for (guint i = 0; i < mentions->len; i++) {
    const Wr2vPromptMention *m =
        &g_array_index (mentions, Wr2vPromptMention, i);

    if (!continuing_number (m, reading, videos, total))
      return m;
  }
  return NULL;
}

/* The first image mention linked in both readings: with videos linked, it
 * means a different image in each. */
static const Wr2vPromptMention *
first_ambiguous (GArray * mentions, guint videos, guint total)
{
  for (guint i = 0; videos > 0 && i < mentions->len; i++) {
    const Wr2vPromptMention *m =
        &g_array_index (mentions, Wr2vPromptMention, i);

    if (m->kind == WR2V_REF_IMAGE
        && continuing_number (m, WR2V_NUMBERING_CONTINUING, videos, total)
        && continuing_number (m, WR2V_NUMBERING_PER_TYPE, videos, total))
      return m;
  }
  return NULL;
}

/* auto: the reading that names only linked references; continuing when
 * both do (the seed's convention, and the old behaviour) or neither. */
static Wr2vNumbering
resolve (GArray * mentions, Wr2vNumbering numbering, guint videos,
    guint total, gboolean * ambiguous)
{
  gboolean continuing, per_type;

  if (ambiguous)
    *ambiguous = FALSE;
  if (numbering != WR2V_NUMBERING_AUTO)
    return numbering;
  continuing = !first_unlinked (mentions, WR2V_NUMBERING_CONTINUING, videos,
      total);
  per_type = !first_unlinked (mentions, WR2V_NUMBERING_PER_TYPE, videos, total);
  if (continuing && per_type && ambiguous)
    *ambiguous = first_ambiguous (mentions, videos, total) != NULL;
  return per_type && !continuing ?
      WR2V_NUMBERING_PER_TYPE : WR2V_NUMBERING_CONTINUING;
}

Wr2vNumbering
wr2v_prompt_reading (const Wr2vRequest * req, gboolean * ambiguous)
{
  g_autoptr (GArray) mentions = wr2v_prompt_find_mentions (req->prompt);

  return resolve (mentions, req->numbering, wr2v_request_count (req,
          WR2V_REF_VIDEO), req->references->len, ambiguous);
}

const gchar *
wr2v_numbering_nick (Wr2vNumbering numbering)
{
  switch (numbering) {
    case WR2V_NUMBERING_CONTINUING:
      return "continuing";
    case WR2V_NUMBERING_PER_TYPE:
      return "per-type";
    default:
      return "auto";
  }
}

/* "Video 1, Video 2 and Image 3", or "none", numbered as @reading says,
 * then how that reading counts. */
static gchar *
describe_references (const Wr2vRequest * req, Wr2vNumbering reading)
{
  GString *s = g_string_new (NULL);
  guint n = req->references->len;
  guint videos = wr2v_request_count (req, WR2V_REF_VIDEO);

  for (guint i = 0; i < n; i++) {
    const Wr2vReference *ref = g_ptr_array_index (req->references, i);
    gboolean per_type = reading == WR2V_NUMBERING_PER_TYPE &&
        ref->kind == WR2V_REF_IMAGE;

    if (i > 0)
      g_string_append (s, i == n - 1 ? " and " : ", ");
    g_string_append_printf (s, "%s %u", wr2v_ref_kind_word (ref->kind),
        per_type ? ref->number - videos : ref->number);
  }
  if (n == 0)
    g_string_append (s, "none");
  g_string_append (s, reading == WR2V_NUMBERING_PER_TYPE ?
      " (videos and images are each counted from 1)" :
      " (videos are numbered first, then images continue the count)");
  return g_string_free (s, FALSE);
}

/* auto, when neither reading names only linked references. */
static void
set_unlinked_in_both (GArray * mentions, const Wr2vRequest * req,
    GError ** error)
{
  guint videos = wr2v_request_count (req, WR2V_REF_VIDEO);
  guint total = req->references->len;
  const Wr2vPromptMention *c =
      first_unlinked (mentions, WR2V_NUMBERING_CONTINUING, videos, total);
  const Wr2vPromptMention *p =
      first_unlinked (mentions, WR2V_NUMBERING_PER_TYPE, videos, total);
  g_autofree gchar *as_continuing =
      describe_references (req, WR2V_NUMBERING_CONTINUING);
  g_autofree gchar *as_per_type =
      describe_references (req, WR2V_NUMBERING_PER_TYPE);

  for (guint i = 0; i < mentions->len; i++) {
    const Wr2vPromptMention *m =
        &g_array_index (mentions, Wr2vPromptMention, i);

    if (continuing_number (m, WR2V_NUMBERING_CONTINUING, videos, total) ||
        continuing_number (m, WR2V_NUMBERING_PER_TYPE, videos, total))
      continue;
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "The prompt names %s %u, which is not a linked reference. "
        "Linked: %s, or %s. Change the prompt or link that reference.",
        wr2v_ref_kind_word (m->kind), m->number, as_continuing, as_per_type);
    return;
  }
  g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
      "The prompt mixes the two numberings: %s %u is a linked reference "
      "only if videos and images are each counted from 1, %s %u only if "
      "images continue the count after the videos. Linked: %s, or %s. "
      "Use one numbering throughout the prompt, or set reference-numbering.",
      wr2v_ref_kind_word (c->kind), c->number, wr2v_ref_kind_word (p->kind),
      p->number, as_continuing, as_per_type);
}

gboolean
wr2v_prompt_check_mentions (const gchar * prompt, const Wr2vRequest * req,
    GError ** error)
{
  g_autoptr (GArray) mentions = wr2v_prompt_find_mentions (prompt);
  guint videos = wr2v_request_count (req, WR2V_REF_VIDEO);
  guint total = req->references->len;
  Wr2vNumbering reading = resolve (mentions, req->numbering, videos, total,
      NULL);
  const Wr2vPromptMention *m =
      first_unlinked (mentions, reading, videos, total);
  g_autofree gchar *linked = NULL;

  if (!m)
    return TRUE;
  if (req->numbering == WR2V_NUMBERING_AUTO) {
    set_unlinked_in_both (mentions, req, error);
    return FALSE;
  }
  linked = describe_references (req, reading);
  g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
      "The prompt names %s %u, which is not a linked reference. "
      "Linked: %s. Change the prompt or link that reference.",
      wr2v_ref_kind_word (m->kind), m->number, linked);
  return FALSE;
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
  Wr2vNumbering reading = resolve (mentions, req->numbering, videos, total,
      NULL);

  for (guint i = 0; i < mentions->len; i++) {
    guint n = continuing_number (&g_array_index (mentions, Wr2vPromptMention,
            i), reading, videos, total);
    gboolean seen = FALSE;

    for (guint j = 0; j < out->len && n; j++)
      seen |= g_array_index (out, guint, j) == n;
    if (n && !seen)
      g_array_append_val (out, n);
  }
  if (out->len == 0)
    for (guint n = 1; n <= total; n++)
      g_array_append_val (out, n);
  g_array_sort (out, compare_uint);
  return out;
}

/* "image_0": the pad of the reference with continuing number @n. */
static gchar *
pad_name (const Wr2vRequest * req, guint n)
{
  const Wr2vReference *ref = g_ptr_array_index (req->references, n - 1);

  return g_strdup_printf ("%s_%u", ref->kind == WR2V_REF_VIDEO ?
      "video" : "image", ref->pad_index);
}

gchar *
wr2v_prompt_ambiguity_warning (const Wr2vRequest * req)
{
  g_autoptr (GArray) mentions = wr2v_prompt_find_mentions (req->prompt);
  guint videos = wr2v_request_count (req, WR2V_REF_VIDEO);
  guint total = req->references->len;
  gboolean ambiguous;
  const Wr2vPromptMention *m;
  g_autofree gchar *as_continuing = NULL;
  g_autofree gchar *as_per_type = NULL;

  resolve (mentions, req->numbering, videos, total, &ambiguous);
  if (!ambiguous)
    return NULL;
  m = first_ambiguous (mentions, videos, total);
  as_continuing = pad_name (req, continuing_number (m,
          WR2V_NUMBERING_CONTINUING, videos, total));
  as_per_type = pad_name (req, continuing_number (m,
          WR2V_NUMBERING_PER_TYPE, videos, total));
  return g_strdup_printf ("The prompt names Image %u, which is %s if images "
      "continue the count after the videos, but %s if videos and images are "
      "each counted from 1. It was read as %s (images continue the count). "
      "Set reference-numbering=continuing to keep this reading, or "
      "reference-numbering=per-type for the other; either silences this "
      "warning.", m->number, as_continuing, as_per_type, as_continuing);
}

/* @prompt with every linked mention (read as @from) numbered as @to says;
 * the words and spacing stay as written. */
static gchar *
renumber (const gchar * prompt, Wr2vNumbering from, Wr2vNumbering to,
    guint videos, guint total)
{
  g_autoptr (GArray) mentions = wr2v_prompt_find_mentions (prompt);
  GString *out = g_string_new (NULL);
  gsize pos = 0;

  for (guint i = 0; i < mentions->len; i++) {
    const Wr2vPromptMention *m =
        &g_array_index (mentions, Wr2vPromptMention, i);
    guint n = continuing_number (m, from, videos, total);
    gsize end = m->offset + m->length, digits = end;

    if (n && to == WR2V_NUMBERING_PER_TYPE && m->kind == WR2V_REF_IMAGE)
      n -= videos;
    if (!n || n == m->number)
      continue;
    while (g_ascii_isdigit (prompt[digits - 1]))
      digits--;
    g_string_append_len (out, prompt + pos, digits - pos);
    g_string_append_printf (out, "%u", n);
    pos = end;
  }
  g_string_append (out, prompt + pos);
  return g_string_free (out, FALSE);
}

gchar *
wr2v_prompt_canonical (const Wr2vRequest * req)
{
  const gchar *prompt = req->prompt ? req->prompt : "";
  Wr2vNumbering reading = wr2v_prompt_reading (req, NULL);

  if (reading == WR2V_NUMBERING_CONTINUING)
    return g_strdup (prompt);
  return renumber (prompt, reading, WR2V_NUMBERING_CONTINUING,
      wr2v_request_count (req, WR2V_REF_VIDEO), req->references->len);
}

void
wr2v_prompt_canonicalize (Wr2vRequest * req)
{
  gchar *canonical = wr2v_prompt_canonical (req);

  g_free (req->prompt);
  req->prompt = canonical;
  req->numbering = WR2V_NUMBERING_CONTINUING;
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
      default:                 /* PER_TYPE: see wr2v_prompt_sent() */
        g_string_append_len (out, prompt + m->offset, m->length);
        break;
    }
    pos = m->offset + m->length;
  }
  g_string_append (out, prompt + pos);
  return g_string_free (out, FALSE);
}

/* Each engine's provider and the prompt form it documents: the one place
 * to change when a provider's documentation does. First match wins; a row
 * with a model prefix matches only that model family. Sources and how
 * sure: docs/prompt-indexing.md and ../shared/docs/providers.md. */
typedef struct
{
  const gchar *engine;
  const gchar *model_prefix;    /* NULL: any model, and the default one */
  Wr2vPromptStyle style;
  const gchar *source;
} PromptForm;

static const PromptForm prompt_forms[] = {
  {"dashscope", "wan2.6", WR2V_PROMPT_STYLE_WAN27,
      "kept as before for wan2.6 models, sent with wan2.7's request shape"},
  {"dashscope", NULL, WR2V_PROMPT_STYLE_PER_TYPE,
      "Alibaba's wan2.7-r2v guide: images and videos are counted "
        "separately [C]"},
  {"wavespeed", NULL, WR2V_PROMPT_STYLE_WAN27,
      "WaveSpeed's Wan 2.7 R2V announcement: videos first, images continue "
        "the sequence [C]"},
  {"comfyui", NULL, WR2V_PROMPT_STYLE_REFERENCE_IMAGE,
      "the project's composed-image workflow: the Nth subject from the left"},
  {"preview", NULL, WR2V_PROMPT_STYLE_WAN27,
      "the project's own: the caption, numbered as the pads are drawn"},
  /* [I] fal documents "@Video1" for wan 2.6, nothing yet for 2.7 */
  {"fal", NULL, WR2V_PROMPT_STYLE_AT_VIDEO,
      "fal.ai's wan 2.6 reference-to-video: \"@Video1\" [C for 2.6, I for 2.7]"},
  /* [I] Replicate documents no form: the vendor's, as its separate
   * reference_videos / reference_images arrays suggest */
  {"replicate", NULL, WR2V_PROMPT_STYLE_PER_TYPE,
      "none published; the vendor's (Alibaba) per-type count [I]"},
};

Wr2vPromptStyle
wr2v_prompt_style_for (const gchar * engine, const gchar * model,
    const gchar ** source)
{
  for (guint i = 0; i < G_N_ELEMENTS (prompt_forms); i++) {
    const PromptForm *f = &prompt_forms[i];

    if (g_strcmp0 (f->engine, engine) != 0)
      continue;
    if (f->model_prefix && !(model && g_str_has_prefix (model,
                f->model_prefix)))
      continue;
    if (source)
      *source = f->source;
    return f->style;
  }
  if (source)
    *source = "unknown engine: the continuing form";
  return WR2V_PROMPT_STYLE_WAN27;
}

gchar *
wr2v_prompt_sent (const Wr2vRequest * req, const gchar * engine,
    const gchar * model)
{
  g_autofree gchar *canonical = wr2v_prompt_canonical (req);
  Wr2vPromptStyle style = wr2v_prompt_style_for (engine, model, NULL);

  if (style == WR2V_PROMPT_STYLE_PER_TYPE)
    return renumber (canonical, WR2V_NUMBERING_CONTINUING,
        WR2V_NUMBERING_PER_TYPE, wr2v_request_count (req, WR2V_REF_VIDEO),
        req->references->len);
  return wr2v_prompt_translate (canonical, style);
}
