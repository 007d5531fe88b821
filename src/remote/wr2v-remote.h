/* wr2v-remote.h: the remote-job layer every hosted engine stands on.
 *
 * A hosted engine (a paid HTTP API that takes a job, runs it for minutes
 * and hands back a URL) is a Wr2vRemote plus a Wr2vRemoteClass: the layer
 * owns what every such API needs the same way, the engine supplies only
 * what is its own. In the manner of gst-plugins-bad's gstcurlbasesink and
 * its thin protocol sinks.
 *
 * The layer owns:
 *  - one Wr2vHttp per engine (kept-alive connections between polls);
 *  - the key (api-key, else the class's environment variable; never
 *    logged, scrubbed from every provider text);
 *  - routes under api-url: trailing slashes dropped, no query or fragment,
 *    https or http to loopback only (wr2v_http_url_allowed);
 *  - the upload record cache: content SHA-256 -> the service's URL, in
 *    memory and in the store, reused while it stays valid for the whole
 *    job, forgotten when the service could not fetch it;
 *  - the submit-once rule (one POST on a fresh connection that is closed
 *    afterwards, never retried) and the "maybe submitted" classification;
 *  - an HTTP status (or an answer's error envelope) to a user-facing
 *    error, with the job's details (http-status, provider-code,
 *    provider-message, request-id, job-id);
 *  - reads retried with capped backoff, honouring Retry-After
 *    (wr2v_http_perform_retry); never a submit;
 *  - progress throttling (every 10 %, at most twice a second);
 *  - the capped download of the clip into the driver's path.
 *
 * An engine supplies (Wr2vRemoteClass): its names and texts, its limits,
 * what its error answers say (answer_fault) and what they mean
 * (explain_fault), where a submit goes and how a request becomes its body
 * (submit_route, submit_body), how its answers become a submit verdict
 * (read_submit) and a poll result (read_poll), and its upload flow
 * (upload). Its wire builders and parsers stay pure, in
 * wr2v-<name>-wire.[ch], the fuzz targets.
 *
 * The engine's private struct starts with a Wr2vRemote:
 *
 *   typedef struct { Wr2vRemote remote; ... } MyPriv;
 *   engine = wr2v_remote_engine_new (&my_engine_class, &my_remote_class,
 *       sizeof (MyPriv));
 *
 * and its Wr2vEngineClass points prepare, submit, poll, fetch and finalize
 * at the wr2v_remote_engine_* functions below with WR2V_REMOTE_ENGINE_HOOKS
 * (or at its own function that calls them, when it has more to do).
 *
 * Everything runs on the job's thread and is cancellable through
 * job->cancellable; a Wr2vRemote may serve several jobs at once (see the
 * thread-safety note in wr2v-remote.c).
 */
#pragma once

#include "wr2v-defaults.h"
#include "wr2v-engine.h"
#include "wr2v-http.h"

G_BEGIN_DECLS

typedef struct _Wr2vRemote Wr2vRemote;
typedef struct _Wr2vRemoteClass Wr2vRemoteClass;
/* a hosted model's limits (wr2v-remote-limits.h) */
typedef struct _Wr2vRemoteLimits Wr2vRemoteLimits;

/* What an error answer says, as read by the class's answer_fault hook from
 * a body (copies, not yet sanitized: the layer passes them through
 * wr2v_remote_provider_text before any message or detail). */
typedef struct
{
  gchar *code;                  /* the provider's code, NULL when none */
  /* the code is a number: recorded as an int provider-code detail */
  gboolean code_is_int;
  gint64 code_int;
  gchar *message;
  gchar *request_id;            /* for support tickets */
} Wr2vRemoteFault;

void wr2v_remote_fault_clear (Wr2vRemoteFault * fault);

/* Where an answer struct keeps what an error answer says: the offsets
 * (G_STRUCT_OFFSET) of its gchar * members. */
typedef struct
{
  gboolean set;
  glong code;                   /* the provider's code */
  glong message;
  glong message_else;           /* the message when that one is NULL */
} Wr2vRemoteFaultMembers;

