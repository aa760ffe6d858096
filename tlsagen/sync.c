/*
 * sync - see sync.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certkey.h"
#include "dns.h"
#include "dnsauth.h"
#include "duration.h"
#include "expect.h"
#include "firstseen.h"
#include "gate.h"
#include "log.h"
#include "match.h"
#include "strbuf.h"
#include "probe.h"
#include "sync.h"
#include "tlsa.h"
#include "xalloc.h"

struct change {
	const char *op;			/* "add", "delete", "hold" */
	const struct tlsa_record *rec;
	long ttl;
	const char *why;		/* hold: the reason; else NULL */
};

/* The changes for one host, in the order they are found. */
struct changes {
	struct change *v;
	size_t n;
};

static void
changes_add(struct changes *c, const char *op, const struct tlsa_record *rec,
    long ttl, const char *why)
{
	c->v = xreallocarray(c->v, c->n + 1, sizeof(*c->v));
	c->v[c->n++] = (struct change){ op, rec, ttl, why };
}

/* A nameserver address that answered validly: records, or none. */
static int
answered_validly(const struct dnsauth_server *s)
{
	return s->addr != NULL && (s->tlsa.status == DNS_SECURE ||
	    s->tlsa.status == DNS_NODATA || s->tlsa.status == DNS_NXDOMAIN);
}

/* One line of the chosen form for a change in zone apex. */
static void
render(struct strbuf *out, enum tlsa_form form, const char *apex,
    const struct change *c, size_t *nitems)
{
	struct tlsa_record r = *c->rec;
	char *s;

	r.ttl = c->ttl;
	if (form == TLSA_FORM_JSON) {
		s = tlsa_record_format(&r, TLSA_FORM_JSON);
		strbuf_printf(out, "%s{\"op\":\"%s\",\"zone\":", *nitems ?
		    ",\n" : "", c->op);
		strbuf_json(out, apex);
		strbuf_printf(out, ",%s", s + 1);
		if (c->why != NULL) {
			/* Replace the closing brace: add "why". */
			out->len--;
			strbuf_printf(out, ",\"why\":");
			strbuf_json(out, c->why);
			strbuf_printf(out, "}");
		}
		(*nitems)++;
	} else {
		s = tlsa_record_format(&r, TLSA_FORM_ZONE);
		if (strcmp(c->op, "hold") == 0)
			strbuf_printf(out, "; held: update delete %s: %s\n", s,
			    c->why);
		else
			strbuf_printf(out, "update %s %s\n", c->op, s);
	}
	free(s);
}

/*
 * The addresses to probe: the host's probe list (the local listener of
 * an entry "PUBLISHED = LOCAL", as the guard dials it), else its A and
 * AAAA.
 */
static char **
probe_addresses(const struct run *r, const struct expect *e,
    struct dns_ctx *ctx, int timeout_ms, size_t *n)
{
	struct dns_answer ans;
	char **v = NULL;
	size_t i, k;
	int t;

	*n = 0;
	for (i = 0; r->conf != NULL && i < r->conf->nhosts; i++) {
		const struct conf_host *h = &r->conf->hosts[i];

		if (!tlsa_name_equal(h->name, e->host) || h->nprobe == 0)
			continue;
		for (k = 0; k < h->nprobe; k++)
			add_string(&v, n, xstrdup(h->probe_local != NULL &&
			    h->probe_local[k] != NULL ? h->probe_local[k] :
			    h->probe[k]));
		return v;
	}
	for (t = 0; t < 2; t++) {
		if (dns_lookup(ctx, e->host, t ? DNS_TYPE_AAAA : DNS_TYPE_A,
		    timeout_ms, &ans) == 0 && (ans.status == DNS_SECURE ||
		    ans.status == DNS_INSECURE))
			for (k = 0; k < ans.naddr; k++)
				add_string(&v, n, xstrdup(ans.addr[k]));
		dns_answer_clear(&ans);
	}
	return v;
}

