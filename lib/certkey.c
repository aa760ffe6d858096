/*
 * certkey - certificate chains and key files; see certkey.h.
 *
 * A file is read whole (with a size cap) and parsed from memory, so the
 * parsers see exactly the bytes a test or a fuzzer gives them. PEM is
 * OpenSSL's own reader (PEM_read_bio_ex, the one the MTA uses), block by
 * block; its error reason tells a cut-off file (no END line) from damaged
 * base64, and the message names the block. DER is told apart by the
 * outline of its first elements (der_shape), so that only the one
 * matching decoder runs: a failed or generic decode in OpenSSL 3.0
 * (d2i_AutoPrivateKey) walks every decoder there is, and cannot say
 * which algorithm it failed on.
 *
 * Certificates are complete (decoded as OpenSSL does) unless the caller
 * asks for light ones (CERTKEY_LIGHT, certkey.h): those are decoded in a
 * library context of their own that has only the null provider, so
 * OpenSSL 3.0 finds no decoder for the public key and leaves it as the
 * SubjectPublicKeyInfo bytes. Algorithms are named from the key's
 * outline (cert_alg), which works on both.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/provider.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certkey.h"
#include "errbuf.h"
#include "fileio.h"
#include "xalloc.h"

/* Certificate and key files are a few KiB; anything near this is wrong. */
#define CERTKEY_MAX_FILE	(1024 * 1024)

#define CERTKEY_SUPPORTED_ALGS	"RSA, ECDSA P-256/P-384/P-521, Ed25519, Ed448"

/*
 * The cost of deriving a key from a passphrase is chosen by whoever wrote
 * the file. Refuse absurd costs rather than spin for minutes (or let a
 * fuzzer do so): OpenSSL writes 2048 PBKDF2 iterations, or scrypt with
 * N=16384 r=8 p=1.
 */
#define CERTKEY_MAX_PBKDF2_ITER	1000000L
#define CERTKEY_MAX_SCRYPT_COST	(1L << 22)	/* N * r * p */

/* ------------------------------------------------------------ files */

/*
 * Read a whole file (at most CERTKEY_MAX_FILE bytes) into *bufp (free it
 * with file_free: it may hold key material). Returns 0, or -1 with err
 * naming the file: no such file, permission denied, a directory, empty,
 * too large.
 */
static int
file_read(const char *path, unsigned char **bufp, size_t *lenp,
    struct errbuf *err)
{
	char *buf;
	size_t len;

	*bufp = NULL;
	*lenp = 0;
	if (fileio_read(path, CERTKEY_MAX_FILE, FILEIO_SECRET, &buf, &len,
	    err) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			errbuf_set(err, "%s: no such file", path);
		else if (errno == EACCES || errno == EPERM)
			errbuf_set(err, "%s: permission denied", path);
		return -1;
	}
	if (len == 0) {
		free(buf);
		errbuf_set(err, "%s: empty file", path);
		return -1;
	}
	*bufp = (unsigned char *)buf;
	*lenp = len;
	return 0;
}

static void
file_free(unsigned char *buf, size_t len)
{
	if (buf != NULL) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
}

/* ------------------------------------------------------------ PEM */

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

static const struct {
	const char *label;
	enum pem_kind kind;
} pem_labels[] = {
	{ PEM_STRING_X509, PEM_CERT },
	{ PEM_STRING_X509_OLD, PEM_CERT },
	{ PEM_STRING_X509_TRUSTED, PEM_CERT_AUX },
	{ PEM_STRING_PKCS8INF, PEM_PKCS8 },
	{ PEM_STRING_PKCS8, PEM_PKCS8_ENC },
	{ PEM_STRING_RSA, PEM_RSA },
	{ PEM_STRING_ECPRIVATEKEY, PEM_EC },
	{ PEM_STRING_DSA, PEM_DSA },
	{ PEM_STRING_PUBLIC, PEM_SPKI },
	{ PEM_STRING_RSA_PUBLIC, PEM_RSA_PUB },
};

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

static const char pem_begin[] = "-----BEGIN ";
#define PEM_BEGIN_LEN	(sizeof(pem_begin) - 1)

/* 1 if buf holds a PEM BEGIN line anywhere, else 0 (then try DER). */
static int
pem_looks(const unsigned char *buf, size_t len)
{
	return memmem(buf, len, pem_begin, PEM_BEGIN_LEN) != NULL;
}

static enum pem_kind
pem_label_kind(const char *label)
{
	size_t i;

	for (i = 0; i < sizeof(pem_labels) / sizeof(pem_labels[0]); i++)
		if (strcmp(pem_labels[i].label, label) == 0)
			return pem_labels[i].kind;
	return PEM_OTHER;
}

static void
pem_file_free(struct pem_file *pf)
{
	size_t i;

	for (i = 0; i < pf->n; i++) {
		OPENSSL_free(pf->v[i].label);
		OPENSSL_free(pf->v[i].header);
		OPENSSL_clear_free(pf->v[i].data, pf->v[i].len);
	}
	free(pf->v);
	pf->v = NULL;
	pf->n = 0;
}

/*
 * The block PEM_read_bio_ex failed on, for the message: the label of the
 * first BEGIN line at a line start from p on ("?" if none is
 * well-formed) into buf; returns 1 if an END line follows it before the
 * next BEGIN line (so it ends with the wrong one), 0 if none does (the
 * file was cut short).
 */
static int
pem_failed_block(const unsigned char *p, const unsigned char *end,
    char *buf, size_t len)
{
	const unsigned char *b, *q, *e;

	snprintf(buf, len, "?");
	for (; (b = memmem(p, end - p, pem_begin, PEM_BEGIN_LEN)) != NULL;
	    p = b + 1) {
		if (p != b && b[-1] != '\n')
			continue;
		b += PEM_BEGIN_LEN;
		for (q = b; q < end && q - b < 64 && *q != '-' && *q != '\n';
		    q++)
			;
		if (q > b && end - q >= 5 && memcmp(q, "-----", 5) == 0)
			snprintf(buf, len, "%.*s", (int)(q - b),
			    (const char *)b);
		e = memmem(q, end - q, "-----END ", 9);
		p = memmem(q, end - q, pem_begin, PEM_BEGIN_LEN);
		return e != NULL && (p == NULL || e < p);
	}
	return 0;
}

/*
 * Read every PEM block of buf with PEM_read_bio_ex into *pf. Returns 0,
 * or -1 with err naming the file and the block: a BEGIN line without an
 * END line (a file cut short), damaged base64, NUL bytes (what a crash
 * leaves of a half-written file: its size set, its data not).
 */
static int
pem_read_all(const unsigned char *buf, size_t len, const char *name,
    struct pem_file *pf, struct errbuf *err)
{
	struct pem_block blk;
	const unsigned char *at;
	char label[80];
	unsigned long e;
	BIO *bio;
	size_t cap = 0;
	int ok, ended, reason;

