/*
 * match - do published records match a chain or a key?
 *
 * Chains are matched with OpenSSL's own DANE verification (the way
 * test/danetest.c drives it, without a connection): RFC 7672 rules,
 * DANE-EE (3 x x) without name or expiry checks
 * (DANE_FLAG_NO_DANE_EE_NAMECHECKS), DANE-TA (2 x x) with the chain
 * verified up to the matched CA and the leaf name checked against the MX
 * host name. A bare key (a next key has no certificate yet) can only be
 * matched by 3 1 x records, compared on the SubjectPublicKeyInfo digest.
 */
#ifndef DG_MATCH_H
#define DG_MATCH_H

#include <openssl/x509.h>

#include "errbuf.h"
#include "tlsa.h"

struct match_result {
	int depth;		/* depth in the chain of the matched certificate, or -1 */
	long record;		/* index in the set of the record that matched, or -1 */
	char reason[256];	/* why not, when it did not match */
};

/*
 * Verify chain (leaf first, as served) against the records of set whose
 * owner is owner (all records when owner is NULL). host is the MX host
 * name for the DANE-TA name check. Returns 1 matched, 0 not matched
 * (res->reason says why), -1 on an internal error (err set).
 */
int match_chain(const struct tlsa_set *set, const char *owner,
    const char *host, STACK_OF(X509) *chain, struct match_result *res,
    struct errbuf *err);

/*
 * Is key covered by a 3 1 x record of set at owner (NULL: any owner)?
 * Returns 1 yes, 0 no, -1 on error (err set).
 */
int match_key(const struct tlsa_set *set, const char *owner, EVP_PKEY *key,
    struct match_result *res, struct errbuf *err);

#endif
