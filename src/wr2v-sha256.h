/* wr2v-sha256.h: a streaming SHA-256 for the bulk of bytes the element
 * hashes, a raw reference's frames (about 1 GB for 10 s of 1080p).
 *
 * Nettle uses the CPU's SHA instructions where it has them: about 4x
 * GLib's GChecksum on the benchmark machine (docs/PERFORMANCE.md, row 4).
 * OpenSSL's libcrypto is a little faster but sets up its providers and
 * reads its configuration at the first digest, 2 MiB in every process
 * that hashes a reference; Nettle's context is a plain struct. The digest
 * is the same SHA-256, as lowercase hex like g_checksum_get_string(), so
 * keys made before stay valid. Small inputs keep using GChecksum.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _Wr2vSha256 Wr2vSha256;

Wr2vSha256 *wr2v_sha256_new (void);
void wr2v_sha256_update (Wr2vSha256 * sum, const guchar * data, gsize length);
/* the hex digest; after it, update() may not be called again */
const gchar *wr2v_sha256_get_string (Wr2vSha256 * sum);
void wr2v_sha256_free (Wr2vSha256 * sum);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Wr2vSha256, wr2v_sha256_free)

G_END_DECLS
