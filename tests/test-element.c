/* Element tests of wanr2v and wanr2vgen: pads, properties, prompt
 * numbering, every validation error, unsupported caps, progress, state
 * changes in the middle of a generation, the result store, result-location.
 *
 * Every test gets its own directory (cache-dir and outputs) and removes
 * it. The process gets a private TMPDIR so that the element's work
 * directories (wanr2v-XXXXXX) can be checked for leaks without seeing
 * those of tests running in parallel. */
#include <string.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/check/gstharness.h>
#include "wr2v-test-time.h"
#include "wr2v-test-util.h"

#define TIMEOUT (60 * GST_SECOND)

/* small solid-colour references: cheap to encode */
#define RED 0xffff0000u
#define GREEN 0xff00ff00u
#define BLUE 0xff0000ffu

static gchar *private_tmp;

/* --- files --------------------------------------------------------------- */

/* A fresh directory for one test; the cache-dir is <base>/cache. */
static gchar *
make_test_dir (void)
{
  GError *err = NULL;
  gchar *dir = g_dir_make_tmp ("test-element-XXXXXX", &err);

  g_assert_no_error (err);
  return dir;
}

static gchar *
cache_of (const gchar * base)
{
  return g_build_filename (base, "cache", NULL);
}

/* Entries of @dir whose name starts with @prefix and ends with @suffix
 * (NULL: any); 0 when @dir does not exist. */
static guint
count_entries (const gchar * dir, const gchar * prefix, const gchar * suffix)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;
  guint n = 0;

  while (d && (name = g_dir_read_name (d)))
    if ((!prefix || g_str_has_prefix (name, prefix)) &&
        (!suffix || g_str_has_suffix (name, suffix)))
      n++;
  if (d)
    g_dir_close (d);
  return n;
}

static guint
count_results (const gchar * base)
{
  g_autofree gchar *dir = g_build_filename (base, "cache", "results", NULL);

  return count_entries (dir, NULL, NULL);
}

static guint
count_cache_tmp (const gchar * base)
{
  g_autofree gchar *dir = g_build_filename (base, "cache", "tmp", NULL);

  return count_entries (dir, NULL, NULL);
}

/* The element's reference work dirs, made with g_dir_make_tmp. */
static guint
count_work_dirs (void)
{
  return count_entries (g_get_tmp_dir (), "wanr2v-", NULL);
}

static guint
count_proc (const gchar * what)
{
  return count_entries (what, NULL, NULL);
}

static void
assert_same_bytes (const gchar * a, const gchar * b)
{
  g_autofree gchar *da = NULL;
  g_autofree gchar *db = NULL;
  gsize la = 0, lb = 0;

  g_assert_true (g_file_get_contents (a, &da, &la, NULL));
  g_assert_true (g_file_get_contents (b, &db, &lb, NULL));
  g_assert_cmpuint (la, >, 1000);
  g_assert_cmpuint (la, ==, lb);
  g_assert_true (memcmp (da, db, la) == 0);
}

/* --- pipeline descriptions ---------------------------------------------- */

static gchar *
video_ref (const gchar * el, const gchar * pad, guint32 color, gint frames)
{
  return g_strdup_printf ("videotestsrc num-buffers=%d pattern=solid-color "
      "foreground-color=0x%08x ! video/x-raw,width=160,height=120,"
      "framerate=30/1 ! %s.%s", frames, color, el, pad);
}

static gchar *
image_ref (const gchar * el, const gchar * pad, guint32 color)
{
  return g_strdup_printf ("videotestsrc num-buffers=1 pattern=solid-color "
      "foreground-color=0x%08x ! video/x-raw,width=160,height=120 ! pngenc "
      "! %s.%s", color, el, pad);
}

static GstElement *
parse (const gchar * desc)
{
  GError *err = NULL;
  GstElement *p = gst_parse_launch_full (desc, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, &err);

  g_assert_no_error (err);
  g_assert_nonnull (p);
  return p;
}

/* --- running a pipeline and collecting its bus ------------------------- */

typedef struct
{
  GstElement *pipeline;
  GstBus *bus;
  GPtrArray *msgs;              /* every message popped, in order */
} Run;

typedef gboolean (*MatchFunc) (GstMessage * m, gconstpointer data);

static Run *
run_new (const gchar * desc)
{
  Run *r = g_new0 (Run, 1);

  r->pipeline = parse (desc);
  r->bus = gst_element_get_bus (r->pipeline);
  r->msgs = g_ptr_array_new_with_free_func ((GDestroyNotify)
      gst_message_unref);
  return r;
}

static void
run_free (Run * r)
{
  gst_element_set_state (r->pipeline, GST_STATE_NULL);
  gst_object_unref (r->bus);
  gst_object_unref (r->pipeline);
  g_ptr_array_unref (r->msgs);
  g_free (r);
}

/* Pops messages until one matches or @timeout; keeps them all. */
static GstMessage *
run_pop (Run * r, GstClockTime timeout, MatchFunc match, gconstpointer data)
{
  /* an upper bound: scaled for sanitizer and valgrind runs */
  gint64 deadline = g_get_monotonic_time () +
      WR2V_TEST_TIME (timeout / GST_USECOND);

  for (;;) {
    gint64 left = deadline - g_get_monotonic_time ();
    GstMessage *m;

    if (left <= 0)
      return NULL;
    m = gst_bus_timed_pop (r->bus, left * GST_USECOND);
    if (!m)
      return NULL;
    g_ptr_array_add (r->msgs, m);
    if (match (m, data))
      return m;
  }
}

static gboolean
match_end (GstMessage * m, gconstpointer data)
{
  return GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS ||
      GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR;
}

static gboolean
match_error (GstMessage * m, gconstpointer data)
{
  return GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR;
}

static gboolean
match_element (GstMessage * m, gconstpointer name)
{
  return GST_MESSAGE_TYPE (m) == GST_MESSAGE_ELEMENT &&
      gst_message_has_name (m, name);
}

/* a PROGRESS CONTINUE with this code, e.g. "generating" */
static gboolean
match_progress (GstMessage * m, gconstpointer code)
{
  GstProgressType type;
  g_autofree gchar *c = NULL;

  if (GST_MESSAGE_TYPE (m) != GST_MESSAGE_PROGRESS)
    return FALSE;
  gst_message_parse_progress (m, &type, &c, NULL);
  return type == GST_PROGRESS_TYPE_CONTINUE && g_strcmp0 (c, code) == 0;
}

static const GstStructure *
find_element_msg (Run * r, const gchar * name)
{
  for (guint i = 0; i < r->msgs->len; i++) {
    GstMessage *m = g_ptr_array_index (r->msgs, i);
    if (match_element (m, name))
      return gst_message_get_structure (m);
  }
  return NULL;
}

static void
assert_no_error (GstMessage * m)
{
  if (m && GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
    g_autoptr (GError) err = NULL;
    g_autofree gchar *dbg = NULL;

    gst_message_parse_error (m, &err, &dbg);
    g_error ("unexpected error from %s: %s (%s)", GST_MESSAGE_SRC_NAME (m),
        err->message, dbg);
  }
}

/* Runs to EOS; fails on an error or a timeout. */
static void
run_to_eos (Run * r)
{
  GstMessage *m;

  g_assert_cmpint (gst_element_set_state (r->pipeline, GST_STATE_PLAYING),
      !=, GST_STATE_CHANGE_FAILURE);
  m = run_pop (r, TIMEOUT, match_end, NULL);
  g_assert_nonnull (m);
  assert_no_error (m);
  g_assert_cmpint (gst_element_set_state (r->pipeline, GST_STATE_NULL), ==,
      GST_STATE_CHANGE_SUCCESS);
}

/* The "location" of the wanr2v/result message, checked to exist. */
static const gchar *
result_location (Run * r, gboolean * cached)
{
  const GstStructure *s = find_element_msg (r, "wanr2v/result");
  const gchar *loc;

  g_assert_nonnull (s);
  loc = gst_structure_get_string (s, "location");
  g_assert_nonnull (loc);
  g_assert_true (g_file_test (loc, G_FILE_TEST_IS_REGULAR));
  if (cached)
    g_assert_true (gst_structure_get_boolean (s, "cached", cached));
  return loc;
}

/* --- pads ---------------------------------------------------------------- */

