/*
 * checks - probe results, files on disk and published records to the
 * items of G1-G7. See checks.h for the contracts and DESIGN.md for what
 * each check means.
 *
 * Decisions:
 *  - A probe that could not reach the point a check needs (unreachable,
 *    timeout, protocol error) makes that check UNKNOWN with the reason,
 *    never CRITICAL: "could not look" is not "saw it broken", and a false
 *    G3 CRITICAL would send an administrator to the TLSA records for a
 *    network problem.
 *  - G4 does not depend on an address: one item per host and algorithm.
 *  - G3 is judged against the published records only (tlsa_file, or the
 *    secure TLSA RRset in DNS); a served chain that the published
 *    records match but the files on disk do not is G5's finding, not G3's.
 *  - Without a secure TLSA RRset (bogus, insecure, denied, lookup failed)
 *    G3 and G4 are UNKNOWN and G7 carries the verdict: one CRITICAL for
 *    one fault, and never a G3 "no record matches" for records that could
 *    not be seen.
 *  - Addresses from DNS: all A and AAAA records, secure or insecure (an
 *    insecure address is still where senders connect; G7 says it is
 *    insecure); bogus or failed lookups give no address. Without
 *    tlsa_file they are looked up even with a probe list: what DNS
 *    publishes is what senders use, the list only maps addresses to
 *    local listeners (NAT) and is reported where it lists an address no
 *    longer published.
 *  - Every probe sends SNI and every match uses the TLSA base domain
 *    (checks_base_domain: the secure CNAME expansion of the host name
 *    unless it has no TLSA records), as DANE senders do.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "certkey.h"
#include "checks.h"
#include "checks_g8.h"
#include "dnscache.h"
#include "duration.h"
#include "expected.h"
#include "expect.h"
#include "probe.h"
#include "probepool.h"
#include "tlsa.h"
#include "verdict.h"
#include "xalloc.h"

/* ------------------------------------------------------------ a sweep */


/* One algorithm of a host: its family and the chain/next key on disk. */
struct alg {
	const char *family;		/* static string from certkey */
	const struct expect_cert *cert;	/* NULL if the files did not load */
	const struct expect_failed *failed; /* then this section's, or NULL */
	int unconfigured;		/* no cert section: probed to see if served */
};

struct hostwork {
	const struct conf_host *h;
	const struct expect *e;		/* this sweep's expected set, or NULL */
	struct expect *own_e;		/* e when not borrowed from a keep */
	char experr[ERRBUF_SIZE];	/* why e is NULL */
	char *owner;			/* _PORT._tcp.HOST. */
	const struct tlsa_set *pub;	/* published set, NULL if none */
	const struct dns_answer *tlsa;	/* DNS source: the TLSA answer */
	int dnssrc;			/* pub comes from DNS */
	char pubname[512];		/* "tlsa_file FILE" or "DNS" */
	char puberr[ERRBUF_SIZE];	/* why pub is NULL */
	struct verdict_base base;	/* TLSA base domain: SNI, owner */
	int wantaddrs;			/* A/AAAA looked up (G7 items) */
	const struct dns_answer *a4, *a6;	/* A, AAAA, or NULL */
	const char **addrs;		/* probe addresses, reported (borrowed) */
	const char **dials;		/* where each is reached (NAT), or NULL */
	size_t naddrs;
	const char **unpub;		/* listed, no longer published */
	size_t nunpub;
	struct alg algs[8];
	size_t nalgs;
	struct expect eb;		/* *e with the TLSA base domain's owner
					 * and name, for coverage and G4 */
	char *ebhost;			/* eb.host */
	const char *chains_option;	/* where the MTA's chains are configured */
	struct cover cov;		/* e against pub, when covered */
	int covered;
	char coverr[ERRBUF_SIZE];	/* why not covered */
};

static const char *const checks_families[] = {
	"rsa", "ecdsa", "ed25519", "ed448"
};

/*
 * Ed25519 and Ed448 when neither is configured: one probe offers both
 * (lib/probe), and most MTAs serve neither, so a failed handshake settles
 * both; when it completes, a second probe asks for the other one.
 */
static const char checks_eddsa[] = "ed25519+ed448";

static const char *
known_family(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < 4; i++)
		if (strcmp(name, checks_families[i]) == 0)
			return checks_families[i];
	return NULL;
}

static void
add_alg(struct hostwork *hw, const char *family,
    const struct expect_cert *cert, const struct expect_failed *failed)
{
	size_t i;

	if (family == NULL)
		return;
	for (i = 0; i < hw->nalgs; i++)
		if (strcmp(hw->algs[i].family, family) == 0) {
			if (hw->algs[i].cert == NULL) {
				hw->algs[i].cert = cert;
				hw->algs[i].failed = failed;
			}
			return;
		}
	if (hw->nalgs == sizeof(hw->algs) / sizeof(hw->algs[0]))
		return;
	hw->algs[hw->nalgs].family = family;
	hw->algs[hw->nalgs].cert = cert;
	hw->algs[hw->nalgs].failed = failed;
	hw->nalgs++;
}

