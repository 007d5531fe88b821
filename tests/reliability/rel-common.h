/* rel-common.h: helpers the reliability tests share (one header, static
 * functions: each test is one executable), on top of the tests' shared
 * fixture (wr2v-test-util.h, wr2v-fake-server.h). */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <gio/gio.h>
#include <gst/gst.h>

#include "wr2v-fake-server.h"
#include "wr2v-http.h"
#include "wr2v-test-util.h"

/* An H.264 MP4 clip of @seconds seconds at 30 fps, what a service
 * delivers. */
static inline gboolean
rel_make_clip (const gchar * path, guint seconds, gint width, gint height)
{
  return wr2v_test_make_clip (path, seconds * 30, width, height, 30);
}

/* Counts, per prompt, the submits the fake WaveSpeed server received:
 * prompt -> number (GUINT_TO_POINTER). */
static inline GHashTable *
rel_wavespeed_submits_by_prompt (Wr2vFakeServer * s, guint * total)
{
  JsonNode *stats = wr2v_fake_server_stats (s);
  JsonArray *submits = json_object_get_array_member (json_node_get_object
      (stats), "submits");
  GHashTable *by = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
      NULL);
  guint i;

  *total = json_array_get_length (submits);
  for (i = 0; i < *total; i++) {
    JsonObject *sub = json_array_get_object_element (submits, i);
    JsonObject *body = json_object_get_object_member (sub, "body");
    const gchar *prompt = body ? json_object_get_string_member_with_default
        (body, "prompt", "?") : "?";
    guint n = GPOINTER_TO_UINT (g_hash_table_lookup (by, prompt));

    g_hash_table_replace (by, g_strdup (prompt), GUINT_TO_POINTER (n + 1));
  }
  json_node_unref (stats);
  return by;
}

/* The files in @dir whose names end in @suffix. */
static inline guint
rel_count_files (const gchar * dir, const gchar * suffix)
{
  GDir *d = g_dir_open (dir, 0, NULL);
  const gchar *name;
  guint n = 0;

  while (d && (name = g_dir_read_name (d)))
    if (!suffix || g_str_has_suffix (name, suffix))
      n++;
  if (d)
    g_dir_close (d);
  return n;
}
