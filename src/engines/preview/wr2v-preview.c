/* wr2v-preview.c: the built-in offline "preview" engine.
 *
 * This is an animatic renderer, NOT AI generation. It shows what a request
 * asks for (duration, size, the references the prompt names, the prompt
 * itself) so that pipelines can be built and tested without an account, a
 * network or a GPU. It is made only of GStreamer elements:
 *
 *   videotestsrc ! imagefreeze ----------------------------------+ background
 *   videotestsrc ! imagefreeze ----------------------------------+ drifting layer
 *   filesrc ! decodebin ! videoconvert ! deinterlace ! videoconvert
 *     ! videoscale ! textoverlay ---------------------------------+ Video N tile
 *   filesrc ! decodebin ! ... ! textoverlay ! imagefreeze -------+ Image N tile
 *     compositor ! capsfilter ! textoverlay (prompt) ! x264enc ! mp4mux
 *       ! filesink
 *
 * Tiles move along paths animated with GstController on the compositor's
 * pads, each inside its own cell of a grid: they never cover each other,
 * so every reference's label is readable in every frame. Colours and paths come from a GRand seeded from the request's seed
 * (or from its prompt and references when unset), so one request always
 * renders the same frames.
 *
 * Ending: the sources never end by themselves (imagefreeze), so a probe on
 * the compositor's source pad lets exactly duration * 30 frames through and
 * then answers GST_FLOW_EOS: the compositor sends EOS downstream and stops
 * taking input, and the filesink's EOS ends the pipeline.
 */
#include "wr2v-engine.h"
#include "wr2v-error.h"
#include "wr2v-prompt.h"
#include "wr2v-preview-sound.h"

#include <errno.h>
#include <string.h>
#include <glib/gstdio.h>
#include <gst/controller/controller.h>

GST_DEBUG_CATEGORY_STATIC (wr2v_preview_debug);
#define GST_CAT_DEFAULT wr2v_preview_debug

/* Bump when the renderer's output changes: cached results then miss. */
#define PREVIEW_IDENTITY "preview-3"
#define PREVIEW_FPS 30
#define PREVIEW_MIN_DURATION 1
#define PREVIEW_MAX_DURATION 15
#define PREVIEW_MAX_KEYS (PREVIEW_MAX_DURATION + 2)
/* Without a frame for this long the render is considered stuck. */
#define PREVIEW_STALL_SECONDS 60

#define MSG_PROGRESS "wr2v-preview-progress"
#define MSG_CANCEL "wr2v-preview-cancel"

typedef struct _Render Render;

typedef struct
{
  Render *render;
  Wr2vRefKind kind;
  gchar *path;                  /* copied: a cancelled render outlives the job */
  gchar *label;                 /* "Video 1" */
  gchar *name;                  /* "Video 1 (pad video_0, clip.mp4)", for
                                 * messages: never our temp path */
  gint box_w, box_h;            /* tiles are fitted into this box */
  gint key_x[PREVIEW_MAX_KEYS]; /* the box's position at each key time */
  gint key_y[PREVIEW_MAX_KEYS];
  GstElement *source, *decoder; /* to tell which reference failed */
  GstElement *convert;          /* where decodebin's video pad goes */
  GstElement *sizefilter;       /* gets the tile size once caps are known */
  GstElement *labeller;         /* and the label's font size */
  GstPad *comp_pad;             /* owned ref on the compositor pad */
  gint linked;                  /* atomic: decodebin's video pad is linked */
} Tile;

struct _Render
{
  Wr2vJob *job;                 /* NULL once handed to the teardown pool */
  GstElement *pipeline;
  GstBus *bus;
  gint width, height;
  gint frames_total;
  gint frames;                  /* atomic; written by the compositor thread */
  guint n_keys;
  GstClockTime key_time[PREVIEW_MAX_KEYS];
  GstPad *layer_pad;            /* owned ref on the drifting layer's pad */
  Tile tiles[WR2V_MAX_REFERENCES];
  guint n_tiles;
  /* multi-shot: tiles jump between keys (a cut at each), else glide */
  GstInterpolationMode interp;
  /* the first-frame image, shown full frame at the start: its tile is
   * the last one, out of the layout */
  gboolean first_frame;
  gdouble bed_hz;               /* the soundtrack's steady tone */
  gchar *unlink_path;           /* removed after teardown when set */
};

typedef struct
{
  /* stops cancelled renders off the job thread; see preview_generate() */
  GThreadPool *teardown;
} PreviewEngine;

static gboolean
preview_check (Wr2vEngine * engine, const Wr2vRequest * req, GError ** error)
{
  if (req->duration < PREVIEW_MIN_DURATION
      || req->duration > PREVIEW_MAX_DURATION) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "The preview engine renders %d to %d seconds; set duration to a "
        "value in that range (got %u).", PREVIEW_MIN_DURATION,
        PREVIEW_MAX_DURATION, req->duration);
    return FALSE;
  }
  if ((guint) req->resolution > WR2V_RESOLUTION_1080P) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "The preview engine renders 720p or 1080p; set resolution to one "
        "of them.");
    return FALSE;
  }
  if ((guint) req->aspect_ratio > WR2V_ASPECT_3_4) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "The preview engine renders 16:9, 9:16, 1:1, 4:3 or 3:4; set "
        "aspect-ratio to one of them.");
    return FALSE;
  }
  for (guint i = 0; i < req->references->len; i++) {
    const Wr2vReference *ref = g_ptr_array_index (req->references, i);
    g_autofree gchar *who = NULL;

    if (!ref->voice_uri)
      continue;
    /* as for a reference, the preview needs the voice itself */
    who = wr2v_reference_name (ref);
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "The preview engine takes a voice from a file or a stream, and %s "
        "has voice-uri \"%s\": set voice-location to a local file, or "
        "link a voice_%%u pad, or use an engine that fetches URLs: "
        "dashscope.", who, ref->voice_uri);
    return FALSE;
  }
  return TRUE;
}

