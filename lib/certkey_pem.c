/*
 * certkey_pem - see certkey_pem.h.
 *
 * A file is read in one go (with a size cap) and parsed from memory, so
 * the parsers see exactly the bytes a test or a fuzzer gives them.
 */
#include "config.h"

#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "certkey_pem.h"
#include "fileio.h"
#include "errbuf.h"
#include "xalloc.h"

static const struct {
	const char *label;
	enum certkey_pem_kind kind;
} pem_labels[] = {
	{ "CERTIFICATE", CERTKEY_PEM_CERT },
	{ "X509 CERTIFICATE", CERTKEY_PEM_CERT },
	{ "TRUSTED CERTIFICATE", CERTKEY_PEM_CERT_AUX },
	{ "PRIVATE KEY", CERTKEY_PEM_PKCS8 },
	{ "ENCRYPTED PRIVATE KEY", CERTKEY_PEM_PKCS8_ENC },
	{ "RSA PRIVATE KEY", CERTKEY_PEM_RSA },
	{ "EC PRIVATE KEY", CERTKEY_PEM_EC },
	{ "DSA PRIVATE KEY", CERTKEY_PEM_DSA },
	{ "PUBLIC KEY", CERTKEY_PEM_SPKI },
	{ "RSA PUBLIC KEY", CERTKEY_PEM_RSA_PUB },
};

static const char pem_begin[] = "-----BEGIN ";
static const char pem_end[] = "-----END ";
#define PEM_BEGIN_LEN	(sizeof(pem_begin) - 1)
#define PEM_END_LEN	(sizeof(pem_end) - 1)
#define PEM_MAX_LABEL	64

void
certkey_pem_scan_init(struct certkey_pem_scan *scan, const unsigned char *buf,
    size_t len, const char *name)
{
	scan->buf = scan->pos = buf;
	scan->end = buf + len;
	scan->name = name;
}

int
certkey_pem_looks(const unsigned char *buf, size_t len)
{
	return memmem(buf, len, pem_begin, PEM_BEGIN_LEN) != NULL;
}

static enum certkey_pem_kind
pem_label_kind(const char *label, int len)
{
	size_t i;

	for (i = 0; i < sizeof(pem_labels) / sizeof(pem_labels[0]); i++)
		if (strlen(pem_labels[i].label) == (size_t)len &&
		    memcmp(pem_labels[i].label, label, len) == 0)
			return pem_labels[i].kind;
	return CERTKEY_PEM_OTHER;
}

static int
pem_label_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == ' ';
}

int
certkey_pem_next(struct certkey_pem_scan *scan, struct certkey_pem_block *blk,
    struct errbuf *err)
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
			/* Text may surround the blocks, NUL bytes may not:
			 * they are what a crash leaves of a half-written
			 * file (its size set, its data not). */
			if (memchr(scan->buf, '\0', end - scan->buf) != NULL) {
				errbuf_set(err, "%s: NUL bytes in a PEM file: "
				    "damaged or half-written; copy the whole "
				    "file again", scan->name);
				return -1;
			}
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
	blk->endtail = q;
	while (q < end && *q != '\n')
		q++;
	if (q < end)
		q++;

	blk->label = (const char *)lab;
	blk->labellen = labellen;
	blk->kind = pem_label_kind(blk->label, labellen);
	blk->start = b;
	blk->len = q - b;
	blk->body = body;
	blk->bodylen = e - body;
	scan->pos = q;
	return 1;
}

static int
b64_char(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '+' || c == '/';
}

/* At p, the end of a line: "\n", "\r\n" or the end of the data. */
static const unsigned char *
pem_eol(const unsigned char *p, const unsigned char *end)
{
	if (p < end && *p == '\r')
		p++;
	if (p == end)
		return p;
	return *p == '\n' ? p + 1 : NULL;
}

/*
 * Decode a block laid out as OpenSSL writes it: BEGIN line, lines of 64
 * base64 characters and a last one of at most 64, END line, nothing else
 * on those lines. Returns 1 with *data, or 0 for any other layout or bad
 * base64: PEM_read_bio_ex then judges it. PEM_read_bio_ex accepts every
 * such block and decodes it with the same EVP_DecodeUpdate; it is left
 * for the rest because it costs a BIO, a line buffer and several copies
 * per block, a third of the work of loading a certificate.
 */
