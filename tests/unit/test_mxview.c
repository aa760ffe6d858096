/*
 * test_mxview - the rules of a mail domain's MX view (lib/mxview.c): the
 * MX RRset as senders see it, this machine's hosts among its targets,
 * two MX hosts serving one key.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "mxview.h"
#include "xalloc.h"

/* An MX answer with status st and the targets of names (NULL-ended). */
static void
mx_answer(struct dns_answer *a, enum dns_status st, const char **names)
{
	dns_answer_init(a);
	a->status = st;
	for (; names != NULL && *names != NULL; names++) {
		a->mx = xreallocarray(a->mx, a->nmx + 1, sizeof(*a->mx));
		a->mxpref = xreallocarray(a->mxpref, a->nmx + 1,
		    sizeof(*a->mxpref));
		a->mx[a->nmx] = xstrdup(*names);
		a->mxpref[a->nmx] = 10 * (unsigned)(a->nmx + 1);
		a->nmx++;
	}
}

static void
test_rrset(void **state)
{
	const char *two[] = { "mx1.example.org", "mx2.example.net", NULL };
	const char *null[] = { "", NULL };
	struct dns_answer a;
	struct verdict v;

	(void)state;
	mx_answer(&a, DNS_SECURE, two);
	mxview_rrset("example.org", &a, &v);
	assert_int_equal(v.state, VERDICT_OK);
	assert_non_null(strstr(v.reason, "mx1.example.org (10), "
	    "mx2.example.net (20)"));
	dns_answer_clear(&a);

	mx_answer(&a, DNS_INSECURE, two);
	mxview_rrset("example.org", &a, &v);
	assert_int_equal(v.state, VERDICT_WARNING);
	assert_non_null(strstr(v.reason, "DANE is not in force for mail to "
	    "example.org"));
	dns_answer_clear(&a);

	mx_answer(&a, DNS_BOGUS, NULL);
	a.why = xstrdup("signature expired");
	mxview_rrset("example.org", &a, &v);
	assert_int_equal(v.state, VERDICT_CRITICAL);
	assert_non_null(strstr(v.reason, "bogus (signature expired)"));
	dns_answer_clear(&a);

	mx_answer(&a, DNS_SECURE, null);
	mxview_rrset("example.org", &a, &v);
	assert_int_equal(v.state, VERDICT_OK);
	assert_non_null(strstr(v.reason, "null MX"));
	dns_answer_clear(&a);

	mx_answer(&a, DNS_NODATA, NULL);
	mxview_rrset("example.org", &a, &v);
	assert_int_equal(v.state, VERDICT_WARNING);
	dns_answer_clear(&a);

	/* A failure is never taken for an absence. */
	mx_answer(&a, DNS_SERVFAIL, NULL);
	mxview_rrset("example.org", &a, &v);
	assert_int_equal(v.state, VERDICT_UNKNOWN);
	dns_answer_clear(&a);
	mx_answer(&a, DNS_TIMEOUT, NULL);
	mxview_rrset("example.org", &a, &v);
	assert_int_equal(v.state, VERDICT_UNKNOWN);
	dns_answer_clear(&a);
	mxview_rrset("example.org", NULL, &v);
	assert_int_equal(v.state, VERDICT_UNKNOWN);
}

static void
test_targets(void **state)
{
	const char *two[] = { "mx1.example.org", "mx2.example.net", NULL };
	const char *mine[] = { "MX1.example.org.", "mx3.example.org" };
	struct dns_answer a;
	struct verdict v;

	(void)state;
	mx_answer(&a, DNS_SECURE, two);
	assert_true(mxview_is_target(&a, "mx2.example.net."));
	assert_false(mxview_is_target(&a, "example.net"));
	/* Listed: each must be a target. */
	mxview_targets("example.org", &a, mine, 1, 1, &v);
	assert_int_equal(v.state, VERDICT_OK);
	mxview_targets("example.org", &a, mine, 2, 1, &v);
	assert_int_equal(v.state, VERDICT_WARNING);
	assert_non_null(strstr(v.reason, "mx3.example.org is not among"));
	/* Not listed: one is enough, none is a WARNING. */
	mxview_targets("example.org", &a, mine, 2, 0, &v);
	assert_int_equal(v.state, VERDICT_OK);
	mxview_targets("example.org", &a, mine + 1, 1, 0, &v);
	assert_int_equal(v.state, VERDICT_WARNING);
	dns_answer_clear(&a);
	/* Nothing to judge without targets. */
	mx_answer(&a, DNS_BOGUS, NULL);
	mxview_targets("example.org", &a, mine, 1, 1, &v);
	assert_int_equal(v.state, VERDICT_UNKNOWN);
	assert_false(mxview_is_target(&a, "mx1.example.org"));
	dns_answer_clear(&a);
}

static void
test_shared(void **state)
{
	struct mxview_key k[4];
	struct verdict v;

	(void)state;
	memset(k, 0, sizeof(k));
	k[0].host = "mx1.example.org";
	k[0].spki[0] = 1;
	k[1].host = "mx1.example.org";	/* the same host again (IPv6) */
	k[1].spki[0] = 1;
	k[2].host = "mx2.example.org";
	k[2].spki[0] = 2;
	mxview_shared("example.org", k, 3, &v);
	assert_int_equal(v.state, VERDICT_OK);
	k[3].host = "mx2.example.org";	/* mx2 also serves mx1's key */
	k[3].spki[0] = 1;
	mxview_shared("example.org", k, 4, &v);
	assert_int_equal(v.state, VERDICT_WARNING);
	assert_non_null(strstr(v.reason, "mx1.example.org and "
	    "mx2.example.org (key 0100000000000000"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rrset),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_shared),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
