/*
 * dns - DNSSEC-validated lookups through libunbound (contract in dns.h).
 *
 * libunbound runs its resolver in a thread of its own (ub_ctx_async); we
 * start one query, poll its pipe until the deadline and cancel it there.
 * A query whose cancel comes too late (its answer is already on the way)
 * is "abandoned": its callback frees it whenever a later ub_process
 * delivers it, or dns_ctx_free does.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <unbound.h>

#include "dns.h"
#include "dnswire.h"
#include "fileio.h"
#include "xalloc.h"

struct dns_query {
	int done;
	int abandoned;
	int err;		/* libunbound error code from the callback */
	struct ub_result *result;
	struct dns_query *next;	/* in the ctx's abandoned list */
};

struct dns_ctx {
	struct ub_ctx *ub;
	FILE *devnull;		/* libunbound's log: library code never prints */
	pthread_mutex_t lock;
	struct dns_query *abandoned;
	char *settings;		/* "trust anchor FILE, resolver_config FILE" */
};

const char *
dns_status_name(enum dns_status status)
{
	switch (status) {
	case DNS_SECURE:	return "secure";
	case DNS_INSECURE:	return "insecure";
	case DNS_BOGUS:		return "bogus";
	case DNS_NXDOMAIN:	return "nxdomain";
	case DNS_NODATA:	return "nodata";
	case DNS_SERVFAIL:	return "servfail";
	case DNS_TIMEOUT:	return "timeout";
	case DNS_ERROR:		return "error";
	}
	return "error";
}

void
dns_answer_init(struct dns_answer *ans)
{
	memset(ans, 0, sizeof(*ans));
	ans->status = DNS_ERROR;
	ans->rcode = -1;
	ans->ttl = -1;
	tlsa_set_init(&ans->tlsa);
}

void
dns_answer_clear(struct dns_answer *ans)
{
	size_t i;

	free(ans->why);
	free(ans->canon);
	tlsa_set_free(&ans->tlsa);
	for (i = 0; i < ans->naddr; i++)
		free(ans->addr[i]);
	free(ans->addr);
	for (i = 0; i < ans->ntxt; i++)
		free(ans->txt[i]);
	free(ans->txt);
	for (i = 0; i < ans->nmx; i++)
		free(ans->mx[i]);
	free(ans->mx);
	free(ans->mxpref);
	free(ans->packet);
	dns_answer_init(ans);
}

struct dns_ctx *
dns_ctx_new(const char *anchor, const char *resolver, const char *config,
    struct errbuf *err)
{
	struct dns_ctx *ctx;
	struct errbuf why;
	int rc;

	ctx = xcalloc(1, sizeof(*ctx));
	pthread_mutex_init(&ctx->lock, NULL);
	if ((ctx->ub = ub_ctx_create()) == NULL) {
		errbuf_set(err, "libunbound: cannot create a resolver context");
		goto fail;
	}
	if ((ctx->devnull = fopen("/dev/null", "w")) != NULL)
		ub_ctx_debugout(ctx->ub, ctx->devnull);
	/* A thread, not a forked process: we may run inside a milter. */
	if ((rc = ub_ctx_async(ctx->ub, 1)) != 0) {
		errbuf_set(err, "libunbound: async mode: %s", ub_strerror(rc));
		goto fail;
	}
	/* Without it why_bogus is NULL; a config file may raise it. */
	if ((rc = ub_ctx_set_option(ctx->ub, "val-log-level:", "1")) != 0) {
		errbuf_set(err, "libunbound: val-log-level: %s",
		    ub_strerror(rc));
		goto fail;
	}
	/* libunbound says "syntax error" for a file it cannot open, and
	 * would block on a FIFO: fileio's checks first. */
	if (config != NULL && fileio_check(config, &why) < 0) {
		if (errno == ENOENT || errno == EACCES || errno == ENOTDIR)
			errbuf_set(err, "%s: cannot read: %s", config,
			    strerror(errno));
		else
			errbuf_set(err, "resolver_config %s", why.msg);
		goto fail;
	}
	if (config != NULL && (rc = ub_ctx_config(ctx->ub, config)) != 0) {
		errbuf_set(err, "%s: %s%s", config, ub_strerror(rc),
		    rc == UB_SYNTAX ? " (check it with unbound-checkconf)" : "");
		goto fail;
	}
	if (anchor == NULL && config == NULL)
		anchor = DNS_DEFAULT_ANCHOR;
	/* libunbound reads the file only at the first lookup: say it now. */
	if (anchor != NULL && fileio_check(anchor, &why) < 0) {
		if (errno == ENOENT || errno == EACCES || errno == ENOTDIR)
			errbuf_set(err, "%s: cannot read trust anchor: %s%s",
			    anchor, strerror(errno),
			    strcmp(anchor, DNS_DEFAULT_ANCHOR) == 0 ?
			    " (Debian package dns-root-data)" : "");
		else
			errbuf_set(err, "trust anchor %s", why.msg);
		goto fail;
	}
	if (anchor != NULL && (rc = ub_ctx_add_ta_file(ctx->ub, anchor)) != 0) {
		errbuf_set(err, "%s: cannot load trust anchor: %s%s", anchor,
		    ub_strerror(rc), strcmp(anchor, DNS_DEFAULT_ANCHOR) == 0 ?
		    " (Debian package dns-root-data)" : "");
		goto fail;
	}
	if (resolver != NULL && (rc = ub_ctx_set_fwd(ctx->ub, resolver)) != 0) {
		errbuf_set(err, "resolver %s: %s (write an IP address, "
		    "optionally ip@port)", resolver, ub_strerror(rc));
		goto fail;
	}
	ctx->settings = xasprintf("%s%s%s%s%s", anchor ? "trust anchor " : "",
	    anchor ? anchor : "", anchor && config ? ", " : "",
	    config ? "resolver_config " : "", config ? config : "");
	return ctx;
fail:
	dns_ctx_free(ctx);
	return NULL;
}