static int
pem_decode_plain(const struct certkey_pem_block *blk, unsigned char **data,
    long *len)
{
	const unsigned char *p, *nl, *end = blk->body + blk->bodylen;
	EVP_ENCODE_CTX *ctx;
	unsigned char *out;
	size_t i, l;
	int n, total, last = 0;

	if ((p = pem_eol(blk->body, end)) == NULL || p == end ||
	    pem_eol(blk->endtail, blk->start + blk->len) == NULL ||
	    blk->bodylen > INT_MAX)
		return 0;
	for (nl = p; nl < end; nl++) {
		if ((nl = memchr(nl, '\n', end - nl)) == NULL)
			return 0;	/* END does not start a line */
		l = nl - p;
		if (l > 0 && p[l - 1] == '\r')
			l--;
		if (last || l == 0 || l > 64)
			return 0;
		last = l < 64;
		/* Padding ends the data: EVP_DecodeUpdate refuses more. */
		while (l > 0 && p[l - 1] == '=')
			l--;
		for (i = 0; i < l; i++)
			if (!b64_char(p[i]))
				return 0;
		p = nl + 1;
	}
	if ((ctx = EVP_ENCODE_CTX_new()) == NULL)
		return 0;
	out = OPENSSL_malloc(blk->bodylen / 4 * 3 + 3);
	EVP_DecodeInit(ctx);
	p = pem_eol(blk->body, end);
	if (out == NULL ||
	    EVP_DecodeUpdate(ctx, out, &total, p, (int)(end - p)) < 0 ||
	    EVP_DecodeFinal(ctx, out + total, &n) < 0 || total + n <= 0) {
		EVP_ENCODE_CTX_free(ctx);
		OPENSSL_free(out);
		ERR_clear_error();
		return 0;
	}
	EVP_ENCODE_CTX_free(ctx);
	*data = out;
	*len = total + n;
	return 1;
}

int
certkey_pem_decode(const struct certkey_pem_block *blk, const char *name,
    char **header, unsigned char **data, long *len, struct errbuf *err)
{
	BIO *bio;
	char *label = NULL;
	int ok;

	*header = NULL;
	*data = NULL;
	if (pem_decode_plain(blk, data, len))
		return 0;
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

void
certkey_pem_free(char *header, unsigned char *data, long len)
{
	OPENSSL_free(header);
	if (data != NULL)
		OPENSSL_clear_free(data, len);
}

/* ------------------------------------------------------------ files */

int
certkey_read_file(const char *path, unsigned char **bufp, size_t *lenp,
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

/* Key material may be in the buffer. */
void
certkey_free_file(unsigned char *buf, size_t len)
{
	if (buf != NULL) {
		OPENSSL_cleanse(buf, len);
		free(buf);
	}
}

/* ------------------------------------------------------------ DER */

/* ASN1_get_object checks every length against the data. */
enum certkey_der_shape
certkey_der_shape(const unsigned char *buf, size_t size)
{
	const unsigned char *p = buf, *end;
	long len;
	int tag, class, rc, n = 0, ints = 0, tags[3] = { -1, -1, -1 };

	if (size > LONG_MAX)
		return CERTKEY_DER_UNKNOWN;
	rc = ASN1_get_object(&p, &len, &tag, &class, (long)size);
	if ((rc & 0x80) || rc != V_ASN1_CONSTRUCTED ||
	    tag != V_ASN1_SEQUENCE || class != V_ASN1_UNIVERSAL)
		return CERTKEY_DER_UNKNOWN;
	end = p + len;
	while (p < end && n < 16) {
		rc = ASN1_get_object(&p, &len, &tag, &class, end - p);
		if ((rc & 0x80) || (rc & 0x01))	/* bad, or indefinite */
			return CERTKEY_DER_UNKNOWN;
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
			return CERTKEY_DER_CERT;
		if (n == 2 && tags[1] == V_ASN1_BIT_STRING)
			return CERTKEY_DER_SPKI;
		if (n == 2 && tags[1] == V_ASN1_OCTET_STRING)
			return CERTKEY_DER_PKCS8_ENC;
		return CERTKEY_DER_UNKNOWN;
	}
	if (tags[0] != V_ASN1_INTEGER)
		return CERTKEY_DER_UNKNOWN;
	if (tags[1] == V_ASN1_SEQUENCE && tags[2] == V_ASN1_OCTET_STRING)
		return CERTKEY_DER_PKCS8;
	if (tags[1] == V_ASN1_OCTET_STRING)
		return CERTKEY_DER_EC;
	if (ints >= 9 && tags[1] == V_ASN1_INTEGER)
		return CERTKEY_DER_RSA;
	if (ints == 6 && n == 6)
		return CERTKEY_DER_DSA;
	return CERTKEY_DER_UNKNOWN;
}

int
certkey_der_shape_is_key(enum certkey_der_shape shape)
{
	return shape != CERTKEY_DER_UNKNOWN && shape != CERTKEY_DER_CERT;
}
