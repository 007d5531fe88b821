/* wr2v-remote.c: the remote-job layer every hosted engine stands on (see
 * wr2v-remote.h): settings, errors, the submit, the poll, the download.
 * The upload record cache and prepare are in wr2v-remote-upload.c.
 *
 * Thread safety. One engine may run several jobs at once, each on its own
 * job thread; everything here runs on the calling job's thread.
 *  - Wr2vRemote.lock guards Wr2vRemote.uploaded (the in-memory upload
 *    records) and nothing else; it is never held across I/O, a store call
 *    or a call into the engine's hooks.
 *  - Wr2vRemote.http is safe to share between threads by itself (it has
 *    its own locks, see wr2v-http.c).
 *  - engine->settings and the class are read-only once the engine exists
 *    (the element copies its settings into a new engine for each job).
 *  - Wr2vJob and Wr2vRemoteProgress belong to the job's thread.
 *  - The store serializes its own files (wr2v-store.c).
 *
 * A job costs money: a submit is sent once on a fresh connection and never
 * retried, and whenever it may have reached the service without a clear
 * answer the error says so (WR2V_ERROR_MAYBE_SUBMITTED), which keeps the
 * journal entry so that the next run resumes instead of paying again.
 */
#include "config.h"

#include <string.h>

#include "wr2v-defaults.h"
#include "wr2v-error.h"
#include "wr2v-json.h"
#include "wr2v-remote.h"

GST_DEBUG_CATEGORY (wr2v_remote_debug);
#define GST_CAT_DEFAULT wr2v_remote_debug

/* a submit that gets no answer in this time may still have created a job */
#define SUBMIT_TIMEOUT_S 120
#define API_TIMEOUT_S 60
#define API_LOW_SPEED_S 30
#define DOWNLOAD_LOW_SPEED_S 60
#define PROVIDER_TEXT_MAX 400

/* --- the engine --- */

/* The class as the layer reads it: the engine's own, with the defaults
 * filled in and the texts the layer composes from its fields. Made once
 * per engine, read-only afterwards. */
typedef struct
{
  Wr2vRemoteClass klass;
  gchar *no_key_message;
  gchar *key_hint;
  gchar *where_to_look;
} FilledClass;

static const Wr2vRemoteClass *
fill_class (const Wr2vRemoteClass * rclass, const gchar * key_variable)
{
  FilledClass *f = g_new0 (FilledClass, 1);
  Wr2vRemoteClass *k = &f->klass;
  const gchar *word;

  *k = *rclass;
  word = k->key_word ? k->key_word : "key";
  if (!k->job_word)
    k->job_word = "job";
  if (!k->settings_hint)
    k->settings_hint = "api-url and model";
  if (!k->result_expiry)
    k->result_expiry = "the URL may expire";
  if (!k->result_gone)
    k->result_gone = "its URL has expired";
  if (!k->too_large_image_hint)
    k->too_large_image_hint = "use a smaller image, or give the pad a uri";
  if (!k->too_large_video_hint)
    k->too_large_video_hint = "shorten it (reference-duration), lower its "
        "resolution, or give the pad a uri";
  if (!k->resolution_word)
    k->resolution_word = wr2v_resolution_nick;
  if (!k->no_key_message && k->keys_page)
    k->no_key_message = f->no_key_message = g_strdup_printf ("no %s API %s: "
        "set the api-key property or the %s environment variable (%ss are "
        "made at %s)", k->provider, word, key_variable, word, k->keys_page);
  if (!k->key_hint && k->keys_page)
    k->key_hint = f->key_hint = g_strdup_printf (", and that the %s is "
        "active", word);
  if (!k->where_to_look && k->dashboard_url)
    k->where_to_look = f->where_to_look = g_strdup_printf ("Look for a new "
        "%s in your %s dashboard (%s)", k->job_word, k->provider,
        k->dashboard_url);
  return k;
}

static void
free_class (const Wr2vRemoteClass * k)
{
  FilledClass *f = (FilledClass *) k;

  g_free (f->no_key_message);
  g_free (f->key_hint);
  g_free (f->where_to_look);
  g_free (f);
}

Wr2vEngine *
wr2v_remote_engine_new (const Wr2vEngineClass * eclass,
    const Wr2vRemoteClass * rclass, gsize priv_size)
{
  static GMutex debug_lock;
  Wr2vEngine *engine;
  Wr2vRemote *remote;

  g_return_val_if_fail (priv_size >= sizeof (Wr2vRemote), NULL);
  g_mutex_lock (&debug_lock);
  GST_DEBUG_CATEGORY_INIT (wr2v_remote_debug, "wanr2vremote", 0,
      "wanr2v hosted engines");
  if (rclass->debug_category) {
    gchar *name = rclass->debug_name ? g_strdup (rclass->debug_name) :
        g_strconcat ("wanr2v", eclass->name, NULL);

    GST_DEBUG_CATEGORY_INIT (*rclass->debug_category, name, 0,
        eclass->description);
    g_free (name);
  }
  g_mutex_unlock (&debug_lock);

  engine = g_new0 (Wr2vEngine, 1);
  remote = g_malloc0 (priv_size);
  remote->klass = fill_class (rclass, rclass->key_variable ?
      rclass->key_variable : eclass->key_variable);
  remote->engine = engine;
  remote->http = wr2v_http_new ();
  g_mutex_init (&remote->lock);
  wr2v_remote_upload_init (remote);
  engine->klass = eclass;
  engine->priv = remote;
  return engine;
}

