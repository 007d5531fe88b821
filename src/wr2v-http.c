/* wr2v-http.c: the HTTP client over libcurl.
 *
 * Each transfer is an easy handle run on a multi handle taken from a small
 * per-client pool. The multi handle keeps the connection and DNS caches
 * (keep-alive between polls), and curl_multi_wakeup() lets a cancellation
 * interrupt curl_multi_poll() at once instead of waiting for libcurl's next
 * progress callback (up to a second when the line is idle).
 *
 * Redirects are followed here, not by libcurl, so that every hop goes
 * through the same URL policy (https, or http to loopback) and the key is
 * only sent to the origin it was meant for.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include "config.h"

#include "wr2v-backoff.h"
#include "wr2v-defaults.h"
#include "wr2v-http.h"
#include "wr2v-error.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gst/gst.h>

#ifndef VERSION
#define VERSION "0"
#endif

GST_DEBUG_CATEGORY_STATIC (wr2v_http_debug);
#define GST_CAT_DEFAULT wr2v_http_debug

#define DEFAULT_MEMORY_CAP (4 * 1024 * 1024)
/* what we keep of a non-2xx body while downloading: enough for a message */
#define ERROR_BODY_CAP (64 * 1024)
#define DEFAULT_CONNECT_TIMEOUT_S 20
#define DEFAULT_LOW_SPEED_TIME_S 60
#define MAX_REDIRECTS 5
#define MAX_IDLE_MULTIS 4

struct _Wr2vHttp
{
  GMutex lock;
  GSList *idle;                 /* CURLM*, each with its connection cache */
};

typedef struct
{
  const Wr2vHttpRequest *req;
  Wr2vHttpResponse *resp;
  CURL *easy;

  GByteArray *mem;
  FILE *file;
  gboolean mode_decided;
  gboolean to_file;
  guint64 cap;
  gboolean cap_exceeded;
  gint write_errno;
  gchar *refused_type;          /* a download's Content-Type, refused */

  FILE *upload;
  struct curl_slist *headers;   /* the key is in there: freed wiped */
  curl_mime *mime;

  curl_off_t last_dl, last_ul;
} Transfer;

static void
debug_init (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (wr2v_http_debug, "wanr2vhttp", 0,
        "wanr2v HTTP client (never logs keys, headers or bodies)");
    g_once_init_leave (&once, 1);
  }
}

/* At the first request, not when a client is made: every element makes
 * its engines' clients, and libcurl's TLS library costs ~2 MiB once set
 * up, which a preview or stored clip never needs. */
static void
curl_init (void)
{
  static gsize once = 0;

  if (g_once_init_enter (&once)) {
    curl_global_init (CURL_GLOBAL_DEFAULT);
    g_once_init_leave (&once, 1);
  }
}

Wr2vHttp *
wr2v_http_new (void)
{
  Wr2vHttp *http;

  debug_init ();
  http = g_new0 (Wr2vHttp, 1);
  g_mutex_init (&http->lock);
  return http;
}

void
wr2v_http_free (Wr2vHttp * http)
{
  GSList *l;

  if (!http)
    return;
  for (l = http->idle; l; l = l->next)
    curl_multi_cleanup (l->data);
  g_slist_free (http->idle);
  g_mutex_clear (&http->lock);
  g_free (http);
}

void
wr2v_http_response_clear (Wr2vHttpResponse * resp)
{
  if (!resp)
    return;
  g_clear_pointer (&resp->body, g_bytes_unref);
  g_clear_pointer (&resp->content_type, g_free);
  g_clear_pointer (&resp->effective_url, g_free);
  g_clear_pointer (&resp->headers, g_hash_table_unref);
  memset (resp, 0, sizeof (*resp));
  resp->retry_after_s = -1;
}

static CURLM *
take_multi (Wr2vHttp * http)
{
  CURLM *multi = NULL;

  g_mutex_lock (&http->lock);
  if (http->idle) {
    multi = http->idle->data;
    http->idle = g_slist_delete_link (http->idle, http->idle);
  }
  g_mutex_unlock (&http->lock);
  if (!multi)
    multi = curl_multi_init ();
  return multi;
}

static void
give_multi (Wr2vHttp * http, CURLM * multi)
{
  g_mutex_lock (&http->lock);
  if (g_slist_length (http->idle) < MAX_IDLE_MULTIS) {
    http->idle = g_slist_prepend (http->idle, multi);
    multi = NULL;
  }
  g_mutex_unlock (&http->lock);
  if (multi)
    curl_multi_cleanup (multi);
}

/* --- URL policy --- */

typedef struct
{
  gchar *scheme;                /* lower case */
  gchar *host;                  /* without IPv6 brackets */
  gchar *port;
} UrlParts;

static void
url_parts_clear (UrlParts * p)
{
  g_free (p->scheme);
  g_free (p->host);
  g_free (p->port);
}

