/* test-s3: S3-compatible storage (src/fleet/wr2v-s3.h) against s3rver, an
 * independent S3 implementation started on loopback (wr2v-test-s3.h):
 * a clip written once and read back, a corrupt object refused by its
 * hash, credentials refused with an error naming the settings (never
 * their values), and DashScope outside Beijing sending a reference file
 * through the bucket: the fake DashScope fetches the presigned URL as the
 * service would and checks the bytes. Skips (77) only when npm cannot
 * reach the registry to install s3rver. */
#include "wr2v-error.h"
#include "wr2v-request.h"
#include "wr2v-s3.h"
#include "wr2v-test-engine.h"
#include "wr2v-test-s3.h"
#include "wr2v-test-pg.h"
#include "wr2v-test-util.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#define KEY "sk-wr2v-s3-test-KEY-2b7e"
#define WRONG_KEY "sk-wr2v-s3-wrong-KEY-6c1d"

static Wr2vFixtureConfig config = { "dashscope", KEY, WRONG_KEY, NULL, NULL,
  FALSE, NULL, "Video 1 waves"
};

static Wr2vTestS3 *server;

/* A file of @size bytes from @seed in @dir, and its hash. */
static gchar *
write_bytes (const gchar * dir, const gchar * name, const gchar * seed,
    gsize size, gchar ** sha)
{
  g_autofree guint8 *buf = g_malloc (size);
  gchar *path = g_build_filename (dir, name, NULL);
  GRand *r = g_rand_new_with_seed (g_str_hash (seed));

  for (gsize i = 0; i < size; i++)
    buf[i] = g_rand_int (r) & 0xff;
  g_rand_free (r);
  g_assert_true (g_file_set_contents (path, (gchar *) buf, size, NULL));
  *sha = g_compute_checksum_for_data (G_CHECKSUM_SHA256, buf, size);
  return path;
}

static Wr2vS3 *
open_s3 (void)
{
  GError *err = NULL;
  Wr2vS3 *s3;

  wr2v_test_s3_setenv (server);
  s3 = wr2v_s3_open (&err);
  g_assert_no_error (err);
  g_assert_nonnull (s3);
  return s3;
}

/* @call (given &err_ for its error) succeeds, or the test fails. */
#define MUST(call) G_STMT_START {                                       \
  GError *err_ = NULL;                                                  \
  gboolean ok_ = (call);                                                \
  g_assert_no_error (err_);                                             \
  g_assert_true (ok_);                                                  \
} G_STMT_END

static void
test_clip_roundtrip (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("wanr2v-s3-XXXXXX", NULL);
  g_autofree gchar *sha = NULL, *key = NULL, *back = NULL, *got = NULL;
  g_autofree gchar *path = write_bytes (dir, "clip.mp4", "clip", 300000,
      &sha);
  g_autoptr (Wr2vS3) s3 = open_s3 ();

  key = wr2v_s3_clip_key (sha);
  MUST (wr2v_s3_put_file (s3, key, path, sha, NULL, &err_));
  /* written once: a second store finds it there */
  MUST (wr2v_s3_put_file (s3, key, path, sha, NULL, &err_));
  back = g_build_filename (dir, "back.mp4", NULL);
  MUST (wr2v_s3_get_file (s3, key, back, sha, NULL, &err_));
  got = wr2v_file_sha256 (back, NULL);
  g_assert_cmpstr (got, ==, sha);
  wr2v_test_rm_rf (dir);
}

/* Other bytes under a clip's name: refused by the hash, not used. */
static void
test_corrupt_refused (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("wanr2v-s3-XXXXXX", NULL);
  g_autofree gchar *sha = NULL, *other_sha = NULL, *key = NULL, *back = NULL;
  g_autofree gchar *path = write_bytes (dir, "clip.mp4", "real", 1000, &sha);
  g_autofree gchar *other = write_bytes (dir, "other.mp4", "tampered", 1000,
      &other_sha);
  g_autoptr (Wr2vS3) s3 = open_s3 ();
  GError *err = NULL;

  key = wr2v_s3_clip_key (sha);
  MUST (wr2v_s3_put_file (s3, key, other, other_sha, NULL, &err_));
  back = g_build_filename (dir, "back.mp4", NULL);
  g_assert_false (wr2v_s3_get_file (s3, key, back, sha, NULL, &err));
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_BAD_RESULT);
  wr2v_assert_says (err, "does not match its hash");
  g_clear_error (&err);
  wr2v_test_rm_rf (dir);
}

