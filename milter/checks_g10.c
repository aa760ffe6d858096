/*
 * checks_g10 - G10, the senders' own view: the TLS-RPT reports (RFC 8460)
 * of the last 24 h in state_dir/tlsrpt (daneguard --tlsrpt fills it) that
 * carry DANE or STARTTLS failures (tlsrpt_result_is_dane) for a
 * configured host, by its name (receiving-mx-hostname) or one of its
 * addresses (receiving-ip: its probe list, else its A/AAAA records).
 * "The last 24 h" is a report whose date-range ended yesterday or today
 * (UTC): senders report whole days, a day after.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "checks.h"
#include "expected.h"
#include "tlsrpt.h"
#include "tlsrpt_store.h"
#include "xalloc.h"

/* A name and its count, for the top reporter and the result types. */
struct tally {
	char **name;
	long long *count;
	size_t n;
};

static void
tally_add(struct tally *t, const char *name, long long count)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (strcmp(t->name[i], name) == 0) {
			t->count[i] += count;
			return;
		}
	t->name = xreallocarray(t->name, t->n + 1, sizeof(*t->name));
	t->count = xreallocarray(t->count, t->n + 1, sizeof(*t->count));
	t->name[t->n] = xstrdup(name);
	t->count[t->n++] = count;
}

static size_t
tally_top(const struct tally *t)
{
	size_t i, top = 0;

	for (i = 1; i < t->n; i++)
		if (t->count[i] > t->count[top])
			top = i;
	return top;
}

static void
tally_free(struct tally *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->name[i]);
	free(t->name);
	free(t->count);
}

struct g10_host {
	long long failed;
	struct tally orgs, results;
	char ip[64];		/* receiving-ip of the largest count */
	long long ipcount;
};

struct g10_scan {
	const struct conf *conf;
	const struct dnscache *dns;
	struct g10_host *hosts;
};

/* name equals the host's name, ignoring case and a trailing dot. */
static int
same_name(const char *name, const char *host)
{
	size_t n = strlen(name), h = strlen(host);

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (h > 0 && host[h - 1] == '.')
		h--;
	return n > 0 && n == h && strncasecmp(name, host, n) == 0;
}

static int
g10_line(const struct tlsrpt_store_count *c, void *arg)
{
	struct g10_scan *s = arg;
	const struct conf_host *h;
	struct g10_host *g;
	size_t i;

	if (c->count == 0 || !tlsrpt_result_is_dane(c->result))
		return 0;
	for (i = 0; i < s->conf->nhosts; i++) {
		h = &s->conf->hosts[i];
		if (!(*c->mx != '\0' && same_name(c->mx, checks_host_name(h))) &&
		    !(*c->ip != '\0' && checks_host_dns(s->conf, s->dns,
		    c->ip, h->port) == h))
			continue;
		g = &s->hosts[i];
		g->failed += c->count;
		tally_add(&g->orgs, c->org, c->count);
		tally_add(&g->results, c->result, c->count);
		if (*c->ip != '\0' && c->count > g->ipcount) {
			snprintf(g->ip, sizeof(g->ip), "%s", c->ip);
			g->ipcount = c->count;
		}
	}
	return 0;
}

/* 1 when this sweep's G3 items for host are all OK (and there are some). */
static int
g3_ok(const struct report *r, const char *host)
{
	size_t i, n = 0;

	for (i = 0; i < r->n; i++) {
		if (r->items[i].check != CHECK_G3 ||
		    strcmp(r->items[i].host, host) != 0)
			continue;
		if (r->items[i].state != VERDICT_OK)
			return 0;
		n++;
	}
	return n > 0;
}

/* The per-host items from the store. */
static void
g10_store(const struct conf *conf, const struct dnscache *dns, time_t now,
    struct report *out)
{
	struct g10_scan s = { conf, dns, NULL };
	struct report_item *it;
	struct errbuf err;
	struct stat st;
	char *dir, results[256];
	size_t i, j, top;
	int rc;

