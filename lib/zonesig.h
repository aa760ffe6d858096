/*
 * zonesig - the DNSSEC facts of check G9, read from what every
 * authoritative address of a zone answered to the nameserver pass's
 * questions (dnsauth_ask, asked with want_packet, in the same batch as
 * G8's): the earliest RRSIG expiration of each RRset, the SOA's REFRESH
 * and EXPIRE, the DNSKEY RRset and the key tags that sign it. The raw
 * answers are read with dnssig.h (bogus answers included: an expired
 * signature or a DS that names no key makes them bogus, and that is what
 * G9 must explain). dnshealth.h judges the facts.
 */
#ifndef DG_ZONESIG_H
#define DG_ZONESIG_H

#include <stddef.h>
#include <time.h>

#include "dns.h"
#include "dnsauth.h"

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
	const char *ds_anchor;		/* not NULL: ds is the DS of the
					 * trust anchor file named here */
};

/*
 * The DS records for apex in the trust anchor file path (zone-file
 * lines "NAME [TTL] [IN] DS KEYTAG ALGORITHM DIGEST-TYPE HEX", one a
 * line, as unbound reads them), appended to ds as rdata. A zone that is
 * itself a trust anchor has no DS at its parent that matters: validators
 * match the anchor's instead. Returns how many were found (0: none, or
 * path cannot be read).
 */
int zonesig_anchor_ds(const char *path, const char *apex,
    struct dns_rdata *ds);

/*
 * The facts of every server of az after dnsauth_ask(az, ..., q, nq):
 * one set per question (sets[k] for q[k]; RRSIGs read where q[k] had
 * want_packet), the keys from the answer to question keys (the apex's
 * DNSKEY), REFRESH and EXPIRE from question soa (the apex's SOA); now
 * dates the RRSIG serial times. A server without address, or that
 * answered none of the want_packet questions, has why set. z->apex is
 * az's; the DS is left to the caller (ds_status DNS_ERROR). Free z with
 * zonesig_zone_free.
 */
void zonesig_read(const struct dnsauth_zone *az,
    const struct dnsauth_question *q, size_t nq, size_t keys, size_t soa,
    time_t now, struct zonesig_zone *z);

void zonesig_zone_free(struct zonesig_zone *z);

/* 1 when name (presentation form) is apex or below it. */
int zonesig_in_zone(const char *name, const char *apex);

#endif