/* A key the storage does not know: the error names the settings to
 * check, never a key's value; a missing secret is named too. */
static void
test_wrong_credentials (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("wanr2v-s3-XXXXXX", NULL);
  g_autofree gchar *sha = NULL, *key = NULL;
  g_autofree gchar *path = write_bytes (dir, "ref.png", "ref", 1000, &sha);
  g_autoptr (Wr2vS3) s3 = NULL;
  GError *err = NULL;

  wr2v_test_s3_setenv (server);
  g_setenv ("WANR2V_S3_ACCESS_KEY_ID", "AKIDWRONG5e4d3c", TRUE);
  s3 = wr2v_s3_open (&err);
  g_assert_no_error (err);
  key = wr2v_s3_reference_key (sha, "png");
  g_assert_false (wr2v_s3_put_file (s3, key, path, sha, NULL, &err));
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_NOT_AUTHORIZED);
  wr2v_assert_says (err, "WANR2V_S3_ACCESS_KEY_ID");
  wr2v_assert_says (err, "WANR2V_S3_SECRET_ACCESS_KEY");
  g_assert_null (strstr (err->message, "AKIDWRONG5e4d3c"));
  g_assert_null (strstr (err->message, WR2V_TEST_S3_SECRET));
  g_clear_error (&err);
  g_clear_pointer (&s3, wr2v_s3_free);

  g_unsetenv ("WANR2V_S3_SECRET_ACCESS_KEY");
  g_assert_null (wr2v_s3_open (&err));
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_NO_CREDENTIALS);
  wr2v_assert_says (err, "WANR2V_S3_SECRET_ACCESS_KEY");
  g_clear_error (&err);
  wr2v_test_s3_unsetenv ();
  wr2v_test_rm_rf (dir);
}

/* Against tests/fleet/s3-sigcheck.py, which recomputes each request's
 * SigV4 signature and a PUT's payload hash by AWS's rules (s3rver checks
 * neither): libcurl's signatures pass, a 2 MB clip (with curl's
 * 100-continue) round trip; a wrong secret key is refused with HTTP 403
 * SignatureDoesNotMatch, the error naming the settings, not the key. */
static void
test_signatures_checked (void)
{
  g_autofree gchar *dir = g_dir_make_tmp ("wanr2v-s3-XXXXXX", NULL);
  g_autofree gchar *sha = NULL, *key = NULL, *back = NULL, *url = NULL;
  g_autofree gchar *path = write_bytes (dir, "clip.mp4", "signed", 2000000,
      &sha);
  Wr2vFakeServer *check = wr2v_fake_server_start ("fleet/s3-sigcheck.py",
      "--key-id", WR2V_TEST_S3_KEY_ID, "--secret", WR2V_TEST_S3_SECRET, NULL);
  g_autoptr (Wr2vS3) s3 = NULL;
  GError *err = NULL;

  url = g_strdup_printf ("%s/bucket/", check->base);
  wr2v_test_s3_setenv (server);
  g_setenv ("WANR2V_S3", url, TRUE);
  s3 = wr2v_s3_open (&err);
  g_assert_no_error (err);
  key = wr2v_s3_clip_key (sha);
  MUST (wr2v_s3_put_file (s3, key, path, sha, NULL, &err_));
  back = g_build_filename (dir, "back.mp4", NULL);
  MUST (wr2v_s3_get_file (s3, key, back, sha, NULL, &err_));
  g_clear_pointer (&s3, wr2v_s3_free);

  g_setenv ("WANR2V_S3_SECRET_ACCESS_KEY", "wr2v-not-the-secret-91", TRUE);
  s3 = wr2v_s3_open (&err);
  g_assert_no_error (err);
  g_assert_false (wr2v_s3_get_file (s3, key, back, sha, NULL, &err));
  g_assert_error (err, WR2V_ERROR, WR2V_ERROR_NOT_AUTHORIZED);
  wr2v_assert_says (err, "SignatureDoesNotMatch");
  wr2v_assert_says (err, "WANR2V_S3_SECRET_ACCESS_KEY");
  g_assert_null (strstr (err->message, "wr2v-not-the-secret-91"));
  g_assert_null (strstr (err->message, WR2V_TEST_S3_KEY_ID "/"));
  g_clear_error (&err);

  wr2v_test_s3_unsetenv ();
  wr2v_fake_server_stop (check);
  wr2v_test_rm_rf (dir);
}

