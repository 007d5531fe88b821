/* test-audio.c: wanr2v's audio pad (issue 13).
 *
 * On the preview engine (its animatic has a soundtrack) and on the
 * hosted engines' fakes, each serving a clip with a soundtrack and one
 * without:
 *
 * - both pads decoded to fakesinks: EOS; the first video and audio
 *   timestamps are 0; each stream lasts the clip's duration, and the two
 *   end within a frame of each other (silence of the clip's length when
 *   the clip has no soundtrack);
 * - the audio pad left unlinked, as in every pipeline before it existed:
 *   EOS and the clip's frames, with and without a soundtrack;
 * - audio=off with the audio pad linked: EOS, no audio;
 * - the pipeline of the "Done when", `g. ! videoconvert ! x264enc
 *   ! mux. g.audio ! audioconvert ! avenc_aac ! mux. mp4mux ! filesink`:
 *   an MP4 with one video and one audio stream that lasts the clip's
 *   duration (GstDiscoverer), and each of its streams decoded lasts it.
 *
 * And the model's other inputs (issue 13; the "inputs" half, run as
 * test-audio-inputs): an image with role=first-frame, a reference's
 * voice-uri and shot-type reach the DashScope fake as documented (a
 * first_frame media item, reference_voice on the reference's item,
 * parameters.shot_type), and Replicate's fake as input.shot_type;
 * wavespeed, fal (and Replicate for voices and first frames) refuse each
 * before a single request; preview renders them. Voices from a file
 * (voice-location: wav and mp3 sent as they are, ogg encoded to wav, a
 * 12 s one refused) and from voice_%u pads (raw audio encoded to wav, an
 * mp3 stream as it is, paired by voice-pad) reach DashScope as uploaded
 * objects; a voice's bytes change the request's key; an endless voice
 * source ends after reference-duration.
 */
#include <string.h>
#include <glib/gstdio.h>
#include <gst/gst.h>
#include <gst/pbutils/pbutils.h>

#include "wr2v-fake-server.h"
#include "wr2v-test-util.h"

#define DURATION 5
#define FPS 30
#define FRAME (GST_SECOND / FPS)
#define BOTH_PADS "g. ! videoconvert ! fakesink name=vsink sync=false " \
  "g.audio ! audioconvert ! fakesink name=asink sync=false"
#define WAVESPEED_KEY "wr2v-audio-WS-KEY-51d0c2"
#define DASHSCOPE_KEY "wr2v-audio-DS-KEY-7e3a90"
#define FAL_KEY "wr2v-audio-FAL-KEY-20c4d8"
#define REPLICATE_KEY "wr2v-audio-REP-KEY-9b61f3"

typedef struct
{
  const gchar *engine;
  const gchar *script;          /* its fake, NULL: preview */
  const gchar *key_var;
  const gchar *key;
  const gchar *extra;           /* more properties for the engine */
} Engine;

static const Engine engines[] = {
  {"preview", NULL, NULL, NULL, ""},
  {"wavespeed", "fake-wavespeed.py", "WAVESPEED_API_KEY", WAVESPEED_KEY, ""},
  /* the fake stands for Beijing, where reference files may be uploaded */
  {"dashscope", "fake-dashscope.py", "DASHSCOPE_API_KEY", DASHSCOPE_KEY,
      " region=beijing"},
  {"fal", "fake-fal.py", "FAL_KEY", FAL_KEY, ""},
  {"replicate", "fake-replicate.py", "REPLICATE_API_TOKEN", REPLICATE_KEY,
      ""},
};

static gchar *tmp_root;
static gchar *reference;
static gchar *clip[2];          /* [0]: no soundtrack, [1]: with one */
/* voices of 3 s: sent as they are (wav, mp3), encoded (ogg); too long */
static gchar *voice_wav, *voice_mp3, *voice_ogg, *voice_long;
static guint runs;

/* What one sink saw. */
typedef struct
{
  guint buffers;
  GstClockTime first;           /* the first buffer's PTS */
  GstClockTime end;             /* the last buffer's PTS + duration */
} Stream;

static GstPadProbeReturn
on_buffer (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Stream *s = user_data;
  GstBuffer *buf = GST_PAD_PROBE_INFO_BUFFER (info);
  GstClockTime pts = GST_BUFFER_PTS (buf);

  if (!GST_CLOCK_TIME_IS_VALID (pts))
    return GST_PAD_PROBE_OK;
  if (s->buffers++ == 0)
    s->first = pts;
  if (GST_BUFFER_DURATION_IS_VALID (buf))
    pts += GST_BUFFER_DURATION (buf);
  s->end = MAX (s->end, pts);
  return GST_PAD_PROBE_OK;
}

static void
stream_reset (Stream * s)
{
  memset (s, 0, sizeof (*s));
  s->first = GST_CLOCK_TIME_NONE;
}

