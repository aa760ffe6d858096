/*
 * dnsauth - see dnsauth.h.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnsauth.h"
#include "dnswire.h"
#include "xalloc.h"

#define DNS_TYPE_NS	2
#define DNS_TYPE_SOA	6

void
dnsauth_zone_free(struct dnsauth_zone *z)
{
	size_t i;

	for (i = 0; i < z->nservers; i++) {
		free(z->servers[i].name);
		free(z->servers[i].addr);
		free(z->servers[i].why);
		dns_answer_clear(&z->servers[i].tlsa);
	}
	free(z->servers);
	free(z->apex);
	memset(z, 0, sizeof(*z));
}

static struct dnsauth_server *
add_server(struct dnsauth_zone *z, const char *name, const char *addr)
{
	struct dnsauth_server *s;

	z->servers = xreallocarray(z->servers, z->nservers + 1,
	    sizeof(*z->servers));
	s = &z->servers[z->nservers++];
	memset(s, 0, sizeof(*s));
	s->name = xstrdup(name);
	s->addr = addr != NULL ? xstrdup(addr) : NULL;
	s->serial = -1;
	dns_answer_init(&s->tlsa);
	return s;
}

/* The parent of a normalised name ("a.b." -> "b."), or NULL at the root. */
static const char *
parent(const char *name)
{
	const char *dot;

	if (strcmp(name, ".") == 0)
		return NULL;
	for (dot = name; *dot != '\0'; dot++) {
		if (*dot == '\\' && dot[1] != '\0')
			dot++;	/* an escaped dot is not a separator */
		else if (*dot == '.')
			break;
	}
	return dot[1] == '\0' ? "." : dot + 1;
}

static int
find_apex(struct dns_ctx *ctx, const char *name, int timeout_ms,
    struct dnsauth_zone *z, struct errbuf *err)
{
	struct dns_answer ans;
	const char *n;
	char *norm;
	int ret = -1;

	norm = tlsa_name_normalise(name);
	for (n = norm; n != NULL; n = parent(n)) {
		dns_lookup(ctx, n, DNS_TYPE_SOA, timeout_ms, &ans);
		switch (ans.status) {
		case DNS_SECURE:
			break;
		case DNS_INSECURE:
			if (ans.havedata)
				break;
			/* FALLTHROUGH */
		case DNS_NXDOMAIN:
		case DNS_NODATA:
			dns_answer_clear(&ans);
			continue;
		default:
			errbuf_set(err, "%s: cannot find its zone: SOA %s: "
			    "%s%s%s%s", name, n, dns_status_name(ans.status),
			    ans.why ? ": " : "", ans.why ? ans.why : "",
			    ans.status == DNS_TIMEOUT ||
			    ans.status == DNS_SERVFAIL ? " (is the resolver "
			    "reachable? see the dns section or "
			    "--resolver-config)" : "");
			dns_answer_clear(&ans);
			goto out;
		}
		z->apex = xstrdup(n);
		z->soa = ans.status;
		dns_answer_clear(&ans);
		ret = 0;
		goto out;
	}
	errbuf_set(err, "%s: no zone found (no SOA record at any of its "
	    "names): check the name, or the resolver settings", name);
out:
	free(norm);
	return ret;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The NS names of the apex, sorted, without duplicates. */
static int
find_ns(struct dns_ctx *ctx, const char *name, int timeout_ms,
    struct dnsauth_zone *z, char ***names, size_t *nnames,
    struct errbuf *err)
{
	struct dns_answer ans;
	struct dns_rdata rd;
	char buf[1025];
	size_t i, used;
	int ret = -1;

	*names = NULL;
	*nnames = 0;
	dns_lookup_rdata(ctx, z->apex, DNS_TYPE_NS, timeout_ms, &ans, &rd);
	if (ans.status != DNS_SECURE && !(ans.status == DNS_INSECURE &&
	    ans.havedata)) {
		errbuf_set(err, "%s: no NS found for its zone %s: %s%s%s",
		    name, z->apex, dns_status_name(ans.status),
		    ans.why ? ": " : "", ans.why ? ans.why : "");
		goto out;
	}
	for (i = 0; i < rd.n; i++) {
		if (dnswire_name(rd.data[i], rd.len[i], &used, buf,
		    sizeof(buf)) < 0 || used != rd.len[i])
			continue;
		*names = xreallocarray(*names, *nnames + 1, sizeof(**names));
		(*names)[(*nnames)++] = xstrdup(buf);
	}
	if (*nnames == 0) {
		errbuf_set(err, "%s: no NS found for its zone %s (empty or "
		    "malformed NS RRset)", name, z->apex);
		goto out;
	}
	qsort(*names, *nnames, sizeof(**names), name_cmp);
	ret = 0;
out:
	dns_answer_clear(&ans);
	dns_rdata_free(&rd);
	return ret;
}

int
dnsauth_find(struct dns_ctx *ctx, const char *name, int timeout_ms,
    struct dnsauth_zone *z, struct errbuf *err)
{
	static const int types[] = { DNS_TYPE_A, DNS_TYPE_AAAA };
	struct dns_req *req;
	struct dns_answer *ans;
	char **names = NULL, *why;
	size_t nnames = 0, nreq = 0, i, k, r, before;
	int ret = -1;

