/* Unit tests of the core: canonical request, prompt indices, validation,
 * the result store. No pipeline runs here. */
#include <glib/gstdio.h>
#include <gst/gst.h>

#include "wr2v-engine.h"
#include "wr2v-error.h"
#include "wr2v-mp4.h"
#include "wr2v-prompt.h"
#include "wr2v-request.h"
#include "wr2v-store.h"
#include "wr2v-test-time.h"

static Wr2vRequest *
make_request (guint videos, guint images)
{
  Wr2vRequest *req = wr2v_request_new ();

  req->prompt = g_strdup ("Video 1 walks");
  /* added out of order on purpose: numbering must sort them */
  for (guint i = 0; i < images; i++) {
    Wr2vReference *ref = wr2v_reference_new (WR2V_REF_IMAGE, images - 1 - i);
    ref->sha256 = g_strdup_printf ("%064x", 100 + i);
    wr2v_request_add_reference (req, ref);
  }
  for (guint i = 0; i < videos; i++) {
    Wr2vReference *ref = wr2v_reference_new (WR2V_REF_VIDEO, videos - 1 - i);
    ref->sha256 = g_strdup_printf ("%064x", i);
    wr2v_request_add_reference (req, ref);
  }
  wr2v_request_number_references (req);
  return req;
}

static void
test_numbering (void)
{
  g_autoptr (Wr2vRequest) req = make_request (2, 2);
  const guint expect_pad[] = { 0, 1, 0, 1 };
  const Wr2vRefKind expect_kind[] = { WR2V_REF_VIDEO, WR2V_REF_VIDEO,
    WR2V_REF_IMAGE, WR2V_REF_IMAGE
  };

  g_assert_cmpuint (req->references->len, ==, 4);
  for (guint i = 0; i < 4; i++) {
    Wr2vReference *ref = g_ptr_array_index (req->references, i);
    g_assert_cmpuint (ref->number, ==, i + 1);
    g_assert_cmpuint (ref->pad_index, ==, expect_pad[i]);
    g_assert_cmpint (ref->kind, ==, expect_kind[i]);
  }
}

static void
test_canonical_hash (void)
{
  g_autoptr (Wr2vRequest) a = make_request (2, 1);
  g_autoptr (Wr2vRequest) b = make_request (2, 1);
  g_autofree gchar *ha = wr2v_request_hash (a, "preview:1");
  g_autofree gchar *hb = wr2v_request_hash (b, "preview:1");
  g_autofree gchar *hc = wr2v_request_hash (a, "wavespeed:m");
  g_autofree gchar *hd = NULL;
  g_autofree gchar *he = NULL;
  g_autofree gchar *canon = wr2v_request_canonical (a, "preview:1");

  g_assert_cmpuint (strlen (ha), ==, 64);
  g_assert_cmpstr (ha, ==, hb);
  g_assert_cmpstr (ha, !=, hc);
  g_assert_nonnull (strstr (canon, "\"prompt\":\"Video 1 walks\""));

  b->seed = 42;
  hd = wr2v_request_hash (b, "preview:1");
  g_assert_cmpstr (ha, !=, hd);

  /* the references' content is part of the key */
  b->seed = -1;
  g_free (((Wr2vReference *) g_ptr_array_index (b->references, 0))->sha256);
  ((Wr2vReference *) g_ptr_array_index (b->references, 0))->sha256 =
      g_strdup_printf ("%064x", 999);
  he = wr2v_request_hash (b, "preview:1");
  g_assert_cmpstr (ha, !=, he);
}

/* A voice's bytes are part of the key, like a reference's; a request
 * with no voice keeps the key it had before voices existed. */
