/* wr2v-storyboard.c: shots parsed, run as a Wr2vJobSet, joined; see
 * wr2v-storyboard.h. */
#include "wr2v-storyboard.h"
#include "wr2v-clips.h"
#include "wr2v-error.h"
#include "wr2v-mp4.h"
#include "wr2v-prompt.h"
#include "wr2v-reference.h"

#include <string.h>
#include <glib/gstdio.h>

static const gchar *const shot_fields[] = { "prompt", "duration", "seed",
  "first-frame", "references", "continue", NULL
};

static void
shot_free (Wr2vShot * shot)
{
  g_free (shot->prompt);
  g_free (shot->first_frame);
  g_strfreev (shot->references);
  g_free (shot);
}

/* --- parsing --- */

/* The text with a ";" before every line that starts a shot, and comment
 * lines left out: gst_structure_from_string() then reads one shot at a
 * time. */
static gchar *
separate_shots (const gchar * text)
{
  g_auto (GStrv) lines = g_strsplit (text, "\n", -1);
  GString *out = g_string_new (NULL);

  for (guint i = 0; lines[i]; i++) {
    const gchar *line = lines[i] + strspn (lines[i], " \t\r");

    if (*line == '#')
      continue;
    if (g_str_has_prefix (line, "shot") && strchr (",; \t\r", line[4]))
      g_string_append_c (out, ';');
    g_string_append_printf (out, "%s\n", lines[i]);
  }
  return g_string_free (out, FALSE);
}

static gboolean
invalid (GError ** error, guint number, const gchar * format, ...)
G_GNUC_PRINTF (3, 4);

     static gboolean
         invalid (GError ** error, guint number, const gchar * format, ...)
{
  g_autofree gchar *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
      "storyboard, shot %u: %s", number, text);
  return FALSE;
}

static gboolean
known_field (GQuark field, const GValue * value, gpointer unknown)
{
  if (g_strv_contains (shot_fields, g_quark_to_string (field)))
    return TRUE;
  *(const gchar **) unknown = g_quark_to_string (field);
  return FALSE;
}

static gboolean
read_int (const GstStructure * s, const gchar * field, gint64 * value)
{
  const GValue *v = gst_structure_get_value (s, field);
  GValue as_int64 = G_VALUE_INIT;

  if (!v)
    return TRUE;
  g_value_init (&as_int64, G_TYPE_INT64);
  if (!g_value_transform (v, &as_int64))
    return FALSE;
  *value = g_value_get_int64 (&as_int64);
  return TRUE;
}

static Wr2vShot *
read_shot (const GstStructure * s, guint number, GError ** error)
{
  g_autoptr (GPtrArray) keep = g_ptr_array_new ();
  Wr2vShot *shot = g_new0 (Wr2vShot, 1);
  const gchar *unknown = NULL, *refs;
  gint64 duration = 0, seed = -1;

  g_ptr_array_add (keep, shot);
  shot->seed = -1;
  if (!gst_structure_has_name (s, "shot"))
    invalid (error, number, "a shot is a structure named \"shot\", not "
        "\"%s\"", gst_structure_get_name (s));
  else if (!gst_structure_foreach (s, known_field, &unknown))
    invalid (error, number, "unknown field \"%s\" (fields: prompt, "
        "duration, seed, first-frame, references, continue)", unknown);
  else if (!(shot->prompt = g_strdup (gst_structure_get_string (s, "prompt")))
      || !*shot->prompt)
    invalid (error, number, "it has no prompt (prompt=\"...\")");
  else if (!read_int (s, "duration", &duration) || duration < 0 ||
      duration > 60)
    invalid (error, number, "duration is a number of seconds");
  else if (!read_int (s, "seed", &seed) || seed < -1 || seed > G_MAXINT32)
    invalid (error, number, "seed is a number from 0 to %d", G_MAXINT32);
  else if (gst_structure_has_field (s, "continue") &&
      !gst_structure_get_boolean (s, "continue", &shot->continues))
    invalid (error, number, "continue is true or false");
  else if (shot->continues && number == 1)
    invalid (error, number, "the first shot has no previous shot to "
        "continue");
  else if ((shot->first_frame =
          g_strdup (gst_structure_get_string (s, "first-frame"))) &&
      shot->continues)
    invalid (error, number, "a shot that continues the previous one takes "
        "its first frame from it: remove first-frame or continue");
  else if (shot->first_frame &&
      !g_file_test (shot->first_frame, G_FILE_TEST_IS_REGULAR))
    invalid (error, number, "first-frame %s is not a file", shot->first_frame);
  else
    g_ptr_array_remove_index (keep, 0);
  if (keep->len) {
    shot_free (shot);
    return NULL;
  }
  shot->duration = (guint) duration;
  shot->seed = seed;
  refs = gst_structure_get_string (s, "references");
  if (refs)
    shot->references = g_strcmp0 (refs, "none") == 0 ? g_new0 (gchar *, 1) :
        g_strsplit_set (refs, ", ", -1);
  return shot;
}

