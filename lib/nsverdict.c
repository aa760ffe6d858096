/*
 * nsverdict - see nsverdict.h.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"
#include "nsverdict.h"

enum nsverdict_answer
nsverdict_answer(const struct dnsauth_server *s, const struct dns_answer *a,
    const char *apex, char *why, size_t len)
{
	if (len > 0)
		why[0] = '\0';
	if (s->addr == NULL) {
		snprintf(why, len, "unreachable: %s", s->why ? s->why :
		    "no address");
		return NSVERDICT_UNREACHABLE;
	}
	switch (a->status) {
	case DNS_SECURE:
	case DNS_NODATA:
	case DNS_NXDOMAIN:
		return NSVERDICT_VALIDATED;
	case DNS_BOGUS:
		snprintf(why, len, "bogus: %s", a->why ? a->why : s->why ?
		    s->why : "validation failed");
		return NSVERDICT_BOGUS;
	case DNS_INSECURE:
		snprintf(why, len, "insecure: the answer is not signed, or "
		    "no trust anchor covers %s", apex);
		return NSVERDICT_INSECURE;
	case DNS_ERROR:
		snprintf(why, len, "unreachable: %s", s->why ? s->why :
		    a->why ? a->why : "lookup failed");
		return NSVERDICT_LOCAL;
	default:
		snprintf(why, len, "unreachable: %s", a->why ? a->why :
		    s->why ? s->why : dns_status_name(a->status));
		return NSVERDICT_UNREACHABLE;
	}
}

/* a < b in RFC 1982 serial number arithmetic. */
static int
serial_lt(unsigned long a, unsigned long b)
{
	unsigned long d = (b - a) & 0xffffffffUL;

	return d != 0 && d < 0x80000000UL;
}

int
nsverdict_highest(const struct dnsauth_zone *z, unsigned long *serial,
    unsigned long *refresh)
{
	const struct dnsauth_server *s;
	size_t i;
	int have = 0;

	for (i = 0; i < z->nservers; i++) {
		s = &z->servers[i];
		if (s->serial < 0)
			continue;
		if (!have || serial_lt(*serial, (unsigned long)s->serial)) {
			*serial = (unsigned long)s->serial;
			*refresh = s->soa.refresh;
			have = 1;
		}
	}
	return have ? 0 : -1;
}

int
nsverdict_behind(const struct dnsauth_server *s, unsigned long highest)
{
	return s->serial >= 0 && serial_lt((unsigned long)s->serial, highest);
}

enum verdict_state
nsverdict_serial(const struct dnsauth_zone *z, const struct dnsauth_server *s,
    time_t behind_since, time_t now, char *buf, size_t len)
{
	unsigned long high = 0, refresh = 0;
	char d1[32], d2[32];
	long lag;

	if (s->serial < 0 || nsverdict_highest(z, &high, &refresh) < 0) {
		snprintf(buf, len, "SOA serial unknown");
		return VERDICT_OK;
	}
	if (!nsverdict_behind(s, high)) {
		snprintf(buf, len, "SOA serial %ld", s->serial);
		return VERDICT_OK;
	}
	lag = behind_since >= 0 && now > behind_since ?
	    (long)(now - behind_since) : 0;
	if (behind_since >= 0 && lag > (long)refresh) {
		snprintf(buf, len, "SOA serial %ld lags the highest %lu for "
		    "%s, longer than the SOA refresh (%s): is %s still "
		    "transferring the zone?", s->serial, high,
		    duration_format(lag, d1, sizeof(d1)),
		    duration_format((long)refresh, d2, sizeof(d2)), s->name);
		return VERDICT_WARNING;
	}
	if (behind_since >= 0)
		snprintf(buf, len, "note: SOA serial %ld behind the highest "
		    "%lu for %s, within the SOA refresh (%s)", s->serial, high,
		    duration_format(lag, d1, sizeof(d1)),
		    duration_format((long)refresh, d2, sizeof(d2)));
	else
		snprintf(buf, len, "note: SOA serial %ld behind the highest "
		    "%lu (a single check cannot tell for how long; lagging "
		    "longer than the SOA refresh, %s, means it stopped "
		    "transferring the zone)", s->serial, high,
		    duration_format((long)refresh, d2, sizeof(d2)));
	return VERDICT_OK;
}

