/*
 * certkey_key - what certkey.c's chain and entry-point code takes from
 * the key half of certkey (certkey_key.c). Callers outside certkey use
 * certkey.h.
 */
#ifndef DG_CERTKEY_KEY_H
#define DG_CERTKEY_KEY_H

#include <stddef.h>

#include <openssl/asn1.h>
#include <openssl/evp.h>

#include "certkey.h"
#include "certread.h"
#include "errbuf.h"

/*
 * A lower-case name for an algorithm OID into buf: its short name
 * ("dsa"), else its dotted number, else "unknown" (oid may be NULL).
 */
void certkey_oid_desc(const ASN1_OBJECT *oid, char *buf, size_t len);

/* "NAME: unsupported key algorithm ALG (supported: ...)"; returns -1. */
int certkey_unsupported(const char *name, const char *alg,
    struct errbuf *err);

/*
 * Decode DER data of a known form into a key. header holds the RFC 1421
 * headers of an old-style encrypted PEM key, or NULL. Returns 0 with
 * *out and *is_private set, or -1 with err set. The data buffer may be
 * decrypted in place.
 */
int certkey_der_to_key(enum pem_kind kind, char *header, unsigned char *der,
    long len, const char *passphrase, const char *name, EVP_PKEY **out,
    int *is_private, struct errbuf *err);

/*
 * The key of a file: pf holds its PEM blocks, or is NULL for DER data in
 * buf. Returns 0 with *pkey and *is_private, or -1 with err set; *nokey
 * is then 1 when the data holds no key at all.
 */
int certkey_key_decode(const unsigned char *buf, size_t len,
    struct pem_file *pf, const char *name, const char *passphrase,
    EVP_PKEY **pkey, int *is_private, int *nokey, struct errbuf *err);

/* A new key object named name that owns pkey. */
struct certkey_key *certkey_key_new(const char *name, EVP_PKEY *pkey,
    int is_private);

/*
 * The family of a supported algorithm's name from certkey_alg_name
 * ("ecdsa-p384" -> "ecdsa"), or NULL; rc is what that returned.
 */
const char *certkey_alg_family_of(int rc, const char *name);

#endif