static void
test_pads (void)
{
  GstElement *el = gst_element_factory_make ("wanr2v", NULL);
  GstElement *gen;
  GstPad *v0, *v3, *v4, *i0, *src, *p;
  GstPadTemplate *t;
  g_autoptr (GstCaps) tcaps = NULL;

  g_assert_nonnull (el);
  gst_object_ref_sink (el);
  gen = gst_bin_get_by_name (GST_BIN (el), "gen");
  g_assert_nonnull (gen);

  v0 = gst_element_request_pad_simple (el, "video_%u");
  g_assert_nonnull (v0);
  g_assert_cmpstr (GST_PAD_NAME (v0), ==, "video_0");
  v3 = gst_element_request_pad_simple (el, "video_3");
  g_assert_nonnull (v3);
  g_assert_cmpstr (GST_PAD_NAME (v3), ==, "video_3");
  v4 = gst_element_request_pad_simple (el, "video_%u");
  g_assert_nonnull (v4);
  g_assert_cmpstr (GST_PAD_NAME (v4), ==, "video_4");
  i0 = gst_element_request_pad_simple (el, "image_%u");
  g_assert_nonnull (i0);
  g_assert_cmpstr (GST_PAD_NAME (i0), ==, "image_0");
  g_assert_cmpint (GST_PAD_DIRECTION (i0), ==, GST_PAD_SINK);

  /* the bin's pads stand for wanr2vgen's: same names, one each */
  g_assert_cmpuint (gst_child_proxy_get_children_count (GST_CHILD_PROXY
          (gen)), ==, 4);
  p = gst_element_get_static_pad (gen, "video_3");
  g_assert_nonnull (p);
  gst_object_unref (p);

  gst_element_release_request_pad (el, v3);
  gst_object_unref (v3);
  p = gst_element_get_static_pad (el, "video_3");
  g_assert_null (p);
  p = gst_element_get_static_pad (gen, "video_3");
  g_assert_null (p);
  g_assert_cmpuint (gst_child_proxy_get_children_count (GST_CHILD_PROXY
          (gen)), ==, 3);
  /* released indices are not reused by automatic names */
  p = gst_element_request_pad_simple (el, "video_%u");
  g_assert_cmpstr (GST_PAD_NAME (p), ==, "video_5");
  gst_element_release_request_pad (el, p);
  gst_object_unref (p);

  src = gst_element_get_static_pad (el, "src");
  g_assert_nonnull (src);
  g_assert_cmpint (GST_PAD_DIRECTION (src), ==, GST_PAD_SRC);
  t = gst_pad_get_pad_template (src);
  g_assert_nonnull (t);
  g_assert_cmpint (GST_PAD_TEMPLATE_PRESENCE (t), ==, GST_PAD_ALWAYS);
  tcaps = gst_pad_template_get_caps (t);
  for (guint i = 0; i < gst_caps_get_size (tcaps); i++)
    g_assert_cmpstr (gst_structure_get_name (gst_caps_get_structure (tcaps,
                i)), ==, "video/x-raw");
  gst_clear_caps (&tcaps);
  gst_object_unref (t);
  gst_object_unref (src);

  /* request templates: raw, and the encoded inputs kept as they are */
  t = gst_element_get_pad_template (el, "video_%u");
  g_assert_nonnull (t);
  g_assert_cmpint (GST_PAD_TEMPLATE_PRESENCE (t), ==, GST_PAD_REQUEST);
  tcaps = gst_pad_template_get_caps (t);
  {
    g_autoptr (GstCaps) raw = gst_caps_from_string ("video/x-raw");
    g_autoptr (GstCaps) mp4 = gst_caps_from_string ("video/quicktime");
    g_autoptr (GstCaps) png = gst_caps_from_string ("image/png");
    g_autoptr (GstCaps) jpeg = gst_caps_from_string ("image/jpeg");

    g_assert_true (gst_caps_can_intersect (tcaps, raw));
    g_assert_true (gst_caps_can_intersect (tcaps, mp4));
    g_assert_false (gst_caps_can_intersect (tcaps, jpeg));
    gst_clear_caps (&tcaps);

    t = gst_element_get_pad_template (el, "image_%u");
    g_assert_nonnull (t);
    g_assert_cmpint (GST_PAD_TEMPLATE_PRESENCE (t), ==, GST_PAD_REQUEST);
    tcaps = gst_pad_template_get_caps (t);
    g_assert_true (gst_caps_can_intersect (tcaps, raw));
    g_assert_true (gst_caps_can_intersect (tcaps, png));
    g_assert_true (gst_caps_can_intersect (tcaps, jpeg));
    g_assert_false (gst_caps_can_intersect (tcaps, mp4));
  }

  gst_element_release_request_pad (el, v0);
  gst_element_release_request_pad (el, v4);
  gst_element_release_request_pad (el, i0);
  g_assert_null (el->sinkpads);
  g_assert_cmpuint (gst_child_proxy_get_children_count (GST_CHILD_PROXY
          (gen)), ==, 0);
  gst_object_unref (v0);
  gst_object_unref (v4);
  gst_object_unref (i0);
  gst_object_unref (gen);
  gst_object_unref (el);
}

/* --- properties ---------------------------------------------------------- */

static const gchar *
enum_nick (GObject * obj, const gchar * prop)
{
  GParamSpec *pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (obj),
      prop);
  GEnumValue *v;
  gint value;

  g_assert_nonnull (pspec);
  g_assert_true (G_IS_PARAM_SPEC_ENUM (pspec));
  g_object_get (obj, prop, &value, NULL);
  v = g_enum_get_value (G_PARAM_SPEC_ENUM (pspec)->enum_class, value);
  g_assert_nonnull (v);
  return v->value_nick;
}

static void
test_properties (void)
{
  GstElement *el = gst_element_factory_make ("wanr2v", NULL);
  GObject *obj = G_OBJECT (el);
  const gchar *resolutions[] = { "1080p", "720p" };
  const gchar *aspects[] = { "9:16", "1:1", "4:3", "3:4", "16:9" };
  const gchar *engines[] = { "preview", "wavespeed", "auto" };
  GParamSpec *pspec;
  guint duration;
  gint64 seed;
  gdouble cost;
  GstPad *pad;
  gchar *s = NULL;

  gst_object_ref_sink (el);
  g_object_get (el, "duration", &duration, "seed", &seed, "estimated-cost",
      &cost, NULL);
  g_assert_cmpuint (duration, ==, 5);
  g_assert_cmpint (seed, ==, -1);
  g_assert_cmpfloat (cost, ==, -1.0);
  g_assert_cmpstr (enum_nick (obj, "resolution"), ==, "720p");
  g_assert_cmpstr (enum_nick (obj, "aspect-ratio"), ==, "16:9");
  g_assert_cmpstr (enum_nick (obj, "engine"), ==, "auto");

  for (guint i = 0; i < G_N_ELEMENTS (resolutions); i++) {
    gst_util_set_object_arg (obj, "resolution", resolutions[i]);
    g_assert_cmpstr (enum_nick (obj, "resolution"), ==, resolutions[i]);
  }
  for (guint i = 0; i < G_N_ELEMENTS (aspects); i++) {
    gst_util_set_object_arg (obj, "aspect-ratio", aspects[i]);
    g_assert_cmpstr (enum_nick (obj, "aspect-ratio"), ==, aspects[i]);
  }
  for (guint i = 0; i < G_N_ELEMENTS (engines); i++) {
    gst_util_set_object_arg (obj, "engine", engines[i]);
    g_assert_cmpstr (enum_nick (obj, "engine"), ==, engines[i]);
  }

  /* the bin forwards to wanr2vgen: what is set is what it reads */
  g_object_set (el, "prompt", "Video 1 walks", "duration", 10, "seed",
      (gint64) 42, NULL);
  g_object_get (el, "prompt", &s, "duration", &duration, "seed", &seed, NULL);
  g_assert_cmpstr (s, ==, "Video 1 walks");
  g_assert_cmpuint (duration, ==, 10);
  g_assert_cmpint (seed, ==, 42);
  g_free (s);

  /* the key can be set but never read back */
  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (obj), "api-key");
  g_assert_nonnull (pspec);
  g_assert_true (pspec->flags & G_PARAM_WRITABLE);
  g_assert_false (pspec->flags & G_PARAM_READABLE);
  g_object_set (el, "api-key", "secret", NULL);

  pspec = g_object_class_find_property (G_OBJECT_GET_CLASS (obj),
      "estimated-cost");
  g_assert_nonnull (pspec);
  g_assert_false (pspec->flags & G_PARAM_WRITABLE);

  /* per-pad uri through GstChildProxy */
  pad = gst_element_request_pad_simple (el, "video_%u");
  g_assert_nonnull (pad);
  gst_child_proxy_set (GST_CHILD_PROXY (el), "video_0::uri",
      "https://example.com/ref.mp4", NULL);
  gst_child_proxy_get (GST_CHILD_PROXY (el), "video_0::uri", &s, NULL);
  g_assert_cmpstr (s, ==, "https://example.com/ref.mp4");
  g_free (s);
  gst_element_release_request_pad (el, pad);
  gst_object_unref (pad);
  gst_object_unref (el);
}

/* gst-launch's pad property syntax: "wanr2v video_0::uri=..." is set once
 * the link requests the pad (GstChildProxy "child-added"). */
static void
test_pad_property_launch (void)
{
  const gchar *factories[] = { "wanr2vgen", "wanr2v" };

  for (guint i = 0; i < G_N_ELEMENTS (factories); i++) {
    g_autofree gchar *desc = g_strdup_printf ("%s name=g engine=preview "
        "prompt=x video_0::uri=https://example.com/a.mp4 ! fakesink "
        "videotestsrc num-buffers=1 ! g.video_0", factories[i]);
    GstElement *p = parse (desc);
    GstElement *g = gst_bin_get_by_name (GST_BIN (p), "g");
    GstElement *gen = GST_IS_BIN (g) ? gst_bin_get_by_name (GST_BIN (g),
        "gen") : gst_object_ref (g);
    GstPad *pad = gst_element_get_static_pad (gen, "video_0");
    g_autofree gchar *s = NULL;
    g_autofree gchar *inner = NULL;

    gst_child_proxy_get (GST_CHILD_PROXY (g), "video_0::uri", &s, NULL);
    g_assert_cmpstr (s, ==, "https://example.com/a.mp4");
    /* on wanr2v, set on the bin's pad and forwarded to wanr2vgen's */
    g_assert_nonnull (pad);
    g_object_get (pad, "uri", &inner, NULL);
    g_assert_cmpstr (inner, ==, "https://example.com/a.mp4");
    gst_object_unref (pad);
    gst_object_unref (gen);
    gst_object_unref (g);
    gst_object_unref (p);
  }
}

