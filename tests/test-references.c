/* test-references.c: what arrives on a reference pad, as the file and the
 * identity of a request (issue 11, items 4, 5, 6, 8 and 9):
 *   - raw video of any size is encoded, never hangs (4x4, 1x1, 1x720,
 *     5000x10), and an encoder failure is an error, not a blocked thread;
 *   - interlaced raw video is deinterlaced;
 *   - files passed through are checked (truncated or audio-only MP4, empty
 *     file, an image that does not decode), with the user's names;
 *   - a raw reference's identity is its frames, whatever the timing; a job
 *     key stands for the references' contents;
 *   - work directories of dead runs are removed; the store can be pruned.
 * Every wait is bounded: a hang fails the test instead of blocking it.
 */
#include <string.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/time.h>
#include <unistd.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>
#include <gst/video/video.h>

#include "wr2v-engine.h"
#include "wr2v-error.h"
#include "wr2v-reference.h"
#include "wr2v-request.h"
#include "wr2v-sha256.h"
#include "wr2v-store.h"
#include "wr2v-test-pipeline.h"
#include "wr2v-test-time.h"

static gchar *tmp_root;         /* this test's TMPDIR */
static gchar *tmp_dir;

/* --- a raw reference through a writer, on a thread --------------------- */

typedef struct
{
  const gchar *caps;
  guint frames;
  gsize frame_size;             /* 0: the caps' size */
  guint max_sleep_us;           /* random pause between frames */
  guint32 seed;                 /* the frames' contents */
  /* out */
  Wr2vRefWriter *writer;
  Wr2vReference *ref;
  GError *error;
  gboolean done;
  GMutex lock;
  GCond cond;
} RawRun;

static GstBuffer *
noise_frame (gsize size, guint32 seed, guint index)
{
  GstBuffer *buf = gst_buffer_new_allocate (NULL, size, NULL);
  GstMapInfo map;
  guint32 x = seed * 2654435761u + index * 40503u + 1;

  gst_buffer_map (buf, &map, GST_MAP_WRITE);
  for (gsize i = 0; i < size; i++) {
    /* smooth gradients with some noise: x264 has work to do */
    x = x * 1103515245u + 12345u;
    map.data[i] = (guint8) ((i / 7 + index * 3) + ((x >> 16) & 15));
  }
  gst_buffer_unmap (buf, &map);
  return buf;
}

static gpointer
raw_run_thread (gpointer data)
{
  RawRun *r = data;
  g_autoptr (GstCaps) caps = gst_caps_from_string (r->caps);
  GstVideoInfo info;
  gboolean ok;
  GRand *rand = g_rand_new ();

  ok = wr2v_ref_writer_set_caps (r->writer, caps, &r->error);
  g_assert_true (gst_video_info_from_caps (&info, caps));
  for (guint i = 0; ok && i < r->frames; i++) {
    GstBuffer *buf = noise_frame (r->frame_size ? r->frame_size : info.size,
        r->seed, i);
    GstFlowReturn ret;

    GST_BUFFER_PTS (buf) = gst_util_uint64_scale (i, GST_SECOND, 25);
    GST_BUFFER_DURATION (buf) = GST_SECOND / 25;
    if (r->max_sleep_us)
      g_usleep (g_rand_int_range (rand, 0, r->max_sleep_us));
    ret = wr2v_ref_writer_push (r->writer, buf, &r->error);
    gst_buffer_unref (buf);
    if (ret != GST_FLOW_OK) {
      ok = ret == GST_FLOW_EOS;
      break;
    }
  }
  if (ok)
    wr2v_ref_writer_finish (r->writer, r->ref, NULL, &r->error);
  else if (!r->error)
    g_set_error_literal (&r->error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
        "push failed without an error");
  g_rand_free (rand);
  g_mutex_lock (&r->lock);
  r->done = TRUE;
  g_cond_broadcast (&r->cond);
  g_mutex_unlock (&r->lock);
  return NULL;
}

