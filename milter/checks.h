/*
 * checks - one sweep: probe every (host, address, algorithm) of the
 * configuration in parallel and turn the probe results, the files on disk
 * and the published records into the items of checks G1-G5 and G7
 * (report.h); and the G6 probes that impersonate a client.
 *
 * Sources of "published" records: tlsa_file when set, else the secure
 * TLSA RRset of _PORT._tcp.HOST in DNS (dnscache.h: looked up through
 * lib/dns with the configuration's dns section, kept for its TTL); the
 * G3/G4 reasons say which. Only a secure RRset is "published": while the
 * TLSA lookup is bogus, insecure, denied or failing, G7 says so and G3/G4
 * are UNKNOWN (a failure is never taken for an absence). Hosts are probed
 * on all their published A and AAAA records (secure or not; G7 judges
 * those lookups too), through the local listener a probe entry
 * "PUBLISHED = LOCAL" maps one to; a host's probe list is all that is
 * probed only with tlsa_file, or while its address lookups fail. Probes
 * send the TLSA base domain as SNI (checks_base_domain).
 *
 * The expected set is recomputed when its files change, so a chain
 * renewed on disk is seen. Key and issuer files are read as root at
 * start (checks_preload) and kept: after the privilege drop they may be
 * unreadable (expected.h says what happens when they change).
 *
 * checks.c runs the sweep and G6; checks_dns.c says what a configuration
 * needs from DNS and which host an address belongs to.
 *
 * Nothing here keeps state between calls except struct checks_keep; the
 * guard thread (guard.c) owns the states, their "since" times and logging.
 */
#ifndef DG_CHECKS_H
#define DG_CHECKS_H

#include <time.h>

#include <openssl/x509.h>

#include "conf.h"
#include "dnscache.h"
#include "errbuf.h"
#include "report.h"
#include "mxview.h"
#include "verdict.h"

/* What one sweep leaves for the next: the last expected set per host. */
struct checks_keep;

struct checks_keep *checks_keep_new(void);
void checks_keep_free(struct checks_keep *keep);

/*
 * Load the key and issuer files and the expected set of every host of
 * conf into keep: call it before privileges are dropped. Returns 0, or
 * -1 with err naming the host and the problem.
 */
int checks_preload(const struct conf *conf, struct checks_keep *keep,
    struct errbuf *err);

/* probe_timeout of conf in milliseconds (10 s when unset). */
int checks_timeout_ms(const struct conf *conf);

/* 1 when conf needs DNS: a host without probe list, or no tlsa_file. */
int checks_dns_needed(const struct conf *conf);

/*
 * A DNS cache for conf into *out (always set): failures retried after
 * min(60 s, probe_interval); resolvers from conf's dns section when
 * checks_dns_needed. Returns 0, or -1 with err set (naming the file or
 * resolver at fault): *out then has no resolver and its lookups fail
 * with that message (G7 UNKNOWN).
 */
int checks_dns_new(const struct conf *conf, struct dnscache **out,
    struct errbuf *err);

/*
 * Look up (in parallel, each under probe_timeout) what conf needs from
 * DNS and dns does not hold unexpired at now (duration_clock(), as
 * every time of dnscache.h). Returns how many answers changed.
 * Called by checks_sweep; the guard also calls it between sweeps when an
 * entry expires, and sweeps when something changed.
 */
size_t checks_dns_refresh(const struct conf *conf, struct dnscache *dns,
    time_t now);

/*
 * One sweep over conf: add the items of G1-G5 and G7 to out (out->when
 * is used for "since"). helo is the probes' EHLO name. keep may be NULL
 * (--check); otherwise it is updated with the sets loaded now. dns is
 * refreshed first (checks_dns_refresh); NULL makes every lookup fail
 * (G7 UNKNOWN).
 */
void checks_sweep(const struct conf *conf, const char *helo,
    struct checks_keep *keep, struct dnscache *dns, struct report *out);

/* checks_sweep that also keeps every chain served (checks_g8.h) in
 * served (may be NULL), for G8. */
struct checks_served;
void checks_sweep_served(const struct conf *conf, const char *helo,
    struct checks_keep *keep, struct dnscache *dns,
    struct checks_served *served, struct report *out);

/* A listener on which a client sent mail in plaintext. */
struct checks_g6_target {
	char listener[64];	/* address the client connected to */
	unsigned port;
	char client[64];	/* the client's address */
};

/*
 * G6 with XCLIENT: probe each target's listener as its client (in
 * parallel) and add one G6 item per target to out: CRITICAL when STARTTLS
 * is withheld, OK when it is offered, UNKNOWN when the probe could not
 * tell (unreachable, XCLIENT refused). dns (may be NULL) names the host
 * of a listener whose addresses came from DNS.
 */
void checks_g6(const struct conf *conf, const struct dnscache *dns,
    const char *helo, const struct checks_g6_target *targets, size_t n,
    struct report *out);

