/* test-storyboard.c: a storyboard rendered as one clip (issue 14).
 *
 *   - preview, 3 shots (the third continuing the second): one MP4 whose
 *     duration is the sum of the shots', every frame decoded through the
 *     wanr2v bin; each shot's prompt drawn in its frames (the shots share
 *     a seed, so their frames differ only where the caption is); the
 *     continuing shot's first frame is the second shot's last;
 *   - the hosted fakes: each shot submitted exactly once; on DashScope
 *     the continuing shot's first frame is what it is sent (the uploaded
 *     object is the PNG of the served clip's last frame); an engine that
 *     takes no first frame refuses it before any request;
 *   - the cost of the whole storyboard estimated and capped up front.
 */
#include <string.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/app/gstappsink.h>
#include <gst/video/video.h>

#include "wr2v-clips.h"
#include "wr2v-fake-server.h"
#include "wr2v-mp4.h"
#include "wr2v-storyboard.h"
#include "wr2v-test-engine.h"
#include "wr2v-test-time.h"
#include "wr2v-test-util.h"

#define SHOT_SECONDS 2
#define FPS 30
/* a length every hosted engine makes */
#define HOSTED_SECONDS 5

static gchar *tmp_root;
static gchar *ref_clip;
static gboolean have_media;

static const gchar *prompts[3] = {
  "A red kite rises over the green hill in the morning wind",
  "Rain",
  "The kite lands softly in a puddle",
};

/* Three shots of SHOT_SECONDS with one seed; the third continues (when
 * @continuing) the second. */
static gchar *
storyboard_of (gboolean continuing, gint seconds)
{
  return g_strdup_printf ("# three shots\n"
      "shot, prompt=\"%s\", duration=%d, seed=5\n"
      "shot, prompt=\"%s\", duration=%d, seed=5;\n"
      "shot, prompt=\"%s\", duration=%d, seed=5, continue=%s\n",
      prompts[0], seconds, prompts[1], seconds, prompts[2], seconds,
      continuing ? "true" : "false");
}

static gchar *
storyboard (gboolean continuing)
{
  return storyboard_of (continuing, SHOT_SECONDS);
}

typedef struct
{
  gchar *location;              /* wanr2v/storyboard's */
  guint shot_locations;
  guint shot_phases;            /* bit per shot seen in wanr2v/shot */
  gchar *error;
  gdouble cost;
  gint frames;                  /* atomic: at the sink */
  GstStructure *variants;       /* wanr2v/variants */
  gint take_frames[3];          /* atomic: at the sinks t0, t1, t2 */
} Run;

static void
run_clear (Run * r)
{
  g_free (r->location);
  g_free (r->error);
  if (r->variants)
    gst_structure_free (r->variants);
  memset (r, 0, sizeof *r);
}

static GstPadProbeReturn
count_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer frames)
{
  g_atomic_int_inc ((gint *) frames);
  return GST_PAD_PROBE_OK;
}

static void
on_element (Run * r, const GstStructure * s)
{
  guint shot;

  if (gst_structure_has_name (s, "wanr2v/storyboard")) {
    g_free (r->location);
    r->location = g_strdup (gst_structure_get_string (s, "location"));
    r->shot_locations =
        gst_value_array_get_size (gst_structure_get_value (s,
            "shot-locations"));
  } else if (gst_structure_has_name (s, "wanr2v/shot") &&
      gst_structure_get_uint (s, "shot", &shot) && shot >= 1 && shot <= 3) {
    r->shot_phases |= 1u << (shot - 1);
  } else if (gst_structure_has_name (s, "wanr2v/variants")) {
    r->variants = gst_structure_copy (s);
  } else if (gst_structure_has_name (s, "wanr2v/cost") &&
      !gst_structure_has_field (s, "shot") &&
      !gst_structure_has_field (s, "take")) {
    gst_structure_get_double (s, "estimated-usd", &r->cost);
  }
}

