/* wr2v-http.h: the HTTP client every hosted engine uses.
 *
 * A thin layer over libcurl that bakes in the rules a paid API needs:
 * TLS verification always on; plain http only to a loopback host (also
 * after a redirect); a cap on what a response may weigh; every transfer
 * aborts promptly when its GCancellable is cancelled; the API key goes
 * into the Authorization header and nowhere else (never logged, never in
 * an error). Proxy environment variables work as libcurl reads them.
 *
 * One Wr2vHttp per engine keeps connections alive between polls. It may be
 * used from several threads at once.
 *
 * Errors: G_IO_ERROR_CANCELLED when cancelled; WR2V_ERROR_NETWORK when the
 * service could not be reached or the connection broke; WR2V_ERROR_PROTOCOL
 * when a URL is refused or a response is too large or malformed. An HTTP
 * status, whatever it is, is not an error at this level: see resp->status.
 */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS typedef struct _Wr2vHttp Wr2vHttp;

typedef enum
{
  WR2V_HTTP_GET,
  WR2V_HTTP_POST,
  WR2V_HTTP_PUT,
  WR2V_HTTP_HEAD,               /* a GET without the body */
} Wr2vHttpMethod;

/* One part of a multipart/form-data body: a string field (@value) or a
 * file streamed from disk (@file_path). */
typedef struct
{
  const gchar *name;
  const gchar *value;
  const gchar *file_path;
  const gchar *filename;        /* NULL: the file's basename */
  const gchar *content_type;    /* NULL: libcurl's guess */
} Wr2vHttpFormPart;

/* Transfer progress; @total is 0 when unknown. Called on the calling
 * thread, often: throttle what you do with it. */
typedef void (*Wr2vHttpProgressFunc) (gpointer user_data, gboolean upload,
    guint64 now, guint64 total);

typedef struct
{
  Wr2vHttpMethod method;
  const gchar *url;
  /* Sent as "Authorization: Bearer <key>" to the origin of @url only
   * (dropped when a redirect leaves it). Never logged. */
  const gchar *bearer;
  /* The word before the key in that header: NULL for "Bearer" (fal.ai
   * wants "Key"). */
  const gchar *auth_scheme;
  /* Extra "Name: value" lines, NULL-terminated; never logged. */
  const gchar *const *headers;
  /* Signs the request with AWS Signature Version 4, libcurl's own
   * (CURLOPT_AWS_SIGV4): @aws_sigv4 is its provider string
   * ("aws:amz:REGION:s3"), @aws_key_id and @aws_secret the credentials;
   * never logged. S3 also wants an "x-amz-content-sha256" line in
   * @headers, which libcurl signs as the payload's hash. */
  const gchar *aws_sigv4;
  const gchar *aws_key_id;
  const gchar *aws_secret;

  /* The body, at most one of: */
  GBytes *body;                 /* with @content_type */
  const gchar *content_type;
  const Wr2vHttpFormPart *parts;        /* multipart/form-data */
  guint n_parts;
  const gchar *upload_path;     /* PUT: the file's bytes */

  /* A 2xx response body is streamed into this file (created or
   * truncated); other statuses keep their (short) body in memory. A
   * download is media: a 2xx answer whose Content-Type is text, HTML, JSON
   * or XML (an error or login page with a 200) is refused as soon as its
   * headers arrive (WR2V_ERROR_PROTOCOL), see
   * wr2v_http_content_type_is_media(). */
  const gchar *download_path;
  /* Cap on the response body: 0 = 4 MiB in memory, 1 GiB to a file. */
  guint64 max_body_bytes;

  /* GET only: follow up to 5 redirects to https (or http on loopback). */
  gboolean follow_redirects;

  /* Set on a request that must never reach the server twice (a submit):
   * it goes on a new connection that is closed afterwards. On a kept-alive
   * connection that dies after the request went out and before any byte
   * of an answer, libcurl sends the request again by itself ("Connection
   * died, retrying a fresh connect"), a second paid job. */
  gboolean no_resend;

  guint timeout_s;              /* whole transfer; 0: none */
  guint connect_timeout_s;      /* 0: 20 s */
  /* Abort when less than 1 byte/s moves for this long; 0: 60 s. */
  guint low_speed_time_s;

  Wr2vHttpProgressFunc progress;
  gpointer progress_data;

  GCancellable *cancellable;
} Wr2vHttpRequest;