	pf->v = NULL;
	pf->n = 0;
	if (memchr(buf, '\0', len) != NULL) {
		errbuf_set(err, "%s: NUL bytes in a PEM file: damaged or "
		    "half-written; copy the whole file again", name);
		return -1;
	}
	if (len > INT_MAX ||
	    (bio = BIO_new_mem_buf(buf, (int)len)) == NULL) {
		errbuf_ssl(err, "%s: out of memory", name);
		return -1;
	}
	for (;;) {
		at = buf + len - BIO_pending(bio);
		memset(&blk, 0, sizeof(blk));
		ERR_set_mark();
		ok = PEM_read_bio_ex(bio, &blk.label, &blk.header, &blk.data,
		    &blk.len, PEM_FLAG_EAY_COMPATIBLE);
		e = ERR_peek_last_error();
		ERR_pop_to_mark();
		if (!ok)
			break;
		blk.kind = pem_label_kind(blk.label);
		if (pf->n == cap) {
			cap = cap ? 2 * cap : 4;
			pf->v = xreallocarray(pf->v, cap, sizeof(*pf->v));
		}
		pf->v[pf->n++] = blk;
	}
	BIO_free(bio);
	if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE && pf->n > 0)
		return 0;	/* no more blocks */
	if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
	    ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
		/* "-----BEGIN " somewhere (pem_looks), but no block. */
		errbuf_set(err, "%s: bad PEM data: malformed BEGIN line",
		    name);
		return -1;
	}
	ended = pem_failed_block(at, buf + len, label, sizeof(label));
	reason = ERR_GET_LIB(e) == ERR_LIB_PEM ? ERR_GET_REASON(e) : 0;
	if (reason == PEM_R_BAD_END_LINE && !ended)
		errbuf_set(err, "%s: truncated PEM: BEGIN %s without END "
		    "line; copy the whole file again", name, label);
	else if (reason == PEM_R_BAD_END_LINE)
		errbuf_set(err, "%s: bad PEM data: BEGIN %s ends with a "
		    "different END line", name, label);
	else if (reason == PEM_R_BAD_BASE64_DECODE)
		errbuf_set(err, "%s: bad PEM data: the base64 of a %s block "
		    "is damaged; copy the whole file again", name, label);
	else
		errbuf_set(err, "%s: bad PEM data in a %s block: %s", name,
		    label, e != 0 && ERR_reason_error_string(e) != NULL ?
		    ERR_reason_error_string(e) : "unreadable");
	pem_file_free(pf);
	return -1;
}

/* ------------------------------------------------------------ DER */

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
static enum der_shape
der_shape(const unsigned char *buf, size_t size)
{
	const unsigned char *p = buf, *end;
	long len;
	int tag, class, rc, n = 0, ints = 0, tags[3] = { -1, -1, -1 };

	if (size > LONG_MAX)
		return DER_UNKNOWN;
	rc = ASN1_get_object(&p, &len, &tag, &class, (long)size);
	if ((rc & 0x80) || rc != V_ASN1_CONSTRUCTED ||
	    tag != V_ASN1_SEQUENCE || class != V_ASN1_UNIVERSAL)
		return DER_UNKNOWN;
	end = p + len;
	while (p < end && n < 16) {
		rc = ASN1_get_object(&p, &len, &tag, &class, end - p);
		if ((rc & 0x80) || (rc & 0x01))	/* bad, or indefinite */
			return DER_UNKNOWN;
		if (class != V_ASN1_UNIVERSAL)
			tag = -1;
		if (n < 3)
			tags[n] = tag;
		if (tag == V_ASN1_INTEGER)
			ints++;
		n++;
		p += len;
	}
	if (tags[0] == V_ASN1_SEQUENCE) {
		if (n == 3 && tags[1] == V_ASN1_SEQUENCE &&
		    tags[2] == V_ASN1_BIT_STRING)
			return DER_CERT;
		if (n == 2 && tags[1] == V_ASN1_BIT_STRING)
			return DER_SPKI;
		if (n == 2 && tags[1] == V_ASN1_OCTET_STRING)
			return DER_PKCS8_ENC;
		return DER_UNKNOWN;
	}
	if (tags[0] != V_ASN1_INTEGER)
		return DER_UNKNOWN;
	if (tags[1] == V_ASN1_SEQUENCE && tags[2] == V_ASN1_OCTET_STRING)
		return DER_PKCS8;
	if (tags[1] == V_ASN1_OCTET_STRING)
		return DER_EC;
	if (ints >= 9 && tags[1] == V_ASN1_INTEGER)
		return DER_RSA;
	if (ints == 6 && n == 6)
		return DER_DSA;
	return DER_UNKNOWN;
}

/* ------------------------------------------------------------ keys */

/*
 * A lower-case name for an algorithm OID into buf: its short name
 * ("dsa"), else its dotted number, else "unknown" (oid may be NULL).
 */
