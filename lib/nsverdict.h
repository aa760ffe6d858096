/*
 * nsverdict - what one authoritative nameserver address serves, judged:
 * the rules shared by the pre-deploy gate (tlsagen --check --dns) and
 * the guard's G8 (milter/checks_g8.c). Both ask through lib/dnsauth and
 * only render what these functions say.
 *
 * Pure: no I/O, no clock (now is handed in), no DNS.
 *
 * The rules (RFC 7672: a sender's resolver may ask any of the addresses):
 *  - an answer is "validated" when it is secure or a validated denial;
 *    a bogus one fails for every validating sender whose resolver asks
 *    there; an insecure one means the answer is not signed or no trust
 *    anchor covers the zone (the TLSA records do not count); no answer
 *    (timeout, SERVFAIL, no address for the NS name) is unknown, never
 *    "no records";
 *  - G8 CRITICAL: a validated TLSA set at that address that does not
 *    match a chain the MTA serves (or no TLSA set at all), a bogus or
 *    insecure answer; WARNING: its SOA serial has been behind the
 *    highest serial of the zone's addresses for longer than the SOA
 *    refresh (a secondary that stopped transferring); a serial behind
 *    for less is OK with a note (a transfer in progress); UNKNOWN: it
 *    does not answer.
 */
#ifndef DG_NSVERDICT_H
#define DG_NSVERDICT_H

#include <stddef.h>
#include <time.h>

#include <openssl/x509.h>

#include "dnsauth.h"
#include "verdict.h"

enum nsverdict_answer {
	NSVERDICT_VALIDATED,	/* secure data, or a validated denial */
	NSVERDICT_BOGUS,
	NSVERDICT_INSECURE,
	NSVERDICT_UNREACHABLE,	/* no answer, or the NS name has no address */
	NSVERDICT_LOCAL		/* our side: the per-server context failed */
};

/*
 * Classify answer a of server s of zone apex; unless validated, why gets
 * "bogus: ...", "insecure: ..." or "unreachable: ..." (the gate's and
 * G8's wording).
 */
enum nsverdict_answer nsverdict_answer(const struct dnsauth_server *s,
    const struct dns_answer *a, const char *apex, char *why, size_t len);

/*
 * The highest SOA serial (RFC 1982 order) among the servers of z and the
 * SOA refresh that the (first) server serving it gives. Returns 0, or -1
 * when no server gave a serial.
 */
int nsverdict_highest(const struct dnsauth_zone *z, unsigned long *serial,
    unsigned long *refresh);

/* 1 when server s gave a serial below highest (RFC 1982), else 0. */
int nsverdict_behind(const struct dnsauth_server *s, unsigned long highest);

/*
 * The SOA serial part of G8 for server s of z, into buf: "SOA serial N"
 * (or "unknown") and OK when it is not behind the zone's highest; behind
 * since behind_since (-1: unknown, a one-off check such as the gate) a
 * "note: ..." and OK, or WARNING once longer than the SOA refresh. The
 * gate prints the note, G8 adds the whole text to its reason.
 */
enum verdict_state nsverdict_serial(const struct dnsauth_zone *z,
    const struct dnsauth_server *s, time_t behind_since, time_t now,
    char *buf, size_t len);

/* A chain the MTA served (from the guard's sweep): G8 matches it. */
struct nsverdict_chain {
	STACK_OF(X509) *chain;	/* leaf first */
	const char *alg;	/* "rsa-2048", ... for reasons */
};

/*
 * G8 of server s of z: tlsa is its answer for the TLSA RRset at owner
 * (host: the TLSA base domain, for 2 x x name checks), matched against
 * each of the n served chains (none: the set itself cannot be judged,
 * UNKNOWN unless worse is known); behind_since is when it was first
 * seen behind the zone's highest serial (-1: not known to be behind,
 * e.g. a one-off check), judged at now. The reason names the nameserver
 * and its serial.
 */
void nsverdict_g8(const struct dnsauth_zone *z,
    const struct dnsauth_server *s, const struct dns_answer *tlsa,
    const char *owner, const char *host, const struct nsverdict_chain *c,
    size_t n, time_t behind_since, time_t now, struct verdict *v);

#endif
