/* wr2v-dashscope-wire.h: DashScope's wire format, as pure functions.
 *
 * The request builders and answer parsers of engine=dashscope. No I/O, no
 * engine state, no logging, so that the fuzzers (tests/fuzz) call exactly
 * what the engine calls. The rules every parser here follows are in
 * src/wr2v-json.h; the facts, with their sources and how sure each is,
 * in docs/engines/dashscope.md ("Wire protocol and sources").
 */
#pragma once

#include <glib.h>

#include "wr2v-http.h"
#include "wr2v-json.h"
#include "wr2v-remote.h"
#include "wr2v-request.h"

G_BEGIN_DECLS

/* {"request_id", "output": {...}, "usage": {...}} or an error answer
 * {"request_id", "code", "message"} */
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

WR2V_JSON_DECLARE_PARSER (Wr2vDashscopeAnswer, wr2v_dashscope_parse_answer,
    wr2v_dashscope_answer_clear);

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
WR2V_JSON_DECLARE_PARSER (Wr2vDashscopePolicy, wr2v_dashscope_parse_policy,
    wr2v_dashscope_policy_clear);

/* A task id fit for a URL path segment and a file name: the rule of every
 * hosted engine, wr2v_remote_job_id_ok(). */
#define wr2v_dashscope_task_id_ok(id) wr2v_remote_job_id_ok (id)

/* A model name: 1-128 of [A-Za-z0-9._-]. */
gboolean wr2v_dashscope_model_ok (const gchar * model);

/* The Content-Type a reference is uploaded with: its own when it is one
 * line of text, else image/png or video/mp4. */
const gchar *wr2v_dashscope_mime (const Wr2vReference * ref);

/* The most fields an upload form has. */
#define WR2V_DASHSCOPE_FORM_PARTS 9

/* Fills @parts with the OSS PostObject form of an upload of @ref under
 * @object_key (the policy's fields, then the file, last); returns how many
 * were filled. The parts borrow from @pol, @object_key, @ref and
 * @filename. */
guint wr2v_dashscope_upload_form (const Wr2vDashscopePolicy * pol,
    const gchar * object_key, const Wr2vReference * ref,
    const gchar * filename,
    Wr2vHttpFormPart parts[WR2V_DASHSCOPE_FORM_PARTS]);

/* "<Code>: <Message>" of an OSS XML error body, or NULL; bounded. */
gchar *wr2v_dashscope_oss_error_text (GBytes * body);

/* "720P" or "1080P". */
const gchar *wr2v_dashscope_resolution (Wr2vResolution r);

/* The body of POST /api/v1/services/aigc/video-generation/video-synthesis:
 * @urls holds the URL the service fetches each of @req's references from,
 * in the request's order; @voice_urls likewise each one's voice (NULL
 * where it has none), or is NULL: each reference's voice_uri. */
gchar *wr2v_dashscope_submit_body (const gchar * model,
    const Wr2vRequest * req, const gchar * const *urls,
    const gchar * const *voice_urls);

G_END_DECLS
