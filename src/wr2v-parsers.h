/* wr2v-parsers.h: what the engines read in their services' answers, as
 * pure functions. Each hosted engine declares its own in
 * src/engines/<name>/wr2v-<name>-wire.h; the rules below hold for all.
 *
 * Each parser takes a response body (any bytes: these come from a server
 * that may be broken or hostile) and fills a plain struct with copies of
 * the fields the engine uses. No I/O, no engine state, no logging, so that
 * the fuzzers (tests/fuzz) call exactly what the engines call. The engines
 * keep the policy: which error a user sees, whether to retry, the journal.
 *
 * A parser returns FALSE (WR2V_ERROR_PROTOCOL) only when the body can't be
 * read at all: not JSON, larger than WR2V_HTTP_JSON_MAX_BYTES, nested
 * deeper than WR2V_HTTP_JSON_MAX_DEPTH, or not the JSON object every one
 * of these APIs answers. Missing or mistyped members are left NULL / at
 * their default: the engine decides what their absence means.
 *
 * Strings are copied as sent: they are bounded by the body limit only.
 * Anything that goes into a path, a URL, a header or a message must pass
 * the validators below (or the engine's own text sanitizer) first.
 *
 * Every struct is zero-initialized by the caller and freed with its
 * _clear() function, also after a failed parse.
 */
#pragma once

#include <glib.h>

#include "wr2v-http.h"

G_BEGIN_DECLS

/* --- ComfyUI --- */

/* POST /upload/image: {"name", "subfolder", "type"}. */
typedef struct
{
  gchar *name;
  gchar *subfolder;
} Wr2vComfyuiUpload;

gboolean wr2v_comfyui_parse_upload (const gchar * data, gsize len,
    Wr2vComfyuiUpload * out, GError ** error);
void wr2v_comfyui_upload_clear (Wr2vComfyuiUpload * u);

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

gboolean wr2v_comfyui_parse_prompt (const gchar * data, gsize len,
    Wr2vComfyuiPromptAnswer * out, GError ** error);
void wr2v_comfyui_prompt_answer_clear (Wr2vComfyuiPromptAnswer * a);

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

/* Server text fit for an error message: the old name of
 * wr2v_http_safe_text(), kept until its callers use that one. */
#define wr2v_parsers_safe_text wr2v_http_safe_text

G_END_DECLS
