/* wr2v-remote-upload.c: the remote-job layer's uploads (see
 * wr2v-remote-upload.h). Wr2vRemote.lock guards Wr2vRemote.uploaded; see
 * the thread-safety note in wr2v-remote.c.
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "wr2v-defaults.h"
#include "wr2v-error.h"
#include "wr2v-remote.h"
#include "wr2v-voice.h"

GST_DEBUG_CATEGORY_EXTERN (wr2v_remote_debug);
#define GST_CAT_DEFAULT wr2v_remote_debug

/* an upload must outlive the job's queue wait too */
#define QUEUE_MARGIN_S 3600
/* an upload offered in a submit must stay valid while the service
 * fetches it */
#define SUBMIT_MARGIN_S 600

typedef struct
{
  gchar *url;
  gint64 expires;               /* unix seconds */
} Upload;

static void
upload_free (gpointer data)
{
  Upload *u = data;

  g_free (u->url);
  g_free (u);
}

void
wr2v_remote_upload_init (Wr2vRemote * remote)
{
  remote->uploaded = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      upload_free);
}

void
wr2v_remote_upload_clear (Wr2vRemote * remote)
{
  g_clear_pointer (&remote->uploaded, g_hash_table_unref);
}

static gchar *
record_scope (Wr2vRemote * remote)
{
  if (remote->klass->upload_scope)
    return remote->klass->upload_scope (remote);
  return wr2v_remote_upload_scope_by_url (remote);
}

static gchar *
record_key (Wr2vRemote * remote, const gchar * sha)
{
  if (remote->klass->upload_key)
    return remote->klass->upload_key (remote, sha);
  return g_strdup (sha);
}

gchar *
wr2v_remote_upload_lookup (Wr2vRemote * remote, Wr2vJob * job,
    const gchar * sha, gint64 margin_s)
{
  gchar *rkey = record_key (remote, sha);
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  gchar *url = NULL, *scope;
  Upload *u;

  g_mutex_lock (&remote->lock);
  u = g_hash_table_lookup (remote->uploaded, rkey);
  if (u && u->expires >= now + margin_s)
    url = g_strdup (u->url);
  g_mutex_unlock (&remote->lock);
  if (!url && job->store) {
    scope = record_scope (remote);
    url = wr2v_store_upload_lookup (job->store, scope, rkey, margin_s);
    g_free (scope);
  }
  g_free (rkey);
  return url;
}

void
wr2v_remote_upload_remember (Wr2vRemote * remote, Wr2vJob * job,
    const gchar * sha, const gchar * url, gint64 expires)
{
  gchar *rkey = record_key (remote, sha), *scope;
  Upload *u = g_new0 (Upload, 1);
  GError *err = NULL;

  u->url = g_strdup (url);
  u->expires = expires;
  g_mutex_lock (&remote->lock);
  g_hash_table_replace (remote->uploaded, g_strdup (rkey), u);
  g_mutex_unlock (&remote->lock);
  if (job->store) {
    scope = record_scope (remote);
    if (!wr2v_store_upload_remember (job->store, scope, rkey, url, expires,
            &err)) {
      /* only costs an upload next time */
      GST_WARNING ("could not remember an upload: %s", err->message);
      g_clear_error (&err);
    }
    g_free (scope);
  }
  g_free (rkey);
}

static void
forget_one (Wr2vRemote * remote, Wr2vJob * job, const gchar * scope,
    const gchar * sha)
{
  gchar *rkey = record_key (remote, sha), *url;

  g_mutex_lock (&remote->lock);
  g_hash_table_remove (remote->uploaded, rkey);
  g_mutex_unlock (&remote->lock);
  if (job->store &&
      (url = wr2v_store_upload_lookup (job->store, scope, rkey, 0))) {
    /* an expiry in the past makes the store treat it as gone */
    wr2v_store_upload_remember (job->store, scope, rkey, url, 1, NULL);
    g_free (url);
  }
  g_free (rkey);
}

void
wr2v_remote_upload_forget (Wr2vRemote * remote, Wr2vJob * job)
{
  Wr2vRequest *req = job->request;
  gchar *scope = record_scope (remote);
  guint i;

  for (i = 0; req && req->references && i < req->references->len; i++) {
    Wr2vReference *ref = g_ptr_array_index (req->references, i);

    if (!ref->uri && ref->sha256)
      forget_one (remote, job, scope, ref->sha256);
    if (!ref->voice_uri && ref->voice_sha256)
      forget_one (remote, job, scope, ref->voice_sha256);
  }
  g_free (scope);
}