/* --- numbering ----------------------------------------------------------- */

static void
test_numbering (void)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *cache = cache_of (base);
  g_autofree gchar *v1 = video_ref ("g", "video_1", GREEN, 5);
  g_autofree gchar *v0 = video_ref ("g", "video_0", RED, 5);
  g_autofree gchar *i0 = image_ref ("g", "image_0", BLUE);
  /* video_1 is requested (linked) before video_0 */
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g engine=preview "
      "duration=1 prompt=\"Video 2 hands Image 3 to Video 1\" "
      "cache-dir=\"%s\" ! fakesink %s %s %s", cache, v1, v0, i0);
  Run *r = run_new (desc);
  GstMessage *m;
  const GstStructure *s;

  g_assert_cmpint (gst_element_set_state (r->pipeline, GST_STATE_PAUSED), !=,
      GST_STATE_CHANGE_FAILURE);
  m = run_pop (r, 10 * GST_SECOND, match_element, "wanr2v/references");
  g_assert_nonnull (m);
  s = gst_message_get_structure (m);
  g_assert_cmpint (gst_structure_n_fields (s), ==, 3);
  g_assert_cmpstr (gst_structure_get_string (s, "video_0"), ==, "Video 1");
  g_assert_cmpstr (gst_structure_get_string (s, "video_1"), ==, "Video 2");
  g_assert_cmpstr (gst_structure_get_string (s, "image_0"), ==, "Image 3");
  run_free (r);
  wr2v_test_rm_rf (base);
}

/* --- validation errors --------------------------------------------------- */

typedef struct
{
  const gchar *name;
  const gchar *props;           /* on the element, besides the basics */
  const gchar *refs;            /* "v" video, "i" image, in pad order */
  const gchar *cache;           /* relative to the test dir; NULL: cache */
  const gchar *result;          /* relative to the test dir */
  gboolean store;               /* RESOURCE/OPEN_WRITE, else LIBRARY/SETTINGS */
  const gchar *hints[3];        /* the message must contain these */
} ErrorCase;

static void
check_error_case (gconstpointer data)
{
  const ErrorCase *c = data;
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *cache = g_build_filename (base, c->cache ? c->cache :
      "cache", NULL);
  g_autofree gchar *result = g_build_filename (base, c->result ? c->result :
      "out.mp4", NULL);
  g_autofree gchar *plain = g_build_filename (base, "file", NULL);
  g_autofree gchar *adir = g_build_filename (base, "adir", NULL);
  g_autofree gchar *part = g_strdup_printf ("%s.part", result);
  g_autoptr (GString) desc = g_string_new (NULL);
  g_autoptr (GError) err = NULL;
  g_autofree gchar *dbg = NULL;
  guint nv = 0, ni = 0;
  GstElement *g;
  GstMessage *m;
  Run *r;

  /* a regular file, for paths that must go below one */
  g_assert_true (g_file_set_contents (plain, "x", 1, NULL));
  g_assert_cmpint (g_mkdir (adir, 0700), ==, 0);

  g_string_printf (desc, "wanr2v name=g engine=preview duration=1 "
      "cache-dir=\"%s\" result-location=\"%s\" %s ! fakesink", cache, result,
      c->props);
  for (const gchar * k = c->refs; *k; k++) {
    g_autofree gchar *pad = g_strdup_printf (*k == 'v' ? "video_%u" :
        "image_%u", *k == 'v' ? nv++ : ni++);
    g_autofree gchar *ref = *k == 'v' ? video_ref ("g", pad, RED, 5) :
        image_ref ("g", pad, BLUE);
    g_string_append_printf (desc, " %s", ref);
  }
  r = run_new (desc->str);

  g_assert_cmpint (gst_element_set_state (r->pipeline, GST_STATE_PAUSED), ==,
      GST_STATE_CHANGE_FAILURE);
  m = run_pop (r, 5 * GST_SECOND, match_error, NULL);
  g_assert_nonnull (m);
  gst_message_parse_error (m, &err, &dbg);
  g_test_message ("%s: %s", c->name, err->message);

  /* from the element, with a domain that says what kind of change */
  g = gst_bin_get_by_name (GST_BIN (r->pipeline), "g");
  g_assert_true (GST_MESSAGE_SRC (m) == GST_OBJECT (g) ||
      gst_object_has_as_ancestor (GST_MESSAGE_SRC (m), GST_OBJECT (g)));
  gst_object_unref (g);
  if (c->store)
    g_assert_true (g_error_matches (err, GST_RESOURCE_ERROR,
            GST_RESOURCE_ERROR_OPEN_WRITE));
  else
    g_assert_true (g_error_matches (err, GST_LIBRARY_ERROR,
            GST_LIBRARY_ERROR_SETTINGS));
  for (guint i = 0; i < G_N_ELEMENTS (c->hints) && c->hints[i]; i++)
    if (!strstr (err->message, c->hints[i]))
      g_error ("\"%s\" does not mention \"%s\"", err->message, c->hints[i]);

  g_assert_cmpint (gst_element_set_state (r->pipeline, GST_STATE_NULL), ==,
      GST_STATE_CHANGE_SUCCESS);
  run_free (r);

  /* nothing written */
  g_assert_false (g_file_test (result, G_FILE_TEST_IS_REGULAR));
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
  g_assert_cmpuint (count_results (base), ==, 0);
  g_assert_cmpuint (count_cache_tmp (base), ==, 0);
  wr2v_test_rm_rf (base);
}

static ErrorCase error_cases[] = {
  {"empty-prompt", "prompt=\"\"", "v", NULL, NULL, FALSE,
      {"prompt"}},
  {"blank-prompt", "prompt=\"   \"", "v", NULL, NULL, FALSE,
      {"prompt"}},
  {"no-references", "prompt=\"A cat\"", "", NULL, NULL, FALSE,
      {"video_", "image_"}},
  {"six-references", "prompt=\"Video 1\"", "vvvvii", NULL, NULL, FALSE,
      {"at most 5", "4 videos, 2 images"}},
  {"six-references-one-image", "prompt=\"Video 1\"", "vvvvvi", NULL, NULL,
      FALSE, {"5 videos, 1 image)"}},
  {"video-3-of-2", "prompt=\"Video 3 dances\"", "vv", NULL, NULL, FALSE,
      {"Video 3", "Video 2"}},
  {"image-1", "prompt=\"Image 1 flies\" reference-numbering=continuing",
      "vvi", NULL, NULL, FALSE, {"Image 1", "Image 3"}},
  /* auto: unlinked in both readings, both listed */
  {"image-4-auto", "prompt=\"Image 4 flies\"", "vvi", NULL, NULL, FALSE,
      {"Image 4", "Image 3", "Image 1"}},
  {"duration-40", "prompt=\"Video 1\" duration=40", "v", NULL, NULL, FALSE,
      {"duration", "15"}},
  {"cache-dir-below-file", "prompt=\"Video 1\"", "v", "file/cache", NULL,
      TRUE, {"cache-dir"}},
  {"result-location-no-dir", "prompt=\"Video 1\"", "v", NULL,
      "missing/out.mp4", TRUE, {"result-location"}},
  {"result-location-below-file", "prompt=\"Video 1\"", "v", NULL,
      "file/out.mp4", TRUE, {"result-location"}},
  {"result-location-is-dir", "prompt=\"Video 1\"", "v", NULL, "adir",
      TRUE, {"result-location"}},
};

/* --- unsupported caps ---------------------------------------------------- */

/* audio can't link to a reference pad, and pushed anyway it is refused */
static void
test_caps_audio (void)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *cache = cache_of (base);
  GstElement *el = gst_element_factory_make ("wanr2v", NULL);
  GstElement *audio = gst_element_factory_make ("audiotestsrc", NULL);
  GstPad *srcpad = gst_element_get_static_pad (audio, "src");
  GstPad *pad = gst_element_request_pad_simple (el, "video_%u");
  GstHarness *h;
  GstBuffer *buf;

  gst_object_ref_sink (el);
  gst_object_ref_sink (audio);
  g_assert_cmpint (gst_pad_link (srcpad, pad), ==, GST_PAD_LINK_NOFORMAT);
  gst_element_release_request_pad (el, pad);
  gst_object_unref (pad);
  gst_object_unref (srcpad);
  gst_object_unref (audio);

  g_object_set (el, "prompt", "Video 1", "duration", 1, "cache-dir", cache,
      NULL);
  gst_util_set_object_arg (G_OBJECT (el), "engine", "preview");
  h = gst_harness_new_with_element (el, "video_0", NULL);
  gst_harness_set_src_caps_str (h, "audio/x-raw,format=S16LE,rate=48000,"
      "channels=1,layout=interleaved");
  buf = gst_harness_create_buffer (h, 960);
  GST_BUFFER_PTS (buf) = 0;
  g_assert_cmpint (gst_harness_push (h, buf), ==, GST_FLOW_NOT_NEGOTIATED);
  gst_harness_teardown (h);
  gst_object_unref (el);
  g_assert_cmpuint (count_results (base), ==, 0);
  wr2v_test_rm_rf (base);
}

