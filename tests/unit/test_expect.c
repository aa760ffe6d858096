/*
 * test_expect - lib/expect.c against the certificates of gen-certs.sh.
 *
 * Expected data is computed independently of expect.c, from the files
 * (tlsa_record_from_cert/_pubkey), and every current and issuer entry is
 * finally checked with match_chain: what tlsagen prints must be what
 * OpenSSL's DANE code accepts for the chain the server sends.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "certkey.h"
#include "conf.h"
#include "cover.h"
#include "expect.h"
#include "match.h"
#include "tlsa.h"
#include "xalloc.h"

#define OWNER	"_25._tcp.mx1.example.test."

static const char *certdir;

/* Paths handed out by P(), freed after each test. */
static char *paths[64];
static size_t npaths;

static const char *
P(const char *name)
{
	if (name == NULL)
		return NULL;
	assert_true(npaths < sizeof(paths) / sizeof(paths[0]));
	return paths[npaths++] = xasprintf("%s/%s", certdir, name);
}

static void
host_init(struct conf_host *h, enum conf_rollover rollover)
{
	memset(h, 0, sizeof(*h));
	h->name = (char *)"mx1.example.test";
	h->port = 25;
	h->ttl = 3600;
	h->rollover = rollover;
	h->issuer_depth = 1;
}

/* Append a cert section; all strings are borrowed. */
static void
host_cert(struct conf_host *h, const char *name, const char *chain,
    const char *key, const char *next)
{
	struct conf_cert *c;

	h->certs = xreallocarray(h->certs, h->ncerts + 1, sizeof(*h->certs));
	c = &h->certs[h->ncerts++];
	memset(c, 0, sizeof(*c));
	c->name = (char *)name;
	c->chain = (char *)P(chain);
	c->key = (char *)P(key);
	c->next_key = (char *)P(next);
}

static int
teardown(void **state)
{
	struct conf_host *h = *state;

	while (npaths > 0)
		free(paths[--npaths]);
	if (h != NULL) {
		free(h->certs);
		free(h);
	}
	*state = NULL;
	return 0;
}

static int
setup(void **state)
{
	certdir = getenv("CERTDIR");
	*state = xcalloc(1, sizeof(struct conf_host));
	return 0;
}

static void
need_certs(void)
{
	if (certdir == NULL || *certdir == '\0')
		skip();
}

/* The expected record of the certificate at depth of a chain file. */
static void
cert_record(struct tlsa_record *rec, const char *file, int depth,
    struct tlsa_type type)
{
	struct certkey_chain *chain = NULL;
	struct errbuf err;