/* How a submit's answer reads (read_submit). */
typedef enum
{
  WR2V_REMOTE_SUBMIT_ACCEPTED,  /* a job id came */
  WR2V_REMOTE_SUBMIT_REFUSED,   /* nothing was created; error set */
  WR2V_REMOTE_SUBMIT_MAYBE,     /* a paid job may exist; why set */
} Wr2vRemoteVerdict;

/* The request a hosted engine's submit hook built. */
typedef struct
{
  const gchar *url;             /* from wr2v_remote_route */
  const gchar *body;            /* JSON */
  const gchar *const *headers;  /* extra "Name: value" lines, or NULL */
  const gchar *what;            /* "submitting the job to <model>" */
} Wr2vRemoteSubmit;

struct _Wr2vRemoteClass
{
  /* --- names and texts --- */
  const gchar *provider;        /* "WaveSpeed": the service in messages */
  /* "job" (the default), "task": what the service runs */
  const gchar *job_word;
  /* environment variable of the key; NULL: the Wr2vEngineClass's */
  const gchar *key_variable;
  /* the whole error when no key is set; NULL: "no <provider> API
   * <key_word>: set the api-key property or the <VAR> environment variable
   * (<key_word>s are made at <keys_page>)" */
  const gchar *no_key_message;
  const gchar *key_word;        /* "key" (the default), "token" */
  const gchar *keys_page;       /* "https://fal.ai/dashboard/keys" */
  /* appended to "check the api-key property or the <VAR> environment
   * variable" when the key is refused; NULL with a keys_page: ", and that
   * the <key_word> is active" */
  const gchar *key_hint;
  /* after "check" on a 404; NULL: "api-url and model" */
  const gchar *settings_hint;
  const gchar *default_model;
  /* the model setting's form, a pure wire check, and what it must be:
   * "a fal.ai model id (like \"fal-ai/...\")"; NULL: any model */
  gboolean (*model_ok) (const gchar * model);
  const gchar *model_rule;
  /* the engine's GStreamer debug category, made on the first engine:
   * GST_DEBUG_CATEGORY_STATIC (x) in the engine, &x here */
  GstDebugCategory **debug_category;
  /* "wanr2vwavespeed"; NULL: "wanr2v" and the engine's name */
  const gchar *debug_name;
  /* api-url when unset; NULL: the default_api_url hook decides */
  const gchar *default_api_url;
  const gchar *api_prefix;      /* between api-url and a route: "/api/v3/" */
  /* the word before the key in "Authorization: <word> <key>"; NULL:
   * "Bearer" (fal.ai: "Key") */
  const gchar *auth_scheme;
  /* poll GETs {api_prefix}{poll_prefix}<escaped id>{poll_suffix} */
  const gchar *poll_prefix;
  const gchar *poll_suffix;
  /* a poll's 404: "it may have expired or belong to another API key" */
  const gchar *unknown_job_hint;
  /* "maybe submitted": where a user looks for the job; NULL: "Look for a
   * new <job_word> in your <provider> dashboard (<dashboard_url>)" */
  const gchar *where_to_look;
  const gchar *dashboard_url;
  /* the result URL's lifetime, in fetch errors; NULL: "the URL may
   * expire" */
  const gchar *result_expiry;
  /* a result URL that is gone (403/404/410); NULL: "its URL has
   * expired" */
  const gchar *result_gone;
  /* the result is served by api-url itself: its download follows no
   * redirect (ComfyUI) */
  gboolean result_no_redirect;
  /* "WaveSpeed fetches references by http(s) URL" (then: the uri "x" is
   * not one); NULL: "<provider> fetches references by http(s) URL" */
  const gchar *uri_rule;

