/*
 * match - see match.h.
 *
 * match_chain drives OpenSSL's DANE verification without a connection,
 * as OpenSSL's own test/danetest.c does: an SSL object only holds the
 * DANE state (base domain, TLSA records), and an X509_STORE_CTX over the
 * served chain is verified with that state attached. OpenSSL then applies
 * exactly the rules a DANE-validating sender's OpenSSL applies, which is
 * the point: we must not re-implement (and subtly differ from) them.
 *
 * Certificates from certkey chain files are light (certkey.h): their
 * keys are not decoded, so signatures could not be checked. The chain is
 * verified as complete copies; a complete chain (the guard's, from a
 * live connection) is only reference-counted.
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

#include "certkey.h"
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
	res->reason[0] = '\0';
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

int
match_chain(const struct tlsa_set *set, const char *owner, const char *host,
    STACK_OF(X509) *chain, struct match_result *res, struct errbuf *err)
{
	X509_STORE_CTX *ctx = NULL;
	STACK_OF(X509) *full = NULL;
	SSL *ssl = NULL;
	char *base = NULL;
	size_t i, usable = 0, len;
	int ret = -1, ok, verr, depth;
	uint8_t usage, selector, mtype;
	const unsigned char *data;
	size_t dlen;

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
	if ((ssl = SSL_new(match_ctx)) == NULL) {
		errbuf_ssl(err, "match: SSL_new");
		goto done;
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
		goto done;
	}
	/* No host given: there is no name to check. */
	if ((host == NULL || *host == '\0') && !SSL_set1_host(ssl, NULL)) {
		errbuf_ssl(err, "match: cannot clear the reference name");
		goto done;
	}
	/* RFC 7672 section 3.1.1: DANE-EE ignores names (and expiry). */
	SSL_dane_set_flags(ssl, DANE_FLAG_NO_DANE_EE_NAMECHECKS);

	for (i = 0; i < set->n; i++) {
		const struct tlsa_record *rec = &set->v[i];

		if (!match_wanted(rec, owner))
			continue;
		/* RFC 7672 section 3.1.3: PKIX usages are unusable for SMTP. */
		if (rec->type.usage != TLSA_USAGE_DANE_TA &&
		    rec->type.usage != TLSA_USAGE_DANE_EE)
			continue;
		/* A record OpenSSL cannot use is skipped, as a sender would. */
		if (SSL_dane_tlsa_add(ssl, rec->type.usage, rec->type.selector,
		    rec->type.mtype, rec->data, rec->len) > 0)
			usable++;
	}
	ERR_clear_error();
	if (usable == 0) {
		snprintf(res->reason, sizeof(res->reason),
		    "no TLSA records for %s", owner != NULL ? owner : "any owner");
		ret = 0;
		goto done;
	}

	if ((full = certkey_certs_complete(chain)) == NULL) {
		errbuf_ssl(err, "match: cannot decode the certificates "
		    "of the chain");
		goto done;
	}
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(ctx, SSL_CTX_get_cert_store(match_ctx),
	    sk_X509_value(full, 0), full) ||
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
	sk_X509_pop_free(full, X509_free);
	SSL_free(ssl);
	free(base);
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
	size_t i;
	int ret = 0, any = 0;

	match_reset(res);
	for (i = 0; i < set->n && ret == 0; i++) {
		const struct tlsa_record *rec = &set->v[i];
		uint8_t m = rec->type.mtype;

		if (!match_wanted(rec, owner) ||
		    rec->type.usage != TLSA_USAGE_DANE_EE ||
		    rec->type.selector != TLSA_SELECTOR_SPKI ||
		    m > TLSA_MATCH_SHA512)
			continue;
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
		if (tlsa_rdata_cmp(&mine[m], rec) == 0) {
			res->depth = 0;
			res->record = (long)i;
			ret = 1;
		}
	}
	for (i = 0; i <= TLSA_MATCH_SHA512; i++)
		if (have[i])
			tlsa_record_clear(&mine[i]);
	if (ret == 0)
		snprintf(res->reason, sizeof(res->reason), any ?
		    "no 3 1 x record at %s matches the key" :
		    "no 3 1 x records for %s (only they can cover a bare key)",
		    owner != NULL ? owner : "any owner");
	return ret;
}