/* JPEG forced onto a video pad with caps: refused, the pipeline errors */
static void
test_caps_jpeg_on_video_pad (void)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *cache = cache_of (base);
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g engine=preview "
      "duration=1 prompt=\"Video 1\" cache-dir=\"%s\" ! fakesink "
      "videotestsrc num-buffers=3 ! video/x-raw,width=160,height=120 ! "
      "jpegenc name=enc", cache);
  Run *r = run_new (desc);
  GstElement *g = gst_bin_get_by_name (GST_BIN (r->pipeline), "g");
  GstElement *enc = gst_bin_get_by_name (GST_BIN (r->pipeline), "enc");
  GstPad *srcpad = gst_element_get_static_pad (enc, "src");
  GstPad *pad = gst_element_request_pad_simple (g, "video_%u");
  GstMessage *m;
  g_autoptr (GError) err = NULL;
  g_autofree gchar *dbg = NULL;

  g_assert_cmpint (gst_pad_link_full (srcpad, pad,
          GST_PAD_LINK_CHECK_NOTHING), ==, GST_PAD_LINK_OK);
  g_assert_cmpint (gst_element_set_state (r->pipeline, GST_STATE_PLAYING),
      !=, GST_STATE_CHANGE_FAILURE);
  m = run_pop (r, 10 * GST_SECOND, match_end, NULL);
  g_assert_nonnull (m);
  g_assert_cmpint (GST_MESSAGE_TYPE (m), ==, GST_MESSAGE_ERROR);
  gst_message_parse_error (m, &err, &dbg);
  g_test_message ("%s: %s (%s)", GST_MESSAGE_SRC_NAME (m), err->message, dbg);
  g_assert_nonnull (dbg);
  g_assert_nonnull (strstr (dbg, "not-negotiated"));
  g_assert_null (find_element_msg (r, "wanr2v/result"));
  gst_object_unref (pad);
  gst_object_unref (srcpad);
  gst_object_unref (enc);
  gst_object_unref (g);
  run_free (r);
  g_assert_cmpuint (count_results (base), ==, 0);
  wr2v_test_rm_rf (base);
}

/* A JPEG file straight from filesrc (no caps) onto a video pad: the
 * element sees what it is and says which pads take what. */
static void
test_caps_jpeg_file_on_video_pad (void)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *cache = cache_of (base);
  g_autofree gchar *jpeg = g_build_filename (base, "ref.jpg", NULL);
  g_autofree gchar *mk = g_strdup_printf ("videotestsrc num-buffers=1 ! "
      "video/x-raw,width=160,height=120 ! jpegenc ! filesink location=\"%s\"",
      jpeg);
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g engine=preview "
      "duration=1 prompt=\"Video 1\" cache-dir=\"%s\" ! fakesink "
      "filesrc location=\"%s\" ! g.video_0", cache, jpeg);
  Run *r = run_new (mk);
  GstMessage *m;
  GstElement *g;
  g_autoptr (GError) err = NULL;

  run_to_eos (r);
  run_free (r);

  r = run_new (desc);
  g_assert_cmpint (gst_element_set_state (r->pipeline, GST_STATE_PLAYING),
      !=, GST_STATE_CHANGE_FAILURE);
  m = run_pop (r, 10 * GST_SECOND, match_end, NULL);
  g_assert_nonnull (m);
  g_assert_cmpint (GST_MESSAGE_TYPE (m), ==, GST_MESSAGE_ERROR);
  gst_message_parse_error (m, &err, NULL);
  g_test_message ("%s: %s", GST_MESSAGE_SRC_NAME (m), err->message);
  g = gst_bin_get_by_name (GST_BIN (r->pipeline), "g");
  g_assert_true (gst_object_has_as_ancestor (GST_MESSAGE_SRC (m),
          GST_OBJECT (g)));
  gst_object_unref (g);
  g_assert_true (err->domain == GST_STREAM_ERROR);
  g_assert_nonnull (strstr (err->message, "image/jpeg"));
  g_assert_null (find_element_msg (r, "wanr2v/result"));
  run_free (r);
  g_assert_cmpuint (count_results (base), ==, 0);
  wr2v_test_rm_rf (base);
}

/* --- a whole run through GstHarness ------------------------------------ */

static void
test_harness_eos (void)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *cache = cache_of (base);
  GstElement *el = gst_element_factory_make ("wanr2v", NULL);
  GstHarness *h;
  GstCaps *caps;
  GstStructure *s;
  GstEvent *ev;
  gint w = 0, hh = 0;
  guint frames = 0;
  gboolean eos = FALSE;

  gst_object_ref_sink (el);
  gst_util_set_object_arg (G_OBJECT (el), "engine", "preview");
  g_object_set (el, "prompt", "Video 1 waves", "duration", 1, "cache-dir",
      cache, NULL);
  h = gst_harness_new_with_element (el, "video_0", "src");
  gst_harness_set_src_caps_str (h, "video/x-raw,format=I420,width=160,"
      "height=120,framerate=30/1");
  for (gint i = 0; i < 10; i++) {
    GstBuffer *buf = gst_harness_create_buffer (h, 160 * 120 * 3 / 2);

    gst_buffer_memset (buf, 0, 0x80, 160 * 120 * 3 / 2);
    GST_BUFFER_PTS (buf) = gst_util_uint64_scale (i, GST_SECOND, 30);
    GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
    g_assert_cmpint (gst_harness_push (h, buf), ==, GST_FLOW_OK);
  }
  g_assert_true (gst_harness_push_event (h, gst_event_new_eos ()));

  for (; frames < 30; frames++) {
    GstBuffer *buf = gst_harness_pull (h);

    g_assert_nonnull (buf);
    if (frames == 0) {
      GstEvent *seg_ev = gst_pad_get_sticky_event (h->sinkpad,
          GST_EVENT_SEGMENT, 0);
      const GstSegment *seg;

      /* the clip starts at stream time and running time 0 */
      g_assert_nonnull (seg_ev);
      gst_event_parse_segment (seg_ev, &seg);
      g_assert_cmpuint (gst_segment_to_stream_time (seg, GST_FORMAT_TIME,
              GST_BUFFER_PTS (buf)), ==, 0);
      g_assert_cmpuint (gst_segment_to_running_time (seg, GST_FORMAT_TIME,
              GST_BUFFER_PTS (buf)), ==, 0);
      gst_event_unref (seg_ev);
    }
    gst_buffer_unref (buf);
  }
  caps = gst_pad_get_current_caps (h->sinkpad);
  s = gst_caps_get_structure (caps, 0);
  g_assert_cmpstr (gst_structure_get_name (s), ==, "video/x-raw");
  g_assert_true (gst_structure_get_int (s, "width", &w));
  g_assert_true (gst_structure_get_int (s, "height", &hh));
  g_assert_cmpint (w, ==, 1280);
  g_assert_cmpint (hh, ==, 720);
  gst_caps_unref (caps);

  /* then EOS, and no further frame */
  while (!eos && (ev = gst_harness_pull_event (h))) {
    eos = GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
  }
  g_assert_true (eos);
  g_assert_cmpuint (gst_harness_buffers_in_queue (h), ==, 0);
  gst_harness_teardown (h);
  gst_object_unref (el);
  g_assert_cmpuint (count_results (base), ==, 2);       /* mp4 + json */
  wr2v_test_rm_rf (base);
}

/* --- progress and facts ------------------------------------------------ */

static gchar *
one_ref_pipeline (const gchar * cache, const gchar * extra)
{
  g_autofree gchar *v0 = video_ref ("g", "video_0", RED, 10);

  return g_strdup_printf ("wanr2v name=g engine=preview duration=1 seed=3 "
      "prompt=\"Video 1 waves\" cache-dir=\"%s\" %s ! fakesink sync=false %s",
      cache, extra ? extra : "", v0);
}

static void
test_progress (void)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *cache = cache_of (base);
  g_autofree gchar *desc = one_ref_pipeline (cache, NULL);
  Run *r = run_new (desc);
  const GstStructure *s;
  GPtrArray *types = g_ptr_array_new ();
  gboolean generating = FALSE;
  gboolean cached = TRUE;
  guint first = 0, last = 0;

  run_to_eos (r);
  for (guint i = 0; i < r->msgs->len; i++) {
    GstMessage *m = g_ptr_array_index (r->msgs, i);
    GstProgressType type;
    g_autofree gchar *code = NULL;

    if (GST_MESSAGE_TYPE (m) != GST_MESSAGE_PROGRESS)
      continue;
    gst_message_parse_progress (m, &type, &code, NULL);
    g_ptr_array_add (types, GINT_TO_POINTER (type));
    g_assert_cmpint (type, !=, GST_PROGRESS_TYPE_CANCELED);
    g_assert_cmpint (type, !=, GST_PROGRESS_TYPE_ERROR);
    generating |= type == GST_PROGRESS_TYPE_CONTINUE &&
        g_strcmp0 (code, "generating") == 0;
  }
  g_assert_cmpuint (types->len, >=, 3);
  first = GPOINTER_TO_INT (g_ptr_array_index (types, 0));
  last = GPOINTER_TO_INT (g_ptr_array_index (types, types->len - 1));
  g_assert_cmpint (first, ==, GST_PROGRESS_TYPE_START);
  g_assert_cmpint (last, ==, GST_PROGRESS_TYPE_COMPLETE);
  for (guint i = 1; i + 1 < types->len; i++)
    g_assert_cmpint (GPOINTER_TO_INT (g_ptr_array_index (types, i)), ==,
        GST_PROGRESS_TYPE_CONTINUE);
  g_assert_true (generating);
  g_ptr_array_unref (types);

  s = find_element_msg (r, "wanr2v/engine");
  g_assert_nonnull (s);
  g_assert_cmpstr (gst_structure_get_string (s, "engine"), ==, "preview");
  s = find_element_msg (r, "wanr2v/result");
  g_assert_nonnull (s);
  g_assert_cmpstr (gst_structure_get_string (s, "engine"), ==, "preview");
  result_location (r, &cached);
  g_assert_false (cached);
  run_free (r);
  wr2v_test_rm_rf (base);
}