	if (certkey_chain_load(P(file), &chain, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(tlsa_record_from_cert(rec,
	    type, sk_X509_value(chain->certs, depth), &err), 0);
	certkey_chain_free(chain);
}

static void
key_record(struct tlsa_record *rec, const char *file, struct tlsa_type type)
{
	struct certkey_key *key = NULL;
	struct errbuf err;

	if (certkey_key_load(P(file), NULL, &key, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(tlsa_record_from_pubkey(rec, type, key->pkey, &err),
	    0);
	certkey_key_free(key);
}

static void
check_entry(const struct expect *e, size_t i, size_t cert,
    enum expect_role role, const char *source, struct tlsa_record *want)
{
	const struct expect_entry *ent;

	assert_true(i < e->nentries);
	ent = &e->entries[i];
	assert_int_equal(ent->cert, cert);
	assert_string_equal(expect_role_name(ent->role),
	    expect_role_name(role));
	assert_string_equal(ent->source, P(source));
	assert_string_equal(ent->rec.owner, OWNER);
	assert_int_equal(ent->rec.ttl, e->ttl);
	assert_int_equal(tlsa_rdata_cmp(&ent->rec, want), 0);
	tlsa_record_clear(want);
}

static struct expect *
load_ok(const struct conf_host *h)
{
	struct expect *e = NULL;
	struct errbuf err = { "" };

	if (expect_load(h, NULL, time(NULL), &e, &err) < 0)
		fail_msg("expect_load: %s", err.msg);
	return e;
}

static const char *
load_fails(const struct conf_host *h)
{
	static struct errbuf err;
	struct expect *e = NULL;

	err.msg[0] = '\0';
	assert_int_equal(expect_load(h, NULL, time(NULL), &e, &err), -1);
	assert_null(e);
	assert_true(strlen(err.msg) > 0);
	return err.msg;
}

static int
has_warning(const struct expect *e, const char *text)
{
	size_t i;

	for (i = 0; i < e->nwarnings; i++)
		if (strstr(e->warnings[i], text) != NULL)
			return 1;
	return 0;
}

/* Every current/issuer entry matches its chain, every next its key. */
static void
check_matches(const struct expect *e)
{
	struct match_result res;
	struct errbuf err;
	size_t i;

	for (i = 0; i < e->nentries; i++) {
		const struct expect_entry *ent = &e->entries[i];
		const struct expect_cert *c = &e->certs[ent->cert];
		struct tlsa_set one = { NULL, 0, 0 };
		int r;

		tlsa_set_add(&one, &ent->rec);
		if (ent->role == EXPECT_NEXT)
			r = match_key(&one, e->owner, c->next->pkey, &res,
			    &err);
		else
			r = match_chain(&one, e->owner, e->host,
			    c->chain->certs, &res, &err);
		if (r != 1)
			fail_msg("entry %zu (%s) does not match: %s", i,
			    expect_role_name(ent->role), res.reason);
		assert_int_equal(res.record, 0);
		assert_int_equal(res.depth,
		    ent->role == EXPECT_ISSUER ? e->issuer_depth : 0);
		tlsa_set_free(&one);
	}
}

static void
test_default(void **state)
{
	struct conf_host *h = *state;
	struct tlsa_record want;
	struct expect *e;

	need_certs();
	host_init(h, CONF_ROLLOVER_CURRENT_NEXT);
	host_cert(h, "rsa", "rsa-chain.pem", "rsa.key", "rsa-next.key");
	host_cert(h, "ecdsa", "ecdsa-chain.pem", "ecdsa.key",
	    "ecdsa-next.key");
	e = load_ok(h);

	assert_string_equal(e->host, "mx1.example.test.");
	assert_string_equal(e->owner, OWNER);
	assert_int_equal(e->ntypes, 1);
	assert_int_equal(e->ncerts, 2);
	assert_string_equal(e->certs[0].name, "rsa");
	assert_string_equal(e->certs[0].alg, "rsa-2048");
	assert_string_equal(e->certs[1].name, "ecdsa");
	assert_string_equal(e->certs[1].alg, "ecdsa-p256");
	assert_int_equal(e->nwarnings, 0);
	assert_int_equal(e->nentries, 4);
	key_record(&want, "rsa.key", (struct tlsa_type){ 3, 1, 1 });
	check_entry(e, 0, 0, EXPECT_CURRENT, "rsa-chain.pem", &want);
	key_record(&want, "rsa-next.key", (struct tlsa_type){ 3, 1, 1 });
	check_entry(e, 1, 0, EXPECT_NEXT, "rsa-next.key", &want);
	key_record(&want, "ecdsa.key", (struct tlsa_type){ 3, 1, 1 });
	check_entry(e, 2, 1, EXPECT_CURRENT, "ecdsa-chain.pem", &want);
	key_record(&want, "ecdsa-next.key", (struct tlsa_type){ 3, 1, 1 });
	check_entry(e, 3, 1, EXPECT_NEXT, "ecdsa-next.key", &want);
	assert_null(e->entries[0].note);
	check_matches(e);
	expect_free(e);
}

static void
test_deterministic(void **state)
{
	struct conf_host *h = *state;
	struct expect *a, *b;
	size_t i;

	need_certs();
	host_init(h, CONF_ROLLOVER_CURRENT_ISSUER);
	host_cert(h, "ecdsa", "ecdsa-chain.pem", NULL, "ecdsa-next.key");
	host_cert(h, "rsa", "rsa-chain.pem", NULL, "rsa-next.key");
	a = load_ok(h);
	b = load_ok(h);
	assert_int_equal(a->nentries, b->nentries);
	assert_int_equal(a->nentries, 5);
	for (i = 0; i < a->nentries; i++) {
		assert_int_equal(tlsa_record_cmp(&a->entries[i].rec,
		    &b->entries[i].rec), 0);
		assert_int_equal(a->entries[i].role, b->entries[i].role);
		assert_int_equal(a->entries[i].cert, b->entries[i].cert);
	}
	expect_free(a);
	expect_free(b);
}

static void
test_shared_key(void **state)
{
	struct conf_host *h = *state;
	struct tlsa_record want;
	struct expect *e;

	need_certs();
	/* The same chain twice: one record per key. */
	host_init(h, CONF_ROLLOVER_CURRENT_NEXT);
	host_cert(h, "a", "rsa-chain.pem", "rsa.key", "rsa-next.key");
	host_cert(h, "b", "rsa-chain.pem", NULL, "rsa-next.key");
	e = load_ok(h);
	assert_int_equal(e->ncerts, 2);
	assert_int_equal(e->nentries, 2);
	key_record(&want, "rsa.key", (struct tlsa_type){ 3, 1, 1 });
	check_entry(e, 0, 0, EXPECT_CURRENT, "rsa-chain.pem", &want);
	key_record(&want, "rsa-next.key", (struct tlsa_type){ 3, 1, 1 });
	check_entry(e, 1, 0, EXPECT_NEXT, "rsa-next.key", &want);
	expect_free(e);

	/* A key and chain in one file, and the same chain on its own. */
	free(h->certs);
	h->certs = NULL;
	h->ncerts = 0;
	host_cert(h, "combined", "combined.pem", NULL, NULL);
	host_cert(h, "ecdsa", "ecdsa-chain.pem", "ecdsa.key", NULL);
	e = load_ok(h);
	assert_int_equal(e->nentries, 1);
	assert_non_null(e->certs[0].chain->key);
	key_record(&want, "ecdsa.key", (struct tlsa_type){ 3, 1, 1 });
	check_entry(e, 0, 0, EXPECT_CURRENT, "combined.pem", &want);
	expect_free(e);
}

static void
test_pkix_refused(void **state)
{
	struct conf_host *h = *state;
	struct tlsa_type pkix_ee[] = { { 3, 1, 1 }, { 1, 1, 1 } };
	struct tlsa_type pkix_ta[] = { { 0, 0, 1 } };
	const char *msg;

	need_certs();
	host_init(h, CONF_ROLLOVER_CURRENT_NEXT);
	host_cert(h, "rsa", "rsa-chain.pem", NULL, NULL);
	h->records = pkix_ee;
	h->nrecords = 2;
	msg = load_fails(h);
	assert_non_null(strstr(msg, "usage 1 (PKIX-EE) is not for SMTP"));
	assert_non_null(strstr(msg, "RFC 7672 section 3.1.3"));
	assert_non_null(strstr(msg, "use 3 (DANE-EE) or 2 (DANE-TA)"));
	h->records = pkix_ta;
	h->nrecords = 1;
	msg = load_fails(h);
	assert_non_null(strstr(msg, "usage 0 (PKIX-TA) is not for SMTP"));
	assert_non_null(strstr(msg, "RFC 7672 section 3.1.3"));
}

static void
test_fragile_types(void **state)
{
	struct conf_host *h = *state;
	struct tlsa_type types[] = { { 3, 0, 1 }, { 3, 1, 0 }, { 3, 1, 2 } };
	struct tlsa_record want;
	struct expect *e;

	need_certs();
	host_init(h, CONF_ROLLOVER_CURRENT_NEXT);
	host_cert(h, "rsa", "rsa-chain.pem", NULL, "rsa-next.key");
	h->records = types;
	h->nrecords = 3;
	e = load_ok(h);
	/* Two RSA SPKIs in full (3 1 0) also make the answer too large. */
	assert_int_equal(e->nwarnings, 3);
	assert_true(has_warning(e, "above 1232"));
	assert_true(has_warning(e, "selector 0 (whole certificate) changes "
	    "with every renewal, even with the same key; prefer 3 1 1"));
	assert_true(has_warning(e, "matching type 0 (full data) makes large "
	    "records that break in some DNS setups; prefer SHA-256 (1)"));
	/* Current as asked, in order; next 3 1 M for each M: 1, 0, 2. */
	assert_int_equal(e->nentries, 6);
	cert_record(&want, "rsa.pem", 0, types[0]);
	check_entry(e, 0, 0, EXPECT_CURRENT, "rsa-chain.pem", &want);
	cert_record(&want, "rsa.pem", 0, types[1]);
	check_entry(e, 1, 0, EXPECT_CURRENT, "rsa-chain.pem", &want);
	cert_record(&want, "rsa.pem", 0, types[2]);
	check_entry(e, 2, 0, EXPECT_CURRENT, "rsa-chain.pem", &want);
	key_record(&want, "rsa-next.key", (struct tlsa_type){ 3, 1, 1 });
	check_entry(e, 3, 0, EXPECT_NEXT, "rsa-next.key", &want);
	key_record(&want, "rsa-next.key", (struct tlsa_type){ 3, 1, 0 });
	check_entry(e, 4, 0, EXPECT_NEXT, "rsa-next.key", &want);
	key_record(&want, "rsa-next.key", (struct tlsa_type){ 3, 1, 2 });
	check_entry(e, 5, 0, EXPECT_NEXT, "rsa-next.key", &want);
	check_matches(e);
	expect_free(e);
}

static void
test_ttl(void **state)
{
	struct conf_host *h = *state;
	struct expect *e;

	need_certs();
	host_init(h, CONF_ROLLOVER_CURRENT_NEXT);
	host_cert(h, "rsa", "rsa.pem", NULL, NULL);
	h->ttl = 300;
	e = load_ok(h);
	assert_int_equal(e->nwarnings, 1);
	assert_true(has_warning(e, "TTL 300 is below 1800"));
	assert_true(has_warning(e, "load"));
	assert_int_equal(e->entries[0].rec.ttl, 300);
	expect_free(e);
	h->ttl = 86400;
	e = load_ok(h);
	assert_int_equal(e->nwarnings, 1);
	assert_true(has_warning(e, "TTL 86400 is above 3600"));
	assert_true(has_warning(e, "rollover"));
	expect_free(e);
	h->ttl = 1800;
	e = load_ok(h);
	assert_int_equal(e->nwarnings, 0);
	expect_free(e);
	h->ttl = 3600;
	e = load_ok(h);
	assert_int_equal(e->nwarnings, 0);
	expect_free(e);
}

static void
test_current_issuer(void **state)
{
	struct conf_host *h = *state;
	struct tlsa_record want;
	struct expect *e;

	need_certs();
	host_init(h, CONF_ROLLOVER_CURRENT_ISSUER);
	host_cert(h, "rsa", "rsa-chain.pem", "rsa.key", NULL);
	host_cert(h, "ecdsa", "ecdsa-chain.pem", "ecdsa.key", NULL);
	e = load_ok(h);
	assert_int_equal(e->nwarnings, 0);
	/* Both chains name int: its 2 1 1 appears once. */
	assert_int_equal(e->nentries, 3);
	key_record(&want, "rsa.key", (struct tlsa_type){ 3, 1, 1 });
	check_entry(e, 0, 0, EXPECT_CURRENT, "rsa-chain.pem", &want);
	cert_record(&want, "int.pem", 0, (struct tlsa_type){ 2, 1, 1 });
	check_entry(e, 1, 0, EXPECT_ISSUER, "rsa-chain.pem", &want);
	key_record(&want, "ecdsa.key", (struct tlsa_type){ 3, 1, 1 });
	check_entry(e, 2, 1, EXPECT_CURRENT, "ecdsa-chain.pem", &want);
	check_matches(e);
	expect_free(e);
}

static void
test_issuer_types(void **state)
{
	struct conf_host *h = *state;
	struct tlsa_type types[] = { { 2, 0, 1 }, { 3, 1, 1 } };
	struct tlsa_record want;
	struct expect *e;

	need_certs();
	/* A 2 x x type asked for needs no current+issuer. */
	host_init(h, CONF_ROLLOVER_CURRENT_NEXT);
	host_cert(h, "rsa", "rsa-full.pem", NULL, NULL);
	h->records = types;
	h->nrecords = 2;
	h->issuer_depth = 2;
	e = load_ok(h);
	assert_int_equal(e->nentries, 2);
	key_record(&want, "rsa.key", (struct tlsa_type){ 3, 1, 1 });
	check_entry(e, 0, 0, EXPECT_CURRENT, "rsa-full.pem", &want);
	cert_record(&want, "ca.pem", 0, types[0]);
	check_entry(e, 1, 0, EXPECT_ISSUER, "rsa-full.pem", &want);
	assert_true(has_warning(e, "selector 0"));
	check_matches(e);
	expect_free(e);
}

/*
 * issuers = { ... }: a 2 1 1 for each listed CA besides the chain's own
 * issuer; G4's record classification counts it as expected, not as a
 * candidate to retire; a leaf is refused; current+next refuses the list.
 */
static void
test_issuer_set(void **state)
{
	struct conf_host *h = *state;
	struct tlsa_record want;
	struct tlsa_set set = { NULL, 0, 0 };
	struct cover_record *used;
	struct errbuf err;
	struct expect *e;
	char *list[1];
	const char *msg;
	size_t i;

	need_certs();
	host_init(h, CONF_ROLLOVER_CURRENT_ISSUER);
	host_cert(h, "rsa", "rsa-chain.pem", "rsa.key", NULL);
	/* The root stands for a sibling intermediate: a CA not sent. */
	list[0] = (char *)P("ca.pem");
	h->certs[0].issuers = list;
	h->certs[0].nissuers = 1;
	e = load_ok(h);
	assert_int_equal(e->nwarnings, 0);
	assert_int_equal(e->nentries, 3);
	key_record(&want, "rsa.key", (struct tlsa_type){ 3, 1, 1 });
	check_entry(e, 0, 0, EXPECT_CURRENT, "rsa-chain.pem", &want);
	cert_record(&want, "int.pem", 0, (struct tlsa_type){ 2, 1, 1 });
	check_entry(e, 1, 0, EXPECT_ISSUER, "rsa-chain.pem", &want);
	cert_record(&want, "ca.pem", 0, (struct tlsa_type){ 2, 1, 1 });
	check_entry(e, 2, 0, EXPECT_ISSUER, "ca.pem", &want);
	for (i = 0; i < e->nentries; i++)
		tlsa_set_add(&set, &e->entries[i].rec);
	used = xcalloc(set.n, sizeof(*used));
	assert_int_equal(cover_records(e, &set, used, &err), 0);
	for (i = 0; i < set.n; i++)
		assert_int_equal(used[i].use, COVER_USED);
	free(used);
	tlsa_set_free(&set);
	expect_free(e);

	list[0] = (char *)P("rsa.pem");
	msg = load_fails(h);
	assert_non_null(strstr(msg, "rsa.pem: not a CA"));

	list[0] = (char *)P("ca.pem");
	h->rollover = CONF_ROLLOVER_CURRENT_NEXT;
	msg = load_fails(h);
	assert_non_null(strstr(msg, "issuers is for rollover = current+issuer"));
	h->certs[0].issuers = NULL;
	h->certs[0].nissuers = 0;
}

/* More than 12 records, or an answer above 1232 bytes, warns. */
static void
test_rrset_size(void **state)
{
	struct conf_host *h = *state;
	struct tlsa_type types[] = { { 3, 1, 1 }, { 3, 1, 2 }, { 3, 0, 1 },
	    { 3, 0, 2 }, { 2, 1, 1 }, { 2, 1, 2 }, { 2, 0, 1 }, { 2, 0, 2 } };
	struct expect *e;
	char *list[1];

	need_certs();
	host_init(h, CONF_ROLLOVER_CURRENT_ISSUER);
	host_cert(h, "rsa", "rsa-chain.pem", NULL, NULL);
	host_cert(h, "ecdsa", "ecdsa-chain.pem", NULL, NULL);
	e = load_ok(h);
	assert_false(has_warning(e, "TLSA records: more than 12"));
	assert_false(has_warning(e, "above 1232"));
	expect_free(e);

	h->records = types;
	h->nrecords = sizeof(types) / sizeof(types[0]);
	list[0] = (char *)P("ca.pem");
	h->certs[0].issuers = list;
	h->certs[0].nissuers = 1;
	e = load_ok(h);
	/* 4 + 4 (rsa, int) + 4 (ecdsa) + 4 (ca) */
	assert_int_equal(e->nentries, 16);
	assert_true(has_warning(e, "carries 16 TLSA records: more than 12"));
	assert_true(has_warning(e, "above 1232"));
	expect_free(e);
	h->certs[0].issuers = NULL;
	h->certs[0].nissuers = 0;
}

static void
test_issuer_errors(void **state)
{
	struct conf_host *h = *state;
	const char *msg;
	char *want;

	need_certs();
	host_init(h, CONF_ROLLOVER_CURRENT_ISSUER);
	host_cert(h, "rsa", "rsa.pem", NULL, NULL);
	msg = load_fails(h);
	want = xasprintf("%s has no certificate at depth 1: a 2 x x record "
	    "needs the issuing CA in the chain the server sends",
	    P("rsa.pem"));
	assert_string_equal(msg, want);
	free(want);

	free(h->certs);
	h->certs = NULL;
	h->ncerts = 0;
	host_cert(h, "rsa", "leafonly-as-ca.pem", NULL, NULL);
	msg = load_fails(h);
	assert_non_null(strstr(msg, P("leafonly-as-ca.pem")));
	assert_non_null(strstr(msg, "not a CA"));

	/* Deeper than the chain goes. */
	free(h->certs);
	h->certs = NULL;
	h->ncerts = 0;
	host_cert(h, "rsa", "rsa-chain.pem", NULL, NULL);
	h->issuer_depth = 2;
	msg = load_fails(h);
	assert_non_null(strstr(msg, "has no certificate at depth 2"));
}

static void
test_issuer_name_check(void **state)
{
	struct conf_host *h = *state;
	struct expect *e;

	need_certs();
	host_init(h, CONF_ROLLOVER_CURRENT_ISSUER);
	h->name = (char *)"other.example";
	host_cert(h, "rsa", "rsa-chain.pem", NULL, NULL);
	e = load_ok(h);
	assert_int_equal(e->nentries, 2);
	assert_int_equal(e->nwarnings, 1);
	assert_true(has_warning(e, "does not carry the MX host name "
	    "other.example"));
	expect_free(e);

	/* 3 1 1 alone is not name-checked: no warning. */
	h->rollover = CONF_ROLLOVER_CURRENT_NEXT;
	e = load_ok(h);
	assert_int_equal(e->nwarnings, 0);
	expect_free(e);

	/* An issuer depth without 2 x x records would be silently ignored. */
	h->issuer_depth = 2;
	e = load_ok(h);
	assert_int_equal(e->nwarnings, 1);
	assert_true(has_warning(e, "issuer depth 2 has no effect"));
	expect_free(e);
}

static void
test_no_host(void **state)
{
	struct conf_host *h = *state;
	struct expect *e;
	size_t i;

	need_certs();
	host_init(h, CONF_ROLLOVER_CURRENT_ISSUER);
	h->name = NULL;
	host_cert(h, "rsa", "rsa-chain.pem", "rsa.key", "rsa-next.key");
	e = load_ok(h);
	assert_null(e->host);
	assert_null(e->owner);
	/* current 3 1 1, issuer 2 1 1, next 3 1 1; no owner, no name check */
	assert_int_equal(e->nentries, 3);
	for (i = 0; i < e->nentries; i++)
		assert_null(e->entries[i].rec.owner);
	assert_int_equal(e->nwarnings, 0);
	expect_free(e);
}

static void
test_expired(void **state)
{
	struct conf_host *h = *state;
	struct expect *e;

	need_certs();
	host_init(h, CONF_ROLLOVER_CURRENT_NEXT);
	host_cert(h, "ecdsa", "expired.pem", "expired.key", NULL);
	e = load_ok(h);
	assert_int_equal(e->nentries, 1);
	assert_non_null(e->entries[0].note);
	assert_non_null(strstr(e->entries[0].note, "certificate expired 20"));
	assert_non_null(strstr(e->entries[0].note,
	    ": fine for 3 x x (RFC 7672 section 3.1), but renew it"));
	assert_int_equal(e->nwarnings, 0);
	check_matches(e);
	expect_free(e);

	/* A current certificate gets no note. */
	e = expect_new(h);
	{
		struct certkey_chain *chain = NULL;
		struct errbuf err;

		assert_int_equal(certkey_chain_load(P("rsa.pem"), &chain,
		    &err), 0);
		expect_add_cert(e, NULL, chain, NULL, NULL);
		assert_int_equal(expect_compute(e, time(NULL), &err), 0);
		assert_null(e->entries[0].note);
	}
	expect_free(e);
}

static void
test_key_mismatch(void **state)
{
	struct conf_host *h = *state;
	const char *msg;
	char *want;

	need_certs();
	host_init(h, CONF_ROLLOVER_CURRENT_NEXT);
	host_cert(h, "rsa", "rsa-chain.pem", "rsa-other.key", NULL);
	msg = load_fails(h);
	want = xasprintf("%s does not match the certificate in %s",
	    P("rsa-other.key"), P("rsa-chain.pem"));
	assert_string_equal(msg, want);
	free(want);
}

/*
 * The guard's loader: a key that does not match is the cert's problem
 * (its chain is still there to check), and a section whose chain does
 * not load is listed with its own error while the others load.
 */
static void
test_load_each(void **state)
{
	struct conf_host *h = *state;
	struct expect *e = NULL;
	struct errbuf err;
	char *want;

	need_certs();
	host_init(h, CONF_ROLLOVER_CURRENT_NEXT);
	host_cert(h, "rsa", "rsa-chain.pem", "rsa-other.key", NULL);
	host_cert(h, "ecdsa", "garbage.pem", "ecdsa.key", NULL);
	host_cert(h, "ed25519", "ed25519-chain.pem", "ed25519.key", NULL);
	assert_int_equal(expect_load_each(h, NULL, NULL, time(NULL), &e, &err),
	    0);
	assert_int_equal(e->ncerts, 2);
	assert_string_equal(e->certs[0].name, "rsa");
	want = xasprintf("%s does not match the certificate in %s",
	    P("rsa-other.key"), P("rsa-chain.pem"));
	assert_non_null(e->certs[0].problem);
	assert_string_equal(e->certs[0].problem, want);
	free(want);
	assert_string_equal(e->certs[1].name, "ed25519");
	assert_null(e->certs[1].problem);
	assert_int_equal(e->nfailed, 1);
	assert_string_equal(e->failed[0].name, "ecdsa");
	assert_non_null(strstr(e->failed[0].error, "garbage.pem"));
	/* Both loaded sections have their records. */
	assert_int_equal(e->nentries, 2);
	expect_free(e);
}

static void
run(const char *cmd)
{
	if (system(cmd) != 0)
		fail_msg("%s failed", cmd);
}

/*
 * The per-run cache: two sections naming the same key and issuer files
 * get the same decoded objects (each file decoded once); a key file
 * replaced (another key renamed over it, as a renewal does) is decoded
 * again, and that one is kept in turn; a key read with a passphrase is
 * decoded each time.
 */
static void
test_key_cache(void **state)
{
	struct conf_host *h = *state;
	struct expect_cache *cache;
	struct expect_keys a, b, c, d;
	struct certkey_key *other = NULL;
	struct errbuf err;
	char dir[] = "/tmp/test_expect.XXXXXX", *key, *tmp, *cmd;
	char *list[1];

	need_certs();
	host_init(h, CONF_ROLLOVER_CURRENT_ISSUER);
	assert_non_null(mkdtemp(dir));
	key = xasprintf("%s/k.pem", dir);
	tmp = xasprintf("%s/new.pem", dir);
	cmd = xasprintf("cp '%s' '%s'", P("rsa.key"), key);
	run(cmd);
	free(cmd);
	host_cert(h, "rsa", "rsa-chain.pem", NULL, NULL);
	h->certs[0].key = key;
	list[0] = (char *)P("ca.pem");
	h->certs[0].issuers = list;
	h->certs[0].nissuers = 1;
	host_cert(h, "enc", "rsa-chain.pem", "rsa-enc.key", NULL);
	h->certs[1].passphrase_file = (char *)P("pass.txt");

	cache = expect_cache_new();
	assert_int_equal(expect_keys_load_cached(&h->certs[0], NULL, cache,
	    &a, &err), 0);
	assert_int_equal(expect_keys_load_cached(&h->certs[0], NULL, cache,
	    &b, &err), 0);
	assert_ptr_equal(a.key->pkey, b.key->pkey);
	assert_int_equal(b.nissuers, 1);
	assert_ptr_equal(sk_X509_value(a.issuers[0]->certs, 0),
	    sk_X509_value(b.issuers[0]->certs, 0));
	expect_keys_clear(&b);
	/* Without a cache, each load decodes the file. */
	assert_int_equal(expect_keys_load(&h->certs[0], NULL, &b, &err), 0);
	assert_ptr_not_equal(a.key->pkey, b.key->pkey);
	assert_int_equal(EVP_PKEY_eq(a.key->pkey, b.key->pkey), 1);
	expect_keys_clear(&b);

	/* Renewed: the other key renamed over the file. */
	cmd = xasprintf("cp '%s' '%s' && mv '%s' '%s'", P("rsa-other.key"),
	    tmp, tmp, key);
	run(cmd);
	free(cmd);
	assert_int_equal(expect_keys_load_cached(&h->certs[0], NULL, cache,
	    &c, &err), 0);
	assert_int_equal(certkey_key_load(P("rsa-other.key"), NULL, &other,
	    &err), 0);
	assert_int_equal(EVP_PKEY_eq(c.key->pkey, other->pkey), 1);
	assert_int_equal(EVP_PKEY_eq(c.key->pkey, a.key->pkey), 0);
	assert_int_equal(expect_keys_load_cached(&h->certs[0], NULL, cache,
	    &d, &err), 0);
	assert_ptr_equal(c.key->pkey, d.key->pkey);
	expect_keys_clear(&c);
	expect_keys_clear(&d);

	/* With a passphrase: decoded each time. */
	assert_int_equal(expect_keys_load_cached(&h->certs[1], NULL, cache,
	    &c, &err), 0);
	assert_int_equal(expect_keys_load_cached(&h->certs[1], NULL, cache,
	    &d, &err), 0);
	assert_ptr_not_equal(c.key->pkey, d.key->pkey);
	assert_int_equal(EVP_PKEY_eq(c.key->pkey, d.key->pkey), 1);

	expect_keys_clear(&a);
	expect_keys_clear(&c);
	expect_keys_clear(&d);
	certkey_key_free(other);
	expect_cache_free(cache);
	unlink(key);
	rmdir(dir);
	free(key);
	free(tmp);
}

static void
test_passphrase(void **state)
{
	struct conf_host *h = *state;
	struct expect *e;

	need_certs();
	host_init(h, CONF_ROLLOVER_CURRENT_NEXT);
	host_cert(h, "rsa", "rsa-chain.pem", "rsa-enc.key", NULL);
	h->certs[0].passphrase_file = (char *)P("pass.txt");
	e = load_ok(h);
	assert_int_equal(e->nentries, 1);
	expect_free(e);
	/* Without the passphrase the key cannot be read. */
	h->certs[0].passphrase_file = NULL;
	(void)load_fails(h);
}

static void
test_next_only(void **state)
{
	struct conf_host *h = *state;
	struct certkey_key *next = NULL;
	struct tlsa_record want;
	struct errbuf err;
	struct expect *e;

	need_certs();
	host_init(h, CONF_ROLLOVER_CURRENT_NEXT);
	e = expect_new(h);
	assert_int_equal(certkey_key_load(P("ecdsa-next.pub"), NULL, &next,
	    &err), 0);
	expect_add_cert(e, NULL, NULL, NULL, next);
	assert_int_equal(expect_compute(e, time(NULL), &err), 0);
	assert_string_equal(e->certs[0].name, "ecdsa");
	assert_string_equal(e->certs[0].alg, "ecdsa-p256");
	assert_int_equal(e->nentries, 1);
	key_record(&want, "ecdsa-next.key", (struct tlsa_type){ 3, 1, 1 });
	check_entry(e, 0, 0, EXPECT_NEXT, "ecdsa-next.pub", &want);
	check_matches(e);
	expect_free(e);
}

/*
 * Ten thousand chains whose leaves differ only in their serial number:
 * their 3 1 1 records are all one (the same key), their 3 0 1 records
 * all differ. A dedupe that compares every record with every earlier
 * one would take 50 million comparisons here.
 */
static void
test_many(void **state)
{
	struct tlsa_type types[] = { { 3, 1, 1 }, { 3, 0, 1 } };
	struct conf_host *h = *state;
	struct certkey_chain *chain, *base = NULL;
	struct errbuf err;
	struct expect *e;
	X509 *leaf;
	BIO *bio;
	char *pem;
	long len, i;
	clock_t start;
	double secs;

	need_certs();
	host_init(h, CONF_ROLLOVER_CURRENT_NEXT);
	h->records = types;
	h->nrecords = 2;
	assert_int_equal(certkey_chain_load(P("rsa-chain.pem"), &base, &err),
	    0);
	/* One leaf, re-serialled and written out for each chain. */
	assert_non_null(leaf = X509_dup(certkey_chain_leaf(base)));
	e = expect_new(h);
	for (i = 0; i < 10000; i++) {
		assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(leaf),
		    1000 + i), 1);
		/* Drop the cached encoding (the signature no longer fits). */
		assert_true(i2d_re_X509_tbs(leaf, NULL) > 0);
		assert_non_null(bio = BIO_new(BIO_s_mem()));
		assert_int_equal(PEM_write_bio_X509(bio, leaf), 1);
		len = BIO_get_mem_data(bio, &pem);
		assert_int_equal(certkey_chain_parse((unsigned char *)pem,
		    len, "rsa.pem", 0, &chain, &err), 0);
		expect_add_cert(e, "rsa", chain, NULL, NULL);
		BIO_free(bio);
	}
	X509_free(leaf);
	start = clock();
	assert_int_equal(expect_compute(e, time(NULL), &err), 0);
	secs = (double)(clock() - start) / CLOCKS_PER_SEC;
	assert_int_equal(e->nentries, 10001);
	assert_int_equal(e->entries[0].rec.type.selector, 1);
	for (i = 1; i <= 10000; i++) {
		assert_int_equal(e->entries[i].cert, i - 1);
		assert_int_equal(e->entries[i].rec.type.selector, 0);
	}
	/* About 0.05 s; a quadratic dedupe or a sanitizer build is slower. */
	if (secs > 2.0)
		fail_msg("expect_compute of 10000 chains took %.2f s", secs);
	expect_free(e);
	certkey_chain_free(base);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_default),
		T(test_deterministic),
		T(test_shared_key),
		T(test_pkix_refused),
		T(test_fragile_types),
		T(test_ttl),
		T(test_current_issuer),
		T(test_issuer_types),
		T(test_issuer_errors),
		T(test_issuer_set),
		T(test_rrset_size),
		T(test_issuer_name_check),
		T(test_no_host),
		T(test_expired),
		T(test_key_mismatch),
		T(test_load_each),
		T(test_passphrase),
		T(test_key_cache),
		T(test_next_only),
		T(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
