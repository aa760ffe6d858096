/*
 * dnscache - the guard's DNS lookups, kept per name and type until their
 * TTL runs out, and the G7 verdicts. See dnscache.h.
 *
 * Decisions:
 *  - Bogus answers are retried like failures, not kept for their TTL: a
 *    signature fixed upstream should be seen at the next retry, and a
 *    bogus answer has no trustworthy TTL anyway.
 *  - "Changed" compares the status and the data as sets (sorted), not
 *    the order a nameserver happened to rotate the records into.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dnscache.h"
#include "tlsa.h"
#include "xalloc.h"

struct entry {
	char *name;		/* normalised, with the final dot */
	int rrtype;
	struct dns_answer ans;
	char *digest;		/* status and sorted data, for "changed" */
	time_t expires;
	struct dns_answer kept;	/* while lookups tempfail: the last data */
	int haskept;
};

struct dnscache {
	struct entry *v;
	size_t n;
	size_t *index;		/* open addressing: entry number + 1, 0 free */
	size_t nindex;		/* a power of two, at least 2 x n, or 0 */
	long retry;
	struct dns_ctx *ctx;	/* NULL: no resolver (see noresolver) */
	char *noresolver;	/* why there is no resolver, or NULL */
	char *anchor, *resolver, *config;	/* ctx's settings, for a restart */
	int restartable;	/* set_resolver succeeded once */
};

/*
 * A hash of (name, rrtype) that names tlsa_name_equal takes as equal
 * share: letters folded, trailing dots and backslashes left out (FNV-1a).
 */
static size_t
key_hash(const char *name, int rrtype)
{
	size_t len = strlen(name), i, h = (size_t)2166136261u;

	while (len > 0 && (name[len - 1] == '.' || name[len - 1] == '\\'))
		len--;
	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)tolower((unsigned char)name[i])) *
		    (size_t)16777619u;
	return h ^ (size_t)rrtype;
}

/* Slot of (name, rrtype) in an index of nindex slots over v, or the free
 * slot where it goes. */
static size_t
index_slot(const size_t *index, size_t nindex, const struct entry *v,
    const char *name, int rrtype)
{
	size_t k = key_hash(name, rrtype) & (nindex - 1);

	while (index[k] != 0 && !(v[index[k] - 1].rrtype == rrtype &&
	    tlsa_name_equal(v[index[k] - 1].name, name)))
		k = (k + 1) & (nindex - 1);
	return k;
}

/* Room in the index for one more entry (kept at most half full). */
static void
index_grow(struct dnscache *c)
{
	size_t i, n = c->nindex ? c->nindex : 64;

	if (2 * (c->n + 1) <= c->nindex)
		return;
	while (2 * (c->n + 1) > n)
		n *= 2;
	free(c->index);
	c->index = xcalloc(n, sizeof(*c->index));
	c->nindex = n;
	for (i = 0; i < c->n; i++)
		c->index[index_slot(c->index, n, c->v, c->v[i].name,
		    c->v[i].rrtype)] = i + 1;
}

struct dnscache *
dnscache_new(long retry)
{
	struct dnscache *c = xcalloc(1, sizeof(*c));

	c->retry = retry > 0 ? retry : 1;
	return c;
}

static char *
strdup_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* A ready resolver context with c's settings, or NULL with err set. */
static struct dns_ctx *
resolver_new(const struct dnscache *c, struct errbuf *err)
{
	struct dns_ctx *ctx;

	if ((ctx = dns_ctx_new(c->anchor, c->resolver, c->config,
	    err)) == NULL)
		return NULL;
	if (dns_ctx_ready(ctx, err) < 0) {
		dns_ctx_free(ctx);
		return NULL;
	}
	return ctx;
}

int
dnscache_set_resolver(struct dnscache *c, const char *anchor,
    const char *resolver, const char *config, struct errbuf *err)
{
	dns_ctx_free(c->ctx);
	free(c->noresolver);
	c->noresolver = NULL;
	free(c->anchor);
	free(c->resolver);
	free(c->config);
	c->anchor = strdup_null(anchor);
	c->resolver = strdup_null(resolver);
	c->config = strdup_null(config);
	c->restartable = 0;
	if ((c->ctx = resolver_new(c, err)) == NULL) {
		c->noresolver = xstrdup(err->msg);
		return -1;
	}
	c->restartable = 1;
	return 0;
}

int
dnscache_restart(struct dnscache *c, struct errbuf *err)
{
	struct dns_ctx *ctx;

	if (!c->restartable) {
		errbuf_set(err, "no resolver to restart");
		return -1;
	}
	/* The new one first: a settings file unreadable now (privileges
	 * dropped) leaves the old context in use. */
	if ((ctx = resolver_new(c, err)) == NULL)
		return -1;
	dns_ctx_free(c->ctx);
	c->ctx = ctx;
	return 0;
}