static gboolean
url_split (const gchar * url, UrlParts * out)
{
  CURLU *u;
  char *scheme = NULL, *host = NULL, *port = NULL;
  gboolean ok = FALSE;

  memset (out, 0, sizeof (*out));
  if (!url)
    return FALSE;
  u = curl_url ();
  if (!u)
    return FALSE;
  if (curl_url_set (u, CURLUPART_URL, url, 0) == CURLUE_OK &&
      curl_url_get (u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
      curl_url_get (u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
      curl_url_get (u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) ==
      CURLUE_OK) {
    gsize len = strlen (host);

    out->scheme = g_ascii_strdown (scheme, -1);
    if (len >= 2 && host[0] == '[' && host[len - 1] == ']')
      out->host = g_strndup (host + 1, len - 2);
    else
      out->host = g_strdup (host);
    out->port = g_strdup (port);
    ok = TRUE;
  }
  curl_free (scheme);
  curl_free (host);
  curl_free (port);
  curl_url_cleanup (u);
  return ok;
}

static gboolean
host_is_loopback (const gchar * host)
{
  GInetAddress *addr;
  gboolean ret;
  const gchar *zone;
  gchar *bare;

  if (g_ascii_strcasecmp (host, "localhost") == 0)
    return TRUE;
  /* an IPv6 zone id ("::1%lo") is not part of the address */
  zone = strchr (host, '%');
  bare = zone ? g_strndup (host, zone - host) : g_strdup (host);
  addr = g_inet_address_new_from_string (bare);
  g_free (bare);
  ret = addr && g_inet_address_get_is_loopback (addr);
  g_clear_object (&addr);
  return ret;
}

gchar *
wr2v_http_url_for_log (const gchar * url)
{
  CURLU *u;
  char *clean = NULL;
  gchar *ret;

  if (!url)
    return g_strdup ("(none)");
  u = curl_url ();
  if (!u || curl_url_set (u, CURLUPART_URL, url, 0) != CURLUE_OK) {
    curl_url_cleanup (u);
    return g_strdup ("(invalid URL)");
  }
  curl_url_set (u, CURLUPART_USER, NULL, 0);
  curl_url_set (u, CURLUPART_PASSWORD, NULL, 0);
  curl_url_set (u, CURLUPART_OPTIONS, NULL, 0);
  curl_url_set (u, CURLUPART_QUERY, NULL, 0);
  curl_url_set (u, CURLUPART_FRAGMENT, NULL, 0);
  if (curl_url_get (u, CURLUPART_URL, &clean, 0) == CURLUE_OK)
    ret = g_strdup (clean);
  else
    ret = g_strdup ("(invalid URL)");
  curl_free (clean);
  curl_url_cleanup (u);
  return ret;
}

gboolean
wr2v_http_url_allowed (const gchar * url, GError ** error)
{
  UrlParts p;
  gboolean ok = FALSE;
  gchar *shown;

  if (!url_split (url, &p)) {
    shown = wr2v_http_url_for_log (url);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "\"%s\" is not a usable http(s) URL", shown);
    g_free (shown);
    return FALSE;
  }
  if (g_strcmp0 (p.scheme, "https") == 0) {
    ok = TRUE;
  } else if (g_strcmp0 (p.scheme, "http") == 0) {
    ok = host_is_loopback (p.host);
    if (!ok)
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
          "refusing plain http:// to %s: use https (plain http is only "
          "allowed to a loopback address such as 127.0.0.1)", p.host);
  } else {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "refusing a %s:// URL: only https (or http to loopback) is used",
        p.scheme);
  }
  url_parts_clear (&p);
  return ok;
}

static gboolean
url_same_origin (const gchar * a, const gchar * b)
{
  UrlParts pa, pb;
  gboolean same;

  if (!url_split (a, &pa))
    return FALSE;
  if (!url_split (b, &pb)) {
    url_parts_clear (&pa);
    return FALSE;
  }
  same = g_strcmp0 (pa.scheme, pb.scheme) == 0 &&
      g_ascii_strcasecmp (pa.host, pb.host) == 0 &&
      g_strcmp0 (pa.port, pb.port) == 0;
  url_parts_clear (&pa);
  url_parts_clear (&pb);
  return same;
}

static gboolean
url_is_loopback (const gchar * url)
{
  UrlParts p;
  gboolean ret;

  if (!url_split (url, &p))
    return FALSE;
  ret = host_is_loopback (p.host);
  url_parts_clear (&p);
  return ret;
}

gboolean
wr2v_http_content_type_is_media (const gchar * content_type)
{
  gchar *type, *semi;
  gboolean media;

  if (!content_type || !*content_type)
    return TRUE;
  type = g_ascii_strdown (content_type, -1);
  semi = strchr (type, ';');
  if (semi)
    *semi = '\0';
  g_strstrip (type);
  media = !(g_str_has_prefix (type, "text/") ||
      g_str_has_prefix (type, "multipart/") ||
      g_str_equal (type, "application/json") ||
      g_str_equal (type, "application/xml") ||
      g_str_equal (type, "application/xhtml+xml") ||
      g_str_has_suffix (type, "+json") || g_str_has_suffix (type, "+xml"));
  g_free (type);
  return media;
}

