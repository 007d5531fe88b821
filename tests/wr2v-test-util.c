/* wr2v-test-util.c: see wr2v-test-util.h. */
#include "wr2v-test-util.h"

#include <string.h>
#include <glib/gstdio.h>

const gchar *
wr2v_test_srcdir (void)
{
  const gchar *d = g_getenv ("WANR2V_TESTS_SRCDIR");

  return d ? d : "tests";
}

const gchar *
wr2v_test_python (void)
{
  const gchar *p = g_getenv ("WANR2V_PYTHON");

  return p ? p : "/usr/bin/python3";
}

void
wr2v_test_rm_rf (const gchar * path)
{
  GDir *d;
  const gchar *name;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR) ||
      g_file_test (path, G_FILE_TEST_IS_SYMLINK)) {
    g_unlink (path);
    return;
  }
  /* a test may have made it read-only */
  g_chmod (path, 0700);
  d = g_dir_open (path, 0, NULL);
  while (d && (name = g_dir_read_name (d))) {
    gchar *child = g_build_filename (path, name, NULL);

    wr2v_test_rm_rf (child);
    g_free (child);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (path);
}

guint
wr2v_test_count_dir (const gchar * path)
{
  GDir *d = g_dir_open (path, 0, NULL);
  guint n = 0;

  while (d && g_dir_read_name (d))
    n++;
  if (d)
    g_dir_close (d);
  return n;
}

gboolean
wr2v_test_play_to_eos (GstElement * pipeline, GstClockTime timeout)
{
  GstBus *bus = gst_element_get_bus (pipeline);
  GstMessage *msg;
  gboolean ok;

  gst_element_set_state (pipeline, GST_STATE_PLAYING);
  msg = gst_bus_timed_pop_filtered (bus, timeout,
      GST_MESSAGE_EOS | GST_MESSAGE_ERROR);
  ok = msg && GST_MESSAGE_TYPE (msg) == GST_MESSAGE_EOS;
  if (msg)
    gst_message_unref (msg);
  gst_element_set_state (pipeline, GST_STATE_NULL);
  gst_object_unref (bus);
  return ok;
}

gboolean
wr2v_test_run_to_eos (const gchar * desc, GstClockTime timeout)
{
  GError *err = NULL;
  GstElement *p = gst_parse_launch (desc, &err);
  gboolean ok;

  if (!p || err) {
    g_printerr ("cannot build \"%s\": %s\n", desc,
        err ? err->message : "no pipeline");
    g_clear_error (&err);
    if (p)
      gst_object_unref (p);
    return FALSE;
  }
  ok = wr2v_test_play_to_eos (p, timeout);
  gst_object_unref (p);
  return ok;
}

gboolean
wr2v_test_make_clip (const gchar * path, guint frames, gint width,
    gint height, gint fps)
{
  return wr2v_test_make_clip_with_sound (path, frames, width, height, fps,
      FALSE);
}

gboolean
wr2v_test_make_clip_with_sound (const gchar * path, guint frames,
    gint width, gint height, gint fps, gboolean soundtrack)
{
  /* 48 kHz in buffers of 1600 samples: 30 a second, the clip's length */
  g_autofree gchar *sound = soundtrack ? g_strdup_printf ("audiotestsrc "
      "samplesperbuffer=1600 num-buffers=%u ! audio/x-raw,rate=48000,"
      "channels=2 ! audioconvert ! avenc_aac ! mux. ",
      (guint) ((guint64) frames * 30 / fps)) : g_strdup ("");
  gchar *desc = g_strdup_printf ("videotestsrc num-buffers=%u "
      "pattern=ball ! video/x-raw,width=%d,height=%d,framerate=%d/1 ! "
      "x264enc speed-preset=ultrafast ! mux. %smp4mux name=mux ! "
      "filesink location=\"%s\"", frames, width, height, fps, sound, path);
  gboolean ok = wr2v_test_run_to_eos (desc, 120 * GST_SECOND);

  g_free (desc);
  return ok;
}

/* --- secrets --------------------------------------------------------- */

static GPtrArray *secrets;      /* set up before any thread logs */
static gint secret_leaks;       /* atomic */

void
wr2v_test_add_secret (const gchar * secret)
{
  if (!secrets)
    secrets = g_ptr_array_new ();
  g_ptr_array_add (secrets, (gpointer) secret);
}

gboolean
wr2v_test_has_secret (const gchar * s)
{
  guint i;

  for (i = 0; s && secrets && i < secrets->len; i++)
    if (strstr (s, g_ptr_array_index (secrets, i)))
      return TRUE;
  return FALSE;
}

static void
gst_log_spy (GstDebugCategory * category, GstDebugLevel level,
    const gchar * file, const gchar * function, gint line, GObject * object,
    GstDebugMessage * message, gpointer user_data)
{
  const gchar *text = gst_debug_message_get (message);

  if (wr2v_test_has_secret (text))
    g_atomic_int_inc (&secret_leaks);
  if (g_getenv ("WANR2V_TEST_VERBOSE"))
    g_printerr ("%s %s\n", gst_debug_category_get_name (category), text);
}

static void
glib_log_spy (const gchar * domain, GLogLevelFlags level,
    const gchar * message, gpointer user_data)
{
  if (wr2v_test_has_secret (message))
    g_atomic_int_inc (&secret_leaks);
  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL))
    g_log_default_handler (domain, level, message, user_data);
}

void
wr2v_test_watch_logs (void)
{
  if (!g_getenv ("WANR2V_TEST_VERBOSE"))
    gst_debug_remove_log_function (gst_debug_log_default);
  gst_debug_add_log_function (gst_log_spy, NULL, NULL);
  gst_debug_set_active (TRUE);
  gst_debug_set_threshold_for_name ("wanr2v*", GST_LEVEL_MEMDUMP);
  g_log_set_handler ("wanr2v", G_LOG_LEVEL_MASK | G_LOG_FLAG_FATAL |
      G_LOG_FLAG_RECURSION, glib_log_spy, NULL);
}

gint
wr2v_test_secret_leaks (void)
{
  return g_atomic_int_get (&secret_leaks);
}

void
wr2v_test_reset_secret_leaks (void)
{
  g_atomic_int_set (&secret_leaks, 0);
}

void
wr2v_test_assert_no_secret_in_tree (const gchar * dir)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;

  if (!d)
    return;
  while ((name = g_dir_read_name (d))) {
    gchar *path = g_build_filename (dir, name, NULL);
    gchar *data = NULL;
    gsize len = 0;
    guint i;

    if (g_file_test (path, G_FILE_TEST_IS_DIR)) {
      wr2v_test_assert_no_secret_in_tree (path);
    } else if (g_file_get_contents (path, &data, &len, NULL)) {
      for (i = 0; secrets && i < secrets->len; i++)
        g_assert_null (g_strstr_len (data, len, g_ptr_array_index (secrets,
                    i)));
    }
    g_free (data);
    g_free (path);
  }
  g_dir_close (d);
}
