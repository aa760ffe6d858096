/*
 * checks_g8 - see checks_g8.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checks.h"
#include "checks_g8.h"
#include "expected.h"
#include "log.h"
#include "dnssig.h"
#include "nsverdict.h"
#include "tlsa.h"
#include "xalloc.h"
#include "zonesig.h"

/* ------------------------------------------------------------ served */

struct served_chain {
	char *host;
	unsigned port;
	char *alg;
	STACK_OF(X509) *chain;
};

struct checks_served {
	struct served_chain *v;
	size_t n;
};

struct checks_served *
checks_served_new(void)
{
	return xcalloc(1, sizeof(struct checks_served));
}

void
checks_served_free(struct checks_served *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++) {
		free(s->v[i].host);
		free(s->v[i].alg);
		sk_X509_pop_free(s->v[i].chain, X509_free);
	}
	free(s->v);
	free(s);
}

static int
same_leaf(STACK_OF(X509) *a, STACK_OF(X509) *b)
{
	return X509_cmp(sk_X509_value(a, 0), sk_X509_value(b, 0)) == 0;
}

void
checks_served_add(struct checks_served *s, const char *host, unsigned port,
    STACK_OF(X509) *chain, const char *alg)
{
	struct served_chain *c;
	size_t i;

	if (s == NULL || chain == NULL || sk_X509_num(chain) < 1)
		return;
	for (i = 0; i < s->n; i++)
		if (s->v[i].port == port && strcmp(s->v[i].host, host) == 0 &&
		    strcmp(s->v[i].alg, alg) == 0 &&
		    same_leaf(s->v[i].chain, chain))
			return;
	s->v = xreallocarray(s->v, s->n + 1, sizeof(*s->v));
	c = &s->v[s->n++];
	c->host = xstrdup(host);
	c->port = port;
	c->alg = xstrdup(alg);
	c->chain = X509_chain_up_ref(chain);
}

/* 1 when every leaf of a is in b. */
static int
served_within(const struct checks_served *a, const struct checks_served *b)
{
	size_t i, k;

	for (i = 0; a != NULL && i < a->n; i++) {
		for (k = 0; b != NULL && k < b->n; k++)
			if (a->v[i].port == b->v[k].port &&
			    strcmp(a->v[i].host, b->v[k].host) == 0 &&
			    same_leaf(a->v[i].chain, b->v[k].chain))
				break;
		if (b == NULL || k == b->n)
			return 0;
	}
	return 1;
}

int
checks_served_has_new(const struct checks_served *now,
    const struct checks_served *before)
{
	return !served_within(now, before);
}

/* ------------------------------------------------------------ memory */

struct behind {
	char *apex;
	char *addr;
	time_t since;
};

struct checks_g8_memory {
	struct behind *v;
	size_t n;
};

struct checks_g8_memory *
checks_g8_memory_new(void)
{
	return xcalloc(1, sizeof(struct checks_g8_memory));
}

void
checks_g8_memory_free(struct checks_g8_memory *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++) {
		free(m->v[i].apex);
		free(m->v[i].addr);
	}
	free(m->v);
	free(m);
}

static struct behind *
memory_find(struct checks_g8_memory *m, const char *apex, const char *addr)
{
	size_t i;

	for (i = 0; m != NULL && i < m->n; i++)
		if (strcmp(m->v[i].apex, apex) == 0 &&
		    strcmp(m->v[i].addr, addr) == 0)
			return &m->v[i];
	return NULL;
}

static void
memory_drop(struct checks_g8_memory *m, struct behind *b)
{
	size_t i = (size_t)(b - m->v);

	free(b->apex);
	free(b->addr);
	m->v[i] = m->v[--m->n];
}

/*
 * The time server s of z was first seen behind highest (now when new),
 * or -1 when it is not behind (its entry dropped); without memory -1.
 */
static time_t
memory_behind(struct checks_g8_memory *m, const struct dnsauth_zone *z,
    const struct dnsauth_server *s, int have_high, unsigned long highest,
    time_t now)
{
	struct behind *b;

	if (m == NULL || s->addr == NULL)
		return -1;
	b = memory_find(m, z->apex, s->addr);
	if (s->serial < 0 || !have_high)	/* no answer: as before */
		return b != NULL ? b->since : -1;
	if (!nsverdict_behind(s, highest)) {
		if (b != NULL)
			memory_drop(m, b);
		return -1;
	}
	if (b != NULL)
		return b->since;
	m->v = xreallocarray(m->v, m->n + 1, sizeof(*m->v));
	b = &m->v[m->n++];
	b->apex = xstrdup(z->apex);
	b->addr = xstrdup(s->addr);
	b->since = now;
	return now;
}