/* Runs @desc (its sink named "sink") to EOS or an error. */
static void
run_pipeline (const gchar * desc, Run * r)
{
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);
  GstElement *sink;
  GstPad *pad;
  GstBus *bus;
  gint64 deadline = g_get_monotonic_time () + WR2V_TEST_TIME (50 *
      G_USEC_PER_SEC);

  g_assert_no_error (err);
  r->cost = -1.0;
  sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_buffer,
      &r->frames, NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);
  for (guint i = 0; i < G_N_ELEMENTS (r->take_frames); i++) {
    g_autofree gchar *name = g_strdup_printf ("t%u", i);

    if (!(sink = gst_bin_get_by_name (GST_BIN (p), name)))
      continue;
    pad = gst_element_get_static_pad (sink, "sink");
    gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, count_buffer,
        &r->take_frames[i], NULL);
    gst_object_unref (pad);
    gst_object_unref (sink);
  }
  bus = gst_element_get_bus (p);
  gst_element_set_state (p, GST_STATE_PLAYING);
  for (;;) {
    GstMessage *m = gst_bus_timed_pop (bus, 100 * GST_MSECOND);

    g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    if (!m)
      continue;
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ELEMENT)
      on_element (r, gst_message_get_structure (m));
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
      gst_message_parse_error (m, &err, NULL);
      r->error = g_strdup (err->message);
      g_clear_error (&err);
    }
    if (GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS ||
        GST_MESSAGE_TYPE (m) == GST_MESSAGE_ERROR) {
      gst_message_unref (m);
      break;
    }
    gst_message_unref (m);
  }
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
}

/* The frames the bin gave: the joined clip's (the file holds exactly
 * @frames, see the duration checks), or one more: the bin's videorate may
 * repeat the last frame to close the segment when a decoded timestamp
 * comes out a nanosecond early. */
static void
assert_frames (Run * r, gint frames)
{
  g_assert_cmpint (g_atomic_int_get (&r->frames), >=, frames);
  g_assert_cmpint (g_atomic_int_get (&r->frames), <=, frames + 1);
}

static gchar *
describe (const gchar * engine, const gchar * api_url, const gchar * board,
    const gchar * cache, const gchar * out)
{
  return g_strdup_printf ("wanr2v name=w engine=%s %s%s storyboard=\"%s\" "
      "cache-dir=\"%s\" result-location=\"%s\" poll-interval=50 "
      "request-timeout=%u ! fakesink name=sink sync=false "
      "filesrc location=\"%s\" ! w.video_0", engine,
      api_url ? "api-url=" : "", api_url ? api_url : "", board, cache, out,
      WR2V_TEST_TIMEOUT_S (40), ref_clip);
}

/* --- frames ------------------------------------------------------------ */

typedef struct
{
  gint width, height;
  GHashTable *frames;           /* index -> GBytes of GRAY8 rows */
} Frames;

static void
frames_clear (Frames * f)
{
  g_hash_table_unref (f->frames);
}

/* The frames @wanted (-1 ended) of the clip at @path, in grey. */
static void
read_frames (const gchar * path, const gint * wanted, Frames * f)
{
  g_autofree gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! "
      "decodebin ! videoconvert ! video/x-raw,format=GRAY8 ! "
      "appsink name=sink sync=false", path);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *sink = gst_bin_get_by_name (GST_BIN (p), "sink");
  GstSample *sample;
  gint index = 0;

  f->frames = g_hash_table_new_full (NULL, NULL, NULL,
      (GDestroyNotify) g_bytes_unref);
  gst_element_set_state (p, GST_STATE_PLAYING);
  while ((sample = gst_app_sink_pull_sample (GST_APP_SINK (sink)))) {
    GstVideoInfo info;
    GstVideoFrame frame;

    for (guint i = 0; wanted[i] >= 0; i++) {
      GByteArray *rows;

      if (wanted[i] != index)
        continue;
      gst_video_info_from_caps (&info, gst_sample_get_caps (sample));
      gst_video_frame_map (&frame, &info, gst_sample_get_buffer (sample),
          GST_MAP_READ);
      f->width = info.width;
      f->height = info.height;
      rows = g_byte_array_sized_new (info.width * info.height);
      for (gint y = 0; y < info.height; y++)
        g_byte_array_append (rows, (guint8 *) GST_VIDEO_FRAME_PLANE_DATA
            (&frame, 0) + y * GST_VIDEO_FRAME_PLANE_STRIDE (&frame, 0),
            info.width);
      gst_video_frame_unmap (&frame);
      g_hash_table_insert (f->frames, GINT_TO_POINTER (index),
          g_byte_array_free_to_bytes (rows));
    }
    gst_sample_unref (sample);
    index++;
  }
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (sink);
  gst_object_unref (p);
}