void
wr2v_http_hint_content_type (const Wr2vHttpResponse * resp, GError ** error)
{
  gchar *type;

  if (!error || !*error || !resp || !resp->content_type)
    return;
  type = g_ascii_strdown (resp->content_type, -1);
  if (!strstr (type, "json")) {
    gchar *shown = wr2v_http_safe_text (resp->content_type, 100, NULL);

    g_prefix_error (error, "the answer is %s, not JSON: ", shown);
    g_free (shown);
  }
  g_free (type);
}

gboolean
wr2v_http_status_is_transient (guint status)
{
  return status == 429 || status == 500 || status == 502 || status == 503 ||
      status == 504;
}

gchar *
wr2v_http_escape_segment (const gchar * s)
{
  return g_uri_escape_string (s ? s : "", NULL, FALSE);
}

/* --- callbacks --- */

static size_t
on_write (char *ptr, size_t size, size_t nmemb, void *data)
{
  Transfer *t = data;
  gsize n = size * nmemb;

  if (!t->mode_decided) {
    long code = 0;
    char *ct = NULL;

    curl_easy_getinfo (t->easy, CURLINFO_RESPONSE_CODE, &code);
    t->to_file = t->file != NULL && code >= 200 && code < 300;
    t->mode_decided = TRUE;
    /* an error page with a 200 is not the clip: refuse it before a byte
     * of it lands in the file */
    if (t->to_file && curl_easy_getinfo (t->easy, CURLINFO_CONTENT_TYPE,
            &ct) == CURLE_OK && ct && !wr2v_http_content_type_is_media (ct)) {
      t->refused_type = g_strdup (ct);
      return 0;
    }
  }
  if (t->refused_type)
    return 0;

  if (t->file && !t->to_file) {
    /* an error page while downloading: keep its start, drop the rest */
    if (t->mem->len < ERROR_BODY_CAP)
      g_byte_array_append (t->mem, (const guint8 *) ptr,
          MIN (n, ERROR_BODY_CAP - t->mem->len));
    t->resp->body_bytes += n;
    return n;
  }
  if (t->resp->body_bytes + n > t->cap) {
    t->cap_exceeded = TRUE;
    return 0;
  }

  if (t->to_file) {
    if (fwrite (ptr, 1, n, t->file) != n) {
      t->write_errno = errno ? errno : EIO;
      return 0;
    }
  } else {
    g_byte_array_append (t->mem, (const guint8 *) ptr, n);
  }
  t->resp->body_bytes += n;
  return n;
}

static size_t
on_header (char *buf, size_t size, size_t nitems, void *data)
{
  Transfer *t = data;
  gsize n = size * nitems;
  const gchar *colon;
  gchar *name, *value;

  /* a new status line starts a new header set (100 Continue, redirects,
   * a proxy's CONNECT answer) */
  if (n >= 5 && memcmp (buf, "HTTP/", 5) == 0) {
    g_hash_table_remove_all (t->resp->headers);
    return n;
  }
  colon = memchr (buf, ':', n);
  if (!colon || colon == buf)
    return n;
  name = g_ascii_strdown (buf, colon - buf);
  value = g_strndup (colon + 1, n - (colon + 1 - buf));
  g_strstrip (value);
  g_hash_table_replace (t->resp->headers, name, value);
  return n;
}

static size_t
on_read (char *buf, size_t size, size_t nitems, void *data)
{
  Transfer *t = data;
  size_t n = fread (buf, 1, size * nitems, t->upload);

  if (n == 0 && ferror (t->upload))
    return CURL_READFUNC_ABORT;
  return n;
}

static int
on_xferinfo (void *data, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
  Transfer *t = data;
  const Wr2vHttpRequest *req = t->req;

  if (g_cancellable_is_cancelled (req->cancellable))
    return 1;
  if (ulnow > 0)
    t->resp->request_sent = TRUE;
  if (req->progress) {
    if (ulnow != t->last_ul && ultotal > 0) {
      t->last_ul = ulnow;
      req->progress (req->progress_data, TRUE, ulnow, ultotal);
    }
    if (dlnow != t->last_dl) {
      t->last_dl = dlnow;
      req->progress (req->progress_data, FALSE, dlnow, MAX (dltotal, 0));
    }
  }
  return 0;
}

static void
on_cancelled (GCancellable * cancellable, gpointer multi)
{
  curl_multi_wakeup (multi);
}