/* --- stopping in the middle -------------------------------------------- */

/* PLAYING, wait until the engine renders, then NULL: prompt, and nothing
 * left behind. */
static void
stop_while_generating (const gchar * base, guint nth, gint64 * took_us)
{
  g_autofree gchar *cache = cache_of (base);
  g_autofree gchar *desc = one_ref_pipeline (cache, NULL);
  Run *r = run_new (desc);
  guint work_dirs = count_work_dirs ();
  gint64 t0;

  g_assert_cmpint (gst_element_set_state (r->pipeline, GST_STATE_PLAYING),
      !=, GST_STATE_CHANGE_FAILURE);
  /* the first "generating" comes before the render starts, the next ones
   * from the running render */
  for (guint i = 0; i < nth; i++)
    g_assert_nonnull (run_pop (r, 20 * GST_SECOND, match_progress,
            "generating"));
  /* the work dir exists now: the check after NULL means something */
  g_assert_cmpuint (count_work_dirs (), ==, work_dirs + 1);

  t0 = g_get_monotonic_time ();
  g_assert_cmpint (gst_element_set_state (r->pipeline, GST_STATE_NULL), ==,
      GST_STATE_CHANGE_SUCCESS);
  *took_us = g_get_monotonic_time () - t0;

  g_assert_cmpuint (count_work_dirs (), ==, work_dirs);
  g_assert_cmpuint (count_cache_tmp (base), ==, 0);
  run_free (r);
}

static void
test_stop_while_generating (void)
{
  g_autofree gchar *base = make_test_dir ();
  guint threads = 0, fds = 0;
  gint64 worst = 0;

  /* two warm-up rounds: GStreamer keeps some threads (clock, pools) */
  for (guint i = 0; i < 12; i++) {
    gint64 took;

    if (i == 2) {
      threads = count_proc ("/proc/self/task");
      fds = count_proc ("/proc/self/fd");
    }
    stop_while_generating (base, 1 + i % 2, &took);
    worst = MAX (worst, took);
  }
  g_test_message ("slowest PLAYING->NULL: %" G_GINT64_FORMAT " ms, threads "
      "%u -> %u, fds %u -> %u", worst / 1000, threads,
      count_proc ("/proc/self/task"), fds, count_proc ("/proc/self/fd"));
  g_assert_cmpint (worst, <, WR2V_TEST_TIME (G_USEC_PER_SEC));
  /* a leak per round would add 10; idle pool threads come and go */
  g_assert_cmpuint (count_proc ("/proc/self/task"), <=, threads + 3);
  g_assert_cmpuint (count_proc ("/proc/self/fd"), <=, fds + 2);
  g_assert_cmpuint (count_results (base), ==, 0);
  wr2v_test_rm_rf (base);
}

static GstPadProbeReturn
count_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer data)
{
  g_atomic_int_inc ((gint *) data);
  return GST_PAD_PROBE_OK;
}

/* NULL while a live reference is still being collected */
static void
test_stop_while_collecting_live (void)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *cache = cache_of (base);
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g engine=preview "
      "duration=1 prompt=\"Video 1\" reference-duration=3600 "
      "cache-dir=\"%s\" ! fakesink videotestsrc is-live=true ! "
      "video/x-raw,width=160,height=120,framerate=30/1 ! g.video_0", cache);
  Run *r = run_new (desc);
  GstElement *g = gst_bin_get_by_name (GST_BIN (r->pipeline), "g");
  GstPad *pad = gst_element_get_static_pad (g, "video_0");
  guint work_dirs = count_work_dirs ();
  guint threads = count_proc ("/proc/self/task");
  gint buffers = 0;
  gint64 t0, took;

  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_buffer, &buffers,
      NULL);
  g_assert_cmpint (gst_element_set_state (r->pipeline, GST_STATE_PLAYING),
      !=, GST_STATE_CHANGE_FAILURE);
  t0 = g_get_monotonic_time ();
  while (g_atomic_int_get (&buffers) < 10 &&
      g_get_monotonic_time () - t0 < 10 * G_USEC_PER_SEC)
    g_usleep (10000);
  g_assert_cmpint (g_atomic_int_get (&buffers), >=, 10);
  g_assert_cmpuint (count_work_dirs (), ==, work_dirs + 1);

  t0 = g_get_monotonic_time ();
  g_assert_cmpint (gst_element_set_state (r->pipeline, GST_STATE_NULL), ==,
      GST_STATE_CHANGE_SUCCESS);
  took = g_get_monotonic_time () - t0;
  g_test_message ("PLAYING->NULL while collecting: %" G_GINT64_FORMAT " ms",
      took / 1000);
  g_assert_cmpint (took, <, WR2V_TEST_TIME (G_USEC_PER_SEC));
  g_assert_cmpuint (count_work_dirs (), ==, work_dirs);
  g_assert_cmpuint (count_cache_tmp (base), ==, 0);
  /* the reference encoder's threads are gone (a joined thread leaves
   * /proc a moment later: slow builds wait for it) */
  t0 = g_get_monotonic_time ();
  while (count_proc ("/proc/self/task") > threads + 3 &&
      g_get_monotonic_time () - t0 < WR2V_TEST_TIME (G_USEC_PER_SEC))
    g_usleep (10000);
  g_assert_cmpuint (count_proc ("/proc/self/task"), <=, threads + 3);
  g_assert_null (find_element_msg (r, "wanr2v/result"));
  gst_object_unref (pad);
  gst_object_unref (g);
  run_free (r);
  g_assert_cmpuint (count_results (base), ==, 0);
  wr2v_test_rm_rf (base);
}

/* --- the result store --------------------------------------------------- */

static void
check_cached_rerun (const gchar * desc, const gchar * base,
    gboolean * hit, guint * results)
{
  g_autofree gchar *first = NULL;
  gboolean cached = TRUE;
  Run *r = run_new (desc);

  run_to_eos (r);
  first = g_strdup (result_location (r, &cached));
  g_assert_false (cached);
  run_free (r);
  *results = count_results (base);
  g_assert_cmpuint (*results, ==, 2);   /* <hash>.mp4 and <hash>.json */

  /* a real rerun comes later: let the wall-clock second change */
  for (gint64 t0 = g_get_real_time () / G_USEC_PER_SEC;
      g_get_real_time () / G_USEC_PER_SEC == t0;)
    g_usleep (20000);

  r = run_new (desc);
  run_to_eos (r);
  *hit = FALSE;
  result_location (r, hit);
  if (*hit)
    g_assert_cmpstr (result_location (r, NULL), ==, first);
  run_free (r);
  *results = count_results (base);
}

static void
test_cache_images (void)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *cache = cache_of (base);
  g_autofree gchar *i0 = image_ref ("g", "image_0", RED);
  g_autofree gchar *i1 = image_ref ("g", "image_1", BLUE);
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g engine=preview "
      "duration=1 prompt=\"Image 1 meets Image 2\" cache-dir=\"%s\" ! "
      "fakesink sync=false %s %s", cache, i0, i1);
  gboolean hit;
  guint results;

  check_cached_rerun (desc, base, &hit, &results);
  g_assert_true (hit);
  g_assert_cmpuint (results, ==, 2);
  wr2v_test_rm_rf (base);
}

/* Raw video references are encoded before hashing; the same frames must
 * give the same key on a later run. */
static void
test_cache_raw_video (void)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *cache = cache_of (base);
  g_autofree gchar *desc = one_ref_pipeline (cache, NULL);
  gboolean hit;
  guint results;

  check_cached_rerun (desc, base, &hit, &results);
  if (!hit && results == 4) {
    g_test_incomplete ("KNOWN BUG (lead): a raw video reference is hashed "
        "after mp4mux, whose file holds the wall-clock creation time, so "
        "a repeated request misses the store; see the report");
    return;
  }
  g_assert_true (hit);
  g_assert_cmpuint (results, ==, 2);
  wr2v_test_rm_rf (base);
}

/* --- engine auto ------------------------------------------------------- */

static void
test_engine_auto (void)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *cache = cache_of (base);
  g_autofree gchar *v0 = video_ref ("g", "video_0", RED, 5);
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g duration=1 "
      "prompt=\"Video 1\" cache-dir=\"%s\" ! fakesink %s", cache, v0);
  const GstStructure *s;
  const gchar *reason;
  Run *r;

  /* main() unset the hosted engines' keys */
  g_assert_null (g_getenv ("WAVESPEED_API_KEY"));
  g_assert_null (g_getenv ("DASHSCOPE_API_KEY"));
  r = run_new (desc);
  g_assert_cmpint (gst_element_set_state (r->pipeline, GST_STATE_PAUSED), !=,
      GST_STATE_CHANGE_FAILURE);
  g_assert_nonnull (run_pop (r, 10 * GST_SECOND, match_element,
          "wanr2v/engine"));
  s = find_element_msg (r, "wanr2v/engine");
  g_assert_cmpstr (gst_structure_get_string (s, "engine"), ==, "preview");
  reason = gst_structure_get_string (s, "reason");
  g_assert_nonnull (reason);
  g_test_message ("reason: %s", reason);
  g_assert_nonnull (strstr (reason, "auto"));
  g_assert_nonnull (strstr (reason, "key"));
  run_free (r);
  wr2v_test_rm_rf (base);
}

