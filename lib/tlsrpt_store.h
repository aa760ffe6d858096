/*
 * tlsrpt_store - the TLS-RPT counts of the last N days, in a directory
 * (state_dir/tlsrpt): per day, reporting organisation, policy domain,
 * policy type, result type, receiving MX host and receiving address, the
 * number of sessions; and the report-ids seen, so that a report that
 * arrives twice (re-sent, delivered to two addresses) counts once.
 *
 * The directory holds TLSRPT_STORE_SHARDS shard files ("00" ... "ff") of
 * text lines, and "lock". A policy's counts go into the shard of its
 * policy domain, the report-id into that of the first policy's domain.
 * Each shard is rewritten atomically (lib/atomicfile), the report-id's
 * last: a report for one domain (the usual case) is one rewrite, so a
 * crash loses it or keeps all of it; of a report for several domains a
 * crash can keep the other domains' counts without the report-id, and
 * a re-sent copy then counts those twice. Writers serialise per shard on
 * a byte-range lock of "lock" (all the shards of a report at once, in
 * ascending order); readers need no lock.
 * Lines (fields separated by tabs, bytes <= 0x20, '%' and 0x7f
 * percent-encoded, an empty field as "-"):
 *	c DAY ORG DOMAIN POLICY-TYPE RESULT MX IP COUNT
 *	i DAY REPORT-ID-DIGEST
 * DAY counts days since 1970 (UTC) of the report's end-datetime (its last
 * second); RESULT "success" holds the summary's successful sessions,
 * "failure" its failed sessions, and every other RESULT a failure-details
 * entry. Entries older than N days are dropped at each rewrite, and a
 * shard holds at most TLSRPT_STORE_MAX_LINES lines: the store is bounded
 * (256 x that) whatever arrives.
 */
#ifndef DG_TLSRPT_STORE_H
#define DG_TLSRPT_STORE_H

#include <time.h>

#include "errbuf.h"
#include "tlsrpt.h"

#define TLSRPT_STORE_SHARDS	256
#define TLSRPT_STORE_MAX_LINES	50000

enum tlsrpt_store_status {
	TLSRPT_STORE_ADDED,	/* counted */
	TLSRPT_STORE_DUPLICATE,	/* its report-id was seen: not counted again */
	TLSRPT_STORE_TOO_OLD	/* ended before the window: not counted */
};

/*
 * Count report r into the store dir (made, mode 0755, when missing) that
 * keeps days days, as seen at now. Returns 0 with *status set, or -1
 * with err naming the file (nothing of r is stored then).
 */
int tlsrpt_store_add(const char *dir, long days,
    const struct tlsrpt_report *r, time_t now,
    enum tlsrpt_store_status *status, struct errbuf *err);

/* One count line, decoded; strings valid during the callback only. */
struct tlsrpt_store_count {
	long day;
	const char *org;
	const char *domain;
	const char *policy_type;	/* "tlsa", "sts", "no-policy-found" */
	const char *result;		/* "success", "failure", or a type */
	const char *mx;			/* "" when not given */
	const char *ip;			/* "" when not given */
	long long count;
};

/* Return non-zero to stop the scan. */
typedef int (*tlsrpt_store_fn)(const struct tlsrpt_store_count *c,
    void *arg);

/*
 * Call fn for each count line of day since_day or later, in every shard
 * (domain NULL), or only for policy domain domain (normalised: lower
 * case, no trailing dot; one shard is read). A store that does not exist
 * is empty. Returns 0, or -1 with err naming the file that cannot be
 * read.
 */
int tlsrpt_store_scan(const char *dir, long since_day, const char *domain,
    tlsrpt_store_fn fn, void *arg, struct errbuf *err);

/* DAY of a time (seconds since 1970, UTC). */
long tlsrpt_store_day(time_t t);

#endif
