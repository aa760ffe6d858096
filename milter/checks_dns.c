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
#include "xalloc.h"

int
checks_dns_needed(const struct conf *conf)
{
	size_t i;

	if (conf->tlsa_file == NULL && conf->nhosts > 0)
		return 1;
	for (i = 0; i < conf->nhosts; i++)
		if (conf->hosts[i].nprobe == 0)
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

size_t
checks_dns_refresh(const struct conf *conf, struct dnscache *dns,
    time_t now)
{
	struct dnscache_query *q;
	char **owners;
	size_t i, n = 0, changed;

	if (dns == NULL || conf->nhosts == 0)
		return 0;
	q = xcalloc(conf->nhosts * 3, sizeof(*q));
	owners = xcalloc(conf->nhosts, sizeof(*owners));
	for (i = 0; i < conf->nhosts; i++) {
		const struct conf_host *h = &conf->hosts[i];

		if (conf->tlsa_file == NULL) {
			owners[i] = tlsa_owner_name(checks_host_name(h),
			    h->port);
			q[n].name = owners[i];
			q[n++].rrtype = DNS_TYPE_TLSA;
		}
		if (h->nprobe == 0) {
			q[n].name = checks_host_name(h);
			q[n++].rrtype = DNS_TYPE_A;
			q[n].name = checks_host_name(h);
			q[n++].rrtype = DNS_TYPE_AAAA;
		}
	}
	changed = dnscache_refresh(dns, q, n, checks_timeout_ms(conf), now);
	for (i = 0; i < conf->nhosts; i++)
		free(owners[i]);
	free(owners);
	free(q);
	return changed;
}

static int
same_addr(const char *a, const char *b)
{
	unsigned char x[16], y[16];

	if (inet_pton(AF_INET, a, x) == 1)
		return inet_pton(AF_INET, b, y) == 1 && memcmp(x, y, 4) == 0;
	if (inet_pton(AF_INET6, a, x) == 1)
		return inet_pton(AF_INET6, b, y) == 1 &&
		    memcmp(x, y, 16) == 0;
	return strcmp(a, b) == 0;
}

/* 1 if answer a (A or AAAA, may be NULL) holds addr. */
static int
answer_has(const struct dns_answer *a, const char *addr)
{
	size_t k;

	for (k = 0; a != NULL && k < a->naddr; k++)
		if (same_addr(a->addr[k], addr))
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
			if (same_addr(h->probe[k], addr))
				return h;
		if (h->nprobe == 0 && dns != NULL &&
		    (answer_has(dnscache_get(dns, checks_host_name(h),
		    DNS_TYPE_A), addr) || answer_has(dnscache_get(dns,
		    checks_host_name(h), DNS_TYPE_AAAA), addr)))
			return h;
	}
	return NULL;
}
