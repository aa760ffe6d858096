/*
 * zonesig - the DNSSEC facts of check G9, gathered from every
 * authoritative address of a zone: the earliest RRSIG expiration of each
 * RRset senders need, the SOA's REFRESH and EXPIRE, the DNSKEY RRset and
 * the key tags that sign it, as each address serves them; and the DS
 * RRset at the parent through the validating resolver. The zone and its
 * addresses come from dnsauth_find; each address is asked directly
 * through a libunbound context of its own (a stub, as dnsauth_query
 * does), all addresses in parallel, and the raw answers are read with
 * dnssig.h (bogus answers included: an expired signature or a DS that
 * names no key makes them bogus, and that is what G9 must explain).
 * dnshealth.h judges the facts.
 */
#ifndef DG_ZONESIG_H
#define DG_ZONESIG_H

#include <stddef.h>
#include <time.h>

#include "dns.h"
#include "dnsauth.h"
#include "errbuf.h"

/* One RRset as one address served it. */
struct zonesig_rrset {
	char *owner;		/* as asked, presentation form */
	int type;
	enum dns_status status;	/* how the answer was classified */
	size_t nsigs;		/* RRSIGs in the answer section */
	/* Of the RRSIG that expires first (when nsigs > 0): */
	time_t expiration;
	long orig_ttl;		/* the original TTL of the RRset it covers */
	int covered;		/* its type covered (CNAME in a chain) */
	char *sig_owner;	/* its owner */
	char *signer;
	unsigned keytag;
};

/* A DNSKEY of the zone and whether an RRSIG over the DNSKEY RRset uses it. */
struct zonesig_key {
	unsigned char *rdata;
	size_t len;
	unsigned keytag;
	int signs;		/* 1: it signs the DNSKEY RRset here */
};

struct zonesig_server {
	char *name;		/* NS name */
	char *addr;		/* NULL: the name has no address */
	char *why;		/* no address or no answer at all: why */
	struct zonesig_rrset *sets;
	size_t nsets;
	long soa_refresh;	/* -1: unknown */
	long soa_expire;	/* -1: unknown */
	struct zonesig_key *keys;
	size_t nkeys;
	enum dns_status dnskey_status;
};

struct zonesig_zone {
	char *apex;
	struct zonesig_server *servers;
	size_t nservers;
	enum dns_status ds_status;	/* the DS lookup through ctx */
	char *ds_why;			/* its reason when not secure */
	struct dns_rdata ds;		/* DS rdata when secure */
};

/* An RRset to ask every address for. */
struct zonesig_want {
	const char *owner;
	int type;
};

/*
 * Find the zone holding owner through ctx (dnsauth_find), look up its
 * DS RRset through ctx, then ask each address of each nameserver for
 * every want whose owner is at or below the apex (others are left out:
 * that address is not authoritative for them), then the apex's DNSKEY
 * (the last of each server's sets) and SOA; now dates the RRSIG serial times. Returns 0 with z filled
 * (servers that did not answer have why set), or -1 with err (no zone,
 * no NS). z is freed with zonesig_zone_free in both cases.
 */
int zonesig_scan(struct dns_ctx *ctx, const struct dnsauth_settings *s,
    const char *owner, const struct zonesig_want *want, size_t nwant,
    time_t now, struct zonesig_zone *z, struct errbuf *err);

void zonesig_zone_free(struct zonesig_zone *z);

/* 1 when name (presentation form) is apex or below it. */
int zonesig_in_zone(const char *name, const char *apex);

#endif
