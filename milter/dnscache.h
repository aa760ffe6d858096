/*
 * dnscache - the guard's DNS: the TLSA RRset of each host and the A/AAAA
 * records of hosts without a probe list, looked up through lib/dns and
 * kept until their TTL runs out; and the G7 verdict on each answer.
 *
 * Lookups run only in the guard's thread (never in a milter callback),
 * all due queries in parallel on one resolver context (dns_lookup_many),
 * each within probe_timeout of when it is sent. Entries are found
 * through a hash index, so a sweep over many hosts costs no more per
 * host than over a few.
 * An answer is kept until its TTL expires (at least DNSCACHE_TTL_MIN, at
 * most DNSCACHE_TTL_MAX seconds); a failure (SERVFAIL, timeout, bogus, a
 * local error) is tried again after the cache's retry interval, so a
 * broken zone is seen to heal soon and a working one is not queried at
 * every sweep.
 *
 * Every "now" and expiry here is duration_clock() seconds (monotonic),
 * not the wall clock: a clock set back an hour must not keep an answer an
 * hour past its TTL, nor one set forward a day expire them all at once.
 *
 * Entries are owned by the cache; pointers from dnscache_get stay valid
 * until the next dnscache_put or dnscache_refresh (the guard thread only
 * reads them between refreshes).
 */
#ifndef DG_DNSCACHE_H
#define DG_DNSCACHE_H

#include <stddef.h>
#include <time.h>

#include "dns.h"
#include "errbuf.h"
#include "state.h"

#define DNSCACHE_TTL_MIN	5
#define DNSCACHE_TTL_MAX	86400

struct dnscache;

struct dnscache_query {
	const char *name;	/* owner name, with or without the final dot */
	int rrtype;		/* DNS_TYPE_TLSA, DNS_TYPE_A, DNS_TYPE_AAAA */
};

/*
 * An empty cache; retry is the number of seconds after which a failed
 * lookup is tried again (at least 1). It has no resolver yet.
 */
struct dnscache *dnscache_new(long retry);

/*
 * Give c its resolver context (dns_ctx_new with these settings; a former
 * one is freed). Returns 0, or -1 with err naming the file or address at
 * fault (c then has no resolver: lookups answer DNS_ERROR with why).
 */
int dnscache_set_resolver(struct dnscache *c, const char *anchor,
    const char *resolver, const char *config, struct errbuf *err);

/*
 * A fresh resolver context with the settings of the last successful
 * dnscache_set_resolver, replacing the current one: libunbound's own
 * cache and its record of unresponsive servers go with it (both are
 * timed on the wall clock). Returns 0, or -1 with err set (the current
 * context is kept).
 */
int dnscache_restart(struct dnscache *c, struct errbuf *err);

void dnscache_free(struct dnscache *c);

/* The cached answer for (name, rrtype), or NULL if none was stored. */
const struct dns_answer *dnscache_get(const struct dnscache *c,
    const char *name, int rrtype);

/*
 * While the lookups of (name, rrtype) fail temporarily (SERVFAIL,
 * timeout, local error), the last secure or insecure answer before the
 * failures (what senders that cached it still use); else NULL. G7
 * judges dnscache_get's answer; this one only says where to probe.
 */
const struct dns_answer *dnscache_get_kept(const struct dnscache *c,
    const char *name, int rrtype);

/* 1 when (name, rrtype) has no entry or its entry expired at now. */
int dnscache_due(const struct dnscache *c, const char *name, int rrtype,
    time_t now);

/*
 * Store ans for (name, rrtype) as of now, taking what it owns (ans is
 * left initialised). Returns 1 when the entry is new or says something
 * else than before (another status, other records or addresses), else 0.
 */
int dnscache_put(struct dnscache *c, const char *name, int rrtype,
    struct dns_answer *ans, time_t now);

/*
 * When an answer obtained at now expires: now + its TTL (clamped to
 * DNSCACHE_TTL_MIN..DNSCACHE_TTL_MAX) for a secure or insecure answer or
 * a proven denial; now + retry for a failure (bogus, servfail, timeout,
 * error) or an answer without a TTL.
 */
time_t dnscache_expiry(const struct dns_answer *ans, time_t now, long retry);

/* The earliest expiry of all entries, or (time_t)-1 when empty. */
time_t dnscache_next_expiry(const struct dnscache *c);

/*
 * Look up every query of q that is due at now, in parallel, each within
 * timeout_ms, and store the answers. Without a resolver (none set) the
 * answers are DNS_ERROR saying so. When one of them is a retry after a
 * temporary failure, the resolver context is restarted first
 * (dnscache_restart), so a resolver that is back is asked at once.
 * Returns how many entries changed (dnscache_put; every temporary
 * failure counts as the same answer).
 */
size_t dnscache_refresh(struct dnscache *c, const struct dnscache_query *q,
    size_t n, int timeout_ms, time_t now);

/*
 * G7 for a host's TLSA answer (ans may be NULL: not looked up): OK for a
 * secure RRset with usable records; CRITICAL for bogus (with the reason),
 * insecure (the records do not count), a proven denial (DANE not
 * published) or a secure RRset without usable record; UNKNOWN for a
 * temporary failure (SERVFAIL, timeout, local error). The message goes
 * to msg.
 */
enum verdict_state dnscache_g7_tlsa(const struct dns_answer *ans,
    const char *owner, char *msg, size_t len);

/*
 * G7 for an A or AAAA answer of a host whose probe addresses come from
 * DNS (type "A" or "AAAA"; other is the answer of the other type, may be
 * NULL). OK for secure records, or a secure denial when the other type
 * has addresses; CRITICAL for bogus, insecure records (RFC 7672 2.2.2:
 * senders skip the TLSA lookup) or no address of either type; UNKNOWN
 * for a temporary failure.
 */
enum verdict_state dnscache_g7_addr(const struct dns_answer *ans,
    const struct dns_answer *other, const char *name, const char *type,
    char *msg, size_t len);

#endif