  /* --- limits --- */
  /* what wr2v_remote_engine_check checks; NULL: the engine's check does */
  const Wr2vRemoteLimits *limits;
  guint64 max_image_bytes;      /* per reference file; 0: no limit */
  guint64 max_video_bytes;
  /* after "<label> is 30 MB; <provider> takes video references up to
   * 20 MB: "; NULL: "use a smaller image, or give the pad a uri" and
   * "shorten it (reference-duration), lower its resolution, or give the
   * pad a uri" */
  const gchar *too_large_image_hint;
  const gchar *too_large_video_hint;
  /* per voice file (a reference's voice-location or voice pad); 0: no
   * limit */
  guint64 max_voice_bytes;
  /* how long an uploaded URL stays valid, from the start of its upload */
  gint64 upload_lifetime_s;
  /* a submit's success status besides 200 (Replicate: 201); 0: none */
  guint submit_created_status;
  /* a poll answered with any 2xx is read (fal.ai answers 202 while a
   * request waits); else only 200 is */
  gboolean poll_any_2xx;
  /* 5xx answers to a submit that the service documents as "nothing was
   * created" (0-terminated); any other 5xx may hide a paid job */
  guint submit_nothing_created[4];

  /* --- hooks; all optional except where said --- */

  /* The api-url to use when the setting is empty, or NULL with an error
   * (DashScope's region). Also called when api-url is set, so that a bad
   * setting it depends on is reported. Default: default_api_url. */
  const gchar *(*default_base_url) (Wr2vRemote * remote, GError ** error);
  /* A reference uri the service may fetch by itself. Default: http(s). */
  gboolean (*uri_ok) (const gchar * uri);
  /* The store's scope and record key of an upload of content @sha.
   * Defaults: wr2v_remote_upload_scope_by_url, and @sha. */
  gchar *(*upload_scope) (Wr2vRemote * remote);
  gchar *(*upload_key) (Wr2vRemote * remote, const gchar * sha);
  /* Required for engines with uploads: uploads the file of @ref (@size
   * bytes, already checked against the limits) and returns the URL the
   * service fetches it from. @label is "Video 1". */
  gchar *(*upload) (Wr2vRemote * remote, Wr2vJob * job,
      const Wr2vReference * ref, const gchar * sha, const gchar * label,
      guint64 size, GError ** error);
  /* The service's answers: the engine's answer struct (its size), its
   * wire parser (for wr2v_remote_parse_answer and each poll) and what
   * frees its members. Set with WR2V_REMOTE_ANSWER. */
  gsize answer_size;
  gboolean (*answer_parser) (const gchar * data, gsize len, gpointer out,
      GError ** error);
  void (*answer_clear) (gpointer answer);
  /* What an answer (an error body the layer parsed into the answer
   * struct) says went wrong, copied into @out. Required unless
   * fault_members says it. */
  void (*answer_fault) (gconstpointer answer, Wr2vRemoteFault * out);
  /* Without answer_fault: the answer struct's string members that say
   * it. Set with WR2V_REMOTE_ANSWER_FAULT. */
  Wr2vRemoteFaultMembers fault_members;
  /* The provider's own meaning of @fault (codes like "Arrearage"): sets
   * @error and returns TRUE, or FALSE for the layer's mapping by status.
   * @why is "HTTP 400 Code: message", sanitized. */
  gboolean (*explain_fault) (Wr2vRemote * remote, Wr2vJob * job, guint status,
      const Wr2vRemoteFault * fault, const gchar * what, const gchar * why,
      GError ** error);
  /* The submit's route under api_prefix when it is the model in a
   * pattern ("models/%s/predictions"; the model checked by the engine's
   * check), for engines without a submit_route hook. */
  const gchar *submit_route_pattern;
  /* The answer to a submit is a JSON object whose string member of this
   * name is the job id (wr2v_remote_read_submit_member), for engines
   * without a read_submit hook. */
  const gchar *submit_id_member;
  /* The submit's route under api_prefix (for wr2v_remote_engine_submit),
   * or NULL with an error when a setting can't make one. */
  gchar *(*submit_route) (Wr2vRemote * remote, GError ** error);
  /* Extra header lines of every submit ("X-Async: enable"), or NULL. */
  const gchar *submit_headers[3];
  /* The JSON body of the submit, from @urls (what the service fetches
   * each reference from, in the request's order); may set *@header to
   * one more header line (static) the body needs. Pure: call the wire
   * builder. */
  gchar *(*submit_body) (Wr2vRemote * remote, Wr2vJob * job,
      const gchar * const *urls, const gchar ** header);
  /* Without submit_body: the engine's pure wire builder of the body,
   * called with the model setting, the request and @urls. */
  gchar *(*submit_wire) (const gchar * model, const Wr2vRequest * req,
      const gchar * const *urls);
  /* The resolution as the service names it, for the submit's progress
   * text ("720p"). Default: wr2v_resolution_nick. */
  const gchar *(*resolution_word) (Wr2vResolution resolution);
  /* Reads a 200 answer to the submit: ACCEPTED with *@id (checked by the
   * layer), REFUSED with @error, or MAYBE with *@why. Required unless
   * submit_id_member is set. */
    Wr2vRemoteVerdict (*read_submit) (Wr2vRemote * remote, Wr2vJob * job,
      const Wr2vHttpResponse * resp, const gchar * what, gchar ** id,
      gchar ** why, GError ** error);
  /* The poll's route under api_prefix for the job @escaped_id (already a
   * safe path segment), when poll_prefix and poll_suffix can't say it
   * (fal.ai's routes name the app). Default: prefix + id + suffix. */
  gchar *(*poll_route) (Wr2vRemote * remote, const gchar * escaped_id);
  /* Required: reads a 200 answer to a poll, @answer (the answer struct
   * the layer parsed it into; an unreadable answer never comes here),
   * into @res; FALSE with the user-facing error when the job failed or
   * the answer is unusable. */
  gboolean (*read_poll) (Wr2vRemote * remote, Wr2vJob * job,
      const gchar * job_id, const Wr2vHttpResponse * resp, gpointer answer,
      Wr2vPollResult * res, GError ** error);
  /* Frees what the engine added to its private struct. */
  void (*finalize) (Wr2vRemote * remote);
};

