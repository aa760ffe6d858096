/*
 * mxview - the rules of a mail domain's MX view: its MX RRset as DANE
 * senders see it, this machine's hosts among its targets, and MX hosts
 * that serve one key.
 *
 * Pure: no I/O, no clock, no DNS; the guard (milter/checks_domain.c) and
 * tests/unit/test_mxview hand everything in.
 *
 * The rules (RFC 7672 section 2.2.1: senders look up TLSA records of an
 * MX host only when the MX RRset that named it is secure):
 *  MX RRset  secure with targets, or a secure null MX: OK. Insecure:
 *            WARNING "DANE is not in force for mail to DOMAIN" (senders
 *            deliver, without DANE). Bogus: CRITICAL (validating senders
 *            defer all mail to the domain). A secure denial (no MX, or
 *            no such domain): WARNING. A failed lookup: UNKNOWN
 *            (tempfail, never "no MX").
 *  targets   the listed hosts must each be an MX target (WARNING for
 *            each that is not: its mail does not come here); with none
 *            listed, at least one host of the configuration must be.
 *            Not judged (UNKNOWN) without an MX RRset to judge.
 *  shared    WARNING when two MX hosts serve the same public key (one
 *            key on all MX hosts is rolled on all at once, and one
 *            mistake breaks every path in); OK otherwise.
 */
#ifndef DG_MXVIEW_H
#define DG_MXVIEW_H

#include <stddef.h>

#include "dns.h"
#include "verdict.h"

/* The MX RRset of domain; mx is its answer, NULL when not looked up. */
void mxview_rrset(const char *domain, const struct dns_answer *mx,
    struct verdict *v);

/* 1 when mx (secure or insecure data) names host as a target. */
int mxview_is_target(const struct dns_answer *mx, const char *host);

/*
 * This machine's hosts among the targets of mx: want[0..nwant) must
 * each be a target when listed is 1; else at least one of them.
 */
void mxview_targets(const char *domain, const struct dns_answer *mx,
    const char *const *want, size_t nwant, int listed, struct verdict *v);

/* One served key: the MX host and the SHA-256 of its leaf's SPKI. */
struct mxview_key {
	const char *host;
	unsigned char spki[32];
};

/* Two hosts of k[0..n) with one key: WARNING naming them. */
void mxview_shared(const char *domain, const struct mxview_key *k, size_t n,
    struct verdict *v);

#endif
