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
 *
 * Certificates are complete (as OpenSSL decodes them) unless a caller
 * asks for light ones with CERTKEY_LIGHT, which only tlsagen's bulk path
 * does: a light certificate's public key is not decoded. OpenSSL 3.0's
 * d2i_X509 decodes it through an OSSL_DECODER chain built afresh for
 * every certificate: about 180 of the 185-195 us an ECDSA P-256
 * certificate takes; without it, 12-15 us (OpenSSL 3.0.22, one core of
 * the project's 2-core machine). So light certificates are parsed in a
 * library context of certkey's own that holds only the "null" provider:
 * no decoder runs, and the key stays the SubjectPublicKeyInfo bytes.
 *   Works as usual: i2d_X509, X509_get_X509_PUBKEY and i2d_X509_PUBKEY
 *   (so tlsa_record_from_cert), names, dates (X509_get0_notAfter),
 *   X509_check_host, extensions (certkey_is_ca, X509_check_ca), X509_cmp
 *   and X509_dup; and the functions below that take an X509.
 *   Does not work: X509_get0_pubkey / X509_get_pubkey (NULL), anything
 *   that needs the key (X509_check_issued, X509_verify,
 *   X509_verify_cert, so match_chain), anything that fetches an algorithm
 *   in the certificate's context (X509_digest).
 * The leaf's algorithm is checked at load from the key's outline (the
 * OID, the RSA modulus, the curve and the length of the EC point), for
 * complete and light certificates alike. An EC point of the right length
 * that is not on its curve shows only when the key is decoded
 * (certkey_cert_pubkey returns NULL).
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
	STACK_OF(X509) *certs;	/* leaf at index 0, then issuers; at least
				 * one; complete unless CERTKEY_LIGHT */
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

/* Flags of certkey_chain_parse and certkey_file_load. */
#define CERTKEY_LIGHT	0x1	/* light certificates (see above) */

/*
 * Same from memory; name is used in messages and becomes chain->path.
 * flags: 0 or CERTKEY_LIGHT.
 */
int certkey_chain_parse(const unsigned char *buf, size_t len, const char *name,
    unsigned flags, struct certkey_chain **out, struct errbuf *err);

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
 * Another reference to the same loaded chain or key (a new struct that
 * shares the certificates or the EVP_PKEY); free it as usual. NULL gives
 * NULL.
 */
struct certkey_chain *certkey_chain_ref(const struct certkey_chain *chain);
struct certkey_key *certkey_key_ref(const struct certkey_key *key);

/*
 * Keep only the public half of key (is_private becomes 0): what a key
 * is needed for once it has been read. Returns 0, or -1 with err naming
 * the file (the key is then unchanged).
 */
int certkey_key_public(struct certkey_key *key, struct errbuf *err);

/*
 * Load a file whose kind is not known in advance (tlsagen's positional
 * arguments): if it holds certificates, *chain is set (and *key stays
 * NULL; flags as for certkey_chain_parse); else if it holds a key, *key
 * is set. Returns 0, or -1 with err
 * set as above ("neither a certificate nor a key").
 */
int certkey_file_load(const char *path, const char *passphrase,
    unsigned flags, struct certkey_chain **chain, struct certkey_key **key,
    struct errbuf *err);

/*
 * 1 if key (private or public) is the key of cert, else 0 (also when
 * cert's key cannot be decoded). cert may be light or complete.
 */
int certkey_key_matches_cert(EVP_PKEY *key, X509 *cert);

/*
 * The public key of cert, light or complete: a new reference the caller
 * frees with EVP_PKEY_free, or NULL if the key cannot be decoded. For a
 * light certificate this decodes the key (the costly step light
 * certificates skip), so call it only where the key itself is needed.
 */
EVP_PKEY *certkey_cert_pubkey(X509 *cert);

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
 * The same as certkey_alg_name and certkey_alg_family for the key of
 * cert (light or complete), without decoding the key: read from the
 * algorithm OID, the RSA modulus, the named curve and the point length.
 * The names are exactly those certkey_alg_name gives for the decoded
 * key. Returns -1 (NULL) also for a damaged key of a supported algorithm
 * (buf then names the algorithm, e.g. "rsa") and for explicit EC curve
 * parameters, which RFC 5480 forbids in certificates.
 */
int certkey_cert_alg_name(X509 *cert, char *buf, size_t len);
const char *certkey_cert_alg_family(X509 *cert);

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