/* The mean absolute difference of frames @a and @b over rows [@y0, @y1). */
static gdouble
diff_rows (Frames * f, gint a, gint b, gdouble y0, gdouble y1)
{
  GBytes *fa = g_hash_table_lookup (f->frames, GINT_TO_POINTER (a));
  GBytes *fb = g_hash_table_lookup (f->frames, GINT_TO_POINTER (b));
  const guint8 *pa, *pb;
  gint from = (gint) (y0 * f->height), to = (gint) (y1 * f->height);
  guint64 sum = 0;

  g_assert_nonnull (fa);
  g_assert_nonnull (fb);
  pa = g_bytes_get_data (fa, NULL);
  pb = g_bytes_get_data (fb, NULL);
  for (gint i = from * f->width; i < to * f->width; i++)
    sum += ABS (pa[i] - pb[i]);
  return (gdouble) sum / MAX (1, (to - from) * f->width);
}

/* A case's files: its directory, store, joined clip and shot list. */
typedef struct
{
  gchar *dir, *cache, *out, *board;
} Case;

static void
case_init (Case * c, const gchar * name, const gchar * text)
{
  c->dir = g_build_filename (tmp_root, name, NULL);
  c->cache = g_build_filename (c->dir, "cache", NULL);
  c->out = g_build_filename (c->dir, "board.mp4", NULL);
  c->board = g_build_filename (c->dir, "board.txt", NULL);
  g_mkdir_with_parents (c->dir, 0700);
  g_assert_true (g_file_set_contents (c->board, text, -1, NULL));
}

static void
case_clear (Case * c)
{
  g_free (c->dir);
  g_free (c->cache);
  g_free (c->out);
  g_free (c->board);
}

/* --- preview ----------------------------------------------------------- */

static void
test_preview (void)
{
  Case c;
  g_autofree gchar *text = storyboard (TRUE);
  g_autofree gchar *desc = NULL;
  const gint per_shot = SHOT_SECONDS * FPS;
  const gint wanted[] = { per_shot / 2, per_shot + per_shot / 2,
    2 * per_shot - 1, 2 * per_shot, -1
  };
  Frames f;
  Run r = { 0, };
  gdouble seconds = 0;

  if (!have_media) {
    g_test_skip ("no media");
    return;
  }
  case_init (&c, "preview", text);
  desc = describe ("preview", NULL, c.board, c.cache, c.out);
  run_pipeline (desc, &r);
  g_assert_cmpstr (r.error, ==, NULL);

  /* one clip, the sum of the shots, decoded whole through the bin */
  g_assert_cmpuint (r.shot_locations, ==, 3);
  g_assert_cmphex (r.shot_phases, ==, 0x7);
  g_assert_nonnull (r.location);
  g_assert_true (wr2v_mp4_duration (c.out, &seconds, NULL));
  g_assert_cmpfloat_with_epsilon (seconds, 3.0 * SHOT_SECONDS, 0.05);
  assert_frames (&r, 3 * per_shot);

  /* Shots 1 and 2 share their seed and length: the same picture but for
   * the caption, at the bottom, which is each one's own prompt. */
  read_frames (c.out, wanted, &f);
  g_assert_cmpfloat (diff_rows (&f, wanted[0], wanted[1], 0.0, 0.6), <, 3.0);
  g_assert_cmpfloat (diff_rows (&f, wanted[0], wanted[1], 0.8, 1.0), >, 3.0);
  /* shot 3 begins with shot 2's last frame (the preview's "first frame"
   * label over its top, its own caption over the bottom) */
  g_assert_cmpfloat (diff_rows (&f, wanted[2], wanted[3], 0.2, 0.75), <, 4.0);
  g_assert_cmpfloat (diff_rows (&f, wanted[1], wanted[3], 0.2, 0.75), >,
      diff_rows (&f, wanted[2], wanted[3], 0.2, 0.75));
  frames_clear (&f);

  /* a second run: every shot from the store, the same clip */
  run_clear (&r);
  run_pipeline (desc, &r);
  g_assert_cmpstr (r.error, ==, NULL);
  assert_frames (&r, 3 * per_shot);
  run_clear (&r);
  case_clear (&c);
}

/* A bad shot list is refused at once, naming the shot and the field. */
static void
test_parse_errors (void)
{
  const gchar *bad[][2] = {
    {"shot, duration=2", "shot 1: it has no prompt"},
    {"shot, prompt=\"a\", continue=true", "shot 1: the first shot"},
    {"shot, prompt=a; shot, prompt=b, colour=red", "shot 2: unknown field"},
    {"take, prompt=a", "named \"shot\""},
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    GError *err = NULL;
    GPtrArray *shots = wr2v_storyboard_parse (bad[i][0], &err);

    g_assert_null (shots);
    g_assert_nonnull (err);
    if (!strstr (err->message, bad[i][1]))
      g_error ("\"%s\": %s", bad[i][0], err->message);
    g_clear_error (&err);
  }
}

