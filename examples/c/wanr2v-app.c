/* wanr2v-app.c: generate a clip with the wanr2v element from C.
 *
 * Builds the pipeline
 *
 *   reference videos (files, or two test sources) --> video_0, video_1
 *   reference images (files, or one test PNG)      --> image_0
 *   wanr2v ! videoconvert ! x264enc ! mp4mux ! filesink
 *
 * and runs it in a GLib main loop with a bus watch: a progress bar from
 * GST_MESSAGE_PROGRESS and the wanr2v/... element messages, the engine and
 * the cost estimate, the element's own error message (and its debug
 * details with --verbose) and a non-zero exit status on error. Ctrl-C sets
 * the pipeline to NULL, which stops a job at once.
 *
 *   build/examples/wanr2v-app -o clip.mp4 "Video 1 hands Image 3 to Video 2"
 *
 * The engine is "auto" unless --engine is given: a hosted engine when its
 * API key is set (WAVESPEED_API_KEY, DASHSCOPE_API_KEY), else the offline
 * preview. Built by meson (examples/meson.build), not installed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <gst/gst.h>

#define DEFAULT_PROMPT "Video 1 hands Image 3 to Video 2 in a sunny park"
#define BAR_WIDTH 30

/* Where each phase sits on the overall bar (percent): generation takes up
 * to 90 %, encoding the output the rest. */
static const struct
{
  const gchar *code;
  gdouble lo, hi;
} phases[] = {
  {"prepare", 0, 5},
  {"upload", 5, 15},
  {"submit", 15, 18},
  {"queued", 18, 25},
  {"generating", 25, 85},
  {"download", 85, 88},
  {"decode", 88, 90},
  {"encode", 90, 100},
};

typedef struct
{
  /* options */
  gchar *prompt;
  gchar *output;
  gchar *engine;
  gint duration;
  gchar *aspect_ratio;
  gchar *cache_dir;
  gchar *result_location;
  gchar **videos;
  gchar **images;
  gboolean verbose;

  /* running */
  GMainLoop *loop;
  GstElement *pipeline;
  GstElement *gen;
  gint exit_code;
  guint position_timeout;

  /* the bar */
  gboolean tty;
  gint64 start_us;
  gint phase;                   /* index in phases[], -1 before any */
  gdouble percent;
  gchar *text;
  gchar *last_plain;
  gboolean shown;
} App;

/* --- the progress bar (stderr) --- */

static gint
phase_index (const gchar * code)
{
  for (guint i = 0; code && i < G_N_ELEMENTS (phases); i++)
    if (g_str_equal (phases[i].code, code))
      return i;
  return -1;
}

