/* gstwanr2vrefpad.c: per-reference pad with its own properties. */
#include "gstwanr2vrefpad.h"

enum
{
  PROP_0,
  PROP_URI,
};

G_DEFINE_TYPE (GstWanR2vRefPad, gst_wanr2v_ref_pad, GST_TYPE_PAD);

static void
gst_wanr2v_ref_pad_set_property (GObject * object, guint prop_id,
    const GValue * value, GParamSpec * pspec)
{
  GstWanR2vRefPad *pad = GST_WANR2V_REF_PAD (object);

  switch (prop_id) {
    case PROP_URI:
      GST_OBJECT_LOCK (pad);
      g_free (pad->uri);
      pad->uri = g_value_dup_string (value);
      GST_OBJECT_UNLOCK (pad);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_wanr2v_ref_pad_get_property (GObject * object, guint prop_id,
    GValue * value, GParamSpec * pspec)
{
  GstWanR2vRefPad *pad = GST_WANR2V_REF_PAD (object);

  switch (prop_id) {
    case PROP_URI:
      GST_OBJECT_LOCK (pad);
      g_value_set_string (value, pad->uri);
      GST_OBJECT_UNLOCK (pad);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
      break;
  }
}

static void
gst_wanr2v_ref_pad_finalize (GObject * object)
{
  GstWanR2vRefPad *pad = GST_WANR2V_REF_PAD (object);

  wr2v_ref_writer_free (pad->writer);
  g_free (pad->file);
  g_free (pad->uri);
  G_OBJECT_CLASS (gst_wanr2v_ref_pad_parent_class)->finalize (object);
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
}

static void
gst_wanr2v_ref_pad_init (GstWanR2vRefPad * pad)
{
}
