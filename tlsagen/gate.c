/*
 * gate - see gate.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cover.h"
#include "dns.h"
#include "dnshealth.h"
#include "dnsauth.h"
#include "duration.h"
#include "expect.h"
#include "firstseen.h"
#include "gate.h"
#include "log.h"
#include "nsverdict.h"
#include "strbuf.h"
#include "paths.h"
#include "tlsa.h"
#include "xalloc.h"

#define GATE_DEFAULT_TIMEOUT	5	/* seconds per query */

#define GATE_DEFAULT_STATE PATHS_STATE_DIR "/firstseen"

/* Per-run totals for the verdict line. */
struct tally {
	size_t servers;
	size_t failed;
	int status;		/* worst exit status so far */
	struct strbuf bad;	/* "ns2.example.com. ::1 (missing)", ... */
};

static void
worse(struct tally *t, int status)
{
	if (status > t->status)
		t->status = status;
}

/*
 * The earliest first-seen time of the records that cover item (each
 * covers it on its own; lib/cover), or -1 when none does, so that an old
 * 3 1 1 and a new 2 1 1 covering the same chain count from the old one.
 */
static time_t
covered_since(const struct cover_item *it, const struct tlsa_set *set,
    const struct firstseen *fs, const char *server, time_t now)
{
	time_t t, first = -1;
	size_t k;

	if (it->state != COVER_OK)
		return -1;
	for (k = 0; k < it->nrecords; k++) {
		t = fs != NULL ? firstseen_get(fs, server,
		    &set->v[it->records[k]]) : now;
		if (t < 0)
			t = now;
		if (first < 0 || t < first)
			first = t;
	}
	return first < 0 ? now : first;
}

/*
 * The verdict for one server that gave a validated answer: "present",
 * "missing: ..." or "too young: ...". Returns 1 when it passes, 0 when
 * not, -1 on an internal error.
 */
static int
judge(const struct options *o, const struct expect *e,
    const struct dnsauth_server *s, const struct firstseen *fs, time_t now,
    struct strbuf *line)
{
	struct strbuf missing, young;
	const struct expect_cert *c;
	struct cover cov = { NULL, 0 };
	struct errbuf err;
	char d1[32], d2[32];
	long min_age, ttl;
	time_t first;
	size_t i;
	int pass = 1;

	memset(&missing, 0, sizeof(missing));
	memset(&young, 0, sizeof(young));
	ttl = s->tlsa.ttl >= 0 ? s->tlsa.ttl : e->ttl;
	min_age = o->min_age_set ? o->min_age : 2 * ttl;
	if (cover_check(e, &s->tlsa.tlsa, &cov, &err) < 0) {
		log_warnx("%s: %s", e->host, err.msg);
		pass = -1;
		goto out;
	}
	for (i = 0; i < cov.n; i++) {
		const struct cover_item *it = &cov.items[i];

		c = &e->certs[it->cert];
		first = covered_since(it, &s->tlsa.tlsa, fs, s->addr, now);
		if (first < 0) {
			strbuf_printf(&missing, "%s%s %s %s%s%s",
			    missing.len ? ", " : "", c->name,
			    expect_role_name(it->role), it->file,
			    it->reason[0] ? ": " : "", it->reason);
			pass = 0;
		} else if (now - first < min_age) {
			strbuf_printf(&young, "%s%s %s counts in %s",
			    young.len ? ", " : "", c->name,
			    expect_role_name(it->role),
			    duration_format(min_age - (now - first),
			    d1, sizeof(d1)));
			pass = 0;
		}
	}
	if (missing.len > 0)
		strbuf_printf(line, "missing: %s", missing.buf);
	if (young.len > 0)
		strbuf_printf(line, "%stoo young: %s (min-age %s%s)",
		    missing.len ? "; " : "", young.buf,
		    duration_format(min_age, d2, sizeof(d2)),
		    o->min_age_set ? "" : ", 2 x TTL");
	if (pass == 1)
		strbuf_printf(line, "present");
out:
	cover_free(&cov);
	strbuf_free(&missing);
	strbuf_free(&young);
	return pass;
}

