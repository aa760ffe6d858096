/*
 * certkey - load the certificates and keys an MTA serves.
 *
 * Certificates: PEM (one or more blocks) or DER (one certificate). A chain
 * file holds the leaf first, then its issuers, as the MTA sends them; a
 * PEM file may also hold the private key (Postfix's smtpd_tls_chain_files
 * accepts key and chain in one file). Keys: PKCS#8, traditional PEM
 * ("BEGIN RSA/EC PRIVATE KEY"), DER, encrypted PKCS#8 with a passphrase,
 * and public-key files (SubjectPublicKeyInfo PEM or DER).
 * Supported algorithms: RSA, ECDSA P-256/P-384/P-521, Ed25519, Ed448.
 *
 * Every error is one line that names the file and the problem, e.g.
 *   "mx1.pem: truncated PEM: BEGIN CERTIFICATE without END line"
 *   "mx1.key: encrypted private key; give the passphrase with --passphrase-file"
 *   "mx1.key: no such file"
 */
#ifndef DG_CERTKEY_H
#define DG_CERTKEY_H

#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "errbuf.h"

/* A loaded chain file. */
struct certkey_chain {
	char *path;		/* file it came from (or the name given to parse) */
	STACK_OF(X509) *certs;	/* leaf at index 0, then issuers; at least one */
	EVP_PKEY *key;		/* private key found in the same file, or NULL */
};

/* A loaded key file: private or public. */
struct certkey_key {
	char *path;
	EVP_PKEY *pkey;
	int is_private;		/* 1 private key, 0 public key only */
};

/*
 * Read and parse a chain file. Returns 0 and a new chain in *out, or -1
 * with err naming the file: missing, unreadable, a directory, empty,
 * neither PEM nor DER, truncated PEM, no certificate in it, a private key
 * in it that does not match the leaf, an unsupported leaf key algorithm.
 */
int certkey_chain_load(const char *path, struct certkey_chain **out,
    struct errbuf *err);

/* Same from memory; name is used in messages and becomes chain->path. */
int certkey_chain_parse(const unsigned char *buf, size_t len, const char *name,
    struct certkey_chain **out, struct errbuf *err);

void certkey_chain_free(struct certkey_chain *chain);

/* The leaf certificate (borrowed). */
X509 *certkey_chain_leaf(const struct certkey_chain *chain);

/*
 * Read a key file: private (passphrase may be NULL; an encrypted key then
 * fails with a message that says to give one) or public. Returns 0 and a
 * new key in *out, or -1 with err set as for certkey_chain_load.
 */
int certkey_key_load(const char *path, const char *passphrase,
    struct certkey_key **out, struct errbuf *err);

int certkey_key_parse(const unsigned char *buf, size_t len, const char *name,
    const char *passphrase, struct certkey_key **out, struct errbuf *err);

void certkey_key_free(struct certkey_key *key);

/*
 * Load a file whose kind is not known in advance (tlsagen's positional
 * arguments): if it holds certificates, *chain is set (and *key stays
 * NULL); else if it holds a key, *key is set. Returns 0, or -1 with err
 * set as above ("neither a certificate nor a key").
 */
int certkey_file_load(const char *path, const char *passphrase,
    struct certkey_chain **chain, struct certkey_key **key,
    struct errbuf *err);

/* 1 if key (private or public) is the key of cert, else 0. */
int certkey_key_matches_cert(EVP_PKEY *key, X509 *cert);

/* 1 if the two keys have the same public part, else 0. */
int certkey_pubkey_equal(EVP_PKEY *a, EVP_PKEY *b);

/*
 * Short algorithm name into buf: "rsa-2048", "rsa-4096", "ecdsa-p256",
 * "ecdsa-p384", "ecdsa-p521", "ed25519", "ed448". Returns 0, or -1 for an
 * unsupported algorithm or curve (buf then holds a description such as
 * "dsa" or "ec secp256k1" for the message).
 */
int certkey_alg_name(EVP_PKEY *key, char *buf, size_t len);

/*
 * Algorithm family: "rsa", "ecdsa", "ed25519", "ed448", or NULL if
 * unsupported. This is what an MTA selects a chain by, and what the
 * guard forces in a handshake.
 */
const char *certkey_alg_family(EVP_PKEY *key);

/*
 * Read a passphrase: the first line of path, without its newline. Returns
 * 0 and a malloc'd string, or -1 with err naming the file.
 */
int certkey_passphrase_read(const char *path, char **out, struct errbuf *err);

/* 1 if cert is a CA certificate (basicConstraints CA:TRUE), else 0. */
int certkey_is_ca(X509 *cert);

/*
 * 1 if cert's notAfter is before now, 0 if not. The notAfter time is put
 * in buf as "YYYY-MM-DD" when buf is not NULL.
 */
int certkey_is_expired(X509 *cert, time_t now, char *buf, size_t len);

#endif