static gchar *
storyboard_text (const gchar * text, GError ** error)
{
  gchar *contents = NULL;

  if (!g_file_test (text, G_FILE_TEST_IS_REGULAR))
    return g_strdup (text);
  if (!g_file_get_contents (text, &contents, NULL, NULL))
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "Cannot read the storyboard file %s", text);
  return contents;
}

GPtrArray *
wr2v_storyboard_parse (const gchar * text, GError ** error)
{
  g_autofree gchar *contents = storyboard_text (text, error);
  g_autofree gchar *list = NULL;
  g_autoptr (GPtrArray) shots =
      g_ptr_array_new_with_free_func ((GDestroyNotify) shot_free);
  gchar *pos;

  if (!contents)
    return NULL;
  list = separate_shots (contents);
  for (pos = list;;) {
    GstStructure *s;
    Wr2vShot *shot;

    pos += strspn (pos, "; \t\r\n");
    if (!*pos)
      break;
    s = gst_structure_from_string (pos, &pos);
    if (!s) {
      invalid (error, shots->len + 1, "cannot read it as a GStreamer "
          "structure: shot, prompt=\"...\", duration=5");
      return NULL;
    }
    shot = read_shot (s, shots->len + 1, error);
    gst_structure_free (s);
    if (!shot)
      return NULL;
    g_ptr_array_add (shots, shot);
  }
  if (!shots->len) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "The storyboard has no shot: give one \"shot, prompt=...\" per "
        "shot");
    return NULL;
  }
  return g_steal_pointer (&shots);
}

/* --- a shot's request --- */

static gboolean
shot_uses (const Wr2vShot * shot, const Wr2vReference * ref)
{
  g_autofree gchar *name = NULL;

  if (!shot->references)
    return TRUE;
  name = g_strdup_printf ("%s_%u", ref->kind == WR2V_REF_VIDEO ? "video" :
      "image", ref->pad_index);
  return g_strv_contains ((const gchar * const *) shot->references, name);
}

/* Whether every pad the shot names is one of @base's. */
static gboolean
check_pad_names (const Wr2vShot * shot, guint number,
    const Wr2vRequest * base, GError ** error)
{
  for (guint i = 0; shot->references && shot->references[i]; i++) {
    gboolean found = !*shot->references[i];

    for (guint j = 0; !found && j < base->references->len; j++) {
      Wr2vShot one = {.references = (gchar *[]){shot->references[i], NULL}
      };

      found = shot_uses (&one, g_ptr_array_index (base->references, j));
    }
    if (!found)
      return invalid (error, number, "references names %s, which is not "
          "a reference pad of the element", shot->references[i]);
  }
  return TRUE;
}

/* The shot's first frame, after every image pad (so that it numbers
 * last); its file is the shot's first-frame, or for a continuing shot
 * unknown until the previous one is stored. */
static gboolean
add_first_frame (Wr2vRequest * req, const Wr2vShot * shot, guint number,
    const Wr2vRequest * base, GError ** error)
{
  Wr2vReference *ref;
  guint index = 0;

  for (guint i = 0; i < base->references->len; i++) {
    const Wr2vReference *r = g_ptr_array_index (base->references, i);

    if (r->kind == WR2V_REF_IMAGE)
      index = MAX (index, r->pad_index + 1);
  }
  ref = wr2v_reference_new (WR2V_REF_IMAGE, index);
  ref->first_frame = TRUE;
  if (shot->continues) {
    ref->source = g_strdup_printf ("the last frame of shot %u", number - 1);
  } else {
    ref->source = g_strdup (shot->first_frame);
    ref->path = g_strdup (shot->first_frame);
    ref->mime = g_strdup (g_str_has_suffix (shot->first_frame, ".png") ||
        g_str_has_suffix (shot->first_frame, ".PNG") ? "image/png" :
        "image/jpeg");
    ref->sha256 = wr2v_file_sha256 (ref->path, error);
    if (!ref->sha256) {
      wr2v_reference_free (ref);
      return FALSE;
    }
  }
  wr2v_request_add_reference (req, ref);
  return TRUE;
}