void
dns_ctx_free(struct dns_ctx *ctx)
{
	struct dns_query *q;

	if (ctx == NULL)
		return;
	if (ctx->ub != NULL)
		ub_ctx_delete(ctx->ub);
	while ((q = ctx->abandoned) != NULL) {
		ctx->abandoned = q->next;
		if (q->result != NULL)
			ub_resolve_free(q->result);
		free(q);
	}
	if (ctx->devnull != NULL)
		fclose(ctx->devnull);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx->settings);
	free(ctx);
}

int
dns_ctx_ready(struct dns_ctx *ctx, struct errbuf *err)
{
	int rc;

	/* Removing a zone that is not there does nothing, but finalises
	 * the context: the trust anchors are parsed now. */
	pthread_mutex_lock(&ctx->lock);
	rc = ub_ctx_zone_remove(ctx->ub, "daneguard-ready.invalid.");
	pthread_mutex_unlock(&ctx->lock);
	if (rc != 0) {
		errbuf_set(err, "cannot start the resolver: %s (check %s)",
		    ub_strerror(rc), ctx->settings[0] != '\0' ? ctx->settings :
		    "the dns settings");
		return -1;
	}
	return 0;
}

int
dns_tlsa_from_rdata(const unsigned char *rdata, size_t len,
    const char *owner, long ttl, struct tlsa_record *rec, struct errbuf *err)
{
	size_t dlen;

	memset(rec, 0, sizeof(*rec));
	rec->ttl = -1;
	if (len < 4) {
		errbuf_set(err, "TLSA rdata of %zu bytes has no association "
		    "data", len);
		return -1;
	}
	dlen = len - 3;
	if (dlen > TLSA_DATA_MAX) {
		errbuf_set(err, "TLSA rdata too long (%zu bytes)", len);
		return -1;
	}
	if ((rdata[2] == TLSA_MATCH_SHA256 && dlen != 32) ||
	    (rdata[2] == TLSA_MATCH_SHA512 && dlen != 64)) {
		errbuf_set(err, "TLSA %u %u %u with %zu bytes of data "
		    "(expected %d)", rdata[0], rdata[1], rdata[2], dlen,
		    rdata[2] == TLSA_MATCH_SHA256 ? 32 : 64);
		return -1;
	}
	rec->type.usage = rdata[0];
	rec->type.selector = rdata[1];
	rec->type.mtype = rdata[2];
	rec->len = dlen;
	rec->data = xmalloc(dlen);
	memcpy(rec->data, rdata + 3, dlen);
	rec->ttl = ttl;
	tlsa_record_set_owner(rec, owner);
	return 0;
}

static void
dns_callback(void *arg, int err, struct ub_result *result)
{
	struct dns_query *q = arg;

	/* An abandoned query is on the ctx list: mark it, free it later. */
	q->done = 1;
	q->err = err;
	q->result = result;
}

