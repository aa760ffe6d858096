/*
 * duration - spans of time as people write them on a command line and
 * as BIND and NSD write TTLs in zone files: "90" or "90s" (seconds),
 * "15m", "2h", "1d", "1w", and sums of them, largest unit or not:
 * "1h30m", "1d12h". Units in either case.
 */
#ifndef DG_DURATION_H
#define DG_DURATION_H

#include <stddef.h>
#include <time.h>

#include "errbuf.h"

/* The longest span accepted: ten years, so sums with time_t never overflow. */
#define DURATION_MAX (10L * 366 * 86400)

/* duration_span's refusals. */
#define DURATION_BAD	(-1)	/* not a duration */
#define DURATION_BIG	(-2)	/* a duration longer than max */

/*
 * Parse the len bytes at p (not NUL-terminated) into seconds, at most
 * max. Returns 0, DURATION_BAD or DURATION_BIG; *seconds is set only
 * on 0.
 */
int duration_span(const char *p, size_t len, long max, long *seconds);

/*
 * Parse text into seconds, at most DURATION_MAX.
 * Returns 0, or -1 with err set (quoting text, saying what is allowed).
 */
int duration_parse(const char *text, long *seconds, struct errbuf *err);

/*
 * Write seconds as at most two units, largest first ("1d2h", "15m",
 * "1h30m", "45s", "0s") into buf. Negative spans are written as "0s".
 * Returns buf.
 */
char *duration_format(long seconds, char *buf, size_t len);

/*
 * Seconds on CLOCK_MONOTONIC: what intervals, expiries and rate limits
 * are measured in, so that a wall clock set forward or back (NTP
 * stepping, a wrong RTC at boot, an operator's date -s) neither fires
 * them all at once nor holds them for the size of the step. Never shown
 * to people and never stored: time(NULL) is for what is (since, first
 * seen, certificate dates, report days).
 */
time_t duration_clock(void);

#endif
