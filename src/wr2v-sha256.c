/* wr2v-sha256.c: SHA-256 on libcrypto's EVP interface (see the header). */
#include "wr2v-sha256.h"

#include <openssl/evp.h>

struct _Wr2vSha256
{
  EVP_MD_CTX *ctx;
  gchar hex[2 * 32 + 1];        /* set once finished */
};

Wr2vSha256 *
wr2v_sha256_new (void)
{
  Wr2vSha256 *sum = g_new0 (Wr2vSha256, 1);

  sum->ctx = EVP_MD_CTX_new ();
  /* only fails when out of memory, which GLib treats as fatal too */
  if (!sum->ctx || !EVP_DigestInit_ex (sum->ctx, EVP_sha256 (), NULL))
    g_error ("libcrypto cannot start a SHA-256 digest");
  return sum;
}

void
wr2v_sha256_update (Wr2vSha256 * sum, const guchar * data, gsize length)
{
  g_return_if_fail (sum->hex[0] == '\0');
  if (length > 0 && !EVP_DigestUpdate (sum->ctx, data, length))
    g_error ("libcrypto failed to update a SHA-256 digest");
}

const gchar *
wr2v_sha256_get_string (Wr2vSha256 * sum)
{
  static const gchar digits[] = "0123456789abcdef";
  guchar digest[EVP_MAX_MD_SIZE];
  guint length = 0;

  if (sum->hex[0] != '\0')
    return sum->hex;
  if (!EVP_DigestFinal_ex (sum->ctx, digest, &length) || length != 32)
    g_error ("libcrypto failed to finish a SHA-256 digest");
  for (guint i = 0; i < length; i++) {
    sum->hex[2 * i] = digits[digest[i] >> 4];
    sum->hex[2 * i + 1] = digits[digest[i] & 0xf];
  }
  sum->hex[2 * length] = '\0';
  return sum->hex;
}

void
wr2v_sha256_free (Wr2vSha256 * sum)
{
  if (!sum)
    return;
  EVP_MD_CTX_free (sum->ctx);
  g_free (sum);
}