static void
add(struct verdict *v, enum verdict_state state, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
add(struct verdict *v, enum verdict_state state, const char *fmt, ...)
{
	size_t n = strlen(v->reason);
	va_list ap;

	if (n > 0 && n + 2 < sizeof(v->reason)) {
		memcpy(v->reason + n, "; ", 3);
		n += 2;
	}
	va_start(ap, fmt);
	vsnprintf(v->reason + n, sizeof(v->reason) - n, fmt, ap);
	va_end(ap);
	if (verdict_state_rank(state) > verdict_state_rank(v->state))
		v->state = state;
}

/* The TLSA part of G8: the address's set against every served chain. */
static void
g8_tlsa(const struct dnsauth_server *s, const struct dns_answer *tlsa,
    const char *owner, const char *host, const struct nsverdict_chain *c,
    size_t n, struct verdict *v)
{
	struct verdict g3;
	struct tlsa_set none;
	char pubname[600];
	size_t i, ok = 0;

	tlsa_set_init(&none);
	snprintf(pubname, sizeof(pubname), "nameserver %s at %s", s->name,
	    s->addr);
	if (n == 0) {
		add(v, VERDICT_UNKNOWN, "%zu TLSA record%s at %s; no served "
		    "chain to match them against (see G1-G3)",
		    tlsa->status == DNS_SECURE ? tlsa->tlsa.n : 0,
		    tlsa->status == DNS_SECURE && tlsa->tlsa.n == 1 ? "" : "s",
		    owner);
		return;
	}
	for (i = 0; i < n; i++) {
		verdict_g3(tlsa->status == DNS_SECURE ? &tlsa->tlsa : &none,
		    pubname, owner, host, c[i].chain, c[i].alg, &g3);
		if (g3.state == VERDICT_OK) {
			ok++;
			continue;
		}
		if (tlsa->status != DNS_SECURE)
			add(v, VERDICT_CRITICAL, "no TLSA record at %s here "
			    "(%s, validated): senders whose resolver asks "
			    "this address cannot deliver", owner,
			    dns_status_name(tlsa->status));
		else
			add(v, g3.state, "%s", g3.reason);
		if (tlsa->status != DNS_SECURE)
			break;
	}
	if (ok == n)
		add(v, VERDICT_OK, "%zu TLSA record%s at %s match%s every "
		    "served chain (%zu)", tlsa->tlsa.n,
		    tlsa->tlsa.n == 1 ? "" : "s", owner,
		    tlsa->tlsa.n == 1 ? "es" : "", n);
}

void
nsverdict_g8(const struct dnsauth_zone *z, const struct dnsauth_server *s,
    const struct dns_answer *tlsa, const char *owner, const char *host,
    const struct nsverdict_chain *c, size_t n, time_t behind_since,
    time_t now, struct verdict *v)
{
	enum verdict_state state;
	char why[1024];

	v->state = VERDICT_OK;
	v->reason[0] = '\0';
	switch (nsverdict_answer(s, tlsa, z->apex, why, sizeof(why))) {
	case NSVERDICT_VALIDATED:
		g8_tlsa(s, tlsa, owner, host, c, n, v);
		break;
	case NSVERDICT_BOGUS:
		add(v, VERDICT_CRITICAL, "TLSA %s %s (senders whose resolver "
		    "asks this address cannot deliver)", owner, why);
		break;
	case NSVERDICT_INSECURE:
		add(v, VERDICT_CRITICAL, "TLSA %s %s (the records do not "
		    "count: senders whose resolver asks this address do not "
		    "use DANE)", owner, why);
		break;
	case NSVERDICT_UNREACHABLE:
	case NSVERDICT_LOCAL:
		add(v, VERDICT_UNKNOWN, "%s does not answer: %s", s->name, why);
		return;
	}
	state = nsverdict_serial(z, s, behind_since, now, why, sizeof(why));
	add(v, state, "%s", why);
}