static void
watch_sink (GstElement * pipeline, const gchar * name, Stream * s)
{
  GstElement *sink = gst_bin_get_by_name (GST_BIN (pipeline), name);
  GstPad *pad;

  stream_reset (s);
  if (!sink)
    return;
  pad = gst_element_get_static_pad (sink, "sink");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_buffer, s, NULL);
  gst_object_unref (pad);
  gst_object_unref (sink);
}

/* Audio decoders made in the last run(): a soundtrack nobody takes must
 * not be decoded. */
static guint audio_decoders;

static void
on_deep_element_added (GstBin * bin, GstBin * sub, GstElement * element,
    gpointer data)
{
  GstElementFactory *f = gst_element_get_factory (element);
  const gchar *klass = f ? gst_element_factory_get_metadata (f,
      GST_ELEMENT_METADATA_KLASS) : NULL;

  if (klass && strstr (klass, "Decoder") && strstr (klass, "Audio"))
    g_atomic_int_inc (&audio_decoders);
}

/* Runs @desc to EOS; the sinks named "vsink" and "asink" are watched. */
static gboolean
run (const gchar * desc, Stream * video, Stream * audio)
{
  GError *err = NULL;
  GstElement *p = gst_parse_launch_full (desc, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, &err);
  gboolean ok;

  g_assert_no_error (err);
  watch_sink (p, "vsink", video);
  watch_sink (p, "asink", audio);
  g_atomic_int_set (&audio_decoders, 0);
  g_signal_connect (p, "deep-element-added",
      G_CALLBACK (on_deep_element_added), NULL);
  ok = wr2v_test_play_to_eos (p, 120 * GST_SECOND);
  gst_object_unref (p);
  g_test_message ("video: %u buffers %" GST_TIME_FORMAT "-%" GST_TIME_FORMAT
      ", audio: %u buffers %" GST_TIME_FORMAT "-%" GST_TIME_FORMAT,
      video->buffers, GST_TIME_ARGS (video->first),
      GST_TIME_ARGS (video->end), audio->buffers,
      GST_TIME_ARGS (audio->first), GST_TIME_ARGS (audio->end));
  return ok;
}

/* Within a frame of the clip's length, as a stream should end. */
static void
assert_lasts_clip (const Stream * s)
{
  g_assert_cmpuint (s->buffers, >, 0);
  g_assert_cmpuint (s->first, <, FRAME);
  g_assert_cmpuint (s->end, >=, DURATION * GST_SECOND - FRAME);
  g_assert_cmpuint (s->end, <=, DURATION * GST_SECOND + FRAME);
}

/* --- an engine and its fake ----------------------------------------------- */

typedef struct
{
  const Engine *engine;
  Wr2vFakeServer *server;
} Setup;

static void
setup_start (Setup * s, const Engine * e, gboolean soundtrack)
{
  s->engine = e;
  s->server = NULL;
  for (guint i = 0; i < G_N_ELEMENTS (engines); i++)
    if (engines[i].key_var)
      g_unsetenv (engines[i].key_var);
  if (!e->script)
    return;
  g_setenv (e->key_var, e->key, TRUE);
  s->server = wr2v_fake_server_start (e->script, "--api-key", e->key,
      "--result-mp4", clip[soundtrack], NULL);
}

static void
setup_stop (Setup * s)
{
  if (s->server)
    wr2v_fake_server_stop (s->server);
}

/* "wanr2v name=g <engine> <cache> <props> <outputs> <reference>", a fresh
 * cache each time so that every run asks its engine. */
static gchar *
describe (const Setup * s, const gchar * props, const gchar * outputs)
{
  g_autofree gchar *cache = g_strdup_printf ("%s/cache-%u", tmp_root,
      runs++);
  g_autofree gchar *url = s->server ?
      g_strdup_printf (" api-url=%s poll-interval=50", s->server->base) :
      g_strdup ("");

  return g_strdup_printf ("wanr2v name=g engine=%s%s%s cache-dir=\"%s\" "
      "duration=%d prompt=\"Video 1 waves\" %s %s filesrc location=\"%s\" "
      "! g.video_0", s->engine->engine, url, s->engine->extra, cache,
      DURATION, props, outputs, reference);
}

/* --- the tests -------------------------------------------------------------- */

/* --- first frame, voice, shot type ----------------------------------------- */

#define VOICE_URL "https://voices.example/alice.wav"
#define INPUTS "shot-type=multi video_0::voice-uri=" VOICE_URL \
  " image_0::role=first-frame"

/* "... ! fakesink" with a reference video (video_0) and a first-frame
 * image (image_0) */
static gchar *
describe_inputs (const Setup * s, const gchar * props)
{
  g_autofree gchar *image = g_build_filename (tmp_root, "first.png", NULL);
  g_autofree gchar *outputs = g_strdup_printf ("! fakesink name=vsink "
      "filesrc location=\"%s\" ! g.image_0", image);

  return describe (s, props, outputs);
}

