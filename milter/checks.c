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
 *    insecure); bogus or failed lookups give no address.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "certkey.h"
#include "checks.h"
#include "dnscache.h"
#include "expected.h"
#include "expect.h"
#include "match.h"
#include "probe.h"
#include "probepool.h"
#include "tlsa.h"
#include "xalloc.h"

/* ------------------------------------------------------------ a sweep */

/* One algorithm of a host: its family and the chain/next key on disk. */
struct alg {
	const char *family;		/* static string from certkey */
	const struct expect_cert *cert;	/* NULL if the files did not load */
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
	const struct dns_answer *a4, *a6;	/* no probe list: A, AAAA */
	const char **addrs;		/* probe addresses (borrowed) */
	size_t naddrs;
	struct alg algs[8];
	size_t nalgs;
};

static const char *const checks_families[] = {
	"rsa", "ecdsa", "ed25519", "ed448"
};

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
    const struct expect_cert *cert)
{
	size_t i;

	if (family == NULL)
		return;
	for (i = 0; i < hw->nalgs; i++)
		if (strcmp(hw->algs[i].family, family) == 0) {
			if (hw->algs[i].cert == NULL)
				hw->algs[i].cert = cert;
			return;
		}
	if (hw->nalgs == sizeof(hw->algs) / sizeof(hw->algs[0]))
		return;
	hw->algs[hw->nalgs].family = family;
	hw->algs[hw->nalgs].cert = cert;
	hw->nalgs++;
}

/*
 * The families to probe. From the expected set when it loaded; else
 * from each chain file alone; else from the cert section's name: a
 * broken file on disk must not stop the probes of what is served.
 */
static void
hostwork_algs(struct hostwork *hw)
{
	struct certkey_chain *chain;
	struct errbuf err;
	size_t i;

	if (hw->e != NULL) {
		for (i = 0; i < hw->e->ncerts; i++) {
			const struct expect_cert *c = &hw->e->certs[i];

			if (c->chain != NULL)
				add_alg(hw, certkey_cert_alg_family(
				    certkey_chain_leaf(c->chain)), c);
		}
		return;
	}
	for (i = 0; i < hw->h->ncerts; i++) {
		const struct conf_cert *cc = &hw->h->certs[i];

		if (cc->chain != NULL &&
		    certkey_chain_load(cc->chain, &chain, &err) == 0) {
			add_alg(hw, certkey_cert_alg_family(
			    certkey_chain_leaf(chain)), NULL);
			certkey_chain_free(chain);
		} else
			add_alg(hw, known_family(cc->name), NULL);
	}
}

static int
family_is(const char *served, const char *family)
{
	size_t n = strlen(family);

	return strncmp(served, family, n) == 0 &&
	    (served[n] == '\0' || served[n] == '-');
}

/* First 8 bytes of the SHA-256 of cert's DER, in hex, for messages. */
static void
cert_fp(X509 *cert, char *out, size_t len)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;
	int n;

	snprintf(out, len, "?");
	if ((n = i2d_X509(cert, &der)) <= 0)
		return;
	if (EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) &&
	    len >= 17)
		for (i = 0; i < 8 && i < mdlen; i++)
			snprintf(out + 2 * i, 3, "%02x", md[i]);
	OPENSSL_free(der);
}

/* Leaf DER comparison: 1 equal, 0 not. */
static int
same_leaf(X509 *a, X509 *b)
{
	unsigned char *da = NULL, *db = NULL;
	int na, nb, eq;

	na = i2d_X509(a, &da);
	nb = i2d_X509(b, &db);
	eq = na > 0 && na == nb && memcmp(da, db, (size_t)na) == 0;
	OPENSSL_free(da);
	OPENSSL_free(db);
	return eq;
}