static void
test_voice_hash (void)
{
  g_autoptr (Wr2vRequest) a = make_request (1, 0);
  g_autofree gchar *canon = wr2v_request_canonical (a, "preview:1");
  g_autofree gchar *h0 = wr2v_request_hash (a, "preview:1");
  g_autofree gchar *h1 = NULL, *h2 = NULL, *h3 = NULL;
  Wr2vReference *ref = g_ptr_array_index (a->references, 0);

  g_assert_null (strstr (canon, "voice"));
  ref->voice_sha256 = g_strdup_printf ("%064x", 1);
  ref->voice_path = g_strdup ("/tmp/a.wav");
  h1 = wr2v_request_hash (a, "preview:1");
  g_free (ref->voice_sha256);
  ref->voice_sha256 = g_strdup_printf ("%064x", 2);
  h2 = wr2v_request_hash (a, "preview:1");
  /* where the file lies (or the user's name for it) is not */
  g_free (ref->voice_path);
  ref->voice_path = g_strdup ("/tmp/elsewhere.wav");
  ref->voice_source = g_strdup ("/home/me/b.ogg");
  h3 = wr2v_request_hash (a, "preview:1");
  g_assert_cmpstr (h0, !=, h1);
  g_assert_cmpstr (h1, !=, h2);
  g_assert_cmpstr (h2, ==, h3);
}

static void
test_mentions (void)
{
  g_autoptr (GArray) m =
      wr2v_prompt_find_mentions ("Video 2 holds image3 while VIDEO  1 "
      "smiles; videos 4 and video12x are not mentions");
  Wr2vPromptMention *v;

  g_assert_cmpuint (m->len, ==, 3);
  v = &g_array_index (m, Wr2vPromptMention, 0);
  g_assert_cmpint (v->kind, ==, WR2V_REF_VIDEO);
  g_assert_cmpuint (v->number, ==, 2);
  g_assert_cmpuint (v->offset, ==, 0);
  g_assert_cmpuint (v->length, ==, 7);
  v = &g_array_index (m, Wr2vPromptMention, 1);
  g_assert_cmpint (v->kind, ==, WR2V_REF_IMAGE);
  g_assert_cmpuint (v->number, ==, 3);
  v = &g_array_index (m, Wr2vPromptMention, 2);
  g_assert_cmpuint (v->number, ==, 1);

  /* no crash on empty, NULL or invalid UTF-8 */
  g_array_unref (wr2v_prompt_find_mentions (""));
  g_array_unref (wr2v_prompt_find_mentions (NULL));
  g_array_unref (wr2v_prompt_find_mentions ("Video 1 \xff\xfe"));
}

static void
test_check_mentions (void)
{
  g_autoptr (Wr2vRequest) req = make_request (2, 1);
  GError *err = NULL;

  g_assert_true (wr2v_prompt_check_mentions ("Video 2 holds Image 3 near "
          "Video 1", req, NULL));
  g_assert_false (wr2v_prompt_check_mentions ("Video 3 jumps", req, &err));
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST);
  g_assert_nonnull (strstr (err->message, "Video 3"));
  g_assert_nonnull (strstr (err->message, "Video 1, Video 2 and Image 3"));
  g_clear_error (&err);
  /* images continue the count: with two videos there is no Image 1 */
  g_assert_false (wr2v_prompt_check_mentions ("Image 1 glows", req, &err));
  g_clear_error (&err);
  g_assert_false (wr2v_prompt_check_mentions ("Video 0", req, &err));
  g_clear_error (&err);
}

static void
test_named_references (void)
{
  g_autoptr (Wr2vRequest) req = make_request (2, 1);
  g_autoptr (GArray) some = wr2v_prompt_named_references ("Image 3 and "
      "Video 1 and again Video 1", req);
  g_autoptr (GArray) all = wr2v_prompt_named_references ("a park", req);

  g_assert_cmpuint (some->len, ==, 2);
  g_assert_cmpuint (g_array_index (some, guint, 0), ==, 1);
  g_assert_cmpuint (g_array_index (some, guint, 1), ==, 3);
  g_assert_cmpuint (all->len, ==, 3);
}

