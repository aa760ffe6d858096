/*
 * Tests for milter/dnscache.c: when answers expire, what counts as a
 * change, lookups without a resolver, and the G7 verdict on each kind of
 * answer (lib/dns classifies; this decides what it means for a host).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "dns.h"
#include "dnscache.h"
#include "tlsa.h"
#include "xalloc.h"

#define OWNER	"_25._tcp.mx1.example.test."
#define NOW	((time_t)1700000000)

/* A 3 1 1 record whose digest is 32 bytes of fill. */
static void
add_tlsa(struct dns_answer *a, unsigned char fill)
{
	unsigned char rdata[35];
	struct tlsa_record rec;

	rdata[0] = 3;
	rdata[1] = 1;
	rdata[2] = 1;
	memset(rdata + 3, fill, 32);
	assert_int_equal(dns_tlsa_from_rdata(rdata, sizeof(rdata), OWNER,
	    a->ttl, &rec, NULL), 0);
	tlsa_set_take(&a->tlsa, &rec);
}

static void
add_addr(struct dns_answer *a, const char *addr)
{
	a->addr = xreallocarray(a->addr, a->naddr + 1, sizeof(*a->addr));
	a->addr[a->naddr++] = xstrdup(addr);
}

static void
answer(struct dns_answer *a, enum dns_status st, long ttl)
{
	dns_answer_init(a);
	a->status = st;
	a->ttl = ttl;
	a->rcode = st == DNS_SERVFAIL ? 2 : st == DNS_NXDOMAIN ? 3 : 0;
	a->havedata = st == DNS_SECURE;
}

static void
test_expiry(void **state)
{
	struct dns_answer a;

	(void)state;
	answer(&a, DNS_SECURE, 3600);
	assert_true(dnscache_expiry(&a, NOW, 60) == NOW + 3600);
	a.ttl = 0;	/* not every tick */
	assert_true(dnscache_expiry(&a, NOW, 60) == NOW + DNSCACHE_TTL_MIN);
	a.ttl = 10L * 86400;
	assert_true(dnscache_expiry(&a, NOW, 60) == NOW + DNSCACHE_TTL_MAX);
	a.ttl = -1;	/* no TTL: like a failure */
	assert_true(dnscache_expiry(&a, NOW, 60) == NOW + 60);
	answer(&a, DNS_NXDOMAIN, 300);	/* negative TTL */
	assert_true(dnscache_expiry(&a, NOW, 60) == NOW + 300);
	answer(&a, DNS_INSECURE, 600);
	assert_true(dnscache_expiry(&a, NOW, 60) == NOW + 600);
	/* Failures, bogus included, are retried sooner than any TTL. */
	answer(&a, DNS_SERVFAIL, 3600);
	assert_true(dnscache_expiry(&a, NOW, 30) == NOW + 30);
	answer(&a, DNS_TIMEOUT, -1);
	assert_true(dnscache_expiry(&a, NOW, 30) == NOW + 30);
	answer(&a, DNS_BOGUS, 3600);
	assert_true(dnscache_expiry(&a, NOW, 30) == NOW + 30);
	answer(&a, DNS_ERROR, -1);
	assert_true(dnscache_expiry(&a, NOW, 0) == NOW + 1);
}

