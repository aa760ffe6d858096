/*
 * check - tlsagen --check: does a zone already publish what the files on
 * disk need?
 *
 * Run before a deploy: a renewed chain (or, for current+next, the next
 * key that the renewal will use) must be matched by a published record
 * before the MTA serves it, or DANE-validating senders stop delivering.
 */
#ifndef TLSAGEN_CHECK_H
#define TLSAGEN_CHECK_H

#include <stddef.h>

#include "errbuf.h"
#include "expect.h"
#include "output.h"
#include "tlsa.h"

/*
 * Check every cert of e against the records of zone at e->owner by the
 * coverage rule of lib/cover.h (current chain, issuing CA under
 * current+issuer, next key). Appends one line per item to out:
 *	ok      HOST CERT ALG ROLE FILE
 *	MISSING HOST CERT ALG ROLE FILE: REASON; publish:
 *	<zone line of each record the item needs and the zone lacks; a
 *	 record ignored for a stronger digest comes with that digest>
 * and adds the number of missing items to *missing. Returns 0, or -1 with
 * err set on an internal error.
 */
int check_expect(const struct expect *e, const struct tlsa_set *zone,
    struct output *out, size_t *missing, struct errbuf *err);

#endif