struct _Wr2vRemote
{
  const Wr2vRemoteClass *klass;
  Wr2vEngine *engine;           /* the engine this is the priv of */
  Wr2vHttp *http;
  /* guards uploaded (see wr2v-remote.c) */
  GMutex lock;
  /* upload record key -> Wr2vRemoteUpload, for this process (the store
   * keeps them across runs) */
  GHashTable *uploaded;
};

/* --- the engine --- */

/* A new engine of @eclass whose priv is a zeroed block of @priv_size bytes
 * that starts with a Wr2vRemote of @rclass. */
Wr2vEngine *wr2v_remote_engine_new (const Wr2vEngineClass * eclass,
    const Wr2vRemoteClass * rclass, gsize priv_size);

/* The answers of a service, in its Wr2vRemoteClass: the struct @Type
 * that the wire parser @parse fills and @clear empties
 * (WR2V_JSON_DECLARE_PARSER). */
#define WR2V_REMOTE_ANSWER(Type, parse, clear) \
  .answer_size = sizeof (Type), .answer_parser = (Wr2vRemoteParser) parse, \
  .answer_clear = (void (*) (gpointer)) clear

/* WR2V_REMOTE_ANSWER whose error answers say what went wrong in the
 * members @code and @message (else @message_else) of @Type: no
 * answer_fault hook. */
#define WR2V_REMOTE_ANSWER_FAULT(Type, parse, clear, code, message, \
    message_else) \
  WR2V_REMOTE_ANSWER (Type, parse, clear), \
  .fault_members = {TRUE, G_STRUCT_OFFSET (Type, code), \
    G_STRUCT_OFFSET (Type, message), G_STRUCT_OFFSET (Type, message_else)}

/* The Wr2vEngineClass hooks of an engine that the layer runs, in its
 * class table: WR2V_REMOTE_ENGINE_HOOKS, or its own prepare and
 * WR2V_REMOTE_JOB_HOOKS (submit, poll, fetch, finalize). */
