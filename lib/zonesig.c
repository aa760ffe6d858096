/*
 * zonesig - see zonesig.h.
 */
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "dnssig.h"
#include "dnswire.h"
#include "tlsa.h"
#include "xalloc.h"
#include "zonesig.h"

int
zonesig_in_zone(const char *name, const char *apex)
{
	char *n = tlsa_name_normalise(name), *a = tlsa_name_normalise(apex);
	size_t nl = strlen(n), al = strlen(a);
	int in;

	in = strcmp(a, ".") == 0 || strcmp(n, a) == 0 || (nl > al &&
	    n[nl - al - 1] == '.' && strcmp(n + nl - al, a) == 0);
	free(n);
	free(a);
	return in;
}

void
zonesig_zone_free(struct zonesig_zone *z)
{
	size_t i, k;

	for (i = 0; i < z->nservers; i++) {
		struct zonesig_server *s = &z->servers[i];

		for (k = 0; k < s->nsets; k++) {
			free(s->sets[k].owner);
			free(s->sets[k].sig_owner);
			free(s->sets[k].signer);
		}
		free(s->sets);
		for (k = 0; k < s->nkeys; k++)
			free(s->keys[k].rdata);
		free(s->keys);
		free(s->name);
		free(s->addr);
		free(s->why);
	}
	free(z->servers);
	free(z->apex);
	free(z->ds_why);
	dns_rdata_free(&z->ds);
	memset(z, 0, sizeof(*z));
}

struct job {
	struct zonesig_server *server;
	struct dns_ctx *ctx;
	const char *apex;
	int timeout_ms;
	time_t now;
	pthread_t thread;
	int started;
};

/* The earliest RRSIG of msg into set. */
static void
take_sigs(struct zonesig_rrset *set, const struct dnssig_msg *m)
{
	const struct dnssig_sig *first = NULL;
	size_t i;

	for (i = 0; i < m->nsigs; i++)
		if (first == NULL || m->sigs[i].expiration < first->expiration)
			first = &m->sigs[i];
	set->nsigs = m->nsigs;
	if (first == NULL)
		return;
	set->expiration = first->expiration;
	set->orig_ttl = first->orig_ttl;
	set->covered = first->covered;
	set->sig_owner = xstrdup(first->owner);
	set->signer = xstrdup(first->signer);
	set->keytag = first->keytag;
}

/* The DNSKEY RRset of msg and which of its keys sign it. */
static void
take_keys(struct zonesig_server *s, const struct dnssig_msg *m)
{
	struct zonesig_key *k;
	size_t i, j;

	for (i = 0; i < m->nrrs; i++) {
		if (m->rrs[i].type != DNSSIG_TYPE_DNSKEY || m->rrs[i].len < 4)
			continue;
		s->keys = xreallocarray(s->keys, s->nkeys + 1,
		    sizeof(*s->keys));
		k = &s->keys[s->nkeys++];
		k->len = m->rrs[i].len;
		k->rdata = xmalloc(k->len);
		memcpy(k->rdata, m->rrs[i].rdata, k->len);
		k->keytag = dnssig_keytag(k->rdata, k->len);
		k->signs = 0;
		for (j = 0; j < m->nsigs; j++)
			if (m->sigs[j].covered == DNSSIG_TYPE_DNSKEY &&
			    m->sigs[j].keytag == k->keytag &&
			    m->sigs[j].algorithm == k->rdata[3])
				k->signs = 1;
	}
}

/* SOA REFRESH and EXPIRE from msg. */
static void
take_soa(struct zonesig_server *s, const struct dnssig_msg *m)
{
	char name[1025];
	size_t i, pos, used;
	const unsigned char *rd;

	for (i = 0; i < m->nrrs; i++) {
		if (m->rrs[i].type != DNSSIG_TYPE_SOA)
			continue;
		rd = m->rrs[i].rdata;
		if (dnswire_name(rd, m->rrs[i].len, &used, name,
		    sizeof(name)) < 0)
			continue;
		pos = used;
		if (dnswire_name(rd + pos, m->rrs[i].len - pos, &used, name,
		    sizeof(name)) < 0)
			continue;
		pos += used;
		if (m->rrs[i].len - pos != 20)
			continue;
		rd += pos;
		s->soa_refresh = (long)((unsigned long)rd[4] << 24 |
		    (unsigned long)rd[5] << 16 | (unsigned long)rd[6] << 8 |
		    rd[7]);
		s->soa_expire = (long)((unsigned long)rd[12] << 24 |
		    (unsigned long)rd[13] << 16 | (unsigned long)rd[14] << 8 |
		    rd[15]);
		return;
	}
}

static void *
query_one(void *arg)
{
	struct job *j = arg;
	struct zonesig_server *s = j->server;
	struct dns_req *req;
	struct dnssig_msg m;
	size_t i, n = s->nsets, answered = 0;
	const char *why = NULL;

	/* Everything at once: a dead server costs one timeout. */
	req = xcalloc(n + 1, sizeof(*req));
	for (i = 0; i < n; i++) {
		req[i].name = s->sets[i].owner;
		req[i].rrtype = s->sets[i].type;
		req[i].want_packet = 1;
	}
	req[n].name = j->apex;
	req[n].rrtype = DNSSIG_TYPE_SOA;
	req[n].want_packet = 1;
	dns_lookup_many(j->ctx, req, n + 1, j->timeout_ms);
	for (i = 0; i < n + 1; i++) {
		struct dns_answer *a = &req[i].ans;
		int keys = i < n && s->sets[i].type == DNSSIG_TYPE_DNSKEY;

		if (a->status != DNS_TIMEOUT && a->status != DNS_SERVFAIL &&
		    a->status != DNS_ERROR)
			answered++;
		else if (why == NULL && a->why != NULL)
			why = a->why;
		if (i < n)
			s->sets[i].status = a->status;
		if (keys)
			s->dnskey_status = a->status;
		if (a->packet == NULL ||
		    dnssig_parse(a->packet, a->packet_len, j->now, &m) < 0)
			continue;
		if (i < n)
			take_sigs(&s->sets[i], &m);
		else
			take_soa(s, &m);
		if (keys)
			take_keys(s, &m);
		dnssig_msg_free(&m);
	}
	if (answered == 0 && s->why == NULL)
		s->why = xstrdup(why != NULL ? why : "no answer");
	for (i = 0; i < n + 1; i++)
		dns_answer_clear(&req[i].ans);
	free(req);
	return NULL;
}