static JsonObject *
member_obj (JsonObject * o, const gchar * name)
{
  JsonNode *n = o ? json_object_get_member (o, name) : NULL;

  return n && JSON_NODE_HOLDS_OBJECT (n) ? json_node_get_object (n) : NULL;
}

static void
test_inputs_dashscope (void)
{
  Setup s;
  g_autofree gchar *desc = NULL;
  g_autoptr (JsonNode) stats = NULL;
  JsonObject *body, *params;
  JsonArray *media;
  Stream v, a;

  setup_start (&s, &engines[2], TRUE);
  desc = describe_inputs (&s, INPUTS);
  g_assert_true (run (desc, &v, &a));
  stats = wr2v_fake_server_stats (s.server);
  body = member_obj (member_obj (json_node_get_object (stats), "last_create"),
      "body");
  g_assert_nonnull (body);
  params = member_obj (body, "parameters");
  g_assert_cmpstr (json_object_get_string_member (params, "shot_type"), ==,
      "multi");
  media = json_object_get_array_member (member_obj (body, "input"), "media");
  g_assert_cmpuint (json_array_get_length (media), ==, 2);
  /* the video with its voice, then the image as the first frame */
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element
          (media, 0), "type"), ==, "reference_video");
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element
          (media, 0), "reference_voice"), ==, VOICE_URL);
  g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element
          (media, 1), "type"), ==, "first_frame");
  g_assert_false (json_object_has_member (json_array_get_object_element
          (media, 1), "reference_voice"));
  setup_stop (&s);
}

/* Each input of @inputs (NULL-ended) on @e: refused, and not one
 * request reaches its fake. */
static void
assert_refused (const Engine * e, const gchar * const *inputs)
{
  for (guint i = 0; inputs[i]; i++) {
    Setup s;
    g_autofree gchar *desc = NULL;
    Stream v, a;

    setup_start (&s, e, TRUE);
    desc = describe_inputs (&s, inputs[i]);
    g_test_message ("%s with %s", e->engine, inputs[i]);
    g_assert_false (run (desc, &v, &a));
    g_assert_cmpuint (v.buffers, ==, 0);
    g_assert_cmpint (wr2v_fake_server_total_requests (s.server), ==, 0);
    setup_stop (&s);
  }
}

/* assert_refused() with a voice file on video_0 too */
static void
assert_refused_with_voice_file (const Engine * e, const gchar * const *inputs)
{
  g_autofree gchar *voice = g_strdup_printf ("video_0::voice-location=\"%s\"",
      voice_wav);
  const gchar *const with_file[] = { voice, NULL };

  assert_refused (e, inputs);
  assert_refused (e, with_file);
}

static const gchar *const voice_and_first_frame[] = {
  "video_0::voice-uri=" VOICE_URL, "image_0::role=first-frame", NULL
};

static const gchar *const all_inputs[] = { "shot-type=single",
  "video_0::voice-uri=" VOICE_URL, "image_0::role=first-frame", NULL
};

/* wavespeed and fal document none of them */
static void
test_inputs_refused (gconstpointer data)
{
  assert_refused_with_voice_file (data, all_inputs);
}

/* Replicate documents shot_type, in "input"; no voice, no first frame */
static void
test_inputs_replicate (void)
{
  Setup s;
  g_autofree gchar *desc = NULL;
  g_autoptr (JsonNode) stats = NULL;
  JsonArray *submits;
  JsonObject *input;
  Stream v, a;

  setup_start (&s, &engines[4], TRUE);
  desc = describe_inputs (&s, "shot-type=multi");
  g_assert_true (run (desc, &v, &a));
  stats = wr2v_fake_server_stats (s.server);
  submits = json_object_get_array_member (json_node_get_object (stats),
      "submits");
  g_assert_cmpuint (json_array_get_length (submits), ==, 1);
  input = member_obj (member_obj (json_array_get_object_element (submits, 0),
          "body"), "input");
  g_assert_cmpstr (json_object_get_string_member (input, "shot_type"), ==,
      "multi");
  setup_stop (&s);
  assert_refused_with_voice_file (&engines[4], voice_and_first_frame);
}

/* A voice file on DashScope: checked, uploaded like a reference (the
 * temporary upload, as audio/wav or audio/mpeg: a wav or an mp3 as it is,
 * an ogg encoded to wav) and sent as the reference's reference_voice, an
 * oss:// URL the fake resolves to that upload. */
