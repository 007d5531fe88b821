/* wr2v-test-pg.h: a throwaway PostgreSQL cluster for the fleet tests, on
 * a Unix socket in a temporary directory (initdb and pg_ctl from
 * /usr/lib/postgresql/<version>/bin, as the `postgres` user when the test
 * runs as root, since the server refuses root). */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct
{
  gchar *dir;                   /* the cluster's and its socket's */
  gchar *bin;                   /* the server's programs */
  gboolean as_postgres;         /* run them through runuser */
  /* stops the cluster and removes its directory when the test dies */
  GSubprocess *watchdog;
} Wr2vTestPg;

/* Starts a cluster, or NULL (with the reason in @why) when PostgreSQL is
 * not installed or does not start: the test skips then. */
Wr2vTestPg *wr2v_test_pg_start (gchar ** why);
/* Stops it (fast: connections are cut) and starts it again. */
gboolean wr2v_test_pg_stop (Wr2vTestPg * pg);
gboolean wr2v_test_pg_restart (Wr2vTestPg * pg);
/* Stops it and removes its directory. */
void wr2v_test_pg_free (Wr2vTestPg * pg);

/* A new database @name and a connection string to it, with a password
 * (the cluster trusts local users, so it is not checked, but the tests
 * look for it where it must never be). */
gchar *wr2v_test_pg_new_db (Wr2vTestPg * pg, const gchar * name);

/* The password in every connection string above. */
#define WR2V_TEST_PG_PASSWORD "fleet-pw-0f9e8d"

G_END_DECLS