static gint
terminal_columns (void)
{
  struct winsize ws;

  /* a pseudo-terminal may say 0 */
  if (ioctl (STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
    return ws.ws_col - 1;
  return 79;
}

static void
bar_draw (App * app)
{
  gint64 elapsed = (g_get_monotonic_time () - app->start_us) / G_USEC_PER_SEC;
  g_autofree gchar *line = NULL;

  if (app->tty) {
    gchar bar[BAR_WIDTH + 1];
    gint filled = (gint) (BAR_WIDTH * app->percent / 100);

    memset (bar, '#', filled);
    memset (bar + filled, '-', BAR_WIDTH - filled);
    bar[BAR_WIDTH] = '\0';
    line = g_strdup_printf ("[%s] %3d%% %d:%02d %s", bar, (gint) app->percent,
        (gint) (elapsed / 60), (gint) (elapsed % 60),
        app->text ? app->text : "");
    if ((gint) strlen (line) > terminal_columns ())
      line[terminal_columns ()] = '\0';
    g_printerr ("\r\033[K%s", line);
    app->shown = TRUE;
  } else {
    line = g_strdup_printf ("%3d%% %s", (gint) app->percent,
        app->text ? app->text : "");
    if (g_strcmp0 (line, app->last_plain) != 0) {
      g_printerr ("[%d:%02d] %s\n", (gint) (elapsed / 60),
          (gint) (elapsed % 60), line);
      g_free (app->last_plain);
      app->last_plain = g_steal_pointer (&line);
    }
  }
}

/* @code: a phase, or NULL to stay; @fraction: of that phase, or < 0 when
 * unknown; @text: NULL to keep the last one. */
static void
bar_update (App * app, const gchar * code, gdouble fraction,
    const gchar * text)
{
  gint phase = phase_index (code);

  if (phase >= 0 && phase != app->phase) {
    app->phase = phase;
    if (fraction < 0)
      fraction = 0;
  }
  if (text) {
    g_free (app->text);
    app->text = g_strdup (text);
  }
  if (app->phase >= 0 && fraction >= 0) {
    gdouble lo = phases[app->phase].lo, hi = phases[app->phase].hi;
    gdouble p = lo + (hi - lo) * CLAMP (fraction, 0.0, 1.0);

    app->percent = MAX (app->percent, p);      /* never backwards */
  }
  bar_draw (app);
}

/* Prints a line above the bar. */
static void G_GNUC_PRINTF (2, 3)
    bar_message (App * app, const gchar * format, ...)
{
  va_list args;
  g_autofree gchar *msg = NULL;

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  if (app->tty && app->shown)
    g_printerr ("\r\033[K");
  g_printerr ("%s\n", msg);
  if (app->tty && app->shown)
    bar_draw (app);
}

static void
bar_finish (App * app)
{
  if (app->tty && app->shown)
    g_printerr ("\n");
  app->shown = FALSE;
}

static gchar *
format_cost (gdouble usd, const gchar * currency)
{
  if (usd < 0)
    return g_strdup ("unknown");
  if (usd == 0)
    return g_strdup_printf ("free (0.00 %s)", currency);
  return g_strdup_printf ("%.2f %s", usd, currency);
}

/* --- stopping --- */

static void
app_stop (App * app, gint code)
{
  if (app->position_timeout) {
    g_source_remove (app->position_timeout);
    app->position_timeout = 0;
  }
  /* NULL stops a job at once, wherever it is */
  if (app->pipeline)
    gst_element_set_state (app->pipeline, GST_STATE_NULL);
  /* an MP4 without its index is of no use */
  if (code != 0)
    g_unlink (app->output);
  if (app->exit_code == 0)
    app->exit_code = code;
  g_main_loop_quit (app->loop);
}

static gboolean
on_sigint (gpointer user_data)
{
  App *app = user_data;

  bar_finish (app);
  g_printerr ("interrupted: stopping the pipeline\n");
  app_stop (app, 130);
  return G_SOURCE_REMOVE;
}

static gboolean
on_start_failed (gpointer user_data)
{
  App *app = user_data;

  /* normally the element's ERROR message got here first */
  if (app->exit_code == 0) {
    g_printerr ("error: the pipeline could not start\n");
    app_stop (app, 1);
  }
  return G_SOURCE_REMOVE;
}

/* --- bus --- */

static gboolean
poll_position (gpointer user_data)
{
  App *app = user_data;
  gint64 pos;

  if (gst_element_query_position (app->pipeline, GST_FORMAT_TIME, &pos)
      && pos >= 0) {
    g_autofree gchar *text = NULL;
    g_autofree gchar *base = g_path_get_basename (app->output);

    text = g_strdup_printf ("encoding %s: %.1f of %d s", base,
        (gdouble) pos / GST_SECOND, app->duration);
    bar_update (app, "encode",
        (gdouble) pos / ((gdouble) app->duration * GST_SECOND), text);
  }
  return G_SOURCE_CONTINUE;
}

static void
on_progress (App * app, GstMessage * msg)
{
  GstProgressType type;
  g_autofree gchar *code = NULL;
  g_autofree gchar *text = NULL;

  gst_message_parse_progress (msg, &type, &code, &text);
  switch (type) {
    case GST_PROGRESS_TYPE_START:
      bar_update (app, "prepare", 0, text);
      break;
    case GST_PROGRESS_TYPE_CONTINUE:{
      /* the preview engine says "rendering preview: 45%" */
      const gchar *pct = text ? strchr (text, '%') : NULL;
      gdouble fraction = -1;

      if (pct) {
        const gchar *digits = pct;

        while (digits > text && g_ascii_isdigit (digits[-1]))
          digits--;
        if (digits < pct)
          fraction = g_ascii_strtod (digits, NULL) / 100.0;
      }
      bar_update (app, code, fraction, text);
      break;
    }
    case GST_PROGRESS_TYPE_COMPLETE:
      bar_update (app, "decode", 1, text);
      /* from now on the bar follows the encoder's position */
      if (!app->position_timeout)
        app->position_timeout = g_timeout_add (200, poll_position, app);
      break;
    case GST_PROGRESS_TYPE_CANCELED:
      bar_message (app, "generation canceled: %s", text);
      break;
    case GST_PROGRESS_TYPE_ERROR:
      bar_message (app, "generation failed: %s", text);
      break;
  }
}

static void
on_wanr2v_message (App * app, const GstStructure * s)
{
  const gchar *name = gst_structure_get_name (s);

  if (g_str_equal (name, "wanr2v/engine")) {
    bar_message (app, "engine: %s (%s)",
        gst_structure_get_string (s, "engine"),
        gst_structure_get_string (s, "reason"));
  } else if (g_str_equal (name, "wanr2v/references")) {
    g_autoptr (GString) names = g_string_new (NULL);

    for (gint i = 0; i < gst_structure_n_fields (s); i++) {
      const gchar *field = gst_structure_nth_field_name (s, i);

      g_string_append_printf (names, "%s%s = %s", i ? ", " : "", field,
          gst_structure_get_string (s, field));
    }
    bar_message (app, "prompt numbering: %s", names->str);
  } else if (g_str_equal (name, "wanr2v/cost")) {
    gdouble usd = -1;
    const gchar *currency = gst_structure_get_string (s, "currency");
    g_autofree gchar *cost = NULL;

    gst_structure_get_double (s, "estimated-usd", &usd);
    cost = format_cost (usd, currency ? currency : "USD");
    bar_message (app, "estimated cost: %s on %s", cost,
        gst_structure_get_string (s, "engine"));
  } else if (g_str_equal (name, "wanr2v/submitted")) {
    bar_message (app, "submitted: job %s on %s",
        gst_structure_get_string (s, "job-id"),
        gst_structure_get_string (s, "engine"));
  } else if (g_str_equal (name, "wanr2v/resumed")) {
    bar_message (app, "resumed: job %s (submitted by an earlier run)",
        gst_structure_get_string (s, "job-id"));
  } else if (g_str_equal (name, "wanr2v/status")) {
    const gchar *status = gst_structure_get_string (s, "status");
    gint step = 0, steps = 0;

    if (gst_structure_get_int (s, "step", &step)
        && gst_structure_get_int (s, "steps", &steps) && steps > 0) {
      g_autofree gchar *text = g_strdup_printf ("%s: step %d of %d",
          status ? status : "", step, steps);

      bar_update (app, "generating", (gdouble) step / steps, text);
    } else {
      bar_update (app, NULL, -1, status);
    }
  } else if (g_str_equal (name, "wanr2v/result")) {
    gboolean cached = FALSE;

    gst_structure_get_boolean (s, "cached", &cached);
    bar_message (app, "clip: %s%s", gst_structure_get_string (s, "location"),
        cached ? " (from the result store)" : "");
  }
}

static gboolean
on_bus_message (GstBus * bus, GstMessage * msg, gpointer user_data)
{
  App *app = user_data;

  switch (GST_MESSAGE_TYPE (msg)) {
    case GST_MESSAGE_ERROR:{
      g_autoptr (GError) err = NULL;
      g_autofree gchar *debug = NULL;
      g_autofree gchar *path = gst_object_get_path_string (msg->src);
      const GstStructure *details = NULL;

      gst_message_parse_error (msg, &err, &debug);
      bar_finish (app);
      g_printerr ("error: %s\n", err->message);
      if (app->verbose) {
        g_printerr ("  from: %s\n", path);
        g_printerr ("  domain: %s, code %d\n", g_quark_to_string (err->domain),
            err->code);
        if (debug)
          g_printerr ("  debug: %s\n", debug);
        gst_message_parse_error_details (msg, &details);
        if (details) {
          g_autofree gchar *str = gst_structure_to_string (details);
          g_printerr ("  details: %s\n", str);
        }
      } else {
        g_printerr ("(run with --verbose for the details)\n");
      }
      app_stop (app, 1);
      break;
    }
    case GST_MESSAGE_WARNING:{
      g_autoptr (GError) err = NULL;
      g_autofree gchar *debug = NULL;

      gst_message_parse_warning (msg, &err, &debug);
      bar_message (app, "warning: %s", err->message);
      break;
    }
    case GST_MESSAGE_EOS:
      bar_update (app, "encode", 1, "done");
      bar_finish (app);
      g_print ("wrote %s\n", app->output);
      app_stop (app, 0);
      break;
    case GST_MESSAGE_PROGRESS:
      on_progress (app, msg);
      break;
    case GST_MESSAGE_ELEMENT:{
      const GstStructure *s = gst_message_get_structure (msg);

      if (s && g_str_has_prefix (gst_structure_get_name (s), "wanr2v/"))
        on_wanr2v_message (app, s);
      break;
    }
    case GST_MESSAGE_STATE_CHANGED:
      if (msg->src == GST_OBJECT (app->gen)) {
        GstState old, new;

        gst_message_parse_state_changed (msg, &old, &new, NULL);
        if (old == GST_STATE_READY && new == GST_STATE_PAUSED) {
          gdouble usd = -1;
          g_autofree gchar *cost = NULL;

          /* known from PAUSED on: 0 for free engines */
          g_object_get (app->gen, "estimated-cost", &usd, NULL);
          cost = format_cost (usd, "USD");
          bar_message (app, "estimated-cost property: %s", cost);
        }
      }
      break;
    default:
      break;
  }
  return G_SOURCE_CONTINUE;
}

/* --- building the pipeline --- */

static GstElement *
make (App * app, const gchar * factory, GError ** error)
{
  GstElement *e = gst_element_factory_make (factory, NULL);

  if (!e) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_MISSING_PLUGIN,
        "GStreamer element %s is missing: %s", factory,
        g_str_has_prefix (factory, "wanr2v") ?
        "build the plugin (bash .ci/build) or install it, or set "
        "GST_PLUGIN_PATH to the directory holding libgstwanr2v.so" :
        "install the GStreamer plugins (bash .ci/install-deps)");
    return NULL;
  }
  gst_bin_add (GST_BIN (app->pipeline), e);
  return e;
}

