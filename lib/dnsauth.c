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
#define DNS_TYPE_DNSKEY	48

void
dnsauth_zone_free(struct dnsauth_zone *z)
{
	size_t i, k;

	for (i = 0; i < z->nservers; i++) {
		free(z->servers[i].name);
		free(z->servers[i].addr);
		free(z->servers[i].why);
		dns_answer_clear(&z->servers[i].tlsa);
		for (k = 0; k < z->servers[i].nans; k++) {
			dns_answer_clear(&z->servers[i].ans[k]);
			dns_rdata_free(&z->servers[i].rd[k]);
		}
		free(z->servers[i].ans);
		free(z->servers[i].rd);
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
	s->soa_status = DNS_ERROR;
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

/*
 * The apex of each name: every name still open is asked for the SOA of
 * its current candidate (the name, then its parents), all names of one
 * level in one batch (a candidate shared by several names asked once),
 * so that n names cost as many rounds as the deepest needs, not n walks.
 * Returns how many names failed (err[i] set, z[i].apex NULL).
 */
static size_t
find_apexes(struct dns_ctx *ctx, const char *const *names, size_t n,
    int timeout_ms, struct dnsauth_zone *z, struct errbuf *err)
{
	struct dns_req *req;
	struct dns_answer *ans;
	char **norm;
	const char **cur;
	size_t *slot, i, k, nreq, nfail = 0, open = n;

	norm = xcalloc(n + 1, sizeof(*norm));
	cur = xcalloc(n + 1, sizeof(*cur));
	slot = xcalloc(n + 1, sizeof(*slot));
	req = xcalloc(n + 1, sizeof(*req));
	for (i = 0; i < n; i++)
		cur[i] = norm[i] = tlsa_name_normalise(names[i]);
	while (open > 0) {
		nreq = 0;
		for (i = 0; i < n; i++) {
			if (cur[i] == NULL)
				continue;
			for (k = 0; k < nreq; k++)
				if (strcmp(req[k].name, cur[i]) == 0)
					break;
			if (k == nreq) {
				memset(&req[nreq], 0, sizeof(req[nreq]));
				req[nreq].name = cur[i];
				req[nreq++].rrtype = DNS_TYPE_SOA;
			}
			slot[i] = k;
		}
		dns_lookup_many(ctx, req, nreq, timeout_ms);
		for (i = 0; i < n; i++) {
			if (cur[i] == NULL)
				continue;
			ans = &req[slot[i]].ans;
			switch (ans->status) {
			case DNS_SECURE:
				break;
			case DNS_INSECURE:
				if (ans->havedata)
					break;
				/* FALLTHROUGH */
			case DNS_NXDOMAIN:
			case DNS_NODATA:
				if ((cur[i] = parent(cur[i])) == NULL) {
					errbuf_set(&err[i], "%s: no zone found "
					    "(no SOA record at any of its "
					    "names): check the name, or the "
					    "resolver settings", names[i]);
					nfail++;
					open--;
				}
				continue;
			default:
				errbuf_set(&err[i], "%s: cannot find its zone: "
				    "SOA %s: %s%s%s%s", names[i], cur[i],
				    dns_status_name(ans->status),
				    ans->why ? ": " : "", ans->why ? ans->why :
				    "", ans->status == DNS_TIMEOUT ||
				    ans->status == DNS_SERVFAIL ? " (is the "
				    "resolver reachable? see the dns section "
				    "or --resolver-config)" : "");
				cur[i] = NULL;
				nfail++;
				open--;
				continue;
			}
			z[i].apex = xstrdup(cur[i]);
			z[i].soa = ans->status;
			cur[i] = NULL;
			open--;
		}
		for (k = 0; k < nreq; k++)
			dns_answer_clear(&req[k].ans);
	}
	for (i = 0; i < n; i++)
		free(norm[i]);
	free(norm);
	free(cur);
	free(slot);
	free(req);
	return nfail;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The NS names of an NS answer (rd), sorted, into names. */
static int
ns_names(const char *name, const char *apex, const struct dns_answer *ans,
    const struct dns_rdata *rd, char ***names, size_t *nnames,
    struct errbuf *err)
{
	char buf[1025];
	size_t i, used;

	*names = NULL;
	*nnames = 0;
	if (ans->status != DNS_SECURE && !(ans->status == DNS_INSECURE &&
	    ans->havedata)) {
		errbuf_set(err, "%s: no NS found for its zone %s: %s%s%s",
		    name, apex, dns_status_name(ans->status),
		    ans->why ? ": " : "", ans->why ? ans->why : "");
		return -1;
	}
	for (i = 0; i < rd->n; i++) {
		if (dnswire_name(rd->data[i], rd->len[i], &used, buf,
		    sizeof(buf)) < 0 || used != rd->len[i])
			continue;
		*names = xreallocarray(*names, *nnames + 1, sizeof(**names));
		(*names)[(*nnames)++] = xstrdup(buf);
	}
	if (*nnames == 0) {
		errbuf_set(err, "%s: no NS found for its zone %s (empty or "
		    "malformed NS RRset)", name, apex);
		return -1;
	}
	qsort(*names, *nnames, sizeof(**names), name_cmp);
	return 0;
}

/* Index of name in req[0..n) (type A entries), or n. */
static size_t
req_find(const struct dns_req *req, size_t n, const char *name)
{
	size_t k;

	for (k = 0; k < n; k += 2)
		if (strcmp(req[k].name, name) == 0)
			return k;
	return n;
}

size_t
dnsauth_find_many(struct dns_ctx *ctx, const char *const *names, size_t n,
    int timeout_ms, struct dnsauth_zone *z, struct errbuf *err)
{
	struct dns_req *nsreq, *areq;
	struct dns_rdata *rd;
	struct dns_answer *ans;
	char ***ns, *why;
	size_t *nns, *slot, i, j, k, r, nz = 0, na = 0, before, nfail;

	for (i = 0; i < n; i++) {
		memset(&z[i], 0, sizeof(z[i]));
		err[i].msg[0] = '\0';
	}
	nfail = find_apexes(ctx, names, n, timeout_ms, z, err);

	/* The NS RRset of every apex found, each asked once. */
	nsreq = xcalloc(n + 1, sizeof(*nsreq));
	rd = xcalloc(n + 1, sizeof(*rd));
	slot = xcalloc(n + 1, sizeof(*slot));
	for (i = 0; i < n; i++) {
		if (z[i].apex == NULL)
			continue;
		for (k = 0; k < nz; k++)
			if (strcmp(nsreq[k].name, z[i].apex) == 0)
				break;
		if (k == nz) {
			nsreq[nz].name = z[i].apex;
			nsreq[nz].rrtype = DNS_TYPE_NS;
			nsreq[nz].rd = &rd[nz];
			nz++;
		}
		slot[i] = k;
	}
	dns_lookup_many(ctx, nsreq, nz, timeout_ms);
	ns = xcalloc(n + 1, sizeof(*ns));
	nns = xcalloc(n + 1, sizeof(*nns));
	for (i = 0; i < n; i++)
		if (z[i].apex != NULL && ns_names(names[i], z[i].apex,
		    &nsreq[slot[i]].ans, &rd[slot[i]], &ns[i], &nns[i],
		    &err[i]) < 0) {
			free(z[i].apex);
			z[i].apex = NULL;
			nfail++;
		}

	/* Every A and AAAA of every NS name at once: one wait. */
	areq = NULL;
	for (i = 0; i < n; i++)
		for (j = 0; j < nns[i]; j++) {
			if (req_find(areq, na, ns[i][j]) < na)
				continue;
			areq = xreallocarray(areq, na + 2, sizeof(*areq));
			memset(&areq[na], 0, 2 * sizeof(*areq));
			areq[na].name = areq[na + 1].name = ns[i][j];
			areq[na].rrtype = DNS_TYPE_A;
			areq[na + 1].rrtype = DNS_TYPE_AAAA;
			na += 2;
		}
	dns_lookup_many(ctx, areq, na, timeout_ms);
	for (i = 0; i < n; i++)
		for (j = 0; j < nns[i]; j++) {
			if (j > 0 && strcmp(ns[i][j], ns[i][j - 1]) == 0)
				continue;
			r = req_find(areq, na, ns[i][j]);
			before = z[i].nservers;
			why = NULL;
			for (k = r; k < r + 2; k++) {
				ans = &areq[k].ans;
				for (size_t a = 0; a < ans->naddr; a++)
					add_server(&z[i], areq[k].name,
					    ans->addr[a]);
				if (ans->status != DNS_SECURE &&
				    ans->status != DNS_INSECURE &&
				    ans->status != DNS_NODATA &&
				    ans->status != DNS_NXDOMAIN && why == NULL)
					why = xasprintf("%s %s: %s%s%s",
					    areq[k].name, areq[k].rrtype ==
					    DNS_TYPE_A ? "A" : "AAAA",
					    dns_status_name(ans->status),
					    ans->why ? ": " : "",
					    ans->why ? ans->why : "");
			}
			if (z[i].nservers == before)
				add_server(&z[i], ns[i][j], NULL)->why =
				    why != NULL ? why : xasprintf("%s has no "
				    "A or AAAA record", ns[i][j]);
			else
				free(why);
		}
	for (k = 0; k < na; k++)
		dns_answer_clear(&areq[k].ans);
	free(areq);
	for (k = 0; k < nz; k++) {
		dns_answer_clear(&nsreq[k].ans);
		dns_rdata_free(&rd[k]);
	}
	for (i = 0; i < n; i++) {
		for (j = 0; j < nns[i]; j++)
			free(ns[i][j]);
		free(ns[i]);
	}
	free(ns);
	free(nns);
	free(nsreq);
	free(rd);
	free(slot);
	return nfail;
}

int
dnsauth_find(struct dns_ctx *ctx, const char *name, int timeout_ms,
    struct dnsauth_zone *z, struct errbuf *err)
{
	return dnsauth_find_many(ctx, &name, 1, timeout_ms, z, err) == 0 ?
	    0 : -1;
}

struct job {
	struct dnsauth_server *server;
	const struct dnsauth_settings *settings;
	struct dns_ctx *ctx;
	const char *apex;
	const struct dnsauth_question *q;
	size_t nq;
	int unvalidated;	/* ctx validates nothing */
	int asked;
	struct dns_answer soa, dnskey;	/* with their packets */
	pthread_t thread;
	int started;
};

/*
 * The context for one server, made in the calling thread: libunbound
 * reads its config file with a flex scanner whose state is global, so
 * two threads in ub_ctx_config at once crash ("fatal flex scanner
 * internal error"). Only the lookups run in parallel. unvalidated: a
 * context that checks no signature (the answers still carry their
 * RRSIGs).
 */
static struct dns_ctx *
server_ctx(const struct dnsauth_settings *s, const char *apex,
    struct dnsauth_server *srv, int unvalidated)
{
	struct dns_ctx *ctx;
	struct errbuf err;

	ctx = dns_ctx_new(s->anchor, s->resolver, s->config, &err);
	if (ctx == NULL || dns_ctx_set_stub(ctx, apex, srv->addr,
	    &err) < 0 || (unvalidated &&
	    dns_ctx_set_unvalidated(ctx, &err) < 0)) {
		srv->soa_status = DNS_ERROR;
		free(srv->why);
		srv->why = xstrdup(err.msg);
		dns_ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

static void *
ask_one(void *arg)
{
	struct job *j = arg;
	struct dnsauth_server *s = j->server;
	struct dns_req *req;
	struct dns_rdata soa;
	struct dnswire_soa f;
	size_t k;

	/* Everything at once: a dead server costs one timeout. */
	req = xcalloc(j->nq + 2, sizeof(*req));
	memset(&soa, 0, sizeof(soa));
	req[0].name = req[1].name = j->apex;
	req[0].rrtype = DNS_TYPE_SOA;
	req[0].rd = &soa;
	req[1].rrtype = DNS_TYPE_DNSKEY;
	for (k = 0; k < j->nq; k++) {
		req[k + 2].name = j->q[k].name;
		req[k + 2].rrtype = j->q[k].rrtype;
		req[k + 2].rd = &s->rd[k];
	}
	for (k = 0; k < j->nq + 2; k++)
		req[k].want_packet = 1;
	dns_lookup_many(j->ctx, req, j->nq + 2, j->settings->timeout_ms);
	s->soa_status = req[0].ans.status;
	if (soa.n > 0 && dnswire_soa(soa.data[0], soa.len[0], &f) == 0) {
		s->serial = (long)f.serial;
		s->soa = f;
	}
	for (k = 0; k < j->nq; k++)
		s->ans[k] = req[k + 2].ans;
	if (s->why == NULL) {
		for (k = 0; k < j->nq && s->why == NULL; k++)
			if (s->ans[k].why != NULL)
				s->why = xstrdup(s->ans[k].why);
		if (s->why == NULL && req[0].ans.why != NULL)
			s->why = xstrdup(req[0].ans.why);
	}
	j->soa = req[0].ans;
	j->dnskey = req[1].ans;
	dns_rdata_free(&soa);
	free(req);
	return NULL;
}

/* Past the (possibly compressed) name at p[*pos]; 0, or -1 if malformed. */
static int
skip_name(const unsigned char *p, size_t len, size_t *pos)
{
	while (*pos < len) {
		if ((p[*pos] & 0xc0) == 0xc0) {
			*pos += 2;
			return *pos <= len ? 0 : -1;
		}
		if (p[*pos] == 0) {
			(*pos)++;
			return 0;
		}
		*pos += 1 + (size_t)p[*pos];
	}
	return -1;
}

/*
 * 1 when the DNS messages a and b are the same but for their IDs, flags
 * other than the RCODE (AD differs between a validating and a trusting
 * context) and the TTLs of their records (counted down from when each
 * context received them); else 0.
 */
static int
same_message(const struct dns_answer *a, const struct dns_answer *b)
{
	const unsigned char *p = a->packet, *q = b->packet;
	size_t len = a->packet_len, pos, end, n, i;

	if (p == NULL || q == NULL || len != b->packet_len || len < 12 ||
	    (p[3] & 0x0f) != (q[3] & 0x0f) || memcmp(p + 4, q + 4, 8) != 0)
		return 0;
	pos = 12;
	for (n = (size_t)(p[4] << 8 | p[5]); n > 0; n--)
		if (skip_name(p, len, &pos) < 0 || (pos += 4) > len)
			return 0;
	if (memcmp(p + 12, q + 12, pos - 12) != 0)
		return 0;
	n = (size_t)(p[6] << 8 | p[7]) + (size_t)(p[8] << 8 | p[9]) +
	    (size_t)(p[10] << 8 | p[11]);
	for (i = 0; i < n; i++) {
		end = pos;
		if (skip_name(p, len, &end) < 0 || end + 10 > len)
			return 0;
		/* The owner, type and class; the TTL skipped; the rest. */
		if (memcmp(p + pos, q + pos, end + 4 - pos) != 0)
			return 0;
		pos = end + 8;
		end = pos + 2 + (size_t)(p[pos] << 8 | p[pos + 1]);
		if (end > len || memcmp(p + pos, q + pos, end - pos) != 0)
			return 0;
		pos = end;
	}
	return pos == len;
}

/*
 * An answer a trusting context got at one address, against the validated
 * answer ref of the reference address: the same message (the same
 * records and signatures) checked with the same keys (keys: the
 * address's DNSKEY RRset is the same message as the reference's) makes
 * the same verdict. Returns 1 with a's status set, 0 when a must be
 * validated at its own address. An address that did not answer needs no
 * validation to say so.
 */
static int
judge_like(struct dns_answer *a, const struct dns_answer *ref, int keys)
{
	if (a->status != DNS_INSECURE)
		return 1;
	if (!keys || (ref->status != DNS_SECURE && ref->status != DNS_NODATA &&
	    ref->status != DNS_NXDOMAIN && ref->status != DNS_INSECURE) ||
	    !same_message(a, ref))
		return 0;
	a->status = ref->status;
	return 1;
}

/*
 * Server j asked through a trusting context: 1 when every answer it got
 * takes the reference's verdict, else 0 (ask it again, validating).
 */
static int
take_reference(struct job *j, const struct job *ref)
{
	int keys = j->dnskey.status == DNS_INSECURE &&
	    same_message(&j->dnskey, &ref->dnskey);
	size_t k;

	if (!judge_like(&j->soa, &ref->soa, keys))
		return 0;
	for (k = 0; k < j->nq; k++)
		if (!judge_like(&j->server->ans[k], &ref->server->ans[k],
		    keys))
			return 0;
	j->server->soa_status = j->soa.status;
	return 1;
}

/* Run the jobs that have a context, in parallel, and free the contexts. */
static void
run_jobs(struct job *jobs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		jobs[i].started = 0;
		if (jobs[i].ctx == NULL)
			continue;
		jobs[i].asked = 1;
		/* No thread to spare: ask this one in turn. */
		if (pthread_create(&jobs[i].thread, NULL, ask_one,
		    &jobs[i]) == 0)
			jobs[i].started = 1;
		else
			ask_one(&jobs[i]);
	}
	for (i = 0; i < n; i++) {
		if (jobs[i].started)
			pthread_join(jobs[i].thread, NULL);
		dns_ctx_free(jobs[i].ctx);
		jobs[i].ctx = NULL;
	}
}

/* Server srv as before it was asked: no answers, no serial. */
static void
server_reset(struct dnsauth_server *srv, size_t nq)
{
	size_t k;

	for (k = 0; k < nq; k++) {
		dns_answer_clear(&srv->ans[k]);
		dns_rdata_free(&srv->rd[k]);
	}
	free(srv->why);
	srv->why = NULL;
	srv->serial = -1;
	srv->soa_status = DNS_ERROR;
	memset(&srv->soa, 0, sizeof(srv->soa));
}

void
dnsauth_ask(struct dnsauth_zone *z, const struct dnsauth_settings *s,
    const struct dnsauth_question *q, size_t nq)
{
	struct dnsauth_server *srv;
	struct job *jobs, *ref = NULL;
	size_t i, k, again = 0;

	/*
	 * Validating every answer of every address costs a signature check
	 * per answer and address, though the addresses of a zone mostly
	 * serve the same bytes. So the first address with a context is
	 * asked through a validating context, the others at the same time
	 * through trusting ones (no validator); an address whose answers (and DNSKEY
	 * RRset) are the same messages as the reference's takes its
	 * verdicts, any other is asked again, validating.
	 */
	jobs = xcalloc(z->nservers + 1, sizeof(*jobs));
	for (i = 0; i < z->nservers; i++) {
		srv = &z->servers[i];
		srv->ans = xcalloc(nq + 1, sizeof(*srv->ans));
		srv->rd = xcalloc(nq + 1, sizeof(*srv->rd));
		srv->nans = nq;
		for (k = 0; k < nq; k++)
			dns_answer_init(&srv->ans[k]);
		dns_answer_init(&jobs[i].soa);
		dns_answer_init(&jobs[i].dnskey);
		if (srv->addr == NULL)
			continue;
		jobs[i].server = srv;
		jobs[i].settings = s;
		jobs[i].apex = z->apex;
		jobs[i].q = q;
		jobs[i].nq = nq;
		jobs[i].unvalidated = ref != NULL;
		jobs[i].ctx = server_ctx(s, z->apex, srv,
		    jobs[i].unvalidated);
		if (jobs[i].ctx == NULL)
			for (k = 0; k < nq; k++)
				srv->ans[k].status = DNS_ERROR;
		else if (ref == NULL)
			ref = &jobs[i];
	}
	z->nvalidating = ref != NULL;
	run_jobs(jobs, z->nservers);
	for (i = 0; i < z->nservers; i++) {
		if (!jobs[i].unvalidated || !jobs[i].asked ||
		    take_reference(&jobs[i], ref))
			continue;
		server_reset(jobs[i].server, nq);
		dns_answer_clear(&jobs[i].soa);
		dns_answer_clear(&jobs[i].dnskey);
		jobs[i].unvalidated = 0;
		jobs[i].ctx = server_ctx(s, z->apex, jobs[i].server, 0);
		if (jobs[i].ctx == NULL)
			for (k = 0; k < nq; k++)
				jobs[i].server->ans[k].status = DNS_ERROR;
		again++;
	}
	z->nvalidating += again;
	if (again > 0)
		run_jobs(jobs, z->nservers);
	for (i = 0; i < z->nservers; i++) {
		dns_answer_clear(&jobs[i].soa);
		dns_answer_clear(&jobs[i].dnskey);
	}
	free(jobs);
}

void
dnsauth_query(struct dnsauth_zone *z, const struct dnsauth_settings *s,
    const char *owner)
{
	struct dnsauth_question q = { owner, DNS_TYPE_TLSA, 0 };
	size_t i;

	dnsauth_ask(z, s, &q, 1);
	for (i = 0; i < z->nservers; i++) {
		dns_answer_clear(&z->servers[i].tlsa);
		z->servers[i].tlsa = z->servers[i].ans[0];
		dns_answer_init(&z->servers[i].ans[0]);
		if (z->servers[i].addr != NULL && z->servers[i].tlsa.status ==
		    DNS_ERROR && z->servers[i].soa_status == DNS_ERROR &&
		    z->servers[i].tlsa.why == NULL && z->servers[i].why != NULL)
			z->servers[i].tlsa.why = xstrdup(z->servers[i].why);
	}
}