static void
oid_desc(const ASN1_OBJECT *oid, char *buf, size_t len)
{
	int nid = OBJ_obj2nid(oid);
	const char *sn;
	char *p;

	if (nid != NID_undef && (sn = OBJ_nid2sn(nid)) != NULL)
		snprintf(buf, len, "%s", sn);
	else if (oid == NULL || OBJ_obj2txt(buf, (int)len, oid, 1) <= 0)
		snprintf(buf, len, "unknown");
	for (p = buf; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p += 'a' - 'A';
}

/* "NAME: unsupported key algorithm ALG (supported: ...)"; returns -1. */
static int
unsupported(const char *name, const char *alg, struct errbuf *err)
{
	errbuf_set(err, "%s: unsupported key algorithm %s (supported: "
	    CERTKEY_SUPPORTED_ALGS ")", name, alg);
	return -1;
}

/* Refuse a supported algorithm's key with a description of it, else 0. */
static int
check_key_alg(EVP_PKEY *pkey, const char *name, struct errbuf *err)
{
	char alg[128];

	if (certkey_alg_name(pkey, alg, sizeof(alg)) == -1)
		return unsupported(name, alg, err);
	return 0;
}

/*
 * 0 if the passphrase-based encryption of an encrypted PKCS#8 key costs
 * a sane amount of work, else -1 with err set. Structures this does not
 * know are left for PKCS8_decrypt to judge.
 */
static int
check_pbe_cost(const X509_SIG *sig, const char *name, struct errbuf *err)
{
	const X509_ALGOR *alg;
	PBE2PARAM *pbe2 = NULL;
	PBKDF2PARAM *kdf = NULL;
	SCRYPT_PARAMS *scrypt = NULL;
	PBEPARAM *pbe1 = NULL;
	long iter = 0, n, r, p;
	int rc = 0;

	X509_SIG_get0(sig, &alg, NULL);
	if (alg->parameter == NULL || alg->parameter->type != V_ASN1_SEQUENCE)
		return 0;
	if (OBJ_obj2nid(alg->algorithm) != NID_pbes2) {
		pbe1 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBEPARAM),
		    alg->parameter);
		if (pbe1 != NULL && pbe1->iter != NULL)
			iter = ASN1_INTEGER_get(pbe1->iter);
		PBEPARAM_free(pbe1);
		goto done;
	}
	pbe2 = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBE2PARAM),
	    alg->parameter);
	if (pbe2 == NULL || pbe2->keyfunc == NULL ||
	    pbe2->keyfunc->parameter == NULL ||
	    pbe2->keyfunc->parameter->type != V_ASN1_SEQUENCE)
		goto done;
	switch (OBJ_obj2nid(pbe2->keyfunc->algorithm)) {
	case NID_id_pbkdf2:
		kdf = ASN1_TYPE_unpack_sequence(ASN1_ITEM_rptr(PBKDF2PARAM),
		    pbe2->keyfunc->parameter);
		if (kdf != NULL && kdf->iter != NULL)
			iter = ASN1_INTEGER_get(kdf->iter);
		break;
	case NID_id_scrypt:
		scrypt = ASN1_TYPE_unpack_sequence(
		    ASN1_ITEM_rptr(SCRYPT_PARAMS), pbe2->keyfunc->parameter);
		if (scrypt == NULL || scrypt->costParameter == NULL ||
		    scrypt->blockSize == NULL ||
		    scrypt->parallelizationParameter == NULL)
			break;
		n = ASN1_INTEGER_get(scrypt->costParameter);
		r = ASN1_INTEGER_get(scrypt->blockSize);
		p = ASN1_INTEGER_get(scrypt->parallelizationParameter);
		/* Each factor is capped first, so the products fit. */
		if (n < 0 || r < 0 || p < 0 ||
		    n > CERTKEY_MAX_SCRYPT_COST ||
		    r > CERTKEY_MAX_SCRYPT_COST ||
		    p > CERTKEY_MAX_SCRYPT_COST ||
		    n * r > CERTKEY_MAX_SCRYPT_COST ||
		    n * r * p > CERTKEY_MAX_SCRYPT_COST) {
			errbuf_set(err, "%s: encrypted private key: scrypt "
			    "cost N*r*p over %ld is refused; re-encrypt it "
			    "with the defaults", name,
			    (long)CERTKEY_MAX_SCRYPT_COST);
			rc = -1;
		}
		break;
	}
done:
	if (rc == 0 && (iter < 0 || iter > CERTKEY_MAX_PBKDF2_ITER)) {
		errbuf_set(err, "%s: encrypted private key: more than %ld "
		    "key derivation iterations are refused; re-encrypt it "
		    "with fewer", name, CERTKEY_MAX_PBKDF2_ITER);
		rc = -1;
	}
	PBE2PARAM_free(pbe2);
	PBKDF2PARAM_free(kdf);
	SCRYPT_PARAMS_free(scrypt);
	return rc;
}

/* PKCS#8 PrivateKeyInfo to a key, naming an unsupported algorithm. */
static EVP_PKEY *
pkcs8_to_key(const PKCS8_PRIV_KEY_INFO *p8, const char *name,
    struct errbuf *err)
{
	const ASN1_OBJECT *oid = NULL;
	EVP_PKEY *pkey;
	char alg[128];

	if ((pkey = EVP_PKCS82PKEY(p8)) != NULL)
		return pkey;
	ERR_clear_error();
	PKCS8_pkey_get0(&oid, NULL, NULL, NULL, p8);
	switch (OBJ_obj2nid(oid)) {
	case NID_rsaEncryption:
	case NID_X9_62_id_ecPublicKey:
	case NID_ED25519:
	case NID_ED448:
		errbuf_set(err, "%s: bad private key data", name);
		return NULL;
	}
	oid_desc(oid, alg, sizeof(alg));
	unsupported(name, alg, err);
	return NULL;
}

static int
passphrase_cb(char *buf, int size, int rwflag, void *u)
{
	const char *pass = u;
	size_t len;

	(void)rwflag;
	if (pass == NULL || size <= 0)
		return -1;
	len = strlen(pass);
	if (len > (size_t)size)
		return -1;
	memcpy(buf, pass, len);
	return (int)len;
}

static int
need_passphrase(const char *name, struct errbuf *err)
{
	errbuf_set(err, "%s: encrypted private key; give the passphrase "
	    "with --passphrase-file", name);
	return -1;
}

static int
wrong_passphrase(const char *name, struct errbuf *err)
{
	ERR_clear_error();
	errbuf_set(err, "%s: wrong passphrase (or damaged encrypted key)",
	    name);
	return -1;
}

/* An encrypted PKCS#8 key decrypted into *p8, or -1 with err set. */
static int
pkcs8_decrypt(const unsigned char *der, long len, const char *passphrase,
    const char *name, PKCS8_PRIV_KEY_INFO **p8, struct errbuf *err)
{
	X509_SIG *sig;

	if ((sig = d2i_X509_SIG(NULL, &der, len)) == NULL) {
		errbuf_ssl(err, "%s: bad encrypted private key data", name);
		return -1;
	}
	if (passphrase == NULL) {
		X509_SIG_free(sig);
		return need_passphrase(name, err);
	}
	if (check_pbe_cost(sig, name, err) == -1) {
		X509_SIG_free(sig);
		return -1;
	}
	*p8 = PKCS8_decrypt(sig, passphrase, (int)strlen(passphrase));
	X509_SIG_free(sig);
	return *p8 == NULL ? wrong_passphrase(name, err) : 0;
}

/*
 * Decode DER data of a known form into a key. header holds the RFC 1421
 * headers of an old-style encrypted PEM key, or NULL. Returns 0 with
 * *out and *is_private set, or -1 with err set. The data buffer may be
 * decrypted in place.
 */
