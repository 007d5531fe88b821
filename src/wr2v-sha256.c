/* wr2v-sha256.c: SHA-256 on Nettle (see the header). */
#include "wr2v-sha256.h"

#include <nettle/sha2.h>

struct _Wr2vSha256
{
  struct sha256_ctx ctx;
  gchar hex[2 * SHA256_DIGEST_SIZE + 1];        /* set once finished */
};

Wr2vSha256 *
wr2v_sha256_new (void)
{
  Wr2vSha256 *sum = g_new0 (Wr2vSha256, 1);

  sha256_init (&sum->ctx);
  return sum;
}

void
wr2v_sha256_update (Wr2vSha256 * sum, const guchar * data, gsize length)
{
  g_return_if_fail (sum->hex[0] == '\0');
  if (length > 0)
    sha256_update (&sum->ctx, length, data);
}

const gchar *
wr2v_sha256_get_string (Wr2vSha256 * sum)
{
  static const gchar digits[] = "0123456789abcdef";
  guint8 digest[SHA256_DIGEST_SIZE];

  if (sum->hex[0] != '\0')
    return sum->hex;
  sha256_digest (&sum->ctx, sizeof (digest), digest);
  for (guint i = 0; i < sizeof (digest); i++) {
    sum->hex[2 * i] = digits[digest[i] >> 4];
    sum->hex[2 * i + 1] = digits[digest[i] & 0xf];
  }
  sum->hex[2 * SHA256_DIGEST_SIZE] = '\0';
  return sum->hex;
}

void
wr2v_sha256_free (Wr2vSha256 * sum)
{
  g_free (sum);
}