static long
dns_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Free abandoned queries whose answers have arrived meanwhile. */
static void
dns_reap(struct dns_ctx *ctx)
{
	struct dns_query **pp, *q;

	for (pp = &ctx->abandoned; (q = *pp) != NULL; ) {
		if (q->done) {
			*pp = q->next;
			if (q->result != NULL)
				ub_resolve_free(q->result);
			free(q);
		} else
			pp = &q->next;
	}
}

/* One TXT rdata (length-prefixed strings) joined into out->txt. */
static void
dns_copy_txt(struct dns_answer *out, const unsigned char *rd, size_t len)
{
	char *s = xmalloc(len + 1);
	size_t at = 0, k = 0, n;

	while (at < len) {
		n = rd[at++];
		if (n > len - at || memchr(rd + at, '\0', n) != NULL) {
			free(s);
			out->skipped++;
			return;
		}
		memcpy(s + k, rd + at, n);
		k += n;
		at += n;
	}
	s[k] = '\0';
	out->txt = xreallocarray(out->txt, out->ntxt + 1, sizeof(*out->txt));
	out->txt[out->ntxt++] = s;
}

/* One MX rdata (preference, exchange) into out->mx, in preference order. */
static void
dns_copy_mx(struct dns_answer *out, const unsigned char *rd, size_t len)
{
	char name[1025];
	size_t used, n, at;
	unsigned pref;

	if (len < 3 || dnswire_name(rd + 2, len - 2, &used, name,
	    sizeof(name)) < 0 || used != len - 2) {
		out->skipped++;
		return;
	}
	pref = (unsigned)rd[0] << 8 | rd[1];
	n = strlen(name);
	if (n > 0 && name[n - 1] == '.')
		name[n - 1] = '\0';
	out->mx = xreallocarray(out->mx, out->nmx + 1, sizeof(*out->mx));
	out->mxpref = xreallocarray(out->mxpref, out->nmx + 1,
	    sizeof(*out->mxpref));
	for (at = out->nmx; at > 0 && out->mxpref[at - 1] > pref; at--) {
		out->mx[at] = out->mx[at - 1];
		out->mxpref[at] = out->mxpref[at - 1];
	}
	out->mx[at] = xstrdup(name);
	out->mxpref[at] = pref;
	out->nmx++;
}

static void
dns_copy_data(struct dns_answer *out, const struct ub_result *r,
    const char *owner, int rrtype)
{
	struct tlsa_record rec;
	char buf[INET6_ADDRSTRLEN];
	int i, af;

	for (i = 0; r->data != NULL && r->data[i] != NULL; i++) {
		if (rrtype == DNS_TYPE_TLSA) {
			if (dns_tlsa_from_rdata((unsigned char *)r->data[i],
			    (size_t)r->len[i], owner, out->ttl, &rec,
			    NULL) != 0) {
				out->skipped++;
				continue;
			}
			tlsa_set_take(&out->tlsa, &rec);
		} else if (rrtype == DNS_TYPE_A || rrtype == DNS_TYPE_AAAA) {
			af = rrtype == DNS_TYPE_A ? AF_INET : AF_INET6;
			if (r->len[i] != (af == AF_INET ? 4 : 16) ||
			    inet_ntop(af, r->data[i], buf, sizeof(buf)) == NULL)
				continue;
			out->addr = xreallocarray(out->addr, out->naddr + 1,
			    sizeof(*out->addr));
			out->addr[out->naddr++] = xstrdup(buf);
		} else if (rrtype == DNS_TYPE_TXT)
			dns_copy_txt(out, (unsigned char *)r->data[i],
			    (size_t)r->len[i]);
		else if (rrtype == DNS_TYPE_MX)
			dns_copy_mx(out, (unsigned char *)r->data[i],
			    (size_t)r->len[i]);
	}
}