/*
 * Probe every address of host (e as configured) for every algorithm of
 * e (its records at the TLSA base domain: gate_base); served[] gets the
 * served chains (the caller frees them). Returns NULL when all were seen,
 * else why one could not be (malloc'd).
 */
static char *
probe_served(const struct run *r, const struct expect *host,
    const struct expect *e, struct dns_ctx *ctx, int timeout_ms, STACK_OF(X509) ***served,
    size_t *nserved)
{
	struct probe_params p;
	struct probe_result res;
	char **addrs, *why = NULL, sni[256];
	const char *family, *base;
	size_t naddrs, i, k, n;

	*served = NULL;
	*nserved = 0;
	/* The probe sends the name of the records it syncs as SNI, as
	 * senders do (RFC 7672 section 8.1): _PORT._tcp.NAME. gives NAME. */
	base = strstr(e->owner, "._tcp.") != NULL ?
	    strstr(e->owner, "._tcp.") + 6 : e->host;
	snprintf(sni, sizeof(sni), "%s", base);
	n = strlen(sni);
	if (n > 1 && sni[n - 1] == '.')
		sni[n - 1] = '\0';
	addrs = probe_addresses(r, host, ctx, timeout_ms, &naddrs);
	if (naddrs == 0)
		why = xasprintf("%s has no address to probe: the chain it "
		    "serves is unknown", host->host);
	for (i = 0; why == NULL && i < naddrs; i++) {
		for (k = 0; why == NULL && k < e->ncerts; k++) {
			if (e->certs[k].chain == NULL)
				continue;
			family = certkey_cert_alg_family(sk_X509_value(
			    e->certs[k].chain->certs, 0));
			memset(&p, 0, sizeof(p));
			memset(&res, 0, sizeof(res));
			p.addr = addrs[i];
			p.port = e->port;
			p.helo = "tlsagen.invalid";
			p.sni = sni;
			p.alg = family;
			p.timeout_ms = timeout_ms;
			if (probe_run(&p, &res) < 0 || res.chain == NULL)
				why = xasprintf("cannot see what %s port %u "
				    "serves for %s (%s: %s): the chain it "
				    "serves is unknown", addrs[i], e->port,
				    family ? family : "?",
				    probe_status_name(res.status), res.detail);
			else {
				*served = xreallocarray(*served, *nserved + 1,
				    sizeof(**served));
				(*served)[(*nserved)++] = res.chain;
				res.chain = NULL;
			}
			probe_result_clear(&res);
		}
	}
	for (i = 0; i < naddrs; i++)
		free(addrs[i]);
	free(addrs);
	return why;
}

/* Does rec alone match one of the served chains? 1 yes, 0 no, -1 error. */
static int
matches_served(const struct expect *e, const struct tlsa_record *rec,
    STACK_OF(X509) **served, size_t nserved)
{
	struct tlsa_set one;
	struct match_result res;
	struct errbuf err;
	size_t i;
	int m = 0;

	tlsa_set_init(&one);
	tlsa_set_add(&one, rec);
	for (i = 0; m == 0 && i < nserved; i++) {
		memset(&res, 0, sizeof(res));
		m = match_chain(&one, NULL, e->host, served[i], &res, &err);
		if (m < 0)
			log_warnx("%s: %s", e->host, err.msg);
	}
	tlsa_set_free(&one);
	return m;
}

/*
 * Is every needed record at every address, old enough? NULL if so, else
 * the first reason why not (malloc'd): a missing record is named before
 * a young one, as it is what to act on.
 */