static gchar *
preview_identity (Wr2vEngine * engine)
{
  return g_strdup (PREVIEW_IDENTITY);
}

/* --- layout ------------------------------------------------------------ */

static GRand *
preview_rand_new (const Wr2vRequest * req)
{
  guint32 seed[2];

  if (req->seed >= 0) {
    seed[0] = (guint32) req->seed;
    seed[1] = (guint32) ((guint64) req->seed >> 32);
  } else {
    /* No seed: derive one from what the clip shows, so an unseeded request
     * still renders the same way every time. */
    GChecksum *sum = g_checksum_new (G_CHECKSUM_SHA256);
    guint8 digest[32];
    gsize len = sizeof digest;

    g_checksum_update (sum, (const guchar *) (req->prompt ? req->prompt : ""),
        -1);
    for (guint i = 0; i < req->references->len; i++) {
      const Wr2vReference *ref = g_ptr_array_index (req->references, i);
      const gchar *id = ref->sha256 ? ref->sha256 : ref->path;

      g_checksum_update (sum, (const guchar *) "\n", 1);
      if (id)
        g_checksum_update (sum, (const guchar *) id, -1);
    }
    g_checksum_get_digest (sum, digest, &len);
    g_checksum_free (sum);
    seed[0] = GST_READ_UINT32_LE (digest);
    seed[1] = GST_READ_UINT32_LE (digest + 4);
  }
  return g_rand_new_with_seed_array (seed, G_N_ELEMENTS (seed));
}

/* HSV (h in degrees, s and v in 0..1) to an opaque ARGB colour for
 * videotestsrc; plain arithmetic, so the result is the same everywhere. */
static guint32
hsv_argb (gdouble h, gdouble s, gdouble v)
{
  gdouble c = v * s, m, x, r = 0, g = 0, b = 0, hp, frac;
  gint sector;

  while (h >= 360.0)
    h -= 360.0;
  hp = h / 60.0;
  sector = (gint) hp;
  frac = hp - sector;
  /* x = c * (1 - |hp mod 2 - 1|) */
  x = c * ((sector & 1) ? 1.0 - frac : frac);
  m = v - c;
  switch (sector) {
    case 0:
      r = c, g = x;
      break;
    case 1:
      r = x, g = c;
      break;
    case 2:
      g = c, b = x;
      break;
    case 3:
      g = x, b = c;
      break;
    case 4:
      r = x, b = c;
      break;
    default:
      r = c, b = x;
      break;
  }
  return 0xff000000u | ((guint32) ((r + m) * 255 + 0.5) << 16) |
      ((guint32) ((g + m) * 255 + 0.5) << 8) | (guint32) ((b + m) * 255 + 0.5);
}

/* The grid of cells the tiles keep to: the column count that gives the
 * largest 16:9 box for @n tiles in @area_w x @area_h. */
static void
choose_grid (guint n, gint area_w, gint area_h, gint * cols, gint * rows)
{
  gint best = -1;

  *cols = *rows = 1;
  for (gint c = 1; c <= (gint) MAX (n, 1); c++) {
    gint r = ((gint) n + c - 1) / c;
    gint box_w = MIN (area_w / c, area_h / r * 16 / 9);

    if (box_w > best) {
      best = box_w;
      *cols = c;
      *rows = r;
    }
  }
}

/* Each tile's box does a random walk over key times inside a cell of its
 * own (cells drawn at random), so tiles never cover each other's pictures
 * or labels; the paths between keys (cubic, monotonic) stay inside too.
 * All draws happen here, in a fixed order. */
static void
layout_tiles (Render * r, GRand * rand)
{
  /* keep tiles above the caption */
  gint area_h = r->height - r->height / 8;
  gint cols, rows, cell_w, cell_h, box_w, box_h;
  guint cells[WR2V_MAX_REFERENCES * 2];

  choose_grid (r->n_tiles, r->width, area_h, &cols, &rows);
  cell_w = r->width / cols;
  cell_h = area_h / rows;
  box_h = MIN (r->height / 3, cell_h);
  box_w = MIN (MIN (box_h * 16 / 9, r->width / 2), cell_w) & ~1;
  box_h &= ~1;
  for (guint c = 0; c < (guint) (cols * rows); c++)
    cells[c] = c;
  for (guint c = cols * rows; c > 1; c--) {
    guint j = g_rand_int_range (rand, 0, c);
    guint tmp = cells[c - 1];

    cells[c - 1] = cells[j];
    cells[j] = tmp;
  }
  for (guint i = 0; i < r->n_tiles; i++) {
    Tile *t = &r->tiles[i];
    gint min_x = (cells[i] % cols) * cell_w;
    gint min_y = (cells[i] / cols) * cell_h;
    gint max_x = min_x + MAX (0, cell_w - box_w);
    gint max_y = min_y + MAX (0, cell_h - box_h);

    t->box_w = box_w;
    t->box_h = box_h;
    for (guint k = 0; k < r->n_keys; k++) {
      gint x, y;

      if (k == 0) {
        x = g_rand_int_range (rand, min_x, max_x + 1);
        y = g_rand_int_range (rand, min_y, max_y + 1);
      } else {
        x = t->key_x[k - 1] + g_rand_int_range (rand, -cell_w / 4,
            cell_w / 4 + 1);
        y = t->key_y[k - 1] + g_rand_int_range (rand, -cell_h / 4,
            cell_h / 4 + 1);
      }
      t->key_x[k] = CLAMP (x, min_x, max_x);
      t->key_y[k] = CLAMP (y, min_y, max_y);
    }
  }
}

