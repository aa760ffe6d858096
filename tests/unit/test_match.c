/*
 * test_match - lib/match.c against the certificates of gen-certs.sh.
 *
 * Records are computed with lib/tlsa.c from the very files a chain is
 * matched against, so every verdict here is OpenSSL's DANE code judging
 * a real chain, not a comparison of our own hashes with themselves.
 * The chains are certkey's complete ones, as tlsagen and the guard pass.
 */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "certkey.h"
#include "match.h"
#include "tlsa.h"
#include "xalloc.h"

#define OWNER	"_25._tcp.mx1.example.test."
#define HOST	"mx1.example.test"

static const char *certdir;

static const struct tlsa_type t311 = { 3, 1, 1 };

static char *
path_of(const char *name)
{
	return xasprintf("%s/%s", certdir, name);
}

static struct certkey_chain *
load_chain(const char *name)
{
	struct certkey_chain *chain = NULL;
	struct errbuf err;
	char *path = path_of(name);

	if (certkey_chain_load(path, &chain, &err) < 0)
		fail_msg("%s", err.msg);
	free(path);
	return chain;
}

static struct certkey_key *
load_key(const char *name)
{
	struct certkey_key *key = NULL;
	struct errbuf err;
	char *path = path_of(name);

	if (certkey_key_load(path, NULL, &key, &err) < 0)
		fail_msg("%s", err.msg);
	free(path);
	return key;
}

/* Add the record of type for the certificate at depth of file's chain. */
static void
add_cert_record(struct tlsa_set *set, const char *owner, const char *file,
    int depth, struct tlsa_type type)
{
	struct certkey_chain *chain = load_chain(file);
	struct tlsa_record rec;
	struct errbuf err;

	assert_true(depth < sk_X509_num(chain->certs));
	assert_int_equal(tlsa_record_from_cert(&rec, type,
	    sk_X509_value(chain->certs, depth), &err), 0);
	tlsa_record_set_owner(&rec, owner);
	rec.ttl = 3600;
	tlsa_set_take(set, &rec);
	certkey_chain_free(chain);
}

static void
add_key_record(struct tlsa_set *set, const char *owner, const char *file,
    struct tlsa_type type)
{
	struct certkey_key *key = load_key(file);
	struct tlsa_record rec;
	struct errbuf err;

	assert_int_equal(tlsa_record_from_pubkey(&rec, type, key->pkey,
	    &err), 0);
	tlsa_record_set_owner(&rec, owner);
	rec.ttl = 3600;
	tlsa_set_take(set, &rec);
	certkey_key_free(key);
}

/* match_chain of file's chain against set; returns the verdict. */
static int
verdict(const struct tlsa_set *set, const char *owner, const char *host,
    const char *file, struct match_result *res)
{
	struct certkey_chain *chain = load_chain(file);
	struct errbuf err = { "" };
	int r;

	r = match_chain(set, owner, host, chain->certs, res, &err);
	if (r < 0)
		fail_msg("match_chain: %s", err.msg);
	certkey_chain_free(chain);
	return r;
}

static int
group_setup(void **state)
{
	(void)state;
	certdir = getenv("CERTDIR");
	return 0;
}

static void
need_certs(void)
{
	if (certdir == NULL || *certdir == '\0')
		skip();
}

static void
test_leaf_types(void **state)
{
	static const struct tlsa_type types[] = {
		{ 3, 1, 1 }, { 3, 0, 1 }, { 3, 0, 0 }, { 3, 1, 2 }, { 3, 1, 0 },
		{ 3, 0, 2 }
	};
	struct match_result res;
	size_t i;

	(void)state;
	need_certs();
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct tlsa_set set = { NULL, 0, 0 };

		add_cert_record(&set, OWNER, "rsa.pem", 0, types[i]);
		assert_int_equal(verdict(&set, OWNER, HOST, "rsa-chain.pem",
		    &res), 1);
		assert_int_equal(res.depth, 0);
		assert_int_equal(res.record, 0);
		/* The same record matches the leaf served alone. */
		assert_int_equal(verdict(&set, OWNER, HOST, "rsa.pem", &res),
		    1);
		tlsa_set_free(&set);
	}
}

