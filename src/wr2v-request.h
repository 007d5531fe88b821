/* wr2v-request.h: what the user asked for, independent of any engine.
 *
 * A request holds the prompt, the generation parameters and the prepared
 * references (files on disk with their content hash). Its canonical form
 * (a JSON document with a fixed field order) and the SHA-256 of that form
 * key the result store and the job journal: the same request gives the same
 * key on every run and every machine.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS
#define WR2V_MAX_REFERENCES 5
    typedef enum
{
  WR2V_RESOLUTION_720P,
  WR2V_RESOLUTION_1080P,
} Wr2vResolution;

typedef enum
{
  WR2V_ASPECT_16_9,
  WR2V_ASPECT_9_16,
  WR2V_ASPECT_1_1,
  WR2V_ASPECT_4_3,
  WR2V_ASPECT_3_4,
} Wr2vAspectRatio;

typedef enum
{
  WR2V_REF_VIDEO,
  WR2V_REF_IMAGE,
} Wr2vRefKind;

/* Whether the clip is one shot or cut into several (where the model
 * takes it: see Wr2vEngineClass.inputs). */
typedef enum
{
  WR2V_SHOT_UNSET,              /* the engine's default; not sent */
  WR2V_SHOT_SINGLE,
  WR2V_SHOT_MULTI,
} Wr2vShotType;

/* How the prompt numbers references ("Image 3" or "Image 1" for the first
 * image after two videos): see wr2v-prompt.h and docs/prompt-indexing.md. */
typedef enum
{
  WR2V_NUMBERING_AUTO,          /* whichever reading names linked references */
  WR2V_NUMBERING_CONTINUING,    /* videos first, images continue the count */
  WR2V_NUMBERING_PER_TYPE,      /* videos and images each counted from 1 */
} Wr2vNumbering;

typedef struct
{
  Wr2vRefKind kind;
  guint pad_index;              /* N of the pad video_N / image_N */
  guint number;                 /* the number the prompt uses ("Video 1") */
  gchar *path;                  /* prepared file, or NULL when only uri is known */
  gchar *mime;                  /* "video/mp4", "image/jpeg", "image/png" */
  gchar *sha256;                /* hex digest of the file's bytes */
  gchar *uri;                   /* a URL the user already has, or NULL */
  gchar *source;                /* the user's file it came from, or NULL:
                                 * for messages, never hashed */
  gboolean first_frame;         /* an image that is the clip's first frame,
                                 * not a subject */
  gchar *voice_uri;             /* a URL of the voice this reference
                                 * speaks in (wav/mp3, 1-10 s), or NULL */
  gchar *voice_source;          /* the user's voice file, or NULL: for
                                 * messages, never hashed (wr2v-voice.h) */
  gchar *voice_path;            /* the voice file sent, or NULL */
  gchar *voice_mime;            /* "audio/wav", "audio/mpeg" */
  gchar *voice_sha256;          /* hex digest of voice_path's bytes */
  gchar *voice_pad;             /* the voice_N pad its voice comes from,
                                 * or NULL: for messages, never hashed */
} Wr2vReference;

typedef struct
{
  gchar *prompt;
  gchar *negative_prompt;       /* NULL or "" when unset */
  guint duration;               /* seconds */
  Wr2vResolution resolution;
  Wr2vAspectRatio aspect_ratio;
  gboolean aspect_ratio_set;    /* the user chose it: send it to the API */
  gint64 seed;                  /* -1 = unset */
  gboolean prompt_expansion;
  /* how @prompt numbers references; the canonical form (and the hash)
   * is the continuing one, see wr2v_prompt_canonicalize() */
  Wr2vNumbering numbering;
  GPtrArray *references;        /* Wr2vReference*, in prompt order */
  /* A user-chosen idempotency key, or NULL. When set, the request's
   * identity leaves out the references' contents: a run with the same key
   * and parameters is the same request whatever frames arrive (a live
   * camera), so a crashed or stopped job is resumed, never paid twice.
   * See docs/identity.md. */
  gchar *job_key;
  Wr2vShotType shot_type;
} Wr2vRequest;

Wr2vRequest *wr2v_request_new (void);
void wr2v_request_free (Wr2vRequest * req);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (Wr2vRequest, wr2v_request_free);

Wr2vReference *wr2v_reference_new (Wr2vRefKind kind, guint pad_index);
/* A deep copy (a storyboard shot's or a take's own request); keep it in
 * step with wr2v_reference_free() when a field is added. */
Wr2vReference *wr2v_reference_copy (const Wr2vReference * ref);
void wr2v_reference_free (Wr2vReference * ref);

/* Takes ownership of @ref. */
void wr2v_request_add_reference (Wr2vRequest * req, Wr2vReference * ref);

/* Sorts references into prompt order (videos by ascending pad index, then
 * images by ascending pad index) and assigns their numbers 1..n. */
void wr2v_request_number_references (Wr2vRequest * req);

guint wr2v_request_count (const Wr2vRequest * req, Wr2vRefKind kind);

/* Canonical JSON of the request for @engine_id (engine name and model, as
 * they change what comes out). With a job_key, the key stands for the
 * references' contents (their kinds, numbers and URIs stay). Free with
 * g_free. */
gchar *wr2v_request_canonical (const Wr2vRequest * req,
    const gchar * engine_id);

/* SHA-256 (hex) of the canonical form. */
gchar *wr2v_request_hash (const Wr2vRequest * req, const gchar * engine_id);

/* Output size of the hosted Wan 2.x models for a resolution and aspect
 * ratio. */
void wr2v_output_size (Wr2vResolution res, Wr2vAspectRatio ar,
    gint * width, gint * height);

const gchar *wr2v_resolution_nick (Wr2vResolution res);
const gchar *wr2v_aspect_ratio_nick (Wr2vAspectRatio ar);
const gchar *wr2v_ref_kind_word (Wr2vRefKind kind);     /* "Video" / "Image" */
const gchar *wr2v_shot_type_nick (Wr2vShotType shot);   /* "single", NULL */

/* What the user knows a reference by, for messages: "Video 1 (pad
 * video_0, /home/me/clip.mp4)"; never a temporary path. */
gchar *wr2v_reference_name (const Wr2vReference * ref);

/* SHA-256 of a file's bytes, hex. */
gchar *wr2v_file_sha256 (const gchar * path, GError ** error);

G_END_DECLS
