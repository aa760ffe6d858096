/*
 * checks_g9 - G9, DNSSEC health before it breaks (checks.h): for each
 * host, the zone of its TLSA owner, every address of every nameserver of
 * it asked directly in the nameserver pass (checks_g8.c asks G9's
 * questions in G8's batch; zonesig.h reads the answers), judged by
 * dnshealth.h. Items, keyed by the alg column:
 *   "rrsig"  per nameserver address: the earliest RRSIG expiration over
 *            the TLSA RRset, the host's A and AAAA (when in the zone) and
 *            the zone's DNSKEY RRset (for a configured domain, under its
 *            name: its MX RRset and its zone's DNSKEY); also WARNING when that is not later
 *            than the SOA EXPIRE the address serves. Carries the seconds
 *            left (daneguard_rrsig_expiry_seconds).
 *   "ds"     per zone (address column: the apex): the parent's DS RRset
 *            names a key that signs the DNSKEY RRset, at every address.
 *   "ttl"    per host (address column: the TLSA owner): the TTL advice,
 *            always OK, "note: ..." when there is advice.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checks.h"
#include "dnshealth.h"
#include "dnssig.h"
#include "duration.h"
#include "expected.h"
#include "tlsa.h"
#include "xalloc.h"
#include "zonesig.h"

static void
utc(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* The item of one address. */
static void
g9_server(const struct conf *conf, const char *host,
    const struct zonesig_server *s, const size_t *pick, size_t npick,
    time_t now, struct report *out)
{
	const struct zonesig_rrset *worst = NULL, *first = NULL;
	enum verdict_state st = VERDICT_OK, w;
	struct report_item *it;
	char when[64], left[32], warn[32], crit[32], exp[32], type[16];
	const char *addr = s->addr != NULL ? s->addr : s->name;
	long l;
	size_t i;

	if (s->addr == NULL || s->why != NULL) {
		report_add(out, CHECK_G9, host, addr, "rrsig", NULL,
		    VERDICT_UNKNOWN, "nameserver %s%s%s%s: %s", s->name,
		    s->addr ? " (" : "", s->addr ? s->addr : "",
		    s->addr ? ")" : "", s->why ? s->why : "no address");
		return;
	}
	for (i = 0; i < npick; i++) {
		const struct zonesig_rrset *r = &s->sets[pick[i]];

		if (r->nsigs == 0)
			continue;
		w = dnshealth_expiry((long)(r->expiration - now), r->orig_ttl,
		    conf->dns.rrsig_warning, conf->dns.rrsig_critical);
		if (first == NULL || r->expiration < first->expiration)
			first = r;
		if (worst == NULL || w > st || (w == st &&
		    r->expiration < worst->expiration)) {
			worst = r;
			st = w;
		}
	}
	if (first == NULL) {
		report_add(out, CHECK_G9, host, addr, "rrsig", NULL, VERDICT_OK,
		    "nameserver %s (%s) serves no signatures for the records "
		    "senders need (the zone is not signed: see G7)", s->name,
		    s->addr);
		return;
	}
	l = (long)(worst->expiration - now);
	utc(worst->expiration, when, sizeof(when));
	duration_format(l < 0 ? -l : l, left, sizeof(left));
	duration_format(dnshealth_warn_at(worst->orig_ttl,
	    conf->dns.rrsig_warning), warn, sizeof(warn));
	duration_format(conf->dns.rrsig_critical, crit, sizeof(crit));
	dnssig_type_name(worst->covered, type, sizeof(type));
	if (st == VERDICT_OK && dnshealth_soa_expire((long)(first->expiration -
	    now), s->soa_expire) != VERDICT_OK) {
		duration_format((long)(first->expiration - now), left,
		    sizeof(left));
		duration_format(s->soa_expire, exp, sizeof(exp));
		dnssig_type_name(first->covered, type, sizeof(type));
		it = report_add(out, CHECK_G9, host, addr, "rrsig", NULL,
		    VERDICT_WARNING, "nameserver %s (%s): the RRSIG of %s %s "
		    "(signer %s, key %u) expires in %s, not later than the "
		    "SOA EXPIRE of %s: a secondary cut off from its primary "
		    "would serve expired signatures; re-sign more often or "
		    "lower EXPIRE", s->name, s->addr, first->sig_owner, type,
		    first->signer, first->keytag, left, exp);
	} else
		it = report_add(out, CHECK_G9, host, addr, "rrsig", NULL, st,
		    "nameserver %s (%s): the RRSIG of %s %s (signer %s, key "
		    "%u) %s %s (%s)%s%s; WARNING below %s, CRITICAL below %s",
		    s->name, s->addr, worst->sig_owner, type, worst->signer,
		    worst->keytag, l < 0 ? "expired" : "expires", when, left,
		    l < 0 ? " ago" : "", st != VERDICT_OK ?
		    ": re-sign the zone" : "", warn, crit);
	it->sig_dated = 1;
	it->sig_seconds = (long long)(first->expiration - now);
}

