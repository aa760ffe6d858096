/*
 * checks_domain - the MX view of the configuration's mail domains (domain
 * sections, domains_file, daneguard --check --domain): their MX lookups,
 * their other MX hosts as keyless hosts of the sweep, and the domain
 * items. See checks.h for the contracts, lib/mxview.h for the rules.
 *
 * Decisions:
 *  - A domain's other MX hosts (targets that are no host section) are
 *    swept like this machine's hosts, through the same code, marked
 *    keyless: G1, G2, G3, G11 per address and algorithm served, G7, with
 *    the same SNI, CNAME, published-address and record rules; G4 and G5
 *    need files and are not judged. They are taken from secure and
 *    insecure MX answers alike (an insecure MX row already says that
 *    DANE is not in force; STARTTLS still matters).
 *  - A target named by several domains is probed once.
 *  - The items of a domain: G7 "MX" (the RRset), G7 "MX-hosts" (this
 *    machine's hosts among the targets; only with host sections, and
 *    not when there are no targets to judge), G3
 *    "MX-keys" (two MX hosts serving one key), host = the domain.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "checks.h"
#include "dnscache.h"
#include "expected.h"
#include "mxview.h"
#include "tlsa.h"
#include "xalloc.h"

size_t
checks_domain_refresh(const struct conf *conf, struct dnscache *dns,
    time_t now)
{
	struct dnscache_query *q;
	size_t i, changed;

	if (dns == NULL || conf->ndomains == 0)
		return 0;
	q = xcalloc(conf->ndomains, sizeof(*q));
	for (i = 0; i < conf->ndomains; i++) {
		q[i].name = conf->domains[i].name;
		q[i].rrtype = DNS_TYPE_MX;
	}
	changed = dnscache_refresh(dns, q, conf->ndomains,
	    checks_timeout_ms(conf), now);
	free(q);
	return changed;
}

static int
has_host(const struct conf_host *hosts, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (tlsa_name_equal(hosts[i].name, name))
			return 1;
	return 0;
}

struct conf *
checks_domain_conf(const struct conf *conf, const struct dnscache *dns)
{
	const struct dns_answer *mx;
	struct conf *x = NULL;
	struct conf_host *h;
	size_t i, k;

	for (i = 0; dns != NULL && i < conf->ndomains; i++) {
		if (!conf->domains[i].remote)
			continue;
		mx = dnscache_get(dns, conf->domains[i].name, DNS_TYPE_MX);
		if (mx == NULL || (mx->status != DNS_SECURE &&
		    mx->status != DNS_INSECURE))
			continue;
		for (k = 0; k < mx->nmx; k++) {
			if (mx->mx[k][0] == '\0' || !conf_hostname_ok(mx->mx[k]))
				continue;
			if (x == NULL) {
				x = xmalloc(sizeof(*x));
				*x = *conf;
				x->hosts = xcalloc(conf->nhosts ? conf->nhosts :
				    1, sizeof(*x->hosts));
				if (conf->nhosts > 0)	/* --domain: none */
					memcpy(x->hosts, conf->hosts,
					    conf->nhosts * sizeof(*x->hosts));
			}
			if (has_host(x->hosts, x->nhosts, mx->mx[k]))
				continue;
			x->hosts = xreallocarray(x->hosts, x->nhosts + 1,
			    sizeof(*x->hosts));
			h = &x->hosts[x->nhosts++];
			memset(h, 0, sizeof(*h));
			h->name = xstrdup(mx->mx[k]);
			h->port = 25;
			h->ttl = 3600;
			h->keyless = 1;
		}
	}
	return x;
}

void
checks_domain_conf_free(const struct conf *conf, struct conf *x)
{
	size_t i;

	if (x == NULL)
		return;
	for (i = conf->nhosts; i < x->nhosts; i++)
		free(x->hosts[i].name);
	free(x->hosts);
	free(x);
}

void
checks_keys_add(struct checks_keys *keys, const char *host,
    STACK_OF(X509) *chain)
{
	struct mxview_key *k;
	unsigned int len = 0;

	if (chain == NULL || sk_X509_num(chain) < 1)
		return;
	keys->v = xreallocarray(keys->v, keys->n + 1, sizeof(*keys->v));
	k = &keys->v[keys->n];
	memset(k, 0, sizeof(*k));
	k->host = host;
	if (X509_pubkey_digest(sk_X509_value(chain, 0), EVP_sha256(),
	    k->spki, &len) != 1 || len != sizeof(k->spki))
		return;
	keys->n++;
}

void
checks_keys_clear(struct checks_keys *keys)
{
	free(keys->v);
	keys->v = NULL;
	keys->n = 0;
}

void
checks_domain_eval(const struct conf *conf, const struct dnscache *dns,
    const struct checks_keys *keys, struct report *out)
{
	const struct conf_domain *d;
	const struct dns_answer *mx;
	struct mxview_key *mine;
	const char **want;
	struct verdict v;
	size_t i, k, n, nwant;

	for (i = 0; i < conf->ndomains; i++) {
		d = &conf->domains[i];
		mx = dns != NULL ? dnscache_get(dns, d->name, DNS_TYPE_MX) :
		    NULL;
		mxview_rrset(d->name, mx, &v);
		report_add(out, CHECK_G7, d->name, "MX", NULL, NULL, v.state, "%s",
		    v.reason);
		if (conf->nhosts > 0) {
			nwant = d->nhosts > 0 ? d->nhosts : conf->nhosts;
			want = xcalloc(nwant, sizeof(*want));
			for (k = 0; k < nwant; k++)
				want[k] = d->nhosts > 0 ? d->hosts[k] :
				    conf->hosts[k].name;
			mxview_targets(d->name, mx, want, nwant,
			    d->nhosts > 0, &v);
			/* Without targets the MX row says why. */
			if (v.state != VERDICT_UNKNOWN)
				report_add(out, CHECK_G7, d->name, "MX-hosts",
				    NULL, NULL, v.state, "%s", v.reason);
			free(want);
		}
		/* The keys served by this domain's MX hosts. */
		mine = xcalloc(keys->n ? keys->n : 1, sizeof(*mine));
		for (k = n = 0; k < keys->n; k++)
			if (mxview_is_target(mx, keys->v[k].host))
				mine[n++] = keys->v[k];
		if (n > 0) {
			mxview_shared(d->name, mine, n, &v);
			report_add(out, CHECK_G3, d->name, "MX-keys", NULL, NULL,
			    v.state, "%s", v.reason);
		}
		free(mine);
	}
}