static char *
settled(const struct options *o, const struct expect *e,
    const struct dnsauth_zone *z, const struct tlsa_set *needed,
    const struct firstseen *fs, time_t now)
{
	const struct dnsauth_server *s;
	char d1[32], d2[32], *hex;
	char *why = NULL;
	long min_age;
	time_t first;
	size_t i, k;
	int pass;

	for (pass = 0; why == NULL && pass < 2; pass++) {
		for (i = 0; why == NULL && i < z->nservers; i++) {
			s = &z->servers[i];
			if (!answered_validly(s))
				return xasprintf("%s %s did not answer validly "
				    "(%s)", s->name, s->addr ? s->addr : "-",
				    s->why ? s->why :
				    dns_status_name(s->tlsa.status));
			min_age = o->min_age_set ? o->min_age :
			    2 * (s->tlsa.ttl >= 0 ? s->tlsa.ttl : e->ttl);
			for (k = 0; why == NULL && k < needed->n; k++) {
				hex = tlsa_record_format(&needed->v[k],
				    TLSA_FORM_RDATA);
				if (pass == 0) {
					if (tlsa_set_find(&s->tlsa.tlsa, NULL,
					    &needed->v[k]) < 0)
						why = xasprintf("%s %s does not "
						    "serve %s yet", s->name,
						    s->addr, hex);
				} else if ((first = firstseen_get(fs, s->addr,
				    &needed->v[k])) < 0 ||
				    now - first < min_age)
					why = xasprintf("%s %s has served %s "
					    "for less than %s (counts in %s)",
					    s->name, s->addr, hex,
					    duration_format(min_age, d1,
					    sizeof(d1)), duration_format(first <
					    0 ? min_age : min_age - (now - first),
					    d2, sizeof(d2)));
				free(hex);
			}
		}
	}
	return why;
}

/*
 * The union of the records the addresses that answered validly serve at
 * e->owner into published (each also observed in fs when not NULL).
 * Returns how many addresses answered validly.
 */
static size_t
sync_published(const struct dnsauth_zone *z, const struct expect *e,
    struct firstseen *fs, time_t now, struct tlsa_set *published)
{
	const struct dnsauth_server *s;
	size_t answered = 0, i, k;

	for (i = 0; i < z->nservers; i++) {
		s = &z->servers[i];
		if (!answered_validly(s))
			continue;
		answered++;
		if (fs != NULL)
			firstseen_observe(fs, s->addr, e->owner, &s->tlsa.tlsa,
			    now);
		for (k = 0; k < s->tlsa.tlsa.n; k++)
			if (tlsa_set_find(published, NULL,
			    &s->tlsa.tlsa.v[k]) < 0)
				tlsa_set_add(published, &s->tlsa.tlsa.v[k]);
	}
	return answered;
}

/* The records e's entries need, once each, owned by e->owner. */
static void
sync_needed(const struct expect *e, struct tlsa_set *needed)
{
	size_t k;

	for (k = 0; k < e->nentries; k++)
		if (tlsa_set_find(needed, NULL, &e->entries[k].rec) < 0) {
			tlsa_set_add(needed, &e->entries[k].rec);
			/* At the base domain, which may not be the entry's. */
			free(needed->v[needed->n - 1].owner);
			needed->v[needed->n - 1].owner = xstrdup(e->owner);
		}
}

/* Adds: a needed record that some address that answered lacks. */
static void
sync_adds(const struct dnsauth_zone *z, const struct expect *e,
    const struct tlsa_set *needed, struct changes *ch)
{
	const struct dnsauth_server *s;
	size_t i, k;

	for (k = 0; k < needed->n; k++) {
		for (i = 0; i < z->nservers; i++) {
			s = &z->servers[i];
			if (!answered_validly(s))
				continue;
			if (tlsa_set_find(&s->tlsa.tlsa, NULL,
			    &needed->v[k]) < 0)
				break;
		}
		if (i == z->nservers)
			continue;
		changes_add(ch, "add", &needed->v[k], e->ttl, NULL);
	}
}

/* What the deletes of one host found out once: why they must wait (or
 * NULL), else the chains the MTA serves. */
struct sync_served {
	char *why;
	STACK_OF(X509) **chains;
	size_t n;
};