static void
test_put_due_changed(void **state)
{
	struct dnscache *c = dnscache_new(60);
	const struct dns_answer *got;
	struct dns_answer a;

	(void)state;
	assert_true(dnscache_due(c, OWNER, DNS_TYPE_TLSA, NOW));
	assert_null(dnscache_get(c, OWNER, DNS_TYPE_TLSA));
	assert_true(dnscache_next_expiry(c) == (time_t)-1);

	answer(&a, DNS_SECURE, 100);
	add_tlsa(&a, 0xaa);
	add_tlsa(&a, 0xbb);
	assert_int_equal(dnscache_put(c, OWNER, DNS_TYPE_TLSA, &a, NOW), 1);
	assert_int_equal(a.tlsa.n, 0);	/* taken */
	/* Names compare without the final dot and case-blind. */
	got = dnscache_get(c, "_25._TCP.MX1.example.test", DNS_TYPE_TLSA);
	assert_non_null(got);
	assert_int_equal(got->status, DNS_SECURE);
	assert_int_equal(got->tlsa.n, 2);
	assert_null(dnscache_get(c, OWNER, DNS_TYPE_A));
	assert_false(dnscache_due(c, OWNER, DNS_TYPE_TLSA, NOW + 99));
	assert_true(dnscache_due(c, OWNER, DNS_TYPE_TLSA, NOW + 100));
	assert_true(dnscache_next_expiry(c) == NOW + 100);

	/* The same records in another order: no change. */
	answer(&a, DNS_SECURE, 100);
	add_tlsa(&a, 0xbb);
	add_tlsa(&a, 0xaa);
	assert_int_equal(dnscache_put(c, OWNER, DNS_TYPE_TLSA, &a,
	    NOW + 100), 0);
	assert_true(dnscache_next_expiry(c) == NOW + 200);
	/* A record replaced: a change. */
	answer(&a, DNS_SECURE, 100);
	add_tlsa(&a, 0xaa);
	add_tlsa(&a, 0xcc);
	assert_int_equal(dnscache_put(c, OWNER, DNS_TYPE_TLSA, &a,
	    NOW + 200), 1);
	/* The same data gone bogus: a change, and no data kept. */
	answer(&a, DNS_BOGUS, 100);
	a.why = xstrdup("signature expired");
	assert_int_equal(dnscache_put(c, OWNER, DNS_TYPE_TLSA, &a,
	    NOW + 300), 1);
	got = dnscache_get(c, OWNER, DNS_TYPE_TLSA);
	assert_int_equal(got->status, DNS_BOGUS);
	assert_int_equal(got->tlsa.n, 0);
	assert_string_equal(got->why, "signature expired");
	assert_true(dnscache_next_expiry(c) == NOW + 360);

	/* Addresses: a set, order does not matter. */
	answer(&a, DNS_SECURE, 50);
	add_addr(&a, "192.0.2.1");
	add_addr(&a, "192.0.2.2");
	assert_int_equal(dnscache_put(c, "mx1.example.test", DNS_TYPE_A, &a,
	    NOW), 1);
	answer(&a, DNS_SECURE, 50);
	add_addr(&a, "192.0.2.2");
	add_addr(&a, "192.0.2.1");
	assert_int_equal(dnscache_put(c, "mx1.example.test.", DNS_TYPE_A, &a,
	    NOW + 50), 0);
	assert_true(dnscache_next_expiry(c) == NOW + 100);
	dnscache_free(c);
}

