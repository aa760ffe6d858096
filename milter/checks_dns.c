/*
 * checks_dns - what a configuration needs from DNS (the TLSA RRset of each
 * host without tlsa_file, the A/AAAA records of each host without a probe
 * list) and which configured host an address belongs to. See checks.h;
 * the lookups themselves and their cache are dnscache.c's.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "dnscache.h"
#include "expected.h"
#include "tlsa.h"
#include "verdict.h"
#include "xalloc.h"

int
checks_dns_needed(const struct conf *conf)
{
	size_t i;

	if ((conf->tlsa_file == NULL && conf->nhosts > 0) ||
	    conf->ndomains > 0)
		return 1;
	for (i = 0; i < conf->nhosts; i++)
		if (conf->hosts[i].nprobe == 0 ||
		    conf->hosts[i].ntlsrpt_domains > 0)
			return 1;
	return 0;
}

int
checks_dns_new(const struct conf *conf, struct dnscache **out,
    struct errbuf *err)
{
	long retry = conf->probe_interval > 0 && conf->probe_interval < 60 ?
	    conf->probe_interval : 60;

	*out = dnscache_new(retry);
	if (checks_dns_needed(conf) && dnscache_set_resolver(*out,
	    conf->dns.trust_anchor_file, conf->dns.resolver,
	    conf->dns.resolver_config, err) < 0) {
		errbuf_prefix(err, "dns");
		return -1;
	}
	return 0;
}

/* 1 when h's published set comes from DNS (no tlsa_file, or keyless). */
static int
dns_mode(const struct conf *conf, const struct conf_host *h)
{
	return conf->tlsa_file == NULL || h->keyless;
}

/* 1 when the A/AAAA records of h are looked up. */
static int
wants_addrs(const struct conf *conf, const struct conf_host *h)
{
	return dns_mode(conf, h) || h->nprobe == 0;
}

/* The secure CNAME expansion of h's name in dns, or NULL. */
static const char *
expansion(const struct conf_host *h, const struct dnscache *dns)
{
	const struct dns_answer *a;
	int t;

	for (t = 0; t < 2; t++) {
		a = dnscache_get(dns, checks_host_name(h), t == 0 ?
		    DNS_TYPE_A : DNS_TYPE_AAAA);
		if (a != NULL && (a->status == DNS_SECURE ||
		    a->status == DNS_NXDOMAIN || a->status == DNS_NODATA) &&
		    a->canon != NULL)
			return a->canon;
	}
	return NULL;
}

void
checks_base_domain(const struct conf *conf, const struct conf_host *h,
    const struct dnscache *dns, struct verdict_base *out)
{
	const struct dns_answer *t = NULL;
	const char *x = NULL;
	char *owner;

	if (dns_mode(conf, h) && dns != NULL &&
	    (x = expansion(h, dns)) != NULL) {
		owner = tlsa_owner_name(x, h->port);
		t = dnscache_get(dns, owner, DNS_TYPE_TLSA);
		free(owner);
	}
	verdict_base_domain(checks_host_name(h), x, t != NULL &&
	    (t->status == DNS_NXDOMAIN || t->status == DNS_NODATA ||
	    t->status == DNS_INSECURE), out);
}

char *
checks_tlsrpt_owner(const char *domain)
{
	size_t n = strlen(domain);

	return xasprintf("_smtp._tls.%.*s", (int)(n > 0 &&
	    domain[n - 1] == '.' ? n - 1 : n), domain);
}

/* The _smtp._tls TXT records of every host's tlsrpt_domains (G10). */
static size_t
tlsrpt_refresh(const struct conf *conf, struct dnscache *dns, time_t now)
{
	struct dnscache_query *q = NULL;
	char **owners = NULL;
	size_t i, k, n = 0, changed;

	for (i = 0; i < conf->nhosts; i++)
		for (k = 0; k < conf->hosts[i].ntlsrpt_domains; k++) {
			q = xreallocarray(q, n + 1, sizeof(*q));
			owners = xreallocarray(owners, n + 1,
			    sizeof(*owners));
			owners[n] = checks_tlsrpt_owner(
			    conf->hosts[i].tlsrpt_domains[k]);
			q[n].name = owners[n];
			q[n++].rrtype = DNS_TYPE_TXT;
		}
	changed = n > 0 ? dnscache_refresh(dns, q, n,
	    checks_timeout_ms(conf), now) : 0;
	for (i = 0; i < n; i++)
		free(owners[i]);
	free(owners);
	free(q);
	return changed;
}