Wr2vRequest *
wr2v_shot_request (const Wr2vShot * shot, guint number,
    const Wr2vRequest * base, gboolean placeholder, GError ** error)
{
  g_autoptr (Wr2vRequest) req = wr2v_request_new ();

  if (!check_pad_names (shot, number, base, error))
    return NULL;
  req->prompt = g_strdup (shot->prompt);
  req->negative_prompt = g_strdup (base->negative_prompt);
  req->duration = shot->duration ? shot->duration : base->duration;
  req->resolution = base->resolution;
  req->aspect_ratio = base->aspect_ratio;
  req->aspect_ratio_set = base->aspect_ratio_set;
  req->seed = shot->seed >= 0 ? shot->seed : base->seed;
  req->prompt_expansion = base->prompt_expansion;
  req->numbering = base->numbering;
  req->shot_type = base->shot_type;
  /* the same key for every shot would make them one request */
  if (base->job_key)
    req->job_key = g_strdup_printf ("%s/%s-%u", base->job_key,
        shot->take ? "take" : "shot", number);
  for (guint i = 0; i < base->references->len; i++) {
    const Wr2vReference *ref = g_ptr_array_index (base->references, i);

    if (shot_uses (shot, ref) && !(shot->references && ref->first_frame))
      wr2v_request_add_reference (req, wr2v_reference_copy (ref));
  }
  if ((shot->continues || shot->first_frame) &&
      !add_first_frame (req, shot, number, base, error))
    return NULL;
  wr2v_request_number_references (req);
  if (!wr2v_prompt_check_mentions (req->prompt, req, error)) {
    g_prefix_error (error, "storyboard, shot %u: ", number);
    return NULL;
  }
  if (!placeholder)
    wr2v_prompt_canonicalize (req);
  return g_steal_pointer (&req);
}

GPtrArray *
wr2v_storyboard_variants (const Wr2vRequest * base, guint n)
{
  GPtrArray *takes = g_ptr_array_new_with_free_func ((GDestroyNotify)
      shot_free);
  g_autofree gchar *key = wr2v_request_hash (base, "variants");
  gint64 seed = base->seed >= 0 ? base->seed :
      (gint64) (g_ascii_strtoull (key + 56, NULL, 16) & G_MAXINT32);

  for (guint i = 0; i < n; i++) {
    Wr2vShot *take = g_new0 (Wr2vShot, 1);

    take->prompt = g_strdup (base->prompt);
    take->seed = (seed + i) % ((gint64) G_MAXINT32 + 1);
    take->take = TRUE;
    g_ptr_array_add (takes, take);
  }
  return takes;
}

/* --- the run --- */

typedef struct
{
  Wr2vJob *job;                 /* the storyboard's */
  Wr2vJobSet *set;              /* once made */
  GPtrArray *shots;
  const gchar *work_dir;
  const gchar *word;            /* "shot", or "take" for variants */
  GMutex lock;                  /* guards phases */
  gint *phases;                 /* each shot's last phase, -1: none yet */
} Board;

static void
on_shot_phase (gpointer user_data, guint index, Wr2vPhase phase,
    const gchar * text)
{
  Board *b = user_data;
  Wr2vShot *shot = g_ptr_array_index (b->shots, index);
  gboolean changed;

  g_mutex_lock (&b->lock);
  changed = b->phases[index] != (gint) phase;
  b->phases[index] = phase;
  g_mutex_unlock (&b->lock);
  if (changed) {
    g_autofree gchar *name = g_strdup_printf ("wanr2v/%s", b->word);
    g_autofree gchar *count = g_strdup_printf ("%ss", b->word);

    wr2v_job_post (b->job, gst_structure_new (name,
            b->word, G_TYPE_UINT, index + 1,
            count, G_TYPE_UINT, b->shots->len,
            "phase", G_TYPE_STRING, wr2v_phase_name (phase),
            "prompt", G_TYPE_STRING, shot->prompt,
            "seed", G_TYPE_INT64, wr2v_job_set_request (b->set, index)->seed,
            NULL));
  }
  wr2v_job_phase (b->job, phase, "%s %u of %u: %s", b->word, index + 1,
      b->shots->len, text);
}

static void
on_shot_message (gpointer user_data, guint index, GstStructure * facts)
{
  Board *b = user_data;

  gst_structure_set (facts, b->word, G_TYPE_UINT, index + 1, NULL);
  wr2v_job_post (b->job, facts);
}