static void
test_other_key(void **state)
{
	struct tlsa_set set = { NULL, 0, 0 };
	struct match_result res;

	(void)state;
	need_certs();
	/* A renewal with a new key, records not updated. */
	add_cert_record(&set, OWNER, "rsa-other.pem", 0, t311);
	assert_int_equal(verdict(&set, OWNER, HOST, "rsa-chain.pem", &res), 0);
	assert_int_equal(res.depth, -1);
	assert_int_equal(res.record, -1);
	assert_non_null(strstr(res.reason, "matching DANE TLSA records"));
	/* ... and the right one found among others, by its index. */
	add_cert_record(&set, OWNER, "ecdsa.pem", 0, t311);
	add_cert_record(&set, OWNER, "rsa.pem", 0, t311);
	assert_int_equal(verdict(&set, OWNER, HOST, "rsa-chain.pem", &res), 1);
	assert_int_equal(res.record, 2);
	assert_int_equal(res.depth, 0);
	assert_int_equal(verdict(&set, OWNER, HOST, "ecdsa-chain.pem", &res),
	    1);
	assert_int_equal(res.record, 1);
	tlsa_set_free(&set);
}

static void
test_expired_leaf(void **state)
{
	struct tlsa_set set = { NULL, 0, 0 };
	struct match_result res;

	(void)state;
	need_certs();
	/* RFC 7672 section 3.1.1: DANE-EE ignores validity dates. */
	add_cert_record(&set, OWNER, "expired.pem", 0, t311);
	assert_int_equal(verdict(&set, OWNER, HOST, "expired.pem", &res), 1);
	assert_int_equal(res.depth, 0);
	tlsa_set_free(&set);
	add_cert_record(&set, OWNER, "expired.pem", 0,
	    (struct tlsa_type){ 3, 0, 1 });
	assert_int_equal(verdict(&set, OWNER, HOST, "expired.pem", &res), 1);
	tlsa_set_free(&set);
}

static void
test_dane_ee_no_name_check(void **state)
{
	struct tlsa_set set = { NULL, 0, 0 };
	struct match_result res;

	(void)state;
	need_certs();
	/* 3 x x is not name-checked: a wrong host still matches. */
	add_cert_record(&set, OWNER, "rsa.pem", 0, t311);
	assert_int_equal(verdict(&set, OWNER, "other.example",
	    "rsa-chain.pem", &res), 1);
	assert_int_equal(verdict(&set, OWNER, NULL, "rsa-chain.pem", &res), 1);
	tlsa_set_free(&set);
}

static void
test_dane_ta(void **state)
{
	struct tlsa_set set = { NULL, 0, 0 };
	struct match_result res;

	(void)state;
	need_certs();
	add_cert_record(&set, OWNER, "int.pem", 0,
	    (struct tlsa_type){ 2, 1, 1 });
	assert_int_equal(verdict(&set, OWNER, HOST, "rsa-chain.pem", &res), 1);
	assert_int_equal(res.depth, 1);
	assert_int_equal(res.record, 0);
	/* The trailing dot of a normalised name is not a mismatch. */
	assert_int_equal(verdict(&set, OWNER, HOST ".", "rsa-chain.pem",
	    &res), 1);
	/* Any name the certificate carries will do. */
	assert_int_equal(verdict(&set, OWNER, "MX2.example.test",
	    "rsa-chain.pem", &res), 1);
	/* DANE-TA is name-checked (RFC 7672 section 3.2.2). */
	assert_int_equal(verdict(&set, OWNER, "other.example",
	    "rsa-chain.pem", &res), 0);
	assert_non_null(strstr(res.reason, "ostname mismatch"));
	/* The CA must be served: the leaf alone cannot be chained to it. */
	assert_int_equal(verdict(&set, OWNER, HOST, "rsa.pem", &res), 0);
	assert_true(strlen(res.reason) > 0);
	/* ... but serving more than needed is fine. */
	assert_int_equal(verdict(&set, OWNER, HOST, "rsa-full.pem", &res), 1);
	assert_int_equal(res.depth, 1);
	tlsa_set_free(&set);

	/* 2 0 1 (whole CA certificate) too. */
	add_cert_record(&set, OWNER, "int.pem", 0,
	    (struct tlsa_type){ 2, 0, 1 });
	assert_int_equal(verdict(&set, OWNER, HOST, "ecdsa-chain.pem", &res),
	    1);
	assert_int_equal(res.depth, 1);
	tlsa_set_free(&set);
}

/*
 * Chains from certkey are complete (certkey.h): match_chain verifies
 * them as they are, so a DANE-TA signature is really checked: a leaf
 * with a damaged signature fails as a signature failure, not for want of
 * a key. A chain OpenSSL decoded itself (the guard's) matches the same.
 */