#define WR2V_REMOTE_JOB_HOOKS \
  .submit = wr2v_remote_engine_submit, .poll = wr2v_remote_engine_poll, \
  .fetch = wr2v_remote_engine_fetch, .finalize = wr2v_remote_engine_finalize
#define WR2V_REMOTE_ENGINE_HOOKS \
  .prepare = wr2v_remote_engine_prepare, WR2V_REMOTE_JOB_HOOKS

/* What every hosted engine's Wr2vEngineClass says the same way: its name
 * (the prefix), its key variable, the hosted timeout, the model as its
 * identity, and its own <prefix>_estimate_cost. No cancel_remote: a
 * stopped run leaves the paid job running, and the next run resumes it. */
#define WR2V_REMOTE_HOSTED_RULES(prefix, key_env) \
  .name = #prefix, .key_variable = key_env, \
  .default_timeout_s = WR2V_DEFAULT_HOSTED_TIMEOUT_S, \
  .estimate_cost = prefix##_estimate_cost, \
  .identity = wr2v_remote_engine_identity

/* The description of a host that serves the model as it is: "<who>
 * hosted Wan 2.7 Reference-to-Video (paid)". */
#define WR2V_REMOTE_HOSTED_WAN(who) \
  who " hosted Wan 2.7 Reference-to-Video (paid)"

/* Defines a hosted engine whose priv is a bare Wr2vRemote: its
 * Wr2vEngineClass <prefix>_class (WR2V_REMOTE_HOSTED_RULES, @description,
 * then the class's other fields as further arguments: its check and
 * prepare, or WR2V_REMOTE_CHECKED_HOOKS) on the Wr2vRemoteClass
 * <prefix>_remote_class, and the registry's wr2v_engine_<prefix>_new (). */
