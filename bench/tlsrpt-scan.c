/*
 * tlsrpt-scan - lookup times of a TLS-RPT store (lib/tlsrpt_store), for
 * bench/tlsrpt-bench.sh:
 *
 *	tlsrpt-scan STORE DOMAIN-PREFIX N ROUNDS
 *
 * looks up ROUNDS policy domains PREFIX<i>.example (i spread over 1..N)
 * one by one (one shard read each), then scans the whole store the way
 * G10 does (every shard, the last day) ROUNDS/100 times, and prints the
 * mean time of each and the lines seen.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tlsrpt.h"
#include "tlsrpt_store.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
count_fn(const struct tlsrpt_store_count *c, void *arg)
{
	(void)c;
	(*(long *)arg)++;
	return 0;
}

static int
g10_fn(const struct tlsrpt_store_count *c, void *arg)
{
	if (tlsrpt_result_is_dane(c->result) && strcmp(c->mx,
	    "mx1.hoster.example") == 0)
		*(long long *)arg += c->count;
	return 0;
}

int
main(int argc, char *argv[])
{
	struct errbuf err;
	char name[256];
	long n, rounds, i, lines = 0, found = 0;
	long long failed = 0;
	long since = tlsrpt_store_day(time(NULL)) - 1;
	double t0, look, scan;
	int full;

	if (argc != 5) {
		fprintf(stderr, "usage: tlsrpt-scan STORE PREFIX N ROUNDS\n");
		return 2;
	}
	n = atol(argv[3]);
	rounds = atol(argv[4]);
	t0 = now_s();
	for (i = 0; i < rounds; i++) {
		lines = 0;
		snprintf(name, sizeof(name), "%s%ld.example", argv[2],
		    1 + (i * 7919) % n);
		if (tlsrpt_store_scan(argv[1], 0, name, count_fn, &lines,
		    &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		found += lines > 0;
	}
	look = (now_s() - t0) / (double)rounds;
	full = rounds / 100 > 0 ? (int)(rounds / 100) : 1;
	t0 = now_s();
	for (i = 0; i < full; i++) {
		failed = 0;
		if (tlsrpt_store_scan(argv[1], since, NULL, g10_fn, &failed,
		    &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
	}
	scan = (now_s() - t0) / full;
	lines = 0;
	tlsrpt_store_scan(argv[1], 0, NULL, count_fn, &lines, &err);
	printf("lookup_ms %.3f found %ld/%ld\n", look * 1000, found, rounds);
	printf("g10_scan_ms %.1f failed %lld\n", scan * 1000, failed);
	printf("lines %ld\n", lines);
	return 0;
}
