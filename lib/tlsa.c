/*
 * tlsa - the TLSA record model: association data, names, order, sets and
 * output forms. Parsing lives in tlsa_parse.c. See tlsa.h for contracts.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "errbuf.h"
#include "tlsa.h"
#include "xalloc.h"

static const char hexdigits[] = "0123456789abcdef";

char *
tlsa_type_str(struct tlsa_type type, char *buf, size_t len)
{
	snprintf(buf, len, "%u %u %u", type.usage, type.selector, type.mtype);
	return buf;
}

/*
 * Turn DER into the association data for mtype. A full-data record takes
 * the DER buffer itself, so 3 0 0 costs no extra copy.
 */
static int
tlsa_record_from_der(struct tlsa_record *out, struct tlsa_type type,
    unsigned char *der, size_t derlen, struct errbuf *err)
{
	const EVP_MD *md;
	unsigned int mdlen;

	out->owner = NULL;
	out->ttl = -1;
	out->type = type;
	if (type.mtype == TLSA_MATCH_FULL) {
		if (derlen > TLSA_DATA_MAX) {
			free(der);
			errbuf_set(err, "%zu bytes of DER are too long for a "
			    "TLSA record with matching type 0; use 1 (SHA-256)",
			    derlen);
			out->len = 0;
			out->data = NULL;
			return -1;
		}
		out->len = derlen;
		out->data = der;
		return 0;
	}
	md = type.mtype == TLSA_MATCH_SHA256 ? EVP_sha256() : EVP_sha512();
	out->data = xmalloc(EVP_MAX_MD_SIZE);
	if (!EVP_Digest(der, derlen, out->data, &mdlen, md, NULL)) {
		free(der);
		free(out->data);
		out->data = NULL;
		out->len = 0;
		errbuf_ssl(err, "cannot compute the digest for TLSA data");
		return -1;
	}
	free(der);
	out->len = mdlen;
	return 0;
}

static int
tlsa_check_computable(struct tlsa_type type, struct errbuf *err)
{
	char buf[16];

	if (type.selector > TLSA_SELECTOR_SPKI || type.mtype > TLSA_MATCH_SHA512) {
		errbuf_set(err, "cannot compute TLSA data for type %s: selector "
		    "must be 0 or 1 and matching type 0, 1 or 2",
		    tlsa_type_str(type, buf, sizeof(buf)));
		return -1;
	}
	return 0;
}

int
tlsa_record_from_data(struct tlsa_record *out, struct tlsa_type type,
    const unsigned char *der, size_t len, struct errbuf *err)
{
	unsigned char *copy;

	memset(out, 0, sizeof(*out));
	out->ttl = -1;
	if (tlsa_check_computable(type, err) < 0)
		return -1;
	copy = xmalloc(len);
	memcpy(copy, der, len);
	return tlsa_record_from_der(out, type, copy, len, err);
}

int
tlsa_record_from_cert(struct tlsa_record *out, struct tlsa_type type,
    X509 *cert, struct errbuf *err)
{
	unsigned char *der, *p;
	int n;

	memset(out, 0, sizeof(*out));
	out->ttl = -1;
	if (tlsa_check_computable(type, err) < 0)
		return -1;
	/* Encode into our own buffer: it may become the record's data. */
	if (type.selector == TLSA_SELECTOR_CERT)
		n = i2d_X509(cert, NULL);
	else
		n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), NULL);
	if (n <= 0) {
		errbuf_ssl(err, "cannot DER-encode the certificate");
		return -1;
	}
	der = p = xmalloc(n);
	if (type.selector == TLSA_SELECTOR_CERT)
		n = i2d_X509(cert, &p);
	else
		n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &p);
	if (n <= 0) {
		free(der);
		errbuf_ssl(err, "cannot DER-encode the certificate");
		return -1;
	}
	return tlsa_record_from_der(out, type, der, n, err);
}

/*
 * Is the EC key's utf8 parameter name already want? Keys that cannot say
 * are treated as not, and get converted.
 */
static int
tlsa_ec_param_is(EVP_PKEY *key, const char *name, const char *want)
{
	char buf[64];
	size_t len;

	if (!EVP_PKEY_get_utf8_string_param(key, name, buf, sizeof(buf), &len))
		return 0;
	return strcmp(buf, want) == 0;
}