static void
dns_classify(struct dns_answer *out, const struct ub_result *r,
    const char *owner, int rrtype)
{
	out->rcode = r->rcode;
	out->havedata = r->havedata;
	out->nxdomain = r->nxdomain;
	out->ttl = r->ttl;
	if (r->secure) {
		out->status = r->havedata ? DNS_SECURE :
		    r->nxdomain ? DNS_NXDOMAIN : DNS_NODATA;
	} else if (r->bogus) {
		/* Bogus answers still carry data and rcode 0: drop both. */
		out->status = DNS_BOGUS;
		out->why = xstrdup(r->why_bogus != NULL ? r->why_bogus :
		    "validation failed (no reason given: val-log-level is 0)");
		return;
	} else if (r->rcode != 0 && r->rcode != 3) {
		/* SERVFAIL has neither flag: a tempfail, not "insecure". */
		out->status = DNS_SERVFAIL;
		out->why = xasprintf("%s: rcode %d%s", owner, r->rcode,
		    r->rcode == 2 ? " (SERVFAIL)" : r->rcode == 5 ?
		    " (REFUSED)" : "");
		return;
	} else
		out->status = DNS_INSECURE;
	if (r->canonname != NULL && !tlsa_name_equal(r->canonname, owner)) {
		out->canon = tlsa_name_normalise(r->canonname);
		out->canon[strlen(out->canon) - 1] = '\0';
	}
	if (r->havedata)
		dns_copy_data(out, r, owner, rrtype);
}

int
dns_lookup(struct dns_ctx *ctx, const char *name, int rrtype, int timeout_ms,
    struct dns_answer *out)
{
	return dns_lookup_rdata(ctx, name, rrtype, timeout_ms, out, NULL);
}

int
dns_tlsa(struct dns_ctx *ctx, const char *host, unsigned port,
    int timeout_ms, struct dns_answer *out)
{
	char *owner;
	int rc;

	owner = tlsa_owner_name(host, port);
	rc = dns_lookup(ctx, owner, DNS_TYPE_TLSA, timeout_ms, out);
	free(owner);
	return rc;
}

/* Per-server queries (the pre-deploy gate). */
int
dns_ctx_set_stub(struct dns_ctx *ctx, const char *zone, const char *addr,
    struct errbuf *err)
{
	char host[INET6_ADDRSTRLEN + 8], *at;
	unsigned char buf[sizeof(struct in6_addr)];
	int rc;

	/* NULL removes the config's stub for zone: ub_ctx_set_stub would
	 * add our address to it instead. */
	if ((rc = ub_ctx_set_stub(ctx->ub, zone, NULL, 0)) != 0 ||
	    (rc = ub_ctx_set_stub(ctx->ub, zone, addr, 0)) != 0) {
		errbuf_set(err, "stub for %s at %s: %s (write an IP address, "
		    "optionally ip@port)", zone, addr, ub_strerror(rc));
		return -1;
	}
	/* Records in the order the server gave them, not rotated per
	 * answer: dnsauth compares the answers of two addresses byte for
	 * byte. */
	if ((rc = ub_ctx_set_option(ctx->ub, "rrset-roundrobin:",
	    "no")) != 0) {
		errbuf_set(err, "stub for %s at %s: rrset-roundrobin: %s",
		    zone, addr, ub_strerror(rc));
		return -1;
	}
	/* The server is asked for names in its own zone: minimising the
	 * query name would only add a round trip per label. */
	if ((rc = ub_ctx_set_option(ctx->ub, "qname-minimisation:",
	    "no")) != 0) {
		errbuf_set(err, "stub for %s at %s: qname-minimisation: %s",
		    zone, addr, ub_strerror(rc));
		return -1;
	}
	snprintf(host, sizeof(host), "%s", addr);
	if ((at = strchr(host, '@')) != NULL)
		*at = '\0';
	if ((inet_pton(AF_INET, host, buf) == 1 && buf[0] == 127) ||
	    (inet_pton(AF_INET6, host, buf) == 1 &&
	    IN6_IS_ADDR_LOOPBACK((struct in6_addr *)buf))) {
		if ((rc = ub_ctx_set_option(ctx->ub, "do-not-query-localhost:",
		    "no")) != 0) {
			errbuf_set(err, "stub for %s at %s: "
			    "do-not-query-localhost: %s", zone, addr,
			    ub_strerror(rc));
			return -1;
		}
	}
	return 0;
}

int
dns_ctx_set_unvalidated(struct dns_ctx *ctx, struct errbuf *err)
{
	int rc;

	/* Without the validator module; the iterator still asks with the
	 * DO bit, so the answers keep their RRSIGs. */
	if ((rc = ub_ctx_set_option(ctx->ub, "module-config:",
	    "iterator")) != 0) {
		errbuf_set(err, "module-config: iterator: %s",
		    ub_strerror(rc));
		return -1;
	}
	return 0;
}

