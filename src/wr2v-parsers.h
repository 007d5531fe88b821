/* wr2v-parsers.h: what the engines read in their services' answers, as
 * pure functions.
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

/* --- WaveSpeed: {"code": 200, "message": "...", "data": {...}} --- */

typedef struct
{
  gboolean has_code;            /* "code" is present and an integer */
  gint64 code;                  /* "code" (also when sent as a string) */
  gchar *message;               /* "message" */

  /* submit: data.id */
  gchar *id;
  /* poll: data.status, data.outputs[0] (when a string), and on failure
   * data.code (0 when absent) and data.error */
  gchar *status;
  gchar *output;
  gint64 error_code;
  gchar *error;
  /* media upload: data.download_url */
  gchar *download_url;
} Wr2vWavespeedAnswer;

gboolean wr2v_wavespeed_parse_answer (const gchar * data, gsize len,
    Wr2vWavespeedAnswer * out, GError ** error);
void wr2v_wavespeed_answer_clear (Wr2vWavespeedAnswer * a);

/* A WaveSpeed prediction id usable in a URL path segment and a file:
 * 1-128 of [A-Za-z0-9._-], not "." or "..". */
gboolean wr2v_wavespeed_job_id_ok (const gchar * id);

/* --- DashScope: {"request_id", "output": {...}, "usage": {...}} or an
 * error answer {"request_id", "code", "message"} --- */

typedef struct
{
  gchar *request_id;
  gchar *code;                  /* an error answer's "code" */
  gchar *message;               /* an error answer's "message" */

  /* create and poll: output.task_id, output.task_status */
  gchar *task_id;
  gchar *task_status;
  /* poll, succeeded: output.video_url */
  gchar *video_url;
  /* poll, failed: output.code, output.message */
  gchar *task_code;
  gchar *task_message;
  /* poll, succeeded: usage.* in seconds, -1 when absent */
  gboolean has_usage;
  gint64 usage_duration;
  gint64 usage_input_video_duration;
  gint64 usage_output_video_duration;
} Wr2vDashscopeAnswer;

gboolean wr2v_dashscope_parse_answer (const gchar * data, gsize len,
    Wr2vDashscopeAnswer * out, GError ** error);
void wr2v_dashscope_answer_clear (Wr2vDashscopeAnswer * a);

/* A temporary-upload policy (GET /api/v1/uploads?action=getPolicy). */
typedef struct
{
  gchar *upload_host;
  gchar *upload_dir;
  gchar *access_key_id;
  gchar *signature;
  gchar *policy;
  gchar *object_acl;            /* optional */
  gchar *forbid_overwrite;      /* optional */
  gint64 max_file_size_mb;      /* <= 0: not given */
} Wr2vDashscopePolicy;

/* Parses and validates a policy: an upload host the URL policy allows
 * (https, or http to loopback), a plain relative upload_dir, and every
 * form field one line of printable text. FALSE (WR2V_ERROR_PROTOCOL) with
 * a message naming what is wrong. */
gboolean wr2v_dashscope_parse_policy (const gchar * data, gsize len,
    Wr2vDashscopePolicy * out, GError ** error);
void wr2v_dashscope_policy_clear (Wr2vDashscopePolicy * p);

/* A DashScope task id: the same rule as wr2v_wavespeed_job_id_ok(). */
gboolean wr2v_dashscope_task_id_ok (const gchar * id);

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
