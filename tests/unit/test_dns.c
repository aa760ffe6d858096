/*
 * test_dns - lib/dns.c's classification of libunbound's answers, the
 * rule the guard and the gate build on (LAB.md): secure first, then
 * bogus (which still carries data and rcode 0: never used), then the
 * rcode (SERVFAIL and REFUSED are tempfails, never "insecure"), else
 * insecure; and the TLSA rdata it accepts. The answers are struct
 * ub_result values made here; lookups against real NSD and unbound are
 * tests/lab/dns-lab.sh's. dns_classify is static, so this file includes
 * dns.c.
 */
#include "../../lib/dns.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

/* One TLSA record 3 1 1 with 32 bytes of 0xab, and a malformed one. */
static char tlsa_ok[35], tlsa_short[20];
static int lens[3];
static char *datas[3];

static void
result(struct ub_result *r, int secure, int bogus, int rcode, int nxdomain,
    int ndata)
{
	memset(r, 0, sizeof(*r));
	memset(tlsa_ok, 0xab, sizeof(tlsa_ok));
	tlsa_ok[0] = 3;
	tlsa_ok[1] = 1;
	tlsa_ok[2] = 1;
	memset(tlsa_short, 0xcd, sizeof(tlsa_short));
	tlsa_short[0] = 3;
	tlsa_short[1] = 1;
	tlsa_short[2] = 1;
	datas[0] = tlsa_ok;
	lens[0] = sizeof(tlsa_ok);
	datas[1] = tlsa_short;
	lens[1] = sizeof(tlsa_short);
	datas[2] = NULL;
	lens[2] = 0;
	r->secure = secure;
	r->bogus = bogus;
	r->rcode = rcode;
	r->nxdomain = nxdomain;
	r->havedata = ndata > 0;
	r->ttl = 300;
	if (ndata > 0) {
		datas[ndata] = NULL;
		r->data = datas;
		r->len = lens;
	}
	r->why_bogus = bogus ? "signature expired" : NULL;
}

static void
classify(struct ub_result *r, struct dns_answer *a)
{
	dns_answer_init(a);
	dns_classify(a, r, "_25._tcp.mx1.example.test.", DNS_TYPE_TLSA);
}

static void
test_secure(void **state)
{
	struct ub_result r;
	struct dns_answer a;

	(void)state;
	result(&r, 1, 0, 0, 0, 2);
	classify(&r, &a);
	assert_int_equal(a.status, DNS_SECURE);
	assert_int_equal(a.tlsa.n, 1);		/* the good one */
	assert_int_equal(a.skipped, 1);		/* the short one left out */
	assert_int_equal(a.tlsa.v[0].len, 32);
	assert_int_equal(a.tlsa.v[0].data[0], 0xab);
	assert_int_equal(a.tlsa.v[0].ttl, 300);
	dns_answer_clear(&a);

	result(&r, 1, 0, 3, 1, 0);
	classify(&r, &a);
	assert_int_equal(a.status, DNS_NXDOMAIN);
	dns_answer_clear(&a);

	result(&r, 1, 0, 0, 0, 0);
	classify(&r, &a);
	assert_int_equal(a.status, DNS_NODATA);
	assert_int_equal(a.tlsa.n, 0);
	dns_answer_clear(&a);
}

/* Bogus wins over data and rcode 0; the data is not used. */
static void
test_bogus(void **state)
{
	struct ub_result r;
	struct dns_answer a;

	(void)state;
	result(&r, 0, 1, 0, 0, 1);
	classify(&r, &a);
	assert_int_equal(a.status, DNS_BOGUS);
	assert_int_equal(a.tlsa.n, 0);
	assert_string_equal(a.why, "signature expired");
	dns_answer_clear(&a);

	result(&r, 0, 1, 0, 0, 1);
	r.why_bogus = NULL;
	classify(&r, &a);
	assert_int_equal(a.status, DNS_BOGUS);
	assert_non_null(strstr(a.why, "val-log-level"));
	dns_answer_clear(&a);
}

/* SERVFAIL and REFUSED have neither flag and are no "insecure". */
static void
test_tempfail(void **state)
{
	struct ub_result r;
	struct dns_answer a;

	(void)state;
	result(&r, 0, 0, 2, 0, 0);
	classify(&r, &a);
	assert_int_equal(a.status, DNS_SERVFAIL);
	assert_non_null(strstr(a.why, "rcode 2 (SERVFAIL)"));
	dns_answer_clear(&a);

	result(&r, 0, 0, 5, 0, 0);
	classify(&r, &a);
	assert_int_equal(a.status, DNS_SERVFAIL);
	assert_non_null(strstr(a.why, "(REFUSED)"));
	dns_answer_clear(&a);
}