static void
test_translate (void)
{
  const gchar *p = "Video 2 holds Image 3 while video 1 smiles";
  g_autofree gchar *same = wr2v_prompt_translate (p, WR2V_PROMPT_STYLE_WAN27);
  g_autofree gchar *chr = wr2v_prompt_translate (p,
      WR2V_PROMPT_STYLE_CHARACTER);
  g_autofree gchar *at = wr2v_prompt_translate (p,
      WR2V_PROMPT_STYLE_AT_VIDEO);
  g_autofree gchar *img = wr2v_prompt_translate (p,
      WR2V_PROMPT_STYLE_REFERENCE_IMAGE);

  g_assert_cmpstr (same, ==, p);
  g_assert_cmpstr (chr, ==, "character2 holds character3 while character1 "
      "smiles");
  g_assert_cmpstr (at, ==, "@Video2 holds @Image3 while @Video1 smiles");
  g_assert_cmpstr (img, ==, "reference subject 2 holds reference subject 3 "
      "while reference subject 1 smiles");
}

static void
test_output_sizes (void)
{
  gint w, h;

  wr2v_output_size (WR2V_RESOLUTION_720P, WR2V_ASPECT_16_9, &w, &h);
  g_assert_cmpint (w, ==, 1280);
  g_assert_cmpint (h, ==, 720);
  wr2v_output_size (WR2V_RESOLUTION_1080P, WR2V_ASPECT_16_9, &w, &h);
  g_assert_cmpint (w, ==, 1920);
  g_assert_cmpint (h, ==, 1080);
  wr2v_output_size (WR2V_RESOLUTION_1080P, WR2V_ASPECT_9_16, &w, &h);
  g_assert_cmpint (w, ==, 1080);
  g_assert_cmpint (h, ==, 1920);
  wr2v_output_size (WR2V_RESOLUTION_720P, WR2V_ASPECT_1_1, &w, &h);
  g_assert_cmpint (w, ==, h);
}

static void
test_validation (void)
{
  g_autoptr (Wr2vEngine) engine = wr2v_engine_new ("preview", NULL, NULL);
  g_autoptr (Wr2vRequest) ok = make_request (2, 1);
  g_autoptr (Wr2vRequest) none = make_request (0, 0);
  g_autoptr (Wr2vRequest) six = make_request (3, 3);
  GError *err = NULL;

  g_assert_nonnull (engine);
  g_assert_true (wr2v_engine_check (engine, ok, &err));
  g_assert_no_error (err);

  g_free (ok->prompt);
  ok->prompt = g_strdup ("   ");
  g_assert_false (wr2v_engine_check (engine, ok, &err));
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST);
  g_assert_nonnull (strstr (err->message, "prompt is empty"));
  g_clear_error (&err);

  g_assert_false (wr2v_engine_check (engine, none, &err));
  g_assert_nonnull (strstr (err->message, "No reference"));
  g_clear_error (&err);

  g_assert_false (wr2v_engine_check (engine, six, &err));
  g_assert_nonnull (strstr (err->message, "at most 5"));
  g_clear_error (&err);

  g_assert_null (wr2v_engine_new ("nonsense", NULL, &err));
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_UNSUPPORTED);
  g_clear_error (&err);
}

static gchar *
make_tmp_dir (void)
{
  gchar *dir = g_dir_make_tmp ("wanr2v-test-XXXXXX", NULL);

  g_assert_nonnull (dir);
  return dir;
}

static void
remove_tree (const gchar * path)
{
  g_autofree gchar *cmd = g_strdup_printf ("rm -rf '%s'", path);

  g_assert_cmpint (system (cmd), ==, 0);
}

