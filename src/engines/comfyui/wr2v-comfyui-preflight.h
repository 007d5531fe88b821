/* wr2v-comfyui-preflight.h: before anything is uploaded or queued, does
 * this ComfyUI have what the workflow needs?
 *
 * Every node class of the graph must exist (GET /object_info/<class>
 * answers {} for an unknown one) and every model file a loader names must
 * be installed (GET /models/<folder> lists a folder's files). A missing
 * one fails the job with an error naming it (the file and its folder, or
 * the class), before the references are uploaded and the GPU is queued.
 * A server without these routes (an older ComfyUI: 404) is not checked:
 * a debug line says so, and POST /prompt's node_errors remain the check.
 * (docs/engines/comfyui.md, "Preflight")
 */
#pragma once

#include <json-glib/json-glib.h>

#include "wr2v-engine.h"
#include "wr2v-remote.h"

G_BEGIN_DECLS
/* A model file a loader node of the graph names. */
    typedef struct
{
  gchar *node_id;
  gchar *class_type;            /* "UNETLoader" */
  gchar *input;                 /* "unet_name" */
  gchar *folder;                /* "diffusion_models": under ComfyUI/models */
  gchar *file;                  /* "wan2.1_vace_1.3B_fp16.safetensors" */
} Wr2vComfyuiModelNeed;

void wr2v_comfyui_model_need_free (Wr2vComfyuiModelNeed * need);

/* Pure: the distinct node classes of API-format @graph (sorted), and the
 * model files its known loaders name (placeholders skipped). */
void wr2v_comfyui_graph_needs (JsonObject * graph, GPtrArray ** classes,
    GPtrArray ** models);

/* Pure: GET /object_info/<class>'s answer: *@has when it describes
 * @node_class. FALSE when it is not a JSON object. */
gboolean wr2v_comfyui_parse_object_info (const gchar * data, gsize len,
    const gchar * node_class, gboolean * has, GError ** error);

/* Pure: GET /models/<folder>'s answer, a JSON array of file names; TRUE
 * with *@found when @file is one of them. */
gboolean wr2v_comfyui_parse_model_list (const gchar * data, gsize len,
    const gchar * file, gboolean * found, GError ** error);

/* Checks @graph (the workflow at @path) against the server of @remote.
 * FALSE with WR2V_ERROR_UNSUPPORTED naming what is missing, or with the
 * error of a request that failed (WR2V_ERROR_NETWORK: the caller says
 * where ComfyUI should be). */
gboolean wr2v_comfyui_preflight (Wr2vRemote * remote, Wr2vJob * job,
    JsonObject * graph, const gchar * path, GError ** error);

G_END_DECLS
