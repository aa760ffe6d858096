/*
 * test_dnswire - the two parsers of lib/dnswire.c that read data from
 * DNS answers: wire-format names (NS rdata) and the SOA serial, with
 * the malformed inputs a hostile or broken server could send.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "dnswire.h"

static void
test_names(void **state)
{
	static const unsigned char ns1[] = "\3NS1\7Example\4test";
	static const unsigned char odd[] = "\3a.b\2\\x\0";
	static const unsigned char root[] = { 0 };
	char out[1025];
	size_t used;

	(void)state;
	assert_int_equal(dnswire_name(ns1, sizeof(ns1), &used, out,
	    sizeof(out)), 0);
	assert_string_equal(out, "ns1.example.test.");
	assert_int_equal(used, sizeof(ns1));
	assert_int_equal(dnswire_name(root, 1, &used, out, sizeof(out)),
	    0);
	assert_string_equal(out, ".");
	assert_int_equal(used, 1);
	assert_int_equal(dnswire_name(odd, 8, &used, out, sizeof(out)),
	    0);
	assert_string_equal(out, "a\\046b.\\092x.");
}

static void
test_bad_names(void **state)
{
	static const unsigned char trunc[] = { 3, 'a', 'b' };
	static const unsigned char noend[] = { 1, 'a' };
	static const unsigned char ptr[] = { 0xc0, 12 };
	static const unsigned char big[] = { 64 };
	unsigned char longname[300];
	char out[1025], small[4];
	size_t used, i;

	(void)state;
	assert_int_equal(dnswire_name(trunc, sizeof(trunc), &used, out,
	    sizeof(out)), -1);
	assert_int_equal(dnswire_name(noend, sizeof(noend), &used, out,
	    sizeof(out)), -1);
	assert_int_equal(dnswire_name(ptr, sizeof(ptr), &used, out,
	    sizeof(out)), -1);
	assert_int_equal(dnswire_name(big, sizeof(big), &used, out,
	    sizeof(out)), -1);
	assert_int_equal(dnswire_name(trunc, 0, &used, out,
	    sizeof(out)), -1);
	/* 5 labels of 63: 320 octets, over the 255 limit. */
	for (i = 0; i + 64 <= sizeof(longname); i += 64) {
		longname[i] = 63;
		memset(longname + i + 1, 'a', 63);
	}
	longname[i] = 0;
	assert_int_equal(dnswire_name(longname, sizeof(longname), &used,
	    out, sizeof(out)), -1);
	/* Does not fit the output. */
	assert_int_equal(dnswire_name((const unsigned char *)"\3abc",
	    5, &used, small, sizeof(small)), -1);
}

static void
test_soa(void **state)
{
	static const unsigned char soa[] =
	    "\3ns1\4test\0" "\4root\4test\0"
	    "\x78\x9a\xbc\xde" "\0\0\x0e\x10" "\0\0\x03\x84" "\0\x09\x3a\x80"
	    "\0\0\x0e\x10";
	unsigned long serial = 0;

	(void)state;
	assert_int_equal(dnswire_soa_serial(soa, sizeof(soa) - 1, &serial),
	    0);
	assert_int_equal(serial, 0x789abcdeUL);
	{
		struct dnswire_soa f;

		assert_int_equal(dnswire_soa(soa, sizeof(soa) - 1, &f), 0);
		assert_int_equal(f.serial, 0x789abcdeUL);
		assert_int_equal(f.refresh, 3600);
		assert_int_equal(f.retry, 900);
		assert_int_equal(f.expire, 604800);
		assert_int_equal(f.minimum, 3600);
	}
	/* One byte short, one byte too many, a broken name. */
	assert_int_equal(dnswire_soa_serial(soa, sizeof(soa) - 2, &serial),
	    -1);
	assert_int_equal(dnswire_soa_serial(soa, sizeof(soa), &serial), -1);
	assert_int_equal(dnswire_soa_serial((const unsigned char *)"\7ns",
	    3, &serial), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_soa),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
