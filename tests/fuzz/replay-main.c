/* replay-main.c: a main() for a fuzz target built without libFuzzer.
 *
 * Runs LLVMFuzzerTestOneInput() once on every file named on the command
 * line, or found in the directories named on it: the seed corpora in
 * tests/fuzz/corpus/<target>/ (and any crash reproducer added there) are
 * replayed by `meson test` in every build, with or without sanitizers.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>

#include "fuzz-common.h"

static guint runs;

static void
replay_file (const gchar * path)
{
  gchar *data = NULL;
  gsize len = 0;
  GError *err = NULL;

  if (!g_file_get_contents (path, &data, &len, &err)) {
    g_printerr ("%s: %s\n", path, err->message);
    g_error_free (err);
    exit (1);
  }
  LLVMFuzzerTestOneInput ((const uint8_t *) data, len);
  g_free (data);
  runs++;
}

static gint
compare_paths (gconstpointer a, gconstpointer b)
{
  return g_strcmp0 (*(const gchar * const *) a, *(const gchar * const *) b);
}

static void
replay (const gchar * path)
{
  GDir *d;
  const gchar *name;
  GPtrArray *names;
  guint i;

  if (!g_file_test (path, G_FILE_TEST_IS_DIR)) {
    replay_file (path);
    return;
  }
  d = g_dir_open (path, 0, NULL);
  if (!d)
    return;
  /* in a stable order, so that a failure names the same file each time */
  names = g_ptr_array_new_with_free_func (g_free);
  while ((name = g_dir_read_name (d)))
    g_ptr_array_add (names, g_build_filename (path, name, NULL));
  g_dir_close (d);
  g_ptr_array_sort (names, compare_paths);
  for (i = 0; i < names->len; i++)
    replay (g_ptr_array_index (names, i));
  g_ptr_array_unref (names);
}

int
main (int argc, char **argv)
{
  int i;

  if (argc < 2) {
    g_printerr ("usage: %s FILE-OR-DIR...\n", argv[0]);
    return 2;
  }
  for (i = 1; i < argc; i++)
    replay (argv[i]);
  if (runs == 0) {
    g_printerr ("no input found\n");
    return 1;
  }
  printf ("replayed %u inputs\n", runs);
  return 0;
}