/* The family of a cert section that did not load: its chain, its name. */
static const char *
section_family(const char *chainpath, const char *name)
{
	struct certkey_chain *chain;
	struct errbuf err;
	const char *family = NULL;

	if (chainpath != NULL &&
	    certkey_chain_load(chainpath, &chain, &err) == 0) {
		family = certkey_cert_alg_family(certkey_chain_leaf(chain));
		certkey_chain_free(chain);
	}
	return family != NULL ? family : known_family(name);
}

/*
 * The families to probe. From the expected set when it loaded; else
 * from each chain file alone; else from the cert section's name: a
 * broken file on disk must not stop the probes of what is served.
 */
static void
hostwork_algs(struct hostwork *hw)
{
	size_t i;

	if (hw->h->keyless) {
		/* Whatever it serves is judged against the records. */
		for (i = 0; i < 4; i++) {
			add_alg(hw, checks_families[i], NULL, NULL);
			hw->algs[i].unconfigured = 1;
		}
		return;
	}
	if (hw->e != NULL) {
		for (i = 0; i < hw->e->ncerts; i++) {
			const struct expect_cert *c = &hw->e->certs[i];

			if (c->chain != NULL)
				add_alg(hw, certkey_cert_alg_family(
				    certkey_chain_leaf(c->chain)), c, NULL);
		}
		/* A section that did not load: its own error only. */
		for (i = 0; i < hw->e->nfailed; i++)
			add_alg(hw, section_family(hw->e->failed[i].chain,
			    hw->e->failed[i].name), NULL,
			    &hw->e->failed[i]);
	} else
		for (i = 0; i < hw->h->ncerts; i++)
			add_alg(hw, section_family(hw->h->certs[i].chain,
			    hw->h->certs[i].name), NULL, NULL);
	/*
	 * Every other algorithm the probe can force, to see whether the
	 * MTA serves a chain no cert section describes (G3 needs no files).
	 */
	if (hw->nalgs == 0)
		return;
	for (i = 0; i < 4; i++) {
		size_t k, n = hw->nalgs;

		for (k = 0; k < n; k++)
			if (strcmp(hw->algs[k].family, checks_families[i]) == 0)
				break;
		if (k < n)
			continue;
		add_alg(hw, checks_families[i], NULL, NULL);
		if (hw->nalgs > n)
			hw->algs[n].unconfigured = 1;
	}
	/* Both EdDSA families unconfigured (the last two): one probe. */
	if (hw->nalgs >= 2 && hw->algs[hw->nalgs - 1].unconfigured &&
	    hw->algs[hw->nalgs - 2].unconfigured &&
	    strcmp(hw->algs[hw->nalgs - 2].family, "ed25519") == 0 &&
	    strcmp(hw->algs[hw->nalgs - 1].family, "ed448") == 0) {
		hw->nalgs--;
		hw->algs[hw->nalgs - 1].family = checks_eddsa;
	}
}

/* The family of the served leaf among those j forced, or NULL. */
static const char *
forced_family(const struct probe_job *j)
{
	size_t i;

	for (i = 0; i < 4; i++)
		if (verdict_family_is(j->res.alg, checks_families[i]) &&
		    (strcmp(j->params.alg, checks_families[i]) == 0 ||
		    (j->params.alg == checks_eddsa && i >= 2)))
			return checks_families[i];
	return NULL;
}

static void
report_verdict(struct report *out, enum check_id check, const char *host,
    const char *addr, const char *alg, const struct verdict *v)
{
	report_add(out, check, host, addr, alg, NULL,
	    v->state, "%s", v->reason);
}

static void
eval_g3(struct report *out, struct hostwork *hw, const struct probe_job *j)
{
	const char *host = checks_host_name(hw->h);
	struct verdict v;

	if (hw->pub == NULL) {
		report_add(out, CHECK_G3, host, j->params.addr, j->params.alg,
		    NULL, VERDICT_UNKNOWN,
		    "no published set to match against: %s",
		    hw->puberr);
		return;
	}
	verdict_g3(hw->pub, hw->pubname, hw->owner, hw->base.name, j->res.chain,
	    j->res.alg, &v);
	report_verdict(out, CHECK_G3, host, j->params.addr, j->params.alg, &v);
}

static void
eval_g5(struct report *out, struct hostwork *hw, const struct probe_job *j,
    const struct alg *a)
{
	const char *host = checks_host_name(hw->h);
	struct verdict v;

	if (a->failed != NULL) {
		/* Its own error only: the other sections are judged. */
		verdict_g5_failed(a->failed, &v);
		report_verdict(out, CHECK_G5, host, j->params.addr,
		    j->params.alg, &v);
		return;
	}
	if (a->cert == NULL || a->cert->chain == NULL) {
		report_add(out, CHECK_G5, host, j->params.addr, j->params.alg,
		    NULL, VERDICT_UNKNOWN, "chain on disk not loaded: %s",
		    hw->experr[0] ? hw->experr : "no chain file");
		return;
	}
	verdict_g5(j->res.chain, a->cert->chain, &v);
	report_verdict(out, CHECK_G5, host, j->params.addr, j->params.alg, &v);
}