Wr2vRemote *
wr2v_remote_get (Wr2vEngine * engine)
{
  return engine->priv;
}

void
wr2v_remote_engine_finalize (Wr2vEngine * engine)
{
  Wr2vRemote *remote = engine->priv;

  if (!remote)
    return;
  if (remote->klass->finalize)
    remote->klass->finalize (remote);
  free_class (remote->klass);
  wr2v_http_free (remote->http);
  wr2v_remote_upload_clear (remote);
  g_mutex_clear (&remote->lock);
  g_free (remote);
  engine->priv = NULL;
}

/* --- settings --- */

/* The environment variable of the key: the class's, else the engine's. */
static const gchar *
key_variable (Wr2vRemote * remote)
{
  return remote->klass->key_variable ? remote->klass->key_variable :
      remote->engine->klass->key_variable;
}

const gchar *
wr2v_remote_peek_key (Wr2vRemote * remote)
{
  const gchar *key = remote->engine->settings.api_key;
  const gchar *variable = key_variable (remote);

  if (key && *key)
    return key;
  return variable ? g_getenv (variable) : NULL;
}

const gchar *
wr2v_remote_key (Wr2vRemote * remote, GError ** error)
{
  const gchar *key = wr2v_remote_peek_key (remote);

  if (!key || !*key) {
    g_set_error_literal (error, WR2V_ERROR, WR2V_ERROR_NO_CREDENTIALS,
        remote->klass->no_key_message);
    return NULL;
  }
  return key;
}

const gchar *
wr2v_remote_model (Wr2vRemote * remote)
{
  const gchar *m = remote->engine->settings.model;

  return m && *m ? m : remote->klass->default_model;
}

const gchar *
wr2v_remote_engine_model (Wr2vEngine * engine)
{
  return wr2v_remote_model (wr2v_remote_get (engine));
}

gchar *
wr2v_remote_engine_identity (Wr2vEngine * engine)
{
  return g_strdup (wr2v_remote_engine_model (engine));
}

gboolean
wr2v_remote_check_settings (Wr2vRemote * remote, GError ** error)
{
  const gchar *model = wr2v_remote_model (remote);
  gchar *base;

  if (remote->klass->model_ok && !remote->klass->model_ok (model)) {
    gchar *shown = g_strescape (model, NULL);

    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "model \"%s\" is not %s", shown, remote->klass->model_rule);
    g_free (shown);
    return FALSE;
  }
  if (!(base = wr2v_remote_base_url (remote, error)))
    return FALSE;
  g_free (base);
  return TRUE;
}

gboolean
wr2v_remote_engine_check (Wr2vEngine * engine, const Wr2vRequest * req,
    GError ** error)
{
  Wr2vRemote *remote = wr2v_remote_get (engine);

  return wr2v_remote_check_limits (remote, req, remote->klass->limits, error)
      && wr2v_remote_check_settings (remote, error);
}

gchar *
wr2v_remote_base_url (Wr2vRemote * remote, GError ** error)
{
  const gchar *u = remote->engine->settings.api_url;
  const gchar *def = remote->klass->default_api_url;
  GError *local = NULL;
  gchar *base;
  gsize len;

  /* asked even under api-url: a bad setting it depends on is a typo */
  if (remote->klass->default_base_url &&
      !(def = remote->klass->default_base_url (remote, error)))
    return NULL;
  if (!u || !*u)
    u = def;
  base = g_strdup (u);
  len = strlen (base);
  while (len > 0 && base[len - 1] == '/')
    base[--len] = '\0';
  if (strchr (base, '?') || strchr (base, '#') ||
      !wr2v_http_url_allowed (base, &local)) {
    gchar *shown = wr2v_http_url_for_log (base);

    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "api-url \"%s\" can't be used: %s", shown,
        local ? local->message : "it must not have a query or fragment");
    g_clear_error (&local);
    g_free (shown);
    g_free (base);
    return NULL;
  }
  return base;
}

gchar *
wr2v_remote_route (Wr2vRemote * remote, const gchar * route, GError ** error)
{
  gchar *base = wr2v_remote_base_url (remote, error);
  gchar *url;

  if (!base)
    return NULL;
  url = g_strconcat (base, remote->klass->api_prefix, route, NULL);
  g_free (base);
  return url;
}

guint
wr2v_remote_submit_timeout (Wr2vRemote * remote)
{
  guint whole = remote->engine->settings.request_timeout_s;

  return whole ? MIN (whole, SUBMIT_TIMEOUT_S) : SUBMIT_TIMEOUT_S;
}

gboolean
wr2v_remote_job_id_ok (const gchar * id)
{
  const gchar *p;

  if (!id || !*id || strlen (id) > 128 || g_str_equal (id, ".") ||
      g_str_equal (id, ".."))
    return FALSE;
  for (p = id; *p; p++) {
    if (!g_ascii_isalnum (*p) && !strchr ("-_.", *p))
      return FALSE;
  }
  return TRUE;
}

/* --- texts and errors --- */

