/*
 * certread - the bytes of certificate and key files, for certkey: a whole
 * file read with a size cap, its PEM blocks through OpenSSL's own reader
 * (PEM_read_bio_ex, the one the MTA uses), and the outline of DER data.
 * Callers outside certkey use certkey.h.
 *
 * A file is read whole and parsed from memory, so the parsers see exactly
 * the bytes a test or a fuzzer gives them. PEM is read block by block;
 * OpenSSL's error reason tells a cut-off file (no END line) from damaged
 * base64, and the message names the block. DER is told apart by the
 * outline of its first elements (certread_der_shape), so that only the
 * one matching decoder runs: a failed or generic decode in OpenSSL 3.0
 * (d2i_AutoPrivateKey) walks every decoder there is, and cannot say
 * which algorithm it failed on.
 */
#ifndef DG_CERTREAD_H
#define DG_CERTREAD_H

#include <stddef.h>

#include "errbuf.h"

/* Certificate and key files are a few KiB; anything near this is wrong. */
#define CERTKEY_MAX_FILE	(1024 * 1024)

/*
 * Read a whole file (at most CERTKEY_MAX_FILE bytes) into *bufp (free it
 * with certread_free: it may hold key material). Returns 0, or -1 with
 * err naming the file: no such file, permission denied, a directory,
 * empty, too large.
 */
int certread_file(const char *path, unsigned char **bufp, size_t *lenp,
    struct errbuf *err);

/* Wipe and free what certread_file read (buf may be NULL). */
void certread_free(unsigned char *buf, size_t len);

/* What a PEM label holds. */
enum pem_kind {
	PEM_OTHER,		/* ignored: parameters, requests, CRLs */
	PEM_CERT,		/* CERTIFICATE, X509 CERTIFICATE */
	PEM_CERT_AUX,		/* TRUSTED CERTIFICATE */
	PEM_PKCS8,		/* PRIVATE KEY */
	PEM_PKCS8_ENC,		/* ENCRYPTED PRIVATE KEY */
	PEM_RSA,		/* RSA PRIVATE KEY */
	PEM_EC,			/* EC PRIVATE KEY */
	PEM_DSA,		/* DSA PRIVATE KEY */
	PEM_SPKI,		/* PUBLIC KEY */
	PEM_RSA_PUB		/* RSA PUBLIC KEY */
};

#define PEM_IS_CERT(k)		((k) == PEM_CERT || (k) == PEM_CERT_AUX)
#define PEM_IS_KEY(k)		((k) >= PEM_PKCS8)
#define PEM_IS_PRIVATE(k)	((k) >= PEM_PKCS8 && (k) <= PEM_DSA)

/* One decoded PEM block. */
struct pem_block {
	enum pem_kind kind;
	char *label;
	char *header;		/* RFC 1421 headers of an old-style
				 * encrypted key; "" when there are none */
	unsigned char *data;
	long len;
};

/* The blocks of a PEM file, in order. */
struct pem_file {
	struct pem_block *v;
	size_t n;
};

/* 1 if buf holds a PEM BEGIN line anywhere, else 0 (then try DER). */
int certread_pem_looks(const unsigned char *buf, size_t len);

/*
 * Read every PEM block of buf with PEM_read_bio_ex into *pf (free it with
 * certread_pem_free). Returns 0, or -1 with err naming the file and the
 * block: a BEGIN line without an END line (a file cut short), damaged
 * base64, NUL bytes (what a crash leaves of a half-written file: its size
 * set, its data not).
 */
int certread_pem(const unsigned char *buf, size_t len, const char *name,
    struct pem_file *pf, struct errbuf *err);

/* Wipe and free the blocks of pf; pf is left empty. */
void certread_pem_free(struct pem_file *pf);

/* What a DER object looks like from the tags of its first elements. */
enum der_shape {
	DER_UNKNOWN,
	DER_CERT,	/* SEQUENCE { SEQUENCE, SEQUENCE, BIT STRING } */
	DER_SPKI,	/* SEQUENCE { SEQUENCE, BIT STRING } */
	DER_PKCS8_ENC,	/* SEQUENCE { SEQUENCE, OCTET STRING } */
	DER_PKCS8,	/* SEQUENCE { INTEGER, SEQUENCE, OCTET STRING, ... } */
	DER_RSA,	/* SEQUENCE { 9 INTEGERs, ... } */
	DER_EC,		/* SEQUENCE { INTEGER, OCTET STRING, ... } */
	DER_DSA		/* SEQUENCE { 6 INTEGERs } */
};

/*
 * The outline of the first DER object in buf. ASN1_get_object checks
 * every length against the data; anything odd is DER_UNKNOWN.
 */
enum der_shape certread_der_shape(const unsigned char *buf, size_t size);

#endif