/* G11: the dates of the served leaf and of the leaf on disk. */
static void
eval_g11(struct report *out, struct hostwork *hw, const struct probe_job *j,
    const struct alg *a)
{
	const char *host = checks_host_name(hw->h);
	X509 *disk = a->cert != NULL && a->cert->chain != NULL ?
	    certkey_chain_leaf(a->cert->chain) : NULL;
	struct report_item *it;
	struct verdict v;
	long sd, dd;

	verdict_dates(sk_X509_value(j->res.chain, 0), disk, hw->pub,
	    hw->owner, hw->base.name, j->res.chain, time(NULL), &v, &sd, &dd);
	it = report_add(out, CHECK_G11, host, j->params.addr, j->params.alg,
	    NULL, v.state, "%s", v.reason);
	it->dated = 1;
	it->served_days = sd;
	it->disk_dated = disk != NULL;
	it->disk_days = dd;
}

/*
 * An algorithm no cert section describes: nothing when the MTA does not
 * serve it; when it does, G2 and G3 as usual (G3 needs no files) and a
 * G5 WARNING that the files cannot say what it should serve.
 */
static void
eval_unconfigured(struct report *out, struct hostwork *hw,
    const struct probe_job *forced)
{
	const struct probe_result *r = &forced->res;
	const char *host = checks_host_name(hw->h), *addr = forced->params.addr;
	struct probe_job job = *forced, *j = &job;

	/* Reported under the family served ("ed25519+ed448": either). */
	if (r->status != PROBE_OK ||
	    (job.params.alg = forced_family(forced)) == NULL ||
	    r->chain == NULL || sk_X509_num(r->chain) < 1)
		return;
	report_add(out, CHECK_G2, host, addr, j->params.alg, NULL, VERDICT_OK,
	    "%s %s, %s", r->version, r->cipher, r->alg);
	eval_g3(out, hw, j);
	eval_g11(out, hw, j, &(struct alg){ j->params.alg, NULL, NULL, 1 });
	report_add(out, CHECK_G5, host, addr, j->params.alg, NULL,
	    VERDICT_WARNING,
	    "the MTA also serves %s (%s), which no cert section describes: "
	    "G4 and G5 cannot check it against files; add a cert section "
	    "for it", verdict_family_title(j->params.alg), r->alg);
}

/* Did another probe of the same address complete a handshake? */
static int
peer_handshake(const struct probe_job *peers, size_t npeers,
    const struct probe_job *j)
{
	size_t i;

	for (i = 0; i < npeers; i++)
		if (&peers[i] != j && (peers[i].res.status == PROBE_OK ||
		    peers[i].res.status == PROBE_TLS_OLD))
			return 1;
	return 0;
}

/*
 * A keyless host (another machine's MX): G1 and, when no algorithm
 * completes a handshake at TLS 1.2 or later, G2 once per address (with
 * the first probe of it); G2, G3 and G11 for each algorithm it serves.
 * Algorithms it does not serve are no finding: nothing says which it
 * should.
 */
static void
eval_keyless(struct report *out, struct hostwork *hw,
    const struct probe_job *j, const struct probe_job *peers, size_t npeers)
{
	const struct probe_result *r = &j->res, *p;
	const char *host = checks_host_name(hw->h), *addr = j->params.addr;
	int tls = 0, hs = 0;
	size_t i;

	if (j == &peers[0]) {
		for (i = 0; i < npeers; i++) {
			p = &peers[i].res;
			if (p->status == PROBE_OK || p->status == PROBE_TLS_OLD ||
			    p->status == PROBE_TLS_FAILED ||
			    p->step >= PROBE_STEP_HANDSHAKE)
				tls = 1;
			hs |= p->status == PROBE_OK;
		}
		if (tls)
			report_add(out, CHECK_G1, host, addr, NULL, NULL,
			    VERDICT_OK, "STARTTLS offered and accepted");
		else if (r->status == PROBE_NO_STARTTLS ||
		    r->status == PROBE_STARTTLS_REFUSED)
			report_add(out, CHECK_G1, host, addr, NULL, NULL,
			    VERDICT_CRITICAL, "%s (seen from here: a middlebox "
			    "on the way may strip it)", r->detail[0] ?
			    r->detail : r->status == PROBE_NO_STARTTLS ?
			    "EHLO does not advertise STARTTLS" :
			    "STARTTLS refused");
		else
			report_add(out, CHECK_G1, host, addr, NULL, NULL,
			    VERDICT_UNKNOWN, "%s at %s: %s",
			    probe_status_name(r->status),
			    probe_step_name(r->step), r->detail);
		if (tls && !hs)
			report_add(out, CHECK_G2, host, addr, NULL, NULL,
			    VERDICT_CRITICAL, "no handshake at TLS 1.2 or "
			    "later with any algorithm: %s", r->detail[0] ?
			    r->detail : probe_status_name(r->status));
	}
	if (r->status != PROBE_OK || !verdict_family_is(r->alg, j->params.alg) ||
	    r->chain == NULL || sk_X509_num(r->chain) < 1)
		return;
	report_add(out, CHECK_G2, host, addr, j->params.alg, NULL, VERDICT_OK,
	    "%s %s, %s", r->version, r->cipher, r->alg);
	eval_g3(out, hw, j);
	eval_g11(out, hw, j, &(struct alg){ j->params.alg, NULL, NULL, 1 });
}

