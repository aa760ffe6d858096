/*
 * dns - DNSSEC-validated lookups through libunbound, under a deadline.
 *
 * Validation happens in-process from a trust anchor file, or through a
 * validating resolver we forward to; tests and private setups hand in an
 * unbound.conf-style file instead (stubs for zones on loopback, their own
 * trust anchor). Every answer is classified so that callers cannot mistake
 * a failure for an absence: SERVFAIL and timeouts are temporary failures,
 * never "no records"; bogus answers are never "absent" either, even though
 * libunbound hands their data over with rcode 0.
 *
 * Lookups are asynchronous inside (ub_resolve_async, poll on ub_fd,
 * ub_cancel at the deadline), so a dead nameserver costs at most the
 * caller's timeout, never libunbound's own minutes of retries.
 */
#ifndef DG_DNS_H
#define DG_DNS_H

#include <stddef.h>

#include "errbuf.h"
#include "tlsa.h"

/* Debian package dns-root-data. */
#define DNS_DEFAULT_ANCHOR "/usr/share/dns/root.key"

#define DNS_TYPE_A	1
#define DNS_TYPE_MX	15
#define DNS_TYPE_TXT	16
#define DNS_TYPE_AAAA	28
#define DNS_TYPE_TLSA	52

/*
 * How an answer was classified, in this order:
 *  1. validated (secure): DNS_SECURE with data, else DNS_NXDOMAIN or
 *     DNS_NODATA (a proven denial);
 *  2. validation failed: DNS_BOGUS (data, if any, is NOT copied out);
 *  3. rcode other than NOERROR/NXDOMAIN: DNS_SERVFAIL (a temporary
 *     failure - SERVFAIL carries neither the secure nor the bogus flag and
 *     would otherwise look insecure);
 *  4. anything else was not validated: DNS_INSECURE, data or denial
 *     (see havedata and nxdomain in struct dns_answer).
 */
enum dns_status {
	DNS_SECURE,	/* validated RRset present */
	DNS_INSECURE,	/* answer (data or denial) from an unsigned zone */
	DNS_BOGUS,	/* validation failed; why says why */
	DNS_NXDOMAIN,	/* validated: the name does not exist */
	DNS_NODATA,	/* validated: the name exists, the type does not */
	DNS_SERVFAIL,	/* SERVFAIL/REFUSED/...: temporary failure */
	DNS_TIMEOUT,	/* no answer before the deadline: temporary failure */
	DNS_ERROR	/* local problem (bad name, libunbound error) */
};

struct dns_answer {
	enum dns_status status;
	int rcode;		/* DNS rcode as libunbound gave it; -1 if none */
	int havedata;		/* libunbound's havedata, for DNS_INSECURE */
	int nxdomain;		/* libunbound's nxdomain, for DNS_INSECURE */
	long ttl;		/* seconds; of the RRset or denial; -1 if none */
	char *why;		/* why_bogus, or the error; NULL otherwise */
	/* DNS_SECURE, DNS_INSECURE, DNS_NXDOMAIN, DNS_NODATA: the name the
	 * query name's CNAME chain ends at, without the final dot, when it
	 * is another name (libunbound's canonname); NULL otherwise. Secure
	 * only when status is: the chain is validated with the answer. */
	char *canon;
	/* TLSA lookups, DNS_SECURE or DNS_INSECURE only: */
	struct tlsa_set tlsa;	/* owner = queried name, ttl = ttl */
	size_t skipped;		/* malformed TLSA rdata left out of tlsa */
	/* A and AAAA lookups, DNS_SECURE or DNS_INSECURE only: */
	char **addr;		/* numeric address strings */
	size_t naddr;
	/* TXT lookups, DNS_SECURE or DNS_INSECURE only: each record's
	 * character-strings joined (RFC 7208 3.3); a record with a NUL byte
	 * or a bad length is left out and counted in skipped. */
	char **txt;
	size_t ntxt;
	/* MX lookups, DNS_SECURE or DNS_INSECURE only: the exchanges in
	 * order of preference (lowest first, ties in answer order), lower
	 * case, without the final dot ("" for the null MX "."); malformed
	 * rdata is counted in skipped. */
	char **mx;
	unsigned *mxpref;
	size_t nmx;
	/* Requests with want_packet (struct dns_req), whatever the status
	 * (bogus included): the answer as libunbound encoded it, RRSIGs
	 * included (dnssig.h reads it); NULL when there was none. */
	unsigned char *packet;
	size_t packet_len;
};

struct dns_ctx;

/*
 * Make a resolver context.
 *   anchor: file of DS or DNSKEY records in zone-file form (e.g. the
 *	KSK's .ds from ldns-keygen). NULL means DNS_DEFAULT_ANCHOR, except
 *	when config is given: then only the config's trust-anchor settings
 *	apply.
 *   resolver: NULL for full recursion from the root, else the address
 *	("ip" or "ip@port") of a resolver to forward to; it must pass
 *	DNSSEC records through (we still validate ourselves).
 *   config: NULL, or an unbound.conf-style file for ub_ctx_config (stubs,
 *	local-zone, trust-anchor-file, do-not-query-localhost ...).
 * val-log-level is set to 1 before config is read (without it bogus
 * answers have no reason); libunbound's log goes to /dev/null.
 * The anchor file is opened once here, so that a missing or unreadable
 * one is reported now, not at the first lookup (libunbound reads it
 * then).
 * Returns the context, or NULL with err set (naming the file or address).
 */
struct dns_ctx *dns_ctx_new(const char *anchor, const char *resolver,
    const char *config, struct errbuf *err);

/*
 * Make ctx ready now rather than at its first lookup, so that a trust
 * anchor file libunbound cannot use is reported at start (dns_ctx_new
 * only sees whether it can be read). No option can be set afterwards
 * (dns_ctx_set_stub included). Returns 0, or -1 with err naming the
 * settings to check.
 */