int
tlsa_record_from_pubkey(struct tlsa_record *out, struct tlsa_type type,
    EVP_PKEY *key, struct errbuf *err)
{
	EVP_PKEY *tmp = NULL;
	unsigned char *der, *p;
	int n;

	memset(out, 0, sizeof(*out));
	out->ttl = -1;
	if (tlsa_check_computable(type, err) < 0)
		return -1;
	if (type.selector != TLSA_SELECTOR_SPKI) {
		errbuf_set(err, "a bare key needs selector 1 (SubjectPublicKeyInfo); "
		    "selector 0 needs the certificate");
		return -1;
	}
	/*
	 * A certificate carries an EC key uncompressed with a named curve;
	 * a key file may hold it compressed. Encode as the certificate will,
	 * or the digest of a next key would never match its certificate.
	 */
	if (EVP_PKEY_is_a(key, "EC") &&
	    (!tlsa_ec_param_is(key, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
	    "uncompressed") ||
	    !tlsa_ec_param_is(key, OSSL_PKEY_PARAM_EC_ENCODING, "named_curve"))) {
		if ((tmp = EVP_PKEY_dup(key)) == NULL) {
			errbuf_ssl(err, "cannot copy the EC key");
			return -1;
		}
		if (!EVP_PKEY_set_utf8_string_param(tmp,
		    OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "uncompressed") ||
		    !EVP_PKEY_set_utf8_string_param(tmp,
		    OSSL_PKEY_PARAM_EC_ENCODING, "named_curve")) {
			EVP_PKEY_free(tmp);
			errbuf_ssl(err, "cannot encode the EC key with an "
			    "uncompressed point on a named curve");
			return -1;
		}
		key = tmp;
	}
	if ((n = i2d_PUBKEY(key, NULL)) <= 0) {
		EVP_PKEY_free(tmp);
		errbuf_ssl(err, "cannot DER-encode the public key");
		return -1;
	}
	der = p = xmalloc(n);
	n = i2d_PUBKEY(key, &p);
	EVP_PKEY_free(tmp);
	if (n <= 0) {
		free(der);
		errbuf_ssl(err, "cannot DER-encode the public key");
		return -1;
	}
	return tlsa_record_from_der(out, type, der, n, err);
}

void
tlsa_record_clear(struct tlsa_record *rec)
{
	free(rec->owner);
	free(rec->data);
	memset(rec, 0, sizeof(*rec));
	rec->ttl = -1;
}

void
tlsa_record_copy(struct tlsa_record *dst, const struct tlsa_record *src)
{
	dst->owner = src->owner != NULL ? xstrdup(src->owner) : NULL;
	dst->ttl = src->ttl;
	dst->type = src->type;
	dst->len = src->len;
	if (src->len > 0) {
		dst->data = xmalloc(src->len);
		memcpy(dst->data, src->data, src->len);
	} else
		dst->data = NULL;
}

void
tlsa_record_set_owner(struct tlsa_record *rec, const char *owner)
{
	free(rec->owner);
	rec->owner = owner != NULL ? tlsa_name_normalise(owner) : NULL;
}

int
tlsa_rdata_cmp(const struct tlsa_record *a, const struct tlsa_record *b)
{
	int c;

	if (a->type.usage != b->type.usage)
		return a->type.usage < b->type.usage ? -1 : 1;
	if (a->type.selector != b->type.selector)
		return a->type.selector < b->type.selector ? -1 : 1;
	if (a->type.mtype != b->type.mtype)
		return a->type.mtype < b->type.mtype ? -1 : 1;
	if (a->len != b->len)
		return a->len < b->len ? -1 : 1;
	if (a->len == 0)
		return 0;
	c = memcmp(a->data, b->data, a->len);
	return c < 0 ? -1 : c > 0;
}

int
tlsa_record_cmp(const struct tlsa_record *a, const struct tlsa_record *b)
{
	int c;

	if (a->owner == NULL || b->owner == NULL) {
		if (a->owner != b->owner)
			return a->owner == NULL ? -1 : 1;
	} else if ((c = strcasecmp(a->owner, b->owner)) != 0)
		return c < 0 ? -1 : 1;
	return tlsa_rdata_cmp(a, b);
}

/*
 * Does name end in a dot that is not escaped? "a\." does not: the label
 * holds a literal dot.
 */