gchar *
wr2v_remote_reference_url (Wr2vRemote * remote, Wr2vJob * job,
    const Wr2vReference * ref, GError ** error)
{
  gchar *url = NULL;

  if (ref->uri)
    return g_strdup (ref->uri);
  if (ref->sha256)
    url = wr2v_remote_upload_lookup (remote, job, ref->sha256, SUBMIT_MARGIN_S);
  if (!url)
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
        "%s %u was not uploaded before the submit",
        wr2v_ref_kind_word (ref->kind), ref->number);
  return url;
}

gchar *
wr2v_remote_voice_url (Wr2vRemote * remote, Wr2vJob * job,
    const Wr2vReference * ref, GError ** error)
{
  gchar *url = NULL;

  if (ref->voice_uri || !ref->voice_sha256)
    return g_strdup (ref->voice_uri);
  url = wr2v_remote_upload_lookup (remote, job, ref->voice_sha256,
      SUBMIT_MARGIN_S);
  if (!url)
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
        "the voice of %s %u was not uploaded before the submit",
        wr2v_ref_kind_word (ref->kind), ref->number);
  return url;
}

void
wr2v_remote_urls_free (gchar ** urls, guint n)
{
  for (guint i = 0; urls && i < n; i++)
    g_free (urls[i]);
  g_free (urls);
}

typedef gchar *(*UrlOf) (Wr2vRemote * remote, Wr2vJob * job,
    const Wr2vReference * ref, GError ** error);

/* @url_of of each of @job's references, in order, NULL-terminated unless
 * @url_of gave NULL without an error; NULL with the first error. */
static gchar **
collect_urls (Wr2vRemote * remote, Wr2vJob * job, UrlOf url_of, GError ** error)
{
  Wr2vRequest *req = job->request;
  guint i, n = req->references ? req->references->len : 0;
  gchar **urls = g_new0 (gchar *, n + 1);

  for (i = 0; i < n; i++) {
    GError *local = NULL;

    urls[i] = url_of (remote, job, g_ptr_array_index (req->references, i),
        &local);
    if (local) {
      g_propagate_error (error, local);
      wr2v_remote_urls_free (urls, i);
      return NULL;
    }
  }
  return urls;
}

gchar **
wr2v_remote_voice_urls (Wr2vRemote * remote, Wr2vJob * job, GError ** error)
{
  return collect_urls (remote, job, wr2v_remote_voice_url, error);
}

gboolean
wr2v_remote_voices_uploaded (Wr2vRemote * remote, Wr2vJob * job,
    GError ** error)
{
  gchar **urls = wr2v_remote_voice_urls (remote, job, error);

  wr2v_remote_urls_free (urls, job->request->references->len);
  return urls != NULL;
}

gchar **
wr2v_remote_reference_urls (Wr2vRemote * remote, Wr2vJob * job, GError ** error)
{
  return collect_urls (remote, job, wr2v_remote_reference_url, error);
}

gboolean
wr2v_remote_check_size (Wr2vRemote * remote, const Wr2vReference * ref,
    const gchar * label, guint64 size, guint64 limit, GError ** error)
{
  gboolean image = ref->kind == WR2V_REF_IMAGE;
  gchar *have, *max;

  if (limit == 0 || size <= limit)
    return TRUE;
  have = g_format_size (size);
  max = g_format_size (limit);
  g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
      "%s is %s; %s takes %s references up to %s: %s", label, have,
      remote->klass->provider, image ? "image" : "video", max,
      image ? remote->klass->too_large_image_hint :
      remote->klass->too_large_video_hint);
  g_free (have);
  g_free (max);
  return FALSE;
}

const gchar *
wr2v_remote_ext_for_mime (const gchar * mime, Wr2vRefKind kind)
{
  if (g_strcmp0 (mime, "image/jpeg") == 0)
    return "jpg";
  if (g_strcmp0 (mime, "image/png") == 0)
    return "png";
  if (g_strcmp0 (mime, "video/quicktime") == 0)
    return "mov";
  if (g_str_has_prefix (mime ? mime : "", "audio/"))
    return wr2v_voice_ext_for_mime (mime);
  return kind == WR2V_REF_IMAGE ? "png" : "mp4";
}