int
dns_ctx_set_permissive(struct dns_ctx *ctx, struct errbuf *err)
{
	int rc;

	if ((rc = ub_ctx_set_option(ctx->ub, "val-permissive-mode:",
	    "yes")) != 0) {
		errbuf_set(err, "val-permissive-mode: %s", ub_strerror(rc));
		return -1;
	}
	return 0;
}

void
dns_rdata_free(struct dns_rdata *rd)
{
	size_t i;

	for (i = 0; i < rd->n; i++)
		free(rd->data[i]);
	free(rd->data);
	free(rd->len);
	memset(rd, 0, sizeof(*rd));
}

static void
dns_copy_rdata(struct dns_rdata *rd, const struct ub_result *r)
{
	size_t i, n;

	for (n = 0; r->data != NULL && r->data[n] != NULL; n++)
		;
	if (n == 0)
		return;
	rd->data = xreallocarray(NULL, n, sizeof(*rd->data));
	rd->len = xreallocarray(NULL, n, sizeof(*rd->len));
	for (i = 0; i < n; i++) {
		rd->len[i] = r->len[i] > 0 ? (size_t)r->len[i] : 0;
		rd->data[i] = xmalloc(rd->len[i] + 1);
		memcpy(rd->data[i], r->data[i], rd->len[i]);
	}
	rd->n = n;
}

int
dns_lookup_rdata(struct dns_ctx *ctx, const char *name, int rrtype,
    int timeout_ms, struct dns_answer *out, struct dns_rdata *rd)
{
	struct dns_req req;
	int rc;

	memset(&req, 0, sizeof(req));
	req.name = name;
	req.rrtype = rrtype;
	req.rd = rd;
	rc = dns_lookup_many(ctx, &req, 1, timeout_ms);
	*out = req.ans;
	return rc == 0 ? 0 : -1;
}

/* The outcome of one finished query of a batch into its request. */
static void
dns_finish(struct dns_req *rq, struct dns_query *q, const char *owner)
{
	if (q->err != 0) {
		rq->ans.why = xasprintf("%s type %d: %s", owner, rq->rrtype,
		    ub_strerror(q->err));
		rq->rc = -1;
	} else if (q->result == NULL) {
		rq->ans.why = xasprintf("%s type %d: no result", owner,
		    rq->rrtype);
		rq->rc = -1;
	} else {
		dns_classify(&rq->ans, q->result, owner, rq->rrtype);
		if (rq->want_packet && q->result->answer_packet != NULL &&
		    q->result->answer_len > 0) {
			rq->ans.packet = xmalloc((size_t)q->result->answer_len);
			memcpy(rq->ans.packet, q->result->answer_packet,
			    (size_t)q->result->answer_len);
			rq->ans.packet_len = (size_t)q->result->answer_len;
		}
		if (rq->rd != NULL && (rq->ans.status == DNS_SECURE ||
		    rq->ans.status == DNS_INSECURE) && q->result->havedata)
			dns_copy_rdata(rq->rd, q->result);
	}
}

/* Lookups of one dns_lookup_many call in flight at once. */
#define DNS_MANY_WINDOW	256

/* One lookup in flight: its request, query, libunbound id, normalised
 * owner name and deadline. */
struct dns_slot {
	size_t i;
	struct dns_query *q;
	int id;
	char *owner;
	long deadline;
};

/* Give up on a query in flight: cancel it, or, when its answer is on its
 * way already, leave it to a later ub_process (the abandoned list). */
static void
dns_abandon(struct dns_ctx *ctx, struct dns_slot *s)
{
	if (ub_cancel(ctx->ub, s->id) == 0)
		free(s->q);
	else {
		s->q->abandoned = 1;
		s->q->next = ctx->abandoned;
		ctx->abandoned = s->q;
	}
	free(s->owner);
}

/*
 * Send the requests from *next on until DNS_MANY_WINDOW are in flight in
 * fl (*nfl of them). At most DNS_MANY_WINDOW in flight: libunbound drops
 * what exceeds its num-queries-per-thread, and a dropped query would
 * only time out. Each has its own deadline, counted from when it is
 * sent, so that a long batch is not cut short by the time the first
 * lookups took. A request that cannot be sent fails (rc -1).
 */
static void
dns_send(struct dns_ctx *ctx, struct dns_req *req, size_t n, size_t *next,
    struct dns_slot *fl, size_t *nfl, int timeout_ms)
{
	struct dns_slot *s;
	struct dns_req *r;
	int rc;