/* ------------------------------------------------------------ the pass */

static double
seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void
checks_g8_settings(const struct conf *conf, struct dnsauth_settings *s)
{
	memset(s, 0, sizeof(*s));
	s->anchor = conf->dns.trust_anchor_file;
	s->resolver = conf->dns.resolver;
	s->config = conf->dns.resolver_config;
	/* A resolver configuration brings its own trust anchors, unless
	 * trust_anchor_file names another file than the default (as the
	 * gate's settings). */
	if (s->config != NULL && s->anchor != NULL &&
	    strcmp(s->anchor, DNS_DEFAULT_ANCHOR) == 0)
		s->anchor = NULL;
	s->timeout_ms = checks_timeout_ms(conf);
}

int
checks_g8_enabled(const struct conf *conf)
{
	return conf->ns_interval > 0 && conf->tlsa_file == NULL &&
	    conf->nhosts > 0;
}

int
checks_ns_enabled(const struct conf *conf)
{
	return checks_g8_enabled(conf) || (conf->ns_interval > 0 &&
	    conf->tlsa_file == NULL && conf->dns.dnssec_health &&
	    (conf->nhosts > 0 || conf->ndomains > 0));
}

/* The chains served by host:port, into c (room for all of served). */
static size_t
host_chains(const struct checks_served *served, const char *host,
    unsigned port, struct nsverdict_chain *c)
{
	size_t i, n = 0;

	for (i = 0; served != NULL && i < served->n; i++)
		if (served->v[i].port == port &&
		    strcmp(served->v[i].host, host) == 0) {
			c[n].chain = served->v[i].chain;
			c[n++].alg = served->v[i].alg;
		}
	return n;
}

/*
 * One name whose zone the pass finds: a host (G8, G9) or a configured
 * domain (G9 over its MX RRset).
 */
struct label {
	const char *name;		/* the host column */
	char *owner;			/* the TLSA owner, or the domain */
	const struct conf_host *h;	/* NULL: a domain */
	const char *base;		/* the TLSA base domain */
	int g8, g9;			/* items of either check */
	size_t tlsa;			/* its TLSA question in the batch */
	size_t pick[4];			/* G9: its sets in the batch */
	size_t npick;
};

/* The batch of one zone: each question once. */
struct batch {
	struct dnsauth_question *q;
	size_t n;
};

static size_t
ask(struct batch *b, const char *name, int rrtype, int packet)
{
	size_t k;

	for (k = 0; k < b->n; k++)
		if (b->q[k].rrtype == rrtype && strcmp(b->q[k].name, name) == 0)
			break;
	if (k == b->n) {
		b->q = xreallocarray(b->q, b->n + 1, sizeof(*b->q));
		memset(&b->q[k], 0, sizeof(b->q[k]));
		b->q[k].name = name;
		b->q[k].rrtype = rrtype;
		b->n++;
	}
	b->q[k].want_packet |= packet;
	return k;
}

/* G8's items of label l from the answers of zone z. */
static void
g8_items(const struct label *l, struct dnsauth_zone *z,
    const struct checks_served *served, const time_t *since, time_t now,
    struct report *out)
{
	struct nsverdict_chain *c;
	struct report_item *it;
	struct verdict v;
	size_t k, nc;
	char *col;

	c = xcalloc((served != NULL ? served->n : 0) + 1, sizeof(*c));
	nc = host_chains(served, l->name, l->h->port, c);
	for (k = 0; k < z->nservers; k++) {
		struct dnsauth_server *srv = &z->servers[k];

		nsverdict_g8(z, srv, &srv->ans[l->tlsa], l->owner, l->base, c,
		    nc, since[k], now, &v);
		col = xasprintf("%.*s/%s", (int)(strlen(srv->name) -
		    (srv->name[0] != '\0' && strcmp(srv->name, ".") != 0 &&
		    srv->name[strlen(srv->name) - 1] == '.')), srv->name,
		    srv->addr ? srv->addr : "-");
		it = report_add(out, CHECK_G8, l->name, col, NULL, NULL,
		    v.state, "%s", v.reason);
		if (srv->serial >= 0) {
			it->ns_serialed = 1;
			it->ns_serial = srv->serial;
		}
		free(col);
	}
	free(c);
}

/* What the pass shares between zones. */
struct pass {
	const struct conf *conf;
	const struct dnsauth_settings *s;
	struct dns_ctx *ctx;
	const struct checks_served *served;
	struct checks_g8_memory *mem;
	time_t mono, wall;
	struct report *out;
};