void
dnscache_free(struct dnscache *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++) {
		free(c->v[i].name);
		dns_answer_clear(&c->v[i].ans);
		dns_answer_clear(&c->v[i].kept);
		free(c->v[i].digest);
	}
	free(c->v);
	free(c->index);
	dns_ctx_free(c->ctx);
	free(c->noresolver);
	free(c->anchor);
	free(c->resolver);
	free(c->config);
	free(c);
}

static struct entry *
find(const struct dnscache *c, const char *name, int rrtype)
{
	size_t k;

	if (c->nindex == 0)
		return NULL;
	k = index_slot(c->index, c->nindex, c->v, name, rrtype);
	return c->index[k] != 0 ? &c->v[c->index[k] - 1] : NULL;
}

const struct dns_answer *
dnscache_get(const struct dnscache *c, const char *name, int rrtype)
{
	struct entry *e = find(c, name, rrtype);

	return e != NULL ? &e->ans : NULL;
}

/* SERVFAIL, timeout, a local error: says nothing about the zone. */
static int
tempfail(const struct dns_answer *a)
{
	return a->status == DNS_SERVFAIL || a->status == DNS_TIMEOUT ||
	    a->status == DNS_ERROR;
}

const struct dns_answer *
dnscache_get_kept(const struct dnscache *c, const char *name, int rrtype)
{
	struct entry *e = find(c, name, rrtype);

	return e != NULL && e->haskept && tempfail(&e->ans) ? &e->kept : NULL;
}

int
dnscache_due(const struct dnscache *c, const char *name, int rrtype,
    time_t now)
{
	struct entry *e = find(c, name, rrtype);

	return e == NULL || now >= e->expires;
}

time_t
dnscache_expiry(const struct dns_answer *ans, time_t now, long retry)
{
	long ttl;

	switch (ans->status) {
	case DNS_SECURE:
	case DNS_INSECURE:
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		if (ans->ttl < 0)
			break;
		ttl = ans->ttl;
		if (ttl < DNSCACHE_TTL_MIN)
			ttl = DNSCACHE_TTL_MIN;
		if (ttl > DNSCACHE_TTL_MAX)
			ttl = DNSCACHE_TTL_MAX;
		return now + ttl;
	case DNS_BOGUS:
	case DNS_SERVFAIL:
	case DNS_TIMEOUT:
	case DNS_ERROR:
		break;
	}
	return now + (retry > 0 ? retry : 1);
}

time_t
dnscache_next_expiry(const struct dnscache *c)
{
	time_t t = (time_t)-1;
	size_t i;

	for (i = 0; i < c->n; i++)
		if (t == (time_t)-1 || c->v[i].expires < t)
			t = c->v[i].expires;
	return t;
}

static int
strp_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "status;item;item;..." with the items sorted; malloc'd. */
static char *
digest(const struct dns_answer *a)
{
	char **items, *s, *n, *hex;
	size_t k = 0, i, cap = a->tlsa.n + a->naddr + a->ntxt +
	    a->nmx;

	items = xcalloc(cap ? cap : 1, sizeof(*items));
	for (i = 0; i < a->tlsa.n; i++) {
		hex = tlsa_hex(a->tlsa.v[i].data, a->tlsa.v[i].len);
		items[k++] = xasprintf("%u %u %u %s",
		    a->tlsa.v[i].type.usage, a->tlsa.v[i].type.selector,
		    a->tlsa.v[i].type.mtype, hex);
		free(hex);
	}
	for (i = 0; i < a->naddr; i++)
		items[k++] = xstrdup(a->addr[i]);
	for (i = 0; i < a->ntxt; i++)
		items[k++] = xasprintf("\"%s\"", a->txt[i]);
	for (i = 0; i < a->nmx; i++)
		items[k++] = xasprintf("MX %u %s", a->mxpref[i], a->mx[i]);
	qsort(items, k, sizeof(*items), strp_cmp);
	/* One word for every temporary failure: a resolver that times out
	 * once and answers SERVFAIL the next time changed nothing that a
	 * sweep would judge differently. */
	s = xasprintf("%s;%s;", tempfail(a) ? "tempfail" :
	    dns_status_name(a->status), a->canon != NULL ? a->canon : "");
	for (i = 0; i < k; i++) {
		n = xasprintf("%s%s;", s, items[i]);
		free(s);
		free(items[i]);
		s = n;
	}
	free(items);
	return s;
}