static void
check_voice_file (const gchar * file, const gchar * mime, gboolean as_is)
{
  Setup s;
  g_autofree gchar *props = g_strdup_printf ("video_0::voice-location=\"%s\"",
      file);
  g_autofree gchar *desc = NULL;
  g_autoptr (JsonNode) stats = NULL;
  JsonObject *root, *body, *item, *upload = NULL;
  JsonArray *uploads;
  const gchar *voice;
  GStatBuf st;
  Stream v, a;

  g_test_message ("voice %s", file);
  setup_start (&s, &engines[2], TRUE);
  desc = describe (&s, props, "! fakesink name=vsink");
  g_assert_true (run (desc, &v, &a));
  stats = wr2v_fake_server_stats (s.server);
  root = json_node_get_object (stats);
  body = member_obj (member_obj (root, "last_create"), "body");
  item = json_array_get_object_element (json_object_get_array_member
      (member_obj (body, "input"), "media"), 0);
  voice = json_object_get_string_member_with_default (item,
      "reference_voice", "");
  g_assert_true (g_str_has_prefix (voice, "oss://"));
  /* the voice's upload: its type, and its bytes as the user's file */
  uploads = json_object_get_array_member (root, "uploads");
  for (guint i = 0; i < json_array_get_length (uploads); i++) {
    JsonObject *u = json_array_get_object_element (uploads, i);

    if (g_str_has_prefix (json_object_get_string_member_with_default (u,
                "content_type", ""), "audio/"))
      upload = u;
  }
  g_assert_nonnull (upload);
  g_assert_cmpstr (json_object_get_string_member (upload, "content_type"),
      ==, mime);
  g_assert_cmpint (g_stat (file, &st), ==, 0);
  if (as_is)
    g_assert_cmpint (json_object_get_int_member (upload, "size"), ==,
        st.st_size);
  setup_stop (&s);
}

static void
test_voice_file_dashscope (void)
{
  g_autofree gchar *props = NULL;
  const gchar *refused[2] = { NULL, NULL };

  check_voice_file (voice_wav, "audio/wav", TRUE);
  check_voice_file (voice_mp3, "audio/mpeg", TRUE);
  check_voice_file (voice_ogg, "audio/wav", FALSE);
  /* too long: refused before a single request */
  props = g_strdup_printf ("video_0::voice-location=\"%s\"", voice_long);
  refused[0] = props;
  assert_refused (&engines[2], refused);
}

/* --- voice pads ----------------------------------------------------------- */

/* The voice of the @index-th media item of the last create, "" if none */
static const gchar *
sent_voice (JsonObject * root, guint index)
{
  JsonObject *body = member_obj (member_obj (root, "last_create"), "body");
  JsonArray *media = json_object_get_array_member (member_obj (body,
          "input"), "media");

  return json_object_get_string_member_with_default
      (json_array_get_object_element (media, index), "reference_voice", "");
}

/* The size of the upload of @mime, -1 if none */
static gint64
upload_size (JsonObject * root, const gchar * mime)
{
  JsonArray *uploads = json_object_get_array_member (root, "uploads");

  for (guint i = 0; i < json_array_get_length (uploads); i++) {
    JsonObject *u = json_array_get_object_element (uploads, i);

    if (!g_strcmp0 (json_object_get_string_member_with_default (u,
                "content_type", ""), mime))
      return json_object_get_int_member (u, "size");
  }
  return -1;
}

/* voice_0 from raw audio (encoded to wav) speaks for video_0, voice_1
 * from an mp3 file (as it is) for image_0 through its voice-pad: each
 * reaches DashScope as its item's reference_voice, an uploaded object. */
static void
test_voice_pads_dashscope (void)
{
  Setup s;
  g_autofree gchar *image = g_build_filename (tmp_root, "first.png", NULL);
  g_autofree gchar *outputs = g_strdup_printf ("! fakesink name=vsink "
      "filesrc location=\"%s\" ! g.image_0 audiotestsrc num-buffers=150 ! "
      "g.voice_0 filesrc location=\"%s\" ! g.voice_1", image, voice_mp3);
  g_autofree gchar *desc = NULL;
  g_autoptr (JsonNode) stats = NULL;
  JsonObject *root;
  GStatBuf st;
  Stream v, a;

  setup_start (&s, &engines[2], TRUE);
  desc = describe (&s, "image_0::voice-pad=voice_1", outputs);
  g_assert_true (run (desc, &v, &a));
  stats = wr2v_fake_server_stats (s.server);
  root = json_node_get_object (stats);
  g_assert_true (g_str_has_prefix (sent_voice (root, 0), "oss://"));
  g_assert_true (g_str_has_prefix (sent_voice (root, 1), "oss://"));
  g_assert_cmpstr (sent_voice (root, 0), !=, sent_voice (root, 1));
  g_assert_cmpint (upload_size (root, "audio/wav"), >, 0);
  g_assert_cmpint (g_stat (voice_mp3, &st), ==, 0);
  g_assert_cmpint (upload_size (root, "audio/mpeg"), ==, st.st_size);
  setup_stop (&s);
}