/* Runs @r to its end; fails the test when it takes over 30 s (a hang). */
static void
raw_run (RawRun * r, const gchar * file)
{
  g_autofree gchar *path = g_build_filename (tmp_dir, file, NULL);
  gint64 end = g_get_monotonic_time () + WR2V_TEST_TIME (30 * G_USEC_PER_SEC);
  GThread *thread;

  g_mutex_init (&r->lock);
  g_cond_init (&r->cond);
  r->writer = wr2v_ref_writer_new (WR2V_REF_VIDEO, path, 2 * GST_SECOND,
      1280, 720);
  r->ref = wr2v_reference_new (WR2V_REF_VIDEO, 0);
  r->ref->number = 1;
  thread = g_thread_new ("raw-run", raw_run_thread, r);
  g_mutex_lock (&r->lock);
  while (!r->done && g_cond_wait_until (&r->cond, &r->lock, end));
  g_mutex_unlock (&r->lock);
  if (!r->done) {
    /* unblock it so that the test ends, then fail */
    wr2v_ref_writer_abort (r->writer);
    g_thread_join (thread);
    g_error ("%s: the reference writer hung", r->caps);
  }
  g_thread_join (thread);
}

static void
raw_run_clear (RawRun * r)
{
  wr2v_ref_writer_free (r->writer);
  wr2v_reference_free (r->ref);
  g_clear_error (&r->error);
  g_mutex_clear (&r->lock);
  g_cond_clear (&r->cond);
}

static GstDiscovererVideoInfo *
discover_video (const gchar * path)
{
  g_autoptr (GstDiscoverer) dc = gst_discoverer_new (10 * GST_SECOND, NULL);
  g_autofree gchar *uri = gst_filename_to_uri (path, NULL);
  g_autoptr (GstDiscovererInfo) info = NULL;
  GList *videos;
  GstDiscovererVideoInfo *v;

  g_assert_nonnull (dc);
  info = gst_discoverer_discover_uri (dc, uri, NULL);
  g_assert_nonnull (info);
  videos = gst_discoverer_info_get_video_streams (info);
  g_assert_nonnull (videos);
  v = g_object_ref (videos->data);
  gst_discoverer_stream_info_list_free (videos);
  return v;
}

/* Item 4: sizes x264 refuses are scaled (with borders) into sizes it
 * takes; before, the encoder failed to negotiate and the blocking appsrc
 * held the pad's thread forever. */
static void
test_tiny_sizes (void)
{
  const gchar *sizes[] = { "4,height=4", "1,height=1", "1,height=720",
    "5000,height=10", "17,height=33"
  };

  for (guint i = 0; i < G_N_ELEMENTS (sizes); i++) {
    g_autofree gchar *caps = g_strdup_printf ("video/x-raw,format=I420,"
        "width=%s,framerate=25/1", sizes[i]);
    RawRun r = {.caps = caps,.frames = 20 };
    g_autoptr (GstDiscovererVideoInfo) v = NULL;

    raw_run (&r, "tiny.mp4");
    g_assert_no_error (r.error);
    g_assert_true (wr2v_clip_check (r.ref->path, NULL, NULL));
    v = discover_video (r.ref->path);
    g_assert_cmpuint (gst_discoverer_video_info_get_width (v), >=, 16);
    g_assert_cmpuint (gst_discoverer_video_info_get_height (v), >=, 16);
    g_assert_cmpuint (gst_discoverer_video_info_get_width (v), <=, 1280);
    g_assert_cmpuint (gst_discoverer_video_info_get_height (v), <=, 720);
    raw_run_clear (&r);
  }
}

/* Item 4: an encoder that fails (here: frames smaller than their caps say)
 * is an error naming the pad, quickly, with frames still coming. */
static void
test_encoder_failure_is_an_error (void)
{
  RawRun r = {.caps = "video/x-raw,format=I420,width=320,height=240,"
        "framerate=25/1",.frames = 40,.frame_size = 100
  };

  raw_run (&r, "video_3");
  g_assert_error (r.error, WR2V_ERROR, WR2V_ERROR_INTERNAL);
  g_assert_nonnull (strstr (r.error->message, "video_3"));
  g_assert_null (strstr (r.error->message, tmp_dir));
  raw_run_clear (&r);
}