/*
 * Deletes: published, needed by nothing, not served, settled; a record
 * the MTA serves now, or one that is not settled, is held. Returns 0, or
 * EXIT_ERROR when a record cannot be compared with the served chains.
 */
static int
sync_deletes(const struct options *o, const struct run *r,
    const struct expect *host, const struct expect *e,
    const struct dnsauth_zone *z, const struct tlsa_set *needed,
    const struct tlsa_set *published, struct dns_ctx *ctx, int timeout_ms,
    struct firstseen *fs, time_t now, struct sync_served *sv,
    struct changes *ch)
{
	int status = 0, m;
	size_t k;

	for (k = 0; k < published->n; k++) {
		if (tlsa_set_find(needed, NULL, &published->v[k]) >= 0)
			continue;
		if (sv->why == NULL && sv->chains == NULL) {
			sv->why = settled(o, e, z, needed, fs, now);
			if (sv->why == NULL)
				sv->why = probe_served(r, host, e, ctx,
				    timeout_ms, &sv->chains, &sv->n);
			if (sv->why == NULL && sv->chains == NULL)
				sv->chains = xcalloc(1, sizeof(*sv->chains));
		}
		if (sv->why != NULL) {
			changes_add(ch, "hold", &published->v[k],
			    published->v[k].ttl, sv->why);
			continue;
		}
		if ((m = matches_served(e, &published->v[k], sv->chains,
		    sv->n)) != 0) {
			if (m < 0)
				status = EXIT_ERROR;
			/* Never delete what the MTA serves now. */
			changes_add(ch, "hold", &published->v[k],
			    published->v[k].ttl, m < 0 ? "cannot be compared "
			    "with the chain the MTA serves" : "it matches the "
			    "chain the MTA serves now: reload the MTA with the "
			    "new chain first");
			continue;
		}
		changes_add(ch, "delete", &published->v[k],
		    published->v[k].ttl, NULL);
	}
	return status;
}

/* The changes in the chosen form: a header, the updates, then the holds. */
static void
sync_render(const struct options *o, const struct expect *host,
    const struct expect *e, const struct dnsauth_zone *z,
    const struct changes *ch, size_t nchanges, struct strbuf *out,
    size_t *nitems)
{
	size_t i;

	if (o->form != TLSA_FORM_JSON) {
		strbuf_printf(out, "; %s%s%s %zu nameserver address%s of %s: "
		    "%s\n", e->host != host->host ? host->host : "",
		    e->host != host->host ? " \u2192 " : "", e->host, z->nservers, z->nservers == 1 ? "" : "es", z->apex,
		    nchanges ? "changes" : "in sync");
		if (nchanges)
			strbuf_printf(out, "zone %s\n", z->apex);
	}
	for (i = 0; i < ch->n; i++)
		if (strcmp(ch->v[i].op, "hold") != 0)
			render(out, o->form, z->apex, &ch->v[i], nitems);
	if (o->form != TLSA_FORM_JSON && nchanges)
		strbuf_printf(out, "send\n");
	for (i = 0; i < ch->n; i++)
		if (strcmp(ch->v[i].op, "hold") == 0)
			render(out, o->form, z->apex, &ch->v[i], nitems);
}

/*
 * One host: returns the worst exit status for it. Its records are synced
 * where senders look for them (RFC 7672 section 2.2.3, as the gate does):
 * at the secure CNAME expansion of its name unless that has none.
 */
static int
sync_host(const struct options *o, const struct run *r,
    const struct expect *host, const struct dnsauth_settings *settings,
    struct dns_ctx *ctx, struct firstseen *fs, time_t now,
    struct strbuf *out, size_t *nitems)
{
	struct dnsauth_zone z;
	struct tlsa_set needed, published;
	struct changes ch = { NULL, 0 };
	struct sync_served sv = { NULL, NULL, 0 };
	struct expect eb;
	const struct expect *e = &eb;
	struct errbuf err;
	size_t i, nchanges;
	int status = 0;