	memset(z, 0, sizeof(*z));
	if (find_apex(ctx, name, timeout_ms, z, err) < 0 ||
	    find_ns(ctx, name, timeout_ms, z, &names, &nnames, err) < 0)
		goto out;
	/* Every A and AAAA at once: one wait, not two per NS name. */
	req = xcalloc(nnames * 2, sizeof(*req));
	for (i = 0; i < nnames; i++) {
		if (i > 0 && strcmp(names[i], names[i - 1]) == 0)
			continue;
		for (k = 0; k < 2; k++) {
			req[nreq].name = names[i];
			req[nreq++].rrtype = types[k];
		}
	}
	dns_lookup_many(ctx, req, nreq, timeout_ms);
	for (r = 0; r < nreq; r += 2) {
		before = z->nservers;
		why = NULL;
		for (k = r; k < r + 2; k++) {
			ans = &req[k].ans;
			for (i = 0; i < ans->naddr; i++)
				add_server(z, req[k].name, ans->addr[i]);
			if (ans->status != DNS_SECURE &&
			    ans->status != DNS_INSECURE &&
			    ans->status != DNS_NODATA &&
			    ans->status != DNS_NXDOMAIN && why == NULL)
				why = xasprintf("%s %s: %s%s%s", req[k].name,
				    req[k].rrtype == DNS_TYPE_A ? "A" : "AAAA",
				    dns_status_name(ans->status),
				    ans->why ? ": " : "",
				    ans->why ? ans->why : "");
			dns_answer_clear(ans);
		}
		if (z->nservers == before)
			add_server(z, req[r].name, NULL)->why = why != NULL ?
			    why : xasprintf("%s has no A or AAAA record",
			    req[r].name);
		else
			free(why);
	}
	free(req);
	ret = 0;
out:
	for (i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	return ret;
}

struct job {
	struct dnsauth_server *server;
	const struct dnsauth_settings *settings;
	struct dns_ctx *ctx;
	const char *apex;
	const char *owner;
	pthread_t thread;
	int started;
};

/*
 * The context for one server, made in the calling thread: libunbound
 * reads its config file with a flex scanner whose state is global, so
 * two threads in ub_ctx_config at once crash ("fatal flex scanner
 * internal error"). Only the lookups run in parallel.
 */
static struct dns_ctx *
server_ctx(const struct dnsauth_settings *s, const char *apex,
    struct dnsauth_server *srv)
{
	struct dns_ctx *ctx;
	struct errbuf err;

	ctx = dns_ctx_new(s->anchor, s->resolver, s->config, &err);
	if (ctx == NULL || dns_ctx_set_stub(ctx, apex, srv->addr,
	    &err) < 0) {
		srv->tlsa.status = DNS_ERROR;
		srv->why = xstrdup(err.msg);
		dns_ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

static void *
query_one(void *arg)
{
	struct job *j = arg;
	struct dnsauth_server *s = j->server;
	struct dns_req req[2];
	struct dns_rdata rd;
	unsigned long serial;

	/* TLSA and SOA at once: a dead server costs one timeout. */
	memset(req, 0, sizeof(req));
	req[0].name = j->owner;
	req[0].rrtype = DNS_TYPE_TLSA;
	req[1].name = j->apex;
	req[1].rrtype = DNS_TYPE_SOA;
	req[1].rd = &rd;
	dns_lookup_many(j->ctx, req, 2, j->settings->timeout_ms);
	s->tlsa = req[0].ans;
	if (rd.n > 0 && dnswire_soa_serial(rd.data[0], rd.len[0],
	    &serial) == 0)
		s->serial = (long)serial;
	dns_answer_clear(&req[1].ans);
	dns_rdata_free(&rd);
	if (s->tlsa.why != NULL && s->why == NULL)
		s->why = xstrdup(s->tlsa.why);
	return NULL;
}

void
dnsauth_query(struct dnsauth_zone *z, const struct dnsauth_settings *s,
    const char *owner)
{
	struct job *jobs;
	size_t i;

	jobs = xcalloc(z->nservers + 1, sizeof(*jobs));
	for (i = 0; i < z->nservers; i++) {
		if (z->servers[i].addr == NULL)
			continue;
		jobs[i].server = &z->servers[i];
		jobs[i].settings = s;
		jobs[i].apex = z->apex;
		jobs[i].owner = owner;
		jobs[i].ctx = server_ctx(s, z->apex, &z->servers[i]);
	}
	for (i = 0; i < z->nservers; i++) {
		if (jobs[i].ctx == NULL)
			continue;
		/* No thread to spare: ask this one in turn. */
		if (pthread_create(&jobs[i].thread, NULL, query_one,
		    &jobs[i]) == 0)
			jobs[i].started = 1;
		else
			query_one(&jobs[i]);
	}
	for (i = 0; i < z->nservers; i++) {
		if (jobs[i].started)
			pthread_join(jobs[i].thread, NULL);
		dns_ctx_free(jobs[i].ctx);
	}
	free(jobs);
}