static int
der_to_key(enum pem_kind kind, char *header, unsigned char *der,
    long len, const char *passphrase, const char *name, EVP_PKEY **out,
    int *is_private, struct errbuf *err)
{
	const unsigned char *p = der;
	PKCS8_PRIV_KEY_INFO *p8;
	X509_PUBKEY *xpk;
	EVP_CIPHER_INFO cipher;
	const ASN1_OBJECT *oid;
	EVP_PKEY *pkey = NULL;
	char alg[128];

	*out = NULL;
	*is_private = PEM_IS_PRIVATE(kind);
	switch (kind) {
	case PEM_PKCS8:
	case PEM_PKCS8_ENC:
		if (kind == PEM_PKCS8_ENC) {
			if (pkcs8_decrypt(der, len, passphrase, name, &p8,
			    err) == -1)
				return -1;
		} else if ((p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p,
		    len)) == NULL) {
			errbuf_ssl(err, "%s: bad private key data", name);
			return -1;
		}
		pkey = pkcs8_to_key(p8, name, err);
		PKCS8_PRIV_KEY_INFO_free(p8);
		if (pkey == NULL)
			return -1;
		break;
	case PEM_RSA:
	case PEM_EC:
		if (header != NULL && *header != '\0') {
			if (!PEM_get_EVP_CIPHER_INFO(header, &cipher)) {
				errbuf_ssl(err, "%s: bad PEM encryption "
				    "header", name);
				return -1;
			}
			if (cipher.cipher != NULL) {
				if (passphrase == NULL)
					return need_passphrase(name, err);
				if (!PEM_do_header(&cipher, der, &len,
				    passphrase_cb, (void *)passphrase))
					return wrong_passphrase(name, err);
				pkey = d2i_PrivateKey(kind == PEM_RSA ?
				    EVP_PKEY_RSA : EVP_PKEY_EC, NULL, &p, len);
				if (pkey == NULL)
					return wrong_passphrase(name, err);
				break;
			}
		}
		pkey = d2i_PrivateKey(kind == PEM_RSA ? EVP_PKEY_RSA :
		    EVP_PKEY_EC, NULL, &p, len);
		if (pkey == NULL) {
			errbuf_ssl(err, "%s: bad private key data", name);
			return -1;
		}
		break;
	case PEM_DSA:
		return unsupported(name, "dsa", err);
	case PEM_SPKI:
		/* Via X509_PUBKEY, to name an algorithm OpenSSL lacks. */
		if ((xpk = d2i_X509_PUBKEY(NULL, &p, len)) == NULL) {
			errbuf_ssl(err, "%s: bad public key data", name);
			return -1;
		}
		if ((pkey = X509_PUBKEY_get(xpk)) == NULL) {
			ERR_clear_error();
			oid = NULL;
			X509_PUBKEY_get0_param((ASN1_OBJECT **)&oid, NULL,
			    NULL, NULL, xpk);
			oid_desc(oid, alg, sizeof(alg));
			X509_PUBKEY_free(xpk);
			return unsupported(name, alg, err);
		}
		X509_PUBKEY_free(xpk);
		break;
	case PEM_RSA_PUB:
		if ((pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, len)) ==
		    NULL) {
			errbuf_ssl(err, "%s: bad public key data", name);
			return -1;
		}
		break;
	default:
		errbuf_set(err, "%s: not a key", name);
		return -1;
	}
	if (check_key_alg(pkey, name, err) == -1) {
		EVP_PKEY_free(pkey);
		return -1;
	}
	*out = pkey;
	return 0;
}

/*
 * A DER key. Returns 0 with the key, -1 with err set, or -2 (err not set)
 * if the data is no key at all.
 */
static int
der_key(const unsigned char *buf, size_t size, const char *passphrase,
    const char *name, EVP_PKEY **out, int *is_private, struct errbuf *err)
{
	unsigned char *copy;
	enum pem_kind kind;
	int rc;

	*out = NULL;
	*is_private = 0;
	switch (der_shape(buf, size)) {
	case DER_SPKI:
		kind = PEM_SPKI;
		break;
	case DER_PKCS8_ENC:
		kind = PEM_PKCS8_ENC;
		break;
	case DER_PKCS8:
		kind = PEM_PKCS8;
		break;
	case DER_RSA:
		kind = PEM_RSA;
		break;
	case DER_EC:
		kind = PEM_EC;
		break;
	case DER_DSA:
		return unsupported(name, "dsa", err);
	default:
		return -2;
	}
	/* der_to_key may decrypt in place; ours is the caller's buffer. */
	copy = xmalloc(size);
	memcpy(copy, buf, size);
	rc = der_to_key(kind, NULL, copy, (long)size, passphrase, name, out,
	    is_private, err);
	OPENSSL_clear_free(copy, size);
	return rc;
}

/* ------------------------------------------------------------ key files */

/*
 * The key of a file: pf holds its PEM blocks, or is NULL for DER data in
 * buf. Returns 0 with *pkey and *is_private, or -1 with err set; *nokey
 * is then 1 when the data holds no key at all.
 */
static int
key_decode(const unsigned char *buf, size_t len, struct pem_file *pf,
    const char *name, const char *passphrase, EVP_PKEY **pkey,
    int *is_private, int *nokey, struct errbuf *err)
{
	struct pem_block *keyblk = NULL;
	size_t i;
	int rc, certs = 0;

	*pkey = NULL;
	*is_private = 0;
	*nokey = 0;
	if (pf != NULL) {
		for (i = 0; i < pf->n; i++) {
			if (PEM_IS_CERT(pf->v[i].kind))
				certs++;
			else if (PEM_IS_KEY(pf->v[i].kind)) {
				if (keyblk != NULL) {
					errbuf_set(err, "%s: more than one "
					    "key in it", name);
					return -1;
				}
				keyblk = &pf->v[i];
			}
		}
		if (keyblk == NULL) {
			*nokey = 1;
			if (certs > 0)
				errbuf_set(err, "%s: holds a certificate, "
				    "not a key", name);
			else
				errbuf_set(err, "%s: no private or public "
				    "key in it", name);
			return -1;
		}
		return der_to_key(keyblk->kind, keyblk->header, keyblk->data,
		    keyblk->len, passphrase, name, pkey, is_private, err);
	}
	rc = der_key(buf, len, passphrase, name, pkey, is_private, err);
	if (rc != -2)
		return rc;
	*nokey = 1;
	if (der_shape(buf, len) == DER_CERT)
		errbuf_set(err, "%s: holds a certificate, not a key", name);
	else
		errbuf_set(err, "%s: neither PEM nor DER certificate or key",
		    name);
	return -1;
}

static struct certkey_key *
key_new(const char *name, EVP_PKEY *pkey, int is_private)
{
	struct certkey_key *key = xcalloc(1, sizeof(*key));

	key->path = xstrdup(name);
	key->pkey = pkey;
	key->is_private = is_private;
	return key;
}

void
certkey_key_free(struct certkey_key *key)
{
	if (key == NULL)
		return;
	EVP_PKEY_free(key->pkey);
	free(key->path);
	free(key);
}

struct certkey_key *
certkey_key_ref(const struct certkey_key *key)
{
	if (key == NULL || !EVP_PKEY_up_ref(key->pkey))
		return NULL;
	return key_new(key->path, key->pkey, key->is_private);
}

int
certkey_key_public(struct certkey_key *key, struct errbuf *err)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	EVP_PKEY *pub = NULL;
	int len;

	if ((len = i2d_PUBKEY(key->pkey, &der)) > 0) {
		p = der;
		pub = d2i_PUBKEY(NULL, &p, len);
	}
	OPENSSL_free(der);
	if (pub == NULL) {
		errbuf_ssl(err, "%s: cannot take the public key", key->path);
		return -1;
	}
	EVP_PKEY_free(key->pkey);
	key->pkey = pub;
	key->is_private = 0;
	return 0;
}