/* Item 5: interlaced raw video comes out progressive (the preview's
 * compositor, among others, refuses interlaced frames). */
static void
test_interlaced (void)
{
  RawRun r = {.caps = "video/x-raw,format=I420,width=320,height=240,"
        "framerate=25/1,interlace-mode=interleaved",.frames = 25
  };
  g_autoptr (GstDiscovererVideoInfo) v = NULL;

  raw_run (&r, "interlaced.mp4");
  g_assert_no_error (r.error);
  v = discover_video (r.ref->path);
  g_assert_false (gst_discoverer_video_info_is_interlaced (v));
  raw_run_clear (&r);
}

/* Item 8: the same frames give the same identity whatever the timing of
 * their arrival and of the encoder's threads; other frames another. */
static void
test_raw_identity (void)
{
  const gchar *caps = "video/x-raw,format=I420,width=640,height=360,"
      "framerate=25/1";
  RawRun a = {.caps = caps,.frames = 50,.seed = 7 };
  RawRun b = {.caps = caps,.frames = 50,.seed = 7,.max_sleep_us = 20000 };
  RawRun c = {.caps = caps,.frames = 50,.seed = 8 };

  raw_run (&a, "a.mp4");
  raw_run (&b, "b.mp4");
  raw_run (&c, "c.mp4");
  g_assert_no_error (a.error);
  g_assert_no_error (b.error);
  g_assert_no_error (c.error);
  g_assert_cmpstr (a.ref->sha256, ==, b.ref->sha256);
  g_assert_cmpstr (a.ref->sha256, !=, c.ref->sha256);
  raw_run_clear (&a);
  raw_run_clear (&b);
  raw_run_clear (&c);
}

/* Item 8: with a job key, the references' contents leave the identity;
 * the parameters stay in it. */
static void
test_job_key_identity (void)
{
  g_autoptr (Wr2vRequest) a = wr2v_request_new ();
  g_autoptr (Wr2vRequest) b = wr2v_request_new ();
  g_autofree gchar *ha = NULL, *hb = NULL, *hc = NULL, *hd = NULL;
  Wr2vReference *ref;

  a->prompt = g_strdup ("Video 1 waves");
  b->prompt = g_strdup ("Video 1 waves");
  ref = wr2v_reference_new (WR2V_REF_VIDEO, 0);
  ref->sha256 = g_strdup_printf ("%064d", 1);
  wr2v_request_add_reference (a, ref);
  ref = wr2v_reference_new (WR2V_REF_VIDEO, 0);
  ref->sha256 = g_strdup_printf ("%064d", 2);
  wr2v_request_add_reference (b, ref);
  wr2v_request_number_references (a);
  wr2v_request_number_references (b);

  ha = wr2v_request_hash (a, "wavespeed:m");
  hb = wr2v_request_hash (b, "wavespeed:m");
  g_assert_cmpstr (ha, !=, hb);
  a->job_key = g_strdup ("take-42");
  b->job_key = g_strdup ("take-42");
  g_free (ha);
  g_free (hb);
  ha = wr2v_request_hash (a, "wavespeed:m");
  hb = wr2v_request_hash (b, "wavespeed:m");
  g_assert_cmpstr (ha, ==, hb);
  hc = wr2v_request_hash (a, "dashscope:m");
  g_assert_cmpstr (ha, !=, hc);
  g_free (b->prompt);
  b->prompt = g_strdup ("Video 1 runs");
  hd = wr2v_request_hash (b, "wavespeed:m");
  g_assert_cmpstr (ha, !=, hd);
}

/* --- files passed through (item 6) ------------------------------------- */

/* Passes @path's bytes through a writer as @caps, finishes it and returns
 * the error (NULL when the file is accepted). */
