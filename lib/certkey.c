/*
 * certkey - see certkey.h.
 *
 * A file is read in one go (with a size cap) and parsed from memory, so
 * the parsers see exactly the bytes a test or a fuzzer gives them. PEM is
 * split into blocks here, because OpenSSL's reader cannot tell its caller
 * *why* a file is bad (a missing END line and damaged base64 look alike);
 * each block is then base64-decoded by PEM_read_bio_ex and handed to the
 * one d2i_ function its label calls for. A certificate thus never goes
 * through the generic key decoders, which matters when thousands of chain
 * files are loaded.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "certkey.h"
#include "errbuf.h"
#include "xalloc.h"

/* Certificate and key files are a few KiB; anything near this is wrong. */
#define CERTKEY_MAX_FILE	(1024 * 1024)

/*
 * The cost of deriving a key from a passphrase is chosen by whoever wrote
 * the file. Refuse absurd costs rather than spin for minutes (or let a
 * fuzzer do so): OpenSSL writes 2048 PBKDF2 iterations, or scrypt with
 * N=16384 r=8 p=1.
 */
#define CERTKEY_MAX_PBKDF2_ITER	1000000L
#define CERTKEY_MAX_SCRYPT_COST	(1L << 22)	/* N * r * p */

#define SUPPORTED_ALGS	"RSA, ECDSA P-256/P-384/P-521, Ed25519, Ed448"

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

static const struct {
	const char *label;
	enum pem_kind kind;
} pem_labels[] = {
	{ "CERTIFICATE", PEM_CERT },
	{ "X509 CERTIFICATE", PEM_CERT },
	{ "TRUSTED CERTIFICATE", PEM_CERT_AUX },
	{ "PRIVATE KEY", PEM_PKCS8 },
	{ "ENCRYPTED PRIVATE KEY", PEM_PKCS8_ENC },
	{ "RSA PRIVATE KEY", PEM_RSA },
	{ "EC PRIVATE KEY", PEM_EC },
	{ "DSA PRIVATE KEY", PEM_DSA },
	{ "PUBLIC KEY", PEM_SPKI },
	{ "RSA PUBLIC KEY", PEM_RSA_PUB },
};

#define IS_KEY_KIND(k)	((k) >= PEM_PKCS8)
#define IS_PRIVATE_KIND(k) ((k) >= PEM_PKCS8 && (k) <= PEM_DSA)

/* One PEM block, located but not decoded. */
struct pem_block {
	const char *label;		/* not NUL-terminated */
	int labellen;
	enum pem_kind kind;
	const unsigned char *start;	/* at "-----BEGIN " */
	size_t len;			/* through the END line */
};

/* A PEM scan over a buffer. */
struct pem_scan {
	const unsigned char *buf;
	const unsigned char *pos;
	const unsigned char *end;
	const char *name;		/* for messages */
};

static const char pem_begin[] = "-----BEGIN ";
static const char pem_end[] = "-----END ";
#define PEM_BEGIN_LEN	(sizeof(pem_begin) - 1)
#define PEM_END_LEN	(sizeof(pem_end) - 1)
#define PEM_MAX_LABEL	64

static int
looks_pem(const unsigned char *buf, size_t len)
{
	return memmem(buf, len, pem_begin, PEM_BEGIN_LEN) != NULL;
}

static enum pem_kind
pem_label_kind(const char *label, int len)
{
	size_t i;

	for (i = 0; i < sizeof(pem_labels) / sizeof(pem_labels[0]); i++)
		if (strlen(pem_labels[i].label) == (size_t)len &&
		    memcmp(pem_labels[i].label, label, len) == 0)
			return pem_labels[i].kind;
	return PEM_OTHER;
}

static int
pem_label_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ';
}

/*
 * Locate the next PEM block. Returns 1 with *blk set, 0 at the end, or -1
 * with err set when a block has no END line or a malformed one.
 */