gchar *
wr2v_remote_provider_text (Wr2vRemote * remote, const gchar * text)
{
  if (!text || !*text)
    return NULL;
  return wr2v_http_safe_text (text, PROVIDER_TEXT_MAX,
      remote ? wr2v_remote_peek_key (remote) : NULL);
}

void
wr2v_remote_fault_clear (Wr2vRemoteFault * fault)
{
  wr2v_json_clear_answer (fault, &fault->code, &fault->message,
      &fault->request_id, NULL);
}

/* @fault with every text passed through wr2v_remote_provider_text. */
static void
sanitize_fault (Wr2vRemote * remote, Wr2vRemoteFault * fault)
{
  gchar *code = wr2v_remote_provider_text (remote, fault->code);
  gchar *message = wr2v_remote_provider_text (remote, fault->message);
  gchar *request_id = wr2v_remote_provider_text (remote, fault->request_id);

  g_free (fault->code);
  g_free (fault->message);
  g_free (fault->request_id);
  fault->code = code;
  fault->message = message;
  fault->request_id = request_id;
}

/* What @answer says went wrong: the class's answer_fault, else its
 * fault_members. */
static void
answer_fault (const Wr2vRemoteClass * k, gconstpointer answer,
    Wr2vRemoteFault * out)
{
  const Wr2vRemoteFaultMembers *m = &k->fault_members;
  const gchar *message;

  if (k->answer_fault) {
    k->answer_fault (answer, out);
    return;
  }
  message = G_STRUCT_MEMBER (const gchar *, answer, m->message);
  if (!message)
    message = G_STRUCT_MEMBER (const gchar *, answer, m->message_else);
  out->code = g_strdup (G_STRUCT_MEMBER (const gchar *, answer, m->code));
  out->message = g_strdup (message);
}

/* Reads @resp's body with the class's parser and answer_fault,
 * sanitized; all NULL when it is empty or unreadable. */
static void
read_fault (Wr2vRemote * remote, const Wr2vHttpResponse * resp,
    Wr2vRemoteFault * fault)
{
  const Wr2vRemoteClass *k = remote->klass;
  gsize len = 0;
  const gchar *data = resp->body ? g_bytes_get_data (resp->body, &len) : NULL;
  gpointer answer;

  memset (fault, 0, sizeof *fault);
  if (len == 0 || !(k->answer_fault || k->fault_members.set))
    return;
  answer = g_malloc0 (k->answer_size);
  if (k->answer_parser (data, len, answer, NULL)) {
    answer_fault (k, answer, fault);
    sanitize_fault (remote, fault);
  }
  k->answer_clear (answer);
  g_free (answer);
}

/* wr2v_remote_note_fault() of an already sanitized @fault. */
static void
note_safe_fault (Wr2vJob * job, guint status, const Wr2vRemoteFault * fault)
{
  if (!job)
    return;
  if (status)
    wr2v_job_detail_int (job, "http-status", status);
  if (!fault)
    return;
  if (fault->code_is_int)
    wr2v_job_detail_int (job, "provider-code", (gint) CLAMP (fault->code_int,
            G_MININT, G_MAXINT));
  else
    wr2v_job_detail_string (job, "provider-code", fault->code);
  wr2v_job_detail_string (job, "provider-message", fault->message);
  wr2v_job_detail_string (job, "request-id", fault->request_id);
}

/* "HTTP 400 Code: message", from a sanitized @fault (or NULL). A numeric
 * code that only repeats the status is left out. */
static gchar *
fault_why (guint status, const Wr2vRemoteFault * fault)
{
  const gchar *code = fault ? fault->code : NULL;
  const gchar *msg = fault ? fault->message : NULL;

  if (code && fault->code_is_int && fault->code_int == status)
    code = NULL;
  return g_strdup_printf ("HTTP %u%s%s%s%s", status, code ? " " : "",
      code ? code : "", msg ? ": " : "", msg ? msg : "");
}

/* The meaning of an HTTP status that the class did not explain. */
static void
map_status (Wr2vRemote * remote, guint st, const gchar * what,
    const gchar * why, GError ** error)
{
  const Wr2vRemoteClass *k = remote->klass;

  if (st == 401 || st == 403) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NOT_AUTHORIZED,
        "%s refused the API key while %s (%s): check the api-key property "
        "or the %s environment variable%s", k->provider, what, why,
        key_variable (remote), k->key_hint ? k->key_hint : "");
  } else if (st == 404) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NOT_FOUND,
        "%s answered 404 (not found) while %s (%s): check %s", k->provider,
        what, why, k->settings_hint);
  } else if (st == 429) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NETWORK,
        "%s is limiting requests while %s (%s): try again later",
        k->provider, what, why);
  } else if (st == 408 || st >= 500) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NETWORK,
        "%s had trouble while %s (%s): try again later", k->provider, what,
        why);
  } else if (st == 413) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "%s refused the request as too large while %s (%s): use shorter or "
        "smaller references", k->provider, what, why);
  } else if (st >= 400) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "%s refused the request while %s (%s)", k->provider, what, why);
  } else {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "%s answered %s while %s", k->provider, why, what);
  }
}

