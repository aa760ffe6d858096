/*
 * duration - spans of time as people write them on a command line:
 * "90" or "90s" (seconds), "15m", "2h", "1d".
 */
#ifndef DG_DURATION_H
#define DG_DURATION_H

#include <stddef.h>

#include "errbuf.h"

/* The longest span accepted: ten years, so sums with time_t never overflow. */
#define DURATION_MAX (10L * 366 * 86400)

/*
 * Parse text (digits and an optional unit s, m, h or d) into seconds.
 * Returns 0, or -1 with err set (quoting text, saying what is allowed).
 */
int duration_parse(const char *text, long *seconds, struct errbuf *err);

/*
 * Write seconds as at most two units, largest first ("1d2h", "15m",
 * "1h30m", "45s", "0s") into buf. Negative spans are written as "0s".
 * Returns buf.
 */
char *duration_format(long seconds, char *buf, size_t len);

#endif