static int
tlsa_name_is_absolute(const char *name, size_t len)
{
	size_t bs = 0;

	if (len == 0 || name[len - 1] != '.')
		return 0;
	while (bs < len - 1 && name[len - 2 - bs] == '\\')
		bs++;
	return bs % 2 == 0;
}

char *
tlsa_name_normalise(const char *name)
{
	size_t i, len = strlen(name);
	int dot = !tlsa_name_is_absolute(name, len);
	char *s;

	if (len == 0)
		return xstrdup(".");
	s = xmalloc(len + dot + 1);
	for (i = 0; i < len; i++)
		s[i] = tolower((unsigned char)name[i]);
	if (dot)
		s[len++] = '.';
	s[len] = '\0';
	return s;
}

char *
tlsa_owner_name(const char *host, unsigned port)
{
	char *tmp, *s;

	tmp = xasprintf("_%u._tcp.%s", port, host);
	s = tlsa_name_normalise(tmp);
	free(tmp);
	return s;
}

/* Write 2 * len hex digits at out; no terminator. */
static void
tlsa_hex_into(char *out, const unsigned char *data, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		*out++ = hexdigits[data[i] >> 4];
		*out++ = hexdigits[data[i] & 0x0f];
	}
}

char *
tlsa_hex(const unsigned char *data, size_t len)
{
	char *s = xmalloc(2 * len + 1);

	tlsa_hex_into(s, data, len);
	s[2 * len] = '\0';
	return s;
}

