/*
 * verdict - the rules of G3, G4 and G5: from a captured chain, a
 * published TLSA set and the files on disk to a state and a reason.
 *
 * Pure: no I/O, no clock, no DNS; the callers (the guard's checks,
 * tests/unit/test_verdict over tests/data/verdict.in) hand everything
 * in. What "published" means (tlsa_file or a secure RRset) and what to do
 * without it is the caller's; these functions judge a set at hand.
 *
 * The rules, as a DANE SMTP sender (RFC 7672, OpenSSL, Postfix) sees it:
 *  G3  OK when a record senders use matches the served chain (match.h);
 *      WARNING when records are published but none is usable for SMTP
 *      (senders deliver without authentication, RFC 7672 section 2.2);
 *      CRITICAL otherwise (senders defer), with the reason, including
 *      "a matching record is ignored for a stronger digest".
 *  G4  per cert: a key file that does not match its certificate is
 *      CRITICAL, naming both files (expect_load_each); the items of
 *      cover.h: the current chain not covered is
 *      CRITICAL (the next reload breaks DANE) or WARNING when no record is
 *      usable; an issuer or next key not covered is a WARNING (the next
 *      rollover breaks DANE). Records: those whose data matches no file
 *      on disk are candidates to retire (WARNING); those that match a
 *      file but that senders reject are a WARNING with the reason.
 *  G5  OK when the served leaf is the leaf of the chain file, else
 *      CRITICAL (deployed but not reloaded, or a stale path).
 *  G11 certificate dates (verdict_dates).
 */
#ifndef DG_VERDICT_H
#define DG_VERDICT_H

#include <time.h>

#include <openssl/x509.h>

#include "certkey.h"
#include "cover.h"
#include "dns.h"
#include "expect.h"
#include "state.h"
#include "tlsa.h"

struct verdict {
	enum verdict_state state;
	char reason[1536];
};

/*
 * G3: served (leaf first, as captured; served_alg e.g. "rsa-2048") against
 * the records of pub at owner; host is the MX host name for 2 x x name
 * checks; pubname names the source in the reason ("the DNS").
 */
void verdict_g3(const struct tlsa_set *pub, const char *pubname,
    const char *owner, const char *host, STACK_OF(X509) *served,
    const char *served_alg, struct verdict *v);

/*
 * G4 of cert ci of e, from cov = cover_check(e, pub). pubname as for G3.
 */
void verdict_g4(const struct expect *e, const struct cover *cov, size_t ci,
    const char *pubname, struct verdict *v);

/*
 * G4 of the published records of e's owner: retire (records whose data
 * matches no chain, CA or key on disk; ttl for the advice) and fails
 * (records whose data is a file's but that senders reject). Each is OK
 * when there is none. When a cert section of e did not load (e->failed),
 * retire is UNKNOWN: a record may be that file's. Returns 0, or -1 with
 * err set.
 */
int verdict_g4_records(const struct expect *e, const struct tlsa_set *pub,
    long ttl, struct verdict *retire, struct verdict *fails,
    struct errbuf *err);

/*
 * G11: the dates of the served leaf and of the leaf on disk (disk may be
 * NULL), as of now. Senders check dates only when the served chain is
 * authenticated through a 2 x x record, i.e. when no usable 3 x x
 * record of pub at owner matches it (RFC 7672 section 3.1: DANE-EE
 * ignores dates). Then: CRITICAL when a leaf has expired, WARNING when
 * less than a third of its lifetime is left. Under 3 x x: never
 * CRITICAL; an expired leaf is a WARNING, an operational note. pub may
 * be NULL (not known: judged as under 3 x x). Days to expiry (negative
 * once expired) into *served_days and *disk_days (0 when disk is NULL).
 */
void verdict_dates(X509 *served, X509 *disk, const struct tlsa_set *pub,
    const char *owner, const char *host, STACK_OF(X509) *chain, time_t now,
    struct verdict *v, long *served_days, long *disk_days);

