/*
 * dnssig - the DNSSEC facts of a raw DNS answer that a validator keeps to
 * itself: each RRSIG's signer, key tag, inception and expiration, and the
 * DS digest of a DNSKEY (RFC 4034). Check G9 reads them from the answers
 * each authoritative address gives (dns.h: want_packet), to say before
 * it happens that a signature will expire or that the parent's DS points
 * at no key of the zone. Pure functions over bytes, fuzzable alone.
 */
#ifndef DG_DNSSIG_H
#define DG_DNSSIG_H

#include <stddef.h>
#include <time.h>

#define DNSSIG_TYPE_SOA		6
#define DNSSIG_TYPE_MX		15
#define DNSSIG_TYPE_DS		43
#define DNSSIG_TYPE_RRSIG	46
#define DNSSIG_TYPE_DNSKEY	48

/* One RRSIG of the answer section. */
struct dnssig_sig {
	char owner[1025];	/* presentation form, lower case, final dot */
	int covered;		/* type covered */
	int algorithm;
	unsigned keytag;
	long orig_ttl;
	long ttl;		/* TTL of the RRSIG record itself */
	time_t inception;	/* absolute, from the 32-bit serial time */
	time_t expiration;
	char signer[1025];
};

/* One other record of the answer section (rdata copied; the names in
 * SOA rdata uncompressed). */
struct dnssig_rr {
	char owner[1025];
	int type;
	long ttl;
	unsigned char *rdata;
	size_t len;
};

struct dnssig_msg {
	int rcode;
	struct dnssig_sig *sigs;
	size_t nsigs;
	struct dnssig_rr *rrs;
	size_t nrrs;
};

/*
 * Parse the answer section of the DNS message pkt[0..len) into out
 * (names may be compressed). RRSIG times are 32-bit serial numbers (RFC
 * 4034 3.1.5): each becomes the absolute time nearest to now.
 * Returns 0, or -1 for a malformed message (out is then empty).
 * out is freed with dnssig_msg_free in both cases.
 */
int dnssig_parse(const unsigned char *pkt, size_t len, time_t now,
    struct dnssig_msg *out);

void dnssig_msg_free(struct dnssig_msg *m);

/* The key tag of DNSKEY rdata (RFC 4034 appendix B); 0 if too short. */
unsigned dnssig_keytag(const unsigned char *dnskey, size_t len);

/*
 * Whether the DS rdata ds (key tag, algorithm, digest type, digest)
 * names the DNSKEY rdata key of zone owner (presentation form): 1 yes, 0
 * no, -1 when it cannot tell (a digest type other than SHA-1, SHA-256 or
 * SHA-384, or malformed rdata or name).
 */
int dnssig_ds_match(const char *owner, const unsigned char *ds, size_t dslen,
    const unsigned char *key, size_t keylen);

/* "A", "TLSA", "DNSKEY", ... or "TYPEnnn" into buf; returns buf. */
const char *dnssig_type_name(int type, char *buf, size_t len);

#endif