/* A continuing shot's first frame: the last frame of the clip before. */
static gboolean
before_shot (gpointer user_data, guint index, Wr2vRequest * req,
    const gchar * after_path, GCancellable * cancellable, GError ** error)
{
  Board *b = user_data;
  g_autofree gchar *name = g_strdup_printf ("shot-%u-first-frame.png",
      index + 1);
  g_autofree gchar *png = g_build_filename (b->work_dir, name, NULL);

  for (guint i = 0; after_path && i < req->references->len; i++) {
    Wr2vReference *ref = g_ptr_array_index (req->references, i);

    if (!ref->first_frame || ref->path)
      continue;
    if (!wr2v_clip_last_frame (after_path, png, cancellable, error))
      return FALSE;
    ref->path = g_strdup (png);
    ref->mime = g_strdup ("image/png");
    ref->sha256 = wr2v_file_sha256 (png, error);
    if (!ref->sha256)
      return FALSE;
  }
  return wr2v_engine_check (b->job->engine, req, error);
}

/* The storyboard's key: its shots' keys, in order. */
static gchar *
storyboard_hash (Wr2vJobSet * set)
{
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);

  g_checksum_update (sum, (const guchar *) "storyboard", -1);
  for (guint i = 0; i < wr2v_job_set_size (set); i++)
    g_checksum_update (sum, (const guchar *) wr2v_job_set_job (set, i)->hash,
        -1);
  return g_strdup (g_checksum_get_string (sum));
}

/* A field of @s: an array of what @value_at gives for each member. */
static void
set_array (GstStructure * s, const gchar * word, const gchar * what,
    Wr2vJobSet * set, void (*value_at) (Wr2vJobSet * set, guint i,
        GValue * v, gdouble * start), gdouble * start)
{
  g_autofree gchar *field = g_strdup_printf ("%s-%s", word, what);
  GValue array = G_VALUE_INIT;

  gst_value_array_init (&array, wr2v_job_set_size (set));
  for (guint i = 0; i < wr2v_job_set_size (set); i++) {
    GValue v = G_VALUE_INIT;

    value_at (set, i, &v, start);
    gst_value_array_append_and_take_value (&array, &v);
  }
  gst_structure_take_value (s, field, &array);
}

static void
location_at (Wr2vJobSet * set, guint i, GValue * v, gdouble * start)
{
  g_value_init (v, G_TYPE_STRING);
  g_value_set_string (v, wr2v_job_set_path (set, i));
}

static void
seed_at (Wr2vJobSet * set, guint i, GValue * v, gdouble * start)
{
  g_value_init (v, G_TYPE_INT64);
  g_value_set_int64 (v, wr2v_job_set_request (set, i)->seed);
}

/* where each clip begins in the joined one, in seconds */
static void
start_at (Wr2vJobSet * set, guint i, GValue * v, gdouble * start)
{
  gdouble seconds = 0;

  g_value_init (v, G_TYPE_DOUBLE);
  g_value_set_double (v, *start);
  wr2v_mp4_duration (wr2v_job_set_path (set, i), &seconds, NULL);
  *start += MAX (seconds, 0);
}

static void
post_storyboard (Board * b, const gchar * path)
{
  Wr2vJob *job = b->job;
  gboolean takes = g_str_equal (b->word, "take");
  g_autofree gchar *count = g_strdup_printf ("%ss", b->word);
  GstStructure *s;
  gdouble start = 0;

  s = gst_structure_new (takes ? "wanr2v/variants" : "wanr2v/storyboard",
      "location", G_TYPE_STRING, path,
      count, G_TYPE_UINT, wr2v_job_set_size (b->set), NULL);
  set_array (s, b->word, "locations", b->set, location_at, NULL);
  set_array (s, b->word, "seeds", b->set, seed_at, NULL);
  set_array (s, b->word, "starts", b->set, start_at, &start);
  wr2v_job_post (job, s);
  wr2v_job_post (job, gst_structure_new ("wanr2v/result",
          "engine", G_TYPE_STRING, job->engine->klass->name,
          "job-id", G_TYPE_STRING, "",
          "location", G_TYPE_STRING, path,
          "source-url", G_TYPE_STRING, "",
          "cached", G_TYPE_BOOLEAN, job->from_cache, NULL));
}