/* "wanr2v ... <voice branch>" on @s's engine with the cache @cache */
static gchar *
describe_voice (const Setup * s, const gchar * cache, const gchar * voice)
{
  return g_strdup_printf ("wanr2v name=g engine=%s api-url=%s "
      "poll-interval=50%s cache-dir=\"%s\" duration=%d prompt=\"Video 1 "
      "talks\" ! fakesink name=vsink filesrc location=\"%s\" ! g.video_0 "
      "%s ! g.voice_0", s->engine->engine, s->server->base, s->engine->extra,
      cache, DURATION, reference, voice);
}

/* A voice's bytes are in the request's identity: the same voice again is
 * served from the store, another one is a new job. */
static void
test_voice_identity (void)
{
  Setup s;
  g_autofree gchar *cache = g_strdup_printf ("%s/cache-voices", tmp_root);
  const gchar *voices[] = { "audiotestsrc num-buffers=150 freq=440",
    "audiotestsrc num-buffers=150 freq=440",
    "audiotestsrc num-buffers=150 freq=660"
  };
  const gint creates[] = { 1, 1, 2 };
  Stream v, a;

  setup_start (&s, &engines[2], TRUE);
  for (guint i = 0; i < G_N_ELEMENTS (voices); i++) {
    g_autofree gchar *desc = describe_voice (&s, cache, voices[i]);
    g_autoptr (JsonNode) stats = NULL;
    JsonArray *all;

    g_assert_true (run (desc, &v, &a));
    stats = wr2v_fake_server_stats (s.server);
    all = json_object_get_array_member (json_node_get_object (stats),
        "creates");
    g_assert_cmpint (json_array_get_length (all), ==, creates[i]);
  }
  setup_stop (&s);
}

/* A voice that never ends (a microphone) ends after reference-duration,
 * as a live reference does: the job starts and the clip plays to EOS.
 * (An endless source rather than is-live=true: a live source on a second
 * reference pad makes wanr2vgen's live output hit a GStreamer critical,
 * "parent->numsinkpads <= 1", with or without voices.) */
static void
test_voice_live (void)
{
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g engine=preview "
      "cache-dir=\"%s/cache-live\" duration=%d reference-duration=2 "
      "prompt=\"Video 1 talks\" ! fakesink name=vsink sync=false filesrc "
      "location=\"%s\" ! g.video_0 audiotestsrc ! g.voice_0",
      tmp_root, DURATION, reference);
  Stream v, a;

  g_assert_true (run (desc, &v, &a));
  g_assert_cmpuint (v.buffers, ==, DURATION * FPS);
}

/* The loudest half second of @mp4's soundtrack, in dB RMS (level). */
static gdouble
loudest_rms (const gchar * mp4)
{
  g_autofree gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! "
      "qtdemux name=d d.audio_0 ! decodebin ! audioconvert ! level "
      "interval=500000000 ! fakesink sync=false", mp4);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstBus *bus = gst_element_get_bus (p);
  gdouble loudest = -200.0;
  GstMessage *m;

  gst_element_set_state (p, GST_STATE_PLAYING);
  while ((m = gst_bus_timed_pop_filtered (bus, 30 * GST_SECOND,
              GST_MESSAGE_ELEMENT | GST_MESSAGE_EOS | GST_MESSAGE_ERROR))) {
    const GstStructure *s = gst_message_get_structure (m);
    gboolean end = GST_MESSAGE_TYPE (m) != GST_MESSAGE_ELEMENT;

    if (!end && gst_structure_has_name (s, "level")) {
      const GValueArray *rms = g_value_get_boxed (gst_structure_get_value (s,
              "rms"));

      loudest = MAX (loudest, g_value_get_double (rms->values));
    }
    gst_message_unref (m);
    if (end)
      break;
  }
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
  return loudest;
}

/* preview plays a voice over its soundtrack's bed (a quiet tone): with a
 * 3 s voice, the 5 s clip's sound is far louder, and both streams last
 * the clip. */
static void
test_voice_preview_bed (void)
{
  g_autofree gchar *plain = g_strdup_printf ("%s/bed.mp4", tmp_root);
  g_autofree gchar *voiced = g_strdup_printf ("%s/voiced.mp4", tmp_root);
  const gchar *outs[] = { plain, voiced };
  gdouble rms[2];
  Setup s;

  setup_start (&s, &engines[0], FALSE);
  for (guint i = 0; i < 2; i++) {
    g_autofree gchar *props = g_strdup_printf ("result-location=\"%s\" %s%s%s",
        outs[i], i ? "video_0::voice-location=\"" : "", i ? voice_wav : "",
        i ? "\"" : "");
    g_autofree gchar *desc = describe (&s, props, BOTH_PADS);
    Stream v, a;

    g_assert_true (run (desc, &v, &a));
    assert_lasts_clip (&v);
    assert_lasts_clip (&a);
    rms[i] = loudest_rms (outs[i]);
    g_test_message ("%s: loudest %.1f dB", outs[i], rms[i]);
  }
  g_assert_cmpfloat (rms[1], >, rms[0] + 6.0);
  setup_stop (&s);
}