#define WR2V_REMOTE_DEFINE_ENGINE(prefix, key_env, desc, ...) \
  static const Wr2vEngineClass prefix##_class = { \
    WR2V_REMOTE_HOSTED_RULES (prefix, key_env), .description = desc, \
    __VA_ARGS__ \
  }; \
  Wr2vEngine *wr2v_engine_##prefix##_new (void); \
  Wr2vEngine * \
  wr2v_engine_##prefix##_new (void) \
  { \
    return wr2v_remote_engine_new (&prefix##_class, \
        &prefix##_remote_class, sizeof (Wr2vRemote)); \
  }

/* The hooks of an engine whose Wr2vEngineClass.check is @check: it, and
 * the layer's prepare after it (wr2v_remote_engine_check_prepare). */
#define WR2V_REMOTE_CHECK_HOOKS(check_fn) \
  .check = check_fn, \
  .prepare = wr2v_remote_engine_check_prepare, WR2V_REMOTE_JOB_HOOKS

/* The hooks of an engine whose checks are all in its Wr2vRemoteClass
 * (limits, model_ok): the layer's check, and its prepare after it. */
#define WR2V_REMOTE_CHECKED_HOOKS \
  WR2V_REMOTE_CHECK_HOOKS (wr2v_remote_engine_check)

/* Parts of a Wr2vRemoteClass that go together, in its table: */

/* the key: its word (NULL: "key"), the page where keys are made, and
 * the hint when it is refused (NULL: ", and that the <word> is active";
 * WR2V_REMOTE_KEY_AND_CREDIT for a prepaid account) */
#define WR2V_REMOTE_KEY(word, page, hint) \
  .key_word = word, .keys_page = page, .key_hint = hint
#define WR2V_REMOTE_KEY_AND_CREDIT \
  ", and that the key is active and the account has credit"

/* the model setting: its default, its form (a pure wire check, or NULL)
 * and what it must be ("a fal.ai model id (like ...)") */
#define WR2V_REMOTE_MODEL(def, ok, rule) \
  .default_model = def, .model_ok = ok, .model_rule = rule

/* the routes: api-url when unset (NULL: the default_base_url hook), the
 * prefix of every route, and the poll's route around the job id (NULL,
 * NULL: the poll_route hook) */
#define WR2V_REMOTE_ROUTES(api_url, prefix, poll_before, poll_after) \
  .default_api_url = api_url, .api_prefix = prefix, \
  .poll_prefix = poll_before, .poll_suffix = poll_after

/* the upload flow: the upload hook, the reference files it takes
 * (bytes, per file; 0: no limit) and how long an upload stays valid */
#define WR2V_REMOTE_UPLOADS(upload_fn, image_bytes, video_bytes, lifetime_s) \
  .upload = upload_fn, .max_image_bytes = image_bytes, \
  .max_video_bytes = video_bytes, .upload_lifetime_s = lifetime_s

/* a submit the engine makes itself: its route, its body and how its
 * answer reads (the submit_route, submit_body and read_submit hooks) */
#define WR2V_REMOTE_SUBMIT_HOOKS(route_fn, body_fn, read_fn) \
  .submit_route = route_fn, .submit_body = body_fn, .read_submit = read_fn

/* a submit the layer makes alone: to the route @pattern (the model in
 * it), its body from the wire builder @wire, the job id in the answer's
 * member @id_member */
#define WR2V_REMOTE_MODEL_SUBMIT(pattern, wire, id_member) \
  .submit_route_pattern = pattern, .submit_wire = wire, \
  .submit_id_member = id_member

/* The Wr2vRemote at the start of @engine's priv. */
Wr2vRemote *wr2v_remote_get (Wr2vEngine * engine);

/* The model setting, or the class's default. */
const gchar *wr2v_remote_engine_model (Wr2vEngine * engine);

/* Wr2vEngineClass.identity of a hosted engine: its model. */
gchar *wr2v_remote_engine_identity (Wr2vEngine * engine);

/* Wr2vEngineClass.check of an engine whose checks are data: the class's
 * limits (wr2v_remote_check_limits), then wr2v_remote_check_settings. */
gboolean wr2v_remote_engine_check (Wr2vEngine * engine,
    const Wr2vRequest * req, GError ** error);

/* The model against the class's model_ok ("model \"x\" is not
 * <model_rule>"), then api-url (and what the default depends on), so that
 * wrong settings are reported before anything runs. */
gboolean wr2v_remote_check_settings (Wr2vRemote * remote, GError ** error);

/* Wr2vEngineClass.submit: the class's submit_route and submit_body with
 * the references' URLs, sent once by wr2v_remote_submit(). */
gchar *wr2v_remote_engine_submit (Wr2vEngine * engine, Wr2vJob * job,
    GError ** error);

/* Wr2vEngineClass hooks: poll reads the job's state with retries (then
 * the class's read_poll); fetch downloads the clip with the size cap;
 * finalize frees the priv. prepare is in wr2v-remote-upload.h. */
gboolean wr2v_remote_engine_poll (Wr2vEngine * engine, Wr2vJob * job,
    const gchar * job_id, Wr2vPollResult * res, GError ** error);
gboolean wr2v_remote_engine_fetch (Wr2vEngine * engine, Wr2vJob * job,
    const gchar * url, const gchar * out_path, GError ** error);
void wr2v_remote_engine_finalize (Wr2vEngine * engine);

/* --- settings --- */

/* The API key (api-key, else the class's variable), or NULL and
 * WR2V_ERROR_NO_CREDENTIALS with the class's no_key_message. */
const gchar *wr2v_remote_key (Wr2vRemote * remote, GError ** error);

/* The key if any, without an error: only to scrub texts of it. */
const gchar *wr2v_remote_peek_key (Wr2vRemote * remote);

/* The model setting, or the class's default. */
const gchar *wr2v_remote_model (Wr2vRemote * remote);

/* api-url (or the default) without trailing slashes, checked against the
 * URL policy; NULL and WR2V_ERROR_INVALID_REQUEST when it can't be used. */
gchar *wr2v_remote_base_url (Wr2vRemote * remote, GError ** error);

/* {base}{api_prefix}{route}; @route is used as given (escape ids with
 * wr2v_http_escape_segment first). */
gchar *wr2v_remote_route (Wr2vRemote * remote, const gchar * route,
    GError ** error);

/* --- texts and errors --- */

/* A provider text fit for a message or a detail: at most 400 bytes, one
 * line, valid UTF-8, the key replaced by "***". NULL for NULL or "". */
gchar *wr2v_remote_provider_text (Wr2vRemote * remote, const gchar * text);

/* Notes @fault in @job's details (provider-code, provider-message,
 * request-id, sanitized) and, when @status is not 0, http-status. */
void wr2v_remote_note_fault (Wr2vRemote * remote, Wr2vJob * job,
    guint status, const Wr2vRemoteFault * fault);

/* An answer that is not a success (HTTP @status, or an envelope meaning
 * it) as a user-facing error: notes the details, asks the class's
 * explain_fault, else maps the status (401/403: the key; 404: the
 * settings; 429: throttled; 408/5xx: the service's trouble; 413: too
 * large; other 4xx: refused; else a protocol error). @fault may be NULL. */
void wr2v_remote_answer_error (Wr2vRemote * remote, Wr2vJob * job,
    guint status, const Wr2vRemoteFault * fault, const gchar * what,
    GError ** error);

/* wr2v_remote_answer_error() of an HTTP response, its body read with the
 * class's parser and answer_fault. */
void wr2v_remote_http_error (Wr2vRemote * remote, Wr2vJob * job,
    const Wr2vHttpResponse * resp, const gchar * what, GError ** error);

/* WR2V_ERROR_MAYBE_SUBMITTED: the job was sent but @why, so a paid job may
 * exist; says where to look and which journal file to delete. */
void wr2v_remote_set_maybe_submitted (Wr2vRemote * remote, Wr2vJob * job,
    const gchar * why, GError ** error);

/* A job id usable in a URL path segment and a file name: 1-128 of
 * [A-Za-z0-9._-], not "." or "..". */
gboolean wr2v_remote_job_id_ok (const gchar * id);

/* --- requests --- */

/* Fills @hr for a call to the API: @method, @url, the key as bearer, the
 * API timeouts, the job's cancellable. */
void wr2v_remote_api_request (Wr2vRemote * remote, Wr2vJob * job,
    Wr2vHttpRequest * hr, Wr2vHttpMethod method, const gchar * url,
    const gchar * key);

/* wr2v_remote_api_request() of a POST of the JSON @body (taken: unref
 * @hr's body afterwards). */
void wr2v_remote_api_post_json (Wr2vRemote * remote, Wr2vJob * job,
    Wr2vHttpRequest * hr, const gchar * url, const gchar * key,
    gchar * body);

/* A read (GET, or an upload with @hr's POST marked idempotent by
 * @upload): retried with backoff on 429/5xx/connection errors, honouring
 * Retry-After. */
gboolean wr2v_remote_read (Wr2vRemote * remote, const Wr2vHttpRequest * hr,
    gboolean upload, Wr2vHttpResponse * resp, GError ** error);

/* GETs {api_prefix}@route with the key (wr2v_remote_read's retries).
 * FALSE when no answer came; a network error is prefixed with @failed
 * ("asking DashScope for an upload policy failed: "). Any status comes
 * back in @resp. */
gboolean wr2v_remote_api_get (Wr2vRemote * remote, Wr2vJob * job,
    const gchar * route, const gchar * failed, Wr2vHttpResponse * resp,
    GError ** error);

/* A wire parser: (data, len, out, error), like wr2v_wavespeed_parse_answer. */
typedef gboolean (*Wr2vRemoteParser) (const gchar * data, gsize len,
    gpointer out, GError ** error);

/* Runs @parse over @resp's body; on failure, prefixes the error with what
 * came instead of JSON (wr2v_http_hint_content_type). */
gboolean wr2v_remote_parse (const Wr2vHttpResponse * resp,
    Wr2vRemoteParser parse, gpointer out, GError ** error);

/* wr2v_remote_parse() with the class's answer_parser: @out is the
 * engine's answer struct. */
gboolean wr2v_remote_parse_answer (Wr2vRemote * remote,
    const Wr2vHttpResponse * resp, gpointer out, GError ** error);

/* Sends @sub exactly once on a fresh connection and returns the job id,
 * or NULL with an error: the service's refusal (nothing was created) or
 * WR2V_ERROR_MAYBE_SUBMITTED whenever the POST may have created a job (no
 * answer, a stop after sending, 408, a 2xx other than 200, a 3xx, a 5xx
 * not in submit_nothing_created, an unreadable answer, no usable id). */
gchar *wr2v_remote_submit (Wr2vRemote * remote, Wr2vJob * job,
    const Wr2vRemoteSubmit * sub, GError ** error);

/* For read_submit: the answer parsed into @answer (the class's answer
 * struct), or FALSE with *@why ("its answer was unreadable (...)"): a
 * paid job may exist, the verdict is WR2V_REMOTE_SUBMIT_MAYBE. */
gboolean wr2v_remote_parse_submit_answer (Wr2vRemote * remote,
    const Wr2vHttpResponse * resp, gpointer answer, gchar ** why);

/* A read_submit for services whose answer is a JSON object with the id
 * as its string member @member: ACCEPTED with *@id (NULL when missing:
 * the layer then says a paid job may exist), or MAYBE with *@why when the
 * answer is unreadable. */
Wr2vRemoteVerdict wr2v_remote_read_submit_member (const Wr2vHttpResponse *
    resp, const gchar * member, gchar ** id, gchar ** why);

/* The submit's timeout: 120 s, no more than the whole job may last. */
guint wr2v_remote_submit_timeout (Wr2vRemote * remote);

/* For read_poll: the status word into @res (bounded, for messages). */
void wr2v_remote_poll_status (Wr2vPollResult * res, const gchar * status);

/* A service's status word and the state it means. */
typedef struct
{
  const gchar *word;
  Wr2vPollState state;
} Wr2vRemoteStatusWord;

/* For read_poll: @status looked up in @words (ended by a NULL word). Sets
 * @res's status and, for a queued or running word, or one not in @words
 * (logged; the request timeout still bounds the wait), its state. Returns
 * the state the word means (SUCCEEDED and FAILED are the engine's to
 * fill in), or -1 with a protocol error when @status is NULL. */
gint wr2v_remote_poll_word (Wr2vRemote * remote, const gchar * job_id,
    const gchar * status, const Wr2vRemoteStatusWord * words,
    Wr2vPollResult * res, GError ** error);

/* For read_poll: a finished job's output URL into @res, or FALSE with a
 * protocol error when the URL policy refuses it. @verb: "completed". */
gboolean wr2v_remote_poll_output (Wr2vRemote * remote, const gchar * job_id,
    const gchar * verb, const gchar * url, Wr2vPollResult * res,
    GError ** error);

/* For read_poll: a failed job's @fault into @res and the job's details
 * (with @status as http-status). Sanitizes @fault's texts in place, so
 * that the engine's message may quote them. */
void wr2v_remote_poll_failed (Wr2vRemote * remote, Wr2vJob * job,
    guint status, Wr2vRemoteFault * fault, Wr2vPollResult * res);

/* For read_poll: an unreadable answer (@local, taken) as "<why> while
 * polling <Provider> job <id>; run again to resume it". */
void wr2v_remote_poll_unreadable (Wr2vRemote * remote, const gchar * job_id,
    GError * local, GError ** error);

/* --- progress --- */

typedef struct
{
  Wr2vJob *job;
  const gchar *label;
  gint last_pct;
  gint64 last_time;
} Wr2vRemoteProgress;

/* Reports @hr's transfer progress as job phases ("<label>: 40% of 12 MB"),
 * every 10 % and at most twice a second. @ps must outlive the transfer. */
void wr2v_remote_watch_progress (Wr2vHttpRequest * hr,
    Wr2vRemoteProgress * ps, Wr2vJob * job, const gchar * label);

G_END_DECLS

#include "wr2v-remote-upload.h"
#include "wr2v-remote-limits.h"
#include "wr2v-remote-body.h"
#include "wr2v-remote-file.h"
