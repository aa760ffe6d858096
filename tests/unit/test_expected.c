/*
 * Tests for milter/expected.c: the guard reuses a host's expected set
 * while its files and parameters are unchanged, and makes a new one when
 * either changes; key files are read once, before the privilege drop.
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/asn1.h>
#include <openssl/x509.h>

#include "certkey.h"

#include "checks.h"
#include "conf.h"
#include "duration.h"
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

/* host: mx1.example.test port 25, one cert section, cert; named name. */
static void
one_host(struct conf_host *host, struct conf_cert *cert, const char *name,
    char *chain)
{
	memset(cert, 0, sizeof(*cert));
	cert->name = (char *)name;
	cert->chain = chain;
	memset(host, 0, sizeof(*host));
	host->name = (char *)"mx1.example.test";
	host->port = 25;
	host->ttl = 3600;
	host->issuer_depth = 1;
	host->certs = cert;
	host->ncerts = 1;
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
	one_host(&host, &cert, "rsa", chain);
	cert.key = key;

	keep = checks_keep_new();
	if (checks_expect_kept(keep, &host, NULL, now, now, &a, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(a->nentries, 1);
	/* Unchanged: the same set, nothing loaded again. */
	assert_int_equal(checks_expect_kept(keep, &host, NULL,
	    now + 60, now + 60, &b, &err), 0);
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
	assert_int_equal(checks_expect_kept(keep, &host, NULL,
	    now + 120, now + 120, &c, &err), 0);
	assert_int_equal(c->nentries, 1);
	assert_int_equal(c->entries[0].rec.len, sizeof(old));
	assert_memory_not_equal(c->entries[0].rec.data, old, sizeof(old));

	/* A parameter changed by a reload, same files -> a new set. */
	host.ttl = 1800;
	assert_int_equal(checks_expect_kept(keep, &host, NULL,
	    now + 180, now + 180, &a, &err), 0);
	assert_int_equal(a->entries[0].rec.ttl, 1800);

	/* A file gone: that cert section fails on its own, with its error
	 * (the guard reports it and checks the other sections). */
	assert_int_equal(unlink(chain), 0);
	assert_int_equal(checks_expect_kept(keep, &host, NULL,
	    now + 4000, now + 4000, &c, &err), 0);
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

	one_host(&host, &cert, "ecdsa", path);
	keep = checks_keep_new();
	/* Half an hour before it expires: no note. */
	assert_int_equal(checks_expect_kept(keep, &host, NULL,
	    expiry - 1800, 100, &e, &err), 0);
	assert_null(e->entries[0].note);
	/* Expired now, but the files are the same and the set is young: kept. */
	assert_int_equal(checks_expect_kept(keep, &host, NULL,
	    expiry + 1700, 3599, &e, &err), 0);
	assert_null(e->entries[0].note);
	/* The wall clock set forward a day, the set still young by the
	 * monotonic clock: kept (no burst of reloads after a step). */
	assert_int_equal(checks_expect_kept(keep, &host, NULL,
	    expiry + 86400, 3599, &e, &err), 0);
	assert_null(e->entries[0].note);
	/* An hour and more after it was made: remade, with the note. */
	assert_int_equal(checks_expect_kept(keep, &host, NULL,
	    expiry + 1801, 3700, &e, &err), 0);
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
	one_host(&host, &cert, "rsa", xasprintf("%s/rsa-chain.pem",
	    getenv("CERTDIR")));
	cert.issuers = &issuer;
	cert.nissuers = 1;
	host.rollover = CONF_ROLLOVER_CURRENT_ISSUER;

	keep = checks_keep_new();
	if (checks_expect_kept(keep, &host, NULL, now, now, &a, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(a->nfailed, 0);
	for (i = 0; i < a->nentries; i++)
		if (strcmp(a->entries[i].source, issuer) == 0)
			break;
	assert_true(i < a->nentries);
	assert_int_equal(a->entries[i].rec.len, sizeof(old));
	memcpy(old, a->entries[i].rec.data, sizeof(old));
	assert_int_equal(checks_expect_kept(keep, &host, NULL,
	    now + 60, now + 60, &b, &err), 0);
	assert_ptr_equal(a, b);

	/* Another sibling CA in the same file: a new set, its data. */
	cmd = xasprintf("cp '%s/fakeint.pem' '%s.new' && mv '%s.new' '%s'",
	    getenv("CERTDIR"), issuer, issuer, issuer);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	assert_int_equal(checks_expect_kept(keep, &host, NULL,
	    now + 120, now + 120, &b, &err), 0);
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

/* The data of the entry of role in e (the first), or fail. */
static const struct tlsa_record *
entry_of(const struct expect *e, enum expect_role role)
{
	size_t i;

	for (i = 0; i < e->nentries; i++)
		if (e->entries[i].role == role)
			return &e->entries[i].rec;
	fail_msg("no entry of role %d", (int)role);
	return NULL;
}

/* Run f as nobody in a child; 0 if it passed, 77 if it cannot be run. */
static int
as_nobody(int (*f)(void *), void *arg)
{
	pid_t pid;
	int status;

	if ((pid = fork()) == -1)
		fail_msg("fork failed");
	if (pid == 0) {
		if (setgid(65534) == -1 || setuid(65534) == -1)
			_exit(77);
		_exit(f(arg));
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

struct dropped {
	struct checks_keep *keep;
	struct conf_host *host;
	time_t now;
	unsigned char next[32];		/* the next key's 3 1 1 data at start */
};

/* After the drop, files unchanged: the set is made again (an hour
 * later) from the keys read at start, the current key still checked. */
static int
dropped_unchanged(void *arg)
{
	struct dropped *d = arg;
	const struct expect *e;
	struct errbuf err;

	if (access(d->host->certs[0].key, R_OK) == 0)
		return 77;	/* root's file readable by nobody? */
	if (checks_expect_kept(d->keep, d->host, NULL, d->now + 4000,
	    duration_clock() + 4000, &e, &err) < 0)
		return 1;
	if (e->nfailed != 0 || e->ncerts != 1 || e->certs[0].key == NULL ||
	    e->certs[0].key->is_private || e->certs[0].next == NULL ||
	    e->certs[0].next->is_private || e->certs[0].problem != NULL)
		return 2;
	if (memcmp(entry_of(e, EXPECT_NEXT)->data, d->next, 32) != 0)
		return 3;
	return 0;
}

/* After the drop, the key files changed (unreadable): the next key read
 * at start stays, the current key is no longer checked; a cert section
 * whose key was never read fails, saying to restart. */
static int
dropped_changed(void *arg)
{
	struct dropped *d = arg;
	const struct expect *e;
	struct errbuf err;

	if (checks_expect_kept(d->keep, d->host, NULL, d->now + 60,
	    duration_clock() + 60, &e, &err) < 0)
		return 1;
	if (e->nfailed != 0 || e->ncerts != 1 || e->certs[0].key != NULL ||
	    e->certs[0].next == NULL)
		return 2;
	if (memcmp(entry_of(e, EXPECT_NEXT)->data, d->next, 32) != 0)
		return 3;
	d->host->certs[0].next_key = d->host->certs[0].key;
	if (checks_expect_kept(d->keep, d->host, NULL, d->now + 120,
	    duration_clock() + 120, &e, &err) < 0)
		return 4;
	if (e->ncerts != 0 || e->nfailed != 1 ||
	    strstr(e->failed[0].error, "permission denied") == NULL ||
	    strstr(e->failed[0].error, "restart daneguard") == NULL)
		return 5;
	return 0;
}

/*
 * Keys are read as root before the privilege drop (checks_preload), and
 * only their public halves kept: after the drop nothing reads them again
 * while they are unchanged.
 */
static void
test_keys_read_before_drop(void **state)
{
	struct dropped d;
	struct conf_cert cert;
	struct conf_host host;
	struct conf conf;
	const struct expect *e;
	struct errbuf err;
	char *chain, *key, *next, *cmd, *files[3];
	int i, rc;

	(void)state;
	if (getenv("CERTDIR") == NULL || geteuid() != 0)
		skip();
	strcpy(dir, "/tmp/test_expected.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	copy("rsa-chain.pem");
	copy("rsa.key");
	copy("rsa-next.key");
	files[0] = chain = xasprintf("%s/rsa-chain.pem", dir);
	files[1] = key = xasprintf("%s/rsa.key", dir);
	files[2] = next = xasprintf("%s/rsa-next.key", dir);
	for (i = 0; i < 3; i++)
		assert_int_equal(chmod(files[i], i == 0 ? 0644 : 0600), 0);
	one_host(&host, &cert, "rsa", chain);
	cert.key = key;
	cert.next_key = next;
	memset(&conf, 0, sizeof(conf));
	conf.hosts = &host;
	conf.nhosts = 1;

	d.keep = checks_keep_new();
	d.host = &host;
	d.now = time(NULL);
	if (checks_preload(&conf, d.keep, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(checks_expect_kept(d.keep, &host, NULL, d.now,
	    duration_clock(), &e, &err), 0);
	assert_int_equal(e->nentries, 2);
	memcpy(d.next, entry_of(e, EXPECT_NEXT)->data, sizeof(d.next));

	if ((rc = as_nobody(dropped_unchanged, &d)) == 77) {
		checks_keep_free(d.keep);
		skip();
	}
	assert_int_equal(rc, 0);

	/* A renewal the dropped process cannot read: other keys, same
	 * paths, root's. */
	cmd = xasprintf("cp '%s/rsa-other.key' '%s' && cp '%s/ecdsa-next.key' "
	    "'%s'", getenv("CERTDIR"), key, getenv("CERTDIR"), next);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	assert_int_equal(as_nobody(dropped_changed, &d), 0);

	checks_keep_free(d.keep);
	for (i = 0; i < 3; i++) {
		unlink(files[i]);
		free(files[i]);
	}
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kept_while_unchanged),
		cmocka_unit_test(test_remade_after_an_hour),
		cmocka_unit_test(test_issuer_replaced),
		cmocka_unit_test(test_keys_read_before_drop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