/*
 * The secure CNAME expansion of e's host name when it is the TLSA base
 * domain (malloc'd, trailing dot), else NULL; see gate_base.
 */
static char *
gate_expansion(struct dns_ctx *ctx, const struct expect *e, int timeout_ms)
{
	struct dns_req req[2];
	struct dns_answer t;
	char *canon = NULL, *owner;
	size_t i;

	memset(req, 0, sizeof(req));
	req[0].name = req[1].name = e->host;
	req[0].rrtype = DNS_TYPE_A;
	req[1].rrtype = DNS_TYPE_AAAA;
	(void)dns_lookup_many(ctx, req, 2, timeout_ms);
	for (i = 0; i < 2; i++) {
		if (canon == NULL && req[i].ans.canon != NULL &&
		    (req[i].ans.status == DNS_SECURE ||
		    req[i].ans.status == DNS_NXDOMAIN ||
		    req[i].ans.status == DNS_NODATA))
			canon = tlsa_name_normalise(req[i].ans.canon);
		dns_answer_clear(&req[i].ans);
	}
	if (canon == NULL)
		return NULL;
	owner = tlsa_owner_name(canon, e->port);
	(void)dns_lookup(ctx, owner, DNS_TYPE_TLSA, timeout_ms, &t);
	free(owner);
	if (t.status == DNS_NXDOMAIN || t.status == DNS_NODATA ||
	    t.status == DNS_INSECURE) {
		log_warnx("%s \u2192 %s (secure CNAME): no TLSA records at the "
		    "expanded name, senders use the original name", e->host,
		    canon);
		free(canon);
		canon = NULL;
	}
	dns_answer_clear(&t);
	return canon;
}

void
gate_base(struct dns_ctx *ctx, const struct expect *e, int timeout_ms,
    struct expect *eb)
{
	char *x;

	*eb = *e;
	if (e->host == NULL || (x = gate_expansion(ctx, e, timeout_ms)) == NULL)
		return;
	eb->host = x;
	eb->owner = tlsa_owner_name(x, e->port);
	log_warnx("%s \u2192 %s (secure CNAME): the records must be at %s",
	    e->host, x, eb->owner);
}

void
gate_base_free(struct expect *eb, const struct expect *e)
{
	if (eb->owner != e->owner)
		free(eb->owner);
	if (eb->host != e->host)
		free(eb->host);
	*eb = *e;
}

/*
 * The TTL advice with the zone's SOA REFRESH (the guard's G9 note, one
 * rule in lib/dnshealth): the TLSA TTL as the first validated address
 * serves it. Advice the configured TTL alone already gave (lib/expect,
 * on load) is not repeated.
 */
static void
ttl_advice(const struct expect *e, const struct dnsauth_zone *z,
    long refresh)
{
	char advice[512], known[512];
	long ttl = -1;
	size_t i;

	for (i = 0; i < z->nservers && ttl < 0; i++)
		if (z->servers[i].addr != NULL &&
		    z->servers[i].tlsa.status == DNS_SECURE)
			ttl = z->servers[i].tlsa.ttl;
	if (ttl < 0 || !dnshealth_ttl_advice(ttl, refresh, advice,
	    sizeof(advice)))
		return;
	if (dnshealth_ttl_advice(e->ttl, -1, known, sizeof(known)) &&
	    strcmp(advice, known) == 0)
		return;
	log_warnx("warning: %s (zone %s): %s", e->owner, z->apex, advice);
}

static void gate_host_at(const struct options *o, const struct expect *e,
    const struct dnsauth_settings *settings, struct dns_ctx *ctx,
    struct firstseen *fs, time_t now, int many, struct strbuf *out,
    struct tally *t);

static void
gate_host(const struct options *o, const struct expect *e,
    const struct dnsauth_settings *settings, struct dns_ctx *ctx,
    struct firstseen *fs, time_t now, int many, struct strbuf *out,
    struct tally *t)
{
	struct expect eb;

	/* Senders look for the records at the TLSA base domain: ask the
	 * nameservers of the zone that holds it. */
	gate_base(ctx, e, settings->timeout_ms, &eb);
	gate_host_at(o, &eb, settings, ctx, fs, now, many, out, t);
	gate_base_free(&eb, e);
}