static void
eval_g3(struct report *out, struct hostwork *hw, const struct probe_job *j)
{
	const char *host = checks_host_name(hw->h);
	struct match_result mr;
	struct errbuf err;
	char type[16];
	int m;

	if (hw->pub == NULL) {
		report_add(out, "G3", host, j->params.addr, j->params.alg, NULL,
		    GUARD_UNKNOWN, "no published set to match against: %s",
		    hw->puberr);
		return;
	}
	m = match_chain(hw->pub, hw->owner, host, j->res.chain, &mr, &err);
	if (m == 1) {
		if (mr.record >= 0 && (size_t)mr.record < hw->pub->n)
			tlsa_type_str(hw->pub->v[mr.record].type, type,
			    sizeof(type));
		else
			snprintf(type, sizeof(type), "a");
		report_add(out, "G3", host, j->params.addr, j->params.alg, NULL,
		    GUARD_OK, "served chain matched by %s record of %s at "
		    "depth %d", type, hw->pubname, mr.depth);
	} else if (m == 0)
		report_add(out, "G3", host, j->params.addr, j->params.alg, NULL,
		    GUARD_CRITICAL, "no record of %s at %s matches the "
		    "served %s chain (%s): DANE senders cannot deliver",
		    hw->pubname, hw->owner, j->res.alg, mr.reason);
	else
		report_add(out, "G3", host, j->params.addr, j->params.alg, NULL,
		    GUARD_UNKNOWN, "cannot match: %s", err.msg);
}

static void
eval_g5(struct report *out, struct hostwork *hw, const struct probe_job *j,
    const struct alg *a)
{
	const char *host = checks_host_name(hw->h);
	char fs[20], fd[20];
	X509 *served, *disk;

	if (a->cert == NULL || a->cert->chain == NULL) {
		report_add(out, "G5", host, j->params.addr, j->params.alg, NULL,
		    GUARD_UNKNOWN, "chain on disk not loaded: %s",
		    hw->experr[0] ? hw->experr : "no chain file");
		return;
	}
	served = sk_X509_value(j->res.chain, 0);
	disk = certkey_chain_leaf(a->cert->chain);
	if (same_leaf(served, disk)) {
		report_add(out, "G5", host, j->params.addr, j->params.alg, NULL,
		    GUARD_OK, "served leaf is the one in %s",
		    a->cert->chain->path);
		return;
	}
	cert_fp(served, fs, sizeof(fs));
	cert_fp(disk, fd, sizeof(fd));
	report_add(out, "G5", host, j->params.addr, j->params.alg, NULL,
	    GUARD_CRITICAL, "served leaf (sha256 %s...) differs from %s "
	    "(sha256 %s...): deployed but not reloaded, or reloaded from a "
	    "stale path", fs, a->cert->chain->path, fd);
}

/* G1, G2, G3, G5 of one probe. */
static void
eval_probe(struct report *out, struct hostwork *hw, const struct probe_job *j,
    const struct alg *a)
{
	const struct probe_result *r = &j->res;
	const char *host = checks_host_name(hw->h), *addr = j->params.addr;
	const char *st = probe_status_name(r->status);
	const char *step = probe_step_name(r->step);
	int g1 = 0;	/* 1: G1 judged OK, go on; 0: stop with "skip" */
	const char *skip = NULL;

	switch (r->status) {
	case PROBE_UNREACHABLE:
	case PROBE_TIMEOUT:
	case PROBE_PROTOCOL:
	case PROBE_NO_XCLIENT:
		/* Past STARTTLS, the offer itself was seen. */
		if (r->step >= PROBE_STEP_HANDSHAKE) {
			report_add(out, "G1", host, addr, j->params.alg, NULL,
			    GUARD_OK, "STARTTLS offered and accepted");
			report_add(out, "G2", host, addr, j->params.alg, NULL,
			    GUARD_UNKNOWN, "%s at %s: %s", st, step,
			    r->detail);
		} else {
			report_add(out, "G1", host, addr, j->params.alg, NULL,
			    GUARD_UNKNOWN, "%s at %s: %s", st, step,
			    r->detail);
			report_add(out, "G2", host, addr, j->params.alg, NULL,
			    GUARD_UNKNOWN, "not tested: %s at %s", st, step);
		}
		skip = st;
		break;
	case PROBE_NO_STARTTLS:
	case PROBE_STARTTLS_REFUSED:
		report_add(out, "G1", host, addr, j->params.alg, NULL,
		    GUARD_CRITICAL, "%s", r->detail[0] ? r->detail :
		    r->status == PROBE_NO_STARTTLS ?
		    "EHLO does not advertise STARTTLS" :
		    "STARTTLS refused");
		report_add(out, "G2", host, addr, j->params.alg, NULL,
		    GUARD_UNKNOWN, "not tested: no STARTTLS");
		skip = "no STARTTLS";
		break;
	case PROBE_TLS_FAILED:
		report_add(out, "G1", host, addr, j->params.alg, NULL, GUARD_OK,
		    "STARTTLS offered and accepted");
		report_add(out, "G2", host, addr, j->params.alg, NULL,
		    GUARD_CRITICAL, "no TLS handshake with %s: %s", j->params.alg,
		    r->detail);
		skip = "no handshake";
		break;
	case PROBE_TLS_OLD:
		report_add(out, "G1", host, addr, j->params.alg, NULL, GUARD_OK,
		    "STARTTLS offered and accepted");
		if (r->detail[0] != '\0')
			report_add(out, "G2", host, addr, j->params.alg, NULL,
			    GUARD_CRITICAL, "%s", r->detail);
		else
			report_add(out, "G2", host, addr, j->params.alg, NULL,
			    GUARD_CRITICAL, "handshake only at %s (TLS 1.2 "
			    "or later required)", r->version[0] ?
			    r->version : "TLS < 1.2");
		g1 = 1;
		break;
	case PROBE_OK:
		report_add(out, "G1", host, addr, j->params.alg, NULL, GUARD_OK,
		    "STARTTLS offered and accepted");
		if (j->params.alg != NULL && !family_is(r->alg, j->params.alg)) {
			report_add(out, "G2", host, addr, j->params.alg, NULL,
			    GUARD_CRITICAL, "asked for %s, the server "
			    "answered with %s: no %s chain served", j->params.alg,
			    r->alg[0] ? r->alg : "another algorithm",
			    j->params.alg);
			skip = "algorithm not served";
			break;
		}
		report_add(out, "G2", host, addr, j->params.alg, NULL, GUARD_OK,
		    "%s %s, %s", r->version, r->cipher, r->alg);
		g1 = 1;
		break;
	}
	if (g1 && (r->chain == NULL || sk_X509_num(r->chain) < 1)) {
		g1 = 0;
		skip = "no chain captured";
	}
	if (!g1) {
		report_add(out, "G3", host, addr, j->params.alg, NULL,
		    GUARD_UNKNOWN, "not tested: %s", skip);
		report_add(out, "G5", host, addr, j->params.alg, NULL,
		    GUARD_UNKNOWN, "not tested: %s", skip);
		return;
	}
	eval_g3(out, hw, j);
	eval_g5(out, hw, j, a);
}

