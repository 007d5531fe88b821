/* wr2v-test-s3.c: s3rver for the tests (see wr2v-test-s3.h). */
#include "wr2v-test-s3.h"
#include "wr2v-test-util.h"

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <unistd.h>

/* npm's words for a registry it could not reach */
static const gchar *const offline_words[] = { "ENOTFOUND", "EAI_AGAIN",
  "ECONNREFUSED", "ETIMEDOUT", "ECONNRESET", "ENETUNREACH", "network",
  NULL
};

static gchar *
cache_dir (void)
{
  const gchar *d = g_getenv ("WANR2V_S3RVER_DIR");

  return d && *d ? g_strdup (d) : g_build_filename (g_get_tmp_dir (),
      "wanr2v-s3rver", NULL);
}

/* npm install into @dir, once for all the tests (a lock file keeps two
 * test programs from installing at once). */
static gboolean
install (const gchar * dir, gboolean * skip, gchar ** why)
{
  g_autofree gchar *bin = g_build_filename (dir, "node_modules", "s3rver",
      "bin", "s3rver.js", NULL);
  g_autofree gchar *lock_path = g_build_filename (dir, ".lock", NULL);
  g_autofree gchar *out = NULL, *err_out = NULL;
  const gchar *argv[] = { "npm", "install", "--no-audit", "--no-fund",
    "--prefix", dir, "s3rver@" WR2V_TEST_S3RVER_VERSION, NULL
  };
  GError *err = NULL;
  gint status = 0, fd;
  gboolean ok = TRUE;

  g_mkdir_with_parents (dir, 0755);
  fd = open (lock_path, O_CREAT | O_RDWR | O_CLOEXEC, 0644);
  if (fd >= 0)
    flock (fd, LOCK_EX);
  if (!g_file_test (bin, G_FILE_TEST_EXISTS)) {
    g_printerr ("# installing s3rver@%s into %s\n", WR2V_TEST_S3RVER_VERSION,
        dir);
    if (!g_spawn_sync (dir, (gchar **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL,
            NULL, &out, &err_out, &status, &err)) {
      *why = g_strdup_printf ("npm is not installed (bash .ci/install-deps "
          "installs it): %s", err->message);
      g_clear_error (&err);
      ok = FALSE;
    } else if (!g_spawn_check_wait_status (status, NULL)) {
      for (guint i = 0; offline_words[i]; i++)
        if (err_out && strstr (err_out, offline_words[i]))
          *skip = TRUE;
      *why = g_strdup_printf ("%s: npm install s3rver@%s failed: %s",
          *skip ? "npm cannot reach the registry" : "error",
          WR2V_TEST_S3RVER_VERSION, err_out ? err_out : "");
      ok = FALSE;
    }
  }
  if (fd >= 0)
    close (fd);
  return ok;
}

/* s3rver ends with the test, even one that crashes */
static void
die_with_parent (gpointer data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
}

Wr2vTestS3 *
wr2v_test_s3_start (gboolean * skip, gchar ** why)
{
  g_autofree gchar *dir = cache_dir ();
  g_autofree gchar *bin = g_build_filename (dir, "node_modules", "s3rver",
      "bin", "s3rver.js", NULL);
  g_autoptr (GSubprocessLauncher) l =
      g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
      G_SUBPROCESS_FLAGS_STDERR_MERGE);
  Wr2vTestS3 *s3;
  GError *err = NULL;
  gchar *line;

  *skip = FALSE;
  if (!install (dir, skip, why))
    return NULL;
  s3 = g_new0 (Wr2vTestS3, 1);
  s3->data_dir = g_dir_make_tmp ("wanr2v-s3rver-XXXXXX", NULL);
  g_subprocess_launcher_set_child_setup (l, die_with_parent, NULL, NULL);
  s3->proc = g_subprocess_launcher_spawn (l, &err, "node", bin, "-d",
      s3->data_dir, "-s", "-a", "127.0.0.1", "-p", "0", "--configure-bucket",
      WR2V_TEST_S3_BUCKET, NULL);
  if (!s3->proc) {
    *why = g_strdup_printf ("could not start s3rver: %s", err->message);
    g_clear_error (&err);
    wr2v_test_s3_free (s3);
    return NULL;
  }
  /* kept open: s3rver dies of a closed stdout */
  s3->out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (s3->proc));
  /* "S3rver listening on 127.0.0.1:PORT" */
  while (!s3->url && (line = g_data_input_stream_read_line (s3->out, NULL,
              NULL, NULL))) {
    const gchar *at = strstr (line, "listening on 127.0.0.1:");

    if (at)
      s3->url = g_strdup_printf ("http://127.0.0.1:%s/" WR2V_TEST_S3_BUCKET
          "/", at + strlen ("listening on 127.0.0.1:"));
    g_free (line);
  }
  if (!s3->url) {
    *why = g_strdup ("s3rver did not start");
    wr2v_test_s3_free (s3);
    return NULL;
  }
  return s3;
}

void
wr2v_test_s3_free (Wr2vTestS3 * s3)
{
  if (!s3)
    return;
  if (s3->proc) {
    g_subprocess_force_exit (s3->proc);
    g_subprocess_wait (s3->proc, NULL, NULL);
    g_object_unref (s3->proc);
  }
  g_clear_object (&s3->out);
  if (s3->data_dir)
    wr2v_test_rm_rf (s3->data_dir);
  g_free (s3->data_dir);
  g_free (s3->url);
  g_free (s3);
}

void
wr2v_test_s3_setenv (Wr2vTestS3 * s3)
{
  g_setenv ("WANR2V_S3", s3->url, TRUE);
  g_setenv ("WANR2V_S3_ACCESS_KEY_ID", WR2V_TEST_S3_KEY_ID, TRUE);
  g_setenv ("WANR2V_S3_SECRET_ACCESS_KEY", WR2V_TEST_S3_SECRET, TRUE);
}

void
wr2v_test_s3_unsetenv (void)
{
  g_unsetenv ("WANR2V_S3");
  g_unsetenv ("WANR2V_S3_ACCESS_KEY_ID");
  g_unsetenv ("WANR2V_S3_SECRET_ACCESS_KEY");
}
