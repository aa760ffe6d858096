/*
 * certread - see certread.h.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "certread.h"
#include "errbuf.h"
#include "fileio.h"
#include "xalloc.h"

/* ------------------------------------------------------------ files */

int
certread_file(const char *path, unsigned char **bufp, size_t *lenp,
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

void
certread_free(unsigned char *buf, size_t len)
{
	if (buf != NULL) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
}

/* ------------------------------------------------------------ PEM */

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

static const char pem_begin[] = "-----BEGIN ";
#define PEM_BEGIN_LEN	(sizeof(pem_begin) - 1)

int
certread_pem_looks(const unsigned char *buf, size_t len)
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

void
certread_pem_free(struct pem_file *pf)
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

int
certread_pem(const unsigned char *buf, size_t len, const char *name,
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
	certread_pem_free(pf);
	return -1;
}

/* ------------------------------------------------------------ DER */

enum der_shape
certread_der_shape(const unsigned char *buf, size_t size)
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