/* The DS item of the zone. */
static void
g9_ds(const char *host, const struct zonesig_zone *z, struct report *out)
{
	enum verdict_state st, worst = VERDICT_OK;
	const struct zonesig_server *bad = NULL;
	size_t i, d, k, nmatch, nsign, nunk, bad_match = 0, checked = 0;
	char where[600];
	int m;

	snprintf(where, sizeof(where), z->ds_anchor != NULL ?
	    "in the trust anchor file %s" : "at the parent%s",
	    z->ds_anchor != NULL ? z->ds_anchor : "");

	switch (z->ds_status) {
	case DNS_SECURE:
		break;
	case DNS_BOGUS:
		report_add(out, CHECK_G9, host, z->apex, "ds", NULL,
		    VERDICT_CRITICAL, "the DS RRset of %s at the parent is "
		    "bogus: %s", z->apex, z->ds_why ? z->ds_why : "");
		return;
	case DNS_INSECURE:
	case DNS_NODATA:
	case DNS_NXDOMAIN:
		report_add(out, CHECK_G9, host, z->apex, "ds", NULL, VERDICT_OK,
		    "no secure DS for %s at the parent (%s): nothing to "
		    "match (G7 says whether DANE is in force)", z->apex,
		    dns_status_name(z->ds_status));
		return;
	default:
		report_add(out, CHECK_G9, host, z->apex, "ds", NULL,
		    VERDICT_UNKNOWN, "the DS RRset of %s at the parent: %s",
		    z->apex, z->ds_why ? z->ds_why :
		    dns_status_name(z->ds_status));
		return;
	}
	for (i = 0; i < z->nservers; i++) {
		const struct zonesig_server *s = &z->servers[i];

		if (s->addr == NULL || s->nkeys == 0)
			continue;
		checked++;
		nmatch = nsign = nunk = 0;
		for (d = 0; d < z->ds.n; d++) {
			int matched = 0, signing = 0, unknown = 1;

			for (k = 0; k < s->nkeys; k++) {
				m = dnssig_ds_match(z->apex, z->ds.data[d],
				    z->ds.len[d], s->keys[k].rdata,
				    s->keys[k].len);
				if (m >= 0)
					unknown = 0;
				if (m == 1) {
					matched = 1;
					signing |= s->keys[k].signs;
				}
			}
			nmatch += matched;
			nsign += signing;
			nunk += unknown;
		}
		st = dnshealth_ds(z->ds.n, nmatch, nsign, nunk);
		/* The first address of the worst state is named. */
		if (bad == NULL || st > worst) {
			bad = s;
			bad_match = nmatch;
			worst = st;
		}
	}
	if (checked == 0) {
		report_add(out, CHECK_G9, host, z->apex, "ds", NULL,
		    VERDICT_UNKNOWN, "no nameserver address of %s served its "
		    "DNSKEY RRset: the DS cannot be checked", z->apex);
		return;
	}
	if (worst == VERDICT_OK)
		report_add(out, CHECK_G9, host, z->apex, "ds", NULL, VERDICT_OK,
		    "%zu DS record(s) of %s %s; a key they name "
		    "signs the DNSKEY RRset at every address", z->ds.n,
		    z->apex, where);
	else if (worst == VERDICT_UNKNOWN)
		report_add(out, CHECK_G9, host, z->apex, "ds", NULL,
		    VERDICT_UNKNOWN, "the DS records of %s use digest types "
		    "this build cannot check", z->apex);
	else
		report_add(out, CHECK_G9, host, z->apex, "ds", NULL,
		    VERDICT_CRITICAL, "none of the %zu DS record(s) of %s %s "
		    "names a key that signs the DNSKEY RRset "
		    "served by %s (%s)%s: validating senders see the zone "
		    "bogus (a KSK roll gone wrong?): publish the DS of the "
		    "signing KSK there, or sign with the key the DS "
		    "names", z->ds.n, z->apex, where, bad->name, bad->addr,
		    bad_match > 0 ? "; a DS names a key that signs nothing" :
		    "");
}

/* The TTL note of the host. */
static void
g9_ttl(const struct conf_host *h, const char *host, const char *owner,
    const struct zonesig_zone *z, const size_t *pick, size_t npick,
    struct report *out)
{
	const struct zonesig_rrset *r;
	long ttl = -1, refresh = -1;
	char advice[512];
	size_t i, k;

	for (i = 0; i < z->nservers; i++) {
		for (k = 0; k < npick && ttl < 0; k++) {
			r = &z->servers[i].sets[pick[k]];
			if (r->type == DNS_TYPE_TLSA && r->nsigs > 0 &&
			    r->covered == DNS_TYPE_TLSA)
				ttl = r->orig_ttl;
		}
		if (refresh < 0)
			refresh = z->servers[i].soa_refresh;
	}
	if (ttl < 0)
		ttl = h->ttl;
	if (dnshealth_ttl_advice(ttl, refresh, advice, sizeof(advice)))
		report_add(out, CHECK_G9, host, owner, "ttl", NULL, VERDICT_OK,
		    "note: %s", advice);
	else
		report_add(out, CHECK_G9, host, owner, "ttl", NULL, VERDICT_OK,
		    "TLSA TTL %ld, SOA REFRESH %ld: as recommended", ttl,
		    refresh);
}

void
checks_g9_zone(const struct conf *conf, const char *label, const char *owner,
    const struct conf_host *h, const struct zonesig_zone *z,
    const size_t *pick, size_t npick, time_t now, struct report *out)
{
	size_t k;

	for (k = 0; k < z->nservers; k++)
		g9_server(conf, label, &z->servers[k], pick, npick, now, out);
	g9_ds(label, z, out);
	if (h != NULL)
		g9_ttl(h, label, owner, z, pick, npick, out);
}

void
checks_g9_unknown(const char *label, const char *why, struct report *out)
{
	report_add(out, CHECK_G9, label, "", "rrsig", NULL, VERDICT_UNKNOWN,
	    "%s", why);
}