static void
test_store (void)
{
  g_autofree gchar *dir = make_tmp_dir ();
  g_autoptr (Wr2vStore) store = wr2v_store_open (dir, NULL);
  g_autofree gchar *tmp = NULL;
  g_autofree gchar *path = NULL;
  g_autofree gchar *found = NULL;
  g_autoptr (Wr2vResultMeta) meta = NULL;
  g_autoptr (Wr2vJournalEntry) entry = NULL;
  g_autoptr (Wr2vJournalEntry) entry2 = NULL;
  g_autofree gchar *url = NULL;
  Wr2vResultMeta in = {.engine = (gchar *) "wavespeed",.job_id =
        (gchar *) "pred_1",.source_url = (gchar *) "https://cdn/x.mp4"
  };
  const gchar *hash =
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  const gchar *sha =
      "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210";

  g_assert_nonnull (store);
  g_assert_null (wr2v_store_lookup (store, hash, NULL));

  tmp = wr2v_store_new_temp (store, ".mp4", NULL);
  g_assert_true (g_file_set_contents (tmp, "clip", 4, NULL));
  path = wr2v_store_commit (store, hash, tmp, &in, NULL);
  g_assert_nonnull (path);
  g_assert_false (g_file_test (tmp, G_FILE_TEST_EXISTS));
  found = wr2v_store_lookup (store, hash, &meta);
  g_assert_cmpstr (found, ==, path);
  g_assert_cmpstr (meta->job_id, ==, "pred_1");
  g_assert_cmpstr (meta->source_url, ==, "https://cdn/x.mp4");

  /* keys that are not digests never reach a path */
  g_assert_null (wr2v_store_lookup (store, "../../etc/passwd", NULL));
  g_assert_null (wr2v_store_journal_get (store, "../x"));

  g_assert_true (wr2v_store_journal_begin (store, hash, "wavespeed", NULL));
  entry = wr2v_store_journal_get (store, hash);
  g_assert_nonnull (entry);
  g_assert_null (entry->job_id);
  g_assert_true (wr2v_store_journal_set_job (store, hash, "wavespeed",
          "pred_2", NULL));
  entry2 = wr2v_store_journal_get (store, hash);
  g_assert_cmpstr (entry2->job_id, ==, "pred_2");
  wr2v_store_journal_clear (store, hash);
  g_assert_null (wr2v_store_journal_get (store, hash));

  g_assert_true (wr2v_store_upload_remember (store, "wavespeed", sha,
          "https://u/1", g_get_real_time () / G_USEC_PER_SEC + 3600, NULL));
  url = wr2v_store_upload_lookup (store, "wavespeed", sha, 60);
  g_assert_cmpstr (url, ==, "https://u/1");
  /* valid for less than the margin: not used */
  g_assert_null (wr2v_store_upload_lookup (store, "wavespeed", sha, 7200));

  remove_tree (dir);
}

static gboolean
cancel_later (gpointer data)
{
  g_cancellable_cancel (G_CANCELLABLE (data));
  return G_SOURCE_REMOVE;
}

static gpointer
run_one_iteration (gpointer ctx)
{
  g_main_context_iteration (ctx, TRUE);
  return NULL;
}

static gpointer
lock_in_thread (gpointer data)
{
  Wr2vStore *store = data;
  g_autoptr (GCancellable) c = g_cancellable_new ();
  g_autoptr (GMainContext) ctx = g_main_context_new ();
  GSource *timeout = g_timeout_source_new (100);
  GError *err = NULL;
  gint fd;

  /* cancel from a timer thread so the blocked lock call sees it */
  g_source_set_callback (timeout, cancel_later, c, NULL);
  g_source_attach (timeout, ctx);
  g_source_unref (timeout);
  {
    GThread *t = g_thread_new ("canceller", run_one_iteration, ctx);
    fd = wr2v_store_lock (store, "0123456789abcdef0123456789abcdef"
        "0123456789abcdef0123456789abcdef", c, &err);
    g_thread_join (t);
  }
  g_assert_cmpint (fd, ==, -1);
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&err);
  return NULL;
}

/* A second run of the same request waits for the first (flock), and a
 * stop interrupts that wait. */
