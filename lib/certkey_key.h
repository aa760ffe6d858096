/*
 * certkey_key - what certkey_key.c (key files, algorithm names) offers the
 * rest of the certkey module. Private: include certkey.h elsewhere.
 */
#ifndef DG_CERTKEY_KEY_H
#define DG_CERTKEY_KEY_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/objects.h>

#include "certkey.h"
#include "certkey_pem.h"
#include "errbuf.h"

#define CERTKEY_SUPPORTED_ALGS	"RSA, ECDSA P-256/P-384/P-521, Ed25519, Ed448"

/*
 * Set err to "NAME: unsupported key algorithm ALG (supported: ...)".
 * Returns -1, for "return certkey_unsupported(...)".
 */
int certkey_unsupported(const char *name, const char *alg,
    struct errbuf *err);

/*
 * A lower-case name for an algorithm OID into buf: its short name
 * ("dsa"), else its dotted number, else "unknown" (oid may be NULL).
 */
void certkey_oid_desc(const ASN1_OBJECT *oid, char *buf, size_t len);

/*
 * Decode a located PEM key block (private or public). Returns 0 with a
 * new key in *out and *is_private set, or -1 with err naming name: bad
 * data, wrong or missing passphrase, unsupported algorithm.
 */
int certkey_key_from_block(const struct certkey_pem_block *blk,
    const char *passphrase, const char *name, EVP_PKEY **out,
    int *is_private, struct errbuf *err);

/*
 * Parse a key file held in buf (PEM or DER). Returns 0 with *pkey and
 * *is_private, or -1 with err set; *nokey is then 1 when the data holds
 * no key at all (the caller may try it as something else).
 */
int certkey_key_decode(const unsigned char *buf, size_t len, const char *name,
    const char *passphrase, EVP_PKEY **pkey, int *is_private, int *nokey,
    struct errbuf *err);

/*
 * The family of a supported algorithm's name from certkey_alg_name
 * ("ecdsa-p384" -> "ecdsa"), or NULL.
 */
const char *certkey_alg_family_of(const char *name);

/* A new struct certkey_key owning pkey, with a copy of name. */
struct certkey_key *certkey_key_new(const char *name, EVP_PKEY *pkey,
    int is_private);

#endif
