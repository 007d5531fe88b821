/* wr2v-prompt.h: the prompt's reference indices.
 *
 * Users name references in either of the two conventions Wan 2.7's hosts
 * document (Wr2vNumbering, wr2v-request.h): "continuing" (videos first,
 * then images continue the count: "Video 1", "Video 2", "Image 3") or
 * "per-type" (each kind counted from 1: "Video 1", "Video 2", "Image 1").
 * The request's numbering says how its prompt is read. The canonical form
 * (hashed, and what the element hands to the engines) is the continuing
 * one; each engine's provider then gets the form it documents, from one
 * table (wr2v_prompt_style_for). This file is the only place that knows
 * these conventions.
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

/* Checks that each mention names an existing reference of that kind,
 * reading @prompt as @req->numbering says (for AUTO: either reading). */
gboolean wr2v_prompt_check_mentions (const gchar * prompt,
    const Wr2vRequest * req, GError ** error);

/* The numbers (continuing, as Wr2vReference.number) of the references the
 * prompt names, ascending, no repeats; every reference when the prompt
 * names none. GArray of guint. */
GArray *wr2v_prompt_named_references (const gchar * prompt,
    const Wr2vRequest * req);

/* How @req->prompt is read: @req->numbering, or for AUTO the reading that
 * names only linked references (CONTINUING when both do, or neither).
 * @ambiguous (may be NULL) tells whether both readings name linked
 * references with different meanings. */
Wr2vNumbering wr2v_prompt_reading (const Wr2vRequest * req,
    gboolean * ambiguous);

/* "continuing" / "per-type" / "auto": the property's nicks. */
const gchar *wr2v_numbering_nick (Wr2vNumbering numbering);

/* For AUTO on an ambiguous prompt: what was read and how to choose, for a
 * warning. NULL when there is nothing to warn about. */
gchar *wr2v_prompt_ambiguity_warning (const Wr2vRequest * req);

/* @req->prompt in the continuing form, read as @req->numbering says;
 * mentions that name no linked reference are left as written. This is
 * what the request's hash covers, so a prompt keeps its hash whichever
 * convention it was written in. */
gchar *wr2v_prompt_canonical (const Wr2vRequest * req);

/* Rewrites @req->prompt into the canonical form and sets its numbering to
 * CONTINUING: done once the request is checked, before any engine sees
 * it, so that engines read "Image N" as the Nth reference. */
void wr2v_prompt_canonicalize (Wr2vRequest * req);

typedef enum
{
  WR2V_PROMPT_STYLE_WAN27,      /* continuing, as written: "Video 1", "Image 3" */
  WR2V_PROMPT_STYLE_CHARACTER,  /* wan2.6 style: "character1" in order */
  WR2V_PROMPT_STYLE_AT_VIDEO,   /* fal style: "@Video1", "@Image3" */
  WR2V_PROMPT_STYLE_REFERENCE_IMAGE, /* one composed image: "the reference image" */
  WR2V_PROMPT_STYLE_PER_TYPE,   /* "Video 1", "Image 1": needs the counts,
                                 * so only through wr2v_prompt_sent() */
} Wr2vPromptStyle;

/* The canonical (continuing) @prompt rewritten for a model that uses
 * @style. PER_TYPE needs the request: use wr2v_prompt_sent(). */
gchar *wr2v_prompt_translate (const gchar * prompt, Wr2vPromptStyle style);

/* THE table: the prompt form @engine's provider documents for @model
 * (NULL: the engine's default model). Unknown engines: continuing.
 * @source (may be NULL) gets where that form is documented. */
Wr2vPromptStyle wr2v_prompt_style_for (const gchar * engine,
    const gchar * model, const gchar ** source);

/* @req's prompt as @engine sends it to its provider for @model (NULL: the
 * engine's default): the canonical reading, in the table's form. */
gchar *wr2v_prompt_sent (const Wr2vRequest * req, const gchar * engine,
    const gchar * model);

G_END_DECLS