/*
 * G10 (checks_g10.c): one item per host from the TLS-RPT store in
 * state_dir/tlsrpt (none when there is no store): WARNING when reports
 * of the last 24 h carry DANE or STARTTLS failures for the host's name
 * or addresses (dns may be NULL), with the count in item->count, the top
 * reporter and a sample receiving-ip, and said to contradict G3 when
 * out's G3 items of the host are all OK (call it after checks_sweep).
 * Then one item per host and domain of its tlsrpt_domains, keyed by the
 * record's name ("_smtp._tls.DOMAIN" in the address column), from the
 * TXT answer in dns (checks_dns_refresh looks it up through the
 * validating resolver): OK for a DNSSEC-signed TLSRPT record with a
 * usable rua (tlsrpt_txt_check), OK with a note when there is none or
 * the zone is unsigned, WARNING for a record senders cannot use or a
 * bogus answer, UNKNOWN when the lookup failed or dns is NULL.
 */
void checks_g10(const struct conf *conf, const struct dnscache *dns,
    time_t now, struct report *out);

/*
 * G9 (checks_g9.c), when the dns section has dnssec_health, in the
 * nameserver pass (checks_g8.h). The items of label (a host, or a
 * domain for its MX RRset) from z, the facts of every address of the
 * zone of owner (zonesig_read, with the DS): "rrsig" per address (the
 * earliest RRSIG expiration over the sets pick[0..npick) of each server
 * -- the TLSA, A/AAAA and DNSKEY RRsets -- against rrsig_warning/critical
 * and the SOA EXPIRE, with the seconds left), "ds" (the parent's DS
 * names a key that signs the DNSKEY RRset), and for a host h "ttl" (the
 * TTL advice of dnshealth.h, as a note). now is the wall clock (RRSIG
 * times are). checks_g9_unknown: the one item of a label whose zone is
 * not known (why).
 */
struct zonesig_zone;
void checks_g9_zone(const struct conf *conf, const char *label,
    const char *owner, const struct conf_host *h,
    const struct zonesig_zone *z, const size_t *pick, size_t npick,
    time_t now, struct report *out);
void checks_g9_unknown(const char *label, const char *why,
    struct report *out);

/* "_smtp._tls.DOMAIN" (malloc'd; a final dot of domain dropped). */
char *checks_tlsrpt_owner(const char *domain);

/*
 * The TLSA base domain of a host (RFC 7672 section 2.2.3), as DANE
 * senders find it: the secure CNAME expansion of the host name when its
 * address lookups show one (dns holds them), unless the expansion has no
 * TLSA records (a denial, or an insecure answer): then the host name.
 * Without DNS (tlsa_file, or dns NULL) the host name. Probes send it as
 * SNI; the TLSA owner is _PORT._tcp.NAME.
 */
void checks_base_domain(const struct conf *conf, const struct conf_host *h,
    const struct dnscache *dns, struct verdict_base *out);

/* The configured host that listens on addr and port, or NULL. */
const struct conf_host *checks_host_of(const struct conf *conf,
    const char *addr, unsigned port);

/*
 * The same, also for hosts without a probe list: by the addresses dns
 * holds for them (dns may be NULL).
 */
const struct conf_host *checks_host_dns(const struct conf *conf,
    const struct dnscache *dns, const char *addr, unsigned port);

/*
 * The MX view (checks_domain.c). checks_domain_refresh looks up the MX
 * RRset of every domain of conf that dns does not hold unexpired at now
 * (checks_dns_refresh calls it first). checks_domain_conf returns conf
 * with the other MX hosts of its domains (remote = yes; targets of a
 * secure or insecure MX answer that are no host section) added as
 * keyless hosts, or NULL when there are none: the sweep and the DNS
 * refresh run over it (free it with checks_domain_conf_free, which
 * leaves conf's own hosts alone). checks_sweep notes the leaf key of
 * every chain it captured (checks_keys_add) and ends with
 * checks_domain_eval: per domain, G7 "MX" (mxview_rrset), G7 "MX-hosts"
 * (mxview_targets, when conf has host sections) and G3 "MX-keys"
 * (mxview_shared over the keys of the domain's MX hosts).
 */
struct checks_keys {
	struct mxview_key *v;	/* hosts borrowed from the swept conf */
	size_t n;
};

size_t checks_domain_refresh(const struct conf *conf, struct dnscache *dns,
    time_t now);
struct conf *checks_domain_conf(const struct conf *conf,
    const struct dnscache *dns);
void checks_domain_conf_free(const struct conf *conf, struct conf *x);
void checks_keys_add(struct checks_keys *keys, const char *host,
    STACK_OF(X509) *chain);
void checks_keys_clear(struct checks_keys *keys);
void checks_domain_eval(const struct conf *conf, const struct dnscache *dns,
    const struct checks_keys *keys, struct report *out);

#endif