gboolean
wr2v_remote_url_is_http (const gchar * url)
{
  return url && (g_ascii_strncasecmp (url, "https://", 8) == 0 ||
      g_ascii_strncasecmp (url, "http://", 7) == 0);
}

/* How long an upload must stay valid to be reused: the whole job, plus an
 * hour in the queue. */
static gint64
upload_margin (Wr2vRemote * remote)
{
  guint t = remote->engine->settings.request_timeout_s;

  return (gint64) (t ? t : WR2V_DEFAULT_HOSTED_TIMEOUT_S) + QUEUE_MARGIN_S;
}

/* Uploads @ref's file (@label in messages; over @limit bytes, unless 0,
 * it is refused) through the class's hook, and remembers it. */
static gchar *
upload_file (Wr2vRemote * remote, Wr2vJob * job, const Wr2vReference * ref,
    const gchar * sha, const gchar * label, guint64 limit, GError ** error)
{
  const Wr2vRemoteClass *k = remote->klass;
  gint64 started = g_get_real_time () / G_USEC_PER_SEC;
  gchar *url = NULL, *size_text;
  GStatBuf st;

  if (g_stat (ref->path, &st) != 0) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE, "%s: can't read %s",
        label, ref->path);
    return NULL;
  }
  /* checked before any request: none is sent for a lost cause */
  if (!wr2v_remote_check_size (remote, ref, label, st.st_size, limit, error))
    return NULL;

  size_text = g_format_size (st.st_size);
  wr2v_job_phase (job, WR2V_PHASE_UPLOAD, "uploading %s (%s)", label,
      size_text);
  g_free (size_text);
  url = k->upload (remote, job, ref, sha, label, st.st_size, error);
  if (url) {
    GST_INFO ("uploaded %s (%s)", label, sha);
    wr2v_remote_upload_remember (remote, job, sha, url,
        started + k->upload_lifetime_s);
  }
  return url;
}

/* Uploads the file of @ref through the class's hook and remembers it. */
static gchar *
upload_one (Wr2vRemote * remote, Wr2vJob * job, const Wr2vReference * ref,
    const gchar * sha, GError ** error)
{
  const Wr2vRemoteClass *k = remote->klass;
  gchar *label = g_strdup_printf ("%s %u", wr2v_ref_kind_word (ref->kind),
      ref->number);
  gchar *url = upload_file (remote, job, ref, sha, label,
      ref->kind == WR2V_REF_IMAGE ? k->max_image_bytes : k->max_video_bytes,
      error);

  g_free (label);
  return url;
}

/* A reference's voice file, uploaded like a reference (a voice-uri goes
 * as it is: DashScope fetches https and oss:// alike). */
static gboolean
prepare_voice (Wr2vRemote * remote, Wr2vJob * job, const Wr2vReference * ref,
    GError ** error)
{
  Wr2vReference voice = *ref;
  gchar *label, *url;
  gboolean ok = TRUE;
  GStatBuf st;

  if (ref->voice_uri || !ref->voice_path)
    return TRUE;
  label = g_strdup_printf ("the voice of %s %u",
      wr2v_ref_kind_word (ref->kind), ref->number);
  /* the voice's file in the reference's place, for the upload hook */
  voice.path = ref->voice_path;
  voice.mime = ref->voice_mime;
  voice.sha256 = ref->voice_sha256;
  voice.uri = NULL;
  url = wr2v_remote_upload_lookup (remote, job, ref->voice_sha256,
      upload_margin (remote));
  if (url) {
    wr2v_job_phase (job, WR2V_PHASE_UPLOAD, "%s was uploaded before", label);
  } else if (remote->klass->max_voice_bytes &&
      g_stat (ref->voice_path, &st) == 0 &&
      (guint64) st.st_size > remote->klass->max_voice_bytes) {
    g_autofree gchar *have = g_format_size (st.st_size);
    g_autofree gchar *max = g_format_size (remote->klass->max_voice_bytes);

    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "%s is %s; %s takes voices up to %s: use a shorter clip or an mp3",
        label, have, remote->klass->provider, max);
    ok = FALSE;
  } else {
    url = upload_file (remote, job, &voice, ref->voice_sha256, label, 0, error);
    ok = url != NULL;
  }
  g_free (label);
  g_free (url);
  return ok;
}

