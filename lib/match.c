/*
 * match - see match.h.
 *
 * match_chain drives OpenSSL's DANE verification without a connection,
 * as OpenSSL's own test/danetest.c does: an SSL object only holds the
 * DANE state (base domain, TLSA records), and an X509_STORE_CTX over the
 * served chain is verified with that state attached. OpenSSL then applies
 * exactly the rules a DANE-validating sender's OpenSSL applies, which is
 * the point: we must not re-implement (and subtly differ from) them.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "match.h"
#include "xalloc.h"

/*
 * One SSL_CTX for every call: creating it loads the default digests and
 * is costly, while SSL_new from a shared context is thread-safe. The
 * guard calls match_chain from several probe threads, hence pthread_once.
 * The context is never freed (it lives as long as the process).
 */
static pthread_once_t match_once = PTHREAD_ONCE_INIT;
static SSL_CTX *match_ctx;

static void
match_ctx_init(void)
{
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		return;
	if (SSL_CTX_dane_enable(ctx) <= 0) {
		SSL_CTX_free(ctx);
		return;
	}
	match_ctx = ctx;
}

static int
match_wanted(const struct tlsa_record *rec, const char *owner)
{
	return owner == NULL ||
	    (rec->owner != NULL && tlsa_name_equal(rec->owner, owner));
}

static void
match_reset(struct match_result *res)
{
	res->depth = -1;
	res->record = -1;
	res->ignored = -1;
	res->published = 0;
	res->usable = 0;
	res->reason[0] = '\0';
}

/* The strength of a matching type among digests; 0 for full data. */
static int
match_ordinal(uint8_t mtype)
{
	return mtype == TLSA_MATCH_SHA256 ? 1 : mtype == TLSA_MATCH_SHA512 ?
	    2 : 0;
}

/*
 * Add rec to ssl's DANE records as a sender would: 1 added, 0 unusable
 * (why says why), -1 internal error.
 */
static int
match_add(SSL *ssl, const struct tlsa_record *rec, char *why, size_t len)
{
	char type[16];
	const char *r;
	unsigned long e;
	int ret;

	if (rec->type.usage == TLSA_USAGE_PKIX_TA ||
	    rec->type.usage == TLSA_USAGE_PKIX_EE) {
		snprintf(why, len, "usage %u (%s)", rec->type.usage,
		    rec->type.usage == TLSA_USAGE_PKIX_TA ? "PKIX-TA" :
		    "PKIX-EE");
		return 0;
	}
	ERR_clear_error();
	ret = SSL_dane_tlsa_add(ssl, rec->type.usage, rec->type.selector,
	    rec->type.mtype, rec->data, rec->len);
	if (ret > 0)
		return 1;
	e = ERR_peek_last_error();
	r = e != 0 ? ERR_reason_error_string(e) : NULL;
	ERR_clear_error();
	tlsa_type_str(rec->type, type, sizeof(type));
	snprintf(why, len, "%s (%s)", type, r != NULL ? r :
	    ret == 0 ? "not usable" : "cannot be added");
	return ret == 0 ? 0 : -1;
}

/* A fresh SSL object with DANE enabled, for records only. */
static SSL *
match_ssl(const char *base)
{
	SSL *ssl;

	pthread_once(&match_once, match_ctx_init);
	if (match_ctx == NULL || (ssl = SSL_new(match_ctx)) == NULL)
		return NULL;
	if (SSL_dane_enable(ssl, base) <= 0) {
		SSL_free(ssl);
		return NULL;
	}
	return ssl;
}

int
match_usable(const struct tlsa_record *rec, char *why, size_t len)
{
	SSL *ssl;
	int ret;

	if ((ssl = match_ssl("invalid")) == NULL) {
		snprintf(why, len, "cannot set up OpenSSL DANE");
		ERR_clear_error();
		return -1;
	}
	ret = match_add(ssl, rec, why, len);
	SSL_free(ssl);
	return ret;
}