/* wr2v_remote_answer_error() of an already sanitized @fault. */
static void
safe_answer_error (Wr2vRemote * remote, Wr2vJob * job, guint status,
    const Wr2vRemoteFault * fault, const gchar * what, GError ** error)
{
  gchar *why = fault_why (status, fault);

  note_safe_fault (job, status, fault);
  if (!remote->klass->explain_fault ||
      !remote->klass->explain_fault (remote, job, status, fault, what, why,
          error))
    map_status (remote, status, what, why, error);
  g_free (why);
}

/* A sanitized copy of @fault (or nothing when it is NULL). */
static void
copy_sanitized (Wr2vRemote * remote, const Wr2vRemoteFault * fault,
    Wr2vRemoteFault * safe)
{
  memset (safe, 0, sizeof *safe);
  if (!fault)
    return;
  safe->code = g_strdup (fault->code);
  safe->code_is_int = fault->code_is_int;
  safe->code_int = fault->code_int;
  safe->message = g_strdup (fault->message);
  safe->request_id = g_strdup (fault->request_id);
  sanitize_fault (remote, safe);
}

void
wr2v_remote_note_fault (Wr2vRemote * remote, Wr2vJob * job, guint status,
    const Wr2vRemoteFault * fault)
{
  Wr2vRemoteFault safe;

  copy_sanitized (remote, fault, &safe);
  note_safe_fault (job, status, fault ? &safe : NULL);
  wr2v_remote_fault_clear (&safe);
}

void
wr2v_remote_answer_error (Wr2vRemote * remote, Wr2vJob * job, guint status,
    const Wr2vRemoteFault * fault, const gchar * what, GError ** error)
{
  Wr2vRemoteFault safe;

  copy_sanitized (remote, fault, &safe);
  safe_answer_error (remote, job, status, fault ? &safe : NULL, what, error);
  wr2v_remote_fault_clear (&safe);
}

void
wr2v_remote_http_error (Wr2vRemote * remote, Wr2vJob * job,
    const Wr2vHttpResponse * resp, const gchar * what, GError ** error)
{
  Wr2vRemoteFault fault;

  read_fault (remote, resp, &fault);
  safe_answer_error (remote, job, resp->status, &fault, what, error);
  wr2v_remote_fault_clear (&fault);
}

void
wr2v_remote_set_maybe_submitted (Wr2vRemote * remote, Wr2vJob * job,
    const gchar * why, GError ** error)
{
  const Wr2vRemoteClass *k = remote->klass;
  gchar *journal = job->store && job->hash ?
      g_strdup_printf ("%s/journal/%s.json", wr2v_store_dir (job->store),
      job->hash) : g_strdup ("the job journal in cache-dir");

  g_set_error (error, WR2V_ERROR, WR2V_ERROR_MAYBE_SUBMITTED,
      "the %s was sent to %s but %s, so a paid %s may have been created. "
      "%s before trying again. This request is not submitted again by "
      "itself: once you know no %s runs for it, delete %s and run again",
      k->job_word, k->provider, why, k->job_word, k->where_to_look,
      k->job_word, journal);
  g_free (journal);
}

/* --- requests --- */

void
wr2v_remote_api_request (Wr2vRemote * remote, Wr2vJob * job,
    Wr2vHttpRequest * hr, Wr2vHttpMethod method, const gchar * url,
    const gchar * key)
{
  memset (hr, 0, sizeof *hr);
  hr->method = method;
  hr->url = url;
  hr->bearer = key;
  hr->auth_scheme = remote->klass->auth_scheme;
  hr->timeout_s = API_TIMEOUT_S;
  hr->low_speed_time_s = API_LOW_SPEED_S;
  hr->cancellable = job->cancellable;
}

void
wr2v_remote_api_post_json (Wr2vRemote * remote, Wr2vJob * job,
    Wr2vHttpRequest * hr, const gchar * url, const gchar * key, gchar * body)
{
  wr2v_remote_api_request (remote, job, hr, WR2V_HTTP_POST, url, key);
  hr->body = g_bytes_new_take (body, strlen (body));
  hr->content_type = "application/json";
}

gboolean
wr2v_remote_read (Wr2vRemote * remote, const Wr2vHttpRequest * hr,
    gboolean upload, Wr2vHttpResponse * resp, GError ** error)
{
  /* an upload creates nothing billable: safe to send again */
  static const Wr2vHttpRetry api = { 6, 1000, 15000, 60 };
  static const Wr2vHttpRetry download = { 4, 1000, 8000, 30 };
  static const Wr2vHttpRetry media = { 3, 1000, 8000, 30, TRUE };
  const Wr2vHttpRetry *retry = hr->download_path ? &download :
      upload ? &media : &api;

  return wr2v_http_perform_retry (remote->http, hr, retry, resp, error);
}

gboolean
wr2v_remote_api_get (Wr2vRemote * remote, Wr2vJob * job, const gchar * route,
    const gchar * failed, Wr2vHttpResponse * resp, GError ** error)
{
  Wr2vHttpRequest hr;
  GError *local = NULL;
  const gchar *key;
  gchar *url;
  gboolean ok;

  if (!(key = wr2v_remote_key (remote, error)) ||
      !(url = wr2v_remote_route (remote, route, error)))
    return FALSE;
  wr2v_remote_api_request (remote, job, &hr, WR2V_HTTP_GET, url, key);
  ok = wr2v_remote_read (remote, &hr, FALSE, resp, &local);
  if (!ok) {
    if (local->domain == WR2V_ERROR && local->code == WR2V_ERROR_NETWORK)
      g_prefix_error (&local, "%s", failed);
    g_propagate_error (error, local);
  }
  g_free (url);
  return ok;
}