/* A reference given by uri: used as given, if the service can fetch it. */
static gboolean
check_uri (Wr2vRemote * remote, const Wr2vReference * ref, GError ** error)
{
  gboolean ok = remote->klass->uri_ok ? remote->klass->uri_ok (ref->uri) :
      wr2v_remote_url_is_http (ref->uri);

  if (!ok) {
    const Wr2vRemoteClass *k = remote->klass;
    g_autofree gchar *rule = k->uri_rule ? g_strdup (k->uri_rule) :
        g_strdup_printf ("%s fetches references by http(s) URL", k->provider);

    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "%s %u: %s; the uri \"%s\" is not one",
        wr2v_ref_kind_word (ref->kind), ref->number, rule, ref->uri);
  }
  return ok;
}

gboolean
wr2v_remote_engine_prepare (Wr2vEngine * engine, Wr2vJob * job, GError ** error)
{
  Wr2vRemote *remote = wr2v_remote_get (engine);
  Wr2vRequest *req = job->request;
  guint i, n = req->references ? req->references->len : 0;

  if (!wr2v_remote_key (remote, error))
    return FALSE;
  for (i = 0; i < n; i++) {
    Wr2vReference *ref = g_ptr_array_index (req->references, i);
    const gchar *word = wr2v_ref_kind_word (ref->kind);
    gchar *sha, *url;

    if (g_cancellable_set_error_if_cancelled (job->cancellable, error))
      return FALSE;
    if (!prepare_voice (remote, job, ref, error))
      return FALSE;
    if (ref->uri) {
      if (!check_uri (remote, ref, error))
        return FALSE;
      continue;
    }
    if (!ref->path) {
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
          "%s %u has neither a file nor a URL", word, ref->number);
      return FALSE;
    }
    sha = ref->sha256 ? g_strdup (ref->sha256) :
        wr2v_file_sha256 (ref->path, error);
    if (!sha)
      return FALSE;
    url = wr2v_remote_upload_lookup (remote, job, sha, upload_margin (remote));
    if (url)
      wr2v_job_phase (job, WR2V_PHASE_UPLOAD, "%s %u was uploaded before",
          word, ref->number);
    else
      url = upload_one (remote, job, ref, sha, error);
    g_free (sha);
    if (!url)
      return FALSE;
    g_free (url);
  }
  return TRUE;
}

gchar *
wr2v_remote_upload_scope_by_name (Wr2vRemote * remote)
{
  return g_strdup (remote->engine->klass->name);
}

gchar *
wr2v_remote_upload_scope_by_url (Wr2vRemote * remote)
{
  const gchar *u = remote->engine->settings.api_url;
  gchar *digest, *scope;

  if (!u || !*u)
    return g_strdup (remote->engine->klass->name);
  digest = g_compute_checksum_for_string (G_CHECKSUM_SHA256, u, -1);
  scope = g_strdup_printf ("%s-%.12s", remote->engine->klass->name, digest);
  g_free (digest);
  return scope;
}

gboolean
wr2v_remote_upload_send (Wr2vRemote * remote, Wr2vJob * job,
    const Wr2vHttpRequest * hr, const gchar * what, guint also_ok,
    gpointer answer, guint * status, GError ** error)
{
  Wr2vHttpResponse resp = { 0, };
  gboolean ok = FALSE;

  if (!wr2v_remote_read (remote, hr, TRUE, &resp, error))
    goto out;
  if (status)
    *status = resp.status;
  if (resp.status != 200 && (!also_ok || resp.status != also_ok))
    wr2v_remote_http_error (remote, job, &resp, what, error);
  else
    ok = wr2v_remote_parse_answer (remote, &resp, answer, error);
out:
  wr2v_http_response_clear (&resp);
  return ok;
}

gchar *
wr2v_remote_uploaded_url (Wr2vRemote * remote, const gchar * label,
    const gchar * url, const gchar * member, GError ** error)
{
  if (wr2v_remote_url_is_http (url))
    return g_strdup (url);
  g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
      "%s's answer to the upload of %s has no %s", remote->klass->provider,
      label, member);
  return NULL;
}

gboolean
wr2v_remote_engine_check_prepare (Wr2vEngine * engine, Wr2vJob * job,
    GError ** error)
{
  return engine->klass->check (engine, job->request, error) &&
      wr2v_remote_engine_prepare (engine, job, error);
}