/* --- hosted ------------------------------------------------------------ */

typedef struct
{
  const gchar *engine;
  const gchar *key_var;
  const gchar *key;
  gboolean first_frame;         /* takes one: the third shot continues */
  const gchar *extra;           /* more properties */
} Hosted;

static const Hosted hosted[] = {
  {"dashscope", "DASHSCOPE_API_KEY", "wr2v-board-DS-KEY-41c2", TRUE,
      "region=beijing"},
  {"wavespeed", "WAVESPEED_API_KEY", "wr2v-board-WS-KEY-5d10", FALSE},
  {"fal", "FAL_KEY", "wr2v-board-FAL-KEY-7a3e", FALSE},
  {"replicate", "REPLICATE_API_TOKEN", "wr2v-board-RP-KEY-0b9f", FALSE},
};

static JsonObject *
member_object (JsonObject * o, const gchar * name)
{
  return o && json_object_has_member (o, name) ?
      json_object_get_object_member (o, name) : NULL;
}

/* The continuing shot's create on DashScope: the one with a first_frame,
 * the object its PNG was uploaded as (named by its sha256). */
static void
assert_first_frame_sent (Wr2vFakeServer * s, const gchar * served)
{
  g_autofree gchar *png = g_build_filename (tmp_root, "last.png", NULL);
  g_autofree gchar *sha = NULL;
  g_autofree gchar *tail = NULL;
  JsonNode *stats = wr2v_fake_server_stats (s);
  JsonArray *creates = json_object_get_array_member (json_node_get_object
      (stats), "creates");
  guint found = 0;

  g_assert_true (wr2v_clip_last_frame (served, png, NULL, NULL));
  sha = wr2v_file_sha256 (png, NULL);
  tail = g_strdup_printf ("/%s.png", sha);
  for (guint i = 0; i < json_array_get_length (creates); i++) {
    JsonObject *input = member_object (member_object
        (json_array_get_object_element (creates, i), "body"), "input");
    JsonArray *media = input ? json_object_get_array_member (input, "media")
        : NULL;

    for (guint j = 0; media && j < json_array_get_length (media); j++) {
      JsonObject *item = json_array_get_object_element (media, j);

      if (g_strcmp0 (json_object_get_string_member (item, "type"),
              "first_frame"))
        continue;
      found++;
      g_assert_true (g_str_has_suffix (json_object_get_string_member (item,
                  "url"), tail));
    }
  }
  g_assert_cmpuint (found, ==, 1);
  json_node_unref (stats);
}

/* @h's fake serving a clip of HOSTED_SECONDS (c->dir/served.mp4), its
 * jobs done after @job_seconds (NULL: after a few polls), and its key in
 * the environment. */
static Wr2vFakeServer *
start_fake (const Hosted * h, Case * c, const gchar * job_seconds)
{
  g_autofree gchar *served = g_build_filename (c->dir, "served.mp4", NULL);
  const gchar *args[] = { "--api-key", h->key, "--result-mp4", served,
    job_seconds ? "--job-seconds" : NULL, job_seconds, NULL
  };

  g_assert_true (wr2v_test_make_clip (served, HOSTED_SECONDS * FPS, 256, 144,
          FPS));
  g_setenv (h->key_var, h->key, TRUE);
  return wr2v_fake_server_startv (wr2v_fake_service (h->engine)->script, args);
}

static void
stop_fake (const Hosted * h, Wr2vFakeServer * s)
{
  g_unsetenv (h->key_var);
  wr2v_fake_server_stop (s);
}