int
dnscache_put(struct dnscache *c, const char *name, int rrtype,
    struct dns_answer *ans, time_t now)
{
	struct entry *e = find(c, name, rrtype);
	char *d = digest(ans);
	int changed;

	if (e == NULL) {
		index_grow(c);
		c->v = xreallocarray(c->v, c->n + 1, sizeof(*c->v));
		e = &c->v[c->n];
		memset(e, 0, sizeof(*e));
		e->name = tlsa_name_normalise(name);
		e->rrtype = rrtype;
		c->index[index_slot(c->index, c->nindex, c->v, e->name,
		    rrtype)] = ++c->n;
		dns_answer_init(&e->ans);
		changed = 1;
	} else
		changed = strcmp(e->digest, d) != 0;
	if (!tempfail(ans)) {
		dns_answer_clear(&e->kept);
		e->haskept = 0;
	} else if (!tempfail(&e->ans) && (e->ans.status == DNS_SECURE ||
	    e->ans.status == DNS_INSECURE)) {
		dns_answer_clear(&e->kept);
		e->kept = e->ans;	/* taken, not copied */
		dns_answer_init(&e->ans);
		e->haskept = 1;
	}
	dns_answer_clear(&e->ans);
	e->ans = *ans;		/* takes what ans owns */
	dns_answer_init(ans);
	free(e->digest);
	e->digest = d;
	e->expires = dnscache_expiry(&e->ans, now, c->retry);
	return changed;
}

/* ------------------------------------------------------------ refresh */

size_t
dnscache_refresh(struct dnscache *c, const struct dnscache_query *q,
    size_t n, int timeout_ms, time_t now)
{
	struct dns_req *req;
	struct errbuf err;
	struct entry *e;
	size_t i, k, nr = 0, changed = 0, *seen, nseen = 64;
	int retry = 0;

	req = xcalloc(n ? n : 1, sizeof(*req));
	/* The same name and type twice (two hosts): looked up once. seen
	 * indexes req as c->index does the entries (request number + 1). */
	while (nseen < 2 * n)
		nseen *= 2;
	seen = xcalloc(nseen, sizeof(*seen));
	for (i = 0; i < n; i++) {
		if (!dnscache_due(c, q[i].name, q[i].rrtype, now))
			continue;
		if ((e = find(c, q[i].name, q[i].rrtype)) != NULL &&
		    tempfail(&e->ans))
			retry = 1;
		k = key_hash(q[i].name, q[i].rrtype) & (nseen - 1);
		while (seen[k] != 0 && !(req[seen[k] - 1].rrtype ==
		    q[i].rrtype && tlsa_name_equal(req[seen[k] - 1].name,
		    q[i].name)))
			k = (k + 1) & (nseen - 1);
		if (seen[k] != 0)
			continue;
		req[nr].name = q[i].name;
		req[nr].rrtype = q[i].rrtype;
		dns_answer_init(&req[nr].ans);
		seen[k] = ++nr;
	}
	free(seen);
	if (nr > 0 && c->ctx == NULL) {
		for (i = 0; i < nr; i++)
			req[i].ans.why = xasprintf("no resolver: %s",
			    c->noresolver != NULL ? c->noresolver :
			    "not configured");
	} else if (nr > 0) {
		/* A retry after a failure starts with a fresh context:
		 * libunbound keeps a resolver that stopped answering marked
		 * down for minutes (infra-host-ttl) after it is back. */
		if (retry)	/* on failure, the old context it is */
			(void)dnscache_restart(c, &err);
		/* In parallel, each lookup with its own deadline; a
		 * DNS_ERROR with its why is an answer too. */
		(void)dns_lookup_many(c->ctx, req, nr, timeout_ms);
	}
	for (i = 0; i < nr; i++)
		changed += (size_t)dnscache_put(c, req[i].name,
		    req[i].rrtype, &req[i].ans, now);
	free(req);
	return changed;
}

/* ------------------------------------------------------------ G7 */

