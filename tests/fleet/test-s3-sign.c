/* test-s3-sign: the pure S3 code (src/fleet/wr2v-s3-sign.h): the
 * WANR2V_S3 setting, and presigned URLs against two independent
 * signatures: AWS's own example of query-string authentication (S3 API
 * reference, "Authenticating Requests: Using Query Parameters"), and one
 * made by botocore's S3SigV4QueryAuth for a path-style URL with a port. */
#include "wr2v-error.h"
#include "wr2v-s3-sign.h"

#include <string.h>

#define AWS_KEY_ID "AKIAIOSFODNN7EXAMPLE"
#define AWS_SECRET "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
/* 2013-05-24T00:00:00Z */
#define AWS_EXAMPLE_TIME 1369353600

static void
test_aws_example (void)
{
  Wr2vS3Location loc;
  GError *err = NULL;
  g_autofree gchar *url = NULL;

  g_assert_true (wr2v_s3_parse_location ("https://examplebucket.s3."
          "amazonaws.com", &loc, &err));
  g_assert_no_error (err);
  g_assert_cmpstr (loc.region, ==, "us-east-1");
  url = wr2v_s3_presign_get (&loc, "test.txt", AWS_KEY_ID, AWS_SECRET,
      AWS_EXAMPLE_TIME, 86400);
  g_assert_cmpstr (url, ==, "https://examplebucket.s3.amazonaws.com/test.txt"
      "?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE"
      "%2F20130524%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z"
      "&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature="
      "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  wr2v_s3_location_clear (&loc);
}

static void
test_path_style_with_port (void)
{
  Wr2vS3Location loc;
  GError *err = NULL;
  g_autofree gchar *url = NULL, *sigv4 = NULL;

  g_assert_true (wr2v_s3_parse_location ("http://127.0.0.1:4568/bucket?"
          "region=eu-west-1", &loc, &err));
  g_assert_no_error (err);
  g_assert_cmpstr (loc.base, ==, "http://127.0.0.1:4568/bucket/");
  g_assert_cmpstr (loc.host, ==, "127.0.0.1:4568");
  sigv4 = wr2v_s3_curl_sigv4 (&loc);
  g_assert_cmpstr (sigv4, ==, "aws:amz:eu-west-1:s3");
  url = wr2v_s3_presign_get (&loc, "refs/abc.mp4", AWS_KEY_ID, AWS_SECRET,
      AWS_EXAMPLE_TIME, 900);
  g_assert_true (g_str_has_suffix (url, "&X-Amz-Signature=fa6055d49b7e13a2f0"
          "c759ade4851a2a7a8c2ef3d4a9566b2f12abc202f9f6c9"));
  wr2v_s3_location_clear (&loc);
}

static void
test_regions (void)
{
  const gchar *cases[][2] = {
    {"https://s3.eu-central-1.amazonaws.com/b/", "eu-central-1"},
    {"https://b.s3.ap-southeast-1.amazonaws.com/", "ap-southeast-1"},
    {"https://s3-us-west-2.amazonaws.com/b", "us-west-2"},
    {"https://s3.oss-cn-hangzhou.aliyuncs.com/b?region=cn-hangzhou",
        "cn-hangzhou"},
    {"http://localhost:9000/b", "us-east-1"},
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++) {
    Wr2vS3Location loc;

    g_assert_true (wr2v_s3_parse_location (cases[i][0], &loc, NULL));
    g_assert_cmpstr (loc.region, ==, cases[i][1]);
    wr2v_s3_location_clear (&loc);
  }
}

/* Refused settings name WANR2V_S3 and never echo user info. */
static void
test_refused (void)
{
  const gchar *bad[] = { "", "not a url", "ftp://host/b",
    "https://AKIDSECRET:topsecret@host/b", "https://host/b?x=1",
    "https://host/b c", "https://host/b#frag", "https://[::1]/b",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++) {
    Wr2vS3Location loc;
    GError *err = NULL;

    g_assert_false (wr2v_s3_parse_location (bad[i], &loc, &err));
    g_assert_error (err, WR2V_ERROR, WR2V_ERROR_INVALID_REQUEST);
    g_assert_nonnull (strstr (err->message, "WANR2V_S3"));
    g_assert_null (strstr (err->message, "topsecret"));
    g_clear_error (&err);
    wr2v_s3_location_clear (&loc);
  }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/s3-sign/aws-example", test_aws_example);
  g_test_add_func ("/s3-sign/path-style-with-port", test_path_style_with_port);
  g_test_add_func ("/s3-sign/regions", test_regions);
  g_test_add_func ("/s3-sign/refused", test_refused);
  return g_test_run ();
}
