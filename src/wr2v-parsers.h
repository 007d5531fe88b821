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

/* ComfyUI's parsers: src/engines/comfyui/wr2v-comfyui-wire.h */

/* Server text fit for an error message: at most @max bytes (then "..."),
 * control characters as spaces, valid UTF-8; when @secret is given (4
 * bytes or more), every occurrence of it is replaced by "***". NULL when
 * @text is NULL. */
gchar *wr2v_parsers_safe_text (const gchar * text, gsize max,
    const gchar * secret);

G_END_DECLS