static GError *
pass_file (Wr2vRefKind kind, const gchar * path, const gchar * caps_str)
{
  g_autofree gchar *out = g_build_filename (tmp_dir,
      kind == WR2V_REF_VIDEO ? "video_2" : "image_1", NULL);
  Wr2vRefWriter *w = wr2v_ref_writer_new (kind, out, GST_CLOCK_TIME_NONE, 0,
      0);
  Wr2vReference *ref = wr2v_reference_new (kind, kind == WR2V_REF_VIDEO ?
      2 : 1);
  g_autoptr (GstCaps) caps = gst_caps_from_string (caps_str);
  GError *err = NULL;
  gchar *data = NULL;
  gsize len = 0;

  ref->number = 3;
  g_assert_true (g_file_get_contents (path, &data, &len, NULL));
  g_assert_true (wr2v_ref_writer_set_caps (w, caps, &err));
  if (len > 0) {
    GstBuffer *buf = gst_buffer_new_wrapped (data, len);

    g_assert_cmpint (wr2v_ref_writer_push (w, buf, &err), ==, GST_FLOW_OK);
    gst_buffer_unref (buf);
  } else {
    g_free (data);
  }
  wr2v_ref_writer_finish (w, ref, NULL, &err);
  wr2v_ref_writer_free (w);
  wr2v_reference_free (ref);
  return err;
}

static void
truncate_copy (const gchar * from, const gchar * to, gdouble fraction)
{
  gchar *data = NULL;
  gsize len = 0;

  g_assert_true (g_file_get_contents (from, &data, &len, NULL));
  g_assert_true (g_file_set_contents (to, data, (gssize) (len * fraction),
          NULL));
  g_free (data);
}

static void
assert_refused (GError * err, const gchar * what)
{
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST);
  g_test_message ("%s", err->message);
  g_assert_nonnull (strstr (err->message, what));
  g_assert_null (strstr (err->message, tmp_dir));
  g_error_free (err);
}

static void
test_broken_files (void)
{
  g_autofree gchar *good = g_build_filename (tmp_dir, "good.mp4", NULL);
  g_autofree gchar *faststart = g_build_filename (tmp_dir, "fs.mp4", NULL);
  g_autofree gchar *trunc = g_build_filename (tmp_dir, "trunc.mp4", NULL);
  g_autofree gchar *trunc2 = g_build_filename (tmp_dir, "trunc2.mp4", NULL);
  g_autofree gchar *audio = g_build_filename (tmp_dir, "audio.mp4", NULL);
  g_autofree gchar *empty = g_build_filename (tmp_dir, "empty.mp4", NULL);
  g_autofree gchar *jpeg = g_build_filename (tmp_dir, "good.jpg", NULL);
  g_autofree gchar *badjpeg = g_build_filename (tmp_dir, "bad.jpg", NULL);
  g_autofree gchar *desc = NULL;
  const gchar *mp4 = "video/quicktime";

  desc = g_strdup_printf ("videotestsrc num-buffers=30 ! video/x-raw,"
      "width=320,height=240 ! x264enc ! mp4mux ! filesink location=%s", good);
  wr2v_test_run_pipeline (desc);
  g_free (desc);
  desc = g_strdup_printf ("videotestsrc num-buffers=30 ! video/x-raw,"
      "width=320,height=240 ! x264enc ! mp4mux faststart=true ! "
      "filesink location=%s", faststart);
  wr2v_test_run_pipeline (desc);
  g_free (desc);
  desc = g_strdup_printf ("audiotestsrc num-buffers=20 ! lamemp3enc ! "
      "mp4mux ! filesink location=%s", audio);
  wr2v_test_run_pipeline (desc);
  g_free (desc);
  desc = g_strdup_printf ("videotestsrc num-buffers=1 ! jpegenc ! "
      "filesink location=%s", jpeg);
  wr2v_test_run_pipeline (desc);
  truncate_copy (good, trunc, 0.6);
  truncate_copy (faststart, trunc2, 0.6);
  {
    /* a JPEG's signature, then noise */
    guint8 bad[2000];

    memset (bad, 0x55, sizeof bad);
    memcpy (bad, "\xff\xd8\xff\xe0", 4);
    g_assert_true (g_file_set_contents (badjpeg, (gchar *) bad, sizeof bad,
            NULL));
  }
  g_assert_true (g_file_set_contents (empty, "", 0, NULL));

  g_assert_no_error (pass_file (WR2V_REF_VIDEO, good, mp4));
  g_assert_no_error (pass_file (WR2V_REF_VIDEO, faststart, mp4));
  g_assert_no_error (pass_file (WR2V_REF_IMAGE, jpeg, "image/jpeg"));
  assert_refused (pass_file (WR2V_REF_VIDEO, trunc, mp4),
      "Video 3 (pad video_2)");
  assert_refused (pass_file (WR2V_REF_VIDEO, trunc2, mp4), "video_2");
  assert_refused (pass_file (WR2V_REF_VIDEO, audio, mp4), "video_2");
  assert_refused (pass_file (WR2V_REF_VIDEO, empty, mp4), "video_2");
  assert_refused (pass_file (WR2V_REF_IMAGE, badjpeg, "image/jpeg"),
      "Image 3 (pad image_1)");
}