/* The shots' clips, joined and stored under the storyboard's key. */
static gchar *
join_shots (Board * b, GError ** error)
{
  Wr2vJob *job = b->job;
  Wr2vJobSet *set = b->set;
  g_autofree const gchar **clips =
      g_new0 (const gchar *, wr2v_job_set_size (set) + 1);
  g_autofree gchar *tmp = NULL;
  Wr2vResultMeta meta = {.engine = (gchar *) job->engine->klass->name };
  gchar *path = NULL;

  job->from_cache = TRUE;
  for (guint i = 0; i < wr2v_job_set_size (set); i++) {
    clips[i] = wr2v_job_set_path (set, i);
    job->from_cache &= wr2v_job_set_job (set, i)->from_cache;
  }
  g_free (job->hash);
  job->hash = storyboard_hash (set);
  wr2v_job_phase (job, WR2V_PHASE_DOWNLOAD, "joining %u %ss",
      wr2v_job_set_size (set), b->word);
  tmp = wr2v_store_new_temp (job->store, ".mp4", error);
  if (tmp && wr2v_clips_join (clips, tmp, job->cancellable, error) &&
      wr2v_clip_check (tmp, job->cancellable, error))
    path = wr2v_store_commit (job->store, job->hash, tmp, &meta, error);
  if (tmp && !path)
    g_unlink (tmp);
  if (path)
    post_storyboard (b, path);
  return path;
}

/* The shots as a set of jobs, its cost checked against max-cost. With
 * @placeholder, continuing shots' first frames are stand-ins, and every
 * shot's request is checked by the engine now. */
static Wr2vJobSet *
storyboard_set (GPtrArray * shots, const Wr2vRequest * base,
    Wr2vEngine * engine, Wr2vStore * store, GCancellable * cancellable,
    const Wr2vJobSetObserver * observer, gboolean placeholder, GError ** error)
{
  g_autoptr (Wr2vJobSet) set = wr2v_job_set_new (engine, store, cancellable,
      observer);

  for (guint i = 0; i < shots->len; i++) {
    const Wr2vShot *shot = g_ptr_array_index (shots, i);
    Wr2vRequest *req = wr2v_shot_request (shot, i + 1, base, placeholder,
        error);

    if (!req)
      return NULL;
    wr2v_job_set_add (set, req, shot->continues ? (gint) i - 1 : -1);
    if (placeholder && !wr2v_engine_check (engine, req, error)) {
      g_prefix_error (error, "storyboard, shot %u: ", i + 1);
      return NULL;
    }
  }
  if (!wr2v_job_set_check_cost (set, engine->settings.max_cost, error))
    return NULL;
  return g_steal_pointer (&set);
}

gboolean
wr2v_storyboard_check (GPtrArray * shots, const Wr2vRequest * base,
    Wr2vEngine * engine, gdouble * cost, GError ** error)
{
  g_autoptr (Wr2vJobSet) set = storyboard_set (shots, base, engine, NULL,
      NULL, NULL, TRUE, error);

  if (set)
    *cost = wr2v_job_set_estimate_cost (set);
  return set != NULL;
}

gchar *
wr2v_storyboard_run (Wr2vJob * job, GPtrArray * shots, const gchar * work_dir,
    GError ** error)
{
  gboolean takes = ((Wr2vShot *) g_ptr_array_index (shots, 0))->take;
  Board b = { job, NULL, shots, work_dir, takes ? "take" : "shot" };
  Wr2vJobSetObserver observer = { on_shot_phase, on_shot_message,
    before_shot, &b
  };
  g_autoptr (Wr2vJobSet) set = NULL;
  GError *err = NULL;
  gchar *path = NULL;

  g_mutex_init (&b.lock);
  b.phases = g_new (gint, shots->len);
  memset (b.phases, 0xff, shots->len * sizeof (gint));
  set = storyboard_set (shots, job->request, job->engine, job->store,
      job->cancellable, &observer, FALSE, &err);
  b.set = set;
  if (set && wr2v_job_set_run (set, 0, takes ? "variants, take" :
          "storyboard, shot", &err))
    path = join_shots (&b, &err);
  if (set && wr2v_job_set_failed_job (set) &&
      wr2v_job_set_failed_job (set)->error_details)
    job->error_details =
        gst_structure_copy (wr2v_job_set_failed_job (set)->error_details);
  if (job->observer.finished)
    job->observer.finished (job->observer.user_data,
        wr2v_job_outcome (job->cancellable, err), path, err);
  if (err)
    g_propagate_error (error, err);
  g_free (b.phases);
  g_mutex_clear (&b.lock);
  return path;
}