/* Links @last (the end of a reference's chain) to a new request pad of
 * wanr2v from @templ ("video_%u" or "image_%u"). */
static gboolean
link_reference (App * app, GstElement * last, const gchar * templ,
    const gchar * what, GError ** error)
{
  GstPad *pad = gst_element_request_pad_simple (app->gen, templ);
  GstPad *src = gst_element_get_static_pad (last, "src");
  gboolean ok = pad && gst_pad_link (src, pad) == GST_PAD_LINK_OK;

  if (ok)
    bar_message (app, "reference %s: %s", GST_PAD_NAME (pad), what);
  else
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
        "Cannot link %s to wanr2v %s", what, templ);
  gst_object_unref (src);
  if (pad)
    gst_object_unref (pad);
  return ok;
}

static gboolean
link_file (App * app, const gchar * path, const gchar * templ,
    GError ** error)
{
  GstElement *src = make (app, "filesrc", error);

  if (!src)
    return FALSE;
  g_object_set (src, "location", path, NULL);
  return link_reference (app, src, templ, path, error);
}

static gboolean
link_test_source (App * app, const gchar * pattern, gboolean image,
    GError ** error)
{
  GstElement *src = make (app, "videotestsrc", error);
  GstElement *next = src ? make (app, image ? "pngenc" : "capsfilter",
      error) : NULL;
  g_autofree gchar *what = NULL;

  if (!next)
    return FALSE;
  g_object_set (src, "num-buffers", image ? 1 : 60, NULL);
  gst_util_set_object_arg (G_OBJECT (src), "pattern", pattern);
  if (!image) {
    GstCaps *caps = gst_caps_from_string
        ("video/x-raw,width=640,height=360,framerate=30/1");
    g_object_set (next, "caps", caps, NULL);
    gst_caps_unref (caps);
  }
  gst_element_link (src, next);
  what = g_strdup_printf ("videotestsrc pattern=%s%s", pattern,
      image ? " ! pngenc" : "");
  return link_reference (app, next, image ? "image_%u" : "video_%u", what,
      error);
}