/* The fake DashScope fetched one presigned URL, with 200, and the
 * object's name is the SHA-256 of the bytes it gave (content-addressed;
 * S3 checks the payload hash a PUT claims, s3rver does not). The sha256
 * of those bytes. */
static gchar *
assert_one_fetch (Wr2vFixture * fx)
{
  JsonNode *node = wr2v_fx_stats (fx);
  JsonArray *fetches = json_object_get_array_member (json_node_get_object
      (node), "fetches");
  JsonObject *fetch;
  g_autofree gchar *name = NULL;
  gchar *sha;

  g_assert_cmpuint (json_array_get_length (fetches), ==, 1);
  fetch = json_array_get_object_element (fetches, 0);
  g_assert_cmpint (json_object_get_int_member (fetch, "status"), ==, 200);
  sha = g_strdup (json_object_get_string_member (fetch, "sha256"));
  name = g_strdup_printf ("%srefs/%s.mp4", server->url, sha);
  g_assert_cmpstr (json_object_get_string_member (fetch, "url"), ==, name);
  json_node_unref (node);
  return sha;
}

/* DashScope outside Beijing: today's refusal without WANR2V_S3; with it,
 * the reference goes to the bucket and DashScope (the fake) fetches the
 * presigned URL, no temporary upload asked for. */
static void
test_dashscope_outside_beijing (Wr2vFixture * fx, gconstpointer data)
{
  g_autofree gchar *sha = NULL, *fetched = NULL;
  Wr2vReference *ref;
  Wr2vRun r;

  WR2V_FIXTURE_SKIP_IF_NO_SERVER (fx);
  wr2v_fx_control (fx, "{\"region\": \"singapore\"}");
  g_free (fx->settings.region);
  fx->settings.region = g_strdup ("singapore");
  fx->req = wr2v_fx_request (fx, 1, 0, "Video 1 waves");
  ref = g_ptr_array_index (fx->req->references, 0);
  sha = wr2v_file_sha256 (ref->path, NULL);

  wr2v_test_s3_setenv (server);
  wr2v_fx_go (fx, NULL, &r);
  g_assert_no_error (r.error);
  g_assert_nonnull (r.path);
  g_assert_cmpint (wr2v_fx_count (fx, "policy"), ==, 0);
  g_assert_cmpint (wr2v_fx_count (fx, "upload"), ==, 0);
  g_assert_cmpint (wr2v_fx_count (fx, "create"), ==, 1);
  fetched = assert_one_fetch (fx);
  g_assert_cmpstr (fetched, ==, sha);
  /* the presigned URL is in no file of the store (it names the key id) */
  wr2v_test_assert_no_secret_in_tree (fx->store_dir);
  wr2v_run_clear (&r);
  wr2v_test_s3_unsetenv ();
}

/* A machine of a fleet (tests/fleet/fleet-driver.c) with its own
 * cache-dir; exits 0 with "CLIP <path> <cached>" or 1 with "ERROR". */
static gchar *
run_machine (const gchar * conninfo, const gchar * api, const gchar * dir,
    const gchar * name, gint * status)
{
  g_autofree gchar *cache = g_build_filename (dir, name, NULL);
  g_autofree gchar *api_arg = g_strdup_printf ("--api-url=%s", api);
  g_autofree gchar *cd = g_strdup_printf ("--cache-dir=%s", cache);
  g_autoptr (GSubprocessLauncher) l =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
      G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_autoptr (GSubprocess) p = NULL;
  g_autofree gchar *errs = NULL;
  gchar *out = NULL;
  GError *err = NULL;

  g_subprocess_launcher_setenv (l, "WANR2V_STORE", conninfo, TRUE);
  g_subprocess_launcher_setenv (l, "GST_DEBUG", "wanr2v*:7", TRUE);
  p = g_subprocess_launcher_spawn (l, &err, g_getenv ("WANR2V_FLEET_DRIVER"),
      api_arg, "--api-key=" KEY, cd, "--prompt=Video 1 in the bucket", NULL);
  g_assert_no_error (err);
  g_subprocess_communicate_utf8 (p, NULL, NULL, &out, &errs, &err);
  g_assert_no_error (err);
  /* the debug log of a whole job: no S3 secret, no database password */
  g_assert_null (strstr (errs, WR2V_TEST_S3_SECRET));
  g_assert_null (strstr (out, WR2V_TEST_S3_SECRET));
  g_assert_null (strstr (errs, WR2V_TEST_PG_PASSWORD));
  *status = g_subprocess_get_exit_status (p);
  return out;
}