/* Runs @easy to completion on a pooled multi handle. */
static CURLcode
run_easy (Wr2vHttp * http, CURL * easy, GCancellable * cancellable,
    gboolean * cancelled)
{
  CURLM *multi = take_multi (http);
  CURLcode result = CURLE_OK;
  gboolean done = FALSE;
  gulong handler = 0;

  *cancelled = FALSE;
  if (!multi)
    return CURLE_OUT_OF_MEMORY;
  if (curl_multi_add_handle (multi, easy) != CURLM_OK) {
    give_multi (http, multi);
    return CURLE_FAILED_INIT;
  }
  if (cancellable)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled),
        multi, NULL);

  while (!done) {
    int running = 0, left;
    CURLMsg *msg;

    if (g_cancellable_is_cancelled (cancellable)) {
      *cancelled = TRUE;
      result = CURLE_ABORTED_BY_CALLBACK;
      break;
    }
    if (curl_multi_perform (multi, &running) != CURLM_OK) {
      result = CURLE_FAILED_INIT;
      break;
    }
    while ((msg = curl_multi_info_read (multi, &left))) {
      if (msg->msg == CURLMSG_DONE && msg->easy_handle == easy) {
        result = msg->data.result;
        done = TRUE;
      }
    }
    if (done)
      break;
    if (running == 0) {
      result = CURLE_FAILED_INIT;
      break;
    }
    /* curl shortens this to its own next timer; a cancel wakes it up */
    if (curl_multi_poll (multi, NULL, 0, 1000, NULL) != CURLM_OK) {
      result = CURLE_FAILED_INIT;
      break;
    }
  }

  if (handler)
    g_cancellable_disconnect (cancellable, handler);
  curl_multi_remove_handle (multi, easy);
  give_multi (http, multi);
  if (result == CURLE_ABORTED_BY_CALLBACK &&
      g_cancellable_is_cancelled (cancellable))
    *cancelled = TRUE;
  return result;
}

/* --- one request --- */

static gboolean
header_value_ok (const gchar * s)
{
  for (; *s; s++) {
    if ((guchar) * s < 0x20 || *s == 0x7f)
      return FALSE;
  }
  return TRUE;
}

static void
slist_free_wiped (struct curl_slist *list)
{
  struct curl_slist *l;

  /* the Authorization line is in there: don't leave it in freed memory */
  for (l = list; l; l = l->next)
    memset (l->data, 0, strlen (l->data));
  curl_slist_free_all (list);
}

static const gchar *
method_name (Wr2vHttpMethod m)
{
  switch (m) {
    case WR2V_HTTP_POST:
      return "POST";
    case WR2V_HTTP_PUT:
      return "PUT";
    case WR2V_HTTP_HEAD:
      return "HEAD";
    default:
      return "GET";
  }
}

static void
set_transfer_error (GError ** error, CURLcode code, const gchar * errbuf,
    const gchar * shown)
{
  const gchar *what = errbuf[0] ? errbuf : curl_easy_strerror (code);

  switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_NETWORK,
          "%s did not answer in time (%s)", shown, what);
      break;
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
          "cannot use %s: %s", shown, what);
      break;
    case CURLE_READ_ERROR:
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
          "could not read the file to send to %s: %s", shown, what);
      break;
    default:
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_NETWORK,
          "could not complete the request to %s: %s", shown, what);
      break;
  }
}

/* Where the response body goes: a download file, capped at the download
 * limit, or memory. */
static gboolean
open_sink (Transfer * t, const Wr2vHttpRequest * req, GError ** error)
{
  guint64 default_cap = DEFAULT_MEMORY_CAP;

  if (req->download_path) {
    int fd = g_open (req->download_path,
        O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    if (fd < 0 || !(t->file = fdopen (fd, "wb"))) {
      int e = errno;

      if (fd >= 0)
        close (fd);
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
          "could not write %s: %s", req->download_path, g_strerror (e));
      return FALSE;
    }
    default_cap = WR2V_DEFAULT_MAX_DOWNLOAD_BYTES;
  }
  t->cap = req->max_body_bytes ? req->max_body_bytes : default_cap;
  return TRUE;
}

/* The request's header lines; the key goes here and nowhere else. */
static gboolean
build_headers (Transfer * t, const gchar * bearer, GError ** error)
{
  const Wr2vHttpRequest *req = t->req;

  if (bearer) {
    gchar *line;

    if (!*bearer || !header_value_ok (bearer)) {
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_NO_CREDENTIALS,
          "the API key is empty or contains a line break or control "
          "character; check how it was set");
      return FALSE;
    }
    line = g_strconcat ("Authorization: ", req->auth_scheme ?
        req->auth_scheme : "Bearer", " ", bearer, NULL);
    t->headers = curl_slist_append (t->headers, line);
    memset (line, 0, strlen (line));
    g_free (line);
  }
  for (guint i = 0; req->headers && req->headers[i]; i++) {
    if (!header_value_ok (req->headers[i])) {
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
          "an extra HTTP header contains a control character");
      return FALSE;
    }
    t->headers = curl_slist_append (t->headers, req->headers[i]);
  }
  /* no 100-continue round trip (and no 1 s stall on servers without it);
   * but not when signing with SigV4: libcurl 7.88 signs the removed
   * header as "expect:" with no value, which S3 does not see (S3 answers
   * 100-continue anyway) */
  if (req->method != WR2V_HTTP_GET && req->method != WR2V_HTTP_HEAD &&
      !req->aws_sigv4)
    t->headers = curl_slist_append (t->headers, "Expect:");
  if (req->content_type && (req->method == WR2V_HTTP_PUT ||
          (req->method == WR2V_HTTP_POST && !req->parts))) {
    gchar *line = g_strconcat ("Content-Type: ", req->content_type, NULL);

    t->headers = curl_slist_append (t->headers, line);
    g_free (line);
  }
  return TRUE;
}