/*
 * G1, G2, G3, G5 of one probe; peers are the probes of the same host and
 * address (one per algorithm), j among them.
 */
static void
eval_probe(struct report *out, struct hostwork *hw, const struct probe_job *j,
    const struct alg *a, const struct probe_job *peers, size_t npeers)
{
	const struct probe_result *r = &j->res;
	const char *host = checks_host_name(hw->h), *addr = j->params.addr;
	const char *st = probe_status_name(r->status);
	const char *step = probe_step_name(r->step);
	int g1 = 0;	/* 1: G1 judged OK, go on; 0: stop with "skip" */
	const char *skip = NULL;
	char lst[128];
	struct verdict v;

	if (hw->h->keyless) {
		eval_keyless(out, hw, j, peers, npeers);
		return;
	}
	if (a->unconfigured) {
		eval_unconfigured(out, hw, j);
		return;
	}
	report_listener(addr, j->params.port, lst, sizeof(lst));
	switch (r->status) {
	case PROBE_UNREACHABLE:
	case PROBE_TIMEOUT:
	case PROBE_PROTOCOL:
	case PROBE_NO_XCLIENT:
		/* Past STARTTLS, the offer itself was seen. */
		if (r->step >= PROBE_STEP_HANDSHAKE) {
			report_add(out, CHECK_G1, host, addr, j->params.alg,
			    NULL, VERDICT_OK, "STARTTLS offered and accepted");
			report_add(out, CHECK_G2, host, addr, j->params.alg,
			    NULL, VERDICT_UNKNOWN, "%s at %s: %s", st, step,
			    r->detail);
		} else if (r->step == PROBE_STEP_CONNECT && j->dial == NULL &&
		    hw->wantaddrs) {
			report_add(out, CHECK_G1, host, addr, j->params.alg,
			    NULL, VERDICT_UNKNOWN,
			    "%s cannot be reached from here "
			    "(%s at %s: %s); senders connect there: if it is "
			    "NATed to a local listener, map it in the probe "
			    "list (probe = { \"%s = LOCAL\" })", addr, st,
			    step, r->detail, addr);
			report_add(out, CHECK_G2, host, addr, j->params.alg,
			    NULL, VERDICT_UNKNOWN,
			    "not tested: %s at %s", st, step);
		} else {
			report_add(out, CHECK_G1, host, addr, j->params.alg,
			    NULL, VERDICT_UNKNOWN, "%s at %s%s%s: %s", st, step,
			    j->dial ? " of " : "", j->dial ? j->dial : "",
			    r->detail);
			report_add(out, CHECK_G2, host, addr, j->params.alg,
			    NULL, VERDICT_UNKNOWN,
			    "not tested: %s at %s", st, step);
		}
		skip = st;
		break;
	case PROBE_NO_STARTTLS:
	case PROBE_STARTTLS_REFUSED:
		report_add(out, CHECK_G1, host, addr, j->params.alg, NULL,
		    VERDICT_CRITICAL, "%s", r->detail[0] ? r->detail :
		    r->status == PROBE_NO_STARTTLS ?
		    "EHLO does not advertise STARTTLS" :
		    "STARTTLS refused");
		report_add(out, CHECK_G2, host, addr, j->params.alg, NULL,
		    VERDICT_UNKNOWN, "not tested: no STARTTLS");
		skip = "no STARTTLS";
		break;
	case PROBE_TLS_FAILED:
		report_add(out, CHECK_G1, host, addr, j->params.alg, NULL,
		    VERDICT_OK, "STARTTLS offered and accepted");
		verdict_g2_forced(lst, j->params.alg, NULL, r->detail,
		    peer_handshake(peers, npeers, j), hw->chains_option, &v);
		report_verdict(out, CHECK_G2, host, addr, j->params.alg, &v);
		skip = "no handshake";
		break;
	case PROBE_TLS_OLD:
		report_add(out, CHECK_G1, host, addr, j->params.alg, NULL,
		    VERDICT_OK, "STARTTLS offered and accepted");
		if (r->detail[0] != '\0')
			report_add(out, CHECK_G2, host, addr, j->params.alg,
			    NULL, VERDICT_CRITICAL, "%s", r->detail);
		else
			report_add(out, CHECK_G2, host, addr, j->params.alg,
			    NULL, VERDICT_CRITICAL,
			    "handshake only at %s (TLS 1.2 "
			    "or later required)", r->version[0] ?
			    r->version : "TLS < 1.2");
		g1 = 1;
		break;
	case PROBE_OK:
		report_add(out, CHECK_G1, host, addr, j->params.alg, NULL,
		    VERDICT_OK, "STARTTLS offered and accepted%s%s%s", j->dial ?
		    " (probed at " : "", j->dial ? j->dial : "",
		    j->dial ? ")" : "");
		if (j->params.alg != NULL && verdict_g2_forced(lst,
		    j->params.alg, r->alg, r->detail, 1, hw->chains_option,
		    &v)) {
			report_verdict(out, CHECK_G2, host, addr,
			    j->params.alg, &v);
			skip = "algorithm not served";
			break;
		}
		report_add(out, CHECK_G2, host, addr, j->params.alg, NULL,
		    VERDICT_OK, "%s %s, %s", r->version, r->cipher, r->alg);
		g1 = 1;
		break;
	}
	if (g1 && (r->chain == NULL || sk_X509_num(r->chain) < 1)) {
		g1 = 0;
		skip = "no chain captured";
	}
	if (!g1) {
		report_add(out, CHECK_G3, host, addr, j->params.alg, NULL,
		    VERDICT_UNKNOWN, "not tested: %s", skip);
		report_add(out, CHECK_G5, host, addr, j->params.alg, NULL,
		    VERDICT_UNKNOWN, "not tested: %s", skip);
		return;
	}
	eval_g3(out, hw, j);
	eval_g5(out, hw, j, a);
	eval_g11(out, hw, j, a);
}