static void
gate_host_at(const struct options *o, const struct expect *e,
    const struct dnsauth_settings *settings, struct dns_ctx *ctx,
    struct firstseen *fs, time_t now, int many, struct strbuf *out,
    struct tally *t)
{
	struct dnsauth_zone z;
	struct dnsauth_server *s;
	struct strbuf line;
	struct errbuf err;
	const char *state;
	char why[1024];
	unsigned long high = 0, refresh = 0;
	size_t i, answered = 0, failed = 0;
	int pass, have_high;

	if (dnsauth_find(ctx, e->owner, settings->timeout_ms, &z, &err) < 0) {
		log_warnx("%s", err.msg);
		strbuf_printf(&t->bad, "%s%s (%s)", t->bad.len ? ", " : "",
		    e->host, "no nameserver found");
		worse(t, EXIT_ERROR);
		dnsauth_zone_free(&z);
		return;
	}
	dnsauth_query(&z, settings, e->owner);
	have_high = nsverdict_highest(&z, &high, &refresh) == 0;
	for (i = 0; i < z.nservers; i++) {
		s = &z.servers[i];
		memset(&line, 0, sizeof(line));
		pass = 0;
		state = NULL;
		switch (nsverdict_answer(s, &s->tlsa, z.apex, why,
		    sizeof(why))) {
		case NSVERDICT_VALIDATED:
			answered++;
			if (fs != NULL)
				firstseen_observe(fs, s->addr, e->owner,
				    &s->tlsa.tlsa, now);
			if ((pass = judge(o, e, s, fs, now, &line)) < 0) {
				worse(t, EXIT_ERROR);
				pass = 0;
			}
			state = pass ? NULL : strncmp(line.buf, "missing", 7) ==
			    0 ? "missing" : "too young";
			break;
		case NSVERDICT_BOGUS:
			answered++;
			strbuf_printf(&line, "%s", why);
			state = "bogus";
			break;
		case NSVERDICT_INSECURE:
			answered++;
			strbuf_printf(&line, "%s", why);
			state = "insecure";
			break;
		case NSVERDICT_LOCAL:
			/* Our side (the resolver settings), not the
			 * server's. */
			log_warnx("%s %s: %s", s->name, s->addr,
			    s->why ? s->why : "lookup failed");
			worse(t, EXIT_ERROR);
			/* FALLTHROUGH */
		case NSVERDICT_UNREACHABLE:
			strbuf_printf(&line, "%s", why);
			state = "unreachable";
			break;
		}
		/* A secondary behind the highest serial: a note, whatever
		 * the records (G8's rule: lib/nsverdict). */
		if (have_high && nsverdict_behind(s, high)) {
			(void)nsverdict_serial(&z, s, -1, now, why,
			    sizeof(why));
			strbuf_printf(&line, "; %s", why);
		}
		strbuf_printf(out, "%s %s %s serial ", e->host, s->name,
		    s->addr ? s->addr : "-");
		if (s->serial >= 0)
			strbuf_printf(out, "%ld", s->serial);
		else
			strbuf_printf(out, "-");
		strbuf_printf(out, " %s\n", line.buf ? line.buf : "");
		strbuf_free(&line);
		t->servers++;
		if (!pass) {
			failed++;
			t->failed++;
			strbuf_printf(&t->bad, "%s%s%s%s %s (%s)",
			    t->bad.len ? ", " : "", many ? e->host : "",
			    many ? " at " : "", s->name,
			    s->addr ? s->addr : "-", state);
		}
	}
	if (answered == 0) {
		log_warnx("%s: none of the %zu nameserver address%s of %s "
		    "answered: check the network, or the resolver settings",
		    e->host, z.nservers, z.nservers == 1 ? "" : "es", z.apex);
		worse(t, EXIT_ERROR);
	} else if (failed > 0)
		worse(t, EXIT_CHECK_FAILED);
	if (have_high)
		ttl_advice(e, &z, (long)refresh);
	dnsauth_zone_free(&z);
}