/* ------------------------------------------------------------ queries */

int
certkey_pubkey_equal(EVP_PKEY *a, EVP_PKEY *b)
{
	int rc;

	if (a == NULL || b == NULL)
		return 0;
	rc = EVP_PKEY_eq(a, b);
	ERR_clear_error();
	return rc == 1;
}

int
certkey_alg_name(EVP_PKEY *key, char *buf, size_t len)
{
	char group[80];
	const char *type;
	size_t glen, i;
	int nid;

	if (key == NULL) {
		snprintf(buf, len, "none");
		return -1;
	}
	if (EVP_PKEY_is_a(key, "RSA")) {
		snprintf(buf, len, "rsa-%d", EVP_PKEY_get_bits(key));
		return 0;
	}
	if (EVP_PKEY_is_a(key, "ED25519")) {
		snprintf(buf, len, "ed25519");
		return 0;
	}
	if (EVP_PKEY_is_a(key, "ED448")) {
		snprintf(buf, len, "ed448");
		return 0;
	}
	if (EVP_PKEY_is_a(key, "EC")) {
		if (!EVP_PKEY_get_group_name(key, group, sizeof(group),
		    &glen)) {
			ERR_clear_error();
			snprintf(buf, len,
			    "ec with explicit curve parameters");
			return -1;
		}
		if ((nid = OBJ_sn2nid(group)) == NID_undef)
			nid = EC_curve_nist2nid(group);
		switch (nid) {
		case NID_X9_62_prime256v1:
			snprintf(buf, len, "ecdsa-p256");
			return 0;
		case NID_secp384r1:
			snprintf(buf, len, "ecdsa-p384");
			return 0;
		case NID_secp521r1:
			snprintf(buf, len, "ecdsa-p521");
			return 0;
		}
		snprintf(buf, len, "ec %s", group);
		return -1;
	}
	if ((type = EVP_PKEY_get0_type_name(key)) == NULL &&
	    (type = OBJ_nid2sn(EVP_PKEY_get_base_id(key))) == NULL)
		type = "unknown";
	snprintf(buf, len, "%s", type);
	for (i = 0; buf[i] != '\0'; i++)
		if (buf[i] >= 'A' && buf[i] <= 'Z')
			buf[i] += 'a' - 'A';
	return -1;
}

/*
 * The family of a supported algorithm's name from certkey_alg_name
 * ("ecdsa-p384" -> "ecdsa"), or NULL; rc is what that returned.
 */
static const char *
alg_family_of(int rc, const char *name)
{
	if (rc == -1)
		return NULL;
	if (strncmp(name, "rsa-", 4) == 0)
		return "rsa";
	if (strncmp(name, "ecdsa-", 6) == 0)
		return "ecdsa";
	if (strcmp(name, "ed25519") == 0)
		return "ed25519";
	if (strcmp(name, "ed448") == 0)
		return "ed448";
	return NULL;
}

const char *
certkey_alg_family(EVP_PKEY *key)
{
	char name[128];

	return alg_family_of(certkey_alg_name(key, name, sizeof(name)), name);
}

int
certkey_passphrase_read(const char *path, char **out, struct errbuf *err)
{
	unsigned char *buf, *nl;
	size_t len, n;

	*out = NULL;
	if (file_read(path, &buf, &len, err) == -1)
		return -1;
	nl = memchr(buf, '\n', len);
	n = nl != NULL ? (size_t)(nl - buf) : len;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n == 0) {
		file_free(buf, len);
		errbuf_set(err, "%s: the first line is empty; put the "
		    "passphrase on it", path);
		return -1;
	}
	if (memchr(buf, '\0', n) != NULL) {
		file_free(buf, len);
		errbuf_set(err, "%s: the passphrase contains a NUL byte",
		    path);
		return -1;
	}
	*out = xstrndup((const char *)buf, n);
	file_free(buf, len);
	return 0;
}

/* ------------------------------------------------------------ light */

/*
 * Made once and never freed: certificates keep a pointer to it. Loading
 * a provider explicitly is what stops OpenSSL from loading the default
 * one into a new context on its first fetch. Chains may be loaded from
 * several threads, hence pthread_once. If the context cannot be made,
 * light_ctx stays NULL and certificates are decoded whole (slower, same
 * results).
 */
static pthread_once_t light_once = PTHREAD_ONCE_INIT;
static OSSL_LIB_CTX *light_ctx;

static void
light_init(void)
{
	OSSL_LIB_CTX *ctx;

	ERR_set_mark();
	if ((ctx = OSSL_LIB_CTX_new()) != NULL &&
	    OSSL_PROVIDER_load(ctx, "null") == NULL) {
		OSSL_LIB_CTX_free(ctx);
		ctx = NULL;
	}
	ERR_pop_to_mark();
	light_ctx = ctx;
}

/*
 * One DER certificate at *pp (advanced past it), complete or light
 * (flags). A TRUSTED CERTIFICATE (aux) carries trust settings after the
 * certificate; they are kept, as d2i_X509_AUX does.
 */
static X509 *
cert_d2i(const unsigned char **pp, long len, int aux, unsigned flags)
{
	OSSL_LIB_CTX *ctx = NULL;
	X509 *cert;

	if (flags & CERTKEY_LIGHT) {
		pthread_once(&light_once, light_init);
		ctx = light_ctx;
	}
	if (!aux)
		return (X509 *)ASN1_item_d2i_ex(NULL, pp, len,
		    ASN1_ITEM_rptr(X509), ctx, NULL);
	if ((cert = X509_new_ex(ctx, NULL)) == NULL)
		return NULL;
	/* On failure d2i may already have freed it and set cert NULL. */
	if (d2i_X509_AUX(&cert, pp, len) == NULL) {
		X509_free(cert);
		return NULL;
	}
	return cert;
}

/* Is cert's public key decoded (a complete certificate)? */
static int
cert_key_decoded(X509 *cert)
{
	EVP_PKEY *pkey;

	ERR_set_mark();
	pkey = X509_get0_pubkey(cert);
	ERR_pop_to_mark();
	return pkey != NULL;
}

/* ------------------------------------------------------------ chains */

static struct certkey_chain *
chain_new(const char *name)
{
	struct certkey_chain *chain = xcalloc(1, sizeof(*chain));

	chain->path = xstrdup(name);
	if ((chain->certs = sk_X509_new_null()) == NULL) {
		free(chain->path);
		free(chain);
		return NULL;
	}
	return chain;
}

static int
chain_push(struct certkey_chain *chain, X509 *cert, const char *name,
    struct errbuf *err)
{
	if (sk_X509_push(chain->certs, cert) <= 0) {
		X509_free(cert);
		errbuf_ssl(err, "%s: out of memory", name);
		return -1;
	}
	return 0;
}