static void
test_store_lock (void)
{
  g_autofree gchar *dir = make_tmp_dir ();
  g_autoptr (Wr2vStore) store = wr2v_store_open (dir, NULL);
  const gchar *hash =
      "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
  gint fd = wr2v_store_lock (store, hash, NULL, NULL);
  gint64 t0 = g_get_monotonic_time ();
  gint fd2;

  g_assert_cmpint (fd, >=, 0);
  g_thread_join (g_thread_new ("locker", lock_in_thread, store));
  g_assert_cmpint (g_get_monotonic_time () - t0, <,
      WR2V_TEST_TIME (2 * G_USEC_PER_SEC));
  wr2v_store_unlock (fd);
  fd2 = wr2v_store_lock (store, hash, NULL, NULL);
  g_assert_cmpint (fd2, >=, 0);
  wr2v_store_unlock (fd2);
  remove_tree (dir);
}

static void
test_store_unwritable (void)
{
  GError *err = NULL;

  if (getuid () == 0) {
    /* root writes anywhere; a path under a regular file fails for all */
    g_autofree gchar *dir = make_tmp_dir ();
    g_autofree gchar *file = g_build_filename (dir, "f", NULL);
    g_autofree gchar *below = g_build_filename (file, "cache", NULL);

    g_assert_true (g_file_set_contents (file, "", 0, NULL));
    g_assert_null (wr2v_store_open (below, &err));
    remove_tree (dir);
  } else {
    g_assert_null (wr2v_store_open ("/proc/wanr2v-cache", &err));
  }
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_STORE);
  g_assert_nonnull (strstr (err->message, "cache-dir"));
  g_clear_error (&err);
}

static void
test_records_reject_garbage (void)
{
  const gchar *bad[] = { "", "[]", "{", "\"x\"", "{\"job_id\": 5}",
    "{\"job_id\": [\"a\"]}", "null"
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    Wr2vJournalEntry *e = wr2v_journal_entry_parse (bad[i], -1, NULL);
    Wr2vResultMeta *m = wr2v_result_meta_parse (bad[i], -1, NULL);

    /* either refused, or parsed with no job id */
    if (e)
      g_assert_null (e->job_id);
    if (m)
      g_assert_null (m->job_id);
    wr2v_journal_entry_free (e);
    wr2v_result_meta_free (m);
  }
}