/* Binds @prop of @pad to a path through @values at @times: smooth, or in
 * steps (@mode NONE: cuts). */
static void
animate (GstPad * pad, const gchar * prop, const GstClockTime * times,
    const gint * values, guint n, gint offset, GstInterpolationMode mode)
{
  GstControlSource *cs = gst_interpolation_control_source_new ();

  g_object_set (cs, "mode", mode, NULL);
  for (guint k = 0; k < n; k++)
    gst_timed_value_control_source_set (GST_TIMED_VALUE_CONTROL_SOURCE (cs),
        times[k], values[k] + offset);
  /* xpos/ypos are ints: an absolute binding takes pixel values as they are */
  gst_object_add_control_binding (GST_OBJECT (pad),
      gst_direct_control_binding_new_absolute (GST_OBJECT (pad), prop, cs));
  gst_object_unref (cs);
}

/* --- pipeline ---------------------------------------------------------- */

static GstElement *
add_element (Render * r, const gchar * factory, GError ** error)
{
  GstElement *e = gst_element_factory_make (factory, NULL);

  if (!e) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
        "The preview engine needs the GStreamer element \"%s\"; install the "
        "plugin that provides it.", factory);
    return NULL;
  }
  gst_bin_add (GST_BIN (r->pipeline), e);
  return e;
}

static gboolean
link_failed (GError ** error, const gchar * what)
{
  g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
      "The preview engine could not link its %s.", what);
  return FALSE;
}

static void
post_error (GstElement * src, const gchar * format, ...)
{
  GError *err;
  va_list args;

  va_start (args, format);
  err = g_error_new_valist (WR2V_ERROR, WR2V_ERROR_INTERNAL, format, args);
  va_end (args);
  gst_element_post_message (src,
      gst_message_new_error (GST_OBJECT (src), err, NULL));
  g_error_free (err);
}

/* A compositor input showing a solid colour: one frame, frozen. */
static GstPad *
add_solid (Render * r, GstElement * comp, guint32 argb, gint w, gint h,
    guint zorder, GError ** error)
{
  GstElement *src, *caps, *freeze, *rate;
  GstCaps *c;
  GstPad *srcpad, *pad;

  if (!(src = add_element (r, "videotestsrc", error))
      || !(caps = add_element (r, "capsfilter", error))
      || !(freeze = add_element (r, "imagefreeze", error))
      || !(rate = add_element (r, "capsfilter", error)))
    return NULL;
  gst_util_set_object_arg (G_OBJECT (src), "pattern", "solid-color");
  g_object_set (src, "foreground-color", argb, "num-buffers", 1, NULL);
  c = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "I420",
      "width", G_TYPE_INT, w, "height", G_TYPE_INT, h,
      "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1,
      "framerate", GST_TYPE_FRACTION, PREVIEW_FPS, 1, NULL);
  g_object_set (caps, "caps", c, NULL);
  g_object_set (rate, "caps", c, NULL);
  gst_caps_unref (c);
  if (!gst_element_link_many (src, caps, freeze, rate, NULL)) {
    link_failed (error, "background");
    return NULL;
  }
  pad = gst_element_request_pad_simple (comp, "sink_%u");
  srcpad = gst_element_get_static_pad (rate, "src");
  if (gst_pad_link (srcpad, pad) != GST_PAD_LINK_OK) {
    gst_object_unref (srcpad);
    gst_element_release_request_pad (comp, pad);
    gst_object_unref (pad);
    link_failed (error, "background");
    return NULL;
  }
  gst_object_unref (srcpad);
  g_object_set (pad, "zorder", zorder, NULL);
  return pad;
}

static void
tile_fit (const Tile * t, gint src_w, gint src_h, gint par_n, gint par_d,
    gint * w, gint * h)
{
  /* display size of the source, then the largest box-fitting size */
  gdouble dw = (gdouble) src_w * par_n / MAX (par_d, 1);
  gdouble dh = src_h;

  if (dw <= 0 || dh <= 0) {
    dw = 16;
    dh = 9;
  }
  if (dw * t->box_h > dh * t->box_w) {
    *w = t->box_w;
    *h = (gint) (t->box_w * dh / dw);
  } else {
    *h = t->box_h;
    *w = (gint) (t->box_h * dw / dh);
  }
  *w = MAX (2, *w & ~1);
  *h = MAX (2, *h & ~1);
}

static gboolean
on_autoplug_continue (GstElement * decodebin, GstPad * pad, GstCaps * caps,
    gpointer user_data)
{
  const GstStructure *s = gst_caps_get_structure (caps, 0);

  /* only pictures are shown: don't decode sound or subtitles */
  return !g_str_has_prefix (gst_structure_get_name (s), "audio/")
      && !g_str_has_prefix (gst_structure_get_name (s), "text/")
      && !g_str_has_prefix (gst_structure_get_name (s), "subpicture/");
}

/* Runs on a streaming thread when decodebin has a decoded stream: the
 * source size is known now, so the tile's size and path are set here,
 * before the first frame reaches the compositor (which waits for it). */