static int
chain_from_pem(struct certkey_chain *chain, struct pem_file *pf,
    const char *name, unsigned flags, struct errbuf *err)
{
	struct pem_block *blk;
	const unsigned char *p;
	X509 *cert;
	size_t i;
	int is_private, keys = 0, pubkeys = 0;

	for (i = 0; i < pf->n; i++) {
		blk = &pf->v[i];
		if (blk->kind == PEM_OTHER)
			continue;
		if (blk->kind == PEM_SPKI || blk->kind == PEM_RSA_PUB) {
			pubkeys++;
			continue;
		}
		if (PEM_IS_PRIVATE(blk->kind)) {
			if (++keys > 1) {
				errbuf_set(err, "%s: more than one private "
				    "key in it", name);
				return -1;
			}
			if (blk->kind == PEM_PKCS8_ENC) {
				/* No MTA asks for its passphrase. */
				errbuf_set(err, "%s: encrypted private key "
				    "in a chain file; the MTA cannot use it",
				    name);
				return -1;
			}
			if (der_to_key(blk->kind, blk->header, blk->data,
			    blk->len, NULL, name, &chain->key, &is_private,
			    err) == -1)
				return -1;
			continue;
		}
		p = blk->data;
		if ((cert = cert_d2i(&p, blk->len, blk->kind == PEM_CERT_AUX,
		    flags)) == NULL) {
			errbuf_ssl(err, "%s: bad PEM data: certificate %d is "
			    "cut short or damaged", name,
			    sk_X509_num(chain->certs) + 1);
			return -1;
		}
		if (chain_push(chain, cert, name, err) == -1)
			return -1;
	}
	if (sk_X509_num(chain->certs) == 0) {
		if (keys > 0 || pubkeys > 0)
			errbuf_set(err, "%s: holds a key but no certificate",
			    name);
		else
			errbuf_set(err, "%s: no certificate in it", name);
		return -1;
	}
	return 0;
}

static int
chain_from_der(struct certkey_chain *chain, const unsigned char *buf,
    size_t len, const char *name, unsigned flags, struct errbuf *err)
{
	const unsigned char *p = buf, *end = buf + len;
	enum der_shape shape = der_shape(buf, len);
	X509 *cert;

	if (shape != DER_CERT) {
		if (shape != DER_UNKNOWN)
			errbuf_set(err, "%s: holds a key but no certificate",
			    name);
		else
			errbuf_set(err, "%s: neither PEM nor DER certificate "
			    "or key", name);
		return -1;
	}
	/* Usually one certificate; concatenated DER is read as a chain. */
	while (p < end) {
		if ((cert = cert_d2i(&p, end - p, 0, flags)) == NULL) {
			if (sk_X509_num(chain->certs) == 0)
				errbuf_ssl(err, "%s: bad DER certificate",
				    name);
			else
				errbuf_ssl(err, "%s: bad DER data after "
				    "certificate %d", name,
				    sk_X509_num(chain->certs));
			return -1;
		}
		if (chain_push(chain, cert, name, err) == -1)
			return -1;
	}
	return 0;
}

/* Below, with the other algorithm code. */
static int cert_alg(X509 *cert, char *buf, size_t len, int *damaged);

/*
 * The chain in buf: pf holds its PEM blocks, or is NULL for DER. Returns
 * 0 and a new chain in *out, or -1 with err set.
 */
static int
chain_parse(const unsigned char *buf, size_t len, struct pem_file *pf,
    const char *name, unsigned flags, struct certkey_chain **out,
    struct errbuf *err)
{
	struct certkey_chain *chain;
	char alg[128];
	int rc, damaged;

	*out = NULL;
	if ((chain = chain_new(name)) == NULL) {
		errbuf_ssl(err, "%s: out of memory", name);
		return -1;
	}
	if (pf != NULL)
		rc = chain_from_pem(chain, pf, name, flags, err);
	else
		rc = chain_from_der(chain, buf, len, name, flags, err);
	if (rc == 0) {
		/* Named from the key's outline: no key is decoded here. */
		if (cert_alg(certkey_chain_leaf(chain), alg, sizeof(alg),
		    &damaged) == -1) {
			if (damaged)
				errbuf_set(err, "%s: the public key of the "
				    "certificate is damaged (%s)", name, alg);
			else
				unsupported(name, alg, err);
			rc = -1;
		} else if (chain->key != NULL &&
		    !certkey_key_matches_cert(chain->key,
		    certkey_chain_leaf(chain))) {
			errbuf_set(err, "%s: private key does not match the "
			    "certificate", name);
			rc = -1;
		}
	}
	ERR_clear_error();
	if (rc == -1) {
		certkey_chain_free(chain);
		return -1;
	}
	*out = chain;
	return 0;
}

void
certkey_chain_free(struct certkey_chain *chain)
{
	if (chain == NULL)
		return;
	sk_X509_pop_free(chain->certs, X509_free);
	EVP_PKEY_free(chain->key);
	free(chain->path);
	free(chain);
}

struct certkey_chain *
certkey_chain_ref(const struct certkey_chain *chain)
{
	struct certkey_chain *n;

	if (chain == NULL)
		return NULL;
	n = xcalloc(1, sizeof(*n));
	n->path = xstrdup(chain->path);
	if ((n->certs = X509_chain_up_ref(chain->certs)) == NULL ||
	    (chain->key != NULL && !EVP_PKEY_up_ref(chain->key))) {
		sk_X509_pop_free(n->certs, X509_free);
		free(n->path);
		free(n);
		return NULL;
	}
	n->key = chain->key;
	return n;
}

X509 *
certkey_chain_leaf(const struct certkey_chain *chain)
{
	return sk_X509_value(chain->certs, 0);
}

/* ------------------------------------------------------------ entry points */

enum want {
	WANT_CHAIN,
	WANT_KEY,
	WANT_EITHER	/* a chain if it holds a certificate, else a key */
};

/*
 * Parse buf (from name) as want says into *chain or *key. Returns 0, or
 * -1 with err naming name.
 */
static int
parse(const unsigned char *buf, size_t len, const char *name,
    const char *passphrase, unsigned flags, enum want want,
    struct certkey_chain **chain, struct certkey_key **key,
    struct errbuf *err)
{
	struct pem_file pf = { NULL, 0 }, *pfp = NULL;
	EVP_PKEY *pkey;
	size_t i;
	int rc, is_private, nokey, certs = 0;