static void
test_cancellable_sleep (void)
{
  g_autoptr (GCancellable) c = g_cancellable_new ();
  GError *err = NULL;
  gint64 t0 = g_get_monotonic_time ();

  g_assert_true (wr2v_cancellable_sleep (c, 20000, NULL));
  g_assert_cmpint (g_get_monotonic_time () - t0, >=, 19000);
  g_cancellable_cancel (c);
  t0 = g_get_monotonic_time ();
  g_assert_false (wr2v_cancellable_sleep (c, 10 * G_USEC_PER_SEC, &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpint (g_get_monotonic_time () - t0, <,
      WR2V_TEST_TIME (G_USEC_PER_SEC));
  g_clear_error (&err);
}

/* One MP4 box: a 32-bit size, or a 64-bit one when @large. */
static void
append_box (GByteArray * out, const gchar * type, const guint8 * payload,
    gsize len, gboolean large)
{
  guint8 head[16];
  guint64 size = len + (large ? 16 : 8);

  GST_WRITE_UINT32_BE (head, large ? 1 : (guint32) size);
  memcpy (head + 4, type, 4);
  GST_WRITE_UINT64_BE (head + 8, size);
  g_byte_array_append (out, head, large ? 16 : 8);
  g_byte_array_append (out, payload, len);
}

/* A file of ftyp, mdat (64-bit size) and moov holding @mvhd, if any. */
static gchar *
write_movie (const gchar * dir, const gchar * name, const guint8 * mvhd,
    gsize mvhd_len)
{
  g_autoptr (GByteArray) moov = g_byte_array_new ();
  g_autoptr (GByteArray) file = g_byte_array_new ();
  static const guint8 brand[8] = { 'i', 's', 'o', 'm', 0, 0, 2, 0 };
  guint8 media[64] = { 0, };
  gchar *path = g_build_filename (dir, name, NULL);

  if (mvhd)
    append_box (moov, "mvhd", mvhd, mvhd_len, FALSE);
  append_box (moov, "trak", NULL, 0, FALSE);
  append_box (file, "ftyp", brand, sizeof brand, FALSE);
  append_box (file, "mdat", media, sizeof media, TRUE);
  append_box (file, "moov", moov->data, moov->len, FALSE);
  g_assert_true (g_file_set_contents (path, (const gchar *) file->data,
          file->len, NULL));
  return path;
}

static void
test_mp4_duration (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("wr2v-mp4-XXXXXX", NULL);
  guint8 v0[100] = { 0, }, v1[112] = { 1, };
  g_autofree gchar *p0 = NULL, *p1 = NULL, *none = NULL, *unknown = NULL;
  g_autofree gchar *missing = g_build_filename (dir, "missing.mp4", NULL);
  GError *err = NULL;
  gdouble s = 0;

  GST_WRITE_UINT32_BE (v0 + 12, 1000);  /* timescale */
  GST_WRITE_UINT32_BE (v0 + 16, 2500);  /* duration */
  GST_WRITE_UINT32_BE (v1 + 20, 90000);
  GST_WRITE_UINT64_BE (v1 + 24, 270000);
  p0 = write_movie (dir, "v0.mp4", v0, sizeof v0);
  p1 = write_movie (dir, "v1.mp4", v1, sizeof v1);
  none = write_movie (dir, "none.mp4", NULL, 0);
  GST_WRITE_UINT32_BE (v0 + 16, G_MAXUINT32);
  unknown = write_movie (dir, "unknown.mp4", v0, sizeof v0);

  g_assert_true (wr2v_mp4_duration (p0, &s, NULL));
  g_assert_cmpfloat (s, ==, 2.5);
  g_assert_true (wr2v_mp4_duration (p1, &s, NULL));
  g_assert_cmpfloat (s, ==, 3.0);
  g_assert_false (wr2v_mp4_duration (none, &s, &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_cmpfloat (s, ==, -1);
  g_clear_error (&err);
  g_assert_false (wr2v_mp4_duration (unknown, &s, NULL));
  g_assert_false (wr2v_mp4_duration (missing, &s, &err));
  g_assert_error (err, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpfloat (s, ==, -1);
  g_clear_error (&err);
  g_assert_false (wr2v_mp4_duration (NULL, &s, NULL));

  for (const gchar ** p = (const gchar *[]) {
        p0, p1, none, unknown, NULL
      }; *p; p++)
    g_unlink (*p);
  g_rmdir (dir);
}

int
main (int argc, char **argv)
{
  gst_init (&argc, &argv);
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/request/numbering", test_numbering);
  g_test_add_func ("/request/canonical-hash", test_canonical_hash);
  g_test_add_func ("/request/voice-hash", test_voice_hash);
  g_test_add_func ("/request/output-sizes", test_output_sizes);
  g_test_add_func ("/prompt/mentions", test_mentions);
  g_test_add_func ("/prompt/check-mentions", test_check_mentions);
  g_test_add_func ("/prompt/named-references", test_named_references);
  g_test_add_func ("/prompt/translate", test_translate);
  g_test_add_func ("/engine/validation", test_validation);
  g_test_add_func ("/engine/cancellable-sleep", test_cancellable_sleep);
  g_test_add_func ("/mp4/duration", test_mp4_duration);
  g_test_add_func ("/store/roundtrip", test_store);
  g_test_add_func ("/store/unwritable", test_store_unwritable);
  g_test_add_func ("/store/lock", test_store_lock);
  g_test_add_func ("/store/garbage-records", test_records_reject_garbage);
  return g_test_run ();
}
