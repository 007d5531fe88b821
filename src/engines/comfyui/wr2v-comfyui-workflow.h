/* wr2v-comfyui-workflow.h: the ComfyUI job as a graph in API format.
 *
 * The graph is the `workflow` property's file, else the shipped Wan2.1
 * VACE 1.3B reference-to-video graph (data/comfyui/), read once per
 * engine so that identity and submit see the same bytes. Placeholders in
 * it are filled in by walking the parsed JSON tree: a string value
 * exactly equal to one of
 *   "{{prompt}}", "{{negative_prompt}}", "{{reference_image}}"  (strings)
 *   "{{reference_images}}"  (a JSON array of uploaded image names)
 *   "{{seed}}", "{{width}}", "{{height}}", "{{length}}", "{{fps}}" (numbers)
 * is replaced; any other "{{...}}" is refused, so that nothing is silently
 * left unfilled. A graph with neither reference placeholder is refused:
 * the references would be ignored.
 *
 * Sizes: Wan2.1 runs at 16 fps; length = 16 * duration + 1 frames (4k+1,
 * as its VAE packs 4 frames per latent after the first), width and height
 * are multiples of 16. VACE 1.3B is a 480p model: with the default
 * workflow (or any workflow that loads a "1.3B" model) the clip is 832x480
 * (480x832 portrait, 480x480 square, 640x480 / 480x640 for 4:3 / 3:4)
 * whatever resolution says. (docs/engines/comfyui.md)
 */
#pragma once

#include <json-glib/json-glib.h>

#include "wr2v-request.h"

G_BEGIN_DECLS

/* Wan2.1 [docs/engines/comfyui.md]: 16 fps */
#define WR2V_COMFYUI_FPS 16

typedef enum
{
  WR2V_COMFYUI_PH_PROMPT = 1 << 0,
  WR2V_COMFYUI_PH_NEGATIVE = 1 << 1,
  WR2V_COMFYUI_PH_REFERENCE = 1 << 2,
  WR2V_COMFYUI_PH_REFERENCES = 1 << 3,
  WR2V_COMFYUI_PH_SEED = 1 << 4,
  WR2V_COMFYUI_PH_WIDTH = 1 << 5,
  WR2V_COMFYUI_PH_HEIGHT = 1 << 6,
  WR2V_COMFYUI_PH_LENGTH = 1 << 7,
  WR2V_COMFYUI_PH_FPS = 1 << 8,
} Wr2vComfyuiPlaceholder;

/* What the placeholders become. */
typedef struct
{
  const gchar *prompt;
  const gchar *negative;
  const gchar *reference;
  GPtrArray *references;
  gint64 seed;
  gint width, height, length, fps;
} Wr2vComfyuiValues;

/* The workflow's bytes, read once; its own lock guards them. */
typedef struct
{
  GMutex lock;
  GBytes *bytes;
  gchar *path;
  gchar *sha256;
} Wr2vComfyuiWorkflow;

void wr2v_comfyui_workflow_init (Wr2vComfyuiWorkflow * wf);
void wr2v_comfyui_workflow_clear (Wr2vComfyuiWorkflow * wf);

/* The SHA-256 of the workflow's bytes (@setting: the workflow property,
 * NULL or "" for the default), NULL when it can't be read. */
gchar *wr2v_comfyui_workflow_sha256 (Wr2vComfyuiWorkflow * wf,
    const gchar * setting);

/* The workflow parsed, checked to be API format and scanned: which
 * placeholders it has (@found, Wr2vComfyuiPlaceholder flags) and whether
 * it runs the 480p 1.3B model (@small_model, also for the default). A
 * mutable tree: unref it. */
JsonNode *wr2v_comfyui_workflow_load (Wr2vComfyuiWorkflow * wf,
    const gchar * setting, gchar ** path, guint * found,
    gboolean * small_model, GError ** error);

/* Replaces the placeholders of @root (from _load(), at @path) by @values. */
gboolean wr2v_comfyui_workflow_fill (JsonNode * root, const gchar * path,
    const Wr2vComfyuiValues * values, GError ** error);

/* The size the workflow renders at: multiples of 16. */
void wr2v_comfyui_render_size (const Wr2vRequest * req, gboolean small_model,
    gint * width, gint * height);

/* Frames for @duration seconds: 4k+1. */
gint wr2v_comfyui_frame_count (guint duration);

/* The explanation when the 1.3B model renders smaller than asked. */
gchar *wr2v_comfyui_small_model_note (const Wr2vRequest * req,
    const gchar * path);

G_END_DECLS