static int
pem_next(struct pem_scan *scan, struct pem_block *blk, struct errbuf *err)
{
	const unsigned char *b, *lab, *q, *body, *e, *nb;
	const unsigned char *end = scan->end;
	int labellen;

	/* A BEGIN line starts a line; mentions elsewhere are text. */
	for (;;) {
		b = memmem(scan->pos, end - scan->pos, pem_begin,
		    PEM_BEGIN_LEN);
		if (b == NULL) {
			scan->pos = end;
			return 0;
		}
		if (b == scan->buf || b[-1] == '\n')
			break;
		scan->pos = b + 1;
	}
	lab = b + PEM_BEGIN_LEN;
	for (q = lab; q < end && q - lab <= PEM_MAX_LABEL &&
	    pem_label_char(*q); q++)
		;
	labellen = (int)(q - lab);
	if (labellen == 0 || labellen > PEM_MAX_LABEL || end - q < 5 ||
	    memcmp(q, "-----", 5) != 0) {
		errbuf_set(err, "%s: bad PEM data: malformed BEGIN line",
		    scan->name);
		return -1;
	}
	body = q + 5;

	/* The first END after this BEGIN, with no other BEGIN between. */
	e = memmem(body, end - body, pem_end, PEM_END_LEN);
	nb = memmem(body, (e != NULL ? e : end) - body, pem_begin,
	    PEM_BEGIN_LEN);
	if (e == NULL || nb != NULL) {
		errbuf_set(err, "%s: truncated PEM: BEGIN %.*s without END "
		    "line; copy the whole file again", scan->name, labellen,
		    (const char *)lab);
		return -1;
	}
	q = e + PEM_END_LEN;
	if ((size_t)(end - q) < (size_t)labellen + 5 ||
	    memcmp(q, lab, labellen) != 0 || memcmp(q + labellen, "-----", 5)) {
		errbuf_set(err, "%s: bad PEM data: BEGIN %.*s ends with a "
		    "different END line", scan->name, labellen,
		    (const char *)lab);
		return -1;
	}
	q += labellen + 5;
	while (q < end && *q != '\n')
		q++;
	if (q < end)
		q++;

	blk->label = (const char *)lab;
	blk->labellen = labellen;
	blk->kind = pem_label_kind(blk->label, labellen);
	blk->start = b;
	blk->len = q - b;
	scan->pos = q;
	return 1;
}

/*
 * Base64-decode one located block. Returns 0 with *data (and *header, the
 * RFC 1421 headers of an old-style encrypted key) to be freed with
 * OPENSSL_free, or -1 with err set.
 */
static int
pem_decode(const struct pem_block *blk, const char *name, char **header,
    unsigned char **data, long *len, struct errbuf *err)
{
	BIO *bio;
	char *label = NULL;
	int ok;

	*header = NULL;
	*data = NULL;
	if (blk->len > INT_MAX ||
	    (bio = BIO_new_mem_buf(blk->start, (int)blk->len)) == NULL) {
		errbuf_ssl(err, "%s: cannot read PEM block", name);
		return -1;
	}
	ok = PEM_read_bio_ex(bio, &label, header, data, len,
	    PEM_FLAG_EAY_COMPATIBLE);
	BIO_free(bio);
	OPENSSL_free(label);
	if (!ok || *len <= 0) {
		OPENSSL_free(*header);
		OPENSSL_free(*data);
		*header = NULL;
		*data = NULL;
		ERR_clear_error();
		errbuf_set(err, "%s: bad PEM data: the base64 of a %.*s "
		    "block is damaged", name, blk->labellen, blk->label);
		return -1;
	}
	return 0;
}

static void
pem_free(char *header, unsigned char *data, long len)
{
	OPENSSL_free(header);
	if (data != NULL)
		OPENSSL_clear_free(data, len);
}

/* ------------------------------------------------------------ files */

static int
read_file(const char *path, unsigned char **bufp, size_t *lenp,
    struct errbuf *err)
{
	struct stat st;
	unsigned char *buf;
	size_t len = 0, cap;
	ssize_t n;
	int fd, saved;