/* G4: the published set covers the chain, CA and next key on disk. */
static void
eval_g4(struct report *out, struct hostwork *hw, const struct alg *a)
{
	const char *host = checks_host_name(hw->h);
	const struct expect_cert *c = a->cert;
	struct verdict v;

	if (a->failed != NULL) {
		verdict_g4_failed(a->failed, &v);
		report_verdict(out, CHECK_G4, host, NULL, a->family, &v);
		return;
	}
	if (c == NULL || c->chain == NULL) {
		report_add(out, CHECK_G4, host, NULL, a->family, NULL,
		    VERDICT_UNKNOWN, "files on disk not loaded: %s",
		    hw->experr[0] ? hw->experr : "no chain file");
		return;
	}
	if (hw->pub == NULL) {
		report_add(out, CHECK_G4, host, NULL, a->family, NULL,
		    VERDICT_UNKNOWN, "no published set: %s", hw->puberr);
		return;
	}
	if (!hw->covered) {
		report_add(out, CHECK_G4, host, NULL, a->family, NULL,
		    VERDICT_UNKNOWN, "cannot match: %s", hw->coverr);
		return;
	}
	verdict_g4(&hw->eb, &hw->cov, (size_t)(c - hw->e->certs), hw->pubname,
	    &v);
	report_verdict(out, CHECK_G4, host, NULL, a->family, &v);
}

/*
 * The addresses to probe (verdict_targets): DNS mode, every published
 * address, through its local listener when the probe list maps it;
 * listed addresses no longer published are reported.
 */
static void
hostwork_addrs(struct hostwork *hw, const struct conf *conf,
    const struct dnscache *dns)
{
	const struct conf_host *h = hw->h;
	const struct dns_answer *u4 = NULL, *u6 = NULL;
	struct verdict_target *t;
	size_t i, cap = h->nprobe;

	hw->wantaddrs = conf->tlsa_file == NULL || h->nprobe == 0;
	if (hw->wantaddrs && dns != NULL) {
		hw->a4 = dnscache_get(dns, checks_host_name(h), DNS_TYPE_A);
		hw->a6 = dnscache_get(dns, checks_host_name(h),
		    DNS_TYPE_AAAA);
		/* While the lookups fail (G7 UNKNOWN says so), the addresses
		 * of the last answer: senders that cached them connect there,
		 * and the G3 items keep their addresses (UNKNOWN, not gone). */
		if ((u4 = dnscache_get_kept(dns, checks_host_name(h),
		    DNS_TYPE_A)) == NULL)
			u4 = hw->a4;
		if ((u6 = dnscache_get_kept(dns, checks_host_name(h),
		    DNS_TYPE_AAAA)) == NULL)
			u6 = hw->a6;
	}
	cap += (u4 != NULL ? u4->naddr : 0) + (u6 != NULL ? u6->naddr : 0);
	t = xcalloc(cap ? cap : 1, sizeof(*t));
	hw->unpub = xcalloc(h->nprobe ? h->nprobe : 1, sizeof(*hw->unpub));
	hw->naddrs = verdict_targets(h->probe, h->probe_local, h->nprobe,
	    hw->wantaddrs, u4, u6, t, hw->unpub, &hw->nunpub);
	hw->addrs = xcalloc(hw->naddrs ? hw->naddrs : 1, sizeof(*hw->addrs));
	hw->dials = xcalloc(hw->naddrs ? hw->naddrs : 1, sizeof(*hw->dials));
	for (i = 0; i < hw->naddrs; i++) {
		hw->addrs[i] = t[i].addr;
		hw->dials[i] = t[i].dial;
	}
	free(t);
}