typedef struct
{
  guint status;                 /* 0 when no response came */
  /* NULL when streamed to download_path; the data is followed by a NUL
   * byte that the size does not count */
  GBytes *body;
  gchar *content_type;          /* NULL when absent */
  gchar *effective_url;         /* after redirects */
  gint64 retry_after_s;         /* Retry-After in seconds, -1 when absent */
  GHashTable *headers;          /* lower-case name -> value (the last one) */
  guint64 body_bytes;           /* bytes received (memory or file) */
  /* The request may have reached the server, even if no answer came.
   * A submit that fails with this set may have created a job. */
  gboolean request_sent;
  guint attempts;               /* wr2v_http_perform_retry: tries made */
} Wr2vHttpResponse;

void wr2v_http_response_clear (Wr2vHttpResponse * resp);

/* Backoff for idempotent requests. Zero fields take the defaults. */
typedef struct
{
  guint max_attempts;           /* 5 */
  guint base_delay_ms;          /* 500, doubling */
  guint max_delay_ms;           /* 10000 */
  guint max_retry_after_s;      /* 60: longer Retry-After values are capped */
  /* Also retry this POST (or PUT): only for one whose repetition creates
   * nothing billable (a media upload). Never for a submit. */
  gboolean post_is_idempotent;
} Wr2vHttpRetry;

Wr2vHttp *wr2v_http_new (void);
void wr2v_http_free (Wr2vHttp * http);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Wr2vHttp, wr2v_http_free);

/* One request, no retry: the only kind a submit may use (with no_resend
 * set, so that libcurl does not retry it either). Returns FALSE with
 * @error when no usable HTTP response came; @resp is filled in both cases
 * (status 0 without a response; request_sent tells whether the request may
 * have been sent). Clear @resp with wr2v_http_response_clear(). */
gboolean wr2v_http_perform (Wr2vHttp * http, const Wr2vHttpRequest * req,
    Wr2vHttpResponse * resp, GError ** error);

/* A GET, HEAD (or a download) retried on 429 (honouring Retry-After, capped),
 * 500/502/503/504 and connection errors, with capped exponential backoff
 * and jitter; cancellable while it waits. Refuses other methods unless
 * @retry says the POST is idempotent. When the attempts run out, the last
 * answer or error is returned. */
gboolean wr2v_http_perform_retry (Wr2vHttp * http,
    const Wr2vHttpRequest * req, const Wr2vHttpRetry * retry,
    Wr2vHttpResponse * resp, GError ** error);

/* TRUE when @url may be used: https, or http to a loopback host
 * (127.0.0.0/8, ::1, localhost). */
gboolean wr2v_http_url_allowed (const gchar * url, GError ** error);

/* @url without its query, fragment and user info, for logs and error
 * messages (signed result URLs carry tokens in their query). */
gchar *wr2v_http_url_for_log (const gchar * url);

/* FALSE for a Content-Type that can't be a media file: text/\*,
 * application/json, application/xml, application/\*+json, \*+xml,
 * multipart/\*. TRUE for anything else, and when there is none (CDNs
 * label MP4 video/mp4, application/octet-stream, binary/octet-stream ...). */
gboolean wr2v_http_content_type_is_media (const gchar * content_type);

/* When @error is set and @resp's Content-Type is not JSON, prefixes the
 * error with what came instead ("the answer is text/html, not JSON: "):
 * a proxy's or captive portal's page explains itself. */
void wr2v_http_hint_content_type (const Wr2vHttpResponse * resp,
    GError ** error);

/* 429, 500, 502, 503, 504. */
gboolean wr2v_http_status_is_transient (guint status);

#define WR2V_HTTP_JSON_MAX_BYTES (4 * 1024 * 1024)
#define WR2V_HTTP_JSON_MAX_DEPTH 64

/* Parses a response body as JSON, refusing bodies larger than
 * WR2V_HTTP_JSON_MAX_BYTES and nesting deeper than
 * WR2V_HTTP_JSON_MAX_DEPTH (WR2V_ERROR_PROTOCOL). */
JsonNode *wr2v_http_parse_json (GBytes * body, GError ** error);

/* The depth check alone: FALSE when [ / { nest deeper than @max_depth. */
gboolean wr2v_http_json_depth_ok (const gchar * data, gsize len,
    guint max_depth);

/* Escapes @s for use as one path segment. */
gchar *wr2v_http_escape_segment (const gchar * s);

/* Server text fit for an error message: at most @max bytes (then "..."),
 * control characters as spaces, valid UTF-8; when @secret is given (4
 * bytes or more), every occurrence of it is replaced by "***". NULL when
 * @text is NULL. */
gchar *wr2v_http_safe_text (const gchar * text, gsize max,
    const gchar * secret);

G_END_DECLS