static void
test_complete_chains(void **state)
{
	struct tlsa_set set = { NULL, 0, 0 };
	struct certkey_chain *chain, *forged;
	struct match_result res;
	struct errbuf err = { "" };
	STACK_OF(X509) *whole;
	unsigned char *der = NULL, *p;
	char *path;
	X509 *cert;
	BIO *bio;
	int len, n;

	(void)state;
	need_certs();
	add_cert_record(&set, OWNER, "int.pem", 0,
	    (struct tlsa_type){ 2, 1, 1 });
	chain = load_chain("rsa-chain.pem");
	assert_non_null(X509_get0_pubkey(sk_X509_value(chain->certs, 0)));
	assert_non_null(X509_get0_pubkey(sk_X509_value(chain->certs, 1)));
	assert_int_equal(match_chain(&set, OWNER, HOST, chain->certs, &res,
	    &err), 1);
	assert_int_equal(res.depth, 1);

	/* Decoded by OpenSSL itself, as a live connection gives it. */
	assert_non_null(whole = sk_X509_new_null());
	path = path_of("rsa-chain.pem");
	assert_non_null(bio = BIO_new_file(path, "r"));
	free(path);
	while ((cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		assert_non_null(X509_get0_pubkey(cert));
		assert_true(sk_X509_push(whole, cert) > 0);
	}
	BIO_free(bio);
	ERR_clear_error();
	assert_int_equal(sk_X509_num(whole), 2);
	assert_int_equal(match_chain(&set, OWNER, HOST, whole, &res, &err), 1);
	assert_int_equal(res.depth, 1);
	sk_X509_pop_free(whole, X509_free);

	/* The same chain with the last byte of the leaf's signature changed. */
	n = i2d_X509(sk_X509_value(chain->certs, 0), NULL);
	len = n + i2d_X509(sk_X509_value(chain->certs, 1), NULL);
	der = p = xmalloc(len);
	assert_int_equal(i2d_X509(sk_X509_value(chain->certs, 0), &p), n);
	assert_int_equal(i2d_X509(sk_X509_value(chain->certs, 1), &p),
	    len - n);
	der[n - 1] ^= 0x01;
	if (certkey_chain_parse(der, len, "forged", 0, &forged, &err) < 0)
		fail_msg("%s", err.msg);
	free(der);
	assert_int_equal(match_chain(&set, OWNER, HOST, forged->certs, &res,
	    &err), 0);
	if (strstr(res.reason, "signature failure") == NULL)
		fail_msg("forged leaf: %s", res.reason);
	certkey_chain_free(forged);
	certkey_chain_free(chain);
	tlsa_set_free(&set);
}

static void
test_dane_ta_not_served(void **state)
{
	struct tlsa_set set = { NULL, 0, 0 };
	struct match_result res;

	(void)state;
	need_certs();
	/*
	 * rsa-chain.pem stops at int; the root ca.pem is not sent. A digest
	 * (2 x 1) of a certificate that is not in the chain cannot match:
	 * OpenSSL only compares digests with certificates it has and the
	 * store is empty. Observed with OpenSSL 3.0: the verdict is
	 * X509_V_ERR_DANE_NO_MATCH ("no matching DANE TLSA records"), not
	 * an issuer error.
	 */
	add_cert_record(&set, OWNER, "ca.pem", 0,
	    (struct tlsa_type){ 2, 1, 1 });
	assert_int_equal(verdict(&set, OWNER, HOST, "rsa-chain.pem", &res), 0);
	assert_int_equal(res.depth, -1);
	assert_non_null(strstr(res.reason, "matching DANE TLSA records"));
	/* Served, the same record matches at depth 2. */
	assert_int_equal(verdict(&set, OWNER, HOST, "rsa-full.pem", &res), 1);
	assert_int_equal(res.depth, 2);
	tlsa_set_free(&set);

	add_cert_record(&set, OWNER, "ca.pem", 0,
	    (struct tlsa_type){ 2, 0, 1 });
	assert_int_equal(verdict(&set, OWNER, HOST, "rsa-chain.pem", &res), 0);
	assert_non_null(strstr(res.reason, "matching DANE TLSA records"));
	tlsa_set_free(&set);

	/*
	 * 2 1 0 carries the CA's whole public key, which is enough for
	 * OpenSSL to check the signature of the top served certificate
	 * without the CA certificate (RFC 7671 section 5.2.2): it matches,
	 * and OpenSSL reports as authority the depth of the certificate the
	 * bare key signed (int, depth 1). Still name-checked.
	 */
	add_cert_record(&set, OWNER, "ca.pem", 0,
	    (struct tlsa_type){ 2, 1, 0 });
	assert_int_equal(verdict(&set, OWNER, HOST, "rsa-chain.pem", &res), 1);
	assert_int_equal(res.depth, 1);
	assert_int_equal(res.record, 0);
	assert_int_equal(verdict(&set, OWNER, "other.example",
	    "rsa-chain.pem", &res), 0);
	assert_non_null(strstr(res.reason, "ostname mismatch"));
	tlsa_set_free(&set);
}

static void
test_owner_filter(void **state)
{
	struct tlsa_set set = { NULL, 0, 0 };
	struct match_result res;

	(void)state;
	need_certs();
	add_cert_record(&set, OWNER, "rsa.pem", 0, t311);
	/* Owners compare without case and without the trailing dot. */
	assert_int_equal(verdict(&set, "_25._TCP.MX1.example.test", HOST,
	    "rsa-chain.pem", &res), 1);
	assert_int_equal(verdict(&set, NULL, HOST, "rsa-chain.pem", &res), 1);
	/* Another port's records do not count. */
	assert_int_equal(verdict(&set, "_587._tcp.mx1.example.test.", HOST,
	    "rsa-chain.pem", &res), 0);
	assert_string_equal(res.reason,
	    "no TLSA records for _587._tcp.mx1.example.test.");
	/* A matching record elsewhere does not rescue this owner's set. */
	add_cert_record(&set, "_25._tcp.mx2.example.test.", "ecdsa.pem", 0,
	    t311);
	assert_int_equal(verdict(&set, "_25._tcp.mx2.example.test.", HOST,
	    "rsa-chain.pem", &res), 0);
	assert_non_null(strstr(res.reason, "matching DANE TLSA records"));
	assert_int_equal(verdict(&set, "_25._tcp.mx2.example.test.", HOST,
	    "ecdsa-chain.pem", &res), 1);
	assert_int_equal(res.record, 1);
	tlsa_set_free(&set);
}

static void
test_unusable_records(void **state)
{
	struct tlsa_set set = { NULL, 0, 0 };
	struct tlsa_record bad = { NULL, -1, { 3, 1, 1 }, 0, NULL };
	struct match_result res;
	unsigned char junk[20] = { 0 };

	(void)state;
	need_certs();
	/* PKIX usages are unusable for SMTP (RFC 7672 section 3.1.3). */
	add_cert_record(&set, OWNER, "rsa.pem", 0,
	    (struct tlsa_type){ 1, 1, 1 });
	add_cert_record(&set, OWNER, "int.pem", 0,
	    (struct tlsa_type){ 0, 1, 1 });
	assert_int_equal(verdict(&set, OWNER, HOST, "rsa-chain.pem", &res), 0);
	assert_string_equal(res.reason, "2 records published at " OWNER
	    ", none usable by DANE SMTP senders: usage 1 (PKIX-EE), "
	    "usage 0 (PKIX-TA)");
	assert_int_equal(res.published, 2);
	assert_int_equal(res.usable, 0);
	/* A digest of the wrong length is skipped, not fatal. */
	bad.data = junk;
	bad.len = sizeof(junk);
	bad.owner = (char *)OWNER;
	tlsa_set_add(&set, &bad);
	assert_int_equal(verdict(&set, OWNER, HOST, "rsa-chain.pem", &res), 0);
	assert_non_null(strstr(res.reason, "3 records published at " OWNER
	    ", none usable by DANE SMTP senders: usage 1 (PKIX-EE), "
	    "usage 0 (PKIX-TA), 3 1 1 ("));
	add_cert_record(&set, OWNER, "rsa.pem", 0, t311);
	assert_int_equal(verdict(&set, OWNER, HOST, "rsa-chain.pem", &res), 1);
	assert_int_equal(res.record, 3);
	tlsa_set_free(&set);
}

static void
test_match_key(void **state)
{
	struct tlsa_set set = { NULL, 0, 0 };
	struct certkey_key *next, *pub, *compressed, *other;
	struct match_result res;
	struct errbuf err;

	(void)state;
	need_certs();
	next = load_key("ecdsa-next.key");
	pub = load_key("ecdsa-next.pub");
	compressed = load_key("ecdsa-next-compressed.pub");
	other = load_key("rsa-next.key");

	assert_int_equal(match_key(&set, OWNER, next->pkey, &res, &err), 0);
	assert_int_equal(res.record, -1);
	assert_true(strlen(res.reason) > 0);

	/* A whole-certificate record cannot cover a bare key. */
	add_cert_record(&set, OWNER, "ecdsa.pem", 0,
	    (struct tlsa_type){ 3, 0, 1 });
	add_key_record(&set, OWNER, "ecdsa-next.key", t311);
	add_key_record(&set, OWNER, "ecdsa-next.key",
	    (struct tlsa_type){ 3, 1, 2 });
	add_key_record(&set, "_25._tcp.mx2.example.test.", "rsa-next.key",
	    t311);

	/* Digest agility: senders use the 3 1 2, not the 3 1 1. */
	assert_int_equal(match_key(&set, OWNER, next->pkey, &res, &err), 1);
	assert_int_equal(res.record, 2);
	assert_int_equal(res.depth, 0);
	assert_int_equal(match_key(&set, OWNER, pub->pkey, &res, &err), 1);
	assert_int_equal(res.record, 2);
	/* A compressed EC point hashes as the certificate will carry it. */
	assert_int_equal(match_key(&set, OWNER, compressed->pkey, &res, &err),
	    1);
	assert_int_equal(res.record, 2);
	/* Owner filtering. */
	assert_int_equal(match_key(&set, OWNER, other->pkey, &res, &err), 0);
	assert_int_equal(res.record, -1);
	assert_int_equal(match_key(&set, "_25._tcp.mx2.example.test", other->pkey,
	    &res, &err), 1);
	assert_int_equal(res.record, 3);
	assert_int_equal(match_key(&set, NULL, other->pkey, &res, &err), 1);
	assert_int_equal(match_key(&set, "_25._tcp.mx2.example.test.",
	    next->pkey, &res, &err), 0);
	tlsa_set_free(&set);

	/* 3 1 2 alone. */
	add_key_record(&set, OWNER, "ecdsa-next.pub",
	    (struct tlsa_type){ 3, 1, 2 });
	assert_int_equal(match_key(&set, OWNER, compressed->pkey, &res, &err),
	    1);
	assert_int_equal(res.record, 0);
	tlsa_set_free(&set);

	certkey_key_free(next);
	certkey_key_free(pub);
	certkey_key_free(compressed);
	certkey_key_free(other);
}

/* The guard matches from several probe threads at once. */
struct thread_arg {
	const struct tlsa_set *set;
	STACK_OF(X509) *good, *bad;
	int failures;
};

static void *
thread_main(void *p)
{
	struct thread_arg *a = p;
	struct match_result res;
	struct errbuf err;
	int i;

	for (i = 0; i < 200; i++) {
		if (match_chain(a->set, OWNER, HOST, a->good, &res, &err) != 1)
			a->failures++;
		if (match_chain(a->set, OWNER, HOST, a->bad, &res, &err) != 0)
			a->failures++;
	}
	return NULL;
}

static void
test_threads(void **state)
{
	struct tlsa_set set = { NULL, 0, 0 };
	struct certkey_chain *good, *bad;
	struct thread_arg args[4];
	pthread_t tid[4];
	int i;

	(void)state;
	need_certs();
	add_cert_record(&set, OWNER, "int.pem", 0,
	    (struct tlsa_type){ 2, 1, 1 });
	good = load_chain("rsa-chain.pem");
	bad = load_chain("selfsigned.pem");
	for (i = 0; i < 4; i++) {
		args[i] = (struct thread_arg){ &set, good->certs, bad->certs,
		    0 };
		assert_int_equal(pthread_create(&tid[i], NULL, thread_main,
		    &args[i]), 0);
	}
	for (i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(tid[i], NULL), 0);
		assert_int_equal(args[i].failures, 0);
	}
	certkey_chain_free(good);
	certkey_chain_free(bad);
	tlsa_set_free(&set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_leaf_types),
		cmocka_unit_test(test_other_key),
		cmocka_unit_test(test_expired_leaf),
		cmocka_unit_test(test_dane_ee_no_name_check),
		cmocka_unit_test(test_dane_ta),
		cmocka_unit_test(test_dane_ta_not_served),
		cmocka_unit_test(test_complete_chains),
		cmocka_unit_test(test_owner_filter),
		cmocka_unit_test(test_unusable_records),
		cmocka_unit_test(test_match_key),
		cmocka_unit_test(test_threads),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