/* --- result-location and wanr2vgen ------------------------------------- */

static void
test_result_location (void)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *cache = cache_of (base);
  g_autofree gchar *out = g_build_filename (base, "clip.mp4", NULL);
  g_autofree gchar *extra = g_strdup_printf ("result-location=\"%s\"", out);
  g_autofree gchar *desc = one_ref_pipeline (cache, extra);
  g_autofree gchar *part = g_strdup_printf ("%s.part", out);
  Run *r = run_new (desc);

  run_to_eos (r);
  g_assert_true (g_file_test (out, G_FILE_TEST_IS_REGULAR));
  g_assert_false (g_file_test (part, G_FILE_TEST_EXISTS));
  assert_same_bytes (out, result_location (r, NULL));
  run_free (r);
  wr2v_test_rm_rf (base);
}

/* Keeps the stream-start events that reach a pad, in order. */
static GstPadProbeReturn
keep_stream_start (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  GstEvent *event = GST_PAD_PROBE_INFO_EVENT (info);

  if (GST_EVENT_TYPE (event) == GST_EVENT_STREAM_START)
    g_ptr_array_add (user_data, gst_event_ref (event));
  return GST_PAD_PROBE_OK;
}

/* @start's stream id, checked to come with a group id. */
static const gchar *
stream_start_id (GstEvent * start)
{
  const gchar *id = NULL;
  guint group;

  gst_event_parse_stream_start (start, &id);
  g_assert_nonnull (id);
  g_assert_true (gst_event_parse_group_id (start, &group));
  return id;
}

/* wanr2vgen alone, pushing the MP4 to a filesink, with one reference or
 * with @refs (two: a video and an image). With two, basesrc's own
 * stream-start raised criticals (fatal here) and none was sent. The
 * stream-start has an id and a group id, and the same id in a second run
 * (from the result store). */
static void
test_gen_filesink (gconstpointer refs)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *cache = cache_of (base);
  g_autofree gchar *out = g_build_filename (base, "clip.mp4", NULL);
  g_autofree gchar *v0 = video_ref ("g", "video_0", RED, 10);
  g_autofree gchar *i0 = g_str_equal (refs, "vi") ?
      image_ref ("g", "image_0", BLUE) : g_strdup ("");
  g_autofree gchar *desc = g_strdup_printf ("wanr2vgen name=g engine=preview "
      "duration=1 prompt=\"Video 1 waves\" cache-dir=\"%s\" ! filesink "
      "name=out location=\"%s\" %s %s", cache, out, v0, i0);
  Run *r = run_new (desc);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (r->pipeline), "out");
  GstPad *in = gst_element_get_static_pad (sink, "sink");
  g_autoptr (GPtrArray) starts = g_ptr_array_new_with_free_func (
      (GDestroyNotify) gst_event_unref);
  g_autofree gchar *data = NULL;
  gsize len;

  gst_pad_add_probe (in, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM,
      keep_stream_start, starts, NULL);
  run_to_eos (r);
  assert_same_bytes (out, result_location (r, NULL));
  g_assert_true (g_file_get_contents (out, &data, &len, NULL));
  g_assert_true (memcmp (data + 4, "ftyp", 4) == 0);
  run_to_eos (r);
  g_assert_cmpuint (starts->len, ==, 2);
  g_assert_cmpstr (stream_start_id (starts->pdata[0]), ==,
      stream_start_id (starts->pdata[1]));
  gst_object_unref (in);
  gst_object_unref (sink);
  run_free (r);
  wr2v_test_rm_rf (base);
}

/* --- reference pads that are not linked ------------------------------- */

static gboolean
match_progress_type (GstMessage * m, gconstpointer type)
{
  GstProgressType t;
  g_autofree gchar *code = NULL;

  if (GST_MESSAGE_TYPE (m) != GST_MESSAGE_PROGRESS)
    return FALSE;
  gst_message_parse_progress (m, &t, &code, NULL);
  return t == (GstProgressType) GPOINTER_TO_INT (type) &&
      g_strcmp0 (code, "generate") == 0;
}

/* Pops from @bus until a message matches or @timeout. */
static GstMessage *
bus_pop (GstBus * bus, GstClockTime timeout, MatchFunc match,
    gconstpointer data)
{
  /* an upper bound: scaled for sanitizer and valgrind runs */
  gint64 deadline = g_get_monotonic_time () +
      WR2V_TEST_TIME (timeout / GST_USECOND);

  for (;;) {
    gint64 left = deadline - g_get_monotonic_time ();
    GstMessage *m;

    if (left <= 0)
      return NULL;
    m = gst_bus_timed_pop (bus, left * GST_USECOND);
    if (!m)
      return NULL;
    if (match (m, data))
      return m;
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR)
      assert_no_error (m);
    gst_message_unref (m);
  }
}

static void
assert_error_names (GstMessage * m, const gchar * what, const gchar * hint)
{
  g_autoptr (GError) err = NULL;

  g_assert_nonnull (m);
  g_assert_cmpint (GST_MESSAGE_TYPE (m), ==, GST_MESSAGE_ERROR);
  gst_message_parse_error (m, &err, NULL);
  g_test_message ("%s: %s", GST_MESSAGE_SRC_NAME (m), err->message);
  g_assert_true (g_error_matches (err, GST_LIBRARY_ERROR,
          GST_LIBRARY_ERROR_SETTINGS));
  if (!strstr (err->message, what) || !strstr (err->message, hint))
    g_error ("\"%s\" does not mention \"%s\" and \"%s\"", err->message, what,
        hint);
}

/* A requested pad left unlinked, with no uri: PAUSED fails at once with
 * an error that names the pad, rather than wait forever. */
static void
test_unlinked_pad (void)
{
  const gchar *factories[] = { "wanr2vgen", "wanr2v" };

  for (guint i = 0; i < G_N_ELEMENTS (factories); i++) {
    g_autofree gchar *base = make_test_dir ();
    g_autofree gchar *cache = cache_of (base);
    g_autofree gchar *v0 = video_ref ("g", "video_0", RED, 5);
    g_autofree gchar *desc = g_strdup_printf ("%s name=g engine=preview "
        "duration=1 prompt=\"Video 1 waves\" cache-dir=\"%s\" ! fakesink %s",
        factories[i], cache, v0);
    Run *r = run_new (desc);
    GstElement *g = gst_bin_get_by_name (GST_BIN (r->pipeline), "g");
    GstPad *pad = gst_element_request_pad_simple (g, "image_%u");
    gint64 t0 = g_get_monotonic_time ();
    GstMessage *m;

    g_assert_cmpstr (GST_PAD_NAME (pad), ==, "image_0");
    g_assert_cmpint (gst_element_set_state (r->pipeline, GST_STATE_PAUSED),
        ==, GST_STATE_CHANGE_FAILURE);
    m = run_pop (r, 5 * GST_SECOND, match_error, NULL);
    assert_error_names (m, "image_0", "not linked");
    g_assert_cmpint (g_get_monotonic_time () - t0, <,
        WR2V_TEST_TIME (G_USEC_PER_SEC));
    g_assert_cmpint (gst_element_set_state (r->pipeline, GST_STATE_NULL), ==,
        GST_STATE_CHANGE_SUCCESS);
    gst_element_release_request_pad (g, pad);
    gst_object_unref (pad);
    gst_object_unref (g);
    run_free (r);

    /* requested and released again: the pipeline runs */
    r = run_new (desc);
    g = gst_bin_get_by_name (GST_BIN (r->pipeline), "g");
    pad = gst_element_request_pad_simple (g, "image_%u");
    gst_element_release_request_pad (g, pad);
    gst_object_unref (pad);
    run_to_eos (r);
    gst_object_unref (g);
    run_free (r);
    wr2v_test_rm_rf (base);
  }
}

static void
push_raw_frames (GstHarness * h, gint frames, guint8 value)
{
  for (gint i = 0; i < frames; i++) {
    GstBuffer *buf = gst_harness_create_buffer (h, 160 * 120 * 3 / 2);

    gst_buffer_memset (buf, 0, value, 160 * 120 * 3 / 2);
    GST_BUFFER_PTS (buf) = gst_util_uint64_scale (i, GST_SECOND, 30);
    GST_BUFFER_DURATION (buf) = GST_SECOND / 30;
    g_assert_cmpint (gst_harness_push (h, buf), ==, GST_FLOW_OK);
  }
}

/* A pad requested once the element runs, and never linked: when the
 * linked pads are complete, the run fails naming it. */