static void
on_pad_added (GstElement * decodebin, GstPad * pad, Tile * t)
{
  Render *r = t->render;
  GstCaps *caps = gst_pad_get_current_caps (pad);
  const GstStructure *s;
  gint src_w = 0, src_h = 0, par_n = 1, par_d = 1, w, h;
  GstCaps *size;
  GstPad *sinkpad;
  gchar *font;

  if (!caps)
    caps = gst_pad_query_caps (pad, NULL);
  s = gst_caps_get_structure (caps, 0);
  if (!s || !g_str_has_prefix (gst_structure_get_name (s), "video/")
      || !g_atomic_int_compare_and_exchange (&t->linked, 0, 1)) {
    gst_caps_unref (caps);
    return;
  }
  gst_structure_get_int (s, "width", &src_w);
  gst_structure_get_int (s, "height", &src_h);
  gst_structure_get_fraction (s, "pixel-aspect-ratio", &par_n, &par_d);
  gst_caps_unref (caps);

  tile_fit (t, src_w, src_h, par_n, par_d, &w, &h);
  GST_DEBUG ("%s: %dx%d shown as %dx%d", t->label, src_w, src_h, w, h);
  size = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "I420",
      "width", G_TYPE_INT, w, "height", G_TYPE_INT, h,
      "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, NULL);
  g_object_set (t->sizefilter, "caps", size, NULL);
  gst_caps_unref (size);
  font = g_strdup_printf ("Sans Bold %dpx", CLAMP (MIN (w, h) / 8, 10,
          t->box_h / 9));
  g_object_set (t->labeller, "font-desc", font, NULL);
  g_free (font);
  /* the path moves the box; the tile sits centred in it */
  animate (t->comp_pad, "xpos", r->key_time, t->key_x, r->n_keys,
      (t->box_w - w) / 2, r->interp);
  animate (t->comp_pad, "ypos", r->key_time, t->key_y, r->n_keys,
      (t->box_h - h) / 2, r->interp);

  sinkpad = gst_element_get_static_pad (t->convert, "sink");
  if (gst_pad_link (pad, sinkpad) != GST_PAD_LINK_OK)
    post_error (decodebin, "The preview engine can't show %s: its "
        "decoded video can't be converted.", t->name);
  gst_object_unref (sinkpad);
}

static void
on_no_more_pads (GstElement * decodebin, Tile * t)
{
  /* the compositor would wait forever for this tile */
  if (!g_atomic_int_get (&t->linked))
    post_error (decodebin, "The preview engine found no picture in %s; "
        "use a video or image file there.", t->name);
}

static gboolean
add_tile (Render * r, GstElement * comp, Tile * t, guint zorder,
    GError ** error)
{
  gboolean image = t->kind == WR2V_REF_IMAGE;
  GstElement *src, *dec, *deint, *convert, *scale, *label, *last;
  GstPad *srcpad;
  g_autofree gchar *text = g_markup_escape_text (t->label, -1);

  /* deinterlace: the compositor takes progressive frames only */
  if (!(src = add_element (r, "filesrc", error))
      || !(dec = add_element (r, "decodebin", error))
      || !(t->convert = add_element (r, "videoconvert", error))
      || !(deint = add_element (r, "deinterlace", error))
      || !(convert = add_element (r, "videoconvert", error))
      || !(scale = add_element (r, "videoscale", error))
      || !(t->sizefilter = add_element (r, "capsfilter", error))
      || !(label = add_element (r, "textoverlay", error)))
    return FALSE;
  t->source = src;
  t->decoder = dec;
  g_object_set (src, "location", t->path, NULL);
  g_signal_connect (dec, "autoplug-continue",
      G_CALLBACK (on_autoplug_continue), NULL);
  g_signal_connect (dec, "pad-added", G_CALLBACK (on_pad_added), t);
  g_signal_connect (dec, "no-more-pads", G_CALLBACK (on_no_more_pads), t);

  t->labeller = label;
  g_object_set (label, "text", text, "auto-resize", FALSE,
      "shaded-background", TRUE, "xpad", 6, "ypad", 4, NULL);
  gst_util_set_object_arg (G_OBJECT (label), "valignment", "top");
  gst_util_set_object_arg (G_OBJECT (label), "halignment", "left");
  if (!gst_element_link (src, dec)
      || !gst_element_link_many (t->convert, deint, convert, scale,
          t->sizefilter, label, NULL))
    return link_failed (error, "reference tiles");
  last = label;

  if (image) {
    /* scale and label the picture once, then repeat it for free */
    GstElement *freeze, *rate;
    GstCaps *c;

    if (!(freeze = add_element (r, "imagefreeze", error))
        || !(rate = add_element (r, "capsfilter", error)))
      return FALSE;
    c = gst_caps_new_simple ("video/x-raw", "framerate", GST_TYPE_FRACTION,
        PREVIEW_FPS, 1, NULL);
    g_object_set (rate, "caps", c, NULL);
    gst_caps_unref (c);
    if (!gst_element_link_many (label, freeze, rate, NULL))
      return link_failed (error, "reference tiles");
    last = rate;
  }

  t->comp_pad = gst_element_request_pad_simple (comp, "sink_%u");
  srcpad = gst_element_get_static_pad (last, "src");
  if (gst_pad_link (srcpad, t->comp_pad) != GST_PAD_LINK_OK) {
    gst_object_unref (srcpad);
    return link_failed (error, "reference tiles");
  }
  gst_object_unref (srcpad);
  /* a video shorter than the clip keeps showing its last frame */
  g_object_set (t->comp_pad, "zorder", zorder, "repeat-after-eos", !image,
      NULL);
  return TRUE;
}