/* Engines that take no voice refuse a voice pad before any request. */
static void
test_voice_pad_refused (void)
{
  for (guint e = 1; e < G_N_ELEMENTS (engines); e++) {
    Setup s;
    g_autofree gchar *desc = NULL;
    Stream v, a;

    if (e == 2)
      continue;                 /* dashscope takes voices */
    setup_start (&s, &engines[e], TRUE);
    desc = describe_voice (&s, tmp_root, "audiotestsrc num-buffers=150");
    g_test_message ("%s with a voice pad", engines[e].engine);
    g_assert_false (run (desc, &v, &a));
    g_assert_cmpint (wr2v_fake_server_total_requests (s.server), ==, 0);
    setup_stop (&s);
  }
}

/* preview takes a first frame and multi-shot (a voice it refuses): the
 * clip and its soundtrack as usual */
static void
test_inputs_preview (void)
{
  Setup s;
  g_autofree gchar *desc = NULL, *props = NULL;
  Stream v, a;

  setup_start (&s, &engines[0], TRUE);
  desc = describe_inputs (&s, "shot-type=multi image_0::role=first-frame");
  g_assert_true (run (desc, &v, &a));
  g_assert_cmpuint (v.buffers, ==, DURATION * FPS);
  g_clear_pointer (&desc, g_free);
  desc = describe_inputs (&s, "video_0::voice-uri=" VOICE_URL);
  g_assert_false (run (desc, &v, &a));
  /* a voice file it takes (checked and hashed like everywhere) */
  g_clear_pointer (&desc, g_free);
  props = g_strdup_printf ("video_0::voice-location=\"%s\"", voice_ogg);
  desc = describe_inputs (&s, props);
  g_assert_true (run (desc, &v, &a));
  g_assert_cmpuint (v.buffers, ==, DURATION * FPS);
  setup_stop (&s);
}

typedef void (*SetupCheck) (Setup * s, gint soundtrack);

/* @check on @e's fake serving each clip (preview: its own clip). */
static void
for_each_clip (const Engine * e, SetupCheck check)
{
  for (gint soundtrack = 0; soundtrack < (e->script ? 2 : 1); soundtrack++) {
    Setup s;

    setup_start (&s, e, soundtrack);
    g_test_message ("%s, %s soundtrack", e->engine, soundtrack ? "a" : "no");
    check (&s, soundtrack);
    setup_stop (&s);
  }
}

static void
check_both_pads (Setup * s, gint soundtrack)
{
  g_autofree gchar *desc = describe (s, "", BOTH_PADS);
  Stream v, a;

  g_assert_true (run (desc, &v, &a));
  assert_lasts_clip (&v);
  assert_lasts_clip (&a);
  /* preview's own clip always has a soundtrack */
  if (soundtrack || !s->engine->script)
    g_assert_cmpuint (audio_decoders, ==, 1);
  /* in sync: both start at 0 and end within a frame of each other */
  g_assert_cmpuint (ABS ((gint64) v.end - (gint64) a.end), <=, FRAME);
}

static void
test_both_pads (gconstpointer data)
{
  for_each_clip (data, check_both_pads);
}

static void
check_audio_unlinked (Setup * s, gint soundtrack)
{
  g_autofree gchar *desc = describe (s, "",
      "! videoconvert ! fakesink name=vsink");
  Stream v, a;

  g_assert_true (run (desc, &v, &a));
  g_assert_cmpuint (v.buffers, ==, DURATION * FPS);
  g_assert_cmpuint (a.buffers, ==, 0);
  /* nor decoded: decodebin3 was told to leave it */
  g_assert_cmpuint (audio_decoders, ==, 0);
}

static void
test_audio_unlinked (gconstpointer data)
{
  for_each_clip (data, check_audio_unlinked);
}

/* Duration and seeking on the audio pad, with and without a
 * soundtrack: at PAUSED the audio sink's duration query answers the
 * clip's length; a flushing seek to 2 s brings audio from 2 s, in step
 * with the video, to EOS. */
