/*
 * test_stats - milter/stats.c: address normalisation across the Postfix
 * and sendmail spellings, counting per listener and TLS version, the
 * probes' own sessions left out, the plaintext queue (deduplicated,
 * bounded, oldest first, waited on), and exact totals when four threads
 * count at once.
 *
 * stats.c keeps process-wide state, so every test uses listeners of its
 * own and drains the plaintext queue before and after.
 */
#include "config.h"

#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "stats.h"
#include "stats_listener.h"

#define PROBE_HELO	"daneguard-probe.mx1.example.test"

static long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static int
drain(void)
{
	struct stats_plaintext p;
	int n = 0;

	while (stats_take_plaintext(&p))
		n++;
	return n;
}

static int
setup(void **state)
{
	(void)state;
	stats_init(PROBE_HELO);
	drain();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	drain();
	return 0;
}

static void
test_normalise(void **state)
{
	static const struct {
		const char *in;
		const char *out;	/* NULL: must fail */
	} cases[] = {
		{ "127.0.0.1", "127.0.0.1" },
		{ "[192.0.2.1]", "192.0.2.1" },
		{ "::1", "::1" },
		{ "IPv6:::1", "::1" },				/* Postfix */
		{ "ipv6:::1", "::1" },
		{ "IPv6:0:0:0:0:0:0:0:1", "::1" },		/* sendmail */
		{ "[IPv6:0:0:0:0:0:0:0:1]", "::1" },
		{ "2001:DB8:0:0:0:0:0:10", "2001:db8::10" },
		{ "2001:db8:0000:0000:1:0:0:1", "2001:db8::1:0:0:1" },
		{ "2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1" },
		{ "::ffff:192.0.2.7", "192.0.2.7" },		/* v4-mapped */
		{ "IPv6:::ffff:192.0.2.7", "192.0.2.7" },
		{ "IPv6:0:0:0:0:0:ffff:c000:207", "192.0.2.7" },
		{ "0.0.0.0", "0.0.0.0" },
		{ "", NULL },
		{ "[]", NULL },
		{ "IPv6:", NULL },
		{ "localhost", NULL },
		{ "192.0.2.256", NULL },
		{ "192.0.2.1:25", NULL },
		{ "fe80::1%eth0", NULL },
		{ "[192.0.2.1", NULL },
		{ "unknown", NULL },
		{ "2001:db8::1::2", NULL },
		{ "IPv6:IPv6:::1", NULL },
	};
	char buf[STATS_ADDR_MAX], small[8];
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(buf, 'x', sizeof(buf));
		rc = stats_normalise_addr(cases[i].in, buf, sizeof(buf));
		if (cases[i].out == NULL) {
			if (rc != -1)
				fail_msg("\"%s\": accepted as \"%s\"",
				    cases[i].in, buf);
			continue;
		}
		if (rc != 0)
			fail_msg("\"%s\": refused", cases[i].in);
		if (strcmp(buf, cases[i].out) != 0)
			fail_msg("\"%s\": \"%s\", want \"%s\"", cases[i].in,
			    buf, cases[i].out);
	}
	assert_int_equal(stats_normalise_addr(NULL, buf, sizeof(buf)), -1);
	/* too small for the answer: refused, not truncated */
	assert_int_equal(stats_normalise_addr("2001:db8::10", small,
	    sizeof(small)), -1);
	assert_int_equal(stats_normalise_addr("1.2.3.4", small,
	    sizeof(small)), 0);
	assert_string_equal(small, "1.2.3.4");
}

