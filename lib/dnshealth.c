/*
 * dnshealth - see dnshealth.h.
 */
#include "config.h"

#include <stdio.h>

#include "dnshealth.h"

long
dnshealth_warn_at(long ttl, long warning)
{
	return ttl > 0 && 2 * ttl > warning ? 2 * ttl : warning;
}

enum verdict_state
dnshealth_expiry(long left, long ttl, long warning, long critical)
{
	if (left < critical)
		return VERDICT_CRITICAL;
	if (left < dnshealth_warn_at(ttl, warning))
		return VERDICT_WARNING;
	return VERDICT_OK;
}

enum verdict_state
dnshealth_soa_expire(long left, long soa_expire)
{
	return soa_expire >= 0 && left <= soa_expire ? VERDICT_WARNING :
	    VERDICT_OK;
}

enum verdict_state
dnshealth_ds(size_t nds, size_t nmatch, size_t nsigning, size_t nunknown)
{
	if (nsigning > 0)
		return VERDICT_OK;
	if (nds == 0 || (nunknown == nds && nmatch == 0))
		return VERDICT_UNKNOWN;
	return VERDICT_CRITICAL;
}

int
dnshealth_ttl_advice(long ttl, long soa_refresh, char *buf, size_t len)
{
	buf[0] = '\0';
	if (ttl >= 0 && ttl < DNSHEALTH_TTL_MIN)
		snprintf(buf, len, "TTL %ld is below %ld: short TTLs add DNS "
		    "load and make DANE fragile when the nameservers are "
		    "briefly unreachable; %ld-%ld is recommended", ttl,
		    DNSHEALTH_TTL_MIN, DNSHEALTH_TTL_MIN, DNSHEALTH_TTL_MAX);
	else if (ttl > DNSHEALTH_TTL_MAX)
		snprintf(buf, len, "TTL %ld is above %ld: a rollover must "
		    "wait 2 x TTL after publishing new records, so long TTLs "
		    "make it slow; %ld-%ld is recommended", ttl,
		    DNSHEALTH_TTL_MAX, DNSHEALTH_TTL_MIN, DNSHEALTH_TTL_MAX);
	else if (ttl >= 0 && soa_refresh > ttl)
		snprintf(buf, len, "SOA REFRESH %ld is longer than the TLSA "
		    "TTL %ld: a secondary may serve replaced records after "
		    "senders' caches expired them; set the zone's refresh to "
		    "at most the TLSA TTL", soa_refresh, ttl);
	return buf[0] != '\0';
}