static void
test_refresh_without_resolver(void **state)
{
	struct dnscache *c = dnscache_new(60);
	struct dnscache_query q[] = {
		{ OWNER, DNS_TYPE_TLSA },
		{ "mx1.example.test", DNS_TYPE_A },
		{ "mx1.example.test.", DNS_TYPE_A },	/* the same */
	};
	const struct dns_answer *got;
	struct errbuf err;

	(void)state;
	assert_int_equal(dnscache_refresh(c, q, 3, 1000, NOW), 2);
	got = dnscache_get(c, OWNER, DNS_TYPE_TLSA);
	assert_non_null(got);
	assert_int_equal(got->status, DNS_ERROR);
	assert_non_null(strstr(got->why, "no resolver"));
	/* Nothing due yet: nothing looked up, nothing changed. */
	assert_int_equal(dnscache_refresh(c, q, 3, 1000, NOW + 59), 0);
	/* Due again, the same failure: not a change. */
	assert_int_equal(dnscache_refresh(c, q, 3, 1000, NOW + 60), 0);

	/* A trust anchor file that does not exist: the message names it. */
	assert_int_equal(dnscache_set_resolver(c, "/nonexistent/root.key",
	    NULL, NULL, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent/root.key"));
	dnscache_free(c);
}

/*
 * While lookups fail temporarily, the last answer with data is kept for
 * probing (dnscache_get still says the failure, for G7); a timeout
 * after a SERVFAIL is no change; an answer of any kind ends the keeping.
 */
static void
test_kept_while_failing(void **state)
{
	struct dnscache *c = dnscache_new(60);
	const struct dns_answer *got;
	struct dns_answer a;

	(void)state;
	answer(&a, DNS_SERVFAIL, -1);
	assert_int_equal(dnscache_put(c, "mx1.example.test", DNS_TYPE_A, &a,
	    NOW), 1);
	assert_null(dnscache_get_kept(c, "mx1.example.test", DNS_TYPE_A));

	answer(&a, DNS_SECURE, 300);
	add_addr(&a, "192.0.2.1");
	assert_int_equal(dnscache_put(c, "mx1.example.test", DNS_TYPE_A, &a,
	    NOW), 1);
	assert_null(dnscache_get_kept(c, "mx1.example.test", DNS_TYPE_A));

	answer(&a, DNS_TIMEOUT, -1);
	assert_int_equal(dnscache_put(c, "mx1.example.test", DNS_TYPE_A, &a,
	    NOW + 300), 1);
	got = dnscache_get(c, "mx1.example.test", DNS_TYPE_A);
	assert_int_equal(got->status, DNS_TIMEOUT);
	got = dnscache_get_kept(c, "mx1.example.test.", DNS_TYPE_A);
	assert_non_null(got);
	assert_int_equal(got->status, DNS_SECURE);
	assert_int_equal(got->naddr, 1);
	assert_string_equal(got->addr[0], "192.0.2.1");

	/* Another kind of temporary failure: the same answer, still kept. */
	answer(&a, DNS_SERVFAIL, -1);
	assert_int_equal(dnscache_put(c, "mx1.example.test", DNS_TYPE_A, &a,
	    NOW + 360), 0);
	assert_non_null(dnscache_get_kept(c, "mx1.example.test", DNS_TYPE_A));

	/* A proven denial is an answer: nothing kept any more. */
	answer(&a, DNS_NXDOMAIN, 300);
	assert_int_equal(dnscache_put(c, "mx1.example.test", DNS_TYPE_A, &a,
	    NOW + 420), 1);
	assert_null(dnscache_get_kept(c, "mx1.example.test", DNS_TYPE_A));
	answer(&a, DNS_SERVFAIL, -1);
	assert_int_equal(dnscache_put(c, "mx1.example.test", DNS_TYPE_A, &a,
	    NOW + 720), 1);
	assert_null(dnscache_get_kept(c, "mx1.example.test", DNS_TYPE_A));
	dnscache_free(c);
}

/*
 * Many names (the hoster's 1,000 hosts x 3 types): each entry is found
 * again under any spelling tlsa_name_equal takes as the same (case, final
 * dot), none under another type or name, and a refresh looks each
 * (name, type) up once however often a configuration asks for it.
 */
static void
test_many(void **state)
{
	enum { N = 1000 };
	static const int types[3] = { DNS_TYPE_TLSA, DNS_TYPE_A,
	    DNS_TYPE_AAAA };
	struct dnscache *c = dnscache_new(60);
	struct dnscache_query *q;
	const struct dns_answer *got;
	struct dns_answer a;
	char name[64], other[64], *names[N];
	size_t i, t;

	(void)state;
	for (i = 0; i < N; i++) {
		for (t = 0; t < 3; t++) {
			snprintf(name, sizeof(name), "h%05zu.hoster.test", i);
			answer(&a, DNS_SECURE, (long)(100 + i * 3 + t));
			assert_int_equal(dnscache_put(c, name, types[t], &a,
			    NOW), 1);
		}
	}
	for (i = 0; i < N; i++) {
		for (t = 0; t < 3; t++) {
			snprintf(name, sizeof(name), "H%05zu.Hoster.TEST.", i);
			got = dnscache_get(c, name, types[t]);
			assert_non_null(got);
			assert_int_equal(got->ttl, (long)(100 + i * 3 + t));
		}
		snprintf(other, sizeof(other), "h%05zu.hoster.test", i + N);
		assert_null(dnscache_get(c, other, DNS_TYPE_A));
		assert_null(dnscache_get(c, name, 15));
	}
	assert_true(dnscache_next_expiry(c) == NOW + 100);
	dnscache_free(c);

	/* Each name asked for four times, two spellings: N lookups. */
	c = dnscache_new(60);
	q = xcalloc(4 * N, sizeof(*q));
	for (i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "_25._tcp.h%05zu.hoster.test", i);
		names[i] = xstrdup(name);
		q[4 * i].name = names[i];
		q[4 * i + 1].name = OWNER;
		q[4 * i + 2].name = names[i];
		q[4 * i + 3].name = names[(i * 7) % (i + 1)];
		q[4 * i].rrtype = q[4 * i + 1].rrtype = DNS_TYPE_TLSA;
		q[4 * i + 2].rrtype = q[4 * i + 3].rrtype = DNS_TYPE_TLSA;
	}
	assert_int_equal(dnscache_refresh(c, q, 4 * N, 1000, NOW), N + 1);
	for (i = 0; i < N; i++) {
		got = dnscache_get(c, names[i], DNS_TYPE_TLSA);
		assert_non_null(got);
		assert_int_equal(got->status, DNS_ERROR);
		free(names[i]);
	}
	free(q);
	dnscache_free(c);
}

static void
test_g7_tlsa(void **state)
{
	struct dns_answer a;
	char msg[1024];

	(void)state;
	assert_int_equal(dnscache_g7_tlsa(NULL, OWNER, msg, sizeof(msg)),
	    VERDICT_UNKNOWN);

	answer(&a, DNS_SECURE, 3600);
	add_tlsa(&a, 0xaa);
	assert_int_equal(dnscache_g7_tlsa(&a, OWNER, msg, sizeof(msg)),
	    VERDICT_OK);
	assert_non_null(strstr(msg, "secure TLSA RRset"));
	a.skipped = 1;
	assert_int_equal(dnscache_g7_tlsa(&a, OWNER, msg, sizeof(msg)),
	    VERDICT_WARNING);
	dns_answer_clear(&a);
	answer(&a, DNS_SECURE, 3600);
	a.skipped = 2;	/* only malformed records */
	assert_int_equal(dnscache_g7_tlsa(&a, OWNER, msg, sizeof(msg)),
	    VERDICT_CRITICAL);

	answer(&a, DNS_BOGUS, -1);
	a.why = xstrdup("signature crypto failed from 127.0.0.2");
	assert_int_equal(dnscache_g7_tlsa(&a, OWNER, msg, sizeof(msg)),
	    VERDICT_CRITICAL);
	assert_non_null(strstr(msg, "bogus"));
	assert_non_null(strstr(msg, "signature crypto failed"));
	dns_answer_clear(&a);

	answer(&a, DNS_INSECURE, 600);
	a.havedata = 1;
	add_tlsa(&a, 0xaa);
	assert_int_equal(dnscache_g7_tlsa(&a, OWNER, msg, sizeof(msg)),
	    VERDICT_CRITICAL);
	assert_non_null(strstr(msg, "insecure"));
	assert_non_null(strstr(msg, "do not count"));
	dns_answer_clear(&a);

	answer(&a, DNS_NXDOMAIN, 300);
	assert_int_equal(dnscache_g7_tlsa(&a, OWNER, msg, sizeof(msg)),
	    VERDICT_CRITICAL);
	assert_non_null(strstr(msg, "not published"));
	answer(&a, DNS_NODATA, 300);
	assert_int_equal(dnscache_g7_tlsa(&a, OWNER, msg, sizeof(msg)),
	    VERDICT_CRITICAL);

	/* Failures are tempfail: UNKNOWN, and never "not published". */
	answer(&a, DNS_SERVFAIL, -1);
	a.why = xstrdup(OWNER ": rcode 2 (SERVFAIL)");
	assert_int_equal(dnscache_g7_tlsa(&a, OWNER, msg, sizeof(msg)),
	    VERDICT_UNKNOWN);
	assert_non_null(strstr(msg, "tempfail"));
	assert_null(strstr(msg, "not published"));
	dns_answer_clear(&a);
	answer(&a, DNS_TIMEOUT, -1);
	assert_int_equal(dnscache_g7_tlsa(&a, OWNER, msg, sizeof(msg)),
	    VERDICT_UNKNOWN);
	answer(&a, DNS_ERROR, -1);
	assert_int_equal(dnscache_g7_tlsa(&a, OWNER, msg, sizeof(msg)),
	    VERDICT_UNKNOWN);
}

static void
test_g7_addr(void **state)
{
	struct dns_answer a4, a6;
	char msg[1024];

	(void)state;
	answer(&a4, DNS_SECURE, 3600);
	add_addr(&a4, "192.0.2.25");
	answer(&a6, DNS_NODATA, 300);
	assert_int_equal(dnscache_g7_addr(&a4, &a6, "mx1", "A", msg,
	    sizeof(msg)), VERDICT_OK);
	/* No AAAA while there is an A: fine. */
	assert_int_equal(dnscache_g7_addr(&a6, &a4, "mx1", "AAAA", msg,
	    sizeof(msg)), VERDICT_OK);
	/* Neither: nothing to probe. */
	dns_answer_clear(&a4);
	answer(&a4, DNS_NXDOMAIN, 300);
	assert_int_equal(dnscache_g7_addr(&a6, &a4, "mx1", "AAAA", msg,
	    sizeof(msg)), VERDICT_CRITICAL);
	assert_non_null(strstr(msg, "nothing to probe"));

	answer(&a4, DNS_INSECURE, 600);
	a4.havedata = 1;
	add_addr(&a4, "192.0.2.26");
	assert_int_equal(dnscache_g7_addr(&a4, &a6, "mx1", "A", msg,
	    sizeof(msg)), VERDICT_CRITICAL);
	assert_non_null(strstr(msg, "RFC 7672"));
	dns_answer_clear(&a4);

	answer(&a4, DNS_BOGUS, -1);
	assert_int_equal(dnscache_g7_addr(&a4, &a6, "mx1", "A", msg,
	    sizeof(msg)), VERDICT_CRITICAL);
	answer(&a4, DNS_TIMEOUT, -1);
	assert_int_equal(dnscache_g7_addr(&a4, &a6, "mx1", "A", msg,
	    sizeof(msg)), VERDICT_UNKNOWN);
	assert_int_equal(dnscache_g7_addr(NULL, &a6, "mx1", "A", msg,
	    sizeof(msg)), VERDICT_UNKNOWN);
	/* A failed A lookup does not make a missing AAAA critical. */
	assert_int_equal(dnscache_g7_addr(&a6, &a4, "mx1", "AAAA", msg,
	    sizeof(msg)), VERDICT_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_put_due_changed),
		cmocka_unit_test(test_refresh_without_resolver),
		cmocka_unit_test(test_kept_while_failing),
		cmocka_unit_test(test_many),
		cmocka_unit_test(test_g7_tlsa),
		cmocka_unit_test(test_g7_addr),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