	*bufp = NULL;
	*lenp = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1)
		goto syserr;
	if (fstat(fd, &st) == -1)
		goto syserr;
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		errbuf_set(err, "%s: is a directory", path);
		return -1;
	}
	if (S_ISREG(st.st_mode) && st.st_size > CERTKEY_MAX_FILE)
		goto toolarge;
	/* One read for a regular file; the extra byte sees the EOF. */
	cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 8192;
	buf = xmalloc(cap);
	for (;;) {
		if (len == cap) {
			if (cap > CERTKEY_MAX_FILE) {
				OPENSSL_clear_free(buf, len);
				goto toolarge;
			}
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		n = read(fd, buf + len, cap - len);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			saved = errno;
			OPENSSL_cleanse(buf, len);
			free(buf);
			errno = saved;
			goto syserr;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	if (len > CERTKEY_MAX_FILE) {
		OPENSSL_cleanse(buf, len);
		free(buf);
		errbuf_set(err, "%s: file too large (over %d bytes); not a "
		    "certificate or key file", path, CERTKEY_MAX_FILE);
		return -1;
	}
	if (len == 0) {
		free(buf);
		errbuf_set(err, "%s: empty file", path);
		return -1;
	}
	*bufp = buf;
	*lenp = len;
	return 0;

toolarge:
	close(fd);
	errbuf_set(err, "%s: file too large (over %d bytes); not a "
	    "certificate or key file", path, CERTKEY_MAX_FILE);
	return -1;

syserr:
	saved = errno;
	if (fd != -1)
		close(fd);
	switch (saved) {
	case ENOENT:
	case ENOTDIR:
		errbuf_set(err, "%s: no such file", path);
		break;
	case EACCES:
	case EPERM:
		errbuf_set(err, "%s: permission denied", path);
		break;
	case EISDIR:
		errbuf_set(err, "%s: is a directory", path);
		break;
	default:
		errbuf_set(err, "%s: %s", path, strerror(saved));
		break;
	}
	return -1;
}

/* Key material may be in the buffer. */
static void
free_file(unsigned char *buf, size_t len)
{
	if (buf != NULL) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
}

/* ------------------------------------------------------------ keys */

/* "rsaEncryption" -> "rsaencryption": a name for an unsupported OID. */
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

static int
unsupported(const char *name, const char *alg, struct errbuf *err)
{
	errbuf_set(err, "%s: unsupported key algorithm %s (supported: "
	    SUPPORTED_ALGS ")", name, alg);
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

/*
 * Decode DER data of a known form into a key. header holds the RFC 1421
 * headers of an old-style encrypted PEM key, or NULL. Returns 0 with
 * *out and *is_private set, or -1 with err set. The data buffer may be
 * decrypted in place.
 */
static int
der_to_key(enum pem_kind kind, char *header, unsigned char *der, long len,
    const char *passphrase, const char *name, EVP_PKEY **out,
    int *is_private, struct errbuf *err)
{
	const unsigned char *p = der;
	PKCS8_PRIV_KEY_INFO *p8;
	X509_SIG *sig;
	X509_PUBKEY *xpk;
	EVP_CIPHER_INFO cipher;
	const ASN1_OBJECT *oid;
	EVP_PKEY *pkey = NULL;
	char alg[128];

	*out = NULL;
	*is_private = IS_PRIVATE_KIND(kind);
	switch (kind) {
	case PEM_PKCS8:
		if ((p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, len)) == NULL) {
			errbuf_ssl(err, "%s: bad private key data", name);
			return -1;
		}
		pkey = pkcs8_to_key(p8, name, err);
		PKCS8_PRIV_KEY_INFO_free(p8);
		if (pkey == NULL)
			return -1;
		break;
	case PEM_PKCS8_ENC:
		if ((sig = d2i_X509_SIG(NULL, &p, len)) == NULL) {
			errbuf_ssl(err, "%s: bad encrypted private key data",
			    name);
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
		p8 = PKCS8_decrypt(sig, passphrase, (int)strlen(passphrase));
		X509_SIG_free(sig);
		if (p8 == NULL)
			return wrong_passphrase(name, err);
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

/* Decode a located PEM key block. */
static int
pem_block_key(const struct pem_block *blk, const char *passphrase,
    const char *name, EVP_PKEY **out, int *is_private, struct errbuf *err)
{
	unsigned char *data;
	char *header;
	long len;
	int rc;

	if (blk->kind == PEM_DSA)	/* no need to decode it */
		return unsupported(name, "dsa", err);
	if (pem_decode(blk, name, &header, &data, &len, err) == -1)
		return -1;
	rc = der_to_key(blk->kind, header, data, len, passphrase, name, out,
	    is_private, err);
	pem_free(header, data, len);
	return rc;
}

/* What a DER object looks like from the tags of its first elements. */
enum der_shape {
	DER_UNKNOWN,
	DER_CERT,		/* SEQUENCE { SEQUENCE, SEQUENCE, BIT STRING } */
	DER_SPKI,		/* SEQUENCE { SEQUENCE, BIT STRING } */
	DER_PKCS8_ENC,		/* SEQUENCE { SEQUENCE, OCTET STRING } */
	DER_PKCS8,		/* SEQUENCE { INTEGER, SEQUENCE, OCTET STRING, ..} */
	DER_RSA,		/* SEQUENCE { 9 INTEGERs, ... } */
	DER_EC,			/* SEQUENCE { INTEGER, OCTET STRING, ... } */
	DER_DSA			/* SEQUENCE { 6 INTEGERs } */
};

/*
 * Tell the kinds of DER file apart by their outline, so that only the one
 * matching decoder runs: in OpenSSL 3.0 a failed or generic decode
 * (d2i_AutoPrivateKey) costs a walk over every decoder there is.
 * ASN1_get_object checks every length against the data.
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

static int
der_shape_is_key(enum der_shape shape)
{
	return shape != DER_UNKNOWN && shape != DER_CERT;
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

/* ------------------------------------------------------------ chains */

static const ASN1_OBJECT *
cert_key_oid(X509 *cert)
{
	ASN1_OBJECT *oid = NULL;
	X509_PUBKEY *xpk = X509_get_X509_PUBKEY(cert);

	if (xpk != NULL)
		X509_PUBKEY_get0_param(&oid, NULL, NULL, NULL, xpk);
	return oid;
}

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
chain_parse_pem(struct certkey_chain *chain, const unsigned char *buf,
    size_t len, const char *name, struct errbuf *err)
{
	struct pem_scan scan = { buf, buf, buf + len, name };
	struct pem_block blk;
	unsigned char *data;
	const unsigned char *p;
	char *header;
	long dlen;
	X509 *cert;
	EVP_PKEY *pkey;
	int rc, is_private, keys = 0, pubkeys = 0;

	while ((rc = pem_next(&scan, &blk, err)) == 1) {
		if (blk.kind == PEM_OTHER)
			continue;
		if (blk.kind == PEM_SPKI || blk.kind == PEM_RSA_PUB) {
			pubkeys++;
			continue;
		}
		if (IS_PRIVATE_KIND(blk.kind)) {
			if (++keys > 1) {
				errbuf_set(err, "%s: more than one private "
				    "key in it", name);
				return -1;
			}
			if (blk.kind == PEM_PKCS8_ENC) {
				/* No MTA asks for its passphrase. */
				errbuf_set(err, "%s: encrypted private key "
				    "in a chain file; the MTA cannot use it",
				    name);
				return -1;
			}
			if (pem_block_key(&blk, NULL, name, &pkey, &is_private,
			    err) == -1)
				return -1;
			chain->key = pkey;
			continue;
		}
		if (pem_decode(&blk, name, &header, &data, &dlen, err) == -1)
			return -1;
		p = data;
		cert = blk.kind == PEM_CERT_AUX ? d2i_X509_AUX(NULL, &p, dlen) :
		    d2i_X509(NULL, &p, dlen);
		pem_free(header, data, dlen);
		if (cert == NULL) {
			errbuf_ssl(err, "%s: bad PEM data: certificate %d is "
			    "cut short or damaged", name,
			    sk_X509_num(chain->certs) + 1);
			return -1;
		}
		if (chain_push(chain, cert, name, err) == -1)
			return -1;
	}
	if (rc == -1)
		return -1;
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
chain_parse_der(struct certkey_chain *chain, const unsigned char *buf,
    size_t len, const char *name, struct errbuf *err)
{
	const unsigned char *p = buf, *end = buf + len;
	enum der_shape shape = der_shape(buf, len);
	X509 *cert;

	if (shape != DER_CERT) {
		if (der_shape_is_key(shape))
			errbuf_set(err, "%s: holds a key but no certificate",
			    name);
		else
			errbuf_set(err, "%s: neither PEM nor DER certificate "
			    "or key", name);
		return -1;
	}
	/* Usually one certificate; concatenated DER is read as a chain. */
	while (p < end) {
		if ((cert = d2i_X509(NULL, &p, end - p)) == NULL) {
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

int
certkey_chain_parse(const unsigned char *buf, size_t len, const char *name,
    struct certkey_chain **out, struct errbuf *err)
{
	struct certkey_chain *chain;
	EVP_PKEY *leafkey;
	char alg[128];
	int rc;

	*out = NULL;
	if (name == NULL)
		name = "(memory)";
	if (buf == NULL || len == 0) {
		errbuf_set(err, "%s: empty file", name);
		return -1;
	}
	if ((chain = chain_new(name)) == NULL) {
		errbuf_ssl(err, "%s: out of memory", name);
		return -1;
	}
	if (looks_pem(buf, len))
		rc = chain_parse_pem(chain, buf, len, name, err);
	else
		rc = chain_parse_der(chain, buf, len, name, err);
	if (rc == 0) {
		leafkey = X509_get0_pubkey(certkey_chain_leaf(chain));
		if (leafkey == NULL) {
			/* d2i_X509 keeps certificates of unknown key types. */
			oid_desc(cert_key_oid(certkey_chain_leaf(chain)), alg,
			    sizeof(alg));
			rc = unsupported(name, alg, err);
		} else if (certkey_alg_name(leafkey, alg, sizeof(alg)) == -1)
			rc = unsupported(name, alg, err);
		else if (chain->key != NULL &&
		    EVP_PKEY_eq(chain->key, leafkey) != 1) {
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

int
certkey_chain_load(const char *path, struct certkey_chain **out,
    struct errbuf *err)
{
	unsigned char *buf;
	size_t len;
	int rc;

	*out = NULL;
	if (read_file(path, &buf, &len, err) == -1)
		return -1;
	rc = certkey_chain_parse(buf, len, path, out, err);
	free_file(buf, len);
	return rc;
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

X509 *
certkey_chain_leaf(const struct certkey_chain *chain)
{
	return sk_X509_value(chain->certs, 0);
}

/* ------------------------------------------------------------ key files */

/*
 * Parse a key file. Returns 0 with *pkey and *is_private, or -1 with err
 * set; *nokey is set when the data holds no key at all.
 */
static int
key_parse(const unsigned char *buf, size_t len, const char *name,
    const char *passphrase, EVP_PKEY **pkey, int *is_private, int *nokey,
    struct errbuf *err)
{
	struct pem_scan scan = { buf, buf, buf + len, name };
	struct pem_block blk, keyblk;
	int rc, keys = 0, certs = 0;

	*pkey = NULL;
	*is_private = 0;
	*nokey = 0;
	if (looks_pem(buf, len)) {
		/* Locate every block (a damaged one is reported), decode
		 * only the key. */
		while ((rc = pem_next(&scan, &blk, err)) == 1) {
			if (blk.kind == PEM_CERT || blk.kind == PEM_CERT_AUX)
				certs++;
			else if (IS_KEY_KIND(blk.kind)) {
				if (++keys > 1) {
					errbuf_set(err, "%s: more than one "
					    "key in it", name);
					return -1;
				}
				keyblk = blk;
			}
		}
		if (rc == -1)
			return -1;
		if (keys == 0) {
			*nokey = 1;
			if (certs > 0)
				errbuf_set(err, "%s: holds a certificate, "
				    "not a key", name);
			else
				errbuf_set(err, "%s: no private or public "
				    "key in it", name);
			return -1;
		}
		return pem_block_key(&keyblk, passphrase, name, pkey,
		    is_private, err);
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

int
certkey_key_parse(const unsigned char *buf, size_t len, const char *name,
    const char *passphrase, struct certkey_key **out, struct errbuf *err)
{
	EVP_PKEY *pkey;
	int is_private, nokey, rc;

	*out = NULL;
	if (name == NULL)
		name = "(memory)";
	if (buf == NULL || len == 0) {
		errbuf_set(err, "%s: empty file", name);
		return -1;
	}
	rc = key_parse(buf, len, name, passphrase, &pkey, &is_private,
	    &nokey, err);
	ERR_clear_error();
	if (rc == -1)
		return -1;
	*out = key_new(name, pkey, is_private);
	return 0;
}

int
certkey_key_load(const char *path, const char *passphrase,
    struct certkey_key **out, struct errbuf *err)
{
	unsigned char *buf;
	size_t len;
	int rc;

	*out = NULL;
	if (read_file(path, &buf, &len, err) == -1)
		return -1;
	rc = certkey_key_parse(buf, len, path, passphrase, out, err);
	free_file(buf, len);
	return rc;
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

/* Does the data hold a certificate? -1 with err set on damaged PEM. */
static int
holds_cert(const unsigned char *buf, size_t len, const char *name,
    struct errbuf *err)
{
	struct pem_scan scan = { buf, buf, buf + len, name };
	struct pem_block blk;
	int rc;

	if (looks_pem(buf, len)) {
		while ((rc = pem_next(&scan, &blk, err)) == 1)
			if (blk.kind == PEM_CERT || blk.kind == PEM_CERT_AUX)
				return 1;
		return rc;
	}
	return der_shape(buf, len) == DER_CERT;
}

int
certkey_file_load(const char *path, const char *passphrase,
    struct certkey_chain **chain, struct certkey_key **key,
    struct errbuf *err)
{
	unsigned char *buf;
	size_t len;
	EVP_PKEY *pkey;
	int rc, is_private, nokey;

	*chain = NULL;
	*key = NULL;
	if (read_file(path, &buf, &len, err) == -1)
		return -1;
	rc = holds_cert(buf, len, path, err);
	if (rc == 1)
		rc = certkey_chain_parse(buf, len, path, chain, err);
	else if (rc == 0) {
		rc = key_parse(buf, len, path, passphrase, &pkey, &is_private,
		    &nokey, err);
		ERR_clear_error();
		if (rc == 0)
			*key = key_new(path, pkey, is_private);
		else if (nokey && looks_pem(buf, len))
			errbuf_set(err, "%s: neither a certificate nor a key",
			    path);
	}
	free_file(buf, len);
	return rc;
}

/* ------------------------------------------------------------ queries */

int
certkey_key_matches_cert(EVP_PKEY *key, X509 *cert)
{
	EVP_PKEY *certkey;
	int rc;

	if (key == NULL || cert == NULL ||
	    (certkey = X509_get0_pubkey(cert)) == NULL) {
		ERR_clear_error();
		return 0;
	}
	rc = EVP_PKEY_eq(key, certkey);
	ERR_clear_error();
	return rc == 1;
}

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
			snprintf(buf, len, "ec with explicit curve parameters");
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

const char *
certkey_alg_family(EVP_PKEY *key)
{
	char name[128];

	if (certkey_alg_name(key, name, sizeof(name)) == -1)
		return NULL;
	if (strncmp(name, "rsa-", 4) == 0)
		return "rsa";
	if (strncmp(name, "ecdsa-", 6) == 0)
		return "ecdsa";
	if (strcmp(name, "ed25519") == 0)
		return "ed25519";
	return "ed448";
}

int
certkey_passphrase_read(const char *path, char **out, struct errbuf *err)
{
	unsigned char *buf, *nl;
	size_t len, n;

	*out = NULL;
	if (read_file(path, &buf, &len, err) == -1)
		return -1;
	nl = memchr(buf, '\n', len);
	n = nl != NULL ? (size_t)(nl - buf) : len;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n == 0) {
		free_file(buf, len);
		errbuf_set(err, "%s: the first line is empty; put the "
		    "passphrase on it", path);
		return -1;
	}
	if (memchr(buf, '\0', n) != NULL) {
		free_file(buf, len);
		errbuf_set(err, "%s: the passphrase contains a NUL byte",
		    path);
		return -1;
	}
	*out = xstrndup((const char *)buf, n);
	free_file(buf, len);
	return 0;
}

int
certkey_is_ca(X509 *cert)
{
	return (X509_get_extension_flags(cert) & EXFLAG_CA) != 0;
}

int
certkey_is_expired(X509 *cert, time_t now, char *buf, size_t len)
{
	const ASN1_TIME *notafter = X509_get0_notAfter(cert);
	struct tm tm;

	if (buf != NULL && len > 0) {
		if (notafter != NULL && ASN1_TIME_to_tm(notafter, &tm) == 1)
			strftime(buf, len, "%Y-%m-%d", &tm);
		else
			snprintf(buf, len, "unknown");
	}
	if (notafter == NULL)
		return 0;
	return X509_cmp_time(notafter, &now) < 0;
}
