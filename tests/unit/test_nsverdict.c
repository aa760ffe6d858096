/*
 * test_nsverdict - the SOA serial rule that the gate (tlsagen --check
 * --dns) and the guard's G8 share (lib/nsverdict.c): the highest serial
 * in RFC 1982 order, and the note or WARNING for an address behind it.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "nsverdict.h"

static struct dnsauth_server servers[3];
static struct dnsauth_zone zone;

/* A zone of three addresses with serials a, b, c (-1: no answer); the
 * one with the highest serial gives refresh r, the others r / 2. */
static void
make(long a, long b, long c, unsigned long r)
{
	static char *names[] = { "ns1.example.test.", "ns2.example.test.",
	    "ns3.example.test." };
	static char *addrs[] = { "192.0.2.1", "192.0.2.2", "2001:db8::3" };
	long serial[3] = { a, b, c };
	size_t i;

	memset(servers, 0, sizeof(servers));
	for (i = 0; i < 3; i++) {
		servers[i].name = names[i];
		servers[i].addr = addrs[i];
		servers[i].serial = serial[i];
		servers[i].soa.serial = serial[i] < 0 ? 0 :
		    (unsigned long)serial[i];
		servers[i].soa.refresh = r / 2;
	}
	zone.apex = "example.test.";
	zone.servers = servers;
	zone.nservers = 3;
}

static void
test_highest(void **state)
{
	unsigned long high = 0, refresh = 0;

	(void)state;
	make(7, 9, 8, 3600);
	servers[1].soa.refresh = 3600;
	assert_int_equal(nsverdict_highest(&zone, &high, &refresh), 0);
	assert_int_equal(high, 9);
	assert_int_equal(refresh, 3600);
	assert_int_equal(nsverdict_behind(&servers[0], high), 1);
	assert_int_equal(nsverdict_behind(&servers[1], high), 0);

	/* RFC 1982: 5 follows 4294967295 (the serial wrapped). */
	make(4294967295L, 5, -1, 7200);
	servers[1].soa.refresh = 7200;
	assert_int_equal(nsverdict_highest(&zone, &high, &refresh), 0);
	assert_int_equal(high, 5);
	assert_int_equal(refresh, 7200);
	assert_int_equal(nsverdict_behind(&servers[0], high), 1);
	assert_int_equal(nsverdict_behind(&servers[2], high), 0);

	make(-1, -1, -1, 3600);
	assert_int_equal(nsverdict_highest(&zone, &high, &refresh), -1);
}

static void
test_serial(void **state)
{
	char buf[512];
	time_t now = 1000000;

	(void)state;
	make(9, 10, -1, 7200);
	servers[1].soa.refresh = 3600;

	/* The highest: its serial, OK, no note. */
	assert_int_equal(nsverdict_serial(&zone, &servers[1], -1, now, buf,
	    sizeof(buf)), VERDICT_OK);
	assert_string_equal(buf, "SOA serial 10");
	/* No answer: unknown. */
	assert_int_equal(nsverdict_serial(&zone, &servers[2], -1, now, buf,
	    sizeof(buf)), VERDICT_OK);
	assert_string_equal(buf, "SOA serial unknown");
	/* Behind, for how long unknown (the gate): a note naming the
	 * refresh of the address serving the highest serial. */
	assert_int_equal(nsverdict_serial(&zone, &servers[0], -1, now, buf,
	    sizeof(buf)), VERDICT_OK);
	assert_non_null(strstr(buf, "note: SOA serial 9 behind the highest "
	    "10 (a single check cannot tell"));
	assert_non_null(strstr(buf, "SOA refresh, 1h,"));
	/* Behind for the refresh exactly: still a note. */
	assert_int_equal(nsverdict_serial(&zone, &servers[0], now - 3600,
	    now, buf, sizeof(buf)), VERDICT_OK);
	assert_non_null(strstr(buf, "note: SOA serial 9 behind the highest "
	    "10 for 1h, within the SOA refresh (1h)"));
	/* Longer: WARNING naming the nameserver. */
	assert_int_equal(nsverdict_serial(&zone, &servers[0], now - 3601,
	    now, buf, sizeof(buf)), VERDICT_WARNING);
	assert_non_null(strstr(buf, "SOA serial 9 lags the highest 10"));
	assert_non_null(strstr(buf, "is ns1.example.test. still "
	    "transferring the zone?"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_highest),
		cmocka_unit_test(test_serial),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