/* The prompt as it fits in about three caption lines. */
static gchar *
caption_text (const gchar * prompt, gint width, gint font_px)
{
  glong max_chars = MAX (20, 3 * width / MAX (1, font_px / 2));
  g_autofree gchar *flat = g_strdup (prompt ? prompt : "");
  g_autofree gchar *cut = NULL;

  g_strdelimit (flat, "\r\n\t", ' ');
  g_strstrip (flat);
  if (!g_utf8_validate (flat, -1, NULL))
    return g_strdup ("");
  if (g_utf8_strlen (flat, -1) > max_chars) {
    gchar *head = g_utf8_substring (flat, 0, max_chars - 1);

    cut = g_strconcat (head, "\u2026", NULL);
    g_free (head);
  }
  /* textoverlay's text property is Pango markup */
  return g_markup_escape_text (cut ? cut : flat, -1);
}

static GstPadProbeReturn
on_composed (GstPad * pad, GstPadProbeInfo * info, gpointer user_data)
{
  Render *r = user_data;
  gint n = g_atomic_int_get (&r->frames);

  if (n >= r->frames_total) {
    /* The clip is complete. Refusing the frame with EOS makes the
     * compositor send EOS downstream and stop taking input; its sources
     * (imagefreeze) would never end on their own. */
    gst_buffer_unref (GST_PAD_PROBE_INFO_BUFFER (info));
    GST_PAD_PROBE_INFO_DATA (info) = NULL;
    GST_PAD_PROBE_INFO_FLOW_RETURN (info) = GST_FLOW_EOS;
    return GST_PAD_PROBE_HANDLED;
  }
  g_atomic_int_set (&r->frames, ++n);
  /* one message a second of output; the job thread reports it */
  if (n % PREVIEW_FPS == 0)
    gst_bus_post (r->bus, gst_message_new_application (NULL,
            gst_structure_new (MSG_PROGRESS, "percent", G_TYPE_INT,
                n * 100 / r->frames_total, NULL)));
  return GST_PAD_PROBE_OK;
}

/* The background and the drifting layer under the tiles. Draws from
 * @rand in a fixed order, before the tiles'. Muted, dark colours keep
 * references' colours recognisable over them. */
static gboolean
add_backdrop (Render * r, GstElement * comp, GRand * rand, GError ** error)
{
  gint layer_x[2], layer_y[2], layer_w, layer_h;
  GstClockTime layer_t[2];
  gdouble hue, sat, val;
  GstPad *pad;

  hue = g_rand_double_range (rand, 0, 360);
  sat = g_rand_double_range (rand, 0.25, 0.55);
  val = g_rand_double_range (rand, 0.14, 0.28);
  pad = add_solid (r, comp, hsv_argb (hue, sat, val), r->width, r->height, 0,
      error);
  if (!pad)
    return FALSE;
  gst_object_unref (pad);

  layer_w = (r->width * 3 / 5) & ~1;
  layer_h = (r->height * 9 / 20) & ~1;
  for (guint i = 0; i < 2; i++) {
    layer_x[i] = g_rand_int_range (rand, -layer_w / 2, r->width - layer_w / 2);
    layer_y[i] = g_rand_int_range (rand, -layer_h / 3,
        r->height - layer_h * 2 / 3);
  }
  r->layer_pad = add_solid (r, comp,
      hsv_argb (hue + g_rand_double_range (rand, 20, 60), sat, val + 0.06),
      layer_w, layer_h, 1, error);
  if (!r->layer_pad)
    return FALSE;
  layer_t[0] = 0;
  layer_t[1] = r->key_time[r->n_keys - 1];
  animate (r->layer_pad, "xpos", layer_t, layer_x, 2, 0, r->interp);
  animate (r->layer_pad, "ypos", layer_t, layer_y, 2, 0, r->interp);
  return TRUE;
}

/* One tile per reference the prompt names, in the prompt's order. */
/* The next tile, showing @ref, labelled "Image 3" and @suffix; NULL when
 * the reference is only a URL. */
static Tile *
new_tile (Render * r, const Wr2vReference * ref, const gchar * suffix,
    GError ** error)
{
  Tile *t;

  if (!ref->path || r->n_tiles >= WR2V_MAX_REFERENCES) {
    g_set_error (error, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED,
        "The preview engine needs %s %u as a local file; it has only a "
        "URL. Connect the reference to its pad instead.",
        wr2v_ref_kind_word (ref->kind), ref->number);
    return NULL;
  }
  t = &r->tiles[r->n_tiles++];
  t->render = r;
  t->kind = ref->kind;
  t->path = g_strdup (ref->path);
  t->label = g_strdup_printf ("%s %u%s", wr2v_ref_kind_word (ref->kind),
      ref->number, suffix);
  t->name = wr2v_reference_name (ref);
  return t;
}

/* The first-frame image, when there is one: a tile of the whole frame,
 * still, appended after the layout (the moving tiles' turn is over). */
static gboolean
add_first_frame (Render * r, const Wr2vRequest * req, GError ** error)
{
  for (guint j = 0; j < req->references->len; j++) {
    const Wr2vReference *ref = g_ptr_array_index (req->references, j);
    Tile *t;

    if (!ref->first_frame)
      continue;
    if (!(t = new_tile (r, ref, ": first frame", error)))
      return FALSE;
    t->box_w = r->width;
    t->box_h = r->height;
    r->first_frame = TRUE;
    return TRUE;
  }
  return TRUE;
}