/* An empty file on a pad makes no writer at all (no caps, no buffer):
 * finish(NULL) names the reference instead of a later "only a URL". */
static void
test_nothing_arrived (void)
{
  Wr2vReference *ref = wr2v_reference_new (WR2V_REF_VIDEO, 1);
  GError *err = NULL;

  ref->number = 2;
  g_assert_false (wr2v_ref_writer_finish (NULL, ref, NULL, &err));
  assert_refused (g_steal_pointer (&err), "Video 2 (pad video_1)");
  ref->uri = g_strdup ("https://example.com/v.mp4");
  g_assert_true (wr2v_ref_writer_finish (NULL, ref, NULL, &err));
  g_assert_no_error (err);
  wr2v_reference_free (ref);
}

/* The user's file is named, found upstream with a URI query. */
static void
test_user_file_named (void)
{
  g_autofree gchar *trunc = g_build_filename (tmp_dir, "named.mp4", NULL);
  g_autofree gchar *good = g_build_filename (tmp_dir, "good2.mp4", NULL);
  g_autofree gchar *desc = g_strdup_printf ("videotestsrc num-buffers=30 ! "
      "video/x-raw,width=320,height=240 ! x264enc ! mp4mux ! "
      "filesink location=%s", good);
  g_autofree gchar *out = g_build_filename (tmp_dir, "video_0", NULL);
  GstElement *src = gst_element_factory_make ("filesrc", NULL);
  GstPad *srcpad, *pad = gst_pad_new ("video_0", GST_PAD_SINK);
  Wr2vRefWriter *w = wr2v_ref_writer_new (WR2V_REF_VIDEO, out,
      GST_CLOCK_TIME_NONE, 0, 0);
  Wr2vReference *ref = wr2v_reference_new (WR2V_REF_VIDEO, 0);
  g_autoptr (GstCaps) caps = gst_caps_from_string ("video/quicktime");
  GError *err = NULL;
  gchar *data = NULL;
  gsize len;

  wr2v_test_run_pipeline (desc);
  truncate_copy (good, trunc, 0.5);
  g_object_set (src, "location", trunc, NULL);
  srcpad = gst_element_get_static_pad (src, "src");
  g_assert_cmpint (gst_pad_link (srcpad, pad), ==, GST_PAD_LINK_OK);
  wr2v_ref_writer_set_pad (w, pad);
  ref->number = 1;
  g_assert_true (wr2v_ref_writer_set_caps (w, caps, &err));
  g_assert_true (g_file_get_contents (trunc, &data, &len, NULL));
  wr2v_ref_writer_push (w, gst_buffer_new_wrapped (data, len), &err);
  g_assert_false (wr2v_ref_writer_finish (w, ref, NULL, &err));
  g_assert_nonnull (strstr (err->message, "Video 1 (pad video_0, "));
  g_assert_nonnull (strstr (err->message, trunc));
  g_clear_error (&err);
  wr2v_ref_writer_free (w);
  wr2v_reference_free (ref);
  gst_object_unref (srcpad);
  gst_object_unref (pad);
  gst_object_unref (src);
}

