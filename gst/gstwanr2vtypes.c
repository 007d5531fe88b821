#include "gstwanr2vtypes.h"
#include "wr2v-engine-registry.h"
#include "wr2v-request.h"

/* The engine enum's values come from the engine registry: "auto" (0),
 * then each engine in registry order (src/engines/meson.build). */
GType
gst_wanr2v_engine_get_type (void)
{
  static GType type;

  if (g_once_init_enter (&type)) {
    guint n = wr2v_engine_registry_size ();
    /* lives as long as the type: GLib keeps the pointer */
    GEnumValue *values = g_new0 (GEnumValue, n + 2);

    values[0] = (GEnumValue) {
    GST_WANR2V_ENGINE_AUTO,
          "A hosted engine when its API key is set, else preview", "auto"};
    for (guint i = 0; i < n; i++) {
      const Wr2vEngineClass *klass = wr2v_engine_registry_class (i);

      values[i + 1] = (GEnumValue) {
      (gint) i + 1, klass->description, klass->name};
    }
    g_once_init_leave (&type, g_enum_register_static ("GstWanR2vEngine",
            values));
  }
  return type;
}

const gchar *
gst_wanr2v_engine_name (GstWanR2vEngine engine)
{
  if (engine < 1 || (guint) engine > wr2v_engine_registry_size ())
    return "preview";
  return wr2v_engine_registry_class (engine - 1)->name;
}

static const GEnumValue resolution_values[] = {
  {WR2V_RESOLUTION_720P, "720p (1280x720 at 16:9)", "720p"},
  {WR2V_RESOLUTION_1080P, "1080p (1920x1080 at 16:9)", "1080p"},
  {0, NULL, NULL}
};

GST_WANR2V_ENUM_TYPE (gst_wanr2v_resolution_get_type, "GstWanR2vResolution",
    resolution_values);

static const GEnumValue numbering_values[] = {
  {WR2V_NUMBERING_AUTO, "Whichever reading names only linked references; "
        "continuing, with a warning, when both do", "auto"},
  {WR2V_NUMBERING_CONTINUING, "Videos first, images continue the count "
        "(two videos: the first image is Image 3)", "continuing"},
  {WR2V_NUMBERING_PER_TYPE, "Videos and images each counted from 1 "
        "(the first image is Image 1)", "per-type"},
  {0, NULL, NULL}
};

GST_WANR2V_ENUM_TYPE (gst_wanr2v_numbering_get_type, "GstWanR2vNumbering",
    numbering_values);

static const GEnumValue aspect_ratio_values[] = {
  {WR2V_ASPECT_16_9, "16:9 landscape", "16:9"},
  {WR2V_ASPECT_9_16, "9:16 portrait", "9:16"},
  {WR2V_ASPECT_1_1, "1:1 square", "1:1"},
  {WR2V_ASPECT_4_3, "4:3 landscape", "4:3"},
  {WR2V_ASPECT_3_4, "3:4 portrait", "3:4"},
  {0, NULL, NULL}
};

GST_WANR2V_ENUM_TYPE (gst_wanr2v_aspect_ratio_get_type, "GstWanR2vAspectRatio",
    aspect_ratio_values);

static const GEnumValue region_values[] = {
  {GST_WANR2V_REGION_SINGAPORE, "Singapore (dashscope-intl)", "singapore"},
  {GST_WANR2V_REGION_US, "US (dashscope-us)", "us"},
  {GST_WANR2V_REGION_BEIJING, "Beijing (dashscope)", "beijing"},
  {0, NULL, NULL}
};

GST_WANR2V_ENUM_TYPE (gst_wanr2v_region_get_type, "GstWanR2vRegion",
    region_values);

const gchar *
gst_wanr2v_region_name (GstWanR2vRegion region)
{
  if ((guint) region >= G_N_ELEMENTS (region_values) - 1)
    return region_values[0].value_nick;
  return region_values[region].value_nick;
}

static const GEnumValue audio_values[] = {
  {GST_WANR2V_AUDIO_AUTO, "The clip's soundtrack; silence of the clip's "
        "length when it has none", "auto"},
  {GST_WANR2V_AUDIO_SILENCE, "Silence of the clip's length, whatever its "
        "soundtrack", "silence"},
  {GST_WANR2V_AUDIO_OFF, "No audio: the audio pad only ends (EOS)", "off"},
  {0, NULL, NULL}
};

GST_WANR2V_ENUM_TYPE (gst_wanr2v_audio_get_type, "GstWanR2vAudio",
    audio_values);

static const GEnumValue role_values[] = {
  {GST_WANR2V_ROLE_SUBJECT, "A reference subject", "subject"},
  {GST_WANR2V_ROLE_FIRST_FRAME, "The clip's first frame (images only)",
      "first-frame"},
  {0, NULL, NULL}
};

GST_WANR2V_ENUM_TYPE (gst_wanr2v_role_get_type, "GstWanR2vRole", role_values);

static const GEnumValue shot_type_values[] = {
  {WR2V_SHOT_UNSET, "The engine's default (not sent)", "auto"},
  {WR2V_SHOT_SINGLE, "One continuous shot", "single"},
  {WR2V_SHOT_MULTI, "Several shots, with cuts", "multi"},
  {0, NULL, NULL}
};

GST_WANR2V_ENUM_TYPE (gst_wanr2v_shot_type_get_type, "GstWanR2vShotType",
    shot_type_values);

gchar *
gst_wanr2v_stream_id_new (const gchar * name)
{
  return g_strdup_printf ("%08x%08x/%s", g_random_int (), g_random_int (),
      name);
}