/* The first frame shows alone for the first key interval (a second, or
 * the first shot), above everything, then gives way to the animatic. */
static void
hold_first_frame (Tile * t)
{
  Render *r = t->render;
  GstControlSource *cs = gst_interpolation_control_source_new ();
  GstTimedValueControlSource *tv = GST_TIMED_VALUE_CONTROL_SOURCE (cs);

  g_object_set (cs, "mode", GST_INTERPOLATION_MODE_NONE, NULL);
  gst_timed_value_control_source_set (tv, 0, 1.0);
  gst_timed_value_control_source_set (tv, r->key_time[1], 0.0);
  gst_object_add_control_binding (GST_OBJECT (t->comp_pad),
      gst_direct_control_binding_new_absolute (GST_OBJECT (t->comp_pad),
          "alpha", cs));
  gst_object_unref (cs);
  g_object_set (t->comp_pad, "zorder", 2 + WR2V_MAX_REFERENCES, NULL);
}

static gboolean
collect_tiles (Render * r, const Wr2vRequest * req, GError ** error)
{
  g_autoptr (GArray) named =
      wr2v_prompt_named_references (req->prompt ? req->prompt : "", req);

  for (guint i = 0; i < named->len && r->n_tiles < WR2V_MAX_REFERENCES; i++) {
    guint number = g_array_index (named, guint, i);

    for (guint j = 0; j < req->references->len; j++) {
      const Wr2vReference *ref = g_ptr_array_index (req->references, j);

      if (ref->number != number || ref->first_frame)
        continue;
      if (!new_tile (r, ref, "", error))
        return FALSE;
      break;
    }
  }
  return TRUE;
}

/* The soundtrack: a cue as each shown reference comes in turn, evenly
 * over the clip (one at the start when none is shown), or at each cut of
 * a multi-shot clip. */
static void
add_soundtrack (Render * r, const Wr2vRequest * req, GstElement * mux)
{
  GstClockTime cues[PREVIEW_MAX_KEYS];
  guint n = MAX (r->n_tiles, 1);
  g_autoptr (GPtrArray) voices = g_ptr_array_new ();

  if (r->interp == GST_INTERPOLATION_MODE_NONE) {
    n = r->n_keys - 1;
    memcpy (cues, r->key_time, n * sizeof cues[0]);
  } else {
    for (guint i = 0; i < n; i++)
      cues[i] = gst_util_uint64_scale (req->duration * GST_SECOND, i, n);
  }
  /* the voices the references speak in, over the bed */
  for (guint i = 0; i < req->references->len; i++) {
    const Wr2vReference *ref = g_ptr_array_index (req->references, i);

    if (ref->voice_path)
      g_ptr_array_add (voices, ref->voice_path);
  }
  g_ptr_array_add (voices, NULL);
  wr2v_preview_add_soundtrack (GST_BIN (r->pipeline), mux, req->duration,
      r->bed_hz, cues, n, (const gchar * const *) voices->pdata);
}

/* compositor ! capsfilter ! textoverlay (prompt) ! x264enc ! mp4mux !
 * filesink, with the soundtrack, and the probe that ends the clip. */
static gboolean
add_output (Render * r, const Wr2vRequest * req, GstElement * comp,
    const gchar * out_path, GError ** error)
{
  GstElement *outcaps, *caption, *enc, *mux, *sink;
  g_autofree gchar *font = NULL;
  g_autofree gchar *text = NULL;
  gint caption_px;
  GstCaps *c;
  GstPad *pad;

  if (!(outcaps = add_element (r, "capsfilter", error))
      || !(caption = add_element (r, "textoverlay", error))
      || !(enc = add_element (r, "x264enc", error))
      || !(mux = add_element (r, "mp4mux", error))
      || !(sink = add_element (r, "filesink", error)))
    return FALSE;
  c = gst_caps_new_simple ("video/x-raw", "format", G_TYPE_STRING, "I420",
      "width", G_TYPE_INT, r->width, "height", G_TYPE_INT, r->height,
      "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1,
      "framerate", GST_TYPE_FRACTION, PREVIEW_FPS, 1, NULL);
  g_object_set (outcaps, "caps", c, NULL);
  gst_caps_unref (c);
  gst_util_set_object_arg (G_OBJECT (comp), "background", "black");

  caption_px = MAX (12, MIN (r->width, r->height) / 24);
  font = g_strdup_printf ("Sans %dpx", caption_px);
  text = caption_text (req->prompt, r->width, caption_px);
  g_object_set (caption, "text", text, "font-desc", font, "auto-resize",
      FALSE, "shaded-background", TRUE, "ypad", r->height / 30, "xpad",
      r->width / 20, NULL);
  gst_util_set_object_arg (G_OBJECT (caption), "valignment", "bottom");
  gst_util_set_object_arg (G_OBJECT (caption), "halignment", "center");
  gst_util_set_object_arg (G_OBJECT (caption), "line-alignment", "center");
  gst_util_set_object_arg (G_OBJECT (caption), "wrap-mode", "word");

  /* An animatic needs no more than veryfast at constant quality: it is
   * several times cheaper than the default (medium, CBR) and mostly static
   * pictures still look clean. x264enc's own rc-lookahead default (40)
   * would override the preset's; 5 keeps fewer frames in flight, which
   * also makes stopping cheaper. A fixed thread count keeps the bitstream
   * the same on every machine (x264 is deterministic per thread count). */
  gst_util_set_object_arg (G_OBJECT (enc), "speed-preset", "veryfast");
  gst_util_set_object_arg (G_OBJECT (enc), "pass", "qual");
  g_object_set (enc, "quantizer", 23, "threads", 2, "rc-lookahead", 5,
      "key-int-max", 2 * PREVIEW_FPS, NULL);
  g_object_set (sink, "location", out_path, NULL);

  if (!gst_element_link_many (comp, outcaps, caption, enc, mux, sink, NULL))
    return link_failed (error, "encoder");
  add_soundtrack (r, req, mux);

  pad = gst_element_get_static_pad (comp, "src");
  gst_pad_add_probe (pad, GST_PAD_PROBE_TYPE_BUFFER, on_composed, r, NULL);
  gst_object_unref (pad);
  return TRUE;
}