int
match_stronger(const struct tlsa_set *set, const char *owner,
    const struct tlsa_record *rec)
{
	char why[128];
	size_t i;
	int best = -1;

	if (match_ordinal(rec->type.mtype) == 0)
		return -1;
	/* Agility is per RRset: any owner means rec's own. */
	if (owner == NULL)
		owner = rec->owner;
	for (i = 0; i < set->n; i++) {
		const struct tlsa_record *o = &set->v[i];

		if (!match_wanted(o, owner) ||
		    o->type.usage != rec->type.usage ||
		    o->type.selector != rec->type.selector ||
		    match_ordinal(o->type.mtype) <=
		    match_ordinal(rec->type.mtype))
			continue;
		if (best >= 0 && match_ordinal(o->type.mtype) <=
		    match_ordinal((uint8_t)best))
			continue;
		if (match_usable(o, why, sizeof(why)) == 1)
			best = o->type.mtype;
	}
	return best;
}

/* Append ", text" (or text) to buf, truncating. */
static void
match_append(char *buf, size_t len, const char *text)
{
	size_t n = strlen(buf);

	if (n + 3 >= len)
		return;
	snprintf(buf + n, len - n, "%s%s", n > 0 ? ", " : "", text);
}

/* Index in set of the record at owner with this rdata, or -1. */
static long
match_find(const struct tlsa_set *set, const char *owner, uint8_t usage,
    uint8_t selector, uint8_t mtype, const unsigned char *data, size_t len)
{
	size_t i;

	for (i = 0; i < set->n; i++) {
		const struct tlsa_record *rec = &set->v[i];

		if (!match_wanted(rec, owner))
			continue;
		if (rec->type.usage == usage && rec->type.selector == selector &&
		    rec->type.mtype == mtype && rec->len == len &&
		    memcmp(rec->data, data, len) == 0)
			return (long)i;
	}
	return -1;
}

/*
 * After a failed match: would a record that senders ignore for a
 * stronger digest have matched on its own? Then say so in res.
 */
static void
match_explain_ignored(const struct tlsa_set *set, const char *owner,
    const char *host, STACK_OF(X509) *chain, struct match_result *res)
{
	struct match_result one_res;
	struct tlsa_set one;
	struct errbuf err;
	char type[16], n[128];
	size_t i, len;
	int stronger, m;

	for (i = 0; i < set->n; i++) {
		const struct tlsa_record *rec = &set->v[i];

		if (!match_wanted(rec, owner) ||
		    (stronger = match_stronger(set, owner, rec)) < 0)
			continue;
		tlsa_set_init(&one);
		tlsa_set_add(&one, rec);
		m = match_chain(&one, NULL, host, chain, &one_res, &err);
		tlsa_set_free(&one);
		if (m != 1)
			continue;
		res->ignored = (long)i;
		tlsa_type_str(rec->type, type, sizeof(type));
		snprintf(n, sizeof(n), "%u %u %u", rec->type.usage,
		    rec->type.selector, (unsigned)stronger);
		len = strlen(res->reason);
		snprintf(res->reason + len, sizeof(res->reason) - len,
		    "; the %s record that matches is ignored by senders: the "
		    "RRset also has %s records, and senders use only the "
		    "strongest digest (RFC 7671 section 9)", type, n);
		return;
	}
}

/*
 * A fresh SSL object for matching a chain: DANE enabled with host as the
 * base domain and the reference name for the DANE-TA name check (none
 * when host is NULL or ""), DANE-EE without name checks. NULL with err
 * set on failure.
 */
static SSL *
match_chain_ssl(const char *host, struct errbuf *err)
{
	SSL *ssl;
	char *base;
	size_t len;

	if ((ssl = SSL_new(match_ctx)) == NULL) {
		errbuf_ssl(err, "match: SSL_new");
		return NULL;
	}
	SSL_set_connect_state(ssl);

	/*
	 * The base domain is also the reference name for the DANE-TA name
	 * check. Certificate names carry no trailing dot, and OpenSSL
	 * compares names literally, so drop ours.
	 */
	base = xstrdup(host != NULL && *host != '\0' ? host : "invalid");
	len = strlen(base);
	if (len > 1 && base[len - 1] == '.')
		base[len - 1] = '\0';
	if (SSL_dane_enable(ssl, base) <= 0) {
		errbuf_ssl(err, "match: cannot enable DANE for %s", base);
		goto fail;
	}
	/* No host given: there is no name to check. */
	if ((host == NULL || *host == '\0') && !SSL_set1_host(ssl, NULL)) {
		errbuf_ssl(err, "match: cannot clear the reference name");
		goto fail;
	}
	/* RFC 7672 section 3.1.1: DANE-EE ignores names (and expiry). */
	SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);
	free(base);
	return ssl;
