/* wr2v-test-element.h: what the element tests written for issue 11
 * (test-element-live, test-element-props) share: removing their files,
 * parsing a pipeline, and the process' private TMPDIR. */
#pragma once

#include <glib/gstdio.h>
#include <gst/gst.h>

#include "wr2v-test-pipeline.h"

/* Removes @path, a file or a directory tree (symlinks not followed). */
static inline void
wr2v_test_rm_rf (const gchar * path)
{
  GDir *d;
  const gchar *name;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR) ||
      g_file_test (path, G_FILE_TEST_IS_SYMLINK)) {
    g_unlink (path);
    return;
  }
  d = g_dir_open (path, 0, NULL);
  while (d && (name = g_dir_read_name (d))) {
    g_autofree gchar *child = g_build_filename (path, name, NULL);
    wr2v_test_rm_rf (child);
  }
  if (d)
    g_dir_close (d);
  g_rmdir (path);
}

/* A pipeline from @desc; fails the test when it does not parse. */
static inline GstElement *
wr2v_test_parse (const gchar * desc)
{
  GError *err = NULL;
  GstElement *p = gst_parse_launch_full (desc, NULL,
      GST_PARSE_FLAG_FATAL_ERRORS, &err);

  g_assert_no_error (err);
  g_assert_nonnull (p);
  return p;
}

/* A private TMPDIR from @tmpl ("/tmp/name-XXXXXX", modified), set before
 * GLib reads it, and no API key: engine=auto picks preview. Call first in
 * main(). */
static inline gchar *
wr2v_test_private_tmp (gchar * tmpl)
{
  gchar *dir = g_mkdtemp (tmpl);

  g_assert_nonnull (dir);
  g_setenv ("TMPDIR", dir, TRUE);
  g_unsetenv ("WAVESPEED_API_KEY");
  g_unsetenv ("DASHSCOPE_API_KEY");
  return dir;
}