/* --- the element, with the pipelines --------------------------- */

/* Plays @desc (a wanr2v named g on the preview engine) to its end, within
 * 60 s: a hang fails. Returns the error message, or NULL at EOS. */
static gchar *
play_element (const gchar * desc)
{
  g_autofree gchar *cache = g_build_filename (tmp_dir, "element-cache", NULL);
  g_autofree gchar *full = g_strdup_printf ("wanr2v name=g engine=preview "
      "duration=1 cache-dir=\"%s\" prompt=\"Video 1 waves\" ! fakesink %s",
      cache, desc);
  GError *err = NULL;
  GstElement *p = gst_parse_launch (full, &err);
  GstBus *bus;
  GstMessage *msg;
  gchar *message = NULL;

  g_assert_no_error (err);
  bus = gst_element_get_bus (p);
  gst_element_set_state (p, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, WR2V_TEST_TIME (60 * GST_SECOND),
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  if (!msg)
    g_error ("%s: no end within 60 s", desc);
  if (GST_MESSAGE_TYPE (msg) == GST_MESSAGE_ERROR) {
    gst_message_parse_error (msg, &err, NULL);
    message = g_strdup (err->message);
    g_clear_error (&err);
  }
  gst_message_unref (msg);
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
  return message;
}

static void
test_element_odd_references (void)
{
  const gchar *pipelines[] = {
    /* item 4 */
    "videotestsrc num-buffers=30 ! video/x-raw,width=4,height=4 ! g.video_0",
    "videotestsrc num-buffers=30 ! video/x-raw,width=1,height=1 ! g.video_0",
    "videotestsrc num-buffers=30 ! video/x-raw,width=1,height=720 ! "
        "g.video_0",
    "videotestsrc num-buffers=30 ! video/x-raw,width=5000,height=10 ! "
        "g.video_0",
    /* item 5 */
    "videotestsrc num-buffers=30 ! video/x-raw,width=320,height=240,"
        "framerate=30/1 ! interlace ! g.video_0",
  };

  for (guint i = 0; i < G_N_ELEMENTS (pipelines); i++) {
    g_autofree gchar *error = play_element (pipelines[i]);

    if (error)
      g_error ("%s: %s", pipelines[i], error);
  }
}

/* Item 6 through the element: the file is refused before any job. */
static void
test_element_broken_file (void)
{
  g_autofree gchar *audio = g_build_filename (tmp_dir, "audio.mp4", NULL);
  g_autofree gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! "
      "g.video_0", audio);
  g_autofree gchar *error = NULL;

  g_assert_true (g_file_test (audio, G_FILE_TEST_IS_REGULAR));
  error = play_element (desc);
  g_assert_nonnull (error);
  g_test_message ("%s", error);
  g_assert_nonnull (strstr (error, "Video 1 (pad video_0"));
  g_assert_nonnull (strstr (error, "not a usable video"));
  g_assert_null (strstr (error, "wanr2v-"));
}

/* --- work directories (item 9) ----------------------------------------- */

static void
set_age (const gchar * path, gint64 age_s)
{
  struct timeval tv[2] = { {0}, {0} };

  tv[0].tv_sec = tv[1].tv_sec = g_get_real_time () / G_USEC_PER_SEC - age_s;
  g_assert_cmpint (utimes (path, tv), ==, 0);
}

/* A folder in $TMPDIR holding @file, last changed @age_s seconds ago. */
static void
make_dir_aged (const gchar * name, const gchar * file, gint64 age_s)
{
  g_autofree gchar *dir = g_build_filename (g_get_tmp_dir (), name, NULL);
  g_autofree gchar *path = g_build_filename (dir, file, NULL);

  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  g_assert_true (g_file_set_contents (path, "", -1, NULL));
  set_age (dir, age_s);
}

