/*
 * Tests for milter/expected.c: the guard reuses a host's expected set
 * while its files and parameters are unchanged, and makes a new one when
 * either changes.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/asn1.h>
#include <openssl/x509.h>

#include "certkey.h"

#include "checks.h"
#include "conf.h"
#include "expect.h"
#include "expected.h"
#include "xalloc.h"

static char dir[] = "/tmp/test_expected.XXXXXX";

static void
copy(const char *name)
{
	char *cmd = xasprintf("cp '%s/%s' '%s/%s'", getenv("CERTDIR"), name,
	    dir, name);

	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static void
test_kept_while_unchanged(void **state)
{
	struct checks_keep *keep;
	struct conf_cert cert;
	struct conf_host host;
	const struct expect *a, *b, *c;
	struct errbuf err;
	time_t now = time(NULL);
	unsigned char old[32];
	char *chain, *key, *cmd;

	(void)state;
	if (getenv("CERTDIR") == NULL)
		skip();
	assert_non_null(mkdtemp(dir));
	copy("rsa-chain.pem");
	copy("rsa.key");
	chain = xasprintf("%s/rsa-chain.pem", dir);
	key = xasprintf("%s/rsa.key", dir);
	memset(&cert, 0, sizeof(cert));
	cert.name = (char *)"rsa";
	cert.chain = chain;
	cert.key = key;
	memset(&host, 0, sizeof(host));
	host.name = (char *)"mx1.example.test";
	host.port = 25;
	host.ttl = 3600;
	host.issuer_depth = 1;
	host.certs = &cert;
	host.ncerts = 1;

	keep = checks_keep_new();
	if (checks_expect_kept(keep, &host, now, &a, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(a->nentries, 1);
	/* Unchanged: the same set, nothing loaded again. */
	assert_int_equal(checks_expect_kept(keep, &host, now + 60, &b, &err),
	    0);
	assert_ptr_equal(a, b);

	/* A renewal: the chain file replaced -> a new set, other data.
	 * (Compare data, not pointers: a freed set's address may be reused.) */
	memcpy(old, a->entries[0].rec.data, sizeof(old));
	copy("rsa-other-chain.pem");
	copy("rsa-other.key");
	cmd = xasprintf("mv '%s/rsa-other-chain.pem' '%s' && "
	    "mv '%s/rsa-other.key' '%s'", dir, chain, dir, key);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	assert_int_equal(checks_expect_kept(keep, &host, now + 120, &c, &err),
	    0);
	assert_int_equal(c->nentries, 1);
	assert_int_equal(c->entries[0].rec.len, sizeof(old));
	assert_memory_not_equal(c->entries[0].rec.data, old, sizeof(old));

	/* A parameter changed by a reload, same files -> a new set. */
	host.ttl = 1800;
	assert_int_equal(checks_expect_kept(keep, &host, now + 180, &a, &err),
	    0);
	assert_int_equal(a->entries[0].rec.ttl, 1800);

	/* A file gone: that cert section fails on its own, with its error
	 * (the guard reports it and checks the other sections). */
	assert_int_equal(unlink(chain), 0);
	assert_int_equal(checks_expect_kept(keep, &host, now + 4000, &c,
	    &err), 0);
	assert_int_equal(c->ncerts, 0);
	assert_int_equal(c->nfailed, 1);
	assert_non_null(strstr(c->failed[0].error, "rsa-chain.pem"));

	checks_keep_free(keep);
	unlink(key);
	rmdir(dir);
	free(chain);
	free(key);
}

