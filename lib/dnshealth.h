/*
 * dnshealth - the rules of check G9 ("DNSSEC stays valid"), apart from
 * how the facts are gathered, so that each rule is one tested function:
 * how soon an RRSIG may expire, whether the parent's DS still names a
 * key of the zone, whether signatures outlive the SOA EXPIRE of a
 * secondary cut off from its primary, and the TTL advice that tlsagen
 * and the guard both give (one rule, one function).
 */
#ifndef DG_DNSHEALTH_H
#define DG_DNSHEALTH_H

#include <stddef.h>

#include "state.h"

/* Defaults of rrsig_warning and rrsig_critical (daneguard.conf(5)). */
#define DNSHEALTH_WARNING_DEFAULT	(3L * 86400)
#define DNSHEALTH_CRITICAL_DEFAULT	86400L

/* The TLSA TTL range the DANE how-to recommends: 30 min to 1 h. */
#define DNSHEALTH_TTL_MIN	1800L
#define DNSHEALTH_TTL_MAX	3600L

/*
 * An RRset whose earliest RRSIG expires left seconds from now (negative:
 * expired) and whose TTL is ttl: CRITICAL below critical, WARNING below
 * dnshealth_warn_at, else OK. A resolver may keep the RRset for its TTL
 * after fetching it, so the warning comes at least two TTLs early.
 */
enum verdict_state dnshealth_expiry(long left, long ttl, long warning,
    long critical);

/* max(warning, 2 x ttl): where dnshealth_expiry starts to warn. */
long dnshealth_warn_at(long ttl, long warning);

/*
 * Signatures whose earliest expiration is left seconds away, in a zone
 * whose SOA EXPIRE is soa_expire: WARNING when left is not longer (a
 * secondary that loses its primary keeps serving the zone for EXPIRE
 * seconds, and would serve expired signatures), else OK. OK when
 * soa_expire is negative (unknown).
 */
enum verdict_state dnshealth_soa_expire(long left, long soa_expire);

/*
 * The parent's DS RRset against the zone's keys: nds DS records of
 * which nmatch name a DNSKEY the zone serves, nsigning of those with an
 * RRSIG over the DNSKEY RRset, nunknown of an unsupported digest type.
 * CRITICAL when no DS names a key that signs the DNSKEY RRset (senders
 * see the zone bogus: a KSK roll gone wrong), UNKNOWN when no DS can be
 * checked, OK otherwise (a DS of a second, not yet signing KSK during a
 * roll is fine while another one signs).
 */
enum verdict_state dnshealth_ds(size_t nds, size_t nmatch, size_t nsigning,
    size_t nunknown);

/*
 * The TTL advice: a TLSA ttl outside DNSHEALTH_TTL_MIN..MAX, and (when
 * soa_refresh >= 0) an SOA REFRESH longer than the TLSA TTL (a secondary
 * would serve a replaced record longer than senders cache it: the zone's
 * refresh should follow the TLSA TTL). Writes one line of advice into
 * buf and returns 1, or returns 0 (buf "") when there is none; ttl < 0
 * is unknown.
 */
int dnshealth_ttl_advice(long ttl, long soa_refresh, char *buf, size_t len);

#endif
