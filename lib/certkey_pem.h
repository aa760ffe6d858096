/*
 * certkey_pem - reading certificate and key files, locating PEM blocks and
 * telling DER objects apart. Private to the certkey module (certkey.c,
 * certkey_key.c); nothing here decodes a certificate or a key.
 *
 * PEM is split into blocks here rather than left to OpenSSL's reader,
 * because that reader cannot tell its caller *why* a file is bad: a
 * missing END line and damaged base64 look alike to it.
 */
#ifndef DG_CERTKEY_PEM_H
#define DG_CERTKEY_PEM_H

#include <stddef.h>

#include "errbuf.h"

/* Certificate and key files are a few KiB; anything near this is wrong. */
#define CERTKEY_MAX_FILE	(1024 * 1024)

/*
 * Read a whole file (at most CERTKEY_MAX_FILE bytes). Returns 0 with a
 * malloc'd buffer in *bufp (free it with certkey_free_file: it may hold
 * key material) and its length, or -1 with err naming the file: no such
 * file, permission denied, a directory, empty, too large.
 */
int certkey_read_file(const char *path, unsigned char **bufp, size_t *lenp,
    struct errbuf *err);

/* Wipe and free a buffer from certkey_read_file; NULL is allowed. */
void certkey_free_file(unsigned char *buf, size_t len);

/* What a PEM label holds. */
enum certkey_pem_kind {
	CERTKEY_PEM_OTHER,	/* ignored: parameters, requests, CRLs */
	CERTKEY_PEM_CERT,	/* CERTIFICATE, X509 CERTIFICATE */
	CERTKEY_PEM_CERT_AUX,	/* TRUSTED CERTIFICATE */
	CERTKEY_PEM_PKCS8,	/* PRIVATE KEY */
	CERTKEY_PEM_PKCS8_ENC,	/* ENCRYPTED PRIVATE KEY */
	CERTKEY_PEM_RSA,	/* RSA PRIVATE KEY */
	CERTKEY_PEM_EC,		/* EC PRIVATE KEY */
	CERTKEY_PEM_DSA,	/* DSA PRIVATE KEY */
	CERTKEY_PEM_SPKI,	/* PUBLIC KEY */
	CERTKEY_PEM_RSA_PUB	/* RSA PUBLIC KEY */
};

#define CERTKEY_PEM_IS_CERT(k) \
	((k) == CERTKEY_PEM_CERT || (k) == CERTKEY_PEM_CERT_AUX)
#define CERTKEY_PEM_IS_KEY(k)	((k) >= CERTKEY_PEM_PKCS8)
#define CERTKEY_PEM_IS_PRIVATE(k) \
	((k) >= CERTKEY_PEM_PKCS8 && (k) <= CERTKEY_PEM_DSA)

/* One PEM block, located but not decoded. */
struct certkey_pem_block {
	const char *label;		/* not NUL-terminated */
	int labellen;
	enum certkey_pem_kind kind;
	const unsigned char *start;	/* at "-----BEGIN " */
	size_t len;			/* through the END line */
	const unsigned char *body;	/* after "-----BEGIN LABEL-----" */
	size_t bodylen;			/* up to "-----END " */
	const unsigned char *endtail;	/* after "-----END LABEL-----" */
};

/* A PEM scan over a buffer; set it up with certkey_pem_scan_init. */
struct certkey_pem_scan {
	const unsigned char *buf;
	const unsigned char *pos;
	const unsigned char *end;
	const char *name;		/* for messages */
};

/* 1 if buf holds a PEM BEGIN line anywhere, else 0 (then try DER). */
int certkey_pem_looks(const unsigned char *buf, size_t len);

/* Start a scan of buf; name is used in messages and must outlive it. */
void certkey_pem_scan_init(struct certkey_pem_scan *scan,
    const unsigned char *buf, size_t len, const char *name);

/*
 * Locate the next PEM block. Returns 1 with *blk set (pointing into the
 * scanned buffer), 0 at the end, or -1 with err set when a block has no
 * END line or a malformed BEGIN or END line.
 */
int certkey_pem_next(struct certkey_pem_scan *scan,
    struct certkey_pem_block *blk, struct errbuf *err);

/*
 * Base64-decode a located block, as PEM_read_bio_ex does. Returns 0 with
 * *data (*len bytes) and *header (the RFC 1421 headers of an old-style
 * encrypted key; empty or NULL when there are none), both to be released
 * with certkey_pem_free; or -1 with err naming the file and the damaged
 * block.
 */
int certkey_pem_decode(const struct certkey_pem_block *blk, const char *name,
    char **header, unsigned char **data, long *len, struct errbuf *err);

/* Release what certkey_pem_decode returned (wiping the data). */
void certkey_pem_free(char *header, unsigned char *data, long len);

/* What a DER object looks like from the tags of its first elements. */
enum certkey_der_shape {
	CERTKEY_DER_UNKNOWN,
	CERTKEY_DER_CERT,	/* SEQUENCE { SEQUENCE, SEQUENCE, BIT STR } */
	CERTKEY_DER_SPKI,	/* SEQUENCE { SEQUENCE, BIT STRING } */
	CERTKEY_DER_PKCS8_ENC,	/* SEQUENCE { SEQUENCE, OCTET STRING } */
	CERTKEY_DER_PKCS8,	/* SEQUENCE { INTEGER, SEQUENCE, OCTET STR, ..} */
	CERTKEY_DER_RSA,	/* SEQUENCE { 9 INTEGERs, ... } */
	CERTKEY_DER_EC,		/* SEQUENCE { INTEGER, OCTET STRING, ... } */
	CERTKEY_DER_DSA		/* SEQUENCE { 6 INTEGERs } */
};

/*
 * The outline of the first DER object in buf, so that only the one
 * matching decoder runs: in OpenSSL 3.0 a failed or generic decode (such
 * as d2i_AutoPrivateKey) costs a walk over every decoder there is. Every
 * length is checked against the data; anything odd is UNKNOWN.
 */
enum certkey_der_shape certkey_der_shape(const unsigned char *buf,
    size_t size);

/* 1 for the shapes of a key (private or public), else 0. */
int certkey_der_shape_is_key(enum certkey_der_shape shape);

#endif