static void
check_seek (Setup * s, gint soundtrack)
{
  g_autofree gchar *desc = describe (s, "", BOTH_PADS);
  GstElement *p = gst_parse_launch (desc, NULL);
  GstElement *asink = gst_bin_get_by_name (GST_BIN (p), "asink");
  GstBus *bus = gst_element_get_bus (p);
  GstMessage *m;
  gint64 duration = -1;
  Stream v, a;

  watch_sink (p, "vsink", &v);
  watch_sink (p, "asink", &a);
  g_assert_cmpint (gst_element_set_state (p, GST_STATE_PAUSED), !=,
      GST_STATE_CHANGE_FAILURE);
  g_assert_cmpint (gst_element_get_state (p, NULL, NULL, 60 * GST_SECOND),
      ==, GST_STATE_CHANGE_SUCCESS);
  g_assert_true (gst_element_query_duration (asink, GST_FORMAT_TIME,
          &duration));
  g_assert_cmpint (ABS (duration - (gint64) DURATION * GST_SECOND), <=, FRAME);
  /* what came before the seek is forgotten (nothing flows in PAUSED) */
  stream_reset (&v);
  stream_reset (&a);
  g_assert_true (gst_element_seek_simple (p, GST_FORMAT_TIME,
          GST_SEEK_FLAG_FLUSH | GST_SEEK_FLAG_ACCURATE, 2 * GST_SECOND));
  g_assert_cmpint (gst_element_get_state (p, NULL, NULL, 60 * GST_SECOND),
      ==, GST_STATE_CHANGE_SUCCESS);
  gst_element_set_state (p, GST_STATE_PLAYING);
  m = gst_bus_timed_pop_filtered (bus, 60 * GST_SECOND,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  g_assert_nonnull (m);
  g_assert_cmpint (GST_MESSAGE_TYPE (m), ==, GST_MESSAGE_EOS);
  gst_message_unref (m);
  gst_element_set_state (p, GST_STATE_NULL);
  g_test_message ("after the seek: video %" GST_TIME_FORMAT "-%"
      GST_TIME_FORMAT ", audio %" GST_TIME_FORMAT "-%" GST_TIME_FORMAT,
      GST_TIME_ARGS (v.first), GST_TIME_ARGS (v.end),
      GST_TIME_ARGS (a.first), GST_TIME_ARGS (a.end));
  g_assert_cmpuint (a.buffers, >, 0);
  g_assert_cmpuint (ABS ((gint64) a.first - 2 * (gint64) GST_SECOND), <=,
      FRAME);
  g_assert_cmpuint (ABS ((gint64) a.end - (gint64) v.end), <=, FRAME);
  gst_object_unref (bus);
  gst_object_unref (asink);
  gst_object_unref (p);
}

static void
test_seek (gconstpointer data)
{
  for_each_clip (data, check_seek);
}

static void
test_audio_off (void)
{
  Setup s;
  g_autofree gchar *desc = NULL;
  Stream v, a;

  setup_start (&s, &engines[0], FALSE);
  desc = describe (&s, "audio=off", BOTH_PADS);
  g_assert_true (run (desc, &v, &a));
  assert_lasts_clip (&v);
  g_assert_cmpuint (a.buffers, ==, 0);
  g_assert_cmpuint (audio_decoders, ==, 0);
  setup_stop (&s);
}

/* The MP4 of the "Done when" pipeline: one video and one audio stream,
 * the clip's duration. */
static void
assert_mp4 (const gchar * path)
{
  g_autofree gchar *uri = gst_filename_to_uri (path, NULL);
  g_autofree gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! "
      "qtdemux name=d d.video_0 ! queue ! decodebin ! fakesink name=vsink "
      "sync=false d.audio_0 ! queue ! decodebin ! fakesink name=asink "
      "sync=false",
      path);
  GstDiscoverer *dc = gst_discoverer_new (30 * GST_SECOND, NULL);
  GstDiscovererInfo *info = gst_discoverer_discover_uri (dc, uri, NULL);
  GList *vs, *as;
  Stream v, a;

  g_assert_nonnull (info);
  g_assert_cmpint (gst_discoverer_info_get_result (info), ==,
      GST_DISCOVERER_OK);
  vs = gst_discoverer_info_get_video_streams (info);
  as = gst_discoverer_info_get_audio_streams (info);
  g_assert_cmpuint (g_list_length (vs), ==, 1);
  g_assert_cmpuint (g_list_length (as), ==, 1);
  g_test_message ("%s: %" GST_TIME_FORMAT, path,
      GST_TIME_ARGS (gst_discoverer_info_get_duration (info)));
  g_assert_cmpuint (gst_discoverer_info_get_duration (info), >=,
      DURATION * GST_SECOND - FRAME);
  g_assert_cmpuint (gst_discoverer_info_get_duration (info), <=,
      DURATION * GST_SECOND + FRAME);
  gst_discoverer_stream_info_list_free (vs);
  gst_discoverer_stream_info_list_free (as);
  gst_discoverer_info_unref (info);
  g_object_unref (dc);

  g_assert_true (run (desc, &v, &a));
  assert_lasts_clip (&v);
  assert_lasts_clip (&a);
}

static void
check_done_when (Setup * s, gint soundtrack)
{
  g_autofree gchar *out = g_strdup_printf ("%s/%s-%d.mp4", tmp_root,
      s->engine->engine, soundtrack);
  g_autofree gchar *outputs = g_strdup_printf ("g. ! videoconvert ! "
      "x264enc speed-preset=ultrafast ! mux. g.audio ! audioconvert ! "
      "avenc_aac ! mux. mp4mux name=mux ! filesink location=\"%s\"", out);
  g_autofree gchar *desc = describe (s, "", outputs);
  Stream v, a;

  g_assert_true (run (desc, &v, &a));
  assert_mp4 (out);
}