static size_t hosts_refresh(const struct conf *conf, struct dnscache *dns,
    time_t now);

size_t
checks_dns_refresh(const struct conf *conf, struct dnscache *dns,
    time_t now)
{
	struct conf *x;
	size_t changed;

	/* The domains' MX first: their other MX hosts are swept too. */
	changed = checks_domain_refresh(conf, dns, now);
	x = checks_domain_conf(conf, dns);
	changed += hosts_refresh(x != NULL ? x : conf, dns, now);
	checks_domain_conf_free(conf, x);
	return changed;
}

static size_t
hosts_refresh(const struct conf *conf, struct dnscache *dns, time_t now)
{
	struct dnscache_query *q;
	char **owners;
	const char *x;
	size_t i, n = 0, changed;

	if (dns == NULL || conf->nhosts == 0)
		return 0;
	q = xcalloc(conf->nhosts * 3, sizeof(*q));
	owners = xcalloc(conf->nhosts * 2, sizeof(*owners));
	for (i = 0; i < conf->nhosts; i++) {
		const struct conf_host *h = &conf->hosts[i];

		if (dns_mode(conf, h)) {
			owners[i] = tlsa_owner_name(checks_host_name(h),
			    h->port);
			q[n].name = owners[i];
			q[n++].rrtype = DNS_TYPE_TLSA;
		}
		if (wants_addrs(conf, h)) {
			q[n].name = checks_host_name(h);
			q[n++].rrtype = DNS_TYPE_A;
			q[n].name = checks_host_name(h);
			q[n++].rrtype = DNS_TYPE_AAAA;
		}
	}
	changed = dnscache_refresh(dns, q, n, checks_timeout_ms(conf), now);
	changed += tlsrpt_refresh(conf, dns, now);
	/* Second round: the TLSA RRsets at the secure CNAME expansions that
	 * the address answers revealed (RFC 7672 section 2.2.3). */
	n = 0;
	for (i = 0; i < conf->nhosts; i++) {
		const struct conf_host *h = &conf->hosts[i];

		if (!dns_mode(conf, h) || (x = expansion(h, dns)) == NULL)
			continue;
		owners[conf->nhosts + i] = tlsa_owner_name(x, h->port);
		q[n].name = owners[conf->nhosts + i];
		q[n++].rrtype = DNS_TYPE_TLSA;
	}
	if (n > 0)
		changed += dnscache_refresh(dns, q, n,
		    checks_timeout_ms(conf), now);
	for (i = 0; i < conf->nhosts * 2; i++)
		free(owners[i]);
	free(owners);
	free(q);
	return changed;
}

/* 1 if answer a (A or AAAA, may be NULL) holds addr. */
static int
answer_has(const struct dns_answer *a, const char *addr)
{
	size_t k;

	for (k = 0; a != NULL && k < a->naddr; k++)
		if (verdict_same_addr(a->addr[k], addr))
			return 1;
	return 0;
}

const struct conf_host *
checks_host_of(const struct conf *conf, const char *addr, unsigned port)
{
	return checks_host_dns(conf, NULL, addr, port);
}

const struct conf_host *
checks_host_dns(const struct conf *conf, const struct dnscache *dns,
    const char *addr, unsigned port)
{
	const struct conf_host *h;
	size_t i, k;

	for (i = 0; i < conf->nhosts; i++) {
		h = &conf->hosts[i];
		if (h->port != port)
			continue;
		for (k = 0; k < h->nprobe; k++)
			if (verdict_same_addr(h->probe[k], addr) ||
			    (h->probe_local[k] != NULL &&
			    verdict_same_addr(h->probe_local[k], addr)))
				return h;
		if (dns != NULL &&
		    (answer_has(dnscache_get(dns, checks_host_name(h),
		    DNS_TYPE_A), addr) || answer_has(dnscache_get(dns,
		    checks_host_name(h), DNS_TYPE_AAAA), addr)))
			return h;
	}
	return NULL;
}
