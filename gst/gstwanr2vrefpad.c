/* gstwanr2vrefpad.c: per-reference pad with its own properties. */
#include "gstwanr2vrefpad.h"
#include "gstwanr2vtypes.h"

enum
{
  PROP_0,
  PROP_URI,
  PROP_ROLE,
  PROP_VOICE_URI,
  PROP_VOICE_LOCATION,
  PROP_VOICE_PAD,
};

G_DEFINE_TYPE (GstWanR2vRefPad, gst_wanr2v_ref_pad, GST_TYPE_PAD);

static void
gst_wanr2v_ref_pad_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstWanR2vRefPad *pad = GST_WANR2V_REF_PAD (object);

  /* every field under the pad's object lock */
  GST_OBJECT_LOCK (pad);
  switch (prop_id) {
    case PROP_URI:
      g_free (pad->uri);
      pad->uri = g_value_dup_string (value);
      break;
    case PROP_ROLE:
      pad->role = g_value_get_enum (value);
      break;
    case PROP_VOICE_URI:
      g_free (pad->voice_uri);
      pad->voice_uri = g_value_dup_string (value);
      break;
    case PROP_VOICE_LOCATION:
      g_free (pad->voice_location);
      pad->voice_location = g_value_dup_string (value);
      break;
    case PROP_VOICE_PAD:
      g_free (pad->voice_pad);
      pad->voice_pad = g_value_dup_string (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (pad);
}

static void
gst_wanr2v_ref_pad_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstWanR2vRefPad *pad = GST_WANR2V_REF_PAD (object);

  /* every field under the pad's object lock */
  GST_OBJECT_LOCK (pad);
  switch (prop_id) {
    case PROP_URI:
      g_value_set_string (value, pad->uri);
      break;
    case PROP_ROLE:
      g_value_set_enum (value, pad->role);
      break;
    case PROP_VOICE_URI:
      g_value_set_string (value, pad->voice_uri);
      break;
    case PROP_VOICE_LOCATION:
      g_value_set_string (value, pad->voice_location);
      break;
    case PROP_VOICE_PAD:
      g_value_set_string (value, pad->voice_pad);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
  GST_OBJECT_UNLOCK (pad);
}

static void
gst_wanr2v_ref_pad_finalize (GObject * object)
{
  GstWanR2vRefPad *pad = GST_WANR2V_REF_PAD (object);

  wr2v_ref_writer_free (pad->writer);
  g_free (pad->file);
  g_free (pad->uri);
  g_free (pad->voice_uri);
  g_free (pad->voice_location);
  g_free (pad->voice_pad);
  G_OBJECT_CLASS (gst_wanr2v_ref_pad_parent_class)->finalize (object);
}

void
gst_wanr2v_ref_pad_install_inputs (GObjectClass * klass, guint role_id,
    guint voice_id)
{
  g_object_class_install_property (klass, role_id,
      g_param_spec_enum ("role", "Role", GST_WANR2V_REF_PAD_ROLE_BLURB,
          GST_TYPE_WANR2V_ROLE, GST_WANR2V_ROLE_SUBJECT,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (klass, voice_id,
      g_param_spec_string ("voice-uri", "Voice URI",
          GST_WANR2V_REF_PAD_VOICE_URI_BLURB, NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (klass, voice_id + 1,
      g_param_spec_string ("voice-location", "Voice location",
          GST_WANR2V_REF_PAD_VOICE_LOCATION_BLURB, NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  g_object_class_install_property (klass, voice_id + 2,
      g_param_spec_string ("voice-pad", "Voice pad",
          GST_WANR2V_REF_PAD_VOICE_PAD_BLURB, NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
}

static void
gst_wanr2v_ref_pad_class_init (GstWanR2vRefPadClass * klass)
{
  GObjectClass *gobject_class = G_OBJECT_CLASS (klass);

  gobject_class->set_property = gst_wanr2v_ref_pad_set_property;
  gobject_class->get_property = gst_wanr2v_ref_pad_get_property;
  gobject_class->finalize = gst_wanr2v_ref_pad_finalize;

  /**
   * GstWanR2vRefPad:uri:
   *
   * A URL that a hosted engine fetches this reference from, when the user
   * already has one: https for wavespeed and dashscope, or oss:// for
   * dashscope. The reference is then not uploaded.
   *
   * A pad with a uri and no link is complete from the start: the job does
   * not wait for it. A linked pad with a uri still takes its media (the
   * request hash uses it). The preview and comfyui engines need the media
   * itself: a uri-only reference fails their job (preview: only when the
   * prompt names it, as preview draws only the named references).
   */
  g_object_class_install_property (gobject_class, PROP_URI,
      g_param_spec_string ("uri", GST_WANR2V_REF_PAD_URI_NICK,
          GST_WANR2V_REF_PAD_URI_BLURB, NULL,
          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS |
          GST_PARAM_MUTABLE_READY));
  /**
   * GstWanR2vRefPad:role:
   *
   * On an image pad, `first-frame` makes the image the clip's first frame
   * rather than a subject (DashScope's `first_frame` media; the preview
   * starts its animatic on it). One at most; engines that take none
   * refuse it when the pipeline starts, before anything is paid.
   *
   * GstWanR2vRefPad:voice-uri:
   *
   * The voice this reference speaks in: an https:// or oss:// URL of a wav
   * or mp3 of 1 to 10 s (DashScope's `reference_voice` on the reference's
   * media item). Engines that take no voice refuse it when the pipeline
   * starts, before anything is paid.
   *
   * GstWanR2vRefPad:voice-location:
   *
   * The voice this reference speaks in, from a local sound file of 1 to 10
   * seconds. A wav or an mp3 is sent as it is; any other format GStreamer
   * decodes is encoded to wav first. The file is checked when the
   * pipeline starts (an error names the pad, the file and what to
   * change), uploaded like the references, and its bytes are part of the
   * request's identity. DashScope receives it as `reference_voice`; the
   * preview engine plays it as its soundtrack's bed. Other engines refuse
   * it before anything is paid. A `voice_%u` pad gives a voice from a
   * stream instead (see wanr2vgen).
   *
   * GstWanR2vRefPad:voice-pad:
   *
   * The name of the `voice_N` request pad whose audio this reference
   * speaks in (`image_0::voice-pad=voice_0`). Unset, `voice_N` speaks for
   * `video_N`. A voice pad that no reference pairs with fails the state
   * change to PAUSED, naming it.
   */
  gst_wanr2v_ref_pad_install_inputs (gobject_class, PROP_ROLE, PROP_VOICE_URI);
  gst_type_mark_as_plugin_api (GST_TYPE_WANR2V_ROLE, 0);
}

static void
gst_wanr2v_ref_pad_init (GstWanR2vRefPad * pad)
{
}
