/* wr2v-voice.c: a reference's voice from the user's file (see
 * wr2v-voice.h).
 */
#include "config.h"

#include <string.h>

#include <gst/pbutils/pbutils.h>

#include "wr2v-error.h"
#include "wr2v-voice.h"

GST_DEBUG_CATEGORY_STATIC (wr2v_voice_debug);
#define GST_CAT_DEFAULT wr2v_voice_debug

#define PROBE_TIMEOUT (10 * GST_SECOND)
#define ENCODE_TIMEOUT (60 * GST_SECOND)

static void
ensure_debug (void)
{
  static gsize once;

  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (wr2v_voice_debug, "wanr2vvoice", 0,
        "wanr2v reference voices");
    g_once_init_leave (&once, 1);
  }
}

gchar *
wr2v_voice_name (const Wr2vReference * ref, const gchar * file)
{
  const gchar *word = wr2v_ref_kind_word (ref->kind);
  const gchar *pad = ref->kind == WR2V_REF_VIDEO ? "video" : "image";

  if (file)
    return g_strdup_printf ("The voice of %s %u (pad %s_%u, %s)", word,
        ref->number, pad, ref->pad_index, file);
  return g_strdup_printf ("The voice of %s %u (pad %s_%u)", word,
      ref->number, pad, ref->pad_index);
}

const gchar *
wr2v_voice_ext_for_mime (const gchar * mime)
{
  return g_strcmp0 (mime, "audio/mpeg") == 0 ? "mp3" : "wav";
}

/* What a file holds, as far as a voice goes. */
typedef struct
{
  GstClockTime duration;
  gboolean sound;               /* an audio stream */
  const gchar *mime;            /* "audio/wav", "audio/mpeg"; NULL: encode */
} VoiceProbe;

/* The mime type of a file the model takes as it is: a PCM wav, or an
 * mp3 (ID3 or APE tags around it), with no other stream. */
static const gchar *
fit_mime (GstDiscovererInfo * info, GstDiscovererStreamInfo * audio)
{
  GstDiscovererStreamInfo *top = gst_discoverer_info_get_stream_info (info);
  GstCaps *top_caps = top ? gst_discoverer_stream_info_get_caps (top) : NULL;
  GstCaps *caps = gst_discoverer_stream_info_get_caps (audio);
  GstStructure *s = caps ? gst_caps_get_structure (caps, 0) : NULL;
  const gchar *top_name = top_caps ?
      gst_structure_get_name (gst_caps_get_structure (top_caps, 0)) : "";
  const gchar *mime = NULL;
  gint version = 0, layer = 0;

  /* a PCM wav: the discoverer names its stream by the container (another
   * codec in a wav has its own caps) */
  if (s && (gst_structure_has_name (s, "audio/x-wav") ||
          (gst_structure_has_name (s, "audio/x-raw") &&
              g_str_equal (top_name, "audio/x-wav"))))
    mime = "audio/wav";
  if (s && gst_structure_has_name (s, "audio/mpeg") &&
      gst_structure_get_int (s, "mpegversion", &version) && version == 1 &&
      gst_structure_get_int (s, "layer", &layer) && layer == 3 &&
      (g_str_equal (top_name, "audio/mpeg") ||
          g_str_equal (top_name, "application/x-id3") ||
          g_str_equal (top_name, "application/x-apetag")))
    mime = "audio/mpeg";
  gst_clear_caps (&caps);
  gst_clear_caps (&top_caps);
  gst_clear_object (&top);
  return mime;
}

