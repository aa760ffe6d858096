/*
 * stats_listener.h - what the unit tests of milter/stats.c and
 * milter/callbacks.c read back from the counters. Include after cmocka.h
 * and stats.h.
 */
#ifndef TEST_STATS_LISTENER_H
#define TEST_STATS_LISTENER_H

#include <stdlib.h>
#include <string.h>

/* A copy of one listener's counters; fails the test if it is missing. */
static struct stats_listener
listener(const char *addr, unsigned port)
{
	struct stats_listener *all, found;
	size_t n, i;

	n = stats_snapshot(&all);
	for (i = 0; i < n; i++)
		if (all[i].port == port && strcmp(all[i].addr, addr) == 0)
			break;
	if (i == n) {
		free(all);
		fail_msg("no listener %s port %u counted", addr, port);
	}
	found = all[i];
	free(all);
	return found;
}

/* Whether the counters have a listener addr port. */
static int
has_listener(const char *addr, unsigned port)
{
	struct stats_listener *all;
	size_t n, i;
	int found = 0;

	n = stats_snapshot(&all);
	for (i = 0; i < n; i++)
		if (all[i].port == port && strcmp(all[i].addr, addr) == 0)
			found = 1;
	free(all);
	return found;
}

#endif