static void
test_count(void **state)
{
	struct stats_listener l;

	(void)state;
	/* Postfix and sendmail spellings of one listener are one listener. */
	stats_session("::1", "2525", "IPv6:::1", "a.example", "TLSv1.3");
	stats_session("IPv6:0:0:0:0:0:0:0:1", "2525",
	    "IPv6:0:0:0:0:0:0:0:1", "b.example", "TLSv1.3");
	stats_session("[IPv6:::1]", "2525", "::1", "c.example", "TLSv1.2");
	stats_session("::1", "2525", "192.0.2.9", "d.example", NULL);
	stats_session("::1", "2525", "192.0.2.9", "d.example", "");
	stats_session("::1", "2525", "192.0.2.9", "d.example", "TLSv1");
	stats_session("::1", "2525", "192.0.2.9", "d.example", "TLSv1.1");
	stats_session("::1", "2525", "192.0.2.9", "d.example", "SSLv3");
	stats_session("::1", "2525", "192.0.2.9", "d.example", "unknown");
	l = listener("::1", 2525);
	assert_int_equal(l.sessions, 9);
	assert_int_equal(l.tls, 7);
	assert_int_equal(l.plaintext, 2);
	assert_int_equal(l.versions[STATS_TLS_1_3], 2);
	assert_int_equal(l.versions[STATS_TLS_1_2], 1);
	assert_int_equal(l.versions[STATS_TLS_1_1], 1);
	assert_int_equal(l.versions[STATS_TLS_1_0], 1);
	assert_int_equal(l.versions[STATS_TLS_OTHER], 2);

	/* Same address, another port: another listener. */
	stats_session("::1", "2526", NULL, NULL, "TLSv1.3");
	l = listener("::1", 2526);
	assert_int_equal(l.sessions, 1);
	assert_int_equal(l.tls, 1);
	assert_int_equal(listener("::1", 2525).sessions, 9);

	/* A v4-mapped listener is the IPv4 one. */
	stats_session("::ffff:127.0.0.2", "25", NULL, NULL, "TLSv1.3");
	stats_session("127.0.0.2", "25", NULL, NULL, NULL);
	l = listener("127.0.0.2", 25);
	assert_int_equal(l.sessions, 2);
	assert_int_equal(l.tls, 1);
	assert_int_equal(l.plaintext, 1);

	/* Unknown or unreadable listeners count under "" and port 0. */
	stats_session(NULL, NULL, "192.0.2.1", NULL, NULL);
	stats_session("not-an-address", "x", "192.0.2.1", NULL, "TLSv1.3");
	stats_session("127.0.0.3", "99999", NULL, NULL, "TLSv1.3");
	l = listener("", 0);
	assert_true(l.sessions >= 2);
	l = listener("127.0.0.3", 0);
	assert_int_equal(l.sessions, 1);
}

/* sendmail's {daemon_flags} and {daemon_name}. */
static void
test_sendmail_daemon(void **state)
{
	struct stats_session_info si;
	struct stats_listener l;

	(void)state;
	/* op.me: upper-case modifiers doubled, blank-separated */
	assert_int_equal(stats_daemon_no_starttls("SS"), 1);
	assert_int_equal(stats_daemon_no_starttls("EE SS a"), 1);
	assert_int_equal(stats_daemon_no_starttls("s"), 0);	/* SMTPS */
	assert_int_equal(stats_daemon_no_starttls("EE a"), 0);
	assert_int_equal(stats_daemon_no_starttls(""), 0);
	assert_int_equal(stats_daemon_no_starttls(NULL), 0);

	memset(&si, 0, sizeof(si));
	si.daemon_addr = "IPv6:0:0:0:0:0:0:0:1";
	si.daemon_port = "587";
	si.client_addr = "IPv6:2001:db8:0:0:0:0:0:66";
	si.helo = "c.example";
	si.daemon_name = "MSA-v6";
	si.daemon_flags = "EE SS";
	stats_count_session(&si);
	stats_count_session(&si);
	l = listener("::1", 587);
	assert_int_equal(l.sessions, 2);
	assert_int_equal(l.plaintext, 2);
	assert_int_equal(l.no_starttls, 2);
	assert_int_equal(l.no_starttls_latest, 1);
	assert_string_equal(l.name, "MSA-v6");

	/* The daemon fixed: counted, no longer the latest; name kept. */
	si.daemon_flags = "EE";
	si.daemon_name = NULL;
	si.tls_version = "TLSv1.3";
	stats_count_session(&si);
	l = listener("::1", 587);
	assert_int_equal(l.sessions, 3);
	assert_int_equal(l.tls, 1);
	assert_int_equal(l.no_starttls, 2);
	assert_int_equal(l.no_starttls_latest, 0);
	assert_string_equal(l.name, "MSA-v6");

	/* stats_session knows no daemon flags */
	stats_session("192.0.2.25", "25", "192.0.2.9", "d.example", NULL);
	l = listener("192.0.2.25", 25);
	assert_int_equal(l.no_starttls, 0);
	assert_string_equal(l.name, "");
}