	if (name == NULL)
		name = "(memory)";
	if (buf == NULL || len == 0) {
		errbuf_set(err, "%s: empty file", name);
		return -1;
	}
	if (pem_looks(buf, len)) {
		if (pem_read_all(buf, len, name, &pf, err) == -1)
			return -1;
		pfp = &pf;
		for (i = 0; i < pf.n; i++)
			certs += PEM_IS_CERT(pf.v[i].kind);
	} else
		certs = der_shape(buf, len) == DER_CERT;
	if (want == WANT_CHAIN || (want == WANT_EITHER && certs > 0))
		rc = chain_parse(buf, len, pfp, name, flags, chain, err);
	else {
		rc = key_decode(buf, len, pfp, name, passphrase, &pkey,
		    &is_private, &nokey, err);
		ERR_clear_error();
		if (rc == 0)
			*key = key_new(name, pkey, is_private);
		else if (want == WANT_EITHER && nokey && pfp != NULL)
			errbuf_set(err, "%s: neither a certificate nor a key",
			    name);
	}
	pem_file_free(&pf);
	return rc;
}

/* Read path and parse it. */
static int
file_parse(const char *path, const char *passphrase, unsigned flags,
    enum want want, struct certkey_chain **chain, struct certkey_key **key,
    struct errbuf *err)
{
	unsigned char *buf;
	size_t len;
	int rc;

	if (file_read(path, &buf, &len, err) == -1)
		return -1;
	rc = parse(buf, len, path, passphrase, flags, want, chain, key, err);
	file_free(buf, len);
	return rc;
}

int
certkey_chain_parse(const unsigned char *buf, size_t len, const char *name,
    unsigned flags, struct certkey_chain **out, struct errbuf *err)
{
	*out = NULL;
	return parse(buf, len, name, NULL, flags, WANT_CHAIN, out, NULL, err);
}

int
certkey_chain_load(const char *path, struct certkey_chain **out,
    struct errbuf *err)
{
	*out = NULL;
	return file_parse(path, NULL, 0, WANT_CHAIN, out, NULL, err);
}

int
certkey_key_parse(const unsigned char *buf, size_t len, const char *name,
    const char *passphrase, struct certkey_key **out, struct errbuf *err)
{
	*out = NULL;
	return parse(buf, len, name, passphrase, 0, WANT_KEY, NULL, out, err);
}

int
certkey_key_load(const char *path, const char *passphrase,
    struct certkey_key **out, struct errbuf *err)
{
	*out = NULL;
	return file_parse(path, passphrase, 0, WANT_KEY, NULL, out, err);
}

int
certkey_file_load(const char *path, const char *passphrase, unsigned flags,
    struct certkey_chain **chain, struct certkey_key **key,
    struct errbuf *err)
{
	*chain = NULL;
	*key = NULL;
	return file_parse(path, passphrase, flags, WANT_EITHER, chain, key,
	    err);
}

/* ------------------------------------------------------------ keys of certs */

EVP_PKEY *
certkey_cert_pubkey(X509 *cert)
{
	X509_PUBKEY *xpk;
	EVP_PKEY *pkey;
	unsigned char *der = NULL;
	const unsigned char *p;
	int len;

	if (cert == NULL)
		return NULL;
	ERR_set_mark();
	if ((pkey = X509_get0_pubkey(cert)) != NULL) {
		ERR_pop_to_mark();
		return EVP_PKEY_up_ref(pkey) ? pkey : NULL;
	}
	/* Light: decode the SubjectPublicKeyInfo in the default context. */
	if ((xpk = X509_get_X509_PUBKEY(cert)) != NULL &&
	    (len = i2d_X509_PUBKEY(xpk, &der)) > 0) {
		p = der;
		pkey = d2i_PUBKEY(NULL, &p, len);
	}
	OPENSSL_free(der);
	ERR_pop_to_mark();
	return pkey;
}

int
certkey_key_matches_cert(EVP_PKEY *key, X509 *cert)
{
	EVP_PKEY *certkey;
	int rc;

	if (key == NULL || (certkey = certkey_cert_pubkey(cert)) == NULL)
		return 0;
	ERR_set_mark();
	rc = EVP_PKEY_eq(key, certkey);
	ERR_pop_to_mark();
	EVP_PKEY_free(certkey);
	return rc == 1;
}

X509 *
certkey_cert_complete(X509 *cert)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	X509 *full = NULL;
	int len;

	if (cert == NULL)
		return NULL;
	if (cert_key_decoded(cert))
		return X509_up_ref(cert) ? cert : NULL;
	/* The _AUX forms keep the trust settings of a TRUSTED CERTIFICATE. */
	ERR_set_mark();
	if ((len = i2d_X509_AUX(cert, &der)) > 0) {
		p = der;
		full = d2i_X509_AUX(NULL, &p, len);
	}
	OPENSSL_free(der);
	ERR_pop_to_mark();
	return full;
}

/* ------------------------------------------------------------ algorithms */

/*
 * Bits in the modulus of a DER RSAPublicKey (RFC 8017 A.1.1), or -1 if it
 * is not SEQUENCE { INTEGER n, INTEGER e } with a positive n and nothing
 * after it. OpenSSL reads n as unsigned and ignores what follows, so all
 * it accepts and this refuses is damaged anyway.
 */
static int
rsa_modulus_bits(const unsigned char *der, int len)
{
	const unsigned char *p = der, *end, *n;
	long l, nlen;
	int tag, class, bits = -1;
	unsigned c;

	ERR_set_mark();
	if (ASN1_get_object(&p, &l, &tag, &class, len) != V_ASN1_CONSTRUCTED ||
	    tag != V_ASN1_SEQUENCE || class != V_ASN1_UNIVERSAL ||
	    l != der + len - p)
		goto done;
	end = p + l;
	if (ASN1_get_object(&p, &nlen, &tag, &class, end - p) != 0 ||
	    tag != V_ASN1_INTEGER || class != V_ASN1_UNIVERSAL || nlen < 1)
		goto done;
	n = p;
	p += nlen;
	if (ASN1_get_object(&p, &l, &tag, &class, end - p) != 0 ||
	    tag != V_ASN1_INTEGER || class != V_ASN1_UNIVERSAL || l < 1 ||
	    l != end - p || (n[0] & 0x80) != 0)
		goto done;
	while (nlen > 0 && *n == 0) {
		n++;
		nlen--;
	}
	if (nlen == 0 || nlen > INT_MAX / 8)
		goto done;
	bits = (int)(nlen - 1) * 8;
	for (c = n[0]; c != 0; c >>= 1)
		bits++;
done:
	ERR_pop_to_mark();
	return bits;
}

/*
 * The EC named curves we support, with their field size in bytes: a
 * point is 0x04 X Y uncompressed or 0x02/0x03 X compressed.
 */
static const struct {
	int nid;
	size_t field;
	const char *name;
} ec_curves[] = {
	{ NID_X9_62_prime256v1, 32, "ecdsa-p256" },
	{ NID_secp384r1, 48, "ecdsa-p384" },
	{ NID_secp521r1, 66, "ecdsa-p521" },
};

/*
 * Names for unsupported algorithms where OpenSSL's key type name (which
 * certkey_alg_name gives) differs from the OID's short name.
 */
