/*
 * mxview - see mxview.h.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "mxview.h"
#include "tlsa.h"

static void
set(struct verdict *v, enum verdict_state st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set(struct verdict *v, enum verdict_state st, const char *fmt, ...)
{
	va_list ap;

	v->state = st;
	va_start(ap, fmt);
	vsnprintf(v->reason, sizeof(v->reason), fmt, ap);
	va_end(ap);
}

/* "mx1.example.org (10), mx2.example.org (20)" into buf. */
static void
targets(const struct dns_answer *mx, char *buf, size_t len)
{
	size_t i, at = 0;
	int n;

	buf[0] = '\0';
	for (i = 0; i < mx->nmx && at < len; i++) {
		n = snprintf(buf + at, len - at, "%s%s (%u)", i ? ", " : "",
		    mx->mx[i][0] ? mx->mx[i] : ".", mx->mxpref[i]);
		if (n < 0)
			break;
		at += (size_t)n;
	}
}

static int
null_mx(const struct dns_answer *mx)
{
	return mx->nmx == 1 && mx->mx[0][0] == '\0';
}

void
mxview_rrset(const char *domain, const struct dns_answer *mx,
    struct verdict *v)
{
	char list[1024];

	if (mx == NULL) {
		set(v, VERDICT_UNKNOWN, "the MX RRset of %s was not looked up "
		    "(no resolver)", domain);
		return;
	}
	switch (mx->status) {
	case DNS_SECURE:
		targets(mx, list, sizeof(list));
		if (mx->nmx == 0)
			set(v, VERDICT_WARNING, "the secure MX answer of %s "
			    "holds no usable record", domain);
		else if (null_mx(mx))
			set(v, VERDICT_OK, "%s accepts no mail (a secure "
			    "null MX, RFC 7505)", domain);
		else
			set(v, VERDICT_OK, "secure MX RRset: %s", list);
		return;
	case DNS_INSECURE:
		targets(mx, list, sizeof(list));
		set(v, VERDICT_WARNING, "DANE is not in force for mail to %s: "
		    "its MX RRset is not DNSSEC-signed (insecure%s%s), so "
		    "senders deliver without looking up TLSA records for its "
		    "MX hosts (RFC 7672 section 2.2.1); sign the zone and "
		    "publish its DS", domain, list[0] ? ": " : "", list);
		return;
	case DNS_BOGUS:
		set(v, VERDICT_CRITICAL, "the MX RRset of %s is bogus (%s): "
		    "DNSSEC-validating senders cannot find its MX hosts and "
		    "defer all mail to it", domain,
		    mx->why ? mx->why : "validation failed");
		return;
	case DNS_NXDOMAIN:
		set(v, VERDICT_WARNING, "%s does not exist (a secure "
		    "NXDOMAIN): no mail can be sent to it", domain);
		return;
	case DNS_NODATA:
		set(v, VERDICT_WARNING, "%s has no MX RRset (a secure denial): "
		    "senders take its address records as the one MX host; "
		    "publish an MX RRset naming the hosts with TLSA records",
		    domain);
		return;
	default:
		set(v, VERDICT_UNKNOWN, "the MX lookup of %s failed (%s%s%s): "
		    "a temporary failure, not an absence", domain,
		    dns_status_name(mx->status), mx->why ? ": " : "",
		    mx->why ? mx->why : "");
		return;
	}
}

int
mxview_is_target(const struct dns_answer *mx, const char *host)
{
	size_t i;

	if (mx == NULL || (mx->status != DNS_SECURE &&
	    mx->status != DNS_INSECURE))
		return 0;
	for (i = 0; i < mx->nmx; i++)
		if (mx->mx[i][0] != '\0' && tlsa_name_equal(mx->mx[i], host))
			return 1;
	return 0;
}

void
mxview_targets(const char *domain, const struct dns_answer *mx,
    const char *const *want, size_t nwant, int listed, struct verdict *v)
{
	char list[1024], missing[1024];
	size_t i, at = 0, nmiss = 0, nhit = 0;

	if (mx == NULL || (mx->status != DNS_SECURE &&
	    mx->status != DNS_INSECURE) || mx->nmx == 0 || null_mx(mx)) {
		set(v, VERDICT_UNKNOWN, "this machine's hosts among the MX "
		    "hosts of %s: not judged without MX records (see the MX "
		    "row)", domain);
		return;
	}
	targets(mx, list, sizeof(list));
	missing[0] = '\0';
	for (i = 0; i < nwant; i++) {
		if (mxview_is_target(mx, want[i])) {
			nhit++;
			continue;
		}
		nmiss++;
		if (at < sizeof(missing))
			at += (size_t)snprintf(missing + at,
			    sizeof(missing) - at, "%s%s", at ? ", " : "",
			    want[i]);
	}
	if (listed && nmiss > 0)
		set(v, VERDICT_WARNING, "%s %s not among the MX hosts of %s "
		    "(%s): mail for %s does not come to %s; fix the MX RRset "
		    "or the domain's hosts list", missing, nmiss == 1 ? "is" :
		    "are", domain, list, domain, nmiss == 1 ? "it" : "them");
	else if (!listed && nhit == 0)
		set(v, VERDICT_WARNING, "none of this machine's hosts (%s) is "
		    "an MX host of %s (%s): its mail does not come here; fix "
		    "the MX RRset, or list the domain on the machines it "
		    "uses", missing, domain, list);
	else
		set(v, VERDICT_OK, "this machine's hosts among the MX hosts "
		    "of %s: %zu of %zu (%s)", domain, nhit, mx->nmx, list);
}

void
mxview_shared(const char *domain, const struct mxview_key *k, size_t n,
    struct verdict *v)
{
	char msg[1024], hex[17];
	size_t i, j, at = 0, nshared = 0;
	int seen;

	msg[0] = '\0';
	for (i = 0; i < n; i++) {
		/* The first host of a key, paired with each other host. */
		for (j = 0, seen = 0; j < i; j++)
			if (memcmp(k[j].spki, k[i].spki, 32) == 0)
				seen = 1;
		if (seen)
			continue;
		for (j = i + 1; j < n; j++) {
			if (memcmp(k[j].spki, k[i].spki, 32) != 0 ||
			    tlsa_name_equal(k[i].host, k[j].host))
				continue;
			for (size_t b = 0; b < 8; b++)
				snprintf(hex + 2 * b, 3, "%02x", k[i].spki[b]);
			nshared++;
			if (at < sizeof(msg))
				at += (size_t)snprintf(msg + at, sizeof(msg) -
				    at, "%s%s and %s (key %s...)", at ? "; " :
				    "", k[i].host, k[j].host, hex);
			break;
		}
	}
	if (nshared > 0)
		set(v, VERDICT_WARNING, "MX hosts of %s serve the same key: "
		    "%s; a key shared by all MX hosts is replaced on all at "
		    "once, and one mistake then stops every path in: give "
		    "each MX host its own key", domain, msg);
	else
		set(v, VERDICT_OK, "no two MX hosts of %s serve the same key "
		    "(%zu chain%s seen)", domain, n, n == 1 ? "" : "s");
}