/* G4: the published set covers the chain and next key on disk. */
static void
eval_g4(struct report *out, struct hostwork *hw, const struct alg *a)
{
	const char *host = checks_host_name(hw->h);
	const struct expect_cert *c = a->cert;
	struct match_result mr;
	struct errbuf err;
	int m;

	if (c == NULL || c->chain == NULL) {
		report_add(out, "G4", host, NULL, a->family, NULL,
		    GUARD_UNKNOWN, "files on disk not loaded: %s",
		    hw->experr[0] ? hw->experr : "no chain file");
		return;
	}
	if (hw->pub == NULL) {
		report_add(out, "G4", host, NULL, a->family, NULL,
		    GUARD_UNKNOWN, "no published set: %s", hw->puberr);
		return;
	}
	m = match_chain(hw->pub, hw->owner, host, c->chain->certs, &mr,
	    &err);
	if (m < 0) {
		report_add(out, "G4", host, NULL, a->family, NULL,
		    GUARD_UNKNOWN, "cannot match %s: %s", c->chain->path,
		    err.msg);
		return;
	}
	if (m == 0) {
		report_add(out, "G4", host, NULL, a->family, NULL,
		    GUARD_CRITICAL, "%s has no record in %s at %s (%s): "
		    "the next reload breaks DANE; publish its record first",
		    c->chain->path, hw->pubname, hw->owner, mr.reason);
		return;
	}
	if (hw->h->rollover == CONF_ROLLOVER_CURRENT_NEXT && c->next != NULL) {
		m = match_key(hw->pub, hw->owner, c->next->pkey, &mr, &err);
		if (m < 0) {
			report_add(out, "G4", host, NULL, a->family, NULL,
			    GUARD_UNKNOWN, "cannot match %s: %s",
			    c->next->path, err.msg);
			return;
		}
		if (m == 0) {
			report_add(out, "G4", host, NULL, a->family, NULL,
			    GUARD_WARNING, "next key %s has no 3 1 x record "
			    "in %s at %s: publish it before the rollover",
			    c->next->path, hw->pubname, hw->owner);
			return;
		}
		report_add(out, "G4", host, NULL, a->family, NULL, GUARD_OK,
		    "%s and next key %s have records in %s",
		    c->chain->path, c->next->path, hw->pubname);
		return;
	}
	report_add(out, "G4", host, NULL, a->family, NULL, GUARD_OK,
	    "%s has a record in %s", c->chain->path, hw->pubname);
}