static gboolean
build_pipeline (Render * r, const Wr2vRequest * req, const gchar * out_path,
    GError ** error)
{
  g_autoptr (GRand) rand = preview_rand_new (req);
  GstElement *comp;

  r->pipeline = gst_pipeline_new ("wr2v-preview");
  r->bus = gst_element_get_bus (r->pipeline);

  if (!(comp = add_element (r, "compositor", error))
      || !add_backdrop (r, comp, rand, error)
      || !collect_tiles (r, req, error))
    return FALSE;
  layout_tiles (r, rand);
  /* drawn last: the pictures stay as they were before the soundtrack */
  r->bed_hz = g_rand_double_range (rand, 110.0, 220.0);
  if (!add_first_frame (r, req, error))
    return FALSE;
  for (guint i = 0; i < r->n_tiles; i++)
    if (!add_tile (r, comp, &r->tiles[i], 2 + i, error))
      return FALSE;
  if (r->first_frame)
    hold_first_frame (&r->tiles[r->n_tiles - 1]);
  return add_output (r, req, comp, out_path, error);
}

static void
on_cancelled (GCancellable * cancellable, GstBus * bus)
{
  /* any thread: wake the job thread's bus wait */
  gst_bus_post (bus, gst_message_new_application (NULL,
          gst_structure_new_empty (MSG_CANCEL)));
}

/* The reference whose branch posted @msg, if any. */
static const Tile *
tile_of (Render * r, GstMessage * msg)
{
  for (guint i = 0; i < r->n_tiles; i++) {
    const Tile *t = &r->tiles[i];

    if (t->decoder && (GST_MESSAGE_SRC (msg) == GST_OBJECT (t->source)
            || gst_object_has_as_ancestor (GST_MESSAGE_SRC (msg),
                GST_OBJECT (t->decoder))))
      return t;
  }
  return NULL;
}

typedef enum
{
  RENDER_DONE,
  RENDER_FAILED,
  RENDER_CANCELLED,
} RenderResult;

/* Waits for EOS, an error or cancellation; reports progress meanwhile. */
static RenderResult
wait_render (Render * r, GError ** error)
{
  GCancellable *cancellable = r->job->cancellable;
  RenderResult result = RENDER_FAILED;
  gulong handler = 0;
  gint last_frames = -1, idle = 0;
  gboolean done = FALSE;

  if (cancellable)
    handler = g_cancellable_connect (cancellable, G_CALLBACK (on_cancelled),
        gst_object_ref (r->bus), (GDestroyNotify) gst_object_unref);

  while (!done) {
    GstMessage *msg = gst_bus_timed_pop_filtered (r->bus, GST_SECOND,
        GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_APPLICATION);

    if (!msg) {
      gint n = g_atomic_int_get (&r->frames);

      if (n != last_frames) {
        last_frames = n;
        idle = 0;
      } else if (++idle >= PREVIEW_STALL_SECONDS) {
        g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
            "The preview render stalled at frame %d of %d.", n,
            r->frames_total);
        done = TRUE;
      }
      continue;
    }

    switch (GST_MESSAGE_TYPE (msg)) {
      case GST_MESSAGE_EOS:
        result = RENDER_DONE;
        done = TRUE;
        break;
      case GST_MESSAGE_ERROR:{
        const Tile *t = tile_of (r, msg);
        GError *err = NULL;
        gchar *debug = NULL;

        gst_message_parse_error (msg, &err, &debug);
        GST_WARNING ("render failed: %s (%s)", err->message,
            GST_STR_NULL (debug));
        if (err->domain == WR2V_ERROR)
          /* ours (post_error): it names the reference already */
          g_propagate_error (error, g_steal_pointer (&err));
        else if (t)
          g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
              "The preview render could not read %s: %s", t->name,
              err->message);
        else
          g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
              "The preview render failed: %s", err->message);
        g_clear_error (&err);
        g_free (debug);
        done = TRUE;
        break;
      }
      case GST_MESSAGE_APPLICATION:{
        const GstStructure *s = gst_message_get_structure (msg);
        gint pct;

        if (gst_structure_has_name (s, MSG_CANCEL)) {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED,
              "Operation was cancelled");
          result = RENDER_CANCELLED;
          done = TRUE;
        } else if (gst_structure_get_int (s, "percent", &pct) && pct < 100) {
          /* 100% is said once, when the clip is whole (below) */
          wr2v_job_phase (r->job, WR2V_PHASE_GENERATING,
              "rendering preview: %d%%", pct);
        }
        break;
      }
      default:
        break;
    }
    gst_message_unref (msg);
  }

  if (cancellable)
    g_cancellable_disconnect (cancellable, handler);
  return result;
}