static void
test_unlinked_pad_late (void)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *cache = cache_of (base);
  GstElement *el = gst_element_factory_make ("wanr2vgen", NULL);
  GstBus *bus = gst_bus_new ();
  GstHarness *h;
  GstMessage *m;
  GstPad *late;

  gst_object_ref_sink (el);
  gst_element_set_bus (el, bus);
  gst_util_set_object_arg (G_OBJECT (el), "engine", "preview");
  g_object_set (el, "prompt", "Video 1 waves", "duration", 1, "cache-dir",
      cache, NULL);
  h = gst_harness_new_with_element (el, "video_0", "src");
  gst_harness_set_src_caps_str (h, "video/x-raw,format=I420,width=160,"
      "height=120,framerate=30/1");
  late = gst_element_request_pad_simple (el, "image_%u");
  g_assert_nonnull (late);
  push_raw_frames (h, 5, 0x80);
  g_assert_true (gst_harness_push_event (h, gst_event_new_eos ()));
  m = bus_pop (bus, 10 * GST_SECOND, match_error, NULL);
  assert_error_names (m, "image_0", "not linked");
  gst_message_unref (m);
  gst_harness_teardown (h);
  gst_element_release_request_pad (el, late);
  gst_object_unref (late);
  gst_element_set_bus (el, NULL);
  gst_object_unref (bus);
  gst_object_unref (el);
  g_assert_cmpuint (count_results (base), ==, 0);
  wr2v_test_rm_rf (base);
}

/* A pad with only a uri (a URL a hosted engine fetches) is complete from
 * the start: it never blocks the job. The preview engine draws only the
 * references the prompt names, so one the prompt does not name is left
 * out of the animatic... */
static void
test_uri_only_pad_unnamed (void)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *cache = cache_of (base);
  g_autofree gchar *v0 = video_ref ("g", "video_0", RED, 5);
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g engine=preview "
      "duration=1 prompt=\"Video 1 waves\" cache-dir=\"%s\" ! fakesink "
      "sync=false %s", cache, v0);
  Run *r = run_new (desc);
  GstElement *g = gst_bin_get_by_name (GST_BIN (r->pipeline), "g");
  GstPad *pad = gst_element_request_pad_simple (g, "image_%u");
  const GstStructure *s;

  g_object_set (pad, "uri", "https://example.com/prop.png", NULL);
  run_to_eos (r);
  s = find_element_msg (r, "wanr2v/references");
  g_assert_nonnull (s);
  g_assert_cmpstr (gst_structure_get_string (s, "image_0"), ==, "Image 2");
  result_location (r, NULL);
  gst_element_release_request_pad (g, pad);
  gst_object_unref (pad);
  gst_object_unref (g);
  run_free (r);
  wr2v_test_rm_rf (base);
}

/* ... and one it names fails the job at once, saying the preview engine
 * needs the media: here the only reference, so the job starts at PAUSED. */
static void
test_uri_only_pad_named (void)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *cache = cache_of (base);
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g engine=preview "
      "duration=1 prompt=\"Image 1 flies\" cache-dir=\"%s\" ! fakesink",
      cache);
  Run *r = run_new (desc);
  GstElement *g = gst_bin_get_by_name (GST_BIN (r->pipeline), "g");
  GstPad *pad = gst_element_request_pad_simple (g, "image_%u");
  gint64 t0 = g_get_monotonic_time ();

  gst_child_proxy_set (GST_CHILD_PROXY (g), "image_0::uri",
      "https://example.com/prop.png", NULL);
  g_assert_cmpint (gst_element_set_state (r->pipeline, GST_STATE_PAUSED), !=,
      GST_STATE_CHANGE_FAILURE);
  assert_error_names (run_pop (r, 10 * GST_SECOND, match_error, NULL),
      "Image 1", "only a URL");
  g_assert_cmpint (g_get_monotonic_time () - t0, <,
      WR2V_TEST_TIME (5 * G_USEC_PER_SEC));
  g_assert_null (find_element_msg (r, "wanr2v/result"));
  gst_element_release_request_pad (g, pad);
  gst_object_unref (pad);
  gst_object_unref (g);
  run_free (r);
  g_assert_cmpuint (count_results (base), ==, 0);
  wr2v_test_rm_rf (base);
}

/* --- the bin's pads ---------------------------------------------------- */

/* wanr2v's request pads are GstWanR2vBinPad, whose uri is that of the
 * wanr2vgen pad they stand for, both ways. */
static void
test_bin_pad_uri (void)
{
  GstElement *el = gst_element_factory_make ("wanr2v", NULL);
  GstElement *gen;
  GstPadTemplate *t;
  GstPad *pad, *inner;
  gchar *s = NULL;

  gst_object_ref_sink (el);
  gen = gst_bin_get_by_name (GST_BIN (el), "gen");
  t = gst_element_get_pad_template (el, "image_%u");
  g_assert_cmpstr (g_type_name (GST_PAD_TEMPLATE_GTYPE (t)), ==,
      "GstWanR2vBinPad");
  pad = gst_element_request_pad_simple (el, "image_%u");
  g_assert_nonnull (pad);
  g_assert_true (GST_IS_GHOST_PAD (pad));
  g_assert_cmpstr (G_OBJECT_TYPE_NAME (pad), ==, "GstWanR2vBinPad");
  g_assert_nonnull (g_object_class_find_property (G_OBJECT_GET_CLASS (pad),
          "uri"));
  inner = gst_element_get_static_pad (gen, "image_0");
  g_assert_nonnull (inner);

  g_object_set (pad, "uri", "https://example.com/prop.png", NULL);
  g_object_get (inner, "uri", &s, NULL);
  g_assert_cmpstr (s, ==, "https://example.com/prop.png");
  g_free (s);

  g_object_set (inner, "uri", "oss://bucket/prop.png", NULL);
  g_object_get (pad, "uri", &s, NULL);
  g_assert_cmpstr (s, ==, "oss://bucket/prop.png");
  g_free (s);

  /* the child proxy hands out the bin's pad */
  g_assert_cmpuint (gst_child_proxy_get_children_count (GST_CHILD_PROXY
          (el)), ==, 1);
  {
    GObject *child = gst_child_proxy_get_child_by_name (GST_CHILD_PROXY (el),
        "image_0");

    g_assert_true (child == G_OBJECT (pad));
    g_object_unref (child);
  }

  gst_element_release_request_pad (el, pad);
  gst_object_unref (pad);
  gst_object_unref (inner);
  gst_object_unref (gen);
  gst_object_unref (el);
}

/* --- a flush on a reference pad --------------------------------------- */

/* The job is running when video_0 flushes: it is cancelled, and new data
 * and EOS on video_0 start a new one, whose clip comes out, then EOS. On
 * wanr2v (decoded frames, qtdemux pulling) and wanr2vgen (the MP4's bytes,
 * pushed). */
static void
test_flush_restarts_job (gconstpointer factory)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *cache = cache_of (base);
  GstElement *el = gst_element_factory_make (factory, NULL);
  gboolean bin = g_str_equal (factory, "wanr2v");
  GstBus *bus = gst_bus_new ();
  GstHarness *h;
  GstSegment seg;
  GstMessage *m;
  gboolean eos = FALSE;
  gint64 t0;

  gst_object_ref_sink (el);
  gst_element_set_bus (el, bus);
  gst_util_set_object_arg (G_OBJECT (el), "engine", "preview");
  /* long enough to be still rendering when the flush comes */
  g_object_set (el, "prompt", "Video 1 waves", "duration", 10, "cache-dir",
      cache, NULL);
  h = gst_harness_new_with_element (el, "video_0", "src");
  gst_harness_set_drop_buffers (h, TRUE);
  gst_harness_set_src_caps_str (h, "video/x-raw,format=I420,width=160,"
      "height=120,framerate=30/1");
  push_raw_frames (h, 5, 0x40);
  g_assert_true (gst_harness_push_event (h, gst_event_new_eos ()));

  /* the render runs: "rendering with preview", then "rendering preview" */
  for (guint i = 0; i < 2; i++)
    gst_message_unref (bus_pop (bus, 20 * GST_SECOND, match_progress,
            "generating"));
  t0 = g_get_monotonic_time ();
  g_assert_true (gst_harness_push_event (h, gst_event_new_flush_start ()));
  g_assert_true (gst_harness_push_event (h, gst_event_new_flush_stop (TRUE)));
  g_test_message ("flush took %" G_GINT64_FORMAT " ms",
      (g_get_monotonic_time () - t0) / 1000);
  g_assert_cmpint (g_get_monotonic_time () - t0, <,
      WR2V_TEST_TIME (G_USEC_PER_SEC));
  m = bus_pop (bus, 5 * GST_SECOND, match_progress_type,
      GINT_TO_POINTER (GST_PROGRESS_TYPE_CANCELED));
  g_assert_nonnull (m);
  gst_message_unref (m);

  /* new data, then EOS: a new job */
  gst_segment_init (&seg, GST_FORMAT_TIME);
  g_assert_true (gst_harness_push_event (h, gst_event_new_segment (&seg)));
  push_raw_frames (h, 5, 0xc0);
  g_assert_true (gst_harness_push_event (h, gst_event_new_eos ()));
  m = bus_pop (bus, 10 * GST_SECOND, match_progress_type,
      GINT_TO_POINTER (GST_PROGRESS_TYPE_START));
  g_assert_nonnull (m);
  gst_message_unref (m);
  m = bus_pop (bus, TIMEOUT, match_element, "wanr2v/result");
  g_assert_nonnull (m);
  gst_message_unref (m);
  m = bus_pop (bus, TIMEOUT, match_progress_type,
      GINT_TO_POINTER (GST_PROGRESS_TYPE_COMPLETE));
  g_assert_nonnull (m);
  gst_message_unref (m);

  /* the clip's frames, then EOS */
  while (!eos) {
    GstEvent *ev = gst_harness_pull_event (h);

    g_assert_nonnull (ev);
    eos = GST_EVENT_TYPE (ev) == GST_EVENT_EOS;
    gst_event_unref (ev);
  }
  g_test_message ("%u buffers", gst_harness_buffers_received (h));
  if (bin)
    g_assert_cmpuint (gst_harness_buffers_received (h), ==, 10 * 30);
  else
    g_assert_cmpuint (gst_harness_buffers_received (h), >, 0);
  gst_harness_teardown (h);
  gst_element_set_bus (el, NULL);
  gst_object_unref (bus);
  gst_object_unref (el);
  g_assert_cmpuint (count_results (base), ==, 2);       /* mp4 + json */
  wr2v_test_rm_rf (base);
}