gboolean
wr2v_remote_parse (const Wr2vHttpResponse * resp, Wr2vRemoteParser parse,
    gpointer out, GError ** error)
{
  gsize len = 0;
  const gchar *data = resp->body ? g_bytes_get_data (resp->body, &len) : NULL;

  if (parse (data, len, out, error))
    return TRUE;
  wr2v_http_hint_content_type (resp, error);
  return FALSE;
}

gboolean
wr2v_remote_parse_answer (Wr2vRemote * remote, const Wr2vHttpResponse * resp,
    gpointer out, GError ** error)
{
  return wr2v_remote_parse (resp, remote->klass->answer_parser, out, error);
}

/* --- submit --- */

/* A submit whose transfer failed: nothing was created when the request
 * never went out; otherwise a paid job may exist. Takes @local. */
static void
submit_not_answered (Wr2vRemote * remote, Wr2vJob * job,
    const Wr2vHttpResponse * resp, GError * local, GError ** error)
{
  gchar *why;

  if (!resp->request_sent) {
    if (local->domain == WR2V_ERROR)
      g_prefix_error (&local, "no %s was created: ", remote->klass->job_word);
    g_propagate_error (error, local);
    return;
  }
  /* stopped after sending: not a plain cancel, or the driver would forget
   * the journal entry and the next run could pay twice */
  if (g_error_matches (local, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    why = g_strdup ("the run was stopped before it answered");
  else
    why = g_strdup_printf ("no answer came (%s)", local->message);
  wr2v_remote_set_maybe_submitted (remote, job, why, error);
  g_free (why);
  g_error_free (local);
}

static gboolean
nothing_created (const Wr2vRemoteClass * k, guint status)
{
  guint i;

  if (status >= 400 && status < 500 && status != 408)
    return TRUE;
  for (i = 0; i < G_N_ELEMENTS (k->submit_nothing_created) &&
      k->submit_nothing_created[i]; i++) {
    if (k->submit_nothing_created[i] == status)
      return TRUE;
  }
  return FALSE;
}

/* What the HTTP status of a submit's answer says before its body is read:
 * 200 is read by the class; a refusal created nothing; anything else (408,
 * another 2xx, a 3xx, a 5xx) may hide a job the backend did create. */
static Wr2vRemoteVerdict
submit_status (Wr2vRemote * remote, Wr2vJob * job,
    const Wr2vHttpResponse * resp, const gchar * what, gchar ** why,
    GError ** error)
{
  const Wr2vRemoteClass *k = remote->klass;
  Wr2vRemoteFault fault;
  gchar *answer;

  if (resp->status == 200 || (k->submit_created_status &&
          resp->status == k->submit_created_status))
    return WR2V_REMOTE_SUBMIT_ACCEPTED;
  read_fault (remote, resp, &fault);
  if (!nothing_created (k, resp->status)) {
    note_safe_fault (job, resp->status, &fault);
    answer = fault_why (resp->status, &fault);
    *why = g_strdup_printf ("the answer was %s", answer);
    g_free (answer);
    wr2v_remote_fault_clear (&fault);
    return WR2V_REMOTE_SUBMIT_MAYBE;
  }
  if (resp->status == 429) {
    note_safe_fault (job, resp->status, &fault);
    answer = fault_why (resp->status, &fault);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NETWORK,
        "%s throttled the submit (%s): nothing was created, retry later. A "
        "submit is not retried by itself, so that a %s is never paid twice",
        k->provider, answer, k->job_word);
    g_free (answer);
  } else {
    safe_answer_error (remote, job, resp->status, &fault, what, error);
    if (wr2v_http_status_is_transient (resp->status))
      g_prefix_error (error, "no %s was created: ", k->job_word);
  }
  wr2v_remote_fault_clear (&fault);
  return WR2V_REMOTE_SUBMIT_REFUSED;
}

gchar *
wr2v_remote_submit (Wr2vRemote * remote, Wr2vJob * job,
    const Wr2vRemoteSubmit * sub, GError ** error)
{
  Wr2vHttpRequest hr = { 0, };
  Wr2vHttpResponse resp = { 0, };
  Wr2vRemoteVerdict verdict;
  GError *local = NULL;
  gchar *id = NULL, *why = NULL;
  const gchar *key;
  guint timeout = wr2v_remote_submit_timeout (remote);

  if (!(key = wr2v_remote_key (remote, error)))
    return NULL;
  wr2v_remote_api_request (remote, job, &hr, WR2V_HTTP_POST, sub->url, key);
  hr.headers = sub->headers;
  hr.body = g_bytes_new_static (sub->body, strlen (sub->body));
  hr.content_type = "application/json";
  /* no longer than the whole job may last */
  hr.timeout_s = timeout;
  hr.low_speed_time_s = timeout;
  /* a fresh connection: on a reused one that dies, libcurl resends */
  hr.no_resend = TRUE;

  /* never retried: a second POST is a second paid job */
  if (!wr2v_http_perform (remote->http, &hr, &resp, &local)) {
    submit_not_answered (remote, job, &resp, local, error);
    goto out;
  }
  verdict = submit_status (remote, job, &resp, sub->what, &why, error);
  if (verdict == WR2V_REMOTE_SUBMIT_ACCEPTED && !remote->klass->read_submit)
    verdict = wr2v_remote_read_submit_member (&resp,
        remote->klass->submit_id_member, &id, &why);
  else if (verdict == WR2V_REMOTE_SUBMIT_ACCEPTED)
    verdict = remote->klass->read_submit (remote, job, &resp, sub->what, &id,
        &why, error);
  if (verdict == WR2V_REMOTE_SUBMIT_ACCEPTED && !wr2v_remote_job_id_ok (id)) {
    g_clear_pointer (&id, g_free);
    why = g_strdup_printf ("its answer had no usable %s id",
        remote->klass->job_word);
    verdict = WR2V_REMOTE_SUBMIT_MAYBE;
  }
  if (verdict == WR2V_REMOTE_SUBMIT_MAYBE)
    wr2v_remote_set_maybe_submitted (remote, job, why, error);
  if (verdict != WR2V_REMOTE_SUBMIT_ACCEPTED)
    g_clear_pointer (&id, g_free);
  else
    GST_INFO ("submitted %s %s", remote->klass->job_word, id);

out:
  g_bytes_unref (hr.body);
  wr2v_http_response_clear (&resp);
  g_free (why);
  return id;
}

/* *@why of an unreadable answer to a submit (@local, freed). */
static void
submit_unreadable (GError * local, gchar ** why)
{
  *why = g_strdup_printf ("its answer was unreadable (%s)", local->message);
  g_error_free (local);
}

gboolean
wr2v_remote_parse_submit_answer (Wr2vRemote * remote,
    const Wr2vHttpResponse * resp, gpointer answer, gchar ** why)
{
  GError *local = NULL;

  if (wr2v_remote_parse_answer (remote, resp, answer, &local))
    return TRUE;
  submit_unreadable (local, why);
  return FALSE;
}

Wr2vRemoteVerdict
wr2v_remote_read_submit_member (const Wr2vHttpResponse * resp,
    const gchar * member, gchar ** id, gchar ** why)
{
  gsize len = 0;
  const gchar *data = resp->body ? g_bytes_get_data (resp->body, &len) : NULL;
  JsonObject *root = NULL;
  GError *local = NULL;
  JsonNode *node = wr2v_json_parse_object (data, len, NULL, &root, &local);

  if (!node) {
    wr2v_http_hint_content_type (resp, &local);
    submit_unreadable (local, why);
    return WR2V_REMOTE_SUBMIT_MAYBE;
  }
  *id = g_strdup (wr2v_json_string (root, member));
  json_node_unref (node);
  return WR2V_REMOTE_SUBMIT_ACCEPTED;
}

gchar *
wr2v_remote_engine_submit (Wr2vEngine * engine, Wr2vJob * job, GError ** error)
{
  Wr2vRemote *remote = wr2v_remote_get (engine);
  const Wr2vRemoteClass *k = remote->klass;
  Wr2vRequest *req = job->request;
  const gchar *headers[G_N_ELEMENTS (k->submit_headers) + 2] = { NULL, };
  const gchar *model = wr2v_remote_model (remote);
  Wr2vRemoteSubmit sub = { 0, };
  gchar *route = NULL, *url = NULL, *body = NULL, *what, *id = NULL;
  gchar **refs = NULL;
  guint n;

  if (!wr2v_remote_key (remote, error) ||
      !(route = k->submit_route ? k->submit_route (remote, error) :
          g_strdup_printf (k->submit_route_pattern, model)) ||
      !(url = wr2v_remote_route (remote, route, error)) ||
      !(refs = wr2v_remote_reference_urls (remote, job, error)) ||
      !wr2v_remote_voices_uploaded (remote, job, error))
    goto out;
  for (n = 0; n < G_N_ELEMENTS (k->submit_headers) && k->submit_headers[n]; n++)
    headers[n] = k->submit_headers[n];
  body = k->submit_body ? k->submit_body (remote, job,
      (const gchar * const *) refs, &headers[n]) : k->submit_wire (model,
      req, (const gchar * const *) refs);
  what = g_strdup_printf ("submitting the %s to %s", k->job_word, model);
  sub.url = url;
  sub.body = body;
  sub.headers = headers[0] ? headers : NULL;
  sub.what = what;
  wr2v_job_phase (job, WR2V_PHASE_SUBMIT, "submitting to %s (%s, %s, %u s)",
      k->provider, model, k->resolution_word (req->resolution), req->duration);
  id = wr2v_remote_submit (remote, job, &sub, error);
  g_free (what);

out:
  g_strfreev (refs);
  g_free (body);
  g_free (url);
  g_free (route);
  return id;
}

/* --- poll --- */

void
wr2v_remote_poll_status (Wr2vPollResult * res, const gchar * status)
{
  g_free (res->status);
  /* bounded: it goes into messages; known ones are short */
  res->status = wr2v_http_safe_text (status, 64, NULL);
}

gint
wr2v_remote_poll_word (Wr2vRemote * remote, const gchar * job_id,
    const gchar * status, const Wr2vRemoteStatusWord * words,
    Wr2vPollResult * res, GError ** error)
{
  const Wr2vRemoteClass *k = remote->klass;
  guint i;

  if (!status) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "%s's answer for %s %s has no status; run again to resume it",
        k->provider, k->job_word, job_id);
    return -1;
  }
  wr2v_remote_poll_status (res, status);
  for (i = 0; words[i].word && !g_str_equal (words[i].word, status); i++);
  if (!words[i].word)
    GST_WARNING ("%s %s: unknown status \"%s\"", k->job_word, job_id,
        res->status);
  res->state = words[i].word ? words[i].state : WR2V_POLL_RUNNING;
  return res->state;
}

