/* wr2v-remote-body.h: the JSON most hosts of the model share: the
 * request's fields written under each host's own names, and answers read
 * into a struct by a table of member names (part of wr2v-remote.h, which
 * includes this header). Pure: no I/O, so that the wire builders and
 * parsers the fuzzers call may use it.
 */
#pragma once

#include <json-glib/json-glib.h>

#include "wr2v-request.h"

G_BEGIN_DECLS

/* A host's names of the fields; a NULL name leaves that field out. */
typedef struct
{
  const gchar *prompt;
  const gchar *videos;          /* an array of the videos' URLs */
  const gchar *images;          /* an array of the images' URLs */
  const gchar *negative_prompt; /* only when set */
  const gchar *resolution;      /* "720p", "1080p" */
  const gchar *duration;
  gboolean duration_as_text;    /* "5" rather than 5 */
  const gchar *aspect_ratio;    /* only when the user chose it */
  const gchar *seed;            /* only when set */
  const gchar *prompt_expansion;        /* a boolean */
  const gchar *shot_type;       /* "single" / "multi", only when set */
} Wr2vRemoteFields;

/* The names of the model's own API (Alibaba's) that the hosts keep, in a
 * Wr2vRemoteFields table: the host's table adds only what it names its
 * own way. */
#define WR2V_REMOTE_MODEL_FIELDS \
  .prompt = "prompt", .negative_prompt = "negative_prompt", \
  .resolution = "resolution", .duration = "duration", \
  .aspect_ratio = "aspect_ratio", .seed = "seed"

/* The JSON object of a submit: @req's fields under @names, with the
 * prompt in the form @engine's provider documents for @model
 * (wr2v_prompt_sent); under the member @wrapper when not NULL
 * ({"input": {...}}). @urls holds the URL of each of @req's references,
 * in the request's order. */
gchar *wr2v_remote_body (const Wr2vRequest * req, const gchar * engine,
    const gchar * model, const gchar * const *urls,
    const Wr2vRemoteFields * names, const gchar * wrapper);

/* Whether @model is a path of safe names ("owner/name"): segments of
 * [A-Za-z0-9._-], none empty, "." or "..", each at most @max_segment
 * bytes (0: no limit); *@n_segments is their count. */
gboolean wr2v_remote_model_path_ok (const gchar * model, gsize max_segment,
    guint * n_segments);

/* A string member of an answer: "name", or "object.name" one level
 * down, and where its copy goes in the answer's struct. */
typedef struct
{
  const gchar *path;
  glong offset;                 /* G_STRUCT_OFFSET of a gchar * */
} Wr2vRemoteMember;

/* Parses @data as a JSON object (wr2v_json_parse_object, @who in its
 * error) and copies each of @members (ended by a NULL path) that is a
 * string into @out; missing ones stay as they are. Returns the root node
 * (unref it) for what a table can't say, or NULL with the error. */
JsonNode *wr2v_remote_parse_members (const gchar * data, gsize len,
    const gchar * who, const Wr2vRemoteMember * members, gpointer out,
    GError ** error);

G_END_DECLS