static void
test_hosted (gconstpointer data)
{
  const Hosted *h = data;
  const Wr2vFakeService *service = wr2v_fake_service (h->engine);
  Case c;
  g_autofree gchar *served = NULL;
  g_autofree gchar *text = storyboard_of (h->first_frame, HOSTED_SECONDS);
  g_autofree gchar *desc = NULL, *api_url = NULL;
  Wr2vFakeServer *s;
  Run r = { 0, };
  gdouble seconds = 0;

  if (!have_media) {
    g_test_skip ("no media");
    return;
  }
  case_init (&c, h->engine, text);
  served = g_build_filename (c.dir, "served.mp4", NULL);
  s = start_fake (h, &c, NULL);
  api_url = g_strdup_printf ("%s %s", s->base, h->extra ? h->extra : "");
  desc = describe (h->engine, api_url, c.board, c.cache, c.out);
  run_pipeline (desc, &r);
  g_assert_cmpstr (r.error, ==, NULL);
  g_assert_cmpint (wr2v_fake_server_count (s, service->submit_route), ==, 3);
  g_assert_true (wr2v_mp4_duration (c.out, &seconds, NULL));
  g_assert_cmpfloat_with_epsilon (seconds, 3.0 * HOSTED_SECONDS, 0.05);
  assert_frames (&r, 3 * HOSTED_SECONDS * FPS);
  /* priced: the whole storyboard, three shots */
  if (r.cost >= 0)
    g_assert_cmpfloat (r.cost, >, 0.0);
  if (h->first_frame)
    assert_first_frame_sent (s, served);
  run_clear (&r);

  /* a continuing shot on an engine that takes no first frame: refused
   * before anything is sent */
  if (!h->first_frame) {
    g_autofree gchar *text2 = storyboard_of (TRUE, HOSTED_SECONDS);
    gint64 before = wr2v_fake_server_total_requests (s);

    g_assert_true (g_file_set_contents (c.board, text2, -1, NULL));
    run_pipeline (desc, &r);
    g_assert_nonnull (r.error);
    g_assert_nonnull (strstr (r.error, "first frame"));
    g_assert_cmpint (wr2v_fake_server_total_requests (s), ==, before);
    run_clear (&r);
  }
  stop_fake (h, s);
  case_clear (&c);
}

/* A stop while the shots' jobs run: prompt, and the next run resumes the
 * three submitted jobs, submitting none again. */
static void
test_stop_resume (void)
{
  const Hosted *h = &hosted[1];
  const Wr2vFakeService *service = wr2v_fake_service (h->engine);
  g_autofree gchar *text = storyboard_of (FALSE, HOSTED_SECONDS);
  g_autofree gchar *desc = NULL;
  GstElement *p;
  Wr2vFakeServer *s;
  Case c;
  Run r = { 0, };
  gint64 deadline, t0;

  if (!have_media) {
    g_test_skip ("no media");
    return;
  }
  case_init (&c, "stop", text);
  /* every job is done 5 s after its submit: the stop comes before */
  s = start_fake (h, &c, "5");
  desc = describe (h->engine, s->base, c.board, c.cache, c.out);
  p = gst_parse_launch (desc, NULL);
  gst_element_set_state (p, GST_STATE_PLAYING);
  deadline = g_get_monotonic_time () + WR2V_TEST_TIME (30 * G_USEC_PER_SEC);
  while (wr2v_fake_server_count (s, service->submit_route) < 3) {
    g_assert_cmpint (g_get_monotonic_time (), <, deadline);
    g_usleep (50 * 1000);
  }
  t0 = g_get_monotonic_time ();
  gst_element_set_state (p, GST_STATE_NULL);
  g_assert_cmpint (g_get_monotonic_time () - t0, <,
      WR2V_TEST_TIME (5 * G_USEC_PER_SEC));
  gst_object_unref (p);

  run_pipeline (desc, &r);
  g_assert_cmpstr (r.error, ==, NULL);
  g_assert_cmpint (wr2v_fake_server_count (s, service->submit_route), ==, 3);
  assert_frames (&r, 3 * HOSTED_SECONDS * FPS);
  run_clear (&r);
  stop_fake (h, s);
  case_clear (&c);
}

/* One shot's job fails: the error names the shot, the others stop; the
 * next run submits only that shot again. */
static void
test_one_fails (void)
{
  const Hosted *h = &hosted[1];
  const gchar *submit = wr2v_fake_service (h->engine)->submit_route;
  g_autofree gchar *text = storyboard_of (FALSE, HOSTED_SECONDS);
  g_autofree gchar *desc = NULL;
  Wr2vFakeServer *s;
  Case c;
  Run r = { 0, };

  if (!have_media) {
    g_test_skip ("no media");
    return;
  }
  case_init (&c, "one-fails", text);
  s = start_fake (h, &c, NULL);
  wr2v_fake_server_control (s, "{\"fault\": \"job-fail\", \"times\": 1}");
  desc = describe (h->engine, s->base, c.board, c.cache, c.out);
  run_pipeline (desc, &r);
  g_assert_nonnull (r.error);
  g_assert_true (g_str_has_prefix (r.error, "storyboard, shot "));
  g_assert_cmpint (wr2v_fake_server_count (s, submit), <=, 3);
  run_clear (&r);

  run_pipeline (desc, &r);
  g_assert_cmpstr (r.error, ==, NULL);
  g_assert_cmpint (wr2v_fake_server_count (s, submit), ==, 4);
  assert_frames (&r, 3 * HOSTED_SECONDS * FPS);
  run_clear (&r);
  stop_fake (h, s);
  case_clear (&c);
}

