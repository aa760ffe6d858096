/*
 * dnsauth - the authoritative nameservers of a name's zone, asked one by
 * one (tlsagen --check --dns, the pre-deploy gate).
 *
 * A resolver answers from whichever nameserver it happened to ask, and
 * from its cache: it cannot tell whether every nameserver already serves
 * a new record. So the zone holding a name is found through the
 * validating resolver (walking up the labels asking for SOA), then its NS
 * RRset and every A and AAAA of every NS name; each address is then asked
 * directly, all in parallel, through a libunbound context of its own with
 * a stub for the zone pointing at that address alone (no recursion
 * desired; answers validated from the same trust anchors as the main
 * context, with the zone's DNSKEY fetched from that same server).
 * Validation costs a signature check per answer and address, and the
 * addresses of a zone mostly serve the same bytes: the first address is
 * asked validating, the others at the same time through contexts that
 * validate nothing; an answer that is the same message as the
 * first address's (records, RRSIGs, denial proofs; TTLs aside), from an
 * address whose DNSKEY RRset is the same message too, takes its status;
 * an address with any other answer is asked again, validating.
 */
#ifndef DG_DNSAUTH_H
#define DG_DNSAUTH_H

#include <stddef.h>

#include "dns.h"
#include "dnswire.h"
#include "errbuf.h"

/* How to make the per-server contexts (as for dns_ctx_new). */
struct dnsauth_settings {
	const char *anchor;
	const char *resolver;
	const char *config;
	int timeout_ms;		/* per query */
};

struct dnsauth_server {
	char *name;		/* NS name, "ns1.example.com." */
	char *addr;		/* numeric address; NULL: the name has none */
	char *why;		/* no address or no answer: why; else NULL */
	struct dns_answer tlsa;	/* dnsauth_query: the TLSA answer of this
				 * address alone */
	long serial;		/* its SOA serial; -1 if unknown */
	enum dns_status soa_status;	/* how its apex SOA was classified */
	struct dnswire_soa soa;	/* its SOA numbers, when serial >= 0 */
	/* dnsauth_ask: the answer (and rdata) to each question, in order */
	struct dns_answer *ans;
	struct dns_rdata *rd;
	size_t nans;
};

/* One question to every address (dnsauth_ask). */
struct dnsauth_question {
	const char *name;
	int rrtype;
	int want_packet;	/* 1: ans[k].packet gets the raw answer, bogus
				 * included (G9 reads its RRSIGs); dnsauth_ask
				 * keeps every answer's, it compares them */
};

struct dnsauth_zone {
	char *apex;		/* "example.com." */
	enum dns_status soa;	/* how the apex SOA was classified */
	struct dnsauth_server *servers;	/* NS names sorted; A before AAAA */
	size_t nservers;
	size_t nvalidating;	/* dnsauth_ask: addresses asked through a
				 * validating context */
};

/*
 * Find the zone that holds name through ctx: its apex (the closest
 * enclosing name with an SOA record), its NS RRset and the addresses of
 * every NS name (an NS name without any address gets one entry with addr
 * NULL and why set). Returns 0 with z filled, or -1 with err naming
 * name (and the lookup that failed): no zone, bogus or failed lookups,
 * an empty NS RRset. z is freed with dnsauth_zone_free in both cases.
 */
int dnsauth_find(struct dns_ctx *ctx, const char *name, int timeout_ms,
    struct dnsauth_zone *z, struct errbuf *err);

/*
 * dnsauth_find for the n names of names at once, into z[i] and err[i]
 * (each z[i] freed with dnsauth_zone_free): the lookups of all names run
 * in one batch per step (SOA level by level, then the NS RRsets, then
 * every NS address), so many names cost about what one does. A name that
 * failed has z[i].apex NULL and err[i] set. Returns how many failed.
 */
size_t dnsauth_find_many(struct dns_ctx *ctx, const char *const *names,
    size_t n, int timeout_ms, struct dnsauth_zone *z, struct errbuf *err);

/*
 * Ask every server of z that has an address, in parallel (each through
 * its own context: see above), for the zone's SOA and for every question
 * of q, all at once: a dead server costs one timeout. Fills each
 * server's serial, soa, soa_status, ans[k] and rd[k] (the answer to
 * q[k]; nans = nq; a server without address or context gets DNS_ERROR
 * answers) and, on failure, why. q must outlive the call only.
 * The G8 pass asks the TLSA RRsets of every host of a zone here; more
 * questions (RRSIGs, DNSKEY) go in the same batch.
 */
void dnsauth_ask(struct dnsauth_zone *z, const struct dnsauth_settings *s,
    const struct dnsauth_question *q, size_t nq);

/*
 * dnsauth_ask with one question, the TLSA RRset of owner, whose answer
 * goes to each server's tlsa. A server whose context cannot be made
 * gets tlsa.status DNS_ERROR and why.
 */
void dnsauth_query(struct dnsauth_zone *z, const struct dnsauth_settings *s,
    const char *owner);

void dnsauth_zone_free(struct dnsauth_zone *z);

#endif