enum verdict_state
dnscache_g7_tlsa(const struct dns_answer *a, const char *owner, char *msg,
    size_t len)
{
	if (a == NULL) {
		snprintf(msg, len, "TLSA of %s not looked up", owner);
		return VERDICT_UNKNOWN;
	}
	switch (a->status) {
	case DNS_SECURE:
		if (a->tlsa.n == 0) {
			snprintf(msg, len, "secure TLSA RRset at %s, but none "
			    "of its %zu records is usable (malformed): DANE "
			    "senders cannot authenticate; republish them",
			    owner, a->skipped);
			return VERDICT_CRITICAL;
		}
		if (a->skipped > 0) {
			snprintf(msg, len, "secure TLSA RRset at %s: %zu "
			    "usable records, %zu malformed ones left out (fix "
			    "or remove them)", owner, a->tlsa.n, a->skipped);
			return VERDICT_WARNING;
		}
		snprintf(msg, len, "secure TLSA RRset at %s: %zu record%s, "
		    "TTL %ld", owner, a->tlsa.n, a->tlsa.n == 1 ? "" : "s",
		    a->ttl);
		return VERDICT_OK;
	case DNS_BOGUS:
		snprintf(msg, len, "TLSA of %s is bogus (DNSSEC validation "
		    "failed: %s): validating senders defer mail; check the "
		    "zone's signatures and DS", owner,
		    a->why != NULL ? a->why : "no reason given");
		return VERDICT_CRITICAL;
	case DNS_INSECURE:
		snprintf(msg, len, "TLSA of %s is insecure (%s in a zone "
		    "that is unsigned or has no chain of trust): the records "
		    "do not count and senders do not use DANE; sign the zone "
		    "and publish its DS", owner, a->havedata ? "records" :
		    a->nxdomain ? "no such name" : "no records");
		return VERDICT_CRITICAL;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		snprintf(msg, len, "no TLSA RRset at %s (%s, validated): "
		    "DANE is not published; publish the records tlsagen "
		    "prints", owner, a->status == DNS_NXDOMAIN ?
		    "no such name" : "no TLSA records");
		return VERDICT_CRITICAL;
	case DNS_SERVFAIL:
	case DNS_TIMEOUT:
	case DNS_ERROR:
		break;
	}
	snprintf(msg, len, "TLSA lookup of %s failed (%s, tempfail: the "
	    "published set is unknown, not absent): %s", owner,
	    dns_status_name(a->status), a->why != NULL ? a->why : "no detail");
	return VERDICT_UNKNOWN;
}

static int
has_addr(const struct dns_answer *a)
{
	return a != NULL && (a->status == DNS_SECURE ||
	    a->status == DNS_INSECURE) && a->naddr > 0;
}

enum verdict_state
dnscache_g7_addr(const struct dns_answer *a, const struct dns_answer *other,
    const char *name, const char *type, char *msg, size_t len)
{
	if (a == NULL) {
		snprintf(msg, len, "%s of %s not looked up", type, name);
		return VERDICT_UNKNOWN;
	}
	switch (a->status) {
	case DNS_SECURE:
		snprintf(msg, len, "%zu secure %s record%s of %s, TTL %ld: "
		    "probed", a->naddr, type, a->naddr == 1 ? "" : "s", name,
		    a->ttl);
		return VERDICT_OK;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		/* Only a denial of the other type too means "none": a
		 * failed lookup of it is that item's UNKNOWN. */
		if (has_addr(other) || other == NULL ||
		    !(other->status == DNS_NXDOMAIN ||
		    other->status == DNS_NODATA ||
		    (other->status == DNS_INSECURE && other->naddr == 0))) {
			snprintf(msg, len, "no %s records of %s (validated)",
			    type, name);
			return VERDICT_OK;
		}
		snprintf(msg, len, "%s has no %s record (%s, validated) and "
		    "no %s record: nothing to probe, senders cannot reach it",
		    name, type, dns_status_name(a->status),
		    strcmp(type, "A") == 0 ? "AAAA" : "A");
		return VERDICT_CRITICAL;
	case DNS_INSECURE:
		if (a->havedata)
			snprintf(msg, len, "%zu insecure %s record%s of %s "
			    "(probed all the same): DANE senders skip the "
			    "TLSA lookup for an MX host whose addresses are "
			    "not secure (RFC 7672 2.2.2); sign the zone",
			    a->naddr, type, a->naddr == 1 ? "" : "s", name);
		else
			snprintf(msg, len, "no %s record of %s, insecure "
			    "denial: the zone is unsigned or has no chain "
			    "of trust; sign the zone", type, name);
		return VERDICT_CRITICAL;
	case DNS_BOGUS:
		snprintf(msg, len, "%s of %s is bogus (DNSSEC validation "
		    "failed: %s): not probed; validating senders defer mail",
		    type, name, a->why != NULL ? a->why : "no reason given");
		return VERDICT_CRITICAL;
	case DNS_SERVFAIL:
	case DNS_TIMEOUT:
	case DNS_ERROR:
		break;
	}
	snprintf(msg, len, "%s lookup of %s failed (%s, tempfail): %s", type,
	    name, dns_status_name(a->status),
	    a->why != NULL ? a->why : "no detail");
	return VERDICT_UNKNOWN;
}