static void
hostwork_init(struct hostwork *hw, const struct conf_host *h,
    const struct conf *conf, const struct tlsa_set *zone,
    const char *zoneerr, struct checks_keep *keep,
    struct expect_cache *cache, const struct dnscache *dns, time_t now)
{
	struct errbuf err;

	memset(hw, 0, sizeof(*hw));
	hw->h = h;
	/* sendmail_access names a sendmail: its chains are confSERVER_CERT. */
	hw->chains_option = conf->sendmail_access != NULL ? "confSERVER_CERT" :
	    "smtpd_tls_chain_files";
	checks_base_domain(conf, h, dns, &hw->base);
	hw->owner = tlsa_owner_name(hw->base.name, h->port);
	if (h->keyless)
		;	/* another machine's host: no files */
	else if (keep != NULL) {
		if (checks_expect_kept(keep, h, cache, now, duration_clock(),
		    &hw->e, &err) < 0)
			hw->e = NULL;
	} else if (checks_expect(h, NULL, cache, now, &hw->own_e, &err) == 0)
		hw->e = hw->own_e;
	if (hw->e == NULL)
		snprintf(hw->experr, sizeof(hw->experr), "%s", err.msg);
	hostwork_algs(hw);
	hostwork_addrs(hw, conf, dns);

	if (conf->tlsa_file != NULL && !h->keyless) {
		snprintf(hw->pubname, sizeof(hw->pubname), "tlsa_file %s",
		    conf->tlsa_file);
		if (zone != NULL)
			hw->pub = zone;
		else
			snprintf(hw->puberr, sizeof(hw->puberr), "%s",
			    zoneerr);
		return;
	}
	hw->dnssrc = 1;
	snprintf(hw->pubname, sizeof(hw->pubname), "the DNS");
	hw->tlsa = dns != NULL ? dnscache_get(dns, hw->owner, DNS_TYPE_TLSA) :
	    NULL;
	if (hw->tlsa == NULL)
		snprintf(hw->puberr, sizeof(hw->puberr), "TLSA of %s not "
		    "looked up (no resolver): see G7", hw->owner);
	else if (hw->tlsa->status == DNS_SECURE && hw->tlsa->tlsa.n > 0)
		hw->pub = &hw->tlsa->tlsa;
	else if (hw->tlsa->status == DNS_SERVFAIL ||
	    hw->tlsa->status == DNS_TIMEOUT || hw->tlsa->status == DNS_ERROR)
		snprintf(hw->puberr, sizeof(hw->puberr), "the published "
		    "TLSA set is unknown (lookup %s, tempfail): see G7",
		    dns_status_name(hw->tlsa->status));
	else
		snprintf(hw->puberr, sizeof(hw->puberr), "no secure TLSA "
		    "RRset at %s (%s): see G7", hw->owner,
		    dns_status_name(hw->tlsa->status));
}

/* The coverage items of the files against the published set (G4). */
static void
hostwork_cover(struct hostwork *hw)
{
	struct errbuf err;

	if (hw->e == NULL || hw->pub == NULL)
		return;
	/* Senders look for the records at the TLSA base domain. */
	hw->eb = *hw->e;
	hw->ebhost = tlsa_name_normalise(hw->base.name);
	hw->eb.host = hw->ebhost;
	hw->eb.owner = hw->owner;
	if (cover_check(&hw->eb, hw->pub, &hw->cov, &err) == 0)
		hw->covered = 1;
	else
		snprintf(hw->coverr, sizeof(hw->coverr), "%s", err.msg);
}

static void
hostwork_done(struct hostwork *hw)
{
	cover_free(&hw->cov);
	expect_free(hw->own_e);
	free(hw->addrs);
	free(hw->dials);
	free(hw->unpub);
	free(hw->ebhost);
	free(hw->owner);
}