static void
test_insecure(void **state)
{
	struct ub_result r;
	struct dns_answer a;

	(void)state;
	result(&r, 0, 0, 0, 0, 1);
	classify(&r, &a);
	assert_int_equal(a.status, DNS_INSECURE);
	assert_int_equal(a.tlsa.n, 1);		/* kept, but not secure */
	assert_int_equal(a.havedata, 1);
	dns_answer_clear(&a);

	result(&r, 0, 0, 3, 1, 0);
	classify(&r, &a);
	assert_int_equal(a.status, DNS_INSECURE);
	assert_int_equal(a.nxdomain, 1);
	dns_answer_clear(&a);
}

static void
test_rdata(void **state)
{
	unsigned char rd[3 + 64];
	struct tlsa_record rec;
	struct errbuf err;

	(void)state;
	memset(rd, 0x11, sizeof(rd));
	rd[0] = 3;
	rd[1] = 1;
	rd[2] = 2;
	assert_int_equal(dns_tlsa_from_rdata(rd, 3 + 64, "x.", 60, &rec, &err),
	    0);
	assert_int_equal(rec.len, 64);
	assert_int_equal(rec.type.mtype, 2);
	tlsa_record_clear(&rec);
	/* SHA-512 with 32 bytes, SHA-256 with 64, nothing at all */
	assert_int_equal(dns_tlsa_from_rdata(rd, 3 + 32, "x.", 60, &rec, &err),
	    -1);
	assert_non_null(strstr(err.msg, "expected 64"));
	rd[2] = 1;
	assert_int_equal(dns_tlsa_from_rdata(rd, 3 + 64, "x.", 60, &rec, &err),
	    -1);
	assert_int_equal(dns_tlsa_from_rdata(rd, 3, "x.", 60, &rec, &err), -1);
	/* matching type 0: any length */
	rd[2] = 0;
	assert_int_equal(dns_tlsa_from_rdata(rd, 3 + 5, "x.", 60, &rec, &err),
	    0);
	assert_int_equal(rec.len, 5);
	tlsa_record_clear(&rec);
}

/*
 * MX rdata: exchanges in order of preference (ties in answer order),
 * lower case without the final dot, the null MX as ""; rdata that is
 * short, compressed or has bytes after the name is skipped.
 */
static void
test_mx(void **state)
{
	static const char mx20[] = "\0\24\3MX2\7example\4test";
	static const char mx10[] = "\0\12\3mx1\7example\4test";
	static const char mx10b[] = "\0\12\3mx3\7example\4test";
	static const char null[] = "\0\0";
	static const char ptr[] = "\0\12\300\14";
	static const char tail[] = "\0\12\1a\0x";
	char *d[] = { (char *)mx20, (char *)mx10, (char *)mx10b, NULL };
	int l[] = { sizeof(mx20), sizeof(mx10), sizeof(mx10b) };
	char *bad[] = { (char *)null, (char *)ptr, (char *)tail, NULL };
	int bl[] = { 1, sizeof(ptr) - 1, sizeof(tail) - 1 };
	char *nd[] = { (char *)null, NULL };
	int nl[] = { 3 };
	struct ub_result r;
	struct dns_answer a;

	(void)state;
	memset(&r, 0, sizeof(r));
	r.secure = 1;
	r.havedata = 1;
	r.data = d;
	r.len = l;
	dns_answer_init(&a);
	dns_classify(&a, &r, "example.test", DNS_TYPE_MX);
	assert_int_equal(a.status, DNS_SECURE);
	assert_int_equal(a.nmx, 3);
	assert_string_equal(a.mx[0], "mx1.example.test");
	assert_string_equal(a.mx[1], "mx3.example.test");
	assert_string_equal(a.mx[2], "mx2.example.test");
	assert_int_equal(a.mxpref[0], 10);
	assert_int_equal(a.mxpref[2], 20);
	dns_answer_clear(&a);

	r.data = bad;
	r.len = bl;
	dns_classify(&a, &r, "example.test", DNS_TYPE_MX);
	assert_int_equal(a.nmx, 0);
	assert_int_equal(a.skipped, 3);
	dns_answer_clear(&a);

	r.data = nd;
	r.len = nl;
	dns_classify(&a, &r, "example.test", DNS_TYPE_MX);
	assert_int_equal(a.nmx, 1);
	assert_string_equal(a.mx[0], "");
	dns_answer_clear(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secure),
		cmocka_unit_test(test_bogus),
		cmocka_unit_test(test_tempfail),
		cmocka_unit_test(test_insecure),
		cmocka_unit_test(test_rdata),
		cmocka_unit_test(test_mx),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