	for (; *next < n && *nfl < DNS_MANY_WINDOW; (*next)++) {
		s = &fl[*nfl];
		r = &req[*next];
		s->i = *next;
		s->owner = tlsa_name_normalise(r->name);
		s->q = xcalloc(1, sizeof(*s->q));
		rc = ub_resolve_async(ctx->ub, s->owner, r->rrtype, 1,
		    s->q, dns_callback, &s->id);
		if (rc != 0) {
			r->ans.why = xasprintf("%s type %d: cannot "
			    "start lookup: %s", s->owner, r->rrtype,
			    ub_strerror(rc));
			r->rc = -1;
			free(s->q);
			free(s->owner);
			continue;
		}
		s->deadline = dns_now_ms() + timeout_ms;
		(*nfl)++;
	}
}

/*
 * Take the answers that came (the memory of a batch is its window's, not
 * all its results'); a lookup past its deadline at now is a timeout.
 * fl stays in the order sent. Returns how many are still in flight.
 */
static size_t
dns_collect(struct dns_ctx *ctx, struct dns_req *req, struct dns_slot *fl,
    size_t nfl, long now, int timeout_ms)
{
	struct dns_slot *s;
	struct dns_req *r;
	size_t j, k;

	for (j = 0, k = 0; j < nfl; j++) {
		s = &fl[j];
		r = &req[s->i];
		if (s->q->done) {
			dns_finish(r, s->q, s->owner);
			if (s->q->result != NULL)
				ub_resolve_free(s->q->result);
			free(s->q);
			free(s->owner);
		} else if (now >= s->deadline) {
			r->ans.status = DNS_TIMEOUT;
			r->ans.why = xasprintf("%s type %d: no answer "
			    "within %d ms", s->owner, r->rrtype,
			    timeout_ms);
			dns_abandon(ctx, s);
		} else
			fl[k++] = *s;
	}
	return k;
}

int
dns_lookup_many(struct dns_ctx *ctx, struct dns_req *req, size_t n,
    int timeout_ms)
{
	struct dns_slot fl[DNS_MANY_WINDOW];
	struct dns_req *r;
	struct pollfd pfd;
	long now, left;
	size_t i, j, nfl = 0, next = 0;
	int rc, failed = 0, np, e;

	if (timeout_ms < 0)
		timeout_ms = 0;
	pthread_mutex_lock(&ctx->lock);
	dns_reap(ctx);
	for (i = 0; i < n; i++) {
		if (req[i].rd != NULL)
			memset(req[i].rd, 0, sizeof(*req[i].rd));
		dns_answer_init(&req[i].ans);
		req[i].rc = 0;
	}
	pfd.fd = ub_fd(ctx->ub);
	for (;;) {
		dns_send(ctx, req, n, &next, fl, &nfl, timeout_ms);
		now = dns_now_ms();
		nfl = dns_collect(ctx, req, fl, nfl, now, timeout_ms);
		if (nfl == 0 && next >= n)
			break;
		if (nfl < DNS_MANY_WINDOW && next < n)
			continue;
		left = fl[0].deadline - now;
		pfd.events = POLLIN;
		np = poll(&pfd, 1, (int)(left > 0 ? left : 0));
		rc = 0;
		e = errno;
		if ((np < 0 && e != EINTR) ||
		    (np > 0 && (rc = ub_process(ctx->ub)) != 0)) {
			for (j = 0; j < nfl; j++) {
				r = &req[fl[j].i];
				r->ans.why = xasprintf("%s type %d: %s%s",
				    fl[j].owner, r->rrtype, rc != 0 ? "" :
				    "poll: ", rc != 0 ? ub_strerror(rc) :
				    strerror(e));
				r->rc = -1;
				dns_abandon(ctx, &fl[j]);
			}
			break;
		}
	}
	for (i = 0; i < n; i++) {
		if (i >= next && req[i].rc == 0) {
			req[i].ans.status = DNS_TIMEOUT;
			req[i].ans.why = xasprintf("%s type %d: not asked "
			    "(the resolver failed before)", req[i].name,
			    req[i].rrtype);
		}
		if (req[i].rc != 0) {
			req[i].ans.status = DNS_ERROR;
			failed++;
		}
	}
	pthread_mutex_unlock(&ctx->lock);
	return failed;
}
