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
#include "nsverdict.h"
#include "tlsa.h"
#include "xalloc.h"

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
 * The hosts idx[0..n) of one zone z (found for the first of them): one
 * batch per address with every owner's TLSA question, then one item per
 * (host, address).
 */
static void
g8_zone(const struct checks_g8_host *hosts, char *const *owners,
    const size_t *idx, size_t n, struct dnsauth_zone *z,
    const struct dnsauth_settings *s, const struct checks_served *served,
    struct checks_g8_memory *mem, time_t now, struct report *out)
{
	struct dnsauth_question *q;
	struct nsverdict_chain *c;
	struct report_item *it;
	struct verdict v;
	unsigned long high = 0, refresh = 0;
	size_t *qi, nq = 0, i, k, nc;
	time_t *since;
	char *col;
	double t0;
	int have_high;

	q = xcalloc(n + 1, sizeof(*q));
	qi = xcalloc(n + 1, sizeof(*qi));
	for (i = 0; i < n; i++) {
		for (k = 0; k < nq; k++)
			if (strcmp(q[k].name, owners[idx[i]]) == 0)
				break;
		if (k == nq) {
			q[nq].name = owners[idx[i]];
			q[nq++].rrtype = DNS_TYPE_TLSA;
		}
		qi[i] = k;
	}
	t0 = seconds();
	dnsauth_ask(z, s, q, nq);
	log_debug("G8: %s: %zu address(es) asked %zu question(s) each in "
	    "%.3f s", z->apex, z->nservers, nq + 1, seconds() - t0);

	have_high = nsverdict_highest(z, &high, &refresh) == 0;
	since = xcalloc(z->nservers + 1, sizeof(*since));
	for (k = 0; k < z->nservers; k++)
		since[k] = memory_behind(mem, z, &z->servers[k], have_high,
		    high, now);
	c = xcalloc((served != NULL ? served->n : 0) + 1, sizeof(*c));
	for (i = 0; i < n; i++) {
		const struct checks_g8_host *h = &hosts[idx[i]];
		const char *base = h->base != NULL ? h->base : h->host;

		nc = host_chains(served, h->host, h->port, c);
		for (k = 0; k < z->nservers; k++) {
			struct dnsauth_server *srv = &z->servers[k];

			nsverdict_g8(z, srv, &srv->ans[qi[i]], owners[idx[i]],
			    base, c, nc, since[k], now, &v);
			col = xasprintf("%.*s/%s", (int)(strlen(srv->name) -
			    (srv->name[0] != '\0' && strcmp(srv->name, ".") !=
			    0 && srv->name[strlen(srv->name) - 1] == '.')),
			    srv->name, srv->addr ? srv->addr : "-");
			it = report_add(out, CHECK_G8, h->host, col, NULL, NULL,
			    v.state, "%s", v.reason);
			if (srv->serial >= 0) {
				it->ns_serialed = 1;
				it->ns_serial = srv->serial;
			}
			free(col);
		}
	}
	free(c);
	free(since);
	free(q);
	free(qi);
}

void
checks_g8_hosts(const struct checks_g8_host *hosts, size_t n,
    const struct dnsauth_settings *s, struct dns_ctx *ctx,
    const struct checks_served *served, struct checks_g8_memory *mem,
    time_t now, struct report *out)
{
	struct dnsauth_zone *z;
	struct errbuf *err;
	char **owners;
	size_t *idx, *done, i, k, m;
	double t0;

	if (n == 0)
		return;
	owners = xcalloc(n, sizeof(*owners));
	for (i = 0; i < n; i++)
		owners[i] = tlsa_owner_name(hosts[i].base != NULL ?
		    hosts[i].base : hosts[i].host, hosts[i].port);
	z = xcalloc(n, sizeof(*z));
	err = xcalloc(n, sizeof(*err));
	t0 = seconds();
	if (ctx != NULL)
		(void)dnsauth_find_many(ctx, (const char *const *)owners, n,
		    s->timeout_ms, z, err);
	log_debug("G8: the zones of %zu host(s) found in %.3f s", n,
	    seconds() - t0);
	idx = xcalloc(n, sizeof(*idx));
	done = xcalloc(n, sizeof(*done));
	for (i = 0; i < n; i++) {
		if (done[i])
			continue;
		if (z[i].apex == NULL) {
			report_add(out, CHECK_G8, hosts[i].host, "NS", NULL, NULL,
			    VERDICT_UNKNOWN, "the nameservers of %s are not "
			    "known: %s", owners[i], ctx == NULL ?
			    "no resolver (see the dns section)" : err[i].msg);
			done[i] = 1;
			continue;
		}
		/* Every later host of the same zone joins this batch. */
		for (m = 0, k = i; k < n; k++)
			if (!done[k] && z[k].apex != NULL &&
			    strcmp(z[k].apex, z[i].apex) == 0) {
				idx[m++] = k;
				done[k] = 1;
			}
		g8_zone(hosts, owners, idx, m, &z[i], s, served, mem, now,
		    out);
	}
	for (i = 0; i < n; i++) {
		dnsauth_zone_free(&z[i]);
		free(owners[i]);
	}
	free(owners);
	free(z);
	free(err);
	free(idx);
	free(done);
}

void
checks_g8(const struct conf *conf, const struct dnscache *dns,
    const struct dnsauth_settings *s, struct dns_ctx *ctx,
    const struct checks_served *served, struct checks_g8_memory *mem,
    time_t now, struct report *out)
{
	struct checks_g8_host *hosts;
	struct verdict_base *base;
	size_t i;

	if (!checks_g8_enabled(conf))
		return;
	hosts = xcalloc(conf->nhosts, sizeof(*hosts));
	base = xcalloc(conf->nhosts, sizeof(*base));
	for (i = 0; i < conf->nhosts; i++) {
		checks_base_domain(conf, &conf->hosts[i], dns, &base[i]);
		hosts[i].host = checks_host_name(&conf->hosts[i]);
		hosts[i].port = conf->hosts[i].port;
		hosts[i].base = base[i].name;
	}
	checks_g8_hosts(hosts, conf->nhosts, s, ctx, served, mem, now, out);
	free(hosts);
	free(base);
}