/*
 * The labels idx[0..n) of one zone z: one batch per address with every
 * question of G8 (each TLSA owner) and of G9 (the RRsets senders need,
 * the apex's DNSKEY and SOA, with their raw answers), then G8's items
 * per (host, address) and G9's per label.
 */
static void
ns_zone(const struct pass *p, struct label *lab, const size_t *idx,
    size_t n, struct dnsauth_zone *z)
{
	struct batch b = { NULL, 0 };
	struct zonesig_zone zs;
	struct dns_answer ans;
	unsigned long high = 0, refresh = 0;
	size_t i, k, keys = 0, soa = 0;
	time_t *since;
	double t0;
	int g8 = 0, g9 = 0, have_high;

	/* The TLSA questions first: G8's reasons read the first answer
	 * that says why. */
	for (i = 0; i < n; i++) {
		struct label *l = &lab[idx[i]];

		g8 |= l->g8;
		g9 |= l->g9;
		if (l->h != NULL)
			l->tlsa = ask(&b, l->owner, DNS_TYPE_TLSA, l->g9);
	}
	if (g9) {
		keys = ask(&b, z->apex, DNSSIG_TYPE_DNSKEY, 1);
		soa = ask(&b, z->apex, DNSSIG_TYPE_SOA, 1);
	}
	for (i = 0; i < n; i++) {
		struct label *l = &lab[idx[i]];

		if (!l->g9)
			continue;
		l->npick = 0;
		if (l->h == NULL)
			l->pick[l->npick++] = ask(&b, l->owner, DNS_TYPE_MX, 1);
		else {
			l->pick[l->npick++] = l->tlsa;
			if (zonesig_in_zone(l->name, z->apex)) {
				l->pick[l->npick++] = ask(&b, l->name,
				    DNS_TYPE_A, 1);
				l->pick[l->npick++] = ask(&b, l->name,
				    DNS_TYPE_AAAA, 1);
			}
		}
		l->pick[l->npick++] = keys;
	}
	t0 = seconds();
	dnsauth_ask(z, p->s, b.q, b.n);
	log_debug("G8: %s: %zu address(es) asked %zu question(s) each in "
	    "%.3f s (%zu validating)", z->apex, z->nservers, b.n + 1,
	    seconds() - t0, z->nvalidating);

	if (g8) {
		have_high = nsverdict_highest(z, &high, &refresh) == 0;
		since = xcalloc(z->nservers + 1, sizeof(*since));
		for (k = 0; k < z->nservers; k++)
			since[k] = memory_behind(p->mem, z, &z->servers[k],
			    have_high, high, p->mono);
		for (i = 0; i < n; i++)
			if (lab[idx[i]].g8)
				g8_items(&lab[idx[i]], z, p->served, since,
				    p->mono, p->out);
		free(since);
	}
	if (g9) {
		zonesig_read(z, b.q, b.n, keys, soa, p->wall, &zs);
		/* The parent's DS, through the validating resolver; the
		 * anchor's when the zone is a trust anchor itself. */
		if (zonesig_anchor_ds(p->s->anchor, zs.apex, &zs.ds) > 0) {
			zs.ds_status = DNS_SECURE;
			zs.ds_anchor = p->s->anchor;
		} else {
			dns_lookup_rdata(p->ctx, zs.apex, DNSSIG_TYPE_DS,
			    p->s->timeout_ms, &ans, &zs.ds);
			zs.ds_status = ans.status;
			if (ans.status != DNS_SECURE)
				zs.ds_why = xstrdup(ans.why != NULL ?
				    ans.why : dns_status_name(ans.status));
			dns_answer_clear(&ans);
		}
		for (i = 0; i < n; i++) {
			const struct label *l = &lab[idx[i]];

			if (l->g9)
				checks_g9_zone(p->conf, l->name, l->owner,
				    l->h, &zs, l->pick, l->npick, p->wall,
				    p->out);
		}
		zonesig_zone_free(&zs);
	}
	free(b.q);
}

/*
 * The zones of the labels that failed as bogus (a DS that names no key,
 * an expired signature: what G9 must explain, not give up on), found
 * again through a context that lets bogus answers through: for G9 only.
 */
static void
find_bogus(const struct pass *p, struct label *lab, size_t n,
    struct dnsauth_zone *z, struct errbuf *err)
{
	struct dns_ctx *pctx;
	struct errbuf perr;
	size_t i;