/* A kept set is remade after an hour: its expiry note is as of then. */
static void
test_remade_after_an_hour(void **state)
{
	struct checks_keep *keep;
	struct certkey_chain *chain;
	struct conf_cert cert;
	struct conf_host host;
	const struct expect *e;
	struct errbuf err;
	struct tm tm;
	time_t expiry;
	char *path;

	(void)state;
	if (getenv("CERTDIR") == NULL)
		skip();
	path = xasprintf("%s/expired.pem", getenv("CERTDIR"));
	if (certkey_chain_load(path, &chain, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(ASN1_TIME_to_tm(X509_get0_notAfter(
	    certkey_chain_leaf(chain)), &tm), 1);
	certkey_chain_free(chain);
	expiry = timegm(&tm);

	memset(&cert, 0, sizeof(cert));
	cert.name = (char *)"ecdsa";
	cert.chain = path;
	memset(&host, 0, sizeof(host));
	host.name = (char *)"mx1.example.test";
	host.port = 25;
	host.ttl = 3600;
	host.issuer_depth = 1;
	host.certs = &cert;
	host.ncerts = 1;
	keep = checks_keep_new();
	/* Half an hour before it expires: no note. */
	assert_int_equal(checks_expect_kept(keep, &host, expiry - 1800, &e,
	    &err), 0);
	assert_null(e->entries[0].note);
	/* Expired now, but the files are the same and the set is young: kept. */
	assert_int_equal(checks_expect_kept(keep, &host, expiry + 1700, &e,
	    &err), 0);
	assert_null(e->entries[0].note);
	/* An hour and more after it was made: remade, with the note. */
	assert_int_equal(checks_expect_kept(keep, &host, expiry + 1801, &e,
	    &err), 0);
	assert_non_null(e->entries[0].note);
	checks_keep_free(keep);
	free(path);
}

/*
 * issuers = { ... } files are watched like the chain and keys: a sibling
 * CA replaced on disk makes a new set with its records.
 */
static void
test_issuer_replaced(void **state)
{
	char idir[] = "/tmp/test_expected_issuers.XXXXXX";
	struct checks_keep *keep;
	struct conf_cert cert;
	struct conf_host host;
	const struct expect *a, *b;
	struct errbuf err;
	time_t now = time(NULL);
	unsigned char old[32];
	char *issuer, *cmd;
	size_t i;

	(void)state;
	if (getenv("CERTDIR") == NULL)
		skip();
	assert_non_null(mkdtemp(idir));
	issuer = xasprintf("%s/sibling.pem", idir);
	cmd = xasprintf("cp '%s/ca.pem' '%s'", getenv("CERTDIR"), issuer);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	memset(&cert, 0, sizeof(cert));
	cert.name = (char *)"rsa";
	cert.chain = xasprintf("%s/rsa-chain.pem", getenv("CERTDIR"));
	cert.issuers = &issuer;
	cert.nissuers = 1;
	memset(&host, 0, sizeof(host));
	host.name = (char *)"mx1.example.test";
	host.port = 25;
	host.ttl = 3600;
	host.rollover = CONF_ROLLOVER_CURRENT_ISSUER;
	host.issuer_depth = 1;
	host.certs = &cert;
	host.ncerts = 1;

	keep = checks_keep_new();
	if (checks_expect_kept(keep, &host, now, &a, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(a->nfailed, 0);
	for (i = 0; i < a->nentries; i++)
		if (strcmp(a->entries[i].source, issuer) == 0)
			break;
	assert_true(i < a->nentries);
	assert_int_equal(a->entries[i].rec.len, sizeof(old));
	memcpy(old, a->entries[i].rec.data, sizeof(old));
	assert_int_equal(checks_expect_kept(keep, &host, now + 60, &b, &err),
	    0);
	assert_ptr_equal(a, b);

	/* Another sibling CA in the same file: a new set, its data. */
	cmd = xasprintf("cp '%s/fakeint.pem' '%s.new' && mv '%s.new' '%s'",
	    getenv("CERTDIR"), issuer, issuer, issuer);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	assert_int_equal(checks_expect_kept(keep, &host, now + 120, &b, &err),
	    0);
	assert_int_equal(b->nfailed, 0);
	for (i = 0; i < b->nentries; i++)
		if (strcmp(b->entries[i].source, issuer) == 0)
			break;
	assert_true(i < b->nentries);
	assert_int_equal(b->entries[i].rec.len, sizeof(old));
	assert_memory_not_equal(b->entries[i].rec.data, old, sizeof(old));

	checks_keep_free(keep);
	unlink(issuer);
	rmdir(idir);
	free(issuer);
	free(cert.chain);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kept_while_unchanged),
		cmocka_unit_test(test_remade_after_an_hour),
		cmocka_unit_test(test_issuer_replaced),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