/* What every transfer sets: the URL policy, TLS, timeouts, callbacks. */
static void
setup_easy (Transfer * t, const gchar * url, char *errbuf)
{
  const Wr2vHttpRequest *req = t->req;
  CURL *easy = t->easy;

  curl_easy_setopt (easy, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt (easy, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (easy, CURLOPT_REDIR_PROTOCOLS_STR, "https");
#else
  curl_easy_setopt (easy, CURLOPT_PROTOCOLS,
      (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
  curl_easy_setopt (easy, CURLOPT_REDIR_PROTOCOLS, (long) CURLPROTO_HTTPS);
#endif
  /* redirects are followed by wr2v_http_perform, through the URL policy;
   * only a GET's: a POST is never sent again, so CURLOPT_POSTREDIR is moot */
  curl_easy_setopt (easy, CURLOPT_FOLLOWLOCATION, 0L);
  if (req->no_resend) {
    /* libcurl resends a request by itself only when it went out on a
     * reused connection (and on an HTTP/2 stream the server refused,
     * which by the protocol it did not process) */
    curl_easy_setopt (easy, CURLOPT_FRESH_CONNECT, 1L);
    curl_easy_setopt (easy, CURLOPT_FORBID_REUSE, 1L);
#if LIBCURL_VERSION_NUM >= 0x081000
    curl_easy_setopt (easy, CURLOPT_FORBID_RETRY_ON_REUSE, 1L);
#endif
  }
  curl_easy_setopt (easy, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (easy, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt (easy, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt (easy, CURLOPT_CONNECTTIMEOUT,
      (long) (req->connect_timeout_s ? req->connect_timeout_s :
          DEFAULT_CONNECT_TIMEOUT_S));
  curl_easy_setopt (easy, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (easy, CURLOPT_LOW_SPEED_TIME,
      (long) (req->low_speed_time_s ? req->low_speed_time_s :
          DEFAULT_LOW_SPEED_TIME_S));
  if (req->timeout_s)
    curl_easy_setopt (easy, CURLOPT_TIMEOUT, (long) req->timeout_s);
  curl_easy_setopt (easy, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt (easy, CURLOPT_USERAGENT, "gst-wanr2v/" VERSION);
  curl_easy_setopt (easy, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt (easy, CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt (easy, CURLOPT_XFERINFOFUNCTION, on_xferinfo);
  curl_easy_setopt (easy, CURLOPT_XFERINFODATA, t);
  curl_easy_setopt (easy, CURLOPT_WRITEFUNCTION, on_write);
  curl_easy_setopt (easy, CURLOPT_WRITEDATA, t);
  curl_easy_setopt (easy, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt (easy, CURLOPT_HEADERDATA, t);
  /* refuses at once when Content-Length announces more than the cap */
  curl_easy_setopt (easy, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) t->cap);
  /* a loopback service is never reached through a proxy: the proxy's
   * loopback is another machine's, and plain http would carry the key */
  if (url_is_loopback (url))
    curl_easy_setopt (easy, CURLOPT_NOPROXY, "*");
  if (t->headers)
    curl_easy_setopt (easy, CURLOPT_HTTPHEADER, t->headers);
  if (req->aws_sigv4) {
    curl_easy_setopt (easy, CURLOPT_AWS_SIGV4, req->aws_sigv4);
    curl_easy_setopt (easy, CURLOPT_USERNAME, req->aws_key_id);
    curl_easy_setopt (easy, CURLOPT_PASSWORD, req->aws_secret);
  }
}

/* A multipart/form-data POST body; files are streamed from disk. */
static gboolean
set_form_body (Transfer * t, GError ** error)
{
  const Wr2vHttpRequest *req = t->req;

  t->mime = curl_mime_init (t->easy);
  for (guint i = 0; i < req->n_parts; i++) {
    const Wr2vHttpFormPart *p = &req->parts[i];
    curl_mimepart *part = curl_mime_addpart (t->mime);

    curl_mime_name (part, p->name);
    if (p->file_path) {
      if (!g_file_test (p->file_path, G_FILE_TEST_IS_REGULAR)) {
        g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
            "could not read %s to upload it", p->file_path);
        return FALSE;
      }
      curl_mime_filedata (part, p->file_path);
      if (p->filename)
        curl_mime_filename (part, p->filename);
    } else {
      curl_mime_data (part, p->value ? p->value : "", CURL_ZERO_TERMINATED);
    }
    if (p->content_type)
      curl_mime_type (part, p->content_type);
  }
  curl_easy_setopt (t->easy, CURLOPT_MIMEPOST, t->mime);
  return TRUE;
}

/* A PUT of a file's bytes, streamed by on_read(). */
static gboolean
set_upload_body (Transfer * t, GError ** error)
{
  const Wr2vHttpRequest *req = t->req;
  GStatBuf st;

  if (!req->upload_path || g_stat (req->upload_path, &st) != 0 ||
      !(t->upload = g_fopen (req->upload_path, "rb"))) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "could not read %s to upload it",
        req->upload_path ? req->upload_path : "(no file)");
    return FALSE;
  }
  curl_easy_setopt (t->easy, CURLOPT_UPLOAD, 1L);
  curl_easy_setopt (t->easy, CURLOPT_READFUNCTION, on_read);
  curl_easy_setopt (t->easy, CURLOPT_READDATA, t);
  curl_easy_setopt (t->easy, CURLOPT_INFILESIZE_LARGE, (curl_off_t) st.st_size);
  return TRUE;
}

/* The method and its body. */
static gboolean
set_body (Transfer * t, GError ** error)
{
  const Wr2vHttpRequest *req = t->req;
  gsize len = 0;
  const gchar *data;

  switch (req->method) {
    case WR2V_HTTP_GET:
      curl_easy_setopt (t->easy, CURLOPT_HTTPGET, 1L);
      return TRUE;
    case WR2V_HTTP_POST:
      if (req->parts)
        return set_form_body (t, error);
      data = req->body ? g_bytes_get_data (req->body, &len) : "";
      curl_easy_setopt (t->easy, CURLOPT_POST, 1L);
      curl_easy_setopt (t->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) len);
      curl_easy_setopt (t->easy, CURLOPT_POSTFIELDS, data ? data : "");
      return TRUE;
    case WR2V_HTTP_PUT:
      return set_upload_body (t, error);
    case WR2V_HTTP_HEAD:
      curl_easy_setopt (t->easy, CURLOPT_NOBODY, 1L);
      return TRUE;
  }
  return TRUE;
}

/* What the transfer learnt besides the body. */
static void
read_transfer_info (Transfer * t, gchar ** redirect)
{
  Wr2vHttpResponse *resp = t->resp;
  long status = 0, request_size = 0;
  curl_off_t pretransfer = 0;
  char *ct = NULL, *eff = NULL, *loc = NULL;

  curl_easy_getinfo (t->easy, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo (t->easy, CURLINFO_PRETRANSFER_TIME_T, &pretransfer);
  curl_easy_getinfo (t->easy, CURLINFO_REQUEST_SIZE, &request_size);
  resp->status = status;
  /* conservative: once the connection was ready, the server may have it */
  if (status > 0 || pretransfer > 0 || request_size > 0)
    resp->request_sent = TRUE;
  if (curl_easy_getinfo (t->easy, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK && ct)
    resp->content_type = g_strdup (ct);
  if (curl_easy_getinfo (t->easy, CURLINFO_EFFECTIVE_URL, &eff) == CURLE_OK
      && eff)
    resp->effective_url = g_strdup (eff);
  if (curl_easy_getinfo (t->easy, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK
      && loc)
    *redirect = g_strdup (loc);

  if (t->file) {
    if (fclose (t->file) != 0 && !t->write_errno && t->to_file)
      t->write_errno = errno ? errno : EIO;
    t->file = NULL;
  }
}

/* How the transfer ended, as the caller's error; TRUE when it completed
 * (whatever the HTTP status). */
static gboolean
check_transfer (Transfer * t, CURLcode code, gboolean cancelled,
    const char *errbuf, const gchar * shown, GError ** error)
{
  const Wr2vHttpRequest *req = t->req;

  if (cancelled) {
    GST_DEBUG ("%s %s: cancelled", method_name (req->method), shown);
    g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
        "Operation was cancelled");
    return FALSE;
  }
  if (t->refused_type) {
    gchar *type = wr2v_http_safe_text (t->refused_type, 100, NULL);

    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "%s answered with %s instead of a video file (an error or login "
        "page?); nothing was saved", shown, type);
    g_free (type);
    return FALSE;
  }
  if (t->cap_exceeded || code == CURLE_FILESIZE_EXCEEDED) {
    gchar *limit = g_format_size (t->cap);

    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "the response from %s is larger than the limit of %s (%"
        G_GUINT64_FORMAT " bytes)%s", shown, limit, t->cap,
        req->download_path ? "; raise max-download-size if it is expected"
        : "");
    g_free (limit);
    return FALSE;
  }
  if (t->write_errno) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_STORE,
        "could not write %s: %s", req->download_path,
        g_strerror (t->write_errno));
    return FALSE;
  }
  if (code != CURLE_OK) {
    GST_DEBUG ("%s %s: %s", method_name (req->method), shown,
        curl_easy_strerror (code));
    set_transfer_error (error, code, errbuf, shown);
    return FALSE;
  }
  return TRUE;
}

/* Retry-After, in seconds or as an HTTP date. */
static void
read_retry_after (Wr2vHttpResponse * resp)
{
  const gchar *ra = g_hash_table_lookup (resp->headers, "retry-after");

  if (ra && g_ascii_isdigit (ra[0])) {
    guint64 v = g_ascii_strtoull (ra, NULL, 10);

    resp->retry_after_s = MIN (v, G_MAXINT32);
  } else if (ra) {
    time_t when = curl_getdate (ra, NULL);

    if (when > 0) {
      gint64 delta = (gint64) when - g_get_real_time () / G_USEC_PER_SEC;
      resp->retry_after_s = MAX (delta, 0);
    }
  }
}

static void
keep_memory_body (Transfer * t)
{
  /* a NUL after the data (not counted): text bodies read as C strings */
  guint len = t->mem->len;
  static const guint8 nul = 0;

  g_byte_array_append (t->mem, &nul, 1);
  t->resp->body = g_bytes_new_take (g_byte_array_free (g_steal_pointer
          (&t->mem), FALSE), len);
}

static void
transfer_clear (Transfer * t)
{
  g_free (t->refused_type);
  if (t->file)
    fclose (t->file);
  if (t->upload)
    fclose (t->upload);
  if (t->mem)
    g_byte_array_unref (t->mem);
  if (t->easy)
    curl_easy_cleanup (t->easy);
  if (t->mime)
    curl_mime_free (t->mime);
  slist_free_wiped (t->headers);
}

/* One request to @url, no redirect followed: *@redirect gets the
 * Location of a redirect answer. */
static gboolean
perform_once (Wr2vHttp * http, const Wr2vHttpRequest * req,
    const gchar * url, const gchar * bearer, Wr2vHttpResponse * resp,
    gchar ** redirect, GError ** error)
{
  Transfer t = { 0, };
  char errbuf[CURL_ERROR_SIZE] = { 0 };
  gchar *shown = wr2v_http_url_for_log (url);
  gboolean ok = FALSE, cancelled = FALSE;
  CURLcode code;

  *redirect = NULL;
  t.req = req;
  t.resp = resp;
  t.mem = g_byte_array_new ();
  resp->headers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      g_free);
  resp->retry_after_s = -1;

  if (!open_sink (&t, req, error))
    goto out;
  t.easy = curl_easy_init ();
  if (!t.easy) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
        "could not create a libcurl handle");
    goto out;
  }
  if (!build_headers (&t, bearer, error))
    goto out;
  setup_easy (&t, url, errbuf);
  if (!set_body (&t, error))
    goto out;

  GST_DEBUG ("%s %s", method_name (req->method), shown);
  code = run_easy (http, t.easy, req->cancellable, &cancelled);
  read_transfer_info (&t, redirect);
  if (!check_transfer (&t, code, cancelled, errbuf, shown, error))
    goto out;
  read_retry_after (resp);
  if (!t.to_file)
    keep_memory_body (&t);
  GST_DEBUG ("%s %s: HTTP %u, %" G_GUINT64_FORMAT " bytes%s",
      method_name (req->method), shown, resp->status, resp->body_bytes,
      t.to_file ? " to file" : "");
  ok = TRUE;

out:
  transfer_clear (&t);
  g_free (shown);
  return ok;
}

gboolean
wr2v_http_perform (Wr2vHttp * http, const Wr2vHttpRequest * req,
    Wr2vHttpResponse * resp, GError ** error)
{
  gchar *url, *location = NULL;
  guint hop;

  g_return_val_if_fail (http != NULL, FALSE);
  g_return_val_if_fail (req != NULL && req->url != NULL, FALSE);
  g_return_val_if_fail (resp != NULL, FALSE);

  wr2v_http_response_clear (resp);
  if (g_cancellable_set_error_if_cancelled (req->cancellable, error))
    return FALSE;
  curl_init ();
  if (!wr2v_http_url_allowed (req->url, error))
    return FALSE;

  url = g_strdup (req->url);
  for (hop = 0;; hop++) {
    /* the key only goes to the origin it was given for */
    const gchar *bearer = req->bearer && (hop == 0 ||
        url_same_origin (req->url, url)) ? req->bearer : NULL;
    gboolean sent_before = resp->request_sent;
    GError *local = NULL;
    gchar *shown;

    wr2v_http_response_clear (resp);
    resp->request_sent = sent_before;
    g_clear_pointer (&location, g_free);
    if (!perform_once (http, req, url, bearer, resp, &location, error))
      break;

    if (!req->follow_redirects || req->method != WR2V_HTTP_GET ||
        !location || !(resp->status == 301 || resp->status == 302 ||
            resp->status == 303 || resp->status == 307 ||
            resp->status == 308)) {
      g_free (url);
      g_free (location);
      return TRUE;
    }
    shown = wr2v_http_url_for_log (location);
    if (hop + 1 > MAX_REDIRECTS) {
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
          "too many redirects (the last one to %s)", shown);
      g_free (shown);
      break;
    }
    if (!wr2v_http_url_allowed (location, &local)) {
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
          "refused a redirect: %s", local->message);
      g_error_free (local);
      g_free (shown);
      break;
    }
    GST_DEBUG ("redirected (HTTP %u) to %s", resp->status, shown);
    g_free (shown);
    g_free (url);
    url = g_steal_pointer (&location);
  }
  g_free (url);
  g_free (location);
  return FALSE;
}