int
tlsa_form_parse(const char *name, enum tlsa_form *out)
{
	static const struct {
		const char *name;
		enum tlsa_form form;
	} forms[] = {
		{ "zone", TLSA_FORM_ZONE },
		{ "generic", TLSA_FORM_GENERIC },
		{ "nsupdate", TLSA_FORM_NSUPDATE },
		{ "rdata", TLSA_FORM_RDATA },
		{ "json", TLSA_FORM_JSON },
	};
	size_t i;

	for (i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		if (strcasecmp(name, forms[i].name) == 0) {
			*out = forms[i].form;
			return 0;
		}
	return -1;
}

/*
 * The owner as a JSON string body. Owners are presentation-format names;
 * bytes that are not printable ASCII become DNS escapes (\DDD), which
 * keeps the meaning and the JSON valid whatever the bytes are; then
 * quote and backslash are escaped for JSON.
 */
static char *
tlsa_json_name(const char *name)
{
	size_t i, n = 0, len = strlen(name);
	char *s;

	s = xmalloc(5 * len + 1);
	for (i = 0; i < len; i++) {
		unsigned char c = name[i];

		if (c < 0x20 || c >= 0x7f)
			n += sprintf(s + n, "\\\\%03u", c);
		else if (c == '"' || c == '\\') {
			s[n++] = '\\';
			s[n++] = c;
		} else
			s[n++] = c;
	}
	s[n] = '\0';
	return s;
}

char *
tlsa_record_format(const struct tlsa_record *rec, enum tlsa_form form)
{
	const struct tlsa_type *t = &rec->type;
	char *hex, *s, *name;
	size_t n;

	if (form != TLSA_FORM_RDATA && (rec->owner == NULL || rec->ttl < 0))
		return NULL;
	switch (form) {
	case TLSA_FORM_GENERIC:
		/* One buffer; the 3 type octets go in front of the data. */
		hex = xmalloc(2 * (rec->len + 3) + 1);
		hex[0] = hexdigits[t->usage >> 4];
		hex[1] = hexdigits[t->usage & 0x0f];
		hex[2] = hexdigits[t->selector >> 4];
		hex[3] = hexdigits[t->selector & 0x0f];
		hex[4] = hexdigits[t->mtype >> 4];
		hex[5] = hexdigits[t->mtype & 0x0f];
		tlsa_hex_into(hex + 6, rec->data, rec->len);
		hex[2 * (rec->len + 3)] = '\0';
		s = xasprintf("%s %ld IN TYPE52 \\# %zu %s", rec->owner,
		    rec->ttl, rec->len + 3, hex);
		free(hex);
		return s;
	case TLSA_FORM_JSON:
		hex = tlsa_hex(rec->data, rec->len);
		name = tlsa_json_name(rec->owner);
		s = xasprintf("{\"owner\":\"%s\",\"ttl\":%ld,\"usage\":%u,"
		    "\"selector\":%u,\"mtype\":%u,\"data\":\"%s\"}", name,
		    rec->ttl, t->usage, t->selector, t->mtype, hex);
		free(name);
		free(hex);
		return s;
	case TLSA_FORM_ZONE:
	case TLSA_FORM_NSUPDATE:
	case TLSA_FORM_RDATA:
		break;
	default:
		return NULL;
	}
	hex = tlsa_hex(rec->data, rec->len);
	if (form == TLSA_FORM_RDATA)
		s = xasprintf("%u %u %u %s", t->usage, t->selector, t->mtype, hex);
	else
		s = xasprintf("%s%s %ld IN TLSA %u %u %u %s",
		    form == TLSA_FORM_NSUPDATE ? "update add " : "",
		    rec->owner, rec->ttl, t->usage, t->selector, t->mtype, hex);
	free(hex);
	/* No data (a cleared record): no dangling blank. */
	if (rec->len == 0 && (n = strlen(s)) > 0 && s[n - 1] == ' ')
		s[n - 1] = '\0';
	return s;
}

void
tlsa_set_init(struct tlsa_set *set)
{
	memset(set, 0, sizeof(*set));
}

static struct tlsa_record *
tlsa_set_grow(struct tlsa_set *set)
{
	if (set->n == set->alloc) {
		set->alloc = set->alloc ? 2 * set->alloc : 8;
		set->v = xreallocarray(set->v, set->alloc, sizeof(*set->v));
	}
	return &set->v[set->n++];
}

void
tlsa_set_add(struct tlsa_set *set, const struct tlsa_record *rec)
{
	tlsa_record_copy(tlsa_set_grow(set), rec);
}

void
tlsa_set_take(struct tlsa_set *set, struct tlsa_record *rec)
{
	*tlsa_set_grow(set) = *rec;
	memset(rec, 0, sizeof(*rec));
	rec->ttl = -1;
}

/*
 * Stable merge sort, so that of equal records the one added first stays
 * first and its TTL is the one kept; qsort promises no such thing.
 */
static void
tlsa_merge_sort(struct tlsa_record *v, struct tlsa_record *tmp, size_t n)
{
	size_t mid = n / 2, i = 0, j = mid, k = 0;

	if (n < 2)
		return;
	tlsa_merge_sort(v, tmp, mid);
	tlsa_merge_sort(v + mid, tmp, n - mid);
	if (tlsa_record_cmp(&v[mid - 1], &v[mid]) <= 0)
		return;
	while (i < mid && j < n)
		tmp[k++] = tlsa_record_cmp(&v[j], &v[i]) < 0 ? v[j++] : v[i++];
	while (i < mid)
		tmp[k++] = v[i++];
	/* The rest of the right half is already in place. */
	memcpy(v, tmp, k * sizeof(*v));
}

void
tlsa_set_sort_unique(struct tlsa_set *set)
{
	struct tlsa_record *tmp;
	size_t i, out;

	if (set->n < 2)
		return;
	tmp = xreallocarray(NULL, set->n, sizeof(*tmp));
	tlsa_merge_sort(set->v, tmp, set->n);
	free(tmp);
	for (i = 1, out = 0; i < set->n; i++) {
		if (tlsa_record_cmp(&set->v[out], &set->v[i]) == 0)
			tlsa_record_clear(&set->v[i]);
		else
			set->v[++out] = set->v[i];
	}
	set->n = out + 1;
}

int
tlsa_name_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	if (tlsa_name_is_absolute(a, la))
		la--;
	if (tlsa_name_is_absolute(b, lb))
		lb--;
	return la == lb && strncasecmp(a, b, la) == 0;
}

long
tlsa_set_find(const struct tlsa_set *set, const char *owner,
    const struct tlsa_record *rec)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		if (tlsa_rdata_cmp(&set->v[i], rec) != 0)
			continue;
		if (owner != NULL && (set->v[i].owner == NULL ||
		    !tlsa_name_equal(set->v[i].owner, owner)))
			continue;
		return (long)i;
	}
	return -1;
}

void
tlsa_set_free(struct tlsa_set *set)
{
	size_t i;

	for (i = 0; i < set->n; i++)
		tlsa_record_clear(&set->v[i]);
	free(set->v);
	memset(set, 0, sizeof(*set));
}