/* Sets an enum property from its nick, as gst-launch-1.0 would, but
 * refuses a nick the enum doesn't have instead of ignoring it. */
static gboolean
set_enum (GstElement * element, const gchar * prop, const gchar * nick,
    GError ** error)
{
  GParamSpec *pspec =
      g_object_class_find_property (G_OBJECT_GET_CLASS (element), prop);
  GEnumClass *klass;
  g_autoptr (GString) nicks = g_string_new (NULL);

  g_assert (pspec && G_IS_PARAM_SPEC_ENUM (pspec));
  klass = G_PARAM_SPEC_ENUM (pspec)->enum_class;
  if (g_enum_get_value_by_nick (klass, nick)) {
    gst_util_set_object_arg (G_OBJECT (element), prop, nick);
    return TRUE;
  }
  for (guint i = 0; i < klass->n_values; i++)
    g_string_append_printf (nicks, "%s%s", i ? ", " : "",
        klass->values[i].value_nick);
  g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_FAILED,
      "%s \"%s\" is not one of: %s", prop, nick, nicks->str);
  return FALSE;
}

static gboolean
build (App * app, GError ** error)
{
  GstElement *convert, *capsfilter, *encoder, *muxer, *sink;
  GstCaps *caps;

  app->pipeline = gst_pipeline_new ("wanr2v-app");
  if (!(app->gen = make (app, "wanr2v", error)))
    return FALSE;
  g_object_set (app->gen, "prompt", app->prompt, "duration", app->duration,
      NULL);
  /* enum properties from their nicks, as gst-launch-1.0 would */
  if (!set_enum (app->gen, "engine", app->engine, error))
    return FALSE;
  if (app->aspect_ratio
      && !set_enum (app->gen, "aspect-ratio", app->aspect_ratio, error))
    return FALSE;
  if (app->cache_dir)
    g_object_set (app->gen, "cache-dir", app->cache_dir, NULL);
  if (app->result_location)
    g_object_set (app->gen, "result-location", app->result_location, NULL);

  if (!(convert = make (app, "videoconvert", error))
      || !(capsfilter = make (app, "capsfilter", error))
      || !(encoder = make (app, "x264enc", error))
      || !(muxer = make (app, "mp4mux", error))
      || !(sink = make (app, "filesink", error)))
    return FALSE;
  caps = gst_caps_from_string ("video/x-raw,format=I420");
  g_object_set (capsfilter, "caps", caps, NULL);
  gst_caps_unref (caps);
  g_object_set (sink, "location", app->output, NULL);
  if (!gst_element_link_many (app->gen, convert, capsfilter, encoder, muxer,
          sink, NULL)) {
    g_set_error (error, GST_CORE_ERROR, GST_CORE_ERROR_NEGOTIATION,
        "Cannot link the output chain");
    return FALSE;
  }

  if (app->videos || app->images) {
    for (gchar ** v = app->videos; v && *v; v++)
      if (!link_file (app, *v, "video_%u", error))
        return FALSE;
    for (gchar ** i = app->images; i && *i; i++)
      if (!link_file (app, *i, "image_%u", error))
        return FALSE;
  } else {
    /* Stand-ins: two 2-second test videos and one PNG image. */
    if (!link_test_source (app, "ball", FALSE, error)
        || !link_test_source (app, "smpte", FALSE, error)
        || !link_test_source (app, "pinwheel", TRUE, error))
      return FALSE;
  }
  return TRUE;
}