gboolean
wr2v_http_perform_retry (Wr2vHttp * http, const Wr2vHttpRequest * req,
    const Wr2vHttpRetry * retry, Wr2vHttpResponse * resp, GError ** error)
{
  guint max_attempts = retry && retry->max_attempts ? retry->max_attempts : 5;
  guint base = retry && retry->base_delay_ms ? retry->base_delay_ms : 500;
  guint max_delay = retry && retry->max_delay_ms ? retry->max_delay_ms : 10000;
  guint max_ra = retry && retry->max_retry_after_s ?
      retry->max_retry_after_s : 60;
  Wr2vBackoff backoff;
  guint attempt;

  g_return_val_if_fail (req != NULL, FALSE);

  if (req->method != WR2V_HTTP_GET && req->method != WR2V_HTTP_HEAD &&
      !(retry && retry->post_is_idempotent)) {
    /* a POST may have created something (a paid job): never again */
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
        "only GET requests (and idempotent POSTs) may be retried");
    return FALSE;
  }

  wr2v_backoff_init (&backoff, base, max_delay);
  for (attempt = 1;; attempt++) {
    GError *local = NULL;
    gboolean ok, transient;
    guint wait_ms;
    gchar *shown;

    ok = wr2v_http_perform (http, req, resp, &local);
    resp->attempts = attempt;
    if (ok)
      transient = wr2v_http_status_is_transient (resp->status);
    else
      transient = g_error_matches (local, WR2V_ERROR, WR2V_ERROR_NETWORK);

    if (!transient || attempt >= max_attempts) {
      if (!ok)
        g_propagate_error (error, local);
      return ok;
    }

    wait_ms = wr2v_backoff_next_jittered (&backoff);
    if (ok && resp->retry_after_s >= 0)
      wait_ms = MAX (wait_ms, MIN ((guint64) resp->retry_after_s,
              max_ra) * 1000);

    shown = wr2v_http_url_for_log (req->url);
    if (ok)
      GST_INFO ("%s %s: HTTP %u, retrying in %u ms (attempt %u of %u)",
          method_name (req->method), shown, resp->status, wait_ms,
          attempt + 1, max_attempts);
    else
      GST_INFO ("%s %s: %s, retrying in %u ms (attempt %u of %u)",
          method_name (req->method), shown, local->message, wait_ms,
          attempt + 1, max_attempts);
    g_free (shown);
    g_clear_error (&local);

    if (!wr2v_cancellable_sleep (req->cancellable, wait_ms * (gint64) 1000,
            error))
      return FALSE;
  }
}

