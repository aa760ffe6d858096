/*
 * test_dnshealth - the rules of G9 (lib/dnshealth.c) at their edges, and
 * the one TTL advice that tlsagen and the guard share.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dnshealth.h"

#define DAY 86400L

static void
test_expiry(void **state)
{
	long w = DNSHEALTH_WARNING_DEFAULT, c = DNSHEALTH_CRITICAL_DEFAULT;

	(void)state;
	assert_int_equal(dnshealth_expiry(30 * DAY, 3600, w, c), VERDICT_OK);
	assert_int_equal(dnshealth_expiry(3 * DAY, 3600, w, c), VERDICT_OK);
	assert_int_equal(dnshealth_expiry(3 * DAY - 1, 3600, w, c),
	    VERDICT_WARNING);
	assert_int_equal(dnshealth_expiry(DAY, 3600, w, c), VERDICT_WARNING);
	assert_int_equal(dnshealth_expiry(DAY - 1, 3600, w, c),
	    VERDICT_CRITICAL);
	assert_int_equal(dnshealth_expiry(-5, 3600, w, c), VERDICT_CRITICAL);
	/* A resolver keeps what it fetched for a TTL: 2 x TTL early. */
	assert_int_equal(dnshealth_warn_at(3 * DAY, w), 6 * DAY);
	assert_int_equal(dnshealth_warn_at(3600, w), w);
	assert_int_equal(dnshealth_warn_at(-1, w), w);
	assert_int_equal(dnshealth_expiry(5 * DAY, 3 * DAY, w, c),
	    VERDICT_WARNING);
	assert_int_equal(dnshealth_expiry(6 * DAY, 3 * DAY, w, c),
	    VERDICT_OK);
	/* Long signatures and short TTLs are healthy. */
	assert_int_equal(dnshealth_expiry(60 * DAY, 60, w, c), VERDICT_OK);
	/* Configured thresholds. */
	assert_int_equal(dnshealth_expiry(2 * DAY, 3600, 36 * 3600, 3600),
	    VERDICT_OK);
	assert_int_equal(dnshealth_expiry(1800, 60, 36 * 3600, 3600),
	    VERDICT_CRITICAL);
}

static void
test_soa_expire(void **state)
{
	(void)state;
	assert_int_equal(dnshealth_soa_expire(10 * DAY, 14 * DAY),
	    VERDICT_WARNING);
	assert_int_equal(dnshealth_soa_expire(14 * DAY, 14 * DAY),
	    VERDICT_WARNING);
	assert_int_equal(dnshealth_soa_expire(14 * DAY + 1, 14 * DAY),
	    VERDICT_OK);
	assert_int_equal(dnshealth_soa_expire(DAY, -1), VERDICT_OK);
}

static void
test_ds(void **state)
{
	(void)state;
	/* One DS, its key signs the DNSKEY RRset. */
	assert_int_equal(dnshealth_ds(1, 1, 1, 0), VERDICT_OK);
	/* A roll: a second DS for a key published, not signing yet. */
	assert_int_equal(dnshealth_ds(2, 2, 1, 0), VERDICT_OK);
	/* A roll: a DS for a key not (or no longer) published. */
	assert_int_equal(dnshealth_ds(2, 1, 1, 0), VERDICT_OK);
	/* No DS names a key. */
	assert_int_equal(dnshealth_ds(1, 0, 0, 0), VERDICT_CRITICAL);
	/* The key is there but does not sign the DNSKEY RRset. */
	assert_int_equal(dnshealth_ds(1, 1, 0, 0), VERDICT_CRITICAL);
	/* Digest types we cannot compute. */
	assert_int_equal(dnshealth_ds(2, 0, 0, 2), VERDICT_UNKNOWN);
	assert_int_equal(dnshealth_ds(2, 0, 0, 1), VERDICT_CRITICAL);
	assert_int_equal(dnshealth_ds(0, 0, 0, 0), VERDICT_UNKNOWN);
}

static void
test_ttl_advice(void **state)
{
	char buf[512];

	(void)state;
	assert_int_equal(dnshealth_ttl_advice(3600, 3600, buf, sizeof(buf)),
	    0);
	assert_string_equal(buf, "");
	assert_int_equal(dnshealth_ttl_advice(1800, -1, buf, sizeof(buf)), 0);
	assert_int_equal(dnshealth_ttl_advice(1799, -1, buf, sizeof(buf)), 1);
	assert_non_null(strstr(buf, "TTL 1799 is below 1800"));
	assert_non_null(strstr(buf, "1800-3600 is recommended"));
	assert_int_equal(dnshealth_ttl_advice(3601, -1, buf, sizeof(buf)), 1);
	assert_non_null(strstr(buf, "TTL 3601 is above 3600"));
	/* The zone's refresh follows the TLSA TTL. */
	assert_int_equal(dnshealth_ttl_advice(1800, 3600, buf, sizeof(buf)),
	    1);
	assert_non_null(strstr(buf, "SOA REFRESH 3600 is longer than the "
	    "TLSA TTL 1800"));
	assert_int_equal(dnshealth_ttl_advice(3600, 900, buf, sizeof(buf)),
	    0);
	assert_int_equal(dnshealth_ttl_advice(-1, 86400, buf, sizeof(buf)),
	    0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_soa_expire),
		cmocka_unit_test(test_ds),
		cmocka_unit_test(test_ttl_advice),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
