/* wr2v-test-util.h: small things every test program of tests/ needs:
 * where the test sources and the Python are, a recursive delete, running
 * a pipeline to its end, and the watch on log output for secrets (API
 * keys) that must never show.
 *
 * The fake servers are found through WANR2V_TESTS_SRCDIR and run with
 * WANR2V_PYTHON, as meson's test environment sets them. */
#pragma once

#include <glib.h>
#include <gst/gst.h>

G_BEGIN_DECLS
/* tests/ in the source tree ("tests" when not run by meson) */
const gchar *wr2v_test_srcdir (void);

/* the Python that runs the fake servers (Debian's /usr/bin/python3) */
const gchar *wr2v_test_python (void);

/* Deletes @path and what is below it, also after a test made it
 * read-only; a symbolic link is removed, not followed. */
void wr2v_test_rm_rf (const gchar * path);

/* Entries in a directory (/proc/self/task: threads, /proc/self/fd: open
 * files), not counting "." and "..". */
guint wr2v_test_count_dir (const gchar * path);

/* Plays @pipeline to EOS and sets it to NULL; FALSE on an error or a
 * timeout. */
gboolean wr2v_test_play_to_eos (GstElement * pipeline, GstClockTime timeout);

/* Runs a pipeline description to EOS; FALSE on an error, a timeout or a
 * description that does not parse (said on stderr). */
gboolean wr2v_test_run_to_eos (const gchar * desc, GstClockTime timeout);

/* An H.264 MP4 of @frames frames of @width x @height at @fps, what a
 * service delivers. */
gboolean wr2v_test_make_clip (const gchar * path, guint frames, gint width,
    gint height, gint fps);

/* The same with an AAC soundtrack of the clip's length (a tone), as
 * Wan 2.6/2.7 hosts deliver, when @soundtrack. */
gboolean wr2v_test_make_clip_with_sound (const gchar * path, guint frames,
    gint width, gint height, gint fps, gboolean soundtrack);

/* --- secrets --------------------------------------------------------- */

/* @secret (an API key) must show in no log line, message or file. */
void wr2v_test_add_secret (const gchar * secret);

/* Whether @s holds one of the secrets. */
gboolean wr2v_test_has_secret (const gchar * s);

/* Routes every GStreamer log line (at every level of the wanr2v
 * categories) and the wanr2v GLib log domain through a spy that counts
 * the lines that hold a secret. GStreamer's own output is kept only with
 * WANR2V_TEST_VERBOSE. */
void wr2v_test_watch_logs (void);

/* Log lines that held a secret so far (the spy's count). */
gint wr2v_test_secret_leaks (void);
void wr2v_test_reset_secret_leaks (void);

/* Asserts that no file below @dir holds a secret. */
void wr2v_test_assert_no_secret_in_tree (const gchar * dir);

G_END_DECLS