/* --- JSON --- */

gboolean
wr2v_http_json_depth_ok (const gchar * data, gsize len, guint max_depth)
{
  gboolean in_string = FALSE, escaped = FALSE;
  guint depth = 0;
  gsize i;

  for (i = 0; i < len; i++) {
    gchar c = data[i];

    if (in_string) {
      if (escaped)
        escaped = FALSE;
      else if (c == '\\')
        escaped = TRUE;
      else if (c == '"')
        in_string = FALSE;
      continue;
    }
    switch (c) {
      case '"':
        in_string = TRUE;
        break;
      case '[':
      case '{':
        if (++depth > max_depth)
          return FALSE;
        break;
      case ']':
      case '}':
        if (depth > 0)
          depth--;
        break;
      default:
        break;
    }
  }
  return TRUE;
}

JsonNode *
wr2v_http_parse_json (GBytes * body, GError ** error)
{
  const gchar *data = NULL;
  gsize len = 0;
  JsonParser *parser;
  JsonNode *root;
  GError *local = NULL;

  if (body)
    data = g_bytes_get_data (body, &len);
  if (!data || len == 0) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "the service sent an empty answer where JSON was expected");
    return NULL;
  }
  if (len > WR2V_HTTP_JSON_MAX_BYTES) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "the service sent a JSON answer of %" G_GSIZE_FORMAT
        " bytes, more than the %d bytes accepted", len,
        WR2V_HTTP_JSON_MAX_BYTES);
    return NULL;
  }
  /* json-glib has no depth limit of its own */
  if (!wr2v_http_json_depth_ok (data, len, WR2V_HTTP_JSON_MAX_DEPTH)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "the service sent JSON nested deeper than %d levels",
        WR2V_HTTP_JSON_MAX_DEPTH);
    return NULL;
  }
  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, data, len, &local)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "the service sent malformed JSON: %s", local->message);
    g_error_free (local);
    g_object_unref (parser);
    return NULL;
  }
  root = json_parser_steal_root (parser);
  g_object_unref (parser);
  if (!root) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_PROTOCOL,
        "the service sent an empty JSON document");
    return NULL;
  }
  return root;
}

/* --- text from a server --- */

gchar *
wr2v_http_safe_text (const gchar * text, gsize max, const gchar * secret)
{
  GString *s;
  const gchar *p;
  gchar *valid;

  if (!text)
    return NULL;
  s = g_string_new (NULL);
  /* the secret goes first: cutting the text could leave a part of it */
  if (secret && strlen (secret) >= 4 && strstr (text, secret)) {
    g_string_assign (s, text);
    g_string_replace (s, secret, "***", 0);
    text = g_string_free (s, FALSE);
    s = g_string_new (NULL);
  } else {
    secret = NULL;
  }
  for (p = text; *p && s->len < max; p++)
    g_string_append_c (s, ((guchar) * p < 0x20 || *p == 0x7f) ? ' ' : *p);
  if (*p)
    g_string_append (s, "...");
  if (secret)
    g_free ((gchar *) text);
  valid = g_utf8_make_valid (s->str, -1);
  g_string_free (s, TRUE);
  return valid;
}