static void
render_free (Render * r)
{
  if (r->pipeline) {
    GST_DEBUG ("stopping the pipeline");
    gst_element_set_state (r->pipeline, GST_STATE_NULL);
    GST_DEBUG ("stopped");
  }
  if (r->unlink_path)
    g_unlink (r->unlink_path);
  for (guint i = 0; i < r->n_tiles; i++) {
    g_clear_object (&r->tiles[i].comp_pad);
    g_free (r->tiles[i].path);
    g_free (r->tiles[i].label);
    g_free (r->tiles[i].name);
  }
  g_clear_object (&r->layer_pad);
  g_clear_object (&r->bus);
  g_clear_object (&r->pipeline);
  g_free (r->unlink_path);
  g_free (r);
}

static void
teardown_func (gpointer data, gpointer user_data)
{
  render_free (data);
}

static gboolean
preview_generate (Wr2vEngine * engine, Wr2vJob * job, const gchar * out_path,
    GError ** error)
{
  PreviewEngine *priv = engine->priv;
  const Wr2vRequest *req = job->request;
  RenderResult result = RENDER_FAILED;
  Render *r;

  if (!preview_check (engine, req, error))
    return FALSE;
  if (g_cancellable_set_error_if_cancelled (job->cancellable, error))
    return FALSE;

  r = g_new0 (Render, 1);
  r->job = job;
  wr2v_output_size (req->resolution, req->aspect_ratio, &r->width, &r->height);
  r->frames_total = req->duration * PREVIEW_FPS;
  /* a key every second or so: a calm drift, not a jitter; multi-shot: a
   * key (a cut) every two seconds or so, 2 to 5 shots */
  r->interp = req->shot_type == WR2V_SHOT_MULTI ?
      GST_INTERPOLATION_MODE_NONE : GST_INTERPOLATION_MODE_CUBIC_MONOTONIC;
  if (r->interp == GST_INTERPOLATION_MODE_NONE)
    r->n_keys = CLAMP (req->duration / 2, 2, 5) + 1;
  else
    r->n_keys = CLAMP (req->duration + 1, 2, PREVIEW_MAX_KEYS);
  for (guint k = 0; k < r->n_keys; k++)
    r->key_time[k] = gst_util_uint64_scale (req->duration * GST_SECOND, k,
        r->n_keys - 1);

  GST_INFO ("rendering %dx%d, %u s, seed %" G_GINT64_FORMAT " to %s",
      r->width, r->height, req->duration, req->seed, out_path);
  wr2v_job_phase (job, WR2V_PHASE_GENERATING, "rendering preview: 0%%");

  if (build_pipeline (r, req, out_path, error)) {
    if (gst_element_set_state (r->pipeline, GST_STATE_PLAYING) ==
        GST_STATE_CHANGE_FAILURE) {
      GstMessage *msg = gst_bus_pop_filtered (r->bus, GST_MESSAGE_ERROR);
      GError *err = NULL;

      if (msg)
        gst_message_parse_error (msg, &err, NULL);
      g_set_error (error, WR2V_ERROR, WR2V_ERROR_INTERNAL,
          "The preview render could not start: %s",
          err ? err->message : "state change failed");
      g_clear_error (&err);
      if (msg)
        gst_message_unref (msg);
    } else {
      result = wait_render (r, error);
    }
  }
  r->job = NULL;

  if (result == RENDER_CANCELLED) {
    /* Stopping x264enc encodes the frames it holds back, tens of ms at
     * 1080p: do that on the pool so that a cancel returns at once. The
     * partial file goes now; on POSIX its open descriptor keeps writing to
     * the unlinked inode until the pipeline is down. */
    if (g_unlink (out_path) != 0 && errno != ENOENT)
      r->unlink_path = g_strdup (out_path);
    g_thread_pool_push (priv->teardown, r, NULL);
    return FALSE;
  }

  render_free (r);
  if (result != RENDER_DONE) {
    /* never leave a partial clip behind */
    g_unlink (out_path);
    return FALSE;
  }
  wr2v_job_phase (job, WR2V_PHASE_GENERATING, "rendering preview: 100%%");
  return TRUE;
}

static void
preview_finalize (Wr2vEngine * engine)
{
  PreviewEngine *priv = engine->priv;

  /* waits for cancelled renders still stopping */
  g_thread_pool_free (priv->teardown, FALSE, TRUE);
  g_free (priv);
}

static const Wr2vEngineClass preview_class = {
  WR2V_ENGINE_LOCAL_RULES (preview),
  .description = "Built-in offline animatic (no network, no key, no GPU)",
  /* the animatic starts on the first frame and cuts for multi-shot; a
   * voice (a file or a stream, checked like everywhere) plays over the
   * soundtrack's bed, so that voiced pipelines run offline */
  .inputs = WR2V_INPUT_FIRST_FRAME | WR2V_INPUT_SHOT_TYPE | WR2V_INPUT_VOICE,
  .generate = preview_generate,
  .finalize = preview_finalize,
};

Wr2vEngine *
wr2v_engine_preview_new (void)
{
  static gsize once;
  Wr2vEngine *engine;
  PreviewEngine *priv;

  if (g_once_init_enter (&once)) {
    GST_DEBUG_CATEGORY_INIT (wr2v_preview_debug, "wanr2vpreview", 0,
        "wanr2v preview engine");
    g_once_init_leave (&once, 1);
  }
  priv = g_new0 (PreviewEngine, 1);
  /* shared threads: nothing runs here unless a render was cancelled */
  priv->teardown = g_thread_pool_new (teardown_func, NULL, 1, FALSE, NULL);
  engine = g_new0 (Wr2vEngine, 1);
  engine->klass = &preview_class;
  engine->priv = priv;
  return engine;
}