static void
test_probe_not_counted(void **state)
{
	struct stats_plaintext p;

	(void)state;
	stats_session("127.0.0.4", "25", "127.0.0.1", PROBE_HELO, "TLSv1.3");
	stats_session("127.0.0.4", "25", "127.0.0.1",
	    "DANEGUARD-PROBE.mx1.example.test", NULL);
	assert_false(has_listener("127.0.0.4", 25));
	assert_int_equal(stats_take_plaintext(&p), 0);

	/* Another name is a client like any other. */
	stats_session("127.0.0.4", "25", "127.0.0.1", "mx1.example.test",
	    NULL);
	assert_int_equal(listener("127.0.0.4", 25).sessions, 1);
	assert_int_equal(stats_take_plaintext(&p), 1);

	/* A new name from stats_init replaces the old one. */
	stats_init("other-probe.example");
	stats_session("127.0.0.5", "25", NULL, "other-probe.example", NULL);
	stats_session("127.0.0.5", "25", NULL, PROBE_HELO, NULL);
	assert_int_equal(listener("127.0.0.5", 25).sessions, 1);
	stats_init(PROBE_HELO);
}

static void
test_queue(void **state)
{
	struct stats_plaintext p;
	char client[32];
	int i;

	(void)state;
	/* Deduplicated by listener and client, oldest first. */
	stats_session("127.0.0.6", "25", "IPv6:2001:db8::66", NULL, NULL);
	stats_session("127.0.0.6", "25", "2001:db8:0:0:0:0:0:66", NULL, NULL);
	stats_session("127.0.0.6", "25", "192.0.2.66", NULL, NULL);
	stats_session("127.0.0.6", "587", "192.0.2.66", NULL, NULL);
	stats_session("127.0.0.6", "25", "192.0.2.66", NULL, "TLSv1.3");
	/* nobody to impersonate, or no listener to probe: not queued */
	stats_session("127.0.0.6", "25", NULL, NULL, NULL);
	stats_session(NULL, "25", "192.0.2.67", NULL, NULL);
	stats_session("127.0.0.6", NULL, "192.0.2.68", NULL, NULL);
	assert_int_equal(listener("127.0.0.6", 25).plaintext, 4);

	assert_int_equal(stats_take_plaintext(&p), 1);
	assert_string_equal(p.listener, "127.0.0.6");
	assert_int_equal(p.port, 25);
	assert_string_equal(p.client, "2001:db8::66");
	assert_int_equal(stats_take_plaintext(&p), 1);
	assert_string_equal(p.client, "192.0.2.66");
	assert_int_equal(p.port, 25);
	assert_int_equal(stats_take_plaintext(&p), 1);
	assert_string_equal(p.client, "192.0.2.66");
	assert_int_equal(p.port, 587);
	assert_int_equal(stats_take_plaintext(&p), 0);

	/* Taken entries may be queued again. */
	stats_session("127.0.0.6", "25", "192.0.2.66", NULL, NULL);
	assert_int_equal(drain(), 1);

	/* Bounded: 300 distinct clients keep the oldest 256. */
	for (i = 0; i < 300; i++) {
		snprintf(client, sizeof(client), "10.0.%d.%d", i / 256,
		    i % 256);
		stats_session("127.0.0.7", "25", client, NULL, NULL);
	}
	assert_int_equal(listener("127.0.0.7", 25).plaintext, 300);
	assert_int_equal(stats_take_plaintext(&p), 1);
	assert_string_equal(p.client, "10.0.0.0");
	for (i = 1; i < 256; i++)
		assert_int_equal(stats_take_plaintext(&p), 1);
	assert_string_equal(p.client, "10.0.0.255");
	assert_int_equal(stats_take_plaintext(&p), 0);
}

