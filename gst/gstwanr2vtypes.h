/* gstwanr2vtypes.h: the enum GTypes of the element's properties. */
#pragma once

#include <gst/gst.h>

G_BEGIN_DECLS
/* 0 is "auto"; 1..n are the registry's engines in order
 * (src/wr2v-engine-registry.h), so the enum grows with the registry. */
    typedef enum
{
  GST_WANR2V_ENGINE_AUTO,
} GstWanR2vEngine;

/* Defines @get_type, which registers the enum type @type_name once, from
 * the GEnumValue array @values (ending with a zero entry). */
#define GST_WANR2V_ENUM_TYPE(get_type, type_name, values) \
  GType get_type (void) \
  { \
    static GType type; \
    if (g_once_init_enter (&type)) \
      g_once_init_leave (&type, g_enum_register_static (type_name, values)); \
    return type; \
  }

#define GST_TYPE_WANR2V_ENGINE (gst_wanr2v_engine_get_type ())
GType gst_wanr2v_engine_get_type (void);

/* values match Wr2vResolution / Wr2vAspectRatio */
#define GST_TYPE_WANR2V_RESOLUTION (gst_wanr2v_resolution_get_type ())
GType gst_wanr2v_resolution_get_type (void);

#define GST_TYPE_WANR2V_ASPECT_RATIO (gst_wanr2v_aspect_ratio_get_type ())
GType gst_wanr2v_aspect_ratio_get_type (void);

/* values match Wr2vNumbering: how the prompt numbers references */
#define GST_TYPE_WANR2V_NUMBERING (gst_wanr2v_numbering_get_type ())
GType gst_wanr2v_numbering_get_type (void);
/* dashscope's regions, as its engine names them (the regions table in
 * src/engines/dashscope/wr2v-dashscope.c); singapore is the default. */
typedef enum
{
  GST_WANR2V_REGION_SINGAPORE,
  GST_WANR2V_REGION_US,
  GST_WANR2V_REGION_BEIJING,
} GstWanR2vRegion;

#define GST_TYPE_WANR2V_REGION (gst_wanr2v_region_get_type ())
GType gst_wanr2v_region_get_type (void);

/* The region's name for the engine settings. */
const gchar *gst_wanr2v_region_name (GstWanR2vRegion region);

/* A new stream id ending in "/@name", for a stream the element starts
 * itself. Not gst_pad_create_stream_id(): it refuses an element with more
 * than one sink pad, as wanr2v is with two references. */
gchar *gst_wanr2v_stream_id_new (const gchar * name);

/* The engine name used by the core for a concrete (non-auto) value. */
const gchar *gst_wanr2v_engine_name (GstWanR2vEngine engine);

/* wanr2v's audio property: what its `audio` pad carries */
typedef enum
{
  GST_WANR2V_AUDIO_AUTO,        /* the clip's soundtrack, else silence */
  GST_WANR2V_AUDIO_SILENCE,     /* silence of the clip's length */
  GST_WANR2V_AUDIO_OFF,         /* EOS only: nothing is decoded */
} GstWanR2vAudio;

#define GST_TYPE_WANR2V_AUDIO (gst_wanr2v_audio_get_type ())
GType gst_wanr2v_audio_get_type (void);

/* an image pad's role */
typedef enum
{
  GST_WANR2V_ROLE_SUBJECT,      /* a reference subject, as a video is */
  GST_WANR2V_ROLE_FIRST_FRAME,  /* the clip's first frame */
} GstWanR2vRole;

#define GST_TYPE_WANR2V_ROLE (gst_wanr2v_role_get_type ())
GType gst_wanr2v_role_get_type (void);

/* values match Wr2vShotType */
#define GST_TYPE_WANR2V_SHOT_TYPE (gst_wanr2v_shot_type_get_type ())
GType gst_wanr2v_shot_type_get_type (void);

G_END_DECLS