/* "mx.customer.example -> mail.provider.example: " or "". */
static void
cname_prefix(const struct hostwork *hw, char *buf, size_t len)
{
	if (hw->base.expanded[0] == '\0')
		snprintf(buf, len, "%s", "");
	else if (hw->base.fallback)
		snprintf(buf, len, "%s \u2192 %s (secure CNAME; no TLSA "
		    "records at _%u._tcp.%s, so senders use the original "
		    "name): ", checks_host_name(hw->h), hw->base.expanded,
		    hw->h->port, hw->base.expanded);
	else
		snprintf(buf, len, "%s \u2192 %s (secure CNAME: the TLSA "
		    "base domain is the expanded name): ",
		    checks_host_name(hw->h), hw->base.expanded);
}

/* G7 of a host: its TLSA lookup (DNS source), its A/AAAA lookups. */
static void
eval_g7(struct report *out, struct hostwork *hw, const struct dnscache *dns)
{
	const char *host = checks_host_name(hw->h);
	char msg[1024], pre[600];
	enum verdict_state st;
	size_t i;

	if (hw->dnssrc) {
		st = dnscache_g7_tlsa(hw->tlsa, hw->owner, msg, sizeof(msg));
		if (dns == NULL)
			st = VERDICT_UNKNOWN;
		cname_prefix(hw, pre, sizeof(pre));
		report_add(out, CHECK_G7, host, "TLSA", NULL, NULL, st, "%s%s",
		    pre, msg);
	}
	if (!hw->wantaddrs)
		return;
	st = dnscache_g7_addr(hw->a4, hw->a6, host, "A", msg, sizeof(msg));
	report_add(out, CHECK_G7, host, "A", NULL, NULL, st, "%s", msg);
	st = dnscache_g7_addr(hw->a6, hw->a4, host, "AAAA", msg, sizeof(msg));
	report_add(out, CHECK_G7, host, "AAAA", NULL, NULL, st, "%s", msg);
	for (i = 0; i < hw->nunpub; i++)
		report_add(out, CHECK_G7, host, hw->unpub[i], NULL, NULL,
		    VERDICT_WARNING, "%s is in the probe list but not among "
		    "the published A/AAAA records of %s: senders do not "
		    "connect there, so it is not probed; remove it, or fix "
		    "the records", hw->unpub[i], host);
}

/*
 * G4 (no algorithm): published records that match no chain, CA or next
 * key on disk any more, and records that match a file but that senders
 * reject. DNS source only: a tlsa_file may hold other hosts' records,
 * and it is not what senders see.
 */
static void
eval_stale(struct report *out, struct hostwork *hw)
{
	const char *host = checks_host_name(hw->h);
	struct verdict retire, fails;
	struct errbuf err;

	if (!hw->dnssrc || hw->pub == NULL || hw->e == NULL)
		return;
	if (verdict_g4_records(&hw->eb, hw->pub, hw->tlsa != NULL ?
	    hw->tlsa->ttl : hw->h->ttl, &retire, &fails, &err) < 0) {
		report_add(out, CHECK_G4, host, NULL, NULL, NULL,
		    VERDICT_UNKNOWN, "cannot match: %s", err.msg);
		return;
	}
	report_verdict(out, CHECK_G4, host, NULL, NULL, &retire);
	if (fails.state != VERDICT_OK)
		report_verdict(out, CHECK_G4, host, "records", NULL, &fails);
}

int
checks_timeout_ms(const struct conf *conf)
{
	long t = conf->probe_timeout > 0 ? conf->probe_timeout : 10;

	return t > 3600 ? 3600000 : (int)(t * 1000);
}

/*
 * Probes of one slice of a sweep at most: the hosts are probed slice by
 * slice, and what a slice's probes captured (chains, expected sets) is
 * judged and freed before the next slice is probed, so that a sweep's
 * memory grows with the slice, not with the number of hosts (a hoster's
 * thousand names). Large enough that the pool's threads stay busy.
 */
#define CHECKS_SLICE_JOBS	512

void
checks_sweep(const struct conf *conf, const char *helo,
    struct checks_keep *keep, struct dnscache *dns, struct report *out)
{
	checks_sweep_served(conf, helo, keep, dns, NULL, out);
}

/* A chain served for the algorithm asked: G8 matches each address's
 * records against it. */
static void
keep_served(struct checks_served *served, const struct conf_host *h,
    const struct probe_job *j)
{
	const struct probe_result *r = &j->res;

	if (served != NULL && (r->status == PROBE_OK ||
	    r->status == PROBE_TLS_OLD) && r->chain != NULL &&
	    (j->params.alg == NULL || forced_family(j) != NULL))
		checks_served_add(served, checks_host_name(h), h->port,
		    r->chain, r->alg);
}

void
checks_sweep_served(const struct conf *conf, const char *helo,
    struct checks_keep *keep, struct dnscache *dns,
    struct checks_served *served, struct report *out)
{
	struct hostwork *hws = NULL, *hw;
	struct tlsa_set zone;
	struct errbuf err;
	struct probe_job *jobs = NULL, *extra = NULL;
	const char *fam;
	size_t i, k, a, n, nj, nx, x, first, last, cap = 0;
	int zone_ok = 0;
	time_t now = time(NULL);
	const struct conf *own = conf;
	struct conf *dconf;
	struct checks_keys keys = { NULL, 0 };
	/* Sections sharing a key file (a hoster's names) decode it once. */
	struct expect_cache *cache = expect_cache_new();