static gchar *
db_value (const gchar * conninfo, const gchar * sql)
{
  PGconn *conn = PQconnectdb (conninfo);
  PGresult *res = PQexec (conn, sql);
  gchar *v;

  g_assert_cmpint (PQresultStatus (res), ==, PGRES_TUPLES_OK);
  v = PQntuples (res) == 1 ? g_strdup (PQgetvalue (res, 0, 0)) : NULL;
  PQclear (res);
  PQfinish (conn);
  return v;
}

/* A fleet with WANR2V_S3: the clip goes to the bucket (its row names the
 * object, no large object), a machine with an empty cache-dir fetches it
 * from there, checked by its hash; one without WANR2V_S3 is told to set
 * it. */
static void
test_fleet_clips_in_bucket (void)
{
  g_autofree gchar *why = NULL, *conninfo = NULL, *out = NULL;
  g_autofree gchar *where = NULL, *dir = NULL;
  Wr2vTestPg *pg;
  Wr2vFakeServer *fake;
  gint status;

  pg = wr2v_test_pg_start (&why);
  if (!pg) {
    g_test_skip (why);
    return;
  }
  dir = g_dir_make_tmp ("wanr2v-s3-fleet-XXXXXX", NULL);
  conninfo = wr2v_test_pg_new_db (pg, "s3clips");
  fake = wr2v_fake_server_start ("fake-wavespeed.py", "--api-key", KEY,
      "--result-mp4", wr2v_test_media.result_mp4, "--job-seconds", "1", NULL);
  wr2v_test_s3_setenv (server);

  out = run_machine (conninfo, fake->base, dir, "m0", &status);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, "CLIP "));
  where = db_value (conninfo, "SELECT coalesce(oid::text, 'none') || ' ' || "
      "bucket_key || ' ' || (bucket_key = 'clips/' || sha256 || '.mp4') "
      "FROM wr2v_clips");
  g_assert_nonnull (where);
  g_assert_true (g_str_has_prefix (where, "none clips/"));
  g_assert_true (g_str_has_suffix (where, " true"));
  g_clear_pointer (&out, g_free);

  /* another machine: the clip from the bucket, no second submit */
  out = run_machine (conninfo, fake->base, dir, "m1", &status);
  g_assert_cmpint (status, ==, 0);
  g_assert_nonnull (strstr (out, " 1\n"));
  g_assert_cmpint (wr2v_fake_server_count (fake, "submit"), ==, 1);
  g_clear_pointer (&out, g_free);

  wr2v_test_s3_unsetenv ();
  out = run_machine (conninfo, fake->base, dir, "m2", &status);
  g_assert_cmpint (status, ==, 1);
  g_assert_nonnull (strstr (out, "WANR2V_S3 is not set on this machine"));

  wr2v_fake_server_stop (fake);
  wr2v_test_pg_free (pg);
  wr2v_test_rm_rf (dir);
}

/* gst-launch-1.0 -v -m at GST_DEBUG=*:9: DashScope outside Beijing with
 * a fleet store (its password in WANR2V_STORE) and WANR2V_S3: the
 * reference through the bucket, the clip into it. None of the S3 keys
 * (the access key id is in every presigned URL), the database password
 * or the API key in the output, the log or the cache-dir. */