static void
test_done_when (gconstpointer data)
{
  for_each_clip (data, check_done_when);
}

/* @seconds of tone encoded by @encoder into @name in tmp_root */
static gchar *
make_voice (const gchar * name, guint seconds, const gchar * encoder)
{
  gchar *path = g_build_filename (tmp_root, name, NULL);
  g_autofree gchar *desc = g_strdup_printf ("audiotestsrc num-buffers=%u "
      "samplesperbuffer=4800 ! audio/x-raw,rate=48000,channels=1 ! "
      "audioconvert ! %s ! filesink location=\"%s\"", seconds * 10, encoder,
      path);

  g_assert_true (wr2v_test_run_to_eos (desc, 60 * GST_SECOND));
  return path;
}

int
main (int argc, char **argv)
{
  g_autofree gchar *name = NULL;
  gint ret;
  /* "audio" or "inputs" (meson runs each half as its own test, each
   * well under a minute); neither: both */
  const gchar *part;

  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);
  part = argc > 1 ? argv[1] : "";
  if (!gst_element_factory_find ("avenc_aac")) {
    g_print ("1..0 # SKIP avenc_aac (gstreamer1.0-libav) is not installed\n");
    return 0;
  }
  tmp_root = g_dir_make_tmp ("wr2v-audio-XXXXXX", NULL);
  reference = g_build_filename (tmp_root, "reference.mp4", NULL);
  clip[0] = g_build_filename (tmp_root, "silent.mp4", NULL);
  clip[1] = g_build_filename (tmp_root, "sound.mp4", NULL);
  g_assert_true (wr2v_test_make_clip (reference, 20, 320, 180, 10));
  g_assert_true (wr2v_test_make_clip_with_sound (clip[0], DURATION * FPS,
          320, 180, FPS, FALSE));
  g_assert_true (wr2v_test_make_clip_with_sound (clip[1], DURATION * FPS,
          320, 180, FPS, TRUE));
  name = g_strdup_printf ("videotestsrc num-buffers=1 pattern=pinwheel ! "
      "video/x-raw,width=256,height=144 ! pngenc ! filesink "
      "location=\"%s/first.png\"", tmp_root);
  g_assert_true (wr2v_test_run_to_eos (name, 60 * GST_SECOND));
  g_clear_pointer (&name, g_free);
  voice_wav = make_voice ("voice.wav", 3, "wavenc");
  voice_mp3 = make_voice ("voice.mp3", 3, "lamemp3enc");
  voice_ogg = make_voice ("voice.ogg", 3, "vorbisenc ! oggmux");
  voice_long = make_voice ("long.wav", 12, "wavenc");

  for (guint i = 0; i < G_N_ELEMENTS (engines) && !g_str_equal (part,
          "inputs"); i++) {
    name = g_strdup_printf ("/audio/%s/both-pads", engines[i].engine);
    g_test_add_data_func (name, &engines[i], test_both_pads);
    g_free (name);
    name = g_strdup_printf ("/audio/%s/unlinked", engines[i].engine);
    g_test_add_data_func (name, &engines[i], test_audio_unlinked);
    g_free (name);
    name = g_strdup_printf ("/audio/%s/seek", engines[i].engine);
    g_test_add_data_func (name, &engines[i], test_seek);
    g_free (name);
    name = g_strdup_printf ("/audio/%s/done-when", engines[i].engine);
    g_test_add_data_func (name, &engines[i], test_done_when);
    g_clear_pointer (&name, g_free);
  }
  if (!g_str_equal (part, "inputs"))
    g_test_add_func ("/audio/preview/off", test_audio_off);
  if (g_str_equal (part, "audio"))
    goto run;
  g_test_add_func ("/inputs/dashscope/fields", test_inputs_dashscope);
  g_test_add_data_func ("/inputs/wavespeed/refused", &engines[1],
      test_inputs_refused);
  g_test_add_data_func ("/inputs/fal/refused", &engines[3],
      test_inputs_refused);
  g_test_add_func ("/inputs/replicate", test_inputs_replicate);
  g_test_add_func ("/inputs/dashscope/voice-file", test_voice_file_dashscope);
  g_test_add_func ("/voices/dashscope/pads", test_voice_pads_dashscope);
  g_test_add_func ("/voices/dashscope/identity", test_voice_identity);
  g_test_add_func ("/voices/preview/live", test_voice_live);
  g_test_add_func ("/voices/preview/bed", test_voice_preview_bed);
  g_test_add_func ("/voices/refused", test_voice_pad_refused);
  g_test_add_func ("/inputs/preview", test_inputs_preview);

run:
  ret = g_test_run ();
  wr2v_test_rm_rf (tmp_root);
  return ret;
}
