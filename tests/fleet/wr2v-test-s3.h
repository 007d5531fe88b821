/* wr2v-test-s3.h: an independent S3 implementation for the tests: s3rver
 * (pinned, from the npm registry), installed once into a cache directory
 * outside the source tree (WANR2V_S3RVER_DIR, under the build directory)
 * and started on loopback with one bucket.
 *
 * s3rver checks that the access key id is its own ("S3RVER") and the
 * expiry of presigned URLs, and implements the object API; it does not
 * recompute SigV4 signatures (test-s3-sign checks ours against AWS's and
 * botocore's), so any secret key passes it. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS
#define WR2V_TEST_S3RVER_VERSION "3.7.1"
#define WR2V_TEST_S3_BUCKET "wanr2v"
/* the only access key id s3rver knows */
#define WR2V_TEST_S3_KEY_ID "S3RVER"
/* any secret passes s3rver; this one is watched for in logs and files */
#define WR2V_TEST_S3_SECRET "wr2v-s3-SECRET-7f3a9c"
    typedef struct
{
  GSubprocess *proc;
  GDataInputStream *out;        /* its stdout */
  gchar *data_dir;
  gchar *url;                   /* http://127.0.0.1:PORT/wanr2v/ */
} Wr2vTestS3;

/* Installs s3rver when needed and starts it. NULL with @skip set when
 * npm cannot reach the registry (the test skips, saying @why); NULL
 * without @skip when anything else fails (the test fails). */
Wr2vTestS3 *wr2v_test_s3_start (gboolean * skip, gchar ** why);
void wr2v_test_s3_free (Wr2vTestS3 * s3);

/* Sets WANR2V_S3 and its keys in this process's environment (for
 * children too). */
void wr2v_test_s3_setenv (Wr2vTestS3 * s3);
void wr2v_test_s3_unsetenv (void);

G_END_DECLS