/* The estimate is the whole storyboard's (three times one shot's), and
 * max-cost covers all of it: refused before any request. */
static void
test_cost_cap (void)
{
  Case c;
  g_autofree gchar *text = storyboard (FALSE);
  g_autofree gchar *desc = NULL;
  g_autoptr (GPtrArray) shots = NULL;
  g_autoptr (Wr2vRequest) base = wr2v_request_new ();
  g_autoptr (Wr2vRequest) one = NULL;
  Wr2vEngineSettings settings = { 0, };
  Wr2vEngine *engine;
  gdouble total = -1, single;
  GError *err = NULL;
  Run r = { 0, };

  settings.api_key = (gchar *) "wr2v-board-cost-key";
  engine = wr2v_engine_new ("fal", &settings, &err);
  g_assert_no_error (err);
  wr2v_request_add_reference (base, wr2v_reference_new (WR2V_REF_VIDEO, 0));
  wr2v_request_number_references (base);
  shots = wr2v_storyboard_parse (text, &err);
  g_assert_no_error (err);
  g_assert_true (wr2v_storyboard_check (shots, base, engine, &total, &err));
  g_assert_no_error (err);
  one = wr2v_shot_request (g_ptr_array_index (shots, 0), 1, base, TRUE, &err);
  single = wr2v_engine_estimate_cost (engine, one);
  g_assert_cmpfloat (single, >, 0.0);
  g_assert_cmpfloat_with_epsilon (total, 3 * single, 1e-9);
  wr2v_engine_free (engine);

  if (!have_media) {
    g_test_skip ("no media");
    return;
  }
  case_init (&c, "cost", text);
  g_setenv ("FAL_KEY", "wr2v-board-cost-key", TRUE);
  /* nothing listens there: the run must stop before any request */
  desc = describe ("fal", "http://127.0.0.1:9 max-cost=0.01", c.board,
      c.cache, c.out);
  run_pipeline (desc, &r);
  g_assert_nonnull (r.error);
  g_assert_nonnull (strstr (r.error, "These 3 jobs are estimated"));
  run_clear (&r);
  g_unsetenv ("FAL_KEY");
  case_clear (&c);
}

/* WaveSpeed reads each shot's price at run time. The storyboard's
 * max-cost holds for the live prices too: each shot may spend its part
 * (its estimate over the storyboard's), so three shots at USD 1.20 each
 * are refused under max-cost=3.00 though each alone is below it, and
 * three at exactly their part (USD 1.00) all run. */
static void
run_priced (const gchar * price, Run * r, gint * submits)
{
  const Hosted *h = &hosted[1];
  g_autofree gchar *served = NULL;
  g_autofree gchar *text = storyboard_of (FALSE, HOSTED_SECONDS);
  g_autofree gchar *api_url = NULL, *desc = NULL;
  Wr2vFakeServer *s;
  Case c;

  g_assert_cmpstr (h->engine, ==, "wavespeed");
  case_init (&c, "priced", text);
  served = g_build_filename (c.dir, "served.mp4", NULL);
  g_assert_true (wr2v_test_make_clip (served, HOSTED_SECONDS * FPS, 256, 144,
          FPS));
  g_setenv (h->key_var, h->key, TRUE);
  s = wr2v_fake_server_start (wr2v_fake_service (h->engine)->script,
      "--api-key", h->key, "--result-mp4", served, "--price", price, NULL);
  api_url = g_strdup_printf ("%s max-cost=3.00", s->base);
  desc = describe (h->engine, api_url, c.board, c.cache, c.out);
  run_pipeline (desc, r);
  *submits =
      wr2v_fake_server_count (s, wr2v_fake_service (h->engine)->submit_route);
  stop_fake (h, s);
  case_clear (&c);
}