static void
test_work_dirs (void)
{
  g_autofree gchar *dead = g_build_filename (g_get_tmp_dir (),
      "wanr2v-dead01", NULL);
  g_autofree gchar *dead_ref = g_build_filename (dead, "video_0", NULL);
  g_autofree gchar *old = g_build_filename (g_get_tmp_dir (),
      "wanr2v-old001", NULL);
  g_autofree gchar *user = g_build_filename (g_get_tmp_dir (),
      "wanr2v-backup", NULL);
  g_autofree gchar *young = g_build_filename (g_get_tmp_dir (),
      "wanr2v-new001", NULL);
  g_autofree gchar *other = NULL;
  g_autofree gchar *mine = NULL;
  g_autofree gchar *mine_ref = NULL;
  GError *err = NULL;

  /* a run that died: its lock is held by nobody */
  make_dir_aged ("wanr2v-dead01", ".lock", 120);
  g_assert_true (g_file_set_contents (dead_ref, "frames", -1, NULL));
  set_age (dead, 120);
  /* an older version's, two days old: removed; a folder of the user's
   * with the same kind of name: kept */
  make_dir_aged ("wanr2v-old001", "video_1", 2 * 86400);
  make_dir_aged ("wanr2v-backup", "notes.txt", 2 * 86400);
  /* one just made, not locked yet: left alone */
  make_dir_aged ("wanr2v-new001", ".lock", 0);
  /* a run still going (another element in this process): kept */
  other = wr2v_work_dir_new (&err);
  g_assert_no_error (err);
  g_assert_false (g_file_test (dead, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (old, G_FILE_TEST_EXISTS));
  g_assert_true (g_file_test (user, G_FILE_TEST_IS_DIR));
  g_assert_true (g_file_test (young, G_FILE_TEST_IS_DIR));

  mine = wr2v_work_dir_new (&err);
  g_assert_no_error (err);
  g_assert_true (g_file_test (other, G_FILE_TEST_IS_DIR));
  g_assert_true (g_str_has_prefix (mine, tmp_root));
  mine_ref = g_build_filename (mine, "video_0", NULL);
  g_assert_true (g_file_set_contents (mine_ref, "frames", -1, NULL));
  wr2v_work_dir_remove (mine);
  g_assert_false (g_file_test (mine, G_FILE_TEST_EXISTS));
  wr2v_work_dir_remove (other);
  g_assert_false (g_file_test (other, G_FILE_TEST_EXISTS));
}

/* --- store pruning (item 9) -------------------------------------------- */

static void
put_result (Wr2vStore * store, guint i, gsize size, gint64 age_s)
{
  g_autofree gchar *hash = g_strdup_printf ("%064x", i + 1);
  g_autofree gchar *tmp = wr2v_store_new_temp (store, ".mp4", NULL);
  g_autofree gchar *data = g_malloc0 (size);
  g_autofree gchar *path = NULL;
  Wr2vResultMeta meta = {.engine = (gchar *) "preview" };

  g_assert_true (g_file_set_contents (tmp, data, size, NULL));
  path = wr2v_store_commit (store, hash, tmp, &meta, NULL);
  g_assert_nonnull (path);
  set_age (path, age_s);
}

static gboolean
has_result (Wr2vStore * store, guint i)
{
  g_autofree gchar *hash = g_strdup_printf ("%064x", i + 1);
  g_autofree gchar *path = wr2v_store_lookup (store, hash, NULL);

  return path != NULL;
}

static void
test_store_prune (void)
{
  g_autofree gchar *dir = g_build_filename (tmp_dir, "store", NULL);
  g_autoptr (Wr2vStore) store = wr2v_store_open (dir, NULL);
  Wr2vPruneStats stats;
  GError *err = NULL;

  g_assert_nonnull (store);
  put_result (store, 0, 1000, 10 * 86400);      /* old */
  put_result (store, 1, 1000, 3 * 86400);
  put_result (store, 2, 1000, 2 * 86400);
  put_result (store, 3, 1000, 60);      /* new */

  /* by age: older than 5 days */
  g_assert_true (wr2v_store_prune (store, 5 * 86400, 0, &stats, &err));
  g_assert_no_error (err);
  g_assert_cmpuint (stats.removed, ==, 1);
  g_assert_false (has_result (store, 0));
  g_assert_true (has_result (store, 1));

  /* by size: at most 2500 bytes of clips, oldest go first */
  g_assert_true (wr2v_store_prune (store, 0, 2500, &stats, &err));
  g_assert_cmpuint (stats.removed, ==, 1);
  g_assert_false (has_result (store, 1));
  g_assert_true (has_result (store, 2));
  g_assert_true (has_result (store, 3));
  g_assert_cmpuint (stats.kept_bytes, <=, 2500);
}

/* The frames' digest moved from GChecksum to libcrypto: the same SHA-256,
 * in the same hex, whatever the pieces it is fed in (keys stay valid). */
static void
test_sha256_same_as_glib (void)
{
  const gsize total = 3 * 1024 * 1024 + 17;
  g_autofree guchar *data = g_malloc (total);
  g_autoptr (GRand) rand = g_rand_new_with_seed (7);
  g_autoptr (Wr2vSha256) sum = wr2v_sha256_new ();
  g_autoptr (Wr2vSha256) empty = wr2v_sha256_new ();
  g_autofree gchar *expected = NULL;
  g_autofree gchar *expected_empty = NULL;
  gsize done = 0;

  for (gsize i = 0; i < total; i++)
    data[i] = g_rand_int (rand) & 0xff;
  while (done < total) {
    gsize piece = MIN (total - done, (gsize) g_rand_int_range (rand, 0, 70000));

    wr2v_sha256_update (sum, data + done, piece);
    done += piece;
  }
  expected = g_compute_checksum_for_data (G_CHECKSUM_SHA256, data, total);
  g_assert_cmpstr (wr2v_sha256_get_string (sum), ==, expected);
  /* asking twice gives the same answer */
  g_assert_cmpstr (wr2v_sha256_get_string (sum), ==, expected);
  expected_empty = g_compute_checksum_for_data (G_CHECKSUM_SHA256,
      (const guchar *) "", 0);
  g_assert_cmpstr (wr2v_sha256_get_string (empty), ==, expected_empty);
}

int
main (int argc, char **argv)
{
  int ret;

  /* work directories go to this test's own TMPDIR, set before anything
   * asks g_get_tmp_dir(), which keeps its first answer */
  tmp_root = g_build_filename (g_getenv ("TMPDIR") ? g_getenv ("TMPDIR") :
      "/tmp", "wr2v-test-refs-XXXXXX", NULL);
  g_assert_nonnull (g_mkdtemp (tmp_root));
  g_setenv ("TMPDIR", tmp_root, TRUE);
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  tmp_dir = g_build_filename (tmp_root, "files", NULL);
  g_mkdir (tmp_dir, 0700);

  g_test_add_func ("/references/tiny-sizes", test_tiny_sizes);
  g_test_add_func ("/references/encoder-failure",
      test_encoder_failure_is_an_error);
  g_test_add_func ("/references/interlaced", test_interlaced);
  g_test_add_func ("/references/raw-identity", test_raw_identity);
  g_test_add_func ("/references/sha256-same-as-glib", test_sha256_same_as_glib);
  g_test_add_func ("/references/job-key-identity", test_job_key_identity);
  g_test_add_func ("/references/broken-files", test_broken_files);
  g_test_add_func ("/references/nothing-arrived", test_nothing_arrived);
  g_test_add_func ("/references/user-file-named", test_user_file_named);
  g_test_add_func ("/references/element-odd-references",
      test_element_odd_references);
  /* after broken-files, which makes the audio-only MP4 */
  g_test_add_func ("/references/element-broken-file", test_element_broken_file);
  g_test_add_func ("/references/work-dirs", test_work_dirs);
  g_test_add_func ("/store/prune", test_store_prune);
  ret = g_test_run ();
  {
    g_autofree gchar *cmd = g_strdup_printf ("rm -rf '%s'", tmp_root);

    if (system (cmd) != 0)
      g_printerr ("could not remove %s\n", tmp_root);
  }
  return ret;
}
