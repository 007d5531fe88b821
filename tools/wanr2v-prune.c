/* wanr2v-prune: removes old clips from a wanr2v result store, by age or
 * by size (wr2v_store_prune). Jobs in flight are never touched.
 *
 *   wanr2v-prune [--cache-dir DIR] [--older-than DAYS] [--max-size SIZE]
 *
 * SIZE takes a K, M or G suffix (powers of 1024). With neither limit it
 * only reports what the store holds. See docs/troubleshooting.md.
 */
#include <stdlib.h>
#include <glib.h>
#include <gst/gst.h>

#include "wr2v-store.h"

static gboolean
parse_size (const gchar * s, guint64 * bytes)
{
  gchar *end = NULL;
  gdouble v = g_ascii_strtod (s, &end);
  guint64 unit = 1;

  if (end == s || v < 0)
    return FALSE;
  switch (g_ascii_toupper (*end)) {
    case 'G':
      unit <<= 10;
      /* fall through */
    case 'M':
      unit <<= 10;
      /* fall through */
    case 'K':
      unit <<= 10;
      end++;
      break;
    case '\0':
      break;
    default:
      return FALSE;
  }
  if (*end == 'B' || *end == 'b')
    end++;
  *bytes = (guint64) (v * unit);
  return *end == '\0';
}

int
main (int argc, char **argv)
{
  g_autofree gchar *cache_dir = NULL;
  g_autofree gchar *max_size = NULL;
  gdouble older_than_days = 0;
  GOptionEntry entries[] = {
    {"cache-dir", 'c', 0, G_OPTION_ARG_FILENAME, &cache_dir,
        "The store (the element's cache-dir; default: "
          "$XDG_CACHE_HOME/gstreamer-1.0/wanr2v)", "DIR"},
    {"older-than", 'a', 0, G_OPTION_ARG_DOUBLE, &older_than_days,
        "Remove clips last written more than DAYS days ago", "DAYS"},
    {"max-size", 's', 0, G_OPTION_ARG_STRING, &max_size,
        "Then remove the oldest clips until the rest weigh at most SIZE "
          "(e.g. 500M, 20G)", "SIZE"},
    {NULL}
  };
  g_autoptr (GOptionContext) ctx =
      g_option_context_new ("- prune the wanr2v result store");
  g_autoptr (Wr2vStore) store = NULL;
  GError *err = NULL;
  Wr2vPruneStats stats;
  guint64 max_bytes = 0;

  g_option_context_add_main_entries (ctx, entries, NULL);
  if (!g_option_context_parse (ctx, &argc, &argv, &err)) {
    g_printerr ("wanr2v-prune: %s\n", err->message);
    return 2;
  }
  if (older_than_days < 0 || (max_size && !parse_size (max_size, &max_bytes))) {
    g_printerr ("wanr2v-prune: --older-than takes days (>= 0), --max-size "
        "a size such as 500M or 20G\n");
    return 2;
  }
  store = wr2v_store_open (cache_dir, &err);
  if (!store || !wr2v_store_prune (store, (gint64) (older_than_days * 86400),
          max_bytes, &stats, &err)) {
    g_printerr ("wanr2v-prune: %s\n", err->message);
    return 1;
  }
  g_print ("%s: removed %u clips (%" G_GUINT64_FORMAT " bytes), kept %u (%"
      G_GUINT64_FORMAT " bytes)\n", wr2v_store_dir (store), stats.removed,
      stats.removed_bytes, stats.kept, stats.kept_bytes);
  return 0;
}