static void *
push_later(void *arg)
{
	struct timespec ts = { 0, 150 * 1000000L };

	(void)arg;
	nanosleep(&ts, NULL);
	stats_session("127.0.0.8", "25", "192.0.2.88", NULL, NULL);
	return NULL;
}

static void
test_wait(void **state)
{
	pthread_t tid;
	long t0, dt;

	(void)state;
	/* empty: waits about the timeout */
	t0 = now_ms();
	stats_wait_plaintext(200);
	dt = now_ms() - t0;
	assert_true(dt >= 190);
	assert_true(dt < 25000);	/* a hang, not a speed limit */

	/*
	 * not empty: returns without waiting for the timeout (30 s: a wait
	 * that ran out would show; no bound on how quick "at once" is)
	 */
	stats_session("127.0.0.8", "25", "192.0.2.87", NULL, NULL);
	t0 = now_ms();
	stats_wait_plaintext(30000);
	assert_true(now_ms() - t0 < 25000);
	assert_int_equal(drain(), 1);

	/*
	 * woken by a session queued while waiting (or queued just before,
	 * on a busy machine): either way long before the 30 s timeout
	 */
	assert_int_equal(pthread_create(&tid, NULL, push_later, NULL), 0);
	t0 = now_ms();
	stats_wait_plaintext(30000);
	dt = now_ms() - t0;
	pthread_join(tid, NULL);
	assert_true(dt < 25000);
	assert_int_equal(drain(), 1);

	/* a TLS session wakes nobody */
	stats_session("127.0.0.8", "25", "192.0.2.89", NULL, "TLSv1.3");
	t0 = now_ms();
	stats_wait_plaintext(100);
	assert_true(now_ms() - t0 >= 90);
	assert_int_equal(drain(), 0);
}

#define THREADS		4
#define PER_THREAD	20000

static void *
count_many(void *arg)
{
	int n = *(int *)arg, i;
	char client[32];

	for (i = 0; i < PER_THREAD; i++) {
		snprintf(client, sizeof(client), "10.%d.%d.%d", n,
		    (i / 256) % 256, i % 256);
		/* two spellings of the same listener, three kinds of session */
		stats_session(i % 2 ? "IPv6:2001:db8::25" : "2001:db8::25",
		    "25", client, "c.example",
		    i % 3 == 0 ? NULL : i % 3 == 1 ? "TLSv1.2" : "TLSv1.3");
		if (i % 7 == 0)
			stats_session("2001:db8::25", "25", client,
			    PROBE_HELO, NULL);
	}
	return NULL;
}

static void
test_threads(void **state)
{
	pthread_t tid[THREADS];
	int ids[THREADS], i, expected_plain = 0, expected_12 = 0,
	    expected_13 = 0;
	struct stats_listener l;

	(void)state;
	for (i = 0; i < PER_THREAD; i++) {
		if (i % 3 == 0)
			expected_plain++;
		else if (i % 3 == 1)
			expected_12++;
		else
			expected_13++;
	}
	for (i = 0; i < THREADS; i++) {
		ids[i] = i + 1;
		assert_int_equal(pthread_create(&tid[i], NULL, count_many,
		    &ids[i]), 0);
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(tid[i], NULL);
	l = listener("2001:db8::25", 25);
	assert_int_equal(l.sessions, THREADS * PER_THREAD);
	assert_int_equal(l.plaintext, THREADS * expected_plain);
	assert_int_equal(l.tls, THREADS * (expected_12 + expected_13));
	assert_int_equal(l.versions[STATS_TLS_1_2], THREADS * expected_12);
	assert_int_equal(l.versions[STATS_TLS_1_3], THREADS * expected_13);
	assert_int_equal(l.versions[STATS_TLS_OTHER], 0);
	/* the queue kept its bound under concurrent pushes */
	assert_int_equal(drain(), 256);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_normalise, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_count, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sendmail_daemon, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_probe_not_counted, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_queue, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_threads, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