gboolean
wr2v_remote_poll_output (Wr2vRemote * remote, const gchar * job_id,
    const gchar * verb, const gchar * url, Wr2vPollResult * res,
    GError ** error)
{
  GError *local = NULL;

  if (!wr2v_http_url_allowed (url, &local)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "%s %s %s %s, but its result can't be downloaded: %s",
        remote->klass->provider, remote->klass->job_word, job_id, verb,
        local->message);
    g_error_free (local);
    return FALSE;
  }
  res->state = WR2V_POLL_SUCCEEDED;
  g_free (res->output_url);
  res->output_url = g_strdup (url);
  return TRUE;
}

void
wr2v_remote_poll_failed (Wr2vRemote * remote, Wr2vJob * job, guint status,
    Wr2vRemoteFault * fault, Wr2vPollResult * res)
{
  sanitize_fault (remote, fault);
  res->state = WR2V_POLL_FAILED;
  g_free (res->error_code);
  res->error_code = g_strdup (fault->code);
  g_free (res->error_message);
  res->error_message = g_strdup (fault->message);
  note_safe_fault (job, status, fault);
}

void
wr2v_remote_poll_unreadable (Wr2vRemote * remote, const gchar * job_id,
    GError * local, GError ** error)
{
  g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
      "%s while polling %s %s %s; run again to resume it", local->message,
      remote->klass->provider, remote->klass->job_word, job_id);
  g_error_free (local);
}