fail:
	free(base);
	SSL_free(ssl);
	return NULL;
}

/*
 * Add the records of set at owner to ssl as senders do: a record they
 * cannot use is skipped, its reason appended to unusable. Counts into
 * res->published and res->usable. Returns 0, or -1 with err set.
 */
static int
match_chain_records(SSL *ssl, const struct tlsa_set *set, const char *owner,
    struct match_result *res, char *unusable, size_t ulen,
    struct errbuf *err)
{
	size_t i, usable = 0;

	for (i = 0; i < set->n; i++) {
		const struct tlsa_record *rec = &set->v[i];
		char why[128];

		if (!match_wanted(rec, owner))
			continue;
		res->published++;
		/* A record senders cannot use is skipped, as they skip it. */
		switch (match_add(ssl, rec, why, sizeof(why))) {
		case 1:
			usable++;
			break;
		case 0:
			match_append(unusable, ulen, why);
			break;
		default:
			errbuf_set(err, "match: %s", why);
			return -1;
		}
	}
	ERR_clear_error();
	res->usable = usable;
	return 0;
}

/*
 * Verify chain against the records added to ssl. Returns 1 (res->depth
 * and res->record set), 0 with res->reason (and an ignored record
 * explained), or -1 with err set.
 */
static int
match_chain_verify(SSL *ssl, const struct tlsa_set *set, const char *owner,
    const char *host, STACK_OF(X509) *chain, struct match_result *res,
    struct errbuf *err)
{
	X509_STORE_CTX *ctx;
	int ret = -1, ok, verr, depth;
	uint8_t usage, selector, mtype;
	const unsigned char *data;
	size_t dlen;

	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(ctx, SSL_CTX_get_cert_store(match_ctx),
	    sk_X509_value(chain, 0), chain) ||
	    !X509_STORE_CTX_set_ex_data(ctx,
	    SSL_get_ex_data_X509_STORE_CTX_idx(), ssl)) {
		errbuf_ssl(err, "match: cannot set up chain verification");
		goto done;
	}
	X509_STORE_CTX_set_default(ctx, "ssl_server");
	/* Carries the reference name that SSL_dane_enable set. */
	X509_VERIFY_PARAM_set1(X509_STORE_CTX_get0_param(ctx),
	    SSL_get0_param(ssl));
	X509_STORE_CTX_set0_dane(ctx, SSL_get0_dane(ssl));

	ok = X509_verify_cert(ctx);
	verr = X509_STORE_CTX_get_error(ctx);
	if (ok < 0) {
		errbuf_ssl(err, "match: chain verification failed internally");
		goto done;
	}
	ERR_clear_error();
	SSL_set_verify_result(ssl, verr);
	if (ok == 0 || verr != X509_V_OK) {
		depth = X509_STORE_CTX_get_error_depth(ctx);
		if (verr == X509_V_ERR_DANE_NO_MATCH)
			snprintf(res->reason, sizeof(res->reason), "%s",
			    X509_verify_cert_error_string(verr));
		else
			snprintf(res->reason, sizeof(res->reason),
			    "%s (certificate at depth %d)",
			    X509_verify_cert_error_string(verr), depth);
		match_explain_ignored(set, owner, host, chain, res);
		ret = 0;
		goto done;
	}

	res->depth = SSL_get0_dane_authority(ssl, NULL, NULL);
	if (SSL_get0_dane_tlsa(ssl, &usage, &selector, &mtype, &data,
	    &dlen) >= 0)
		res->record = match_find(set, owner, usage, selector, mtype,
		    data, dlen);
	ret = 1;
done:
	X509_STORE_CTX_free(ctx);
	return ret;
}

