/* wr2v-test-pg.c: a throwaway PostgreSQL cluster (see wr2v-test-pg.h). */
#include "wr2v-test-pg.h"
#include "wr2v-test-util.h"

#include <glib/gstdio.h>
#include <libpq-fe.h>
#include <unistd.h>

static gboolean
run_as_server (Wr2vTestPg * pg, const gchar * const *args, gchar ** why)
{
  g_autoptr (GPtrArray) argv = g_ptr_array_new_with_free_func (g_free);
  g_autofree gchar *err_out = NULL;
  GError *err = NULL;
  gint status = 0;

  if (pg->as_postgres) {
    g_ptr_array_add (argv, g_strdup ("runuser"));
    g_ptr_array_add (argv, g_strdup ("-u"));
    g_ptr_array_add (argv, g_strdup ("postgres"));
    g_ptr_array_add (argv, g_strdup ("--"));
  }
  g_ptr_array_add (argv, g_build_filename (pg->bin, args[0], NULL));
  for (args++; *args; args++)
    g_ptr_array_add (argv, g_strdup (*args));
  g_ptr_array_add (argv, NULL);
  if (!g_spawn_sync (pg->dir, (gchar **) argv->pdata, NULL,
          G_SPAWN_SEARCH_PATH | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL, NULL,
          &err_out, &status, &err) || !g_spawn_check_wait_status (status,
          &err)) {
    if (why)
      *why = g_strdup_printf ("%s: %s %s", (gchar *) argv->pdata[0],
          err->message, err_out ? err_out : "");
    g_clear_error (&err);
    return FALSE;
  }
  return TRUE;
}

static gchar *
find_bin (void)
{
  static const gchar *const versions[] = { "17", "16", "15", "14", "13" };
  guint i;

  for (i = 0; i < G_N_ELEMENTS (versions); i++) {
    gchar *bin = g_build_filename ("/usr/lib/postgresql", versions[i], "bin",
        NULL);
    g_autofree gchar *initdb = g_build_filename (bin, "initdb", NULL);

    if (g_file_test (initdb, G_FILE_TEST_IS_EXECUTABLE))
      return bin;
    g_free (bin);
  }
  return NULL;
}

static gboolean
server_start (Wr2vTestPg * pg, gchar ** why)
{
  g_autofree gchar *data = g_build_filename (pg->dir, "data", NULL);
  g_autofree gchar *log = g_build_filename (pg->dir, "server.log", NULL);
  g_autofree gchar *opts = g_strdup_printf ("-k %s -c listen_addresses='' "
      "-c fsync=off -c max_connections=60", pg->dir);
  const gchar *args[] = { "pg_ctl", "-D", data, "-l", log, "-o", opts, "-w",
    "-t", "60", "start", NULL
  };

  return run_as_server (pg, args, why);
}

/* A shell that waits for its stdin (the test's pipe) to close, however
 * the test ends (an assertion aborts it), then stops the cluster and
 * removes its directory. */
static GSubprocess *
start_watchdog (Wr2vTestPg * pg)
{
  g_autofree gchar *script = g_strdup_printf ("cat >/dev/null; %s "
      "'%s/pg_ctl' -D '%s/data' -m immediate -w stop >/dev/null 2>&1; "
      "rm -rf '%s'", pg->as_postgres ? "runuser -u postgres --" : "",
      pg->bin, pg->dir, pg->dir);

  return g_subprocess_new (G_SUBPROCESS_FLAGS_STDIN_PIPE, NULL, "sh", "-c",
      script, NULL);
}

Wr2vTestPg *
wr2v_test_pg_start (gchar ** why)
{
  Wr2vTestPg *pg = g_new0 (Wr2vTestPg, 1);
  g_autofree gchar *data = NULL;

  pg->bin = find_bin ();
  if (!pg->bin) {
    *why = g_strdup ("PostgreSQL's server is not installed (bash "
        ".ci/install-deps installs it)");
    wr2v_test_pg_free (pg);
    return NULL;
  }
  pg->as_postgres = getuid () == 0;
  pg->dir = g_dir_make_tmp ("wanr2v-pg-XXXXXX", NULL);
  data = g_build_filename (pg->dir, "data", NULL);
  /* the server's user owns nothing here otherwise */
  g_chmod (pg->dir, 0777);
  {
    const gchar *args[] = { "initdb", "-D", data, "-A", "trust", "-U",
      "postgres", "--no-sync", "-E", "UTF8", NULL
    };

    if (!run_as_server (pg, args, why) || !server_start (pg, why)) {
      wr2v_test_pg_free (pg);
      return NULL;
    }
  }
  pg->watchdog = start_watchdog (pg);
  return pg;
}

gboolean
wr2v_test_pg_stop (Wr2vTestPg * pg)
{
  g_autofree gchar *data = g_build_filename (pg->dir, "data", NULL);
  const gchar *args[] = { "pg_ctl", "-D", data, "-m", "fast", "-w", "stop",
    NULL
  };

  return run_as_server (pg, args, NULL);
}

gboolean
wr2v_test_pg_restart (Wr2vTestPg * pg)
{
  return server_start (pg, NULL);
}

void
wr2v_test_pg_free (Wr2vTestPg * pg)
{
  if (!pg)
    return;
  if (pg->dir) {
    g_autofree gchar *data = g_build_filename (pg->dir, "data", NULL);
    const gchar *args[] = { "pg_ctl", "-D", data, "-m", "immediate", "-w",
      "stop", NULL
    };

    if (g_file_test (data, G_FILE_TEST_IS_DIR))
      run_as_server (pg, args, NULL);
    wr2v_test_rm_rf (pg->dir);
  }
  if (pg->watchdog) {
    g_output_stream_close (g_subprocess_get_stdin_pipe (pg->watchdog), NULL,
        NULL);
    g_subprocess_wait (pg->watchdog, NULL, NULL);
    g_object_unref (pg->watchdog);
  }
  g_free (pg->dir);
  g_free (pg->bin);
  g_free (pg);
}

gchar *
wr2v_test_pg_new_db (Wr2vTestPg * pg, const gchar * name)
{
  g_autofree gchar *admin = g_strdup_printf ("host=%s user=postgres "
      "dbname=postgres", pg->dir);
  g_autofree gchar *sql = g_strdup_printf ("CREATE DATABASE %s", name);
  PGconn *conn = PQconnectdb (admin);
  PGresult *res = PQexec (conn, sql);

  g_assert_cmpint (PQresultStatus (res), ==, PGRES_COMMAND_OK);
  PQclear (res);
  PQfinish (conn);
  return g_strdup_printf ("host=%s user=postgres dbname=%s password=%s",
      pg->dir, name, WR2V_TEST_PG_PASSWORD);
}