/* The addresses of an A or AAAA answer that may be probed. */
static void
add_addrs(struct hostwork *hw, const struct dns_answer *a)
{
	size_t i;

	if (a == NULL || (a->status != DNS_SECURE &&
	    a->status != DNS_INSECURE))
		return;
	for (i = 0; i < a->naddr; i++) {
		hw->addrs = xreallocarray(hw->addrs, hw->naddrs + 1,
		    sizeof(*hw->addrs));
		hw->addrs[hw->naddrs++] = a->addr[i];
	}
}

static void
hostwork_init(struct hostwork *hw, const struct conf_host *h,
    const struct conf *conf, const struct tlsa_set *zone,
    const char *zoneerr, struct checks_keep *keep,
    const struct dnscache *dns, time_t now)
{
	struct errbuf err;
	size_t i;

	memset(hw, 0, sizeof(*hw));
	hw->h = h;
	hw->owner = tlsa_owner_name(checks_host_name(h), h->port);
	if (keep != NULL) {
		if (checks_expect_kept(keep, h, now, &hw->e, &err) < 0)
			hw->e = NULL;
	} else if (checks_expect(h, NULL, now, &hw->own_e, &err) == 0)
		hw->e = hw->own_e;
	if (hw->e == NULL)
		snprintf(hw->experr, sizeof(hw->experr), "%s", err.msg);
	hostwork_algs(hw);

	if (h->nprobe > 0) {
		hw->addrs = xcalloc(h->nprobe, sizeof(*hw->addrs));
		for (i = 0; i < h->nprobe; i++)
			hw->addrs[i] = h->probe[i];
		hw->naddrs = h->nprobe;
	} else if (dns != NULL) {
		hw->a4 = dnscache_get(dns, checks_host_name(h), DNS_TYPE_A);
		hw->a6 = dnscache_get(dns, checks_host_name(h),
		    DNS_TYPE_AAAA);
		add_addrs(hw, hw->a4);
		add_addrs(hw, hw->a6);
	}

	if (conf->tlsa_file != NULL) {
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

static void
hostwork_done(struct hostwork *hw)
{
	expect_free(hw->own_e);
	free(hw->addrs);
	free(hw->owner);
}

/* G7 of a host: its TLSA lookup (DNS source), its A/AAAA lookups. */
static void
eval_g7(struct report *out, struct hostwork *hw, const struct dnscache *dns)
{
	const char *host = checks_host_name(hw->h);
	char msg[1024];
	enum guard_state st;

	if (hw->dnssrc) {
		st = dnscache_g7_tlsa(hw->tlsa, hw->owner, msg, sizeof(msg));
		if (dns == NULL)
			st = GUARD_UNKNOWN;
		report_add(out, "G7", host, "TLSA", NULL, NULL, st, "%s", msg);
	}
	if (hw->h->nprobe > 0)
		return;
	st = dnscache_g7_addr(hw->a4, hw->a6, host, "A", msg, sizeof(msg));
	report_add(out, "G7", host, "A", NULL, NULL, st, "%s", msg);
	st = dnscache_g7_addr(hw->a6, hw->a4, host, "AAAA", msg, sizeof(msg));
	report_add(out, "G7", host, "AAAA", NULL, NULL, st, "%s", msg);
}

/*
 * G4 (no algorithm): published records that match no chain and no next
 * key on disk any more. DNS source only: a tlsa_file may hold other
 * hosts' records, and it is not what senders see.
 */
static void
eval_stale(struct report *out, struct hostwork *hw)
{
	const char *host = checks_host_name(hw->h);
	struct match_result mr;
	struct errbuf err;
	struct tlsa_set one;
	char *list = NULL, *n, *hex, type[16];
	size_t i, k, nstale = 0;
	int used;

	if (!hw->dnssrc || hw->pub == NULL || hw->e == NULL)
		return;
	for (i = 0; i < hw->pub->n; i++) {
		const struct tlsa_record *r = &hw->pub->v[i];

		tlsa_set_init(&one);
		tlsa_set_add(&one, r);
		used = 0;
		for (k = 0; k < hw->e->ncerts && !used; k++) {
			const struct expect_cert *c = &hw->e->certs[k];

			if (c->chain != NULL && match_chain(&one, NULL, host,
			    c->chain->certs, &mr, &err) != 0)
				used = 1;	/* an error is not "stale" */
			else if (c->next != NULL && match_key(&one, NULL,
			    c->next->pkey, &mr, &err) != 0)
				used = 1;
		}
		tlsa_set_free(&one);
		if (used)
			continue;
		nstale++;
		hex = tlsa_hex(r->data, r->len);
		if (strlen(hex) > 16)
			hex[16] = '\0';
		tlsa_type_str(r->type, type, sizeof(type));
		n = xasprintf("%s%s%s %s...", list ? list : "",
		    list ? ", " : "", type, hex);
		free(hex);
		free(list);
		list = n;
	}
	if (nstale == 0)
		report_add(out, "G4", host, NULL, NULL, NULL, GUARD_OK,
		    "every record published at %s matches a chain or next "
		    "key on disk", hw->owner);
	else
		report_add(out, "G4", host, NULL, NULL, NULL, GUARD_WARNING,
		    "%zu record%s published at %s match%s no chain or next "
		    "key on disk any more (%s): candidates to retire 2 x TTL "
		    "(2 x %ld s) after the chains that replaced them were "
		    "deployed", nstale, nstale == 1 ? "" : "s", hw->owner,
		    nstale == 1 ? "es" : "", list,
		    hw->tlsa != NULL ? hw->tlsa->ttl : hw->h->ttl);
	free(list);
}

int
checks_timeout_ms(const struct conf *conf)
{
	long t = conf->probe_timeout > 0 ? conf->probe_timeout : 10;

	return t > 3600 ? 3600000 : (int)(t * 1000);
}

void
checks_sweep(const struct conf *conf, const char *helo,
    struct checks_keep *keep, struct dnscache *dns, struct report *out)
{
	struct hostwork *hws;
	struct tlsa_set zone;
	struct errbuf err;
	struct probe_job *jobs = NULL;
	size_t i, k, a, n = 0, nj;
	int zone_ok = 0;
	time_t now = time(NULL);

	tlsa_set_init(&zone);
	err.msg[0] = '\0';
	if (conf->tlsa_file != NULL) {
		if (tlsa_zone_load(conf->tlsa_file, NULL, -1, &zone,
		    &err) == 0)
			zone_ok = 1;
	}
	/* DNS first: the probe addresses may come from it. */
	checks_dns_refresh(conf, dns, now);

	hws = xcalloc(conf->nhosts ? conf->nhosts : 1, sizeof(*hws));
	for (i = 0; i < conf->nhosts; i++) {
		hostwork_init(&hws[i], &conf->hosts[i], conf,
		    zone_ok ? &zone : NULL, err.msg, keep, dns, now);
		n += hws[i].naddrs * hws[i].nalgs;
	}
	jobs = xcalloc(n ? n : 1, sizeof(*jobs));
	nj = 0;
	for (i = 0; i < conf->nhosts; i++)
		for (k = 0; k < hws[i].naddrs; k++)
			for (a = 0; a < hws[i].nalgs; a++) {
				struct probe_job *j = &jobs[nj++];

				j->params.addr = hws[i].addrs[k];
				j->params.port = conf->hosts[i].port;
				j->params.helo = helo;
				j->params.alg = hws[i].algs[a].family;
				j->params.timeout_ms = checks_timeout_ms(conf);
			}
	probepool_run(jobs, nj);

	nj = 0;
	for (i = 0; i < conf->nhosts; i++) {
		const struct conf_host *h = &conf->hosts[i];

		if (hws[i].nalgs == 0)
			report_add(out, "G4", checks_host_name(h), NULL, NULL, NULL,
			    GUARD_UNKNOWN, "no algorithm to probe: %s",
			    hws[i].experr[0] ? hws[i].experr :
			    "no cert sections");
		for (k = 0; k < hws[i].naddrs; k++)
			for (a = 0; a < hws[i].nalgs; a++)
				eval_probe(out, &hws[i], &jobs[nj++],
				    &hws[i].algs[a]);
		for (a = 0; a < hws[i].nalgs; a++)
			eval_g4(out, &hws[i], &hws[i].algs[a]);
		eval_stale(out, &hws[i]);
		eval_g7(out, &hws[i], dns);
	}

	for (i = 0; i < nj; i++)
		probe_result_clear(&jobs[i].res);
	free(jobs);
	for (i = 0; i < conf->nhosts; i++)
		hostwork_done(&hws[i]);
	free(hws);
	tlsa_set_free(&zone);
}