static void
test_live_price_share (void)
{
  Run r = { 0, };
  gint submits = -1;

  if (!have_media) {
    g_test_skip ("no media");
    return;
  }
  run_priced ("1.20", &r, &submits);
  g_assert_nonnull (r.error);
  g_assert_nonnull (strstr (r.error, "priced at USD 1.20 by WaveSpeed, "
          "above its share of max-cost (USD 1.00 of 3.00"));
  g_assert_cmpint (submits, ==, 0);
  run_clear (&r);

  run_priced ("1.00", &r, &submits);
  g_assert_cmpstr (r.error, ==, NULL);
  g_assert_cmpint (submits, ==, 3);
  run_clear (&r);
}

/* --- variants ---------------------------------------------------------- */

/* variants with a storyboard: refused at PAUSED, the error naming both
 * properties and what to do. */
static void
test_variants_with_storyboard (void)
{
  Case c;
  g_autofree gchar *text = storyboard (FALSE);
  g_autofree gchar *desc = NULL;
  Run r = { 0, };

  if (!have_media) {
    g_test_skip ("no media");
    return;
  }
  case_init (&c, "variants-storyboard", text);
  desc = describe ("preview variants=2", NULL, c.board, c.cache, c.out);
  run_pipeline (desc, &r);
  g_assert_nonnull (r.error);
  g_assert_nonnull (strstr (r.error, "The variants property (2) and the "
          "storyboard property cannot be combined: set variants to 1"));
  g_assert_nonnull (strstr (r.error, "or unset storyboard"));
  run_clear (&r);
  case_clear (&c);
}

static const gchar *
take_string (const GstStructure * s, const gchar * field, guint i)
{
  return g_value_get_string (gst_value_array_get_value
      (gst_structure_get_value (s, field), i));
}

static gint64
take_seed (const GstStructure * s, guint i)
{
  return g_value_get_int64 (gst_value_array_get_value
      (gst_structure_get_value (s, "take-seeds"), i));
}

static gchar *
variants_desc (const gchar * engine, const gchar * api_url, Case * c,
    gint seconds)
{
  return g_strdup_printf ("wanr2v name=w engine=%s %s%s variants=3 seed=40 "
      "duration=%d prompt=\"Video 1 waves\" cache-dir=\"%s\" "
      "result-location=\"%s\" poll-interval=50 request-timeout=%u "
      "! fakesink name=sink sync=false filesrc location=\"%s\" ! w.video_0",
      engine, api_url ? "api-url=" : "", api_url ? api_url : "", seconds,
      c->cache, c->out, WR2V_TEST_TIMEOUT_S (40), ref_clip);
}

/* variants=3 on preview: three different takes (seeds 40, 41, 42), each
 * stored, played one after the other, posted with their seeds. */
static void
test_variants_preview (void)
{
  const gint per_take = SHOT_SECONDS * FPS;
  const gint wanted[] = { per_take / 2, per_take + per_take / 2,
    2 * per_take + per_take / 2, -1
  };
  g_autofree gchar *desc = NULL, *tmp = NULL;
  Frames f;
  Case c;
  Run r = { 0, };
  gdouble seconds = 0;

  if (!have_media) {
    g_test_skip ("no media");
    return;
  }
  case_init (&c, "variants", "");
  /* the takes on their own pads too, next to the reel */
  desc = g_strdup_printf ("%s w.take_0 ! fakesink name=t0 sync=false "
      "w.take_1 ! fakesink name=t1 sync=false w.take_2 ! fakesink name=t2 "
      "sync=false", tmp = variants_desc ("preview", NULL, &c, SHOT_SECONDS));
  run_pipeline (desc, &r);
  g_assert_cmpstr (r.error, ==, NULL);
  g_assert_nonnull (r.variants);
  for (guint i = 0; i < 3; i++) {
    g_autofree gchar *sha = wr2v_file_sha256 (take_string (r.variants,
            "take-locations", i), NULL);

    g_assert_cmpint (take_seed (r.variants, i), ==, 40 + i);
    for (guint j = 0; j < i; j++) {
      g_autofree gchar *other = wr2v_file_sha256 (take_string (r.variants,
              "take-locations", j), NULL);

      g_assert_cmpstr (sha, !=, other);
    }
  }
  g_assert_true (wr2v_mp4_duration (c.out, &seconds, NULL));
  g_assert_cmpfloat_with_epsilon (seconds, 3.0 * SHOT_SECONDS, 0.05);
  assert_frames (&r, 3 * per_take);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpint (g_atomic_int_get (&r.take_frames[i]), ==, per_take);
  /* the takes differ in picture, not only in bytes */
  read_frames (c.out, wanted, &f);
  g_assert_cmpfloat (diff_rows (&f, wanted[0], wanted[1], 0.0, 0.8), >, 3.0);
  g_assert_cmpfloat (diff_rows (&f, wanted[1], wanted[2], 0.0, 0.8), >, 3.0);
  frames_clear (&f);
  run_clear (&r);
  case_clear (&c);
}