	for (i = 0; i < n; i++)
		if (z[i].apex == NULL && lab[i].g9 &&
		    strstr(err[i].msg, "bogus") != NULL)
			break;
	if (i == n)
		return;
	pctx = dns_ctx_new(p->s->anchor, p->s->resolver, p->s->config, &perr);
	if (pctx != NULL && dns_ctx_set_permissive(pctx, &perr) == 0)
		for (; i < n; i++) {
			if (z[i].apex != NULL || !lab[i].g9 ||
			    strstr(err[i].msg, "bogus") == NULL)
				continue;
			dnsauth_zone_free(&z[i]);
			if (dnsauth_find(pctx, lab[i].owner, p->s->timeout_ms,
			    &z[i], &perr) == 0)
				lab[i].g8 = 0;	/* its G8 item said why */
		}
	dns_ctx_free(pctx);
}

/* The pass over the n labels. */
static void
ns_labels(const struct pass *p, struct label *lab, size_t n)
{
	struct dnsauth_zone *z;
	struct errbuf *err;
	char **names;
	size_t *idx, *done, i, k, m;
	double t0;

	if (n == 0)
		return;
	names = xcalloc(n, sizeof(*names));
	for (i = 0; i < n; i++)
		names[i] = lab[i].owner;
	z = xcalloc(n, sizeof(*z));
	err = xcalloc(n, sizeof(*err));
	t0 = seconds();
	if (p->ctx != NULL)
		(void)dnsauth_find_many(p->ctx, (const char *const *)names, n,
		    p->s->timeout_ms, z, err);
	for (i = 0; i < n; i++) {
		if (z[i].apex != NULL)
			continue;
		if (lab[i].g8)
			report_add(p->out, CHECK_G8, lab[i].name, "NS", NULL,
			    NULL, VERDICT_UNKNOWN, "the nameservers of %s are "
			    "not known: %s", lab[i].owner, p->ctx == NULL ?
			    "no resolver (see the dns section)" : err[i].msg);
	}
	if (p->ctx != NULL)
		find_bogus(p, lab, n, z, err);
	log_debug("G8: the zones of %zu name(s) found in %.3f s", n,
	    seconds() - t0);
	idx = xcalloc(n, sizeof(*idx));
	done = xcalloc(n, sizeof(*done));
	for (i = 0; i < n; i++) {
		if (done[i])
			continue;
		if (z[i].apex == NULL) {
			if (lab[i].g9)
				checks_g9_unknown(lab[i].name, p->ctx == NULL ?
				    "dns: no resolver (see the dns section)" :
				    err[i].msg, p->out);
			done[i] = 1;
			continue;
		}
		/* Every later name of the same zone joins this batch. */
		for (m = 0, k = i; k < n; k++)
			if (!done[k] && z[k].apex != NULL &&
			    strcmp(z[k].apex, z[i].apex) == 0) {
				idx[m++] = k;
				done[k] = 1;
			}
		ns_zone(p, lab, idx, m, &z[i]);
	}
	for (i = 0; i < n; i++)
		dnsauth_zone_free(&z[i]);
	free(names);
	free(z);
	free(err);
	free(idx);
	free(done);
}

void
checks_ns(const struct conf *conf, const struct dnscache *dns,
    const struct dnsauth_settings *s, struct dns_ctx *ctx,
    const struct checks_served *served, struct checks_g8_memory *mem,
    time_t now, time_t wall, struct report *out)
{
	struct pass p = { conf, s, ctx, served, mem, now, wall, out };
	struct verdict_base *base;
	struct label *lab;
	size_t i, n = 0;
	int g8 = checks_g8_enabled(conf), g9;

	if (!checks_ns_enabled(conf))
		return;
	g9 = conf->dns.dnssec_health;
	lab = xcalloc(conf->nhosts + conf->ndomains + 1, sizeof(*lab));
	base = xcalloc(conf->nhosts + 1, sizeof(*base));
	for (i = 0; i < conf->nhosts; i++) {
		struct label *l = &lab[n++];

		checks_base_domain(conf, &conf->hosts[i], dns, &base[i]);
		l->h = &conf->hosts[i];
		l->name = checks_host_name(l->h);
		l->base = base[i].name;
		l->owner = tlsa_owner_name(l->base, l->h->port);
		l->g8 = g8;
		l->g9 = g9;
	}
	/* Where a domain is configured, its MX RRset is needed too: G9
	 * rows under the domain's name (as its G7 rows), in its zone. */
	for (i = 0; g9 && i < conf->ndomains; i++) {
		struct label *l = &lab[n++];

		l->name = conf->domains[i].name;
		l->owner = xstrdup(l->name);
		l->g9 = 1;
	}
	ns_labels(&p, lab, n);
	for (i = 0; i < n; i++)
		free(lab[i].owner);
	free(lab);
	free(base);
}