static void
test_element_secrets (Wr2vFixture * fx, gconstpointer data)
{
  g_autofree gchar *why = NULL, *conninfo = NULL, *api = NULL, *cd = NULL;
  g_autofree gchar *out = NULL, *errs = NULL, *cache = NULL;
  g_auto (GStrv) env = NULL;
  Wr2vTestPg *pg;
  GError *err = NULL;
  gint status;

  WR2V_FIXTURE_SKIP_IF_NO_SERVER (fx);
  if (g_getenv ("WANR2V_SANITIZER_PRELOAD")) {
    g_test_skip ("gst-launch-1.0 can't load the sanitizer build's plugin");
    return;
  }
  pg = wr2v_test_pg_start (&why);
  if (!pg) {
    g_test_skip (why);
    return;
  }
  conninfo = wr2v_test_pg_new_db (pg, "s3element");
  wr2v_fx_control (fx, "{\"region\": \"singapore\"}");
  api = g_strdup_printf ("api-url=%s", fx->base);
  cache = g_build_filename (fx->dir, "gst-cache", NULL);
  cd = g_strdup_printf ("cache-dir=%s", cache);
  wr2v_test_s3_setenv (server);
  env = g_get_environ ();
  env = g_environ_setenv (env, "WANR2V_STORE", conninfo, TRUE);
  env = g_environ_setenv (env, "DASHSCOPE_API_KEY", KEY, TRUE);
  env = g_environ_setenv (env, "GST_DEBUG", "*:9", TRUE);
  env = g_environ_setenv (env, "GST_DEBUG_COLOR_MODE", "off", TRUE);
  {
    const gchar *argv[] = { "gst-launch-1.0", "-v", "-m", "wanr2v", "name=g",
      "engine=dashscope", "region=singapore", api, cd, "poll-interval=50",
      "prompt=Video 1 waves at the camera", "duration=5", "!", "fakesink",
      "videotestsrc", "num-buffers=10", "!",
      "video/x-raw,width=160,height=120,framerate=10/1", "!", "g.video_0",
      NULL
    };

    g_assert_true (g_spawn_sync (NULL, (gchar **) argv, env,
            G_SPAWN_SEARCH_PATH, NULL, NULL, &out, &errs, &status, &err));
  }
  g_assert_no_error (err);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("gst-launch-1.0 failed: %s", out);
  g_assert_cmpint (wr2v_fx_count (fx, "create"), ==, 1);
  g_assert_cmpint (wr2v_fx_count (fx, "policy"), ==, 0);
  g_free (assert_one_fetch (fx));
  g_assert_nonnull (strstr (errs, "wanr2vs3"));
  {
    g_autofree gchar *n = db_value (conninfo, "SELECT count(*) FROM "
        "wr2v_clips WHERE bucket_key IS NOT NULL AND oid IS NULL");

    g_assert_cmpstr (n, ==, "1");
  }
  g_assert_null (strstr (out, WR2V_TEST_S3_SECRET));
  g_assert_null (strstr (errs, WR2V_TEST_S3_SECRET));
  g_assert_null (strstr (out, WR2V_TEST_PG_PASSWORD));
  g_assert_null (strstr (errs, WR2V_TEST_PG_PASSWORD));
  g_assert_null (strstr (out, "Credential=" WR2V_TEST_S3_KEY_ID));
  g_assert_null (strstr (errs, "Credential=" WR2V_TEST_S3_KEY_ID));
  g_assert_null (strstr (out, KEY));
  g_assert_null (strstr (errs, KEY));
  wr2v_test_assert_no_secret_in_tree (cache);
  wr2v_test_s3_unsetenv ();
  wr2v_test_pg_free (pg);
}

int
main (int argc, char **argv)
{
  gboolean skip = FALSE;
  g_autofree gchar *why = NULL;
  gint ret;

  wr2v_test_engine_init (&argc, &argv, "s3", &config, FALSE);
  {
    /* run outside meson (the secrets scan): what is next to this program */
    g_autofree gchar *self = g_file_read_link ("/proc/self/exe", NULL);
    g_autofree gchar *here = self ? g_path_get_dirname (self) : NULL;
    g_autofree gchar *driver = g_build_filename (here, "fleet-driver", NULL);
    g_autofree gchar *npm_dir = g_build_filename (here, "s3rver", NULL);

    g_setenv ("WANR2V_FLEET_DRIVER", driver, FALSE);
    g_setenv ("WANR2V_S3RVER_DIR", npm_dir, FALSE);
  }
  server = wr2v_test_s3_start (&skip, &why);
  if (!server) {
    g_printerr ("%s\n", why);
    if (skip) {
      g_print ("1..0 # SKIP %s\n", why);
      return wr2v_test_engine_finish (77);
    }
    return wr2v_test_engine_finish (1);
  }
  wr2v_test_add_secret (WR2V_TEST_S3_SECRET);
  wr2v_test_s3_unsetenv ();

  g_test_add_func ("/s3/clip-roundtrip", test_clip_roundtrip);
  g_test_add_func ("/s3/corrupt-refused", test_corrupt_refused);
  g_test_add_func ("/s3/wrong-credentials", test_wrong_credentials);
  g_test_add_func ("/s3/signatures-checked", test_signatures_checked);
  WR2V_FIXTURE_ADD ("/s3/dashscope-outside-beijing", NULL,
      test_dashscope_outside_beijing);
  g_test_add_func ("/s3/fleet-clips-in-bucket", test_fleet_clips_in_bucket);
  WR2V_FIXTURE_ADD ("/s3/element-secrets", NULL, test_element_secrets);
  ret = g_test_run ();
  wr2v_test_s3_free (server);
  return wr2v_test_engine_finish (ret);
}