/* variants=3 on the fake WaveSpeed: three submits with three seeds, and
 * the estimate three times one take's. */
static void
test_variants_hosted (void)
{
  const Hosted *h = &hosted[1];
  const Wr2vFakeService *service = wr2v_fake_service (h->engine);
  g_autofree gchar *desc = NULL;
  g_autoptr (Wr2vRequest) one = wr2v_request_new ();
  Wr2vEngineSettings settings = { 0, };
  Wr2vEngine *engine;
  JsonNode *stats;
  JsonArray *submits;
  Wr2vFakeServer *s;
  Case c;
  Run r = { 0, };
  gint64 seeds[3];

  if (!have_media) {
    g_test_skip ("no media");
    return;
  }
  case_init (&c, "variants-hosted", "");
  s = start_fake (h, &c, NULL);
  desc = variants_desc (h->engine, s->base, &c, HOSTED_SECONDS);
  run_pipeline (desc, &r);
  g_assert_cmpstr (r.error, ==, NULL);
  g_assert_cmpint (wr2v_fake_server_count (s, service->submit_route), ==, 3);
  stats = wr2v_fake_server_stats (s);
  submits = json_object_get_array_member (json_node_get_object (stats),
      "submits");
  g_assert_cmpuint (json_array_get_length (submits), ==, 3);
  for (guint i = 0; i < 3; i++) {
    JsonObject *body = json_object_get_object_member
        (json_array_get_object_element (submits, i), "body");

    seeds[i] = json_object_get_int_member (body, "seed");
    for (guint j = 0; j < i; j++)
      g_assert_cmpint (seeds[i], !=, seeds[j]);
    g_assert_cmpint (seeds[i], >=, 40);
    g_assert_cmpint (seeds[i], <=, 42);
  }
  json_node_unref (stats);

  /* the estimate at PAUSED: three times one take's */
  settings.api_key = (gchar *) h->key;
  engine = wr2v_engine_new (h->engine, &settings, NULL);
  one->prompt = g_strdup ("Video 1 waves");
  one->duration = HOSTED_SECONDS;
  one->seed = 40;
  g_assert_cmpfloat (r.cost, >, 0.0);
  g_assert_cmpfloat_with_epsilon (r.cost, 3 * wr2v_engine_estimate_cost
      (engine, one), 1e-9);
  wr2v_engine_free (engine);
  run_clear (&r);
  stop_fake (h, s);
  case_clear (&c);
}

int
main (int argc, char **argv)
{
  GError *err = NULL;
  gint ret;

  g_test_init (&argc, &argv, NULL);
  gst_init (&argc, &argv);
  tmp_root = g_dir_make_tmp ("wr2v-storyboard-XXXXXX", &err);
  g_assert_no_error (err);
  ref_clip = g_build_filename (tmp_root, "ref.mp4", NULL);
  have_media = wr2v_test_make_clip (ref_clip, 30, 320, 240, FPS);

  g_test_add_func ("/storyboard/parse-errors", test_parse_errors);
  g_test_add_func ("/storyboard/preview", test_preview);
  for (guint i = 0; i < G_N_ELEMENTS (hosted); i++) {
    g_autofree gchar *name = g_strdup_printf ("/storyboard/%s",
        hosted[i].engine);

    g_test_add_data_func (name, &hosted[i], test_hosted);
  }
  g_test_add_func ("/storyboard/cost-cap", test_cost_cap);
  g_test_add_func ("/storyboard/stop-resume", test_stop_resume);
  g_test_add_func ("/storyboard/one-fails", test_one_fails);
  g_test_add_func ("/variants/preview", test_variants_preview);
  g_test_add_func ("/variants/with-storyboard", test_variants_with_storyboard);
  g_test_add_func ("/variants/wavespeed", test_variants_hosted);
  g_test_add_func ("/storyboard/live-price-share", test_live_price_share);
  ret = g_test_run ();
  wr2v_test_rm_rf (tmp_root);
  return ret;
}