int dns_ctx_ready(struct dns_ctx *ctx, struct errbuf *err);

/* Free ctx, cancelling whatever is still pending. NULL is allowed. */
void dns_ctx_free(struct dns_ctx *ctx);

/* Zero answer: status DNS_ERROR, no data. */
void dns_answer_init(struct dns_answer *ans);

/* Free what ans owns and reinitialise it. */
void dns_answer_clear(struct dns_answer *ans);

/*
 * Look up name (with or without the trailing dot) for rrtype (class IN)
 * and classify the answer into out, waiting at most timeout_ms. out is
 * overwritten (initialised first; the caller clears it afterwards, also
 * on failure). TLSA data goes to out->tlsa, A/AAAA to out->addr, TXT to
 * out->txt, MX to out->mx; other types only get status and ttl.
 * Calls on one ctx from several threads are serialised by a lock: use one
 * ctx per thread to resolve in parallel.
 * Returns 0 whenever out->status says what happened (SERVFAIL and
 * TIMEOUT included), -1 only with DNS_ERROR (out->why says what went
 * wrong, naming the query).
 */
int dns_lookup(struct dns_ctx *ctx, const char *name, int rrtype,
    int timeout_ms, struct dns_answer *out);

/*
 * dns_lookup of the TLSA RRset of _PORT._tcp.HOST. Only DNS_SECURE means
 * "published": DNS_INSECURE (even with records) is "no DANE" per RFC 7672,
 * DNS_BOGUS, DNS_SERVFAIL and DNS_TIMEOUT are failures, never absence.
 */
int dns_tlsa(struct dns_ctx *ctx, const char *host, unsigned port,
    int timeout_ms, struct dns_answer *out);

/*
 * Build one TLSA record from its raw rdata (usage, selector, matching
 * type, data). owner may be NULL. Refuses rdata without data, longer
 * than TLSA_DATA_MAX, or with matching type 1 or 2 and a digest of the
 * wrong length. Returns 0, or -1 with err set (rec left cleared).
 */
int dns_tlsa_from_rdata(const unsigned char *rdata, size_t len,
    const char *owner, long ttl, struct tlsa_record *rec,
    struct errbuf *err);

/* "secure", "insecure", "bogus", "nxdomain", "nodata", "servfail",
 * "timeout", "error". */
const char *dns_status_name(enum dns_status status);

/*
 * Send every query for zone and the names below it to addr ("ip" or
 * "ip@port") alone, as an authoritative server: no recursion asked (a
 * stub, not a forwarder), answers still validated from the ctx's trust
 * anchors. A stub for zone that the ctx's config file already has is
 * replaced, not added to (libunbound would otherwise pick any of its
 * addresses). A loopback addr also turns off do-not-query-localhost;
 * query-name minimisation is off (it only adds round trips there).
 * Call it before the first lookup on ctx. Returns 0, or -1 with err set
 * naming the zone and the address.
 */
int dns_ctx_set_stub(struct dns_ctx *ctx, const char *zone, const char *addr,
    struct errbuf *err);

/*
 * Before the first lookup: validate nothing (libunbound without its
 * validator module); every answer is then DNS_INSECURE (data or denial),
 * and keeps its RRSIGs (with want_packet). dnsauth compares such answers
 * with validated ones. Returns 0, or -1 with err set.
 */
int dns_ctx_set_unvalidated(struct dns_ctx *ctx, struct errbuf *err);

/*
 * Turn validation failures into answers (val-permissive-mode): bogus
 * data comes back classified DNS_INSECURE. Only for finding out *why* a
 * zone is bogus (G9: the zone and nameservers of a zone whose DS names
 * no key); never for what senders would use. Call it before the first
 * lookup. Returns 0, or -1 with err set.
 */
int dns_ctx_set_permissive(struct dns_ctx *ctx, struct errbuf *err);

/* The records of an answer as wire-format rdata, for the types that
 * dns_lookup does not decode (NS, SOA). Names in it are uncompressed. */
struct dns_rdata {
	unsigned char **data;	/* each owned */
	size_t *len;
	size_t n;
};

/* Free what rd owns; rd is left empty. */
void dns_rdata_free(struct dns_rdata *rd);

/*
 * dns_lookup (same contract), and when rd is not NULL the rdata of every
 * record of a DNS_SECURE or DNS_INSECURE answer is copied into rd (empty
 * otherwise; the caller frees it with dns_rdata_free, also on failure).
 * With rd NULL it is dns_lookup.
 */
int dns_lookup_rdata(struct dns_ctx *ctx, const char *name, int rrtype,
    int timeout_ms, struct dns_answer *out, struct dns_rdata *rd);

/* One lookup of a batch: name and rrtype in, ans (and rd) out. */
struct dns_req {
	const char *name;
	int rrtype;
	struct dns_rdata *rd;	/* NULL, or gets the rdata (dns_lookup_rdata) */
	int want_packet;	/* 1: ans.packet gets the raw answer */
	struct dns_answer ans;	/* the caller clears it afterwards */
	int rc;			/* 0, or -1 with ans.status DNS_ERROR */
};

/*
 * Run the n lookups of req on ctx in parallel (at most a window of a few
 * hundred in flight at once) and wait for all of them, each at most
 * timeout_ms from when it was sent (one not answered by then is
 * DNS_TIMEOUT), so that lookups which do not depend on each other cost
 * one wait, not n, and a large batch is not cut short as a whole.
 * Each request gets what dns_lookup_rdata would give it. Returns how
 * many requests have rc -1.
 */
int dns_lookup_many(struct dns_ctx *ctx, struct dns_req *req, size_t n,
    int timeout_ms);

#endif