/* FALSE with *why when GStreamer can't read @path. */
static gboolean
probe (const gchar * path, VoiceProbe * out, gchar ** why)
{
  g_autofree gchar *uri = gst_filename_to_uri (path, NULL);
  GstDiscoverer *dc = uri ? gst_discoverer_new (PROBE_TIMEOUT, NULL) : NULL;
  GstDiscovererInfo *info = NULL;
  GError *err = NULL;
  GList *audio = NULL, *video = NULL;

  memset (out, 0, sizeof *out);
  if (dc)
    info = gst_discoverer_discover_uri (dc, uri, &err);
  if (!info || gst_discoverer_info_get_result (info) != GST_DISCOVERER_OK) {
    *why = g_strdup (err ? err->message : "it could not be read");
    g_clear_error (&err);
    if (info)
      gst_discoverer_info_unref (info);
    g_clear_object (&dc);
    return FALSE;
  }
  g_clear_error (&err);
  audio = gst_discoverer_info_get_audio_streams (info);
  video = gst_discoverer_info_get_video_streams (info);
  out->duration = gst_discoverer_info_get_duration (info);
  out->sound = audio != NULL;
  if (audio && !audio->next && !video)
    out->mime = fit_mime (info, audio->data);
  gst_discoverer_stream_info_list_free (audio);
  gst_discoverer_stream_info_list_free (video);
  gst_discoverer_info_unref (info);
  g_object_unref (dc);
  return TRUE;
}

/* The length rule, on a probed voice; @who names it. */
static gboolean
check_length (const gchar * who, GstClockTime duration, const gchar * hint,
    GError ** error)
{
  if (GST_CLOCK_TIME_IS_VALID (duration) &&
      duration >= WR2V_VOICE_MIN_S * GST_SECOND &&
      duration <= WR2V_VOICE_MAX_S * GST_SECOND)
    return TRUE;
  g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
      "%s lasts %.1f s, but a voice must last %d to %d seconds. %s", who,
      GST_CLOCK_TIME_IS_VALID (duration) ? (gdouble) duration / GST_SECOND :
      0.0, WR2V_VOICE_MIN_S, WR2V_VOICE_MAX_S, hint);
  return FALSE;
}

static gboolean
check_file (const Wr2vReference * ref, VoiceProbe * p, GError ** error)
{
  const gchar *file = ref->voice_source;
  g_autofree gchar *who = wr2v_voice_name (ref, file);
  g_autofree gchar *why = NULL;

  ensure_debug ();
  if (!g_file_test (file, G_FILE_TEST_IS_REGULAR)) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "%s: there is no such file. Set voice-location to a wav or mp3 "
        "file of %d to %d seconds.", who, WR2V_VOICE_MIN_S, WR2V_VOICE_MAX_S);
    return FALSE;
  }
  if (!probe (file, p, &why) || !p->sound) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "%s is not a sound file GStreamer can read (%s). Set voice-location "
        "to a wav or mp3 file of %d to %d seconds.", who,
        why ? why : "no audio stream in it", WR2V_VOICE_MIN_S,
        WR2V_VOICE_MAX_S);
    return FALSE;
  }
  GST_DEBUG ("%s: %" GST_TIME_FORMAT ", %s", file,
      GST_TIME_ARGS (p->duration), p->mime ? p->mime : "to encode");
  return check_length (who, p->duration, "Trim the file (or record a "
      "longer one), then set voice-location to it.", error);
}

gboolean
wr2v_voice_check (const Wr2vReference * ref, GError ** error)
{
  VoiceProbe p;

  return !ref->voice_source || check_file (ref, &p, error);
}

/* Runs @desc to EOS, cancellably; FALSE with *why otherwise. */
static gboolean
run_pipeline (const gchar * desc, GCancellable * cancellable, gchar ** why)
{
  GError *err = NULL;
  GstElement *p = gst_parse_launch_full (desc, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, &err);
  gint64 deadline = g_get_monotonic_time () + ENCODE_TIMEOUT / 1000;
  gboolean done = FALSE, ok = FALSE;
  GstBus *bus;

  if (!p) {
    *why = g_strdup (err->message);
    g_error_free (err);
    return FALSE;
  }
  bus = gst_element_get_bus (p);
  gst_element_set_state (p, GST_STATE_PLAYING);
  while (!done && !g_cancellable_is_cancelled (cancellable) &&
      g_get_monotonic_time () < deadline) {
    GstMessage *m = gst_bus_timed_pop_filtered (bus, GST_SECOND / 10,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR);

    if (!m)
      continue;
    done = TRUE;
    ok = GST_MESSAGE_TYPE (m) == GST_MESSAGE_EOS;
    if (!ok) {
      gst_message_parse_error (m, &err, NULL);
      *why = g_strdup (err->message);
      g_error_free (err);
    }
    gst_message_unref (m);
  }
  if (!done)
    *why = g_strdup (g_cancellable_is_cancelled (cancellable) ?
        "cancelled" : "timed out");
  gst_element_set_state (p, GST_STATE_NULL);
  gst_object_unref (bus);
  gst_object_unref (p);
  return ok;
}