void
gate_settings(const struct options *o, const struct conf *conf,
    struct dnsauth_settings *settings)
{
	memset(settings, 0, sizeof(*settings));
	if (conf != NULL) {
		settings->anchor = conf->dns.trust_anchor_file;
		settings->resolver = conf->dns.resolver;
		settings->config = conf->dns.resolver_config;
	}
	if (o->resolver_config != NULL)
		settings->config = o->resolver_config;
	/* A resolver configuration brings its own trust anchors, unless
	 * trust_anchor_file names another file than the default. */
	if (settings->config != NULL && settings->anchor != NULL &&
	    strcmp(settings->anchor, DNS_DEFAULT_ANCHOR) == 0)
		settings->anchor = NULL;
	settings->timeout_ms = 1000 * (int)(o->timeout_set ? o->timeout :
	    conf != NULL && conf->probe_timeout > 0 ? conf->probe_timeout :
	    GATE_DEFAULT_TIMEOUT);
}

char *
gate_state_path(const struct conf *conf)
{
	return conf != NULL && conf->state_dir != NULL ?
	    xasprintf("%s/firstseen", conf->state_dir) :
	    xstrdup(GATE_DEFAULT_STATE);
}

int
gate_run(const struct options *o, const struct run *r, time_t now)
{
	const struct conf *conf = r->conf;
	struct dnsauth_settings settings;
	struct firstseen state, *fs = NULL;
	struct dns_ctx *ctx = NULL;
	struct strbuf out;
	struct tally t;
	struct errbuf err;
	char *statepath = NULL;
	size_t i;

	memset(&out, 0, sizeof(out));
	memset(&t, 0, sizeof(t));
	gate_settings(o, conf, &settings);

	if (o->state != NULL)
		statepath = xstrdup(o->state);
	else if (!(o->min_age_set && o->min_age == 0))
		statepath = gate_state_path(conf);
	if (statepath != NULL) {
		firstseen_init(&state, statepath);
		fs = &state;
		if (firstseen_load(fs, now, &err) < 0) {
			log_warnx("%s", err.msg);
			t.status = EXIT_ERROR;
			goto out;
		}
		for (i = 0; i < fs->nwarnings; i++)
			log_warnx("warning: %s", fs->warnings[i]);
	}

	if ((ctx = dns_ctx_new(settings.anchor, settings.resolver,
	    settings.config, &err)) == NULL || dns_ctx_ready(ctx, &err) < 0) {
		log_warnx("%s", err.msg);
		t.status = EXIT_ERROR;
		goto out;
	}
	for (i = 0; i < r->nexpects; i++)
		gate_host(o, r->expects[i], &settings, ctx, fs, now,
		    r->nexpects > 1, &out, &t);
	/* Nothing was asked (no zone, no nameserver): nothing to record. */
	if (fs != NULL && t.servers > 0 && firstseen_save(fs, &err) < 0) {
		log_warnx("%s", err.msg);
		worse(&t, EXIT_ERROR);
	}
	if (t.status == 0)
		strbuf_printf(&out, "verdict: PASS: all %zu nameserver "
		    "address%s serve validly signed records for every chain "
		    "and key, old enough: deploy\n", t.servers,
		    t.servers == 1 ? "" : "es");
	else if (t.status == EXIT_CHECK_FAILED)
		strbuf_printf(&out, "verdict: FAIL: %zu of %zu nameserver "
		    "address%s not ready: %s: do not deploy yet\n", t.failed,
		    t.servers, t.servers == 1 ? "" : "es", t.bad.buf);
	else
		strbuf_printf(&out, "verdict: ERROR: %s%s\n", t.bad.len ?
		    t.bad.buf : "see the messages above",
		    t.bad.len ? ": do not deploy" : "");
	if (out.len > 0)
		fwrite(out.buf, 1, out.len, stdout);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		log_warn("standard output");
		worse(&t, EXIT_ERROR);
	}
out:
	dns_ctx_free(ctx);
	if (fs != NULL)
		firstseen_free(fs);
	free(statepath);
	strbuf_free(&out);
	strbuf_free(&t.bad);
	return t.status;
}