/* --- running the same pipeline again ----------------------------------- */

/* A run of @r's pipeline to EOS, then NULL: the clip's 30 frames
 * (duration=1) on the fakesink "sink", read as in a first run, by
 * qtdemux pulling from wanr2vgen (a decodebin3 that went back to READY
 * let wanr2vgen start pushing, then switched it to pull mode from its own
 * streaming thread: a GStreamer-WARNING about joining a task from its
 * thread, fatal here, and "Internal data stream error"). No warning on
 * the bus; the clip is new or from the result store as @cached says. */
static void
run_again (Run * r, gboolean cached)
{
  GstElement *g = gst_bin_get_by_name (GST_BIN (r->pipeline), "g");
  GstElement *gen = gst_bin_get_by_name (GST_BIN (g), "gen");
  GstElement *sink = gst_bin_get_by_name (GST_BIN (r->pipeline), "sink");
  GstPad *src = gst_element_get_static_pad (gen, "src");
  GstPad *in = gst_element_get_static_pad (sink, "sink");
  const GstStructure *s = NULL;
  guint first = r->msgs->len;
  gboolean hit = !cached;
  gint frames = 0;
  gulong probe;
  GstMessage *m;

  probe = gst_pad_add_probe (in, GST_PAD_PROBE_TYPE_BUFFER, count_buffer,
      &frames, NULL);
  g_assert_cmpint (gst_element_set_state (r->pipeline, GST_STATE_PLAYING),
      !=, GST_STATE_CHANGE_FAILURE);
  m = run_pop (r, TIMEOUT, match_end, NULL);
  g_assert_nonnull (m);
  assert_no_error (m);
  g_assert_cmpint (g_atomic_int_get (&frames), ==, 30);
  g_assert_cmpint (GST_PAD_MODE (src), ==, GST_PAD_MODE_PULL);
  for (guint i = first; i < r->msgs->len; i++) {
    m = g_ptr_array_index (r->msgs, i);
    g_assert_cmpint (GST_MESSAGE_TYPE (m), !=, GST_MESSAGE_WARNING);
    if (match_element (m, "wanr2v/result"))
      s = gst_message_get_structure (m);
  }
  g_assert_nonnull (s);
  g_assert_true (gst_structure_get_boolean (s, "cached", &hit));
  g_assert_true (hit == cached);
  g_assert_cmpint (gst_element_set_state (r->pipeline, GST_STATE_NULL), ==,
      GST_STATE_CHANGE_SUCCESS);
  gst_pad_remove_probe (in, probe);
  gst_object_unref (in);
  gst_object_unref (src);
  gst_object_unref (sink);
  gst_object_unref (gen);
  gst_object_unref (g);
}

static gchar *
reuse_pipeline (const gchar * cache, const gchar * prompt)
{
  g_autofree gchar *v0 = video_ref ("g", "video_0", RED, 10);

  return g_strdup_printf ("wanr2v name=g engine=preview duration=1 seed=3 "
      "prompt=\"%s\" cache-dir=\"%s\" ! fakesink name=sink sync=false %s",
      prompt, cache, v0);
}

/* PLAYING fails (an empty prompt), NULL, a prompt, PLAYING again on the
 * same pipeline: the clip, as if the failed attempt had not been. */
static void
test_reuse_after_failure (void)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *cache = cache_of (base);
  g_autofree gchar *desc = reuse_pipeline (cache, "");
  Run *r = run_new (desc);
  guint work_dirs = count_work_dirs ();
  g_autoptr (GError) err = NULL;
  GstElement *g;
  GstMessage *m;

  g_assert_cmpint (gst_element_set_state (r->pipeline, GST_STATE_PLAYING),
      ==, GST_STATE_CHANGE_FAILURE);
  m = run_pop (r, 5 * GST_SECOND, match_error, NULL);
  g_assert_nonnull (m);
  gst_message_parse_error (m, &err, NULL);
  g_assert_true (g_error_matches (err, GST_LIBRARY_ERROR,
          GST_LIBRARY_ERROR_SETTINGS));
  g_assert_nonnull (strstr (err->message, "prompt"));
  g_assert_cmpint (gst_element_set_state (r->pipeline, GST_STATE_NULL), ==,
      GST_STATE_CHANGE_SUCCESS);

  g = gst_bin_get_by_name (GST_BIN (r->pipeline), "g");
  g_object_set (g, "prompt", "Video 1 waves", NULL);
  gst_object_unref (g);
  run_again (r, FALSE);
  run_free (r);
  g_assert_cmpuint (count_work_dirs (), ==, work_dirs);
  g_assert_cmpuint (count_results (base), ==, 2);       /* mp4 + json */
  wr2v_test_rm_rf (base);
}

/* Three runs of one pipeline, NULL between them: a new clip, another
 * (a new prompt), then the first again from the result store. */
static void
test_reuse_after_success (void)
{
  g_autofree gchar *base = make_test_dir ();
  g_autofree gchar *cache = cache_of (base);
  g_autofree gchar *desc = reuse_pipeline (cache, "Video 1 waves");
  Run *r = run_new (desc);
  guint work_dirs = count_work_dirs ();
  GstElement *g = gst_bin_get_by_name (GST_BIN (r->pipeline), "g");

  run_again (r, FALSE);
  g_object_set (g, "prompt", "Video 1 jumps", NULL);
  run_again (r, FALSE);
  g_object_set (g, "prompt", "Video 1 waves", NULL);
  run_again (r, TRUE);
  gst_object_unref (g);
  run_free (r);
  g_assert_cmpuint (count_work_dirs (), ==, work_dirs);
  g_assert_cmpuint (count_results (base), ==, 4);       /* 2 mp4 + 2 json */
  wr2v_test_rm_rf (base);
}

int
main (int argc, char **argv)
{
  gchar tmpl[] = "/tmp/test-element-tmpdir-XXXXXX";
  int ret;

  /* before anything reads it: g_get_tmp_dir() caches TMPDIR */
  private_tmp = g_mkdtemp (tmpl);
  g_assert_nonnull (private_tmp);
  g_setenv ("TMPDIR", private_tmp, TRUE);
  /* no test may reach a hosted engine; engine=auto must pick preview */
  g_unsetenv ("WAVESPEED_API_KEY");
  g_unsetenv ("DASHSCOPE_API_KEY");

  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);

  g_test_add_func ("/element/pads", test_pads);
  g_test_add_func ("/element/properties", test_properties);
  g_test_add_func ("/element/pad-property-launch", test_pad_property_launch);
  g_test_add_func ("/element/numbering", test_numbering);
  for (guint i = 0; i < G_N_ELEMENTS (error_cases); i++) {
    g_autofree gchar *path = g_strdup_printf ("/element/error/%s",
        error_cases[i].name);

    g_test_add_data_func (path, &error_cases[i], check_error_case);
  }
  g_test_add_func ("/element/caps/audio", test_caps_audio);
  g_test_add_func ("/element/caps/jpeg-on-video-pad",
      test_caps_jpeg_on_video_pad);
  g_test_add_func ("/element/caps/jpeg-file-on-video-pad",
      test_caps_jpeg_file_on_video_pad);
  g_test_add_func ("/element/harness-eos", test_harness_eos);
  g_test_add_func ("/element/progress", test_progress);
  g_test_add_func ("/element/stop/while-generating",
      test_stop_while_generating);
  g_test_add_func ("/element/stop/while-collecting-live",
      test_stop_while_collecting_live);
  g_test_add_func ("/element/cache/images", test_cache_images);
  g_test_add_func ("/element/cache/raw-video", test_cache_raw_video);
  g_test_add_func ("/element/engine-auto", test_engine_auto);
  g_test_add_func ("/element/result-location", test_result_location);
  g_test_add_data_func ("/element/wanr2vgen-filesink", "v", test_gen_filesink);
  g_test_add_data_func ("/element/wanr2vgen-filesink/two-references", "vi",
      test_gen_filesink);
  g_test_add_func ("/element/unlinked-pad", test_unlinked_pad);
  g_test_add_func ("/element/unlinked-pad-late", test_unlinked_pad_late);
  g_test_add_func ("/element/uri-only-pad/unnamed", test_uri_only_pad_unnamed);
  g_test_add_func ("/element/uri-only-pad/named", test_uri_only_pad_named);
  g_test_add_func ("/element/bin-pad-uri", test_bin_pad_uri);
  g_test_add_data_func ("/element/flush-restarts-job/wanr2v", "wanr2v",
      test_flush_restarts_job);
  g_test_add_data_func ("/element/flush-restarts-job/wanr2vgen", "wanr2vgen",
      test_flush_restarts_job);
  g_test_add_func ("/element/reuse/after-failure", test_reuse_after_failure);
  g_test_add_func ("/element/reuse/after-success", test_reuse_after_success);

  ret = g_test_run ();
  wr2v_test_rm_rf (private_tmp);
  return ret;
}