/* Uses this build tree's plugin when there is one (meson passes its
 * directory); otherwise GStreamer finds the installed plugin by itself.
 * Must run before gst_init(). */
static void
use_build_plugin_dir (void)
{
#ifdef WANR2V_BUILD_PLUGIN_DIR
  if (g_file_test (WANR2V_BUILD_PLUGIN_DIR, G_FILE_TEST_IS_DIR)) {
    const gchar *old = g_getenv ("GST_PLUGIN_PATH");
    g_autofree gchar *path = old && *old ?
        g_strconcat (WANR2V_BUILD_PLUGIN_DIR, G_SEARCHPATH_SEPARATOR_S, old,
        NULL) : g_strdup (WANR2V_BUILD_PLUGIN_DIR);

    g_setenv ("GST_PLUGIN_PATH", path, TRUE);
  }
#endif
}

int
main (int argc, char **argv)
{
  App app = {.engine = NULL, .duration = 5, .phase = -1 };
  g_autoptr (GOptionContext) ctx = NULL;
  g_autoptr (GError) err = NULL;
  GstBus *bus;
  guint bus_watch;
  gint ret;
  GOptionEntry entries[] = {
    {"output", 'o', 0, G_OPTION_ARG_FILENAME, &app.output,
        "The MP4 to write (default: wanr2v-app.mp4)", "FILE"},
    {"engine", 'e', 0, G_OPTION_ARG_STRING, &app.engine,
        "auto, preview, wavespeed, dashscope or comfyui (default: auto)",
        "ENGINE"},
    {"duration", 'd', 0, G_OPTION_ARG_INT, &app.duration,
        "Clip length in seconds (default: 5)", "SECONDS"},
    {"aspect-ratio", 0, 0, G_OPTION_ARG_STRING, &app.aspect_ratio,
        "16:9, 9:16, 1:1, 4:3 or 3:4", "RATIO"},
    {"cache-dir", 0, 0, G_OPTION_ARG_FILENAME, &app.cache_dir,
        "Result store (default: the element's)", "DIR"},
    {"result-location", 0, 0, G_OPTION_ARG_FILENAME, &app.result_location,
        "Also save the MP4 as delivered by the engine here", "FILE"},
    {"video", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &app.videos,
        "A reference video (MP4); repeat for more", "FILE"},
    {"image", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &app.images,
        "A reference image (PNG or JPEG); repeat for more", "FILE"},
    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &app.verbose,
        "Print the debug details of errors", NULL},
    {NULL}
  };

  use_build_plugin_dir ();
  ctx = g_option_context_new ("[PROMPT]");
  g_option_context_set_summary (ctx, "Generates a clip from reference "
      "videos, images and a prompt with the wanr2v GStreamer element, into "
      "an MP4 file. PROMPT names references \"Video 1\", \"Video 2\", "
      "\"Image 3\" (default: \"" DEFAULT_PROMPT "\").");
  g_option_context_add_main_entries (ctx, entries, NULL);
  g_option_context_add_group (ctx, gst_init_get_option_group ());
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("%s\n", err->message);
    return 2;
  }
  if (argc > 2) {
    g_printerr ("Give the prompt as one argument (quote it)\n");
    return 2;
  }
  app.prompt = g_strdup (argc == 2 ? argv[1] : DEFAULT_PROMPT);
  if (!app.output)
    app.output = g_strdup ("wanr2v-app.mp4");
  if (!app.engine)
    app.engine = g_strdup ("auto");
  app.tty = isatty (STDERR_FILENO);
  app.start_us = g_get_monotonic_time ();
  app.loop = g_main_loop_new (NULL, FALSE);

  if (!build (&app, &err)) {
    g_printerr ("error: %s\n", err->message);
    ret = 1;
    goto out;
  }

  bus = gst_pipeline_get_bus (GST_PIPELINE (app.pipeline));
  bus_watch = gst_bus_add_watch (bus, on_bus_message, &app);
  gst_object_unref (bus);
  g_unix_signal_add (SIGINT, on_sigint, &app);

  if (gst_element_set_state (app.pipeline, GST_STATE_PLAYING) ==
      GST_STATE_CHANGE_FAILURE)
    /* the element posted why as an ERROR message: the loop prints it */
    g_timeout_add (1000, on_start_failed, &app);
  g_main_loop_run (app.loop);
  g_source_remove (bus_watch);
  ret = app.exit_code;

out:
  if (app.pipeline) {
    gst_element_set_state (app.pipeline, GST_STATE_NULL);
    gst_object_unref (app.pipeline);
  }
  g_main_loop_unref (app.loop);
  g_free (app.prompt);
  g_free (app.output);
  g_free (app.engine);
  g_free (app.aspect_ratio);
  g_free (app.cache_dir);
  g_free (app.result_location);
  g_strfreev (app.videos);
  g_strfreev (app.images);
  g_free (app.text);
  g_free (app.last_plain);
  gst_deinit ();
  return ret;
}