	tlsa_set_init(&zone);
	err.msg[0] = '\0';
	if (conf->tlsa_file != NULL) {
		if (tlsa_zone_load(conf->tlsa_file, NULL, -1, &zone,
		    &err) == 0)
			zone_ok = 1;
	}
	/* DNS first: the probe addresses may come from it. */
	checks_dns_refresh(conf, dns, duration_clock());
	/* The other MX hosts of the domains, swept keyless. */
	if ((dconf = checks_domain_conf(own, dns)) != NULL)
		conf = dconf;

	for (first = 0; first < conf->nhosts; first = last) {
		n = 0;
		for (last = first; last < conf->nhosts &&
		    (last == first || n < CHECKS_SLICE_JOBS); last++) {
			if (last - first == cap) {
				cap = cap ? 2 * cap : 64;
				hws = xreallocarray(hws, cap, sizeof(*hws));
			}
			hw = &hws[last - first];
			hostwork_init(hw, &conf->hosts[last], conf,
			    zone_ok ? &zone : NULL, err.msg, keep, cache, dns,
			    now);
			hostwork_cover(hw);
			n += hw->naddrs * hw->nalgs;
		}
		jobs = xcalloc(n ? n : 1, sizeof(*jobs));
		nj = 0;
		for (i = first; i < last; i++) {
			hw = &hws[i - first];
			for (k = 0; k < hw->naddrs; k++)
				for (a = 0; a < hw->nalgs; a++) {
					struct probe_job *j = &jobs[nj++];

					j->params.addr = hw->addrs[k];
					j->dial = hw->dials[k];
					j->params.sni = hw->base.name;
					j->params.port = conf->hosts[i].port;
					j->params.helo = helo;
					j->params.alg = hw->algs[a].family;
					j->params.timeout_ms =
					    checks_timeout_ms(conf);
				}
		}
		probepool_run(jobs, nj);
		/* The other EdDSA family where the probe offering both
		 * completed a handshake: rare, run after. */
		nx = 0;
		for (i = 0; i < nj; i++)
			if (jobs[i].params.alg == checks_eddsa &&
			    (fam = forced_family(&jobs[i])) != NULL) {
				extra = xreallocarray(extra, nx + 1,
				    sizeof(*extra));
				extra[nx] = (struct probe_job){ .params =
				    jobs[i].params, .dial = jobs[i].dial };
				extra[nx++].params.alg = strcmp(fam,
				    "ed25519") == 0 ? "ed448" : "ed25519";
			}
		probepool_run(extra, nx);

		nj = 0;
		x = 0;
		for (i = first; i < last; i++) {
			hw = &hws[i - first];
			if (hw->nalgs == 0)
				report_add(out, CHECK_G4,
				    checks_host_name(&conf->hosts[i]), NULL,
				    NULL, NULL, VERDICT_UNKNOWN, "no algorithm "
				    "to probe: %s", hw->experr[0] ?
				    hw->experr : "no cert sections");
			for (k = 0; k < hw->naddrs; k++) {
				for (a = 0; a < hw->nalgs; a++) {
					struct probe_job *j = &jobs[nj + a];

					eval_probe(out, hw, j, &hw->algs[a],
					    &jobs[nj], hw->nalgs);
					if (j->res.status == PROBE_OK &&
					    forced_family(j) != NULL)
						checks_keys_add(&keys,
						    hw->h->name, j->res.chain);
					keep_served(served, hw->h, j);
					if (j->params.alg != checks_eddsa ||
					    forced_family(j) == NULL)
						continue;
					/* The other EdDSA family, asked after. */
					j = &extra[x++];
					eval_unconfigured(out, hw, j);
					if (j->res.status == PROBE_OK &&
					    forced_family(j) != NULL)
						checks_keys_add(&keys,
						    hw->h->name, j->res.chain);
					keep_served(served, hw->h, j);
				}
				nj += hw->nalgs;
			}
			for (a = 0; a < hw->nalgs; a++)
				if (!hw->algs[a].unconfigured)
					eval_g4(out, hw, &hw->algs[a]);
			eval_stale(out, hw);
			eval_g7(out, hw, dns);
			hostwork_done(hw);
		}
		for (i = 0; i < nj; i++)
			probe_result_clear(&jobs[i].res);
		for (i = 0; i < nx; i++)
			probe_result_clear(&extra[i].res);
		free(jobs);
		free(extra);
		extra = NULL;
	}
	free(hws);
	expect_cache_free(cache);
	tlsa_set_free(&zone);
	checks_domain_eval(own, dns, &keys, out);
	checks_keys_clear(&keys);
	checks_domain_conf_free(own, dconf);
}
