/* wr2v-comfyui-wire.h: ComfyUI's answers read, and its requests built,
 * as pure functions: no I/O, no engine state, no logging, so that the
 * fuzzer (tests/fuzz/fuzz-comfyui.c) calls exactly what the engine calls.
 * The rules of src/wr2v-json.h hold here too: a parser fails only on a
 * body that is not a JSON object; missing members stay NULL / at their
 * default; every struct is zero-initialized by the caller and freed with
 * its _clear() function. What each answer looks like, and how sure we
 * are of it: docs/engines/comfyui.md, "Wire protocol and sources".
 */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "wr2v-json.h"

G_BEGIN_DECLS

/* POST /upload/image: {"name", "subfolder", "type"}. */
typedef struct
{
  gchar *name;
  gchar *subfolder;
} Wr2vComfyuiUpload;

WR2V_JSON_DECLARE_PARSER (Wr2vComfyuiUpload, wr2v_comfyui_parse_upload,
    wr2v_comfyui_upload_clear);

/* POST /prompt: {"prompt_id", "number", "node_errors"} or, on 400,
 * {"error": {"message"}, "node_errors": {...}}. */
typedef struct
{
  gchar *prompt_id;
  gchar *error_message;         /* error.message */
  guint n_node_errors;
  /* "node 7 (LoadImage): Value not in list: ...; ...", bounded, one line,
   * valid UTF-8; "" when there are none */
  gchar *node_errors;
} Wr2vComfyuiPromptAnswer;

WR2V_JSON_DECLARE_PARSER (Wr2vComfyuiPromptAnswer, wr2v_comfyui_parse_prompt,
    wr2v_comfyui_prompt_answer_clear);

/* GET /history/<prompt_id>: {} until done, then {"<id>": {"status":
 * {...}, "outputs": {...}}}. */
typedef struct
{
  gboolean found;               /* the answer has a member for the id */
  gboolean is_object;           /* ... and it is an object */
  gchar *status_str;            /* status.status_str */
  gboolean completed;           /* status.completed, TRUE when absent */
  gint step, steps;             /* the last "progress" message, or 0 / 0 */
  /* the last "execution_error" message */
  gboolean has_error;
  gchar *exception_type;
  gchar *exception_message;
  gchar *node_id;
  gchar *node_type;
  /* an "execution_interrupted" message */
  gboolean interrupted;
  /* the output to fetch: the first video among the outputs' images /
   * gifs / videos entries, else the first file; not yet validated */
  gboolean has_output;
  gchar *filename;
  gchar *subfolder;
  gchar *type;
} Wr2vComfyuiHistory;

gboolean wr2v_comfyui_parse_history (const gchar * data, gsize len,
    const gchar * prompt_id, Wr2vComfyuiHistory * out, GError ** error);
void wr2v_comfyui_history_clear (Wr2vComfyuiHistory * h);

typedef enum
{
  WR2V_COMFYUI_QUEUE_ABSENT,
  WR2V_COMFYUI_QUEUE_PENDING,
  WR2V_COMFYUI_QUEUE_RUNNING,
} Wr2vComfyuiQueuePlace;

/* GET /queue: {"queue_running": [[number, id, prompt, extra, outputs]],
 * "queue_pending": [...]}. */
typedef struct
{
  Wr2vComfyuiQueuePlace place;  /* of @prompt_id */
  guint ahead;                  /* when pending: jobs before it */
  /* the (valid) prompt ids queued under @client_id, when given */
  GPtrArray *client_prompts;
} Wr2vComfyuiQueue;

gboolean wr2v_comfyui_parse_queue (const gchar * data, gsize len,
    const gchar * prompt_id, const gchar * client_id, Wr2vComfyuiQueue * out,
    GError ** error);
void wr2v_comfyui_queue_clear (Wr2vComfyuiQueue * q);

/* A ComfyUI prompt id (a UUID): 1-128 of [A-Za-z0-9_-]. */
gboolean wr2v_comfyui_prompt_id_ok (const gchar * id);

/* A file name the server gave: nonempty, at most 255 bytes, valid UTF-8,
 * not absolute, no "..", no backslash, colon or control character; with
 * @allow_subdirs, "/" may separate components. */
gboolean wr2v_comfyui_file_name_ok (const gchar * s, gboolean allow_subdirs);

/* The /view URL of an output on @base (api-url without a trailing slash),
 * every part escaped; NULL when the file name or subfolder is refused.
 * @type other than "temp" becomes "output". */
gchar *wr2v_comfyui_view_url (const gchar * base, const gchar * filename,
    const gchar * subfolder, const gchar * type);

/* A subfolder the server gave: empty, or wr2v_comfyui_file_name_ok()
 * with subfolders allowed. */
gboolean wr2v_comfyui_subfolder_ok (const gchar * s);

/* From GET /queue: the client_id @prompt_id was queued under, when it is
 * one this engine makes ("wanr2v-" and a valid id); else NULL. */
gchar *wr2v_comfyui_queue_client_id (const gchar * data, gsize len,
    const gchar * prompt_id);

typedef enum
{
  WR2V_COMFYUI_WS_OTHER,        /* nothing for @prompt_id */
  WR2V_COMFYUI_WS_PROGRESS,     /* a sampler step: *step of *steps */
  WR2V_COMFYUI_WS_FINISHED,     /* "executing" with node null */
} Wr2vComfyuiWsEvent;

/* One /ws message: {"type": "progress", "data": {"value", "max",
 * "prompt_id"}} (older versions send no prompt_id, to the client that
 * queued the prompt: ours) or {"type": "executing", "data": {"node":
 * null, "prompt_id"}}. @step and @steps are set only for a valid
 * progress (0 <= value <= max, max > 0). */
Wr2vComfyuiWsEvent wr2v_comfyui_parse_ws_message (GBytes * msg,
    const gchar * prompt_id, gint * step, gint * steps);

/* The body of POST /prompt: {"prompt": @graph, "client_id": @client_id};
 * takes @graph. */
gchar *wr2v_comfyui_prompt_body (JsonNode * graph, const gchar * client_id);

/* The bodies that stop a job: POST /queue {"delete": [@prompt_id]} and
 * POST /interrupt {"prompt_id": @prompt_id}. */
gchar *wr2v_comfyui_delete_body (const gchar * prompt_id);
gchar *wr2v_comfyui_interrupt_body (const gchar * prompt_id);

/* Node @node_id of an API-format graph: its class_type, with its
 * "inputs" object in @inputs; NULL (and @inputs NULL) when the member is
 * not an object with a string class_type. */
const gchar *wr2v_comfyui_graph_node (JsonObject * graph,
    const gchar * node_id, JsonObject ** inputs);

G_END_DECLS