/* A poll's answer that is not 200, as an error. */
static void
poll_status_error (Wr2vRemote * remote, Wr2vJob * job, const gchar * job_id,
    const Wr2vHttpResponse * resp, GError ** error)
{
  const Wr2vRemoteClass *k = remote->klass;
  gchar *what = g_strdup_printf ("polling %s %s", k->job_word, job_id);

  wr2v_remote_http_error (remote, job, resp, what, error);
  if (resp->status == 404)
    g_prefix_error (error, "%s does not know %s %s (%s): ", k->provider,
        k->job_word, job_id, k->unknown_job_hint);
  else if (wr2v_http_status_is_transient (resp->status))
    g_prefix_error (error, "polling %s %s %s failed after %u attempts, run "
        "again to resume it: ", k->provider, k->job_word, job_id,
        resp->attempts);
  g_free (what);
}

/* The class's read_poll on the answer parsed into the engine's struct. */
static gboolean
read_poll (Wr2vRemote * remote, Wr2vJob * job, const gchar * job_id,
    const Wr2vHttpResponse * resp, Wr2vPollResult * res, GError ** error)
{
  const Wr2vRemoteClass *k = remote->klass;
  gpointer answer = g_malloc0 (k->answer_size);
  GError *local = NULL;
  gboolean ok = FALSE;

  if (!wr2v_remote_parse_answer (remote, resp, answer, &local))
    wr2v_remote_poll_unreadable (remote, job_id, local, error);
  else
    ok = k->read_poll (remote, job, job_id, resp, answer, res, error);
  k->answer_clear (answer);
  g_free (answer);
  return ok;
}

gboolean
wr2v_remote_engine_poll (Wr2vEngine * engine, Wr2vJob * job,
    const gchar * job_id, Wr2vPollResult * res, GError ** error)
{
  Wr2vRemote *remote = wr2v_remote_get (engine);
  const Wr2vRemoteClass *k = remote->klass;
  Wr2vHttpResponse resp = { 0, };
  gchar *escaped, *route, *failed;
  gboolean ok = FALSE;

  if (!wr2v_remote_job_id_ok (job_id)) {
    gchar *shown = g_strescape (job_id ? job_id : "", NULL);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "\"%s\" is not a %s %s id (letters, digits, '-', '_' and '.' only)",
        shown, k->provider, k->job_word);
    g_free (shown);
    return FALSE;
  }
  wr2v_job_detail_string (job, "job-id", job_id);
  escaped = wr2v_http_escape_segment (job_id);
  route = k->poll_route ? k->poll_route (remote, escaped) :
      g_strconcat (k->poll_prefix, escaped, k->poll_suffix, NULL);
  failed = g_strdup_printf ("polling %s %s %s failed, run again to resume "
      "it: ", k->provider, k->job_word, job_id);
  /* 429 is retried here, on a GET; never on a submit */
  if (wr2v_remote_api_get (remote, job, route, failed, &resp, error)) {
    if (resp.status != 200 && !(k->poll_any_2xx && resp.status >= 200 &&
            resp.status < 300))
      poll_status_error (remote, job, job_id, &resp, error);
    else
      ok = read_poll (remote, job, job_id, &resp, res, error);
  }
  wr2v_http_response_clear (&resp);
  g_free (failed);
  g_free (route);
  g_free (escaped);
  return ok;
}

