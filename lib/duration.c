/*
 * duration - see duration.h.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"

int
duration_parse(const char *text, long *seconds, struct errbuf *err)
{
	const char *p = text;
	long v = 0, unit;

	if (!isdigit((unsigned char)*p))
		goto bad;
	for (; isdigit((unsigned char)*p); p++) {
		v = v * 10 + (*p - '0');
		if (v > DURATION_MAX)
			goto big;
	}
	switch (*p) {
	case '\0':
	case 's':	unit = 1; break;
	case 'm':	unit = 60; break;
	case 'h':	unit = 3600; break;
	case 'd':	unit = 86400; break;
	default:	goto bad;
	}
	if (*p != '\0' && p[1] != '\0')
		goto bad;
	if (v > DURATION_MAX / unit)
		goto big;
	*seconds = v * unit;
	return 0;
bad:
	errbuf_set(err, "'%s': not a duration; write a number of seconds, "
	    "optionally with a unit: 90, 90s, 15m, 2h, 1d", text);
	return -1;
big:
	errbuf_set(err, "'%s': too long a duration (at most ten years)", text);
	return -1;
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