static const struct {
	int nid;
	const char *name;
} key_type_names[] = {
	{ NID_rsassaPss, "rsa-pss" },
	{ NID_dhKeyAgreement, "dh" },
	{ NID_dhpublicnumber, "dhx" },
};

/*
 * Has the encoded point the length its form calls for? Whether it is on
 * the curve only decoding tells; certkey.h says why that is left.
 */
static int
ec_point_fits(const unsigned char *pk, int pklen, size_t field)
{
	if (pk == NULL || pklen < 1)
		return 0;
	if (pk[0] == 0x04)
		return (size_t)pklen == 1 + 2 * field;
	if (pk[0] == 0x02 || pk[0] == 0x03)
		return (size_t)pklen == 1 + field;
	return 0;
}

static int
cert_alg_ec(const X509_ALGOR *palg, const unsigned char *pk, int pklen,
    char *buf, size_t len, int *damaged)
{
	const ASN1_OBJECT *curve;
	const void *pval;
	const char *cname;
	size_t i;
	int ptype, nid;
	char oid[80];

	X509_ALGOR_get0(NULL, &ptype, &pval, palg);
	if (ptype == V_ASN1_SEQUENCE) {
		snprintf(buf, len, "ec with explicit curve parameters");
		return -1;
	}
	if (ptype != V_ASN1_OBJECT) {
		*damaged = 1;
		snprintf(buf, len, "ec without a named curve");
		return -1;
	}
	curve = pval;
	nid = OBJ_obj2nid(curve);
	for (i = 0; i < sizeof(ec_curves) / sizeof(ec_curves[0]); i++) {
		if (ec_curves[i].nid != nid)
			continue;
		snprintf(buf, len, "%s", ec_curves[i].name);
		if (!ec_point_fits(pk, pklen, ec_curves[i].field)) {
			*damaged = 1;
			return -1;
		}
		return 0;
	}
	/* OpenSSL makes an SM2 key of a key on that curve. */
	if (nid == NID_sm2)
		snprintf(buf, len, "sm2");
	else if ((cname = OSSL_EC_curve_nid2name(nid)) != NULL)
		snprintf(buf, len, "ec %s", cname);
	else if (OBJ_obj2txt(oid, sizeof(oid), curve, 1) > 0)
		snprintf(buf, len, "ec %s", oid);
	else
		snprintf(buf, len, "ec unknown");
	return -1;
}

/*
 * certkey_cert_alg_name, and whether a failure is a damaged key of a
 * supported algorithm (*damaged 1) rather than an unsupported one.
 */
static int
cert_alg(X509 *cert, char *buf, size_t len, int *damaged)
{
	X509_PUBKEY *xpk;
	ASN1_OBJECT *oid = NULL;
	const unsigned char *pk = NULL;
	X509_ALGOR *palg = NULL;
	int pklen = 0, nid, ptype, bits;
	size_t i;

	*damaged = 0;
	if (cert == NULL || (xpk = X509_get_X509_PUBKEY(cert)) == NULL ||
	    !X509_PUBKEY_get0_param(&oid, &pk, &pklen, &palg, xpk)) {
		snprintf(buf, len, "none");
		return -1;
	}
	switch (nid = OBJ_obj2nid(oid)) {
	case NID_rsaEncryption:
		if ((bits = rsa_modulus_bits(pk, pklen)) <= 0) {
			*damaged = 1;
			snprintf(buf, len, "rsa");
			return -1;
		}
		snprintf(buf, len, "rsa-%d", bits);
		return 0;
	case NID_X9_62_id_ecPublicKey:
		return cert_alg_ec(palg, pk, pklen, buf, len, damaged);
	case NID_ED25519:
	case NID_ED448:
		snprintf(buf, len, nid == NID_ED25519 ? "ed25519" : "ed448");
		/* RFC 8410: no parameters, and a key of exactly this size. */
		X509_ALGOR_get0(NULL, &ptype, NULL, palg);
		if (ptype != V_ASN1_UNDEF ||
		    pklen != (nid == NID_ED25519 ? 32 : 57)) {
			*damaged = 1;
			return -1;
		}
		return 0;
	}
	for (i = 0; i < sizeof(key_type_names) / sizeof(key_type_names[0]);
	    i++)
		if (key_type_names[i].nid == nid) {
			snprintf(buf, len, "%s", key_type_names[i].name);
			return -1;
		}
	oid_desc(oid, buf, len);
	return -1;
}

int
certkey_cert_alg_name(X509 *cert, char *buf, size_t len)
{
	int damaged;

	return cert_alg(cert, buf, len, &damaged);
}

const char *
certkey_cert_alg_family(X509 *cert)
{
	char name[128];

	return alg_family_of(certkey_cert_alg_name(cert, name, sizeof(name)),
	    name);
}

/* ------------------------------------------------------------ dates, CA */

int
certkey_is_ca(X509 *cert)
{
	uint32_t flags;

	/* A light certificate's SHA-1 fingerprint fails quietly. */
	ERR_set_mark();
	flags = X509_get_extension_flags(cert);
	ERR_pop_to_mark();
	return (flags & EXFLAG_CA) != 0;
}

/*
 * The time forms RFC 5280 allows, which are all X509_cmp_time accepts:
 * UTCTime YYMMDDHHMMSSZ, GeneralizedTime YYYYMMDDHHMMSSZ.
 */
static int
time_strict(const ASN1_TIME *t)
{
	const unsigned char *d = ASN1_STRING_get0_data(t);
	int i, n = ASN1_STRING_length(t);

	switch (ASN1_STRING_type(t)) {
	case V_ASN1_UTCTIME:
		if (n != 13)
			return 0;
		break;
	case V_ASN1_GENERALIZEDTIME:
		if (n != 15)
			return 0;
		break;
	default:
		return 0;
	}
	for (i = 0; i < n - 1; i++)
		if (d[i] < '0' || d[i] > '9')
			return 0;
	return d[n - 1] == 'Z';
}

int
certkey_is_expired(X509 *cert, time_t now, char *buf, size_t len)
{
	const ASN1_TIME *notafter = X509_get0_notAfter(cert);
	struct tm tm;
	int cmp;

	if (buf != NULL && len > 0) {
		if (notafter != NULL && ASN1_TIME_to_tm(notafter, &tm) == 1)
			strftime(buf, len, "%Y-%m-%d", &tm);
		else
			snprintf(buf, len, "unknown");
	}
	/*
	 * What X509_cmp_time(notafter, &now) < 0 says (expired at notAfter
	 * itself), without the ASN1_TIME it allocates and prints now into
	 * (3% of tlsagen's time per file).
	 */
	if (notafter == NULL || !time_strict(notafter))
		return 0;
	cmp = ASN1_TIME_cmp_time_t(notafter, now);
	return cmp == -1 || cmp == 0;
}
