/* gstwanr2vtakes.c: the wanr2v bin's take pads; see gstwanr2vtakes.h.
 *
 * Each take is `uridecodebin3 uri=file://<take>` inside the bin, named
 * "take-decoder-<n>"; its video pad goes through videoconvert to the
 * ghost pad take_<n>, its audio pad through audioconvert to
 * take_audio_<n>. The decoders are found again by name, so the bin keeps
 * no state of its own for them.
 */
#include "gstwanr2vtakes.h"

GST_DEBUG_CATEGORY_STATIC (gst_wanr2v_takes_debug);
#define GST_CAT_DEFAULT gst_wanr2v_takes_debug

#define DECODER_PREFIX "take-decoder-"
#define CONVERT_PREFIX "take-convert-"

static GstStaticPadTemplate take_template =
GST_STATIC_PAD_TEMPLATE (GST_WANR2V_TAKE_TEMPLATE, GST_PAD_SRC,
    GST_PAD_SOMETIMES, GST_STATIC_CAPS ("video/x-raw(ANY)"));
static GstStaticPadTemplate take_audio_template =
GST_STATIC_PAD_TEMPLATE (GST_WANR2V_TAKE_AUDIO_TEMPLATE, GST_PAD_SRC,
    GST_PAD_SOMETIMES, GST_STATIC_CAPS ("audio/x-raw"));

void
gst_wanr2v_takes_add_templates (GstElementClass * klass)
{
  GST_DEBUG_CATEGORY_INIT (gst_wanr2v_takes_debug, "wanr2vtakes", 0,
      "wanr2v take pads");
  gst_element_class_add_static_pad_template (klass, &take_template);
  gst_element_class_add_static_pad_template (klass, &take_audio_template);
}

static GMutex add_lock;

/* A take pad nobody linked drops what comes: a not-linked flow would be
 * an error of the take's demuxer, and of the pipeline. */
static GstPadProbeReturn
drop_unlinked (GstPad * pad, GstPadProbeInfo * info, gpointer ghost)
{
  return gst_pad_is_linked (GST_PAD (ghost)) ? GST_PAD_PROBE_OK :
      GST_PAD_PROBE_DROP;
}

/* decoder's video or audio pad -> convert -> ghost take_<n> or
 * take_audio_<n> of the bin */
static void
on_take_pad (GstElement * decoder, GstPad * pad, gpointer data)
{
  GstBin *bin = GST_BIN (data);
  guint n = GPOINTER_TO_UINT (g_object_get_data (G_OBJECT (decoder),
          "take"));
  g_autoptr (GstCaps) caps = gst_pad_query_caps (pad, NULL);
  const gchar *media = gst_structure_get_name (gst_caps_get_structure (caps,
          0));
  gboolean audio = g_str_has_prefix (media, "audio/");
  g_autofree gchar *name = g_strdup_printf (audio ? "take_audio_%u" :
      "take_%u", n);
  g_autofree gchar *convert_name = g_strdup_printf (CONVERT_PREFIX "%s",
      name);
  GstElement *convert;
  g_autoptr (GstPad) sink = NULL;
  g_autoptr (GstPad) src = NULL;
  GstPad *ghost;

  if (!audio && !g_str_has_prefix (media, "video/"))
    return;
  convert = gst_element_factory_make (audio ? "audioconvert" :
      "videoconvert", convert_name);
  gst_bin_add (bin, convert);
  sink = gst_element_get_static_pad (convert, "sink");
  src = gst_element_get_static_pad (convert, "src");
  if (gst_pad_link (pad, sink) != GST_PAD_LINK_OK) {
    GST_WARNING_OBJECT (bin, "cannot link %s", name);
    return;
  }
  ghost = gst_ghost_pad_new_from_template (name, src,
      gst_element_class_get_pad_template (GST_ELEMENT_GET_CLASS (bin),
          audio ? GST_WANR2V_TAKE_AUDIO_TEMPLATE : GST_WANR2V_TAKE_TEMPLATE));
  gst_pad_add_probe (src, GST_PAD_PROBE_TYPE_BUFFER |
      GST_PAD_PROBE_TYPE_BUFFER_LIST, drop_unlinked, ghost, NULL);
  gst_pad_set_active (ghost, TRUE);
  gst_element_sync_state_with_parent (convert);
  GST_INFO_OBJECT (bin, "take %u on %s", n, name);
  /* one pad-added at a time: the takes' decoders add theirs from their
   * own threads, and a "pad-added" handler that links and disconnects
   * itself (gst-launch's delayed links) must not run twice at once */
  g_mutex_lock (&add_lock);
  gst_element_add_pad (GST_ELEMENT (bin), ghost);
  g_mutex_unlock (&add_lock);
}

void
gst_wanr2v_takes_add (GstBin * bin, const GstStructure * variants)
{
  const GValue *locations = gst_structure_get_value (variants,
      "take-locations");

  for (guint i = 0; locations && i < gst_value_array_get_size (locations); i++) {
    const gchar *path =
        g_value_get_string (gst_value_array_get_value (locations, i));
    g_autofree gchar *name = g_strdup_printf (DECODER_PREFIX "%u", i);
    g_autofree gchar *uri = gst_filename_to_uri (path, NULL);
    GstElement *decoder = NULL;

    if (!uri || (decoder = gst_bin_get_by_name (bin, name))) {
      g_clear_object (&decoder);
      continue;                 /* already there (a rerun of the job) */
    }
    decoder = gst_element_factory_make ("uridecodebin3", name);
    if (!decoder) {
      GST_WARNING_OBJECT (bin, "no uridecodebin3: no take pads");
      return;
    }
    g_object_set (decoder, "uri", uri, NULL);
    g_object_set_data (G_OBJECT (decoder), "take", GUINT_TO_POINTER (i));
    g_signal_connect (decoder, "pad-added", G_CALLBACK (on_take_pad), bin);
    gst_bin_add (bin, decoder);
    gst_element_sync_state_with_parent (decoder);
  }
}

static gboolean
is_take_element (const GValue * value, const GValue * unused)
{
  GstElement *el = g_value_get_object (value);

  return !(g_str_has_prefix (GST_OBJECT_NAME (el), DECODER_PREFIX) ||
      g_str_has_prefix (GST_OBJECT_NAME (el), CONVERT_PREFIX));
}

static gboolean
is_take_pad (const GValue * value, const GValue * unused)
{
  return !g_str_has_prefix (GST_OBJECT_NAME (g_value_get_object (value)),
      "take_");
}

void
gst_wanr2v_takes_remove (GstBin * bin)
{
  GstIterator *it;
  GValue found = G_VALUE_INIT;

  for (;;) {
    it = gst_element_iterate_src_pads (GST_ELEMENT (bin));
    if (!gst_iterator_find_custom (it, (GCompareFunc) is_take_pad, &found,
            NULL)) {
      gst_iterator_free (it);
      break;
    }
    gst_iterator_free (it);
    gst_element_remove_pad (GST_ELEMENT (bin), g_value_get_object (&found));
    g_value_unset (&found);
  }
  for (;;) {
    GstElement *el;

    it = gst_bin_iterate_elements (bin);
    if (!gst_iterator_find_custom (it, (GCompareFunc) is_take_element,
            &found, NULL)) {
      gst_iterator_free (it);
      break;
    }
    gst_iterator_free (it);
    el = g_value_get_object (&found);
    gst_element_set_state (el, GST_STATE_NULL);
    gst_bin_remove (bin, el);
    g_value_unset (&found);
  }
}
