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
		if (rq->rd != NULL && (rq->ans.status == DNS_SECURE ||
		    rq->ans.status == DNS_INSECURE) && q->result->havedata)
			dns_copy_rdata(rq->rd, q->result);
	}
}

/* Lookups of one dns_lookup_many call in flight at once. */
#define DNS_MANY_WINDOW	256

int
dns_lookup_many(struct dns_ctx *ctx, struct dns_req *req, size_t n,
    int timeout_ms)
{
	struct dns_query **q;
	struct pollfd pfd;
	char **owner;
	long deadline, left;
	size_t i, pending = 0, next = 0;
	int rc, *id, failed = 0, np;

	q = xcalloc(n > 0 ? n : 1, sizeof(*q));
	owner = xcalloc(n > 0 ? n : 1, sizeof(*owner));
	id = xcalloc(n > 0 ? n : 1, sizeof(*id));
	pthread_mutex_lock(&ctx->lock);
	dns_reap(ctx);
	deadline = dns_now_ms() + (timeout_ms > 0 ? timeout_ms : 0);
	for (i = 0; i < n; i++) {
		if (req[i].rd != NULL)
			memset(req[i].rd, 0, sizeof(*req[i].rd));
		dns_answer_init(&req[i].ans);
		req[i].rc = 0;
		owner[i] = tlsa_name_normalise(req[i].name);
	}
	pfd.fd = ub_fd(ctx->ub);
	for (;;) {
		/* At most DNS_MANY_WINDOW in flight: libunbound drops what
		 * exceeds its num-queries-per-thread, and a dropped query
		 * would only time out. */
		for (; next < n && pending < DNS_MANY_WINDOW; next++) {
			q[next] = xcalloc(1, sizeof(*q[next]));
			rc = ub_resolve_async(ctx->ub, owner[next],
			    req[next].rrtype, 1, q[next], dns_callback,
			    &id[next]);
			if (rc != 0) {
				req[next].ans.why = xasprintf("%s type %d: "
				    "cannot start lookup: %s", owner[next],
				    req[next].rrtype, ub_strerror(rc));
				req[next].rc = -1;
				free(q[next]);
				q[next] = NULL;
			} else
				pending++;
		}
		if (pending == 0)
			break;
		if ((left = deadline - dns_now_ms()) <= 0)
			break;
		pfd.events = POLLIN;
		np = poll(&pfd, 1, (int)left);
		if (np < 0 && errno != EINTR) {
			for (i = 0; i < n; i++)
				if (q[i] != NULL && !q[i]->done) {
					req[i].ans.why = xasprintf("%s type "
					    "%d: poll: %s", owner[i],
					    req[i].rrtype, strerror(errno));
					req[i].rc = -1;
				}
			break;
		}
		if (np > 0 && (rc = ub_process(ctx->ub)) != 0) {
			for (i = 0; i < n; i++)
				if (q[i] != NULL && !q[i]->done) {
					req[i].ans.why = xasprintf("%s type "
					    "%d: %s", owner[i], req[i].rrtype,
					    ub_strerror(rc));
					req[i].rc = -1;
				}
			break;
		}
		for (pending = 0, i = 0; i < next; i++)
			if (q[i] != NULL && !q[i]->done)
				pending++;
	}
	for (i = 0; i < n; i++) {
		if (q[i] == NULL) {
			if (i >= next && req[i].rc == 0) {
				req[i].ans.status = DNS_TIMEOUT;
				req[i].ans.why = xasprintf("%s type %d: not "
				    "asked within %d ms", owner[i],
				    req[i].rrtype, timeout_ms);
			}
		} else if (!q[i]->done) {
			if (ub_cancel(ctx->ub, id[i]) == 0)
				free(q[i]);
			else {
				/* Its answer is in the pipe: a later
				 * ub_process delivers it to the abandoned
				 * query. */
				q[i]->abandoned = 1;
				q[i]->next = ctx->abandoned;
				ctx->abandoned = q[i];
			}
			if (req[i].rc == 0) {
				req[i].ans.status = DNS_TIMEOUT;
				req[i].ans.why = xasprintf("%s type %d: no "
				    "answer within %d ms", owner[i],
				    req[i].rrtype, timeout_ms);
			}
		} else {
			if (req[i].rc == 0)
				dns_finish(&req[i], q[i], owner[i]);
			if (q[i]->result != NULL)
				ub_resolve_free(q[i]->result);
			free(q[i]);
		}
		if (req[i].rc != 0) {
			req[i].ans.status = DNS_ERROR;
			failed++;
		}
		free(owner[i]);
	}
	pthread_mutex_unlock(&ctx->lock);
	free(q);
	free(owner);
	free(id);
	return failed;
}
