/* libpq and libsoup are loaded when first used, not with the plugin
 * (src/wr2v-lazylib.h): a pipeline that uses neither ComfyUI nor a fleet
 * store does not map them; the loader's errors name the library, what
 * needs it and the package to install. The first case must run first. */
#include <gst/gst.h>
#include <string.h>

#include "wr2v-error.h"
#include "wr2v-lazylib.h"
#include "wr2v-pq.h"
#include "wr2v-soup.h"
#include "wr2v-test-util.h"

#define TIMEOUT (60 * GST_SECOND)

/* Whether a library whose file name starts with @prefix is mapped. */
static gboolean
mapped (const gchar * prefix)
{
  g_autofree gchar *maps = NULL;
  g_autofree gchar *needle = g_strconcat ("/", prefix, NULL);

  g_assert_true (g_file_get_contents ("/proc/self/maps", &maps, NULL, NULL));
  return strstr (maps, needle) != NULL;
}

static void
test_not_loaded_by_the_plugin (void)
{
  g_autofree gchar *cache = g_dir_make_tmp ("wr2v-lazylib-XXXXXX", NULL);
  g_autofree gchar *desc = g_strdup_printf ("wanr2v name=g engine=preview "
      "duration=1 prompt=\"Video 1 waves\" cache-dir=\"%s\" ! fakesink "
      "videotestsrc num-buffers=15 ! video/x-raw,width=320,height=240,"
      "framerate=30/1 ! g.video_0", cache);

  g_assert_false (mapped ("libpq.so"));
  g_assert_false (mapped ("libsoup-3.0.so"));
  /* a whole job, the plugin loaded and its element run */
  g_assert_true (wr2v_test_run_to_eos (desc, TIMEOUT));
  g_assert_false (mapped ("libpq.so"));
  g_assert_false (mapped ("libsoup-3.0.so"));
  wr2v_test_rm_rf (cache);
}

static void
test_loaded_on_use (void)
{
  GError *err = NULL;
  const Wr2vPq *pq = wr2v_pq (&err);
  const Wr2vSoup *soup;
  PQconninfoOption *opts, *o;
  const gchar *dbname = NULL;

  g_assert_no_error (err);
  g_assert_true (mapped ("libpq.so"));
  opts = pq->PQconninfoParse ("host=db.example dbname=fleet", NULL);
  for (o = opts; o && o->keyword; o++)
    if (strcmp (o->keyword, "dbname") == 0)
      dbname = o->val;
  g_assert_cmpstr (dbname, ==, "fleet");
  pq->PQconninfoFree (opts);
  /* the second call gives the same table */
  g_assert_true (wr2v_pq (NULL) == pq);

  soup = wr2v_soup (&err);
  g_assert_no_error (err);
  g_assert_true (mapped ("libsoup-3.0.so"));
  g_assert_cmpstr (g_quark_to_string (soup->soup_websocket_error_quark ()),
      ==, "soup-websocket-error-quark");
}

static gboolean
resolve_nothing (GModule * module, GError ** error)
{
  return TRUE;
}

static gpointer missing_function;

static gboolean
resolve_missing (GModule * module, GError ** error)
{
  return wr2v_lazylib_symbol (module, "wr2v_no_such_function",
      &missing_function, error);
}

/* Each failure is said once and then given again, unchanged. */
static void
assert_fails_twice (Wr2vLazyLib * lib, const gchar * const *words)
{
  for (guint round = 0; round < 2; round++) {
    GError *err = NULL;

    g_assert_false (wr2v_lazylib_open (lib, &err));
    g_assert_error (err, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED);
    for (guint i = 0; words[i]; i++)
      if (!strstr (err->message, words[i]))
        g_error ("\"%s\" not in: %s", words[i], err->message);
    g_error_free (err);
  }
}

static void
test_errors (void)
{
  Wr2vLazyLib absent = {.soname = "libwr2v-absent.so.9",.package =
        "libwr2v-absent9",.needed_for = "the absent engine",.resolve =
        resolve_nothing
  };
  Wr2vLazyLib incomplete = {.soname = "libz.so.1",.package = "zlib1g",
    .needed_for = "the test",.resolve = resolve_missing
  };
  /* libc is in every process: stands for libsoup 2 */
  Wr2vLazyLib conflicting = {.soname = "libz.so.1",.package = "zlib1g",
    .needed_for = "the test",.conflicts_with = "libc.so.6",
    .resolve = resolve_nothing
  };
  const gchar *absent_words[] = { "the absent engine", "libwr2v-absent.so.9",
    "install Debian's package libwr2v-absent9", NULL
  };
  const gchar *incomplete_words[] = { "libz.so.1", "zlib1g",
    "wr2v_no_such_function", NULL
  };
  const gchar *conflicting_words[] = { "libz.so.1", "libc.so.6",
    "process of its own", NULL
  };

  assert_fails_twice (&absent, absent_words);
  assert_fails_twice (&incomplete, incomplete_words);
  g_assert_null (missing_function);
  assert_fails_twice (&conflicting, conflicting_words);
  g_assert_true (wr2v_lazylib_is_loaded ("libc.so.6"));
  g_assert_false (wr2v_lazylib_is_loaded ("libwr2v-absent.so.9"));
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

  /* first: nothing else has loaded a library yet */
  g_test_add_func ("/lazylib/not-loaded-by-the-plugin",
      test_not_loaded_by_the_plugin);
  g_test_add_func ("/lazylib/loaded-on-use", test_loaded_on_use);
  g_test_add_func ("/lazylib/errors", test_errors);
  return g_test_run ();
}
