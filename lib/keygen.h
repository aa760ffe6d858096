/*
 * keygen - make a next key for a current+next rollover.
 */
#ifndef DG_KEYGEN_H
#define DG_KEYGEN_H

#include <openssl/evp.h>

#include "errbuf.h"

/*
 * Generate an "rsa" (RSA-2048) or "ecdsa" (P-256, named curve) key and
 * write it as unencrypted PKCS#8 PEM to path, created with mode 0600 and
 * O_EXCL: an existing file is never overwritten. The file is written
 * completely (fsync) or removed. Returns 0 and the key in *out (the caller
 * frees it with EVP_PKEY_free), or -1 with err naming the path or the
 * algorithm.
 */
int keygen_new(const char *alg, const char *path, EVP_PKEY **out,
    struct errbuf *err);

#endif