/*
 * What to probe, as senders connect (RFC 7672 sections 2.2.3 and 8.1).
 *
 * The TLSA base domain of MX host host: its secure CNAME expansion
 * (expanded; NULL or "" when the name is no alias or its expansion is not
 * secure), unless the TLSA lookup at the expansion proved that there are
 * no records that count there (expanded_none: a validated denial, or an
 * insecure answer): then senders fall back to host (fallback 1). A failed
 * lookup at the expansion is no proof: the base stays the expansion.
 * name is what a probe sends as SNI and the owner's host; no final dot.
 */
struct verdict_base {
	char name[256];		/* the TLSA base domain, no final dot */
	char expanded[256];	/* the host name's secure expansion, or "" */
	int fallback;		/* expanded has no TLSA: name is the host name */
};

void verdict_base_domain(const char *host, const char *expanded,
    int expanded_none, struct verdict_base *out);

/* 1 when two address literals are the same address (or equal strings). */
int verdict_same_addr(const char *a, const char *b);

/* One address to probe: addr as published or listed, dial where it is
 * reached from here (a NAT mapping "PUBLISHED = LOCAL"), or NULL. */
struct verdict_target {
	const char *addr;
	const char *dial;
};

/*
 * The addresses of a host to probe. probe[k] (local[k] its mapping or
 * NULL) is the configured probe list; from_dns says the addresses are
 * the published ones (DNS mode, or no probe list); a4 and a6 are the A
 * and AAAA answers (NULL: not looked up). From DNS: every published
 * address (secure or insecure: senders connect there), through its
 * mapping when the list has one; listed addresses no longer published
 * go to unpub (reported, not probed) - unless a lookup failed: then the
 * probe list is all there is. Otherwise the probe list. t needs room for
 * nprobe + both answers' addresses, unpub for nprobe; the strings are
 * borrowed. Returns how many targets.
 */
size_t verdict_targets(char *const *probe, char *const *local,
    size_t nprobe, int from_dns, const struct dns_answer *a4,
    const struct dns_answer *a6, struct verdict_target *t,
    const char **unpub, size_t *nunpub);

/* G5: the served leaf against the chain file's. */
void verdict_g5(STACK_OF(X509) *served, const struct certkey_chain *disk,
    struct verdict *v);

/*
 * G4 and G5 of a cert section whose files did not load (f, one of
 * expect_load_each's e->failed): UNKNOWN with that section's own error
 * only; the other sections are judged as usual. (verdict_g4_records of a
 * set with a failed section is UNKNOWN too: a record may belong to the
 * file that did not load.)
 */
void verdict_g4_failed(const struct expect_failed *f, struct verdict *v);
void verdict_g5_failed(const struct expect_failed *f, struct verdict *v);

/*
 * G2 of a probe that forced family ("rsa", "ecdsa", "ed25519", "ed448")
 * at listener (e.g. "127.0.0.1:25"): served_alg is the algorithm of the
 * chain it got ("rsa-2048"), or NULL when the handshake failed with
 * detail; other_ok says another family's handshake completed at the
 * same listener; chains_option is where the MTA lists its chains
 * ("smtpd_tls_chain_files"). Returns 0 when the MTA served family (the
 * caller reports the handshake), or 1 with *v CRITICAL: the MTA serves
 * no such chain ("127.0.0.1:25 serves no ECDSA chain (is it in
 * smtpd_tls_chain_files?)"), or no TLS handshake at all when no family
 * completed one.
 */
int verdict_g2_forced(const char *listener, const char *family,
    const char *served_alg, const char *detail, int other_ok,
    const char *chains_option, struct verdict *v);

/* 1 when served_alg ("rsa-2048", "ed25519") is of family ("rsa"). */
int verdict_family_is(const char *served_alg, const char *family);

/* "RSA", "ECDSA", "Ed25519", "Ed448" (else family itself), for messages. */
const char *verdict_family_title(const char *family);

#endif
