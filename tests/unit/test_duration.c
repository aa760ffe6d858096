/*
 * test_duration - lib/duration.c: the units tlsagen --min-age accepts,
 * what it refuses (with a message quoting the text), and the short
 * form the gate prints for "how long still".
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "duration.h"

static long
parse_ok(const char *text)
{
	struct errbuf err;
	long v = -1;

	assert_int_equal(duration_parse(text, &v, &err), 0);
	return v;
}

static void
test_units(void **state)
{
	(void)state;
	assert_int_equal(parse_ok("90"), 90);
	assert_int_equal(parse_ok("90s"), 90);
	assert_int_equal(parse_ok("15m"), 900);
	assert_int_equal(parse_ok("2h"), 7200);
	assert_int_equal(parse_ok("1d"), 86400);
	assert_int_equal(parse_ok("0"), 0);
	assert_int_equal(parse_ok("007m"), 420);
	/* The zone-file forms (BIND, NSD): weeks, sums, either case. */
	assert_int_equal(parse_ok("1w"), 604800);
	assert_int_equal(parse_ok("1h30m"), 5400);
	assert_int_equal(parse_ok("1H30M"), 5400);
	assert_int_equal(parse_ok("30m1h"), 5400);
	assert_int_equal(parse_ok("1h30"), 3630);
}

static void
test_refused(void **state)
{
	static const char *bad[] = {
		"", "s", "-5", "+5", "1.5h", "5 m", "5mm", "5y", "h5", "1hh",
		" 5", "5 ", "99999999999999999999", "4000d", "3000d1000d"
	};
	struct errbuf err;
	size_t i;
	long v;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 12345;
		memset(&err, 0, sizeof(err));
		assert_int_equal(duration_parse(bad[i], &v, &err), -1);
		assert_int_equal(v, 12345);
		assert_non_null(strstr(err.msg, bad[i]));
	}
	duration_parse("5y", &v, &err);
	assert_non_null(strstr(err.msg, "90, 90s, 15m, 2h, 1d"));
}

static void
test_limits(void **state)
{
	struct errbuf err;
	long v;
	char buf[32];

	(void)state;
	snprintf(buf, sizeof(buf), "%ld", DURATION_MAX);
	assert_int_equal(parse_ok(buf), DURATION_MAX);
	snprintf(buf, sizeof(buf), "%ld", DURATION_MAX + 1);
	assert_int_equal(duration_parse(buf, &v, &err), -1);
	assert_non_null(strstr(err.msg, "too long"));
}

static void
test_format(void **state)
{
	char buf[32];

	(void)state;
	assert_string_equal(duration_format(0, buf, sizeof(buf)), "0s");
	assert_string_equal(duration_format(-7, buf, sizeof(buf)), "0s");
	assert_string_equal(duration_format(45, buf, sizeof(buf)), "45s");
	assert_string_equal(duration_format(900, buf, sizeof(buf)), "15m");
	assert_string_equal(duration_format(5400, buf, sizeof(buf)), "1h30m");
	assert_string_equal(duration_format(5415, buf, sizeof(buf)), "1h30m");
	assert_string_equal(duration_format(93600, buf, sizeof(buf)), "1d2h");
	assert_string_equal(duration_format(86700, buf, sizeof(buf)), "1d5m");
	assert_string_equal(duration_format(7200, buf, sizeof(buf)), "2h");
	/* Too small a buffer: truncated, still a string. */
	assert_string_equal(duration_format(5400, buf, 3), "1h");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_units),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_format),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
