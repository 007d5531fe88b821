#include "gstwanr2vtypes.h"
#include "wr2v-request.h"

GType
gst_wanr2v_engine_get_type (void)
{
  static GType type;
  static const GEnumValue values[] = {
    {GST_WANR2V_ENGINE_AUTO,
        "A hosted engine when its API key is set, else preview", "auto"},
    {GST_WANR2V_ENGINE_PREVIEW,
        "Built-in offline animatic (no network, no key, no GPU)", "preview"},
    {GST_WANR2V_ENGINE_WAVESPEED,
        "WaveSpeedAI hosted Wan 2.7 Reference-to-Video (paid)", "wavespeed"},
    {GST_WANR2V_ENGINE_DASHSCOPE,
          "Alibaba Cloud Model Studio (DashScope) wan2.7-r2v (paid)",
        "dashscope"},
    {GST_WANR2V_ENGINE_COMFYUI,
        "ComfyUI on your own GPU running open Wan models (local)", "comfyui"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstWanR2vEngine",
            values));
  return type;
}

const gchar *
gst_wanr2v_engine_name (GstWanR2vEngine engine)
{
  switch (engine) {
    case GST_WANR2V_ENGINE_WAVESPEED:
      return "wavespeed";
    case GST_WANR2V_ENGINE_DASHSCOPE:
      return "dashscope";
    case GST_WANR2V_ENGINE_COMFYUI:
      return "comfyui";
    case GST_WANR2V_ENGINE_PREVIEW:
    default:
      return "preview";
  }
}

GType
gst_wanr2v_resolution_get_type (void)
{
  static GType type;
  static const GEnumValue values[] = {
    {WR2V_RESOLUTION_720P, "720p (1280x720 at 16:9)", "720p"},
    {WR2V_RESOLUTION_1080P, "1080p (1920x1080 at 16:9)", "1080p"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstWanR2vResolution",
            values));
  return type;
}

GType
gst_wanr2v_aspect_ratio_get_type (void)
{
  static GType type;
  static const GEnumValue values[] = {
    {WR2V_ASPECT_16_9, "16:9 landscape", "16:9"},
    {WR2V_ASPECT_9_16, "9:16 portrait", "9:16"},
    {WR2V_ASPECT_1_1, "1:1 square", "1:1"},
    {WR2V_ASPECT_4_3, "4:3 landscape", "4:3"},
    {WR2V_ASPECT_3_4, "3:4 portrait", "3:4"},
    {0, NULL, NULL}
  };

  if (g_once_init_enter (&type))
    g_once_init_leave (&type, g_enum_register_static ("GstWanR2vAspectRatio",
            values));
  return type;
}
