/*
 * duration - see duration.h.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "duration.h"

int
duration_span(const char *p, size_t len, long max, long *seconds)
{
	long total = 0, n, unit;
	size_t i = 0, start;

	if (len == 0)
		return DURATION_BAD;
	while (i < len) {
		start = i;
		for (n = 0; i < len && p[i] >= '0' && p[i] <= '9'; i++) {
			n = n * 10 + (p[i] - '0');
			if (n > max)
				return DURATION_BIG;
		}
		if (i == start)
			return DURATION_BAD;
		unit = 1;
		if (i < len) {
			switch (p[i++]) {
			case 'w': case 'W':	unit = 604800; break;
			case 'd': case 'D':	unit = 86400; break;
			case 'h': case 'H':	unit = 3600; break;
			case 'm': case 'M':	unit = 60; break;
			case 's': case 'S':	unit = 1; break;
			default:		return DURATION_BAD;
			}
		}
		if (n > (max - total) / unit)
			return DURATION_BIG;
		total += n * unit;
	}
	*seconds = total;
	return 0;
}

int
duration_parse(const char *text, long *seconds, struct errbuf *err)
{
	switch (duration_span(text, strlen(text), DURATION_MAX, seconds)) {
	case 0:
		return 0;
	case DURATION_BIG:
		errbuf_set(err, "'%s': too long a duration (at most ten years)",
		    text);
		return -1;
	default:
		errbuf_set(err, "'%s': not a duration; write a number of "
		    "seconds, optionally with units: 90, 90s, 15m, 2h, 1d, "
		    "1w, 1h30m", text);
		return -1;
	}
}

char *
duration_format(long seconds, char *buf, size_t len)
{
	static const struct { long secs; char unit; } units[] = {
		{ 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' }
	};
	size_t i, used = 0;
	int parts = 0, n;

	if (len == 0)
		return buf;
	buf[0] = '\0';
	if (seconds <= 0) {
		snprintf(buf, len, "0s");
		return buf;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]) && parts < 2; i++) {
		if (seconds < units[i].secs)
			continue;
		n = snprintf(buf + used, len - used, "%ld%c",
		    seconds / units[i].secs, units[i].unit);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
		seconds %= units[i].secs;
		parts++;
		if (seconds == 0)
			break;
	}
	return buf;
}

time_t
duration_clock(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) < 0)
		return 0;	/* not on Linux: CLOCK_MONOTONIC always exists */
	return ts.tv_sec;
}