/* --- fetch --- */

/* A download's answer that is not a whole 2xx body, as an error. */
static gboolean
check_download (Wr2vRemote * remote, Wr2vJob * job, const gchar * id,
    const gchar * shown, const Wr2vHttpResponse * resp, GError ** error)
{
  const Wr2vRemoteClass *k = remote->klass;
  guint st = resp->status;

  if (st == 403 || st == 404 || st == 410) {
    wr2v_job_detail_int (job, "http-status", st);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_NOT_FOUND,
        "the result of %s %s %s is no longer at %s (HTTP %u): %s",
        k->provider, k->job_word, id, shown, st, k->result_gone);
    return FALSE;
  }
  if (st < 200 || st >= 300) {
    wr2v_job_detail_int (job, "http-status", st);
    g_set_error (error, WR2V_ERROR, wr2v_http_status_is_transient (st) ?
        WR2V_ERROR_NETWORK : WR2V_ERROR_PROTOCOL, "downloading the result "
        "of %s %s %s from %s failed with HTTP %u; run again soon to retry",
        k->provider, k->job_word, id, shown, st);
    return FALSE;
  }
  if (resp->body_bytes == 0) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_BAD_RESULT,
        "the result of %s %s %s at %s is empty", k->provider, k->job_word,
        id, shown);
    return FALSE;
  }
  return TRUE;
}

gboolean
wr2v_remote_engine_fetch (Wr2vEngine * engine, Wr2vJob * job,
    const gchar * url, const gchar * out_path, GError ** error)
{
  Wr2vRemote *remote = wr2v_remote_get (engine);
  const Wr2vRemoteClass *k = remote->klass;
  Wr2vHttpRequest hr = { 0, };
  Wr2vHttpResponse resp = { 0, };
  Wr2vRemoteProgress ps;
  GError *local = NULL;
  gchar *shown;
  gboolean ok = FALSE;
  const gchar *id = job->job_id ? job->job_id : "?";

  if (!wr2v_http_url_allowed (url, &local)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "the result of %s %s %s can't be downloaded: %s", k->provider,
        k->job_word, id, local->message);
    g_error_free (local);
    return FALSE;
  }

  /* no key: results are signed links, or on a CDN that needs none */
  hr.method = WR2V_HTTP_GET;
  hr.url = url;
  hr.download_path = out_path;
  hr.max_body_bytes = engine->settings.max_download_bytes ?
      engine->settings.max_download_bytes : WR2V_DEFAULT_MAX_DOWNLOAD_BYTES;
  hr.follow_redirects = !k->result_no_redirect;
  hr.low_speed_time_s = DOWNLOAD_LOW_SPEED_S;
  hr.cancellable = job->cancellable;
  wr2v_remote_watch_progress (&hr, &ps, job, "downloading the result");

  shown = wr2v_http_url_for_log (url);
  wr2v_job_phase (job, WR2V_PHASE_DOWNLOAD, "downloading the result of %s "
      "%s", k->job_word, id);
  if (!wr2v_remote_read (remote, &hr, FALSE, &resp, &local)) {
    if (local->domain == WR2V_ERROR && local->code == WR2V_ERROR_NETWORK)
      g_prefix_error (&local, "downloading the result of %s %s %s failed "
          "(run again soon to retry: %s): ", k->provider, k->job_word, id,
          k->result_expiry);
    g_propagate_error (error, local);
  } else if (check_download (remote, job, id, shown, &resp, error)) {
    GST_INFO ("%s %s: downloaded %" G_GUINT64_FORMAT " bytes from %s",
        k->job_word, id, resp.body_bytes, shown);
    ok = TRUE;
  }
  wr2v_http_response_clear (&resp);
  g_free (shown);
  return ok;
}

/* --- progress --- */

static void
on_progress (gpointer data, gboolean upload, guint64 now, guint64 total)
{
  Wr2vRemoteProgress *ps = data;
  gchar *size;
  gint pct;
  gint64 t;

  if (total == 0)
    return;
  pct = (gint) (now * 100 / total);
  t = g_get_monotonic_time ();
  /* every 10 % and not more than twice a second: these become messages */
  if (pct / 10 == ps->last_pct / 10 || (t - ps->last_time < G_USEC_PER_SEC / 2
          && pct < 100))
    return;
  ps->last_pct = pct;
  ps->last_time = t;
  size = g_format_size (total);
  wr2v_job_phase (ps->job, upload ? WR2V_PHASE_UPLOAD : WR2V_PHASE_DOWNLOAD,
      "%s: %d%% of %s", ps->label, pct, size);
  g_free (size);
}

void
wr2v_remote_watch_progress (Wr2vHttpRequest * hr, Wr2vRemoteProgress * ps,
    Wr2vJob * job, const gchar * label)
{
  ps->job = job;
  ps->label = label;
  ps->last_pct = -10;
  ps->last_time = 0;
  hr->progress = on_progress;
  hr->progress_data = ps;
}
