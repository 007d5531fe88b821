/* wr2v-prompt.h: the prompt's reference indices.
 *
 * Users name references the way the hosted Wan 2.7 API numbers them: videos
 * first, then images continue the count ("Video 1", "Video 2", "Image 3").
 * This file finds those mentions and rewrites them into the form another
 * model expects. It is the only place that knows either convention.
 */
#pragma once

#include "wr2v-request.h"

G_BEGIN_DECLS

typedef struct
{
  Wr2vRefKind kind;
  guint number;
  gsize offset;                 /* byte offset of the mention in the prompt */
  gsize length;                 /* byte length of the mention */
} Wr2vPromptMention;

/* Every "Video N" / "Image N" mention, case-insensitive, in order.
 * Returns a GArray of Wr2vPromptMention. */
GArray *wr2v_prompt_find_mentions (const gchar * prompt);

/* Checks that each mention names an existing reference of that kind. */
gboolean wr2v_prompt_check_mentions (const gchar * prompt,
    const Wr2vRequest * req, GError ** error);

/* The numbers of the references the prompt names, ascending, no repeats;
 * every reference when the prompt names none. GArray of guint. */
GArray *wr2v_prompt_named_references (const gchar * prompt,
    const Wr2vRequest * req);

typedef enum
{
  WR2V_PROMPT_STYLE_WAN27,      /* as written: "Video 1", "Image 3" */
  WR2V_PROMPT_STYLE_CHARACTER,  /* wan2.6 style: "character1" in order */
  WR2V_PROMPT_STYLE_AT_VIDEO,   /* fal style: "@Video1", "@Image3" */
  WR2V_PROMPT_STYLE_REFERENCE_IMAGE, /* one composed image: "the reference image" */
} Wr2vPromptStyle;

/* The prompt rewritten for a model that uses @style. */
gchar *wr2v_prompt_translate (const gchar * prompt, Wr2vPromptStyle style);

G_END_DECLS