	tlsa_set_init(&needed);
	tlsa_set_init(&published);
	gate_base(ctx, host, settings->timeout_ms, &eb);
	if (dnsauth_find(ctx, e->owner, settings->timeout_ms, &z, &err) < 0) {
		log_warnx("%s", err.msg);
		status = EXIT_ERROR;
		goto out;
	}
	dnsauth_query(&z, settings, e->owner);
	if (sync_published(&z, e, fs, now, &published) == 0) {
		log_warnx("%s: none of the %zu nameserver address%s of %s "
		    "answered validly: nothing can be compared; check the "
		    "network, the resolver settings or the zone's signatures",
		    e->host, z.nservers, z.nservers == 1 ? "" : "es", z.apex);
		status = EXIT_ERROR;
		goto out;
	}
	sync_needed(e, &needed);
	sync_adds(&z, e, &needed, &ch);
	status = sync_deletes(o, r, host, e, &z, &needed, &published, ctx,
	    settings->timeout_ms, fs, now, &sv, &ch);

	for (i = 0, nchanges = 0; i < ch.n; i++)
		if (strcmp(ch.v[i].op, "hold") != 0)
			nchanges++;
		else if (status == 0)
			status = EXIT_CHECK_FAILED;
	sync_render(o, host, e, &z, &ch, nchanges, out, nitems);
out:
	for (i = 0; i < sv.n; i++)
		sk_X509_pop_free(sv.chains[i], X509_free);
	free(sv.chains);
	free(sv.why);
	free(ch.v);
	tlsa_set_free(&needed);
	tlsa_set_free(&published);
	dnsauth_zone_free(&z);
	gate_base_free(&eb, host);
	return status;
}

int
sync_run(const struct options *o, const struct run *r, time_t now)
{
	const struct conf *conf = r->conf;
	struct dnsauth_settings settings;
	struct firstseen state, *fs = NULL;
	struct dns_ctx *ctx = NULL;
	struct strbuf out;
	struct errbuf err;
	char *statepath = NULL;
	size_t i, nitems = 0;
	int status = 0, st;

	memset(&out, 0, sizeof(out));
	gate_settings(o, conf, &settings);

	/* The gate's state: deletions wait for the ages it keeps. */
	statepath = o->state != NULL ? xstrdup(o->state) :
	    gate_state_path(conf);
	firstseen_init(&state, statepath);
	fs = &state;
	if (firstseen_load(fs, now, &err) < 0) {
		log_warnx("%s", err.msg);
		status = EXIT_ERROR;
		goto out;
	}
	for (i = 0; i < fs->nwarnings; i++)
		log_warnx("warning: %s", fs->warnings[i]);
	if ((ctx = dns_ctx_new(settings.anchor, settings.resolver,
	    settings.config, &err)) == NULL || dns_ctx_ready(ctx, &err) < 0) {
		log_warnx("%s", err.msg);
		status = EXIT_ERROR;
		goto out;
	}
	if (o->form == TLSA_FORM_JSON)
		strbuf_printf(&out, "[\n");
	for (i = 0; i < r->nexpects; i++) {
		st = sync_host(o, r, r->expects[i], &settings, ctx, fs, now,
		    &out, &nitems);
		if (st > status)
			status = st;
	}
	if (o->form == TLSA_FORM_JSON)
		strbuf_printf(&out, "%s]\n", nitems ? "\n" : "");
	if (firstseen_save(fs, &err) < 0) {
		log_warnx("%s", err.msg);
		status = EXIT_ERROR;
	}
	/* A failed host prints nothing of its own: the others still do. */
	if (out.len > 0)
		fwrite(out.buf, 1, out.len, stdout);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_warn("standard output");
		status = EXIT_ERROR;
	}
out:
	dns_ctx_free(ctx);
	firstseen_free(fs);
	free(statepath);
	strbuf_free(&out);
	return status;
}