/*
 * The zone of a name whose lookups are bogus (a DS that names no key, an
 * expired signature: what G9 must explain, not give up on), through a
 * context that lets bogus answers through. -1 with err left as it was
 * when that fails too.
 */
static int
find_bogus(const struct dnsauth_settings *set, const char *owner,
    struct dnsauth_zone *az, struct errbuf *err)
{
	struct dns_ctx *pctx;
	struct errbuf perr;
	int rc = -1;

	if (strstr(err->msg, "bogus") == NULL)
		return -1;
	dnsauth_zone_free(az);
	pctx = dns_ctx_new(set->anchor, set->resolver, set->config, &perr);
	if (pctx != NULL && dns_ctx_set_permissive(pctx, &perr) == 0)
		rc = dnsauth_find(pctx, owner, set->timeout_ms, az, &perr);
	dns_ctx_free(pctx);
	return rc;
}

int
zonesig_scan(struct dns_ctx *ctx, const struct dnsauth_settings *set,
    const char *owner, const struct zonesig_want *want, size_t nwant,
    time_t now, struct zonesig_zone *z, struct errbuf *err)
{
	struct dnsauth_zone az;
	struct dns_answer ans;
	struct job *jobs;
	struct errbuf cerr;
	size_t i, k;
	int ret = -1;

	memset(z, 0, sizeof(*z));
	z->ds_status = DNS_ERROR;
	if (dnsauth_find(ctx, owner, set->timeout_ms, &az, err) < 0 &&
	    find_bogus(set, owner, &az, err) < 0)
		goto out;
	z->apex = xstrdup(az.apex);
	dns_lookup_rdata(ctx, z->apex, DNSSIG_TYPE_DS, set->timeout_ms, &ans,
	    &z->ds);
	z->ds_status = ans.status;
	if (ans.status != DNS_SECURE)
		z->ds_why = xstrdup(ans.why != NULL ? ans.why :
		    dns_status_name(ans.status));
	dns_answer_clear(&ans);

	z->servers = xcalloc(az.nservers + 1, sizeof(*z->servers));
	z->nservers = az.nservers;
	jobs = xcalloc(az.nservers + 1, sizeof(*jobs));
	for (i = 0; i < az.nservers; i++) {
		struct zonesig_server *s = &z->servers[i];

		s->name = xstrdup(az.servers[i].name);
		s->addr = az.servers[i].addr ? xstrdup(az.servers[i].addr) :
		    NULL;
		s->why = az.servers[i].why ? xstrdup(az.servers[i].why) : NULL;
		s->soa_refresh = s->soa_expire = -1;
		s->dnskey_status = DNS_ERROR;
		for (k = 0; k < nwant; k++) {
			if (!zonesig_in_zone(want[k].owner, z->apex))
				continue;
			s->sets = xreallocarray(s->sets, s->nsets + 1,
			    sizeof(*s->sets));
			memset(&s->sets[s->nsets], 0, sizeof(*s->sets));
			s->sets[s->nsets].owner = xstrdup(want[k].owner);
			s->sets[s->nsets].type = want[k].type;
			s->sets[s->nsets++].status = DNS_ERROR;
		}
		/* The zone's DNSKEY RRset: its RRSIGs expire too, and
		 * the DS check reads its keys. */
		s->sets = xreallocarray(s->sets, s->nsets + 1,
		    sizeof(*s->sets));
		memset(&s->sets[s->nsets], 0, sizeof(*s->sets));
		s->sets[s->nsets].owner = xstrdup(z->apex);
		s->sets[s->nsets].type = DNSSIG_TYPE_DNSKEY;
		s->sets[s->nsets++].status = DNS_ERROR;
		if (s->addr == NULL)
			continue;
		/* Made here, not in the threads: ub_ctx_config is not
		 * thread-safe (see dnsauth.c). */
		jobs[i].ctx = dns_ctx_new(set->anchor, set->resolver,
		    set->config, &cerr);
		if (jobs[i].ctx == NULL || dns_ctx_set_stub(jobs[i].ctx,
		    z->apex, s->addr, &cerr) < 0) {
			free(s->why);
			s->why = xstrdup(cerr.msg);
			dns_ctx_free(jobs[i].ctx);
			jobs[i].ctx = NULL;
			continue;
		}
		jobs[i].server = s;
		jobs[i].apex = z->apex;
		jobs[i].timeout_ms = set->timeout_ms;
		jobs[i].now = now;
	}
	for (i = 0; i < az.nservers; i++) {
		if (jobs[i].ctx == NULL)
			continue;
		if (pthread_create(&jobs[i].thread, NULL, query_one,
		    &jobs[i]) == 0)
			jobs[i].started = 1;
		else
			query_one(&jobs[i]);
	}
	for (i = 0; i < az.nservers; i++) {
		if (jobs[i].started)
			pthread_join(jobs[i].thread, NULL);
		dns_ctx_free(jobs[i].ctx);
	}
	free(jobs);
	ret = 0;
out:
	dnsauth_zone_free(&az);
	return ret;
}