static gboolean
encode_wav (const Wr2vReference * ref, const gchar * out,
    GCancellable * cancellable, GError ** error)
{
  g_autofree gchar *in = g_strescape (ref->voice_source, NULL);
  g_autofree gchar *to = g_strescape (out, NULL);
  g_autofree gchar *desc = g_strdup_printf ("filesrc location=\"%s\" ! "
      "decodebin ! audioconvert ! audioresample ! wavenc ! filesink "
      "location=\"%s\"", in, to);
  g_autofree gchar *why = NULL;
  g_autofree gchar *who = NULL;

  if (run_pipeline (desc, cancellable, &why))
    return TRUE;
  if (!g_cancellable_set_error_if_cancelled (cancellable, error)) {
    who = wr2v_voice_name (ref, ref->voice_source);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "%s could not be encoded to wav (%s). Convert it to a wav or mp3 "
        "file and set voice-location to that.", who, why);
  }
  return FALSE;
}

gboolean
wr2v_voice_prepare (Wr2vReference * ref, const gchar * work_dir,
    GCancellable * cancellable, GError ** error)
{
  VoiceProbe p;
  g_autofree gchar *path = NULL;

  if (!ref->voice_source)
    return TRUE;
  if (!check_file (ref, &p, error))
    return FALSE;
  if (p.mime) {
    /* already what the model takes: sent as it is */
    path = g_strdup (ref->voice_source);
  } else {
    path = g_strdup_printf ("%s/voice-%s_%u.wav", work_dir,
        ref->kind == WR2V_REF_VIDEO ? "video" : "image", ref->pad_index);
    if (!encode_wav (ref, path, cancellable, error))
      return FALSE;
    GST_INFO ("encoded %s to %s", ref->voice_source, path);
  }
  g_free (ref->voice_sha256);
  if (!(ref->voice_sha256 = wr2v_file_sha256 (path, error)))
    return FALSE;
  g_free (ref->voice_path);
  ref->voice_path = g_steal_pointer (&path);
  g_free (ref->voice_mime);
  ref->voice_mime = g_strdup (p.mime ? p.mime : "audio/wav");
  return TRUE;
}

gboolean
wr2v_voice_finish_file (Wr2vReference * ref, const gchar * pad_name,
    GError ** error)
{
  g_autofree gchar *name = wr2v_voice_name (ref, NULL);
  g_autofree gchar *who = g_strdup_printf ("%s, from pad %s", name,
      pad_name ? pad_name : "voice_?");
  g_autofree gchar *why = NULL;
  VoiceProbe p;

  ensure_debug ();
  if (!probe (ref->voice_path, &p, &why) || !p.mime) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST,
        "%s: what arrived is not a wav or mp3 voice (%s).", who,
        why ? why : "another format");
    return FALSE;
  }
  if (!check_length (who, p.duration, "Send it 1 to 10 seconds of speech.",
          error))
    return FALSE;
  g_free (ref->voice_sha256);
  if (!(ref->voice_sha256 = wr2v_file_sha256 (ref->voice_path, error)))
    return FALSE;
  g_free (ref->voice_mime);
  ref->voice_mime = g_strdup (p.mime);
  return TRUE;
}

gboolean
wr2v_voice_check_all (const Wr2vRequest * req, GError ** error)
{
  for (guint i = 0; i < req->references->len; i++) {
    if (!wr2v_voice_check (g_ptr_array_index (req->references, i), error))
      return FALSE;
  }
  return TRUE;
}

gboolean
wr2v_voice_prepare_all (Wr2vRequest * req, const gchar * work_dir,
    GCancellable * cancellable, GError ** error)
{
  for (guint i = 0; i < req->references->len; i++) {
    if (!wr2v_voice_prepare (g_ptr_array_index (req->references, i),
            work_dir, cancellable, error))
      return FALSE;
  }
  return TRUE;
}