int
match_chain(const struct tlsa_set *set, const char *owner, const char *host,
    STACK_OF(X509) *chain, struct match_result *res, struct errbuf *err)
{
	SSL *ssl;
	int ret = -1;
	char unusable[384] = "";

	match_reset(res);
	if (chain == NULL || sk_X509_num(chain) < 1) {
		errbuf_set(err, "match: no certificate to match");
		return -1;
	}
	pthread_once(&match_once, match_ctx_init);
	if (match_ctx == NULL) {
		errbuf_ssl(err, "match: cannot set up OpenSSL DANE verification");
		return -1;
	}
	ERR_clear_error();
	if ((ssl = match_chain_ssl(host, err)) == NULL)
		return -1;
	if (match_chain_records(ssl, set, owner, res, unusable,
	    sizeof(unusable), err) < 0)
		goto done;
	if (res->published == 0) {
		snprintf(res->reason, sizeof(res->reason),
		    "no TLSA records for %s", owner != NULL ? owner : "any owner");
		ret = 0;
		goto done;
	}
	if (res->usable == 0) {
		snprintf(res->reason, sizeof(res->reason), "%zu record%s "
		    "published at %s, none usable by DANE SMTP senders: %s",
		    res->published, res->published == 1 ? "" : "s",
		    owner != NULL ? owner : "the owner", unusable);
		ret = 0;
		goto done;
	}
	ret = match_chain_verify(ssl, set, owner, host, chain, res, err);
done:
	SSL_free(ssl);
	return ret;
}

int
match_key(const struct tlsa_set *set, const char *owner, EVP_PKEY *key,
    struct match_result *res, struct errbuf *err)
{
	/* One digest per matching type, computed when first needed. */
	struct tlsa_record mine[TLSA_MATCH_SHA512 + 1];
	int have[TLSA_MATCH_SHA512 + 1] = { 0 };
	struct tlsa_type type = { TLSA_USAGE_DANE_EE, TLSA_SELECTOR_SPKI, 0 };
	char why[128], t[16];
	size_t i;
	int ret = 0, any = 0, stronger = -1;

	match_reset(res);
	for (i = 0; i < set->n && ret == 0; i++) {
		const struct tlsa_record *rec = &set->v[i];
		uint8_t m = rec->type.mtype;
		int s;

		if (!match_wanted(rec, owner))
			continue;
		res->published++;
		if (rec->type.usage != TLSA_USAGE_DANE_EE ||
		    rec->type.selector != TLSA_SELECTOR_SPKI ||
		    m > TLSA_MATCH_SHA512 || match_usable(rec, why,
		    sizeof(why)) != 1)
			continue;
		res->usable++;
		any = 1;
		if (!have[m]) {
			type.mtype = m;
			if (tlsa_record_from_pubkey(&mine[m], type, key,
			    err) < 0) {
				ret = -1;
				break;
			}
			have[m] = 1;
		}
		if (tlsa_rdata_cmp(&mine[m], rec) != 0)
			continue;
		/* Digest agility: senders ignore it for a stronger one. */
		if ((s = match_stronger(set, owner, rec)) >= 0) {
			if (res->ignored < 0) {
				res->ignored = (long)i;
				stronger = s;
			}
			continue;
		}
		res->depth = 0;
		res->record = (long)i;
		ret = 1;
	}
	for (i = 0; i <= TLSA_MATCH_SHA512; i++)
		if (have[i])
			tlsa_record_clear(&mine[i]);
	if (ret == 0 && res->ignored >= 0) {
		tlsa_type_str(set->v[res->ignored].type, t, sizeof(t));
		snprintf(res->reason, sizeof(res->reason), "the %s record "
		    "that matches the key is ignored by senders: the RRset "
		    "also has 3 1 %d records, and senders use only the "
		    "strongest digest (RFC 7671 section 9)", t, stronger);
	} else if (ret == 0)
		snprintf(res->reason, sizeof(res->reason), any ?
		    "no 3 1 x record at %s matches the key" :
		    "no usable 3 1 x records at %s (only they can cover a "
		    "bare key)", owner != NULL ? owner : "any owner");
	return ret;
}