	dir = xasprintf("%s/tlsrpt", conf->state_dir);
	if (stat(dir, &st) < 0) {	/* no intake set up: no G10 */
		free(dir);
		return;
	}
	s.hosts = xcalloc(conf->nhosts + 1, sizeof(*s.hosts));
	rc = tlsrpt_store_scan(dir, tlsrpt_store_day(now) - 1, NULL, g10_line,
	    &s, &err);
	for (i = 0; i < conf->nhosts; i++) {
		const char *host = checks_host_name(&conf->hosts[i]);
		struct g10_host *g = &s.hosts[i];

		if (rc < 0) {
			report_add(out, CHECK_G10, host, NULL, NULL, NULL,
			    VERDICT_UNKNOWN, "TLS-RPT store unreadable: %s",
			    err.msg);
			continue;
		}
		if (g->failed == 0) {
			it = report_add(out, CHECK_G10, host, NULL, NULL, NULL,
			    VERDICT_OK, "senders' TLS reports of the last 24 h "
			    "show no DANE or STARTTLS failure");
			it->counted = 1;
			continue;
		}
		results[0] = '\0';
		for (j = 0; j < g->results.n; j++)
			snprintf(results + strlen(results),
			    sizeof(results) - strlen(results), "%s%s %lld",
			    j ? ", " : "", g->results.name[j],
			    g->results.count[j]);
		top = tally_top(&g->orgs);
		it = report_add(out, CHECK_G10, host, NULL, NULL, NULL,
		    VERDICT_WARNING, "senders reported %lld failed sessions in "
		    "the last 24 h (%s); \"%s\" reported %lld%s%s%s%s",
		    g->failed, results, g->orgs.name[top], g->orgs.count[top],
		    g->orgs.n > 1 ? " (and others)" : "",
		    g->ip[0] ? ", e.g. receiving-ip " : "", g->ip,
		    g3_ok(out, host) ? "; contradicts G3 OK: the senders' "
		    "view disagrees with our probes (a middlebox, NAT to "
		    "another server, resolvers that see other records?)" : "");
		it->counted = 1;
		it->count = g->failed;
	}
	for (i = 0; i < conf->nhosts; i++) {
		tally_free(&s.hosts[i].orgs);
		tally_free(&s.hosts[i].results);
	}
	free(s.hosts);
	free(dir);
}

/*
 * The _smtp._tls record of domain (listed under host), as senders find
 * it. "Published securely" is a DNSSEC-signed answer: an unsigned one can
 * be forged to send the reports elsewhere.
 */
static void
g10_txt_item(const char *host, const char *domain,
    const struct dnscache *dns, struct report *out)
{
	const struct dns_answer *a;
	struct errbuf err;
	char *owner = checks_tlsrpt_owner(domain), rua[256];
	int none = 0, rc = -1;

	a = dns != NULL ? dnscache_get(dns, owner, DNS_TYPE_TXT) : NULL;
	if (a == NULL) {
		report_add(out, CHECK_G10, host, owner, NULL, NULL,
		    VERDICT_UNKNOWN,
		    "%s TXT not looked up (no resolver)", owner);
		free(owner);
		return;
	}
	switch (a->status) {
	case DNS_SECURE:
	case DNS_INSECURE:
		rc = tlsrpt_txt_check(a->txt, a->ntxt, rua, sizeof(rua),
		    &none, &err);
		break;
	case DNS_NXDOMAIN:
	case DNS_NODATA:
		none = 1;
		break;
	case DNS_BOGUS:
		report_add(out, CHECK_G10, host, owner, NULL, NULL,
		    VERDICT_WARNING,
		    "%s TXT is bogus (%s): validating senders send no TLS "
		    "reports for %s", owner, a->why ? a->why : "validation "
		    "failed", domain);
		free(owner);
		return;
	default:
		report_add(out, CHECK_G10, host, owner, NULL, NULL,
		    VERDICT_UNKNOWN,
		    "%s TXT lookup failed (%s%s%s): tried again", owner,
		    dns_status_name(a->status), a->why ? ": " : "",
		    a->why ? a->why : "");
		free(owner);
		return;
	}
	if (none)
		report_add(out, CHECK_G10, host, owner, NULL, NULL, VERDICT_OK,
		    "note: no TLS-RPT record at %s: senders send no TLS "
		    "reports for %s; publish %s TXT \"v=TLSRPTv1; "
		    "rua=mailto:ADDRESS\" (conf/postfix-tlsrpt.cf)", owner,
		    domain, owner);
	else if (rc < 0)
		report_add(out, CHECK_G10, host, owner, NULL, NULL,
		    VERDICT_WARNING,
		    "%s TXT %s: senders send no TLS reports for %s", owner,
		    err.msg, domain);
	else if (a->status == DNS_INSECURE)
		report_add(out, CHECK_G10, host, owner, NULL, NULL, VERDICT_OK,
		    "note: %s has rua=%s but is not DNSSEC-signed (a forged "
		    "answer could send the reports elsewhere)", owner, rua);
	else
		report_add(out, CHECK_G10, host, owner, NULL, NULL, VERDICT_OK,
		    "%s published (DNSSEC-signed), reports to %s", owner, rua);
	free(owner);
}

void
checks_g10(const struct conf *conf, const struct dnscache *dns, time_t now,
    struct report *out)
{
	const struct conf_host *h;
	size_t i, k;

	g10_store(conf, dns, now, out);
	for (i = 0; i < conf->nhosts; i++) {
		h = &conf->hosts[i];
		for (k = 0; k < h->ntlsrpt_domains; k++)
			g10_txt_item(checks_host_name(h), h->tlsrpt_domains[k],
			    dns, out);
	}
}
